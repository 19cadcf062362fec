/* Tests of sender/encode/encoder.c: planar YUV or YUYV to JPEG into a caller's buffer of the worst-case size.
 * The output is checked by decoding it again with TurboJPEG directly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "encoder.h"
#include "yuyv.h"

#define W 640
#define H 480

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* A test picture: its own planes, and the fc_image that points at them. Each plane ends exactly
 * at an inaccessible page, so reading one byte past it is a SIGSEGV in any build. */
struct pic {
	struct fc_image img;
	uint8_t *plane[3];
	void *map[3]; /* the mappings holding the planes, and their lengths */
	size_t maplen[3];
	int pw[3]; /* plane widths and heights in samples */
	int ph[3];
};

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

static void chroma_size(int w, int h, enum fc_subsamp s, int *cw, int *ch)
{
	*cw = s == FC_SUBSAMP_444 ? w : (w + 1) / 2;
	*ch = s == FC_SUBSAMP_420 ? (h + 1) / 2 : h;
}

/* Gradients with a little deterministic texture (so quality matters); `pad` extra bytes per row
 * are filled with junk that must not reach the JPEG. */
static struct pic make_pic(int w, int h, enum fc_subsamp s, int pad)
{
	struct pic p = { .img = { .width = w, .height = h, .subsamp = s } };
	unsigned x = 12345;

	p.pw[0] = w;
	p.ph[0] = h;
	chroma_size(w, h, s, &p.pw[1], &p.ph[1]);
	p.pw[2] = p.pw[1];
	p.ph[2] = p.ph[1];
	for (int i = 0; i < 3; i++) {
		int stride = p.pw[i] + pad;

		p.plane[i] =
		    guarded_alloc((size_t)stride * (size_t)p.ph[i], &p.map[i], &p.maplen[i]);
		for (int y = 0; y < p.ph[i]; y++) {
			uint8_t *row = p.plane[i] + (size_t)y * (size_t)stride;

			for (int c = 0; c < stride; c++) {
				x = x * 1103515245u + 12345u;
				if (c >= p.pw[i])
					row[c] = (uint8_t)(x >> 16); /* padding: junk */
				else if (i == 0)
					row[c] = (uint8_t)((c * 200 / p.pw[i]) + ((x >> 16) & 15));
				else
					row[c] = (uint8_t)(64 + (i == 1 ? c : y) * 128 / p.pw[i]);
			}
		}
		p.img.plane[i] = p.plane[i];
		p.img.stride[i] = stride;
	}
	return p;
}

static void free_pic(struct pic *p)
{
	for (int i = 0; i < 3; i++)
		munmap(p->map[i], p->maplen[i]);
}

static struct fc_encoder *new_encoder(int quality)
{
	char err[256] = "";
	struct fc_encoder *e = fc_encoder_new(quality, 1, err, sizeof(err));

	if (!e)
		fail_msg("fc_encoder_new(%d): %s", quality, err);
	return e;
}

/* Encodes p into a fresh buffer of exactly the bound; returns it (caller frees), size in *size. */
static uint8_t *encode(struct fc_encoder *e, const struct pic *p, size_t *size)
{
	size_t cap = fc_encoder_bound(p->img.width, p->img.height, p->img.subsamp);
	uint8_t *out;

	assert_true(cap > 0);
	out = malloc(cap);
	assert_non_null(out);
	*size = 0;
	if (fc_encoder_encode(e, &p->img, out, cap, size) != 0)
		fail_msg("encode %dx%d: %s", p->img.width, p->img.height, fc_encoder_error(e));
	assert_true(*size > 4);
	assert_true(*size <= cap);
	return out;
}

static int tj_of(enum fc_subsamp s)
{
	return s == FC_SUBSAMP_420 ? TJSAMP_420 : s == FC_SUBSAMP_422 ? TJSAMP_422 : TJSAMP_444;
}

