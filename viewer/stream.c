/* stream: one sender's stream in freshcam-view. See stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "backoff.h"
#include "client.h"
#include "clock.h"
#include "dataout.h"
#include "decoder.h"
#include "follow.h"
#include "dial.h"
#include "hello.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "remote.h"
#include "report.h"
#include "slot.h"
#include "stall.h"
#include "stamp.h"
#include "station.h"

#define HELLO_TIMEOUT_MS   5000
#define CONNECT_TIMEOUT_MS 5000
/* A sender that leaves a message half-sent for this long is cut off. */
#define STALL_MS 5000
/* The stall banner is redrawn this often, so that its seconds count. */
#define BANNER_EVERY_NS (100 * FC_NS_PER_MS)
/* A restarted sender is usually back within a second: retry soon, and never wait long. A stream
 * that ends sooner than BACKOFF_STEADY after it started counts as a failed try (backoff.h). */
#define BACKOFF_FIRST_NS  (250 * FC_NS_PER_MS)
#define BACKOFF_MAX_NS	  (2 * FC_NS_PER_S)
#define BACKOFF_STEADY_NS (3 * FC_NS_PER_S)

struct fc_stream {
	const struct fc_stream_env *env;
	bool dials; /* addr is the sender's: redial it when lost */
	struct fc_addr addr;
	char name[FC_PROTO_MAX_STATION + 16]; /* unique; "" until the first HELLO */
	char where[80];			      /* the address, while there is no name */
	int tile;
	struct fc_report report;
	struct fc_decoder *decoder;
	struct fc_follow follow; /* frames in parts, decoded while they arrive (follow.h) */
	/* The stream of the current connection; both NULL while reconnecting. */
	struct fc_slot *slot;
	struct fc_client *client;
	uint64_t last_seq;
	/* Reconnecting: the attempt under way (NULL between attempts), when to try next, and how
	 * long to wait after a failure. sender: the HELLO of the attempt that connected. */
	struct fc_dial *dial;
	struct attempt *attempt; /* the attempt's context, while it runs (given up on abandon) */
	struct fc_udprecv *udp;	 /* the connection's UDP receiver, until its client takes it */
	struct fc_hello sender;
	uint64_t next_try_ns;
	struct fc_backoff backoff;
	bool corrupt_said;
	bool json_failed_said;
	/* --record: the recorder (NULL without, or before the sender's name is known with several
	 * senders), its counts as of the last tick, and what has been said about them. */
	struct fc_record *record;
	bool record_tried;
	struct fc_record_status rec;
	uint64_t rec_behind_said;
	uint64_t rec_removed_said;
	uint64_t rec_removed_bytes_said;
	bool rec_stop_said;
	struct fc_stall stall;
	struct fc_remote *remote; /* camera commands (remote.h); made when the name is known */
	struct fc_dataout *data;  /* documents of accepted frames (dataout.h); with the recording */
	uint64_t next_banner_ns;
	uint64_t lost_ns; /* when the last stream ended (0: none has) */
};

/* What one attempt's opening exchange reads and writes, apart from the stream: a stream freed
 * while its attempt runs (Ctrl-C while connecting) abandons it, and the attempt frees this when
 * it ends (dial.h, greet_done), never touching the freed stream. */
struct attempt {
	const struct fc_stream_env *env; /* the caller's, outliving every thread */
	struct fc_hello sender;		 /* the sender's HELLO, written by the attempt */
	struct fc_udprecv *udp;		 /* frames over UDP (--transport udp), or NULL */
};

static void attempt_free(void *arg)
{
	struct attempt *a = arg;

	fc_udprecv_free(a->udp);
	free(a);
}

