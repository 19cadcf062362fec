/* Tests of viewer/record/record_seg.c's rotation rule (fc_record_seg_plan): which of a directory's
 * segments go when a limit is passed. The writing and the removals themselves run end to end in
 * tests/e2e/test_record.py (a real stream into a directory with a tiny --keep). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "record_sink.h"

#define MB  1000000ull
#define NOW 1000000

/* Five segments of 1 MB, a minute apart, the newest last written a minute ago. */
static const struct fc_record_seg_file five[] = {
	{ "20261203T100000Z.mkv", MB, NOW - 300 }, { "20261203T100100Z.mkv", MB, NOW - 240 },
	{ "20261203T100200Z.mkv", MB, NOW - 180 }, { "20261203T100300Z.mkv", MB, NOW - 120 },
	{ "20261203T100400Z.mkv", MB, NOW - 60 },
};

/* Without a limit nothing is removed, however much there is. */
static void test_no_limit_keeps_all(void **state)
{
	(void)state;
	assert_int_equal(fc_record_seg_plan(five, 5, 100 * MB, 0, 0, NOW), 0);
	assert_int_equal(fc_record_seg_plan(NULL, 0, 100 * MB, MB, 60, NOW), 0);
}

/* A size limit removes the oldest first, just enough for all that is left, the segment being
 * written included, to fit. */
static void test_size_removes_oldest_until_under(void **state)
{
	(void)state;
	/* 5 MB + 0.5 MB being written, 4 MB allowed: the two oldest go (3.5 MB left). */
	assert_int_equal(fc_record_seg_plan(five, 5, MB / 2, 4 * MB, 0, NOW), 2);
	/* Exactly at the limit is within it. */
	assert_int_equal(fc_record_seg_plan(five, 5, MB, 6 * MB, 0, NOW), 0);
	assert_int_equal(fc_record_seg_plan(five, 5, MB + 1, 6 * MB, 0, NOW), 1);
}

/* The segment being written is never among those removed: a limit it alone passes removes every
 * other one and stops there. */
static void test_never_the_current(void **state)
{
	(void)state;
	assert_int_equal(fc_record_seg_plan(five, 5, 50 * MB, MB, 0, NOW), 5);
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 0, 1, NOW), 5);
}

/* An age limit removes the segments last written longer ago than it, oldest first. */
static void test_age_removes_older(void **state)
{
	(void)state;
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 0, 200, NOW), 2); /* 300 and 240 s old */
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 0, 300, NOW), 0); /* 300 is not over 300 */
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 0, 3600, NOW), 0);
}

/* With both limits, whichever removes more decides. */
static void test_both_limits(void **state)
{
	(void)state;
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 4 * MB, 200, NOW), 2);	  /* age */
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 2 * MB, 200, NOW), 3);	  /* size */
	assert_int_equal(fc_record_seg_plan(five, 5, 0, 100 * MB, 3600, NOW), 0); /* neither */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limit_keeps_all),
		cmocka_unit_test(test_size_removes_oldest_until_under),
		cmocka_unit_test(test_never_the_current),
		cmocka_unit_test(test_age_removes_older),
		cmocka_unit_test(test_both_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
