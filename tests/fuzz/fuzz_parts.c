/*
 * Fuzz target for version 6's frames in parts (common/proto_parts.c): any bytes in, read as a
 * stream of messages from a sender, each checked against the order rules by fc_parts_rx_take
 * as a viewer checks them. Beyond never a crash or a read past the input:
 *   - each START, PART and END that decodes re-encodes to the same bytes through its head;
 *   - the receiver's count of a frame's bytes is the sum this harness keeps itself, and never
 *     passes FC_PROTO_MAX_JPEG;
 *   - a frame is whole only at a complete END whose total is every byte that came since its
 *     START, and given up only at an END that says so; nothing of a frame is taken once the
 *     order is broken (the viewer hangs up there).
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/parts as an
 * ordinary ctest case otherwise (replay.c). Seeds: tests/fuzz/seeds.c (parts_seeds).
 */
#include <stdint.h>
#include <stdlib.h>

#include "parts_head.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes this message adds to a frame in parts; 0 for any other. */
static uint32_t frame_bytes(const struct fc_msg *m)
{
	switch (m->type) {
	case FC_MSG_FRAME_START:
		return m->u.frame.jpeg_size;
	case FC_MSG_FRAME_PART:
		return m->u.part.size;
	case FC_MSG_FRAME_END:
		return m->u.end.size;
	}
	return 0;
}

/* What a receiver made of m agrees with what the harness counted. */
static void check_take(int r, const struct fc_msg *m, const struct fc_parts_rx *rx, uint64_t sum)
{
	if (rx->have > FC_PROTO_MAX_JPEG)
		abort();
	switch (r) {
	case FC_PARTS_RX_MORE:
		if ((m->type != FC_MSG_FRAME_START && m->type != FC_MSG_FRAME_PART) || !rx->open ||
		    rx->have != sum)
			abort();
		return;
	case FC_PARTS_RX_WHOLE:
	case FC_PARTS_RX_GIVEN_UP:
		if (m->type != FC_MSG_FRAME_END || rx->open || m->u.end.total != sum ||
		    (r == FC_PARTS_RX_WHOLE) != (m->u.end.status == FC_PARTS_COMPLETE))
			abort();
		return;
	case FC_PARTS_RX_OTHER:
		if (frame_bytes(m) || m->type == FC_MSG_FRAME_START || m->type == FC_MSG_FRAME_END)
			abort();
		return;
	case FC_PARTS_RX_ERROR:
		return;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t head[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];
	struct fc_parts_rx rx = { 0 };
	uint64_t sum = 0;
	size_t off = 0;

	while (off < size) {
		struct fc_msg m;
		char why[160];
		ssize_t n = fc_proto_decode(data + off, size - off, &m, NULL);
		int r;

		if (n <= 0)
			break;
		if (m.type == FC_MSG_FRAME_PART || m.type == FC_MSG_FRAME_END)
			fc_parts_check_head(&m, data + off, (size_t)n, head, sizeof(head));
		if (m.type == FC_MSG_FRAME_START && !rx.open)
			sum = 0;
		sum += frame_bytes(&m);
		r = fc_parts_rx_take(&rx, &m, why, sizeof(why));
		check_take(r, &m, &rx, sum);
		if (r == FC_PARTS_RX_ERROR)
			break;
		off += (size_t)n;
	}
	return 0;
}
