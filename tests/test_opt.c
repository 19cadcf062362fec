/* Tests of common/opt.c: option values (integers, decimals, WIDTHxHEIGHT) in range, out of range
 * and malformed, and messages that name the option and the value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "opt.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

#define SENTINEL_L -777L
#define SENTINEL_D -777.0
#define SENTINEL_I -777

static void int_ok(const char *text, long min, long max, long want)
{
	long v = SENTINEL_L;
	char err[256] = "";

	if (fc_opt_int("--fps", text, min, max, &v, err, sizeof(err)) != 0)
		fail_msg("'%s' in [%ld, %ld] refused: %s", text, min, max, err);
	assert_int_equal(v, want);
}

/* A refused value leaves *out alone and the message names the option and `shown`. */
static void int_bad(const char *text, long min, long max, const char *shown, const char *why)
{
	long v = SENTINEL_L;
	char err[256] = "";

	if (fc_opt_int("--fps", text, min, max, &v, err, sizeof(err)) == 0)
		fail_msg("'%s' in [%ld, %ld] accepted as %ld", text, min, max, v);
	assert_int_equal(v, SENTINEL_L);
	assert_contains(err, "--fps");
	assert_contains(err, shown);
	assert_contains(err, why);
}

static void double_ok(const char *text, double min, double max, double want)
{
	double v = SENTINEL_D;
	char err[256] = "";

	if (fc_opt_double("--max-age", text, min, max, &v, err, sizeof(err)) != 0)
		fail_msg("'%s' in [%g, %g] refused: %s", text, min, max, err);
	assert_true(v == want);
}

static void double_bad(const char *text, double min, double max, const char *shown, const char *why)
{
	double v = SENTINEL_D;
	char err[256] = "";

	if (fc_opt_double("--max-age", text, min, max, &v, err, sizeof(err)) == 0)
		fail_msg("'%s' in [%g, %g] accepted as %g", text, min, max, v);
	assert_true(v == SENTINEL_D);
	assert_contains(err, "--max-age");
	assert_contains(err, shown);
	assert_contains(err, why);
}

