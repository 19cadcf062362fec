#include "pattern.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "noise.h"
#include "stamp.h"

/*
 * What makes it look like a camera to a JPEG encoder, at a per-frame cost of little more than a
 * copy of the picture:
 * - a scene computed once, larger than the frame by PAN_X x PAN_Y, that the frame pans across a
 *   few pixels per frame (a slowly moving camera): gradients, sines, value noise at several
 *   scales and textured rectangles with hard edges, in luma and chroma;
 * - a textured, coloured disc that bounces and a bar that rotates (motion the scene does not have);
 * - sensor noise (noise.h): a table of small random offsets made once, added from a random place
 *   per row per frame, so no two frames have the same noise and no random number is drawn per pixel;
 * - the stamp, drawn last on a neutral-chroma band.
 */

#define MIN_WIDTH  128 /* 16 stamp cells per row x 8 rows: the smallest band that fits */
#define MIN_HEIGHT 64
#define MAX_SIDE   8192

#define PAN_X	   256 /* luma pixels the scene is wider than the frame */
#define PAN_Y	   128 /* and taller */
#define PAN_DX	   4   /* luma pixels per frame, even so chroma pans by whole pixels */
#define PAN_DY	   2
#define RECTS	   14
#define SCENE_SEED 0x5eedf7e5c0ffee01ull
#define TWO_PI	   6.28318531f

struct rect {
	float x0, y0, x1, y1; /* luma coordinates in the scene */
	float luma;	      /* offset added inside */
	float cb, cr;	      /* chroma offsets inside */
	float stripe_amp;     /* texture inside: stripes ... */
	float stripe_k;	      /* ... of this angular frequency ... */
	int stripe_vertical;  /* ... across x (1) or y (0) */
};

struct plane_buf {
	uint8_t *data;
	size_t stride;
	int width;
	int height;
};

struct fc_pattern {
	int width;
	int height;
	struct plane_buf out[3];   /* the frame: Y, Cb, Cr (4:2:0) */
	struct plane_buf scene[3]; /* what the frame pans over: PAN_X x PAN_Y larger (luma) */
	struct fc_noise *noise;	   /* sensor noise for rows up to the frame's width */
	/* Disc sprite: square of side disc_d (luma) and disc_d / 2 (chroma), drawn over the row
	 * spans [lo, hi) that fall inside the circle. */
	int disc_d;
	uint8_t *disc[3];
	int16_t *span_lo[2]; /* [0] luma rows, [1] chroma rows */
	int16_t *span_hi[2];
	/* Rotating bar: centre, half-length, half-thickness in luma pixels. */
	float bar_cx, bar_cy, bar_a, bar_b;
	int band_h;	/* stamp band height (luma rows) */
	int band_cells; /* stamp cells per band row */
};

/* splitmix64: a fixed-seed generator for the scene and the per-frame/per-row noise offsets. */
static uint64_t mix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static float uniform(uint64_t *state, float lo, float hi)
{
	return lo + (hi - lo) * (float)(mix64(state) >> 40) / (float)(1u << 24);
}

/* A random value in [-1, 1] per lattice point, from a hash so the lattice needs no storage. */
static float lattice(int ix, int iy, uint32_t seed)
{
	uint32_t h = (uint32_t)ix * 0x8da6b343u ^ (uint32_t)iy * 0xd8163841u ^ seed * 0xcb1ab31fu;

	h ^= h >> 13;
	h *= 0x5bd1e995u;
	h ^= h >> 15;
	return (float)(h & 0xffff) / 32767.5f - 1.0f;
}

/* Value noise: smooth interpolation between lattice points `spacing` pixels apart. */
static float value_noise(float x, float y, float spacing, uint32_t seed)
{
	float fx = x / spacing;
	float fy = y / spacing;
	int ix = (int)floorf(fx);
	int iy = (int)floorf(fy);
	float tx = fx - (float)ix;
	float ty = fy - (float)iy;
	float v00 = lattice(ix, iy, seed), v10 = lattice(ix + 1, iy, seed);
	float v01 = lattice(ix, iy + 1, seed), v11 = lattice(ix + 1, iy + 1, seed);
	float a, b;

	tx = tx * tx * (3.0f - 2.0f * tx);
	ty = ty * ty * (3.0f - 2.0f * ty);
	a = v00 + tx * (v10 - v00);
	b = v01 + tx * (v11 - v01);
	return a + ty * (b - a);
}

