/*
 * rowcodec.c - value and key codecs for state (rowcodec.h).
 */
#include "runtime/rowcodec.h"

#include <string.h>

#include "src/base/varint.h"

#define MAX_ELEMS (1 << 24)

void
wr_f64_put(wr_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    wr_buf_put_be64(b, u);
}

double
wr_f64_get(wr_rd *r)
{
    uint64_t u = wr_rd_be64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void
put_i128(wr_buf *b, wr_i128 v)
{
    wr_buf_put_be64(b, (uint64_t)((wr_u128)v >> 64));
    wr_buf_put_be64(b, (uint64_t)v);
}

static wr_i128
get_i128(wr_rd *r)
{
    wr_u128 hi = wr_rd_be64(r);
    wr_u128 lo = wr_rd_be64(r);
    return (wr_i128)(hi << 64 | lo);
}

void
wr_val_encode(wr_buf *b, const wr_sql_type *t, const wr_val *x)
{
    if (x == NULL || x->null || t == NULL) {
        wr_buf_put_u8(b, 0);
        return;
    }
    wr_buf_put_u8(b, 1);
    switch (t->kind) {
    case WR_T_BOOLEAN:
        wr_buf_put_u8(b, x->u.b ? 1 : 0);
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        wr_buf_put_varint(b, x->u.i32);
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        wr_buf_put_varint(b, x->u.i64);
        break;
    case WR_T_DOUBLE:
        wr_f64_put(b, x->u.f64);
        break;
    case WR_T_DECIMAL:
        put_i128(b, x->u.dec);
        break;
    case WR_T_STRING:
    case WR_T_BYTES:
        wr_buf_put_uvarint(b, (uint64_t)x->u.s.len);
        wr_buf_append(b, x->u.s.p, (size_t)x->u.s.len);
        break;
    case WR_T_ARRAY:
        wr_buf_put_uvarint(b, (uint64_t)x->u.arr.n);
        for (int32_t i = 0; i < x->u.arr.n; i++)
            wr_val_encode(b, t->elem, &x->u.arr.v[i]);
        break;
    case WR_T_MAP:
        wr_buf_put_uvarint(b, (uint64_t)x->u.map.n);
        for (int32_t i = 0; i < x->u.map.n; i++) {
            wr_val_encode(b, t->key, &x->u.map.k[i]);
            wr_val_encode(b, t->elem, &x->u.map.v[i]);
        }
        break;
    case WR_T_STRUCT:
        for (int i = 0; i < t->nfields; i++)
            wr_val_encode(b, t->fields[i].type, &x->u.st.f[i]);
        break;
    default:
        break;
    }
}

static int32_t
rd_count(wr_rd *r)
{
    uint64_t n = wr_rd_uvarint(r, 10);
    if (n > MAX_ELEMS || n > wr_rd_left(r)) {
        wr_rd_fail(r, WR_ECORRUPT);
        return 0;
    }
    return (int32_t)n;
}

void
wr_val_decode(wr_rd *r, const wr_sql_type *t, wr_val *out, wr_arena *a)
{
    *out = wr_val_null(t);
    if (wr_rd_u8(r) != 1 || r->err)
        return;
    out->null = false;
    switch (t->kind) {
    case WR_T_BOOLEAN:
        out->u.b = wr_rd_u8(r) != 0;
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        out->u.i32 = (int32_t)wr_rd_varint(r, 10);
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        out->u.i64 = wr_rd_varint(r, 10);
        break;
    case WR_T_DOUBLE:
        out->u.f64 = wr_f64_get(r);
        break;
    case WR_T_DECIMAL:
        out->u.dec = get_i128(r);
        break;
    case WR_T_STRING:
    case WR_T_BYTES: {
        int32_t n = rd_count(r);
        const uint8_t *p = wr_rd_take(r, (size_t)n);
        char *s = p ? wr_arena_alloc(a, (size_t)n + 1) : NULL;
        if (s == NULL) {
            wr_rd_fail(r, WR_ENOMEM);
            break;
        }
        memcpy(s, p, (size_t)n);
        s[n] = 0;
        out->u.s = (wr_str){s, n};
        break;
    }
    case WR_T_ARRAY: {
        int32_t n = rd_count(r);
        wr_val *v = wr_arena_calloc(a, (size_t)n + 1, sizeof *v);
        if (v == NULL) {
            wr_rd_fail(r, WR_ENOMEM);
            break;
        }
        for (int32_t i = 0; i < n && !r->err; i++)
            wr_val_decode(r, t->elem, &v[i], a);
        out->u.arr.n = n;
        out->u.arr.v = v;
        break;
    }
    case WR_T_MAP: {
        int32_t n = rd_count(r);
        wr_val *k = wr_arena_calloc(a, (size_t)n + 1, sizeof *k);
        wr_val *v = wr_arena_calloc(a, (size_t)n + 1, sizeof *v);
        if (k == NULL || v == NULL) {
            wr_rd_fail(r, WR_ENOMEM);
            break;
        }
        for (int32_t i = 0; i < n && !r->err; i++) {
            wr_val_decode(r, t->key, &k[i], a);
            wr_val_decode(r, t->elem, &v[i], a);
        }
        out->u.map.n = n;
        out->u.map.k = k;
        out->u.map.v = v;
        break;
    }
    case WR_T_STRUCT: {
        wr_val *f = wr_arena_calloc(a, (size_t)t->nfields + 1, sizeof *f);
        if (f == NULL) {
            wr_rd_fail(r, WR_ENOMEM);
            break;
        }
        for (int i = 0; i < t->nfields && !r->err; i++)
            wr_val_decode(r, t->fields[i].type, &f[i], a);
        out->u.st.f = f;
        break;
    }
    default:
        wr_rd_fail(r, WR_ECORRUPT);
        break;
    }
    if (r->err)
        *out = wr_val_null(t);
}

/* ---- the order-preserving key codec ----------------------------------------------------- */

void
wr_key_put_i64(wr_buf *b, int64_t v)
{
    wr_buf_put_be64(b, (uint64_t)v ^ (1ull << 63));
}

int64_t
wr_key_get_i64(const uint8_t *p)
{
    return (int64_t)(wr_be64_get(p) ^ (1ull << 63));
}

/* bytes with 0x00 escaped as 0x00 0xff, ended by 0x00 0x01: prefix-free and ordered */
static void
put_bytes(wr_buf *b, const char *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        wr_buf_put_u8(b, (uint8_t)p[i]);
        if (p[i] == 0)
            wr_buf_put_u8(b, 0xff);
    }
    wr_buf_put_u8(b, 0);
    wr_buf_put_u8(b, 1);
}

