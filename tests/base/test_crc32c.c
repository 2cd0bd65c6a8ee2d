/* Unit tests for src/base/crc32c.c: RFC 3720 / iSCSI vectors, incremental use, both paths. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/crc32c.h"

Test(base_crc32c, check_value)
{
    cr_assert_eq(wr_crc32c(0, "123456789", 9), 0xe3069283u);
    cr_assert_eq(wr_crc32c_sw(0, "123456789", 9), 0xe3069283u);
    cr_assert_eq(wr_crc32c(0, "", 0), 0);
}

Test(base_crc32c, rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    cr_assert_eq(wr_crc32c(0, buf, 32), 0x8a9136aau);
    memset(buf, 0xff, sizeof buf);
    cr_assert_eq(wr_crc32c(0, buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    cr_assert_eq(wr_crc32c(0, buf, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    cr_assert_eq(wr_crc32c(0, buf, 32), 0x113fdb5cu);
}

Test(base_crc32c, incremental_equals_whole_and_paths_agree)
{
    size_t n = 1 << 16;
    uint8_t *p = malloc(n);
    srand(7);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
    uint32_t whole = wr_crc32c(0, p, n);
    cr_assert_eq(whole, wr_crc32c_sw(0, p, n));
    for (size_t cut = 0; cut < 40; cut++) {
        uint32_t c = wr_crc32c(0, p, cut);
        cr_assert_eq(wr_crc32c(c, p + cut, n - cut), whole);
        cr_assert_eq(wr_crc32c_sw(0, p + 1, cut), wr_crc32c(0, p + 1, cut)); /* unaligned */
    }
    free(p);
}
