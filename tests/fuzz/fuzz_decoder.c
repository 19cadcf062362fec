/*
 * Fuzz target for the viewer's JPEG decoder (viewer/show/decoder.c): any bytes a sender may put in a
 * FRAME, never a crash, a read or write outside the planes, or an allocation past the pixel cap.
 * One decoder handle serves the whole process, as in the viewer; before each input it decodes
 * a frame of its own (progressive, quality 30: tables unlike most), as the frame before.
 * Each input is decoded
 *   - as a FRAME of unknown size (expect 0x0), and the same by a fresh decoder: the answer, and
 *     the picture to the last byte, must not depend on what the handle decoded before;
 *   - as a FRAME that says the header's own size: the same answer again;
 *   - as a FRAME that says another size: always refused;
 * a picture must have the header's size, within the limits, and planes the decoder really
 * allocated (their last bytes are read); after any failure the own frame still decodes.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/decoder as an
 * ordinary ctest case otherwise (replay.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "decoder.h"
#include "ownjpeg.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fc_decoder *dec;
static uint8_t *own; /* the frame before each input: 16x16 4:2:0, made at start */
static unsigned long own_size;

static void setup(void)
{
	char err[256];

	dec = fc_decoder_new(err, sizeof(err));
	if (!dec)
		abort();
	fc_fuzz_own_jpeg(&own, &own_size);
}

static int tj_samp(enum fc_pic_subsamp s)
{
	switch (s) {
	case FC_PIC_420:
		return TJSAMP_420;
	case FC_PIC_422:
		return TJSAMP_422;
	case FC_PIC_444:
		return TJSAMP_444;
	case FC_PIC_GRAY:
		return TJSAMP_GRAY;
	default:
		abort();
	}
}

/* A picture handed out must be what the header says, and its planes must be all there. */
static void check_picture(const struct fc_picture *pic, int w, int h)
{
	int samp = tj_samp(pic->subsamp);
	int nplanes = samp == TJSAMP_GRAY ? 1 : 3;
	const uint8_t *end = NULL; /* of the previous plane */
	volatile uint8_t sink = 0;

	if (pic->width != w || pic->height != h || w <= 0 || h <= 0 || w > FC_PROTO_MAX_DIM ||
	    h > FC_PROTO_MAX_DIM || (long long)w * h > FC_PROTO_MAX_PIXELS)
		abort();
	for (int i = 0; i < 3; i++) {
		unsigned long n;

		if (i >= nplanes) {
			if (pic->plane[i] || pic->stride[i])
				abort();
			continue;
		}
		n = tjPlaneSizeYUV(i, w, pic->stride[i], h, samp);
		if (!pic->plane[i] || pic->stride[i] < tjPlaneWidth(i, w, samp) || n == 0 ||
		    n == (unsigned long)-1)
			abort();
		if (end && pic->plane[i] < end)
			abort();
		end = pic->plane[i] + n;
		sink ^= pic->plane[i][0];
		sink ^= pic->plane[i][n - 1];
	}
	if (nplanes == 3 && (pic->chroma_width != tjPlaneWidth(1, w, samp) ||
			     pic->chroma_height != tjPlaneHeight(1, h, samp)))
		abort();
	(void)sink;
}

/* The size the JPEG's header claims, read with a handle of its own; 0 when it has none. */
static int header_size(const uint8_t *data, size_t size, int *w, int *h)
{
	tjhandle tj = tjInitDecompress();
	int samp, cs, rc;

	if (!tj)
		abort();
	rc = tjDecompressHeader3(tj, data, (unsigned long)size, w, h, &samp, &cs);
	tjDestroy(tj);
	return rc == 0 && *w > 0 && *h > 0 && *w <= 65535 && *h <= 65535;
}

/* The same answer as a fresh decoder gives: the same error, or the same picture. */
static void check_fresh(const uint8_t *data, size_t size, int rc, const struct fc_picture *pic)
{
	char err[256];
	struct fc_decoder *fresh = fc_decoder_new(err, sizeof(err));
	struct fc_picture fp;
	int frc;

	if (!fresh)
		abort();
	frc = fc_decoder_decode(fresh, data, size, 0, 0, &fp);
	if (frc != rc || (rc && strcmp(fc_decoder_error(dec), fc_decoder_error(fresh)) != 0)) {
		fprintf(stderr, "after another frame: %s\nby a fresh decoder: %s\n",
			rc ? fc_decoder_error(dec) : "decoded",
			frc ? fc_decoder_error(fresh) : "decoded");
		abort();
	}
	if (rc == 0) {
		int samp = tj_samp(pic->subsamp);

		if (fp.width != pic->width || fp.height != pic->height ||
		    fp.subsamp != pic->subsamp)
			abort();
		for (int i = 0; i < (samp == TJSAMP_GRAY ? 1 : 3); i++) {
			unsigned long n =
			    tjPlaneSizeYUV(i, pic->width, pic->stride[i], pic->height, samp);

			if (fp.stride[i] != pic->stride[i] ||
			    memcmp(fp.plane[i], pic->plane[i], n)) {
				fprintf(stderr, "plane %d differs from a fresh decoder's\n", i);
				abort();
			}
		}
	}
	fc_decoder_free(fresh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_picture pic;
	char first[256];
	int w = 0, h = 0;
	int rc, again;

	if (!dec)
		setup();
	/* The frame before: the handle now holds its tables. */
	if (fc_decoder_decode(dec, own, own_size, 16, 16, &pic) != 0)
		abort();
	rc = fc_decoder_decode(dec, data, size, 0, 0, &pic);
	if (rc == 0) {
		check_picture(&pic, pic.width, pic.height);
	} else if (rc != -1 || !fc_decoder_error(dec)[0]) {
		abort();
	}
	check_fresh(data, size, rc, &pic);
	snprintf(first, sizeof(first), "%s", rc ? fc_decoder_error(dec) : "");

	if (header_size(data, size, &w, &h)) {
		/* The viewer passes the FRAME's size: the header's own must give the same answer. */
		again = fc_decoder_decode(dec, data, size, w, h, &pic);
		if (again != rc || (rc && strcmp(first, fc_decoder_error(dec)) != 0))
			abort();
		if (again == 0)
			check_picture(&pic, w, h);
		/* A FRAME that says another size is refused, whatever the JPEG holds. */
		if (w < 65535 && fc_decoder_decode(dec, data, size, w + 1, h, &pic) == 0)
			abort();
		if (h < 65535 && fc_decoder_decode(dec, data, size, w, h + 1, &pic) == 0)
			abort();
	} else if (rc == 0) {
		abort();
	}

	/* One bad frame from a sender must not spoil the frames after it. */
	if (fc_decoder_decode(dec, own, own_size, 16, 16, &pic) != 0)
		abort();
	check_picture(&pic, 16, 16);
	return 0;
}
