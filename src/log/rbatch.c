/*
 * rbatch.c - Kafka record batch v2: header parsing, validation, record iteration, building.
 *
 * Everything here reads untrusted bytes through wr_rd cursors, so a malformed batch yields an
 * error code, never an out-of-bounds read. Offsets within the header are Kafka's (see rbatch.h).
 */
#include "src/log/rbatch.h"

#include <stdio.h>

#include "src/base/crc32c.h"
#include "src/base/varint.h"
#include "src/log/compress.h"

/* byte offsets inside a batch */
enum {
    OFF_BASE_OFFSET = 0,
    OFF_BATCH_LENGTH = 8,
    OFF_LEADER_EPOCH = 12,
    OFF_MAGIC = 16,
    OFF_CRC = 17,
    OFF_ATTRIBUTES = 21,
    OFF_LAST_OFFSET_DELTA = 23,
    OFF_BASE_TIMESTAMP = 27,
    OFF_MAX_TIMESTAMP = 35,
    OFF_PRODUCER_ID = 43,
    OFF_RECORDS_COUNT = 57,
};
_Static_assert(OFF_RECORDS_COUNT + 4 == WR_RBATCH_HEADER_SIZE, "v2 header is 61 bytes");

#define MIN_BATCH_LENGTH (WR_RBATCH_HEADER_SIZE - WR_RBATCH_LOG_OVERHEAD) /* 49 */
#define MIN_RECORD_SIZE  7 /* length, attributes, ts delta, offset delta, key, value, headers */

size_t
wr_rbatch_size(const uint8_t *data, size_t len)
{
    if (len < WR_RBATCH_LOG_OVERHEAD)
        return 0;
    int32_t bl = (int32_t)wr_be32_get(data + OFF_BATCH_LENGTH);
    if (bl < 0)
        return 0;
    return WR_RBATCH_LOG_OVERHEAD + (size_t)bl;
}

int
wr_rbatch_parse_hdr(const uint8_t *data, size_t len, wr_rbatch_hdr *h, wr_err *err)
{
    if (len < WR_RBATCH_HEADER_SIZE)
        return wr_err_set(err, WR_ETRUNC, "record batch truncated: %zu bytes, header needs %d", len,
                          WR_RBATCH_HEADER_SIZE);
    wr_rd rd = wr_rd_make(data, WR_RBATCH_HEADER_SIZE);
    h->base_offset = (int64_t)wr_rd_be64(&rd);
    h->batch_length = (int32_t)wr_rd_be32(&rd);
    h->leader_epoch = (int32_t)wr_rd_be32(&rd);
    h->magic = (int8_t)wr_rd_u8(&rd);
    h->crc = wr_rd_be32(&rd);
    h->attributes = (int16_t)wr_rd_be16(&rd);
    h->last_offset_delta = (int32_t)wr_rd_be32(&rd);
    h->base_timestamp = (int64_t)wr_rd_be64(&rd);
    h->max_timestamp = (int64_t)wr_rd_be64(&rd);
    h->producer_id = (int64_t)wr_rd_be64(&rd);
    h->producer_epoch = (int16_t)wr_rd_be16(&rd);
    h->base_sequence = (int32_t)wr_rd_be32(&rd);
    h->records_count = (int32_t)wr_rd_be32(&rd);

    if (h->magic != 2)
        return wr_err_set(err, WR_ECORRUPT, "record batch magic %d is not supported (only 2)",
                          h->magic);
    if (h->batch_length < MIN_BATCH_LENGTH)
        return wr_err_set(err, WR_ECORRUPT, "record batch length %d is below the minimum %d",
                          h->batch_length, MIN_BATCH_LENGTH);
    if ((size_t)h->batch_length > len - WR_RBATCH_LOG_OVERHEAD)
        return wr_err_set(err, WR_ETRUNC, "record batch length %d passes the %zu bytes given",
                          h->batch_length, len - WR_RBATCH_LOG_OVERHEAD);
    if (h->records_count < 0 || h->last_offset_delta < 0)
        return wr_err_set(err, WR_ECORRUPT,
                          "record batch has a negative record count (%d) or "
                          "last offset delta (%d)",
                          h->records_count, h->last_offset_delta);
    /* compaction leaves fewer records (even none) but keeps the last offset delta */
    if ((int64_t)h->records_count > (int64_t)h->last_offset_delta + 1)
        return wr_err_set(err, WR_ECORRUPT,
                          "record batch count %d does not match last offset delta %d",
                          h->records_count, h->last_offset_delta);
    if ((h->attributes & WR_RBATCH_COMPRESSION_MASK) > WR_COMPRESSION_ZSTD)
        return wr_err_set(err, WR_ECORRUPT, "record batch uses unknown compression codec %d",
                          h->attributes & WR_RBATCH_COMPRESSION_MASK);
    if (wr_rbatch_compression(h) == WR_COMPRESSION_NONE &&
        (size_t)h->records_count > (size_t)(h->batch_length - MIN_BATCH_LENGTH) / MIN_RECORD_SIZE)
        return wr_err_set(err, WR_ECORRUPT, "record batch claims %d records in %d bytes",
                          h->records_count, h->batch_length - MIN_BATCH_LENGTH);
    return WR_OK;
}