/* Checks a JPEG's markers and header, decodes it and compares the planes with the source. */
static void check_jpeg(const uint8_t *jpeg, size_t size, const struct pic *p)
{
	tjhandle tj = tjInitDecompress();
	int w = 0, h = 0, samp = -1, cs = -1;
	unsigned char *planes[3];
	int strides[3];
	long total_diff = 0;
	long count = 0;

	assert_non_null(tj);
	assert_int_equal(jpeg[0], 0xff);
	assert_int_equal(jpeg[1], 0xd8);
	assert_int_equal(jpeg[size - 2], 0xff);
	assert_int_equal(jpeg[size - 1], 0xd9);
	assert_int_equal(tjDecompressHeader3(tj, jpeg, (unsigned long)size, &w, &h, &samp, &cs), 0);
	assert_int_equal(w, p->img.width);
	assert_int_equal(h, p->img.height);
	assert_int_equal(samp, tj_of(p->img.subsamp));
	/* TurboJPEG's planes: padded to whole chroma samples, which may exceed the source's. */
	for (int i = 0; i < 3; i++) {
		strides[i] = tjPlaneWidth(i, w, samp);
		planes[i] = malloc(tjPlaneSizeYUV(i, w, strides[i], h, samp));
		assert_non_null(planes[i]);
	}
	assert_int_equal(tjDecompressToYUVPlanes(tj, jpeg, (unsigned long)size, planes, w, strides,
						 h, TJFLAG_STOPONWARNING),
			 0);
	/* A lossy copy of the source: close on average, no sample far off. */
	for (int i = 0; i < 3; i++) {
		for (int y = 0; y < p->ph[i]; y++) {
			for (int x = 0; x < p->pw[i]; x++) {
				int a = planes[i][(size_t)y * (size_t)strides[i] + (size_t)x];
				int b =
				    p->plane[i][(size_t)y * (size_t)p->img.stride[i] + (size_t)x];
				int d = abs(a - b);

				if (d > 40)
					fail_msg("plane %d (%d,%d): %d decoded, %d sent", i, x, y,
						 a, b);
				total_diff += d;
				count++;
			}
		}
		free(planes[i]);
	}
	if (total_diff > 4 * count)
		fail_msg("mean difference %.2f is too large", (double)total_diff / (double)count);
	tjDestroy(tj);
}

/* 640x480 4:2:0 encodes to SOI..EOI that decodes back to 640x480 4:2:0, about the same. */
static void test_encode_420_decodes_back(void **state)
{
	struct fc_encoder *e = new_encoder(85);
	struct pic p = make_pic(W, H, FC_SUBSAMP_420, 0);
	size_t size;
	uint8_t *jpeg;

	(void)state;
	jpeg = encode(e, &p, &size);
	check_jpeg(jpeg, size, &p);
	free(jpeg);
	free_pic(&p);
	fc_encoder_free(e);
}

/* 4:2:2 and 4:4:4 pictures encode with their own subsampling. */
static void test_encode_422_and_444_decode_back(void **state)
{
	struct fc_encoder *e = new_encoder(85);
	enum fc_subsamp subs[2] = { FC_SUBSAMP_422, FC_SUBSAMP_444 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct pic p = make_pic(320, 240, subs[i], 0);
		size_t size;
		uint8_t *jpeg = encode(e, &p, &size);

		check_jpeg(jpeg, size, &p);
		free(jpeg);
		free_pic(&p);
	}
	fc_encoder_free(e);
}

