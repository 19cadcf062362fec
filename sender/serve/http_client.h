/*
 * http_client: one HTTP client of the sender's server (http.c) and what it is answered: a short
 * reply (an error, /state, a page file, a snapshot), or /stream's endless parts.
 *
 * The struct is libwebsockets' per-connection data (zeroed by http.c when the request comes);
 * a reply's bytes are kept in the client until the connection can take them. A /stream client
 * holds at most one frame, by reference, while its part goes out: when it can take the next part
 * it gets the newest frame, and the ones published meanwhile are counted as skipped.
 *
 * Threads: fc-http only, but for the counters, which any thread reads (fc_http_counters_read).
 */
#ifndef FC_HTTP_CLIENT_H
#define FC_HTTP_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "http.h"

struct fc_viewer_stats;

struct lws;

enum fc_http_kind {
	FC_HTTP_KIND_OTHER, /* an error reply */
	FC_HTTP_KIND_STREAM,
	FC_HTTP_KIND_SNAPSHOT,
	FC_HTTP_KIND_PAGE, /* a file of the page */
	FC_HTTP_KIND_STATE,
};

/* The server's counters (http.h's fc_http_stats): atomics, and the age histogram under a lock
 * held for an add or a copy. */
struct fc_http_counters {
	atomic_uint_fast64_t requests, parts, skipped, snapshots, no_frame, refused, bytes;
	pthread_mutex_t lock;
	struct fc_hist age;
};

struct fc_http_client {
	struct fc_http_client *next, *prev; /* the server's list, for /state and the wake-ups */
	struct lws *wsi;
	bool linked;
	enum fc_http_kind kind;
	char peer[64];
	/* A reply waiting to be written: LWS_PRE bytes of room, then body_len bytes. */
	unsigned char *body;
	size_t body_len;
	/* /stream: the part going out (its header, the frame's JPEG, "\r\n") and how far. */
	struct fc_frame *frame;
	char head[192];
	size_t head_len;
	size_t off;
	uint64_t last_seq; /* the last frame sent whole */
	uint64_t sent;
	uint64_t skipped;
	bool waiting; /* /snapshot: for a frame newer than the last one served */
	/* A credential held back by the throttle (http_guard.c) until its turn: the route it was
	 * for (0: none) and what it presented, copied while the request's headers are at hand. */
	int held_route;
	char held_token[2 * 32 + 1];
	char held_nonce[2 * 32 + 1];
};

/* Sends status with the given headers now and the body when the connection can take it. One
 * extra header (name with its ':', or NULL). 0, or -1 to close the connection. */
int fc_http_client_reply(struct fc_http_client *c, unsigned status, const char *type,
			 const void *body, size_t len, const char *name, const char *value);

/* A short text/plain answer: 404, 405 (only GET) or 503 (too many clients). */
int fc_http_client_error(struct fc_http_client *c, unsigned status);

/* /stream: the multipart header now, then a part whenever the connection can take one. */
int fc_http_client_stream(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			  struct fc_http_counters *n);

/* /snapshot: a frame newer than *served now, or a wait of at most one frame period. */
int fc_http_client_snapshot(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			    struct fc_http_counters *n, uint64_t *served);
/* The wait is over: the newest frame if it is fresh, else 503. */
int fc_http_client_snapshot_late(struct fc_http_client *c, const struct fc_http_cfg *cfg,
				 struct fc_http_counters *n, uint64_t *served);

/* / and the page's files: built in, or from dir (--http-root). */
int fc_http_client_file(struct fc_http_client *c, const char *dir, const char *path);

/* /state: the JSON of http_state.c, for the clients of list (connections open in all) and the
 * protocol viewers v[0..nv). */
int fc_http_client_state(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			 const struct fc_http_client *list, unsigned connections,
			 const struct fc_viewer_stats *v, int nv);

/* The connection can take more: the next bytes of a reply or a part. */
int fc_http_client_writable(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			    struct fc_http_counters *n, uint64_t *served);

void fc_http_counters_init(struct fc_http_counters *n);
/* A /stream part's age when its last byte was written (ns). */
void fc_http_counters_age(struct fc_http_counters *n, uint64_t ns);
void fc_http_counters_read(struct fc_http_counters *n, struct fc_http_stats *out);
void fc_http_counters_free(struct fc_http_counters *n);

#endif
