/*
 * txn.c - a partition's transactions, as read_committed readers need them: the open
 * transactions (producer id -> offset of its first batch here), from which the last stable
 * offset follows, and the aborted ones (producer id, first offset, offset of the ABORT marker),
 * which a Fetch lists so that the client drops their batches.
 *
 * Everything is derived from the log itself, as a Kafka partition leader does: a transactional
 * data batch opens its producer's transaction (unless open), a control batch (a COMMIT or ABORT
 * marker) closes it. The coordinator writes the markers (src/coord/txn.c) and then checkpoints
 * the state with wr_log_txn_checkpoint: one LMDB row per partition (table log.txns) holding the
 * state as of an offset. Opening the partition loads that row and replays the batches after it,
 * so a crash between an append and a checkpoint loses nothing. Under log.flush.policy=sync a
 * checkpoint first makes every written batch durable, so that it never describes a batch a
 * failed fsync could still cut off; a checkpoint past the log's end (a tail lost with the page
 * cache under the other policies) is not trusted, and the partition is replayed whole. A partition that never saw a
 * transactional batch has no row and costs nothing: the first transactional append writes an
 * empty checkpoint before it lands.
 *
 * Locking: the state lives in the partition and is guarded by p->mu. The checkpoint's LMDB
 * write happens without p->mu (lock order in log_int.h); its snapshot is taken under it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/logging.h"
#include "src/log/log_int.h"
#include "src/log/rbatch.h"

#define TAG "log"

/* ---- the state ------------------------------------------------------------------------- */

static bool
grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 4;
    void *nv = realloc(*v, nc * size);
    if (nv == NULL)
        return false;
    *v = nv;
    *cap = nc;
    return true;
}

static bool
state_copy(wr__txn_state *dst, const wr__txn_state *src)
{
    wr__txn_state d = {.scanned_to = src->scanned_to, .tracked = src->tracked};
    if (src->nopen > 0) {
        d.open = malloc(src->nopen * sizeof *d.open);
        if (d.open == NULL)
            return false;
        memcpy(d.open, src->open, src->nopen * sizeof *d.open);
        d.nopen = d.open_cap = src->nopen;
    }
    if (src->nab > 0) {
        d.ab = malloc(src->nab * sizeof *d.ab);
        if (d.ab == NULL) {
            free(d.open);
            return false;
        }
        memcpy(d.ab, src->ab, src->nab * sizeof *d.ab);
        d.nab = d.ab_cap = src->nab;
    }
    *dst = d;
    return true;
}

void
wr__txn_state_free(wr__txn_state *s)
{
    free(s->open);
    free(s->ab);
    memset(s, 0, sizeof *s);
}

/* The marker type of a control batch: 0 ABORT, 1 COMMIT, -1 not a marker we know. */
static int
marker_type(const uint8_t *batch, size_t len)
{
    wr_rbatch_iter it;
    wr_buf scratch = WR_BUF_INIT;
    int type = -1;
    if (wr_rbatch_iter_init(&it, batch, len, &scratch, 4096, NULL) == WR_OK) {
        wr_record rec;
        if (wr_rbatch_iter_next(&it, &rec, NULL) == 1 && rec.key_len >= 4 && rec.key != NULL &&
            wr_be16_get(rec.key) == 0)
            type = (int)(int16_t)wr_be16_get(rec.key + 2);
    }
    wr_buf_free(&scratch);
    return type == 0 || type == 1 ? type : -1;
}

/* Applies one stored batch (its bytes: the whole batch for a control batch, at least the
   header otherwise) to s. Returns false when out of memory. */
