#include "adapt.h"

#include <string.h>

#define MIN_RECV_NS 500000ull	  /* a frame read at once still took some time */
#define HISTORY_AGE 4000000000ull /* samples older than this no longer speak for the link */
#define NS_PER_S    1e9
#define NONE	    (-1)
#define PACE	    0.9 /* of the rate frames are paced at */

void fc_adapt_init(struct fc_adapt *a, uint64_t budget_ns, uint64_t period_ns, int rung)
{
	memset(a, 0, sizeof(*a));
	a->budget_ns = budget_ns;
	a->period_ns = period_ns;
	a->rung = rung;
	a->top = NONE;
	a->below = NONE;
	a->backoff = FC_ADAPT_HOLD_MIN;
}

/* Forgets samples too old to speak for the link now, keeping the newest. */
static void age_history(struct fc_adapt *a, uint64_t now_ns)
{
	unsigned drop = 0;

	while (drop + 1 < a->nhist && a->hist[drop].at_ns + HISTORY_AGE < now_ns)
		drop++;
	if (drop) {
		memmove(a->hist, a->hist + drop, (a->nhist - drop) * sizeof(a->hist[0]));
		a->nhist -= drop;
	}
}

static void add_sample(struct fc_adapt *a, const struct fc_adapt_sample *s)
{
	if (a->nhist == FC_ADAPT_HISTORY) {
		memmove(a->hist, a->hist + 1, (a->nhist - 1) * sizeof(a->hist[0]));
		a->nhist--;
	}
	a->hist[a->nhist++] = *s;
}

/* C: the bytes of the frames that measured a rate over the time they took, so that a large
 * frame counts more than a small one (it measures the link better), and a single odd frame
 * does not decide. 0 when none measured one. */
static double link_rate(const struct fc_adapt *a)
{
	double bytes = 0;
	double secs = 0;

	for (unsigned i = 0; i < a->nhist; i++) {
		if (a->hist[i].rate <= 0)
			continue;
		bytes += a->hist[i].bytes;
		secs += a->hist[i].bytes / a->hist[i].rate;
	}
	return secs > 0 ? bytes / secs : 0;
}

/* The second highest fixed part (the highest alone would let one odd frame decide). */
static uint64_t fixed_part(const struct fc_adapt *a)
{
	uint64_t hi = 0;
	uint64_t second = 0;

	for (unsigned i = 0; i < a->nhist; i++) {
		uint64_t f = a->hist[i].fixed_ns;

		if (f > hi) {
			second = hi;
			hi = f;
		} else if (f > second) {
			second = f;
		}
	}
	return a->nhist > 1 ? second : hi;
}

uint64_t fc_adapt_room(const struct fc_adapt *a)
{
	double plan = FC_ADAPT_ALPHA * (double)a->budget_ns - (double)fixed_part(a);
	double beat = FC_ADAPT_BETA * (double)a->period_ns;
	double t = plan < beat ? plan : beat;

	if (a->rate <= 0)
		return UINT64_MAX;
	if (t <= 0)
		return 0;
	return (uint64_t)(a->rate * t / NS_PER_S);
}

/* The allowed rung next above r (a lower index, a larger picture), or NONE. */
static int allowed_above(int r, uint32_t allowed)
{
	for (int k = r - 1; k >= 0; k--)
		if (allowed & (1u << k))
			return k;
	return NONE;
}

/* The allowed rung nearest r at or below it (a smaller picture), or the lowest allowed. */
static int allowed_at_or_below(int r, int n, uint32_t allowed)
{
	int lowest = NONE;

	for (int k = 0; k < n; k++) {
		if (!(allowed & (1u << k)))
			continue;
		if (k >= r)
			return k;
		lowest = k;
	}
	return lowest;
}

static bool fits(uint32_t expect, uint64_t room)
{
	return expect == 0 || expect <= room;
}

static void choose(struct fc_adapt *a, int r)
{
	if (r == a->rung)
		return;
	if (r < a->rung)
		a->ups++;
	else
		a->downs++;
	a->rung = r;
	a->good = 0;
}

