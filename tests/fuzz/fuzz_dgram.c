/*
 * Fuzz target for the UDP transport's datagrams (common/dgram.c) and the viewer's reassembly of
 * frames from them (viewer/net/reasm.c). The input is what a socket would deliver, with time:
 * records of [u8 time step, in 0.25 ms][u16 length, big-endian][that many bytes: one datagram],
 * the last record cut short where the input ends. Beyond never a crash or a read past the input:
 *   - a datagram that decodes re-encodes to the very same bytes, and no shorter prefix of it
 *     decodes (a truncated datagram never passes);
 *   - a frame comes out of reassembly only whole (its chunks in, or rebuilt from its PARITY
 *     chunks): a FRAME message that proto.c decodes, of the length its chunks announced, with the seq they carried; each seq at most once and in
 *     increasing order (never a frame twice, never an older one after a newer one);
 *   - what the reassembler asks to send (NACKs, GIVEUPs) are datagrams the encoder takes.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/dgram as an
 * ordinary ctest case otherwise (replay.c). Seeds: tests/fuzz/seeds.c (dgram_seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEP_NS	  250000ull
#define BUDGET_NS 80000000ull
#define RTT_NS	  20000000ull
#define REORDER	  2000000ull

static void check_datagram(const uint8_t *in, size_t n, const struct fc_dgram *d)
{
	static uint8_t again[FC_DGRAM_MAX_SIZE];
	struct fc_dgram back;

	if (fc_dgram_encode(d, again, sizeof(again)) != n || memcmp(again, in, n) != 0)
		abort();
	if (fc_dgram_decode(in, n - 1, &back) == 0 ||
	    (n > FC_DGRAM_HEAD && fc_dgram_decode(in, FC_DGRAM_HEAD, &back) == 0))
		abort();
}

static void check_actions(struct fc_reasm *r, uint64_t now)
{
	static uint8_t buf[FC_DGRAM_MAX_SIZE];
	struct fc_dgram out[8];
	size_t n = fc_reasm_poll(r, now, BUDGET_NS, RTT_NS, REORDER, out, 8);

	for (size_t i = 0; i < n; i++) {
		out[i].conn = 1;
		if (fc_dgram_encode(&out[i], buf, sizeof(buf)) == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	struct fc_reasm *r = fc_reasm_new(4, 1u << 20, err, sizeof(err));
	uint64_t now = 1000000000ull, last_seq = 0;
	size_t off = 0;

	if (!r)
		abort();
	while (off + 3 <= size) {
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		const uint8_t *in = data + off + 3;
		struct fc_dgram d;
		const uint8_t *frame = NULL;
		size_t len = 0;
		struct fc_msg m;

		now += data[off] * STEP_NS;
		if (n > size - off - 3)
			n = size - off - 3;
		off += 3 + n;
		if (fc_dgram_decode(in, n, &d) != 0) {
			check_actions(r, now);
			continue;
		}
		check_datagram(in, n, &d);
		if ((d.type == FC_DGRAM_T_CHUNK || d.type == FC_DGRAM_T_PARITY) &&
		    fc_reasm_add(r, &d, now, &frame, &len) == FC_REASM_COMPLETE) {
			uint32_t total =
			    d.type == FC_DGRAM_T_CHUNK ? d.u.chunk.total : d.u.parity.total;

			if (len != FC_PROTO_HEADER_SIZE + (size_t)total ||
			    fc_proto_decode(frame, len, &m, NULL) != (ssize_t)len ||
			    m.type != FC_MSG_FRAME || d.seq <= last_seq)
				abort();
			last_seq = d.seq;
		}
		check_actions(r, now);
	}
	fc_reasm_free(r);
	return 0;
}
