/*
 * linkemu: a packet-level link between two network namespaces, shaped each way on its own
 * (delay, jitter, reordering, random or bursty loss, duplication, a rate cap behind a bounded
 * queue), for a machine with no netem. README.md says what it does and how well.
 *
 * One thread, one epoll loop. A TUN device in each namespace (tun.h); the IP packets one
 * namespace routes into its device are read, go through that direction's lane (lane.h: the
 * model, pure arithmetic over arrival times) and are written to the other device when the lane
 * lets them go. A timerfd armed at an absolute CLOCK_MONOTONIC time wakes the loop for the next
 * packet due (no polling, no tick). Signals come through a signalfd on this thread: SIGINT and
 * SIGTERM stop, SIGUSR1 prints the counters as a JSON line on stdout. The shape changes while
 * running from the control socket (control.h) or at times given with --at.
 *
 * It logs to stderr one line at start, one per change of shape and one at exit; never per packet.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "json.h"
#include "lane.h"
#include "log.h"
#include "opt.h"
#include "spec.h"
#include "tun.h"

#define LE_AT_MAX	  64
#define LE_SPECS_MAX	  16
#define LE_READS_PER_WAKE 64 /* per device per wake-up: drains a burst, stays fair to the other */
#define LE_EVENTS	  16
#define LE_DEFAULT_LIMIT  10000
#define LE_DEFAULT_DEV	  "linkemu0"
#define LE_MAX_AT_NS	  (86400 * FC_NS_PER_S)
#define LE_SHAPE_TEXT	  256

enum { LE_A2B, LE_B2A };
enum { LE_TAG_TUN_A, LE_TAG_TUN_B, LE_TAG_TIMER, LE_TAG_SIGNAL, LE_TAG_CTL = 16 };

static const char *const le_dir[] = { "a2b", "b2a" };

/* A change of shape at a time after start (--at). */
struct le_at {
	uint64_t at_ns;
	char cmd[LE_CTL_LINE];
};

struct le_options {
	const char *ns[2];
	const char *dev[2];
	const char *addr_text[2];
	uint32_t addr[2];
	int prefix[2];
	long mtu;
	long limit; /* packet slots per direction */
	struct le_shape shape[2];
	const char *control;
	struct le_at at[LE_AT_MAX];
	int nat;
	double seconds; /* 0: until a signal */
	uint64_t seed;
};

/* How late packets were handed to the destination device, against the time the lane said:
 * linkemu's own timing error (wake-up latency, a busy or preempted CPU), not the model's. */
struct le_late {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t over_1ms;
};

struct linkemu {
	struct le_options o;
	struct le_shape shape[2]; /* in force now */
	struct le_lane lane[2];	  /* lane d reads tun[d] and writes tun[1 - d] */
	int tun[2];
	int ep;
	int tfd;
	int sfd;
	struct le_ctl ctl;
	uint64_t start_ns;
	uint64_t armed_ns; /* what the timerfd is set to, 0 for nothing */
	int next_at;	   /* the first --at not yet done */
	uint64_t write_errors[2];
	uint64_t read_errors[2];
	struct le_late late[2];
	bool stop;
	int status; /* the exit status once stopped: 1 after a fatal error */
};

