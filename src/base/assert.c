/*
 * assert.c - the failure path of WR_ASSERT. See assert.h.
 */
#include "src/base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void
wr_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "weir: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}
