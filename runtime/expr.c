/*
 * expr.c - analysis (name resolution, typing, coercion, function binding) and evaluation of
 * expressions (see expr.h).
 */
#include "runtime/expr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql.h"
#include "runtime/timefmt.h"
#include "runtime/types.h"

/* ---- errors ----------------------------------------------------------------------------- */

#define fail(err, at, ...) wr_sql_error_at((err), WR_ESEMANTIC, (at), __VA_ARGS__)

/* A type's SQL spelling, in the arena. */
static const char *
tname(wr_arena *a, const wr_sql_type *t)
{
    return wr_fn_type_list(a, &t, 1);
}

static int
edit_distance(const char *x, const char *y)
{
    size_t n = strlen(x), m = strlen(y);
    if (n > 60 || m > 60)
        return 99;
    int d[61][61];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int c = d[i - 1][j - 1] + (x[i - 1] != y[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[n][m];
}

/* ---- building --------------------------------------------------------------------------- */

static wr_cexpr *
node(wr_arena *a, wr_cop op, const wr_sql_type *t, wr_loc loc)
{
    wr_cexpr *e = wr_arena_calloc(a, 1, sizeof *e);
    if (e != NULL) {
        e->op = op;
        e->type = t;
        e->loc = loc;
        e->col = -1;
    }
    return e;
}

wr_cexpr *
wr_expr_coerce(wr_arena *a, wr_cexpr *e, const wr_sql_type *t)
{
    if (e == NULL || t == NULL || wr_type_equal(e->type, t))
        return e;
    if (e->op == WR_C_CONST && e->k.null) { /* a NULL literal takes any type */
        e->type = t;
        e->k.type = t;
        return e;
    }
    wr_cexpr *c = node(a, WR_C_CAST, t, e->loc);
    if (c != NULL)
        c->a = e;
    return c;
}

static bool
is_string(const wr_sql_type *t)
{
    return t != NULL && t->kind == WR_T_STRING;
}

bool
wr_expr_constant(const wr_cexpr *e)
{
    if (e == NULL)
        return true;
    if (e->op == WR_C_COLUMN || e->op == WR_C_PARAM)
        return false;
    if (e->op == WR_C_CALL && (e->fn->flags & WR_FN_NONDETERMINISTIC))
        return false;
    if (!wr_expr_constant(e->a) || !wr_expr_constant(e->b) || !wr_expr_constant(e->c))
        return false;
    for (int i = 0; e->args != NULL && i < e->n; i++) /* a LAMBDA's n counts parameters */
        if (!wr_expr_constant(e->args[i]))
            return false;
    return true;
}

/* ---- analysis --------------------------------------------------------------------------- */

static int analyze(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err);

static int
resolve_column(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    /* lambda parameters first, innermost wins */
    if (e->qualifier == NULL)
        for (int i = an->nparams - 1; i >= 0; i--)
            if (strcmp(an->param_names[i], e->name) == 0) {
                *out = node(an->arena, WR_C_PARAM, an->param_types[i], e->loc);
                if (*out == NULL)
                    return WR_ENOMEM;
                (*out)->col = i;
                return WR_OK;
            }
    int found = -1, count = 0, unqualified = -1;
    const wr_scope *sc = an->scope;
    for (int i = 0; sc != NULL && i < sc->n; i++) {
        const wr_col *c = &sc->cols[i];
        if (strcmp(c->name, e->name) != 0)
            continue;
        if (e->qualifier != NULL && (c->source == NULL || strcmp(c->source, e->qualifier) != 0))
            continue;
        if (found < 0)
            found = i;
        if (c->source == NULL && unqualified < 0)
            unqualified = i;
        count++;
    }
    /* a join's scope has each side's ROWTIME and the result's, which an unqualified name means */
    if (count > 1 && e->qualifier == NULL && unqualified >= 0) {
        found = unqualified;
        count = 1;
    }
    if (count > 1)
        return fail(err, e->loc, "column '%s' is ambiguous: qualify it with its source", e->name);
    if (found < 0) {
        const char *best = NULL;
        int bestd = 3;
        for (int i = 0; sc != NULL && i < sc->n; i++) {
            int d = edit_distance(e->name, sc->cols[i].name);
            if (d < bestd) {
                bestd = d;
                best = sc->cols[i].name;
            }
        }
        if (best != NULL)
            return fail(err, e->loc, "column '%s%s%s' cannot be resolved; did you mean '%s'?",
                        e->qualifier ? e->qualifier : "", e->qualifier ? "." : "", e->name, best);
        return fail(err, e->loc, "column '%s%s%s' cannot be resolved",
                    e->qualifier ? e->qualifier : "", e->qualifier ? "." : "", e->name);
    }
    *out = node(an->arena, WR_C_COLUMN, sc->cols[found].type, e->loc);
    if (*out == NULL)
        return WR_ENOMEM;
    (*out)->col = found;
    return WR_OK;
}

static int
literal(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    wr_cexpr *c = node(an->arena, WR_C_CONST, NULL, e->loc);
    if (c == NULL)
        return WR_ENOMEM;
    switch (e->kind) {
    case WR_E_NULL:
        c->k = wr_val_null(NULL);
        break;
    case WR_E_BOOL:
        c->k = wr_val_bool(e->b);
        break;
    case WR_E_INT:
        c->k = e->i >= INT32_MIN && e->i <= INT32_MAX ? wr_val_int((int32_t)e->i)
                                                      : wr_val_bigint(e->i);
        break;
    case WR_E_DOUBLE:
        c->k = wr_val_double(e->d);
        break;
    case WR_E_DECIMAL: {
        /* 1.50 is DECIMAL(3, 2): digits as written */
        const char *t = e->text;
        const char *dot = strchr(t, '.');
        int scale = dot ? (int)strlen(dot + 1) : 0, digits = 0;
        for (const char *p = t; *p; p++)
            digits += *p >= '0' && *p <= '9';
        int precision = digits > scale ? digits : scale + 1;
        /* leading zeros do not count: 0.05 is DECIMAL(2, 2) */
        for (const char *p = t; *p == '0' || *p == '-'; p++)
            if (*p == '0' && precision > scale && precision > 1)
                precision--;
        if (precision > WR_DECIMAL_MAX_PRECISION)
            return fail(err, e->loc, "numeric literal %s has more than 38 digits", t);
        const wr_sql_type *ty = wr_type_decimal(an->arena, precision, scale);
        wr_i128 u;
        if (ty == NULL || wr_decimal_parse(t, strlen(t), precision, scale, &u) != WR_OK)
            return fail(err, e->loc, "invalid numeric literal %s", t);
        c->k = wr_val_decimal(ty, u);
        break;
    }
    case WR_E_STRING: {
        char *s = wr_arena_memdup(an->arena, e->text, e->len + 1);
        if (s == NULL)
            return WR_ENOMEM;
        c->k = wr_val_string(s, (int32_t)e->len);
        break;
    }
    default:
        return fail(err, e->loc, "not a literal");
    }
    c->type = c->k.type;
    *out = c;
    return WR_OK;
}

/* Coerces every expression of list to their common type (ksqlDB's rules for expression lists:
   IN, CASE, constructors, COALESCE). what names the construct in messages. */
static int
unify(
    wr_analyzer *an, wr_cexpr **list, int n, const wr_sql_type **out, const char *what, wr_err *err)
{
    const wr_sql_type *t = NULL;
    for (int i = 0; i < n; i++) {
        const wr_sql_type *ti = list[i]->type;
        if (ti == NULL)
            continue;
        if (t == NULL) {
            t = ti;
            continue;
        }
        const wr_sql_type *c = wr_type_common(an->arena, t, ti);
        if (c == NULL)
            return fail(err, list[i]->loc, "%s mixes types %s and %s", what, tname(an->arena, t),
                        tname(an->arena, ti));
        t = c;
    }
    for (int i = 0; t != NULL && i < n; i++)
        if ((list[i] = wr_expr_coerce(an->arena, list[i], t)) == NULL)
            return WR_ENOMEM;
    *out = t;
    return WR_OK;
}

/* The result type of arithmetic on numbers x and y (ksqlDB's DECIMAL precision rules). */
static const wr_sql_type *
arith_type(wr_arena *a, wr_op op, const wr_sql_type *x, const wr_sql_type *y)
{
    const wr_sql_type *c = wr_type_common(a, x, y);
    if (c == NULL || c->kind != WR_T_DECIMAL)
        return c;
    const wr_sql_type *dx = wr_type_as_decimal(a, x), *dy = wr_type_as_decimal(a, y);
    int p1 = dx->precision, s1 = dx->scale, p2 = dy->precision, s2 = dy->scale, p, s;
    switch (op) {
    case WR_OP_ADD:
    case WR_OP_SUB:
        s = s1 > s2 ? s1 : s2;
        p = (p1 - s1 > p2 - s2 ? p1 - s1 : p2 - s2) + s + 1;
        break;
    case WR_OP_MUL:
        p = p1 + p2 + 1;
        s = s1 + s2;
        break;
    case WR_OP_DIV:
        s = s1 + p2 + 1 > 6 ? s1 + p2 + 1 : 6;
        p = p1 - s1 + s2 + s;
        break;
    default: /* MOD */
        s = s1 > s2 ? s1 : s2;
        p = (p1 - s1 < p2 - s2 ? p1 - s1 : p2 - s2) + s;
        break;
    }
    if (p > WR_DECIMAL_MAX_PRECISION) {
        s = s - (p - WR_DECIMAL_MAX_PRECISION) > 0 ? s - (p - WR_DECIMAL_MAX_PRECISION) : 0;
        p = WR_DECIMAL_MAX_PRECISION;
    }
    if (p < 1)
        p = 1;
    return wr_type_decimal(a, p, s > p ? p : s);
}

static bool
comparable(const wr_sql_type *t)
{
    return t->kind != WR_T_MAP && t->kind != WR_T_STRUCT;
}

static int
analyze_binary(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    wr_cexpr *x, *y;
    int rc = analyze(an, e->a, &x, err);
    if (rc == WR_OK)
        rc = analyze(an, e->b2, &y, err);
    if (rc != WR_OK)
        return rc;
    wr_arena *a = an->arena;
    const wr_sql_type *tx = x->type, *ty = y->type;
    wr_op op = e->op;
    if (op == WR_OP_AND || op == WR_OP_OR) {
        const wr_sql_type *b = wr_type_of(WR_T_BOOLEAN);
        if ((tx && tx->kind != WR_T_BOOLEAN) || (ty && ty->kind != WR_T_BOOLEAN))
            return fail(err, e->loc, "%s needs BOOLEAN operands, got %s and %s", wr_ast_op_name(op),
                        tname(a, tx), tname(a, ty));
        wr_cexpr *n = node(a, op == WR_OP_AND ? WR_C_AND : WR_C_OR, b, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->a = wr_expr_coerce(a, x, b);
        n->b = wr_expr_coerce(a, y, b);
        *out = n;
        return WR_OK;
    }
    if (op == WR_OP_CONCAT || (op == WR_OP_ADD && is_string(tx) && is_string(ty))) {
        if ((tx && !is_string(tx)) || (ty && !is_string(ty)))
            return fail(err, e->loc, "|| needs STRING operands, got %s and %s", tname(a, tx),
                        tname(a, ty));
        wr_cexpr *n = node(a, WR_C_CONCAT, wr_type_of(WR_T_STRING), e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->a = wr_expr_coerce(a, x, n->type);
        n->b = wr_expr_coerce(a, y, n->type);
        *out = n;
        return WR_OK;
    }
    if (op >= WR_OP_EQ && op <= WR_OP_GE) {
        const wr_sql_type *c = tx == NULL ? ty : ty == NULL ? tx : wr_type_common(a, tx, ty);
        if ((tx && ty && c == NULL) ||
            (c != NULL && !comparable(c) && op != WR_OP_EQ && op != WR_OP_NE))
            return fail(err, e->loc, "cannot compare %s with %s", tname(a, tx), tname(a, ty));
        wr_cexpr *n = node(a, WR_C_CMP, wr_type_of(WR_T_BOOLEAN), e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->aop = op;
        n->a = wr_expr_coerce(a, x, c);
        n->b = wr_expr_coerce(a, y, c);
        *out = n;
        return WR_OK;
    }
    /* + - * / % on numbers */
    if ((tx && !wr_type_is_numeric(tx)) || (ty && !wr_type_is_numeric(ty)))
        return fail(err, e->loc, "operator %s cannot take %s and %s", wr_ast_op_name(op),
                    tname(a, tx), tname(a, ty));
    const wr_sql_type *t = tx == NULL ? ty : ty == NULL ? tx : arith_type(a, op, tx, ty);
    if (t == NULL)
        t = wr_type_of(WR_T_INT);
    wr_cexpr *n = node(a, WR_C_ARITH, t, e->loc);
    if (n == NULL)
        return WR_ENOMEM;
    n->aop = op;
    /* operands at the common type; for DECIMAL the operation's own precision is applied to
       the result, the operands keep exact values at their common scale */
    const wr_sql_type *ot = t->kind == WR_T_DECIMAL && tx && ty ? wr_type_common(a, tx, ty) : t;
    if (ot != NULL && ot->kind == WR_T_DOUBLE && t->kind == WR_T_DECIMAL)
        ot = t;
    n->a = wr_expr_coerce(a, x, ot);
    n->b = wr_expr_coerce(a, y, ot);
    *out = n;
    return WR_OK;
}

static int
analyze_list(wr_analyzer *an, wr_expr *const *in, int n, wr_cexpr ***out, wr_err *err)
{
    wr_cexpr **v = wr_arena_calloc(an->arena, (size_t)(n > 0 ? n : 1), sizeof *v);
    if (v == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < n; i++) {
        int rc = analyze(an, in[i], &v[i], err);
        if (rc != WR_OK)
            return rc;
    }
    *out = v;
    return WR_OK;
}

/* A lambda argument: its parameters get types ptypes, its body is analyzed in their scope. */
static int
analyze_lambda(wr_analyzer *an,
               const wr_expr *lam,
               const wr_sql_type *const *ptypes,
               int np,
               wr_cexpr **out,
               wr_err *err)
{
    if (lam->kind != WR_E_LAMBDA)
        return fail(err, lam->loc, "a lambda (x => ...) is expected here");
    if (lam->n != np)
        return fail(err, lam->loc, "this lambda takes %d parameter%s, not %d", np,
                    np == 1 ? "" : "s", lam->n);
    if (an->nparams + np > 16)
        return fail(err, lam->loc, "lambdas nested too deeply");
    int base = an->nparams;
    for (int i = 0; i < np; i++) {
        an->param_names[base + i] = lam->names[i];
        an->param_types[base + i] = ptypes[i];
    }
    an->nparams += np;
    if (an->nparams > an->max_params)
        an->max_params = an->nparams;
    wr_cexpr *body;
    int rc = analyze(an, lam->a, &body, err);
    an->nparams = base;
    if (rc != WR_OK)
        return rc;
    wr_cexpr *l = node(an->arena, WR_C_LAMBDA, body->type, lam->loc);
    if (l == NULL)
        return WR_ENOMEM;
    l->a = body;
    l->col = base;
    l->n = np;
    *out = l;
    return WR_OK;
}

/* TRANSFORM, FILTER and REDUCE: their lambdas' parameter types come from the collection. */
static int
analyze_higher_order(
    wr_analyzer *an, const wr_expr *e, const char *name, wr_cexpr **out, wr_err *err)
{
    wr_arena *a = an->arena;
    bool transform = strcmp(name, "TRANSFORM") == 0, filter = strcmp(name, "FILTER") == 0;
    int want = transform ? -1 : filter ? 2 : 3;
    if (e->n < 2 || (want > 0 && e->n != want))
        return fail(err, e->loc, "%s takes %s arguments", name,
                    transform ? "2 (ARRAY) or 3 (MAP)"
                    : filter  ? "2"
                              : "3");
    wr_cexpr *coll;
    int rc = analyze(an, e->list[0], &coll, err);
    if (rc != WR_OK)
        return rc;
    const wr_sql_type *ct = coll->type;
    if (ct == NULL || (ct->kind != WR_T_ARRAY && ct->kind != WR_T_MAP))
        return fail(err, e->list[0]->loc, "%s needs an ARRAY or a MAP, got %s", name, tname(a, ct));
    bool map = ct->kind == WR_T_MAP;
    wr_cexpr *n = node(a,
                       transform ? WR_C_TRANSFORM
                       : filter  ? WR_C_FILTER
                                 : WR_C_REDUCE,
                       NULL, e->loc);
    if (n == NULL)
        return WR_ENOMEM;
    n->a = coll;
    if (transform) {
        if (e->n != (map ? 3 : 2))
            return fail(err, e->loc, "TRANSFORM of %s takes %d arguments",
                        map ? "a MAP" : "an ARRAY", map ? 3 : 2);
        n->n = e->n - 1;
        n->args = wr_arena_calloc(a, (size_t)n->n, sizeof *n->args);
        const wr_sql_type *pt[2] = {map ? ct->key : ct->elem, ct->elem};
        for (int i = 0; i < n->n; i++)
            if ((rc = analyze_lambda(an, e->list[1 + i], pt, map ? 2 : 1, &n->args[i], err)) !=
                WR_OK)
                return rc;
        wr_sql_type *t = wr_arena_calloc(a, 1, sizeof *t);
        t->kind = ct->kind;
        if (map) {
            t->key = n->args[0]->type;
            t->elem = n->args[1]->type;
        } else {
            t->elem = n->args[0]->type;
        }
        n->type = t;
    } else if (filter) {
        const wr_sql_type *pt[2] = {map ? ct->key : ct->elem, ct->elem};
        n->n = 1;
        n->args = wr_arena_calloc(a, 1, sizeof *n->args);
        if ((rc = analyze_lambda(an, e->list[1], pt, map ? 2 : 1, &n->args[0], err)) != WR_OK)
            return rc;
        if (n->args[0]->type && n->args[0]->type->kind != WR_T_BOOLEAN)
            return fail(err, e->list[1]->loc, "FILTER's lambda must return BOOLEAN, not %s",
                        tname(a, n->args[0]->type));
        n->type = ct;
    } else {
        if ((rc = analyze(an, e->list[1], &n->b, err)) != WR_OK)
            return rc;
        const wr_sql_type *pt[3] = {n->b->type, map ? ct->key : ct->elem, ct->elem};
        n->n = 1;
        n->args = wr_arena_calloc(a, 1, sizeof *n->args);
        if ((rc = analyze_lambda(an, e->list[2], pt, map ? 3 : 2, &n->args[0], err)) != WR_OK)
            return rc;
        const wr_sql_type *st = n->b->type;
        if (st == NULL || !wr_type_coercible(n->args[0]->type, st))
            return fail(err, e->list[2]->loc, "REDUCE's lambda returns %s, but the state is %s",
                        tname(a, n->args[0]->type), tname(a, st));
        n->args[0]->a = wr_expr_coerce(a, n->args[0]->a, st);
        n->args[0]->type = st;
        n->type = st;
    }
    *out = n;
    return WR_OK;
}

static int
analyze_call(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    wr_arena *a = an->arena;
    const char *name = e->text;
    if (strcmp(name, "TRANSFORM") == 0 || strcmp(name, "FILTER") == 0 ||
        strcmp(name, "REDUCE") == 0)
        return analyze_higher_order(an, e, name, out, err);
    const wr_fn_desc *fn = an->fns ? wr_fn_lookup(an->fns, name) : NULL;
    if (fn == NULL)
        return fail(err, e->loc, "unknown function %s", name);
    if (fn->kind == WR_FN_AGGREGATE)
        return fail(err, e->loc,
                    "aggregate function %s is only allowed in the select list and HAVING of a "
                    "query with GROUP BY, and not inside another aggregate",
                    name);
    if (fn->kind != WR_FN_SCALAR)
        return fail(err, e->loc, "table function %s can only be used as a whole select item", name);
    if (e->distinct)
        return fail(err, e->loc, "DISTINCT is only allowed in aggregate functions");
    wr_cexpr *n = node(a, WR_C_CALL, NULL, e->loc);
    if (n == NULL)
        return WR_ENOMEM;
    n->fn = fn;
    n->n = e->n;
    int rc = analyze_list(an, e->list, e->n, &n->args, err);
    if (rc != WR_OK)
        return rc;
    const wr_sql_type **types = wr_arena_calloc(a, (size_t)(e->n + 1), sizeof *types);
    for (int i = 0; i < e->n; i++)
        types[i] = n->args[i]->type;
    int variant = 0;
    wr_err ferr = {0};
    n->type = fn->resolve(fn, a, types, e->n, &variant, &ferr);
    if (n->type == NULL)
        return fail(err, e->loc, "%s", ferr.msg[0] ? ferr.msg : "no matching signature");
    for (int i = 0; fn->param != NULL && i < e->n; i++) { /* the overload's parameter types */
        const wr_sql_type *pt = fn->param(fn, a, types, e->n, variant, i);
        if (pt != NULL && n->args[i]->type != NULL && !wr_type_equal(pt, n->args[i]->type))
            n->args[i] = wr_expr_coerce(a, n->args[i], pt);
        types[i] = pt != NULL ? pt : types[i];
    }
    n->fctx = wr_arena_calloc(a, 1, sizeof *n->fctx);
    if (n->fctx == NULL)
        return WR_ENOMEM;
    n->fctx->ret = n->type;
    n->fctx->variant = variant;
    n->fctx->nargs = e->n;
    n->fctx->args = types;
    n->fctx->fn = fn;
    if (fn->init != NULL) {
        const wr_val **consts = wr_arena_calloc(a, (size_t)(e->n + 1), sizeof *consts);
        for (int i = 0; i < e->n; i++)
            if (n->args[i]->op == WR_C_CONST)
                consts[i] = &n->args[i]->k;
        n->fctx->arena = a;
        if (fn->init(n->fctx, consts, e->n, &ferr) != WR_OK)
            return fail(err, e->loc, "%s: %s", name, ferr.msg);
        if (fn->fini != NULL && n->fctx->state != NULL)
            wr_arena_cleanup_add(a, fn->fini, n->fctx->state);
    }
    *out = n;
    return WR_OK;
}

/* After an aggregation: e as a column of the aggregated scope, when it is one. */
static bool
substitute(wr_analyzer *an, const wr_expr *e, wr_cexpr **out)
{
    if (an->nsubst == 0 || e->kind == WR_E_NULL || e->kind == WR_E_BOOL || e->kind == WR_E_INT ||
        e->kind == WR_E_DOUBLE || e->kind == WR_E_DECIMAL || e->kind == WR_E_STRING)
        return false;
    wr_buf b = WR_BUF_INIT;
    wr_ast_format_expr(&b, e);
    wr_buf_put_u8(&b, 0);
    int found = -1;
    for (int i = 0; wr_buf_ok(&b) && i < an->nsubst && found < 0; i++)
        if (strcmp(an->subst_text[i], (const char *)b.data) == 0)
            found = an->subst_col[i];
    wr_buf_free(&b);
    if (found < 0)
        return false;
    *out = node(an->arena, WR_C_COLUMN, an->scope->cols[found].type, e->loc);
    if (*out != NULL)
        (*out)->col = found;
    return *out != NULL;
}

static int
analyze(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    wr_arena *a = an->arena;
    int rc;
    if (substitute(an, e, out))
        return WR_OK;
    if (an->after_aggregation && e->kind == WR_E_COLUMN && an->nparams == 0)
        return fail(err, e->loc,
                    "Non-aggregate SELECT expression(s) not part of GROUP BY: %s%s%s\nEither add "
                    "the column(s) to the GROUP BY or remove them from the SELECT.",
                    e->qualifier ? e->qualifier : "", e->qualifier ? "." : "", e->name);
    switch (e->kind) {
    case WR_E_NULL:
    case WR_E_BOOL:
    case WR_E_INT:
    case WR_E_DOUBLE:
    case WR_E_DECIMAL:
    case WR_E_STRING:
        return literal(an, e, out, err);
    case WR_E_COLUMN:
        return resolve_column(an, e, out, err);
    case WR_E_STAR:
        return fail(err, e->loc, "* is only allowed as a select item or in COUNT(*)");
    case WR_E_UNARY: {
        wr_cexpr *x;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK)
            return rc;
        if (e->op == WR_OP_NOT) {
            if (x->type && x->type->kind != WR_T_BOOLEAN)
                return fail(err, e->loc, "NOT needs a BOOLEAN, got %s", tname(a, x->type));
            *out = node(a, WR_C_NOT, wr_type_of(WR_T_BOOLEAN), e->loc);
            if (*out == NULL)
                return WR_ENOMEM;
            (*out)->a = wr_expr_coerce(a, x, (*out)->type);
            return WR_OK;
        }
        if (x->type && !wr_type_is_numeric(x->type))
            return fail(err, e->loc, "unary %s needs a number, got %s", wr_ast_op_name(e->op),
                        tname(a, x->type));
        if (e->op == WR_OP_PLUS) {
            *out = x;
            return WR_OK;
        }
        if (x->op == WR_C_CONST && !x->k.null) { /* fold -literal, so -2147483648 stays INT */
            wr_val *k = &x->k;
            switch (k->type->kind) {
            case WR_T_INT:
                k->u.i32 = (int32_t)(0u - (uint32_t)k->u.i32);
                break;
            case WR_T_BIGINT:
                k->u.i64 = (int64_t)(0u - (uint64_t)k->u.i64);
                break;
            case WR_T_DOUBLE:
                k->u.f64 = -k->u.f64;
                break;
            default:
                k->u.dec = -k->u.dec;
                break;
            }
            x->loc = e->loc;
            *out = x;
            return WR_OK;
        }
        *out = node(a, WR_C_NEG, x->type, e->loc);
        if (*out == NULL)
            return WR_ENOMEM;
        (*out)->a = x;
        return WR_OK;
    }
    case WR_E_BINARY:
        return analyze_binary(an, e, out, err);
    case WR_E_LIKE: {
        wr_cexpr *x, *p;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK ||
            (rc = analyze(an, e->b2, &p, err)) != WR_OK)
            return rc;
        if ((x->type && !is_string(x->type)) || (p->type && !is_string(p->type)))
            return fail(err, e->loc, "LIKE needs STRING operands, got %s and %s", tname(a, x->type),
                        tname(a, p->type));
        wr_cexpr *n = node(a, WR_C_LIKE, wr_type_of(WR_T_BOOLEAN), e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->a = wr_expr_coerce(a, x, wr_type_of(WR_T_STRING));
        n->b = wr_expr_coerce(a, p, wr_type_of(WR_T_STRING));
        n->negated = e->negated;
        if (e->c != NULL) {
            if (e->c->len != 1)
                return fail(err, e->c->loc, "ESCAPE takes a single character");
            n->col = (unsigned char)e->c->text[0];
        }
        *out = n;
        return WR_OK;
    }
    case WR_E_BETWEEN:
    case WR_E_IN: {
        bool between = e->kind == WR_E_BETWEEN;
        int cnt = between ? 3 : e->n + 1;
        wr_cexpr **v = wr_arena_calloc(a, (size_t)cnt, sizeof *v);
        if (v == NULL)
            return WR_ENOMEM;
        if ((rc = analyze(an, e->a, &v[0], err)) != WR_OK)
            return rc;
        if (between) {
            if ((rc = analyze(an, e->b2, &v[1], err)) != WR_OK ||
                (rc = analyze(an, e->c, &v[2], err)) != WR_OK)
                return rc;
        } else {
            for (int i = 0; i < e->n; i++)
                if ((rc = analyze(an, e->list[i], &v[i + 1], err)) != WR_OK)
                    return rc;
        }
        const wr_sql_type *t;
        if ((rc = unify(an, v, cnt, &t, between ? "BETWEEN" : "IN", err)) != WR_OK)
            return rc;
        if (t != NULL && !comparable(t) && between)
            return fail(err, e->loc, "BETWEEN cannot compare %s", tname(a, t));
        wr_cexpr *n = node(a, between ? WR_C_BETWEEN : WR_C_IN, wr_type_of(WR_T_BOOLEAN), e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->negated = e->negated;
        n->a = v[0];
        if (between) {
            n->b = v[1];
            n->c = v[2];
        } else {
            n->n = e->n;
            n->args = v + 1;
        }
        *out = n;
        return WR_OK;
    }
    case WR_E_IS_NULL:
    case WR_E_DISTINCT: {
        wr_cexpr *x, *y = NULL;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK)
            return rc;
        wr_cexpr *n = node(a, e->kind == WR_E_IS_NULL ? WR_C_IS_NULL : WR_C_DISTINCT,
                           wr_type_of(WR_T_BOOLEAN), e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->negated = e->negated;
        n->a = x;
        if (e->kind == WR_E_DISTINCT) {
            if ((rc = analyze(an, e->b2, &y, err)) != WR_OK)
                return rc;
            wr_cexpr *pair[2] = {x, y};
            const wr_sql_type *t;
            if ((rc = unify(an, pair, 2, &t, "IS DISTINCT FROM", err)) != WR_OK)
                return rc;
            n->a = pair[0];
            n->b = pair[1];
        }
        *out = n;
        return WR_OK;
    }
    case WR_E_CASE: {
        int arms = e->n / 2;
        wr_cexpr *operand = NULL;
        if (e->a != NULL && (rc = analyze(an, e->a, &operand, err)) != WR_OK)
            return rc;
        wr_cexpr **v = wr_arena_calloc(a, (size_t)(2 * arms + 1), sizeof *v);
        wr_cexpr **vals = wr_arena_calloc(a, (size_t)(arms + 1), sizeof *vals);
        if (v == NULL || vals == NULL)
            return WR_ENOMEM;
        for (int i = 0; i < arms; i++) {
            wr_cexpr *w, *t;
            if ((rc = analyze(an, e->list[2 * i], &w, err)) != WR_OK ||
                (rc = analyze(an, e->list[2 * i + 1], &t, err)) != WR_OK)
                return rc;
            if (operand != NULL) { /* CASE x WHEN v: x = v */
                wr_expr eq = {.kind = WR_E_BINARY, .op = WR_OP_EQ, .loc = e->list[2 * i]->loc};
                (void)eq;
                wr_cexpr *pair[2] = {operand, w};
                const wr_sql_type *ct;
                if ((rc = unify(an, pair, 2, &ct, "CASE", err)) != WR_OK)
                    return rc;
                wr_cexpr *cmp = node(a, WR_C_CMP, wr_type_of(WR_T_BOOLEAN), w->loc);
                if (cmp == NULL)
                    return WR_ENOMEM;
                cmp->aop = WR_OP_EQ;
                cmp->a = pair[0];
                cmp->b = pair[1];
                w = cmp;
            } else if (w->type && w->type->kind != WR_T_BOOLEAN) {
                return fail(err, w->loc, "WHEN needs a BOOLEAN condition, got %s",
                            tname(a, w->type));
            }
            v[2 * i] = w;
            vals[i] = t;
        }
        wr_cexpr *els = NULL;
        if (e->b2 != NULL && (rc = analyze(an, e->b2, &els, err)) != WR_OK)
            return rc;
        if (els != NULL)
            vals[arms] = els;
        const wr_sql_type *t;
        if ((rc = unify(an, vals, arms + (els != NULL), &t, "CASE", err)) != WR_OK)
            return rc;
        for (int i = 0; i < arms; i++)
            v[2 * i + 1] = vals[i];
        wr_cexpr *n = node(a, WR_C_CASE, t, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->n = 2 * arms;
        n->args = v;
        n->c = els != NULL ? vals[arms] : NULL;
        *out = n;
        return WR_OK;
    }
    case WR_E_CAST: {
        wr_cexpr *x;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK)
            return rc;
        /* the target type must outlive the syntax tree */
        const wr_sql_type *to = wr_type_copy(a, e->type);
        if (to == NULL)
            return WR_ENOMEM;
        if (x->type != NULL && !wr_type_castable(x->type, to))
            return fail(err, e->loc, "cannot CAST %s to %s", tname(a, x->type), tname(a, to));
        if (x->type == NULL || wr_type_equal(x->type, to)) {
            *out = wr_expr_coerce(a, x, to);
            return *out ? WR_OK : WR_ENOMEM;
        }
        wr_cexpr *n = node(a, WR_C_CAST, to, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->a = x;
        *out = n;
        return WR_OK;
    }
    case WR_E_CALL:
        return analyze_call(an, e, out, err);
    case WR_E_DEREF: {
        wr_cexpr *x;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK)
            return rc;
        if (x->type == NULL || x->type->kind != WR_T_STRUCT)
            return fail(err, e->loc, "-> needs a STRUCT, got %s", tname(a, x->type));
        for (int i = 0; i < x->type->nfields; i++)
            if (strcasecmp(x->type->fields[i].name, e->name) == 0) {
                wr_cexpr *n = node(a, WR_C_DEREF, x->type->fields[i].type, e->loc);
                if (n == NULL)
                    return WR_ENOMEM;
                n->a = x;
                n->col = i;
                *out = n;
                return WR_OK;
            }
        return fail(err, e->loc, "STRUCT %s has no field '%s'", tname(a, x->type), e->name);
    }
    case WR_E_SUBSCRIPT: {
        wr_cexpr *x, *i;
        if ((rc = analyze(an, e->a, &x, err)) != WR_OK ||
            (rc = analyze(an, e->b2, &i, err)) != WR_OK)
            return rc;
        const wr_sql_type *t = x->type;
        if (t == NULL || (t->kind != WR_T_ARRAY && t->kind != WR_T_MAP))
            return fail(err, e->loc, "[] needs an ARRAY or a MAP, got %s", tname(a, t));
        const wr_sql_type *want = t->kind == WR_T_MAP ? t->key : wr_type_of(WR_T_INT);
        if (i->type && !wr_type_coercible(i->type, want) &&
            !(t->kind == WR_T_ARRAY && i->type->kind == WR_T_BIGINT))
            return fail(err, e->b2->loc, "%s index must be %s, got %s",
                        t->kind == WR_T_MAP ? "MAP" : "ARRAY", tname(a, want), tname(a, i->type));
        wr_cexpr *n = node(a, WR_C_SUBSCRIPT, t->elem, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->a = x;
        n->b = t->kind == WR_T_MAP ? wr_expr_coerce(a, i, want) : i;
        *out = n;
        return WR_OK;
    }
    case WR_E_LAMBDA:
        return fail(err, e->loc,
                    "a lambda is only allowed as an argument of TRANSFORM, FILTER or REDUCE");
    case WR_E_ARRAY:
    case WR_E_MAP: {
        bool map = e->kind == WR_E_MAP;
        int cnt = map ? 2 * e->n : e->n;
        wr_cexpr **v;
        if ((rc = analyze_list(an, e->list, cnt, &v, err)) != WR_OK)
            return rc;
        wr_sql_type *t = wr_arena_calloc(a, 1, sizeof *t);
        if (t == NULL)
            return WR_ENOMEM;
        t->kind = map ? WR_T_MAP : WR_T_ARRAY;
        if (map) {
            wr_cexpr **ks = wr_arena_calloc(a, (size_t)(e->n + 1), sizeof *ks);
            wr_cexpr **vs = wr_arena_calloc(a, (size_t)(e->n + 1), sizeof *vs);
            for (int i = 0; i < e->n; i++) {
                ks[i] = v[2 * i];
                vs[i] = v[2 * i + 1];
            }
            if ((rc = unify(an, ks, e->n, &t->key, "MAP keys", err)) != WR_OK ||
                (rc = unify(an, vs, e->n, &t->elem, "MAP values", err)) != WR_OK)
                return rc;
            for (int i = 0; i < e->n; i++) {
                v[2 * i] = ks[i];
                v[2 * i + 1] = vs[i];
            }
        } else if ((rc = unify(an, v, cnt, &t->elem, "ARRAY", err)) != WR_OK) {
            return rc;
        }
        if (t->elem == NULL)
            t->elem = wr_type_of(WR_T_STRING); /* ARRAY[] and ARRAY[NULL]: ksqlDB types them so */
        if (map && t->key == NULL)
            t->key = wr_type_of(WR_T_STRING);
        for (int i = 0; i < cnt; i++)
            if ((v[i] = wr_expr_coerce(a, v[i], map && i % 2 == 0 ? t->key : t->elem)) == NULL)
                return WR_ENOMEM;
        wr_cexpr *n = node(a, map ? WR_C_MAP : WR_C_ARRAY, t, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->n = cnt;
        n->args = v;
        *out = n;
        return WR_OK;
    }
    case WR_E_STRUCT: {
        wr_cexpr **v;
        if ((rc = analyze_list(an, e->list, e->n, &v, err)) != WR_OK)
            return rc;
        wr_sql_type *t = wr_arena_calloc(a, 1, sizeof *t);
        wr_sql_field *f = wr_arena_calloc(a, (size_t)(e->n + 1), sizeof *f);
        if (t == NULL || f == NULL)
            return WR_ENOMEM;
        t->kind = WR_T_STRUCT;
        for (int i = 0; i < e->n; i++) {
            for (int j = 0; j < i; j++)
                if (strcmp(e->names[j], e->names[i]) == 0)
                    return fail(err, e->list[i]->loc, "STRUCT field '%s' given twice", e->names[i]);
            f[i].name = wr_arena_strdup(a, e->names[i]);
            f[i].type = v[i]->type ? v[i]->type : wr_type_of(WR_T_STRING);
            v[i] = wr_expr_coerce(a, v[i], f[i].type);
        }
        t->nfields = e->n;
        t->fields = f;
        wr_cexpr *n = node(a, WR_C_STRUCT, t, e->loc);
        if (n == NULL)
            return WR_ENOMEM;
        n->n = e->n;
        n->args = v;
        *out = n;
        return WR_OK;
    }
    }
    return fail(err, e->loc, "unsupported expression");
}

int
wr_expr_analyze(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err)
{
    int rc = analyze(an, e, out, err);
    if (rc == WR_ENOMEM)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    return rc;
}

/* ---- evaluation ------------------------------------------------------------------------- */

static void warn(wr_eval_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(wr_eval_ctx *cx, const char *fmt, ...)
{
    if (cx->warning[0] != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->warning, sizeof cx->warning, fmt, ap);
    va_end(ap);
}

/* Rescales a decimal from scale s to scale t (half up when dropping digits). */
static wr_i128
rescale(wr_i128 v, int s, int t)
{
    if (t >= s)
        return v * wr_decimal_pow10(t - s);
    wr_i128 d = wr_decimal_pow10(s - t), q = v / d, r = v % d;
    if (r < 0)
        r = -r;
    if (r * 2 >= d)
        q += v < 0 ? -1 : 1;
    return q;
}

static int64_t
num_as_i64(const wr_val *x, bool *ok)
{
    *ok = true;
    switch (x->type->kind) {
    case WR_T_INT:
        return x->u.i32;
    case WR_T_BIGINT:
        return x->u.i64;
    case WR_T_DECIMAL: {
        wr_i128 q =
            x->u.dec / wr_decimal_pow10(x->type->scale); /* truncates, as Java's longValue */
        if (q > INT64_MAX || q < INT64_MIN)
            *ok = false;
        return (int64_t)q;
    }
    default: {
        double d = x->u.f64;
        if (isnan(d))
            return 0;
        if (d >= 9.2233720368547758e18)
            return INT64_MAX;
        if (d <= -9.2233720368547758e18)
            return INT64_MIN;
        return (int64_t)d;
    }
    }
}

/* "2020-01-02", "2020-01-02T03:04:05[.678][Z|+hh:mm]" -> ms; false when malformed. */
static bool
parse_iso(const char *s, int32_t len, bool date_only, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0, ms = 0, n = 0;
    char buf[64];
    if (len <= 0 || len >= (int32_t)sizeof buf)
        return false;
    memcpy(buf, s, (size_t)len);
    buf[len] = 0;
    if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    const char *p = buf + n;
    int64_t off = 0;
    if (!date_only && (*p == 'T' || *p == ' ')) {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) != 2)
            return false;
        p += 1 + k;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &se, &k) != 1)
                return false;
            p += 1 + k;
        }
        if (*p == '.') {
            int digits = 0;
            p++;
            while (*p >= '0' && *p <= '9') {
                if (digits < 3)
                    ms = ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            for (; digits < 3; digits++)
                ms *= 10;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om = 0;
            if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
                return false;
            off = (*p == '-' ? -1 : 1) * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
            p += strlen(p);
        }
    }
    if (*p != 0)
        return false;
    *out = wr_days_from_civil(y, mo, d) * 86400000 + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
           (int64_t)se * 1000 + ms - off;
    return true;
}

/* CAST and implicit coercion of a non-null x to t. */
static void
cast_val(wr_eval_ctx *cx, const wr_val *x, const wr_sql_type *t, wr_val *out)
{
    wr_tkind from = x->type->kind, to = t->kind;
    *out = wr_val_null(t);
    if (to == WR_T_STRING) {
        wr_buf b = WR_BUF_INIT;
        wr_val_to_string(&b, x);
        if (wr_buf_ok(&b))
            *out = wr_val_string_copy(cx->arena, b.len ? (const char *)b.data : "", (int32_t)b.len);
        wr_buf_free(&b);
        return;
    }
    if (wr_type_is_numeric(x->type) && wr_type_is_numeric(t)) {
        bool ok;
        switch (to) {
        case WR_T_INT: {
            int64_t v = num_as_i64(x, &ok);
            if (from == WR_T_DOUBLE) /* Java (int) of a double saturates */
                v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
            *out = wr_val_int((int32_t)v); /* from BIGINT/DECIMAL: Java's intValue wraps */
            break;
        }
        case WR_T_BIGINT: {
            int64_t v = num_as_i64(x, &ok);
            *out = wr_val_bigint(v);
            break;
        }
        case WR_T_DOUBLE:
            *out = wr_val_double(wr_val_as_double(x));
            break;
        default: { /* DECIMAL */
            wr_i128 v;
            if (from == WR_T_DECIMAL) {
                v = rescale(x->u.dec, x->type->scale, t->scale);
            } else if (from == WR_T_DOUBLE) {
                char tmp[64];
                if (!isfinite(x->u.f64)) {
                    warn(cx, "cannot cast %g to DECIMAL", x->u.f64);
                    return;
                }
                snprintf(tmp, sizeof tmp, "%.17g", x->u.f64);
                wr_buf b = WR_BUF_INIT;
                wr_double_format(&b, x->u.f64);
                wr_buf_put_u8(&b, 0);
                int rc = strchr((const char *)b.data, 'E') == NULL
                             ? wr_decimal_parse((const char *)b.data, b.len - 1, 38, t->scale, &v)
                             : WR_EINVAL;
                wr_buf_free(&b);
                if (rc != WR_OK) {
                    double scaled = x->u.f64 * (double)wr_decimal_pow10(t->scale);
                    if (fabs(scaled) >= 1e38) {
                        warn(cx, "%s does not fit in DECIMAL(%d, %d)", tmp, t->precision, t->scale);
                        return;
                    }
                    v = (wr_i128)llround(scaled);
                }
            } else {
                v = (wr_i128)(from == WR_T_INT ? x->u.i32 : x->u.i64) * wr_decimal_pow10(t->scale);
            }
            if (v >= wr_decimal_pow10(t->precision) || v <= -wr_decimal_pow10(t->precision)) {
                warn(cx, "value does not fit in DECIMAL(%d, %d)", t->precision, t->scale);
                return;
            }
            *out = wr_val_decimal(t, v);
            break;
        }
        }
        return;
    }
    if (from == WR_T_STRING) {
        char *s = wr_val_cstr(cx->arena, x);
        if (s == NULL)
            return;
        char *end;
        switch (to) {
        case WR_T_BOOLEAN:
            *out = wr_val_bool(strcasecmp(s, "true") == 0); /* Java's Boolean.parseBoolean */
            return;
        case WR_T_INT:
        case WR_T_BIGINT: {
            while (*s == ' ')
                s++;
            errno = 0;
            long long v = strtoll(s, &end, 10);
            while (*end == ' ')
                end++;
            if (*s == 0 || *end != 0 || errno != 0 ||
                (to == WR_T_INT && (v > INT32_MAX || v < INT32_MIN))) {
                warn(cx, "cannot cast '%s' to %s", s, to == WR_T_INT ? "INTEGER" : "BIGINT");
                return;
            }
            *out = to == WR_T_INT ? wr_val_int((int32_t)v) : wr_val_bigint(v);
            return;
        }
        case WR_T_DOUBLE: {
            double d = strtod(s, &end);
            if (*s == 0 || *end != 0) {
                warn(cx, "cannot cast '%s' to DOUBLE", s);
                return;
            }
            *out = wr_val_double(d);
            return;
        }
        case WR_T_DECIMAL: {
            wr_i128 v;
            if (wr_decimal_parse(s, strlen(s), t->precision, t->scale, &v) != WR_OK) {
                warn(cx, "cannot cast '%s' to DECIMAL(%d, %d)", s, t->precision, t->scale);
                return;
            }
            *out = wr_val_decimal(t, v);
            return;
        }
        case WR_T_TIMESTAMP:
        case WR_T_DATE: {
            int64_t ms;
            if (!parse_iso(s, x->u.s.len, to == WR_T_DATE, &ms)) {
                warn(cx, "cannot cast '%s' to %s", s, to == WR_T_DATE ? "DATE" : "TIMESTAMP");
                return;
            }
            *out = to == WR_T_DATE ? wr_val_date((int32_t)(ms / 86400000)) : wr_val_timestamp(ms);
            return;
        }
        case WR_T_TIME: {
            int h, m, sec = 0, n = 0;
            if (sscanf(s, "%2d:%2d%n", &h, &m, &n) < 2 || h > 23 || m > 59) {
                warn(cx, "cannot cast '%s' to TIME", s);
                return;
            }
            if (s[n] == ':')
                sscanf(s + n + 1, "%2d", &sec);
            *out = wr_val_time(h * 3600000 + m * 60000 + sec * 1000);
            return;
        }
        default:
            return;
        }
    }
    if (from == WR_T_TIMESTAMP && to == WR_T_DATE) {
        int64_t ms = x->u.i64;
        *out = wr_val_date((int32_t)wr_days_of_ms(ms));
        return;
    }
    if (from == WR_T_TIMESTAMP && to == WR_T_TIME) {
        int64_t ms = x->u.i64 % 86400000;
        *out = wr_val_time((int32_t)(ms < 0 ? ms + 86400000 : ms));
        return;
    }
    if (from == WR_T_DATE && to == WR_T_TIMESTAMP) {
        *out = wr_val_timestamp((int64_t)x->u.i32 * 86400000);
        return;
    }
    if (from == WR_T_ARRAY && to == WR_T_ARRAY) {
        int32_t n = x->u.arr.n;
        wr_val *v = wr_arena_calloc(cx->arena, (size_t)(n > 0 ? n : 1), sizeof *v);
        if (v == NULL)
            return;
        for (int32_t i = 0; i < n; i++) {
            if (x->u.arr.v[i].null)
                v[i] = wr_val_null(t->elem);
            else
                cast_val(cx, &x->u.arr.v[i], t->elem, &v[i]);
        }
        out->null = false;
        out->u.arr.n = n;
        out->u.arr.v = v;
        return;
    }
    if (from == WR_T_MAP && to == WR_T_MAP) {
        int32_t n = x->u.map.n;
        wr_val *k = wr_arena_calloc(cx->arena, (size_t)(n > 0 ? n : 1), sizeof *k);
        wr_val *v = wr_arena_calloc(cx->arena, (size_t)(n > 0 ? n : 1), sizeof *v);
        if (k == NULL || v == NULL)
            return;
        for (int32_t i = 0; i < n; i++) {
            if (x->u.map.k[i].null)
                k[i] = wr_val_null(t->key);
            else
                cast_val(cx, &x->u.map.k[i], t->key, &k[i]);
            if (x->u.map.v[i].null)
                v[i] = wr_val_null(t->elem);
            else
                cast_val(cx, &x->u.map.v[i], t->elem, &v[i]);
        }
        out->null = false;
        out->u.map.n = n;
        out->u.map.k = k;
        out->u.map.v = v;
        return;
    }
    if (from == WR_T_STRUCT && to == WR_T_STRUCT) {
        wr_val *f = wr_arena_calloc(cx->arena, (size_t)(t->nfields + 1), sizeof *f);
        if (f == NULL)
            return;
        for (int i = 0; i < t->nfields; i++) {
            f[i] = wr_val_null(t->fields[i].type);
            for (int j = 0; j < x->type->nfields; j++)
                if (strcmp(x->type->fields[j].name, t->fields[i].name) == 0 && !x->u.st.f[j].null)
                    cast_val(cx, &x->u.st.f[j], t->fields[i].type, &f[i]);
        }
        out->null = false;
        out->u.st.f = f;
        return;
    }
    if (wr_type_equal(x->type, t))
        *out = *x;
}

static void
arith(wr_eval_ctx *cx, const wr_cexpr *e, const wr_val *x, const wr_val *y, wr_val *out)
{
    const wr_sql_type *t = e->type;
    *out = wr_val_null(t);
    switch (t->kind) {
    case WR_T_INT: {
        uint32_t a = (uint32_t)x->u.i32, b = (uint32_t)y->u.i32;
        int32_t r;
        switch (e->aop) {
        case WR_OP_ADD:
            r = (int32_t)(a + b); /* Java int arithmetic wraps */
            break;
        case WR_OP_SUB:
            r = (int32_t)(a - b);
            break;
        case WR_OP_MUL:
            r = (int32_t)(a * b);
            break;
        default:
            if (y->u.i32 == 0) {
                warn(cx, "division by zero");
                return;
            }
            if (x->u.i32 == INT32_MIN && y->u.i32 == -1)
                r = e->aop == WR_OP_DIV ? INT32_MIN : 0;
            else
                r = e->aop == WR_OP_DIV ? x->u.i32 / y->u.i32 : x->u.i32 % y->u.i32;
            break;
        }
        *out = wr_val_int(r);
        return;
    }
    case WR_T_BIGINT: {
        uint64_t a = (uint64_t)x->u.i64, b = (uint64_t)y->u.i64;
        int64_t r;
        switch (e->aop) {
        case WR_OP_ADD:
            r = (int64_t)(a + b);
            break;
        case WR_OP_SUB:
            r = (int64_t)(a - b);
            break;
        case WR_OP_MUL:
            r = (int64_t)(a * b);
            break;
        default:
            if (y->u.i64 == 0) {
                warn(cx, "division by zero");
                return;
            }
            if (x->u.i64 == INT64_MIN && y->u.i64 == -1)
                r = e->aop == WR_OP_DIV ? INT64_MIN : 0;
            else
                r = e->aop == WR_OP_DIV ? x->u.i64 / y->u.i64 : x->u.i64 % y->u.i64;
            break;
        }
        *out = wr_val_bigint(r);
        return;
    }
    case WR_T_DOUBLE: {
        double a = wr_val_as_double(x), b = wr_val_as_double(y), r;
        switch (e->aop) {
        case WR_OP_ADD:
            r = a + b;
            break;
        case WR_OP_SUB:
            r = a - b;
            break;
        case WR_OP_MUL:
            r = a * b;
            break;
        case WR_OP_DIV:
            r = a / b;
            break;
        default:
            r = fmod(a, b);
            break;
        }
        *out = wr_val_double(r);
        return;
    }
    default: { /* DECIMAL: operands at their common scale */
        int sx = x->type->scale, sy = y->type->scale, s = sx > sy ? sx : sy;
        wr_i128 a = rescale(x->u.dec, sx, s), b = rescale(y->u.dec, sy, s), r;
        int rs;
        switch (e->aop) {
        case WR_OP_ADD:
            r = a + b;
            rs = s;
            break;
        case WR_OP_SUB:
            r = a - b;
            rs = s;
            break;
        case WR_OP_MUL:
            r = x->u.dec * y->u.dec;
            rs = sx + sy;
            break;
        case WR_OP_DIV:
            if (b == 0) {
                warn(cx, "division by zero");
                return;
            }
            /* a / b at the result scale, half up */
            {
                int extra = t->scale;
                wr_i128 num = a, q, rem;
                bool neg = (num < 0) != (b < 0);
                wr_i128 ua = num < 0 ? -num : num, ub = b < 0 ? -b : b;
                q = 0;
                rem = ua;
                q = rem / ub;
                rem = rem % ub;
                for (int i = 0; i < extra; i++) {
                    rem *= 10;
                    q = q * 10 + rem / ub;
                    rem %= ub;
                }
                if (rem * 2 >= ub)
                    q++;
                r = neg ? -q : q;
                rs = extra;
            }
            break;
        default:
            if (b == 0) {
                warn(cx, "division by zero");
                return;
            }
            r = a % b;
            rs = s;
            break;
        }
        r = rescale(r, rs, t->scale);
        if (r >= wr_decimal_pow10(t->precision) || r <= -wr_decimal_pow10(t->precision)) {
            warn(cx, "DECIMAL overflow");
            return;
        }
        *out = wr_val_decimal(t, r);
        return;
    }
    }
}

/* SQL LIKE with % and _ (and an escape character), on bytes. */
static bool
like(const char *s, int32_t sn, const char *p, int32_t pn, int esc)
{
    int32_t si = 0, pi = 0, star_p = -1, star_s = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == esc && pi + 1 < pn) {
            if (p[pi + 1] == s[si]) {
                pi += 2;
                si++;
                continue;
            }
        } else if (pi < pn && (p[pi] == '_' || (p[pi] != '%' && p[pi] == s[si]))) {
            pi++;
            si++;
            continue;
        } else if (pi < pn && p[pi] == '%') {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (star_p < 0)
            return false;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

static void eval(const wr_cexpr *e, wr_eval_ctx *cx, wr_val *out);

static void
eval_lambda(const wr_cexpr *l, wr_eval_ctx *cx, const wr_val *params, wr_val *out)
{
    for (int i = 0; i < l->n; i++)
        cx->params[l->col + i] = params[i];
    eval(l->a, cx, out);
}

static void
eval_higher_order(const wr_cexpr *e, wr_eval_ctx *cx, wr_val *out)
{
    wr_val c;
    eval(e->a, cx, &c);
    *out = wr_val_null(e->type);
    if (c.null)
        return;
    bool map = c.type->kind == WR_T_MAP;
    int32_t n = map ? c.u.map.n : c.u.arr.n;
    wr_arena *a = cx->arena;
    if (e->op == WR_C_REDUCE) {
        wr_val st;
        eval(e->b, cx, &st);
        for (int32_t i = 0; i < n; i++) {
            wr_val p[3] = {st, map ? c.u.map.k[i] : c.u.arr.v[i],
                           map ? c.u.map.v[i] : wr_val_null(NULL)};
            eval_lambda(e->args[0], cx, p, &st);
        }
        *out = st;
        return;
    }
    wr_val *k = wr_arena_calloc(a, (size_t)(n > 0 ? n : 1), sizeof *k);
    wr_val *v = map ? wr_arena_calloc(a, (size_t)(n > 0 ? n : 1), sizeof *v) : NULL;
    if (k == NULL || (map && v == NULL))
        return;
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        wr_val p[2] = {map ? c.u.map.k[i] : c.u.arr.v[i], map ? c.u.map.v[i] : wr_val_null(NULL)};
        if (e->op == WR_C_FILTER) {
            wr_val keep;
            eval_lambda(e->args[0], cx, p, &keep);
            if (keep.null || !keep.u.b)
                continue;
            k[m] = p[0];
            if (map)
                v[m] = p[1];
            m++;
        } else {
            eval_lambda(e->args[0], cx, p, &k[m]);
            if (map)
                eval_lambda(e->args[1], cx, p, &v[m]);
            int32_t j = 0; /* a map's keys stay unique: a key made again takes the later value,
                              in the first one's place (as a MAP literal's) */
            while (map && j < m &&
                   !(k[j].null ? k[m].null : (!k[m].null && wr_val_equal(&k[j], &k[m]))))
                j++;
            if (map && j < m)
                v[j] = v[m];
            else
                m++;
        }
    }
    out->null = false;
    if (map) {
        out->u.map.n = m;
        out->u.map.k = k;
        out->u.map.v = v;
    } else {
        out->u.arr.n = m;
        out->u.arr.v = k;
    }
}

static void
eval(const wr_cexpr *e, wr_eval_ctx *cx, wr_val *out)
{
    wr_val x, y, z;
    switch (e->op) {
    case WR_C_CONST:
        *out = e->k;
        return;
    case WR_C_COLUMN:
        *out = cx->row[e->col];
        return;
    case WR_C_PARAM:
        *out = cx->params[e->col];
        return;
    case WR_C_LAMBDA:
        *out = wr_val_null(e->type);
        return;
    case WR_C_CAST:
        eval(e->a, cx, &x);
        if (x.null || x.type == NULL)
            *out = wr_val_null(e->type);
        else
            cast_val(cx, &x, e->type, out);
        return;
    case WR_C_NEG:
        eval(e->a, cx, &x);
        *out = x;
        if (x.null)
            return;
        switch (x.type->kind) {
        case WR_T_INT:
            out->u.i32 = (int32_t)(0u - (uint32_t)x.u.i32);
            break;
        case WR_T_BIGINT:
            out->u.i64 = (int64_t)(0u - (uint64_t)x.u.i64);
            break;
        case WR_T_DOUBLE:
            out->u.f64 = -x.u.f64;
            break;
        default:
            out->u.dec = -x.u.dec;
            break;
        }
        return;
    case WR_C_ARITH:
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        if (x.null || y.null)
            *out = wr_val_null(e->type);
        else
            arith(cx, e, &x, &y, out);
        return;
    case WR_C_CONCAT: {
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        if (x.null || y.null) {
            *out = wr_val_null(e->type);
            return;
        }
        char *p = wr_arena_alloc(cx->arena, (size_t)x.u.s.len + (size_t)y.u.s.len + 1);
        if (p == NULL) {
            *out = wr_val_null(e->type);
            return;
        }
        memcpy(p, x.u.s.p, (size_t)x.u.s.len);
        memcpy(p + x.u.s.len, y.u.s.p, (size_t)y.u.s.len);
        *out = wr_val_string(p, x.u.s.len + y.u.s.len);
        return;
    }
    case WR_C_CMP: {
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        if (x.null || y.null || x.type == NULL || y.type == NULL) {
            *out = wr_val_null(e->type);
            return;
        }
        int c =
            e->aop == WR_OP_EQ || e->aop == WR_OP_NE ? !wr_val_equal(&x, &y) : wr_val_cmp(&x, &y);
        bool r = e->aop == WR_OP_EQ   ? c == 0
                 : e->aop == WR_OP_NE ? c != 0
                 : e->aop == WR_OP_LT ? c < 0
                 : e->aop == WR_OP_LE ? c <= 0
                 : e->aop == WR_OP_GT ? c > 0
                                      : c >= 0;
        *out = wr_val_bool(r);
        return;
    }
    case WR_C_AND:
    case WR_C_OR: {
        /* three-valued: FALSE AND NULL = FALSE, TRUE OR NULL = TRUE */
        bool and = e->op == WR_C_AND;
        eval(e->a, cx, &x);
        if (!x.null && x.u.b != and) {
            *out = wr_val_bool(!and);
            return;
        }
        eval(e->b, cx, &y);
        if (!y.null && y.u.b != and) {
            *out = wr_val_bool(!and);
            return;
        }
        *out = x.null || y.null ? wr_val_null(e->type) : wr_val_bool(and);
        return;
    }
    case WR_C_NOT:
        eval(e->a, cx, &x);
        *out = x.null ? wr_val_null(e->type) : wr_val_bool(!x.u.b);
        return;
    case WR_C_IS_NULL:
        eval(e->a, cx, &x);
        *out = wr_val_bool(x.null != e->negated);
        return;
    case WR_C_DISTINCT: {
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        bool same = (x.null && y.null) || (!x.null && !y.null && wr_val_equal(&x, &y));
        *out = wr_val_bool(same == e->negated);
        return;
    }
    case WR_C_LIKE:
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        if (x.null || y.null)
            *out = wr_val_null(e->type);
        else
            *out = wr_val_bool(like(x.u.s.p, x.u.s.len, y.u.s.p, y.u.s.len, e->col) != e->negated);
        return;
    case WR_C_BETWEEN:
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        eval(e->c, cx, &z);
        if (x.null || y.null || z.null)
            *out = wr_val_null(e->type);
        else
            *out = wr_val_bool((wr_val_cmp(&x, &y) >= 0 && wr_val_cmp(&x, &z) <= 0) != e->negated);
        return;
    case WR_C_IN: {
        eval(e->a, cx, &x);
        if (x.null) {
            *out = wr_val_null(e->type);
            return;
        }
        bool any_null = false;
        for (int i = 0; i < e->n; i++) {
            eval(e->args[i], cx, &y);
            if (y.null) {
                any_null = true;
            } else if (wr_val_equal(&x, &y)) {
                *out = wr_val_bool(!e->negated);
                return;
            }
        }
        *out = any_null ? wr_val_null(e->type) : wr_val_bool(e->negated);
        return;
    }
    case WR_C_CASE:
        for (int i = 0; i + 1 < e->n; i += 2) {
            eval(e->args[i], cx, &x);
            if (!x.null && x.u.b) {
                eval(e->args[i + 1], cx, out);
                return;
            }
        }
        if (e->c != NULL)
            eval(e->c, cx, out);
        else
            *out = wr_val_null(e->type);
        return;
    case WR_C_CALL: {
        wr_val args[32];
        wr_val *av = e->n <= 32 ? args : wr_arena_calloc(cx->arena, (size_t)e->n, sizeof *av);
        *out = wr_val_null(e->type);
        if (av == NULL)
            return;
        bool any_null = false;
        for (int i = 0; i < e->n; i++) {
            eval(e->args[i], cx, &av[i]);
            any_null |= av[i].null;
        }
        if (any_null && (e->fn->flags & WR_FN_NULL_IN_NULL_OUT))
            return;
        wr_fn_ctx fc = *e->fctx;
        fc.arena = cx->arena;
        fc.warning[0] = 0;
        e->fn->eval(&fc, av, e->n, out);
        if (out->type == NULL)
            out->type = e->type;
        if (fc.warning[0] != 0)
            warn(cx, "%s: %s", e->fn->name, fc.warning);
        return;
    }
    case WR_C_DEREF:
        eval(e->a, cx, &x);
        *out = x.null ? wr_val_null(e->type) : x.u.st.f[e->col];
        return;
    case WR_C_SUBSCRIPT:
        eval(e->a, cx, &x);
        eval(e->b, cx, &y);
        *out = wr_val_null(e->type);
        if (x.null || y.null)
            return;
        if (x.type->kind == WR_T_ARRAY) {
            int64_t i = y.type->kind == WR_T_BIGINT ? y.u.i64 : y.u.i32;
            int64_t n = x.u.arr.n;
            int64_t at = i > 0 ? i - 1 : n + i; /* 1-based; negative counts from the end */
            if (i != 0 && at >= 0 && at < n)
                *out = x.u.arr.v[at];
        } else {
            for (int32_t i = 0; i < x.u.map.n; i++)
                if (!x.u.map.k[i].null && wr_val_equal(&x.u.map.k[i], &y)) {
                    *out = x.u.map.v[i];
                    break;
                }
        }
        return;
    case WR_C_ARRAY:
    case WR_C_STRUCT: {
        wr_val *v = wr_arena_calloc(cx->arena, (size_t)(e->n > 0 ? e->n : 1), sizeof *v);
        *out = wr_val_null(e->type);
        if (v == NULL)
            return;
        for (int i = 0; i < e->n; i++)
            eval(e->args[i], cx, &v[i]);
        out->null = false;
        if (e->op == WR_C_ARRAY) {
            out->u.arr.n = e->n;
            out->u.arr.v = v;
        } else {
            out->u.st.f = v;
        }
        return;
    }
    case WR_C_MAP: {
        int n = e->n / 2;
        wr_val *k = wr_arena_calloc(cx->arena, (size_t)(n > 0 ? n : 1), sizeof *k);
        wr_val *v = wr_arena_calloc(cx->arena, (size_t)(n > 0 ? n : 1), sizeof *v);
        *out = wr_val_null(e->type);
        if (k == NULL || v == NULL)
            return;
        int m = 0;
        for (int i = 0; i < n; i++) {
            wr_val kk, vv;
            eval(e->args[2 * i], cx, &kk);
            eval(e->args[2 * i + 1], cx, &vv);
            int j = 0;
            while (j < m && !(k[j].null ? kk.null : (!kk.null && wr_val_equal(&k[j], &kk))))
                j++;
            k[j] = kk; /* a repeated key keeps its place and takes the later value */
            v[j] = vv;
            if (j == m)
                m++;
        }
        out->null = false;
        out->u.map.n = m;
        out->u.map.k = k;
        out->u.map.v = v;
        return;
    }
    case WR_C_TRANSFORM:
    case WR_C_FILTER:
    case WR_C_REDUCE:
        eval_higher_order(e, cx, out);
        return;
    }
    *out = wr_val_null(e->type);
}

void
wr_expr_eval(const wr_cexpr *e, wr_eval_ctx *cx, wr_val *out)
{
    eval(e, cx, out);
    if (out->type == NULL && e->type != NULL)
        out->type = e->type;
}