/* An odd 4:2:0 size is refused or encoded from exactly its planes, never read past them. */
static void test_odd_size_refused_or_encoded_in_bounds(void **state)
{
	/* Planes as image.h has them: luma w x h, chroma rounded up, each before a guard page. */
	struct fc_encoder *e = new_encoder(90);
	struct pic p = make_pic(641, 363, FC_SUBSAMP_420, 0);
	size_t cap = fc_encoder_bound(641, 363, FC_SUBSAMP_420);
	uint8_t *out = malloc(cap);
	size_t size = 0;

	(void)state;
	assert_non_null(out);
	if (fc_encoder_encode(e, &p.img, out, cap, &size) == 0)
		check_jpeg(out, size, &p);
	else
		assert_contains(fc_encoder_error(e), "641x363");
	free(out);
	free_pic(&p);
	fc_encoder_free(e);
}

/* Row strides are honoured: padded rows give byte-for-byte the JPEG of unpadded ones. */
static void test_padded_rows_give_the_same_jpeg(void **state)
{
	struct fc_encoder *e = new_encoder(75);
	struct pic tight = make_pic(W, H, FC_SUBSAMP_420, 0);
	struct pic padded = make_pic(W, H, FC_SUBSAMP_420, 64);
	size_t n1, n2;
	uint8_t *j1, *j2;

	(void)state;
	/* Same pixels in both (the generators' junk differs only in the padding). */
	for (int i = 0; i < 3; i++) {
		for (int y = 0; y < tight.ph[i]; y++)
			memcpy(padded.plane[i] + (size_t)y * (size_t)padded.img.stride[i],
			       tight.plane[i] + (size_t)y * (size_t)tight.img.stride[i],
			       (size_t)tight.pw[i]);
	}
	j1 = encode(e, &tight, &n1);
	j2 = encode(e, &padded, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(j1, j2, n1);
	free(j1);
	free(j2);
	free_pic(&tight);
	free_pic(&padded);
	fc_encoder_free(e);
}

/* Quality must be 1..100: 0, 101 and negatives are refused with a message naming the value. */
static void test_quality_out_of_range_refused(void **state)
{
	static const int bad[] = { 0, 101, -1, 1000 };
	char err[256];
	char num[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(fc_encoder_new(bad[i], 1, err, sizeof(err)));
		snprintf(num, sizeof(num), "%d", bad[i]);
		assert_contains(err, num);
		assert_contains(err, "1 to 100");
	}
	fc_encoder_free(new_encoder(1));
	fc_encoder_free(new_encoder(100));
	fc_encoder_free(NULL); /* allowed */
}

/* A buffer one byte below the bound is refused with a message, and none of it written. */
static void test_buffer_below_bound_refused(void **state)
{
	struct fc_encoder *e = new_encoder(85);
	struct pic p = make_pic(W, H, FC_SUBSAMP_420, 0);
	size_t bound = fc_encoder_bound(W, H, FC_SUBSAMP_420);
	size_t cap = bound - 1;
	uint8_t *out = malloc(cap);
	size_t size = 12345;

	(void)state;
	assert_non_null(out);
	memset(out, 0x5a, cap);
	assert_int_equal(fc_encoder_encode(e, &p.img, out, cap, &size), -1);
	assert_true(fc_encoder_error(e)[0] != '\0');
	assert_contains(fc_encoder_error(e), "bound");
	assert_int_equal(size, 12345);
	for (size_t i = 0; i < cap; i++) {
		if (out[i] != 0x5a)
			fail_msg("byte %zu of the refused buffer was written", i);
	}
	/* A tiny buffer is refused too. */
	assert_int_equal(fc_encoder_encode(e, &p.img, out, 16, &size), -1);
	free(out);
	free_pic(&p);
	fc_encoder_free(e);
}

/* The bound grows with size and chroma; a size TurboJPEG cannot take gives 0. */
static void test_bound_follows_size_and_subsampling(void **state)
{
	size_t b420 = fc_encoder_bound(W, H, FC_SUBSAMP_420);

	(void)state;
	assert_true(b420 > (size_t)W * H);
	assert_true(fc_encoder_bound(W, H, FC_SUBSAMP_422) >= b420);
	assert_true(fc_encoder_bound(W, H, FC_SUBSAMP_444) >=
		    fc_encoder_bound(W, H, FC_SUBSAMP_422));
	assert_true(fc_encoder_bound(2 * W, 2 * H, FC_SUBSAMP_420) > b420);
	assert_int_equal(fc_encoder_bound(0, H, FC_SUBSAMP_420), 0);
	assert_int_equal(fc_encoder_bound(W, -1, FC_SUBSAMP_420), 0);
}

/* A picture libjpeg cannot take (width 0) is an error with a message, not a crash. */
static void test_invalid_image_is_an_error(void **state)
{
	struct fc_encoder *e = new_encoder(85);
	struct pic p = make_pic(64, 64, FC_SUBSAMP_420, 0);
	uint8_t *out = malloc(1u << 16);
	size_t size = 777;

	(void)state;
	assert_non_null(out);
	p.img.width = 0;
	assert_int_equal(fc_encoder_encode(e, &p.img, out, 1u << 16, &size), -1);
	assert_true(fc_encoder_error(e)[0] != '\0');
	assert_int_equal(size, 777);
	/* The handle still works afterwards. */
	p.img.width = 64;
	assert_int_equal(fc_encoder_encode(e, &p.img, out, 1u << 16, &size), 0);
	check_jpeg(out, size, &p);
	free(out);
	free_pic(&p);
	fc_encoder_free(e);
}

/* On the same picture a higher quality gives a larger JPEG. */
static void test_higher_quality_larger_output(void **state)
{
	static const int q[] = { 10, 50, 95 };
	struct pic p = make_pic(W, H, FC_SUBSAMP_420, 0);
	size_t prev = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct fc_encoder *e = new_encoder(q[i]);
		size_t size;
		uint8_t *jpeg = encode(e, &p, &size);

		if (size <= prev)
			fail_msg("quality %d gave %zu bytes, not more than %zu", q[i], size, prev);
		prev = size;
		free(jpeg);
		fc_encoder_free(e);
	}
	free_pic(&p);
}

