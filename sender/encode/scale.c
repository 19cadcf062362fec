#include "scale.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <turbojpeg.h>

/*
 * The box filters work a strip of output row at a time: the input rows of its blocks are summed
 * into 16-bit lanes down the columns (contiguous, so the compiler vectorises it), the column sums
 * are folded in pairs across, shift times (each fold halves the row: also plain loops over
 * arrays), and the sums are turned into samples. A strip covers at most CHUNK input samples (or
 * YUYV pixel pairs) so that its sums live in small arrays on the stack, in the L1 cache, and
 * nothing is allocated. The file is built with -O3 like yuyv.c (see CMakeLists.txt).
 */
#define CHUNK 512

/* Every sum fits in 16 bits: 64 samples of 255 (the planes), 64 luma of 219 and 64 chroma pair
 * sums of 448 (YUYV, offsets taken off) are at most 16320, 14016 and 28672. */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Why fc_scale_size refused a picture, in words. */
static int size_error(int width, int height, int shift, char *err, size_t errlen)
{
	if (shift < FC_SCALE_MIN_SHIFT || shift > FC_SCALE_MAX_SHIFT)
		return fail(err, errlen, "scale %dx%d: shift %d is not 1 to 3", width, height,
			    shift);
	return fail(err, errlen, "scale %dx%d by 1/%d: each side must be %d to %d", width, height,
		    1 << shift, 2 << shift, FC_SCALE_MAX_SIDE);
}

static int cap_error(int width, int height, int shift, size_t cap, char *err, size_t errlen)
{
	return fail(err, errlen, "scale %dx%d by 1/%d: a %zu-byte buffer is too small (bound %zu)",
		    width, height, 1 << shift, cap, fc_scale_bound(width, height, shift));
}

static int chroma_cols(int width, enum fc_subsamp s)
{
	return s == FC_SUBSAMP_444 ? width : width / 2;
}

static int chroma_rows(int height, enum fc_subsamp s)
{
	return s == FC_SUBSAMP_420 ? height / 2 : height;
}

int fc_scale_size(int width, int height, int shift, int *out_width, int *out_height)
{
	int w, h;

	if (shift < FC_SCALE_MIN_SHIFT || shift > FC_SCALE_MAX_SHIFT || width < 1 || height < 1 ||
	    width > FC_SCALE_MAX_SIDE || height > FC_SCALE_MAX_SIDE)
		return -1;
	/* Even, so that the encoder's 4:2:0 and 4:2:2 chroma halve it exactly. */
	w = (width >> shift) / 2 * 2;
	h = (height >> shift) / 2 * 2;
	if (w == 0 || h == 0)
		return -1;
	if (out_width)
		*out_width = w;
	if (out_height)
		*out_height = h;
	return 0;
}

size_t fc_scale_bound(int width, int height, int shift)
{
	unsigned long long w, h;

	if (fc_scale_size(width, height, shift, NULL, NULL) < 0)
		return 0;
	w = ((unsigned long long)width + (1ull << shift) - 1) >> shift;
	h = ((unsigned long long)height + (1ull << shift) - 1) >> shift;
	if (3 * w * h > SIZE_MAX)
		return 0;
	return (size_t)(3 * w * h);
}

/* Lays out packed planes of w x h in subsampling s in buf: the bytes they take, and *out. */
static size_t lay_out(uint8_t *buf, int w, int h, enum fc_subsamp s, struct fc_image *out)
{
	size_t luma = (size_t)w * (size_t)h;
	size_t chroma = (size_t)chroma_cols(w, s) * (size_t)chroma_rows(h, s);

	out->width = w;
	out->height = h;
	out->subsamp = s;
	out->plane[0] = buf;
	out->plane[1] = buf + luma;
	out->plane[2] = buf + luma + chroma;
	out->stride[0] = w;
	out->stride[1] = chroma_cols(w, s);
	out->stride[2] = chroma_cols(w, s);
	return luma + 2 * chroma;
}

/* acc[0..n) = the sum of rows rows of src, stride bytes apart. */
static void sum_rows(const uint8_t *src, size_t stride, int rows, uint16_t *restrict acc, int n)
{
	for (int k = 0; k < n; k++)
		acc[k] = src[k];
	for (int r = 1; r < rows; r++) {
		const uint8_t *restrict p = src + (size_t)r * stride;

		for (int k = 0; k < n; k++)
			acc[k] = (uint16_t)(acc[k] + p[k]);
	}
}

