/*
 * kidem.c - idempotent producer state: producer ids and per-partition sequence checks.
 *
 * For every (topic, partition, producer id) the table keeps the producer epoch and the last five
 * batches appended (first and last sequence, base offset), as Kafka's ProducerStateManager does.
 * A batch is appended when its first sequence follows the last one stored; an exact retry of one
 * of the five (or of a run of them: a request of several batches) is answered with the original
 * base offset and not appended again; anything else is OUT_OF_ORDER_SEQUENCE_NUMBER; an older
 * epoch is INVALID_PRODUCER_EPOCH; a newer epoch must start at sequence 0. Producer ids come from
 * a persisted counter.
 *
 * Durability. The state lives in the log's "producers" meta table and is written after each
 * append, in one LMDB transaction with the partition's checkpoint: the offset just after the
 * batch. A batch is appended before its state is written, so a crash between the two (SIGKILL:
 * the log's bytes survive in the page cache; or a failed state write) leaves batches in the log
 * that the table does not know, and a producer that never got its ack would have its retry
 * appended a second time. Kafka rebuilds its producer state from the log (snapshot + replay of
 * the tail); here the table is the snapshot and the checkpoint says where the tail starts:
 *
 *   invariant: every batch appended through wr__kidem_append below a partition's checkpoint is
 *   in the table (batches that other writers append in process, the runtime's transactional
 *   producer, need no entry: they are never retried through here).
 *
 * The first time after start that a partition gets an idempotent batch, its batches in
 * [checkpoint, log end) are read (headers only are looked at) and every producer batch found
 * (not control, producer id >= 0) is added to its producer's entry as if its state had been
 * written; the entries and the new checkpoint (the log end) are written in one transaction, and
 * only then is the batch checked. A partition without a checkpoint (no idempotent batch recorded
 * yet, or a data directory from before checkpoints) is read from its log start, once.
 * When the log ends below the checkpoint (the log lost its unsynced tail in a power loss, or a
 * truncated tail was cut on open), the batches at or past the log end are dropped from the
 * partition's entries instead, so a retry of a lost batch is appended again rather than
 * answered with an offset that no longer exists.
 *
 * Cost. The hot path (a partition already caught up) is unchanged: one LMDB transaction per
 * append (the checkpoint is a second put in it). The catch-up runs once per partition per
 * process start, only for partitions that receive idempotent produces, and reads the bytes of
 * [checkpoint, end) through wr_log_read: after a crash that is the few batches of the window
 * plus whatever plain producers and the runtime appended since the partition's last idempotent
 * batch; after a clean restart usually nothing. With no checkpoint it is the whole retained
 * partition (sequential reads; seconds per GB from disk), the first time only: the checkpoint
 * it writes bounds the next one. Memory: one entry per (partition, producer id) found, as
 * appends make anyway. The scan runs without the table's mutex; idempotent produces to that
 * partition wait for it, other partitions do not.
 *
 * Threads: called from thread-pool workers; one mutex guards the table and the partitions'
 * catch-up states and is held across the check, the append and the state update of an
 * idempotent batch (plain batches skip it); a condition variable wakes the produces waiting
 * for a partition's catch-up.
 * Ownership: the table owns its entries and partition records.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

#define WR_KIDEM_BUCKETS      4096
#define WR_KIDEM_PART_BUCKETS 1024
#define WR_KIDEM_SCAN_BUCKETS 256
#define WR_KIDEM_KEEP         5
#define WR_KIDEM_PID_BLOCK    1000
#define WR_KIDEM_TABLE        "producers"
#define WR_KIDEM_VAL_MAX      (3 + WR_KIDEM_KEEP * 16)
#define WR_KIDEM_SCAN_READ    (1 << 20) /* bytes per wr_log_read of a catch-up */

/* Keys of the "producers" table:
 *   "!next_pid"                            -> be64 next unreserved producer id
 *   topic '\0' partition(be32)             -> be64 checkpoint (see the top comment)
 *   topic '\0' partition(be32) pid(be64)   -> epoch(be16) n(u8) n x {first, last: be32, base: be64}
 * Topic names never hold '\0' or '!', so the three cannot collide. */

