/* Unit tests for src/log/compact.c: cleanup.policy=compact keeps each key's latest record at
   its offset, keeps records without keys, keeps tombstones for delete.retention.ms, rewrites
   compressed batches, survives a reopen, and leaves retention to cleanup.policy=delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/clock.h"
#include "src/base/crc32c.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/wr_test_compact_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    wr_log_set_level(WR_LOG_ERROR);
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    wr_clock_fake_clear();
}

TestSuite(log_compact, .init = setup, .fini = teardown);

static wr_logdb *
open_db(void)
{
    wr_log_opts o = {.flush = WR_LOG_FLUSH_NONE};
    wr_logdb *db = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    return db;
}

/* A compacted topic whose every append rolls a segment (segment.bytes 100), cleaned at every
   maintenance (min.cleanable.dirty.ratio 0), keeping tombstones for retention_ms. */
static wr_partition *
compacted(wr_logdb *db, const char *policy, const char *tombstone_ms)
{
    wr_props c = WR_PROPS_INIT;
    wr_props_set(&c, "cleanup.policy", policy);
    wr_props_set(&c, "segment.bytes", "100");
    wr_props_set(&c, "min.cleanable.dirty.ratio", "0");
    wr_props_set(&c, "delete.retention.ms", tombstone_ms);
    wr_props_set(&c, "retention.ms", "1");
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "cl", 1, &c, &err), WR_OK, "%s", err.msg);
    wr_props_free(&c);
    wr_partition *p = NULL;
    cr_assert_eq(wr_log_partition(db, "cl", 0, &p), WR_OK);
    return p;
}

/* One record per key in keys ("" for a null key; a value "-" is a tombstone), values
   "<key>@<offset>", in one batch of codec c. Returns the batch's base offset. */
