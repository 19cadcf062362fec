/* Tests of common/age.c: the age bound of docs/DESIGN.md on hand-made timestamps. Viewer times (V0,
 * V3) and sender times (S1, S2, Sc) deliberately come from unrelated clock origins, as they do on
 * two hosts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "age.h"

#define US 1000ull
#define MS 1000000ull
/* The expected bounds below are worked out by hand from the documented rule (age.h): the round
 * trip, plus the age at send, plus an allowance for the two clocks' rates of 500 ppm of
 * held + age (500 ppm of 1 ms is 500 ns), never rounded down. */

/* Simulates one exchange with given one-way delays and returns what the viewer computes. The
 * true age at V3 is (S2 - Sc) + down. */
static struct fc_age exchange(uint64_t up, uint64_t down, uint64_t s1_to_s2, uint64_t sc_to_s2)
{
	const uint64_t v_origin = 5000 * MS;	  /* viewer's clock */
	const uint64_t s_origin = 987654321 * MS; /* sender's clock, unrelated */
	uint64_t v0 = v_origin;
	uint64_t s1 = s_origin; /* arrives `up` later in real time */
	uint64_t s2 = s1 + s1_to_s2;
	uint64_t sc = s2 - sc_to_s2;
	uint64_t v3 = v0 + up + s1_to_s2 + down;
	struct fc_age a;

	assert_true(fc_age_compute(v0, v3, s2 - s1, s2 - sc, &a));
	return a;
}

/* The bound is the true age plus the request's one-way trip: never below the true age. */
static void test_bound_is_upper_bound(void **state)
{
	struct fc_age a = exchange(3 * MS, 5 * MS, 10 * MS, 12 * MS);

	(void)state;
	/* true age = 12 + 5 = 17 ms; bound = rtt (8) + 12 = 20 ms = true + up, and 500 ppm of
	 * 10 + 12 ms = 11 us */
	assert_int_equal(a.bound_ns, 20 * MS + 11 * US);
	assert_int_equal(a.rtt_ns, 8 * MS);
	assert_int_equal(a.est_ns, 16 * MS);
	assert_true(a.bound_ns >= 17 * MS);
}

/* The sender's wait for a fresh frame is not counted as lag: only network and frame age are, plus
 * the clock-rate allowance on the wait (500 ppm of it), not the wait itself. */
static void test_hold_is_not_lag(void **state)
{
	struct fc_age short_hold = exchange(1 * MS, 1 * MS, 0, 4 * MS);
	struct fc_age long_hold = exchange(1 * MS, 1 * MS, 900 * MS, 4 * MS);

	(void)state;
	/* 500 ppm of 4 ms is 2 us; of 900 ms more, 450 us more */
	assert_int_equal(short_hold.bound_ns, 6 * MS + 2 * US);
	assert_int_equal(long_hold.bound_ns - short_hold.bound_ns, 450 * US);
}

/* With the sender's clock 500 ppm fast (it reads a 60 s hold 30 ms long), the bound still is not
 * below the true age. */
static void test_fast_sender_clock_long_hold(void **state)
{
	uint64_t true_held = 60000 * MS;
	uint64_t true_age_at_send = 5 * MS;
	uint64_t up = 2 * MS, down = 2 * MS;
	uint64_t held = true_held + true_held / 2000; /* +500 ppm */
	uint64_t age = true_age_at_send;
	uint64_t v0 = 1000 * MS;
	uint64_t v3 = v0 + up + true_held + down;
	struct fc_age a;

	(void)state;
	assert_true(fc_age_compute(v0, v3, held, age, &a));
	assert_true(a.bound_ns >= true_age_at_send + down);
}

/* The allowance is never rounded down: a hold and an age that are not whole milliseconds get
 * their full 500 ppm (a bound a hair too small would not be a bound). */
