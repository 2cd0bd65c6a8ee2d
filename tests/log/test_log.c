/* Unit tests for src/log/log.c and partition.c: topics, append/read, indexes, roll, retention,
   recovery of torn and corrupt tails, bad input, full disk and failed fsync, group commit. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/clock.h"
#include "src/base/crc32c.h"
#include "src/base/fault.h"
#include "src/base/logging.h"
#include "src/log/compress.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/wr_test_log_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    wr_log_set_level(WR_LOG_ERROR); /* the recovery tests provoke expected warnings */
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    wr_fault_reset();
    wr_clock_fake_clear();
}

TestSuite(log_engine, .init = setup, .fini = teardown);

static wr_logdb *
open_db(wr_log_flush flush)
{
    wr_log_opts o = {.flush = flush};
    wr_logdb *db = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    return db;
}

static wr_partition *
part(wr_logdb *db, const char *topic, int32_t p)
{
    wr_partition *out = NULL;
    cr_assert_eq(wr_log_partition(db, topic, p, &out), WR_OK);
    return out;
}

static void
create(wr_logdb *db,
       const char *topic,
       int32_t n,
       const char *k1,
       const char *v1,
       const char *k2,
       const char *v2)
{
    wr_props c = WR_PROPS_INIT;
    if (k1)
        wr_props_set(&c, k1, v1);
    if (k2)
        wr_props_set(&c, k2, v2);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, topic, n, &c, &err), WR_OK, "%s", err.msg);
    wr_props_free(&c);
}

/* One batch of n records "v<first+i>" with timestamps ts0 + i. */
static void
make_batch(wr_buf *out, wr_compression c, int first, int n, int64_t ts0)
{
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, c);
    for (int i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "v%d", first + i);
        wr_rbatch_builder_add(&b, ts0 + i, NULL, -1, v, len, NULL, 0);
    }
    cr_assert_eq(wr_rbatch_builder_finish(&b, out, NULL), WR_OK);
    wr_rbatch_builder_free(&b);
}

