/* Tests of sender/capture/photo.c: a JPEG file as a camera-like source. The JPEGs are made here with
 * TurboJPEG from pictures whose colours are known, written to temporary files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "image.h"
#include "noise.h"
#include "photo.h"
#include "stamp.h"

/* A w x h RGB picture, left half pure red, right half pure blue, as a quality-95 4:4:4 JPEG in a
 * temporary file whose path goes to path. */
static void write_jpeg(char *path, size_t len, int w, int h)
{
	uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
	tjhandle tj = tjInitCompress();
	unsigned char *jpeg = NULL;
	unsigned long size = 0;
	FILE *f;
	int fd;

	assert_non_null(rgb);
	assert_non_null(tj);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;

			p[0] = x < w / 2 ? 255 : 0;
			p[1] = 0;
			p[2] = x < w / 2 ? 0 : 255;
		}
	assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &size, TJSAMP_444, 95, 0),
			 0);
	snprintf(path, len, "/tmp/fc-test-photo-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(jpeg, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	tjFree(jpeg);
	tjDestroy(tj);
	free(rgb);
}

static double mean(const uint8_t *p, int stride, int x0, int y0, int w, int h)
{
	double s = 0;

	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			s += p[(size_t)y * (size_t)stride + (size_t)x];
	return s / (w * h);
}

static void test_refuses_what_it_cannot_use(void **state)
{
	char path[64];
	char err[256];
	FILE *f;

	(void)state;
	assert_null(fc_photo_new("/nonexistent/photo.jpg", 640, 480, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/photo.jpg"));
	assert_null(fc_photo_new("/tmp", 640, 480, err, sizeof(err)));
	assert_non_null(strstr(err, "regular file"));

	write_jpeg(path, sizeof(path), 320, 240);
	assert_null(fc_photo_new(path, 641, 480, err, sizeof(err)));
	assert_non_null(strstr(err, "even"));
	assert_null(fc_photo_new(path, 64, 48, err, sizeof(err)));
	assert_null(fc_photo_new(path, 641, 480, NULL, 0)); /* no room for a reason: still NULL */

	/* Not a JPEG: the same file cut to a text. */
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("this is not a JPEG", f);
	fclose(f);
	assert_null(fc_photo_new(path, 640, 480, err, sizeof(err)));
	assert_non_null(strstr(err, "not a JPEG"));
	unlink(path);
}

/* Scaled to cover a frame of another shape and cropped in the middle: the left half stays red
 * and the right half blue (JFIF: red is Y 76, Cb 85, Cr 255; blue Y 29, Cb 255, Cr 107). */
static void test_scales_and_keeps_colours(void **state)
{
	static const int sizes[][2] = { { 256, 128 }, { 640, 480 }, { 130, 200 }, { 1280, 720 } };
	char path[64];
	char err[256] = "";

	(void)state;
	write_jpeg(path, sizeof(path), 320, 240);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int w = sizes[i][0];
		int h = sizes[i][1];
		struct fc_photo *p = fc_photo_new(path, w, h, err, sizeof(err));
		struct fc_image img;
		int band = fc_stamp_band_height(w, h);
		int rows = h - band - 8;

		if (!p)
			fail_msg("%dx%d: %s", w, h, err);
		fc_photo_draw(p, 1, 123, &img);
		assert_int_equal(img.width, w);
		assert_int_equal(img.height, h);
		assert_int_equal(img.subsamp, FC_SUBSAMP_420);
		/* Away from the middle edge and below the stamp's band. */
		assert_true(mean(img.plane[0], img.stride[0], 2, band + 4, w / 4, rows) > 70);
		assert_true(mean(img.plane[0], img.stride[0], 2, band + 4, w / 4, rows) < 82);
		assert_true(
		    mean(img.plane[0], img.stride[0], w - w / 4 - 2, band + 4, w / 4, rows) < 36);
		assert_true(mean(img.plane[2], img.stride[2], 1, band / 2 + 2, w / 8, rows / 2) >
			    240);
		assert_true(mean(img.plane[1], img.stride[1], w / 2 - w / 8 - 1, band / 2 + 2,
				 w / 8, rows / 2) > 240);
		/* Under the stamp the chroma is neutral. */
		assert_int_equal(img.plane[1][0], 128);
		assert_int_equal(img.plane[2][0], 128);
		fc_photo_free(p);
	}
	unlink(path);
}

static void test_stamp_noise_and_determinism(void **state)
{
	char path[64];
	char err[256] = "";
	struct fc_photo *p;
	struct fc_image img;
	struct fc_stamp st;
	uint8_t *a, *b;
	size_t n = 640 * 480;
	size_t differ = 0;
	int most = 0;

	(void)state;
	write_jpeg(path, sizeof(path), 640, 480);
	p = fc_photo_new(path, 640, 480, err, sizeof(err));
	if (!p)
		fail_msg("%s", err);
	a = malloc(n);
	b = malloc(n);
	assert_non_null(a);
	assert_non_null(b);

	fc_photo_draw(p, 7, 1234567890123ull, &img);
	assert_int_equal(fc_stamp_read(img.plane[0], 1, (size_t)img.stride[0], 640, 480, &st), 0);
	assert_int_equal(st.seq, 7);
	assert_true(st.capture_ns == 1234567890123ull);
	memcpy(a, img.plane[0], n);
	fc_photo_draw(p, 8, 1, &img);
	memcpy(b, img.plane[0], n);
	for (size_t i = (size_t)fc_stamp_band_height(640, 480) * 640; i < n; i++) {
		int d = abs(a[i] - b[i]);

		differ += d != 0;
		most = d > most ? d : most;
	}
	/* Every frame has its own noise, and only a sensor's worth of it. */
	assert_true(differ > n / 2);
	assert_true(most <= 2 * FC_NOISE_AMP);
	/* The same frame number draws the same picture. */
	fc_photo_draw(p, 7, 1234567890123ull, &img);
	assert_memory_equal(a, img.plane[0], n);

	free(a);
	free(b);
	fc_photo_free(p);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_what_it_cannot_use),
		cmocka_unit_test(test_scales_and_keeps_colours),
		cmocka_unit_test(test_stamp_noise_and_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
