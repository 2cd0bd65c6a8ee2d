/* Unit tests for src/coord/txn.c over the real log (src/log): the state machine and its errors,
   markers and the last stable offset, the KIP-890 epoch bump against a delayed EndTxn and a
   delayed Produce, transaction timeouts, pending offsets, and restarts: an open transaction
   replayed from the log, and a coordinator that dies between the markers of a commit. Then
   the end of an id's epochs: the bump that would use the last one moves the id to a new
   producer id (directly, after a restart between markers, and from a version 1 row). Last,
   what a start repairs: a hanging transaction, and a checkpoint past a lost tail. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/coord/txn.h"
#include "src/kafka/kerr.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "tests/coord/fixture.h"

static void
setup(void)
{
    fixture_open("wr_test_txn", 100);
}

TestSuite(txn, .init = setup, .fini = fixture_close);

/* Appends one record (transactional when pid >= 0) as the broker would after its checks. */
static int64_t
produce(const char *topic, int32_t p, int64_t pid, int16_t epoch, int32_t seq, const char *v)
{
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    if (pid >= 0) {
        b.producer_id = pid;
        b.producer_epoch = epoch;
        b.base_sequence = seq;
        b.extra_attributes = WR_RBATCH_TRANSACTIONAL;
    }
    wr_rbatch_builder_add(&b, 1000, "k", 1, v, (int32_t)strlen(v), NULL, 0);
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_builder_finish(&b, &out, &err), WR_OK);
    wr_log_append_result res;
    cr_assert_eq(wr_log_append(part(topic, p), out.data, out.len, &res, &err), WR_OK, "%s",
                 err.msg);
    wr_rbatch_builder_free(&b);
    wr_buf_free(&out);
    return res.base_offset;
}

/* The control batches of a partition: their types (0 ABORT, 1 COMMIT) into types, count. */
static int
markers(const char *topic, int32_t p, int *types, int16_t *epochs, int cap)
{
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_log_read_result res;
    cr_assert_eq(wr_log_read(part(topic, p), 0, 1 << 20, &data, &res, NULL), WR_OK);
    int n = 0;
    for (size_t off = 0; off < data.len;) {
        size_t size = wr_rbatch_size(data.data + off, data.len - off);
        wr_rbatch_iter it;
        cr_assert_eq(wr_rbatch_iter_init(&it, data.data + off, size, &scratch, 1 << 20, NULL),
                     WR_OK);
        if (it.hdr.attributes & WR_RBATCH_CONTROL) {
            cr_assert(it.hdr.attributes & WR_RBATCH_TRANSACTIONAL);
            wr_record rec;
            cr_assert_eq(wr_rbatch_iter_next(&it, &rec, NULL), 1);
            cr_assert_eq(rec.key_len, 4);
            if (n < cap) {
                types[n] = wr_be16_get(rec.key + 2);
                epochs[n] = it.hdr.producer_epoch;
            }
            n++;
        }
        off += size;
    }
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return n;
}

/* The values a read_committed reader sees in a partition, joined with ',' into out. */
static void
committed(const char *topic, int32_t p, char *out, size_t cap)
{
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
            snprintf(out + len, cap - len, "%s%.*s", len ? "," : "", (int)rec.value_len,
                     (const char *)rec.value);
        }
        off += size;
    }
    wr_buf_free(&data);
    wr_buf_free(&scratch);
}

static void
init(const char *id, int64_t *pid, int16_t *epoch)
{
    cr_assert_eq(wr_txn_init_producer(coord, id, 10000, -1, -1, pid, epoch), WR_KERR_NONE);
}

static void
add(const char *id, int64_t pid, int16_t epoch, const char *topic, int32_t p)
{
    wr_txn_partition tp = {topic, p, 0};
    cr_assert_eq(wr_txn_add_partitions(coord, id, pid, epoch, &tp, 1), WR_KERR_NONE);
}