static int64_t
append_records(wr_partition *p, int first, int n, int64_t ts0)
{
    wr_buf b = WR_BUF_INIT;
    make_batch(&b, WR_COMPRESSION_NONE, first, n, ts0);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(p, b.data, b.len, &res, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(res.last_offset - res.base_offset, n - 1);
    wr_buf_free(&b);
    return res.base_offset;
}

/* Reads every record from `from` to the end, checking values are "v<offset+delta>". Returns
   the number of records. */
static int64_t
read_all(wr_partition *p, int64_t from, int delta)
{
    int64_t off = from, count = 0;
    wr_buf out = WR_BUF_INIT, scratch = WR_BUF_INIT;
    for (;;) {
        wr_log_read_result rr;
        wr_buf_reset(&out);
        wr_err err = {0};
        cr_assert_eq(wr_log_read(p, off, 3000, &out, &rr, &err), WR_OK, "%s", err.msg);
        if (rr.bytes == 0)
            break;
        cr_assert_eq(rr.bytes, out.len);
        size_t pos = 0;
        while (pos < out.len) {
            wr_rbatch_iter it;
            size_t sz = wr_rbatch_size(out.data + pos, out.len - pos);
            wr_rbatch_hdr h;
            cr_assert_eq(wr_rbatch_validate(out.data + pos, sz, &h, &err), WR_OK, "%s", err.msg);
            cr_assert_eq(wr_rbatch_iter_init(&it, out.data + pos, sz, &scratch, 1 << 24, &err),
                         WR_OK);
            wr_record r;
            while (wr_rbatch_iter_next(&it, &r, &err) == 1) {
                if (r.offset < off)
                    continue; /* earlier records of the first batch */
                char want[32];
                int len = snprintf(want, sizeof want, "v%lld", (long long)(r.offset + delta));
                cr_assert_eq(r.value_len, len, "offset %lld", (long long)r.offset);
                cr_assert(memcmp(r.value, want, (size_t)len) == 0, "offset %lld",
                          (long long)r.offset);
                cr_assert_eq(r.offset, off);
                off++;
                count++;
            }
            pos += sz;
        }
    }
    wr_buf_free(&out);
    wr_buf_free(&scratch);
    return count;
}

static int
count_segments(const char *topic, int p)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s/log/%s-%d/*.log | wc -l", dir, topic, p);
    FILE *f = popen(cmd, "r");
    int n = 0;
    cr_assert_eq(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

static char *
seg_path(const char *topic, int p, int64_t base)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/log/%s-%d/%020lld.log", dir, topic, p, (long long)base);
    return path;
}

static off_t
file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return st.st_size;
}

/* ---- topics ---------------------------------------------------------------------------- */

Test(log_engine, topics_create_list_delete_and_reopen)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "b-topic", 3, "retention.ms", "1000", NULL, NULL);
    create(db, "a.topic_1", 1, NULL, NULL, NULL, NULL);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "a.topic_1", 1, NULL, &err), WR_EEXIST);
    cr_assert_eq(wr_log_topic_create(db, "bad/name", 1, NULL, &err), WR_EINVAL);
    cr_assert_eq(wr_log_topic_create(db, "..", 1, NULL, &err), WR_EINVAL);
    cr_assert_eq(wr_log_topic_create(db, "zero", 0, NULL, &err), WR_EINVAL);
    wr_props bad = WR_PROPS_INIT;
    wr_props_set(&bad, "retention.ms", "soon");
    cr_assert_eq(wr_log_topic_create(db, "c", 1, &bad, &err), WR_EINVAL);
    cr_assert(strstr(err.msg, "retention.ms") != NULL, "%s", err.msg);
    wr_props_free(&bad);
    wr_props_set(&bad, "no.such.config", "1");
    cr_assert_eq(wr_log_topic_create(db, "c", 1, &bad, &err), WR_EINVAL);
    wr_props_free(&bad);
    cr_assert_eq(wr_log_topic_partitions(db, "c"), WR_ENOENT);

    char **names;
    size_t n;
    cr_assert_eq(wr_log_topic_list(db, &names, &n, &err), WR_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "a.topic_1");
    cr_assert_str_eq(names[1], "b-topic");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);

    append_records(part(db, "b-topic", 2), 0, 5, 1000);
    cr_assert_eq(wr_log_topic_config_set(db, "b-topic", "cleanup.policy", "compact", &err), WR_OK);
    cr_assert_eq(wr_log_topic_add_partitions(db, "b-topic", 2, &err), WR_EINVAL);
    cr_assert_eq(wr_log_topic_add_partitions(db, "b-topic", 5, &err), WR_OK);
    wr_log_close(db);

    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_topic_partitions(db, "b-topic"), 5);
    cr_assert_eq(wr_log_end_offset(part(db, "b-topic", 2)), 5);
    cr_assert_eq(wr_log_end_offset(part(db, "b-topic", 4)), 0);
    wr_props own = WR_PROPS_INIT, all = WR_PROPS_INIT;
    cr_assert_eq(wr_log_topic_config_own(db, "b-topic", &own, &err), WR_OK);
    cr_assert_eq(own.count, 2);
    cr_assert_str_eq(wr_props_get(&own, "retention.ms"), "1000");
    cr_assert_str_eq(wr_props_get(&own, "cleanup.policy"), "compact");
    cr_assert_eq(wr_log_topic_config(db, "b-topic", &all, &err), WR_OK);
    cr_assert_str_eq(wr_props_get(&all, "segment.bytes"), "1073741824");
    cr_assert_str_eq(wr_props_get(&all, "retention.ms"), "1000");
    wr_props_free(&own);
    wr_props_free(&all);
    /* back to the default */
    cr_assert_eq(wr_log_topic_config_set(db, "b-topic", "retention.ms", NULL, &err), WR_OK);

    wr_partition *held = part(db, "b-topic", 2);
    cr_assert_eq(wr_log_topic_delete(db, "b-topic", &err), WR_OK);
    cr_assert_eq(wr_log_topic_delete(db, "b-topic", &err), WR_ENOENT);
    /* a handle held across the delete fails cleanly */
    wr_buf b = WR_BUF_INIT;
    make_batch(&b, WR_COMPRESSION_NONE, 0, 1, 1);
    wr_log_append_result res;
    cr_assert_eq(wr_log_append(held, b.data, b.len, &res, &err), WR_ENOENT);
    wr_buf_free(&b);
    char path[128];
    snprintf(path, sizeof path, "%s/log/b-topic-0", dir);
    cr_assert_neq(access(path, F_OK), 0, "directory of a deleted topic remains");
    /* same name again starts empty */
    create(db, "b-topic", 1, NULL, NULL, NULL, NULL);
    cr_assert_eq(wr_log_end_offset(part(db, "b-topic", 0)), 0);
    wr_log_close(db);

    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_topic_partitions(db, "b-topic"), 1);
    cr_assert_eq(wr_log_end_offset(part(db, "b-topic", 0)), 0);
    wr_log_close(db);
}

Test(log_engine, stray_directories_are_removed_on_open)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "keep", 1, NULL, NULL, NULL, NULL);
    wr_log_close(db);
    char path[128];
    snprintf(path, sizeof path, "%s/log/ghost-0", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/log/keep-7", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    db = open_db(WR_LOG_FLUSH_SYNC);
    snprintf(path, sizeof path, "%s/log/ghost-0", dir);
    cr_assert_neq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/log/keep-7", dir);
    cr_assert_neq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/log/keep-0", dir);
    cr_assert_eq(access(path, F_OK), 0);
    wr_log_close(db);
}

/* ---- append and read ------------------------------------------------------------------- */

