/*
 * stateful.c - aggregations over state stores (state/store.h): GROUP BY with windows, EMIT
 * CHANGES and EMIT FINAL, retention, and the task's position committed with its state.
 * See engine_int.h.
 */
#include "runtime/engine_int.h"
#include "src/base/hash.h"

/* ---- aggregations ---------------------------------------------------------------------------
 *
 * An aggregation task keeps one state store (a column family with a changelog partition):
 *   row keys:   the GROUP BY values in the order-preserving key codec, then for time windows the
 *               window start, for sessions the session's end and start (8 bytes each), mapped to
 *               the largest event time of the group's rows and each aggregate's state;
 *   STORE_META: the task's next input offset, stream time and EMIT FINAL progress, so that the
 *               state and the input position are committed (and restored) together;
 *   STORE_WIX:  window index entries (window end, row key), which find the windows to emit
 *               (EMIT FINAL) and to expire (RETENTION) without scanning every key.
 */

static void
task_meta_put(task *t)
{
    uint8_t k = STORE_META;
    wr_buf v = WR_BUF_INIT;
    wr_buf_put_varint(&v, t->offset);
    wr_buf_put_varint(&v, t->stream_time);
    wr_buf_put_varint(&v, t->final_upto);
    if (wr_buf_ok(&v))
        wr_store_put(t->txn, t->store, &k, 1, v.data, v.len);
    wr_buf_free(&v);
}

/* Reads the task's position from its store; false when the store has none (a new query). */
static bool
task_meta_get(wr_engine *e, task *t)
{
    uint8_t k = STORE_META;
    wr_buf v = WR_BUF_INIT;
    bool found = false;
    wr_err err = {0};
    if (wr_store_get(e->opts.state, NULL, t->store, &k, 1, &v, &found, &err) == WR_OK && found) {
        wr_rd r = wr_rd_make(v.data, v.len);
        int64_t off = wr_rd_varint(&r, 10), st = wr_rd_varint(&r, 10), fu = wr_rd_varint(&r, 10);
        if (r.err == WR_OK) {
            t->offset = off;
            t->stream_time = st;
            t->final_upto = fu;
        } else {
            found = false;
        }
    }
    wr_buf_free(&v);
    return found;
}

/* Whether q keeps state: an aggregation, a join, or the repartition of a table (its rows). */
static bool
has_state(const wr_query *q)
{
    return q->agg != NULL || q->join != NULL || (q->nrekey > 0 && q->src->is_table);
}

/* What q's stores and changelog are named after. */
static const char *
store_kind(const wr_query *q)
{
    return q->agg ? "Aggregate-Materialize" : q->join ? "Join" : "Source";
}

static char *
changelog_topic(wr_engine *e, const wr_query *q)
{
    char *s = malloc(strlen(e->service_id) + strlen(q->id) + 64);
    if (s != NULL)
        sprintf(s, "%s-%s-%s-changelog", e->service_id, q->id, store_kind(q));
    return s;
}

/* Opens each task's store, creating the compacted changelog topic, and restores it: the
   changelog tail past the store's offset, or all of it for a new or rebuilt store. The task
   then resumes from the input offset committed with its state. */
