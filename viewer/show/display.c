#include "display.h"

#include <SDL2/SDL.h>
#include <stdio.h>
#include <string.h>

#include "databox.h"
#include "font.h"
#include "grid.h"
#include "overlay.h"
#include "textex.h"

#define BANNER_MAX    256
#define BANNER_RGB    0xffd200 /* the banner's text: yellow, legible on any dimmed picture */
#define DIM_ALPHA     170      /* black over the picture when stalled: it keeps a third */
#define BAND_ALPHA    200      /* black behind the banner's text */
#define BANNER_SCALES 8	       /* the largest scale of the font */
#define LABEL_MAX     192
#define LABEL_RGB     0xffffff /* a tile's name and figures: white on a dark band */

/* One sender's picture: a single one fills the window; several share it as a grid (grid.h). */
struct tile {
	SDL_Texture *texture;
	int tex_w; /* the texture's size: the last rendition's */
	int tex_h;
	int pic_w; /* the picture's size, whose shape the tile keeps (0 before it is known) */
	int pic_h;
	/* The stall banner: its text (empty when live), and the texture it was last drawn into. */
	char banner[BANNER_MAX];
	struct fc_textex banner_tex;
	/* Several senders: the line across the tile's top (its name and live figures). */
	char label[LABEL_MAX];
	struct fc_textex label_tex;
	struct fc_databox data; /* the document of the frame in texture (databox.h) */
};

struct fc_display {
	SDL_Window *window;
	SDL_Renderer *renderer;
	struct tile tiles[FC_DISPLAY_MAX_TILES];
	int ntiles;  /* 1: one picture, the window's shape; more: a grid */
	bool labels; /* several senders (even one so far): each tile says its name */
	int zoom;    /* the tile shown alone over the grid, or -1 */
	bool fullscreen;
	uint8_t *grey; /* a neutral chroma row for grey pictures */
	size_t grey_size;
	struct fc_overlay help; /* the keys' help, over the picture (fc_display_help) */
	bool data_on;		/* each tile's document is drawn (fc_display_data_overlay) */
	int keys[16]; /* keys pressed that the caller handles (fc_display_key), in order */
	unsigned nkeys;
	char failed[256];    /* the attempts at a window that failed (make_window) */
	char described[320]; /* what fc_display_renderer says */
};

/* Whether the renderer is OpenGL drawn by the CPU (Mesa's llvmpipe, softpipe or swrast: a machine
 * without a GPU, or a remote X display). There the IYUV texture's colour conversion runs in a
 * shader on the CPU, and SDL's own software renderer draws the same picture for 10-45% less
 * (docs/BENCHMARKS.md, "Viewer: decode and present"). */
static bool gl_on_cpu(SDL_Renderer *r)
{
	const unsigned char *(*get_string)(unsigned int) = NULL;
	SDL_RendererInfo info;
	const char *name;

	if (SDL_GetRendererInfo(r, &info) < 0 || strncmp(info.name, "opengl", 6) != 0)
		return false;
	/* The renderer's context is current: ask it who draws (GL_RENDERER). */
	*(void **)&get_string = SDL_GL_GetProcAddress("glGetString");
	name = get_string ? (const char *)get_string(0x1F01) : NULL;
	return name && (strstr(name, "llvmpipe") || strstr(name, "softpipe") ||
			strstr(name, "Software Rasterizer"));
}

/* Where a window of the picture's size goes: the largest size of the picture's shape, at most the
 * picture itself, that fits the usable area of the display (the screen less panels and docks,
 * and less the window manager's frame once it is known), centred in it. A picture as large as
 * the screen or larger is thus scaled down, never placed partly off screen. */
