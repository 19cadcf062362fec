/*
 * fc-benchreasm: what the UDP transport's pure parts cost per chunk and per frame, without
 * sockets (docs/UDP.md, "What it costs"): a frame of 100 KB (the 1280x720 test pattern's size)
 * cut into 1200-byte chunks, each chunk encoded (dgram.c), decoded and added to a reassembler
 * (reasm.c) in order, in a shuffled order with a tenth sent twice, and with one chunk in ten
 * lost and repaired; the sender's side kept and served again (resend.c); and forward error
 * correction (fec.c) with m = 4, 7, 10 parity chunks: the sender's encode, the rebuilding of m
 * lost data chunks alone, and the viewer's whole path for a frame with m chunks lost (decode,
 * reassemble, rebuild). Prints one line per case: ns per chunk and us per frame, the best of five runs (a shared machine's noise only
 * ever adds). Not installed, not tested: a measuring tool.
 *
 * Usage: fc-benchreasm [FRAMES]   (default 2000 frames a run)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dgram.h"
#include "fec.h"
#include "reasm.h"
#include "resend.h"

#define FRAME_BYTES (100 * 1000)
#define RUNS	    5

enum order { IN_ORDER, SHUFFLED, LOSSY };

static uint8_t payload[FRAME_BYTES];
static uint8_t wire[FRAME_BYTES / FC_DGRAM_CHUNK + 1][FC_DGRAM_MAX_SIZE];
static size_t wire_len[FRAME_BYTES / FC_DGRAM_CHUNK + 1];
static uint16_t order[2 * (FRAME_BYTES / FC_DGRAM_CHUNK + 1)];

/* Frame seq's chunks on the wire, as its sender would make them. */
static uint32_t make_wire(uint64_t seq)
{
	struct fc_frame_msg f = { .seq = seq,
				  .width = 1280,
				  .height = 720,
				  .src_width = 1280,
				  .src_height = 720,
				  .jpeg_size = FRAME_BYTES - FC_PROTO_FRAME_FIXED };
	uint8_t head[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];
	uint32_t count = fc_dgram_count(FRAME_BYTES, FC_DGRAM_CHUNK);

	fc_proto_encode_frame_head(&f, head, sizeof(head));
	memcpy(payload, head + FC_PROTO_HEADER_SIZE, FC_PROTO_FRAME_FIXED);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t off = i * FC_DGRAM_CHUNK;
		struct fc_dgram d = { .type = FC_DGRAM_T_CHUNK, .conn = 1, .seq = seq };

		d.u.chunk = (struct fc_dgram_chunk){ .index = (uint16_t)i,
						     .count = (uint16_t)count,
						     .total = FRAME_BYTES,
						     .offset = off,
						     .chunk_size = FC_DGRAM_CHUNK,
						     .data = payload + off,
						     .size = FRAME_BYTES - off < FC_DGRAM_CHUNK
								 ? FRAME_BYTES - off
								 : FC_DGRAM_CHUNK };
		wire_len[i] = fc_dgram_encode(&d, wire[i], sizeof(wire[i]));
		if (wire_len[i] == 0)
			abort();
	}
	return count;
}

/* The order chunks arrive in; returns how many arrivals. LOSSY: every tenth chunk comes last,
 * after a poll has asked for it, as a repair would bring it. */
static uint32_t make_order(enum order o, uint32_t count, unsigned *seed)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < count; i++)
		if (o != LOSSY || i % 10 != 5)
			order[n++] = (uint16_t)i;
	if (o == SHUFFLED) {
		for (uint32_t i = 0; i < count / 10; i++)
			order[n++] = (uint16_t)(rand_r(seed) % count);
		for (uint32_t i = n - 1; i > 0; i--) {
			uint32_t j = (uint32_t)rand_r(seed) % (i + 1);
			uint16_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}
	return n;
}

/* Frame seq's chunks: the seq written into the headers made for frame 1. */
static void renumber(uint32_t count, uint64_t seq)
{
	for (uint32_t i = 0; i < count; i++)
		for (int b = 0; b < 8; b++)
			wire[i][8 + b] = (uint8_t)(seq >> (56 - 8 * b));
}

/* The repairs of a LOSSY frame: a poll that asks for them, then every tenth chunk. */
static uint64_t repair(struct fc_reasm *r, uint32_t count, uint64_t now)
{
	struct fc_dgram out[8], d;
	const uint8_t *f;
	size_t len;
	uint64_t n = 0;

	if (fc_reasm_poll(r, now, 80000000, 1000000, 1000000, out, 8) != 1 ||
	    out[0].type != FC_DGRAM_T_NACK)
		abort();
	for (uint32_t c = 5; c < count; c += 10, n++)
		if (fc_dgram_decode(wire[c], wire_len[c], &d) != 0 ||
		    fc_reasm_add(r, &d, now, &f, &len) < 0)
			abort();
	return n;
}

/* One run of `frames` frames through decode and reassembly (and, LOSSY, the poll that asks
 * for the repairs): ns for all of it, chunks handled in *n. Every frame comes at the same
 * moment, 1 ms after its request: only the work is timed, no deadline passes. */
