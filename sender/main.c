/*
 * freshcam-send: captures from a V4L2 camera (or the built-in test pattern), makes each frame JPEG
 * once, keeps only the newest, and answers each viewer's timestamped request with the freshest.
 *
 * Threads: main (options, signals, the per-second line), fc-capture, fc-accept or fc-dial, and
 * one fc-session per viewer. SIGINT and SIGTERM are blocked in every thread and taken by the main
 * thread with sigtimedwait, which is also its one-second clock.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "datain.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "figures.h"
#include "http.h"
#include "secure.h"
#include "server.h"
#include "slot.h"
#include "station.h"

/* --list-devices and --list-formats: print and exit. */
static int list(const struct fc_send_options *o)
{
	static char text[16384];
	char err[256];

	if (o->list_devices) {
		int n = fc_v4l2_list(text, sizeof(text));

		printf("V4L2 devices:%s\n", text[0] ? text
						    : " none found (is the camera plugged in, "
						      "and is uvcvideo loaded?)");
		return n > 0 ? 0 : 1;
	}
	if (fc_v4l2_describe_device(o->list_formats, text, sizeof(text), err, sizeof(err)) < 0) {
		fprintf(stderr, "freshcam-send: %s\n", err);
		return 1;
	}
	printf("%s offers:%s\n", o->list_formats, text);
	return 0;
}

/* Says why the camera would not open, and what to do about it. */
static void camera_advice(const struct fc_send_options *o, enum fc_v4l2_failure why,
			  const char *err)
{
	static char text[4096];

	fc_error("%s", err);
	switch (why) {
	case FC_V4L2_FAIL_MISSING:
		fc_v4l2_list(text, sizeof(text));
		fc_error("the cameras there are:%s", text[0] ? text : " none");
		break;
	case FC_V4L2_FAIL_ACCESS:
		fc_error("add your user to the 'video' group (sudo usermod -aG video $USER, then "
			 "log in again), or run as root");
		break;
	case FC_V4L2_FAIL_BUSY:
		fc_error("another program is using %s; close it ('fuser -v %s' shows which)",
			 o->capture.device, o->capture.device);
		break;
	case FC_V4L2_FAIL_NOT_CAPTURE:
		fc_v4l2_list(text, sizeof(text));
		fc_error("pick a capture device:%s", text[0] ? text : " none found");
		break;
	case FC_V4L2_FAIL_FORMAT:
		fc_error("choose one of those with --format and --size");
		break;
	case FC_V4L2_FAIL_OTHER:
		break;
	}
}

/* What the sender runs: started in this order, stopped in the reverse. */
struct sender {
	const struct fc_send_options *o;
	const struct fc_secure_psk *psk; /* NULL: no passphrase */
	FILE *json;			 /* --stats-json, or NULL */
	struct fc_slot *slot;
	struct fc_ladder ladder; /* shared by the capture and the sessions; outlives both */
	struct fc_capture *cap;
	struct fc_capture_info info;
	struct fc_server *srv;
	struct fc_http *http;	       /* --http, or NULL */
	const uint8_t *http_key;       /* HTTP's key when there is a passphrase, else NULL */
	struct fc_control_cfg control; /* viewers' camera commands (--allow-control) */
	struct fc_datastore *data;     /* --data-in: documents for the frames, or NULL */
	struct fc_datain *datain;
};

