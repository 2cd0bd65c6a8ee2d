/*
 * run.c - running a query's task: read a batch of the input partition, decode it into column
 * vectors, filter and project (or hand the rows to the aggregation, stateful.c), encode and
 * append the output, then commit the input offset; polling every query and push query; opening
 * push and pull queries for clients. See engine_int.h.
 */
#include "runtime/engine_int.h"

/* ---- running queries --------------------------------------------------------------------- */

int32_t
eng_partition_for(const uint8_t *key, int32_t klen, int32_t parts, int32_t dflt)
{
    if (key == NULL || klen < 0)
        return dflt % parts;
    return wr_murmur2_partition(key, (size_t)klen, parts);
}

void
eng_plog(wr_engine *e, const wr_query *q, int32_t part, int64_t offset, const char *what)
{
    int32_t parts = wr_log_topic_partitions(e->opts.db, e->plog_topic);
    if (parts < 1) {
        if (wr_log_topic_create(e->opts.db, e->plog_topic, 1, NULL, NULL) != WR_OK)
            return;
    }
    wr_partition *p;
    if (wr_log_partition(e->opts.db, e->plog_topic, 0, &p) != WR_OK)
        return;
    wr_buf v = WR_BUF_INIT;
    wr_buf_printf(&v,
                  "{\"level\":\"ERROR\",\"logger\":\"processing.%s\",\"message\":{\"type\":0,"
                  "\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"errorMessage\":\"",
                  q->id, q->src->topic, part, (long long)offset);
    for (const char *c = what; *c; c++) {
        if (*c == '"' || *c == '\\')
            wr_buf_put_u8(&v, '\\');
        if ((unsigned char)*c >= 0x20)
            wr_buf_put_u8(&v, (uint8_t)*c);
    }
    wr_buf_printf(&v, "\"}}");
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_rbatch_builder_add(&bb, wr_clock_wall_ms(), NULL, -1, v.data, (int32_t)v.len, NULL, 0);
    wr_buf out = WR_BUF_INIT;
    wr_log_append_result res;
    if (wr_rbatch_builder_finish(&bb, &out, NULL) == WR_OK)
        (void)wr_log_append(p, out.data, out.len, &res, NULL);
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
    wr_buf_free(&v);
}

static int flush_one(wr_engine *e, wr_query *q, sink_out *so, int32_t p, wr_err *err);

/* Appends one record to the sink partition its key bytes (kh: the part that is hashed) pick. */
int
eng_emit_record(wr_engine *e,
                wr_query *q,
                task *t,
                sink_out *so,
                const wr_buf *kb,
                bool knull,
                size_t kh,
                const wr_buf *vb,
                bool vnull,
                int64_t when,
                wr_err *err)
{
    int32_t op = eng_partition_for(knull ? NULL : kb->data, knull ? -1 : (int32_t)kh, so->parts,
                                   t->partition);
    wr_rbatch_builder_add(&so->bb[op], when, knull ? NULL : kb->data, knull ? -1 : (int32_t)kb->len,
                          vnull ? NULL : vb->data, vnull ? -1 : (int32_t)vb->len, NULL, 0);
    q->stats.records_out++;
    /* output batches stay well under the topic's max.message.bytes (1 MiB by default) */
    if (wr_rbatch_builder_size(&so->bb[op]) >= OUT_BATCH_BYTES)
        return flush_one(e, q, so, op, err);
    return WR_OK;
}

/* Encodes one output row (gone: a tombstone for its key) and adds it to the builder of the sink
   partition its key picks. */
static int
emit_row(wr_engine *e,
         wr_query *q,
         task *t,
         sink_out *so,
         const wr_fmt *okf,
         const wr_fmt *ovf,
         const wr_val *ok,
         const wr_val *ov,
         bool gone,
         const int64_t *win,
         int64_t when,
         int64_t first_offset,
         wr_buf *kb,
         wr_buf *vb,
         wr_err *err)
{
    if (q->sink->ts_col >= 0 && !gone) {
        /* TIMESTAMP='col' of the sink: the value of that column */
        int vi = 0, ki = 0;
        for (int i = 0; i < q->nout; i++) {
            bool key = eng_is_key_role(q->sink->cols[i].role);
            const wr_val *x = key ? &ok[ki] : &ov[vi];
            if (i == q->sink->ts_col && !x->null)
                when = x->u.i64;
            key ? ki++ : vi++;
        }
    }
    wr_buf_reset(kb);
    wr_buf_reset(vb);
    bool knull = false, vnull = gone;
    wr_err eerr = {0};
    if (wr_fmt_encode(okf, ok, kb, &knull, &eerr) != WR_OK ||
        (!gone && wr_fmt_encode(ovf, ov, vb, &vnull, &eerr) != WR_OK)) {
        q->stats.eval_errors++;
        eng_plog(e, q, t->partition, first_offset, eerr.msg);
        return WR_OK;
    }
    size_t kh = kb->len;
    if (win != NULL && !knull) /* a windowed sink: the window after the key, as the source's */
        wr_window_key_put(kb, q->sink->window_kind == WR_WIN_SESSION, win[0], win[1]);
    return eng_emit_record(e, q, t, so, kb, knull, kh, vb, vnull, when, err);
}

