/*
 * agg.h - the built-in aggregate functions' states and their operations.
 *
 * Every aggregate keeps its state in one shape (wr_aggst), using the fields it needs; the state
 * is encoded with the value codec into the aggregation's state store, so it survives restarts
 * through the store's changelog. Operations follow ksqlDB's UDAF contract: add (a row joins
 * the group), undo (a row leaves it: table aggregations, where an updated row first leaves its
 * old group), merge (two session windows become one) and result.
 *
 * Result types are ksqlDB's: COUNT, COUNT_DISTINCT BIGINT; SUM the argument's type; AVG and
 * STDDEV_SAMP DOUBLE; MIN, MAX, LATEST_BY_OFFSET, EARLIEST_BY_OFFSET the argument's type;
 * COLLECT_LIST, COLLECT_SET, TOPK, TOPKDISTINCT ARRAY of it; HISTOGRAM MAP<STRING, BIGINT>.
 * COUNT_DISTINCT is exact (ksqlDB estimates it with HyperLogLog).
 */
#ifndef WR_RUNTIME_AGG_H
#define WR_RUNTIME_AGG_H

#include "runtime/value.h"
#include "src/base/buf.h"
#include "src/base/err.h"

typedef enum wr_agg_kind {
    WR_AGG_COUNT_STAR,
    WR_AGG_COUNT,
    WR_AGG_COUNT_DISTINCT,
    WR_AGG_SUM,
    WR_AGG_AVG,
    WR_AGG_MIN,
    WR_AGG_MAX,
    WR_AGG_STDDEV_SAMP,
    WR_AGG_COLLECT_LIST,
    WR_AGG_COLLECT_SET,
    WR_AGG_LATEST,
    WR_AGG_EARLIEST,
    WR_AGG_TOPK,
    WR_AGG_TOPKDISTINCT,
    WR_AGG_HISTOGRAM,
    WR_AGG_UDAF, /* a library's aggregate (udf/weir_udf.h): its state is v */
} wr_agg_kind;

/* ksqlDB's ksql.functions.collect_list.limit and collect_set.limit defaults */
#define WR_AGG_COLLECT_LIMIT 1000

typedef struct wr_agg {
    wr_agg_kind kind;
    const char *name;
    const wr_sql_type *arg; /* the aggregated argument's type (NULL: COUNT(*)) */
    const wr_sql_type *ret;
    int64_t k;         /* TOPK's k */
    bool ignore_nulls; /* LATEST/EARLIEST_BY_OFFSET: nulls do not replace a value (default) */
    /* WR_AGG_UDAF: the function, its call (variant, argument and return types), its state's
       type and the call's constant arguments after the aggregated one */
    const struct wr_fn_desc *fn;
    struct wr_fn_ctx *call;
    const wr_sql_type *state;
    int nconsts;
    wr_val *consts;
} wr_agg;

typedef struct wr_aggst {
    int64_t n;      /* rows (COUNT), values (AVG, STDDEV_SAMP) */
    double d1, d2;  /* AVG: sum; STDDEV_SAMP: mean and sum of squared deviations */
    wr_val v;       /* SUM, MIN, MAX, LATEST, EARLIEST: the value so far */
    int64_t off;    /* LATEST, EARLIEST: the offset v came from */
    int32_t len;    /* lists, sets, top k, histogram keys */
    wr_val *items;  /* in the batch arena */
    int64_t *count; /* HISTOGRAM: per item */
} wr_aggst;

/*
 * Plans the aggregate fn (its overload variant) over argument types args[0..n) (n == 0:
 * COUNT(*)) whose result type is ret; consts[i] is the value of a constant argument (TOPK's k),
 * NULL otherwise. A library's aggregate keeps its plan in arena (the query's).
 */
int wr_agg_plan(wr_agg *ag,
                const struct wr_fn_desc *fn,
                int variant,
                wr_arena *arena,
                const wr_sql_type *const *args,
                const wr_val *const *consts,
                int n,
                const wr_sql_type *ret,
                wr_err *err);

/* Whether the aggregate can take a row back (used on tables). */
bool wr_agg_undoable(const wr_agg *ag);
/* Whether two of its states can become one (session windows). */
bool wr_agg_mergeable(const wr_agg *ag);

void wr_agg_init(const wr_agg *ag, wr_aggst *st);
/* x: the argument's value (NULL for COUNT(*)); offset: the row's input offset. */
void wr_agg_add(const wr_agg *ag, wr_aggst *st, const wr_val *x, int64_t offset, wr_arena *a);
void wr_agg_undo(const wr_agg *ag, wr_aggst *st, const wr_val *x, wr_arena *a);
void wr_agg_merge(const wr_agg *ag, wr_aggst *into, const wr_aggst *from, wr_arena *a);
wr_val wr_agg_result(const wr_agg *ag, const wr_aggst *st, wr_arena *a);

void wr_agg_encode(const wr_agg *ag, const wr_aggst *st, wr_buf *b);
void wr_agg_decode(const wr_agg *ag, wr_aggst *st, wr_rd *r, wr_arena *a);

#endif
