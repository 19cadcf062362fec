/*
 * frame: a reference-counted, immutable-once-published JPEG frame, and the pool it comes from.
 *
 * One encode serves every viewer: the capture thread fills a frame, publishes it in the slot, and
 * each session that sends it holds a reference while its bytes go out. The last fc_frame_unref
 * returns the frame to its pool, so steady streaming allocates nothing per frame. A pool lives
 * until its last frame is returned, even after fc_frame_pool_release, so no thread needs to know
 * who finishes last.
 *
 * On the sender a published frame also heads the other renditions of its picture (smaller or
 * softer JPEGs for viewers on slower links, sender/encode/ladder.h): the producer fixes which it will
 * make before publishing (planned), then hands each over once, when it is ready (alt); the head
 * holds a reference to each and drops them when it goes back to its pool.
 *
 * Thread-safe: references are atomic, the pool's free list has its own small lock.
 */
#ifndef FC_FRAME_H
#define FC_FRAME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Renditions one picture may have (sender/encode/ladder.h), the head itself being rung 0. */
#define FC_FRAME_RUNGS 8

struct fc_frame_pool;

struct fc_frame {
	atomic_int refs;
	struct fc_frame_pool *pool;
	uint8_t *data; /* the JPEG bytes, data[0..size) */
	size_t size;
	size_t cap;	     /* bytes allocated at data */
	uint64_t seq;	     /* producer's sequence number, increasing */
	uint64_t capture_ns; /* producer's clock: when the picture was taken (Sc) */
	uint16_t width;	     /* this JPEG's size */
	uint16_t height;
	uint16_t src_width; /* the picture's size, the JPEG's or larger when it is a rendition */
	uint16_t src_height;
	uint8_t quality; /* the JPEG quality it was encoded at, 1..100; 0: not known (a camera's) */
	/* Sender only: the renditions of this picture. Bit r of planned: rung r will be made
	 * (bit 0: this frame's own bytes; without it the head is empty, size 0). alt[r], r >= 1:
	 * rung r once ready (set once, by the producer; NULL before, or if its encode failed). */
	uint32_t planned;
	_Atomic(struct fc_frame *) alt[FC_FRAME_RUNGS];
	/* Sender only: a frame published while it is being encoded (slot.h, fc_slot_begin).
	 * data[0..avail) are final and avail only grows; growth says how it ends (enum
	 * fc_frame_growth). The producer stores avail, then growth, with release order: a reader
	 * that loads growth (acquire) and sees FC_FRAME_WHOLE finds size, done_ns and every byte. */
	atomic_size_t avail;
	atomic_int growth;
	uint64_t done_ns; /* when its last byte was encoded (the producer's clock) */
	/* Viewer side only (zero on the sender): when the whole frame had arrived (V3, the viewer's
	 * clock) and its age bound then. */
	uint64_t recv_ns;
	uint64_t bound_ns;
	/* Viewer side only: the JSON document that came with the frame (docs/PROTOCOL.md, section
	 * 10), after the JPEG at data[size..size + doc_size); 0: none. */
	size_t doc_size;
};

/* How a frame's bytes come to be: all at once before it is published (the default, and what
 * every frame is once its encode is done), or while readers already hold it. */
enum fc_frame_growth {
	FC_FRAME_WHOLE = 0,   /* data[0..size) is the JPEG */
	FC_FRAME_GROWING = 1, /* data[0..avail) so far; more to come */
	FC_FRAME_FAILED = 2,  /* the encode failed: data[0..avail) is all there will be */
};

/* A pool that keeps up to `keep` idle frames for reuse. */
struct fc_frame_pool *fc_frame_pool_new(unsigned keep);

/* Drops the creator's hold on the pool; it is freed once every frame is back. */
void fc_frame_pool_release(struct fc_frame_pool *pool);

/* A frame with room for at least cap bytes and one reference (the caller's); NULL when out of
 * memory. Its metadata is zeroed. */
struct fc_frame *fc_frame_get(struct fc_frame_pool *pool, size_t cap);

struct fc_frame *fc_frame_ref(struct fc_frame *f);
void fc_frame_unref(struct fc_frame *f);

/* Producer: hands rung r (1..FC_FRAME_RUNGS-1) of head's picture over, with its reference. */
void fc_frame_set_alt(struct fc_frame *head, int r, struct fc_frame *alt);

/* A reference to rung r of head's picture (head itself for 0) when it is ready, else NULL. */
struct fc_frame *fc_frame_get_alt(struct fc_frame *head, int r);

/* Frames out of the pool now (held by someone), for tests and leak checks. */
unsigned fc_frame_pool_outstanding(struct fc_frame_pool *pool);

#endif
