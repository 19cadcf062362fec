#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "image.h"
#include "pattern.h"
#include "stamp.h"

/* Sizes that reach every edge case the drawing has: the smallest allowed, sizes that are not
 * multiples of 8 or 16, tall and wide extremes, and common camera sizes. */
static const int sizes[][2] = { { 128, 64 },  { 130, 66 },  { 134, 802 },
				{ 2000, 64 }, { 320, 240 }, { 1280, 720 } };

static struct fc_pattern *pattern_ok(int w, int h)
{
	char err[128] = "";
	struct fc_pattern *p = fc_pattern_new(w, h, err, sizeof(err));

	if (!p)
		fail_msg("fc_pattern_new(%d, %d): %s", w, h, err);
	return p;
}

static void expect_rejected(int w, int h, const char *why)
{
	char err[128] = "";

	assert_null(fc_pattern_new(w, h, err, sizeof(err)));
	assert_non_null(strstr(err, "pattern size"));
	assert_non_null(strstr(err, why));
}

/* Odd, too small and too large sizes are refused with a message naming the size and the rule;
 * a NULL or zero-length err buffer is allowed. */
static void test_bad_sizes(void **state)
{
	char tiny[4] = "xyz";

	(void)state;
	expect_rejected(63, 48, "63x48: width and height must be even");
	expect_rejected(640, 479, "must be even");
	expect_rejected(64, 48, "64x48: must be at least 128x64");
	expect_rejected(126, 720, "at least");
	expect_rejected(1280, 62, "at least");
	expect_rejected(0, 0, "at least");
	expect_rejected(-2, 480, "at least");
	expect_rejected(8194, 480, "8194x480: must be at most 8192x8192");
	expect_rejected(640, 8194, "at most");
	assert_null(fc_pattern_new(63, 48, NULL, 0));
	assert_null(fc_pattern_new(63, 48, tiny, sizeof(tiny)));
	assert_int_equal(tiny[sizeof(tiny) - 1], '\0'); /* truncated, terminated */
	assert_null(fc_pattern_new(63, 48, tiny, 0));
}

/* The image describes the handle's own 4:2:0 planes at the requested size. */
static void test_image_description(void **state)
{
	struct fc_pattern *p = pattern_ok(640, 480);
	struct fc_image img;

	(void)state;
	memset(&img, 0, sizeof(img));
	fc_pattern_draw(p, 0, 0, &img);
	assert_int_equal(img.width, 640);
	assert_int_equal(img.height, 480);
	assert_int_equal(img.subsamp, FC_SUBSAMP_420);
	assert_true(img.stride[0] >= 640);
	assert_true(img.stride[1] >= 320);
	assert_true(img.stride[2] >= 320);
	for (int i = 0; i < 3; i++)
		assert_non_null(img.plane[i]);
	fc_pattern_free(p);
	fc_pattern_free(NULL);
}

/* Every drawn frame carries its own seq (low 32 bits) and capture_ns, at every size. Run under
 * ASan, the many frames also prove no draw writes outside its planes: the disc and the pan reach
 * every edge of their ranges within them. */
static void test_stamp_reads_back(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct fc_pattern *p = pattern_ok(sizes[s][0], sizes[s][1]);
		int frames = sizes[s][0] * sizes[s][1] > 500000 ? 40 : 400;

		for (int i = 0; i < frames; i++) {
			uint64_t seq = (uint64_t)i * 37 + (i % 2 ? 0x100000000ull : 0);
			uint64_t ns = 1000000000ull * (uint64_t)i + 12345;
			struct fc_image img;
			struct fc_stamp st = { 0 };

			fc_pattern_draw(p, seq, ns, &img);
			assert_int_equal(fc_stamp_read(img.plane[0], 1, (size_t)img.stride[0],
						       img.width, img.height, &st),
					 0);
			assert_int_equal(st.seq, (uint32_t)seq);
			assert_true(st.capture_ns == ns);
		}
		fc_pattern_free(p);
	}
}

static double luma_mean(const struct fc_image *img, int y0, int y1)
{
	double sum = 0;

	for (int y = y0; y < y1; y++)
		for (int x = 0; x < img->width; x++)
			sum += img->plane[0][(size_t)y * (size_t)img->stride[0] + (size_t)x];
	return sum / ((double)(y1 - y0) * img->width);
}

/* The picture has texture at every scale, as a camera's has: a wide spread of luma over the
 * frame, row means that vary, fine detail between neighbours, and colour. */
