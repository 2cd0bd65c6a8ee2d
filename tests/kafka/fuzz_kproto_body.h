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

#endif