static uint8_t clamp_u8(float v)
{
	if (v < 0.0f)
		return 0;
	if (v > 255.0f)
		return 255;
	return (uint8_t)(v + 0.5f);
}

static void make_rects(struct rect *r, int n, float sw, float sh)
{
	uint64_t st = SCENE_SEED;

	for (int i = 0; i < n; i++) {
		float w = uniform(&st, 0.05f, 0.30f) * sw;
		float h = uniform(&st, 0.08f, 0.45f) * sh;

		r[i].x0 = uniform(&st, -0.05f, 1.0f) * sw;
		r[i].y0 = uniform(&st, -0.05f, 1.0f) * sh;
		r[i].x1 = r[i].x0 + w;
		r[i].y1 = r[i].y0 + h;
		r[i].luma = uniform(&st, -55.0f, 55.0f);
		r[i].cb = uniform(&st, -28.0f, 28.0f);
		r[i].cr = uniform(&st, -28.0f, 28.0f);
		r[i].stripe_amp = uniform(&st, 0.0f, 22.0f);
		r[i].stripe_k = TWO_PI / uniform(&st, 3.0f, 14.0f);
		r[i].stripe_vertical = (int)(mix64(&st) & 1);
	}
}

/* The scene's luma at luma coordinates (x, y) of a scene sw x sh: lit from the top-left, with
 * structure at every scale from the whole frame down to a few pixels. */
static float scene_luma(const struct rect *r, float x, float y, float sw, float sh)
{
	float v = 70.0f + 70.0f * (1.0f - x / sw) * (1.0f - 0.6f * y / sh) + 30.0f * (y / sh);
	float d = 0.0f;

	v += 14.0f * sinf(x * 0.029f + 1.3f) * cosf(y * 0.041f);
	v += 6.0f * sinf((x + 0.7f * y) * 0.19f);
	v += 26.0f * value_noise(x, y, 56.0f, 1);
	v += 14.0f * value_noise(x, y, 13.0f, 2);
	v += 9.0f * value_noise(x, y, 3.5f, 3);
	for (int i = 0; i < RECTS; i++) {
		if (x < r[i].x0 || x >= r[i].x1 || y < r[i].y0 || y >= r[i].y1)
			continue;
		d = r[i].luma;
		d += r[i].stripe_amp * sinf(r[i].stripe_k * (r[i].stripe_vertical ? x : y));
	}
	return v + d;
}

static void scene_chroma(const struct rect *r, float x, float y, float sw, float sh, float *cb,
			 float *cr)
{
	float u = -18.0f + 36.0f * x / sw + 10.0f * sinf(y * 0.013f);
	float v = 14.0f - 30.0f * y / sh + 10.0f * cosf(x * 0.011f + 0.5f);

	u += 12.0f * value_noise(x, y, 64.0f, 11) + 4.0f * value_noise(x, y, 9.0f, 12);
	v += 12.0f * value_noise(x, y, 64.0f, 13) + 4.0f * value_noise(x, y, 9.0f, 14);
	for (int i = 0; i < RECTS; i++) {
		if (x < r[i].x0 || x >= r[i].x1 || y < r[i].y0 || y >= r[i].y1)
			continue;
		u = r[i].cb + 0.3f * u;
		v = r[i].cr + 0.3f * v;
	}
	*cb = 128.0f + u;
	*cr = 128.0f + v;
}

static void make_scene(struct fc_pattern *p)
{
	struct rect r[RECTS];
	struct plane_buf *sy = &p->scene[0];
	float sw = (float)sy->width;
	float sh = (float)sy->height;

	make_rects(r, RECTS, sw, sh);
	for (int y = 0; y < sy->height; y++) {
		uint8_t *row = sy->data + (size_t)y * sy->stride;

		for (int x = 0; x < sy->width; x++)
			row[x] = clamp_u8(scene_luma(r, (float)x, (float)y, sw, sh));
	}
	for (int y = 0; y < p->scene[1].height; y++) {
		uint8_t *cb = p->scene[1].data + (size_t)y * p->scene[1].stride;
		uint8_t *cr = p->scene[2].data + (size_t)y * p->scene[2].stride;

		for (int x = 0; x < p->scene[1].width; x++) {
			float lx = 2.0f * (float)x + 0.5f; /* a chroma sample sits between its */
			float ly = 2.0f * (float)y + 0.5f; /* four luma samples */
			float u, v;

			scene_chroma(r, lx, ly, sw, sh, &u, &v);
			cb[x] = clamp_u8(u);
			cr[x] = clamp_u8(v);
		}
	}
}

