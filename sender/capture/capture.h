/*
 * capture: the sender's capture thread. It takes pictures from the source (the built-in test
 * pattern, a still photo, or a V4L2 camera), makes each one JPEG once (encoding planar YUV, or passing the
 * camera's own MJPEG through after a check) and publishes it into the latest-only slot, where every
 * session finds it. It never waits for a viewer: a frame nobody took is simply replaced.
 *
 * A camera that fails mid-stream (unplugged: ENODEV, EIO) is closed and reopened every second
 * until it is back; meanwhile the slot's source state says it is lost, so each session tells its
 * viewer, and the viewers stay connected.
 *
 * Threads: fc_capture_start opens the source on the caller's thread (so that its errors come
 * back at once) and spawns the thread ("fc-capture"); fc_capture_stop (main thread) sets the
 * atomic stop flag, joins it and closes the slot. Counters are read by the main thread through
 * fc_capture_stats, under the capture's small stats lock. The capture thread logs changes of
 * state (camera lost, back, a timestamp fallback, a timestamp that cannot be true), once each.
 */
#ifndef FC_CAPTURE_H
#define FC_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ladder.h"
#include "slot.h"
#include "stats.h"
#include "v4l2.h"

struct fc_capture_cfg {
	const char *device;	/* a V4L2 device path, or NULL for the test pattern */
	const char *photo;	/* without a device: a JPEG streamed as a still with noise */
	enum fc_v4l2_want want; /* --format */
	int width;
	int height;
	int fps_milli; /* frames per 1000 s */
	int quality;   /* JPEG quality when encoding */
	int encoders;  /* threads encoding each frame, a band each (encoder.h); 0: auto */
	/* The renditions: filled in by fc_capture_start (which rungs there are, from the
	 * source), then shared with the sessions; the caller's, outliving the capture thread. */
	struct fc_ladder *ladder;
	bool renditions; /* --adapt on: smaller rungs for viewers on slow links */
};

/* What the source delivers, once opened. */
struct fc_capture_info {
	int width;
	int height;
	int fps_milli;
	int encoders; /* threads encoding each frame (--encoders auto resolved) */
	char source
	    [160]; /* for people: "test pattern" or "/dev/video0 (Card): MJPG passed through" */
};

struct fc_capture_stats {
	uint64_t captured; /* pictures taken from the source */
	uint64_t encoded;  /* full pictures published after encoding */
	uint64_t passed;   /* camera JPEGs published as they came */
	uint64_t broken;   /* camera JPEGs dropped by the check */
	uint64_t bad_time; /* camera frames dropped: a timestamp that cannot be true (v4l2.h) */
	uint64_t dropped;  /* camera frames never seen: drained unseen or lost by the driver */
	uint64_t failed;   /* encodes that failed */
	uint64_t behind;   /* pattern ticks skipped because a frame took longer than its period */
	uint64_t bytes;	   /* JPEG bytes published */
	uint64_t lost_events;	   /* times the camera went away */
	uint64_t renditions;	   /* smaller or softer JPEGs made for slower viewers (ladder.h) */
	uint64_t rendition_failed; /* renditions that could not be made (their rung is left out) */
	struct fc_hist publish;	   /* capture to publish (ns) since the last fc_capture_stats */
	struct fc_hist encode;	   /* time in the JPEG encoder (ns), likewise */
	struct fc_hist rendition;  /* time making a picture's renditions (ns), likewise */
};

struct fc_capture;

/* Opens the source and starts the thread; NULL with the reason in err (and, for a camera, *why
 * says what kind of failure, for the caller's advice). The slot stays the caller's. */
struct fc_capture *fc_capture_start(const struct fc_capture_cfg *cfg, struct fc_slot *slot,
				    struct fc_capture_info *info, enum fc_v4l2_failure *why,
				    char *err, size_t errlen);

/* Stops and joins the thread, closes the slot, frees the capture. */
void fc_capture_stop(struct fc_capture *c);

/* Copies the counters out and resets the per-interval histogram. */
void fc_capture_stats(struct fc_capture *c, struct fc_capture_stats *out);

/* --encoders auto's rule, applied by the capture thread once a second: the threads to encode on
 * next (1..max), from the mean time a picture took to encode over that second, the frame
 * period and the threads in use. Pure, so that it is tested without timing the machine. */
int fc_capture_encoders_next(uint64_t mean_ns, uint64_t period_ns, int threads, int max);

#endif
