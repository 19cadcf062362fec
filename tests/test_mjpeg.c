/* Tests of sender/capture/mjpeg.c: the framing checks and the Huffman-table repair of a camera's MJPEG
 * frames. Real frames are made with TurboJPEG; the repaired ones are decoded with it again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "mjpeg.h"

#define W 160
#define H 120

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		const char *hay_ = (hay);                                                          \
		if (!hay_ || !strstr(hay_, (needle)))                                              \
			fail_msg("\"%s\" does not contain \"%s\"", hay_ ? hay_ : "(null)",         \
				 (needle));                                                        \
	} while (0)

struct jpeg {
	uint8_t *data; /* malloc'd, owned by the test */
	size_t size;
};

/* A fixed-seed generator so every run draws the same "random" content. */
static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* A W x H RGB picture with gradients, stripes and noise, so that every Huffman table is busy,
 * compressed by TurboJPEG at the given subsampling. */
static struct jpeg make_jpeg(int subsamp)
{
	uint8_t *rgb = malloc((size_t)W * H * 3);
	unsigned char *out = NULL;
	unsigned long size = 0;
	uint32_t seed = 12345;
	struct jpeg j;
	tjhandle tj = tjInitCompress();

	assert_non_null(rgb);
	assert_non_null(tj);
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++) {
			uint8_t *px = rgb + ((size_t)y * W + (size_t)x) * 3;
			int noise = (int)(rnd(&seed) % 48);

			px[0] = (uint8_t)((x * 255 / W + noise) & 0xFF);
			px[1] = (uint8_t)(((x / 5 + y / 3) % 2 ? 200 : 40) + noise / 2);
			px[2] = (uint8_t)((y * 255 / H) ^ (x * 3));
		}
	}
	assert_int_equal(tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &out, &size, subsamp, 85, 0), 0);
	j.size = size;
	j.data = malloc(size);
	assert_non_null(j.data);
	memcpy(j.data, out, size);
	tjFree(out);
	tjDestroy(tj);
	free(rgb);
	return j;
}

/* Decodes to RGB; returns TurboJPEG's result (0 or -1) and the pixels in a malloc'd *rgb. */
static int decode(const uint8_t *p, size_t n, uint8_t **rgb)
{
	tjhandle tj = tjInitDecompress();
	int r;

	assert_non_null(tj);
	*rgb = calloc((size_t)W * H * 3, 1);
	assert_non_null(*rgb);
	r = tjDecompress2(tj, p, (unsigned long)n, *rgb, W, 0, H, TJPF_RGB, 0);
	tjDestroy(tj);
	return r;
}

/* The test's own segment walk (independent of mjpeg.c's): the offset of the first segment with
 * marker m before the scan, or 0. */
static size_t find_segment(const uint8_t *p, size_t n, uint8_t m)
{
	size_t off = 2;

	while (off + 4 <= n && p[off] == 0xFF) {
		if (p[off + 1] == m)
			return off;
		if (p[off + 1] == 0xDA)
			return 0;
		off += 2 + ((size_t)p[off + 2] << 8 | p[off + 3]);
	}
	return 0;
}

/* Copies the frame without any DHT segment into out (n bytes suffice); returns the new size and,
 * in dht (FC_MJPEG_DHT_SIZE bytes, may be NULL), the removed segments' tables as one segment. */
static size_t strip_dht(const uint8_t *p, size_t n, uint8_t *out, uint8_t *dht, size_t *dht_len)
{
	size_t off = 2;
	size_t o = 2;
	size_t d = 4;

	memcpy(out, p, 2);
	for (;;) {
		size_t len;

		assert_true(off + 4 <= n);
		assert_int_equal(p[off], 0xFF);
		if (p[off + 1] == 0xDA)
			break;
		len = (size_t)p[off + 2] << 8 | p[off + 3];
		if (p[off + 1] == 0xC4) {
			if (dht) {
				assert_true(d + len - 2 <= FC_MJPEG_DHT_SIZE);
				memcpy(dht + d, p + off + 4, len - 2);
			}
			d += len - 2;
		} else {
			memcpy(out + o, p + off, 2 + len);
			o += 2 + len;
		}
		off += 2 + len;
	}
	memcpy(out + o, p + off, n - off);
	if (dht) {
		dht[0] = 0xFF;
		dht[1] = 0xC4;
		dht[2] = (uint8_t)((d - 2) >> 8);
		dht[3] = (uint8_t)(d - 2);
	}
	if (dht_len)
		*dht_len = d;
	return o + n - off;
}

