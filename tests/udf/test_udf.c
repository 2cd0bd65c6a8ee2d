/*
 * test_udf.c - UDF libraries in-process: signatures with type variables (udf/sig.c), the
 * loader's checks (udf/loader.c) on the test libraries of tests/udf, calls through the vector
 * evaluator agreeing with the row evaluator, and LEAKY_UPPER, which allocates its result for
 * every row, over 10,000,000 rows (the sanitizer build runs this suite: no leak, no overflow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "grammar/sql.h"
#include "runtime/agg.h"
#include "runtime/batch.h"
#include "runtime/types.h"
#include "src/base/logging.h"
#include "udf/loader.h"
#include "udf/sig.h"

/* ---- signatures ----------------------------------------------------------------------------- */

static const wr_sql_type *
type(wr_arena *a, const char *text)
{
    const wr_sql_type *t;
    wr_err err = {0};
    cr_assert_eq(wr_sig_parse_type(a, text, &t, &err), WR_OK, "%s: %s", text, err.msg);
    return t;
}

Test(sig, parses_types_and_formats_them_back)
{
    wr_arena *a = wr_arena_create(0);
    static const char *texts[] = {"STRING", "DECIMAL(10, 2)", "ARRAY<BIGINT>",
                                  "MAP<STRING, ARRAY<DOUBLE>>", "STRUCT<A INT, B STRING>"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) { /* text, type, text, type */
        wr_buf b = WR_BUF_INIT;
        const wr_sql_type *t = type(a, texts[i]);
        wr_ast_format_type(&b, t);
        wr_buf_put_u8(&b, 0);
        cr_assert(wr_type_equal(type(a, (const char *)b.data), t), "%s gave %s", texts[i],
                  (const char *)b.data);
        wr_buf_free(&b);
    }
    const wr_sql_type *t;
    wr_err err = {0};
    cr_assert_eq(wr_sig_parse_type(a, "ARRAY<FOO>", &t, &err), WR_ESEMANTIC);
    cr_assert_str_eq(err.msg, "unknown type FOO in 'ARRAY<FOO>'");
    cr_assert_eq(wr_sig_parse_type(a, "T", &t, &err), WR_ESEMANTIC, "variables need a signature");
    wr_arena_destroy(a);
}

Test(sig, binds_variables_coerces_and_prefers_exact)
{
    wr_arena *a = wr_arena_create(0);
    wr_sig s;
    wr_err err = {0};
    cr_assert_eq(wr_sig_parse(a, "ARRAY<T>, T", "MAP<STRING, T>", &s, &err), WR_OK, "%s", err.msg);
    const wr_sql_type *bound[WR_SIG_MAX_VARS];
    const wr_sql_type *args[] = {type(a, "ARRAY<BIGINT>"), type(a, "INT")};
    cr_assert_eq(wr_sig_bind(&s, a, args, 2, bound, NULL), 1, "INT coerces to the bound BIGINT");
    cr_assert(wr_type_equal(wr_sig_instantiate(a, s.ret, bound), type(a, "MAP<STRING, BIGINT>")));
    const wr_sql_type *exact[] = {type(a, "ARRAY<STRING>"), type(a, "STRING")};
    cr_assert_eq(wr_sig_bind(&s, a, exact, 2, bound, NULL), 2);
    const wr_sql_type *wrong[] = {type(a, "ARRAY<STRING>"), type(a, "INT")};
    cr_assert_eq(wr_sig_bind(&s, a, wrong, 2, bound, NULL), 0);
    cr_assert_eq(wr_sig_bind(&s, a, exact, 1, bound, NULL), 0, "too few arguments");

    cr_assert_eq(wr_sig_parse(a, "STRING, DOUBLE...", "DOUBLE", &s, &err), WR_OK);
    const wr_sql_type *var[] = {type(a, "STRING"), type(a, "INT"), type(a, "DOUBLE"), NULL};
    cr_assert_eq(wr_sig_bind(&s, a, var, 4, bound, NULL), 1, "variadic, with coercion and a NULL");
    cr_assert_eq(wr_sig_bind(&s, a, var, 1, bound, NULL), 2, "zero variadic arguments");
    cr_assert_eq(wr_sig_parse(a, "DOUBLE..., STRING", "DOUBLE", &s, &err), WR_ESEMANTIC);
    cr_assert_str_eq(err.msg, "only the last parameter can be variadic in 'DOUBLE..., STRING'");
    cr_assert_eq(wr_sig_parse(a, "INT", "T", &s, &err), WR_ESEMANTIC);
    cr_assert_str_eq(err.msg,
                     "the return type 'T' uses a type variable the parameters do not bind");
    wr_arena_destroy(a);
}

