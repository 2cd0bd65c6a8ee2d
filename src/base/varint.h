/*
 * varint.h - variable-length integer codecs.
 *
 * Two families, as the Kafka wire format uses both:
 *  - unsigned varints (LEB128, protobuf uint32/uint64): flexible-version lengths and tag counts;
 *  - zig-zag varints (protobuf sint32/sint64): record fields inside a record batch v2.
 * Encoders write into a caller buffer of at least WR_VARINT_MAX (10) bytes and return the count.
 * Decoders read from a bounds-checked wr_rd cursor and fail it (WR_ETRUNC on a short input,
 * WR_ECORRUPT on an over-long or overflowing encoding), so untrusted bytes are safe to decode.
 */
#ifndef WR_SRC_BASE_VARINT_H
#define WR_SRC_BASE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"

#define WR_VARINT_MAX 10

size_t wr_uvarint_encode(uint8_t *out, uint64_t v);
size_t wr_varint_encode(uint8_t *out, int64_t v); /* zig-zag */

/* Number of bytes wr_uvarint_encode / wr_varint_encode would write. */
size_t wr_uvarint_size(uint64_t v);
size_t wr_varint_size(int64_t v);

static inline uint64_t
wr_zigzag_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t
wr_zigzag_decode(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Decoders: max_bytes is 5 for 32-bit values and 10 for 64-bit values. */
uint64_t wr_rd_uvarint(wr_rd *r, int max_bytes);
int64_t wr_rd_varint(wr_rd *r, int max_bytes);

/* 32-bit forms that also fail the cursor when the value does not fit. */
uint32_t wr_rd_uvarint32(wr_rd *r);
int32_t wr_rd_varint32(wr_rd *r);
static inline int64_t
wr_rd_varint64(wr_rd *r)
{
    return wr_rd_varint(r, 10);
}

static inline void
wr_buf_put_uvarint(wr_buf *b, uint64_t v)
{
    uint8_t t[WR_VARINT_MAX];
    wr_buf_append(b, t, wr_uvarint_encode(t, v));
}

static inline void
wr_buf_put_varint(wr_buf *b, int64_t v)
{
    uint8_t t[WR_VARINT_MAX];
    wr_buf_append(b, t, wr_varint_encode(t, v));
}

#endif
