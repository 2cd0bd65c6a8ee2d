/*
 * example.c - an example weir UDF library: one function of each kind, in both scalar forms.
 *
 *   MULTIPLY(BIGINT, BIGINT) -> BIGINT, MULTIPLY(DOUBLE, DOUBLE) -> DOUBLE
 *       scalar, vector form: a whole column at a time
 *   REVERSE_WORDS(STRING) -> STRING
 *       scalar, one row at a time; allocates its result in the batch's arena
 *   SAFE_DIV(BIGINT, BIGINT) -> BIGINT
 *       scalar; a zero divisor is an error for that row (null, and a processing-log entry)
 *   FIRST_NON_NULL(T...) -> T
 *       generic and variadic, called on nulls
 *   GEOMEAN(DOUBLE) -> DOUBLE
 *       aggregate: the geometric mean of the positive values; its state is a STRUCT weir keeps
 *       in its state store; with undo (over tables) and merge (session windows)
 *   SPLIT_WORDS(STRING) -> STRING rows, SPLIT_WORDS(STRING, BIGINT) -> STRING rows
 *       table function: one row per word (at most the second argument's number of them)
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "weir_udf.h"

WEIR_UDF_LIBRARY

static const weir_host *host;

/* ---- MULTIPLY: vector form ------------------------------------------------------------------ */

static void
multiply_bigint(weir_ctx *ctx,
                const weir_column *args,
                int nargs,
                const int32_t *rows,
                int32_t n,
                weir_column *out)
{
    (void)ctx;
    (void)nargs;
    const int64_t *x = args[0].d.i64, *y = args[1].d.i64;
    for (int32_t k = 0; k < n; k++) { /* weir passes only rows without nulls */
        int32_t r = rows[k];
        out->d.i64[r] = x[r] * y[r];
    }
}

static void
multiply_double(weir_ctx *ctx,
                const weir_column *args,
                int nargs,
                const int32_t *rows,
                int32_t n,
                weir_column *out)
{
    (void)ctx;
    (void)nargs;
    for (int32_t k = 0; k < n; k++) {
        int32_t r = rows[k];
        out->d.f64[r] = args[0].d.f64[r] * args[1].d.f64[r];
    }
}

static const weir_signature multiply_sigs[] = {
    {.params = "BIGINT, BIGINT", .returns = "BIGINT", .eval = multiply_bigint},
    {.params = "DOUBLE, DOUBLE", .returns = "DOUBLE", .eval = multiply_double},
};

static const weir_function multiply = {
    .size = sizeof(weir_function),
    .name = "MULTIPLY",
    .description = "The product of two numbers.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_SCALAR,
    .nsignatures = 2,
    .signatures = multiply_sigs,
};

/* ---- REVERSE_WORDS: row form, allocating ------------------------------------------------- */

static void
reverse_words(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out)
{
    (void)nargs;
    weir_str s = args[0].u.s;
    char *p = host->alloc(ctx, (size_t)s.len + 1);
    if (p == NULL) {
        host->error(ctx, -1, "out of memory");
        return;
    }
    /* words in reverse order, single spaces between them */
    int32_t n = 0, end = s.len;
    while (end > 0) {
        while (end > 0 && s.ptr[end - 1] == ' ')
            end--;
        int32_t start = end;
        while (start > 0 && s.ptr[start - 1] != ' ')
            start--;
        if (end > start) {
            if (n > 0)
                p[n++] = ' ';
            memcpy(p + n, s.ptr + start, (size_t)(end - start));
            n += end - start;
        }
        end = start;
    }
    out->null = false;
    out->u.s = (weir_str){p, n};
}

static const weir_signature reverse_words_sigs[] = {
    {.params = "STRING", .returns = "STRING", .eval_row = reverse_words},
};

static const weir_function reverse_words_fn = {
    .size = sizeof(weir_function),
    .name = "REVERSE_WORDS",
    .description = "The words of a string in reverse order.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_SCALAR,
    .nsignatures = 1,
    .signatures = reverse_words_sigs,
};

/* ---- SAFE_DIV: errors per row ---------------------------------------------------------------- */

static void
safe_div(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out)
{
    (void)nargs;
    if (args[1].u.i64 == 0) {
        host->error(ctx, -1, "division by zero");
        return;
    }
    out->null = false;
    out->u.i64 = args[0].u.i64 / args[1].u.i64;
}

static const weir_signature safe_div_sigs[] = {
    {.params = "BIGINT, BIGINT", .returns = "BIGINT", .eval_row = safe_div},
};

static const weir_function safe_div_fn = {
    .size = sizeof(weir_function),
    .name = "SAFE_DIV",
    .description = "Integer division; a zero divisor is an error for the row.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_SCALAR,
    .nsignatures = 1,
    .signatures = safe_div_sigs,
};

/* ---- FIRST_NON_NULL: generic, variadic, called on nulls ---------------------------------- */

static void
first_non_null(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out)
{
    (void)ctx;
    for (int i = 0; i < nargs; i++)
        if (!args[i].null) {
            *out = args[i];
            return;
        }
}

