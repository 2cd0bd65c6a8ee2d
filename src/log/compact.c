/*
 * compact.c - log compaction (cleanup.policy=compact): of each key, the latest record stays.
 *
 * One pass over a partition, in Kafka's way, touches only sealed segments (the active one is
 * still being written):
 *   1. Map: every key of the sealed segments, oldest segment first, to its latest offset. The
 *      map holds a 128-bit hash of the key (two independent hashes), at most COMPACT_MAP_KEYS
 *      keys; the pass covers the segments that fit whole, the rest wait for the next pass.
 *   2. Rewrite each mapped segment into "<segment>.cleaned", keeping the records that are their
 *      key's latest, records without a key, control batches, and tombstones until
 *      delete.retention.ms has passed since the segment was last written. A batch keeps its
 *      header (base offset, last offset delta, producer id, epoch and sequence, codec) and its
 *      records keep their offsets (rbatch.h's wr_rbatch_filter). A batch left empty is dropped,
 *      except a producer's batch (its sequence numbers matter to idempotence) and a segment's
 *      last batch (its offsets end the segment), which stay as bare headers. A segment that
 *      loses nothing is only read: its .cleaned file is made when its first record goes.
 *   3. Index the new files (validating every batch again), then, under the partition lock and
 *      only if no mapped segment went away meanwhile, rename each over its segment (atomic)
 *      and swap it in. Readers holding an old segment keep reading its unlinked file.
 * A crash leaves the old or the new file under the segment's name; a stray .cleaned file is
 * removed at open. Offsets never move, so consumers' positions and the state stores' changelog
 * offsets stay valid across compaction; reads skip the gaps (partition.c's wr_log_read).
 *
 * The pass runs on the maintenance thread with no lock held while it reads and writes; how
 * much it does is bounded by min.cleanable.dirty.ratio (the share of sealed bytes written since
 * the last pass) and the map's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/crc32c.h"
#include "src/base/hash.h"
#include "src/base/logging.h"
#include "src/base/murmur2.h"
#include "src/log/log_int.h"
#include "src/log/rbatch.h"

#define TAG              "log"
#define COMPACT_MAP_KEYS (4u << 20) /* keys one pass maps: 96 MiB of map at most */
#define WRITE_CHUNK      (1u << 20)

/* ---- the key map ----------------------------------------------------------------------- */

typedef struct cmap {
    uint64_t *h1, *h2; /* h1 == 0: an empty slot (a key's h1 is never 0) */
    int64_t *off;
    size_t cap, n;
} cmap;

static void
key_hash(const uint8_t *k, size_t n, uint64_t *h1, uint64_t *h2)
{
    *h1 = wr_fnv1a64(k, n) | 1;
    *h2 = (uint64_t)wr_crc32c(0, k, n) << 32 | (uint32_t)wr_murmur2(k, n);
}

/* The slot of the key with hashes h1, h2: its own, or the empty one it would take. */
static size_t
cmap_slot(const cmap *m, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)(h1 ^ (h2 >> 7)) & (m->cap - 1);
    while (m->h1[i] != 0 && (m->h1[i] != h1 || m->h2[i] != h2))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void
cmap_free(cmap *m)
{
    free(m->h1);
    free(m->h2);
    free(m->off);
}

/* ---- walking a segment's batches ------------------------------------------------------- */

typedef int (*batch_fn)(void *arg, const uint8_t *b, size_t n, bool last, wr_err *err);

/* Calls fn for each batch in the first size bytes of s (its fd open). */
static int
seg_batches(wr__segment *s, uint64_t size, batch_fn fn, void *arg, wr_err *err)
{
    wr_buf buf = WR_BUF_INIT;
    uint64_t pos = 0;
    int rc = WR_OK;
    while (rc == WR_OK && pos + WR_RBATCH_LOG_OVERHEAD <= size) {
        uint8_t lh[WR_RBATCH_LOG_OVERHEAD];
        if ((rc = wr__pread_full(s->fd, lh, sizeof lh, pos)) != WR_OK)
            break;
        size_t n = wr_rbatch_size(lh, sizeof lh);
        if (n < WR_RBATCH_HEADER_SIZE || n > size - pos) {
            rc = WR_ECORRUPT;
            break;
        }
        wr_buf_reset(&buf);
        uint8_t *b = wr_buf_extend(&buf, n);
        if (b == NULL) {
            rc = WR_ENOMEM;
            break;
        }
        if ((rc = wr__pread_full(s->fd, b, n, pos)) != WR_OK)
            break;
        pos += n;
        rc = fn(arg, b, n, pos + WR_RBATCH_LOG_OVERHEAD > size, err);
    }
    wr_buf_free(&buf);
    if (rc != WR_OK && err != NULL && err->code == WR_OK)
        wr_err_set(err, rc, "compacting %s: %s", s->path, wr_strerror(rc));
    return rc;
}

