#include "bound.h"

#include <string.h>

void fc_bound_init(struct fc_bound *b, enum fc_clock_mode mode, uint64_t error_ns)
{
	memset(b, 0, sizeof(*b));
	fc_offset_init(&b->offset);
	b->interval = mode != FC_CLOCK_REQUEST;
	b->synced = mode == FC_CLOCK_SYNCED;
	b->error_ns = error_ns;
}

uint64_t fc_bound_ping(struct fc_bound *b, uint64_t v0)
{
	b->pings[b->next_ping] = v0;
	b->next_ping = (b->next_ping + 1) % (sizeof(b->pings) / sizeof(b->pings[0]));
	return v0;
}

/* The sender's clock readings arrive in the order it took them (one connection, one writer; with
 * frames over UDP, one order per path): an earlier one after a later one is a broken sender, and
 * every interval built on it void. */
static bool forward(struct fc_bound *b, uint64_t s, bool pong)
{
	uint64_t *last = b->split && pong ? &b->last_pong_ns : &b->last_send_ns;

	if (s < *last)
		return false;
	*last = s;
	return true;
}

static void add(struct fc_bound *b, uint64_t v0, uint64_t s1, uint64_t s2, uint64_t v3,
		struct fc_bound_news *news)
{
	if (fc_offset_add(&b->offset, v0, s1, s2, v3) == FC_OFFSET_RESTARTED)
		news->restarted = true;
}

enum fc_bound_status fc_bound_pong(struct fc_bound *b, const struct fc_ping *pong, uint64_t v3,
				   struct fc_bound_news *news)
{
	memset(news, 0, sizeof(*news));
	if (!forward(b, pong->clock_ns, true))
		return FC_BOUND_BACKWARDS;
	for (size_t i = 0; i < sizeof(b->pings) / sizeof(b->pings[0]); i++) {
		if (b->pings[i] && b->pings[i] == pong->token && pong->token <= v3) {
			add(b, pong->token, pong->clock_ns, pong->clock_ns, v3, news);
			b->pings[i] = 0; /* one answer per PING */
			break;
		}
	}
	return FC_BOUND_OK;
}

/* a - b for readings that fit the signed range (the caller checked the order of magnitude). */
static int64_t sdiff(uint64_t a, uint64_t b)
{
	return a >= b ? (int64_t)(a - b) : -(int64_t)(b - a);
}

/*
 * Narrows [*lo, *hi] (the offset at v3) by what the wall clocks claim, unless they contradict it.
 * The wall clocks say the offset at S2 is claim = (S2 - S2real) - (V3 - V3real), give or take the
 * error the user accepts and the time between each host's two readings; by v3 it may have drifted
 * further, by at most the drift over the round trip. True when that lowered the upper limit.
 */
static bool narrow_by_wall_clocks(struct fc_bound *b, const struct fc_frame_msg *fm, uint64_t v0,
				  uint64_t v3, uint64_t v3_real, int64_t *lo, int64_t *hi,
				  struct fc_bound_news *news)
{
	const uint64_t big = (uint64_t)1 << 62;
	int64_t claim, slack;

	if (!b->synced || fm->send_real_ns == 0 || v3_real == 0 || fm->send_ns >= big ||
	    v3 >= big || fm->send_real_ns >= big || v3_real >= big || b->error_ns >= big / 4)
		return false;
	claim = sdiff(fm->send_ns, v3) - sdiff(fm->send_real_ns, v3_real);
	slack = (int64_t)(b->error_ns + 2 * FC_BOUND_READ_SLACK_NS +
			  (v3 - v0) / 1000000 * FC_OFFSET_DRIFT_PPM + 1);
	if (claim - slack > *hi || claim + slack < *lo) {
		b->synced = false;
		news->refuted = true;
		news->claim_ns = claim;
		news->lo_ns = *lo;
		news->hi_ns = *hi;
		return false;
	}
	if (claim - slack > *lo)
		*lo = claim - slack;
	if (claim + slack >= *hi)
		return false;
	*hi = claim + slack;
	return true;
}

enum fc_bound_status fc_bound_frame(struct fc_bound *b, const struct fc_frame_msg *fm, uint64_t v0,
				    uint64_t v3, uint64_t v3_real, struct fc_age *age,
				    struct fc_bound_news *news)
{
	int64_t lo, hi;
	uint64_t a_lo, a_hi;

	memset(news, 0, sizeof(*news));
	*age = (struct fc_age){ .bound_ns = UINT64_MAX };
	if (!forward(b, fm->send_ns, false))
		return FC_BOUND_BACKWARDS;
	if (!fc_age_compute(v0, v3, fm->held_ns, fm->age_ns, age)) {
		*age = (struct fc_age){ .bound_ns = UINT64_MAX };
		return FC_BOUND_IMPOSSIBLE;
	}
	/* S1 and Sc on the sender's clock; a sender whose numbers put them before its clock's
	 * start gives the interval nothing to go on, and the request's bound stands alone. */
	if (!b->interval || fm->held_ns > fm->send_ns || fm->age_ns > fm->send_ns)
		return FC_BOUND_OK;
	add(b, v0, fm->send_ns - fm->held_ns, fm->send_ns, v3, news);
	if (!fc_offset_at(&b->offset, v3, &lo, &hi))
		return FC_BOUND_OK;
	age->width_ns = (uint64_t)(hi - lo);
	age->synced = narrow_by_wall_clocks(b, fm, v0, v3, v3_real, &lo, &hi, news);
	if (!fc_offset_age_from(lo, hi, v3, fm->send_ns - fm->age_ns, &a_lo, &a_hi))
		return FC_BOUND_OK;
	age->clock_ns = a_hi;
	age->floor_ns = a_lo;
	if (a_hi < age->bound_ns)
		age->bound_ns = a_hi;
	return FC_BOUND_OK;
}
