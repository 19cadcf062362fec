/*
 * growing: shows a frame to the sessions while its full picture is being encoded, so that its
 * bytes can leave before the last one is written (docs/PROTOCOL.md, section 14).
 *
 * The capture thread begins one before an encode: the frame, its fields already set, is shown
 * in the slot as growing (slot.h, fc_slot_begin) and the encoder is followed (encoder.h): each
 * report stores how many bytes are final (frame.h, avail) and, every step of bytes (a third
 * of the frame's likely size, at least 16 KiB), pokes the slot's watchers, so a session waiting
 * in poll() wakes to send them; no lock is taken per report. fc_growing_end marks the frame whole (the caller then publishes it, which
 * stops showing it growing) or failed (shown no more).
 *
 * Ownership: the frame stays the caller's; the slot holds a reference of its own while it is
 * shown. Threads: the capture thread alone (the encoder's reports come on it).
 */
#ifndef FC_GROWING_H
#define FC_GROWING_H

#include <stdbool.h>
#include <stddef.h>

#include "encoder.h"
#include "frame.h"
#include "slot.h"

/* Each wake-up of a session costs a poll() and a send, so a frame's bytes are handed on in
 * about FC_GROWING_PARTS pokes of at least FC_GROWING_STEP bytes each, not once a strip: the
 * first poke sends the START with a third of the frame, the publish of the whole one the END.
 * Three, not more: on loopback each message also costs the sender the receiver's side of the
 * stack, and four made the sender's CPU per frame 6 to 7% more than whole frames (bench/parts_send.py). */
#define FC_GROWING_PARTS 3
#define FC_GROWING_STEP	 (16u << 10)

struct fc_growing {
	struct fc_slot *slot;
	struct fc_frame *f; /* the frame shown, or NULL when none is */
	struct fc_encoder *enc;
	size_t step;  /* new bytes between two pokes */
	size_t poked; /* avail at the last poke */
};

/* Shows f growing and follows enc's next encode into it, when some session follows growing
 * frames (fc_slot_followers); otherwise leaves g idle. expect: the JPEG's likely size (the
 * ladder's figure for the full picture, ladder.h), which sets the step. */
void fc_growing_begin(struct fc_growing *g, struct fc_slot *slot, struct fc_encoder *enc,
		      struct fc_frame *f, size_t expect);

/* After the encode: ok, f->size and f->done_ns set: the frame is whole; else it failed and is
 * shown no more. Stops following the encoder. A no-op on an idle g. */
void fc_growing_end(struct fc_growing *g, bool ok);

#endif
