/* Tests of common/offset.c: the clock offset interval learnt from exchanges, and the age bound it
 * gives, over simulated hosts (tests/simlink.h) whose clocks have unrelated origins and rates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "offset.h"
#include "simlink.h"

#define MS 1000000ull

static const struct sim_host viewer_clock = { .origin = 5e12, .ppm = 0 };

/* A link with trips base + uniform(0, jitter) each way, exchanges every 33 ms, frames captured
 * 5 ms before they leave and requests held 0 to 30 ms. Checks every frame's age limits against the
 * truth and returns the p99 of the upper limit's excess over (true age + fastest request trip),
 * over the exchanges after the first second. */
struct link {
	double up, up_jitter, down, down_jitter;
	double sender_ppm;
	unsigned exchanges;
	uint64_t seed;
};

static double run_link(const struct link *l, struct fc_offset *o)
{
	struct sim_host sender = { .origin = 987654321e6, .ppm = l->sender_ppm };
	uint64_t rng = l->seed;
	double *excess = calloc(l->exchanges, sizeof(double));
	double fastest = 1e18;
	unsigned n = 0;

	assert_non_null(excess);
	fc_offset_init(o);
	for (unsigned i = 0; i < l->exchanges; i++) {
		double up = l->up + l->up_jitter * sim_uniform(&rng);
		double down = l->down + l->down_jitter * sim_uniform(&rng);
		struct sim_exchange x = sim_exchange(&viewer_clock, &sender, i * 33.0 * SIM_MS, up,
						     30 * SIM_MS * sim_uniform(&rng), 5 * SIM_MS,
						     down);
		uint64_t lo, hi;

		assert_int_equal(fc_offset_add(o, x.v0, x.s1, x.s2, x.v3), FC_OFFSET_ADDED);
		assert_true(fc_offset_age(o, x.v3, x.sc, &lo, &hi));
		/* The whole point: a guarantee on both sides, for every frame. */
		assert_true((double)hi >= x.true_age);
		assert_true((double)lo <= x.true_age);
		fastest = up < fastest ? up : fastest;
		if (i * 33.0 >= 1000)
			excess[n++] = (double)hi - x.true_age - fastest;
	}
	for (unsigned i = 1; i < n; i++) /* insertion sort: n is small */
		for (unsigned k = i; k > 0 && excess[k] < excess[k - 1]; k--) {
			double t = excess[k];
			excess[k] = excess[k - 1];
			excess[k - 1] = t;
		}
	double p99 = n ? excess[(size_t)(n * 0.99)] : 0;
	free(excess);
	return p99;
}

/* The link: 30 ms each way plus up to 20 ms of jitter. The per-request bound charges each
 * frame its own request's trip (30..50 ms); the interval charges the fastest request's trip, and
 * beyond it at most 2 ms at p99. */
static void test_jitter_drops_out(void **state)
{
	struct link l = { .up = 30 * SIM_MS, .up_jitter = 20 * SIM_MS, .down = 30 * SIM_MS,
			  .down_jitter = 20 * SIM_MS, .exchanges = 1800, .seed = 1 };
	struct fc_offset o;
	double p99;

	(void)state;
	p99 = run_link(&l, &o);
	assert_true(p99 <= 2.0 * SIM_MS);
	assert_int_equal(o.resets, 0);
}

/* Clocks 400 ppm apart (inside the 500 ppm allowance), either way, over 10 simulated minutes: the
 * limits hold for every frame and the interval never restarts. */
static void test_drift_within_allowance(void **state)
{
	struct link l = { .up = 2 * SIM_MS, .up_jitter = 3 * SIM_MS, .down = 2 * SIM_MS,
			  .down_jitter = 3 * SIM_MS, .exchanges = 18000, .seed = 7 };
	struct fc_offset o;

	(void)state;
	l.sender_ppm = 400;
	run_link(&l, &o);
	assert_int_equal(o.resets, 0);
	l.sender_ppm = -400;
	run_link(&l, &o);
	assert_int_equal(o.resets, 0);
}

/* An asymmetric link (50 ms up, 5 ms down): the offset is known only to within the two trips, and
 * the age bound exceeds the truth by the request's trip, as the per-request bound does; the lower
 * limit is off by the answer's. */
static void test_asymmetric_link(void **state)
{
	struct sim_host sender = { .origin = 42e9 };
	struct fc_offset o;
	uint64_t lo, hi;
	int64_t tlo, thi;
	struct sim_exchange x = { 0 };

	(void)state;
	fc_offset_init(&o);
	for (unsigned i = 0; i < 100; i++) {
		x = sim_exchange(&viewer_clock, &sender, i * 33.0 * SIM_MS, 50 * SIM_MS, 0,
				 5 * SIM_MS, 5 * SIM_MS);
		assert_int_equal(fc_offset_add(&o, x.v0, x.s1, x.s2, x.v3), FC_OFFSET_ADDED);
	}
	assert_true(fc_offset_at(&o, x.v3, &tlo, &thi));
	assert_in_range(thi - tlo, 55 * MS, 55 * MS + 100000); /* + drift over 3.3 s */
	assert_true(fc_offset_age(&o, x.v3, x.sc, &lo, &hi));
	assert_in_range(hi, 60 * MS, 60 * MS + 100000); /* true age 10 ms + the 50 ms trip up */
	assert_in_range(lo, 5 * MS - 100000, 5 * MS);	/* true age less the 5 ms trip down */
}

