#include "lane.h"

#include <stdlib.h>
#include <string.h>

/* The ring starts at this size (or the cap, if smaller) and doubles while it is short of it. */
#define LP_RING_START (64 * 1024)
/* A read smaller than this is not worth waking for: grow the ring first if it may. */
#define LP_READ_MIN (16 * 1024)
/* Marks: one per chunk read, so at worst one per byte. 64Ki marks (1 MiB) bound that. */
#define LP_MARKS_START 64
#define LP_MARKS_MAX   (64 * 1024)
/* The token bucket holds one Ethernet frame's worth, or 1 ms at the rate if that is more: the
 * link sends in packets, not bytes, yet a burst must stay far below the delays it is used with. */
#define LP_BURST_MIN 1500
/* The most one call offers to a socket (more would not fit its send buffer anyway). */
#define LP_WRITE_MAX (1024 * 1024)

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void lp_lane_init(struct lp_lane *l, const struct lp_shape *shape, size_t max_bytes, uint64_t seed)
{
	uint64_t per_ms = shape->rate_bps / 8 / 1000;

	*l = (struct lp_lane){ .shape = *shape, .max_bytes = max_bytes, .rng = seed };
	l->burst = per_ms > LP_BURST_MIN ? (size_t)per_ms : LP_BURST_MIN;
	l->tokens = (double)l->burst;
}

void lp_lane_release(struct lp_lane *l)
{
	free(l->buf);
	free(l->marks);
	l->buf = NULL;
	l->marks = NULL;
	l->cap = l->mcap = l->mcount = 0;
}

size_t lp_lane_held(const struct lp_lane *l)
{
	return (size_t)(l->tail - l->head);
}

/* Copies stream offsets [from, to) from one ring to another of a different size. */
static void ring_copy(uint8_t *dst, size_t dcap, const uint8_t *src, size_t scap, uint64_t from,
		      uint64_t to)
{
	while (from < to) {
		size_t s = (size_t)(from % scap);
		size_t d = (size_t)(from % dcap);
		size_t n = (size_t)(to - from);

		if (n > scap - s)
			n = scap - s;
		if (n > dcap - d)
			n = dcap - d;
		memcpy(dst + d, src + s, n);
		from += n;
	}
}

static void grow_ring(struct lp_lane *l)
{
	size_t ncap = l->cap ? l->cap * 2 : LP_RING_START;
	uint8_t *nbuf;

	if (ncap > l->max_bytes)
		ncap = l->max_bytes;
	if (ncap <= l->cap)
		return;
	nbuf = malloc(ncap);
	if (!nbuf)
		return; /* the lane goes on at its size: reading pauses sooner, nothing is lost */
	if (l->buf)
		ring_copy(nbuf, ncap, l->buf, l->cap, l->head, l->tail);
	free(l->buf);
	l->buf = nbuf;
	l->cap = ncap;
}

static bool grow_marks(struct lp_lane *l)
{
	size_t ncap = l->mcap ? l->mcap * 2 : LP_MARKS_START;
	struct lp_mark *nm;

	if (ncap > LP_MARKS_MAX)
		return false;
	nm = malloc(ncap * sizeof(*nm));
	if (!nm)
		return false;
	for (size_t i = 0; i < l->mcount; i++)
		nm[i] = l->marks[(l->mfirst + i) % l->mcap];
	free(l->marks);
	l->marks = nm;
	l->mcap = ncap;
	l->mfirst = 0;
	return true;
}

uint8_t *lp_lane_space(struct lp_lane *l, size_t *len)
{
	size_t used = lp_lane_held(l);
	size_t start;
	size_t n;

	*len = 0;
	if (l->cap - used < LP_READ_MIN && l->cap < l->max_bytes)
		grow_ring(l);
	/* Room for the mark this read may need, so that lp_lane_push() cannot fail. */
	if (l->mcount == l->mcap && !grow_marks(l))
		return NULL;
	if (used == l->cap)
		return NULL;
	start = (size_t)(l->tail % l->cap);
	n = l->cap - used;
	*len = n < l->cap - start ? n : l->cap - start;
	return l->buf + start;
}

