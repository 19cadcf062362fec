/* Tests of viewer/net/bound.c: the bound the viewer judges each frame by, the smallest of the request's,
 * the offset interval's and (when vouched for) the synced wall clocks', over simulated hosts
 * (tests/simlink.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bound.h"
#include "simlink.h"

#define MS 1000000ull

static const struct sim_host viewer_clock = { .origin = 5e12 };
/* Wall clocks: the viewer's and a correct sender's read the same true time. */
static const struct sim_host viewer_wall = { .origin = 1.7e18 };

/* The FRAME a sender with these clocks sends for exchange x. */
static struct fc_frame_msg frame_of(const struct sim_exchange *x,
				    const struct sim_host *sender_wall, double t2)
{
	static uint64_t seq;

	return (struct fc_frame_msg){
		.held_ns = x->s2 - x->s1,
		.age_ns = x->s2 - x->sc,
		.seq = ++seq,
		.width = 64,
		.height = 48,
		.src_width = 64,
		.src_height = 48,
		.send_ns = x->s2,
		.send_real_ns = sender_wall ? sim_read(sender_wall, t2) : 0,
	};
}

struct run {
	unsigned frames;
	unsigned synced;     /* frames whose bound leaned on the wall clocks */
	unsigned refuted;    /* times the news said so */
	double worst_excess; /* bound - true age, largest */
	double best_excess;
};

/* Frames every 33 ms over a link of trips `trip` each way plus up to `jitter`, with the sender's
 * wall clock `wall_off` ns ahead of the viewer's; every bound must hold. */
static struct run run(struct fc_bound *b, double trip, double jitter, double wall_off,
		      unsigned frames)
{
	struct sim_host sender = { .origin = 77e9 };
	struct sim_host sender_wall = { .origin = viewer_wall.origin + wall_off };
	struct run r = { .best_excess = 1e18 };
	uint64_t rng = 3;

	for (unsigned i = 0; i < frames; i++) {
		double t0 = i * 33.0 * SIM_MS;
		double up = trip + jitter * sim_uniform(&rng);
		double down = trip + jitter * sim_uniform(&rng);
		struct sim_exchange x =
		    sim_exchange(&viewer_clock, &sender, t0, up, 2 * SIM_MS, 4 * SIM_MS, down);
		struct fc_frame_msg fm = frame_of(&x, &sender_wall, t0 + up + 2 * SIM_MS);
		struct fc_bound_news news;
		struct fc_age age;

		assert_int_equal(
		    fc_bound_frame(b, &fm, x.v0, x.v3, sim_read(&viewer_wall, x.t3), &age, &news),
		    FC_BOUND_OK);
		r.frames++;
		r.synced += age.synced;
		r.refuted += news.refuted;
		/* Never below the truth, and never above the request's own bound. */
		assert_true((double)age.bound_ns >= x.true_age);
		assert_true(age.bound_ns <= age.request_ns);
		assert_true((double)age.floor_ns <= x.true_age);
		if (age.bound_ns - x.true_age > r.worst_excess)
			r.worst_excess = age.bound_ns - x.true_age;
		if (age.bound_ns - x.true_age < r.best_excess)
			r.best_excess = age.bound_ns - x.true_age;
	}
	return r;
}

/* Proven clocks on a 30 ms (+ up to 20 ms jitter) link: tighter than the request's bound for most
 * frames; never a synced frame. */
static void test_proven_tighter_than_request(void **state)
{
	struct fc_bound b;
	struct run r;

	(void)state;
	fc_bound_init(&b, FC_CLOCK_PROVEN, 0);
	r = run(&b, 30 * SIM_MS, 20 * SIM_MS, 0, 600);
	assert_int_equal(r.synced, 0);
	assert_true(r.best_excess >= 30 * SIM_MS); /* the fastest trip is always charged */
	assert_true(r.worst_excess <= 50 * SIM_MS + 1 * SIM_MS);
}