int
eng_open_task_stores(wr_engine *e, wr_query *q, wr_err *err)
{
    if (e->opts.state == NULL)
        return wr_err_set(err, WR_EINVAL,
                          "this aggregation needs state stores, and this engine has no state "
                          "directory");
    char *topic = changelog_topic(e, q);
    if (topic == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    if (!q->is_push && wr_log_topic_partitions(e->opts.db, topic) < 1) {
        wr_props c = WR_PROPS_INIT;
        wr_props_set(&c, "cleanup.policy", "compact");
        rc = wr_log_topic_create(e->opts.db, topic, q->ntasks, &c, err);
        wr_props_free(&c);
    }
    for (int i = 0; i < q->ntasks && rc == WR_OK; i++) {
        task *t = &q->tasks[i];
        wr_partition *cl;
        char name[600];
        snprintf(name, sizeof name, "%s#%s#%d", q->id, store_kind(q), t->partition);
        if (q->is_push) { /* a client's query: its state lives as long as it, no changelog */
            cl = NULL;
        } else if ((rc = wr_log_partition(e->opts.db, topic, t->partition, &cl)) != WR_OK) {
            wr_err_set(err, rc, "changelog %s has no partition %d", topic, t->partition);
            break;
        }
        if ((rc = wr_store_open(e->opts.state, name, cl, &t->store, err)) != WR_OK)
            break;
        int64_t n = 0;
        if ((rc = wr_store_restore(e->opts.state, t->store, &n, err)) != WR_OK)
            break;
        q->stats.restored += n;
        t->stream_time = INT64_MIN;
        t->final_upto = INT64_MIN;
        task_meta_get(e, t);
    }
    if (rc == WR_OK && q->stats.restored > 0)
        wr_log(WR_LOG_INFO, "engine", "query %s: %lld changelog records restored", q->id,
               (long long)q->stats.restored);
    free(topic);
    return rc;
}

/* Drops a terminated query's stores and changelog topic. */
void
eng_drop_task_stores(wr_engine *e, wr_query *q)
{
    for (int i = 0; i < q->nreparts; i++) {
        if (!e->replaying && !q->is_push)
            (void)wr_log_topic_delete(e->opts.db, q->reparts[i]->sink->topic, NULL);
        eng_drop_task_stores(e, q->reparts[i]);
    }
    if (!has_state(q) || e->opts.state == NULL)
        return;
    for (int i = 0; i < q->ntasks; i++)
        if (q->tasks[i].store != NULL) {
            wr_err err = {0};
            (void)wr_store_drop(e->opts.state, q->tasks[i].store, &err);
            q->tasks[i].store = NULL;
        }
    char *topic = changelog_topic(e, q);
    if (topic != NULL && !e->replaying && !q->is_push)
        (void)wr_log_topic_delete(e->opts.db, topic, NULL);
    free(topic);
}

/* What a decoded row of an aggregation store holds. */
/* Decodes the row under key k (value v) of an aggregation store into r (arrays provided). */
bool
eng_agg_decode(const aggexec *ax,
               const uint8_t *k,
               size_t kl,
               const uint8_t *v,
               size_t vl,
               aggrow *r,
               wr_arena *a)
{
    wr_rd kr = wr_rd_make(k, kl);
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_decode(&kr, ax->gtypes[g], &r->keys[g], a);
    if (ax->windowed) {
        const uint8_t *p = wr_rd_take(&kr, ax->win.kind == WR_WIN_SESSION ? 16 : 8);
        if (p != NULL && ax->win.kind == WR_WIN_SESSION) {
            r->we = wr_key_get_i64(p);
            r->ws = wr_key_get_i64(p + 8);
        } else if (p != NULL) {
            r->ws = wr_key_get_i64(p);
            r->we = r->ws + ax->win.size_ms;
        }
    }
    wr_rd vr = wr_rd_make(v, vl);
    r->maxts = wr_rd_varint(&vr, 10);
    for (int i = 0; i < ax->nagg; i++)
        wr_agg_decode(&ax->aggs[i], &r->states[i], &vr, a);
    return kr.err == WR_OK && vr.err == WR_OK && wr_rd_left(&kr) == 0;
}

static void
agg_encode_value(const aggexec *ax, const aggrow *r, wr_buf *b)
{
    wr_buf_reset(b);
    wr_buf_put_varint(b, r->maxts);
    for (int i = 0; i < ax->nagg; i++)
        wr_agg_encode(&ax->aggs[i], &r->states[i], b);
}

static void
agg_encode_key(const aggexec *ax, const wr_val *keys, int64_t ws, int64_t we, wr_buf *b)
{
    wr_buf_reset(b);
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_encode(b, ax->gtypes[g], &keys[g]);
    if (ax->windowed && ax->win.kind == WR_WIN_SESSION) {
        wr_key_put_i64(b, we);
        wr_key_put_i64(b, ws);
    } else if (ax->windowed) {
        wr_key_put_i64(b, ws);
    }
}

static void
wix_key(const wr_buf *rowkey, int64_t we, wr_buf *b)
{
    wr_buf_reset(b);
    wr_buf_put_u8(b, STORE_WIX);
    wr_key_put_i64(b, we);
    wr_buf_append(b, rowkey->data, rowkey->len);
}

/* The post-aggregation row of r (group keys, results, window bounds), into post. */
void
eng_agg_post_row(const aggexec *ax, const aggrow *r, wr_val *post, wr_arena *a)
{
    int n = 0;
    for (int g = 0; g < ax->ngroup; g++)
        post[n++] = r->keys[g];
    for (int i = 0; i < ax->nagg; i++)
        post[n++] = wr_agg_result(&ax->aggs[i], &r->states[i], a);
    if (ax->windowed) {
        post[n++] = wr_val_bigint(r->ws);
        post[n++] = wr_val_bigint(r->we);
    }
}

/* Evaluates the query's output columns over a post-aggregation row: false when HAVING rejects
   it. allv: the sink's columns in order; ok/ov: split into key and value. */
bool
eng_agg_output(wr_query *q,
               const wr_val *post,
               wr_val *allv,
               wr_val *ok,
               wr_val *ov,
               wr_arena *a,
               char *warning,
               size_t wlen)
{
    wr_eval_ctx cx = {.arena = a, .row = post};
    bool keep = true;
    if (q->agg->having != NULL) {
        wr_val h;
        wr_expr_eval(q->agg->having, &cx, &h);
        keep = !h.null && h.u.b;
    }
    for (int i = 0, ki = 0, vi = 0; i < q->nout; i++) {
        wr_expr_eval(q->out[i], &cx, &allv[i]);
        if (eng_is_key_role(q->sink->cols[i].role))
            ok[ki++] = allv[i];
        else
            ov[vi++] = allv[i];
    }
    if (cx.warning[0] && warning[0] == 0)
        snprintf(warning, wlen, "%s", cx.warning);
    return keep;
}

typedef struct aggctx {
    wr_engine *e;
    wr_query *q;
    task *t;
    sink_out *so;
    const wr_fmt *okf, *ovf;
    wr_arena *a;
    wr_val *post, *allv, *ok, *ov;
    wr_buf kb, vb;
    int64_t first_offset;
    char warning[200];
} aggctx;

static int
aggctx_init(aggctx *c, wr_engine *e, wr_query *q, task *t, sink_out *so, wr_arena *a)
{
    c->e = e;
    c->q = q;
    c->t = t;
    c->so = so;
    c->a = a;
    c->kb = (wr_buf)WR_BUF_INIT;
    c->vb = (wr_buf)WR_BUF_INIT;
    wr_fmt *okf = wr_arena_calloc(a, 2, sizeof *okf);
    if (okf == NULL || eng_make_fmt(a, q->sink, true, &okf[0]) != WR_OK ||
        eng_make_fmt(a, q->sink, false, &okf[1]) != WR_OK)
        return WR_ENOMEM;
    c->okf = &okf[0];
    c->ovf = &okf[1];
    c->post = wr_arena_calloc(a, (size_t)q->agg->npost + 1, sizeof *c->post);
    c->allv = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->allv);
    c->ok = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->ok);
    c->ov = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->ov);
    return c->post && c->allv && c->ok && c->ov ? WR_OK : WR_ENOMEM;
}

