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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "figures.h"
#include "secure.h"
#include "server.h"
#include "slot.h"

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

int main(int argc, char **argv)
{
	struct fc_send_options o;
	struct fc_capture_info info;
	enum fc_v4l2_failure why;
	struct fc_slot *slot = NULL;
	struct fc_ladder ladder; /* shared by the capture and the sessions; outlives both */
	struct fc_capture *cap = NULL;
	struct fc_server *srv = NULL;
	struct fc_figures fig;
	FILE *json = NULL;
	struct fc_server_cfg scfg;
	struct fc_secure_psk *psk = NULL;
	char err[256];
	char warn[512];
	char where[FC_NET_HOST_MAX + 16];
	char threads[24] = "";
	sigset_t sigs;
	uint64_t end_ns = 0;
	uint64_t next_report;
	int status = 1;

	if (fc_send_options_parse(argc, argv, &o) < 0)
		return 2;
	if (o.list_devices || o.list_formats)
		return list(&o);
	fc_log_init("freshcam-send", FC_LOG_INFO);
	/* The passphrase becomes its key once, here (Argon2id, a fraction of a second). */
	if (fc_secure_psk_load(o.passphrase_file, &psk, warn, sizeof(warn), err, sizeof(err)) < 0) {
		fc_error("%s", err);
		return 1;
	}
	if (warn[0])
		fc_warn("%s", warn);
	if (!psk && !o.dial && !o.insecure &&
	    fc_secure_exposed_warning(
		&o.addr, "anyone who can reach this port can watch the stream", warn, sizeof(warn)))
		fc_warn("%s", warn);
	/* Threads inherit this mask, so only the main thread ever takes these signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.stats_json) {
		json = strcmp(o.stats_json, "-") == 0 ? stdout : fopen(o.stats_json, "w");
		if (!json) {
			fc_error("cannot write --stats-json %s: %s", o.stats_json, strerror(errno));
			return 1;
		}
	}
	slot = fc_slot_new();
	if (!slot) {
		fc_error("out of memory");
		goto out;
	}
	o.capture.ladder = &ladder;
	cap = fc_capture_start(&o.capture, slot, &info, &why, err, sizeof(err));
	if (!cap) {
		if (o.capture.device)
			camera_advice(&o, why, err);
		else
			fc_error("%s", err);
		goto out;
	}
	scfg = (struct fc_server_cfg){
		.addr = o.addr,
		.dial = o.dial,
		.max_viewers = o.max_viewers,
		.session = {
			.slot = slot,
			.ladder = &ladder,
			.period_ns = 1000ull * FC_NS_PER_S / (uint64_t)(info.fps_milli > 0 ? info.fps_milli : 30000),
			.hello = {
				.role = FC_ROLE_SENDER,
				.codec = FC_CODEC_JPEG,
				.width = (uint16_t)info.width,
				.height = (uint16_t)info.height,
				.fps_milli = (uint32_t)info.fps_milli,
			},
			.io_timeout_ms = 2000,
			.idle_timeout_ms = 5000,
		},
	};
	snprintf(scfg.session.hello.name, sizeof(scfg.session.hello.name), "freshcam-send %s",
		 FC_VERSION);
	scfg.session.psk = psk;
	srv = fc_server_start(&scfg, err, sizeof(err));
	if (!srv) {
		if (strstr(err, "in use"))
			fc_error(
			    "%s: another program (another freshcam-send?) has that port; stop it "
			    "or choose another with --listen PORT",
			    err);
		else
			fc_error("%s", err);
		goto out;
	}
	if (o.capture.device && (info.width != o.capture.width || info.height != o.capture.height ||
				 info.fps_milli != o.capture.fps_milli))
		fc_info("asked for %dx%d at %.3g fps; the camera's nearest is %dx%d at %.3g fps",
			o.capture.width, o.capture.height, o.capture.fps_milli / 1000.0, info.width,
			info.height, info.fps_milli / 1000.0);
	if (info.encoders > 1)
		snprintf(threads, sizeof(threads), " on %d threads", info.encoders);
	if (o.dial)
		fc_info("%s, %dx%d at %.3g fps, quality %d%s; dialling viewer %s", info.source,
			info.width, info.height, info.fps_milli / 1000.0, o.capture.quality,
			threads, fc_net_addr_str(&o.addr, where, sizeof(where)));
	else
		fc_info("%s, %dx%d at %.3g fps, quality %d%s; waiting for viewers on %s%s%u",
			info.source, info.width, info.height, info.fps_milli / 1000.0,
			o.capture.quality, threads, o.addr.host[0] ? o.addr.host : "port ",
			o.addr.host[0] ? ":" : "", fc_server_port(srv));

	fc_figures_init(&fig, fc_clock_now_ns(), json, o.quiet);
	if (o.seconds > 0)
		end_ns = fig.start_ns + (uint64_t)(o.seconds * 1e9);
	next_report = fig.start_ns + FC_NS_PER_S;
	for (;;) {
		uint64_t wake = end_ns && end_ns < next_report ? end_ns : next_report;
		int ms = fc_clock_ms_until(wake);
		struct timespec ts = { .tv_sec = ms / 1000,
				       .tv_nsec = (long)(ms % 1000) * 1000000 };
		int sig = sigtimedwait(&sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM) {
			fc_info("%s: stopping", sig == SIGINT ? "interrupted" : "terminated");
			break;
		}
		if (end_ns && fc_clock_now_ns() >= end_ns)
			break;
		if (fc_clock_now_ns() >= next_report) {
			fc_figures_tick(&fig, cap, srv, false);
			next_report += FC_NS_PER_S;
		}
	}
	fc_figures_tick(&fig, cap, srv, true);
	status = 0;
out:
	fc_server_stop(srv);
	fc_capture_stop(cap);
	fc_slot_free(slot);
	fc_secure_psk_free(psk);
	if (json && json != stdout)
		fclose(json);
	return status;
}