static bool
is_control(const uint8_t *b)
{
    return (wr_be16_get(b + 21) & WR_RBATCH_CONTROL) != 0;
}

typedef struct pass {
    cmap map;
    wr_buf scratch, out;
    bool drop_tombstones; /* of the segment being rewritten */
    int64_t removed;      /* records the segment loses */
    int old_fd;           /* the segment being rewritten */
    const char *tmp;      /* its .cleaned file's path */
    int fd;               /* that file, -1 until the first record goes */
    uint64_t written;     /* bytes of output so far (in the file, or equal to the segment's) */
} pass;

static int
map_batch(void *arg, const uint8_t *b, size_t n, bool last, wr_err *err)
{
    (void)last;
    pass *ps = arg;
    if (is_control(b))
        return WR_OK;
    wr_rbatch_iter it;
    int rc = wr_rbatch_iter_init(&it, b, n, &ps->scratch, WR__MAX_DECOMPRESSED, err);
    wr_record rec;
    while (rc == WR_OK && (rc = wr_rbatch_iter_next(&it, &rec, err)) == 1) {
        rc = WR_OK;
        if (rec.key_len < 0)
            continue;
        uint64_t h1, h2;
        key_hash(rec.key, (size_t)rec.key_len, &h1, &h2);
        size_t i = cmap_slot(&ps->map, h1, h2);
        if (ps->map.h1[i] == 0) {
            ps->map.h1[i] = h1;
            ps->map.h2[i] = h2;
            ps->map.n++;
        }
        ps->map.off[i] = rec.offset;
    }
    return rc < 0 ? rc : WR_OK;
}

static bool
keep_record(void *arg, const wr_record *rec)
{
    pass *ps = arg;
    if (rec->key_len < 0)
        return true; /* nothing to supersede it */
    uint64_t h1, h2;
    key_hash(rec->key, (size_t)rec->key_len, &h1, &h2);
    size_t i = cmap_slot(&ps->map, h1, h2);
    bool keep = ps->map.h1[i] == 0 || rec->offset >= ps->map.off[i];
    if (keep && rec->value_len < 0 && ps->drop_tombstones)
        keep = false;
    ps->removed += !keep;
    return keep;
}

/* Writes the pending output. Until a record goes the output is the segment's own bytes, so
   nothing is written: a clean segment costs a read, not a copy. The .cleaned file is made when
   the first record goes, starting with the segment's bytes before that point. */
