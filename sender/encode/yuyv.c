#include "yuyv.h"

/*
 * Limited to full range in 16-bit fixed point, with no table: a table lookup per sample is a
 * gather, which no compiler vectorises, while these multiplies, shifts and saturating subtracts
 * go 8 or 16 samples a step (about 0.3 ms for 1280x720 instead of 0.6 with a table; the file is
 * built with -O3, see CMakeLists.txt, since gcc 12 at -O2 keeps this loop scalar).
 *
 * luma:   (y - 16) * 255 / 219 ~ (y - 16) * 149 / 128   (1.16406 for 1.16438: off by < 0.1)
 * chroma: 128 + (s / 2 - 128) * 255 / 224, s the sum of two rows' samples (0..510),
 *         ~ (s * 73 + 64) / 128 - 18               (0.5703 for 0.5692: off by < 0.3)
 * Every intermediate fits in an unsigned 16-bit lane: 239 * 149 + 64 and 510 * 73 + 64 < 65536.
 * Both stay within one step of the exact rounded value (tests/test_yuyv.c checks every input).
 */
static inline uint8_t luma(uint16_t v)
{
	uint16_t d = (uint16_t)(v > 16 ? v - 16 : 0);
	uint16_t r = (uint16_t)((uint16_t)(d * 149 + 64) >> 7);

	return (uint8_t)(r > 255 ? 255 : r);
}

static inline uint8_t chroma(uint16_t sum)
{
	uint16_t t = (uint16_t)((uint16_t)(sum * 73 + 64) >> 7);

	t = (uint16_t)(t > 18 ? t - 18 : 0);
	return (uint8_t)(t > 255 ? 255 : t);
}

/* n pixel pairs of two rows a and b: four luma samples and one Cb, Cr pair each. Each 4-byte
 * group is Y0 U Y1 V: two pixels sharing one chroma pair. */
static void pairs(const uint8_t *restrict a, const uint8_t *restrict b, uint8_t *restrict ya,
		  uint8_t *restrict yb, uint8_t *restrict u, uint8_t *restrict v, int n)
{
	for (int i = 0; i < n; i++) {
		ya[2 * i] = luma(a[4 * i]);
		ya[2 * i + 1] = luma(a[4 * i + 2]);
		yb[2 * i] = luma(b[4 * i]);
		yb[2 * i + 1] = luma(b[4 * i + 2]);
		u[i] = chroma((uint16_t)(a[4 * i + 1] + b[4 * i + 1]));
		v[i] = chroma((uint16_t)(a[4 * i + 3] + b[4 * i + 3]));
	}
}

/* Pixel pairs per call: a fixed trip count the vectoriser unrolls into whole vectors. */
#define CHUNK 16

void fc_yuyv_to_i420(const uint8_t *src, size_t src_stride, int width, int height, uint8_t *y,
		     int y_stride, uint8_t *u, uint8_t *v, int uv_stride)
{
	int half = width / 2;

	for (int row = 0; row < height; row += 2) {
		const uint8_t *a = src + (size_t)row * src_stride;
		const uint8_t *b = a + src_stride;
		uint8_t *ya = y + (size_t)row * (size_t)y_stride;
		uint8_t *yb = ya + y_stride;
		uint8_t *ur = u + (size_t)(row / 2) * (size_t)uv_stride;
		uint8_t *vr = v + (size_t)(row / 2) * (size_t)uv_stride;
		int i = 0;

		for (; i + CHUNK <= half; i += CHUNK)
			pairs(a + 4 * i, b + 4 * i, ya + 2 * i, yb + 2 * i, ur + i, vr + i, CHUNK);
		pairs(a + 4 * i, b + 4 * i, ya + 2 * i, yb + 2 * i, ur + i, vr + i, half - i);
	}
}
