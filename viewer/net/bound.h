/*
 * bound: the age bound of each frame the viewer receives, the smallest of up to three that are
 * each a guarantee (docs/PROTOCOL.md, "The handshake and the age bound" and "The offset
 * interval"):
 *
 *   request   the frame's own round trip (common/age.h): always there; charges the frame with
 *             the trip its request took;
 *   interval  the offset between the clocks proven by every exchange on this connection
 *             (common/offset.h): charges it with the fastest trip seen, plus the drift since;
 *   synced    with --clock synced[:ERROR_MS], the sender's wall-clock send time, trusted to within
 *             ERROR_MS, and only while the interval does not contradict it. Once it does, the
 *             viewer says so once and never uses the wall clocks again in this process.
 *
 * With --clock request the request's bound alone is used (protocol 3's behaviour): for comparing,
 * or for hosts whose clocks may drift apart faster than the interval allows.
 *
 * One per connection, in the viewer's network thread; not thread-safe. The synced state that
 * outlives a connection is the caller's (fc_bound_init takes whether it was already refuted).
 */
#ifndef FC_BOUND_H
#define FC_BOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "age.h"
#include "offset.h"
#include "proto.h"

/* Room for the two clock readings of each host being a little apart (mono then real). */
#define FC_BOUND_READ_SLACK_NS 20000

/* What the viewer judges ages by (--clock). */
enum fc_clock_mode {
	FC_CLOCK_REQUEST, /* each frame's own round trip only */
	FC_CLOCK_PROVEN,  /* and the offset interval (the default) */
	FC_CLOCK_SYNCED,  /* and the wall clocks, while the interval agrees */
};

struct fc_bound {
	struct fc_offset offset;
	bool interval;	       /* the offset interval is used (not --clock request) */
	bool synced;	       /* the user vouched for the wall clocks, and nothing refuted it */
	uint64_t error_ns;     /* how far apart the user says the wall clocks may be */
	uint64_t last_send_ns; /* the sender's clock in its latest FRAME or PONG: never backwards */
	/* Frames over UDP (set by the caller): FRAMEs and PONGs take two paths, each in order but not
	 * with each other (a PONG held by TCP's repair comes after frames sent later), so each path's
	 * clock readings must go forward on their own; last_send_ns is then the FRAMEs'. */
	bool split;
	uint64_t last_pong_ns;
	uint64_t pings[4]; /* our clock when we sent the latest PINGs: their tokens */
	unsigned next_ping;
};

enum fc_bound_status {
	FC_BOUND_OK,
	FC_BOUND_IMPOSSIBLE, /* held longer than the round trip: no bound, the frame is late */
	FC_BOUND_BACKWARDS,  /* the sender's clock went backwards: a broken sender */
};

/* What happened to the clocks while judging one message, for the caller to say. */
struct fc_bound_news {
	bool restarted;	  /* the offset interval was contradicted and started again */
	bool refuted;	  /* the synced clocks were contradicted: no longer used */
	int64_t claim_ns; /* then: the offset the wall clocks claimed */
	int64_t lo_ns;	  /* and the interval the exchanges prove */
	int64_t hi_ns;
};

/* error_ns: with FC_CLOCK_SYNCED, how far apart the wall clocks may be. */
void fc_bound_init(struct fc_bound *b, enum fc_clock_mode mode, uint64_t error_ns);

/* Books a PING about to be sent at v0: its token. */
uint64_t fc_bound_ping(struct fc_bound *b, uint64_t v0);

/* A PONG arrived at v3; one answering none of our latest PINGs teaches nothing and is ignored. */
enum fc_bound_status fc_bound_pong(struct fc_bound *b, const struct fc_ping *pong, uint64_t v3,
				   struct fc_bound_news *news);

/* A FRAME answering the request sent at v0 arrived whole at v3 (v3_real: our wall clock then,
 * read with v3 by fc_clock_pair; 0 when not known, and the wall clocks are not used).
 * Fills age (bound_ns UINT64_MAX unless FC_BOUND_OK). */
enum fc_bound_status fc_bound_frame(struct fc_bound *b, const struct fc_frame_msg *fm, uint64_t v0,
				    uint64_t v3, uint64_t v3_real, struct fc_age *age,
				    struct fc_bound_news *news);

#endif
