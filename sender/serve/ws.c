#include "ws.h"

#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct fc_ws {
	struct fc_server *srv;
	pthread_mutex_t lock; /* held around fc_server_adopt, and to set closed */
	bool closed;	      /* fc_ws_stop_adopting was called: no more sessions */
	atomic_uint links;    /* bridges not yet freed (fc_ws_links) */
};

/* One browser's bridge. Freed when both its WebSocket and its adopted end have closed. */
struct fc_ws_link {
	struct fc_ws *ws;
	struct lws *wsi; /* the WebSocket; NULL once closed */
	struct lws *raw; /* our end of the socketpair, adopted; NULL once closed */
	int fd;		 /* that end's descriptor (lws closes it with raw) */
	/* After lws closed it (on a hang-up, with what the session wrote last still unread while
	 * the WebSocket was busy): a duplicate, drained into the WebSocket; -1 otherwise. */
	int tail;
	bool session_gone; /* the session closed its end: the WebSocket ends once out is sent */
	bool lingering;	   /* all of it sent: waiting for the page to close */
	size_t out_len;	   /* session -> browser bytes waiting for the WebSocket */
	size_t in_len;	   /* browser -> session bytes the socketpair has not taken yet */
	uint8_t in[FC_WS_IN_CAP];
	uint8_t out[LWS_PRE + FC_WS_OUT_CAP];
};

struct fc_ws *fc_ws_new(struct fc_server *srv, char *err, size_t errlen)
{
	struct fc_ws *ws = calloc(1, sizeof(*ws));

	if (!ws) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ws->srv = srv;
	pthread_mutex_init(&ws->lock, NULL);
	return ws;
}

void fc_ws_free(struct fc_ws *ws)
{
	if (!ws)
		return;
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}

unsigned fc_ws_links(struct fc_ws *ws)
{
	return ws ? atomic_load(&ws->links) : 0;
}

void fc_ws_stop_adopting(struct fc_ws *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->closed = true;
	pthread_mutex_unlock(&ws->lock);
}

