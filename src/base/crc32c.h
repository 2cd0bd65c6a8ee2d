/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka record batch v2.
 *
 * wr_crc32c uses ISA-L's crc32_iscsi (runtime-dispatched SSE4.2/PCLMUL/AVX-512) when weir is
 * built with libisal, else a slice-by-8 table; wr_crc32c_sw is always the table version, kept for
 * cross-checks. Both take and return the standard (non-inverted) CRC value, so
 * wr_crc32c(wr_crc32c(0, a, n), b, m) == wr_crc32c(0, ab, n + m). Thread-safe.
 */
#ifndef WR_SRC_BASE_CRC32C_H
#define WR_SRC_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t wr_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t wr_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* Name of the implementation wr_crc32c uses ("isa-l" or "table"), for logs and benchmarks. */
const char *wr_crc32c_impl(void);

#endif
