/* options: freshcam-send's command line. See options.h. */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "opt.h"
#include "proto.h"
#include "server.h"
#include "station.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: freshcam-send [OPTIONS]\n"
	    "Stream a camera to freshcam-view, never a stale frame.\n"
	    "\n"
	    "What it captures:\n"
	    "  -d, --device PATH         a V4L2 camera, e.g. /dev/video0 (default: the test pattern)\n"
	    "      --photo FILE.jpg      no camera: a still photograph scaled to --size, with sensor\n"
	    "                            noise and the stamp (camera-like pictures for benchmarks)\n"
	    "  -f, --format FMT          auto | mjpeg | yuyv (default auto: the camera's own MJPEG\n"
	    "                            when it offers the size and rate, else YUYV encoded here)\n"
	    "      --list-devices        list the cameras and exit\n"
	    "      --list-formats [PATH] what a camera offers (default /dev/video0), then exit\n"
	    "Where viewers reach it:\n"
	    "  -l, --listen [ADDR:]PORT  wait for viewers on PORT (default: %d, all addresses)\n"
	    "  -c, --connect HOST:PORT   dial a viewer started with --listen instead (camera behind NAT)\n"
	    "      --max-viewers N       serve at most N viewers at once (default 8, 1..64)\n"
	    "      --passphrase-file FILE  a private stream: only viewers with the same passphrase\n"
	    "                            watch, and the wire is encrypted (or FRESHCAM_PASSPHRASE;\n"
	    "                            never on the command line)\n"
	    "      --insecure            no warning for listening beyond this host without one\n"
	    "      --name NAME           this camera's name, which viewers show and file its\n"
	    "                            recordings under (default: the host name)\n"
	    "      --allow-control       viewers may list and set the camera's controls and take\n"
	    "                            stills (freshcam-view --control, --still); off by default\n"
	    "Browsers and other programs (HTTP, off unless asked):\n"
	    "      --http [ADDR:]PORT    the live page at /, MJPEG at /stream, /snapshot, /state\n"
	    "                            (PORT alone: 127.0.0.1 only; 0.0.0.0:PORT: every address)\n"
	    "      --http-root DIR       serve the page's files from DIR instead of the built-in ones\n"
	    "      --print-http-token    print the token programs send to HTTP when there is a\n"
	    "                            passphrase (Authorization: Bearer, or ?token=), and exit\n"
	    "      --data-in PATH|-      JSON documents to send with the frames, one a line: on a\n"
	    "                            Unix socket made at PATH (viewers' results come back on\n"
	    "                            it), an existing FIFO, or - (standard input; results to\n"
	    "                            standard output)\n"
	    "What it sends:\n"
	    "  -s, --size WxH            picture size (default 640x480; a camera snaps to its nearest)\n"
	    "  -r, --fps N               frames per second (default 30; fractions allowed)\n"
	    "  -q, --quality Q           JPEG quality 1..100 when encoding here (default 80)\n"
	    "      --encoders N          threads encoding each frame, a band each, so that a frame\n"
	    "                            is ready sooner (1..8; default auto: more than one only\n"
	    "                            when one cannot keep up, at most one per core, up to 4)\n"
	    "      --adapt on|off        fit each viewer's frames to its link: smaller or softer\n"
	    "                            pictures for slow links, so they stay fresh (default on);\n"
	    "                            off: the full picture to everyone\n"
	    "      --parts on|off        send each frame while it is encoded, to viewers that take\n"
	    "                            frames in parts (default on)\n"
	    "Running:\n"
	    "  -t, --seconds N           stop after N seconds (default: run until Ctrl-C)\n"
	    "      --stats-json FILE     also write the per-second figures as JSON lines (- = stdout)\n"
	    "      --stats-every SECONDS the figures (line and JSON) every SECONDS instead of every\n"
	    "                            second, each over its interval (e.g. 60 for a service)\n"
	    "      --quiet               no per-second line (errors and warnings still show)\n"
	    "  -h, --help                this text\n"
	    "  -V, --version             the version and the protocol it speaks\n"
	    "\n"
	    "Examples:\n"
	    "  freshcam-send                                 test pattern to viewers on port %d\n"
	    "  freshcam-send -d /dev/video0 -s 1280x720      a webcam, its MJPEG if it has it\n"
	    "  freshcam-send --size 1280x720 --fps 30 -q 85   a bigger picture\n"
	    "  freshcam-send --connect 192.168.1.20:%d      dial a viewer that listens\n"
	    "Then, on the viewing machine: freshcam-view --connect THIS_HOST:%d\n",
	    FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT);
}

enum {
	OPT_MAX_VIEWERS = 256,
	OPT_STATS_JSON,
	OPT_QUIET,
	OPT_LIST_DEVICES,
	OPT_LIST_FORMATS,
	OPT_PHOTO,
	OPT_PASSPHRASE_FILE,
	OPT_INSECURE,
	OPT_ENCODERS,
	OPT_ADAPT,
	OPT_STATS_EVERY,
	OPT_HTTP,
	OPT_HTTP_ROOT,
	OPT_PRINT_HTTP_TOKEN,
	OPT_NAME,
	OPT_ALLOW_CONTROL,
	OPT_DATA_IN,
	OPT_PARTS,
};