/* Reads one record's fields from rd (positioned at its length varint). */
static int
read_record(wr_rd *rd, const wr_rbatch_hdr *h, wr_record *rec, wr_err *err)
{
    int64_t rlen = wr_rd_varint(rd, 5);
    if (rd->err || rlen < MIN_RECORD_SIZE - 1 || (uint64_t)rlen > wr_rd_left(rd))
        return wr_err_set(err, WR_ECORRUPT, "record length %lld is invalid", (long long)rlen);
    wr_rd r = wr_rd_make(rd->p, (size_t)rlen);
    rd->p += rlen;
    (void)wr_rd_u8(&r); /* record attributes: unused */
    int64_t ts_delta = wr_rd_varint(&r, 10);
    int32_t off_delta = wr_rd_varint32(&r);
    int32_t klen = wr_rd_varint32(&r);
    rec->key = NULL;
    if (klen >= 0)
        rec->key = wr_rd_take(&r, (size_t)klen);
    else if (klen != -1)
        wr_rd_fail(&r, WR_ECORRUPT);
    int32_t vlen = wr_rd_varint32(&r);
    rec->value = NULL;
    if (vlen >= 0)
        rec->value = wr_rd_take(&r, (size_t)vlen);
    else if (vlen != -1)
        wr_rd_fail(&r, WR_ECORRUPT);
    int32_t hcount = wr_rd_varint32(&r);
    if (r.err || hcount < 0)
        return wr_err_set(err, WR_ECORRUPT, "record fields are malformed");
    rec->header_count = hcount;
    rec->headers = r.p;
    rec->headers_len = wr_rd_left(&r);
    /* walk the headers once so that callers can trust the count */
    wr_rd hr = wr_rd_make(rec->headers, rec->headers_len);
    wr_rheader hh;
    for (int32_t i = 0; i < hcount; i++) {
        if (wr_record_header_next(&hr, &hh) != 1)
            return wr_err_set(err, WR_ECORRUPT, "record header %d is malformed", i);
    }
    if (wr_rd_left(&hr) != 0)
        return wr_err_set(err, WR_ECORRUPT, "record has %zu bytes after its headers",
                          wr_rd_left(&hr));
    rec->key_len = klen;
    rec->value_len = vlen;
    /* hostile bases and deltas must not overflow: wrap as Kafka's Java longs do */
    rec->offset = (int64_t)((uint64_t)h->base_offset + (uint64_t)(int64_t)off_delta);
    rec->timestamp = (h->attributes & WR_RBATCH_TIMESTAMP_LOG_APPEND)
                         ? h->max_timestamp
                         : (int64_t)((uint64_t)h->base_timestamp + (uint64_t)ts_delta);
    return WR_OK;
}

