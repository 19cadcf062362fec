/*
 * offset: what the exchanges on one connection prove about the sender's clock, so that a frame's
 * age can be bounded from its capture time instead of from its own request's round trip
 * (docs/PROTOCOL.md, "The offset interval").
 *
 * Write theta = S - V for the sender's monotonic clock minus the viewer's at the same instant.
 * One exchange (a REQUEST and its FRAME, a PING and its PONG) whose first message left the viewer
 * at V0 and was read by the sender at S1, and whose answer left the sender at S2 and was in at V3,
 * proves
 *
 *     S2 - V3  <=  theta  <=  S1 - V0
 *
 * because no message arrives before it was sent. The two clocks may tick at rates up to
 * FC_OFFSET_DRIFT_PPM apart, so theta itself wanders: a limit proven by an exchange still holds at
 * a later viewer time V once widened by FC_OFFSET_DRIFT_PPM of V - V0. The module keeps the
 * tightest upper and lower limits over every exchange so far, each widened that way; the interval
 * is as narrow as the fastest request plus the fastest answer ever seen, plus the drift since.
 *
 * An exchange that contradicts the interval (its limits and the kept ones cannot all hold) means
 * the clocks drifted apart faster than allowed or the sender's clock was not monotonic: the
 * interval starts again from that exchange alone, and the caller is told.
 *
 * All times are the hosts' CLOCK_MONOTONIC in nanoseconds (common/clock.h). One per connection,
 * owned by the viewer's network thread; not thread-safe. No allocation.
 */
#ifndef FC_OFFSET_H
#define FC_OFFSET_H

#include <stdbool.h>
#include <stdint.h>

/* How far apart the two clocks' rates may be: Linux slews CLOCK_MONOTONIC by at most 500 ppm
 * when NTP or chrony disciplines it, and a free-running crystal is off by tens of ppm. */
#define FC_OFFSET_DRIFT_PPM 500

struct fc_offset {
	bool have;	   /* at least one exchange is in */
	uint64_t epoch;	   /* V0 of the exchange that started the interval: times are kept
			    * relative to it */
	uint64_t latest;   /* the latest V0 added: the interval is valid from there on */
	int64_t hi_c;	   /* min over exchanges of (S1 - V0) - drift(V0 - epoch) */
	int64_t lo_c;	   /* max over exchanges of (S2 - V3) + drift(V0 - epoch) */
	uint64_t exchanges; /* exchanges added since the start */
	uint64_t resets;    /* times a contradicting exchange started the interval again */
};

enum fc_offset_result {
	FC_OFFSET_ADDED,	/* the exchange is in */
	FC_OFFSET_RESTARTED,	/* it contradicted the interval, which now holds it alone */
	FC_OFFSET_IMPOSSIBLE,	/* V3 before V0, or the sender held it longer than the round
				 * trip could allow: ignored */
};

void fc_offset_init(struct fc_offset *o);

/* Adds one exchange (the four times as described above; S1 = S2 for a PONG). */
enum fc_offset_result fc_offset_add(struct fc_offset *o, uint64_t v0, uint64_t s1, uint64_t s2,
				    uint64_t v3);

/* The interval at viewer time v, which must not be before the latest exchange's V0:
 * *lo <= theta <= *hi. False before the first exchange or for an earlier v. */
bool fc_offset_at(const struct fc_offset *o, uint64_t v, int64_t *lo, int64_t *hi);

/*
 * Bounds the age at viewer time v3 of a frame captured at sc on the sender's clock, from the
 * interval at v3: *lo_ns <= true age <= *hi_ns, both measured on the viewer's clock. The drift
 * between the capture and v3 is allowed for. False when the interval cannot say (no exchange
 * yet, v3 too early) or contradicts itself (a capture after v3): then the caller must not use it.
 */
bool fc_offset_age(const struct fc_offset *o, uint64_t v3, uint64_t sc, uint64_t *lo_ns,
		   uint64_t *hi_ns);

/* The same from given limits lo <= theta <= hi at v3 (the interval narrowed further, e.g. by
 * clocks the user vouches for). */
bool fc_offset_age_from(int64_t lo, int64_t hi, uint64_t v3, uint64_t sc, uint64_t *lo_ns,
			uint64_t *hi_ns);

#endif
