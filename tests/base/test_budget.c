/* Unit tests for src/base/budget.c. */
#include <criterion/criterion.h>

#include "src/base/budget.h"

typedef struct tw {
    wr_budget_waiter w; /* first member */
    int granted;
} tw;

static void
on_granted(wr_budget_waiter *w)
{
    ((tw *)w)->granted++;
}

static void
tw_init(tw *t)
{
    *t = (tw){.w = {.granted = on_granted}};
}

#define MB (1u << 20)

Test(base_budget, classes_follow_the_limit)
{
    wr_budget b;
    wr_budget_init(&b, 64 * MB);
    cr_assert_eq(b.reserve, 8 * MB);
    cr_assert_eq(b.small_max, 1 * MB);
    wr_budget_init(&b, 16 * MB);
    cr_assert_eq(b.reserve, 2 * MB);
    cr_assert_eq(b.small_max, 256u << 10);
}

Test(base_budget, a_large_take_waits_until_released_in_fifo_order)
{
    wr_budget b;
    wr_budget_init(&b, 64 * MB); /* large ones may use 56 MB */
    tw a, c, d;
    tw_init(&a);
    tw_init(&c);
    tw_init(&d);
    cr_assert(wr_budget_take(&b, &a.w, 40 * MB));
    cr_assert_not(wr_budget_take(&b, &c.w, 20 * MB)); /* 60 > 56 */
    cr_assert_not(wr_budget_take(&b, &d.w, 2 * MB));  /* fits, but c waits before it */
    cr_assert(c.w.waiting && d.w.waiting);
    wr_budget_release(&b, 40 * MB);
    cr_assert_eq(c.granted, 1);
    cr_assert_eq(d.granted, 1);
    cr_assert_eq(b.used, 22 * MB);
    cr_assert_not(c.w.waiting || d.w.waiting);
    wr_budget_release(&b, 20 * MB);
    wr_budget_release(&b, 2 * MB);
    cr_assert_eq(b.used, 0);
    cr_assert_eq(b.used_large, 0);
}

Test(base_budget, a_take_larger_than_the_budget_is_granted_alone)
{
    wr_budget b;
    wr_budget_init(&b, 16 * MB);
    tw a, c;
    tw_init(&a);
    tw_init(&c);
    cr_assert(wr_budget_take(&b, &a.w, 100 * MB));
    cr_assert_not(wr_budget_take(&b, &c.w, 100 * MB));
    wr_budget_release(&b, 100 * MB);
    cr_assert_eq(c.granted, 1);
}

Test(base_budget, small_takes_pass_waiting_large_ones_and_use_the_reserve)
{
    wr_budget b;
    wr_budget_init(&b, 64 * MB);
    tw big1, big2, s1, s2;
    tw_init(&big1);
    tw_init(&big2);
    tw_init(&s1);
    tw_init(&s2);
    cr_assert(wr_budget_take(&b, &big1.w, 56 * MB));
    cr_assert_not(wr_budget_take(&b, &big2.w, 10 * MB));
    /* the reserve is for small requests: a held large take cannot starve them */
    cr_assert(wr_budget_take(&b, &s1.w, 1 * MB));
    for (int i = 0; i < 6; i++) {
        tw t;
        tw_init(&t);
        cr_assert(wr_budget_take(&b, &t.w, 1 * MB));
    }
    cr_assert_eq(b.used, 63 * MB);
    cr_assert(wr_budget_take(&b, &s2.w, 1 * MB)); /* exactly the limit */
    tw s3;
    tw_init(&s3);
    cr_assert_not(wr_budget_take(&b, &s3.w, 1));
    wr_budget_release(&b, 1 * MB);
    cr_assert_eq(s3.granted, 1);     /* small: fits under the limit again */
    cr_assert_eq(big2.granted, 0); /* large: still waits for the large share */
    wr_budget_cancel(&b, &big2.w);
    cr_assert_not(big2.w.waiting);
    cr_assert_null(b.head);
}

Test(base_budget, forced_bytes_count_and_cancel_lets_the_next_one_go)
{
    wr_budget b;
    wr_budget_init(&b, 16 * MB);
    tw a, c, d;
    tw_init(&a);
    tw_init(&c);
    tw_init(&d);
    wr_budget_force(&b, 13 * MB);
    cr_assert(wr_budget_take(&b, &a.w, 1 * MB)); /* no large held: granted alone */
    cr_assert_not(wr_budget_take(&b, &c.w, 8 * MB));
    cr_assert_not(wr_budget_take(&b, &d.w, 1 * MB));
    wr_budget_unforce(&b, 13 * MB);
    cr_assert_eq(c.granted, 1); /* 1 + 8 <= 14 */
    cr_assert_eq(d.granted, 1);
    wr_budget_release(&b, 1 * MB);
    wr_budget_release(&b, 8 * MB);
    wr_budget_release(&b, 1 * MB);
    cr_assert_eq(b.used, 0);
}

Test(base_budget, zero_means_unlimited)
{
    wr_budget b;
    wr_budget_init(&b, 0);
    tw a;
    tw_init(&a);
    for (int i = 0; i < 100; i++)
        cr_assert(wr_budget_take(&b, &a.w, 1000 * MB));
}
