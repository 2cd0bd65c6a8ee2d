/*
 * fuzz_kproto.c - libFuzzer target for the Kafka request decoder (meson -Dfuzz=true, clang):
 *   build/tests/kafka/fuzz_kproto tests/kafka/corpus
 * The seed corpus holds request frames captured from kcat, librdkafka and confluent-kafka.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_kproto_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (wr_kfuzz_one(data, size) != 0)
        abort();
    return 0;
}
