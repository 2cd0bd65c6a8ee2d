/*
 * varint.c - LEB128 and zig-zag varints. See varint.h.
 */
#include "src/base/varint.h"

#include "src/base/err.h"

size_t
wr_uvarint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t
wr_varint_encode(uint8_t *out, int64_t v)
{
    return wr_uvarint_encode(out, wr_zigzag_encode(v));
}

size_t
wr_uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t
wr_varint_size(int64_t v)
{
    return wr_uvarint_size(wr_zigzag_encode(v));
}

uint64_t
wr_rd_uvarint(wr_rd *r, int max_bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (r->err != 0 || r->p >= r->end) {
            wr_rd_fail(r, WR_ETRUNC);
            return 0;
        }
        uint8_t b = *r->p++;
        if (i == 9 && b > 1) { /* the 10th byte may only carry bit 63 */
            wr_rd_fail(r, WR_ECORRUPT);
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0)
            return v;
    }
    wr_rd_fail(r, WR_ECORRUPT);
    return 0;
}

int64_t
wr_rd_varint(wr_rd *r, int max_bytes)
{
    return wr_zigzag_decode(wr_rd_uvarint(r, max_bytes));
}

uint32_t
wr_rd_uvarint32(wr_rd *r)
{
    uint64_t v = wr_rd_uvarint(r, 5);
    if (v > UINT32_MAX) {
        wr_rd_fail(r, WR_ECORRUPT);
        return 0;
    }
    return (uint32_t)v;
}

int32_t
wr_rd_varint32(wr_rd *r)
{
    uint64_t u = wr_rd_uvarint(r, 5);
    if (u > UINT32_MAX) {
        wr_rd_fail(r, WR_ECORRUPT);
        return 0;
    }
    return (int32_t)wr_zigzag_decode(u);
}
