/* http: the sender's HTTP server on libwebsockets. See http.h and docs/HTTP.md. */
#include "http.h"

#include <errno.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"
#include "http_guard.h"
#include "http_route.h"
#include "tcpstat.h"
#include "ladder.h"

#include "clock.h"
#include "net.h"
#include "server.h"
#include "ws.h"

/* Connections beyond this are closed unanswered at once (the ones up to it that are over
 * FC_HTTP_MAX_CLIENTS get a 503): a flood of silent sockets costs a descriptor each, briefly. */
#define HARD_MAX_CONNECTIONS (2 * FC_HTTP_MAX_CLIENTS)
/* A connection is writable again only once the kernel has sent all it was given (nothing left
 * unsent: TCP_NOTSENT_LOWAT 1, set on /stream clients), so a slow /stream client skips frames here, where the newest
 * wins, rather than queueing them in its socket: one part in flight at most. (Sessions allow
 * 16 KiB, session.c; a 320x240 part is smaller than that, and a second part would queue.) */
#define NOTSENT_LOWAT 1u

struct fc_http {
	struct fc_http_cfg cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	/* Per instance: the WebSocket protocol's user pointer is this server's fc_ws. */
	struct lws_protocols protocols[3];
	pthread_t thread;
	bool started;
	atomic_bool stop;
	int listen_fd;
	int event_fd; /* poked by the slot at each publish */
	unsigned port;
	struct lws *listen_wsi; /* the two descriptors above, adopted into the loop */
	struct lws *event_wsi;
	/* fc-http only: the clients that made a request, and how many want the full picture. */
	struct fc_http_client *clients;
	int full_wanted;
	uint64_t snapshot_seq; /* the last frame /snapshot served */
	atomic_uint connections;
	atomic_uint streams;
	struct fc_http_counters n;
	struct fc_ws *ws;	     /* the browsers' bridge to ordinary sessions */
	struct fc_http_guard *guard; /* NULL: no passphrase */
	/* /state copies the viewers' figures from the session list (cfg.srv) under this lock;
	 * fc_http_quiesce clears cfg.srv under it before the list is freed. */
	pthread_mutex_t srv_lock;
	struct fc_viewer_stats state_viewers[FC_SERVER_MAX_VIEWERS]; /* fc-http only: that copy */
};

/* A client that wants the full picture makes the capture encode it even when every protocol
 * viewer is on a smaller rendition (ladder.h: a head whose rung 0 was not planned is empty). */
static void want_full(struct fc_http *h, int delta)
{
	int before = h->full_wanted;

	h->full_wanted += delta;
	if (!h->cfg.ladder)
		return;
	if (before == 0 && h->full_wanted > 0)
		fc_ladder_move(h->cfg.ladder, -1, 0);
	else if (before > 0 && h->full_wanted == 0)
		fc_ladder_move(h->cfg.ladder, 0, -1);
}

static void link_client(struct fc_http *h, struct fc_http_client *c, struct lws *wsi)
{
	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->linked = true;
	c->next = h->clients;
	if (h->clients)
		h->clients->prev = c;
	h->clients = c;
	lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
}

/* The client's connection is closing: its frame goes back, its place in the list too. */
static void unlink_client(struct fc_http *h, struct fc_http_client *c)
{
	if (!c || !c->linked)
		return;
	fc_http_guard_drop(h->guard, c);
	if (c->frame)
		fc_frame_unref(c->frame);
	c->frame = NULL;
	free(c->body);
	c->body = NULL;
	if (c->kind == FC_HTTP_KIND_STREAM)
		atomic_fetch_sub(&h->streams, 1);
	if (c->kind == FC_HTTP_KIND_STREAM || c->kind == FC_HTTP_KIND_SNAPSHOT)
		want_full(h, -1);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->linked = false;
}

/* Accepts every pending connection and hands it to the library (which closes it on failure). */
static void accept_all(struct fc_http *h)
{
	for (;;) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or a connection reset before it was taken */
		if (atomic_load(&h->connections) >= HARD_MAX_CONNECTIONS) {
			close(fd);
			continue;
		}
		/* Without TCP_NODELAY a WebSocket message's last packet waited for the browser's
		 * delayed ACK: the page's bound p50 was 25 ms on loopback. */
		fc_net_tune(fd);
		/* Counted as it binds to the http protocol (callback), closed here on failure. */
		(void)lws_adopt_socket_vhost(h->vh, fd);
	}
}

