/*
 * coder: one libjpeg compressor fed raw YUV (no RGB round trip) one strip of 8 or 16 rows at a
 * time, from planes read in place or from a camera's packed YUYV split into the strip (yuyv.h),
 * so that the split's output is still in the cache when the DCT reads it.
 *
 * The encoder (encoder.h) holds one coder per thread and gives each a whole picture or one
 * horizontal band of it. A coder is used by one thread at a time. Never prints.
 */
#ifndef FC_CODER_H
#define FC_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* A picture to encode: img's planes, or (yuyv not NULL) a camera's limited-range YUYV 4:2:2
 * of img.width x img.height, encoded as full-range 4:2:0 (img.subsamp says so). */
struct fc_coder_src {
	struct fc_image img;
	const uint8_t *yuyv;
	size_t yuyv_stride;
};

struct fc_coder;

/* NULL when out of memory. */
struct fc_coder *fc_coder_new(void);
void fc_coder_free(struct fc_coder *c);

/* Encodes src (its sides from 1 to 65500, checked by the caller) as one baseline JPEG into
 * out[0..cap) with the accurate DCT; `restart` MCUs per restart interval, 0 for none. 0 and
 * *size, or -1 with fc_coder_error (out of memory, or cap too small). */
int fc_coder_encode(struct fc_coder *c, const struct fc_coder_src *src, int quality,
		    unsigned restart, uint8_t *out, size_t cap, size_t *size);

/* Follows this coder's encodes as they happen (NULL: not followed): after each strip,
 * fn(arg, n) with the output's first n bytes final (libjpeg writes its entropy-coded bytes
 * straight into the buffer, an MCU at a time; the bits of an unfinished byte wait). */
void fc_coder_follow(struct fc_coder *c, void (*fn)(void *arg, size_t n), void *arg);

const char *fc_coder_error(const struct fc_coder *c);

/* Rows [y0, y0 + rows) of src as a picture of its own; y0 a multiple of the subsampling's
 * vertical factor (whole chroma rows). */
void fc_coder_band(const struct fc_coder_src *src, int y0, int rows, struct fc_coder_src *band);

#endif
