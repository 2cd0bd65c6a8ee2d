/*
 * fuzz_rbatch.c - libFuzzer target for record batch v2 parsing, validation, decompression (every
 * codec), iteration and compaction's filter (meson -Dfuzz=true, clang):
 *   scripts/fuzz rbatch [seconds]
 * The seed corpus (tests/log/rbatch_corpus) holds batches of every codec: built by weir's
 * builder and captured from librdkafka, kcat and confluent-kafka Produce requests.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_rbatch_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (wr_rbfuzz_one(data, size) != 0)
        abort();
    return 0;
}
