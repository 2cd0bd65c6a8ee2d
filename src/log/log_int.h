/*
 * log_int.h - structures shared by the log engine's files (log.c: the db, topics, configs and
 * meta tables; partition.c: segments, indexes, append, read, recovery, retention).
 *
 * Lock order: db->mu (rwlock over the topic table), then an LMDB write transaction, then p->mu
 * (one partition). Nothing that holds p->mu begins an LMDB write transaction or takes db->mu,
 * which is why appends copy their topic config before locking and roll leaves the sealed
 * segment's index for wr_log_maintain to store.
 */
#ifndef WR_SRC_LOG_LOG_INT_H
#define WR_SRC_LOG_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <lmdb.h>

#include "src/log/log.h"

/* One sparse index entry: the batch at file position pos starts at offset; max_ts_before is the
   largest batch timestamp in the segment before that batch (non-decreasing, so searchable). */
typedef struct wr__idx {
    int64_t offset;
    uint32_t pos;
    int64_t max_ts_before;
} wr__idx;

/* The tail state of a segment: everything an append changes, so that a failed write or fsync
   can be undone by restoring a snapshot and cutting the file back to `size`. */
typedef struct wr__tail {
    uint64_t size;            /* bytes of whole, validated batches */
    int64_t next_offset;      /* last offset + 1 (the segment's base when empty) */
    int64_t max_ts;           /* largest batch max timestamp, -1 when none */
    size_t nidx;              /* index entries in use */
    uint64_t bytes_since_idx; /* bytes from the last index entry's position to size */
} wr__tail;

typedef struct wr__segment {
    int64_t base; /* offset in the file name */
    char *path;   /* owned */
    int fd;       /* -1 until first needed */
    wr__tail t;
    wr__idx *idx; /* owned, t.nidx used */
    size_t idx_cap;
    uint64_t persisted; /* bytes the index stored in LMDB covers */
    int64_t created_ms; /* wall clock when it became active (roll by age) */
    int64_t last_append_ms;
    atomic_int refs; /* the partition's reference + readers' */
} wr__segment;

/* A partition's transactions (txn.c): the open ones and the aborted ones still readable. */
typedef struct wr__txn_open {
    int64_t pid, first;
} wr__txn_open;
typedef struct wr__txn_aborted {
    int64_t pid, first, last; /* last: the offset of the ABORT marker */
} wr__txn_aborted;
/* The most a batch's records may decompress to, in the log (an append's validation,
   compaction): more is taken for a decompression bomb. */
#define WR__MAX_DECOMPRESSED (64u << 20)

typedef struct wr__txn_state {
    bool tracked;       /* the partition has a checkpoint row (it has seen transactions) */
    int64_t scanned_to; /* the state covers the batches below this offset */
    wr__txn_open *open;
    size_t nopen, open_cap;
    wr__txn_aborted *ab; /* in marker order */
    size_t nab, ab_cap;
} wr__txn_state;

typedef struct wr__tcfg {
    int64_t segment_bytes, segment_ms, retention_ms, retention_bytes, max_message_bytes;
    int64_t index_interval;
    bool log_append_time;
    bool compact, delete;        /* cleanup.policy: compact and/or delete (retention) */
    int64_t delete_retention_ms; /* how long a compacted topic keeps tombstones */
    double min_dirty_ratio;      /* min.cleanable.dirty.ratio */
} wr__tcfg;

struct wr_partition {
    wr_logdb *db;
    struct wr__topic *topic;
    int32_t id;
    char *dir; /* owned */

    pthread_mutex_t mu;
    pthread_cond_t cond; /* appends made visible, syncs finished */
    wr__segment **segs;  /* owned refs, ascending base; the last is active */
    size_t nsegs, segs_cap;
    int64_t start_offset;
    int64_t visible_end; /* readers see offsets below it */
    wr__tail durable;    /* state of the active segment at the last good fsync */
    bool syncing;        /* a thread is in fsync for this partition */
    bool dirty;          /* bytes written since the last fsync */
    uint64_t fail_gen;   /* bumped when unsynced appends are rolled back */
    bool deleted;
    int64_t clean_upto;     /* compaction: offsets below it are clean (in memory; 0 at open) */
    wr__txn_state txn;      /* transactions as of everything written (txn.c) */
    wr__txn_state txn_ckpt; /* as of the last checkpoint row */
    bool txn_stale;         /* txn could not be kept up to date: LSO held at the log start */
};

