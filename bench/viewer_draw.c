/*
 * viewer_draw: the viewer's per-frame display work, timed alone, for bench/viewer.py.
 *
 *   viewer_draw frames WxH N DIR        write N test-pattern frames (quality 80) as DIR/NNN.jpg
 *   viewer_draw draw MODE SECONDS FILE...
 *
 * draw cycles through the JPEG files for SECONDS (after a short warm-up) and prints one JSON line
 * with the median and p95 per frame of decode, upload and present, and their sum. MODE:
 *   decode   fc_decoder_decode to planes: what a headless viewer does per frame
 *   planes   that, an IYUV streaming texture (SDL_UpdateYUVTexture) and a present: the window
 *            path of viewer/show/display.c, with the same SDL calls
 *   bgrx     tjDecompress2 to BGRX, an RGB888 streaming texture (SDL_UpdateTexture), a present:
 *            the alternative, colour converted on the CPU by libjpeg-turbo
 *   rgb24    the same with 3-byte RGB and an RGB24 texture
 * The window modes need a display (DISPLAY): bench/viewer.py runs them under Xvfb.
 *
 * A benchmark tool, not part of the programs: it prints, and it exits on the first error.
 */
#include <SDL2/SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "clock.h"
#include "decoder.h"
#include "encoder.h"
#include "pattern.h"

#define MAX_FILES  64
#define MAX_FRAMES 100000
#define WARMUP	   20

enum mode { MODE_DECODE, MODE_PLANES, MODE_BGRX, MODE_RGB24 };

struct jpeg {
	uint8_t *data;
	size_t size;
};

static void die(const char *what, const char *why) __attribute__((noreturn));

static void die(const char *what, const char *why)
{
	fprintf(stderr, "viewer_draw: %s: %s\n", what, why);
	exit(1);
}

static int frames(const char *size, const char *count, const char *dir)
{
	int w, h;
	long n = strtol(count, NULL, 10);
	char err[256];
	struct fc_pattern *p;
	struct fc_encoder *e;
	uint8_t *out;
	size_t cap;

	if (sscanf(size, "%dx%d", &w, &h) != 2 || n < 1 || n > MAX_FILES)
		die("frames", "usage: frames WxH N DIR (N up to 64)");
	p = fc_pattern_new(w, h, err, sizeof(err));
	e = fc_encoder_new(80, 1, err, sizeof(err));
	if (!p || !e)
		die("frames", err);
	cap = fc_encoder_bound(w, h, FC_SUBSAMP_420);
	out = malloc(cap);
	if (!out)
		die("frames", "out of memory");
	for (long i = 0; i < n; i++) {
		struct fc_image img;
		char path[4096];
		size_t len = 0;
		FILE *f;

		/* Frames a second apart in the pattern's motion: as different as a camera's. */
		fc_pattern_draw(p, (uint64_t)(1 + i * 30), fc_clock_now_ns(), &img);
		if (fc_encoder_encode(e, &img, out, cap, &len) < 0)
			die("encode", fc_encoder_error(e));
		snprintf(path, sizeof(path), "%s/%03ld.jpg", dir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(out, 1, len, f) != len || fclose(f) != 0)
			die(path, "cannot write");
	}
	free(out);
	fc_encoder_free(e);
	fc_pattern_free(p);
	return 0;
}

static struct jpeg load(const char *path)
{
	struct jpeg j = { 0 };
	FILE *f = fopen(path, "rb");
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0)
		die(path, "cannot read");
	j.size = (size_t)n;
	j.data = malloc(j.size);
	if (!j.data || fread(j.data, 1, j.size, f) != j.size)
		die(path, "cannot read");
	fclose(f);
	return j;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double quantile_ms(uint64_t *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(size_t)(q * (double)(n - 1) + 0.5)] / 1e6;
}

struct window {
	SDL_Window *window;
	SDL_Renderer *renderer;
	SDL_Texture *texture;
	SDL_RendererInfo info;
};

/* As viewer/show/display.c opens its window: resizable, default renderer, no vsync, linear scaling;
 * here at the picture's size from the start. */
static void open_window(struct window *w, enum mode mode, int width, int height)
{
	Uint32 format = mode == MODE_PLANES ? SDL_PIXELFORMAT_IYUV
			: mode == MODE_BGRX ? SDL_PIXELFORMAT_RGB888
					    : SDL_PIXELFORMAT_RGB24;

	if (SDL_Init(SDL_INIT_VIDEO) < 0)
		die("SDL_Init", SDL_GetError());
	w->window = SDL_CreateWindow("viewer_draw", SDL_WINDOWPOS_UNDEFINED,
				     SDL_WINDOWPOS_UNDEFINED, width, height, SDL_WINDOW_RESIZABLE);
	if (!w->window || !(w->renderer = SDL_CreateRenderer(w->window, -1, 0)))
		die("window", SDL_GetError());
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	w->texture =
	    SDL_CreateTexture(w->renderer, format, SDL_TEXTUREACCESS_STREAMING, width, height);
	if (!w->texture)
		die("texture", SDL_GetError());
	SDL_GetRendererInfo(w->renderer, &w->info);
}

