#include "decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "picbuf.h"

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
	if (fc_picbuf_check(w, h, samp, expect_w, expect_h, d->err, sizeof(d->err)) < 0 ||
	    fc_picbuf_layout(&d->buf, &d->cap, w, h, samp, pic, d->err, sizeof(d->err)) < 0)
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
