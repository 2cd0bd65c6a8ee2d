/*
 * fuzz_sql.c - libFuzzer target for the SQL parser, analyser and planner (meson -Dfuzz=true,
 * clang): scripts/fuzz sql [seconds]
 * Each input is parsed (fuzz_sql_body.h), then its query statements are analysed and planned
 * against a small fixed catalog as EXPLAIN does it, without running anything
 * (tests/runtime/fuzz_plan_body.h). The seed corpus holds the statements of parse.golden and
 * errors.golden, one per file, and queries over the fixed catalog (plan-*.sql).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_sql_body.h"
#include "tests/runtime/fuzz_plan_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wr_planfuzz *plan;

static void
close_plan(void)
{
    wr_planfuzz_close(plan);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (plan == NULL) {
        if ((plan = wr_planfuzz_open()) == NULL)
            abort();
        atexit(close_plan);
    }
    if (wr_sqlfuzz_one(data, size) != 0 || wr_planfuzz_one(plan, data, size) != 0)
        abort();
    return 0;
}