/* A clock that steps (a broken sender, or a VM restored) contradicts the interval: it restarts
 * from the exchange that showed it, once, and the limits hold again from there. */
static void test_step_restarts(void **state)
{
	const double steps[] = { 100 * SIM_MS, -100 * SIM_MS };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct sim_host sender = { .origin = 3e9, .step_at = 2000 * SIM_MS, .step = steps[k] };
		struct fc_offset o;
		unsigned restarts = 0;

		fc_offset_init(&o);
		for (unsigned i = 0; i < 200; i++) {
			struct sim_exchange x = sim_exchange(&viewer_clock, &sender,
							     i * 33.0 * SIM_MS, 1 * SIM_MS, 0,
							     0, 1 * SIM_MS);
			uint64_t lo, hi;

			restarts += fc_offset_add(&o, x.v0, x.s1, x.s2, x.v3) ==
				    FC_OFFSET_RESTARTED;
			assert_true(fc_offset_age(&o, x.v3, x.sc, &lo, &hi));
			assert_true((double)hi >= x.true_age && (double)lo <= x.true_age);
		}
		assert_int_equal(restarts, 1);
		assert_int_equal(o.resets, 1);
	}
}

/* Clocks drifting far faster than allowed (5000 ppm) are caught: the interval restarts. */
static void test_fast_drift_caught(void **state)
{
	struct sim_host sender = { .origin = 3e9, .ppm = 5000 };
	struct fc_offset o;

	(void)state;
	fc_offset_init(&o);
	for (unsigned i = 0; i < 300; i++) {
		struct sim_exchange x = sim_exchange(&viewer_clock, &sender, i * 33.0 * SIM_MS,
						     1 * SIM_MS, 0, 0, 1 * SIM_MS);

		fc_offset_add(&o, x.v0, x.s1, x.s2, x.v3);
	}
	assert_true(o.resets > 0);
}

/* An exchange that cannot have happened (answered before asked, or held longer than the round
 * trip) is ignored and leaves the interval as it was. */
static void test_impossible_ignored(void **state)
{
	struct fc_offset o, before;

	(void)state;
	fc_offset_init(&o);
	assert_int_equal(fc_offset_add(&o, 1000 * MS, 50 * MS, 51 * MS, 1004 * MS),
			 FC_OFFSET_ADDED);
	before = o;
	assert_int_equal(fc_offset_add(&o, 1010 * MS, 60 * MS, 61 * MS, 1009 * MS),
			 FC_OFFSET_IMPOSSIBLE); /* V3 before V0 */
	assert_int_equal(fc_offset_add(&o, 1010 * MS, 60 * MS, 80 * MS, 1014 * MS),
			 FC_OFFSET_IMPOSSIBLE); /* held 20 ms of a 4 ms round trip */
	assert_int_equal(fc_offset_add(&o, 1010 * MS, 61 * MS, 60 * MS, 1014 * MS),
			 FC_OFFSET_IMPOSSIBLE); /* answered before it was read */
	assert_memory_equal(&o, &before, sizeof(o));
}

/* One exchange gives the same bound as the request's own round trip (common/age.c) give or take
 * the drift allowance, and nothing before the first exchange or before the latest V0. */
static void test_one_exchange(void **state)
{
	struct fc_offset o;
	uint64_t lo, hi;
	int64_t tlo, thi;

	(void)state;
	fc_offset_init(&o);
	assert_false(fc_offset_age(&o, 1000 * MS, 0, &lo, &hi));
	/* V0 1000, S1 50, held 10, S2 60, frame captured at S 48, V3 1024: (24 - 10) + 12 = 26 */
	assert_int_equal(fc_offset_add(&o, 1000 * MS, 50 * MS, 60 * MS, 1024 * MS),
			 FC_OFFSET_ADDED);
	assert_true(fc_offset_age(&o, 1024 * MS, 48 * MS, &lo, &hi));
	assert_in_range(hi, 26 * MS, 26 * MS + 30000);
	assert_false(fc_offset_at(&o, 999 * MS, &tlo, &thi));
}

/* Readings that cannot be compared (clocks 2^63 ns apart, a capture after the arrival) give no
 * bound rather than a wrapped one. */
static void test_absurd_readings(void **state)
{
	struct fc_offset o;
	uint64_t lo, hi;

	(void)state;
	fc_offset_init(&o);
	assert_int_equal(fc_offset_add(&o, 1, UINT64_MAX - 10, UINT64_MAX - 5, 3),
			 FC_OFFSET_IMPOSSIBLE);
	assert_int_equal(fc_offset_add(&o, 1000 * MS, 50 * MS, 50 * MS, 1002 * MS),
			 FC_OFFSET_ADDED);
	/* Captured at S 80 ms, 30 ms after the sender answered and 28 ms after V3. */
	assert_false(fc_offset_age(&o, 1002 * MS, 80 * MS, &lo, &hi));
	assert_false(fc_offset_age(&o, 1002 * MS, UINT64_MAX, &lo, &hi));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jitter_drops_out),
		cmocka_unit_test(test_drift_within_allowance),
		cmocka_unit_test(test_asymmetric_link),
		cmocka_unit_test(test_step_restarts),
		cmocka_unit_test(test_fast_drift_caught),
		cmocka_unit_test(test_impossible_ignored),
		cmocka_unit_test(test_one_exchange),
		cmocka_unit_test(test_absurd_readings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
