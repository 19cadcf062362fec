/* Tests of common/net.c: address parsing, listen/connect/accept on loopback, and the full-read and
 * full-write helpers over socketpairs (their deadlines, partial transfers and closed peers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

/* Generous bounds: the machine is shared, so these only catch a hang, never measure speed. */
#define LONG_MS	 30000
#define HANG_MS	 20000
#define SHORT_MS 300

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

static uint64_t ms_since(uint64_t t0)
{
	return (fc_clock_now_ns() - t0) / FC_NS_PER_MS;
}

/* A socketpair whose both ends are non-blocking, as the module expects. */
static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fc_net_set_nonblock(sv[0]), 0);
	assert_int_equal(fc_net_set_nonblock(sv[1]), 0);
}

static void close_pair(int sv[2])
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

static void set_small_buffers(int fd)
{
	int small = 4096;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
}

/* The byte at offset i of a test stream: not periodic in any power of two, so a skipped or
 * repeated chunk shows. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 7u + i / 251u) & 0xff);
}

static void fill_pattern(uint8_t *buf, size_t len, size_t offset)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(offset + i);
}

static void parse_ok(const char *text, int flags, const char *host, uint16_t port)
{
	struct fc_addr a;
	char err[256] = "";

	if (fc_net_parse_addr(text, flags, &a, err, sizeof(err)) != 0)
		fail_msg("'%s' (flags %d) refused: %s", text, flags, err);
	assert_string_equal(a.host, host);
	assert_int_equal(a.port, port);
}

static void parse_bad(const char *text, int flags, const char *expect_in_err)
{
	struct fc_addr a;
	char err[256] = "";

	if (fc_net_parse_addr(text, flags, &a, err, sizeof(err)) == 0)
		fail_msg("'%s' (flags %d) accepted as host '%s' port %u", text, flags, a.host,
			 a.port);
	assert_contains(err, expect_in_err);
}

/* HOST:PORT, [V6]:PORT and, with the host optional, a bare PORT parse into host and port. */
static void test_parse_good(void **state)
{
	(void)state;
	parse_ok("127.0.0.1:5800", 0, "127.0.0.1", 5800);
	parse_ok("localhost:1", 0, "localhost", 1);
	parse_ok("camera.example:65535", 0, "camera.example", 65535);
	parse_ok("[::1]:7373", 0, "::1", 7373);
	parse_ok("[fe80::1%lo]:80", 0, "fe80::1%lo", 80);
	parse_ok("7373", 1, "", 7373);
	parse_ok("0", 1, "", 0);
	parse_ok(":7373", 1, "", 7373);
	parse_ok("127.0.0.1:0", 1, "127.0.0.1", 0);
	parse_ok("[::1]:0", 1, "::1", 0);
}

/* Bad ports, missing ports, missing hosts and bad brackets are refused, naming the input. */
static void test_parse_bad(void **state)
{
	(void)state;
	parse_bad("7373", 0, "'7373'");
	parse_bad("host:65536", 0, "'host:65536'");
	parse_bad("host:65536", 1, "'host:65536'");
	parse_bad("65536", 1, "'65536'");
	parse_bad("host:99999999999999999999", 0, "'host:99999999999999999999'");
	parse_bad("host:-1", 0, "'host:-1'");
	parse_bad("host:http", 0, "'host:http'");
	parse_bad("host:80x", 0, "'host:80x'");
	parse_bad("host:8 0", 0, "'host:8 0'");
	parse_bad("host:", 0, "'host:'");
	parse_bad("host:", 1, "'host:'");
	parse_bad("", 1, "''");
	parse_bad("", 0, "''");
	parse_bad("abc", 1, "'abc'");
	parse_bad(":7373", 0, "':7373'");
	parse_bad("[]:7373", 0, "'[]:7373'");
	parse_bad("host:0", 0, "'host:0'");
	parse_bad("[::1]", 0, "'[::1]'");
	parse_bad("[::1]:", 0, "'[::1]:'");
	parse_bad("[::1:7373", 0, "'[::1:7373'");
	parse_bad("[::1]7373", 0, "'[::1]7373'");
	parse_bad("[::1]:80:81", 0, "'[::1]:80:81'");
	/* The messages also say what is wanted. */
	parse_bad("host:65536", 0, "0 to 65535");
	parse_bad("7373", 0, "HOST:PORT");
}