static bool
observe(wr__txn_state *s, const uint8_t *batch, size_t len, const wr_rbatch_hdr *h)
{
    int64_t last = h->base_offset + h->last_offset_delta;
    if (last + 1 > s->scanned_to)
        s->scanned_to = last + 1;
    if (!(h->attributes & WR_RBATCH_TRANSACTIONAL))
        return true;
    size_t i = 0;
    while (i < s->nopen && s->open[i].pid != h->producer_id)
        i++;
    if (!(h->attributes & WR_RBATCH_CONTROL)) {
        if (i < s->nopen)
            return true;
        if (!grow((void **)&s->open, &s->open_cap, s->nopen, sizeof *s->open))
            return false;
        s->open[s->nopen++] = (wr__txn_open){h->producer_id, h->base_offset};
        return true;
    }
    if (i == s->nopen)
        return true; /* a marker for no open transaction (a retried one): nothing to close */
    wr__txn_open o = s->open[i];
    s->open[i] = s->open[--s->nopen];
    if (marker_type(batch, len) == 0) {
        if (!grow((void **)&s->ab, &s->ab_cap, s->nab, sizeof *s->ab))
            return false;
        s->ab[s->nab++] = (wr__txn_aborted){o.pid, o.first, h->base_offset};
    }
    return true;
}

/* ---- appends and recovery -------------------------------------------------------------- */

void
wr__txn_observe(wr_partition *p, const uint8_t *batch, size_t len)
{
    wr_rbatch_hdr h;
    if (wr_rbatch_parse_hdr(batch, len, &h, NULL) != WR_OK)
        return;
    if (!p->txn.tracked && !(h.attributes & WR_RBATCH_TRANSACTIONAL)) {
        p->txn.scanned_to = h.base_offset + h.last_offset_delta + 1;
        return;
    }
    if (!observe(&p->txn, batch, len, &h)) {
        wr_log(WR_LOG_ERROR, TAG, "%s-%d: out of memory tracking transactions; rebuilt at restart",
               p->topic->name, p->id);
        p->txn_stale = true;
    }
}

/* Replays the batches of p's segments from offset `from` into s (p->mu held or p not shared). */
static int
replay(wr_partition *p, wr__txn_state *s, int64_t from, wr_err *err)
{
    wr_buf buf = WR_BUF_INIT;
    int rc = WR_OK;
    for (size_t si = 0; si < p->nsegs && rc == WR_OK; si++) {
        wr__segment *seg = p->segs[si];
        if (seg->t.next_offset <= from)
            continue;
        if ((rc = wr__seg_fd(seg, err)) != WR_OK)
            break;
        uint8_t hb[WR_RBATCH_HEADER_SIZE];
        for (uint64_t pos = 0; pos + WR_RBATCH_HEADER_SIZE <= seg->t.size;) {
            if ((rc = wr__pread_full(seg->fd, hb, sizeof hb, pos)) != WR_OK)
                break;
            /* the stored header alone (the batch was validated when it was appended) */
            wr_rbatch_hdr h = {
                .base_offset = (int64_t)wr_be64_get(hb),
                .batch_length = (int32_t)wr_be32_get(hb + 8),
                .magic = (int8_t)hb[16],
                .attributes = (int16_t)wr_be16_get(hb + 21),
                .last_offset_delta = (int32_t)wr_be32_get(hb + 23),
                .producer_id = (int64_t)wr_be64_get(hb + 43),
                .producer_epoch = (int16_t)wr_be16_get(hb + 51),
            };
            if (h.magic != 2 || h.batch_length < WR_RBATCH_HEADER_SIZE - WR_RBATCH_LOG_OVERHEAD ||
                h.last_offset_delta < 0) {
                rc = WR_ECORRUPT;
                break;
            }
            size_t size = WR_RBATCH_LOG_OVERHEAD + (size_t)h.batch_length;
            if (h.base_offset + h.last_offset_delta >= from) {
                const uint8_t *bytes = hb;
                size_t blen = sizeof hb;
                if ((h.attributes & WR_RBATCH_CONTROL) && size <= 64 * 1024) {
                    buf.len = 0;
                    uint8_t *dst = wr_buf_extend(&buf, size);
                    if (dst == NULL || wr__pread_full(seg->fd, dst, size, pos) != WR_OK) {
                        rc = dst == NULL ? WR_ENOMEM : WR_EIO;
                        break;
                    }
                    bytes = dst;
                    blen = size;
                }
                if (!observe(s, bytes, blen, &h)) {
                    rc = WR_ENOMEM;
                    break;
                }
            }
            pos += size;
        }
    }
    wr_buf_free(&buf);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "%s-%d: replaying transactions: %s", p->topic->name, p->id,
                          wr_strerror(rc));
    return WR_OK;
}

