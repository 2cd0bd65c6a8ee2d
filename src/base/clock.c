/*
 * clock.c - see clock.h.
 */
#include "src/base/clock.h"

#include <stdbool.h>
#include <time.h>

static bool fake_on;
static int64_t fake_mono_ns, fake_wall_ms;

int64_t
wr_clock_mono_ns(void)
{
    if (__atomic_load_n(&fake_on, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&fake_mono_ns, __ATOMIC_RELAXED);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
wr_clock_wall_ms(void)
{
    if (__atomic_load_n(&fake_on, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&fake_wall_ms, __ATOMIC_RELAXED);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wr_clock_fake(int64_t mono_ns, int64_t wall_ms)
{
    __atomic_store_n(&fake_mono_ns, mono_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&fake_wall_ms, wall_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&fake_on, true, __ATOMIC_RELEASE);
}

void
wr_clock_advance_ms(int64_t ms)
{
    __atomic_add_fetch(&fake_mono_ns, ms * 1000000, __ATOMIC_RELAXED);
    __atomic_add_fetch(&fake_wall_ms, ms, __ATOMIC_RELAXED);
}

void
wr_clock_fake_clear(void)
{
    __atomic_store_n(&fake_on, false, __ATOMIC_RELEASE);
}
