/*
 * join.c - joins: planning `FROM a JOIN b ON ... [JOIN c ON ...]` (kinds, keys, co-partitioning,
 * repartition topics) and running a join's tasks over state stores. See engine_int.h.
 *
 * A join of n sources is left-deep, as ksqlDB plans it: ((a JOIN b) JOIN c) ...; joins[i] joins
 * the result of sides 0..i with side i + 1. Each side's columns (and its ROWTIME, ROWPARTITION,
 * ROWOFFSET) are a range of the join scope, followed by the result's ROWTIME and, for a FULL
 * OUTER join, its ROWKEY. Kinds:
 *
 *   stream-stream (WITHIN before/after [GRACE PERIOD g]): both sides buffered by key and time;
 *     a record joins the other side's records in its window. Without GRACE PERIOD an outer
 *     record without a match comes out at once with nulls (ksqlDB's default); with one, it
 *     waits in an outer store until stream time passes its window's end plus the grace.
 *     Records older than the window and grace behind stream time are dropped as late.
 *   stream-table (INNER, LEFT): the table's rows by key; a stream record joins the row its key
 *     has at that moment; table changes emit nothing.
 *   table-table (INNER, LEFT, RIGHT, FULL) on the primary key: both tables' rows by key; a
 *     change of either side emits the new result for its key, or a tombstone.
 *   foreign key (INNER, LEFT; `left.fk = right.pk`): the right table's rows by key and an index
 *     (fk, left key); every task materializes the whole right table (it reads all its
 *     partitions), so the left needs no repartition and results keep the left's key. A left
 *     change retracts its old result; a right change updates every left row that refers to it.
 *
 * Co-partitioning: every task p reads partition p of each side. A stream side whose join key is
 * not its key is read through a repartition topic `<service>-<query>-<n>-repartition`, written
 * by an internal query that routes each record by murmur2 of its new key (in the key format of
 * the side it must meet); tables must be joined on their primary key (or by foreign key).
 *
 * A task reads its inputs merged by event time (the next record is the one with the smallest
 * time among inputs that have one; an input that has more in the log than was read stops the
 * merge until the next run), so a table side is up to date when a later stream record comes,
 * however the records were appended. Its state and input positions are one transaction.
 */
#include "runtime/engine_int.h"

/* ---- planning ------------------------------------------------------------------------------ */

static const char *KINDS[] = {"stream-stream", "stream-table", "table-table", "foreign-key"};
static const char *TYPES[] = {"[INNER]", "LEFT [OUTER]", "RIGHT [OUTER]", "[FULL] OUTER"};
static const char *TNAMES[] = {"INNER", "LEFT OUTER", "RIGHT OUTER", "FULL OUTER"};

/* The sources of a left-deep join tree, left to right, and the joins. */
static int
flatten(const wr_relation *r, const wr_relation **srcs, const wr_relation **joins, int *n, int max)
{
    if (!r->is_join) {
        if (*n == max)
            return WR_ERANGE;
        srcs[(*n)++] = r;
        return WR_OK;
    }
    int rc = flatten(r->left, srcs, joins, n, max);
    if (rc != WR_OK)
        return rc;
    if (*n == max)
        return WR_ERANGE;
    joins[*n - 1] = r;
    srcs[(*n)++] = r->right;
    return WR_OK;
}

/* Which sides the columns of e come from (a bit per side). */
static unsigned
sides_of(const joinexec *J, const wr_cexpr *e)
{
    if (e == NULL)
        return 0;
    unsigned m = 0;
    if (e->op == WR_C_COLUMN)
        for (int s = 0; s < J->nsides; s++)
            if (e->col >= J->sides[s].base && e->col < J->sides[s].base + J->sides[s].ncols)
                m |= 1u << s;
    m |= sides_of(J, e->a) | sides_of(J, e->b) | sides_of(J, e->c);
    for (int i = 0; e->args != NULL && i < e->n; i++)
        m |= sides_of(J, e->args[i]);
    return m;
}

static int
one_side(unsigned m)
{
    return m != 0 && (m & (m - 1)) == 0 ? __builtin_ctz(m) : -1;
}

/* The conjuncts of an AND tree. */
static int
conjuncts(const wr_expr *x, const wr_expr **out, int *n, int max)
{
    if (x->kind == WR_E_BINARY && x->op == WR_OP_AND) {
        int rc = conjuncts(x->a, out, n, max);
        return rc == WR_OK ? conjuncts(x->b2, out, n, max) : rc;
    }
    if (*n == max)
        return WR_ERANGE;
    out[(*n)++] = x;
    return WR_OK;
}

/* Whether exprs (over side s's own scope) are exactly s's key columns, in order. */
static bool
is_source_key(const jside *s, wr_cexpr *const *exprs, int n)
{
    int k = 0;
    for (int i = 0; i < s->src->ncols; i++) {
        if (!eng_is_key_role(s->src->cols[i].role))
            continue;
        if (k >= n || exprs[k]->op != WR_C_COLUMN || exprs[k]->col != i)
            return false;
        k++;
    }
    return k == n && n > 0;
}

static bool
key_has_text(const joinexec *J, const char *t)
{
    for (int i = 0; i < J->nkeytexts; i++)
        if (strcmp(J->keytexts[i], t) == 0)
            return true;
    return false;
}

static int
key_add(wr_arena *a, joinexec *J, const wr_cexpr *ce, const char *text)
{
    if (!key_has_text(J, text)) {
        const char **nt = wr_arena_calloc(a, (size_t)J->nkeytexts + 1, sizeof *nt);
        if (nt == NULL)
            return WR_ENOMEM;
        if (J->nkeytexts > 0)
            memcpy(nt, J->keytexts, (size_t)J->nkeytexts * sizeof *nt);
        nt[J->nkeytexts++] = text;
        J->keytexts = nt;
    }
    if (ce != NULL && ce->op == WR_C_COLUMN) {
        int *nc = wr_arena_calloc(a, (size_t)J->nkeycols + 1, sizeof *nc);
        if (nc == NULL)
            return WR_ENOMEM;
        if (J->nkeycols > 0)
            memcpy(nc, J->keycols, (size_t)J->nkeycols * sizeof *nc);
        nc[J->nkeycols++] = ce->col;
        J->keycols = nc;
    }
    return WR_OK;
}

/* The join's scope: each side's columns and pseudo columns, qualified by its alias; then the
   result's ROWTIME (unqualified) and, with a FULL OUTER join, ROWKEY. */
static int
join_scope(wr_arena *a, joinexec *J, bool full, wr_scope *sc)
{
    int n = 2;
    for (int s = 0; s < J->nsides; s++)
        n += J->sides[s].scope.n;
    wr_col *c = wr_arena_calloc(a, (size_t)n, sizeof *c);
    if (c == NULL)
        return WR_ENOMEM;
    int k = 0;
    for (int s = 0; s < J->nsides; s++) {
        J->sides[s].base = k;
        J->sides[s].ncols = J->sides[s].scope.n;
        for (int i = 0; i < J->sides[s].scope.n; i++)
            c[k++] = J->sides[s].scope.cols[i];
    }
    J->rowtime_col = k;
    c[k++] = (wr_col){"ROWTIME", NULL, wr_type_of(WR_T_BIGINT)};
    J->rowkey_col = -1;
    if (full) {
        J->rowkey_col = k;
        c[k++] = (wr_col){"ROWKEY", NULL, NULL}; /* typed once the key is known */
    }
    J->ncols = k;
    sc->n = k;
    sc->cols = c;
    return WR_OK;
}

