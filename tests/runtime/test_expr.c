/*
 * test_expr.c - analysis and evaluation of expressions (runtime/expr.c): ksqlDB's typing,
 * coercion, three-valued logic, null, overflow and division-by-zero semantics, and the
 * messages of semantic errors.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "grammar/sql.h"
#include "runtime/expr.h"
#include "runtime/types.h"

static wr_arena *A;
static wr_col cols[8];
static wr_scope scope = {.cols = cols};
static wr_val row[8];

static void
setup(void)
{
    A = wr_arena_create(0);
    static wr_sql_field sf[2];
    static wr_sql_type st = {.kind = WR_T_STRUCT, .nfields = 2, .fields = sf};
    static wr_sql_type arr = {.kind = WR_T_ARRAY};
    static wr_sql_type map = {.kind = WR_T_MAP};
    sf[0] = (wr_sql_field){"A", wr_type_of(WR_T_INT)};
    sf[1] = (wr_sql_field){"B", wr_type_of(WR_T_STRING)};
    arr.elem = wr_type_of(WR_T_INT);
    map.key = wr_type_of(WR_T_STRING);
    map.elem = wr_type_of(WR_T_BIGINT);
    int n = 0;
    cols[n] = (wr_col){"I", "S", wr_type_of(WR_T_INT)};
    row[n++] = wr_val_int(7);
    cols[n] = (wr_col){"L", "S", wr_type_of(WR_T_BIGINT)};
    row[n++] = wr_val_bigint(10000000000LL);
    cols[n] = (wr_col){"D", "S", wr_type_of(WR_T_DOUBLE)};
    row[n++] = wr_val_double(2.5);
    cols[n] = (wr_col){"NAME", "S", wr_type_of(WR_T_STRING)};
    row[n++] = wr_val_string("alice", 5);
    cols[n] = (wr_col){"N", "S", wr_type_of(WR_T_INT)};
    row[n++] = wr_val_null(wr_type_of(WR_T_INT));
    cols[n] = (wr_col){"ST", "S", &st};
    static wr_val fv[2];
    fv[0] = wr_val_int(1);
    fv[1] = wr_val_string("x", 1);
    row[n] = (wr_val){.type = &st, .u.st.f = fv};
    n++;
    cols[n] = (wr_col){"ARR", "S", &arr};
    static wr_val av[3];
    av[0] = wr_val_int(10);
    av[1] = wr_val_int(20);
    av[2] = wr_val_int(30);
    row[n] = (wr_val){.type = &arr, .u.arr = {3, av}};
    n++;
    cols[n] = (wr_col){"M", "S", &map};
    static wr_val mk[2], mv[2];
    mk[0] = wr_val_string("a", 1);
    mk[1] = wr_val_string("b", 1);
    mv[0] = wr_val_bigint(1);
    mv[1] = wr_val_bigint(2);
    row[n] = (wr_val){.type = &map, .u.map = {2, mk, mv}};
    n++;
    scope.n = n;
}

static void
teardown(void)
{
    wr_arena_destroy(A);
}

TestSuite(expr, .init = setup, .fini = teardown);

/* "TYPE: value", "TYPE: null", or the error message. */
static const char *
ev(const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM s;", expr);
    wr_script *s;
    wr_err err = {0};
    cr_assert_eq(wr_sql_parse(A, sql, strlen(sql), &s, &err), WR_OK, "%s: %s", expr, err.msg);
    wr_analyzer an = {.arena = A, .scope = &scope};
    wr_cexpr *c;
    if (wr_expr_analyze(&an, s->stmts[0]->select->items[0].expr, &c, &err) != WR_OK)
        return wr_arena_strdup(A, err.msg);
    wr_eval_ctx cx = {.arena = A, .row = row};
    wr_val v;
    wr_expr_eval(c, &cx, &v);
    wr_buf b = WR_BUF_INIT;
    if (c->type == NULL)
        wr_buf_printf(&b, "NULL");
    else
        wr_ast_format_type(&b, c->type);
    wr_buf_printf(&b, ": ");
    if (v.null)
        wr_buf_printf(&b, "null");
    else
        wr_val_to_string(&b, &v);
    if (cx.warning[0])
        wr_buf_printf(&b, " (%s)", cx.warning);
    wr_buf_put_u8(&b, 0);
    const char *r = wr_arena_strdup(A, (const char *)b.data);
    wr_buf_free(&b);
    return r;
}

