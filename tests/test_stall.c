/* Tests of viewer/show/stall.c: when the window says the stream has stalled, why, and for how long. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "clock.h"
#include "stall.h"

#define MS     FC_NS_PER_MS
#define BUDGET (80 * MS)
/* A sender claiming 4 fps: a stall is three of its 250 ms periods (more than three budgets). */
#define FPS_MILLI 4000
#define AFTER	  (750 * MS)
#define T0	  (1000 * FC_NS_PER_S) /* a clock far from 0, as CLOCK_MONOTONIC is */

static struct fc_stall_input connected(void)
{
	return (struct fc_stall_input){ .connected = true,
					.fps_milli = FPS_MILLI,
					.budget_ns = BUDGET };
}

static void test_live_while_frames_show(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];

	(void)state;
	fc_stall_init(&s, T0);
	/* Frames every 33 ms for two seconds: never a stall, nothing to say. */
	for (uint64_t t = T0; t < T0 + 2 * FC_NS_PER_S; t += 33 * MS) {
		fc_stall_shown(&s, t);
		in.live.c.received++;
		in.live.c.shown++;
		assert_false(fc_stall_update(&s, t + MS, &in));
		assert_int_equal(s.why, FC_STALL_NONE);
	}
	fc_stall_banner(&s, T0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* A gap up to `after` is still live (a slow frame rate, a hiccup). */
	fc_stall_shown(&s, T0 + 3 * FC_NS_PER_S);
	assert_false(fc_stall_update(&s, T0 + 3 * FC_NS_PER_S + AFTER, &in));
}

