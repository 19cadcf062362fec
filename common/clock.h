/*
 * clock: the one time base of a freshcam process, CLOCK_MONOTONIC in nanoseconds.
 *
 * Every timestamp freshcam compares is taken from this clock on one host; no value of it is ever
 * compared with another host's (docs/DESIGN.md, "The handshake and the age bound"). Thread-safe.
 */
#ifndef FC_CLOCK_H
#define FC_CLOCK_H

#include <stdint.h>

#define FC_NS_PER_MS 1000000ull
#define FC_NS_PER_S  1000000000ull

/* Nanoseconds since an arbitrary fixed point (boot), never going backwards. */
uint64_t fc_clock_now_ns(void);

/* Sleeps until the monotonic clock reaches deadline_ns (returns at once if it has). */
void fc_clock_sleep_until(uint64_t deadline_ns);

/* Milliseconds from now until deadline_ns, clamped to [0, INT32_MAX]: a poll() timeout. */
int fc_clock_ms_until(uint64_t deadline_ns);

#endif