/* One handle encodes frame after frame, alternating sizes, each complete. */
static void test_one_handle_many_frames(void **state)
{
	struct fc_encoder *e = new_encoder(80);
	struct pic big = make_pic(W, H, FC_SUBSAMP_420, 0);
	struct pic small = make_pic(160, 120, FC_SUBSAMP_422, 8);

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct pic *p = i % 2 ? &small : &big;
		size_t size;
		uint8_t *jpeg = encode(e, p, &size);

		check_jpeg(jpeg, size, p);
		free(jpeg);
	}
	free_pic(&big);
	free_pic(&small);
	fc_encoder_free(e);
}

/* A camera's YUYV picture, w x h, `pad` junk bytes after each row, ending at a guard page. */
static uint8_t *make_yuyv(int w, int h, int pad, size_t *stride, void **map, size_t *maplen)
{
	uint8_t *buf;
	unsigned x = 777;

	*stride = (size_t)w * 2 + (size_t)pad;
	buf = guarded_alloc(*stride * (size_t)h, map, maplen);
	for (int y = 0; y < h; y++) {
		for (size_t i = 0; i < *stride; i++) {
			x = x * 1103515245u + 12345u;
			/* Luma a gradient with texture, chroma drifting across: a picture, not noise. */
			buf[(size_t)y * *stride + i] =
			    (uint8_t)(i % 2 == 0
					  ? 16 + (int)(i * 200 / *stride) + (int)((x >> 16) & 15)
					  : 60 + y * 60 / h + (int)(i * 60 / *stride));
		}
	}
	return buf;
}

/* The strip-by-strip YUYV encode gives byte for byte the JPEG of splitting the whole picture
 * (fc_yuyv_to_i420) and encoding the planes, at sizes whose sides are whole 16-row strips and
 * 8-sample blocks and at sizes that are not (the last strip short, rows padded), and it reads
 * neither past the YUYV buffer nor past any plane. */
