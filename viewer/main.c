/*
 * freshcam-view: runs the timestamp-echo handshake with one or several freshcam-send, rejects
 * every frame whose age bound exceeds the budget, shows the accepted ones (SDL2 window, a tile
 * per sender, or headless), and says each second how fresh and how fast each stream is.
 *
 * This file only wires the parts together: the command line (options.c), the passphrase, the
 * window, --stats-json, and the streams (stream.c, one per sender: the ones on the command line,
 * or each that dials in to --listen, told apart by its name), driven by one display loop.
 *
 * Threads: main (the display loop: each stream's decode, check, show, report and reconnection;
 * with --listen, taking the senders that dial in), fc-dial (dial.c: connecting and the HELLO,
 * one attempt at a time per stream, and one for the listening socket), fc-net (client.c: one per
 * stream) and, with --record, fc-rec (record.c, one per stream). SIGINT/SIGTERM are blocked in
 * the others and caught on the main thread, whose handler only sets a flag.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "dial.h"
#include "display.h"
#include "hello.h"
#include "keys.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "remote.h"
#include "secure.h"
#include "station.h"
#include "stream.h"
#include "throttle.h"
#include "udprecv.h"

#define HELLO_TIMEOUT_MS 5000
/* A sender that leaves a message half-sent for this long is cut off. */
#define STALL_MS 5000
/* While a connection is being made, the loop looks at it this often (a stream that is up wakes
 * it at once, through the eventfd its slot writes). */
#define DIAL_LOOK_MS 20

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct viewer {
	struct fc_view_options o;
	struct fc_hello mine;
	struct fc_stream_env env;
	struct fc_stream *streams[FC_VIEW_MAX_SENDERS];
	int nstreams;
	uint64_t end_ns; /* --seconds as a deadline, 0 for none (yet) */
	/* --listen: the attempt that takes the next sender to dial in, and its HELLO. */
	struct fc_dial *accept;
	struct fc_hello accepted;
	struct fc_udprecv *accepted_udp; /* and its UDP receiver (--transport udp), or NULL */
	/* Private streams: the passphrase key (NULL: none), and with --listen the table that slows
	 * down guessing from one address. Both live as long as the process (an abandoned attempt
	 * may still use them). */
	struct fc_secure_psk *psk;
	struct fc_throttle *throttle;
	bool help; /* the camera keys' help is shown (h) */
};

/* Whether another stream than self is called name. */
static bool name_taken(const struct viewer *v, const struct fc_stream *self, const char *name)
{
	for (int i = 0; i < v->nstreams; i++)
		if (v->streams[i] != self && strcmp(fc_stream_name(v->streams[i]), name) == 0)
			return true;
	return false;
}

/* Two senders of the same name (two robots left with one host name): the second is "NAME-2". */
static void unique_name(void *arg, const struct fc_stream *self, const char *station, char *out,
			size_t outlen)
{
	const struct viewer *v = arg;

	snprintf(out, outlen, "%s", station);
	for (int n = 2; name_taken(v, self, out) && n <= FC_VIEW_MAX_SENDERS + 1; n++)
		snprintf(out, outlen, "%s-%d", station, n);
}

/* The listening side's opening exchange, on the dial thread: the throttle of failed proofs
 * first (hello.h). v->accepted is the attempt's only. */
static int greet_listened(struct fc_conn *conn, void *arg, char *err, size_t errlen)
{
	struct viewer *v = arg;
	struct fc_hello_auth auth = { .psk = v->psk, .dialled = false, .throttle = v->throttle };

	if (v->o.udp)
		return fc_udprecv_greet(conn, &v->mine, &auth, v->o.udp_port, &v->accepted,
					&v->accepted_udp, HELLO_TIMEOUT_MS, err, errlen) < 0
			   ? -1
			   : 0;
	return fc_hello_exchange_auth(conn, &v->mine, &auth, &v->accepted, HELLO_TIMEOUT_MS, err,
				      errlen) < 0
		   ? -1
		   : 0;
}

/* A stream for a new sender, with its tile; NULL when there is no room or memory. */
static struct fc_stream *add_stream(struct viewer *v, const struct fc_addr *addr)
{
	struct fc_stream *s;

	if (v->nstreams >= FC_VIEW_MAX_SENDERS)
		return NULL;
	s = fc_stream_new(&v->env, addr, v->nstreams);
	if (!s)
		return NULL;
	v->streams[v->nstreams++] = s;
	if (v->env.display)
		fc_display_tiles(v->env.display, v->nstreams, v->env.several);
	/* --seconds counts from the first stream: a listening viewer may wait long for it. */
	if (!v->end_ns && v->o.seconds > 0)
		v->end_ns = fc_clock_now_ns() + (uint64_t)(v->o.seconds * 1e9);
	return s;
}