static void le_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: linkemu --ns-a NS --ns-b NS [--addr-a A/N --addr-b B/N] [--a2b SPEC] [--b2a SPEC]\n"
	    "A packet-level link between two network namespaces that exist already (ip netns add):\n"
	    "a TUN device in each, and every IP packet between them delayed, lost, queued and\n"
	    "rate-capped as SPEC says, each direction on its own. Runs until SIGINT or SIGTERM,\n"
	    "then removes the devices and prints its counters as a JSON line on stdout. Needs root.\n"
	    "\n"
	    "The ends:\n"
	    "  --ns-a NS, --ns-b NS      the namespaces: a name under /run/netns, or a path\n"
	    "  --addr-a A/N, --addr-b B/N  each device's IPv4 address and prefix (default: none)\n"
	    "  --dev-a NAME, --dev-b NAME  the devices' names (default " LE_DEFAULT_DEV ")\n"
	    "  --mtu N                   both devices' MTU (default 1500)\n"
	    "The link (a2b: packets from A to B; b2a: back):\n"
	    "  --a2b SPEC, --b2a SPEC    one direction\n"
	    "  --link SPEC               both directions; --a2b and --b2a then change it key by key\n"
	    "  --limit N                 packets held per direction at most (default %d)\n"
	    "SPEC is KEY=VALUE words, in tc's units:\n"
	    "  delay=20ms      fixed one-way delay\n"
	    "  jitter=5ms      a further uniform 0..5ms per packet; packets keep their order\n"
	    "  reorder=5%%      that share skips the delay and overtakes those in flight (netem)\n"
	    "  loss=1%%         random loss\n"
	    "  ge=P,R[,BAD[,GOOD]]  bursty loss, Gilbert-Elliott: P good->bad, R bad->good, the loss\n"
	    "                  in each state (default 100%%, 0%%); ge=1%%,25%% loses bursts of 4 on average\n"
	    "  dup=1%%          send that share of packets twice\n"
	    "  corrupt=1%%      change a byte of that share of UDP datagrams' payloads (checksum\n"
	    "                  made right, so the application gets it; TCP is left alone)\n"
	    "  truncate=1%%     cut that share of UDP datagrams short (lengths, checksums made right)\n"
	    "  rate=20mbit     cap in bits per second of IP packet (kbit, mbit, gbit; kbps = bytes/s)\n"
	    "  queue=50ms      the queue before the cap, drop-tail: a time at the rate (the default,\n"
	    "                  50ms) or a size (64kb, 1500b)\n"
	    "  overhead=14     bytes added to each packet for the rate (link framing)\n"
	    "  clear           back to no shaping, before the words after it\n"
	    "While running:\n"
	    "  --control PATH            a Unix socket taking commands, one per line, answered with one\n"
	    "                            line: 'a2b rate=5mbit', 'b2a delay=30ms', 'both loss=0',\n"
	    "                            'show', 'stats' (the JSON line), 'help'\n"
	    "  --at 'TIME COMMAND'       a command to run TIME after start: --at '5s a2b rate=5mbit'\n"
	    "                            (repeatable)\n"
	    "  -t, --seconds N           stop after N seconds\n"
	    "  -s, --seed N              seed of every random choice (default: from the clock; printed)\n"
	    "  -h, --help, -V, --version\n"
	    "SIGUSR1 prints the counters as a JSON line on stdout, and so does the exit.\n"
	    "\n"
	    "Example: 40 ms of round trip, a 20 Mbit/s uplink with 1%% loss:\n"
	    "  ip netns add fc-a; ip netns add fc-b\n"
	    "  linkemu --ns-a fc-a --ns-b fc-b --addr-a 10.9.0.1/24 --addr-b 10.9.0.2/24 \\\n"
	    "          --a2b 'rate=20mbit delay=20ms loss=1%%' --b2a 'delay=20ms' --control /tmp/le.sock\n"
	    "  ip netns exec fc-a ping 10.9.0.2\n",
	    LE_DEFAULT_LIMIT);
}

static void le_stats_json(struct linkemu *x, const char *event, char *out, size_t len);

/* "ok a2b SHAPE; b2a SHAPE": the whole link as it is now. */
static void le_show(const struct linkemu *x, const char *head, char *reply, size_t len)
{
	char a[LE_SHAPE_TEXT], b[LE_SHAPE_TEXT];

	snprintf(reply, len, "%sa2b %s; b2a %s", head,
		 le_spec_format(&x->shape[LE_A2B], a, sizeof(a)),
		 le_spec_format(&x->shape[LE_B2A], b, sizeof(b)));
}

/* "a2b|b2a|both SPEC": applies SPEC to the directions named, to x->shape and, if apply, to the
 * lanes too (without apply, only checks it: --at at start). */
static int le_reshape(struct linkemu *x, const char *verb, const char *spec, bool apply,
		      char *reply, size_t len)
{
	bool dir[2] = { !strcmp(verb, "a2b") || !strcmp(verb, "both"),
			!strcmp(verb, "b2a") || !strcmp(verb, "both") };
	struct le_shape s[2] = { x->shape[LE_A2B], x->shape[LE_B2A] };
	char err[256];
	char text[LE_SHAPE_TEXT];

	for (int d = LE_A2B; d <= LE_B2A; d++) {
		if (dir[d] && le_spec_apply(&s[d], spec, err, sizeof(err)) < 0) {
			snprintf(reply, len, "error: %s", err);
			return -1;
		}
	}
	if (!apply)
		return 0;
	for (int d = LE_A2B; d <= LE_B2A; d++) {
		if (!dir[d])
			continue;
		x->shape[d] = s[d];
		le_lane_set(&x->lane[d], &s[d]);
		fc_info("%s now %s", le_dir[d], le_spec_format(&s[d], text, sizeof(text)));
	}
	le_show(x, "ok ", reply, len);
	return 0;
}