/* The checkpoint row: version 1, scanned_to, the open transactions, the aborted ones. */
static void
ckpt_encode(const wr__txn_state *s, wr_buf *v)
{
    wr_buf_put_u8(v, 1);
    wr_buf_put_be64(v, (uint64_t)s->scanned_to);
    wr_buf_put_be32(v, (uint32_t)s->nopen);
    for (size_t i = 0; i < s->nopen; i++) {
        wr_buf_put_be64(v, (uint64_t)s->open[i].pid);
        wr_buf_put_be64(v, (uint64_t)s->open[i].first);
    }
    wr_buf_put_be32(v, (uint32_t)s->nab);
    for (size_t i = 0; i < s->nab; i++) {
        wr_buf_put_be64(v, (uint64_t)s->ab[i].pid);
        wr_buf_put_be64(v, (uint64_t)s->ab[i].first);
        wr_buf_put_be64(v, (uint64_t)s->ab[i].last);
    }
}

static bool
ckpt_decode(const uint8_t *d, size_t n, wr__txn_state *s)
{
    memset(s, 0, sizeof *s);
    if (n < 13 || d[0] != 1)
        return false;
    s->tracked = true;
    s->scanned_to = (int64_t)wr_be64_get(d + 1);
    size_t at = 9, no = wr_be32_get(d + at);
    at += 4;
    if (no > (n - at) / 16)
        return false;
    s->open = no ? malloc(no * sizeof *s->open) : NULL;
    if (no && s->open == NULL)
        return false;
    for (size_t i = 0; i < no; i++, at += 16)
        s->open[i] = (wr__txn_open){(int64_t)wr_be64_get(d + at), (int64_t)wr_be64_get(d + at + 8)};
    s->nopen = s->open_cap = no;
    if (n - at < 4)
        goto bad;
    size_t na = wr_be32_get(d + at);
    at += 4;
    if (na > (n - at) / 24)
        goto bad;
    s->ab = na ? malloc(na * sizeof *s->ab) : NULL;
    if (na && s->ab == NULL)
        goto bad;
    for (size_t i = 0; i < na; i++, at += 24)
        s->ab[i] = (wr__txn_aborted){(int64_t)wr_be64_get(d + at), (int64_t)wr_be64_get(d + at + 8),
                                     (int64_t)wr_be64_get(d + at + 16)};
    s->nab = s->ab_cap = na;
    return true;
bad:
    wr__txn_state_free(s);
    return false;
}

void
wr__txn_read_ckpt(wr_partition *p, MDB_txn *txn)
{
    wr_buf k = WR_BUF_INIT;
    wr__part_key(&k, p->topic->name, p->id);
    MDB_val mk = {k.len, k.data}, mv;
    if (mdb_get(txn, p->db->dbi_txns, &mk, &mv) == 0 &&
        !ckpt_decode(mv.mv_data, mv.mv_size, &p->txn_ckpt))
        wr_log(WR_LOG_WARN, TAG, "%s-%d: unreadable transaction checkpoint; replaying the log",
               p->topic->name, p->id);
    wr_buf_free(&k);
}

