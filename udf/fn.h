/*
 * fn.h - the function registry: built-in functions and user-defined ones loaded from shared
 * objects (udf/loader.c adapts a library's weir_udf.h functions into these descriptors), one
 * registry for both: SHOW FUNCTIONS and DESCRIBE FUNCTION cannot tell them apart.
 *
 * A function is one descriptor per name. Its resolve() picks the overload for the argument
 * types the analyzer found (coercing where ksqlDB would: INT where BIGINT is wanted, ...) and
 * returns the result type; its eval() computes one row. The runtime calls eval() once per row
 * of a batch with the argument values of that row.
 *
 * Null handling: with WR_FN_NULL_IN_NULL_OUT the runtime does not call eval() for a row where
 * any argument is null and yields null. Without it, eval() sees null arguments (COALESCE,
 * IFNULL, CONCAT, ...).
 *
 * Errors: a function never aborts a query. Bad input for one row (a malformed date pattern, an
 * index out of range where ksqlDB returns null, ...) gives a null result; eval() may describe
 * the problem with wr_fn_warn() and the runtime sends it to the processing log.
 */
#ifndef WR_UDF_FN_H
#define WR_UDF_FN_H

#include "runtime/value.h"
#include "src/base/err.h"

/* The largest STRING or BYTES a function may return (the row codec's limit on one value, so
   every result can go into a state store and a repartition topic): a row whose result would be
   larger fails, with a processing-log record. */
#define WR_FN_MAX_BYTES (1 << 24)

typedef enum wr_fn_kind {
    WR_FN_SCALAR,
    WR_FN_TABLE,     /* one input row gives 0..n output rows: EXPLODE */
    WR_FN_AGGREGATE, /* many rows give one value per group: COUNT, SUM (typed here; state and
                        execution arrive with the stateful queries) */
} wr_fn_kind;

enum {
    WR_FN_NULL_IN_NULL_OUT = 1 << 0,
    WR_FN_NONDETERMINISTIC = 1 << 1, /* RANDOM, NOW-like: never folded as constants */
    WR_FN_BUILTIN = 1 << 2,          /* weir's own (udf/builtin.c): no library replaces it */
};

/* Rows a function could not compute, each with its message (allocated in the batch's arena):
   the caller sends each to the processing log with the row's offset. */
typedef struct wr_fn_errs {
    int32_t n, cap;
    int32_t *rows;
    const char **msgs;
} wr_fn_errs;

typedef struct wr_fn_ctx {
    wr_arena *arena;        /* results' strings, arrays, maps live here */
    const wr_sql_type *ret; /* the result type resolve() chose */
    int variant;            /* the overload resolve() chose */
    void *state;            /* from init(): a compiled pattern, a parsed format, ... */
    char warning[160];      /* set by wr_fn_warn; read and cleared by the runtime */
    int nargs;              /* the call's argument types (after coercion) */
    const wr_sql_type *const *args;
    const struct wr_fn_desc *fn; /* the function called */
    wr_fn_errs *errs;            /* where per-row errors go (NULL: the warning only) */
} wr_fn_ctx;

/*
 * Chooses the overload of function self for argument types args[0..n) (a NULL entry: an untyped
 * NULL literal). Returns the result type (allocated in a when composite) and sets *variant, or
 * returns NULL with err set to a message naming the function and the types given, e.g. "function
 * SUBSTRING does not accept (INTEGER, STRING); it takes (STRING, INTEGER[, INTEGER])".
 */
typedef struct wr_fn_desc wr_fn_desc;
typedef const wr_sql_type *(*wr_fn_resolve_fn)(const wr_fn_desc *self,
                                               wr_arena *a,
                                               const wr_sql_type *const *args,
                                               int n,
                                               int *variant,
                                               wr_err *err);

/* One row: args[0..n) (already coerced to the types the overload takes) -> *out. */
typedef void (*wr_fn_eval_fn)(wr_fn_ctx *ctx, const wr_val *args, int n, wr_val *out);

/* A table function's row: the output rows go to out[0..*nout), at most cap of them; when more
   are needed, set *nout to the number needed and return without writing (called again with a
   larger cap). */
typedef void (*wr_fn_table_fn)(
    wr_fn_ctx *ctx, const wr_val *args, int n, wr_val *out, int cap, int *nout);

/* Optional vector form of eval: rows sel[0..nsel) of out from the argument vectors (null rows
   included: the function handles WR_FN_NULL_IN_NULL_OUT itself). */
typedef void (*wr_fn_vec_fn)(
    wr_fn_ctx *ctx, const wr_vec *args, int n, const int32_t *sel, int32_t nsel, wr_vec *out);

