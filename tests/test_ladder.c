/* Tests of sender/encode/ladder.c: which renditions exist, which are wanted, and what each weighs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ladder.h"

/* The ladder goes down in bytes: the full picture at the asked quality, then softer, then each
 * size at two qualities, a softer quarter and an eighth; each rung after the first is smaller
 * or softer than the one before. */
static void test_rungs_go_down(void **state)
{
	struct fc_ladder l;

	(void)state;
	fc_ladder_init(&l, 80, false, true);
	assert_int_equal(l.count, 8);
	assert_int_equal(l.rung[0].shift, 0);
	assert_int_equal(l.rung[0].quality, 80);
	assert_int_equal(l.rung[1].shift, 0);
	assert_int_equal(l.rung[1].quality, 56);
	for (int r = 1; r < l.count; r++)
		assert_true(l.rung[r].shift > l.rung[r - 1].shift ||
			    (l.rung[r].shift == l.rung[r - 1].shift &&
			     l.rung[r].quality < l.rung[r - 1].quality));
	assert_int_equal(l.rung[l.count - 1].shift, 3);
}

/* A camera's own JPEG is rung 0 (quality not known); there is no softer full-size rung, which
 * would need a whole decode and encode. --adapt off: rung 0 alone. */
static void test_passthrough_and_off(void **state)
{
	struct fc_ladder l;

	(void)state;
	fc_ladder_init(&l, 80, true, true);
	assert_int_equal(l.rung[0].quality, 0);
	for (int r = 1; r < l.count; r++)
		assert_true(l.rung[r].shift > 0);
	fc_ladder_init(&l, 80, false, false);
	assert_int_equal(l.count, 1);
}

/* Sizes are the picture's sides halved, rounded down to even; a rung whose picture would have
 * a side under 32 pixels is not made. */
static void test_sizes_and_fits(void **state)
{
	struct fc_ladder l;
	int w, h;

	(void)state;
	fc_ladder_init(&l, 80, false, true);
	fc_ladder_size(&l, 0, 1281, 721, &w, &h);
	assert_int_equal(w, 1281);
	assert_int_equal(h, 721);
	fc_ladder_size(&l, 2, 1280, 720, &w, &h);
	assert_int_equal(w, 640);
	assert_int_equal(h, 360);
	fc_ladder_size(&l, 7, 1366, 768, &w, &h);
	assert_int_equal(w, 170);
	assert_int_equal(h, 96);
	assert_true(fc_ladder_fits(&l, 7, 640, 480));  /* 80x60 */
	assert_false(fc_ladder_fits(&l, 7, 320, 240)); /* 40x30 */
	assert_true(fc_ladder_fits(&l, 4, 160, 128));  /* 40x32 */
	assert_false(fc_ladder_fits(&l, 4, 160, 120)); /* 40x30 */
	assert_true(fc_ladder_fits(&l, 0, 2, 2));      /* the full picture always */
	assert_false(fc_ladder_fits(&l, l.count, 1280, 720));
}

/* Wants are counted per rung; the capture makes the rungs wanted, or rung 0 alone when no
 * session wants any (nobody watching). */
static void test_wants(void **state)
{
	struct fc_ladder l;

	(void)state;
	fc_ladder_init(&l, 80, false, true);
	assert_int_equal(fc_ladder_wanted(&l), 1u);
	fc_ladder_move(&l, -1, 4);
	fc_ladder_move(&l, -1, 4);
	fc_ladder_move(&l, -1, 2);
	assert_int_equal(fc_ladder_wanted(&l), (1u << 4) | (1u << 2));
	fc_ladder_move(&l, 4, 5);
	assert_int_equal(fc_ladder_wanted(&l), (1u << 5) | (1u << 4) | (1u << 2));
	fc_ladder_move(&l, 4, -1);
	fc_ladder_move(&l, 5, -1);
	fc_ladder_move(&l, 2, 2); /* no change */
	assert_int_equal(fc_ladder_wanted(&l), 1u << 2);
	fc_ladder_move(&l, 2, -1);
	assert_int_equal(fc_ladder_wanted(&l), 1u);
}

/* A rung made lately weighs what it weighed (a moving average that follows a scene change
 * within a few pictures); one not made lately is predicted from the one made most lately, by
 * area and quality; nothing is known before the first. */
static void test_expect(void **state)
{
	struct fc_ladder l;
	uint32_t e;

	(void)state;
	fc_ladder_init(&l, 80, false, true);
	assert_int_equal(fc_ladder_expect(&l, 0, 1), 0);
	fc_ladder_learn(&l, 0, 100000, 1);
	assert_int_equal(fc_ladder_expect(&l, 0, 2), 100000);
	for (uint64_t seq = 2; seq < 12; seq++)
		fc_ladder_learn(&l, 0, 200000, seq);
	e = fc_ladder_expect(&l, 0, 12);
	assert_true(e > 190000 && e <= 200000);
	/* Half a side at the same quality: about a third of the bytes. */
	e = fc_ladder_expect(&l, 2, 12);
	assert_true(e > 60000 && e < 70000);
	/* Softer: fewer. */
	assert_true(fc_ladder_expect(&l, 3, 12) < e);
	/* A rung's own size, while fresh, wins over the prediction. */
	fc_ladder_learn(&l, 2, 50000, 12);
	assert_int_equal(fc_ladder_expect(&l, 2, 13), 50000);
	/* Stale after 60 pictures: predicted from the freshest rung again. */
	fc_ladder_learn(&l, 4, 10000, 100);
	e = fc_ladder_expect(&l, 2, 100);
	assert_true(e > 25000 && e < 40000);
	fc_ladder_forget(&l);
	assert_int_equal(fc_ladder_expect(&l, 4, 100), 0);
}

/* At quality 100 libjpeg's scale is 0 (every quantiser clamped to 1): predictions from and to
 * such a rung are still sizes, a third of the bytes for half a side and about six times a
 * quality 70 one's (5.8 measured with cjpeg on the photograph); the fit's power of the scale
 * made them infinite, and NaN from one q100 rung to another, an undefined cast. */
static void test_expect_quality_100(void **state)
{
	struct fc_ladder l;
	uint32_t e;

	(void)state;
	fc_ladder_init(&l, 100, false, true);
	assert_int_equal(l.rung[0].quality, 100);
	assert_int_equal(l.rung[2].quality, 100);
	fc_ladder_learn(&l, 0, 300000, 1);
	e = fc_ladder_expect(&l, 2, 100);
	assert_true(e > 90000 && e < 105000);
	fc_ladder_forget(&l);
	fc_ladder_learn(&l, 1, 100000, 1);
	e = fc_ladder_expect(&l, 0, 100);
	assert_true(e > 450000 && e < 750000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rungs_go_down),  cmocka_unit_test(test_passthrough_and_off),
		cmocka_unit_test(test_sizes_and_fits), cmocka_unit_test(test_wants),
		cmocka_unit_test(test_expect),	       cmocka_unit_test(test_expect_quality_100),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