Test(sig, variables_widen_to_a_common_type_and_bare_decimal_is_any)
{
    wr_arena *a = wr_arena_create(0);
    wr_sig s;
    wr_err err = {0};
    const wr_sql_type *bound[WR_SIG_MAX_VARS];
    int conflict;
    cr_assert_eq(wr_sig_parse(a, "T, T...", "T", &s, &err), WR_OK, "%s", err.msg);
    const wr_sql_type *mixed[] = {type(a, "INT"), type(a, "DECIMAL(2, 1)"), type(a, "BIGINT")};
    cr_assert_eq(wr_sig_bind(&s, a, mixed, 3, bound, &conflict), 1);
    cr_assert(wr_type_equal(wr_sig_instantiate(a, s.ret, bound), type(a, "DECIMAL(20, 1)")));
    const wr_sql_type *none[] = {type(a, "INT"), type(a, "STRING")};
    cr_assert_eq(wr_sig_bind(&s, a, none, 2, bound, &conflict), 0);
    cr_assert_eq(conflict, 0, "T met types with no common type");

    cr_assert_eq(wr_sig_parse(a, "DECIMAL", "DECIMAL", &s, &err), WR_OK, "%s", err.msg);
    const wr_sql_type *dec[] = {type(a, "DECIMAL(7, 3)")};
    cr_assert_eq(wr_sig_bind(&s, a, dec, 1, bound, NULL), 2);
    cr_assert(wr_type_equal(wr_sig_instantiate(a, s.ret, bound), dec[0]), "its own precision");
    const wr_sql_type *i[] = {type(a, "INT")}, *d[] = {type(a, "DOUBLE")};
    cr_assert_eq(wr_sig_bind(&s, a, i, 1, bound, NULL), 1, "an INT coerces to a DECIMAL");
    cr_assert(wr_type_equal(wr_sig_instantiate(a, s.ret, bound), type(a, "DECIMAL(10, 0)")));
    cr_assert_eq(wr_sig_bind(&s, a, d, 1, bound, NULL), 0, "a DOUBLE does not");
    wr_buf b = WR_BUF_INIT;
    wr_sig_format(&b, "ABS", &s, NULL);
    cr_assert_eq(b.len, strlen("ABS(DECIMAL) -> DECIMAL"));
    cr_assert_eq(memcmp(b.data, "ABS(DECIMAL) -> DECIMAL", b.len), 0);
    wr_buf_free(&b);
    cr_assert_eq(wr_sig_parse_type(a, "DECIMAL", &dec[0], &err), WR_ESEMANTIC, "a type needs both");

    cr_assert_eq(wr_sig_parse(a, "MAP<K, V>, S, (s, k, v) => S", "S", &s, &err), WR_OK, "%s",
                 err.msg);
    cr_assert(s.lambdas);
    wr_sig_format(&b, "REDUCE", &s, NULL);
    const char *want = "REDUCE(MAP<K, V>, S, (s, k, v) => S) -> S";
    cr_assert_eq(b.len, strlen(want));
    cr_assert_eq(memcmp(b.data, want, b.len), 0);
    wr_buf_free(&b);
    const wr_sql_type *m[] = {type(a, "MAP<STRING, INT>"), type(a, "INT"), type(a, "INT")};
    cr_assert_eq(wr_sig_bind(&s, a, m, 3, bound, NULL), 0, "a lambda is never bound");
    wr_arena_destroy(a);
}

/* ---- the loader ------------------------------------------------------------------------------ */

static wr_fn_registry *F;
static wr_udf_loader *L;
static char libdir[4096]; /* PATH_MAX */

static void
lib(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s.so", libdir, name);
}

static void
setup(void)
{
    wr_log_set_level(WR_LOG_ERROR + 1); /* the refusals are expected */
    const char *d = getenv("WEIR_TEST_UDF_LIBS");
    cr_assert_not_null(d, "WEIR_TEST_UDF_LIBS names the test libraries' directory");
    cr_assert_not_null(realpath(d, libdir));
    F = wr_fn_registry_create();
    wr_err err = {0};
    cr_assert_eq(wr_fn_register_builtins(F, &err), WR_OK);
    const char *allow[] = {libdir};
    L = wr_udf_loader_create(F, allow, 1);
    cr_assert_not_null(L);
}

static void
teardown(void)
{
    wr_udf_loader_destroy(L);
    wr_fn_registry_destroy(F);
}

TestSuite(loader, .init = setup, .fini = teardown);

