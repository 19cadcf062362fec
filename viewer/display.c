#include "display.h"

#include <SDL2/SDL.h>
#include <stdio.h>

struct fc_display {
	SDL_Window *window;
	SDL_Renderer *renderer;
	SDL_Texture *texture;
	int tex_w;
	int tex_h;
	bool fullscreen;
};

struct fc_display *fc_display_open(const char *title, char *err, size_t errlen)
{
	struct fc_display *d;

	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		snprintf(err, errlen, "no display: %s", SDL_GetError());
		return NULL;
	}
	d = SDL_calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		SDL_Quit();
		return NULL;
	}
	d->window = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
				     480, SDL_WINDOW_RESIZABLE);
	if (d->window)
		d->renderer = SDL_CreateRenderer(d->window, -1, 0);
	if (!d->renderer) {
		snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
		fc_display_close(d);
		return NULL;
	}
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, 255);
	SDL_RenderClear(d->renderer);
	SDL_RenderPresent(d->renderer);
	return d;
}

void fc_display_close(struct fc_display *d)
{
	if (!d)
		return;
	if (d->texture)
		SDL_DestroyTexture(d->texture);
	if (d->renderer)
		SDL_DestroyRenderer(d->renderer);
	if (d->window)
		SDL_DestroyWindow(d->window);
	SDL_free(d);
	SDL_Quit();
}

/* The largest rectangle of the picture's shape that fits the window, centred. */
static SDL_Rect fit(struct fc_display *d, int w, int h)
{
	int ww, wh;
	SDL_Rect r;

	SDL_GetRendererOutputSize(d->renderer, &ww, &wh);
	if ((long)ww * h > (long)wh * w) {
		r.h = wh;
		r.w = (int)((long)wh * w / h);
	} else {
		r.w = ww;
		r.h = (int)((long)ww * h / w);
	}
	r.x = (ww - r.w) / 2;
	r.y = (wh - r.h) / 2;
	return r;
}

int fc_display_show(struct fc_display *d, const struct fc_picture *pic, char *err, size_t errlen)
{
	SDL_Rect dst;

	if (pic->subsamp != FC_PIC_420) {
		snprintf(err, errlen, "the window shows 4:2:0 pictures only for now");
		return -1;
	}
	if (!d->texture || d->tex_w != pic->width || d->tex_h != pic->height) {
		if (d->texture)
			SDL_DestroyTexture(d->texture);
		d->texture =
		    SDL_CreateTexture(d->renderer, SDL_PIXELFORMAT_IYUV,
				      SDL_TEXTUREACCESS_STREAMING, pic->width, pic->height);
		if (!d->texture) {
			snprintf(err, errlen, "cannot make a %dx%d texture: %s", pic->width,
				 pic->height, SDL_GetError());
			return -1;
		}
		d->tex_w = pic->width;
		d->tex_h = pic->height;
		SDL_SetWindowSize(d->window, pic->width, pic->height);
	}
	if (SDL_UpdateYUVTexture(d->texture, NULL, pic->plane[0], pic->stride[0], pic->plane[1],
				 pic->stride[1], pic->plane[2], pic->stride[2]) < 0) {
		snprintf(err, errlen, "texture upload: %s", SDL_GetError());
		return -1;
	}
	dst = fit(d, pic->width, pic->height);
	SDL_RenderClear(d->renderer);
	SDL_RenderCopy(d->renderer, d->texture, NULL, &dst);
	SDL_RenderPresent(d->renderer);
	return 0;
}

bool fc_display_poll(struct fc_display *d)
{
	SDL_Event e;

	while (SDL_PollEvent(&e)) {
		if (e.type == SDL_QUIT)
			return false;
		if (e.type != SDL_KEYDOWN)
			continue;
		switch (e.key.keysym.sym) {
		case SDLK_q:
		case SDLK_ESCAPE:
			return false;
		case SDLK_f:
			d->fullscreen = !d->fullscreen;
			SDL_SetWindowFullscreen(d->window,
						d->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
			break;
		default:
			break;
		}
	}
	return true;
}

void fc_display_title(struct fc_display *d, const char *title)
{
	SDL_SetWindowTitle(d->window, title);
}
