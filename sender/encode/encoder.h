/*
 * encoder: pictures to JPEG, from planes (the test pattern, a photo) or from a camera's YUYV,
 * into a buffer the caller allocated once at the worst-case size (no reallocation per frame).
 *
 * With more than one thread a picture is cut into horizontal bands, one per thread, each
 * encoded at the same time by its own libjpeg compressor (coder.h) and joined as the restart
 * intervals of one baseline JPEG: a frame is ready in about 1/threads of the time, so a core
 * that cannot keep up with a camera alone gets help without any frame waiting longer. Any
 * decoder reads the result (restart markers are baseline JPEG); it decodes to exactly the
 * pixels of the one-thread JPEG, for a few bytes more per extra band (a restart marker and the
 * bits that pad a band to a byte).
 *
 * The handle owns threads - 1 worker threads ("fc-encode-N"), idle between pictures; the
 * caller's thread encodes the first band and waits for the others. One caller at a time (the
 * capture thread). Never prints.
 */
#ifndef FC_ENCODER_H
#define FC_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* The most threads one picture is cut for. */
#define FC_ENCODER_MAX_THREADS 8

struct fc_encoder;

/* quality 1..100, threads 1..FC_ENCODER_MAX_THREADS (all of them in use until told otherwise);
 * NULL with the reason in err on failure. */
struct fc_encoder *fc_encoder_new(int quality, int threads, char *err, size_t errlen);
void fc_encoder_free(struct fc_encoder *e);

/* The JPEG quality of the next pictures, clamped to 1..100 (the renditions of one picture are
 * made at several). */
void fc_encoder_set_quality(struct fc_encoder *e, int quality);

/* How many of its threads the next pictures are cut for: n clamped to 1..threads; the number in
 * use. One thread costs the least CPU; more make each frame ready sooner. */
int fc_encoder_use_threads(struct fc_encoder *e, int n);

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

/*
 * Follows the next encodes as they happen, so that their bytes can leave before the last is
 * written (docs/PROTOCOL.md, section 14): fn(arg, n) on the caller's thread each time the
 * output's first n bytes are final, n growing, in order: the first band's bytes strip by strip
 * as they come (its SOF0 already saying the whole picture's height), then each other band's
 * once the band before it is joined, the last call with the whole JPEG. Nothing is reported of
 * a failed encode after its failure. fn NULL: not followed.
 */
void fc_encoder_follow(struct fc_encoder *e, void (*fn)(void *arg, size_t n), void *arg);

const char *fc_encoder_error(const struct fc_encoder *e);

#endif
