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
	uint8_t *grey; /* a neutral chroma row for grey pictures */
	size_t grey_size;
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
	SDL_free(d->grey);
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

int fc_display_upload(struct fc_display *d, const struct fc_picture *pic, char *err, size_t errlen)
{
	int cstride[3] = { pic->stride[0], pic->stride[1], pic->stride[2] };
	const uint8_t *cb = pic->plane[1];
	const uint8_t *cr = pic->plane[2];

	switch (pic->subsamp) {
	case FC_PIC_420:
		break;
	case FC_PIC_422:
		/* Every other chroma row of 4:2:2 is 4:2:0 as the IYUV texture wants it: a stride
		 * trick, no conversion (most webcams' MJPEG is 4:2:2). */
		cstride[1] *= 2;
		cstride[2] *= 2;
		break;
	case FC_PIC_GRAY:
		if (!d->grey || d->grey_size < (size_t)(pic->width / 2 + 1)) {
			SDL_free(d->grey);
			d->grey_size = (size_t)(pic->width / 2 + 1);
			d->grey = SDL_malloc(d->grey_size);
			if (!d->grey) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			SDL_memset(d->grey, 128, d->grey_size);
		}
		/* One neutral chroma row, read again for every row (stride 0). */
		cb = cr = d->grey;
		cstride[1] = cstride[2] = 0;
		break;
	default:
		snprintf(err, errlen, "the window cannot show this chroma layout yet");
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
	if (SDL_UpdateYUVTexture(d->texture, NULL, pic->plane[0], cstride[0], cb, cstride[1], cr,
				 cstride[2]) < 0) {
		snprintf(err, errlen, "texture upload: %s", SDL_GetError());
		return -1;
	}
	return 0;
}

void fc_display_present(struct fc_display *d)
{
	SDL_Rect dst = fit(d, d->tex_w, d->tex_h);

	SDL_RenderClear(d->renderer);
	SDL_RenderCopy(d->renderer, d->texture, NULL, &dst);
	SDL_RenderPresent(d->renderer);
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