/* Optional: after resolve(), the type argument i is coerced to (NULL: as it is). */
typedef const wr_sql_type *(*wr_fn_param_fn)(
    const wr_fn_desc *self, wr_arena *a, const wr_sql_type *const *args, int n, int variant, int i);

/* Optional: called once per call site, with the values of constant arguments (NULL entries for
   arguments that are not constant), to precompute state. Returns WR_OK or an error that the
   analyzer reports for the statement ("invalid pattern ..."). */
typedef int (*wr_fn_init_fn)(wr_fn_ctx *ctx, const wr_val *const *consts, int n, wr_err *err);
typedef void (*wr_fn_fini_fn)(void *state);

struct wr_fn_desc {
    const char *name; /* upper case */
    wr_fn_kind kind;
    unsigned flags;
    const char *category;    /* "STRING", "MATHEMATICAL", "DATE / TIME", "ARRAY", "MAP", ... */
    const char *description; /* one sentence, for DESCRIBE FUNCTION */
    const char *signatures;  /* one overload a line: "SUBSTRING(STRING, INT[, INT]) -> STRING" */
    wr_fn_resolve_fn resolve;
    wr_fn_eval_fn eval;   /* WR_FN_SCALAR */
    wr_fn_table_fn table; /* WR_FN_TABLE */
    wr_fn_init_fn init;   /* optional */
    wr_fn_fini_fn fini;   /* optional */
    const void *data;     /* the implementation's own description (overload tables) */
    wr_fn_vec_fn veval;   /* optional: WR_FN_SCALAR a vector at a time */
    wr_fn_param_fn param; /* optional */
    /* DESCRIBE FUNCTION: who wrote it, its version, where it came from (a built-in: "weir",
       weir's version, "internal") */
    const char *author, *version, *path;
    /* WR_FN_AGGREGATE from a library: its UDAF (udf/loader.c); NULL for a built-in, which
       runtime/agg.c computes natively */
    const struct wr_udaf *udaf;
};

/* An aggregate function from a library (WR_FN_AGGREGATE with udaf set): its state is a value
   of state(variant), kept by weir in the aggregation's store; c carries the call's variant,
   argument and return types and the arena states and results are allocated in. args: the
   aggregated column's value, then the call's constant arguments. */
struct wr_udaf {
    const wr_sql_type *(*state)(const wr_fn_desc *f, int variant);
    bool (*can_undo)(const wr_fn_desc *f, int variant);
    bool (*can_merge)(const wr_fn_desc *f, int variant);
    void (*init)(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state);
    void (*add)(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state, const wr_val *args, int n);
    void (*undo)(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state, const wr_val *args, int n);
    void (*merge)(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *into, const wr_val *from);
    void (*result)(const wr_fn_desc *f, wr_fn_ctx *c, const wr_val *state, wr_val *out);
};

typedef struct wr_fn_registry wr_fn_registry;

wr_fn_registry *wr_fn_registry_create(void);
void wr_fn_registry_destroy(wr_fn_registry *r);
/* Adds d (kept by reference: static storage or owned by a loaded library). WR_EEXIST when the
   name is taken. */
int wr_fn_register(wr_fn_registry *r, const wr_fn_desc *d, wr_err *err);
/* Puts d in the place of the function of the same name (new lookups find d; whoever holds the
   old descriptor keeps using it). WR_ENOENT when there is none. */
int wr_fn_replace(wr_fn_registry *r, const wr_fn_desc *d, wr_err *err);
/* Takes arena a, destroyed with r: the descriptors registered into r that no loader owns (the
   built-in library's). */
int wr_fn_registry_adopt(wr_fn_registry *r, wr_arena *a);
/* Case-insensitive lookup; NULL when unknown. */
const wr_fn_desc *wr_fn_lookup(const wr_fn_registry *r, const char *name);
/* The descriptors in name order (for SHOW FUNCTIONS): returns the count, *out borrowed. */
int wr_fn_list(const wr_fn_registry *r, const wr_fn_desc *const **out);

/* Registers every built-in function (udf/builtin.c, an in-binary library of the UDF ABI
   registered through udf/loader.c). */
int wr_fn_register_builtins(wr_fn_registry *r, wr_err *err);

/* Types as SQL text, "STRING, ARRAY<INT>" (a NULL entry: an untyped NULL, "NULL"), in a; for
   messages about a call's arguments. */
const char *wr_fn_type_list(wr_arena *a, const wr_sql_type *const *types, int n);

/* Records a warning for the current row (printf-style, truncated). */
void wr_fn_warn(wr_fn_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
