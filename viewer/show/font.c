#include "font.h"

#include <string.h>

#define FIRST ' '
#define LAST  '~'

/* The glyphs of ' ' to '~', drawn for this project: 'X' is ink, rows top to bottom. The
 * descenders of g, j, p, q and y stay inside the 7 rows: lower case is a little raised. */
static const char art[LAST - FIRST + 1][FC_FONT_INK_H][FC_FONT_INK_W + 1] = {
	{ ".....", ".....", ".....", ".....", ".....", ".....", "....." }, /* space */
	{ "..X..", "..X..", "..X..", "..X..", "..X..", ".....", "..X.." }, /* ! */
	{ ".X.X.", ".X.X.", ".....", ".....", ".....", ".....", "....." }, /* " */
	{ ".X.X.", ".X.X.", "XXXXX", ".X.X.", "XXXXX", ".X.X.", ".X.X." }, /* # */
	{ "..X..", ".XXXX", "X.X..", ".XXX.", "..X.X", "XXXX.", "..X.." }, /* $ */
	{ "XX...", "XX..X", "...X.", "..X..", ".X...", "X..XX", "...XX" }, /* % */
	{ ".XX..", "X..X.", "X.X..", ".X...", "X.X.X", "X..X.", ".XX.X" }, /* & */
	{ "..X..", "..X..", ".....", ".....", ".....", ".....", "....." }, /* ' */
	{ "...X.", "..X..", ".X...", ".X...", ".X...", "..X..", "...X." }, /* ( */
	{ ".X...", "..X..", "...X.", "...X.", "...X.", "..X..", ".X..." }, /* ) */
	{ ".....", "..X..", "X.X.X", ".XXX.", "X.X.X", "..X..", "....." }, /* star */
	{ ".....", "..X..", "..X..", "XXXXX", "..X..", "..X..", "....." }, /* + */
	{ ".....", ".....", ".....", ".....", ".XX..", "..X..", ".X..." }, /* , */
	{ ".....", ".....", ".....", "XXXXX", ".....", ".....", "....." }, /* - */
	{ ".....", ".....", ".....", ".....", ".....", ".XX..", ".XX.." }, /* . */
	{ ".....", "....X", "...X.", "..X..", ".X...", "X....", "....." }, /* slash */
	{ ".XXX.", "X...X", "X..XX", "X.X.X", "XX..X", "X...X", ".XXX." }, /* 0 */
	{ "..X..", ".XX..", "..X..", "..X..", "..X..", "..X..", ".XXX." }, /* 1 */
	{ ".XXX.", "X...X", "....X", "...X.", "..X..", ".X...", "XXXXX" }, /* 2 */
	{ "XXXXX", "...X.", "..X..", "...X.", "....X", "X...X", ".XXX." }, /* 3 */
	{ "...X.", "..XX.", ".X.X.", "X..X.", "XXXXX", "...X.", "...X." }, /* 4 */
	{ "XXXXX", "X....", "XXXX.", "....X", "....X", "X...X", ".XXX." }, /* 5 */
	{ "..XX.", ".X...", "X....", "XXXX.", "X...X", "X...X", ".XXX." }, /* 6 */
	{ "XXXXX", "....X", "...X.", "..X..", ".X...", ".X...", ".X..." }, /* 7 */
	{ ".XXX.", "X...X", "X...X", ".XXX.", "X...X", "X...X", ".XXX." }, /* 8 */
	{ ".XXX.", "X...X", "X...X", ".XXXX", "....X", "...X.", ".XX.." }, /* 9 */
	{ ".....", ".XX..", ".XX..", ".....", ".XX..", ".XX..", "....." }, /* : */
	{ ".....", ".XX..", ".XX..", ".....", ".XX..", "..X..", ".X..." }, /* ; */
	{ "...X.", "..X..", ".X...", "X....", ".X...", "..X..", "...X." }, /* < */
	{ ".....", ".....", "XXXXX", ".....", "XXXXX", ".....", "....." }, /* = */
	{ ".X...", "..X..", "...X.", "....X", "...X.", "..X..", ".X..." }, /* > */
	{ ".XXX.", "X...X", "....X", "...X.", "..X..", ".....", "..X.." }, /* ? */
	{ ".XXX.", "X...X", "....X", ".XX.X", "X.X.X", "X.X.X", ".XXX." }, /* @ */
	{ ".XXX.", "X...X", "X...X", "XXXXX", "X...X", "X...X", "X...X" }, /* A */
	{ "XXXX.", "X...X", "X...X", "XXXX.", "X...X", "X...X", "XXXX." }, /* B */
	{ ".XXX.", "X...X", "X....", "X....", "X....", "X...X", ".XXX." }, /* C */
	{ "XXX..", "X..X.", "X...X", "X...X", "X...X", "X..X.", "XXX.." }, /* D */
	{ "XXXXX", "X....", "X....", "XXXX.", "X....", "X....", "XXXXX" }, /* E */
	{ "XXXXX", "X....", "X....", "XXXX.", "X....", "X....", "X...." }, /* F */
	{ ".XXX.", "X...X", "X....", "X.XXX", "X...X", "X...X", ".XXXX" }, /* G */
	{ "X...X", "X...X", "X...X", "XXXXX", "X...X", "X...X", "X...X" }, /* H */
	{ ".XXX.", "..X..", "..X..", "..X..", "..X..", "..X..", ".XXX." }, /* I */
	{ "..XXX", "...X.", "...X.", "...X.", "...X.", "X..X.", ".XX.." }, /* J */
	{ "X...X", "X..X.", "X.X..", "XX...", "X.X..", "X..X.", "X...X" }, /* K */
	{ "X....", "X....", "X....", "X....", "X....", "X....", "XXXXX" }, /* L */
	{ "X...X", "XX.XX", "X.X.X", "X.X.X", "X...X", "X...X", "X...X" }, /* M */
	{ "X...X", "X...X", "XX..X", "X.X.X", "X..XX", "X...X", "X...X" }, /* N */
	{ ".XXX.", "X...X", "X...X", "X...X", "X...X", "X...X", ".XXX." }, /* O */
	{ "XXXX.", "X...X", "X...X", "XXXX.", "X....", "X....", "X...." }, /* P */
	{ ".XXX.", "X...X", "X...X", "X...X", "X.X.X", "X..X.", ".XX.X" }, /* Q */
	{ "XXXX.", "X...X", "X...X", "XXXX.", "X.X..", "X..X.", "X...X" }, /* R */
	{ ".XXXX", "X....", "X....", ".XXX.", "....X", "....X", "XXXX." }, /* S */
	{ "XXXXX", "..X..", "..X..", "..X..", "..X..", "..X..", "..X.." }, /* T */
	{ "X...X", "X...X", "X...X", "X...X", "X...X", "X...X", ".XXX." }, /* U */
	{ "X...X", "X...X", "X...X", "X...X", "X...X", ".X.X.", "..X.." }, /* V */
	{ "X...X", "X...X", "X...X", "X.X.X", "X.X.X", "X.X.X", ".X.X." }, /* W */
	{ "X...X", "X...X", ".X.X.", "..X..", ".X.X.", "X...X", "X...X" }, /* X */
	{ "X...X", "X...X", ".X.X.", "..X..", "..X..", "..X..", "..X.." }, /* Y */
	{ "XXXXX", "....X", "...X.", "..X..", ".X...", "X....", "XXXXX" }, /* Z */
	{ ".XXX.", ".X...", ".X...", ".X...", ".X...", ".X...", ".XXX." }, /* [ */
	{ ".....", "X....", ".X...", "..X..", "...X.", "....X", "....." }, /* backslash */
	{ ".XXX.", "...X.", "...X.", "...X.", "...X.", "...X.", ".XXX." }, /* ] */
	{ "..X..", ".X.X.", "X...X", ".....", ".....", ".....", "....." }, /* ^ */
	{ ".....", ".....", ".....", ".....", ".....", ".....", "XXXXX" }, /* _ */
	{ ".X...", "..X..", ".....", ".....", ".....", ".....", "....." }, /* ` */
	{ ".....", ".....", ".XXX.", "....X", ".XXXX", "X...X", ".XXXX" }, /* a */
	{ "X....", "X....", "X.XX.", "XX..X", "X...X", "X...X", "XXXX." }, /* b */
	{ ".....", ".....", ".XXX.", "X....", "X....", "X...X", ".XXX." }, /* c */
	{ "....X", "....X", ".XX.X", "X..XX", "X...X", "X...X", ".XXXX" }, /* d */
	{ ".....", ".....", ".XXX.", "X...X", "XXXXX", "X....", ".XXX." }, /* e */
	{ "..XX.", ".X..X", ".X...", "XXX..", ".X...", ".X...", ".X..." }, /* f */
	{ ".....", ".....", ".XXXX", "X...X", ".XXXX", "....X", ".XXX." }, /* g */
	{ "X....", "X....", "X.XX.", "XX..X", "X...X", "X...X", "X...X" }, /* h */
	{ "..X..", ".....", ".XX..", "..X..", "..X..", "..X..", ".XXX." }, /* i */
	{ "...X.", ".....", "..XX.", "...X.", "...X.", "X..X.", ".XX.." }, /* j */
	{ "X....", "X....", "X..X.", "X.X..", "XX...", "X.X..", "X..X." }, /* k */
	{ ".XX..", "..X..", "..X..", "..X..", "..X..", "..X..", ".XXX." }, /* l */
	{ ".....", ".....", "XX.X.", "X.X.X", "X.X.X", "X...X", "X...X" }, /* m */
	{ ".....", ".....", "X.XX.", "XX..X", "X...X", "X...X", "X...X" }, /* n */
	{ ".....", ".....", ".XXX.", "X...X", "X...X", "X...X", ".XXX." }, /* o */
	{ ".....", ".....", "XXXX.", "X...X", "XXXX.", "X....", "X...." }, /* p */
	{ ".....", ".....", ".XX.X", "X..XX", ".XXXX", "....X", "....X" }, /* q */
	{ ".....", ".....", "X.XX.", "XX..X", "X....", "X....", "X...." }, /* r */
	{ ".....", ".....", ".XXX.", "X....", ".XXX.", "....X", "XXXX." }, /* s */
	{ ".X...", ".X...", "XXX..", ".X...", ".X...", ".X..X", "..XX." }, /* t */
	{ ".....", ".....", "X...X", "X...X", "X...X", "X..XX", ".XX.X" }, /* u */
	{ ".....", ".....", "X...X", "X...X", "X...X", ".X.X.", "..X.." }, /* v */
	{ ".....", ".....", "X...X", "X...X", "X.X.X", "X.X.X", ".X.X." }, /* w */
	{ ".....", ".....", "X...X", ".X.X.", "..X..", ".X.X.", "X...X" }, /* x */
	{ ".....", ".....", "X...X", "X...X", ".XXXX", "....X", ".XXX." }, /* y */
	{ ".....", ".....", "XXXXX", "...X.", "..X..", ".X...", "XXXXX" }, /* z */
	{ "...X.", "..X..", "..X..", ".X...", "..X..", "..X..", "...X." }, /* { */
	{ "..X..", "..X..", "..X..", "..X..", "..X..", "..X..", "..X.." }, /* | */
	{ ".X...", "..X..", "..X..", "...X.", "..X..", "..X..", ".X..." }, /* } */
	{ ".....", ".....", ".X...", "X.X.X", "...X.", ".....", "....." }, /* ~ */
};