typedef struct kidem_batch {
    int32_t first_seq, last_seq;
    int64_t base_offset;
} kidem_batch;

typedef struct kidem_state {
    int16_t epoch; /* -1: no producer known */
    int count;     /* batches kept, newest last */
    kidem_batch b[WR_KIDEM_KEEP];
} kidem_state;

typedef struct kidem_entry {
    struct kidem_entry *next;
    kidem_state s;
    size_t klen;
    uint8_t key[]; /* topic '\0' partition(be32) pid(be64) */
} kidem_entry;

/* A partition's catch-up with its log (see the top comment). */
enum { PART_BEHIND, PART_SCANNING, PART_READY };

typedef struct kidem_part {
    struct kidem_part *next;
    int state;
    size_t klen;
    uint8_t key[]; /* topic '\0' partition(be32) */
} kidem_part;

struct wr_kidem {
    pthread_mutex_t mu;
    pthread_cond_t scanned; /* a partition left PART_SCANNING */
    wr_logdb *db;
    int64_t next_pid, pid_limit; /* ids below pid_limit are reserved in the meta store */
    kidem_entry *buckets[WR_KIDEM_BUCKETS];
    kidem_part *parts[WR_KIDEM_PART_BUCKETS];
};

int
wr__kidem_create(wr_logdb *db, wr_kidem **out)
{
    wr_kidem *t = calloc(1, sizeof *t);
    if (t == NULL)
        return WR_ENOMEM;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->scanned, NULL);
    t->db = db;
    wr_buf v = WR_BUF_INIT;
    if (wr_log_meta_get(db, WR_KIDEM_TABLE, "!next_pid", 9, &v, NULL) == WR_OK && v.len == 8)
        t->next_pid = (int64_t)wr_be64_get(v.data);
    else
        t->next_pid = 1000;
    t->pid_limit = t->next_pid;
    wr_buf_free(&v);
    *out = t;
    return WR_OK;
}

void
wr__kidem_destroy(wr_kidem *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < WR_KIDEM_BUCKETS; i++) {
        kidem_entry *e = t->buckets[i];
        while (e != NULL) {
            kidem_entry *n = e->next;
            free(e);
            e = n;
        }
    }
    for (size_t i = 0; i < WR_KIDEM_PART_BUCKETS; i++) {
        kidem_part *pt = t->parts[i];
        while (pt != NULL) {
            kidem_part *n = pt->next;
            free(pt);
            pt = n;
        }
    }
    pthread_cond_destroy(&t->scanned);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int
