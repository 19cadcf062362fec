#include "adapt.h"

#include <math.h>
#include <string.h>

#define NS_PER_S 1e9
#define NONE	 (-1)

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

/* Drops the first `drop` of n entries of size `each` at base. */
static void shift(void *base, unsigned *n, unsigned drop, size_t each)
{
	memmove(base, (char *)base + drop * each, (*n - drop) * each);
	*n -= drop;
}

/* Forgets samples too old to speak for the link now, keeping the newest of each kind. */
static void prune(struct fc_adapt *a, uint64_t now_ns)
{
	unsigned d = 0;

	while (d + 1 < a->nhist && a->hist[d].at_ns + FC_ADAPT_MAX_AGE < now_ns)
		d++;
	shift(a->hist, &a->nhist, d, sizeof(a->hist[0]));
	d = 0;
	while (d + 1 < a->nfixed && a->fixed[d].at_ns + FC_ADAPT_MAX_AGE < now_ns)
		d++;
	shift(a->fixed, &a->nfixed, d, sizeof(a->fixed[0]));
}

static void push_rate(struct fc_adapt *a, const struct fc_adapt_sample *s)
{
	if (a->nhist == FC_ADAPT_HISTORY)
		shift(a->hist, &a->nhist, 1, sizeof(a->hist[0]));
	a->hist[a->nhist++] = *s;
}

static void push_fixed(struct fc_adapt *a, uint64_t at_ns, uint64_t fixed_ns)
{
	if (a->nfixed == FC_ADAPT_HISTORY)
		shift(a->fixed, &a->nfixed, 1, sizeof(a->fixed[0]));
	a->fixed[a->nfixed++] = (struct fc_adapt_fixed){ .at_ns = at_ns, .fixed_ns = fixed_ns };
}

static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* C: the bytes of the frames that measured a rate over the time they took, so that a large
 * frame counts more than a small one (it measures the link better), and one odd frame does
 * not decide. 0 when none measured one. */
static double link_rate(const struct fc_adapt *a, bool measured_only)
{
	double bytes = 0;
	double secs = 0;

	for (unsigned i = 0; i < a->nhist; i++) {
		if (measured_only && a->hist[i].lower)
			continue;
		bytes += a->hist[i].bytes;
		secs += a->hist[i].secs;
	}
	return secs > 0 && bytes > 0 ? bytes / secs : 0;
}

/* F: the second highest f of the last frames (the highest alone would let one odd frame
 * decide), but no more than their median and three times their median deviation: jitter
 * spreads f and a frame must be planned for it, while a request or a first packet lost and
 * sent again makes one frame an outlier that no smaller frame would have helped. */
static uint64_t fixed_part(const struct fc_adapt *a)
{
	uint64_t v[FC_ADAPT_HISTORY];
	uint64_t dev[FC_ADAPT_HISTORY];
	unsigned n = a->nfixed;
	uint64_t med, mad, cap;

	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		v[i] = a->fixed[i].fixed_ns;
	sort(v, n);
	med = v[n / 2];
	for (unsigned i = 0; i < n; i++)
		dev[i] = v[i] > med ? v[i] - med : med - v[i];
	sort(dev, n);
	mad = dev[n / 2];
	cap = med + 3 * mad + FC_ADAPT_F_SLACK;
	return n > 1 && v[n - 2] < cap ? v[n - 2] : n > 1 ? cap : v[0];
}

/* A rate, or the kernel's latest delivery rate when it just measured the link slower. */
static double capped(const struct fc_adapt *a, double rate)
{
	if (rate > 0 && a->kernel_rate > 0 && a->kernel_rate < rate)
		return a->kernel_rate;
	return rate;
}

static double usable_rate(const struct fc_adapt *a)
{
	return capped(a, a->rate);
}

/* The rate frames are paced at: of the frames that measured one. A frame too quick to measure
 * gives only a lower bound, which would pace a fast link below what it carries (on loopback,
 * 45 KB frames counted as a millisecond each capped the rate at 900 a second). */
static double pacing_rate(const struct fc_adapt *a)
{
	return capped(a, a->pace_rate);
}

/* The largest frame of which no more than LOSS_SHARE would have a packet lost and repaired,
 * from the last frames' packets and repairs; UINT64_MAX while fewer than two were repaired (too
 * few to tell a rate from). */
static uint64_t loss_room(const struct fc_adapt *a)
{
	double packets = 0;
	unsigned hits = 0;
	double p;

	for (unsigned i = 0; i < a->nlossy; i++) {
		packets += a->packets[i];
		hits += a->hit[i];
	}
	if (hits < 2 || packets <= hits)
		return UINT64_MAX;
	p = hits / packets;
	return (uint64_t)(FC_ADAPT_MSS * log(1 - FC_ADAPT_LOSS_SHARE) / log(1 - p));
}