static const struct option longopts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "format", required_argument, NULL, 'f' },
	{ "photo", required_argument, NULL, OPT_PHOTO },
	{ "data-in", required_argument, NULL, OPT_DATA_IN },
	{ "list-devices", no_argument, NULL, OPT_LIST_DEVICES },
	{ "list-formats", optional_argument, NULL, OPT_LIST_FORMATS },
	{ "listen", required_argument, NULL, 'l' },
	{ "connect", required_argument, NULL, 'c' },
	{ "max-viewers", required_argument, NULL, OPT_MAX_VIEWERS },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "allow-control", no_argument, NULL, OPT_ALLOW_CONTROL },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "http-root", required_argument, NULL, OPT_HTTP_ROOT },
	{ "print-http-token", no_argument, NULL, OPT_PRINT_HTTP_TOKEN },
	{ "size", required_argument, NULL, 's' },
	{ "fps", required_argument, NULL, 'r' },
	{ "quality", required_argument, NULL, 'q' },
	{ "encoders", required_argument, NULL, OPT_ENCODERS },
	{ "adapt", required_argument, NULL, OPT_ADAPT },
	{ "parts", required_argument, NULL, OPT_PARTS },
	{ "seconds", required_argument, NULL, 't' },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "stats-every", required_argument, NULL, OPT_STATS_EVERY },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* What the parse carries from one option to the next, and to the checks at the end. */
struct parse {
	int argc;
	char **argv;
	bool have_listen;
	char err[256];
};

/* An option's handler: 0 taken, -1 bad (p->err says why), 1 not one of its options. */
#define NOT_MINE 1

static int parse_format(const char *text, enum fc_v4l2_want *want, char *err, size_t errlen)
{
	static const char *const names[] = {
		[FC_V4L2_AUTO] = "auto", [FC_V4L2_MJPEG] = "mjpeg", [FC_V4L2_YUYV] = "yuyv"
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i]) == 0) {
			*want = (enum fc_v4l2_want)i;
			return 0;
		}
	}
	snprintf(err, errlen, "--format '%s': expected auto, mjpeg or yuyv", text);
	return -1;
}

/* What it captures: the camera, its format, a photo, or the listings. */
static int source_option(int c, struct parse *p, struct fc_send_options *o)
{
	switch (c) {
	case 'd':
		o->capture.device = optarg;
		return 0;
	case 'f':
		return parse_format(optarg, &o->capture.want, p->err, sizeof(p->err));
	case OPT_PHOTO:
		o->capture.photo = optarg;
		return 0;
	case OPT_DATA_IN:
		o->data_in = optarg;
		return 0;
	case OPT_LIST_DEVICES:
		o->list_devices = true;
		return 0;
	case OPT_LIST_FORMATS:
		/* getopt only takes an attached optional argument (--list-formats=PATH); take a
		 * following word too, as people type it. */
		if (optarg)
			o->list_formats = optarg;
		else if (optind < p->argc && p->argv[optind][0] != '-')
			o->list_formats = p->argv[optind++];
		else
			o->list_formats = "/dev/video0";
		return 0;
	default:
		return NOT_MINE;
	}
}

/* --http [ADDR:]PORT: a bare port is this host only (no surprise exposure on a robot's LAN). */
static int http_option(int c, struct parse *p, struct fc_send_options *o)
{
	switch (c) {
	case OPT_HTTP:
		o->http = true;
		if (fc_net_parse_addr(optarg, FC_NET_HOST_OPTIONAL, &o->http_addr, p->err,
				      sizeof(p->err)) < 0)
			return -1;
		/* Every address only when asked in so many words: 0.0.0.0, [::] or *. */
		if (!o->http_addr.host[0])
			snprintf(o->http_addr.host, sizeof(o->http_addr.host), "127.0.0.1");
		else if (strcmp(o->http_addr.host, "*") == 0 ||
			 strcmp(o->http_addr.host, "0.0.0.0") == 0 ||
			 strcmp(o->http_addr.host, "::") == 0)
			o->http_addr.host[0] = '\0';
		return 0;
	case OPT_PRINT_HTTP_TOKEN:
		o->print_http_token = true;
		return 0;
	case OPT_HTTP_ROOT:
		o->http_root = optarg;
		return 0;
	default:
		return NOT_MINE;
	}
}

/* Where viewers reach it, and who may. */
static int network_option(int c, struct parse *p, struct fc_send_options *o)
{
	long n = 0;
	int rc;

	switch (c) {
	case 'l':
		p->have_listen = true;
		return fc_net_parse_addr(optarg, 1, &o->addr, p->err, sizeof(p->err));
	case 'c':
		o->dial = true;
		return fc_net_parse_addr(optarg, 0, &o->addr, p->err, sizeof(p->err));
	case OPT_MAX_VIEWERS:
		rc = fc_opt_int("--max-viewers", optarg, 1, FC_SERVER_MAX_VIEWERS, &n, p->err,
				sizeof(p->err));
		o->max_viewers = (int)n;
		return rc;
	case OPT_PASSPHRASE_FILE:
		o->passphrase_file = optarg;
		return 0;
	case OPT_INSECURE:
		o->insecure = true;
		return 0;
	case OPT_NAME:
		o->name = optarg;
		return fc_station_check("--name", optarg, p->err, sizeof(p->err));
	case OPT_ALLOW_CONTROL:
		o->allow_control = true;
		return 0;
	default:
		return http_option(c, p, o);
	}
}

