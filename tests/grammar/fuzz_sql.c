/*
 * fuzz_sql.c - libFuzzer target for the SQL parser (meson -Dfuzz=true, clang):
 *   build-fuzz/tests/grammar/fuzz_sql -max_total_time=300 tests/grammar/corpus
 * The seed corpus holds the statements of parse.golden and errors.golden, one per file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_sql_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (wr_sqlfuzz_one(data, size) != 0)
        abort();
    return 0;
}
