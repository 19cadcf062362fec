#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Heap-allocated: a histogram is ~16 KB, kept off cmocka's stack. */
static struct fc_hist *hist_new(void)
{
	struct fc_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	fc_hist_reset(h);
	return h;
}

static uint64_t bucket_total(const struct fc_hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i < FC_HIST_BUCKETS; i++)
		n += h->bucket[i];
	return n;
}

/* The nearest-rank quantile of 1..n: the ceil(q * n)-th value. */
static uint64_t rank_of(double q, uint64_t n)
{
	uint64_t r = (uint64_t)ceil(q * (double)n);

	return r < 1 ? 1 : r;
}

/* An empty histogram has no samples, min UINT64_MAX, and answers 0 to every question. */
static void test_empty(void **state)
{
	struct fc_hist *h = hist_new();

	(void)state;
	assert_true(h->count == 0);
	assert_true(h->min == UINT64_MAX);
	assert_true(h->max == 0);
	assert_true(fc_hist_quantile(h, 0.0) == 0);
	assert_true(fc_hist_quantile(h, 0.5) == 0);
	assert_true(fc_hist_quantile(h, 1.0) == 0);
	assert_true(fc_hist_mean(h) == 0.0);
	assert_true(bucket_total(h) == 0);
	free(h);
}

/* Values below FC_HIST_SUB are kept exactly, and so are quantiles over them. */
static void test_small_exact(void **state)
{
	struct fc_hist *h = hist_new();

	(void)state;
	for (uint64_t v = 0; v < FC_HIST_SUB; v++)
		fc_hist_add(h, v);
	for (uint64_t k = 1; k <= FC_HIST_SUB; k++)
		assert_int_equal(fc_hist_quantile(h, (double)k / FC_HIST_SUB), k - 1);
	assert_int_equal(fc_hist_quantile(h, 0.5), 31);
	assert_true(fc_hist_mean(h) == 31.5);

	fc_hist_reset(h);
	for (int i = 0; i < 10; i++)
		fc_hist_add(h, 5);
	fc_hist_add(h, 63);
	assert_int_equal(fc_hist_quantile(h, 0.5), 5);
	assert_int_equal(fc_hist_quantile(h, 0.9), 5);	 /* rank 10 of 11 */
	assert_int_equal(fc_hist_quantile(h, 0.95), 63); /* rank 11 */
	free(h);
}

/* Nearest-rank quantiles of 1..1000 are within 1.6% of the exact ones, and never decrease. */
static void test_quantiles_1_to_1000(void **state)
{
	struct fc_hist *h = hist_new();
	uint64_t prev = 0;

	(void)state;
	for (uint64_t v = 1; v <= 1000; v++)
		fc_hist_add(h, v);
	for (int i = 1; i < 1000; i++) {
		double q = i / 1000.0;
		uint64_t want = rank_of(q, 1000);
		uint64_t got = fc_hist_quantile(h, q);

		assert_true(fabs((double)got - (double)want) <= 0.016 * (double)want);
		assert_true(got >= prev);
		prev = got;
	}
	/* The usual percentiles, spelled out. */
	assert_true(fabs((double)fc_hist_quantile(h, 0.5) - 500.0) <= 8.0);
	assert_true(fabs((double)fc_hist_quantile(h, 0.99) - 990.0) <= 15.9);
	assert_true(fc_hist_mean(h) == 500.5);
	free(h);
}

/* q <= 0 gives min and q >= 1 max exactly, even where their buckets are wide; no quantile
 * falls outside [min, max]; NaN is treated as 0. */
static void test_min_max_exact(void **state)
{
	struct fc_hist *h = hist_new();

	(void)state;
	fc_hist_add(h, 1000003);
	fc_hist_add(h, 7777777777ull);
	fc_hist_add(h, 123456789);
	assert_true(h->min == 1000003);
	assert_true(h->max == 7777777777ull);
	assert_true(fc_hist_quantile(h, 0.0) == 1000003);
	assert_true(fc_hist_quantile(h, -1.0) == 1000003);
	assert_true(fc_hist_quantile(h, NAN) == 1000003);
	assert_true(fc_hist_quantile(h, 1.0) == 7777777777ull);
	assert_true(fc_hist_quantile(h, 2.0) == 7777777777ull);
	/* A single sample: every quantile is that sample, clamped out of its bucket's middle. */
	fc_hist_reset(h);
	fc_hist_add(h, 1000003);
	assert_true(fc_hist_quantile(h, 0.5) == 1000003);
	assert_true(fc_hist_quantile(h, 0.999) == 1000003);
	free(h);
}

