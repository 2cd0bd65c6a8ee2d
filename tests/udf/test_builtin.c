/*
 * test_builtin.c - a property test of weir's built-in functions (udf/builtin.c) and aggregates
 * (runtime/agg.c): every function of the registry, every one of its signatures, called through
 * the runtime's own paths with hostile values.
 *
 * The registry is enumerated (wr_fn_list); each signature's parameter text (from the
 * descriptor's signatures, as DESCRIBE FUNCTION shows them) is parsed with udf/sig.c, and its
 * type variables and bare DECIMALs are instantiated with several concrete types (all the same,
 * then seeded random mixes; variadic parameters repeated 0, 1 and 3 times). A scalar call is
 * analysed from SQL text over columns of those types (wr_expr_analyze: the overload, coercions,
 * prepare) and evaluated both ways the runtime does: a batch at a time (wr_expr_eval_batch, with
 * the per-row error list run.c passes) and a row at a time (wr_expr_eval). A function with a
 * prepare (a constant pattern) is also prepared with each row's values as constants. Table
 * functions go through their descriptor as run.c calls them; aggregates through
 * wr_agg_plan/init/add/undo/merge/result and the state codec. The lambda functions are called as
 * TRANSFORM/FILTER/REDUCE expressions.
 *
 * Values come from a seeded generator of hostile ones: nulls, null elements, empty strings,
 * arrays and maps (with and without a data pointer), nested nulls, the extremes of every number
 * type, NaN, infinities and -0, DECIMALs at their precision, invalid UTF-8, embedded NULs,
 * format and pattern metacharacters, a 64 KiB and a 1 MiB string, deeply nested types.
 *
 * Asserted for every call: no crash (the suite also runs under ASan/UBSan, which turns a bad
 * pointer, an overflow or a memcpy from NULL into a failure); the result is null or a value of
 * the declared result type, checked deeply (every byte of a string read, elements, keys, fields,
 * a DECIMAL within its precision) and through the row codec; every per-row error names the
 * function and leaves that row null; batch and row evaluation agree on nulls; and every
 * signature of every function was exercised at least once. Deterministic: one seed, a bounded
 * number of rows per instantiation.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

/* An assertion for the hot loops: with --full-stats (as meson runs it) every passing
   cr_assert is reported to the runner, which made this test 20 times slower. */
#define CHECK(cond, ...)                 \
    do {                                 \
        if (!(cond))                     \
            cr_assert_fail(__VA_ARGS__); \
    } while (0)

#include "grammar/sql.h"
#include "runtime/agg.h"
#include "runtime/batch.h"
#include "runtime/rowcodec.h"
#include "runtime/types.h"
#include "src/base/logging.h"
#include "udf/sig.h"

enum {
    ROWS = 32,        /* rows per instantiation */
    MIXES = 3,        /* random instantiations per signature, after the uniform ones */
    MAX_ARGS = 8,     /* arguments of one call */
    MAX_DEPTH = 24,   /* nesting of generated values */
    HUGE = 1 << 20,   /* the huge string, in row 0 of a signature's first instantiation */
    BIG = 64 << 10,   /* a large string, among the specials */
    LONG_ARRAY = 300, /* the long array, among the specials */
};

/* ---- hostile values ------------------------------------------------------------------------- */

typedef struct gen {
    uint64_t s;
    wr_arena *a;
    bool huge;      /* this row may take the 1 MiB string */
    int32_t budget; /* values one argument may still have (nesting multiplies them) */
} gen;

