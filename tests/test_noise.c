/* Tests of sender/capture/noise.c: a sensor's noise, within its amplitude, saturating, different per row
 * and per frame, in place or not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "noise.h"

#define LEN 1000

static void test_within_amplitude_and_zero_mean(void **state)
{
	struct fc_noise *n = fc_noise_new(LEN);
	uint8_t src[LEN], dst[LEN];
	uint64_t rng = 1;
	long sum = 0;
	int lo = 0, hi = 0;

	(void)state;
	assert_non_null(n);
	memset(src, 128, sizeof(src));
	for (int row = 0; row < 100; row++) {
		fc_noise_add(n, dst, src, LEN, &rng);
		for (int i = 0; i < LEN; i++) {
			int d = dst[i] - 128;

			assert_true(d >= -FC_NOISE_AMP && d <= FC_NOISE_AMP);
			sum += d;
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
	}
	assert_true(labs(sum) < 100 * LEN / 20); /* mean within 0.05 of zero */
	assert_true(lo <= -3 && hi >= 3);	 /* and it does spread */
	fc_noise_free(n);
}

static void test_saturates_in_place_and_differs(void **state)
{
	struct fc_noise *n = fc_noise_new(LEN);
	uint8_t a[LEN], b[LEN];
	uint64_t rng = 42;

	(void)state;
	assert_non_null(n);
	memset(a, 0, sizeof(a));
	fc_noise_add(n, a, a, LEN, &rng); /* in place */
	for (int i = 0; i < LEN; i++)
		assert_true(a[i] <= FC_NOISE_AMP);
	memset(a, 255, sizeof(a));
	fc_noise_add(n, a, a, LEN, &rng);
	for (int i = 0; i < LEN; i++)
		assert_true(a[i] >= 255 - FC_NOISE_AMP);

	memset(a, 100, sizeof(a));
	memset(b, 100, sizeof(b));
	fc_noise_add(n, a, a, LEN, &rng);
	fc_noise_add(n, b, b, LEN, &rng); /* the next row: other noise */
	assert_memory_not_equal(a, b, LEN);
	/* An odd length, shorter than a chunk, touches nothing beyond it. */
	memset(a, 7, sizeof(a));
	fc_noise_add(n, a, a, 13, &rng);
	for (int i = 13; i < LEN; i++)
		assert_int_equal(a[i], 7);
	fc_noise_free(n);
	fc_noise_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_amplitude_and_zero_mean),
		cmocka_unit_test(test_saturates_in_place_and_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
