/*
 * murmur2.c - Kafka murmur2. See murmur2.h. Arithmetic is done on uint32_t, which wraps exactly
 * like Java's int; the tail switch falls through as in Utils.java.
 */
#include "src/base/murmur2.h"

int32_t
wr_murmur2(const void *key, size_t len)
{
    const uint8_t *data = key;
    const uint32_t seed = 0x9747b28cu, m = 0x5bd1e995u;
    const int r = 24;
    uint32_t h = seed ^ (uint32_t)len;
    size_t len4 = len / 4;
    for (size_t i = 0; i < len4; i++) {
        size_t i4 = i * 4;
        uint32_t k = (uint32_t)data[i4] | (uint32_t)data[i4 + 1] << 8 |
                     (uint32_t)data[i4 + 2] << 16 | (uint32_t)data[i4 + 3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    size_t tail = len4 * 4;
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)data[tail + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)data[tail + 1] << 8;
        /* fall through */
    case 1:
        h ^= data[tail];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t
wr_murmur2_partition(const void *key, size_t len, int32_t partitions)
{
    return (int32_t)(((uint32_t)wr_murmur2(key, len) & 0x7fffffffu) % (uint32_t)partitions);
}
