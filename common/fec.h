/*
 * fec: forward error correction for the UDP transport's frames (docs/UDP.md, "Forward error
 * correction"): m parity chunks computed from a frame's k data chunks with a systematic
 * Reed-Solomon code over GF(2^8) (a Cauchy matrix, Intel's ISA-L for the arithmetic), so that any
 * k of the k + m rebuild the frame; and the choice of m from the measured loss.
 *
 * The code: a frame of total bytes is cut at chunk size cs into k = ceil(total / cs) data chunks
 * (dgram.h); for the code the last one is padded with zeros to cs, and every parity chunk is cs
 * bytes. GF(2^8) allows at most 255 chunks in one code word, so a frame whose k + m would not fit
 * is coded as G interleaved groups (fc_fec_groups): data chunk i and parity chunk p belong to
 * group i mod G and p mod G, and in group j, parity b (the b-th of the group) is
 *   sum over the group's data a of  d_a / ((k_j + b) xor a)     (GF(2^8), 1/x the inverse)
 * with a the data chunk's place in its group and k_j the group's data count: the Cauchy rows
 * of ISA-L's gf_gen_cauchy1_matrix, any square part of which is invertible. Interleaving also
 * spreads a burst over the groups. Both sides compute G from k and m alone: it is protocol.
 *
 * Ownership: a struct fc_fec holds scratch (tables, matrices, a padded chunk) allocated once by
 * fc_fec_new; the frame, parity and maps are the caller's. No I/O, no clock, never prints. One
 * handle belongs to one thread; the functions without a handle are pure and thread-safe.
 */
#ifndef FC_FEC_H
#define FC_FEC_H

#include <stddef.h>
#include <stdint.h>

/* Data and parity chunks of one code word at most: the nonzero elements of GF(2^8). */
#define FC_FEC_MAX_BLOCK 255
/* Parity chunks of one frame at most (and never more than its data chunks: a viewer keeps
 * at most a frame's worth of parity). */
#define FC_FEC_MAX_PARITY 255
/* Groups at most: the largest frame (FC_DGRAM_MAX_CHUNKS data chunks) with the most parity. */
#define FC_FEC_MAX_GROUPS 130

struct fc_fec;

/* How many interleaved groups a frame of k data and m parity chunks is coded as: the least G
 * with ceil(k / G) + ceil(m / G) <= FC_FEC_MAX_BLOCK; 0 when k or m is out of bounds (k from 1
 * to FC_DGRAM_MAX_CHUNKS, m from 1 to the lesser of k and FC_FEC_MAX_PARITY). */
unsigned fc_fec_groups(unsigned k, unsigned m);

/* Scratch for coding frames cut at chunk sizes up to FC_DGRAM_MAX_CHUNK. NULL with err when
 * out of memory. */
struct fc_fec *fc_fec_new(char *err, size_t errlen);
void fc_fec_free(struct fc_fec *f);

/*
 * The m parity chunks of frame[0..total) cut at cs: parity p at parity + p x cs, cs bytes each
 * (the caller's, m x cs bytes). 0, or -1 when total, cs or m are out of bounds (dgram.h's
 * fc_dgram_count, fc_fec_groups).
 */
int fc_fec_encode(struct fc_fec *f, const uint8_t *frame, uint32_t total, uint32_t cs, unsigned m,
		  uint8_t *parity);

/*
 * Rebuilds in place the data chunks of a frame that are missing, from the others and the
 * parity. buf holds the k data chunks at their offsets (k x cs bytes: room for the last one's
 * padding, which this zeroes), have_data a bit per data chunk (bit i % 8 of byte i / 8: chunk i
 * is in), parity and have_parity the same for the m parity chunks. Returns the number of chunks
 * rebuilt (0 when none was missing), or -1, with nothing written, when some group has fewer
 * than its data count of chunks in (or the geometry is out of bounds).
 */
int fc_fec_rebuild(struct fc_fec *f, uint8_t *buf, uint32_t total, uint32_t cs, unsigned m,
		   const uint8_t *have_data, const uint8_t *parity, const uint8_t *have_parity);

/*
 * The share of frames of k data and m parity chunks (m may be 0) that arrive whole or
 * rebuildable when chunks are lost at rate loss (0..1) in bursts of burst chunks on average: a
 * two-state Markov (Gilbert) model where a chunk is lost with probability 1 - 1/burst after a
 * lost one, so that the rate stays loss; a burst of 1 / (1 - loss) or less is independent loss
 * (binomial). Groups are taken as independent of each other (their chunks are G apart on the
 * wire; each group sees the chain G steps at a time).
 */
double fc_fec_whole(unsigned k, unsigned m, double loss, double burst);

/*
 * Parity chunks for frames of k data chunks so that at least target (say 0.99) of them are
 * whole, by fc_fec_whole: the least such m, but at most max(1, k x max_overhead) and
 * FC_FEC_MAX_PARITY (the bound is returned when it does not reach the target); 0 when loss is
 * 0 or k is out of bounds.
 */
unsigned fc_fec_choose(unsigned k, double loss, double burst, double target, double max_overhead);

#endif