static SDL_Rect place(SDL_Window *window, int pic_w, int pic_h, SDL_Rect *usable)
{
	int index = window ? SDL_GetWindowDisplayIndex(window) : 0;
	int top = 0, left = 0, bottom = 0, right = 0;
	SDL_Rect area;
	SDL_Rect r = { SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, pic_w, pic_h };

	if (index < 0 || SDL_GetDisplayUsableBounds(index, &area) < 0 || area.w <= 0 ||
	    area.h <= 0) {
		*usable = (SDL_Rect){ 0 };
		return r; /* no display to measure: the picture's size, and SDL centres it */
	}
	/* The frame around the window (0 where there is none, or none is known yet). */
	if (window && SDL_GetWindowBordersSize(window, &top, &left, &bottom, &right) == 0) {
		area.x += left;
		area.y += top;
		area.w -= left + right;
		area.h -= top + bottom;
	}
	if (area.w < 1)
		area.w = 1;
	if (area.h < 1)
		area.h = 1;
	if (r.w > area.w || r.h > area.h) {
		if ((long)area.w * pic_h > (long)area.h * pic_w) {
			r.h = area.h;
			r.w = (int)((long)area.h * pic_w / pic_h);
		} else {
			r.w = area.w;
			r.h = (int)((long)area.w * pic_h / pic_w);
		}
		if (r.w < 1)
			r.w = 1;
		if (r.h < 1)
			r.h = 1;
	}
	r.x = area.x + (area.w - r.w) / 2;
	r.y = area.y + (area.h - r.h) / 2;
	*usable = area;
	return r;
}

/* Sizes the window for the picture (place), where it is if it fits there whole (a person may
 * have moved it), else centred. */
static void fit_window(struct fc_display *d)
{
	SDL_Rect area;
	const struct tile *t = &d->tiles[0];
	SDL_Rect r = place(d->window, t->pic_w ? t->pic_w : 640, t->pic_h ? t->pic_h : 480, &area);
	int x, y;

	SDL_SetWindowSize(d->window, r.w, r.h);
	SDL_GetWindowPosition(d->window, &x, &y);
	if (area.w &&
	    (x < area.x || y < area.y || x + r.w > area.x + area.w || y + r.h > area.y + area.h))
		SDL_SetWindowPosition(d->window, r.x, r.y);
}

static void drop_window(struct fc_display *d)
{
	if (d->renderer)
		SDL_DestroyRenderer(d->renderer);
	if (d->window)
		SDL_DestroyWindow(d->window);
	d->renderer = NULL;
	d->window = NULL;
}

/* Adds "what: SDL's error" to the attempts that failed, each once. */
static void failed(struct fc_display *d, const char *what)
{
	size_t n = strlen(d->failed);

	snprintf(d->failed + n, sizeof(d->failed) - n, "%s%s: %s", n ? "; " : "", what,
		 SDL_GetError());
}

/* One attempt: a window, placed for the picture, with SDL's preferred renderer (flags 0) or its
 * software one. 0; or, with nothing made and the failure noted, -1 (no such renderer) or -2 (no
 * window at all). */
static int try_window(struct fc_display *d, const char *title, Uint32 flags, const char *what)
{
	SDL_Rect area;
	const struct tile *t = &d->tiles[0];
	SDL_Rect r = place(NULL, t->pic_w ? t->pic_w : 640, t->pic_h ? t->pic_h : 480, &area);

	d->window = SDL_CreateWindow(title, r.x, r.y, r.w, r.h, SDL_WINDOW_RESIZABLE);
	if (!d->window) {
		failed(d, "window");
		return -2;
	}
	d->renderer = SDL_CreateRenderer(d->window, -1, flags);
	if (!d->renderer) {
		failed(d, what);
		drop_window(d);
		return -1;
	}
	return 0;
}

/*
 * The window, in at most three attempts in a fixed order, each failure noted once (d->failed):
 *
 * 1. SDL's preferred renderer (or the one SDL_RENDER_DRIVER names); kept unless it is OpenGL
 *    drawn by the CPU, where SDL's software renderer draws the same picture cheaper;
 * 2. SDL's software renderer, if the first failed or was set aside;
 * 3. the preferred renderer again, if it worked but was set aside and the software one failed.
 *
 * A window that cannot be made at all ends the attempts: no renderer would help.
 */
static int make_window(struct fc_display *d, const char *title)
{
	int rc = try_window(d, title, 0, "SDL's preferred renderer");
	bool set_aside = rc == 0;

	if (rc == 0) {
		if (SDL_GetHint(SDL_HINT_RENDER_DRIVER) || !gl_on_cpu(d->renderer))
			return 0;
		drop_window(d); /* made for OpenGL: start afresh */
	} else if (rc == -2) {
		return -1;
	}
	rc = try_window(d, title, SDL_RENDERER_SOFTWARE, "software renderer");
	if (rc == 0)
		return 0;
	if (!set_aside || rc == -2)
		return -1;
	return try_window(d, title, 0, "OpenGL drawn by the CPU") == 0 ? 0 : -1;
}

