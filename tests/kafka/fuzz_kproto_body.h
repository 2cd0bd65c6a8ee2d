/*
 * fuzz_kproto_body.h - the property both the libFuzzer target and the corpus replay test check
 * on one request frame (without its size prefix): the header and body decoders never crash or
 * read out of bounds; whatever decodes re-encodes, and decoding that encoding and encoding it
 * again gives the same bytes (the codec is a fixed point after one normalisation).
 * Included by exactly one file per executable.
 */
#ifndef WR_TESTS_KAFKA_FUZZ_KPROTO_BODY_H
#define WR_TESTS_KAFKA_FUZZ_KPROTO_BODY_H

#include <stdlib.h>
#include <string.h>

#include "src/base/arena.h"
#include "src/kafka/kmsg.h"
#include "src/kafka/kproto.h"

/* Returns 0 when the property holds (also for rejected input), 1 when it breaks. */
static int
wr_kfuzz_one(const uint8_t *data, size_t size)
{
    int bad = 0;
    wr_arena *a = wr_arena_create(0);
    wr_buf e1 = WR_BUF_INIT, e2 = WR_BUF_INIT;
    wr_rd rd = wr_rd_make(data, size);
    wr_kreq_hdr h;
    if (wr_kp_decode_req_hdr(&rd, &h, a) != WR_OK)
        goto out;
    const wr_kapi *api = wr_kp_api(h.api_key);
    if (api == NULL || h.api_version < api->min || h.api_version > api->max)
        goto out;
    bool flex = wr_kp_flexible(api, h.api_version);
    void *obj = wr_arena_alloc(a, api->req->size);
    if (wr_kp_decode(api->req, obj, &rd, h.api_version, flex, a) != WR_OK)
        goto out;
    if (wr_kp_encode(api->req, obj, &e1, h.api_version, flex) != WR_OK) {
        bad = 1;
        goto out;
    }
    void *obj2 = wr_arena_alloc(a, api->req->size);
    wr_rd rd2 = wr_rd_make(e1.data, e1.len);
    if (wr_kp_decode(api->req, obj2, &rd2, h.api_version, flex, a) != WR_OK ||
        wr_rd_left(&rd2) != 0 || wr_kp_encode(api->req, obj2, &e2, h.api_version, flex) != WR_OK ||
        e1.len != e2.len || (e1.len > 0 && memcmp(e1.data, e2.data, e1.len) != 0))
        bad = 1;
out:
    wr_buf_free(&e1);
    wr_buf_free(&e2);
    wr_arena_destroy(a);
    return bad;
}

/* ---- samples of every API and version --------------------------------------------------- */

/* Fills the struct at obj (of d, for version v) with one of everything: each array that exists
   in v gets one element (structs filled the same way, to depth 4), strings "x", bytes "ab",
   numbers 1, booleans true. Memory comes from a. */
static inline void
wr_kfuzz_fill(const wr_kstruct *d, void *obj, int16_t v, wr_arena *a, int depth)
{
    static const uint8_t ab[2] = {'a', 'b'};
    wr_kp_init(d, obj, v);
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        if (v < f->vmin || v > f->vmax)
            continue;
        void *p = (uint8_t *)obj + f->off;
        switch (f->type) {
        case WR_KT_BOOL:
            *(bool *)p = true;
            break;
        case WR_KT_INT8:
            *(int8_t *)p = 1;
            break;
        case WR_KT_INT16:
            *(int16_t *)p = 1;
            break;
        case WR_KT_INT32:
            *(int32_t *)p = 1;
            break;
        case WR_KT_INT64:
            *(int64_t *)p = 1;
            break;
        case WR_KT_UUID:
            memset(p, 1, sizeof(wr_kuuid));
            break;
        case WR_KT_STRING:
            *(wr_kstr *)p = wr_kstr_of("x");
            break;
        case WR_KT_BYTES:
        case WR_KT_RECORDS:
            *(wr_kbytes *)p = (wr_kbytes){ab, 2};
            break;
        case WR_KT_ARRAY: {
            if (f->elem == WR_KT_STRUCT && depth >= 4)
                break;
            size_t es = f->elem == WR_KT_INT32    ? sizeof(int32_t)
                        : f->elem == WR_KT_INT64  ? sizeof(int64_t)
                        : f->elem == WR_KT_STRING ? sizeof(wr_kstr)
                                                  : f->sub->size;
            void *e = wr_arena_alloc(a, es);
            if (f->elem == WR_KT_STRUCT)
                wr_kfuzz_fill(f->sub, e, v, a, depth + 1);
            else if (f->elem == WR_KT_INT32)
                *(int32_t *)e = 1;
            else if (f->elem == WR_KT_INT64)
                *(int64_t *)e = 1;
            else
                *(wr_kstr *)e = wr_kstr_of("x");
            struct {
                void *v;
                int32_t n;
            } *arr = p; /* kproto.h: arrays are {T *v; int32_t n;} */
            arr->v = e;
            arr->n = 1;
            break;
        }
        default:
            break;
        }
    }
}

/* Appends a whole request frame (header + body, no size prefix) of api at version v, every
   field filled (wr_kfuzz_fill). Returns the encoder's code. (inline: the fuzz target does not
   use the samples, the replay test does.) */
static inline int
wr_kfuzz_sample(const wr_kapi *api, int16_t v, wr_buf *out)
{
    wr_arena *a = wr_arena_create(0);
    wr_kreq_hdr h = {.api_key = api->key,
                     .api_version = v,
                     .correlation_id = 7,
                     .client_id = wr_kstr_of("weir-fuzz")};
    wr_kp_encode_req_hdr(out, &h);
    void *obj = wr_arena_alloc(a, api->req->size);
    wr_kfuzz_fill(api->req, obj, v, a, 0);
    int rc = wr_kp_encode(api->req, obj, out, v, wr_kp_flexible(api, v));
    wr_arena_destroy(a);
    return rc;
}

#endif
