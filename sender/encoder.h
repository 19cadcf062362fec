/*
 * encoder: pictures to JPEG with libjpeg-turbo's libjpeg API, fed as raw YUV (no RGB round trip)
 * one strip of 8 or 16 rows at a time, into a buffer the caller allocated once at the worst-case
 * size (no reallocation per frame).
 *
 * Two inputs: planes (the test pattern, a photo), read in place; and a camera's packed YUYV,
 * split into 4:2:0 strip by strip (yuyv.h) so that the split's output is still in the cache when
 * the DCT reads it: a whole-frame split writes 1.4 MB at 1280x720 that the encoder then reads
 * back from memory. The DCT is the accurate one (JDCT_ISLOW), as the viewer's decoder uses.
 *
 * A handle wraps one libjpeg compressor, its strip buffer and its error text; one thread uses it
 * at a time (the capture thread). Never prints.
 */
#ifndef FC_ENCODER_H
#define FC_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct fc_encoder;

/* quality 1..100; NULL with the reason in err on failure. */
struct fc_encoder *fc_encoder_new(int quality, char *err, size_t errlen);
void fc_encoder_free(struct fc_encoder *e);

/* The largest JPEG an image of this size and subsampling can become; 0 for an impossible size. */
size_t fc_encoder_bound(int width, int height, enum fc_subsamp subsamp);

/* Compresses img into out[0..cap), cap at least fc_encoder_bound(...). 0 and *size on success,
 * -1 with fc_encoder_error on failure (including an odd side that the subsampling halves). */
int fc_encoder_encode(struct fc_encoder *e, const struct fc_image *img, uint8_t *out, size_t cap,
		      size_t *size);

/* Compresses a packed YUYV 4:2:2 picture (limited range, stride bytes a row, even sides) to a
 * 4:2:0 full-range JPEG: the same bytes as fc_yuyv_to_i420 on the whole picture followed by
 * fc_encoder_encode, without the whole-picture planes. Same contract as fc_encoder_encode. */
int fc_encoder_encode_yuyv(struct fc_encoder *e, const uint8_t *yuyv, size_t stride, int width,
			   int height, uint8_t *out, size_t cap, size_t *size);

const char *fc_encoder_error(const struct fc_encoder *e);

#endif
