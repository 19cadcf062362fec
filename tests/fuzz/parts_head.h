/*
 * parts_head: the round-trip check of a decoded FRAME_PART or FRAME_END through its zero-copy
 * head (proto_parts.h), shared by fuzz_proto and fuzz_parts: the head is the message's first
 * bytes and the bytes it leaves to the wire are the rest, where the decoder pointed.
 */
#ifndef FC_FUZZ_PARTS_HEAD_H
#define FC_FUZZ_PARTS_HEAD_H

#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Aborts unless m, decoded from in[0..n), has a head of the same bytes; returns its size. */
static inline size_t fc_parts_check_head(const struct fc_msg *m, const uint8_t *in, size_t n,
					 uint8_t *buf, size_t cap)
{
	size_t head;
	const uint8_t *bytes;
	uint32_t size;

	if (m->type == FC_MSG_FRAME_PART) {
		head = fc_proto_part_head(m->u.part.id, m->u.part.size, buf, cap);
		bytes = m->u.part.bytes;
		size = m->u.part.size;
	} else {
		head = fc_proto_end_head(&m->u.end, buf, cap);
		bytes = m->u.end.bytes;
		size = m->u.end.size;
	}
	if (head == 0 || head > n || bytes != in + head || size != n - head ||
	    memcmp(buf, in, head) != 0)
		abort();
	return head;
}

#endif
