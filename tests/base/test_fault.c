/* Unit tests for src/base/fault.c. */
#include <criterion/criterion.h>

#include "src/base/fault.h"

Test(base_fault, arm_after_count)
{
    cr_assert(!wr_fault_sim(WR_FAULT_WRITE));
    wr_fault_arm(WR_FAULT_WRITE, 2, 2);
    cr_assert(!wr_fault_sim(WR_FAULT_WRITE));
    cr_assert(!wr_fault_sim(WR_FAULT_WRITE));
    cr_assert(wr_fault_sim(WR_FAULT_WRITE));
    cr_assert(!wr_fault_sim(WR_FAULT_FSYNC)); /* other sites untouched */
    cr_assert(wr_fault_sim(WR_FAULT_WRITE));
    cr_assert(!wr_fault_sim(WR_FAULT_WRITE));
    wr_fault_reset();
}

Test(base_fault, parse_spec)
{
    cr_assert_eq(wr_fault_parse("enospc:1:-1,fsync:0:1"), 0);
    cr_assert(!wr_fault_sim(WR_FAULT_ENOSPC));
    cr_assert(wr_fault_sim(WR_FAULT_ENOSPC));
    cr_assert(wr_fault_sim(WR_FAULT_ENOSPC));
    cr_assert(wr_fault_sim(WR_FAULT_FSYNC));
    cr_assert(!wr_fault_sim(WR_FAULT_FSYNC));
    wr_fault_reset();
    cr_assert_neq(wr_fault_parse("nosuch:1:1"), 0);
    cr_assert_neq(wr_fault_parse("write:x:1"), 0);
    wr_fault_reset();
}
