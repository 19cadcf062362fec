/* Tests of common/conn.c: messages over one socket, with limits and deadlines. Over socketpairs
 * (a refusal over TCP on loopback), in one process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "net.h"
#include "proto.h"

struct pair {
	struct fc_conn *c; /* the side under test */
	int raw;	   /* the other end, written by hand */
};

static struct pair make_pair(size_t max_message, int stall_ms)
{
	int sv[2];
	struct pair p;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p.c = fc_conn_new(sv[0], "test-peer", max_message, stall_ms);
	assert_non_null(p.c);
	p.raw = sv[1];
	return p;
}

static void close_pair(struct pair *p)
{
	fc_conn_free(p->c);
	if (p->raw >= 0)
		close(p->raw);
}

static size_t encode_ping(uint64_t token, uint8_t *buf)
{
	struct fc_msg m = { .type = FC_MSG_PING, .u.ping.token = token };

	return fc_proto_encode(&m, buf, 64);
}

struct dribble {
	int fd;
	const uint8_t *bytes;
	size_t len;
};

static void *dribble_main(void *arg)
{
	struct dribble *d = arg;

	for (size_t i = 0; i < d->len; i++) {
		assert_int_equal(write(d->fd, d->bytes + i, 1), 1);
		if (i % 3 == 0)
			usleep(200);
	}
	return NULL;
}

/* A message that arrives a byte at a time is delivered whole, once. */
static void test_message_in_pieces(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	uint8_t buf[64];
	struct dribble d = { .fd = p.raw, .bytes = buf, .len = encode_ping(42, buf) };
	struct fc_msg m;
	pthread_t t;

	(void)state;
	pthread_create(&t, NULL, dribble_main, &d);
	assert_int_equal(fc_conn_recv(p.c, &m, 5000), 1);
	assert_int_equal(m.type, FC_MSG_PING);
	assert_true(m.u.ping.token == 42);
	pthread_join(t, NULL);
	assert_int_equal(fc_conn_recv(p.c, &m, 0), 0);
	close_pair(&p);
}

/* Several messages in one write come out one per call, in order; with nothing more, a zero
 * timeout returns 0 at once. */
static void test_several_in_one_read(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	uint8_t buf[256];
	size_t len = 0;
	struct fc_msg m;

	(void)state;
	for (uint64_t i = 1; i <= 5; i++)
		len += encode_ping(i, buf + len);
	assert_int_equal(write(p.raw, buf, len), (ssize_t)len);
	for (uint64_t i = 1; i <= 5; i++) {
		assert_int_equal(fc_conn_recv(p.c, &m, 1000), 1);
		assert_true(m.u.ping.token == i);
	}
	assert_int_equal(fc_conn_recv(p.c, &m, 0), 0);
	close_pair(&p);
}

struct big_send {
	struct fc_conn *c;
	struct fc_msg m;
	int rc;
};

static void *send_main(void *arg)
{
	struct big_send *b = arg;

	b->rc = fc_conn_send(b->c, &b->m, 10000);
	return NULL;
}

/* A multi-megabyte FRAME goes out with fc_conn_send and arrives byte for byte, the buffer
 * growing to fit it. */
static void test_big_frame(void **state)
{
	int sv[2];
	struct big_send b = { 0 };
	struct fc_conn *rx;
	size_t size = 3u << 20;
	uint8_t *jpeg = malloc(size);
	struct fc_msg m;
	pthread_t t;

	(void)state;
	for (size_t i = 0; i < size; i++)
		jpeg[i] = (uint8_t)(i * 7);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b.c = fc_conn_new(sv[0], "tx", FC_PROTO_MAX_MESSAGE, 5000);
	rx = fc_conn_new(sv[1], "rx", FC_PROTO_MAX_MESSAGE, 5000);
	b.m = (struct fc_msg){ .type = FC_MSG_FRAME,
			       .u.frame = { .id = 1,
					    .seq = 9,
					    .width = 1920,
					    .height = 1080,
					    .src_width = 1920,
					    .src_height = 1080,
					    .jpeg = jpeg,
					    .jpeg_size = (uint32_t)size } };
	pthread_create(&t, NULL, send_main, &b);
	assert_int_equal(fc_conn_recv(rx, &m, 10000), 1);
	pthread_join(t, NULL);
	assert_int_equal(b.rc, 0);
	assert_int_equal(m.type, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.jpeg_size, size);
	assert_memory_equal(m.u.frame.jpeg, jpeg, size);
	fc_conn_free(b.c);
	fc_conn_free(rx);
	free(jpeg);
}

