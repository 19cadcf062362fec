/*
 * stall: whether the viewer is showing a live stream, and when it is not, why and for how long,
 * so that the window never freezes on an old frame as if it were live. The last frame stays on
 * screen, dimmed, under a banner such as
 *
 *     NO SIGNAL
 *     sender lost, reconnecting
 *     3.2 s
 *
 * and the console says so once per change. A stall is a gap longer than `after` since the last
 * frame reached the screen (see fc_stall_after_ns); its reason comes from what the report counted
 * lately (nothing arrived, everything rejected, dropped at the display, undecodable) and from the
 * connection's state (gone, or the sender says its camera is lost).
 *
 * Pure: no clock, no I/O, no locks; the caller passes the time and the report's snapshot. Main
 * (display) thread only.
 */
#ifndef FC_STALL_H
#define FC_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "report.h"

/*
 * How long without a new frame on screen is a stall: FC_STALL_PERIODS frame periods of the rate
 * the connected sender claims in its HELLO, recomputed for every connection, but
 *
 * - at least FC_STALL_MIN_BUDGETS budgets: a frame up to a budget late is still shown, so where
 *   the link's delay swings by up to a budget, gaps of a period and a budget are normal, and a
 *   frame rejected among them adds a period more; and at least FC_STALL_MIN_NS, the display
 *   loop's own hiccups (it wakes every 15 ms, and a busy machine decodes in tens of ms), which a
 *   person would see as a flicker of the banner, not as news;
 * - at most FC_STALL_MAX_NS, whatever the sender claims (0.001 fps would make it most of an
 *   hour) and whatever the budget: a picture that has not changed for a second is not live by
 *   any reading, and a person should not wait longer than that to be told. A sender that truly
 *   sends less than a frame a second gets the banner between its frames, which then says so.
 *
 * At 30 fps and the default 80 ms budget that is 240 ms (3 budgets; 3 periods are 100 ms). A
 * rate of 0 (not known) counts as the longest.
 */
#define FC_STALL_PERIODS     3
#define FC_STALL_MIN_BUDGETS 3
#define FC_STALL_MIN_NS	     (100 * FC_NS_PER_MS)
#define FC_STALL_MAX_NS	     FC_NS_PER_S

enum fc_stall_why {
	FC_STALL_NONE,	       /* live: a frame reached the screen less than `after` ago */
	FC_STALL_RECONNECTING, /* no connection: redialling the sender, or waiting for it to dial */
	FC_STALL_CAMERA_LOST,  /* connected, but the sender says its camera is gone */
	FC_STALL_SILENT,       /* connected, but no frames arrive (a stalled sender or link) */
	FC_STALL_LATE,	       /* frames arrive, every one over the budget: rejected */
	FC_STALL_DISPLAY_LATE, /* accepted, then aged past the budget before reaching the screen */
	FC_STALL_CORRUPT,      /* frames arrive but do not decode */
};

/* The state around the viewer that the report does not know. */
struct fc_stall_input {
	bool connected;	    /* a stream is up (the network thread runs) */
	bool listening;	    /* --listen: the sender dials us, we do not redial it */
	uint32_t fps_milli; /* connected: the rate the sender claims (its HELLO), 0 if not known */
	uint64_t budget_ns;
	struct fc_report_live live;
};

struct fc_stall {
	uint64_t after_ns;  /* a gap longer than this is a stall: fc_stall_after_ns */
	uint64_t period_ns; /* the connected sender's claimed frame period, 0 if not known */
	uint64_t shown_ns;  /* when a frame last reached the screen (or the start) */
	uint64_t gap_ns;    /* the gap that the last shown frame ended */
	/* Counts at the start of the last two windows of `after_ns`: what happened lately is what
	 * the counts grew by since `older`, never from before the last shown frame. */
	struct fc_report_counts older;
	struct fc_report_counts newer;
	uint64_t mark_ns; /* when `newer` was taken */
	/* Frames received, and when that count last grew: nothing arriving for a while is silence,
	 * whatever the frames before did (late, broken). */
	uint64_t received;
	uint64_t received_ns;
	bool fresh; /* a frame was just shown: restart both windows at the next update */
	enum fc_stall_why why;
	uint64_t bound_ns;  /* FC_STALL_LATE: the latest age bound */
	uint64_t budget_ns; /* and the budget it is over */
	bool listening;
};

/* How long a gap counts as a stall for a sender claiming fps_milli (0: not known) and a budget:
 * FC_STALL_PERIODS periods within the bounds above. */
uint64_t fc_stall_after_ns(uint32_t fps_milli, uint64_t budget_ns);

/* Starts watching at now_ns, before any sender's rate is known (a gap of FC_STALL_MAX_NS is a
 * stall until the first update while connected). */
void fc_stall_init(struct fc_stall *s, uint64_t now_ns);

/* A frame reached the screen (or, headless, passed its last check) at now_ns. */
void fc_stall_shown(struct fc_stall *s, uint64_t now_ns);

/* Re-judges the state at now_ns, with `after` from the connected sender's rate (kept from the
 * last connection while there is none); returns true when the reason changed (into, out of, or
 * within a stall), which is when the caller says so on the console. */
bool fc_stall_update(struct fc_stall *s, uint64_t now_ns, const struct fc_stall_input *in);

/* Seconds since a frame last reached the screen. */
double fc_stall_seconds(const struct fc_stall *s, uint64_t now_ns);

/* The banner for the window, three lines: "HEADLINE\ndetail\n3.2 s"; empty when live. */
void fc_stall_banner(const struct fc_stall *s, uint64_t now_ns, char *buf, size_t len);

/* The same on one line, for the title and the console: "NO SIGNAL - sender lost, reconnecting -
 * 3.2 s"; when live, "live again after 3.2 s without a frame". */
void fc_stall_line(const struct fc_stall *s, uint64_t now_ns, char *buf, size_t len);

#endif
