/*
 * dgramtest: frames for the tests of the UDP transport (test_dgram.c, test_reasm.c,
 * test_resend.c) and for the seeds of fuzz_dgram (fuzz/seeds.c): a FRAME payload whose fixed
 * part proto.c takes (chunk 0 carries it), and its chunks cut at FC_DGRAM_CHUNK. Header-only;
 * the caller owns every buffer.
 */
#ifndef FC_DGRAMTEST_H
#define FC_DGRAMTEST_H

#include <stdint.h>
#include <string.h>

#include "dgram.h"

/* out[0..total): the fixed part of f (a 64x48 picture unless f says otherwise, its jpeg_size
 * set from total), then bytes that differ from frame to frame. 0, or -1 when f is refused. */
static inline int fc_test_dgram_frame(uint8_t *out, uint32_t total, struct fc_frame_msg f)
{
	uint8_t head[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];

	if (f.width == 0) {
		f.width = f.src_width = 64;
		f.height = f.src_height = 48;
	}
	f.jpeg_size = total - FC_PROTO_FRAME_FIXED;
	if (fc_proto_encode_frame_head(&f, head, sizeof(head)) != sizeof(head))
		return -1;
	memcpy(out, head + FC_PROTO_HEADER_SIZE, FC_PROTO_FRAME_FIXED);
	for (uint32_t i = FC_PROTO_FRAME_FIXED; i < total; i++)
		out[i] = (uint8_t)(i * 31 + f.seq);
	return 0;
}

/* Chunk index of frame seq, frame[0..total), cut at FC_DGRAM_CHUNK. */
static inline struct fc_dgram fc_test_dgram_chunk(const uint8_t *frame, uint32_t total,
						  uint64_t seq, uint16_t index)
{
	uint32_t off = index * (uint32_t)FC_DGRAM_CHUNK;
	struct fc_dgram d = { .type = FC_DGRAM_T_CHUNK, .conn = 7, .seq = seq };

	d.u.chunk = (struct fc_dgram_chunk){
		.index = index,
		.count = (uint16_t)fc_dgram_count(total, FC_DGRAM_CHUNK),
		.total = total,
		.offset = off,
		.chunk_size = FC_DGRAM_CHUNK,
		.data = frame + off,
		.size = total - off < FC_DGRAM_CHUNK ? total - off : FC_DGRAM_CHUNK,
	};
	return d;
}

#endif
