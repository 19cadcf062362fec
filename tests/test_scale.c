/* Tests of sender/encode/scale.c: pictures made smaller by 2^shift a side from planes, from a camera's
 * YUYV and from its MJPEG. The box filter is checked against a plain reference written here, the
 * YUYV path against fc_yuyv_to_i420 followed by the planes path, the MJPEG path against a full
 * decode followed by the planes path. Inputs and outputs end at inaccessible pages, so that a
 * byte read or written past them is a SIGSEGV in any build. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "encoder.h"
#include "scale.h"
#include "yuyv.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

static const enum fc_subsamp SUBSAMPS[] = { FC_SUBSAMP_420, FC_SUBSAMP_422, FC_SUBSAMP_444 };

/* A mapping whose last len bytes end exactly at an inaccessible page. */
struct guarded {
	uint8_t *p;
	void *map;
	size_t maplen;
};

static struct guarded guarded_alloc(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + page - 1) / page * page;
	struct guarded g;
	uint8_t *base;

	g.maplen = body + page;
	base = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	assert_int_equal(mprotect(base + body, page, PROT_NONE), 0);
	g.map = base;
	g.p = base + body - len;
	return g;
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->maplen);
}

/* Plane sizes: chroma of an odd side rounded up as image.h has it, or down when `down`. */
static int plane_cols(int i, int w, enum fc_subsamp s, int down)
{
	return i == 0 || s == FC_SUBSAMP_444 ? w : (w + 1 - down) / 2;
}

static int plane_rows(int i, int h, enum fc_subsamp s, int down)
{
	return i == 0 || s != FC_SUBSAMP_420 ? h : (h + 1 - down) / 2;
}

/* A picture in planes, each ending at a guard page, `pad` junk bytes after each row. */
struct pic {
	struct fc_image img;
	struct guarded g[3];
};

typedef uint8_t (*sample_fn)(int plane, int x, int y, void *arg);

static struct pic pic_new_rounded(int w, int h, enum fc_subsamp s, int pad, int down, sample_fn f,
				  void *arg)
{
	struct pic p = { .img = { .width = w, .height = h, .subsamp = s } };

	for (int i = 0; i < 3; i++) {
		int cols = plane_cols(i, w, s, down), rows = plane_rows(i, h, s, down);
		int stride = cols + pad;

		p.g[i] = guarded_alloc((size_t)stride * (size_t)rows);
		for (int y = 0; y < rows; y++)
			for (int x = 0; x < stride; x++)
				p.g[i].p[(size_t)y * (size_t)stride + (size_t)x] =
				    x < cols ? f(i, x, y, arg) : (uint8_t)(0xEE ^ x);
		p.img.plane[i] = p.g[i].p;
		p.img.stride[i] = stride;
	}
	return p;
}

static struct pic pic_new(int w, int h, enum fc_subsamp s, int pad, sample_fn f, void *arg)
{
	return pic_new_rounded(w, h, s, pad, 0, f, arg);
}

static void pic_free(struct pic *p)
{
	for (int i = 0; i < 3; i++)
		guarded_free(&p->g[i]);
}

static uint8_t px(const struct fc_image *img, int i, int x, int y)
{
	return img->plane[i][(size_t)y * (size_t)img->stride[i] + (size_t)x];
}

/* Sample generators. */
static uint8_t flat(int plane, int x, int y, void *arg)
{
	(void)x;
	(void)y;
	return ((const uint8_t *)arg)[plane];
}

static uint32_t hash(uint32_t a)
{
	a ^= a >> 16;
	a *= 0x7feb352du;
	a ^= a >> 15;
	a *= 0x846ca68bu;
	return a ^ (a >> 16);
}

static uint8_t noise(int plane, int x, int y, void *arg)
{
	return (uint8_t)hash((uint32_t)(x * 7919 + y * 104729 + plane * 15485863) ^
			     (uint32_t)(uintptr_t)arg);
}

