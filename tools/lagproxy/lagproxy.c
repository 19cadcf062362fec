/*
 * lagproxy: a TCP relay that makes a loopback connection behave like a slow, jittery, narrow
 * link, each direction on its own, so that freshcam's age check can be tested on one host with
 * no netem (docs/DESIGN.md, "Testing without a camera or a bad network").
 *
 * One thread, one ppoll() loop. Each accepted client becomes a pair: the client's socket, a
 * socket to the target, and two lanes (lane.h), up (client to server) and down (server to
 * client). A lane reads its source whenever it has room and writes its destination what its
 * delay, jitter and rate allow. Every wait is bounded: ppoll() wakes for the next release, the
 * next token, a connect deadline, the --seconds end, or after LP_TICK_MS at the latest.
 * SIGINT/SIGTERM are blocked except inside ppoll(), whose handler only sets a flag.
 *
 * It says one line at start and one per connection opened or closed; nothing per packet.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lane.h"
#include "log.h"
#include "net.h"
#include "opt.h"

#define LP_MAX_PAIRS	      128
#define LP_CONNECT_TIMEOUT_MS 5000
#define LP_TICK_MS	      1000
#define LP_ACCEPT_PAUSE_MS    100
/* Reads per socket per wake-up: enough to drain a burst, few enough to be fair to the others. */
#define LP_READS_PER_WAKE 8
#define LP_MAX_MS	  600000.0
#define LP_MAX_KBIT	  100000000L /* 100 Gbit/s */

enum { LP_UP, LP_DOWN };       /* lanes: up reads the client and writes the server */
enum { LP_CLIENT, LP_SERVER }; /* sockets of a pair; lane i reads fd[i], writes fd[1 - i] */

static const char *const lp_side[] = { "client", "server" };
static const char *const lp_dir[] = { "up", "down" };

struct lp_options {
	struct fc_addr listen;
	struct fc_addr target;
	double delay_ms[2];
	double jitter_ms[2];
	long rate_kbit[2]; /* 0 = no cap */
	double seconds;	   /* 0 = until a signal */
	uint64_t seed;
	long queue_kib;
};

struct lp_pair {
	unsigned id;
	int fd[2];
	bool connecting;
	uint64_t connect_deadline_ns;
	const struct addrinfo *next_ai; /* target addresses not tried yet */
	int connect_errno;		/* why the last address failed */
	struct lp_lane lane[2];
	bool eof[2];	 /* the lane's source has ended its stream */
	bool shut[2];	 /* the lane's destination has been shut for writing */
	bool blocked[2]; /* the lane's destination is full: wait for POLLOUT */
	bool hup[2];	 /* the socket has hung up: read it without polling */
	int first_eof;	 /* the side that ended first, -1 for none yet */
	uint64_t bytes[2];
	uint64_t opened_ns;
	char peer[64];
	bool done;
	char why[160]; /* why the pair closes, once done */
};

static volatile sig_atomic_t lp_signal;

static void lp_on_signal(int sig)
{
	lp_signal = sig;
}