/* A sender dialled in: back to its own stream if it had one (by name), else a new one. */
static void take_sender(struct viewer *v, struct fc_conn *conn)
{
	const char *name = v->accepted.station;
	struct fc_stream *s = NULL;

	for (int i = 0; i < v->nstreams && name[0]; i++)
		if (!fc_stream_connected(v->streams[i]) &&
		    strcmp(fc_stream_name(v->streams[i]), name) == 0)
			s = v->streams[i];
	if (!s)
		s = add_stream(v, NULL);
	if (!s) {
		fc_warn("%s (%s) refused: this viewer shows %d senders already", fc_conn_peer(conn),
			name, FC_VIEW_MAX_SENDERS);
		fc_conn_bye(conn, FC_BYE_FULL, "this viewer shows as many senders as it can");
		fc_conn_free(conn);
		fc_udprecv_free(v->accepted_udp);
		v->accepted_udp = NULL;
		return;
	}
	fc_stream_adopt(s, conn, &v->accepted, v->accepted_udp);
	v->accepted_udp = NULL;
}

/* --listen: keeps one attempt waiting for the next sender to dial in, and hands each sender
 * that did to its stream; never waits. */
static void listen_step(struct viewer *v)
{
	struct fc_dial_cfg cfg = {
		.lfd = v->env.lfd,
		.accept_timeout_ms = 1000,
		.max_message = FC_PROTO_MAX_MESSAGE,
		.stall_ms = STALL_MS,
		.greet = greet_listened,
		.greet_arg = v,
	};
	struct fc_conn *conn;
	char err[256];

	if (!v->accept) {
		v->accept = fc_stream_dial_start(&cfg, err, sizeof(err));
		if (!v->accept)
			fc_error("%s", err);
		return;
	}
	if (!fc_dial_wait(v->accept, 0))
		return;
	conn = fc_dial_finish(v->accept, err, sizeof(err));
	v->accept = NULL;
	if (!conn) {
		fc_udprecv_free(v->accepted_udp);
		v->accepted_udp = NULL;
	}
	if (conn)
		take_sender(v, conn);
	else if (err[0])
		fc_warn("%s; still waiting for a sender", err);
}

/* --forget: a sender that dialled in and has been gone that long is closed (its summary said,
 * its recording finished) and loses its tile; the grid reflows. */
static void forget_gone(struct viewer *v, uint64_t now)
{
	uint64_t after = (uint64_t)(v->o.forget_s * 1e9);

	for (int i = 0; after && i < v->nstreams; i++) {
		if (fc_stream_gone_ns(v->streams[i], now) < after)
			continue;
		fc_info("%s: gone for %.0f s; its tile is closed (it gets one again when it dials "
			"in)",
			fc_stream_name(v->streams[i]), v->o.forget_s);
		fc_stream_free(v->streams[i]);
		memmove(&v->streams[i], &v->streams[i + 1],
			(size_t)(v->nstreams - i - 1) * sizeof(v->streams[0]));
		v->nstreams--;
		for (int j = i; j < v->nstreams; j++)
			fc_stream_set_tile(v->streams[j], j);
		if (v->env.display)
			fc_display_tile_remove(v->env.display, i);
		i--;
	}
}

/* Whether the display loop ends now: a signal, --seconds, or the window closed. */
/* A camera key (keys.h) acts on the sender shown full size, or the only one; in a grid of
 * several it acts on none and says to pick one first (a brightness for the whole fleet at once
 * would rarely be meant). */
static void camera_key(struct viewer *v, int k)
{
	int zoomed = fc_display_zoomed(v->env.display);
	struct fc_stream *s = v->nstreams == 1			    ? v->streams[0]
			      : zoomed >= 0 && zoomed < v->nstreams ? v->streams[zoomed]
								    : NULL;

	fc_keys_press(s ? fc_stream_remote(s) : NULL, v->env.display, k, &v->help);
}

static bool stop_now(struct viewer *v, uint64_t now)
{
	if (got_signal) {
		fc_info("%s: stopping", got_signal == SIGINT ? "interrupted" : "terminated");
		return true;
	}
	if (v->end_ns && now >= v->end_ns)
		return true;
	if (v->env.display && !fc_display_poll(v->env.display)) {
		fc_info("window closed: stopping");
		return true;
	}
	if (v->o.remote.list && v->nstreams > 0 && !v->o.listen) {
		bool answered =
		    true; /* --list-controls: a query, stopped once every sender answered */

		for (int i = 0; i < v->nstreams; i++) {
			struct fc_remote *r = fc_stream_remote(v->streams[i]);

			answered = answered && r && fc_remote_done(r);
		}
		if (answered)
			return true;
	}
	for (int k; v->env.display && (k = fc_display_key(v->env.display));)
		camera_key(v, k);
	return false;
}

