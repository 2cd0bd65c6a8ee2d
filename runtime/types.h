/*
 * types.h - weir's SQL type system: ksqlDB's implicit coercion (numeric widening INT -> BIGINT
 * -> DECIMAL -> DOUBLE, applied through ARRAY, MAP and STRUCT), the common type of expression
 * lists (IN, CASE, constructors), and which explicit CASTs exist.
 *
 * Types are the immutable wr_sql_type of grammar/ast.h, shared by the parser, the analyzer and
 * the runtime. Primitive types are static singletons (wr_type_of); composite ones are built in
 * an arena. Nothing here allocates outside the arena it is given.
 */
#ifndef WR_RUNTIME_TYPES_H
#define WR_RUNTIME_TYPES_H

#include <stdbool.h>

#include "grammar/ast.h"
#include "src/base/arena.h"

#define WR_DECIMAL_MAX_PRECISION 38

/* The singleton of a primitive kind (not DECIMAL, ARRAY, MAP, STRUCT). */
const wr_sql_type *wr_type_of(wr_tkind k);

/* DECIMAL(p, s) in a (NULL when a is out of memory or p, s are out of range). */
const wr_sql_type *wr_type_decimal(wr_arena *a, int precision, int scale);

bool wr_type_is_numeric(const wr_sql_type *t);

/* Structural equality (STRUCT field names compare exactly; they are already case-folded). */
bool wr_type_equal(const wr_sql_type *x, const wr_sql_type *y);

/* Whether a value of type from may be used where to is expected without a CAST. */
bool wr_type_coercible(const wr_sql_type *from, const wr_sql_type *to);

/*
 * The narrowest type both x and y coerce to, or NULL when there is none. For numbers the wider
 * one; two DECIMALs give DECIMAL(max(s1, s2) + max(p1 - s1, p2 - s2), max(s1, s2)), capped at
 * precision 38 (then DOUBLE, as ksqlDB does). For STRUCTs the union of the fields. Composite
 * results are allocated in a.
 */
const wr_sql_type *wr_type_common(wr_arena *a, const wr_sql_type *x, const wr_sql_type *y);

/* Whether CAST(x AS to) exists for x of type from (ksqlDB's CAST rules). */
bool wr_type_castable(const wr_sql_type *from, const wr_sql_type *to);

/* A deep copy of t in a (primitive kinds give their singletons): for types that must outlive
   the syntax tree they came from. NULL when a is out of memory. */
const wr_sql_type *wr_type_copy(wr_arena *a, const wr_sql_type *t);

/* The DECIMAL an integer type widens to: INT -> DECIMAL(10, 0), BIGINT -> DECIMAL(19, 0). */
const wr_sql_type *wr_type_as_decimal(wr_arena *a, const wr_sql_type *t);

#endif
