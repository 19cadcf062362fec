/*
 * resend: what a sender keeps to answer a viewer's NACKs over the UDP transport (docs/UDP.md):
 * the bytes of the frames it sent lately (each a FRAME payload, cut into chunks of one size),
 * forgotten as soon as no viewer could still use them:
 *   - older than the budget by the sender's own clock (its age when sent plus the time since:
 *     the viewer's bound could only be larger, so it would be rejected);
 *   - superseded: the viewer accepted that frame or a newer one (it never shows an older one);
 *   - given up by the viewer (its GIVEUP);
 *   - pushed out by newer frames when the byte bound or the frame bound is reached.
 * A NACK for a frame no longer kept is answered with a GIVEUP (FC_GIVEUP_FORGOTTEN).
 *
 * Memory: one arena of max_bytes, allocated once, used as a ring (a frame is copied into it
 * whole, once, as it is sent), and a table of max_frames entries; nothing is allocated per
 * frame (docs/STYLE.md, 6). A frame larger than the arena is sent but not kept.
 *
 * No sockets and no clock of its own: times are the caller's (the sender's CLOCK_MONOTONIC,
 * ns). Never prints. One struct fc_resend per viewer, used by that viewer's session thread only.
 */
#ifndef FC_RESEND_H
#define FC_RESEND_H

#include <stddef.h>
#include <stdint.h>

#include "dgram.h"

#define FC_RESEND_MAX_FRAMES 256 /* frames kept at most, whatever the caller asks */

struct fc_resend_stats {
	uint64_t kept;	     /* frames kept */
	uint64_t too_large;  /* frames too large for the arena: sent, not kept */
	uint64_t expired;    /* forgotten: older than the budget */
	uint64_t superseded; /* forgotten: the viewer accepted it or a newer one, or gave it up */
	uint64_t pushed;     /* forgotten for room, still young: the bounds are too small */
	uint64_t served;     /* chunks handed out again for a NACK */
	uint64_t missing;    /* chunks asked for of frames no longer kept */
};

struct fc_resend;

/* A store of at most max_bytes of frame bytes (FC_DGRAM_MIN_CHUNK..1 GiB) in at most
 * max_frames frames (1..FC_RESEND_MAX_FRAMES). NULL with err when out of bounds or memory. */
struct fc_resend *fc_resend_new(size_t max_bytes, unsigned max_frames, char *err, size_t errlen);
void fc_resend_free(struct fc_resend *rs);

/*
 * Keeps a copy of the frame seq just sent: its FRAME payload frame[0..len), cut at chunk_size
 * (fc_dgram_count), sent at sent_ns when it was age_ns old (its FRAME's age_ns). seq must be
 * larger than every frame kept before. Older frames are forgotten for room as need be. 0, or -1
 * when it is not kept (out of order, len or chunk_size out of bounds, larger than the arena).
 */
int fc_resend_keep(struct fc_resend *rs, uint64_t seq, const uint8_t *frame, uint32_t len,
		   uint32_t chunk_size, uint64_t sent_ns, uint64_t age_ns);

/* Forgets every frame whose age by now, age when sent + (now_ns - sent_ns), is over budget_ns. */
void fc_resend_expire(struct fc_resend *rs, uint64_t now_ns, uint64_t budget_ns);

/* The viewer accepted frame seq: it and every older frame are of no more use. */
void fc_resend_accepted(struct fc_resend *rs, uint64_t seq);

/* The viewer gave frame seq up: forgets it. */
void fc_resend_forget(struct fc_resend *rs, uint64_t seq);

/*
 * Chunk `index` of frame seq again, as a datagram in *out (conn left 0 for the caller): its data
 * points into the store, valid until the next call that keeps or forgets. 0; -1 when the frame
 * is no longer kept (answer with a GIVEUP); -2 when the frame has no such chunk (a NACK that
 * lies: ignore it).
 */
int fc_resend_chunk(struct fc_resend *rs, uint64_t seq, uint32_t index, struct fc_dgram *out);

/* Frames and bytes kept now. */
unsigned fc_resend_frames(const struct fc_resend *rs);
size_t fc_resend_bytes(const struct fc_resend *rs);

void fc_resend_stats(const struct fc_resend *rs, struct fc_resend_stats *out);

#endif