/* dst[0..n) = the sums of src's neighbours in pairs: a row of sums made half as long. */
static void fold(const uint16_t *restrict src, uint16_t *restrict dst, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = (uint16_t)(src[2 * i] + src[2 * i + 1]);
}

/* Folds a[0..n << times) `times` times, through b (at least half as long as a); where the n
 * sums end up. */
static uint16_t *fold_times(uint16_t *a, uint16_t *b, int n, int times)
{
	for (int t = times; t > 0; t--) {
		uint16_t *swap = a;

		fold(a, b, n << (t - 1));
		a = b;
		b = swap;
	}
	return a;
}

/* One output row of one plane: n samples, each the rounded mean of a 2^shift square of src. */
static void box_row(const uint8_t *src, size_t stride, int shift, uint8_t *out, int n)
{
	uint16_t a[CHUNK], b[CHUNK / 2];
	int step = CHUNK >> shift;
	int half = 1 << (2 * shift - 1);

	for (int x = 0; x < n; x += step) {
		int m = n - x < step ? n - x : step;
		uint16_t *sums;

		sum_rows(src + ((size_t)x << shift), stride, 1 << shift, a, m << shift);
		sums = fold_times(a, b, m, shift);
		for (int i = 0; i < m; i++)
			out[x + i] = (uint8_t)((sums[i] + half) >> (2 * shift));
	}
}

static void box_plane(const uint8_t *src, int stride, int shift, uint8_t *dst, int w, int h)
{
	for (int y = 0; y < h; y++)
		box_row(src + ((size_t)y << shift) * (size_t)stride, (size_t)stride, shift,
			dst + (size_t)y * (size_t)w, w);
}

int fc_scale_planes(const struct fc_image *in, int shift, uint8_t *buf, size_t cap,
		    struct fc_image *out, char *err, size_t errlen)
{
	struct fc_image o;
	int w, h;

	if (!in || !buf || !out)
		return fail(err, errlen, "scale: no picture, buffer or output");
	if (in->subsamp != FC_SUBSAMP_420 && in->subsamp != FC_SUBSAMP_422 &&
	    in->subsamp != FC_SUBSAMP_444)
		return fail(err, errlen, "scale: unknown subsampling %d", (int)in->subsamp);
	if (fc_scale_size(in->width, in->height, shift, &w, &h) < 0)
		return size_error(in->width, in->height, shift, err, errlen);
	for (int i = 0; i < 3; i++) {
		int cols = i ? chroma_cols(in->width, in->subsamp) : in->width;

		if (!in->plane[i] || in->stride[i] < cols)
			return fail(err, errlen,
				    "scale %dx%d: plane %d missing or its stride %d "
				    "below its %d samples a row",
				    in->width, in->height, i, in->stride[i], cols);
	}
	if (cap < lay_out(buf, w, h, in->subsamp, &o))
		return cap_error(in->width, in->height, shift, cap, err, errlen);
	for (int i = 0; i < 3; i++)
		box_plane(in->plane[i], in->stride[i], shift, (uint8_t *)o.plane[i],
			  i ? chroma_cols(w, o.subsamp) : w, i ? chroma_rows(h, o.subsamp) : h);
	*out = o;
	return 0;
}

/*
 * YUYV: each pair of rows (a, b) is split as fc_yuyv_to_i420 splits it, and its samples added
 * to per-pixel-pair sums: l the four luma of the 2x2 square, u and v the two rows' chroma.
 * Before adding, each luma is clamped to 16..235 and each chroma pair sum to 32..480, and the
 * offsets taken off: fc_yuyv_to_i420 clamps there per sample (below, 0; above, 255), so a
 * block's mean of clamped samples is the mean of its full-range samples. The expansion to full
 * range is linear, so it is done once per output sample, on the sum (expand_* below).
 */
static inline uint8_t limited_luma(uint8_t y)
{
	uint8_t d = (uint8_t)(y > 16 ? y - 16 : 0);

	return (uint8_t)(d > 219 ? 219 : d);
}

static inline uint16_t limited_pair(uint16_t sum)
{
	uint16_t d = (uint16_t)(sum > 32 ? sum - 32 : 0);

	return (uint16_t)(d > 448 ? 448 : d);
}

