/*
 * Fuzz target for the JPEG decoded while it arrives (viewer/show/partdec.c): any bytes a sender
 * may put in a frame's parts, cut into pieces in several ways, never a crash, a read past a
 * piece (each is fed from an allocation of exactly its size), a leak, or a picture other than
 * the whole-frame decoder's (viewer/show/decoder.c):
 *   - the input fed in pieces of 1 byte (inputs up to 4 KB), of 13 bytes, of sizes drawn from
 *     the input's own bytes, and whole: the whole-frame decoder and the partial one agree on
 *     whether it is a picture, and when it is, on every byte of its planes;
 *   - the input cut off halfway and aborted, then cut off and finished (refused, unless the
 *     picture was whole by then): afterwards a frame of its own still decodes to its picture.
 * One handle serves the whole process, as in the viewer, and decodes its own frame (progressive,
 * quality 30: tables unlike most) before each input, as the frame before.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/partdec as an
 * ordinary ctest case otherwise (replay.c). The seeds are decoder's: any bytes of a JPEG.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "decoder.h"
#include "ownjpeg.h"
#include "partdec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fc_decoder *dec;
static struct fc_partdec *part;
static uint8_t *own; /* the frame before each input: 16x16 4:2:0, made at start */
static unsigned long own_size;
static uint8_t own_y[16 * 16]; /* its luma, as the whole-frame decoder gives it */

static void setup(void)
{
	char err[256];
	struct fc_picture pic;

	dec = fc_decoder_new(err, sizeof(err));
	part = fc_partdec_new(err, sizeof(err));
	if (!dec || !part)
		abort();
	fc_fuzz_own_jpeg(&own, &own_size);
	if (fc_decoder_decode(dec, own, own_size, 16, 16, &pic) != 0)
		abort();
	memcpy(own_y, pic.plane[0], sizeof(own_y));
}

/* Feeds data[from, to) in pieces, each from an allocation of exactly its size; a piece's size
 * is `piece`, or drawn from the data when piece is 0. The last feed's answer. */
static int feed(const uint8_t *data, size_t from, size_t to, size_t piece)
{
	int rc = 0;

	for (size_t at = from; at < to && rc == 0;) {
		size_t n = piece ? piece : 1 + (size_t)data[at] * (size_t)data[at] % 2000;
		uint8_t *copy;

		if (n > to - at)
			n = to - at;
		copy = malloc(n);
		if (!copy)
			abort();
		memcpy(copy, data + at, n);
		rc = fc_partdec_feed(part, copy, n);
		free(copy);
		at += n;
	}
	return rc;
}

/* The own frame, fed in pieces of 7: its picture, exactly. */
static void own_frame(void)
{
	struct fc_picture pic;

	if (fc_partdec_begin(part, 16, 16) != 0 || feed(own, 0, own_size, 7) != 0 ||
	    fc_partdec_finish(part, &pic) != 0 || memcmp(pic.plane[0], own_y, sizeof(own_y)))
		abort();
}

static void same_planes(const struct fc_picture *a, const struct fc_picture *b)
{
	if (a->width != b->width || a->height != b->height || a->subsamp != b->subsamp ||
	    a->chroma_width != b->chroma_width || a->chroma_height != b->chroma_height)
		abort();
	for (int i = 0; i < 3; i++) {
		int ph = i ? a->chroma_height : a->height;

		if (a->stride[i] != b->stride[i] || !a->plane[i] != !b->plane[i])
			abort();
		if (a->plane[i] &&
		    memcmp(a->plane[i], b->plane[i], (size_t)a->stride[i] * (size_t)ph) != 0) {
			fprintf(stderr, "plane %d differs from the whole-frame decode\n", i);
			abort();
		}
	}
}

/* Fed in pieces of `piece`: the same answer as the whole-frame decoder's, and its picture. */
static void pieces(const uint8_t *data, size_t size, size_t piece, int whole_rc,
		   const struct fc_picture *whole)
{
	struct fc_picture pic;
	int rc = -1;

	if (fc_partdec_begin(part, 0, 0) != 0)
		abort();
	if (feed(data, 0, size, piece) == 0)
		rc = fc_partdec_finish(part, &pic);
	else if (fc_partdec_finish(part, &pic) != -1)
		abort();
	if (rc != 0 && !fc_partdec_error(part)[0])
		abort();
	if (rc != whole_rc) {
		fprintf(stderr, "pieces of %zu: %s\nwhole: %s\n", piece,
			rc ? fc_partdec_error(part) : "decoded",
			whole_rc ? fc_decoder_error(dec) : "decoded");
		abort();
	}
	if (rc == 0)
		same_planes(&pic, whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_picture whole, pic;
	int whole_rc;

	if (!dec)
		setup();
	own_frame();
	whole_rc = fc_decoder_decode(dec, data, size, 0, 0, &whole);
	if (size <= 4096)
		pieces(data, size, 1, whole_rc, &whole);
	pieces(data, size, 13, whole_rc, &whole);
	pieces(data, size, 0, whole_rc, &whole);
	pieces(data, size, size ? size : 1, whole_rc, &whole);

	/* Cut off halfway: aborted, or finished and refused (unless already whole). */
	if (fc_partdec_begin(part, 0, 0) != 0)
		abort();
	feed(data, 0, size / 2, 13);
	fc_partdec_abort(part);
	own_frame();
	if (fc_partdec_begin(part, 0, 0) != 0)
		abort();
	if (feed(data, 0, size / 2, 0) == 0 && fc_partdec_finish(part, &pic) == 0 && whole_rc != 0)
		abort();
	own_frame();
	return 0;
}