static void lp_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: lagproxy --listen [ADDR:]PORT --connect HOST:PORT [OPTIONS]\n"
	    "A TCP relay that adds delay, jitter and a bandwidth cap, each direction on its own, to\n"
	    "test programs on a bad network without netem. Byte order is kept: jitter delays a\n"
	    "stream, it never reorders it. Several clients at once; each gets its own connection to\n"
	    "the target.\n"
	    "\n"
	    "Where:\n"
	    "  -l, --listen [ADDR:]PORT  where clients connect (default address: all)\n"
	    "  -c, --connect HOST:PORT   the server each client is relayed to\n"
	    "Both directions (\"up\" is client to server, \"down\" server to client):\n"
	    "  -d, --delay MS            fixed one-way delay in milliseconds (default 0)\n"
	    "  -j, --jitter MS           a further random 0..MS, uniform, per chunk read (default 0)\n"
	    "  -r, --rate KBIT           bandwidth cap in kbit/s, 1000 = 1 Mbit/s (default 0: none)\n"
	    "One direction (overrides the above):\n"
	    "      --up-delay MS   --up-jitter MS   --up-rate KBIT\n"
	    "      --down-delay MS --down-jitter MS --down-rate KBIT\n"
	    "Other:\n"
	    "  -q, --queue KIB           most bytes held per direction, in KiB (default 65536); when\n"
	    "                            full, the sending side is held back by TCP, as by a slow link\n"
	    "  -t, --seconds N           stop after N seconds (default: until Ctrl-C)\n"
	    "  -s, --seed N              seed for the jitter (default: from the clock; printed)\n"
	    "  -h, --help                this text\n"
	    "  -V, --version             the version\n"
	    "\n"
	    "A chunk read at time T leaves no earlier than T + delay + jitter, and never before the\n"
	    "chunk read ahead of it; then it leaves no faster than the rate (bursts of 1500 bytes or\n"
	    "1 ms at the rate, whichever is more).\n"
	    "\n"
	    "Examples:\n"
	    "  lagproxy -l 9000 -c 127.0.0.1:%d -d 20             rtt 40 ms more\n"
	    "  lagproxy -l 9000 -c 127.0.0.1:%d -d 30 -j 40       30..70 ms each way\n"
	    "  lagproxy -l 9000 -c 127.0.0.1:%d --down-rate 4000  a 4 Mbit/s downlink\n"
	    "  lagproxy -l 127.0.0.1:9000 -c cam.local:%d --up-delay 5 --down-delay 50 -t 60\n"
	    "Then point the client at port 9000: freshcam-view 127.0.0.1:9000\n",
	    FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT, FC_NET_DEFAULT_PORT);
}