/* A synthetic, structurally valid frame of exactly n bytes (n >= 20): SOI, a COM segment of
 * filler, SOS, two bytes of scan, EOI. */
static uint8_t *make_tiny(size_t n)
{
	static const uint8_t sos[] = { 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00 };
	uint8_t *p = malloc(n);
	size_t com = n - 2 - sizeof(sos) - 4; /* the COM segment with its marker */

	assert_non_null(p);
	memset(p, 'x', n);
	p[0] = 0xFF;
	p[1] = 0xD8;
	p[2] = 0xFF;
	p[3] = 0xFE;
	p[4] = (uint8_t)((com - 2) >> 8);
	p[5] = (uint8_t)(com - 2);
	memcpy(p + 2 + com, sos, sizeof(sos));
	p[n - 4] = 0x12;
	p[n - 3] = 0x34;
	p[n - 2] = 0xFF;
	p[n - 1] = 0xD9;
	return p;
}

static const int subsamps[] = { TJSAMP_422, TJSAMP_420 };

/* TurboJPEG's own frames, 4:2:2 and 4:2:0, pass the check whole. */
static void test_check_accepts_turbojpeg(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(subsamps) / sizeof(subsamps[0]); i++) {
		struct jpeg j = make_jpeg(subsamps[i]);
		const char *why = NULL;

		assert_true(j.size > FC_MJPEG_MIN_SIZE);
		assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), j.size);
		free(j.data);
	}
}

/* Zero padding after EOI is accepted and left out of the returned size. */
static void test_check_padding(void **state)
{
	static const size_t pads[] = { 1, 2, 7, 1000, 4096 };
	struct jpeg j = make_jpeg(TJSAMP_422);

	(void)state;
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		uint8_t *buf = calloc(j.size + pads[i], 1);
		const char *why = NULL;

		assert_non_null(buf);
		memcpy(buf, j.data, j.size);
		assert_int_equal(fc_mjpeg_check(buf, j.size + pads[i], &why), j.size);
		free(buf);
	}
	free(j.data);
}

/* A frame cut short has no EOI and is refused: the last 100 bytes gone, and every other prefix. */
static void test_check_cut_short(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_420);
	const char *why = NULL;

	(void)state;
	assert_int_equal(fc_mjpeg_check(j.data, j.size - 100, &why), 0);
	assert_contains(why, "no end-of-image marker");
	for (size_t n = FC_MJPEG_MIN_SIZE; n < j.size; n++) {
		uint8_t *cut = malloc(n); /* exact size: ASan sees any read past the prefix */

		assert_non_null(cut);
		memcpy(cut, j.data, n);
		why = NULL;
		assert_int_equal(fc_mjpeg_check(cut, n, &why), 0);
		assert_non_null(why);
		free(cut);
	}
	/* Cut short and then padded by the driver: still no EOI. */
	memset(j.data + j.size - 100, 0, 100);
	why = NULL;
	assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
	assert_contains(why, "no end-of-image marker");
	free(j.data);
}

/* A frame that does not start with SOI is refused. */
static void test_check_no_soi(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	const char *why = NULL;

	(void)state;
	j.data[1] = 0xD9;
	assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
	assert_contains(why, "no start-of-image marker");
	j.data[1] = 0xD8;
	j.data[0] = 0x00;
	why = NULL;
	assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
	assert_contains(why, "no start-of-image marker");
	free(j.data);
}

