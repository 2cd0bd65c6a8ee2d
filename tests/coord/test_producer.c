/* Unit tests for src/coord/producer.c over the real log and transaction coordinator: records
   reach read_committed readers only when their transaction commits (the LSO holds them back
   meanwhile), the producer fields each batch is stamped with (pid, epoch, per-partition
   sequences, the transactional bit), offsets applied with the commit only, fencing by a second
   instance of the transactional id and recovery by reopening, a commit whose markers fail, and
   the coordinator's timeout fencing the producer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/coord/producer.h"
#include "src/coord/txn.h"
#include "src/kafka/kerr.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "tests/coord/fixture.h"

static void
setup(void)
{
    fixture_open("wr_test_producer", 1000);
}

TestSuite(coord_producer, .init = setup, .fini = fixture_close);

static wr_txn_producer *
open_producer(const char *id)
{
    wr_txn_producer *p = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_open(coord, db, id, 10000, &p, &err), WR_OK, "%s", err.msg);
    cr_assert_str_eq(wr_txn_producer_id(p), id);
    cr_assert_not(wr_txn_producer_in_txn(p));
    return p;
}

/* Appends to out one plain batch (as wr_rbatch_builder_finish leaves it) holding one record per
   comma-separated value of vals. */
static void
build(wr_buf *out, const char *vals)
{
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    for (const char *v = vals; *v;) {
        size_t n = strcspn(v, ",");
        wr_rbatch_builder_add(&b, 1000, "k", 1, v, (int32_t)n, NULL, 0);
        v += n + (v[n] == ',');
    }
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_builder_finish(&b, out, &err), WR_OK, "%s", err.msg);
    wr_rbatch_builder_free(&b);
}

/* wr_txn_producer_append of one batch of vals; the error in *err, the first offset in *first. */
static int
append_err(wr_txn_producer *p,
           const char *topic,
           int32_t pt,
           const char *vals,
           int64_t *first,
           wr_err *err)
{
    wr_buf data = WR_BUF_INIT;
    build(&data, vals);
    wr_log_append_result res = {0};
    int rc = wr_txn_producer_append(p, topic, pt, data.data, data.len, &res, err);
    if (first != NULL)
        *first = rc == WR_OK ? res.base_offset : -1;
    wr_buf_free(&data);
    return rc;
}

/* An append that must succeed; returns the offset of its first record. */
static int64_t
append(wr_txn_producer *p, const char *topic, int32_t pt, const char *vals)
{
    wr_err err = {0};
    int64_t first;
    cr_assert_eq(append_err(p, topic, pt, vals, &first, &err), WR_OK, "%s", err.msg);
    cr_assert(wr_txn_producer_in_txn(p));
    return first;
}

/* A plain (non-transactional) record. */
static void
append_plain(const char *topic, int32_t pt, const char *vals)
{
    wr_buf data = WR_BUF_INIT;
    build(&data, vals);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(part(topic, pt), data.data, data.len, &res, &err), WR_OK, "%s",
                 err.msg);
    wr_buf_free(&data);
}

static void
commit(wr_txn_producer *p)
{
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_OK, "%s", err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p));
}

static void
abort_txn(wr_txn_producer *p)
{
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_abort(p, &err), WR_OK, "%s", err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p));
}

/* The values a read_committed reader sees in a partition, joined with ',' (static buffer). */
static const char *
committed(const char *topic, int32_t p)
{
    static char out[1024];
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_log_read_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_read_committed(part(topic, p), 0, 1 << 20, &data, &res, &err), WR_OK, "%s",
                 err.msg);
    out[0] = 0;
    for (size_t off = 0; off < data.len;) {
        size_t size = wr_rbatch_size(data.data + off, data.len - off);
        wr_rbatch_iter it;
        cr_assert_eq(wr_rbatch_iter_init(&it, data.data + off, size, &scratch, 1 << 20, NULL),
                     WR_OK);
        wr_record rec;
        while (wr_rbatch_iter_next(&it, &rec, NULL) == 1) {
            cr_assert_not(it.hdr.attributes & WR_RBATCH_CONTROL, "a marker reached the reader");
            size_t len = strlen(out);
            snprintf(out + len, sizeof out - len, "%s%.*s", len ? "," : "", (int)rec.value_len,
                     (const char *)rec.value);
        }
        off += size;
    }
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return out;
}

