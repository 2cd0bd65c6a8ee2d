/*
 * txn.h - the transaction coordinator: Kafka's transaction protocol (KIP-98, with KIP-360 epoch
 * recovery and KIP-890's server-side defences) over weir's log.
 *
 * A transactional id maps to a producer id and epoch. InitProducerId bumps the epoch, which
 * fences the id's previous producer (its requests get PRODUCER_FENCED), and aborts a
 * transaction it left open. A transaction collects partitions (AddPartitionsToTxn), consumer
 * groups (AddOffsetsToTxn) and the groups' pending offsets (TxnOffsetCommit); EndTxn commits or
 * aborts it: the coordinator records PrepareCommit/PrepareAbort durably, writes a COMMIT or
 * ABORT control batch (a marker) to every partition of the transaction, applies the pending
 * offsets on commit, and records CompleteCommit/CompleteAbort. A transaction open longer than
 * its timeout is aborted, its producer fenced.
 *
 * Durability: each transactional id's state, with its partitions, groups and pending offsets,
 * is one row of the log's "txn" meta table (LMDB), rewritten on every change, in the same LMDB
 * transaction as the offsets a commit applies. LMDB rather than an internal topic: the state is
 * small, keyed and rewritten in place, and LMDB already holds the producer and group state the
 * commit must change atomically with it. On start the coordinator loads every row and finishes
 * the transactions it finds in PrepareCommit/PrepareAbort by writing their markers again (a
 * partition that already has one gets a second, which readers skip), so a crash between markers
 * never leaves a transaction torn.
 *
 * Epoch per transaction (KIP-890 part 2, "transaction version 2"): when the client asks for it
 * (EndTxn v5+, and weir's own runtime), EndTxn bumps the epoch and writes the markers with the
 * new one; the client continues with it. A delayed Produce or EndTxn of the finished
 * transaction carries the old epoch and is refused, so it cannot land in the next transaction.
 * The EndTxn that would take the epoch to INT16_MAX uses up the producer id: its markers carry
 * (old pid, INT16_MAX) and the id moves to a new producer id with epoch 0 (weir's runtime
 * commits every 100 ms per task, so this comes within an hour). A retry of a bumping EndTxn,
 * with the (pid, epoch) it was sent with, succeeds and learns the new pid and epoch
 * (CONCURRENT_TRANSACTIONS while the markers are still being written).
 * Older clients (librdkafka up to 2.x: EndTxn v0-1) keep one epoch across transactions, as
 * Kafka 3.x does; for them a Produce is still verified against the open transaction's
 * partitions (KIP-890 part 1), which stops a late Produce from opening a hanging transaction.
 *
 * Threads: every function may be called from any thread; one mutex guards the table, and is
 * not held while markers are written (the transaction is in a Prepare state then, and requests
 * for it get CONCURRENT_TRANSACTIONS). A thread of the coordinator aborts timed-out
 * transactions. Results are Kafka error codes (src/kafka/kerr.h), 0 for success.
 */
#ifndef WR_SRC_COORD_TXN_H
#define WR_SRC_COORD_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"
#include "src/log/log.h"

typedef struct wr_txn_coord wr_txn_coord;

typedef struct wr_txn_coord_opts {
    int64_t max_timeout_ms;    /* transaction.max.timeout.ms; default 900000 */
    int64_t check_interval_ms; /* how often timeouts are looked for; default 1000 */
    /* a fresh producer id (the broker's allocator, shared with idempotent producers) */
    int (*new_pid)(void *arg, int64_t *pid, wr_err *err);
    void *new_pid_arg;
} wr_txn_coord_opts;

/* Loads the state from db's "txn" table, finishes interrupted commits and aborts, and starts
   the timeout thread. */
int wr_txn_coord_open(wr_logdb *db, const wr_txn_coord_opts *opts, wr_txn_coord **out, wr_err *err);
void wr_txn_coord_close(wr_txn_coord *c); /* NULL-safe */

/* InitProducerId with a transactional id. cur_pid/cur_epoch: the caller's current ones
   (KIP-360; -1 when it has none). Sets *pid and *epoch. */
int16_t wr_txn_init_producer(wr_txn_coord *c,
                             const char *txn_id,
                             int32_t timeout_ms,
                             int64_t cur_pid,
                             int16_t cur_epoch,
                             int64_t *pid,
                             int16_t *epoch);