/* Walks every record of h's batch in rd (its records, decompressed): each well formed, offset
   deltas ascending and within last_offset_delta, records_count of them and nothing after. */
static int
check_records(wr_rd *rd, const wr_rbatch_hdr *h, wr_err *err)
{
    wr_record rec;
    int32_t prev = -1;
    for (int32_t i = 0; i < h->records_count; i++) {
        int rc = read_record(rd, h, &rec, err);
        if (rc != WR_OK)
            return rc;
        int64_t delta = (int64_t)((uint64_t)rec.offset - (uint64_t)h->base_offset);
        if (delta <= prev || delta > h->last_offset_delta)
            return wr_err_set(err, WR_ECORRUPT, "record %d has offset delta %lld out of order", i,
                              (long long)delta);
        prev = (int32_t)delta;
    }
    if (wr_rd_left(rd) != 0)
        return wr_err_set(err, WR_ECORRUPT, "record batch has %zu bytes after its %d records",
                          wr_rd_left(rd), h->records_count);
    return WR_OK;
}

int
wr_rbatch_validate(const uint8_t *data, size_t len, wr_rbatch_hdr *h, wr_err *err)
{
    int rc = wr_rbatch_parse_hdr(data, len, h, err);
    if (rc != WR_OK)
        return rc;
    size_t size = wr_rbatch_size(data, len);
    uint32_t crc = wr_crc32c(0, data + OFF_ATTRIBUTES, size - OFF_ATTRIBUTES);
    if (crc != h->crc)
        return wr_err_set(err, WR_ECRC, "record batch CRC mismatch (stored %08x, computed %08x)",
                          h->crc, crc);
    if (wr_rbatch_compression(h) != WR_COMPRESSION_NONE)
        return WR_OK;
    wr_rd rd = wr_rd_make(data + WR_RBATCH_HEADER_SIZE, size - WR_RBATCH_HEADER_SIZE);
    return check_records(&rd, h, err);
}

int
wr_rbatch_validate_all(const uint8_t *data,
                       size_t len,
                       wr_rbatch_hdr *h,
                       wr_buf *scratch,
                       size_t max_decompressed,
                       wr_err *err)
{
    int rc = wr_rbatch_validate(data, len, h, err);
    wr_compression c = wr_rbatch_compression(h);
    if (rc != WR_OK || c == WR_COMPRESSION_NONE)
        return rc;
    size_t size = wr_rbatch_size(data, len);
    wr_buf_reset(scratch);
    rc = wr_decompress(c, data + WR_RBATCH_HEADER_SIZE, size - WR_RBATCH_HEADER_SIZE, scratch,
                       max_decompressed, err);
    if (rc == WR_ETOOBIG)
        return wr_err_set(err, WR_ECOMPRESS,
                          "a %s record batch of %zu bytes decompresses to more than %zu bytes",
                          wr_compression_name(c), size, max_decompressed);
    if (rc != WR_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err != NULL ? err->msg : wr_strerror(rc));
        return wr_err_set(err, WR_ECOMPRESS, "a %s record batch does not decompress: %s",
                          wr_compression_name(c), why);
    }
    wr_rd rd = wr_rd_make(scratch->data, scratch->len);
    rc = check_records(&rd, h, err);
    if (rc != WR_OK) {
        wr_err_prefix(err, "%s-compressed records", wr_compression_name(c));
        rc = err != NULL ? (err->code = WR_ECOMPRESS) : WR_ECOMPRESS;
    }
    return rc;
}