/* A frame was published (or the source changed): the clients waiting for one may go on. */
static void frame_ready(struct fc_http *h)
{
	uint64_t n;

	if (read(h->event_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (struct fc_http_client *c = h->clients; c; c = c->next)
		if ((c->kind == FC_HTTP_KIND_STREAM && !c->frame) || c->waiting)
			lws_callback_on_writable(c->wsi);
}

/* The request's query for routing: its arguments but a token, which is the guard's. */
static void route_query(struct lws *wsi, char *out, size_t len)
{
	char frag[64];
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0;
	     lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		int n;

		if (strncmp(frag, "token=", 6) == 0)
			continue;
		n = snprintf(out + used, len - used, "%s%s", used ? "&" : "", frag);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

/* A route the request may have (the guard let it through, or there is no passphrase). */
static int serve(struct fc_http *h, struct lws *wsi, struct fc_http_client *c,
		 enum fc_http_route route, const char *path)
{
	switch (route) {
	case FC_HTTP_ROUTE_STREAM:
		/* Only here: a WebSocket's session paces itself (session.c), and one part in flight
		 * would hold each of its messages until the last was sent (the page fell to the
		 * smallest rendition on loopback). */
		(void)fc_tcpstat_lowat(lws_get_socket_fd(wsi), NOTSENT_LOWAT);
		atomic_fetch_add(&h->streams, 1);
		want_full(h, 1);
		return fc_http_client_stream(c, &h->cfg, &h->n);
	case FC_HTTP_ROUTE_SNAPSHOT:
		want_full(h, 1);
		return fc_http_client_snapshot(c, &h->cfg, &h->n, &h->snapshot_seq);
	case FC_HTTP_ROUTE_STATE: {
		/* Only the copy under the lock (fc_server_stats holds the list's own lock too);
		 * the JSON is made outside it. */
		int nv;

		pthread_mutex_lock(&h->srv_lock);
		nv = h->cfg.srv
			 ? fc_server_stats(h->cfg.srv, h->state_viewers, FC_SERVER_MAX_VIEWERS)
			 : 0;
		pthread_mutex_unlock(&h->srv_lock);
		return fc_http_client_state(c, &h->cfg, h->clients, atomic_load(&h->connections),
					    h->state_viewers, nv);
	}
	case FC_HTTP_ROUTE_FILE:
		return fc_http_client_file(c, h->cfg.web_dir, path);
	case FC_HTTP_ROUTE_CHALLENGE: {
		/* Without a passphrase too, so that the page learns it has nothing to prove without
		 * a 404 in its console. */
		static const char open_json[] = "{\"passphrase\":false}\n";

		return h->guard ? fc_http_guard_challenge(h->guard, c)
				: fc_http_client_reply(c, 200, "application/json", open_json,
						       sizeof(open_json) - 1, NULL, NULL);
	}
	case FC_HTTP_ROUTE_PROVE:
		return h->guard ? fc_http_guard_prove(h->guard, c) : fc_http_client_error(c, 404);
	case FC_HTTP_ROUTE_NONE:
		break;
	}
	return fc_http_client_error(c, 404);
}

/* The request: which route, and whether it may be served now. */
static int request(struct fc_http *h, struct lws *wsi, struct fc_http_client *c, const char *path)
{
	char query[128];
	enum fc_http_route route;
	int admitted;

	unlink_client(h, c); /* a keep-alive connection's previous request */
	link_client(h, c, wsi);
	if (lws_get_network_wsi(wsi) != wsi)
		return -1; /* an HTTP/2 stream: this server speaks HTTP/1.1 only (docs/HTTP.md) */
	if (!lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
		return fc_http_client_error(c, 405);
	if (atomic_load(&h->connections) > FC_HTTP_MAX_CLIENTS) {
		h->n.refused++;
		return fc_http_client_error(c, 503);
	}
	route_query(wsi, query, sizeof(query));
	route = fc_http_route(path, query);
	if (!h->guard || (route != FC_HTTP_ROUTE_STREAM && route != FC_HTTP_ROUTE_SNAPSHOT &&
			  route != FC_HTTP_ROUTE_STATE))
		return serve(h, wsi, c, route, path);
	/* The page's files hold no secret; frames and state need the passphrase. */
	admitted = fc_http_guard_admit(h->guard, c, route);
	return admitted > 0 ? serve(h, wsi, c, (enum fc_http_route)admitted, path) : admitted;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct fc_http *h = lws_context_user(lws_get_context(wsi));
	struct fc_http_client *c = user;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi == h->listen_wsi)
			accept_all(h);
		else if (wsi == h->event_wsi)
			frame_ready(h);
		return 0;
	case LWS_CALLBACK_HTTP:
		return request(h, wsi, c, in) ? -1 : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c || !c->linked)
			return 0;
		return fc_http_client_writable(c, &h->cfg, &h->n, &h->snapshot_seq) ? -1 : 0;
	case LWS_CALLBACK_TIMER:
		/* A try the throttle held has its turn. */
		if (c && c->linked && c->held_route) {
			int admitted = fc_http_guard_resume(h->guard, c);

			if (admitted > 0)
				admitted = serve(h, wsi, c, (enum fc_http_route)admitted, NULL);
			return admitted < 0 ? -1 : 0;
		}
		/* /snapshot waited its frame period: the newest there is, or 503. */
		if (c && c->linked && c->waiting)
			return fc_http_client_snapshot_late(c, &h->cfg, &h->n, &h->snapshot_seq)
				   ? -1
				   : 0;
		return 0;
	/* A connection is counted while it speaks HTTP: from its adoption to its close, or to its
	 * upgrade to a WebSocket (whose protocol then has it). */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* The WebSocket carries frames: the same proof as /stream. */
		return h->guard ? fc_http_guard_upgrade(h->guard, wsi) : 0;
	case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
		atomic_fetch_add(&h->connections, 1);
		return 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		unlink_client(h, c);
		atomic_fetch_sub(&h->connections, 1);
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		unlink_client(h, c);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static void *service(void *arg)
{
	struct fc_http *h = arg;

	pthread_setname_np(pthread_self(), "fc-http");
	while (!atomic_load(&h->stop))
		if (lws_service(h->ctx, 0) < 0)
			break;
	return NULL;
}

/* Adopts fd into the loop as a plain descriptor whose readiness calls RAW_RX_FILE. */
static struct lws *adopt_fd(struct fc_http *h, int fd)
{
	lws_sock_file_fd_type u = { .filefd = fd };

	return lws_adopt_descriptor_vhost(h->vh, LWS_ADOPT_RAW_FILE_DESC, u, "http", NULL);
}

/* The library's context: no listener of its own (the sender listens, http.h), its limits. */
static int make_context(struct fc_http *h, char *err, size_t errlen)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	h->protocols[0] = (struct lws_protocols){ "http", callback, sizeof(struct fc_http_client),
						  0,	  0,	    NULL,
						  0 };
	h->protocols[1] = (struct lws_protocols){ FC_WS_PROTOCOL_NAME,
						  fc_ws_callback,
						  FC_WS_PER_SESSION_SIZE,
						  FC_WS_RX_BUFFER_SIZE,
						  0,
						  h->ws,
						  0 };
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = h->protocols;
	info.user = h;
	info.timeout_secs = FC_HTTP_IDLE_TIMEOUT_S;
	info.keepalive_timeout = FC_HTTP_IDLE_TIMEOUT_S;
	info.fd_limit_per_thread = HARD_MAX_CONNECTIONS + 16;
	info.max_http_header_data = 4096;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
	lws_set_log_level(0, NULL); /* it would print; failures are reported here instead */
	h->ctx = lws_create_context(&info);
	if (h->ctx)
		h->vh = lws_create_vhost(h->ctx, &info);
	if (!h->ctx || !h->vh) {
		snprintf(err, errlen, "HTTP: libwebsockets could not start (out of memory?)");
		return -1;
	}
	h->listen_wsi = adopt_fd(h, h->listen_fd);
	h->event_wsi = adopt_fd(h, h->event_fd);
	if (!h->listen_wsi || !h->event_wsi) {
		snprintf(err, errlen, "HTTP: libwebsockets could not watch its descriptors");
		return -1;
	}
	return 0;
}

/* The listening socket (the sender's own, like the viewer port's, so errors read the same) and
 * the eventfd the slot pokes. */
static int open_fds(struct fc_http *h, char *err, size_t errlen)
{
	char why[256];

	h->listen_fd = fc_net_listen(&h->cfg.addr, why, sizeof(why));
	if (h->listen_fd < 0) {
		snprintf(err, errlen, "HTTP: %s", why);
		return -1;
	}
	/* Room for a crowd connecting at once (200 MJPEG clients in the tests). */
	(void)listen(h->listen_fd, 256);
	h->port = fc_net_local_port(h->listen_fd);
	h->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->event_fd < 0) {
		snprintf(err, errlen, "HTTP: eventfd: %s", strerror(errno));
		return -1;
	}
	if (fc_slot_watch(h->cfg.slot, h->event_fd) < 0) {
		close(h->event_fd);
		h->event_fd = -1;
		snprintf(err, errlen, "HTTP: the frame slot has no room for another watcher");
		return -1;
	}
	return 0;
}

struct fc_http *fc_http_start(const struct fc_http_cfg *cfg, char *err, size_t errlen)
{
	struct fc_http *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "HTTP: out of memory");
		return NULL;
	}
	h->cfg = *cfg;
	h->cfg.http_key = NULL; /* the caller's copy: the guard keeps its own */
	fc_http_counters_init(&h->n);
	pthread_mutex_init(&h->srv_lock, NULL);
	h->listen_fd = h->event_fd = -1;
	if (open_fds(h, err, errlen) < 0)
		goto fail;
	if (cfg->http_key) {
		h->guard = fc_http_guard_new(cfg->http_key);
		if (!h->guard) {
			snprintf(err, errlen, "HTTP: out of memory for the passphrase's checks");
			goto fail;
		}
	}
	h->ws = fc_ws_new(cfg->srv, err, errlen);
	if (!h->ws)
		goto fail;
	if (make_context(h, err, errlen) < 0)
		goto fail;
	if (pthread_create(&h->thread, NULL, service, h) != 0) {
		snprintf(err, errlen, "HTTP: cannot start its thread");
		goto fail;
	}
	h->started = true;
	return h;