Test(log_engine, append_keeps_batch_bytes_and_assigns_offsets)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    /* a transactional batch of an idempotent producer, compressed */
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_ZSTD);
    b.producer_id = 4242;
    b.producer_epoch = 7;
    b.base_sequence = 99;
    b.extra_attributes = WR_RBATCH_TRANSACTIONAL;
    for (int i = 0; i < 10; i++)
        wr_rbatch_builder_add(&b, 5000 + i, "k", 1, "value", 5, NULL, 0);
    wr_buf in = WR_BUF_INIT;
    cr_assert_eq(wr_rbatch_builder_finish(&b, &in, NULL), WR_OK);
    wr_rbatch_builder_free(&b);

    append_records(p, 0, 3, 100); /* offsets 0..2 */
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(p, in.data, in.len, &res, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(res.base_offset, 3);
    cr_assert_eq(res.last_offset, 12);
    cr_assert_eq(res.log_append_time, -1);
    cr_assert_eq(wr_log_end_offset(p), 13);

    wr_buf out = WR_BUF_INIT;
    wr_log_read_result rr;
    cr_assert_eq(wr_log_read(p, 5, 1 << 20, &out, &rr, &err), WR_OK);
    cr_assert_eq(rr.high_watermark, 13);
    cr_assert_eq(out.len, in.len, "the batch holding offset 5 comes back whole");
    /* identical but for the base offset (0-7) and the partition leader epoch (12-15) */
    cr_assert_eq(wr_be64_get(out.data), 3);
    cr_assert(memcmp(out.data + 8, in.data + 8, 4) == 0);
    cr_assert_eq((int32_t)wr_be32_get(out.data + 12), 0);
    cr_assert(memcmp(out.data + 16, in.data + 16, in.len - 16) == 0);
    wr_rbatch_hdr h;
    cr_assert_eq(wr_rbatch_validate(out.data, out.len, &h, &err), WR_OK);
    cr_assert_eq(h.producer_id, 4242);
    cr_assert_eq(h.producer_epoch, 7);
    cr_assert_eq(h.base_sequence, 99);
    cr_assert(h.attributes & WR_RBATCH_TRANSACTIONAL);
    cr_assert_eq(wr_rbatch_compression(&h), WR_COMPRESSION_ZSTD);

    /* at the end: nothing; past it or below the start: out of range */
    wr_buf_reset(&out);
    cr_assert_eq(wr_log_read(p, 13, 1 << 20, &out, &rr, &err), WR_OK);
    cr_assert_eq(rr.bytes, 0);
    cr_assert_eq(wr_log_read(p, 14, 1 << 20, &out, &rr, &err), WR_EOFFSET);
    cr_assert_eq(wr_log_read(p, -1, 1 << 20, &out, &rr, &err), WR_EOFFSET);
    wr_buf_free(&in);
    wr_buf_free(&out);
    wr_log_close(db);
}

Test(log_engine, read_respects_max_bytes_but_returns_a_large_first_batch)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    for (int i = 0; i < 10; i++)
        append_records(p, i * 20, 20, 1);
    wr_buf out = WR_BUF_INIT;
    wr_log_read_result rr;
    cr_assert_eq(wr_log_read(p, 0, 1, &out, &rr, NULL), WR_OK);
    size_t one = wr_rbatch_size(out.data, out.len);
    cr_assert_eq(out.len, one, "KIP-74: one whole batch even though max_bytes is 1");
    /* the sizes of the first batches, to ask for three and a half of them */
    wr_buf all = WR_BUF_INIT;
    cr_assert_eq(wr_log_read(p, 0, 1 << 20, &all, &rr, NULL), WR_OK);
    size_t three = 0;
    for (int i = 0; i < 3; i++)
        three += wr_rbatch_size(all.data + three, all.len - three);
    size_t fourth = wr_rbatch_size(all.data + three, all.len - three);
    wr_buf_free(&all);
    wr_buf_reset(&out);
    cr_assert_eq(wr_log_read(p, 0, three + fourth / 2, &out, &rr, NULL), WR_OK);
    cr_assert_eq(out.len, three, "whole batches only, within max_bytes");
    wr_buf_reset(&out);
    cr_assert_eq(wr_log_read(p, 45, one, &out, &rr, NULL), WR_OK);
    cr_assert_eq(wr_be64_get(out.data), 40, "the batch that contains offset 45");
    wr_buf_free(&out);
    cr_assert_eq(read_all(p, 0, 0), 200);
    cr_assert_eq(read_all(p, 137, 0), 63);
    wr_log_close(db);
}