static void test_yuyv_strips_give_the_jpeg_of_the_split_planes(void **state)
{
	static const int size[][2] = { { 640, 480 }, { 72, 38 }, { 130, 34 }, { 16, 2 } };
	struct fc_encoder *e = new_encoder(80);

	(void)state;
	for (size_t i = 0; i < sizeof(size) / sizeof(size[0]); i++) {
		int w = size[i][0], h = size[i][1];
		struct pic p = make_pic(w, h, FC_SUBSAMP_420, 0);
		size_t stride, maplen, a_size = 0, b_size = 0;
		void *map;
		uint8_t *yuyv = make_yuyv(w, h, 6, &stride, &map, &maplen);
		size_t cap = fc_encoder_bound(w, h, FC_SUBSAMP_420);
		uint8_t *a = malloc(cap), *b = malloc(cap);

		assert_non_null(a);
		assert_non_null(b);
		fc_yuyv_to_i420(yuyv, stride, w, h, p.plane[0], w, p.plane[1], p.plane[2], w / 2);
		assert_int_equal(fc_encoder_encode(e, &p.img, a, cap, &a_size), 0);
		if (fc_encoder_encode_yuyv(e, yuyv, stride, w, h, b, cap, &b_size) != 0)
			fail_msg("%dx%d: %s", w, h, fc_encoder_error(e));
		if (a_size != b_size || memcmp(a, b, a_size) != 0)
			fail_msg(
			    "%dx%d: strips gave %zu bytes, the split planes %zu, or other bytes", w,
			    h, b_size, a_size);
		check_jpeg(b, b_size, &p);
		free(a);
		free(b);
		munmap(map, maplen);
		free_pic(&p);
	}
	fc_encoder_free(e);
}

/* YUYV with an odd side or rows shorter than two bytes a pixel is refused, naming the size,
 * and the handle encodes the next good picture. */
static void test_bad_yuyv_refused(void **state)
{
	struct fc_encoder *e = new_encoder(80);
	size_t stride, maplen, size = 0;
	void *map;
	uint8_t *yuyv = make_yuyv(64, 32, 0, &stride, &map, &maplen);
	size_t cap = fc_encoder_bound(64, 32, FC_SUBSAMP_420);
	uint8_t *out = malloc(cap);

	(void)state;
	assert_non_null(out);
	assert_int_equal(fc_encoder_encode_yuyv(e, yuyv, stride, 63, 32, out, cap, &size), -1);
	assert_contains(fc_encoder_error(e), "63x32");
	assert_int_equal(fc_encoder_encode_yuyv(e, yuyv, stride, 64, 31, out, cap, &size), -1);
	assert_contains(fc_encoder_error(e), "64x31");
	assert_int_equal(fc_encoder_encode_yuyv(e, yuyv, 100, 64, 32, out, cap, &size), -1);
	assert_contains(fc_encoder_error(e), "100 bytes a row");
	assert_int_equal(size, 0);
	assert_int_equal(fc_encoder_encode_yuyv(e, yuyv, stride, 64, 32, out, cap, &size), 0);
	assert_true(size > 4 && out[0] == 0xff && out[1] == 0xd8);
	free(out);
	munmap(map, maplen);
	fc_encoder_free(e);
}

/* A JPEG decoded to TurboJPEG's planes, one buffer (caller frees); the size in *len. */
static uint8_t *decode_planes(const uint8_t *jpeg, size_t size, size_t *len)
{
	tjhandle tj = tjInitDecompress();
	int w, h, samp, cs;
	uint8_t *buf;

	assert_non_null(tj);
	assert_int_equal(tjDecompressHeader3(tj, jpeg, (unsigned long)size, &w, &h, &samp, &cs), 0);
	*len = tjBufSizeYUV2(w, 1, h, samp);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(
	    tjDecompressToYUV2(tj, jpeg, (unsigned long)size, buf, w, 1, h, TJFLAG_STOPONWARNING),
	    0);
	tjDestroy(tj);
	return buf;
}

