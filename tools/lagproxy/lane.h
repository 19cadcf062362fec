/*
 * lane: one direction of a lagproxy connection, as a link would carry it: the bytes read from one
 * socket wait here until their release time (arrival + delay + jitter) and then leave no faster
 * than the rate cap allows. No I/O and no clock of its own: the caller says what time it is, so
 * the timing rules are plain arithmetic.
 *
 * Order: a chunk is never released before the one read ahead of it (release times only go up),
 * so jitter delays a TCP stream but never reorders it, just as a real path's jitter does once
 * TCP has put the bytes back in order.
 *
 * Memory: a byte ring that starts small and doubles up to the lane's cap, and a ring of release
 * marks (one per chunk read, merged when they would leave together). When either is full,
 * lp_lane_space() says 0 and the caller stops reading that socket, so the far sender is held
 * back by TCP itself, as on a narrow link. One thread owns a lane; nothing here locks.
 */
#ifndef LP_LANE_H
#define LP_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* How one direction is shaped. */
struct lp_shape {
	uint64_t delay_ns;
	uint64_t jitter_ns; /* each chunk waits a further 0..jitter_ns, uniformly */
	uint64_t rate_bps;  /* bits per second; 0 = no cap */
};

/* When a run of bytes may leave: every byte before stream offset end, at release_ns. */
struct lp_mark {
	uint64_t end;
	uint64_t release_ns;
};

struct lp_lane {
	struct lp_shape shape;
	size_t max_bytes; /* the cap on bytes held */
	uint8_t *buf;	  /* ring of cap bytes; stream offset x lives at buf[x % cap] */
	size_t cap;
	uint64_t head;	       /* stream offset of the next byte to send (bytes sent so far) */
	uint64_t tail;	       /* stream offset of the next byte to read (bytes read so far) */
	struct lp_mark *marks; /* ring of mcap marks, the oldest at mfirst */
	size_t mcap;
	size_t mfirst;
	size_t mcount;
	uint64_t last_release_ns; /* the newest mark's release: the next may not be earlier */
	double tokens;		  /* token bucket, in bytes; at most 2 * burst */
	uint64_t tokens_ns;	  /* when tokens was last brought up to date */
	size_t burst;		  /* bytes sent at once when the rate caps: the link's packet */
	uint64_t rng;		  /* splitmix64 state for the jitter */
	size_t held_max;
};

/* Sets up an empty lane (it allocates on first use). Never fails. */
void lp_lane_init(struct lp_lane *l, const struct lp_shape *shape, size_t max_bytes, uint64_t seed);

/* Frees what the lane holds; the lane may be initialised again. */
void lp_lane_release(struct lp_lane *l);

/* Where the next read may go: a contiguous free region of the ring (grown if it can be), and
 * its length; NULL with *len = 0 when the lane is full (or memory ran out: the same to the
 * caller, who stops reading until bytes leave). */
uint8_t *lp_lane_space(struct lp_lane *l, size_t *len);

/* n bytes were just read into the region lp_lane_space() gave, at now_ns. */
void lp_lane_push(struct lp_lane *l, size_t n, uint64_t now_ns);

/* What may be sent at now_ns, as up to two buffers (the ring wraps); returns the count, 0 when
 * nothing may leave yet. Then *wake_ns is when something will (UINT64_MAX: the lane is empty). */
int lp_lane_ready(struct lp_lane *l, uint64_t now_ns, struct iovec iov[2], uint64_t *wake_ns);

/* n bytes of what lp_lane_ready() offered were sent. */
void lp_lane_pop(struct lp_lane *l, size_t n);

/* Bytes held (read, not yet sent). */
size_t lp_lane_held(const struct lp_lane *l);

#endif
