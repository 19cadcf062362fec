/* options: freshcam-view's command line. See options.h. */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opt.h"
#include "proto.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: freshcam-view [OPTIONS] [HOST[:PORT]...]\n"
	    "Show a freshcam-send stream and never a stale frame: every frame whose age bound is\n"
	    "over the budget is rejected and counted.\n"
	    "\n"
	    "Where the sender is:\n"
	    "  -c, --connect HOST[:PORT]  dial the sender (default 127.0.0.1:%d)\n"
	    "                             (several senders: one tile each, up to 16)\n"
	    "  -l, --listen [ADDR:]PORT   wait for senders started with --connect instead (any\n"
	    "                             number dial in, up to 16: one tile each, by name)\n"
	    "      --passphrase-file FILE the sender's passphrase, for a private stream (or\n"
	    "                             FRESHCAM_PASSPHRASE; never on the command line)\n"
	    "      --insecure             --listen: no warning for listening beyond this host\n"
	    "                             without a passphrase\n"
	    "      --forget SECONDS       --listen: a sender gone this long loses its tile, its\n"
	    "                             recording is finished (default 60; 0: kept until the end)\n"
	    "      --transport tcp|udp    udp: frames as datagrams, from a sender started with\n"
	    "                             --transport udp (else TCP, said in the log): a lost packet\n"
	    "                             costs its frame only, not every frame behind it; for lossy\n"
	    "                             links (Wi-Fi, the Internet). tcp (default): lossless links\n"
	    "      --udp-port N           --transport udp: take datagrams on port N (default: any\n"
	    "                             free port; N for a firewall rule, with one sender)\n"
	    "Freshness:\n"
	    "  -a, --max-age MS           the age budget in milliseconds (default 80)\n"
	    "  -w, --window N             requests kept in flight at most, 1..%d (default 4); the\n"
	    "                             viewer starts at 2 and keeps the number that gets the\n"
	    "                             most frames accepted: fewer on a narrow link, more on a\n"
	    "                             long round trip\n"
	    "      --adapt on|off         on (default): the sender fits the frames to this link, a\n"
	    "                             smaller or softer picture when it must, so that they stay\n"
	    "                             fresh; off: the full picture always (late ones rejected)\n"
	    "      --parts on|off         on (default): take frames in parts, decoded while they\n"
	    "                             arrive (a sender of version 6 sends them while it\n"
	    "                             encodes); off: whole frames only\n"
	    "      --min-size WxH         never a picture smaller than this (or the full one, when\n"
	    "                             that is smaller)\n"
	    "      --min-quality Q        never a JPEG quality below Q (1..100)\n"
	    "      --clock proven|synced[:ERROR_MS]|request\n"
	    "                             proven (default): bound ages by what the exchanges prove\n"
	    "                             about the two clocks; synced: both hosts' wall clocks\n"
	    "                             agree to within ERROR_MS (default 1; PTP or chrony), which\n"
	    "                             tightens the bound on a long link; checked against the\n"
	    "                             exchanges, and dropped if they contradict it; request:\n"
	    "                             each frame's own round trip only (looser; for comparison)\n"
	    "Output:\n"
	    "      --headless             no window, only the console (automatic without a display)\n"
	    "  -t, --seconds N            stop after N seconds (default: until Ctrl-C or q)\n"
	    "      --stats-json FILE      also write the per-second figures as JSON lines (- = stdout)\n"
	    "      --check-stamps         read each shown frame's stamp and report its true age (only\n"
	    "                             meaningful with the sender on this host: same clock)\n"
	    "      --quiet                no per-second line (the summary still shows)\n"
	    "      --record PATH          keep every accepted frame as received: PATH is a directory\n"
	    "                             (numbered JPEG files and index.csv) or a new .mkv, .mp4 or\n"
	    "                             .avi file (the JPEGs stream-copied); see docs/RECORDING.md\n"
	    "      --segment SECONDS      --record DIR: one .mkv file per SECONDS, named by its\n"
	    "                             start (UTC), for a recorder that runs for days\n"
	    "      --keep SIZE|AGE        with --segment: remove the oldest segments when they\n"
	    "                             total more than SIZE (500MB, 20GB) or are older than AGE\n"
	    "                             (90m, 24h, 7d); both may be given; never the one being\n"
	    "                             written\n"
	    "Camera controls (the sender needs --allow-control):\n"
	    "      --list-controls        print the camera's controls, one JSON object per line\n"
	    "                             (name, range, menu, value), then exit\n"
	    "      --control NAME=VALUE   set a control once connected (repeatable), e.g.\n"
	    "                             --control brightness=40; the sender checks its range\n"
	    "      --still [PATH.jpg]     save the full-size picture once connected (default\n"
	    "                             still-SEQ.jpg), with its metadata in PATH.jpg.json; the\n"
	    "                             window's s key takes one too\n"
	    "      --data-out PATH        the JSON documents that come with accepted frames, one a\n"
	    "                             line, on a Unix socket made at PATH (a program there may\n"
	    "                             write results back for the sender), or an existing FIFO\n"
	    "      --data-overlay         draw each shown frame's document small at the bottom of\n"
	    "                             its picture (a few lines, cut with ...); the window's d\n"
	    "                             key turns it on and off\n"
	    "  -h, --help                 this text\n"
	    "  -V, --version              the version and the protocol it speaks\n"
	    "\n"
	    "Examples:\n"
	    "  freshcam-view                                  the sender on this host\n"
	    "  freshcam-view camera-pi.local --max-age 120    a sender elsewhere, a looser budget\n"
	    "  freshcam-view --listen %d --headless         let a sender behind NAT dial in\n"
	    "  freshcam-view robot1 robot2 robot3             three cameras, one window\n"
	    "  freshcam-view --seconds 10 --stats-json -      ten seconds of figures for a script\n"
	    "  freshcam-view --record clip.mkv                watch and record (stop with Ctrl-C)\n"
	    "  freshcam-view cam --control focus_absolute=40 --still shot.jpg\n"
	    "                                                 steer the camera, keep a still\n",
	    FC_NET_DEFAULT_PORT, FC_PROTO_MAX_WINDOW, FC_NET_DEFAULT_PORT);
}

