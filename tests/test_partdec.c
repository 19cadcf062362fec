/*
 * Tests of viewer/show/partdec.c, the JPEG decoded while it arrives. What they prove: a frame fed
 * in pieces of every size from 1 byte up gives exactly the planes decoder.c makes of the whole
 * frame (4:2:0, 4:2:2, 4:4:4, grey, sizes that are not whole MCUs, restart markers as
 * freshcam-send's banded JPEGs have them, progressive); it decodes as far as the bytes allow and
 * keeps only what it has not consumed; a frame cut off anywhere is refused at finish or dropped
 * by abort, and the handle then decodes the next frame right; corrupt bytes are refused with a
 * reason. Each piece is fed from an allocation of exactly its size, so a read past the bytes is
 * a fault under ASan or valgrind (tools/check runs both), as is a leak of an aborted frame.
 * Test JPEGs are made here with TurboJPEG (TJ_RESTART asks it for restart markers).
 */
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

#include "decoder.h"
#include "partdec.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

struct jpeg {
	uint8_t *data;
	size_t size;
	int w, h;
};

/* A picture with detail everywhere (edges, a gradient, noise) so that every MCU has bits. */
static struct jpeg make_jpeg(int w, int h, int samp, int flags, int restart_rows)
{
	struct jpeg j = { .w = w, .h = h };
	uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
	unsigned char *out = NULL;
	unsigned long len = 0;
	uint32_t seed = 12345;
	tjhandle tj;
	char rows[16];

	assert_non_null(rgb);
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
		int x = (int)(i % (size_t)w), y = (int)(i / (size_t)w);

		seed = seed * 1103515245u + 12345u;
		rgb[i * 3] = (uint8_t)(x * 255 / w ^ ((x / 8 + y / 8) % 2 ? 0x40 : 0));
		rgb[i * 3 + 1] = (uint8_t)(y * 255 / h + (seed >> 28));
		rgb[i * 3 + 2] = (uint8_t)((x + y) * 3);
	}
	/* TurboJPEG reads TJ_RESTART when it makes a compressor's settings: rows of MCUs. */
	snprintf(rows, sizeof(rows), "%d", restart_rows);
	if (restart_rows)
		setenv("TJ_RESTART", rows, 1);
	tj = tjInitCompress();
	assert_non_null(tj);
	if (tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &out, &len, samp, 85, flags) != 0)
		fail_msg("tjCompress2: %s", tjGetErrorStr2(tj));
	unsetenv("TJ_RESTART");
	j.data = malloc(len);
	assert_non_null(j.data);
	memcpy(j.data, out, len);
	j.size = len;
	tjFree(out);
	tjDestroy(tj);
	free(rgb);
	return j;
}

/* Whether j holds a marker from..to (0xd0..0xd7: restart markers; 0xc9: arithmetic SOF). */
static bool has_marker(const struct jpeg *j, uint8_t from, uint8_t to)
{
	for (size_t i = 0; i + 1 < j->size; i++) {
		if (j->data[i] == 0xff && j->data[i + 1] >= from && j->data[i + 1] <= to)
			return true;
	}
	return false;
}

/* The whole-frame decode, copied out of decoder.c's handle. */
struct planes {
	struct fc_picture pic;
	uint8_t *buf[3];
	size_t len[3];
};

static size_t plane_len(const struct fc_picture *pic, int i)
{
	int ph = i ? pic->chroma_height : pic->height;

	return pic->plane[i] ? (size_t)pic->stride[i] * (size_t)ph : 0;
}

static struct planes whole_decode(const struct jpeg *j)
{
	char err[256];
	struct fc_decoder *d = fc_decoder_new(err, sizeof(err));
	struct planes p;

	memset(&p, 0, sizeof(p));
	assert_non_null(d);
	if (fc_decoder_decode(d, j->data, j->size, j->w, j->h, &p.pic) != 0)
		fail_msg("whole decode: %s", fc_decoder_error(d));
	for (int i = 0; i < 3; i++) {
		p.len[i] = plane_len(&p.pic, i);
		if (!p.len[i])
			continue;
		p.buf[i] = malloc(p.len[i]);
		assert_non_null(p.buf[i]);
		memcpy(p.buf[i], p.pic.plane[i], p.len[i]);
	}
	fc_decoder_free(d);
	return p;
}