/* Adds rows a and b into l, u, v, or (first_l, first_uv) starts those sums with them: writing
 * the first instead of zeroing and adding saves a pass over the sums. */
static inline void yuyv_rows(const uint8_t *restrict a, const uint8_t *restrict b,
			     uint16_t *restrict l, uint16_t *restrict u, uint16_t *restrict v,
			     int n, bool first_l, bool first_uv)
{
	for (int i = 0; i < n; i++) {
		uint16_t y = (uint16_t)(limited_luma(a[4 * i]) + limited_luma(a[4 * i + 2]) +
					limited_luma(b[4 * i]) + limited_luma(b[4 * i + 2]));
		uint16_t cb = limited_pair((uint16_t)(a[4 * i + 1] + b[4 * i + 1]));
		uint16_t cr = limited_pair((uint16_t)(a[4 * i + 3] + b[4 * i + 3]));

		l[i] = (uint16_t)(first_l ? y : l[i] + y);
		u[i] = (uint16_t)(first_uv ? cb : u[i] + cb);
		v[i] = (uint16_t)(first_uv ? cr : v[i] + cr);
	}
}

/* The three uses of yuyv_rows, each a loop of its own with its flags constant. Not inlined: in
 * the caller, gcc 12 no longer sees the sums as distinct arrays and leaves the loop scalar
 * (5x slower). */
__attribute__((noinline)) static void rows_start_all(const uint8_t *a, const uint8_t *b,
						     uint16_t *l, uint16_t *u, uint16_t *v, int n)
{
	yuyv_rows(a, b, l, u, v, n, true, true);
}

__attribute__((noinline)) static void rows_start_luma(const uint8_t *a, const uint8_t *b,
						      uint16_t *l, uint16_t *u, uint16_t *v, int n)
{
	yuyv_rows(a, b, l, u, v, n, true, false);
}

__attribute__((noinline)) static void rows_add(const uint8_t *a, const uint8_t *b, uint16_t *l,
					       uint16_t *u, uint16_t *v, int n)
{
	yuyv_rows(a, b, l, u, v, n, false, false);
}

/*
 * Sums to full-range samples, with yuyv.c's factors so that the two agree (n = 4^shift samples
 * in a sum):
 *   luma   round(d * 149 / (128 n))              for d the sum of (y - 16)
 *   chroma round(p * 73 / (128 n) + 0.25), <= 255  for p the sum of (pair sum - 32): yuyv.c's
 *          ((s * 73 + 64) >> 7) - 18 with s = p + 32 (32 * 73 / 128 - 18 = 0.25)
 * in 16-bit lanes, as the high half of a 16 x 16-bit product (one instruction for 8 samples;
 * in 32-bit lanes this was a quarter of the YUYV path's time): the sum scaled up to 16 bits,
 * times the factor scaled to match, plus the rounding (110 * 298 / 65536 = 0.5002 and
 * 168 * 292 / 65536 = 0.7485 for 0.5 and 0.75: an output one below the exact formula for 2 of
 * the 14017 possible luma sums and 42 of the 28673 chroma sums at 1/8, still within one step
 * of the split followed by the box).
 */
static void expand_luma(const uint16_t *restrict d, uint8_t *restrict out, int n, int shift)
{
	int up = 8 - 2 * shift; /* d * 256 / n: at most 219 * 256 = 56064 */

	for (int i = 0; i < n; i++) {
		uint16_t x = (uint16_t)((d[i] << up) + 110);

		out[i] = (uint8_t)(((uint32_t)x * 298) >> 16);
	}
}

static void expand_chroma(const uint16_t *restrict p, uint8_t *restrict out, int n, int shift)
{
	int up = 7 - 2 * shift; /* p * 128 / n: at most 448 * 128 = 57344 */

	for (int i = 0; i < n; i++) {
		uint16_t x = (uint16_t)((p[i] << up) + 168);
		uint16_t c = (uint16_t)(((uint32_t)x * 292) >> 16);

		out[i] = (uint8_t)(c > 255 ? 255 : c);
	}
}

/* Where one chroma row of output goes: two luma rows, a Cb and a Cr row. */
struct yuyv_out {
	uint8_t *y0, *y1, *u, *v;
};

/* n pixel pairs (a multiple of 2^shift) of the 2^(shift+1) rows from src into out: 2n >> shift
 * luma a row and n >> shift chroma. */