int
wr__txn_recover(wr_partition *p, wr_err *err)
{
    wr__txn_state s;
    if (!state_copy(&s, &p->txn_ckpt))
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int64_t end = p->segs[p->nsegs - 1]->t.next_offset;
    if (s.tracked && s.scanned_to > end) {
        /* the checkpoint covers batches the log no longer holds (a tail lost with the page
           cache under log.flush.policy=none or interval): derive the state from the log */
        wr_log(WR_LOG_WARN, TAG,
               "%s-%d: transaction checkpoint at offset %" PRId64 " is past the log end %" PRId64
               "; replaying the partition",
               p->topic->name, p->id, s.scanned_to, end);
        wr__txn_state_free(&s);
        s = (wr__txn_state){.tracked = true};
    }
    /* no checkpoint: the partition never held a transaction (the first transactional append
       writes one before it lands), so there is nothing to replay */
    int rc = s.tracked ? replay(p, &s, s.scanned_to, err) : WR_OK;
    if (rc != WR_OK) {
        wr__txn_state_free(&s);
        return rc;
    }
    wr__txn_state_free(&p->txn);
    p->txn = s;
    p->txn_stale = false;
    return WR_OK;
}

/* After unsynced appends were cut off (p->mu held): the state again from the checkpoint. */
void
wr__txn_rollback(wr_partition *p)
{
    wr_err err = {0};
    if (wr__txn_recover(p, &err) != WR_OK) {
        wr_log(WR_LOG_ERROR, TAG, "%s", err.msg);
        p->txn_stale = true;
    }
}

/* ---- the public side ------------------------------------------------------------------- */

static int
ckpt_write(wr_partition *p, wr__txn_state *snap, wr_err *err)
{
    wr_buf k = WR_BUF_INIT, v = WR_BUF_INIT;
    wr__part_key(&k, p->topic->name, p->id);
    ckpt_encode(snap, &v);
    int rc = WR_OK;
    if (!wr_buf_ok(&k) || !wr_buf_ok(&v)) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    } else {
        MDB_txn *txn;
        rc = wr__lmdb_err(mdb_txn_begin(p->db->env, NULL, 0, &txn), err, "begin");
        if (rc == WR_OK) {
            MDB_val mk = {k.len, k.data}, mv = {v.len, v.data};
            int mrc = mdb_put(txn, p->db->dbi_txns, &mk, &mv, 0);
            mrc = mrc ? (mdb_txn_abort(txn), mrc) : mdb_txn_commit(txn);
            rc = wr__lmdb_err(mrc, err, "transaction checkpoint");
        }
    }
    wr_buf_free(&k);
    wr_buf_free(&v);
    return rc;
}

int
wr_log_txn_checkpoint(wr_partition *p, wr_err *err)
{
    wr__txn_state snap;
    pthread_mutex_lock(&p->mu);
    /* the row must describe only what a crash cannot take back: were it to cover appends that
       a failed fsync then cut off, the next open would replay from past the offsets where
       later batches land, keeping a transaction open that no marker will ever end */
    int src = wr__part_settle_locked(p);
    if (src != WR_OK) {
        pthread_mutex_unlock(&p->mu);
        return wr_err_set(err, src, "%s-%d: transaction checkpoint: %s", p->topic->name, p->id,
                          wr_strerror(src));
    }
    /* aborted transactions wholly below the log start serve no reader any more */
    size_t keep = 0;
    for (size_t i = 0; i < p->txn.nab; i++)
        if (p->txn.ab[i].last >= p->start_offset)
            p->txn.ab[keep++] = p->txn.ab[i];
    p->txn.nab = keep;
    p->txn.tracked = true;
    bool ok = state_copy(&snap, &p->txn);
    pthread_mutex_unlock(&p->mu);
    if (!ok)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = ckpt_write(p, &snap, err);
    if (rc == WR_OK) {
        pthread_mutex_lock(&p->mu);
        wr__txn_state_free(&p->txn_ckpt);
        p->txn_ckpt = snap;
        pthread_mutex_unlock(&p->mu);
    } else {
        wr__txn_state_free(&snap);
    }
    return rc;
}

int
wr__txn_track(wr_partition *p, wr_err *err)
{
    pthread_mutex_lock(&p->mu);
    bool tracked = p->txn.tracked;
    pthread_mutex_unlock(&p->mu);
    return tracked ? WR_OK : wr_log_txn_checkpoint(p, err);
}

