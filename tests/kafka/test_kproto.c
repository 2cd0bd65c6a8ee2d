/*
 * test_kproto.c - the table-driven Kafka codec: round trips of every request and response of
 * every API at every version weir accepts (classic and flexible), truncated and hostile input
 * rejected, header rules (request header v2, response header v1, the ApiVersions exception) and
 * byte-exact encodings checked against hand-assembled frames.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/kafka/kmsg.h"
#include "src/kafka/kproto.h"

typedef struct karr {
    void *v;
    int32_t n;
} karr;

/* Fills every field present at v with a non-default value (arrays get two elements). */
static void
fill(const wr_kstruct *d, void *obj, int16_t v, wr_arena *a, int *seed)
{
    wr_kp_init(d, obj, v);
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        if (v < f->vmin || v > f->vmax)
            continue;
        uint8_t *p = (uint8_t *)obj + f->off;
        int k = ++*seed;
        switch (f->type) {
        case WR_KT_BOOL:
            *(bool *)p = !(f->def != 0);
            break;
        case WR_KT_INT8:
            *(int8_t *)p = (int8_t)(k & 0x7f);
            break;
        case WR_KT_INT16:
            *(int16_t *)p = (int16_t)(k * 3);
            break;
        case WR_KT_INT32:
            *(int32_t *)p = k * 100003;
            break;
        case WR_KT_INT64:
            *(int64_t *)p = (int64_t)k * 10000000019LL;
            break;
        case WR_KT_UUID:
            memset(p, k, 16);
            break;
        case WR_KT_STRING: {
            char *s = wr_arena_printf(a, "%s-%d", f->name, k);
            *(wr_kstr *)p = wr_kstr_of(s);
            break;
        }
        case WR_KT_BYTES:
        case WR_KT_RECORDS: {
            char *s = wr_arena_printf(a, "bytes\x01\x02-%d", k);
            *(wr_kbytes *)p = (wr_kbytes){(const uint8_t *)s, (int32_t)strlen(s)};
            break;
        }
        case WR_KT_ARRAY: {
            karr *arr = (karr *)p;
            arr->n = 2;
            if (f->elem == WR_KT_STRUCT) {
                uint8_t *items = wr_arena_alloc(a, 2 * f->sub->size);
                for (int j = 0; j < 2; j++)
                    fill(f->sub, items + j * f->sub->size, v, a, seed);
                arr->v = items;
            } else if (f->elem == WR_KT_INT32) {
                int32_t *x = wr_arena_alloc(a, 2 * sizeof *x);
                x[0] = k;
                x[1] = -k;
                arr->v = x;
            } else if (f->elem == WR_KT_INT64) {
                int64_t *x = wr_arena_alloc(a, 2 * sizeof *x);
                x[0] = k;
                x[1] = INT64_MIN + k;
                arr->v = x;
            } else {
                wr_kstr *x = wr_arena_alloc(a, 2 * sizeof *x);
                x[0] = wr_kstr_of(wr_arena_printf(a, "e%d", k));
                x[1] = wr_kstr_of("");
                arr->v = x;
            }
            break;
        }
        default:
            break;
        }
    }
}

static void
round_trip(const wr_kapi *api, const wr_kstruct *d, int16_t v)
{
    wr_arena *a = wr_arena_create(0);
    int seed = v;
    void *obj = wr_arena_alloc(a, d->size);
    fill(d, obj, v, a, &seed);
    bool flex = wr_kp_flexible(api, v);
    wr_buf b1 = WR_BUF_INIT, b2 = WR_BUF_INIT;
    cr_assert_eq(wr_kp_encode(d, obj, &b1, v, flex), WR_OK, "%s v%d encode", d->name, v);

    void *back = wr_arena_alloc(a, d->size);
    wr_rd rd = wr_rd_make(b1.data, b1.len);
    cr_assert_eq(wr_kp_decode(d, back, &rd, v, flex, a), WR_OK, "%s v%d decode", d->name, v);
    cr_assert_eq(wr_rd_left(&rd), 0, "%s v%d: bytes left", d->name, v);
    cr_assert_eq(wr_kp_encode(d, back, &b2, v, flex), WR_OK);
    cr_assert_eq(b1.len, b2.len, "%s v%d: re-encoded length", d->name, v);
    cr_assert(b1.len == 0 || memcmp(b1.data, b2.data, b1.len) == 0, "%s v%d: re-encoded bytes",
              d->name, v);

    /* Every strict prefix must be rejected, never read past. */
    for (size_t n = 0; n < b1.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b1.data, n);
        wr_rd t = wr_rd_make(copy, n);
        int rc = wr_kp_decode(d, back, &t, v, flex, a);
        cr_assert_neq(rc, WR_OK, "%s v%d: prefix %zu of %zu accepted", d->name, v, n, b1.len);
        free(copy);
    }
    wr_buf_free(&b1);
    wr_buf_free(&b2);
    wr_arena_destroy(a);
}