/* Synced wall clocks (vouched to 1 ms, and true) on the same link: every frame after the first
 * leans on them, and the bound is within 1 ms (plus slack) of the truth, not 30 ms. */
static void test_synced_tightens(void **state)
{
	struct fc_bound b;
	struct run r;

	(void)state;
	fc_bound_init(&b, FC_CLOCK_SYNCED, 1 * MS);
	r = run(&b, 30 * SIM_MS, 20 * SIM_MS, 0, 300);
	assert_int_equal(r.refuted, 0);
	assert_int_equal(r.synced, r.frames);
	assert_true(r.worst_excess <= 1.2 * SIM_MS);
}

/* A sender whose wall clock is 30 ms off, either way, on one host (trips of 50 µs): the first frame
 * contradicts the claim, the news says so once, and no bound leans on the wall clocks. */
static void test_false_wall_clock_refuted(void **state)
{
	const double offs[] = { 30 * SIM_MS, -30 * SIM_MS };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct fc_bound b;
		struct run r;

		fc_bound_init(&b, FC_CLOCK_SYNCED, 1 * MS);
		r = run(&b, 0.05 * SIM_MS, 0, offs[k], 60);
		assert_int_equal(r.refuted, 1);
		assert_int_equal(r.synced, 0);
		assert_false(b.synced);
	}
}

/* What the exchanges cannot see they cannot refute: on a 30 ms link a sender's wall clock 10 ms
 * ahead lies inside the proven interval. The bound then leans on it (the user vouched) and comes
 * out below the truth, as documented: the vouching is the user's. */
static void test_undetectable_error_is_the_users(void **state)
{
	struct fc_bound b;
	struct fc_bound_news news;
	struct sim_host sender = { .origin = 77e9 };
	struct sim_host sender_wall = { .origin = viewer_wall.origin + 10 * SIM_MS };
	struct sim_exchange x =
	    sim_exchange(&viewer_clock, &sender, 0, 30 * SIM_MS, 0, 4 * SIM_MS, 30 * SIM_MS);
	struct fc_frame_msg fm = frame_of(&x, &sender_wall, 30 * SIM_MS);
	struct fc_age age;

	(void)state;
	fc_bound_init(&b, FC_CLOCK_SYNCED, 1 * MS);
	assert_int_equal(
	    fc_bound_frame(&b, &fm, x.v0, x.v3, sim_read(&viewer_wall, x.t3), &age, &news),
	    FC_BOUND_OK);
	assert_false(news.refuted);
	assert_true(age.synced);
	assert_true((double)age.bound_ns < x.true_age); /* the user's error, not the proof's */
}

/* A PONG answering one of our PINGs narrows the interval; one answering none is ignored. */
static void test_pong_is_an_exchange(void **state)
{
	struct fc_bound b;
	struct fc_bound_news news;
	struct fc_ping pong = { .token = 2000 * MS, .clock_ns = 90 * MS };
	int64_t lo, hi;

	(void)state;
	fc_bound_init(&b, FC_CLOCK_PROVEN, 0);
	assert_int_equal(fc_bound_pong(&b, &pong, 2004 * MS, &news), FC_BOUND_OK);
	assert_false(b.offset.have); /* never sent */
	fc_bound_ping(&b, 2000 * MS);
	assert_int_equal(fc_bound_pong(&b, &pong, 2004 * MS, &news), FC_BOUND_OK);
	assert_true(fc_offset_at(&b.offset, 2004 * MS, &lo, &hi));
	assert_in_range(hi - lo, 4 * MS, 4 * MS + 10000);
	/* Answered twice: the second teaches nothing new and is ignored. */
	assert_int_equal(b.offset.exchanges, 1);
	assert_int_equal(fc_bound_pong(&b, &pong, 2005 * MS, &news), FC_BOUND_OK);
	assert_int_equal(b.offset.exchanges, 1);
}