/* A host longer than the buffer is refused (not truncated) and the message quotes its start. */
static void test_parse_host_too_long(void **state)
{
	char text[FC_NET_HOST_MAX + 32];
	struct fc_addr a;
	char err[256] = "";

	(void)state;
	memset(text, 'h', FC_NET_HOST_MAX);
	snprintf(text + FC_NET_HOST_MAX, sizeof(text) - FC_NET_HOST_MAX, ":80");
	assert_int_equal(fc_net_parse_addr(text, 0, &a, err, sizeof(err)), -1);
	assert_contains(err, "too long");
	assert_contains(err, "hhhhhhhhhhhhhhhhhhhh");
	/* One shorter fits exactly. */
	memmove(text + FC_NET_HOST_MAX - 1, text + FC_NET_HOST_MAX, 4);
	assert_int_equal(fc_net_parse_addr(text, 0, &a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a.host), FC_NET_HOST_MAX - 1);
	assert_int_equal(a.port, 80);
}

/* fc_net_addr_str brackets IPv6 hosts and writes "*" for the wildcard host. */
static void test_addr_str(void **state)
{
	struct fc_addr a = { .host = "127.0.0.1", .port = 5800 };
	char buf[FC_NET_HOST_MAX + 16];

	(void)state;
	assert_string_equal(fc_net_addr_str(&a, buf, sizeof(buf)), "127.0.0.1:5800");
	snprintf(a.host, sizeof(a.host), "::1");
	assert_string_equal(fc_net_addr_str(&a, buf, sizeof(buf)), "[::1]:5800");
	a.host[0] = '\0';
	a.port = 7373;
	assert_string_equal(fc_net_addr_str(&a, buf, sizeof(buf)), "*:7373");
}

static int listen_loopback(uint16_t port, uint16_t *got)
{
	struct fc_addr a = { .host = "127.0.0.1", .port = port };
	char err[256] = "";
	int fd = fc_net_listen(&a, err, sizeof(err));

	if (fd < 0)
		fail_msg("listen on 127.0.0.1:%u: %s", port, err);
	*got = fc_net_local_port(fd);
	assert_true(*got != 0);
	if (port)
		assert_int_equal(*got, port);
	return fd;
}

static void assert_nonblock_cloexec(int fd)
{
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void assert_nodelay(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_true(v != 0);
}

/* Copies n bytes from `from` to `to` with the module's helpers and checks they arrive intact. */
static void exchange(int from, int to, size_t n, size_t offset)
{
	uint8_t *out = malloc(n);
	uint8_t *in = malloc(n + 1);
	char hdr[4] = "HDR:";
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { out, n } };
	char err[256] = "";
	char got_hdr[4];

	assert_non_null(out);
	assert_non_null(in);
	fill_pattern(out, n, offset);
	if (fc_net_writev_full(from, iov, 2, LONG_MS, err, sizeof(err)) != 0)
		fail_msg("writev_full: %s", err);
	if (fc_net_read_full(to, got_hdr, sizeof(got_hdr), LONG_MS, err, sizeof(err)) != 0)
		fail_msg("read_full header: %s", err);
	assert_memory_equal(got_hdr, hdr, sizeof(hdr));
	if (fc_net_read_full(to, in, n, LONG_MS, err, sizeof(err)) != 0)
		fail_msg("read_full body: %s", err);
	assert_memory_equal(in, out, n);
	/* Nothing more was sent, so nothing more is there. */
	assert_int_equal(fc_net_read_some(to, in, 1, err, sizeof(err)), 0);
	free(out);
	free(in);
}

