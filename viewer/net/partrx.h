/*
 * partrx: the network thread's side of frames in parts (docs/PROTOCOL.md, section 14; issue 19).
 * It checks every message from the sender against the order rules (fc_parts_rx_take), gathers
 * an open frame's bytes into a pooled frame that the display follows while they arrive
 * (fc_slot_begin: it decodes them as they come, viewer/show/follow.h), and at the END either
 * makes the frame whole and publishes it (accepted: its bound within the budget) or ends it
 * (rejected, given up, or the connection gone), so that the display drops its partial decode.
 * The age bound and the VERDICT stay client.c's: the END is judged as a FRAME is, with V3 the
 * END's arrival and the START's fields (fc_partrx_frame).
 *
 * Ownership: the open frame is the partrx's (one reference) and the slot's while shown growing;
 * the pool and the slot are the client's. Thread: fc-net only; the display reads the frame's
 * bytes up to its avail (release-stored after each copy), never past it.
 */
#ifndef FC_PARTRX_H
#define FC_PARTRX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "proto.h"
#include "proto_parts.h"
#include "record.h"
#include "slot.h"

struct fc_partrx {
	struct fc_parts_rx rx;
	struct fc_frame *f;	   /* the open frame (or the one whose END is being judged) */
	struct fc_frame_msg start; /* its START's fields; jpeg and jpeg_size set at the END */
	bool given_up;		   /* its END said so */
	uint64_t first_ns;	   /* when START's first byte was read */
	uint64_t gap_ns;	   /* the longest stall inside any of its messages */
};

/* What fc_partrx_take made of a message. */
enum fc_partrx_result {
	FC_PARTRX_ERROR = -1, /* the order rules broken (why says how): BYE 3 */
	FC_PARTRX_OTHER = 0,  /* not a frame in parts: handle it as before */
	FC_PARTRX_MORE = 1,   /* bytes taken for the open frame */
	FC_PARTRX_END = 2,    /* the frame's END: judge fc_partrx_frame, then publish or drop */
};

/*
 * One message from the sender, read at first_ns (its first byte) with gap_ns its longest stall
 * (conn.h). A START takes a frame from pool (at the largest size a frame may have: its length is
 * known only at the END) and shows it growing in slot; every byte is copied once, there.
 */
int fc_partrx_take(struct fc_partrx *p, const struct fc_msg *m, uint64_t first_ns, uint64_t gap_ns,
		   struct fc_frame_pool *pool, struct fc_slot *slot, char *why, size_t len);

/* After FC_PARTRX_END: the frame as one FRAME message (START's fields, all its bytes). */
const struct fc_frame_msg *fc_partrx_frame(const struct fc_partrx *p);

/* Whether a frame's bytes are held (from its START until it is published or dropped). */
static inline bool fc_partrx_holds(const struct fc_partrx *p)
{
	return p->f != NULL;
}

/* After FC_PARTRX_END and the judging, for an accepted frame that fc_partrx_holds: makes it
 * whole (its size, V3 recv_ns, its bound, doc_size bytes of doc after the JPEG), hands it to
 * the recorder (record, or NULL) and publishes it into slot, as client.c publishes a FRAME. */
void fc_partrx_publish(struct fc_partrx *p, struct fc_slot *slot, struct fc_record *record,
		       uint64_t v3, uint64_t bound_ns, const uint8_t *doc, size_t doc_size);

/* Ends the frame without publishing it (rejected, given up, or the connection gone): the display
 * drops its partial decode. A no-op with no frame. */
void fc_partrx_drop(struct fc_partrx *p, struct fc_slot *slot);

#endif