Test(log_engine, log_append_time_topic_stamps_batches)
{
    wr_clock_fake(0, 1700000000000);
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, "message.timestamp.type", "LogAppendTime", NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    wr_buf b = WR_BUF_INIT;
    make_batch(&b, WR_COMPRESSION_LZ4, 0, 3, 5);
    wr_log_append_result res;
    cr_assert_eq(wr_log_append(p, b.data, b.len, &res, NULL), WR_OK);
    cr_assert_eq(res.log_append_time, 1700000000000);
    wr_buf out = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_log_read_result rr;
    cr_assert_eq(wr_log_read(p, 0, 1 << 20, &out, &rr, NULL), WR_OK);
    wr_rbatch_iter it;
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_iter_init(&it, out.data, out.len, &scratch, 1 << 20, &err), WR_OK);
    wr_rbatch_hdr h;
    cr_assert_eq(wr_rbatch_validate(out.data, out.len, &h, &err), WR_OK, "%s", err.msg);
    wr_record r;
    while (wr_rbatch_iter_next(&it, &r, NULL) == 1)
        cr_assert_eq(r.timestamp, 1700000000000);
    wr_buf_free(&b);
    wr_buf_free(&out);
    wr_buf_free(&scratch);
    wr_log_close(db);
}

Test(log_engine, every_codec_is_accepted_and_read_back)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    wr_compression cs[] = {WR_COMPRESSION_NONE, WR_COMPRESSION_GZIP, WR_COMPRESSION_SNAPPY,
                           WR_COMPRESSION_LZ4, WR_COMPRESSION_ZSTD};
    for (int i = 0; i < 5; i++) {
        wr_buf b = WR_BUF_INIT;
        make_batch(&b, cs[i], i * 100, 100, 1);
        wr_log_append_result res;
        wr_err err = {0};
        cr_assert_eq(wr_log_append(p, b.data, b.len, &res, &err), WR_OK, "%s", err.msg);
        wr_buf_free(&b);
    }
    cr_assert_eq(read_all(p, 0, 0), 500);
    wr_log_close(db);
}

/* ---- bad input ------------------------------------------------------------------------- */

Test(log_engine, bad_batches_are_rejected_and_change_nothing)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, "max.message.bytes", "2000", NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    append_records(p, 0, 5, 1);
    off_t before = file_size(seg_path("t", 0, 0));

    wr_buf good = WR_BUF_INIT, two = WR_BUF_INIT;
    make_batch(&good, WR_COMPRESSION_NONE, 5, 5, 1);
    wr_log_append_result res;
    wr_err err = {0};
    /* wrong CRC */
    wr_buf bad = WR_BUF_INIT;
    wr_buf_append(&bad, good.data, good.len);
    bad.data[bad.len - 1] ^= 0x55;
    cr_assert_eq(wr_log_append(p, bad.data, bad.len, &res, &err), WR_ECRC);
    /* a good batch followed by a bad one: neither is stored */
    wr_buf_append(&two, good.data, good.len);
    wr_buf_append(&two, bad.data, bad.len);
    cr_assert_eq(wr_log_append(p, two.data, two.len, &res, &err), WR_ECRC);
    /* unknown magic */
    bad.data[16] = 1;
    cr_assert_eq(wr_log_append(p, bad.data, bad.len, &res, &err), WR_ECORRUPT);
    /* length past the data, and a torn trailer */
    wr_buf_reset(&bad);
    wr_buf_append(&bad, good.data, good.len);
    cr_assert_neq(wr_log_append(p, bad.data, bad.len - 3, &res, &err), WR_OK);
    wr_buf_append(&bad, good.data, 7);
    cr_assert_neq(wr_log_append(p, bad.data, bad.len, &res, &err), WR_OK);
    /* count does not match lastOffsetDelta (CRC recomputed so only the count is wrong) */
    wr_buf_reset(&bad);
    wr_buf_append(&bad, good.data, good.len);
    wr_be32_put(bad.data + 57, 1000);
    wr_be32_put(bad.data + 17, wr_crc32c(0, bad.data + 21, bad.len - 21));
    cr_assert_eq(wr_log_append(p, bad.data, bad.len, &res, &err), WR_ECORRUPT);
    /* count matches lastOffsetDelta but not the records present */
    wr_be32_put(bad.data + 23, 999);
    wr_be32_put(bad.data + 17, wr_crc32c(0, bad.data + 21, bad.len - 21));
    cr_assert_eq(wr_log_append(p, bad.data, bad.len, &res, &err), WR_ECORRUPT);
    /* larger than max.message.bytes */
    wr_buf big = WR_BUF_INIT;
    make_batch(&big, WR_COMPRESSION_NONE, 0, 300, 1);
    cr_assert_eq(wr_log_append(p, big.data, big.len, &res, &err), WR_ETOOBIG);
    cr_assert_eq(wr_log_append(p, big.data, 0, &res, &err), WR_EINVAL);

    cr_assert_eq(wr_log_end_offset(p), 5);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), before);
    cr_assert_eq(wr_log_append(p, good.data, good.len, &res, &err), WR_OK);
    cr_assert_eq(res.base_offset, 5);
    cr_assert_eq(read_all(p, 0, 0), 10);
    wr_buf_free(&good);
    wr_buf_free(&two);
    wr_buf_free(&bad);
    wr_buf_free(&big);
    wr_log_close(db);
}

