/*
 * test_types.c - ksqlDB's implicit coercion, common types and CAST rules (runtime/types.c).
 * Types are written as SQL and parsed, so the cases read like the documentation.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "grammar/sql.h"
#include "runtime/types.h"

static wr_arena *A;

static void
setup(void)
{
    A = wr_arena_create(0);
}

static void
teardown(void)
{
    wr_arena_destroy(A);
}

/* The type spelt sql, via a column definition. */
static const wr_sql_type *
ty(const char *sql)
{
    char text[512];
    snprintf(text, sizeof text, "CREATE STREAM s (c %s);", sql);
    wr_script *s;
    wr_err err = {0};
    cr_assert_eq(wr_sql_parse(A, text, strlen(text), &s, &err), WR_OK, "%s: %s", sql, err.msg);
    return s->stmts[0]->cols[0].type;
}

static const char *
fmt(const wr_sql_type *t)
{
    if (t == NULL)
        return "(none)";
    wr_buf b = WR_BUF_INIT;
    wr_ast_format_type(&b, t);
    wr_buf_put_u8(&b, 0);
    const char *s = wr_arena_strdup(A, (const char *)b.data);
    wr_buf_free(&b);
    return s;
}

static void
common_is(const char *x, const char *y, const char *want)
{
    cr_assert_str_eq(fmt(wr_type_common(A, ty(x), ty(y))), want, "common(%s, %s)", x, y);
    cr_assert_str_eq(fmt(wr_type_common(A, ty(y), ty(x))), want, "common(%s, %s)", y, x);
}

TestSuite(types, .init = setup, .fini = teardown);

Test(types, numeric_widening_is_int_bigint_decimal_double)
{
    const char *chain[] = {"INT", "BIGINT", "DECIMAL(19, 0)", "DOUBLE"};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            cr_assert_eq(wr_type_coercible(ty(chain[i]), ty(chain[j])), i <= j, "%s -> %s",
                         chain[i], chain[j]);
    /* into a DECIMAL the integer digits and the scale must fit */
    cr_assert(wr_type_coercible(ty("INT"), ty("DECIMAL(12, 2)")));
    cr_assert_not(wr_type_coercible(ty("INT"), ty("DECIMAL(10, 2)")));
    cr_assert(wr_type_coercible(ty("DECIMAL(5, 2)"), ty("DECIMAL(6, 3)")));
    cr_assert_not(wr_type_coercible(ty("DECIMAL(5, 2)"), ty("DECIMAL(5, 3)")));
    cr_assert_not(wr_type_coercible(ty("STRING"), ty("INT")), "no implicit string to number");
    cr_assert_not(wr_type_coercible(ty("BOOLEAN"), ty("INT")));
}

Test(types, common_types)
{
    common_is("INT", "BIGINT", "BIGINT");
    common_is("INT", "INT", "INTEGER");
    common_is("INT", "DOUBLE", "DOUBLE");
    common_is("BIGINT", "DECIMAL(5, 2)", "DECIMAL(21, 2)");
    common_is("DECIMAL(5, 2)", "DECIMAL(7, 1)", "DECIMAL(8, 2)");
    common_is("DECIMAL(38, 0)", "DECIMAL(2, 2)", "DOUBLE");
    common_is("DECIMAL(4, 1)", "DOUBLE", "DOUBLE");
    common_is("STRING", "INT", "(none)");
    common_is("BOOLEAN", "STRING", "(none)");
    common_is("TIMESTAMP", "DATE", "(none)");
    common_is("ARRAY<INT>", "ARRAY<BIGINT>", "ARRAY<BIGINT>");
    common_is("ARRAY<INT>", "ARRAY<STRING>", "(none)");
    common_is("MAP<STRING, INT>", "MAP<STRING, DOUBLE>", "MAP<STRING, DOUBLE>");
    cr_assert_str_eq(
        fmt(wr_type_common(A, ty("STRUCT<a INT, b STRING>"), ty("STRUCT<c BOOLEAN, a BIGINT>"))),
        "STRUCT<`A` BIGINT, `B` STRING, `C` BOOLEAN>");
    common_is("STRUCT<a INT>", "STRUCT<a STRING>", "(none)");
}

Test(types, composite_coercion)
{
    cr_assert(wr_type_coercible(ty("ARRAY<INT>"), ty("ARRAY<DOUBLE>")));
    cr_assert_not(wr_type_coercible(ty("ARRAY<DOUBLE>"), ty("ARRAY<INT>")));
    cr_assert(wr_type_coercible(ty("MAP<STRING, INT>"), ty("MAP<STRING, BIGINT>")));
    cr_assert(wr_type_coercible(ty("STRUCT<a INT, x STRING>"), ty("STRUCT<a BIGINT, b INT>")),
              "fields in both coerce; the others do not matter");
    cr_assert_not(wr_type_coercible(ty("STRUCT<a STRING>"), ty("STRUCT<a INT>")));
    cr_assert(wr_type_equal(ty("STRUCT<a ARRAY<MAP<STRING, DECIMAL(4, 2)>>>"),
                            ty("STRUCT<a ARRAY<MAP<VARCHAR, DECIMAL(4, 2)>>>")));
    cr_assert_not(wr_type_equal(ty("DECIMAL(4, 2)"), ty("DECIMAL(4, 1)")));
}

Test(types, casts)
{
    const char *all[] = {
        "BOOLEAN",   "INT",  "BIGINT", "DOUBLE",     "DECIMAL(10, 2)",   "STRING",       "BYTES",
        "TIMESTAMP", "DATE", "TIME",   "ARRAY<INT>", "MAP<STRING, INT>", "STRUCT<a INT>"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cr_assert(wr_type_castable(ty(all[i]), ty("STRING")), "%s AS STRING", all[i]);
        cr_assert(wr_type_castable(ty(all[i]), ty(all[i])), "%s AS itself", all[i]);
    }
    cr_assert(wr_type_castable(ty("DOUBLE"), ty("INT")), "narrowing casts exist");
    cr_assert(wr_type_castable(ty("STRING"), ty("DECIMAL(5, 1)")));
    cr_assert(wr_type_castable(ty("STRING"), ty("TIMESTAMP")));
    cr_assert(wr_type_castable(ty("STRING"), ty("BOOLEAN")));
    cr_assert(wr_type_castable(ty("TIMESTAMP"), ty("DATE")));
    cr_assert(wr_type_castable(ty("DATE"), ty("TIMESTAMP")));
    cr_assert_not(wr_type_castable(ty("TIME"), ty("DATE")));
    cr_assert_not(wr_type_castable(ty("BOOLEAN"), ty("INT")));
    cr_assert_not(wr_type_castable(ty("INT"), ty("BOOLEAN")));
    cr_assert_not(wr_type_castable(ty("STRING"), ty("BYTES")));
    cr_assert_not(wr_type_castable(ty("INT"), ty("TIMESTAMP")));
    cr_assert(wr_type_castable(ty("ARRAY<STRING>"), ty("ARRAY<INT>")));
    cr_assert_not(wr_type_castable(ty("ARRAY<BOOLEAN>"), ty("ARRAY<INT>")));
    cr_assert(wr_type_castable(ty("MAP<STRING, STRING>"), ty("MAP<STRING, DOUBLE>")));
    cr_assert_not(wr_type_castable(ty("ARRAY<INT>"), ty("MAP<STRING, INT>")));
}
