/*
 * partition.c - one partition of the log: segment files, sparse indexes, append with group
 * commit, reads, recovery on open, roll and retention.
 *
 * A partition is a directory of segments `<20-digit base offset>.log`; the last one is active
 * and takes appends. Each segment keeps an in-memory sparse index (one entry per
 * index.interval.bytes) that is persisted to LMDB (`log.index`) when the segment is sealed, by
 * wr_log_maintain, and at close, each time covering only bytes known to be on disk.
 *
 * Durability (WR_LOG_FLUSH_SYNC): an appender writes its batches under the partition mutex,
 * then waits until some thread's fdatasync covers them. The first waiter becomes the syncer:
 * it snapshots the tail, drops the mutex for the fsync, and on success publishes the snapshot as
 * durable and visible, waking everyone it covered; appends that arrived during the fsync ride the
 * next one (group commit). Readers only see offsets below `visible_end`, so nothing that a crash
 * could take back is ever served. If a write or fsync fails, the file is cut back to the last
 * durable size, the tail snapshot restored, and every appender not yet covered gets the error.
 *
 * Recovery: each segment's stored index is checked against the file (covered size, first and
 * last entries pointing at batches with the offsets they claim); the bytes after what it covers
 * are scanned batch by batch with full validation (length, magic, CRC, records, offsets
 * ascending). The first bad or torn batch and everything after it is cut off and logged.
 *
 * Readers take a reference on a segment under the mutex and pread without it; a segment
 * removed by retention is unlinked at once but its fd lives until the last reader lets go.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/clock.h"
#include "src/base/crc32c.h"
#include "src/base/fault.h"
#include "src/base/logging.h"
#include "src/log/log_int.h"
#include "src/log/rbatch.h"

#define TAG             "log"
#define SCAN_CHUNK      (1u << 20)
#define MAX_BATCH_BYTES ((size_t)INT32_MAX)

/* ---- segments -------------------------------------------------------------------------- */

wr__segment *
wr__seg_new(const char *dir, int64_t base)
{
    wr__segment *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (asprintf(&s->path, "%s/%020" PRId64 ".log", dir, base) < 0) {
        free(s);
        return NULL;
    }
    s->base = base;
    s->fd = -1;
    s->t.next_offset = base;
    s->t.max_ts = -1;
    s->created_ms = wr_clock_wall_ms();
    s->last_append_ms = s->created_ms;
    atomic_init(&s->refs, 1);
    return s;
}

void
wr__seg_unref(wr__segment *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->idx);
    free(s->path);
    free(s);
}

int
wr__seg_fd(wr__segment *s, wr_err *err)
{
    if (s->fd >= 0)
        return WR_OK;
    s->fd = open(s->path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0)
        return wr_err_set(err, wr_err_from_errno(errno), "open %s: %s", s->path, strerror(errno));
    return WR_OK;
}

static bool
seg_idx_push(wr__segment *s, int64_t offset, uint64_t pos, int64_t max_ts_before)
{
    if (s->t.nidx == s->idx_cap) {
        size_t cap = s->idx_cap ? s->idx_cap * 2 : 64;
        wr__idx *n = realloc(s->idx, cap * sizeof *n);
        if (!n)
            return false;
        s->idx = n;
        s->idx_cap = cap;
    }
    s->idx[s->t.nidx++] =
        (wr__idx){.offset = offset, .pos = (uint32_t)pos, .max_ts_before = max_ts_before};
    return true;
}

/* Accounts one batch (already in the file at t.size) in the tail state and the index. */
static bool
seg_add_batch(wr__segment *s, const wr_rbatch_hdr *h, size_t size, int64_t interval)
{
    if (s->t.nidx == 0 || s->t.bytes_since_idx >= (uint64_t)interval) {
        if (!seg_idx_push(s, h->base_offset, s->t.size, s->t.max_ts))
            return false;
        s->t.bytes_since_idx = 0;
    }
    s->t.bytes_since_idx += size;
    s->t.size += size;
    s->t.next_offset = h->base_offset + h->last_offset_delta + 1;
    if (h->max_timestamp > s->t.max_ts)
        s->t.max_ts = h->max_timestamp;
    return true;
}

