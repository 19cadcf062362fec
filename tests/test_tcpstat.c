/*
 * Tests of common/tcpstat.c: the kernel's figures for a TCP connection, over a real connection
 * on loopback (a socketpair is not TCP and must say so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpstat.h"

/* A connected pair of TCP sockets on 127.0.0.1. */
static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*a = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*b = accept(l, NULL, NULL);
	assert_true(*b >= 0);
	close(l);
}

/* Bytes written and not yet read by the peer are acknowledged at once on loopback (the peer's
 * kernel has them): pending drops to 0 and acked counts them; the least round trip and the
 * segment size are known. */
static void test_figures(void **state)
{
	static char buf[100000];
	struct fc_tcpstat ts;
	int a, b;

	(void)state;
	tcp_pair(&a, &b);
	assert_int_equal(fc_tcpstat_read(a, &ts), 0);
	assert_int_equal(ts.pending, 0);
	assert_true(ts.mss > 0);
	assert_int_equal(write(a, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (int i = 0; i < 200; i++) {
		assert_int_equal(fc_tcpstat_read(a, &ts), 0);
		if (ts.pending == 0 && ts.acked >= sizeof(buf))
			break;
		usleep(1000);
	}
	assert_int_equal(ts.pending, 0);
	assert_true(ts.acked >= sizeof(buf));
	assert_true(ts.min_rtt_ns > 0 && ts.min_rtt_ns < 1000000000ull);
	close(a);
	close(b);
}

/* A peer that stops reading: once its receive window is full, the bytes stay pending. */
static void test_pending_when_the_peer_stops(void **state)
{
	static char buf[1 << 16];
	struct fc_tcpstat ts;
	int small = 4096;
	int a, b;
	ssize_t w;
	size_t total = 0;

	(void)state;
	tcp_pair(&a, &b);
	assert_int_equal(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 64; i++) {
		w = send(a, buf, sizeof(buf), MSG_DONTWAIT);
		if (w <= 0)
			break;
		total += (size_t)w;
	}
	assert_int_equal(fc_tcpstat_read(a, &ts), 0);
	assert_true(ts.pending > 0 && ts.pending <= total);
	close(a);
	close(b);
}

/* TCP_NOTSENT_LOWAT takes; a Unix socket has no TCP figures and says so. */
static void test_lowat_and_not_tcp(void **state)
{
	struct fc_tcpstat ts;
	unsigned v = 0;
	socklen_t len = sizeof(v);
	int a, b;
	int sv[2];

	(void)state;
	tcp_pair(&a, &b);
	assert_int_equal(fc_tcpstat_lowat(a, 16384), 0);
	assert_int_equal(getsockopt(a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len), 0);
	assert_int_equal(v, 16384);
	close(a);
	close(b);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fc_tcpstat_read(sv[0], &ts), -1);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_pending_when_the_peer_stops),
		cmocka_unit_test(test_lowat_and_not_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
