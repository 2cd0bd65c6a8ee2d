/*
 * testutil.h - small helpers shared by the criterion suites (header only).
 */
#ifndef WR_TESTS_TESTUTIL_H
#define WR_TESTS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

/* The whole file at path, NUL-terminated (malloc'd; the caller frees); fails the test when it
   cannot be read. */
static inline char *
wr_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(n > 0 ? (size_t)n + 1 : 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n > 0 ? n : 0] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

#endif