/* A row of a push query to its client: a JSON array of the columns (gone: a table's row was
   deleted; the value columns are left out as nulls). */
void
eng_push_row(wr_query *q, const wr_val *vals, bool gone, wr_buf *b)
{
    if (gone && q->push.tombstone == NULL)
        return;
    wr_buf_reset(b);
    wr_buf_put_u8(b, '[');
    for (int i = 0; i < q->nout; i++) {
        if (i)
            wr_buf_put_u8(b, ',');
        if (gone && !eng_is_key_role(q->sink->cols[i].role))
            wr_buf_append(b, "null", 4);
        else
            wr_json_write_value(b, &vals[i], true);
    }
    wr_buf_put_u8(b, ']');
    if (!wr_buf_ok(b))
        return;
    (gone ? q->push.tombstone : q->push.row)(q->push.arg, (const char *)b->data, b->len);
    q->stats.records_out++;
    if (q->limit >= 0 && ++q->emitted >= q->limit)
        q->ended = true;
}

/* Row r of b: the decoded key and value columns (kv, vv), the record's headers. */
static void
put_row(const wr_source *s,
        wr_batch *b,
        int32_t r,
        const wr_val *kv,
        const wr_val *vv,
        const wr_record *rec,
        wr_arena *ra)
{
    for (int i = 0, ki = 0, vi = 0; i < s->ncols; i++)
        if (!eng_is_header_role(s->cols[i].role))
            wr_vec_set(&b->cols[i], r, eng_is_key_role(s->cols[i].role) ? &kv[ki++] : &vv[vi++]);
    eng_fill_headers(s, b, r, rec, ra);
}

/* Row r's pseudo columns; win: a windowed source's window of the row's key (start, end). */
static void
put_pseudo(const wr_source *s,
           wr_batch *b,
           int32_t r,
           int64_t when,
           int32_t part,
           int64_t offset,
           const int64_t *win)
{
    wr_val pv[NPSEUDO + 2] = {wr_val_bigint(when), wr_val_int(part), wr_val_bigint(offset),
                              wr_val_bigint(win[0]), wr_val_bigint(win[1])};
    int n = NPSEUDO + (s->window_kind >= 0 ? 2 : 0);
    for (int i = 0; i < n; i++)
        wr_vec_set(&b->cols[s->ncols + i], r, &pv[i]);
}

/* The event time of a row of source s whose TIMESTAMP column (if s has one) holds *tv: the
   column's time, or rowtime when there is none or it is null. False when the column cannot be
   parsed with TIMESTAMP_FORMAT: why goes into msg (as ksqlDB, the record is then skipped). */
bool
eng_event_time(
    const wr_source *s, const wr_val *tv, int64_t rowtime, int64_t *when, char *msg, size_t cap)
{
    *when = rowtime;
    if (s->ts_col < 0 || tv->null)
        return true;
    if (s->ts_format == NULL) {
        *when = tv->u.i64;
        return true;
    }
    char text[128];
    snprintf(text, sizeof text, "%.*s", (int)tv->u.s.len, tv->u.s.p);
    if (wr_time_parse(text, s->ts_format, NULL, when))
        return true;
    snprintf(msg, cap, "failed to extract the timestamp from '%s' with TIMESTAMP_FORMAT '%s'", text,
             s->ts_format);
    return false;
}

/* The event time of row r of b (its record rec); false (described in the processing log) when
   it cannot be read. */
static bool
row_time(
    wr_engine *e, wr_query *q, task *t, wr_batch *b, int32_t r, const wr_record *rec, int64_t *when)
{
    const wr_source *s = q->src;
    wr_val tv = s->ts_col >= 0 ? wr_vec_get(&b->cols[s->ts_col], r) : wr_val_null(NULL);
    char m[300];
    if (eng_event_time(s, &tv, rec->timestamp, when, m, sizeof m))
        return true;
    q->stats.decode_errors++;
    eng_plog(e, q, t->partition, rec->offset, m);
    return false;
}

/* A table aggregation's memory of its source: the value bytes the record's key had (into old,
 *found), replaced by the record's (or deleted, for a tombstone), in the task's transaction. */
static int
table_swap(wr_engine *e, task *t, const wr_record *rec, wr_buf *old, bool *found, wr_err *err)
{
    wr_buf k = WR_BUF_INIT;
    wr_buf_put_u8(&k, STORE_SRC);
    wr_buf_append(&k, rec->key, rec->key_len > 0 ? (size_t)rec->key_len : 0);
    int rc = wr_buf_ok(&k) ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
    if (rc == WR_OK)
        rc = wr_store_get(e->opts.state, t->txn, t->store, k.data, k.len, old, found, err);
    if (rc == WR_OK && rec->value_len >= 0)
        rc = wr_store_put(t->txn, t->store, k.data, k.len, rec->value, (size_t)rec->value_len);
    else if (rc == WR_OK && *found)
        rc = wr_store_delete(t->txn, t->store, k.data, k.len);
    if (rc != WR_OK && err->code == WR_OK)
        wr_err_set(err, rc, "store %s: out of memory", wr_store_name(t->store));
    wr_buf_free(&k);
    return rc;
}

