/*
 * clock.h - monotonic and wall clocks that tests can fake.
 *
 * Production code asks wr_clock_mono_ns() for intervals (timeouts, ages) and wr_clock_wall_ms()
 * for timestamps (record times, retention.ms). A test installs a fake with wr_clock_fake(), after
 * which both return the fake's values until wr_clock_fake_clear(). Thread-safe (atomics).
 */
#ifndef WR_SRC_BASE_CLOCK_H
#define WR_SRC_BASE_CLOCK_H

#include <stdint.h>

int64_t wr_clock_mono_ns(void);
int64_t wr_clock_wall_ms(void);

/* Installs a fake clock with the given starting values. */
void wr_clock_fake(int64_t mono_ns, int64_t wall_ms);

/* Advances the fake clock by ms milliseconds (both clocks). No-op without a fake. */
void wr_clock_advance_ms(int64_t ms);

void wr_clock_fake_clear(void);

#endif