int64_t
wr_log_stable_offset(wr_partition *p)
{
    pthread_mutex_lock(&p->mu);
    int64_t lso = p->visible_end;
    for (size_t i = 0; i < p->txn.nopen; i++)
        if (p->txn.open[i].first < lso)
            lso = p->txn.open[i].first;
    if (p->txn_stale)
        lso = p->start_offset; /* unknown: serve read_committed nothing rather than too much */
    pthread_mutex_unlock(&p->mu);
    return lso;
}

size_t
wr_log_aborted_txns(
    wr_partition *p, int64_t from, int64_t upto, wr_log_aborted_txn *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->txn.nab; i++) {
        const wr__txn_aborted *a = &p->txn.ab[i];
        if (a->last >= from && a->first < upto) {
            if (n < cap)
                out[n] = (wr_log_aborted_txn){a->pid, a->first, a->last};
            n++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t
wr_log_open_txns(wr_partition *p, wr_log_open_txn *out, size_t cap)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->txn.nopen;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = (wr_log_open_txn){p->txn.open[i].pid, p->txn.open[i].first};
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* ---- reading committed data -------------------------------------------------------------- */

static bool
keep_none(void *arg, const wr_record *rec)
{
    (void)arg;
    (void)rec;
    return false;
}

/* Whether the batch at h belongs to one of the aborted transactions ab[0..n). */
static bool
aborted_batch(const wr_rbatch_hdr *h, const wr_log_aborted_txn *ab, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ab[i].producer_id == h->producer_id && h->base_offset >= ab[i].first_offset &&
            h->base_offset < ab[i].last_offset)
            return true;
    return false;
}

int
wr_log_read_committed(wr_partition *p,
                      int64_t offset,
                      size_t max_bytes,
                      wr_buf *out,
                      wr_log_read_result *res,
                      wr_err *err)
{
    size_t start = out->len;
    int64_t lso = wr_log_stable_offset(p);
    int rc = wr_log_read_upto(p, offset, lso, max_bytes, out, res, err);
    if (rc != WR_OK || res->bytes == 0)
        return rc;
    bool any = false;
    for (size_t at = start; at < out->len; at += wr_rbatch_size(out->data + at, out->len - at))
        if (wr_be16_get(out->data + at + 21) & (WR_RBATCH_TRANSACTIONAL | WR_RBATCH_CONTROL))
            any = true;
    if (!any)
        return WR_OK;
    /* markers and the batches of aborted transactions become empty batches over the same
       offsets (as compaction leaves them), so readers move past them */
    wr_log_aborted_txn few[16], *ab = few;
    size_t nab = wr_log_aborted_txns(p, offset, lso, few, 16);
    if (nab > 16 && (ab = malloc(nab * sizeof *ab)) != NULL)
        nab = wr_log_aborted_txns(p, offset, lso, ab, nab);
    wr_buf kept = WR_BUF_INIT, scratch = WR_BUF_INIT;
    if (ab == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    for (size_t at = start; rc == WR_OK && at < out->len;) {
        size_t size = wr_rbatch_size(out->data + at, out->len - at);
        wr_rbatch_hdr h;
        if (size == 0 || wr_rbatch_parse_hdr(out->data + at, size, &h, err) != WR_OK) {
            rc = WR_ECORRUPT;
            break;
        }
        if ((h.attributes & WR_RBATCH_CONTROL) ||
            ((h.attributes & WR_RBATCH_TRANSACTIONAL) && aborted_batch(&h, ab, nab))) {
            int32_t n;
            rc = wr_rbatch_filter(out->data + at, size, keep_none, NULL, &kept, &scratch, 64u << 20,
                                  &n, err);
        } else {
            wr_buf_append(&kept, out->data + at, size);
        }
        at += size;
    }
    if (rc == WR_OK && !wr_buf_ok(&kept))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    out->len = start;
    if (rc == WR_OK) {
        wr_buf_append(out, kept.data, kept.len);
        res->bytes = kept.len;
    }
    wr_buf_free(&kept);
    wr_buf_free(&scratch);
    if (ab != few)
        free(ab);
    return rc;
}