Test(loader, refusals_leave_the_registry_as_it_was)
{
    static const struct {
        const char *lib, *why;
    } cases[] = {
        {"udf_bad_abi", "it was built for UDF ABI version 99; this weir speaks version 1"},
        {"udf_no_init", "it does not export weir_udf_init"},
        {"udf_no_abi",
         "it does not export weir_udf_abi (build it with WEIR_UDF_LIBRARY from weir_udf.h)"},
        {"udf_builtin",
         "function ABS has the name of a built-in function; a library cannot replace it"},
        {"udf_bad_type", "function TEST_FN: unknown type FOO in 'STRING, FOO'"},
        {"udf_native", "function TEST_FN is WEIR_NATIVE: only weir's own functions can be"},
        {"udf_lambda", "function TEST_FN: signature (ARRAY<T>, x => U) has a lambda parameter: "
                       "only weir's own functions can"},
    };
    const wr_fn_desc *abs = wr_fn_lookup(F, "ABS");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4200], want[4400];
        lib(path, sizeof path, cases[i].lib);
        snprintf(want, sizeof want, "refused %s: %s", path, cases[i].why);
        wr_err err = {0};
        cr_assert_neq(wr_udf_load(L, path, NULL, &err), WR_OK, "%s", cases[i].lib);
        cr_assert_str_eq(err.msg, want);
    }
    cr_assert_eq(wr_fn_lookup(F, "ABS"), abs);
    cr_assert_null(wr_fn_lookup(F, "TEST_FN"));
}

Test(loader, builtins_are_a_library_registered_through_the_loader)
{
    const wr_fn_desc *abs = wr_fn_lookup(F, "abs");
    cr_assert_not_null(abs);
    cr_assert_str_eq(abs->author, "weir");
    cr_assert_str_eq(abs->version, WR_VERSION);
    cr_assert_str_eq(abs->path, "internal");
    cr_assert_str_eq(abs->category, "MATHEMATICAL");
    cr_assert(abs->flags & WR_FN_BUILTIN);
    cr_assert_str_eq(abs->signatures, "ABS(INTEGER) -> INTEGER\nABS(BIGINT) -> BIGINT\n"
                                      "ABS(DOUBLE) -> DOUBLE\nABS(DECIMAL) -> DECIMAL");
    cr_assert_not_null(abs->veval, "adapted like a library's vector form");
    wr_arena *a = wr_arena_create(0);
    int variant;
    wr_err err = {0};
    const wr_sql_type *args[] = {type(a, "INT"), type(a, "STRING")};
    const wr_fn_desc *g = wr_fn_lookup(F, "GREATEST");
    cr_assert_null(g->resolve(g, a, args, 2, &variant, &err));
    cr_assert_str_eq(err.msg, "Function 'greatest' does not accept parameters (INTEGER, STRING): "
                              "the arguments for T must have a common type.\nValid alternatives "
                              "are:\nGREATEST(T, T...) -> T");
    const wr_fn_desc *r = wr_fn_lookup(F, "ROUND");
    const wr_sql_type *d[] = {type(a, "DECIMAL(10, 3)")};
    cr_assert(wr_type_equal(r->resolve(r, a, d, 1, &variant, &err), type(a, "DECIMAL(8, 0)")));
    const wr_fn_desc *t = wr_fn_lookup(F, "TRANSFORM"), *c = wr_fn_lookup(F, "COUNT");
    cr_assert_str_eq(t->category, "LAMBDA");
    cr_assert_null(t->eval, "the analyser evaluates it");
    cr_assert_eq(c->kind, WR_FN_AGGREGATE);
    cr_assert_null(c->udaf, "runtime/agg.c computes it");
    cr_assert_not_null(wr_fn_lookup(F, "REGEXP_EXTRACT")->init, "prepared per call");
    wr_arena_destroy(a);
}