/* Plans the join of q->from into qr: its sides, joins, scope (qr->scope) and result key. */
int
eng_join_plan(wr_engine *e, wr_query *qr, const wr_select *q, wr_err *err)
{
    enum { MAXS = 16 };
    wr_arena *a = qr->arena;
    const wr_relation *srcs[MAXS], *rels[MAXS];
    int n = 0;
    if (flatten(q->from, srcs, rels, &n, MAXS) != WR_OK)
        return eng_fail_at(err, q->from->loc, "a join of more than %d sources is not supported",
                           MAXS);
    joinexec *J = wr_arena_calloc(a, 1, sizeof *J);
    if (J == NULL || (J->sides = wr_arena_calloc(a, (size_t)n, sizeof *J->sides)) == NULL ||
        (J->joins = wr_arena_calloc(a, (size_t)n, sizeof *J->joins)) == NULL)
        return WR_ENOMEM;
    J->nsides = n;
    J->njoins = n - 1;
    bool full = false;
    for (int s = 0; s < n; s++) {
        jside *sd = &J->sides[s];
        sd->src = eng_source_find(e, srcs[s]->name);
        if (sd->src == NULL)
            return eng_fail_at(err, srcs[s]->loc, "%s does not exist", srcs[s]->name);
        sd->alias = srcs[s]->alias ? srcs[s]->alias : sd->src->name;
        for (int o = 0; o < s; o++)
            if (J->sides[o].src == sd->src || strcmp(J->sides[o].alias, sd->alias) == 0)
                return eng_fail_at(
                    err, srcs[s]->loc,
                    n > 2 ? "N-way joins do not support multiple occurrences of the same source. "
                            "Source: '%s'"
                          : "Can not join '%s' to itself: give each side its own alias",
                    sd->src->name);
        if (sd->src->window_kind >= 0)
            return eng_fail_at(err, srcs[s]->loc,
                               "%s is windowed: joins of windowed sources are not supported",
                               sd->src->name);
        sd->topic = sd->src->topic;
        int rc = eng_source_scope(a, sd->src, sd->alias, &sd->scope);
        if (rc != WR_OK)
            return rc;
        if (s > 0)
            full |= rels[s - 1]->join == WR_JOIN_FULL;
    }
    int rc = join_scope(a, J, full, &qr->scope);
    if (rc != WR_OK)
        return rc;
    qr->src = J->sides[0].src;
    wr_col *scols = (wr_col *)qr->scope.cols;

    /* each join: its kind, its key on both sides */
    bool left_table = J->sides[0].src->is_table;
    bool keyed_left = false; /* whether the result so far is partitioned by the key set */
    /* what the result so far is partitioned by: equal expressions (SQL) and columns */
    const char *eqv[2 * MAXS];
    int eqvcol[2 * MAXS], neqv = 0;
    for (int j = 0; j < J->njoins; j++) {
        const wr_relation *rel = rels[j];
        jnode *nd = &J->joins[j];
        int r = j + 1;
        jside *rs = &J->sides[r];
        nd->right = r;
        nd->type = rel->join;
        nd->lend = rs->base;
        nd->on = eng_expr_text(a, rel->on);
        const char *ltext = J->sides[0].alias;
        bool rtable = rs->src->is_table;
        if (left_table && !rtable)
            return eng_fail_at(err, rel->loc,
                               "Invalid join order: table-stream joins are not supported; only "
                               "stream-table joins. Got %s %s JOIN %s.",
                               ltext, TYPES[rel->join], rs->alias);
        if (!left_table && rtable && (rel->join == WR_JOIN_FULL || rel->join == WR_JOIN_RIGHT))
            return eng_fail_at(err, rel->loc,
                               "Invalid join type: %s join not supported for stream-table join. "
                               "Got %s %s JOIN %s.",
                               rel->join == WR_JOIN_FULL ? "full-outer" : "right", ltext,
                               TYPES[rel->join], rs->alias);
        if (!left_table && !rtable && rel->within == NULL)
            return eng_fail_at(err, rel->loc,
                               "Stream-Stream joins must have a WITHIN clause specified. None "
                               "was provided. To learn about how to specify a WITHIN clause "
                               "with a stream-stream join, please visit: "
                               "https://docs.ksqldb.io/en/latest/developer-guide/joins/"
                               "join-streams-and-tables/");
        if (rtable && rel->within != NULL)
            return eng_fail_at(
                err, rel->loc,
                "A window definition was provided for a %s join. These joins are not windowed. "
                "Please drop the window definition (ie. the WITHIN clause) and try to execute "
                "your join again.",
                left_table ? "Table-Table" : "Stream-Table");
        nd->kind = !rtable ? JN_SS : left_table ? JN_TT : JN_ST;
        if (rel->within != NULL) {
            nd->before = rel->within->before_ms;
            nd->after = rel->within->after_ms;
            nd->eager = rel->within->grace_ms < 0;
            nd->grace = nd->eager ? DEFAULT_GRACE_MS : rel->within->grace_ms;
        }
        /* ON: equalities between the left (sides < r) and side r, joined with AND */
        const wr_expr *eqs[16];
        int neq = 0;
        if (conjuncts(rel->on, eqs, &neq, 16) != WR_OK)
            return eng_fail_at(err, rel->on->loc, "too many conditions in a join criteria");
        nd->nkey = neq;
        rs->nkey = neq;
        if ((nd->lkey = wr_arena_calloc(a, (size_t)neq, sizeof *nd->lkey)) == NULL ||
            (nd->ktype = wr_arena_calloc(a, (size_t)neq, sizeof *nd->ktype)) == NULL ||
            (rs->key = wr_arena_calloc(a, (size_t)neq, sizeof *rs->key)) == NULL)
            return WR_ENOMEM;
        const wr_expr *lx[16], *rx[16];
        for (int i = 0; i < neq; i++) {
            const wr_expr *x = eqs[i];
            if (x->kind != WR_E_BINARY || x->op != WR_OP_EQ)
                return eng_fail_at(err, x->loc,
                                   "Unsupported join expression: %s. A join criteria must be "
                                   "equalities between the two sides, joined with AND.",
                                   eng_expr_text(a, x));
            wr_analyzer an = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
            wr_cexpr *ca, *cb;
            if ((rc = wr_expr_analyze(&an, x->a, &ca, err)) != WR_OK ||
                (rc = wr_expr_analyze(&an, x->b2, &cb, err)) != WR_OK)
                return rc;
            int sa = one_side(sides_of(J, ca)), sb = one_side(sides_of(J, cb));
            if (sa < 0 || sb < 0)
                return eng_fail_at(err, x->loc,
                                   "Invalid comparison expression '%s' in join '%s'. Each side "
                                   "of the join comparision must contain references from "
                                   "exactly one source.",
                                   eng_expr_text(a, sa < 0 ? x->a : x->b2), eng_expr_text(a, x));
            if (sa == sb)
                return eng_fail_at(err, x->loc,
                                   "Each side of the join must reference exactly one source and "
                                   "not the same source. Left side references `%s` and right "
                                   "references `%s`",
                                   J->sides[sa].alias, J->sides[sb].alias);
            if ((sa != r && sb != r) || sa > r || sb > r)
                return eng_fail_at(err, x->loc,
                                   "A join criteria is expected to reference the source (`%s`) "
                                   "in the FROM clause, instead the right source references "
                                   "`%s` and the left source references `%s`",
                                   rs->alias, J->sides[sb].alias, J->sides[sa].alias);
            bool swap = sa == r;
            const wr_expr *le = swap ? x->b2 : x->a, *re = swap ? x->a : x->b2;
            wr_cexpr *lc = swap ? cb : ca;
            if (ca->type == NULL || cb->type == NULL || !wr_type_equal(ca->type, cb->type))
                return eng_fail_at(
                    err, x->loc, "Invalid join condition: types don't match. Got %s{%s} = %s{%s}.",
                    eng_expr_text(a, x->a), wr_fn_type_list(a, &ca->type, 1),
                    eng_expr_text(a, x->b2), wr_fn_type_list(a, &cb->type, 1));
            nd->lkey[i] = lc;
            nd->ktype[i] = lc->type;
            lx[i] = le;
            rx[i] = re;
            /* the right's key again, over its own scope */
            wr_analyzer ra = {.arena = a, .scope = &rs->scope, .fns = e->opts.fns};
            if ((rc = wr_expr_analyze(&ra, re, &rs->key[i], err)) != WR_OK)
                return rc;
        }
        rs->key_text = eng_expr_text(a, neq == 1 ? rx[0] : rel->on);
        bool rkeyed = is_source_key(rs, rs->key, neq);
        /* is the left partitioned by this key? */
        bool lkeyed;
        if (j == 0) {
            jside *ls = &J->sides[0];
            ls->nkey = neq;
            if ((ls->key = wr_arena_calloc(a, (size_t)neq, sizeof *ls->key)) == NULL)
                return WR_ENOMEM;
            for (int i = 0; i < neq; i++) {
                wr_analyzer la = {.arena = a, .scope = &ls->scope, .fns = e->opts.fns};
                if ((rc = wr_expr_analyze(&la, lx[i], &ls->key[i], err)) != WR_OK)
                    return rc;
            }
            ls->key_text = eng_expr_text(a, neq == 1 ? lx[0] : rel->on);
            lkeyed = is_source_key(ls, ls->key, neq);
        } else {
            const char *lt = eng_expr_text(a, lx[0]);
            lkeyed = false;
            for (int i = 0; keyed_left && neq == 1 && i < neqv; i++)
                lkeyed |= strcmp(eqv[i], lt) == 0 ||
                          (nd->lkey[0]->op == WR_C_COLUMN && eqvcol[i] == nd->lkey[0]->col);
        }
        if (rtable && !rkeyed)
            return eng_fail_at(err, rel->on->loc,
                               "Invalid join condition: %s joins require to join on the "
                               "%s. Got %s.",
                               left_table ? "table-table" : "stream-table",
                               left_table ? "primary key of the right input table"
                                          : "table's primary key",
                               eng_expr_text(a, rel->on));
        if (left_table && !lkeyed) {
            /* a foreign key of the left: the right table is read whole by every task */
            if (rel->join != WR_JOIN_INNER && rel->join != WR_JOIN_LEFT)
                return eng_fail_at(err, rel->loc,
                                   "Invalid join type: %s join not supported for foreign-key "
                                   "table-table join. Got %s %s JOIN %s.",
                                   rel->join == WR_JOIN_FULL ? "full-outer" : "right", ltext,
                                   TYPES[rel->join], rs->alias);
            nd->kind = JN_FK;
            rs->global = true;
            /* the left's own key, which the result keeps */
            if (j == 0) {
                jside *ls = &J->sides[0];
                for (int i = 0; i < ls->src->ncols; i++)
                    ls->nown += eng_is_key_role(ls->src->cols[i].role);
                nd->nlown = ls->nown;
                if ((nd->lown = wr_arena_calloc(a, (size_t)ls->nown + 1, sizeof *nd->lown)) == NULL)
                    return WR_ENOMEM;
                for (int i = 0, k = 0; i < ls->src->ncols; i++)
                    if (eng_is_key_role(ls->src->cols[i].role)) {
                        wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                        if (ce == NULL)
                            return WR_ENOMEM;
                        ce->op = WR_C_COLUMN;
                        ce->col = i;
                        ce->type = ls->src->cols[i].type;
                        nd->lown[k++] = ce;
                        if ((rc = key_add(a, J, ce,
                                          wr_arena_printf(a, "%s.%s", ls->alias,
                                                          ls->src->cols[i].name))) != WR_OK)
                            return rc;
                        J->keytype = ce->type;
                    }
                keyed_left = true;
            } else {
                /* the left is a table-table join result, keyed by its join key */
                nd->nlown = J->joins[j - 1].nkey;
                nd->lown = J->joins[j - 1].lkey;
            }
            continue;
        }
        if (!lkeyed && (j > 0 || left_table))
            return eng_fail_at(err, rel->on->loc,
                               "joining the result of a join on another key (%s) needs a "
                               "repartition of that result, which weir does not do yet: join "
                               "on the same key, or write the first join to a stream and join "
                               "that",
                               eng_expr_text(a, lx[0]));
        if (!lkeyed)
            J->sides[0].rekeyed = true; /* a repartition topic, made when the query starts */
        if (!rkeyed)
            rs->rekeyed = true;
        if (j == 0 || !keyed_left)
            neqv = 0;
        for (int i = 0; neq == 1 && i < 2 && neqv < 2 * MAXS; i++) {
            const wr_cexpr *ce = i == 0 ? nd->lkey[0] : rs->key[0];
            eqv[neqv] = eng_expr_text(a, i == 0 ? lx[0] : rx[0]);
            eqvcol[neqv++] = ce->op == WR_C_COLUMN ? ce->col + (i == 0 ? 0 : rs->base) : -1;
        }
        /* the result's key: the join key (FULL OUTER: ROWKEY, either side's) */
        if (j == 0 || !keyed_left) {
            J->nkeytexts = J->nkeycols = 0;
            for (int i = 0; neq == 1 && i < 2; i++)
                if ((rc = key_add(a, J, i == 0 ? nd->lkey[0] : NULL,
                                  eng_expr_text(a, i == 0 ? lx[0] : rx[0]))) != WR_OK)
                    return rc;
            J->keytype = nd->ktype[0];
        } else if ((rc = key_add(a, J, nd->lkey[0], eng_expr_text(a, lx[0]))) != WR_OK ||
                   (rc = key_add(a, J, NULL, eng_expr_text(a, rx[0]))) != WR_OK) {
            return rc;
        }
        /* the right's key columns hold the key too */
        if (neq == 1 && rs->key[0]->op == WR_C_COLUMN) {
            wr_cexpr rcol = *rs->key[0];
            rcol.col += rs->base;
            if ((rc = key_add(a, J, &rcol, eng_expr_text(a, rx[0]))) != WR_OK)
                return rc;
        }
        if (rel->join == WR_JOIN_FULL) {
            J->nkeytexts = J->nkeycols = 0;
            wr_cexpr rk = {.op = WR_C_COLUMN, .col = J->rowkey_col};
            if ((rc = key_add(a, J, &rk, "ROWKEY")) != WR_OK)
                return rc;
            scols[J->rowkey_col].type = nd->ktype[0];
        }
        keyed_left = true;
        left_table = left_table && rtable;
    }
    for (int j = 0; j < J->njoins; j++)
        if (J->joins[j].nkey > 1 && (J->njoins > 1 || J->sides[0].rekeyed || J->sides[1].rekeyed ||
                                     J->joins[j].type == WR_JOIN_FULL))
            return eng_fail_at(err, q->from->loc,
                               "joins on more than one equality need both sides keyed by those "
                               "columns and one join: this one needs a repartition or more "
                               "joins, which weir plans only for single-column keys");
    if (J->rowkey_col >= 0 && scols[J->rowkey_col].type == NULL)
        scols[J->rowkey_col].type = J->keytype;
    J->table = left_table;

    /* co-partitioning: every side a task reads one partition of has the same count */
    int anchor = -1;
    for (int s = 0; s < n && anchor < 0; s++)
        if (!J->sides[s].rekeyed && !J->sides[s].global)
            anchor = s;
    J->partitions = J->sides[anchor >= 0 ? anchor : 0].src->partitions;
    for (int s = 0; anchor >= 0 && s < n; s++) {
        const jside *sd = &J->sides[s], *an = &J->sides[anchor];
        if (sd->rekeyed || sd->global || s == anchor)
            continue;
        if (sd->src->partitions != an->src->partitions)
            return eng_fail_at(
                err, q->from->loc,
                "Can't join `%s` with `%s` since the number of partitions don't match. `%s` "
                "partitions = %d; `%s` partitions = %d. Please repartition either one so that the "
                "number of partitions match.",
                an->alias, sd->alias, an->alias, an->src->partitions, sd->alias,
                sd->src->partitions);
        if (an->src->partitions > 1 && sd->src->key_fmt != an->src->key_fmt)
            return eng_fail_at(err, q->from->loc,
                               "Can't join `%s` with `%s`: their key formats differ, so equal "
                               "keys are not in the same partitions. Give both the same "
                               "KEY_FORMAT, or repartition one (CREATE STREAM ... PARTITION BY)",
                               an->alias, sd->alias);
    }
    J->keytype = J->keytype ? J->keytype : J->joins[0].ktype[0];
    qr->join = J;
    return WR_OK;
}