static void test_allowance_not_rounded_down(void **state)
{
	struct fc_age a;

	(void)state;
	/* held 1.999999 ms + age 0: 500 ppm is 999.9995 ns, so 1000 ns. */
	assert_true(fc_age_compute(0, 3 * MS, 1999999, 0, &a));
	assert_int_equal(a.rtt_ns, 1000001);
	assert_int_equal(a.bound_ns, 1000001 + 1000);
	/* held 0.5 ms + age 0.4 ms: 450 ns exactly. */
	assert_true(fc_age_compute(0, 2 * MS, 500 * US, 400 * US, &a));
	assert_int_equal(a.bound_ns, 1500 * US + 400 * US + 450);
	/* age 1 ns: 0.0005 ns, so 1 ns. */
	assert_true(fc_age_compute(0, 1 * MS, 0, 1, &a));
	assert_int_equal(a.bound_ns, 1 * MS + 1 + 1);
}

/* A frame captured after the request arrived (age at send < held) still gets the exact bound. */
static void test_frame_captured_after_request(void **state)
{
	/* request waits 30 ms for the next frame, which is captured 25 ms after S1 */
	struct fc_age a = exchange(2 * MS, 2 * MS, 30 * MS, 5 * MS);

	(void)state;
	assert_int_equal(a.bound_ns, 9 * MS + 17500); /* rtt 4 + age 5, 500 ppm of 35 ms */
	assert_int_equal(a.rtt_ns, 4 * MS);
}

/* An asymmetric link: the bound still holds; the estimate is off by half the asymmetry. */
static void test_asymmetric_link(void **state)
{
	struct fc_age a = exchange(40 * MS, 2 * MS, 0, 1 * MS);

	(void)state;
	assert_true(a.bound_ns >= 3 * MS);	     /* true age 1 + 2 */
	assert_int_equal(a.bound_ns, 43 * MS + 500); /* 500 ppm of 1 ms */
	assert_int_equal(a.est_ns, 22 * MS);
}

/* Impossible timestamps are refused: V3 before V0, or a hold far longer than the round trip. */
static void test_impossible_refused(void **state)
{
	struct fc_age a;

	(void)state;
	assert_false(fc_age_compute(10 * MS, 9 * MS, 0, 0, &a));
	assert_false(fc_age_compute(0, 10 * MS, 20 * MS, 0, &a));
	/* A hold a hair longer than the round trip (clocks ticking at slightly different rates)
	 * counts as a zero round trip. */
	assert_true(fc_age_compute(0, 10 * MS, 10 * MS + 20000, 3 * MS, &a));
	assert_int_equal(a.rtt_ns, 0);
	assert_int_equal(a.bound_ns, 3 * MS + 6500); /* 500 ppm of the 10 ms counted + 3 ms */
}

/* An absurd age at send cannot wrap the bound into a small number. */
static void test_no_wraparound(void **state)
{
	struct fc_age a;

	(void)state;
	assert_true(fc_age_compute(0, 10 * MS, 0, UINT64_MAX - 5, &a));
	assert_true(a.bound_ns == UINT64_MAX);
}

/* At display time the budget left shrinks with the time since V3. */
static void test_within_at_display(void **state)
{
	(void)state;
	assert_true(fc_age_within(30 * MS, 100 * MS, 100 * MS, 80 * MS));
	assert_true(fc_age_within(30 * MS, 100 * MS, 150 * MS, 80 * MS));
	assert_false(fc_age_within(30 * MS, 100 * MS, 150 * MS + 1, 80 * MS));
	assert_false(fc_age_within(81 * MS, 100 * MS, 100 * MS, 80 * MS));
	assert_true(fc_age_within(80 * MS, 100 * MS, 100 * MS, 80 * MS));
	/* a clock read before V3 (cannot happen, but must not underflow) */
	assert_true(fc_age_within(10 * MS, 100 * MS, 90 * MS, 80 * MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_is_upper_bound),
		cmocka_unit_test(test_hold_is_not_lag),
		cmocka_unit_test(test_fast_sender_clock_long_hold),
		cmocka_unit_test(test_allowance_not_rounded_down),
		cmocka_unit_test(test_frame_captured_after_request),
		cmocka_unit_test(test_asymmetric_link),
		cmocka_unit_test(test_impossible_refused),
		cmocka_unit_test(test_no_wraparound),
		cmocka_unit_test(test_within_at_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