/* Position of the last index entry at or below offset (0 when none). */
static uint64_t
seg_lookup(const wr__segment *s, int64_t offset)
{
    size_t lo = 0, hi = s->t.nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->idx[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : s->idx[lo - 1].pos;
}

/* Position from which the first batch with max timestamp >= ts can be found. */
static uint64_t
seg_lookup_time(const wr__segment *s, int64_t ts)
{
    size_t lo = 0, hi = s->t.nidx;
    while (lo < hi) { /* first entry whose max_ts_before >= ts */
        size_t mid = lo + (hi - lo) / 2;
        if (s->idx[mid].max_ts_before < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : s->idx[lo - 1].pos;
}

int
wr__pread_full(int fd, void *buf, size_t n, uint64_t pos)
{
    size_t done = 0;
    while (done < n) {
        if (wr_fault_sim(WR_FAULT_READ))
            return WR_EIO;
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(pos + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wr_err_from_errno(errno);
        }
        if (r == 0)
            return WR_ETRUNC;
        done += (size_t)r;
    }
    return WR_OK;
}

int
wr__pwrite_full(int fd, const void *buf, size_t n, uint64_t pos)
{
    size_t done = 0;
    while (done < n) {
        if (wr_fault_sim(WR_FAULT_ENOSPC))
            return WR_ENOSPC;
        if (wr_fault_sim(WR_FAULT_WRITE))
            return WR_EIO;
        ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(pos + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wr_err_from_errno(errno);
        }
        done += (size_t)r;
    }
    return WR_OK;
}

int
wr__fsync_fd(int fd)
{
    if (wr_fault_sim(WR_FAULT_FSYNC))
        return WR_EIO;
    return fdatasync(fd) == 0 ? WR_OK : wr_err_from_errno(errno);
}

void
wr__fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            wr_log(WR_LOG_WARN, TAG, "fsync of directory %s failed: %s", dir, strerror(errno));
        close(fd);
    }
}

/* ---- the persisted index (LMDB log.index) ---------------------------------------------- */

#define IDX_HDR 28 /* covered u64, next_offset i64, max_ts i64, count u32 */
#define IDX_ENT 20 /* offset i64, pos u32, max_ts_before i64 */

static void
idx_key(wr_buf *k, const wr_partition *p, int64_t base)
{
    wr__part_key(k, p->topic->name, p->id);
    wr_buf_put_be64(k, (uint64_t)base);
}

/* Serialises the part of s's index that covers tail state t. */
static void
idx_encode(const wr__segment *s, const wr__tail *t, wr_buf *v)
{
    wr_buf_put_be64(v, t->size);
    wr_buf_put_be64(v, (uint64_t)t->next_offset);
    wr_buf_put_be64(v, (uint64_t)t->max_ts);
    wr_buf_put_be32(v, (uint32_t)t->nidx);
    for (size_t i = 0; i < t->nidx; i++) {
        wr_buf_put_be64(v, (uint64_t)s->idx[i].offset);
        wr_buf_put_be32(v, s->idx[i].pos);
        wr_buf_put_be64(v, (uint64_t)s->idx[i].max_ts_before);
    }
}

int
wr__idx_store(wr_partition *p, MDB_txn *txn, wr__segment *s, const wr__tail *t, wr_err *err)
{
    wr_buf k = WR_BUF_INIT, v = WR_BUF_INIT;
    idx_key(&k, p, s->base);
    idx_encode(s, t, &v);
    int rc = WR_OK;
    if (!wr_buf_ok(&k) || !wr_buf_ok(&v))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory storing an index");
    else {
        MDB_val mk = {k.len, k.data}, mv = {v.len, v.data};
        rc = wr__lmdb_err(mdb_put(txn, p->db->dbi_index, &mk, &mv, 0), err, "index put");
    }
    if (rc == WR_OK)
        s->persisted = t->size;
    wr_buf_free(&k);
    wr_buf_free(&v);
    return rc;
}

static void
idx_forget(wr_partition *p, MDB_txn *txn, int64_t base)
{
    wr_buf k = WR_BUF_INIT;
    idx_key(&k, p, base);
    MDB_val mk = {k.len, k.data};
    mdb_del(txn, p->db->dbi_index, &mk, NULL);
    wr_buf_free(&k);
}

/* Checks the batch at pos starts at offset (a cheap test of a stored index entry). */
static bool
batch_at(wr__segment *s, uint64_t pos, int64_t offset)
{
    uint8_t h[WR_RBATCH_LOG_OVERHEAD];
    if (wr__pread_full(s->fd, h, sizeof h, pos) != WR_OK)
        return false;
    return (int64_t)wr_be64_get(h) == offset;
}

/* Adopts the stored index of s when it agrees with the file; else leaves s empty. */
static void
idx_load(wr_partition *p, MDB_txn *txn, wr__segment *s, uint64_t file_size)
{
    wr_buf k = WR_BUF_INIT;
    idx_key(&k, p, s->base);
    MDB_val mk = {k.len, k.data}, mv;
    int mrc = mdb_get(txn, p->db->dbi_index, &mk, &mv);
    wr_buf_free(&k);
    if (mrc != 0 || mv.mv_size < IDX_HDR)
        return;
    wr_rd rd = wr_rd_make(mv.mv_data, mv.mv_size);
    wr__tail t = {0};
    t.size = wr_rd_be64(&rd);
    t.next_offset = (int64_t)wr_rd_be64(&rd);
    t.max_ts = (int64_t)wr_rd_be64(&rd);
    uint32_t n = wr_rd_be32(&rd);
    const char *why = NULL;
    if ((uint64_t)n * IDX_ENT != wr_rd_left(&rd))
        why = "entry count";
    else if (t.size > file_size)
        why = "covers more than the file holds";
    else if ((n == 0) != (t.size == 0) || t.next_offset < s->base)
        why = "inconsistent header";
    if (!why && n > 0) {
        wr__idx *idx = malloc((size_t)n * sizeof *idx);
        if (!idx)
            return;
        for (uint32_t i = 0; i < n; i++) {
            idx[i].offset = (int64_t)wr_rd_be64(&rd);
            idx[i].pos = wr_rd_be32(&rd);
            idx[i].max_ts_before = (int64_t)wr_rd_be64(&rd);
            if (i > 0 && (idx[i].offset <= idx[i - 1].offset || idx[i].pos <= idx[i - 1].pos))
                why = "entries out of order";
        }
        if (!why && (idx[0].pos != 0 || idx[n - 1].pos >= t.size))
            why = "entry positions";
        if (!why &&
            (!batch_at(s, 0, idx[0].offset) || !batch_at(s, idx[n - 1].pos, idx[n - 1].offset)))
            why = "entries do not match the segment";
        if (why) {
            free(idx);
        } else {
            free(s->idx);
            s->idx = idx;
            s->idx_cap = n;
            t.nidx = n;
            t.bytes_since_idx = t.size - idx[n - 1].pos;
            s->t = t;
            s->persisted = t.size;
            return;
        }
    }
    if (why)
        wr_log(WR_LOG_WARN, TAG, "%s: stored index disagrees with the segment (%s); rebuilding",
               s->path, why);
}

/* ---- recovery -------------------------------------------------------------------------- */

/* Scans s from s->t.size to file_size, validating and indexing every batch; cuts the file at the
   first bad batch. expect_min is the least offset the next batch may start at. */
int
wr__seg_recover(wr_partition *p, wr__segment *s, uint64_t file_size, int64_t interval, wr_err *err)
{
    wr_buf buf = WR_BUF_INIT;
    uint64_t pos = s->t.size;
    const char *why = NULL;
    wr_err verr = {0};
    int rc = WR_OK;
    while (pos < file_size) {
        uint64_t left = file_size - pos;
        if (left < WR_RBATCH_LOG_OVERHEAD) {
            why = "torn batch header";
            break;
        }
        uint8_t lh[WR_RBATCH_LOG_OVERHEAD];
        if ((rc = wr__pread_full(s->fd, lh, sizeof lh, pos)) != WR_OK)
            goto fail;
        size_t size = wr_rbatch_size(lh, sizeof lh);
        if (size < WR_RBATCH_HEADER_SIZE || size > MAX_BATCH_BYTES) {
            why = "impossible batch length";
            break;
        }
        if (size > left) {
            why = "torn batch";
            break;
        }
        wr_buf_reset(&buf);
        uint8_t *b = wr_buf_extend(&buf, size);
        if (!b) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory recovering %s", s->path);
            goto fail;
        }
        if ((rc = wr__pread_full(s->fd, b, size, pos)) != WR_OK)
            goto fail;
        wr_rbatch_hdr h;
        if (wr_rbatch_validate(b, size, &h, &verr) != WR_OK) {
            why = verr.msg;
            break;
        }
        if (h.base_offset < s->t.next_offset) {
            why = "offsets go backwards";
            break;
        }
        if (!seg_add_batch(s, &h, size, interval)) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory recovering %s", s->path);
            goto fail;
        }
        pos += size;
    }
    if (pos < file_size) {
        wr_log(WR_LOG_WARN, TAG,
               "%s-%d: segment %s cut at byte %" PRIu64 " (%s); %" PRIu64
               " bytes after the last good batch dropped",
               p->topic->name, p->id, s->path, pos, why, file_size - pos);
        if (ftruncate(s->fd, (off_t)pos) != 0) {
            rc = wr_err_set(err, wr_err_from_errno(errno), "truncate %s: %s", s->path,
                            strerror(errno));
            goto fail;
        }
    }
