/*
 * builtin.c - weir's built-in functions: an in-binary library of the UDF ABI (weir_udf.h).
 *
 * Every function is a weir_function with weir_signatures in the public signature text
 * ("STRING, BIGINT", "ARRAY<T>, U", "T, T..."), implemented with the ABI's call types
 * (weir_scalar_row_fn, weir_scalar_fn, weir_table_fn) and registered by builtin_init through
 * the host's register_function, exactly as a shared object's functions are (udf/loader.c
 * checks and adapts them; wr_udf_register_internal gives them the path "internal"). So the
 * resolution of overloads, the coercion of arguments to the parameters' types, null handling
 * and per-row errors are the loader's, the same for built-ins and UDFs. The bodies see values
 * as weir's own wr_val (the ABI's weir_value has its layout, checked in loader.c) and use
 * weir's helpers (value comparisons, timefmt, jansson). Aggregates are declared here too, as
 * WEIR_NATIVE (computed by runtime/agg.c), and so are TRANSFORM, FILTER and REDUCE, whose
 * lambdas the analyser evaluates. Semantics follow ksqlDB's UDFs; a row that cannot be computed
 * gives null and a processing-log record.
 *
 * Thread locality: none; the host table H is set by builtin_init (the same for every registry)
 * and a regular expression prepared for a call is only read.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "grammar/sql.h"
#include "runtime/timefmt.h"
#include "runtime/types.h"
#include "udf/fn.h"
#include "udf/loader.h"
#include "udf/weir_udf.h"

/* ---- helpers for eval ----------------------------------------------------------------------- */