/* --clock proven | synced | synced:ERROR_MS | request */
static int parse_clock(const char *text, struct fc_view_options *o, char *err, size_t errlen)
{
	o->clock = FC_CLOCK_PROVEN;
	o->synced_error_ms = 1;
	if (strcmp(text, "proven") == 0)
		return 0;
	if (strcmp(text, "request") == 0) {
		o->clock = FC_CLOCK_REQUEST;
		return 0;
	}
	if (strncmp(text, "synced", 6) == 0 && (text[6] == '\0' || text[6] == ':')) {
		o->clock = FC_CLOCK_SYNCED;
		if (text[6] == '\0')
			return 0;
		return fc_opt_double("--clock synced:ERROR_MS", text + 7, 0.001, 10000,
				     &o->synced_error_ms, err, errlen);
	}
	snprintf(
	    err, errlen,
	    "--clock '%s': expected proven, synced, synced:ERROR_MS (e.g. synced:0.5) or request",
	    text);
	return -1;
}

enum {
	OPT_HEADLESS = 256,
	OPT_STATS_JSON,
	OPT_CHECK_STAMPS,
	OPT_QUIET,
	OPT_RECORD,
	OPT_PASSPHRASE_FILE,
	OPT_INSECURE,
	OPT_ADAPT,
	OPT_PARTS,
	OPT_MIN_SIZE,
	OPT_MIN_QUALITY,
	OPT_CLOCK,
	OPT_SEGMENT,
	OPT_KEEP,
	OPT_FORGET,
	OPT_LIST_CONTROLS,
	OPT_CONTROL,
	OPT_STILL,
	OPT_DATA_OUT,
	OPT_DATA_OVERLAY,
	OPT_TRANSPORT,
	OPT_UDP_PORT,
};

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
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "forget", required_argument, NULL, OPT_FORGET },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "udp-port", required_argument, NULL, OPT_UDP_PORT },
	{ "adapt", required_argument, NULL, OPT_ADAPT },
	{ "parts", required_argument, NULL, OPT_PARTS },
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
	{ "min-quality", required_argument, NULL, OPT_MIN_QUALITY },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "segment", required_argument, NULL, OPT_SEGMENT },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "list-controls", no_argument, NULL, OPT_LIST_CONTROLS },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "still", optional_argument, NULL, OPT_STILL },
	{ "data-out", required_argument, NULL, OPT_DATA_OUT },
	{ "data-overlay", no_argument, NULL, OPT_DATA_OVERLAY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* Each group's parser takes one option of its group (0, or -1 with the reason in err), and
 * answers 1 for an option of another group. */

/* Where the sender is: --connect, --listen, --passphrase-file, --insecure, --forget,
 * --transport, --udp-port. */
static int parse_where(int c, const char *arg, struct fc_view_options *o, const char **target,
		       char *err, size_t errlen)
{
	switch (c) {
	case 'c':
		*target = arg;
		return 0;
	case 'l':
		o->listen = true;
		return fc_net_parse_addr(arg, 1, &o->addr, err, errlen);
	case OPT_PASSPHRASE_FILE:
		o->passphrase_file = arg;
		return 0;
	case OPT_INSECURE:
		o->insecure = true;
		return 0;
	case OPT_FORGET:
		return fc_opt_double("--forget", arg, 0, 1e6, &o->forget_s, err, errlen);
	case OPT_TRANSPORT:
		if (strcmp(arg, "tcp") != 0 && strcmp(arg, "udp") != 0) {
			snprintf(err, errlen, "--transport %s: tcp or udp", arg);
			return -1;
		}
		o->udp = strcmp(arg, "udp") == 0;
		return 0;
	case OPT_UDP_PORT: {
		long n = 0;
		int rc = fc_opt_int("--udp-port", arg, 1, 65535, &n, err, errlen);

		o->udp_port = (uint16_t)n;
		return rc;
	}
	}
	return 1;
}

/* Freshness: --max-age, --window, --adapt, --parts, --min-size, --min-quality, --clock. */
static int parse_freshness(int c, const char *arg, struct fc_view_options *o, char *err,
			   size_t errlen)
{
	long n = 0;
	int rc;

	switch (c) {
	case 'a':
		return fc_opt_double("--max-age", arg, 0.001, 60000, &o->max_age_ms, err, errlen);
	case 'w':
		rc = fc_opt_int("--window", arg, 1, FC_PROTO_MAX_WINDOW, &n, err, errlen);
		o->window = (unsigned)n;
		return rc;
	case OPT_ADAPT:
		return fc_opt_bool("--adapt", arg, &o->adapt, err, errlen);
	case OPT_PARTS:
		return fc_opt_bool("--parts", arg, &o->parts, err, errlen);
	case OPT_MIN_SIZE:
		return fc_opt_size("--min-size", arg, 2, FC_PROTO_MAX_DIM, &o->min_width,
				   &o->min_height, err, errlen);
	case OPT_MIN_QUALITY:
		rc = fc_opt_int("--min-quality", arg, 1, 100, &n, err, errlen);
		o->min_quality = (int)n;
		return rc;
	case OPT_CLOCK:
		return parse_clock(arg, o, err, errlen);
	}
	return 1;
}

/* --keep SIZE|AGE: a number and its unit, decimal sizes (KB, MB, GB, TB) or times (s, m, h, d). */
static int parse_keep(const char *text, struct fc_view_options *o, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		double factor;
		bool bytes;
	} units[] = {
		{ "KB", 1e3, true },  { "MB", 1e6, true },   { "GB", 1e9, true },
		{ "TB", 1e12, true }, { "s", 1, false },     { "m", 60, false },
		{ "h", 3600, false }, { "d", 86400, false },
	};
	char *end = NULL;
	double v = strtod(text, &end);

	for (size_t i = 0; end != text && v > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) != 0 || v * units[i].factor > 1e15)
			continue;
		if (units[i].bytes)
			o->keep_bytes = (uint64_t)(v * units[i].factor);
		else
			o->keep_s = (uint64_t)(v * units[i].factor + 0.5);
		if (o->keep_bytes || o->keep_s)
			return 0;
	}
	snprintf(err, errlen, "--keep '%s': expected a size (500MB, 20GB) or an age (90m, 24h, 7d)",
		 text);
	return -1;
}

