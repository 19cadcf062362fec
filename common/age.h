/*
 * age: how old a received frame can be at most, from the timestamp-echo handshake, without ever
 * comparing one host's clock with another's (docs/DESIGN.md, "The handshake and the age bound").
 *
 *   V0 viewer sends REQUEST        (viewer clock)
 *   S1 sender receives it          (sender clock)
 *   Sc the frame was captured      (sender clock)
 *   S2 sender begins sending       (sender clock): FRAME carries held = S2 - S1, age = S2 - Sc
 *   V3 the whole frame has arrived (viewer clock)
 *
 * Everything the frame lived through is its age at S2 plus the time from S2 to V3, and S2..V3
 * lies inside the round trip V0..V3 less the time the request was held at the sender:
 *   true age <= bound = (V3 - V0) - held + age
 * exact but for the request's own one-way trip, which only makes the bound stricter. The two
 * clocks may tick at rates up to 500 ppm apart, so the bound also adds 500 ppm of held + age. The estimate
 * rtt/2 + age (rtt = (V3 - V0) - held) is for people; decisions use the bound.
 *
 * Pure functions; thread-safe.
 */
#ifndef FC_AGE_H
#define FC_AGE_H

#include <stdbool.h>
#include <stdint.h>

struct fc_age {
	uint64_t bound_ns;   /* the guaranteed upper bound on the frame's age at V3: the smallest
			      * of request_ns and clock_ns */
	uint64_t request_ns; /* the bound from this frame's own round trip (fc_age_compute) */
	uint64_t clock_ns;   /* the bound from the offset interval, narrowed by synced clocks when
			      * used (viewer/net/bound.h); UINT64_MAX when none */
	uint64_t floor_ns;   /* the age is at least this, by the offset interval; 0 when unknown */
	uint64_t width_ns;   /* the offset interval's width at V3; UINT64_MAX when none */
	bool synced;	     /* clock_ns leaned on wall clocks the user vouched for */
	uint64_t rtt_ns;     /* the network round trip: (V3 - V0) - held */
	uint64_t est_ns;     /* rtt / 2 + age: the likely true age when both directions are alike */
};

/*
 * Computes the bound from the viewer's own V0 and V3 and the sender's held and age (bound_ns =
 * request_ns; the clock fields say "none").
 * Returns false when the numbers are impossible on a well-behaved peer (V3 before V0, or held
 * longer than the whole round trip beyond clock-rate tolerance): the caller treats such a frame
 * as late and the peer as suspect. A held slightly longer than the round trip (the two clocks
 * tick at rates a few parts per million apart) counts as a zero round trip.
 */
bool fc_age_compute(uint64_t v0_ns, uint64_t v3_ns, uint64_t held_ns, uint64_t age_ns,
		    struct fc_age *out);

/* Whether a frame with this bound, received at v3_ns, is still within budget_ns at now_ns (decode
 * and a busy display age it further before it reaches the screen). */
bool fc_age_within(uint64_t bound_ns, uint64_t v3_ns, uint64_t now_ns, uint64_t budget_ns);

#endif
