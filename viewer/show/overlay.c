#include "overlay.h"

#include <string.h>

#include "font.h"

#define OVERLAY_SCALE 2		/* unless the overlay says another */
#define OVERLAY_RGB   0xffffffu /* white on the box */
#define BOX_ALPHA     180

/* Renders the text into o->tex when it changed; -1 when SDL cannot. */
static int render(struct fc_overlay *o, SDL_Renderer *r)
{
	uint8_t *ink = NULL;
	uint32_t *argb = NULL;
	int scale = o->scale > 0 ? o->scale : OVERLAY_SCALE;
	int w, h, rc = -1;

	if (o->tex && o->drawn_scale == scale && strcmp(o->drawn, o->text) == 0)
		return 0;
	fc_font_measure(o->text, scale, &w, &h);
	if (w <= 0 || h <= 0)
		return -1;
	ink = SDL_calloc((size_t)w, (size_t)h);
	argb = SDL_calloc((size_t)w * (size_t)h, sizeof(*argb));
	if (!ink || !argb || fc_font_render(o->text, scale, ink, (size_t)w, w, h) < 0)
		goto out;
	for (size_t k = 0; k < (size_t)w * (size_t)h; k++)
		argb[k] = ink[k] ? 0xff000000u | OVERLAY_RGB : 0u;
	fc_overlay_free(o);
	o->tex = SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, w, h);
	if (!o->tex)
		goto out;
	SDL_SetTextureBlendMode(o->tex, SDL_BLENDMODE_BLEND);
	if (SDL_UpdateTexture(o->tex, NULL, argb, w * (int)sizeof(*argb)) < 0)
		goto out;
	o->w = w;
	o->h = h;
	memcpy(o->drawn, o->text, sizeof(o->drawn));
	o->drawn_scale = scale;
	rc = 0;
out:
	SDL_free(ink);
	SDL_free(argb);
	return rc;
}

void fc_overlay_draw(struct fc_overlay *o, SDL_Renderer *r)
{
	SDL_Rect all = { 0, 0, 0, 0 };

	SDL_GetRendererOutputSize(r, &all.w, &all.h);
	fc_overlay_draw_in(o, r, all, false);
}

void fc_overlay_draw_in(struct fc_overlay *o, SDL_Renderer *r, SDL_Rect area, bool bottom)
{
	int pad;
	SDL_Rect box, text;

	if (!o->text[0] || render(o, r) < 0)
		return;
	pad = 4 * o->drawn_scale;
	box = (SDL_Rect){ area.x, area.y, o->w + 2 * pad, o->h + 2 * pad };
	if (box.w > area.w)
		box.w = area.w;
	if (bottom)
		box.y = area.y + area.h - box.h;
	text = (SDL_Rect){ box.x + pad, box.y + pad, box.w - 2 * pad, o->h };
	if (text.w <= 0)
		return;
	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(r, 0, 0, 0, BOX_ALPHA);
	SDL_RenderFillRect(r, &box);
	SDL_RenderCopy(r, o->tex, &(SDL_Rect){ 0, 0, text.w, o->h }, &text);
	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
}

void fc_overlay_free(struct fc_overlay *o)
{
	if (o->tex)
		SDL_DestroyTexture(o->tex);
	o->tex = NULL;
	o->drawn[0] = '\0';
}
