/*
 * adapt: the control law that fits one viewer's frames to its link.
 *
 * The sender can send each picture at several renditions (ladder.h: rung 0 the full picture,
 * each rung after it smaller in bytes). For each viewer this law picks the largest rung whose
 * frames cross that viewer's link within a fraction of its budget, and says when the next
 * frame may start so that no frame queues behind another. It learns from what every exchange
 * already carries:
 *
 *  - each VERDICT: the frame's age bound b, how long its bytes took to arrive, first to last,
 *    and the longest stall among them; less that stall, x, the time the link's narrowest part
 *    took to pass s bytes: the frame crossed at s / x bytes a second. The rest of the bound,
 *    f = b - x, is what no rendition changes: the round trip, the frame's age when it left, the
 *    request's trip, the link's jitter, a repair's wait;
 *  - the kernel (tcpstat.h): bytes still unacknowledged, retransmissions, its latest delivery
 *    rate, the round trip.
 *
 * The law (docs/DESIGN.md tells why each part is there; tests/test_adapt.c drives it through
 * simulated links):
 *
 *  1. Rate. C is the bytes of the frames judged since the last cut (at most 16, at most 4 s
 *     old) over the time they took to arrive: a large frame counts more than a small one, as it
 *     measures the link better. A frame that arrived within MIN_RECV (one read took it, or a
 *     burst the link allows carried it at the wire's speed) counts as having taken MIN_RECV: a
 *     lower bound on the rate, enough to see that a link has grown. Before any frame C is
 *     unknown and only the steps of rule 4 limit the climb. When the kernel has just
 *     measured a slower delivery while the link was busy, that rate is used instead.
 *  2. Room. A frame may take T = min(ALPHA B - F, BETA P) to cross, with B the viewer's budget,
 *     F the second highest f of the last 16 frames, at most their median plus three times their
 *     median deviation plus F_SLACK (jitter spreads f and counts; a lost request makes one
 *     frame an outlier that no smaller frame would have helped, and does not), and P the
 *     source's frame period: a frame's bound then stays under ALPHA of the budget, and a fifth of
 *     the link stays idle so that a queue drains between frames. The room is C T bytes, and no
 *     more than the frames whose packets a loss spares (below); the rung chosen is the largest
 *     whose expected size fits.
 *  3. Down at once. A frame is bad when it was rejected or its bound passed GAMMA B. Its
 *     transfer is its bytes' time less the longest stall among them (the viewer reports both).
 *     A bad frame that crossed at under half of C, its transfer half its bound or more, shows a
 *     slower link: C is cut to its rate, and the law moves at least one rung down. A frame with
 *     a stall as long as the rest of its transfer and a retransmission since it left (where the
 *     kernel counts them: a stall alone may be the viewer waiting for a busy CPU), or a late one
 *     during which the kernel retransmitted, had a lost packet repaired: a round trip or more, which with a tight budget makes it late,
 *     whatever its size. So losses set a ceiling instead: from the packets of the last 64 frames
 *     and how many of those frames had a repair, the share of packets lost p, and the largest
 *     frame of which no more than LOSS_SHARE would lose one, mss ln(1 - LOSS_SHARE) / ln(1 - p).
 *     A link that loses a packet in a hundred keeps a picture that loses a frame in ten, not a
 *     thumbnail that loses none, nor a full picture that loses most. (A frame late for a slower
 *     link lost its packets to a full queue, not at random: it does not count.) Any other bad frame was late
 *     for the rest of its bound (a delayed request, jitter): F has it. One cut per round of
 *     frames: a bad frame sent before the last cut only lowers C further if it crossed slower.
 *  4. Up carefully. One rung at a time, when the frames at the current rung have been good for
 *     a while (K_START frames until the first bad one, so a start from a small rung is quick;
 *     K after), the next rung fits the room, and no hold is on, or it fits in half the room
 *     (a link that has grown needs no probe to show it). A bad frame at a rung above the
 *     highest that held (a failed probe) doubles the hold before the next try: HOLD_MIN, twice
 *     that ... up to HOLD_MAX, halved again each time a probe holds. So the law settles on the
 *     largest rung the link carries and looks above it now and then.
 *  5. Pace. The next frame starts no sooner than s / (PACE C) after the last one started, and
 *     only once the bytes the kernel has not seen acknowledged fit in one round trip at C (here
 *     C of the measured frames alone: a lower bound would hold a fast link back): frames
 *     never queue behind each other in the link. When even the smallest rung takes longer than
 *     a frame period, this lowers the frame rate instead.
 *
 * Pure arithmetic over a struct the session thread owns; the caller passes the time and the
 * kernel's figures (NULL when it has none, e.g. a Unix socket in a test).
 */
#ifndef FC_ADAPT_H
#define FC_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstat.h"