/* Whether q reads s through its join. */
bool
eng_join_uses(const wr_query *q, const wr_source *s)
{
    for (int i = 0; q->join != NULL && i < q->join->nsides; i++)
        if (q->join->sides[i].src == s)
            return true;
    for (int i = 0; i < q->nreparts; i++) /* a join that feeds q */
        if (eng_join_uses(q->reparts[i], s))
            return true;
    return false;
}

/* ---- starting: repartition queries, tasks, stores ------------------------------------------ */

typedef struct jin {
    int side;
    int32_t part;
    int64_t offset, saved; /* next record; saved: where the transaction began */
} jin;

struct jtask {
    int nin, njoins;
    jin *in;
    int64_t *time, *saved_time; /* each join's stream time */
    int64_t *expired;           /* stream-stream: rows before this time are gone (in memory) */
    uint64_t seq, saved_seq;    /* numbers buffered stream rows apart */
};

/* The repartition query of side s: it writes each record of the side to a repartition topic by
   its join key, encoded as the key of the side it must meet (kf). */
static int
start_repart(wr_engine *e, wr_session *ss, wr_query *q, int s, int n, wr_fmt_kind kf, wr_err *err)
{
    joinexec *J = q->join;
    jside *sd = &J->sides[s];
    repart_spec rs = {sd->src, &sd->scope, sd->key, sd->nkey, sd->key_text, J->partitions, kf};
    int rc = eng_repart_start(e, ss, q, n, &rs, &sd->repart, err);
    if (rc == WR_OK)
        sd->topic = sd->repart->sink->topic;
    return rc;
}

static void
meta_put(task *t)
{
    struct jtask *jt = t->jt;
    uint8_t k = STORE_JOIN;
    wr_buf v = WR_BUF_INIT;
    wr_buf_put_varint(&v, jt->nin);
    for (int i = 0; i < jt->nin; i++)
        wr_buf_put_varint(&v, jt->in[i].offset);
    wr_buf_put_varint(&v, (int64_t)jt->seq);
    for (int j = 0; j < jt->njoins; j++)
        wr_buf_put_varint(&v, jt->time[j]);
    if (wr_buf_ok(&v))
        wr_store_put(t->txn, t->store, &k, 1, v.data, v.len);
    wr_buf_free(&v);
}

void
eng_join_store_meta(task *t)
{
    meta_put(t);
}

static bool
meta_get(wr_engine *e, task *t, int njoins)
{
    struct jtask *jt = t->jt;
    uint8_t k = STORE_JOIN;
    wr_buf v = WR_BUF_INIT;
    bool found = false;
    wr_err err = {0};
    if (wr_store_get(e->opts.state, NULL, t->store, &k, 1, &v, &found, &err) == WR_OK && found) {
        wr_rd r = wr_rd_make(v.data, v.len);
        int64_t n = wr_rd_varint(&r, 10);
        found = n == jt->nin;
        for (int i = 0; found && i < jt->nin; i++)
            jt->in[i].offset = wr_rd_varint(&r, 10);
        jt->seq = (uint64_t)wr_rd_varint(&r, 10);
        for (int j = 0; found && j < njoins; j++)
            jt->time[j] = wr_rd_varint(&r, 10);
        found = found && r.err == WR_OK;
    }
    wr_buf_free(&v);
    return found;
}

/* Starts a planned join query (q->id set): its repartition topics and queries, one task per
   partition reading partition p of every side (every partition of a global side), and the
   tasks' stores, restored; the positions come back with the state. */