/* The opening exchange, on the dial thread. */
static int greet(struct fc_conn *conn, void *arg, char *err, size_t errlen)
{
	struct attempt *a = arg;
	struct fc_hello_auth auth = { .psk = a->env->psk, .dialled = true };
	int rc = a->env->o->udp
		     ? fc_udprecv_greet(conn, a->env->mine, &auth, a->env->o->udp_port, &a->sender,
					&a->udp, HELLO_TIMEOUT_MS, err, errlen)
		     : fc_hello_exchange_auth(conn, a->env->mine, &auth, &a->sender,
					      HELLO_TIMEOUT_MS, err, errlen);

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

struct fc_dial *fc_stream_dial_start(const struct fc_dial_cfg *cfg, char *err, size_t errlen)
{
	struct fc_dial *d;

	threads_leave_signals(true);
	d = fc_dial_start(cfg, err, errlen);
	threads_leave_signals(false);
	return d;
}

struct fc_stream *fc_stream_new(const struct fc_stream_env *env, const struct fc_addr *addr,
				int tile)
{
	struct fc_stream *s = calloc(1, sizeof(*s)); /* large (histograms): not on the stack */
	char err[256];

	if (!s)
		return NULL;
	s->env = env;
	s->tile = tile;
	s->dials = addr != NULL;
	if (addr) {
		s->addr = *addr;
		fc_net_addr_str(addr, s->where, sizeof(s->where));
	}
	s->decoder = fc_decoder_new(err, sizeof(err));
	if (!s->decoder || fc_follow_init(&s->follow, err, sizeof(err)) < 0) {
		fc_error("%s", err);
		fc_decoder_free(s->decoder);
		free(s);
		return NULL;
	}
	fc_backoff_init(&s->backoff, BACKOFF_FIRST_NS, BACKOFF_MAX_NS, BACKOFF_STEADY_NS);
	fc_report_init(&s->report, env->budget_ns, fc_clock_now_ns());
	fc_report_clock_mode(&s->report, env->o->clock);
	fc_stall_init(&s->stall, fc_clock_now_ns());
	return s;
}

struct fc_remote *fc_stream_remote(struct fc_stream *s)
{
	return s->remote;
}

const char *fc_stream_name(const struct fc_stream *s)
{
	return s->name[0] ? s->name : s->where;
}

bool fc_stream_connected(const struct fc_stream *s)
{
	return s->client != NULL;
}

bool fc_stream_dialling(const struct fc_stream *s)
{
	return s->dial != NULL;
}

void fc_stream_wait_dial(struct fc_stream *s, int timeout_ms)
{
	if (s->dial)
		fc_dial_wait(s->dial, timeout_ms);
}

uint64_t fc_stream_gone_ns(const struct fc_stream *s, uint64_t now)
{
	if (s->dials || s->client || !s->lost_ns || now < s->lost_ns)
		return 0;
	return now - s->lost_ns;
}

void fc_stream_set_tile(struct fc_stream *s, int tile)
{
	s->tile = tile;
	s->next_banner_ns = 0; /* its banner and label, drawn again on its new tile */
}

const struct fc_hello *fc_stream_sender(const struct fc_stream *s)
{
	return &s->sender;
}

/* Starts one attempt at the sender and its HELLO exchange on the dial thread. false with the
 * reason logged when no attempt could start. */
static bool dial_start(struct fc_stream *s, int timeout_ms)
{
	struct fc_dial_cfg cfg = {
		.addr = s->addr,
		.lfd = -1,
		.connect_timeout_ms = timeout_ms,
		.max_message = FC_PROTO_MAX_MESSAGE,
		.stall_ms = STALL_MS,
		.greet = greet,
		.greet_done = attempt_free,
	};
	char err[256];

	s->attempt = calloc(1, sizeof(*s->attempt));
	if (!s->attempt) {
		fc_error("cannot dial %s: out of memory", s->where);
		return false;
	}
	s->attempt->env = s->env;
	cfg.greet_arg = s->attempt;
	s->dial = fc_stream_dial_start(&cfg, err, sizeof(err));
	if (!s->dial) {
		fc_error("%s", err);
		free(s->attempt);
		s->attempt = NULL;
	}
	return s->dial != NULL;
}

/* Stops waiting for the attempt under way: it ends on its own and frees its context. */
static void dial_abandon(struct fc_stream *s)
{
	fc_dial_abandon(s->dial);
	s->dial = NULL;
	s->attempt = NULL;
}

/* Takes the ended attempt's result: the connection, or NULL with the reason in err. */
static struct fc_conn *dial_end(struct fc_stream *s, char *err, size_t errlen)
{
	struct fc_conn *conn = fc_dial_finish(s->dial, err, errlen);

	s->sender = s->attempt->sender;
	fc_udprecv_free(s->udp);
	s->udp = s->attempt->udp;
	s->attempt->udp = NULL;
	attempt_free(s->attempt);
	s->attempt = NULL;
	s->dial = NULL;
	return conn;
}

/* PATH as a directory, or as a file: a file when its last part has an extension. */
static const char *extension(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base ? base + 1 : path, '.');

	return dot && dot != (base ? base + 1 : path) ? dot : NULL;
}

