/*
 * stamp: a frame's sequence number and capture time, drawn into its picture so that they survive
 * JPEG and can be read back from the decoded picture.
 *
 * On one host the sender's and the viewer's CLOCK_MONOTONIC are the same clock, so a test (or the
 * viewer's --check-stamps) can read a shown frame's stamp and know its true age exactly. The
 * test pattern and the fake camera both draw it; the viewer and the tests read it.
 *
 * The stamp is a band at the top-left of the luma plane: FC_STAMP_BITS cells of
 * FC_STAMP_CELL x FC_STAMP_CELL pixels, row-major, each cell uniformly dark (a 0 bit) or light
 * (a 1 bit). Cells are aligned to JPEG's 8x8 blocks, so each one is a block with only a DC term
 * and survives any quality a person would use. The bits are a 16-bit magic, the 32-bit sequence
 * number, the 64-bit capture time in ns and a CRC-16 over the three, most significant bit first.
 * Light and dark are limited-range luma (235 and 16), which full-range expansion maps to 255 and 0;
 * reading thresholds at the midpoint, so either range reads back.
 *
 * Pure functions over caller-owned buffers; thread-safe.
 */
#ifndef FC_STAMP_H
#define FC_STAMP_H

#include <stddef.h>
#include <stdint.h>

#define FC_STAMP_CELL 8
#define FC_STAMP_BITS 128

struct fc_stamp {
	uint32_t seq;	     /* the frame's sequence number (low 32 bits) */
	uint64_t capture_ns; /* the sender's CLOCK_MONOTONIC when the frame was captured */
};

/* Height in pixels of the band the stamp occupies at this picture size, or 0 when it does not
 * fit (the picture is narrower than 8 cells, or the band would be taller than the picture). */
int fc_stamp_band_height(int width, int height);

/*
 * Draws the stamp into a luma plane. `step` is the distance in bytes between two horizontally
 * adjacent luma samples (1 for planar YUV, 2 for YUYV); `stride` the distance between rows.
 * Returns 0, or -1 (drawing nothing) when the stamp does not fit.
 */
int fc_stamp_write(uint8_t *luma, size_t step, size_t stride, int width, int height,
		   const struct fc_stamp *stamp);

/* Reads the stamp back. Returns 0 and fills *stamp, or -1 when there is no valid stamp (no magic,
 * a CRC mismatch, or a picture too small to hold one). */
int fc_stamp_read(const uint8_t *luma, size_t step, size_t stride, int width, int height,
		  struct fc_stamp *stamp);

/* Reads the stamp of a width x height picture made of a stamped src_width x src_height one by
 * halving its sides up to three times (a sender's rendition, each side rounded down to even):
 * the cells are FC_STAMP_CELL / 2^halvings pixels, laid out as across the full picture. Same
 * returns as fc_stamp_read (which is the full picture). Small cells are fragile: 2-pixel cells
 * (a quarter of each side) survive moderate JPEG qualities, 1-pixel cells rarely. */
int fc_stamp_read_scaled(const uint8_t *luma, size_t step, size_t stride, int width, int height,
			 int src_width, int src_height, struct fc_stamp *stamp);

#endif
