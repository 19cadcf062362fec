/*
 * reasm: the viewer's side of the UDP transport (docs/UDP.md): frames put back together from
 * their chunks, which come in any order, some twice, some never; the repair of a frame with
 * holes (a NACK) only while the repaired frame could still be within the budget, and the frame
 * given up the moment it could not.
 *
 * What it guarantees: a frame comes out only with every one of its chunks, in or rebuilt
 * (never a hole, never a grey band), at most once, and never after a newer one (a frame older
 * than the newest complete one is dropped, and so are late chunks of a frame given up). At
 * most `frames` frames are in assembly, the oldest given up first, each at most max_frame
 * bytes: the memory is frames x (max_frame, a chunk of padding, its chunk map, and its parity:
 * at most one parity chunk a data chunk, so another max_frame and chunk), allocated as frames
 * arrive and kept (docs/STYLE.md, 6).
 *
 * Parity (fec.h): a frame's PARITY chunks are kept with it, and once its data and parity
 * chunks in reach its data count (in every group), the missing data chunks are rebuilt and the
 * frame is whole; a parity chunk that disagrees with its frame's geometry or m is refused, and
 * a rebuilt frame whose FRAME fields proto.c refuses is given up: never a wrong picture from a
 * lie about the geometry. While the parity still to come could cover what is lost, no NACK
 * goes (the parity comes right behind the data); a NACK asks only for what it cannot cover.
 *
 * The repair rule, with B the budget and rtt the round trip estimate (docs/UDP.md has the
 * arithmetic): a frame must be whole by its deadline, the earlier of
 *   first chunk's arrival + B          (its age is at least the time since its first byte came)
 *   the later of the times either of the viewer's age bounds reaches B, from chunk 0's fields:
 *     t0 + B + held - age              (the request's bound: its own round trip)
 *     (send - age) - hi + B            (the clock offset's, once one is known, fc_reasm_offset:
 *                                       a request that TCP delayed does not make it late)
 * A chunk is lost when a later chunk of its frame has come, or, for the last ones, when nothing
 * came for `reorder`. A NACK for the lost chunks goes while now + rtt <= deadline (its answer
 * can still come in time), again each rtt (at least 1 ms) while some are still missing; when lost
 * chunks cannot come back in time, or the deadline passed, the frame is given up (a tail that
 * has not come, which may only be late, is waited for until the deadline).
 *
 * No sockets and no clock of its own: every time is the caller's (the viewer's CLOCK_MONOTONIC,
 * ns). Never prints. One struct fc_reasm belongs to one thread (the stream's network thread).
 */
#ifndef FC_REASM_H
#define FC_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram.h"

#define FC_REASM_MAX_FRAMES 64 /* frames in assembly at most, whatever the caller asks */

/* What became of one chunk. */
enum fc_reasm_result {
	FC_REASM_STORED = 1,	/* kept; its frame still has holes */
	FC_REASM_COMPLETE = 2,	/* its frame is whole: *frame holds it */
	FC_REASM_DUPLICATE = 3, /* that chunk was in already: dropped */
	FC_REASM_OLD = 4,	/* its frame is older than the newest complete, or was given up */
	FC_REASM_CONFLICT = 5,	/* disagrees with its frame's other chunks on its geometry */
	FC_REASM_TOO_LARGE = 6, /* its frame is longer than this reassembler takes */
};

