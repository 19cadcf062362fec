#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "conn.h"
#include "log.h"

#define MAX_SESSIONS	256
#define STALL_MS	5000
#define DIAL_TIMEOUT_MS 3000
/* Redialling a viewer: 1 s, doubling to 10 s; a session shorter than 3 s (refused at HELLO: a
 * wrong role or version) counts as a failed dial (backoff.h). */
#define DIAL_BACKOFF_FIRST_NS  FC_NS_PER_S
#define DIAL_BACKOFF_MAX_NS    (10 * FC_NS_PER_S)
#define DIAL_BACKOFF_STEADY_NS (3 * FC_NS_PER_S)
/* A viewer only ever sends small messages (the largest, a DATA with its document, is 4112
 * bytes): never buffer more for one. */
#define VIEWER_MAX_MESSAGE (FC_PROTO_HEADER_SIZE + FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA)

struct fc_server {
	struct fc_server_cfg cfg;
	int lfd; /* listening socket, -1 when dialling */
	unsigned port;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint
	    next_id; /* the accept or dial thread and fc_server_adopt's caller number viewers */

	pthread_mutex_t lock; /* guards sessions[] and nsessions */
	struct fc_session *sessions[MAX_SESSIONS];
	int nsessions;
	struct fc_session_stats departed; /* the sum over the viewers that have left */
	_Atomic int served; /* viewers past their HELLO (their sessions keep the count) */
	unsigned ndeparted; /* viewers that have left */
	unsigned nothers;   /* connections closed without becoming viewers; under lock */
};

/* A connection that closed without becoming a viewer. */
static void count_other(struct fc_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->nothers++;
	pthread_mutex_unlock(&srv->lock);
}

