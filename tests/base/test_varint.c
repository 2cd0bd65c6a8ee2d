/* Unit tests for src/base/varint.c: protobuf/Kafka vectors and hostile inputs. */
#include <criterion/criterion.h>

#include "src/base/varint.h"

Test(base_varint, zigzag_matches_protobuf)
{
    cr_assert_eq(wr_zigzag_encode(0), 0);
    cr_assert_eq(wr_zigzag_encode(-1), 1);
    cr_assert_eq(wr_zigzag_encode(1), 2);
    cr_assert_eq(wr_zigzag_encode(-2), 3);
    cr_assert_eq(wr_zigzag_encode(2147483647), 4294967294u);
    cr_assert_eq(wr_zigzag_encode(-2147483648LL), 4294967295u);
    cr_assert_eq(wr_zigzag_decode(wr_zigzag_encode(INT64_MIN)), INT64_MIN);
    cr_assert_eq(wr_zigzag_decode(wr_zigzag_encode(INT64_MAX)), INT64_MAX);
}

Test(base_varint, known_encodings)
{
    uint8_t out[WR_VARINT_MAX];
    cr_assert_eq(wr_uvarint_encode(out, 300), 2);
    cr_assert_eq(out[0], 0xac);
    cr_assert_eq(out[1], 0x02);
    /* Kafka: a null key length -1 is the single byte 0x01 */
    cr_assert_eq(wr_varint_encode(out, -1), 1);
    cr_assert_eq(out[0], 0x01);
    cr_assert_eq(wr_uvarint_encode(out, UINT64_MAX), 10);
    cr_assert_eq(wr_uvarint_size(UINT64_MAX), 10);
    cr_assert_eq(wr_varint_size(-64), 1);
    cr_assert_eq(wr_varint_size(64), 2);
}

Test(base_varint, round_trip_many_values)
{
    int64_t vals[] = {0,
                      1,
                      -1,
                      63,
                      -64,
                      64,
                      127,
                      128,
                      16383,
                      16384,
                      -16385,
                      1 << 20,
                      INT32_MAX,
                      INT32_MIN,
                      INT64_MAX,
                      INT64_MIN,
                      1234567890123LL};
    wr_buf b = WR_BUF_INIT;
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        wr_buf_put_varint(&b, vals[i]);
        wr_buf_put_uvarint(&b, (uint64_t)vals[i]);
    }
    wr_rd r = wr_rd_make(b.data, b.len);
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        cr_assert_eq(wr_rd_varint64(&r), vals[i]);
        cr_assert_eq(wr_rd_uvarint(&r, 10), (uint64_t)vals[i]);
    }
    cr_assert_eq(r.err, 0);
    cr_assert_eq(wr_rd_left(&r), 0);
    wr_buf_free(&b);
}

Test(base_varint, truncated_and_overlong_inputs_fail)
{
    uint8_t cut[] = {0x80, 0x80};
    wr_rd r = wr_rd_make(cut, sizeof cut);
    wr_rd_uvarint(&r, 10);
    cr_assert_eq(r.err, WR_ETRUNC);

    uint8_t eleven[11];
    memset(eleven, 0xff, sizeof eleven);
    r = wr_rd_make(eleven, sizeof eleven);
    wr_rd_uvarint(&r, 10);
    cr_assert_eq(r.err, WR_ECORRUPT);

    /* 6-byte encoding for a 32-bit field */
    uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    r = wr_rd_make(six, sizeof six);
    wr_rd_varint32(&r);
    cr_assert_eq(r.err, WR_ECORRUPT);

    /* 5 bytes whose value exceeds 32 bits */
    uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    r = wr_rd_make(big, sizeof big);
    wr_rd_uvarint32(&r);
    cr_assert_eq(r.err, WR_ECORRUPT);

    /* 10th byte with more than bit 63 */
    uint8_t ten[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    r = wr_rd_make(ten, sizeof ten);
    wr_rd_uvarint(&r, 10);
    cr_assert_eq(r.err, WR_ECORRUPT);
}