fail:
    wr_buf_free(&buf);
    if (rc != WR_OK && err && err->code == WR_OK)
        wr_err_set(err, rc, "reading %s: %s", s->path, wr_strerror(rc));
    return rc;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Lists the segment bases in dir, ascending. */
static int
list_segments(const char *dir, int64_t **bases, size_t *n, wr_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return wr_err_set(err, wr_err_from_errno(errno), "open %s: %s", dir, strerror(errno));
    size_t cap = 0;
    *bases = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strlen(nm) == 32 && strcmp(nm + 20, ".log.cleaned") == 0) {
            /* a compaction's output that a crash left before it was renamed in */
            char *stray;
            if (asprintf(&stray, "%s/%s", dir, nm) >= 0) {
                unlink(stray);
                free(stray);
            }
            continue;
        }
        if (strlen(nm) != 24 || strcmp(nm + 20, ".log") != 0 || strspn(nm, "0123456789") != 20)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nb = realloc(*bases, cap * sizeof *nb);
            if (!nb) {
                closedir(d);
                return wr_err_set(err, WR_ENOMEM, "out of memory listing %s", dir);
            }
            *bases = nb;
        }
        (*bases)[(*n)++] = strtoll(nm, NULL, 10);
    }
    closedir(d);
    if (*n > 1)
        qsort(*bases, *n, sizeof **bases, cmp_i64);
    return WR_OK;
}

static bool
segs_push(wr_partition *p, wr__segment *s)
{
    if (p->nsegs == p->segs_cap) {
        size_t cap = p->segs_cap ? p->segs_cap * 2 : 8;
        wr__segment **n = realloc(p->segs, cap * sizeof *n);
        if (!n)
            return false;
        p->segs = n;
        p->segs_cap = cap;
    }
    p->segs[p->nsegs++] = s;
    return true;
}

/* Creates a new, empty active segment at base (caller holds p->mu or owns p). */
static int
seg_create(wr_partition *p, int64_t base, wr_err *err)
{
    wr__segment *s = wr__seg_new(p->dir, base);
    if (!s || !segs_push(p, s)) {
        wr__seg_unref(s);
        return wr_err_set(err, WR_ENOMEM, "out of memory creating a segment");
    }
    s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        int e = errno;
        p->nsegs--;
        wr__seg_unref(s);
        return wr_err_set(err, wr_err_from_errno(e), "create segment in %s: %s", p->dir,
                          strerror(e));
    }
    wr__fsync_dir(p->dir);
    p->durable = s->t;
    return WR_OK;
}

