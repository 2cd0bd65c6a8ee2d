/*
 * batch.c - column-vector batches and vector-at-a-time expression evaluation (see batch.h).
 */
#include "runtime/batch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/types.h"

int
wr_batch_init(wr_batch *b, const wr_scope *sc, int32_t cap, wr_arena *a)
{
    memset(b, 0, sizeof *b);
    b->arena = a;
    b->cap = cap;
    b->ncols = sc->n;
    b->cols = wr_arena_calloc(a, (size_t)sc->n + 1, sizeof *b->cols);
    b->sel = wr_arena_alloc(a, (size_t)(cap > 0 ? cap : 1) * sizeof *b->sel);
    if (b->cols == NULL || b->sel == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < sc->n; i++)
        if (wr_vec_alloc(&b->cols[i], sc->cols[i].type, cap, a) != WR_OK)
            return WR_ENOMEM;
    return WR_OK;
}

void
wr_batch_select_all(wr_batch *b)
{
    for (int32_t i = 0; i < b->n; i++)
        b->sel[i] = i;
    b->nsel = b->n;
}

static void
warn(wr_eval_ctx *cx, const char *msg)
{
    if (cx->warning[0] == 0)
        snprintf(cx->warning, sizeof cx->warning, "%s", msg);
}

/* The slow path: e evaluated one selected row at a time over the batch's columns. */
static int
eval_rows(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    wr_val *row = wr_arena_alloc(b->arena, (size_t)(b->ncols > 0 ? b->ncols : 1) * sizeof *row);
    if (row == NULL)
        return WR_ENOMEM;
    const wr_val *saved = cx->row;
    cx->row = row;
    for (int32_t k = 0; k < b->nsel; k++) {
        int32_t i = b->sel[k];
        for (int c = 0; c < b->ncols; c++)
            row[c] = wr_vec_get(&b->cols[c], i);
        wr_val v;
        wr_expr_eval(e, cx, &v);
        wr_vec_set(out, i, &v);
    }
    cx->row = saved;
    return WR_OK;
}

static bool
fast_kind(const wr_sql_type *t)
{
    if (t == NULL)
        return false;
    switch (t->kind) {
    case WR_T_BOOLEAN:
    case WR_T_INT:
    case WR_T_BIGINT:
    case WR_T_DOUBLE:
    case WR_T_STRING:
    case WR_T_TIMESTAMP:
    case WR_T_DATE:
    case WR_T_TIME:
        return true;
    default:
        return false;
    }
}

/* Three-way comparison of row i of two vectors of the same fast kind. */
static int
cmp_at(const wr_vec *x, const wr_vec *y, int32_t i)
{
    switch (x->type->kind) {
    case WR_T_BOOLEAN:
        return (int)x->d.b[i] - (int)y->d.b[i];
    case WR_T_INT:
    case WR_T_DATE:
    case WR_T_TIME:
        return x->d.i32[i] < y->d.i32[i] ? -1 : x->d.i32[i] > y->d.i32[i];
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP:
        return x->d.i64[i] < y->d.i64[i] ? -1 : x->d.i64[i] > y->d.i64[i];
    case WR_T_DOUBLE:
        return x->d.f64[i] < y->d.f64[i] ? -1 : x->d.f64[i] > y->d.f64[i];
    default: {
        const wr_str *a = &x->d.s[i], *c = &y->d.s[i];
        int32_t n = a->len < c->len ? a->len : c->len;
        int r = n > 0 ? memcmp(a->p, c->p, (size_t)n) : 0;
        if (r != 0)
            return r < 0 ? -1 : 1;
        return a->len < c->len ? -1 : a->len > c->len;
    }
    }
}