Test(txn, commit_and_abort_move_the_lso_and_list_aborted)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("a", &pid, &ep);
    add("a", pid, ep, "t", 0);
    cr_assert_eq(wr_txn_verify_produce(coord, "a", pid, ep, "t", 0), WR_KERR_NONE);
    cr_assert_eq(wr_txn_verify_produce(coord, "a", pid, ep, "t", 1), WR_KERR_INVALID_TXN_STATE,
                 "a partition not added must be refused (KIP-890 part 1)");
    produce("t", 0, -1, -1, -1, "plain0"); /* offset 0 */
    int64_t first = produce("t", 0, pid, ep, 0, "x1");
    produce("t", 0, -1, -1, -1, "plain1");
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), first);
    cr_assert_eq(wr_txn_end(coord, "a", pid, ep, false, false, &np, &ne), WR_KERR_NONE);
    int64_t hw = wr_log_end_offset(part("t", 0));
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), hw);
    wr_log_aborted_txn ab[4];
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, hw, ab, 4), 1);
    cr_assert_eq(ab[0].producer_id, pid);
    cr_assert_eq(ab[0].first_offset, first);
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), hw, hw + 10, ab, 4), 0);
    /* the next transaction commits: no new aborted entry */
    add("a", pid, ep, "t", 0);
    produce("t", 0, pid, ep, 1, "x2");
    cr_assert_eq(wr_txn_end(coord, "a", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, INT64_MAX, ab, 4), 1);
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 0, types, epochs, 4), 2);
    cr_assert_eq(types[0], 0);
    cr_assert_eq(types[1], 1);
    /* an EndTxn retried with the same outcome succeeds; the other outcome does not */
    cr_assert_eq(wr_txn_end(coord, "a", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(wr_txn_end(coord, "a", pid, ep, false, false, &np, &ne),
                 WR_KERR_INVALID_TXN_STATE);
    cr_assert_eq(markers("t", 0, types, epochs, 4), 2, "a retry writes no marker");
}

Test(txn, errors_of_the_protocol)
{
    int64_t pid, np;
    int16_t ep, ne;
    cr_assert_eq(wr_txn_init_producer(coord, "e", 0, -1, -1, &pid, &ep),
                 WR_KERR_INVALID_TRANSACTION_TIMEOUT);
    cr_assert_eq(wr_txn_init_producer(coord, "e", 60001, -1, -1, &pid, &ep),
                 WR_KERR_INVALID_TRANSACTION_TIMEOUT);
    init("e", &pid, &ep);
    wr_txn_partition tp = {"nope", 0, 0};
    cr_assert_eq(wr_txn_add_partitions(coord, "e", pid, ep, &tp, 1),
                 WR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    wr_txn_partition two[2] = {{"t", 0, 0}, {"t", 9, 0}};
    cr_assert_eq(wr_txn_add_partitions(coord, "e", pid, ep, two, 2),
                 WR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    cr_assert_eq(two[0].error, WR_KERR_OPERATION_NOT_ATTEMPTED);
    cr_assert_eq(wr_txn_end(coord, "e", pid, ep, true, false, &np, &ne), WR_KERR_INVALID_TXN_STATE,
                 "nothing added: nothing to end");
    cr_assert_eq(wr_txn_add_partitions(coord, "e", pid + 1, ep, &two[0], 1),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING);
    cr_assert_eq(wr_txn_add_partitions(coord, "nobody", pid, ep, &two[0], 1),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING);
    cr_assert_eq(wr_txn_add_offsets(coord, "e", pid, ep, ""), WR_KERR_INVALID_GROUP_ID);
    wr_txn_offset o = {"t", 0, 5, -1, NULL, 0};
    cr_assert_eq(wr_txn_offset_commit(coord, "e", pid, ep, "g", &o, 1), WR_KERR_INVALID_TXN_STATE,
                 "offsets of a group not added to the transaction");
}

Test(txn, a_new_producer_fences_the_old_and_aborts_its_transaction)
{
    int64_t pid, pid2, np;
    int16_t ep, ep2, ne;
    init("f", &pid, &ep);
    add("f", pid, ep, "t", 1);
    produce("t", 1, pid, ep, 0, "zombie");
    init("f", &pid2, &ep2);
    cr_assert_eq(pid2, pid);
    cr_assert_gt(ep2, ep);
    cr_assert_eq(wr_log_stable_offset(part("t", 1)), wr_log_end_offset(part("t", 1)),
                 "the zombie's transaction was aborted");
    wr_log_aborted_txn ab[2];
    cr_assert_eq(wr_log_aborted_txns(part("t", 1), 0, INT64_MAX, ab, 2), 1);
    wr_txn_partition tp = {"t", 1, 0};
    cr_assert_eq(wr_txn_add_partitions(coord, "f", pid, ep, &tp, 1), WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_end(coord, "f", pid, ep, true, false, &np, &ne), WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_verify_produce(coord, "f", pid, ep, "t", 1),
                 WR_KERR_INVALID_PRODUCER_EPOCH);
    /* KIP-360: a producer naming an epoch that is not the current one is fenced */
    int64_t p3;
    int16_t e3;
    cr_assert_eq(wr_txn_init_producer(coord, "f", 10000, pid, ep, &p3, &e3),
                 WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_init_producer(coord, "f", 10000, pid2, ep2, &p3, &e3), WR_KERR_NONE);
    cr_assert_eq(e3, ep2 + 1);
}

/* The Jepsen/KAFKA-17754 case: T1's EndTxn is delayed and arrives again while T2 runs. With an
   epoch per transaction it cannot end T2, and T1's late Produce cannot join T2. */
Test(txn, delayed_endtxn_and_produce_cannot_touch_the_next_transaction)
{
    int64_t pid, np;
    int16_t e1, e2;
    init("d", &pid, &e1);
    add("d", pid, e1, "t", 0);
    produce("t", 0, pid, e1, 0, "t1");
    cr_assert_eq(wr_txn_end(coord, "d", pid, e1, true, true, &np, &e2), WR_KERR_NONE);
    cr_assert_eq(np, pid);
    cr_assert_eq(e2, e1 + 1, "the epoch moves on with every transaction");
    /* a retry of T1's EndTxn (the client missed the answer) learns the new epoch */
    int16_t again;
    cr_assert_eq(wr_txn_end(coord, "d", pid, e1, true, true, &np, &again), WR_KERR_NONE);
    cr_assert_eq(again, e2);
    /* T2 starts on both partitions */
    add("d", pid, e2, "t", 0);
    add("d", pid, e2, "t", 1);
    produce("t", 0, pid, e2, 0, "t2-a");
    /* the delayed EndTxn of T1 arrives now: fenced, T2 stays open */
    int16_t ne;
    cr_assert_eq(wr_txn_end(coord, "d", pid, e1, true, true, &np, &ne), WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_end(coord, "d", pid, e1, false, true, &np, &ne), WR_KERR_PRODUCER_FENCED);
    cr_assert_lt(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)),
                 "T2 must still be open");
    /* a delayed Produce of T1 is refused: it cannot land in T2 */
    cr_assert_eq(wr_txn_verify_produce(coord, "d", pid, e1, "t", 0),
                 WR_KERR_INVALID_PRODUCER_EPOCH);
    cr_assert_eq(wr_txn_verify_produce(coord, "d", pid, e2, "t", 1), WR_KERR_NONE);
    produce("t", 1, pid, e2, 0, "t2-b");
    int16_t e3;
    cr_assert_eq(wr_txn_end(coord, "d", pid, e2, true, true, &np, &e3), WR_KERR_NONE);
    cr_assert_eq(e3, e2 + 1);
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 0, types, epochs, 4), 2);
    cr_assert_eq(epochs[0], e2, "T1's marker carries the bumped epoch");
    cr_assert_eq(epochs[1], e3);
    cr_assert_eq(markers("t", 1, types, epochs, 4), 1, "T2 committed on both partitions");
    cr_assert_eq(types[0], 1);
}

