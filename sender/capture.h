/*
 * capture: the sender's capture thread. It takes pictures from the source at the configured
 * rate, encodes each once and publishes it into the latest-only slot, where every session finds
 * it. It never waits for a viewer: a frame nobody took is simply replaced by the next.
 *
 * Threads: fc_capture_start spawns the thread ("fc-capture"); fc_capture_stop (from the main
 * thread) sets the atomic stop flag, joins it and closes the slot. Counters are read by the main
 * thread through fc_capture_stats, under the capture's small stats lock.
 */
#ifndef FC_CAPTURE_H
#define FC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "slot.h"
#include "stats.h"

struct fc_capture_cfg {
	int width;
	int height;
	int fps_milli; /* frames per 1000 s */
	int quality;
};

struct fc_capture_stats {
	uint64_t captured;     /* pictures taken */
	uint64_t encoded;      /* frames published */
	uint64_t failed;       /* encodes that failed */
	uint64_t behind;       /* ticks skipped because a frame took longer than its period */
	uint64_t bytes;	       /* JPEG bytes published */
	struct fc_hist encode; /* encode time per frame (ns) since the last fc_capture_stats */
};

struct fc_capture;

/* Starts the thread; NULL with the reason in err. The slot stays the caller's. */
struct fc_capture *fc_capture_start(const struct fc_capture_cfg *cfg, struct fc_slot *slot,
				    char *err, size_t errlen);

/* Stops and joins the thread, closes the slot, frees the capture. */
void fc_capture_stop(struct fc_capture *c);

/* Copies the counters out and resets the per-interval histogram. */
void fc_capture_stats(struct fc_capture *c, struct fc_capture_stats *out);

#endif