struct fc_display *fc_display_open(const char *title, int width, int height, char *err,
				   size_t errlen)
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
	d->ntiles = 1;
	d->zoom = -1;
	if (width > 0 && height > 0) {
		d->tiles[0].pic_w = width;
		d->tiles[0].pic_h = height;
	}
	if (make_window(d, title) < 0) {
		snprintf(err, errlen, "cannot open a window: %s", d->failed);
		fc_display_close(d);
		return NULL;
	}
	fit_window(d); /* the window manager's frame, if any, is known now */
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, 255);
	SDL_RenderClear(d->renderer);
	SDL_RenderPresent(d->renderer);
	return d;
}

static void drop_tile(struct tile *t)
{
	if (t->texture)
		SDL_DestroyTexture(t->texture);
	fc_textex_free(&t->banner_tex);
	fc_textex_free(&t->label_tex);
	fc_databox_free(&t->data);
	memset(t, 0, sizeof(*t));
}

void fc_display_close(struct fc_display *d)
{
	if (!d)
		return;
	for (int i = 0; i < FC_DISPLAY_MAX_TILES; i++)
		drop_tile(&d->tiles[i]);
	fc_overlay_free(&d->help);
	SDL_free(d->grey);
	if (d->renderer)
		SDL_DestroyRenderer(d->renderer);
	if (d->window)
		SDL_DestroyWindow(d->window);
	SDL_free(d);
	SDL_Quit();
}

/* The largest rectangle of the picture's shape that fits the area, centred in it. */
static SDL_Rect fit(SDL_Rect area, int w, int h)
{
	SDL_Rect r;

	if ((long)area.w * h > (long)area.h * w) {
		r.h = area.h;
		r.w = (int)((long)area.h * w / h);
	} else {
		r.w = area.w;
		r.h = (int)((long)area.w * h / w);
	}
	r.x = area.x + (area.w - r.w) / 2;
	r.y = area.y + (area.h - r.h) / 2;
	return r;
}

/* Tile i's area of the window: the whole window for one picture, else its cell (grid.h). */
static SDL_Rect tile_area(struct fc_display *d, int i)
{
	int ww, wh;
	struct fc_grid_rect g;

	SDL_GetRendererOutputSize(d->renderer, &ww, &wh);
	g = fc_grid_tile(d->ntiles, d->zoom, ww, wh, i);
	return (SDL_Rect){ g.x, g.y, g.w, g.h };
}

/* The chroma planes as the IYUV texture reads them: pointers and strides (cstride[1], [2]). */
static int chroma(struct fc_display *d, const struct fc_picture *pic, const uint8_t **cb,
		  const uint8_t **cr, int cstride[3], char *err, size_t errlen)
{
	*cb = pic->plane[1];
	*cr = pic->plane[2];
	switch (pic->subsamp) {
	case FC_PIC_420:
		return 0;
	case FC_PIC_422:
		/* Every other chroma row of 4:2:2 is 4:2:0 as the IYUV texture wants it: a stride
		 * trick, no conversion (most webcams' MJPEG is 4:2:2). */
		cstride[1] *= 2;
		cstride[2] *= 2;
		return 0;
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
		*cb = *cr = d->grey;
		cstride[1] = cstride[2] = 0;
		return 0;
	default:
		snprintf(err, errlen, "the window cannot show this chroma layout yet");
		return -1;
	}
}

/* A texture of the rendition's size. Renditions change as the link does: the texture follows,
 * the window does not (see picture_size). */
static int texture_for(struct fc_display *d, struct tile *t, int w, int h, char *err, size_t errlen)
{
	if (t->texture && t->tex_w == w && t->tex_h == h)
		return 0;
	if (t->texture)
		SDL_DestroyTexture(t->texture);
	t->texture =
	    SDL_CreateTexture(d->renderer, SDL_PIXELFORMAT_IYUV, SDL_TEXTUREACCESS_STREAMING, w, h);
	if (!t->texture) {
		snprintf(err, errlen, "cannot make a %dx%d texture: %s", w, h, SDL_GetError());
		return -1;
	}
	t->tex_w = w;
	t->tex_h = h;
	return 0;
}