Test(txn, a_timed_out_transaction_is_aborted_and_its_producer_fenced)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("slow", &pid, &ep);
    add("slow", pid, ep, "u", 0);
    produce("u", 0, pid, ep, 0, "late");
    cr_assert_eq(wr_txn_expire(coord, wr_clock_wall_ms() + 5000), 0, "not yet (10 s timeout)");
    cr_assert_eq(wr_txn_expire(coord, wr_clock_wall_ms() + 11000), 1);
    cr_assert_eq(wr_log_stable_offset(part("u", 0)), wr_log_end_offset(part("u", 0)));
    cr_assert_eq(wr_txn_end(coord, "slow", pid, ep, true, false, &np, &ne),
                 WR_KERR_PRODUCER_FENCED);
}

Test(txn, offsets_commit_with_the_transaction_only)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("o", &pid, &ep);
    cr_assert_eq(wr_txn_add_offsets(coord, "o", pid, ep, "grp"), WR_KERR_NONE);
    wr_txn_offset o = {"t", 1, 42, 3, "meta", 0};
    cr_assert_eq(wr_txn_offset_commit(coord, "o", pid, ep, "grp", &o, 1), WR_KERR_NONE);
    cr_assert(wr_txn_offset_pending(coord, "grp", "t", 1));
    cr_assert_not(wr_txn_offset_pending(coord, "grp", "t", 0));
    uint8_t key[64];
    size_t kl = wr_group_offset_key(key, sizeof key, "grp", "t", 1);
    wr_buf v = WR_BUF_INIT;
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL), WR_ENOENT);
    cr_assert_eq(wr_txn_end(coord, "o", pid, ep, false, false, &np, &ne), WR_KERR_NONE);
    cr_assert_not(wr_txn_offset_pending(coord, "grp", "t", 1));
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL), WR_ENOENT,
                 "aborted offsets are dropped");
    cr_assert_eq(wr_txn_add_offsets(coord, "o", pid, ep, "grp"), WR_KERR_NONE);
    cr_assert_eq(wr_txn_offset_commit(coord, "o", pid, ep, "grp", &o, 1), WR_KERR_NONE);
    cr_assert_eq(wr_txn_end(coord, "o", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL), WR_OK);
    cr_assert_eq(v.len, 16);
    cr_assert_eq((int64_t)wr_be64_get(v.data), 42);
    cr_assert_eq((int32_t)wr_be32_get(v.data + 8), 3);
    cr_assert_eq(memcmp(v.data + 12, "meta", 4), 0);
    wr_buf_free(&v);
}

Test(txn, an_open_transaction_survives_a_restart)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("r", &pid, &ep);
    add("r", pid, ep, "t", 0);
    /* an earlier aborted transaction, checkpointed with its marker */
    int64_t a1 = produce("t", 0, pid, ep, 0, "aborted");
    cr_assert_eq(wr_txn_end(coord, "r", pid, ep, false, false, &np, &ne), WR_KERR_NONE);
    add("r", pid, ep, "t", 0);
    int64_t first = produce("t", 0, pid, ep, 1, "open"); /* after the checkpoint: replayed */
    produce("t", 0, -1, -1, -1, "plain");
    close_all();
    open_all();
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), first, "the open transaction is replayed");
    wr_log_aborted_txn ab[2];
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, INT64_MAX, ab, 2), 1);
    cr_assert_eq(ab[0].first_offset, a1);
    cr_assert_eq(wr_txn_verify_produce(coord, "r", pid, ep, "t", 0), WR_KERR_NONE,
                 "the coordinator still knows the open transaction");
    cr_assert_eq(wr_txn_end(coord, "r", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)));
    close_all();
    open_all();
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)));
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, INT64_MAX, ab, 2), 1);
}

/* The coordinator fails after the first marker of a commit over three partitions (as a crash
   would leave it: PrepareCommit stored, one marker written): the next start writes the markers
   again, so every partition commits, and applies the offsets. */
static int marker_count;

static bool
fail_after_first_marker(void *arg, const char *topic, int32_t p)
{
    (void)arg;
    (void)topic;
    (void)p;
    return ++marker_count < 2;
}

