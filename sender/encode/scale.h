/*
 * scale: a picture made smaller by 2^shift a side (shift 1, 2 or 3: 1/2, 1/4, 1/8), as the
 * full-range planar YUV the encoder takes (image.h), for the renditions of a viewer whose link
 * cannot carry the full picture. Three sources, one result:
 *
 *   planes  (fc_scale_planes) the box filter: each output sample is the rounded mean of a
 *           2^shift x 2^shift block of its own plane, in the input's subsampling;
 *   YUYV    (fc_scale_yuyv) a camera's limited-range YUYV 4:2:2 box-filtered and expanded to
 *           full range in one pass, to 4:2:0: within one step of fc_yuyv_to_i420 on the whole
 *           picture followed by fc_scale_planes, without the whole-picture planes;
 *   MJPEG   (fc_scale_jpeg) a camera's JPEG decoded at 1/2^shift by libjpeg-turbo's DCT
 *           scaling (a 4x4, 2x2 or 1x1 inverse DCT per block instead of 8x8): cheaper than a
 *           full decode, and not a resize afterwards.
 *
 * The planes keep their subsampling rather than all becoming 4:2:0: the encoder takes all
 * three, each plane gets the same square box (4:2:2 to 4:2:0 would need an oblong one), and
 * chroma the source has is not thrown away.
 *
 * Sides: out = floor((side >> shift) / 2) * 2, even because the encoder refuses an odd side that
 * its subsampling halves (fc_scale_size). Blocks cut by the right or bottom edge, and the one
 * column or row of whole blocks that would make a side odd, are dropped rather than averaged:
 * every output sample is then the mean of exactly 4^shift samples (a shift, not a division,
 * and no edge case in the loops), the three sources give the same geometry, and at most
 * 2^(shift+1) - 1 columns and rows of the input are lost (8 of 1080 rows at 1/8; none of
 * 640x480 or 1280x720 at any shift, nor of 1920x1080 at 1/2 and 1/4).
 *
 * Output goes into one buffer the caller owns, allocated once at fc_scale_bound bytes (enough
 * for every source and subsampling); *out then points into it, its planes valid until the
 * buffer is written again. Nothing is allocated per frame, except TurboJPEG's own handle and
 * libjpeg's work memory in fc_scale_jpeg (see there).
 *
 * Pure functions over caller-owned buffers; thread-safe. Errors are -1 with the reason in the
 * caller's err buffer; never prints.
 *
 * Measured with gcc 12 at -O3 on the project's 2-core AMD EPYC VM (shared with other work), one
 * thread, by a throwaway program: medians of 400 rounds of every call interleaved, so that a
 * frame is not hot in the cache (a camera's is not). Milliseconds; the JPEGs are the Dune photo
 * with sensor noise (photo.h) at quality 80, 147 and 167 KB at 1280x720, 282 and 320 at 1080p:
 *
 *                              1280x720            1920x1080
 *   shift                   1     2     3       1     2     3
 *   fc_yuyv_to_i420, whole     0.48                1.08
 *   fc_scale_yuyv         0.38  0.25  0.22    1.07  0.82  0.64
 *   split + planes 4:2:0  0.52  0.46  0.43    1.40  1.21  1.10
 *   fc_scale_planes 4:2:0 0.21  0.14  0.10    0.61  0.37  0.26
 *   fc_scale_jpeg 4:2:0   2.05  1.76  1.51    4.31  3.81  3.12   full decode 2.54, 5.13
 *   fc_scale_jpeg 4:2:2   2.48  2.13  1.81    5.46  4.70  3.76   full decode 3.12, 6.85
 *
 * With the picture flushed from the cache before each call, the YUYV path and the split both
 * wait on memory and cost about the same (1.0 to 1.1x at 1/2, 0.85 to 0.9x at 1/8). The DCT
 * scaling saves the inverse DCT but not the entropy decoding, most of a decode: for several
 * renditions of one frame, decode once at the largest and box-filter that (fc_scale_planes on
 * the 1/2 picture: 0.1 to 0.3 ms) rather than decoding the frame again for each.
 */
#ifndef FC_SCALE_H
#define FC_SCALE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define FC_SCALE_MIN_SHIFT 1
#define FC_SCALE_MAX_SHIFT 3
/* Longest input side taken: JPEG's own limit is 65535, libjpeg's 65500. */
#define FC_SCALE_MAX_SIDE 65535

/* The output sides for a width x height input: floor((side >> shift) / 2) * 2 each. 0, or -1
 * when shift is not 1..3 or a side is not 1..FC_SCALE_MAX_SIDE or too short to give 2 (a side
 * needs at least 2^(shift+1) samples). */
int fc_scale_size(int width, int height, int shift, int *out_width, int *out_height);

/* Bytes of output buffer any source of width x height needs at this shift: three planes of
 * ceil(side / 2^shift) a side (TurboJPEG's scaled decode rounds up before the crop, and 4:4:4
 * has full chroma). 0 for an impossible size (fc_scale_size fails). */
size_t fc_scale_bound(int width, int height, int shift);

/*
 * Box-filters the planes of in (any subsampling; chroma planes of an odd side may be rounded
 * up or down, as the partial block is never read) into buf[0..cap), each plane's rows packed
 * (stride = plane width), and describes the result in *out, in in's subsampling. Each stride
 * must be at least the plane's width rounded down. 0, or -1 with the reason in err.
 */
int fc_scale_planes(const struct fc_image *in, int shift, uint8_t *buf, size_t cap,
		    struct fc_image *out, char *err, size_t errlen);

/*
 * A camera's packed YUYV 4:2:2 (limited range, stride bytes a row, even sides) box-filtered
 * and expanded to full-range 4:2:0 into buf[0..cap), described in *out. Each sample is within
 * one step of fc_yuyv_to_i420 on the whole picture followed by fc_scale_planes, for every
 * input (samples outside the limited range included). 0, or -1 with the reason in err.
 */
int fc_scale_yuyv(const uint8_t *yuyv, size_t stride, int width, int height, int shift,
		  uint8_t *buf, size_t cap, struct fc_image *out, char *err, size_t errlen);

/*
 * A JPEG of size bytes (a camera's MJPEG frame) decoded at 1/2^shift a side into buf[0..cap),
 * cropped to fc_scale_size's sides and described in *out, in the JPEG's own subsampling
 * (4:2:0, 4:2:2 or 4:4:4 YCbCr; anything else is refused with the reason, as is a frame that
 * decodes with a warning: a truncated frame is a broken frame). Plane strides are TurboJPEG's
 * scaled plane widths. 0, or -1 with the reason in err.
 *
 * Takes no handle: each call makes and frees its own TurboJPEG handle (0.2 us, against 0.4 ms
 * and more for the decode), for the reasons viewer/show/decoder.c renews its handle per frame: a
 * frame that omits its tables must not decode with an earlier frame's, and TurboJPEG 2.1 can
 * leave a handle stuck after an error. So there is nothing to own and nothing shared between
 * threads.
 */
int fc_scale_jpeg(const uint8_t *jpeg, size_t size, int shift, uint8_t *buf, size_t cap,
		  struct fc_image *out, char *err, size_t errlen);

#endif