/* What it sends: the picture's size, rate and quality, its encoders, the renditions. */
static int picture_option(int c, struct parse *p, struct fc_send_options *o)
{
	struct fc_capture_cfg *cap = &o->capture;
	long n = 0;
	double d = 0;
	int rc;

	switch (c) {
	case 's':
		return fc_opt_size("--size", optarg, 64, 8192, &cap->width, &cap->height, p->err,
				   sizeof(p->err));
	case 'r':
		rc = fc_opt_double("--fps", optarg, 0.1, 1000, &d, p->err, sizeof(p->err));
		cap->fps_milli = (int)(d * 1000 + 0.5);
		return rc;
	case 'q':
		rc = fc_opt_int("--quality", optarg, 1, 100, &n, p->err, sizeof(p->err));
		cap->quality = (int)n;
		return rc;
	case OPT_ENCODERS:
		rc = strcmp(optarg, "auto") == 0
			 ? 0
			 : fc_opt_int("--encoders", optarg, 1, FC_ENCODER_MAX_THREADS, &n, p->err,
				      sizeof(p->err));
		cap->encoders = (int)n; /* 0: auto */
		return rc;
	case OPT_ADAPT:
		return fc_opt_bool("--adapt", optarg, &cap->renditions, p->err, sizeof(p->err));
	case OPT_PARTS:
		return fc_opt_bool("--parts", optarg, &o->parts, p->err, sizeof(p->err));
	default:
		return NOT_MINE;
	}
}

/* Running: how long, where the figures go, --help and --version (which print and exit). */
static int running_option(int c, struct parse *p, struct fc_send_options *o)
{
	switch (c) {
	case 't':
		return fc_opt_double("--seconds", optarg, 0, 1e9, &o->seconds, p->err,
				     sizeof(p->err));
	case OPT_STATS_JSON:
		o->stats_json = optarg;
		return 0;
	case OPT_STATS_EVERY:
		return fc_opt_double("--stats-every", optarg, 0.1, 86400, &o->stats_every, p->err,
				     sizeof(p->err));
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("freshcam-send %s (freshcam protocol %d)\n", FC_VERSION, FC_PROTO_VERSION);
		exit(0);
	default:
		return NOT_MINE;
	}
}

/* What no single option can tell: leftover words, a picture too large, options that exclude
 * each other. */
static int check(const struct parse *p, const struct fc_send_options *o)
{
	if (optind < p->argc) {
		fprintf(stderr,
			"freshcam-send: unexpected argument '%s'. Try 'freshcam-send --help'.\n",
			p->argv[optind]);
		return -1;
	}
	if ((long)o->capture.width * o->capture.height > FC_PROTO_MAX_PIXELS) {
		fprintf(stderr,
			"freshcam-send: --size %dx%d: more than the %d pixels a viewer takes\n",
			o->capture.width, o->capture.height, FC_PROTO_MAX_PIXELS);
		return -1;
	}
	if (o->capture.photo && o->capture.device) {
		fprintf(stderr, "freshcam-send: --photo and --device exclude each other: a photo "
				"stands in for a camera\n");
		return -1;
	}
	if (o->http_root && !o->http) {
		fprintf(stderr, "freshcam-send: --http-root needs --http [ADDR:]PORT\n");
		return -1;
	}
	if (p->have_listen && o->dial) {
		fprintf(stderr, "freshcam-send: --listen and --connect exclude each other: either "
				"viewers dial this sender, or it dials one viewer\n");
		return -1;
	}
	return 0;
}

int fc_send_options_parse(int argc, char **argv, struct fc_send_options *o)
{
	struct parse p = { .argc = argc, .argv = argv };
	int c;

	*o = (struct fc_send_options){
		.addr = { .port = FC_NET_DEFAULT_PORT },
		.capture = { .width = 640,
			     .height = 480,
			     .fps_milli = 30000,
			     .quality = 80,
			     .renditions = true },
		.max_viewers = 8,
		.stats_every = 1,
		.parts = true,
	};
	while ((c = getopt_long(argc, argv, "d:f:l:c:s:r:q:t:hV", longopts, NULL)) != -1) {
		int rc = source_option(c, &p, o);

		if (rc == NOT_MINE)
			rc = network_option(c, &p, o);
		if (rc == NOT_MINE)
			rc = picture_option(c, &p, o);
		if (rc == NOT_MINE)
			rc = running_option(c, &p, o);
		if (rc == NOT_MINE) {
			fprintf(stderr, "Try 'freshcam-send --help'.\n");
			return -1;
		}
		if (rc < 0) {
			fprintf(stderr, "freshcam-send: %s\n", p.err);
			return -1;
		}
	}
	return check(&p, o);
}