Test(loader, a_newer_version_replaces_for_new_lookups_only)
{
    char path[4200];
    wr_err err = {0};
    int n = 0;
    lib(path, sizeof path, "weir_example");
    cr_assert_eq(wr_udf_load(L, path, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 6);
    const wr_fn_desc *v1 = wr_fn_lookup(F, "reverse_words");
    cr_assert_not_null(v1);
    cr_assert_str_eq(v1->version, "1.0.0");
    cr_assert_str_eq(v1->path, path);
    lib(path, sizeof path, "udf_v2");
    cr_assert_eq(wr_udf_load(L, path, &n, &err), WR_OK, "%s", err.msg);
    const wr_fn_desc *v2 = wr_fn_lookup(F, "REVERSE_WORDS");
    cr_assert_str_eq(v2->version, "2.0.0");
    cr_assert_str_eq(v1->version, "1.0.0", "a query holding the old one keeps it");
    lib(path, sizeof path, "udf_older");
    cr_assert_eq(wr_udf_load(L, path, &n, &err), WR_EEXIST);
    cr_assert_eq(wr_fn_lookup(F, "REVERSE_WORDS"), v2);
    lib(path, sizeof path, "udf_v2");
    cr_assert_eq(wr_udf_load(L, path, &n, &err), WR_EEXIST, "loaded already");
}

Test(loader, only_from_the_allowlist)
{
    wr_udf_loader *other = wr_udf_loader_create(F, NULL, 0);
    char path[4200], want[8800];
    lib(path, sizeof path, "udf_leaky");
    wr_err err = {0};
    cr_assert_eq(wr_udf_load(other, path, NULL, &err), WR_EPERM);
    snprintf(want, sizeof want,
             "refused %s: its directory %s is not on the allowlist (weir.udf.allowlist)", path,
             libdir);
    cr_assert_str_eq(err.msg, want);
    wr_udf_loader_destroy(other);
}

/* ---- calls -------------------------------------------------------------------------------------
 */

static wr_cexpr *
compile(wr_arena *a, const wr_scope *sc, const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM s;", expr);
    wr_script *s;
    wr_err err = {0};
    cr_assert_eq(wr_sql_parse(a, sql, strlen(sql), &s, &err), WR_OK, "%s", err.msg);
    wr_analyzer an = {.arena = a, .scope = sc, .fns = F};
    wr_cexpr *c;
    cr_assert_eq(wr_expr_analyze(&an, s->stmts[0]->select->items[0].expr, &c, &err), WR_OK,
                 "%s: %s", expr, err.msg);
    return c;
}

Test(loader, vector_and_row_evaluation_agree)
{
    char path[4200];
    wr_err err = {0};
    lib(path, sizeof path, "weir_example");
    cr_assert_eq(wr_udf_load(L, path, NULL, &err), WR_OK, "%s", err.msg);
    wr_arena *a = wr_arena_create(0);
    wr_col cols[] = {{"I", NULL, wr_type_of(WR_T_INT)},
                     {"L", NULL, wr_type_of(WR_T_BIGINT)},
                     {"S", NULL, wr_type_of(WR_T_STRING)}};
    wr_scope sc = {.cols = cols, .n = 3};
    wr_batch b;
    cr_assert_eq(wr_batch_init(&b, &sc, 64, a), WR_OK);
    static const char *words[] = {"a b", " x  yy z ", "", "one"};
    for (int32_t r = 0; r < 64; r++) {
        wr_val v[3] = {wr_val_int(r - 7), wr_val_bigint(r % 5), wr_val_string(words[r % 4], 0)};
        v[2].u.s.len = (int32_t)strlen(words[r % 4]);
        v[r % 3].null = r % 7 == 0;
        for (int c = 0; c < 3; c++)
            wr_vec_set(&b.cols[c], r, &v[c]);
    }
    b.n = 64;
    wr_batch_select_all(&b);
    static const char *exprs[] = {"MULTIPLY(I, L)",
                                  "MULTIPLY(L, 2.5)",
                                  "REVERSE_WORDS(S)",
                                  "SAFE_DIV(L, I)",
                                  "FIRST_NON_NULL(S, CAST(I AS STRING), 'z')",
                                  "CASE WHEN I > 0 THEN REVERSE_WORDS(S) END"};
    for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
        wr_cexpr *e = compile(a, &sc, exprs[k]);
        wr_eval_ctx cx = {.arena = a};
        wr_vec out;
        cr_assert_eq(wr_expr_eval_batch(e, &b, &cx, &out), WR_OK);
        for (int32_t r = 0; r < 64; r++) {
            wr_val row[3], want;
            for (int c = 0; c < 3; c++)
                row[c] = wr_vec_get(&b.cols[c], r);
            wr_eval_ctx rx = {.arena = a, .row = row};
            wr_expr_eval(e, &rx, &want);
            wr_val got = wr_vec_get(&out, r);
            cr_assert_eq(got.null, want.null, "%s row %d", exprs[k], r);
            cr_assert(got.null || wr_val_equal(&got, &want), "%s row %d", exprs[k], r);
        }
    }
    wr_arena_destroy(a);
}

/* LEAKY_UPPER allocates every result; 10,000,000 rows through the vector evaluator, in batches
   whose arena is reset, as the runtime runs them. */