/* The picture's size: the window is made to it when it is first known or changes (a sender back
 * at another size), never for a rendition of it; only with one picture (a grid keeps the window
 * the person gave it). */
static void picture_size(struct fc_display *d, struct tile *t, int w, int h)
{
	if (w == t->pic_w && h == t->pic_h)
		return;
	t->pic_w = w;
	t->pic_h = h;
	if (!d->fullscreen && !d->labels)
		fit_window(d);
}

int fc_display_upload_tile(struct fc_display *d, int tile, const struct fc_picture *pic,
			   int src_width, int src_height, char *err, size_t errlen)
{
	int cstride[3] = { pic->stride[0], pic->stride[1], pic->stride[2] };
	const uint8_t *cb;
	const uint8_t *cr;
	struct tile *t;

	if (tile < 0 || tile >= FC_DISPLAY_MAX_TILES) {
		snprintf(err, errlen, "no tile %d in the window", tile);
		return -1;
	}
	t = &d->tiles[tile];
	if (chroma(d, pic, &cb, &cr, cstride, err, errlen) < 0 ||
	    texture_for(d, t, pic->width, pic->height, err, errlen) < 0)
		return -1;
	/* A sender that does not say the picture's size sends the picture itself. */
	if (src_width > 0 && src_height > 0)
		picture_size(d, t, src_width, src_height);
	else
		picture_size(d, t, pic->width, pic->height);
	if (SDL_UpdateYUVTexture(t->texture, NULL, pic->plane[0], cstride[0], cb, cstride[1], cr,
				 cstride[2]) < 0) {
		snprintf(err, errlen, "texture upload: %s", SDL_GetError());
		return -1;
	}
	t->banner[0] = '\0';
	return 0;
}

int fc_display_upload(struct fc_display *d, const struct fc_picture *pic, int src_width,
		      int src_height, char *err, size_t errlen)
{
	return fc_display_upload_tile(d, 0, pic, src_width, src_height, err, errlen);
}

void fc_display_tiles(struct fc_display *d, int n, bool labels)
{
	if (n < 1)
		n = 1;
	if (n > FC_DISPLAY_MAX_TILES)
		n = FC_DISPLAY_MAX_TILES;
	if (n == d->ntiles && labels == d->labels)
		return;
	d->ntiles = n;
	d->labels = labels;
	if (d->zoom >= n)
		d->zoom = -1;
	fc_display_present(d);
}

void fc_display_tile_remove(struct fc_display *d, int tile)
{
	if (tile < 0 || tile >= FC_DISPLAY_MAX_TILES)
		return;
	drop_tile(&d->tiles[tile]);
	/* The textures move with their tiles: a pointer each, owned by the display. */
	memmove(&d->tiles[tile], &d->tiles[tile + 1],
		(size_t)(FC_DISPLAY_MAX_TILES - tile - 1) * sizeof(d->tiles[0]));
	memset(&d->tiles[FC_DISPLAY_MAX_TILES - 1], 0, sizeof(d->tiles[0]));
	if (d->zoom == tile)
		d->zoom = -1;
	else if (d->zoom > tile)
		d->zoom--;
	fc_display_tiles(d, d->ntiles - 1, d->labels);
}

void fc_display_tile_banner(struct fc_display *d, int tile, const char *text)
{
	if (tile >= 0 && tile < FC_DISPLAY_MAX_TILES)
		snprintf(d->tiles[tile].banner, sizeof(d->tiles[tile].banner), "%s",
			 text ? text : "");
}

void fc_display_tile_label(struct fc_display *d, int tile, const char *name, const char *text)
{
	char title[LABEL_MAX + 32];

	if (!d->labels) {
		snprintf(title, sizeof(title), "freshcam-view — %s", text);
		SDL_SetWindowTitle(d->window, title);
	}
	if (tile >= 0 && tile < FC_DISPLAY_MAX_TILES)
		snprintf(d->tiles[tile].label, sizeof(d->tiles[tile].label), "%d %s  %s", tile + 1,
			 name, text);
}