int
eng_join_open_tasks(wr_engine *e, wr_session *ss, wr_query *q, wr_err *err)
{
    joinexec *J = q->join;
    wr_arena *a = q->arena;
    int nrk = 0;
    for (int s = 0; s < J->nsides; s++)
        nrk += J->sides[s].rekeyed;
    if (nrk > 0 && q->is_push)
        return wr_err_set(err, WR_EINVAL,
                          "a push query over a join that needs a repartition topic (%s) is not "
                          "supported: create a persistent query (CREATE STREAM ... AS SELECT) "
                          "and query its result",
                          J->sides[0].rekeyed ? J->sides[0].key_text : "a stream side's key");
    int grc = eng_query_guarantee(e, ss, q, err);
    if (grc != WR_OK)
        return grc;
    q->reparts = wr_arena_calloc(a, (size_t)nrk + 1, sizeof *q->reparts);
    if (q->reparts == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_fmt_kind kf = J->sides[0].src->key_fmt;
    for (int s = 0; s < J->nsides; s++)
        if (!J->sides[s].rekeyed && !J->sides[s].global) {
            kf = J->sides[s].src->key_fmt;
            break;
        }
    for (int s = 0, n = 0; s < J->nsides; s++)
        if (J->sides[s].rekeyed) {
            int rc = start_repart(e, ss, q, s, n++, kf, err);
            if (rc != WR_OK)
                return rc;
        }
    const char *reset = ss ? wr_props_get(&ss->props, "auto.offset.reset") : NULL;
    bool earliest = q->pull || (reset != NULL && strcasecmp(reset, "earliest") == 0);
    int P = J->partitions;
    q->ntasks = P;
    q->tasks = wr_arena_calloc(a, (size_t)P, sizeof *q->tasks);
    if (q->tasks == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int p = 0; p < P; p++) {
        task *t = &q->tasks[p];
        t->partition = p;
        struct jtask *jt = wr_arena_calloc(a, 1, sizeof *jt);
        int nin = 0;
        for (int s = 0; s < J->nsides; s++)
            nin += J->sides[s].global ? J->sides[s].src->partitions : 1;
        if (jt == NULL || (jt->in = wr_arena_calloc(a, (size_t)nin, sizeof *jt->in)) == NULL ||
            (jt->time = wr_arena_calloc(a, (size_t)J->njoins + 1, sizeof *jt->time)) == NULL ||
            (jt->saved_time = wr_arena_calloc(a, (size_t)J->njoins + 1, sizeof *jt->time)) ==
                NULL ||
            (jt->expired = wr_arena_calloc(a, (size_t)J->njoins + 1, sizeof *jt->time)) == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        jt->njoins = J->njoins;
        for (int j = 0; j < J->njoins; j++)
            jt->time[j] = jt->expired[j] = INT64_MIN;
        for (int s = 0; s < J->nsides; s++) {
            const jside *sd = &J->sides[s];
            int32_t parts = wr_log_topic_partitions(e->opts.db, sd->topic);
            if (parts < 1)
                return wr_err_set(err, WR_ENOENT, "topic %s of %s does not exist", sd->topic,
                                  sd->src->name);
            if (!sd->global && parts != P)
                return wr_err_set(err, WR_EINVAL,
                                  "topic %s of %s has %d partitions, the join expects %d",
                                  sd->topic, sd->src->name, parts, P);
            for (int32_t k = sd->global ? 0 : p; k < (sd->global ? parts : p + 1); k++) {
                wr_partition *lp;
                if (wr_log_partition(e->opts.db, sd->topic, k, &lp) != WR_OK)
                    return wr_err_set(err, WR_ENOENT, "partition %d of %s is missing", k,
                                      sd->topic);
                /* a table is read whole: a join needs all of its rows */
                bool whole = earliest || sd->rekeyed || sd->global || sd->src->is_table;
                int64_t off = whole ? wr_log_start_offset(lp) : wr_log_end_offset(lp);
                jt->in[jt->nin++] = (jin){s, k, off, off};
            }
        }
        t->jt = jt;
    }
    int rc = eng_open_task_stores(e, q, err);
    for (int p = 0; rc == WR_OK && p < P; p++)
        meta_get(e, &q->tasks[p], J->njoins);
    return rc;
}

/* ---- running ----------------------------------------------------------------------------- */

/* An input of a task during a run: what was read of it, and its next row. */
typedef struct jcur {
    jin *in;
    const jside *sd;
    wr_partition *lp;
    wr_fmt kf, vf;
    wr_val *kv, *vv;
    wr_buf data;
    size_t off;
    bool fetched, in_batch;
    bool stop; /* what was read ran out while the partition has more: the merge waits */
    bool idle; /* at the end of the partition */
    wr_rbatch_iter it;
    int64_t batch_end;
    bool have, gone; /* the next row, a table's delete */
    wr_val *v;       /* ... over the join scope (only the side's columns set) */
    int64_t ts, roff;
} jcur;

typedef struct jrun {
    wr_engine *e;
    wr_query *q;
    task *t;
    sink_out *so;
    wr_arena *ra;
    joinexec *J;
    wr_err *err;
    wr_buf **scratch; /* decompressed batches, kept until the run ends (rows point into them) */
    int nscratch, capscratch;
    wr_batch b; /* the result rows, for the filter and projection */
    int64_t *ts;
    bool *gone;
    int32_t cap;
    int64_t first_offset;
    int32_t part; /* where the current record came from (processing log) */
    int64_t offset;
    wr_buf k, k2, v; /* scratch */
} jrun;

#define OUT_ROWS 1024

static wr_val *
row_new(jrun *r)
{
    wr_val *v = wr_arena_alloc(r->ra, (size_t)r->J->ncols * sizeof *v);
    for (int c = 0; v != NULL && c < r->J->ncols; c++)
        v[c] = wr_val_null(r->q->scope.cols[c].type);
    return v;
}

static wr_val *
row_copy(jrun *r, const wr_val *src)
{
    wr_val *v = wr_arena_alloc(r->ra, (size_t)r->J->ncols * sizeof *v);
    if (v != NULL)
        memcpy(v, src, (size_t)r->J->ncols * sizeof *v);
    return v;
}

static void
row_null(jrun *r, wr_val *v, int lo, int hi)
{
    for (int c = lo; c < hi; c++)
        v[c] = wr_val_null(r->q->scope.cols[c].type);
}

static void
row_encode(jrun *r, wr_buf *b, const wr_val *v, int64_t ts, int lo, int hi)
{
    eng_row_encode(b, &r->q->scope, v, ts, lo, hi);
}

static bool
row_decode(jrun *r, const uint8_t *p, size_t n, wr_val *v, int64_t *ts, int lo, int hi)
{
    return eng_row_decode(&r->q->scope, r->ra, p, n, v, ts, lo, hi);
}

static uint8_t
pfx(int j)
{
    return (uint8_t)(STORE_JOIN_BASE + j);
}

/* b = [prefix(j)][tag] key...; false when a key column is null (it joins nothing). */
static bool
key_bytes(wr_buf *b, int j, char tag, const jnode *nd, const wr_val *k, int n)
{
    wr_buf_reset(b);
    wr_buf_put_u8(b, pfx(j));
    wr_buf_put_u8(b, (uint8_t)tag);
    for (int i = 0; i < n; i++) {
        if (k[i].null)
            return false;
        wr_key_encode(b, nd->ktype[i], &k[i]);
    }
    return true;
}

static int
oom(jrun *r)
{
    return wr_err_set(r->err, WR_ENOMEM, "out of memory");
}

static int
store_err(jrun *r, int rc)
{
    if (r->err->code == WR_OK)
        wr_err_set(r->err, rc, "store %s: cannot write", wr_store_name(r->t->store));
    return rc;
}

static int
put(jrun *r, const wr_buf *k, const wr_buf *v)
{
    int rc =
        wr_store_put(r->t->txn, r->t->store, k->data, k->len, v ? v->data : NULL, v ? v->len : 0);
    return rc == WR_OK ? WR_OK : store_err(r, rc);
}

static int
del(jrun *r, const void *k, size_t n)
{
    int rc = wr_store_delete(r->t->txn, r->t->store, k, n);
    return rc == WR_OK ? WR_OK : store_err(r, rc);
}

static int
get(jrun *r, const wr_buf *k, wr_buf *v, bool *found)
{
    return wr_store_get(r->e->opts.state, r->t->txn, r->t->store, k->data, k->len, v, found,
                        r->err);
}

static int
flush_out(jrun *r)
{
    if (r->b.n == 0)
        return WR_OK;
    int rc = eng_batch_out(r->e, r->q, r->t, r->so, r->ra, &r->b, r->ts, NULL,
                           r->J->table ? r->gone : NULL, r->first_offset, r->err);
    r->b.n = 0;
    r->first_offset = -1;
    if (rc == WR_OK && wr_batch_init(&r->b, &r->q->scope, r->cap, r->ra) != WR_OK)
        rc = oom(r);
    return rc;
}

/* A result row of the whole join (gone: a table's delete of its key). */
static int
out_row(jrun *r, wr_val *v, int64_t ts, bool gone)
{
    v[r->J->rowtime_col] = wr_val_bigint(ts);
    int32_t i = r->b.n++;
    for (int c = 0; c < r->J->ncols; c++)
        wr_vec_set(&r->b.cols[c], i, &v[c]);
    r->ts[i] = ts;
    r->gone[i] = gone;
    if (r->first_offset < 0)
        r->first_offset = r->offset;
    return r->b.n == r->cap ? flush_out(r) : WR_OK;
}

static int node_row(jrun *r, int j, bool right, wr_val *v, int64_t ts, bool gone);

/* A result of join j: the left input of the next join, or a result row. */
static int
emit(jrun *r, int j, wr_val *v, int64_t ts, bool gone)
{
    if (j + 1 < r->J->njoins)
        return node_row(r, j + 1, false, v, ts, gone);
    return out_row(r, v, ts, gone);
}

/* Sets the key columns of join j (both sides' join key columns, ROWKEY) to k: a tombstone or a
   FULL OUTER row carries its key whichever side is missing. */
static void
fill_key(jrun *r, int j, wr_val *v, const wr_val *k, bool all)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    if (r->J->rowkey_col >= 0 && nd->type == WR_JOIN_FULL && nd->nkey == 1)
        v[r->J->rowkey_col] = k[0];
    if (!all)
        return;
    for (int i = 0; i < nd->nkey; i++) {
        if (nd->lkey[i]->op == WR_C_COLUMN)
            v[nd->lkey[i]->col] = k[i];
        if (rs->key[i]->op == WR_C_COLUMN)
            v[rs->base + rs->key[i]->col] = k[i];
    }
}

static void
eval_keys(jrun *r, wr_cexpr *const *ex, int n, const wr_val *row, wr_val *k)
{
    wr_eval_ctx cx = {.arena = r->ra, .row = row};
    for (int i = 0; i < n; i++) {
        if (ex[i]->op == WR_C_COLUMN)
            k[i] = row[ex[i]->col];
        else
            wr_expr_eval(ex[i], &cx, &k[i]);
    }
}

static bool
outer_side(const jnode *nd, bool right)
{
    return nd->type == WR_JOIN_FULL || nd->type == (right ? WR_JOIN_RIGHT : WR_JOIN_LEFT);
}

/* The columns of side `right` of join j: [lo, hi) */
static void
own_cols(const jrun *r, int j, bool right, int *lo, int *hi)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    *lo = right ? rs->base : 0;
    *hi = right ? rs->base + rs->ncols : nd->lend;
}

