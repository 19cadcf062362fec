/*
 * freshcam-view: runs the timestamp-echo handshake with a freshcam-send, rejects every frame whose
 * age bound exceeds the budget, shows the accepted ones (SDL2 window, or headless), and says each
 * second how fresh and how fast the stream is.
 *
 * Threads: main (options, connection set-up, then the display loop: decode, check, show, report)
 * and fc-net (client.c). SIGINT/SIGTERM are blocked in fc-net and caught on the main thread,
 * whose handler only sets an atomic flag.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "client.h"
#include "clock.h"
#include "conn.h"
#include "decoder.h"
#include "display.h"
#include "hello.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "opt.h"
#include "report.h"
#include "slot.h"
#include "stamp.h"

#define HELLO_TIMEOUT_MS   5000
#define CONNECT_TIMEOUT_MS 5000
/* A sender that leaves a message half-sent for this long is cut off. */
#define STALL_MS 5000

struct options {
	struct fc_addr addr;
	bool listen;
	double max_age_ms;
	unsigned window;
	bool headless;
	double seconds;
	const char *stats_json;
	bool check_stamps;
	bool quiet;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: freshcam-view [OPTIONS] [HOST[:PORT]]\n"
	    "Show a freshcam-send stream and never a stale frame: every frame whose age bound is\n"
	    "over the budget is rejected and counted.\n"
	    "\n"
	    "Where the sender is:\n"
	    "  -c, --connect HOST[:PORT]  dial the sender (default 127.0.0.1:%d)\n"
	    "  -l, --listen [ADDR:]PORT   wait for a sender started with --connect instead\n"
	    "Freshness:\n"
	    "  -a, --max-age MS           the age budget in milliseconds (default 80)\n"
	    "  -w, --window N             requests kept in flight, 1..%d (default 2; raise it on long\n"
	    "                             round trips so that they do not cap the frame rate)\n"
	    "Output:\n"
	    "      --headless             no window, only the console (automatic without a display)\n"
	    "  -t, --seconds N            stop after N seconds (default: until Ctrl-C or q)\n"
	    "      --stats-json FILE      also write the per-second figures as JSON lines (- = stdout)\n"
	    "      --check-stamps         read each shown frame's stamp and report its true age (only\n"
	    "                             meaningful with the sender on this host: same clock)\n"
	    "      --quiet                no per-second line (the summary still shows)\n"
	    "  -h, --help                 this text\n"
	    "  -V, --version              the version and the protocol it speaks\n"
	    "\n"
	    "Examples:\n"
	    "  freshcam-view                                  the sender on this host\n"
	    "  freshcam-view camera-pi.local --max-age 120    a sender elsewhere, a looser budget\n"
	    "  freshcam-view --listen %d --headless         let a sender behind NAT dial in\n"
	    "  freshcam-view --seconds 10 --stats-json -      ten seconds of figures for a script\n",
	    FC_NET_DEFAULT_PORT, FC_PROTO_MAX_WINDOW, FC_NET_DEFAULT_PORT);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_HEADLESS = 256, OPT_STATS_JSON, OPT_CHECK_STAMPS, OPT_QUIET };
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "window", required_argument, NULL, 'w' },
		{ "headless", no_argument, NULL, OPT_HEADLESS },
		{ "seconds", required_argument, NULL, 't' },
		{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
		{ "check-stamps", no_argument, NULL, OPT_CHECK_STAMPS },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *target = NULL;
	char err[256] = "";
	char withport[FC_NET_HOST_MAX + 16];
	long n;
	int c;

	*o = (struct options){ .max_age_ms = 80, .window = 2 };
	snprintf(o->addr.host, sizeof(o->addr.host), "127.0.0.1");
	o->addr.port = FC_NET_DEFAULT_PORT;
	while ((c = getopt_long(argc, argv, "c:l:a:w:t:hV", longopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'c':
			target = optarg;
			break;
		case 'l':
			rc = fc_net_parse_addr(optarg, 1, &o->addr, err, sizeof(err));
			o->listen = true;
			break;
		case 'a':
			rc = fc_opt_double("--max-age", optarg, 0.001, 60000, &o->max_age_ms, err,
					   sizeof(err));
			break;
		case 'w':
			rc = fc_opt_int("--window", optarg, 1, FC_PROTO_MAX_WINDOW, &n, err,
					sizeof(err));
			o->window = (unsigned)n;
			break;
		case OPT_HEADLESS:
			o->headless = true;
			break;
		case 't':
			rc = fc_opt_double("--seconds", optarg, 0, 1e9, &o->seconds, err,
					   sizeof(err));
			break;
		case OPT_STATS_JSON:
			o->stats_json = optarg;
			break;
		case OPT_CHECK_STAMPS:
			o->check_stamps = true;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("freshcam-view %s (freshcam protocol %d)\n", FC_VERSION,
			       FC_PROTO_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'freshcam-view --help'.\n");
			return -1;
		}
		if (rc < 0) {
			fprintf(stderr, "freshcam-view: %s\n", err);
			return -1;
		}
	}
	if (optind < argc) {
		if (target || optind + 1 < argc) {
			fprintf(stderr,
				"freshcam-view: one sender at a time ('%s' is one too many). "
				"Try 'freshcam-view --help'.\n",
				argv[argc - 1]);
			return -1;
		}
		target = argv[optind];
	}
	if (target && o->listen) {
		fprintf(stderr, "freshcam-view: --listen and a sender to connect to exclude each "
				"other: either this viewer dials, or it is dialled\n");
		return -1;
	}
	if (target) {
		/* A bare host means the default port. */
		if (!strchr(target, ':') || (target[0] == '[' && !strstr(target, "]:")))
			snprintf(withport, sizeof(withport), "%s:%d", target, FC_NET_DEFAULT_PORT);
		else
			snprintf(withport, sizeof(withport), "%s", target);
		if (fc_net_parse_addr(withport, 0, &o->addr, err, sizeof(err)) < 0) {
			fprintf(stderr, "freshcam-view: %s\n", err);
			return -1;
		}
	}
	return 0;
}

struct viewer {
	struct options o;
	struct fc_hello mine;
	struct fc_report report;
	struct fc_decoder *decoder;
	struct fc_display *display;
	FILE *json;
	uint64_t budget_ns;
	uint64_t end_ns; /* --seconds as a deadline, 0 for none */
	int lfd;	 /* --listen: the listening socket, kept for every reconnection */
	/* The stream of the current connection; both NULL while reconnecting. */
	struct fc_slot *slot;
	struct fc_client *client;
	uint64_t last_seq;
	/* Reconnecting: when to try next, and how long to wait after that. */
	uint64_t next_try_ns;
	int backoff_ms;
	bool corrupt_said;
};

/* A restarted sender is usually back within a second: retry soon, and never wait long. */
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS	 2000

/*
 * One attempt at a connection and its HELLO exchange. Dialling, it waits up to timeout_ms to
 * connect; listening, up to 200 ms for a sender to dial in (a stray connection, a port probe or a
 * peer of another version, is logged and refused: the wait goes on). Returns the connection, or
 * NULL with the reason in err (empty when there was simply nobody yet).
 */
static struct fc_conn *connect_once(struct viewer *v, int timeout_ms, struct fc_hello *sender,
				    char *err, size_t errlen)
{
	char where[FC_NET_HOST_MAX + 16];
	char peer[64];
	struct fc_conn *conn;
	int fd;

	err[0] = '\0';
	if (v->lfd >= 0) {
		fd = fc_net_accept(v->lfd, 200, peer, sizeof(peer), err, errlen);
		if (fd < 0) {
			if (errno == ETIMEDOUT || errno == EINTR)
				err[0] = '\0';
			return NULL;
		}
	} else {
		fd = fc_net_connect(&v->o.addr, timeout_ms, err, errlen);
		if (fd < 0)
			return NULL;
		snprintf(peer, sizeof(peer), "%.63s",
			 fc_net_addr_str(&v->o.addr, where, sizeof(where)));
	}
	conn = fc_conn_new(fd, peer, FC_PROTO_MAX_MESSAGE, STALL_MS);
	if (!conn) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fc_hello_exchange(conn, &v->mine, sender, HELLO_TIMEOUT_MS, err, errlen) < 0) {
		fc_conn_free(conn);
		return NULL;
	}
	return conn;
}

/* Starts the network thread on a fresh connection. false (and conn freed) on failure. */
static bool start_stream(struct viewer *v, struct fc_conn *conn, const struct fc_hello *sender)
{
	struct fc_client_cfg ccfg = {
		.budget_ns = v->budget_ns,
		.window = v->o.window,
		.io_timeout_ms = 2000,
		.dead_after_ms = 5000,
	};
	sigset_t sigs;
	char err[256];

	fc_info("connected to %s (%s): %ux%u at %.3g fps; budget %.1f ms, window %u",
		fc_conn_peer(conn), sender->name, sender->width, sender->height,
		sender->fps_milli / 1000.0, v->o.max_age_ms, v->o.window);
	v->slot = fc_slot_new();
	if (!v->slot) {
		fc_error("out of memory");
		fc_conn_free(conn);
		return false;
	}
	v->last_seq = 0;
	/* The network thread must not take the signals: only the main thread's handler runs. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	v->client = fc_client_start(&ccfg, conn, v->slot, &v->report, err, sizeof(err));
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	if (!v->client) {
		fc_error("%s", err);
		fc_slot_free(v->slot);
		v->slot = NULL;
		return false;
	}
	v->backoff_ms = BACKOFF_FIRST_MS;
	return true;
}

static void end_stream(struct viewer *v)
{
	fc_client_stop(v->client);
	fc_slot_free(v->slot);
	v->client = NULL;
	v->slot = NULL;
}

/* Decodes and shows one accepted frame if it is still within the budget when it would reach the
 * screen: checked before decoding (no work for a frame already too old) and again after the
 * upload, just before it is presented (decoding and uploading age it too). */
static void show(struct viewer *v, struct fc_frame *f)
{
	struct fc_picture pic;
	struct fc_stamp st;
	int64_t stamp_age = -1;
	uint64_t t0 = fc_clock_now_ns();
	uint64_t decoded;
	uint64_t now;
	char err[256];

	if (!fc_age_within(f->bound_ns, f->recv_ns, t0, v->budget_ns)) {
		fc_report_dropped(&v->report, FC_DROP_LATE_AT_DISPLAY);
		return;
	}
	if (fc_decoder_decode(v->decoder, f->data, f->size, f->width, f->height, &pic) < 0) {
		if (!v->corrupt_said)
			fc_warn("frame %llu: %s; dropping such frames (counted as corrupt)",
				(unsigned long long)f->seq, fc_decoder_error(v->decoder));
		v->corrupt_said = true;
		fc_report_dropped(&v->report, FC_DROP_CORRUPT);
		return;
	}
	decoded = fc_clock_now_ns();
	if (v->display && fc_display_upload(v->display, &pic, err, sizeof(err)) < 0) {
		fc_warn("%s; continuing without a window", err);
		fc_display_close(v->display);
		v->display = NULL;
	}
	now = fc_clock_now_ns();
	if (!fc_age_within(f->bound_ns, f->recv_ns, now, v->budget_ns)) {
		fc_report_dropped(&v->report, FC_DROP_LATE_AT_DISPLAY);
		return;
	}
	if (v->display)
		fc_display_present(v->display);
	if (v->o.check_stamps) {
		/* Headless, the frame is "shown" at the check above; with a window, once presented. */
		if (v->display)
			now = fc_clock_now_ns();
		if (fc_stamp_read(pic.plane[0], 1, (size_t)pic.stride[0], pic.width, pic.height,
				  &st) == 0)
			stamp_age = now >= st.capture_ns ? (int64_t)(now - st.capture_ns) : 0;
		else
			stamp_age = -2;
	}
	fc_report_shown(&v->report, decoded - t0, stamp_age);
}

static void tick(struct viewer *v, bool summary)
{
	struct fc_json j;
	char line[768];
	const char *s;
	const char *advice = fc_report_tick(&v->report, fc_clock_now_ns(), summary,
					    v->o.check_stamps, line, sizeof(line), &j);

	if (!summary && !v->client)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " | reconnecting");
	if (!v->o.quiet || summary)
		fc_info("%s", line);
	if (advice)
		fc_warn("%s", advice);
	if (v->display && !summary) {
		char title[128];

		/* The line's head is the live part: shown fps, rejects and the age bound. */
		snprintf(title, sizeof(title), "freshcam-view — %.100s", line);
		fc_display_title(v->display, title);
	}
	if (v->json && (s = fc_json_finish(&j))) {
		fputs(s, v->json);
		fflush(v->json);
	}
}

/* While disconnected: one attempt to get the stream back, and the wait before the next. */
static void reconnect(struct viewer *v, uint64_t now)
{
	struct fc_hello sender;
	struct fc_conn *conn;
	char err[256];

	if (now < v->next_try_ns)
		return;
	conn = connect_once(v, 2000, &sender, err, sizeof(err));
	if (conn) {
		start_stream(v, conn, &sender);
		return;
	}
	if (v->lfd >= 0) {
		if (err[0])
			fc_warn("%s; still waiting for a sender", err);
		return;
	}
	fc_warn("%s; retrying in %.1f s", err, v->backoff_ms / 1000.0);
	v->next_try_ns = fc_clock_now_ns() + (uint64_t)v->backoff_ms * FC_NS_PER_MS;
	v->backoff_ms = v->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : v->backoff_ms * 2;
}

/* The display loop, until --seconds, a signal or the window closes; the stream is reconnected
 * whenever it is lost (capped exponential backoff when dialling). */
static void run(struct viewer *v)
{
	uint64_t next_tick = fc_clock_now_ns() + FC_NS_PER_S;
	/* With a window, wake often enough to keep it responsive. */
	uint64_t step = v->display ? 15 * FC_NS_PER_MS : 200 * FC_NS_PER_MS;
	bool clean = true;

	for (;;) {
		uint64_t now = fc_clock_now_ns();
		uint64_t wake = now + step;
		struct fc_frame *f;

		if (got_signal) {
			fc_info("%s: stopping",
				got_signal == SIGINT ? "interrupted" : "terminated");
			break;
		}
		if (v->end_ns && now >= v->end_ns)
			break;
		if (v->display && !fc_display_poll(v->display)) {
			fc_info("window closed: stopping");
			break;
		}
		if (now >= next_tick) {
			tick(v, false);
			next_tick += FC_NS_PER_S;
			if (next_tick < now)
				next_tick = now + FC_NS_PER_S;
		}
		if (v->client && !fc_client_running(v->client, &clean)) {
			fc_log(clean ? FC_LOG_INFO : FC_LOG_WARN, "%s; reconnecting",
			       fc_client_reason(v->client));
			end_stream(v);
			v->next_try_ns = now + BACKOFF_FIRST_MS * FC_NS_PER_MS;
			v->backoff_ms = BACKOFF_FIRST_MS * 2;
		}
		if (!v->client) {
			reconnect(v, now);
			if (!v->client && v->lfd < 0) {
				uint64_t until =
				    v->next_try_ns < next_tick ? v->next_try_ns : next_tick;

				if (until > now + step)
					until = now + step;
				fc_clock_sleep_until(until);
			}
			continue;
		}
		if (wake > next_tick)
			wake = next_tick;
		if (v->end_ns && wake > v->end_ns)
			wake = v->end_ns;
		f = fc_slot_wait_newer(v->slot, v->last_seq, wake);
		if (!f)
			continue;
		v->last_seq = f->seq;
		show(v, f);
		fc_frame_unref(f);
	}
}

int main(int argc, char **argv)
{
	static struct viewer v; /* large (histograms): static, not on the stack */
	struct fc_hello sender;
	struct fc_conn *conn = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256];
	int status = 1;

	if (parse_options(argc, argv, &v.o) < 0)
		return 2;
	fc_log_init("freshcam-view", FC_LOG_INFO);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	v.budget_ns = (uint64_t)(v.o.max_age_ms * 1e6);
	v.lfd = -1;

	if (v.o.stats_json) {
		v.json = strcmp(v.o.stats_json, "-") == 0 ? stdout : fopen(v.o.stats_json, "w");
		if (!v.json) {
			fc_error("cannot write --stats-json %s: %s", v.o.stats_json,
				 strerror(errno));
			return 1;
		}
	}
	v.mine = (struct fc_hello){ .role = FC_ROLE_VIEWER, .window = (uint16_t)v.o.window };
	v.mine.budget_us = (uint32_t)(v.budget_ns / 1000 ? v.budget_ns / 1000 : 1);
	snprintf(v.mine.name, sizeof(v.mine.name), "freshcam-view %s", FC_VERSION);
	v.decoder = fc_decoder_new(err, sizeof(err));
	if (!v.decoder) {
		fc_error("%s", err);
		goto out;
	}

	/* The first connection: dialling, a failure is reported at once (a wrong host or port is
	 * a person's typo, not an outage); listening, the wait is for as long as it takes. Once the
	 * stream has run, losing it means reconnecting, not exiting. */
	if (v.o.listen) {
		v.lfd = fc_net_listen(&v.o.addr, err, sizeof(err));
		if (v.lfd < 0) {
			fc_error("%s%s", err,
				 strstr(err, "in use") ? ": another program has that port; choose "
							 "another with --listen PORT"
						       : "");
			goto out;
		}
		fc_info("waiting for a sender to dial port %u", fc_net_local_port(v.lfd));
		while (!conn && !got_signal) {
			conn = connect_once(&v, 0, &sender, err, sizeof(err));
			if (!conn && err[0])
				fc_warn("%s; still waiting for a sender", err);
		}
	} else {
		conn = connect_once(&v, CONNECT_TIMEOUT_MS, &sender, err, sizeof(err));
		if (!conn)
			fc_error("%s%s", err,
				 strstr(err, "cannot connect")
				     ? ": is freshcam-send running there, and is the port right?"
				     : "");
	}
	if (!conn)
		goto out;
	if (!v.o.headless) {
		v.display = fc_display_open("freshcam-view", err, sizeof(err));
		if (!v.display)
			fc_info("%s; running headless (console only)", err);
	}
	fc_report_init(&v.report, v.budget_ns, fc_clock_now_ns());
	if (v.o.seconds > 0)
		v.end_ns = fc_clock_now_ns() + (uint64_t)(v.o.seconds * 1e9);
	if (start_stream(&v, conn, &sender)) {
		run(&v);
		status = 0;
	}
	if (v.client)
		end_stream(&v);
	tick(&v, true);
	fc_report_destroy(&v.report);
out:
	if (v.lfd >= 0)
		close(v.lfd);
	fc_display_close(v.display);
	fc_decoder_free(v.decoder);
	if (v.json && v.json != stdout)
		fclose(v.json);
	return status;
}
