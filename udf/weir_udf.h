/*
 * weir_udf.h - the C ABI of weir's user-defined functions, version 1.
 *
 * A UDF library is a shared object that exports two symbols:
 *
 *     WEIR_UDF_LIBRARY                       (defines weir_udf_abi(): magic and ABI version)
 *     int weir_udf_init(const weir_host *host, weir_registry *registry);
 *
 * weir loads it at start-up from its extension directory (`ksql.extension.dir`: every *.so
 * there, in name order), or when a statement names it (CREATE FUNCTIONS FROM '<path>', kept in
 * the catalog and run again on a restart), and only from directories on its allowlist
 * (`weir.udf.allowlist`, default: the extension directory) whose files no other user can
 * write. It checks the ABI tag, then calls weir_udf_init once; init registers functions with
 * host->register_function and returns 0 (anything else: the library is refused). A library
 * with the wrong ABI version, without one of the symbols, whose function is named like a
 * built-in, or whose signature names an unknown type is refused with a message in the log and
 * in the statement's error; weir goes on with the rest.
 *
 * A function has a name, a description, an author and a version (shown by DESCRIBE FUNCTION),
 * and one or more signatures. A signature's parameter and return types are SQL type text:
 * "STRING", "DECIMAL(10, 2)", "ARRAY<BIGINT>", "MAP<STRING, DOUBLE>", "STRUCT<A INT, B STRING>".
 * A single capital letter (T, K, V, ...) is a type variable bound by the arguments ("ARRAY<T>"
 * takes any array; a return type "T" is its element type), and a last parameter written "T..."
 * or "INT..." is variadic. Arguments are coerced to the parameter types the way ksqlDB widens
 * numbers (INT -> BIGINT -> DECIMAL -> DOUBLE); a type variable met by several arguments
 * takes their common type ("T, T" accepts (INT, DOUBLE) as (DOUBLE, DOUBLE)), and arguments
 * without one are refused ("the arguments for T must have a common type"). "DECIMAL" without
 * precision and scale is any DECIMAL: within one signature every bare DECIMAL is the same type
 * (like a type variable that only DECIMALs bind; INT and BIGINT coerce to it), so "DECIMAL" ->
 * "DECIMAL" returns the argument's precision and scale. A return type the parameters do not
 * decide comes from the signature's returns_fn.
 *
 * weir's own functions (ABS, SUBSTRING, EXPLODE, COUNT, ...) are written against this header
 * too (udf/builtin.c): an in-binary library registered through the same host table and checks,
 * so SHOW FUNCTIONS and DESCRIBE FUNCTION show them as they show a library's (author "weir",
 * weir's version, path "internal"). Two things there are weir's alone: aggregates that weir
 * computes natively (COUNT, SUM, ...: runtime/agg.c, vectorised) and the higher-order functions
 * whose lambdas weir's analyser types and evaluates (TRANSFORM, FILTER, REDUCE, whose signatures
 * write a lambda parameter as "x => U" or "(k, v) => V"). Those set WEIR_NATIVE and declare no
 * calls; a library that registers a function with WEIR_NATIVE or a lambda parameter is refused.
 *
 * Loading a function whose name is already loaded from a library replaces it when its version
 * is newer (dotted numbers, compared number by number): queries that are already running keep
 * the old one, new queries get the new one. The old library stays loaded.
 *
 * Values. The ABI is weir's in-memory column format: weir hands a UDF its own column vectors
 * and values, without copying. A value never owns memory; whatever a function makes (strings,
 * array elements, map entries, struct fields) it allocates with host->alloc, in the arena of the
 * batch being computed, which weir frees with the batch. A result may point into the
 * arguments (they live as long as the batch); a function must not keep pointers to either
 * after it returns. Representation by kind:
 *
 *     BOOLEAN b      INT i32      BIGINT i64      DOUBLE f64
 *     DECIMAL dec    (the unscaled value; precision and scale are the type's)
 *     STRING, BYTES  s (pointer and length; not NUL-terminated)
 *     TIMESTAMP i64 (ms since the epoch, UTC)   DATE i32 (days)   TIME i32 (ms since midnight)
 *     ARRAY arr      MAP map (keys unique)      STRUCT st (one value per field, in order)
 *
 * Nulls: unless a function sets WEIR_CALLED_ON_NULL, weir does not call it for a row where an
 * argument is null, and the result is null (an aggregate skips the row). Errors: a function that
 * cannot compute a row calls host->error; that row's result is null and the message goes to the
 * query's processing log. The query goes on.
 *
 * Safety: UDFs run inside the weir process, on the query's thread, for speed. A UDF that
 * crashes (a bad pointer, an abort, a stack overflow) crashes weir, every query and the broker
 * with it; one that blocks stalls its query. weir does not sandbox UDFs. So treat every argument
 * as hostile: an empty string, array or map may have a NULL pointer (never pass it to memcpy or
 * memcmp), strings need not be valid UTF-8, numbers may be at their extremes (check overflow),
 * and a row that cannot be computed goes to host->error, never to abort(). A result beyond its
 * DECIMAL precision, or a string over 16 MiB, fails its row. Load only code you trust, from
 * directories only trusted users can write.
 *
 * Threads: a function may be called from several threads at once for different queries; a
 * signature's functions must not keep mutable global state without their own locking.
 */