static void test_texture(void **state)
{
	struct fc_pattern *p = pattern_ok(1280, 720);
	struct fc_image img;
	int band;
	double mean, var = 0, grad = 0, row_mean_var = 0, cb_var = 0, cb_mean = 0;
	size_t n = 0;

	(void)state;
	fc_pattern_draw(p, 5, 0, &img);
	band = fc_stamp_band_height(img.width, img.height);
	mean = luma_mean(&img, band, img.height);
	for (int y = band; y < img.height; y++) {
		const uint8_t *row = img.plane[0] + (size_t)y * (size_t)img.stride[0];
		double rm = luma_mean(&img, y, y + 1);

		row_mean_var += (rm - mean) * (rm - mean);
		for (int x = 0; x < img.width; x++) {
			var += (row[x] - mean) * (row[x] - mean);
			if (x)
				grad += abs(row[x] - row[x - 1]);
			n++;
		}
	}
	var /= (double)n;
	grad /= (double)n;
	row_mean_var /= (double)(img.height - band);
	assert_true(sqrt(var) > 25.0);
	assert_true(sqrt(row_mean_var) > 3.0);
	assert_true(grad > 3.0);

	for (int y = band / 2; y < img.height / 2; y++)
		for (int x = 0; x < img.width / 2; x++)
			cb_mean += img.plane[1][(size_t)y * (size_t)img.stride[1] + (size_t)x];
	cb_mean /= (double)(img.height / 2 - band / 2) * (img.width / 2);
	for (int y = band / 2; y < img.height / 2; y++) {
		for (int x = 0; x < img.width / 2; x++) {
			const uint8_t *row = img.plane[1] + (size_t)y * (size_t)img.stride[1];
			double d = row[x] - cb_mean;

			cb_var += d * d;
		}
	}
	cb_var /= (double)(img.height / 2 - band / 2) * (img.width / 2);
	assert_true(sqrt(cb_var) > 8.0);
	fc_pattern_free(p);
}

/* Copies the luma of a drawn frame (the handle redraws in place). */
static uint8_t *copy_luma(const struct fc_image *img)
{
	uint8_t *y = malloc((size_t)img->width * (size_t)img->height);

	assert_non_null(y);
	for (int r = 0; r < img->height; r++)
		memcpy(y + (size_t)r * (size_t)img->width,
		       img->plane[0] + (size_t)r * (size_t)img->stride[0], (size_t)img->width);
	return y;
}

/* Consecutive frames differ by more than noise (things move), while the same seq draws the same
 * frame (the pattern is deterministic, so tests can reproduce one). */
static void test_motion_and_determinism(void **state)
{
	struct fc_pattern *p = pattern_ok(640, 480);
	struct fc_image img;
	uint8_t *a, *b, *c;
	size_t moved = 0, n = 640 * 480;

	(void)state;
	fc_pattern_draw(p, 100, 0, &img);
	a = copy_luma(&img);
	fc_pattern_draw(p, 101, 0, &img);
	b = copy_luma(&img);
	fc_pattern_draw(p, 100, 0, &img);
	c = copy_luma(&img);

	for (size_t i = 0; i < n; i++)
		moved += abs(a[i] - b[i]) > 12; /* more than two noise samples can differ by */
	assert_true(moved > n / 50);
	assert_memory_equal(a, c, n);
	free(a);
	free(b);
	free(c);
	fc_pattern_free(p);
}

/* A 1280x720 frame costs a JPEG encoder what a camera's does (100-200 KB at quality 80 for a
 * real one; well above what flat colour costs), and its stamp survives the encoding. */
static void test_encodes_like_a_camera(void **state)
{
	struct fc_pattern *p = pattern_ok(1280, 720);
	tjhandle c = tjInitCompress();
	tjhandle d = tjInitDecompress();
	unsigned long cap = tjBufSize(1280, 720, TJSAMP_420);
	unsigned char *jpeg = tjAlloc((int)cap);
	uint8_t *dst[3];
	struct fc_image img;

	(void)state;
	assert_non_null(c);
	assert_non_null(d);
	assert_non_null(jpeg);
	dst[0] = malloc(1280 * 720);
	dst[1] = malloc(640 * 360);
	dst[2] = malloc(640 * 360);
	assert_true(dst[0] && dst[1] && dst[2]);
	for (uint64_t seq = 0; seq < 3; seq++) {
		unsigned long size = cap;
		struct fc_stamp st = { 0 };

		fc_pattern_draw(p, seq * 11, 777 + seq, &img);
		assert_int_equal(tjCompressFromYUVPlanes(c, img.plane, img.width, img.stride,
							 img.height, TJSAMP_420, &jpeg, &size, 80,
							 TJFLAG_NOREALLOC),
				 0);
		assert_true(size > 80 * 1024);
		assert_true(size < 260 * 1024);
		assert_int_equal(tjDecompressToYUVPlanes(d, jpeg, size, dst, 1280, NULL, 720, 0),
				 0);
		assert_int_equal(fc_stamp_read(dst[0], 1, 1280, 1280, 720, &st), 0);
		assert_int_equal(st.seq, (uint32_t)(seq * 11));
		assert_true(st.capture_ns == 777 + seq);
	}
	for (int i = 0; i < 3; i++)
		free(dst[i]);
	tjFree(jpeg);
	tjDestroy(c);
	tjDestroy(d);
	fc_pattern_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_image_description),
		cmocka_unit_test(test_stamp_reads_back),
		cmocka_unit_test(test_texture),
		cmocka_unit_test(test_motion_and_determinism),
		cmocka_unit_test(test_encodes_like_a_camera),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