/* Smooth gradients, rings, edges and a little texture: something like a camera's picture. */
static uint8_t scene(int plane, int x, int y, void *arg)
{
	double fx = x, fy = y;
	double v = plane == 0	? 40 + fx * 0.1 + fy * 0.08 + 30 * sin(fx / 23.0) * cos(fy / 17.0)
		   : plane == 1 ? 100 + fx * 0.05 - fy * 0.03 + 20 * sin((fx + fy) / 40.0)
				: 150 - fx * 0.04 + fy * 0.02 + 20 * cos((fx - fy) / 30.0);

	(void)arg;
	v += (double)(hash((uint32_t)(x * 31 + y * 1031 + plane)) % 7) - 3;
	if (plane == 0 && ((x / 29 + y / 19) % 3) == 0)
		v += 50; /* edges */
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The box filter written plainly: the rounded mean of each whole 2^shift square. */
static uint8_t ref_box(const struct fc_image *in, int i, int x, int y, int shift)
{
	int n = 1 << shift, sum = 0;

	for (int r = 0; r < n; r++)
		for (int c = 0; c < n; c++)
			sum += px(in, i, x * n + c, y * n + r);
	return (uint8_t)((sum + n * n / 2) / (n * n));
}

/* An output buffer of exactly fc_scale_bound bytes before a guard page, pre-filled. */
static struct guarded out_buf(int w, int h, int shift, size_t *cap)
{
	struct guarded g;

	*cap = fc_scale_bound(w, h, shift);
	assert_true(*cap > 0);
	g = guarded_alloc(*cap);
	memset(g.p, 0x5A, *cap);
	return g;
}

/* out has fc_scale_size's sides, the subsampling asked, and every plane inside buf[0..cap). */
static void check_geometry(const struct fc_image *out, int w, int h, int shift, enum fc_subsamp s,
			   const uint8_t *buf, size_t cap)
{
	int ow = 0, oh = 0;

	assert_int_equal(fc_scale_size(w, h, shift, &ow, &oh), 0);
	assert_int_equal(out->width, ow);
	assert_int_equal(out->height, oh);
	assert_int_equal(out->subsamp, s);
	assert_true(ow % 2 == 0 && oh % 2 == 0 && ow > 0 && oh > 0);
	for (int i = 0; i < 3; i++) {
		int cols = i == 0 || s == FC_SUBSAMP_444 ? ow : ow / 2;
		int rows = i == 0 || s != FC_SUBSAMP_420 ? oh : oh / 2;
		const uint8_t *end =
		    out->plane[i] + (size_t)(rows - 1) * (size_t)out->stride[i] + (size_t)cols;

		assert_true(out->stride[i] >= cols);
		assert_true(out->plane[i] >= buf && end <= buf + cap);
	}
}

/* Every output sample of the planes path is ref_box of the input. */
static void check_box(const struct fc_image *in, const struct fc_image *out, int shift)
{
	for (int i = 0; i < 3; i++) {
		int cols = i == 0 || out->subsamp == FC_SUBSAMP_444 ? out->width : out->width / 2;
		int rows = i == 0 || out->subsamp != FC_SUBSAMP_420 ? out->height : out->height / 2;

		for (int y = 0; y < rows; y++)
			for (int x = 0; x < cols; x++)
				if (px(out, i, x, y) != ref_box(in, i, x, y, shift))
					fail_msg("%dx%d shift %d plane %d (%d,%d): %d, want %d",
						 in->width, in->height, shift, i, x, y,
						 px(out, i, x, y), ref_box(in, i, x, y, shift));
	}
}

/* Scales p at shift into a fresh guarded buffer of the bound, checks its geometry and box
 * means; returns the buffer (the caller frees) with the result in *out. */
static struct guarded scale_and_check(const struct pic *p, int shift, struct fc_image *out)
{
	char err[256] = "";
	size_t cap;
	struct guarded g = out_buf(p->img.width, p->img.height, shift, &cap);

	if (fc_scale_planes(&p->img, shift, g.p, cap, out, err, sizeof(err)) != 0)
		fail_msg("%dx%d shift %d: %s", p->img.width, p->img.height, shift, err);
	check_geometry(out, p->img.width, p->img.height, shift, p->img.subsamp, g.p, cap);
	check_box(&p->img, out, shift);
	return g;
}

/* Output sides are floor((side >> shift) / 2) * 2, never 0; the bound covers three planes of
 * the sides rounded up; impossible sizes and shifts give -1 and a bound of 0. */
static void test_sizes_and_bound(void **state)
{
	static const int ok[][5] = {
		{ 1280, 720, 1, 640, 360 },  { 1280, 720, 2, 320, 180 },
		{ 1280, 720, 3, 160, 90 },   { 1920, 1080, 1, 960, 540 },
		{ 1920, 1080, 3, 240, 134 }, { 1921, 1081, 1, 960, 540 },
		{ 4, 4, 1, 2, 2 },	     { 16, 17, 3, 2, 2 },
		{ 23, 37, 2, 4, 8 },	     { 7, 5, 1, 2, 2 },
	};
	static const int bad[][3] = {
		{ 3, 8, 1 },	  { 8, 3, 1 },	 { 15, 100, 3 }, { 640, 480, 0 }, { 640, 480, 4 },
		{ 640, 480, -1 }, { 0, 480, 1 }, { -4, 480, 1 }, { 65536, 8, 1 },
	};
	int w, h;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		w = h = -1;
		assert_int_equal(fc_scale_size(ok[i][0], ok[i][1], ok[i][2], &w, &h), 0);
		assert_int_equal(w, ok[i][3]);
		assert_int_equal(h, ok[i][4]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fc_scale_size(bad[i][0], bad[i][1], bad[i][2], &w, &h), -1);
		assert_int_equal(fc_scale_bound(bad[i][0], bad[i][1], bad[i][2]), 0);
	}
	assert_int_equal(fc_scale_bound(1920, 1080, 3), 3 * 240 * 135);
	assert_int_equal(fc_scale_bound(1280, 720, 1), 3 * 640 * 360);
	assert_int_equal(fc_scale_bound(7, 5, 1), 3 * 4 * 3);
	assert_int_equal(fc_scale_size(65535, 65535, 1, NULL, NULL), 0);
	assert_true(fc_scale_bound(65535, 65535, 1) > (size_t)3 * 32767 * 32767);
}

/* A flat colour stays exactly that colour at every shift, in every subsampling, at sizes that
 * are and are not multiples of the block, black, white and in between. */
