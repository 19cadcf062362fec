/*
 * follow: the display's side of frames in parts (issue 19). While the network thread gathers a
 * frame's bytes (viewer/net/partrx.h shows it growing in the stream's slot), the display thread
 * feeds each new run of them to the partial decoder (partdec.h) as it is woken for them, so that
 * when the frame is accepted and published only its last bytes are left to decode. A frame is
 * only ever shown from the slot's published (accepted) frames, as before: a frame that ends any
 * other way (rejected, given up, its connection gone) is dropped with its partial decode and
 * counted, and nothing of it reaches the screen.
 *
 * Ownership: the follower holds one reference to the frame it follows, and the partial decoder
 * and its planes; the slot is the caller's. Thread: the display (main) thread only; it reads a
 * frame's bytes up to the avail the network thread release-stored, never past it.
 */
#ifndef FC_FOLLOW_H
#define FC_FOLLOW_H

#include <stdint.h>

#include "decoder.h"
#include "frame.h"
#include "partdec.h"
#include "slot.h"

struct fc_follow {
	struct fc_partdec *dec;
	struct fc_frame *f; /* the frame followed, or NULL */
	size_t fed;	    /* its bytes fed so far */
	bool failed;	    /* the decoder refused its bytes: decoded whole at the end instead */
	/* Counts since init: frames followed, pictures finished from a partial decode, frames
	 * dropped with one (never shown). */
	uint64_t followed;
	uint64_t decoded;
	uint64_t discarded;
};

/* 0, or -1 with the reason in err. */
int fc_follow_init(struct fc_follow *fl, char *err, size_t errlen);
void fc_follow_free(struct fc_follow *fl);

/* Follows the newest frame growing in slot that is newer than after_seq (the last one shown):
 * feeds its new bytes, and drops one that ended without being published. Never waits. */
void fc_follow_step(struct fc_follow *fl, struct fc_slot *slot, uint64_t after_seq);

/*
 * The picture of published frame f: from the partial decode when f is the frame followed (its
 * last bytes fed now), else from a whole decode by d, as before. 0 with *pic (valid until the
 * next call), or -1 with the reason (*why: the decoder's words). Either way the frame is no
 * longer followed.
 */
int fc_follow_picture(struct fc_follow *fl, struct fc_decoder *d, struct fc_frame *f,
		      struct fc_picture *pic, const char **why);

/* Stops following (the frame was dropped before its decode, or the stream ends): counted as
 * discarded when a partial decode was under way. */
void fc_follow_drop(struct fc_follow *fl);

#endif
