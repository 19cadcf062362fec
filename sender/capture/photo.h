/*
 * photo: a still photograph as a camera-like source, for when the built-in test pattern flatters
 * the encoder (a synthetic picture encodes 20 to 40% cheaper than a photograph) or a benchmark
 * must feed several programs the same pictures.
 *
 * A JPEG file is decoded once (TurboJPEG), scaled to cover the asked size and cropped to it
 * (centred), and converted to 4:2:0 planes; each frame is that picture plus fresh sensor noise
 * (noise.h, so that no two frames are alike) with the frame's stamp (common/stamp.h) in its
 * top-left band on neutral chroma, as the test pattern has it.
 *
 * A handle owns its planes; fc_photo_draw redraws the luma in place and the returned image stays
 * valid until the next draw or the free. One thread uses a handle at a time (the capture thread).
 * Never prints.
 */
#ifndef FC_PHOTO_H
#define FC_PHOTO_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define FC_PHOTO_MAX_FILE (64u << 20) /* bytes of JPEG read at most */

struct fc_photo;

/* Loads the JPEG at path for frames of width x height (even, 128x64 to 8192x8192 as the pattern
 * takes them). NULL with the reason in err: no such file, not a JPEG, too big, out of memory. */
struct fc_photo *fc_photo_new(const char *path, int width, int height, char *err, size_t errlen);
void fc_photo_free(struct fc_photo *p);

/* Draws frame number seq (the same seq draws the same noise), stamps it with seq and capture_ns,
 * and describes the 4:2:0 result in *out. Allocates nothing. */
void fc_photo_draw(struct fc_photo *p, uint64_t seq, uint64_t capture_ns, struct fc_image *out);

#endif
