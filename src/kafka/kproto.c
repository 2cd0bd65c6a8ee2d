/*
 * kproto.c - the interpreter behind kproto.h: decode and encode any described message version.
 *
 * Invariants: a decoder never trusts a length or a count before comparing it with the bytes
 * left in the frame (an array of n elements must have at least n times the smallest encoding of
 * one element left), so a hostile frame cannot make it allocate more than a small multiple of
 * its own size. Every error fails the reader, so the first error is the one reported.
 *
 * Ownership and threads: see kproto.h. No state of its own.
 */
#include "src/kafka/kproto.h"

#include <string.h>

#include "src/base/varint.h"
#include "src/kafka/kmsg.h"

static const uint8_t empty_bytes[1];

const wr_kapi *
wr_kp_api(int16_t key)
{
    for (int i = 0; i < WR_KAPI_COUNT; i++)
        if (wr_kapis[i].key == key)
            return &wr_kapis[i];
    return NULL;
}

static inline bool
present(const wr_kfield *f, int16_t v)
{
    return v >= f->vmin && v <= f->vmax;
}

static inline bool
nullable(const wr_kfield *f, int16_t v)
{
    return v >= f->nmin && v <= f->nmax;
}

typedef struct karr {
    void *v;
    int32_t n;
} karr;

static size_t
elem_size(const wr_kfield *f)
{
    switch (f->elem) {
    case WR_KT_INT32:
        return sizeof(int32_t);
    case WR_KT_INT64:
        return sizeof(int64_t);
    case WR_KT_STRING:
        return sizeof(wr_kstr);
    default:
        return f->sub->size;
    }
}

void
wr_kp_init(const wr_kstruct *d, void *obj, int16_t version)
{
    uint8_t *base = obj;
    memset(obj, 0, d->size);
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        void *p = base + f->off;
        switch (f->type) {
        case WR_KT_BOOL:
            *(bool *)p = f->def != 0;
            break;
        case WR_KT_INT8:
            *(int8_t *)p = (int8_t)f->def;
            break;
        case WR_KT_INT16:
            *(int16_t *)p = (int16_t)f->def;
            break;
        case WR_KT_INT32:
            *(int32_t *)p = (int32_t)f->def;
            break;
        case WR_KT_INT64:
            *(int64_t *)p = f->def;
            break;
        case WR_KT_STRING:
            *(wr_kstr *)p = f->def_null ? (wr_kstr){NULL, -1} : (wr_kstr){"", 0};
            break;
        case WR_KT_BYTES:
        case WR_KT_RECORDS:
            *(wr_kbytes *)p = f->def_null ? (wr_kbytes){NULL, -1} : (wr_kbytes){empty_bytes, 0};
            break;
        case WR_KT_ARRAY:
            ((karr *)p)->n = f->def_null ? -1 : 0;
            break;
        default:
            break;
        }
    }
    (void)version;
}

void *
wr_kp_new(wr_arena *a, const wr_kstruct *d, int16_t version)
{
    void *obj = wr_arena_alloc(a, d->size);
    if (obj != NULL)
        wr_kp_init(d, obj, version);
    return obj;
}

void *
wr_kp_new_array(wr_arena *a, const wr_kstruct *d, int32_t n, int16_t version)
{
    if (n <= 0)
        return wr_arena_alloc(a, 0);
    uint8_t *v = wr_arena_alloc(a, (size_t)n * d->size);
    if (v != NULL)
        for (int32_t i = 0; i < n; i++)
            wr_kp_init(d, v + (size_t)i * d->size, version);
    return v;
}

/* ---- decoding -------------------------------------------------------------------------- */