/* The restart markers in a JPEG's entropy-coded data, in order, as 0..7; their count. */
static int restart_markers(const uint8_t *j, size_t n, int *seen, int max)
{
	int count = 0;

	for (size_t i = 2; i + 1 < n; i++)
		if (j[i] == 0xFF && j[i + 1] >= 0xD0 && j[i + 1] <= 0xD7) {
			if (count < max)
				seen[count] = j[i + 1] - 0xD0;
			count++;
		}
	return count;
}

/* A picture cut into bands, one per thread, decodes to exactly the pixels of the one-thread
 * JPEG, with one restart marker between bands (RST0, RST1, ... in turn): from planes in each
 * subsampling and from YUYV, with whole bands and with a short last one. */
static void test_bands_decode_to_the_pixels_of_one_thread(void **state)
{
	static const struct {
		int w, h, threads;
		enum fc_subsamp s;
		bool yuyv;
	} cases[] = {
		{ 640, 480, 2, FC_SUBSAMP_420, false }, { 640, 362, 3, FC_SUBSAMP_420, false },
		{ 640, 480, 4, FC_SUBSAMP_422, false }, { 488, 300, 4, FC_SUBSAMP_444, false },
		{ 1280, 720, 4, FC_SUBSAMP_420, true }, { 648, 486, 2, FC_SUBSAMP_420, true },
	};
	struct fc_encoder *one = new_encoder(80);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int w = cases[i].w, h = cases[i].h, mcu_h = cases[i].s == FC_SUBSAMP_420 ? 16 : 8;
		char err[256];
		struct fc_encoder *many = fc_encoder_new(80, cases[i].threads, err, sizeof(err));
		struct pic p = make_pic(w, h, cases[i].s, 0);
		size_t cap = fc_encoder_bound(w, h, cases[i].s), a_size = 0, b_size = 0;
		size_t stride = 0, maplen = 0, a_len, b_len;
		void *map = NULL;
		uint8_t *yuyv = cases[i].yuyv ? make_yuyv(w, h, 0, &stride, &map, &maplen) : NULL;
		uint8_t *a = malloc(cap), *b = malloc(cap), *pa, *pb;
		int seen[8], bands, per_band;

		assert_non_null(many);
		assert_non_null(a);
		assert_non_null(b);
		if (yuyv) {
			assert_int_equal(
			    fc_encoder_encode_yuyv(one, yuyv, stride, w, h, a, cap, &a_size), 0);
			assert_int_equal(
			    fc_encoder_encode_yuyv(many, yuyv, stride, w, h, b, cap, &b_size), 0);
		} else {
			assert_int_equal(fc_encoder_encode(one, &p.img, a, cap, &a_size), 0);
			assert_int_equal(fc_encoder_encode(many, &p.img, b, cap, &b_size), 0);
			check_jpeg(b, b_size, &p);
		}
		per_band = ((h + mcu_h - 1) / mcu_h + cases[i].threads - 1) / cases[i].threads;
		bands = ((h + mcu_h - 1) / mcu_h + per_band - 1) / per_band;
		assert_int_equal(restart_markers(a, a_size, seen, 8), 0);
		if (restart_markers(b, b_size, seen, 8) != bands - 1)
			fail_msg("%dx%d on %d threads: %d restart markers, want %d", w, h,
				 cases[i].threads, restart_markers(b, b_size, seen, 8), bands - 1);
		for (int k = 0; k < bands - 1; k++)
			assert_int_equal(seen[k], k % 8);
		pa = decode_planes(a, a_size, &a_len);
		pb = decode_planes(b, b_size, &b_len);
		assert_int_equal(a_len, b_len);
		if (memcmp(pa, pb, a_len) != 0)
			fail_msg("%dx%d on %d threads: other pixels than on one", w, h,
				 cases[i].threads);
		/* A restart marker and the bits that pad each band to a byte, a few per band. */
		assert_true(b_size <= a_size + 16 * (size_t)bands);
		free(pa);
		free(pb);
		free(a);
		free(b);
		if (map)
			munmap(map, maplen);
		free_pic(&p);
		fc_encoder_free(many);
	}
	fc_encoder_free(one);
}

