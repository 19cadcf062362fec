/* Tests of sender/encode/yuyv.c: a camera's limited-range YUYV 4:2:2 to full-range planar 4:2:0. The
 * expected values come from the formulas of the header (JFIF full range from BT.601 limited
 * range), computed here in floating point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stamp.h"
#include "yuyv.h"

#define CANARY 0xA5
#define GUARD  64

/* Full-range luma for limited-range v: round((v - 16) * 255 / 219), clamped. */
static int want_luma(int v)
{
	double r = (v - 16) * 255.0 / 219.0;

	return r < 0 ? 0 : r > 255 ? 255 : (int)(r + 0.5);
}

/* Full-range chroma for a limited-range mean c: 128 + (c - 128) * 255 / 224, clamped. */
static double want_chroma(double c)
{
	double r = 128.0 + (c - 128.0) * 255.0 / 224.0;

	return r < 0 ? 0 : r > 255 ? 255 : r;
}

#define assert_near(got, want, tol)                                                                \
	do {                                                                                       \
		double d_ = (double)(got) - (double)(want);                                        \
		if (d_ > (tol) || d_ < -(tol))                                                     \
			fail_msg("%s = %d, want %.2f +- %d", #got, (int)(got), (double)(want),     \
				 (int)(tol));                                                      \
	} while (0)

/* A YUYV picture in its own buffer; rows are `stride` bytes, any padding filled with junk. */
struct yuyv {
	uint8_t *data;
	size_t stride;
	int width;
	int height;
};

static struct yuyv yuyv_new(int width, int height, size_t stride)
{
	struct yuyv p = { .stride = stride, .width = width, .height = height };

	p.data = malloc(stride * (size_t)height);
	assert_non_null(p.data);
	memset(p.data, 0xEE, stride * (size_t)height);
	return p;
}

static void put_px(struct yuyv *p, int x, int y, uint8_t luma)
{
	p->data[(size_t)y * p->stride + (size_t)x * 2] = luma;
}

/* Chroma of pixel pair i (pixels 2i and 2i+1) in row y. */
static void put_uv(struct yuyv *p, int i, int y, uint8_t u, uint8_t v)
{
	uint8_t *g = p->data + (size_t)y * p->stride + (size_t)i * 4;

	g[1] = u;
	g[3] = v;
}

/* A destination plane of rows x cols with `stride` bytes a row, GUARD canary bytes on either
 * side and canary in the row padding. */
struct plane {
	uint8_t *buf;
	uint8_t *p; /* buf + GUARD: where the converter writes */
	int stride;
	int cols;
	int rows;
};

static struct plane plane_new(int cols, int rows, int stride)
{
	struct plane pl = { .stride = stride, .cols = cols, .rows = rows };
	size_t len = (size_t)stride * (size_t)rows + 2 * GUARD;

	pl.buf = malloc(len);
	assert_non_null(pl.buf);
	memset(pl.buf, CANARY, len);
	pl.p = pl.buf + GUARD;
	return pl;
}

static uint8_t at(const struct plane *pl, int x, int y)
{
	return pl->p[(size_t)y * (size_t)pl->stride + (size_t)x];
}

/* Every byte outside the plane's rectangle is still the canary. */
static void assert_untouched_outside(const struct plane *pl)
{
	size_t len = (size_t)pl->stride * (size_t)pl->rows + 2 * GUARD;

	for (size_t k = 0; k < len; k++) {
		long off = (long)k - GUARD;
		long y = off / pl->stride;
		long x = off % pl->stride;
		int inside = off >= 0 && y < pl->rows && x < pl->cols;

		if (!inside && pl->buf[k] != CANARY)
			fail_msg("byte %ld from the plane's start (row %ld, col %ld) was written",
				 off, off >= 0 ? y : -1, off >= 0 ? x : off);
	}
}

