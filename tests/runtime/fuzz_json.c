/*
 * fuzz_json.c - libFuzzer target for the JSON record decoder (meson -Dfuzz=true, clang):
 *   build-fuzz/tests/runtime/fuzz_json -max_total_time=120 tests/runtime/json_corpus
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (wr_jsonfuzz_one(data, size) != 0)
        abort();
    return 0;
}