/* One command from the control socket or --at; the reply is one line, "ok ..." or "error: ...". */
static int le_command(struct linkemu *x, const char *line, bool apply, char *reply, size_t len)
{
	const char *word;
	char verb[16] = "";
	size_t n;

	while (*line == ' ' || *line == '\t')
		line++;
	word = line;
	n = strcspn(line, " \t");
	if (n < sizeof(verb)) {
		memcpy(verb, line, n);
		verb[n] = '\0';
	}
	line += n;
	if (!strcmp(verb, "a2b") || !strcmp(verb, "b2a") || !strcmp(verb, "both"))
		return le_reshape(x, verb, line, apply, reply, len);
	if (!strcmp(verb, "show")) {
		le_show(x, "ok ", reply, len);
		return 0;
	}
	if (!strcmp(verb, "stats")) {
		le_stats_json(x, "request", reply, len);
		return 0;
	}
	if (!strcmp(verb, "help")) {
		snprintf(
		    reply, len,
		    "ok commands: a2b|b2a|both KEY=VALUE... (keys: delay jitter "
		    "rate queue overhead loss ge reorder dup corrupt truncate clear), show, stats");
		return 0;
	}
	snprintf(reply, len,
		 "error: unknown command '%.*s': try 'a2b rate=5mbit', 'both delay=20ms', 'show', "
		 "'stats' or 'help'",
		 (int)(n < 64 ? n : 64), word);
	return -1;
}

static void le_on_control(void *arg, const char *line, char *reply, size_t len)
{
	(void)le_command(arg, line, true, reply, len);
}

static void le_lane_json(struct fc_json *j, const struct linkemu *x, int d)
{
	const struct le_counts *c = &x->lane[d].counts;
	char text[LE_SHAPE_TEXT];

	fc_json_object(j, le_dir[d]);
	fc_json_str(j, "shape", le_spec_format(&x->shape[d], text, sizeof(text)));
	fc_json_uint(j, "received_packets", c->received_packets);
	fc_json_uint(j, "received_bytes", c->received_bytes);
	fc_json_uint(j, "forwarded_packets", c->forwarded_packets);
	fc_json_uint(j, "forwarded_bytes", c->forwarded_bytes);
	fc_json_uint(j, "dropped_loss", c->dropped_loss);
	fc_json_uint(j, "dropped_queue", c->dropped_queue);
	fc_json_uint(j, "dropped_limit", c->dropped_limit);
	fc_json_uint(j, "duplicated", c->duplicated);
	fc_json_uint(j, "reordered", c->reordered);
	fc_json_uint(j, "corrupted", c->corrupted);
	fc_json_uint(j, "truncated", c->truncated);
	fc_json_uint(j, "queue_peak_bytes", c->queue_peak_bytes);
	fc_json_uint(j, "held_packets", le_lane_held(&x->lane[d]));
	fc_json_uint(j, "read_errors", x->read_errors[d]);
	/* A packet the destination device refused: counted forwarded above, but lost. */
	fc_json_uint(j, "write_errors", x->write_errors[d]);
	fc_json_num(
	    j, "late_us_mean",
	    x->late[d].count ? (double)x->late[d].sum_ns / (double)x->late[d].count / 1e3 : 0, 1);
	fc_json_num(j, "late_us_max", (double)x->late[d].max_ns / 1e3, 1);
	fc_json_uint(j, "late_over_1ms", x->late[d].over_1ms);
	fc_json_end(j);
}