/* Each luma v becomes round((v-16)*255/219) +-1; 16 -> 0, 235 -> 255, and beyond clamps. */
static void test_luma_range(void **state)
{
	struct yuyv s = yuyv_new(256, 2, 512);
	struct plane y = plane_new(256, 2, 256);
	struct plane u = plane_new(128, 1, 128);
	struct plane v = plane_new(128, 1, 128);

	(void)state;
	for (int x = 0; x < 256; x++) {
		put_px(&s, x, 0, (uint8_t)x);
		put_px(&s, x, 1, (uint8_t)(255 - x));
	}
	for (int i = 0; i < 128; i++) {
		put_uv(&s, i, 0, 128, 128);
		put_uv(&s, i, 1, 128, 128);
	}
	fc_yuyv_to_i420(s.data, s.stride, 256, 2, y.p, y.stride, u.p, v.p, u.stride);
	for (int x = 0; x < 256; x++) {
		assert_near(at(&y, x, 0), want_luma(x), 1);
		assert_near(at(&y, 255 - x, 1), want_luma(x), 1);
		if (x <= 16)
			assert_int_equal(at(&y, x, 0), 0);
		if (x >= 235)
			assert_int_equal(at(&y, x, 0), 255);
	}
	assert_int_equal(at(&y, 16, 0), 0);
	assert_int_equal(at(&y, 235, 0), 255);
	assert_int_equal(at(&y, 126, 0), want_luma(126)); /* mid-grey: (126-16)*255/219 = 128.08 */
	for (int i = 0; i < 128; i++) {
		assert_int_equal(at(&u, i, 0), 128);
		assert_int_equal(at(&v, i, 0), 128);
	}
	free(s.data);
	free(y.buf);
	free(u.buf);
	free(v.buf);
}

/* Each chroma c becomes 128 + (c-128)*255/224 +-1; 128 stays, 16 -> 0, 240 -> 255, clamps. */
static void test_chroma_range(void **state)
{
	struct yuyv s = yuyv_new(512, 2, 1024);
	struct plane y = plane_new(512, 2, 512);
	struct plane u = plane_new(256, 1, 256);
	struct plane v = plane_new(256, 1, 256);

	(void)state;
	for (int x = 0; x < 512; x++) {
		put_px(&s, x, 0, 128);
		put_px(&s, x, 1, 128);
	}
	for (int i = 0; i < 256; i++) {
		put_uv(&s, i, 0, (uint8_t)i, (uint8_t)(255 - i));
		put_uv(&s, i, 1, (uint8_t)i, (uint8_t)(255 - i));
	}
	fc_yuyv_to_i420(s.data, s.stride, 512, 2, y.p, y.stride, u.p, v.p, u.stride);
	for (int c = 0; c < 256; c++) {
		assert_near(at(&u, c, 0), want_chroma(c), 1);
		assert_near(at(&v, 255 - c, 0), want_chroma(c), 1);
		if (c <= 16)
			assert_int_equal(at(&u, c, 0), 0);
		if (c >= 240)
			assert_int_equal(at(&u, c, 0), 255);
	}
	assert_int_equal(at(&u, 128, 0), 128);
	assert_int_equal(at(&v, 127, 0), 128);
	assert_int_equal(at(&u, 16, 0), 0);
	assert_int_equal(at(&u, 240, 0), 255);
	assert_int_equal(at(&v, 255 - 16, 0), 0);
	assert_int_equal(at(&v, 255 - 240, 0), 255);
	free(s.data);
	free(y.buf);
	free(u.buf);
	free(v.buf);
}

/* 4:2:2 -> 4:2:0 averages rows 0+1, 2+3 (not 1+2): U 100 over 200 is the expanded mean of 150. */
static void test_chroma_rows_averaged(void **state)
{
	/* Per row: U and V of pair 0, U and V of pair 1. */
	static const uint8_t rows[4][4] = {
		{ 100, 60, 16, 200 },
		{ 200, 80, 240, 40 },
		{ 16, 235, 128, 30 },
		{ 240, 21, 128, 31 },
	};
	struct yuyv s = yuyv_new(4, 4, 8);
	struct plane y = plane_new(4, 4, 4);
	struct plane u = plane_new(2, 2, 2);
	struct plane v = plane_new(2, 2, 2);

	(void)state;
	for (int r = 0; r < 4; r++) {
		for (int x = 0; x < 4; x++)
			put_px(&s, x, r, 128);
		put_uv(&s, 0, r, rows[r][0], rows[r][1]);
		put_uv(&s, 1, r, rows[r][2], rows[r][3]);
	}
	fc_yuyv_to_i420(s.data, s.stride, 4, 4, y.p, y.stride, u.p, v.p, u.stride);
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 2; i++) {
			double mu = (rows[2 * r][2 * i] + rows[2 * r + 1][2 * i]) / 2.0;
			double mv = (rows[2 * r][2 * i + 1] + rows[2 * r + 1][2 * i + 1]) / 2.0;

			assert_near(at(&u, i, r), want_chroma(mu), 1);
			assert_near(at(&v, i, r), want_chroma(mv), 1);
		}
	}
	assert_near(at(&u, 0, 0), 153.04, 1); /* 128 + 22 * 255 / 224 */
	assert_int_equal(at(&u, 1, 0), 128);  /* 16 over 240: mean 128 */
	assert_int_equal(at(&u, 0, 1), 128);  /* 16 over 240 */
	assert_int_equal(at(&u, 1, 1), 128);
	assert_untouched_outside(&y);
	assert_untouched_outside(&u);
	assert_untouched_outside(&v);
	free(s.data);
	free(y.buf);
	free(u.buf);
	free(v.buf);
}

