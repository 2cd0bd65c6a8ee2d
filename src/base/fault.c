/*
 * fault.c - fault injection state. See fault.h. Thread-safe: counters are atomics.
 */
#include "src/base/fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/err.h"

int wr_fault_armed_;

static struct {
    long after; /* calls left that pass */
    long count; /* calls left that fail; <0 forever; 0 disarmed */
} sites[WR_FAULT__COUNT];

static const char *const site_names[] = {
#define WR_X_(name, text) text,
    WR_FAULT_LIST(WR_X_)
#undef WR_X_
};

bool
wr_fault_sim_slow(wr_fault_site site)
{
    if (__atomic_load_n(&sites[site].count, __ATOMIC_RELAXED) == 0)
        return false;
    if (__atomic_load_n(&sites[site].after, __ATOMIC_RELAXED) > 0 &&
        __atomic_sub_fetch(&sites[site].after, 1, __ATOMIC_RELAXED) >= 0)
        return false;
    long c = __atomic_load_n(&sites[site].count, __ATOMIC_RELAXED);
    if (c < 0)
        return true;
    return c > 0 && __atomic_sub_fetch(&sites[site].count, 1, __ATOMIC_RELAXED) >= 0;
}

void
wr_fault_kill_now(wr_fault_site site)
{
    /* one write(2): nothing that could block or allocate on the way down */
    char line[96];
    int n = snprintf(line, sizeof line, "weir: fault site %s: killing the process\n",
                     site_names[site]);
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n);
    raise(SIGKILL);
    _exit(137); /* not reached */
}

void
wr_fault_arm(wr_fault_site site, long after, long count)
{
    __atomic_store_n(&sites[site].after, after, __ATOMIC_RELAXED);
    __atomic_store_n(&sites[site].count, count, __ATOMIC_RELAXED);
    __atomic_store_n(&wr_fault_armed_, 1, __ATOMIC_RELEASE);
}

void
wr_fault_reset(void)
{
    for (int i = 0; i < WR_FAULT__COUNT; i++)
        wr_fault_arm((wr_fault_site)i, 0, 0);
    __atomic_store_n(&wr_fault_armed_, 0, __ATOMIC_RELEASE);
}

int
wr_fault_parse(const char *spec)
{
    const char *p = spec;
    while (*p != '\0') {
        const char *colon = strchr(p, ':');
        if (colon == NULL)
            return WR_EINVAL;
        int site = -1;
        for (int i = 0; i < WR_FAULT__COUNT; i++)
            if (strlen(site_names[i]) == (size_t)(colon - p) &&
                strncmp(site_names[i], p, (size_t)(colon - p)) == 0)
                site = i;
        if (site < 0)
            return WR_EINVAL;
        char *end;
        long after = strtol(colon + 1, &end, 10);
        if (*end != ':')
            return WR_EINVAL;
        long count = strtol(end + 1, &end, 10);
        if (*end != '\0' && *end != ',')
            return WR_EINVAL;
        wr_fault_arm((wr_fault_site)site, after, count);
        p = *end == ',' ? end + 1 : end;
    }
    return WR_OK;
}