/* Where a sender's own recording goes when there are several: PATH/NAME/ for a directory, and
 * DIR/STEM-NAME.EXT beside a file PATH (docs/RECORDING.md); NAME-2, NAME-3... when that is taken
 * (a sender that comes back after --forget closed its stream). */
static int record_path(const struct fc_stream *s, char *out, size_t outlen)
{
	const char *path = s->env->o->record;
	const char *ext = s->env->o->segment_s ? NULL : extension(path);
	const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";
	char safe[FC_PROTO_MAX_STATION + 16];
	char name[FC_PROTO_MAX_STATION + 24];
	int n = 0;

	fc_station_file(fc_stream_name(s), safe, sizeof(safe));
	/* The directory that holds the senders' directories, made here if need be. */
	if (!ext && mkdir(path, 0777) < 0 && errno != EEXIST)
		return -1;
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "%s", safe);
		else
			snprintf(name, sizeof(name), "%s-%d", safe, i);
		if (ext)
			n = snprintf(out, outlen, "%.*s-%s%s", (int)(ext - path), path, name, ext);
		else
			n = snprintf(out, outlen, "%s%s%s", path, sep, name);
		if (n < 0 || (size_t)n >= outlen)
			return -1;
		if (access(out, F_OK) < 0)
			return 0;
	}
	errno = EEXIST;
	return -1;
}

/* The documents of accepted frames (dataout.h): --data-out, and beside the recording at
 * record_path (NULL: none), which is open already. With several senders each has its own:
 * --data-out PATH becomes PATH-NAME, a socket or FIFO per sender as recordings are named. */
static bool open_data(struct fc_stream *s, const char *record_path)
{
	const char *out = s->env->o->data_out;
	char safe[FC_PROTO_MAX_STATION + 16];
	char path[4096];
	char err[512];

	if (out && s->env->several) {
		fc_station_file(fc_stream_name(s), safe, sizeof(safe));
		snprintf(path, sizeof(path), "%s-%s", out, safe);
		out = path;
	}
	s->data = fc_dataout_open(out, record_path, err, sizeof(err));
	if (!s->data)
		fc_error("%s%s%s", s->env->several ? fc_stream_name(s) : "",
			 s->env->several ? ": " : "", err);
	return s->data != NULL;
}

bool fc_stream_record(struct fc_stream *s)
{
	const struct fc_view_options *o = s->env->o;
	char err[FC_RECORD_ERR_MAX];
	char path[4096];

	if (s->record_tried)
		return true;
	s->record_tried = true;
	if (!o->record)
		return open_data(s, NULL);
	if (!s->env->several) {
		snprintf(path, sizeof(path), "%s", o->record);
	} else if (record_path(s, path, sizeof(path)) < 0) {
		fc_error("%s: cannot make a recording beside %s: %s", fc_stream_name(s), o->record,
			 strerror(errno));
		return false;
	}
	s->record = fc_record_open(path,
				   &(struct fc_record_cfg){ .segment_s = o->segment_s,
							    .keep_bytes = o->keep_bytes,
							    .keep_s = o->keep_s },
				   err, sizeof(err));
	if (!s->record) {
		fc_error("%s", err);
		return false;
	}
	/* A file-size limit (ulimit -f) then fails a write, which the recorder reports. */
	signal(SIGXFSZ, SIG_IGN);
	fc_info("recording %s to %s", fc_stream_name(s), fc_record_describe(s->record));
	return open_data(s, path);
}

/* The first HELLO names the stream for good (a sender back after a restart keeps its tile,
 * figures and recording under the name it had). */
static void take_name(struct fc_stream *s, const struct fc_hello *hello)
{
	if (s->name[0])
		return;
	s->env->unique_name(s->env->unique_arg, s, hello->station[0] ? hello->station : s->where,
			    s->name, sizeof(s->name));
	if (s->env->several)
		fc_stream_record(s);
}

