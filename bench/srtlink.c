/*
 * fc-benchsrt: SRT's live mode against bare datagrams on the same link, frame by frame, for
 * docs/UDP.md ("Why own framing before libsrt or QUIC") and bench/srt.py.
 *
 * The sender encodes PICTURES pictures of --photo once at the start (freshcam's own photo source
 * with its sensor noise and freshcam's own JPEG coder, quality 80: the sizes freshcam-send makes),
 * then sends one every 1/fps, cycling through them, each stamped with its capture time
 * (CLOCK_MONOTONIC, which the network namespaces of one host share) and cut into packets:
 *   - srt: SRT's live mode as SRT carries video: TSBPD on, too-late packet drop on, latency L,
 *     each packet one message of at most SRTO_PAYLOADSIZE (1316) bytes, since a live-mode message
 *     is one packet (the sender checks that a larger one is refused, and reports it);
 *   - udp: bare datagrams carrying 1200 bytes of the frame each, no repair: whole or lost.
 * The receiver puts frames together, newest first as freshcam does (a frame whole after a newer
 * one counts as whole but not as in time), and counts the frames that came whole, their age
 * (arrival of the last packet minus capture) and those within the budget, per second of capture
 * and in total; one JSON line at the end. Capture is when the frame is sent: what comes before
 * it in freshcam-send (the camera, the encode) costs every transport the same.
 *
 *   fc-benchsrt send --to ADDR:PORT [--transport srt|udp] [--latency MS] [--photo F]
 *                    [--size WxH] [--fps R] [--seconds S] [--quality Q] [--ttl MS]
 *   fc-benchsrt recv --port PORT [--transport srt|udp] [--latency MS] [--seconds S]
 *                    [--budget MS]
 *
 * A measuring tool: its own thread only (libsrt runs its own), every wait bounded, exits on any
 * error with a message. Not installed, not tested.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <srt/srt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "coder.h"
#include "photo.h"

#define PICTURES    30	 /* distinct frames, cycled: noise makes each size its own */
#define HDR	    28	 /* seq, index, count, capture, start, total */
#define SRT_PACKET  1316 /* SRT_LIVE_DEF_PLSIZE: live mode's payload, MPEG-TS's 7 x 188 */
#define UDP_CHUNK   1200 /* freshcam's FC_DGRAM_CHUNK */
#define MAX_PACKET  1500
#define MAX_CHUNKS  4096 /* 5 MB frames at most */
#define SLOTS	    64	 /* frames in assembly */
#define MAX_SECONDS 3600

struct args {
	const char *mode;
	const char *to;
	const char *photo;
	bool srt;
	int port;
	int latency_ms;
	int width;
	int height;
	int quality;
	int ttl_ms;
	double fps;
	double seconds;
	double budget_ms;
};

struct picture {
	uint8_t *jpeg;
	size_t size;
};

/* One frame in assembly: which chunks are in. */
struct slot {
	uint32_t seq;
	uint16_t count;
	uint16_t got;
	uint64_t capture_ns;
	uint8_t have[MAX_CHUNKS / 8];
};

/* What the receiver counts. */
struct tally {
	uint64_t start_ns;    /* the sender's first capture, from the packets */
	uint32_t frames_sent; /* from the sender's last message, else the highest seq seen */
	uint32_t newest;      /* the newest whole frame's seq */
	uint64_t packets;
	uint64_t bad;
	uint32_t whole;
	uint32_t in_budget;
	uint32_t out_of_order;
	double *ages_ms; /* of every whole frame */
	uint32_t n_ages;
	uint32_t cap_ages;
	uint32_t whole_per_s[MAX_SECONDS];
	uint32_t budget_per_s[MAX_SECONDS];
	int last_second;
	bool bye;
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fc-benchsrt: %s: %s\n", what, why);
	exit(1);
}

