#include "decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "proto.h"

struct fc_decoder {
	tjhandle tj;
	uint8_t *buf; /* all three planes, one allocation */
	size_t cap;
	char err[256];
};

struct fc_decoder *fc_decoder_new(char *err, size_t errlen)
{
	struct fc_decoder *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->tj = tjInitDecompress();
	if (!d->tj) {
		snprintf(err, errlen, "libjpeg-turbo: %s", tjGetErrorStr2(NULL));
		free(d);
		return NULL;
	}
	return d;
}

void fc_decoder_free(struct fc_decoder *d)
{
	if (!d)
		return;
	tjDestroy(d->tj);
	free(d->buf);
	free(d);
}

static enum fc_pic_subsamp pic_subsamp(int tjsamp)
{
	switch (tjsamp) {
	case TJSAMP_420:
		return FC_PIC_420;
	case TJSAMP_422:
		return FC_PIC_422;
	case TJSAMP_444:
		return FC_PIC_444;
	case TJSAMP_GRAY:
		return FC_PIC_GRAY;
	}
	return FC_PIC_OTHER;
}

/* Lays the planes out in d->buf for this picture, growing it only when it must. */
static int layout(struct fc_decoder *d, int w, int h, int tjsamp, struct fc_picture *pic)
{
	size_t sizes[3];
	size_t total = 0;
	int nplanes = tjsamp == TJSAMP_GRAY ? 1 : 3;

	for (int i = 0; i < nplanes; i++) {
		unsigned long n = tjPlaneSizeYUV(i, w, 0, h, tjsamp);

		if (n == (unsigned long)-1) {
			snprintf(d->err, sizeof(d->err), "cannot lay out planes for %dx%d", w, h);
			return -1;
		}
		sizes[i] = n;
		total += n;
	}
	if (total > d->cap) {
		uint8_t *nb = realloc(d->buf, total);

		if (!nb) {
			snprintf(d->err, sizeof(d->err), "out of memory for a %dx%d picture", w, h);
			return -1;
		}
		d->buf = nb;
		d->cap = total;
	}
	pic->width = w;
	pic->height = h;
	pic->subsamp = pic_subsamp(tjsamp);
	pic->chroma_width = nplanes > 1 ? tjPlaneWidth(1, w, tjsamp) : 0;
	pic->chroma_height = nplanes > 1 ? tjPlaneHeight(1, h, tjsamp) : 0;
	total = 0;
	for (int i = 0; i < 3; i++) {
		pic->plane[i] = i < nplanes ? d->buf + total : NULL;
		pic->stride[i] = i < nplanes ? tjPlaneWidth(i, w, tjsamp) : 0;
		if (i < nplanes)
			total += sizes[i];
	}
	return 0;
}

/*
 * Every frame is decoded by a fresh TurboJPEG handle (it costs about 0.2 us), for two reasons
 * found by fuzzing and testing: libjpeg keeps the Huffman and quantisation tables of the frames
 * before, so a frame that omits them (an "abbreviated" JPEG) would decode with another frame's
 * tables, its picture depending on history; and TurboJPEG 2.1 can leave a handle stuck
 * mid-header after an error, so that one bad frame spoils every later one.
 */
static void renew(struct fc_decoder *d)
{
	tjhandle fresh = tjInitDecompress();

	if (!fresh)
		return; /* keep the old one: better a used handle than none */
	tjDestroy(d->tj);
	d->tj = fresh;
}

static int decode(struct fc_decoder *d, const uint8_t *jpeg, size_t size, int expect_w,
		  int expect_h, struct fc_picture *pic)
{
	/* TurboJPEG can report success on a truncated header without setting these: start known. */
	int w = 0, h = 0, samp = -1, cs = -1;

	if (tjDecompressHeader3(d->tj, jpeg, (unsigned long)size, &w, &h, &samp, &cs) < 0) {
		snprintf(d->err, sizeof(d->err), "not a JPEG this viewer can read: %s",
			 tjGetErrorStr2(d->tj));
		return -1;
	}
	if (w <= 0 || h <= 0 || w > FC_PROTO_MAX_DIM || h > FC_PROTO_MAX_DIM ||
	    (long long)w * h > FC_PROTO_MAX_PIXELS) {
		snprintf(d->err, sizeof(d->err),
			 "JPEG claims %dx%d pixels (limit %d per side, %d in all)", w, h,
			 FC_PROTO_MAX_DIM, FC_PROTO_MAX_PIXELS);
		return -1;
	}
	if ((expect_w && w != expect_w) || (expect_h && h != expect_h)) {
		snprintf(d->err, sizeof(d->err), "JPEG is %dx%d but its frame says %dx%d", w, h,
			 expect_w, expect_h);
		return -1;
	}
	if (samp < 0 || pic_subsamp(samp) == FC_PIC_OTHER) {
		snprintf(d->err, sizeof(d->err), "JPEG chroma subsampling %d is not supported",
			 samp);
		return -1;
	}
	if (layout(d, w, h, samp, pic) < 0)
		return -1;
	/* A warning (a truncated but readable picture) is still a broken frame here: refuse it. */
	if (tjDecompressToYUVPlanes(d->tj, jpeg, (unsigned long)size, pic->plane, w, pic->stride, h,
				    TJFLAG_STOPONWARNING) < 0) {
		snprintf(d->err, sizeof(d->err), "JPEG %dx%d does not decode: %s", w, h,
			 tjGetErrorStr2(d->tj));
		return -1;
	}
	return 0;
}

const char *fc_decoder_error(const struct fc_decoder *d)
{
	return d->err;
}

int fc_decoder_decode(struct fc_decoder *d, const uint8_t *jpeg, size_t size, int expect_w,
		      int expect_h, struct fc_picture *pic)
{
	renew(d);
	return decode(d, jpeg, size, expect_w, expect_h, pic);
}