/* The largest DATA (a 4096-byte document) goes out and comes in whole, like any message that is
 * encoded in one piece. */
static void test_largest_data(void **state)
{
	static uint8_t doc[FC_PROTO_MAX_DATA];
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_conn *rx = fc_conn_new(p.raw, "rx", FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_msg m = { .type = FC_MSG_DATA,
			    .u.data = { .seq = 77, .doc = doc, .size = sizeof(doc) } };

	(void)state;
	memset(doc, ' ', sizeof(doc));
	doc[0] = '"';
	memset(doc + 1, 'd', 4000);
	doc[4001] = '"';
	assert_int_equal(fc_conn_send(p.c, &m, 5000), 0);
	memset(&m, 0, sizeof(m));
	assert_int_equal(fc_conn_recv(rx, &m, 5000), 1);
	assert_int_equal(m.type, FC_MSG_DATA);
	assert_true(m.u.data.seq == 77);
	assert_int_equal(m.u.data.size, sizeof(doc));
	assert_memory_equal(m.u.data.doc, doc, sizeof(doc));
	fc_conn_free(rx);
	p.raw = -1;
	close_pair(&p);
}

/* Garbage ends the connection with a reason that says what was wrong. */
static void test_garbage(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_msg m;

	(void)state;
	assert_int_equal(write(p.raw, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	assert_non_null(strstr(fc_conn_error(p.c), "bad magic"));
	close_pair(&p);
}

/* A peer of another version is reported with both versions named. */
static void test_other_version(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	uint8_t buf[64];
	struct fc_msg ping = { .type = FC_MSG_PING };
	struct fc_msg m;
	char want[64];
	size_t len = fc_proto_encode_version(&ping, 7, buf, sizeof(buf));

	(void)state;
	assert_int_equal(write(p.raw, buf, len), (ssize_t)len);
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	assert_non_null(strstr(fc_conn_error(p.c), "protocol 7"));
	snprintf(want, sizeof(want), "this side speaks %d", FC_PROTO_VERSION);
	assert_non_null(strstr(fc_conn_error(p.c), want));
	close_pair(&p);
}

/* A length over this connection's own limit is refused from the header, before buffering. */
static void test_over_connection_limit(void **state)
{
	struct pair p = make_pair(4096, 5000);
	uint8_t hdr[8] = { 'F', 'C', FC_PROTO_VERSION, FC_MSG_FRAME, 0, 0x01, 0, 0 };
	struct fc_msg m;

	(void)state;
	assert_int_equal(write(p.raw, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	assert_non_null(strstr(fc_conn_error(p.c), "exceeds the limit"));
	close_pair(&p);
}

/* Half a message and then silence: the peer is cut off once the stall limit passes, even
 * though each call's own timeout is shorter. */
static void test_stalled_peer(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 150);
	uint8_t buf[64];
	size_t len = encode_ping(1, buf);
	struct fc_msg m;
	uint64_t t0 = fc_clock_now_ns();
	int rc;

	(void)state;
	assert_int_equal(write(p.raw, buf, len - 3), (ssize_t)(len - 3));
	while ((rc = fc_conn_recv(p.c, &m, 40)) == 0)
		assert_true(fc_clock_now_ns() - t0 < 5 * FC_NS_PER_S);
	assert_int_equal(rc, -1);
	assert_true(fc_clock_now_ns() - t0 >= 150 * FC_NS_PER_MS);
	assert_non_null(strstr(fc_conn_error(p.c), "stalled"));
	close_pair(&p);
}

struct trickle {
	int fd;
	const uint8_t *bytes;
	size_t len;
	int pause_ms;		  /* between two bytes */
	_Atomic uint64_t last_ns; /* when the last byte was written */
};

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;

	for (size_t i = 0; i < t->len; i++) {
		if (i > 0)
			fc_clock_sleep_until(fc_clock_now_ns() +
					     (uint64_t)t->pause_ms * FC_NS_PER_MS);
		/* Stamped before the write: the byte cannot reach the reader earlier, whereas a stamp
		 * after it may come late if this thread is held up (seen under TSan). */
		atomic_store(&t->last_ns, fc_clock_now_ns());
		if (write(t->fd, t->bytes + i, 1) != 1)
			return (void *)1;
	}
	return NULL;
}

#define TRICKLE_STALL_MS 1000
#define TRICKLE_PAUSE_MS 150 /* a byte every 150 ms: progress well within the stall limit */

/* A message that comes a byte at a time, slowly but steadily, for longer than the stall limit
 * in all, is received: a stall is judged by progress (a slow frame on a slow link is not cut
 * off), not by how long ago the message began. */
static void test_slow_steady_message_received(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, TRICKLE_STALL_MS);
	uint8_t buf[64];
	struct trickle t = { .fd = p.raw, .bytes = buf, .pause_ms = TRICKLE_PAUSE_MS };
	uint64_t t0 = fc_clock_now_ns();
	struct fc_msg m;
	pthread_t th;
	void *rv;
	int rc;

	(void)state;
	t.len = encode_ping(77, buf);
	assert_true((t.len - 1) * TRICKLE_PAUSE_MS > 2 * TRICKLE_STALL_MS);
	assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
	while ((rc = fc_conn_recv(p.c, &m, 50)) == 0)
		assert_true(fc_clock_now_ns() - t0 < 60 * FC_NS_PER_S);
	if (rc < 0)
		fail_msg("cut off after %.0f ms: %s", (double)(fc_clock_now_ns() - t0) / 1e6,
			 fc_conn_error(p.c));
	assert_int_equal(m.type, FC_MSG_PING);
	assert_true(m.u.ping.token == 77);
	/* It did take longer than the stall limit to arrive (the sleeps alone make sure). */
	assert_true(fc_clock_now_ns() - fc_conn_first_ns(p.c) >
		    2 * TRICKLE_STALL_MS * FC_NS_PER_MS);
	pthread_join(th, &rv);
	assert_null(rv);
	close_pair(&p);
}

/* Bytes come steadily for longer than the stall limit, then stop mid-message: the peer is cut
 * off once no byte has come for the stall limit, and not before. */
static void test_trickle_then_silence_cut(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, TRICKLE_STALL_MS);
	uint8_t buf[64];
	struct trickle t = { .fd = p.raw, .bytes = buf, .pause_ms = TRICKLE_PAUSE_MS };
	uint64_t t0 = fc_clock_now_ns();
	uint64_t cut;
	struct fc_msg m;
	char want[96];
	pthread_t th;
	void *rv;
	int rc;

	(void)state;
	t.len = encode_ping(78, buf) - 1; /* all but the last byte */
	assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
	while ((rc = fc_conn_recv(p.c, &m, 50)) == 0)
		assert_true(fc_clock_now_ns() - t0 < 60 * FC_NS_PER_S);
	cut = fc_clock_now_ns();
	pthread_join(th, &rv);
	assert_null(rv);
	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "peer stalled for %d ms with %zu of %zu bytes",
		 TRICKLE_STALL_MS, t.len, t.len + 1);
	if (!strstr(fc_conn_error(p.c), want))
		fail_msg("'%s' does not say '%s'", fc_conn_error(p.c), want);
	/* Cut only the whole stall limit after the last byte: not while bytes still came. */
	assert_true(cut >= atomic_load(&t.last_ns) + TRICKLE_STALL_MS * FC_NS_PER_MS);
	close_pair(&p);
}

