/*
 * encoder: planar YUV to JPEG with libjpeg-turbo, straight from the planes (no RGB round trip)
 * into a buffer the caller allocated once at the worst-case size (no reallocation per frame).
 *
 * A handle wraps one TurboJPEG compressor and its error text; one thread uses it at a time (the
 * capture thread). Never prints.
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

/* The largest JPEG an image of this size and subsampling can become. */
size_t fc_encoder_bound(int width, int height, enum fc_subsamp subsamp);

/* Compresses img into out[0..cap), cap at least fc_encoder_bound(...). 0 and *size on success,
 * -1 with fc_encoder_error on failure (including an odd side that the subsampling halves). */
int fc_encoder_encode(struct fc_encoder *e, const struct fc_image *img, uint8_t *out, size_t cap,
		      size_t *size);

const char *fc_encoder_error(const struct fc_encoder *e);

#endif