static uint64_t
rnd(gen *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int
below(gen *g, int n)
{
    return (int)(rnd(g) % (uint64_t)n);
}

static char *big_str, *huge_str;

static const char *const STRINGS[] = {
    "",
    "a",
    " ",
    "  Hello World  ",
    "\xff\xfe",
    "\xc3",
    "\xe2\x82",
    "\xc0\xaf",
    "\x80\x80\x80",
    "\xed\xa0\x80", /* a surrogate */
    "%s%n%x%%",
    "(",
    "[",
    "*",
    "\\",
    "(a*)*$",
    "(((((((((((a)))))))))))",
    "a|",
    "DESC",
    "desc",
    "ASC",
    "DESCENDING",
    "hex",
    "base64",
    "utf8",
    "ascii",
    "UTC",
    "Europe/Paris",
    "+25:00",
    "-18:00",
    "America/New_York",
    "yyyy-MM-dd",
    "yyyy-MM-dd'T'HH:mm:ss.SSSX",
    "'",
    "''",
    "GGGG yyyyy MMMMM EEEE a hh KK zzzz VV",
    "$.a.b[0]",
    "$[",
    "$.",
    "$['a'",
    "$[99999999999999999999]",
    "[1,2",
    "{\"a\":",
    "{\"a\":{\"b\":[1,{\"c\":null}]}}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"x\"",
    "null",
    "DAYS",
    "MILLISECOND",
    "123",
    "-9223372036854775808",
    "1e400",
    "NaN",
    "0x1F",
    "=",
    "QUJD",
    "QQ=",
    "abc",
    "ab",
};
#define NSTRINGS ((int)(sizeof STRINGS / sizeof STRINGS[0]))

static wr_val
gen_string(gen *g, int pick)
{
    int n = NSTRINGS + 5;
    int k = pick >= 0 ? pick % n : below(g, n);
    switch (k) {
    case 0:
        return wr_val_string(NULL, 0); /* empty, without a data pointer */
    case 1:
        return wr_val_string("a\0b\0", 4); /* embedded NULs */
    case 2:
        if (g->huge)
            return wr_val_string(huge_str, HUGE);
        return wr_val_string(big_str + BIG - 300, 300);
    case 3: { /* random bytes */
        int32_t len = below(g, 24);
        char *p = wr_arena_alloc(g->a, (size_t)len + 1);
        for (int32_t i = 0; i < len; i++)
            p[i] = (char)rnd(g);
        return wr_val_string(p, len);
    }
    case 4:
        return wr_val_string(big_str, BIG);
    default:
        return wr_val_string(STRINGS[k - 5], (int32_t)strlen(STRINGS[k - 5]));
    }
}

static wr_val gen_value(gen *g, const wr_sql_type *t, int depth, int pick);

/* n values of t (some null) in the arena; a distinct set when unique (map keys). */
static wr_val *
gen_values(gen *g, const wr_sql_type *t, int depth, int32_t n, bool unique, int32_t *got)
{
    wr_val *v = wr_arena_calloc(g->a, (size_t)n + 1, sizeof *v);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        wr_val x = below(g, 5) == 0 ? wr_val_null(t) : gen_value(g, t, depth + 1, -1);
        bool dup = false;
        for (int32_t j = 0; unique && j < m && !dup; j++)
            dup = v[j].null ? x.null : (!x.null && wr_val_equal(&v[j], &x));
        if (!dup)
            v[m++] = x;
    }
    *got = m;
    return v;
}

/* A value of type t: pick >= 0 chooses one of the type's special values (cycling), -1 a random
   mix of specials and random values. Never null at the top (the caller decides). */