static wr_str
get_bytes(wr_rd *r, wr_arena *a)
{
    wr_str s = {"", 0};
    size_t cap = wr_rd_left(r);
    char *o = wr_arena_alloc(a, cap + 1);
    if (o == NULL) {
        wr_rd_fail(r, WR_ENOMEM);
        return s;
    }
    int32_t n = 0;
    for (;;) {
        uint8_t c = wr_rd_u8(r);
        if (r->err)
            return s;
        if (c == 0) {
            uint8_t d = wr_rd_u8(r);
            if (d == 1)
                break;
            if (d != 0xff) {
                wr_rd_fail(r, WR_ECORRUPT);
                return s;
            }
        }
        o[n++] = (char)c;
    }
    o[n] = 0;
    s.p = o;
    s.len = n;
    return s;
}

void
wr_key_encode(wr_buf *b, const wr_sql_type *t, const wr_val *x)
{
    if (x == NULL || x->null || t == NULL) {
        wr_buf_put_u8(b, 0);
        return;
    }
    wr_buf_put_u8(b, 1);
    switch (t->kind) {
    case WR_T_BOOLEAN:
        wr_buf_put_u8(b, x->u.b ? 1 : 0);
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        wr_buf_put_be32(b, (uint32_t)x->u.i32 ^ (1u << 31));
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        wr_key_put_i64(b, x->u.i64);
        break;
    case WR_T_DOUBLE: {
        double d = x->u.f64 == 0 ? 0.0 : x->u.f64; /* -0.0 and 0.0 are one key */
        uint64_t u;
        memcpy(&u, &d, 8);
        u = (u >> 63) ? ~u : u ^ (1ull << 63);
        wr_buf_put_be64(b, u);
        break;
    }
    case WR_T_DECIMAL: {
        wr_u128 u = (wr_u128)x->u.dec ^ ((wr_u128)1 << 127);
        wr_buf_put_be64(b, (uint64_t)(u >> 64));
        wr_buf_put_be64(b, (uint64_t)u);
        break;
    }
    case WR_T_STRING:
    case WR_T_BYTES:
        put_bytes(b, x->u.s.p, x->u.s.len);
        break;
    default: {
        wr_buf v = WR_BUF_INIT;
        wr_val_encode(&v, t, x);
        put_bytes(b, (const char *)v.data, (int32_t)v.len);
        wr_buf_free(&v);
        break;
    }
    }
}

void
wr_key_decode(wr_rd *r, const wr_sql_type *t, wr_val *out, wr_arena *a)
{
    *out = wr_val_null(t);
    if (wr_rd_u8(r) != 1 || r->err)
        return;
    out->null = false;
    switch (t->kind) {
    case WR_T_BOOLEAN:
        out->u.b = wr_rd_u8(r) != 0;
        break;
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        out->u.i32 = (int32_t)(wr_rd_be32(r) ^ (1u << 31));
        break;
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP: {
        const uint8_t *p = wr_rd_take(r, 8);
        out->u.i64 = p ? wr_key_get_i64(p) : 0;
        break;
    }
    case WR_T_DOUBLE: {
        uint64_t u = wr_rd_be64(r);
        u = (u >> 63) ? u ^ (1ull << 63) : ~u;
        memcpy(&out->u.f64, &u, 8);
        break;
    }
    case WR_T_DECIMAL: {
        wr_u128 hi = wr_rd_be64(r), lo = wr_rd_be64(r);
        out->u.dec = (wr_i128)((hi << 64 | lo) ^ ((wr_u128)1 << 127));
        break;
    }
    case WR_T_STRING:
    case WR_T_BYTES:
        out->u.s = get_bytes(r, a);
        break;
    default: {
        wr_str s = get_bytes(r, a);
        wr_rd sub = wr_rd_make(s.p, (size_t)s.len);
        if (!r->err)
            wr_val_decode(&sub, t, out, a);
        if (sub.err)
            wr_rd_fail(r, sub.err);
        break;
    }
    }
    if (r->err)
        *out = wr_val_null(t);
}
