/*
 * decoder: JPEG to planar YUV with libjpeg-turbo, into planes the handle allocates once per
 * picture size (not per frame). Decoding is also the viewer's check that a frame is a real JPEG
 * of a sane size: a broken one is an error here, never a crash or a garbage picture on screen.
 *
 * One thread uses a handle at a time (the display thread). Never prints.
 */
#ifndef FC_DECODER_H
#define FC_DECODER_H

#include <stddef.h>
#include <stdint.h>

enum fc_pic_subsamp { FC_PIC_420, FC_PIC_422, FC_PIC_444, FC_PIC_GRAY, FC_PIC_OTHER };

struct fc_picture {
	int width;
	int height;
	enum fc_pic_subsamp subsamp;
	uint8_t *plane[3]; /* Y, Cb, Cr (Cb and Cr NULL for grey); owned by the decoder */
	int stride[3];
	int chroma_width; /* size of the Cb and Cr planes */
	int chroma_height;
};

struct fc_decoder;

struct fc_decoder *fc_decoder_new(char *err, size_t errlen);
void fc_decoder_free(struct fc_decoder *d);

/*
 * Decodes jpeg[0..size). The header's size must match expect_w x expect_h when those are not 0
 * (a FRAME says what it holds) and stay within FC_PROTO_MAX_DIM. 0 with *pic (valid until the
 * next call) on success; -1 with fc_decoder_error otherwise.
 */
int fc_decoder_decode(struct fc_decoder *d, const uint8_t *jpeg, size_t size, int expect_w,
		      int expect_h, struct fc_picture *pic);

const char *fc_decoder_error(const struct fc_decoder *d);

#endif