static void size_ok(const char *text, int want_w, int want_h)
{
	int w = SENTINEL_I;
	int h = SENTINEL_I;
	char err[256] = "";

	if (fc_opt_size("--size", text, 16, 4096, &w, &h, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", text, err);
	assert_int_equal(w, want_w);
	assert_int_equal(h, want_h);
}

static void size_bad(const char *text, const char *shown, const char *why)
{
	int w = SENTINEL_I;
	int h = SENTINEL_I;
	char err[256] = "";

	if (fc_opt_size("--size", text, 16, 4096, &w, &h, err, sizeof(err)) == 0)
		fail_msg("'%s' accepted as %dx%d", text, w, h);
	assert_int_equal(w, SENTINEL_I);
	assert_int_equal(h, SENTINEL_I);
	assert_contains(err, "--size");
	assert_contains(err, shown);
	assert_contains(err, why);
}

/* Integers inside the range, including both ends and negatives, are taken as written. */
static void test_int_in_range(void **state)
{
	(void)state;
	int_ok("30", 1, 120, 30);
	int_ok("1", 1, 120, 1);
	int_ok("120", 1, 120, 120);
	int_ok("-5", -10, 10, -5);
	int_ok("0", -10, 10, 0);
	int_ok("007", 0, 10, 7);
}

/* Integers outside the range are refused with the option, the value and the range. */
static void test_int_out_of_range(void **state)
{
	(void)state;
	int_bad("0", 1, 120, "0", "1 to 120");
	int_bad("121", 1, 120, "121", "1 to 120");
	int_bad("-11", -10, 10, "-11", "-10 to 10");
	int_bad("1000000", 1, 120, "1000000", "out of range");
}

/* Garbage, trailing junk, decimals and numbers too big for a long are not whole numbers. */
static void test_int_garbage(void **state)
{
	(void)state;
	int_bad("", 1, 120, "''", "not a whole number");
	int_bad("abc", 1, 120, "'abc'", "not a whole number");
	int_bad("30fps", 1, 120, "'30fps'", "not a whole number");
	int_bad("30 ", 1, 120, "'30 '", "not a whole number");
	int_bad("2.5", 1, 120, "'2.5'", "not a whole number");
	int_bad("0x10", 0, 100, "'0x10'", "not a whole number");
	int_bad("-", 1, 120, "'-'", "not a whole number");
	int_bad("99999999999999999999", 1, 120, "'99999999999999999999'", "not a whole number");
	int_bad("-99999999999999999999", 1, 120, "'-99999999999999999999'", "not a whole number");
}

/* Decimals inside the range, with exponents and at both ends, are taken. */
static void test_double_in_range(void **state)
{
	(void)state;
	double_ok("80", 0, 1000, 80.0);
	double_ok("12.5", 0, 1000, 12.5);
	double_ok("0", 0, 1000, 0.0);
	double_ok("1000", 0, 1000, 1000.0);
	double_ok("1e2", 0, 1000, 100.0);
	double_ok("-0.25", -1, 1, -0.25);
}

/* Decimals outside the range are refused with the option, the value and the range. */
static void test_double_out_of_range(void **state)
{
	(void)state;
	double_bad("1000.5", 0, 1000, "1000.5", "0 to 1000");
	double_bad("-0.5", 0, 1000, "-0.5", "out of range");
	double_bad("2.5e3", 0, 1000, "2500", "out of range");
}

/* A value just above the maximum is shown as typed, not rounded to the maximum itself. */
static void test_double_out_of_range_shows_value(void **state)
{
	(void)state;
	double_bad("100000.5", 0, 100000, "100000.5", "out of range");
}

/* Garbage, trailing junk, NaN, infinities and overflowing exponents are not numbers. */
static void test_double_garbage(void **state)
{
	(void)state;
	double_bad("", 0, 1000, "''", "not a number");
	double_bad("fast", 0, 1000, "'fast'", "not a number");
	double_bad("80ms", 0, 1000, "'80ms'", "not a number");
	double_bad("1.5.2", 0, 1000, "'1.5.2'", "not a number");
	double_bad("80 ", 0, 1000, "'80 '", "not a number");
	double_bad("nan", 0, 1000, "'nan'", "not a number");
	double_bad("inf", 0, 1000, "'inf'", "not a number");
	double_bad("-infinity", -1000, 1000, "'-infinity'", "not a number");
	double_bad("1e999", 0, 1e308, "'1e999'", "not a number");
}

/* WIDTHxHEIGHT (x or X) within range and even is taken. */
static void test_size_good(void **state)
{
	(void)state;
	size_ok("640x480", 640, 480);
	size_ok("1280X720", 1280, 720);
	size_ok("16x16", 16, 16);
	size_ok("4096x4096", 4096, 4096);
	size_ok("4096x16", 4096, 16);
}

/* A side outside the range is refused, naming the option, the size and the range. */
static void test_size_out_of_range(void **state)
{
	(void)state;
	size_bad("8x480", "8x480", "16 to 4096");
	size_bad("640x4098", "640x4098", "16 to 4096");
	size_bad("0x0", "0x0", "16 to 4096");
	size_bad("-640x480", "-640x480", "16 to 4096");
}

/* Odd widths or heights are refused (4:2:0 wants even sizes), naming the size. */
static void test_size_odd(void **state)
{
	(void)state;
	size_bad("641x480", "641x480", "even");
	size_bad("640x481", "640x481", "even");
	size_bad("17x17", "17x17", "even");
}

/* Anything that is not NUMBERxNUMBER is refused with an example of the form. */
static void test_size_garbage(void **state)
{
	(void)state;
	size_bad("", "''", "WIDTHxHEIGHT");
	size_bad("640", "'640'", "WIDTHxHEIGHT");
	size_bad("640x", "'640x'", "WIDTHxHEIGHT");
	size_bad("x480", "'x480'", "WIDTHxHEIGHT");
	size_bad("640*480", "'640*480'", "WIDTHxHEIGHT");
	size_bad("640x480x2", "'640x480x2'", "WIDTHxHEIGHT");
	size_bad("640x480 ", "'640x480 '", "WIDTHxHEIGHT");
	size_bad("640.5x480", "'640.5x480'", "WIDTHxHEIGHT");
	size_bad("vga", "'vga'", "WIDTHxHEIGHT");
	size_bad("99999999999999999999x480", "'99999999999999999999x480'", "WIDTHxHEIGHT");
	size_bad("640x99999999999999999999", "'640x99999999999999999999'", "WIDTHxHEIGHT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_in_range),
		cmocka_unit_test(test_int_out_of_range),
		cmocka_unit_test(test_int_garbage),
		cmocka_unit_test(test_double_in_range),
		cmocka_unit_test(test_double_out_of_range),
		cmocka_unit_test(test_double_out_of_range_shows_value),
		cmocka_unit_test(test_double_garbage),
		cmocka_unit_test(test_size_good),
		cmocka_unit_test(test_size_out_of_range),
		cmocka_unit_test(test_size_odd),
		cmocka_unit_test(test_size_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
