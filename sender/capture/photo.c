#include "photo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "noise.h"
#include "stamp.h"

#define MIN_WIDTH  128 /* as the test pattern: the stamp's band must fit */
#define MIN_HEIGHT 64
#define MAX_SIDE   8192
#define SEED	   0x9e0f07a1c0ffee02ull

struct fc_photo {
	int width;
	int height;
	uint8_t *base;	 /* the photograph's luma, width x height */
	uint8_t *planes; /* the frame, one block: Y (base + noise + stamp), then Cb, Cr (fixed) */
	struct fc_noise *noise;
};

static void set_err(char *err, size_t errlen, const char *path, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "photo %s: %s", path, why);
}

/* The whole file into a malloc'd buffer, FC_PHOTO_MAX_FILE bytes at most. */
static uint8_t *read_file(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *data = NULL;

	if (!f) {
		set_err(err, errlen, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > FC_PHOTO_MAX_FILE) {
		set_err(err, errlen, path, "not a regular file of 1 byte to 64 MiB");
		goto out;
	}
	data = malloc((size_t)st.st_size);
	if (!data) {
		set_err(err, errlen, path, "out of memory");
		goto out;
	}
	if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		set_err(err, errlen, path, "short read");
		free(data);
		data = NULL;
		goto out;
	}
	*size = (size_t)st.st_size;
out:
	fclose(f);
	return data;
}

/* The smallest of TurboJPEG's decode-time reductions that still covers width x height (the rest
 * of the way is resampled here), or 1/1 when the photo is smaller than the frame. */
static tjscalingfactor pick_scale(int jw, int jh, int width, int height)
{
	tjscalingfactor best = { 1, 1 };
	long best_area = (long)jw * jh;
	int n = 0;
	tjscalingfactor *f = tjGetScalingFactors(&n);

	for (int i = 0; f && i < n; i++) {
		int sw = TJSCALED(jw, f[i]);
		int sh = TJSCALED(jh, f[i]);

		if (f[i].num <= f[i].denom && sw >= width && sh >= height &&
		    (long)sw * sh < best_area) {
			best = f[i];
			best_area = (long)sw * sh;
		}
	}
	return best;
}

static uint8_t clamp_u8(float v)
{
	return (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : (int)(v + 0.5f));
}

/* Row y of the frame as RGB: the decoded photo (sw x sh) scaled by 1/k about a centred crop,
 * bilinear. With k = 1 and an integer crop offset this is an exact copy. */
static void resample_row(const uint8_t *rgb, int sw, int sh, float k, float ox, float oy, int y,
			 int width, uint8_t *out)
{
	float fy = oy + ((float)y + 0.5f) * k - 0.5f;
	int y0 = fy < 0 ? 0 : (int)fy;
	int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
	float ty = fy - (float)y0 < 0 ? 0 : fy - (float)y0;

	for (int x = 0; x < width; x++) {
		float fx = ox + ((float)x + 0.5f) * k - 0.5f;
		int x0 = fx < 0 ? 0 : (int)fx;
		int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
		float tx = fx - (float)x0 < 0 ? 0 : fx - (float)x0;

		for (int c = 0; c < 3; c++) {
			float a = rgb[((size_t)y0 * (size_t)sw + (size_t)x0) * 3 + (size_t)c];
			float b = rgb[((size_t)y0 * (size_t)sw + (size_t)x1) * 3 + (size_t)c];
			float d = rgb[((size_t)y1 * (size_t)sw + (size_t)x0) * 3 + (size_t)c];
			float e = rgb[((size_t)y1 * (size_t)sw + (size_t)x1) * 3 + (size_t)c];
			float top = a + (b - a) * tx;
			float bot = d + (e - d) * tx;

			out[(size_t)x * 3 + (size_t)c] = clamp_u8(top + (bot - top) * ty);
		}
	}
}

/* JFIF's full-range BT.601: Y from each pixel, Cb and Cr from the mean of each 2x2 block. */
static void to_planes(struct fc_photo *p, const uint8_t *rgb, int sw, int sh, uint8_t *rows)
{
	int w = p->width;
	float k = (float)sw / (float)w < (float)sh / (float)p->height
		      ? (float)sw / (float)w
		      : (float)sh / (float)p->height;
	float ox = ((float)sw - (float)w * k) / 2.0f;
	float oy = ((float)sh - (float)p->height * k) / 2.0f;
	uint8_t *cb = p->planes + (size_t)w * (size_t)p->height;
	uint8_t *cr = cb + (size_t)(w / 2) * (size_t)(p->height / 2);

	for (int y = 0; y < p->height; y += 2) {
		const uint8_t *r[2] = { rows, rows + (size_t)w * 3 };

		resample_row(rgb, sw, sh, k, ox, oy, y, w, rows);
		resample_row(rgb, sw, sh, k, ox, oy, y + 1, w, rows + (size_t)w * 3);
		for (int j = 0; j < 2; j++)
			for (int x = 0; x < w; x++) {
				const uint8_t *px = r[j] + (size_t)x * 3;

				p->base[(size_t)(y + j) * (size_t)w + (size_t)x] =
				    clamp_u8(0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]);
			}
		for (int x = 0; x < w / 2; x++) {
			float s[3] = { 0, 0, 0 };

			for (int c = 0; c < 3; c++)
				s[c] = ((float)r[0][x * 6 + c] + r[0][x * 6 + 3 + c] +
					r[1][x * 6 + c] + r[1][x * 6 + 3 + c]) /
				       4.0f;
			cb[(size_t)(y / 2) * (size_t)(w / 2) + (size_t)x] =
			    clamp_u8(128.0f - 0.168736f * s[0] - 0.331264f * s[1] + 0.5f * s[2]);
			cr[(size_t)(y / 2) * (size_t)(w / 2) + (size_t)x] =
			    clamp_u8(128.0f + 0.5f * s[0] - 0.418688f * s[1] - 0.081312f * s[2]);
		}
	}
	/* Neutral chroma under the stamp: a grey band on any decoder, whatever the photo. */
	for (int y = 0; y < fc_stamp_band_height(w, p->height) / 2; y++) {
		int cells = w / FC_STAMP_CELL < FC_STAMP_BITS ? w / FC_STAMP_CELL : FC_STAMP_BITS;

		memset(cb + (size_t)y * (size_t)(w / 2), 128, (size_t)(cells * FC_STAMP_CELL / 2));
		memset(cr + (size_t)y * (size_t)(w / 2), 128, (size_t)(cells * FC_STAMP_CELL / 2));
	}
}