/* Row spans of a circle of diameter d inscribed in a d x d square. */
static void make_spans(int16_t *lo, int16_t *hi, int d)
{
	float r = (float)d / 2.0f;

	for (int j = 0; j < d; j++) {
		float dy = (float)j + 0.5f - r;
		float half = sqrtf(r * r - dy * dy);

		lo[j] = (int16_t)(r - half + 0.5f);
		hi[j] = (int16_t)(r + half + 0.5f);
	}
}

/* A shaded ball with coloured segments (a beach ball): luma shading with a highlight, chroma
 * that changes by sector, so its edges and colours move through the picture as it bounces. */
static void make_disc(struct fc_pattern *p)
{
	static const float seg_cb[6] = { -40, 50, -30, 60, 45, -50 };
	static const float seg_cr[6] = { 60, -30, 55, -20, 40, -40 };
	int d = p->disc_d;
	float r = (float)d / 2.0f;

	for (int j = 0; j < d; j++) {
		for (int i = 0; i < d; i++) {
			float nx = ((float)i + 0.5f - r) / r;
			float ny = ((float)j + 0.5f - r) / r;
			float nz2 = 1.0f - nx * nx - ny * ny;
			float nz = nz2 > 0.0f ? sqrtf(nz2) : 0.0f;
			float light = 0.75f * nz - 0.35f * nx - 0.45f * ny;
			int seg = (int)((atan2f(ny, nx) + (TWO_PI / 2.0f)) * 6.0f / TWO_PI) % 6;

			light = light < 0.0f ? 0.0f : light;
			p->disc[0][(size_t)j * (size_t)d + (size_t)i] =
			    clamp_u8(40.0f + 170.0f * light + 30.0f * (float)(seg & 1) +
				     6.0f * sinf((float)(i + j) * 0.9f));
		}
	}
	for (int j = 0; j < d / 2; j++) {
		for (int i = 0; i < d / 2; i++) {
			float nx = (2.0f * (float)i + 1.0f - r) / r;
			float ny = (2.0f * (float)j + 1.0f - r) / r;
			int seg = (int)((atan2f(ny, nx) + (TWO_PI / 2.0f)) * 6.0f / TWO_PI) % 6;
			size_t k = (size_t)j * (size_t)(d / 2) + (size_t)i;

			p->disc[1][k] = clamp_u8(128.0f + seg_cb[seg]);
			p->disc[2][k] = clamp_u8(128.0f + seg_cr[seg]);
		}
	}
}

static int plane_alloc(struct plane_buf *b, int width, int height)
{
	b->width = width;
	b->height = height;
	b->stride = (size_t)width;
	b->data = malloc(b->stride * (size_t)height);
	return b->data ? 0 : -1;
}

static void set_err(char *err, size_t errlen, int w, int h, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "pattern size %dx%d: %s", w, h, why);
}

struct fc_pattern *fc_pattern_new(int width, int height, char *err, size_t errlen)
{
	struct fc_pattern *p = NULL;
	int ok = 1;
	int min_side;