/* Smallest number of bytes one value of type t can take (for the array-count check). */
static size_t
min_wire(uint8_t t, const wr_kstruct *sub, int16_t v, bool flex)
{
    switch (t) {
    case WR_KT_BOOL:
    case WR_KT_INT8:
        return 1;
    case WR_KT_INT16:
        return 2;
    case WR_KT_INT32:
        return 4;
    case WR_KT_INT64:
        return 8;
    case WR_KT_UUID:
        return 16;
    case WR_KT_STRING:
        return flex ? 1 : 2;
    case WR_KT_BYTES:
    case WR_KT_RECORDS:
    case WR_KT_ARRAY:
        return flex ? 1 : 4;
    case WR_KT_STRUCT: {
        size_t n = flex ? 1 : 0;
        for (uint16_t i = 0; i < sub->nfields; i++) {
            const wr_kfield *f = &sub->fields[i];
            if (present(f, v) && f->tag < 0)
                n += min_wire(f->type, NULL, v, flex);
        }
        return n;
    }
    default:
        return 1;
    }
}

/* Reads a length: classic int16/int32 (-1 = null) or compact uvarint N+1 (0 = null). */
static int64_t
rd_len(wr_rd *rd, bool flex, int classic_bytes)
{
    if (flex)
        return (int64_t)wr_rd_uvarint32(rd) - 1;
    return classic_bytes == 2 ? (int16_t)wr_rd_be16(rd) : (int32_t)wr_rd_be32(rd);
}

static int
decode_struct(const wr_kstruct *d, void *obj, wr_rd *rd, int16_t v, bool flex, wr_arena *a);

static void
decode_value(uint8_t t,
             const wr_kfield *f,
             void *p,
             wr_rd *rd,
             int16_t v,
             bool flex,
             bool can_null,
             wr_arena *a)
{
    switch (t) {
    case WR_KT_BOOL:
        *(bool *)p = wr_rd_u8(rd) != 0;
        break;
    case WR_KT_INT8:
        *(int8_t *)p = (int8_t)wr_rd_u8(rd);
        break;
    case WR_KT_INT16:
        *(int16_t *)p = (int16_t)wr_rd_be16(rd);
        break;
    case WR_KT_INT32:
        *(int32_t *)p = (int32_t)wr_rd_be32(rd);
        break;
    case WR_KT_INT64:
        *(int64_t *)p = (int64_t)wr_rd_be64(rd);
        break;
    case WR_KT_UUID: {
        const uint8_t *b = wr_rd_take(rd, 16);
        if (b != NULL)
            memcpy(p, b, 16);
        break;
    }
    case WR_KT_STRING: {
        int64_t n = rd_len(rd, flex, 2);
        if (rd->err != 0)
            break;
        if (n < -1 || (n == -1 && !can_null) || n > INT16_MAX) {
            wr_rd_fail(rd, n == -1 ? WR_EINVAL : WR_ECORRUPT);
            break;
        }
        if (n == -1) {
            *(wr_kstr *)p = (wr_kstr){NULL, -1};
            break;
        }
        const uint8_t *s = wr_rd_take(rd, (size_t)n);
        if (s == NULL)
            break;
        char *c = wr_arena_strndup(a, (const char *)s, (size_t)n);
        if (c == NULL) {
            wr_rd_fail(rd, WR_ENOMEM);
            break;
        }
        *(wr_kstr *)p = (wr_kstr){c, (int32_t)n};
        break;
    }
    case WR_KT_BYTES:
    case WR_KT_RECORDS: {
        int64_t n = rd_len(rd, flex, 4);
        if (rd->err != 0)
            break;
        if (n < -1 || (n == -1 && !can_null)) {
            wr_rd_fail(rd, n == -1 ? WR_EINVAL : WR_ECORRUPT);
            break;
        }
        if (n == -1) {
            *(wr_kbytes *)p = (wr_kbytes){NULL, -1};
            break;
        }
        const uint8_t *b = wr_rd_take(rd, (size_t)n);
        if (b != NULL)
            *(wr_kbytes *)p = (wr_kbytes){n ? b : empty_bytes, (int32_t)n};
        break;
    }
    case WR_KT_ARRAY: {
        karr *arr = p;
        int64_t n = rd_len(rd, flex, 4);
        if (rd->err != 0)
            break;
        if (n < -1 || (n == -1 && !can_null)) {
            wr_rd_fail(rd, n == -1 ? WR_EINVAL : WR_ECORRUPT);
            break;
        }
        if (n == -1) {
            arr->v = NULL;
            arr->n = -1;
            break;
        }
        size_t mw = min_wire(f->elem, f->sub, v, flex);
        if (mw == 0)
            mw = 1;
        if ((uint64_t)n > wr_rd_left(rd) / mw) {
            wr_rd_fail(rd, WR_ECORRUPT);
            break;
        }
        size_t es = elem_size(f);
        uint8_t *items = wr_arena_calloc(a, n ? (size_t)n : 1, es);
        if (items == NULL) {
            wr_rd_fail(rd, WR_ENOMEM);
            break;
        }
        for (int64_t i = 0; i < n && rd->err == 0; i++) {
            void *e = items + (size_t)i * es;
            if (f->elem == WR_KT_STRUCT) {
                int rc = decode_struct(f->sub, e, rd, v, flex, a);
                if (rc != WR_OK)
                    wr_rd_fail(rd, rc);
            } else {
                decode_value(f->elem, f, e, rd, v, flex, false, a);
            }
        }
        arr->v = items;
        arr->n = (int32_t)n;
        break;
    }
    default:
        wr_rd_fail(rd, WR_EINVAL);
        break;
    }
}

