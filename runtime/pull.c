/*
 * pull.c - pull queries over tables made by CREATE TABLE ... AS SELECT, answered from the
 * writing query's state stores through snapshot iterators. See engine_int.h.
 */
#include "runtime/engine_int.h"

/* ---- pull queries over tables -----------------------------------------------------------------
 *
 * A pull query over a table made by CREATE TABLE ... AS SELECT answers from the writing query's
 * state stores: each task's store is read through an iterator (a consistent snapshot of that
 * partition's committed state), a bounded number of rows per poll, so a large scan neither blocks
 * the query that writes the table nor buffers the table in memory. A condition on the key
 * (=, IN, <, <=, >, >=, BETWEEN) narrows the scan to key ranges of the order-preserving store
 * keys; anything else (window bounds, value columns) filters the rows read.
 */

#define PULL_ROWS_PER_POLL 2000
#define PULL_MAX_RANGES    1000

typedef struct keyrange {
    wr_buf lo, hi; /* [lo, hi); empty hi: up to the end of the rows */
} keyrange;

struct pulltab {
    wr_query *writer;
    wr_scope scope; /* the table's columns, then WINDOWSTART, WINDOWEND when windowed */
    wr_cexpr *where;
    int nranges, range, task;
    keyrange *ranges;
    wr_store_iter *it;
};

void
eng_pulltab_free(struct pulltab *p)
{
    if (p == NULL)
        return;
    wr_store_iter_close(p->it, NULL);
    p->it = NULL;
    for (int i = 0; i < p->nranges; i++) {
        wr_buf_free(&p->ranges[i].lo);
        wr_buf_free(&p->ranges[i].hi);
    }
    free(p->ranges);
    p->ranges = NULL;
    p->nranges = 0;
}

/* Adds the key range of encoded key k for operator op (EQ, LT, LE, GT, GE). */
static int
add_range(struct pulltab *p, const wr_buf *k, wr_op op)
{
    if (p->nranges == PULL_MAX_RANGES)
        return WR_ERANGE;
    keyrange *nr = realloc(p->ranges, ((size_t)p->nranges + 1) * sizeof *nr);
    if (nr == NULL)
        return WR_ENOMEM;
    p->ranges = nr;
    keyrange *r = &p->ranges[p->nranges++];
    *r = (keyrange){WR_BUF_INIT, WR_BUF_INIT};
    uint8_t *end = malloc(k->len + 1);
    size_t el = end ? wr_store_prefix_end(k->data, k->len, end) : 0;
    if (op == WR_OP_GT && el > 0)
        wr_buf_append(&r->lo, end, el);
    else if (op == WR_OP_EQ || op == WR_OP_GE || op == WR_OP_GT)
        wr_buf_append(&r->lo, k->data, k->len);
    else
        wr_buf_put_u8(&r->lo, 0x01); /* from the first non-null key */
    if ((op == WR_OP_EQ || op == WR_OP_LE) && el > 0)
        wr_buf_append(&r->hi, end, el);
    else if (op == WR_OP_LT)
        wr_buf_append(&r->hi, k->data, k->len);
    free(end);
    return wr_buf_ok(&r->lo) && wr_buf_ok(&r->hi) ? WR_OK : WR_ENOMEM;
}

/* The store key of constant expression x when it has the key's type. */
static bool
const_key(const wr_cexpr *x, const wr_sql_type *kt, wr_buf *out)
{
    if (!wr_expr_constant(x) || x->type == NULL || !wr_type_equal(x->type, kt))
        return false;
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return false;
    wr_eval_ctx cx = {.arena = a};
    wr_val c;
    wr_expr_eval(x, &cx, &c);
    wr_buf_reset(out);
    if (!c.null)
        wr_key_encode(out, kt, &c);
    wr_arena_destroy(a);
    return !c.null && wr_buf_ok(out);
}