static int lp_parse_options(int argc, char **argv, struct lp_options *o)
{
	enum {
		OPT_UP_DELAY = 256,
		OPT_DOWN_DELAY,
		OPT_UP_JITTER,
		OPT_DOWN_JITTER,
		OPT_UP_RATE,
		OPT_DOWN_RATE,
	};
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "delay", required_argument, NULL, 'd' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "rate", required_argument, NULL, 'r' },
		{ "up-delay", required_argument, NULL, OPT_UP_DELAY },
		{ "down-delay", required_argument, NULL, OPT_DOWN_DELAY },
		{ "up-jitter", required_argument, NULL, OPT_UP_JITTER },
		{ "down-jitter", required_argument, NULL, OPT_DOWN_JITTER },
		{ "up-rate", required_argument, NULL, OPT_UP_RATE },
		{ "down-rate", required_argument, NULL, OPT_DOWN_RATE },
		{ "queue", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	/* Per-direction values are kept apart (-1 = not given) so that they win in any order. */
	double delay = 0, jitter = 0;
	double dir_delay[2] = { -1, -1 }, dir_jitter[2] = { -1, -1 };
	long rate = 0, dir_rate[2] = { -1, -1 };
	bool have_listen = false, have_target = false, seeded = false;
	char err[256] = "";
	long n;
	int c;

	*o = (struct lp_options){ .queue_kib = 64 * 1024 };
	while ((c = getopt_long(argc, argv, "l:c:d:j:r:q:t:s:hV", longopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'l':
			rc = fc_net_parse_addr(optarg, 1, &o->listen, err, sizeof(err));
			have_listen = true;
			break;
		case 'c':
			rc = fc_net_parse_addr(optarg, 0, &o->target, err, sizeof(err));
			have_target = true;
			break;
		case 'd':
			rc = fc_opt_double("--delay", optarg, 0, LP_MAX_MS, &delay, err,
					   sizeof(err));
			break;
		case OPT_UP_DELAY:
		case OPT_DOWN_DELAY:
			rc = fc_opt_double(
			    c == OPT_UP_DELAY ? "--up-delay" : "--down-delay", optarg, 0, LP_MAX_MS,
			    &dir_delay[c == OPT_UP_DELAY ? LP_UP : LP_DOWN], err, sizeof(err));
			break;
		case 'j':
			rc = fc_opt_double("--jitter", optarg, 0, LP_MAX_MS, &jitter, err,
					   sizeof(err));
			break;
		case OPT_UP_JITTER:
		case OPT_DOWN_JITTER:
			rc = fc_opt_double(c == OPT_UP_JITTER ? "--up-jitter" : "--down-jitter",
					   optarg, 0, LP_MAX_MS,
					   &dir_jitter[c == OPT_UP_JITTER ? LP_UP : LP_DOWN], err,
					   sizeof(err));
			break;
		case 'r':
			rc = fc_opt_int("--rate", optarg, 0, LP_MAX_KBIT, &rate, err, sizeof(err));
			break;
		case OPT_UP_RATE:
		case OPT_DOWN_RATE:
			rc = fc_opt_int(c == OPT_UP_RATE ? "--up-rate" : "--down-rate", optarg, 0,
					LP_MAX_KBIT, &dir_rate[c == OPT_UP_RATE ? LP_UP : LP_DOWN],
					err, sizeof(err));
			break;
		case 'q':
			rc = fc_opt_int("--queue", optarg, 64, 1024 * 1024, &o->queue_kib, err,
					sizeof(err));
			break;
		case 't':
			rc = fc_opt_double("--seconds", optarg, 0, 1e9, &o->seconds, err,
					   sizeof(err));
			break;
		case 's':
			rc = fc_opt_int("--seed", optarg, 0, LONG_MAX, &n, err, sizeof(err));
			o->seed = (uint64_t)n;
			seeded = true;
			break;
		case 'h':
			lp_usage(stdout);
			exit(0);
		case 'V':
			printf("lagproxy %s (freshcam)\n", FC_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'lagproxy --help'.\n");
			return -1;
		}
		if (rc < 0) {
			fprintf(stderr, "lagproxy: %s\n", err);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lagproxy: unexpected argument '%s'. Try 'lagproxy --help'.\n",
			argv[optind]);
		return -1;
	}
	if (!have_listen || !have_target) {
		fprintf(stderr, "lagproxy: %s is required. Try 'lagproxy --help'.\n",
			!have_listen ? "--listen [ADDR:]PORT (where clients connect)"
				     : "--connect HOST:PORT (the server to relay them to)");
		return -1;
	}
	for (int d = LP_UP; d <= LP_DOWN; d++) {
		o->delay_ms[d] = dir_delay[d] >= 0 ? dir_delay[d] : delay;
		o->jitter_ms[d] = dir_jitter[d] >= 0 ? dir_jitter[d] : jitter;
		o->rate_kbit[d] = dir_rate[d] >= 0 ? dir_rate[d] : rate;
	}
	if (!seeded)
		o->seed = fc_clock_now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

static const char *lp_shape_str(const struct lp_options *o, int d, char *buf, size_t len)
{
	char jitter[48] = "";
	char rate[48] = "no rate cap";

	if (o->jitter_ms[d] > 0)
		snprintf(jitter, sizeof(jitter), " + 0..%g ms jitter", o->jitter_ms[d]);
	if (o->rate_kbit[d])
		snprintf(rate, sizeof(rate), "%ld kbit/s", o->rate_kbit[d]);
	snprintf(buf, len, "%s %g ms%s, %s", lp_dir[d], o->delay_ms[d], jitter, rate);
	return buf;
}

static void lp_fail(struct lp_pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Marks the pair for closing with the first reason given; later ones add nothing. */
static void lp_fail(struct lp_pair *p, const char *fmt, ...)
{
	va_list ap;

	if (p->done)
		return;
	p->done = true;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

static void lp_nodelay(int fd)
{
	int one = 1;

	/* Paced writes must leave when released, not wait for Nagle; best effort. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void lp_connected(struct lp_pair *p, const struct fc_addr *target)
{
	char where[FC_NET_HOST_MAX + 16];

	p->connecting = false;
	lp_nodelay(p->fd[LP_SERVER]);
	fc_info("#%u opened: %s -> %s", p->id, p->peer,
		fc_net_addr_str(target, where, sizeof(where)));
}

/* Dials the next address of the target, without waiting; lp_check_connect() finishes it. */
static void lp_start_connect(struct lp_pair *p, const struct fc_addr *target, uint64_t now)
{
	char where[FC_NET_HOST_MAX + 16];

	while (p->next_ai) {
		const struct addrinfo *ai = p->next_ai;
		int fd;

		p->next_ai = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			p->connect_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			p->fd[LP_SERVER] = fd;
			p->connecting = true;
			p->connect_deadline_ns = now + LP_CONNECT_TIMEOUT_MS * FC_NS_PER_MS;
			return;
		}
		p->connect_errno = errno;
		close(fd);
	}
	p->connecting = false;
	lp_fail(p, "cannot connect to %s: %s", fc_net_addr_str(target, where, sizeof(where)),
		strerror(p->connect_errno));
}

/* The dial in progress has ended (writable or in error) or timed out: go on or try the next. */
static void lp_check_connect(struct lp_pair *p, const struct fc_addr *target, uint64_t now,
			     bool timed_out)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (timed_out)
		soerr = ETIMEDOUT;
	else if (getsockopt(p->fd[LP_SERVER], SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (!soerr) {
		lp_connected(p, target);
		return;
	}
	if (soerr == EINPROGRESS || soerr == EALREADY)
		return;
	close(p->fd[LP_SERVER]);
	p->fd[LP_SERVER] = -1;
	p->connect_errno = soerr;
	lp_start_connect(p, target, now);
}

/* Reads what the lane's source has, while the lane has room. */
static void lp_pump_in(struct lp_pair *p, int d)
{
	int fd = p->fd[d];

	for (int i = 0; i < LP_READS_PER_WAKE && !p->eof[d] && !p->done; i++) {
		size_t len;
		uint8_t *at = lp_lane_space(&p->lane[d], &len);
		ssize_t r;

		if (!at)
			return;
		r = read(fd, at, len);
		if (r > 0) {
			lp_lane_push(&p->lane[d], (size_t)r, fc_clock_now_ns());
			if ((size_t)r < len)
				return;
		} else if (r == 0) {
			p->eof[d] = true;
			if (p->first_eof < 0)
				p->first_eof = d;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else if (errno != EINTR) {
			lp_fail(p, "%s: read: %s", lp_side[d], strerror(errno));
		}
	}
}

/* Writes what the lane may release now; *wake_ns gets when it may release more. */
static void lp_pump_out(struct lp_pair *p, int d, uint64_t now, uint64_t *wake_ns)
{
	int fd = p->fd[1 - d];

	while (!p->done) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		uint64_t wake;
		ssize_t w;

		mh.msg_iovlen = (size_t)lp_lane_ready(&p->lane[d], now, iov, &wake);
		if (!mh.msg_iovlen) {
			if (wake < *wake_ns)
				*wake_ns = wake;
			return;
		}
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				p->blocked[d] = true;
			else if (errno == EPIPE || errno == ECONNRESET)
				lp_fail(p, "the %s went away: %s", lp_side[1 - d], strerror(errno));
			else
				lp_fail(p, "%s: write: %s", lp_side[1 - d], strerror(errno));
			return;
		}
		lp_lane_pop(&p->lane[d], (size_t)w);
		p->bytes[d] += (uint64_t)w;
	}
}

/* Moves a pair on at now: reads of hung-up sockets, due writes, half-closes, the dial's deadline.
 * *wake_ns gets the earliest time the pair needs looking at again. */
static void lp_service(struct lp_pair *p, const struct fc_addr *target, uint64_t now,
		       uint64_t *wake_ns)
{
	if (p->connecting) {
		if (now >= p->connect_deadline_ns)
			lp_check_connect(p, target, now, true);
		if (p->connecting && p->connect_deadline_ns < *wake_ns)
			*wake_ns = p->connect_deadline_ns;
	}
	for (int d = LP_UP; d <= LP_DOWN && !p->done; d++) {
		size_t room;
		bool dst_ready = !(d == LP_UP && (p->connecting || p->fd[LP_SERVER] < 0));

		/* poll() no longer watches a hung-up socket (it would wake at once, forever), so
		 * whatever it still holds for us is read here. */
		if (p->hup[d] && !p->eof[d] && !(d == LP_DOWN && p->connecting))
			lp_pump_in(p, d);
		if (!dst_ready || p->shut[d])
			continue;
		if (!p->blocked[d])
			lp_pump_out(p, d, now, wake_ns);
		/* Room made for a hung-up source: come back at once to read it. */
		if (p->hup[d] && !p->eof[d] && lp_lane_space(&p->lane[d], &room))
			*wake_ns = now;
		if (p->eof[d] && !lp_lane_held(&p->lane[d]) && !p->done) {
			/* The source ended and all it sent has left: pass the end on (half-close). */
			(void)shutdown(p->fd[1 - d], SHUT_WR);
			p->shut[d] = true;
		}
	}
	if (!p->done && p->shut[LP_UP] && p->shut[LP_DOWN])
		lp_fail(p, "%s ended first, then the %s", lp_side[p->first_eof],
			lp_side[1 - p->first_eof]);
}

static void lp_close_pair(struct lp_pair *p, uint64_t now)
{
	fc_info("#%u closed (%s) after %.1f s: up %llu bytes, down %llu bytes; most held "
		"%zu KiB up, %zu KiB down",
		p->id, p->why, (double)(now - p->opened_ns) / 1e9,
		(unsigned long long)p->bytes[LP_UP], (unsigned long long)p->bytes[LP_DOWN],
		p->lane[LP_UP].held_max / 1024, p->lane[LP_DOWN].held_max / 1024);
	for (int s = LP_CLIENT; s <= LP_SERVER; s++)
		if (p->fd[s] >= 0)
			close(p->fd[s]);
	for (int d = LP_UP; d <= LP_DOWN; d++)
		lp_lane_release(&p->lane[d]);
	free(p);
}

struct lp_proxy {
	struct lp_options o;
	struct addrinfo *target_ai;
	int lfd;
	struct lp_pair *pairs[LP_MAX_PAIRS];
	int npairs;
	unsigned next_id;
	uint64_t accept_resume_ns; /* accepting pauses until then after an error */
};

static void lp_accept(struct lp_proxy *x, uint64_t now)
{
	for (int i = 0; i < LP_READS_PER_WAKE; i++) {
		char peer[64];
		char err[128];
		struct lp_pair *p;
		int fd = fc_net_accept(x->lfd, 0, peer, sizeof(peer), err, sizeof(err));

		if (fd < 0) {
			/* Out of descriptors, say: the listening socket stays readable, so pause
			 * rather than spin, and say so once per pause. */
			if (errno != ETIMEDOUT) {
				fc_warn("%s; accepting again in %d ms", err, LP_ACCEPT_PAUSE_MS);
				x->accept_resume_ns = now + LP_ACCEPT_PAUSE_MS * FC_NS_PER_MS;
			}
			return;
		}
		x->next_id++;
		p = x->npairs < LP_MAX_PAIRS ? calloc(1, sizeof(*p)) : NULL;
		if (!p) {
			fc_warn("#%u from %s refused: %s", x->next_id, peer,
				x->npairs < LP_MAX_PAIRS ? "out of memory"
							 : "too many connections open");
			close(fd);
			continue;
		}
		p->id = x->next_id;
		p->fd[LP_CLIENT] = fd;
		p->fd[LP_SERVER] = -1;
		p->first_eof = -1;
		p->opened_ns = now;
		snprintf(p->peer, sizeof(p->peer), "%s", peer);
		for (int d = LP_UP; d <= LP_DOWN; d++) {
			struct lp_shape shape = {
				.delay_ns = (uint64_t)(x->o.delay_ms[d] * 1e6),
				.jitter_ns = (uint64_t)(x->o.jitter_ms[d] * 1e6),
				.rate_bps = (uint64_t)x->o.rate_kbit[d] * 1000,
			};
			/* Each lane its own stream of jitter, the same for a given seed however
			 * the connections' events interleave. */
			uint64_t seed = x->o.seed ^ ((uint64_t)(2 * p->id + (unsigned)d) << 40);

			lp_lane_init(&p->lane[d], &shape, (size_t)x->o.queue_kib * 1024, seed);
		}
		p->next_ai = x->target_ai;
		lp_start_connect(p, &x->o.target, now);
		x->pairs[x->npairs++] = p;
	}
}

/* Which events to wait for on each socket of a pair (fd -1: none). */
static void lp_poll_set(struct lp_pair *p, struct pollfd pfd[2])
{
	for (int s = LP_CLIENT; s <= LP_SERVER; s++) {
		size_t len;

		pfd[s] = (struct pollfd){ .fd = p->hup[s] ? -1 : p->fd[s] };
		if (s == LP_SERVER && p->connecting) {
			pfd[s].events = POLLOUT;
			continue;
		}
		/* A full lane stops reading its source: TCP then holds the far sender back. */
		if (!p->eof[s] && lp_lane_space(&p->lane[s], &len))
			pfd[s].events |= POLLIN;
		if (p->blocked[1 - s])
			pfd[s].events |= POLLOUT;
	}
}

static void lp_poll_events(struct lp_proxy *x, struct lp_pair *p, const struct pollfd pfd[2],
			   uint64_t now)
{
	for (int s = LP_CLIENT; s <= LP_SERVER && !p->done; s++) {
		short re = pfd[s].revents;

		if (!re)
			continue;
		if (s == LP_SERVER && p->connecting) {
			lp_check_connect(p, &x->o.target, now, false);
			continue;
		}
		if (re & POLLOUT)
			p->blocked[1 - s] = false;
		if (re & POLLERR) {
			int soerr = 0;
			socklen_t len = sizeof(soerr);

			(void)getsockopt(p->fd[s], SOL_SOCKET, SO_ERROR, &soerr, &len);
			lp_fail(p, "the %s went away: %s", lp_side[s],
				strerror(soerr ? soerr : EIO));
			continue;
		}
		if (re & POLLHUP) {
			p->hup[s] = true;
			/* No POLLOUT will come from it now: the next write finds out why. */
			p->blocked[1 - s] = false;
		}
		if (re & (POLLIN | POLLHUP))
			lp_pump_in(p, s);
	}
}

/* Sleeps until wake_ns at most, with the signals let through only while it waits. */
static int lp_wait(struct pollfd *pfd, nfds_t n, uint64_t now, uint64_t wake_ns,
		   const sigset_t *waitmask)
{
	uint64_t d = wake_ns > now ? wake_ns - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(d / FC_NS_PER_S),
			       .tv_nsec = (long)(d % FC_NS_PER_S) };
	int rc = ppoll(pfd, n, &ts, waitmask);

	if (rc < 0 && errno != EINTR) {
		fc_error("poll: %s", strerror(errno));
		return -1;
	}
	return rc < 0 ? 0 : rc;
}

static int lp_run(struct lp_proxy *x, const sigset_t *waitmask)
{
	static struct pollfd pfd[1 + 2 * LP_MAX_PAIRS];
	uint64_t end_ns = 0;
	int status = 0;

	if (x->o.seconds > 0)
		end_ns = fc_clock_now_ns() + (uint64_t)(x->o.seconds * 1e9);
	for (;;) {
		uint64_t now = fc_clock_now_ns();
		uint64_t wake = now + LP_TICK_MS * FC_NS_PER_MS;
		nfds_t n = 1;

		if (lp_signal) {
			fc_info("stopping (signal %d)", (int)lp_signal);
			break;
		}
		if (end_ns && now >= end_ns) {
			fc_info("stopping after %g s (--seconds)", x->o.seconds);
			break;
		}
		if (end_ns && end_ns < wake)
			wake = end_ns;
		for (int i = 0; i < x->npairs;) {
			struct lp_pair *p = x->pairs[i];

			lp_service(p, &x->o.target, now, &wake);
			if (p->done) {
				lp_close_pair(p, now);
				x->pairs[i] = x->pairs[--x->npairs];
				continue;
			}
			lp_poll_set(p, &pfd[1 + 2 * i]);
			i++;
		}
		pfd[0] = (struct pollfd){ .fd = x->lfd, .events = POLLIN };
		if (now < x->accept_resume_ns) {
			pfd[0].events = 0;
			if (x->accept_resume_ns < wake)
				wake = x->accept_resume_ns;
		}
		n += 2 * (nfds_t)x->npairs;
		if (lp_wait(pfd, n, now, wake, waitmask) < 0) {
			status = 1;
			break;
		}
		now = fc_clock_now_ns();
		/* Pairs first: lp_accept() appends new pairs that have no pollfd entries yet. */
		for (int i = 0; i < x->npairs; i++)
			lp_poll_events(x, x->pairs[i], &pfd[1 + 2 * i], now);
		if (pfd[0].revents & POLLIN)
			lp_accept(x, now);
	}
	while (x->npairs > 0) {
		struct lp_pair *p = x->pairs[--x->npairs];

		lp_fail(p, "lagproxy stopping");
		lp_close_pair(p, fc_clock_now_ns());
	}
	return status;
}

int main(int argc, char **argv)
{
	struct lp_proxy x = { .lfd = -1 };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct sigaction sa = { .sa_handler = lp_on_signal };
	sigset_t block, waitmask;
	char port[8];
	char err[256];
	char a[FC_NET_HOST_MAX + 16], b[FC_NET_HOST_MAX + 16], up[128], down[128];
	int rc;
	int status = 1;

	if (lp_parse_options(argc, argv, &x.o) < 0)
		return 2;
	fc_log_init("lagproxy", FC_LOG_INFO);
	/* Resolved once: a client's dial then never waits on a name server. */
	snprintf(port, sizeof(port), "%u", x.o.target.port);
	rc = getaddrinfo(x.o.target.host, port, &hints, &x.target_ai);
	if (rc != 0) {
		fc_error("cannot resolve %s: %s", fc_net_addr_str(&x.o.target, a, sizeof(a)),
			 gai_strerror(rc));
		return 1;
	}
	x.lfd = fc_net_listen(&x.o.listen, err, sizeof(err));
	if (x.lfd < 0) {
		fc_error("%s", err);
		goto out;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	x.o.listen.port = fc_net_local_port(x.lfd);
	fc_info("listening on %s, relaying to %s; %s; %s; at most %ld KiB held each way; seed %llu",
		fc_net_addr_str(&x.o.listen, a, sizeof(a)),
		fc_net_addr_str(&x.o.target, b, sizeof(b)),
		lp_shape_str(&x.o, LP_UP, up, sizeof(up)),
		lp_shape_str(&x.o, LP_DOWN, down, sizeof(down)), x.o.queue_kib,
		(unsigned long long)x.o.seed);
	status = lp_run(&x, &waitmask);
out:
	if (x.lfd >= 0)
		close(x.lfd);
	freeaddrinfo(x.target_ai);
	return status;
}