/* Decodes the JPEG (reduced by TurboJPEG where that still covers the frame) and fills the planes. */
static int load(struct fc_photo *p, const char *path, const uint8_t *jpeg, size_t size, char *err,
		size_t errlen)
{
	tjhandle tj = tjInitDecompress();
	int jw, jh, samp, cs, sw, sh;
	tjscalingfactor f;
	uint8_t *rgb = NULL;
	uint8_t *rows = NULL;
	int rc = -1;

	if (!tj) {
		set_err(err, errlen, path, "cannot start the JPEG decoder");
		return -1;
	}
	if (tjDecompressHeader3(tj, jpeg, (unsigned long)size, &jw, &jh, &samp, &cs) < 0 ||
	    jw <= 0 || jh <= 0) {
		set_err(err, errlen, path, "not a JPEG file");
		goto out;
	}
	if (jw > 4 * MAX_SIDE || jh > 4 * MAX_SIDE) {
		set_err(err, errlen, path, "larger than 32768 pixels a side");
		goto out;
	}
	f = pick_scale(jw, jh, p->width, p->height);
	sw = TJSCALED(jw, f);
	sh = TJSCALED(jh, f);

	rgb = malloc((size_t)sw * (size_t)sh * 3);
	rows = malloc((size_t)p->width * 6);
	if (!rgb || !rows) {
		set_err(err, errlen, path, "out of memory");
		goto out;
	}
	if (tjDecompress2(tj, jpeg, (unsigned long)size, rgb, sw, 0, sh, TJPF_RGB, 0) < 0) {
		char why[200];

		snprintf(why, sizeof(why), "cannot decode: %s", tjGetErrorStr2(tj));
		set_err(err, errlen, path, why);
		goto out;
	}
	to_planes(p, rgb, sw, sh, rows);
	rc = 0;
out:
	free(rows);
	free(rgb);
	tjDestroy(tj);
	return rc;
}

struct fc_photo *fc_photo_new(const char *path, int width, int height, char *err, size_t errlen)
{
	struct fc_photo *p = NULL;
	uint8_t *jpeg = NULL;
	size_t size = 0;
	size_t luma = (size_t)width * (size_t)height;

	if (width % 2 || height % 2 || width < MIN_WIDTH || height < MIN_HEIGHT ||
	    width > MAX_SIDE || height > MAX_SIDE) {
		if (err && errlen)
			snprintf(err, errlen,
				 "photo size %dx%d: must be even, 128x64 to 8192x8192 (the stamp "
				 "needs 128 cells of 8x8 pixels)",
				 width, height);
		return NULL;
	}
	jpeg = read_file(path, &size, err, errlen);
	if (!jpeg)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->width = width;
	p->height = height;
	p->base = malloc(luma);
	p->planes = malloc(luma * 3 / 2);
	p->noise = fc_noise_new(width);
	if (!p->base || !p->planes || !p->noise)
		goto oom;
	if (load(p, path, jpeg, size, err, errlen) < 0)
		goto fail;
	free(jpeg);
	return p;
oom:
	set_err(err, errlen, path, "out of memory");
fail:
	free(jpeg);
	fc_photo_free(p);
	return NULL;
}

void fc_photo_free(struct fc_photo *p)
{
	if (!p)
		return;
	free(p->base);
	free(p->planes);
	fc_noise_free(p->noise);
	free(p);
}

void fc_photo_draw(struct fc_photo *p, uint64_t seq, uint64_t capture_ns, struct fc_image *out)
{
	uint64_t rng = seq * 0x2545f4914f6cdd1dull ^ SEED;
	struct fc_stamp stamp = { .seq = (uint32_t)seq, .capture_ns = capture_ns };
	size_t w = (size_t)p->width;
	size_t luma = w * (size_t)p->height;

	for (int y = 0; y < p->height; y++)
		fc_noise_add(p->noise, p->planes + (size_t)y * w, p->base + (size_t)y * w, p->width,
			     &rng);
	fc_stamp_write(p->planes, 1, w, p->width, p->height, &stamp);

	out->width = p->width;
	out->height = p->height;
	out->subsamp = FC_SUBSAMP_420;
	out->plane[0] = p->planes;
	out->plane[1] = p->planes + luma;
	out->plane[2] = p->planes + luma + luma / 4;
	out->stride[0] = p->width;
	out->stride[1] = p->width / 2;
	out->stride[2] = p->width / 2;
}
