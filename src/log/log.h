/*
 * log.h - weir's embedded partitioned log: the public contract.
 *
 * One wr_logdb per data directory holds topics; each topic has N partitions; each partition is a
 * directory `<data>/log/<topic>-<partition>/` of segment files `<base-offset>.log` (20-digit,
 * zero-padded, as Kafka names them) holding Kafka record batches v2 byte for byte as a Kafka
 * broker stores them. Offsets are assigned on append by rewriting each batch's base offset;
 * nothing else in a batch changes (producer id/epoch/sequence, transactional and control bits,
 * CRC). Partition metadata, sparse offset and time indexes and topic configs live in one LMDB
 * environment per data directory (`<data>/meta.lmdb`), which also offers named key/value tables
 * to other subsystems (consumer-group offsets, producer state, transaction state).
 *
 * Durability: with WR_LOG_FLUSH_SYNC (the embedded default) wr_log_append returns only after the
 * appended bytes are fsynced; concurrent appends to a partition share one fsync (group commit).
 * On open, every partition's tail is checked: a torn or corrupt tail is truncated (and logged),
 * never served, and indexes that disagree with the segments are rebuilt from them.
 *
 * Errors: bad batches (wrong CRC, length, magic, impossible record count) are rejected with
 * WR_ECRC/WR_ECORRUPT/WR_EINVAL and nothing stored changes; a full disk gives WR_ENOSPC to the
 * writer and the partition stays readable (the partial write is cut off again).
 *
 * Thread safety: every function may be called from any thread. Partition handles are borrowed
 * from the db and stay valid until the topic is deleted or the db is closed.
 */
#ifndef WR_SRC_LOG_LOG_H
#define WR_SRC_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"
#include "src/base/props.h"

typedef struct wr_logdb wr_logdb;
typedef struct wr_partition wr_partition;

typedef enum wr_log_flush {
    WR_LOG_FLUSH_SYNC = 0,     /* fsync before acknowledging (group commit) */
    WR_LOG_FLUSH_INTERVAL = 1, /* fsync in the background every flush_interval_ms */
    WR_LOG_FLUSH_NONE = 2,     /* leave it to the OS (benchmarks, tests) */
} wr_log_flush;

typedef struct wr_log_opts {
    wr_log_flush flush;
    int64_t flush_interval_ms;      /* for WR_LOG_FLUSH_INTERVAL; default 1000 */
    size_t lmdb_map_size;           /* default 1 GiB */
    const wr_props *topic_defaults; /* broker-wide defaults for topic configs (may be NULL) */
} wr_log_opts;

/* Topic configs, with Kafka's names and defaults (the strings stored per topic). */
#define WR_LOG_CONFIG_LIST(X)                                 \
    X(SEGMENT_BYTES, "segment.bytes", "1073741824")           \
    X(SEGMENT_MS, "segment.ms", "604800000")                  \
    X(RETENTION_MS, "retention.ms", "604800000")              \
    X(RETENTION_BYTES, "retention.bytes", "-1")               \
    X(CLEANUP_POLICY, "cleanup.policy", "delete")             \
    X(MAX_MESSAGE_BYTES, "max.message.bytes", "1048588")      \
    X(TIMESTAMP_TYPE, "message.timestamp.type", "CreateTime") \
    X(INDEX_INTERVAL_BYTES, "index.interval.bytes", "4096")   \
    X(COMPRESSION_TYPE, "compression.type", "producer")       \
    X(DELETE_RETENTION_MS, "delete.retention.ms", "86400000") \
    X(MIN_CLEANABLE_DIRTY_RATIO, "min.cleanable.dirty.ratio", "0.5")

/* Opens (creating if needed) the log under dir. Returns an owned db in *out. */
int wr_log_open(const char *dir, const wr_log_opts *opts, wr_logdb **out, wr_err *err);

/* Flushes and closes everything. NULL-safe. */
void wr_log_close(wr_logdb *db);

/* ---- topics ---------------------------------------------------------------------------- */

/* Creates a topic; configs (may be NULL) are validated by name and value. WR_EEXIST if it
   exists. Names follow Kafka's rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
int wr_log_topic_create(
    wr_logdb *db, const char *name, int32_t partitions, const wr_props *configs, wr_err *err);

/* Deletes a topic and its files. WR_ENOENT if missing. */
int wr_log_topic_delete(wr_logdb *db, const char *name, wr_err *err);