void lp_lane_push(struct lp_lane *l, size_t n, uint64_t now_ns)
{
	uint64_t release = now_ns + l->shape.delay_ns;
	struct lp_mark *last = NULL;

	if (l->shape.jitter_ns) {
		/* 53 random bits as a fraction in [0, 1). */
		double u = (double)(splitmix64(&l->rng) >> 11) * 0x1.0p-53;

		release += (uint64_t)(u * (double)l->shape.jitter_ns);
	}
	/* Never before the chunk ahead: jitter delays the stream, it does not reorder it. */
	if (release < l->last_release_ns)
		release = l->last_release_ns;
	l->last_release_ns = release;
	l->tail += n;
	if (lp_lane_held(l) > l->held_max)
		l->held_max = lp_lane_held(l);
	if (l->mcount)
		last = &l->marks[(l->mfirst + l->mcount - 1) % l->mcap];
	if (last && last->release_ns == release) {
		last->end = l->tail; /* leaves with the chunk ahead: one mark for both */
		return;
	}
	l->marks[(l->mfirst + l->mcount) % l->mcap] =
	    (struct lp_mark){ .end = l->tail, .release_ns = release };
	l->mcount++;
}

int lp_lane_ready(struct lp_lane *l, uint64_t now_ns, struct iovec iov[2], uint64_t *wake_ns)
{
	uint64_t end = l->head;
	size_t n;
	size_t start;

	*wake_ns = UINT64_MAX;
	/* Release times only go up, so the released marks are a prefix of the ring. */
	for (size_t i = 0; i < l->mcount; i++) {
		const struct lp_mark *m = &l->marks[(l->mfirst + i) % l->mcap];

		if (m->release_ns > now_ns) {
			*wake_ns = m->release_ns;
			break;
		}
		end = m->end;
		/* A long backlog of released marks need not be walked on every call: one write
		 * takes at most a burst (rate cap) or LP_WRITE_MAX bytes. */
		if (end - l->head >= (l->shape.rate_bps ? l->burst : LP_WRITE_MAX))
			break;
	}
	if (end == l->head)
		return 0;
	n = (size_t)(end - l->head);
	if (l->shape.rate_bps) {
		double rate = (double)l->shape.rate_bps / 8e9; /* bytes per ns */
		size_t quantum = n < l->burst ? n : l->burst;

		/* The bucket holds two quanta: a wake-up that comes late then sends the arrears
		 * instead of losing them, so the rate holds whatever the timer's slack. */
		l->tokens += (double)(now_ns - l->tokens_ns) * rate;
		if (l->tokens > 2.0 * (double)l->burst)
			l->tokens = 2.0 * (double)l->burst;
		l->tokens_ns = now_ns;
		/* Send in packet-sized pieces at the rate, not a byte per wake-up. */
		if (l->tokens < (double)quantum) {
			*wake_ns = now_ns + (uint64_t)(((double)quantum - l->tokens) / rate) + 1;
			return 0;
		}
		if ((double)n > l->tokens)
			n = (size_t)l->tokens;
	}
	start = (size_t)(l->head % l->cap);
	iov[0].iov_base = l->buf + start;
	iov[0].iov_len = n < l->cap - start ? n : l->cap - start;
	if (iov[0].iov_len == n)
		return 1;
	iov[1].iov_base = l->buf;
	iov[1].iov_len = n - iov[0].iov_len;
	return 2;
}

void lp_lane_pop(struct lp_lane *l, size_t n)
{
	l->head += n;
	if (l->shape.rate_bps)
		l->tokens -= (double)n;
	while (l->mcount && l->marks[l->mfirst].end <= l->head) {
		l->mfirst = (l->mfirst + 1) % l->mcap;
		l->mcount--;
	}
}
