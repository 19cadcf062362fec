#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "stamp.h"

/* A luma buffer with `step` bytes per pixel, filled with `fill` (chroma bytes included). */
struct pic {
	uint8_t *data;
	size_t step;
	size_t stride;
	int width;
	int height;
};

static struct pic pic_new(int width, int height, size_t step, uint8_t fill)
{
	struct pic p = {
		.step = step, .stride = (size_t)width * step, .width = width, .height = height
	};

	p.data = malloc(p.stride * (size_t)height);
	assert_non_null(p.data);
	memset(p.data, fill, p.stride * (size_t)height);
	return p;
}

/* A fixed-seed generator so every run draws the same "random" content. */
static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Camera-like luma: a gradient plus strong per-pixel noise, so the stamp's edges sit next to
 * busy blocks as they do in a real picture. */
static void fill_noisy(uint8_t *plane, size_t stride, int width, int height, uint32_t seed)
{
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++)
			plane[(size_t)y * stride + (size_t)x] =
			    (uint8_t)(40 + (x + y) % 150 + (int)(rnd(&seed) % 60));
}

static const struct fc_stamp sample = { .seq = 0x12345678u, .capture_ns = 0x0123456789abcdefull };

/* The band is rows of 8x8 cells, as many per row as fit; 0 when 8 cells do not fit across or
 * the band would be taller than the picture. */
static void test_band_height(void **state)
{
	(void)state;
	assert_int_equal(fc_stamp_band_height(1280, 720), 8); /* 160 cells a row: 1 row */
	assert_int_equal(fc_stamp_band_height(1920, 1080), 8);
	assert_int_equal(fc_stamp_band_height(640, 480), 16); /* 80 a row: 2 rows */
	assert_int_equal(fc_stamp_band_height(128, 64), 64);  /* 16 a row: 8 rows, exactly fits */
	assert_int_equal(fc_stamp_band_height(135, 64), 64);  /* partial cells do not count */
	assert_int_equal(fc_stamp_band_height(64, 128), 128); /* 8 a row: 16 rows */
	assert_int_equal(fc_stamp_band_height(64, 127), 0);   /* one row short */
	assert_int_equal(fc_stamp_band_height(64, 48), 0);    /* 128 cells cannot fit in 64x48 */
	assert_int_equal(fc_stamp_band_height(56, 2000), 0);  /* narrower than 8 cells */
	assert_int_equal(fc_stamp_band_height(0, 0), 0);
	assert_int_equal(fc_stamp_band_height(-640, 480), 0);
}

/* The bit layout other writers (the fake camera) must reproduce: magic 0xFC5A, seq, capture_ns,
 * CRC-16/CCITT-FALSE, MSB first, row-major cells, each cell entirely 235 or 16. */
static void test_layout(void **state)
{
	static const uint8_t want[16] = { 0xfc, 0x5a, 0x12, 0x34, 0x56, 0x78, 0x01, 0x23,
					  0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x74, 0x5d };
	struct pic p = pic_new(640, 480, 1, 99);

	(void)state;
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), 0);
	for (int i = 0; i < FC_STAMP_BITS; i++) {
		int bit = want[i / 8] >> (7 - i % 8) & 1;
		int cx = i % 80 * FC_STAMP_CELL;
		int cy = i / 80 * FC_STAMP_CELL;

		for (int y = cy; y < cy + FC_STAMP_CELL; y++) {
			const uint8_t *row = p.data + (size_t)y * p.stride;

			for (int x = cx; x < cx + FC_STAMP_CELL; x++)
				assert_int_equal(row[x], bit ? 235 : 16);
		}
	}
	/* The rest of the second band row, after the 128th cell, is untouched. */
	assert_int_equal(p.data[8 * p.stride + 48 * FC_STAMP_CELL], 99);
	free(p.data);
}

/* Write then read gives back seq and capture_ns, for planar (step 1) and YUYV (step 2) luma. */
static void test_round_trip(void **state)
{
	static const int sizes[][2] = { { 128, 64 },   { 176, 144 },   { 640, 480 },
					{ 1280, 720 }, { 1920, 1080 }, { 135, 71 } };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t step = 1; step <= 2; step++) {
			struct pic p = pic_new(sizes[s][0], sizes[s][1], step, 0);
			struct fc_stamp in = { .seq = 0xdeadbeefu - (uint32_t)s,
					       .capture_ns = UINT64_MAX - s };
			struct fc_stamp out = { 0 };

			fill_noisy(p.data, p.stride, (int)p.stride, p.height, (uint32_t)s);
			assert_int_equal(
			    fc_stamp_write(p.data, step, p.stride, p.width, p.height, &in), 0);
			assert_int_equal(
			    fc_stamp_read(p.data, step, p.stride, p.width, p.height, &out), 0);
			assert_int_equal(out.seq, in.seq);
			assert_true(out.capture_ns == in.capture_ns);
			free(p.data);
		}
	}
}

