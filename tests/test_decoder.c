/* Tests of viewer/show/decoder.c: JPEG to planar YUV, with the size and sanity checks a viewer needs
 * against broken or hostile frames. Test JPEGs are made here with TurboJPEG directly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "decoder.h"
#include "picbuf.h"
#include "proto.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* Under ASan, any single allocation above 256 MB aborts this program: a decoder that allocated
 * for a hostile header before checking it would be caught even if it then failed cleanly. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=256";
}

/* A JPEG made here, and the planes it was made from (TurboJPEG's padded layout). */
struct jpeg {
	uint8_t *data;
	size_t size;
	int w, h, samp;
	uint8_t *src[3];
	int stride[3];
};

static uint8_t sample(int plane, int x, int y, int w, int h)
{
	if (plane == 0)
		return (uint8_t)(16 + x * 200 / w + (y * 30 / h));
	if (plane == 1)
		return (uint8_t)(60 + y * 120 / h);
	return (uint8_t)(200 - x * 120 / w);
}

static struct jpeg make_jpeg(int w, int h, int samp, int quality)
{
	struct jpeg j = { .w = w, .h = h, .samp = samp };
	const unsigned char *planes[3] = { NULL, NULL, NULL };
	unsigned char *out = NULL;
	unsigned long len = 0;
	int nplanes = samp == TJSAMP_GRAY ? 1 : 3;
	tjhandle tj = tjInitCompress();

	assert_non_null(tj);
	for (int i = 0; i < nplanes; i++) {
		int pw = tjPlaneWidth(i, w, samp);
		int ph = tjPlaneHeight(i, h, samp);

		j.stride[i] = pw;
		j.src[i] = malloc((size_t)pw * (size_t)ph);
		assert_non_null(j.src[i]);
		for (int y = 0; y < ph; y++) {
			for (int x = 0; x < pw; x++)
				j.src[i][(size_t)y * (size_t)pw + (size_t)x] =
				    sample(i, x, y, pw, ph);
		}
		planes[i] = j.src[i];
	}
	if (tjCompressFromYUVPlanes(tj, planes, w, j.stride, h, samp, &out, &len, quality, 0) != 0)
		fail_msg("tjCompressFromYUVPlanes: %s", tjGetErrorStr2(tj));
	j.data = malloc(len);
	assert_non_null(j.data);
	memcpy(j.data, out, len);
	j.size = len;
	tjFree(out);
	tjDestroy(tj);
	return j;
}

static void free_jpeg(struct jpeg *j)
{
	free(j->data);
	for (int i = 0; i < 3; i++)
		free(j->src[i]);
}

static struct fc_decoder *new_decoder(void)
{
	char err[256] = "";
	struct fc_decoder *d = fc_decoder_new(err, sizeof(err));

	if (!d)
		fail_msg("fc_decoder_new: %s", err);
	return d;
}

/* The picture has j's size, subsampling and plane geometry, its planes do not overlap, and its
 * samples are close to the ones j was made from. */
static void check_picture(const struct fc_picture *pic, const struct jpeg *j)
{
	int nplanes = j->samp == TJSAMP_GRAY ? 1 : 3;
	long total = 0, count = 0;

	assert_int_equal(pic->width, j->w);
	assert_int_equal(pic->height, j->h);
	assert_int_equal(pic->subsamp, fc_picbuf_subsamp(j->samp));
	if (nplanes == 1) {
		assert_null(pic->plane[1]);
		assert_null(pic->plane[2]);
	} else {
		assert_int_equal(pic->chroma_width, tjPlaneWidth(1, j->w, j->samp));
		assert_int_equal(pic->chroma_height, tjPlaneHeight(1, j->h, j->samp));
	}
	for (int i = 0; i < nplanes; i++) {
		int pw = i ? pic->chroma_width : pic->width;
		int ph = i ? pic->chroma_height : pic->height;

		assert_non_null(pic->plane[i]);
		assert_true(pic->stride[i] >= pw);
		/* Plane i ends before plane i+1 begins. */
		if (i + 1 < nplanes)
			assert_true(pic->plane[i] + (size_t)pic->stride[i] * (size_t)ph <=
				    pic->plane[i + 1]);
		for (int y = 0; y < ph; y++) {
			for (int x = 0; x < pw; x++) {
				int a =
				    pic->plane[i][(size_t)y * (size_t)pic->stride[i] + (size_t)x];
				int b = j->src[i][(size_t)y * (size_t)j->stride[i] + (size_t)x];
				int diff = abs(a - b);

				if (diff > 40)
					fail_msg("plane %d (%d,%d): %d decoded, %d encoded", i, x,
						 y, a, b);
				total += diff;
				count++;
			}
		}
	}
	if (total > 3 * count)
		fail_msg("mean difference %.2f too large", (double)total / (double)count);
}