static void fail(weir_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const weir_host *H; /* weir's host table, from builtin_init */

/* The call's return type (the ABI's weir_type is weir's wr_sql_type). */
#define RET(c) ((const wr_sql_type *)H->return_type(c))

/* size * n zeroed bytes in the batch's arena (NULL when out of memory). */
static void *
zalloc(weir_ctx *c, size_t n, size_t size)
{
    void *p = H->alloc(c, n * size);
    return p != NULL ? memset(p, 0, n * size) : NULL;
}

/* memcmp and memcpy for bytes that may be none at a NULL pointer (an empty string or array
   without data), which the C functions must not be given */
static bool
same_bytes(const char *p, const char *q, int32_t n)
{
    return n <= 0 || memcmp(p, q, (size_t)n) == 0;
}

static void
copy_bytes(void *d, const void *p, size_t n)
{
    if (n > 0)
        memcpy(d, p, n);
}

/* A copy of n bytes at p in the batch's arena (NULL when out of memory). n may be 0, and p then
   NULL: an empty string, array or map may come without data (an empty array from SLICE, a map
   decoded from {}), so nothing is read from p unless there is something to copy. */
static void *
memdup_in(weir_ctx *c, const void *p, size_t n)
{
    void *d = H->alloc(c, n > 0 ? n : 1);
    if (d != NULL)
        copy_bytes(d, p, n);
    return d;
}

/* A copy of string p[0..n) in the batch's arena; null when out of memory. */
static wr_val
str_out(weir_ctx *c, const char *p, int32_t n)
{
    char *d = memdup_in(c, n > 0 ? p : "", n > 0 ? (size_t)n : 1);
    return d != NULL ? wr_val_string(d, n) : wr_val_null(wr_type_of(WR_T_STRING));
}

/* Whether b has grown past what a result may be (WR_FN_MAX_BYTES): the row fails then, before
   a loop that multiplies its input (REPLACE, LPAD, ARRAY_JOIN) runs the process out of
   memory. */
static bool
too_big(weir_ctx *c, const wr_buf *b)
{
    if (b->len <= WR_FN_MAX_BYTES && wr_buf_ok(b))
        return false;
    fail(c, wr_buf_ok(b) ? "its result is larger than %d bytes" : "out of memory (%d)",
         WR_FN_MAX_BYTES);
    return true;
}

/* A STRING value as a NUL-terminated copy in the batch's arena. */
static char *
cstr(weir_ctx *c, const wr_val *x)
{
    char *s = H->alloc(c, (size_t)x->u.s.len + 1);
    if (s != NULL) {
        copy_bytes(s, x->u.s.p, (size_t)x->u.s.len);
        s[x->u.s.len] = 0;
    }
    return s;
}

/* This row cannot be computed: its result is null, the message goes to the processing log. */
static void
fail(weir_ctx *c, const char *fmt, ...)
{
    char m[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    H->error(c, -1, m);
}

static int64_t
as_i64(const wr_val *v)
{
    return v->type->kind == WR_T_INT ? v->u.i32 : v->u.i64;
}

/* Converts x to type t (numbers), for functions whose result is a common type. */
static wr_val
num_to(const wr_val *x, const wr_sql_type *t)
{
    if (x->null)
        return wr_val_null(t);
    switch (t->kind) {
    case WR_T_INT:
        return wr_val_int((int32_t)as_i64(x));
    case WR_T_BIGINT:
        return wr_val_bigint(as_i64(x));
    case WR_T_DOUBLE:
        return wr_val_double(wr_val_as_double(x));
    case WR_T_DECIMAL: {
        wr_i128 u;
        int sx = x->type->kind == WR_T_DECIMAL ? x->type->scale : 0;
        u = x->type->kind == WR_T_DECIMAL ? x->u.dec : (wr_i128)as_i64(x);
        for (int i = sx; i < t->scale; i++)
            u *= 10;
        return wr_val_decimal(t, u);
    }
    default:
        return *x;
    }
}

/* ---- strings -------------------------------------------------------------------------------- */

static void
f_ucase(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = str_out(c, a[0].u.s.p, a[0].u.s.len);
    for (int32_t i = 0; !o->null && i < o->u.s.len; i++)
        ((char *)o->u.s.p)[i] = (char)toupper((unsigned char)o->u.s.p[i]);
}

static void
f_lcase(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = str_out(c, a[0].u.s.p, a[0].u.s.len);
    for (int32_t i = 0; !o->null && i < o->u.s.len; i++)
        ((char *)o->u.s.p)[i] = (char)tolower((unsigned char)o->u.s.p[i]);
}

/* Code points of a UTF-8 string (LEN counts characters, as Java's length does for BMP text). */
static int32_t
u8len(const char *p, int32_t n)
{
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

/* Byte offset of code point index ci (clamped to the end). */
static int32_t
u8off(const char *p, int32_t n, int32_t ci)
{
    int32_t i = 0, k = 0;
    while (i < n && k < ci) {
        i++;
        while (i < n && ((unsigned char)p[i] & 0xC0) == 0x80)
            i++;
        k++;
    }
    return i;
}

static void
f_len(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    *o = wr_val_int(u8len(a[0].u.s.p, a[0].u.s.len));
}

/* SUBSTRING(s, pos[, len]): 1-based; a negative pos counts from the end (ksqlDB). */
static void
f_substring(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int32_t chars = u8len(a[0].u.s.p, a[0].u.s.len);
    int64_t pos = as_i64(&a[1]);
    int64_t start = pos > 0 ? pos - 1 : pos < 0 ? chars + pos : 0;
    if (start < 0)
        start = 0;
    if (start > chars)
        start = chars;
    int64_t end = chars;
    if (n > 2) { /* start + len compared without the sum, which overflows for BIGINT's max */
        int64_t len = as_i64(&a[2]);
        end = len < 0 ? start : len > chars - start ? chars : start + len;
    }
    int32_t bs = u8off(a[0].u.s.p, a[0].u.s.len, (int32_t)start);
    int32_t be = u8off(a[0].u.s.p, a[0].u.s.len, (int32_t)end);
    *o = str_out(c, a[0].u.s.p + bs, be - bs);
}

static void
f_concat(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    wr_buf b = WR_BUF_INIT;
    for (int i = 0; i < n; i++)
        if (!a[i].null)
            wr_buf_append(&b, a[i].u.s.p, (size_t)a[i].u.s.len);
    *o = str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    wr_buf_free(&b);
}

static void
f_concat_ws(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    if (a[0].null) {
        *o = wr_val_null(RET(c));
        return;
    }
    wr_buf b = WR_BUF_INIT;
    bool first = true;
    for (int i = 1; i < n; i++) {
        if (a[i].null)
            continue;
        if (!first)
            wr_buf_append(&b, a[0].u.s.p, (size_t)a[0].u.s.len);
        wr_buf_append(&b, a[i].u.s.p, (size_t)a[i].u.s.len);
        first = false;
    }
    *o = str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    wr_buf_free(&b);
}

static bool
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static void
trim_impl(weir_ctx *c, const wr_val *a, wr_val *o, bool left, bool right)
{
    const char *p = a[0].u.s.p;
    int32_t s = 0, e = a[0].u.s.len;
    while (left && s < e && is_ws(p[s]))
        s++;
    while (right && e > s && is_ws(p[e - 1]))
        e--;
    *o = str_out(c, p + s, e - s);
}

static void
f_trim(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    trim_impl(c, a, o, true, true);
}

static void
f_ltrim(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    trim_impl(c, a, o, true, false);
}

static void
f_rtrim(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    trim_impl(c, a, o, false, true);
}

/* LPAD/RPAD(s, len, pad): truncates to len; an empty pad gives null (ksqlDB). The padding is
   whole copies of pad and a prefix of it, filled by doubling; a result beyond WR_FN_MAX_BYTES
   fails the row. */
static void
pad_impl(weir_ctx *c, const wr_val *a, wr_val *o, bool left)
{
    int64_t len = as_i64(&a[1]);
    *o = wr_val_null(RET(c));
    if (len < 0 || a[2].u.s.len == 0 || len > (1 << 24))
        return;
    int32_t chars = u8len(a[0].u.s.p, a[0].u.s.len);
    if (chars >= len) {
        *o = str_out(c, a[0].u.s.p, u8off(a[0].u.s.p, a[0].u.s.len, (int32_t)len));
        return;
    }
    const char *pad = a[2].u.s.p;
    int32_t pchars = u8len(pad, a[2].u.s.len);
    int64_t need = len - chars, whole = need / pchars;
    int64_t tail = u8off(pad, a[2].u.s.len, (int32_t)(need % pchars));
    int64_t pbytes = whole * a[2].u.s.len + tail, total = pbytes + a[0].u.s.len;
    if (total > WR_FN_MAX_BYTES) {
        fail(c, "its result is larger than %d bytes", WR_FN_MAX_BYTES);
        return;
    }
    char *d = H->alloc(c, (size_t)total);
    if (d == NULL)
        return;
    char *p = left ? d : d + a[0].u.s.len;
    copy_bytes(left ? d + pbytes : d, a[0].u.s.p, (size_t)a[0].u.s.len);
    int64_t have = whole > 0 ? a[2].u.s.len : 0, want = whole * a[2].u.s.len;
    if (have > 0)
        memcpy(p, pad, (size_t)have);
    while (have < want) { /* doubling: the copies made so far, again */
        int64_t n = have <= want - have ? have : want - have;
        memcpy(p + have, p, (size_t)n);
        have += n;
    }
    copy_bytes(p + want, pad, (size_t)tail);
    *o = wr_val_string(d, (int32_t)total);
}

static void
f_lpad(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    pad_impl(c, a, o, true);
}

static void
f_rpad(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    pad_impl(c, a, o, false);
}

static void
f_replace(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    const wr_str *s = &a[0].u.s, *from = &a[1].u.s, *to = &a[2].u.s;
    if (from->len == 0) {
        *o = a[0];
        return;
    }
    wr_buf b = WR_BUF_INIT;
    for (int32_t i = 0; i < s->len && !too_big(c, &b);) {
        if (i + from->len <= s->len && same_bytes(s->p + i, from->p, from->len)) {
            wr_buf_append(&b, to->p, (size_t)to->len);
            i += from->len;
        } else {
            wr_buf_put_u8(&b, (uint8_t)s->p[i++]);
        }
    }
    *o = too_big(c, &b) ? wr_val_null(RET(c))
                        : str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    wr_buf_free(&b);
}

/* INSTR(s, sub[, pos[, occurrence]]): 1-based position of sub, 0 when absent. */
static void
f_instr(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    const wr_str *s = &a[0].u.s, *sub = &a[1].u.s;
    int64_t pos = n > 2 ? as_i64(&a[2]) : 1, occ = n > 3 ? as_i64(&a[3]) : 1;
    int32_t chars = u8len(s->p, s->len);
    *o = wr_val_int(0);
    if (occ < 1 || pos == 0)
        return;
    if (pos > 0) {
        int32_t from = u8off(s->p, s->len, (int32_t)(pos - 1 < chars ? pos - 1 : chars));
        for (int32_t i = from; i + sub->len <= s->len; i++) {
            if ((i == 0 || ((unsigned char)s->p[i] & 0xC0) != 0x80) &&
                same_bytes(s->p + i, sub->p, sub->len) && --occ == 0) {
                *o = wr_val_int(u8len(s->p, i) + 1);
                return;
            }
        }
    } else {
        int64_t startc = chars + pos; /* search backwards from here */
        if (startc < 0)
            return;
        for (int32_t i = u8off(s->p, s->len, (int32_t)startc); i >= 0; i--) {
            if (i + sub->len <= s->len && ((unsigned char)s->p[i] & 0xC0) != 0x80 &&
                same_bytes(s->p + i, sub->p, sub->len) && --occ == 0) {
                *o = wr_val_int(u8len(s->p, i) + 1);
                return;
            }
        }
    }
}

static void
f_initcap(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = str_out(c, a[0].u.s.p, a[0].u.s.len);
    bool start = true;
    for (int32_t i = 0; !o->null && i < o->u.s.len; i++) {
        char *ch = (char *)&o->u.s.p[i];
        if (is_ws(*ch)) {
            start = true;
            continue;
        }
        *ch = (char)(start ? toupper((unsigned char)*ch) : tolower((unsigned char)*ch));
        start = false;
    }
}

/* MASK family: upper -> 'X', lower -> 'x', digit -> 'n', other -> '-' (overridable). */
static void
mask_range(
    weir_ctx *c, const wr_val *a, int n, int first_extra, int32_t from, int32_t to, wr_val *o)
{
    char m[4] = {'X', 'x', 'n', '-'};
    for (int i = 0; i < 4 && first_extra + i < n; i++) {
        const wr_val *v = &a[first_extra + i];
        if (v->null)
            m[i] = 0; /* null: keep that class unmasked */
        else if (v->u.s.len > 0)
            m[i] = v->u.s.p[0];
    }
    *o = str_out(c, a[0].u.s.p, a[0].u.s.len);
    for (int32_t i = from; !o->null && i < to && i < o->u.s.len; i++) {
        char *ch = (char *)&o->u.s.p[i];
        unsigned char u = (unsigned char)*ch;
        int k = isupper(u) ? 0 : islower(u) ? 1 : isdigit(u) ? 2 : 3;
        if (m[k] != 0)
            *ch = m[k];
    }
}

static void
f_mask(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    mask_range(c, a, n, 1, 0, a[0].u.s.len, o);
}

static void
f_mask_left(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t k = as_i64(&a[1]);
    mask_range(c, a, n, 2, 0, k < 0 ? 0 : (int32_t)(k > a[0].u.s.len ? a[0].u.s.len : k), o);
}

static void
f_mask_right(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t k = as_i64(&a[1]);
    int32_t len = a[0].u.s.len;
    mask_range(c, a, n, 2, k >= len ? 0 : len - (int32_t)(k < 0 ? 0 : k), len, o);
}

static void
f_mask_keep_left(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t k = as_i64(&a[1]);
    mask_range(c, a, n, 2, k < 0 ? 0 : (int32_t)(k > a[0].u.s.len ? a[0].u.s.len : k), a[0].u.s.len,
               o);
}

static void
f_mask_keep_right(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t k = as_i64(&a[1]);
    int32_t len = a[0].u.s.len;
    mask_range(c, a, n, 2, 0, k >= len ? 0 : len - (int32_t)(k < 0 ? 0 : k), o);
}

static void
f_split(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    const wr_str *s = &a[0].u.s, *d = &a[1].u.s;
    int32_t cap = s->len + 2, cnt = 0;
    wr_val *v = zalloc(c, (size_t)cap, sizeof *v);
    if (v == NULL) {
        *o = wr_val_null(RET(c));
        return;
    }
    if (d->len == 0) { /* split into characters */
        for (int32_t i = 0; i < s->len;) {
            int32_t j = i + 1;
            while (j < s->len && ((unsigned char)s->p[j] & 0xC0) == 0x80)
                j++;
            v[cnt++] = wr_val_string(s->p + i, j - i);
            i = j;
        }
    } else {
        int32_t start = 0;
        for (int32_t i = 0; i + d->len <= s->len;) {
            if (same_bytes(s->p + i, d->p, d->len)) {
                v[cnt++] = wr_val_string(s->p + start, i - start);
                i += d->len;
                start = i;
            } else {
                i++;
            }
        }
        v[cnt++] = wr_val_string(s->p + start, s->len - start);
    }
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
}

/* ---- math ------------------------------------------------------------------------------------ */

static void
f_abs(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    (void)c;
    *o = a[0];
    switch (a[0].type->kind) {
    case WR_T_INT:
        o->u.i32 = a[0].u.i32 < 0 ? (int32_t)(0u - (uint32_t)a[0].u.i32) : a[0].u.i32;
        break;
    case WR_T_BIGINT:
        o->u.i64 = a[0].u.i64 < 0 ? (int64_t)(0u - (uint64_t)a[0].u.i64) : a[0].u.i64;
        break;
    case WR_T_DECIMAL:
        o->u.dec = a[0].u.dec < 0 ? -a[0].u.dec : a[0].u.dec;
        break;
    default:
        o->u.f64 = fabs(a[0].u.f64);
        break;
    }
}

/* ABS a vector at a time (the rows with no null argument): its own type. */
static void
v_abs(weir_ctx *c, const weir_column *args, int n, const int32_t *rows, int32_t m, weir_column *out)
{
    (void)c;
    (void)n;
    const weir_column *x = &args[0];
    switch (H->type_kind(x->type)) {
    case WEIR_INT:
        for (int32_t k = 0; k < m; k++) {
            int32_t v = x->d.i32[rows[k]];
            out->d.i32[rows[k]] = v < 0 ? (int32_t)(0u - (uint32_t)v) : v;
        }
        break;
    case WEIR_BIGINT:
        for (int32_t k = 0; k < m; k++) {
            int64_t v = x->d.i64[rows[k]];
            out->d.i64[rows[k]] = v < 0 ? (int64_t)(0u - (uint64_t)v) : v;
        }
        break;
    case WEIR_DECIMAL:
        for (int32_t k = 0; k < m; k++) {
            weir_i128 v = x->d.dec[rows[k]];
            out->d.dec[rows[k]] = v < 0 ? -v : v;
        }
        break;
    default:
        for (int32_t k = 0; k < m; k++)
            out->d.f64[rows[k]] = fabs(x->d.f64[rows[k]]);
        break;
    }
}

/* HALF_UP at a decimal place (Java's Math.round / BigDecimal HALF_UP): ties away from zero for
   decimals, towards +infinity for doubles as Math.round does. */
static double
round_half_up(double d, int64_t places)
{
    double m = pow(10.0, (double)places);
    return floor(d * m + 0.5) / m;
}

static void
f_round(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t places = n > 1 ? as_i64(&a[1]) : 0;
    switch (a[0].type->kind) {
    case WR_T_INT:
    case WR_T_BIGINT:
        *o = a[0];
        return;
    case WR_T_DECIMAL: {
        int s = a[0].type->scale;
        wr_i128 u = a[0].u.dec;
        int drop = (int)(s - (places < 0 ? 0 : places > s ? s : places));
        wr_i128 p = 1;
        for (int i = 0; i < drop; i++)
            p *= 10;
        wr_i128 q = u / p, r = u % p, ar = r < 0 ? -r : r;
        /* half away from zero; compared as ar against p - ar, since ar * 2 overflows at 38
           digits */
        if (p > 1 && ar >= p - ar)
            q += u < 0 ? -1 : 1;
        for (int i = 0; i < drop; i++)
            q *= 10; /* keep the type's scale: 1.25 -> 1.30 at scale 2 */
        *o = wr_val_decimal(RET(c), q);
        if (RET(c)->kind != WR_T_DECIMAL || RET(c)->scale != s) {
            /* the result type drops the scale: ROUND(DECIMAL) without places */
            for (int i = 0; i < drop; i++)
                q /= 10;
            *o = wr_val_decimal(RET(c), q);
        }
        return;
    }
    default:
        if (n > 1)
            *o = wr_val_double(round_half_up(a[0].u.f64, places));
        else
            *o = wr_val_bigint((int64_t)floor(a[0].u.f64 + 0.5));
        return;
    }
}

static void
f_floor(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    (void)c;
    *o = a[0];
    if (a[0].type->kind == WR_T_DOUBLE)
        o->u.f64 = floor(a[0].u.f64);
    else if (a[0].type->kind == WR_T_DECIMAL) {
        wr_i128 p = 1;
        for (int i = 0; i < a[0].type->scale; i++)
            p *= 10;
        wr_i128 q = a[0].u.dec / p;
        if (a[0].u.dec % p != 0 && a[0].u.dec < 0)
            q--;
        o->u.dec = q * p;
    }
}

static void
f_ceil(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    (void)c;
    *o = a[0];
    if (a[0].type->kind == WR_T_DOUBLE)
        o->u.f64 = ceil(a[0].u.f64);
    else if (a[0].type->kind == WR_T_DECIMAL) {
        wr_i128 p = 1;
        for (int i = 0; i < a[0].type->scale; i++)
            p *= 10;
        wr_i128 q = a[0].u.dec / p;
        if (a[0].u.dec % p != 0 && a[0].u.dec > 0)
            q++;
        o->u.dec = q * p;
    }
}

#define DOUBLE_FN(fname, expr)                                                     \
    static void fname(weir_ctx *c, const weir_value *args, int n, weir_value *out) \
    {                                                                              \
        (void)c;                                                                   \
        (void)n;                                                                   \
        double x = wr_val_as_double((const wr_val *)&args[0]);                     \
        *(wr_val *)out = wr_val_double(expr);                                      \
    }

DOUBLE_FN(f_sqrt, sqrt(x))
DOUBLE_FN(f_exp, exp(x))
DOUBLE_FN(f_ln, log(x))
/* exact for perfect cubes, as Java's Math.cbrt is (glibc's can be off by one ulp there) */
static double
exact_cbrt(double x)
{
    double r = cbrt(x), n = nearbyint(r);
    return n * n * n == x ? n : r;
}

DOUBLE_FN(f_cbrt, exact_cbrt(x))
DOUBLE_FN(f_sin, sin(x))
DOUBLE_FN(f_cos, cos(x))
DOUBLE_FN(f_tan, tan(x))
DOUBLE_FN(f_asin, asin(x))
DOUBLE_FN(f_acos, acos(x))
DOUBLE_FN(f_atan, atan(x))
DOUBLE_FN(f_degrees, x * 180.0 / M_PI)
DOUBLE_FN(f_radians, x *M_PI / 180.0)

static void
f_log(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    /* LOG(x) is the natural logarithm; LOG(base, x) */
    *o = n == 1 ? wr_val_double(log(wr_val_as_double(&a[0])))
                : wr_val_double(log(wr_val_as_double(&a[1])) / log(wr_val_as_double(&a[0])));
}

static void
f_power(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    *o = wr_val_double(pow(wr_val_as_double(&a[0]), wr_val_as_double(&a[1])));
}

static void
f_sign(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    double d = wr_val_as_double(&a[0]);
    *o = wr_val_int(d > 0 ? 1 : d < 0 ? -1 : 0);
}

static void
f_random(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)a;
    (void)n;
    *o = wr_val_double((double)random() / ((double)RAND_MAX + 1.0));
}

static void
f_pi(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)a;
    (void)n;
    *o = wr_val_double(M_PI);
}

static void
greatest_least(weir_ctx *c, const wr_val *a, int n, wr_val *o, int dir)
{
    const wr_val *best = NULL;
    for (int i = 0; i < n; i++) {
        if (a[i].null)
            continue;
        if (best == NULL || wr_val_cmp(&a[i], best) * dir > 0)
            best = &a[i];
    }
    *o = best ? num_to(best, RET(c)) : wr_val_null(RET(c));
    if (best && !wr_type_is_numeric(RET(c)))
        *o = *best;
}

static void
f_greatest(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    greatest_least(c, a, n, o, 1);
}

static void
f_least(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    greatest_least(c, a, n, o, -1);
}

/* ---- null handling ----------------------------------------------------------------------------
 */

static void
f_coalesce(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    for (int i = 0; i < n; i++)
        if (!a[i].null) {
            *o = wr_type_is_numeric(RET(c)) ? num_to(&a[i], RET(c)) : a[i];
            return;
        }
    *o = wr_val_null(RET(c));
}

static void
f_nullif(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    if (!a[0].null && !a[1].null && wr_val_equal(&a[0], &a[1]))
        *o = wr_val_null(RET(c));
    else
        *o = a[0];
}

/* ---- collections --------------------------------------------------------------------------- */

static void
f_array_length(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    *o = wr_val_int(a[0].u.arr.n);
}

static void
f_array_contains(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    for (int32_t i = 0; i < a[0].u.arr.n; i++) {
        const wr_val *e = &a[0].u.arr.v[i];
        if (e->null ? a[1].null : (!a[1].null && wr_val_equal(e, &a[1]))) {
            *o = wr_val_bool(true);
            return;
        }
    }
    *o = wr_val_bool(false);
}

static void
f_array_distinct(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    int32_t cnt = 0;
    wr_val *v = zalloc(c, (size_t)a[0].u.arr.n + 1, sizeof *v);
    for (int32_t i = 0; v != NULL && i < a[0].u.arr.n; i++) {
        const wr_val *e = &a[0].u.arr.v[i];
        bool seen = false;
        for (int32_t j = 0; j < cnt && !seen; j++)
            seen = e->null ? v[j].null : (!v[j].null && wr_val_equal(&v[j], e));
        if (!seen)
            v[cnt++] = *e;
    }
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
}

static void
f_array_join(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    if (a[0].null) { /* ksqlDB: null for a null array, "" for a null delimiter */
        *o = wr_val_null(RET(c));
        return;
    }
    wr_buf b = WR_BUF_INIT;
    const char *d = ",";
    int32_t dl = 1;
    if (n > 1) {
        d = a[1].null ? "" : a[1].u.s.p;
        dl = a[1].null ? 0 : a[1].u.s.len;
    }
    for (int32_t i = 0; i < a[0].u.arr.n && !too_big(c, &b); i++) {
        if (i)
            wr_buf_append(&b, d, (size_t)dl);
        const wr_val *e = &a[0].u.arr.v[i];
        if (e->null)
            wr_buf_printf(&b, "null");
        else
            wr_val_to_string(&b, e);
    }
    *o = too_big(c, &b) ? wr_val_null(RET(c))
                        : str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    wr_buf_free(&b);
}

/* ARRAY_SORT's order: Java's natural order (ksqlDB sorts with it), nulls last; for DOUBLEs a
   total one (NaN above +Infinity, -0.0 below 0.0, as Double.compareTo), which qsort needs. */
static int
cmp_vals(const void *x, const void *y)
{
    const wr_val *a = x, *b = y;
    if (a->null || b->null)
        return (int)a->null - (int)b->null; /* nulls last */
    if (a->type->kind == WR_T_DOUBLE && b->type->kind == WR_T_DOUBLE) {
        double p = a->u.f64, q = b->u.f64;
        if (isnan(p) || isnan(q))
            return (int)isnan(p) - (int)isnan(q);
        if (p == q)
            return (int)(signbit(q) != 0) - (int)(signbit(p) != 0);
        return p < q ? -1 : 1;
    }
    return wr_val_cmp(a, b);
}

/* ARRAY_SORT(arr[, direction]): null for a null array (ksqlDB) and for a direction other than
   ASC, ASCENDING, DESC, DESCENDING (any case), or a null one. */
static void
f_array_sort(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    *o = wr_val_null(RET(c));
    if (a[0].null)
        return;
    bool desc = false;
    if (n > 1) {
        static const char *const dirs[] = {"ASC", "ASCENDING", "DESC", "DESCENDING"};
        int d = -1;
        for (int i = 0; i < 4 && d < 0 && !a[1].null; i++)
            if (a[1].u.s.len == (int32_t)strlen(dirs[i]) &&
                strncasecmp(a[1].u.s.p, dirs[i], strlen(dirs[i])) == 0)
                d = i;
        if (d < 0)
            return;
        desc = d >= 2;
    }
    int32_t cnt = a[0].u.arr.n;
    wr_val *v = memdup_in(c, a[0].u.arr.v, (size_t)cnt * sizeof *v);
    if (v == NULL)
        return;
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, cmp_vals);
    if (desc) { /* the non-null elements reversed; nulls stay last */
        int32_t nn = 0;
        while (nn < cnt && !v[nn].null)
            nn++;
        for (int32_t i = 0; i < nn / 2; i++) {
            wr_val t = v[i];
            v[i] = v[nn - 1 - i];
            v[nn - 1 - i] = t;
        }
    }
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
}