/* Grows a topic to `partitions` partitions (never shrinks: WR_EINVAL). */
int wr_log_topic_add_partitions(wr_logdb *db, const char *name, int32_t partitions, wr_err *err);

/* Partition count of a topic, or WR_ENOENT (negative). */
int32_t wr_log_topic_partitions(wr_logdb *db, const char *name);

/* Fills names (owned strings in an owned array: free each and the array) with every topic,
   sorted. */
int wr_log_topic_list(wr_logdb *db, char ***names, size_t *count, wr_err *err);

/* The effective configs of a topic (defaults merged with its own), copied into out. The
   `is_default` flags tell which came from defaults (DescribeConfigs needs it): a key is default
   when it is absent from the topic's own set, which wr_log_topic_config_own returns. */
int wr_log_topic_config(wr_logdb *db, const char *name, wr_props *out, wr_err *err);
int wr_log_topic_config_own(wr_logdb *db, const char *name, wr_props *out, wr_err *err);

/* Sets (value != NULL) or removes (value == NULL: back to default) one topic config. */
int wr_log_topic_config_set(
    wr_logdb *db, const char *name, const char *key, const char *value, wr_err *err);

/* Validates a config name/value pair without applying it. */
int wr_log_config_validate(const char *key, const char *value, wr_err *err);

/* Borrowed partition handle, or WR_ENOENT. */
int wr_log_partition(wr_logdb *db, const char *topic, int32_t partition, wr_partition **out);

/* ---- append and read ------------------------------------------------------------------- */

typedef struct wr_log_append_result {
    int64_t base_offset;     /* offset given to the first record */
    int64_t last_offset;     /* offset of the last record */
    int64_t log_append_time; /* broker time if the topic uses LogAppendTime, else -1 */
    int64_t log_start_offset;
} wr_log_append_result;

/*
 * Appends one or more v2 record batches (data[0..len), as found in a Produce request). Each is
 * validated (length, magic 2, CRC-32C, record count against lastOffsetDelta and, for
 * uncompressed batches, the records themselves; max.message.bytes), then stored with its base
 * offset rewritten. All batches are appended or none. Borrows data.
 */
int wr_log_append(
    wr_partition *p, const uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err);

typedef struct wr_log_read_result {
    int64_t high_watermark; /* log-end offset: next offset to be assigned */
    int64_t log_start_offset;
    size_t bytes; /* bytes appended to the output buffer */
} wr_log_read_result;

/*
 * Reads whole batches starting with the batch that contains `offset`, appending their stored
 * bytes to out until adding the next batch would pass max_bytes (the first batch is returned even
 * when it alone is larger, as Kafka's KIP-74 requires). WR_EOFFSET when offset is below the log
 * start or above the log end (offset == log end returns zero bytes).
 */
int wr_log_read(wr_partition *p,
                int64_t offset,
                size_t max_bytes,
                wr_buf *out,
                wr_log_read_result *res,
                wr_err *err);

/* wr_log_read that stops before offset upto (the last stable offset, for read_committed). */
int wr_log_read_upto(wr_partition *p,
                     int64_t offset,
                     int64_t upto,
                     size_t max_bytes,
                     wr_buf *out,
                     wr_log_read_result *res,
                     wr_err *err);

/* The partition's topic name (valid while the topic exists) and number. */
const char *wr_partition_topic(const wr_partition *p);
int32_t wr_partition_id(const wr_partition *p);
int64_t wr_log_start_offset(wr_partition *p);
int64_t wr_log_end_offset(wr_partition *p);

/* Earliest offset whose batch max timestamp is >= ts (ListOffsets by time); sets *offset = -1
   and *timestamp = -1 when no such batch exists. */
int wr_log_offset_for_time(
    wr_partition *p, int64_t ts, int64_t *offset, int64_t *timestamp, wr_err *err);

/* Blocks until the partition's end offset exceeds `offset` or timeout_ms passes; returns the
   end offset. For long-poll fetches on a thread (an event loop should use wr_log_watch). */
int64_t wr_log_wait(wr_partition *p, int64_t offset, int64_t timeout_ms);

