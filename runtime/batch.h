/*
 * batch.h - batches of rows as column vectors, and expressions evaluated a vector at a time.
 *
 * A batch holds n rows as one wr_vec per column of a scope (with null masks), and a selection
 * vector: the indexes of the rows still alive, ascending. A filter narrows the selection; a
 * projection computes a new vector for the selected rows. Everything a batch points to lives in
 * its arena, which is reset between batches.
 *
 * Evaluation walks the expression tree once per batch. Column references share the column's
 * vector (no copy), constants broadcast, and comparisons, arithmetic on INT/BIGINT/DOUBLE,
 * AND/OR/NOT and IS [NOT] NULL run as tight loops over the selection; a function call evaluates
 * its arguments as vectors and then the function once per selected row. Every other node (CASE,
 * CAST, constructors, lambdas, DECIMAL arithmetic, ...) falls back to wr_expr_eval one row at a
 * time over the row's columns; the result is a vector either way.
 */
#ifndef WR_RUNTIME_BATCH_H
#define WR_RUNTIME_BATCH_H

#include "runtime/expr.h"
#include "runtime/value.h"

typedef struct wr_batch {
    int32_t n, cap;
    int ncols;
    wr_vec *cols;
    int32_t nsel;
    int32_t *sel;
    wr_arena *arena;
} wr_batch;

/* Allocates a batch of cap rows for the columns of sc in a (n = 0, nothing selected). */
int wr_batch_init(wr_batch *b, const wr_scope *sc, int32_t cap, wr_arena *a);

/* Selects every row (after filling n rows). */
void wr_batch_select_all(wr_batch *b);

/* out (allocated in b->arena, or sharing a column's vector) = e over the selected rows. A
   problem on some row leaves that row null and the first message in cx->warning. */
int wr_expr_eval_batch(const wr_cexpr *e, const wr_batch *b, wr_eval_ctx *cx, wr_vec *out);

/* Keeps the selected rows where pred is TRUE (null and FALSE drop the row). */
int wr_expr_filter_batch(const wr_cexpr *pred, wr_batch *b, wr_eval_ctx *cx);

#endif