static int
flush_out(pass *ps, wr_err *err)
{
    int rc = WR_OK;
    if (ps->fd < 0) {
        if (ps->removed == 0) {
            ps->written += ps->out.len;
            wr_buf_reset(&ps->out);
            return WR_OK;
        }
        ps->fd = open(ps->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (ps->fd < 0)
            return wr_err_set(err, wr_err_from_errno(errno), "create %s: %s", ps->tmp,
                              strerror(errno));
        uint8_t *buf = malloc(WRITE_CHUNK);
        if (buf == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory compacting");
        for (uint64_t at = 0; at < ps->written && rc == WR_OK;) {
            size_t n = ps->written - at < WRITE_CHUNK ? (size_t)(ps->written - at) : WRITE_CHUNK;
            rc = wr__pread_full(ps->old_fd, buf, n, at);
            if (rc == WR_OK)
                rc = wr__pwrite_full(ps->fd, buf, n, at);
            at += n;
        }
        free(buf);
    }
    if (rc == WR_OK)
        rc = wr__pwrite_full(ps->fd, ps->out.data, ps->out.len, ps->written);
    ps->written += ps->out.len;
    wr_buf_reset(&ps->out);
    if (rc != WR_OK)
        wr_err_set(err, rc, "writing %s: %s", ps->tmp, wr_strerror(rc));
    return rc;
}

static int
clean_batch(void *arg, const uint8_t *b, size_t n, bool last, wr_err *err)
{
    pass *ps = arg;
    size_t before = ps->out.len;
    int rc = WR_OK;
    if (is_control(b)) {
        wr_buf_append(&ps->out, b, n);
    } else {
        int32_t kept;
        rc = wr_rbatch_filter(b, n, keep_record, ps, &ps->out, &ps->scratch, WR__MAX_DECOMPRESSED,
                              &kept, err);
        int64_t producer = (int64_t)wr_be64_get(b + 43);
        if (rc == WR_OK && kept == 0 && producer < 0 && !last)
            ps->out.len = before; /* emptied, and nothing needs its header */
    }
    if (rc == WR_OK && !wr_buf_ok(&ps->out))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory compacting");
    if (rc == WR_OK && ps->out.len >= WRITE_CHUNK)
        rc = flush_out(ps, err);
    return rc;
}

/* ---- one pass -------------------------------------------------------------------------- */

static char *
tmp_path(const wr__segment *s)
{
    char *p;
    return asprintf(&p, "%s.cleaned", s->path) < 0 ? NULL : p;
}

/* Rewrites old into a new segment (returned in *out, its fd open on the .cleaned file, indexed)
   when anything goes; *out NULL when the segment is already clean. */
static int
clean_segment(wr_partition *p,
              const wr__tcfg *cfg,
              wr__segment *old,
              int64_t now,
              pass *ps,
              wr__segment **out,
              wr_err *err)
{
    *out = NULL;
    struct stat st;
    ps->drop_tombstones = fstat(old->fd, &st) == 0 &&
                          (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 <
                              now - cfg->delete_retention_ms;
    ps->removed = 0;
    ps->written = 0;
    ps->fd = -1;
    ps->old_fd = old->fd;
    wr_buf_reset(&ps->out);
    char *tmp = tmp_path(old);
    wr__segment *s = wr__seg_new(p->dir, old->base);
    if (tmp == NULL || s == NULL) {
        free(tmp);
        wr__seg_unref(s);
        return wr_err_set(err, WR_ENOMEM, "out of memory compacting");
    }
    ps->tmp = tmp;
    int rc = seg_batches(old, old->t.size, clean_batch, ps, err);
    if (rc == WR_OK)
        rc = flush_out(ps, err);
    s->fd = ps->fd; /* -1 when nothing went: no file was made */
    if (rc == WR_OK && ps->removed > 0 && (rc = wr__fsync_fd(s->fd)) != WR_OK)
        wr_err_set(err, rc, "fsync %s: %s", tmp, wr_strerror(rc));
    if (rc == WR_OK && ps->removed > 0) {
        /* index it, checking every batch the way recovery does */
        rc = wr__seg_recover(p, s, ps->written, cfg->index_interval, err);
        if (rc == WR_OK && (s->t.size != ps->written || s->t.next_offset != old->t.next_offset))
            rc = wr_err_set(err, WR_ECORRUPT, "compacting %s: the rewritten segment is wrong",
                            old->path);
    }
    if (rc != WR_OK || ps->removed == 0) {
        if (s->fd >= 0)
            unlink(tmp);
        wr__seg_unref(s);
        s = NULL;
    } else {
        s->created_ms = old->created_ms;
        s->last_append_ms = old->last_append_ms;
        s->persisted = 0;
    }
    free(tmp);
    *out = s;
    return rc;
}

int
wr__part_compact(wr_partition *p, const wr__tcfg *cfg, int64_t now, wr_err *err)
{
    /* the sealed segments, referenced, with their files open; and whether enough is dirty */
    pthread_mutex_lock(&p->mu);
    size_t n = p->deleted || p->nsegs < 2 ? 0 : p->nsegs - 1;
    wr__segment **olds = n ? calloc(n, sizeof *olds) : NULL;
    uint64_t total = 0, dirty = 0;
    int rc = WR_OK;
    for (size_t i = 0; i < n && olds != NULL && rc == WR_OK; i++) {
        olds[i] = p->segs[i];
        atomic_fetch_add(&olds[i]->refs, 1);
        rc = wr__seg_fd(olds[i], err);
        total += olds[i]->t.size;
        if (olds[i]->t.next_offset > p->clean_upto)
            dirty += olds[i]->t.size;
    }
    pthread_mutex_unlock(&p->mu);
    if (n > 0 && olds == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory compacting");
    size_t upto = 0; /* the segments this pass covers: [0, upto) */
    pass ps = {.scratch = WR_BUF_INIT, .out = WR_BUF_INIT};
    wr__segment **news = NULL;
    if (rc != WR_OK || n == 0 || total == 0 || (double)dirty < cfg->min_dirty_ratio * total)
        goto done;

    /* 1. map */
    uint64_t bound = 0;
    for (size_t i = 0; i < n; i++)
        bound += (uint64_t)(olds[i]->t.next_offset - olds[i]->base);
    if (bound > COMPACT_MAP_KEYS)
        bound = COMPACT_MAP_KEYS;
    ps.map.cap = 1024;
    while (ps.map.cap < 2 * bound)
        ps.map.cap *= 2;
    ps.map.h1 = calloc(ps.map.cap, sizeof *ps.map.h1);
    ps.map.h2 = calloc(ps.map.cap, sizeof *ps.map.h2);
    ps.map.off = calloc(ps.map.cap, sizeof *ps.map.off);
    if (ps.map.h1 == NULL || ps.map.h2 == NULL || ps.map.off == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory for the compaction map");
        goto done;
    }
    while (upto < n && rc == WR_OK) {
        uint64_t records = (uint64_t)(olds[upto]->t.next_offset - olds[upto]->base);
        if (ps.map.n + records > COMPACT_MAP_KEYS && upto > 0)
            break;
        rc = seg_batches(olds[upto], olds[upto]->t.size, map_batch, &ps, err);
        upto++;
    }
    /* 2. rewrite */
    news = rc == WR_OK ? calloc(upto, sizeof *news) : NULL;
    if (rc == WR_OK && news == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory compacting");
    int64_t removed = 0;
    for (size_t i = 0; i < upto && rc == WR_OK; i++) {
        rc = clean_segment(p, cfg, olds[i], now, &ps, &news[i], err);
        removed += ps.removed;
    }
    /* 3. swap, unless a segment went away meanwhile (retention, DeleteRecords, deletion) */
    size_t swapped = 0;
    pthread_mutex_lock(&p->mu);
    bool same = rc == WR_OK && !p->deleted && p->nsegs > upto;
    for (size_t i = 0; i < upto && same; i++)
        same = p->segs[i] == olds[i];
    for (size_t i = 0; i < upto && same; i++) {
        if (news[i] == NULL)
            continue;
        char *tmp = tmp_path(olds[i]);
        if (tmp == NULL || rename(tmp, olds[i]->path) != 0) {
            rc = wr_err_set(err, tmp ? wr_err_from_errno(errno) : WR_ENOMEM,
                            "compacting %s: rename: %s", olds[i]->path,
                            tmp ? strerror(errno) : "out of memory");
            free(tmp);
            break;
        }
        free(tmp);
        p->segs[i] = news[i];
        wr__seg_unref(olds[i]); /* the partition's reference */
        news[i] = NULL;
        swapped++;
    }
    if (same && rc == WR_OK)
        p->clean_upto = olds[upto - 1]->t.next_offset;
    pthread_mutex_unlock(&p->mu);
    if (swapped > 0) {
        wr__fsync_dir(p->dir);
        wr_log(WR_LOG_INFO, TAG, "%s-%d: compaction removed %" PRId64 " records from %zu segments",
               p->topic->name, p->id, removed, swapped);
        /* the new files' indexes, now rather than at the next maintenance */
        MDB_txn *txn;
        if (mdb_txn_begin(p->db->env, NULL, 0, &txn) == 0) {
            pthread_mutex_lock(&p->mu);
            for (size_t i = 0; i < upto && !p->deleted && i + 1 < p->nsegs; i++)
                if (p->segs[i]->persisted != p->segs[i]->t.size)
                    (void)wr__idx_store(p, txn, p->segs[i], &p->segs[i]->t, NULL);
            pthread_mutex_unlock(&p->mu);
            if (mdb_txn_commit(txn) != 0)
                wr_log(WR_LOG_WARN, TAG, "%s-%d: storing compacted indexes failed", p->topic->name,
                       p->id);
        }
    }
done:
    for (size_t i = 0; news != NULL && i < upto; i++)
        if (news[i] != NULL) { /* not swapped in: its file goes */
            char *tmp = tmp_path(olds[i]);
            if (tmp != NULL)
                unlink(tmp);
            free(tmp);
            wr__seg_unref(news[i]);
        }
    free(news);
    for (size_t i = 0; olds != NULL && i < n; i++)
        wr__seg_unref(olds[i]);
    free(olds);
    cmap_free(&ps.map);
    wr_buf_free(&ps.scratch);
    wr_buf_free(&ps.out);
    return rc;
}
