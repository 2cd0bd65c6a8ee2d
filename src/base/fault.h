/*
 * fault.h - fault injection hooks at allocation and I/O sites (SQLite's sqlite3FaultSim).
 *
 * wr_fault_sim(site) returns true when a test asked that site to fail. Production builds pay one
 * relaxed atomic load per call. Tests arm a site with wr_fault_arm(site, after, count): the next
 * `after` calls pass, then `count` calls fail (count < 0: fail forever).
 * The environment variable WEIR_FAULT="site:after:count[,...]" arms sites in a child process,
 * which is how integration tests simulate a full disk in the real binary.
 *
 * The kill.* sites are crash points: wr_fault_kill(site) stops the process with SIGKILL there
 * (no clean-up, as a crash or an OOM kill would), at moments an outside kill would hit only by
 * luck: between a transaction's markers, after EndTxn and before the state store's write, in
 * the middle of a changelog restore. Tests arm them through WEIR_FAULT and restart the binary.
 */
#ifndef WR_SRC_BASE_FAULT_H
#define WR_SRC_BASE_FAULT_H

#include <stdbool.h>

#define WR_FAULT_LIST(X)                                                                         \
    X(ALLOC, "alloc")                                                                            \
    X(WRITE, "write")                                                                            \
    X(FSYNC, "fsync")                                                                            \
    X(ENOSPC, "enospc")                                                                          \
    X(READ, "read")                                                                              \
    /* crash points (wr_fault_kill) */                                                           \
    X(KILL_APPEND, "kill.append")         /* a log append written, before its fsync */           \
    X(KILL_MARKER, "kill.marker")         /* before each transaction marker */                   \
    X(KILL_COMPLETE, "kill.complete")     /* markers written, Complete state not yet */          \
    X(KILL_COMMIT_LOG, "kill.commit.log") /* a task's changelog in its transaction, no EndTxn */ \
    X(KILL_COMMIT_STATE, "kill.commit.state") /* EndTxn done, the store not yet written */       \
    X(KILL_RESTORE, "kill.restore")           /* a changelog read restored, not yet written */

typedef enum wr_fault_site {
#define WR_X_(name, text) WR_FAULT_##name,
    WR_FAULT_LIST(WR_X_)
#undef WR_X_
        WR_FAULT__COUNT
} wr_fault_site;

extern int wr_fault_armed_; /* non-zero when any site is armed */

bool wr_fault_sim_slow(wr_fault_site site);

static inline bool
wr_fault_sim(wr_fault_site site)
{
    return __atomic_load_n(&wr_fault_armed_, __ATOMIC_RELAXED) && wr_fault_sim_slow(site);
}

void wr_fault_kill_now(wr_fault_site site);

/* A crash point: when site is armed and due, the process stops here with SIGKILL. */
static inline void
wr_fault_kill(wr_fault_site site)
{
    if (wr_fault_sim(site))
        wr_fault_kill_now(site);
}

/* Arms site: pass `after` calls, then fail `count` calls (negative: forever). */
void wr_fault_arm(wr_fault_site site, long after, long count);

/* Disarms every site. */
void wr_fault_reset(void);

/* Arms sites from a spec "site:after:count[,...]"; returns WR_OK or WR_EINVAL. */
int wr_fault_parse(const char *spec);

#endif