static uint64_t run(struct fc_reasm *r, enum order o, uint32_t count, unsigned frames, uint64_t *n,
		    uint64_t *seq)
{
	unsigned seed = 1;
	uint64_t t0 = fc_clock_now_ns(), now = 1000000, done = 0;
	struct fc_dgram d;
	const uint8_t *f;
	size_t len;

	*n = 0;
	for (unsigned k = 0; k < frames; k++) {
		uint32_t arrivals = make_order(o, count, &seed);

		renumber(count, ++*seq);
		for (uint32_t i = 0; i < arrivals; i++) {
			uint16_t c = order[i];

			if (fc_dgram_decode(wire[c], wire_len[c], &d) != 0)
				abort();
			done += fc_reasm_add(r, &d, now, &f, &len) == FC_REASM_COMPLETE;
		}
		*n += arrivals;
		if (o == LOSSY) {
			*n += repair(r, count, now);
			done++;
		}
	}
	if (done != frames)
		abort();
	return fc_clock_now_ns() - t0;
}

/* The sender's side of one run: each frame's chunks encoded (copied after their header), the
 * frame kept for NACKs, a tenth of its chunks served again, older frames forgotten. */
static uint64_t send_run(struct fc_resend *rs, uint32_t count, unsigned frames, uint64_t *seq)
{
	static uint8_t dg[FC_DGRAM_MAX_SIZE];
	uint64_t t0 = fc_clock_now_ns();
	struct fc_dgram d;

	for (unsigned k = 0; k < frames; k++) {
		++*seq;
		for (uint32_t i = 0; i < count; i++) {
			uint32_t off = i * FC_DGRAM_CHUNK;

			d = (struct fc_dgram){ .type = FC_DGRAM_T_CHUNK, .conn = 1, .seq = *seq };
			d.u.chunk =
			    (struct fc_dgram_chunk){ .index = (uint16_t)i,
						     .count = (uint16_t)count,
						     .total = FRAME_BYTES,
						     .offset = off,
						     .chunk_size = FC_DGRAM_CHUNK,
						     .data = payload + off,
						     .size = FRAME_BYTES - off < FC_DGRAM_CHUNK
								 ? FRAME_BYTES - off
								 : FC_DGRAM_CHUNK };
			if (fc_dgram_encode(&d, dg, sizeof(dg)) == 0)
				abort();
		}
		if (fc_resend_keep(rs, *seq, payload, FRAME_BYTES, FC_DGRAM_CHUNK, 0, 0) != 0)
			abort();
		for (uint32_t c = 5; c < count; c += 10)
			if (fc_resend_chunk(rs, *seq, c, &d) != 0 ||
			    fc_dgram_encode(&d, dg, sizeof(dg)) == 0)
				abort();
		fc_resend_accepted(rs, *seq - 1);
	}
	return fc_clock_now_ns() - t0;
}

#define MAX_M 10

static uint8_t parity[MAX_M * FC_DGRAM_CHUNK];
static uint8_t pwire[MAX_M][FC_DGRAM_MAX_SIZE];
static size_t pwire_len[MAX_M];

/* out: the best of RUNS runs of `frames` calls of what, in ns a call. */
#define BEST(out, frames, what)                                                                    \
	do {                                                                                       \
		uint64_t best_ = UINT64_MAX;                                                       \
		for (int run_ = 0; run_ < RUNS; run_++) {                                          \
			uint64_t t0_ = fc_clock_now_ns();                                          \
			for (unsigned k_ = 0; k_ < (frames); k_++)                                 \
				what;                                                              \
			t0_ = fc_clock_now_ns() - t0_;                                             \
			best_ = t0_ < best_ ? t0_ : best_;                                         \
		}                                                                                  \
		(out) = (double)best_ / (frames);                                                  \
	} while (0)

/* Frame seq's m parity chunks on the wire, from the payload make_wire made. */
static void make_parity_wire(struct fc_fec *f, uint32_t count, unsigned m)
{
	if (fc_fec_encode(f, payload, FRAME_BYTES, FC_DGRAM_CHUNK, m, parity) != 0)
		abort();
	for (unsigned i = 0; i < m; i++) {
		struct fc_dgram d = { .type = FC_DGRAM_T_PARITY, .conn = 1, .seq = 1 };

		d.u.parity =
		    (struct fc_dgram_parity){ .index = (uint16_t)i,
					      .m = (uint16_t)m,
					      .k = (uint16_t)count,
					      .total = FRAME_BYTES,
					      .chunk_size = FC_DGRAM_CHUNK,
					      .data = parity + (size_t)i * FC_DGRAM_CHUNK };
		pwire_len[i] = fc_dgram_encode(&d, pwire[i], sizeof(pwire[i]));
		if (pwire_len[i] == 0)
			abort();
	}
}

/* The viewer's path for one frame with m data chunks lost (spread over the frame) and its m
 * parity chunks in: each decoded and added, the frame rebuilt. */
