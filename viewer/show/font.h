/*
 * font: a built-in 5x7 bitmap font for printable ASCII, so that the window can say what is wrong
 * (NO SIGNAL, ALL FRAMES LATE) without a text library. Each glyph sits in a 6x9 cell (one column
 * and two rows of space), drawn at an integer scale into a one-byte-per-pixel mask that the caller
 * owns and turns into whatever its screen takes.
 *
 * Text may have several lines ('\n'); each line is centred on the widest. A byte outside printable
 * ASCII is drawn as '?'. Pure functions over caller-owned buffers; thread-safe.
 */
#ifndef FC_FONT_H
#define FC_FONT_H

#include <stddef.h>
#include <stdint.h>

#define FC_FONT_INK_W 5 /* ink columns of a glyph */
#define FC_FONT_INK_H 7 /* ink rows */
#define FC_FONT_ADV   6 /* columns from one glyph to the next */
#define FC_FONT_LINE  9 /* rows from one line to the next */

/* The glyph for c: bit (FC_FONT_INK_W - 1 - x) of rows[y] is set where (x, y) has ink. */
void fc_font_glyph(unsigned char c, uint8_t rows[FC_FONT_INK_H]);

/* Size in pixels of text drawn at scale (>= 1): the widest line by the lines' height, no margin.
 * 0 x 0 for empty text. */
void fc_font_measure(const char *text, int scale, int *width, int *height);

/*
 * Draws text at scale into mask (width x height bytes, rows stride bytes apart): 255 where there
 * is ink, 0 elsewhere; the mask is cleared first. The text block is centred in the mask. Returns
 * -1 (drawing nothing) when it does not fit, else 0.
 */
int fc_font_render(const char *text, int scale, uint8_t *mask, size_t stride, int width,
		   int height);

#endif
