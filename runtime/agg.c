/*
 * agg.c - the built-in aggregate functions (agg.h).
 */
#include "runtime/agg.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "runtime/rowcodec.h"
#include "runtime/types.h"
#include "src/base/varint.h"
#include "udf/fn.h"

static const struct {
    const char *name;
    wr_agg_kind kind;
} NAMES[] = {
    {"COUNT", WR_AGG_COUNT},
    {"COUNT_DISTINCT", WR_AGG_COUNT_DISTINCT},
    {"SUM", WR_AGG_SUM},
    {"AVG", WR_AGG_AVG},
    {"MIN", WR_AGG_MIN},
    {"MAX", WR_AGG_MAX},
    {"STDDEV_SAMP", WR_AGG_STDDEV_SAMP},
    {"COLLECT_LIST", WR_AGG_COLLECT_LIST},
    {"COLLECT_SET", WR_AGG_COLLECT_SET},
    {"LATEST_BY_OFFSET", WR_AGG_LATEST},
    {"EARLIEST_BY_OFFSET", WR_AGG_EARLIEST},
    {"TOPK", WR_AGG_TOPK},
    {"TOPKDISTINCT", WR_AGG_TOPKDISTINCT},
    {"HISTOGRAM", WR_AGG_HISTOGRAM},
};

/* A library's aggregate: its state's type, and its call (kept in arena: states are made long
   after planning). */
