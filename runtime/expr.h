/*
 * expr.h - expressions after analysis: names resolved against a scope of columns, every node
 * typed by ksqlDB's rules, implicit coercions made explicit, functions bound to their
 * overloads; and their evaluation.
 *
 * The analyzer (wr_expr_analyze) turns a grammar wr_expr into a wr_cexpr, or reports a
 * semantic error with the line and column of the offending part ("column 'NAM' cannot be
 * resolved; did you mean 'NAME'?", "cannot compare STRING with INTEGER", ...). The tree is
 * allocated in the query's arena and is immutable afterwards: any number of tasks may
 * evaluate it at once, each with its own wr_eval_ctx.
 *
 * Evaluation: wr_expr_eval_vec computes a column for the selected rows of a batch; it walks
 * the tree once per row (kernels that process whole vectors are the planned next step for
 * column references, comparisons and arithmetic). Errors are per row and never abort a query:
 * integer division by zero, an overflowing CAST or a failing function give null, and a
 * message is left in the context for the processing log, as ksqlDB does.
 */
#ifndef WR_RUNTIME_EXPR_H
#define WR_RUNTIME_EXPR_H

#include "grammar/ast.h"
#include "runtime/value.h"
#include "src/base/arena.h"
#include "src/base/err.h"
#include "udf/fn.h"

/* A column an expression can name. */
typedef struct wr_col {
    const char *name;   /* as stored: upper case unless it was quoted */
    const char *source; /* the source name or alias that qualifies it; NULL for none */
    const wr_sql_type *type;
} wr_col;

typedef struct wr_scope {
    int n;
    const wr_col *cols;
} wr_scope;

typedef enum wr_cop {
    WR_C_CONST,
    WR_C_COLUMN, /* col: index in the scope */
    WR_C_PARAM,  /* col: lambda parameter slot */
    WR_C_CAST,   /* a to type */
    WR_C_NEG,
    WR_C_ARITH, /* op: ADD SUB MUL DIV MOD on type (numbers), ADD of strings is concat */
    WR_C_CONCAT,
    WR_C_CMP, /* op: EQ NE LT LE GT GE; a and b of one common type */
    WR_C_AND,
    WR_C_OR,
    WR_C_NOT,
    WR_C_IS_NULL,   /* negated */
    WR_C_DISTINCT,  /* negated: IS NOT DISTINCT FROM */
    WR_C_LIKE,      /* a LIKE pattern (b), escape char in col (-1 none), negated */
    WR_C_BETWEEN,   /* a, b, c; negated */
    WR_C_IN,        /* a IN args; negated */
    WR_C_CASE,      /* args: cond, value, cond, value, ...; c: else (may be NULL) */
    WR_C_CALL,      /* fn, args */
    WR_C_DEREF,     /* a (a STRUCT) field col */
    WR_C_SUBSCRIPT, /* a[b]: ARRAY (1-based, negative from the end) or MAP */
    WR_C_ARRAY,     /* args */
    WR_C_MAP,       /* args: k, v, k, v ... */
    WR_C_STRUCT,    /* args in type's field order */
    WR_C_TRANSFORM, /* a: ARRAY or MAP; args: 1 (array) or 2 (map: key, value) lambdas */
    WR_C_FILTER,    /* a, args[0]: predicate lambda */
    WR_C_REDUCE,    /* a, b: initial state, args[0]: lambda (state, elem) or (state, k, v) */
    WR_C_LAMBDA,    /* a: body; col: first parameter slot; n: parameter count (args NULL) */
} wr_cop;

typedef struct wr_cexpr wr_cexpr;

struct wr_cexpr {
    wr_cop op;
    wr_op aop; /* ARITH/CMP: the operator */
    const wr_sql_type *type;
    wr_loc loc;
    bool negated;
    int col;
    wr_cexpr *a, *b, *c;
    int n;
    wr_cexpr **args;
    wr_val k;             /* CONST */
    const wr_fn_desc *fn; /* CALL */
    wr_fn_ctx *fctx;      /* CALL: the call site's template context (state from init) */
};

typedef struct wr_analyzer {
    wr_arena *arena;
    const wr_scope *scope;
    const wr_fn_registry *fns;
    /* lambda parameters in scope (innermost last) */
    int nparams;
    const char *param_names[16];
    const wr_sql_type *param_types[16];
    int max_params; /* slots a wr_eval_ctx must provide */
    /* After an aggregation: sub-expressions whose SQL text is subst_text[i] (a GROUP BY
       expression, an aggregate call) are the column subst_col[i] of the scope; any other
       column is an error ("neither aggregated nor in GROUP BY"). */
    int nsubst;
    const char **subst_text;
    const int *subst_col;
    bool after_aggregation;
} wr_analyzer;

/* Analyzes e in the analyzer's scope. WR_OK with *out, or WR_ESEMANTIC with err (position in
   err->line/col and the message). */
int wr_expr_analyze(wr_analyzer *an, const wr_expr *e, wr_cexpr **out, wr_err *err);

/* Wraps e in a coercion to type t (no-op when it already has it). */
wr_cexpr *wr_expr_coerce(wr_arena *a, wr_cexpr *e, const wr_sql_type *t);

/* Whether e is a constant (no columns, no nondeterministic calls); *v its value when so. */
bool wr_expr_constant(const wr_cexpr *e);

typedef struct wr_eval_ctx {
    wr_arena *arena;   /* results' strings and nested values */
    const wr_val *row; /* the current row's columns, scope order */
    wr_val params[16]; /* lambda parameter slots */
    char warning[200]; /* the first problem met since the caller cleared it */
    wr_fn_errs *errs;  /* rows a function reported an error for (NULL: the warning only) */
} wr_eval_ctx;

/* Evaluates e for the row in cx->row. */
void wr_expr_eval(const wr_cexpr *e, wr_eval_ctx *cx, wr_val *out);

#endif