/* Counters, for the figures (docs/STATS_JSON.md once wired). */
struct fc_reasm_stats {
	uint64_t chunks;    /* chunks taken (stored, completing) */
	uint64_t complete;  /* frames handed out whole */
	uint64_t duplicate; /* chunks that came twice */
	uint64_t old;	    /* chunks of frames already done with */
	uint64_t conflict;  /* chunks that disagreed with their frame */
	uint64_t too_large; /* chunks of frames over max_frame */
	uint64_t late;	    /* frames given up: no repair could be in time */
	uint64_t evicted;   /* frames given up for newer ones (assembly full, or one completed) */
	uint64_t nacks;	    /* NACKs asked for */
	uint64_t asked;	    /* chunks those NACKs listed */
	uint64_t parity;    /* parity chunks taken (stored, completing) */
	uint64_t rebuilt;   /* frames made whole from their parity */
	uint64_t rebuilt_chunks; /* data chunks those frames had missing, rebuilt */
	uint64_t frame_chunks;	 /* data chunks of the frames that left assembly (whole or not),
				  * those of a tail that never came left out (late, not lost) */
	uint64_t lost_chunks;	 /* of them, not in when their frame left (rebuilt or never in) */
	uint64_t lost_runs;	 /* the runs those made, each frame's counted apart */
};

struct fc_reasm;

/* A reassembler for up to `frames` frames at once (1..FC_REASM_MAX_FRAMES) of up to max_frame
 * bytes each (FC_PROTO_FRAME_FIXED..FC_DGRAM_MAX_FRAME). NULL with err when out of bounds or
 * out of memory. */
struct fc_reasm *fc_reasm_new(unsigned frames, uint32_t max_frame, char *err, size_t errlen);
void fc_reasm_free(struct fc_reasm *r);

/*
 * Takes one decoded chunk (d->type FC_DGRAM_T_CHUNK, or FC_DGRAM_T_PARITY for a parity chunk)
 * that arrived at now_ns. On FC_REASM_COMPLETE, *frame and *len hold the whole FRAME message
 * (its 8-byte header and payload, for fc_proto_decode), valid until the next call on r; V3 is
 * now_ns. Returns an enum fc_reasm_result, or -1 when memory for a new frame could not be had
 * (the chunk is dropped).
 */
int fc_reasm_add(struct fc_reasm *r, const struct fc_dgram *d, uint64_t now_ns,
		 const uint8_t **frame, size_t *len);

/*
 * What to send now, into out[0..cap) as datagrams to encode (the caller sets conn): NACKs for
 * frames whose lost chunks can still be repaired in time, GIVEUPs for frames given up (by the
 * rule above, or evicted since the last call). budget_ns is B, rtt_ns the round trip estimate
 * (its recent least is the right one: a repair may take no less), reorder_ns how long the last
 * chunks may lag before they count as lost. Returns how many it wrote; what did not fit comes
 * at the next call. Call it at least every few milliseconds while frames are in assembly.
 */
size_t fc_reasm_poll(struct fc_reasm *r, uint64_t now_ns, uint64_t budget_ns, uint64_t rtt_ns,
		     uint64_t reorder_ns, struct fc_dgram *out, size_t cap);

/* The sender no longer keeps frame seq (its GIVEUP, forgotten): no repair will come, so the
 * frame is given up now if it is in assembly (a GIVEUP late at the next fc_reasm_poll, as for
 * one given up by the rule), instead of at its deadline. */
void fc_reasm_forget(struct fc_reasm *r, uint64_t seq);

/* What the viewer proves of the clocks (common/offset.h): the sender's clock less ours is at
 * most hi_ns now, or nothing is known (known false: the request's bound alone). The viewer
 * shows a frame when either of its bounds is within the budget, so a frame is given up only once
 * both are past it. */
void fc_reasm_offset(struct fc_reasm *r, bool known, int64_t hi_ns);

/* The earliest time fc_reasm_poll may have something new to say (a deadline, a NACK's answer
 * due, the reorder wait of a frame's tail), for the caller's poll timeout; UINT64_MAX when no
 * frame is in assembly. */
uint64_t fc_reasm_next_ns(const struct fc_reasm *r, uint64_t budget_ns, uint64_t reorder_ns);

/* Frames in assembly now. */
unsigned fc_reasm_pending(const struct fc_reasm *r);

void fc_reasm_stats(const struct fc_reasm *r, struct fc_reasm_stats *out);

#endif