Test(log_engine, full_disk_and_failed_fsync_roll_back_and_stay_readable)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    append_records(p, 0, 10, 1);
    off_t before = file_size(seg_path("t", 0, 0));
    wr_buf b = WR_BUF_INIT;
    make_batch(&b, WR_COMPRESSION_NONE, 10, 10, 1);
    wr_log_append_result res;
    wr_err err = {0};

    wr_fault_arm(WR_FAULT_ENOSPC, 0, 1);
    cr_assert_eq(wr_log_append(p, b.data, b.len, &res, &err), WR_ENOSPC);
    cr_assert(strstr(err.msg, "no space") != NULL, "%s", err.msg);
    cr_assert_eq(wr_log_end_offset(p), 10);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), before);
    cr_assert_eq(read_all(p, 0, 0), 10);

    wr_fault_arm(WR_FAULT_FSYNC, 0, 1);
    cr_assert_eq(wr_log_append(p, b.data, b.len, &res, &err), WR_EIO);
    cr_assert_eq(wr_log_end_offset(p), 10);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), before, "unsynced bytes are cut off");
    cr_assert_eq(read_all(p, 0, 0), 10);

    cr_assert_eq(wr_log_append(p, b.data, b.len, &res, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(res.base_offset, 10);
    cr_assert_eq(read_all(p, 0, 0), 20);
    wr_buf_free(&b);
    wr_log_close(db);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(read_all(part(db, "t", 0), 0, 0), 20);
    wr_log_close(db);
}

/* ---- segments, indexes, retention ------------------------------------------------------ */

Test(log_engine, segments_roll_by_size_and_survive_reopen)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, "segment.bytes", "4096", "index.interval.bytes", "256");
    wr_partition *p = part(db, "t", 0);
    int64_t now = wr_clock_wall_ms();
    for (int i = 0; i < 300; i++)
        append_records(p, i * 5, 5, now + i * 5);
    int segs = count_segments("t", 0);
    cr_assert_gt(segs, 5, "%d segments", segs);
    cr_assert_eq(read_all(p, 0, 0), 1500);
    /* every offset is found through the sparse indexes */
    for (int64_t off = 0; off < 1500; off += 37)
        cr_assert_eq(read_all(p, off, 0), 1500 - off);
    wr_err err = {0};
    cr_assert_eq(wr_log_maintain(db, &err), WR_OK, "%s", err.msg); /* stores the indexes */
    wr_log_close(db);

    db = open_db(WR_LOG_FLUSH_NONE);
    p = part(db, "t", 0);
    cr_assert_eq(wr_log_end_offset(p), 1500);
    cr_assert_eq(read_all(p, 0, 0), 1500);
    cr_assert_eq(read_all(p, 777, 0), 723);
    append_records(p, 1500, 5, now + 9000);
    cr_assert_eq(read_all(p, 0, 0), 1505);
    wr_log_close(db);
}

Test(log_engine, offset_for_time_finds_the_first_record_at_or_after)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, "segment.bytes", "2048", "index.interval.bytes", "100");
    wr_partition *p = part(db, "t", 0);
    /* record i has timestamp 10000 + 10 * i */
    for (int i = 0; i < 100; i++) {
        wr_rbatch_builder b;
        wr_rbatch_builder_init(&b, i % 2 ? WR_COMPRESSION_ZSTD : WR_COMPRESSION_NONE);
        for (int j = 0; j < 4; j++) {
            char v[16];
            int len = snprintf(v, sizeof v, "v%d", i * 4 + j);
            wr_rbatch_builder_add(&b, 10000 + 10 * (i * 4 + j), NULL, -1, v, len, NULL, 0);
        }
        wr_buf out = WR_BUF_INIT;
        cr_assert_eq(wr_rbatch_builder_finish(&b, &out, NULL), WR_OK);
        wr_log_append_result res;
        cr_assert_eq(wr_log_append(p, out.data, out.len, &res, NULL), WR_OK);
        wr_buf_free(&out);
        wr_rbatch_builder_free(&b);
    }
    int64_t off, ts;
    cr_assert_eq(wr_log_offset_for_time(p, 0, &off, &ts, NULL), WR_OK);
    cr_assert_eq(off, 0);
    cr_assert_eq(ts, 10000);
    cr_assert_eq(wr_log_offset_for_time(p, 10000 + 10 * 123, &off, &ts, NULL), WR_OK);
    cr_assert_eq(off, 123);
    cr_assert_eq(wr_log_offset_for_time(p, 10000 + 10 * 250 - 3, &off, &ts, NULL), WR_OK);
    cr_assert_eq(off, 250);
    cr_assert_eq(ts, 10000 + 10 * 250);
    cr_assert_eq(wr_log_offset_for_time(p, 10000 + 10 * 399, &off, &ts, NULL), WR_OK);
    cr_assert_eq(off, 399);
    cr_assert_eq(wr_log_offset_for_time(p, 10000 + 10 * 400, &off, &ts, NULL), WR_OK);
    cr_assert_eq(off, -1);
    cr_assert_eq(ts, -1);
    wr_log_close(db);
}

