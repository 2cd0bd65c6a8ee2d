/* Unit tests for src/base/buf.c. */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "src/base/buf.h"
#include "src/base/fault.h"

Test(base_buf, append_grows_and_big_endian_round_trips)
{
    wr_buf b = WR_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        wr_buf_put_be32(&b, (uint32_t)i * 2654435761u);
    wr_buf_put_be16(&b, 0xbeef);
    wr_buf_put_be64(&b, 0x0102030405060708ull);
    cr_assert(wr_buf_ok(&b));
    cr_assert_eq(b.len, 4000 + 2 + 8);
    wr_rd r = wr_rd_make(b.data, b.len);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(wr_rd_be32(&r), (uint32_t)i * 2654435761u);
    cr_assert_eq(wr_rd_be16(&r), 0xbeef);
    cr_assert_eq(wr_rd_be64(&r), 0x0102030405060708ull);
    cr_assert_eq(wr_rd_left(&r), 0);
    cr_assert_eq(r.err, 0);
    wr_buf_free(&b);
}

Test(base_buf, reader_fails_cleanly_on_short_input)
{
    uint8_t three[3] = {1, 2, 3};
    wr_rd r = wr_rd_make(three, 3);
    cr_assert_eq(wr_rd_be32(&r), 0);
    cr_assert_eq(r.err, WR_ETRUNC);
    cr_assert_eq(wr_rd_u8(&r), 0); /* stays failed */
    cr_assert_null(wr_rd_take(&r, 0));
}

Test(base_buf, oom_is_sticky_and_reported)
{
    wr_buf b = WR_BUF_INIT;
    wr_fault_arm(WR_FAULT_ALLOC, 0, 1);
    wr_buf_append(&b, "abc", 3);
    wr_fault_reset();
    cr_assert(!wr_buf_ok(&b));
    wr_buf_append(&b, "abc", 3);
    cr_assert_eq(b.len, 0);
    wr_buf_reset(&b);
    wr_buf_append(&b, "abc", 3);
    cr_assert_eq(b.len, 3);
    wr_buf_free(&b);
}

Test(base_buf, printf_and_steal)
{
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "%s=%d;", "a", 1);
    wr_buf_printf(&b, "%s=%d", "bb", 22);
    size_t n;
    uint8_t *p = wr_buf_steal(&b, &n);
    cr_assert_eq(n, 9);
    cr_assert_eq(memcmp(p, "a=1;bb=22", 9), 0);
    cr_assert_null(b.data);
    free(p);
}
