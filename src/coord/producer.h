/*
 * producer.h - a transactional producer inside the process: how weir's runtime writes to the
 * log exactly once without going through the network (the embedded path).
 *
 * It does what a Kafka transactional producer does, by calling the transaction coordinator
 * (txn.h) instead of sending requests, with transaction version 2 (the epoch moves on at every
 * EndTxn, KIP-890):
 *   wr_txn_producer_open        InitProducerId: fences any older instance of the transactional
 *                               id and aborts the transaction it left open;
 *   wr_txn_producer_append      the first append to a partition in a transaction adds it
 *                               (AddPartitionsToTxn); the batches get the producer id, epoch, a
 *                               per-partition sequence and the transactional bit, and are
 *                               checked as a Produce is before they are appended;
 *   wr_txn_producer_offsets     AddOffsetsToTxn + TxnOffsetCommit: a consumer group's offsets
 *                               that commit with the transaction;
 *   wr_txn_producer_commit      EndTxn: returns once every marker is written;
 *   wr_txn_producer_abort       ... the same, aborting.
 *
 * A transaction begins with the first append or offsets after open, commit or abort.
 *
 * Errors: WR_EFENCED when the producer is no longer the transactional id's current one (another
 * instance opened it, or the coordinator aborted the transaction on its timeout); the
 * transaction is lost and the producer must be opened again (wr_txn_producer_reopen) before the
 * work is redone. Other failures (WR_EIO: a marker could not be written) leave the transaction
 * to wr_txn_producer_abort; if that fails too, reopen. A commit whose markers failed was decided
 * (its PrepareCommit is durable): the abort is refused, and a retried commit, a reopen or the
 * next start completes it as a commit, so after a reopen the caller goes on from what is
 * committed, not from where it rolled back to.
 *
 * Threads: one thread at a time per producer; producers of different transactional ids run in
 * parallel.
 */
#ifndef WR_SRC_COORD_PRODUCER_H
#define WR_SRC_COORD_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/err.h"
#include "src/coord/txn.h"
#include "src/log/log.h"

typedef struct wr_txn_producer wr_txn_producer;

/* InitProducerId for txn_id with the given transaction timeout. c and db are borrowed. */
int wr_txn_producer_open(wr_txn_coord *c,
                         wr_logdb *db,
                         const char *txn_id,
                         int32_t timeout_ms,
                         wr_txn_producer **out,
                         wr_err *err);
/* InitProducerId again (after WR_EFENCED or a failed abort): the open transaction, if any, is
   aborted by the coordinator and forgotten here. */
int wr_txn_producer_reopen(wr_txn_producer *p, wr_err *err);
/* Frees the producer. A transaction still open is left to the coordinator, which aborts it at
   its timeout or when the id is opened again. NULL-safe. */
void wr_txn_producer_close(wr_txn_producer *p);

/* Whether a transaction is open (something was appended or offsets added since it began). */
bool wr_txn_producer_in_txn(const wr_txn_producer *p);
const char *wr_txn_producer_id(const wr_txn_producer *p);

/* Adds partitions to the transaction ahead of their appends, in one request (appends add the
   partitions they need one at a time otherwise). Begins the transaction. */
int wr_txn_producer_add(wr_txn_producer *p, wr_txn_partition *parts, int n, wr_err *err);

/* Appends data[0..len), one or more finished batches (wr_rbatch_builder_finish), to (topic,
   part) in the open transaction. The batches' producer fields, attributes and CRC are rewritten
   in place. res: what the log says about the append. */
int wr_txn_producer_append(wr_txn_producer *p,
                           const char *topic,
                           int32_t part,
                           uint8_t *data,
                           size_t len,
                           wr_log_append_result *res,
                           wr_err *err);

/* The group's offsets, committed with the transaction. */
int wr_txn_producer_offsets(
    wr_txn_producer *p, const char *group, wr_txn_offset *offs, int n, wr_err *err);

/* EndTxn: commit or abort the open transaction (nothing open: nothing to do). */
int wr_txn_producer_commit(wr_txn_producer *p, wr_err *err);
int wr_txn_producer_abort(wr_txn_producer *p, wr_err *err);

#endif