/* Frees the sessions that have ended. Their threads are finished, so this never waits. */
static void reap(struct fc_server *srv)
{
	struct fc_session *gone[MAX_SESSIONS];
	int ngone = 0;

	pthread_mutex_lock(&srv->lock);
	for (int i = 0; i < srv->nsessions;) {
		if (fc_session_done(srv->sessions[i])) {
			gone[ngone++] = srv->sessions[i];
			srv->sessions[i] = srv->sessions[--srv->nsessions];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	for (int i = 0; i < ngone; i++) {
		struct fc_session_stats st;

		if (!fc_session_viewer(gone[i])) {
			count_other(srv);
			fc_session_free(gone[i]);
			continue;
		}
		/* Keep what a viewer got after it left, for the summary. */
		fc_session_stats(gone[i], &st);
		pthread_mutex_lock(&srv->lock);
		srv->departed.sent += st.sent;
		srv->departed.bytes += st.bytes;
		srv->departed.accepted += st.accepted;
		srv->departed.late += st.late;
		srv->departed.too_old += st.too_old;
		srv->ndeparted++;
		pthread_mutex_unlock(&srv->lock);
		fc_session_free(gone[i]);
	}
}

/* Sessions in the list: viewers, and connections still in their HELLO. */
static int live_sessions(struct fc_server *srv)
{
	int n;

	pthread_mutex_lock(&srv->lock);
	n = srv->nsessions;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

/* Whether a session in the list is still running. The dial loop asks this, not the session
 * itself: once finished, a session may be reaped and freed by another thread at any moment (the
 * summary's fc_server_departed). */
static bool serving(struct fc_server *srv)
{
	bool any = false;

	pthread_mutex_lock(&srv->lock);
	for (int i = 0; i < srv->nsessions && !any; i++)
		any = !fc_session_done(srv->sessions[i]);
	pthread_mutex_unlock(&srv->lock);
	return any;
}

/* proven: the peer already proved the passphrase another way (a page, to HTTP's guard), and fd
 * is a socketpair inside this process: its session asks for no proof. */
static struct fc_session *add_session(struct fc_server *srv, int fd, const char *peer, bool proven)
{
	struct fc_session_cfg cfg = srv->cfg.session;
	struct fc_conn *conn;
	struct fc_session *s;
	bool added = false;
	char err[256];

	if (live_sessions(srv) >= MAX_SESSIONS) {
		close(fd);
		fc_error("viewer %s: %d sessions already; closing", peer, MAX_SESSIONS);
		return NULL;
	}
	conn = fc_conn_new(fd, peer, VIEWER_MAX_MESSAGE, STALL_MS);
	if (!conn) {
		fc_error("viewer %s: cannot set up its connection: %s", peer, strerror(errno));
		return NULL;
	}
	if (proven) {
		cfg.psk = NULL;
		cfg.throttle = NULL;
	}
	s = fc_session_start(&cfg, conn, atomic_fetch_add(&srv->next_id, 1) + 1, err, sizeof(err));
	if (!s) {
		fc_error("viewer %s: %s", peer, err);
		return NULL;
	}
	pthread_mutex_lock(&srv->lock);
	/* Checked again here: fc_server_adopt's thread may have filled the list meanwhile. */
	if (srv->nsessions < MAX_SESSIONS) {
		srv->sessions[srv->nsessions++] = s;
		added = true;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!added) {
		fc_error("viewer %s: %d sessions already; closing", peer, MAX_SESSIONS);
		fc_session_stop(s);
		fc_session_free(s);
		return NULL;
	}
	return s;
}

static void refuse(int fd, const char *peer, int max)
{
	struct fc_conn *conn = fc_conn_new(fd, peer, 4096, 1000);
	char text[96];

	if (!conn)
		return;
	snprintf(text, sizeof(text), "this sender serves at most %d viewer%s (--max-viewers)", max,
		 max == 1 ? "" : "s");
	fc_warn("viewer %s refused: already serving %d viewers (--max-viewers)", peer, max);
	fc_conn_refuse(conn, FC_BYE_FULL, text);
	fc_conn_free(conn);
}

static void *accept_main(void *arg)
{
	struct fc_server *srv = arg;
	char peer[64];
	char err[256];

	pthread_setname_np(pthread_self(), "fc-accept");
	while (!atomic_load(&srv->stop)) {
		int fd = fc_net_accept(srv->lfd, 200, peer, sizeof(peer), err, sizeof(err));

		reap(srv);
		if (fd < 0) {
			if (errno != ETIMEDOUT && errno != EINTR) {
				fc_warn("%s", err);
				/* Out of descriptors, say: do not spin on it. */
				fc_clock_sleep_until(fc_clock_now_ns() + 100 * FC_NS_PER_MS);
			}
			continue;
		}
		/* Only viewers that have said HELLO count toward --max-viewers: a few silent
		 * connections (a port scan) must not lock real viewers out. They are bounded by
		 * MAX_SESSIONS, and each by the HELLO timeout. */
		if (atomic_load(&srv->served) >= srv->cfg.max_viewers) {
			refuse(fd, peer, srv->cfg.max_viewers);
			count_other(srv);
		} else if (!add_session(srv, fd, peer, false)) {
			count_other(srv);
		}
	}
	return NULL;
}

/* Sleeps up to ms, waking early when the server stops. */
static void nap(struct fc_server *srv, int ms)
{
	uint64_t end = fc_clock_now_ns() + (uint64_t)ms * FC_NS_PER_MS;

	while (!atomic_load(&srv->stop) && fc_clock_now_ns() < end)
		fc_clock_sleep_until(fc_clock_now_ns() + 50 * FC_NS_PER_MS);
}

static void *dial_main(void *arg)
{
	struct fc_server *srv = arg;
	char where[FC_NET_HOST_MAX + 16];
	char err[256];
	struct fc_backoff backoff;
	uint64_t wait;

	pthread_setname_np(pthread_self(), "fc-dial");
	fc_net_addr_str(&srv->cfg.addr, where, sizeof(where));
	fc_backoff_init(&backoff, DIAL_BACKOFF_FIRST_NS, DIAL_BACKOFF_MAX_NS,
			DIAL_BACKOFF_STEADY_NS);
	while (!atomic_load(&srv->stop)) {
		int fd = fc_net_connect(&srv->cfg.addr, DIAL_TIMEOUT_MS, err, sizeof(err));
		struct fc_session *s;

		if (fd < 0) {
			wait = fc_backoff_failed(&backoff);
			fc_warn("%s (is freshcam-view --listen running there?); retrying in %d s",
				err, (int)(wait / FC_NS_PER_S));
			nap(srv, (int)(wait / FC_NS_PER_MS));
			continue;
		}
		fc_info("connected to viewer at %s", where);
		fc_backoff_up(&backoff, fc_clock_now_ns());
		s = add_session(srv, fd, where, false);
		while (s && !atomic_load(&srv->stop) && serving(srv))
			nap(srv, 100);
		reap(srv);
		wait = fc_backoff_down(&backoff, fc_clock_now_ns());
		if (!atomic_load(&srv->stop)) {
			fc_info("dialling %s again in %d s", where, (int)(wait / FC_NS_PER_S));
			nap(srv, (int)(wait / FC_NS_PER_MS));
		}
	}
	return NULL;
}

struct fc_server *fc_server_start(const struct fc_server_cfg *cfg, char *err, size_t errlen)
{
	struct fc_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	srv->cfg.session.served = &srv->served;
	srv->cfg.session.max_served = cfg->max_viewers;
	srv->cfg.session.dialled = cfg->dial;
	srv->lfd = -1;
	/* Listening with a passphrase: failed proofs slow down their address (throttle.h). */
	if (cfg->session.psk && !cfg->dial) {
		srv->cfg.session.throttle = fc_throttle_new();
		if (!srv->cfg.session.throttle) {
			snprintf(err, errlen, "out of memory");
			free(srv);
			return NULL;
		}
	}
	pthread_mutex_init(&srv->lock, NULL);
	if (!cfg->dial) {
		srv->lfd = fc_net_listen(&cfg->addr, err, errlen);
		if (srv->lfd < 0)
			goto fail;
		srv->port = fc_net_local_port(srv->lfd);
	}
	rc = pthread_create(&srv->thread, NULL, cfg->dial ? dial_main : accept_main, srv);
	if (rc) {
		snprintf(err, errlen, "cannot start the server thread: %s", strerror(rc));
		goto fail;
	}
	return srv;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	pthread_mutex_destroy(&srv->lock);
	fc_throttle_free(srv->cfg.session.throttle);
	free(srv);
	return NULL;
}

unsigned fc_server_port(const struct fc_server *srv)
{
	return srv->port;
}

int fc_server_adopt(struct fc_server *srv, int fd, const char *peer, char *err, size_t errlen)
{
	/* No early refusal as in the accept loop (its linger would block the caller's thread): the
	 * session's own HELLO exchange holds --max-viewers exactly and says BYE "sender full". */
	/* Adopted connections are the HTTP bridge's, whose guard let only the proven through
	 * (http_guard.h): the passphrase was checked there. */
	if (!add_session(srv, fd, peer, true)) {
		count_other(srv);
		snprintf(err, errlen, "viewer %s: no session could be started (see the log)", peer);
		return -1;
	}
	return 0;
}

void fc_server_stop(struct fc_server *srv)
{
	if (!srv)
		return;
	atomic_store(&srv->stop, true);
	pthread_join(srv->thread, NULL);
	/* Ask every session to end first, then wait for each: their BYEs go out in parallel. */
	for (int i = 0; i < srv->nsessions; i++)
		fc_session_stop(srv->sessions[i]);
	for (int i = 0; i < srv->nsessions; i++)
		fc_session_free(srv->sessions[i]);
	if (srv->lfd >= 0)
		close(srv->lfd);
	pthread_mutex_destroy(&srv->lock);
	fc_throttle_free(srv->cfg.session.throttle);
	free(srv);
}

unsigned fc_server_departed(struct fc_server *srv, struct fc_session_stats *out, unsigned *others)
{
	unsigned n;

	/* A viewer that has just left is finished but may not be reaped yet (the accept loop does
	 * that between connections): take it in now, or a summary right after would miss it. */
	reap(srv);
	pthread_mutex_lock(&srv->lock);
	*out = srv->departed;
	n = srv->ndeparted;
	if (others)
		*others = srv->nothers;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

int fc_server_stats(struct fc_server *srv, struct fc_viewer_stats *out, int max)
{
	int n = 0;

	pthread_mutex_lock(&srv->lock);
	for (int i = 0; i < srv->nsessions && n < max; i++) {
		struct fc_session *s = srv->sessions[i];

		if (fc_session_done(s) || !fc_session_viewer(s))
			continue;
		out[n].id = fc_session_id(s);
		snprintf(out[n].peer, sizeof(out[n].peer), "%s", fc_session_peer(s));
		fc_session_stats(s, &out[n].s);
		n++;
	}
	pthread_mutex_unlock(&srv->lock);
	return n;
}
