/*
 * ladder: the renditions the sender can make of each picture, which of them viewers want now,
 * and how large each one comes out.
 *
 * A rung is a picture size (the captured picture's sides divided by 1, 2, 4 or 8) and a JPEG
 * quality; rung 0 is the full picture at --quality (or a camera's own JPEG, passed through),
 * and each rung after it is smaller in bytes: the full picture a little softer, then half each
 * side, then a quarter, then an eighth. A viewer whose link cannot carry full frames within its
 * budget is sent a lower rung (adapt.h chooses), and each rung is encoded once per picture
 * however many viewers want it, and only while one does: sessions register what they want
 * (fc_ladder_want), the capture thread asks before each picture (fc_ladder_wanted).
 *
 * The capture thread also tells the size of every JPEG it made (fc_ladder_learn); sessions ask
 * what a rung would weigh now (fc_ladder_expect): its own recent size, or, for a rung not made
 * lately, a prediction from the rung that was, by how JPEG sizes scale with area and quality.
 *
 * Threads: made by the main thread before the capture and the sessions start; after that every
 * field that changes is atomic (the rungs themselves never change), so any thread may call
 * anything here. Freed by the main thread after both have stopped.
 */
#ifndef FC_LADDER_H
#define FC_LADDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define FC_LADDER_MAX	   FC_FRAME_RUNGS
#define FC_LADDER_MIN_SIDE 32 /* a rung whose picture would be narrower or lower is left out */

struct fc_rung {
	uint8_t shift;	 /* the picture's sides >> shift: 0 full, 1 half, 2 quarter, 3 eighth */
	uint8_t quality; /* JPEG quality; 0 for a camera's own JPEG (rung 0 passed through) */
};

struct fc_ladder {
	int count; /* rungs, 1..FC_LADDER_MAX */
	struct fc_rung rung[FC_LADDER_MAX];
	/* Sessions that want each rung now. */
	atomic_int want[FC_LADDER_MAX];
	/* Learnt JPEG sizes: a moving average of the bytes of each rung, and the picture (its
	 * capture sequence number) it was last updated at; 0 before the first. */
	_Atomic uint32_t bytes[FC_LADDER_MAX];
	_Atomic uint64_t bytes_seq[FC_LADDER_MAX];
	/* Rungs that could not be made of this source (a bit each): a camera's JPEG the scaled
	 * decode refuses, say. Left out until the source changes (fc_ladder_forget). */
	_Atomic uint32_t broken;
};

/*
 * Fills l for pictures encoded at quality (1..100). passthrough: rung 0 is a camera's own JPEG,
 * so there is no softer full-size rung (it would need a whole decode and encode); adapt false:
 * rung 0 alone (every viewer gets the full picture, as --adapt off asks).
 */
void fc_ladder_init(struct fc_ladder *l, int quality, bool passthrough, bool adapt);

/* The size of rung r for a picture of src_w x src_h: its sides shifted, rounded down to even. */
void fc_ladder_size(const struct fc_ladder *l, int r, int src_w, int src_h, int *w, int *h);

/* Whether rung r can be made of a src_w x src_h picture (no side under FC_LADDER_MIN_SIDE, and
 * not broken). */
bool fc_ladder_fits(const struct fc_ladder *l, int r, int src_w, int src_h);

/* A session now wants rung to (-1: none) instead of rung from (-1: none). */
void fc_ladder_move(struct fc_ladder *l, int from, int to);

/* The rungs to make of the next picture, a bit each: the ones wanted, or rung 0 alone when no
 * session wants any (nobody watching: the full picture, ready for the first viewer). */
uint32_t fc_ladder_wanted(struct fc_ladder *l);

/* Capture thread: rung r of picture seq came out at bytes. */
void fc_ladder_learn(struct fc_ladder *l, int r, size_t bytes, uint64_t seq);

/* What rung r of the next picture is expected to weigh, in bytes, with seq the newest picture;
 * 0 when nothing has been made yet. */
uint32_t fc_ladder_expect(struct fc_ladder *l, int r, uint64_t seq);

/* Capture thread: rung r could not be made of this source; it is left out from now on, so
 * that no session waits for it (rung 0, the picture itself, always stays). */
void fc_ladder_fail(struct fc_ladder *l, int r);

/* Forgets the learnt sizes and the broken rungs (the source changed: a camera back, perhaps at
 * another size or in another format). */
void fc_ladder_forget(struct fc_ladder *l);

#endif
