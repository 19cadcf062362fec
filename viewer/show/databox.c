/* databox: a frame's document over its tile. See databox.h. */
#include "databox.h"

#include <string.h>

#include "datatext.h"
#include "font.h"

#define DATABOX_LINES	  3   /* lines at most, when the tile is tall enough */
#define DATABOX_WIDE	  480 /* a tile this wide or wider gets the larger text */
#define DATABOX_PAD_UNITS 4   /* the box's margin, in font pixels (overlay.c) */

_Static_assert(FC_DATATEXT_MAX <= FC_OVERLAY_MAX, "the laid-out text fits the overlay's");

void fc_databox_set(struct fc_databox *b, const uint8_t *doc, size_t size)
{
	if (size > sizeof(b->doc))
		size = 0; /* never from a checked DATA (proto.h); nothing rather than a part */
	if (size == b->size && (size == 0 || memcmp(b->doc, doc, size) == 0))
		return; /* the same readings again: the texture stays */
	if (size)
		memcpy(b->doc, doc, size);
	b->size = size;
	b->changed = true;
}

/* Lays the document out for a tile of area's size when the document or that size changed: as
 * many characters as the tile's width takes, as many lines as a third of its height. */
static void layout(struct fc_databox *b, SDL_Rect area)
{
	int scale = area.w >= DATABOX_WIDE ? 2 : 1;
	int pad = DATABOX_PAD_UNITS * scale;
	/* n characters take (n * ADV - 1) * scale pixels, n lines (n * LINE - 2) * scale. */
	int cols = (area.w - 2 * pad + scale) / (FC_FONT_ADV * scale);
	int lines = (area.h / 3 - 2 * pad + 2 * scale) / (FC_FONT_LINE * scale);

	if (lines > DATABOX_LINES)
		lines = DATABOX_LINES;
	if (!b->changed && cols == b->cols && lines == b->lines && scale == b->text.scale)
		return;
	fc_datatext_layout(b->doc, b->size, cols, lines, b->text.text);
	b->text.scale = scale;
	b->cols = cols;
	b->lines = lines;
	b->changed = false;
}

void fc_databox_draw(struct fc_databox *b, SDL_Renderer *r, SDL_Rect area)
{
	if (area.w <= 0 || area.h <= 0)
		return;
	layout(b, area);
	fc_overlay_draw_in(&b->text, r, area, true);
}

void fc_databox_free(struct fc_databox *b)
{
	fc_overlay_free(&b->text);
}
