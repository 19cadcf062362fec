/* textex: text into a kept texture. See textex.h. */
#include "textex.h"

#include <string.h>

#include "font.h"

int fc_textex_draw(struct fc_textex *tt, SDL_Renderer *r, const char *text, int scale, uint32_t rgb)
{
	uint8_t *mask = NULL;
	uint32_t *px = NULL;
	int w, h;
	int rc = -1;

	if (tt->tex && tt->scale == scale && tt->rgb == rgb && strcmp(tt->drawn, text) == 0)
		return 0;
	fc_font_measure(text, scale, &w, &h);
	if (w <= 0 || h <= 0)
		return -1;
	mask = SDL_malloc((size_t)w * (size_t)h);
	px = SDL_malloc((size_t)w * (size_t)h * sizeof(*px));
	if (!mask || !px || fc_font_render(text, scale, mask, (size_t)w, w, h) < 0)
		goto out;
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
		px[i] = mask[i] ? 0xff000000u | rgb : 0;
	if (!tt->tex || tt->w != w || tt->h != h) {
		fc_textex_free(tt);
		tt->tex =
		    SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, w, h);
		if (!tt->tex)
			goto out;
		SDL_SetTextureBlendMode(tt->tex, SDL_BLENDMODE_BLEND);
		tt->w = w;
		tt->h = h;
	}
	if (SDL_UpdateTexture(tt->tex, NULL, px, w * (int)sizeof(*px)) < 0)
		goto out;
	snprintf(tt->drawn, sizeof(tt->drawn), "%s", text);
	tt->scale = scale;
	tt->rgb = rgb;
	rc = 0;
out:
	SDL_free(mask);
	SDL_free(px);
	return rc;
}

void fc_textex_free(struct fc_textex *tt)
{
	if (tt->tex)
		SDL_DestroyTexture(tt->tex);
	tt->tex = NULL;
	tt->drawn[0] = '\0';
}