/* Waits until wake for a frame of any stream (the eventfd its slot writes) or, while a
 * connection is being made, a little while; with one stream that is reconnecting, for its
 * attempt itself. */
static void wait_some(struct viewer *v, uint64_t now, uint64_t wake)
{
	struct pollfd p = { .fd = v->env.wake_fd, .events = POLLIN };
	bool dialling = v->accept != NULL;
	int ms = (int)((wake - now) / FC_NS_PER_MS);
	uint64_t count;

	for (int i = 0; i < v->nstreams; i++)
		dialling = dialling || fc_stream_dialling(v->streams[i]) ||
			   (!fc_stream_connected(v->streams[i]) && v->env.lfd < 0);
	if (v->nstreams == 1 && v->env.lfd < 0 && !fc_stream_connected(v->streams[0]) &&
	    fc_stream_dialling(v->streams[0])) {
		fc_stream_wait_dial(v->streams[0], ms);
		return;
	}
	if (dialling && ms > DIAL_LOOK_MS)
		ms = DIAL_LOOK_MS;
	if (poll(&p, 1, ms) > 0 && read(v->env.wake_fd, &count, sizeof(count)) < 0)
		count = 0; /* EAGAIN: another wake took it */
}

/* The display loop, until --seconds, a signal or the window closes; each stream reconnects
 * whenever it is lost, and with --listen new senders are taken as they dial in. */
static void run(struct viewer *v)
{
	uint64_t next_tick = fc_clock_now_ns() + FC_NS_PER_S;
	/* With a window, wake often enough to keep it responsive. */
	uint64_t step = v->env.display ? 15 * FC_NS_PER_MS : 200 * FC_NS_PER_MS;

	for (;;) {
		uint64_t now = fc_clock_now_ns();
		uint64_t wake = now + step;

		if (stop_now(v, now))
			break;
		if (now >= next_tick) {
			for (int i = 0; i < v->nstreams; i++)
				fc_stream_tick(v->streams[i], false);
			next_tick += FC_NS_PER_S;
			if (next_tick < now)
				next_tick = now + FC_NS_PER_S;
		}
		/* The streams first: a sender that dials in again finds its stream lost, not
		 * still running on a connection that has just ended. */
		for (int i = 0; i < v->nstreams; i++)
			fc_stream_step(v->streams[i], fc_clock_now_ns());
		if (v->env.lfd >= 0) {
			listen_step(v);
			forget_gone(v, now);
		}
		if (wake > next_tick)
			wake = next_tick;
		if (v->end_ns && wake > v->end_ns)
			wake = v->end_ns;
		now = fc_clock_now_ns();
		if (wake > now)
			wait_some(v, now, wake);
	}
}

/* The passphrase's key (made once, here: Argon2id, a fraction of a second), with --listen the
 * table that slows down guessing, and the warning for a listener anyone can reach without one. */
static int setup_security(struct viewer *v)
{
	char err[256];
	char warn[512];

	if (fc_secure_psk_load(v->o.passphrase_file, &v->psk, warn, sizeof(warn), err,
			       sizeof(err)) < 0) {
		fc_error("%s", err);
		return -1;
	}
	if (warn[0])
		fc_warn("%s", warn);
	if (v->o.listen && v->psk) {
		v->throttle = fc_throttle_new();
		if (!v->throttle) {
			fc_error("out of memory");
			return -1;
		}
	}
	if (v->o.listen && !v->psk && !v->o.insecure &&
	    fc_secure_exposed_warning(&v->o.addr,
				      "any sender that can reach this port can show you its stream",
				      warn, sizeof(warn)))
		fc_warn("%s", warn);
	return 0;
}

/* What this viewer says in its HELLO: its name, budget, window and picture floor. */
static void init_hello(struct viewer *v)
{
	v->mine = (struct fc_hello){ .role = FC_ROLE_VIEWER,
				     .window = (uint16_t)v->o.window,
				     .flags = (v->o.adapt ? 0 : FC_HELLO_FULL_ONLY) |
					      (v->o.parts ? FC_HELLO_PARTS : 0),
				     .min_width = (uint16_t)v->o.min_width,
				     .min_height = (uint16_t)v->o.min_height,
				     .min_quality = (uint8_t)v->o.min_quality };
	v->mine.budget_us = (uint32_t)(v->env.budget_ns / 1000 ? v->env.budget_ns / 1000 : 1);
	snprintf(v->mine.name, sizeof(v->mine.name), "freshcam-view %s", FC_VERSION);
	fc_station_default(v->mine.station, sizeof(v->mine.station));
}

/* What the streams share: --stats-json (opened before any connection, so that a path that
 * cannot be used is said at once), the eventfd their frames wake the loop with, and with
 * --listen the port. */