wr__kidem_new_pid(wr_kidem *t, int64_t *pid, wr_err *err)
{
    int rc = WR_OK;
    pthread_mutex_lock(&t->mu);
    if (t->next_pid >= t->pid_limit) {
        /* reserve a block, so a restart never hands out an id twice */
        uint8_t v[8];
        wr_be64_put(v, (uint64_t)(t->pid_limit + WR_KIDEM_PID_BLOCK));
        rc = wr_log_meta_put(t->db, WR_KIDEM_TABLE, "!next_pid", 9, v, 8, err);
        if (rc == WR_OK)
            t->pid_limit += WR_KIDEM_PID_BLOCK;
    }
    if (rc == WR_OK)
        *pid = t->next_pid++;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static uint32_t
hash_key(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static int32_t
seq_add(int32_t seq, int32_t n)
{
    int64_t s = (int64_t)seq + n;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

/* How many sequence numbers after first comes last (they wrap at INT32_MAX to 0). */
static int64_t
seq_dist(int32_t first, int32_t last)
{
    return last >= first ? (int64_t)last - first : (int64_t)INT32_MAX - first + last + 1;
}

/* ---- the state of one producer on one partition ------------------------------------------- */

/* Decodes a stored value into *s; false (s untouched) when it is malformed. */
static bool
state_decode(const uint8_t *v, size_t len, kidem_state *s)
{
    if (len < 3)
        return false;
    int n = v[2];
    if (n > WR_KIDEM_KEEP || len != 3 + (size_t)n * 16)
        return false;
    s->epoch = (int16_t)wr_be16_get(v);
    for (int i = 0; i < n; i++) {
        const uint8_t *p = v + 3 + i * 16;
        s->b[i].first_seq = (int32_t)wr_be32_get(p);
        s->b[i].last_seq = (int32_t)wr_be32_get(p + 4);
        s->b[i].base_offset = (int64_t)wr_be64_get(p + 8);
    }
    s->count = n;
    return true;
}

/* Encodes s into v[0..WR_KIDEM_VAL_MAX); returns the length. */
static size_t
state_encode(const kidem_state *s, uint8_t *v)
{
    wr_be16_put(v, (uint16_t)s->epoch);
    v[2] = (uint8_t)s->count;
    for (int i = 0; i < s->count; i++) {
        uint8_t *p = v + 3 + i * 16;
        wr_be32_put(p, (uint32_t)s->b[i].first_seq);
        wr_be32_put(p + 4, (uint32_t)s->b[i].last_seq);
        wr_be64_put(p + 8, (uint64_t)s->b[i].base_offset);
    }
    return 3 + (size_t)s->count * 16;
}

/* Keeps a batch as the newest, forgetting the oldest of a full state. */
static void
state_push(kidem_state *s, int32_t first, int32_t last, int64_t base)
{
    if (s->count == WR_KIDEM_KEEP) {
        memmove(&s->b[0], &s->b[1], sizeof s->b[0] * (WR_KIDEM_KEEP - 1));
        s->count--;
    }
    s->b[s->count++] = (kidem_batch){first, last, base};
}

/* Adds a batch found in the log (in log order) as an append would have: a newer epoch starts
   over, an older one is ignored, a batch at or below the newest known offset is known already
   (a catch-up range may start inside a batch recorded before). */
static void
state_note(kidem_state *s, int16_t epoch, int32_t first, int32_t last, int64_t base)
{
    if (s->epoch >= 0 && epoch < s->epoch)
        return;
    if (s->epoch < 0 || epoch > s->epoch) {
        s->epoch = epoch;
        s->count = 0;
    } else if (s->count > 0 && s->b[s->count - 1].base_offset >= base) {
        return;
    }
    state_push(s, first, last, base);
}

/* Finds (loading from the meta store, or creating empty with epoch -1) the entry of key. */
static kidem_entry *
lookup(wr_kidem *t, const uint8_t *key, size_t klen)
{
    uint32_t h = hash_key(key, klen) % WR_KIDEM_BUCKETS;
    for (kidem_entry *e = t->buckets[h]; e != NULL; e = e->next)
        if (e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    kidem_entry *e = calloc(1, sizeof *e + klen);
    if (e == NULL)
        return NULL;
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->s.epoch = -1;
    wr_buf v = WR_BUF_INIT;
    if (wr_log_meta_get(t->db, WR_KIDEM_TABLE, key, klen, &v, NULL) == WR_OK)
        (void)state_decode(v.data, v.len, &e->s); /* a malformed value: as a new producer */
    wr_buf_free(&v);
    e->next = t->buckets[h];
    t->buckets[h] = e;
    return e;
}

/* Writes e and its partition's checkpoint (the first plen bytes of its key) in one
   transaction. */
static int
persist(wr_kidem *t, const kidem_entry *e, size_t plen, int64_t checkpoint, wr_err *err)
{
    uint8_t v[WR_KIDEM_VAL_MAX], c[8];
    size_t vlen = state_encode(&e->s, v);
    wr_be64_put(c, (uint64_t)checkpoint);
    wr_log_meta_op ops[2] = {
        {.table = WR_KIDEM_TABLE, .key = e->key, .klen = e->klen, .val = v, .vlen = vlen},
        {.table = WR_KIDEM_TABLE, .key = e->key, .klen = plen, .val = c, .vlen = 8},
    };
    return wr_log_meta_write(t->db, ops, 2, err);
}

/* ---- catching a partition's state up with its log ----------------------------------------- */

/* What a catch-up found for one producer id, before it is applied to the table. */
typedef struct scan_item {
    struct scan_item *next;
    int64_t pid;
    kidem_state s;  /* the batches found (merge), or the truncated state (truncate) */
    kidem_entry *e; /* the table's entry, once looked up */
    uint8_t v[WR_KIDEM_VAL_MAX];
} scan_item;

typedef struct kidem_scan {
    const uint8_t *prefix; /* topic '\0' partition(be32) */
    size_t plen;
    bool truncate; /* the log ends below the checkpoint: drop batches at or past end */
    int64_t end;   /* the new checkpoint */
    bool write;    /* the checkpoint changes (or is missing) */
    bool oom;
    size_t n;
    scan_item *buckets[WR_KIDEM_SCAN_BUCKETS];
} kidem_scan;

static scan_item *
scan_item_get(kidem_scan *sc, int64_t pid)
{
    uint32_t h = (uint32_t)((uint64_t)pid * 0x9E3779B97F4A7C15u >> 40) % WR_KIDEM_SCAN_BUCKETS;
    for (scan_item *it = sc->buckets[h]; it != NULL; it = it->next)
        if (it->pid == pid)
            return it;
    scan_item *it = calloc(1, sizeof *it);
    if (it == NULL) {
        sc->oom = true;
        return NULL;
    }
    it->pid = pid;
    it->s.epoch = -1;
    it->next = sc->buckets[h];
    sc->buckets[h] = it;
    sc->n++;
    return it;
}

static void
scan_free(kidem_scan *sc)
{
    for (size_t i = 0; i < WR_KIDEM_SCAN_BUCKETS; i++) {
        scan_item *it = sc->buckets[i];
        while (it != NULL) {
            scan_item *n = it->next;
            free(it);
            it = n;
        }
    }
}

/* wr_log_meta_scan callback of a truncation: the entries of the partition (keys prefix + pid)
   that hold batches at or past the log end, cut there. */
static int
scan_truncate_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    kidem_scan *sc = arg;
    kidem_state s = {.epoch = -1};
    if (klen != sc->plen + 8 || !state_decode(val, vlen, &s))
        return 0;
    int keep = 0;
    while (keep < s.count && s.b[keep].base_offset < sc->end)
        keep++;
    if (keep == s.count)
        return 0;
    scan_item *it = scan_item_get(sc, (int64_t)wr_be64_get((const uint8_t *)key + sc->plen));
    return it == NULL; /* filled in by scan_apply, from the table's entry */
}

/* Reads the partition's batches in [from, sc->end) and notes every producer batch. */
static int
scan_log(kidem_scan *sc, wr_partition *p, int64_t from, size_t *bytes, wr_err *err)
{
    wr_buf buf = WR_BUF_INIT;
    int rc = WR_OK;
    int64_t off = from;
    *bytes = 0;
    while (off < sc->end && rc == WR_OK) {
        wr_buf_reset(&buf);
        wr_log_read_result rr;
        rc = wr_log_read(p, off, WR_KIDEM_SCAN_READ, &buf, &rr, err);
        if (rc == WR_EOFFSET && off < rr.log_start_offset) {
            off = rr.log_start_offset; /* retention moved the start meanwhile */
            rc = WR_OK;
            continue;
        }
        if (rc != WR_OK)
            break;
        *bytes += buf.len;
        int64_t next = off;
        for (size_t pos = 0; pos < buf.len;) {
            wr_rbatch_hdr h;
            size_t size = wr_rbatch_size(buf.data + pos, buf.len - pos);
            if (size == 0 || size > buf.len - pos ||
                wr_rbatch_parse_hdr(buf.data + pos, buf.len - pos, &h, err) != WR_OK) {
                rc = wr_err_set(err, WR_ECORRUPT, "unreadable batch at offset %lld",
                                (long long)next);
                break;
            }
            pos += size;
            if (h.base_offset >= sc->end)
                break; /* appended after the catch-up began: not ours to record */
            next = h.base_offset + h.last_offset_delta + 1;
            if ((h.attributes & WR_RBATCH_CONTROL) || h.producer_id < 0 || h.base_sequence < 0)
                continue;
            scan_item *it = scan_item_get(sc, h.producer_id);
            if (it == NULL) {
                rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                break;
            }
            state_note(&it->s, h.producer_epoch, h.base_sequence,
                       seq_add(h.base_sequence, h.last_offset_delta), h.base_offset);
        }
        if (rc == WR_OK && next <= off)
            break; /* nothing below end was returned (the batches there were removed) */
        off = next;
    }
    wr_buf_free(&buf);
    return rc;
}

/* The part of a catch-up that reads: the checkpoint, then the log (or the table, to truncate).
   Runs without the table's mutex. */
static int
scan_collect(wr_kidem *t, wr_partition *p, kidem_scan *sc, wr_err *err)
{
    wr_buf v = WR_BUF_INIT;
    int64_t checkpoint = -1;
    int rc = wr_log_meta_get(t->db, WR_KIDEM_TABLE, sc->prefix, sc->plen, &v, NULL);
    if (rc == WR_OK && v.len == 8)
        checkpoint = (int64_t)wr_be64_get(v.data);
    wr_buf_free(&v);
    int64_t start = wr_log_start_offset(p);
    sc->end = wr_log_end_offset(p);
    sc->write = checkpoint != sc->end;
    const char *topic = (const char *)sc->prefix;
    int32_t part = (int32_t)wr_be32_get(sc->prefix + sc->plen - 4);
    if (checkpoint > sc->end) {
        sc->truncate = true;
        rc = wr_log_meta_scan(t->db, WR_KIDEM_TABLE, sc->prefix, sc->plen, scan_truncate_fn, sc,
                              err);
        if (rc == WR_OK && sc->oom)
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        if (rc == WR_OK)
            wr_log(WR_LOG_WARN, "kafka",
                   "%s-%d: the log ends at %lld, below the producer state's %lld (its unsynced "
                   "tail was lost, or the topic was recreated); the state of %zu producer(s) "
                   "cut back to it",
                   topic, part, (long long)sc->end, (long long)checkpoint, sc->n);
        return rc;
    }
    int64_t from = checkpoint > start ? checkpoint : start;
    size_t bytes = 0;
    rc = scan_log(sc, p, from, &bytes, err);
    if (rc == WR_OK && from < sc->end)
        wr_log(WR_LOG_INFO, "kafka",
               "%s-%d: producer state caught up with the log: offsets [%lld, %lld) read (%zu "
               "bytes, %s), batches of %zu producer(s) found",
               topic, part, (long long)from, (long long)sc->end, bytes,
               checkpoint < 0 ? "no checkpoint: from the log start" : "from the checkpoint", sc->n);
    return rc;
}

/* The part of a catch-up that writes (mutex held): merges what was found into the entries,
   writes them with the new checkpoint in one transaction, and only then changes the table. */
static int
scan_apply(wr_kidem *t, kidem_scan *sc, wr_err *err)
{
    if (sc->n == 0 && !sc->write)
        return WR_OK;
    uint8_t key[256 + 12], c[8];
    memcpy(key, sc->prefix, sc->plen);
    wr_log_meta_op *ops = calloc(sc->n + 1, sizeof *ops);
    if (ops == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < WR_KIDEM_SCAN_BUCKETS; i++) {
        for (scan_item *it = sc->buckets[i]; it != NULL; it = it->next) {
            wr_be64_put(key + sc->plen, (uint64_t)it->pid);
            it->e = lookup(t, key, sc->plen + 8);
            if (it->e == NULL) {
                free(ops);
                return wr_err_set(err, WR_ENOMEM, "out of memory");
            }
            kidem_state s = it->e->s;
            if (sc->truncate) {
                while (s.count > 0 && s.b[s.count - 1].base_offset >= sc->end)
                    s.count--;
                if (s.count == 0)
                    s.epoch = -1; /* nothing left: as a producer never seen */
            } else {
                for (int j = 0; j < it->s.count; j++)
                    state_note(&s, it->s.epoch, it->s.b[j].first_seq, it->s.b[j].last_seq,
                               it->s.b[j].base_offset);
            }
            it->s = s;
            ops[n] =
                (wr_log_meta_op){.table = WR_KIDEM_TABLE, .key = it->e->key, .klen = it->e->klen};
            if (s.epoch >= 0) {
                ops[n].val = it->v;
                ops[n].vlen = state_encode(&s, it->v);
            }
            n++;
        }
    }
    wr_be64_put(c, (uint64_t)sc->end);
    ops[n++] = (wr_log_meta_op){
        .table = WR_KIDEM_TABLE, .key = sc->prefix, .klen = sc->plen, .val = c, .vlen = 8};
    int rc = wr_log_meta_write(t->db, ops, n, err);
    free(ops);
    if (rc != WR_OK)
        return rc;
    for (size_t i = 0; i < WR_KIDEM_SCAN_BUCKETS; i++)
        for (scan_item *it = sc->buckets[i]; it != NULL; it = it->next)
            it->e->s = it->s;
    return WR_OK;
}

/* Returns (creating it behind) the catch-up record of the partition whose key is prefix. */
static kidem_part *
part_lookup(wr_kidem *t, const uint8_t *prefix, size_t plen)
{
    uint32_t h = hash_key(prefix, plen) % WR_KIDEM_PART_BUCKETS;
    for (kidem_part *pt = t->parts[h]; pt != NULL; pt = pt->next)
        if (pt->klen == plen && memcmp(pt->key, prefix, plen) == 0)
            return pt;
    kidem_part *pt = calloc(1, sizeof *pt + plen);
    if (pt == NULL)
        return NULL;
    memcpy(pt->key, prefix, plen);
    pt->klen = plen;
    pt->state = PART_BEHIND;
    pt->next = t->parts[h];
    t->parts[h] = pt;
    return pt;
}

/* Makes sure the partition's entries know every batch of its log (see the top comment). Called
   and returns with t->mu held; drops it while reading. Returns the partition's record in *out
   (also on failure, NULL when out of memory). */
static int
catch_up(
    wr_kidem *t, wr_partition *p, const uint8_t *prefix, size_t plen, kidem_part **out, wr_err *err)
{
    kidem_part *pt = *out = part_lookup(t, prefix, plen);
    if (pt == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    while (pt->state == PART_SCANNING)
        pthread_cond_wait(&t->scanned, &t->mu);
    if (pt->state == PART_READY)
        return WR_OK;
    pt->state = PART_SCANNING;
    pthread_mutex_unlock(&t->mu);
    kidem_scan *sc = calloc(1, sizeof *sc);
    int rc = WR_ENOMEM;
    if (sc != NULL) {
        sc->prefix = prefix;
        sc->plen = plen;
        rc = scan_collect(t, p, sc, err);
    } else {
        wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&t->mu);
    if (rc == WR_OK)
        rc = scan_apply(t, sc, err);
    if (rc != WR_OK && err != NULL) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        wr_err_set(err, rc, "producer state not caught up with the log: %.200s", why);
    }
    pt->state = rc == WR_OK ? PART_READY : PART_BEHIND;
    pthread_cond_broadcast(&t->scanned);
    if (sc != NULL)
        scan_free(sc);
    free(sc);
    return rc;
}

/* ---- append ----------------------------------------------------------------------------- */

int
wr__kidem_append(wr_kidem *t,
                 wr_partition *p,
                 const char *topic,
                 int32_t part,
                 const uint8_t *data,
                 size_t len,
                 wr_log_append_result *res,
                 wr_err *err)
{
    wr_rbatch_hdr h;
    int rc = wr_rbatch_parse_hdr(data, len, &h, err);
    if (rc != WR_OK)
        return wr__kerr_from_log(rc);
    if (h.producer_id < 0) {
        rc = wr_log_append(p, data, len, res, err);
        return wr__kerr_from_log(rc);
    }
    /* every batch of the request must belong to the producer; sequences must be contiguous */
    int32_t first = h.base_sequence, last = seq_add(h.base_sequence, h.last_offset_delta);
    for (size_t off = wr_rbatch_size(data, len); off < len;) {
        wr_rbatch_hdr n;
        rc = wr_rbatch_parse_hdr(data + off, len - off, &n, err);
        if (rc != WR_OK)
            return wr__kerr_from_log(rc);
        if (n.producer_id != h.producer_id || n.producer_epoch != h.producer_epoch ||
            n.base_sequence != seq_add(last, 1)) {
            wr_err_set(err, WR_EINVAL, "batches of one request disagree on producer/sequence");
            return WR_KERR_INVALID_RECORD;
        }
        last = seq_add(n.base_sequence, n.last_offset_delta);
        off += wr_rbatch_size(data + off, len - off);
    }

    size_t tl = strlen(topic);
    uint8_t key[256 + 12];
    if (tl > 255)
        return WR_KERR_INVALID_TOPIC_EXCEPTION;
    memcpy(key, topic, tl);
    key[tl] = 0;
    wr_be32_put(key + tl + 1, (uint32_t)part);
    wr_be64_put(key + tl + 5, (uint64_t)h.producer_id);
    size_t plen = tl + 5, klen = tl + 13;

    int kerr = WR_KERR_NONE;
    pthread_mutex_lock(&t->mu);
    kidem_part *pt;
    if (catch_up(t, p, key, plen, &pt, err) != WR_OK) {
        kerr = WR_KERR_KAFKA_STORAGE_ERROR; /* retriable: the next produce tries again */
        goto out;
    }
    kidem_entry *e = lookup(t, key, klen);
    if (e == NULL) {
        kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    kidem_state *s = &e->s;
    if (s->epoch >= 0 && h.producer_epoch < s->epoch) {
        wr_err_set(err, WR_EFENCED, "producer %lld epoch %d is older than %d",
                   (long long)h.producer_id, h.producer_epoch, s->epoch);
        kerr = WR_KERR_INVALID_PRODUCER_EPOCH;
        goto out;
    }
    if (s->epoch < 0 || h.producer_epoch > s->epoch) {
        /* a new producer or a new epoch starts at sequence 0 */
        if (first != 0 && s->epoch >= 0) {
            wr_err_set(err, WR_ESEQUENCE, "new epoch must start at sequence 0, not %d", first);
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
        if (first != 0) {
            wr_err_set(err, WR_ESEQUENCE, "unknown producer %lld at sequence %d",
                       (long long)h.producer_id, first);
            kerr = WR_KERR_UNKNOWN_PRODUCER_ID;
            goto out;
        }
        s->epoch = h.producer_epoch;
        s->count = 0;
    } else {
        /* a retry of batches already stored: one of them, or a run of them (a request of
           several batches is kept as one by an append, as several by a catch-up) */
        for (int i = 0; i < s->count; i++) {
            if (s->b[i].first_seq != first)
                continue;
            for (int j = i; j < s->count; j++) {
                if (s->b[j].last_seq != last)
                    continue;
                /* answered as the first time (rare: logged) */
                wr_log(WR_LOG_INFO, "kafka",
                       "%s-%d: duplicate batch of producer %lld (sequence %d..%d) answered "
                       "with its offset %lld",
                       topic, part, (long long)h.producer_id, first, last,
                       (long long)s->b[i].base_offset);
                res->base_offset = s->b[i].base_offset;
                res->last_offset =
                    s->b[j].base_offset + seq_dist(s->b[j].first_seq, s->b[j].last_seq);
                res->log_append_time = -1;
                res->log_start_offset = wr_log_start_offset(p);
                goto out;
            }
        }
        if (s->count > 0 && first != seq_add(s->b[s->count - 1].last_seq, 1)) {
            wr_err_set(err, WR_ESEQUENCE, "expected sequence %d, got %d",
                       seq_add(s->b[s->count - 1].last_seq, 1), first);
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
        if (s->count == 0 && first != 0) {
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
    }
    rc = wr_log_append(p, data, len, res, err);
    if (rc != WR_OK) {
        kerr = wr__kerr_from_log(rc);
        goto out;
    }
    state_push(s, first, last, res->base_offset);
    if (persist(t, e, plen, res->last_offset + 1, err) != WR_OK) {
        /* appended, but not recorded: the next idempotent produce to the partition catches
           its state up with the log again (from the checkpoint that this write failed to
           move), so no entry is left out behind a later checkpoint */
        pt->state = PART_BEHIND;
        kerr = WR_KERR_KAFKA_STORAGE_ERROR;
    }
out:
    pthread_mutex_unlock(&t->mu);
    return kerr;
}