/* The counters as one JSON line (no newline) into out; event says why it was asked for. */
static void le_stats_json(struct linkemu *x, const char *event, char *out, size_t len)
{
	static struct fc_json j; /* 32 KiB: not on the stack; one thread */
	const char *line;
	size_t n;

	fc_json_begin(&j);
	fc_json_str(&j, "linkemu", event);
	fc_json_num(&j, "elapsed_s", (double)(fc_clock_now_ns() - x->start_ns) / 1e9, 3);
	fc_json_uint(&j, "seed", x->o.seed);
	le_lane_json(&j, x, LE_A2B);
	le_lane_json(&j, x, LE_B2A);
	line = fc_json_finish(&j);
	if (!line) {
		snprintf(out, len, "{\"linkemu\":\"%s\",\"error\":\"stats overflow\"}", event);
		return;
	}
	n = strcspn(line, "\n");
	snprintf(out, len, "%.*s", (int)n, line);
}

static void le_print_stats(struct linkemu *x, const char *event)
{
	char line[LE_CTL_REPLY];

	le_stats_json(x, event, line, sizeof(line));
	printf("%s\n", line);
	fflush(stdout);
}

/* The spec texts as given, applied once all are read: --link first, then each direction. */
struct le_specs_list {
	const char *text[LE_SPECS_MAX];
	int n;
};

enum { LE_SP_LINK, LE_SP_A2B, LE_SP_B2A, LE_SP_AT };

struct le_specs {
	struct le_specs_list list[4]; /* by LE_SP_ */
};

static int le_apply_specs(struct le_options *o, const struct le_specs *sp, char *err, size_t errlen)
{
	static const char *const opt[] = { "--link", "--a2b", "--b2a", "--at" };
	char why[256];

	for (int d = LE_A2B; d <= LE_B2A; d++) {
		le_spec_default(&o->shape[d]);
		const int order[2] = { LE_SP_LINK, d == LE_A2B ? LE_SP_A2B : LE_SP_B2A };

		for (int k = 0; k < 2; k++) {
			const struct le_specs_list *l = &sp->list[order[k]];

			for (int i = 0; i < l->n; i++) {
				if (le_spec_apply(&o->shape[d], l->text[i], why, sizeof(why)) < 0) {
					snprintf(err, errlen, "%s '%s': %s", opt[order[k]],
						 l->text[i], why);
					return -1;
				}
			}
		}
	}
	return 0;
}

/* --at 'TIME COMMAND': checked now (x->shape as at start), run later in time order. */
static int le_add_at(struct linkemu *x, const char *text, char *err, size_t errlen)
{
	struct le_options *o = &x->o;
	char when[32] = "", why[300];
	size_t n = strcspn(text, " \t");
	struct le_at at;
	int i;

	if (o->nat == LE_AT_MAX) {
		snprintf(err, errlen, "--at: at most %d of them", LE_AT_MAX);
		return -1;
	}
	if (n < sizeof(when))
		memcpy(when, text, n);
	if (le_spec_time("--at's time", when, LE_MAX_AT_NS, &at.at_ns, why, sizeof(why)) < 0 ||
	    !text[n]) {
		snprintf(err, errlen,
			 "--at '%s': give a time after start and a command, for "
			 "example --at '5s a2b rate=5mbit'",
			 text);
		return -1;
	}
	if (strlen(text + n + 1) >= sizeof(at.cmd)) {
		snprintf(err, errlen, "--at: a command of more than %zu characters",
			 sizeof(at.cmd) - 1);
		return -1;
	}
	memcpy(at.cmd, text + n + 1, strlen(text + n + 1) + 1);
	if (le_command(x, at.cmd, false, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--at '%s': %s", text,
			 !strncmp(why, "error: ", 7) ? why + 7 : why);
		return -1;
	}
	/* Kept sorted; equal times run in the order given. */
	for (i = o->nat; i > 0 && o->at[i - 1].at_ns > at.at_ns; i--)
		o->at[i] = o->at[i - 1];
	o->at[i] = at;
	o->nat++;
	return 0;
}

