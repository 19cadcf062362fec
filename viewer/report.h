/*
 * report: the viewer's numbers — what arrived, what was accepted or rejected and why, what was
 * shown — turned into the per-second console line, the exit summary and the --stats-json lines.
 *
 * Since protocol 3 a frame may be a rendition of the picture (smaller, or a lower JPEG quality,
 * fitted by the sender to this viewer's link): the report keeps the latest frame's rendition and
 * the mix of renditions received, per interval and for the whole run, in fixed-size tables (a
 * sender that sends more kinds than they hold gets the rest summed as "other", so the memory
 * stays bounded whatever it sends).
 *
 * Threads: the network thread records arrivals (fc_report_arrival), the display thread records
 * what became of accepted frames (fc_report_shown, fc_report_dropped), the main thread ticks once
 * a second (fc_report_tick). A lock guards counters and histograms only for the add or the copy;
 * formatting happens outside it.
 */
#ifndef FC_REPORT_H
#define FC_REPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "age.h"
#include "bound.h"
#include "json.h"
#include "stats.h"
#include "udprecv.h"

/* Why an accepted frame was not shown. */
enum fc_drop {
	FC_DROP_LATE_AT_DISPLAY, /* decoding or the display aged it past the budget */
	FC_DROP_CORRUPT,	 /* it did not decode */
};

struct fc_report_counts {
	uint64_t received; /* FRAMEs received (stale notices included) */
	uint64_t stale;	   /* stale notices: too old at the sender, sent without bytes */
	uint64_t accepted; /* within the budget on arrival */
	uint64_t rejected; /* over the budget on arrival (stale notices included): never shown */
	uint64_t shown;	   /* decoded and shown within the budget */
	uint64_t late_display; /* accepted, then aged past the budget before its turn on screen */
	uint64_t corrupt;      /* accepted, then failed to decode */
	uint64_t bytes;	       /* JPEG bytes received */
	uint64_t stamped;      /* shown frames whose stamp was read (--check-stamps) */
	uint64_t unstamped;    /* shown frames without a readable stamp (--check-stamps) */
	uint64_t stamp_over;   /* shown frames whose stamp says they were older than the budget */
	uint64_t synced;       /* frames whose bound leaned on the synced wall clocks */
	uint64_t offset_restarts; /* times the clock offset interval was contradicted */
	bool synced_refuted;	  /* the exchanges contradicted the synced wall clocks */
	/* Not counts but the state now: the requests kept in flight (viewer/net/pace.h) and the most
	 * that were asked (--window); 0 before the first connection. */
	unsigned window;
	unsigned window_max;
};

/* What one FRAME carried, as the report sees it. */
struct fc_report_frame {
	size_t bytes; /* JPEG bytes; 0 for a stale notice (no picture, no rendition) */
	int width;    /* this rendition's size: the JPEG's own */
	int height;
	int src_width; /* the captured picture's size; 0 when the sender did not say */
	int src_height;
	int quality; /* the JPEG quality it was encoded at, 1..100; 0: not known (a camera's) */
};

/* The frames received of one rendition (a size and a quality), and their JPEG bytes. */
struct fc_rendition {
	uint16_t width;
	uint16_t height;
	uint8_t quality;
	uint64_t frames;
	uint64_t bytes;
};

#define FC_REPORT_MIX	    32 /* renditions told apart in one mix; beyond, summed as "other" */
#define FC_REPORT_MIX_SHOWN 8  /* entries of "renditions" in a JSON line at most */

/* The frames received by rendition, in the order first seen. */
struct fc_rendition_mix {
	unsigned count;
	struct fc_rendition r[FC_REPORT_MIX];
	struct fc_rendition other; /* frames of renditions beyond the table (size 0) */
};

struct fc_report_hists {
	struct fc_hist bound;	  /* age bound of each received frame (ns) */
	struct fc_hist request;	  /* the bound from its own round trip alone (ns) */
	struct fc_hist width;	  /* the clock offset interval's width at its arrival (ns) */
	struct fc_hist rtt;	  /* round trip less the sender's hold (ns) */
	struct fc_hist est;	  /* rtt/2 + age at send: likely true age (ns) */
	struct fc_hist decode;	  /* decode time of shown frames (ns) */
	struct fc_hist stamp_age; /* true age at display from the stamp (ns), --check-stamps */
};