static void decode_ok(struct fc_decoder *d, const struct jpeg *j, int ew, int eh)
{
	struct fc_picture pic;

	memset(&pic, 0, sizeof(pic));
	if (fc_decoder_decode(d, j->data, j->size, ew, eh, &pic) != 0)
		fail_msg("decode %dx%d: %s", j->w, j->h, fc_decoder_error(d));
	check_picture(&pic, j);
}

static void decode_bad(struct fc_decoder *d, const uint8_t *data, size_t size, int ew, int eh)
{
	struct fc_picture pic;

	memset(&pic, 0, sizeof(pic));
	if (fc_decoder_decode(d, data, size, ew, eh, &pic) == 0)
		fail_msg("%zu bytes decoded as %dx%d", size, pic.width, pic.height);
	assert_true(fc_decoder_error(d)[0] != '\0');
}

/* decode_bad on a new handle, so that one case cannot disturb the next (recovery after an error
 * has its own test). */
static void decode_bad_fresh(const uint8_t *data, size_t size, int ew, int eh)
{
	struct fc_decoder *d = new_decoder();

	decode_bad(d, data, size, ew, eh);
	fc_decoder_free(d);
}

static bool is_sof(uint8_t m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Offset of the first header marker FF m (any SOF when m is 0xc0), or 0 if there is none. */
static size_t find_marker(const uint8_t *p, size_t size, uint8_t m)
{
	size_t i = 2;

	while (i + 4 <= size && p[i] == 0xff) {
		if (p[i + 1] == m || (m == 0xc0 && is_sof(p[i + 1])))
			return i;
		i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
	}
	return 0;
}

/* Offset of the SOF segment's height field, or 0 if there is none. */
static size_t sof_dims_offset(const uint8_t *p, size_t size)
{
	size_t i = find_marker(p, size, 0xc0);

	return i ? i + 5 : 0; /* FF Cn, length (2), precision (1), height, width */
}

/* A copy of j whose SOF claims w x h. */
static uint8_t *patch_sof(const struct jpeg *j, unsigned w, unsigned h)
{
	size_t off = sof_dims_offset(j->data, j->size);
	uint8_t *p = malloc(j->size);

	assert_true(off > 0);
	assert_non_null(p);
	memcpy(p, j->data, j->size);
	p[off] = (uint8_t)(h >> 8);
	p[off + 1] = (uint8_t)h;
	p[off + 2] = (uint8_t)(w >> 8);
	p[off + 3] = (uint8_t)w;
	return p;
}

/* A 4:2:0 JPEG decodes to planes of its size, chroma halved, with (about) the encoded values. */
static void test_decode_420(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(640, 480, TJSAMP_420, 95);

	(void)state;
	decode_ok(d, &j, 640, 480);
	decode_ok(d, &j, 0, 0); /* 0 means "any size" */
	free_jpeg(&j);
	fc_decoder_free(d);
	fc_decoder_free(NULL); /* allowed */
}

/* An odd-sized JPEG decodes, its chroma rounded up. */
static void test_decode_odd_size(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(641, 363, TJSAMP_420, 95);
	struct fc_picture pic;

	(void)state;
	assert_int_equal(fc_decoder_decode(d, j.data, j.size, 641, 363, &pic), 0);
	assert_int_equal(pic.chroma_width, 321);
	assert_int_equal(pic.chroma_height, 182);
	check_picture(&pic, &j);
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* A JPEG of another size than the frame says is refused, naming both sizes. */
static void test_size_mismatch(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(640, 480, TJSAMP_420, 80);

	(void)state;
	decode_bad(d, j.data, j.size, 320, 240);
	assert_contains(fc_decoder_error(d), "640x480");
	assert_contains(fc_decoder_error(d), "320x240");
	decode_bad(d, j.data, j.size, 640, 481);
	assert_contains(fc_decoder_error(d), "640x481");
	decode_bad(d, j.data, j.size, 639, 480);
	assert_contains(fc_decoder_error(d), "639x480");
	decode_ok(d, &j, 640, 480);
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* A JPEG cut anywhere (half, header, before EOI) is an error, not a crash or half a picture. */
static void test_truncated(void **state)
{
	struct jpeg j = make_jpeg(640, 480, TJSAMP_420, 85);

	(void)state;
	decode_bad_fresh(j.data, j.size / 2, 640, 480);
	for (int k = 0; k < 16; k++)
		decode_bad_fresh(j.data, j.size * (size_t)k / 16, 640, 480);
	for (size_t cut = 1; cut < 700 && cut < j.size; cut += 7)
		decode_bad_fresh(j.data, cut, 0, 0);
	decode_bad_fresh(j.data, j.size - 1, 640, 480);
	decode_bad_fresh(j.data, j.size - 2, 640, 480); /* no EOI marker */
	free_jpeg(&j);
}

/* Random bytes, with or without a JPEG start marker in front, are an error (and no crash). */
static void test_random_bytes(void **state)
{
	uint8_t *buf = malloc(8192);
	unsigned x = 2463534242u;

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)round * 41 % 8192;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		if (round % 2 && n >= 2) {
			buf[0] = 0xff;
			buf[1] = 0xd8;
		}
		decode_bad_fresh(buf, n, 0, 0);
	}
	decode_bad_fresh(buf, 0, 0, 0);
	free(buf);
}

/* Bytes of heap memory the process has taken from malloc (0 where glibc cannot say). */
static size_t heap_bytes(void)
{
#ifdef __GLIBC__
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

/* A header claiming 65535x65535 or over FC_PROTO_MAX_DIM is refused before allocating. */
static void test_huge_header(void **state)
{
	/* Over 65500 libjpeg refuses the header itself; below, the message names size and limit. */
	struct jpeg j = make_jpeg(64, 48, TJSAMP_420, 85);
	static const unsigned dims[][2] = {
		{ 65535, 65535 },
		{ 65500, 65500 },
		{ FC_PROTO_MAX_DIM + 1, 48 },
		{ 64, FC_PROTO_MAX_DIM + 1 },
		{ FC_PROTO_MAX_DIM + 1, FC_PROTO_MAX_DIM + 1 },
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		struct fc_decoder *d = new_decoder();
		uint8_t *p = patch_sof(&j, dims[i][0], dims[i][1]);
		size_t before = heap_bytes();

		decode_bad(d, p, j.size, 0, 0);
		/* The decoder keeps its plane buffer, so a big allocation would still show. */
		assert_true(heap_bytes() < before + (16u << 20));
		if (dims[i][0] <= 65500 && dims[i][1] <= 65500) {
			snprintf(want, sizeof(want), "%ux%u", dims[i][0], dims[i][1]);
			assert_contains(fc_decoder_error(d), want);
			snprintf(want, sizeof(want), "%d", FC_PROTO_MAX_DIM);
			assert_contains(fc_decoder_error(d), want);
		}
		free(p);
		fc_decoder_free(d);
	}
	free_jpeg(&j);
}

/* Exactly FC_PROTO_MAX_DIM passes the size check (the limit is inclusive). */
static void test_max_dim_inclusive(void **state)
{
	/* This JPEG then fails to decode as the lie it is, but not for its size. */
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(64, 48, TJSAMP_420, 85);
	uint8_t *p = patch_sof(&j, FC_PROTO_MAX_DIM, 16);
	char claim[64];

	(void)state;
	decode_bad(d, p, j.size, 0, 0);
	snprintf(claim, sizeof(claim), "limit %dx%d", FC_PROTO_MAX_DIM, FC_PROTO_MAX_DIM);
	if (strstr(fc_decoder_error(d), claim))
		fail_msg("%dx16 refused as too large: %s", FC_PROTO_MAX_DIM, fc_decoder_error(d));
	free(p);
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* A header claiming zero rows is refused, not laid out. */
static void test_zero_height(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(64, 48, TJSAMP_420, 85);
	uint8_t *p = patch_sof(&j, 64, 0);

	(void)state;
	decode_bad(d, p, j.size, 0, 0);
	free(p);
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* 4:2:2 and 4:4:4 decode and report their subsampling and chroma size. */
static void test_decode_422_444(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j422 = make_jpeg(320, 240, TJSAMP_422, 95);
	struct jpeg j444 = make_jpeg(320, 240, TJSAMP_444, 95);
	struct fc_picture pic;

	(void)state;
	assert_int_equal(fc_decoder_decode(d, j422.data, j422.size, 320, 240, &pic), 0);
	assert_int_equal(pic.subsamp, FC_PIC_422);
	assert_int_equal(pic.chroma_width, 160);
	assert_int_equal(pic.chroma_height, 240);
	check_picture(&pic, &j422);
	assert_int_equal(fc_decoder_decode(d, j444.data, j444.size, 320, 240, &pic), 0);
	assert_int_equal(pic.subsamp, FC_PIC_444);
	assert_int_equal(pic.chroma_width, 320);
	assert_int_equal(pic.chroma_height, 240);
	check_picture(&pic, &j444);
	free_jpeg(&j422);
	free_jpeg(&j444);
	fc_decoder_free(d);
}

/* A greyscale JPEG decodes to one plane, reported as grey, with no chroma planes. */
static void test_decode_gray(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(200, 150, TJSAMP_GRAY, 95);
	struct fc_picture pic;

	(void)state;
	assert_int_equal(fc_decoder_decode(d, j.data, j.size, 200, 150, &pic), 0);
	assert_int_equal(pic.subsamp, FC_PIC_GRAY);
	assert_null(pic.plane[1]);
	assert_null(pic.plane[2]);
	assert_int_equal(pic.chroma_width, 0);
	assert_int_equal(pic.chroma_height, 0);
	check_picture(&pic, &j);
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* A subsampling the viewer cannot show (4:4:0) is refused with a message, not mis-drawn. */
static void test_unsupported_subsampling(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j = make_jpeg(64, 64, TJSAMP_440, 90);

	(void)state;
	decode_bad(d, j.data, j.size, 64, 64);
	assert_contains(fc_decoder_error(d), "subsampling");
	free_jpeg(&j);
	fc_decoder_free(d);
}

/* Decodes at other sizes and subsamplings, smaller then larger, re-lay the planes each time. */
static void test_relayout(void **state)
{
	struct fc_decoder *d = new_decoder();
	struct jpeg j[5] = {
		make_jpeg(640, 480, TJSAMP_420, 95),  make_jpeg(320, 240, TJSAMP_444, 95),
		make_jpeg(1280, 720, TJSAMP_420, 95), make_jpeg(96, 64, TJSAMP_GRAY, 95),
		make_jpeg(352, 288, TJSAMP_422, 95),
	};

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 5; i++)
			decode_ok(d, &j[i], j[i].w, j[i].h);
	}
	for (int i = 0; i < 5; i++)
		free_jpeg(&j[i]);
	fc_decoder_free(d);
}

/* After any kind of bad frame, the same handle decodes the next good JPEGs. */
static void test_recovers_after_error(void **state)
{
	/* One corrupt frame from the network must not cost the frames that follow it. */
	struct jpeg good = make_jpeg(320, 240, TJSAMP_420, 90);
	struct jpeg other = make_jpeg(64, 48, TJSAMP_420, 90);
	size_t sos = find_marker(other.data, other.size, 0xda);
	size_t sof_end = find_marker(other.data, other.size, 0xc0) + 19; /* SOF0, 3 components */
	uint8_t *huge = patch_sof(&other, 65535, 65535);
	uint8_t *big = patch_sof(&other, FC_PROTO_MAX_DIM + 1, 48);
	uint8_t noise[512];
	uint8_t soi_noise[512];
	struct {
		const char *what;
		const uint8_t *data;
		size_t size;
		int ew, eh;
	} bad[] = {
		{ "cut in half", other.data, other.size / 2, 0, 0 },
		{ "cut before SOS", other.data, sos, 0, 0 },
		{ "cut after SOF", other.data, sof_end, 0, 0 },
		{ "cut before EOI", other.data, other.size - 2, 0, 0 },
		{ "random bytes", noise, sizeof(noise), 0, 0 },
		{ "SOI then random bytes", soi_noise, sizeof(soi_noise), 0, 0 },
		{ "header of 65535x65535", huge, other.size, 0, 0 },
		{ "header over FC_PROTO_MAX_DIM", big, other.size, 0, 0 },
		{ "size mismatch", other.data, other.size, 320, 240 },
		{ "empty", other.data, 0, 0, 0 },
	};
	char failures[1024] = "";
	size_t used = 0;
	unsigned x = 88172645u;

	(void)state;
	assert_true(sos > 0);
	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (uint8_t)x;
		soi_noise[i] = (uint8_t)(x >> 8);
	}
	soi_noise[0] = 0xff;
	soi_noise[1] = 0xd8;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fc_decoder *d = new_decoder();
		struct fc_picture pic;

		decode_ok(d, &good, 320, 240); /* warm: the handle has decoded before */
		decode_bad(d, bad[i].data, bad[i].size, bad[i].ew, bad[i].eh);
		for (int k = 0; k < 2; k++) {
			if (fc_decoder_decode(d, good.data, good.size, 320, 240, &pic) == 0) {
				check_picture(&pic, &good);
				continue;
			}
			used += (size_t)snprintf(failures + used, sizeof(failures) - used,
						 "\n  after %s, good decode %d: %s", bad[i].what,
						 k + 1, fc_decoder_error(d));
			if (used >= sizeof(failures))
				used = sizeof(failures) - 1;
		}
		fc_decoder_free(d);
	}
	free(huge);
	free(big);
	free_jpeg(&good);
	free_jpeg(&other);
	if (used)
		fail_msg("valid JPEG refused after a bad one:%s", failures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_420),
		cmocka_unit_test(test_decode_odd_size),
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_huge_header),
		cmocka_unit_test(test_max_dim_inclusive),
		cmocka_unit_test(test_zero_height),
		cmocka_unit_test(test_decode_422_444),
		cmocka_unit_test(test_decode_gray),
		cmocka_unit_test(test_unsupported_subsampling),
		cmocka_unit_test(test_relayout),
		cmocka_unit_test(test_recovers_after_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