static int le_check_options(struct le_options *o, char *err, size_t errlen)
{
	static const char *const what[] = { "--addr-a", "--addr-b" };

	if (!o->ns[0] || !o->ns[1]) {
		snprintf(err, errlen, "%s is required: the namespace of %s end (ip netns add NAME)",
			 !o->ns[0] ? "--ns-a NS" : "--ns-b NS", !o->ns[0] ? "the A" : "the B");
		return -1;
	}
	if (!strcmp(o->ns[0], o->ns[1])) {
		snprintf(err, errlen, "--ns-a and --ns-b are both '%s': give two namespaces",
			 o->ns[0]);
		return -1;
	}
	for (int e = 0; e < 2; e++) {
		if (!o->dev[e])
			o->dev[e] = LE_DEFAULT_DEV;
		if (strlen(o->dev[e]) >= 16 || strchr(o->dev[e], '/') || !*o->dev[e]) {
			snprintf(err, errlen,
				 "%s '%s': a device name is 1 to 15 characters, no '/'",
				 e ? "--dev-b" : "--dev-a", o->dev[e]);
			return -1;
		}
		if (o->addr_text[e] && le_tun_parse_addr(what[e], o->addr_text[e], &o->addr[e],
							 &o->prefix[e], err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int le_collect(struct le_specs_list *l, const char *opt, const char *text, char *err,
		      size_t errlen)
{
	if (l->n == LE_SPECS_MAX) {
		snprintf(err, errlen, "%s: given more than %d times", opt, LE_SPECS_MAX);
		return -1;
	}
	l->text[l->n++] = text;
	return 0;
}

enum {
	LE_OPT_NS_A = 256,
	LE_OPT_NS_B,
	LE_OPT_ADDR_A,
	LE_OPT_ADDR_B,
	LE_OPT_DEV_A,
	LE_OPT_DEV_B,
	LE_OPT_MTU,
	LE_OPT_A2B,
	LE_OPT_B2A,
	LE_OPT_LINK,
	LE_OPT_LIMIT,
	LE_OPT_CONTROL,
	LE_OPT_AT,
};

static const struct option le_longopts[] = {
	{ "ns-a", required_argument, NULL, LE_OPT_NS_A },
	{ "ns-b", required_argument, NULL, LE_OPT_NS_B },
	{ "addr-a", required_argument, NULL, LE_OPT_ADDR_A },
	{ "addr-b", required_argument, NULL, LE_OPT_ADDR_B },
	{ "dev-a", required_argument, NULL, LE_OPT_DEV_A },
	{ "dev-b", required_argument, NULL, LE_OPT_DEV_B },
	{ "mtu", required_argument, NULL, LE_OPT_MTU },
	{ "a2b", required_argument, NULL, LE_OPT_A2B },
	{ "b2a", required_argument, NULL, LE_OPT_B2A },
	{ "link", required_argument, NULL, LE_OPT_LINK },
	{ "limit", required_argument, NULL, LE_OPT_LIMIT },
	{ "control", required_argument, NULL, LE_OPT_CONTROL },
	{ "at", required_argument, NULL, LE_OPT_AT },
	{ "seconds", required_argument, NULL, 't' },
	{ "seed", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* One option; 0, -1 with the reason in err, or 1 for help/version (printed: exit 0). */
static int le_option(int c, const char *arg, struct le_options *o, struct le_specs *sp, char *err,
		     size_t errlen)
{
	long n;

	switch (c) {
	case LE_OPT_NS_A:
	case LE_OPT_NS_B:
		o->ns[c - LE_OPT_NS_A] = arg;
		return 0;
	case LE_OPT_ADDR_A:
	case LE_OPT_ADDR_B:
		o->addr_text[c - LE_OPT_ADDR_A] = arg;
		return 0;
	case LE_OPT_DEV_A:
	case LE_OPT_DEV_B:
		o->dev[c - LE_OPT_DEV_A] = arg;
		return 0;
	case LE_OPT_MTU:
		return fc_opt_int("--mtu", arg, 576, 9000, &o->mtu, err, errlen);
	case LE_OPT_LIMIT:
		return fc_opt_int("--limit", arg, 16, 1000000, &o->limit, err, errlen);
	case LE_OPT_LINK:
		return le_collect(&sp->list[LE_SP_LINK], "--link", arg, err, errlen);
	case LE_OPT_A2B:
		return le_collect(&sp->list[LE_SP_A2B], "--a2b", arg, err, errlen);
	case LE_OPT_B2A:
		return le_collect(&sp->list[LE_SP_B2A], "--b2a", arg, err, errlen);
	case LE_OPT_AT:
		return le_collect(&sp->list[LE_SP_AT], "--at", arg, err, errlen);
	case LE_OPT_CONTROL:
		o->control = arg;
		return 0;
	case 't':
		return fc_opt_double("--seconds", arg, 0, 1e9, &o->seconds, err, errlen);
	case 's':
		if (fc_opt_int("--seed", arg, 0, LONG_MAX, &n, err, errlen) < 0)
			return -1;
		o->seed = (uint64_t)n;
		return 0;
	case 'h':
		le_usage(stdout);
		return 1;
	case 'V':
		printf("linkemu %s (freshcam)\n", FC_VERSION);
		return 1;
	}
	snprintf(err, errlen, "unknown option");
	return -1;
}

/* 0 to run, 1 to exit 0 (help, version), -1 to exit 2 (a message has been printed). */
static int le_parse_options(int argc, char **argv, struct linkemu *x)
{
	static struct le_specs sp;
	struct le_options *o = &x->o;
	char err[LE_CTL_REPLY] = "";
	bool seeded = false;
	int c, rc = 0;

	*o = (struct le_options){ .mtu = 1500, .limit = LE_DEFAULT_LIMIT };
	while (!rc && (c = getopt_long(argc, argv, "t:s:hV", le_longopts, NULL)) != -1) {
		if (c == '?') {
			fprintf(stderr, "Try 'linkemu --help'.\n");
			return -1;
		}
		seeded |= c == 's';
		rc = le_option(c, optarg, o, &sp, err, sizeof(err));
	}
	if (!rc && optind < argc) {
		snprintf(err, sizeof(err),
			 "unexpected argument '%s' (a spec with spaces needs quotes: "
			 "--a2b 'rate=20mbit delay=10ms')",
			 argv[optind]);
		rc = -1;
	}
	if (!rc)
		rc = le_check_options(o, err, sizeof(err));
	if (!rc)
		rc = le_apply_specs(o, &sp, err, sizeof(err));
	x->shape[LE_A2B] = o->shape[LE_A2B];
	x->shape[LE_B2A] = o->shape[LE_B2A];
	for (int i = 0; !rc && i < sp.list[LE_SP_AT].n; i++)
		rc = le_add_at(x, sp.list[LE_SP_AT].text[i], err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "linkemu: %s\nTry 'linkemu --help'.\n", err);
		return -1;
	}
	if (!seeded)
		o->seed = fc_clock_now_ns() ^ ((uint64_t)getpid() << 32);
	return rc;
}

static int le_watch(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	fc_error("epoll_ctl: %s", strerror(errno));
	return -1;
}

/* The two devices, in their namespaces. */
static int le_open_ends(struct linkemu *x)
{
	char err[512];

	for (int e = 0; e < 2; e++) {
		struct le_tun_config c = { .ns = x->o.ns[e],
					   .dev = x->o.dev[e],
					   .addr = x->o.addr[e],
					   .prefix = x->o.prefix[e],
					   .mtu = (int)x->o.mtu };

		x->tun[e] = le_tun_open(&c, err, sizeof(err));
		if (x->tun[e] < 0) {
			fc_error("%s", err);
			return -1;
		}
		if (le_watch(x->ep, x->tun[e], (uint64_t)(LE_TAG_TUN_A + e)) < 0)
			return -1;
	}
	return 0;
}

/* Everything but the devices: lanes, timer, signals, control socket. Signals are blocked
 * already (main), so none is lost before the signalfd exists. */
static int le_open_rest(struct linkemu *x, const sigset_t *sigs)
{
	char err[512];

	for (int d = LE_A2B; d <= LE_B2A; d++) {
		/* Each direction its own streams, the same for a given seed. */
		uint64_t seed = x->o.seed ^ ((uint64_t)(d + 1) << 48);

		if (le_lane_open(&x->lane[d], &x->shape[d], (size_t)x->o.limit, (size_t)x->o.mtu,
				 seed) < 0) {
			fc_error("out of memory for %ld packets of %ld bytes per direction: lower "
				 "--limit",
				 x->o.limit, x->o.mtu);
			return -1;
		}
	}
	x->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	x->sfd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (x->tfd < 0 || x->sfd < 0) {
		fc_error("%s: %s", x->tfd < 0 ? "timerfd_create" : "signalfd", strerror(errno));
		return -1;
	}
	if (le_watch(x->ep, x->tfd, LE_TAG_TIMER) < 0 || le_watch(x->ep, x->sfd, LE_TAG_SIGNAL) < 0)
		return -1;
	if (x->o.control &&
	    le_ctl_open(&x->ctl, x->o.control, x->ep, LE_TAG_CTL, err, sizeof(err)) < 0) {
		fc_error("%s", err);
		return -1;
	}
	return 0;
}

static void le_close_all(struct linkemu *x)
{
	le_ctl_close(&x->ctl);
	for (int e = 0; e < 2; e++)
		if (x->tun[e] >= 0)
			close(x->tun[e]); /* the device goes with its descriptor */
	for (int d = LE_A2B; d <= LE_B2A; d++)
		le_lane_close(&x->lane[d]);
	if (x->tfd >= 0)
		close(x->tfd);
	if (x->sfd >= 0)
		close(x->sfd);
	if (x->ep >= 0)
		close(x->ep);
}

static void le_fail(struct linkemu *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stops the loop with exit status 1, saying why once (the device is gone, say). */
static void le_fail(struct linkemu *x, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (x->status)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fc_error("%s: stopping", why);
	x->status = 1;
	x->stop = true;
}

/* Reads what device d has (packets going direction d) into lane d, each stamped as it is read. */
static void le_pump_in(struct linkemu *x, int d)
{
	for (int i = 0; i < LE_READS_PER_WAKE; i++) {
		size_t cap;
		uint8_t *buf = le_lane_slot(&x->lane[d], &cap);
		ssize_t n = read(x->tun[d], buf, cap);

		if (n > 0) {
			le_lane_push(&x->lane[d], (size_t)n, fc_clock_now_ns());
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			/* EBADFD: the device was deleted. Any other error would come back at every
			 * wake-up as well: a level-triggered descriptor in error would spin. */
			x->read_errors[d]++;
			le_fail(x, "reading %s in %s: %s", x->o.dev[d], x->o.ns[d],
				strerror(errno));
		}
		return;
	}
}

/* Writes what lane d lets go by now to the other device. */
static void le_pump_out(struct linkemu *x, int d, uint64_t now)
{
	struct le_late *late = &x->late[d];
	const uint8_t *p;
	uint64_t due;
	size_t len;

	while ((p = le_lane_take(&x->lane[d], now, &len, &due))) {
		uint64_t t = fc_clock_now_ns();
		uint64_t behind = t > due ? t - due : 0;

		late->count++;
		late->sum_ns += behind;
		late->over_1ms += behind > FC_NS_PER_MS;
		if (behind > late->max_ns)
			late->max_ns = behind;
		if (write(x->tun[1 - d], p, len) >= 0)
			continue;
		if (errno == EBADFD)
			le_fail(x, "writing to %s in %s: %s", x->o.dev[1 - d], x->o.ns[1 - d],
				strerror(errno));
		else if (!x->write_errors[d]++) /* EIO: the device is down; it may come up */
			fc_warn("%s: writing to %s in %s: %s (said once; counted as write_errors)",
				le_dir[d], x->o.dev[1 - d], x->o.ns[1 - d], strerror(errno));
	}
}

/* Arms the timer for wake_ns (UINT64_MAX: disarms it), unless it is set so already. */
static void le_arm(struct linkemu *x, uint64_t wake_ns)
{
	struct itimerspec its = { 0 };

	if (wake_ns == UINT64_MAX)
		wake_ns = 0;
	if (wake_ns == x->armed_ns)
		return;
	its.it_value.tv_sec = (time_t)(wake_ns / FC_NS_PER_S);
	its.it_value.tv_nsec = (long)(wake_ns % FC_NS_PER_S);
	/* A time already past fires at once, which is what is wanted. */
	if (timerfd_settime(x->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		fc_error("timerfd_settime: %s", strerror(errno));
	x->armed_ns = wake_ns;
}

static void le_on_signal(struct linkemu *x)
{
	struct signalfd_siginfo si;

	while (read(x->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			le_print_stats(x, "sigusr1");
			continue;
		}
		fc_info("stopping (signal %u)", si.ssi_signo);
		x->stop = true;
	}
}

/* The --at commands due by now; returns when the next is due (UINT64_MAX: none left). */
static uint64_t le_run_at(struct linkemu *x, uint64_t now)
{
	char reply[LE_CTL_REPLY];

	while (x->next_at < x->o.nat) {
		const struct le_at *at = &x->o.at[x->next_at];

		if (x->start_ns + at->at_ns > now)
			return x->start_ns + at->at_ns;
		/* --at 'TIME stats' prints the counters then, as SIGUSR1 would. */
		if (le_command(x, at->cmd, true, reply, sizeof(reply)) == 0 && reply[0] == '{') {
			printf("%s\n", reply);
			fflush(stdout);
		}
		x->next_at++;
	}
	return UINT64_MAX;
}

static void le_dispatch(struct linkemu *x, const struct epoll_event *ev)
{
	uint64_t tag = ev->data.u64;
	uint64_t expirations;

	if (tag == LE_TAG_TUN_A || tag == LE_TAG_TUN_B) {
		le_pump_in(x, (int)tag);
	} else if (tag == LE_TAG_TIMER) {
		if (read(x->tfd, &expirations, sizeof(expirations)) > 0)
			x->armed_ns = 0;
	} else if (tag == LE_TAG_SIGNAL) {
		le_on_signal(x);
	} else if (le_ctl_owns(&x->ctl, tag)) {
		le_ctl_event(&x->ctl, tag, le_on_control, x);
	}
}

static int le_run(struct linkemu *x)
{
	uint64_t end_ns = x->o.seconds > 0 ? x->start_ns + (uint64_t)(x->o.seconds * 1e9) : 0;

	while (!x->stop) {
		struct epoll_event ev[LE_EVENTS];
		uint64_t now = fc_clock_now_ns();
		uint64_t wake = le_run_at(x, now);
		int n;

		if (end_ns && now >= end_ns) {
			fc_info("stopping after %g s (--seconds)", x->o.seconds);
			break;
		}
		for (int d = LE_A2B; d <= LE_B2A; d++) {
			le_pump_out(x, d, now);
			if (le_lane_wake(&x->lane[d]) < wake)
				wake = le_lane_wake(&x->lane[d]);
		}
		if (end_ns && end_ns < wake)
			wake = end_ns;
		le_arm(x, wake);
		n = epoll_wait(x->ep, ev, LE_EVENTS, -1);
		if (n < 0 && errno != EINTR) {
			fc_error("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++)
			le_dispatch(x, &ev[i]);
	}
	return x->status;
}

static void le_say_start(const struct linkemu *x)
{
	char end[2][160], a[LE_SHAPE_TEXT], b[LE_SHAPE_TEXT];

	for (int e = 0; e < 2; e++)
		snprintf(end[e], sizeof(end[e]), "%s in %s%s%s", x->o.dev[e], x->o.ns[e],
			 x->o.addr_text[e] ? " at " : " (no address)",
			 x->o.addr_text[e] ? x->o.addr_text[e] : "");
	fc_info("forwarding between %s and %s; a2b %s; b2a %s; seed %llu%s%s", end[0], end[1],
		le_spec_format(&x->shape[LE_A2B], a, sizeof(a)),
		le_spec_format(&x->shape[LE_B2A], b, sizeof(b)), (unsigned long long)x->o.seed,
		x->o.control ? "; control socket " : "", x->o.control ? x->o.control : "");
}

int main(int argc, char **argv)
{
	static struct linkemu x = { .tun = { -1, -1 }, .ep = -1, .tfd = -1, .sfd = -1 };
	sigset_t sigs;
	int status = 1;
	int rc;

	x.ctl.lfd = -1;
	rc = le_parse_options(argc, argv, &x);
	if (rc)
		return rc > 0 ? 0 : 2;
	fc_log_init("linkemu", FC_LOG_INFO);
	if (geteuid() != 0) {
		fc_error("needs root: it enters network namespaces and creates TUN devices in them "
			 "(CAP_SYS_ADMIN, CAP_NET_ADMIN); run it as root, for example with sudo");
		return 1;
	}
	/* Blocked for good: they arrive through the signalfd, on this thread, in the loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	x.ep = epoll_create1(EPOLL_CLOEXEC);
	if (x.ep < 0) {
		fc_error("epoll_create1: %s", strerror(errno));
		return 1;
	}
	if (le_open_ends(&x) == 0 && le_open_rest(&x, &sigs) == 0) {
		le_say_start(&x);
		x.start_ns = fc_clock_now_ns();
		status = le_run(&x);
		le_print_stats(&x, "exit");
	}
	le_close_all(&x);
	return status;
}