/* The camera commands of this sender (remote.h), made once its name is known: the command line's
 * go to every sender; with several, each one's stills carry its name (--still PATH: PATH-NAME,
 * before the extension, as recordings are named). */
static bool make_remote(struct fc_stream *s)
{
	struct fc_remote_cfg cfg = s->env->o->remote;
	char safe[FC_PROTO_MAX_STATION + 16];
	char path[512];

	if (s->remote)
		return true;
	if (s->env->several) {
		fc_station_file(fc_stream_name(s), safe, sizeof(safe));
		if (cfg.still_path) {
			const char *ext = extension(cfg.still_path);
			int stem = ext ? (int)(ext - cfg.still_path) : (int)strlen(cfg.still_path);

			snprintf(path, sizeof(path), "%.*s-%s%s", stem, cfg.still_path, safe,
				 ext ? ext : "");
			cfg.still_path = path;
		}
	}
	s->remote = fc_remote_new(&cfg, s->env->several ? safe : NULL);
	return s->remote != NULL;
}

/* Starts the network thread on a fresh connection. false (and conn freed) with the reason in err
 * on failure. */
static bool start_stream(struct fc_stream *s, struct fc_conn *conn, char *err, size_t errlen)
{
	const struct fc_view_options *o = s->env->o;
	struct fc_client_cfg ccfg = {
		.budget_ns = s->env->budget_ns,
		.window = o->window,
		.io_timeout_ms = 2000,
		.dead_after_ms = 5000,
		.clock = o->clock,
		.synced_error_ns = (uint64_t)(o->synced_error_ms * 1e6),
	};

	take_name(s, &s->sender);
	if (!make_remote(s)) {
		snprintf(err, errlen, "cannot start the stream from %s: out of memory",
			 fc_conn_peer(conn));
		fc_conn_free(conn);
		return false;
	}
	ccfg.record = s->record;
	ccfg.remote = s->remote;
	ccfg.data = s->data;
	ccfg.udp = s->udp;
	s->udp = NULL; /* the client's now, whatever becomes of it */
	if (o->udp && !ccfg.udp)
		fc_warn("%s does not offer UDP (start it with --transport udp): frames over TCP",
			fc_conn_peer(conn));
	fc_info("connected to %s (%s, %s): %ux%u at %.3g fps; budget %.1f ms, window %u",
		fc_conn_peer(conn), fc_stream_name(s), s->sender.name, s->sender.width,
		s->sender.height, s->sender.fps_milli / 1000.0, o->max_age_ms, o->window);
	s->slot = fc_slot_new();
	if (!s->slot || fc_slot_watch(s->slot, s->env->wake_fd) < 0) {
		snprintf(err, errlen, "cannot start the stream from %s: out of memory",
			 fc_conn_peer(conn));
		fc_slot_free(s->slot);
		s->slot = NULL;
		fc_conn_free(conn);
		return false;
	}
	s->last_seq = 0;
	threads_leave_signals(true);
	s->client = fc_client_start(&ccfg, conn, s->slot, &s->report, err, errlen);
	threads_leave_signals(false);
	if (!s->client) {
		fc_slot_unwatch(s->slot, s->env->wake_fd);
		fc_slot_free(s->slot);
		s->slot = NULL;
		return false;
	}
	fc_backoff_up(&s->backoff, fc_clock_now_ns());
	return true;
}

static void end_stream(struct fc_stream *s)
{
	fc_report_source(&s->report, false); /* the next sender says anew */
	fc_client_stop(s->client);
	fc_follow_drop(&s->follow); /* a frame cut off with its connection */
	fc_slot_unwatch(s->slot, s->env->wake_fd);
	fc_slot_free(s->slot);
	s->client = NULL;
	s->slot = NULL;
}

bool fc_stream_connect_first(struct fc_stream *s, const volatile sig_atomic_t *stop)
{
	struct fc_conn *conn;
	char err[256] = "";

	if (!dial_start(s, CONNECT_TIMEOUT_MS))
		return false;
	while (!fc_dial_wait(s->dial, 50)) {
		if (*stop) {
			dial_abandon(s);
			return false;
		}
	}
	conn = dial_end(s, err, sizeof(err));
	if (conn && start_stream(s, conn, err, sizeof(err)))
		return true;
	fc_error("%s%s", err,
		 strstr(err, "cannot connect")
		     ? ": is freshcam-send running there, and is the port right?"
		     : "");
	return false;
}

