/*
 * value.h - how SQL values live in memory: single values (wr_val: literals, nested elements,
 * function arguments) and column vectors (wr_vec: a batch's columns).
 *
 * Representation, by kind (wr_tkind of grammar/ast.h):
 *   BOOLEAN    b
 *   INT        i32
 *   BIGINT     i64
 *   DOUBLE     f64
 *   DECIMAL    dec: the unscaled value as a 128-bit integer; precision and scale are the type's
 *   STRING     s: bytes (UTF-8, not NUL-terminated) and length
 *   BYTES      s
 *   TIMESTAMP  i64: milliseconds since the epoch, UTC
 *   DATE       i32: days since the epoch
 *   TIME       i32: milliseconds since midnight
 *   ARRAY      arr: n elements, contiguous
 *   MAP        map: n keys and n values, contiguous, in insertion order, keys unique
 *   STRUCT     st: type->nfields fields, in the type's order
 *
 * Memory: a value never owns anything. Strings, elements and fields point into an arena (the
 * batch's, or a query's for constants) or into input bytes that outlive the value. Whoever
 * makes a new value allocates its parts in the arena it was given.
 */
#ifndef WR_RUNTIME_VALUE_H
#define WR_RUNTIME_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "grammar/ast.h"
#include "src/base/arena.h"
#include "src/base/buf.h"

__extension__ typedef __int128 wr_i128;
__extension__ typedef unsigned __int128 wr_u128;

typedef struct wr_str {
    const char *p;
    int32_t len;
} wr_str;

typedef struct wr_val wr_val;

struct wr_val {
    const wr_sql_type *type; /* NULL only for an untyped NULL literal */
    bool null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        double f64;
        wr_i128 dec;
        wr_str s;
        struct {
            int32_t n;
            wr_val *v;
        } arr;
        struct {
            int32_t n;
            wr_val *k, *v;
        } map;
        struct {
            wr_val *f;
        } st;
    } u;
};

/* A column: one value per row of a batch. Primitive kinds use the typed array of their
   representation above; ARRAY, MAP and STRUCT use val. null[i] != 0 marks row i null (its
   slot in the typed array is then unspecified). */
typedef struct wr_vec {
    const wr_sql_type *type;
    uint8_t *null;
    union {
        bool *b;
        int32_t *i32;
        int64_t *i64;
        double *f64;
        wr_i128 *dec;
        wr_str *s;
        wr_val *val;
    } d;
} wr_vec;

/* ---- building values --------------------------------------------------------------------- */

static inline wr_val
wr_val_null(const wr_sql_type *t)
{
    wr_val v = {.type = t, .null = true};
    return v;
}

wr_val wr_val_bool(bool b);
wr_val wr_val_int(int32_t i);
wr_val wr_val_bigint(int64_t i);
wr_val wr_val_double(double d);
wr_val wr_val_timestamp(int64_t ms);
wr_val wr_val_date(int32_t days);
wr_val wr_val_time(int32_t ms);
/* The string's bytes are referenced, not copied. */
wr_val wr_val_string(const char *p, int32_t len);
wr_val wr_val_bytes(const char *p, int32_t len);
wr_val wr_val_decimal(const wr_sql_type *t, wr_i128 unscaled);
/* A copy of s (len bytes) in a; a null STRING value when a is out of memory. */
wr_val wr_val_string_copy(wr_arena *a, const char *s, int32_t len);

/* A number (INT, BIGINT, DECIMAL, DOUBLE) as a double. */
double wr_val_as_double(const wr_val *x);
/* A NUL-terminated copy of a STRING or BYTES value in a (NULL when out of memory). */
char *wr_val_cstr(wr_arena *a, const wr_val *x);

/* ---- vectors ---------------------------------------------------------------------------- */

/* Allocates the null mask and data array of n rows in a (zeroed: every row non-null, 0). */
int wr_vec_alloc(wr_vec *v, const wr_sql_type *t, int32_t n, wr_arena *a);
/* Row i of v as a value (strings and nested parts are shared, not copied). */
wr_val wr_vec_get(const wr_vec *v, int32_t i);
/* Stores x (of v's type, or NULL) at row i. */
void wr_vec_set(wr_vec *v, int32_t i, const wr_val *x);

/* ---- comparing and printing ------------------------------------------------------------- */

/* Three-way comparison of two non-null values of the same kind (numbers of different kinds
   compare by value, DECIMALs of any precision and scale exactly). Strings compare bytewise.
   Values of kinds with no common type are ordered by kind and never equal. Returns <0, 0, >0. */
int wr_val_cmp(const wr_val *x, const wr_val *y);
bool wr_val_equal(const wr_val *x, const wr_val *y);

/* 10^n for 0 <= n <= 38. */
wr_i128 wr_decimal_pow10(int n);

/* DECIMAL text: unscaled 12345 at scale 2 prints "123.45"; scale 0 prints no point. */
void wr_decimal_format(wr_buf *b, wr_i128 unscaled, int scale);
/* Parses "-12.5" into unscaled at scale (rounding half up); WR_ERANGE when it needs more than
   precision digits, WR_EINVAL when it is not a number. */
int wr_decimal_parse(const char *s, size_t len, int precision, int scale, wr_i128 *out);

/* A double as ksqlDB/Java print it: shortest text that reads back the same ("0.1", "1.0E10",
   "NaN", "Infinity"). */
void wr_double_format(wr_buf *b, double d);

/* The value as CAST(x AS STRING) gives it ("null" is not produced: callers handle null). */
void wr_val_to_string(wr_buf *b, const wr_val *x);

#endif