typedef struct wr__topic {
    char *name;
    int32_t nparts;
    wr_partition **parts; /* owned */
    wr_props own;         /* the topic's own configs */
    wr__tcfg cfg;         /* effective, parsed */
} wr__topic;

typedef struct wr__table {
    char *name;
    MDB_dbi dbi;
} wr__table;

struct wr_logdb {
    char *dir, *logdir; /* owned */
    wr_log_opts opts;
    wr_props defaults; /* copy of opts.topic_defaults */

    MDB_env *env;
    MDB_dbi dbi_topics, dbi_parts, dbi_index, dbi_txns;
    pthread_mutex_t tables_mu;
    wr__table *tables;
    size_t ntables;

    pthread_rwlock_t mu;
    wr__topic **topics; /* sorted by name */
    size_t ntopics, topics_cap;
    wr__topic **graveyard; /* deleted topics, freed at close (handles may still be held) */
    size_t ngrave;

    pthread_mutex_t watch_mu;
    void (*watch_fn)(void *arg);
    void *watch_arg;

    pthread_t flusher;
    bool flusher_started, flusher_stop;
    pthread_mutex_t flusher_mu;
    pthread_cond_t flusher_cond;
};

/* partition.c */
int
wr__part_open(wr_logdb *db, wr__topic *t, int32_t id, bool fresh, wr_partition **out, wr_err *err);
void wr__part_close(wr_partition *p); /* flush, persist index, close fds, free */
void wr__part_mark_deleted(wr_partition *p);
int wr__part_flush(wr_partition *p, wr_err *err);
int
wr__part_maintain(wr_partition *p, const wr__tcfg *cfg, MDB_txn *txn, int64_t now_ms, wr_err *err);

/* partition.c, for compact.c: segments, file I/O and the index */
wr__segment *wr__seg_new(const char *dir, int64_t base);
void wr__seg_unref(wr__segment *s);
int wr__seg_fd(wr__segment *s, wr_err *err);
int wr__pread_full(int fd, void *buf, size_t n, uint64_t pos);
int wr__pwrite_full(int fd, const void *buf, size_t n, uint64_t pos);
int wr__fsync_fd(int fd);
void wr__fsync_dir(const char *dir);
int
wr__seg_recover(wr_partition *p, wr__segment *s, uint64_t file_size, int64_t interval, wr_err *err);
int wr__idx_store(wr_partition *p, MDB_txn *txn, wr__segment *s, const wr__tail *t, wr_err *err);

/* compact.c: one cleaning pass over p's sealed segments (cleanup.policy=compact); no locks held
   by the caller, no LMDB transaction open in this thread. */
int wr__part_compact(wr_partition *p, const wr__tcfg *cfg, int64_t now_ms, wr_err *err);

/* txn.c (p->mu held unless said otherwise) */
void wr__txn_observe(wr_partition *p, const uint8_t *batch, size_t len); /* a written batch */
void wr__txn_read_ckpt(wr_partition *p, MDB_txn *txn); /* at open, p not shared yet */
int wr__txn_recover(wr_partition *p, wr_err *err);     /* at open: checkpoint + replay */
void wr__txn_rollback(wr_partition *p);                /* after unsynced appends were cut */
/* With log.flush.policy=sync, makes everything written to p durable (p->mu held; dropped
   while an fsync runs); a failed fsync rolls the unsynced appends back. Other policies promise
   no durability: WR_OK at once. */
int wr__part_settle_locked(wr_partition *p);
int wr__txn_track(wr_partition *p, wr_err *err); /* p->mu not held: before a first
                                                    transactional append */
void wr__txn_state_free(wr__txn_state *s);

/* log.c */
int wr__lmdb_err(int mrc, wr_err *err, const char *what);
void wr__part_key(wr_buf *k, const char *topic, int32_t part);
void wr__notify(wr_logdb *db);
int wr__rmtree(const char *path);

#endif
