/*
 * murmur2.h - Kafka's default partitioner hash (org.apache.kafka.common.utils.Utils.murmur2).
 *
 * Must match Java byte for byte: seed 0x9747b28c, signed 32-bit result. The partition for a keyed
 * record is (murmur2(key) & 0x7fffffff) % partitions, over the serialized key bytes.
 */
#ifndef WR_SRC_BASE_MURMUR2_H
#define WR_SRC_BASE_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

int32_t wr_murmur2(const void *key, size_t len);

/* Kafka's partition for a non-null key; partitions must be > 0. */
int32_t wr_murmur2_partition(const void *key, size_t len, int32_t partitions);

#endif