int
wr__part_open(wr_logdb *db, wr__topic *t, int32_t id, bool fresh, wr_partition **out, wr_err *err)
{
    wr_partition *p = calloc(1, sizeof *p);
    if (!p)
        return wr_err_set(err, WR_ENOMEM, "out of memory opening a partition");
    p->db = db;
    p->topic = t;
    p->id = id;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    int rc = WR_OK;
    int64_t *bases = NULL;
    size_t nb = 0;
    MDB_txn *txn = NULL;
    if (asprintf(&p->dir, "%s/%s-%d", db->logdir, t->name, id) < 0) {
        p->dir = NULL;
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    if (fresh && access(p->dir, F_OK) == 0) {
        wr_log(WR_LOG_WARN, TAG, "removing stale directory %s before creating the topic", p->dir);
        wr__rmtree(p->dir);
    }
    if (mkdir(p->dir, 0755) != 0 && errno != EEXIST) {
        rc = wr_err_set(err, wr_err_from_errno(errno), "mkdir %s: %s", p->dir, strerror(errno));
        goto fail;
    }
    int64_t interval = t->cfg.index_interval;
    if ((rc = list_segments(p->dir, &bases, &nb, err)) != WR_OK)
        goto fail;

    int mrc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (mrc != 0) {
        rc = wr__lmdb_err(mrc, err, "begin");
        goto fail;
    }
    /* the stored log start offset (DeleteRecords can move it inside a segment) */
    int64_t start = 0;
    {
        wr_buf k = WR_BUF_INIT;
        wr__part_key(&k, t->name, id);
        MDB_val mk = {k.len, k.data}, mv;
        if (mdb_get(txn, db->dbi_parts, &mk, &mv) == 0 && mv.mv_size >= 8)
            start = (int64_t)wr_be64_get(mv.mv_data);
        wr_buf_free(&k);
    }
    for (size_t i = 0; i < nb; i++) {
        wr__segment *s = wr__seg_new(p->dir, bases[i]);
        if (!s || !segs_push(p, s)) {
            wr__seg_unref(s);
            rc = wr_err_set(err, WR_ENOMEM, "out of memory opening %s", p->dir);
            goto fail;
        }
        if ((rc = wr__seg_fd(s, err)) != WR_OK)
            goto fail;
        struct stat st;
        if (fstat(s->fd, &st) != 0) {
            rc = wr_err_set(err, wr_err_from_errno(errno), "stat %s: %s", s->path, strerror(errno));
            goto fail;
        }
        s->created_ms = s->last_append_ms = (int64_t)st.st_mtim.tv_sec * 1000;
        idx_load(p, txn, s, (uint64_t)st.st_size);
        if (i > 0 && s->base < p->segs[i - 1]->t.next_offset)
            wr_log(WR_LOG_WARN, TAG, "%s: base offset %" PRId64 " overlaps the previous segment",
                   s->path, s->base);
        if ((uint64_t)st.st_size != s->t.size &&
            (rc = wr__seg_recover(p, s, (uint64_t)st.st_size, interval, err)) != WR_OK)
            goto fail;
    }
    /* an empty sealed segment carries nothing: drop it */
    for (size_t i = 0; i + 1 < p->nsegs;) {
        wr__segment *s = p->segs[i];
        if (s->t.size == 0) {
            unlink(s->path);
            idx_forget(p, txn, s->base);
            wr__seg_unref(s);
            memmove(&p->segs[i], &p->segs[i + 1], (p->nsegs - i - 1) * sizeof *p->segs);
            p->nsegs--;
        } else {
            i++;
        }
    }
    if (p->nsegs == 0 && (rc = seg_create(p, start, err)) != WR_OK)
        goto fail;
    wr__segment *act = p->segs[p->nsegs - 1];
    act->created_ms = wr_clock_wall_ms();
    if ((rc = wr__fsync_fd(act->fd)) != WR_OK) {
        wr_err_set(err, rc, "fsync %s: %s", act->path, wr_strerror(rc));
        goto fail;
    }
    /* remember what recovery learnt, so the next open need not scan again */
    for (size_t i = 0; i < p->nsegs; i++) {
        wr__segment *s = p->segs[i];
        if (s->persisted != s->t.size && (rc = wr__idx_store(p, txn, s, &s->t, err)) != WR_OK)
            goto fail;
    }
    wr__txn_read_ckpt(p, txn);
    mrc = mdb_txn_commit(txn);
    txn = NULL;
    if (mrc != 0) {
        rc = wr__lmdb_err(mrc, err, "commit");
        goto fail;
    }
    p->durable = act->t;
    p->visible_end = act->t.next_offset;
    p->start_offset = start > p->segs[0]->base ? start : p->segs[0]->base;
    if (p->start_offset > p->visible_end)
        p->start_offset = p->visible_end;
    {
        wr_err terr = {0};
        if (wr__txn_recover(p, &terr) != WR_OK) {
            wr_log(WR_LOG_ERROR, TAG, "%s; read_committed readers of it wait", terr.msg);
            p->txn_stale = true;
        }
    }
    free(bases);
    *out = p;
    return WR_OK;
fail:
    if (txn)
        mdb_txn_abort(txn);
    free(bases);
    for (size_t i = 0; i < p->nsegs; i++)
        wr__seg_unref(p->segs[i]);
    free(p->segs);
    free(p->dir);
    wr__txn_state_free(&p->txn);
    wr__txn_state_free(&p->txn_ckpt);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    free(p);
    return rc;
}

/* ---- group commit ---------------------------------------------------------------------- */

static wr__segment *
active(wr_partition *p)
{
    return p->segs[p->nsegs - 1];
}

/* Cuts the active segment back to the durable state (p->mu held, no sync in flight). */
static void
rollback_locked(wr_partition *p, int cause)
{
    wr__segment *s = active(p);
    if (s->t.size != p->durable.size) {
        wr_log(WR_LOG_ERROR, TAG, "%s-%d: %s; unsynced appends from offset %" PRId64 " rolled back",
               p->topic->name, p->id, wr_strerror(cause), p->durable.next_offset);
        if (ftruncate(s->fd, (off_t)p->durable.size) != 0)
            wr_log(WR_LOG_ERROR, TAG, "truncate %s: %s", s->path, strerror(errno));
    }
    s->t = p->durable;
    p->dirty = false;
    p->fail_gen++;
    wr__txn_rollback(p);
    pthread_cond_broadcast(&p->cond);
}

/* fsyncs the active segment so that everything written so far is durable. With p->mu held;
   drops it during the fsync. Returns the fsync's result. */
static int
sync_locked(wr_partition *p)
{
    while (p->syncing)
        pthread_cond_wait(&p->cond, &p->mu);
    if (!p->dirty)
        return WR_OK;
    wr__segment *s = active(p);
    wr__tail snap = s->t;
    int fd = s->fd;
    p->syncing = true;
    p->dirty = false;
    pthread_mutex_unlock(&p->mu);
    int rc = wr__fsync_fd(fd);
    pthread_mutex_lock(&p->mu);
    p->syncing = false;
    if (rc == WR_OK) {
        p->durable = snap;
        if (p->db->opts.flush == WR_LOG_FLUSH_SYNC && snap.next_offset > p->visible_end)
            p->visible_end = snap.next_offset;
    } else {
        p->dirty = true;
    }
    pthread_cond_broadcast(&p->cond);
    return rc;
}

int
wr__part_settle_locked(wr_partition *p)
{
    if (p->db->opts.flush != WR_LOG_FLUSH_SYNC)
        return WR_OK;
    while (p->syncing || p->dirty) {
        int rc = sync_locked(p);
        if (rc != WR_OK) {
            rollback_locked(p, rc);
            return rc;
        }
    }
    return WR_OK;
}

/* Seals the active segment and starts a new one at the end offset (p->mu held). */
static int
roll_locked(wr_partition *p, wr_err *err)
{
    int rc = sync_locked(p);
    wr__segment *s = active(p);
    if (rc != WR_OK) {
        if (p->db->opts.flush == WR_LOG_FLUSH_SYNC)
            rollback_locked(p, rc);
        return wr_err_set(err, rc, "fsync %s before roll: %s", s->path, wr_strerror(rc));
    }
    /* The sealed segment's index reaches LMDB with the next wr_log_maintain (never under
       p->mu: see the lock order in log_int.h); a crash before that only costs a rescan. */
    rc = seg_create(p, s->t.next_offset, err);
    if (rc == WR_OK)
        wr_log(WR_LOG_DEBUG, TAG, "%s-%d: rolled to segment %" PRId64, p->topic->name, p->id,
               s->t.next_offset);
    return rc;
}

/* ---- append ---------------------------------------------------------------------------- */

static void
tcfg_get(wr_partition *p, wr__tcfg *cfg)
{
    pthread_rwlock_rdlock(&p->db->mu);
    *cfg = p->topic->cfg;
    pthread_rwlock_unlock(&p->db->mu);
}

int
wr_log_append(
    wr_partition *p, const uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err)
{
    wr__tcfg cfg;
    tcfg_get(p, &cfg);
    if (len == 0)
        return wr_err_set(err, WR_EINVAL, "nothing to append");
    /* validate everything before touching the log: all batches or none, and every record of a
       compressed batch too (Kafka's LogValidator), so no consumer ever meets garbage here */
    bool transactional = false;
    wr_buf scratch = WR_BUF_INIT;
    int vrc = WR_OK;
    for (size_t off = 0; off < len && vrc == WR_OK;) {
        wr_rbatch_hdr h;
        size_t size = wr_rbatch_size(data + off, len - off);
        if ((vrc = wr_rbatch_validate_all(data + off, len - off, &h, &scratch, WR__MAX_DECOMPRESSED,
                                          err)) != WR_OK)
            break;
        if ((int64_t)h.records_count != (int64_t)h.last_offset_delta + 1)
            vrc = wr_err_set(err, WR_ECORRUPT,
                             "record batch count %d does not match last offset delta %d",
                             h.records_count, h.last_offset_delta);
        else if ((int64_t)size > cfg.max_message_bytes)
            vrc = wr_err_set(err, WR_ETOOBIG,
                             "record batch of %zu bytes exceeds max.message.bytes %" PRId64, size,
                             cfg.max_message_bytes);
        transactional |= (h.attributes & WR_RBATCH_TRANSACTIONAL) != 0;
        off += size;
    }
    wr_buf_free(&scratch);
    if (vrc != WR_OK)
        return vrc;
    if (transactional) {
        /* a first transaction here: checkpoint before it lands, so that a restart replays it */
        int rc = wr__txn_track(p, err);
        if (rc != WR_OK)
            return rc;
    }
    uint8_t *copy = malloc(len);
    if (!copy || wr_fault_sim(WR_FAULT_ALLOC)) {
        free(copy);
        return wr_err_set(err, WR_ENOMEM, "out of memory appending %zu bytes", len);
    }
    memcpy(copy, data, len);
    int64_t now = wr_clock_wall_ms();

    pthread_mutex_lock(&p->mu);
    int rc = WR_OK;
    if (p->deleted) {
        rc = wr_err_set(err, WR_ENOENT, "partition %s-%d was deleted", p->topic->name, p->id);
        goto out;
    }
    wr__segment *s = active(p);
    if (s->t.size > 0 &&
        (s->t.size + len > (uint64_t)cfg.segment_bytes || now - s->created_ms >= cfg.segment_ms)) {
        if ((rc = roll_locked(p, err)) != WR_OK)
            goto out;
        s = active(p);
    }
    if (s->t.size + len > UINT32_MAX) {
        rc = wr_err_set(err, WR_ETOOBIG, "append of %zu bytes does not fit a segment", len);
        goto out;
    }
    /* assign offsets: rewrite base offsets (and the leader epoch, not under the CRC) */
    int64_t next = s->t.next_offset;
    res->base_offset = next;
    for (size_t off = 0; off < len;) {
        size_t size = wr_rbatch_size(copy + off, len - off);
        wr_rbatch_set_base_offset(copy + off, next);
        wr_be32_put(copy + off + 12, 0);
        if (cfg.log_append_time)
            wr_rbatch_set_log_append_time(copy + off, size, now);
        next += (int32_t)wr_be32_get(copy + off + 23) + 1;
        off += size;
    }
    res->last_offset = next - 1;
    res->log_append_time = cfg.log_append_time ? now : -1;

    wr__tail before = s->t;
    rc = wr__pwrite_full(s->fd, copy, len, s->t.size);
    if (rc != WR_OK) {
        if (ftruncate(s->fd, (off_t)before.size) != 0)
            wr_log(WR_LOG_ERROR, TAG, "truncate %s: %s", s->path, strerror(errno));
        wr_err_set(err, rc, "append to %s-%d: %s", p->topic->name, p->id, wr_strerror(rc));
        goto out;
    }
    for (size_t off = 0; off < len;) {
        wr_rbatch_hdr h;
        wr_rbatch_parse_hdr(copy + off, len - off, &h, NULL);
        size_t size = wr_rbatch_size(copy + off, len - off);
        if (!seg_add_batch(s, &h, size, cfg.index_interval)) {
            /* cannot index it: take the write back */
            if (ftruncate(s->fd, (off_t)before.size) != 0)
                wr_log(WR_LOG_ERROR, TAG, "truncate %s: %s", s->path, strerror(errno));
            s->t = before;
            rc = wr_err_set(err, WR_ENOMEM, "out of memory indexing an append");
            goto out;
        }
        off += size;
    }
    for (size_t off = 0; off < len; off += wr_rbatch_size(copy + off, len - off))
        wr__txn_observe(p, copy + off, wr_rbatch_size(copy + off, len - off));
    s->last_append_ms = now;
    p->dirty = true;
    wr_fault_kill(WR_FAULT_KILL_APPEND);

    if (p->db->opts.flush != WR_LOG_FLUSH_SYNC) {
        p->visible_end = s->t.next_offset;
        pthread_cond_broadcast(&p->cond);
    } else {
        uint64_t gen = p->fail_gen;
        int64_t target = s->t.next_offset;
        while (p->visible_end < target && p->fail_gen == gen) {
            if (p->syncing) {
                pthread_cond_wait(&p->cond, &p->mu);
                continue;
            }
            int src = sync_locked(p);
            if (src != WR_OK) {
                rollback_locked(p, src);
                rc = wr_err_set(err, src, "fsync of %s-%d failed: %s", p->topic->name, p->id,
                                wr_strerror(src));
                goto out;
            }
        }
        if (p->visible_end < target) {
            rc = wr_err_set(err, WR_EIO, "append to %s-%d rolled back after a failed fsync",
                            p->topic->name, p->id);
            goto out;
        }
    }
    res->log_start_offset = p->start_offset;
out:
    pthread_mutex_unlock(&p->mu);
    free(copy);
    if (rc == WR_OK)
        wr__notify(p->db);
    return rc;
}

/* ---- read ------------------------------------------------------------------------------ */

/* Finds the segment holding offset and takes a reference (p->mu held). */
static wr__segment *
seg_for(wr_partition *p, int64_t offset, size_t *index)
{
    size_t lo = 0, hi = p->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    *index = lo == 0 ? 0 : lo - 1;
    return p->segs[*index];
}

/* Decodes the fields of a stored (already validated) batch header that lookups need. */
static void
peek_hdr(const uint8_t *hb, wr_rbatch_hdr *h)
{
    h->base_offset = (int64_t)wr_be64_get(hb);
    h->batch_length = (int32_t)wr_be32_get(hb + 8);
    h->magic = (int8_t)hb[16];
    h->last_offset_delta = (int32_t)wr_be32_get(hb + 23);
    h->max_timestamp = (int64_t)wr_be64_get(hb + 35);
}

/* Walks headers from pos to the first batch whose last offset >= offset, below limit.
   Returns its position in *found (limit when none), and its header in *h. */
static int
seek_batch(
    wr__segment *s, uint64_t pos, uint64_t limit, int64_t offset, uint64_t *found, wr_rbatch_hdr *h)
{
    uint8_t hb[WR_RBATCH_HEADER_SIZE];
    while (pos + WR_RBATCH_HEADER_SIZE <= limit) {
        int rc = wr__pread_full(s->fd, hb, sizeof hb, pos);
        if (rc != WR_OK)
            return rc;
        peek_hdr(hb, h);
        if (h->magic != 2 || h->batch_length < WR_RBATCH_HEADER_SIZE - WR_RBATCH_LOG_OVERHEAD)
            return WR_ECORRUPT;
        if (h->base_offset + h->last_offset_delta >= offset) {
            *found = pos;
            return WR_OK;
        }
        pos += WR_RBATCH_LOG_OVERHEAD + (uint64_t)h->batch_length;
    }
    *found = limit;
    return WR_OK;
}

int
wr_log_read(wr_partition *p,
            int64_t offset,
            size_t max_bytes,
            wr_buf *out,
            wr_log_read_result *res,
            wr_err *err)
{
    return wr_log_read_upto(p, offset, INT64_MAX, max_bytes, out, res, err);
}

int
wr_log_read_upto(wr_partition *p,
                 int64_t offset,
                 int64_t upto,
                 size_t max_bytes,
                 wr_buf *out,
                 wr_log_read_result *res,
                 wr_err *err)
{
    pthread_mutex_lock(&p->mu);
    res->bytes = 0;
    res->high_watermark = p->visible_end;
    res->log_start_offset = p->start_offset;
    if (p->deleted) {
        pthread_mutex_unlock(&p->mu);
        return wr_err_set(err, WR_ENOENT, "partition was deleted");
    }
    if (offset < p->start_offset || offset > p->visible_end) {
        int64_t lo = p->start_offset, hi = p->visible_end;
        pthread_mutex_unlock(&p->mu);
        return wr_err_set(err, WR_EOFFSET,
                          "offset %" PRId64 " is outside the log [%" PRId64 ", %" PRId64 "]",
                          offset, lo, hi);
    }
    int64_t vis = p->visible_end < upto ? p->visible_end : upto;
    size_t si;
    seg_for(p, offset, &si);
    int rc = WR_OK;
    while (offset < vis && si < p->nsegs) {
        wr__segment *s = p->segs[si];
        if ((rc = wr__seg_fd(s, err)) != WR_OK)
            break;
        uint64_t pos = seg_lookup(s, offset), limit = s->t.size;
        atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&p->mu);

        uint64_t at;
        wr_rbatch_hdr h;
        rc = seek_batch(s, pos, limit, offset, &at, &h);
        if (rc == WR_OK && at < limit && h.base_offset < vis) {
            size_t start = out->len;
            uint64_t want = limit - at < max_bytes ? limit - at : max_bytes;
            size_t first = WR_RBATCH_LOG_OVERHEAD + (size_t)h.batch_length;
            if (want < first)
                want = first; /* KIP-74: the first batch whole, even when larger */
            uint8_t *dst = wr_buf_extend(out, (size_t)want);
            if (!dst)
                rc = WR_ENOMEM;
            else
                rc = wr__pread_full(s->fd, dst, (size_t)want, at);
            if (rc == WR_OK) {
                /* keep whole, visible batches only */
                size_t used = 0;
                while (want - used >= WR_RBATCH_LOG_OVERHEAD) {
                    size_t sz = wr_rbatch_size(dst + used, (size_t)(want - used));
                    if (sz < WR_RBATCH_HEADER_SIZE || sz > want - used ||
                        (int64_t)wr_be64_get(dst + used) >= vis)
                        break;
                    used += sz;
                }
                out->len = start + used;
                res->bytes = used;
            } else {
                out->len = start;
            }
        }
        wr__seg_unref(s);
        pthread_mutex_lock(&p->mu);
        if (rc != WR_OK || res->bytes > 0 || p->deleted)
            break;
        /* offset fell past this segment's batches (a gap): try the next one */
        size_t nsi;
        seg_for(p, offset, &nsi);
        si = nsi > si ? nsi : si + 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "read from %s-%d: %s", p->topic->name, p->id, wr_strerror(rc));
    return WR_OK;
}