static void free_planes(struct planes *p)
{
	for (int i = 0; i < 3; i++)
		free(p->buf[i]);
}

static struct fc_partdec *new_partdec(void)
{
	char err[256] = "";
	struct fc_partdec *p = fc_partdec_new(err, sizeof(err));

	if (!p)
		fail_msg("fc_partdec_new: %s", err);
	return p;
}

/* Feeds data[from, to) in pieces of `piece` bytes, each from an allocation of exactly its
 * size. Returns what the last feed returned. */
static int feed_pieces(struct fc_partdec *p, const uint8_t *data, size_t from, size_t to,
		       size_t piece)
{
	int rc = 0;

	for (size_t at = from; at < to && rc == 0; at += piece) {
		size_t n = to - at < piece ? to - at : piece;
		uint8_t *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, data + at, n);
		rc = fc_partdec_feed(p, copy, n);
		free(copy);
		/* What it keeps is what libjpeg has not consumed: never more than this piece and
		 * the unfinished MCU or marker segment before it. */
		if (rc == 0)
			assert_true(fc_partdec_held(p) <= n + 4096);
	}
	return rc;
}

/* The planes of j fed in pieces of `piece` bytes are exactly the whole decode's. */
static void check_pieces(struct fc_partdec *p, const struct jpeg *j, const struct planes *want,
			 size_t piece)
{
	struct fc_picture pic;

	assert_int_equal(fc_partdec_begin(p, j->w, j->h), 0);
	if (feed_pieces(p, j->data, 0, j->size, piece) != 0)
		fail_msg("%dx%d in pieces of %zu: %s", j->w, j->h, piece, fc_partdec_error(p));
	if (fc_partdec_finish(p, &pic) != 0)
		fail_msg("%dx%d in pieces of %zu: %s", j->w, j->h, piece, fc_partdec_error(p));
	assert_int_equal(pic.width, want->pic.width);
	assert_int_equal(pic.height, want->pic.height);
	assert_int_equal(pic.subsamp, want->pic.subsamp);
	assert_int_equal(pic.chroma_width, want->pic.chroma_width);
	assert_int_equal(pic.chroma_height, want->pic.chroma_height);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pic.stride[i], want->pic.stride[i]);
		assert_int_equal(plane_len(&pic, i), want->len[i]);
		if (want->len[i] && memcmp(pic.plane[i], want->buf[i], want->len[i]) != 0)
			fail_msg("%dx%d in pieces of %zu: plane %d differs from the whole decode",
				 j->w, j->h, piece, i);
	}
}

/* Every piece size from 1 byte to the whole frame, on one handle. */
static void every_size(int w, int h, int samp, int flags, int restart_rows)
{
	struct jpeg j = make_jpeg(w, h, samp, flags, restart_rows);
	struct planes want = whole_decode(&j);
	struct fc_partdec *p = new_partdec();

	if (restart_rows)
		assert_true(has_marker(&j, 0xd0, 0xd7));
	if (getenv("TJ_ARITHMETIC"))
		assert_true(has_marker(&j, 0xc9, 0xc9));
	for (size_t piece = 1; piece <= j.size; piece++)
		check_pieces(p, &j, &want, piece);
	fc_partdec_free(p);
	free_planes(&want);
	free(j.data);
}

/* Small frames, every piece size: the layouts the viewer shows, sizes not whole MCUs. */
static void test_every_piece_size_420(void **state)
{
	(void)state;
	every_size(64, 48, TJSAMP_420, 0, 0);
	every_size(50, 38, TJSAMP_420, 0, 0);
}

static void test_every_piece_size_422(void **state)
{
	(void)state;
	every_size(64, 48, TJSAMP_422, 0, 0);
	every_size(41, 23, TJSAMP_422, 0, 0);
}

