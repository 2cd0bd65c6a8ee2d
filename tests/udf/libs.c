/*
 * libs.c - UDF libraries for the loader's tests, one per -D flag (tests/udf/meson.build):
 *   GOOD_V2    REVERSE_WORDS 2.0.0 (upper-cases too): replaces the example's 1.0.0
 *   OLDER      REVERSE_WORDS 0.9.0: refused, not newer than the loaded one
 *   BAD_ABI    built for ABI version 99
 *   NO_INIT    no weir_udf_init
 *   NO_ABI     no weir_udf_abi
 *   BUILTIN    a function named ABS
 *   BAD_TYPE   a signature with an unknown type
 *   NATIVE     a function flagged WEIR_NATIVE (weir's own functions only)
 *   LAMBDA     a signature with a lambda parameter (weir's own functions only)
 *   LEAKY      LEAKY_UPPER(STRING): allocates its result per row (the ASan test)
 *   TRIVIAL    MY_ABS(BIGINT) in the vector form and MY_ABS_ROW(BIGINT) in the row form: the
 *              call overhead against the built-in ABS (bench/sql_stateless)
 */
#include <ctype.h>
#include <string.h>

#include "weir_udf.h"

#ifndef NO_ABI
#    ifdef BAD_ABI
uint64_t
weir_udf_abi(void)
{
    return WEIR_UDF_ABI_TAG(99);
}
#    else
WEIR_UDF_LIBRARY
#    endif
#endif

static const weir_host *host;

static void
upper_words(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out)
{
    (void)nargs;
    weir_str s = args[0].u.s;
    char *p = host->alloc(ctx, (size_t)s.len + 1);
    if (p == NULL) {
        host->error(ctx, -1, "out of memory");
        return;
    }
    for (int32_t i = 0; i < s.len; i++)
        p[i] = (char)toupper((unsigned char)s.ptr[i]);
    out->null = false;
    out->u.s = (weir_str){p, s.len};
}

#if defined(GOOD_V2) || defined(OLDER)
#    define NAME "REVERSE_WORDS"
#elif defined(BUILTIN)
#    define NAME "ABS"
#elif defined(LEAKY)
#    define NAME "LEAKY_UPPER"
#else
#    define NAME "TEST_FN"
#endif

static const weir_signature sigs[] = {
#ifdef BAD_TYPE
    {.params = "STRING, FOO", .returns = "STRING", .eval_row = upper_words},
#elif defined(LAMBDA)
    {.params = "ARRAY<T>, x => U", .returns = "ARRAY<U>", .eval_row = upper_words},
#else
    {.params = "STRING", .returns = "STRING", .eval_row = upper_words},
#endif
};

static const weir_function fn = {
    .size = sizeof(weir_function),
    .name = NAME,
    .description = "Upper case (a test library).",
    .author = "weir tests",
#ifdef GOOD_V2
    .version = "2.0.0",
#elif defined(OLDER)
    .version = "0.9.0",
#else
    .version = "1.0.0",
#endif
    .kind = WEIR_SCALAR,
#ifdef NATIVE
    .flags = WEIR_NATIVE,
#endif
    .nsignatures = 1,
    .signatures = sigs,
};

#ifdef TRIVIAL
static void
my_abs(weir_ctx *ctx,
       const weir_column *args,
       int nargs,
       const int32_t *rows,
       int32_t n,
       weir_column *out)
{
    (void)ctx;
    (void)nargs;
    const int64_t *x = args[0].d.i64;
    for (int32_t k = 0; k < n; k++)
        out->d.i64[rows[k]] = x[rows[k]] < 0 ? -x[rows[k]] : x[rows[k]];
}

static void
my_abs_row(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out)
{
    (void)ctx;
    (void)nargs;
    out->null = false;
    out->u.i64 = args[0].u.i64 < 0 ? -args[0].u.i64 : args[0].u.i64;
}

static const weir_signature abs_sig[] = {{.params = "BIGINT", .returns = "BIGINT", .eval = my_abs}};
static const weir_signature abs_row_sig[] = {
    {.params = "BIGINT", .returns = "BIGINT", .eval_row = my_abs_row}};
static const weir_function abs_fns[] = {
    {.size = sizeof(weir_function),
     .name = "MY_ABS",
     .description = "ABS, vector form.",
     .author = "weir tests",
     .version = "1.0.0",
     .kind = WEIR_SCALAR,
     .nsignatures = 1,
     .signatures = abs_sig},
    {.size = sizeof(weir_function),
     .name = "MY_ABS_ROW",
     .description = "ABS, row form.",
     .author = "weir tests",
     .version = "1.0.0",
     .kind = WEIR_SCALAR,
     .nsignatures = 1,
     .signatures = abs_row_sig},
};

int
weir_udf_init(const weir_host *h, weir_registry *registry)
{
    host = h;
    (void)fn;
    return h->register_function(registry, &abs_fns[0]) |
           h->register_function(registry, &abs_fns[1]);
}
#elif defined(NO_INIT)
const weir_function *weir_test_fn(void);
WEIR_UDF_EXPORT const weir_function *
weir_test_fn(void) /* keeps fn used */
{
    return &fn;
}
#else
int
weir_udf_init(const weir_host *h, weir_registry *registry)
{
    host = h;
    return h->register_function(registry, &fn);
}
#endif