void
wr_rbatch_set_base_offset(uint8_t *data, int64_t base_offset)
{
    wr_be64_put(data + OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void
wr_rbatch_set_log_append_time(uint8_t *data, size_t len, int64_t ts)
{
    size_t size = wr_rbatch_size(data, len);
    if (size < WR_RBATCH_HEADER_SIZE || size > len)
        return;
    uint16_t attr = wr_be16_get(data + OFF_ATTRIBUTES) | WR_RBATCH_TIMESTAMP_LOG_APPEND;
    wr_be16_put(data + OFF_ATTRIBUTES, attr);
    wr_be64_put(data + OFF_MAX_TIMESTAMP, (uint64_t)ts);
    wr_be32_put(data + OFF_CRC, wr_crc32c(0, data + OFF_ATTRIBUTES, size - OFF_ATTRIBUTES));
}

int32_t
wr_rbatch_set_producer(
    uint8_t *data, size_t len, int64_t pid, int16_t epoch, int32_t seq, int16_t extra_attributes)
{
    size_t size = wr_rbatch_size(data, len);
    if (size < WR_RBATCH_HEADER_SIZE || size > len)
        return -1;
    uint16_t attr = wr_be16_get(data + OFF_ATTRIBUTES) | (uint16_t)extra_attributes;
    wr_be16_put(data + OFF_ATTRIBUTES, attr);
    wr_be64_put(data + OFF_PRODUCER_ID, (uint64_t)pid);
    wr_be16_put(data + OFF_PRODUCER_ID + 8, (uint16_t)epoch);
    wr_be32_put(data + OFF_PRODUCER_ID + 10, (uint32_t)seq);
    wr_be32_put(data + OFF_CRC, wr_crc32c(0, data + OFF_ATTRIBUTES, size - OFF_ATTRIBUTES));
    return (int32_t)wr_be32_get(data + OFF_LAST_OFFSET_DELTA) + 1;
}

/* ---- iteration ------------------------------------------------------------------------- */

int
wr_rbatch_iter_init(wr_rbatch_iter *it,
                    const uint8_t *data,
                    size_t len,
                    wr_buf *scratch,
                    size_t max_decompressed,
                    wr_err *err)
{
    memset(it, 0, sizeof *it);
    int rc = wr_rbatch_parse_hdr(data, len, &it->hdr, err);
    if (rc != WR_OK)
        return rc;
    size_t size = wr_rbatch_size(data, len);
    const uint8_t *recs = data + WR_RBATCH_HEADER_SIZE;
    size_t rlen = size - WR_RBATCH_HEADER_SIZE;
    wr_compression c = wr_rbatch_compression(&it->hdr);
    if (c != WR_COMPRESSION_NONE && it->hdr.records_count > 0) {
        wr_buf_reset(scratch);
        rc = wr_decompress(c, recs, rlen, scratch, max_decompressed, err);
        if (rc != WR_OK)
            return rc;
        recs = scratch->data;
        rlen = scratch->len;
    }
    it->rd = wr_rd_make(recs, rlen);
    it->remaining = it->hdr.records_count;
    return WR_OK;
}

int
wr_rbatch_iter_next(wr_rbatch_iter *it, wr_record *rec, wr_err *err)
{
    if (it->err)
        return it->err;
    if (it->remaining <= 0)
        return 0;
    int rc = read_record(&it->rd, &it->hdr, rec, err);
    if (rc != WR_OK)
        return it->err = rc;
    it->remaining--;
    return 1;
}

int
wr_record_header_next(wr_rd *rd, wr_rheader *h)
{
    if (rd->err)
        return rd->err;
    if (wr_rd_left(rd) == 0)
        return 0;
    int32_t klen = wr_rd_varint32(rd);
    if (rd->err || klen < 0)
        return WR_ECORRUPT; /* header keys are never null */
    h->key = wr_rd_take(rd, (size_t)klen);
    h->key_len = klen;
    int32_t vlen = wr_rd_varint32(rd);
    h->value = NULL;
    if (vlen >= 0)
        h->value = wr_rd_take(rd, (size_t)vlen);
    else if (vlen != -1)
        return WR_ECORRUPT;
    h->value_len = vlen;
    return rd->err ? rd->err : 1;
}

/* ---- compaction ------------------------------------------------------------------------ */

int
wr_rbatch_filter(const uint8_t *data,
                 size_t len,
                 bool (*keep)(void *arg, const wr_record *rec),
                 void *arg,
                 wr_buf *out,
                 wr_buf *scratch,
                 size_t max_decompressed,
                 int32_t *kept,
                 wr_err *err)
{
    wr_rbatch_iter it;
    int rc = wr_rbatch_iter_init(&it, data, len, scratch, max_decompressed, err);
    if (rc != WR_OK)
        return rc;
    size_t size = wr_rbatch_size(data, len);
    wr_buf recs = WR_BUF_INIT;
    int32_t n = 0;
    wr_record rec;
    for (;;) {
        const uint8_t *from = it.rd.p;
        if ((rc = wr_rbatch_iter_next(&it, &rec, err)) <= 0)
            break;
        if (keep(arg, &rec)) { /* a record's bytes are relative to the batch's base: copied */
            wr_buf_append(&recs, from, (size_t)(it.rd.p - from));
            n++;
        }
    }
    *kept = n;
    if (rc == WR_OK && !wr_buf_ok(&recs))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory compacting a record batch");
    if (rc != WR_OK || n == it.hdr.records_count) {
        if (rc == WR_OK)
            wr_buf_append(out, data, size); /* nothing removed: the batch as it was */
        wr_buf_free(&recs);
        return rc;
    }
    size_t start = out->len;
    wr_buf_append(out, data, WR_RBATCH_HEADER_SIZE);
    if (n > 0 && wr_buf_ok(out))
        rc = wr_compress(wr_rbatch_compression(&it.hdr), recs.data, recs.len, out, err);
    wr_buf_free(&recs);
    if (rc == WR_OK && !wr_buf_ok(out))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory compacting a record batch");
    if (rc != WR_OK) {
        out->len = start;
        return rc;
    }
    uint8_t *hdr = out->data + start;
    size_t nsize = out->len - start;
    if (n == 0) /* a bare header, uncompressed as Kafka writes them */
        wr_be16_put(hdr + OFF_ATTRIBUTES,
                    (uint16_t)(it.hdr.attributes & ~WR_RBATCH_COMPRESSION_MASK));
    wr_be32_put(hdr + OFF_BATCH_LENGTH, (uint32_t)(nsize - WR_RBATCH_LOG_OVERHEAD));
    wr_be32_put(hdr + OFF_RECORDS_COUNT, (uint32_t)n);
    wr_be32_put(hdr + OFF_CRC, wr_crc32c(0, hdr + OFF_ATTRIBUTES, nsize - OFF_ATTRIBUTES));
    return WR_OK;
}

/* ---- building -------------------------------------------------------------------------- */

void
wr_rbatch_builder_init(wr_rbatch_builder *b, wr_compression compression)
{
    memset(b, 0, sizeof *b);
    b->compression = compression;
    b->producer_id = -1;
    b->producer_epoch = -1;
    b->base_sequence = -1;
}

static void
put_bytes(wr_buf *out, const void *p, int32_t len)
{
    if (!p || len < 0) {
        wr_buf_put_varint(out, -1);
        return;
    }
    wr_buf_put_varint(out, len);
    wr_buf_append(out, p, (size_t)len);
}

void
wr_rbatch_builder_add(wr_rbatch_builder *b,
                      int64_t timestamp,
                      const void *key,
                      int32_t key_len,
                      const void *value,
                      int32_t value_len,
                      const wr_rheader *headers,
                      int32_t header_count)
{
    if (b->count == 0) {
        b->base_timestamp = timestamp;
        b->max_timestamp = timestamp;
    } else if (timestamp > b->max_timestamp) {
        b->max_timestamp = timestamp;
    }
    if (!key)
        key_len = -1;
    if (!value)
        value_len = -1;
    /* the record's length prefix needs its body size, computed up front */
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp);
    size_t body = 1 + wr_varint_size(ts_delta) + wr_varint_size(b->count) +
                  wr_varint_size(key_len) + (key_len > 0 ? (size_t)key_len : 0) +
                  wr_varint_size(value_len) + (value_len > 0 ? (size_t)value_len : 0) +
                  wr_varint_size(header_count);
    for (int32_t i = 0; i < header_count; i++) {
        int32_t hv = headers[i].value ? headers[i].value_len : -1;
        body += wr_varint_size(headers[i].key_len) + (size_t)headers[i].key_len +
                wr_varint_size(hv) + (hv > 0 ? (size_t)hv : 0);
    }
    wr_buf_put_varint(&b->records, (int64_t)body);
    wr_buf_put_u8(&b->records, 0);
    wr_buf_put_varint(&b->records, ts_delta);
    wr_buf_put_varint(&b->records, b->count);
    put_bytes(&b->records, key, key_len);
    put_bytes(&b->records, value, value_len);
    wr_buf_put_varint(&b->records, header_count);
    for (int32_t i = 0; i < header_count; i++) {
        put_bytes(&b->records, headers[i].key, headers[i].key_len);
        put_bytes(&b->records, headers[i].value, headers[i].value ? headers[i].value_len : -1);
    }
    b->count++;
}

int
wr_rbatch_builder_finish(wr_rbatch_builder *b, wr_buf *out, wr_err *err)
{
    if (b->count == 0)
        return wr_err_set(err, WR_EINVAL, "cannot finish an empty record batch");
    if (!wr_buf_ok(&b->records))
        return wr_err_set(err, WR_ENOMEM, "out of memory building a record batch");
    size_t start = out->len;
    uint8_t *hdr = wr_buf_extend(out, WR_RBATCH_HEADER_SIZE);
    if (!hdr)
        return wr_err_set(err, WR_ENOMEM, "out of memory building a record batch");
    int rc = wr_compress(b->compression, b->records.data, b->records.len, out, err);
    if (rc != WR_OK) {
        out->len = start;
        return rc;
    }
    size_t size = out->len - start;
    if (size - WR_RBATCH_LOG_OVERHEAD > INT32_MAX) {
        out->len = start;
        return wr_err_set(err, WR_ETOOBIG, "record batch of %zu bytes is too large", size);
    }
    hdr = out->data + start; /* the buffer may have moved */
    wr_be64_put(hdr + OFF_BASE_OFFSET, 0);
    wr_be32_put(hdr + OFF_BATCH_LENGTH, (uint32_t)(size - WR_RBATCH_LOG_OVERHEAD));
    wr_be32_put(hdr + OFF_LEADER_EPOCH, (uint32_t)-1);
    hdr[OFF_MAGIC] = 2;
    wr_be16_put(hdr + OFF_ATTRIBUTES,
                (uint16_t)((b->extra_attributes & ~WR_RBATCH_COMPRESSION_MASK) | b->compression));
    wr_be32_put(hdr + OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
    wr_be64_put(hdr + OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
    wr_be64_put(hdr + OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
    wr_be64_put(hdr + OFF_PRODUCER_ID, (uint64_t)b->producer_id);
    wr_be16_put(hdr + OFF_PRODUCER_ID + 8, (uint16_t)b->producer_epoch);
    wr_be32_put(hdr + OFF_PRODUCER_ID + 10, (uint32_t)b->base_sequence);
    wr_be32_put(hdr + OFF_RECORDS_COUNT, (uint32_t)b->count);
    wr_be32_put(hdr + OFF_CRC, wr_crc32c(0, hdr + OFF_ATTRIBUTES, size - OFF_ATTRIBUTES));
    /* reset for reuse, keeping producer fields and the records buffer's memory */
    wr_buf_reset(&b->records);
    b->count = 0;
    return WR_OK;
}

void
wr_rbatch_builder_free(wr_rbatch_builder *b)
{
    if (!b)
        return;
    wr_buf_free(&b->records);
}