/* Frees c's buffers; per-row problems (a failed CAST) go to the processing log. */
static void
agg_warn(aggctx *c)
{
    if (c->warning[0]) {
        c->q->stats.eval_errors++;
        char m[300];
        snprintf(m, sizeof m, "%s (first problem in the batch from offset %lld)", c->warning,
                 (long long)c->first_offset);
        eng_plog(c->e, c->q, c->t->partition, c->first_offset, m);
    }
    wr_buf_free(&c->kb);
    wr_buf_free(&c->vb);
}

/* Sends row r (or, gone, a tombstone for its key) to the sink or the push client. */
static int
agg_emit(aggctx *c, const aggrow *r, bool gone, wr_err *err)
{
    wr_query *q = c->q;
    eng_agg_post_row(q->agg, r, c->post, c->a);
    bool keep =
        eng_agg_output(q, c->post, c->allv, c->ok, c->ov, c->a, c->warning, sizeof c->warning);
    if (q->is_push) {
        eng_push_row(q, c->allv, gone || !keep, &c->vb);
        return WR_OK;
    }
    wr_buf_reset(&c->kb);
    wr_buf_reset(&c->vb);
    bool knull = false, vnull = gone || !keep;
    wr_err eerr = {0};
    if (wr_fmt_encode(c->okf, c->ok, &c->kb, &knull, &eerr) != WR_OK ||
        (!vnull && wr_fmt_encode(c->ovf, c->ov, &c->vb, &vnull, &eerr) != WR_OK)) {
        q->stats.eval_errors++;
        eng_plog(c->e, q, c->t->partition, c->first_offset, eerr.msg);
        return WR_OK;
    }
    size_t kh = c->kb.len;
    if (q->agg->windowed && !knull) /* Kafka Streams' windowed key */
        wr_window_key_put(&c->kb, q->agg->win.kind == WR_WIN_SESSION, r->ws, r->we);
    return eng_emit_record(c->e, q, c->t, c->so, &c->kb, knull, kh, &c->vb, vnull, r->maxts, err);
}

/* ---- the row cache -----------------------------------------------------------------------
 *
 * During one run of a task, the rows its records update stay in memory (encoded, as the store
 * holds them) and reach the state transaction once each, when the run ends: a group hit by a
 * thousand records in a run costs one write to RocksDB, not a thousand. Reads look in the
 * cache first. Session windows, which search the store by key range, go to the store directly.
 */

typedef struct centry {
    uint64_t h; /* 0: an empty slot */
    uint8_t *k, *v;
    size_t kl, vl, vcap;
    bool new_window;
    int64_t we;
} centry;

struct rowcache {
    centry *slots;
    size_t cap, n;
};

static uint64_t
cache_hash(const uint8_t *k, size_t n)
{
    return wr_fnv1a64(k, n) | 1; /* 0 marks an empty slot */
}

static centry *
cache_find(struct rowcache *rc, const uint8_t *k, size_t kl, uint64_t h)
{
    size_t i = (size_t)h & (rc->cap - 1);
    while (rc->slots[i].h != 0 &&
           (rc->slots[i].h != h || rc->slots[i].kl != kl || memcmp(rc->slots[i].k, k, kl) != 0))
        i = (i + 1) & (rc->cap - 1);
    return &rc->slots[i];
}

static bool
cache_grow(struct rowcache *rc)
{
    size_t cap = rc->cap ? rc->cap * 2 : 1024;
    centry *old = rc->slots, *ns = calloc(cap, sizeof *ns);
    if (ns == NULL)
        return false;
    size_t ocap = rc->cap;
    rc->slots = ns;
    rc->cap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].h != 0)
            *cache_find(rc, old[i].k, old[i].kl, old[i].h) = old[i];
    free(old);
    return true;
}

