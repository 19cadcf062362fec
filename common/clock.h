/*
 * clock: the one time base of a freshcam process, CLOCK_MONOTONIC in nanoseconds.
 *
 * Every duration freshcam measures is taken from this clock on one host. Readings of the two hosts'
 * clocks are compared only through the offset interval the exchanges prove (common/offset.h), never
 * directly (docs/DESIGN.md, "The handshake and the age bound"). Thread-safe.
 */
#ifndef FC_CLOCK_H
#define FC_CLOCK_H

#include <stdint.h>

#define FC_NS_PER_MS 1000000ull
#define FC_NS_PER_S  1000000000ull

/* Nanoseconds since an arbitrary fixed point (boot), never going backwards. */
uint64_t fc_clock_now_ns(void);

/* CLOCK_REALTIME in nanoseconds since 1970: the wall clock, which may jump. Used only where the
 * user vouches that the hosts' wall clocks agree (viewer --clock synced). */
uint64_t fc_clock_real_ns(void);

/* Sleeps until the monotonic clock reaches deadline_ns (returns at once if it has). */
void fc_clock_sleep_until(uint64_t deadline_ns);

/* Milliseconds from now until deadline_ns, clamped to [0, INT32_MAX]: a poll() timeout. */
int fc_clock_ms_until(uint64_t deadline_ns);

#endif