Test(log_engine, retention_by_time_and_size_moves_the_log_start)
{
    int64_t now = 1800000000000;
    wr_clock_fake(0, now);
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "time", 1, "segment.bytes", "1024", "retention.ms", "60000");
    create(db, "size", 1, "segment.bytes", "1024", "retention.bytes", "3000");
    wr_partition *pt = part(db, "time", 0), *ps = part(db, "size", 0);
    /* 100 batches of 5 records: the first 50 an hour old, the rest fresh */
    for (int i = 0; i < 100; i++) {
        append_records(pt, i * 5, 5, i < 50 ? now - 3600000 : now);
        append_records(ps, i * 5, 5, now);
    }
    wr_err err = {0};
    cr_assert_eq(wr_log_maintain(db, &err), WR_OK, "%s", err.msg);
    int64_t st = wr_log_start_offset(pt);
    cr_assert_gt(st, 150, "start %lld", (long long)st);
    cr_assert_leq(st, 250, "start %lld: fresh records must stay", (long long)st);
    cr_assert_eq(read_all(pt, st, 0), 500 - st);
    wr_buf out = WR_BUF_INIT;
    wr_log_read_result rr;
    cr_assert_eq(wr_log_read(pt, 0, 100, &out, &rr, &err), WR_EOFFSET);
    cr_assert_eq(rr.log_start_offset, st);

    int64_t ss = wr_log_start_offset(ps);
    cr_assert_gt(ss, 0);
    int segs = count_segments("size", 0);
    cr_assert_leq(segs, 5, "%d segments left", segs);
    cr_assert_eq(read_all(ps, ss, 0), 500 - ss);

    /* everything expires: the active segment is rolled and removed too, offsets go on */
    wr_clock_advance_ms(3600000 * 2);
    cr_assert_eq(wr_log_maintain(db, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_log_start_offset(pt), 500);
    cr_assert_eq(wr_log_end_offset(pt), 500);
    cr_assert_eq(count_segments("time", 0), 1);
    cr_assert_eq(append_records(pt, 500, 5, wr_clock_wall_ms()), 500);
    wr_log_close(db);

    db = open_db(WR_LOG_FLUSH_NONE);
    cr_assert_eq(wr_log_start_offset(part(db, "time", 0)), 500);
    cr_assert_eq(read_all(part(db, "time", 0), 500, 0), 5);
    wr_buf_free(&out);
    wr_log_close(db);
}

Test(log_engine, segment_roll_by_age)
{
    wr_clock_fake(0, 1800000000000);
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, "segment.ms", "1000", NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    append_records(p, 0, 5, wr_clock_wall_ms());
    wr_clock_advance_ms(500);
    append_records(p, 5, 5, wr_clock_wall_ms());
    cr_assert_eq(count_segments("t", 0), 1);
    wr_clock_advance_ms(600);
    append_records(p, 10, 5, wr_clock_wall_ms()); /* on append */
    cr_assert_eq(count_segments("t", 0), 2);
    wr_clock_advance_ms(1500);
    cr_assert_eq(wr_log_maintain(db, NULL), WR_OK); /* and in the background */
    cr_assert_eq(count_segments("t", 0), 3);
    cr_assert_eq(read_all(p, 0, 0), 15);
    wr_log_close(db);
}

Test(log_engine, delete_records_moves_the_start_offset)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, "segment.bytes", "1024", NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    for (int i = 0; i < 40; i++)
        append_records(p, i * 5, 5, 1);
    int before = count_segments("t", 0);
    wr_err err = {0};
    cr_assert_eq(wr_log_delete_records(p, 123, &err), WR_OK);
    cr_assert_eq(wr_log_start_offset(p), 123);
    cr_assert_lt(count_segments("t", 0), before);
    cr_assert_eq(read_all(p, 123, 0), 200 - 123);
    cr_assert_eq(wr_log_delete_records(p, 500, &err), WR_EOFFSET);
    wr_log_close(db);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_start_offset(part(db, "t", 0)), 123);
    wr_log_close(db);
}

/* ---- recovery -------------------------------------------------------------------------- */

static void
append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