fail:
	fc_http_stop(h);
	return NULL;
}

unsigned fc_http_port(const struct fc_http *h)
{
	return h->port;
}

void fc_http_quiesce(struct fc_http *h)
{
	if (!h)
		return;
	fc_ws_stop_adopting(h->ws);
	pthread_mutex_lock(&h->srv_lock);
	h->cfg.srv = NULL;
	pthread_mutex_unlock(&h->srv_lock);
}

void fc_http_stop(struct fc_http *h)
{
	if (!h)
		return;
	if (h->started) {
		/* The sessions have said BYE (fc_http_quiesce, then the session list stopped): let
		 * the loop carry those BYEs to the pages, which then close, for at most a second;
		 * destroying the context at once cut them off (the page saw 1006, not the BYE). */
		for (int i = 0; i < 100 && fc_ws_links(h->ws) > 0; i++)
			fc_clock_sleep_until(fc_clock_now_ns() + 10 * FC_NS_PER_MS);
		atomic_store(&h->stop, true);
		lws_cancel_service(h->ctx);
		pthread_join(h->thread, NULL);
	}
	if (h->event_fd >= 0)
		fc_slot_unwatch(h->cfg.slot, h->event_fd);
	/* Closes every connection (each client's frame goes back to its pool) and the adopted
	 * descriptors, listen_fd and event_fd among them. */
	if (h->ctx)
		lws_context_destroy(h->ctx);
	else if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (!h->ctx && h->event_fd >= 0)
		close(h->event_fd);
	fc_ws_free(h->ws);
	fc_http_guard_free(h->guard);
	pthread_mutex_destroy(&h->srv_lock);
	fc_http_counters_free(&h->n);
	free(h);
}

void fc_http_stats(struct fc_http *h, struct fc_http_stats *out)
{
	fc_http_counters_read(&h->n, out);
	out->clients = atomic_load(&h->connections);
	out->streams = atomic_load(&h->streams);
}