int fc_adapt_rung(struct fc_adapt *a, const uint32_t *expect, int n, uint32_t allowed,
		  uint64_t now_ns)
{
	uint64_t room = fc_adapt_room(a);
	int r = allowed_at_or_below(a->rung, n, allowed);
	int up;

	if (r == NONE)
		return a->rung;
	/* After a bad frame: below the rung it was sent at, whatever the room says. */
	if (a->below != NONE) {
		int lower = allowed_at_or_below(a->below + 1, n, allowed);

		if (lower > r && lower > a->below)
			r = lower;
		a->below = NONE;
	}
	/* Down: to the largest rung that fits, or the smallest there is. */
	while (!fits(expect[r], room)) {
		int lower = allowed_at_or_below(r + 1, n, allowed);

		if (lower == NONE || lower <= r)
			break;
		r = lower;
	}
	if (r != a->rung) {
		choose(a, r);
		return r;
	}
	/* Up: one rung, when this one has held a while and the next fits. */
	up = allowed_above(r, allowed);
	if (up != NONE && now_ns >= a->hold_ns &&
	    a->good >= (a->started ? FC_ADAPT_K : FC_ADAPT_K_START) && fits(expect[up], room))
		choose(a, up);
	return a->rung;
}

uint64_t fc_adapt_wait(struct fc_adapt *a, const struct fc_tcpstat *tcp, uint64_t now_ns)
{
	uint64_t until = a->next_ns;

	if (a->rate > 0 && tcp && tcp->min_rtt_ns) {
		/* What the link holds in one round trip is in flight, not queued. */
		double pipe = a->rate * (double)tcp->min_rtt_ns / NS_PER_S + tcp->mss;

		if ((double)tcp->pending > pipe) {
			uint64_t drain =
			    (uint64_t)(((double)tcp->pending - pipe) / a->rate * NS_PER_S);

			if (now_ns + drain > until)
				until = now_ns + drain;
		}
	}
	return until > now_ns ? until - now_ns : 0;
}

void fc_adapt_sent(struct fc_adapt *a, uint64_t seq, int rung, uint32_t bytes, uint64_t s2_ns,
		   const struct fc_tcpstat *tcp)
{
	struct fc_adapt_sent *s;

	if (a->slen == FC_ADAPT_INFLIGHT) { /* the oldest is forgotten; its verdict is ignored */
		a->shead = (a->shead + 1) % FC_ADAPT_INFLIGHT;
		a->slen--;
	}
	s = &a->sent[(a->shead + a->slen++) % FC_ADAPT_INFLIGHT];
	*s = (struct fc_adapt_sent){
		.seq = seq,
		.s2_ns = s2_ns,
		.acked = tcp ? tcp->acked : 0,
		.bytes = bytes,
		.retrans = tcp ? tcp->retrans : 0,
		.rung = rung,
	};
	a->last_ns = s2_ns;
	a->last_len = bytes;
	/* A little under the rate, so that a queue left by a burst (before the rate was known,
	 * or after it fell) drains instead of standing. */
	if (a->rate > 0)
		a->next_ns = s2_ns + (uint64_t)((double)bytes / (PACE * a->rate) * NS_PER_S);
}

/* Finds (and removes) the frame judged, dropping older ones that were never judged. */
static bool take_sent(struct fc_adapt *a, uint64_t seq, struct fc_adapt_sent *out)
{
	while (a->slen > 0) {
		struct fc_adapt_sent s = a->sent[a->shead];

		a->shead = (a->shead + 1) % FC_ADAPT_INFLIGHT;
		a->slen--;
		if (s.seq == seq) {
			*out = s;
			return true;
		}
	}
	return false;
}

