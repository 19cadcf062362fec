/*
 * stats: bounded-memory statistics for the per-second console lines and the exit summaries.
 *
 * fc_hist is a log-linear histogram of non-negative integers (nanoseconds, bytes): exact below
 * FC_HIST_SUB, otherwise within 1/FC_HIST_SUB (1.6%) of the true value, with exact count, sum,
 * min and max. Its size is fixed, so an hour-long stream costs what a second costs. A reporter
 * keeps one histogram per interval (reset each second) and one for the whole run (merged into).
 *
 * fc_meter turns an event counter into a rate over the time since it was last read.
 *
 * Not thread-safe: the owner of a struct serialises access (the programs keep them behind the
 * same small lock as the counters they sit with, and copy them out to compute).
 */
#ifndef FC_STATS_H
#define FC_STATS_H

#include <stdint.h>

#define FC_HIST_SUB	64
#define FC_HIST_BUCKETS (64 * FC_HIST_SUB)

struct fc_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min; /* UINT64_MAX while empty */
	uint64_t max;
	uint32_t bucket[FC_HIST_BUCKETS];
};

void fc_hist_reset(struct fc_hist *h);
void fc_hist_add(struct fc_hist *h, uint64_t value);
void fc_hist_merge(struct fc_hist *dst, const struct fc_hist *src);

/* The value below which a fraction q (0..1) of the samples lie (nearest rank: the smallest value
 * with at least ceil(q * count) samples at or below it), as the middle of its bucket clamped to
 * [min, max]; q <= 0 gives min, q >= 1 gives max, exactly. 0 when empty. */
uint64_t fc_hist_quantile(const struct fc_hist *h, double q);

/* Mean of the samples, 0 when empty. */
double fc_hist_mean(const struct fc_hist *h);

struct fc_meter {
	uint64_t total;	  /* events counted so far (the owner adds to it) */
	uint64_t mark;	  /* total at the last fc_meter_rate */
	uint64_t mark_ns; /* time of the last fc_meter_rate (or of fc_meter_init) */
};

void fc_meter_init(struct fc_meter *m, uint64_t now_ns);

/* Events per second since the last call (or init), and moves the mark to now. When no time has
 * passed it returns 0 and leaves the mark, so those events count in the next call's rate. */
double fc_meter_rate(struct fc_meter *m, uint64_t now_ns);

#endif