static void test_flat_colour_stays(void **state)
{
	static const uint8_t colours[][3] = { { 0, 0, 0 }, { 255, 255, 255 }, { 81, 90, 240 } };
	static const int sizes[][2] = { { 64, 32 }, { 45, 29 }, { 130, 66 } };

	(void)state;
	for (size_t c = 0; c < 3; c++)
		for (size_t z = 0; z < 3; z++)
			for (int s = 0; s < 3; s++)
				for (int shift = 1; shift <= 3; shift++) {
					struct pic p =
					    pic_new(sizes[z][0], sizes[z][1], SUBSAMPS[s], 3, flat,
						    (void *)colours[c]);
					struct fc_image out;
					struct guarded g = scale_and_check(&p, shift, &out);

					assert_int_equal(px(&out, 0, 0, 0), colours[c][0]);
					assert_int_equal(px(&out, 2, 0, 0), colours[c][2]);
					guarded_free(&g);
					pic_free(&p);
				}
}

/* Checkerboards. Of 2^shift squares: each output sample is one square, exactly its value. Of
 * single samples 0 and 255: every output is the mean 127.5, rounded half up to 128. */
static uint8_t checker(int plane, int x, int y, void *arg)
{
	int size = *(const int *)arg;

	(void)plane;
	return ((x / size + y / size) % 2) ? 230 : 17;
}

static void test_checkerboard_means_exact(void **state)
{
	(void)state;
	for (int shift = 1; shift <= 3; shift++) {
		int block = 1 << shift, one = 1;
		struct pic p = pic_new(96, 64, FC_SUBSAMP_444, 0, checker, &block);
		struct pic q = pic_new(96, 64, FC_SUBSAMP_422, 0, checker, &one);
		struct fc_image out, out1;
		struct guarded g = scale_and_check(&p, shift, &out);
		struct guarded g1 = scale_and_check(&q, shift, &out1);

		for (int y = 0; y < out.height; y++)
			for (int x = 0; x < out.width; x++) {
				assert_int_equal(px(&out, 0, x, y), (x + y) % 2 ? 230 : 17);
				assert_int_equal(px(&out, 1, x, y), (x + y) % 2 ? 230 : 17);
				assert_int_equal(px(&out1, 0, x, y), (17 + 230 + 1) / 2);
			}
		guarded_free(&g);
		guarded_free(&g1);
		pic_free(&p);
		pic_free(&q);
	}
}

/* A horizontal ramp x (0..255) gives at shift s the mean of its n = 2^s columns, n x + (n - 1)
 * / 2 rounded half up: n x + n / 2; vertical ramps likewise. And noise and a camera-like scene match the
 * plain reference in every subsampling, with padded strides. */
static uint8_t ramp(int plane, int x, int y, void *arg)
{
	(void)arg;
	return (uint8_t)(plane == 2 ? y : x);
}

static void test_gradients_and_noise_match_the_reference(void **state)
{
	(void)state;
	for (int shift = 1; shift <= 3; shift++) {
		int n = 1 << shift;
		struct pic p = pic_new(256, 256, FC_SUBSAMP_444, 5, ramp, NULL);
		struct fc_image out;
		struct guarded g = scale_and_check(&p, shift, &out);

		for (int x = 0; x < out.width; x++) {
			assert_int_equal(px(&out, 0, x, 3), n * x + n / 2);
			assert_int_equal(px(&out, 2, 3, x), n * x + n / 2);
		}
		guarded_free(&g);
		pic_free(&p);
		for (int s = 0; s < 3; s++) {
			struct pic a = pic_new(1290, 70, SUBSAMPS[s], 7, noise, (void *)1);
			struct pic b = pic_new(333, 94, SUBSAMPS[s], 0, scene, NULL);
			struct guarded ga = scale_and_check(&a, shift, &out);
			struct guarded gb = scale_and_check(&b, shift, &out);

			guarded_free(&ga);
			guarded_free(&gb);
			pic_free(&a);
			pic_free(&b);
		}
	}
}

/* Where the whole blocks of an odd, non-multiple picture end, per plane: 10 inside, 250 in the
 * partial blocks and in the whole ones dropped to make a side even. */
static uint8_t inside(int plane, int x, int y, void *arg)
{
	const int *lim = arg; /* columns and rows used, luma then chroma */

	return x < lim[plane ? 2 : 0] && y < lim[plane ? 3 : 1] ? 10 : 250;
}

/* 37x23 at 1/2 is 18x10: the partial column 36 and row 22 are dropped, and the whole row of
 * blocks 20-21 too (11 rows would be odd); nothing of them reaches the output. Chroma planes of
 * the odd sides rounded up or down are both taken and give the same picture. */