void fc_display_banner(struct fc_display *d, const char *text)
{
	fc_display_tile_banner(d, 0, text);
}

/* The largest scale at which the banner takes at most 90% of the width and a third of the
 * height (at least 1: a tiny window clips it). */
static int banner_scale(const char *text, int ww, int wh)
{
	int w, h;
	int scale = BANNER_SCALES;

	fc_font_measure(text, 1, &w, &h);
	if (w <= 0 || h <= 0)
		return 1;
	while (scale > 1 && (w * scale > ww * 9 / 10 || h * scale > wh / 3))
		scale--;
	return scale;
}

/* The picture dimmed, a dark band across the middle of its area, the banner's text on it. */
static void draw_banner(struct fc_display *d, struct tile *t, SDL_Rect area,
			const SDL_Rect *picture)
{
	struct fc_textex *tt = &t->banner_tex;
	int pad;
	SDL_Rect band, text;

	if (fc_textex_draw(tt, d->renderer, t->banner, banner_scale(t->banner, area.w, area.h),
			   BANNER_RGB) < 0)
		return;
	pad = 3 * tt->scale;
	SDL_SetRenderDrawBlendMode(d->renderer, SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, DIM_ALPHA);
	SDL_RenderFillRect(d->renderer, picture);
	band = (SDL_Rect){ area.x, area.y + (area.h - tt->h) / 2 - pad, area.w, tt->h + 2 * pad };
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, BAND_ALPHA);
	SDL_RenderFillRect(d->renderer, &band);
	text = (SDL_Rect){ area.x + (area.w - tt->w) / 2, area.y + (area.h - tt->h) / 2, tt->w,
			   tt->h };
	SDL_RenderCopy(d->renderer, tt->tex, NULL, &text);
	SDL_SetRenderDrawBlendMode(d->renderer, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, 255);
}

/* Several senders: the tile's label on a dark band across its top, as large as fits (scale 1 to
 * 2), and a thin frame between tiles. */
static void draw_label(struct fc_display *d, struct tile *t, SDL_Rect area)
{
	struct fc_textex *tt = &t->label_tex;
	int w, h;
	int scale = 2;
	SDL_Rect band, text;

	fc_font_measure(t->label, scale, &w, &h);
	if (w > area.w - 8)
		scale = 1;
	if (!t->label[0] || fc_textex_draw(tt, d->renderer, t->label, scale, LABEL_RGB) < 0)
		return;
	SDL_SetRenderDrawBlendMode(d->renderer, SDL_BLENDMODE_BLEND);
	band = (SDL_Rect){ area.x, area.y, area.w, tt->h + 8 };
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, BAND_ALPHA);
	SDL_RenderFillRect(d->renderer, &band);
	text = (SDL_Rect){ area.x + 4, area.y + 4, tt->w < area.w - 8 ? tt->w : area.w - 8, tt->h };
	SDL_RenderCopy(d->renderer, tt->tex, &(SDL_Rect){ 0, 0, text.w, tt->h }, &text);
	SDL_SetRenderDrawColor(d->renderer, 80, 80, 80, 255);
	SDL_RenderDrawRect(d->renderer, &area);
	SDL_SetRenderDrawBlendMode(d->renderer, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(d->renderer, 0, 0, 0, 255);
}

static void draw_tile(struct fc_display *d, int i)
{
	struct tile *t = &d->tiles[i];
	SDL_Rect area = tile_area(d, i);
	SDL_Rect dst = area;

	if (area.w <= 0 || area.h <= 0)
		return;
	if (t->texture) {
		/* The whole rendition over the picture's area: a smaller one is scaled up to fill
		 * what the full picture would (its sides, rounded to even, may differ from an exact
		 * fraction by a pixel: the picture's shape is the one kept). */
		dst = fit(area, t->pic_w, t->pic_h);
		SDL_RenderCopy(d->renderer, t->texture, NULL, &dst);
	}
	/* Under a banner the picture is old, and so is its document: only the banner says. */
	if (t->banner[0])
		draw_banner(d, t, area, t->texture ? &dst : NULL);
	else if (d->data_on && t->texture)
		fc_databox_draw(&t->data, d->renderer, dst);
	if (d->labels)
		draw_label(d, t, area);
}