#ifndef WEIR_UDF_H
#define WEIR_UDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_UDF_ABI_VERSION 1u
#define WEIR_UDF_MAGIC       0x57454952u /* "WEIR" */
#define WEIR_UDF_ABI_TAG(v)  (((uint64_t)WEIR_UDF_MAGIC << 32) | (uint64_t)(v))

/* Put this once in a UDF library: it tells weir which ABI the library was built against. */
#define WEIR_UDF_LIBRARY                                               \
    __attribute__((visibility("default"))) uint64_t weir_udf_abi(void) \
    {                                                                  \
        return WEIR_UDF_ABI_TAG(WEIR_UDF_ABI_VERSION);                 \
    }

typedef enum weir_type_kind {
    WEIR_BOOLEAN,
    WEIR_INT,
    WEIR_BIGINT,
    WEIR_DOUBLE,
    WEIR_DECIMAL,
    WEIR_STRING,
    WEIR_BYTES,
    WEIR_TIMESTAMP,
    WEIR_DATE,
    WEIR_TIME,
    WEIR_ARRAY,
    WEIR_MAP,
    WEIR_STRUCT,
} weir_type_kind;

typedef struct weir_type weir_type;         /* opaque: ask the host about it */
typedef struct weir_ctx weir_ctx;           /* opaque: one call site of a function in a query */
typedef struct weir_registry weir_registry; /* opaque: where weir_udf_init registers */

__extension__ typedef __int128 weir_i128;

typedef struct weir_str {
    const char *ptr;
    int32_t len;
} weir_str;

typedef struct weir_value weir_value;
struct weir_value {
    const weir_type *type;
    bool null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        double f64;
        weir_i128 dec;
        weir_str s;
        struct {
            int32_t n;
            weir_value *v;
        } arr;
        struct {
            int32_t n;
            weir_value *k, *v;
        } map;
        struct {
            weir_value *f;
        } st;
    } u;
};

/* A column of a batch: row i is null when null[i] != 0; otherwise its value is in the typed
   array of the column's kind (ARRAY, MAP and STRUCT columns use val). */
typedef struct weir_column {
    const weir_type *type;
    uint8_t *null;
    union {
        bool *b;
        int32_t *i32;
        int64_t *i64;
        double *f64;
        weir_i128 *dec;
        weir_str *s;
        weir_value *val;
    } d;
} weir_column;

typedef enum weir_function_kind {
    WEIR_SCALAR,
    WEIR_AGGREGATE,
    WEIR_TABLE,
} weir_function_kind;

enum {
    WEIR_CALLED_ON_NULL = 1u << 0,   /* called for rows with null arguments too */
    WEIR_NONDETERMINISTIC = 1u << 1, /* never folded as a constant (RANDOM-like) */
    /* weir's own implementation, not the signatures' calls (built-in aggregates computed by
       runtime/agg.c, functions whose lambdas the analyser evaluates): only weir's in-binary
       library may set it; a shared object that does is refused. */
    WEIR_NATIVE = 1u << 2,
};

/*
 * A scalar function, vector form: computes rows[0..n) of out from the argument columns (out's
 * other rows are not to be touched). Set out->null[row] = 1 for a null result, else write the
 * value into out's typed array.
 */
typedef void (*weir_scalar_fn)(weir_ctx *ctx,
                               const weir_column *args,
                               int nargs,
                               const int32_t *rows,
                               int32_t n,
                               weir_column *out);

/* A scalar function, one row at a time (weir loops): *out arrives as a null of the return
   type; set out->null = false and the value. */
typedef void (*weir_scalar_row_fn)(weir_ctx *ctx,
                                   const weir_value *args,
                                   int nargs,
                                   weir_value *out);

/* A table function: the rows one input row gives, into out[0..cap). Returns how many; when that
   is more than cap, nothing is written and weir calls again with room for them. */
typedef int (*weir_table_fn)(
    weir_ctx *ctx, const weir_value *args, int nargs, weir_value *out, int cap);

/*
 * An aggregate function (UDAF). Its state is a value of the SQL type `state`, which weir keeps
 * in the query's state store (RocksDB, with a changelog) between records and across restarts;
 * "BYTES" lets a UDAF keep an opaque state it encodes itself. The first argument is the
 * aggregated column; any further arguments must be constants (passed on every call).
 *   init:       *state arrives null; make the empty state;
 *   accumulate: a row joins the group;
 *   undo:       a row leaves it (aggregations over tables); NULL when the UDAF cannot undo
 *               (then it is refused over tables);
 *   merge:      two session windows become one: fold *from into *into; NULL: not usable with
 *               WINDOW SESSION;
 *   finalize:   the result (of the signature's return type) from the state.
 * State parts are allocated with host->alloc like any value.
 */