const char *
wr_partition_topic(const wr_partition *p)
{
    return p->topic->name;
}

int32_t
wr_partition_id(const wr_partition *p)
{
    return p->id;
}

int64_t
wr_log_start_offset(wr_partition *p)
{
    pthread_mutex_lock(&p->mu);
    int64_t v = p->start_offset;
    pthread_mutex_unlock(&p->mu);
    return v;
}

int64_t
wr_log_end_offset(wr_partition *p)
{
    pthread_mutex_lock(&p->mu);
    int64_t v = p->visible_end;
    pthread_mutex_unlock(&p->mu);
    return v;
}

int
wr_log_offset_for_time(
    wr_partition *p, int64_t ts, int64_t *offset, int64_t *timestamp, wr_err *err)
{
    *offset = -1;
    *timestamp = -1;
    wr_buf batch = WR_BUF_INIT, scratch = WR_BUF_INIT;
    pthread_mutex_lock(&p->mu);
    int64_t vis = p->visible_end, start = p->start_offset;
    int rc = WR_OK;
    for (size_t si = 0; si < p->nsegs && *offset < 0 && rc == WR_OK; si++) {
        wr__segment *s = p->segs[si];
        if (s->t.max_ts < ts || s->t.next_offset <= start)
            continue;
        if ((rc = wr__seg_fd(s, err)) != WR_OK)
            break;
        uint64_t pos = seg_lookup_time(s, ts), limit = s->t.size;
        atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&p->mu);
        uint8_t hb[WR_RBATCH_HEADER_SIZE];
        while (pos + WR_RBATCH_HEADER_SIZE <= limit && rc == WR_OK) {
            wr_rbatch_hdr h;
            if ((rc = wr__pread_full(s->fd, hb, sizeof hb, pos)) != WR_OK)
                break;
            peek_hdr(hb, &h);
            if (h.magic != 2 || h.batch_length < WR_RBATCH_HEADER_SIZE - WR_RBATCH_LOG_OVERHEAD) {
                rc = WR_ECORRUPT;
                break;
            }
            size_t size = WR_RBATCH_LOG_OVERHEAD + (size_t)h.batch_length;
            if (h.base_offset >= vis)
                break;
            if (h.max_timestamp >= ts && h.base_offset + h.last_offset_delta >= start) {
                /* the first record at or after ts inside this batch */
                wr_buf_reset(&batch);
                uint8_t *b = wr_buf_extend(&batch, size);
                if (!b || (rc = wr__pread_full(s->fd, b, size, pos)) != WR_OK) {
                    rc = rc ? rc : WR_ENOMEM;
                    break;
                }
                wr_rbatch_iter it;
                wr_record rec;
                if (wr_rbatch_iter_init(&it, b, size, &scratch, 64u << 20, NULL) == WR_OK) {
                    while (wr_rbatch_iter_next(&it, &rec, NULL) == 1) {
                        if (rec.timestamp >= ts && rec.offset >= start) {
                            *offset = rec.offset;
                            *timestamp = rec.timestamp;
                            break;
                        }
                    }
                }
                if (*offset < 0) { /* unreadable records: answer with the batch */
                    *offset = h.base_offset < start ? start : h.base_offset;
                    *timestamp = h.max_timestamp;
                }
                break;
            }
            pos += size;
        }
        wr__seg_unref(s);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    wr_buf_free(&batch);
    wr_buf_free(&scratch);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "offset lookup by time in %s-%d: %s", p->topic->name, p->id,
                          wr_strerror(rc));
    return WR_OK;
}