/* Output: --headless, --seconds, --stats-json, --check-stamps, --quiet, --record, --segment,
 * --keep. */
static bool still_path_word(const char *w)
{
	size_t n = strlen(w);

	return (n > 4 && strcmp(w + n - 4, ".jpg") == 0) ||
	       (n > 5 && strcmp(w + n - 5, ".jpeg") == 0);
}

/* The camera commands (viewer/control/remote.h). 1: not one of them. */
static int parse_camera(int c, const char *arg, struct fc_view_options *o, char *err, size_t errlen)
{
	struct fc_remote_cfg *r = &o->remote;

	switch (c) {
	case OPT_LIST_CONTROLS:
		r->list = true;
		return 0;
	case OPT_CONTROL:
		if (r->nset >= FC_REMOTE_MAX_SETS) {
			snprintf(err, errlen, "--control: at most %d of them", FC_REMOTE_MAX_SETS);
			return -1;
		}
		return fc_remote_parse_set(arg, &r->set[r->nset++], err, errlen);
	case OPT_STILL:
		r->still = true;
		r->still_path = arg;
		return 0;
	}
	return 1;
}

static int parse_output(int c, const char *arg, struct fc_view_options *o, char *err, size_t errlen)
{
	long n = 0;
	int rc;

	switch (c) {
	case OPT_HEADLESS:
		o->headless = true;
		return 0;
	case 't':
		return fc_opt_double("--seconds", arg, 0, 1e9, &o->seconds, err, errlen);
	case OPT_STATS_JSON:
		o->stats_json = arg;
		return 0;
	case OPT_CHECK_STAMPS:
		o->check_stamps = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_RECORD:
		o->record = arg;
		return 0;
	case OPT_SEGMENT:
		rc = fc_opt_int("--segment", arg, 1, 86400, &n, err, errlen);
		o->segment_s = (unsigned)n;
		return rc;
	case OPT_KEEP:
		return parse_keep(arg, o, err, errlen);
	case OPT_DATA_OUT:
		o->data_out = arg;
		return 0;
	case OPT_DATA_OVERLAY:
		o->data_overlay = true;
		return 0;
	}
	return parse_camera(c, arg, o, err, errlen);
}