typedef struct weir_aggregate {
    const char *state;
    void (*init)(weir_ctx *ctx, weir_value *state);
    void (*accumulate)(weir_ctx *ctx, weir_value *state, const weir_value *args, int nargs);
    void (*undo)(weir_ctx *ctx, weir_value *state, const weir_value *args, int nargs);
    void (*merge)(weir_ctx *ctx, weir_value *into, const weir_value *from);
    void (*finalize)(weir_ctx *ctx, const weir_value *state, weir_value *out);
} weir_aggregate;

/* The return type of a call from its argument types, as SQL type text written into buf (at
   most cap bytes with the NUL); returns 0, or -1 when the arguments are not acceptable (then
   buf may hold a message). For signatures whose return type the parameters do not decide. */
typedef int (*weir_returns_fn)(const weir_type *const *args, int nargs, char *buf, size_t cap);

typedef struct weir_signature {
    const char *params;         /* "STRING, INT"; "" for none; a last "X..." is variadic */
    const char *returns;        /* "STRING", "ARRAY<T>"; NULL: returns_fn decides */
    weir_returns_fn returns_fn; /* optional */
    weir_scalar_fn eval;        /* WEIR_SCALAR: eval or eval_row */
    weir_scalar_row_fn eval_row;
    weir_table_fn table;             /* WEIR_TABLE */
    const weir_aggregate *aggregate; /* WEIR_AGGREGATE */
    const char *description;         /* optional: this signature's own */
} weir_signature;

typedef struct weir_function {
    uint32_t size; /* sizeof(weir_function) as the library saw it */
    const char *name;
    const char *description;
    const char *author;
    const char *version; /* "1.0.0" */
    weir_function_kind kind;
    unsigned flags;
    int nsignatures;
    const weir_signature *signatures;
    /* Members after this point were appended to ABI version 1; weir reads one only when size
       covers it, so a library built against an older weir_udf.h still loads. */
    /* SHOW FUNCTIONS' category ("STRING", "MATHEMATICAL", "DATE / TIME", ...), as ksqlDB's
       @UdfDescription has one; NULL: "OTHER" ("AGGREGATE", "TABLE" for those kinds). */
    const char *category;
    /*
     * Optional, scalar functions: called once for each call of the function in a statement,
     * when weir plans it, with the values of the call's constant arguments (consts[i] is NULL
     * for an argument that is not a constant; host->nargs, arg_type and return_type answer for
     * ctx). It may precompute a state from them into *state (a compiled pattern), which every
     * row of that call then gets from host->prepared(ctx), and it may refuse a bad constant:
     * return -1 with a message in msg (cap bytes with the NUL), and the statement fails with
     * "NAME: msg". Returns 0 otherwise.
     */
    int (*prepare)(weir_ctx *ctx,
                   const weir_value *const *consts,
                   int nargs,
                   void **state,
                   char *msg,
                   size_t cap);
    /* Optional: frees what prepare put in *state, when the statement's query is gone. */
    void (*release)(void *state);
} weir_function;

/* What weir gives a library. Later ABI versions only append members (check size). */
typedef struct weir_host {
    uint32_t abi_version;
    uint32_t size;
    /* Registers f (kept by reference: static storage of the library). Returns 0, or -1 with the
       reason in the log (the library is then refused). */
    int (*register_function)(weir_registry *registry, const weir_function *f);
    /* n bytes in the arena of the batch being computed, freed with it; NULL when out of memory
       (then report an error for the row). */
    void *(*alloc)(weir_ctx *ctx, size_t n);
    /* This row cannot be computed: its result is null and msg goes to the processing log. Row:
       the row index in vector form, ignored otherwise. */
    void (*error)(weir_ctx *ctx, int32_t row, const char *msg);
    /* A line in weir's log, tagged with the library: level 0 debug, 1 info, 2 warn, 3 error. */
    void (*log)(int level, const char *msg);
    /* The call site's argument and return types (constant for a ctx). */
    int (*nargs)(weir_ctx *ctx);
    const weir_type *(*arg_type)(weir_ctx *ctx, int i);
    const weir_type *(*return_type)(weir_ctx *ctx);
    /* Types. */
    weir_type_kind (*type_kind)(const weir_type *t);
    const weir_type *(*type_elem)(const weir_type *t); /* ARRAY element, MAP value */
    const weir_type *(*type_key)(const weir_type *t);  /* MAP key */
    int (*type_nfields)(const weir_type *t);
    const char *(*type_field)(const weir_type *t, int i, const weir_type **field_type);
    void (*type_decimal)(const weir_type *t, int *precision, int *scale);
    /* The type as SQL text into buf (cap bytes with the NUL). */
    void (*type_text)(const weir_type *t, char *buf, size_t cap);
    /* Appended to ABI version 1 (check size before calling): the state the function's prepare
       made for this call, or NULL (no prepare, nothing prepared, or a constant was missing). */
    void *(*prepared)(weir_ctx *ctx);
} weir_host;

/* What a library exports (visible even when it builds with -fvisibility=hidden). */
#define WEIR_UDF_EXPORT __attribute__((visibility("default")))
WEIR_UDF_EXPORT uint64_t weir_udf_abi(void);
WEIR_UDF_EXPORT int weir_udf_init(const weir_host *host, weir_registry *registry);

#endif