/* Reads a tagged-field section, decoding the tags d knows and skipping the others. */
static void
decode_tags(const wr_kstruct *d, void *obj, wr_rd *rd, int16_t v, wr_arena *a)
{
    uint32_t count = wr_rd_uvarint32(rd);
    int64_t last = -1;
    for (uint32_t i = 0; i < count && rd->err == 0; i++) {
        uint32_t tag = wr_rd_uvarint32(rd);
        uint32_t size = wr_rd_uvarint32(rd);
        if (rd->err != 0)
            break;
        if ((int64_t)tag <= last || size > wr_rd_left(rd)) {
            wr_rd_fail(rd, WR_ECORRUPT);
            break;
        }
        last = tag;
        const uint8_t *body = wr_rd_take(rd, size);
        for (uint16_t j = 0; j < d->nfields; j++) {
            const wr_kfield *f = &d->fields[j];
            if (f->tag >= 0 && (uint32_t)f->tag == tag && present(f, v)) {
                wr_rd sub = wr_rd_make(body, size);
                decode_value(f->type, f, (uint8_t *)obj + f->off, &sub, v, true, nullable(f, v), a);
                if (sub.err != 0)
                    wr_rd_fail(rd, sub.err);
                break;
            }
        }
    }
}

static int
decode_struct(const wr_kstruct *d, void *obj, wr_rd *rd, int16_t v, bool flex, wr_arena *a)
{
    wr_kp_init(d, obj, v);
    for (uint16_t i = 0; i < d->nfields && rd->err == 0; i++) {
        const wr_kfield *f = &d->fields[i];
        if (!present(f, v) || f->tag >= 0)
            continue;
        decode_value(f->type, f, (uint8_t *)obj + f->off, rd, v, flex, nullable(f, v), a);
    }
    if (flex && rd->err == 0)
        decode_tags(d, obj, rd, v, a);
    return rd->err;
}

int
wr_kp_decode(const wr_kstruct *d, void *obj, wr_rd *rd, int16_t version, bool flexible, wr_arena *a)
{
    return decode_struct(d, obj, rd, version, flexible, a);
}

/* ---- encoding -------------------------------------------------------------------------- */

static void
put_len(wr_buf *b, int64_t n, bool flex, int classic_bytes)
{
    if (flex)
        wr_buf_put_uvarint(b, (uint64_t)(n + 1));
    else if (classic_bytes == 2)
        wr_buf_put_be16(b, (uint16_t)(int16_t)n);
    else
        wr_buf_put_be32(b, (uint32_t)(int32_t)n);
}

static int encode_struct(const wr_kstruct *d, const void *obj, wr_buf *b, int16_t v, bool flex);

