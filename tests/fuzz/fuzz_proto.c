/*
 * Fuzz target for the wire decoder (common/proto.c): any bytes in, never a crash, a read past the
 * input or a message larger than the input; whatever decodes re-encodes to the same bytes.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/proto as an
 * ordinary ctest case otherwise (replay.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	/* A stream of messages, as a connection would deliver them. */
	while (off < size) {
		struct fc_msg m;
		size_t need = 0;
		ssize_t r = fc_proto_decode(data + off, size - off, &m, &need);
		static uint8_t again[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED + 4096];

		if (r <= 0) {
			/* "Need more" must name a size beyond what is here, within the limits. */
			if (r == 0 && (need <= size - off || need > FC_PROTO_MAX_RECORD))
				abort();
			break;
		}
		if ((size_t)r > size - off)
			abort();
		/* Round trip: what decodes encodes back to the very same bytes (small ones). */
		if ((size_t)r <= sizeof(again)) {
			size_t n = fc_proto_encode(&m, again, sizeof(again));

			if (n != (size_t)r || memcmp(again, data + off, n) != 0) {
				/* The one field the decoder drops is HELLO's reserved byte and STATUS's:
				 * only those may differ. */
				if (!(m.type == FC_MSG_HELLO || m.type == FC_MSG_STATUS) ||
				    n != (size_t)r)
					abort();
			}
		}
		off += (size_t)r;
	}
	return 0;
}
