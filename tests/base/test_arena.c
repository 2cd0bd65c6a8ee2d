/* Unit tests for src/base/arena.c. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/arena.h"
#include "src/base/fault.h"

Test(base_arena, allocations_are_aligned_and_distinct)
{
    wr_arena *a = wr_arena_create(256);
    cr_assert_not_null(a);
    char *prev = NULL;
    for (int i = 1; i < 500; i++) {
        char *p = wr_arena_alloc(a, (size_t)(i % 37) + 1);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, (size_t)(i % 37) + 1); /* ASan catches overlap or overflow */
        cr_assert_neq(p, prev);
        prev = p;
    }
    wr_arena_destroy(a);
}

Test(base_arena, big_allocation_gets_its_own_block_and_keeps_current)
{
    wr_arena *a = wr_arena_create(1024);
    char *small1 = wr_arena_alloc(a, 16);
    char *big = wr_arena_alloc(a, 100000);
    char *small2 = wr_arena_alloc(a, 16);
    cr_assert(small1 && big && small2);
    memset(big, 1, 100000);
    /* the small ones share the first block */
    cr_assert_lt((size_t)(small2 - small1), 1024);
    cr_assert_eq(wr_arena_used(a), 100032);
    wr_arena_destroy(a);
}

static int cleanup_order[4], cleanup_n;
static void
record_cleanup(void *arg)
{
    cleanup_order[cleanup_n++] = (int)(intptr_t)arg;
}

Test(base_arena, cleanups_run_in_reverse_on_reset_and_destroy)
{
    wr_arena *a = wr_arena_create(0);
    cleanup_n = 0;
    cr_assert_eq(wr_arena_cleanup_add(a, record_cleanup, (void *)1), 0);
    cr_assert_eq(wr_arena_cleanup_add(a, record_cleanup, (void *)2), 0);
    wr_arena_reset(a);
    cr_assert_eq(cleanup_n, 2);
    cr_assert_eq(cleanup_order[0], 2);
    cr_assert_eq(cleanup_order[1], 1);
    cr_assert_eq(wr_arena_used(a), 0);
    cr_assert_not_null(wr_arena_alloc(a, 10));
    wr_arena_cleanup_add(a, record_cleanup, (void *)3);
    wr_arena_destroy(a);
    cr_assert_eq(cleanup_n, 3);
    cr_assert_eq(cleanup_order[2], 3);
    wr_arena_destroy(NULL);
}

Test(base_arena, strings_and_printf)
{
    wr_arena *a = wr_arena_create(64);
    cr_assert_str_eq(wr_arena_strdup(a, "hello"), "hello");
    cr_assert_str_eq(wr_arena_strndup(a, "hello", 3), "hel");
    cr_assert_str_eq(wr_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    int *z = wr_arena_calloc(a, 10, sizeof(int));
    for (int i = 0; i < 10; i++)
        cr_assert_eq(z[i], 0);
    cr_assert_null(wr_arena_calloc(a, SIZE_MAX / 2, 4));
    wr_arena_destroy(a);
}

Test(base_arena, allocation_failure_returns_null)
{
    wr_arena *a = wr_arena_create(64);
    wr_fault_arm(WR_FAULT_ALLOC, 0, 1);
    cr_assert_null(wr_arena_alloc(a, 8));
    wr_fault_reset();
    cr_assert_not_null(wr_arena_alloc(a, 8));
    wr_arena_destroy(a);
}