void fc_font_glyph(unsigned char c, uint8_t rows[FC_FONT_INK_H])
{
	if (c < FIRST || c > LAST)
		c = '?';
	for (int y = 0; y < FC_FONT_INK_H; y++) {
		uint8_t bits = 0;

		for (int x = 0; x < FC_FONT_INK_W; x++)
			bits = (uint8_t)(bits << 1 | (art[c - FIRST][y][x] == 'X'));
		rows[y] = bits;
	}
}

/* Length of the line starting at s (up to '\n' or the end). */
static int line_len(const char *s)
{
	const char *nl = strchr(s, '\n');

	return (int)(nl ? nl - s : (ptrdiff_t)strlen(s));
}

void fc_font_measure(const char *text, int scale, int *width, int *height)
{
	int lines = 0;
	int widest = 0;

	*width = *height = 0;
	if (!text || !text[0] || scale < 1)
		return;
	for (const char *s = text;; s += line_len(s) + 1) {
		int n = line_len(s);

		widest = n > widest ? n : widest;
		lines++;
		if (!s[n])
			break;
	}
	/* No trailing gap after the last glyph or line: the block is exactly its ink's extent. */
	*width = widest ? (widest * FC_FONT_ADV - (FC_FONT_ADV - FC_FONT_INK_W)) * scale : 0;
	*height = (lines * FC_FONT_LINE - (FC_FONT_LINE - FC_FONT_INK_H)) * scale;
}