uint64_t fc_adapt_room(const struct fc_adapt *a)
{
	double plan = FC_ADAPT_ALPHA * (double)a->budget_ns - (double)fixed_part(a);
	double beat = FC_ADAPT_BETA * (double)a->period_ns;
	double t = plan < beat ? plan : beat;
	double rate = usable_rate(a);

	uint64_t lossy = loss_room(a);
	uint64_t room;

	if (t <= 0)
		return 0; /* the rest of the bound leaves no time for any frame */
	room = rate > 0 ? (uint64_t)(rate * t / NS_PER_S) : UINT64_MAX;
	return room < lossy ? room : lossy;
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
		  const struct fc_tcpstat *tcp, uint64_t now_ns)
{
	int r = allowed_at_or_below(a->rung, n, allowed);
	uint64_t room;
	int up;

	if (r == NONE)
		return a->rung;
	/* The kernel's rate counts only when it was measured with the link busy: while frames
	 * leave less often than the link could take them, it says only what they used. */
	a->kernel_rate = tcp && !tcp->app_limited ? (double)tcp->delivery_rate : 0;
	room = fc_adapt_room(a);
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
	/* Up: one rung, when this one has held a while and the next fits; not before the hold
	 * ends, unless the next fits in half the room with the rate measured (the link has grown:
	 * no probe is needed to know it). */
	up = allowed_above(r, allowed);
	if (up != NONE && a->good >= (a->started ? FC_ADAPT_K : FC_ADAPT_K_START) &&
	    fits(expect[up], room) &&
	    (now_ns >= a->hold_ns || (room != UINT64_MAX && expect[up] && expect[up] <= room / 2)))
		choose(a, up);
	return a->rung;
}

uint64_t fc_adapt_wait(struct fc_adapt *a, const struct fc_tcpstat *tcp, uint64_t now_ns)
{
	uint64_t until = a->next_ns;
	double rate = pacing_rate(a);

	if (rate > 0 && tcp && tcp->min_rtt_ns) {
		/* What the link holds in one round trip is in flight, not queued. */
		double pipe = rate * (double)tcp->min_rtt_ns / NS_PER_S + tcp->mss;

		if ((double)tcp->pending > pipe) {
			uint64_t drain =
			    (uint64_t)(((double)tcp->pending - pipe) / rate * NS_PER_S);

			if (now_ns + drain > until)
				until = now_ns + drain;
		}
	}
	return until > now_ns ? until - now_ns : 0;
}

