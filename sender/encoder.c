#include "encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

struct fc_encoder {
	tjhandle tj;
	int quality;
	char err[256];
};

static int tj_subsamp(enum fc_subsamp s)
{
	switch (s) {
	case FC_SUBSAMP_422:
		return TJSAMP_422;
	case FC_SUBSAMP_444:
		return TJSAMP_444;
	case FC_SUBSAMP_420:
		break;
	}
	return TJSAMP_420;
}

struct fc_encoder *fc_encoder_new(int quality, char *err, size_t errlen)
{
	struct fc_encoder *e;

	if (quality < 1 || quality > 100) {
		snprintf(err, errlen, "JPEG quality %d: must be from 1 to 100", quality);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->tj = tjInitCompress();
	if (!e->tj) {
		snprintf(err, errlen, "libjpeg-turbo: %s", tjGetErrorStr2(NULL));
		free(e);
		return NULL;
	}
	e->quality = quality;
	return e;
}

void fc_encoder_free(struct fc_encoder *e)
{
	if (!e)
		return;
	tjDestroy(e->tj);
	free(e);
}

size_t fc_encoder_bound(int width, int height, enum fc_subsamp subsamp)
{
	unsigned long n = tjBufSize(width, height, tj_subsamp(subsamp));

	return n == (unsigned long)-1 ? 0 : (size_t)n;
}

int fc_encoder_encode(struct fc_encoder *e, const struct fc_image *img, uint8_t *out, size_t cap,
		      size_t *size)
{
	/* TurboJPEG 2.x takes the plane pointers as a mutable array. */
	const unsigned char *planes[3] = { img->plane[0], img->plane[1], img->plane[2] };
	int strides[3] = { img->stride[0], img->stride[1], img->stride[2] };
	unsigned char *buf = out;
	unsigned long len = cap;

	/* TurboJPEG reads past the planes of a subsampled picture with an odd side (seen: a
	 * segfault at 641x363 with planes ending at a guard page), so such sizes are refused. */
	if ((img->subsamp != FC_SUBSAMP_444 && img->width % 2) ||
	    (img->subsamp == FC_SUBSAMP_420 && img->height % 2)) {
		snprintf(e->err, sizeof(e->err), "JPEG encode %dx%d: %s chroma needs an even %s",
			 img->width, img->height,
			 img->subsamp == FC_SUBSAMP_420 ? "4:2:0" : "4:2:2",
			 img->subsamp == FC_SUBSAMP_420 ? "width and height" : "width");
		return -1;
	}
	if (cap < fc_encoder_bound(img->width, img->height, img->subsamp)) {
		snprintf(e->err, sizeof(e->err), "output buffer of %zu bytes is below the bound",
			 cap);
		return -1;
	}
	/* NOREALLOC: the buffer is the caller's, sized for the worst case, and must stay put. */
	if (tjCompressFromYUVPlanes(e->tj, planes, img->width, strides, img->height,
				    tj_subsamp(img->subsamp), &buf, &len, e->quality,
				    TJFLAG_NOREALLOC) < 0) {
		snprintf(e->err, sizeof(e->err), "JPEG encode %dx%d: %s", img->width, img->height,
			 tjGetErrorStr2(e->tj));
		return -1;
	}
	*size = len;
	return 0;
}

const char *fc_encoder_error(const struct fc_encoder *e)
{
	return e->err;
}
