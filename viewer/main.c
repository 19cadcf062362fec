/*
 * freshcam-view: runs the timestamp-echo handshake with a freshcam-send, rejects every frame whose
 * age bound exceeds the budget, shows the accepted ones (SDL2 window, or headless), and says each
 * second how fresh and how fast the stream is.
 *
 * Threads: main (the display loop: decode, check, show, report, and the reconnect state
 * machine), fc-dial (dial.c: connecting and the HELLO, one attempt at a time), fc-net (client.c:
 * the stream) and, with --record, fc-rec (record.c). SIGINT/SIGTERM are blocked in the others and
 * caught on the main thread, whose handler only sets a flag. The command line is options.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "backoff.h"
#include "client.h"
#include "clock.h"
#include "conn.h"
#include "dataout.h"
#include "decoder.h"
#include "dial.h"
#include "display.h"
#include "hello.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "report.h"
#include "secure.h"
#include "throttle.h"
#include "slot.h"
#include "stall.h"
#include "stamp.h"

#define HELLO_TIMEOUT_MS   5000
#define CONNECT_TIMEOUT_MS 5000
/* A sender that leaves a message half-sent for this long is cut off. */
#define STALL_MS 5000
/* The stall banner is redrawn this often, so that its seconds count. */
#define BANNER_EVERY_NS (100 * FC_NS_PER_MS)

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct viewer {
	struct fc_view_options o;
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
	/* Reconnecting: the attempt under way (NULL between attempts), when to try next, and how
	 * long to wait after a failure. The attempt's HELLO exchange fills sender. */
	struct fc_dial *dial;
	struct fc_hello sender;
	uint64_t next_try_ns;
	struct fc_backoff backoff;
	bool corrupt_said;
	bool json_failed_said; /* a --stats-json write failed, and that has been said */
	/* --record: the recorder (NULL without), its counts as of the last tick (the final ones
	 * once closed), and what has been said about them. */
	struct fc_record *record;
	struct fc_record_status rec;
	uint64_t rec_behind_said;
	uint64_t rec_removed_said; /* segments removed over --keep, as said */
	uint64_t rec_removed_bytes_said;
	bool rec_stop_said;
	struct fc_dataout *data; /* the documents of accepted frames, and results (dataout.h) */
	struct fc_stall stall;	 /* is the picture live, and if not, why */
	uint64_t next_banner_ns;
	/* Private streams: the passphrase key (NULL: none), and with --listen the table that slows
	 * down guessing from one address. Both live as long as the process (an abandoned attempt
	 * may still use them). */
	struct fc_secure_psk *psk;
	struct fc_throttle *throttle;
};

/* A restarted sender is usually back within a second: retry soon, and never wait long. A stream
 * that ends sooner than BACKOFF_STEADY after it started counts as a failed try (backoff.h). */
#define BACKOFF_FIRST_NS  (250 * FC_NS_PER_MS)
#define BACKOFF_MAX_NS	  (2 * FC_NS_PER_S)
#define BACKOFF_STEADY_NS (3 * FC_NS_PER_S)

/* The opening exchange, on the dial thread: v->mine is not written while an attempt runs, and
 * v->sender only by the attempt. Listening with a passphrase, the throttle of failed proofs
 * first (hello.h). */
static int greet(struct fc_conn *conn, void *arg, char *err, size_t errlen)
{
	struct viewer *v = arg;
	struct fc_hello_auth auth = { .psk = v->psk,
				      .dialled = v->lfd < 0,
				      .throttle = v->throttle };
	int rc = fc_hello_exchange_auth(conn, &v->mine, &auth, &v->sender, HELLO_TIMEOUT_MS, err,
					errlen);

	return rc < 0 ? -1 : 0;
}

/* Around starting a thread (dial, network): threads started while SIGINT and SIGTERM are blocked
 * keep them blocked, so that only the main thread's handler takes them. */
static void threads_leave_signals(bool block)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &sigs, NULL);
}

/*
 * Starts one attempt at a connection and its HELLO exchange on the dial thread, so that this
 * thread stays free for the window and for Ctrl-C. Dialling, the connect may take up to
 * timeout_ms; listening, the attempt waits up to a second for a sender to dial in (a stray
 * connection, a port probe or a peer of another version, is logged and refused: the wait goes
 * on). false with the reason logged when no attempt could start.
 */
