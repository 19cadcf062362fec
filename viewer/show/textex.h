/*
 * textex: a line or a few of text drawn with the built-in font (font.h) into an SDL texture, one
 * colour on transparent, kept until the text, its scale or its colour changes: the stall banner
 * and the tiles' labels (display.c) and the boxes over the picture (overlay.c) all draw through
 * it, so text is rendered once per change, not once per frame.
 *
 * Main (display) thread only, like the renderer the texture belongs to.
 */
#ifndef FC_TEXTEX_H
#define FC_TEXTEX_H

#include <SDL2/SDL.h>
#include <stdint.h>

#define FC_TEXTEX_MAX 512 /* bytes of text, the terminating NUL included */

struct fc_textex {
	SDL_Texture *tex; /* NULL until drawn */
	char drawn[FC_TEXTEX_MAX];
	int scale;
	uint32_t rgb;
	int w, h; /* the texture's size, in pixels */
};

/* Draws text at scale in rgb into tt unless it holds that already; 0, or -1 when SDL cannot (or
 * the text is empty). */
int fc_textex_draw(struct fc_textex *tt, SDL_Renderer *r, const char *text, int scale,
		   uint32_t rgb);

/* Drops the texture (before its renderer goes); tt may be drawn again. */
void fc_textex_free(struct fc_textex *tt);

#endif
