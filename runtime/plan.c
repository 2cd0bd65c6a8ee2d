/*
 * plan.c - planning CREATE STREAM/TABLE ... AS SELECT, INSERT INTO ... SELECT and push queries:
 * the source's scope, the filter, the projections or the aggregation (GROUP BY, windows,
 * HAVING), the sink's schema and topic, and the query's tasks. See engine_int.h.
 */
#include "runtime/engine_int.h"

/* ---- CSAS and INSERT INTO ... SELECT ----------------------------------------------------- */

int
eng_source_scope(wr_arena *a, const wr_source *s, const char *alias, wr_scope *sc)
{
    wr_col *c = wr_arena_calloc(a, (size_t)s->ncols + NPSEUDO + 2, sizeof *c);
    if (c == NULL)
        return WR_ENOMEM;
    const char *q = alias ? alias : s->name;
    for (int i = 0; i < s->ncols; i++)
        c[i] = (wr_col){s->cols[i].name, q, s->cols[i].type};
    c[s->ncols] = (wr_col){"ROWTIME", q, wr_type_of(WR_T_BIGINT)};
    c[s->ncols + 1] = (wr_col){"ROWPARTITION", q, wr_type_of(WR_T_INT)};
    c[s->ncols + 2] = (wr_col){"ROWOFFSET", q, wr_type_of(WR_T_BIGINT)};
    sc->n = s->ncols + NPSEUDO;
    if (s->window_kind >= 0) { /* a windowed source: its keys' windows */
        c[sc->n++] = (wr_col){"WINDOWSTART", q, wr_type_of(WR_T_BIGINT)};
        c[sc->n++] = (wr_col){"WINDOWEND", q, wr_type_of(WR_T_BIGINT)};
    }
    sc->cols = c;
    return WR_OK;
}

typedef struct outcol {
    const char *name;
    wr_cexpr *expr;
    bool key;
    wr_loc loc;
    const wr_sql_type *type; /* the column's type: expr's, or a table function's element */
    const char *text;        /* the expression as SQL, for EXPLAIN */
} outcol;

const char *
eng_expr_text(wr_arena *a, const wr_expr *x)
{
    wr_buf b = WR_BUF_INIT;
    wr_ast_format_expr(&b, x);
    wr_buf_put_u8(&b, 0);
    const char *t = wr_buf_ok(&b) ? wr_arena_strdup(a, (const char *)b.data) : "?";
    wr_buf_free(&b);
    return t ? t : "?";
}

/* The sink's columns for select q over src (ksqlDB's rules for names and keys). */
#define WR_MAX_KEY_NAMES 16

/* ksqlDB's "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query
   used to build `OUTPUT` must include the key columns A and B in its projection (eg, SELECT A,
   B...)." (what: "key columns", "grouping expression" or "grouping expressions"). */