static int64_t
append(wr_partition *p, wr_compression c, int64_t producer, const char *const *keys, int n)
{
    int64_t base = wr_log_end_offset(p);
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, c);
    b.producer_id = producer;
    b.producer_epoch = producer >= 0 ? 0 : -1;
    b.base_sequence = producer >= 0 ? (int32_t)base : -1;
    for (int i = 0; i < n; i++) {
        char v[64];
        const char *k = keys[i];
        bool tomb = k[0] == '-';
        if (tomb)
            k++;
        int len = snprintf(v, sizeof v, "%s@%lld", k, (long long)(base + i));
        wr_rbatch_builder_add(&b, 1000 + base + i, *k ? k : NULL, *k ? (int32_t)strlen(k) : -1,
                              tomb ? NULL : v, tomb ? -1 : len, NULL, 0);
    }
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_builder_finish(&b, &out, &err), WR_OK, "%s", err.msg);
    wr_log_append_result res;
    cr_assert_eq(wr_log_append(p, out.data, out.len, &res, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(res.base_offset, base);
    wr_buf_free(&out);
    wr_rbatch_builder_free(&b);
    return base;
}

static void
append1(wr_partition *p, const char *key)
{
    append(p, WR_COMPRESSION_NONE, -1, &key, 1);
}

/* Everything readable from offset 0, as "offset key=value" lines ("null" for null). Each
   record's value must still name its own offset. */
static void
read_all(wr_partition *p, char *text, size_t cap, int *empty_batches)
{
    int64_t off = wr_log_start_offset(p);
    wr_buf out = WR_BUF_INIT, scratch = WR_BUF_INIT;
    size_t used = 0;
    text[0] = 0;
    if (empty_batches)
        *empty_batches = 0;
    while (off < wr_log_end_offset(p)) {
        wr_log_read_result rr;
        wr_buf_reset(&out);
        wr_err err = {0};
        cr_assert_eq(wr_log_read(p, off, 1 << 20, &out, &rr, &err), WR_OK, "%s", err.msg);
        cr_assert_gt(rr.bytes, 0, "no batch at offset %lld", (long long)off);
        for (size_t pos = 0; pos < out.len;) {
            size_t sz = wr_rbatch_size(out.data + pos, out.len - pos);
            wr_rbatch_hdr h;
            cr_assert_eq(wr_rbatch_validate(out.data + pos, sz, &h, &err), WR_OK, "%s", err.msg);
            wr_rbatch_iter it;
            cr_assert_eq(wr_rbatch_iter_init(&it, out.data + pos, sz, &scratch, 1 << 24, &err),
                         WR_OK);
            if (h.records_count == 0 && empty_batches)
                (*empty_batches)++;
            wr_record r;
            while (wr_rbatch_iter_next(&it, &r, &err) == 1) {
                if (r.value_len >= 0) {
                    char want[32];
                    snprintf(want, sizeof want, "@%lld", (long long)r.offset);
                    cr_assert(
                        r.value_len >= (int)strlen(want) &&
                            memcmp(r.value + r.value_len - strlen(want), want, strlen(want)) == 0,
                        "record %lld moved", (long long)r.offset);
                }
                used += (size_t)snprintf(text + used, cap - used, "%lld %.*s=%s ",
                                         (long long)r.offset, r.key_len < 0 ? 4 : r.key_len,
                                         r.key_len < 0 ? "null" : (const char *)r.key,
                                         r.value_len < 0 ? "null" : "v");
            }
            off = h.base_offset + h.last_offset_delta + 1;
            pos += sz;
        }
    }
    wr_buf_free(&out);
    wr_buf_free(&scratch);
}

static void
maintain(wr_logdb *db)
{
    wr_err err = {0};
    cr_assert_eq(wr_log_maintain(db, &err), WR_OK, "%s", err.msg);
}

Test(log_compact, the_latest_record_of_each_key_stays_at_its_offset)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000");
    const char *keys[] = {"a", "b", "a", "c", "", "b", "a", "c", "d"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        append1(p, keys[i]);
    int64_t end = wr_log_end_offset(p), start = wr_log_start_offset(p);
    maintain(db);
    char got[2048];
    read_all(p, got, sizeof got, NULL);
    /* the active segment (offset 8) is not cleaned; of the sealed ones each key's latest, the
       record without a key, and nothing else */
    cr_assert_str_eq(got, "4 null=v 5 b=v 6 a=v 7 c=v 8 d=v ", "%s", got);
    cr_assert_eq(wr_log_end_offset(p), end);
    cr_assert_eq(wr_log_start_offset(p), start);
    /* a reader positioned on a removed record goes on with the next one */
    wr_buf out = WR_BUF_INIT;
    wr_log_read_result rr;
    wr_err err = {0};
    cr_assert_eq(wr_log_read(p, 1, 1 << 20, &out, &rr, &err), WR_OK, "%s", err.msg);
    cr_assert_gt(rr.bytes, 0);
    wr_buf_free(&out);
    /* a second pass finds nothing more to remove */
    maintain(db);
    char again[2048];
    read_all(p, again, sizeof again, NULL);
    cr_assert_str_eq(again, got);
    wr_log_close(db);
}

Test(log_compact, tombstones_stay_for_delete_retention_ms_then_go)
{
    wr_clock_fake(0, wr_clock_wall_ms());
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "60000");
    const char *keys[] = {"a", "b", "-a", "c", "x"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        append1(p, keys[i]);
    maintain(db);
    char got[2048];
    read_all(p, got, sizeof got, NULL);
    cr_assert_str_eq(got, "1 b=v 2 a=null 3 c=v 4 x=v ", "the tombstone stays: %s", got);
    wr_clock_advance_ms(120000); /* past delete.retention.ms since the files were written */
    maintain(db);
    read_all(p, got, sizeof got, NULL);
    cr_assert_str_eq(got, "1 b=v 3 c=v 4 x=v ", "the tombstone went: %s", got);
    wr_log_close(db);
}

Test(log_compact, compressed_batches_are_rewritten_with_their_codec)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000");
    const wr_compression codecs[] = {WR_COMPRESSION_GZIP, WR_COMPRESSION_SNAPPY, WR_COMPRESSION_LZ4,
                                     WR_COMPRESSION_ZSTD};
    const char *keys[] = {"k1", "k2", "k1", "k3", "k2"};
    for (int i = 0; i < 4; i++)
        append(p, codecs[i], -1, keys, 5);
    append1(p, "z");
    maintain(db);
    char got[2048];
    read_all(p, got, sizeof got, NULL);
    /* k1, k2 and k3 last appear in the zstd batch (offsets 15..19) */
    cr_assert_str_eq(got, "17 k1=v 18 k3=v 19 k2=v 20 z=v ", "%s", got);
    wr_log_close(db);
}

Test(log_compact, emptied_batches_of_producers_and_segment_ends_stay_as_headers)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000");
    const char *two[] = {"a", "b"};
    append(p, WR_COMPRESSION_NONE, 7, two, 2); /* an idempotent producer's batch */
    append(p, WR_COMPRESSION_NONE, -1, two, 2);
    append1(p, "z");
    maintain(db);
    char got[2048];
    int empty = 0;
    read_all(p, got, sizeof got, &empty);
    cr_assert_str_eq(got, "2 a=v 3 b=v 4 z=v ", "%s", got);
    cr_assert_eq(empty, 1, "the producer's emptied batch keeps its header");
    wr_log_close(db);
}

Test(log_compact, a_reopened_log_reads_the_same_and_drops_stray_output)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000");
    const char *keys[] = {"a", "a", "b", "a", "b", "c"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        append1(p, keys[i]);
    maintain(db);
    char before[2048], after[2048];
    read_all(p, before, sizeof before, NULL);
    wr_log_close(db);
    char stray[256];
    snprintf(stray, sizeof stray, "%s/log/cl-0/00000000000000000000.log.cleaned", dir);
    FILE *f = fopen(stray, "w");
    if (f != NULL) { /* as a crash in the middle of a pass would leave it */
        fputs("half", f);
        fclose(f);
    }
    db = open_db();
    cr_assert_eq(wr_log_partition(db, "cl", 0, &p), WR_OK);
    read_all(p, after, sizeof after, NULL);
    cr_assert_str_eq(after, before);
    struct stat st;
    cr_assert_neq(stat(stray, &st), 0, "the stray .cleaned file was removed");
    wr_log_close(db);
}