/* ---- stream-stream ----
 * buffers:  [j]['L'|'R'][key][time][seq] -> the row (with its time)
 * time idx: [j]['T'][time][side][seq][key] -> nothing, to expire the buffers
 * outer:    [j]['O'][time][side][seq][key] -> the row, waiting for its window to close */

static void
put_be64(wr_buf *b, uint64_t x)
{
    wr_buf_put_be64(b, x);
}

typedef struct match {
    wr_val *v;
    int64_t ts;
    uint8_t *okey; /* its outer-store key */
    size_t oklen;
} match;

/* ms (n of them) in an array twice *cap long (in the run's arena); NULL when out of memory. */
static match *
matches_grow(jrun *r, const match *ms, int n, int *cap)
{
    match *nm = wr_arena_alloc(r->ra, (size_t)*cap * 2 * sizeof *nm);
    if (nm != NULL) {
        memcpy(nm, ms, (size_t)n * sizeof *nm);
        *cap *= 2;
    }
    return nm;
}

static int
ss_emit_closed(jrun *r, int j)
{
    const jnode *nd = &r->J->joins[j];
    int64_t now = r->t->jt->time[j];
    int64_t look = nd->before < nd->after ? nd->before : nd->after;
    uint8_t lo[2] = {pfx(j), 'O'};
    wr_buf hi = WR_BUF_INIT;
    wr_buf_append(&hi, lo, 2);
    wr_key_put_i64(&hi, now - look - nd->grace); /* entries before it may be closed */
    wr_store_iter *it =
        wr_store_iter_open(r->e->opts.state, r->t->txn, r->t->store, lo, 2, hi.data, hi.len);
    wr_buf_free(&hi);
    if (it == NULL)
        return oom(r);
    int n = 0, cap = 16;
    match *ms = wr_arena_alloc(r->ra, (size_t)cap * sizeof *ms);
    const uint8_t *k, *v;
    size_t kl, vl;
    int rc = WR_OK;
    while (ms != NULL && wr_store_iter_next(it, &k, &kl, &v, &vl)) {
        if (kl < 2 + 8 + 1 + 8)
            continue;
        int64_t ts = wr_key_get_i64(k + 2);
        bool right = k[10] == 'R';
        if (ts + (right ? nd->before : nd->after) + nd->grace >= now)
            continue;
        if (n == cap && (ms = matches_grow(r, ms, n, &cap)) == NULL)
            break;
        wr_val *row = row_new(r);
        uint8_t *kc = wr_arena_alloc(r->ra, kl);
        if (row == NULL || kc == NULL) {
            ms = NULL;
            break;
        }
        memcpy(kc, k, kl);
        int lo2, hi2;
        own_cols(r, j, right, &lo2, &hi2);
        if (!row_decode(r, v, vl, row, NULL, lo2, hi2))
            continue;
        ms[n++] = (match){row, ts, kc, kl};
    }
    if (wr_store_iter_close(it, r->err) != WR_OK)
        return WR_EIO;
    if (ms == NULL)
        return oom(r);
    for (int i = 0; i < n && rc == WR_OK; i++) {
        if ((rc = del(r, ms[i].okey, ms[i].oklen)) != WR_OK)
            break;
        /* the key, for ROWKEY: from the entry's key bytes */
        if (r->J->rowkey_col >= 0 && nd->type == WR_JOIN_FULL && nd->nkey == 1) {
            wr_rd rd = wr_rd_make(ms[i].okey + 19, ms[i].oklen - 19);
            wr_val kk;
            wr_key_decode(&rd, nd->ktype[0], &kk, r->ra);
            fill_key(r, j, ms[i].v, &kk, false);
        }
        rc = emit(r, j, ms[i].v, ms[i].ts, false);
    }
    return rc;
}

static int
ss_row(jrun *r, int j, bool right, wr_val *row, int64_t ts)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    struct jtask *jt = r->t->jt;
    wr_val k[16];
    eval_keys(r, right ? rs->key : nd->lkey, nd->nkey, right ? row + rs->base : row, k);
    if (!key_bytes(&r->k, j, right ? 'R' : 'L', nd, k, nd->nkey)) {
        if (!outer_side(nd, right))
            return WR_OK; /* a null key joins nothing */
        return emit(r, j, row, ts, false);
    }
    if (jt->time[j] == INT64_MIN || ts > jt->time[j])
        jt->time[j] = ts;
    int64_t now = jt->time[j];
    if (ts < now - (nd->before + nd->after + nd->grace)) {
        r->q->stats.late++;
        return WR_OK; /* behind the window and its grace: dropped, as Kafka Streams does */
    }
    int rc = WR_OK;
    if (!nd->eager && ts == now && (rc = ss_emit_closed(r, j)) != WR_OK)
        return rc;
    int lo, hi;
    own_cols(r, j, right, &lo, &hi);
    uint64_t seq = jt->seq++;
    size_t kstart = 2, klen = r->k.len - 2;
    /* the row into its buffer, and the time index */
    wr_buf_reset(&r->k2);
    wr_buf_append(&r->k2, r->k.data, r->k.len);
    wr_key_put_i64(&r->k2, ts);
    put_be64(&r->k2, seq);
    row_encode(r, &r->v, row, ts, lo, hi);
    if ((rc = put(r, &r->k2, &r->v)) != WR_OK)
        return rc;
    wr_buf tk = WR_BUF_INIT;
    wr_buf_put_u8(&tk, pfx(j));
    wr_buf_put_u8(&tk, 'T');
    wr_key_put_i64(&tk, ts);
    wr_buf_put_u8(&tk, right ? 'R' : 'L');
    put_be64(&tk, seq);
    wr_buf_append(&tk, r->k.data + kstart, klen);
    rc = wr_buf_ok(&tk) ? put(r, &tk, NULL) : oom(r);
    wr_buf_free(&tk);
    if (rc != WR_OK)
        return rc;
    /* the other side's rows in the window */
    int64_t from = right ? ts - nd->after : ts - nd->before;
    int64_t to = right ? ts + nd->before : ts + nd->after;
    wr_buf lob = WR_BUF_INIT, hib = WR_BUF_INIT;
    wr_buf_append(&lob, r->k.data, r->k.len);
    lob.data[1] = right ? 'L' : 'R';
    wr_buf_append(&hib, lob.data, lob.len);
    wr_key_put_i64(&lob, from);
    wr_key_put_i64(&hib, to == INT64_MAX ? to : to + 1);
    if (!wr_buf_ok(&lob) || !wr_buf_ok(&hib)) {
        wr_buf_free(&lob);
        wr_buf_free(&hib);
        return oom(r);
    }
    wr_store_iter *it = wr_store_iter_open(r->e->opts.state, r->t->txn, r->t->store, lob.data,
                                           lob.len, hib.data, hib.len);
    size_t plen = lob.len - 8;
    wr_buf_free(&lob);
    wr_buf_free(&hib);
    if (it == NULL)
        return oom(r);
    int olo, ohi, n = 0, cap = 8;
    own_cols(r, j, !right, &olo, &ohi);
    match *ms = wr_arena_alloc(r->ra, (size_t)cap * sizeof *ms);
    const uint8_t *kp, *vp;
    size_t kl, vl;
    while (ms != NULL && wr_store_iter_next(it, &kp, &kl, &vp, &vl)) {
        if (kl != plen + 16)
            continue;
        if (n == cap && (ms = matches_grow(r, ms, n, &cap)) == NULL)
            break;
        wr_val *out = row_copy(r, row);
        int64_t ots;
        if (out == NULL) {
            ms = NULL;
            break;
        }
        if (!row_decode(r, vp, vl, out, &ots, olo, ohi))
            continue;
        /* its outer-store key: [j]['O'][time][side][seq][key] */
        uint8_t *ok = nd->eager ? NULL : wr_arena_alloc(r->ra, 2 + 8 + 1 + 8 + klen);
        if (ok != NULL) {
            ok[0] = pfx(j);
            ok[1] = 'O';
            memcpy(ok + 2, kp + plen, 8);
            ok[10] = right ? 'L' : 'R';
            memcpy(ok + 11, kp + plen + 8, 8);
            memcpy(ok + 19, r->k.data + kstart, klen);
        }
        ms[n++] = (match){out, ots > ts ? ots : ts, ok, 2 + 8 + 1 + 8 + klen};
    }
    if (wr_store_iter_close(it, r->err) != WR_OK)
        return WR_EIO;
    if (ms == NULL)
        return oom(r);
    for (int i = 0; i < n && rc == WR_OK; i++) {
        if (ms[i].okey != NULL && outer_side(nd, !right) &&
            (rc = del(r, ms[i].okey, ms[i].oklen)) != WR_OK)
            break;
        fill_key(r, j, ms[i].v, k, false);
        rc = emit(r, j, ms[i].v, ms[i].ts, false);
    }
    if (rc != WR_OK || n > 0 || !outer_side(nd, right))
        return rc;
    /* `to`: the last time a row of the other side could match this one */
    fill_key(r, j, row, k, false);
    if (nd->eager || to + nd->grace < now)
        return emit(r, j, row, ts, false);
    /* waits for the window to close: [j]['O'][time][side][seq][key] */
    wr_buf ok = WR_BUF_INIT;
    wr_buf_put_u8(&ok, pfx(j));
    wr_buf_put_u8(&ok, 'O');
    wr_key_put_i64(&ok, ts);
    wr_buf_put_u8(&ok, right ? 'R' : 'L');
    put_be64(&ok, seq);
    wr_buf_append(&ok, r->k.data + kstart, klen);
    rc = wr_buf_ok(&ok) ? put(r, &ok, &r->v) : oom(r);
    wr_buf_free(&ok);
    return rc;
}