void fc_adapt_sent(struct fc_adapt *a, uint64_t seq, int rung, uint32_t bytes, uint64_t s2_ns,
		   const struct fc_tcpstat *tcp)
{
	double rate = pacing_rate(a);

	if (a->slen == FC_ADAPT_INFLIGHT) { /* the oldest is forgotten; its verdict is ignored */
		a->shead = (a->shead + 1) % FC_ADAPT_INFLIGHT;
		a->slen--;
	}
	a->sent[(a->shead + a->slen++) % FC_ADAPT_INFLIGHT] = (struct fc_adapt_sent){
		.seq = seq,
		.s2_ns = s2_ns,
		.bytes = bytes,
		.retrans = tcp ? tcp->retrans : 0,
		.rung = rung,
	};
	if (rate > 0)
		a->next_ns = s2_ns + (uint64_t)((double)bytes / (FC_ADAPT_PACE * rate) * NS_PER_S);
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

/* A bad frame on a slower link, sent after the last cut: cut C to its rate, step down, hold. */
static void cut(struct fc_adapt *a, const struct fc_adapt_sent *s,
		const struct fc_adapt_sample *sample, uint64_t now_ns)
{
	double rate = a->rate;

	if (rate <= 0 || sample->bytes / sample->secs < rate)
		rate = sample->bytes / sample->secs;
	a->nhist = 0;
	if (rate > 0)
		push_rate(a, &(struct fc_adapt_sample){ .at_ns = now_ns,
							.bytes = rate * sample->secs,
							.secs = sample->secs });
	a->rate = rate;
	a->pace_rate = rate;
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

/* A bad frame (rule 3): a slower link cuts C to the frame's rate (true); anything else (a
 * repair, a delayed request, jitter) speaks through the loss ceiling or F (false). */
static bool bad_frame(struct fc_adapt *a, const struct fc_adapt_sent *s,
		      const struct fc_adapt_sample *sample, uint64_t bound_ns, uint64_t xfer_ns,
		      uint64_t now_ns)
{
	double rate = sample->bytes > 0 ? sample->bytes / sample->secs : 0;

	if (rate <= 0 || (a->rate > 0 && rate >= 0.5 * a->rate) ||
	    (bound_ns != UINT64_MAX && 2 * xfer_ns < bound_ns))
		return false;
	if (s->s2_ns >= a->cut_ns) {
		cut(a, s, sample, now_ns);
	} else if (rate < a->rate) {
		/* Chosen on the old estimate, so no new cut; but it crossed slower still. */
		a->rate = rate;
		a->pace_rate = rate;
		a->nhist = 0;
		push_rate(a, sample);
	}
	return true;
}

/* Whether the longest gap among a frame's bytes was a stall (a lost packet's repair) rather
 * than the pace at which they came: a repair waits half a round trip at least (a duplicate
 * acknowledgement's, or a timeout), longer than two packets take at C, and as long as the rest
 * of the frame took. */
static bool stalled(const struct fc_adapt *a, uint64_t recv_ns, uint64_t gap_ns,
		    const struct fc_tcpstat *tcp)
{
	double least = (double)FC_ADAPT_STALL;

	if (tcp && (double)tcp->min_rtt_ns / 2 > least)
		least = (double)tcp->min_rtt_ns / 2;
	if (a->rate > 0 && 2.0 * FC_ADAPT_MSS / a->rate * NS_PER_S > least)
		least = 2.0 * FC_ADAPT_MSS / a->rate * NS_PER_S;
	return (double)gap_ns >= least && gap_ns >= recv_ns - gap_ns;
}

/* Counts a frame's packets, and whether a lost one was repaired in it: a stall among its
 * bytes, or, for a late frame, a retransmission while it was on its way (a first packet lost
 * shows no stall: nothing came before it). A frame in time is not charged with the kernel's
 * retransmissions: they may be a later frame's. */
static void count_loss(struct fc_adapt *a, const struct fc_adapt_sent *s, bool stall, bool bad,
		       const struct fc_tcpstat *tcp)
{
	a->packets[a->lhead] = (uint16_t)((s->bytes + FC_ADAPT_MSS - 1) / FC_ADAPT_MSS);
	a->hit[a->lhead] = stall || (bad && tcp && tcp->retrans > s->retrans);
	a->lhead = (a->lhead + 1) % FC_ADAPT_LOSS_WINDOW;
	if (a->nlossy < FC_ADAPT_LOSS_WINDOW)
		a->nlossy++;
}

void fc_adapt_judged(struct fc_adapt *a, uint64_t seq, uint64_t bound_ns, uint64_t recv_ns,
		     uint64_t gap_ns, bool accepted, uint64_t now_ns, const struct fc_tcpstat *tcp)
{
	struct fc_adapt_sent s;
	struct fc_adapt_sample sample = { .at_ns = now_ns };
	bool bad;
	bool slow;
	bool stall;
	uint64_t xfer;
	uint64_t fixed;

	if (!take_sent(a, seq, &s) || s.bytes == 0)
		return; /* a stale notice measures nothing of the link */
	/* A repair is a retransmission: where the kernel counts them, a stall with none since the
	 * frame left was the viewer's wait for the CPU (a busy machine), not a lost packet. */
	stall = gap_ns <= recv_ns && stalled(a, recv_ns, gap_ns, tcp) &&
		(!tcp || tcp->retrans > s.retrans);
	/* The transfer without a stall: the link's pace, not a repair's wait. */
	xfer = stall ? recv_ns - gap_ns : recv_ns;
	fixed = bound_ns == UINT64_MAX ? a->budget_ns : bound_ns > xfer ? bound_ns - xfer : 0;
	prune(a, now_ns);
	push_fixed(a, now_ns, fixed);
	bad = !accepted || bound_ns > (uint64_t)(FC_ADAPT_GAMMA * (double)a->budget_ns);
	if (xfer >= FC_ADAPT_MIN_RECV) {
		sample.bytes = s.bytes;
		sample.secs = (double)xfer / NS_PER_S;
	}
	/* A frame late for a slower link lost packets to a full queue: that is no measure of the
	 * link's random losses, which the ceiling is for. */
	slow = bad && bad_frame(a, &s, &sample, bound_ns, xfer, now_ns);
	count_loss(a, &s, stall && !slow, bad && !slow, tcp);
	if (bad)
		return;
	/* A frame in time that came too quickly to measure says the link carries at least its
	 * bytes in that time: a lower bound, but one that lets a link that has grown be seen. */
	if (sample.bytes == 0 && !stall) {
		sample.bytes = s.bytes;
		sample.secs = (double)FC_ADAPT_MIN_RECV / NS_PER_S;
		sample.lower = true;
	}
	if (sample.bytes > 0)
		push_rate(a, &sample);
	a->rate = link_rate(a, false);
	a->pace_rate = link_rate(a, true);
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
