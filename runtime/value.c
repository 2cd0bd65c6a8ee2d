/*
 * value.c - building, storing, comparing and printing SQL values (see value.h).
 */
#include "runtime/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/timefmt.h"
#include "runtime/types.h"

/* ---- building ---------------------------------------------------------------------------- */

wr_val
wr_val_bool(bool b)
{
    wr_val v = {.type = wr_type_of(WR_T_BOOLEAN), .u.b = b};
    return v;
}

wr_val
wr_val_int(int32_t i)
{
    wr_val v = {.type = wr_type_of(WR_T_INT), .u.i32 = i};
    return v;
}

wr_val
wr_val_bigint(int64_t i)
{
    wr_val v = {.type = wr_type_of(WR_T_BIGINT), .u.i64 = i};
    return v;
}

wr_val
wr_val_double(double d)
{
    wr_val v = {.type = wr_type_of(WR_T_DOUBLE), .u.f64 = d};
    return v;
}

wr_val
wr_val_timestamp(int64_t ms)
{
    wr_val v = {.type = wr_type_of(WR_T_TIMESTAMP), .u.i64 = ms};
    return v;
}

wr_val
wr_val_date(int32_t days)
{
    wr_val v = {.type = wr_type_of(WR_T_DATE), .u.i32 = days};
    return v;
}

wr_val
wr_val_time(int32_t ms)
{
    wr_val v = {.type = wr_type_of(WR_T_TIME), .u.i32 = ms};
    return v;
}

wr_val
wr_val_string(const char *p, int32_t len)
{
    wr_val v = {.type = wr_type_of(WR_T_STRING), .u.s = {p, len}};
    return v;
}

wr_val
wr_val_bytes(const char *p, int32_t len)
{
    wr_val v = {.type = wr_type_of(WR_T_BYTES), .u.s = {p, len}};
    return v;
}

wr_val
wr_val_decimal(const wr_sql_type *t, wr_i128 unscaled)
{
    wr_val v = {.type = t, .u.dec = unscaled};
    return v;
}

wr_val
wr_val_string_copy(wr_arena *a, const char *s, int32_t len)
{
    /* an empty string may come without bytes (s NULL): nothing is read then */
    char *p = wr_arena_alloc(a, len > 0 ? (size_t)len : 1);
    if (p == NULL)
        return wr_val_null(wr_type_of(WR_T_STRING));
    if (len > 0)
        memcpy(p, s, (size_t)len);
    return wr_val_string(p, len > 0 ? len : 0);
}

char *
wr_val_cstr(wr_arena *a, const wr_val *x)
{
    char *s = wr_arena_alloc(a, (size_t)x->u.s.len + 1);
    if (s != NULL) {
        if (x->u.s.len > 0)
            memcpy(s, x->u.s.p, (size_t)x->u.s.len);
        s[x->u.s.len] = 0;
    }
    return s;
}

/* ---- vectors ----------------------------------------------------------------------------- */

static size_t
elem_size(wr_tkind k)
{
    switch (k) {
    case WR_T_BOOLEAN:
        return sizeof(bool);
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        return sizeof(int32_t);
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        return sizeof(int64_t);
    case WR_T_DOUBLE:
        return sizeof(double);
    case WR_T_DECIMAL:
        return sizeof(wr_i128);
    case WR_T_STRING:
    case WR_T_BYTES:
        return sizeof(wr_str);
    default:
        return sizeof(wr_val);
    }
}

int
wr_vec_alloc(wr_vec *v, const wr_sql_type *t, int32_t n, wr_arena *a)
{
    size_t rows = n > 0 ? (size_t)n : 1;
    v->type = t;
    v->null = wr_arena_calloc(a, rows, 1);
    v->d.val = wr_arena_calloc(a, rows, elem_size(t->kind));
    return v->null != NULL && v->d.val != NULL ? WR_OK : WR_ENOMEM;
}