/* FC_MJPEG_MIN_SIZE is the boundary: a good frame of that size passes, one byte less is refused. */
static void test_check_min_size(void **state)
{
	uint8_t *ok = make_tiny(FC_MJPEG_MIN_SIZE);
	uint8_t *small = make_tiny(FC_MJPEG_MIN_SIZE - 1);
	const char *why = NULL;

	(void)state;
	assert_int_equal(fc_mjpeg_check(ok, FC_MJPEG_MIN_SIZE, &why), FC_MJPEG_MIN_SIZE);
	assert_int_equal(fc_mjpeg_check(small, FC_MJPEG_MIN_SIZE - 1, &why), 0);
	assert_contains(why, "frame too short");
	why = NULL;
	assert_int_equal(fc_mjpeg_check(ok, 0, &why), 0);
	assert_contains(why, "frame too short");
	/* Too short once the driver's padding is left out: refused all the same. */
	{
		uint8_t *padded = calloc(2 * FC_MJPEG_MIN_SIZE, 1);

		assert_non_null(padded);
		memcpy(padded, small, FC_MJPEG_MIN_SIZE - 1);
		why = NULL;
		assert_int_equal(fc_mjpeg_check(padded, 2 * FC_MJPEG_MIN_SIZE, &why), 0);
		assert_non_null(why);
		free(padded);
	}
	free(ok);
	free(small);
}

/* A corrupted segment length before the scan (too long, too short, off by one) is refused. */
static void test_check_bad_segment_length(void **state)
{
	static const int deltas[] = { +1, -1, +0x4000 };
	struct jpeg j = make_jpeg(TJSAMP_422);
	size_t dqt = find_segment(j.data, j.size, 0xDB);
	unsigned len;

	(void)state;
	assert_true(dqt > 0);
	len = (unsigned)j.data[dqt + 2] << 8 | j.data[dqt + 3];
	for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		const char *why = NULL;
		unsigned bad = (unsigned)((int)len + deltas[i]);

		j.data[dqt + 2] = (uint8_t)(bad >> 8);
		j.data[dqt + 3] = (uint8_t)bad;
		assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
		assert_contains(why, "malformed segments before the scan");
	}
	/* Lengths below 2 cannot even cover themselves. */
	for (unsigned bad = 0; bad < 2; bad++) {
		const char *why = NULL;

		j.data[dqt + 2] = 0;
		j.data[dqt + 3] = (uint8_t)bad;
		assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
		assert_contains(why, "malformed segments before the scan");
	}
	/* Past the end of the frame. */
	j.data[dqt + 2] = 0xFF;
	j.data[dqt + 3] = 0xFF;
	{
		const char *why = NULL;

		assert_int_equal(fc_mjpeg_check(j.data, j.size, &why), 0);
		assert_contains(why, "malformed segments before the scan");
	}
	free(j.data);
}

/* Fill bytes before a marker (legal, T.81 B.1.1.2) pass the check and survive the DHT repair. */
static void test_fill_bytes(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_420);
	uint8_t *stripped = malloc(j.size);
	size_t ns = strip_dht(j.data, j.size, stripped, NULL, NULL);
	size_t sof = find_segment(stripped, ns, 0xC0);
	size_t dqt = find_segment(stripped, ns, 0xDB);
	uint8_t *filled = malloc(ns + 3);
	uint8_t *fixed = malloc(ns + 3 + FC_MJPEG_DHT_SIZE);
	uint8_t *want = NULL;
	uint8_t *got = NULL;
	const char *why = NULL;
	size_t nf;

	(void)state;
	assert_non_null(stripped);
	assert_non_null(filled);
	assert_non_null(fixed);
	assert_true(dqt > 0 && sof > dqt);
	/* One fill byte before DQT, two before SOF. */
	memcpy(filled, stripped, dqt);
	filled[dqt] = 0xFF;
	memcpy(filled + dqt + 1, stripped + dqt, sof - dqt);
	filled[sof + 1] = 0xFF;
	filled[sof + 2] = 0xFF;
	memcpy(filled + sof + 3, stripped + sof, ns - sof);
	assert_int_equal(fc_mjpeg_check(filled, ns + 3, &why), ns + 3);
	assert_false(fc_mjpeg_has_dht(filled, ns + 3));
	nf = fc_mjpeg_insert_dht(filled, ns + 3, fixed, ns + 3 + FC_MJPEG_DHT_SIZE);
	assert_int_equal(nf, ns + 3 + FC_MJPEG_DHT_SIZE);
	assert_true(fc_mjpeg_has_dht(fixed, nf));
	assert_int_equal(decode(j.data, j.size, &want), 0);
	assert_int_equal(decode(fixed, nf, &got), 0);
	assert_memory_equal(got, want, (size_t)W * H * 3);
	free(got);
	free(want);
	free(fixed);
	free(filled);
	free(stripped);
	free(j.data);
}

