#include "yuyv.h"

#include <pthread.h>

/* Limited to full range: luma 16..235 -> 0..255, chroma 16..240 -> 0..255 around 128.
 * Written once (pthread_once), then only read. */
static uint8_t luma_lut[256];
/* Chroma of two rows: the sum of two samples (0..510) straight to the expanded mean. */
static uint8_t chroma2_lut[511];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;

static uint8_t clamp255(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void build_luts(void)
{
	for (int i = 0; i < 256; i++) {
		luma_lut[i] = clamp255(((i - 16) * 255 * 2 + 219) / (219 * 2));
	}
	for (int s = 0; s <= 510; s++) {
		int twice = (s - 256) * 255; /* 2 * (mean - 128) * 255 */

		chroma2_lut[s] = clamp255(128 + (twice + (twice >= 0 ? 224 : -224)) / (2 * 224));
	}
}

void fc_yuyv_to_i420(const uint8_t *src, size_t src_stride, int width, int height, uint8_t *y,
		     int y_stride, uint8_t *u, uint8_t *v, int uv_stride)
{
	int half = width / 2;

	pthread_once(&lut_once, build_luts);
	for (int row = 0; row < height; row += 2) {
		const uint8_t *a = src + (size_t)row * src_stride;
		const uint8_t *b = a + src_stride;
		uint8_t *ya = y + (size_t)row * (size_t)y_stride;
		uint8_t *yb = ya + y_stride;
		uint8_t *ur = u + (size_t)(row / 2) * (size_t)uv_stride;
		uint8_t *vr = v + (size_t)(row / 2) * (size_t)uv_stride;

		/* Each 4-byte group is Y0 U Y1 V: two pixels sharing one chroma pair. */
		for (int i = 0; i < half; i++) {
			ya[2 * i] = luma_lut[a[4 * i]];
			ya[2 * i + 1] = luma_lut[a[4 * i + 2]];
			yb[2 * i] = luma_lut[b[4 * i]];
			yb[2 * i + 1] = luma_lut[b[4 * i + 2]];
			ur[i] = chroma2_lut[a[4 * i + 1] + b[4 * i + 1]];
			vr[i] = chroma2_lut[a[4 * i + 3] + b[4 * i + 3]];
		}
	}
}