/* Each sample lands in place with distinct padded strides; nothing outside the planes changes. */
static void test_geometry_strides(void **state)
{
	enum { WD = 46, HT = 18 };
	struct yuyv s = yuyv_new(WD, HT, WD * 2 + 6);
	struct plane y = plane_new(WD, HT, WD + 10);
	struct plane u = plane_new(WD / 2, HT / 2, WD / 2 + 9);
	struct plane v = plane_new(WD / 2, HT / 2, WD / 2 + 9);

	(void)state;
	for (int r = 0; r < HT; r++) {
		for (int x = 0; x < WD; x++)
			put_px(&s, x, r, (uint8_t)(16 + (x * 7 + r * 3) % 220));
		for (int i = 0; i < WD / 2; i++) {
			/* Both rows of a pair straddle the same mean by +-8: pairing rows 1+2
			 * instead of 0+1 would show. */
			int bu = 24 + (i * 11 + (r / 2) * 5) % 209;
			int bv = 232 - (i * 7 + (r / 2) * 13) % 209;
			int d = r % 2 ? 8 : -8;

			put_uv(&s, i, r, (uint8_t)(bu + d), (uint8_t)(bv - d));
		}
	}
	fc_yuyv_to_i420(s.data, s.stride, WD, HT, y.p, y.stride, u.p, v.p, u.stride);
	for (int r = 0; r < HT; r++)
		for (int x = 0; x < WD; x++)
			assert_near(at(&y, x, r), want_luma(16 + (x * 7 + r * 3) % 220), 1);
	for (int r = 0; r < HT / 2; r++) {
		for (int i = 0; i < WD / 2; i++) {
			assert_near(at(&u, i, r), want_chroma(24 + (i * 11 + r * 5) % 209), 1);
			assert_near(at(&v, i, r), want_chroma(232 - (i * 7 + r * 13) % 209), 1);
		}
	}
	assert_untouched_outside(&y);
	assert_untouched_outside(&u);
	assert_untouched_outside(&v);
	free(s.data);
	free(y.buf);
	free(u.buf);
	free(v.buf);
}

/* A stamp drawn into YUYV luma (step 2) reads back from the converted Y plane (step 1) intact. */
static void test_stamp_survives(void **state)
{
	enum { WD = 640, HT = 480 };
	const struct fc_stamp st = { .seq = 0xC0FFEE01u, .capture_ns = 0x0123456789ABCDEFull };
	struct fc_stamp got = { 0 };
	struct yuyv s = yuyv_new(WD, HT, WD * 2 + 32);
	struct plane y = plane_new(WD, HT, WD + 16);
	struct plane u = plane_new(WD / 2, HT / 2, WD / 2 + 8);
	struct plane v = plane_new(WD / 2, HT / 2, WD / 2 + 8);
	int band = fc_stamp_band_height(WD, HT);
	uint32_t seed = 7;

	(void)state;
	for (int r = 0; r < HT; r++) {
		for (int x = 0; x < WD; x++) {
			seed = seed * 1664525u + 1013904223u;
			put_px(&s, x, r, (uint8_t)(16 + (seed >> 8) % 220));
		}
		for (int i = 0; i < WD / 2; i++)
			put_uv(&s, i, r, (uint8_t)(16 + (i + r) % 225), (uint8_t)(240 - i % 225));
	}
	assert_int_equal(fc_stamp_write(s.data, 2, s.stride, WD, HT, &st), 0);
	assert_int_equal(fc_stamp_read(s.data, 2, s.stride, WD, HT, &got), 0);
	fc_yuyv_to_i420(s.data, s.stride, WD, HT, y.p, y.stride, u.p, v.p, u.stride);
	memset(&got, 0, sizeof(got));
	assert_int_equal(fc_stamp_read(y.p, 1, (size_t)y.stride, WD, HT, &got), 0);
	assert_int_equal(got.seq, st.seq);
	assert_int_equal(got.capture_ns, st.capture_ns);
	assert_true(band > 0);
	for (int i = 0; i < FC_STAMP_BITS; i++) {
		int x0 = i % (WD / FC_STAMP_CELL) * FC_STAMP_CELL;
		int y0 = i / (WD / FC_STAMP_CELL) * FC_STAMP_CELL;

		assert_true(y0 + FC_STAMP_CELL <= band);
		for (int r = y0; r < y0 + FC_STAMP_CELL; r++) {
			for (int x = x0; x < x0 + FC_STAMP_CELL; x++) {
				uint8_t c = at(&y, x, r);

				if (c != 0 && c != 255)
					fail_msg("stamp pixel (%d, %d) = %d, want 0 or 255", x, r,
						 c);
			}
		}
	}
	assert_untouched_outside(&y);
	assert_untouched_outside(&u);
	assert_untouched_outside(&v);
	free(s.data);
	free(y.buf);
	free(u.buf);
	free(v.buf);
}

