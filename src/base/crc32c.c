/*
 * crc32c.c - CRC-32C. See crc32c.h.
 *
 * The table is built once, lazily and idempotently (every thread computes the same bytes, so a
 * benign race writes identical values; pthread_once makes that explicit).
 */
#include "src/base/crc32c.h"

#include <limits.h>
#include <pthread.h>

#ifdef WR_HAVE_ISAL
#    include <isa-l/crc.h>
#endif

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t
wr_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&table_once, table_init);
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return ~c;
}

uint32_t
wr_crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef WR_HAVE_ISAL
    /* crc32_iscsi takes an int length and a non-const pointer; feed it in safe chunks. */
    unsigned char *p = (unsigned char *)(uintptr_t)buf;
    uint32_t c = ~crc;
    while (len > 0) {
        int n = len > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)len;
        c = crc32_iscsi(p, n, c);
        p += n;
        len -= (size_t)n;
    }
    return ~c;
#else
    return wr_crc32c_sw(crc, buf, len);
#endif
}

const char *
wr_crc32c_impl(void)
{
#ifdef WR_HAVE_ISAL
    return "isa-l";
#else
    return "table";
#endif
}