#define EV(expr, want)                                          \
    do {                                                        \
        const char *got_ = ev(expr);                            \
        cr_expect_str_eq(got_, want, "%s gave %s", expr, got_); \
    } while (0)

Test(expr, literals_and_columns)
{
    EV("1", "INTEGER: 1");
    EV("2147483648", "BIGINT: 2147483648");
    EV("-2147483648", "BIGINT: -2147483648");
    EV("-2147483647", "INTEGER: -2147483647");
    EV("1.50", "DECIMAL(3, 2): 1.50");
    EV("0.05", "DECIMAL(2, 2): 0.05");
    EV("1e3", "DOUBLE: 1000.0");
    EV("'it''s'", "STRING: it's");
    EV("NULL", "NULL: null");
    EV("I", "INTEGER: 7");
    EV("s.NAME", "STRING: alice");
    EV("ST->B", "STRING: x");
    EV("ARR[1]", "INTEGER: 10");
    EV("ARR[-1]", "INTEGER: 30");
    EV("ARR[4]", "INTEGER: null");
    EV("M['b']", "BIGINT: 2");
    EV("M['z']", "BIGINT: null");
}

Test(expr, arithmetic_widening_and_edge_cases)
{
    EV("I + 1", "INTEGER: 8");
    EV("I + L", "BIGINT: 10000000007");
    EV("I * D", "DOUBLE: 17.5");
    EV("I / 2", "INTEGER: 3");
    EV("I % 4", "INTEGER: 3");
    EV("I / 0", "INTEGER: null (division by zero)");
    EV("2147483647 + 1", "INTEGER: -2147483648");
    EV("D / 0", "DOUBLE: Infinity");
    EV("1.5 + 1", "DECIMAL(12, 1): 2.5");
    EV("1.50 * 2.0", "DECIMAL(6, 3): 3.000");
    EV("1.0 / 3", "DECIMAL(13, 12): 0.333333333333");
    EV("N + 1", "INTEGER: null");
    EV("-I", "INTEGER: -7");
    EV("NAME || '!'", "STRING: alice!");
    EV("NAME + '?'", "STRING: alice?");
}

Test(expr, comparisons_and_three_valued_logic)
{
    EV("I > 5", "BOOLEAN: true");
    EV("I = 7.0", "BOOLEAN: true");
    EV("L > I", "BOOLEAN: true");
    EV("NAME = 'alice'", "BOOLEAN: true");
    EV("N = 1", "BOOLEAN: null");
    EV("N = 1 AND FALSE", "BOOLEAN: false");
    EV("N = 1 OR TRUE", "BOOLEAN: true");
    EV("NOT (N = 1)", "BOOLEAN: null");
    EV("N IS NULL", "BOOLEAN: true");
    EV("I IS NOT NULL", "BOOLEAN: true");
    EV("N IS DISTINCT FROM NULL", "BOOLEAN: false");
    EV("I IS DISTINCT FROM N", "BOOLEAN: true");
    EV("I BETWEEN 1 AND 10", "BOOLEAN: true");
    EV("I NOT BETWEEN 1 AND 10", "BOOLEAN: false");
    EV("I IN (1, 7)", "BOOLEAN: true");
    EV("I IN (1, NULL)", "BOOLEAN: null");
    EV("I NOT IN (1, 2)", "BOOLEAN: true");
    EV("NAME LIKE 'a%e'", "BOOLEAN: true");
    EV("NAME LIKE '_lice'", "BOOLEAN: true");
    EV("NAME NOT LIKE 'b%'", "BOOLEAN: true");
    EV("'50%' LIKE '50!%' ESCAPE '!'", "BOOLEAN: true");
    EV("'50x' LIKE '50!%' ESCAPE '!'", "BOOLEAN: false");
}