static bool dial_start(struct viewer *v, int timeout_ms)
{
	struct fc_dial_cfg cfg = {
		.addr = v->o.addr,
		.lfd = v->lfd,
		.connect_timeout_ms = timeout_ms,
		.accept_timeout_ms = 1000,
		.max_message = FC_PROTO_MAX_MESSAGE,
		.stall_ms = STALL_MS,
		.greet = greet,
		.greet_arg = v,
	};
	char err[256];

	threads_leave_signals(true);
	v->dial = fc_dial_start(&cfg, err, sizeof(err));
	threads_leave_signals(false);
	if (!v->dial)
		fc_error("%s", err);
	return v->dial != NULL;
}

/* Takes the ended attempt's result: the connection, or NULL with the reason in err (empty when
 * listening and nobody came). */
static struct fc_conn *dial_end(struct viewer *v, char *err, size_t errlen)
{
	struct fc_conn *conn = fc_dial_finish(v->dial, err, errlen);

	v->dial = NULL;
	return conn;
}

/* The first attempt, waited for here (there is nothing else to do yet) but never past a signal.
 * NULL with the reason in err; err is empty when listening and nobody came, or on a signal. */
static struct fc_conn *connect_first(struct viewer *v, int timeout_ms, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!dial_start(v, timeout_ms))
		return NULL;
	while (!fc_dial_wait(v->dial, 50)) {
		if (got_signal) {
			fc_dial_abandon(v->dial);
			v->dial = NULL;
			return NULL;
		}
	}
	return dial_end(v, err, errlen);
}

/* Starts the network thread on a fresh connection. false (and conn freed) with the reason in err
 * on failure. */
static bool start_stream(struct viewer *v, struct fc_conn *conn, const struct fc_hello *sender,
			 char *err, size_t errlen)
{
	struct fc_client_cfg ccfg = {
		.budget_ns = v->budget_ns,
		.window = v->o.window,
		.io_timeout_ms = 2000,
		.dead_after_ms = 5000,
		.record = v->record,
		.data = v->data,
		.clock = v->o.clock,
		.synced_error_ns = (uint64_t)(v->o.synced_error_ms * 1e6),
	};

	fc_info("connected to %s (%s): %ux%u at %.3g fps; budget %.1f ms, window %u",
		fc_conn_peer(conn), sender->name, sender->width, sender->height,
		sender->fps_milli / 1000.0, v->o.max_age_ms, v->o.window);
	v->slot = fc_slot_new();
	if (!v->slot) {
		snprintf(err, errlen, "cannot start the stream from %s: out of memory",
			 fc_conn_peer(conn));
		fc_conn_free(conn);
		return false;
	}
	v->last_seq = 0;
	threads_leave_signals(true);
	v->client = fc_client_start(&ccfg, conn, v->slot, &v->report, err, errlen);
	threads_leave_signals(false);
	if (!v->client) {
		fc_slot_free(v->slot);
		v->slot = NULL;
		return false;
	}
	fc_backoff_up(&v->backoff, fc_clock_now_ns());
	return true;
}

static void end_stream(struct viewer *v)
{
	fc_report_source(&v->report, false); /* the next sender says anew */
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
	if (v->display && fc_display_upload(v->display, &pic, f->src_width, f->src_height, err,
					    sizeof(err)) < 0) {
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
		if (fc_stamp_read_scaled(pic.plane[0], 1, (size_t)pic.stride[0], pic.width,
					 pic.height, f->src_width, f->src_height, &st) == 0)
			stamp_age = now >= st.capture_ns ? (int64_t)(now - st.capture_ns) : 0;
		else
			stamp_age = -2;
	}
	fc_report_shown(&v->report, decoded - t0, stamp_age);
	fc_stall_shown(&v->stall, fc_clock_now_ns());
}

/* The recorder's part of a tick: says once that it stopped, or each second that it fell behind,
 * and adds its counts to the JSON line and to the summary. */
static void record_tick(struct viewer *v, bool summary, char *line, size_t linelen,
			struct fc_json *j)
{
	uint64_t not_written;
	size_t n = strlen(line);