static const weir_signature first_non_null_sigs[] = {
    {.params = "T...", .returns = "T", .eval_row = first_non_null},
};

static const weir_function first_non_null_fn = {
    .size = sizeof(weir_function),
    .name = "FIRST_NON_NULL",
    .description = "The first of its arguments that is not null.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_SCALAR,
    .flags = WEIR_CALLED_ON_NULL,
    .nsignatures = 1,
    .signatures = first_non_null_sigs,
};

/* ---- GEOMEAN: an aggregate ------------------------------------------------------------------ */

/* The state: STRUCT<LOGSUM DOUBLE, N BIGINT>, the sum of the logarithms and how many. */
static weir_value *
fields(weir_ctx *ctx, weir_value *state)
{
    if (state->null) {
        weir_value *f = host->alloc(ctx, 2 * sizeof *f);
        if (f == NULL)
            return NULL;
        memset(f, 0, 2 * sizeof *f);
        state->null = false;
        state->u.st.f = f;
    }
    return state->u.st.f;
}

static void
geomean_init(weir_ctx *ctx, weir_value *state)
{
    weir_value *f = fields(ctx, state);
    if (f != NULL) {
        f[0].u.f64 = 0;
        f[1].u.i64 = 0;
    }
}

static void
geomean_step(weir_ctx *ctx, weir_value *state, const weir_value *args, int sign)
{
    double x = args[0].u.f64;
    if (!(x > 0))
        return; /* the mean of the positive values */
    weir_value *f = fields(ctx, state);
    if (f == NULL)
        return;
    f[0].u.f64 += sign * log(x);
    f[1].u.i64 += sign;
}

static void
geomean_add(weir_ctx *ctx, weir_value *state, const weir_value *args, int nargs)
{
    (void)nargs;
    geomean_step(ctx, state, args, 1);
}

static void
geomean_undo(weir_ctx *ctx, weir_value *state, const weir_value *args, int nargs)
{
    (void)nargs;
    geomean_step(ctx, state, args, -1);
}

static void
geomean_merge(weir_ctx *ctx, weir_value *into, const weir_value *from)
{
    weir_value *f = fields(ctx, into);
    if (f == NULL || from->null)
        return;
    f[0].u.f64 += from->u.st.f[0].u.f64;
    f[1].u.i64 += from->u.st.f[1].u.i64;
}

static void
geomean_finalize(weir_ctx *ctx, const weir_value *state, weir_value *out)
{
    (void)ctx;
    if (state->null || state->u.st.f[1].u.i64 <= 0)
        return; /* null: no positive value */
    out->null = false;
    out->u.f64 = exp(state->u.st.f[0].u.f64 / (double)state->u.st.f[1].u.i64);
}

static const weir_aggregate geomean_agg = {
    .state = "STRUCT<LOGSUM DOUBLE, N BIGINT>",
    .init = geomean_init,
    .accumulate = geomean_add,
    .undo = geomean_undo,
    .merge = geomean_merge,
    .finalize = geomean_finalize,
};

static const weir_signature geomean_sigs[] = {
    {.params = "DOUBLE", .returns = "DOUBLE", .aggregate = &geomean_agg},
};

static const weir_function geomean = {
    .size = sizeof(weir_function),
    .name = "GEOMEAN",
    .description = "The geometric mean of the positive values.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_AGGREGATE,
    .nsignatures = 1,
    .signatures = geomean_sigs,
};

/* ---- SPLIT_WORDS: a table function ----------------------------------------------------------- */

static int
split_words(weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out, int cap)
{
    (void)ctx;
    weir_str s = args[0].u.s;
    int64_t most = nargs > 1 ? args[1].u.i64 : INT64_MAX; /* the second signature's limit */
    int n = 0;
    for (int32_t i = 0; i < s.len && n < most;) {
        while (i < s.len && s.ptr[i] == ' ')
            i++;
        int32_t start = i;
        while (i < s.len && s.ptr[i] != ' ')
            i++;
        if (i > start) {
            if (n < cap) /* the words point into the argument: no copy needed */
                out[n] = (weir_value){.null = false, .u.s = {s.ptr + start, i - start}};
            n++;
        }
    }
    return n;
}

static const weir_signature split_words_sigs[] = {
    {.params = "STRING", .returns = "STRING", .table = split_words},
    {.params = "STRING, BIGINT", .returns = "STRING", .table = split_words},
};

static const weir_function split_words_fn = {
    .size = sizeof(weir_function),
    .name = "SPLIT_WORDS",
    .description = "One row per word of a string.",
    .author = "weir examples",
    .version = "1.0.0",
    .kind = WEIR_TABLE,
    .nsignatures = 2,
    .signatures = split_words_sigs,
};

int
weir_udf_init(const weir_host *h, weir_registry *registry)
{
    host = h;
    const weir_function *all[] = {&multiply,          &reverse_words_fn, &safe_div_fn,
                                  &first_non_null_fn, &geomean,          &split_words_fn};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (h->register_function(registry, all[i]) != 0)
            return -1;
    h->log(1, "weir example UDFs ready");
    return 0;
}
