#include "picbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "proto.h"

enum fc_pic_subsamp fc_picbuf_subsamp(int tjsamp)
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

int fc_picbuf_check(int w, int h, int tjsamp, int expect_w, int expect_h, char *err, size_t errlen)
{
	if (w <= 0 || h <= 0 || w > FC_PROTO_MAX_DIM || h > FC_PROTO_MAX_DIM ||
	    (long long)w * h > FC_PROTO_MAX_PIXELS) {
		snprintf(err, errlen, "JPEG claims %dx%d pixels (limit %d per side, %d in all)", w,
			 h, FC_PROTO_MAX_DIM, FC_PROTO_MAX_PIXELS);
		return -1;
	}
	if ((expect_w && w != expect_w) || (expect_h && h != expect_h)) {
		snprintf(err, errlen, "JPEG is %dx%d but its frame says %dx%d", w, h, expect_w,
			 expect_h);
		return -1;
	}
	if (tjsamp < 0 || fc_picbuf_subsamp(tjsamp) == FC_PIC_OTHER) {
		snprintf(err, errlen, "JPEG chroma subsampling %d is not supported", tjsamp);
		return -1;
	}
	return 0;
}

int fc_picbuf_layout(uint8_t **buf, size_t *cap, int w, int h, int tjsamp, struct fc_picture *pic,
		     char *err, size_t errlen)
{
	size_t sizes[3];
	size_t total = 0;
	int nplanes = tjsamp == TJSAMP_GRAY ? 1 : 3;

	for (int i = 0; i < nplanes; i++) {
		unsigned long n = tjPlaneSizeYUV(i, w, 0, h, tjsamp);

		if (n == (unsigned long)-1) {
			snprintf(err, errlen, "cannot lay out planes for %dx%d", w, h);
			return -1;
		}
		sizes[i] = n;
		total += n;
	}
	if (total > *cap) {
		uint8_t *nb = realloc(*buf, total);

		if (!nb) {
			snprintf(err, errlen, "out of memory for a %dx%d picture", w, h);
			return -1;
		}
		*buf = nb;
		*cap = total;
	}
	pic->width = w;
	pic->height = h;
	pic->subsamp = fc_picbuf_subsamp(tjsamp);
	pic->chroma_width = nplanes > 1 ? tjPlaneWidth(1, w, tjsamp) : 0;
	pic->chroma_height = nplanes > 1 ? tjPlaneHeight(1, h, tjsamp) : 0;
	total = 0;
	for (int i = 0; i < 3; i++) {
		pic->plane[i] = i < nplanes ? *buf + total : NULL;
		pic->stride[i] = i < nplanes ? tjPlaneWidth(i, w, tjsamp) : 0;
		if (i < nplanes)
			total += sizes[i];
	}
	return 0;
}
