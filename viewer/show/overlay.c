#include "overlay.h"

#define OVERLAY_SCALE 2		/* unless the overlay says another */
#define OVERLAY_RGB   0xffffffu /* white on the box */
#define BOX_ALPHA     180

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

	if (!o->text[0] || fc_textex_draw(&o->tex, r, o->text,
					  o->scale > 0 ? o->scale : OVERLAY_SCALE, OVERLAY_RGB) < 0)
		return;
	pad = 4 * o->tex.scale;
	box = (SDL_Rect){ area.x, area.y, o->tex.w + 2 * pad, o->tex.h + 2 * pad };
	if (box.w > area.w)
		box.w = area.w;
	if (bottom)
		box.y = area.y + area.h - box.h;
	text = (SDL_Rect){ box.x + pad, box.y + pad, box.w - 2 * pad, o->tex.h };
	if (text.w <= 0)
		return;
	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(r, 0, 0, 0, BOX_ALPHA);
	SDL_RenderFillRect(r, &box);
	SDL_RenderCopy(r, o->tex.tex, &(SDL_Rect){ 0, 0, text.w, o->tex.h }, &text);
	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
}

void fc_overlay_free(struct fc_overlay *o)
{
	fc_textex_free(&o->tex);
}