/* The headers of the batches stored in a partition, markers included, into h[0..cap); returns
   how many there are. */
static int
headers(const char *topic, int32_t p, wr_rbatch_hdr *h, int cap)
{
    wr_buf data = WR_BUF_INIT;
    wr_log_read_result res;
    cr_assert_eq(wr_log_read(part(topic, p), 0, 1 << 20, &data, &res, NULL), WR_OK);
    int n = 0;
    for (size_t off = 0; off < data.len;) {
        size_t size = wr_rbatch_size(data.data + off, data.len - off);
        wr_rbatch_hdr one;
        wr_err err = {0};
        cr_assert_eq(wr_rbatch_validate(data.data + off, size, &one, &err), WR_OK,
                     "a stored batch does not validate: %s", err.msg);
        if (n < cap)
            h[n] = one;
        n++;
        off += size;
    }
    wr_buf_free(&data);
    return n;
}

static bool
is_open(const char *topic, int32_t p)
{
    return wr_log_stable_offset(part(topic, p)) < wr_log_end_offset(part(topic, p));
}

/* The committed offset of (group, topic, partition) in the group offsets table, -1 if none. */
static int64_t
group_offset(const char *group, const char *topic, int32_t p)
{
    uint8_t key[128];
    size_t kl = wr_group_offset_key(key, sizeof key, group, topic, p);
    cr_assert_gt(kl, 0);
    wr_buf v = WR_BUF_INIT;
    int rc = wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL);
    int64_t off = -1;
    if (rc == WR_OK) {
        cr_assert_geq(v.len, 12);
        off = (int64_t)wr_be64_get(v.data);
    } else {
        cr_assert_eq(rc, WR_ENOENT);
    }
    wr_buf_free(&v);
    return off;
}

static void
offsets(wr_txn_producer *p, const char *group, const char *topic, int32_t pt, int64_t off)
{
    wr_txn_offset o = {topic, pt, off, -1, NULL, 0};
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_offsets(p, group, &o, 1, &err), WR_OK, "%s", err.msg);
    cr_assert(wr_txn_producer_in_txn(p));
}

/* ---- commit, abort and the LSO ------------------------------------------------------------ */

Test(coord_producer, records_are_read_committed_only_after_the_commit)
{
    wr_txn_producer *p = open_producer("a");
    append_plain("t", 0, "plain0");
    int64_t first = append(p, "t", 0, "x1,x2");
    append(p, "t", 0, "x3");
    append(p, "t", 1, "y1");
    append_plain("t", 0, "plain1");
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), first, "the LSO stops at the transaction");
    cr_assert_eq(wr_log_stable_offset(part("t", 1)), 0);
    cr_assert_str_eq(committed("t", 0), "plain0");
    cr_assert_str_eq(committed("t", 1), "");
    commit(p);
    cr_assert_not(is_open("t", 0));
    cr_assert_not(is_open("t", 1));
    cr_assert_str_eq(committed("t", 0), "plain0,x1,x2,x3,plain1");
    cr_assert_str_eq(committed("t", 1), "y1");
    /* a commit with nothing open does nothing */
    int64_t end = wr_log_end_offset(part("t", 0));
    commit(p);
    abort_txn(p);
    cr_assert_eq(wr_log_end_offset(part("t", 0)), end, "no marker without a transaction");
    /* the next transaction on the same producer */
    append(p, "t", 0, "x4");
    cr_assert(is_open("t", 0));
    commit(p);
    cr_assert_str_eq(committed("t", 0), "plain0,x1,x2,x3,plain1,x4");
    wr_txn_producer_close(p);
    wr_txn_producer_close(NULL);
}