/* Finds key ranges in the conjuncts of w over key column kcol; false when none pins the key. */
static bool
plan_ranges(struct pulltab *p, const wr_cexpr *w, int kcol, const wr_sql_type *kt)
{
    if (w == NULL)
        return false;
    if (w->op == WR_C_AND)
        return plan_ranges(p, w->a, kcol, kt) || plan_ranges(p, w->b, kcol, kt);
    wr_buf k = WR_BUF_INIT;
    bool ok = false;
    if (w->op == WR_C_CMP && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol &&
        const_key(w->b, kt, &k) &&
        (w->aop == WR_OP_EQ || w->aop == WR_OP_LT || w->aop == WR_OP_LE || w->aop == WR_OP_GT ||
         w->aop == WR_OP_GE))
        ok = add_range(p, &k, w->aop) == WR_OK;
    if (w->op == WR_C_BETWEEN && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol &&
        const_key(w->b, kt, &k)) {
        wr_buf k2 = WR_BUF_INIT;
        uint8_t *end = const_key(w->c, kt, &k2) ? malloc(k2.len + 1) : NULL;
        size_t el = end ? wr_store_prefix_end(k2.data, k2.len, end) : 0;
        if (el > 0 && add_range(p, &k, WR_OP_GE) == WR_OK) {
            wr_buf_reset(&p->ranges[p->nranges - 1].hi);
            wr_buf_append(&p->ranges[p->nranges - 1].hi, end, el);
            ok = true;
        }
        free(end);
        wr_buf_free(&k2);
    }
    if (w->op == WR_C_IN && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol) {
        ok = true;
        for (int i = 0; i < w->n && ok; i++)
            ok = const_key(w->args[i], kt, &k);
        int first = p->nranges;
        for (int i = 0; i < w->n && ok; i++)
            ok = const_key(w->args[i], kt, &k) && add_range(p, &k, WR_OP_EQ) == WR_OK;
        if (!ok) /* drop a partial list */
            while (p->nranges > first) {
                p->nranges--;
                wr_buf_free(&p->ranges[p->nranges].lo);
                wr_buf_free(&p->ranges[p->nranges].hi);
            }
    }
    wr_buf_free(&k);
    return ok;
}

/* One table row from a store entry of the writer: the table's columns (the writer's outputs),
   then the window bounds, into row; false when the writer's HAVING leaves it out. */
static bool
pull_table_row(
    wr_query *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, wr_val *row, wr_arena *a)
{
    const aggexec *ax = w->agg;
    aggrow *r = eng_aggrow_new(ax, a);
    wr_val *post = wr_arena_calloc(a, (size_t)ax->npost + 1, sizeof *post);
    wr_val *ok = wr_arena_calloc(a, (size_t)w->nout + 1, sizeof *ok);
    wr_val *ov = wr_arena_calloc(a, (size_t)w->nout + 1, sizeof *ov);
    if (r == NULL || post == NULL || ok == NULL || ov == NULL ||
        !eng_agg_decode(ax, k, kl, v, vl, r, a))
        return false;
    eng_agg_post_row(ax, r, post, a);
    char warning[8] = "";
    if (!eng_agg_output(w, post, row, ok, ov, a, warning, sizeof warning))
        return false;
    if (ax->windowed) {
        row[w->nout] = wr_val_bigint(r->ws);
        row[w->nout + 1] = wr_val_bigint(r->we);
    }
    return true;
}

/* Reads up to PULL_ROWS_PER_POLL rows of a pull query over a table; ends it when done. */
void
eng_pull_table_step(wr_engine *e, wr_query *q)
{
    struct pulltab *p = q->ptab;
    wr_query *w = p->writer;
    wr_arena *a = wr_arena_create(0);
    wr_val *row = a ? wr_arena_calloc(a, (size_t)p->scope.n + 1, sizeof *row) : NULL;
    wr_val *outv = a ? wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *outv) : NULL;
    wr_buf b = WR_BUF_INIT;
    const char *fail = row && outv ? NULL : "out of memory";
    int n = 0;
    while (fail == NULL && !q->ended && n < PULL_ROWS_PER_POLL && q->push.ready(q->push.arg)) {
        if (p->it == NULL) {
            if (p->task >= w->ntasks) {
                p->task = 0;
                if (++p->range >= (p->nranges > 0 ? p->nranges : 1))
                    break;
            }
            const keyrange *r = p->nranges > 0 ? &p->ranges[p->range] : NULL;
            static const uint8_t first = 0x00, meta = STORE_META;
            p->it = wr_store_iter_open(e->opts.state, NULL, w->tasks[p->task].store,
                                       r ? r->lo.data : &first, r ? r->lo.len : 1,
                                       r && r->hi.len ? r->hi.data : &meta,
                                       r && r->hi.len ? r->hi.len : 1);
            if (p->it == NULL) {
                fail = "out of memory";
                break;
            }
        }
        const uint8_t *k, *v;
        size_t kl, vl;
        if (!wr_store_iter_next(p->it, &k, &kl, &v, &vl)) {
            wr_err ierr = {0};
            if (wr_store_iter_close(p->it, &ierr) != WR_OK)
                fail = "the table's state store cannot be read";
            p->it = NULL;
            p->task++;
            continue;
        }
        n++;
        q->stats.records_in++;
        if (!pull_table_row(w, k, kl, v, vl, row, a))
            continue;
        wr_eval_ctx cx = {.arena = a, .row = row};
        if (p->where != NULL) {
            wr_val keep;
            wr_expr_eval(p->where, &cx, &keep);
            if (keep.null || !keep.u.b)
                continue;
        }
        for (int i = 0; i < q->nout; i++)
            wr_expr_eval(q->out[i], &cx, &outv[i]);
        eng_push_row(q, outv, false, &b);
        if (n % 64 == 0) { /* the rows' values so far are sent: their memory is reused */
            wr_arena_reset(a);
            row = wr_arena_calloc(a, (size_t)p->scope.n + 1, sizeof *row);
            outv = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *outv);
            fail = row && outv ? NULL : "out of memory";
        }
    }
    bool complete = q->ended || (p->it == NULL && p->range >= (p->nranges > 0 ? p->nranges : 1));
    wr_buf_free(&b);
    wr_arena_destroy(a);
    if (fail != NULL || complete) {
        eng_pulltab_free(p);
        eng_push_end(e, q, fail);
    }
}

