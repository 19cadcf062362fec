/*
 * lane: one direction of linkemu's link, packet by packet, as netem and a bottleneck router
 * would treat it. No I/O and no clock of its own: the caller says what time it is, so a run is
 * plain arithmetic over arrival times and the seed, and the model is tested without a device.
 *
 * A packet read at time T goes through, in order:
 *   1. loss: random (loss=) or Gilbert-Elliott (ge=), decided on arrival, as netem does;
 *      duplication (dup=) puts a second copy in right behind it; then each copy, if it is a
 *      UDP datagram, may have a payload byte changed (corrupt=) and be cut short (truncate=),
 *      its headers made right (edit.h);
 *   2. the queue, drop-tail: a packet that would take the bytes waiting past the limit is
 *      dropped (an empty queue always takes one);
 *   3. the serializer: the head of the queue takes len * 8 / rate to leave, starting when both
 *      it has arrived and the packet before it has left; a rate change counts from the next
 *      packet to start;
 *   4. the delay line: it leaves at (end of serialization) + delay + uniform 0..jitter, and no
 *      earlier than the packet before it, so jitter never reorders. A packet picked by
 *      reorder= skips the delay line (and that rule) and leaves as soon as it is serialized.
 *
 * Memory: a pool of `limit` packet slots of `mtu` bytes, allocated at open; three FIFOs of slot
 * numbers (queue, delay line, express) and a free stack. When every slot is taken the packet is
 * dropped (counted apart from queue drops). Randomness: splitmix64 streams seeded at open, one
 * per decision (loss, jitter, reorder, dup, corrupt, truncate), so one packet's fate depends only on the seed and
 * the packets before it. One thread owns a lane; nothing here locks.
 */
#ifndef LE_LANE_H
#define LE_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* What a lane did, since open. */
struct le_counts {
	uint64_t received_packets; /* read from the source device */
	uint64_t received_bytes;
	uint64_t forwarded_packets; /* handed back to be written to the other device */
	uint64_t forwarded_bytes;
	uint64_t dropped_loss;	/* by loss= or ge= */
	uint64_t dropped_queue; /* the queue was full (drop-tail) */
	uint64_t dropped_limit; /* every slot taken (--limit) */
	uint64_t duplicated;	/* extra copies made by dup= */
	uint64_t reordered;	/* left ahead of a packet that arrived before it */
	uint64_t corrupted;	/* UDP datagrams with a payload byte changed by corrupt= */
	uint64_t truncated;	/* UDP datagrams cut short by truncate= */
	uint64_t queue_peak_bytes;
};

struct le_fifo {
	uint32_t *slot; /* ring of cap slot numbers, the oldest at first */
	size_t first;
	size_t count;
};

struct le_lane {
	struct le_shape shape;
	uint64_t queue_limit; /* bytes, from shape and rate (spec.h) */
	size_t limit;	      /* slots in the pool */
	size_t mtu;	      /* bytes per slot */
	uint8_t *data;	      /* limit * mtu bytes, then one scratch slot for a packet to drop */
	uint64_t *arrival_ns; /* per slot: when it was read */
	uint64_t *due_ns;     /* per slot: when it leaves (once serialized) */
	uint32_t *len;	      /* per slot */
	uint32_t *free;	      /* stack of free slot numbers */
	size_t nfree;
	struct le_fifo queue, delay, express;
	bool busy;	      /* the queue's head is being serialized, until finish_ns */
	uint64_t finish_ns;   /* ... or, when idle, when the last one was */
	uint64_t queue_bytes; /* in the queue, the one being serialized included */
	uint64_t last_due_ns; /* the delay line's newest: the next leaves no earlier */
	int64_t taken;	      /* slot last handed out by le_lane_take, freed on the next call */
	bool bad;	      /* Gilbert-Elliott state */
	uint64_t rng[6];      /* splitmix64 states: loss, jitter, reorder, dup, corrupt, truncate */
	struct le_counts counts;
};

/* Allocates the pool; 0, or -1 (out of memory: the lane is left closed). */
int le_lane_open(struct le_lane *l, const struct le_shape *shape, size_t limit, size_t mtu,
		 uint64_t seed);

/* Frees the pool; safe on a lane zeroed or already closed. */
void le_lane_close(struct le_lane *l);

/* Changes the shape from now on: packets queued or in flight keep what they were given, except
 * that the queue limit applies at once (nothing already queued is dropped for it). */
void le_lane_set(struct le_lane *l, const struct le_shape *shape);

/* Where to read the next packet: mtu bytes, *len set to mtu. Valid until the next push. */
uint8_t *le_lane_slot(struct le_lane *l, size_t *len);

/* The packet of len bytes just read into le_lane_slot(), at now_ns (not earlier than any time
 * given before). */
void le_lane_push(struct le_lane *l, size_t len, uint64_t now_ns);

/* The next packet due by now_ns, in the order they leave, or NULL. *len gets its length and
 * *due_ns when it was due (the caller measures how late it really left); the bytes are valid
 * until the next call on the lane. */
const uint8_t *le_lane_take(struct le_lane *l, uint64_t now_ns, size_t *len, uint64_t *due_ns);

/* When le_lane_take() will next have a packet (UINT64_MAX: the lane is empty). */
uint64_t le_lane_wake(const struct le_lane *l);

/* Packets held: queued, being serialized or in flight. */
size_t le_lane_held(const struct le_lane *l);

#endif