Test(log_engine, torn_tail_is_cut_on_open)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 20; i++)
        append_records(part(db, "t", 0), i * 3, 3, 1);
    wr_log_close(db);
    off_t good = file_size(seg_path("t", 0, 0));

    /* half a batch at the end, as a crash mid-write leaves it */
    wr_buf b = WR_BUF_INIT;
    make_batch(&b, WR_COMPRESSION_NONE, 60, 3, 1);
    wr_be64_put(b.data, 60);
    append_bytes(seg_path("t", 0, 0), b.data, b.len / 2);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_end_offset(part(db, "t", 0)), 60);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), good);
    cr_assert_eq(read_all(part(db, "t", 0), 0, 0), 60);
    append_records(part(db, "t", 0), 60, 3, 1);
    wr_log_close(db);

    /* a whole batch whose bytes were damaged */
    good = file_size(seg_path("t", 0, 0));
    wr_be64_put(b.data, 63);
    b.data[b.len - 2] ^= 0xff;
    append_bytes(seg_path("t", 0, 0), b.data, b.len);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_end_offset(part(db, "t", 0)), 63);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), good);
    cr_assert_eq(read_all(part(db, "t", 0), 0, 0), 63);
    wr_log_close(db);

    /* zeros (a preallocated or unwritten tail) */
    char zeros[4096] = {0};
    append_bytes(seg_path("t", 0, 0), zeros, sizeof zeros);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(wr_log_end_offset(part(db, "t", 0)), 63);
    cr_assert_eq(file_size(seg_path("t", 0, 0)), good);
    wr_log_close(db);
    wr_buf_free(&b);
}

Test(log_engine, index_that_disagrees_with_the_segment_is_rebuilt)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, "index.interval.bytes", "128", NULL, NULL);
    for (int i = 0; i < 50; i++)
        append_records(part(db, "t", 0), i * 4, 4, 1);
    wr_log_close(db); /* stores an index covering all 50 batches */

    /* cut the file in the middle of the indexed range: the stored index now claims more */
    const char *path = seg_path("t", 0, 0);
    off_t full = file_size(path);
    cr_assert_eq(truncate(path, full / 2), 0);
    db = open_db(WR_LOG_FLUSH_SYNC);
    wr_partition *p = part(db, "t", 0);
    int64_t end = wr_log_end_offset(p);
    cr_assert_gt(end, 0);
    cr_assert_lt(end, 200);
    cr_assert_eq(read_all(p, 0, 0), end);
    for (int64_t off = 0; off < end; off += 7)
        cr_assert_eq(read_all(p, off, 0), end - off);
    int64_t next = append_records(p, (int)end, 4, 1);
    cr_assert_eq(next, end);
    cr_assert_eq(read_all(p, 0, 0), end + 4);
    wr_log_close(db);
}

/* ---- concurrency ----------------------------------------------------------------------- */

typedef struct appender {
    wr_partition *p;
    int n;
    int64_t *offsets;
} appender;

static void *
appender_main(void *arg)
{
    appender *a = arg;
    for (int i = 0; i < a->n; i++) {
        wr_buf b = WR_BUF_INIT;
        make_batch(&b, WR_COMPRESSION_NONE, 0, 2, 1);
        wr_log_append_result res;
        if (wr_log_append(a->p, b.data, b.len, &res, NULL) != WR_OK)
            a->offsets[i] = -1;
        else
            a->offsets[i] = res.base_offset;
        wr_buf_free(&b);
    }
    return NULL;
}

typedef struct waiter {
    wr_partition *p;
    int64_t seen;
} waiter;

static void *
waiter_main(void *arg)
{
    waiter *w = arg;
    w->seen = wr_log_wait(w->p, 0, 10000);
    return NULL;
}

Test(log_engine, concurrent_appends_share_fsyncs_and_get_distinct_offsets)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    create(db, "t", 1, "segment.bytes", "8192", NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    waiter w = {p, -1};
    pthread_t wt;
    pthread_create(&wt, NULL, waiter_main, &w);
    enum { T = 4, N = 200 };
    appender a[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        a[i] = (appender){p, N, calloc(N, sizeof(int64_t))};
        pthread_create(&th[i], NULL, appender_main, &a[i]);
    }
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    pthread_join(wt, NULL);
    cr_assert_gt(w.seen, 0, "wr_log_wait woke on the first append");
    bool *seen = calloc(T * N * 2, 1);
    for (int i = 0; i < T; i++) {
        for (int j = 0; j < N; j++) {
            int64_t o = a[i].offsets[j];
            cr_assert(o >= 0 && o < T * N * 2 && o % 2 == 0 && !seen[o], "offset %lld",
                      (long long)o);
            seen[o] = true;
        }
        free(a[i].offsets);
    }
    free(seen);
    cr_assert_eq(wr_log_end_offset(p), T * N * 2);
    wr_log_close(db);
}

/* ---- metadata tables ------------------------------------------------------------------- */

static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    wr_buf *b = arg;
    wr_buf_append(b, key, klen);
    wr_buf_append(b, "=", 1);
    wr_buf_append(b, val, vlen);
    wr_buf_append(b, ";", 1);
    return 0;
}