/* Writes every cached row (and its window index entry) into the task's transaction and empties
   the cache. */
static int
cache_flush(task *t, wr_err *err)
{
    struct rowcache *rc = t->cache;
    int r = WR_OK;
    wr_buf wk = WR_BUF_INIT;
    for (size_t i = 0; rc != NULL && i < rc->cap; i++) {
        centry *ce = &rc->slots[i];
        if (ce->h == 0)
            continue;
        if (r == WR_OK)
            r = wr_store_put(t->txn, t->store, ce->k, ce->kl, ce->v, ce->vl);
        if (r == WR_OK && ce->new_window) {
            wr_buf kb = {.data = ce->k, .len = ce->kl};
            wix_key(&kb, ce->we, &wk);
            r = wr_store_put(t->txn, t->store, wk.data, wk.len, "", 0);
        }
        free(ce->k);
        free(ce->v);
        *ce = (centry){0};
    }
    if (rc != NULL)
        rc->n = 0;
    wr_buf_free(&wk);
    return r == WR_OK ? WR_OK
                      : wr_err_set(err, r, "store %s: out of memory", wr_store_name(t->store));
}

/* Frees the cache; rows not flushed (a failed run) go with it, as the transaction does. */
static void
cache_free(task *t)
{
    if (t->cache == NULL)
        return;
    for (size_t i = 0; i < t->cache->cap; i++) {
        free(t->cache->slots[i].k);
        free(t->cache->slots[i].v);
    }
    free(t->cache->slots);
    free(t->cache);
    t->cache = NULL;
}

static int
agg_get(aggctx *c, const wr_buf *key, aggrow *r, bool *found, wr_buf *tmp, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    int rc = WR_OK;
    centry *ce = NULL;
    if (c->t->cache != NULL && c->t->cache->n > 0)
        ce = cache_find(c->t->cache, key->data, key->len, cache_hash(key->data, key->len));
    if (ce != NULL && ce->h != 0) {
        *found = true;
        wr_buf_reset(tmp);
        wr_buf_append(tmp, ce->v, ce->vl);
    } else {
        rc = wr_store_get(c->e->opts.state, c->t->txn, c->t->store, key->data, key->len, tmp, found,
                          err);
    }
    if (rc != WR_OK)
        return rc;
    if (*found && !eng_agg_decode(ax, key->data, key->len, tmp->data, tmp->len, r, c->a))
        return wr_err_set(err, WR_ECORRUPT, "a row of store %s cannot be decoded",
                          wr_store_name(c->t->store));
    if (!*found) {
        r->maxts = INT64_MIN;
        for (int i = 0; i < ax->nagg; i++)
            wr_agg_init(&ax->aggs[i], &r->states[i]);
    }
    return WR_OK;
}

static int
agg_put(aggctx *c, const wr_buf *key, const aggrow *r, bool new_window, wr_buf *tmp)
{
    const aggexec *ax = c->q->agg;
    agg_encode_value(ax, r, tmp);
    struct rowcache *rcache = c->t->cache;
    if (rcache != NULL && wr_buf_ok(tmp)) {
        if (2 * (rcache->n + 1) > rcache->cap && !cache_grow(rcache))
            return WR_ENOMEM;
        uint64_t h = cache_hash(key->data, key->len);
        centry *ce = cache_find(rcache, key->data, key->len, h);
        if (ce->h == 0) {
            if ((ce->k = malloc(key->len + 1)) == NULL)
                return WR_ENOMEM;
            memcpy(ce->k, key->data, key->len);
            ce->kl = key->len;
            ce->h = h;
            rcache->n++;
        }
        if (ce->vcap < tmp->len) {
            uint8_t *nv = realloc(ce->v, tmp->len);
            if (nv == NULL)
                return WR_ENOMEM;
            ce->v = nv;
            ce->vcap = tmp->len;
        }
        memcpy(ce->v, tmp->data, tmp->len);
        ce->vl = tmp->len;
        if (new_window) {
            ce->new_window = true;
            ce->we = r->we;
        }
        return WR_OK;
    }
    int rc = wr_store_put(c->t->txn, c->t->store, key->data, key->len, tmp->data, tmp->len);
    if (rc == WR_OK && new_window) {
        wix_key(key, r->we, tmp);
        rc = wr_store_put(c->t->txn, c->t->store, tmp->data, tmp->len, "", 0);
    }
    return rc;
}

static int
agg_del(aggctx *c, const wr_buf *key, int64_t we, wr_buf *tmp)
{
    int rc = wr_store_delete(c->t->txn, c->t->store, key->data, key->len);
    wix_key(key, we, tmp);
    if (rc == WR_OK)
        rc = wr_store_delete(c->t->txn, c->t->store, tmp->data, tmp->len);
    return rc;
}