wr_val
wr_vec_get(const wr_vec *v, int32_t i)
{
    wr_val x = {.type = v->type, .null = v->null[i] != 0};
    if (x.null)
        return x;
    switch (v->type->kind) {
    case WR_T_BOOLEAN:
        x.u.b = v->d.b[i];
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        x.u.i32 = v->d.i32[i];
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        x.u.i64 = v->d.i64[i];
        break;
    case WR_T_DOUBLE:
        x.u.f64 = v->d.f64[i];
        break;
    case WR_T_DECIMAL:
        x.u.dec = v->d.dec[i];
        break;
    case WR_T_STRING:
    case WR_T_BYTES:
        x.u.s = v->d.s[i];
        break;
    default:
        x = v->d.val[i];
        x.type = v->type;
        break;
    }
    return x;
}

void
wr_vec_set(wr_vec *v, int32_t i, const wr_val *x)
{
    if (x == NULL || x->null) {
        v->null[i] = 1;
        return;
    }
    v->null[i] = 0;
    switch (v->type->kind) {
    case WR_T_BOOLEAN:
        v->d.b[i] = x->u.b;
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        v->d.i32[i] = x->u.i32;
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        v->d.i64[i] = x->u.i64;
        break;
    case WR_T_DOUBLE:
        v->d.f64[i] = x->u.f64;
        break;
    case WR_T_DECIMAL:
        v->d.dec[i] = x->u.dec;
        break;
    case WR_T_STRING:
    case WR_T_BYTES:
        v->d.s[i] = x->u.s;
        break;
    default:
        v->d.val[i] = *x;
        break;
    }
}

/* ---- decimals and doubles ---------------------------------------------------------------- */

static const wr_i128 *
pow10s(void)
{
    static wr_i128 p[39];
    static bool init;
    if (!init) {
        p[0] = 1;
        for (int i = 1; i < 39; i++)
            p[i] = p[i - 1] * 10;
        init = true; /* idempotent: racing initialisers write the same values */
    }
    return p;
}

wr_i128
wr_decimal_pow10(int n)
{
    return pow10s()[n < 0 ? 0 : n > 38 ? 38 : n];
}

void
wr_decimal_format(wr_buf *b, wr_i128 u, int scale)
{
    char tmp[48];
    int n = 0;
    bool neg = u < 0;
    wr_u128 m = neg ? (wr_u128)0 - (wr_u128)u : (wr_u128)u;
    do {
        tmp[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m != 0);
    while (n <= scale)
        tmp[n++] = '0';
    if (neg)
        wr_buf_put_u8(b, '-');
    for (int i = n - 1; i >= 0; i--) {
        wr_buf_put_u8(b, (uint8_t)tmp[i]);
        if (i == scale && scale > 0)
            wr_buf_put_u8(b, '.');
    }
}

int
wr_decimal_parse(const char *s, size_t len, int precision, int scale, wr_i128 *out)
{
    const wr_i128 *p = pow10s();
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    wr_i128 v = 0;
    int frac = 0, dropped = -1; /* dropped: the first digit past the scale (rounds half up) */
    bool point = false, any = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (point)
                return WR_EINVAL;
            point = true;
            continue;
        }
        if (c < '0' || c > '9')
            return WR_EINVAL;
        any = true;
        if (point && frac >= scale) {
            if (dropped < 0)
                dropped = c - '0';
            continue;
        }
        /* v * 10 + digit stays below 10^38 exactly when v < 10^37: checked first, since
           10^38 * 10 does not fit in 128 bits */
        if (v >= p[37])
            return WR_ERANGE;
        v = v * 10 + (c - '0');
        if (point)
            frac++;
    }
    if (!any)
        return WR_EINVAL;
    /* frac <= scale <= precision: v * 10^(scale - frac) < 10^precision exactly when
       v < 10^(precision - scale + frac); refused before the multiplication can overflow */
    if (v >= p[precision - scale + frac])
        return WR_ERANGE;
    v *= p[scale - frac];
    if (dropped >= 5)
        v += 1;
    if (v >= p[precision])
        return WR_ERANGE;
    *out = neg ? -v : v;
    return WR_OK;
}

