/*
 * test_plan_corpus.c - the analyser/planner fuzz property (fuzz_plan_body.h) over the SQL seed
 * corpus (tests/grammar/corpus, from WR_SQL_CORPUS) and every prefix of its plan-*.sql seeds, in
 * the normal build; the plan-*.sql seeds must plan in full against the fixed catalog, so the
 * fuzzer starts inside the planner and not at "unknown source".
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fuzz_plan_body.h"
#include "tests/testutil.h"

static wr_planfuzz *plan;

static void
setup(void)
{
    plan = wr_planfuzz_open();
    cr_assert_not_null(plan);
}

static void
teardown(void)
{
    wr_planfuzz_close(plan);
}

TestSuite(plan_corpus, .init = setup, .fini = teardown, .timeout = 240);

/* Explains every plannable statement of text; the number that failed, the first error in err. */
static int
explain_all(const char *text, size_t len, wr_err *first)
{
    wr_arena *a = wr_arena_create(0);
    wr_script *s = NULL;
    wr_err err = {0};
    int failed = 0;
    cr_assert_eq(wr_sql_parse(a, text, len, &s, &err), WR_OK, "%s", err.msg);
    for (int i = 0; i < s->n; i++) {
        const wr_stmt *st = s->stmts[i];
        cr_assert(wr_planfuzz_plannable(st), "%.*s", (int)st->text_len, text + st->text_off);
        wr_buf t = WR_BUF_INIT, out = WR_BUF_INIT;
        if (st->kind != WR_S_EXPLAIN && st->kind != WR_S_DESCRIBE && st->kind != WR_S_DESCRIBE_FUNC)
            wr_buf_append(&t, "EXPLAIN ", 8);
        wr_buf_append(&t, text + st->text_off, st->text_len);
        if (wr_engine_execute(plan->e, NULL, (const char *)t.data, t.len, &out, &err) != WR_OK &&
            failed++ == 0)
            *first = err;
        wr_buf_free(&t);
        wr_buf_free(&out);
    }
    wr_arena_destroy(a);
    return failed;
}

static void
replay_one(void *arg, const char *name, uint8_t *text, size_t len)
{
    int *plans = arg;
    cr_assert_eq(wr_planfuzz_one(plan, text, len), 0, "%s", name);
    if (strncmp(name, "plan-", 5) != 0)
        return;
    wr_err err = {0};
    cr_expect_eq(explain_all((const char *)text, len, &err), 0, "%s: %d:%d: %s", name, err.line,
                 err.col, err.msg);
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(wr_planfuzz_one(plan, text, n), 0, "%s cut at %zu", name, n);
    (*plans)++;
}

Test(plan_corpus, replay)
{
    int plans = 0;
    cr_assert_geq(wr_test_each_file(WR_SQL_CORPUS, replay_one, &plans), 50);
    cr_assert_geq(plans, 10);
}