static void test_partial_blocks_dropped(void **state)
{
	static const int lim420[4] = { 36, 20, 18, 10 };
	static const int lim422[4] = { 36, 20, 18, 20 };

	(void)state;
	for (int down = 0; down <= 1; down++) {
		struct pic a =
		    pic_new_rounded(37, 23, FC_SUBSAMP_420, 0, down, inside, (void *)lim420);
		struct pic b =
		    pic_new_rounded(37, 23, FC_SUBSAMP_422, 2, down, inside, (void *)lim422);
		struct fc_image oa, ob;
		struct guarded ga = scale_and_check(&a, 1, &oa);
		struct guarded gb = scale_and_check(&b, 1, &ob);

		assert_int_equal(oa.width, 18);
		assert_int_equal(oa.height, 10);
		for (int y = 0; y < 10; y++)
			for (int x = 0; x < 18; x++) {
				assert_int_equal(px(&oa, 0, x, y), 10);
				assert_int_equal(px(&ob, 0, x, y), 10);
				assert_int_equal(px(&ob, 1, x / 2, y), 10);
				assert_int_equal(px(&oa, 2, x / 2, y / 2), 10);
			}
		guarded_free(&ga);
		guarded_free(&gb);
		pic_free(&a);
		pic_free(&b);
	}
}

/* Bad calls of the planes path are refused with a reason and leave *out alone: a shift of 0, 4
 * or -1, a picture too small for the shift, a missing plane, a stride below the plane's width,
 * a buffer one byte too small, an unknown subsampling, NULL pointers; err may be NULL. */
static void test_bad_planes_refused(void **state)
{
	const uint8_t grey[3] = { 128, 128, 128 };
	struct pic p = pic_new(64, 32, FC_SUBSAMP_420, 0, flat, (void *)grey);
	struct fc_image in = p.img, out, before;
	size_t need = 32 * 16 + 2 * 16 * 8, cap = fc_scale_bound(64, 32, 1);
	uint8_t *buf = malloc(cap);
	char err[256];

	(void)state;
	assert_non_null(buf);
	memset(&out, 0x77, sizeof(out));
	before = out;
#define REFUSED(call, words)                                                                       \
	do {                                                                                       \
		err[0] = '\0';                                                                     \
		assert_int_equal((call), -1);                                                      \
		assert_contains(err, words);                                                       \
		assert_memory_equal(&out, &before, sizeof(out));                                   \
		in = p.img;                                                                        \
	} while (0)
	REFUSED(fc_scale_planes(&in, 0, buf, cap, &out, err, sizeof(err)), "shift 0");
	REFUSED(fc_scale_planes(&in, 4, buf, cap, &out, err, sizeof(err)), "shift 4");
	REFUSED(fc_scale_planes(&in, -1, buf, cap, &out, err, sizeof(err)), "shift -1");
	in.height = 7;
	REFUSED(fc_scale_planes(&in, 2, buf, cap, &out, err, sizeof(err)), "64x7");
	in.width = 0;
	REFUSED(fc_scale_planes(&in, 1, buf, cap, &out, err, sizeof(err)), "0x32");
	in.plane[2] = NULL;
	REFUSED(fc_scale_planes(&in, 1, buf, cap, &out, err, sizeof(err)), "plane 2");
	in.stride[0] = 63;
	REFUSED(fc_scale_planes(&in, 1, buf, cap, &out, err, sizeof(err)), "stride 63");
	in.stride[1] = 31;
	REFUSED(fc_scale_planes(&in, 1, buf, cap, &out, err, sizeof(err)), "stride 31");
	in.subsamp = (enum fc_subsamp)7;
	REFUSED(fc_scale_planes(&in, 1, buf, cap, &out, err, sizeof(err)), "subsampling 7");
	REFUSED(fc_scale_planes(&in, 1, buf, need - 1, &out, err, sizeof(err)), "too small");
	REFUSED(fc_scale_planes(NULL, 1, buf, cap, &out, err, sizeof(err)), "no picture");
	REFUSED(fc_scale_planes(&in, 1, NULL, cap, &out, err, sizeof(err)), "no picture");
	assert_int_equal(fc_scale_planes(&in, 1, buf, cap, NULL, err, sizeof(err)), -1);
	assert_int_equal(fc_scale_planes(&in, 0, buf, cap, &out, NULL, 0), -1);
#undef REFUSED
	/* Exactly the bytes needed is enough. */
	assert_int_equal(fc_scale_planes(&in, 1, buf, need, &out, err, sizeof(err)), 0);
	assert_int_equal(px(&out, 1, 15, 7), 128);
	free(buf);
	pic_free(&p);
}

/* A YUYV picture w x h, stride bytes a row (junk after 2w), ending at a guard page; f gives the
 * byte at (x, y) of a row, x in 0..2w (even x luma, odd chroma). */
static struct guarded yuyv_new(int w, int h, size_t stride, sample_fn f, void *arg)
{
	struct guarded g = guarded_alloc(stride * (size_t)h);

	for (int y = 0; y < h; y++)
		for (size_t x = 0; x < stride; x++)
			g.p[(size_t)y * stride + x] =
			    x < (size_t)w * 2 ? f(0, (int)x, y, arg) : (uint8_t)(0xEE ^ x);
	return g;
}

