/*
 * fc-benchreasm: what the UDP transport's pure parts cost per chunk and per frame, without
 * sockets (docs/UDP.md, "What it costs"): a frame of 100 KB (the 1280x720 test pattern's size)
 * cut into 1200-byte chunks, each chunk encoded (dgram.c), decoded and added to a reassembler
 * (reasm.c) in order, in a shuffled order with a tenth sent twice, and with one chunk in ten
 * lost and repaired; the sender's side kept and served again (resend.c). Prints one line per
 * case: ns per chunk and us per frame, the best of five runs (a shared machine's noise only
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
	fc_reasm_free(r);
	fc_resend_free(rs);
	return 0;
}