/* Threads inherit this mask, so only the main thread ever takes these signals. */
static void block_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int open_json(struct sender *s)
{
	const char *path = s->o->stats_json;

	if (!path)
		return 0;
	s->json = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!s->json) {
		fc_error("cannot write --stats-json %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The slot and the capture thread that fills it. */
static int start_capture(struct sender *s)
{
	struct fc_capture_cfg cfg = s->o->capture;
	enum fc_v4l2_failure why;
	char err[256];

	s->slot = fc_slot_new();
	if (!s->slot) {
		fc_error("out of memory");
		return -1;
	}
	cfg.ladder = &s->ladder;
	s->cap = fc_capture_start(&cfg, s->slot, &s->info, &why, err, sizeof(err));
	if (s->cap)
		return 0;
	if (cfg.device)
		camera_advice(s->o, why, err);
	else
		fc_error("%s", err);
	return -1;
}

/* What each viewer's session is told of the stream, and how long it waits. */
static struct fc_session_cfg session_cfg(struct sender *s)
{
	int fps_milli = s->info.fps_milli > 0 ? s->info.fps_milli : 30000;
	struct fc_session_cfg cfg = {
		.slot = s->slot,
		.ladder = &s->ladder,
		.period_ns = 1000ull * FC_NS_PER_S / (uint64_t)fps_milli,
		.hello = { .role = FC_ROLE_SENDER,
			   .codec = FC_CODEC_JPEG,
			   .width = (uint16_t)s->info.width,
			   .height = (uint16_t)s->info.height,
			   .fps_milli = (uint32_t)s->info.fps_milli },
		.io_timeout_ms = 2000,
		.idle_timeout_ms = 5000,
		.psk = s->psk,
		.control = &s->control,
		.data = s->data,
		.parts = s->o->parts,
	};

	s->control =
	    (struct fc_control_cfg){ .allow = s->o->allow_control, .device = s->o->capture.device };
	snprintf(cfg.hello.name, sizeof(cfg.hello.name), "freshcam-send %s", FC_VERSION);
	if (s->o->name)
		snprintf(cfg.hello.station, sizeof(cfg.hello.station), "%s", s->o->name);
	else
		fc_station_default(cfg.hello.station, sizeof(cfg.hello.station));
	return cfg;
}

/* Listening for viewers, or dialling one. */
static int start_server(struct sender *s)
{
	struct fc_server_cfg cfg = { .addr = s->o->addr,
				     .dial = s->o->dial,
				     .max_viewers = s->o->max_viewers,
				     .session = session_cfg(s) };
	char err[256];

	s->srv = fc_server_start(&cfg, err, sizeof(err));
	if (s->srv)
		return 0;
	if (strstr(err, "in use"))
		fc_error("%s: another program (another freshcam-send?) has that port; stop it or "
			 "choose another with --listen PORT",
			 err);
	else
		fc_error("%s", err);
	return -1;
}

static const char *format_name(enum fc_v4l2_want want)
{
	return want == FC_V4L2_MJPEG ? "mjpeg" : want == FC_V4L2_YUYV ? "yuyv" : "auto";
}

/* --http: browsers and other programs, beside the viewers (docs/HTTP.md). */
static int start_http(struct sender *s)
{
	const struct fc_send_options *o = s->o;
	int fps_milli = s->info.fps_milli > 0 ? s->info.fps_milli : 30000;
	struct fc_http_cfg cfg = {
		.addr = o->http_addr,
		.slot = s->slot,
		.srv = s->srv,
		.ladder = &s->ladder,
		.web_dir = o->http_root,
		.period_ns = 1000ull * FC_NS_PER_S / (uint64_t)fps_milli,
		.http_key = s->http_key,
		.source = { .device = o->capture.device,
			    .photo = o->capture.photo,
			    .format = format_name(o->capture.want),
			    .text = s->info.source,
			    .width = s->info.width,
			    .height = s->info.height,
			    .fps_milli = s->info.fps_milli,
			    .quality = o->capture.quality,
			    .encoders = s->info.encoders,
			    .adapt = o->capture.renditions },
	};
	char where[FC_NET_HOST_MAX + 16];
	char err[256];

	if (!o->http)
		return 0;
	s->http = fc_http_start(&cfg, err, sizeof(err));
	if (!s->http) {
		if (strstr(err, "in use"))
			fc_error(
			    "%s: another program has that port; stop it or choose another with "
			    "--http [ADDR:]PORT",
			    err);
		else
			fc_error("%s", err);
		return -1;
	}
	cfg.addr.port = (uint16_t)fc_http_port(s->http);
	fc_info("HTTP on http://%s/ (the page), /stream (MJPEG), /snapshot, /state",
		fc_net_addr_str(&cfg.addr, where, sizeof(where)));
	return 0;
}

/* What runs now: the source as it is (a camera's nearest to what was asked), and where. */
static void say_started(const struct sender *s)
{
	const struct fc_send_options *o = s->o;
	const struct fc_capture_info *info = &s->info;
	char where[FC_NET_HOST_MAX + 16];
	char threads[24] = "";

	if (o->capture.device &&
	    (info->width != o->capture.width || info->height != o->capture.height ||
	     info->fps_milli != o->capture.fps_milli))
		fc_info("asked for %dx%d at %.3g fps; the camera's nearest is %dx%d at %.3g fps",
			o->capture.width, o->capture.height, o->capture.fps_milli / 1000.0,
			info->width, info->height, info->fps_milli / 1000.0);
	if (info->encoders > 1)
		snprintf(threads, sizeof(threads), " on %d threads", info->encoders);
	if (o->dial) {
		fc_info("%s, %dx%d at %.3g fps, quality %d%s; dialling viewer %s", info->source,
			info->width, info->height, info->fps_milli / 1000.0, o->capture.quality,
			threads, fc_net_addr_str(&o->addr, where, sizeof(where)));
	} else {
		struct fc_addr on = o->addr;

		/* An IPv6 host in brackets, as it is written: [::1]:7373. */
		on.port = fc_server_port(s->srv);
		if (on.host[0])
			fc_net_addr_str(&on, where, sizeof(where));
		else
			snprintf(where, sizeof(where), "port %u", on.port);
		fc_info("%s, %dx%d at %.3g fps, quality %d%s; waiting for viewers on %s",
			info->source, info->width, info->height, info->fps_milli / 1000.0,
			o->capture.quality, threads, where);
	}
}

/* --data-in: the local program's documents, for the sessions to send with the frames. */
static int start_data(struct sender *s)
{
	char err[320];

	if (!s->o->data_in)
		return 0;
	s->data = fc_datastore_new();
	if (!s->data) {
		fc_error("--data-in: %s", strerror(errno));
		return -1;
	}
	s->datain = fc_datain_start(
	    &(struct fc_datain_cfg){ .path = s->o->data_in, .store = s->data }, err, sizeof(err));
	if (!s->datain) {
		fc_error("%s", err);
		return -1;
	}
	fc_info("documents for the frames from %s (JSON Lines)", s->o->data_in);
	return 0;
}

static int start(struct sender *s)
{
	if (open_json(s) < 0 || start_capture(s) < 0 || start_data(s) < 0 || start_server(s) < 0 ||
	    start_http(s) < 0)
		return -1;
	say_started(s);
	return 0;
}

/* The figures every --stats-every seconds until a signal or --seconds, then the summary. */
static void run(struct sender *s, const sigset_t *sigs)
{
	struct fc_figures fig;
	uint64_t end_ns = 0;
	uint64_t every_ns = (uint64_t)(s->o->stats_every * 1e9);
	uint64_t next_report;

	fc_figures_init(&fig, fc_clock_now_ns(), s->json, s->o->stats_json, s->o->quiet);
	fig.data = s->data;
	fig.datain = s->datain;
	if (s->o->seconds > 0)
		end_ns = fig.start_ns + (uint64_t)(s->o->seconds * 1e9);
	next_report = fig.start_ns + every_ns;
	for (;;) {
		uint64_t wake = end_ns && end_ns < next_report ? end_ns : next_report;
		int ms = fc_clock_ms_until(wake);
		struct timespec ts = { .tv_sec = ms / 1000,
				       .tv_nsec = (long)(ms % 1000) * 1000000 };
		int sig = sigtimedwait(sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM) {
			fc_info("%s: stopping", sig == SIGINT ? "interrupted" : "terminated");
			break;
		}
		if (end_ns && fc_clock_now_ns() >= end_ns)
			break;
		if (fc_clock_now_ns() >= next_report) {
			fc_figures_tick(&fig, s->cap, s->srv, s->http, false);
			next_report += every_ns;
		}
	}
	fc_figures_tick(&fig, s->cap, s->srv, s->http, true);
}

static void stop(struct sender *s)
{
	/* Browsers' sessions say BYE through the HTTP thread: it outlives the session list. */
	fc_http_quiesce(s->http);
	fc_server_stop(s->srv);
	fc_http_stop(s->http);
	fc_datain_stop(s->datain);
	fc_datastore_free(s->data);
	fc_capture_stop(s->cap);
	fc_slot_free(s->slot);
	if (s->json && s->json != stdout)
		fclose(s->json);
}

/* --http: who may watch. With a passphrase, only those who prove it (docs/HTTP.md, "Who may
 * watch"), but HTTP itself is not encrypted; without one, anyone, which beyond loopback is
 * worth a warning. */
static void check_http(const struct fc_send_options *o, const struct fc_secure_psk *psk)
{
	char warn[512];

	if (!o->http)
		return;
	if (psk) {
		fc_info("HTTP needs the passphrase: the page asks for it; programs send the token "
			"that 'freshcam-send --print-http-token' prints");
		if (!o->insecure && fc_secure_exposed(o->http_addr.host))
			fc_warn("HTTP is not encrypted: anyone on the path sees the frames and can "
				"replay a token or cookie; put TLS in front of it (docs/HTTP.md)");
		return;
	}
	if (!o->insecure &&
	    fc_secure_exposed_warning(&o->http_addr,
				      "anyone who can reach this HTTP port can watch the stream "
				      "in a browser",
				      warn, sizeof(warn)))
		fc_warn("%s", warn);
}

/* --print-http-token: the token, on stdout alone, for a script or a program's URL. */
static int print_http_token(const struct fc_secure_psk *psk, const uint8_t *key)
{
	if (!psk) {
		fc_error("--print-http-token: there is no passphrase; give it with "
			 "--passphrase-file FILE or %s",
			 FC_SECURE_ENV);
		return 1;
	}
	for (size_t i = 0; i < FC_SECURE_KEY_SIZE; i++)
		printf("%02x", key[i]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct fc_send_options o;
	struct sender snd = { .o = &o };
	struct fc_secure_psk *psk = NULL;
	uint8_t http_key[FC_SECURE_KEY_SIZE];
	bool want_http_key;
	char err[256];
	char warn[512];
	sigset_t sigs;
	int status = 1;

	if (fc_send_options_parse(argc, argv, &o) < 0)
		return 2;
	if (o.list_devices || o.list_formats)
		return list(&o);
	fc_log_init("freshcam-send", FC_LOG_INFO);
	/* The passphrase becomes its keys once, here (Argon2id, a fraction of a second; HTTP's
	 * PBKDF2, as long again). */
	want_http_key = o.http || o.print_http_token;
	if (fc_secure_psk_load_http(o.passphrase_file, &psk, want_http_key ? http_key : NULL, warn,
				    sizeof(warn), err, sizeof(err)) < 0) {
		fc_error("%s", err);
		return 1;
	}
	if (warn[0])
		fc_warn("%s", warn);
	if (o.print_http_token) {
		status = print_http_token(psk, http_key);
		goto out;
	}
	check_http(&o, psk);
	if (!psk && !o.dial && !o.insecure &&
	    fc_secure_exposed_warning(
		&o.addr,
		o.allow_control ? "anyone who can reach this port can watch the stream and "
				  "change the camera's settings (--allow-control)"
				: "anyone who can reach this port can watch the stream",
		warn, sizeof(warn)))
		fc_warn("%s", warn);
	block_signals(&sigs);
	snd.psk = psk;
	snd.http_key = psk && o.http ? http_key : NULL;
	if (start(&snd) == 0) {
		run(&snd, &sigs);
		status = 0;
	}
	stop(&snd);
out:
	sodium_memzero(http_key, sizeof(http_key));
	fc_secure_psk_free(psk);
	return status;
}