static wr_val
gen_value(gen *g, const wr_sql_type *t, int depth, int pick)
{
    wr_val v = {.type = t};
    bool special = pick >= 0 || below(g, 3) != 0;
    int k = pick >= 0 ? pick : below(g, 1 << 20);
    if (depth > MAX_DEPTH || --g->budget < 0)
        return wr_val_null(t);
    switch (t->kind) {
    case WR_T_BOOLEAN:
        v.u.b = (k & 1) != 0;
        return v;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME: {
        static const int32_t s[] = {0,       1,       -1, INT32_MIN, INT32_MAX, 86399999,
                                    2932896, -719162, 7,  3,         1000,      1001};
        v.u.i32 = special ? s[k % 12] : (int32_t)rnd(g);
        return v;
    }
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP: {
        static const int64_t s[] = {0,
                                    1,
                                    -1,
                                    INT64_MIN,
                                    INT64_MAX,
                                    INT32_MIN,
                                    INT32_MAX,
                                    253402300799999LL,
                                    -62135596800000LL,
                                    86400000LL * 1000000000LL,
                                    100000,
                                    2,
                                    10};
        v.u.i64 = special ? s[k % 13] : (int64_t)rnd(g);
        return v;
    }
    case WR_T_DOUBLE: {
        static const double s[] = {0.0,
                                   -0.0,
                                   NAN,
                                   INFINITY,
                                   -INFINITY,
                                   DBL_MAX,
                                   -DBL_MAX,
                                   DBL_MIN,
                                   4.9e-324,
                                   1e308,
                                   0.5,
                                   -2.5,
                                   9.2233720368547758e18,
                                   -1e19,
                                   1.0};
        if (special) {
            v.u.f64 = s[k % 15];
        } else {
            uint64_t bits = rnd(g);
            memcpy(&v.u.f64, &bits, sizeof v.u.f64);
        }
        return v;
    }
    case WR_T_DECIMAL: {
        wr_i128 max = wr_decimal_pow10(t->precision) - 1;
        wr_i128 half = t->scale > 0 ? 5 * wr_decimal_pow10(t->scale - 1) : 5;
        wr_i128 s[] = {0, max, -max, 1, -1, half, -half, max / 2};
        v.u.dec = special ? s[k % 8] : (wr_i128)(int64_t)rnd(g) % (max + 1);
        return v;
    }
    case WR_T_STRING:
    case WR_T_BYTES: {
        wr_val s = gen_string(g, pick >= 0 ? pick : -1);
        s.type = t;
        return s;
    }
    case WR_T_ARRAY: {
        int32_t n = 0;
        switch (special ? k % 6 : 5) {
        case 0: /* empty, no data pointer */
            break;
        case 1: /* empty, with one */
            v.u.arr.v = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            break;
        case 2: /* [null] */
            v.u.arr.v = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            v.u.arr.v[0] = wr_val_null(t->elem);
            v.u.arr.n = 1;
            break;
        case 3: /* long */
            v.u.arr.v = gen_values(g, t->elem, depth + 4, depth < 2 ? LONG_ARRAY : 4, false, &n);
            v.u.arr.n = n;
            break;
        default:
            v.u.arr.v = gen_values(g, t->elem, depth, 1 + below(g, 5), false, &n);
            v.u.arr.n = n;
            break;
        }
        return v;
    }
    case WR_T_MAP: {
        int32_t n = 0;
        switch (special ? k % 4 : 3) {
        case 0:
            break;
        case 1:
            v.u.map.k = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            v.u.map.v = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            break;
        case 2: /* one entry whose value is null */
            v.u.map.k = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            v.u.map.v = wr_arena_calloc(g->a, 1, sizeof(wr_val));
            v.u.map.k[0] = gen_value(g, t->key, depth + 1, -1);
            v.u.map.v[0] = wr_val_null(t->elem);
            v.u.map.n = 1;
            break;
        default:
            v.u.map.k = gen_values(g, t->key, depth, 1 + below(g, 5), true, &n);
            v.u.map.v = wr_arena_calloc(g->a, (size_t)n + 1, sizeof(wr_val));
            for (int32_t i = 0; i < n; i++)
                v.u.map.v[i] =
                    below(g, 5) == 0 ? wr_val_null(t->elem) : gen_value(g, t->elem, depth + 1, -1);
            v.u.map.n = n;
            break;
        }
        return v;
    }
    case WR_T_STRUCT: {
        v.u.st.f = wr_arena_calloc(g->a, (size_t)t->nfields + 1, sizeof(wr_val));
        bool all_null = special && k % 3 == 0;
        for (int i = 0; i < t->nfields; i++)
            v.u.st.f[i] = all_null || below(g, 4) == 0
                              ? wr_val_null(t->fields[i].type)
                              : gen_value(g, t->fields[i].type, depth + 1, -1);
        return v;
    }
    default:
        return wr_val_null(t);
    }
}

/* ---- checking results ---------------------------------------------------------------------- */

static unsigned touched; /* every byte of every result string is read into it */

/* Whether x is null or a well-formed value of type t; why in msg when not. */
static bool
conforms(const wr_val *x, const wr_sql_type *t, char *msg, size_t cap, int depth)
{
    if (x->null)
        return true;
    if (depth > 64) {
        snprintf(msg, cap, "nested deeper than its type can be");
        return false;
    }
    if (x->type != NULL && x->type->kind != t->kind) {
        snprintf(msg, cap, "a value of kind %d where kind %d is declared", (int)x->type->kind,
                 (int)t->kind);
        return false;
    }
    switch (t->kind) {
    case WR_T_STRING:
    case WR_T_BYTES:
        if (x->u.s.len < 0 || (x->u.s.len > 0 && x->u.s.p == NULL)) {
            snprintf(msg, cap, "a string of length %d at %p", (int)x->u.s.len,
                     (const void *)x->u.s.p);
            return false;
        }
        for (int32_t i = 0; i < x->u.s.len; i++)
            touched += (unsigned char)x->u.s.p[i];
        return true;
    case WR_T_DECIMAL: {
        wr_i128 lim = wr_decimal_pow10(t->precision);
        if (x->u.dec >= lim || x->u.dec <= -lim) {
            snprintf(msg, cap, "a DECIMAL(%d, %d) beyond its precision", t->precision, t->scale);
            return false;
        }
        return true;
    }
    case WR_T_ARRAY:
        if (x->u.arr.n < 0 || (x->u.arr.n > 0 && x->u.arr.v == NULL)) {
            snprintf(msg, cap, "an array of %d elements at %p", (int)x->u.arr.n,
                     (const void *)x->u.arr.v);
            return false;
        }
        for (int32_t i = 0; i < x->u.arr.n; i++)
            if (!conforms(&x->u.arr.v[i], t->elem, msg, cap, depth + 1))
                return false;
        return true;
    case WR_T_MAP:
        if (x->u.map.n < 0 || (x->u.map.n > 0 && (x->u.map.k == NULL || x->u.map.v == NULL))) {
            snprintf(msg, cap, "a map of %d entries without them", (int)x->u.map.n);
            return false;
        }
        for (int32_t i = 0; i < x->u.map.n; i++) {
            if (!conforms(&x->u.map.k[i], t->key, msg, cap, depth + 1) ||
                !conforms(&x->u.map.v[i], t->elem, msg, cap, depth + 1))
                return false;
            for (int32_t j = 0; j < i; j++) {
                const wr_val *a = &x->u.map.k[i], *b = &x->u.map.k[j];
                if (a->null ? b->null : (!b->null && wr_val_equal(a, b))) {
                    snprintf(msg, cap, "a map with a repeated key");
                    return false;
                }
            }
        }
        return true;
    case WR_T_STRUCT:
        if (x->u.st.f == NULL) {
            snprintf(msg, cap, "a struct without fields");
            return false;
        }
        for (int i = 0; i < t->nfields; i++)
            if (!conforms(&x->u.st.f[i], t->fields[i].type, msg, cap, depth + 1))
                return false;
        return true;
    default:
        return true;
    }
}