typedef struct wr_txn_partition {
    const char *topic;
    int32_t partition;
    int16_t error; /* out */
} wr_txn_partition;

/* AddPartitionsToTxn: adds parts[0..n) (each gets its error; all fail together). Returns the
   request's error (also copied into each partition's). */
int16_t wr_txn_add_partitions(wr_txn_coord *c,
                              const char *txn_id,
                              int64_t pid,
                              int16_t epoch,
                              wr_txn_partition *parts,
                              int n);

/* AddOffsetsToTxn: the group's offsets commit or abort with the transaction. */
int16_t wr_txn_add_offsets(
    wr_txn_coord *c, const char *txn_id, int64_t pid, int16_t epoch, const char *group);

typedef struct wr_txn_offset {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const char *metadata; /* may be NULL */
    int16_t error;        /* out */
} wr_txn_offset;

/* TxnOffsetCommit: offsets of a group added to the transaction, pending until it commits. */
int16_t wr_txn_offset_commit(wr_txn_coord *c,
                             const char *txn_id,
                             int64_t pid,
                             int16_t epoch,
                             const char *group,
                             wr_txn_offset *offs,
                             int n);

/* EndTxn. bump: the client follows KIP-890 part 2 (the epoch moves on with every transaction);
   new_pid and new_epoch then tell it what to use next: the next epoch, or a new producer id with
   epoch 0 once the old one's epochs are used up (else they repeat pid and epoch). */
int16_t wr_txn_end(wr_txn_coord *c,
                   const char *txn_id,
                   int64_t pid,
                   int16_t epoch,
                   bool commit,
                   bool bump,
                   int64_t *new_pid,
                   int16_t *new_epoch);

/* A transactional Produce to (topic, partition): the producer must be the id's current one, with
   its transaction open and holding the partition. */
int16_t wr_txn_verify_produce(wr_txn_coord *c,
                              const char *txn_id,
                              int64_t pid,
                              int16_t epoch,
                              const char *topic,
                              int32_t partition);

/* wr_txn_verify_produce for a Produce about to be appended: on success the transaction cannot
   end (its EndTxn or abort waits) until wr_txn_produce_end, so the batch lands before the
   transaction's markers, never after them. */
int16_t wr_txn_produce_begin(wr_txn_coord *c,
                             const char *txn_id,
                             int64_t pid,
                             int16_t epoch,
                             const char *topic,
                             int32_t partition);
/* The append that wr_txn_produce_begin allowed is done (or failed). */
void wr_txn_produce_end(wr_txn_coord *c, const char *txn_id);

/* Whether a transaction holds a pending offset of the group for (topic, partition): OffsetFetch
   with RequireStable answers UNSTABLE_OFFSET_COMMIT then. */
bool wr_txn_offset_pending(wr_txn_coord *c, const char *group, const char *topic, int32_t part);

/* Aborts the transactions open longer than their timeout (the coordinator's thread calls it;
   tests call it with their own clock). Returns how many were aborted. */
int wr_txn_expire(wr_txn_coord *c, int64_t now_ms);

/* For tests: a hook called before each marker is written; returning false fails that marker
   as a crash or an I/O error would (the transaction stays in its Prepare state). */
void wr_txn_coord_set_marker_hook(wr_txn_coord *c,
                                  bool (*fn)(void *arg, const char *topic, int32_t part),
                                  void *arg);

/* For tests: puts the transactional id's producer at epoch (durably), as if it had run that many
   transactions, so that a test reaches the end of the epochs without running 32,000 of them.
   Not while the id is in a Prepare state. */
int16_t wr_txn_coord_set_epoch(wr_txn_coord *c, const char *txn_id, int16_t epoch);

/* The committed offset table the group coordinator reads (shared encoding): key
   group\0topic\0partition(be32), value offset(be64) leader epoch(be32) metadata. */
#define WR_GROUP_OFFSETS_TABLE "group_offsets"
/* Writes the key into k[0..cap) and returns its length (0 when it does not fit); topic NULL: the
   prefix of every key of the group. */
size_t
wr_group_offset_key(uint8_t *k, size_t cap, const char *group, const char *topic, int32_t part);
/* Appends the value of a committed offset (meta: mlen bytes of metadata, may be NULL) to b. */
void wr_group_offset_value(
    wr_buf *b, int64_t offset, int32_t leader_epoch, const char *meta, size_t mlen);

#endif