	if (width % 2 || height % 2) {
		set_err(err, errlen, width, height, "width and height must be even");
		return NULL;
	}
	if (width < MIN_WIDTH || height < MIN_HEIGHT) {
		set_err(err, errlen, width, height,
			"must be at least 128x64 (the stamp needs 128 cells of 8x8 pixels)");
		return NULL;
	}
	if (width > MAX_SIDE || height > MAX_SIDE) {
		set_err(err, errlen, width, height, "must be at most 8192x8192");
		return NULL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->width = width;
	p->height = height;
	min_side = width < height ? width : height;
	p->disc_d = (min_side / 4) & ~3; /* a multiple of 4: its chroma sprite's side is even */
	p->bar_a = (float)min_side / 6.0f;
	p->bar_b = (float)min_side / 60.0f < 2.0f ? 2.0f : (float)min_side / 60.0f;
	p->bar_cx = (float)width * 0.72f;
	p->bar_cy = (float)height * 0.62f;
	p->band_h = fc_stamp_band_height(width, height);
	p->band_cells = width / FC_STAMP_CELL;
	if (p->band_cells > FC_STAMP_BITS)
		p->band_cells = FC_STAMP_BITS;

	for (int i = 0; i < 3; i++) {
		int sub = i ? 2 : 1;

		ok &= plane_alloc(&p->out[i], width / sub, height / sub) == 0;
		ok &= plane_alloc(&p->scene[i], (width + PAN_X) / sub, (height + PAN_Y) / sub) == 0;
		p->disc[i] = malloc((size_t)(p->disc_d / sub) * (size_t)(p->disc_d / sub));
		ok &= p->disc[i] != NULL;
	}
	for (int i = 0; i < 2; i++) {
		size_t rows = (size_t)(p->disc_d >> i);

		p->span_lo[i] = malloc(rows * sizeof(int16_t));
		p->span_hi[i] = malloc(rows * sizeof(int16_t));
		ok &= p->span_lo[i] && p->span_hi[i];
	}
	p->noise = fc_noise_new(width);
	if (!ok || !p->noise)
		goto fail;

	make_scene(p);
	make_disc(p);
	make_spans(p->span_lo[0], p->span_hi[0], p->disc_d);
	make_spans(p->span_lo[1], p->span_hi[1], p->disc_d / 2);
	return p;

fail:
	set_err(err, errlen, width, height, "out of memory");
	fc_pattern_free(p);
	return NULL;
}

void fc_pattern_free(struct fc_pattern *p)
{
	if (!p)
		return;
	for (int i = 0; i < 3; i++) {
		free(p->out[i].data);
		free(p->scene[i].data);
		free(p->disc[i]);
	}
	for (int i = 0; i < 2; i++) {
		free(p->span_lo[i]);
		free(p->span_hi[i]);
	}
	fc_noise_free(p->noise);
	free(p);
}

/* t folded into [0, n] and back: a position that bounces between two walls. */
static int bounce(uint64_t t, int n)
{
	uint64_t m;

	if (n <= 0)
		return 0;
	m = t % (2 * (uint64_t)n);
	return (int)(m <= (uint64_t)n ? m : 2 * (uint64_t)n - m);
}

static void draw_disc(struct fc_pattern *p, uint64_t seq, uint64_t *rng)
{
	int d = p->disc_d;
	/* Top-left corner, even so the chroma sprite lands on whole chroma pixels. */
	int x0 = 2 * bounce(seq * 3, (p->width - d) / 2);
	int y0 = 2 * bounce(seq * 2 + 17, (p->height - d) / 2);

	for (int j = 0; j < d; j++) {
		int lo = p->span_lo[0][j];
		int hi = p->span_hi[0][j];
		uint8_t *dst = p->out[0].data + (size_t)(y0 + j) * p->out[0].stride + (size_t)x0;
		const uint8_t *src = p->disc[0] + (size_t)j * (size_t)d;

		fc_noise_add(p->noise, dst + lo, src + lo, hi - lo, rng);
	}
	for (int c = 1; c < 3; c++) {
		for (int j = 0; j < d / 2; j++) {
			int lo = p->span_lo[1][j];
			int hi = p->span_hi[1][j];
			uint8_t *dst = p->out[c].data + (size_t)(y0 / 2 + j) * p->out[c].stride +
				       (size_t)(x0 / 2);

			memcpy(dst + lo, p->disc[c] + (size_t)j * (size_t)(d / 2) + (size_t)lo,
			       (size_t)(hi - lo));
		}
	}
}

/* Span [*x0, *x1) of row y (sampled at its centre) inside the convex quad q, clipped to
 * [0, width). Returns 0 when the row misses it. */
static int quad_span(const float q[4][2], int y, int width, int *x0, int *x1)
{
	float yc = (float)y + 0.5f;
	float lo = 1e30f;
	float hi = -1e30f;

	for (int i = 0; i < 4; i++) {
		const float *a = q[i];
		const float *b = q[(i + 1) % 4];
		float x;

		if ((yc < a[1]) == (yc < b[1]))
			continue;
		x = a[0] + (yc - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	if (hi < lo)
		return 0;
	lo = lo < 0.0f ? 0.0f : lo;
	hi = hi > (float)width ? (float)width : hi;
	*x0 = (int)(lo + 0.5f);
	*x1 = (int)(hi + 0.5f);
	return *x1 > *x0;
}

/* A bar turning about its centre, 4 degrees a frame: motion in every direction, with hard edges
 * at every angle. A handful of trig calls per frame, none per pixel. */
static void draw_bar(struct fc_pattern *p, uint64_t seq, uint64_t *rng)
{
	float th = (float)(seq % 90) * (TWO_PI / 90.0f);
	float ux = cosf(th) * p->bar_a, uy = sinf(th) * p->bar_a;
	float vx = -sinf(th) * p->bar_b, vy = cosf(th) * p->bar_b;
	float cx = p->bar_cx, cy = p->bar_cy;
	float q[4][2] = {
		{ cx + ux + vx, cy + uy + vy },
		{ cx - ux + vx, cy - uy + vy },
		{ cx - ux - vx, cy - uy - vy },
		{ cx + ux - vx, cy + uy - vy },
	};
	int ext = (int)(p->bar_a + p->bar_b) + 2;
	int ya = (int)cy - ext < 0 ? 0 : (int)cy - ext;
	int yb = (int)cy + ext > p->height ? p->height : (int)cy + ext;

	ya &= ~1; /* start on an even row: each chroma row takes its first luma row's span */
	for (int y = ya; y < yb; y++) {
		uint8_t *row = p->out[0].data + (size_t)y * p->out[0].stride;
		int x0, x1;

		if (!quad_span(q, y, p->width, &x0, &x1))
			continue;
		memset(row + x0, 225, (size_t)(x1 - x0));
		fc_noise_add(p->noise, row + x0, row + x0, x1 - x0, rng);
		if (y % 2)
			continue;
		x0 /= 2;
		x1 = (x1 + 1) / 2;
		memset(p->out[1].data + (size_t)(y / 2) * p->out[1].stride + (size_t)x0, 70,
		       (size_t)(x1 - x0));
		memset(p->out[2].data + (size_t)(y / 2) * p->out[2].stride + (size_t)x0, 190,
		       (size_t)(x1 - x0));
	}
}

void fc_pattern_draw(struct fc_pattern *p, uint64_t seq, uint64_t capture_ns, struct fc_image *out)
{
	uint64_t rng = seq * 0x2545f4914f6cdd1dull ^ SCENE_SEED;
	int ox = 2 * bounce(seq * (PAN_DX / 2), PAN_X / 2);
	int oy = 2 * bounce(seq * (PAN_DY / 2), PAN_Y / 2);
	struct fc_stamp stamp = { .seq = (uint32_t)seq, .capture_ns = capture_ns };

	/* The frame is a window on the scene; luma picks up its sensor noise on the way. */
	for (int i = 0; i < 3; i++) {
		const struct plane_buf *s = &p->scene[i];
		struct plane_buf *o = &p->out[i];
		int sub = i ? 2 : 1;
		const uint8_t *src = s->data + (size_t)(oy / sub) * s->stride + (size_t)(ox / sub);

		for (int y = 0; y < o->height; y++) {
			uint8_t *dst = o->data + (size_t)y * o->stride;

			if (i == 0)
				fc_noise_add(p->noise, dst, src + (size_t)y * s->stride, o->width,
					     &rng);
			else
				memcpy(dst, src + (size_t)y * s->stride, (size_t)o->width);
		}
	}
	draw_disc(p, seq, &rng);
	draw_bar(p, seq, &rng);
	/* Neutral chroma under the stamp: it is a grey band on any decoder, whatever the scene. */
	for (int c = 1; c < 3; c++)
		for (int y = 0; y < p->band_h / 2; y++)
			memset(p->out[c].data + (size_t)y * p->out[c].stride, 128,
			       (size_t)(p->band_cells * FC_STAMP_CELL / 2));
	fc_stamp_write(p->out[0].data, 1, p->out[0].stride, p->width, p->height, &stamp);

	out->width = p->width;
	out->height = p->height;
	out->subsamp = FC_SUBSAMP_420;
	for (int i = 0; i < 3; i++) {
		out->plane[i] = p->out[i].data;
		out->stride[i] = (int)p->out[i].stride;
	}
}