/* The checks every result gets: its shape, then the row codec (what the state store and the
   repartition topics do with it) and its text (what the formats do). */
static void
check_result(const char *what, int32_t row, const wr_val *x, const wr_sql_type *t, wr_arena *a)
{
    char msg[200] = "";
    CHECK(conforms(x, t, msg, sizeof msg, 0), "%s row %d: %s", what, (int)row, msg);
    wr_buf b = WR_BUF_INIT;
    wr_val_encode(&b, t, x);
    CHECK(wr_buf_ok(&b), "%s row %d: encoding the result failed", what, (int)row);
    wr_rd r = wr_rd_make(b.data, b.len);
    wr_val back;
    wr_val_decode(&r, t, &back, a);
    CHECK((r.err) == (WR_OK), "%s row %d: the result does not decode", what, (int)row);
    CHECK((back.null) == (x->null), "%s row %d", what, (int)row);
    wr_buf_reset(&b);
    if (!x->null)
        wr_val_to_string(&b, x);
    wr_buf_free(&b);
}

/* ---- the registry -------------------------------------------------------------------------- */

static wr_fn_registry *F;
static wr_arena *PA; /* types and signatures, for the whole test */
static const wr_sql_type *POOL[24];
static int NPOOL;
static const wr_sql_type *DECPOOL[6];
static int NDECPOOL;

static const wr_sql_type *
ty(const char *text)
{
    const wr_sql_type *t;
    wr_err err = {0};
    CHECK((wr_sig_parse_type(PA, text, &t, &err)) == (WR_OK), "%s: %s", text, err.msg);
    return t;
}

static void
setup(void)
{
    wr_log_set_level(WR_LOG_ERROR + 1);
    F = wr_fn_registry_create();
    wr_err err = {0};
    CHECK((wr_fn_register_builtins(F, &err)) == (WR_OK), "%s", err.msg);
    PA = wr_arena_create(0);
    big_str = wr_arena_alloc(PA, BIG);
    huge_str = wr_arena_alloc(PA, HUGE);
    for (int i = 0; i < BIG; i++) /* text with some whitespace, digits and invalid bytes */
        big_str[i] = "ab cD9\xff,\xc3"[i % 10];
    for (int i = 0; i < HUGE; i++)
        huge_str[i] = "aaaa a,\n"[i % 8];
    static const char *pool[] = {
        "BOOLEAN",
        "INT",
        "BIGINT",
        "DOUBLE",
        "DECIMAL(4, 2)",
        "DECIMAL(38, 0)",
        "DECIMAL(38, 37)",
        "STRING",
        "BYTES",
        "TIMESTAMP",
        "DATE",
        "TIME",
        "ARRAY<STRING>",
        "ARRAY<INT>",
        "ARRAY<ARRAY<DOUBLE>>",
        "MAP<STRING, INT>",
        "MAP<STRING, ARRAY<STRING>>",
        "STRUCT<A INT, B STRING>",
        "STRUCT<A ARRAY<MAP<STRING, STRUCT<B STRUCT<C ARRAY<DECIMAL(10, 2)>>, D BYTES>>>, "
        "E STRUCT<F STRUCT<G STRUCT<H STRUCT<I STRUCT<J STRING>>>>>>",
        "ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<ARRAY<BIGINT>>>>>>>>>>>"
        ">",
    };
    NPOOL = (int)(sizeof pool / sizeof pool[0]);
    for (int i = 0; i < NPOOL; i++)
        POOL[i] = ty(pool[i]);
    static const char *decs[] = {"DECIMAL(1, 0)",   "DECIMAL(4, 2)",   "DECIMAL(38, 0)",
                                 "DECIMAL(38, 10)", "DECIMAL(38, 38)", "DECIMAL(10, 10)"};
    NDECPOOL = (int)(sizeof decs / sizeof decs[0]);
    for (int i = 0; i < NDECPOOL; i++)
        DECPOOL[i] = ty(decs[i]);
}

