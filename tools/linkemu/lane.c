#include "lane.h"

#include "edit.h"

#include <stdlib.h>
#include <string.h>

/* The streams' order is part of the seed's meaning: new ones go at the end, so that a seed
 * gives the same losses as before on a link that does not use them. */
enum {
	LE_RNG_LOSS,
	LE_RNG_JITTER,
	LE_RNG_REORDER,
	LE_RNG_DUP,
	LE_RNG_CORRUPT,
	LE_RNG_TRUNCATE,
	LE_RNG_COUNT
};

static uint64_t le_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1), from the top 53 bits: exact in a double, the same on every compiler. */
static double le_uniform(uint64_t *state)
{
	return (double)(le_next(state) >> 11) * 0x1.0p-53;
}

static bool le_chance(uint64_t *state, double p)
{
	return le_uniform(state) < p;
}

static void le_fifo_push(struct le_fifo *f, size_t cap, uint32_t slot)
{
	f->slot[(f->first + f->count) % cap] = slot;
	f->count++;
}

static uint32_t le_fifo_head(const struct le_fifo *f)
{
	return f->slot[f->first];
}

static uint32_t le_fifo_pop(struct le_fifo *f, size_t cap)
{
	uint32_t slot = f->slot[f->first];

	f->first = (f->first + 1) % cap;
	f->count--;
	return slot;
}

int le_lane_open(struct le_lane *l, const struct le_shape *shape, size_t limit, size_t mtu,
		 uint64_t seed)
{
	*l = (struct le_lane){ .limit = limit, .mtu = mtu, .taken = -1 };
	if (!limit || limit >= UINT32_MAX || !mtu)
		return -1;
	/* One slot more than the limit: the scratch slot a packet is read into to be dropped. */
	l->data = malloc((limit + 1) * mtu);
	l->arrival_ns = calloc(limit, sizeof(*l->arrival_ns));
	l->due_ns = calloc(limit, sizeof(*l->due_ns));
	l->len = calloc(limit, sizeof(*l->len));
	l->free = calloc(limit, sizeof(*l->free));
	l->queue.slot = calloc(limit, sizeof(uint32_t));
	l->delay.slot = calloc(limit, sizeof(uint32_t));
	l->express.slot = calloc(limit, sizeof(uint32_t));
	if (!l->data || !l->arrival_ns || !l->due_ns || !l->len || !l->free || !l->queue.slot ||
	    !l->delay.slot || !l->express.slot) {
		le_lane_close(l);
		return -1;
	}
	/* Stacked so that slot 0 is used first: a quiet link touches few pages of the pool. */
	for (size_t i = 0; i < limit; i++)
		l->free[i] = (uint32_t)(limit - 1 - i);
	l->nfree = limit;
	for (int k = 0; k < LE_RNG_COUNT; k++) {
		l->rng[k] = seed ^ ((uint64_t)(k + 1) << 56);
		(void)le_next(&l->rng[k]); /* mix: nearby seeds give unrelated streams */
	}
	le_lane_set(l, shape);
	return 0;
}

void le_lane_close(struct le_lane *l)
{
	free(l->data);
	free(l->arrival_ns);
	free(l->due_ns);
	free(l->len);
	free(l->free);
	free(l->queue.slot);
	free(l->delay.slot);
	free(l->express.slot);
	*l = (struct le_lane){ .taken = -1 };
}

void le_lane_set(struct le_lane *l, const struct le_shape *shape)
{
	if (shape->loss_model != LE_LOSS_GE)
		l->bad = false; /* a Gilbert-Elliott model given anew starts in the good state */
	l->shape = *shape;
	l->queue_limit = le_spec_queue_limit(shape);
}

size_t le_lane_held(const struct le_lane *l)
{
	return l->queue.count + l->delay.count + l->express.count;
}

/* The slot handed out by the last le_lane_take() has been written by now. */
static void le_release_taken(struct le_lane *l)
{
	if (l->taken >= 0) {
		l->free[l->nfree++] = (uint32_t)l->taken;
		l->taken = -1;
	}
}

uint8_t *le_lane_slot(struct le_lane *l, size_t *len)
{
	le_release_taken(l);
	*len = l->mtu;
	if (!l->nfree)
		return l->data + l->limit * l->mtu;
	return l->data + (size_t)l->free[l->nfree - 1] * l->mtu;
}