/* A small picture is not worth a thread: with four it is byte for byte the one-thread JPEG. */
static void test_small_picture_stays_whole(void **state)
{
	char err[256];
	struct fc_encoder *one = new_encoder(80);
	struct fc_encoder *four = fc_encoder_new(80, 4, err, sizeof(err));
	struct pic p = make_pic(160, 120, FC_SUBSAMP_420, 0);
	size_t cap = fc_encoder_bound(160, 120, FC_SUBSAMP_420), a_size, b_size;
	uint8_t *a = malloc(cap), *b = malloc(cap);

	(void)state;
	assert_non_null(four);
	assert_int_equal(fc_encoder_encode(one, &p.img, a, cap, &a_size), 0);
	assert_int_equal(fc_encoder_encode(four, &p.img, b, cap, &b_size), 0);
	assert_int_equal(a_size, b_size);
	assert_memory_equal(a, b, a_size);
	free(a);
	free(b);
	free_pic(&p);
	fc_encoder_free(one);
	fc_encoder_free(four);
}

/* Threads must be 1..FC_ENCODER_MAX_THREADS: 0 and one more are refused, naming the number. */
static void test_threads_out_of_range_refused(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(fc_encoder_new(80, 0, err, sizeof(err)));
	assert_contains(err, "0 encoding threads");
	assert_null(fc_encoder_new(80, FC_ENCODER_MAX_THREADS + 1, err, sizeof(err)));
	assert_contains(err, "9 encoding threads");
}

/* Told to use one of its threads, an encoder of four writes the one-thread JPEG; the number in
 * use is clamped to what it has. */
static void test_threads_in_use_can_be_lowered(void **state)
{
	char err[256];
	struct fc_encoder *one = new_encoder(80);
	struct fc_encoder *four = fc_encoder_new(80, 4, err, sizeof(err));
	struct pic p = make_pic(W, H, FC_SUBSAMP_420, 0);
	size_t cap = fc_encoder_bound(W, H, FC_SUBSAMP_420), a_size, b_size;
	uint8_t *a = malloc(cap), *b = malloc(cap);
	int seen[8];

	(void)state;
	assert_non_null(four);
	assert_int_equal(fc_encoder_use_threads(four, 1), 1);
	assert_int_equal(fc_encoder_encode(one, &p.img, a, cap, &a_size), 0);
	assert_int_equal(fc_encoder_encode(four, &p.img, b, cap, &b_size), 0);
	assert_int_equal(a_size, b_size);
	assert_memory_equal(a, b, a_size);
	assert_int_equal(fc_encoder_use_threads(four, 99), 4);
	assert_int_equal(fc_encoder_use_threads(four, 0), 1);
	assert_int_equal(fc_encoder_use_threads(four, 3), 3);
	assert_int_equal(fc_encoder_encode(four, &p.img, b, cap, &b_size), 0);
	assert_int_equal(restart_markers(b, b_size, seen, 8), 2);
	free(a);
	free(b);
	free_pic(&p);
	fc_encoder_free(one);
	fc_encoder_free(four);
}

/* What a follower of an encode saw: each report's n, and the bytes out[0..n) then. */
struct followed {
	const uint8_t *out;
	uint8_t *seen; /* each report's bytes, laid end to end */
	size_t seen_len;
	size_t last;
	size_t len[256]; /* each report's n */
	int reports;
	int sof_height; /* the height in the SOF0 at the first report */
};