static void lossy_fec_frame(struct fc_reasm *r, uint32_t count, unsigned m, uint64_t *seq)
{
	struct fc_dgram d;
	const uint8_t *f;
	size_t len;
	int res = 0;

	++*seq;
	for (uint32_t i = 0; i < count; i++) {
		if (i % (count / m) == 1 && i / (count / m) < m)
			continue; /* lost */
		for (int b = 0; b < 8; b++)
			wire[i][8 + b] = (uint8_t)(*seq >> (56 - 8 * b));
		if (fc_dgram_decode(wire[i], wire_len[i], &d) != 0)
			abort();
		fc_reasm_add(r, &d, 1000000, &f, &len);
	}
	for (unsigned p = 0; p < m; p++) {
		for (int b = 0; b < 8; b++)
			pwire[p][8 + b] = (uint8_t)(*seq >> (56 - 8 * b));
		if (fc_dgram_decode(pwire[p], pwire_len[p], &d) != 0)
			abort();
		res = fc_reasm_add(r, &d, 1000000, &f, &len);
	}
	if (res != FC_REASM_COMPLETE)
		abort();
}

/* Forward error correction with m = 4, 7, 10: encode, rebuild alone, the viewer's path. */
static void fec_cases(struct fc_reasm *r, uint32_t count, unsigned frames, uint64_t *seq)
{
	static const unsigned ms[] = { 4, 7, MAX_M };
	static uint8_t buf[(FRAME_BYTES / FC_DGRAM_CHUNK + 1) * FC_DGRAM_CHUNK];
	uint8_t have[(FRAME_BYTES / FC_DGRAM_CHUNK + 1 + 7) / 8], have_p[2] = { 0xFF, 0xFF };
	char err[200];
	struct fc_fec *f = fc_fec_new(err, sizeof(err));

	if (!f)
		abort();
	memcpy(buf, payload, FRAME_BYTES);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		unsigned m = ms[i];
		double enc, reb, path;

		memset(have, 0xFF, sizeof(have));
		for (unsigned j = 0; j < m; j++) /* m lost, spread over the frame */
			have[(j * (count / m) + 1) / 8] &=
			    (uint8_t) ~(1u << ((j * (count / m) + 1) % 8));
		make_parity_wire(f, count, m);
		BEST(enc, frames,
		     fc_fec_encode(f, payload, FRAME_BYTES, FC_DGRAM_CHUNK, m, parity));
		BEST(reb, frames,
		     fc_fec_rebuild(f, buf, FRAME_BYTES, FC_DGRAM_CHUNK, m, have, parity, have_p));
		if (memcmp(buf, payload, FRAME_BYTES) != 0)
			abort();
		BEST(path, frames, lossy_fec_frame(r, count, m, seq));
		printf(
		    "fec m = %2u: sender encode %6.1f us, rebuild %2u chunks %6.1f us, viewer path "
		    "with %u lost %6.1f us a frame\n",
		    m, enc / 1000, m, reb / 1000, m, path / 1000);
	}
	fc_fec_free(f);
}

int main(int argc, char **argv)
{
	static const char *const name[] = { "in order", "shuffled, a tenth twice",
					    "a tenth lost, NACKed and repaired" };
	unsigned frames = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	uint32_t count = make_wire(1);
	char err[200];
	struct fc_reasm *r = fc_reasm_new(4, FC_DGRAM_MAX_FRAME, err, sizeof(err));
	struct fc_resend *rs = fc_resend_new(8u << 20, 64, err, sizeof(err));
	uint64_t seq = 0, sseq = 0;

	if (!r || !rs || frames == 0) {
		fprintf(stderr, "fc-benchreasm: %s\n", frames ? err : "FRAMES must be 1 or more");
		return 1;
	}
	printf("frame %d bytes, %u chunks of %d, %u frames a run, best of %d\n", FRAME_BYTES, count,
	       FC_DGRAM_CHUNK, frames, RUNS);
	for (int o = IN_ORDER; o <= LOSSY; o++) {
		uint64_t best = UINT64_MAX, n = 0;

		for (int k = 0; k < RUNS; k++) {
			uint64_t t = run(r, (enum order)o, count, frames, &n, &seq);

			best = t < best ? t : best;
		}
		printf("viewer, %-34s %6.1f ns a chunk, %6.1f us a frame\n", name[o],
		       (double)best / (double)n, (double)best / frames / 1000.0);
	}
	{
		uint64_t best = UINT64_MAX;

		for (int k = 0; k < RUNS; k++) {
			uint64_t t = send_run(rs, count, frames, &sseq);

			best = t < best ? t : best;
		}
		printf("sender, encode, keep, serve a tenth:  %6.1f ns a chunk, %6.1f us a frame\n",
		       (double)best / ((double)frames * (count + count / 10)),
		       (double)best / frames / 1000.0);
	}
	fec_cases(r, count, frames, &seq);
	fc_reasm_free(r);
	fc_resend_free(rs);
	return 0;
}