Test(txn, no_torn_transaction_when_the_coordinator_dies_between_markers)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("torn", &pid, &ep);
    add("torn", pid, ep, "t", 0);
    add("torn", pid, ep, "t", 1);
    add("torn", pid, ep, "u", 0);
    cr_assert_eq(wr_txn_add_offsets(coord, "torn", pid, ep, "g"), WR_KERR_NONE);
    wr_txn_offset o = {"u", 0, 7, -1, NULL, 0};
    cr_assert_eq(wr_txn_offset_commit(coord, "torn", pid, ep, "g", &o, 1), WR_KERR_NONE);
    produce("t", 0, pid, ep, 0, "a");
    produce("t", 1, pid, ep, 0, "b");
    produce("u", 0, pid, ep, 0, "c");
    wr_txn_coord_set_marker_hook(coord, fail_after_first_marker, NULL);
    cr_assert_eq(wr_txn_end(coord, "torn", pid, ep, true, false, &np, &ne),
                 WR_KERR_KAFKA_STORAGE_ERROR);
    cr_assert_eq(wr_txn_end(coord, "torn", pid, ep, true, false, &np, &ne),
                 WR_KERR_KAFKA_STORAGE_ERROR,
                 "a retry writes the markers again (and fails again here)");
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 0, types, epochs, 4) + markers("t", 1, types, epochs, 4) +
                     markers("u", 0, types, epochs, 4),
                 1, "one marker written before the failure");
    close_all();
    open_all(); /* finds PrepareCommit: writes the markers again */
    const char *topics[] = {"t", "t", "u"};
    int32_t parts[] = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
        int n = markers(topics[i], parts[i], types, epochs, 4);
        cr_assert_geq(n, 1, "%s-%d has no marker", topics[i], parts[i]);
        for (int k = 0; k < n && k < 4; k++)
            cr_assert_eq(types[k], 1, "%s-%d: every marker is a COMMIT", topics[i], parts[i]);
        cr_assert_eq(wr_log_stable_offset(part(topics[i], parts[i])),
                     wr_log_end_offset(part(topics[i], parts[i])));
        wr_log_aborted_txn ab[2];
        cr_assert_eq(wr_log_aborted_txns(part(topics[i], parts[i]), 0, INT64_MAX, ab, 2), 0);
    }
    uint8_t key[64];
    size_t kl = wr_group_offset_key(key, sizeof key, "g", "u", 0);
    wr_buf v = WR_BUF_INIT;
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL), WR_OK,
                 "the commit's offsets were applied");
    cr_assert_eq((int64_t)wr_be64_get(v.data), 7);
    wr_buf_free(&v);
    cr_assert_eq(wr_txn_end(coord, "torn", pid, ep, true, false, &np, &ne), WR_KERR_NONE,
                 "the client's retry of EndTxn sees its commit done");
}

/* ---- the end of the epochs ------------------------------------------------------------- */

/* An id at epoch INT16_MAX - 1 (wr_txn_coord_set_epoch stands for 32,000 transactions): its
   next bumping EndTxn writes the markers with INT16_MAX, the last epoch, and moves the id to a
   new producer id with epoch 0. Only the client's retry of that EndTxn may still use the old
   pid; the next transactions run on the new one, and readers see what they committed. */
Test(txn, a_retried_end_txn_finishes_a_commit_whose_markers_failed)
{
    int64_t pid, np, rp;
    int16_t ep, ne, re;
    init("again", &pid, &ep);
    add("again", pid, ep, "t", 0);
    add("again", pid, ep, "u", 0);
    cr_assert_eq(wr_txn_add_offsets(coord, "again", pid, ep, "g2"), WR_KERR_NONE);
    wr_txn_offset o = {"u", 0, 5, -1, NULL, 0};
    cr_assert_eq(wr_txn_offset_commit(coord, "again", pid, ep, "g2", &o, 1), WR_KERR_NONE);
    produce("t", 0, pid, ep, 0, "a");
    produce("u", 0, pid, ep, 0, "b");
    marker_count = 0;
    wr_txn_coord_set_marker_hook(coord, fail_after_first_marker, NULL);
    cr_assert_eq(wr_txn_end(coord, "again", pid, ep, true, true, &np, &ne),
                 WR_KERR_KAFKA_STORAGE_ERROR);
    cr_assert_lt(wr_log_stable_offset(part("u", 0)), wr_log_end_offset(part("u", 0)),
                 "u-0 has no marker yet: its records are not stable");
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
    /* the same request again (the client did not learn the new epoch): the markers go out */
    cr_assert_eq(wr_txn_end(coord, "again", pid, ep, true, true, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(np, pid);
    cr_assert_eq(ne, ep + 1);
    cr_assert_eq(wr_log_stable_offset(part("u", 0)), wr_log_end_offset(part("u", 0)));
    int types[4];
    int16_t epochs[4];
    cr_assert_geq(markers("u", 0, types, epochs, 4), 1);
    cr_assert_eq(types[0], 1);
    uint8_t k[600];
    size_t kl = wr_group_offset_key(k, sizeof k, "g2", "u", 0);
    wr_buf v = WR_BUF_INIT;
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, k, kl, &v, NULL), WR_OK,
                 "the commit's offset is applied");
    cr_assert_eq((int64_t)wr_be64_get(v.data), 5);
    wr_buf_free(&v);
    /* the next transaction goes on with the new epoch */
    cr_assert_eq(wr_txn_init_producer(coord, "again", 60000, pid, ne, &rp, &re), WR_KERR_NONE);
    cr_assert_eq(rp, pid);
}