static bool
cmp_result(wr_op op, int c)
{
    switch (op) {
    case WR_OP_EQ:
        return c == 0;
    case WR_OP_NE:
        return c != 0;
    case WR_OP_LT:
        return c < 0;
    case WR_OP_LE:
        return c <= 0;
    case WR_OP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static int
eval_cmp(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    wr_vec x, y;
    int rc = wr_expr_eval_batch(e->a, b, cx, &x);
    if (rc == WR_OK)
        rc = wr_expr_eval_batch(e->b, b, cx, &y);
    if (rc != WR_OK)
        return rc;
    bool fast =
        x.type != NULL && y.type != NULL && x.type->kind == y.type->kind && fast_kind(x.type);
    for (int32_t k = 0; k < b->nsel; k++) {
        int32_t i = b->sel[k];
        if (x.null[i] || y.null[i]) {
            out->null[i] = 1;
            continue;
        }
        out->null[i] = 0;
        int c;
        if (fast) {
            c = cmp_at(&x, &y, i);
        } else {
            wr_val u = wr_vec_get(&x, i), v = wr_vec_get(&y, i);
            c = e->aop == WR_OP_EQ || e->aop == WR_OP_NE ? !wr_val_equal(&u, &v)
                                                         : wr_val_cmp(&u, &v);
        }
        out->d.b[i] = cmp_result(e->aop, c);
    }
    return WR_OK;
}

static int
eval_arith(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    wr_vec x, y;
    int rc = wr_expr_eval_batch(e->a, b, cx, &x);
    if (rc == WR_OK)
        rc = wr_expr_eval_batch(e->b, b, cx, &y);
    if (rc != WR_OK)
        return rc;
    wr_tkind k = e->type->kind;
    for (int32_t s = 0; s < b->nsel; s++) {
        int32_t i = b->sel[s];
        if (x.null[i] || y.null[i]) {
            out->null[i] = 1;
            continue;
        }
        out->null[i] = 0;
        if (k == WR_T_DOUBLE) {
            double a = x.d.f64[i], c = y.d.f64[i];
            out->d.f64[i] = e->aop == WR_OP_ADD   ? a + c
                            : e->aop == WR_OP_SUB ? a - c
                            : e->aop == WR_OP_MUL ? a * c
                            : e->aop == WR_OP_DIV ? a / c
                                                  : fmod(a, c);
        } else if (k == WR_T_INT) {
            int32_t a = x.d.i32[i], c = y.d.i32[i];
            uint32_t ua = (uint32_t)a, uc = (uint32_t)c;
            if ((e->aop == WR_OP_DIV || e->aop == WR_OP_MOD) && c == 0) {
                out->null[i] = 1;
                warn(cx, "division by zero");
                continue;
            }
            out->d.i32[i] = e->aop == WR_OP_ADD         ? (int32_t)(ua + uc)
                            : e->aop == WR_OP_SUB       ? (int32_t)(ua - uc)
                            : e->aop == WR_OP_MUL       ? (int32_t)(ua * uc)
                            : a == INT32_MIN && c == -1 ? (e->aop == WR_OP_DIV ? INT32_MIN : 0)
                            : e->aop == WR_OP_DIV       ? a / c
                                                        : a % c;
        } else {
            int64_t a = x.d.i64[i], c = y.d.i64[i];
            uint64_t ua = (uint64_t)a, uc = (uint64_t)c;
            if ((e->aop == WR_OP_DIV || e->aop == WR_OP_MOD) && c == 0) {
                out->null[i] = 1;
                warn(cx, "division by zero");
                continue;
            }
            out->d.i64[i] = e->aop == WR_OP_ADD         ? (int64_t)(ua + uc)
                            : e->aop == WR_OP_SUB       ? (int64_t)(ua - uc)
                            : e->aop == WR_OP_MUL       ? (int64_t)(ua * uc)
                            : a == INT64_MIN && c == -1 ? (e->aop == WR_OP_DIV ? INT64_MIN : 0)
                            : e->aop == WR_OP_DIV       ? a / c
                                                        : a % c;
        }
    }
    return WR_OK;
}

static int
eval_logic(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    wr_vec x, y;
    int rc = wr_expr_eval_batch(e->a, b, cx, &x);
    if (rc == WR_OK && e->op != WR_C_NOT && e->op != WR_C_IS_NULL)
        rc = wr_expr_eval_batch(e->b, b, cx, &y);
    if (rc != WR_OK)
        return rc;
    for (int32_t s = 0; s < b->nsel; s++) {
        int32_t i = b->sel[s];
        switch (e->op) {
        case WR_C_NOT:
            out->null[i] = x.null[i];
            out->d.b[i] = !x.null[i] && !x.d.b[i];
            break;
        case WR_C_IS_NULL:
            out->null[i] = 0;
            out->d.b[i] = (x.null[i] != 0) != e->negated;
            break;
        default: {
            /* three-valued AND / OR */
            bool and = e->op == WR_C_AND;
            bool xn = x.null[i] != 0, yn = y.null[i] != 0;
            bool xv = !xn && x.d.b[i], yv = !yn && y.d.b[i];
            if ((!xn && xv != and) || (!yn && yv != and)) {
                out->null[i] = 0;
                out->d.b[i] = !and;
            } else if (xn || yn) {
                out->null[i] = 1;
            } else {
                out->null[i] = 0;
                out->d.b[i] = and;
            }
        }
        }
    }
    return WR_OK;
}

/* A function call: its arguments as vectors, then the function once per selected row. */
static int
eval_call(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    wr_vec *av = wr_arena_alloc(b->arena, (size_t)(e->n > 0 ? e->n : 1) * sizeof *av);
    wr_val *args = wr_arena_alloc(b->arena, (size_t)(e->n > 0 ? e->n : 1) * sizeof *args);
    if (av == NULL || args == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < e->n; i++) {
        int rc = wr_expr_eval_batch(e->args[i], b, cx, &av[i]);
        if (rc != WR_OK)
            return rc;
    }
    bool nino = (e->fn->flags & WR_FN_NULL_IN_NULL_OUT) != 0;
    wr_fn_ctx fc = *e->fctx;
    fc.arena = b->arena;
    fc.warning[0] = 0;
    if (e->fn->veval != NULL) { /* the function takes the vectors whole */
        fc.errs = cx->errs;
        e->fn->veval(&fc, av, e->n, b->sel, b->nsel, out);
        if (fc.warning[0] != 0 && cx->warning[0] == 0)
            snprintf(cx->warning, sizeof cx->warning, "%s: %s", e->fn->name, fc.warning);
        return WR_OK;
    }
    for (int32_t s = 0; s < b->nsel; s++) {
        int32_t r = b->sel[s];
        bool any_null = false;
        for (int i = 0; i < e->n; i++) {
            args[i] = wr_vec_get(&av[i], r);
            any_null |= args[i].null;
        }
        wr_val v = wr_val_null(e->type);
        if (!(any_null && nino)) {
            fc.warning[0] = 0;
            e->fn->eval(&fc, args, e->n, &v);
            if (v.type == NULL)
                v.type = e->type;
            if (fc.warning[0] != 0 && cx->warning[0] == 0)
                snprintf(cx->warning, sizeof cx->warning, "%s: %s", e->fn->name, fc.warning);
        }
        wr_vec_set(out, r, &v);
    }
    return WR_OK;
}

int
wr_expr_eval_batch(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out)
{
    if (e->op == WR_C_COLUMN) {
        *out = b->cols[e->col]; /* shared, not copied */
        return WR_OK;
    }
    const wr_sql_type *t = e->type ? e->type : wr_type_of(WR_T_BOOLEAN);
    if (wr_vec_alloc(out, t, b->cap, b->arena) != WR_OK)
        return WR_ENOMEM;
    switch (e->op) {
    case WR_C_CONST:
        for (int32_t s = 0; s < b->nsel; s++)
            wr_vec_set(out, b->sel[s], &e->k);
        return WR_OK;
    case WR_C_CMP:
        return eval_cmp(e, b, cx, out);
    case WR_C_ARITH:
        if (t->kind == WR_T_INT || t->kind == WR_T_BIGINT || t->kind == WR_T_DOUBLE)
            return eval_arith(e, b, cx, out);
        return eval_rows(e, b, cx, out);
    case WR_C_AND:
    case WR_C_OR:
    case WR_C_NOT:
    case WR_C_IS_NULL:
        return eval_logic(e, b, cx, out);
    case WR_C_CALL:
        return eval_call(e, b, cx, out);
    default:
        return eval_rows(e, b, cx, out);
    }
}

int
wr_expr_filter_batch(const wr_cexpr *pred, wr_batch *b, wr_eval_ctx *cx)
{
    wr_vec keep;
    int rc = wr_expr_eval_batch(pred, b, cx, &keep);
    if (rc != WR_OK)
        return rc;
    int32_t m = 0;
    bool boolean = pred->type != NULL && pred->type->kind == WR_T_BOOLEAN;
    for (int32_t s = 0; s < b->nsel; s++) {
        int32_t i = b->sel[s];
        if (boolean && !keep.null[i] && keep.d.b[i])
            b->sel[m++] = i;
    }
    b->nsel = m;
    return WR_OK;
}
