/*
 * image: a planar YUV picture as the encoder takes it (JPEG's own layout: full-range BT.601
 * luma and chroma planes, chroma subsampled horizontally and/or vertically).
 *
 * Plain data; whoever fills it owns the planes and says for how long they stay valid.
 */
#ifndef FC_IMAGE_H
#define FC_IMAGE_H

#include <stdint.h>

enum fc_subsamp { FC_SUBSAMP_420, FC_SUBSAMP_422, FC_SUBSAMP_444 };

struct fc_image {
	int width;
	int height;
	enum fc_subsamp subsamp;
	const uint8_t *plane[3]; /* Y, Cb, Cr */
	int stride[3];		 /* bytes from one row to the next, per plane */
};

#endif
