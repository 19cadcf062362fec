/* Tests of sender/serve/ws.c's pure parts (which pages may open the WebSocket, how its viewer is
 * named) and of fc_server_adopt, which the bridge starts each browser's session with: a viewer on
 * one end of a socketpair is served, listed under the name given, and counted toward
 * --max-viewers like any other. The pumping itself needs an lws loop: tests/web/test_bridge.mjs
 * drives it end to end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "hello.h"
#include "ladder.h"
#include "server.h"
#include "slot.h"
#include "ws.h"

#define WAIT_MS 5000

/* A page may open the WebSocket only from the sender's own origin; a program sends none. */
static void test_origin(void **state)
{
	(void)state;
	assert_true(fc_ws_origin_ok(NULL, "127.0.0.1:8080"));
	assert_true(fc_ws_origin_ok("", "127.0.0.1:8080"));
	assert_true(fc_ws_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
	assert_true(fc_ws_origin_ok("https://cam.local:8443", "cam.local:8443"));
	assert_true(fc_ws_origin_ok("http://[::1]:8080", "[::1]:8080"));
	/* Another site, another port of this host, a look-alike, no Host, another scheme. */
	assert_false(fc_ws_origin_ok("http://evil.example", "127.0.0.1:8080"));
	assert_false(fc_ws_origin_ok("http://127.0.0.1:9090", "127.0.0.1:8080"));
	assert_false(fc_ws_origin_ok("http://127.0.0.1:8080.evil.example", "127.0.0.1:8080"));
	assert_false(fc_ws_origin_ok("http://127.0.0.1:8080", NULL));
	assert_false(fc_ws_origin_ok("http://127.0.0.1:8080", ""));
	assert_false(fc_ws_origin_ok("null", "127.0.0.1:8080"));
	assert_false(fc_ws_origin_ok("file://127.0.0.1:8080", "127.0.0.1:8080"));
}

/* Browser viewers are named like TCP ones, after "ws:". */
static void test_peer_name(void **state)
{
	char buf[80];

	(void)state;
	fc_ws_peer_name(buf, sizeof(buf), "127.0.0.1", 5555);
	assert_string_equal(buf, "ws:127.0.0.1:5555");
	fc_ws_peer_name(buf, sizeof(buf), "::ffff:10.0.0.7", 80);
	assert_string_equal(buf, "ws:10.0.0.7:80");
	fc_ws_peer_name(buf, sizeof(buf), "2001:db8::7", 443);
	assert_string_equal(buf, "ws:[2001:db8::7]:443");
	fc_ws_peer_name(buf, sizeof(buf), "?", 0);
	assert_string_equal(buf, "ws:?:0");
}

struct rig {
	struct fc_slot *slot;
	struct fc_ladder ladder;
	struct fc_server *srv;
};

static void rig_start(struct rig *r, int max_viewers)
{
	/* No frame is ever published: these viewers only say HELLO, and the size is not known. */
	struct fc_server_cfg cfg = { .addr = { .host = "127.0.0.1" }, .max_viewers = max_viewers };
	struct fc_session_cfg *s = &cfg.session;
	char err[256];

	memset(r, 0, sizeof(*r));
	r->slot = fc_slot_new();
	assert_non_null(r->slot);
	fc_ladder_init(&r->ladder, 80, false, false);
	s->slot = r->slot;
	s->ladder = &r->ladder;
	s->period_ns = 33 * FC_NS_PER_MS;
	s->hello =
	    (struct fc_hello){ .role = FC_ROLE_SENDER, .codec = FC_CODEC_JPEG, .name = "ws" };
	s->io_timeout_ms = 2000;
	s->idle_timeout_ms = 5000;
	r->srv = fc_server_start(&cfg, err, sizeof(err));
	if (!r->srv)
		fail_msg("server: %s", err);
}

static void rig_stop(struct rig *r)
{
	fc_server_stop(r->srv);
	fc_slot_free(r->slot);
}

/* Adopts one end of a socketpair as a viewer named name; returns the other end as a conn. */
static struct fc_conn *adopt(struct rig *r, const char *name)
{
	int sv[2];
	char err[256];
	struct fc_conn *c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (fc_server_adopt(r->srv, sv[0], name, err, sizeof(err)) < 0)
		fail_msg("adopt: %s", err);
	c = fc_conn_new(sv[1], "test-sender", FC_PROTO_MAX_MESSAGE, 5000);
	assert_non_null(c);
	return c;
}

static const struct fc_hello viewer_hello = {
	.role = FC_ROLE_VIEWER, .window = 2, .budget_us = 80000, .name = "freshcam-page"
};

/* Waits for the server to list n viewers; the first's peer into name. */
static void wait_listed(struct rig *r, int n, char *name, size_t len)
{
	uint64_t end = fc_clock_now_ns() + (uint64_t)WAIT_MS * FC_NS_PER_MS;
	struct fc_viewer_stats v[4];
	int got;

	while ((got = fc_server_stats(r->srv, v, 4)) != n) {
		if (fc_clock_now_ns() > end)
			fail_msg("expected %d viewers listed, got %d", n, got);
		usleep(5000);
	}
	if (n && name)
		snprintf(name, len, "%s", v[0].peer);
}

/* An adopted descriptor gets an ordinary session: the HELLO exchange, a listing under the name
 * the bridge gave, and a departure counted when its end closes. */
static void test_adopt_serves(void **state)
{
	struct rig r;
	struct fc_conn *c;
	struct fc_hello theirs;
	struct fc_session_stats gone;
	char err[256], name[64];
	uint64_t end;

	(void)state;
	rig_start(&r, 4);
	c = adopt(&r, "ws:127.0.0.1:5555");
	if (fc_hello_exchange(c, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) < 0)
		fail_msg("HELLO exchange: %s", err);
	assert_int_equal(theirs.role, FC_ROLE_SENDER);
	wait_listed(&r, 1, name, sizeof(name));
	assert_string_equal(name, "ws:127.0.0.1:5555");
	fc_conn_free(c);
	end = fc_clock_now_ns() + (uint64_t)WAIT_MS * FC_NS_PER_MS;
	while (fc_server_departed(r.srv, &gone, NULL) != 1) {
		if (fc_clock_now_ns() > end)
			fail_msg("the adopted viewer never departed");
		usleep(5000);
	}
	rig_stop(&r);
}

/* Adopted viewers count toward --max-viewers: with one place taken, the next is told BYE 4. */
static void test_adopt_counts_toward_max(void **state)
{
	struct rig r;
	struct fc_conn *a, *b;
	struct fc_hello theirs;
	struct fc_msg m;
	char err[256] = "";

	(void)state;
	rig_start(&r, 1);
	a = adopt(&r, "ws:a");
	if (fc_hello_exchange(a, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) < 0)
		fail_msg("HELLO exchange: %s", err);
	wait_listed(&r, 1, NULL, 0);
	b = adopt(&r, "ws:b");
	/* Its session says HELLO, then, finding no place, BYE 4 (the listening port's refusal
	 * says BYE instead of HELLO: either way the viewer is told). */
	if (fc_hello_exchange(b, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) == 0) {
		assert_int_equal(fc_conn_recv(b, &m, WAIT_MS), 1);
		assert_int_equal(m.type, FC_MSG_BYE);
		assert_int_equal(m.u.bye.reason, FC_BYE_FULL);
	} else if (!strstr(err, "at most 1 viewer")) {
		fail_msg("the refusal does not say why: %s", err);
	}
	wait_listed(&r, 1, NULL, 0);
	fc_conn_free(b);
	fc_conn_free(a);
	rig_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_peer_name),
		cmocka_unit_test(test_adopt_serves),
		cmocka_unit_test(test_adopt_counts_toward_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