	if (!v->o.record)
		return;
	/* Once closed, v->rec holds the final counts. */
	if (v->record)
		fc_record_status(v->record, &v->rec);
	not_written = v->rec.behind + v->rec.lost;
	if (v->rec.stopped && !v->rec_stop_said) {
		fc_warn("recording stopped: %s; %llu frames not written (the stream goes on; what "
			"was recorded stays valid)",
			v->rec.error, (unsigned long long)not_written);
		v->rec_stop_said = true;
	} else if (!v->rec.stopped && v->rec.behind > v->rec_behind_said) {
		fc_warn("recording fell behind: %llu frames not written (%llu in all): the disk is "
			"slower than the stream",
			(unsigned long long)(v->rec.behind - v->rec_behind_said),
			(unsigned long long)not_written);
	}
	v->rec_behind_said = v->rec.behind;
	if (v->rec.removed > v->rec_removed_said)
		fc_info("recording: removed %llu old segment%s over --keep (%.1f MB), the last %s",
			(unsigned long long)(v->rec.removed - v->rec_removed_said),
			v->rec.removed - v->rec_removed_said == 1 ? "" : "s",
			(double)(v->rec.removed_bytes - v->rec_removed_bytes_said) / 1e6,
			v->rec.removed_last);
	v->rec_removed_said = v->rec.removed;
	v->rec_removed_bytes_said = v->rec.removed_bytes;
	if (summary && n < linelen)
		snprintf(line + n, linelen - n, " | recorded %llu, %llu not written",
			 (unsigned long long)v->rec.written, (unsigned long long)not_written);
	fc_json_uint(j, "recorded", v->rec.written);
	fc_json_uint(j, "record_dropped", not_written);
	fc_json_bool(j, "record_stopped", v->rec.stopped);
}

/* Says once that --stats-json cannot be written (a full disk), naming the file and why; the
 * viewer goes on, trying each later line again. */
static void json_failed(struct viewer *v, int e)
{
	if (!v->json_failed_said)
		fc_warn("cannot write --stats-json %s: %s; going on without its figures",
			v->o.stats_json, strerror(e));
	v->json_failed_said = true;
}

/* One line of figures to --stats-json, flushed so that a reader sees it at once. */
static void write_json(struct viewer *v, const char *line)
{
	if (fputs(line, v->json) != EOF && fflush(v->json) == 0)
		return;
	json_failed(v, errno);
	clearerr(v->json);
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
	record_tick(v, summary, line, sizeof(line), &j);
	if (v->data)
		fc_dataout_json(v->data, &j, summary);
	if (!v->o.quiet || summary)
		fc_info("%s", line);
	if (advice)
		fc_warn("%s", advice);
	if (v->display && !summary && v->stall.why == FC_STALL_NONE) {
		char title[192];

		snprintf(title, sizeof(title), "freshcam-view — %s", fc_report_title(&v->report));
		fc_display_title(v->display, title);
	}
	if (v->json && (s = fc_json_finish(&j)))
		write_json(v, s);
}

/* Says when frames stop reaching the screen, and why: on the console once per change, and in the
 * window (the last picture dimmed under a banner, redrawn so that its seconds count) and its
 * title. */
static void watch(struct viewer *v, uint64_t now)
{
	struct fc_stall_input in = {
		.connected = v->client != NULL,
		.listening = v->lfd >= 0,
		/* v->sender is the dial thread's only while no stream runs */
		.fps_milli = v->client ? v->sender.fps_milli : 0,
		.budget_ns = v->budget_ns,
	};
	char text[256];
	char title[300];

	fc_report_live(&v->report, &in.live);
	if (fc_stall_update(&v->stall, now, &in)) {
		fc_stall_line(&v->stall, now, text, sizeof(text));
		fc_log(v->stall.why ? FC_LOG_WARN : FC_LOG_INFO, "%s", text);
		v->next_banner_ns = now;
	}
	if (!v->display || now < v->next_banner_ns)
		return;
	if (v->stall.why == FC_STALL_NONE) {
		snprintf(title, sizeof(title), "freshcam-view — %s", fc_report_title(&v->report));
		fc_display_title(v->display, title);
		v->next_banner_ns = UINT64_MAX;
		return;
	}
	fc_stall_banner(&v->stall, now, text, sizeof(text));
	fc_display_banner(v->display, text);
	fc_display_present(v->display);
	fc_stall_line(&v->stall, now, text, sizeof(text));
	snprintf(title, sizeof(title), "freshcam-view — %s", text);
	fc_display_title(v->display, title);
	v->next_banner_ns = now + BANNER_EVERY_NS;
}