static void
minmax(weir_ctx *c, const wr_val *a, wr_val *o, int dir)
{
    const wr_val *best = NULL;
    for (int32_t i = 0; i < a[0].u.arr.n; i++) {
        const wr_val *e = &a[0].u.arr.v[i];
        if (!e->null && (best == NULL || wr_val_cmp(e, best) * dir > 0))
            best = e;
    }
    *o = best ? *best : wr_val_null(RET(c));
}

static void
f_array_max(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    minmax(c, a, o, 1);
}

static void
f_array_min(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    minmax(c, a, o, -1);
}

/* SLICE(arr, from, to): 1-based, inclusive. */
static void
f_slice(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    int64_t len = a[0].u.arr.n, from = as_i64(&a[1]), to = as_i64(&a[2]);
    if (from < 1)
        from = 1;
    if (to > len)
        to = len;
    int32_t cnt = to >= from ? (int32_t)(to - from + 1) : 0;
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = cnt ? a[0].u.arr.v + from - 1 : NULL;
}

static void
f_array_remove(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    if (a[0].null) { /* ksqlDB: null for a null array */
        *o = wr_val_null(RET(c));
        return;
    }
    wr_val *v = zalloc(c, (size_t)a[0].u.arr.n + 1, sizeof *v);
    int32_t cnt = 0;
    for (int32_t i = 0; v != NULL && i < a[0].u.arr.n; i++) {
        const wr_val *e = &a[0].u.arr.v[i];
        if (e->null ? a[1].null : (!a[1].null && wr_val_equal(e, &a[1])))
            continue;
        v[cnt++] = *e;
    }
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
}