/* One frame: decode, upload, present; the three times into t[0..2]. */
static void one_frame(enum mode mode, struct fc_decoder *dec, struct window *w,
		      const struct jpeg *j, uint8_t *rgb, int width, int height, uint64_t t[3])
{
	uint64_t t0 = fc_clock_now_ns(), t1, t2;
	struct fc_picture pic;
	SDL_Event e;
	int rc = 0;

	if (mode == MODE_DECODE || mode == MODE_PLANES) {
		if (fc_decoder_decode(dec, j->data, j->size, width, height, &pic) < 0)
			die("decode", fc_decoder_error(dec));
	} else {
		/* A fresh handle per frame, as the viewer's decoder takes (decoder.c says why). */
		tjhandle tj = tjInitDecompress();

		if (!tj || tjDecompress2(tj, j->data, (unsigned long)j->size, rgb, width, 0, height,
					 mode == MODE_BGRX ? TJPF_BGRX : TJPF_RGB, 0) < 0)
			die("tjDecompress2", tjGetErrorStr2(tj));
		tjDestroy(tj);
	}
	t1 = fc_clock_now_ns();
	if (mode == MODE_PLANES)
		rc = SDL_UpdateYUVTexture(w->texture, NULL, pic.plane[0], pic.stride[0],
					  pic.plane[1], pic.stride[1], pic.plane[2], pic.stride[2]);
	else if (mode != MODE_DECODE)
		rc = SDL_UpdateTexture(w->texture, NULL, rgb, width * (mode == MODE_BGRX ? 4 : 3));
	if (rc < 0)
		die("upload", SDL_GetError());
	t2 = fc_clock_now_ns();
	if (mode != MODE_DECODE) {
		SDL_RenderClear(w->renderer);
		SDL_RenderCopy(w->renderer, w->texture, NULL, NULL);
		SDL_RenderPresent(w->renderer);
		while (SDL_PollEvent(&e))
			;
	}
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = fc_clock_now_ns() - t2;
}

static int draw(const char *mode_name, const char *seconds, int nfiles, char **files)
{
	static uint64_t t[4][MAX_FRAMES];
	struct jpeg j[MAX_FILES];
	struct window w = { 0 };
	struct fc_decoder *dec;
	enum mode mode;
	int width = 0, height = 0, subsamp, cs;
	uint8_t *rgb;
	char err[256];
	double secs = strtod(seconds, NULL);
	uint64_t end;
	size_t n = 0;
	tjhandle tj = tjInitDecompress();

	if (!strcmp(mode_name, "decode"))
		mode = MODE_DECODE;
	else if (!strcmp(mode_name, "planes"))
		mode = MODE_PLANES;
	else if (!strcmp(mode_name, "bgrx"))
		mode = MODE_BGRX;
	else if (!strcmp(mode_name, "rgb24"))
		mode = MODE_RGB24;
	else
		die(mode_name, "mode: decode, planes, bgrx or rgb24");
	if (nfiles < 1 || nfiles > MAX_FILES || secs <= 0)
		die("draw", "usage: draw MODE SECONDS FILE... (up to 64 files)");
	for (int i = 0; i < nfiles; i++)
		j[i] = load(files[i]);
	if (!tj || tjDecompressHeader3(tj, j[0].data, (unsigned long)j[0].size, &width, &height,
				       &subsamp, &cs) < 0)
		die(files[0], "not a JPEG");
	tjDestroy(tj);
	dec = fc_decoder_new(err, sizeof(err));
	rgb = malloc((size_t)width * (size_t)height * 4);
	if (!dec || !rgb)
		die("draw", "out of memory");
	if (mode != MODE_DECODE)
		open_window(&w, mode, width, height);
	for (int i = 0; i < WARMUP; i++) {
		uint64_t scratch[3];

		one_frame(mode, dec, &w, &j[i % nfiles], rgb, width, height, scratch);
	}
	end = fc_clock_now_ns() + (uint64_t)(secs * 1e9);
	while (n < MAX_FRAMES && (n < 30 || fc_clock_now_ns() < end)) {
		uint64_t f[3];

		one_frame(mode, dec, &w, &j[n % (size_t)nfiles], rgb, width, height, f);
		t[0][n] = f[0];
		t[1][n] = f[1];
		t[2][n] = f[2];
		t[3][n] = f[0] + f[1] + f[2];
		n++;
	}
	printf("{\"mode\":\"%s\",\"width\":%d,\"height\":%d,\"frames\":%zu,\"renderer\":\"%s\","
	       "\"decode_ms\":%.3f,\"upload_ms\":%.3f,\"present_ms\":%.3f,\"total_ms\":%.3f,"
	       "\"total_ms_p95\":%.3f}\n",
	       mode_name, width, height, n, mode == MODE_DECODE ? "none" : w.info.name,
	       quantile_ms(t[0], n, 0.5), quantile_ms(t[1], n, 0.5), quantile_ms(t[2], n, 0.5),
	       quantile_ms(t[3], n, 0.5), quantile_ms(t[3], n, 0.95));
	if (w.texture)
		SDL_DestroyTexture(w.texture);
	if (w.renderer)
		SDL_DestroyRenderer(w.renderer);
	if (w.window)
		SDL_DestroyWindow(w.window);
	if (mode != MODE_DECODE)
		SDL_Quit();
	fc_decoder_free(dec);
	free(rgb);
	for (int i = 0; i < nfiles; i++)
		free(j[i].data);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "frames"))
		return frames(argv[2], argv[3], argv[4]);
	if (argc >= 5 && !strcmp(argv[1], "draw"))
		return draw(argv[2], argv[3], argc - 4, argv + 4);
	fprintf(stderr, "usage: viewer_draw frames WxH N DIR\n"
			"       viewer_draw draw decode|planes|bgrx|rgb24 SECONDS FILE...\n");
	return 2;
}