Test(kafka_kproto, every_api_every_version_round_trips)
{
    int checked = 0, flexible = 0;
    for (int i = 0; i < WR_KAPI_COUNT; i++) {
        const wr_kapi *api = &wr_kapis[i];
        for (int16_t v = api->min; v <= api->max; v++) {
            round_trip(api, api->req, v);
            round_trip(api, api->resp, v);
            checked += 2;
            flexible += wr_kp_flexible(api, v) ? 2 : 0;
        }
    }
    cr_assert_gt(checked, 150);
    cr_assert_gt(flexible, 10);
}

Test(kafka_kproto, api_table_sorted_and_complete)
{
    for (int i = 1; i < WR_KAPI_COUNT; i++)
        cr_assert_lt(wr_kapis[i - 1].key, wr_kapis[i].key);
    cr_assert_not_null(wr_kp_api(WR_KAPI_PRODUCE));
    cr_assert_null(wr_kp_api(999));
    const wr_kapi *av = wr_kp_api(WR_KAPI_API_VERSIONS);
    cr_assert_eq(av->flex, 3);
    cr_assert_eq(av->max, 3);
}

/* librdkafka's first request: ApiVersions v3 with client software name and version, request
   header v2 (int16 client id, then an empty tag section), compact strings in the body. */
Test(kafka_kproto, api_versions_v3_request_bytes)
{
    static const uint8_t frame[] = {
        0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07,                /* key 18, v3, corr 7 */
        0x00, 0x04, 'k',  'c',  'a',  't',                             /* client id "kcat" */
        0x00,                                                          /* header tags */
        0x0b, 'l',  'i',  'b',  'r',  'd',  'k',  'a',  'f', 'k', 'a', /* compact "librdkafka" */
        0x06, '2',  '.',  '0',  '.',  '2',                             /* compact "2.0.2" */
        0x00,                                                          /* body tags */
    };
    wr_arena *a = wr_arena_create(0);
    wr_rd rd = wr_rd_make(frame, sizeof frame);
    wr_kreq_hdr h;
    cr_assert_eq(wr_kp_decode_req_hdr(&rd, &h, a), WR_OK);
    cr_assert_eq(h.api_key, 18);
    cr_assert_eq(h.api_version, 3);
    cr_assert_eq(h.correlation_id, 7);
    cr_assert_str_eq(h.client_id.s, "kcat");
    wr_kp_api_versions_req req;
    cr_assert_eq(wr_kp_decode(&wr_kp_api_versions_req_desc, &req, &rd, 3, true, a), WR_OK);
    cr_assert_str_eq(req.client_software_name.s, "librdkafka");
    cr_assert_str_eq(req.client_software_version.s, "2.0.2");
    cr_assert_eq(wr_rd_left(&rd), 0);

    /* The same header re-encoded is byte-identical. */
    wr_buf b = WR_BUF_INIT;
    wr_kp_encode_req_hdr(&b, &h);
    cr_assert_eq(b.len, 15);
    cr_assert(memcmp(b.data, frame, 15) == 0);
    wr_buf_free(&b);
    wr_arena_destroy(a);
}