bool fc_stream_adopt(struct fc_stream *s, struct fc_conn *conn, const struct fc_hello *hello,
		     struct fc_udprecv *udp)
{
	char err[256];

	fc_udprecv_free(s->udp);
	s->udp = udp;
	if (s->client)
		end_stream(s);
	if (!s->where[0])
		snprintf(s->where, sizeof(s->where), "%s", fc_conn_peer(conn));
	s->sender = *hello;
	if (start_stream(s, conn, err, sizeof(err)))
		return true;
	fc_warn("%s; still waiting for it", err);
	return false;
}

/* Decodes and shows one accepted frame if it is still within the budget when it would reach the
 * screen: checked before decoding (no work for a frame already too old) and again after the
 * upload, just before it is presented (decoding and uploading age it too). */
static void show(struct fc_stream *s, struct fc_frame *f)
{
	struct fc_display *d = s->env->display;
	struct fc_picture pic;
	struct fc_stamp st;
	int64_t stamp_age = -1;
	uint64_t budget = s->env->budget_ns;
	uint64_t t0 = fc_clock_now_ns();
	uint64_t decoded;
	uint64_t now;
	char err[256];
	const char *why;

	if (!fc_age_within(f->bound_ns, f->recv_ns, t0, budget)) {
		fc_report_dropped(&s->report, FC_DROP_LATE_AT_DISPLAY);
		return;
	}
	if (fc_follow_picture(&s->follow, s->decoder, f, &pic, &why) < 0) {
		if (!s->corrupt_said)
			fc_warn("%s: frame %llu: %s; dropping such frames (counted as corrupt)",
				fc_stream_name(s), (unsigned long long)f->seq, why);
		s->corrupt_said = true;
		fc_report_dropped(&s->report, FC_DROP_CORRUPT);
		return;
	}
	decoded = fc_clock_now_ns();
	if (d && fc_display_upload_tile(d, s->tile, &pic, f->src_width, f->src_height, err,
					sizeof(err)) < 0) {
		fc_warn("%s; this sender's tile stays as it was", err);
		d = NULL;
	}
	if (d) /* with its picture: the tile shows this frame's document or none */
		fc_display_tile_data(d, s->tile, f->data + f->size, f->doc_size);
	now = fc_clock_now_ns();
	if (!fc_age_within(f->bound_ns, f->recv_ns, now, budget)) {
		fc_report_dropped(&s->report, FC_DROP_LATE_AT_DISPLAY);
		return;
	}
	if (d)
		fc_display_present(d);
	if (s->env->o->check_stamps) {
		/* Headless, the frame is "shown" at the check above; with a window, once presented. */
		if (d)
			now = fc_clock_now_ns();
		if (fc_stamp_read_scaled(pic.plane[0], 1, (size_t)pic.stride[0], pic.width,
					 pic.height, f->src_width, f->src_height, &st) == 0)
			stamp_age = now >= st.capture_ns ? (int64_t)(now - st.capture_ns) : 0;
		else
			stamp_age = -2;
	}
	fc_report_shown(&s->report, decoded - t0, stamp_age);
	fc_stall_shown(&s->stall, fc_clock_now_ns());
}

/* The recorder's part of a tick: says once that it stopped, or each second that it fell behind,
 * and adds its counts to the JSON line and to the summary. */
static void record_tick(struct fc_stream *s, bool summary, char *line, size_t linelen,
			struct fc_json *j)
{
	uint64_t not_written;
	size_t n = strlen(line);
	const char *who = fc_stream_name(s);