/* Calls fn(arg) from the appending thread after every successful append to any partition
   (the broker wakes its long-poll fetches with a uv_async_t from here). One watcher per db. */
void wr_log_watch(wr_logdb *db, void (*fn)(void *arg), void *arg);

/* Deletes records below offset (DeleteRecords): whole segments below it are removed and the
   log start offset moves up. */
int wr_log_delete_records(wr_partition *p, int64_t offset, wr_err *err);

/* ---- transactions -------------------------------------------------------------------- */

/* A partition keeps, from its own batches, the transactions open on it (a transactional data
   batch opens its producer's, a COMMIT or ABORT control batch closes it) and the aborted ones
   (src/log/txn.c). */

/* The last stable offset: the first offset of the earliest open transaction, else the high
   watermark. read_committed readers see only what lies below it. */
int64_t wr_log_stable_offset(wr_partition *p);

typedef struct wr_log_aborted_txn {
    int64_t producer_id, first_offset;
    int64_t last_offset; /* the offset of its ABORT marker */
} wr_log_aborted_txn;

/* The aborted transactions whose batches overlap [from, upto) (Fetch's AbortedTransactions),
   in marker order, into out[0..cap); returns how many there are (more than cap: call again). */
size_t wr_log_aborted_txns(
    wr_partition *p, int64_t from, int64_t upto, wr_log_aborted_txn *out, size_t cap);

typedef struct wr_log_open_txn {
    int64_t producer_id, first_offset; /* the offset of its first batch here */
} wr_log_open_txn;

/* The open transactions of p into out[0..cap); returns how many there are
   (more than cap: call again). The transaction coordinator checks them against its own
   transactions at start, to end any that no coordinator transaction holds. */
size_t wr_log_open_txns(wr_partition *p, wr_log_open_txn *out, size_t cap);

/* wr_log_read for a read_committed reader inside weir (the runtime's sources and changelog
   restores): only what lies below the last stable offset, with the COMMIT/ABORT markers and
   the batches of aborted transactions turned into empty batches over the same offsets (a
   reader moves past them as past a compacted batch). */
int wr_log_read_committed(wr_partition *p,
                          int64_t offset,
                          size_t max_bytes,
                          wr_buf *out,
                          wr_log_read_result *res,
                          wr_err *err);

/* Makes the partition's transaction state durable as of now (the coordinator calls it after
   writing markers), so that opening the log replays only what follows. */
int wr_log_txn_checkpoint(wr_partition *p, wr_err *err);

/* ---- maintenance ----------------------------------------------------------------------- */

/* Rolls segments by age and applies retention (time and size) to every partition. The server
   calls it periodically from a background thread. */
int wr_log_maintain(wr_logdb *db, wr_err *err);

/* fsyncs every partition with unsynced bytes. */
int wr_log_flush_all(wr_logdb *db, wr_err *err);

/* ---- metadata tables for other subsystems ---------------------------------------------- */

/* Named LMDB tables ("groups", "producers", "txn", ...): put/get/delete/scan keyed by bytes.
   Each call is its own durable transaction (fsynced). get returns an owned copy in out. */
int wr_log_meta_put(wr_logdb *db,
                    const char *table,
                    const void *key,
                    size_t klen,
                    const void *val,
                    size_t vlen,
                    wr_err *err);
/* One put (val != NULL) or delete (val == NULL; a missing key is fine) of wr_log_meta_write. */
typedef struct wr_log_meta_op {
    const char *table;
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
} wr_log_meta_op;
/* Applies ops[0..n) in one durable transaction: all of them or none. */
int wr_log_meta_write(wr_logdb *db, const wr_log_meta_op *ops, size_t n, wr_err *err);
int wr_log_meta_get(
    wr_logdb *db, const char *table, const void *key, size_t klen, wr_buf *out, wr_err *err);
int wr_log_meta_del(wr_logdb *db, const char *table, const void *key, size_t klen, wr_err *err);
/* Calls fn for each entry whose key starts with prefix, in key order; fn returns non-zero to
   stop. Borrowed pointers are valid only during the call. */
int
wr_log_meta_scan(wr_logdb *db,
                 const char *table,
                 const void *prefix,
                 size_t plen,
                 int (*fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen),
                 void *arg,
                 wr_err *err);

#endif