Test(txn, the_last_epoch_moves_the_id_to_a_new_producer_id)
{
    int64_t pid, np, rp;
    int16_t ep, ne, re;
    init("x", &pid, &ep);
    const int16_t last = INT16_MAX - 1;
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "x", last), WR_KERR_NONE);
    add("x", pid, last, "t", 0);
    add("x", pid, last, "t", 1);
    produce("t", 0, -1, -1, -1, "plain");
    produce("t", 0, pid, last, 0, "t1-a");
    produce("t", 1, pid, last, 0, "t1-b");
    int64_t expect = next_pid;
    cr_assert_eq(wr_txn_end(coord, "x", pid, last, true, true, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(np, expect, "a new producer id (%lld, expected %lld)", (long long)np,
                 (long long)expect);
    cr_assert_neq(np, pid);
    cr_assert_eq(ne, 0);
    int types[4];
    int16_t epochs[4];
    for (int p = 0; p < 2; p++) {
        cr_assert_eq(markers("t", p, types, epochs, 4), 1);
        cr_assert_eq(types[0], 1);
        cr_assert_eq(epochs[0], INT16_MAX, "t-%d: the markers carry the last epoch", p);
        cr_assert_eq(wr_log_stable_offset(part("t", p)), wr_log_end_offset(part("t", p)));
    }
    /* the client missed the answer: its retry succeeds and learns the new producer id */
    cr_assert_eq(wr_txn_end(coord, "x", pid, last, true, true, &rp, &re), WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(re, 0);
    cr_assert_eq(markers("t", 0, types, epochs, 4), 1, "a retry writes no marker");
    /* any other use of the old producer id is refused */
    cr_assert_eq(wr_txn_end(coord, "x", pid, last, false, true, &rp, &re), WR_KERR_PRODUCER_FENCED,
                 "a retry asking for the other outcome");
    cr_assert_eq(wr_txn_end(coord, "x", pid, last, true, false, &rp, &re), WR_KERR_PRODUCER_FENCED,
                 "a retry that does not bump");
    const int16_t olds[] = {INT16_MAX, last, 0, 5};
    for (int i = 0; i < 4; i++) {
        int16_t e = olds[i];
        wr_txn_partition tp = {"t", 0, 0};
        cr_assert_eq(wr_txn_add_partitions(coord, "x", pid, e, &tp, 1),
                     WR_KERR_INVALID_PRODUCER_ID_MAPPING, "old pid, epoch %d", e);
        cr_assert_eq(wr_txn_add_offsets(coord, "x", pid, e, "g"),
                     WR_KERR_INVALID_PRODUCER_ID_MAPPING);
        cr_assert_eq(wr_txn_verify_produce(coord, "x", pid, e, "t", 0),
                     WR_KERR_INVALID_PRODUCER_ID_MAPPING);
        if (e != last) {
            cr_assert_eq(wr_txn_end(coord, "x", pid, e, true, true, &rp, &re),
                         WR_KERR_INVALID_PRODUCER_ID_MAPPING, "old pid, epoch %d", e);
            cr_assert_eq(wr_txn_end(coord, "x", pid, e, true, false, &rp, &re),
                         WR_KERR_INVALID_PRODUCER_ID_MAPPING);
        }
    }
    /* T2 on the new producer id aborts */
    add("x", np, 0, "t", 0);
    cr_assert_eq(wr_txn_verify_produce(coord, "x", np, 0, "t", 0), WR_KERR_NONE);
    int64_t t2 = produce("t", 0, np, 0, 0, "t2-aborted");
    /* the old EndTxn, delayed until now, cannot end T2 */
    cr_assert_eq(wr_txn_end(coord, "x", pid, last, true, true, &rp, &re),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING);
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), t2, "T2 must still be open");
    int16_t e2;
    cr_assert_eq(wr_txn_end(coord, "x", np, 0, false, true, &rp, &e2), WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(e2, 1);
    /* T3 commits */
    add("x", np, e2, "t", 0);
    int64_t t3 = produce("t", 0, np, e2, 1, "t3");
    char seen[256];
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "plain,t1-a", "T3 is open: read_committed stops at the LSO");
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), t3);
    int16_t e3;
    cr_assert_eq(wr_txn_end(coord, "x", np, e2, true, true, &rp, &e3), WR_KERR_NONE);
    cr_assert_eq(e3, 2);
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)));
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "plain,t1-a,t3");
    committed("t", 1, seen, sizeof seen);
    cr_assert_str_eq(seen, "t1-b");
    wr_log_aborted_txn ab[4];
    cr_assert_eq(wr_log_aborted_txns(part("t", 0), 0, INT64_MAX, ab, 4), 1);
    cr_assert_eq(ab[0].producer_id, np);
    cr_assert_eq(ab[0].first_offset, t2);
    cr_assert_eq(markers("t", 0, types, epochs, 4), 3);
    cr_assert_eq(epochs[0], INT16_MAX);
    cr_assert_eq(types[1], 0);
    cr_assert_eq(epochs[1], 1);
    cr_assert_eq(types[2], 1);
    cr_assert_eq(epochs[2], 2);
    /* KIP-360 with the new producer id */
    cr_assert_eq(wr_txn_init_producer(coord, "x", 10000, np, e3, &rp, &re), WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(re, e3 + 1);
}

/* KIP-360 after the move: a client that missed the answer of the EndTxn that used the last
   epoch may start again with the (pid, epoch) it sent; nothing else of the old pid may. */
