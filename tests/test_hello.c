/* Tests of common/hello.c: the HELLO exchange both sides run first, over socketpairs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "hello.h"
#include "proto.h"

static const struct fc_hello viewer_hello = {
	.role = FC_ROLE_VIEWER, .window = 2, .budget_us = 80000, .name = "freshcam-view test"
};
static const struct fc_hello sender_hello = { .role = FC_ROLE_SENDER,
					      .codec = FC_CODEC_JPEG,
					      .width = 640,
					      .height = 480,
					      .fps_milli = 30000,
					      .name = "freshcam-send test" };

struct side {
	struct fc_conn *c;
	const struct fc_hello *mine;
	struct fc_hello theirs;
	int rc;
	char err[256];
};

static void *side_main(void *arg)
{
	struct side *s = arg;

	s->rc = fc_hello_exchange(s->c, s->mine, &s->theirs, 2000, s->err, sizeof(s->err));
	return NULL;
}

/* Runs both sides at once, as two hosts would. */
static void run_both(struct side *a, struct side *b)
{
	int sv[2];
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a->c = fc_conn_new(sv[0], "a", FC_PROTO_MAX_MESSAGE, 2000);
	b->c = fc_conn_new(sv[1], "b", FC_PROTO_MAX_MESSAGE, 2000);
	pthread_create(&t, NULL, side_main, b);
	side_main(a);
	pthread_join(t, NULL);
}

/* A viewer and a sender each learn what the other said. */
static void test_viewer_meets_sender(void **state)
{
	struct side v = { .mine = &viewer_hello };
	struct side s = { .mine = &sender_hello };

	(void)state;
	run_both(&v, &s);
	assert_int_equal(v.rc, 0);
	assert_int_equal(s.rc, 0);
	assert_int_equal(v.theirs.width, 640);
	assert_int_equal(v.theirs.fps_milli, 30000);
	assert_string_equal(v.theirs.name, "freshcam-send test");
	assert_int_equal(s.theirs.budget_us, 80000);
	assert_int_equal(s.theirs.window, 2);
	fc_conn_free(v.c);
	fc_conn_free(s.c);
}

/* Two viewers (or two senders) both fail and both say why. */
static void test_same_roles_refused(void **state)
{
	struct side a = { .mine = &viewer_hello };
	struct side b = { .mine = &viewer_hello };

	(void)state;
	run_both(&a, &b);
	assert_int_equal(a.rc, -1);
	assert_int_equal(b.rc, -1);
	assert_non_null(strstr(a.err, "both ends are viewers"));
	assert_non_null(strstr(b.err, "both ends are viewers"));
	fc_conn_free(a.c);
	fc_conn_free(b.c);
}

/* Against a peer of the next protocol version: this side fails naming both versions, and tells
 * the peer with a BYE that says which version it speaks. */
static void test_version_mismatch_both_sides_told(void **state)
{
	int sv[2];
	struct fc_conn *c;
	struct fc_msg hello = { .type = FC_MSG_HELLO, .u.hello = sender_hello };
	uint8_t buf[512];
	size_t len = fc_proto_encode_version(&hello, FC_PROTO_VERSION + 1, buf, sizeof(buf));
	struct fc_hello theirs;
	char err[256];
	char want[32];
	struct fc_msg m;
	ssize_t got;
	ssize_t off = 0;
	ssize_t r;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], buf, len), (ssize_t)len);
	c = fc_conn_new(sv[0], "future-sender", FC_PROTO_MAX_MESSAGE, 2000);
	assert_int_equal(fc_hello_exchange(c, &viewer_hello, &theirs, 2000, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "protocol %d", FC_PROTO_VERSION + 1);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "speaks %d", FC_PROTO_VERSION);
	assert_non_null(strstr(err, want));
	/* What the future peer reads: our HELLO, then the BYE. */
	got = read(sv[1], buf, sizeof(buf));
	assert_true(got > 0);
	r = fc_proto_decode(buf, (size_t)got, &m, NULL);
	assert_true(r > 0);
	assert_int_equal(m.type, FC_MSG_HELLO);
	off = r;
	r = fc_proto_decode(buf + off, (size_t)(got - off), &m, NULL);
	assert_true(r > 0);
	assert_int_equal(m.type, FC_MSG_BYE);
	assert_int_equal(m.u.bye.reason, FC_BYE_VERSION);
	snprintf(want, sizeof(want), "speaks freshcam protocol %d", FC_PROTO_VERSION);
	assert_non_null(strstr(m.u.bye.text, want));
	fc_conn_free(c);
	close(sv[1]);
}

/* A BYE instead of a HELLO (a full sender) is reported with its reason and text. */
static void test_bye_instead_of_hello(void **state)
{
	int sv[2];
	struct fc_conn *c;
	struct fc_msg bye = { .type = FC_MSG_BYE, .u.bye = { .reason = FC_BYE_FULL } };
	uint8_t buf[512];
	size_t len;
	struct fc_hello theirs;
	char err[256];

	(void)state;
	strcpy(bye.u.bye.text, "this sender serves at most 1 viewers");
	len = fc_proto_encode(&bye, buf, sizeof(buf));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], buf, len), (ssize_t)len);
	c = fc_conn_new(sv[0], "full-sender", FC_PROTO_MAX_MESSAGE, 2000);
	assert_int_equal(fc_hello_exchange(c, &viewer_hello, &theirs, 2000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sender full"));
	assert_non_null(strstr(err, "at most 1 viewers"));
	fc_conn_free(c);
	close(sv[1]);
}

/* Another message first is a protocol error; silence is a timeout that names what was awaited. */
static void test_wrong_first_message_and_silence(void **state)
{
	int sv[2];
	struct fc_conn *c;
	struct fc_msg ping = { .type = FC_MSG_PING };
	uint8_t buf[64];
	size_t len = fc_proto_encode(&ping, buf, sizeof(buf));
	struct fc_hello theirs;
	char err[256];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], buf, len), (ssize_t)len);
	c = fc_conn_new(sv[0], "odd-peer", FC_PROTO_MAX_MESSAGE, 2000);
	assert_int_equal(fc_hello_exchange(c, &viewer_hello, &theirs, 2000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected HELLO, got PING"));
	fc_conn_free(c);
	close(sv[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = fc_conn_new(sv[0], "silent-peer", FC_PROTO_MAX_MESSAGE, 2000);
	assert_int_equal(fc_hello_exchange(c, &viewer_hello, &theirs, 100, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no HELLO within 100 ms"));
	fc_conn_free(c);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_viewer_meets_sender),
		cmocka_unit_test(test_same_roles_refused),
		cmocka_unit_test(test_version_mismatch_both_sides_told),
		cmocka_unit_test(test_bye_instead_of_hello),
		cmocka_unit_test(test_wrong_first_message_and_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