Test(loader, ten_million_allocating_rows, .timeout = 600)
{
    char path[4200];
    wr_err err = {0};
    lib(path, sizeof path, "udf_leaky");
    cr_assert_eq(wr_udf_load(L, path, NULL, &err), WR_OK, "%s", err.msg);
    wr_arena *plan = wr_arena_create(0), *a = wr_arena_create(0);
    wr_col cols[] = {{"S", NULL, wr_type_of(WR_T_STRING)}};
    wr_scope sc = {.cols = cols, .n = 1};
    wr_cexpr *e = compile(plan, &sc, "LEAKY_UPPER(S)");
    enum { BATCH = 4096 };
    long rows = 0, checked = 0;
    for (long done = 0; done < 10000000L; done += BATCH) {
        wr_arena_reset(a);
        wr_batch b;
        cr_assert_eq(wr_batch_init(&b, &sc, BATCH, a), WR_OK);
        for (int32_t r = 0; r < BATCH; r++) {
            char *s = wr_arena_alloc(a, 24);
            int n = snprintf(s, 24, "row %ld", done + r);
            wr_val v = wr_val_string(s, n);
            wr_vec_set(&b.cols[0], r, &v);
        }
        b.n = BATCH;
        wr_batch_select_all(&b);
        wr_eval_ctx cx = {.arena = a};
        wr_vec out;
        cr_assert_eq(wr_expr_eval_batch(e, &b, &cx, &out), WR_OK);
        wr_val v = wr_vec_get(&out, BATCH - 1);
        char want[24];
        snprintf(want, sizeof want, "ROW %ld", done + BATCH - 1);
        checked += v.u.s.len == (int32_t)strlen(want) && memcmp(v.u.s.p, want, strlen(want)) == 0;
        rows += BATCH;
    }
    cr_assert_geq(rows, 10000000L);
    cr_assert_eq(checked, (rows + BATCH - 1) / BATCH);
    wr_arena_destroy(a);
    wr_arena_destroy(plan);
}

/* GEOMEAN's state through weir's aggregate operations: add, undo, merge (session windows),
   and the value codec of the state store. */
Test(loader, udaf_add_undo_merge_and_store)
{
    char path[4200];
    wr_err err = {0};
    lib(path, sizeof path, "weir_example");
    cr_assert_eq(wr_udf_load(L, path, NULL, &err), WR_OK, "%s", err.msg);
    const wr_fn_desc *f = wr_fn_lookup(F, "GEOMEAN");
    cr_assert_not_null(f);
    wr_arena *a = wr_arena_create(0);
    const wr_sql_type *dbl = wr_type_of(WR_T_DOUBLE);
    int variant = -1;
    cr_assert_eq(f->resolve(f, a, &dbl, 1, &variant, &err), dbl);
    wr_agg ag;
    const wr_val *consts[1] = {NULL};
    cr_assert_eq(wr_agg_plan(&ag, f, variant, a, &dbl, consts, 1, dbl, &err), WR_OK, "%s", err.msg);
    cr_assert(wr_agg_undoable(&ag) && wr_agg_mergeable(&ag));
    wr_aggst x, y;
    wr_agg_init(&ag, &x);
    wr_agg_init(&ag, &y);
    double xs[] = {2, 8, 5}, ys[] = {4, -1};
    for (int i = 0; i < 3; i++) {
        wr_val v = wr_val_double(xs[i]);
        wr_agg_add(&ag, &x, &v, i, a);
    }
    wr_val five = wr_val_double(5);
    wr_agg_undo(&ag, &x, &five, a); /* x: 2, 8 */
    for (int i = 0; i < 2; i++) {
        wr_val v = wr_val_double(ys[i]);
        wr_agg_add(&ag, &y, &v, i, a); /* y: 4 (a negative value does not count) */
    }
    wr_buf b = WR_BUF_INIT;
    wr_agg_encode(&ag, &y, &b); /* through the store's codec and back */
    wr_aggst y2;
    wr_rd r = wr_rd_make(b.data, b.len);
    wr_agg_decode(&ag, &y2, &r, a);
    cr_assert_eq(r.err, WR_OK);
    wr_agg_merge(&ag, &x, &y2, a); /* 2, 8, 4 */
    wr_val gm = wr_agg_result(&ag, &x, a);
    cr_assert(!gm.null);
    cr_assert_float_eq(gm.u.f64, 4.0, 1e-12);
    wr_aggst empty;
    wr_agg_init(&ag, &empty);
    cr_assert(wr_agg_result(&ag, &empty, a).null, "no row: null");
    wr_buf_free(&b);
    wr_arena_destroy(a);
}