static void test_every_piece_size_444_and_grey(void **state)
{
	(void)state;
	every_size(40, 24, TJSAMP_444, 0, 0);
	every_size(37, 29, TJSAMP_GRAY, 0, 0);
}

/* Restart markers after every MCU row, as freshcam-send's bands end in them; and a
 * progressive frame, which libjpeg reads whole before its first row; an arithmetic-coded one,
 * which it cannot suspend in, kept whole and decoded at finish. */
static void test_every_piece_size_restart_and_progressive(void **state)
{
	(void)state;
	every_size(64, 64, TJSAMP_420, 0, 1);
	every_size(50, 40, TJSAMP_422, 0, 1);
	every_size(48, 32, TJSAMP_420, TJFLAG_PROGRESSIVE, 0);
	/* TurboJPEG 2.1 has no flag for it, only this variable. */
	setenv("TJ_ARITHMETIC", "1", 1);
	every_size(32, 24, TJSAMP_420, 0, 0);
	unsetenv("TJ_ARITHMETIC");
}

/* The sizes freshcam streams, in sampled piece sizes (a network read's worth and odd ones). */
static void test_large_frames_sampled_sizes(void **state)
{
	static const size_t pieces[] = { 1, 7, 333, 1448, 16384, 65536, (size_t)1 << 24 };
	static const int sizes[][3] = { { 1280, 720, 0 }, { 1920, 1080, 2 } };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct jpeg j = make_jpeg(sizes[s][0], sizes[s][1], TJSAMP_420, 0, sizes[s][2]);
		struct planes want = whole_decode(&j);
		struct fc_partdec *p = new_partdec();

		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
			check_pieces(p, &j, &want, pieces[i]);
		fc_partdec_free(p);
		free_planes(&want);
		free(j.data);
	}
}

/* It decodes as the bytes come: with half the bytes in, some rows are done, and with all but
 * the final EOI marker, all but the last strip's. */
static void test_decodes_as_bytes_come(void **state)
{
	struct jpeg j = make_jpeg(320, 240, TJSAMP_420, 0, 0);
	struct fc_partdec *p = new_partdec();
	struct fc_picture pic;

	(void)state;
	assert_int_equal(fc_partdec_begin(p, 320, 240), 0);
	assert_int_equal(fc_partdec_rows(p), 0);
	assert_int_equal(feed_pieces(p, j.data, 0, j.size / 2, 1000), 0);
	assert_true(fc_partdec_rows(p) > 0);
	assert_true(fc_partdec_rows(p) < 240);
	/* The last MCU waits for the EOI (libjpeg reads ahead a few bytes for its bits), so its
	 * strip is the one left; the rows above are all done. */
	assert_int_equal(feed_pieces(p, j.data, j.size / 2, j.size - 2, 1000), 0);
	assert_true(fc_partdec_rows(p) >= 240 - 16);
	assert_int_equal(feed_pieces(p, j.data, j.size - 2, j.size, 1000), 0);
	assert_int_equal(fc_partdec_finish(p, &pic), 0);
	fc_partdec_free(p);
	free(j.data);
}

/* A frame cut off at every byte: finish refuses it with a reason, or abort drops it; either
 * way nothing leaks and the next frame on the same handle decodes exactly. */
static void test_cut_off_anywhere(void **state)
{
	struct jpeg j = make_jpeg(48, 32, TJSAMP_420, 0, 1);
	struct planes want = whole_decode(&j);
	struct fc_partdec *p = new_partdec();
	struct fc_picture pic;

	(void)state;
	for (size_t cut = 0; cut < j.size; cut++) {
		assert_int_equal(fc_partdec_begin(p, 48, 32), 0);
		assert_int_equal(feed_pieces(p, j.data, 0, cut, 5), 0);
		if (cut % 2) {
			fc_partdec_abort(p);
			assert_int_equal(fc_partdec_held(p), 0);
		} else {
			assert_int_equal(fc_partdec_finish(p, &pic), -1);
			assert_contains(fc_partdec_error(p), "before its picture was whole");
		}
		check_pieces(p, &j, &want, 9);
	}
	/* A frame begun over one under way drops the first. */
	assert_int_equal(fc_partdec_begin(p, 48, 32), 0);
	assert_int_equal(feed_pieces(p, j.data, 0, j.size / 2, 64), 0);
	check_pieces(p, &j, &want, 64);
	fc_partdec_free(p);
	free_planes(&want);
	free(j.data);
}