/* Plans a pull query over table src: a client query whose rows come from the store of the query
   that writes src. */
int
eng_pull_table_open(
    wr_engine *e, const wr_select *sel, wr_source *src, const char *sql, wr_err *err)
{
    wr_query *w = NULL;
    for (wr_query *x = e->queries; x != NULL; x = x->next)
        if (x->sink == src && x->agg != NULL)
            w = x;
    if (w == NULL)
        return eng_fail_at(err, sel->from->loc,
                           "%s is not materialized: pull queries read tables made by CREATE TABLE "
                           "... AS SELECT with GROUP BY",
                           src->name);
    if (sel->ngroup > 0 || sel->window != NULL || sel->having != NULL || sel->from->is_join)
        return eng_fail_at(err, sel->loc,
                           "pull queries do not aggregate, window or join: select from the table "
                           "with WHERE and LIMIT");
    if (e->opts.state == NULL)
        return eng_fail_at(err, sel->loc, "pull queries need state stores");
    wr_arena *a = wr_arena_create(0);
    wr_query *qr = a ? wr_arena_calloc(a, 1, sizeof *qr) : NULL;
    struct pulltab *p = qr ? wr_arena_calloc(a, 1, sizeof *p) : NULL;
    wr_col *cols = p ? wr_arena_calloc(a, (size_t)src->ncols + 3, sizeof *cols) : NULL;
    if (cols == NULL) {
        wr_arena_destroy(a);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    qr->arena = a;
    qr->src = src;
    qr->tfn_out = -1;
    qr->ptab = p;
    p->writer = w;
    const char *qual = sel->from->alias ? sel->from->alias : src->name;
    bool windowed = w->agg->windowed;
    int n = 0;
    for (int i = 0; i < src->ncols; i++)
        cols[n++] = (wr_col){src->cols[i].name, qual, src->cols[i].type};
    if (windowed) {
        cols[n++] = (wr_col){"WINDOWSTART", qual, wr_type_of(WR_T_BIGINT)};
        cols[n++] = (wr_col){"WINDOWEND", qual, wr_type_of(WR_T_BIGINT)};
    }
    p->scope = (wr_scope){n, cols};
    qr->scope = p->scope;
    wr_analyzer an = {.arena = a, .scope = &p->scope, .fns = e->opts.fns};
    int rc = WR_OK;
    if (sel->where != NULL && (rc = wr_expr_analyze(&an, sel->where, &p->where, err)) != WR_OK)
        goto fail;
    if (p->where != NULL && p->where->type && p->where->type->kind != WR_T_BOOLEAN) {
        rc = eng_fail_at(err, sel->where->loc, "WHERE needs a BOOLEAN expression");
        goto fail;
    }
    /* the select list: * is every column (the window bounds after the key, as ksqlDB) */
    int cap = sel->nitems + n + 1, nout = 0;
    wr_cexpr **out = wr_arena_calloc(a, (size_t)cap, sizeof *out);
    src_col *sc = wr_arena_calloc(a, (size_t)cap, sizeof *sc);
    if (out == NULL || sc == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < sel->nitems; i++) {
        const wr_select_item *it = &sel->items[i];
        if (it->expr->kind == WR_E_STAR) {
            int order[64], no = 0;
            for (int c = 0; c < src->ncols && no < 62; c++)
                if (eng_is_key_role(src->cols[c].role))
                    order[no++] = c;
            if (windowed) {
                order[no++] = src->ncols;
                order[no++] = src->ncols + 1;
            }
            for (int c = 0; c < src->ncols && no < 64; c++)
                if (!eng_is_key_role(src->cols[c].role))
                    order[no++] = c;
            for (int j = 0; j < no && nout < cap; j++) {
                wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                if (ce == NULL) {
                    rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                    goto fail;
                }
                *ce = (wr_cexpr){.op = WR_C_COLUMN, .col = order[j], .type = cols[order[j]].type};
                sc[nout] = (src_col){cols[order[j]].name, cols[order[j]].type, WR_COL_VALUE, NULL};
                out[nout++] = ce;
            }
            continue;
        }
        if (eng_has_aggregate(e, it->expr)) {
            rc = eng_fail_at(err, it->loc, "pull queries cannot aggregate");
            goto fail;
        }
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&an, it->expr, &ce, err)) != WR_OK)
            goto fail;
        const char *name = it->alias ? it->alias
                           : it->expr->kind == WR_E_COLUMN
                               ? it->expr->name
                               : wr_arena_printf(a, "KSQL_COL_%d", nout);
        if (nout < cap) {
            sc[nout] = (src_col){name, ce->type, WR_COL_VALUE, NULL};
            out[nout++] = ce;
        }
    }
    qr->nout = nout;
    qr->out = out;
    /* the key ranges to read: a single-column key pinned by WHERE, or the whole table */
    int kcol = -1, nkeys = 0;
    for (int i = 0; i < src->ncols; i++)
        if (eng_is_key_role(src->cols[i].role)) {
            kcol = i;
            nkeys++;
        }
    bool pinned = nkeys == 1 && w->agg->ngroup == 1 &&
                  wr_type_equal(src->cols[kcol].type, w->agg->gtypes[0]) &&
                  plan_ranges(p, p->where, kcol, src->cols[kcol].type);
    if (!pinned) {
        eng_pulltab_free(p);
        p->nranges = 0;
        if (e->opts.pull_scan_disabled) {
            rc = eng_fail_at(
                err, sel->loc,
                "this pull query does not pin the key of %s, so it would scan the whole "
                "table, and ksql.query.pull.table.scan.enabled is false: add WHERE %s = "
                "... (or IN, or a range)",
                src->name, kcol >= 0 ? src->cols[kcol].name : "the key");
            goto fail;
        }
    }
    /* the client's sink: the select list */
    wr_source *sink = eng_source_new("TRANSIENT_QUERY", false);
    if (sink == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    sink->cols = wr_arena_calloc(sink->arena, (size_t)nout + 1, sizeof *sink->cols);
    for (int i = 0; sink->cols != NULL && i < nout; i++)
        sink->cols[i] = (src_col){wr_arena_strdup(sink->arena, sc[i].name),
                                  wr_type_copy(sink->arena, sc[i].type), WR_COL_VALUE, NULL};
    sink->ncols = nout;
    sink->topic = "";
    qr->sink = sink;
    qr->sql = wr_arena_strdup(a, sql);
    qr->is_push = true;
    qr->pull = true;
    qr->limit = sel->limit;
    qr->push = *e->tsink;
    qr->id = eng_transient_id(e, qr);
    if (sink->cols == NULL || qr->id == NULL) {
        eng_source_free(sink);
        qr->sink = NULL;
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    eng_push_header(e, qr);
    wr_query **tail = &e->pushes;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    return WR_OK;
fail:
    eng_pulltab_free(p);
    wr_arena_destroy(a);
    return rc;
}

/* Ends the pull queries that read the stores of writer, which is going away. */
void
eng_pull_writer_gone(wr_engine *e, const wr_query *writer)
{
    for (wr_query *pq = e->pushes, *pn; pq != NULL; pq = pn) {
        pn = pq->next;
        if (pq->ptab != NULL && pq->ptab->writer == writer)
            eng_push_end(e, pq, "the query that writes the table was terminated");
    }
}
