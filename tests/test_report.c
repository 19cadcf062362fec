/* Tests of viewer/report.c: what the per-second console line, the window's title and the
 * --stats-json lines say about the frames received, above all which renditions of the picture
 * (their size, the picture's size, their JPEG quality) and how large they were. Time is passed
 * in, never read, so every figure is exact and every run the same. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report.h"

#define MS     FC_NS_PER_MS
#define BUDGET (80 * MS)
#define T0     (1000 * FC_NS_PER_S) /* a clock far from 0, as CLOCK_MONOTONIC is */

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)
#define assert_lacks(hay, needle)                                                                  \
	do {                                                                                       \
		if (strstr((hay), (needle)))                                                       \
			fail_msg("\"%s\" contains \"%s\"", (hay), (needle));                       \
	} while (0)

static struct fc_report report; /* large (histograms): not on the stack */
static struct fc_json json;
static char line[768];

static int setup(void **state)
{
	(void)state;
	fc_report_init(&report, BUDGET, T0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fc_report_destroy(&report);
	return 0;
}

/* n accepted frames of one rendition, each of `bytes` bytes, all within the budget. */
static void arrive(int n, size_t bytes, int w, int h, int sw, int sh, int quality)
{
	struct fc_report_frame f = { .bytes = bytes,
				     .width = w,
				     .height = h,
				     .src_width = sw,
				     .src_height = sh,
				     .quality = quality };
	struct fc_age age = { .bound_ns = 2 * MS,
			      .request_ns = 2 * MS,
			      .clock_ns = UINT64_MAX,
			      .width_ns = UINT64_MAX,
			      .rtt_ns = MS,
			      .est_ns = MS };

	for (int i = 0; i < n; i++)
		fc_report_arrival(&report, &f, &age, true);
}

/* A stale notice: the sender's timings without a picture, of the full picture's size. */
static void stale_notice(int sw, int sh)
{
	struct fc_report_frame f = { .width = sw, .height = sh, .src_width = sw, .src_height = sh };

	fc_report_arrival(&report, &f, &(struct fc_age){ .bound_ns = 200 * MS }, false);
}

/* Closes the interval at T0 + seconds; returns the JSON line (the console line is in line). */
static const char *tick(double seconds, bool summary)
{
	const char *s;

	fc_report_tick(&report, T0 + (uint64_t)(seconds * 1e9), summary, false, line, sizeof(line),
		       &json);
	s = fc_json_finish(&json);
	assert_non_null(s);
	return s;
}

/* The text of one JSON field: from its value to the next comma at the same depth. */
static const char *field(const char *js, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;
	int depth = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		fail_msg("no %s in %s", key, js);
	p += strlen(pat);
	for (; p[n] && (depth > 0 || (p[n] != ',' && p[n] != '}')); n++)
		depth += (p[n] == '[' || p[n] == '{') - (p[n] == ']' || p[n] == '}');
	if (n >= len)
		fail_msg("%s: %zu bytes, more than %zu", key, n, len);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* A number in a JSON field, within the histograms' 1.6% of want. */
static void assert_near(const char *js, const char *key, double want)
{
	char buf[64];
	double got = strtod(field(js, key, buf, sizeof(buf)), NULL);

	if (got < want * 0.984 || got > want * 1.016)
		fail_msg("%s is %g, not %g (within 1.6%%)", key, got, want);
}

/* The clock figures (docs/STATS_JSON.md): the bound judged by next to the request's own, the
 * offset interval's width, the restarts, and what --clock asked and what became of it. */
static void test_clock_figures(void **state)
{
	struct fc_report_frame f = { .bytes = 1000, .width = 64, .height = 48 };
	struct fc_age age = { .bound_ns = 40 * MS,
			      .request_ns = 70 * MS,
			      .clock_ns = 40 * MS,
			      .width_ns = MS / 2,
			      .rtt_ns = 60 * MS,
			      .est_ns = 35 * MS };
	char buf[64];
	const char *js;

	(void)state;
	js = tick(1.0, false); /* before any frame: no clock part on the line */
	assert_string_equal(field(js, "clock", buf, sizeof(buf)), "\"proven\"");
	assert_lacks(line, "offset width");
	for (int i = 0; i < 10; i++)
		fc_report_arrival(&report, &f, &age, true);
	fc_report_clock(&report, true, false);
	fc_report_clock(&report, true, false);
	js = tick(2.0, false);
	assert_near(js, "age_bound_ms_p50", 40);
	assert_near(js, "request_bound_ms_p50", 70);
	assert_near(js, "offset_width_ms_p50", 0.5);
	assert_string_equal(field(js, "offset_restarts", buf, sizeof(buf)), "2");
	assert_string_equal(field(js, "synced_frames", buf, sizeof(buf)), "0");
	assert_contains(line, "(per request p50 70.");
	assert_contains(line, "| offset width 0.50 ms |");

	/* --clock synced: frames that leaned on the wall clocks are counted and said, until the
	 * exchanges refute them, which stays so. */
	fc_report_clock_mode(&report, FC_CLOCK_SYNCED);
	age.synced = true;
	fc_report_arrival(&report, &f, &age, true);
	js = tick(3.0, false);
	assert_string_equal(field(js, "clock", buf, sizeof(buf)), "\"synced\"");
	assert_string_equal(field(js, "synced_frames", buf, sizeof(buf)), "1");
	assert_contains(line, "offset width 0.50 ms, synced |");
	assert_false(fc_report_synced_refuted(&report));
	fc_report_clock(&report, false, true);
	assert_true(fc_report_synced_refuted(&report));
	js = tick(4.0, false);
	assert_string_equal(field(js, "clock", buf, sizeof(buf)), "\"refuted\"");
	assert_contains(line, "synced refuted");
}

/* The full picture: the console line says its size and quality and the mean JPEG size in KB
 * (1000 bytes, as the sender's line), and nothing about "of" a larger picture. */
static void test_line_full_picture(void **state)
{
	(void)state;
	arrive(30, 124000, 1280, 720, 1280, 720, 80);
	tick(1.0, false);
	assert_contains(line, "| 1280x720 q80 124.0 KB |");
	assert_lacks(line, " of ");
	assert_lacks(line, "renditions");
}

/* A reduced rendition: its size "of" the picture's, then the quality and the mean size. */
static void test_line_reduced_rendition(void **state)
{
	(void)state;
	arrive(27, 41200, 640, 360, 1280, 720, 80);
	tick(1.0, false);
	assert_contains(line, "| 640x360 of 1280x720 q80 41.2 KB |");
	assert_contains(fc_report_title(&report), "640x360 of 1280x720 q80");
}

/* A camera's own JPEG passed through has no known quality (0): the line says "camera JPEG"
 * instead of a number that would be made up. */
static void test_line_camera_jpeg(void **state)
{
	char buf[64];
	const char *js;

	(void)state;
	arrive(10, 95500, 1920, 1080, 1920, 1080, 0);
	js = tick(1.0, false);
	assert_contains(line, "| 1920x1080 camera JPEG 95.5 KB |");
	assert_string_equal(field(js, "quality", buf, sizeof(buf)), "0");
}

/* Before the first picture the line says so, and the JSON has zeros and an empty mix; a stale
 * notice (no picture) does not count as one: it changes neither the rendition nor the mean. */
static void test_before_first_picture(void **state)
{
	char buf[256];
	const char *js;

	(void)state;
	js = tick(1.0, false);
	assert_contains(line, "| no picture yet |");
	assert_string_equal(field(js, "width", buf, sizeof(buf)), "0");
	assert_string_equal(field(js, "kb_per_frame", buf, sizeof(buf)), "0.00");
	assert_string_equal(field(js, "renditions", buf, sizeof(buf)), "[]");

	arrive(2, 10000, 320, 180, 1280, 720, 60);
	stale_notice(1280, 720);
	js = tick(2.0, false);
	assert_contains(line, "| 320x180 of 1280x720 q60 10.0 KB |");
	assert_string_equal(field(js, "width", buf, sizeof(buf)), "320");
	assert_string_equal(field(js, "src_width", buf, sizeof(buf)), "1280");
	assert_string_equal(field(js, "kb_per_frame", buf, sizeof(buf)), "10.00");
	assert_string_equal(field(js, "renditions", buf, sizeof(buf)),
			    "[{\"width\":320,\"height\":180,\"quality\":60,\"frames\":2,"
			    "\"bytes\":20000}]");
}

/* The JSON line: the latest frame's rendition (width, height, src_width, src_height, quality),
 * the interval's mean KB per frame over frames of every rendition, and the mix, most frames
 * first, each with its frames and bytes; the console line names the latest and the count of
 * renditions when there was more than one. */
static void test_json_interval(void **state)
{
	char buf[512];
	const char *js;

	(void)state;
	/* A fresh viewer: a few small frames, then the sender climbs to the full picture. */
	arrive(3, 5000, 320, 180, 1280, 720, 80);
	arrive(2, 20000, 640, 360, 1280, 720, 80);
	arrive(25, 100000, 1280, 720, 1280, 720, 80);
	js = tick(1.0, false);
	assert_string_equal(field(js, "width", buf, sizeof(buf)), "1280");
	assert_string_equal(field(js, "height", buf, sizeof(buf)), "720");
	assert_string_equal(field(js, "src_width", buf, sizeof(buf)), "1280");
	assert_string_equal(field(js, "src_height", buf, sizeof(buf)), "720");
	assert_string_equal(field(js, "quality", buf, sizeof(buf)), "80");
	/* (15000 + 40000 + 2500000) / 30 = 85166.7 B */
	assert_string_equal(field(js, "kb_per_frame", buf, sizeof(buf)), "85.17");
	assert_string_equal(field(js, "bytes", buf, sizeof(buf)), "2555000");
	assert_string_equal(
	    field(js, "renditions", buf, sizeof(buf)),
	    "[{\"width\":1280,\"height\":720,\"quality\":80,\"frames\":25,\"bytes\":2500000},"
	    "{\"width\":320,\"height\":180,\"quality\":80,\"frames\":3,\"bytes\":15000},"
	    "{\"width\":640,\"height\":360,\"quality\":80,\"frames\":2,\"bytes\":40000}]");
	assert_contains(line, "| 1280x720 q80 85.2 KB, 3 renditions |");
	/* The old fields keep their names and meaning. */
	assert_string_equal(field(js, "received", buf, sizeof(buf)), "30");
	assert_string_equal(field(js, "bytes_per_s", buf, sizeof(buf)), "2555000");
}

/* Each line covers its own interval; the summary covers the whole run: the mix of every
 * interval merged, and the mean over every frame received with its bytes. */
static void test_summary_whole_run(void **state)
{
	char buf[512];
	const char *js;

	(void)state;
	arrive(10, 10000, 640, 360, 1280, 720, 70);
	tick(1.0, false);
	arrive(20, 40000, 1280, 720, 1280, 720, 80);
	js = tick(2.0, false);
	assert_string_equal(field(js, "renditions", buf, sizeof(buf)),
			    "[{\"width\":1280,\"height\":720,\"quality\":80,\"frames\":20,"
			    "\"bytes\":800000}]");
	assert_string_equal(field(js, "kb_per_frame", buf, sizeof(buf)), "40.00");
	js = tick(2.5, true);
	assert_string_equal(
	    field(js, "renditions", buf, sizeof(buf)),
	    "[{\"width\":1280,\"height\":720,\"quality\":80,\"frames\":20,\"bytes\":800000},"
	    "{\"width\":640,\"height\":360,\"quality\":70,\"frames\":10,\"bytes\":100000}]");
	assert_string_equal(field(js, "kb_per_frame", buf, sizeof(buf)), "30.00");
	assert_contains(line, "summary: ");
	assert_contains(line, "| 1280x720 q80 30.0 KB, 2 renditions |");
}

/* Counts of the entries of a renditions array, and their sums. */
static void sum_mix(const char *mix, int *entries, unsigned long long *frames,
		    unsigned long long *bytes, int *others)
{
	*entries = *others = 0;
	*frames = *bytes = 0;
	for (const char *p = mix; (p = strstr(p, "\"frames\":")); p++) {
		(*entries)++;
		*frames += strtoull(p + 9, NULL, 10);
		*bytes += strtoull(strstr(p, "\"bytes\":") + 8, NULL, 10);
	}
	for (const char *p = mix; (p = strstr(p, "\"other\":true")); p++)
		(*others)++;
}

/* More renditions than a line shows (8): the 7 with most frames, then one entry that sums the
 * rest, marked "other" with size and quality 0, so the entries still add up to every frame and
 * byte received. Ties in frames are ordered by bytes, then size and quality: the same every
 * run. */
static void test_mix_capped(void **state)
{
	char buf[2048];
	unsigned long long frames, bytes;
	int entries, others;
	const char *js;

	(void)state;
	/* 10 renditions: 10 frames of the first, 9 of the second, ..., 1 of the last. */
	for (int k = 0; k < 10; k++)
		arrive(10 - k, 1000 + (size_t)k, 640 - 32 * k, 360, 1280, 720, 80);
	arrive(1, 2000, 64, 36, 1280, 720, 50); /* ties with the last: more bytes first */
	js = tick(1.0, false);
	field(js, "renditions", buf, sizeof(buf));
	sum_mix(buf, &entries, &frames, &bytes, &others);
	assert_int_equal(entries, 8);
	assert_int_equal(others, 1);
	assert_int_equal(frames, 56);
	assert_int_equal(bytes, 55 * 1000 +
				    (0 * 10 + 1 * 9 + 2 * 8 + 3 * 7 + 4 * 6 + 5 * 5 + 6 * 4 +
				     7 * 3 + 8 * 2 + 9 * 1) +
				    2000);
	assert_true(
	    strncmp(buf, "[{\"width\":640,\"height\":360,\"quality\":80,\"frames\":10,", 52) == 0);
	/* The 7th is the one of 4 frames; the rest (3 + 2 + 1 + 1 frames) are "other". */
	assert_contains(buf, "{\"width\":448,\"height\":360,\"quality\":80,\"frames\":4,\"bytes\":"
			     "4024},{\"width\":0,\"height\":0,\"quality\":0,\"frames\":7,");
	assert_contains(buf, "\"other\":true}]");
	assert_contains(line, "11 renditions");
}

/* A sender sending more kinds than the report tells apart (32) costs no memory: the excess is
 * summed as "other", and the figures still add up. */
static void test_mix_table_bounded(void **state)
{
	char buf[2048];
	unsigned long long frames, bytes;
	int entries, others;
	const char *js;

	(void)state;
	for (int k = 0; k < 100; k++)
		arrive(1, 100, 1000 - k, 500, 2000, 1000, 1 + k % 100);
	js = tick(1.0, false);
	field(js, "renditions", buf, sizeof(buf));
	sum_mix(buf, &entries, &frames, &bytes, &others);
	assert_int_equal(entries, 8);
	assert_int_equal(others, 1);
	assert_int_equal(frames, 100);
	assert_int_equal(bytes, 10000);
	js = tick(2.0, true);
	field(js, "renditions", buf, sizeof(buf));
	sum_mix(buf, &entries, &frames, &bytes, &others);
	assert_int_equal(frames, 100);
	assert_int_equal(bytes, 10000);
}

/* n frames rejected by the age bound (bound_ms each). */
static void rejected(int n, double bound_ms)
{
	struct fc_report_frame f = { .bytes = 1000,
				     .width = 64,
				     .height = 48,
				     .src_width = 64,
				     .src_height = 48,
				     .quality = 80 };
	struct fc_age age = { .bound_ns = (uint64_t)(bound_ms * MS),
			      .request_ns = (uint64_t)(bound_ms * MS),
			      .clock_ns = UINT64_MAX,
			      .width_ns = UINT64_MAX };

	for (int i = 0; i < n; i++)
		fc_report_arrival(&report, &f, &age, false);
}

/* Closes the interval at T0 + seconds; returns the advice for the log, or NULL. */
static const char *advice(double seconds, bool summary)
{
	const char *a = fc_report_tick(&report, T0 + (uint64_t)(seconds * 1e9), summary, false,
				       line, sizeof(line), &json);

	assert_non_null(fc_json_finish(&json));
	return a;
}

/* The advice: said once when every frame of a second was rejected (with the budget, the bound's
 * median and what to do), not again while it lasts, once when frames fit again; a second with
 * no arrivals at all (a pause, a lost camera) says nothing either way. */
static void test_advice_when_everything_rejected(void **state)
{
	const char *a;

	(void)state;
	arrive(30, 1000, 64, 48, 64, 48, 80);
	for (int i = 0; i < 30; i++)
		fc_report_shown(&report, MS, -1);
	a = advice(1, false);
	assert_null(a);
	rejected(30, 150);
	a = advice(2, false);
	assert_non_null(a);
	assert_non_null(strstr(a, "nothing shown: every frame was over the 80.0 ms budget"));
	assert_non_null(strstr(a, "age bound p50 15"));
	assert_non_null(strstr(a, "raise --max-age"));
	rejected(30, 150);
	assert_null(advice(3, false));
	/* A silent second: no verdict on the stream. */
	assert_null(advice(4, false));
	arrive(30, 1000, 64, 48, 64, 48, 80);
	for (int i = 0; i < 30; i++)
		fc_report_shown(&report, MS, -1);
	a = advice(5, false);
	assert_non_null(a);
	assert_string_equal(a, "frames within the budget again");
	/* Never in the summary. */
	rejected(30, 150);
	assert_null(advice(6, true));
}

/* The line names the request window only when the link has moved it from where it starts (2, or
 * the asked window if smaller): at 2 of 4 it says nothing, at 4 of 4 or 1 of 4 it does. */
static void test_line_window_only_when_moved(void **state)
{
	(void)state;
	fc_report_window(&report, 2, 4);
	arrive(30, 1000, 64, 48, 64, 48, 80);
	tick(1, false);
	assert_null(strstr(line, "window"));
	fc_report_window(&report, 4, 4);
	arrive(30, 1000, 64, 48, 64, 48, 80);
	tick(2, false);
	assert_non_null(strstr(line, "| window 4 of 4"));
	fc_report_window(&report, 1, 4);
	arrive(30, 1000, 64, 48, 64, 48, 80);
	tick(3, false);
	assert_non_null(strstr(line, "| window 1 of 4"));
	fc_report_window(&report, 1, 1);
	arrive(30, 1000, 64, 48, 64, 48, 80);
	tick(4, false);
	assert_null(strstr(line, "window"));
}

/* The window's title says what the viewer gets: fps, age bound, the rendition; rejections only
 * when there are some. */
static void test_title(void **state)
{
	struct fc_report_frame f = { .bytes = 9000, .width = 320, .height = 240 };

	(void)state;
	arrive(30, 45000, 640, 480, 640, 480, 80);
	for (int i = 0; i < 30; i++)
		fc_report_shown(&report, MS, -1);
	tick(1.0, false);
	assert_string_equal(fc_report_title(&report), "30 fps, age bound 2.0 ms, 640x480 q80");
	/* No src size (0): taken as the full picture. */
	fc_report_arrival(&report, &f, NULL, false);
	tick(2.0, false);
	assert_string_equal(fc_report_title(&report),
			    "0 fps, age bound 0.0 ms, 1 rejected/s, 320x240 camera JPEG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_full_picture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_reduced_rendition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_camera_jpeg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_first_picture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_whole_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mix_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mix_table_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_title, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_advice_when_everything_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_window_only_when_moved, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