/* How long a packet of len bytes takes to leave at the rate, rounded up. */
static uint64_t le_tx_ns(const struct le_lane *l, uint32_t len)
{
	uint64_t bits = ((uint64_t)len + l->shape.overhead) * 8;

	if (!l->shape.rate_bps)
		return 0;
	return (bits * 1000000000ull + l->shape.rate_bps - 1) / l->shape.rate_bps;
}

/* The serializer, if idle, takes the queue's head: it starts once it has arrived and the one
 * before it has left, at the rate in force now. */
static void le_start(struct le_lane *l)
{
	uint32_t slot;

	if (l->busy || !l->queue.count)
		return;
	slot = le_fifo_head(&l->queue);
	if (l->finish_ns < l->arrival_ns[slot])
		l->finish_ns = l->arrival_ns[slot];
	l->finish_ns += le_tx_ns(l, l->len[slot]);
	l->busy = true;
}

/* A packet has been serialized at finish_ns: into the delay line, or the express line if it
 * is one reorder= picks. */
static void le_serialized(struct le_lane *l, uint32_t slot)
{
	uint64_t due = l->finish_ns + l->shape.delay_ns;

	if (l->shape.reorder > 0 && le_chance(&l->rng[LE_RNG_REORDER], l->shape.reorder)) {
		l->due_ns[slot] = l->finish_ns;
		/* The delay line's newest is its latest: if that leaves after this, this one
		 * overtakes at least it. */
		if (l->delay.count && l->last_due_ns > l->finish_ns)
			l->counts.reordered++;
		le_fifo_push(&l->express, l->limit, slot);
		return;
	}
	if (l->shape.jitter_ns)
		due += (uint64_t)(le_uniform(&l->rng[LE_RNG_JITTER]) * (double)l->shape.jitter_ns);
	if (due < l->last_due_ns)
		due = l->last_due_ns; /* no overtaking: jitter delays, it does not reorder */
	l->due_ns[slot] = due;
	l->last_due_ns = due;
	le_fifo_push(&l->delay, l->limit, slot);
}

/* Runs the serializer up to now_ns: every packet whose serialization ends by then moves on. */
static void le_advance(struct le_lane *l, uint64_t now_ns)
{
	while (l->busy && l->finish_ns <= now_ns) {
		uint32_t slot = le_fifo_pop(&l->queue, l->limit);

		l->queue_bytes -= l->len[slot];
		l->busy = false;
		le_serialized(l, slot);
		le_start(l);
	}
}

/* Whether the loss model drops the packet arriving now. Gilbert-Elliott as netem has it: the
 * state moves first, then the new state's loss applies; two draws per packet, always. */
static bool le_lost(struct le_lane *l)
{
	const struct le_shape *s = &l->shape;
	uint64_t *rng = &l->rng[LE_RNG_LOSS];
	bool move;

	switch (s->loss_model) {
	case LE_LOSS_RANDOM:
		return le_chance(rng, s->loss);
	case LE_LOSS_GE:
		move = le_chance(rng, l->bad ? s->ge_r : s->ge_p);
		if (move)
			l->bad = !l->bad;
		return le_chance(rng, l->bad ? s->ge_bad : s->ge_good);
	case LE_LOSS_NONE:
		break;
	}
	return false;
}

/* corrupt= and truncate= on the packet in slot, if it is a UDP datagram with a payload; its
 * length may shrink. The draws are made only for such datagrams, so that the k-th datagram's
 * edits depend on the seed and the datagrams before it, whatever other traffic crosses. */
static void le_edit(struct le_lane *l, uint32_t slot, uint32_t *len)
{
	uint8_t *pkt = l->data + (size_t)slot * l->mtu;
	long payload = le_edit_udp_payload(pkt, *len);
	uint64_t *rc = &l->rng[LE_RNG_CORRUPT], *rt = &l->rng[LE_RNG_TRUNCATE];
	long n;

	if (payload <= 0)
		return;
	if (l->shape.corrupt > 0 && le_chance(rc, l->shape.corrupt)) {
		size_t at = (size_t)(le_uniform(rc) * (double)payload);
		uint8_t flip = (uint8_t)(1 + le_next(rc) % 255);

		if (le_edit_corrupt(pkt, *len, at, flip) == 0)
			l->counts.corrupted++;
	}
	if (l->shape.truncate > 0 && le_chance(rt, l->shape.truncate)) {
		n = le_edit_truncate(pkt, *len, (size_t)(le_uniform(rt) * (double)payload));
		if (n > 0) {
			*len = (uint32_t)n;
			l->counts.truncated++;
		}
	}
}

