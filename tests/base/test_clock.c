/* Unit tests for src/base/clock.c. */
#include <criterion/criterion.h>

#include "src/base/clock.h"

Test(base_clock, real_clocks_move_forward)
{
    int64_t a = wr_clock_mono_ns(), b = wr_clock_mono_ns();
    cr_assert_geq(b, a);
    cr_assert_gt(wr_clock_wall_ms(), 1700000000000LL);
}

Test(base_clock, fake_clock_is_controlled_by_the_test)
{
    wr_clock_fake(1000, 5000);
    cr_assert_eq(wr_clock_mono_ns(), 1000);
    cr_assert_eq(wr_clock_wall_ms(), 5000);
    wr_clock_advance_ms(250);
    cr_assert_eq(wr_clock_mono_ns(), 1000 + 250 * 1000000LL);
    cr_assert_eq(wr_clock_wall_ms(), 5250);
    wr_clock_fake_clear();
    cr_assert_gt(wr_clock_wall_ms(), 1700000000000LL);
}