static void die_srt(const char *what)
{
	die(what, srt_getlasterror_str());
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static struct sockaddr_in parse_addr(const char *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		die(s, "not ADDR:PORT");
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die(s, "not an IPv4 address");
	sa.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	return sa;
}

/* ---- the sender ---- */

static void make_pictures(const struct args *a, struct picture *pics)
{
	char err[256];
	struct fc_photo *photo = fc_photo_new(a->photo, a->width, a->height, err, sizeof(err));
	struct fc_coder *coder = fc_coder_new();
	size_t cap = (size_t)a->width * (size_t)a->height * 2 + 65536;

	if (!photo)
		die(a->photo, err);
	if (!coder)
		die("coder", "out of memory");
	for (int i = 0; i < PICTURES; i++) {
		struct fc_coder_src src = { 0 };

		pics[i].jpeg = malloc(cap);
		if (!pics[i].jpeg)
			die("pictures", "out of memory");
		fc_photo_draw(photo, (uint64_t)i + 1, 0, &src.img);
		if (fc_coder_encode(coder, &src, a->quality, 0, pics[i].jpeg, cap, &pics[i].size) <
		    0)
			die("encode", fc_coder_error(coder));
	}
	fc_coder_free(coder);
	fc_photo_free(photo);
}

static void set_srt(SRTSOCKET s, SRT_SOCKOPT opt, int v, const char *name)
{
	if (srt_setsockflag(s, opt, &v, sizeof(v)) < 0)
		die(name, srt_getlasterror_str());
}

/* Live mode as SRT carries video; the same options on both sides, before connecting. */
static void srt_live_options(SRTSOCKET s, const struct args *a)
{
	set_srt(s, SRTO_TRANSTYPE, SRTT_LIVE, "SRTO_TRANSTYPE");
	set_srt(s, SRTO_TSBPDMODE, 1, "SRTO_TSBPDMODE");
	set_srt(s, SRTO_TLPKTDROP, 1, "SRTO_TLPKTDROP");
	set_srt(s, SRTO_LATENCY, a->latency_ms, "SRTO_LATENCY");
	set_srt(s, SRTO_PAYLOADSIZE, SRT_PACKET, "SRTO_PAYLOADSIZE");
	set_srt(s, SRTO_CONNTIMEO, 5000, "SRTO_CONNTIMEO");
	set_srt(s, SRTO_SNDTIMEO, 1000, "SRTO_SNDTIMEO");
	set_srt(s, SRTO_RCVTIMEO, 100, "SRTO_RCVTIMEO");
}

/* One connected sending socket: an SRT caller or a connected UDP socket. */
struct out {
	bool srt;
	SRTSOCKET s;
	int fd;
	int ttl_ms;
	uint64_t packets;
	uint64_t bytes;
};

static void out_open(struct out *o, const struct args *a)
{
	struct sockaddr_in sa = parse_addr(a->to);
	int big = 4 << 20;

	o->srt = a->srt;
	o->ttl_ms = a->ttl_ms;
	if (a->srt) {
		o->s = srt_create_socket();
		if (o->s == SRT_INVALID_SOCK)
			die_srt("srt_create_socket");
		srt_live_options(o->s, a);
		if (srt_connect(o->s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die(a->to, srt_getlasterror_str());
		return;
	}
	o->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (o->fd < 0 || connect(o->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(a->to, strerror(errno));
	(void)setsockopt(o->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
}

/* One packet; -1 with the reason in errno or libsrt's last error. */
static int out_send(struct out *o, const uint8_t *p, size_t n)
{
	if (o->srt) {
		SRT_MSGCTRL m = srt_msgctrl_default;

		m.msgttl = o->ttl_ms;
		if (srt_sendmsg2(o->s, (const char *)p, (int)n, &m) < 0)
			return -1;
	} else if (send(o->fd, p, n, 0) < 0 && errno != ECONNREFUSED) {
		return -1;
	}
	o->packets++;
	o->bytes += n;
	return 0;
}

/* Frame seq (1..) as packets: the header, then its share of the JPEG. */
static void send_frame(struct out *o, const struct picture *pic, uint32_t seq, uint64_t capture,
		       uint64_t start)
{
	size_t chunk = (o->srt ? SRT_PACKET : UDP_CHUNK + HDR) - HDR;
	size_t count = (pic->size + chunk - 1) / chunk;
	uint8_t pkt[MAX_PACKET];

	for (size_t i = 0; i < count; i++) {
		size_t off = i * chunk;
		size_t n = pic->size - off < chunk ? pic->size - off : chunk;

		put_be(pkt, seq, 4);
		put_be(pkt + 4, i, 2);
		put_be(pkt + 6, count, 2);
		put_be(pkt + 8, capture, 8);
		put_be(pkt + 16, start, 8);
		put_be(pkt + 24, pic->size, 4);
		memcpy(pkt + HDR, pic->jpeg + off, n);
		if (out_send(o, pkt, HDR + n) < 0)
			die("send", o->srt ? srt_getlasterror_str() : strerror(errno));
	}
}

/* Whether live mode refuses a message one byte over the payload size (seq 0, count 1: the
 * receiver drops it if it goes). */
static const char *probe_large(struct out *o)
{
	static char why[160];
	uint8_t pkt[SRT_PACKET + 1] = { 0 };
	SRT_MSGCTRL m = srt_msgctrl_default;

	pkt[7] = 1;
	if (srt_sendmsg2(o->s, (const char *)pkt, (int)sizeof(pkt), &m) >= 0)
		return "sent";
	snprintf(why, sizeof(why), "refused: %s", srt_getlasterror_str());
	return why;
}

static void sender_report(const struct out *o, const struct args *a, uint32_t frames, uint32_t late,
			  const char *large)
{
	printf("{\"role\":\"send\",\"transport\":\"%s\",\"latency_ms\":%d,\"frames\":%u,"
	       "\"late_ticks\":%u,\"packets\":%llu,\"kb_per_frame\":%.1f",
	       o->srt ? "srt" : "udp", a->latency_ms, frames, late, (unsigned long long)o->packets,
	       frames ? o->bytes / 1000.0 / frames : 0.0);
	if (o->srt) {
		SRT_TRACEBSTATS st;

		if (srt_bstats(o->s, &st, 0) < 0)
			die_srt("srt_bstats");
		printf(",\"large_message\":\"%s\",\"srt\":{\"sent\":%lld,\"retrans\":%d,"
		       "\"snd_drop\":%d,\"rtt_ms\":%.1f}",
		       large, (long long)st.pktSentTotal, st.pktRetransTotal, st.pktSndDropTotal,
		       st.msRTT);
	}
	printf("}\n");
	fflush(stdout);
}

/* The end: the frame count in a seq-0, count-0 packet, several times (bare datagrams get
 * lost), until the receiver has gone. */
static void send_bye(struct out *o, uint32_t frames)
{
	uint8_t pkt[HDR] = { 0 };

	put_be(pkt, 0, 4);
	put_be(pkt + 24, frames, 4);
	for (int i = 0; i < 5 && out_send(o, pkt, sizeof(pkt)) == 0; i++)
		fc_clock_sleep_until(fc_clock_now_ns() + 2000000);
}

static void mode_send(const struct args *a)
{
	static struct picture pics[PICTURES];
	struct out o = { 0 };
	uint64_t period = (uint64_t)(1e9 / a->fps);
	uint64_t start, next;
	uint32_t seq = 0, late = 0, frames = (uint32_t)(a->seconds * a->fps + 0.5);
	const char *large = "";

	make_pictures(a, pics);
	out_open(&o, a);
	if (o.srt)
		large = probe_large(&o);
	start = fc_clock_now_ns();
	next = start;
	for (uint32_t tick = 0; tick < frames; tick++, next += period) {
		if (fc_clock_now_ns() > next + period) { /* a tick missed: a camera drops it */
			late++;
			continue;
		}
		fc_clock_sleep_until(next);
		seq = tick + 1; /* a missed tick is a frame never sent: the receiver counts it */
		send_frame(&o, &pics[seq % PICTURES], seq, fc_clock_now_ns(), start);
	}
	seq = frames;
	/* What is in flight gets its latency and a repair's round trip before the end. */
	fc_clock_sleep_until(fc_clock_now_ns() + (uint64_t)(a->latency_ms + 300) * 1000000);
	sender_report(&o, a, seq, late, large);
	send_bye(&o, seq);
	fc_clock_sleep_until(fc_clock_now_ns() + 100000000);
	if (o.srt)
		srt_close(o.s);
	else
		close(o.fd);
}

/* ---- the receiver ---- */

static void tally_frame(struct tally *t, const struct args *a, const struct slot *s, uint64_t now)
{
	double age = (double)(now - s->capture_ns) / 1e6;
	int sec = (int)((s->capture_ns - t->start_ns) / 1000000000u);
	bool newest = s->seq > t->newest;

	t->whole++;
	if (t->n_ages < t->cap_ages)
		t->ages_ms[t->n_ages++] = age;
	if (sec < 0 || sec >= MAX_SECONDS)
		sec = MAX_SECONDS - 1;
	if (sec > t->last_second)
		t->last_second = sec;
	t->whole_per_s[sec]++;
	if (!newest) {
		t->out_of_order++;
		return;
	}
	t->newest = s->seq;
	if (age <= a->budget_ms) {
		t->in_budget++;
		t->budget_per_s[sec]++;
	}
}

/* One packet in: a chunk of a frame, or the sender's last word. */
static void take_packet(struct tally *t, const struct args *a, struct slot *slots, const uint8_t *p,
			size_t n, uint64_t now)
{
	uint32_t seq, index, count;
	struct slot *s;

	if (n < HDR) {
		t->bad++;
		return;
	}
	seq = (uint32_t)get_be(p, 4);
	index = (uint32_t)get_be(p + 4, 2);
	count = (uint32_t)get_be(p + 6, 2);
	if (seq == 0) { /* count 0: the end; count 1: the sender's oversized probe */
		if (count == 0) {
			t->frames_sent = (uint32_t)get_be(p + 24, 4);
			t->bye = true;
		}
		return;
	}
	if (index >= count || count > MAX_CHUNKS) {
		t->bad++;
		return;
	}
	t->packets++;
	if (!t->start_ns)
		t->start_ns = get_be(p + 16, 8);
	if (seq > t->frames_sent && !t->bye)
		t->frames_sent = seq;
	s = &slots[seq % SLOTS];
	if (s->seq != seq) { /* a newer frame takes the place of one never whole */
		memset(s, 0, sizeof(*s));
		s->seq = seq;
		s->count = (uint16_t)count;
		s->capture_ns = get_be(p + 8, 8);
	}
	if (s->have[index / 8] & (1u << (index % 8)) || s->got == s->count)
		return; /* a duplicate */
	s->have[index / 8] |= (uint8_t)(1u << (index % 8));
	if (++s->got == s->count)
		tally_frame(t, a, s, now);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double pct(const double *v, uint32_t n, double q)
{
	if (!n)
		return -1;
	return v[(uint32_t)((n - 1) * q + 0.5)];
}

static void print_per_s(const char *name, const uint32_t *v, int n)
{
	printf(",\"%s\":[", name);
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", v[i]);
	printf("]");
}

static void receiver_report(struct tally *t, const struct args *a, SRTSOCKET s)
{
	double sent_s = t->frames_sent / a->fps;

	qsort(t->ages_ms, t->n_ages, sizeof(double), cmp_double);
	printf("{\"role\":\"recv\",\"transport\":\"%s\",\"latency_ms\":%d,\"budget_ms\":%g,"
	       "\"frames\":%u,\"whole\":%u,\"in_budget\":%u,\"out_of_order\":%u,"
	       "\"in_budget_fps\":%.2f,\"whole_fps\":%.2f,\"age_ms_p50\":%.1f,\"age_ms_p90\":%.1f,"
	       "\"age_ms_p99\":%.1f,\"packets\":%llu,\"bad\":%llu,\"bye\":%s",
	       a->srt ? "srt" : "udp", a->latency_ms, a->budget_ms, t->frames_sent, t->whole,
	       t->in_budget, t->out_of_order, sent_s > 0 ? t->in_budget / sent_s : 0.0,
	       sent_s > 0 ? t->whole / sent_s : 0.0, pct(t->ages_ms, t->n_ages, 0.5),
	       pct(t->ages_ms, t->n_ages, 0.9), pct(t->ages_ms, t->n_ages, 0.99),
	       (unsigned long long)t->packets, (unsigned long long)t->bad,
	       t->bye ? "true" : "false");
	print_per_s("in_budget_per_s", t->budget_per_s, t->last_second + 1);
	print_per_s("whole_per_s", t->whole_per_s, t->last_second + 1);
	if (a->srt) {
		SRT_TRACEBSTATS st;
		int lat = 0, len = sizeof(lat);

		if (srt_bstats(s, &st, 0) == 0 &&
		    srt_getsockflag(s, SRTO_RCVLATENCY, &lat, &len) == 0)
			printf(
			    ",\"srt\":{\"latency_ms\":%d,\"recv\":%lld,\"lost\":%d,\"dropped\":%d,"
			    "\"retrans_recv\":%d,\"belated\":%lld,\"rtt_ms\":%.1f}",
			    lat, (long long)st.pktRecvTotal, st.pktRcvLossTotal, st.pktRcvDropTotal,
			    st.pktRcvRetrans, (long long)st.pktRcvBelated, st.msRTT);
	}
	printf("}\n");
	fflush(stdout);
}

/* The listener's one caller, waited for until deadline. */
static SRTSOCKET srt_accept_one(const struct args *a, uint64_t deadline)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port) };
	SRTSOCKET l = srt_create_socket(), c, ready[1];
	int eid = srt_epoll_create(), n = 1, events = SRT_EPOLL_IN;

	if (l == SRT_INVALID_SOCK || eid < 0)
		die_srt("srt_create_socket");
	srt_live_options(l, a);
	if (srt_bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || srt_listen(l, 1) < 0)
		die_srt("srt_bind");
	if (srt_epoll_add_usock(eid, l, &events) < 0)
		die_srt("srt_epoll_add_usock");
	if (srt_epoll_wait(eid, ready, &n, NULL, NULL, fc_clock_ms_until(deadline), NULL, NULL,
			   NULL, NULL) < 1)
		die("srt", "no caller came");
	c = srt_accept(l, NULL, NULL);
	if (c == SRT_INVALID_SOCK)
		die_srt("srt_accept");
	srt_epoll_release(eid);
	srt_close(l);
	return c;
}

/* The next packet into buf, or 0 after a wait of at most 100 ms, or -1 at the connection's
 * end. */
static int recv_one(const struct args *a, SRTSOCKET s, int fd, uint8_t *buf)
{
	if (a->srt) {
		int n = srt_recvmsg(s, (char *)buf, MAX_PACKET);

		if (n >= 0)
			return n;
		n = srt_getlasterror(NULL);
		return n == SRT_EASYNCRCV || n == SRT_ETIMEOUT ? 0 : -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 100) <= 0)
		return 0;
	return (int)recv(fd, buf, MAX_PACKET, 0);
}

static int udp_bind(const struct args *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("udp bind", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return fd;
}

static void mode_recv(const struct args *a)
{
	static struct tally t;
	static struct slot slots[SLOTS];
	uint8_t buf[MAX_PACKET];
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)((a->seconds + 10) * 1e9);
	SRTSOCKET s = SRT_INVALID_SOCK;
	int fd = -1;

	t.cap_ages = (uint32_t)(a->seconds * a->fps * 2 + 1000);
	t.ages_ms = calloc(t.cap_ages, sizeof(double));
	if (!t.ages_ms)
		die("ages", "out of memory");
	if (a->srt)
		s = srt_accept_one(a, deadline);
	else
		fd = udp_bind(a);
	while (!t.bye && fc_clock_now_ns() < deadline) {
		int n = recv_one(a, s, fd, buf);

		if (n < 0)
			break;
		if (n > 0)
			take_packet(&t, a, slots, buf, (size_t)n, fc_clock_now_ns());
	}
	receiver_report(&t, a, s);
	if (a->srt)
		srt_close(s);
	else
		close(fd);
	free(t.ages_ms);
}

/* ---- the command line ---- */

static void parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = { { "to", required_argument, NULL, 't' },
					      { "port", required_argument, NULL, 'p' },
					      { "transport", required_argument, NULL, 'T' },
					      { "latency", required_argument, NULL, 'L' },
					      { "photo", required_argument, NULL, 'P' },
					      { "size", required_argument, NULL, 'S' },
					      { "fps", required_argument, NULL, 'f' },
					      { "seconds", required_argument, NULL, 's' },
					      { "quality", required_argument, NULL, 'q' },
					      { "ttl", required_argument, NULL, 'x' },
					      { "budget", required_argument, NULL, 'b' },
					      { NULL, 0, NULL, 0 } };
	int c;

	*a = (struct args){ .srt = true,
			    .latency_ms = 120,
			    .width = 1280,
			    .height = 720,
			    .quality = 80,
			    .ttl_ms = -1,
			    .fps = 30,
			    .seconds = 10,
			    .budget_ms = 80,
			    .photo = "/usr/share/backgrounds/mate/nature/Dune.jpg" };
	if (argc < 2)
		die("usage", "fc-benchsrt send|recv [options] (see bench/srtlink.c)");
	a->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			a->to = optarg;
			break;
		case 'p':
			a->port = (int)strtol(optarg, NULL, 10);
			break;
		case 'T':
			a->srt = strcmp(optarg, "udp") != 0;
			break;
		case 'L':
			a->latency_ms = (int)strtol(optarg, NULL, 10);
			break;
		case 'P':
			a->photo = optarg;
			break;
		case 'S':
			if (sscanf(optarg, "%dx%d", &a->width, &a->height) != 2)
				die(optarg, "not WxH");
			break;
		case 'f':
			a->fps = strtod(optarg, NULL);
			break;
		case 's':
			a->seconds = strtod(optarg, NULL);
			break;
		case 'q':
			a->quality = (int)strtol(optarg, NULL, 10);
			break;
		case 'x':
			a->ttl_ms = (int)strtol(optarg, NULL, 10);
			break;
		case 'b':
			a->budget_ms = strtod(optarg, NULL);
			break;
		default:
			die("usage", "an unknown option (see bench/srtlink.c)");
		}
	}
	if (a->fps <= 0 || a->seconds <= 0 || a->seconds > MAX_SECONDS - 20)
		die("usage", "--fps and --seconds must be positive, --seconds at most an hour");
}

int main(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a);
	if (srt_startup() < 0)
		die_srt("srt_startup");
	srt_setloglevel(3); /* LOG_ERR: libsrt's notices would fill the logs */
	if (!strcmp(a.mode, "send") && a.to)
		mode_send(&a);
	else if (!strcmp(a.mode, "recv") && a.port > 0)
		mode_recv(&a);
	else
		die("usage", "send --to ADDR:PORT, or recv --port PORT");
	srt_cleanup();
	return 0;
}
