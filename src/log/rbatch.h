/*
 * rbatch.h - Kafka record batch v2 (magic 2): parse, validate, iterate, build.
 *
 * Layout (61-byte header, then records; CRC-32C covers attributes .. end):
 *   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 | crc u32 |
 *   attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
 *   producerId i64 | producerEpoch i16 | baseSequence i32 | recordsCount i32 | records
 * A record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
 *   keyLen varint | key | valueLen varint | value | headerCount varint | headers (zig-zag
 *   varints; -1 length = null). With compression, everything after recordsCount is one blob.
 *
 * Parsing works on borrowed bytes and never trusts a length before checking what remains.
 * The iterator decompresses into a caller-owned wr_buf (bounded by max_decompressed) and hands
 * out records whose pointers borrow from the batch or that buffer. The builder produces batches
 * weir's own writers send (zstd by default); it owns nothing after wr_rbatch_builder_finish.
 */
#ifndef WR_SRC_LOG_RBATCH_H
#define WR_SRC_LOG_RBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"

#define WR_RBATCH_HEADER_SIZE  61
#define WR_RBATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */

/* attributes bits */
#define WR_RBATCH_COMPRESSION_MASK     0x07
#define WR_RBATCH_TIMESTAMP_LOG_APPEND 0x08
#define WR_RBATCH_TRANSACTIONAL        0x10
#define WR_RBATCH_CONTROL              0x20
#define WR_RBATCH_DELETE_HORIZON       0x40

typedef enum wr_compression {
    WR_COMPRESSION_NONE = 0,
    WR_COMPRESSION_GZIP = 1,
    WR_COMPRESSION_SNAPPY = 2,
    WR_COMPRESSION_LZ4 = 3,
    WR_COMPRESSION_ZSTD = 4,
} wr_compression;

typedef struct wr_rbatch_hdr {
    int64_t base_offset;
    int32_t batch_length; /* bytes after this field; whole batch = 12 + batch_length */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} wr_rbatch_hdr;

/* Parses the header of the batch at data[0..len). Checks magic == 2, batch_length within
   [49, len - 12], 0 <= records_count <= last_offset_delta + 1 (fewer after compaction; an
   append checks for equality). Does not check the CRC. */
int wr_rbatch_parse_hdr(const uint8_t *data, size_t len, wr_rbatch_hdr *hdr, wr_err *err);

/* Header parse + CRC-32C check (+ for uncompressed batches, a walk of every record). */
int wr_rbatch_validate(const uint8_t *data, size_t len, wr_rbatch_hdr *hdr, wr_err *err);

/* wr_rbatch_validate, and for a compressed batch the same walk of every record after
   decompressing them into scratch (caller-owned, reused) as a Kafka broker's LogValidator
   does before an append: WR_ECOMPRESS (a Kafka client hears CORRUPT_MESSAGE) when they do not
   decompress, decompress to more than
   max_decompressed bytes (a decompression bomb) or are malformed, miscounted or followed by
   bytes. */
int wr_rbatch_validate_all(const uint8_t *data,
                           size_t len,
                           wr_rbatch_hdr *hdr,
                           wr_buf *scratch,
                           size_t max_decompressed,
                           wr_err *err);

/* Size of the whole batch at data (12 + batch_length), or 0 when fewer than 12 bytes. */
size_t wr_rbatch_size(const uint8_t *data, size_t len);

/* Rewrites the base offset in place (CRC unaffected). */
void wr_rbatch_set_base_offset(uint8_t *data, int64_t base_offset);

/* Rewrites maxTimestamp in place and recomputes the CRC (LogAppendTime topics). */
void wr_rbatch_set_log_append_time(uint8_t *data, size_t len, int64_t ts);

/* Rewrites the producer id, epoch and base sequence of the finished batch at data, ORs
   extra_attributes (WR_RBATCH_TRANSACTIONAL) into its attributes and recomputes the CRC.
   Returns the batch's offset count (lastOffsetDelta + 1: what its sequence numbers cover), or -1
   when data does not hold a whole batch. */
