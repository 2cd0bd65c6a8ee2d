/* Unit tests for src/base/fault.c: arming, the WEIR_FAULT spec, and the kill.* crash points. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* How a child ended after calling the crash point `calls` times with it armed by spec. */
static int
kill_child(const char *spec, int calls)
{
    pid_t pid = fork();
    if (pid == 0) { /* no criterion assertion here: the child is not the runner's */
        if (wr_fault_parse(spec) != 0)
            _exit(2);
        for (int i = 0; i < calls; i++)
            wr_fault_kill(WR_FAULT_KILL_COMMIT_STATE);
        _exit(0);
    }
    cr_assert_neq(pid, -1);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
}

Test(base_fault, a_crash_point_kills_the_process_when_due)
{
    cr_assert_eq(kill_child("kill.commit.state:2:1", 2), 0, "two calls pass");
    cr_assert_eq(kill_child("kill.commit.state:2:1", 3), -SIGKILL, "the third is killed");
    cr_assert_eq(kill_child("kill.restore:0:1", 5), 0, "another crash point stays quiet");
    cr_assert_eq(kill_child("kill.nothing:0:1", 1), 2, "an unknown site is refused");
}
