/*
 * clock: the one time base of a freshcam process, CLOCK_MONOTONIC in nanoseconds.
 *
 * Every duration freshcam measures is taken from this clock on one host. Readings of the two hosts'
 * clocks are compared only through the offset interval the exchanges prove (common/offset.h), never
 * directly (docs/DESIGN.md, "The handshake and the age bound"). Thread-safe.
 */
#ifndef FC_CLOCK_H
#define FC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define FC_NS_PER_MS 1000000ull
#define FC_NS_PER_S  1000000000ull

/* Nanoseconds since an arbitrary fixed point (boot), never going backwards. */
uint64_t fc_clock_now_ns(void);

/* CLOCK_REALTIME in nanoseconds since 1970: the wall clock, which may jump. Used only where the
 * user vouches that the hosts' wall clocks agree (viewer --clock synced). */
uint64_t fc_clock_real_ns(void);

/* The most the monotonic clock may move while fc_clock_pair reads the wall clock. */
#define FC_CLOCK_PAIR_SLACK_NS 20000ull
#define FC_CLOCK_PAIR_TRIES    4

/* Both clocks at one moment: *mono, and *real read no more than FC_CLOCK_PAIR_SLACK_NS after it
 * (a reading between two monotonic ones that close, tried FC_CLOCK_PAIR_TRIES times). A thread
 * preempted between two plain readings pairs them tens of ms apart on a loaded machine, and a
 * viewer trusting synced wall clocks would take that for the clocks' offset. False when no try
 * was that close: *real is then 0 ("not known"), *mono a fresh reading. */
bool fc_clock_pair(uint64_t *mono, uint64_t *real);

/* Sleeps until the monotonic clock reaches deadline_ns (returns at once if it has). */
void fc_clock_sleep_until(uint64_t deadline_ns);

/* Milliseconds from now until deadline_ns, clamped to [0, INT32_MAX]: a poll() timeout. */
int fc_clock_ms_until(uint64_t deadline_ns);

#endif