static void
teardown(void)
{
    wr_arena_destroy(PA);
    wr_fn_registry_destroy(F);
}

TestSuite(builtin, .init = setup, .fini = teardown);

/* The signatures of f, parsed from its descriptor's text: "NAME(params) -> ret" a line. */
static int
signatures(const wr_fn_desc *f, wr_sig *out, int cap)
{
    int n = 0;
    for (const char *p = f->signatures; p && *p && n < cap;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *open = memchr(p, '(', len);
        const char *close = NULL;
        int nest = 0;
        for (const char *q = open; q && q < p + len; q++) {
            nest += *q == '(' ? 1 : *q == ')' ? -1 : 0;
            if (nest == 0) {
                close = q;
                break;
            }
        }
        CHECK(open && close, "%s: signature '%.*s'", f->name, (int)len, p);
        char *params = wr_arena_strndup(PA, open + 1, (size_t)(close - open - 1));
        wr_err err = {0};
        CHECK((wr_sig_parse(PA, params, NULL, &out[n], &err)) == (WR_OK), "%s(%s): %s", f->name,
              params, err.msg);
        n++;
        p = eol ? eol + 1 : p + len;
    }
    return n;
}

/* Instantiation k of signature s: the argument types (returns how many). */
static int
instantiate(gen *g, const wr_sig *s, int k, const wr_sql_type **types)
{
    const wr_sql_type *bound[WR_SIG_MAX_VARS];
    for (int v = 0; v < s->nvars; v++) {
        if (s->decimal_var[v])
            bound[v] = DECPOOL[k < NPOOL ? k % NDECPOOL : below(g, NDECPOOL)];
        else
            bound[v] = POOL[k < NPOOL ? k : below(g, NPOOL)];
    }
    int n = s->nparams;
    if (s->variadic) {
        static const int extra[] = {0, 1, 3};
        n = s->nparams - 1 + extra[k % 3];
    }
    if (n > MAX_ARGS)
        n = MAX_ARGS;
    for (int i = 0; i < n; i++)
        types[i] = wr_sig_instantiate(PA, wr_sig_param(s, i), bound);
    return n;
}

/* Row r's arguments: the first rows walk each type's special values, the rest are random, and
   one row in eight has a null argument. */
static void
gen_row(gen *g, const wr_sql_type *const *types, int n, int32_t r, wr_val *row)
{
    for (int i = 0; i < n; i++) {
        g->budget = 3000;
        if (r >= 24 && below(g, 8) == 0)
            row[i] = wr_val_null(types[i]);
        else
            row[i] = gen_value(g, types[i], 0, r < 24 ? r + i * 5 : -1);
    }
}

static char *
call_text(wr_arena *a, const char *fmt_or_name, int n, bool lambda)
{
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "SELECT ");
    if (lambda) {
        wr_buf_printf(&b, "%s", fmt_or_name);
    } else {
        wr_buf_printf(&b, "%s(", fmt_or_name);
        for (int i = 0; i < n; i++)
            wr_buf_printf(&b, "%sC%d", i ? ", " : "", i);
        wr_buf_printf(&b, ")");
    }
    wr_buf_printf(&b, " FROM s;");
    char *s = wr_arena_strndup(a, (const char *)b.data, b.len);
    wr_buf_free(&b);
    return s;
}

/* Analyses the SQL text over columns of types[0..n); NULL when the analyser refuses it (a
   statement error, not a crash: the combination is not callable). */
static const wr_cexpr *
analyze(wr_arena *a, const char *sql, const wr_sql_type *const *types, int n, wr_scope *sc)
{
    wr_col *cols = wr_arena_calloc(a, (size_t)n + 1, sizeof *cols);
    for (int i = 0; i < n; i++) {
        char *name = wr_arena_printf(a, "C%d", i);
        cols[i] = (wr_col){name, NULL, types[i]};
    }
    *sc = (wr_scope){.n = n, .cols = cols};
    wr_script *s;
    wr_err err = {0};
    CHECK((wr_sql_parse(a, sql, strlen(sql), &s, &err)) == (WR_OK), "%s: %s", sql, err.msg);
    wr_analyzer an = {.arena = a, .scope = sc, .fns = F};
    wr_cexpr *c;
    if (wr_expr_analyze(&an, s->stmts[0]->select->items[0].expr, &c, &err) != WR_OK)
        return NULL;
    return c;
}

