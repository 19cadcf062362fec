/*
 * parts: a session's sending of one frame in parts while the capture encodes it
 * (docs/PROTOCOL.md, section 14): FRAME_START with the bytes there are, a FRAME_PART whenever
 * more are (the encoder's reports poke the session awake, growing.h), and FRAME_END with the
 * last ones once the frame is whole; or, given up, an END saying why: the encode failed, a
 * newer picture is already whole, or the frame's age passed the viewer's budget before its end.
 *
 * One frame at a time: while one is open the session sends nothing else but PONGs (session.c
 * keeps to the order rules). Ownership: the state is the session's and holds a reference to
 * the frame while it is open. Threads: the session thread alone; the frame's bytes are read up
 * to the length the producer published (frame.h: avail, growth), never past it.
 */
#ifndef FC_PARTS_H
#define FC_PARTS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "frame.h"
#include "proto.h"

/* Frames sent in parts whose encode time is remembered for their VERDICTs. */
#define FC_PARTS_TX_RING 32

struct fc_parts_tx {
	struct fc_frame *f; /* the frame open, or NULL */
	uint32_t id;
	uint32_t sent;		 /* its bytes sent so far */
	uint64_t s2_ns;		 /* when its START left */
	uint64_t deadline_ns;	 /* its capture time plus the viewer's budget: given up after */
	struct {		 /* for each frame that ended whole: how long after S2 its encode */
		uint64_t seq;	 /* went on, which the viewer's recv_us counts but is not the */
		uint64_t enc_ns; /* link's time */
	} ring[FC_PARTS_TX_RING];
	unsigned rhead;
};

/* How a frame in parts ended, for the session's books. */
struct fc_parts_tx_end {
	uint8_t status; /* enum fc_parts_status */
	uint32_t total; /* its bytes */
	uint64_t seq;
	uint64_t s2_ns;
};

/* Sends start (its fixed part filled by the caller, S2 read just before) with the bytes f has
 * so far, and opens f, taking a reference. -1 when the connection failed. */
int fc_parts_tx_start(struct fc_parts_tx *t, struct fc_conn *conn, struct fc_frame_msg start,
		      struct fc_frame *f, uint64_t budget_ns, int timeout_ms);

/* Sends what the open frame gained since, and its END once it is whole or given up (newest:
 * the slot's newest whole frame). 0: still open; 1: ended, *end says how; -1: the connection
 * failed. */
int fc_parts_tx_follow(struct fc_parts_tx *t, struct fc_conn *conn, uint64_t newest, uint64_t now,
		       int timeout_ms, struct fc_parts_tx_end *end);

static inline bool fc_parts_tx_open(const struct fc_parts_tx *t)
{
	return t->f != NULL;
}

/* A VERDICT's recv_ns for frame seq, less the part of it the encoder took when the frame left
 * while encoded: what the link took, for the control law (adapt.h). */
uint64_t fc_parts_tx_link_ns(const struct fc_parts_tx *t, uint64_t seq, uint64_t recv_ns);

/* Drops the open frame, if any, without an END (the connection is ending). */
void fc_parts_tx_drop(struct fc_parts_tx *t);

#endif