/* TurboJPEG writes its Huffman tables: has_dht says so, for 4:2:2 and 4:2:0. */
static void test_has_dht_turbojpeg(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(subsamps) / sizeof(subsamps[0]); i++) {
		struct jpeg j = make_jpeg(subsamps[i]);

		assert_true(fc_mjpeg_has_dht(j.data, j.size));
		free(j.data);
	}
}

/* DHT stripped: has_dht false; insert_dht puts back TurboJPEG's exact tables and its pixels. */
static void test_strip_and_insert(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(subsamps) / sizeof(subsamps[0]); i++) {
		struct jpeg j = make_jpeg(subsamps[i]);
		uint8_t *stripped = malloc(j.size);
		uint8_t *fixed;
		uint8_t tables[FC_MJPEG_DHT_SIZE];
		uint8_t *want = NULL;
		uint8_t *got = NULL;
		size_t dht_len = 0;
		size_t ns;
		size_t nf;
		size_t sof;
		const char *why = NULL;

		assert_non_null(stripped);
		ns = strip_dht(j.data, j.size, stripped, tables, &dht_len);
		assert_int_equal(dht_len, FC_MJPEG_DHT_SIZE);
		assert_int_equal(ns, j.size - (4 * 4 + FC_MJPEG_DHT_SIZE - 4)); /* 4 segments */
		assert_int_equal(find_segment(stripped, ns, 0xC4), 0);
		assert_int_equal(fc_mjpeg_check(stripped, ns, &why), ns);
		assert_false(fc_mjpeg_has_dht(stripped, ns));

		assert_int_equal(decode(j.data, j.size, &want), 0);
		/* What TurboJPEG 2.1.5 does with the stripped frame: it decodes, to the very same
		 * pixels, because libjpeg-turbo itself loads the Annex K tables for a scan whose
		 * tables were never defined (jinit_huff_decoder -> std_huff_tables). So decoding alone
		 * would not tell right inserted tables from none; the byte comparison below does. */
		assert_int_equal(decode(stripped, ns, &got), 0);
		assert_memory_equal(got, want, (size_t)W * H * 3);
		free(got);

		fixed = malloc(ns + FC_MJPEG_DHT_SIZE); /* exactly the documented capacity */
		assert_non_null(fixed);
		nf = fc_mjpeg_insert_dht(stripped, ns, fixed, ns + FC_MJPEG_DHT_SIZE);
		assert_int_equal(nf, ns + FC_MJPEG_DHT_SIZE);
		assert_true(fc_mjpeg_has_dht(fixed, nf));
		assert_int_equal(fc_mjpeg_check(fixed, nf, &why), nf);

		/* Placed before the frame header, everything else copied around it. */
		sof = find_segment(stripped, ns, 0xC0);
		assert_true(sof > 0);
		assert_memory_equal(fixed, stripped, sof);
		assert_memory_equal(fixed + sof, tables, FC_MJPEG_DHT_SIZE);
		assert_memory_equal(fixed + sof + FC_MJPEG_DHT_SIZE, stripped + sof, ns - sof);

		assert_int_equal(decode(fixed, nf, &got), 0);
		assert_memory_equal(got, want, (size_t)W * H * 3);
		free(got);
		free(want);
		free(fixed);
		free(stripped);
		free(j.data);
	}
}