/* Drops buffered rows whose windows and grace are behind stream time. */
static int
ss_expire(jrun *r, int j)
{
    const jnode *nd = &r->J->joins[j];
    int64_t now = r->t->jt->time[j];
    if (now == INT64_MIN)
        return WR_OK;
    /* from where the last expiry stopped: the deleted rows before it are not scanned again */
    int64_t upto = now - (nd->before + nd->after + nd->grace);
    int64_t *from = &r->t->jt->expired[j];
    if (upto <= *from)
        return WR_OK;
    wr_buf lo = WR_BUF_INIT, hi = WR_BUF_INIT;
    uint8_t p2[2] = {pfx(j), 'T'};
    wr_buf_append(&lo, p2, 2);
    wr_buf_append(&hi, p2, 2);
    if (*from != INT64_MIN)
        wr_key_put_i64(&lo, *from);
    wr_key_put_i64(&hi, upto);
    wr_store_iter *it = wr_buf_ok(&lo) && wr_buf_ok(&hi)
                            ? wr_store_iter_open(r->e->opts.state, r->t->txn, r->t->store, lo.data,
                                                 lo.len, hi.data, hi.len)
                            : NULL;
    wr_buf_free(&lo);
    wr_buf_free(&hi);
    if (it == NULL)
        return oom(r);
    int n = 0, cap = 1 << 16;
    uint8_t **keys = wr_arena_alloc(r->ra, (size_t)cap * sizeof *keys);
    size_t *lens = wr_arena_alloc(r->ra, (size_t)cap * sizeof *lens);
    const uint8_t *k, *v;
    size_t kl, vl;
    while (keys != NULL && lens != NULL && n < cap && wr_store_iter_next(it, &k, &kl, &v, &vl)) {
        if ((keys[n] = wr_arena_alloc(r->ra, kl)) == NULL)
            break;
        memcpy(keys[n], k, kl);
        lens[n++] = kl;
    }
    if (wr_store_iter_close(it, r->err) != WR_OK)
        return WR_EIO;
    int rc = WR_OK;
    for (int i = 0; i < n && rc == WR_OK; i++) {
        /* [j]['T'][time 8][side][seq 8][key] -> [j][side][key][time][seq] */
        if (lens[i] < 19)
            continue;
        wr_buf bk = WR_BUF_INIT;
        wr_buf_put_u8(&bk, pfx(j));
        wr_buf_put_u8(&bk, keys[i][10]);
        wr_buf_append(&bk, keys[i] + 19, lens[i] - 19);
        wr_buf_append(&bk, keys[i] + 2, 8);
        wr_buf_append(&bk, keys[i] + 11, 8);
        rc = wr_buf_ok(&bk) ? del(r, bk.data, bk.len) : oom(r);
        if (rc == WR_OK)
            rc = del(r, keys[i], lens[i]);
        wr_buf_free(&bk);
    }
    if (rc == WR_OK && n < cap)
        *from = upto; /* all of it gone; else the rest next run */
    else if (rc == WR_OK)
        *from = wr_key_get_i64(keys[n - 1] + 2);
    return rc;
}

/* ---- stream-table: [j]['R'][key] -> the table's row ---- */

static int
st_row(jrun *r, int j, bool right, wr_val *row, int64_t ts, bool gone)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    wr_val k[16];
    eval_keys(r, right ? rs->key : nd->lkey, nd->nkey, right ? row + rs->base : row, k);
    bool haskey = key_bytes(&r->k, j, 'R', nd, k, nd->nkey);
    if (right) {
        if (!haskey)
            return WR_OK;
        if (gone)
            return del(r, r->k.data, r->k.len);
        row_encode(r, &r->v, row, ts, rs->base, rs->base + rs->ncols);
        return put(r, &r->k, &r->v);
    }
    bool found = false;
    if (haskey && get(r, &r->k, &r->v, &found) != WR_OK)
        return WR_EIO;
    if (found) {
        wr_val *out = row_copy(r, row);
        if (out == NULL)
            return oom(r);
        if (row_decode(r, r->v.data, r->v.len, out, NULL, rs->base, rs->base + rs->ncols))
            return emit(r, j, out, ts, false);
    }
    return nd->type == WR_JOIN_LEFT ? emit(r, j, row, ts, false) : WR_OK;
}

/* ---- table-table: [j]['L'|'R'][key] -> each table's row ---- */

static int
tt_row(jrun *r, int j, bool right, wr_val *row, int64_t ts, bool gone)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    wr_val k[16];
    eval_keys(r, right ? rs->key : nd->lkey, nd->nkey, right ? row + rs->base : row, k);
    if (!key_bytes(&r->k, j, right ? 'R' : 'L', nd, k, nd->nkey))
        return WR_OK; /* a table's row without a key */
    int lo, hi, olo, ohi;
    own_cols(r, j, right, &lo, &hi);
    own_cols(r, j, !right, &olo, &ohi);
    bool existed = false, other = false;
    if (get(r, &r->k, &r->v, &existed) != WR_OK)
        return WR_EIO;
    int rc;
    if (gone) {
        if (!existed)
            return WR_OK; /* a delete of a key the table does not have */
        rc = del(r, r->k.data, r->k.len);
    } else {
        row_encode(r, &r->v, row, ts, lo, hi);
        rc = put(r, &r->k, &r->v);
    }
    if (rc != WR_OK)
        return rc;
    r->k.data[1] = right ? 'L' : 'R';
    if (get(r, &r->k, &r->v, &other) != WR_OK)
        return WR_EIO;
    wr_val *out = row_copy(r, row);
    int64_t ots = ts;
    if (out == NULL)
        return oom(r);
    if (other && !row_decode(r, r->v.data, r->v.len, out, &ots, olo, ohi))
        other = false;
    int64_t when = ots > ts ? ots : ts;
    fill_key(r, j, out, k, false);
    if (!gone) {
        if (other || outer_side(nd, right))
            return emit(r, j, out, when, false);
        return WR_OK;
    }
    if (other && outer_side(nd, !right)) { /* the other side stays, with nulls for this one */
        row_null(r, out, lo, hi);
        fill_key(r, j, out, k, false);
        return emit(r, j, out, when, false);
    }
    if (other || outer_side(nd, right)) {
        fill_key(r, j, out, k, true);
        return emit(r, j, out, ts, true);
    }
    return WR_OK;
}

/* ---- foreign key: [j]['L'][left key] -> the left's row, [j]['R'][key] -> the right's,
 *      [j]['I'][foreign key][left key] -> nothing (which left rows refer to a right row) ---- */

