/*
 * test_rbatch_corpus.c - the record batch fuzz property (fuzz_rbatch_body.h) over the seed
 * corpus (tests/log/rbatch_corpus, from WR_RBATCH_CORPUS), every truncation and single-byte
 * flip of each seed, in the normal build. WR_CORPUS_WRITE=1 first regenerates the seeds: batches
 * of every codec from the builder, and the batches of the Produce requests in the Kafka corpus
 * (WR_KAFKA_CORPUS), captured from real clients.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fuzz_rbatch_body.h"
#include "src/kafka/kmsg.h"
#include "src/kafka/kproto.h"
#include "tests/testutil.h"

static void
write_seed(const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", WR_RBATCH_CORPUS, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void
write_built_seeds(void)
{
    static const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (int c = 0; c <= WR_COMPRESSION_ZSTD; c++) {
        wr_rbatch_builder b;
        wr_rbatch_builder_init(&b, (wr_compression)c);
        wr_rheader hs[2] = {{(const uint8_t *)"h1", 2, (const uint8_t *)"v", 1},
                            {(const uint8_t *)"h2", 2, NULL, -1}};
        wr_rbatch_builder_add(&b, 1700000000000, "k1", 2, "{\"A\":1}", 7, NULL, 0);
        wr_rbatch_builder_add(&b, 1700000000005, NULL, -1, "v2", 2, hs, 2);
        wr_rbatch_builder_add(&b, 1699999999999, "k3", 2, NULL, -1, hs, 1);
        wr_rbatch_builder_add(&b, 1700000000010, "", 0, "", 0, NULL, 0);
        wr_buf out = WR_BUF_INIT;
        wr_err err = {0};
        cr_assert_eq(wr_rbatch_builder_finish(&b, &out, &err), WR_OK, "%s", err.msg);
        char name[64];
        snprintf(name, sizeof name, "built-%s.bin", names[c]);
        write_seed(name, out.data, out.len);
        /* the same batch from a transactional producer */
        wr_rbatch_set_producer(out.data, out.len, 4242, 3, 17, WR_RBATCH_TRANSACTIONAL);
        snprintf(name, sizeof name, "built-%s-txn.bin", names[c]);
        write_seed(name, out.data, out.len);
        wr_buf_free(&out);
        wr_rbatch_builder_free(&b);
    }
}

/* The record batches of the Produce request p (name 00-*: the Kafka corpus's Produce frames). */
static void
write_captured(void *arg, const char *name, uint8_t *p, size_t len)
{
    (void)arg;
    if (strncmp(name, "00-", 3) != 0)
        return;
    wr_arena *a = wr_arena_create(0);
    wr_rd rd = wr_rd_make(p, len);
    wr_kreq_hdr h;
    cr_assert_eq(wr_kp_decode_req_hdr(&rd, &h, a), WR_OK);
    const wr_kapi *api = wr_kp_api(h.api_key);
    wr_kp_produce_req *req = wr_arena_alloc(a, api->req->size);
    cr_assert_eq(
        wr_kp_decode(api->req, req, &rd, h.api_version, wr_kp_flexible(api, h.api_version), a),
        WR_OK);
    int k = 0;
    for (int32_t t = 0; t < req->topic_data.n; t++)
        for (int32_t q = 0; q < req->topic_data.v[t].partition_data.n; q++) {
            wr_kbytes r = req->topic_data.v[t].partition_data.v[q].records;
            if (r.len <= 0)
                continue;
            char seed[300];
            snprintf(seed, sizeof seed, "captured-%.*s-%d.bin", (int)(strlen(name) - 4), name, k++);
            write_seed(seed, r.p, (size_t)r.len);
        }
    wr_arena_destroy(a);
}

static void
replay_one(void *arg, const char *name, uint8_t *p, size_t len)
{
    int *codecs = arg;
    wr_rbatch_hdr h;
    wr_err err = {0};
    if (wr_rbatch_validate(p, len, &h, &err) == WR_OK)
        codecs[wr_rbatch_compression(&h)]++;
    cr_assert_eq(wr_rbfuzz_one(p, len), 0, "%s", name);
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(wr_rbfuzz_one(p, n), 0, "%s truncated at %zu", name, n);
    for (size_t i = 0; i < len; i++) {
        uint8_t saved = p[i];
        p[i] ^= (uint8_t)(0x80 >> (i % 8));
        cr_assert_eq(wr_rbfuzz_one(p, len), 0, "%s flipped at %zu", name, i);
        p[i] = saved;
    }
}

Test(rbatch_corpus, replay_and_mutate, .timeout = 120)
{
    if (getenv("WR_CORPUS_WRITE") != NULL) {
        write_built_seeds();
        wr_test_each_file(WR_KAFKA_CORPUS, write_captured, NULL);
    }
    int codecs[8] = {0};
    int files = wr_test_each_file(WR_RBATCH_CORPUS, replay_one, codecs);
    cr_assert_geq(files, 10, "corpus too small: %d files", files);
    for (int c = 0; c <= WR_COMPRESSION_ZSTD; c++)
        cr_expect_gt(codecs[c], 0, "no valid seed of codec %d", c);
}