/* With cap one byte short of what is needed, insert_dht returns 0 and writes nothing past cap. */
static void test_insert_cap_too_small(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	uint8_t *stripped = malloc(j.size);
	size_t ns = strip_dht(j.data, j.size, stripped, NULL, NULL);
	size_t need = ns + FC_MJPEG_DHT_SIZE;
	uint8_t *out = malloc(need + 64);

	(void)state;
	assert_non_null(stripped);
	assert_non_null(out);
	for (size_t cap = need - 1; cap + 1 > 0 && cap + 512 >= need; cap--) {
		memset(out, 0xA5, need + 64);
		assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, cap), 0);
		for (size_t k = cap; k < need + 64; k++)
			assert_int_equal(out[k], 0xA5);
	}
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, 0), 0);
	/* And exactly enough works. */
	memset(out, 0xA5, need + 64);
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, need), need);
	for (size_t k = need; k < need + 64; k++)
		assert_int_equal(out[k], 0xA5);
	free(out);
	free(stripped);
	free(j.data);
}

/* Malformed frames (bad segment length, no SOF/SOS, cut inside the headers) get no tables: 0. */
static void test_insert_malformed(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_420);
	uint8_t *stripped = malloc(j.size);
	size_t ns = strip_dht(j.data, j.size, stripped, NULL, NULL);
	uint8_t *out = malloc(ns + FC_MJPEG_DHT_SIZE);
	size_t cap = ns + FC_MJPEG_DHT_SIZE;
	size_t dqt = find_segment(stripped, ns, 0xDB);
	size_t sof = find_segment(stripped, ns, 0xC0);
	static const uint8_t no_frame[] = {
		0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, 'h', 'i', 0xFF, 0xD9
	};
	uint8_t save[2];

	(void)state;
	assert_non_null(stripped);
	assert_non_null(out);
	assert_true(dqt > 0 && sof > dqt);

	memcpy(save, stripped + dqt + 2, 2);
	stripped[dqt + 2] = 0xFF; /* past the end */
	stripped[dqt + 3] = 0xF0;
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, cap), 0);
	stripped[dqt + 2] = 0;
	stripped[dqt + 3] = 1; /* shorter than its own length field */
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, cap), 0);
	stripped[dqt + 3] = (uint8_t)(save[1] + 1); /* lands one byte into the next segment */
	stripped[dqt + 2] = save[0];
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, cap), 0);
	memcpy(stripped + dqt + 2, save, 2);

	/* Cut short before the frame header is reached. */
	assert_int_equal(fc_mjpeg_insert_dht(stripped, sof, out, cap), 0);
	assert_int_equal(fc_mjpeg_insert_dht(stripped, sof + 3, out, cap), 0);
	assert_int_equal(fc_mjpeg_insert_dht(no_frame, sizeof(no_frame), out, cap), 0);
	assert_int_equal(fc_mjpeg_insert_dht(stripped, 2, out, cap), 0);
	assert_int_equal(fc_mjpeg_insert_dht(stripped, 0, out, cap), 0);

	/* Sanity: the repaired original still works with this buffer. */
	assert_int_equal(fc_mjpeg_insert_dht(stripped, ns, out, cap), cap);
	free(out);
	free(stripped);
	free(j.data);
}

/* insert_dht promises 0 for a malformed frame: one that does not start with SOI is one. */
static void test_insert_no_soi(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	uint8_t *stripped = malloc(j.size);
	size_t ns = strip_dht(j.data, j.size, stripped, NULL, NULL);
	uint8_t *out = malloc(ns + FC_MJPEG_DHT_SIZE);
	size_t got;

	(void)state;
	assert_non_null(stripped);
	assert_non_null(out);
	stripped[0] = 0x00;
	stripped[1] = 0x00;
	got = fc_mjpeg_insert_dht(stripped, ns, out, ns + FC_MJPEG_DHT_SIZE);
	free(out);
	free(stripped);
	free(j.data);
	assert_int_equal(got, 0);
}

/* Rewrites the size in a frame's SOF header (what a broken or hostile camera may claim). */
static void set_sof_size(struct jpeg *j, int w, int h)
{
	size_t at = find_segment(j->data, j->size, 0xC0);

	assert_true(at > 0);
	j->data[at + 5] = (uint8_t)(h >> 8);
	j->data[at + 6] = (uint8_t)h;
	j->data[at + 7] = (uint8_t)(w >> 8);
	j->data[at + 8] = (uint8_t)w;
}