/* port 0 listen, connect, accept: bytes go both ways; sockets non-blocking, CLOEXEC, NODELAY. */
static void test_tcp_round_trip(void **state)
{
	struct fc_addr a = { .host = "127.0.0.1" };
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);
	char err[256] = "";
	char peer[64] = "";
	char want[64];
	uint16_t port;
	int lfd, cfd, sfd;

	(void)state;
	lfd = listen_loopback(0, &port);
	assert_nonblock_cloexec(lfd);
	a.port = port;
	cfd = fc_net_connect(&a, LONG_MS, err, sizeof(err));
	if (cfd < 0)
		fail_msg("connect: %s", err);
	sfd = fc_net_accept(lfd, LONG_MS, peer, sizeof(peer), err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	/* The peer text is the client's own address and port. */
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&local, &llen), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(local.sin_port));
	assert_string_equal(peer, want);
	assert_nonblock_cloexec(cfd);
	assert_nonblock_cloexec(sfd);
	assert_nodelay(cfd);
	assert_nodelay(sfd);
	exchange(cfd, sfd, 1000, 0);
	exchange(sfd, cfd, 70000, 3);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* A name that resolves (localhost) connects too, whichever of its addresses it tries first. */
static void test_connect_by_name(void **state)
{
	struct fc_addr a = { .host = "localhost" };
	char err[256] = "";
	uint16_t port;
	int lfd, cfd, sfd;

	(void)state;
	lfd = listen_loopback(0, &port);
	a.port = port;
	cfd = fc_net_connect(&a, LONG_MS, err, sizeof(err));
	if (cfd < 0)
		fail_msg("connect: %s", err);
	sfd = fc_net_accept(lfd, LONG_MS, NULL, 0, err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	exchange(cfd, sfd, 10, 0);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* Over IPv6 loopback the same works and the peer is written [::1]:PORT (skipped without IPv6). */
static void test_tcp_round_trip_v6(void **state)
{
	struct fc_addr a = { .host = "::1", .port = 0 };
	char err[256] = "";
	char peer[64] = "";
	int lfd, cfd, sfd;

	(void)state;
	lfd = fc_net_listen(&a, err, sizeof(err));
	if (lfd < 0) {
		print_message("skipped: test_tcp_round_trip_v6: no IPv6 loopback here (%s)\n", err);
		skip();
	}
	a.port = fc_net_local_port(lfd);
	assert_true(a.port != 0);
	cfd = fc_net_connect(&a, LONG_MS, err, sizeof(err));
	if (cfd < 0)
		fail_msg("connect: %s", err);
	sfd = fc_net_accept(lfd, LONG_MS, peer, sizeof(peer), err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	assert_true(strncmp(peer, "[::1]:", 6) == 0);
	exchange(cfd, sfd, 100, 1);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* A second listener on a port in use fails, saying so and naming the address. */
static void test_listen_twice(void **state)
{
	struct fc_addr a = { .host = "127.0.0.1" };
	char err[256] = "";
	char where[64];
	uint16_t port;
	int lfd, fd2;

	(void)state;
	lfd = listen_loopback(0, &port);
	a.port = port;
	fd2 = fc_net_listen(&a, err, sizeof(err));
	if (fd2 >= 0)
		close(fd2);
	assert_int_equal(fd2, -1);
	assert_contains(err, "Address already in use");
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	assert_contains(err, where);
	close(lfd);
}

/* A closed loopback port is refused at once, not after the timeout, naming the address. */
static void test_connect_refused(void **state)
{
	struct fc_addr a = { .host = "127.0.0.1" };
	char err[256] = "";
	char where[64];
	uint64_t t0;
	uint16_t port;
	int lfd, fd;

	(void)state;
	/* A port that was free a moment ago and that nothing listens on now. */
	lfd = listen_loopback(0, &port);
	close(lfd);
	a.port = port;
	t0 = fc_clock_now_ns();
	fd = fc_net_connect(&a, 2 * HANG_MS, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -1);
	assert_contains(err, "Connection refused");
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	assert_contains(err, where);
	/* It did not sit out its timeout (only a hang bound, not a speed check). */
	assert_true(ms_since(t0) < HANG_MS);
}

/* Accept with nothing pending waits its timeout, then returns -1 with errno ETIMEDOUT. */
static void test_accept_timeout(void **state)
{
	char err[256] = "";
	char peer[64] = "untouched";
	uint64_t t0;
	uint16_t port;
	int lfd, fd;

	(void)state;
	lfd = listen_loopback(0, &port);
	t0 = fc_clock_now_ns();
	errno = 0;
	fd = fc_net_accept(lfd, SHORT_MS, peer, sizeof(peer), err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_contains(err, "timed out");
	assert_string_equal(peer, "untouched");
	/* It did wait (roughly) its time, and did return. */
	assert_true(ms_since(t0) >= SHORT_MS / 2);
	assert_true(ms_since(t0) < HANG_MS);
	close(lfd);
}

struct dribble {
	int fd;
	const uint8_t *bytes;
	size_t len;
	size_t piece;
	int pause_ms;
	int close_after; /* close fd once everything is written */
};

static void *dribble_main(void *arg)
{
	struct dribble *d = arg;

	for (size_t off = 0; off < d->len; off += d->piece) {
		size_t n = d->len - off < d->piece ? d->len - off : d->piece;
		struct iovec iov = { (void *)(d->bytes + off), n };
		char err[256];

		fc_clock_sleep_until(fc_clock_now_ns() + (uint64_t)d->pause_ms * FC_NS_PER_MS);
		if (fc_net_writev_full(d->fd, &iov, 1, LONG_MS, err, sizeof(err)) != 0)
			return (void *)1;
	}
	if (d->close_after)
		close(d->fd);
	return NULL;
}

/* read_full collects exactly N bytes that arrive in pieces, and leaves the bytes after them. */
static void test_read_full_pieces(void **state)
{
	enum { N = 5000, EXTRA = 7 };
	static uint8_t sent[N + EXTRA];
	uint8_t got[N + EXTRA];
	struct dribble d = { .bytes = sent, .len = sizeof(sent), .piece = 701, .pause_ms = 10 };
	char err[256] = "";
	pthread_t t;
	void *rv;
	int sv[2];

	(void)state;
	make_pair(sv);
	fill_pattern(sent, sizeof(sent), 0);
	d.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
	memset(got, 0, sizeof(got));
	if (fc_net_read_full(sv[0], got, N, LONG_MS, err, sizeof(err)) != 0)
		fail_msg("read_full: %s", err);
	assert_memory_equal(got, sent, N);
	assert_int_equal(pthread_join(t, &rv), 0);
	assert_null(rv);
	/* The EXTRA bytes after the N were not consumed. */
	if (fc_net_read_full(sv[0], got + N, EXTRA, LONG_MS, err, sizeof(err)) != 0)
		fail_msg("read_full extra: %s", err);
	assert_memory_equal(got + N, sent + N, EXTRA);
	assert_int_equal(fc_net_read_some(sv[0], got, 1, err, sizeof(err)), 0);
	close_pair(sv);
}

/* When fewer bytes come than asked, read_full times out with a message saying how many came. */
static void test_read_full_timeout(void **state)
{
	uint8_t buf[20];
	char err[256] = "";
	uint64_t t0;
	int sv[2];

	(void)state;
	make_pair(sv);
	assert_int_equal(write(sv[1], "0123456789", 10), 10);
	t0 = fc_clock_now_ns();
	assert_int_equal(fc_net_read_full(sv[0], buf, 20, SHORT_MS, err, sizeof(err)), -1);
	assert_contains(err, "timed out");
	assert_contains(err, "10 of 20");
	assert_true(ms_since(t0) >= SHORT_MS / 2);
	assert_true(ms_since(t0) < HANG_MS);
	close_pair(sv);
}

/* End of stream before N bytes is a "peer closed" error, without waiting for the timeout. */
static void test_read_full_eof(void **state)
{
	static const uint8_t five[5] = { 1, 2, 3, 4, 5 };
	struct dribble d = {
		.bytes = five, .len = 5, .piece = 2, .pause_ms = 20, .close_after = 1
	};
	uint8_t buf[20];
	char err[256] = "";
	uint64_t t0;
	pthread_t t;
	void *rv;
	int sv[2];

	(void)state;
	make_pair(sv);
	d.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
	t0 = fc_clock_now_ns();
	assert_int_equal(fc_net_read_full(sv[0], buf, sizeof(buf), 2 * HANG_MS, err, sizeof(err)),
			 -1);
	assert_contains(err, "peer closed");
	assert_true(ms_since(t0) < HANG_MS);
	assert_int_equal(pthread_join(t, &rv), 0);
	assert_null(rv);
	sv[1] = -1; /* closed by the thread */
	close_pair(sv);
}

/* read_some returns 0 when nothing is there and wait_readable times out with 0. */
static void test_read_some_nothing(void **state)
{
	uint8_t buf[4];
	char err[256] = "";
	int sv[2];

	(void)state;
	make_pair(sv);
	assert_int_equal(fc_net_read_some(sv[0], buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(fc_net_wait_readable(sv[0], 50, err, sizeof(err)), 0);
	assert_int_equal(write(sv[1], "ab", 2), 2);
	assert_int_equal(fc_net_wait_readable(sv[0], LONG_MS, err, sizeof(err)), 1);
	assert_int_equal(fc_net_read_some(sv[0], buf, sizeof(buf), err, sizeof(err)), 2);
	assert_memory_equal(buf, "ab", 2);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(fc_net_read_some(sv[0], buf, sizeof(buf), err, sizeof(err)), -1);
	assert_contains(err, "peer closed");
	close_pair(sv);
}

struct sink {
	int fd;
	size_t expect;
	size_t chunk; /* read at most this much at a time */
	size_t got;
	size_t first_bad; /* offset of the first wrong byte, or SIZE_MAX */
};

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	uint8_t *buf = malloc(s->chunk);
	char err[256];

	s->first_bad = SIZE_MAX;
	if (!buf)
		return (void *)1;
	while (s->got < s->expect) {
		size_t want = s->expect - s->got < s->chunk ? s->expect - s->got : s->chunk;
		long r;

		if (fc_net_wait_readable(s->fd, LONG_MS, err, sizeof(err)) != 1)
			break;
		r = fc_net_read_some(s->fd, buf, want, err, sizeof(err));
		if (r < 0)
			break;
		for (long i = 0; i < r; i++) {
			if (buf[i] != pattern(s->got + (size_t)i) && s->first_bad == SIZE_MAX)
				s->first_bad = s->got + (size_t)i;
		}
		s->got += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* Odd-sized iovecs (one empty, one of 6 MB) go out whole and in order to a concurrent reader. */
static void test_writev_full_large(void **state)
{
	static const size_t sizes[] = { 1, 13, 0, (6u << 20) + 3, 4099, 2 };
	enum { NIOV = sizeof(sizes) / sizeof(sizes[0]) };
	struct iovec iov[NIOV];
	uint8_t *bufs[NIOV];
	size_t total = 0;
	char err[256] = "";

	(void)state;
	for (int i = 0; i < NIOV; i++) {
		bufs[i] = malloc(sizes[i] ? sizes[i] : 1);
		assert_non_null(bufs[i]);
		fill_pattern(bufs[i], sizes[i], total);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizes[i];
		total += sizes[i];
	}
	for (int small = 0; small < 2; small++) {
		/* Small socket buffers force partial writes that end inside an iovec. */
		struct sink s = { .expect = total, .chunk = small ? 1000 : 65536 };
		pthread_t t;
		int sv[2];

		make_pair(sv);
		if (small) {
			set_small_buffers(sv[0]);
			set_small_buffers(sv[1]);
		}
		s.fd = sv[1];
		assert_int_equal(pthread_create(&t, NULL, sink_main, &s), 0);
		if (fc_net_writev_full(sv[0], iov, NIOV, 4 * LONG_MS, err, sizeof(err)) != 0)
			fail_msg("writev_full (small buffers %d): %s", small, err);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(s.got, total);
		if (s.first_bad != SIZE_MAX)
			fail_msg("byte %zu of %zu is wrong (small buffers %d)", s.first_bad, total,
				 small);
		/* The caller's iovecs were not changed. */
		for (int i = 0; i < NIOV; i++) {
			assert_ptr_equal(iov[i].iov_base, bufs[i]);
			assert_int_equal(iov[i].iov_len, sizes[i]);
		}
		close_pair(sv);
	}
	for (int i = 0; i < NIOV; i++)
		free(bufs[i]);
}

/* A peer that never reads makes writev_full fail with a timeout message instead of hanging. */
static void test_writev_full_stalled_peer(void **state)
{
	size_t len = 4u << 20;
	uint8_t *buf = calloc(1, len);
	struct iovec iov = { buf, len };
	char err[256] = "";
	uint64_t t0;
	int sv[2];

	(void)state;
	assert_non_null(buf);
	make_pair(sv);
	set_small_buffers(sv[0]);
	set_small_buffers(sv[1]);
	t0 = fc_clock_now_ns();
	assert_int_equal(fc_net_writev_full(sv[0], &iov, 1, SHORT_MS, err, sizeof(err)), -1);
	assert_contains(err, "no progress");
	assert_true(ms_since(t0) >= SHORT_MS / 2);
	assert_true(ms_since(t0) < HANG_MS);
	close_pair(sv);
	free(buf);
}

/* Writing to a closed peer is an EPIPE error, not a SIGPIPE (left at its default here). */
static void test_writev_closed_peer(void **state)
{
	struct iovec iov = { "hello", 5 };
	char err[256] = "";
	int sv[2];

	(void)state;
	make_pair(sv);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(fc_net_writev_full(sv[0], &iov, 1, LONG_MS, err, sizeof(err)), -1);
	assert_contains(err, "Broken pipe");
	close_pair(sv);
}

/* The same over TCP: after the other end closes, writes soon fail with an error, no signal. */
static void test_writev_closed_tcp_peer(void **state)
{
	struct fc_addr a = { .host = "127.0.0.1" };
	uint8_t chunk[1024] = { 0 };
	struct iovec iov = { chunk, sizeof(chunk) };
	char err[256] = "";
	uint16_t port;
	int lfd, cfd, sfd;
	int rc = 0;

	(void)state;
	lfd = listen_loopback(0, &port);
	a.port = port;
	cfd = fc_net_connect(&a, LONG_MS, err, sizeof(err));
	if (cfd < 0)
		fail_msg("connect: %s", err);
	sfd = fc_net_accept(lfd, LONG_MS, NULL, 0, err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	close(sfd);
	/* The first write may still be accepted locally; the RST makes a later one fail. */
	for (int i = 0; i < 1000 && rc == 0; i++)
		rc = fc_net_writev_full(cfd, &iov, 1, LONG_MS, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_true(strstr(err, "Broken pipe") || strstr(err, "Connection reset"));
	close(cfd);
	close(lfd);
}

/* writev_full takes 1 to 8 buffers and refuses other counts with a message. */
static void test_writev_count(void **state)
{
	struct iovec iov[9];
	char err[256] = "";
	char one = 'x';
	char got[8];
	int sv[2];

	(void)state;
	make_pair(sv);
	for (int i = 0; i < 9; i++) {
		iov[i].iov_base = &one;
		iov[i].iov_len = 1;
	}
	assert_int_equal(fc_net_writev_full(sv[0], iov, 0, LONG_MS, err, sizeof(err)), -1);
	assert_contains(err, "0 buffers");
	assert_int_equal(fc_net_writev_full(sv[0], iov, 9, LONG_MS, err, sizeof(err)), -1);
	assert_contains(err, "9 buffers");
	/* Nothing went out for the refused calls; 8 is fine. */
	assert_int_equal(fc_net_read_some(sv[1], got, sizeof(got), err, sizeof(err)), 0);
	assert_int_equal(fc_net_writev_full(sv[0], iov, 8, LONG_MS, err, sizeof(err)), 0);
	assert_int_equal(fc_net_read_full(sv[1], got, 8, LONG_MS, err, sizeof(err)), 0);
	assert_memory_equal(got, "xxxxxxxx", 8);
	close_pair(sv);
}

/* IPv6 addresses: "[::1]:7373" everywhere; a bare "::1" (any IPv6 address without brackets) is an
 * address without a port, never host ":" and port 1; with the port optional, "::1" and "[::1]"
 * take the default port. */
static void test_parse_ipv6(void **state)
{
	(void)state;
	parse_ok("::1", FC_NET_PORT_OPTIONAL, "::1", FC_NET_DEFAULT_PORT);
	parse_ok("[::1]", FC_NET_PORT_OPTIONAL, "::1", FC_NET_DEFAULT_PORT);
	parse_ok("[::1]:8000", FC_NET_PORT_OPTIONAL, "::1", 8000);
	parse_ok("2001:db8::7373", FC_NET_PORT_OPTIONAL, "2001:db8::7373", FC_NET_DEFAULT_PORT);
	parse_ok("fe80::1%lo", FC_NET_PORT_OPTIONAL, "fe80::1%lo", FC_NET_DEFAULT_PORT);
	parse_ok("::ffff:127.0.0.1", FC_NET_PORT_OPTIONAL, "::ffff:127.0.0.1", FC_NET_DEFAULT_PORT);
	parse_ok("::", FC_NET_PORT_OPTIONAL, "::", FC_NET_DEFAULT_PORT);
	parse_ok("[::]:7373", FC_NET_HOST_OPTIONAL, "::", 7373);
	/* Names and IPv4 addresses, with the port optional. */
	parse_ok("camera-host", FC_NET_PORT_OPTIONAL, "camera-host", FC_NET_DEFAULT_PORT);
	parse_ok("10.0.0.7", FC_NET_PORT_OPTIONAL, "10.0.0.7", FC_NET_DEFAULT_PORT);
	parse_ok("camera-host:80", FC_NET_PORT_OPTIONAL, "camera-host", 80);
	/* Where a port is needed, a bare IPv6 address is refused with the way to write one. */
	parse_bad("::1", 0, "'::1': no port; write it [::1]:PORT (for example [::1]:7373)");
	parse_bad("::1", FC_NET_HOST_OPTIONAL, "[::1]:PORT");
	parse_bad("[::1]", FC_NET_HOST_OPTIONAL, "[::1]:PORT");
	parse_bad("camera-host", 0, "HOST:PORT");
	/* Two colons or more that are not an IPv6 address: neither, said so. */
	parse_bad("host:80:81", 0, "'host:80:81' is neither HOST:PORT nor an IPv6 address");
	parse_bad("host:80:81", FC_NET_PORT_OPTIONAL, "[ADDR]:PORT");
	parse_bad("::1:", FC_NET_PORT_OPTIONAL, "'::1:'");
	parse_bad(":::1", FC_NET_PORT_OPTIONAL, "':::1'");
	parse_bad("::1::", FC_NET_HOST_OPTIONAL, "'::1::'");
	/* The port optional, but not 0 nor out of range; the host still needed. */
	parse_bad("[::1]:0", FC_NET_PORT_OPTIONAL, "above 0");
	parse_bad("camera-host:0", FC_NET_PORT_OPTIONAL, "above 0");
	parse_bad("[::1]:65536", FC_NET_PORT_OPTIONAL, "0 to 65535");
	parse_bad("[]", FC_NET_PORT_OPTIONAL, "'[]'");
	parse_bad("", FC_NET_PORT_OPTIONAL, "''");
	parse_bad("[::1]x", FC_NET_PORT_OPTIONAL, "[ADDR]:PORT");
}

/* From the text a person types to a connection over IPv6 loopback: "[::1]:0" to listen,
 * "[::1]:PORT" to dial; the listening socket is IPv6, bound to ::1 only (skipped without IPv6). */
static void test_parsed_v6_connects(void **state)
{
	struct fc_addr la, ca;
	struct sockaddr_in6 bound;
	socklen_t blen = sizeof(bound);
	char err[256] = "";
	char text[64];
	char peer[64] = "";
	int lfd, cfd, sfd;

	(void)state;
	assert_int_equal(fc_net_parse_addr("[::1]:0", FC_NET_HOST_OPTIONAL, &la, err, sizeof(err)),
			 0);
	lfd = fc_net_listen(&la, err, sizeof(err));
	if (lfd < 0) {
		print_message("no IPv6 loopback here (%s); skipping\n", err);
		skip();
	}
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&bound, &blen), 0);
	assert_int_equal(bound.sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_LOOPBACK(&bound.sin6_addr));
	snprintf(text, sizeof(text), "[::1]:%u", fc_net_local_port(lfd));
	assert_int_equal(fc_net_parse_addr(text, 0, &ca, err, sizeof(err)), 0);
	cfd = fc_net_connect(&ca, LONG_MS, err, sizeof(err));
	if (cfd < 0)
		fail_msg("connect to %s: %s", text, err);
	sfd = fc_net_accept(lfd, LONG_MS, peer, sizeof(peer), err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	assert_true(strncmp(peer, "[::1]:", 6) == 0);
	exchange(cfd, sfd, 100, 2);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* A listener on every address (host "") takes IPv6 loopback connections too. */
static void test_any_listener_takes_v6(void **state)
{
	struct fc_addr la = { .host = "" };
	struct fc_addr ca = { .host = "::1" };
	char err[256] = "";
	char peer[64] = "";
	int lfd, cfd, sfd;

	(void)state;
	lfd = fc_net_listen(&la, err, sizeof(err));
	if (lfd < 0)
		fail_msg("listen on every address: %s", err);
	ca.port = fc_net_local_port(lfd);
	cfd = fc_net_connect(&ca, LONG_MS, err, sizeof(err));
	if (cfd < 0) {
		close(lfd);
		print_message("no IPv6 loopback here (%s); skipping\n", err);
		skip();
	}
	sfd = fc_net_accept(lfd, LONG_MS, peer, sizeof(peer), err, sizeof(err));
	if (sfd < 0)
		fail_msg("accept: %s", err);
	assert_true(strncmp(peer, "[::1]:", 6) == 0);
	close(cfd);
	close(sfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_host_too_long),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_tcp_round_trip),
		cmocka_unit_test(test_connect_by_name),
		cmocka_unit_test(test_tcp_round_trip_v6),
		cmocka_unit_test(test_parsed_v6_connects),
		cmocka_unit_test(test_any_listener_takes_v6),
		cmocka_unit_test(test_listen_twice),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_accept_timeout),
		cmocka_unit_test(test_read_full_pieces),
		cmocka_unit_test(test_read_full_timeout),
		cmocka_unit_test(test_read_full_eof),
		cmocka_unit_test(test_read_some_nothing),
		cmocka_unit_test(test_writev_full_large),
		cmocka_unit_test(test_writev_full_stalled_peer),
		cmocka_unit_test(test_writev_closed_peer),
		cmocka_unit_test(test_writev_closed_tcp_peer),
		cmocka_unit_test(test_writev_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