void fc_display_present(struct fc_display *d)
{
	SDL_RenderClear(d->renderer);
	for (int i = 0; i < d->ntiles; i++)
		draw_tile(d, i);
	fc_overlay_draw(&d->help, d->renderer);
	SDL_RenderPresent(d->renderer);
}

/* A number key or a click: that tile alone, full size; again (or 0), back to the grid. */
static void zoom(struct fc_display *d, int tile)
{
	if (d->ntiles < 2)
		return;
	d->zoom = tile < 0 || tile >= d->ntiles || tile == d->zoom ? -1 : tile;
}

/* A letter, digit or sign the caller handles (fc_display_key), upper case with Shift; the oldest
 * are kept when keys come faster than the caller reads them. */
static void keep_key(struct fc_display *d, const SDL_Keysym *k)
{
	int c = k->sym;

	if (c < 0x20 || c > 0x7e || d->nkeys >= sizeof(d->keys) / sizeof(d->keys[0]))
		return;
	if ((k->mod & KMOD_SHIFT) && c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	d->keys[d->nkeys++] = c;
}

bool fc_display_poll(struct fc_display *d)
{
	SDL_Event e;
	bool redraw = false;

	while (SDL_PollEvent(&e)) {
		if (e.type == SDL_QUIT)
			return false;
		/* Resized, uncovered or restored: draw again now, not at the next frame (which may
		 * be a while when the stream has stalled). */
		if (e.type == SDL_WINDOWEVENT && (e.window.event == SDL_WINDOWEVENT_EXPOSED ||
						  e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
						  e.window.event == SDL_WINDOWEVENT_RESTORED))
			redraw = true;
		if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT) {
			int ww, wh, winw, winh;

			/* Window coordinates to the renderer's (they differ on a scaled display). */
			SDL_GetRendererOutputSize(d->renderer, &ww, &wh);
			SDL_GetWindowSize(d->window, &winw, &winh);
			zoom(d, d->zoom >= 0 ? -1
					     : fc_grid_hit(d->ntiles, -1, ww, wh,
							   e.button.x * ww / (winw ? winw : 1),
							   e.button.y * wh / (winh ? winh : 1)));
			redraw = true;
		}
		if (e.type != SDL_KEYDOWN)
			continue;
		if (e.key.keysym.sym >= SDLK_0 && e.key.keysym.sym <= SDLK_9) {
			zoom(d, e.key.keysym.sym == SDLK_0 ? -1 : e.key.keysym.sym - SDLK_1);
			redraw = true;
			continue;
		}
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
			keep_key(d, &e.key.keysym);
			break;
		}
	}
	if (redraw)
		fc_display_present(d);
	return true;
}

int fc_display_zoomed(const struct fc_display *d)
{
	return d->zoom;
}

int fc_display_key(struct fc_display *d)
{
	int k;

	if (d->nkeys == 0)
		return 0;
	k = d->keys[0];
	memmove(d->keys, d->keys + 1, --d->nkeys * sizeof(d->keys[0]));
	return k;
}

void fc_display_help(struct fc_display *d, const char *text)
{
	snprintf(d->help.text, sizeof(d->help.text), "%s", text ? text : "");
	fc_display_present(d);
}

const char *fc_display_renderer(struct fc_display *d)
{
	SDL_RendererInfo info;
	const char *name = SDL_GetRendererInfo(d->renderer, &info) == 0 ? info.name : "unknown";

	if (!d->failed[0])
		return name;
	snprintf(d->described, sizeof(d->described), "%s, after these failed: %s", name, d->failed);
	return d->described;
}

void fc_display_title(struct fc_display *d, const char *title)
{
	SDL_SetWindowTitle(d->window, title);
}

void fc_display_tile_data(struct fc_display *d, int tile, const uint8_t *doc, size_t size)
{
	if (tile >= 0 && tile < FC_DISPLAY_MAX_TILES)
		fc_databox_set(&d->tiles[tile].data, doc, size);
}

void fc_display_data_overlay(struct fc_display *d, bool on)
{
	d->data_on = on;
	fc_display_present(d);
}

bool fc_display_data_overlay_on(const struct fc_display *d)
{
	return d->data_on;
}