Test(txn, init_producer_accepts_the_producer_of_the_last_epoch)
{
    int64_t pid, np, rp;
    int16_t ep, ne, re;
    init("k", &pid, &ep);
    const int16_t last = INT16_MAX - 1;
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "k", last), WR_KERR_NONE);
    add("k", pid, last, "u", 0);
    cr_assert_eq(wr_txn_end(coord, "k", pid, last, false, true, &np, &ne), WR_KERR_NONE);
    cr_assert_neq(np, pid);
    cr_assert_eq(ne, 0);
    cr_assert_eq(wr_txn_init_producer(coord, "k", 10000, pid, INT16_MAX, &rp, &re),
                 WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_init_producer(coord, "k", 10000, pid, 3, &rp, &re),
                 WR_KERR_PRODUCER_FENCED);
    cr_assert_eq(wr_txn_init_producer(coord, "k", 10000, pid, last, &rp, &re), WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(re, 1);
    /* that InitProducerId made (np, 1) the only producer: the old EndTxn is no retry now */
    cr_assert_eq(wr_txn_end(coord, "k", pid, last, false, true, &rp, &re),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING);
    cr_assert_eq(wr_txn_init_producer(coord, "k", 10000, pid, last, &rp, &re),
                 WR_KERR_PRODUCER_FENCED);
}

/* InitProducerId hands out at most INT16_MAX - 2; a bumping EndTxn takes that to INT16_MAX - 1
   on the same pid, and the one after moves to a new pid. */
Test(txn, init_producer_and_end_txn_agree_on_the_last_epochs)
{
    int64_t pid, np, rp;
    int16_t ep, ne, re;
    init("z", &pid, &ep);
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "z", INT16_MAX - 3), WR_KERR_NONE);
    cr_assert_eq(wr_txn_init_producer(coord, "z", 10000, pid, INT16_MAX - 3, &rp, &re),
                 WR_KERR_NONE);
    cr_assert_eq(rp, pid);
    cr_assert_eq(re, INT16_MAX - 2);
    add("z", pid, re, "u", 0);
    cr_assert_eq(wr_txn_end(coord, "z", pid, re, true, true, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(np, pid);
    cr_assert_eq(ne, INT16_MAX - 1);
    add("z", pid, ne, "u", 0);
    cr_assert_eq(wr_txn_end(coord, "z", pid, ne, true, true, &np, &re), WR_KERR_NONE);
    cr_assert_neq(np, pid);
    cr_assert_eq(re, 0);
    /* at INT16_MAX - 2, InitProducerId moves to a new pid itself */
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "z", INT16_MAX - 2), WR_KERR_NONE);
    int64_t p2;
    int16_t e2;
    cr_assert_eq(wr_txn_init_producer(coord, "z", 10000, np, INT16_MAX - 2, &p2, &e2),
                 WR_KERR_NONE);
    cr_assert_neq(p2, np);
    cr_assert_eq(e2, 0);
    /* an InitProducerId that finds a transaction open at INT16_MAX - 1 aborts it with the last
       epoch and a new pid, then bumps that one */
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "z", INT16_MAX - 1), WR_KERR_NONE);
    add("z", p2, INT16_MAX - 1, "u", 0);
    int64_t open = produce("u", 0, p2, INT16_MAX - 1, 0, "zombie");
    int64_t p3;
    int16_t e3;
    cr_assert_eq(wr_txn_init_producer(coord, "z", 10000, -1, -1, &p3, &e3), WR_KERR_NONE);
    cr_assert_neq(p3, p2);
    cr_assert_eq(e3, 1);
    cr_assert_eq(wr_log_stable_offset(part("u", 0)), wr_log_end_offset(part("u", 0)));
    wr_log_aborted_txn ab[2];
    cr_assert_eq(wr_log_aborted_txns(part("u", 0), 0, INT64_MAX, ab, 2), 1);
    cr_assert_eq(ab[0].producer_id, p2);
    cr_assert_eq(ab[0].first_offset, open);
}

/* The coordinator fails between the markers of the EndTxn that uses the last epoch: the new
   producer id was chosen with the Prepare state, and finishing the transaction at the next
   start moves the id to that one, not to another. */
