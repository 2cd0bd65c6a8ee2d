/*
 * test_kidem.c - the idempotent producer state (src/kafka/kidem.c) over the real log, across
 * restarts. A batch is appended before its state is written, so a broker killed between the
 * two restarts with batches in its log that its state does not know: the tests put a batch in
 * the log with wr_log_append (what the crash leaves), restart (close and reopen the log and the
 * state) and send the batch again, as the producer that never got its ack does. It must be
 * answered as a duplicate with its original offset and not appended again; the next sequence is
 * accepted; a newer epoch found in the log fences the older one; a request of several batches;
 * a partition without a checkpoint (data from before checkpoints) read from its log start, or
 * from a log start that DeleteRecords moved; a log whose tail was lost below the state (the
 * lost batch is appended again); produces racing the first catch-up after a restart.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static char dir[64];
static wr_logdb *db;
static wr_kidem *kid;

static void
open_all(void)
{
    wr_log_opts o = {.flush = WR_LOG_FLUSH_NONE};
    wr_err err = {0};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr__kidem_create(db, &kid), WR_OK);
}

static void
close_all(void)
{
    wr__kidem_destroy(kid);
    wr_log_close(db);
    kid = NULL;
    db = NULL;
}

/* The broker process dies (between an append and its state write) and starts again. */
static void
restart(void)
{
    close_all();
    open_all();
}

static void
setup(void)
{
    strcpy(dir, "/tmp/wr_test_kidem_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    wr_log_set_level(WR_LOG_ERROR);
    open_all();
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "t", 2, NULL, &err), WR_OK, "%s", err.msg);
}

static void
teardown(void)
{
    close_all();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(kafka_kidem, .init = setup, .fini = teardown);

static wr_partition *
part(int32_t p)
{
    wr_partition *out = NULL;
    cr_assert_eq(wr_log_partition(db, "t", p, &out), WR_OK);
    return out;
}

static int64_t
end(int32_t p)
{
    return wr_log_end_offset(part(p));
}

static int64_t
new_pid(void)
{
    int64_t pid;
    wr_err err = {0};
    cr_assert_eq(wr__kidem_new_pid(kid, &pid, &err), WR_OK, "%s", err.msg);
    return pid;
}

/* Adds to out a batch of n records of producer (pid, epoch) starting at sequence seq (a plain
   batch when pid < 0). */
static void
batch(wr_buf *out, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    if (pid >= 0) {
        b.producer_id = pid;
        b.producer_epoch = epoch;
        b.base_sequence = seq;
    }
    for (int i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "v%lld-%d", (long long)pid, seq + i);
        wr_rbatch_builder_add(&b, 1000, NULL, -1, v, len, NULL, 0);
    }
    wr_err err = {0};
    cr_assert_eq(wr_rbatch_builder_finish(&b, out, &err), WR_OK, "%s", err.msg);
    wr_rbatch_builder_free(&b);
}

/* Sends a request's batches through the state (as a Produce does); returns the Kafka error and
   the base offset in *base. */
static int
produce_buf(int32_t p, const wr_buf *data, int64_t *base)
{
    wr_log_append_result res = {0};
    wr_err err = {0};
    int kerr = wr__kidem_append(kid, part(p), "t", p, data->data, data->len, &res, &err);
    if (base != NULL)
        *base = kerr == WR_KERR_NONE ? res.base_offset : -1;
    return kerr;
}

static int
produce(int32_t p, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t *base)
{
    wr_buf data = WR_BUF_INIT;
    batch(&data, pid, epoch, seq, n);
    int kerr = produce_buf(p, &data, base);
    wr_buf_free(&data);
    return kerr;
}

/* Appends a batch to the log only: the append of a broker that dies before the state write. */
static int64_t
append_raw(int32_t p, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    wr_buf data = WR_BUF_INIT;
    batch(&data, pid, epoch, seq, n);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(part(p), data.data, data.len, &res, &err), WR_OK, "%s", err.msg);
    wr_buf_free(&data);
    return res.base_offset;
}

/* The partition's checkpoint in the state table, -1 when it has none. */
static int64_t
checkpoint(int32_t p)
{
    uint8_t key[6] = {'t', 0};
    wr_be32_put(key + 2, (uint32_t)p);
    wr_buf v = WR_BUF_INIT;
    int64_t c = -1;
    if (wr_log_meta_get(db, "producers", key, sizeof key, &v, NULL) == WR_OK && v.len == 8)
        c = (int64_t)wr_be64_get(v.data);
    wr_buf_free(&v);
    return c;
}