static int
encode_value(
    uint8_t t, const wr_kfield *f, const void *p, wr_buf *b, int16_t v, bool flex, bool can_null)
{
    switch (t) {
    case WR_KT_BOOL:
        wr_buf_put_u8(b, *(const bool *)p ? 1 : 0);
        return WR_OK;
    case WR_KT_INT8:
        wr_buf_put_u8(b, (uint8_t) * (const int8_t *)p);
        return WR_OK;
    case WR_KT_INT16:
        wr_buf_put_be16(b, (uint16_t) * (const int16_t *)p);
        return WR_OK;
    case WR_KT_INT32:
        wr_buf_put_be32(b, (uint32_t) * (const int32_t *)p);
        return WR_OK;
    case WR_KT_INT64:
        wr_buf_put_be64(b, (uint64_t) * (const int64_t *)p);
        return WR_OK;
    case WR_KT_UUID:
        wr_buf_append(b, p, 16);
        return WR_OK;
    case WR_KT_STRING: {
        const wr_kstr *s = p;
        if (s->s == NULL) {
            if (!can_null)
                return WR_EINVAL;
            put_len(b, -1, flex, 2);
            return WR_OK;
        }
        if (s->len < 0 || s->len > INT16_MAX)
            return WR_EINVAL;
        put_len(b, s->len, flex, 2);
        wr_buf_append(b, s->s, (size_t)s->len);
        return WR_OK;
    }
    case WR_KT_BYTES:
    case WR_KT_RECORDS: {
        const wr_kbytes *x = p;
        if (x->len < 0 || x->p == NULL) {
            if (!can_null)
                return WR_EINVAL;
            put_len(b, -1, flex, 4);
            return WR_OK;
        }
        put_len(b, x->len, flex, 4);
        wr_buf_append(b, x->p, (size_t)x->len);
        return WR_OK;
    }
    case WR_KT_ARRAY: {
        const karr *arr = p;
        if (arr->n < 0) {
            if (!can_null)
                return WR_EINVAL;
            put_len(b, -1, flex, 4);
            return WR_OK;
        }
        put_len(b, arr->n, flex, 4);
        size_t es = elem_size(f);
        for (int32_t i = 0; i < arr->n; i++) {
            const void *e = (const uint8_t *)arr->v + (size_t)i * es;
            int rc = f->elem == WR_KT_STRUCT ? encode_struct(f->sub, e, b, v, flex)
                                             : encode_value(f->elem, f, e, b, v, flex, false);
            if (rc != WR_OK)
                return rc;
        }
        return WR_OK;
    }
    default:
        return WR_EINVAL;
    }
}

static bool
is_default(const wr_kfield *f, const void *p)
{
    static const uint8_t zero[16];
    switch (f->type) {
    case WR_KT_BOOL:
        return *(const bool *)p == (f->def != 0);
    case WR_KT_INT8:
        return *(const int8_t *)p == f->def;
    case WR_KT_INT16:
        return *(const int16_t *)p == f->def;
    case WR_KT_INT32:
        return *(const int32_t *)p == f->def;
    case WR_KT_INT64:
        return *(const int64_t *)p == f->def;
    case WR_KT_UUID:
        return memcmp(p, zero, 16) == 0;
    case WR_KT_STRING: {
        const wr_kstr *s = p;
        return f->def_null ? s->s == NULL : (s->s != NULL && s->len == 0);
    }
    case WR_KT_BYTES:
    case WR_KT_RECORDS: {
        const wr_kbytes *x = p;
        return f->def_null ? x->len < 0 : x->len == 0;
    }
    case WR_KT_ARRAY:
        return ((const karr *)p)->n == (f->def_null ? -1 : 0);
    default:
        return true;
    }
}

