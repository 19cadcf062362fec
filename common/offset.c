#include "offset.h"

#include <string.h>

#define PPM_DIV 1000000
/* Times further apart than this (about 115 days) are not compared: the products below stay far
 * from overflowing. */
#define SPAN_MAX 10000000000000000ll

/* FC_OFFSET_DRIFT_PPM of a signed span, rounded down or up: the limits round so as to widen. */
static int64_t drift_floor(int64_t x)
{
	int64_t p = x * FC_OFFSET_DRIFT_PPM;

	return p >= 0 ? p / PPM_DIV : -((-p + PPM_DIV - 1) / PPM_DIV);
}

static int64_t drift_ceil(int64_t x)
{
	return -drift_floor(-x);
}

/* v - epoch as a signed span, false when too far apart to compare. */
static bool since_epoch(const struct fc_offset *o, uint64_t v, int64_t *out)
{
	if (v >= o->epoch ? v - o->epoch > (uint64_t)SPAN_MAX : o->epoch - v > (uint64_t)SPAN_MAX)
		return false;
	*out = v >= o->epoch ? (int64_t)(v - o->epoch) : -(int64_t)(o->epoch - v);
	return true;
}

/* a - b of two clock readings from different hosts, false when it does not fit. */
static bool diff(uint64_t a, uint64_t b, int64_t *out)
{
	if (a >= b ? a - b > (uint64_t)INT64_MAX : b - a > (uint64_t)INT64_MAX)
		return false;
	*out = a >= b ? (int64_t)(a - b) : -(int64_t)(b - a);
	return true;
}

void fc_offset_init(struct fc_offset *o)
{
	memset(o, 0, sizeof(*o));
}

/* The exchange's own limits, expressed against the epoch (see hi_c and lo_c). */
static bool limits(const struct fc_offset *o, uint64_t v0, uint64_t s1, uint64_t s2, uint64_t v3,
		   int64_t *hi_c, int64_t *lo_c)
{
	int64_t hi, lo, at;

	if (!diff(s1, v0, &hi) || !diff(s2, v3, &lo) || !since_epoch(o, v0, &at))
		return false;
	if (hi < INT64_MIN / 2 || hi > INT64_MAX / 2 || lo < INT64_MIN / 2 || lo > INT64_MAX / 2)
		return false;
	/* Each reading is its clock truncated to the nanosecond, so S1 - V0 may understate the
	 * limit by up to 1 ns (and S2 - V3 overstate it): 1 ns each way keeps it a limit. */
	*hi_c = hi + 1 - drift_floor(at);
	*lo_c = lo - 1 + drift_floor(at);
	return true;
}

static bool consistent(const struct fc_offset *o, uint64_t v)
{
	int64_t lo, hi;

	return fc_offset_at(o, v, &lo, &hi) && lo <= hi;
}

enum fc_offset_result fc_offset_add(struct fc_offset *o, uint64_t v0, uint64_t s1, uint64_t s2,
				    uint64_t v3)
{
	struct fc_offset alone = { .have = true, .epoch = v0, .latest = v0 };
	struct fc_offset merged = *o;
	int64_t hi_c, lo_c;

	if (v3 < v0 || s2 < s1)
		return FC_OFFSET_IMPOSSIBLE;
	/* On its own the exchange must be possible: held no longer than the round trip, give or
	 * take the drift over it. */
	if (!limits(&alone, v0, s1, s2, v3, &alone.hi_c, &alone.lo_c) || !consistent(&alone, v3))
		return FC_OFFSET_IMPOSSIBLE;
	alone.exchanges = o->exchanges + 1;
	alone.resets = o->resets;
	if (!o->have) {
		*o = alone;
		return FC_OFFSET_ADDED;
	}
	if (limits(o, v0, s1, s2, v3, &hi_c, &lo_c)) {
		merged.hi_c = hi_c < o->hi_c ? hi_c : o->hi_c;
		merged.lo_c = lo_c > o->lo_c ? lo_c : o->lo_c;
		merged.latest = v0 > o->latest ? v0 : o->latest;
		merged.exchanges++;
		/* v3 is at or after every V0 so far: exchanges are added as their answers arrive. */
		if (consistent(&merged, v3 > merged.latest ? v3 : merged.latest)) {
			*o = merged;
			return FC_OFFSET_ADDED;
		}
	}
	alone.resets++;
	*o = alone;
	return FC_OFFSET_RESTARTED;
}

bool fc_offset_at(const struct fc_offset *o, uint64_t v, int64_t *lo, int64_t *hi)
{
	int64_t at;

	if (!o->have || v < o->latest || !since_epoch(o, v, &at))
		return false;
	*hi = o->hi_c + drift_ceil(at);
	*lo = o->lo_c - drift_ceil(at);
	return true;
}

/* x / (1 - rate) rounded up, and x / (1 + rate) rounded down, for x >= 0. */
static uint64_t grow(uint64_t x)
{
	unsigned __int128 p = (unsigned __int128)x * PPM_DIV;

	return (uint64_t)((p + (PPM_DIV - FC_OFFSET_DRIFT_PPM) - 1) / (PPM_DIV - FC_OFFSET_DRIFT_PPM));
}

static uint64_t shrink(uint64_t x)
{
	return (uint64_t)((unsigned __int128)x * PPM_DIV / (PPM_DIV + FC_OFFSET_DRIFT_PPM));
}

bool fc_offset_age(const struct fc_offset *o, uint64_t v3, uint64_t sc, uint64_t *lo_ns,
		   uint64_t *hi_ns)
{
	int64_t lo, hi;

	return fc_offset_at(o, v3, &lo, &hi) && fc_offset_age_from(lo, hi, v3, sc, lo_ns, hi_ns);
}

bool fc_offset_age_from(int64_t lo, int64_t hi, uint64_t v3, uint64_t sc, uint64_t *lo_ns,
			uint64_t *hi_ns)
{
	int64_t span, a_hi, a_lo;

	/*
	 * The frame was captured at sc on the sender's clock, when the offset was theta_c; on the
	 * viewer's clock that was sc - theta_c, so its age at v3 is A = v3 - sc + theta_c. theta
	 * moves by at most the drift rate over those A nanoseconds, and lies in [lo, hi] at v3:
	 *   v3 - sc + lo - rate*A  <=  A  <=  v3 - sc + hi + rate*A.
	 */
	if (lo > hi || !diff(v3, sc, &span))
		return false;
	if (__builtin_add_overflow(span, hi, &a_hi) || __builtin_add_overflow(span, lo, &a_lo))
		return false;
	if (a_hi < 0)
		return false; /* captured after it arrived: the interval is wrong */
	*hi_ns = grow((uint64_t)a_hi);
	*lo_ns = a_lo > 0 ? shrink((uint64_t)a_lo) : 0;
	return true;
}
