/*
 * testutil.h - small helpers shared by the criterion suites (header only).
 */
#ifndef WR_TESTS_TESTUTIL_H
#define WR_TESTS_TESTUTIL_H

#include <dirent.h>
#include <stdint.h>
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

/* Calls fn(arg, name, data, len) for every file of dir not starting with '.', with its bytes
   (NUL-terminated, writable, freed after the call). Returns the number of files; fails the test
   when dir cannot be read. */
static inline int
wr_test_each_file(const char *dir,
                  void (*fn)(void *arg, const char *name, uint8_t *data, size_t len),
                  void *arg)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        char *p = wr_test_slurp(path, &len);
        fn(arg, de->d_name, (uint8_t *)p, len);
        free(p);
        files++;
    }
    closedir(d);
    return files;
}

#endif