static void draw_glyph(unsigned char c, int scale, uint8_t *mask, size_t stride, int x0, int y0)
{
	uint8_t rows[FC_FONT_INK_H];

	fc_font_glyph(c, rows);
	for (int y = 0; y < FC_FONT_INK_H; y++) {
		for (int x = 0; x < FC_FONT_INK_W; x++) {
			if (!(rows[y] >> (FC_FONT_INK_W - 1 - x) & 1))
				continue;
			for (int dy = 0; dy < scale; dy++)
				memset(mask + (size_t)(y0 + y * scale + dy) * stride +
					   (size_t)(x0 + x * scale),
				       255, (size_t)scale);
		}
	}
}

int fc_font_render(const char *text, int scale, uint8_t *mask, size_t stride, int width, int height)
{
	int tw, th;
	int top;

	if (scale < 1)
		return -1;
	fc_font_measure(text, scale, &tw, &th);
	if (width < 0 || height < 0 || stride < (size_t)width || tw > width || th > height)
		return -1;
	for (int y = 0; y < height; y++)
		memset(mask + (size_t)y * stride, 0, (size_t)width);
	if (!tw)
		return 0;
	top = (height - th) / 2;
	for (const char *s = text;; s += line_len(s) + 1) {
		int n = line_len(s);
		int lw = n ? (n * FC_FONT_ADV - (FC_FONT_ADV - FC_FONT_INK_W)) * scale : 0;
		int left = (width - lw) / 2;

		for (int i = 0; i < n; i++)
			draw_glyph((unsigned char)s[i], scale, mask, stride,
				   left + i * FC_FONT_ADV * scale, top);
		top += FC_FONT_LINE * scale;
		if (!s[n])
			break;
	}
	return 0;
}