int64_t
wr_log_wait(wr_partition *p, int64_t offset, int64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->mu);
    while (p->visible_end <= offset && !p->deleted) {
        if (pthread_cond_timedwait(&p->cond, &p->mu, &until) != 0)
            break;
    }
    int64_t v = p->visible_end;
    pthread_mutex_unlock(&p->mu);
    return v;
}

/* ---- deletion, flush, retention -------------------------------------------------------- */

/* Removes segment i from the partition and its file (p->mu held, no sync in flight). */
static void
seg_remove(wr_partition *p, size_t i, MDB_txn *txn)
{
    wr__segment *s = p->segs[i];
    if (unlink(s->path) != 0 && errno != ENOENT)
        wr_log(WR_LOG_WARN, TAG, "unlink %s: %s", s->path, strerror(errno));
    if (txn)
        idx_forget(p, txn, s->base);
    memmove(&p->segs[i], &p->segs[i + 1], (p->nsegs - i - 1) * sizeof *p->segs);
    p->nsegs--;
    wr__seg_unref(s);
}

static int
store_start(wr_partition *p, MDB_txn *txn, wr_err *err)
{
    wr_buf k = WR_BUF_INIT;
    uint8_t v[8];
    wr__part_key(&k, p->topic->name, p->id);
    wr_be64_put(v, (uint64_t)p->start_offset);
    MDB_val mk = {k.len, k.data}, mv = {8, v};
    int rc = wr__lmdb_err(mdb_put(txn, p->db->dbi_parts, &mk, &mv, 0), err, "start offset");
    wr_buf_free(&k);
    return rc;
}