static int setup_env(struct viewer *v)
{
	struct fc_stream_env *e = &v->env;
	char err[256];

	*e = (struct fc_stream_env){ .o = &v->o,
				     .mine = &v->mine,
				     .budget_ns = (uint64_t)(v->o.max_age_ms * 1e6),
				     .lfd = -1,
				     .psk = v->psk,
				     .throttle = v->throttle,
				     .several = v->o.listen || v->o.nsenders > 1,
				     .unique_name = unique_name,
				     .unique_arg = v };
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		fc_error("eventfd: %s", strerror(errno));
		return -1;
	}
	if (v->o.stats_json) {
		e->json = strcmp(v->o.stats_json, "-") == 0 ? stdout : fopen(v->o.stats_json, "w");
		if (!e->json) {
			fc_error("cannot write --stats-json %s: %s", v->o.stats_json,
				 strerror(errno));
			return -1;
		}
	}
	if (!v->o.listen)
		return 0;
	e->lfd = fc_net_listen(&v->o.addr, err, sizeof(err));
	if (e->lfd < 0) {
		fc_error("%s%s", err,
			 strstr(err, "in use")
			     ? ": another program has that port; choose another with --listen PORT"
			     : "");
		return -1;
	}
	fc_info("waiting for senders to dial port %u", fc_net_local_port(e->lfd));
	return 0;
}

/* The window, unless --headless; with one sender, sized by its HELLO, not by the first frame: a
 * fresh viewer starts on a small rendition (docs/PROTOCOL.md). Without a display, headless. */
static void open_window(struct viewer *v, int width, int height)
{
	char err[256];

	if (v->o.headless || v->o.remote.list) /* --list-controls: a query, no window */
		return;
	v->env.display = fc_display_open("freshcam-view", width, height, err, sizeof(err));
	if (!v->env.display) {
		fc_info("%s; running headless (console only)", err);
		return;
	}
	fc_display_tiles(v->env.display, v->nstreams, v->env.several);
	fc_display_data_overlay(v->env.display, v->o.data_overlay);
	fc_info("window open (SDL renderer %s): f for fullscreen, q or Esc to quit%s",
		fc_display_renderer(v->env.display),
		v->env.several ? ", 1-9 or a click for one sender alone, 0 for all" : "");
}

/* The streams of the senders on the command line. One is dialled here first, its failure said
 * at once (a wrong host or port is a person's typo, not an outage); several are each dialled
 * and redialled by the loop. false when nothing can run. */
static bool start_dialling(struct viewer *v)
{
	struct fc_stream *s;

	for (int i = 0; i < v->o.nsenders; i++) {
		if (!add_stream(v, &v->o.senders[i])) {
			fc_error("out of memory");
			return false;
		}
	}
	if (v->env.several) {
		open_window(v, 0, 0);
		return true;
	}
	s = v->streams[0];
	if (!fc_stream_record(s) || !fc_stream_connect_first(s, &got_signal))
		return false;
	if (v->o.seconds > 0) /* from the stream's start, not from the connect */
		v->end_ns = fc_clock_now_ns() + (uint64_t)(v->o.seconds * 1e9);
	open_window(v, fc_stream_sender(s)->width, fc_stream_sender(s)->height);
	return true;
}

/* Closes what is still open (each stream says its summary); --stats-json's last lines are
 * flushed and checked. */
static void close_all(struct viewer *v)
{
	FILE *json = v->env.json;

	if (v->accept)
		fc_dial_abandon(v->accept);
	for (int i = 0; i < v->nstreams; i++)
		fc_stream_free(v->streams[i]);
	if (v->env.lfd >= 0)
		close(v->env.lfd);
	fc_display_close(v->env.display);
	if (v->env.wake_fd >= 0)
		close(v->env.wake_fd);
	if (json && ((json != stdout && fclose(json) != 0) || (json == stdout && fflush(json))))
		fc_warn("cannot write --stats-json %s: %s", v->o.stats_json, strerror(errno));
}

int main(int argc, char **argv)
{
	static struct viewer v;
	struct sigaction sa = { .sa_handler = on_signal };
	int status = 1;

	if (fc_view_options_parse(argc, argv, &v.o) < 0)
		return 2;
	fc_log_init("freshcam-view", FC_LOG_INFO);
	v.env.lfd = -1;
	v.env.wake_fd = -1;
	if (setup_security(&v) < 0)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (setup_env(&v) == 0) {
		init_hello(&v);
		if (v.o.listen) {
			open_window(&v, 0, 0);
			run(&v);
			status = 0;
		} else if (start_dialling(&v)) {
			run(&v);
			status = 0;
		} else if (got_signal) {
			fc_info("%s: stopping",
				got_signal == SIGINT ? "interrupted" : "terminated");
			status = 0; /* asked to stop before anything came: not a failure */
		}
	}
	close_all(&v);
	return status;
}
