/* http_client: replies and /stream parts. See http_client.h. */
#include "http_client.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "clock.h"
#include "http_route.h"
#include "http_state.h"
#include "json.h"
#include "proto.h"
#include "slot.h"
#include "webfiles.h"

#define TEXT "text/plain; charset=utf-8"

int fc_http_client_reply(struct fc_http_client *c, unsigned status, const char *type,
			 const void *body, size_t len, const char *name, const char *value)
{
	unsigned char buf[LWS_PRE + 512];
	unsigned char *start = buf + LWS_PRE;
	unsigned char *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;

	free(c->body);
	c->body = malloc(LWS_PRE + len + 1);
	if (!c->body)
		return -1;
	memcpy(c->body + LWS_PRE, body, len);
	c->body_len = len;
	if (lws_add_http_common_headers(c->wsi, status, type, len, &p, end) ||
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    (name && lws_add_http_header_by_name(c->wsi, (const unsigned char *)name,
						 (const unsigned char *)value, (int)strlen(value),
						 &p, end)) ||
	    lws_finalize_write_http_header(c->wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(c->wsi);
	return 0;
}

int fc_http_client_error(struct fc_http_client *c, unsigned status)
{
	static const char not_found[] = "not found: try /, /stream, /snapshot or /state\n";
	static const char not_allowed[] = "method not allowed: only GET\n";
	static const char busy[] = "busy: too many HTTP clients, try again later\n";

	if (status == 405)
		return fc_http_client_reply(c, 405, TEXT, not_allowed, sizeof(not_allowed) - 1,
					    "allow:", "GET");
	if (status == 503)
		return fc_http_client_reply(c, 503, TEXT, busy, sizeof(busy) - 1, NULL, NULL);
	return fc_http_client_reply(c, 404, TEXT, not_found, sizeof(not_found) - 1, NULL, NULL);
}

/* A frame's capture time (the sender's monotonic clock) on its wall clock, for X-Timestamp. */
static uint64_t wall_ns(const struct fc_frame *f)
{
	return f->capture_ns + (fc_clock_real_ns() - fc_clock_now_ns());
}

int fc_http_client_stream(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			  struct fc_http_counters *n)
{
	unsigned char buf[LWS_PRE + 512];
	unsigned char *start = buf + LWS_PRE;
	unsigned char *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;
	static const char type[] = "multipart/x-mixed-replace;boundary=" FC_HTTP_BOUNDARY;

	(void)cfg;
	c->kind = FC_HTTP_KIND_STREAM;
	n->requests++;
	if (lws_add_http_common_headers(c->wsi, 200, type, LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(c->wsi, start, &p, end))
		return -1;
	/* Between parts a client may wait as long as the source does (a camera unplugged); only a
	 * part it does not take in time ends it (next_part). */
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	lws_callback_on_writable(c->wsi);
	return 0;
}

/* Takes the newest frame for the next part; 0 when there is none newer than the last sent. */
static int next_part(struct fc_http_client *c, const struct fc_http_cfg *cfg,
		     struct fc_http_counters *n)
{
	struct fc_frame *f = fc_slot_get_newer(cfg->slot, c->last_seq);

	if (!f)
		return 0;
	if (!f->size) {
		/* Its full picture was not made (no one wanted it yet): the next one will be. */
		fc_frame_unref(f);
		return 0;
	}
	if (c->last_seq && f->seq > c->last_seq + 1) {
		c->skipped += f->seq - c->last_seq - 1;
		n->skipped += f->seq - c->last_seq - 1;
	}
	c->frame = f;
	c->head_len = fc_http_part_header(c->head, sizeof(c->head), f->size, wall_ns(f), f->seq);
	c->off = 0;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, FC_HTTP_WRITE_TIMEOUT_S);
	return 1;
}

/* Writes what the socket takes of the part, straight from the frame: a partial write leaves the
 * rest in the frame, not in a buffer of the library's (a copy per client). The library calls
 * WRITEABLE only once its own buffer is empty, and this server speaks plain HTTP/1.1, so these
 * bytes follow its headers in order. -1 to close. */
static int send_part(struct fc_http_client *c, const struct fc_http_cfg *cfg,
		     struct fc_http_counters *n)
{
	struct fc_frame *f = c->frame;
	struct iovec iov[3] = { { c->head, c->head_len }, { f->data, f->size }, { "\r\n", 2 } };
	size_t total = c->head_len + f->size + 2;
	size_t skip = c->off;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
	ssize_t w;

	for (int i = 0; i < 3; i++) {
		size_t take = skip < iov[i].iov_len ? skip : iov[i].iov_len;

		iov[i].iov_base = (char *)iov[i].iov_base + take;
		iov[i].iov_len -= take;
		skip -= take;
	}
	w = sendmsg(lws_get_socket_fd(c->wsi), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	c->off += w > 0 ? (size_t)w : 0;
	if (c->off < total) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	fc_http_counters_age(n, fc_clock_now_ns() - f->capture_ns);
	n->parts++;
	n->bytes += f->size;
	c->sent++;
	c->last_seq = f->seq;
	fc_frame_unref(f);
	c->frame = NULL;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	if (fc_slot_seq(cfg->slot) > c->last_seq)
		lws_callback_on_writable(c->wsi); /* a newer one came while this went out */
	return 0;
}

/* Serves f (the caller's reference) as the snapshot. */
static int serve_snapshot(struct fc_http_client *c, struct fc_frame *f, struct fc_http_counters *n,
			  uint64_t *served)
{
	char stamp[32];
	uint64_t wall = wall_ns(f);
	int rc;

	snprintf(stamp, sizeof(stamp), "%llu.%06llu", (unsigned long long)(wall / FC_NS_PER_S),
		 (unsigned long long)(wall % FC_NS_PER_S / 1000));
	c->waiting = false;
	lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
	*served = f->seq;
	n->snapshots++;
	n->bytes += f->size;
	rc = fc_http_client_reply(c, 200, "image/jpeg", f->data, f->size, "x-timestamp:", stamp);
	fc_frame_unref(f);
	return rc;
}

/* 503: no frame to give, with the source's own reason when it has one (a camera lost). */
static int no_frame(struct fc_http_client *c, const struct fc_http_cfg *cfg,
		    struct fc_http_counters *n)
{
	char why[FC_PROTO_MAX_TEXT + 1] = "";
	char text[FC_PROTO_MAX_TEXT + 96];
	int state = 0;
	int len;

	fc_slot_source(cfg->slot, &state, why, sizeof(why));
	len = snprintf(text, sizeof(text),
		       "no frame: the source is not delivering (camera unplugged?)\n%s%s",
		       state == FC_SOURCE_LOST ? why : "", state == FC_SOURCE_LOST ? "\n" : "");
	c->waiting = false;
	n->no_frame++;
	return fc_http_client_reply(c, 503, TEXT, text, (size_t)len, "retry-after:", "1");
}

static bool source_lost(const struct fc_http_cfg *cfg)
{
	int state = 0;

	fc_slot_source(cfg->slot, &state, NULL, 0);
	return state == FC_SOURCE_LOST;
}

int fc_http_client_snapshot(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			    struct fc_http_counters *n, uint64_t *served)
{
	struct fc_frame *f;

	c->kind = FC_HTTP_KIND_SNAPSHOT;
	n->requests++;
	if (source_lost(cfg))
		return no_frame(c, cfg, n);
	f = fc_slot_get_newer(cfg->slot, *served);
	if (f && f->size)
		return serve_snapshot(c, f, n, served);
	if (f)
		fc_frame_unref(f);
	c->waiting = true;
	lws_set_timer_usecs(c->wsi, (lws_usec_t)(cfg->period_ns / 1000));
	return 0;
}

int fc_http_client_snapshot_late(struct fc_http_client *c, const struct fc_http_cfg *cfg,
				 struct fc_http_counters *n, uint64_t *served)
{
	struct fc_frame *f = fc_slot_get_newer(cfg->slot, 0);

	if (f && f->size && !source_lost(cfg) &&
	    fc_clock_now_ns() - f->capture_ns < FC_HTTP_SNAPSHOT_STALE_MS * FC_NS_PER_MS)
		return serve_snapshot(c, f, n, served);
	if (f)
		fc_frame_unref(f);
	return no_frame(c, cfg, n);
}

int fc_http_client_file(struct fc_http_client *c, const char *dir, const char *path)
{
	char full[4096];
	int rc;

	c->kind = FC_HTTP_KIND_PAGE;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (!dir) {
		for (size_t i = 0; i < fc_webfiles_count; i++)
			if (strcmp(fc_webfiles[i].path, path) == 0)
				return fc_http_client_reply(c, 200, fc_http_content_type(path),
							    fc_webfiles[i].data,
							    fc_webfiles[i].size, NULL, NULL);
		return fc_http_client_error(c, 404);
	}
	/* fc_http_route let through plain names only: no "..", nothing hidden. */
	if (snprintf(full, sizeof(full), "%s%s", dir, path) >= (int)sizeof(full))
		return fc_http_client_error(c, 404);
	rc = lws_serve_http_file(c->wsi, full, fc_http_content_type(path), NULL, 0);
	if (rc < 0)
		return fc_http_client_error(c, 404);
	if (rc > 0 && lws_http_transaction_completed(c->wsi))
		return -1;
	return 0;
}

int fc_http_client_state(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			 const struct fc_http_client *list, unsigned connections,
			 const struct fc_viewer_stats *v, int nv)
{
	struct fc_json *j = malloc(sizeof(*j));
	const char *line;
	int rc;

	c->kind = FC_HTTP_KIND_STATE;
	if (!j)
		return -1;
	line = fc_http_state(j, cfg, list, connections, v, nv);
	rc = line ? fc_http_client_reply(c, 200, "application/json", line, strlen(line), NULL, NULL)
		  : -1;
	free(j);
	return rc;
}

int fc_http_client_writable(struct fc_http_client *c, const struct fc_http_cfg *cfg,
			    struct fc_http_counters *n, uint64_t *served)
{
	if (c->body) {
		int w = lws_write(c->wsi, c->body + LWS_PRE, c->body_len, LWS_WRITE_HTTP_FINAL);

		free(c->body);
		c->body = NULL;
		if (c->kind != FC_HTTP_KIND_SNAPSHOT)
			n->requests++;
		if (w < 0 || lws_http_transaction_completed(c->wsi))
			return -1;
		return 0;
	}
	if (c->kind == FC_HTTP_KIND_STREAM) {
		if (!c->frame && !next_part(c, cfg, n))
			return 0;
		return send_part(c, cfg, n);
	}
	if (c->waiting) {
		struct fc_frame *f = fc_slot_get_newer(cfg->slot, *served);

		if (f && f->size)
			return serve_snapshot(c, f, n, served);
		if (f)
			fc_frame_unref(f);
	}
	return 0;
}

void fc_http_counters_init(struct fc_http_counters *n)
{
	pthread_mutex_init(&n->lock, NULL);
	fc_hist_reset(&n->age);
}

void fc_http_counters_age(struct fc_http_counters *n, uint64_t ns)
{
	pthread_mutex_lock(&n->lock);
	fc_hist_add(&n->age, ns);
	pthread_mutex_unlock(&n->lock);
}

void fc_http_counters_read(struct fc_http_counters *n, struct fc_http_stats *out)
{
	out->requests = n->requests;
	out->parts = n->parts;
	out->skipped = n->skipped;
	out->snapshots = n->snapshots;
	out->no_frame = n->no_frame;
	out->refused = n->refused;
	out->bytes = n->bytes;
	pthread_mutex_lock(&n->lock);
	out->age = n->age;
	fc_hist_reset(&n->age);
	pthread_mutex_unlock(&n->lock);
}

void fc_http_counters_free(struct fc_http_counters *n)
{
	pthread_mutex_destroy(&n->lock);
}
