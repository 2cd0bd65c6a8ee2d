/*
 * hash.h - FNV-1a 64, the hash of weir's in-memory hash tables over byte strings (a state
 * transaction's per-key writes, the aggregation row cache, the compaction key map). Not for
 * anything persisted or sent: those use CRC-32C or Kafka's murmur2.
 */
#ifndef WR_SRC_BASE_HASH_H
#define WR_SRC_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
wr_fnv1a64(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

#endif
