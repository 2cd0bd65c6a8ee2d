/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.1 and HTTP/2 request paths of the server
 * (src/http/server.c: http-parser, nghttp2), driven from memory (meson -Dfuzz=true, clang):
 *   scripts/fuzz http [seconds]
 * The seed corpus (tests/http/corpus) holds requests captured from curl over HTTP/1.1 and
 * HTTP/2 (prior knowledge), each preceded by the byte that chooses how it is cut into reads.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_http_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (wr_hfuzz_one(data, size) != 0)
        abort();
    return 0;
}