aggrow *
eng_aggrow_new(const aggexec *ax, wr_arena *a)
{
    aggrow *r = wr_arena_calloc(a, 1, sizeof *r);
    if (r != NULL) {
        r->keys = wr_arena_calloc(a, (size_t)ax->ngroup + 1, sizeof *r->keys);
        r->states = wr_arena_calloc(a, (size_t)ax->nagg + 1, sizeof *r->states);
        if (r->keys == NULL || r->states == NULL)
            r = NULL;
    }
    return r;
}

/* One row joins its session: every session of its key within the gap of it merges with it. */
static int
agg_session(
    aggctx *c, const wr_val *gk, const wr_val *args, int64_t ts, int64_t offset, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    int64_t gap = ax->win.size_ms, close = c->t->stream_time - ax->grace;
    aggrow *m = eng_aggrow_new(ax, c->a), *o = eng_aggrow_new(ax, c->a);
    if (m == NULL || o == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    memcpy(m->keys, gk, (size_t)ax->ngroup * sizeof *gk);
    m->ws = m->we = ts;
    m->maxts = ts;
    for (int i = 0; i < ax->nagg; i++) {
        wr_agg_init(&ax->aggs[i], &m->states[i]);
        wr_agg_add(&ax->aggs[i], &m->states[i], args ? &args[i] : NULL, offset, c->a);
    }
    /* sessions of this key ending at or after ts - gap */
    wr_buf lo = WR_BUF_INIT, pre = WR_BUF_INIT, key = WR_BUF_INIT, tmp = WR_BUF_INIT;
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_encode(&pre, ax->gtypes[g], &gk[g]);
    wr_buf_append(&lo, pre.data, pre.len);
    wr_key_put_i64(&lo, ts - gap);
    uint8_t *hi = wr_arena_alloc(c->a, pre.len + 1);
    size_t hl = hi && wr_buf_ok(&pre) ? wr_store_prefix_end(pre.data, pre.len, hi) : 0;
    wr_store_iter *it = wr_store_iter_open(c->e->opts.state, c->t->txn, c->t->store, lo.data,
                                           lo.len, hl ? hi : NULL, hl);
    int rc = it ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
    int nold = 0;
    wr_buf *olds = NULL;
    int64_t *old_we = NULL, *old_ws = NULL;
    const uint8_t *k, *v;
    size_t kl, vl;
    while (rc == WR_OK && wr_store_iter_next(it, &k, &kl, &v, &vl)) {
        if (!eng_agg_decode(ax, k, kl, v, vl, o, c->a)) {
            rc = wr_err_set(err, WR_ECORRUPT, "a session of store %s cannot be decoded",
                            wr_store_name(c->t->store));
            break;
        }
        if (o->ws > ts + gap)
            continue; /* starts after the gap */
        m->ws = o->ws < m->ws ? o->ws : m->ws;
        m->we = o->we > m->we ? o->we : m->we;
        m->maxts = o->maxts > m->maxts ? o->maxts : m->maxts;
        for (int i = 0; i < ax->nagg; i++)
            wr_agg_merge(&ax->aggs[i], &m->states[i], &o->states[i], c->a);
        wr_buf *no = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *no);
        int64_t *nw = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *nw);
        int64_t *ns = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *ns);
        aggrow *copy = eng_aggrow_new(ax, c->a);
        if (no == NULL || nw == NULL || ns == NULL || copy == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            break;
        }
        if (nold > 0) {
            memcpy(no, olds, (size_t)nold * sizeof *no);
            memcpy(nw, old_we, (size_t)nold * sizeof *nw);
            memcpy(ns, old_ws, (size_t)nold * sizeof *ns);
        }
        no[nold] = (wr_buf)WR_BUF_INIT;
        wr_buf_append(&no[nold], k, kl);
        nw[nold] = o->we;
        ns[nold] = o->ws;
        olds = no;
        old_we = nw;
        old_ws = ns;
        nold++;
        o = copy; /* the states merged into m stay valid */
    }
    wr_err ierr = {0};
    if (wr_store_iter_close(it, &ierr) != WR_OK && rc == WR_OK) {
        *err = ierr;
        rc = ierr.code;
    }
    if (rc == WR_OK && m->we < close) {
        c->q->stats.late++; /* the merged session closed already */
    } else if (rc == WR_OK) {
        for (int i = 0; i < nold && rc == WR_OK; i++) {
            if ((rc = agg_del(c, &olds[i], old_we[i], &tmp)) == WR_OK && !ax->final &&
                (old_ws[i] != m->ws || old_we[i] != m->we)) {
                /* the merged-away session's tombstone */
                aggrow *d = eng_aggrow_new(ax, c->a);
                if (d == NULL) {
                    rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                    break;
                }
                memcpy(d->keys, gk, (size_t)ax->ngroup * sizeof *gk);
                d->ws = old_ws[i];
                d->we = old_we[i];
                d->maxts = ts;
                for (int j = 0; j < ax->nagg; j++)
                    wr_agg_init(&ax->aggs[j], &d->states[j]);
                rc = agg_emit(c, d, true, err);
            }
        }
        agg_encode_key(ax, m->keys, m->ws, m->we, &key);
        if (rc == WR_OK)
            rc = agg_put(c, &key, m, true, &tmp);
        if (rc == WR_OK && !ax->final)
            rc = agg_emit(c, m, false, err);
    }
    for (int i = 0; i < nold; i++)
        wr_buf_free(&olds[i]);
    wr_buf_free(&lo);
    wr_buf_free(&pre);
    wr_buf_free(&key);
    wr_buf_free(&tmp);
    return rc;
}