Test(log_compact, compact_only_topics_keep_old_segments_delete_topics_do_not)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000"); /* retention.ms 1 */
    const char *keys[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        append1(p, keys[i]);
    maintain(db);
    cr_assert_eq(wr_log_start_offset(p), 0, "retention.ms does not apply to compact only");
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_config_set(db, "cl", "cleanup.policy", "compact,delete", &err), WR_OK,
                 "%s", err.msg);
    maintain(db);
    cr_assert_gt(wr_log_start_offset(p), 0, "compact,delete applies retention too");
    wr_log_close(db);
}

Test(log_compact, an_append_must_have_contiguous_offsets)
{
    wr_logdb *db = open_db();
    wr_partition *p = compacted(db, "compact", "86400000");
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    wr_rbatch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 0);
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_rbatch_builder_finish(&b, &out, NULL), WR_OK);
    wr_rbatch_builder_free(&b);
    /* last offset delta 1 with one record: what compaction leaves, never what a producer
       may send */
    out.data[23 + 3] = 1;
    wr_be32_put(out.data + 17, wr_crc32c(0, out.data + 21, out.len - 21));
    wr_rbatch_hdr h;
    cr_assert_eq(wr_rbatch_parse_hdr(out.data, out.len, &h, NULL), WR_OK);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(p, out.data, out.len, &res, &err), WR_ECORRUPT);
    cr_assert(strstr(err.msg, "does not match last offset delta") != NULL, "%s", err.msg);
    wr_buf_free(&out);
    wr_log_close(db);
}

/* n records of about 1 KB, keys "<prefix><i>", in one batch. */
static void
append_big(wr_partition *p, const char *prefix, int n)
{
    int64_t base = wr_log_end_offset(p);
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    for (int i = 0; i < n; i++) {
        char k[32], v[1100];
        int kl = snprintf(k, sizeof k, "%s%d", prefix, i);
        memset(v, '.', 1000);
        int vl = 1000 + snprintf(v + 1000, sizeof v - 1000, "%s@%lld", k, (long long)(base + i));
        wr_rbatch_builder_add(&b, 1000 + base + i, k, kl, v, vl, NULL, 0);
    }
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_builder_finish(&b, &out, &err), WR_OK, "%s", err.msg);
    wr_log_append_result res;
    cr_assert_eq(wr_log_append(p, out.data, out.len, &res, &err), WR_OK, "%s", err.msg);
    wr_buf_free(&out);
    wr_rbatch_builder_free(&b);
}

Test(log_compact, a_segment_keeps_its_clean_prefix_when_a_later_record_goes)
{
    /* the first record that goes lies past the first megabyte of its segment: the rewrite
       starts with the segment's bytes before it, copied */
    wr_logdb *db = open_db();
    wr_props c = WR_PROPS_INIT;
    wr_props_set(&c, "cleanup.policy", "compact");
    wr_props_set(&c, "segment.bytes", "1500000");
    wr_props_set(&c, "min.cleanable.dirty.ratio", "0");
    wr_props_set(&c, "max.message.bytes", "1000000");
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "cl", 1, &c, &err), WR_OK, "%s", err.msg);
    wr_props_free(&c);
    wr_partition *p = NULL;
    cr_assert_eq(wr_log_partition(db, "cl", 0, &p), WR_OK);
    for (int i = 0; i < 12; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "u%d-", i);
        append_big(p, prefix, 100); /* 1,200 distinct keys, about 1.2 MB */
    }
    const char *keys[] = {"a", "z", "a"};
    for (size_t i = 0; i < 3; i++)
        append1(p, keys[i]); /* offsets 1200..1202: a@1200 goes */
    append_big(p, "f", 400); /* too big for the segment: rolls it */
    maintain(db);
    static char got[1 << 20], again[1 << 20];
    read_all(p, got, sizeof got, NULL);
    cr_assert(strstr(got, "0 u0-0=v 1 u0-1=v ") == got, "the prefix stays");
    cr_assert(strstr(got, "1199 u11-99=v 1201 z=v 1202 a=v 1203 f0=v ") != NULL,
              "a@1200 went, the rest stayed");
    wr_log_close(db);
    /* and the same after a reopen, from the renamed file and its stored index */
    db = open_db();
    cr_assert_eq(wr_log_partition(db, "cl", 0, &p), WR_OK);
    read_all(p, again, sizeof again, NULL);
    cr_assert_str_eq(again, got);
    wr_log_close(db);
}