/* Evaluates e over ROWS generated rows both ways; the checks above on every result. */
static void
run_rows(gen *g, const char *what, const wr_cexpr *e, const wr_scope *sc, bool first)
{
    wr_arena *a = g->a;
    const wr_sql_type *types[MAX_ARGS + 1];
    int n = sc->n;
    if (getenv("WR_TEST_TRACE") != NULL) /* which call a crash happened in */
        fprintf(stderr, "%s\n", what);
    for (int i = 0; i < n; i++)
        types[i] = sc->cols[i].type;
    wr_batch b;
    CHECK((wr_batch_init(&b, sc, ROWS, a)) == (WR_OK), "%s", "wr_batch_init(&b, sc, ROWS, a)");
    wr_val *rows = wr_arena_calloc(a, (size_t)ROWS * (size_t)(n + 1), sizeof *rows);
    for (int32_t r = 0; r < ROWS; r++) {
        g->huge = first && r == 0;
        gen_row(g, types, n, r, &rows[r * (n + 1)]);
        for (int i = 0; i < n; i++)
            wr_vec_set(&b.cols[i], r, &rows[r * (n + 1) + i]);
    }
    g->huge = false;
    b.n = ROWS;
    wr_batch_select_all(&b);
    wr_fn_errs fe = {0, ROWS, wr_arena_alloc(a, (ROWS + 1) * sizeof(int32_t)),
                     wr_arena_alloc(a, (ROWS + 1) * sizeof(const char *))};
    wr_eval_ctx cx = {.arena = a, .errs = &fe};
    wr_vec out;
    CHECK((wr_expr_eval_batch(e, &b, &cx, &out)) == (WR_OK), "%s", what);
    bool det = !(e->op == WR_C_CALL && (e->fn->flags & WR_FN_NONDETERMINISTIC));
    for (int32_t r = 0; r < ROWS; r++) {
        wr_val got = wr_vec_get(&out, r);
        check_result(what, r, &got, e->type, a);
        wr_eval_ctx rx = {.arena = a, .row = &rows[r * (n + 1)]};
        wr_val want;
        wr_expr_eval(e, &rx, &want);
        check_result(what, r, &want, e->type, a);
        if (det)
            CHECK((got.null) == (want.null), "%s row %d: batch and row evaluation disagree", what,
                  (int)r);
    }
    for (int32_t k = 0; k < fe.n; k++) { /* the processing-log records */
        CHECK(fe.rows[k] >= 0 && fe.rows[k] < ROWS, "%s", what);
        CHECK(out.null[fe.rows[k]], "%s row %d: an error record, yet a result", what,
              (int)fe.rows[k]);
        CHECK(e->op != WR_C_CALL || strncmp(fe.msgs[k], e->fn->name, strlen(e->fn->name)) == 0,
              "%s: the record '%s' does not name the function", what, fe.msgs[k]);
    }
    if (e->op != WR_C_CALL || e->fn->init == NULL)
        return;
    /* the prepared form: each row's values as the call's constants (a refusal is the
       statement's error) */
    bool coerced = false;
    for (int i = 0; i < n; i++)
        coerced |= !wr_type_equal(e->fctx->args[i], types[i]);
    for (int32_t r = 0; r < ROWS && !coerced; r++) {
        const wr_val *args = &rows[r * (n + 1)];
        const wr_val *consts[MAX_ARGS + 1];
        bool any_null = false;
        for (int i = 0; i < n; i++) {
            consts[i] = &args[i];
            any_null |= args[i].null;
        }
        wr_fn_ctx fc = *e->fctx;
        fc.state = NULL;
        fc.arena = a;
        fc.errs = NULL;
        wr_err err = {0};
        if (e->fn->init(&fc, consts, n, &err) != WR_OK) {
            CHECK(err.msg[0] != 0, "%s row %d: refused without a message", what, (int)r);
            continue;
        }
        wr_val o = wr_val_null(e->type);
        if (!(any_null && (e->fn->flags & WR_FN_NULL_IN_NULL_OUT)))
            e->fn->eval(&fc, args, n, &o);
        check_result(what, r, &o, e->type, a);
        if (fc.state != NULL && e->fn->fini != NULL)
            e->fn->fini(fc.state);
    }
}

static const char *
what_of(wr_arena *a, const char *name, const wr_sql_type *const *types, int n)
{
    return wr_arena_printf(a, "%s(%s)", name, wr_fn_type_list(a, types, n));
}

/* ---- scalar, table and aggregate functions -------------------------------------------------- */

static void
scalar(gen *g, const wr_fn_desc *f, const wr_sql_type *const *types, int n, bool first)
{
    wr_scope sc;
    const wr_cexpr *e = analyze(g->a, call_text(g->a, f->name, n, false), types, n, &sc);
    if (e != NULL)
        run_rows(g, what_of(g->a, f->name, types, n), e, &sc, first);
}

