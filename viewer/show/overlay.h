/*
 * overlay: a few lines of text drawn over a corner of the window or of a tile, on a translucent
 * box, without dimming the picture (the help of the window's keys at the top left; a frame's
 * document at a tile's bottom left, databox.h: unlike the stall banner they say nothing about
 * whether the stream is live).
 *
 * The text is rendered with the built-in font into a texture kept until the text changes
 * (textex.h). Main (display) thread only, like the rest of the window.
 */
#ifndef FC_OVERLAY_H
#define FC_OVERLAY_H

#include <SDL2/SDL.h>
#include <stdbool.h>

#include "textex.h"

#define FC_OVERLAY_MAX FC_TEXTEX_MAX /* bytes of text */

struct fc_overlay {
	char text[FC_OVERLAY_MAX]; /* what to draw; empty: nothing */
	int scale;		   /* the font's (0: 2, the keys' help) */
	struct fc_textex tex;	   /* the text as drawn */
};

/* Draws o->text (if any) at the top left of r's output. */
void fc_overlay_draw(struct fc_overlay *o, SDL_Renderer *r);

/* Draws o->text (if any) at the top left of area, or with bottom at its bottom left; the box is
 * cut to the area's width. */
void fc_overlay_draw_in(struct fc_overlay *o, SDL_Renderer *r, SDL_Rect area, bool bottom);

/* Drops the texture (before its renderer goes). */
void fc_overlay_free(struct fc_overlay *o);

#endif
