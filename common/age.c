#include "age.h"

/* How far apart two hosts' monotonic clocks may tick: 500 ppm of the round trip, plus 50 us. */
#define RATE_SLACK_PPM 500
#define SLACK_FLOOR_NS 50000

bool fc_age_compute(uint64_t v0_ns, uint64_t v3_ns, uint64_t held_ns, uint64_t age_ns,
		    struct fc_age *out)
{
	uint64_t span;

	if (v3_ns < v0_ns)
		return false;
	span = v3_ns - v0_ns;
	if (held_ns > span) {
		if (held_ns - span > span / 1000000 * RATE_SLACK_PPM + SLACK_FLOOR_NS)
			return false;
		held_ns = span;
	}
	out->rtt_ns = span - held_ns;
	/* held and age are measured on the sender's clock, which may tick up to RATE_SLACK_PPM
	 * faster or slower than ours: the bound takes the worse case, so that a request held for
	 * seconds (a camera lost and back) cannot make it too small. */
	out->bound_ns = out->rtt_ns + age_ns;
	if (held_ns < UINT64_MAX / 2 && age_ns < UINT64_MAX / 2) {
		uint64_t x = held_ns + age_ns;

		/* Rounded up: a bound a hair too small is no bound. */
		out->bound_ns += x / 1000000 * RATE_SLACK_PPM +
				 ((x % 1000000) * RATE_SLACK_PPM + 999999) / 1000000;
	}
	out->est_ns = out->rtt_ns / 2 + age_ns;
	/* A sender claiming an absurd age must not wrap the bound into a small number. */
	if (out->bound_ns < age_ns || out->bound_ns < out->rtt_ns)
		out->bound_ns = UINT64_MAX;
	out->request_ns = out->bound_ns;
	out->clock_ns = UINT64_MAX;
	out->floor_ns = 0;
	out->width_ns = UINT64_MAX;
	out->synced = false;
	return true;
}

bool fc_age_within(uint64_t bound_ns, uint64_t v3_ns, uint64_t now_ns, uint64_t budget_ns)
{
	uint64_t since = now_ns > v3_ns ? now_ns - v3_ns : 0;

	return bound_ns <= budget_ns && since <= budget_ns - bound_ns;
}