/* A closed peer ends the connection with that reason; sending to it fails without SIGPIPE. */
static void test_peer_closed(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_msg m;
	struct fc_msg ping = { .type = FC_MSG_PING };

	(void)state;
	close(p.raw);
	p.raw = -1;
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	assert_non_null(strstr(fc_conn_error(p.c), "closed"));
	assert_int_equal(fc_conn_send(p.c, &ping, 1000), -1);
	close_pair(&p);
}

/* fc_conn_bye sends a BYE the peer can read, and keeps the earlier error for the log. */
static void test_bye_keeps_error(void **state)
{
	struct pair p = make_pair(FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_conn *other = fc_conn_new(dup(p.raw), "other", 4096, 1000);
	struct fc_msg m;

	(void)state;
	assert_int_equal(write(p.raw, "XX", 2), 2);
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	fc_conn_bye(p.c, FC_BYE_PROTOCOL, "you sent garbage");
	assert_non_null(strstr(fc_conn_error(p.c), "bad magic"));
	assert_int_equal(fc_conn_recv(other, &m, 1000), 1);
	assert_int_equal(m.type, FC_MSG_BYE);
	assert_int_equal(m.u.bye.reason, FC_BYE_PROTOCOL);
	assert_string_equal(m.u.bye.text, "you sent garbage");
	fc_conn_free(other);
	close_pair(&p);
}

/* A descriptor that cannot be made non-blocking is refused with the reason in errno, not kept
 * as a blocking socket that every deadline would then wait on. */
static void test_new_refuses_what_cannot_be_nonblocking(void **state)
{
	int sv[2];
	int closed;

	(void)state;
	errno = 0;
	assert_null(fc_conn_new(-1, "nobody", 4096, 1000));
	assert_int_equal(errno, EBADF);
	/* A number that was a socket a moment ago. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	closed = sv[1];
	close(closed);
	errno = 0;
	assert_null(fc_conn_new(closed, "gone", 4096, 1000));
	assert_int_equal(errno, EBADF);
	close(sv[0]);
}

/* A TCP connection on loopback, both ends non-blocking: only TCP resets a connection closed on
 * unread bytes (a socketpair does not), so the refusal is tested on one. */
static void tcp_pair(int *near, int *far)
{
	struct fc_addr a = { .host = "127.0.0.1" };
	char err[256];
	int lfd = fc_net_listen(&a, err, sizeof(err));

	assert_true(lfd >= 0);
	a.port = fc_net_local_port(lfd);
	*far = fc_net_connect(&a, 10000, err, sizeof(err));
	assert_true(*far >= 0);
	*near = fc_net_accept(lfd, 10000, NULL, 0, err, sizeof(err));
	assert_true(*near >= 0);
	close(lfd);
}

static void *refuse_main(void *arg)
{
	struct fc_conn *c = arg;

	fc_conn_refuse(c, FC_BYE_FULL, "this sender serves at most 1 viewer");
	fc_conn_free(c);
	return NULL;
}

/* A refused peer that has more to say than one message (a viewer's HELLO, then its first
 * REQUESTs) reads the BYE and then an orderly end, never a reset: the refusing side reads what
 * it sends until it closes. */
static void test_refuse_lingers(void **state)
{
	struct fc_msg ping = { .type = FC_MSG_PING };
	struct fc_conn *peer;
	struct fc_msg m;
	pthread_t t;
	int near;
	int far;

	(void)state;
	tcp_pair(&near, &far);
	peer = fc_conn_new(far, "refused", FC_PROTO_MAX_MESSAGE, 10000);
	/* More than the refusing side takes in one read. */
	for (int i = 0; i < 1000; i++) {
		ping.u.ping.token = (uint64_t)i;
		assert_int_equal(fc_conn_send(peer, &ping, 10000), 0);
	}
	pthread_create(&t, NULL, refuse_main, fc_conn_new(near, "refusing", 4096, 1000));
	assert_int_equal(fc_conn_recv(peer, &m, 10000), 1);
	assert_int_equal(m.type, FC_MSG_BYE);
	assert_int_equal(m.u.bye.reason, FC_BYE_FULL);
	assert_string_equal(m.u.bye.text, "this sender serves at most 1 viewer");
	assert_int_equal(fc_conn_recv(peer, &m, 10000), -1);
	assert_string_equal(fc_conn_error(peer), "peer closed the connection");
	fc_conn_free(peer);
	pthread_join(t, NULL);
}

/* A refused peer that neither speaks nor closes holds the refusing side for the linger time
 * only, not for good. */
static void test_refuse_silent_peer(void **state)
{
	uint64_t t0 = fc_clock_now_ns();
	struct fc_conn *c;
	int near;
	int far;

	(void)state;
	tcp_pair(&near, &far);
	c = fc_conn_new(near, "silent", 4096, 1000);
	fc_conn_refuse(c, FC_BYE_AUTH, "too many failed attempts");
	assert_true(fc_clock_now_ns() - t0 >= FC_CONN_LINGER_MS * FC_NS_PER_MS);
	assert_true(fc_clock_now_ns() - t0 < 20 * FC_NS_PER_S); /* a hang, not a speed */
	fc_conn_free(c);
	close(far);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_in_pieces),
		cmocka_unit_test(test_several_in_one_read),
		cmocka_unit_test(test_big_frame),
		cmocka_unit_test(test_largest_data),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_over_connection_limit),
		cmocka_unit_test(test_stalled_peer),
		cmocka_unit_test(test_slow_steady_message_received),
		cmocka_unit_test(test_trickle_then_silence_cut),
		cmocka_unit_test(test_peer_closed),
		cmocka_unit_test(test_bye_keeps_error),
		cmocka_unit_test(test_new_refuses_what_cannot_be_nonblocking),
		cmocka_unit_test(test_refuse_lingers),
		cmocka_unit_test(test_refuse_silent_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