/* A bad frame sent after the last cut: cut the estimate, step down, hold. */
static void cut(struct fc_adapt *a, const struct fc_adapt_sent *s,
		const struct fc_adapt_sample *sample, bool loss, uint64_t now_ns)
{
	double rate = a->rate;

	/* A lost packet's repair made the frame late, not the link's rate: cut by a factor, as
	 * TCP does. Otherwise the frame itself says what the link carries now. */
	if (loss)
		rate *= FC_ADAPT_LOSS_CUT;
	else if (sample->rate > 0 && (rate <= 0 || sample->rate < rate))
		rate = sample->rate;
	a->nhist = 0;
	a->losses = 0;
	add_sample(a, &(struct fc_adapt_sample){ .at_ns = now_ns,
						 .rate = rate,
						 .bytes = rate > 0 ? sample->bytes : 0,
						 .fixed_ns = sample->fixed_ns });
	a->rate = rate;
	a->cut_ns = now_ns;
	a->cuts++;
	a->started = true;
	/* A rung above the highest that held was a probe: it failed, so wait longer next time. */
	if (a->top != NONE && s->rung < a->top && a->backoff < FC_ADAPT_HOLD_MAX)
		a->backoff *= 2;
	if (a->backoff > FC_ADAPT_HOLD_MAX)
		a->backoff = FC_ADAPT_HOLD_MAX;
	a->hold_ns = now_ns + a->backoff;
	if (a->top == NONE || s->rung >= a->top)
		a->top = s->rung + 1; /* what held is below the rung that failed */
	a->below = s->rung;
	a->good = 0;
}

/* Whether a late frame was made late by a lost packet on a link that still carries C: the
 * kernel retransmitted while it was on its way, and its latest delivery rate (when it has one)
 * is not far below C. A link that got slower loses packets too, from a full queue, but then the
 * kernel delivers at the slower rate. */
static bool random_loss(const struct fc_adapt *a, const struct fc_adapt_sent *s,
			const struct fc_tcpstat *tcp)
{
	if (!tcp || tcp->retrans <= s->retrans)
		return false;
	return tcp->delivery_rate == 0 || a->rate <= 0 ||
	       (double)tcp->delivery_rate >= 0.5 * a->rate;
}

void fc_adapt_judged(struct fc_adapt *a, uint64_t seq, uint64_t bound_ns, uint64_t recv_ns,
		     bool accepted, uint64_t now_ns, const struct fc_tcpstat *tcp)
{
	struct fc_adapt_sent s;
	struct fc_adapt_sample sample = { .at_ns = now_ns };
	bool bad;
	bool loss;

	if (!take_sent(a, seq, &s) || s.bytes == 0)
		return; /* a stale notice measures nothing of the link */
	age_history(a, now_ns);
	bad = !accepted || bound_ns > (uint64_t)(FC_ADAPT_GAMMA * (double)a->budget_ns);
	sample.bytes = s.bytes;
	sample.rate = recv_ns >= MIN_RECV_NS ? (double)s.bytes / ((double)recv_ns / NS_PER_S) : 0;
	sample.fixed_ns = bound_ns == UINT64_MAX ? a->budget_ns
			  : bound_ns > recv_ns	 ? bound_ns - recv_ns
						 : 0;
	loss = bad && random_loss(a, &s, tcp);
	a->losses = (uint16_t)(a->losses << 1 | (loss ? 1u : 0u));
	/* One frame late for a lost packet says nothing of the rate: only when losses make more
	 * than a few late is a smaller frame (fewer packets to lose) worth its detail. */
	if (loss && __builtin_popcount(a->losses) < FC_ADAPT_LOSSES)
		return;
	if (bad) {
		if (s.s2_ns >= a->cut_ns)
			cut(a, &s, &sample, loss, now_ns);
		return;
	}
	add_sample(a, &sample);
	a->rate = link_rate(a);
	if (s.rung != a->rung)
		return;
	a->good++;
	/* A rung that holds for a while is the new floor of the probing. */
	if (a->good == FC_ADAPT_K && (a->top == NONE || a->rung < a->top)) {
		if (a->top != NONE && a->backoff > FC_ADAPT_HOLD_MIN)
			a->backoff /= 2;
		a->top = a->rung;
	}
}
