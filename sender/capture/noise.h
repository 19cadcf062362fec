/*
 * noise: a camera sensor's noise for the synthetic sources (the test pattern, a still photo), so
 * that no two frames are alike and a JPEG encoder works as hard as on a camera's picture.
 *
 * Small triangular offsets within +-FC_NOISE_AMP from a table made once, added from a random place
 * per row: no random number is drawn per pixel, and the add is unsigned 8-bit arithmetic that
 * compilers vectorise, so a frame's noise costs about as much as copying its luma.
 *
 * A handle owns its table; once made it is only read, so any number of threads may use it.
 */
#ifndef FC_NOISE_H
#define FC_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define FC_NOISE_AMP 5

struct fc_noise;

/* A table for rows of up to max_len pixels; NULL when out of memory. */
struct fc_noise *fc_noise_new(int max_len);
void fc_noise_free(struct fc_noise *n);

/* dst[0..len) = src[0..len) plus noise, saturating; len <= max_len, dst may equal src (or the two
 * must not overlap). *rng picks the place in the table and is advanced. */
void fc_noise_add(const struct fc_noise *n, uint8_t *dst, const uint8_t *src, int len,
		  uint64_t *rng);

#endif