static int
key_missing(wr_err *err, wr_loc at, const char *sink, const char *what,
            const char *const *names, int n)
{
    wr_buf and_list = WR_BUF_INIT, comma_list = WR_BUF_INIT;
    for (int i = 0; i < n; i++) {
        wr_buf_printf(&and_list, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", names[i]);
        wr_buf_printf(&comma_list, "%s%s", i == 0 ? "" : ", ", names[i]);
    }
    wr_buf_put_u8(&and_list, 0);
    wr_buf_put_u8(&comma_list, 0);
    int rc = wr_buf_ok(&and_list) && wr_buf_ok(&comma_list)
                 ? eng_fail_at(err, at,
                               "Key missing from projection (ie, SELECT). See "
                               "https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must "
                               "include the %s %s in its projection (eg, SELECT %s...).",
                               sink ? sink : "the sink", what, (const char *)and_list.data,
                               (const char *)comma_list.data)
                 : wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_buf_free(&and_list);
    wr_buf_free(&comma_list);
    return rc;
}

static int
plan_projection(wr_engine *e,
                wr_query *qr,
                const wr_select *q,
                const char *sink_name,
                outcol **cols_out,
                int *n_out,
                wr_err *err)
{
    wr_arena *a = qr->arena;
    const wr_source *src = qr->src;
    const joinexec *J = qr->join;
    wr_analyzer an = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    int cap = q->nitems + (J ? J->ncols : src->ncols) + 4, n = 0, gen = 0;
    for (int i = 0; i < q->nitems; i++)
        if (q->items[i].expr->kind == WR_E_STAR && q->items[i].expr->a != NULL)
            cap += 1000; /* v->*: at most the fields of a STRUCT */
    outcol *cols = wr_arena_calloc(a, (size_t)cap, sizeof *cols);
    if (cols == NULL)
        return WR_ENOMEM;
    int rc;
    for (int i = 0; i < q->nitems; i++) {
        const wr_select_item *it = &q->items[i];
        if (it->expr->kind == WR_E_STAR && it->expr->a != NULL) {
            /* v->*: each field of the STRUCT v as a column named after the field */
            wr_cexpr *sx;
            if ((rc = wr_expr_analyze(&an, it->expr->a, &sx, err)) != WR_OK)
                return rc;
            if (sx->type == NULL || sx->type->kind != WR_T_STRUCT)
                return eng_fail_at(err, it->loc, "->* needs a STRUCT");
            for (int f = 0; f < sx->type->nfields; f++) {
                wr_expr *d = wr_arena_calloc(a, 1, sizeof *d);
                if (d == NULL)
                    return WR_ENOMEM;
                d->kind = WR_E_DEREF;
                d->a = it->expr->a;
                d->name = sx->type->fields[f].name;
                d->loc = it->loc;
                wr_cexpr *ce;
                if ((rc = wr_expr_analyze(&an, d, &ce, err)) != WR_OK)
                    return rc;
                for (int j = 0; j < n; j++)
                    if (strcmp(cols[j].name, d->name) == 0)
                        return eng_fail_at(err, it->loc,
                                           "duplicate value column name '%s'; give it an alias",
                                           d->name);
                if (n == cap)
                    return eng_fail_at(err, it->loc, "too many columns");
                cols[n++] = (outcol){d->name, ce, false, it->loc, ce->type, eng_expr_text(a, d)};
            }
            continue;
        }
        if (it->expr->kind == WR_E_STAR && J != NULL) {
            /* every side's columns (or one side's: s.*), named <side>_<column> */
            bool any = false;
            for (int sd = 0; sd < J->nsides; sd++) {
                const jside *js = &J->sides[sd];
                if (it->expr->qualifier != NULL && strcmp(it->expr->qualifier, js->alias) != 0)
                    continue;
                any = true;
                for (int c = 0; c < js->src->ncols; c++) {
                    if (n == cap)
                        return eng_fail_at(err, it->loc, "too many columns");
                    wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                    if (ce == NULL)
                        return WR_ENOMEM;
                    ce->op = WR_C_COLUMN;
                    ce->col = js->base + c;
                    ce->type = js->src->cols[c].type;
                    ce->loc = it->loc;
                    cols[n++] =
                        (outcol){wr_arena_printf(a, "%s_%s", js->alias, js->src->cols[c].name),
                                 ce,
                                 false,
                                 it->loc,
                                 ce->type,
                                 wr_arena_printf(a, "%s.%s", js->alias, js->src->cols[c].name)};
                }
            }
            if (!any)
                return eng_fail_at(err, it->loc, "unknown source '%s' in %s.*", it->expr->qualifier,
                                   it->expr->qualifier);
            continue;
        }
        if (it->expr->kind == WR_E_STAR) {
            if (it->expr->qualifier != NULL &&
                strcmp(it->expr->qualifier, q->from->alias ? q->from->alias : src->name) != 0)
                return eng_fail_at(err, it->loc, "unknown source '%s' in %s.*", it->expr->qualifier,
                                   it->expr->qualifier);
            for (int c = 0; c < src->ncols; c++) {
                if (n == cap)
                    return eng_fail_at(err, it->loc, "too many columns");
                wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                ce->op = WR_C_COLUMN;
                ce->col = c;
                ce->type = src->cols[c].type;
                ce->loc = it->loc;
                cols[n++] =
                    (outcol){src->cols[c].name, ce, false, it->loc, ce->type, src->cols[c].name};
            }
            continue;
        }
        const wr_sql_type *coltype = NULL;
        wr_cexpr *ce;
        const wr_fn_desc *fd = it->expr->kind == WR_E_CALL && e->opts.fns != NULL
                                   ? wr_fn_lookup(e->opts.fns, it->expr->text)
                                   : NULL;
        if (fd != NULL && fd->kind == WR_FN_TABLE) {
            /* a table function (EXPLODE): the column holds its argument; each element becomes
               a row of its own when the query runs */
            if (qr->tfn != NULL)
                return eng_fail_at(err, it->loc, "only one table function per query is supported");
            if (qr->src->is_table)
                return eng_fail_at(err, it->loc,
                                   "Table source is not supported with table functions");
            int nargs = it->expr->n;
            if (nargs != 1 && (fd->flags & WR_FN_BUILTIN))
                return eng_fail_at(err, it->loc, "%s takes one ARRAY argument", fd->name);
            if (nargs < 1)
                return eng_fail_at(err, it->loc, "%s needs an argument", fd->name);
            /* the column holds the argument until the rows are made; several arguments (a
               library's table function) travel as a STRUCT of them */
            wr_expr pack = *it->expr;
            if (nargs > 1) {
                pack.kind = WR_E_STRUCT;
                pack.names = wr_arena_calloc(a, (size_t)nargs, sizeof *pack.names);
                for (int k = 0; pack.names != NULL && k < nargs; k++)
                    pack.names[k] = wr_arena_printf(a, "A%d", k);
                if (pack.names == NULL)
                    return wr_err_set(err, WR_ENOMEM, "out of memory");
            }
            if ((rc = wr_expr_analyze(&an, nargs > 1 ? &pack : it->expr->list[0], &ce, err)) !=
                WR_OK)
                return rc;
            const wr_sql_type **ats = wr_arena_calloc(a, (size_t)nargs, sizeof *ats);
            if (ats == NULL)
                return wr_err_set(err, WR_ENOMEM, "out of memory");
            for (int k = 0; k < nargs; k++)
                ats[k] = nargs > 1 ? ce->args[k]->type : ce->type;
            int variant;
            wr_err ferr = {0};
            coltype = fd->resolve(fd, a, ats, nargs, &variant, &ferr);
            if (coltype == NULL)
                return eng_fail_at(err, it->loc, "%s", ferr.msg);
            for (int k = 0; fd->param != NULL && k < nargs; k++) { /* its parameters' types */
                const wr_sql_type *pt = fd->param(fd, a, ats, nargs, variant, k);
                if (pt == NULL || wr_type_equal(pt, ats[k]))
                    continue;
                if (nargs == 1) {
                    ce = wr_expr_coerce(a, ce, pt);
                } else {
                    ce->args[k] = wr_expr_coerce(a, ce->args[k], pt);
                    ((wr_sql_field *)ce->type->fields)[k].type = pt;
                }
                ats[k] = pt;
            }
            qr->tfn = fd;
            qr->tfn_name = it->alias ? it->alias : NULL;
            if ((qr->tfn_call = wr_arena_calloc(a, 1, sizeof *qr->tfn_call)) == NULL)
                return wr_err_set(err, WR_ENOMEM, "out of memory");
            *qr->tfn_call = (wr_fn_ctx){
                .ret = coltype, .variant = variant, .nargs = nargs, .args = ats, .fn = fd};
        } else if ((rc = wr_expr_analyze(&an, it->expr, &ce, err)) != WR_OK) {
            return rc;
        }
        if (ce->type == NULL)
            return eng_fail_at(err, it->loc, "the type of a bare NULL cannot be inferred: CAST it");
        const char *name = it->alias;
        if (name == NULL && J != NULL && it->expr->kind == WR_E_COLUMN &&
            it->expr->qualifier != NULL) {
            /* in a join, s.c is named c only when no other side has a column c */
            int sides = 0;
            for (int sd = 0; sd < J->nsides; sd++)
                for (int c = 0; c < J->sides[sd].src->ncols; c++)
                    if (strcmp(J->sides[sd].src->cols[c].name, it->expr->name) == 0) {
                        sides++;
                        break;
                    }
            if (sides > 1)
                name = wr_arena_printf(a, "%s_%s", it->expr->qualifier, it->expr->name);
        }
        if (name == NULL) {
            if (it->expr->kind == WR_E_COLUMN)
                name = it->expr->name;
            else if (it->expr->kind == WR_E_DEREF)
                name = it->expr->name;
            else
                name = wr_arena_printf(a, "KSQL_COL_%d", gen++);
        }
        for (int j = 0; j < n; j++)
            if (strcmp(cols[j].name, name) == 0)
                return eng_fail_at(err, it->loc,
                                   "duplicate value column name '%s'; give it an alias", name);
        if (n == cap)
            return eng_fail_at(err, it->loc, "too many columns");
        cols[n++] = (outcol){
            name, ce, false, it->loc, coltype ? coltype : ce->type, eng_expr_text(a, it->expr)};
        if (coltype != NULL)
            qr->tfn_col_name = name;
    }
    if (q->npartition > 0 && (J ? J->table : qr->src->is_table))
        return eng_fail_at(err, q->partition_by[0]->loc,
                           "PARTITION BY is not supported on tables: %s is a table (its key is "
                           "its primary key)",
                           qr->src->name);
    if (q->npartition == 1 && q->partition_by[0]->kind == WR_E_NULL) {
        *cols_out = cols;
        *n_out = n;
        return WR_OK; /* no key */
    }
    /* PARTITION BY e1, e2, ...: each is a key column (projected, or added as ksqlDB does), the
       key columns in the order of the PARTITION BY list */
    int *keyat = q->npartition > 0 ? wr_arena_calloc(a, (size_t)q->npartition, sizeof *keyat) : NULL;
    if (q->npartition > 0 && keyat == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int p = 0; p < q->npartition; p++) {
        const wr_expr *pb = q->partition_by[p];
        if (pb->kind == WR_E_NULL)
            return eng_fail_at(err, pb->loc,
                               "PARTITION BY NULL cannot be combined with other expressions");
        wr_cexpr *pe;
        if ((rc = wr_expr_analyze(&an, pb, &pe, err)) != WR_OK)
            return rc;
        /* the new key: the projected item that is this expression */
        wr_buf want = WR_BUF_INIT;
        wr_ast_format_expr(&want, pb);
        wr_buf_put_u8(&want, 0);
        int found = -1;
        for (int i = 0, c = 0; i < q->nitems && found < 0; i++) {
            if (q->items[i].expr->kind == WR_E_STAR) {
                if (pb->kind == WR_E_COLUMN)
                    for (int k = 0; k < src->ncols && J == NULL; k++)
                        if (strcmp(src->cols[k].name, pb->name) == 0)
                            found = c + k;
                c += J ? 0 : src->ncols;
                continue;
            }
            wr_buf got = WR_BUF_INIT;
            wr_ast_format_expr(&got, q->items[i].expr);
            wr_buf_put_u8(&got, 0);
            if (strcmp((const char *)got.data, (const char *)want.data) == 0)
                found = c;
            wr_buf_free(&got);
            c++;
        }
        wr_buf_free(&want);
        if (found < 0) {
            /* ksqlDB adds the partitioning column as the key when it is not projected */
            const char *name =
                pb->kind == WR_E_COLUMN ? pb->name : wr_arena_printf(a, "KSQL_COL_%d", gen++);
            if (n == cap)
                return eng_fail_at(err, pb->loc, "too many columns");
            for (int j = 0; j < n; j++)
                if (strcmp(cols[j].name, name) == 0)
                    return eng_fail_at(err, pb->loc,
                                       "duplicate value column name '%s'; give it an alias", name);
            cols[n] = (outcol){name, pe, true, pb->loc, pe->type, eng_expr_text(a, pb)};
            keyat[p] = n++;
        } else if (cols[found].key) {
            return eng_fail_at(err, pb->loc, "PARTITION BY names %s twice", cols[found].name);
        } else {
            cols[found].key = true;
            keyat[p] = found;
        }
    }
    if (q->npartition > 0) {
        /* key columns first, in the PARTITION BY order; the rest in projection order */
        outcol *sorted = wr_arena_calloc(a, (size_t)cap, sizeof *sorted);
        if (sorted == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        int m = 0;
        for (int p = 0; p < q->npartition; p++)
            sorted[m++] = cols[keyat[p]];
        for (int j = 0; j < n; j++)
            if (!cols[j].key)
                sorted[m++] = cols[j];
        memcpy(cols, sorted, (size_t)n * sizeof *cols);
    } else if (J != NULL) {
        /* the join key is the sink's key: a projected column or expression that holds it */
        int found = -1;
        for (int j = 0; j < n && found < 0; j++) {
            for (int k = 0; k < J->nkeycols && found < 0; k++)
                if (cols[j].expr->op == WR_C_COLUMN && cols[j].expr->col == J->keycols[k])
                    found = j;
            for (int k = 0; k < J->nkeytexts && found < 0; k++)
                if (strcmp(cols[j].text, J->keytexts[k]) == 0)
                    found = j;
        }
        if (found >= 0) {
            cols[found].key = true;
        } else if (!e->transient) {
            wr_buf m = WR_BUF_INIT;
            for (int k = 0; k < J->nkeytexts; k++)
                wr_buf_printf(&m, "%s%s",
                              k == 0                  ? ""
                              : k == J->nkeytexts - 1 ? " or "
                                                      : ", ",
                              J->keytexts[k]);
            wr_buf_put_u8(&m, 0);
            rc = eng_fail_at(err, q->loc,
                             "The query used to build `%s` must include the join expression%s %s "
                             "in its projection (eg, SELECT %s...).",
                             sink_name, J->nkeytexts > 1 ? "s" : "",
                             wr_buf_ok(&m) ? (const char *)m.data : "?",
                             J->nkeytexts > 0 ? J->keytexts[0] : "?");
            wr_buf_free(&m);
            return rc;
        }
    } else {
        /* the source's key columns are the sink's, and must be projected */
        for (int k = 0; k < src->ncols; k++) {
            if (!eng_is_key_role(src->cols[k].role))
                continue;
            int found = -1;
            for (int j = 0; j < n && found < 0; j++)
                if (cols[j].expr->op == WR_C_COLUMN && cols[j].expr->col == k)
                    found = j;
            if (found < 0 && e->transient)
                continue; /* a push query's rows have no key */
            if (found < 0) {
                const char *names[WR_MAX_KEY_NAMES];
                int nk = 0;
                for (int c = 0; c < src->ncols && nk < WR_MAX_KEY_NAMES; c++)
                    if (eng_is_key_role(src->cols[c].role))
                        names[nk++] = src->cols[c].name;
                return key_missing(err, q->loc, sink_name, "key columns", names, nk);
            }
            cols[found].key = true;
        }
    }
    *cols_out = cols;
    *n_out = n;
    return WR_OK;
}

char *
eng_query_id(wr_engine *e, const char *prefix, const char *sink)
{
    char *id = malloc(strlen(prefix) + strlen(sink) + 32);
    if (id != NULL)
        sprintf(id, "%s_%s_%d", prefix, sink, e->query_seq++);
    return id;
}

int
eng_start_tasks(wr_engine *e, wr_session *ss, wr_query *qr, wr_err *err)
{
    const char *topic = qr->in_topic ? qr->in_topic : qr->src->topic;
    int32_t parts = wr_log_topic_partitions(e->opts.db, topic);
    if (parts < 1)
        return wr_err_set(err, WR_ENOENT, "topic %s of %s does not exist", topic, qr->src->name);
    const char *reset = ss ? wr_props_get(&ss->props, "auto.offset.reset") : NULL;
    bool earliest = reset != NULL && strcasecmp(reset, "earliest") == 0;
    int rc = eng_query_guarantee(e, ss, qr, err);
    if (rc != WR_OK)
        return rc;
    qr->tasks = wr_arena_calloc(qr->arena, (size_t)parts, sizeof *qr->tasks);
    if (qr->tasks == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    qr->ntasks = parts;
    for (int32_t p = 0; p < parts; p++) {
        wr_partition *lp;
        if (wr_log_partition(e->opts.db, topic, p, &lp) != WR_OK)
            return wr_err_set(err, WR_ENOENT, "partition %d of %s is missing", p, topic);
        int64_t off = eng_committed_offset(e, qr, p);
        if (off < 0)
            off = earliest ? wr_log_start_offset(lp) : wr_log_end_offset(lp);
        qr->tasks[p] = (task){p, off};
    }
    return WR_OK;
}

/* The repartition topic number n of q (created if need be) as rq's sink, and rq's key format:
   rs's key in the format rs->kf. */
/* ksqlDB's NONE rule: a key format NONE inherited (not given in WITH) by a result that has key
   columns (PARTITION BY, GROUP BY, a join) becomes the default key format: the session's
   ksql.persistence.default.format.key, else KAFKA. */
static int
inherit_key_format(wr_session *ss, const wr_stmt *st, wr_source *sink, wr_err *err)
{
    if (sink->key_fmt != WR_FMT_NONE || eng_prop(st, "KEY_FORMAT") != NULL ||
        eng_prop(st, "FORMAT") != NULL)
        return WR_OK;
    bool keyed = false;
    for (int i = 0; i < sink->ncols; i++)
        keyed = keyed || eng_is_key_role(sink->cols[i].role);
    if (!keyed)
        return WR_OK;
    const char *dflt = ss ? wr_props_get(&ss->props, "ksql.persistence.default.format.key") : NULL;
    sink->key_fmt = WR_FMT_KAFKA;
    if (dflt != NULL && wr_fmt_parse_name(dflt, &sink->key_fmt) != WR_OK)
        return wr_err_set(err, WR_EINVAL,
                          "ksql.persistence.default.format.key: unknown format %s", dflt);
    return WR_OK;
}

static int
repart_sink(wr_engine *e, wr_query *q, int n, const repart_spec *rs, wr_query *rq, wr_err *err)
{
    wr_arena *a = q->arena;
    char *topic = wr_arena_printf(a, "%s-%s-%d-repartition", e->service_id, q->id, n);
    wr_source *sink = wr_arena_calloc(a, 1, sizeof *sink);
    const char **names = wr_arena_calloc(a, (size_t)rs->nkey, sizeof *names);
    const wr_sql_type **types = wr_arena_calloc(a, (size_t)rs->nkey, sizeof *types);
    if (topic == NULL || sink == NULL || names == NULL || types == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int i = 0; i < rs->nkey; i++) {
        names[i] = wr_arena_printf(a, "KEY%d", i);
        types[i] = rs->key[i]->type;
    }
    rq->rekey_fmt =
        (wr_fmt){.kind = rs->kf, .ncols = rs->nkey, .names = names, .types = types, .key = true};
    if (wr_fmt_check(&rq->rekey_fmt, err) != WR_OK)
        return eng_fail_at(err, (wr_loc){0}, "%s cannot be a %s key: %s", rs->key_text,
                           rs->kf == WR_FMT_KAFKA ? "KAFKA" : "DELIMITED", err->msg);
    if (wr_log_topic_partitions(e->opts.db, topic) < 1) {
        int rc = wr_log_topic_create(e->opts.db, topic, rs->partitions, NULL, err);
        if (rc != WR_OK)
            return rc;
    }
    sink->name = sink->topic = topic;
    sink->partitions = rs->partitions;
    sink->ts_col = -1;
    sink->window_kind = -1;
    rq->sink = sink;
    return WR_OK;
}

/* Starts q's repartition query number n (rs: what it writes) into `<service>-<query>-<n>-
   repartition`, created if need be: each record goes unchanged to the partition murmur2 of its
   new key picks. Over a table it remembers each key's row, so that a row moving to another key
   is taken out where it was (weir.undo) before it is added where it goes. */
int
eng_repart_start(wr_engine *e,
                 wr_session *ss,
                 wr_query *q,
                 int n,
                 const repart_spec *rs,
                 wr_query **out,
                 wr_err *err)
{
    wr_arena *a = q->arena;
    wr_query *rq = wr_arena_calloc(a, 1, sizeof *rq);
    if (rq == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = repart_sink(e, q, n, rs, rq, err);
    if (rc != WR_OK)
        return rc;
    rq->arena = a;
    rq->id = wr_arena_printf(a, "%s-repartition-%d", q->id, n);
    rq->sql = q->sql;
    rq->src = rs->src;
    rq->scope = *rs->scope;
    rq->nrekey = rq->nout = rs->nkey;
    rq->out = rs->key;
    rq->tfn_out = -1;
    if (rq->id == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    rc = eng_plan_needed(rq, err);
    if (rc == WR_OK)
        rc = eng_start_tasks(e, ss, rq, err);
    if (rc == WR_OK && rs->src->is_table)
        rc = eng_open_task_stores(e, rq, err);
    if (rc != WR_OK)
        return rc;
    q->reparts[q->nreparts++] = rq;
    *out = rq;
    return WR_OK;
}

static void
schema_text(wr_buf *b, const wr_col *cols, int n, const wr_source *s)
{
    for (int i = 0; i < n; i++) {
        wr_buf_printf(b, "%s%s ", i ? ", " : "", cols[i].name);
        wr_ast_format_type(b, cols[i].type);
        if (s != NULL && i < s->ncols && eng_is_key_role(s->cols[i].role))
            wr_buf_printf(b, " KEY");
    }
}

/* The query's operator DAG, sink first, as ksqlDB's EXPLAIN prints its logical plan. */
void
eng_explain_query(wr_buf *out, const wr_query *q)
{
    if (out == NULL)
        return;
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    wr_buf_printf(out, "ID                   : %s\nQuery                : %s\n", q->id, q->sql);
    wr_buf_printf(out, "\nExecution plan\n--------------\n");
    wr_buf_printf(out, " > [ SINK ] | Schema: ");
    wr_col *sc = calloc((size_t)q->sink->ncols + 1, sizeof *sc);
    for (int i = 0; sc != NULL && i < q->sink->ncols; i++)
        sc[i] = (wr_col){q->sink->cols[i].name, NULL, q->sink->cols[i].type};
    if (sc != NULL)
        schema_text(out, sc, q->sink->ncols, q->sink);
    free(sc);
    wr_buf_printf(out, " | Topic: %s (%d partitions, key %s, value %s)\n", q->sink->topic,
                  q->sink->partitions, fmts[q->sink->key_fmt], fmts[q->sink->val_fmt]);
    int ind = 1;
    if (q->tfn != NULL)
        wr_buf_printf(out, "%*s > [ FLAT_MAP ] | Table function: %s\n", 2 * ind++, "",
                      q->out_text[q->tfn_out]);
    wr_buf_printf(out, "%*s > [ PROJECT ] | Expressions: ", 2 * ind++, "");
    for (int i = 0; i < q->nout; i++)
        wr_buf_printf(out, "%s%s AS %s", i ? ", " : "", q->out_text[i] ? q->out_text[i] : "?",
                      q->sink->cols[i].name);
    wr_buf_printf(out, "\n");
    if (q->having_text != NULL)
        wr_buf_printf(out, "%*s > [ FILTER ] | Having: %s\n", 2 * ind++, "", q->having_text);
    if (q->agg_text != NULL)
        wr_buf_printf(out, "%*s > [ AGGREGATE ] | %s\n", 2 * ind++, "", q->agg_text);
    const wr_query *jq = q->rows_in ? q->reparts[0] : q;
    if (q->rows_in) /* the join's rows, filtered, then regrouped */
        wr_buf_printf(out, "%*s > [ REPARTITION ] | by %s | Topic: %s\n", 2 * ind++, "",
                      q->repart_text,
                      q->in_topic ? q->in_topic : "<service>-<query>-<n>-repartition");
    if (q->where_text != NULL)
        wr_buf_printf(out, "%*s > [ FILTER ] | Condition: %s\n", 2 * ind++, "", q->where_text);
    if (jq->join != NULL) {
        eng_explain_join(out, jq, ind);
        wr_buf_printf(out, "\nTasks: one per partition of the joined sides; each reads its "
                           "inputs merged by event time, joins over its state store, filters, "
                           "projects and appends to the sink partition that murmur2 of the key "
                           "picks. State and input positions commit together.\n");
        return;
    }
    if (q->repart_text != NULL)
        wr_buf_printf(out, "%*s > [ REPARTITION ] | by %s | Topic: %s\n", 2 * ind++, "",
                      q->repart_text,
                      q->in_topic ? q->in_topic : "<service>-<query>-0-repartition");
    wr_buf_printf(out, "%*s > [ SOURCE ] | Schema: ", 2 * ind, "");
    schema_text(out, q->scope.cols, q->scope.n, q->src);
    wr_buf_printf(out, " | Topic: %s (%d partitions, key %s, value %s)\n", q->src->topic,
                  q->src->partitions, fmts[q->src->key_fmt], fmts[q->src->val_fmt]);
    wr_buf_printf(out, "\nTasks: one per input partition; each reads a record batch, decodes it "
                       "into column vectors, filters, projects a vector at a time, encodes and "
                       "appends to the sink partition that murmur2 of the key picks.\n");
}

static void
mark_cols(const wr_cexpr *e, bool *used)
{
    if (e == NULL)
        return;
    if (e->op == WR_C_COLUMN)
        used[e->col] = true;
    mark_cols(e->a, used);
    mark_cols(e->b, used);
    mark_cols(e->c, used);
    for (int i = 0; e->args != NULL && i < e->n; i++) /* a LAMBDA's n counts parameters */
        mark_cols(e->args[i], used);
}

/* Which of the source's value columns the query reads, so that the decoder skips the rest. */
int
eng_plan_needed(wr_query *q, wr_err *err)
{
    const wr_source *s = q->src;
    bool *used = wr_arena_calloc(q->arena, (size_t)q->scope.n + 1, sizeof *used);
    q->val_needed = wr_arena_calloc(q->arena, (size_t)s->ncols + 1, sizeof *q->val_needed);
    if (used == NULL || q->val_needed == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    mark_cols(q->where, used);
    if (q->agg != NULL) { /* the outputs are over the aggregated scope */
        for (int i = 0; i < q->agg->ngroup; i++)
            mark_cols(q->agg->group[i], used);
        for (int i = 0; i < q->agg->nagg; i++)
            mark_cols(q->agg->args[i], used);
    } else {
        for (int i = 0; i < q->nout; i++)
            mark_cols(q->out[i], used);
    }
    if (s->ts_col >= 0)
        used[s->ts_col] = true;
    for (int i = 0, v = 0; i < s->ncols; i++)
        if (!eng_is_key_role(s->cols[i].role) && !eng_is_header_role(s->cols[i].role))
            q->val_needed[v++] = used[i];
    return WR_OK;
}

/* Whether the select list or HAVING of q calls an aggregate function. */
bool
eng_has_aggregate(const wr_engine *e, const wr_expr *x)
{
    if (x == NULL)
        return false;
    if (x->kind == WR_E_CALL && e->opts.fns != NULL) {
        const wr_fn_desc *f = wr_fn_lookup(e->opts.fns, x->text);
        if (f != NULL && f->kind == WR_FN_AGGREGATE)
            return true;
    }
    if (eng_has_aggregate(e, x->a) || eng_has_aggregate(e, x->b2) || eng_has_aggregate(e, x->c))
        return true;
    for (int i = 0; x->list != NULL && i < x->n; i++)
        if (eng_has_aggregate(e, x->list[i]))
            return true;
    return false;
}

typedef struct aggplan {
    int n, cap;
    const char **text; /* aggregate calls as SQL, distinct */
    wr_col *cols;      /* their result columns */
    wr_agg *aggs;      /* their functions */
    wr_cexpr **args;   /* their aggregated argument, over the input (NULL: COUNT(*)) */
} aggplan;

/* Collects the aggregate calls of x (not nested in one another), typing their arguments in the
   input scope. */
static int
collect_aggregates(wr_engine *e, wr_analyzer *in, const wr_expr *x, aggplan *ap, wr_err *err)
{
    if (x == NULL)
        return WR_OK;
    const wr_fn_desc *f =
        x->kind == WR_E_CALL && e->opts.fns ? wr_fn_lookup(e->opts.fns, x->text) : NULL;
    if (f == NULL || f->kind != WR_FN_AGGREGATE) {
        int rc = WR_OK;
        if ((rc = collect_aggregates(e, in, x->a, ap, err)) != WR_OK ||
            (rc = collect_aggregates(e, in, x->b2, ap, err)) != WR_OK ||
            (rc = collect_aggregates(e, in, x->c, ap, err)) != WR_OK)
            return rc;
        for (int i = 0; x->list != NULL && i < x->n; i++)
            if ((rc = collect_aggregates(e, in, x->list[i], ap, err)) != WR_OK)
                return rc;
        return WR_OK;
    }
    const char *t = eng_expr_text(in->arena, x);
    for (int i = 0; i < ap->n; i++)
        if (strcmp(ap->text[i], t) == 0)
            return WR_OK;
    /* the arguments, in the input scope (COUNT(*) has none) */
    int nargs = x->n == 1 && x->list[0]->kind == WR_E_STAR ? 0 : x->n;
    const wr_sql_type **types = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *types);
    wr_cexpr **ces = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *ces);
    if (types == NULL || ces == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < nargs; i++) {
        if (eng_has_aggregate(e, x->list[i]))
            return eng_fail_at(err, x->list[i]->loc, "aggregate functions cannot be nested");
        int rc = wr_expr_analyze(in, x->list[i], &ces[i], err);
        if (rc != WR_OK)
            return rc;
        types[i] = ces[i]->type;
    }
    int variant;
    wr_err ferr = {0};
    const wr_sql_type *rt = f->resolve(f, in->arena, types, nargs, &variant, &ferr);
    if (rt == NULL)
        return eng_fail_at(err, x->loc, "%s", ferr.msg);
    for (int i = 0; f->param != NULL && i < nargs; i++) { /* the overload's parameter types */
        const wr_sql_type *pt = f->param(f, in->arena, types, nargs, variant, i);
        if (pt != NULL && ces[i]->type != NULL && !wr_type_equal(pt, ces[i]->type)) {
            bool konst = ces[i]->op == WR_C_CONST;
            ces[i] = wr_expr_coerce(in->arena, ces[i], pt);
            if (konst && ces[i]->op != WR_C_CONST) { /* a constant stays one, converted */
                wr_eval_ctx cx = {.arena = in->arena};
                wr_val v;
                wr_expr_eval(ces[i], &cx, &v);
                ces[i]->op = WR_C_CONST;
                ces[i]->k = v;
            }
        }
        types[i] = pt != NULL ? pt : types[i];
    }
    if (ap->n == ap->cap) {
        int cap = ap->cap ? ap->cap * 2 : 8;
        const char **nt = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nt);
        wr_col *nc = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nc);
        wr_agg *na = wr_arena_calloc(in->arena, (size_t)cap, sizeof *na);
        wr_cexpr **nx = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nx);
        if (nt == NULL || nc == NULL || na == NULL || nx == NULL)
            return WR_ENOMEM;
        if (ap->n > 0) {
            memcpy(nt, ap->text, (size_t)ap->n * sizeof *nt);
            memcpy(nc, ap->cols, (size_t)ap->n * sizeof *nc);
            memcpy(na, ap->aggs, (size_t)ap->n * sizeof *na);
            memcpy(nx, ap->args, (size_t)ap->n * sizeof *nx);
        }
        ap->text = nt;
        ap->cols = nc;
        ap->aggs = na;
        ap->args = nx;
        ap->cap = cap;
    }
    const wr_val **consts = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *consts);
    if (consts == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < nargs; i++)
        consts[i] = ces[i]->op == WR_C_CONST ? &ces[i]->k : NULL;
    wr_err aerr = {0};
    if (wr_agg_plan(&ap->aggs[ap->n], f, variant, in->arena, types, consts, nargs, rt, &aerr) !=
        WR_OK)
        return eng_fail_at(err, x->loc, "%s", aerr.msg);
    ap->args[ap->n] = nargs > 0 ? ces[0] : NULL;
    ap->text[ap->n] = t;
    ap->cols[ap->n] = (wr_col){wr_arena_printf(in->arena, "KSQL_AGG_VARIABLE_%d", ap->n), NULL, rt};
    ap->n++;
    return WR_OK;
}