static void test_silent_sender(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_shown(&s, T0);
	assert_false(fc_stall_update(&s, T0 + 500 * MS, &in));
	assert_true(fc_stall_update(&s, T0 + 800 * MS, &in));
	assert_int_equal(s.why, FC_STALL_SILENT);
	fc_stall_banner(&s, T0 + 3200 * MS, buf, sizeof(buf));
	assert_string_equal(buf, "NO SIGNAL\nno frames from the sender\n3.2 s");
	fc_stall_line(&s, T0 + 3200 * MS, buf, sizeof(buf));
	assert_string_equal(buf, "NO SIGNAL - no frames from the sender - 3.2 s");
	/* The same state a moment later is no news. */
	assert_false(fc_stall_update(&s, T0 + 900 * MS, &in));
	/* A frame again: live, and the line says how long the gap was. */
	fc_stall_shown(&s, T0 + 4 * FC_NS_PER_S);
	assert_true(fc_stall_update(&s, T0 + 4 * FC_NS_PER_S, &in));
	assert_int_equal(s.why, FC_STALL_NONE);
	fc_stall_line(&s, T0 + 4 * FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(buf, "live again after 4.0 s without a frame");
}

static void test_reconnecting_and_listening(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];

	(void)state;
	fc_stall_init(&s, T0);
	in.connected = false;
	/* Before any connection no rate is known: a stall after the longest `after`. */
	assert_false(fc_stall_update(&s, T0 + FC_STALL_MAX_NS, &in));
	assert_true(fc_stall_update(&s, T0 + 1100 * MS, &in));
	assert_int_equal(s.why, FC_STALL_RECONNECTING);
	fc_stall_banner(&s, T0 + 1100 * MS, buf, sizeof(buf));
	assert_string_equal(buf, "NO SIGNAL\nsender lost, reconnecting\n1.1 s");
	in.listening = true;
	fc_stall_update(&s, T0 + 2 * FC_NS_PER_S, &in);
	fc_stall_banner(&s, T0 + 2 * FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(buf, "NO SIGNAL\nsender lost, waiting for it to dial in\n2.0 s");
	/* Connected again but the camera is gone: the reason changes, which is news. */
	in.connected = true;
	in.live.source_lost = true;
	assert_true(fc_stall_update(&s, T0 + 3 * FC_NS_PER_S, &in));
	assert_int_equal(s.why, FC_STALL_CAMERA_LOST);
	fc_stall_line(&s, T0 + 4 * FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(
	    buf, "CAMERA LOST - the sender's camera is gone; it retries every second - 4.0 s");
}

static void test_all_late(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];
	uint64_t t;

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_shown(&s, T0);
	fc_stall_update(&s, T0, &in);
	/* Frames keep coming, every one rejected: the bound says by how much. */
	for (t = T0; t < T0 + 2 * FC_NS_PER_S; t += 33 * MS) {
		in.live.c.received++;
		in.live.c.rejected++;
		in.live.last_bound_ns = 120 * MS;
		fc_stall_update(&s, t, &in);
	}
	assert_int_equal(s.why, FC_STALL_LATE);
	fc_stall_banner(&s, T0 + 2 * FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(buf, "ALL FRAMES LATE\nage bound 120.0 ms > budget 80.0 ms\n2.0 s");
	/* A bound that could not be computed (a sender claiming an impossible hold). */
	in.live.c.rejected++;
	in.live.last_bound_ns = UINT64_MAX;
	fc_stall_update(&s, t, &in);
	fc_stall_line(&s, t, buf, sizeof(buf));
	assert_non_null(strstr(buf, "age bound unknown > budget 80.0 ms"));
	/* Then the rejections stop too: within two windows it is plain silence. */
	fc_stall_update(&s, t + AFTER, &in);
	fc_stall_update(&s, t + 2 * AFTER, &in);
	assert_int_equal(s.why, FC_STALL_SILENT);
}

static void test_display_late_and_corrupt(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_update(&s, T0, &in);
	in.live.c.received = in.live.c.accepted = in.live.c.late_display = 20;
	fc_stall_update(&s, T0 + FC_NS_PER_S, &in);
	assert_int_equal(s.why, FC_STALL_DISPLAY_LATE);
	fc_stall_banner(&s, T0 + FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(buf,
			    "FRAMES LATE AT THE DISPLAY\ndecoding and drawing age them past the "
			    "80.0 ms budget\n1.0 s");

	fc_stall_init(&s, T0);
	in = connected();
	fc_stall_update(&s, T0, &in);
	in.live.c.received = in.live.c.accepted = in.live.c.corrupt = 20;
	fc_stall_update(&s, T0 + FC_NS_PER_S, &in);
	assert_int_equal(s.why, FC_STALL_CORRUPT);
	fc_stall_line(&s, T0 + FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(buf, "FRAMES DO NOT DECODE - the sender's JPEGs are broken - 1.0 s");
}

/* Frames that came late to the display, and then none at all (the sender froze): the banner
 * says the sender is silent once nothing has arrived for `after`, not that frames are late (seen
 * under TSan, where the first frames are slow to draw). */
static void test_silence_after_late_frames(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_update(&s, T0, &in);
	in.live.c.received = in.live.c.accepted = in.live.c.late_display = 3;
	fc_stall_update(&s, T0 + 800 * MS, &in);
	assert_int_equal(s.why, FC_STALL_DISPLAY_LATE);
	in.live.c.received = in.live.c.accepted = in.live.c.late_display = 6;
	fc_stall_update(&s, T0 + 1400 * MS, &in);
	assert_int_equal(s.why, FC_STALL_DISPLAY_LATE);
	/* Nothing more arrives. Within `after` of the last arrival, the late frames are the story;
	 * past it, silence is, although the window of counts still holds late frames. */
	fc_stall_update(&s, T0 + 1400 * MS + AFTER, &in);
	assert_int_equal(s.why, FC_STALL_DISPLAY_LATE);
	assert_true(fc_stall_update(&s, T0 + 1410 * MS + AFTER, &in));
	assert_int_equal(s.why, FC_STALL_SILENT);
}

/* What happened before the last shown frame is not a reason for a stall after it. */
static void test_history_before_last_frame_forgotten(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_update(&s, T0, &in);
	in.live.c.received = in.live.c.rejected = 50; /* a bad spell */
	fc_stall_update(&s, T0 + 500 * MS, &in);
	fc_stall_shown(&s, T0 + 600 * MS); /* then a frame */
	fc_stall_update(&s, T0 + 600 * MS, &in);
	/* Then nothing at all. */
	fc_stall_update(&s, T0 + 1500 * MS, &in);
	assert_int_equal(s.why, FC_STALL_SILENT);
}

/* How long a gap is a stall: a few periods of the claimed rate, never less than a few budgets
 * nor 100 ms, never more than a second whatever the sender claims. */
static void test_after_from_rate_and_bounds(void **state)
{
	(void)state;
	assert_int_equal(fc_stall_after_ns(FPS_MILLI, BUDGET), AFTER);
	/* 30 fps: three periods are 100 ms, three budgets 240 ms: the budgets win. */
	assert_int_equal(fc_stall_after_ns(30000, BUDGET), 3 * BUDGET);
	assert_int_equal(fc_stall_after_ns(10000, 20 * MS), 300 * MS); /* 10 fps: 3 periods */
	assert_int_equal(fc_stall_after_ns(120000, MS), FC_STALL_MIN_NS);
	/* The upper bound, whatever the sender claims or the budget is. */
	assert_int_equal(fc_stall_after_ns(1000, BUDGET), FC_STALL_MAX_NS); /* 1 fps: 3 s */
	assert_int_equal(fc_stall_after_ns(1, BUDGET), FC_STALL_MAX_NS);    /* 0.001 fps */
	assert_int_equal(fc_stall_after_ns(0, BUDGET), FC_STALL_MAX_NS);    /* not known */
	assert_int_equal(fc_stall_after_ns(30000, 5 * FC_NS_PER_S), FC_STALL_MAX_NS);
	assert_int_equal(fc_stall_after_ns(30000, UINT64_MAX), FC_STALL_MAX_NS);
	assert_true(FC_STALL_MAX_NS <= FC_NS_PER_S && FC_STALL_MIN_NS >= 3 * 15 * MS);
}

/* A sender claiming 0.001 fps: the banner within the bound, not most of an hour later, and it
 * says how rarely that sender sends. */
static void test_slow_sender_bounded(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[128];

	(void)state;
	in.fps_milli = 1;
	fc_stall_init(&s, T0);
	fc_stall_shown(&s, T0);
	assert_false(fc_stall_update(&s, T0 + FC_STALL_MAX_NS, &in));
	assert_true(fc_stall_update(&s, T0 + FC_STALL_MAX_NS + MS, &in));
	assert_int_equal(s.why, FC_STALL_SILENT);
	fc_stall_line(&s, T0 + 2 * FC_NS_PER_S, buf, sizeof(buf));
	assert_string_equal(
	    buf, "NO SIGNAL - no frames from the sender (it sends one every 1000.0 s) - 2.0 s");
}

/* `after` follows the sender connected now: a slow one, then (reconnected) a fast one whose
 * gap of 300 ms is a stall, then the slow one again. While no stream runs, the last is kept. */
static void test_after_per_connection(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	uint64_t t = T0;

	(void)state;
	in.fps_milli = 2000; /* 2 fps: three periods are 1.5 s, bounded to 1 s */
	fc_stall_init(&s, t);
	fc_stall_shown(&s, t);
	assert_false(fc_stall_update(&s, t + 900 * MS, &in));
	assert_int_equal(s.after_ns, FC_STALL_MAX_NS);
	/* Gone, and back to another sender claiming 30 fps. */
	in.connected = false;
	fc_stall_update(&s, t + 950 * MS, &in);
	assert_int_equal(s.after_ns, FC_STALL_MAX_NS);
	t += FC_NS_PER_S;
	fc_stall_shown(&s, t);
	in.connected = true;
	in.fps_milli = 30000;
	assert_false(fc_stall_update(&s, t, &in)); /* live all along: the gap was under 1 s */
	assert_int_equal(s.after_ns, 3 * BUDGET);
	assert_false(fc_stall_update(&s, t + 200 * MS, &in));
	assert_true(fc_stall_update(&s, t + 300 * MS, &in));
	assert_int_equal(s.why, FC_STALL_SILENT);
	/* And to a slow one again: the same gap is no longer a stall. */
	t += 400 * MS;
	fc_stall_shown(&s, t);
	in.fps_milli = 2000;
	fc_stall_update(&s, t, &in);
	assert_false(fc_stall_update(&s, t + 300 * MS, &in));
	assert_int_equal(s.why, FC_STALL_NONE);
}

static void test_small_buffers(void **state)
{
	struct fc_stall s;
	struct fc_stall_input in = connected();
	char buf[8];

	(void)state;
	fc_stall_init(&s, T0);
	fc_stall_update(&s, T0 + FC_NS_PER_S, &in);
	memset(buf, 'x', sizeof(buf));
	fc_stall_banner(&s, T0 + FC_NS_PER_S, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	fc_stall_line(&s, T0 + FC_NS_PER_S, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_true(fc_stall_seconds(&s, T0 - 1) == 0.0); /* a time before the last frame */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_while_frames_show),
		cmocka_unit_test(test_silent_sender),
		cmocka_unit_test(test_reconnecting_and_listening),
		cmocka_unit_test(test_all_late),
		cmocka_unit_test(test_display_late_and_corrupt),
		cmocka_unit_test(test_silence_after_late_frames),
		cmocka_unit_test(test_history_before_last_frame_forgotten),
		cmocka_unit_test(test_after_from_rate_and_bounds),
		cmocka_unit_test(test_slow_sender_bounded),
		cmocka_unit_test(test_after_per_connection),
		cmocka_unit_test(test_small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
