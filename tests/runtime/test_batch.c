/*
 * test_batch.c - vector-at-a-time evaluation (runtime/batch.c) against the row-at-a-time
 * evaluator it must agree with, over random rows with nulls, and filters with selections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "grammar/sql.h"
#include "runtime/batch.h"
#include "runtime/types.h"

#define ROWS 257

static wr_arena *A;
static wr_col cols[5];
static wr_scope scope = {.cols = cols, .n = 5};
static wr_batch B;
static wr_fn_registry *F;

static void
setup(void)
{
    A = wr_arena_create(0);
    F = wr_fn_registry_create();
    wr_err ferr = {0};
    cr_assert_eq(wr_fn_register_builtins(F, &ferr), WR_OK);
    cols[0] = (wr_col){"I", NULL, wr_type_of(WR_T_INT)};
    cols[1] = (wr_col){"L", NULL, wr_type_of(WR_T_BIGINT)};
    cols[2] = (wr_col){"D", NULL, wr_type_of(WR_T_DOUBLE)};
    cols[3] = (wr_col){"S", NULL, wr_type_of(WR_T_STRING)};
    cols[4] = (wr_col){"B", NULL, wr_type_of(WR_T_BOOLEAN)};
    cr_assert_eq(wr_batch_init(&B, &scope, ROWS, A), WR_OK);
    srandom(42);
    static const char *words[] = {"a", "b", "ab", "", "zz"};
    for (int32_t r = 0; r < ROWS; r++) {
        wr_val v[5] = {wr_val_int((int32_t)(random() % 7) - 3),
                       wr_val_bigint(random() % 1000 - 500),
                       wr_val_double((double)(random() % 100) / 4.0 - 10),
                       wr_val_string(words[random() % 5], 0), wr_val_bool(random() % 2)};
        v[3].u.s.len = (int32_t)strlen(v[3].u.s.p);
        for (int c = 0; c < 5; c++) {
            if (random() % 6 == 0)
                v[c].null = true; /* about one value in six is null */
            wr_vec_set(&B.cols[c], r, &v[c]);
        }
    }
    B.n = ROWS;
}

static void
teardown(void)
{
    wr_arena_destroy(A);
    wr_fn_registry_destroy(F);
}

TestSuite(batch, .init = setup, .fini = teardown);

static wr_cexpr *
compile(const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM s;", expr);
    wr_script *s;
    wr_err err = {0};
    cr_assert_eq(wr_sql_parse(A, sql, strlen(sql), &s, &err), WR_OK, "%s", err.msg);
    wr_analyzer an = {.arena = A, .scope = &scope, .fns = F};
    wr_cexpr *c;
    cr_assert_eq(wr_expr_analyze(&an, s->stmts[0]->select->items[0].expr, &c, &err), WR_OK,
                 "%s: %s", expr, err.msg);
    return c;
}

/* The value of e at row r, row at a time. */
static wr_val
row_eval(const wr_cexpr *e, int32_t r)
{
    wr_val row[5];
    for (int c = 0; c < 5; c++)
        row[c] = wr_vec_get(&B.cols[c], r);
    wr_eval_ctx cx = {.arena = A, .row = row};
    wr_val v;
    wr_expr_eval(e, &cx, &v);
    return v;
}

static const char *exprs[] = {
    "I",
    "I + 1",
    "I - L",
    "L * 3",
    "I / (I - 1)",
    "L % 7",
    "D * 2",
    "D / I",
    "I + D",
    "I < 1",
    "L >= I",
    "D = 2.5",
    "S = 'ab'",
    "S < 'b'",
    "S <> ''",
    "B",
    "NOT B",
    "B AND I > 0",
    "B OR I > 0",
    "I IS NULL",
    "S IS NOT NULL",
    "CASE WHEN I > 0 THEN S END",
    "CAST(I AS STRING)",
    "I BETWEEN -1 AND 1",
    "S LIKE 'a%'",
    "-I",
    "S || 'x'",
    "1.5 + I",
    "ARRAY[I, 1][1]",
    "L * I - D",
};

Test(batch, vector_evaluation_equals_row_evaluation)
{
    wr_batch_select_all(&B);
    for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
        wr_cexpr *e = compile(exprs[k]);
        wr_eval_ctx cx = {.arena = A};
        wr_vec out;
        cr_assert_eq(wr_expr_eval_batch(e, &B, &cx, &out), WR_OK);
        for (int32_t r = 0; r < ROWS; r++) {
            wr_val want = row_eval(e, r), got = wr_vec_get(&out, r);
            cr_assert_eq(got.null, want.null, "%s row %d: null %d vs %d", exprs[k], r, got.null,
                         want.null);
            if (!want.null)
                cr_assert(wr_val_equal(&got, &want), "%s row %d differs", exprs[k], r);
        }
    }
}

Test(batch, filters_narrow_the_selection_and_compose)
{
    wr_batch_select_all(&B);
    wr_eval_ctx cx = {.arena = A};
    wr_cexpr *p1 = compile("I > 0"), *p2 = compile("S = 'a' OR B");
    cr_assert_eq(wr_expr_filter_batch(p1, &B, &cx), WR_OK);
    int32_t after1 = B.nsel;
    cr_assert_eq(wr_expr_filter_batch(p2, &B, &cx), WR_OK);
    int32_t want = 0;
    for (int32_t r = 0; r < ROWS; r++) {
        wr_val a = row_eval(p1, r), b = row_eval(p2, r);
        bool keep = !a.null && a.u.b && !b.null && b.u.b;
        want += keep;
    }
    cr_assert_eq(B.nsel, want);
    cr_assert_lt(B.nsel, after1);
    for (int32_t k = 1; k < B.nsel; k++)
        cr_assert_lt(B.sel[k - 1], B.sel[k], "the selection stays in row order");
    /* evaluation over a partial selection touches only the selected rows */
    wr_cexpr *e = compile("L + 1");
    wr_vec out;
    cr_assert_eq(wr_expr_eval_batch(e, &B, &cx, &out), WR_OK);
    for (int32_t k = 0; k < B.nsel; k++) {
        wr_val w = row_eval(e, B.sel[k]), g = wr_vec_get(&out, B.sel[k]);
        cr_assert(w.null == g.null && (w.null || wr_val_equal(&w, &g)));
    }
}

Test(batch, division_by_zero_is_null_with_a_warning)
{
    wr_batch_select_all(&B);
    wr_eval_ctx cx = {.arena = A};
    wr_vec out;
    cr_assert_eq(wr_expr_eval_batch(compile("L / (I - I)"), &B, &cx, &out), WR_OK);
    for (int32_t r = 0; r < ROWS; r++)
        cr_assert(out.null[r]);
    cr_assert_str_eq(cx.warning, "division by zero");
}