Test(expr, case_cast_and_constructors)
{
    EV("CASE WHEN I > 5 THEN 'big' ELSE 'small' END", "STRING: big");
    EV("CASE I WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", "STRING: seven");
    EV("CASE WHEN I > 100 THEN 1 END", "INTEGER: null");
    EV("CASE WHEN I > 5 THEN 1 ELSE 2.5 END", "DECIMAL(11, 1): 1.0");
    EV("CAST(I AS STRING)", "STRING: 7");
    EV("CAST('42' AS INT)", "INTEGER: 42");
    EV("CAST('x' AS INT)", "INTEGER: null (cannot cast 'x' to INTEGER)");
    EV("CAST(D AS INT)", "INTEGER: 2");
    EV("CAST(L AS INT)", "INTEGER: 1410065408");
    EV("CAST(D AS DECIMAL(4, 2))", "DECIMAL(4, 2): 2.50");
    EV("CAST('2020-01-02T03:04:05.006Z' AS TIMESTAMP)", "TIMESTAMP: 2020-01-02T03:04:05.006");
    EV("CAST(CAST('2020-01-02' AS DATE) AS TIMESTAMP)", "TIMESTAMP: 2020-01-02T00:00:00.000");
    EV("CAST('TRUE' AS BOOLEAN)", "BOOLEAN: true");
    EV("CAST(ARR AS ARRAY<STRING>)", "ARRAY<STRING>: ['10', '20', '30']");
    EV("ARRAY[1, 2.5]", "ARRAY<DECIMAL(11, 1)>: [1.0, 2.5]");
    EV("MAP('k' := 1, 'k' := 2)", "MAP<STRING, INTEGER>: {'k'=2}");
    EV("STRUCT(X := 1, Y := 'z')", "STRUCT<`X` INTEGER, `Y` STRING>: Struct{X=1,Y=z}");
}

Test(expr, lambdas)
{
    EV("TRANSFORM(ARR, x => x * 2)", "ARRAY<INTEGER>: [20, 40, 60]");
    EV("FILTER(ARR, x => x > 15)", "ARRAY<INTEGER>: [20, 30]");
    EV("REDUCE(ARR, 0, (s, x) => s + x)", "INTEGER: 60");
    EV("TRANSFORM(M, (k, v) => k || '!', (k, v) => v * 10)",
       "MAP<STRING, BIGINT>: {'a!'=10, 'b!'=20}");
    EV("FILTER(M, (k, v) => v > 1)", "MAP<STRING, BIGINT>: {'b'=2}");
    EV("TRANSFORM(ARR, x => TRANSFORM(ARR, y => x + y))[1]", "ARRAY<INTEGER>: [20, 30, 40]");
}

Test(expr, semantic_errors_name_the_place)
{
    EV("NAM", "line 1:8: column 'NAM' cannot be resolved; did you mean 'NAME'?");
    EV("x.I", "line 1:8: column 'X.I' cannot be resolved; did you mean 'I'?");
    EV("x.ZZZZZ", "line 1:8: column 'X.ZZZZZ' cannot be resolved");
    EV("NAME + 1", "line 1:13: operator + cannot take STRING and INTEGER");
    EV("NAME > 1", "line 1:13: cannot compare STRING with INTEGER");
    EV("I AND TRUE", "line 1:10: AND needs BOOLEAN operands, got INTEGER and BOOLEAN");
    EV("CAST(ARR AS INT)", "line 1:8: cannot CAST ARRAY<INTEGER> to INTEGER");
    EV("ST->Q", "line 1:10: STRUCT STRUCT<`A` INTEGER, `B` STRING> has no field 'Q'");
    EV("I[1]", "line 1:9: [] needs an ARRAY or a MAP, got INTEGER");
    EV("CASE WHEN I THEN 1 END", "line 1:18: WHEN needs a BOOLEAN condition, got INTEGER");
    EV("ARRAY[1, 'a']", "line 1:17: ARRAY mixes types INTEGER and STRING");
    EV("NOSUCH(1)", "line 1:8: unknown function NOSUCH");
    EV("REDUCE(ARR, 0, x => x)", "line 1:23: this lambda takes 2 parameters, not 1");
}