/* A session for sv0, unless the sender is stopping. */
static int adopt(struct fc_ws *ws, int sv0, const char *peer, char *why, size_t len)
{
	int rc = -1;

	pthread_mutex_lock(&ws->lock);
	if (ws->closed) {
		close(sv0);
		snprintf(why, len, "viewer %s refused: the sender is stopping", peer);
	} else {
		rc = fc_server_adopt(ws->srv, sv0, peer, why, len);
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

bool fc_ws_origin_ok(const char *origin, const char *host)
{
	size_t skip;

	if (!origin || !*origin)
		return true;
	if (!host || !*host)
		return false;
	if (strncmp(origin, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(origin, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	return strcmp(origin + skip, host) == 0;
}

void fc_ws_peer_name(char *buf, size_t len, const char *addr, unsigned port)
{
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
		addr += 7;
	if (strchr(addr, ':'))
		snprintf(buf, len, "ws:[%s]:%u", addr, port);
	else
		snprintf(buf, len, "ws:%s:%u", addr, port);
}

static void maybe_free(struct fc_ws_link *l)
{
	if (l->wsi || l->raw)
		return;
	if (l->tail >= 0)
		close(l->tail);
	atomic_fetch_sub(&l->ws->links, 1);
	free(l);
}

/* The browser's address and port, as the viewer list shows peers. */
static void peer_of(struct lws *wsi, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned port = 0;
	char addr[64] = "?";

	if (!lws_get_peer_simple(wsi, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	fc_ws_peer_name(buf, len, addr, port);
}

/* Whether this upgrade is ours to serve: the path, and a browser's page from this very host. */
static bool admissible(struct lws *wsi, char *why, size_t len)
{
	char uri[64] = "", origin[256] = "", host[256] = "";

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, FC_WS_PATH) != 0) {
		snprintf(why, len, "path %.60s is not %s", uri, FC_WS_PATH);
		return false;
	}
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0 ||
	    lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) < 0 ||
	    !fc_ws_origin_ok(origin, host)) {
		snprintf(why, len, "a page from %.100s (not this sender's %.100s) may not watch",
			 origin, host);
		return false;
	}
	return true;
}

/* A new WebSocket: a socketpair, a session on one end, the other adopted into this loop. */
static int bridge(struct fc_ws *ws, struct lws *wsi, struct fc_ws_pss *pss)
{
	char peer[80], why[256];
	int sv[2], size = FC_WS_SESSION_SNDBUF;
	struct fc_ws_link *l;

	peer_of(wsi, peer, sizeof(peer));
	if (!admissible(wsi, why, sizeof(why))) {
		fc_warn("viewer %s refused: %s", peer, why);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (!l || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		fc_warn("viewer %s: no bridge for its WebSocket: %s", peer,
			l ? strerror(errno) : "out of memory");
		free(l);
		return -1;
	}
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (adopt(ws, sv[0], peer, why, sizeof(why)) < 0) {
		fc_warn("%s", why);
		close(sv[1]);
		free(l);
		return -1;
	}
	l->fd = sv[1];
	l->tail = -1;
	l->wsi = wsi;
	l->ws = ws;
	atomic_fetch_add(&ws->links, 1);
	pss->link = l;
	/* A child of the WebSocket: lws closes it (and so the session's stream) when the
	 * browser goes. On failure lws has closed the descriptor: the session sees the end. */
	l->raw = lws_adopt_descriptor_vhost_via_info(&(lws_adopt_desc_t){
	    .vh = lws_get_vhost(wsi),
	    .type = LWS_ADOPT_RAW_FILE_DESC,
	    .fd.filefd = sv[1],
	    .vh_prot_name = FC_WS_PROTOCOL_NAME,
	    .parent = wsi,
	    .opaque = l,
	});
	if (!l->raw) {
		fc_warn("viewer %s: its WebSocket could not be bridged (lws adoption failed)",
			peer);
		return -1; /* CLOSED frees l */
	}
	return 0;
}

/* The session wrote: pass on what it has, one WebSocket message, when the last one has gone. */
static int from_session(struct fc_ws_link *l)
{
	ssize_t n;

	if (!l->wsi)
		return -1;
	if (l->out_len) {
		lws_rx_flow_control(l->raw, 0);
		return 0;
	}
	n = read(l->fd, l->out + LWS_PRE, FC_WS_OUT_CAP);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		l->session_gone = true;
		lws_callback_on_writable(l->wsi);
		return -1;
	}
	l->out_len = (size_t)n;
	lws_rx_flow_control(l->raw, 0);
	lws_callback_on_writable(l->wsi);
	return 0;
}

/* The WebSocket has room: the session's bytes, or the close once the session has ended. */
static int to_browser(struct fc_ws_link *l)
{
	if (l->out_len) {
		if (lws_write(l->wsi, l->out + LWS_PRE, l->out_len, LWS_WRITE_BINARY) <
		    (int)l->out_len)
			return -1;
		l->out_len = 0;
		if (l->raw)
			lws_rx_flow_control(l->raw, 1);
	}
	/* The session's last bytes (its BYE), left when lws closed its end on the hang-up. */
	if (!l->raw && l->tail >= 0) {
		ssize_t n = read(l->tail, l->out + LWS_PRE, FC_WS_OUT_CAP);

		if (n > 0) {
			l->out_len = (size_t)n;
			lws_callback_on_writable(l->wsi);
			return 0;
		}
		close(l->tail);
		l->tail = -1;
	}
	/* All the session said is sent, its BYE last: the page closes the WebSocket when it reads
	 * that, as a viewer closes its TCP connection. Closing first from here would reset a TCP
	 * connection whose page had requests on the way in, and the reset can drop the BYE before
	 * the page reads it; a page that never closes is cut off after FC_WS_LINGER_S. */
	if (l->session_gone && !l->raw && !l->lingering) {
		l->lingering = true;
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_USER_OK, FC_WS_LINGER_S);
	}
	return 0;
}

/* Writes what the session has not taken yet; 1 when all of it is written, 0 when some waits. A
 * session that has closed its end takes nothing more: the bytes are dropped, and its last words
 * (a BYE) still reach the page through from_session. */
static int flush_in(struct fc_ws_link *l)
{
	ssize_t n = l->in_len ? write(l->fd, l->in, l->in_len) : 0;

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		n = (ssize_t)l->in_len;
	if (n > 0) {
		memmove(l->in, l->in + n, l->in_len - (size_t)n);
		l->in_len -= (size_t)n;
	}
	return l->in_len == 0;
}

/* Bytes from the page: to the session, or kept (and the WebSocket not read) until it takes them. */
static int from_browser(struct fc_ws_link *l, const void *in, size_t len)
{
	int done;

	if (!l->raw)
		return 0; /* the session is gone; its close is on the way */
	if (len > sizeof(l->in) - l->in_len)
		return -1; /* a page that sends more than a viewer does: cut off */
	memcpy(l->in + l->in_len, in, len);
	l->in_len += len;
	done = flush_in(l);
	if (!done) {
		lws_rx_flow_control(l->wsi, 0);
		lws_callback_on_writable(l->raw);
	}
	return 0;
}

static int to_session(struct fc_ws_link *l)
{
	int done = flush_in(l);

	if (done && l->wsi)
		lws_rx_flow_control(l->wsi, 1);
	else if (!done)
		lws_callback_on_writable(l->raw);
	return 0;
}

int fc_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	const struct lws_protocols *proto = lws_get_protocol(wsi);
	struct fc_ws *ws = proto ? proto->user : NULL;
	struct fc_ws_pss *pss = user;
	struct fc_ws_link *raw_link = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return ws ? bridge(ws, wsi, pss) : -1;
	case LWS_CALLBACK_RECEIVE:
		return pss->link ? from_browser(pss->link, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->link ? to_browser(pss->link) : -1;
	case LWS_CALLBACK_CLOSED:
		if (pss->link) {
			pss->link->wsi = NULL;
			maybe_free(pss->link);
			pss->link = NULL;
		}
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		return raw_link ? from_session(raw_link) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		return raw_link ? to_session(raw_link) : -1;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (raw_link) {
			/* lws closes on a hang-up even while reading was held back for the
			 * WebSocket: keep the descriptor to pass on what is still in it. */
			raw_link->tail = raw_link->wsi ? dup(raw_link->fd) : -1;
			raw_link->raw = NULL;
			raw_link->session_gone = true;
			if (raw_link->wsi)
				lws_callback_on_writable(raw_link->wsi);
			lws_set_opaque_user_data(wsi, NULL);
			maybe_free(raw_link);
		}
		return 0;
	default:
		return 0;
	}
}