Test(kafka_kproto, response_header_rules)
{
    wr_buf b = WR_BUF_INIT;
    wr_kp_encode_resp_hdr(&b, WR_KAPI_API_VERSIONS, 3, 42); /* always v0 */
    cr_assert_eq(b.len, 4);
    wr_buf_reset(&b);
    wr_kp_encode_resp_hdr(&b, WR_KAPI_OFFSET_FETCH, 6, 42); /* flexible: v1 */
    cr_assert_eq(b.len, 5);
    wr_buf_reset(&b);
    wr_kp_encode_resp_hdr(&b, WR_KAPI_OFFSET_FETCH, 5, 42);
    cr_assert_eq(b.len, 4);
    wr_buf_free(&b);
    cr_assert(wr_kp_req_hdr_flexible(WR_KAPI_INIT_PRODUCER_ID, 2));
    cr_assert_not(wr_kp_req_hdr_flexible(WR_KAPI_INIT_PRODUCER_ID, 1));
    cr_assert_not(wr_kp_req_hdr_flexible(WR_KAPI_API_VERSIONS, 9)); /* unknown version: v1 */
}

/* ApiVersions v0 response, byte for byte. */
Test(kafka_kproto, api_versions_v0_response_bytes)
{
    wr_kp_api_versions_resp_api_version keys[1] = {
        {.api_key = 3, .min_version = 0, .max_version = 8}};
    wr_kp_api_versions_resp r;
    wr_kp_init(&wr_kp_api_versions_resp_desc, &r, 0);
    r.error_code = 35;
    r.api_keys.v = keys;
    r.api_keys.n = 1;
    wr_buf b = WR_BUF_INIT;
    cr_assert_eq(wr_kp_encode(&wr_kp_api_versions_resp_desc, &r, &b, 0, false), WR_OK);
    static const uint8_t want[] = {0, 35, 0, 0, 0, 1, 0, 3, 0, 0, 0, 8};
    cr_assert_eq(b.len, sizeof want);
    cr_assert(memcmp(b.data, want, sizeof want) == 0);
    wr_buf_free(&b);
}

/* Tagged fields: written only when not default, in tag order; unknown tags skipped. */
Test(kafka_kproto, tagged_fields)
{
    wr_arena *a = wr_arena_create(0);
    wr_kp_api_versions_resp r;
    wr_kp_init(&wr_kp_api_versions_resp_desc, &r, 3);
    wr_buf b = WR_BUF_INIT;
    cr_assert_eq(wr_kp_encode(&wr_kp_api_versions_resp_desc, &r, &b, 3, true), WR_OK);
    /* error 2 + empty compact array 1 + throttle 4 + zero tags 1 */
    cr_assert_eq(b.len, 8);
    cr_assert_eq(b.data[7], 0);
    wr_buf_reset(&b);
    r.zk_migration_ready = true;
    r.finalized_features_epoch = 5;
    cr_assert_eq(wr_kp_encode(&wr_kp_api_versions_resp_desc, &r, &b, 3, true), WR_OK);
    static const uint8_t tags[] = {2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5, 3, 1, 1};
    cr_assert_eq(b.len, 7 + sizeof tags);
    cr_assert(memcmp(b.data + 7, tags, sizeof tags) == 0);

    /* An unknown tag 9 in a request body is skipped. */
    static const uint8_t req[] = {0x02, 'a', 0x02, 'b', 0x01, 0x09, 0x02, 0xaa, 0xbb};
    wr_kp_api_versions_req q;
    wr_rd rd = wr_rd_make(req, sizeof req);
    cr_assert_eq(wr_kp_decode(&wr_kp_api_versions_req_desc, &q, &rd, 3, true, a), WR_OK);
    cr_assert_eq(wr_rd_left(&rd), 0);
    cr_assert_str_eq(q.client_software_version.s, "b");
    /* A tag whose size passes the end is rejected. */
    static const uint8_t bad[] = {0x02, 'a', 0x02, 'b', 0x01, 0x09, 0x05, 0xaa};
    rd = wr_rd_make(bad, sizeof bad);
    cr_assert_neq(wr_kp_decode(&wr_kp_api_versions_req_desc, &q, &rd, 3, true, a), WR_OK);
    wr_buf_free(&b);
    wr_arena_destroy(a);
}