static void
f_array_concat(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    if (a[0].null && a[1].null) {
        *o = wr_val_null(RET(c));
        return;
    }
    int32_t n0 = a[0].null ? 0 : a[0].u.arr.n, n1 = a[1].null ? 0 : a[1].u.arr.n;
    wr_val *v = zalloc(c, (size_t)(n0 + n1) + 1, sizeof *v);
    for (int32_t i = 0; v != NULL && i < n0; i++)
        v[i] = a[0].u.arr.v[i];
    for (int32_t i = 0; v != NULL && i < n1; i++)
        v[n0 + i] = a[1].u.arr.v[i];
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = n0 + n1;
    o->u.arr.v = v;
}

static void
f_map_keys(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = a[0].u.map.n;
    o->u.arr.v = a[0].u.map.k;
}

static void
f_map_values(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = a[0].u.map.n;
    o->u.arr.v = a[0].u.map.v;
}

/* ELT(n, s1, s2, ...): the n-th string (1-based), null out of range. */
static void
f_elt(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t i = as_i64(&a[0]);
    *o = i >= 1 && i < n ? a[i] : wr_val_null(RET(c));
}

/* FIELD(s, s1, s2, ...): the 1-based position of s among the rest, 0 when absent. */
static void
f_field(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    *o = wr_val_int(0);
    if (a[0].null)
        return;
    for (int i = 1; i < n; i++)
        if (!a[i].null && wr_val_equal(&a[0], &a[i])) {
            *o = wr_val_int(i);
            return;
        }
}

/* ---- dates and times ---------------------------------------------------------------------- */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
f_unix_timestamp(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    if (n == 0) {
        *o = wr_val_bigint(now_ms());
    } else {
        *o = wr_val_bigint(a[0].u.i64);
    }
}

static void
f_from_unixtime(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    *o = wr_val_timestamp(as_i64(&a[0]));
}

/* ---- regular expressions (POSIX extended; compiled once when the pattern is a constant) ------ */

static void
rx_release(void *state)
{
    regfree(state);
    free(state);
}

/* prepare for functions whose second argument is a pattern: a constant one is compiled once,
   and a bad one fails the statement */
static int
rx_prepare(weir_ctx *c, const weir_value *const *consts, int n, void **state, char *msg, size_t cap)
{
    (void)c;
    if (n < 2 || consts[1] == NULL || consts[1]->null)
        return 0; /* not constant: compiled per row */
    regex_t *re = malloc(sizeof *re);
    if (re == NULL) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    char pat[1024];
    snprintf(pat, sizeof pat, "%.*s", (int)consts[1]->u.s.len, consts[1]->u.s.ptr);
    int rc = regcomp(re, pat, REG_EXTENDED);
    if (rc != 0) {
        char m[128];
        regerror(rc, re, m, sizeof m);
        free(re);
        snprintf(msg, cap, "invalid regular expression '%s': %s", pat, m);
        return -1;
    }
    *state = re;
    return 0;
}

/* The compiled pattern of this row: the constant one, or a fresh one in *tmp. */
static const regex_t *
rx_get(weir_ctx *c, const wr_val *pattern, regex_t *tmp, bool *fresh)
{
    *fresh = false;
    const regex_t *re = H->prepared(c);
    if (re != NULL)
        return re;
    char pat[1024];
    snprintf(pat, sizeof pat, "%.*s", (int)pattern->u.s.len, pattern->u.s.p);
    if (regcomp(tmp, pat, REG_EXTENDED) != 0) {
        fail(c, "invalid regular expression '%s'", pat);
        return NULL;
    }
    *fresh = true;
    return tmp;
}

static void
f_regexp_extract(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    regex_t tmp;
    bool fresh;
    const regex_t *re = rx_get(c, &a[1], &tmp, &fresh);
    *o = wr_val_null(RET(c));
    char *s = cstr(c, &a[0]);
    int64_t group = n > 2 ? as_i64(&a[2]) : 0;
    regmatch_t m[10];
    if (re != NULL && s != NULL && group >= 0 && group < 10 && regexec(re, s, 10, m, 0) == 0 &&
        m[group].rm_so >= 0)
        *o = str_out(c, s + m[group].rm_so, (int32_t)(m[group].rm_eo - m[group].rm_so));
    if (fresh)
        regfree(&tmp);
}

static void
f_regexp_extract_all(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    regex_t tmp;
    bool fresh;
    const regex_t *re = rx_get(c, &a[1], &tmp, &fresh);
    *o = wr_val_null(RET(c));
    char *s = cstr(c, &a[0]);
    int64_t group = n > 2 ? as_i64(&a[2]) : 0;
    if (re == NULL || s == NULL || group < 0 || group >= 10) {
        if (fresh)
            regfree(&tmp);
        return;
    }
    int32_t cap = a[0].u.s.len + 1, cnt = 0;
    wr_val *v = zalloc(c, (size_t)cap, sizeof *v);
    regmatch_t m[10];
    const char *p = s;
    while (v != NULL && cnt < cap && regexec(re, p, 10, m, p == s ? 0 : REG_NOTBOL) == 0) {
        if (m[group].rm_so >= 0)
            v[cnt++] = str_out(c, p + m[group].rm_so, (int32_t)(m[group].rm_eo - m[group].rm_so));
        p += m[0].rm_eo > m[0].rm_so ? m[0].rm_eo : m[0].rm_eo + 1;
        if (p > s + a[0].u.s.len)
            break;
    }
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
    if (fresh)
        regfree(&tmp);
}

static void
f_regexp_replace(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    regex_t tmp;
    bool fresh;
    const regex_t *re = rx_get(c, &a[1], &tmp, &fresh);
    *o = wr_val_null(RET(c));
    char *s = cstr(c, &a[0]);
    if (re == NULL || s == NULL) {
        if (fresh)
            regfree(&tmp);
        return;
    }
    wr_buf b = WR_BUF_INIT;
    regmatch_t m[1];
    const char *p = s;
    while ((*p != 0 || p == s) && !too_big(c, &b)) {
        if (regexec(re, p, 1, m, p == s ? 0 : REG_NOTBOL) != 0)
            break;
        wr_buf_append(&b, p, (size_t)m[0].rm_so);
        wr_buf_append(&b, a[2].u.s.p, (size_t)a[2].u.s.len);
        if (m[0].rm_eo == m[0].rm_so) { /* an empty match: copy one character and go on */
            if (p[m[0].rm_eo] == 0)
                break;
            wr_buf_put_u8(&b, (uint8_t)p[m[0].rm_eo]);
            p += m[0].rm_eo + 1;
        } else {
            p += m[0].rm_eo;
        }
    }
    wr_buf_append(&b, p, strlen(p));
    if (!too_big(c, &b))
        *o = str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    wr_buf_free(&b);
    if (fresh)
        regfree(&tmp);
}