/* GROUP BY [WINDOW] [HAVING]: plans the aggregation (typed, checked, shown by EXPLAIN); its
   execution needs state stores and arrives with the stateful queries. The sink's key is the
   GROUP BY expression(s), which must be projected, as in ksqlDB. */
static int
plan_aggregate(wr_engine *e,
               wr_query *qr,
               const wr_select *q,
               const char *sink_name,
               outcol **cols_out,
               int *n_out,
               wr_err *err)
{
    wr_arena *a = qr->arena;
    wr_analyzer in = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    if (q->ngroup == 0)
        return eng_fail_at(err, q->window ? q->window->loc : q->loc, "%s needs GROUP BY",
                           q->window ? "WINDOW" : "an aggregate function");
    /* the aggregated scope: group keys, aggregate results, window bounds */
    int cap = q->ngroup + 2;
    aggplan ap = {0};
    for (int i = 0; i < q->nitems; i++) {
        if (q->items[i].expr->kind == WR_E_STAR)
            return eng_fail_at(err, q->items[i].loc, "SELECT * is not allowed with GROUP BY");
        int rc = collect_aggregates(e, &in, q->items[i].expr, &ap, err);
        if (rc != WR_OK)
            return rc;
    }
    int rc = collect_aggregates(e, &in, q->having, &ap, err);
    if (rc != WR_OK)
        return rc;
    cap += ap.n;
    wr_col *sc = wr_arena_calloc(a, (size_t)cap, sizeof *sc);
    const char **stext = wr_arena_calloc(a, (size_t)cap, sizeof *stext);
    int *scol = wr_arena_calloc(a, (size_t)cap, sizeof *scol);
    if (sc == NULL || stext == NULL || scol == NULL)
        return WR_ENOMEM;
    int n = 0, gen = 0;
    aggexec *ax = wr_arena_calloc(a, 1, sizeof *ax);
    if (ax == NULL ||
        (ax->group = wr_arena_calloc(a, (size_t)q->ngroup, sizeof *ax->group)) == NULL ||
        (ax->gtypes = wr_arena_calloc(a, (size_t)q->ngroup, sizeof *ax->gtypes)) == NULL)
        return WR_ENOMEM;
    ax->ngroup = q->ngroup;
    ax->nagg = ap.n;
    ax->aggs = ap.aggs;
    ax->args = ap.args;
    ax->final = q->emit == WR_EMIT_FINAL;
    if (q->window != NULL) {
        ax->windowed = true;
        ax->win = *q->window;
        ax->grace = q->window->grace_ms >= 0 ? q->window->grace_ms : DEFAULT_GRACE_MS;
        int64_t span = q->window->size_ms + ax->grace;
        if (q->window->retention_ms >= 0 && q->window->retention_ms < span)
            return eng_fail_at(
                err, q->window->loc,
                "the window's RETENTION (%lld ms) must be at least its SIZE plus its "
                "GRACE PERIOD (%lld ms)",
                (long long)q->window->retention_ms, (long long)span);
        ax->retention = q->window->retention_ms >= 0  ? q->window->retention_ms
                        : span > DEFAULT_RETENTION_MS ? span
                                                      : DEFAULT_RETENTION_MS;
    } else if (ax->final) {
        return eng_fail_at(err, q->loc, "EMIT FINAL is only for windowed aggregations");
    }
    for (int i = 0; q->window != NULL && q->window->kind == WR_WIN_SESSION && i < ap.n; i++)
        if (!wr_agg_mergeable(&ap.aggs[i]))
            return eng_fail_at(err, q->window->loc,
                               "%s cannot be used with WINDOW SESSION: it has no merge",
                               ap.aggs[i].name);
    if (qr->src->is_table) {
        /* a table's changes are taken back out of their groups: every aggregate needs undo */
        if (q->window != NULL)
            return eng_fail_at(err, q->window->loc,
                               "Windowing not supported for table aggregations.");
        const char **bad = wr_arena_calloc(a, (size_t)ap.n + 1, sizeof *bad);
        int nbad = 0;
        for (int i = 0; bad != NULL && i < ap.n; i++) {
            int j = 0;
            while (j < nbad && strcmp(bad[j], ap.aggs[i].name) != 0)
                j++;
            if (!wr_agg_undoable(&ap.aggs[i]) && j == nbad)
                bad[nbad++] = ap.aggs[i].name;
        }
        if (nbad > 0) { /* ksqlDB's words: "MIN and MAX", "LATEST_BY_OFFSET, MIN and MAX" */
            wr_buf names = WR_BUF_INIT;
            for (int i = 0; i < nbad; i++)
                wr_buf_printf(&names, "%s%s", i == 0 ? "" : i == nbad - 1 ? " and " : ", ", bad[i]);
            rc = eng_fail_at(err, q->loc,
                             "The aggregation function%s %.*s cannot be applied to a table source, "
                             "only to a stream source.",
                             nbad == 1 ? "" : "s", wr_buf_ok(&names) ? (int)names.len : 0,
                             (const char *)names.data);
            wr_buf_free(&names);
            return rc;
        }
    }
    for (int i = 0; i < q->ngroup; i++) {
        wr_cexpr *ge;
        if (eng_has_aggregate(e, q->group_by[i]))
            return eng_fail_at(err, q->group_by[i]->loc, "GROUP BY cannot use aggregate functions");
        if ((rc = wr_expr_analyze(&in, q->group_by[i], &ge, err)) != WR_OK)
            return rc;
        ax->group[i] = ge;
        ax->gtypes[i] = ge->type;
        const char *name = q->group_by[i]->kind == WR_E_COLUMN
                               ? q->group_by[i]->name
                               : wr_arena_printf(a, "KSQL_COL_%d", gen++);
        stext[n] = eng_expr_text(a, q->group_by[i]);
        scol[n] = n;
        sc[n++] = (wr_col){name, NULL, ge->type};
    }
    /* EXPLAIN's description; built once nothing below can fail before it is freed */
    wr_buf desc = WR_BUF_INIT;
    wr_buf_printf(&desc, "Group by: ");
    for (int i = 0; i < q->ngroup; i++)
        wr_buf_printf(&desc, "%s%s", i ? ", " : "", stext[i]);
    wr_buf_printf(&desc, " | Aggregates: ");
    for (int i = 0; i < ap.n; i++) {
        stext[n] = ap.text[i];
        scol[n] = n;
        sc[n++] = ap.cols[i];
        wr_buf_printf(&desc, "%s%s", i ? ", " : "", ap.text[i]);
    }
    if (ap.n == 0)
        wr_buf_printf(&desc, "(none)");
    if (q->window != NULL) {
        static const char *kinds[] = {"TUMBLING", "HOPPING", "SESSION"};
        stext[n] = "WINDOWSTART";
        scol[n] = n;
        sc[n++] = (wr_col){"WINDOWSTART", NULL, wr_type_of(WR_T_BIGINT)};
        stext[n] = "WINDOWEND";
        scol[n] = n;
        sc[n++] = (wr_col){"WINDOWEND", NULL, wr_type_of(WR_T_BIGINT)};
        wr_buf_printf(&desc, " | Window: %s size %lld ms", kinds[q->window->kind],
                      (long long)q->window->size_ms);
        if (q->window->advance_ms > 0)
            wr_buf_printf(&desc, ", advance %lld ms", (long long)q->window->advance_ms);
        if (q->window->grace_ms >= 0)
            wr_buf_printf(&desc, ", grace %lld ms", (long long)q->window->grace_ms);
    }
    wr_buf_put_u8(&desc, 0);
    qr->agg_text = wr_arena_strdup(a, wr_buf_ok(&desc) ? (const char *)desc.data : "?");
    wr_buf_free(&desc);
    wr_scope *post = wr_arena_calloc(a, 1, sizeof *post);
    if (post == NULL)
        return WR_ENOMEM;
    post->n = n;
    post->cols = sc;
    wr_analyzer out = {.arena = a,
                       .scope = post,
                       .fns = e->opts.fns,
                       .nsubst = n,
                       .subst_text = stext,
                       .subst_col = scol,
                       .after_aggregation = true};
    outcol *cols = wr_arena_calloc(a, (size_t)q->nitems + 1, sizeof *cols);
    if (cols == NULL)
        return WR_ENOMEM;
    int nout = 0;
    for (int i = 0; i < q->nitems; i++) {
        const wr_select_item *it = &q->items[i];
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&out, it->expr, &ce, err)) != WR_OK)
            return rc;
        const char *name = it->alias;
        const char *text = eng_expr_text(a, it->expr);
        bool key = false;
        for (int g = 0; g < q->ngroup; g++)
            key |= strcmp(text, stext[g]) == 0;
        if (name == NULL)
            name = it->expr->kind == WR_E_COLUMN ? it->expr->name
                                                 : wr_arena_printf(a, "KSQL_COL_%d", gen++);
        for (int j = 0; j < nout; j++)
            if (strcmp(cols[j].name, name) == 0)
                return eng_fail_at(err, it->loc,
                                   "duplicate value column name '%s'; give it an alias", name);
        cols[nout++] = (outcol){name, ce, key, it->loc, ce->type, text};
    }
    for (int g = 0; g < q->ngroup; g++) {
        bool found = false;
        for (int j = 0; j < nout; j++)
            found |= strcmp(cols[j].text, stext[g]) == 0;
        if (!found)
            return key_missing(err, q->group_by[g]->loc, sink_name,
                               q->ngroup > 1 ? "grouping expressions" : "grouping expression",
                               (const char *const *)stext, q->ngroup);
    }
    if (q->having != NULL) {
        wr_cexpr *he;
        if ((rc = wr_expr_analyze(&out, q->having, &he, err)) != WR_OK)
            return rc;
        if (he->type != NULL && he->type->kind != WR_T_BOOLEAN)
            return eng_fail_at(err, q->having->loc, "HAVING needs a BOOLEAN expression");
        qr->having_text = eng_expr_text(a, q->having);
        ax->having = he;
    }
    ax->npost = n;
    qr->agg = ax;
    *cols_out = cols;
    *n_out = nout;
    return WR_OK;
}

