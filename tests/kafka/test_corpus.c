/*
 * test_corpus.c - replays the fuzz seed corpus (real captured requests) and mutated copies of it
 * (every truncation, and single-byte flips) through the request decoder in the normal build,
 * checking the fuzz target's property. The corpus directory comes from WR_KAFKA_CORPUS.
 */
#include <stdio.h>

#include <criterion/criterion.h>

#include "fuzz_kproto_body.h"
#include "tests/testutil.h"

typedef struct replay_stats {
    int decoded_keys[64];
} replay_stats;

static void
replay_one(void *arg, const char *name, uint8_t *p, size_t len)
{
    replay_stats *st = arg;
    cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s", name);
    if (len >= 2 && p[0] == 0 && p[1] < 64)
        st->decoded_keys[p[1]]++;
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(wr_kfuzz_one(p, n), 0, "%s truncated at %zu", name, n);
    for (size_t i = 0; i < len; i++) {
        uint8_t saved = p[i];
        p[i] ^= (uint8_t)(0x80 >> (i % 8));
        cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s flipped at %zu", name, i);
        p[i] = 0xff;
        cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s 0xff at %zu", name, i);
        p[i] = saved;
    }
}

Test(kafka_corpus, replay_and_mutate)
{
    replay_stats st = {0};
    int files = wr_test_each_file(WR_KAFKA_CORPUS, replay_one, &st);
    cr_assert_geq(files, 10, "corpus too small: %d files", files);
    cr_assert_gt(st.decoded_keys[0], 0, "no Produce request in the corpus");
    cr_assert_gt(st.decoded_keys[18], 0, "no ApiVersions request in the corpus");
}

/* Every API key and version the broker accepts, each field filled, decodes and re-encodes to
   the fuzz property, and so does every truncation of it. */
Test(kafka_corpus, every_api_version)
{
    int versions = 0;
    for (int i = 0; i < WR_KAPI_COUNT; i++) {
        const wr_kapi *api = &wr_kapis[i];
        for (int16_t v = api->min; v <= api->max; v++) {
            wr_buf b = WR_BUF_INIT;
            cr_assert_eq(wr_kfuzz_sample(api, v, &b), WR_OK, "%s v%d", api->name, v);
            /* the sample decodes in full (not only its header) */
            wr_arena *a = wr_arena_create(0);
            wr_rd rd = wr_rd_make(b.data, b.len);
            wr_kreq_hdr h;
            cr_assert_eq(wr_kp_decode_req_hdr(&rd, &h, a), WR_OK);
            void *obj = wr_arena_alloc(a, api->req->size);
            cr_assert_eq(wr_kp_decode(api->req, obj, &rd, v, wr_kp_flexible(api, v), a), WR_OK,
                         "%s v%d", api->name, v);
            cr_assert_eq(wr_rd_left(&rd), 0, "%s v%d", api->name, v);
            wr_arena_destroy(a);
            for (size_t n = 0; n <= b.len; n++)
                cr_assert_eq(wr_kfuzz_one(b.data, n), 0, "%s v%d truncated at %zu", api->name, v,
                             n);
            wr_buf_free(&b);
            versions++;
        }
    }
    cr_assert_gt(versions, WR_KAPI_COUNT);
}

/* Marks the API whose body the frame p decodes as, in full. */
static void
mark_api(void *arg, const char *name, uint8_t *p, size_t len)
{
    (void)name;
    bool *seen = arg;
    wr_arena *a = wr_arena_create(0);
    wr_rd rd = wr_rd_make(p, len);
    wr_kreq_hdr h;
    const wr_kapi *api;
    if (wr_kp_decode_req_hdr(&rd, &h, a) == WR_OK && (api = wr_kp_api(h.api_key)) != NULL &&
        h.api_version >= api->min && h.api_version <= api->max) {
        void *obj = wr_arena_alloc(a, api->req->size);
        if (wr_kp_decode(api->req, obj, &rd, h.api_version, wr_kp_flexible(api, h.api_version),
                         a) == WR_OK)
            seen[api - wr_kapis] = true;
    }
    wr_arena_destroy(a);
}

/* The seed corpus reaches every API's body decoder: each key has a seed that decodes in full.
   WR_CORPUS_WRITE=1 first writes gen-KK-vV.bin (wr_kfuzz_sample at each API's lowest and
   highest version) into the corpus, to regenerate the synthetic seeds. */
Test(kafka_corpus, seeds_cover_every_api)
{
    if (getenv("WR_CORPUS_WRITE") != NULL)
        for (int i = 0; i < WR_KAPI_COUNT; i++) {
            const wr_kapi *api = &wr_kapis[i];
            int16_t vs[2] = {api->min, api->max};
            for (int j = 0; j < (api->min == api->max ? 1 : 2); j++) {
                wr_buf b = WR_BUF_INIT;
                cr_assert_eq(wr_kfuzz_sample(api, vs[j], &b), WR_OK);
                char path[4096];
                snprintf(path, sizeof path, "%s/gen-%02d-v%d.bin", WR_KAFKA_CORPUS, api->key,
                         vs[j]);
                FILE *f = fopen(path, "wb");
                cr_assert_not_null(f, "%s", path);
                cr_assert_eq(fwrite(b.data, 1, b.len, f), b.len);
                fclose(f);
                wr_buf_free(&b);
            }
        }
    bool seen[WR_KAPI_COUNT] = {0};
    wr_test_each_file(WR_KAFKA_CORPUS, mark_api, seen);
    for (int i = 0; i < WR_KAPI_COUNT; i++)
        cr_expect(seen[i], "no seed in %s decodes as %s (key %d)", WR_KAFKA_CORPUS,
                  wr_kapis[i].name, wr_kapis[i].key);
}