static void
f_regexp_split(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    regex_t tmp;
    bool fresh;
    const regex_t *re = rx_get(c, &a[1], &tmp, &fresh);
    *o = wr_val_null(RET(c));
    char *s = cstr(c, &a[0]);
    if (re == NULL || s == NULL) {
        if (fresh)
            regfree(&tmp);
        return;
    }
    int32_t cap = a[0].u.s.len + 2, cnt = 0;
    wr_val *v = zalloc(c, (size_t)cap, sizeof *v);
    regmatch_t m[1];
    const char *p = s;
    while (v != NULL && cnt + 1 < cap && *p != 0 &&
           regexec(re, p, 1, m, p == s ? 0 : REG_NOTBOL) == 0 && m[0].rm_eo > m[0].rm_so) {
        v[cnt++] = str_out(c, p, (int32_t)m[0].rm_so);
        p += m[0].rm_eo;
    }
    if (v != NULL)
        v[cnt++] = str_out(c, p, (int32_t)strlen(p));
    *o = (wr_val){.type = RET(c)};
    o->u.arr.n = cnt;
    o->u.arr.v = v;
    if (fresh)
        regfree(&tmp);
}

/* ---- JSON and encodings ---------------------------------------------------------------------- */

/* EXTRACTJSONFIELD(json, '$.a.b[0]'): a string as its text, anything else as JSON; null when the
   path does not exist or the text is not JSON. */
static void
f_extractjsonfield(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = wr_val_null(RET(c));
    json_error_t je;
    json_t *root = json_loadb(a[0].u.s.p, (size_t)a[0].u.s.len, JSON_DECODE_ANY, &je);
    if (root == NULL)
        return;
    char *path = cstr(c, &a[1]);
    const char *p = path;
    json_t *cur = root;
    if (p != NULL && *p == '$')
        p++;
    while (cur != NULL && p != NULL && *p != 0) {
        if (*p == '.') {
            p++;
            const char *end = p;
            while (*end && *end != '.' && *end != '[')
                end++;
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(end - p), p);
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            p = end;
        } else if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end == '\'' || *end == '"') { /* ['key'] */
                char q = *end;
                const char *ks = end + 1, *ke = strchr(ks, q);
                if (ke == NULL) {
                    cur = NULL;
                    break;
                }
                char key[256];
                snprintf(key, sizeof key, "%.*s", (int)(ke - ks), ks);
                cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
                p = ke + 1;
            } else {
                cur = json_is_array(cur) && i >= 0 ? json_array_get(cur, (size_t)i) : NULL;
                p = end;
            }
            if (*p != ']') {
                cur = NULL;
                break;
            }
            p++;
        } else {
            cur = NULL;
        }
    }
    if (cur != NULL && !json_is_null(cur)) {
        if (json_is_string(cur)) {
            *o = str_out(c, json_string_value(cur), (int32_t)json_string_length(cur));
        } else {
            char *d = json_dumps(cur, JSON_ENCODE_ANY | JSON_COMPACT);
            if (d != NULL)
                *o = str_out(c, d, (int32_t)strlen(d));
            free(d);
        }
    }
    json_decref(root);
}

static int
unhex(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* ENCODE(s, from, to): between 'hex', 'utf8', 'ascii' and 'base64'. */
static void
f_encode(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    *o = wr_val_null(RET(c));
    char *from = cstr(c, &a[1]), *to = cstr(c, &a[2]);
    if (from == NULL || to == NULL)
        return;
    /* to bytes */
    wr_buf raw = WR_BUF_INIT;
    const wr_str *s = &a[0].u.s;
    if (strcasecmp(from, "hex") == 0) {
        if (s->len % 2 != 0) {
            fail(c, "odd number of hex digits");
            return;
        }
        for (int32_t i = 0; i < s->len; i += 2) {
            int hi = unhex(s->p[i]), lo = unhex(s->p[i + 1]);
            if (hi < 0 || lo < 0) {
                fail(c, "not a hex string");
                wr_buf_free(&raw);
                return;
            }
            wr_buf_put_u8(&raw, (uint8_t)(hi << 4 | lo));
        }
    } else if (strcasecmp(from, "base64") == 0) {
        uint32_t acc = 0;
        int bits = 0;
        for (int32_t i = 0; i < s->len && s->p[i] != '='; i++) {
            char ch = s->p[i];
            int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
                    : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
                    : ch >= '0' && ch <= '9' ? ch - '0' + 52
                    : ch == '+'              ? 62
                    : ch == '/'              ? 63
                                             : -1;
            if (v < 0) {
                fail(c, "not a base64 string");
                wr_buf_free(&raw);
                return;
            }
            acc = acc << 6 | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                wr_buf_put_u8(&raw, (uint8_t)(acc >> bits));
            }
        }
    } else if (strcasecmp(from, "utf8") == 0 || strcasecmp(from, "ascii") == 0) {
        wr_buf_append(&raw, s->p, (size_t)s->len);
    } else {
        fail(c, "unknown encoding '%s'", from);
        return;
    }
    wr_buf outb = WR_BUF_INIT;
    static const char hexd[] = "0123456789abcdef";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (strcasecmp(to, "hex") == 0) {
        for (size_t i = 0; i < raw.len; i++) {
            wr_buf_put_u8(&outb, (uint8_t)hexd[raw.data[i] >> 4]);
            wr_buf_put_u8(&outb, (uint8_t)hexd[raw.data[i] & 15]);
        }
    } else if (strcasecmp(to, "base64") == 0) {
        for (size_t i = 0; i < raw.len; i += 3) {
            uint32_t v = (uint32_t)raw.data[i] << 16 |
                         (i + 1 < raw.len ? (uint32_t)raw.data[i + 1] << 8 : 0) |
                         (i + 2 < raw.len ? raw.data[i + 2] : 0);
            wr_buf_put_u8(&outb, (uint8_t)b64[v >> 18 & 63]);
            wr_buf_put_u8(&outb, (uint8_t)b64[v >> 12 & 63]);
            wr_buf_put_u8(&outb, i + 1 < raw.len ? (uint8_t)b64[v >> 6 & 63] : '=');
            wr_buf_put_u8(&outb, i + 2 < raw.len ? (uint8_t)b64[v & 63] : '=');
        }
    } else if (strcasecmp(to, "utf8") == 0 || strcasecmp(to, "ascii") == 0) {
        wr_buf_append(&outb, raw.data, raw.len);
    } else {
        fail(c, "unknown encoding '%s'", to);
    }
    if (outb.len > 0 || raw.len == 0)
        *o = str_out(c, outb.len ? (const char *)outb.data : "", (int32_t)outb.len);
    wr_buf_free(&raw);
    wr_buf_free(&outb);
}

static void
f_as_map(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    int32_t cnt = a[0].u.arr.n < a[1].u.arr.n ? a[0].u.arr.n : a[1].u.arr.n;
    wr_val *k = zalloc(c, (size_t)cnt + 1, sizeof *k);
    wr_val *v = zalloc(c, (size_t)cnt + 1, sizeof *v);
    int32_t m = 0;
    for (int32_t i = 0; k != NULL && v != NULL && i < cnt; i++) {
        const wr_val *kk = &a[0].u.arr.v[i];
        int32_t j = 0;
        while (j < m && !(k[j].null ? kk->null : (!kk->null && wr_val_equal(&k[j], kk))))
            j++;
        k[j] = *kk;
        v[j] = a[1].u.arr.v[i];
        if (j == m)
            m++;
    }
    *o = (wr_val){.type = RET(c)};
    o->u.map.n = m;
    o->u.map.k = k;
    o->u.map.v = v;
}

/* ---- dates and times: Java DateTimeFormatter patterns, UTC or fixed offsets ----------------- */

static void
fmt_ts(weir_ctx *c, int64_t ms, const wr_val *pat, const wr_val *zone, wr_val *o)
{
    *o = wr_val_null(RET(c));
    char *p = cstr(c, pat), *z = zone ? cstr(c, zone) : NULL;
    const wr_tz *tz = wr_tz_get(z);
    if (tz == NULL) {
        fail(c, "unknown time zone '%s'", z);
        return;
    }
    wr_buf b = WR_BUF_INIT;
    if (p != NULL && wr_time_format(&b, ms, tz, p))
        *o = str_out(c, b.len ? (const char *)b.data : "", (int32_t)b.len);
    else
        fail(c, "cannot format %lld with the pattern '%s'", (long long)ms, p ? p : "");
    wr_buf_free(&b);
}

static bool
parse_ts(weir_ctx *c, const wr_val *text, const wr_val *pat, const wr_val *zone, int64_t *ms)
{
    char *t = cstr(c, text), *p = cstr(c, pat), *z = zone ? cstr(c, zone) : NULL;
    const wr_tz *tz = wr_tz_get(z);
    if (tz == NULL) {
        fail(c, "unknown time zone '%s'", z);
        return false;
    }
    if (t == NULL || p == NULL || !wr_time_parse(t, p, tz, ms)) {
        fail(c, "text '%s' does not match pattern '%s'", t ? t : "", p ? p : "");
        return false;
    }
    return true;
}

static void
f_timestamptostring(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    fmt_ts(c, as_i64(&a[0]), &a[1], n > 2 ? &a[2] : NULL, o);
}

static void
f_format_timestamp(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    fmt_ts(c, a[0].u.i64, &a[1], n > 2 ? &a[2] : NULL, o);
}

static void
f_format_date(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    fmt_ts(c, (int64_t)a[0].u.i32 * 86400000, &a[1], NULL, o);
}

static void
f_stringtotimestamp(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t ms;
    *o = parse_ts(c, &a[0], &a[1], n > 2 ? &a[2] : NULL, &ms) ? wr_val_bigint(ms)
                                                              : wr_val_null(RET(c));
}

