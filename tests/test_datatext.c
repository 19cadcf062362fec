/* Tests for viewer/show/datatext.c: a frame's document laid out for the window's overlay is
 * shown as it came when it fits, wrapped after commas or at the column limit, cut to the line
 * limit with an ellipsis, padded to one width, and shows '?' once per character the font lacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datatext.h"

static int layout(const char *doc, int cols, int lines, char out[FC_DATATEXT_MAX])
{
	return fc_datatext_layout((const uint8_t *)doc, strlen(doc), cols, lines, out);
}

/* A short document is one line, exactly as it came (spaces and all). */
static void test_fits_as_it_came(void **state)
{
	char out[FC_DATATEXT_MAX];

	(void)state;
	assert_int_equal(layout("{\"t\": 21.5,\"ok\":true}", 40, 3, out), 1);
	assert_string_equal(out, "{\"t\": 21.5,\"ok\":true}");
}

/* A long document breaks after its last comma in a line's second half; lines are padded to the
 * widest, so that the centring font draws them left-aligned. */
static void test_wraps_after_commas(void **state)
{
	char out[FC_DATATEXT_MAX];

	(void)state;
	assert_int_equal(layout("{\"a\":1,\"bb\":2,\"ccc\":3}", 12, 3, out), 3);
	assert_string_equal(out, "{\"a\":1, \n\"bb\":2, \n\"ccc\":3}");
	assert_int_equal(layout("[1000,2000,3000,4000]", 10, 4, out), 3);
	assert_string_equal(out, "[1000,    \n2000,3000,\n4000]     ");
}

/* With no comma in a line's second half, the line is cut at the column limit. */
static void test_wraps_at_the_limit(void **state)
{
	char out[FC_DATATEXT_MAX];

	(void)state;
	assert_int_equal(layout("{\"label\":\"abcdefghijklmnop\"}", 10, 3, out), 3);
	assert_string_equal(out, "{\"label\":\"\nabcdefghij\nklmnop\"}  ");
	/* a comma in the first half is no place to break */
	assert_int_equal(layout("[1,\"abcdefghijkl\"]", 8, 3, out), 3);
	assert_string_equal(out, "[1,\"abcd\nefghijkl\n\"]      ");
}

/* More than the lines allowed: the last line ends in "...", within the column limit, whether it
 * was full or ended at a comma; exactly as many as allowed: no ellipsis. */
static void test_cut_with_ellipsis(void **state)
{
	char out[FC_DATATEXT_MAX];

	(void)state;
	assert_int_equal(layout("abcdefghijklmnopqrstuvwxyz", 8, 2, out), 2);
	assert_string_equal(out, "abcdefgh\nijklm...");
	assert_int_equal(layout("[1,2,3,4,5,6,7,8,9]", 8, 1, out), 1);
	assert_string_equal(out, "[1,2,...");
	assert_int_equal(layout("[1234,5678,9]", 6, 2, out), 2);
	assert_string_equal(out, "[1234,\n567...");
	assert_int_equal(layout("abcdefghijklmnop", 8, 2, out), 2);
	assert_string_equal(out, "abcdefgh\nijklmnop");
	/* the limits hold whatever the caller asks */
	{
		char doc[4096];

		memset(doc, 'x', sizeof(doc) - 1);
		doc[sizeof(doc) - 1] = '\0';
		assert_int_equal(layout(doc, 1000, 1000, out), FC_DATATEXT_MAX_LINES);
		assert_int_equal(strlen(out),
				 FC_DATATEXT_MAX_LINES * (FC_DATATEXT_MAX_COLS + 1) - 1);
		assert_memory_equal(out + strlen(out) - 3, "...", 3);
	}
}

/* Each character beyond ASCII is one '?', whatever its length in UTF-8 (2, 3, 4 bytes), and
 * counts as one column; a control byte (never in a checked document) is a '?' too. */
static void test_non_ascii(void **state)
{
	char out[FC_DATATEXT_MAX];

	(void)state;
	assert_int_equal(
	    layout("{\"l\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa4\x96\"}", 40, 2, out), 1);
	assert_string_equal(out, "{\"l\":\"caf? ? ?\"}");
	assert_int_equal(layout("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, 2, out), 2);
	assert_string_equal(out, "????\n?   ");
	assert_int_equal(layout("a\tb\x7f", 10, 1, out), 1);
	assert_string_equal(out, "a?b?");
}

/* Nothing to show: an empty document, or a tile too narrow for even an ellipsis. */
static void test_nothing(void **state)
{
	char out[FC_DATATEXT_MAX] = "old";

	(void)state;
	assert_int_equal(fc_datatext_layout((const uint8_t *)"", 0, 40, 3, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(layout("{}", 3, 3, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(layout("{}", 40, 0, out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_as_it_came),
		cmocka_unit_test(test_wraps_after_commas),
		cmocka_unit_test(test_wraps_at_the_limit),
		cmocka_unit_test(test_cut_with_ellipsis),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