Test(coord_producer, an_aborted_transaction_is_never_read)
{
    wr_txn_producer *p = open_producer("b");
    append(p, "t", 0, "keep1");
    commit(p);
    int64_t first = append(p, "t", 0, "gone1,gone2");
    append(p, "u", 0, "gone3");
    abort_txn(p);
    cr_assert_not(is_open("t", 0));
    cr_assert_not(is_open("u", 0));
    cr_assert_str_eq(committed("t", 0), "keep1");
    cr_assert_str_eq(committed("u", 0), "");
    wr_log_aborted_txn ab[2];
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, INT64_MAX, ab, 2), 1);
    cr_assert_eq(ab[0].first_offset, first);
    append(p, "t", 0, "keep2");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "keep1,keep2");
    wr_txn_producer_close(p);
}

/* ---- what the batches carry --------------------------------------------------------------- */

Test(coord_producer, batches_carry_pid_epoch_sequences_and_the_transactional_bit)
{
    int64_t expect_pid = next_pid;
    wr_txn_producer *p = open_producer("s");
    append(p, "t", 0, "a,b");   /* seq 0..1 */
    append(p, "t", 0, "c");     /* seq 2 */
    append(p, "t", 1, "d,e");   /* another partition: seq 0 */
    append(p, "t", 0, "f,g,h"); /* seq 3..5 */
    /* several batches in one append: each gets the sequence after the one before */
    wr_buf two = WR_BUF_INIT;
    build(&two, "i,j");
    build(&two, "k");
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_append(p, "t", 1, two.data, two.len, &res, &err), WR_OK, "%s",
                 err.msg);
    wr_buf_free(&two);
    commit(p);
    wr_rbatch_hdr h[16];
    cr_assert_eq(headers("t", 0, h, 16), 4, "three batches and a marker");
    int32_t seq0[] = {0, 2, 3};
    int16_t epoch = h[0].producer_epoch;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(h[i].producer_id, expect_pid, "batch %d: pid %lld", i,
                     (long long)h[i].producer_id);
        cr_assert_eq(h[i].producer_epoch, epoch);
        cr_assert_eq(h[i].base_sequence, seq0[i], "batch %d: sequence %d, want %d", i,
                     h[i].base_sequence, seq0[i]);
        cr_assert(h[i].attributes & WR_RBATCH_TRANSACTIONAL);
        cr_assert_not(h[i].attributes & WR_RBATCH_CONTROL);
    }
    cr_assert(h[3].attributes & WR_RBATCH_CONTROL);
    cr_assert_eq(h[3].producer_epoch, epoch + 1, "the commit's marker carries the bumped epoch");
    cr_assert_eq(headers("t", 1, h, 16), 4);
    int32_t seq1[] = {0, 2, 4};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(h[i].producer_id, expect_pid);
        cr_assert_eq(h[i].base_sequence, seq1[i], "t-1 batch %d: sequence %d, want %d", i,
                     h[i].base_sequence, seq1[i]);
        cr_assert(h[i].attributes & WR_RBATCH_TRANSACTIONAL);
    }
    /* the next transaction: a new epoch, so the sequences start again */
    append(p, "t", 0, "l");
    append(p, "t", 0, "m,n");
    commit(p);
    cr_assert_eq(headers("t", 0, h, 16), 7);
    cr_assert_eq(h[4].producer_id, expect_pid);
    cr_assert_eq(h[4].producer_epoch, epoch + 1);
    cr_assert_eq(h[4].base_sequence, 0);
    cr_assert_eq(h[5].producer_epoch, epoch + 1);
    cr_assert_eq(h[5].base_sequence, 1);
    cr_assert_eq(h[6].producer_epoch, epoch + 2);
    cr_assert(h[6].attributes & WR_RBATCH_CONTROL);
    /* an abort moves the epoch on too */
    append(p, "t", 1, "o");
    abort_txn(p);
    append(p, "t", 1, "p");
    commit(p);
    cr_assert_eq(headers("t", 1, h, 16), 8);
    /* t-1 sat out the second transaction: its batches carry that epoch's successors */
    cr_assert_eq(h[4].producer_epoch, epoch + 2);
    cr_assert_eq(h[4].base_sequence, 0);
    cr_assert(h[5].attributes & WR_RBATCH_CONTROL);
    cr_assert_eq(h[5].producer_epoch, epoch + 3, "the abort's marker carries the bumped epoch");
    cr_assert_eq(h[6].producer_epoch, epoch + 3);
    cr_assert_eq(h[6].base_sequence, 0);
    cr_assert_eq(h[7].producer_epoch, epoch + 4);
    cr_assert_str_eq(committed("t", 1), "d,e,i,j,k,p");
    wr_txn_producer_close(p);
}