static void
f_parse_timestamp(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    int64_t ms;
    *o = parse_ts(c, &a[0], &a[1], n > 2 ? &a[2] : NULL, &ms) ? wr_val_timestamp(ms)
                                                              : wr_val_null(RET(c));
}

static void
f_parse_date(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    int64_t ms;
    *o = parse_ts(c, &a[0], &a[1], NULL, &ms) ? wr_val_date((int32_t)(ms / 86400000))
                                              : wr_val_null(RET(c));
}

static int64_t
unit_ms(weir_ctx *c, const wr_val *u)
{
    static const struct {
        const char *n;
        int64_t ms;
    } units[] = {{"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000},  {"SECONDS", 1000},
                 {"MINUTE", 60000},  {"MINUTES", 60000},  {"HOUR", 3600000}, {"HOURS", 3600000},
                 {"DAY", 86400000},  {"DAYS", 86400000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if ((int32_t)strlen(units[i].n) == u->u.s.len &&
            strncasecmp(units[i].n, u->u.s.p, (size_t)u->u.s.len) == 0)
            return units[i].ms;
    fail(c, "unknown time unit '%.*s'", (int)u->u.s.len, u->u.s.p);
    return -1;
}

/* ts + sign * n units, or a processing-log record when that is beyond what a TIMESTAMP (an
   int64_t of ms) holds. */
static void
ts_shift(weir_ctx *c, const wr_val *a, int sign, wr_val *o)
{
    int64_t u = unit_ms(c, &a[0]), d, t;
    *o = wr_val_null(RET(c));
    if (u < 0)
        return;
    if (__builtin_mul_overflow(as_i64(&a[1]), u * sign, &d) ||
        __builtin_add_overflow(a[2].u.i64, d, &t)) {
        fail(c, "the result is out of the range of a TIMESTAMP");
        return;
    }
    *o = wr_val_timestamp(t);
}

static void
f_timestampadd(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    (void)n;
    ts_shift(c, (const wr_val *)args, 1, (wr_val *)out);
}

static void
f_timestampsub(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    (void)n;
    ts_shift(c, (const wr_val *)args, -1, (wr_val *)out);
}

static void
f_dateadd(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    int64_t u = unit_ms(c, &a[0]), d;
    *o = wr_val_null(RET(c));
    if (u < 86400000) {
        if (u > 0)
            fail(c, "DATEADD takes DAYS");
        return;
    }
    if (__builtin_add_overflow((int64_t)a[2].u.i32, as_i64(&a[1]), &d) || d < INT32_MIN ||
        d > INT32_MAX) {
        fail(c, "the result is out of the range of a DATE");
        return;
    }
    *o = wr_val_date((int32_t)d);
}

static void
f_convert_tz(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)n;
    char *from = cstr(c, &a[1]), *to = cstr(c, &a[2]);
    const wr_tz *f = wr_tz_get(from), *t = wr_tz_get(to);
    if (f == NULL || t == NULL) {
        fail(c, "unknown time zone '%s'", f == NULL ? from : to);
        *o = wr_val_null(RET(c));
        return;
    }
    /* the wall-clock time in `from` as the wall-clock time in `to` at the same instant */
    int64_t utc, r;
    if (__builtin_sub_overflow(a[0].u.i64, wr_tz_offset_local(f, a[0].u.i64), &utc) ||
        __builtin_add_overflow(utc, wr_tz_offset(t, utc), &r)) {
        fail(c, "the result is out of the range of a TIMESTAMP");
        *o = wr_val_null(RET(c));
        return;
    }
    *o = wr_val_timestamp(r);
}

static void
f_unix_date(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    if (n == 0) {
        *o = wr_val_int((int32_t)(now_ms() / 86400000));
    } else {
        *o = wr_val_int(a[0].u.i32);
    }
}

static void
f_from_days(weir_ctx *c, const weir_value *args, int n, weir_value *out)
{
    const wr_val *a = (const wr_val *)args;
    wr_val *o = (wr_val *)out;
    (void)c;
    (void)n;
    *o = wr_val_date(a[0].u.i32);
}

/* ---- table functions ------------------------------------------------------------------------ */

static int
t_explode(weir_ctx *c, const weir_value *args, int n, weir_value *out, int cap)
{
    (void)c;
    (void)n;
    int32_t cnt = args[0].null ? 0 : args[0].u.arr.n;
    for (int32_t i = 0; i < cnt && cnt <= cap; i++)
        out[i] = args[0].u.arr.v[i];
    return cnt;
}

/* ---- result types the parameters do not decide ------------------------------------------ */

/* ROUND(DECIMAL(p, s)) -> DECIMAL(p - s + 1, 0) (ksqlDB). */
static int
round_decimal(const weir_type *const *args, int n, char *buf, size_t cap)
{
    (void)n;
    int p, s;
    H->type_decimal(args[0], &p, &s);
    snprintf(buf, cap, "DECIMAL(%d, 0)", p - s + 1 > 38 ? 38 : p - s + 1);
    return 0;
}

/* ---- the library ---------------------------------------------------------------------------- */

/* Each function is a weir_function of the public ABI, registered by builtin_init through the
   host's register_function as a library's would be. */
#define SIGS(...)                                                                                 \
    .nsignatures = (int)(sizeof((const weir_signature[]){__VA_ARGS__}) / sizeof(weir_signature)), \
    .signatures = (const weir_signature[])                                                        \
    {                                                                                             \
        __VA_ARGS__                                                                               \
    }
#define FN(fname, kind_, cat, fl, desc, ...)                                                  \
    {                                                                                         \
        .size = sizeof(weir_function), .name = fname, .description = desc, .author = "weir",  \
        .version = WR_VERSION, .kind = kind_, .flags = fl, .category = cat, SIGS(__VA_ARGS__) \
    }
/* a scalar function (row form) */
#define SCALAR(fname, cat, fl, desc, ...) FN(fname, WEIR_SCALAR, cat, fl, desc, __VA_ARGS__)
/* an aggregate computed by runtime/agg.c */
#define AGGREGATE(fname, desc, ...) \
    FN(fname, WEIR_AGGREGATE, "AGGREGATE", WEIR_NATIVE, desc, __VA_ARGS__)
/* a higher-order function whose lambdas the analyser types and evaluates */
#define LAMBDA(fname, desc, ...) FN(fname, WEIR_SCALAR, "LAMBDA", WEIR_NATIVE, desc, __VA_ARGS__)
#define ROW(p, r, f)                             \
    {                                            \
        .params = p, .returns = r, .eval_row = f \
    }
#define TYPED(p, r)               \
    {                             \
        .params = p, .returns = r \
    }

#define ON_NULL WEIR_CALLED_ON_NULL
#define NONDET  WEIR_NONDETERMINISTIC
#define STR     "STRING"
#define MATH    "MATHEMATICAL"
#define DT      "DATE / TIME"

/* ABS: vector form over a batch, row form in the interpreter (CASE branches, lambdas) */
#define ABS_SIG(t)                                                  \
    {                                                               \
        .params = t, .returns = t, .eval = v_abs, .eval_row = f_abs \
    }
/* a function of one number whose result has its type */
#define SAME_NUMBER(f)                                                            \
    ROW("INT", "INT", f), ROW("BIGINT", "BIGINT", f), ROW("DOUBLE", "DOUBLE", f), \
        ROW("DECIMAL", "DECIMAL", f)
/* a function of a number (as a DOUBLE) into a DOUBLE */
#define ON_DOUBLE(fname, desc, f) SCALAR(fname, MATH, 0, desc, ROW("DOUBLE", "DOUBLE", f))
/* the mask functions' optional replacement characters */
#define MASKS(f, p) ROW(p, STR, f), ROW(p ", STRING, STRING, STRING, STRING", STR, f)

static const weir_function FUNCTIONS[] = {
    /* strings */
    SCALAR("UCASE", STR, 0, "Upper-cases a string.", ROW(STR, STR, f_ucase)),
    SCALAR("LCASE", STR, 0, "Lower-cases a string.", ROW(STR, STR, f_lcase)),
    SCALAR("LEN", STR, 0, "The length of a string in characters.", ROW(STR, "INT", f_len)),
    SCALAR("SUBSTRING",
           STR,
           0,
           "The part of a string from a 1-based position (negative: from the end), optionally of "
           "a length.",
           ROW("STRING, BIGINT", STR, f_substring),
           ROW("STRING, BIGINT, BIGINT", STR, f_substring)),
    SCALAR("CONCAT",
           STR,
           ON_NULL,
           "Concatenates strings, skipping nulls.",
           ROW("STRING, STRING...", STR, f_concat)),
    SCALAR("CONCAT_WS",
           STR,
           ON_NULL,
           "Concatenates strings with a separator, skipping nulls.",
           ROW("STRING, STRING, STRING...", STR, f_concat_ws)),
    SCALAR("TRIM", STR, 0, "Removes leading and trailing whitespace.", ROW(STR, STR, f_trim)),
    SCALAR("LTRIM", STR, 0, "Removes leading whitespace.", ROW(STR, STR, f_ltrim)),
    SCALAR("RTRIM", STR, 0, "Removes trailing whitespace.", ROW(STR, STR, f_rtrim)),
    SCALAR("LPAD",
           STR,
           0,
           "Pads a string on the left to a length (or truncates it).",
           ROW("STRING, BIGINT, STRING", STR, f_lpad)),
    SCALAR("RPAD",
           STR,
           0,
           "Pads a string on the right to a length (or truncates it).",
           ROW("STRING, BIGINT, STRING", STR, f_rpad)),
    SCALAR("REPLACE",
           STR,
           0,
           "Replaces every occurrence of a substring.",
           ROW("STRING, STRING, STRING", STR, f_replace)),
    SCALAR("INSTR",
           STR,
           0,
           "The 1-based position of a substring (0 when absent), from a position and for an "
           "occurrence.",
           ROW("STRING, STRING", "INT", f_instr),
           ROW("STRING, STRING, BIGINT", "INT", f_instr),
           ROW("STRING, STRING, BIGINT, BIGINT", "INT", f_instr)),
    SCALAR(
        "INITCAP", STR, 0, "Capitalises the first letter of each word.", ROW(STR, STR, f_initcap)),
    SCALAR("MASK",
           STR,
           ON_NULL,
           "Masks letters and digits ('X', 'x', 'n', '-' unless given).",
           MASKS(f_mask, "STRING")),
    SCALAR("MASK_LEFT",
           STR,
           ON_NULL,
           "Masks the first n characters.",
           MASKS(f_mask_left, "STRING, BIGINT")),
    SCALAR("MASK_RIGHT",
           STR,
           ON_NULL,
           "Masks the last n characters.",
           MASKS(f_mask_right, "STRING, BIGINT")),
    SCALAR("MASK_KEEP_LEFT",
           STR,
           ON_NULL,
           "Masks all but the first n characters.",
           MASKS(f_mask_keep_left, "STRING, BIGINT")),
    SCALAR("MASK_KEEP_RIGHT",
           STR,
           ON_NULL,
           "Masks all but the last n characters.",
           MASKS(f_mask_keep_right, "STRING, BIGINT")),
    SCALAR("SPLIT",
           STR,
           0,
           "Splits a string at a delimiter (into characters for an empty one).",
           ROW("STRING, STRING", "ARRAY<STRING>", f_split)),
    SCALAR("ELT",
           STR,
           ON_NULL,
           "The n-th of the following strings (1-based).",
           ROW("BIGINT, STRING, STRING...", STR, f_elt)),
    SCALAR("FIELD",
           STR,
           ON_NULL,
           "The 1-based position of the first string among the rest, 0 when absent.",
           ROW("STRING, STRING, STRING...", "INT", f_field)),
    /* math */
    FN("ABS",
       WEIR_SCALAR,
       MATH,
       0,
       "The absolute value.",
       ABS_SIG("INT"),
       ABS_SIG("BIGINT"),
       ABS_SIG("DOUBLE"),
       ABS_SIG("DECIMAL")),
    SCALAR("ROUND",
           MATH,
           0,
           "Rounds half up, to an integer or to decimal places.",
           ROW("INT", "INT", f_round),
           ROW("BIGINT", "BIGINT", f_round),
           ROW("DOUBLE", "BIGINT", f_round),
           {.params = "DECIMAL", .returns_fn = round_decimal, .eval_row = f_round},
           ROW("INT, BIGINT", "INT", f_round),
           ROW("BIGINT, BIGINT", "BIGINT", f_round),
           ROW("DOUBLE, BIGINT", "DOUBLE", f_round),
           ROW("DECIMAL, BIGINT", "DECIMAL", f_round)),
    SCALAR("FLOOR", MATH, 0, "Rounds down.", SAME_NUMBER(f_floor)),
    SCALAR("CEIL", MATH, 0, "Rounds up.", SAME_NUMBER(f_ceil)),
    ON_DOUBLE("SQRT", "The square root.", f_sqrt),
    ON_DOUBLE("CBRT", "The cube root.", f_cbrt),
    ON_DOUBLE("EXP", "e to the power of x.", f_exp),
    ON_DOUBLE("LN", "The natural logarithm.", f_ln),
    SCALAR("LOG",
           MATH,
           0,
           "The natural logarithm, or the logarithm in a base.",
           ROW("DOUBLE", "DOUBLE", f_log),
           ROW("DOUBLE, DOUBLE", "DOUBLE", f_log)),
    SCALAR("POWER", MATH, 0, "x to the power of y.", ROW("DOUBLE, DOUBLE", "DOUBLE", f_power)),
    SCALAR("SIGN", MATH, 0, "-1, 0 or 1.", ROW("DOUBLE", "INT", f_sign)),
    SCALAR("RANDOM",
           MATH,
           ON_NULL | NONDET,
           "A random number in [0, 1).",
           ROW("", "DOUBLE", f_random)),
    SCALAR("PI", MATH, ON_NULL, "The number pi.", ROW("", "DOUBLE", f_pi)),
    ON_DOUBLE("SIN", "The sine (radians).", f_sin),
    ON_DOUBLE("COS", "The cosine (radians).", f_cos),
    ON_DOUBLE("TAN", "The tangent (radians).", f_tan),
    ON_DOUBLE("ASIN", "The arc sine.", f_asin),
    ON_DOUBLE("ACOS", "The arc cosine.", f_acos),
    ON_DOUBLE("ATAN", "The arc tangent.", f_atan),
    ON_DOUBLE("DEGREES", "Radians to degrees.", f_degrees),
    ON_DOUBLE("RADIANS", "Degrees to radians.", f_radians),
    SCALAR("GREATEST",
           MATH,
           ON_NULL,
           "The largest non-null argument.",
           ROW("T, T...", "T", f_greatest)),
    SCALAR("LEAST", MATH, ON_NULL, "The smallest non-null argument.", ROW("T, T...", "T", f_least)),
    /* nulls */
    SCALAR("COALESCE",
           "CONDITIONAL",
           ON_NULL,
           "The first non-null argument.",
           ROW("T, T...", "T", f_coalesce)),
    SCALAR("IFNULL",
           "CONDITIONAL",
           ON_NULL,
           "The first argument, or the second when it is null.",
           ROW("T, T", "T", f_coalesce)),
    SCALAR("NULLIF",
           "CONDITIONAL",
           ON_NULL,
           "Null when both arguments are equal, else the first.",
           ROW("T, U", "T", f_nullif)),
    /* collections */
    SCALAR("ARRAY_LENGTH",
           "ARRAY",
           0,
           "The number of elements.",
           ROW("ARRAY<T>", "INT", f_array_length)),
    SCALAR("ARRAY_CONTAINS",
           "ARRAY",
           ON_NULL,
           "Whether an array holds a value.",
           ROW("ARRAY<T>, T", "BOOLEAN", f_array_contains)),
    SCALAR("ARRAY_DISTINCT",
           "ARRAY",
           0,
           "The elements without repeats, in order.",
           ROW("ARRAY<T>", "ARRAY<T>", f_array_distinct)),
    SCALAR("ARRAY_JOIN",
           "ARRAY",
           ON_NULL,
           "The elements as text joined by a delimiter (',' by default).",
           ROW("ARRAY<T>", STR, f_array_join),
           ROW("ARRAY<T>, STRING", STR, f_array_join)),
    SCALAR("ARRAY_SORT",
           "ARRAY",
           ON_NULL,
           "The elements sorted ('ASC' or 'DESC'), nulls last.",
           ROW("ARRAY<T>", "ARRAY<T>", f_array_sort),
           ROW("ARRAY<T>, STRING", "ARRAY<T>", f_array_sort)),
    SCALAR("ARRAY_MAX",
           "ARRAY",
           0,
           "The largest non-null element.",
           ROW("ARRAY<T>", "T", f_array_max)),
    SCALAR("ARRAY_MIN",
           "ARRAY",
           0,
           "The smallest non-null element.",
           ROW("ARRAY<T>", "T", f_array_min)),
    SCALAR("ARRAY_REMOVE",
           "ARRAY",
           ON_NULL,
           "The array without the elements equal to a value.",
           ROW("ARRAY<T>, T", "ARRAY<T>", f_array_remove)),
    SCALAR("ARRAY_CONCAT",
           "ARRAY",
           ON_NULL,
           "Two arrays one after the other.",
           ROW("ARRAY<T>, ARRAY<T>", "ARRAY<T>", f_array_concat)),
    SCALAR("SLICE",
           "ARRAY",
           0,
           "Elements from a 1-based position to another, inclusive.",
           ROW("ARRAY<T>, BIGINT, BIGINT", "ARRAY<T>", f_slice)),
    SCALAR("MAP_KEYS", "MAP", 0, "The keys of a map.", ROW("MAP<K, V>", "ARRAY<K>", f_map_keys)),
    SCALAR(
        "MAP_VALUES", "MAP", 0, "The values of a map.", ROW("MAP<K, V>", "ARRAY<V>", f_map_values)),
    SCALAR("AS_MAP",
           "MAP",
           0,
           "A map from an array of keys and an array of values.",
           ROW("ARRAY<STRING>, ARRAY<T>", "MAP<STRING, T>", f_as_map)),
    /* regular expressions (POSIX extended; a constant pattern is compiled once), JSON,
       encodings */
    {.size = sizeof(weir_function),
     .name = "REGEXP_EXTRACT",
     .author = "weir",
     .version = WR_VERSION,
     .kind = WEIR_SCALAR,
     .category = STR,
     .description = "The first match of a regular expression (POSIX extended), or of one of its "
                    "groups.",
     SIGS(ROW("STRING, STRING", STR, f_regexp_extract),
          ROW("STRING, STRING, BIGINT", STR, f_regexp_extract)),
     .prepare = rx_prepare,
     .release = rx_release},
    {.size = sizeof(weir_function),
     .name = "REGEXP_EXTRACT_ALL",
     .author = "weir",
     .version = WR_VERSION,
     .kind = WEIR_SCALAR,
     .category = STR,
     .description = "Every match of a regular expression, or of one of its groups.",
     SIGS(ROW("STRING, STRING", "ARRAY<STRING>", f_regexp_extract_all),
          ROW("STRING, STRING, BIGINT", "ARRAY<STRING>", f_regexp_extract_all)),
     .prepare = rx_prepare,
     .release = rx_release},
    {.size = sizeof(weir_function),
     .name = "REGEXP_REPLACE",
     .author = "weir",
     .version = WR_VERSION,
     .kind = WEIR_SCALAR,
     .category = STR,
     .description = "Replaces every match of a regular expression.",
     SIGS(ROW("STRING, STRING, STRING", STR, f_regexp_replace)),
     .prepare = rx_prepare,
     .release = rx_release},
    {.size = sizeof(weir_function),
     .name = "REGEXP_SPLIT_TO_ARRAY",
     .author = "weir",
     .version = WR_VERSION,
     .kind = WEIR_SCALAR,
     .category = STR,
     .description = "Splits a string at every match of a regular expression.",
     SIGS(ROW("STRING, STRING", "ARRAY<STRING>", f_regexp_split)),
     .prepare = rx_prepare,
     .release = rx_release},
    SCALAR("EXTRACTJSONFIELD",
           "JSON",
           0,
           "The value at a JSON path ($.a.b[0]) of a JSON string, as text.",
           ROW("STRING, STRING", STR, f_extractjsonfield)),
    SCALAR("ENCODE",
           STR,
           0,
           "Converts between the encodings hex, utf8, ascii and base64.",
           ROW("STRING, STRING, STRING", STR, f_encode)),
    /* dates and times (tz database names or fixed offsets) */
    SCALAR("TIMESTAMPTOSTRING",
           DT,
           0,
           "Formats milliseconds since the epoch with a Java pattern, in a zone (UTC by "
           "default).",
           ROW("BIGINT, STRING", STR, f_timestamptostring),
           ROW("BIGINT, STRING, STRING", STR, f_timestamptostring)),
    SCALAR("STRINGTOTIMESTAMP",
           DT,
           0,
           "Parses text with a Java pattern into milliseconds since the epoch.",
           ROW("STRING, STRING", "BIGINT", f_stringtotimestamp),
           ROW("STRING, STRING, STRING", "BIGINT", f_stringtotimestamp)),
    SCALAR("FORMAT_TIMESTAMP",
           DT,
           0,
           "Formats a TIMESTAMP with a Java pattern.",
           ROW("TIMESTAMP, STRING", STR, f_format_timestamp),
           ROW("TIMESTAMP, STRING, STRING", STR, f_format_timestamp)),
    SCALAR("PARSE_TIMESTAMP",
           DT,
           0,
           "Parses text with a Java pattern into a TIMESTAMP.",
           ROW("STRING, STRING", "TIMESTAMP", f_parse_timestamp),
           ROW("STRING, STRING, STRING", "TIMESTAMP", f_parse_timestamp)),
    SCALAR("FORMAT_DATE",
           DT,
           0,
           "Formats a DATE with a Java pattern.",
           ROW("DATE, STRING", STR, f_format_date)),
    SCALAR("PARSE_DATE",
           DT,
           0,
           "Parses text with a Java pattern into a DATE.",
           ROW("STRING, STRING", "DATE", f_parse_date)),
    SCALAR("TIMESTAMPADD",
           DT,
           0,
           "Adds n units (MILLISECONDS ... DAYS) to a TIMESTAMP.",
           ROW("STRING, BIGINT, TIMESTAMP", "TIMESTAMP", f_timestampadd)),
    SCALAR("TIMESTAMPSUB",
           DT,
           0,
           "Subtracts n units from a TIMESTAMP.",
           ROW("STRING, BIGINT, TIMESTAMP", "TIMESTAMP", f_timestampsub)),
    SCALAR(
        "DATEADD", DT, 0, "Adds n DAYS to a DATE.", ROW("STRING, BIGINT, DATE", "DATE", f_dateadd)),
    SCALAR("CONVERT_TZ",
           DT,
           0,
           "Moves a TIMESTAMP from one zone's wall clock to another's (tz database names or "
           "fixed offsets).",
           ROW("TIMESTAMP, STRING, STRING", "TIMESTAMP", f_convert_tz)),
    SCALAR("UNIX_DATE",
           DT,
           ON_NULL | NONDET,
           "Days since the epoch: today, or of a DATE.",
           ROW("", "INT", f_unix_date),
           ROW("DATE", "INT", f_unix_date)),
    SCALAR("FROM_DAYS",
           DT,
           0,
           "The DATE that many days after the epoch.",
           ROW("INT", "DATE", f_from_days)),
    SCALAR("UNIX_TIMESTAMP",
           DT,
           ON_NULL | NONDET,
           "Milliseconds since the epoch: now, or of a TIMESTAMP.",
           ROW("", "BIGINT", f_unix_timestamp),
           ROW("TIMESTAMP", "BIGINT", f_unix_timestamp)),
    SCALAR("FROM_UNIXTIME",
           DT,
           0,
           "A TIMESTAMP from milliseconds since the epoch.",
           ROW("BIGINT", "TIMESTAMP", f_from_unixtime)),
    /* higher-order functions: the analyser types their lambdas from the collection and
       evaluates them itself */
    LAMBDA("TRANSFORM",
           "Applies a lambda to every element of an array, or to every key and value of a map.",
           TYPED("ARRAY<T>, x => U", "ARRAY<U>"),
           TYPED("MAP<K, V>, (k, v) => K2, (k, v) => V2", "MAP<K2, V2>")),
    LAMBDA("FILTER",
           "The elements of an array, or entries of a map, for which a lambda is true.",
           TYPED("ARRAY<T>, x => BOOLEAN", "ARRAY<T>"),
           TYPED("MAP<K, V>, (k, v) => BOOLEAN", "MAP<K, V>")),
    LAMBDA("REDUCE",
           "Folds an array or a map into a state with a lambda.",
           TYPED("ARRAY<T>, S, (s, x) => S", "S"),
           TYPED("MAP<K, V>, S, (s, k, v) => S", "S")),
    /* aggregates: typed here, their states and operations are runtime/agg.c's */
    AGGREGATE("COUNT",
              "The number of rows (COUNT(*)) or of non-null values.",
              TYPED("", "BIGINT"),
              TYPED("T", "BIGINT")),
    AGGREGATE("COUNT_DISTINCT", "The number of distinct non-null values.", TYPED("T", "BIGINT")),
    AGGREGATE("SUM",
              "The sum of the non-null values.",
              TYPED("INT", "INT"),
              TYPED("BIGINT", "BIGINT"),
              TYPED("DOUBLE", "DOUBLE"),
              TYPED("DECIMAL", "DECIMAL")),
    AGGREGATE("AVG",
              "The mean of the non-null values.",
              TYPED("INT", "DOUBLE"),
              TYPED("BIGINT", "DOUBLE"),
              TYPED("DOUBLE", "DOUBLE"),
              TYPED("DECIMAL", "DOUBLE")),
    AGGREGATE("MIN", "The smallest non-null value.", TYPED("T", "T")),
    AGGREGATE("MAX", "The largest non-null value.", TYPED("T", "T")),
    AGGREGATE("STDDEV_SAMP",
              "The sample standard deviation.",
              TYPED("INT", "DOUBLE"),
              TYPED("BIGINT", "DOUBLE"),
              TYPED("DOUBLE", "DOUBLE"),
              TYPED("DECIMAL", "DOUBLE")),
    AGGREGATE("COLLECT_LIST", "Every value, in arrival order.", TYPED("T", "ARRAY<T>")),
    AGGREGATE("COLLECT_SET", "The distinct values.", TYPED("T", "ARRAY<T>")),
    AGGREGATE("LATEST_BY_OFFSET",
              "The value of the record with the highest offset (nulls ignored unless told).",
              TYPED("T", "T"),
              TYPED("T, BOOLEAN", "T")),
    AGGREGATE("EARLIEST_BY_OFFSET",
              "The value of the record with the lowest offset (nulls ignored unless told).",
              TYPED("T", "T"),
              TYPED("T, BOOLEAN", "T")),
    AGGREGATE("TOPK",
              "The k largest values.",
              TYPED("T, INT", "ARRAY<T>"),
              TYPED("T, BIGINT", "ARRAY<T>")),
    AGGREGATE("TOPKDISTINCT",
              "The k largest distinct values.",
              TYPED("T, INT", "ARRAY<T>"),
              TYPED("T, BIGINT", "ARRAY<T>")),
    AGGREGATE("HISTOGRAM", "How often each value occurs.", TYPED("STRING", "MAP<STRING, BIGINT>")),
    /* table functions */
    FN("EXPLODE",
       WEIR_TABLE,
       "TABLE",
       ON_NULL,
       "One output row per element of an array.",
       {.params = "ARRAY<T>", .returns = "T", .table = t_explode}),
};

/* The library's init, as a shared object's weir_udf_init. */
static int
builtin_init(const weir_host *host, weir_registry *registry)
{
    H = host;
    for (size_t i = 0; i < sizeof FUNCTIONS / sizeof FUNCTIONS[0]; i++)
        if (host->register_function(registry, &FUNCTIONS[i]) != 0)
            return -1;
    return 0;
}

int
wr_fn_register_builtins(wr_fn_registry *r, wr_err *err)
{
    return wr_udf_register_internal(r, builtin_init, err);
}