/* Appends ts and the columns [lo, hi) of v (a row over sc) to b, in the value codec. */
void
eng_row_encode(wr_buf *b, const wr_scope *sc, const wr_val *v, int64_t ts, int lo, int hi)
{
    wr_buf_reset(b);
    wr_buf_put_varint(b, ts);
    for (int c = lo; c < hi; c++)
        wr_val_encode(b, sc->cols[c].type, &v[c]);
}

/* Decodes columns [lo, hi) of a row over sc into v (strings in a) and its time into *ts (unless
   NULL); false on malformed bytes. */
bool
eng_row_decode(const wr_scope *sc,
               wr_arena *a,
               const uint8_t *p,
               size_t n,
               wr_val *v,
               int64_t *ts,
               int lo,
               int hi)
{
    wr_rd rd = wr_rd_make(p, n);
    int64_t t = wr_rd_varint(&rd, 10);
    for (int c = lo; c < hi && rd.err == WR_OK; c++)
        wr_val_decode(&rd, sc->cols[c].type, &v[c], a);
    if (ts != NULL)
        *ts = t;
    return rd.err == WR_OK;
}

static bool
take_header(wr_record *rec, const char *name, wr_rheader *h)
{
    wr_rd rd = wr_rd_make(rec->headers, rec->headers_len);
    size_t nl = strlen(name);
    if (rec->header_count < 1 || wr_record_header_next(&rd, h) != 1 || h->key_len != (int32_t)nl ||
        memcmp(h->key, name, nl) != 0)
        return false;
    size_t used = rec->headers_len - (size_t)(rd.end - rd.p);
    rec->headers += used;
    rec->headers_len -= used;
    rec->header_count--;
    return true;
}

/* A record read from a repartition topic: its source key back from the first header, which
   the repartition query put there (wr_record's key then points into the header). True when
   the record is a table's row taken out of this key (its next header is weir.undo). */
bool
eng_rekeyed_key(wr_record *rec)
{
    wr_rheader h;
    rec->key = NULL;
    rec->key_len = -1;
    if (take_header(rec, REKEY_HEADER, &h)) {
        rec->key = h.value;
        rec->key_len = h.value_len;
    } /* else the source key was null */
    return take_header(rec, UNDO_HEADER, &h);
}

/* One record to partition op of a repartition topic, unchanged, under its new key kb: the
   source key goes first in the headers (weir.key), then weir.undo for a table's row taken out. */