/* Every sample of a and b (same geometry) within tol; the largest difference seen. */
static int max_diff(const struct fc_image *a, const struct fc_image *b, int tol)
{
	int worst = 0;

	assert_int_equal(a->width, b->width);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->subsamp, b->subsamp);
	for (int i = 0; i < 3; i++) {
		int cols = i == 0 || a->subsamp == FC_SUBSAMP_444 ? a->width : a->width / 2;
		int rows = i == 0 || a->subsamp != FC_SUBSAMP_420 ? a->height : a->height / 2;

		for (int y = 0; y < rows; y++)
			for (int x = 0; x < cols; x++) {
				int d = abs(px(a, i, x, y) - px(b, i, x, y));

				if (d > tol)
					fail_msg("%dx%d plane %d (%d,%d): %d against %d", a->width,
						 a->height, i, x, y, px(a, i, x, y),
						 px(b, i, x, y));
				worst = d > worst ? d : worst;
			}
	}
	return worst;
}

/* The mean of plane i of 4:2:0 a less b, over planes of 1024 samples or more (0 for fewer: one
 * sample off would weigh too much). */
static double bias(const struct fc_image *a, const struct fc_image *b, int i)
{
	int cols = i == 0 ? a->width : a->width / 2;
	int rows = i == 0 ? a->height : a->height / 2;
	long sum = 0;

	if (cols * rows < 1024)
		return 0;
	for (int y = 0; y < rows; y++)
		for (int x = 0; x < cols; x++)
			sum += px(a, i, x, y) - px(b, i, x, y);
	return (double)sum / cols / rows;
}

/* The YUYV path on yuyv (w x h, stride) at shift against the whole-picture split followed by
 * the planes path: within one step everywhere. Both outputs end at guard pages. */
static void check_yuyv(const struct guarded *yuyv, size_t stride, int w, int h, int shift)
{
	struct pic split = pic_new(w, h, FC_SUBSAMP_420, 0, flat, (void *)"\0\0\0");
	struct fc_image want, got;
	struct guarded gw, gg;
	char err[256] = "";
	size_t cap;

	fc_yuyv_to_i420(yuyv->p, stride, w, h, split.g[0].p, w, split.g[1].p, split.g[2].p, w / 2);
	gw = scale_and_check(&split, shift, &want);
	gg = out_buf(w, h, shift, &cap);
	if (fc_scale_yuyv(yuyv->p, stride, w, h, shift, gg.p, cap, &got, err, sizeof(err)) != 0)
		fail_msg("YUYV %dx%d shift %d: %s", w, h, shift, err);
	check_geometry(&got, w, h, shift, FC_SUBSAMP_420, gg.p, cap);
	max_diff(&got, &want, 1);
	/* Nor do the differences lean one way. The reference rounds twice, each sample and then
	 * the box's mean half up (on noise 1/8 high on average at shift 1, less at higher shifts);
	 * the YUYV path once, so it may sit lower by that much, but not by 0.2. */
	for (int i = 0; i < 3; i++)
		if (fabs(bias(&got, &want, i)) > 0.2)
			fail_msg("YUYV %dx%d shift %d plane %d: off by %.2f on average", w, h,
				 shift, i, bias(&got, &want, i));
	guarded_free(&gw);
	guarded_free(&gg);
	pic_free(&split);
}

/* Camera-like YUYV: the scene's luma and chroma squeezed into the limited range. */
static uint8_t yuyv_scene(int plane, int x, int y, void *arg)
{
	(void)plane;
	(void)arg;
	if (x % 2 == 0)
		return (uint8_t)(16 + scene(0, x / 2, y, NULL) * 219 / 255);
	return (uint8_t)(16 + scene(x % 4 == 1 ? 1 : 2, x / 4, y, NULL) * 224 / 255);
}

/* Bytes near both ends only: most samples outside the limited range, where the split clamps. */
static uint8_t yuyv_extremes(int plane, int x, int y, void *arg)
{
	uint32_t r = hash((uint32_t)(x * 131 + y * 7717 + plane));

	(void)arg;
	return (uint8_t)(r % 2 ? r % 40 : 255 - r % 40);
}

/* The YUYV path is within one step of fc_yuyv_to_i420 + fc_scale_planes for every byte value
 * (noise over 0..255, the range's ends, a camera-like scene), at every shift, at 1280x720 (rows
 * longer than one strip), at sizes that are not multiples of the block and with padded rows. */
static void test_yuyv_within_one_of_split_then_box(void **state)
{
	static const int sizes[][3] = {
		{ 1280, 720, 0 }, { 70, 38, 6 }, { 1030, 22, 2 }, { 16, 16, 0 }, { 2050, 36, 0 }
	};
	static const sample_fn fill[] = { noise, yuyv_extremes, yuyv_scene };

	(void)state;
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		for (size_t f = 0; f < 3; f++) {
			int w = sizes[z][0], h = sizes[z][1];
			size_t stride = (size_t)w * 2 + (size_t)sizes[z][2];
			struct guarded y = yuyv_new(w, h, stride, fill[f], (void *)7);

			for (int shift = 1; shift <= 3; shift++)
				if (fc_scale_size(w, h, shift, NULL, NULL) == 0)
					check_yuyv(&y, stride, w, h, shift);
			guarded_free(&y);
		}
}

/* Limited to full range at the extremes, on flat pictures: luma 16 -> 0 and 235 -> 255, chroma
 * 16 -> 0 and 240 -> 255, 128 stays, and beyond the range clamps. */
static uint8_t yuyv_flat(int plane, int x, int y, void *arg)
{
	const uint8_t *c = arg; /* Y, U, V */

	(void)plane;
	(void)y;
	return x % 2 == 0 ? c[0] : x % 4 == 1 ? c[1] : c[2];
}