Test(kafka_kidem, a_batch_appended_without_its_state_is_a_duplicate_after_a_restart)
{
    int64_t pid = new_pid(), base;
    cr_assert_eq(produce(0, pid, 0, 0, 3, &base), WR_KERR_NONE);
    cr_assert_eq(base, 0);
    cr_assert_eq(checkpoint(0), 3, "every append moves the checkpoint with its state");
    cr_assert_eq(append_raw(0, pid, 0, 3, 2), 3); /* sequences 3..4 at offsets 3..4 */
    append_raw(0, -1, -1, -1, 4);                 /* plain records after it: 5..8 */
    restart();

    cr_assert_eq(produce(0, pid, 0, 3, 2, &base), WR_KERR_NONE);
    cr_assert_eq(base, 3, "answered with the offset the batch got before the crash");
    cr_assert_eq(end(0), 9, "not appended a second time");
    cr_assert_eq(checkpoint(0), 9);
    cr_assert_eq(produce(0, pid, 0, 5, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 9);
    cr_assert_eq(produce(0, pid, 0, 7, 1, NULL), WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* the older batches are still known, and the other partition has its own state */
    cr_assert_eq(produce(0, pid, 0, 0, 3, &base), WR_KERR_NONE);
    cr_assert_eq(base, 0);
    cr_assert_eq(produce(1, pid, 0, 0, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 0);
    cr_assert_eq(end(0), 10);

    /* a second restart: the state is all in the table now */
    restart();
    cr_assert_eq(produce(0, pid, 0, 5, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 9);
    cr_assert_eq(end(0), 10);
}

Test(kafka_kidem, a_new_producer_whose_first_batch_has_no_state)
{
    int64_t a = new_pid(), b = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 1, NULL), WR_KERR_NONE);
    cr_assert_eq(append_raw(0, b, 0, 0, 2), 1);
    restart();

    cr_assert_eq(produce(0, b, 0, 0, 2, &base), WR_KERR_NONE);
    cr_assert_eq(base, 1);
    cr_assert_eq(end(0), 3);
    cr_assert_eq(produce(0, b, 0, 2, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 3);
    cr_assert_eq(produce(0, a, 0, 1, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 4);
}

Test(kafka_kidem, a_partition_without_checkpoint_is_read_from_the_log_start)
{
    /* a data directory from before checkpoints: state entries, no checkpoint */
    int64_t a = new_pid(), b = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 2, NULL), WR_KERR_NONE);
    append_raw(0, -1, -1, -1, 3);
    cr_assert_eq(produce(0, a, 0, 2, 1, NULL), WR_KERR_NONE); /* offset 5 */
    uint8_t key[6] = {'t', 0, 0, 0, 0, 0};
    cr_assert_eq(wr_log_meta_del(db, "producers", key, sizeof key, NULL), WR_OK);
    cr_assert_eq(append_raw(0, a, 0, 3, 1), 6);
    cr_assert_eq(append_raw(0, b, 0, 0, 1), 7);
    restart();
    cr_assert_eq(checkpoint(0), -1);

    cr_assert_eq(produce(0, a, 0, 3, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 6);
    cr_assert_eq(produce(0, b, 0, 0, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 7);
    cr_assert_eq(produce(0, a, 0, 2, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 5);
    cr_assert_eq(end(0), 8);
    cr_assert_eq(checkpoint(0), 8);
    cr_assert_eq(produce(0, a, 0, 4, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 8);
}

Test(kafka_kidem, a_catch_up_starts_at_the_log_start_when_records_were_deleted)
{
    int64_t a = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 1, NULL), WR_KERR_NONE);
    append_raw(0, -1, -1, -1, 3); /* 1..3 */
    cr_assert_eq(append_raw(0, a, 0, 1, 2), 4);
    wr_err err = {0};
    cr_assert_eq(wr_log_delete_records(part(0), 2, &err), WR_OK, "%s", err.msg);
    restart();

    cr_assert_eq(produce(0, a, 0, 1, 2, &base), WR_KERR_NONE);
    cr_assert_eq(base, 4);
    cr_assert_eq(end(0), 6);
}

Test(kafka_kidem, a_newer_epoch_found_in_the_log_fences_the_older)
{
    int64_t a = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 1, NULL), WR_KERR_NONE);
    cr_assert_eq(produce(0, a, 0, 1, 1, NULL), WR_KERR_NONE);
    cr_assert_eq(append_raw(0, a, 1, 0, 1), 2); /* the producer's next epoch */
    restart();

    cr_assert_eq(produce(0, a, 0, 2, 1, NULL), WR_KERR_INVALID_PRODUCER_EPOCH);
    cr_assert_eq(produce(0, a, 1, 0, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 2);
    cr_assert_eq(produce(0, a, 1, 1, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 3);
}

Test(kafka_kidem, a_retried_request_of_several_batches_is_a_duplicate)
{
    int64_t a = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 1, NULL), WR_KERR_NONE);
    wr_buf req = WR_BUF_INIT;
    batch(&req, a, 0, 1, 2);
    batch(&req, a, 0, 3, 3);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(part(0), req.data, req.len, &res, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(res.base_offset, 1);
    restart();

    /* found in the log as two batches, retried as the one request */
    cr_assert_eq(produce_buf(0, &req, &base), WR_KERR_NONE);
    cr_assert_eq(base, 1);
    cr_assert_eq(end(0), 6);
    /* and a request of several batches appended through the state is one entry */
    wr_buf_reset(&req);
    batch(&req, a, 0, 6, 1);
    batch(&req, a, 0, 7, 1);
    cr_assert_eq(produce_buf(0, &req, &base), WR_KERR_NONE);
    cr_assert_eq(base, 6);
    cr_assert_eq(produce_buf(0, &req, &base), WR_KERR_NONE);
    cr_assert_eq(base, 6);
    cr_assert_eq(end(0), 8);
    wr_buf_free(&req);
}

Test(kafka_kidem, a_lost_log_tail_is_cut_from_the_state)
{
    int64_t a = new_pid(), base;
    cr_assert_eq(produce(0, a, 0, 0, 1, NULL), WR_KERR_NONE);
    cr_assert_eq(produce(0, a, 0, 1, 1, NULL), WR_KERR_NONE);
    int64_t b = new_pid();
    cr_assert_eq(produce(0, b, 0, 0, 1, NULL), WR_KERR_NONE);
    cr_assert_eq(checkpoint(0), 3);
    /* the machine loses the log's unsynced tail (offsets 1 and 2); the state was synced */
    wr_buf first = WR_BUF_INIT;
    wr_log_read_result rr;
    cr_assert_eq(wr_log_read(part(0), 0, 1, &first, &rr, NULL), WR_OK);
    size_t keep = wr_rbatch_size(first.data, first.len);
    wr_buf_free(&first);
    close_all();
    char path[128];
    snprintf(path, sizeof path, "%s/log/t-0/%020d.log", dir, 0);
    cr_assert_eq(truncate(path, (off_t)keep), 0, "%s", path);
    open_all();
    cr_assert_eq(end(0), 1);

    /* the lost batches are appended again, not answered with offsets that are gone */
    cr_assert_eq(produce(0, a, 0, 1, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 1);
    cr_assert_eq(end(0), 2);
    cr_assert_eq(produce(0, a, 0, 0, 1, &base), WR_KERR_NONE); /* kept: still in the log */
    cr_assert_eq(base, 0);
    cr_assert_eq(produce(0, b, 0, 0, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 2);
    cr_assert_eq(end(0), 3);
    restart();
    cr_assert_eq(produce(0, b, 0, 0, 1, &base), WR_KERR_NONE);
    cr_assert_eq(base, 2);
    cr_assert_eq(end(0), 3);
}

/* ---- produces racing the first catch-up of a partition -------------------------------- */

#define RACE_PRODUCERS 6
#define RACE_BATCHES   40

typedef struct race_arg {
    int64_t pid;
    int32_t part;
    int errors;
} race_arg;

static void *
race_run(void *arg)
{
    race_arg *r = arg;
    for (int32_t seq = 0; seq < RACE_BATCHES; seq++) {
        /* every batch twice: the retry must be a duplicate */
        int64_t b1, b2;
        if (produce(r->part, r->pid, 0, seq, 1, &b1) != WR_KERR_NONE ||
            produce(r->part, r->pid, 0, seq, 1, &b2) != WR_KERR_NONE || b1 != b2)
            r->errors++;
    }
    return NULL;
}

Test(kafka_kidem, produces_wait_for_the_first_catch_up_of_their_partition)
{
    /* a log tail the state does not know, on both partitions */
    int64_t old = new_pid();
    for (int32_t p = 0; p < 2; p++) {
        cr_assert_eq(produce(p, old, 0, 0, 1, NULL), WR_KERR_NONE);
        for (int i = 0; i < 200; i++)
            append_raw(p, -1, -1, -1, 5);
        append_raw(p, old, 0, 1, 1);
    }
    restart();
    race_arg args[RACE_PRODUCERS];
    pthread_t th[RACE_PRODUCERS];
    for (int i = 0; i < RACE_PRODUCERS; i++) {
        args[i] = (race_arg){.pid = new_pid(), .part = i % 2};
        cr_assert_eq(pthread_create(&th[i], NULL, race_run, &args[i]), 0);
    }
    for (int i = 0; i < RACE_PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].errors, 0);
    }
    for (int32_t p = 0; p < 2; p++) {
        int64_t before = end(p);
        cr_assert_eq(before, 1 + 1000 + 1 + RACE_PRODUCERS / 2 * RACE_BATCHES);
        cr_assert_eq(produce(p, old, 0, 1, 1, NULL), WR_KERR_NONE);
        cr_assert_eq(end(p), before);
    }
}