static int
fk_left(jrun *r, int j, wr_val *row, int64_t ts, bool gone)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    wr_val lk[16], fk[16];
    eval_keys(r, nd->lown, nd->nlown, row, lk);
    eval_keys(r, nd->lkey, nd->nkey, row, fk);
    wr_buf lkb = WR_BUF_INIT;
    for (int i = 0; i < nd->nlown; i++)
        wr_key_encode(&lkb, nd->lown[i]->type, &lk[i]);
    if (!wr_buf_ok(&lkb))
        return oom(r);
    wr_buf_reset(&r->k);
    wr_buf_put_u8(&r->k, pfx(j));
    wr_buf_put_u8(&r->k, 'L');
    wr_buf_append(&r->k, lkb.data, lkb.len);
    bool existed = false;
    int rc = get(r, &r->k, &r->v, &existed) != WR_OK ? WR_EIO : WR_OK;
    if (rc == WR_OK && existed) { /* out of the index under its old foreign key */
        wr_val *old = row_new(r);
        wr_val ofk[16];
        if (old == NULL) {
            rc = oom(r);
        } else if (row_decode(r, r->v.data, r->v.len, old, NULL, 0, nd->lend)) {
            eval_keys(r, nd->lkey, nd->nkey, old, ofk);
            if (key_bytes(&r->k2, j, 'I', nd, ofk, nd->nkey)) {
                wr_buf_append(&r->k2, lkb.data, lkb.len);
                rc = del(r, r->k2.data, r->k2.len);
            }
        }
    }
    if (rc == WR_OK && gone) {
        if (existed && (rc = del(r, r->k.data, r->k.len)) == WR_OK)
            rc = emit(r, j, row, ts, true);
        wr_buf_free(&lkb);
        return rc;
    }
    if (rc == WR_OK) {
        row_encode(r, &r->v, row, ts, 0, nd->lend);
        rc = put(r, &r->k, &r->v);
    }
    bool found = false;
    if (rc == WR_OK && key_bytes(&r->k2, j, 'I', nd, fk, nd->nkey)) {
        wr_buf_append(&r->k2, lkb.data, lkb.len);
        if ((rc = put(r, &r->k2, NULL)) == WR_OK) {
            key_bytes(&r->k2, j, 'R', nd, fk, nd->nkey);
            rc = get(r, &r->k2, &r->v, &found) != WR_OK ? WR_EIO : WR_OK;
        }
    }
    wr_buf_free(&lkb);
    if (rc != WR_OK)
        return rc;
    if (found) {
        wr_val *out = row_copy(r, row);
        int64_t rts;
        if (out == NULL)
            return oom(r);
        if (row_decode(r, r->v.data, r->v.len, out, &rts, rs->base, rs->base + rs->ncols))
            return emit(r, j, out, rts > ts ? rts : ts, false);
    }
    if (nd->type == WR_JOIN_LEFT)
        return emit(r, j, row, ts, false);
    return existed ? emit(r, j, row, ts, true) : WR_OK;
}

static int
fk_right(jrun *r, int j, wr_val *row, int64_t ts, bool gone)
{
    const jnode *nd = &r->J->joins[j];
    const jside *rs = &r->J->sides[nd->right];
    wr_val k[16];
    eval_keys(r, rs->key, nd->nkey, row + rs->base, k);
    if (!key_bytes(&r->k, j, 'R', nd, k, nd->nkey))
        return WR_OK;
    bool existed = false;
    if (get(r, &r->k, &r->v, &existed) != WR_OK)
        return WR_EIO;
    int rc;
    if (gone) {
        if (!existed)
            return WR_OK;
        rc = del(r, r->k.data, r->k.len);
    } else {
        row_encode(r, &r->v, row, ts, rs->base, rs->base + rs->ncols);
        rc = put(r, &r->k, &r->v);
    }
    if (rc != WR_OK)
        return rc;
    /* every left row that refers to this key */
    r->k.data[1] = 'I';
    uint8_t end[512];
    size_t el = r->k.len <= sizeof end ? wr_store_prefix_end(r->k.data, r->k.len, end) : 0;
    wr_store_iter *it = wr_store_iter_open(r->e->opts.state, r->t->txn, r->t->store, r->k.data,
                                           r->k.len, el ? end : NULL, el);
    if (it == NULL)
        return oom(r);
    int n = 0, cap = 16;
    wr_buf *lks = wr_arena_calloc(r->ra, (size_t)cap, sizeof *lks);
    const uint8_t *kp, *vp;
    size_t kl, vl;
    size_t plen = r->k.len;
    while (lks != NULL && wr_store_iter_next(it, &kp, &kl, &vp, &vl)) {
        if (n == cap) {
            wr_buf *nl = wr_arena_calloc(r->ra, (size_t)cap * 2, sizeof *nl);
            if (nl == NULL) {
                lks = NULL;
                break;
            }
            memcpy(nl, lks, (size_t)n * sizeof *nl);
            lks = nl;
            cap *= 2;
        }
        lks[n] = (wr_buf)WR_BUF_INIT;
        wr_buf_put_u8(&lks[n], pfx(j));
        wr_buf_put_u8(&lks[n], 'L');
        wr_buf_append(&lks[n], kp + plen, kl - plen);
        n++;
    }
    rc = wr_store_iter_close(it, r->err) != WR_OK ? WR_EIO : lks == NULL ? oom(r) : WR_OK;
    for (int i = 0; i < n; i++) {
        bool found = false;
        if (rc == WR_OK && get(r, &lks[i], &r->v, &found) != WR_OK)
            rc = WR_EIO;
        wr_val *out = rc == WR_OK && found ? row_copy(r, row) : NULL;
        int64_t lts = ts;
        if (out != NULL && row_decode(r, r->v.data, r->v.len, out, &lts, 0, nd->lend)) {
            int64_t when = lts > ts ? lts : ts;
            if (!gone)
                rc = emit(r, j, out, when, false);
            else if (nd->type == WR_JOIN_LEFT) {
                row_null(r, out, rs->base, rs->base + rs->ncols);
                rc = emit(r, j, out, when, false);
            } else {
                rc = emit(r, j, out, ts, true);
            }
        }
        wr_buf_free(&lks[i]);
    }
    return rc;
}

/* A row v that reached join j from its left (right: from its right side). */
static int
node_row(jrun *r, int j, bool right, wr_val *v, int64_t ts, bool gone)
{
    switch (r->J->joins[j].kind) {
    case JN_SS:
        return ss_row(r, j, right, v, ts);
    case JN_ST:
        return st_row(r, j, right, v, ts, gone);
    case JN_TT:
        return tt_row(r, j, right, v, ts, gone);
    case JN_FK:
        return right ? fk_right(r, j, v, ts, gone) : fk_left(r, j, v, ts, gone);
    }
    return WR_OK;
}

/* ---- the inputs ---- */

static void
cur_log(jrun *r, jcur *c, int64_t offset, const char *what)
{
    r->q->stats.decode_errors++;
    eng_plog(r->e, r->q, c->in->part, offset, what);
}

/* The event time of a row of side sd: ROWTIME, or its TIMESTAMP column. */
static bool
cur_time(jrun *r, jcur *c, const wr_val *v, int64_t rowtime, int64_t offset, int64_t *when)
{
    const wr_source *s = c->sd->src;
    wr_val none = wr_val_null(NULL);
    char m[300];
    if (eng_event_time(s, s->ts_col >= 0 ? &v[s->ts_col] : &none, rowtime, when, m, sizeof m))
        return true;
    cur_log(r, c, offset, m);
    return false;
}

/* Whether the source of a repartitioned side has records its repartition query has not
   written yet: the side is not idle, only behind, and the merge waits for it (else a later
   record of another side would pass an earlier one of this side on its way through). */
static bool
repart_pending(wr_engine *e, const jside *sd)
{
    const wr_query *rq = sd->repart;
    for (int i = 0; rq != NULL && i < rq->ntasks; i++) {
        wr_partition *lp;
        if (wr_log_partition(e->opts.db, rq->src->topic, rq->tasks[i].partition, &lp) == WR_OK &&
            rq->tasks[i].offset < wr_log_end_offset(lp))
            return true;
    }
    return false;
}

/* Fills c's next row, reading more of its partition as needed. */
static int
cur_peek(jrun *r, jcur *c)
{
    const jside *sd = c->sd;
    const wr_source *s = sd->src;
    while (!c->have && !c->stop && !c->idle) {
        if (!c->in_batch) {
            if (!c->fetched) {
                wr_log_read_result res;
                c->fetched = true;
                if (c->in->offset < wr_log_start_offset(c->lp))
                    c->in->offset = wr_log_start_offset(c->lp);
                if (c->in->offset >= wr_log_end_offset(c->lp)) {
                    if (repart_pending(r->e, sd))
                        c->stop = true;
                    else
                        c->idle = true;
                    break;
                }
                int rc =
                    wr_log_read_committed(c->lp, c->in->offset, READ_BYTES, &c->data, &res, r->err);
                if (rc != WR_OK)
                    return rc;
            }
            size_t n = c->off < c->data.len
                           ? wr_rbatch_size(c->data.data + c->off, c->data.len - c->off)
                           : 0;
            if (n == 0) {
                if (c->in->offset < wr_log_end_offset(c->lp) || repart_pending(r->e, sd))
                    c->stop = true;
                else
                    c->idle = true;
                break;
            }
            if (r->nscratch == r->capscratch) {
                int nc = r->capscratch ? r->capscratch * 2 : 16;
                wr_buf **ns = realloc(r->scratch, (size_t)nc * sizeof *ns);
                if (ns == NULL)
                    return oom(r);
                r->scratch = ns;
                r->capscratch = nc;
            }
            wr_buf *scr = calloc(1, sizeof *scr);
            if (scr == NULL)
                return oom(r);
            r->scratch[r->nscratch++] = scr;
            int rc = wr_rbatch_iter_init(&c->it, c->data.data + c->off, n, scr, MAX_DECOMPRESSED,
                                         r->err);
            if (rc != WR_OK)
                return rc;
            c->off += n;
            c->in_batch = true;
            c->batch_end = c->it.hdr.base_offset + c->it.hdr.last_offset_delta + 1;
        }
        wr_record rec;
        int rc = wr_rbatch_iter_next(&c->it, &rec, r->err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            c->in_batch = false;
            if (c->batch_end > c->in->offset) /* a compacted batch's last offsets may be gone */
                c->in->offset = c->batch_end;
            continue;
        }
        if (rec.offset < c->in->offset)
            continue;
        if (sd->rekeyed)
            eng_rekeyed_key(&rec);
        wr_err derr = {0};
        if (wr_fmt_decode(&c->kf, rec.key, rec.key_len > 0 ? (size_t)rec.key_len : 0,
                          rec.key_len < 0, c->kv, r->ra, &derr) != WR_OK ||
            wr_fmt_decode(&c->vf, rec.value, rec.value_len > 0 ? (size_t)rec.value_len : 0,
                          rec.value_len < 0, c->vv, r->ra, &derr) != WR_OK) {
            cur_log(r, c, rec.offset, derr.msg);
            c->in->offset = rec.offset + 1;
            continue;
        }
        if ((rec.value_len < 0 && !s->is_table) || (s->is_table && rec.key_len < 0)) {
            if (s->is_table)
                r->q->stats.null_keys++;
            c->in->offset = rec.offset + 1;
            continue; /* a stream's tombstone; a table's row without a key */
        }
        wr_val *v = row_new(r);
        if (v == NULL)
            return oom(r);
        wr_val *own = v + sd->base;
        for (int i = 0, ki = 0, vi = 0; i < s->ncols; i++) {
            if (eng_is_header_role(s->cols[i].role))
                own[i] = eng_header_value(s, i, &rec, r->ra);
            else
                own[i] = eng_is_key_role(s->cols[i].role) ? c->kv[ki++] : c->vv[vi++];
        }
        int64_t when;
        if (!cur_time(r, c, own, rec.timestamp, rec.offset, &when)) {
            c->in->offset = rec.offset + 1;
            continue;
        }
        own[s->ncols] = wr_val_bigint(when);
        own[s->ncols + 1] = wr_val_int(c->in->part);
        own[s->ncols + 2] = wr_val_bigint(rec.offset);
        c->v = v;
        c->ts = when;
        c->roff = rec.offset;
        c->gone = rec.value_len < 0;
        c->have = true;
    }
    return WR_OK;
}