/* A good frame passes the whole verdict with the size its own header declares. */
static void test_judge_good_frame(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	char why[160] = "";
	int w = 0, h = 0;

	(void)state;
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384, 1 << 24, &w, &h, why,
					sizeof(why)),
			 j.size);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	free(j.data);
}

/* A header claiming 64k x 64k, or one pixel over the side limit, is refused and the reason gives
 * the claimed size and the limit (the sender logs it). At the limit it passes. */
static void test_judge_oversized_header(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	char why[160];
	int w, h;

	(void)state;
	set_sof_size(&j, 65535, 65535);
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384, 1 << 24, &w, &h, why,
					sizeof(why)),
			 0);
	assert_string_equal(why, "header claims 65535x65535 pixels, over 16384 a side");
	set_sof_size(&j, 640, 16385);
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384, 1 << 24, &w, &h, why,
					sizeof(why)),
			 0);
	assert_non_null(strstr(why, "640x16385"));
	set_sof_size(&j, 16384, 16384);
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384, 1 << 24, &w, &h, why,
					sizeof(why)),
			 j.size);
	/* Within the sides but over the viewers' pixel cap (8K UHD): refused too, not sent to
	 * viewers that would each drop it as corrupt. */
	set_sof_size(&j, 7681, 4320);
	assert_int_equal(
	    fc_mjpeg_judge(j.data, j.size, 16384, 7680L * 4320, 1 << 24, &w, &h, why, sizeof(why)),
	    0);
	assert_string_equal(why, "header claims 7681x4320 pixels, over 33177600 in all");
	free(j.data);
}

/* A header of height 0 (the DNL convention, which nothing here supports) is no size at all. */
static void test_judge_zero_height(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_420);
	char why[160];
	int w, h;

	(void)state;
	set_sof_size(&j, W, 0);
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384, 1 << 24, &w, &h, why,
					sizeof(why)),
			 0);
	assert_string_equal(why, "no frame header (SOF) with a picture size");
	free(j.data);
}

/* The framing's own reason comes through with the frame's size; and a frame that would not fit
 * the protocol once its Huffman tables are added is refused before any copy. */
static void test_judge_framing_and_size(void **state)
{
	struct jpeg j = make_jpeg(TJSAMP_422);
	char why[160], want[160];
	int w, h;

	(void)state;
	assert_int_equal(fc_mjpeg_judge(j.data, j.size - 2, 16384, 16384L * 16384, 1 << 24, &w, &h,
					why, sizeof(why)),
			 0);
	snprintf(want, sizeof(want), "no end-of-image marker (frame cut short) (%zu bytes)",
		 j.size - 2);
	assert_string_equal(why, want);
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384,
					j.size + FC_MJPEG_DHT_SIZE - 1, &w, &h, why, sizeof(why)),
			 0);
	assert_non_null(strstr(why, "over the limit"));
	assert_int_equal(fc_mjpeg_judge(j.data, j.size, 16384, 16384L * 16384,
					j.size + FC_MJPEG_DHT_SIZE, &w, &h, why, sizeof(why)),
			 j.size);
	free(j.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_turbojpeg),
		cmocka_unit_test(test_check_padding),
		cmocka_unit_test(test_check_cut_short),
		cmocka_unit_test(test_check_no_soi),
		cmocka_unit_test(test_check_min_size),
		cmocka_unit_test(test_check_bad_segment_length),
		cmocka_unit_test(test_fill_bytes),
		cmocka_unit_test(test_has_dht_turbojpeg),
		cmocka_unit_test(test_strip_and_insert),
		cmocka_unit_test(test_insert_cap_too_small),
		cmocka_unit_test(test_insert_malformed),
		cmocka_unit_test(test_insert_no_soi),
		cmocka_unit_test(test_judge_good_frame),
		cmocka_unit_test(test_judge_oversized_header),
		cmocka_unit_test(test_judge_zero_height),
		cmocka_unit_test(test_judge_framing_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