int
wr_log_delete_records(wr_partition *p, int64_t offset, wr_err *err)
{
    MDB_txn *txn;
    int rc = wr__lmdb_err(mdb_txn_begin(p->db->env, NULL, 0, &txn), err, "begin");
    if (rc != WR_OK)
        return rc;
    pthread_mutex_lock(&p->mu);
    while (p->syncing)
        pthread_cond_wait(&p->cond, &p->mu);
    if (offset == -1)
        offset = p->visible_end;
    if (p->deleted)
        rc = wr_err_set(err, WR_ENOENT, "partition was deleted");
    else if (offset < 0 || offset > p->visible_end)
        rc = wr_err_set(err, WR_EOFFSET, "offset %" PRId64 " is past the log end %" PRId64, offset,
                        p->visible_end);
    else if (offset > p->start_offset) {
        p->start_offset = offset;
        while (p->nsegs > 1 && p->segs[0]->t.next_offset <= offset)
            seg_remove(p, 0, txn);
        rc = store_start(p, txn, err);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc == WR_OK)
        rc = wr__lmdb_err(mdb_txn_commit(txn), err, "commit");
    else
        mdb_txn_abort(txn);
    return rc;
}

int
wr__part_flush(wr_partition *p, wr_err *err)
{
    pthread_mutex_lock(&p->mu);
    int rc = p->deleted ? WR_OK : sync_locked(p);
    pthread_mutex_unlock(&p->mu);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "fsync of %s-%d failed: %s", p->topic->name, p->id,
                          wr_strerror(rc));
    return WR_OK;
}