/* A buffer that ends inside a batch is refused before anything is stamped or appended. The
   short buffer is an exact heap copy, so that a read past its end shows under ASan. */
Test(coord_producer, a_batch_that_is_not_whole_is_refused)
{
    wr_txn_producer *p = open_producer("w");
    wr_buf data = WR_BUF_INIT;
    build(&data, "a,b");
    size_t one = data.len;
    build(&data, "c");
    wr_log_append_result res;
    wr_err err = {0};
    /* the only batch cut short, then the second of two */
    size_t cuts[] = {one - 1, data.len - 1};
    for (int i = 0; i < 2; i++) {
        uint8_t *shortc = malloc(cuts[i]);
        cr_assert_not_null(shortc);
        memcpy(shortc, data.data, cuts[i]);
        cr_assert_eq(wr_txn_producer_append(p, "t", 0, shortc, cuts[i], &res, &err), WR_EINVAL,
                     "cut at %zu: %d %s", cuts[i], err.code, err.msg);
        cr_assert(strstr(err.msg, "not a whole record batch") != NULL, "%s", err.msg);
        free(shortc);
    }
    cr_assert_eq(wr_log_end_offset(part("t", 0)), 0);
    /* the producer goes on, and the refused appends used no sequence */
    cr_assert_eq(wr_txn_producer_append(p, "t", 0, data.data, data.len, &res, &err), WR_OK, "%s",
                 err.msg);
    wr_rbatch_hdr h[2];
    cr_assert_eq(headers("t", 0, h, 2), 2);
    cr_assert_eq(h[0].base_sequence, 0);
    cr_assert_eq(h[1].base_sequence, 2);
    commit(p);
    cr_assert_str_eq(committed("t", 0), "a,b,c");
    wr_buf_free(&data);
    wr_txn_producer_close(p);
}

/* ---- offsets ------------------------------------------------------------------------------ */

Test(coord_producer, offsets_reach_the_group_only_when_the_transaction_commits)
{
    wr_txn_producer *p = open_producer("o");
    append(p, "t", 0, "out1");
    offsets(p, "grp", "u", 0, 17);
    cr_assert(wr_txn_offset_pending(coord, "grp", "u", 0));
    cr_assert_eq(group_offset("grp", "u", 0), -1, "pending until the commit");
    abort_txn(p);
    cr_assert_not(wr_txn_offset_pending(coord, "grp", "u", 0));
    cr_assert_eq(group_offset("grp", "u", 0), -1, "an abort drops them");
    /* offsets alone make a transaction */
    offsets(p, "grp", "u", 0, 18);
    offsets(p, "grp", "u", 0, 19); /* the last one counts */
    offsets(p, "grp2", "t", 1, 5);
    cr_assert_eq(group_offset("grp", "u", 0), -1);
    commit(p);
    cr_assert_eq(group_offset("grp", "u", 0), 19);
    cr_assert_eq(group_offset("grp2", "t", 1), 5);
    cr_assert_not(wr_txn_offset_pending(coord, "grp", "u", 0));
    /* with records */
    append(p, "t", 1, "out2");
    offsets(p, "grp", "u", 0, 25);
    commit(p);
    cr_assert_eq(group_offset("grp", "u", 0), 25);
    cr_assert_str_eq(committed("t", 1), "out2");
    wr_txn_producer_close(p);
}