static int
plan_udaf(wr_agg *ag,
          const wr_fn_desc *fn,
          int variant,
          wr_arena *arena,
          const wr_sql_type *const *args,
          const wr_val *const *consts,
          int n,
          wr_err *err)
{
    ag->kind = WR_AGG_UDAF;
    ag->fn = fn;
    ag->arg = n > 0 ? args[0] : NULL;
    ag->state = fn->udaf->state(fn, variant);
    ag->call = wr_arena_calloc(arena, 1, sizeof *ag->call);
    const wr_sql_type **types = wr_arena_calloc(arena, (size_t)n + 1, sizeof *types);
    ag->consts = wr_arena_calloc(arena, (size_t)n + 1, sizeof *ag->consts);
    if (ag->call == NULL || types == NULL || ag->consts == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        types[i] = args[i];
    for (int i = 1; i < n; i++) {
        if (consts[i] == NULL)
            return wr_err_set(err, WR_ESEMANTIC,
                              "%s: argument %d must be a constant (only the first argument of an "
                              "aggregate is a column)",
                              fn->name, i + 1);
        ag->consts[ag->nconsts++] = *consts[i];
    }
    *ag->call =
        (wr_fn_ctx){.ret = ag->ret, .variant = variant, .nargs = n, .args = types, .fn = fn};
    return WR_OK;
}

int
wr_agg_plan(wr_agg *ag,
            const wr_fn_desc *fn,
            int variant,
            wr_arena *arena,
            const wr_sql_type *const *args,
            const wr_val *const *consts,
            int n,
            const wr_sql_type *ret,
            wr_err *err)
{
    const char *name = fn->name;
    memset(ag, 0, sizeof *ag);
    ag->name = name;
    ag->ret = ret;
    ag->ignore_nulls = true;
    if (fn->udaf != NULL)
        return plan_udaf(ag, fn, variant, arena, args, consts, n, err);
    size_t i = 0;
    while (i < sizeof NAMES / sizeof NAMES[0] && strcasecmp(NAMES[i].name, name) != 0)
        i++;
    if (i == sizeof NAMES / sizeof NAMES[0])
        return wr_err_set(err, WR_ESEMANTIC, "aggregate function %s is not supported", name);
    ag->kind = NAMES[i].kind;
    if (ag->kind == WR_AGG_COUNT && n == 0)
        ag->kind = WR_AGG_COUNT_STAR;
    ag->arg = n > 0 ? args[0] : NULL;
    if (ag->kind == WR_AGG_TOPK || ag->kind == WR_AGG_TOPKDISTINCT) {
        if (n != 2 || consts[1] == NULL || consts[1]->null)
            return wr_err_set(err, WR_ESEMANTIC, "%s needs a constant k: %s(column, k)", name,
                              name);
        ag->k = consts[1]->type && consts[1]->type->kind == WR_T_BIGINT ? consts[1]->u.i64
                                                                        : consts[1]->u.i32;
        if (ag->k < 1 || ag->k > 1000)
            return wr_err_set(err, WR_ESEMANTIC, "%s: k must be between 1 and 1000, not %lld", name,
                              (long long)ag->k);
    } else if (ag->kind == WR_AGG_LATEST || ag->kind == WR_AGG_EARLIEST) {
        if (n == 2) {
            if (consts[1] == NULL || consts[1]->null || consts[1]->type == NULL ||
                consts[1]->type->kind != WR_T_BOOLEAN)
                return wr_err_set(err, WR_ESEMANTIC,
                                  "%s: the second argument (ignoreNulls) must be a constant "
                                  "BOOLEAN",
                                  name);
            ag->ignore_nulls = consts[1]->u.b;
        }
    }
    return WR_OK;
}

bool
wr_agg_mergeable(const wr_agg *ag)
{
    return ag->kind != WR_AGG_UDAF || ag->fn->udaf->can_merge(ag->fn, ag->call->variant);
}

bool
wr_agg_undoable(const wr_agg *ag)
{
    switch (ag->kind) {
    case WR_AGG_UDAF:
        return ag->fn->udaf->can_undo(ag->fn, ag->call->variant);
    case WR_AGG_COUNT_STAR:
    case WR_AGG_COUNT:
    case WR_AGG_SUM:
    case WR_AGG_AVG:
    case WR_AGG_STDDEV_SAMP:
    case WR_AGG_COLLECT_LIST:
    case WR_AGG_COLLECT_SET:
    case WR_AGG_HISTOGRAM:
        return true;
    default:
        return false;
    }
}

void
wr_agg_init(const wr_agg *ag, wr_aggst *st)
{
    memset(st, 0, sizeof *st);
    st->v = wr_val_null(ag->kind == WR_AGG_SUM    ? ag->ret
                        : ag->kind == WR_AGG_UDAF ? ag->state
                                                  : ag->arg);
    st->off = -1;
}

/* A library aggregate's call: its state is made by its init when the first row comes (n counts
   that it was). */
static wr_fn_ctx
udaf_call(const wr_agg *ag, wr_aggst *st, wr_arena *a)
{
    wr_fn_ctx c = *ag->call;
    c.arena = a;
    c.warning[0] = 0;
    if (st != NULL && st->n == 0) {
        ag->fn->udaf->init(ag->fn, &c, &st->v);
        st->n = 1;
    }
    return c;
}

/* The aggregated value x and the constant arguments, as the UDAF's arguments. */
static wr_val *
udaf_args(const wr_agg *ag, const wr_val *x, wr_val *buf, int cap, wr_arena *a)
{
    wr_val *v =
        ag->nconsts + 1 <= cap ? buf : wr_arena_alloc(a, (size_t)(ag->nconsts + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    v[0] = x != NULL ? *x : wr_val_null(ag->arg);
    for (int i = 0; i < ag->nconsts; i++)
        v[i + 1] = ag->consts[i];
    return v;
}

static void
udaf_step(const wr_agg *ag, wr_aggst *st, const wr_val *x, wr_arena *a, bool undo)
{
    if ((x == NULL || x->null) && (ag->fn->flags & WR_FN_NULL_IN_NULL_OUT))
        return; /* as ksqlDB's UDAFs: a null row is skipped */
    wr_fn_ctx c = udaf_call(ag, st, a);
    wr_val buf[4];
    wr_val *args = udaf_args(ag, x, buf, 4, a);
    if (args == NULL)
        return;
    if (undo)
        ag->fn->udaf->undo(ag->fn, &c, &st->v, args, ag->nconsts + 1);
    else
        ag->fn->udaf->add(ag->fn, &c, &st->v, args, ag->nconsts + 1);
}

/* ---- lists ---------------------------------------------------------------------------------- */

static bool
grow(wr_aggst *st, wr_arena *a, bool counts)
{
    wr_val *items = wr_arena_alloc(a, ((size_t)st->len + 1) * sizeof *items);
    int64_t *cnt = counts ? wr_arena_alloc(a, ((size_t)st->len + 1) * sizeof *cnt) : NULL;
    if (items == NULL || (counts && cnt == NULL))
        return false;
    if (st->len > 0) {
        memcpy(items, st->items, (size_t)st->len * sizeof *items);
        if (counts)
            memcpy(cnt, st->count, (size_t)st->len * sizeof *cnt);
    }
    st->items = items;
    st->count = cnt;
    return true;
}

/* The index of x among st's items (the last one when last), or -1. */
static int
find_at(const wr_aggst *st, const wr_val *x, bool last)
{
    for (int32_t k = 0; k < st->len; k++) {
        int32_t i = last ? st->len - 1 - k : k;
        if (st->items[i].null ? x->null : (!x->null && wr_val_equal(&st->items[i], x)))
            return i;
    }
    return -1;
}

static int
find(const wr_aggst *st, const wr_val *x)
{
    return find_at(st, x, false);
}

static void
remove_at(wr_aggst *st, int i)
{
    memmove(&st->items[i], &st->items[i + 1], (size_t)(st->len - i - 1) * sizeof *st->items);
    if (st->count != NULL)
        memmove(&st->count[i], &st->count[i + 1], (size_t)(st->len - i - 1) * sizeof *st->count);
    st->len--;
}

/* a string or value copied into the arena, so it outlives the batch's input */
static wr_val
keep(const wr_val *x, wr_arena *a)
{
    wr_val v = *x;
    if (!x->null && x->type && (x->type->kind == WR_T_STRING || x->type->kind == WR_T_BYTES)) {
        v = wr_val_string_copy(a, x->u.s.p, x->u.s.len);
        v.type = x->type;
    }
    return v;
}

/* TOPK: keeps the k largest values in descending order */
static void
topk_add(const wr_agg *ag, wr_aggst *st, const wr_val *x, wr_arena *a)
{
    if (x->null)
        return;
    if (ag->kind == WR_AGG_TOPKDISTINCT && find(st, x) >= 0)
        return;
    int32_t pos = 0;
    while (pos < st->len && wr_val_cmp(&st->items[pos], x) >= 0)
        pos++;
    if (pos >= ag->k)
        return;
    if (!grow(st, a, false))
        return;
    memmove(&st->items[pos + 1], &st->items[pos], (size_t)(st->len - pos) * sizeof *st->items);
    st->items[pos] = keep(x, a);
    if (st->len < ag->k)
        st->len++;
}

/* ---- numbers -------------------------------------------------------------------------------- */

static void
sum_into(const wr_sql_type *t, wr_val *acc, const wr_val *x, int sign)
{
    if (acc->null) {
        *acc = wr_val_null(t);
        acc->null = false;
        memset(&acc->u, 0, sizeof acc->u);
    }
    switch (t->kind) {
    /* Java's wrapping sums, in unsigned arithmetic (INT_MIN * -1 is no int) */
    case WR_T_INT: {
        uint32_t d = sign > 0 ? (uint32_t)x->u.i32 : 0u - (uint32_t)x->u.i32;
        acc->u.i32 = (int32_t)((uint32_t)acc->u.i32 + d);
        break;
    }
    case WR_T_BIGINT: {
        uint64_t d = sign > 0 ? (uint64_t)x->u.i64 : 0u - (uint64_t)x->u.i64;
        acc->u.i64 = (int64_t)((uint64_t)acc->u.i64 + d);
        break;
    }
    case WR_T_DECIMAL: { /* beyond the precision the result is null (wr_agg_result) */
        wr_u128 d = sign > 0 ? (wr_u128)x->u.dec : (wr_u128)0 - (wr_u128)x->u.dec;
        acc->u.dec = (wr_i128)((wr_u128)acc->u.dec + d);
        break;
    }
    default:
        acc->u.f64 += sign * wr_val_as_double(x);
        break;
    }
}

void
wr_agg_add(const wr_agg *ag, wr_aggst *st, const wr_val *x, int64_t offset, wr_arena *a)
{
    switch (ag->kind) {
    case WR_AGG_COUNT_STAR:
        st->n++;
        return;
    case WR_AGG_UDAF:
        udaf_step(ag, st, x, a, false);
        return;
    default:
        break;
    }
    bool null = x == NULL || x->null;
    switch (ag->kind) {
    case WR_AGG_COUNT:
        st->n += !null;
        break;
    case WR_AGG_SUM:
        if (!null)
            sum_into(ag->ret, &st->v, x, 1);
        break;
    case WR_AGG_AVG:
        if (!null) {
            st->n++;
            st->d1 += wr_val_as_double(x);
        }
        break;
    case WR_AGG_STDDEV_SAMP:
        if (!null) { /* Welford */
            double d = wr_val_as_double(x);
            st->n++;
            double delta = d - st->d1;
            st->d1 += delta / (double)st->n;
            st->d2 += delta * (d - st->d1);
        }
        break;
    case WR_AGG_MIN:
    case WR_AGG_MAX:
        if (!null) {
            int c = st->v.null ? 0 : wr_val_cmp(x, &st->v);
            if (st->v.null || (ag->kind == WR_AGG_MIN ? c < 0 : c > 0))
                st->v = keep(x, a);
        }
        break;
    case WR_AGG_LATEST:
        if (!(null && ag->ignore_nulls) && offset >= st->off) {
            st->v = null ? wr_val_null(ag->arg) : keep(x, a);
            st->off = offset;
        }
        break;
    case WR_AGG_EARLIEST:
        if (!(null && ag->ignore_nulls) && (st->off < 0 || offset < st->off)) {
            st->v = null ? wr_val_null(ag->arg) : keep(x, a);
            st->off = offset;
        }
        break;
    case WR_AGG_COLLECT_LIST:
        if (!null && st->len < WR_AGG_COLLECT_LIMIT && grow(st, a, false))
            st->items[st->len++] = keep(x, a);
        break;
    case WR_AGG_COLLECT_SET:
    case WR_AGG_COUNT_DISTINCT:
        if (!null && find(st, x) < 0 &&
            (ag->kind == WR_AGG_COUNT_DISTINCT || st->len < WR_AGG_COLLECT_LIMIT) &&
            grow(st, a, false))
            st->items[st->len++] = keep(x, a);
        break;
    case WR_AGG_TOPK:
    case WR_AGG_TOPKDISTINCT:
        if (!null)
            topk_add(ag, st, x, a);
        break;
    case WR_AGG_HISTOGRAM:
        if (!null) {
            int i = find(st, x);
            if (i >= 0) {
                st->count[i]++;
            } else if (st->len < WR_AGG_COLLECT_LIMIT && grow(st, a, true)) {
                st->items[st->len] = keep(x, a);
                st->count[st->len++] = 1;
            }
        }
        break;
    default:
        break;
    }
}

void
wr_agg_undo(const wr_agg *ag, wr_aggst *st, const wr_val *x, wr_arena *a)
{
    bool null = x == NULL || x->null;
    switch (ag->kind) {
    case WR_AGG_UDAF:
        udaf_step(ag, st, x, a, true);
        break;
    case WR_AGG_COUNT_STAR:
        st->n--;
        break;
    case WR_AGG_COUNT:
        st->n -= !null;
        break;
    case WR_AGG_SUM:
        if (!null)
            sum_into(ag->ret, &st->v, x, -1);
        break;
    case WR_AGG_AVG:
        if (!null) {
            st->n--;
            st->d1 -= wr_val_as_double(x);
        }
        break;
    case WR_AGG_STDDEV_SAMP:
        if (!null) {
            double d = wr_val_as_double(x);
            if (st->n <= 1) {
                st->n = 0;
                st->d1 = st->d2 = 0;
                break;
            }
            double mean = (st->d1 * (double)st->n - d) / (double)(st->n - 1);
            st->d2 -= (d - st->d1) * (d - mean);
            st->d1 = mean;
            st->n--;
        }
        break;
    case WR_AGG_COLLECT_LIST: /* as ksqlDB: the last equal value goes (a set's only one) */
    case WR_AGG_COLLECT_SET:
        if (!null) {
            int i = find_at(st, x, true);
            if (i >= 0)
                remove_at(st, i);
        }
        break;
    case WR_AGG_HISTOGRAM:
        if (!null) {
            int i = find(st, x);
            if (i >= 0 && --st->count[i] <= 0)
                remove_at(st, i);
        }
        break;
    default:
        break;
    }
}

void
wr_agg_merge(const wr_agg *ag, wr_aggst *into, const wr_aggst *from, wr_arena *a)
{
    switch (ag->kind) {
    case WR_AGG_UDAF: {
        if (from->n == 0)
            break;
        if (into->n == 0) {
            *into = *from;
            break;
        }
        wr_fn_ctx c = udaf_call(ag, NULL, a);
        ag->fn->udaf->merge(ag->fn, &c, &into->v, &from->v);
        break;
    }
    case WR_AGG_COUNT_STAR:
    case WR_AGG_COUNT:
        into->n += from->n;
        break;
    case WR_AGG_SUM:
        if (!from->v.null)
            sum_into(ag->ret, &into->v, &from->v, 1);
        break;
    case WR_AGG_AVG:
        into->n += from->n;
        into->d1 += from->d1;
        break;
    case WR_AGG_STDDEV_SAMP: { /* Chan et al. */
        if (from->n == 0)
            break;
        int64_t n = into->n + from->n;
        double delta = from->d1 - into->d1;
        into->d2 += from->d2 + delta * delta * (double)into->n * (double)from->n / (double)n;
        into->d1 += delta * (double)from->n / (double)n;
        into->n = n;
        break;
    }
    case WR_AGG_MIN:
    case WR_AGG_MAX:
    case WR_AGG_LATEST:
    case WR_AGG_EARLIEST:
        if (ag->kind == WR_AGG_LATEST || ag->kind == WR_AGG_EARLIEST) {
            if (from->off >= 0 &&
                (into->off < 0 ||
                 (ag->kind == WR_AGG_LATEST ? from->off > into->off : from->off < into->off))) {
                into->v = from->v;
                into->off = from->off;
            }
        } else if (!from->v.null) {
            wr_agg_add(ag, into, &from->v, 0, a);
        }
        break;
    case WR_AGG_HISTOGRAM:
        for (int32_t i = 0; i < from->len; i++) {
            int j = find(into, &from->items[i]);
            if (j >= 0)
                into->count[j] += from->count[i];
            else if (into->len < WR_AGG_COLLECT_LIMIT && grow(into, a, true)) {
                into->items[into->len] = from->items[i];
                into->count[into->len++] = from->count[i];
            }
        }
        break;
    default: /* lists, sets, top k: each item joins */
        for (int32_t i = 0; i < from->len; i++)
            wr_agg_add(ag, into, &from->items[i], 0, a);
        break;
    }
}

static wr_val
array_of(const wr_agg *ag, const wr_aggst *st, wr_arena *a)
{
    wr_val out = {.type = ag->ret};
    wr_val *v = wr_arena_calloc(a, (size_t)st->len + 1, sizeof *v);
    if (v == NULL)
        return wr_val_null(ag->ret);
    if (st->len > 0)
        memcpy(v, st->items, (size_t)st->len * sizeof *v);
    out.u.arr.n = st->len;
    out.u.arr.v = v;
    return out;
}

wr_val
wr_agg_result(const wr_agg *ag, const wr_aggst *st, wr_arena *a)
{
    switch (ag->kind) {
    case WR_AGG_UDAF: {
        wr_val out = wr_val_null(ag->ret);
        if (st->n == 0)
            return out;
        wr_fn_ctx c = udaf_call(ag, NULL, a);
        ag->fn->udaf->result(ag->fn, &c, &st->v, &out);
        if (out.type == NULL)
            out.type = ag->ret;
        return out;
    }
    case WR_AGG_COUNT_STAR:
    case WR_AGG_COUNT:
        return wr_val_bigint(st->n);
    case WR_AGG_COUNT_DISTINCT:
        return wr_val_bigint(st->len);
    case WR_AGG_SUM:
        if (st->v.null) { /* ksqlDB's SUM starts at 0 */
            wr_val z = {.type = ag->ret};
            return z;
        }
        if (ag->ret->kind == WR_T_DECIMAL &&
            (st->v.u.dec >= wr_decimal_pow10(ag->ret->precision) ||
             st->v.u.dec <= -wr_decimal_pow10(ag->ret->precision)))
            return wr_val_null(ag->ret); /* a sum beyond DECIMAL(p, s) cannot be written */
        return st->v;
    case WR_AGG_AVG:
        return wr_val_double(st->n > 0 ? st->d1 / (double)st->n : 0.0);
    case WR_AGG_STDDEV_SAMP:
        return wr_val_double(st->n > 1 ? sqrt(st->d2 / (double)(st->n - 1)) : 0.0);
    case WR_AGG_MIN:
    case WR_AGG_MAX:
    case WR_AGG_LATEST:
    case WR_AGG_EARLIEST: {
        wr_val v = st->v;
        v.type = ag->ret;
        return v;
    }
    case WR_AGG_HISTOGRAM: {
        wr_val out = {.type = ag->ret};
        wr_val *k = wr_arena_calloc(a, (size_t)st->len + 1, sizeof *k);
        wr_val *v = wr_arena_calloc(a, (size_t)st->len + 1, sizeof *v);
        if (k == NULL || v == NULL)
            return wr_val_null(ag->ret);
        for (int32_t i = 0; i < st->len; i++) {
            k[i] = st->items[i];
            v[i] = wr_val_bigint(st->count[i]);
        }
        out.u.map.n = st->len;
        out.u.map.k = k;
        out.u.map.v = v;
        return out;
    }
    default:
        return array_of(ag, st, a);
    }
}

/* ---- codec ---------------------------------------------------------------------------------- */

void
wr_agg_encode(const wr_agg *ag, const wr_aggst *st, wr_buf *b)
{
    switch (ag->kind) {
    case WR_AGG_UDAF:
        wr_buf_put_varint(b, st->n);
        wr_val_encode(b, ag->state, &st->v);
        break;
    case WR_AGG_COUNT_STAR:
    case WR_AGG_COUNT:
        wr_buf_put_varint(b, st->n);
        break;
    case WR_AGG_AVG:
    case WR_AGG_STDDEV_SAMP:
        wr_buf_put_varint(b, st->n);
        wr_f64_put(b, st->d1);
        wr_f64_put(b, st->d2);
        break;
    case WR_AGG_SUM:
        wr_val_encode(b, ag->ret, &st->v);
        break;
    case WR_AGG_MIN:
    case WR_AGG_MAX:
    case WR_AGG_LATEST:
    case WR_AGG_EARLIEST:
        wr_val_encode(b, ag->arg, &st->v);
        wr_buf_put_varint(b, st->off);
        break;
    default:
        wr_buf_put_uvarint(b, (uint64_t)st->len);
        for (int32_t i = 0; i < st->len; i++) {
            wr_val_encode(b, ag->arg, &st->items[i]);
            if (ag->kind == WR_AGG_HISTOGRAM)
                wr_buf_put_varint(b, st->count[i]);
        }
        break;
    }
}

void
wr_agg_decode(const wr_agg *ag, wr_aggst *st, wr_rd *r, wr_arena *a)
{
    wr_agg_init(ag, st);
    switch (ag->kind) {
    case WR_AGG_UDAF:
        st->n = wr_rd_varint(r, 10);
        wr_val_decode(r, ag->state, &st->v, a);
        break;
    case WR_AGG_COUNT_STAR:
    case WR_AGG_COUNT:
        st->n = wr_rd_varint(r, 10);
        break;
    case WR_AGG_AVG:
    case WR_AGG_STDDEV_SAMP:
        st->n = wr_rd_varint(r, 10);
        st->d1 = wr_f64_get(r);
        st->d2 = wr_f64_get(r);
        break;
    case WR_AGG_SUM:
        wr_val_decode(r, ag->ret, &st->v, a);
        break;
    case WR_AGG_MIN:
    case WR_AGG_MAX:
    case WR_AGG_LATEST:
    case WR_AGG_EARLIEST:
        wr_val_decode(r, ag->arg, &st->v, a);
        st->off = wr_rd_varint(r, 10);
        break;
    default: {
        uint64_t n = wr_rd_uvarint(r, 10);
        if (n > wr_rd_left(r) || n > (1u << 24)) {
            wr_rd_fail(r, WR_ECORRUPT);
            return;
        }
        bool counts = ag->kind == WR_AGG_HISTOGRAM;
        st->items = wr_arena_calloc(a, (size_t)n + 1, sizeof *st->items);
        st->count = counts ? wr_arena_calloc(a, (size_t)n + 1, sizeof *st->count) : NULL;
        if (st->items == NULL || (counts && st->count == NULL)) {
            wr_rd_fail(r, WR_ENOMEM);
            return;
        }
        for (uint64_t i = 0; i < n && !r->err; i++) {
            wr_val_decode(r, ag->arg, &st->items[i], a);
            if (counts)
                st->count[i] = wr_rd_varint(r, 10);
        }
        st->len = (int32_t)n;
        break;
    }
    }
}
