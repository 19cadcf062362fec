#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/*
 * Bucket layout: values below FC_HIST_SUB have a bucket each. A value v >= FC_HIST_SUB with its
 * top bit at position e (2^e <= v < 2^(e+1)) falls in one of FC_HIST_SUB equal sub-buckets of
 * [2^e, 2^(e+1)), each 2^(e - SUB_BITS) wide, so a bucket is never wider than 1/FC_HIST_SUB of
 * the values in it. The largest value (e = 63) lands at index
 * (64 - SUB_BITS + 1) * FC_HIST_SUB - 1 = 3775, well inside FC_HIST_BUCKETS.
 */
#define SUB_BITS 6

_Static_assert(FC_HIST_SUB == 1 << SUB_BITS, "FC_HIST_SUB must be 2^SUB_BITS");
_Static_assert((64 - SUB_BITS + 1) * FC_HIST_SUB <= FC_HIST_BUCKETS, "buckets must cover 2^64");

static int bucket_of(uint64_t v)
{
	int e;

	if (v < FC_HIST_SUB)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	return (e - SUB_BITS + 1) * FC_HIST_SUB + (int)((v >> (e - SUB_BITS)) - FC_HIST_SUB);
}

/* The middle of a bucket's range, the value that is least wrong for any sample in it. */
static uint64_t bucket_value(int i)
{
	int e;
	uint64_t lo;
	uint64_t width;

	if (i < FC_HIST_SUB)
		return (uint64_t)i;
	e = i / FC_HIST_SUB + SUB_BITS - 1;
	width = 1ull << (e - SUB_BITS);
	lo = (1ull << e) + (uint64_t)(i % FC_HIST_SUB) * width;
	return lo + (width - 1) / 2;
}

void fc_hist_reset(struct fc_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void fc_hist_add(struct fc_hist *h, uint64_t value)
{
	h->count++;
	h->sum += value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->bucket[bucket_of(value)]++;
}

void fc_hist_merge(struct fc_hist *dst, const struct fc_hist *src)
{
	if (src->count == 0)
		return;
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (int i = 0; i < FC_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t fc_hist_quantile(const struct fc_hist *h, double q)
{
	uint64_t rank;
	uint64_t seen = 0;
	double r;

	if (h->count == 0)
		return 0;
	if (!(q > 0.0)) /* also catches NaN */
		return h->min;
	if (q >= 1.0)
		return h->max;
	/* Nearest rank: the smallest value with at least ceil(q * count) samples at or below it. */
	r = ceil(q * (double)h->count);
	rank = r < 1.0 ? 1 : (uint64_t)r;
	if (rank > h->count)
		rank = h->count;
	for (int i = 0; i < FC_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = bucket_value(i);

			if (v < h->min)
				return h->min;
			return v > h->max ? h->max : v;
		}
	}
	return h->max; /* only if the buckets disagree with count (a bucket wrapped) */
}

double fc_hist_mean(const struct fc_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void fc_meter_init(struct fc_meter *m, uint64_t now_ns)
{
	m->total = 0;
	m->mark = 0;
	m->mark_ns = now_ns;
}

double fc_meter_rate(struct fc_meter *m, uint64_t now_ns)
{
	double rate;

	/* With no time elapsed there is no rate; keeping the mark keeps the events for the next
	 * call instead of dropping them. */
	if (now_ns <= m->mark_ns)
		return 0.0;
	rate = (double)(m->total - m->mark) * 1e9 / (double)(now_ns - m->mark_ns);
	m->mark = m->total;
	m->mark_ns = now_ns;
	return rate;
}