/* What the window needs between ticks to say why nothing is shown (see stall.h). */
struct fc_report_live {
	struct fc_report_counts c;
	uint64_t last_bound_ns; /* age bound of the latest frame received: 0 before the first,
				 * UINT64_MAX when none could be computed */
	bool source_lost;	/* the sender said its camera is gone (fc_report_source) */
};

struct fc_report {
	pthread_mutex_t lock;
	struct fc_report_counts c;	 /* since the start */
	struct fc_report_hists interval; /* since the last tick */
	struct fc_rendition_mix mix;	 /* frames by rendition since the last tick */
	struct fc_report_frame last;	 /* the latest frame with its bytes (zero before) */
	uint64_t last_bound_ns;
	bool source_lost;
	bool udp_on;		     /* frames come over UDP: udp holds their counts */
	struct fc_udprecv_stats udp; /* of the current connection (fc_report_udp) */
	/* Main thread only. */
	const char *clock; /* --clock: "request", "proven" or "synced" */
	struct fc_report_hists total;
	struct fc_report_hists scratch; /* the interval just closed, copied out of the lock */
	struct fc_rendition_mix mix_total;
	struct fc_rendition_mix mix_scratch;
	struct fc_report_counts at_tick;
	uint64_t start_ns;
	uint64_t tick_ns;
	uint64_t budget_ns;
	bool starved;	  /* the last interval rejected frames and showed none */
	char advice[256]; /* what fc_report_tick says when that changes */
	char title[160];  /* the live figures of the last tick, for the window's title */
};

void fc_report_init(struct fc_report *r, uint64_t budget_ns, uint64_t now_ns);
void fc_report_destroy(struct fc_report *r);

/* A FRAME arrived (network thread): what it carried, its age (NULL when none could be
 * computed) and whether it was accepted. */
void fc_report_arrival(struct fc_report *r, const struct fc_report_frame *f,
		       const struct fc_age *age, bool accepted);
/* stamp_age_ns is the true age from the frame's stamp, or -1 when not checked, -2 when the
 * frame had no readable stamp. */
void fc_report_shown(struct fc_report *r, uint64_t decode_ns, int64_t stamp_age_ns);
void fc_report_dropped(struct fc_report *r, enum fc_drop why);

/* What the sender says of its source (a STATUS message): lost, or live again. Called by the
 * network thread; the main thread clears it (false) when a connection ends. */
void fc_report_source(struct fc_report *r, bool lost);

/* The clocks (network thread): the offset interval restarted, the synced wall clocks refuted. */
void fc_report_clock(struct fc_report *r, bool restarted, bool refuted);
/* Main thread, before any connection: what --clock asked for. */
void fc_report_clock_mode(struct fc_report *r, enum fc_clock_mode mode);
/* Whether the synced wall clocks were refuted in this process (they stay so). */
bool fc_report_synced_refuted(struct fc_report *r);

/* The request window now (network thread, whenever it changes). */
void fc_report_window(struct fc_report *r, unsigned window, unsigned max);
/* The network thread's copy of the UDP transport's counts (NULL: frames over TCP). */
void fc_report_udp(struct fc_report *r, const struct fc_udprecv_stats *s);

/* Snapshot for tests and the window title: the cumulative counts. */
void fc_report_counts(struct fc_report *r, struct fc_report_counts *out);

/* Snapshot for the stall banner: the counts, the latest age bound and the source's state. */
void fc_report_live(struct fc_report *r, struct fc_report_live *out);

/* Main thread: a short line of the last tick's live figures (shown fps, age bound, rejections
 * when there are any, and the rendition it gets), for the window's title; empty before the
 * first tick. */
const char *fc_report_title(const struct fc_report *r);

/*
 * Closes an interval at now_ns: writes the console line into line (without a newline) and the
 * JSON object into j. With summary, the figures cover the whole run instead of the last second.
 * Returns a sentence for the log when the stream starts or stops being rejected whole (why
 * nothing is shown, and what to do), else NULL.
 */
const char *fc_report_tick(struct fc_report *r, uint64_t now_ns, bool summary, bool check_stamps,
			   char *line, size_t linelen, struct fc_json *j);

#endif
