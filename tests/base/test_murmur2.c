/* Unit tests for src/base/murmur2.c: the vectors of apache/kafka UtilsTest.testMurmur2. */
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/murmur2.h"

Test(base_murmur2, kafka_test_vectors)
{
    static const struct {
        const char *key;
        int32_t hash;
    } v[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        cr_assert_eq(wr_murmur2(v[i].key, strlen(v[i].key)), v[i].hash, "key %s", v[i].key);
}

Test(base_murmur2, partition_is_positive_hash_mod_n)
{
    /* -973932308 & 0x7fffffff = 1173551340; 1173551340 % 6 = 0 */
    cr_assert_eq(wr_murmur2_partition("21", 2, 6), 1173551340 % 6);
    for (int n = 1; n < 50; n++) {
        int32_t p = wr_murmur2_partition("foobar", 6, n);
        cr_assert(p >= 0 && p < n);
    }
    cr_assert_eq(wr_murmur2(NULL, 0), wr_murmur2("", 0));
}