/* ---- fencing and reopening ---------------------------------------------------------------- */

Test(coord_producer, a_second_instance_fences_the_first_and_aborts_its_transaction)
{
    wr_txn_producer *p1 = open_producer("f");
    append(p1, "t", 0, "zombie1");
    offsets(p1, "g", "u", 0, 3);
    cr_assert(is_open("t", 0));
    wr_txn_producer *p2 = open_producer("f");
    cr_assert_not(is_open("t", 0), "the zombie's transaction was aborted");
    cr_assert_str_eq(committed("t", 0), "");
    cr_assert_not(wr_txn_offset_pending(coord, "g", "u", 0));
    /* the first instance: an append to a partition it holds, to a new one, offsets, commit */
    wr_err err = {0};
    cr_assert_eq(append_err(p1, "t", 0, "zombie2", NULL, &err), WR_EFENCED, "%d %s", err.code,
                 err.msg);
    cr_assert_eq(err.code, WR_EFENCED);
    cr_assert(strstr(err.msg, "transactional id f") != NULL, "%s", err.msg);
    cr_assert_eq(append_err(p1, "t", 1, "zombie3", NULL, &err), WR_EFENCED, "%s", err.msg);
    wr_txn_offset o = {"u", 0, 4, -1, NULL, 0};
    cr_assert_eq(wr_txn_producer_offsets(p1, "g", &o, 1, &err), WR_EFENCED, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_commit(p1, &err), WR_EFENCED, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_abort(p1, &err), WR_EFENCED, "%s", err.msg);
    cr_assert_eq(wr_log_end_offset(part("t", 1)), 0, "nothing of the zombie was appended");
    cr_assert_eq(group_offset("g", "u", 0), -1);
    /* the second goes on */
    append(p2, "t", 0, "live1");
    offsets(p2, "g", "u", 0, 8);
    commit(p2);
    cr_assert_str_eq(committed("t", 0), "live1");
    cr_assert_eq(group_offset("g", "u", 0), 8);
    wr_txn_producer_close(p1);
    wr_txn_producer_close(p2);
}

Test(coord_producer, a_fenced_commit_loses_the_transaction)
{
    /* the zombie's first request after the fencing is its commit (the coordinator refuses it) */
    wr_txn_producer *p1 = open_producer("c");
    append(p1, "u", 0, "zombie");
    wr_txn_producer *p2 = open_producer("c");
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_commit(p1, &err), WR_EFENCED, "%d %s", err.code, err.msg);
    cr_assert_str_eq(committed("u", 0), "");
    cr_assert_not(is_open("u", 0));
    /* the zombie's abort changes nothing either */
    cr_assert_eq(wr_txn_producer_abort(p1, &err), WR_EFENCED, "%s", err.msg);
    append(p2, "u", 0, "live");
    commit(p2);
    cr_assert_str_eq(committed("u", 0), "live");
    wr_txn_producer_close(p1);
    wr_txn_producer_close(p2);
}

Test(coord_producer, reopening_recovers_a_fenced_producer)
{
    wr_txn_producer *p1 = open_producer("r");
    append(p1, "t", 0, "lost");
    wr_txn_producer *p2 = open_producer("r");
    wr_err err = {0};
    cr_assert_eq(append_err(p1, "t", 0, "lost2", NULL, &err), WR_EFENCED, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_reopen(p1, &err), WR_OK, "%s", err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p1));
    /* p1 is the id's producer again: p2 is the zombie now */
    cr_assert_eq(append_err(p2, "t", 1, "p2", NULL, &err), WR_EFENCED, "%s", err.msg);
    append(p1, "t", 0, "again1");
    append(p1, "t", 1, "again2");
    commit(p1);
    cr_assert_str_eq(committed("t", 0), "again1");
    cr_assert_str_eq(committed("t", 1), "again2");
    wr_rbatch_hdr h[8];
    int n = headers("t", 0, h, 8);
    cr_assert_eq(n, 4, "lost, its abort marker, again1, its commit marker");
    cr_assert_eq(h[2].base_sequence, 0, "a reopened producer starts its sequences again");
    cr_assert_gt(h[2].producer_epoch, h[0].producer_epoch);
    wr_txn_producer_close(p1);
    wr_txn_producer_close(p2);
}

