/* Tests of viewer/net/pace.c: the request window settles where the most frames are accepted, on
 * simulated links whose acceptance depends on the window the way real ones do (the figures come
 * from tests/e2e/test_tbf.py and test_network.py), and probing costs little where nothing needs
 * to change. The window starts at FC_PACE_START and moves within 1..the asked window. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pace.h"

#define S 1000000000ull

/* A link: at each window, how many replies a second come back and what share is accepted. */
struct link {
	double replies[17];
	double accepted[17];
};

struct run {
	uint64_t now;
	double acc; /* Bresenham accumulator: accepted replies, spread evenly */
	double secs_at[17];
	double frames; /* accepted in all */
};

/* Plays `secs` seconds of the link against the pace; time spent at each window goes to r. */
static void play(struct fc_pace *p, const struct link *l, double secs, struct run *r)
{
	uint64_t end = r->now + (uint64_t)(secs * S);

	while (r->now < end) {
		unsigned w = p->window;
		uint64_t step = (uint64_t)(S / l->replies[w]);
		bool ok;

		r->acc += l->accepted[w];
		ok = r->acc >= 1.0;
		if (ok)
			r->acc -= 1.0;
		r->frames += ok;
		r->now += step;
		r->secs_at[w] += (double)step / S;
		fc_pace_reply(p, ok, r->now);
	}
}

/* Loopback: every window gets every frame. Nothing is late; the window starts at FC_PACE_START
 * below the asked one, and the rare probes upwards cannot win (no more frames to get), so it
 * stays there nearly all the time. */
static void good_link_keeps_window(void **state)
{
	struct link l = { .replies = { 0, 30, 30, 30, 30 }, .accepted = { 0, 1, 1, 1, 1 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 4);
	assert_int_equal(p.window, FC_PACE_START);
	play(&p, &l, 300, &r);
	assert_int_equal(p.changes, 0);
	assert_true(r.secs_at[FC_PACE_START] >= 0.95 * 300);
	assert_true(r.frames / 300 > 29.9);
}

/* An asked window below FC_PACE_START is where it starts. */
static void small_asked_window_is_the_start(void **state)
{
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 1);
	assert_int_equal(p.window, 1);
	fc_pace_init(&p, 16);
	assert_int_equal(p.window, FC_PACE_START);
}

/* The 8 Mbit/s link of test_tbf: one in flight accepts 95% of 20 replies a second, two accept
 * 5%. The window drops to one within a few seconds and stays there most of the time. */
static void narrow_link_settles_on_one(void **state)
{
	struct link l = { .replies = { 0, 20, 20 }, .accepted = { 0, 0.95, 0.05 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 2);
	/* Second 1 at two, second 2 probes one and wins. */
	play(&p, &l, 2.5, &r);
	assert_int_equal(p.window, 1);
	r = (struct run){ .now = r.now };
	play(&p, &l, 120, &r);
	assert_true(r.secs_at[1] > 0.9 * 120);
	/* Close to what a fixed window of one would show: 19 a second. */
	assert_true(r.frames / 120 > 17);
}

/* The narrow link with a larger window asked: it starts at two, not four, so nothing is lost
 * climbing down. */
static void narrow_link_with_larger_max(void **state)
{
	struct link l = { .replies = { 0, 20, 20, 20, 20 }, .accepted = { 0, 0.95, 0.05, 0, 0 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 4);
	play(&p, &l, 120, &r);
	assert_int_equal(p.window, 1);
	assert_true(r.secs_at[1] > 0.9 * 120);
	assert_true(r.secs_at[3] + r.secs_at[4] < 0.05 * 120);
}

/* A jittery path where most frames are late whatever the window, and more in flight means more
 * chances (4: 10 accepted a second, 1: 2). The many late frames make it probe downwards first;
 * that loses, so it tries upwards, climbs to four within seconds and stays. */
static void jitter_keeps_the_larger_window(void **state)
{
	struct link l = { .replies = { 0, 12, 20, 26, 30 },
			  .accepted = { 0, 2.0 / 12, 5.0 / 20, 8.0 / 26, 10.0 / 30 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 4);
	play(&p, &l, 120, &r);
	assert_int_equal(p.window, 4);
	assert_true(r.secs_at[4] > 0.85 * 120);
}

/* The long jittery path of bench/clock (30 ms each way plus 0..20 ms, 1280x720 at 30 fps, judged
 * by the offset interval): at two in flight frames wait in the sender's slot for a request and
 * 7 a second are accepted; at four, 26. Starting at two, it is at four within 8 seconds. */
static void long_path_climbs_within_seconds(void **state)
{
	struct link l = { .replies = { 0, 14, 25, 30, 30 },
			  .accepted = { 0, 2.0 / 14, 7.0 / 25, 18.0 / 30, 26.0 / 30 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 4);
	play(&p, &l, 8, &r);
	assert_int_equal(p.window, 4);
	r = (struct run){ .now = r.now };
	play(&p, &l, 60, &r);
	assert_true(r.frames / 60 > 24);
}

/* A link that was narrow and became wide (the other traffic stopped): the window goes back up
 * within the longest wait between probes. */
static void recovers_when_link_improves(void **state)
{
	struct link narrow = { .replies = { 0, 20, 20 }, .accepted = { 0, 0.95, 0.05 } };
	/* Wide but far: one in flight is capped by the round trip to 15 a second. */
	struct link wide = { .replies = { 0, 15, 30 }, .accepted = { 0, 1, 1 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 2);
	play(&p, &narrow, 300, &r);
	assert_int_equal(p.window, 1);
	play(&p, &wide, FC_PACE_WAIT_MAX + 3, &r);
	assert_int_equal(p.window, 2);
}

/* A stream with nothing accepted at any window (a path far over the budget): probes cannot win,
 * so the window stays as asked rather than wandering. */
static void nothing_accepted_stays_put(void **state)
{
	struct link l = { .replies = { 0, 5, 10 }, .accepted = { 0, 0, 0 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 2);
	play(&p, &l, 120, &r);
	assert_int_equal(p.window, 2);
	assert_int_equal(p.changes, 0);
}

/* A window of 0 or 1 asked: one request in flight, whatever happens. */
static void window_one_is_fixed(void **state)
{
	struct link l = { .replies = { 0, 20 }, .accepted = { 0, 0.5 } };
	struct run r = { .now = 1 };
	struct fc_pace p;

	(void)state;
	fc_pace_init(&p, 0);
	assert_int_equal(p.window, 1);
	play(&p, &l, 30, &r);
	assert_true(r.secs_at[1] >= 29.9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_link_keeps_window),
		cmocka_unit_test(small_asked_window_is_the_start),
		cmocka_unit_test(narrow_link_settles_on_one),
		cmocka_unit_test(narrow_link_with_larger_max),
		cmocka_unit_test(jitter_keeps_the_larger_window),
		cmocka_unit_test(long_path_climbs_within_seconds),
		cmocka_unit_test(recovers_when_link_improves),
		cmocka_unit_test(nothing_accepted_stays_put),
		cmocka_unit_test(window_one_is_fixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