#define FC_ADAPT_ALPHA	     0.85 /* of the budget a frame's bound is planned to take at most */
#define FC_ADAPT_BETA	     0.8  /* of the frame period a frame may take to cross */
#define FC_ADAPT_GAMMA	     0.95 /* of the budget a bound may reach before the frame counts as bad */
#define FC_ADAPT_PACE	     0.9 /* of C the frames are paced at, so a queue left by a burst drains */
#define FC_ADAPT_LOSS_SHARE  0.1  /* of frames a lost packet may make late, planned at most */
#define FC_ADAPT_LOSS_WINDOW 64	  /* frames the loss rate is measured over */
#define FC_ADAPT_MSS	     1448 /* bytes of frame per packet, for the loss ceiling */
#define FC_ADAPT_HISTORY     16	  /* judged frames the estimates look back over */
#define FC_ADAPT_INFLIGHT    32	  /* frames sent and not yet judged */
#define FC_ADAPT_K_START     1	  /* good frames before a step up, until the first bad frame */
#define FC_ADAPT_K	     8	  /* and after it */
#define FC_ADAPT_MIN_RECV    1000000ull	    /* ns: a frame that came quicker measures no rate */
#define FC_ADAPT_STALL	     2000000ull	    /* ns: the shortest gap in a frame taken for a repair */
#define FC_ADAPT_F_SLACK     2000000ull	    /* ns: F's allowance over the spread of recent f */
#define FC_ADAPT_MAX_AGE     4000000000ull  /* ns: older samples no longer speak for the link */
#define FC_ADAPT_HOLD_MIN    1000000000ull  /* ns: the wait after a bad frame, at least */
#define FC_ADAPT_HOLD_MAX    32000000000ull /* ns: and at most */

/* A frame judged: what it says of the link's rate (reset at each cut) or of the rest of the
 * bound (kept). */
struct fc_adapt_sample {
	uint64_t at_ns;
	double bytes; /* its size: 0 when it measured no rate */
	double secs;  /* the time its bytes took to arrive */
	bool lower;   /* it came too quickly to measure: secs is FC_ADAPT_MIN_RECV, a lower bound */
};

struct fc_adapt_fixed {
	uint64_t at_ns;
	uint64_t fixed_ns; /* its bound less its crossing time: f */
};

struct fc_adapt_sent {
	uint64_t seq;
	uint64_t s2_ns;	  /* when it started to leave */
	uint32_t bytes;	  /* its JPEG, 0 for a stale notice */
	uint32_t retrans; /* the kernel's retransmissions then */
	int rung;
};

struct fc_adapt {
	uint64_t budget_ns;
	uint64_t period_ns;

	/* The link. */
	double rate; /* C, bytes/s; 0 while not known */
	double
	    pace_rate; /* C of the measured frames alone, for pacing: a lower bound must not pace */
	struct fc_adapt_sample hist[FC_ADAPT_HISTORY]; /* since the last cut, oldest first */
	unsigned nhist;
	struct fc_adapt_fixed fixed[FC_ADAPT_HISTORY]; /* the last frames' f, oldest first */
	unsigned nfixed;
	double kernel_rate; /* the kernel's latest delivery rate while busy; 0: none */
	uint64_t cut_ns;    /* frames sent before this cannot cut again */
	/* The last frames judged: their packets, and whether a lost one was repaired in them. */
	uint16_t packets[FC_ADAPT_LOSS_WINDOW];
	bool hit[FC_ADAPT_LOSS_WINDOW];
	unsigned nlossy; /* entries filled, up to FC_ADAPT_LOSS_WINDOW */
	unsigned lhead;	 /* the next to fill */

	/* Frames sent, awaiting their VERDICT, oldest first. */
	struct fc_adapt_sent sent[FC_ADAPT_INFLIGHT];
	unsigned shead;
	unsigned slen;

	/* The rung. */
	int rung;	  /* chosen now */
	int top;	  /* the largest rung (lowest index) that held; -1 before any */
	int below;	  /* after a bad frame at rung r: the next choice is below r; else -1 */
	unsigned good;	  /* good frames judged at the rung now chosen, since it was chosen */
	bool started;	  /* a bad frame has been seen: careful steps up from now on */
	uint64_t hold_ns; /* no step up before this */
	uint64_t backoff; /* the hold after a failed probe, doubling */
	uint64_t next_ns; /* pacing: the next frame starts no sooner */

	/* For people. */
	uint64_t cuts;	/* bad frames that cut the estimate */
	uint64_t ups;	/* steps up */
	uint64_t downs; /* steps down */
};

/* Starts at rung (a small one: the law climbs quickly to what the link carries). */
void fc_adapt_init(struct fc_adapt *a, uint64_t budget_ns, uint64_t period_ns, int rung);

/* The rung for the next frame, given the bytes each of the n rungs is expected to weigh
 * (expect[r]; 0: not known, taken to fit), the rungs this viewer may get (a bit each; at
 * least one) and the kernel's figures now (may be NULL). */
int fc_adapt_rung(struct fc_adapt *a, const uint32_t *expect, int n, uint32_t allowed,
		  const struct fc_tcpstat *tcp, uint64_t now_ns);

/* How long before the next frame may start, in ns (0: now). */
uint64_t fc_adapt_wait(struct fc_adapt *a, const struct fc_tcpstat *tcp, uint64_t now_ns);

/* A frame of bytes (0: a stale notice) at rung started to leave at s2_ns. */
void fc_adapt_sent(struct fc_adapt *a, uint64_t seq, int rung, uint32_t bytes, uint64_t s2_ns,
		   const struct fc_tcpstat *tcp);

/* Its VERDICT: the bound (UINT64_MAX: none could be computed), the time its bytes took to
 * arrive and the longest stall among them, whether it was accepted. Frames are judged in the
 * order they were sent. */
void fc_adapt_judged(struct fc_adapt *a, uint64_t seq, uint64_t bound_ns, uint64_t recv_ns,
		     uint64_t gap_ns, bool accepted, uint64_t now_ns, const struct fc_tcpstat *tcp);

/* The room for the next frame in bytes (UINT64_MAX while the rate is not known yet). */
uint64_t fc_adapt_room(const struct fc_adapt *a);

#endif
