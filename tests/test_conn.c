/* Tests of common/conn.c: messages over one socket, with limits and deadlines. Over socketpairs,
 * in one process, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
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
	size_t len = fc_proto_encode_version(&ping, 7, buf, sizeof(buf));

	(void)state;
	assert_int_equal(write(p.raw, buf, len), (ssize_t)len);
	assert_int_equal(fc_conn_recv(p.c, &m, 1000), -1);
	char speaks[32];

	snprintf(speaks, sizeof(speaks), "speaks %d", FC_PROTO_VERSION);
	assert_non_null(strstr(fc_conn_error(p.c), "protocol 7"));
	assert_non_null(strstr(fc_conn_error(p.c), speaks));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_in_pieces),
		cmocka_unit_test(test_several_in_one_read),
		cmocka_unit_test(test_big_frame),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_over_connection_limit),
		cmocka_unit_test(test_stalled_peer),
		cmocka_unit_test(test_peer_closed),
		cmocka_unit_test(test_bye_keeps_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