/* Queues the packet in slot (taken off the free stack), unless the queue is full. */
static void le_enqueue(struct le_lane *l, uint32_t slot, uint32_t len, uint64_t now_ns)
{
	if (l->shape.rate_bps && l->queue_bytes && l->queue_bytes + len > l->queue_limit) {
		l->counts.dropped_queue++;
		l->free[l->nfree++] = slot;
		return;
	}
	l->arrival_ns[slot] = now_ns;
	l->len[slot] = len;
	le_fifo_push(&l->queue, l->limit, slot);
	l->queue_bytes += len;
	if (l->queue_bytes > l->counts.queue_peak_bytes)
		l->counts.queue_peak_bytes = l->queue_bytes;
	le_start(l);
}

void le_lane_push(struct le_lane *l, size_t len, uint64_t now_ns)
{
	uint32_t n = (uint32_t)(len < l->mtu ? len : l->mtu);
	uint32_t slot;
	bool dup = l->shape.dup > 0 && le_chance(&l->rng[LE_RNG_DUP], l->shape.dup);

	le_release_taken(l);
	/* The queue as it stands at now_ns decides whether this packet fits. */
	le_advance(l, now_ns);
	l->counts.received_packets++;
	l->counts.received_bytes += n;
	if (le_lost(l)) {
		l->counts.dropped_loss++;
		return;
	}
	if (!l->nfree) {
		l->counts.dropped_limit++;
		return;
	}
	slot = l->free[--l->nfree];
	if (dup && l->nfree) {
		uint32_t copy = l->free[--l->nfree];

		uint32_t m = n;

		memcpy(l->data + (size_t)copy * l->mtu, l->data + (size_t)slot * l->mtu, n);
		l->counts.duplicated++;
		/* Each copy edited on its own, as a corrupting hop would treat two packets. */
		le_edit(l, slot, &n);
		le_edit(l, copy, &m);
		le_enqueue(l, slot, n, now_ns);
		le_enqueue(l, copy, m, now_ns);
		return;
	}
	le_edit(l, slot, &n);
	le_enqueue(l, slot, n, now_ns);
}

const uint8_t *le_lane_take(struct le_lane *l, uint64_t now_ns, size_t *len, uint64_t *due_ns)
{
	uint64_t d = UINT64_MAX, e = UINT64_MAX;
	uint32_t slot;

	le_release_taken(l);
	le_advance(l, now_ns);
	if (l->delay.count)
		d = l->due_ns[le_fifo_head(&l->delay)];
	if (l->express.count)
		e = l->due_ns[le_fifo_head(&l->express)];
	if ((d < e ? d : e) > now_ns)
		return NULL;
	/* On a tie the delay line goes first: reordered counts only true overtaking. */
	slot = d <= e ? le_fifo_pop(&l->delay, l->limit) : le_fifo_pop(&l->express, l->limit);
	l->taken = slot;
	l->counts.forwarded_packets++;
	l->counts.forwarded_bytes += l->len[slot];
	*len = l->len[slot];
	*due_ns = l->due_ns[slot];
	return l->data + (size_t)slot * l->mtu;
}

uint64_t le_lane_wake(const struct le_lane *l)
{
	uint64_t w = UINT64_MAX;

	if (l->delay.count)
		w = l->due_ns[le_fifo_head(&l->delay)];
	if (l->express.count && l->due_ns[le_fifo_head(&l->express)] < w)
		w = l->due_ns[le_fifo_head(&l->express)];
	/* The packet being serialized leaves the delay line no sooner than finish + delay, or at
	 * finish if it may skip the delay: no need to wake for the end of serialization itself. */
	if (l->busy) {
		uint64_t f = l->finish_ns + (l->shape.reorder > 0 ? 0 : l->shape.delay_ns);

		if (f < w)
			w = f;
	}
	return w;
}
