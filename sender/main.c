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
#include "secure.h"
#include "server.h"
#include "slot.h"

#define MAX_REPORTED_VIEWERS 64

/* Per-viewer counters as of the last report, to turn totals into rates. */
struct prev_viewer {
	unsigned id;
	uint64_t sent;
	uint64_t late;
	uint64_t too_old;
};

struct reporter {
	uint64_t start_ns;
	uint64_t last_ns;
	struct fc_hist publish_total;
	struct fc_hist encode_total;
	struct fc_meter captured;
	struct fc_meter encoded;
	struct prev_viewer prev[MAX_REPORTED_VIEWERS];
	int nprev;
	FILE *json;
};

/* A viewer's counts at the last report (all 0 for a new one). */
static struct prev_viewer prev_of(const struct reporter *r, unsigned id)
{
	for (int i = 0; i < r->nprev; i++)
		if (r->prev[i].id == id)
			return r->prev[i];
	return (struct prev_viewer){ .id = id };
}

static void report(struct reporter *r, struct fc_capture *cap, struct fc_server *srv, bool quiet,
		   bool summary)
{
	struct fc_viewer_stats v[MAX_REPORTED_VIEWERS];
	struct fc_capture_stats cs;
	uint64_t now = fc_clock_now_ns();
	double dt = (double)(now - r->last_ns) / 1e9;
	double t = (double)(now - r->start_ns) / 1e9;
	char line[2048];
	size_t len;
	int nv = fc_server_stats(srv, v, MAX_REPORTED_VIEWERS);
	double fps;
	double efps;
	struct fc_json j;
	const struct fc_hist *enc;
	const struct fc_hist *encode;
	uint64_t published;
	struct fc_session_stats gone = { 0 };
	unsigned ngone = 0;

	fc_capture_stats(cap, &cs);
	fc_hist_merge(&r->publish_total, &cs.publish);
	fc_hist_merge(&r->encode_total, &cs.encode);
	r->captured.total = cs.captured;
	r->encoded.total = cs.encoded;
	fps = summary ? (t > 0 ? (double)cs.captured / t : 0) : fc_meter_rate(&r->captured, now);
	efps = summary ? (t > 0 ? (double)cs.encoded / t : 0) : fc_meter_rate(&r->encoded, now);
	enc = summary ? &r->publish_total : &cs.publish;
	encode = summary ? &r->encode_total : &cs.encode;
	published = cs.encoded + cs.passed;

	len = (size_t)snprintf(
	    line, sizeof(line),
	    "%scapture %5.1f fps, encoded %5.1f fps in %.1f ms p50 %.1f max, "
	    "capture-to-publish %.1f ms p50 %.1f max, "
	    "%.1f KB/frame, %d viewer%s",
	    summary ? "summary: " : "", fps, efps, (double)fc_hist_quantile(encode, 0.5) / 1e6,
	    (double)encode->max / 1e6, (double)fc_hist_quantile(enc, 0.5) / 1e6,
	    (double)enc->max / 1e6, published ? (double)cs.bytes / (double)published / 1024 : 0.0,
	    nv, nv == 1 ? "" : "s");
	if (cs.broken || cs.dropped || cs.lost_events)
		len += (size_t)snprintf(
		    line + len, sizeof(line) - len,
		    ", camera: %llu broken, %llu dropped, lost %llu time%s",
		    (unsigned long long)cs.broken, (unsigned long long)cs.dropped,
		    (unsigned long long)cs.lost_events, cs.lost_events == 1 ? "" : "s");
	if (summary) {
		ngone = fc_server_departed(srv, &gone);
		len += (size_t)snprintf(
		    line + len, sizeof(line) - len,
		    " at the end; %u left earlier, sent %llu frames, shown %llu, "
		    "late %llu, too old to send %llu",
		    ngone, (unsigned long long)gone.sent, (unsigned long long)gone.accepted,
		    (unsigned long long)gone.late, (unsigned long long)gone.too_old);
	}
	fc_json_begin(&j);
	fc_json_num(&j, "t", t, 3);
	fc_json_bool(&j, "summary", summary);
	if (summary) {
		fc_json_uint(&j, "departed_viewers", ngone);
		fc_json_uint(&j, "departed_sent", gone.sent);
		fc_json_uint(&j, "departed_accepted", gone.accepted);
		fc_json_uint(&j, "departed_late", gone.late);
		fc_json_uint(&j, "departed_too_old", gone.too_old);
	}
	fc_json_uint(&j, "captured", cs.captured);
	fc_json_uint(&j, "encoded", cs.encoded);
	fc_json_uint(&j, "passed_through", cs.passed);
	fc_json_uint(&j, "broken", cs.broken);
	fc_json_uint(&j, "dropped", cs.dropped);
	fc_json_uint(&j, "camera_lost", cs.lost_events);
	fc_json_uint(&j, "encode_failed", cs.failed);
	fc_json_uint(&j, "behind", cs.behind);
	fc_json_num(&j, "capture_fps", fps, 2);
	fc_json_num(&j, "encoded_fps", efps, 2);
	fc_json_num(&j, "encode_ms_p50", (double)fc_hist_quantile(encode, 0.5) / 1e6, 3);
	fc_json_num(&j, "encode_ms_max", (double)encode->max / 1e6, 3);
	fc_json_num(&j, "publish_ms_p50", (double)fc_hist_quantile(enc, 0.5) / 1e6, 3);
	fc_json_num(&j, "publish_ms_max", (double)enc->max / 1e6, 3);
	fc_json_uint(&j, "bytes", cs.bytes);
	fc_json_array(&j, "viewers");
	for (int i = 0; i < nv; i++) {
		struct prev_viewer p = prev_of(r, v[i].id);
		double vfps = dt > 0 ? (double)(v[i].s.sent - p.sent) / dt : 0;
		double late_fps = dt > 0 ? (double)(v[i].s.late - p.late) / dt : 0;
		double old_fps = dt > 0 ? (double)(v[i].s.too_old - p.too_old) / dt : 0;

		/* Per viewer: what it was sent, what it said it rejected as late (its VERDICTs),
		 * and the frames this sender did not send because they were already too old. */
		if (len < sizeof(line))
			len += (size_t)snprintf(
			    line + len, sizeof(line) - len,
			    " | #%u %s sent %.1f fps, shown %llu, rejected %llu (%.1f/s), "
			    "too old to send %llu (%.1f/s)",
			    v[i].id, v[i].peer, vfps, (unsigned long long)v[i].s.accepted,
			    (unsigned long long)v[i].s.late, late_fps,
			    (unsigned long long)v[i].s.too_old, old_fps);
		fc_json_object(&j, NULL);
		fc_json_uint(&j, "id", v[i].id);
		fc_json_str(&j, "peer", v[i].peer);
		fc_json_uint(&j, "sent", v[i].s.sent);
		fc_json_num(&j, "sent_fps", vfps, 2);
		fc_json_uint(&j, "bytes", v[i].s.bytes);
		fc_json_uint(&j, "accepted", v[i].s.accepted);
		fc_json_uint(&j, "late", v[i].s.late);
		fc_json_uint(&j, "too_old", v[i].s.too_old);
		fc_json_num(&j, "late_fps", late_fps, 2);
		fc_json_num(&j, "too_old_fps", old_fps, 2);
		fc_json_num(&j, "last_bound_ms", (double)v[i].s.last_bound_us / 1000.0, 3);
		fc_json_end(&j);
	}
	fc_json_end(&j);
	r->nprev = nv;
	for (int i = 0; i < nv; i++)
		r->prev[i] = (struct prev_viewer){ .id = v[i].id,
						   .sent = v[i].s.sent,
						   .late = v[i].s.late,
						   .too_old = v[i].s.too_old };
	r->last_ns = now;
	if (!quiet || summary)
		fc_info("%s", line);
	if (r->json) {
		const char *s = fc_json_finish(&j);

		if (s) {
			fputs(s, r->json);
			fflush(r->json);
		}
	}
}

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
	struct reporter rep = { 0 };
	struct fc_server_cfg scfg;
	struct fc_secure_psk *psk = NULL;
	char err[256];
	char warn[256];
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
	if (!psk && !o.dial && !o.insecure && fc_secure_exposed(o.addr.host))
		fc_warn("listening on %s without a passphrase: anyone who can reach this port can "
			"watch the stream, and anyone on the path can read it; give one "
			"(--passphrase-file FILE or FRESHCAM_PASSPHRASE), or --insecure if you "
			"mean it",
			fc_net_addr_str(&o.addr, where, sizeof(where)));
	/* Threads inherit this mask, so only the main thread ever takes these signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.stats_json) {
		rep.json = strcmp(o.stats_json, "-") == 0 ? stdout : fopen(o.stats_json, "w");
		if (!rep.json) {
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

	rep.start_ns = rep.last_ns = fc_clock_now_ns();
	fc_hist_reset(&rep.publish_total);
	fc_hist_reset(&rep.encode_total);
	fc_meter_init(&rep.captured, rep.start_ns);
	fc_meter_init(&rep.encoded, rep.start_ns);
	if (o.seconds > 0)
		end_ns = rep.start_ns + (uint64_t)(o.seconds * 1e9);
	next_report = rep.start_ns + FC_NS_PER_S;
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
			report(&rep, cap, srv, o.quiet, false);
			next_report += FC_NS_PER_S;
		}
	}
	report(&rep, cap, srv, o.quiet, true);
	status = 0;
out:
	fc_server_stop(srv);
	fc_capture_stop(cap);
	fc_slot_free(slot);
	fc_secure_psk_free(psk);
	if (rep.json && rep.json != stdout)
		fclose(rep.json);
	return status;
}