/* While disconnected: starts an attempt to get the stream back when it is time, and takes its
 * result once it has one; never waits. A failed attempt, or a connection on which the stream
 * could not start, sets the wait before the next. */
static void reconnect(struct viewer *v, uint64_t now)
{
	struct fc_conn *conn;
	uint64_t wait;
	char err[256];

	if (!v->dial) {
		if (now < v->next_try_ns)
			return;
		if (!dial_start(v, 2000)) {
			v->next_try_ns = now + BACKOFF_MAX_NS;
			return;
		}
	}
	if (!fc_dial_wait(v->dial, 0))
		return;
	conn = dial_end(v, err, sizeof(err));
	if (conn && start_stream(v, conn, &v->sender, err, sizeof(err)))
		return;
	if (!conn && v->lfd >= 0) {
		if (err[0])
			fc_warn("%s; still waiting for a sender", err);
		return;
	}
	/* No connection, or one on which the stream could not start: wait before the next. */
	wait = fc_backoff_failed(&v->backoff);
	fc_warn("%s; %s in %.1f s", err, v->lfd >= 0 ? "listening again" : "retrying",
		(double)wait / 1e9);
	v->next_try_ns = fc_clock_now_ns() + wait;
}

/* Whether the display loop ends now: a signal, --seconds, or the window closed. */
static bool stop_now(struct viewer *v, uint64_t now)
{
	if (got_signal) {
		fc_info("%s: stopping", got_signal == SIGINT ? "interrupted" : "terminated");
		return true;
	}
	if (v->end_ns && now >= v->end_ns)
		return true;
	if (v->display && !fc_display_poll(v->display)) {
		fc_info("window closed: stopping");
		return true;
	}
	return false;
}

/* The stream has ended: says why, and sets when to try again (backoff.h). */
static void stream_lost(struct viewer *v, uint64_t now)
{
	bool clean = true;

	if (fc_client_running(v->client, &clean))
		return;
	fc_log(clean ? FC_LOG_INFO : FC_LOG_WARN, "%s; reconnecting", fc_client_reason(v->client));
	end_stream(v);
	v->next_try_ns = now + fc_backoff_down(&v->backoff, now);
}

/* Disconnected and no stream yet: waits until the attempt under way ends, the next try is due,
 * or wake (the window and the console). */
static void wait_disconnected(struct viewer *v, uint64_t now, uint64_t wake)
{
	if (v->dial)
		fc_dial_wait(v->dial, (int)((wake - now) / FC_NS_PER_MS));
	else
		fc_clock_sleep_until(v->next_try_ns < wake ? v->next_try_ns : wake);
}

/* Connected: waits until wake (or --seconds) for a frame newer than the last, and shows it. */
static void show_next(struct viewer *v, uint64_t wake)
{
	struct fc_frame *f;

	if (v->end_ns && wake > v->end_ns)
		wake = v->end_ns;
	f = fc_slot_wait_newer(v->slot, v->last_seq, wake);
	if (!f)
		return;
	v->last_seq = f->seq;
	show(v, f);
	fc_frame_unref(f);
}

/* The display loop, until --seconds, a signal or the window closes; the stream is reconnected
 * whenever it is lost (capped exponential backoff, backoff.h). */
static void run(struct viewer *v)
{
	uint64_t next_tick = fc_clock_now_ns() + FC_NS_PER_S;
	/* With a window, wake often enough to keep it responsive. */
	uint64_t step = v->display ? 15 * FC_NS_PER_MS : 200 * FC_NS_PER_MS;

	for (;;) {
		uint64_t now = fc_clock_now_ns();
		uint64_t wake = now + step;

		if (stop_now(v, now))
			break;
		if (now >= next_tick) {
			tick(v, false);
			next_tick += FC_NS_PER_S;
			if (next_tick < now)
				next_tick = now + FC_NS_PER_S;
		}
		watch(v, now);
		if (v->client)
			stream_lost(v, now);
		if (wake > next_tick)
			wake = next_tick;
		if (v->client) {
			show_next(v, wake);
			continue;
		}
		reconnect(v, now);
		if (!v->client)
			wait_disconnected(v, now, wake);
	}
}