static void yuyv_strip(const uint8_t *src, size_t stride, int shift, int n,
		       const struct yuyv_out *out)
{
	uint16_t top[CHUNK], bottom[CHUNK], u[CHUNK], v[CHUNK], tmp[CHUNK / 2];
	int pairs = 1 << shift; /* row pairs: the first half make luma row y0, the rest y1 */

	for (int p = 0; p < pairs; p++) {
		const uint8_t *a = src + (size_t)(2 * p) * stride;

		if (p == 0)
			rows_start_all(a, a + stride, top, u, v, n);
		else if (p == pairs / 2)
			rows_start_luma(a, a + stride, bottom, u, v, n);
		else
			rows_add(a, a + stride, p < pairs / 2 ? top : bottom, u, v, n);
	}
	/* A pixel pair's luma sum is 2 columns wide, an output sample 2^shift. */
	expand_luma(fold_times(top, tmp, n >> (shift - 1), shift - 1), out->y0, n >> (shift - 1),
		    shift);
	expand_luma(fold_times(bottom, tmp, n >> (shift - 1), shift - 1), out->y1, n >> (shift - 1),
		    shift);
	expand_chroma(fold_times(u, tmp, n >> shift, shift), out->u, n >> shift, shift);
	expand_chroma(fold_times(v, tmp, n >> shift, shift), out->v, n >> shift, shift);
}

int fc_scale_yuyv(const uint8_t *yuyv, size_t stride, int width, int height, int shift,
		  uint8_t *buf, size_t cap, struct fc_image *out, char *err, size_t errlen)
{
	struct fc_image o;
	int w, h;

	if (!yuyv || !buf || !out)
		return fail(err, errlen, "scale: no picture, buffer or output");
	if (fc_scale_size(width, height, shift, &w, &h) < 0)
		return size_error(width, height, shift, err, errlen);
	if (width % 2 || height % 2 || stride < (size_t)width * 2)
		return fail(
		    err, errlen,
		    "scale YUYV %dx%d, %zu bytes a row: needs even sides and 2 bytes a pixel",
		    width, height, stride);
	if (cap < lay_out(buf, w, h, FC_SUBSAMP_420, &o))
		return cap_error(width, height, shift, cap, err, errlen);
	for (int y = 0; y < h / 2; y++) {
		const uint8_t *src = yuyv + ((size_t)y << (shift + 1)) * stride;
		int pairs = (w / 2) << shift; /* of the row, whole blocks only */

		for (int x = 0; x < pairs; x += CHUNK) {
			struct yuyv_out to = {
				.y0 = (uint8_t *)o.plane[0] + (size_t)(2 * y) * (size_t)w +
				      (x >> (shift - 1)),
				.y1 = (uint8_t *)o.plane[0] + (size_t)(2 * y + 1) * (size_t)w +
				      (x >> (shift - 1)),
				.u = (uint8_t *)o.plane[1] + (size_t)y * (size_t)(w / 2) +
				     (x >> shift),
				.v = (uint8_t *)o.plane[2] + (size_t)y * (size_t)(w / 2) +
				     (x >> shift),
			};

			yuyv_strip(src + (size_t)x * 4, stride, shift,
				   pairs - x < CHUNK ? pairs - x : CHUNK, &to);
		}
	}
	*out = o;
	return 0;
}

/* The encoder's name for a JPEG's subsampling; -1 for one it cannot take. */
static int jpeg_subsamp(int tjsamp, enum fc_subsamp *s)
{
	switch (tjsamp) {
	case TJSAMP_420:
		*s = FC_SUBSAMP_420;
		return 0;
	case TJSAMP_422:
		*s = FC_SUBSAMP_422;
		return 0;
	case TJSAMP_444:
		*s = FC_SUBSAMP_444;
		return 0;
	}
	return -1;
}

static const char *samp_name(int tjsamp)
{
	switch (tjsamp) {
	case TJSAMP_GRAY:
		return "greyscale";
	case TJSAMP_440:
		return "4:4:0";
	case TJSAMP_411:
		return "4:1:1";
	}
	return "of unknown subsampling";
}

/* Checks the JPEG's header: YCbCr in a subsampling the encoder takes, big enough for the
 * shift. Its size in *w, *h and its subsampling in *samp (TurboJPEG's) and *s. */
