/*
 * format.h - record serialisation formats of ksqlDB: JSON, DELIMITED, KAFKA and NONE, for the
 * key and the value of a record.
 *
 * A wr_fmt describes one side of a source: its columns (names and types, in order), the format
 * and its options. Decoding fills one wr_val per column (allocated in the arena given); encoding
 * writes the bytes. Neither ever reads past the input, and bad input is an error naming the
 * column and the problem, never a crash.
 */
#ifndef WR_RUNTIME_FORMAT_H
#define WR_RUNTIME_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/value.h"
#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/base/err.h"

#define WR_FMT_MAX_RECORD (8u << 20)
#define WR_FMT_MAX_DEPTH  100

typedef enum wr_fmt_kind {
    WR_FMT_JSON,
    WR_FMT_DELIMITED,
    WR_FMT_KAFKA,
    WR_FMT_NONE,
} wr_fmt_kind;

typedef struct wr_fmt {
    wr_fmt_kind kind;
    int ncols;
    const char *const *names;
    const wr_sql_type *const *types;
    bool wrap_single;   /* JSON: a single column is an object field (true) or the bare value */
    char delimiter;     /* DELIMITED */
    const bool *needed; /* decode only these columns (NULL: all); the others are left null */
    bool key;           /* the columns are a key's (only for error messages) */
} wr_fmt;

/* "JSON", "DELIMITED", "KAFKA", "NONE" (any case) -> WR_OK; the formats weir does not serve yet
   (JSON_SR, AVRO, PROTOBUF, PROTOBUF_NOSR) -> WR_EUNSUPP; anything else -> WR_EINVAL. */
int wr_fmt_parse_name(const char *name, wr_fmt_kind *out);

/* Whether the format can carry these columns (no key holds a MAP, at any depth; KAFKA: one column of INT, BIGINT, DOUBLE, STRING
   or BYTES; DELIMITED: no ARRAY, MAP or STRUCT; NONE: no columns). */
int wr_fmt_check(const wr_fmt *f, wr_err *err);

/* Decodes a record's key or value (is_null: a Kafka null) into out[0..ncols). A null record
   gives null columns. WR_ECORRUPT (or WR_ETOOBIG) with err describing the problem. */
int wr_fmt_decode(const wr_fmt *f,
                  const uint8_t *data,
                  size_t len,
                  bool is_null,
                  wr_val *out,
                  wr_arena *a,
                  wr_err *err);

/* Encodes vals[0..ncols) into b; *is_null when the result is a Kafka null (NONE, or a KAFKA
   column that is null). */
int wr_fmt_encode(const wr_fmt *f, const wr_val *vals, wr_buf *b, bool *is_null, wr_err *err);

/* Kafka Streams' windowed keys (windowed aggregations write them, windowed sources read them):
   the key's own bytes, then the window start (time windows) or the session's end and start,
   8 bytes each, big-endian. */
void wr_window_key_put(wr_buf *b, bool session, int64_t start, int64_t end);
/* The window of the windowed key key[0..*klen) into *start and *end (a time window ends at
   start + size); *klen is cut to the key's own bytes. False when *klen cannot hold a window. */
bool wr_window_key_get(
    const uint8_t *key, int32_t *klen, bool session, int64_t size, int64_t *start, int64_t *end);

/* JSON text of a string (quoted, escaped) and of a value. rest: as the REST API shows values
   (DATE, TIME and TIMESTAMP as ISO-8601 strings) rather than as the JSON format stores them
   (days, milliseconds). */
void wr_json_write_string(wr_buf *b, const char *s, size_t n);
void wr_json_write_value(wr_buf *b, const wr_val *v, bool rest);

#endif