void
wr_double_format(wr_buf *b, double d)
{
    if (isnan(d)) {
        wr_buf_printf(b, "NaN");
        return;
    }
    if (isinf(d)) {
        wr_buf_printf(b, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* the shortest %.*g that reads back the same */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* Java's Double.toString: plain notation for 1e-3 <= |d| < 1e7, else d.dddE[-]n; always
       a digit after the point */
    double ad = fabs(d);
    char *e = strchr(tmp, 'e');
    if (ad != 0 && (ad < 1e-3 || ad >= 1e7)) {
        int exp = 0;
        char mant[40];
        if (e != NULL) {
            exp = atoi(e + 1);
            snprintf(mant, sizeof mant, "%.*s", (int)(e - tmp), tmp);
        } else {
            /* %g chose plain notation: renormalise */
            snprintf(tmp, sizeof tmp, "%.16e", d);
            for (int prec = 0; prec <= 16; prec++) {
                snprintf(tmp, sizeof tmp, "%.*e", prec, d);
                if (strtod(tmp, NULL) == d)
                    break;
            }
            e = strchr(tmp, 'e');
            exp = atoi(e + 1);
            snprintf(mant, sizeof mant, "%.*s", (int)(e - tmp), tmp);
        }
        wr_buf_printf(b, "%s%sE%d", mant, strchr(mant, '.') ? "" : ".0", exp);
        return;
    }
    if (e != NULL) { /* %g used an exponent inside Java's plain range: print plainly */
        snprintf(tmp, sizeof tmp, "%.17f", d);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*f", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    wr_buf_printf(b, "%s%s", tmp, strchr(tmp, '.') ? "" : ".0");
}

/* ---- comparing -------------------------------------------------------------------------- */

double
wr_val_as_double(const wr_val *x)
{
    switch (x->type->kind) {
    case WR_T_INT:
        return x->u.i32;
    case WR_T_BIGINT:
        return (double)x->u.i64;
    case WR_T_DECIMAL:
        return (double)x->u.dec / (double)pow10s()[x->type->scale];
    default:
        return x->u.f64;
    }
}

static int
cmp_i128(wr_i128 a, wr_i128 b)
{
    return a < b ? -1 : a > b;
}

/* Unscaled a at scale sa against unscaled b at scale sb, exactly: the integer parts first, then
   the fractions at the larger scale (each below 10^38, so nothing overflows: scaling the whole
   value up would for DECIMAL(38, 0) against DECIMAL(38, 37)). */
static int
cmp_scaled(wr_i128 a, int sa, wr_i128 b, int sb)
{
    const wr_i128 *p = pow10s();
    wr_i128 ia = a / p[sa], ib = b / p[sb];
    if (ia != ib)
        return cmp_i128(ia, ib);
    int s = sa > sb ? sa : sb;
    return cmp_i128(a % p[sa] * p[s - sa], b % p[sb] * p[s - sb]);
}

/* The union member a kind's values use: values of kinds with different ones (a STRUCT and a
   STRING) are never read as each other. */
static int
rep_of(wr_tkind k)
{
    switch (k) {
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        return WR_T_INT;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        return WR_T_BIGINT;
    case WR_T_BYTES:
        return WR_T_STRING;
    default:
        return (int)k;
    }
}

int
wr_val_cmp(const wr_val *x, const wr_val *y)
{
    wr_tkind kx = x->type->kind, ky = y->type->kind;
    if (kx != ky && wr_type_is_numeric(x->type) && wr_type_is_numeric(y->type)) {
        if (kx == WR_T_DOUBLE || ky == WR_T_DOUBLE) {
            double a = wr_val_as_double(x), b = wr_val_as_double(y);
            return a < b ? -1 : a > b;
        }
        /* integers and decimals: compare exactly */
        int sx = kx == WR_T_DECIMAL ? x->type->scale : 0,
            sy = ky == WR_T_DECIMAL ? y->type->scale : 0;
        wr_i128 a = kx == WR_T_DECIMAL ? x->u.dec : kx == WR_T_INT ? x->u.i32 : x->u.i64;
        wr_i128 b = ky == WR_T_DECIMAL ? y->u.dec : ky == WR_T_INT ? y->u.i32 : y->u.i64;
        return cmp_scaled(a, sx, b, sy);
    }
    if (rep_of(kx) != rep_of(ky)) /* no common type: ordered by kind, never equal */
        return (int)kx < (int)ky ? -1 : 1;
    switch (kx) {
    case WR_T_BOOLEAN:
        return (int)x->u.b - (int)y->u.b;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        return x->u.i32 < y->u.i32 ? -1 : x->u.i32 > y->u.i32;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        return x->u.i64 < y->u.i64 ? -1 : x->u.i64 > y->u.i64;
    case WR_T_DOUBLE:
        return x->u.f64 < y->u.f64 ? -1 : x->u.f64 > y->u.f64;
    case WR_T_DECIMAL:
        return cmp_scaled(x->u.dec, x->type->scale, y->u.dec, y->type->scale);
    case WR_T_STRING:
    case WR_T_BYTES: {
        int32_t n = x->u.s.len < y->u.s.len ? x->u.s.len : y->u.s.len;
        int c = n > 0 ? memcmp(x->u.s.p, y->u.s.p, (size_t)n) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return x->u.s.len < y->u.s.len ? -1 : x->u.s.len > y->u.s.len;
    }
    case WR_T_ARRAY: {
        for (int32_t i = 0; i < x->u.arr.n && i < y->u.arr.n; i++) {
            const wr_val *a = &x->u.arr.v[i], *b = &y->u.arr.v[i];
            int c = a->null || b->null ? (int)b->null - (int)a->null : wr_val_cmp(a, b);
            if (c != 0)
                return c;
        }
        return x->u.arr.n < y->u.arr.n ? -1 : x->u.arr.n > y->u.arr.n;
    }
    case WR_T_MAP:
    case WR_T_STRUCT:
        return wr_val_equal(x, y) ? 0 : 1; /* unordered: equality only */
    }
    return 0;
}

static bool
null_or_equal(const wr_val *a, const wr_val *b)
{
    if (a->null || b->null)
        return a->null && b->null;
    return wr_val_equal(a, b);
}

bool
wr_val_equal(const wr_val *x, const wr_val *y)
{
    if (x->type->kind == WR_T_MAP && y->type->kind == WR_T_MAP) {
        if (x->u.map.n != y->u.map.n)
            return false;
        for (int32_t i = 0; i < x->u.map.n; i++) {
            int32_t j = 0;
            while (j < y->u.map.n && !null_or_equal(&x->u.map.k[i], &y->u.map.k[j]))
                j++;
            if (j == y->u.map.n || !null_or_equal(&x->u.map.v[i], &y->u.map.v[j]))
                return false;
        }
        return true;
    }
    if (x->type->kind == WR_T_STRUCT && y->type->kind == WR_T_STRUCT) {
        if (x->type->nfields != y->type->nfields)
            return false;
        for (int i = 0; i < x->type->nfields; i++)
            if (!null_or_equal(&x->u.st.f[i], &y->u.st.f[i]))
                return false;
        return true;
    }
    return wr_val_cmp(x, y) == 0;
}

/* ---- printing --------------------------------------------------------------------------- */

static void
date_format(wr_buf *b, int64_t days)
{
    int64_t y;
    int m, d;
    wr_civil_from_days(days, &y, &m, &d);
    wr_buf_printf(b, "%04lld-%02d-%02d", (long long)y, m, d);
}

static void
time_format(wr_buf *b, int64_t ms, bool with_ms)
{
    wr_buf_printf(b, "%02lld:%02lld:%02lld", (long long)(ms / 3600000),
                  (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60));
    if (with_ms || ms % 1000 != 0)
        wr_buf_printf(b, ".%03lld", (long long)(ms % 1000));
}

static void
quoted_if_string(wr_buf *b, const wr_val *x)
{
    if (x->null) {
        wr_buf_printf(b, "null");
    } else if (x->type->kind == WR_T_STRING) {
        wr_buf_put_u8(b, '\'');
        wr_buf_append(b, x->u.s.p, (size_t)x->u.s.len);
        wr_buf_put_u8(b, '\'');
    } else {
        wr_val_to_string(b, x);
    }
}

void
wr_val_to_string(wr_buf *b, const wr_val *x)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    switch (x->type->kind) {
    case WR_T_BOOLEAN:
        wr_buf_printf(b, "%s", x->u.b ? "true" : "false");
        break;
    case WR_T_INT:
        wr_buf_printf(b, "%d", x->u.i32);
        break;
    case WR_T_BIGINT:
        wr_buf_printf(b, "%lld", (long long)x->u.i64);
        break;
    case WR_T_DOUBLE:
        wr_double_format(b, x->u.f64);
        break;
    case WR_T_DECIMAL:
        wr_decimal_format(b, x->u.dec, x->type->scale);
        break;
    case WR_T_STRING:
        wr_buf_append(b, x->u.s.p, (size_t)x->u.s.len);
        break;
    case WR_T_BYTES: /* base64, as ksqlDB prints BYTES */
        for (int32_t i = 0; i < x->u.s.len; i += 3) {
            uint32_t v = (uint32_t)(uint8_t)x->u.s.p[i] << 16;
            if (i + 1 < x->u.s.len)
                v |= (uint32_t)(uint8_t)x->u.s.p[i + 1] << 8;
            if (i + 2 < x->u.s.len)
                v |= (uint8_t)x->u.s.p[i + 2];
            wr_buf_put_u8(b, (uint8_t)b64[v >> 18 & 63]);
            wr_buf_put_u8(b, (uint8_t)b64[v >> 12 & 63]);
            wr_buf_put_u8(b, i + 1 < x->u.s.len ? (uint8_t)b64[v >> 6 & 63] : '=');
            wr_buf_put_u8(b, i + 2 < x->u.s.len ? (uint8_t)b64[v & 63] : '=');
        }
        break;
    case WR_T_TIMESTAMP: {
        int64_t ms = x->u.i64, days = wr_days_of_ms(ms);
        date_format(b, days);
        wr_buf_put_u8(b, 'T');
        time_format(b, wr_ms_of_day(ms), true);
        break;
    }
    case WR_T_DATE:
        date_format(b, x->u.i32);
        break;
    case WR_T_TIME:
        time_format(b, x->u.i32, false);
        break;
    case WR_T_ARRAY:
        wr_buf_put_u8(b, '[');
        for (int32_t i = 0; i < x->u.arr.n; i++) {
            if (i)
                wr_buf_printf(b, ", ");
            quoted_if_string(b, &x->u.arr.v[i]);
        }
        wr_buf_put_u8(b, ']');
        break;
    case WR_T_MAP:
        wr_buf_put_u8(b, '{');
        for (int32_t i = 0; i < x->u.map.n; i++) {
            if (i)
                wr_buf_printf(b, ", ");
            quoted_if_string(b, &x->u.map.k[i]);
            wr_buf_put_u8(b, '=');
            quoted_if_string(b, &x->u.map.v[i]);
        }
        wr_buf_put_u8(b, '}');
        break;
    case WR_T_STRUCT:
        wr_buf_printf(b, "Struct{");
        for (int i = 0, k = 0; i < x->type->nfields; i++) {
            if (x->u.st.f[i].null)
                continue;
            wr_buf_printf(b, "%s%s=", k++ ? "," : "", x->type->fields[i].name);
            wr_val_to_string(b, &x->u.st.f[i]);
        }
        wr_buf_put_u8(b, '}');
        break;
    }
}