/* A buffer of len bytes that ends exactly at an inaccessible page: a byte read or written past
 * it is a SIGSEGV in any build, not only under ASan. */
static uint8_t *guarded_alloc(size_t len, void **map, size_t *maplen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + page - 1) / page * page;
	uint8_t *base;

	*maplen = body + page;
	base = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	assert_int_equal(mprotect(base + body, page, PROT_NONE), 0);
	*map = base;
	return base + body - len;
}

static void fill_720p(uint8_t *src)
{
	for (size_t k = 0; k < (size_t)1280 * 2 * 720; k++)
		src[k] = (uint8_t)(16 + (k * 31 + k / 2560) % 220);
}

/* 1280x720 into exactly sized buffers (ASan; guard pages) touches nothing outside them. */
static void test_720p_exact_buffers(void **state)
{
	const size_t ns = (size_t)1280 * 2 * 720;
	const size_t ny = (size_t)1280 * 720;
	const size_t nc = (size_t)640 * 360;
	uint8_t *src = malloc(ns);
	uint8_t *y = malloc(ny);
	uint8_t *u = malloc(nc);
	uint8_t *v = malloc(nc);
	void *map[4];
	size_t maplen[4];
	uint8_t *gsrc = guarded_alloc(ns, &map[0], &maplen[0]);
	uint8_t *gy = guarded_alloc(ny, &map[1], &maplen[1]);
	uint8_t *gu = guarded_alloc(nc, &map[2], &maplen[2]);
	uint8_t *gv = guarded_alloc(nc, &map[3], &maplen[3]);

	(void)state;
	assert_non_null(src);
	assert_non_null(y);
	assert_non_null(u);
	assert_non_null(v);
	fill_720p(src);
	fc_yuyv_to_i420(src, 1280 * 2, 1280, 720, y, 1280, u, v, 640);
	/* The last pixel and the last chroma pair land where they should. */
	assert_near(y[ny - 1], want_luma(src[ns - 2]), 1);
	assert_near(u[nc - 1], want_chroma((src[ns - 3] + src[ns - 3 - 2560]) / 2.0), 1);
	assert_near(v[nc - 1], want_chroma((src[ns - 1] + src[ns - 1 - 2560]) / 2.0), 1);

	memcpy(gsrc, src, ns);
	fc_yuyv_to_i420(gsrc, 1280 * 2, 1280, 720, gy, 1280, gu, gv, 640);
	assert_memory_equal(gy, y, ny);
	assert_memory_equal(gu, u, nc);
	assert_memory_equal(gv, v, nc);
	for (int i = 0; i < 4; i++)
		munmap(map[i], maplen[i]);
	free(src);
	free(y);
	free(u);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_luma_range),
		cmocka_unit_test(test_chroma_range),
		cmocka_unit_test(test_chroma_rows_averaged),
		cmocka_unit_test(test_geometry_strides),
		cmocka_unit_test(test_stamp_survives),
		cmocka_unit_test(test_720p_exact_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