/* The senders to dial, from --connect and the arguments left: up to FC_VIEW_MAX_SENDERS, and
 * not with --listen; a bare host means the default port. */
static int parse_target(int argc, char **argv, const char *target, struct fc_view_options *o)
{
	char err[256];
	int n = (target ? 1 : 0) + (argc - optind);

	if (n > FC_VIEW_MAX_SENDERS) {
		fprintf(stderr,
			"freshcam-view: at most %d senders at once ('%s' is one too many). "
			"Try 'freshcam-view --help'.\n",
			FC_VIEW_MAX_SENDERS, argv[argc - 1]);
		return -1;
	}
	if (n > 0 && o->listen) {
		fprintf(stderr, "freshcam-view: --listen and a sender to connect to exclude each "
				"other: either this viewer dials, or it is dialled\n");
		return -1;
	}
	o->nsenders = 1;
	o->senders[0] = o->addr;
	for (int i = 0; i < n; i++) {
		const char *text = i == 0 && target ? target : argv[optind + i - (target ? 1 : 0)];

		if (fc_net_parse_addr(text, FC_NET_PORT_OPTIONAL, &o->senders[i], err,
				      sizeof(err)) < 0) {
			fprintf(stderr, "freshcam-view: %s\n", err);
			return -1;
		}
	}
	if (n > 0) {
		o->nsenders = n;
		o->addr = o->senders[0];
	}
	return 0;
}

int fc_view_options_parse(int argc, char **argv, struct fc_view_options *o)
{
	const char *target = NULL;
	char err[256] = "";
	int c;

	*o = (struct fc_view_options){
		.max_age_ms = 80,
		.window = 4,
		.adapt = true,
		.parts = true,
		.clock = FC_CLOCK_PROVEN,
		.synced_error_ms = 1,
		.forget_s = 60,
	};
	snprintf(o->addr.host, sizeof(o->addr.host), "127.0.0.1");
	o->addr.port = FC_NET_DEFAULT_PORT;
	while ((c = getopt_long(argc, argv, "c:l:a:w:t:hV", longopts, NULL)) != -1) {
		int rc;

		/* getopt takes only an attached optional value (--still=PATH); take a following
		 * word that names a JPEG too, as people type it (a host never ends in .jpg). */
		if (c == OPT_STILL && !optarg && optind < argc && still_path_word(argv[optind]))
			optarg = argv[optind++];
		rc = parse_where(c, optarg, o, &target, err, sizeof(err));

		if (rc == 1)
			rc = parse_freshness(c, optarg, o, err, sizeof(err));
		if (rc == 1)
			rc = parse_output(c, optarg, o, err, sizeof(err));
		if (rc == 1 && c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (rc == 1 && c == 'V') {
			printf("freshcam-view %s (freshcam protocol %d)\n", FC_VERSION,
			       FC_PROTO_VERSION);
			exit(0);
		}
		if (rc == 1) {
			fprintf(stderr, "Try 'freshcam-view --help'.\n");
			return -1;
		}
		if (rc < 0) {
			fprintf(stderr, "freshcam-view: %s\n", err);
			return -1;
		}
	}
	if ((o->segment_s && !o->record) || ((o->keep_bytes || o->keep_s) && !o->segment_s)) {
		fprintf(stderr,
			"freshcam-view: --keep needs --segment, and --segment needs --record "
			"DIR: only a directory of segments is rotated\n");
		return -1;
	}
	if (o->udp_port && !o->udp) {
		fprintf(stderr, "freshcam-view: --udp-port needs --transport udp\n");
		return -1;
	}
	return parse_target(argc, argv, target, o);
}