static void test_yuyv_range_extremes(void **state)
{
	static const uint8_t cases[][6] = {
		{ 16, 16, 240, 0, 0, 255 },	  { 235, 240, 16, 255, 255, 0 },
		{ 0, 0, 255, 0, 0, 255 },	  { 255, 255, 0, 255, 255, 0 },
		{ 126, 128, 128, 128, 128, 128 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (int shift = 1; shift <= 3; shift++) {
			struct guarded y = yuyv_new(48, 32, 96, yuyv_flat, (void *)cases[c]);
			struct fc_image out;
			size_t cap;
			struct guarded g = out_buf(48, 32, shift, &cap);
			char err[256];

			assert_int_equal(
			    fc_scale_yuyv(y.p, 96, 48, 32, shift, g.p, cap, &out, err, sizeof(err)),
			    0);
			for (int r = 0; r < out.height; r++)
				for (int x = 0; x < out.width; x++) {
					assert_int_equal(px(&out, 0, x, r), cases[c][3]);
					assert_int_equal(px(&out, 1, x / 2, r / 2), cases[c][4]);
					assert_int_equal(px(&out, 2, x / 2, r / 2), cases[c][5]);
				}
			guarded_free(&g);
			guarded_free(&y);
		}
}

/* Bad YUYV calls are refused with a reason: odd sides, rows shorter than two bytes a pixel, a
 * bad shift, too small a picture or buffer, NULL pointers. */
static void test_bad_yuyv_refused(void **state)
{
	struct guarded y = yuyv_new(64, 32, 128, noise, NULL);
	struct fc_image out;
	size_t cap = fc_scale_bound(64, 32, 1);
	uint8_t *buf = malloc(cap);
	char err[256];

	(void)state;
	assert_non_null(buf);
	assert_int_equal(fc_scale_yuyv(y.p, 128, 63, 32, 1, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "63x32");
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 31, 1, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "64x31");
	assert_int_equal(fc_scale_yuyv(y.p, 127, 64, 32, 1, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "127 bytes a row");
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 32, 4, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "shift 4");
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 32, 0, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "shift 0");
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 14, 3, buf, cap, &out, err, sizeof(err)), -1);
	assert_contains(err, "64x14");
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 32, 1, buf, 767, &out, err, sizeof(err)), -1);
	assert_contains(err, "too small");
	assert_int_equal(fc_scale_yuyv(NULL, 128, 64, 32, 1, buf, cap, &out, err, sizeof(err)), -1);
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 32, 1, buf, cap, NULL, NULL, 0), -1);
	assert_int_equal(fc_scale_yuyv(y.p, 128, 64, 32, 1, buf, 768, &out, err, sizeof(err)), 0);
	free(buf);
	guarded_free(&y);
}

/* A JPEG of the scene at w x h in subsampling s (fc_encoder, quality 90), copied to end at a
 * guard page. */
static struct guarded scene_jpeg(int w, int h, enum fc_subsamp s, size_t *size)
{
	char err[256] = "";
	struct fc_encoder *e = fc_encoder_new(90, 1, err, sizeof(err));
	struct pic p = pic_new(w, h, s, 0, scene, NULL);
	size_t cap = fc_encoder_bound(w, h, s);
	uint8_t *tmp = malloc(cap);
	struct guarded g;

	if (!e)
		fail_msg("encoder: %s", err);
	assert_non_null(tmp);
	if (fc_encoder_encode(e, &p.img, tmp, cap, size) != 0)
		fail_msg("encode %dx%d: %s", w, h, fc_encoder_error(e));
	g = guarded_alloc(*size);
	memcpy(g.p, tmp, *size);
	free(tmp);
	pic_free(&p);
	fc_encoder_free(e);
	return g;
}

/* A full decode of the JPEG to TurboJPEG's planes, in a pic (planes before guard pages). */
static struct pic full_decode(const uint8_t *jpeg, size_t size, int w, int h, enum fc_subsamp s)
{
	struct pic p = pic_new(w, h, s, 0, flat, (void *)"\0\0\0");
	tjhandle tj = tjInitDecompress();
	unsigned char *planes[3];

	assert_non_null(tj);
	for (int i = 0; i < 3; i++)
		planes[i] = p.g[i].p;
	assert_int_equal(tjDecompressToYUVPlanes(tj, jpeg, (unsigned long)size, planes, w,
						 p.img.stride, h, TJFLAG_STOPONWARNING),
			 0);
	tjDestroy(tj);
	return p;
}

/* Peak signal to noise ratio of plane i of a against b, in dB. */
static double psnr(const struct fc_image *a, const struct fc_image *b, int i)
{
	int cols = i == 0 || a->subsamp == FC_SUBSAMP_444 ? a->width : a->width / 2;
	int rows = i == 0 || a->subsamp != FC_SUBSAMP_420 ? a->height : a->height / 2;
	double se = 0;

	for (int y = 0; y < rows; y++)
		for (int x = 0; x < cols; x++) {
			double d = px(a, i, x, y) - px(b, i, x, y);

			se += d * d;
		}
	if (se == 0)
		return 99;
	return 10 * log10(255.0 * 255.0 * cols * rows / se);
}