int32_t wr_rbatch_set_producer(
    uint8_t *data, size_t len, int64_t pid, int16_t epoch, int32_t seq, int16_t extra_attributes);
static inline wr_compression
wr_rbatch_compression(const wr_rbatch_hdr *h)
{
    return (wr_compression)(h->attributes & WR_RBATCH_COMPRESSION_MASK);
}

typedef struct wr_rheader {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value; /* NULL when value_len == -1 */
    int32_t value_len;
} wr_rheader;

typedef struct wr_record {
    int64_t offset;    /* base_offset + offsetDelta */
    int64_t timestamp; /* base_timestamp + delta (or maxTimestamp for LogAppendTime) */
    const uint8_t *key;
    int32_t key_len; /* -1: null key */
    const uint8_t *value;
    int32_t value_len; /* -1: null value (tombstone) */
    int32_t header_count;
    const uint8_t *headers; /* raw header bytes, walk with wr_record_header_next */
    size_t headers_len;
} wr_record;

typedef struct wr_rbatch_iter {
    wr_rbatch_hdr hdr;
    wr_rd rd;          /* over the (decompressed) records */
    int32_t remaining; /* records not yet returned */
    int err;
} wr_rbatch_iter;

/* Starts iterating the batch at data[0..len) (validated by the caller or not: every read is
   bounds-checked). Compressed records are decompressed into scratch (reset first), at most
   max_decompressed bytes (WR_ETOOBIG beyond). The iterator borrows data and scratch. */
int wr_rbatch_iter_init(wr_rbatch_iter *it,
                        const uint8_t *data,
                        size_t len,
                        wr_buf *scratch,
                        size_t max_decompressed,
                        wr_err *err);

/* Returns 1 and fills rec, 0 at the end, or a negative WR_E* code on malformed records. */
int wr_rbatch_iter_next(wr_rbatch_iter *it, wr_record *rec, wr_err *err);

/* Walks a record's headers: returns 1 and fills h, 0 at the end, negative on malformed bytes.
 *rd must start as wr_rd_make(rec->headers, rec->headers_len). */
int wr_record_header_next(wr_rd *rd, wr_rheader *h);

/* Compaction: appends to out the batch at data[0..len) holding only the records keep accepts
   (*kept of them), with its base offset, last offset delta, timestamps, producer fields and
   codec unchanged, so every kept record keeps its offset. Unchanged when every record is kept;
   with none kept, a header-only batch (count 0). Returns a negative WR_E* code on a malformed
   batch; out is unchanged then. */
int wr_rbatch_filter(const uint8_t *data,
                     size_t len,
                     bool (*keep)(void *arg, const wr_record *rec),
                     void *arg,
                     wr_buf *out,
                     wr_buf *scratch,
                     size_t max_decompressed,
                     int32_t *kept,
                     wr_err *err);

typedef struct wr_rbatch_builder {
    wr_buf records; /* uncompressed record bytes */
    wr_compression compression;
    int32_t count;
    int64_t base_timestamp, max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int16_t extra_attributes; /* transactional / control bits */
} wr_rbatch_builder;

/* Starts a batch: producer_id -1, epoch -1, sequence -1 for a plain producer. */
void wr_rbatch_builder_init(wr_rbatch_builder *b, wr_compression compression);

/* Adds a record; key/value may be NULL (null). headers: count pairs, may be NULL. */
void wr_rbatch_builder_add(wr_rbatch_builder *b,
                           int64_t timestamp,
                           const void *key,
                           int32_t key_len,
                           const void *value,
                           int32_t value_len,
                           const wr_rheader *headers,
                           int32_t header_count);

/* Bytes of records added so far (uncompressed), to cut batches at a size. */
static inline size_t
wr_rbatch_builder_size(const wr_rbatch_builder *b)
{
    return b->records.len;
}

/* Appends the finished batch (base offset 0, CRC set) to out and resets b for reuse. */
int wr_rbatch_builder_finish(wr_rbatch_builder *b, wr_buf *out, wr_err *err);

/* Frees the builder's buffers. NULL-safe. */
void wr_rbatch_builder_free(wr_rbatch_builder *b);

#endif