Test(log_engine, meta_tables_put_get_scan_delete_persist)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_SYNC);
    wr_err err = {0};
    cr_assert_eq(wr_log_meta_put(db, "groups", "g1/a", 4, "1", 1, &err), WR_OK);
    cr_assert_eq(wr_log_meta_put(db, "groups", "g1/b", 4, "2", 1, &err), WR_OK);
    cr_assert_eq(wr_log_meta_put(db, "groups", "g2/a", 4, "3", 1, &err), WR_OK);
    cr_assert_eq(wr_log_meta_put(db, "producers", "g1/a", 4, "x", 1, &err), WR_OK);
    cr_assert_eq(wr_log_meta_put(db, "log.topics", "x", 1, "x", 1, &err), WR_EINVAL);
    wr_log_close(db);
    db = open_db(WR_LOG_FLUSH_SYNC);
    wr_buf b = WR_BUF_INIT;
    cr_assert_eq(wr_log_meta_get(db, "groups", "g1/b", 4, &b, &err), WR_OK);
    cr_assert_eq(b.len, 1);
    cr_assert_eq(b.data[0], '2');
    wr_buf_reset(&b);
    cr_assert_eq(wr_log_meta_scan(db, "groups", "g1/", 3, collect, &b, &err), WR_OK);
    cr_assert_eq(b.len, strlen("g1/a=1;g1/b=2;"));
    cr_assert(memcmp(b.data, "g1/a=1;g1/b=2;", b.len) == 0);
    cr_assert_eq(wr_log_meta_del(db, "groups", "g1/a", 4, &err), WR_OK);
    cr_assert_eq(wr_log_meta_del(db, "groups", "g1/a", 4, &err), WR_ENOENT);
    wr_buf_reset(&b);
    cr_assert_eq(wr_log_meta_get(db, "groups", "g1/a", 4, &b, &err), WR_ENOENT);
    cr_assert_eq(wr_log_meta_scan(db, "groups", NULL, 0, collect, &b, &err), WR_OK);
    cr_assert(memcmp(b.data, "g1/b=2;g2/a=3;", b.len) == 0);
    wr_buf_free(&b);
    wr_log_close(db);
}

Test(log_engine, interval_flush_policy_makes_appends_visible_at_once)
{
    wr_log_opts o = {.flush = WR_LOG_FLUSH_INTERVAL, .flush_interval_ms = 20};
    wr_logdb *db = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    create(db, "t", 2, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 20; i++)
        append_records(part(db, "t", i % 2), (i / 2) * 3, 3, 1);
    cr_assert_eq(wr_log_end_offset(part(db, "t", 0)), 30);
    usleep(100000); /* a few background flushes */
    cr_assert_eq(wr_log_flush_all(db, &err), WR_OK, "%s", err.msg);
    wr_log_close(db);
    db = open_db(WR_LOG_FLUSH_SYNC);
    cr_assert_eq(read_all(part(db, "t", 0), 0, 0), 30);
    cr_assert_eq(read_all(part(db, "t", 1), 0, 0), 30);
    wr_log_close(db);
}

/* A compressed batch whose header and CRC are right but whose payload is garbage is refused
   whole (a consumer would fail on it later), for every codec; the good batch in front of it in
   the same append is not stored either, and the log reads on unchanged. */
Test(log_engine, compressed_garbage_is_refused_and_changes_nothing)
{
    wr_logdb *db = open_db(WR_LOG_FLUSH_NONE);
    create(db, "t", 1, NULL, NULL, NULL, NULL);
    wr_partition *p = part(db, "t", 0);
    append_records(p, 0, 5, 1);
    int64_t end = wr_log_end_offset(p);
    static const wr_compression cs[] = {WR_COMPRESSION_GZIP, WR_COMPRESSION_SNAPPY,
                                        WR_COMPRESSION_LZ4, WR_COMPRESSION_ZSTD};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        wr_buf good = WR_BUF_INIT, bad = WR_BUF_INIT, both = WR_BUF_INIT;
        make_batch(&good, cs[i], 5, 5, 1);
        wr_buf_append(&bad, good.data, good.len);
        for (size_t k = WR_RBATCH_HEADER_SIZE; k < bad.len; k++)
            bad.data[k] = (uint8_t)(k * 131 + 7);
        wr_be32_put(bad.data + 17, wr_crc32c(0, bad.data + 21, bad.len - 21));
        wr_buf_append(&both, good.data, good.len);
        wr_buf_append(&both, bad.data, bad.len);
        wr_log_append_result res;
        wr_err err = {0};
        cr_assert_eq(wr_log_append(p, both.data, both.len, &res, &err), WR_ECOMPRESS, "%s: %s",
                     wr_compression_name(cs[i]), err.msg);
        cr_assert_eq(wr_log_end_offset(p), end);
        cr_assert_eq(wr_log_append(p, good.data, good.len, &res, &err), WR_OK, "%s", err.msg);
        end = wr_log_end_offset(p);
        wr_buf_free(&good);
        wr_buf_free(&bad);
        wr_buf_free(&both);
    }
    wr_log_close(db);
}