/* The MJPEG path gives fc_scale_size's sides in the JPEG's subsampling (4:2:0, 4:2:2, 4:4:4),
 * and a picture close (PSNR > 35 dB in every plane) to a full decode followed by the box
 * filter, at every shift: at 640x480 and at 1000x562, whose scaled sides are odd at some shifts
 * and cropped. JPEG and output end at guard pages. */
static void test_jpeg_scaled_close_to_full_decode_and_box(void **state)
{
	static const int sizes[][2] = { { 640, 480 }, { 1000, 562 } };

	(void)state;
	for (size_t z = 0; z < 2; z++)
		for (int s = 0; s < 3; s++) {
			int w = sizes[z][0], h = sizes[z][1];
			size_t size;
			struct guarded j = scene_jpeg(w, h, SUBSAMPS[s], &size);
			struct pic full = full_decode(j.p, size, w, h, SUBSAMPS[s]);

			for (int shift = 1; shift <= 3; shift++) {
				struct fc_image box, got;
				struct guarded gb = scale_and_check(&full, shift, &box);
				char err[256] = "";
				size_t cap;
				struct guarded g = out_buf(w, h, shift, &cap);

				if (fc_scale_jpeg(j.p, size, shift, g.p, cap, &got, err,
						  sizeof(err)) != 0)
					fail_msg("%dx%d shift %d: %s", w, h, shift, err);
				check_geometry(&got, w, h, shift, SUBSAMPS[s], g.p, cap);
				for (int i = 0; i < 3; i++)
					if (psnr(&got, &box, i) < 35)
						fail_msg("%dx%d subsampling %d shift %d plane %d: "
							 "PSNR %.1f dB",
							 w, h, s, shift, i, psnr(&got, &box, i));
				guarded_free(&g);
				guarded_free(&gb);
			}
			pic_free(&full);
			guarded_free(&j);
		}
}

/* A JPEG from TurboJPEG of a grey w x h picture in TurboJPEG subsampling tjsamp (caller frees
 * with tjFree). */
static uint8_t *tj_jpeg(int w, int h, int tjsamp, size_t *size)
{
	tjhandle tj = tjInitCompress();
	uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
	unsigned char *jpeg = NULL;
	unsigned long n = 0;

	assert_non_null(tj);
	assert_non_null(rgb);
	memset(rgb, 100, (size_t)w * (size_t)h * 3);
	assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &n, tjsamp, 80, 0), 0);
	free(rgb);
	tjDestroy(tj);
	*size = n;
	return jpeg;
}

static void jpeg_refused(const uint8_t *jpeg, size_t size, int shift, size_t cap, const char *words)
{
	struct fc_image out, before;
	uint8_t *buf = malloc(cap ? cap : 1);
	char err[256] = "";

	assert_non_null(buf);
	memset(&out, 0x77, sizeof(out));
	before = out;
	if (fc_scale_jpeg(jpeg, size, shift, buf, cap, &out, err, sizeof(err)) != -1)
		fail_msg("accepted a JPEG to be refused with \"%s\"", words);
	assert_contains(err, words);
	assert_memory_equal(&out, &before, sizeof(out));
	free(buf);
}

/* What the scaled decode cannot do is refused with a reason, never a crash: no JPEG at all,
 * junk, a JPEG cut short (a warning is a broken frame), a shift of 0 or 4, a picture too small
 * for the shift, greyscale and 4:4:0, a buffer too small for the scaled planes. */
static void test_bad_jpeg_refused(void **state)
{
	static const uint8_t junk[64] = { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3 };
	size_t size, n;
	struct guarded j = scene_jpeg(64, 48, FC_SUBSAMP_422, &size);
	size_t big_size;
	struct guarded big = scene_jpeg(640, 480, FC_SUBSAMP_420, &big_size);
	size_t cap = fc_scale_bound(64, 48, 1);
	uint8_t *grey = tj_jpeg(64, 48, TJSAMP_GRAY, &n);
	uint8_t *s440 = tj_jpeg(64, 48, TJSAMP_440, &n);
	uint8_t *tiny = tj_jpeg(12, 40, TJSAMP_420, &n);
	uint8_t *out;
	struct fc_image img;
	char err[256];

	(void)state;
	jpeg_refused(NULL, size, 1, cap, "no JPEG");
	jpeg_refused(j.p, 0, 1, cap, "no JPEG");
	jpeg_refused(junk, sizeof(junk), 1, cap, "not a JPEG");
	jpeg_refused(big.p, big_size * 3 / 4, 1, fc_scale_bound(640, 480, 1), "does not decode");
	jpeg_refused(j.p, size, 0, cap, "shift 0");
	jpeg_refused(j.p, size, 4, cap, "shift 4");
	/* 4:2:2 at 1/2: luma 32x24 and chroma 16x24, 1536 bytes, below the bound (for 4:4:4). */
	jpeg_refused(j.p, size, 1, 1535, "too small");
	jpeg_refused(j.p, size, 1, 0, "too small");
	jpeg_refused(tiny, n, 3, cap, "12x40");
	jpeg_refused(grey, n, 1, cap, "greyscale");
	jpeg_refused(s440, n, 1, cap, "4:4:0");
	out = malloc(1536);
	assert_non_null(out);
	assert_int_equal(fc_scale_jpeg(j.p, size, 1, out, 1536, &img, err, sizeof(err)), 0);
	assert_int_equal(img.width, 32);
	free(out);
	tjFree(grey);
	tjFree(s440);
	tjFree(tiny);
	guarded_free(&j);
	guarded_free(&big);
}

