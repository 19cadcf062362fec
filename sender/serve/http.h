/*
 * http: the sender's HTTP server (--http [ADDR:]PORT), for browsers and other programs: the live
 * page (/ and its files), MJPEG (/stream), the freshest JPEG (/snapshot) and the sender's state
 * as JSON (/state). docs/HTTP.md has the routes, headers, limits and why libwebsockets.
 *
 * One libwebsockets context served by one thread of its own ("fc-http"). Frames come from the
 * slot, like a session's: the slot's eventfd (fc_slot_watch) is one of the loop's descriptors, so
 * a publish wakes the loop at once, and each /stream client is sent the newest frame whenever it
 * can take one: a slow client skips frames, never queues them, and costs no one else. The JPEG
 * bytes go out of the slot's reference-counted frame itself (no copy per client).
 *
 * Ownership: fc_http owns its context, thread, listening socket and clients; the slot and the
 * server (the protocol viewers listed by /state) belong to the caller and outlive it.
 * Threads: fc_http_start, fc_http_stop on the main thread; fc_http_stats from any thread
 * (atomics and a lock held for a copy); everything else on fc-http.
 */
#ifndef FC_HTTP_H
#define FC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "slot.h"
#include "stats.h"

struct fc_ladder;
struct fc_server;

/* Limits (docs/HTTP.md). A connection that has not sent a whole request within
 * FC_HTTP_IDLE_TIMEOUT_S is closed; so is a /stream client that has not taken one part within
 * FC_HTTP_WRITE_TIMEOUT_S. The FC_HTTP_MAX_CLIENTS+1st connection is answered 503. */
#define FC_HTTP_IDLE_TIMEOUT_S	10
#define FC_HTTP_WRITE_TIMEOUT_S 10
#define FC_HTTP_MAX_CLIENTS	256
/* A snapshot's frame must be younger than this, else the source is not delivering: 503. */
#define FC_HTTP_SNAPSHOT_STALE_MS 1000

/* What /state says of the source and the encoder (the capture's settings, as opened). */
struct fc_http_source {
	const char *device; /* "/dev/video0", or NULL for the test pattern or a photo */
	const char *photo;  /* --photo, or NULL */
	const char *format; /* --format: auto, mjpeg, yuyv */
	const char *text;   /* fc_capture_info.source: what it is and how it is encoded */
	int width;
	int height;
	int fps_milli;
	int quality;
	int encoders;
	bool adapt; /* renditions for slow links */
};

struct fc_http_cfg {
	struct fc_addr addr;	  /* host "" = every address */
	struct fc_slot *slot;	  /* frames */
	struct fc_server *srv;	  /* protocol viewers, for /state */
	struct fc_ladder *ladder; /* told that the full picture is wanted while a client waits */
	const char *web_dir;	  /* NULL: the built-in page (webfiles.h) */
	uint64_t period_ns;	  /* the source's frame period: how long /snapshot waits */
	/* NULL: no passphrase, anyone who reaches the port may watch. Else HTTP's key
	 * (fc_secure_http_key), copied at start: who may watch is http_guard.h's. */
	const uint8_t *http_key;
	struct fc_http_source source;
};

/* Counters since start; age is the capture-to-last-byte time of /stream parts since the last
 * call (ns), like the capture's histograms. */
struct fc_http_stats {
	unsigned clients;   /* connections open now */
	unsigned streams;   /* of which /stream clients */
	uint64_t requests;  /* requests answered (any status) */
	uint64_t parts;	    /* /stream parts sent whole */
	uint64_t skipped;   /* frames a /stream client skipped (it was still taking one) */
	uint64_t snapshots; /* JPEGs served by /snapshot */
	uint64_t no_frame;  /* 503 answers for lack of a frame */
	uint64_t refused;   /* 503 answers for lack of room (FC_HTTP_MAX_CLIENTS) */
	uint64_t bytes;	    /* JPEG bytes sent (parts and snapshots) */
	struct fc_hist age;
};

struct fc_http;

/* Listens on cfg->addr (a port in use is reported here, at once), then starts the thread. NULL
 * with the reason in err. */
struct fc_http *fc_http_start(const struct fc_http_cfg *cfg, char *err, size_t errlen);

/* The port listened on (useful with port 0). */
unsigned fc_http_port(const struct fc_http *h);

/* Before the session list (cfg.srv) is stopped: no more browsers become sessions, and /state
 * stops listing viewers; the thread goes on, so that the sessions' BYEs still reach their pages.
 * NULL is allowed. */
void fc_http_quiesce(struct fc_http *h);

/* Closes every client, stops the thread and frees. NULL is allowed. */
void fc_http_stop(struct fc_http *h);

void fc_http_stats(struct fc_http *h, struct fc_http_stats *out);

#endif