static void on_grow(void *arg, size_t n)
{
	struct followed *f = arg;
	size_t pos = 2;

	/* Reported bytes never change: keep them all, to compare with the final JPEG. */
	assert_true(n > f->last);
	f->seen = realloc(f->seen, f->seen_len + n);
	assert_non_null(f->seen);
	memcpy(f->seen + f->seen_len, f->out, n);
	f->seen_len += n;
	f->last = n;
	assert_true(f->reports < 256);
	f->len[f->reports] = n;
	if (f->reports++ == 0)
		while (pos + 7 <= n && f->out[pos] == 0xFF) {
			if (f->out[pos + 1] == 0xC0) {
				f->sof_height = f->out[pos + 5] << 8 | f->out[pos + 6];
				break;
			}
			pos += 2 + ((size_t)f->out[pos + 2] << 8 | f->out[pos + 3]);
		}
}

/* A followed encode reports its bytes as they become final, in order, many times before the
 * end: every report's bytes are the final JPEG's first bytes, the first report's SOF0 already
 * says the whole height (bands or not), and the last report is the whole JPEG, the same bytes
 * as an encode not followed. */
static void test_follow_reports_final_bytes_in_order(void **state)
{
	struct pic p = make_pic(1280, 720, FC_SUBSAMP_420, 0);
	size_t cap = fc_encoder_bound(1280, 720, FC_SUBSAMP_420);
	uint8_t *plain = malloc(cap), *out = malloc(cap);

	(void)state;
	assert_non_null(plain);
	assert_non_null(out);
	for (int threads = 1; threads <= 3; threads++) {
		char err[256];
		struct fc_encoder *e = fc_encoder_new(80, threads, err, sizeof(err));
		struct followed f = { .out = out };
		size_t plain_size = 0, size = 0, off = 0;

		assert_non_null(e);
		assert_int_equal(fc_encoder_encode(e, &p.img, plain, cap, &plain_size), 0);
		fc_encoder_follow(e, on_grow, &f);
		assert_int_equal(fc_encoder_encode(e, &p.img, out, cap, &size), 0);
		assert_int_equal(size, plain_size);
		assert_memory_equal(out, plain, size);
		assert_int_equal(f.last, size);
		/* A strip of 16 rows at a time: 45 in all, half or a third of them in band 0. */
		assert_true(f.reports >= 45 / threads);
		assert_int_equal(f.sof_height, 720);
		for (int r = 0; r < f.reports; r++) {
			assert_memory_equal(f.seen + off, out, f.len[r]);
			off += f.len[r];
		}
		assert_int_equal(off, f.seen_len);
		fc_encoder_follow(e, NULL, NULL);
		free(f.seen);
		fc_encoder_free(e);
	}
	free(plain);
	free(out);
	free_pic(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_420_decodes_back),
		cmocka_unit_test(test_encode_422_and_444_decode_back),
		cmocka_unit_test(test_odd_size_refused_or_encoded_in_bounds),
		cmocka_unit_test(test_padded_rows_give_the_same_jpeg),
		cmocka_unit_test(test_quality_out_of_range_refused),
		cmocka_unit_test(test_buffer_below_bound_refused),
		cmocka_unit_test(test_bound_follows_size_and_subsampling),
		cmocka_unit_test(test_invalid_image_is_an_error),
		cmocka_unit_test(test_higher_quality_larger_output),
		cmocka_unit_test(test_one_handle_many_frames),
		cmocka_unit_test(test_yuyv_strips_give_the_jpeg_of_the_split_planes),
		cmocka_unit_test(test_bad_yuyv_refused),
		cmocka_unit_test(test_bands_decode_to_the_pixels_of_one_thread),
		cmocka_unit_test(test_small_picture_stays_whole),
		cmocka_unit_test(test_threads_out_of_range_refused),
		cmocka_unit_test(test_threads_in_use_can_be_lowered),
		cmocka_unit_test(test_follow_reports_final_bytes_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