/* A sender whose clock goes backwards between two messages is broken: both kinds are refused. */
static void test_backwards_clock(void **state)
{
	struct fc_bound b;
	struct fc_bound_news news;
	struct fc_age age;
	struct fc_frame_msg fm = { .held_ns = 1 * MS, .age_ns = 2 * MS, .send_ns = 100 * MS };
	struct fc_ping pong = { .token = 1, .clock_ns = 99 * MS };

	(void)state;
	fc_bound_init(&b, FC_CLOCK_PROVEN, 0);
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1010 * MS, 0, &age, &news),
			 FC_BOUND_OK);
	assert_int_equal(fc_bound_pong(&b, &pong, 1011 * MS, &news), FC_BOUND_BACKWARDS);
	fm.send_ns = 99 * MS;
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1012 * MS, 0, &age, &news),
			 FC_BOUND_BACKWARDS);
	assert_true(age.bound_ns == UINT64_MAX);
}

/* With frames over UDP (split), a PONG that TCP held back may carry an earlier clock than a
 * frame that came meanwhile: each path must go forward on its own, and still does. */
static void test_backwards_per_path(void **state)
{
	struct fc_bound b;
	struct fc_bound_news news;
	struct fc_age age;
	struct fc_frame_msg fm = { .held_ns = 1 * MS, .age_ns = 2 * MS, .send_ns = 100 * MS };
	struct fc_ping pong = { .token = 1, .clock_ns = 99 * MS };

	(void)state;
	fc_bound_init(&b, FC_CLOCK_PROVEN, 0);
	b.split = true;
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1010 * MS, 0, &age, &news),
			 FC_BOUND_OK);
	assert_int_equal(fc_bound_pong(&b, &pong, 1011 * MS, &news), FC_BOUND_OK);
	pong.clock_ns = 98 * MS;
	assert_int_equal(fc_bound_pong(&b, &pong, 1012 * MS, &news), FC_BOUND_BACKWARDS);
	fm.send_ns = 99 * MS;
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1012 * MS, 0, &age, &news),
			 FC_BOUND_BACKWARDS);
}

/* Held longer than the round trip: impossible, no bound; a sender whose S1 or Sc would lie before
 * its clock's start still gets the request's bound. */
static void test_impossible_and_partial(void **state)
{
	struct fc_bound b;
	struct fc_bound_news news;
	struct fc_age age;
	struct fc_frame_msg fm = { .held_ns = 50 * MS, .age_ns = 2 * MS, .send_ns = 100 * MS };

	(void)state;
	fc_bound_init(&b, FC_CLOCK_PROVEN, 0);
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1010 * MS, 0, &age, &news),
			 FC_BOUND_IMPOSSIBLE);
	assert_true(age.bound_ns == UINT64_MAX);
	fm = (struct fc_frame_msg){ .held_ns = 1 * MS, .age_ns = 200 * MS, .send_ns = 100 * MS };
	assert_int_equal(fc_bound_frame(&b, &fm, 1000 * MS, 1010 * MS, 0, &age, &news),
			 FC_BOUND_OK);
	assert_true(age.bound_ns == age.request_ns);
	assert_true(age.clock_ns == UINT64_MAX);
}

/* --clock request: the request's bound alone, whatever the exchanges show. */
static void test_request_only(void **state)
{
	struct fc_bound b;
	struct run r;

	(void)state;
	fc_bound_init(&b, FC_CLOCK_REQUEST, 0);
	r = run(&b, 30 * SIM_MS, 20 * SIM_MS, 0, 100);
	assert_false(b.offset.have);
	assert_true(r.best_excess >= 30 * SIM_MS);
	assert_true(r.worst_excess >= 45 * SIM_MS); /* some request took 45 ms or more */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proven_tighter_than_request),
		cmocka_unit_test(test_synced_tightens),
		cmocka_unit_test(test_false_wall_clock_refuted),
		cmocka_unit_test(test_undetectable_error_is_the_users),
		cmocka_unit_test(test_pong_is_an_exchange),
		cmocka_unit_test(test_backwards_clock),
		cmocka_unit_test(test_backwards_per_path),
		cmocka_unit_test(test_impossible_and_partial),
		cmocka_unit_test(test_request_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
