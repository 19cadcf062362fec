#include "stamp.h"

#include <stddef.h>
#include <stdint.h>

#define STAMP_MAGIC 0xFC5A
#define STAMP_BYTES (FC_STAMP_BITS / 8)
/* Limited-range black and white: full-range expansion maps them to 0 and 255, and the midpoint
 * between either pair is about 128, so one threshold reads both ranges. */
#define STAMP_DARK	16
#define STAMP_LIGHT	235
#define STAMP_THRESHOLD 128
/* Only the centre of a cell is read: JPEG's ringing and a scaler's blur reach into a cell from
 * its edges, its middle keeps the cell's own level (fc_stamp_read_scaled). */

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
static uint16_t stamp_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++) {
			if (crc & 0x8000)
				crc = (uint16_t)((crc << 1) ^ 0x1021);
			else
				crc = (uint16_t)(crc << 1);
		}
	}
	return crc;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

int fc_stamp_band_height(int width, int height)
{
	int per_row;
	int rows;

	if (width < 8 * FC_STAMP_CELL || height <= 0)
		return 0;
	per_row = width / FC_STAMP_CELL;
	rows = (FC_STAMP_BITS + per_row - 1) / per_row;
	if (rows * FC_STAMP_CELL > height)
		return 0;
	return rows * FC_STAMP_CELL;
}

int fc_stamp_write(uint8_t *luma, size_t step, size_t stride, int width, int height,
		   const struct fc_stamp *stamp)
{
	uint8_t msg[STAMP_BYTES];
	int per_row;

	if (step == 0 || fc_stamp_band_height(width, height) == 0)
		return -1;
	put_be(msg, STAMP_MAGIC, 2);
	put_be(msg + 2, stamp->seq, 4);
	put_be(msg + 6, stamp->capture_ns, 8);
	put_be(msg + 14, stamp_crc16(msg, 14), 2);

	per_row = width / FC_STAMP_CELL;
	for (int i = 0; i < FC_STAMP_BITS; i++) {
		int bit = msg[i / 8] >> (7 - i % 8) & 1;
		uint8_t v = bit ? STAMP_LIGHT : STAMP_DARK;
		size_t x0 = (size_t)(i % per_row) * FC_STAMP_CELL;
		size_t y0 = (size_t)(i / per_row) * FC_STAMP_CELL;

		for (size_t y = y0; y < y0 + FC_STAMP_CELL; y++) {
			uint8_t *row = luma + y * stride;

			for (size_t x = x0; x < x0 + FC_STAMP_CELL; x++)
				row[x * step] = v;
		}
	}
	return 0;
}

int fc_stamp_read(const uint8_t *luma, size_t step, size_t stride, int width, int height,
		  struct fc_stamp *stamp)
{
	return fc_stamp_read_scaled(luma, step, stride, width, height, width, height, stamp);
}

int fc_stamp_read_scaled(const uint8_t *luma, size_t step, size_t stride, int width, int height,
			 int src_width, int src_height, struct fc_stamp *stamp)
{
	uint8_t msg[STAMP_BYTES] = { 0 };
	int shift = 0;
	int cell;
	int lo;
	int hi;
	int per_row;

	/* A rendition's sides are the picture's halved shift times, rounded down to even. */
	while (shift <= 3 && width != (shift ? (src_width >> shift) & ~1 : src_width))
		shift++;
	if (shift > 3)
		return -1;
	cell = FC_STAMP_CELL >> shift;
	if (step == 0 || width < 1 || fc_stamp_band_height(src_width, src_height) == 0)
		return -1;
	/* The cells were laid out across the full picture. */
	per_row = src_width / FC_STAMP_CELL;
	/* The centre of a cell, as in the full picture: half its side, at least a pixel. */
	lo = cell >= 4 ? cell / 4 : 0;
	hi = cell >= 4 ? cell - cell / 4 : cell;
	for (int i = 0; i < FC_STAMP_BITS; i++) {
		size_t x0 = (size_t)(i % per_row) * (size_t)cell;
		size_t y0 = (size_t)(i / per_row) * (size_t)cell;
		unsigned sum = 0;

		if (x0 + (size_t)cell > (size_t)width || y0 + (size_t)cell > (size_t)height)
			return -1;
		for (size_t y = y0 + (size_t)lo; y < y0 + (size_t)hi; y++) {
			const uint8_t *row = luma + y * stride;

			for (size_t x = x0 + (size_t)lo; x < x0 + (size_t)hi; x++)
				sum += row[x * step];
		}
		/* Compare the sum, not a rounded mean. */
		if (sum >= STAMP_THRESHOLD * (unsigned)((hi - lo) * (hi - lo)))
			msg[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	if (get_be(msg, 2) != STAMP_MAGIC || get_be(msg + 14, 2) != stamp_crc16(msg, 14))
		return -1;
	stamp->seq = (uint32_t)get_be(msg + 2, 4);
	stamp->capture_ns = get_be(msg + 6, 8);
	return 0;
}