/* Row row's GROUP BY values (from their vectors gv) into gk and, unwindowed, its store key into
   key; false when one is null. */
static bool
group_key(const aggexec *ax, const wr_vec *gv, int32_t row, wr_val *gk, wr_buf *key)
{
    bool null_key = false;
    for (int g = 0; g < ax->ngroup; g++) {
        gk[g] = wr_vec_get(&gv[g], row);
        null_key |= gk[g].null;
    }
    if (!null_key && !ax->windowed)
        agg_encode_key(ax, gk, 0, 0, key);
    return !null_key;
}

/* The aggregation step of a batch: each selected row updates the state of its group (and
   window) and, unless EMIT FINAL, emits the group's new row. Over a table (sign not NULL) a row
   of sign -1 is a previous row taken out (undo); when the new row that follows it lands in the
   same group, that group is emitted once, after both (as Kafka Streams since KIP-904). */
static int
agg_batch(aggctx *c, wr_batch *b, const int64_t *ts, const int8_t *sign, wr_err *err)
{
    wr_query *q = c->q;
    const aggexec *ax = q->agg;
    const wr_source *s = q->src;
    wr_eval_ctx cx = {.arena = c->a};
    wr_vec *gv = wr_arena_calloc(c->a, (size_t)ax->ngroup + 1, sizeof *gv);
    wr_vec *av = wr_arena_calloc(c->a, (size_t)ax->nagg + 1, sizeof *av);
    wr_val *gk = wr_arena_calloc(c->a, (size_t)ax->ngroup + 1, sizeof *gk);
    wr_val *args = wr_arena_calloc(c->a, (size_t)ax->nagg + 1, sizeof *args);
    aggrow *r = eng_aggrow_new(ax, c->a);
    if (gv == NULL || av == NULL || gk == NULL || args == NULL || r == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    for (int g = 0; g < ax->ngroup && rc == WR_OK; g++)
        rc = wr_expr_eval_batch(ax->group[g], b, &cx, &gv[g]);
    for (int i = 0; i < ax->nagg && rc == WR_OK; i++)
        if (ax->args[i] != NULL)
            rc = wr_expr_eval_batch(ax->args[i], b, &cx, &av[i]);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "out of memory");
    if (cx.warning[0])
        snprintf(c->warning, sizeof c->warning, "%s", cx.warning);
    wr_buf key = WR_BUF_INIT, tmp = WR_BUF_INIT, next = WR_BUF_INIT;
    wr_val *nk = wr_arena_calloc(c->a, (size_t)ax->ngroup + 1, sizeof *nk);
    if (nk == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    const wr_vec *offs = &b->cols[s->ncols + 2]; /* ROWOFFSET */
    for (int32_t k = 0; k < b->nsel && rc == WR_OK; k++) {
        int32_t row = b->sel[k];
        if (!group_key(ax, gv, row, gk, &key)) {
            /* as ksqlDB: a row whose GROUP BY value is null is dropped */
            q->stats.null_keys++;
            continue;
        }
        bool undo = sign != NULL && sign[row] < 0;
        /* undo, and the next row is the new row of the same key landing in the same group */
        bool quiet = undo && k + 1 < b->nsel && b->sel[k + 1] == row + 1 && sign[row + 1] > 0 &&
                     group_key(ax, gv, row + 1, nk, &next) && next.len == key.len &&
                     memcmp(next.data, key.data, key.len) == 0;
        for (int i = 0; i < ax->nagg; i++)
            args[i] = ax->args[i] ? wr_vec_get(&av[i], row) : wr_val_null(NULL);
        int64_t when = ts[row], offset = wr_vec_get(offs, row).u.i64;
        if (when > c->t->stream_time)
            c->t->stream_time = when;
        if (ax->windowed && ax->win.kind == WR_WIN_SESSION) {
            rc = agg_session(c, gk, args, when, offset, err);
            continue;
        }
        /* the windows the row falls in: one for tumbling, size/advance for hopping; none for
           negative times (as Kafka Streams) */
        int64_t adv = ax->win.kind == WR_WIN_HOPPING ? ax->win.advance_ms : ax->win.size_ms;
        int64_t first = 0, last = 0;
        if (ax->windowed) {
            if (when < 0) {
                q->stats.late++;
                continue;
            }
            int64_t lo = when - ax->win.size_ms + adv;
            first = (lo > 0 ? lo : 0) / adv * adv;
            last = when;
        }
        for (int64_t ws = first; ws <= last && rc == WR_OK; ws += ax->windowed ? adv : 1) {
            int64_t we = ws + ax->win.size_ms;
            if (ax->windowed && we + ax->grace <= c->t->stream_time) {
                q->stats.late++; /* the window closed: later than its grace period */
                continue;
            }
            agg_encode_key(ax, gk, ws, we, &key);
            bool found;
            if ((rc = agg_get(c, &key, r, &found, &tmp, err)) != WR_OK)
                break;
            memcpy(r->keys, gk, (size_t)ax->ngroup * sizeof *gk);
            r->ws = ws;
            r->we = we;
            if (when > r->maxts)
                r->maxts = when;
            for (int i = 0; i < ax->nagg; i++) {
                const wr_val *x = ax->args[i] ? &args[i] : NULL;
                if (undo)
                    wr_agg_undo(&ax->aggs[i], &r->states[i], x, c->a);
                else
                    wr_agg_add(&ax->aggs[i], &r->states[i], x, offset, c->a);
            }
            if ((rc = agg_put(c, &key, r, ax->windowed && !found, &tmp)) != WR_OK) {
                wr_err_set(err, rc, "out of memory");
                break;
            }
            if (!ax->final && !quiet)
                rc = agg_emit(c, r, false, err);
        }
    }
    wr_buf_free(&key);
    wr_buf_free(&tmp);
    wr_buf_free(&next);
    return rc;
}

int
eng_agg_run_batch(wr_engine *e,
                  wr_query *q,
                  task *t,
                  sink_out *so,
                  wr_arena *ra,
                  int64_t first_offset,
                  const char *warning,
                  wr_batch *b,
                  const int64_t *ts,
                  const int8_t *sign,
                  wr_err *err)
{
    aggctx c = {0};
    if (aggctx_init(&c, e, q, t, so, ra) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    c.first_offset = first_offset;
    snprintf(c.warning, sizeof c.warning, "%s", warning);
    int rc = b->nsel > 0 ? agg_batch(&c, b, ts, sign, err) : WR_OK;
    agg_warn(&c);
    return rc;
}

/* After a run: EMIT FINAL's closed windows go out, windows past their retention go away. */
static int
agg_windows(aggctx *c, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    task *t = c->t;
    if (!ax->windowed || t->stream_time == INT64_MIN)
        return WR_OK;
    int rc = WR_OK;
    aggrow *r = eng_aggrow_new(ax, c->a);
    if (r == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_buf lo = WR_BUF_INIT, hi = WR_BUF_INIT, tmp = WR_BUF_INIT, rowkey = WR_BUF_INIT;
    for (int pass = 0; pass < 2 && rc == WR_OK; pass++) {
        int64_t from, to; /* window ends in [from, to) */
        if (pass == 0) {  /* closed: time windows when end + grace <= stream time; sessions
                             when end + grace < stream time */
            if (!ax->final)
                continue;
            from = t->final_upto;
            to = t->stream_time - ax->grace + (ax->win.kind == WR_WIN_SESSION ? 0 : 1);
        } else {
            from = INT64_MIN;
            to = t->stream_time - ax->retention;
        }
        if (to <= from)
            continue;
        wr_buf_reset(&lo);
        wr_buf_reset(&hi);
        wr_buf_put_u8(&lo, STORE_WIX);
        wr_key_put_i64(&lo, from);
        wr_buf_put_u8(&hi, STORE_WIX);
        wr_key_put_i64(&hi, to);
        wr_store_iter *it = wr_store_iter_open(c->e->opts.state, t->txn, t->store, lo.data, lo.len,
                                               hi.data, hi.len);
        if (it == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        /* collect first: the iterator sees the transaction, which the loop changes */
        wr_buf keys = WR_BUF_INIT;
        const uint8_t *k, *v;
        size_t kl, vl;
        while (wr_store_iter_next(it, &k, &kl, &v, &vl)) {
            wr_buf_put_uvarint(&keys, kl);
            wr_buf_append(&keys, k, kl);
        }
        rc = wr_store_iter_close(it, err);
        wr_rd kr = wr_rd_make(keys.data, keys.len);
        while (rc == WR_OK && wr_rd_left(&kr) > 0) {
            size_t n = (size_t)wr_rd_uvarint(&kr, 10);
            const uint8_t *ik = wr_rd_take(&kr, n);
            if (ik == NULL || n < 9)
                break;
            wr_buf_reset(&rowkey);
            wr_buf_append(&rowkey, ik + 9, n - 9);
            bool found;
            if ((rc = agg_get(c, &rowkey, r, &found, &tmp, err)) != WR_OK)
                break;
            if (pass == 0 && found) {
                rc = agg_emit(c, r, false, err);
            } else if (pass == 1) {
                rc = agg_del(c, &rowkey, wr_key_get_i64(ik + 1), &tmp);
            }
        }
        wr_buf_free(&keys);
        if (pass == 0)
            t->final_upto = to;
    }
    wr_buf_free(&lo);
    wr_buf_free(&hi);
    wr_buf_free(&tmp);
    wr_buf_free(&rowkey);
    return rc;
}

int
eng_run_task(wr_engine *e, wr_query *q, task *t, int64_t *records, wr_err *err)
{
    bool stateful = has_state(q);
    wr_partition *in = NULL;
    int rc;
    if (q->join != NULL) {
        if (eng_join_idle(e, q, t))
            return WR_OK;
    } else {
        rc = wr_log_partition(e->opts.db, q->in_topic ? q->in_topic : q->src->topic, t->partition,
                              &in);
        if (rc != WR_OK)
            return WR_OK; /* the source topic went away: nothing to do */
        if (t->offset < wr_log_start_offset(in))
            t->offset = wr_log_start_offset(in);
        if (t->offset >= wr_log_end_offset(in))
            return WR_OK;
    }
    if (q->is_push && (q->ended || (q->pull && t->offset >= t->end) || !q->push.ready(q->push.arg)))
        return WR_OK; /* done, or the client is not reading fast enough: later */
    int32_t parts = q->is_push ? 1 : wr_log_topic_partitions(e->opts.db, q->sink->topic);
    if (parts < 1)
        return wr_err_set(err, WR_ENOENT, "sink topic %s is missing", q->sink->topic);
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_log_read_result res;
    rc = in != NULL ? wr_log_read_committed(in, t->offset, READ_BYTES, &data, &res, err) : WR_OK;
    if (rc == WR_OK && in != NULL && data.len == 0) {
        wr_buf_free(&data); /* nothing committed past the task's position yet */
        return WR_OK;
    }
    sink_out so = {.parts = parts, .bb = calloc((size_t)parts, sizeof(wr_rbatch_builder)), .t = t};
    wr_arena *ra = wr_arena_create(0);
    if (so.bb == NULL || ra == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int32_t p = 0; so.bb != NULL && p < parts; p++)
        wr_rbatch_builder_init(&so.bb[p], WR_COMPRESSION_NONE);
    int64_t t0 = wr_clock_mono_ns();
    size_t off = 0;
    if (rc == WR_OK)
        rc = eng_task_begin(e, q, t, stateful, err);
    bool sessions = q->agg != NULL && q->agg->windowed && q->agg->win.kind == WR_WIN_SESSION;
    if (q->agg != NULL && rc == WR_OK && !sessions &&
        (t->cache = calloc(1, sizeof *t->cache)) == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    if (q->join != NULL && rc == WR_OK)
        rc = eng_join_run(e, q, t, &so, ra, records, err);
    while (q->join == NULL && rc == WR_OK && off < data.len) {
        size_t n = wr_rbatch_size(data.data + off, data.len - off);
        if (n == 0)
            break;
        rc = eng_run_batch(e, q, t, data.data + off, n, &so, ra, &scratch, records, err);
        if (q->ended)
            break;
        off += n;
        wr_arena_reset(ra);
    }
    if (q->agg != NULL && rc == WR_OK) {
        /* closed windows out, expired ones away, the input position with the state */
        aggctx c = {0};
        rc = cache_flush(t, err);
        if (rc == WR_OK && aggctx_init(&c, e, q, t, &so, ra) != WR_OK)
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        if (rc == WR_OK)
            rc = agg_windows(&c, err);
        agg_warn(&c);
        if (rc == WR_OK && !q->is_push)
            task_meta_put(t);
    }
    if (q->join != NULL && rc == WR_OK && !q->is_push)
        eng_join_store_meta(t);
    else if (q->agg == NULL && stateful && rc == WR_OK)
        task_meta_put(t); /* a table's repartition: the rows it knows, and where it is */
    if (rc == WR_OK && !q->is_push)
        rc = eng_flush_sink(e, q, &so, err);
    cache_free(t);
    rc = eng_task_end_run(e, q, t, stateful, rc, err);
    q->stats.busy_ns += wr_clock_mono_ns() - t0;
    q->stats.reads++;
    for (int32_t p = 0; so.bb != NULL && p < parts; p++)
        wr_rbatch_builder_free(&so.bb[p]);
    free(so.bb);
    wr_arena_destroy(ra);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return rc;
}

int
eng_task_reload(wr_engine *e, wr_query *q, task *t, wr_err *err)
{
    if (t->store == NULL)
        return WR_OK;
    int64_t n = 0;
    int rc = wr_store_restore(e->opts.state, t->store, &n, err);
    if (rc != WR_OK)
        return rc;
    q->stats.restored += n;
    if (q->join != NULL)
        eng_join_reload(e, q, t);
    else
        task_meta_get(e, t);
    return WR_OK;
}

/* Ends a push query: its client hears why (NULL: it is complete), then it is freed. */
void
eng_push_end(wr_engine *e, wr_query *q, const char *why)
{
    for (wr_query **pp = &e->pushes; *pp != NULL; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    q->push.done(q->push.arg, why);
    eng_drop_task_stores(e, q);
    eng_pulltab_free(q->ptab);
    eng_push_free(q);
}
