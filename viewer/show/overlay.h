/*
 * overlay: a few lines of text drawn over a corner of the window or of a tile, on a translucent
 * box, without dimming the picture (the help of the window's keys at the top left; a frame's
 * document at a tile's bottom left, databox.h: unlike the stall banner they say nothing about
 * whether the stream is live).
 *
 * The text is rendered with the built-in font (font.h) into a texture that is kept until the
 * text or the renderer changes. Main (display) thread only, like the rest of the window.
 */
#ifndef FC_OVERLAY_H
#define FC_OVERLAY_H

#include <SDL2/SDL.h>
#include <stdbool.h>

#define FC_OVERLAY_MAX 512 /* bytes of text */

struct fc_overlay {
	char text[FC_OVERLAY_MAX];  /* what to draw; empty: nothing */
	char drawn[FC_OVERLAY_MAX]; /* the text in tex */
	int scale;		    /* the font's (0: 2, the keys' help) */
	int drawn_scale;	    /* the scale of tex */
	SDL_Texture *tex;
	int w, h;
};

/* Draws o->text (if any) at the top left of r's output. */
void fc_overlay_draw(struct fc_overlay *o, SDL_Renderer *r);

/* Draws o->text (if any) at the top left of area, or with bottom at its bottom left; the box is
 * cut to the area's width. */
void fc_overlay_draw_in(struct fc_overlay *o, SDL_Renderer *r, SDL_Rect area, bool bottom);

/* Drops the texture (before its renderer goes). */
void fc_overlay_free(struct fc_overlay *o);

#endif