/* A client query's id, as ksqlDB names them: transient_<source>_<number> (in qr's arena). */
char *
eng_transient_id(wr_engine *e, const wr_query *qr)
{
    char id[200];
    uint64_t n = (uint64_t)wr_clock_wall_ms() * 1000 + (e->push_seq++ % 1000);
    snprintf(id, sizeof id, "transient_%s_%llu", qr->src->name, (unsigned long long)n);
    return wr_arena_strdup(qr->arena, id);
}

/* Starts a planned push or pull query (qr, its sink qr->sink): tasks from the latest offsets
   (or the earliest, by auto.offset.reset) for a push query, over everything there is now for a
   pull query; the client's header into e->tinfo. */
static int
start_push(wr_engine *e, wr_session *ss, wr_query *qr, const wr_select *sel, wr_err *err)
{
    qr->is_push = true;
    qr->pull = sel->emit == WR_EMIT_NONE;
    qr->limit = sel->limit;
    qr->push = *e->tsink;
    qr->id = eng_transient_id(e, qr);
    if (qr->id == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_session pull_ss = {0};
    if (qr->pull)
        wr_props_set(&pull_ss.props, "auto.offset.reset", "earliest");
    int rc = qr->join != NULL ? eng_join_open_tasks(e, ss, qr, err)
                              : eng_start_tasks(e, qr->pull ? &pull_ss : ss, qr, err);
    wr_props_free(&pull_ss.props);
    if (rc == WR_OK && qr->agg != NULL && qr->join == NULL)
        rc = eng_open_task_stores(e, qr, err);
    if (rc != WR_OK) {
        eng_drop_task_stores(e, qr);
        return rc;
    }
    for (int i = 0; i < qr->ntasks && qr->join == NULL; i++) {
        wr_partition *lp;
        qr->tasks[i].end =
            wr_log_partition(e->opts.db, qr->src->topic, qr->tasks[i].partition, &lp) == WR_OK
                ? wr_log_end_offset(lp)
                : 0;
    }
    eng_push_header(e, qr);
    wr_query **tail = &e->pushes;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    return WR_OK;
}

/* The client's header of a push or pull query: its id and columns, into e->tinfo. */
void
eng_push_header(wr_engine *e, wr_query *qr)
{
    wr_push_info *in = e->tinfo;
    if (in != NULL) {
        snprintf(in->query_id, sizeof in->query_id, "%s", qr->id);
        in->pull = qr->pull;
        wr_buf_put_u8(&in->names, '[');
        wr_buf_put_u8(&in->types, '[');
        for (int i = 0; i < qr->sink->ncols; i++) {
            const src_col *c = &qr->sink->cols[i];
            wr_buf t = WR_BUF_INIT;
            wr_ast_format_type(&t, c->type);
            if (i) {
                wr_buf_put_u8(&in->names, ',');
                wr_buf_put_u8(&in->types, ',');
                wr_buf_append(&in->schema, ", ", 2);
            }
            wr_json_write_string(&in->names, c->name, strlen(c->name));
            wr_json_write_string(&in->types, (const char *)t.data, t.len);
            wr_buf_printf(&in->schema, "`%s` %.*s", c->name, (int)t.len, (const char *)t.data);
            wr_buf_free(&t);
        }
        wr_buf_put_u8(&in->names, ']');
        wr_buf_put_u8(&in->types, ']');
    }
}

/* Whether qr's GROUP BY must move its rows first: rows of one group must meet in one task, and
   a source with more than one partition keeps them together only when it is grouped by its key.
   Sets qr->repart_text, the grouping as SQL. */
static bool
group_repart(wr_query *qr, const wr_select *q)
{
    const aggexec *ax = qr->agg;
    const joinexec *J = qr->join;
    if (ax == NULL || (J ? J->partitions : qr->src->partitions) <= 1)
        return false;
    bool by_key = false;
    if (J != NULL) { /* a join's result is keyed by the join key */
        for (int k = 0; k < J->nkeycols && !by_key; k++)
            by_key = ax->ngroup == 1 && ax->group[0]->op == WR_C_COLUMN &&
                     ax->group[0]->col == J->keycols[k];
    } else {
        int nkeys = 0;
        for (int i = 0; i < qr->src->ncols; i++)
            nkeys += eng_is_key_role(qr->src->cols[i].role);
        by_key = ax->ngroup == nkeys;
        for (int g = 0; g < ax->ngroup && by_key; g++)
            by_key = ax->group[g]->op == WR_C_COLUMN && ax->group[g]->col < qr->src->ncols &&
                     eng_is_key_role(qr->src->cols[ax->group[g]->col].role);
    }
    if (by_key)
        return false;
    wr_buf b = WR_BUF_INIT;
    for (int g = 0; g < q->ngroup; g++)
        wr_buf_printf(&b, "%s%s", g ? ", " : "", eng_expr_text(qr->arena, q->group_by[g]));
    qr->repart_text =
        wr_buf_ok(&b) ? wr_arena_strndup(qr->arena, (const char *)b.data, b.len) : "?";
    wr_buf_free(&b);
    return true;
}

/* What an aggregation needs before it runs: state stores, and rows of one group meeting in one
   task (a repartition topic, when group_repart). */
static int
check_aggregation(
    wr_engine *e, const wr_query *qr, const wr_select *q, const wr_query *replacing, wr_err *err)
{
    if (e->opts.state == NULL)
        return eng_fail_at(
            err, q->loc, "aggregations need state stores, and this engine has no state directory");
    if (replacing != NULL)
        return eng_fail_at(err, q->loc,
                           "CREATE OR REPLACE cannot change an aggregation: its state would not "
                           "match; drop the table and create it again");
    if (qr->repart_text != NULL && e->transient)
        return eng_fail_at(err, q->group_by[0]->loc,
                           "a push query grouping %s, which has %d partitions, by %s needs a "
                           "repartition topic: create a persistent query (CREATE TABLE ... AS "
                           "SELECT) and query its result, or group by the key",
                           qr->join ? "a join" : qr->src->name,
                           qr->join ? qr->join->partitions : qr->src->partitions, qr->repart_text);
    return WR_OK;
}

/* A join grouped by anything but its key runs as two queries: the join (qr's join, source and
   filter, moved to a query of its own that runs first) writes each result row, in the value
   codec over the join's scope, to a repartition topic by its group; qr then aggregates the rows
   it reads there. */
static int
split_join(wr_query *qr, wr_err *err)
{
    wr_query *jq = wr_arena_calloc(qr->arena, 1, sizeof *jq);
    qr->reparts = wr_arena_calloc(qr->arena, 1, sizeof *qr->reparts);
    if (jq == NULL || qr->reparts == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    jq->arena = qr->arena;
    jq->src = qr->src;
    jq->scope = qr->scope;
    jq->join = qr->join;
    jq->where = qr->where;
    jq->nrekey = jq->nout = qr->agg->ngroup;
    jq->out = qr->agg->group;
    jq->tfn_out = -1;
    qr->join = NULL;
    qr->where = NULL; /* the join filters (where_text stays, for EXPLAIN) */
    qr->rows_in = true;
    qr->reparts[qr->nreparts++] = jq;
    return eng_plan_needed(jq, err);
}

/* Starts the join of a split query (split_join): its repartition topic, numbered after those of
   its sides, then the join's own tasks; qr's tasks read that topic. */
static int
start_split_join(wr_engine *e, wr_session *ss, wr_query *qr, wr_err *err)
{
    wr_query *jq = qr->reparts[0];
    int n = 0;
    for (int s = 0; s < jq->join->nsides; s++)
        n += jq->join->sides[s].rekeyed;
    jq->id = qr->id;
    jq->sql = qr->sql;
    repart_spec rs = {jq->src,         &jq->scope,           jq->out,          jq->nrekey,
                      qr->repart_text, jq->join->partitions, qr->sink->key_fmt};
    int rc = repart_sink(e, qr, n, &rs, jq, err);
    if (rc == WR_OK)
        rc = eng_join_open_tasks(e, ss, jq, err);
    if (rc == WR_OK)
        qr->in_topic = jq->sink->topic;
    return rc;
}

/* Starts a GROUP BY's repartition query: its tasks then read the repartition topic, in which
   each record sits in the partition of its group (in the sink's key format). */
static int
start_group_repart(wr_engine *e, wr_session *ss, wr_query *qr, wr_err *err)
{
    qr->reparts = wr_arena_calloc(qr->arena, 1, sizeof *qr->reparts);
    if (qr->reparts == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    repart_spec rs = {qr->src,         &qr->scope,          qr->agg->group,   qr->agg->ngroup,
                      qr->repart_text, qr->src->partitions, qr->sink->key_fmt};
    wr_query *rq;
    int rc = eng_repart_start(e, ss, qr, 0, &rs, &rq, err);
    if (rc != WR_OK)
        return rc;
    qr->in_topic = rq->sink->topic;
    qr->rekeyed = true;
    return WR_OK;
}

int
eng_exec_query_into(
    wr_engine *e, wr_session *ss, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err)
{
    const wr_select *q = st->select;
    bool create = st->kind == WR_S_CREATE_AS;
    bool aggregated = q->window != NULL || q->ngroup > 0 || q->having != NULL;
    for (int i = 0; i < q->nitems && !aggregated; i++)
        aggregated = eng_has_aggregate(e, q->items[i].expr);
    const wr_relation *first = q->from;
    while (first->is_join)
        first = first->left;
    wr_source *src = eng_source_find(e, first->name);
    if (src == NULL)
        return eng_fail_at(err, first->loc, "%s does not exist", first->name);
    /* a join's result is a table when it joins tables only */
    bool src_table = src->is_table;
    for (const wr_relation *r = q->from; r->is_join; r = r->left) {
        const wr_source *rs = eng_source_find(e, r->right->name);
        src_table = src_table && rs != NULL && rs->is_table;
    }
    if (q->from->is_join && aggregated && src_table)
        return eng_fail_at(err, q->loc,
                           "aggregations over a join of tables are not supported yet: write the "
                           "join to a table first (CREATE TABLE ... AS SELECT) and aggregate that");
    if (q->from->is_join && e->transient && q->emit == WR_EMIT_NONE)
        return eng_fail_at(err, q->from->loc,
                           "pull queries over joins are not supported: query the table a "
                           "persistent join writes, or add EMIT CHANGES");
    if (src->is_table && src->window_kind >= 0 && !e->transient)
        return eng_fail_at(err, q->from->loc,
                           "KSQL does not support persistent queries on windowed tables.");
    if (aggregated && src->window_kind >= 0)
        return eng_fail_at(err, q->from->loc,
                           "%s is windowed: aggregations over windowed streams are not supported",
                           src->name);
    bool table_result = aggregated || src_table;
    if (!create && src_table && !e->transient && !e->explain_transient)
        return eng_fail_at(err, q->from->loc,
                           "INSERT INTO ... SELECT needs a stream to read: %s is a table",
                           src->name);
    if (table_result && create && !st->is_table)
        return eng_fail_at(
            err, st->loc,
            "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE "
            "TABLE AS SELECT statement instead.");
    if (q->limit >= 0 && !e->explain_transient && !e->transient)
        return eng_fail_at(err, q->loc, "LIMIT is only allowed in push and pull queries, not in %s",
                           create ? "CREATE ... AS SELECT" : "INSERT INTO");
    if (st->is_table && create && !table_result)
        return eng_fail_at(err, st->name_loc,
                           "Invalid result type. Your SELECT query produces a STREAM. Please use "
                           "CREATE STREAM AS SELECT statement instead.");
    wr_source *existing = e->transient ? NULL : eng_source_find(e, st->name);
    /* CREATE OR REPLACE ... AS SELECT: the new plan takes over the old query's id, so it
       resumes from the old one's offsets; the sink's schema may only grow */
    wr_query *replacing = NULL;
    if (create && existing != NULL && st->or_replace) {
        for (wr_query *oq = e->queries; oq != NULL; oq = oq->next)
            if (oq->sink == existing && strncmp(oq->id, "INSERTQUERY", 11) != 0)
                replacing = oq;
        if (replacing == NULL)
            return eng_fail_at(err, st->name_loc,
                               "%s was not created by a query: replace it with CREATE OR REPLACE "
                               "STREAM ... (columns)",
                               existing->name);
        if (eng_source_in_use(e, existing, replacing))
            return eng_fail_at(err, st->name_loc,
                               "cannot replace %s while other queries read from or write into it",
                               existing->name);
        existing = NULL; /* planned as a new sink, checked against the old one below */
    }
    if (create && existing != NULL && !st->if_not_exists)
        return eng_fail_at(
            err, st->name_loc, "cannot add %s '%s': a %s with the same name already exists",
            st->is_table ? "table" : "stream", st->name, existing->is_table ? "table" : "stream");
    if (create && existing != NULL) {
        eng_msg(out, "A %s with the same name already exists",
                existing->is_table ? "table" : "stream");
        return WR_OK;
    }
    if (!create && existing == NULL)
        return eng_fail_at(err, st->name_loc, "%s does not exist", st->name);
    if (existing == src)
        return eng_fail_at(err, st->name_loc, "cannot insert into %s from itself", st->name);
    int rc = eng_check_props(st, err);
    if (rc != WR_OK)
        return rc;

    wr_arena *a = wr_arena_create(0);
    wr_query *qr = a ? wr_arena_calloc(a, 1, sizeof *qr) : NULL;
    if (qr == NULL) {
        wr_arena_destroy(a);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    qr->arena = a;
    qr->src = src;
    qr->tfn_out = -1;
    wr_source *sink = NULL;
    if ((rc = q->from->is_join ? eng_join_plan(e, qr, q, err)
                               : eng_source_scope(a, src, q->from->alias, &qr->scope)) != WR_OK)
        goto fail;
    int in_parts = qr->join ? qr->join->partitions : src->partitions;
    wr_analyzer an = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    if (q->where != NULL) {
        if ((rc = wr_expr_analyze(&an, q->where, &qr->where, err)) != WR_OK)
            goto fail;
        if (qr->where->type && qr->where->type->kind != WR_T_BOOLEAN) {
            rc = eng_fail_at(err, q->where->loc, "WHERE needs a BOOLEAN expression, not %s",
                             qr->where->type->kind == WR_T_STRING ? "STRING" : "this type");
            goto fail;
        }
    }
    outcol *cols = NULL;
    int ncols = 0;
    if ((rc = aggregated ? plan_aggregate(e, qr, q, st->name, &cols, &ncols, err)
                         : plan_projection(e, qr, q, st->name, &cols, &ncols, err)) != WR_OK)
        goto fail;
    if (create && e->transient) {
        /* the client is the sink: the columns in the order of the select list */
        sink = eng_source_new(st->name, false);
        sink->cols =
            sink ? wr_arena_calloc(sink->arena, (size_t)ncols + 1, sizeof *sink->cols) : NULL;
        if (sink == NULL || sink->cols == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < ncols; i++)
            sink->cols[i] = (src_col){wr_arena_strdup(sink->arena, cols[i].name),
                                      wr_type_copy(sink->arena, cols[i].type),
                                      cols[i].key ? WR_COL_KEY : WR_COL_VALUE, NULL};
        sink->ncols = ncols;
        sink->topic = "";
        sink->key_fmt = sink->val_fmt = WR_FMT_JSON;
        sink->partitions = in_parts;
    } else if (create) {
        sink = eng_source_new(st->name, st->is_table);
        if (sink == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            goto fail;
        }
        sink->sql = wr_arena_strdup(sink->arena, sql);
        sink->cols = wr_arena_calloc(sink->arena, (size_t)ncols + 1, sizeof *sink->cols);
        /* key columns first, as ksqlDB orders a sink's schema */
        int k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < ncols; i++)
                if (cols[i].key == (pass == 0))
                    sink->cols[k++] =
                        (src_col){wr_arena_strdup(sink->arena, cols[i].name),
                                  wr_type_copy(sink->arena, cols[i].type),
                                  cols[i].key ? (st->is_table ? WR_COL_PRIMARY_KEY : WR_COL_KEY)
                                              : WR_COL_VALUE,
                                  NULL};
        sink->ncols = ncols;
        if ((rc = eng_formats(st, sink, src->key_fmt, src->val_fmt, false, err)) != WR_OK)
            goto fail;
        if ((rc = inherit_key_format(ss, st, sink, err)) != WR_OK)
            goto fail;
        if (eng_prop(st, "WRAP_SINGLE_VALUE") == NULL)
            sink->wrap_single = src->wrap_single;
        if (eng_prop(st, "VALUE_DELIMITER") == NULL)
            sink->delimiter = src->delimiter;
        if (qr->agg != NULL && qr->agg->windowed) {
            sink->window_kind = (int)qr->agg->win.kind;
            sink->window_size = qr->agg->win.size_ms;
        } else if (src->window_kind >= 0 && q->npartition == 0) {
            /* windowed in, windowed out: each row keeps its key's window */
            sink->window_kind = src->window_kind;
            sink->window_size = src->window_size;
        }
        if ((rc = eng_check_formats(sink, st->name_loc, err)) != WR_OK ||
            (rc = eng_timestamp_col(st, sink, err)) != WR_OK ||
            (rc = eng_ensure_topic(e, st, sink, st->name, in_parts, true, err)) != WR_OK)
            goto fail;
    } else {
        sink = existing;
        if (sink->ncols != ncols) {
            rc = eng_fail_at(err, q->loc,
                             "incompatible schema between results and sink: %s has %d columns, the "
                             "query gives %d",
                             sink->name, sink->ncols, ncols);
            goto fail;
        }
    }
    /* one expression per sink column, in the sink's order */
    qr->nout = sink->ncols;
    qr->out = wr_arena_calloc(a, (size_t)sink->ncols + 1, sizeof *qr->out);
    qr->out_text = wr_arena_calloc(a, (size_t)sink->ncols + 1, sizeof *qr->out_text);
    qr->where_text = q->where ? eng_expr_text(a, q->where) : NULL;
    for (int i = 0; i < sink->ncols; i++) {
        int j = 0;
        while (j < ncols && strcmp(cols[j].name, sink->cols[i].name) != 0)
            j++;
        if (j == ncols || cols[j].key != eng_is_key_role(sink->cols[i].role) ||
            !wr_type_coercible(cols[j].type, sink->cols[i].type)) {
            rc = eng_fail_at(
                err, q->loc,
                "incompatible schema between results and sink: column %s (%s) is missing or "
                "has a different type or role",
                sink->cols[i].name, eng_is_key_role(sink->cols[i].role) ? "key" : "value");
            goto fail;
        }
        qr->out_text[i] = cols[j].text;
        if (qr->tfn != NULL && cols[j].name == qr->tfn_col_name) {
            qr->out[i] = cols[j].expr; /* the array; its elements are the column's values */
            qr->tfn_out = i;
        } else {
            qr->out[i] = wr_expr_coerce(a, cols[j].expr, sink->cols[i].type);
        }
    }
    qr->sink = sink;
    qr->sql = wr_arena_strdup(a, sql);
    if ((rc = eng_plan_needed(qr, err)) != WR_OK)
        goto fail;
    if (aggregated)
        (void)group_repart(qr, q);
    if (aggregated && !e->dry_run && (rc = check_aggregation(e, qr, q, replacing, err)) != WR_OK)
        goto fail;
    if (qr->join != NULL && qr->repart_text != NULL && (rc = split_join(qr, err)) != WR_OK)
        goto fail;
    if (e->transient && !e->dry_run) {
        if ((rc = start_push(e, ss, qr, q, err)) != WR_OK)
            goto fail;
        return WR_OK; /* the query owns its arena and its sink */
    }
    if (e->dry_run) {
        qr->id = "(not started: EXPLAIN of a statement)";
        eng_explain_query(out, qr);
        rc = WR_OK;
        goto fail; /* frees the plan: nothing was created */
    }
    char *id = replacing
                   ? strdup(replacing->id)
                   : eng_query_id(e, create ? (st->is_table ? "CTAS" : "CSAS") : "INSERTQUERY",
                                  sink->name);
    qr->id = id ? wr_arena_strdup(a, id) : NULL;
    free(id);
    if (replacing != NULL &&
        (rc = eng_check_upgrade(replacing->sink, sink, st->name_loc, err)) != WR_OK)
        goto fail;
    if (qr->id == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    if (replacing != NULL)
        eng_query_finish(e, replacing); /* the new tasks start where it committed */
    if (qr->join != NULL)
        rc = eng_join_open_tasks(e, ss, qr, err);
    else if ((qr->repart_text == NULL ||
              (rc = qr->rows_in ? start_split_join(e, ss, qr, err)
                                : start_group_repart(e, ss, qr, err)) == WR_OK) &&
             (rc = eng_start_tasks(e, ss, qr, err)) == WR_OK && qr->agg != NULL)
        rc = eng_open_task_stores(e, qr, err);
    if (rc != WR_OK)
        goto fail;
    if (replacing != NULL) {
        wr_source *old_sink = replacing->sink;
        for (wr_query **pp = &e->queries; *pp != NULL; pp = &(*pp)->next)
            if (*pp == replacing) {
                *pp = replacing->next;
                break;
            }
        eng_query_free(replacing);
        eng_source_unlink(e, old_sink);
        eng_source_free(old_sink);
        eng_msg(out, "Replaced query %s", qr->id);
    }
    if (create) {
        sink->next = e->sources;
        e->sources = sink;
    }
    wr_query **tail = &e->queries; /* creation order: older queries run first */
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    if (create)
        eng_msg(out, "Created query with ID %s", qr->id);
    else
        eng_msg(out, "Created query with ID %s", qr->id);
    return WR_OK;
fail:
    if (create && sink != NULL)
        eng_source_free(sink);
    wr_arena_destroy(a);
    return rc;
}