/* With step 2 only the luma bytes are written: YUYV chroma bytes stay as they were, and
 * nothing outside the band changes. */
static void test_writes_only_band_luma(void **state)
{
	struct pic p = pic_new(200, 100, 2, 77);
	int band = fc_stamp_band_height(200, 100); /* 25 cells a row: 6 rows = 48 */

	(void)state;
	assert_int_equal(band, 48);
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), 0);
	for (int y = 0; y < p.height; y++) {
		for (int x = 0; x < p.width; x++) {
			int cell = (y / 8) * 25 + x / 8;
			int in_band = y < band && x < 25 * 8 && cell < FC_STAMP_BITS;
			const uint8_t *px = p.data + (size_t)y * p.stride + (size_t)x * 2;

			assert_int_equal(px[1], 77);
			if (!in_band)
				assert_int_equal(px[0], 77);
			else
				assert_true(px[0] == 16 || px[0] == 235);
		}
	}
	free(p.data);
}

/* The reader looks at luma only: saturated YUYV chroma bytes do not disturb it. */
static void test_ignores_chroma(void **state)
{
	struct pic p = pic_new(640, 480, 2, 128);
	struct fc_stamp out = { 0 };

	(void)state;
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), 0);
	for (size_t i = 1; i < p.stride * (size_t)p.height; i += 2)
		p.data[i] = (i / 2) % 2 ? 255 : 0;
	assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out), 0);
	assert_int_equal(out.seq, sample.seq);
	free(p.data);
}

/* A picture too small for the stamp is refused by both sides, and write draws nothing. */
static void test_too_small(void **state)
{
	struct pic p = pic_new(64, 48, 1, 50);
	struct fc_stamp out;

	(void)state;
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), -1);
	for (size_t i = 0; i < p.stride * (size_t)p.height; i++)
		assert_int_equal(p.data[i], 50);
	assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out), -1);
	free(p.data);

	p = pic_new(56, 400, 1, 50);
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), -1);
	assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out), -1);
	free(p.data);
}

/* Any single wrong cell, in the magic, the payload or the CRC, makes the read fail. */
static void test_flipped_cell(void **state)
{
	struct pic p = pic_new(640, 480, 1, 0);
	struct fc_stamp out;

	(void)state;
	fill_noisy(p.data, p.stride, p.width, p.height, 7);
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), 0);
	for (int i = 0; i < FC_STAMP_BITS; i++) {
		uint8_t *cell = p.data + (size_t)(i / 80 * 8) * p.stride + (size_t)(i % 80 * 8);

		for (int y = 0; y < 8; y++)
			for (int x = 0; x < 8; x++)
				cell[(size_t)y * p.stride + (size_t)x] ^= 235 ^ 16;
		assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out),
				 -1);
		for (int y = 0; y < 8; y++)
			for (int x = 0; x < 8; x++)
				cell[(size_t)y * p.stride + (size_t)x] ^= 235 ^ 16;
	}
	/* Restored: it reads again. */
	assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out), 0);
	free(p.data);
}

/* A picture without a stamp (black, white, grey, noise) reads as no stamp. */
static void test_blank(void **state)
{
	static const uint8_t fills[] = { 0, 16, 128, 235, 255 };
	struct fc_stamp out;

	(void)state;
	for (size_t i = 0; i < sizeof(fills); i++) {
		struct pic p = pic_new(640, 480, 1, fills[i]);

		assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out),
				 -1);
		free(p.data);
	}
	{
		struct pic p = pic_new(640, 480, 1, 0);

		fill_noisy(p.data, p.stride, p.width, p.height, 3);
		assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out),
				 -1);
		free(p.data);
	}
}

