/*
 * pace: how many REQUESTs the viewer keeps in flight, chosen by what the link shows.
 *
 * More requests in flight hide the round trip: with one, the sender idles while a frame crosses
 * the link and the next request comes back, which on a long or jittery path caps the rate. But
 * where the link's rate is the bottleneck, a second request only queues a second frame behind the
 * first, and every frame arrives a frame's transmission time older: over an 8 Mbit/s link at
 * 640x480, two in flight show under one frame a second and one in flight about twenty
 * (tests/e2e/test_tbf.py). Neither the delay nor the lateness of a frame tells the two apart,
 * so the window is chosen by its result: frames accepted per second.
 *
 * Time is cut into epochs of a second. Now and then an epoch is a probe: one request fewer when
 * over a quarter of the frames came late, one more (up to the asked window) when fewer did. A
 * probe that accepts clearly more frames than the epoch before it becomes the window; otherwise
 * the window goes back, and the wait before the next probe doubles (up to about half a minute),
 * so a link that keeps its best window loses a probe's worth of frames rarely, and one that
 * changes is found again within seconds. Many late frames have two causes with opposite cures:
 * frames queued behind each other on a narrow link (fewer in flight), or frames waiting in the
 * sender's slot for a request on a long, jittery path (more in flight, so that a request is
 * always waiting there when a picture is taken). So when fewer lost, the next probe tries more,
 * at once; a probe upwards that wins is followed by the next one up a second later, so that a
 * long path reaches its window within seconds.
 *
 * The viewer starts at FC_PACE_START (or the asked window, if smaller): where it is the best
 * (a narrow link, a LAN) nothing changes, and a long path climbs from there.
 *
 * Pure arithmetic on a small struct that the network thread owns; the caller passes the time.
 */
#ifndef FC_PACE_H
#define FC_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define FC_PACE_EPOCH_NS 1000000000ull /* one measurement */
#define FC_PACE_WAIT_MAX 32u	       /* most epochs between probes */
#define FC_PACE_START	 2u	       /* the window at the start, when the asked one is larger */

struct fc_pace {
	unsigned max;	 /* the window asked for (--window) */
	unsigned window; /* requests to keep in flight now, 1..max */
	/* The epoch under way. */
	uint64_t epoch_start_ns; /* 0 before the first reply */
	unsigned replies;
	unsigned accepted;
	/* Probing. */
	bool probing;
	unsigned home;	  /* the window to go back to when a probe fails */
	double home_rate; /* accepted per second in the last epoch at home */
	unsigned wait;	  /* epochs between probes now */
	bool up_next;	  /* many late, fewer lost: try more next */
	unsigned since;	  /* epochs since the last probe ended */
	unsigned changes; /* probes that won (for the numbers) */
};

/* Starts at FC_PACE_START or max, the smaller; never goes above max. */
void fc_pace_init(struct fc_pace *p, unsigned max);

/* Counts one answered request (a frame or a stale notice, accepted or not) at now_ns (any
 * monotonic clock). Returns the window to keep in flight from now on. */
unsigned fc_pace_reply(struct fc_pace *p, bool accepted, uint64_t now_ns);

#endif
