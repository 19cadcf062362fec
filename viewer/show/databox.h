/*
 * databox: the JSON document that came with the frame on a tile, drawn small at the bottom left
 * of the tile's picture on a translucent box (--data-overlay, or the window's d key; README,
 * "Data with frames"). The text is datatext.h's layout: compact as it came, three lines at
 * most, cut with an ellipsis, '?' for what the font lacks; at scale 2 on a picture 480 pixels
 * wide or more, else at scale 1, and never taller than a third of the picture. Under a stall
 * banner (display.c) no document is drawn: the picture is old, and so is its document.
 *
 * The document is the frame's own: display.c sets it with the frame's picture, so the tile never
 * shows a newer document whose frame it does not show, nor an older one; a frame that came
 * without one shows none. A box holds its copy of the document (bounded by FC_PROTO_MAX_DATA)
 * and its texture (overlay.h), laid out again only when the document or the tile's size
 * changes. Main (display) thread only, like the rest of the window.
 */
#ifndef FC_DATABOX_H
#define FC_DATABOX_H

#include <SDL2/SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "overlay.h"
#include "proto.h"

struct fc_databox {
	uint8_t doc[FC_PROTO_MAX_DATA]; /* the document of the frame on the tile */
	size_t size;			/* 0: that frame came without one */
	bool changed;			/* the document, since text was laid out */
	int cols, lines;		/* what text was laid out for (the tile's size then) */
	struct fc_overlay text;		/* the laid-out text and its texture */
};

/* The document of the frame now on the tile: doc[0..size), size 0 for none (copied). */
void fc_databox_set(struct fc_databox *b, const uint8_t *doc, size_t size);

/* Draws the document, if any, at the bottom left of area (the tile). */
void fc_databox_draw(struct fc_databox *b, SDL_Renderer *r, SDL_Rect area);

/* Drops the texture (before its renderer goes). */
void fc_databox_free(struct fc_databox *b);

#endif
