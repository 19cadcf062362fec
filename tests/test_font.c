/* Tests of viewer/show/font.c: the built-in bitmap font the window writes its stall banner with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "font.h"

/* The mask as text, one line per row ('#' ink, '.' none), for readable comparisons. */
static void as_text(const uint8_t *mask, int w, int h, char *out)
{
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++)
			*out++ = mask[y * w + x] ? '#' : '.';
		*out++ = '\n';
	}
	*out = '\0';
}

static void test_glyph_shapes(void **state)
{
	uint8_t rows[FC_FONT_INK_H];
	static const uint8_t capital_h[FC_FONT_INK_H] = {
		0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11
	};
	static const uint8_t one[FC_FONT_INK_H] = { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e };

	(void)state;
	fc_font_glyph('H', rows);
	assert_memory_equal(rows, capital_h, sizeof(rows));
	fc_font_glyph('1', rows);
	assert_memory_equal(rows, one, sizeof(rows));
	fc_font_glyph(' ', rows);
	for (int y = 0; y < FC_FONT_INK_H; y++)
		assert_int_equal(rows[y], 0);
}

/* Every printable character has ink (but the space), within 5 columns, and no two look alike. */
static void test_every_glyph_distinct(void **state)
{
	uint8_t rows[95][FC_FONT_INK_H];

	(void)state;
	for (int c = ' '; c <= '~'; c++) {
		int ink = 0;

		fc_font_glyph((unsigned char)c, rows[c - ' ']);
		for (int y = 0; y < FC_FONT_INK_H; y++) {
			assert_true(rows[c - ' '][y] < (1u << FC_FONT_INK_W));
			ink += rows[c - ' '][y] != 0;
		}
		assert_true(c == ' ' ? ink == 0 : ink > 0);
		for (int d = ' '; d < c; d++)
			assert_memory_not_equal(rows[c - ' '], rows[d - ' '], FC_FONT_INK_H);
	}
}

static void test_unknown_is_question_mark(void **state)
{
	uint8_t q[FC_FONT_INK_H], rows[FC_FONT_INK_H];

	(void)state;
	fc_font_glyph('?', q);
	fc_font_glyph(0xe2, rows); /* the first byte of a UTF-8 dash */
	assert_memory_equal(rows, q, sizeof(q));
	fc_font_glyph('\t', rows);
	assert_memory_equal(rows, q, sizeof(q));
	fc_font_glyph(127, rows);
	assert_memory_equal(rows, q, sizeof(q));
}

static void test_measure(void **state)
{
	int w, h;

	(void)state;
	fc_font_measure("A", 1, &w, &h);
	assert_int_equal(w, 5);
	assert_int_equal(h, 7);
	fc_font_measure("AB", 1, &w, &h);
	assert_int_equal(w, 11); /* 5 + 1 gap + 5 */
	fc_font_measure("AB", 3, &w, &h);
	assert_int_equal(w, 33);
	assert_int_equal(h, 21);
	/* Lines: the widest wins, 9 rows apart, no gap after the last. */
	fc_font_measure("NO SIGNAL\nx\n3.2 s", 2, &w, &h);
	assert_int_equal(w, (9 * 6 - 1) * 2);
	assert_int_equal(h, (3 * 9 - 2) * 2);
	fc_font_measure("", 4, &w, &h);
	assert_int_equal(w, 0);
	assert_int_equal(h, 0);
	fc_font_measure("a\n", 1, &w, &h); /* an empty last line still takes its place */
	assert_int_equal(w, 5);
	assert_int_equal(h, 16);
}

static void test_render_exact(void **state)
{
	uint8_t mask[13 * 9];
	char text[(13 + 1) * 9 + 1];

	(void)state;
	memset(mask, 0xaa, sizeof(mask)); /* rendering clears what was there */
	assert_int_equal(fc_font_render("Hi", 1, mask, 13, 13, 9), 0);
	as_text(mask, 13, 9, text);
	/* "Hi" is 11x7, centred in 13x9: one column and one row of margin each side. */
	assert_string_equal(text, ".............\n"
				  ".#...#...#...\n"
				  ".#...#.......\n"
				  ".#...#..##...\n"
				  ".#####...#...\n"
				  ".#...#...#...\n"
				  ".#...#...#...\n"
				  ".#...#..###..\n"
				  ".............\n");
}

static void test_render_scaled_and_centred_lines(void **state)
{
	enum { W = 12, H = 34 };
	uint8_t mask[H * W];
	char text[(W + 1) * H + 1];

	(void)state;
	/* "-" over "--": at scale 2 the block (22x32) does not fit; at scale 1 (11x16) it does,
	 * the short line centred over the long. */
	assert_int_equal(fc_font_render("-\n--", 2, mask, W, W, H), -1); /* 22 wide */
	assert_int_equal(fc_font_render("-\n--", 1, mask, W, W, H), 0);
	as_text(mask, W, H, text);
	/* Scale 1: block 11x16 at (0, 9); "-" (5 wide) starts at 0 + (11 - 5) / 2 = 3, its ink on
	 * the glyph's row 3; "--" on row 9 + 3. */
	assert_int_equal(mask[(9 + 3) * W + 3], 255);
	assert_int_equal(mask[(9 + 3) * W + 7], 255);
	assert_int_equal(mask[(9 + 3) * W + 2], 0);
	assert_int_equal(mask[(9 + 3) * W + 8], 0);
	assert_int_equal(mask[(9 + 12) * W + 0], 255);
	assert_int_equal(mask[(9 + 12) * W + 10], 255);
	assert_int_equal(mask[(9 + 12) * W + 5], 0); /* the gap between the two */
	assert_non_null(strstr(text, "...#####....\n"));
}

static void test_render_scale(void **state)
{
	enum { W = 10, H = 14 };
	uint8_t mask[H * W];

	(void)state;
	assert_int_equal(fc_font_render(".", 2, mask, W, W, H), 0);
	/* '.' has ink at columns 1-2, rows 5-6: at scale 2, pixels 2-5 of rows 10-13. */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			assert_int_equal(mask[y * W + x],
					 (x >= 2 && x < 6 && y >= 10 && y < 14) ? 255 : 0);
}

static void test_render_refuses_what_does_not_fit(void **state)
{
	uint8_t mask[64];

	(void)state;
	memset(mask, 7, sizeof(mask));
	assert_int_equal(fc_font_render("AB", 1, mask, 8, 8, 8), -1);	/* 11 wide */
	assert_int_equal(fc_font_render("A\nB", 1, mask, 8, 8, 8), -1); /* 16 tall */
	assert_int_equal(fc_font_render("A", 0, mask, 8, 8, 8), -1);
	assert_int_equal(fc_font_render("A", 1, mask, 4, 8, 8), -1); /* stride < width */
	for (size_t i = 0; i < sizeof(mask); i++)
		assert_int_equal(mask[i], 7); /* nothing drawn */
	assert_int_equal(fc_font_render("", 1, mask, 8, 8, 8), 0);
	for (size_t i = 0; i < sizeof(mask); i++)
		assert_int_equal(mask[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glyph_shapes),
		cmocka_unit_test(test_every_glyph_distinct),
		cmocka_unit_test(test_unknown_is_question_mark),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_render_scaled_and_centred_lines),
		cmocka_unit_test(test_render_scale),
		cmocka_unit_test(test_render_refuses_what_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