/* Runs task t of join query q: its inputs merged by event time through the joins, the results
   through the query's filter and projection (or aggregation) into so, in t->txn. */
int
eng_join_run(
    wr_engine *e, wr_query *q, task *t, sink_out *so, wr_arena *ra, int64_t *records, wr_err *err)
{
    joinexec *J = q->join;
    struct jtask *jt = t->jt;
    jrun R = {.e = e, .q = q, .t = t, .so = so, .ra = ra, .J = J, .err = err, .cap = OUT_ROWS};
    R.first_offset = -1;
    R.ts = wr_arena_alloc(ra, (size_t)R.cap * sizeof *R.ts);
    R.gone = wr_arena_calloc(ra, (size_t)R.cap, sizeof *R.gone);
    jcur *cs = wr_arena_calloc(ra, (size_t)jt->nin, sizeof *cs);
    if (R.ts == NULL || R.gone == NULL || cs == NULL ||
        wr_batch_init(&R.b, &q->scope, R.cap, ra) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int i = 0; i < jt->nin; i++) {
        jcur *c = &cs[i];
        c->in = &jt->in[i];
        c->sd = &J->sides[c->in->side];
        if (wr_log_partition(e->opts.db, c->sd->topic, c->in->part, &c->lp) != WR_OK)
            return wr_err_set(err, WR_ENOENT, "partition %d of %s is missing", c->in->part,
                              c->sd->topic);
        if (eng_make_fmt(ra, c->sd->src, true, &c->kf) != WR_OK ||
            eng_make_fmt(ra, c->sd->src, false, &c->vf) != WR_OK ||
            (c->kv = wr_arena_calloc(ra, (size_t)c->kf.ncols + 1, sizeof *c->kv)) == NULL ||
            (c->vv = wr_arena_calloc(ra, (size_t)c->vf.ncols + 1, sizeof *c->vv)) == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    int rc = WR_OK;
    for (int64_t budget = 50000; budget > 0 && rc == WR_OK; budget--) {
        jcur *best = NULL;
        bool wait = false;
        for (int i = 0; i < jt->nin && rc == WR_OK; i++) {
            rc = cur_peek(&R, &cs[i]);
            wait |= cs[i].stop;
            if (cs[i].have && (best == NULL || cs[i].ts < best->ts))
                best = &cs[i];
        }
        if (rc != WR_OK || wait || best == NULL)
            break;
        best->have = false;
        best->in->offset = best->roff + 1;
        (*records)++;
        q->stats.records_in++;
        R.part = best->in->part;
        R.offset = best->roff;
        int side = best->in->side;
        rc = node_row(&R, side == 0 ? 0 : side - 1, side > 0, best->v, best->ts, best->gone);
    }
    if (rc == WR_OK)
        rc = flush_out(&R);
    for (int j = 0; j < J->njoins && rc == WR_OK; j++)
        if (J->joins[j].kind == JN_SS)
            rc = ss_expire(&R, j);
    for (int i = 0; i < jt->nin; i++)
        wr_buf_free(&cs[i].data);
    for (int i = 0; i < R.nscratch; i++) {
        wr_buf_free(R.scratch[i]);
        free(R.scratch[i]);
    }
    free(R.scratch);
    wr_buf_free(&R.k);
    wr_buf_free(&R.k2);
    wr_buf_free(&R.v);
    return rc;
}

void
eng_join_reload(wr_engine *e, wr_query *q, task *t)
{
    meta_get(e, t, q->join->njoins);
}

/* The positions a failed run or transaction goes back to: where it began. */
void
eng_join_save(task *t)
{
    struct jtask *jt = t->jt;
    for (int i = 0; i < jt->nin; i++)
        jt->in[i].saved = jt->in[i].offset;
    memcpy(jt->saved_time, jt->time, (size_t)jt->njoins * sizeof *jt->time);
    jt->saved_seq = jt->seq;
}

/* A failed run or transaction counts for nothing: the positions go back to where it began. */
void
eng_join_rollback(task *t)
{
    struct jtask *jt = t->jt;
    for (int i = 0; i < jt->nin; i++)
        jt->in[i].offset = jt->in[i].saved;
    memcpy(jt->time, jt->saved_time, (size_t)jt->njoins * sizeof *jt->time);
    jt->seq = jt->saved_seq;
}

/* Whether a task has nothing to read. */
bool
eng_join_idle(wr_engine *e, const wr_query *q, const task *t)
{
    for (int i = 0; i < t->jt->nin; i++) {
        const jin *in = &t->jt->in[i];
        wr_partition *lp;
        if (wr_log_partition(e->opts.db, q->join->sides[in->side].topic, in->part, &lp) == WR_OK &&
            in->offset < wr_log_end_offset(lp))
            return false;
    }
    return true;
}

/* ---- EXPLAIN ------------------------------------------------------------------------------- */

static void
explain_side(wr_buf *out, const wr_query *q, int s, int ind)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    const jside *sd = &q->join->sides[s];
    if (sd->rekeyed) {
        wr_buf_printf(out, "%*s > [ REPARTITION ] | %s by %s | Topic: %s\n", 2 * ind, "", sd->alias,
                      sd->key_text, sd->repart ? sd->topic : "<service>-<query>-<n>-repartition");
        ind++;
    }
    wr_buf_printf(out,
                  "%*s > [ SOURCE ] | %s %s%s%s | Topic: %s (%d partitions, key %s, value %s)%s\n",
                  2 * ind, "", sd->src->is_table ? "TABLE" : "STREAM", sd->src->name,
                  strcmp(sd->alias, sd->src->name) ? " AS " : "",
                  strcmp(sd->alias, sd->src->name) ? sd->alias : "", sd->src->topic,
                  sd->src->partitions, fmts[sd->src->key_fmt], fmts[sd->src->val_fmt],
                  sd->global ? " | every task reads all its partitions" : "");
}

/* The join operators of q, the last join first, as EXPLAIN prints them at indent ind. */
void
eng_explain_join(wr_buf *out, const wr_query *q, int ind)
{
    const joinexec *J = q->join;
    for (int j = J->njoins - 1; j >= 0; j--, ind++) {
        const jnode *nd = &J->joins[j];
        wr_buf_printf(out, "%*s > [ JOIN ] | %s %s join on %s", 2 * ind, "", TNAMES[nd->type],
                      KINDS[nd->kind], nd->on);
        if (nd->kind == JN_SS) {
            wr_buf_printf(out, " | Window: before %lld ms, after %lld ms, ", (long long)nd->before,
                          (long long)nd->after);
            if (nd->eager)
                wr_buf_printf(out, "no grace period (outer rows at once, retention %lld ms)",
                              (long long)(nd->before + nd->after + nd->grace));
            else
                wr_buf_printf(out, "grace %lld ms (outer rows when the window closes)",
                              (long long)nd->grace);
            wr_buf_printf(out, " | Stores: both sides' rows by key and time%s",
                          outer_side(nd, false) || outer_side(nd, true)
                              ? ", rows waiting for an outer result"
                              : "");
        } else if (nd->kind == JN_ST) {
            wr_buf_printf(out, " | Store: %s's rows by key", J->sides[nd->right].alias);
        } else if (nd->kind == JN_TT) {
            wr_buf_printf(out, " | Stores: both tables' rows by key");
        } else {
            wr_buf_printf(out, " | Stores: the left's rows, %s's rows, the foreign-key index",
                          J->sides[nd->right].alias);
        }
        wr_buf_printf(out, " (in %s#%s#<partition>)\n", q->id,
                      q->agg ? "Aggregate-Materialize" : "Join");
        explain_side(out, q, nd->right, ind + 1);
    }
    explain_side(out, q, 0, ind);
}