/* A hostile array count is rejected before anything is allocated for it. */
Test(kafka_kproto, huge_counts_rejected_before_allocation)
{
    wr_arena *a = wr_arena_create(0);
    /* Metadata v1: topics count 0x7fffffff with 4 bytes behind it. */
    static const uint8_t m[] = {0x7f, 0xff, 0xff, 0xff, 0, 1, 'x', 0};
    wr_kp_metadata_req r;
    wr_rd rd = wr_rd_make(m, sizeof m);
    cr_assert_eq(wr_kp_decode(&wr_kp_metadata_req_desc, &r, &rd, 1, false, a), WR_ECORRUPT);
    cr_assert_lt(wr_arena_used(a), 4096);
    /* Negative counts other than -1, and -1 where null is not allowed (v0). */
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    rd = wr_rd_make(neg, sizeof neg);
    cr_assert_eq(wr_kp_decode(&wr_kp_metadata_req_desc, &r, &rd, 1, false, a), WR_ECORRUPT);
    static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};
    rd = wr_rd_make(null_arr, sizeof null_arr);
    cr_assert_neq(wr_kp_decode(&wr_kp_metadata_req_desc, &r, &rd, 0, false, a), WR_OK);
    rd = wr_rd_make(null_arr, sizeof null_arr);
    cr_assert_eq(wr_kp_decode(&wr_kp_metadata_req_desc, &r, &rd, 1, false, a), WR_OK);
    cr_assert_eq(r.topics.n, -1);
    cr_assert(r.allow_auto_topic_creation); /* v1 lacks the field: default true */
    /* A string length past the end. */
    static const uint8_t s[] = {0, 0, 0, 1, 0x10, 0x00, 'a'};
    rd = wr_rd_make(s, sizeof s);
    cr_assert_eq(wr_kp_decode(&wr_kp_metadata_req_desc, &r, &rd, 1, false, a), WR_ETRUNC);
    /* A compact count whose varint never ends. */
    static const uint8_t v[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    wr_kp_offset_fetch_req of;
    rd = wr_rd_make(v, sizeof v);
    cr_assert_neq(wr_kp_decode(&wr_kp_offset_fetch_req_desc, &of, &rd, 6, true, a), WR_OK);
    wr_arena_destroy(a);
}

/* Produce v3 request as librdkafka lays it out; the records stay borrowed from the frame. */
Test(kafka_kproto, produce_v3_records_borrowed)
{
    static const uint8_t body[] = {
        0xff, 0xff,                               /* transactional id null */
        0xff, 0xff,                               /* acks -1 */
        0x00, 0x00, 0x75, 0x30,                   /* timeout 30000 */
        0,    0,    0,    1,    0,   1,   't',    /* one topic "t" */
        0,    0,    0,    1,    0,   0,   0,   2, /* one partition, index 2 */
        0,    0,    0,    3,    'a', 'b', 'c',
    };
    wr_arena *a = wr_arena_create(0);
    wr_kp_produce_req r;
    wr_rd rd = wr_rd_make(body, sizeof body);
    cr_assert_eq(wr_kp_decode(&wr_kp_produce_req_desc, &r, &rd, 3, false, a), WR_OK);
    cr_assert_null(r.transactional_id.s);
    cr_assert_eq(r.acks, -1);
    cr_assert_eq(r.topic_data.n, 1);
    cr_assert_str_eq(r.topic_data.v[0].name.s, "t");
    cr_assert_eq(r.topic_data.v[0].partition_data.v[0].index, 2);
    cr_assert_eq(r.topic_data.v[0].partition_data.v[0].records.p, body + sizeof body - 3);
    wr_arena_destroy(a);
}

/* Encoding a null where the version forbids it fails instead of writing garbage. */
Test(kafka_kproto, null_where_not_nullable)
{
    wr_kp_find_coordinator_resp r;
    wr_kp_init(&wr_kp_find_coordinator_resp_desc, &r, 0);
    r.host = wr_kstr_of(NULL);
    wr_buf b = WR_BUF_INIT;
    cr_assert_eq(wr_kp_encode(&wr_kp_find_coordinator_resp_desc, &r, &b, 0, false), WR_EINVAL);
    wr_buf_free(&b);
}