static void
table(gen *g,
      const wr_fn_desc *f,
      const wr_sql_type *ret,
      int variant,
      const wr_sql_type *const *types,
      int n,
      bool first)
{
    wr_arena *a = g->a;
    const char *what = what_of(a, f->name, types, n);
    wr_fn_ctx fc = {.arena = a, .ret = ret, .variant = variant, .nargs = n, .args = types, .fn = f};
    if (getenv("WR_TEST_TRACE") != NULL)
        fprintf(stderr, "%s\n", what);
    for (int32_t r = 0; r < ROWS; r++) {
        wr_val args[MAX_ARGS + 1];
        g->huge = first && r == 0;
        gen_row(g, types, n, r, args);
        int cap = 4, nout = 0;
        wr_val *out = wr_arena_calloc(a, (size_t)cap, sizeof *out);
        f->table(&fc, args, n, out, cap, &nout);
        if (nout > cap) { /* as run.c: again, with room */
            cap = nout;
            out = wr_arena_calloc(a, (size_t)cap, sizeof *out);
            f->table(&fc, args, n, out, cap, &nout);
            CHECK((nout) <= (cap), "%s row %d", what, (int)r);
        }
        CHECK((nout) >= (0), "%s", what);
        for (int i = 0; i < nout; i++)
            check_result(what, r, &out[i], ret, a);
    }
    g->huge = false;
}

static void
aggregate(gen *g,
          const wr_fn_desc *f,
          const wr_sql_type *ret,
          int variant,
          const wr_sql_type *const *types,
          int n)
{
    wr_arena *a = g->a;
    const char *what = what_of(a, f->name, types, n);
    if (getenv("WR_TEST_TRACE") != NULL)
        fprintf(stderr, "%s\n", what);
    for (int32_t c = 0; c < 8; c++) { /* constants for the further arguments (TOPK's k, ...) */
        wr_val cv[MAX_ARGS + 1];
        const wr_val *consts[MAX_ARGS + 1] = {NULL};
        for (int i = 1; i < n; i++) {
            cv[i] = c == 7 ? wr_val_null(types[i]) : gen_value(g, types[i], 0, c + 2);
            consts[i] = &cv[i];
        }
        wr_agg ag;
        wr_err err = {0};
        if (wr_agg_plan(&ag, f, variant, a, types, consts, n, ret, &err) != WR_OK) {
            CHECK(err.msg[0] != 0, "%s: refused without a message", what);
            continue;
        }
        wr_aggst x, y;
        wr_agg_init(&ag, &x);
        wr_agg_init(&ag, &y);
        wr_val vals[ROWS];
        for (int32_t r = 0; r < ROWS; r++) {
            vals[r] = n == 0 || (r >= 24 && below(g, 6) == 0)
                          ? wr_val_null(n ? types[0] : NULL)
                          : gen_value(g, types[0], 0, r < 24 ? r : -1);
            wr_agg_add(&ag, r % 3 ? &x : &y, n ? &vals[r] : NULL, r % 7 == 0 ? 5 : r, a);
        }
        if (wr_agg_undoable(&ag)) /* some rows leave the group they joined */
            for (int32_t r = 1; r < ROWS; r += 4)
                if (r % 3)
                    wr_agg_undo(&ag, &x, n ? &vals[r] : NULL, a);
        wr_val rx = wr_agg_result(&ag, &x, a);
        check_result(what, -1, &rx, ret, a);
        wr_buf b = WR_BUF_INIT; /* the state through the store's codec */
        wr_agg_encode(&ag, &y, &b);
        CHECK(wr_buf_ok(&b), "%s", what);
        wr_rd rd = wr_rd_make(b.data, b.len);
        wr_aggst y2;
        wr_agg_decode(&ag, &y2, &rd, a);
        CHECK((rd.err) == (WR_OK), "%s: its state does not decode", what);
        wr_buf_free(&b);
        wr_val ry = wr_agg_result(&ag, &y2, a);
        check_result(what, -2, &ry, ret, a);
        if (wr_agg_mergeable(&ag)) {
            wr_agg_merge(&ag, &x, &y2, a);
            wr_val rm = wr_agg_result(&ag, &x, a);
            check_result(what, -3, &rm, ret, a);
        }
        wr_aggst e;
        wr_agg_init(&ag, &e);
        wr_val re = wr_agg_result(&ag, &e, a);
        check_result(what, -4, &re, ret, a);
    }
}

