/*
 * pattern: the built-in test source, a moving picture that looks like a camera's to a JPEG
 * encoder (texture, gradients, sensor noise and motion, not flat colour bars that encode far
 * cheaper than any real scene) with the frame's stamp (common/stamp.h) in its top-left band.
 *
 * A handle owns its planes; fc_pattern_draw redraws them in place and the returned image stays
 * valid until the next draw or the free. One thread uses a handle at a time (the capture thread).
 */
#ifndef FC_PATTERN_H
#define FC_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct fc_pattern;

/* width and height must be even, at least 128x64 (the stamp's 128 cells of 8x8 pixels fit any
 * picture that wide and tall; 64x48 cannot hold them) and at most 8192x8192; err gets the reason
 * when NULL is returned. Computes the scene once here (about 0.1 s at 1280x720). */
struct fc_pattern *fc_pattern_new(int width, int height, char *err, size_t errlen);
void fc_pattern_free(struct fc_pattern *p);

/* Draws frame number seq (motion advances with seq, noise differs per frame; the same seq draws
 * the same picture), stamps it with seq and capture_ns, and describes the 4:2:0 result in *out.
 * Allocates nothing. */
void fc_pattern_draw(struct fc_pattern *p, uint64_t seq, uint64_t capture_ns, struct fc_image *out);

#endif