int
wr__part_maintain(wr_partition *p, const wr__tcfg *c, MDB_txn *txn, int64_t now, wr_err *err)
{
    wr__tcfg cfg = *c;
    pthread_mutex_lock(&p->mu);
    int rc = WR_OK;
    if (p->deleted)
        goto out;
    while (p->syncing)
        pthread_cond_wait(&p->cond, &p->mu);
    wr__segment *s = active(p);
    bool expired_active =
        cfg.delete &&cfg.retention_ms >= 0 && s->t.size > 0 &&
        (s->t.max_ts >= 0 ? s->t.max_ts : s->last_append_ms) < now - cfg.retention_ms;
    if (s->t.size > 0 && (now - s->created_ms >= cfg.segment_ms || expired_active)) {
        if ((rc = roll_locked(p, err)) != WR_OK)
            goto out;
    }
    /* retention by time: segments whose newest record is older than retention.ms (not for a
       topic that is compacted only) */
    while (cfg.delete &&cfg.retention_ms >= 0 && p->nsegs > 1) {
        wr__segment *o = p->segs[0];
        int64_t newest = o->t.max_ts >= 0 ? o->t.max_ts : o->last_append_ms;
        if (newest >= now - cfg.retention_ms)
            break;
        wr_log(WR_LOG_INFO, TAG, "%s-%d: retention.ms deletes segment %" PRId64, p->topic->name,
               p->id, o->base);
        seg_remove(p, 0, txn);
    }
    /* retention by size: drop the oldest while the rest still exceeds retention.bytes */
    if (cfg.delete &&cfg.retention_bytes >= 0) {
        uint64_t total = 0;
        for (size_t i = 0; i < p->nsegs; i++)
            total += p->segs[i]->t.size;
        while (p->nsegs > 1 && total - p->segs[0]->t.size >= (uint64_t)cfg.retention_bytes) {
            total -= p->segs[0]->t.size;
            wr_log(WR_LOG_INFO, TAG, "%s-%d: retention.bytes deletes segment %" PRId64,
                   p->topic->name, p->id, p->segs[0]->base);
            seg_remove(p, 0, txn);
        }
    }
    if (p->segs[0]->base > p->start_offset)
        p->start_offset = p->segs[0]->base;
    /* store sealed segments' indexes, and the active one's up to the durable point */
    for (size_t i = 0; i + 1 < p->nsegs && rc == WR_OK; i++)
        if (p->segs[i]->persisted != p->segs[i]->t.size)
            rc = wr__idx_store(p, txn, p->segs[i], &p->segs[i]->t, err);
    s = active(p);
    if (rc == WR_OK && p->durable.size != s->persisted)
        rc = wr__idx_store(p, txn, s, &p->durable, err);
out:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void
wr__part_mark_deleted(wr_partition *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->syncing)
        pthread_cond_wait(&p->cond, &p->mu);
    p->deleted = true;
    for (size_t i = 0; i < p->nsegs; i++)
        wr__seg_unref(p->segs[i]);
    p->nsegs = 0;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

void
wr__part_close(wr_partition *p)
{
    if (!p)
        return;
    if (!p->deleted && p->nsegs > 0) {
        wr_err err = {0};
        if (wr__part_flush(p, &err) != WR_OK)
            wr_log(WR_LOG_ERROR, TAG, "closing %s-%d: %s", p->topic->name, p->id, err.msg);
        MDB_txn *txn;
        if (mdb_txn_begin(p->db->env, NULL, 0, &txn) == 0) {
            wr__segment *s = active(p);
            if (p->durable.size != s->persisted)
                wr__idx_store(p, txn, s, &p->durable, NULL);
            mdb_txn_commit(txn);
        }
    }
    for (size_t i = 0; i < p->nsegs; i++)
        wr__seg_unref(p->segs[i]);
    free(p->segs);
    free(p->dir);
    wr__txn_state_free(&p->txn);
    wr__txn_state_free(&p->txn_ckpt);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    free(p);
}
