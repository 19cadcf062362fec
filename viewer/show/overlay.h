/*
 * overlay: a few lines of text drawn over the top-left corner of the window, on a translucent
 * box, without dimming the picture (the help of the window's keys: unlike the stall banner it
 * says nothing about the stream, which goes on under it).
 *
 * The text is rendered with the built-in font (font.h) into a texture that is kept until the
 * text or the renderer changes. Main (display) thread only, like the rest of the window.
 */
#ifndef FC_OVERLAY_H
#define FC_OVERLAY_H

#include <SDL2/SDL.h>

#define FC_OVERLAY_MAX 512 /* bytes of text */

struct fc_overlay {
	char text[FC_OVERLAY_MAX];  /* what to draw; empty: nothing */
	char drawn[FC_OVERLAY_MAX]; /* the text in tex */
	SDL_Texture *tex;
	int w, h;
};

/* Draws o->text (if any) at the top left of r's output. */
void fc_overlay_draw(struct fc_overlay *o, SDL_Renderer *r);

/* Drops the texture (before its renderer goes). */
void fc_overlay_free(struct fc_overlay *o);

#endif