static int
rekey_record(sink_out *so,
             int32_t op,
             const wr_record *rec,
             int64_t ts,
             bool undo,
             const wr_buf *kb,
             wr_arena *ra,
             wr_err *err)
{
    wr_rheader *hs = wr_arena_calloc(ra, (size_t)rec->header_count + 3, sizeof *hs);
    if (hs == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int32_t nh = 0;
    if (rec->key_len >= 0)
        hs[nh++] = (wr_rheader){(const uint8_t *)REKEY_HEADER, (int32_t)strlen(REKEY_HEADER),
                                rec->key, rec->key_len};
    if (undo)
        hs[nh++] = (wr_rheader){(const uint8_t *)UNDO_HEADER, (int32_t)strlen(UNDO_HEADER),
                                (const uint8_t *)"", 0};
    int32_t base = nh;
    wr_rd rd = wr_rd_make(rec->headers, rec->headers_len);
    while (nh < base + rec->header_count && wr_record_header_next(&rd, &hs[nh]) == 1)
        nh++;
    wr_rbatch_builder_add(&so->bb[op], ts, kb->data, (int32_t)kb->len, rec->value, rec->value_len,
                          hs, nh);
    return WR_OK;
}

/* A repartition query's batch: each record goes unchanged (value, headers, its event time as
   timestamp) to the partition of the repartition topic that murmur2 of its new key picks; the
   new key is the record's key there, and the source key travels in the first header. Records
   whose new key is null are dropped (as Kafka Streams drops them before a repartition). A join
   feeding a GROUP BY (recs NULL) sends the selected rows of b instead, each in the value codec
   over its scope. */
static int
rekey_batch(wr_engine *e,
            wr_query *q,
            task *t,
            sink_out *so,
            wr_arena *ra,
            wr_batch *b,
            const int64_t *ts,
            const wr_record *recs,
            const int8_t *sign,
            wr_err *err)
{
    if (recs != NULL)
        wr_batch_select_all(b);
    wr_eval_ctx cx = {.arena = ra};
    wr_vec *kv = wr_arena_calloc(ra, (size_t)q->nrekey, sizeof *kv);
    wr_val *k = wr_arena_calloc(ra, (size_t)q->nrekey, sizeof *k);
    wr_val *row = recs == NULL ? wr_arena_calloc(ra, (size_t)q->scope.n + 1, sizeof *row) : NULL;
    if (kv == NULL || k == NULL || (recs == NULL && row == NULL))
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    for (int i = 0; i < q->nrekey && b->nsel > 0; i++)
        if ((rc = wr_expr_eval_batch(q->out[i], b, &cx, &kv[i])) != WR_OK)
            return wr_err_set(err, rc, "out of memory");
    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT;
    for (int32_t j = 0; j < b->nsel && rc == WR_OK; j++) {
        int32_t r = b->sel[j];
        bool knull = false;
        for (int i = 0; i < q->nrekey; i++) {
            k[i] = wr_vec_get(&kv[i], r);
            knull |= k[i].null;
        }
        wr_err eerr = {0};
        wr_buf_reset(&kb);
        if (!knull && wr_fmt_encode(&q->rekey_fmt, k, &kb, &knull, &eerr) != WR_OK) {
            q->stats.eval_errors++;
            eng_plog(e, q, t->partition, recs ? recs[r].offset : -1, eerr.msg);
            continue;
        }
        if (knull) {
            q->stats.null_keys++;
            continue;
        }
        int32_t op = wr_murmur2_partition(kb.data, kb.len, so->parts);
        if (recs == NULL) {
            for (int c = 0; c < q->scope.n; c++)
                row[c] = wr_vec_get(&b->cols[c], r);
            eng_row_encode(&vb, &q->scope, row, ts[r], 0, q->scope.n);
            wr_rbatch_builder_add(&so->bb[op], ts[r], kb.data, (int32_t)kb.len, vb.data,
                                  (int32_t)vb.len, NULL, 0);
        } else {
            rc = rekey_record(so, op, &recs[r], ts[r], sign && sign[r] < 0, &kb, ra, err);
            if (rc != WR_OK)
                break;
        }
        q->stats.records_out++;
        if (wr_rbatch_builder_size(&so->bb[op]) >= OUT_BATCH_BYTES)
            rc = flush_one(e, q, so, op, err);
    }
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    return rc;
}

/* A batch of the rows a join wrote for q to aggregate (q->rows_in): each record's value is the
   row over q->scope in the value codec, with its event time. */
static int
rows_batch(wr_engine *e,
           wr_query *q,
           task *t,
           wr_rbatch_iter *it,
           sink_out *so,
           wr_arena *ra,
           int64_t *consumed,
           wr_err *err)
{
    int32_t cap = it->remaining > 0 ? it->remaining : 1;
    wr_batch b;
    int64_t *ts = wr_arena_alloc(ra, (size_t)cap * sizeof *ts);
    wr_val *row = wr_arena_calloc(ra, (size_t)q->scope.n + 1, sizeof *row);
    if (wr_batch_init(&b, &q->scope, cap, ra) != WR_OK || ts == NULL || row == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int64_t first_offset = -1;
    wr_record rec;
    int rc = WR_OK;
    while (b.n < cap && (rc = wr_rbatch_iter_next(it, &rec, err)) == 1) {
        if (rec.offset < t->offset)
            continue;
        t->offset = rec.offset + 1;
        (*consumed)++;
        q->stats.records_in++;
        int32_t r = b.n;
        if (rec.value_len < 0 || !eng_row_decode(&q->scope, ra, rec.value, (size_t)rec.value_len,
                                                 row, &ts[r], 0, q->scope.n)) {
            q->stats.decode_errors++;
            eng_plog(e, q, t->partition, rec.offset, "a malformed row in the repartition topic");
            continue;
        }
        for (int c = 0; c < q->scope.n; c++)
            wr_vec_set(&b.cols[c], r, &row[c]);
        b.n++;
        if (first_offset < 0)
            first_offset = rec.offset;
    }
    if (rc < 0)
        return rc;
    int64_t batch_end = it->hdr.base_offset + it->hdr.last_offset_delta + 1;
    if (it->remaining == 0 && batch_end > t->offset)
        t->offset = batch_end;
    return eng_batch_out(e, q, t, so, ra, &b, ts, NULL, NULL, first_offset, err);
}

/* Processes one input record batch of task t as one column-vector batch: decode every record
   into the columns, filter, project a vector at a time, then encode the surviving rows into
   so's builders.

   Over a table a record is an upsert of its key, a null value (a tombstone) its delete. A
   stateless query passes both on: rows that are deleted or fail the filter become tombstones.
   An aggregation needs the key's previous row to take it back out (undo): the task's store
   remembers each key's value bytes (STORE_SRC), and the batch gets the previous row (sign -1)
   right before the new one (sign +1). */
int
eng_run_batch(wr_engine *e,
              wr_query *q,
              task *t,
              const uint8_t *data,
              size_t len,
              sink_out *so,
              wr_arena *ra,
              wr_buf *scratch,
              int64_t *consumed,
              wr_err *err)
{
    wr_rbatch_iter it;
    int rc = wr_rbatch_iter_init(&it, data, len, scratch, MAX_DECOMPRESSED, err);
    if (rc != WR_OK)
        return rc;
    if (q->rows_in)
        return rows_batch(e, q, t, &it, so, ra, consumed, err);
    wr_fmt kf, vf;
    if (eng_make_fmt(ra, q->src, true, &kf) != WR_OK ||
        eng_make_fmt(ra, q->src, false, &vf) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    vf.needed = q->val_needed; /* the decoder skips the value columns nothing reads */
    const wr_source *s = q->src;
    /* a table's GROUP BY, and its repartition, take each key's previous row back out */
    bool table = s->is_table, undo = table && (q->agg != NULL || q->nrekey > 0);
    int32_t cap = (it.remaining > 0 ? it.remaining : 1) * (undo ? 2 : 1);
    wr_batch b;
    int64_t *ts = wr_arena_alloc(ra, (size_t)cap * sizeof *ts);
    int8_t *sign = undo ? wr_arena_calloc(ra, (size_t)cap, sizeof *sign) : NULL;
    bool *gone = table && !undo ? wr_arena_calloc(ra, (size_t)cap, sizeof *gone) : NULL;
    wr_val *kv = wr_arena_calloc(ra, (size_t)kf.ncols + 1, sizeof *kv);
    wr_val *vv = wr_arena_calloc(ra, (size_t)vf.ncols + 1, sizeof *vv);
    wr_val *pv = wr_arena_calloc(ra, (size_t)vf.ncols + 1, sizeof *pv);
    wr_record *recs = q->nrekey > 0 ? wr_arena_alloc(ra, (size_t)cap * sizeof *recs) : NULL;
    if (wr_batch_init(&b, &q->scope, cap, ra) != WR_OK || ts == NULL || kv == NULL || vv == NULL ||
        pv == NULL || (undo && sign == NULL) || (table && !undo && gone == NULL) ||
        (q->nrekey > 0 && recs == NULL))
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int64_t first_offset = -1;
    wr_record rec;
    wr_buf old = WR_BUF_INIT;
    bool stopped = false;
    while (b.n < cap && (rc = wr_rbatch_iter_next(&it, &rec, err)) == 1) {
        if (rec.offset < t->offset)
            continue; /* a batch read from its start: skip what was done */
        if (q->pull && rec.offset >= t->end) {
            stopped = true;
            break; /* a pull query sees what was there when it started */
        }
        t->offset = rec.offset + 1;
        (*consumed)++;
        q->stats.records_in++;
        wr_err derr = {0};
        int64_t win[2] = {0, 0};
        bool taken_out = q->rekeyed && eng_rekeyed_key(&rec);
        if (s->window_kind >= 0 && rec.key_len >= 0 &&
            !wr_window_key_get(rec.key, &rec.key_len, s->window_kind == WR_WIN_SESSION,
                               s->window_size, &win[0], &win[1])) {
            q->stats.decode_errors++;
            eng_plog(e, q, t->partition, rec.offset,
                     "the key is too short for a windowed key (the key, then its window)");
            continue;
        }
        if (wr_fmt_decode(&kf, rec.key, rec.key_len > 0 ? (size_t)rec.key_len : 0, rec.key_len < 0,
                          kv, ra, &derr) != WR_OK ||
            wr_fmt_decode(&vf, rec.value, rec.value_len > 0 ? (size_t)rec.value_len : 0,
                          rec.value_len < 0, vv, ra, &derr) != WR_OK) {
            q->stats.decode_errors++;
            eng_plog(e, q, t->partition, rec.offset, derr.msg);
            continue;
        }
        if (rec.value_len < 0 && !table)
            continue;                   /* a tombstone: streams ignore them */
        if (table && rec.key_len < 0) { /* as Kafka Streams: a table's row needs a key */
            q->stats.null_keys++;
            eng_plog(e, q, t->partition, rec.offset, "a table's record with a null key is dropped");
            continue;
        }
        int32_t r = b.n++;
        int64_t when;
        put_row(s, &b, r, kv, vv, &rec, ra);
        if (!row_time(e, q, t, &b, r, &rec, &when)) {
            b.n--;
            continue;
        }
        put_pseudo(s, &b, r, when, t->partition, rec.offset, win);
        ts[r] = when;
        if (recs != NULL)
            recs[r] = rec;
        if (first_offset < 0)
            first_offset = rec.offset;
        if (gone != NULL)
            gone[r] = rec.value_len < 0;
        if (!undo)
            continue;
        if (q->rekeyed) { /* its repartition query knew the previous row */
            sign[r] = taken_out ? -1 : 1;
            continue;
        }
        bool found = false;
        if ((rc = table_swap(e, t, &rec, &old, &found, err)) != WR_OK)
            break;
        int32_t nr = rec.value_len >= 0 ? r : -1; /* the new row, if any */
        uint8_t *ob = found ? wr_arena_alloc(ra, old.len + 1) : NULL;
        if (ob != NULL) {
            memcpy(ob, old.data, old.len);
            if (wr_fmt_decode(&vf, ob, old.len, false, pv, ra, &derr) != WR_OK) {
                q->stats.decode_errors++;
                eng_plog(e, q, t->partition, rec.offset, derr.msg);
                ob = NULL;
            }
        }
        if (ob != NULL) { /* the previous row goes first: it is taken out, then the new added */
            if (nr >= 0) {
                nr = b.n++;
                for (int c = 0; c < q->scope.n; c++) {
                    wr_val x = wr_vec_get(&b.cols[c], r);
                    wr_vec_set(&b.cols[c], nr, &x);
                }
                ts[nr] = when;
            }
            put_row(s, &b, r, kv, pv, &rec, ra);
            put_pseudo(s, &b, r, when, t->partition, rec.offset, win);
            sign[r] = -1;
            if (recs != NULL) { /* a repartition sends the previous row's bytes */
                if (nr >= 0)
                    recs[nr] = rec;
                recs[r].value = ob;
                recs[r].value_len = (int32_t)old.len;
            }
        } else if (nr < 0) {
            b.n--; /* a delete of a key the table does not have */
        }
        if (nr >= 0)
            sign[nr] = 1;
    }
    wr_buf_free(&old);
    if (rc < 0)
        return rc;
    /* a compacted batch's last offsets may be gone: the task still moves past them */
    int64_t batch_end = it.hdr.base_offset + it.hdr.last_offset_delta + 1;
    if (!stopped && it.remaining == 0 && batch_end > t->offset)
        t->offset = batch_end;
    if (q->nrekey > 0)
        return rekey_batch(e, q, t, so, ra, &b, ts, recs, sign, err);
    return eng_batch_out(e, q, t, so, ra, &b, ts, sign, gone, first_offset, err);
}

/* The input offset of row r of b: its ROWOFFSET when the batch holds the source's columns, else
   the batch's first. */
static int64_t
row_offset(const wr_query *q, const wr_batch *b, int32_t r, int64_t first_offset)
{
    int col = q->src->ncols + 2; /* ROWTIME, ROWPARTITION, ROWOFFSET follow the columns */
    if (q->join != NULL || q->rows_in || col >= b->ncols)
        return first_offset;
    wr_val v = wr_vec_get(&b->cols[col], r);
    return v.null ? first_offset : v.u.i64;
}

/* A processing-log record for each row a function reported an error for. */
static void
plog_rows(wr_engine *e,
          wr_query *q,
          task *t,
          const wr_batch *b,
          const wr_fn_errs *fe,
          int64_t first_offset)
{
    for (int32_t i = 0; i < fe->n; i++) {
        q->stats.eval_errors++;
        eng_plog(e, q, t->partition, row_offset(q, b, fe->rows[i], first_offset), fe->msgs[i]);
    }
}

/* The rows of b (event times ts; a table's: gone, deleted; an aggregation's over a table: sign)
   through the query's filter, then its aggregation, or its projection and sink. */
int
eng_batch_out(wr_engine *e,
              wr_query *q,
              task *t,
              sink_out *so,
              wr_arena *ra,
              wr_batch *b_,
              const int64_t *ts,
              const int8_t *sign,
              const bool *gone,
              int64_t first_offset,
              wr_err *err)
{
    wr_batch b = *b_;
    const wr_source *s = q->src;
    int rc = WR_OK;
    wr_fmt okf, ovf;
    if (eng_make_fmt(ra, q->sink, true, &okf) != WR_OK ||
        eng_make_fmt(ra, q->sink, false, &ovf) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_val *ok = wr_arena_calloc(ra, (size_t)okf.ncols + 1, sizeof *ok);
    wr_val *ov = wr_arena_calloc(ra, (size_t)ovf.ncols + 1, sizeof *ov);
    wr_val *allv = wr_arena_calloc(ra, (size_t)q->nout + 1, sizeof *allv);
    wr_vec *outv = wr_arena_calloc(ra, (size_t)q->nout + 1, sizeof *outv);
    if (ok == NULL || ov == NULL || outv == NULL || allv == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_batch_select_all(&b);
    wr_eval_ctx cx = {.arena = ra};
    wr_fn_errs fe = {0, b.n, wr_arena_alloc(ra, ((size_t)b.n + 1) * sizeof *fe.rows),
                     wr_arena_alloc(ra, ((size_t)b.n + 1) * sizeof *fe.msgs)};
    if (fe.rows != NULL && fe.msgs != NULL)
        cx.errs = &fe; /* a UDF's error for a row: that row's processing-log record */
    if (q->where != NULL && b.nsel > 0 && (rc = wr_expr_filter_batch(q->where, &b, &cx)) != WR_OK)
        return wr_err_set(err, rc, "out of memory");
    plog_rows(e, q, t, &b, &fe, first_offset); /* the filter's */
    fe.n = 0;
    if (q->agg != NULL)
        return eng_agg_run_batch(e, q, t, so, ra, first_offset, cx.warning, &b, ts, sign, err);
    if (q->nrekey > 0) /* a join feeding a GROUP BY */
        return rekey_batch(e, q, t, so, ra, &b, ts, NULL, NULL, err);
    bool *keep = NULL; /* a table's rows: kept, or gone (deleted, or filtered out) */
    if (gone != NULL && b.n > 0) {
        if ((keep = wr_arena_calloc(ra, (size_t)b.n, sizeof *keep)) == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        for (int32_t k = 0; k < b.nsel; k++)
            keep[b.sel[k]] = !gone[b.sel[k]];
        wr_batch_select_all(&b);
    }
    for (int i = 0; i < q->nout && b.nsel > 0; i++)
        if ((rc = wr_expr_eval_batch(q->out[i], &b, &cx, &outv[i])) != WR_OK)
            return wr_err_set(err, rc, "out of memory");
    plog_rows(e, q, t, &b, &fe, first_offset);
    if (cx.warning[0]) {
        /* per-row problems (a division by zero, a failed CAST) left those values null */
        q->stats.eval_errors++;
        char m[300];
        snprintf(m, sizeof m, "%s (first problem in the batch from offset %lld)", cx.warning,
                 (long long)first_offset);
        eng_plog(e, q, t->partition, first_offset, m);
    }
    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT;
    bool sink_win = !q->is_push && q->sink->window_kind >= 0 && s->window_kind >= 0;
    int ecap = 64;
    wr_val *elems = q->tfn ? wr_arena_alloc(ra, (size_t)ecap * sizeof *elems) : NULL;
    for (int32_t k = 0; k < b.nsel && rc == WR_OK && !q->ended; k++) {
        int32_t r = b.sel[k];
        bool drop = keep != NULL && !keep[r];
        int64_t win[2] = {0, 0};
        if (sink_win) { /* the row's window, from its source key */
            win[0] = wr_vec_get(&b.cols[s->ncols + NPSEUDO], r).u.i64;
            win[1] = wr_vec_get(&b.cols[s->ncols + NPSEUDO + 1], r).u.i64;
        }
        /* a table function makes 0..n rows of this one */
        int nrows = 1;
        if (q->tfn != NULL) {
            wr_val arr = wr_vec_get(&outv[q->tfn_out], r);
            wr_fn_ctx fc = *q->tfn_call;
            fc.arena = ra;
            fc.ret = q->sink->cols[q->tfn_out].type;
            const wr_val *targs = &arr; /* several arguments come as a STRUCT of them */
            if (fc.nargs > 1)
                targs = arr.null ? NULL : arr.u.st.f;
            if (targs == NULL)
                continue;
            q->tfn->table(&fc, targs, fc.nargs, elems, ecap, &nrows);
            if (nrows > ecap) {
                ecap = nrows;
                elems = wr_arena_alloc(ra, (size_t)ecap * sizeof *elems);
                if (elems == NULL) {
                    rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                    break;
                }
                q->tfn->table(&fc, targs, fc.nargs, elems, ecap, &nrows);
            }
        }
        for (int er = 0; er < nrows && rc == WR_OK && !q->ended; er++) {
            for (int i = 0, ki = 0, vi = 0; i < q->nout; i++) {
                wr_val x = i == q->tfn_out ? elems[er] : wr_vec_get(&outv[i], r);
                allv[i] = x;
                if (eng_is_key_role(q->sink->cols[i].role))
                    ok[ki++] = x;
                else
                    ov[vi++] = x;
            }
            if (q->is_push)
                eng_push_row(q, allv, drop, &vb);
            else
                rc = emit_row(e, q, t, so, &okf, &ovf, ok, ov, drop, sink_win ? win : NULL, ts[r],
                              first_offset, &kb, &vb, err);
        }
    }
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    return rc;
}

/* Appends partition p's pending output as one batch. */
static int
flush_one(wr_engine *e, wr_query *q, sink_out *so, int32_t p, wr_err *err)
{
    if (so->bb[p].count == 0)
        return WR_OK;
    wr_buf out = WR_BUF_INIT;
    int rc = wr_rbatch_builder_finish(&so->bb[p], &out, err);
    if (rc == WR_OK)
        rc = eng_task_append(e, q, so->t, q->sink->topic, p, &out, err);
    wr_buf_free(&out);
    return rc;
}

int
eng_flush_sink(wr_engine *e, wr_query *q, sink_out *so, wr_err *err)
{
    for (int32_t p = 0; p < so->parts; p++) {
        int rc = flush_one(e, q, so, p, err);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

static void
poll_pushes(wr_engine *e, int64_t *records)
{
    for (wr_query *q = e->pushes, *next; q != NULL; q = next) {
        next = q->next;
        if (q->ptab != NULL) {
            eng_pull_table_step(e, q);
            continue;
        }
        wr_err perr = {0};
        int rc = WR_OK;
        for (int i = 0; i < q->ntasks && rc == WR_OK && !q->ended; i++)
            rc = eng_run_task(e, q, &q->tasks[i], records, &perr);
        if (rc != WR_OK) {
            eng_push_end(e, q, perr.msg);
            continue;
        }
        bool complete = q->ended;
        if (q->pull && !complete) {
            complete = true;
            for (int i = 0; i < q->ntasks; i++)
                if (q->tasks[i].offset < q->tasks[i].end)
                    complete = false;
        }
        if (complete)
            eng_push_end(e, q, NULL);
    }
}

/* Runs every task of q, after the queries that feed its repartition topics. */
static int
run_query(wr_engine *e, wr_query *q, int64_t *records, wr_err *err)
{
    for (int r = 0; r < q->nreparts; r++) {
        int rc = run_query(e, q->reparts[r], records, err);
        if (rc != WR_OK)
            return rc;
    }
    for (int i = 0; i < q->ntasks; i++) {
        int rc = eng_run_task(e, q, &q->tasks[i], records, err);
        if (rc == WR_OK)
            rc = eng_task_tick(e, q, &q->tasks[i], false, err);
        if (rc != WR_OK) {
            wr_err_prefix(err, "query %s", q->id);
            return rc;
        }
    }
    return WR_OK;
}

int
wr_engine_poll(wr_engine *e, int64_t *records, wr_err *err)
{
    *records = 0;
    for (wr_query *q = e->queries; q != NULL; q = q->next) {
        int rc = run_query(e, q, records, err);
        if (rc != WR_OK)
            return rc;
    }
    poll_pushes(e, records);
    return WR_OK;
}

int
wr_engine_push_open(wr_engine *e,
                    wr_session *ss,
                    const char *text,
                    size_t len,
                    const wr_push_sink *sink,
                    wr_push_info *info,
                    wr_err *err)
{
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_session local = {0};
    if (ss == NULL)
        ss = &local;
    int rc = WR_OK;
    if (memmem(text, len, "${", 2) != NULL) {
        char *sub;
        size_t sublen;
        if ((rc = wr_sql_substitute(a, text, len, eng_session_var, ss, &sub, &sublen, err)) !=
            WR_OK)
            goto done;
        text = sub;
        len = sublen;
    }
    wr_script *sc = NULL;
    if ((rc = wr_sql_parse(a, text, len, &sc, err)) != WR_OK)
        goto done;
    if (sc->n != 1) {
        rc = wr_err_set(err, WR_EINVAL, "expected exactly one SELECT statement, got %d statements",
                        sc->n);
        goto done;
    }
    if (sc->stmts[0]->kind != WR_S_QUERY) {
        rc = wr_err_set(err, WR_EINVAL, "expected a SELECT statement");
        goto done;
    }
    const wr_stmt *q = sc->stmts[0];
    const wr_select *sel = q->select;
    if (sel->emit == WR_EMIT_FINAL) {
        rc = eng_fail_at(err, sel->loc, "EMIT FINAL is only supported on windowed aggregations");
        goto done;
    }
    wr_source *from = sel->from->is_join ? NULL : eng_source_find(e, sel->from->name);
    if (from != NULL && from->is_table && sel->emit == WR_EMIT_NONE) {
        char *psql = wr_arena_strndup(a, text + q->text_off, q->text_len);
        e->tsink = sink;
        e->tinfo = info;
        rc = eng_pull_table_open(e, sel, from, psql ? psql : "", err);
        e->tsink = NULL;
        e->tinfo = NULL;
        goto done;
    }
    wr_stmt t = *q;
    t.kind = WR_S_CREATE_AS;
    t.is_table = sel->ngroup > 0 || sel->window != NULL || sel->having != NULL ||
                 (from != NULL && from->is_table);
    t.name = "TRANSIENT_QUERY";
    t.name_loc = sel->loc;
    t.nprops = 0;
    char *sql = wr_arena_strndup(a, text + q->text_off, q->text_len);
    e->transient = true;
    e->tsink = sink;
    e->tinfo = info;
    rc = eng_exec_query_into(e, ss, &t, sql ? sql : "", NULL, err);
    e->transient = false;
    e->tsink = NULL;
    e->tinfo = NULL;
done:
    if (ss == &local) {
        wr_props_free(&local.vars);
        wr_props_free(&local.props);
    }
    wr_arena_destroy(a);
    return rc;
}

int
wr_engine_push_close(wr_engine *e, const char *query_id)
{
    for (wr_query **pp = &e->pushes; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->id, query_id) == 0) {
            wr_query *q = *pp;
            *pp = q->next;
            eng_push_free(q);
            return WR_OK;
        }
    return WR_ENOENT;
}

int
wr_engine_query_stats(wr_engine *e, const char *id, wr_query_stats *out)
{
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        if (strcmp(q->id, id) == 0) {
            *out = q->stats;
            return WR_OK;
        }
    return WR_ENOENT;
}
