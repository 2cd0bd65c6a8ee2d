/*
 * rowcodec.h - weir's internal byte forms of SQL values, for state stores and changelogs.
 *
 * Two encodings:
 *  - the value codec: compact and type-directed (the type is known from the plan and is not
 *    stored), for aggregate states and materialized rows;
 *  - the key codec: order-preserving ("memcomparable"): byte order of encoded keys equals the
 *    SQL order of the values, column by column, nulls first. State stores keep rows under it,
 *    so pull queries answer key ranges with one RocksDB range scan, and a window store appends
 *    the window start (big-endian, sign-flipped) so one key's windows sort by time.
 *
 * Both are versioned by the state store's format (a change of either needs a new store and a
 * rebuild from the changelog, whose records use the same encodings).
 */
#ifndef WR_RUNTIME_ROWCODEC_H
#define WR_RUNTIME_ROWCODEC_H

#include "runtime/value.h"
#include "src/base/buf.h"

/* Appends x (of type t, or null) to b. */
void wr_val_encode(wr_buf *b, const wr_sql_type *t, const wr_val *x);
/* Reads a value of type t from r into *out (strings and nested values in a). Fails r on
   malformed bytes. */
void wr_val_decode(wr_rd *r, const wr_sql_type *t, wr_val *out, wr_arena *a);

/* Appends the order-preserving form of x (of type t) to b. Composite values (ARRAY, MAP,
   STRUCT) are kept by their value-codec bytes: equal values give equal keys, but their order is
   not SQL's. */
void wr_key_encode(wr_buf *b, const wr_sql_type *t, const wr_val *x);
/* Reads back one key column. */
void wr_key_decode(wr_rd *r, const wr_sql_type *t, wr_val *out, wr_arena *a);

/* A double as its 8 IEEE-754 bytes, big-endian. */
void wr_f64_put(wr_buf *b, double d);
double wr_f64_get(wr_rd *r);

/* A signed 64-bit number (a window bound) in order-preserving big-endian form. */
void wr_key_put_i64(wr_buf *b, int64_t v);
int64_t wr_key_get_i64(const uint8_t *p);

#endif