/* Merging two histograms gives exactly the histogram of all their samples; merging an empty
 * one changes nothing (its min of UINT64_MAX does not leak in). */
static void test_merge(void **state)
{
	struct fc_hist *a = hist_new();
	struct fc_hist *b = hist_new();
	struct fc_hist *all = hist_new();
	struct fc_hist *empty = hist_new();
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		uint64_t v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = x >> (i % 60); /* values spread over many powers of two */
		fc_hist_add(i % 3 ? a : b, v);
		fc_hist_add(all, v);
	}
	fc_hist_merge(a, b);
	assert_true(a->count == all->count);
	assert_true(a->sum == all->sum);
	assert_true(a->min == all->min);
	assert_true(a->max == all->max);
	assert_memory_equal(a->bucket, all->bucket, sizeof(a->bucket));

	fc_hist_merge(a, empty);
	assert_true(a->min == all->min);
	assert_true(a->count == all->count);
	fc_hist_merge(empty, all);
	assert_true(empty->min == all->min);
	assert_memory_equal(empty->bucket, all->bucket, sizeof(all->bucket));
	free(a);
	free(b);
	free(all);
	free(empty);
}

/* Large values (10 s in ns, up to UINT64_MAX) land in a bucket, are counted, and their
 * quantiles stay within 1.6%. */
static void test_big_values(void **state)
{
	struct fc_hist *h = hist_new();
	const uint64_t ten_s = 10000000000ull;

	(void)state;
	fc_hist_add(h, ten_s);
	assert_true(bucket_total(h) == 1);
	fc_hist_add(h, ten_s + ten_s / 2);
	fc_hist_add(h, ten_s * 2);
	assert_true(fabs((double)fc_hist_quantile(h, 0.5) / (double)(ten_s + ten_s / 2) - 1.0) <=
		    0.016);
	fc_hist_add(h, UINT64_MAX);
	fc_hist_add(h, (uint64_t)1 << 63);
	assert_true(bucket_total(h) == 5);
	assert_true(fc_hist_quantile(h, 1.0) == UINT64_MAX);
	assert_true(fabs((double)fc_hist_quantile(h, 0.8) / 9223372036854775808.0 - 1.0) <= 0.016);

	fc_hist_reset(h);
	for (int e = 0; e < 64; e++) {
		uint64_t v = (uint64_t)1 << e;

		fc_hist_add(h, v);
		fc_hist_add(h, v + (v - 1)); /* the top of the same power of two */
	}
	assert_true(bucket_total(h) == 128);
	assert_true(fc_hist_quantile(h, 1.0) == UINT64_MAX);
	free(h);
}

/* The mean is the exact sum over the count. */
static void test_mean(void **state)
{
	struct fc_hist *h = hist_new();

	(void)state;
	fc_hist_add(h, 1000);
	fc_hist_add(h, 2000);
	fc_hist_add(h, 6000);
	assert_true(fc_hist_mean(h) == 3000.0);
	free(h);
}

/* The meter's rate is the events since the last reading over the seconds since then; with no
 * time elapsed it is 0 and the events wait for the next reading. */
static void test_meter(void **state)
{
	struct fc_meter m;
	const uint64_t s = 1000000000ull;

	(void)state;
	fc_meter_init(&m, 5 * s);
	assert_true(m.total == 0);
	m.total += 30;
	assert_true(fabs(fc_meter_rate(&m, 6 * s) - 30.0) < 1e-9);
	m.total += 15;
	assert_true(fabs(fc_meter_rate(&m, 6 * s + s / 2) - 30.0) < 1e-9);
	m.total += 7;
	assert_true(fc_meter_rate(&m, 6 * s + s / 2) == 0.0);
	assert_true(fabs(fc_meter_rate(&m, 7 * s + s / 2) - 7.0) < 1e-9);
	assert_true(fc_meter_rate(&m, 8 * s + s / 2) == 0.0); /* nothing happened in that second */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_quantiles_1_to_1000),
		cmocka_unit_test(test_min_max_exact),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_big_values),
		cmocka_unit_test(test_mean),
		cmocka_unit_test(test_meter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
