/*
 * Fuzz target for the wire decoder (common/proto.c), protocol 3: any bytes in, read as a stream
 * of messages as a connection delivers them. Beyond never a crash or a read past the input:
 *   - a message is never larger than the input, and is this version's;
 *   - "need more" names a size beyond the bytes in hand and within the largest record;
 *   - the header is judged byte by byte (PROTOCOL.md, section 2): every shorter prefix of what
 *     was decoded gives "need more" or, once the deciding header byte is in, the same error, and
 *     a prefix of a good message is never a message (so nothing is buffered for a bad header);
 *   - what decodes re-encodes to the very same bytes, every message whatever its size (a FRAME
 *     and a SEALED through their head, their bytes compared where they are), except for the one
 *     byte the decoder is documented to drop: STATUS's reserved byte (payload offset 1, sent as
 *     0, ignored on receipt). HELLO has no reserved byte since protocol 2: its every byte,
 *     the floor at offset 50 and the flags included, must come back. Version 6's frames in
 *     parts come back through their heads (parts_head.h), as a FRAME does.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/proto as an
 * ordinary ctest case otherwise (replay.c). Seeds: tests/fuzz/seeds.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parts_head.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The STATUS byte the decoder drops, from the start of the message. */
#define STATUS_RESERVED (FC_PROTO_HEADER_SIZE + 1)

/* Every prefix of in[0..len), which decode judged r (a message or an error, not "need more"),
 * gets an answer that agrees: "need more" before the deciding byte, r from it on. The header is
 * judged byte by byte; past it nothing is judged until the whole message is in, so the prefix
 * one byte short of it must still be "need more" (a good message's prefix is never a message,
 * and a field error waits for the whole payload). */
static void check_prefixes(const uint8_t *in, size_t len, ssize_t r)
{
	struct fc_msg m;
	size_t need = 0;
	ssize_t p = 0;

	for (size_t k = 1; k <= len && k <= FC_PROTO_HEADER_SIZE; k++) {
		ssize_t q = fc_proto_decode(in, k, &m, &need);

		if (p != 0 ? q != p : q != 0 && q != r)
			abort();
		p = q;
	}
	if (p != 0) {
		if (r > 0)
			abort();
		return;
	}
	/* The header passed: need is the whole message, which must be what r judged. */
	if (need <= FC_PROTO_HEADER_SIZE || need > len ||
	    fc_proto_decode(in, need - 1, &m, NULL) != 0 ||
	    fc_proto_decode(in, need, &m, NULL) != r || (r > 0 && (size_t)r != need))
		abort();
}

/* What decoded as m from in[0..n) encodes back to the same bytes. */
static void check_round_trip(const struct fc_msg *m, const uint8_t *in, size_t n)
{
	/* Room for the largest message encoded whole but a STILL (a CONTROL_RESULT with its text,
	 * larger than a DATA's document or a HELLO's names) and for a FRAME's head. */
	static uint8_t
	    again[FC_PROTO_HEADER_SIZE + FC_PROTO_RESULT_FIXED + FC_PROTO_MAX_RESULT_TEXT];
	size_t head;

	_Static_assert(FC_PROTO_RESULT_FIXED + FC_PROTO_MAX_RESULT_TEXT >=
			       FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA &&
			   FC_PROTO_RESULT_FIXED + FC_PROTO_MAX_RESULT_TEXT >= FC_PROTO_HELLO_MAX,
		       "a CONTROL_RESULT is the largest message encoded whole here");
	if (m->type == FC_MSG_STILL) { /* up to 16 MiB: encoded whole, in a buffer of its size */
		uint8_t *whole = malloc(n);

		if (!whole || fc_proto_encode(m, whole, n) != n || memcmp(whole, in, n) != 0)
			abort();
		free(whole);
		return;
	}
	if (m->type == FC_MSG_FRAME || m->type == FC_MSG_FRAME_START) {
		head = m->type == FC_MSG_FRAME
			   ? fc_proto_encode_frame_head(&m->u.frame, again, sizeof(again))
			   : fc_proto_start_head(&m->u.frame, again, sizeof(again));
		if (head != FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED ||
		    m->u.frame.jpeg != in + head || m->u.frame.jpeg_size != n - head)
			abort();
	} else if (m->type == FC_MSG_FRAME_PART || m->type == FC_MSG_FRAME_END) {
		head = fc_parts_check_head(m, in, n, again, sizeof(again));
	} else if (m->type == FC_MSG_SEALED) {
		head =
		    fc_proto_encode_header(FC_MSG_SEALED, m->u.sealed.size, again, sizeof(again));
		if (head != FC_PROTO_HEADER_SIZE || m->u.sealed.data != in + head ||
		    m->u.sealed.size != n - head)
			abort();
	} else {
		head = fc_proto_encode(m, again, sizeof(again));
		if (head != n)
			abort();
		if (m->type == FC_MSG_STATUS)
			again[STATUS_RESERVED] = in[STATUS_RESERVED];
	}
	if (memcmp(again, in, head) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct fc_msg m;
		size_t need = 0;
		ssize_t r = fc_proto_decode(data + off, size - off, &m, &need);

		if (r < 0) {
			if (r < -FC_PROTO_E_FIELD ||
			    (r == -FC_PROTO_E_VERSION && m.version != data[off + 2]))
				abort();
			check_prefixes(data + off, size - off, r);
			break;
		}
		if (r == 0) {
			if (need <= size - off || need > FC_PROTO_MAX_RECORD)
				abort();
			break;
		}
		if ((size_t)r > size - off || m.version != FC_PROTO_VERSION)
			abort();
		check_prefixes(data + off, (size_t)r, r);
		check_round_trip(&m, data + off, (size_t)r);
		off += (size_t)r;
	}
	return 0;
}