/* Writes what the recorder still holds and finishes the file (the container's trailer): on
 * --seconds, Ctrl-C, SIGTERM or a closed window alike. */
static void finish_recording(struct viewer *v)
{
	char what[256];
	char err[FC_RECORD_ERR_MAX];

	if (!v->record)
		return;
	snprintf(what, sizeof(what), "%s", fc_record_describe(v->record));
	if (fc_record_close(v->record, &v->rec, err, sizeof(err)) < 0 && !v->rec.stopped)
		fc_warn("recording: %s", err);
	v->record = NULL;
	fc_info("recording: %llu frames kept in %s", (unsigned long long)v->rec.written, what);
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

/* What this viewer says in its HELLO: its budget, window and picture floor. */
static void init_hello(struct viewer *v)
{
	v->mine = (struct fc_hello){ .role = FC_ROLE_VIEWER,
				     .window = (uint16_t)v->o.window,
				     .flags = v->o.adapt ? 0 : FC_HELLO_FULL_ONLY,
				     .min_width = (uint16_t)v->o.min_width,
				     .min_height = (uint16_t)v->o.min_height,
				     .min_quality = (uint8_t)v->o.min_quality };
	v->mine.budget_us = (uint32_t)(v->budget_ns / 1000 ? v->budget_ns / 1000 : 1);
	snprintf(v->mine.name, sizeof(v->mine.name), "freshcam-view %s", FC_VERSION);
}

/* --data-out, and the recording's documents beside it (dataout.h). */
static int open_data(struct viewer *v)
{
	char err[512];

	v->data = fc_dataout_open(v->o.data_out, v->o.record, err, sizeof(err));
	if (!v->data)
		fc_error("%s", err);
	return v->data ? 0 : -1;
}

/* The outputs that do not wait for a sender: --stats-json, the decoder and --record. Before any
 * connection, so that a path that cannot be used is said at once, not after a wait. */
static int open_outputs(struct viewer *v)
{
	char err[FC_RECORD_ERR_MAX];

	if (v->o.stats_json) {
		v->json = strcmp(v->o.stats_json, "-") == 0 ? stdout : fopen(v->o.stats_json, "w");
		if (!v->json) {
			fc_error("cannot write --stats-json %s: %s", v->o.stats_json,
				 strerror(errno));
			return -1;
		}
	}
	v->decoder = fc_decoder_new(err, sizeof(err));
	if (!v->decoder) {
		fc_error("%s", err);
		return -1;
	}
	if (!v->o.record)
		return open_data(v);
	v->record = fc_record_open(v->o.record,
				   &(struct fc_record_cfg){ .segment_s = v->o.segment_s,
							    .keep_bytes = v->o.keep_bytes,
							    .keep_s = v->o.keep_s },
				   err, sizeof(err));
	if (!v->record) {
		fc_error("%s", err);
		return -1;
	}
	/* A file-size limit (ulimit -f) then fails a write, which the recorder reports. */
	signal(SIGXFSZ, SIG_IGN);
	fc_info("recording to %s", fc_record_describe(v->record));
	return open_data(v);
}

/* --listen: the first sender to dial in, waited for as long as it takes. NULL when the port
 * cannot be had, or on a signal. */
static struct fc_conn *listen_first(struct viewer *v)
{
	struct fc_conn *conn = NULL;
	char err[256];

	v->lfd = fc_net_listen(&v->o.addr, err, sizeof(err));
	if (v->lfd < 0) {
		fc_error("%s%s", err,
			 strstr(err, "in use")
			     ? ": another program has that port; choose another with --listen PORT"
			     : "");
		return NULL;
	}
	fc_info("waiting for a sender to dial port %u", fc_net_local_port(v->lfd));
	while (!conn && !got_signal) {
		conn = connect_first(v, 0, err, sizeof(err));
		if (!conn && err[0])
			fc_warn("%s; still waiting for a sender", err);
	}
	return conn;
}

/* Dialling: the first connection, whose failure is reported at once (a wrong host or port is a
 * person's typo, not an outage). NULL on failure or a signal. */
static struct fc_conn *dial_first(struct viewer *v)
{
	char err[256];
	struct fc_conn *conn = connect_first(v, CONNECT_TIMEOUT_MS, err, sizeof(err));

	if (!conn && got_signal)
		fc_info("%s: stopping", got_signal == SIGINT ? "interrupted" : "terminated");
	else if (!conn)
		fc_error("%s%s", err,
			 strstr(err, "cannot connect")
			     ? ": is freshcam-send running there, and is the port right?"
			     : "");
	return conn;
}

/* The window, unless --headless; sized by the sender's HELLO, not by the first frame: a fresh
 * viewer starts on a small rendition (docs/PROTOCOL.md). Without one, the viewer runs headless. */
static void open_window(struct viewer *v)
{
	char err[256];

	if (v->o.headless)
		return;
	v->display =
	    fc_display_open("freshcam-view", v->sender.width, v->sender.height, err, sizeof(err));
	if (!v->display)
		fc_info("%s; running headless (console only)", err);
	else
		fc_info("window open (SDL renderer %s): f for fullscreen, q or Esc to quit",
			fc_display_renderer(v->display));
}

/* The figures and the stall watch start with the first stream; --seconds counts from here. */
static void start_watching(struct viewer *v)
{
	fc_report_init(&v->report, v->budget_ns, fc_clock_now_ns());
	fc_report_clock_mode(&v->report, v->o.clock);
	fc_stall_init(&v->stall, fc_clock_now_ns());
	if (v->o.seconds > 0)
		v->end_ns = fc_clock_now_ns() + (uint64_t)(v->o.seconds * 1e9);
}

/* The stream on the first connection, reconnected until the loop ends; then the summary. 0, or
 * 1 when the first stream could not start. */
static int stream(struct viewer *v, struct fc_conn *conn)
{
	char err[256];
	int status = 1;

	if (start_stream(v, conn, &v->sender, err, sizeof(err))) {
		run(v);
		status = 0;
	} else {
		fc_error("%s", err);
	}
	if (v->client)
		end_stream(v);
	if (v->dial) {
		/* Stopped while reconnecting: the attempt ends on its own, within its timeouts. */
		fc_dial_abandon(v->dial);
		v->dial = NULL;
	}
	finish_recording(v);
	tick(v, true);
	fc_report_destroy(&v->report);
	return status;
}

/* Closes what is still open; --stats-json's last lines are flushed and checked. */
static void close_all(struct viewer *v)
{
	finish_recording(v);
	fc_dataout_stop(v->data);
	if (v->lfd >= 0)
		close(v->lfd);
	fc_display_close(v->display);
	fc_decoder_free(v->decoder);
	if (v->json && v->json != stdout && fclose(v->json) != 0)
		json_failed(v, errno);
	else if (v->json == stdout && fflush(stdout) != 0)
		json_failed(v, errno);
}

int main(int argc, char **argv)
{
	static struct viewer v; /* large (histograms): static, not on the stack */
	struct sigaction sa = { .sa_handler = on_signal };
	struct fc_conn *conn = NULL;
	int status = 1;

	if (fc_view_options_parse(argc, argv, &v.o) < 0)
		return 2;
	fc_log_init("freshcam-view", FC_LOG_INFO);
	v.lfd = -1;
	v.budget_ns = (uint64_t)(v.o.max_age_ms * 1e6);
	fc_backoff_init(&v.backoff, BACKOFF_FIRST_NS, BACKOFF_MAX_NS, BACKOFF_STEADY_NS);
	if (setup_security(&v) < 0)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	init_hello(&v);
	if (open_outputs(&v) == 0) {
		conn = v.o.listen ? listen_first(&v) : dial_first(&v);
		if (!conn && got_signal)
			status = 0; /* asked to stop before anything came: not a failure */
	}
	if (conn) {
		open_window(&v);
		start_watching(&v);
		status = stream(&v, conn);
	}
	close_all(&v);
	return status;
}
