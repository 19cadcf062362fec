/* Tests of common/fec.c: parity over a frame's chunks, the rebuilding, and the choice of m. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dgram.h"
#include "fec.h"

#define MAXK 320
#define CS   1200

static uint8_t frame[MAXK * CS], buf[MAXK * CS], parity[FC_FEC_MAX_PARITY * CS];
static uint8_t have[MAXK / 8 + 1], have_p[FC_FEC_MAX_PARITY / 8 + 1];

static struct fc_fec *new_fec(void)
{
	char err[100];
	struct fc_fec *f = fc_fec_new(err, sizeof(err));

	assert_non_null(f);
	return f;
}

/* A frame of total bytes that differ from place to place, and its parity at cs. */
static void make(struct fc_fec *f, uint32_t total, uint32_t cs, unsigned m)
{
	for (uint32_t i = 0; i < total; i++)
		frame[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	assert_int_equal(fc_fec_encode(f, frame, total, cs, m, parity), 0);
}

/* buf as a viewer holds it: every data chunk in but those in lost_d (their place scribbled
 * over), the parity in but those in lost_p. */
static void receive(uint32_t total, uint32_t cs, unsigned m, const uint8_t *lost_d,
		    const uint8_t *lost_p)
{
	unsigned k = fc_dgram_count(total, cs);

	memcpy(buf, frame, total);
	memset(buf + total, 0xEE, (size_t)k * cs - total); /* the padding: rebuild zeroes it */
	memset(have, 0, sizeof(have));
	memset(have_p, 0, sizeof(have_p));
	for (unsigned i = 0; i < k; i++) {
		if (lost_d[i])
			memset(buf + (size_t)i * cs, 0x5A, i + 1 < k ? cs : total - (size_t)i * cs);
		else
			have[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	for (unsigned p = 0; p < m; p++)
		if (!lost_p[p])
			have_p[p / 8] |= (uint8_t)(1u << (p % 8));
}

/* Groups: one while k + m fits GF(2^8), more (the least that fit) past it; bounds refused. */
static void test_groups(void **state)
{
	(void)state;
	assert_int_equal(fc_fec_groups(84, 10), 1);
	assert_int_equal(fc_fec_groups(245, 10), 1);
	assert_int_equal(fc_fec_groups(246, 10), 2);
	assert_int_equal(fc_fec_groups(1, 1), 1);
	assert_int_equal(fc_fec_groups(FC_DGRAM_MAX_CHUNKS, FC_FEC_MAX_PARITY), FC_FEC_MAX_GROUPS);
	assert_int_equal(fc_fec_groups(84, 0), 0);
	assert_int_equal(fc_fec_groups(3, 4), 0); /* more parity than data */
	assert_int_equal(fc_fec_groups(300, FC_FEC_MAX_PARITY + 1), 0);
	assert_int_equal(fc_fec_groups(FC_DGRAM_MAX_CHUNKS + 1, 1), 0);
}

/* Every pattern of up to m lost chunks of k + m (data or parity) rebuilds exactly the frame's
 * bytes, the short last chunk to its true length and its padding to zeros; every pattern of
 * m + 1 is refused with nothing written. k = 5 (the last 700 of 1200 bytes), m = 3. */
static void test_every_pattern(void **state)
{
	struct fc_fec *f = new_fec();
	const uint32_t total = 4 * CS + 700;
	const unsigned k = 5, m = 3;
	unsigned rebuilt_patterns = 0, refused = 0;

	(void)state;
	make(f, total, CS, m);
	for (unsigned set = 0; set < 1u << (k + m); set++) {
		uint8_t ld[8] = { 0 }, lp[8] = { 0 };
		unsigned lost = (unsigned)__builtin_popcount(set), data_lost = 0;
		int r;

		for (unsigned i = 0; i < k + m; i++)
			if (set & (1u << i)) {
				if (i < k)
					ld[i] = 1, data_lost++;
				else
					lp[i - k] = 1;
			}
		if (lost > m + 1)
			continue;
		receive(total, CS, m, ld, lp);
		r = fc_fec_rebuild(f, buf, total, CS, m, have, parity, have_p);
		if (lost <= m) {
			assert_int_equal(r, (int)data_lost);
			assert_memory_equal(buf, frame, total);
			for (size_t i = total; i < (size_t)k * CS; i++)
				assert_int_equal(buf[i], 0);
			rebuilt_patterns++;
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(buf[total], 0xEE); /* nothing written */
			refused++;
		}
	}
	assert_int_equal(rebuilt_patterns, 1 + 8 + 28 + 56);
	assert_int_equal(refused, 70);
	fc_fec_free(f);
}

/* The issue's frame: 100,000 bytes, 84 chunks of 1200, m = 4, 7, 10: 300 random patterns of
 * exactly m losses each rebuild exactly; m + 1 data chunks lost are refused. */
static void test_issue_frame_random_patterns(void **state)
{
	static const unsigned ms[] = { 4, 7, 10 };
	struct fc_fec *f = new_fec();
	const uint32_t total = 100000;
	const unsigned k = 84;

	(void)state;
	srand(17);
	for (size_t t = 0; t < sizeof(ms) / sizeof(ms[0]); t++) {
		unsigned m = ms[t];

		make(f, total, CS, m);
		for (int round = 0; round < 100; round++) {
			uint8_t ld[MAXK] = { 0 }, lp[FC_FEC_MAX_PARITY] = { 0 };

			for (unsigned n = 0; n < m;) {
				unsigned i = (unsigned)rand() % (k + m);
				uint8_t *at = i < k ? &ld[i] : &lp[i - k];

				n += !*at;
				*at = 1;
			}
			receive(total, CS, m, ld, lp);
			assert_true(fc_fec_rebuild(f, buf, total, CS, m, have, parity, have_p) >=
				    0);
			assert_memory_equal(buf, frame, total);
		}
		{
			uint8_t ld[MAXK] = { 0 }, lp[FC_FEC_MAX_PARITY] = { 0 };

			memset(ld + 20, 1, m + 1); /* a burst one longer than the parity */
			receive(total, CS, m, ld, lp);
			assert_int_equal(fc_fec_rebuild(f, buf, total, CS, m, have, parity, have_p),
					 -1);
		}
	}
	fc_fec_free(f);
}

/* A frame past one code word: 300 chunks of 512 with m = 20 is two groups (even and odd
 * chunks, 10 parity each). A burst of 20 consecutive chunks (10 in each group) is rebuilt;
 * 11 lost in one group are not, whatever the other has to spare. */
static void test_interleaved_groups(void **state)
{
	struct fc_fec *f = new_fec();
	const uint32_t cs = 512, total = 300 * 512 - 7;
	const unsigned k = 300, m = 20;
	uint8_t ld[MAXK] = { 0 }, lp[FC_FEC_MAX_PARITY] = { 0 };

	(void)state;
	assert_int_equal(fc_fec_groups(k, m), 2);
	make(f, total, cs, m);
	memset(ld + 100, 1, 20);
	receive(total, cs, m, ld, lp);
	assert_int_equal(fc_fec_rebuild(f, buf, total, cs, m, have, parity, have_p), 20);
	assert_memory_equal(buf, frame, total);
	memset(ld, 0, sizeof(ld));
	for (unsigned i = 0; i < 11; i++)
		ld[i * 2] = 1; /* 11 of group 0 */
	receive(total, cs, m, ld, lp);
	assert_int_equal(fc_fec_rebuild(f, buf, total, cs, m, have, parity, have_p), -1);
	ld[299] = 1; /* the short last chunk, in group 1, with group 0's loss one less */
	ld[0] = 0;
	receive(total, cs, m, ld, lp);
	assert_int_equal(fc_fec_rebuild(f, buf, total, cs, m, have, parity, have_p), 11);
	assert_memory_equal(buf, frame, total);
	assert_int_equal(fc_fec_encode(f, frame, total, cs, 0, parity), -1);
	assert_int_equal(fc_fec_encode(f, frame, total, 100, m, parity), -1);
	fc_fec_free(f);
}

/* The model's known values: binomial for independent loss (docs/UDP.md's table: 84 chunks are
 * all in for 43.0% of frames at 1%; 4, 7, 10 parity make 99% whole at 1, 3, 5%), and bursts of
 * 3 on average needing 10, 16, 20 (values from an independent Python model of the chain). */
static void test_choice_known_values(void **state)
{
	(void)state;
	assert_float_equal(fc_fec_whole(84, 0, 0.01, 1), 0.429889, 1e-6);
	assert_float_equal(fc_fec_whole(84, 4, 0.01, 1), 0.998030, 1e-6);
	assert_float_equal(fc_fec_whole(84, 7, 0.03, 1), 0.993867, 1e-6);
	assert_float_equal(fc_fec_whole(84, 10, 0.05, 1), 0.992670, 1e-6);
	assert_float_equal(fc_fec_whole(84, 10, 0.03, 3), 0.955238, 1e-6);
	assert_int_equal(fc_fec_choose(84, 0.01, 1, 0.99, 0.25), 4);
	assert_int_equal(fc_fec_choose(84, 0.03, 1, 0.99, 0.25), 7);
	assert_int_equal(fc_fec_choose(84, 0.05, 1, 0.99, 0.25), 10);
	assert_int_equal(fc_fec_choose(84, 0.01, 3, 0.99, 0.25), 10);
	assert_int_equal(fc_fec_choose(84, 0.03, 3, 0.99, 0.25), 16);
	assert_int_equal(fc_fec_choose(84, 0.05, 3, 0.99, 0.25), 20);
	/* Bounded: 30% loss would need more than a quarter of 84; a tiny frame gets one. */
	assert_int_equal(fc_fec_choose(84, 0.30, 1, 0.99, 0.25), 21);
	assert_int_equal(fc_fec_choose(2, 0.05, 1, 0.99, 0.25), 1);
	assert_int_equal(fc_fec_choose(84, 0, 1, 0.99, 0.25), 0);
	assert_float_equal(fc_fec_whole(84, 0, 0, 1), 1, 0);
	assert_float_equal(fc_fec_whole(84, 0, 1, 1), 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_every_pattern),
		cmocka_unit_test(test_issue_frame_random_patterns),
		cmocka_unit_test(test_interleaved_groups),
		cmocka_unit_test(test_choice_known_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
