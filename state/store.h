/*
 * store.h - operator state: key-value stores over RocksDB whose every write also goes to a
 * changelog partition of the log, committed with the changelog offset they reflect.
 *
 * One RocksDB instance per worker (wr_state, a directory under ksql.streams.state.dir) holds
 * every store of every task as a column family. One instance, rather than one per store, is
 * what bounds memory with RocksDB's C API: all memtables together stay under
 * db_write_buffer_size, and every store shares one LRU block cache that also holds the index
 * and filter blocks, so memory does not grow with the number of keys or stores. It also makes a
 * task's commit one atomic write across all of its stores.
 *
 * Writes happen in a transaction (wr_state_txn): reads and iterators given the transaction see
 * its pending writes; nothing is visible to other readers (pull queries) until
 * wr_state_txn_commit, which first appends each store's writes (the last value of each key,
 * null for a delete) to the store's changelog partition, then writes the data together with
 * each store's new changelog offset in one RocksDB write. Exactly-once tasks split the two:
 * wr_state_txn_log appends the changelog records inside their Kafka transaction, and the
 * RocksDB write follows only once that transaction has committed; a crash in between leaves
 * the store at its old offset, and its restore replays the committed records.
 *
 * Restarts: wr_state_close writes a checkpoint file naming every file of the instance with its
 * size and CRC-32C. wr_state_open verifies it, so a damaged file (a flipped bit in an SST, a
 * truncated WAL) is found before anything is read, and removes it, so a crash leaves none: an
 * instance opened without a checkpoint is verified by reading every block with checksums. A
 * damaged or unreadable instance is wiped; its stores then start at changelog offset 0 and
 * wr_store_restore rebuilds them, while an intact store replays only the changelog past its
 * committed offset. A store is never read before its restore finished (the runtime restores
 * before it runs or serves a task).
 */
#ifndef WR_STATE_STORE_H
#define WR_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"
#include "src/log/log.h"

typedef struct wr_state_opts {
    const char *dir;           /* the instance's directory (created) */
    size_t cache_bytes;        /* shared block cache, index and filter blocks included */
    size_t write_buffer_bytes; /* all memtables of all stores together */
    bool verify_on_open;       /* checksum every file of a cleanly closed instance */
} wr_state_opts;

/* How wr_state_open found the instance. */
typedef enum wr_state_found {
    WR_STATE_NEW,     /* nothing there */
    WR_STATE_CLEAN,   /* closed cleanly, checkpoint verified */
    WR_STATE_UNCLEAN, /* no checkpoint (a crash): recovered by RocksDB, every block verified */
    WR_STATE_WIPED,   /* damaged or unreadable: wiped, stores restore from their changelogs */
} wr_state_found;

typedef struct wr_state wr_state;
typedef struct wr_store wr_store;
typedef struct wr_state_txn wr_state_txn;

int wr_state_open(const wr_state_opts *opts, wr_state **out, wr_err *err);
/* How the instance was found, and why when it was wiped. */
wr_state_found wr_state_found_as(const wr_state *s, const char **why);
/* Flushes, closes RocksDB and writes the checkpoint file. NULL-safe. */
void wr_state_close(wr_state *s);

/*
 * Opens (creating) the store `name` (one per task and store: "<query>#<store>#<partition>").
 * changelog: the store's changelog partition, or NULL for a store without one (tests).
 * The store belongs to s; it lives until wr_store_drop or wr_state_close.
 */
int
wr_store_open(wr_state *s, const char *name, wr_partition *changelog, wr_store **out, wr_err *err);
/* Removes the store and its data (its query was dropped). */
int wr_store_drop(wr_state *s, wr_store *st, wr_err *err);
const char *wr_store_name(const wr_store *st);
/* The changelog offset the committed data reflects: the next changelog record to apply. */
int64_t wr_store_offset(const wr_store *st);

/*
 * Brings the store up to its changelog's end: applies every changelog record from the store's
 * offset (or from the log start when the changelog was trimmed past it). *replayed: how many
 * records were applied.
 */
int wr_store_restore(wr_state *s, wr_store *st, int64_t *replayed, wr_err *err);

/* ---- transactions ------------------------------------------------------------------------ */

wr_state_txn *wr_state_txn_begin(wr_state *s);
/* Whether the transaction holds writes. */
bool wr_state_txn_dirty(const wr_state_txn *t);
/* How a transaction's changelog batches reach the log: fn appends the finished batches
   data[0..len) to the changelog partition p (and may rewrite their headers). The runtime's
   exactly-once tasks append through their transactional producer, so that the changelog
   records commit or abort with the task's outputs. */
typedef struct wr_state_appender {
    int (*fn)(void *arg,
              wr_partition *p,
              uint8_t *data,
              size_t len,
              wr_log_append_result *res,
              wr_err *err);
    void *arg;
} wr_state_appender;

/* Appends the writes (the last value of each key, null for a delete) to the stores'
   changelogs, through ap (NULL: plain appends), one append per store. At most once per
   transaction, before wr_state_txn_commit; a write after it fails the commit. On failure the
   transaction can only be aborted. */
int wr_state_txn_log(wr_state_txn *t, const wr_state_appender *ap, int64_t timestamp, wr_err *err);
/* Logs the writes (plainly) unless wr_state_txn_log did, then writes them to RocksDB with each
   store's new changelog offset in one write. On failure nothing is written to RocksDB
   (changelog records already appended are replayed over the old data at the next restore,
   which makes them harmless). The transaction is freed either way. */
int wr_state_txn_commit(wr_state_txn *t, int64_t timestamp, wr_err *err);
/* Drops the pending writes and frees the transaction. NULL-safe. */
void wr_state_txn_abort(wr_state_txn *t);

/* ---- reads and writes ----------------------------------------------------------------------- */

/* The value of key k into val (replaced); *found false when absent. With t, its pending writes
   are seen; without, the committed data. */
int wr_store_get(wr_state *s,
                 wr_state_txn *t,
                 wr_store *st,
                 const void *k,
                 size_t klen,
                 wr_buf *val,
                 bool *found,
                 wr_err *err);
int
wr_store_put(wr_state_txn *t, wr_store *st, const void *k, size_t klen, const void *v, size_t vlen);
int wr_store_delete(wr_state_txn *t, wr_store *st, const void *k, size_t klen);

/* Keys in [lo, hi) in byte order (lo/hi NULL: unbounded), through t's pending writes when t is
   given; without t, over a consistent snapshot of the committed data. */
typedef struct wr_store_iter wr_store_iter;
wr_store_iter *wr_store_iter_open(wr_state *s,
                                  wr_state_txn *t,
                                  wr_store *st,
                                  const void *lo,
                                  size_t lolen,
                                  const void *hi,
                                  size_t hilen);
/* The next entry (borrowed until the next call), or false at the end or on an error. */
bool wr_store_iter_next(
    wr_store_iter *it, const uint8_t **k, size_t *klen, const uint8_t **v, size_t *vlen);
/* Frees the iterator; an error if the iteration stopped on one (a checksum mismatch). */
int wr_store_iter_close(wr_store_iter *it, wr_err *err);

/* Smallest key greater than every key that starts with p (for prefix ranges): p with its last
   byte below 0xff incremented and what follows cut. Returns the length (0: no bound). */
size_t wr_store_prefix_end(const uint8_t *p, size_t n, uint8_t *out);

#endif