/* Fed whole, then refused: the reason, and the same reason for any later feed or finish. */
static void feed_bad(const uint8_t *data, size_t size, int ew, int eh, const char *why)
{
	struct fc_partdec *p = new_partdec();
	struct fc_picture pic;
	int rc;

	assert_int_equal(fc_partdec_begin(p, ew, eh), 0);
	rc = feed_pieces(p, data, 0, size, 100);
	if (rc == 0 && fc_partdec_finish(p, &pic) == 0)
		fail_msg("%zu bad bytes decoded as %dx%d", size, pic.width, pic.height);
	assert_contains(fc_partdec_error(p), why);
	if (rc != 0) {
		assert_int_equal(fc_partdec_feed(p, data, 1), -1);
		assert_contains(fc_partdec_error(p), why);
		assert_int_equal(fc_partdec_finish(p, &pic), -1);
		assert_contains(fc_partdec_error(p), why);
	}
	fc_partdec_free(p);
}

/* The header's position of the frame's size (SOF0), for damaging it. */
static size_t sof_at(const struct jpeg *j)
{
	for (size_t i = 2; i + 9 < j->size; i++) {
		if (j->data[i] == 0xff && j->data[i + 1] == 0xc0)
			return i;
	}
	fail_msg("no SOF0");
	return 0;
}

static void test_corrupt_refused_with_reason(void **state)
{
	struct jpeg j = make_jpeg(64, 48, TJSAMP_420, 0, 0);
	uint8_t *bad = malloc(j.size);
	static const uint8_t noise[] = "this is not a JPEG at all, not even close to one";
	size_t sof = sof_at(&j);

	(void)state;
	assert_non_null(bad);
	feed_bad(noise, sizeof(noise), 0, 0, "does not decode");
	/* The size its FRAME says, as decoder.c checks it. */
	feed_bad(j.data, j.size, 65, 48, "but its frame says 65x48");
	/* A size past the limits. */
	memcpy(bad, j.data, j.size);
	bad[sof + 5] = 0xff; /* height, high byte */
	bad[sof + 7] = 0xff; /* width, high byte */
	feed_bad(bad, j.size, 0, 0, "JPEG claims");
	/* The picture's data ended by an EOI halfway: a warning, refused as decoder.c does. */
	memcpy(bad, j.data, j.size);
	bad[j.size / 2] = 0xff;
	bad[j.size / 2 + 1] = 0xd9;
	feed_bad(bad, j.size, 64, 48, "does not decode");
	/* An unsupported subsampling: 4:4:0. */
	free(j.data);
	j = make_jpeg(64, 48, TJSAMP_440, 0, 0);
	feed_bad(j.data, j.size, 64, 48, "subsampling");
	/* Bytes fed with no frame begun. */
	{
		struct fc_partdec *p = new_partdec();

		assert_int_equal(fc_partdec_feed(p, j.data, 10), -1);
		assert_contains(fc_partdec_error(p), "no frame begun");
		fc_partdec_free(p);
	}
	free(bad);
	free(j.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_piece_size_420),
		cmocka_unit_test(test_every_piece_size_422),
		cmocka_unit_test(test_every_piece_size_444_and_grey),
		cmocka_unit_test(test_every_piece_size_restart_and_progressive),
		cmocka_unit_test(test_large_frames_sampled_sizes),
		cmocka_unit_test(test_decodes_as_bytes_come),
		cmocka_unit_test(test_cut_off_anywhere),
		cmocka_unit_test(test_corrupt_refused_with_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