/* Copies the JPEG p (n bytes) to out without its DHT segments, as many UVC cameras send their
 * MJPEG frames (AVI1: the decoder is to know the standard tables); the new size. */
static size_t without_dht(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t off = 2, o = 2;

	memcpy(out, p, 2);
	while (off + 4 <= n && p[off + 1] != 0xDA) {
		size_t len = (size_t)p[off + 2] << 8 | p[off + 3];

		assert_int_equal(p[off], 0xFF);
		if (p[off + 1] != 0xC4) {
			memcpy(out + o, p + off, 2 + len);
			o += 2 + len;
		}
		off += 2 + len;
	}
	memcpy(out + o, p + off, n - off);
	return o + n - off;
}

/* A camera frame without Huffman tables (its encoder used the standard ones) scales to exactly
 * the picture of the same frame with them. */
static void test_jpeg_without_huffman_tables(void **state)
{
	size_t size, n;
	struct guarded j = scene_jpeg(320, 240, FC_SUBSAMP_422, &size);
	uint8_t *bare = malloc(size);
	size_t cap = fc_scale_bound(320, 240, 1);
	uint8_t *a = malloc(cap), *b = malloc(cap);
	struct fc_image oa, ob;
	char err[256] = "";

	(void)state;
	assert_non_null(bare);
	assert_non_null(a);
	assert_non_null(b);
	n = without_dht(j.p, size, bare);
	assert_true(n < size - 400); /* the four standard tables are 420 bytes */
	assert_int_equal(fc_scale_jpeg(j.p, size, 1, a, cap, &oa, err, sizeof(err)), 0);
	if (fc_scale_jpeg(bare, n, 1, b, cap, &ob, err, sizeof(err)) != 0)
		fail_msg("without DHT: %s", err);
	assert_int_equal(max_diff(&oa, &ob, 0), 0);
	free(bare);
	free(a);
	free(b);
	guarded_free(&j);
}

/* What one thread scales in test_threads_share_nothing: a 4:2:2 JPEG and a YUYV picture, each
 * at 1/2, into its own buffers, 20 times; the results' bytes summed into sum. */
struct job {
	const uint8_t *jpeg;
	size_t jpeg_size;
	const uint8_t *yuyv;
	uint64_t sum;
	int failed;
};

static uint64_t sum_of(const struct fc_image *img)
{
	uint64_t sum = 0;

	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++)
			sum = sum * 31 + px(img, 0, x, y) + px(img, 1, x / 2, y / 2);
	return sum;
}

static void *scale_job(void *arg)
{
	struct job *j = arg;
	size_t cap = fc_scale_bound(320, 240, 1);
	uint8_t *a = malloc(cap), *b = malloc(cap);
	struct fc_image oa, ob;
	char err[256];

	j->failed = !a || !b;
	for (int k = 0; k < 20 && !j->failed; k++) {
		j->failed =
		    fc_scale_jpeg(j->jpeg, j->jpeg_size, 1, a, cap, &oa, err, sizeof(err)) ||
		    fc_scale_yuyv(j->yuyv, 640, 320, 240, 1, b, cap, &ob, err, sizeof(err));
		j->sum = sum_of(&oa) ^ sum_of(&ob);
	}
	free(a);
	free(b);
	return NULL;
}

/* Two threads scaling at once share nothing (TSan would see it): each gets the result a lone
 * call gets. */
static void test_threads_share_nothing(void **state)
{
	size_t size;
	struct guarded j = scene_jpeg(320, 240, FC_SUBSAMP_422, &size);
	struct guarded y = yuyv_new(320, 240, 640, yuyv_scene, NULL);
	struct job jobs[3];
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 3; i++)
		jobs[i] = (struct job){ .jpeg = j.p, .jpeg_size = size, .yuyv = y.p };
	scale_job(&jobs[2]);
	assert_false(jobs[2].failed);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, scale_job, &jobs[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_false(jobs[i].failed);
		assert_true(jobs[i].sum == jobs[2].sum);
	}
	guarded_free(&j);
	guarded_free(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_bound),
		cmocka_unit_test(test_flat_colour_stays),
		cmocka_unit_test(test_checkerboard_means_exact),
		cmocka_unit_test(test_gradients_and_noise_match_the_reference),
		cmocka_unit_test(test_partial_blocks_dropped),
		cmocka_unit_test(test_bad_planes_refused),
		cmocka_unit_test(test_yuyv_within_one_of_split_then_box),
		cmocka_unit_test(test_yuyv_range_extremes),
		cmocka_unit_test(test_bad_yuyv_refused),
		cmocka_unit_test(test_jpeg_scaled_close_to_full_decode_and_box),
		cmocka_unit_test(test_jpeg_without_huffman_tables),
		cmocka_unit_test(test_bad_jpeg_refused),
		cmocka_unit_test(test_threads_share_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