Test(txn, the_move_to_a_new_producer_id_survives_a_restart_between_markers)
{
    int64_t pid, np, rp;
    int16_t ep, ne, re;
    init("m", &pid, &ep);
    const int16_t last = INT16_MAX - 1;
    cr_assert_eq(wr_txn_coord_set_epoch(coord, "m", last), WR_KERR_NONE);
    add("m", pid, last, "t", 0);
    add("m", pid, last, "t", 1);
    add("m", pid, last, "u", 0);
    cr_assert_eq(wr_txn_add_offsets(coord, "m", pid, last, "g"), WR_KERR_NONE);
    wr_txn_offset o = {"u", 0, 9, -1, NULL, 0};
    cr_assert_eq(wr_txn_offset_commit(coord, "m", pid, last, "g", &o, 1), WR_KERR_NONE);
    produce("t", 0, pid, last, 0, "a");
    produce("t", 1, pid, last, 0, "b");
    produce("u", 0, pid, last, 0, "c");
    int64_t expect = next_pid;
    marker_count = 0;
    wr_txn_coord_set_marker_hook(coord, fail_after_first_marker, NULL);
    cr_assert_eq(wr_txn_end(coord, "m", pid, last, true, true, &np, &ne),
                 WR_KERR_KAFKA_STORAGE_ERROR);
    /* the client retries while the commit is unfinished: the markers are written again (and
       fail again here); it is not fenced */
    cr_assert_eq(wr_txn_end(coord, "m", pid, last, true, true, &np, &ne),
                 WR_KERR_KAFKA_STORAGE_ERROR);
    cr_assert_eq(wr_txn_end(coord, "m", pid, last, false, true, &np, &ne), WR_KERR_PRODUCER_FENCED);
    wr_txn_partition tp = {"t", 0, 0};
    cr_assert_eq(wr_txn_add_partitions(coord, "m", pid, INT16_MAX, &tp, 1),
                 WR_KERR_CONCURRENT_TRANSACTIONS);
    close_all();
    next_pid = 5000; /* a producer id allocated at the restart would show */
    open_all();      /* finds PrepareCommit: writes the markers again */
    const char *topics[] = {"t", "t", "u"};
    int32_t parts[] = {0, 1, 0};
    int types[4];
    int16_t epochs[4];
    for (int i = 0; i < 3; i++) {
        int n = markers(topics[i], parts[i], types, epochs, 4);
        cr_assert_geq(n, 1, "%s-%d has no marker", topics[i], parts[i]);
        for (int k = 0; k < n && k < 4; k++) {
            cr_assert_eq(types[k], 1);
            cr_assert_eq(epochs[k], INT16_MAX, "%s-%d: markers with the old pid's last epoch",
                         topics[i], parts[i]);
        }
        cr_assert_eq(wr_log_stable_offset(part(topics[i], parts[i])),
                     wr_log_end_offset(part(topics[i], parts[i])));
    }
    cr_assert_eq(next_pid, 5000, "finishing at the start allocates no producer id");
    uint8_t key[64];
    size_t kl = wr_group_offset_key(key, sizeof key, "g", "u", 0);
    wr_buf v = WR_BUF_INIT;
    cr_assert_eq(wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL), WR_OK);
    cr_assert_eq((int64_t)wr_be64_get(v.data), 9);
    wr_buf_free(&v);
    /* the client's retry learns the producer id chosen before the crash */
    cr_assert_eq(wr_txn_end(coord, "m", pid, last, true, true, &np, &ne), WR_KERR_NONE);
    cr_assert_eq(np, expect);
    cr_assert_eq(ne, 0);
    cr_assert_eq(wr_txn_verify_produce(coord, "m", pid, INT16_MAX, "t", 0),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING);
    /* the next transaction runs on it, across another restart */
    add("m", np, 0, "t", 0);
    produce("t", 0, np, 0, 0, "next");
    close_all();
    open_all();
    cr_assert_eq(wr_txn_end(coord, "m", pid, last, true, true, &rp, &re),
                 WR_KERR_INVALID_PRODUCER_ID_MAPPING, "T2 is open: no retry of T1 now");
    cr_assert_eq(wr_txn_end(coord, "m", np, 0, true, true, &rp, &re), WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(re, 1);
    char seen[64];
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "a,next");
    close_all();
    open_all();
    cr_assert_eq(wr_txn_end(coord, "m", np, 0, true, true, &rp, &re), WR_KERR_NONE,
                 "the retry is recognised after a restart (the row keeps prev_pid/epoch)");
    cr_assert_eq(re, 1);
}

/* Rows written before version 2 still load: a bumped one keeps its retry, and an id at the
   end of its epochs moves to a new producer id. */
static void
put_v1_row(const char *id, int64_t pid, int16_t epoch, uint8_t state, bool bumped)
{
    uint8_t row[37] = {1};
    wr_be64_put(row + 1, (uint64_t)pid);
    wr_be16_put(row + 9, (uint16_t)epoch);
    wr_be32_put(row + 11, 10000);
    row[15] = state;
    row[16] = bumped;
    wr_be64_put(row + 17, (uint64_t)wr_clock_wall_ms());
    /* no partitions, groups or offsets (three zero counts) */
    wr_err err = {0};
    cr_assert_eq(wr_log_meta_put(db, "txn", id, strlen(id), row, sizeof row, &err), WR_OK, "%s",
                 err.msg);
}

Test(txn, version_1_rows_load)
{
    put_v1_row("old-bumped", 7, 5, 4 /* CompleteCommit */, true);
    put_v1_row("old-last", 8, INT16_MAX - 1, 4, false);
    close_all();
    open_all();
    int64_t np, rp;
    int16_t ne, re;
    cr_assert_eq(wr_txn_end(coord, "old-bumped", 7, 4, true, true, &np, &ne), WR_KERR_NONE,
                 "the retry of the bumping EndTxn the row recorded");
    cr_assert_eq(np, 7);
    cr_assert_eq(ne, 5);
    cr_assert_eq(wr_txn_end(coord, "old-bumped", 7, 3, true, true, &np, &ne),
                 WR_KERR_PRODUCER_FENCED);
    add("old-last", 8, INT16_MAX - 1, "u", 0);
    produce("u", 0, 8, INT16_MAX - 1, 0, "v1");
    int64_t expect = next_pid;
    cr_assert_eq(wr_txn_end(coord, "old-last", 8, INT16_MAX - 1, true, true, &np, &ne),
                 WR_KERR_NONE);
    cr_assert_eq(np, expect);
    cr_assert_eq(ne, 0);
    cr_assert_eq(wr_txn_end(coord, "old-last", 8, INT16_MAX - 1, true, true, &rp, &re),
                 WR_KERR_NONE);
    cr_assert_eq(rp, np);
    cr_assert_eq(re, 0);
}

static void *
expire_later(void *arg)
{
    int *n = arg;
    *n = wr_txn_expire(coord, wr_clock_wall_ms() + 3600 * 1000);
    return NULL;
}