static int check_header(tjhandle tj, const uint8_t *jpeg, size_t size, int shift, int *w, int *h,
			int *samp, enum fc_subsamp *s, char *err, size_t errlen)
{
	/* TurboJPEG can report success on a truncated header without setting these. */
	int cs = -1;

	*w = 0;
	*h = 0;
	*samp = -1;
	if (tjDecompressHeader3(tj, jpeg, (unsigned long)size, w, h, samp, &cs) < 0)
		return fail(err, errlen, "scale: not a JPEG: %s", tjGetErrorStr2(tj));
	if (*w <= 0 || *h <= 0)
		return fail(err, errlen, "scale: not a JPEG: no frame header");
	if (*samp < 0 || jpeg_subsamp(*samp, s) < 0)
		return fail(err, errlen, "scale: JPEG %dx%d is %s, not 4:2:0, 4:2:2 or 4:4:4", *w,
			    *h, samp_name(*samp));
	if (cs != TJCS_YCbCr)
		return fail(err, errlen, "scale: JPEG %dx%d has colour space %d, not YCbCr", *w, *h,
			    cs);
	if (fc_scale_size(*w, *h, shift, NULL, NULL) < 0)
		return size_error(*w, *h, shift, err, errlen);
	return 0;
}

/*
 * Lays out TurboJPEG's scaled planes in buf: sw x sh, the JPEG's sides divided and rounded up
 * (TJSCALED), whole chroma samples (tjPlaneWidth). The picture is cropped to fc_scale_size's
 * sides afterwards by describing less of it. TurboJPEG picks the largest scaling factor whose
 * result fits in sw x sh; with each side at least 2^(shift+1) (checked before) the factor above
 * 1/2^shift in its list (5/8, 3/8, 1/4) no longer fits, so 1/2^shift it is, and in any case it
 * never writes more than sw x sh.
 */
static size_t jpeg_planes(int w, int h, int shift, int samp, uint8_t *buf, uint8_t *plane[3],
			  int stride[3], int *sw, int *sh)
{
	tjscalingfactor f = { 1, 1 << shift };
	size_t total = 0;

	*sw = TJSCALED(w, f);
	*sh = TJSCALED(h, f);
	for (int i = 0; i < 3; i++) {
		stride[i] = tjPlaneWidth(i, *sw, samp);
		plane[i] = buf + total;
		total += (size_t)stride[i] * (size_t)tjPlaneHeight(i, *sh, samp);
	}
	return total;
}

int fc_scale_jpeg(const uint8_t *jpeg, size_t size, int shift, uint8_t *buf, size_t cap,
		  struct fc_image *out, char *err, size_t errlen)
{
	tjhandle tj = NULL;
	uint8_t *plane[3];
	int stride[3], w, h, samp, sw, sh, rc = -1;
	enum fc_subsamp s = FC_SUBSAMP_420;

	if (!jpeg || !size || !buf || !out)
		return fail(err, errlen, "scale: no JPEG, buffer or output");
	if (shift < FC_SCALE_MIN_SHIFT || shift > FC_SCALE_MAX_SHIFT)
		return fail(err, errlen, "scale: shift %d is not 1 to 3", shift);
	tj = tjInitDecompress();
	if (!tj)
		return fail(err, errlen, "scale: libjpeg-turbo: %s", tjGetErrorStr2(NULL));
	if (check_header(tj, jpeg, size, shift, &w, &h, &samp, &s, err, errlen) < 0)
		goto out;
	if (cap < jpeg_planes(w, h, shift, samp, buf, plane, stride, &sw, &sh)) {
		cap_error(w, h, shift, cap, err, errlen);
		goto out;
	}
	/* A warning (a truncated but readable frame) is a broken frame here: refused. */
	if (tjDecompressToYUVPlanes(tj, jpeg, (unsigned long)size, plane, sw, stride, sh,
				    TJFLAG_STOPONWARNING) < 0) {
		fail(err, errlen, "scale: JPEG %dx%d does not decode at 1/%d: %s", w, h, 1 << shift,
		     tjGetErrorStr2(tj));
		goto out;
	}
	*out = (struct fc_image){ .subsamp = s };
	fc_scale_size(w, h, shift, &out->width, &out->height);
	for (int i = 0; i < 3; i++) {
		out->plane[i] = plane[i];
		out->stride[i] = stride[i];
	}
	rc = 0;
out:
	tjDestroy(tj);
	return rc;
}