static int
encode_struct(const wr_kstruct *d, const void *obj, wr_buf *b, int16_t v, bool flex)
{
    const uint8_t *base = obj;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        if (!present(f, v) || f->tag >= 0)
            continue;
        int rc = encode_value(f->type, f, base + f->off, b, v, flex, nullable(f, v));
        if (rc != WR_OK)
            return rc;
    }
    if (!flex)
        return WR_OK;
    /* Tagged fields: only those that differ from their default, in tag order. */
    uint32_t count = 0;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        if (f->tag >= 0 && present(f, v) && !is_default(f, base + f->off))
            count++;
    }
    wr_buf_put_uvarint(b, count);
    for (int32_t tag = 0; count > 0 && tag < INT16_MAX; tag++) {
        for (uint16_t i = 0; i < d->nfields; i++) {
            const wr_kfield *f = &d->fields[i];
            if (f->tag != tag || !present(f, v) || is_default(f, base + f->off))
                continue;
            wr_buf tmp = WR_BUF_INIT;
            int rc = encode_value(f->type, f, base + f->off, &tmp, v, true, nullable(f, v));
            if (rc == WR_OK && !wr_buf_ok(&tmp))
                rc = WR_ENOMEM;
            if (rc == WR_OK) {
                wr_buf_put_uvarint(b, (uint64_t)tag);
                wr_buf_put_uvarint(b, tmp.len);
                wr_buf_append(b, tmp.data, tmp.len);
            }
            wr_buf_free(&tmp);
            if (rc != WR_OK)
                return rc;
            count--;
        }
    }
    return WR_OK;
}

int
wr_kp_encode(const wr_kstruct *d, const void *obj, wr_buf *out, int16_t version, bool flexible)
{
    int rc = encode_struct(d, obj, out, version, flexible);
    if (rc == WR_OK && !wr_buf_ok(out))
        rc = WR_ENOMEM;
    return rc;
}

/* ---- headers --------------------------------------------------------------------------- */

bool
wr_kp_req_hdr_flexible(int16_t key, int16_t version)
{
    const wr_kapi *api = wr_kp_api(key);
    return api != NULL && version >= api->min && version <= api->max && version >= api->flex;
}

bool
wr_kp_resp_hdr_flexible(int16_t key, int16_t version)
{
    return key != WR_KAPI_API_VERSIONS && wr_kp_req_hdr_flexible(key, version);
}

int
wr_kp_decode_req_hdr(wr_rd *rd, wr_kreq_hdr *h, wr_arena *a)
{
    h->api_key = (int16_t)wr_rd_be16(rd);
    h->api_version = (int16_t)wr_rd_be16(rd);
    h->correlation_id = (int32_t)wr_rd_be32(rd);
    static const wr_kfield client_id = {.name = "ClientId", .type = WR_KT_STRING};
    decode_value(WR_KT_STRING, &client_id, &h->client_id, rd, 0, false, true, a);
    if (rd->err == 0 && wr_kp_req_hdr_flexible(h->api_key, h->api_version)) {
        static const wr_kstruct none = {"RequestHeaderTags", 0, 0, NULL};
        decode_tags(&none, NULL, rd, 2, a);
    }
    return rd->err;
}

void
wr_kp_encode_req_hdr(wr_buf *out, const wr_kreq_hdr *h)
{
    wr_buf_put_be16(out, (uint16_t)h->api_key);
    wr_buf_put_be16(out, (uint16_t)h->api_version);
    wr_buf_put_be32(out, (uint32_t)h->correlation_id);
    if (h->client_id.s == NULL) {
        wr_buf_put_be16(out, 0xffff);
    } else {
        wr_buf_put_be16(out, (uint16_t)h->client_id.len);
        wr_buf_append(out, h->client_id.s, (size_t)h->client_id.len);
    }
    if (wr_kp_req_hdr_flexible(h->api_key, h->api_version))
        wr_buf_put_u8(out, 0);
}

void
wr_kp_encode_resp_hdr(wr_buf *out, int16_t key, int16_t version, int32_t correlation_id)
{
    wr_buf_put_be32(out, (uint32_t)correlation_id);
    if (wr_kp_resp_hdr_flexible(key, version))
        wr_buf_put_u8(out, 0);
}