/* The lambda functions, as the analyser calls them. */
static const struct {
    const char *name;
    int variant;
    const char *sql; /* C0: the collection, C1: REDUCE's initial state */
    bool map;
    int n;
} LAMBDAS[] = {
    {"TRANSFORM", 0, "TRANSFORM(C0, x => x)", false, 1},
    {"TRANSFORM", 0, "TRANSFORM(C0, x => x IS NULL)", false, 1},
    {"TRANSFORM", 1, "TRANSFORM(C0, (k, v) => k, (k, v) => v)", true, 1},
    {"TRANSFORM", 1, "TRANSFORM(C0, (k, v) => v, (k, v) => k)", true, 1},
    {"FILTER", 0, "FILTER(C0, x => x IS NOT NULL)", false, 1},
    {"FILTER", 1, "FILTER(C0, (k, v) => v IS NULL)", true, 1},
    {"REDUCE", 0, "REDUCE(C0, C1, (s, x) => COALESCE(x, s))", false, 2},
    {"REDUCE", 1, "REDUCE(C0, C1, (s, k, v) => COALESCE(v, s))", true, 2},
};

Test(builtin, every_function_and_signature_takes_hostile_values, .timeout = 600)
{
    const wr_fn_desc *const *fns;
    int nf = wr_fn_list(F, &fns);
    cr_assert_gt(nf, 80, "the registry has the built-ins");
    gen g = {.s = 0x5EED2027u};
    int calls = 0;
    for (int fi = 0; fi < nf; fi++) {
        const wr_fn_desc *f = fns[fi];
        cr_assert(f->flags & WR_FN_BUILTIN, "%s: only built-ins here", f->name);
        if (f->kind == WR_FN_SCALAR && f->eval == NULL)
            continue; /* lambda functions: below */
        wr_sig sigs[16];
        int ns = signatures(f, sigs, 16);
        bool covered[16] = {false};
        for (int si = 0; si < ns; si++) {
            bool first = true;
            for (int k = 0; k < NPOOL + MIXES; k++) {
                g.a = wr_arena_create(0);
                const wr_sql_type *types[MAX_ARGS + 1];
                int n = instantiate(&g, &sigs[si], k, types);
                int variant = -1;
                wr_err err = {0};
                const wr_sql_type *ret = f->resolve(f, g.a, types, n, &variant, &err);
                if (ret != NULL) {
                    cr_assert(variant >= 0 && variant < ns, "%s", f->name);
                    covered[variant] = true;
                    calls++;
                    if (f->kind == WR_FN_SCALAR)
                        scalar(&g, f, types, n, first);
                    else if (f->kind == WR_FN_TABLE)
                        table(&g, f, ret, variant, types, n, first);
                    else
                        aggregate(&g, f, ret, variant, types, n);
                    first = false;
                } else {
                    cr_assert(err.msg[0] != 0, "%s: refused without a message", f->name);
                }
                wr_arena_destroy(g.a);
            }
        }
        for (int si = 0; si < ns; si++)
            cr_assert(covered[si], "%s: signature %d was never exercised", f->name, si + 1);
    }
    bool lcovered[sizeof LAMBDAS / sizeof LAMBDAS[0]] = {false};
    for (size_t li = 0; li < sizeof LAMBDAS / sizeof LAMBDAS[0]; li++) {
        for (int k = 0; k < NPOOL; k++) {
            g.a = wr_arena_create(0);
            const wr_sql_type *types[2];
            wr_sql_type *coll = wr_arena_calloc(g.a, 1, sizeof *coll);
            coll->kind = LAMBDAS[li].map ? WR_T_MAP : WR_T_ARRAY;
            coll->elem = POOL[k];
            coll->key = LAMBDAS[li].map ? wr_type_of(WR_T_STRING) : NULL;
            types[0] = coll;
            types[1] = POOL[k];
            wr_scope sc;
            const wr_cexpr *e =
                analyze(g.a, call_text(g.a, LAMBDAS[li].sql, 0, true), types, LAMBDAS[li].n, &sc);
            if (e != NULL) {
                lcovered[li] = true;
                calls++;
                run_rows(&g,
                         wr_arena_printf(g.a, "%s over %s", LAMBDAS[li].sql,
                                         wr_fn_type_list(g.a, types, LAMBDAS[li].n)),
                         e, &sc, k == 0);
            }
            wr_arena_destroy(g.a);
        }
        cr_assert(lcovered[li], "%s was never exercised", LAMBDAS[li].sql);
    }
    for (int fi = 0; fi < nf; fi++) /* every lambda function is among them */
        if (fns[fi]->kind == WR_FN_SCALAR && fns[fi]->eval == NULL) {
            bool found = false;
            for (size_t li = 0; li < sizeof LAMBDAS / sizeof LAMBDAS[0]; li++)
                found |= strcmp(LAMBDAS[li].name, fns[fi]->name) == 0;
            cr_assert(found, "%s: a lambda function the test does not call", fns[fi]->name);
        }
    cr_log_info("%d instantiations called, %u", calls, touched);
}