	if (!s->env->o->record)
		return;
	if (s->record)
		fc_record_status(s->record, &s->rec);
	not_written = s->rec.behind + s->rec.lost;
	if (s->rec.stopped && !s->rec_stop_said) {
		fc_warn("%s: recording stopped: %s; %llu frames not written (the stream goes on; "
			"what was recorded stays valid)",
			who, s->rec.error, (unsigned long long)not_written);
		s->rec_stop_said = true;
	} else if (!s->rec.stopped && s->rec.behind > s->rec_behind_said) {
		fc_warn("%s: recording fell behind: %llu frames not written (%llu in all): the "
			"disk is slower than the stream",
			who, (unsigned long long)(s->rec.behind - s->rec_behind_said),
			(unsigned long long)not_written);
	}
	s->rec_behind_said = s->rec.behind;
	if (s->rec.removed > s->rec_removed_said)
		fc_info("%s: recording: removed %llu old segment%s over --keep (%.1f MB), the "
			"last %s",
			who, (unsigned long long)(s->rec.removed - s->rec_removed_said),
			s->rec.removed - s->rec_removed_said == 1 ? "" : "s",
			(double)(s->rec.removed_bytes - s->rec_removed_bytes_said) / 1e6,
			s->rec.removed_last);
	s->rec_removed_said = s->rec.removed;
	s->rec_removed_bytes_said = s->rec.removed_bytes;
	if (summary && n < linelen)
		snprintf(line + n, linelen - n, " | recorded %llu, %llu not written",
			 (unsigned long long)s->rec.written, (unsigned long long)not_written);
	fc_json_uint(j, "recorded", s->rec.written);
	fc_json_uint(j, "record_dropped", not_written);
	fc_json_bool(j, "record_stopped", s->rec.stopped);
}

/* One line of figures to --stats-json, flushed so that a reader sees it at once; a failed write
 * is said once (a full disk), naming the file, and each later line is tried again. */
static void write_json(struct fc_stream *s, const char *line)
{
	FILE *f = s->env->json;

	if (fputs(line, f) != EOF && fflush(f) == 0)
		return;
	if (!s->json_failed_said)
		fc_warn("cannot write --stats-json %s: %s; going on without its figures",
			s->env->o->stats_json, strerror(errno));
	s->json_failed_said = true;
	clearerr(f);
}

void fc_stream_tick(struct fc_stream *s, bool summary)
{
	static struct fc_json j; /* 32 KB; main thread only */
	char line[768];
	const char *text;
	const char *advice = fc_report_tick(&s->report, fc_clock_now_ns(), summary,
					    s->env->o->check_stamps, line, sizeof(line), &j);

	if (!summary && !s->client)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " | reconnecting");
	record_tick(s, summary, line, sizeof(line), &j);
	if (s->data)
		fc_dataout_json(s->data, &j, summary);
	fc_json_str(&j, "sender", fc_stream_name(s));
	fc_json_uint(&j, "parts_followed", s->follow.followed);
	fc_json_uint(&j, "parts_decoded", s->follow.decoded);
	fc_json_uint(&j, "parts_discarded", s->follow.discarded);
	if (!s->env->o->quiet || summary) {
		if (s->env->several)
			fc_info("%s: %s", fc_stream_name(s), line);
		else
			fc_info("%s", line);
	}
	if (advice)
		fc_warn("%s%s%s", s->env->several ? fc_stream_name(s) : "",
			s->env->several ? ": " : "", advice);
	if (s->env->display && !summary && s->stall.why == FC_STALL_NONE)
		fc_display_tile_label(s->env->display, s->tile, fc_stream_name(s),
				      fc_report_title(&s->report));
	if (s->env->json && (text = fc_json_finish(&j)))
		write_json(s, text);
}

/* Says when frames stop reaching the screen, and why: on the console once per change, and on
 * the sender's tile (the last picture dimmed under a banner, redrawn so that its seconds count). */