Test(coord_producer, reopening_aborts_the_producers_own_open_transaction)
{
    wr_txn_producer *p = open_producer("own");
    append(p, "t", 0, "dropped");
    offsets(p, "g", "t", 1, 9);
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_OK, "%s", err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p));
    cr_assert_not(is_open("t", 0));
    cr_assert_str_eq(committed("t", 0), "");
    cr_assert_eq(group_offset("g", "t", 1), -1);
    append(p, "t", 0, "kept");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "kept");
    wr_txn_producer_close(p);
}

/* ---- failures of the coordinator ---------------------------------------------------------- */

static int refused;

static bool
refuse_markers(void *arg, const char *topic, int32_t p)
{
    (void)arg;
    (void)topic;
    (void)p;
    refused++;
    return false;
}

/* The markers of a commit cannot be written: the commit fails with WR_EIO. The PrepareCommit is
   durable by then, so the transaction is not lost: read_committed readers wait (the LSO holds),
   an abort cannot turn it around, and the producer's next step (retrying the commit, or
   reopening) writes the markers, which commit it. */
Test(coord_producer, a_commit_whose_markers_fail_commits_when_retried)
{
    wr_txn_producer *p = open_producer("m");
    append(p, "t", 0, "a");
    append(p, "t", 1, "b");
    offsets(p, "g", "u", 0, 11);
    wr_txn_coord_set_marker_hook(coord, refuse_markers, NULL);
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_EIO, "%d %s", err.code, err.msg);
    cr_assert_gt(refused, 0);
    cr_assert(wr_txn_producer_in_txn(p), "the transaction is not over");
    cr_assert(is_open("t", 0));
    cr_assert(is_open("t", 1));
    cr_assert_str_eq(committed("t", 0), "");
    cr_assert_eq(group_offset("g", "u", 0), -1);
    /* still failing: so does the retry */
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_EIO, "%d %s", err.code, err.msg);
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_OK, "the retry writes the markers: %s",
                 err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p));
    cr_assert_str_eq(committed("t", 0), "a");
    cr_assert_str_eq(committed("t", 1), "b");
    cr_assert_eq(group_offset("g", "u", 0), 11);
    /* and the producer goes on with the epoch that commit gave it */
    append(p, "t", 0, "c");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "a,c");
    wr_txn_producer_close(p);
}

Test(coord_producer, after_a_failed_commit_an_abort_is_refused_and_a_reopen_finishes_the_commit)
{
    wr_txn_producer *p = open_producer("n");
    append(p, "t", 0, "a");
    offsets(p, "g", "u", 0, 12);
    wr_txn_coord_set_marker_hook(coord, refuse_markers, NULL);
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_EIO, "%d %s", err.code, err.msg);
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
    /* the commit was decided (PrepareCommit): it cannot become an abort */
    int rc = wr_txn_producer_abort(p, &err);
    cr_assert_neq(rc, WR_OK, "an abort after a decided commit must not succeed");
    cr_assert_str_eq(committed("t", 0), "");
    /* reopening finishes what was decided */
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_OK, "%s", err.msg);
    cr_assert_not(wr_txn_producer_in_txn(p));
    cr_assert_not(is_open("t", 0));
    cr_assert_str_eq(committed("t", 0), "a", "the decided commit was completed, not aborted");
    cr_assert_eq(group_offset("g", "u", 0), 12);
    append(p, "t", 0, "b");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "a,b");
    wr_txn_producer_close(p);
}