Test(txn, an_abort_waits_for_a_produce_verified_before_it)
{
    int64_t pid;
    int16_t ep;
    init("inflight", &pid, &ep);
    add("inflight", pid, ep, "t", 0);
    cr_assert_eq(wr_txn_produce_begin(coord, "inflight", pid, ep, "t", 0), WR_KERR_NONE);
    /* the timeout thread aborts the transaction while the verified Produce is on its way */
    int expired = -1;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, expire_later, &expired), 0);
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 0, types, epochs, 4), 0, "no marker before the append lands");
    cr_assert_eq(wr_txn_produce_begin(coord, "inflight", pid, ep, "t", 0),
                 WR_KERR_INVALID_TXN_STATE, "no new Produce while the transaction ends");
    int64_t at = produce("t", 0, pid, ep, 0, "late");
    wr_txn_produce_end(coord, "inflight");
    pthread_join(th, NULL);
    cr_assert_eq(expired, 1);
    cr_assert_eq(markers("t", 0, types, epochs, 4), 1);
    cr_assert_eq(types[0], 0, "an ABORT");
    cr_assert_eq(wr_log_end_offset(part("t", 0)), at + 2, "the marker follows the batch");
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)),
                 "no hanging transaction");
}

/* A transactional batch that no transaction of the coordinator holds (a producer id it never
   gave out, as a bug or a lost coordinator row would leave one) holds the partition's last
   stable offset back for good: the next start finds it and aborts it, so read_committed readers
   get past it and never see its records. A transaction the coordinator does hold stays open. */
Test(txn, a_hanging_transaction_is_aborted_at_start)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("h", &pid, &ep);
    add("h", pid, ep, "t", 0);
    int64_t kept = produce("t", 0, pid, ep, 0, "open");
    int64_t hang = produce("t", 1, 999, 7, 0, "hanging"); /* no such transaction */
    produce("t", 1, -1, -1, -1, "plain");
    cr_assert_eq(wr_log_stable_offset(part("t", 1)), hang);
    close_all();
    open_all();
    cr_assert_eq(wr_log_stable_offset(part("t", 1)), wr_log_end_offset(part("t", 1)),
                 "the hanging transaction still holds the partition back");
    char seen[256];
    committed("t", 1, seen, sizeof seen);
    cr_assert_str_eq(seen, "plain");
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 1, types, epochs, 4), 1);
    cr_assert_eq(types[0], 0, "an ABORT marker");
    cr_assert_eq(epochs[0], 7, "with the epoch of the hanging batch");
    /* the coordinator's own open transaction is untouched and still commits */
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), kept);
    cr_assert_eq(wr_txn_end(coord, "h", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "open");
    close_all();
    open_all();
    cr_assert_eq(markers("t", 1, types, epochs, 4), 1, "aborted once, not at every start");
}

/* The log loses its tail after the transaction state was checkpointed (under
   log.flush.policy=none the page cache held it when the machine went down): the checkpoint
   describes a batch the log no longer holds, and is not trusted. Trusted, it would keep that
   batch's transaction open at an offset that later batches take, holding the partition's last
   stable offset there for good. */
Test(txn, a_checkpoint_past_the_log_end_is_not_trusted)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("l", &pid, &ep);
    add("l", pid, ep, "t", 0);
    produce("t", 0, pid, ep, 0, "committed");
    cr_assert_eq(wr_txn_end(coord, "l", pid, ep, true, false, &np, &ne), WR_KERR_NONE);
    char seg[128];
    snprintf(seg, sizeof seg, "%s/log/t-0/%020d.log", dir, 0);
    struct stat st;
    cr_assert_eq(stat(seg, &st), 0);
    add("l", pid, ep, "t", 0);
    int64_t lost = produce("t", 0, pid, ep, 1, "lost");
    wr_err err = {0};
    cr_assert_eq(wr_log_txn_checkpoint(part("t", 0), &err), WR_OK, "%s", err.msg);
    close_all();
    cr_assert_eq(truncate(seg, st.st_size), 0);
    open_all();
    cr_assert_eq(wr_log_end_offset(part("t", 0)), lost);
    produce("t", 0, -1, -1, -1, "after");
    produce("t", 0, -1, -1, -1, "more");
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)),
                 "a transaction of the lost tail holds the partition back");
    char seen[256];
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "committed,after,more");
}

/* A COMMIT marker lost from one partition after the coordinator recorded the commit (the
   page cache held it when the machine went down, under log.flush.policy=none): the partition
   holds that transaction open though the coordinator committed it. The next start writes the
   COMMIT it lacks, with the commit's epoch: the records the commit promised stay readable. */
Test(txn, a_lost_commit_marker_is_written_again_at_start)
{
    int64_t pid, np;
    int16_t ep, ne;
    init("c", &pid, &ep);
    add("c", pid, ep, "t", 0);
    char seg[128];
    snprintf(seg, sizeof seg, "%s/log/t-0/%020d.log", dir, 0);
    produce("t", 0, pid, ep, 0, "promised");
    struct stat st;
    cr_assert_eq(stat(seg, &st), 0);
    cr_assert_eq(wr_txn_end(coord, "c", pid, ep, true, true, &np, &ne), WR_KERR_NONE);
    close_all();
    cr_assert_eq(truncate(seg, st.st_size), 0, "the marker is lost");
    open_all();
    cr_assert_eq(wr_log_stable_offset(part("t", 0)), wr_log_end_offset(part("t", 0)));
    char seen[256];
    committed("t", 0, seen, sizeof seen);
    cr_assert_str_eq(seen, "promised");
    int types[4];
    int16_t epochs[4];
    cr_assert_eq(markers("t", 0, types, epochs, 4), 1);
    cr_assert_eq(types[0], 1, "a COMMIT marker");
    cr_assert_eq(epochs[0], ne, "with the epoch the commit's markers carried");
}