static void watch(struct fc_stream *s, uint64_t now)
{
	struct fc_display *d = s->env->display;
	struct fc_stall_input in = {
		.connected = s->client != NULL,
		.listening = !s->dials,
		/* s->sender is the dial thread's only while no stream runs */
		.fps_milli = s->client ? s->sender.fps_milli : 0,
		.budget_ns = s->env->budget_ns,
	};
	char text[256];

	fc_report_live(&s->report, &in.live);
	if (fc_stall_update(&s->stall, now, &in)) {
		fc_stall_line(&s->stall, now, text, sizeof(text));
		if (s->env->several)
			fc_log(s->stall.why ? FC_LOG_WARN : FC_LOG_INFO, "%s: %s",
			       fc_stream_name(s), text);
		else
			fc_log(s->stall.why ? FC_LOG_WARN : FC_LOG_INFO, "%s", text);
		s->next_banner_ns = now;
	}
	if (!d || now < s->next_banner_ns)
		return;
	if (s->stall.why == FC_STALL_NONE) {
		fc_display_tile_label(d, s->tile, fc_stream_name(s), fc_report_title(&s->report));
		s->next_banner_ns = UINT64_MAX;
		return;
	}
	fc_stall_banner(&s->stall, now, text, sizeof(text));
	fc_display_tile_banner(d, s->tile, text);
	fc_stall_line(&s->stall, now, text, sizeof(text));
	fc_display_tile_label(d, s->tile, fc_stream_name(s), text);
	fc_display_present(d);
	s->next_banner_ns = now + BANNER_EVERY_NS;
}

/* While disconnected, a dialled stream: starts an attempt to get the stream back when it is
 * time, and takes its result once it has one; never waits. */
static void reconnect(struct fc_stream *s, uint64_t now)
{
	struct fc_conn *conn;
	uint64_t wait;
	char err[256];

	if (!s->dial) {
		if (now < s->next_try_ns)
			return;
		if (!dial_start(s, 2000)) {
			s->next_try_ns = now + BACKOFF_MAX_NS;
			return;
		}
	}
	if (!fc_dial_wait(s->dial, 0))
		return;
	conn = dial_end(s, err, sizeof(err));
	if (conn && start_stream(s, conn, err, sizeof(err)))
		return;
	wait = fc_backoff_failed(&s->backoff);
	fc_warn("%s; retrying in %.1f s", err, (double)wait / 1e9);
	s->next_try_ns = fc_clock_now_ns() + wait;
}

/* The stream has ended: says why, and sets when to try again (backoff.h). */
static void stream_lost(struct fc_stream *s, uint64_t now)
{
	bool clean = true;

	if (fc_client_running(s->client, &clean))
		return;
	fc_log(clean ? FC_LOG_INFO : FC_LOG_WARN, "%s%s%s; %s",
	       s->env->several ? fc_stream_name(s) : "", s->env->several ? ": " : "",
	       fc_client_reason(s->client), s->dials ? "reconnecting" : "waiting for it to dial");
	end_stream(s);
	s->lost_ns = now;
	s->next_try_ns = now + fc_backoff_down(&s->backoff, now);
}

void fc_stream_step(struct fc_stream *s, uint64_t now)
{
	struct fc_frame *f;

	watch(s, now);
	if (s->client)
		stream_lost(s, now);
	if (!s->client) {
		if (s->dials)
			reconnect(s, now);
		return;
	}
	f = fc_slot_get_newer(s->slot, s->last_seq);
	if (f) {
		s->last_seq = f->seq;
		show(s, f);
		fc_frame_unref(f);
	}
	/* After the published frame: the next one's parts, decoded as they come (follow.h). */
	fc_follow_step(&s->follow, s->slot, s->last_seq);
}

/* Writes what the recorder still holds and finishes the file (the container's trailer). */
static void finish_recording(struct fc_stream *s)
{
	char what[256];
	char err[FC_RECORD_ERR_MAX];

	if (!s->record)
		return;
	snprintf(what, sizeof(what), "%s", fc_record_describe(s->record));
	if (fc_record_close(s->record, &s->rec, err, sizeof(err)) < 0 && !s->rec.stopped)
		fc_warn("recording: %s", err);
	s->record = NULL;
	fc_info("recording: %llu frames kept in %s", (unsigned long long)s->rec.written, what);
}

void fc_stream_free(struct fc_stream *s)
{
	if (!s)
		return;
	if (s->client)
		end_stream(s);
	if (s->dial) {
		/* Stopped while reconnecting: the attempt ends on its own, within its timeouts. */
		dial_abandon(s);
	}
	finish_recording(s);
	fc_stream_tick(s, true);
	fc_dataout_stop(s->data);
	fc_remote_free(s->remote);
	fc_udprecv_free(s->udp);
	fc_report_destroy(&s->report);
	fc_decoder_free(s->decoder);
	fc_follow_free(&s->follow);
	free(s);
}