/* Expands limited-range luma to full range as a decoder that assumes limited range would. */
static void limited_to_full(uint8_t *plane, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = (plane[i] - 16) * 255 / 219;

		plane[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}

/* A stamp in limited range still reads after expansion to full range (235 -> 255, 16 -> 0). */
static void test_full_range(void **state)
{
	struct pic p = pic_new(640, 480, 1, 0);
	struct fc_stamp out = { 0 };

	(void)state;
	fill_noisy(p.data, p.stride, p.width, p.height, 11);
	assert_int_equal(fc_stamp_write(p.data, p.step, p.stride, p.width, p.height, &sample), 0);
	limited_to_full(p.data, p.stride * (size_t)p.height);
	assert_int_equal(fc_stamp_read(p.data, p.step, p.stride, p.width, p.height, &out), 0);
	assert_int_equal(out.seq, sample.seq);
	assert_true(out.capture_ns == sample.capture_ns);
	free(p.data);
}

/* Compresses a 4:2:0 picture at `quality` and decompresses it into dst (luma only is kept). */
static void jpeg_round_trip(uint8_t *const planes[3], int width, int height, int quality,
			    uint8_t *dst_luma)
{
	tjhandle c = tjInitCompress();
	tjhandle d = tjInitDecompress();
	unsigned long size = tjBufSize(width, height, TJSAMP_420);
	unsigned char *jpeg = tjAlloc((int)size);
	uint8_t *cb = malloc((size_t)(width / 2) * (size_t)(height / 2));
	uint8_t *cr = malloc((size_t)(width / 2) * (size_t)(height / 2));
	const unsigned char *src[3] = { planes[0], planes[1], planes[2] };
	unsigned char *dst[3] = { dst_luma, cb, cr };

	assert_non_null(c);
	assert_non_null(d);
	assert_non_null(jpeg);
	assert_non_null(cb);
	assert_non_null(cr);
	assert_int_equal(tjCompressFromYUVPlanes(c, src, width, NULL, height, TJSAMP_420, &jpeg,
						 &size, quality, TJFLAG_NOREALLOC),
			 0);
	assert_int_equal(tjDecompressToYUVPlanes(d, jpeg, size, dst, width, NULL, height, 0), 0);
	tjFree(jpeg);
	free(cb);
	free(cr);
	tjDestroy(c);
	tjDestroy(d);
}

/* The stamp survives JPEG at quality 30 and 90 in a noisy 4:2:0 picture, also when the decoded
 * luma is then expanded from limited to full range. */
static void test_survives_jpeg(void **state)
{
	static const int qualities[] = { 30, 90 };
	const int w = 640, h = 480;
	uint8_t *planes[3];
	uint8_t *decoded = malloc((size_t)w * (size_t)h);

	(void)state;
	assert_non_null(decoded);
	planes[0] = malloc((size_t)w * (size_t)h);
	planes[1] = malloc((size_t)(w / 2) * (size_t)(h / 2));
	planes[2] = malloc((size_t)(w / 2) * (size_t)(h / 2));
	assert_true(planes[0] && planes[1] && planes[2]);
	fill_noisy(planes[0], (size_t)w, w, h, 5);
	fill_noisy(planes[1], (size_t)w / 2, w / 2, h / 2, 6);
	fill_noisy(planes[2], (size_t)w / 2, w / 2, h / 2, 7);

	for (size_t q = 0; q < sizeof(qualities) / sizeof(qualities[0]); q++) {
		for (uint32_t k = 0; k < 4; k++) {
			struct fc_stamp in = { .seq = 1000003u * k + 1,
					       .capture_ns = 987654321012345ull * (k + 1) };
			struct fc_stamp out = { 0 };

			assert_int_equal(fc_stamp_write(planes[0], 1, (size_t)w, w, h, &in), 0);
			jpeg_round_trip(planes, w, h, qualities[q], decoded);
			assert_int_equal(fc_stamp_read(decoded, 1, (size_t)w, w, h, &out), 0);
			assert_int_equal(out.seq, in.seq);
			assert_true(out.capture_ns == in.capture_ns);

			limited_to_full(decoded, (size_t)w * (size_t)h);
			memset(&out, 0, sizeof(out));
			assert_int_equal(fc_stamp_read(decoded, 1, (size_t)w, w, h, &out), 0);
			assert_int_equal(out.seq, in.seq);
			assert_true(out.capture_ns == in.capture_ns);
		}
	}
	for (int i = 0; i < 3; i++)
		free(planes[i]);
	free(decoded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_band_height),    cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_writes_only_band_luma),
		cmocka_unit_test(test_ignores_chroma), cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_flipped_cell),   cmocka_unit_test(test_blank),
		cmocka_unit_test(test_full_range),     cmocka_unit_test(test_survives_jpeg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
