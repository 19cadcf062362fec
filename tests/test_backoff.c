/* Tests of common/backoff.c: the wait before a redial, with the time given by the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backoff.h"

#define S  (1000ull * 1000 * 1000)
#define MS (1000ull * 1000)

/* Failed tries wait first, then twice as long each time, and never longer than max. */
static void test_doubles_to_max(void **state)
{
	struct fc_backoff b;

	(void)state;
	fc_backoff_init(&b, 250 * MS, 2 * S, 3 * S);
	assert_int_equal(fc_backoff_failed(&b), 250 * MS);
	assert_int_equal(fc_backoff_failed(&b), 500 * MS);
	assert_int_equal(fc_backoff_failed(&b), 1 * S);
	assert_int_equal(fc_backoff_failed(&b), 2 * S);
	assert_int_equal(fc_backoff_failed(&b), 2 * S);
	/* A max that is no power-of-two multiple of first is reached, not overshot. */
	fc_backoff_init(&b, 1 * S, 10 * S, 3 * S);
	assert_int_equal(fc_backoff_failed(&b), 1 * S);
	assert_int_equal(fc_backoff_failed(&b), 2 * S);
	assert_int_equal(fc_backoff_failed(&b), 4 * S);
	assert_int_equal(fc_backoff_failed(&b), 8 * S);
	assert_int_equal(fc_backoff_failed(&b), 10 * S);
	assert_int_equal(fc_backoff_failed(&b), 10 * S);
}

/* A connection that stayed up for steady was a success: the next wait is first again, however
 * many tries had failed before it. */
static void test_steady_connection_starts_over(void **state)
{
	struct fc_backoff b;

	(void)state;
	fc_backoff_init(&b, 1 * S, 10 * S, 3 * S);
	for (int i = 0; i < 5; i++)
		fc_backoff_failed(&b);
	fc_backoff_up(&b, 100 * S);
	assert_int_equal(fc_backoff_down(&b, 103 * S), 1 * S);
	/* and the one after that doubles again */
	assert_int_equal(fc_backoff_failed(&b), 2 * S);
}

/* A connection that ended before it was steady (taken, then refused or not started) counts as
 * one more failed try: a peer that drops every call at once is not redialled in a loop. */
static void test_short_connection_is_a_failure(void **state)
{
	struct fc_backoff b;

	(void)state;
	fc_backoff_init(&b, 250 * MS, 2 * S, 3 * S);
	fc_backoff_up(&b, 10 * S);
	assert_int_equal(fc_backoff_down(&b, 10 * S + 100 * MS), 250 * MS);
	fc_backoff_up(&b, 11 * S);
	assert_int_equal(fc_backoff_down(&b, 11 * S + 100 * MS), 500 * MS);
	fc_backoff_up(&b, 12 * S);
	assert_int_equal(fc_backoff_down(&b, 12 * S + 2999 * MS), 1 * S);
	/* Down without having been up (a caller's slip) is a failure, not a success. */
	assert_int_equal(fc_backoff_down(&b, 100 * S), 2 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_to_max),
		cmocka_unit_test(test_steady_connection_starts_over),
		cmocka_unit_test(test_short_connection_is_a_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
