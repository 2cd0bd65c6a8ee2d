/*
 * test_corpus.c - replays the fuzz seed corpus (real captured requests) and mutated copies of it
 * (every truncation, and single-byte flips) through the request decoder in the normal build,
 * checking the fuzz target's property. The corpus directory comes from WR_KAFKA_CORPUS.
 */
#include <dirent.h>
#include <stdio.h>

#include <criterion/criterion.h>

#include "fuzz_kproto_body.h"
#include "tests/testutil.h"

Test(kafka_corpus, replay_and_mutate)
{
    DIR *d = opendir(WR_KAFKA_CORPUS);
    cr_assert_not_null(d, "corpus %s", WR_KAFKA_CORPUS);
    int files = 0, decoded_keys[64] = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", WR_KAFKA_CORPUS, de->d_name);
        size_t len;
        uint8_t *p = (uint8_t *)wr_test_slurp(path, &len);
        cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s", de->d_name);
        if (len >= 2 && p[0] == 0 && p[1] < 64)
            decoded_keys[p[1]]++;
        for (size_t n = 0; n < len; n++)
            cr_assert_eq(wr_kfuzz_one(p, n), 0, "%s truncated at %zu", de->d_name, n);
        for (size_t i = 0; i < len; i++) {
            uint8_t saved = p[i];
            p[i] ^= (uint8_t)(0x80 >> (i % 8));
            cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s flipped at %zu", de->d_name, i);
            p[i] = 0xff;
            cr_assert_eq(wr_kfuzz_one(p, len), 0, "%s 0xff at %zu", de->d_name, i);
            p[i] = saved;
        }
        free(p);
        files++;
    }
    closedir(d);
    cr_assert_geq(files, 10, "corpus too small: %d files", files);
    cr_assert_gt(decoded_keys[0], 0, "no Produce request in the corpus");
    cr_assert_gt(decoded_keys[18], 0, "no ApiVersions request in the corpus");
}