Test(coord_producer, reopening_while_markers_still_fail_fails)
{
    wr_txn_producer *p = open_producer("q");
    append(p, "t", 0, "a");
    wr_txn_coord_set_marker_hook(coord, refuse_markers, NULL);
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_EIO, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_EIO, "%d %s", err.code, err.msg);
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_OK, "%s", err.msg);
    cr_assert_str_eq(committed("t", 0), "a");
    append(p, "t", 0, "b");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "a,b");
    wr_txn_producer_close(p);
}

Test(coord_producer, an_abort_whose_markers_fail_is_finished_by_a_reopen)
{
    wr_txn_producer *p = open_producer("ab");
    append(p, "t", 0, "a");
    wr_txn_coord_set_marker_hook(coord, refuse_markers, NULL);
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_abort(p, &err), WR_EIO, "%d %s", err.code, err.msg);
    cr_assert(is_open("t", 0));
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_OK, "%s", err.msg);
    cr_assert_not(is_open("t", 0));
    cr_assert_str_eq(committed("t", 0), "");
    append(p, "t", 0, "b");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "b");
    wr_txn_producer_close(p);
}

Test(coord_producer, the_coordinators_timeout_fences_the_producer)
{
    wr_txn_producer *p = open_producer("slow"); /* 10 s transaction timeout */
    append(p, "t", 0, "late");
    offsets(p, "g", "u", 0, 5);
    cr_assert_eq(wr_txn_expire(coord, wr_clock_wall_ms() + 5000), 0, "not yet");
    cr_assert_eq(wr_txn_expire(coord, wr_clock_wall_ms() + 11000), 1);
    cr_assert_not(is_open("t", 0), "the timeout aborted it");
    cr_assert_str_eq(committed("t", 0), "");
    wr_err err = {0};
    cr_assert_eq(append_err(p, "t", 0, "later", NULL, &err), WR_EFENCED, "%d %s", err.code,
                 err.msg);
    cr_assert_eq(wr_txn_producer_commit(p, &err), WR_EFENCED, "%s", err.msg);
    cr_assert_eq(group_offset("g", "u", 0), -1);
    cr_assert_eq(wr_txn_producer_reopen(p, &err), WR_OK, "%s", err.msg);
    append(p, "t", 0, "fresh");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "fresh");
    wr_txn_producer_close(p);
}

Test(coord_producer, the_timeout_fences_a_producer_whose_next_append_opens_a_partition)
{
    wr_txn_producer *p = open_producer("slow2");
    append(p, "t", 0, "late");
    cr_assert_eq(wr_txn_expire(coord, wr_clock_wall_ms() + 11000), 1);
    wr_err err = {0};
    cr_assert_eq(append_err(p, "t", 1, "later", NULL, &err), WR_EFENCED, "%d %s", err.code,
                 err.msg);
    cr_assert_eq(wr_log_end_offset(part("t", 1)), 0);
    wr_txn_producer_close(p);
}

Test(coord_producer, open_refuses_a_bad_timeout_and_append_an_unknown_partition)
{
    wr_txn_producer *p = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_txn_producer_open(coord, db, "bad", 0, &p, &err), WR_EINVAL, "%d %s", err.code,
                 err.msg);
    cr_assert_eq(wr_txn_producer_open(coord, db, "bad", 60001, &p, &err), WR_EINVAL);
    cr_assert_null(p);
    p = open_producer("x");
    int rc = append_err(p, "t", 5, "nowhere", NULL, &err);
    cr_assert_neq(rc, WR_OK);
    cr_assert_neq(rc, WR_EFENCED, "an unknown partition does not fence: %s", err.msg);
    cr_assert(strstr(err.msg, "AddPartitionsToTxn") != NULL, "%s", err.msg);
    append(p, "t", 0, "fine");
    commit(p);
    cr_assert_str_eq(committed("t", 0), "fine");
    wr_txn_producer_close(p);
}
