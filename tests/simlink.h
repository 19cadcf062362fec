/*
 * simlink: two simulated hosts for the clock tests (test_offset.c, test_bound.c). True time runs
 * in nanoseconds as a double; each host's monotonic clock has its own origin, its own rate (ppm
 * off true time) and optionally one step, and is read truncated to the nanosecond as a real one
 * is. An exchange is built from chosen trips, and its true age is known exactly.
 */
#ifndef FC_TEST_SIMLINK_H
#define FC_TEST_SIMLINK_H

#include <math.h>
#include <stdint.h>

#define SIM_MS 1e6

struct sim_host {
	double origin; /* the reading at true time 0 */
	double ppm;    /* how fast the clock runs: +100 reads 100 ppm more than true time */
	double step_at; /* from this true time on (0: never) ... */
	double step;	/* ... the clock reads this much more (negative: it went back) */
};

static inline double sim_value(const struct sim_host *h, double t)
{
	double v = h->origin + t * (1 + h->ppm * 1e-6);

	if (h->step_at > 0 && t >= h->step_at)
		v += h->step;
	return v;
}

static inline uint64_t sim_read(const struct sim_host *h, double t)
{
	return (uint64_t)floor(sim_value(h, t));
}

/* One exchange: the viewer asks at true time t0; the request takes up ns to arrive, waits held ns,
 * and the answer, captured age ns before it left, takes down ns to arrive whole. */
struct sim_exchange {
	uint64_t v0, s1, s2, v3, sc;
	double true_age; /* from capture to V3, on the viewer's clock */
	double t3;	 /* true time of V3 */
};

static inline struct sim_exchange sim_exchange(const struct sim_host *viewer,
					       const struct sim_host *sender, double t0, double up,
					       double held, double age, double down)
{
	double t1 = t0 + up, t2 = t1 + held, t3 = t2 + down, tc = t2 - age;

	return (struct sim_exchange){
		.v0 = sim_read(viewer, t0),
		.s1 = sim_read(sender, t1),
		.s2 = sim_read(sender, t2),
		.v3 = sim_read(viewer, t3),
		.sc = sim_read(sender, tc),
		.true_age = sim_value(viewer, t3) - sim_value(viewer, tc),
		.t3 = t3,
	};
}

/* A fixed-seed generator, so that every run sees the same link. */
static inline double sim_uniform(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) / 9007199254740992.0;
}

#endif
