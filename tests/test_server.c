/* Tests of sender/serve/server.c: how viewers reach the sender, on loopback in one process. The test
 * plays the viewers (raw connections, HELLO exchanges, requests) and the capture (frames it
 * publishes into the slot), and reads what the server lists and counts. Waits poll the server's
 * own figures against a deadline: nothing here depends on how fast the machine is. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "frame.h"
#include "hello.h"
#include "ladder.h"
#include "net.h"
#include "proto.h"
#include "server.h"
#include "slot.h"
#include "testframe.h"

#define JPEG_BYTES 100
#define WAIT_MS	   5000

struct rig {
	struct fc_slot *slot;
	struct fc_frame_pool *pool;
	struct fc_ladder ladder;
	struct fc_server *srv;
	struct fc_addr addr; /* where viewers connect (listening) */
};

/* A budget of 10 s: these tests are about serving, not staleness, and under valgrind beside
 * other builds a picture once took over 80 ms to be offered (a stale notice came instead). */
static const struct fc_hello viewer_hello = {
	.role = FC_ROLE_VIEWER, .window = 2, .budget_us = 10000000, .name = "test viewer"
};

static struct fc_server_cfg cfg_for(struct rig *r, int max_viewers)
{
	struct fc_server_cfg cfg = {
		.max_viewers = max_viewers,
		.session = { .slot = r->slot,
			     .ladder = &r->ladder,
			     .period_ns = 33 * FC_NS_PER_MS,
			     .hello = { .role = FC_ROLE_SENDER,
					.codec = FC_CODEC_JPEG,
					.width = 64,
					.height = 48,
					.name = "test sender" },
			     .io_timeout_ms = 2000,
			     .idle_timeout_ms = 5000 },
	};
	char err[256];

	assert_int_equal(fc_net_parse_addr("127.0.0.1:1", 0, &cfg.addr, err, sizeof(err)), 0);
	cfg.addr.port = 0; /* any free port */
	return cfg;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->slot = fc_slot_new();
	r->pool = fc_frame_pool_new(4);
	assert_non_null(r->slot);
	assert_non_null(r->pool);
	fc_ladder_init(&r->ladder, 80, false, false);
}

/* A server listening on a free loopback port, serving up to max_viewers. */
static void rig_listen(struct rig *r, int max_viewers)
{
	struct fc_server_cfg cfg;
	char err[256];

	rig_init(r);
	cfg = cfg_for(r, max_viewers);
	r->srv = fc_server_start(&cfg, err, sizeof(err));
	if (!r->srv)
		fail_msg("server: %s", err);
	r->addr = cfg.addr;
	r->addr.port = (uint16_t)fc_server_port(r->srv);
}

static void rig_stop(struct rig *r)
{
	fc_server_stop(r->srv);
	fc_slot_free(r->slot);
	fc_frame_pool_release(r->pool);
}

/* Publishes a picture captured now. */
static void publish(struct rig *r, uint64_t seq)
{
	fc_test_publish(r->pool, r->slot, JPEG_BYTES, seq, fc_clock_now_ns());
}

/* A raw connection to the server (a port probe, or a viewer before its HELLO). */
static int dial(struct rig *r)
{
	char err[256];
	int fd = fc_net_connect(&r->addr, WAIT_MS, err, sizeof(err));

	if (fd < 0)
		fail_msg("connect: %s", err);
	return fd;
}

/* "127.0.0.1:PORT" of our end of fd: the peer the server names it by. */
static void local_name(int fd, char *out, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(out, len, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* A viewer: connected, and its HELLO exchange done (which must succeed). */
static struct fc_conn *viewer(struct rig *r)
{
	struct fc_conn *c = fc_conn_new(dial(r), "test-sender", FC_PROTO_MAX_MESSAGE, 5000);
	struct fc_hello theirs;
	char err[256];

	assert_non_null(c);
	if (fc_hello_exchange(c, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) < 0)
		fail_msg("HELLO exchange: %s", err);
	return c;
}

struct counts {
	int listed; /* fc_server_stats */
	unsigned departed;
	unsigned others;
	struct fc_session_stats gone;
	struct fc_viewer_stats v[4];
};

static struct counts counts_of(struct rig *r)
{
	struct counts c = { 0 };

	c.listed = fc_server_stats(r->srv, c.v, 4);
	c.departed = fc_server_departed(r->srv, &c.gone, &c.others);
	return c;
}

/* Waits (within the deadline) until the server's counts are these. */
static struct counts wait_counts(struct rig *r, int listed, unsigned departed, unsigned others)
{
	uint64_t end = fc_clock_now_ns() + (uint64_t)WAIT_MS * FC_NS_PER_MS;
	struct counts c;

	for (;;) {
		c = counts_of(r);
		if (c.listed == listed && c.departed == departed && c.others == others)
			return c;
		if (fc_clock_now_ns() > end)
			fail_msg("expected %d listed, %u departed, %u others; got %d, %u, %u",
				 listed, departed, others, c.listed, c.departed, c.others);
		usleep(5000);
	}
}

/* ---- listening ---------------------------------------------------------------------------- */

/* Port 0 gets a free port, which the server reports; a viewer there is served (its request
 * answered with the published picture) and listed under its own address. */
static void test_listen_and_serve(void **state)
{
	struct rig r;
	struct fc_conn *v;
	struct fc_msg m;
	struct counts c;
	char name[64];

	(void)state;
	rig_listen(&r, 4);
	assert_true(fc_server_port(r.srv) > 0);
	v = viewer(&r);
	local_name(fc_conn_fd(v), name, sizeof(name));
	c = wait_counts(&r, 1, 0, 0);
	assert_string_equal(c.v[0].peer, name);
	publish(&r, 1);
	assert_int_equal(fc_conn_send(v,
				      &(struct fc_msg){ .type = FC_MSG_REQUEST,
							.u.request = { .id = 1, .t0_ns = 100 } },
				      WAIT_MS),
			 0);
	assert_int_equal(fc_conn_recv(v, &m, WAIT_MS), 1);
	assert_int_equal(m.type, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.seq, 1);
	assert_int_equal(m.u.frame.jpeg_size, JPEG_BYTES);
	fc_conn_free(v);
	rig_stop(&r);
}

/* A port in use is reported at once, naming the address. */
static void test_port_in_use(void **state)
{
	struct rig r;
	struct rig r2;
	struct fc_server_cfg cfg;
	char err[256] = "";

	(void)state;
	rig_listen(&r, 4);
	rig_init(&r2);
	cfg = cfg_for(&r2, 4);
	cfg.addr.port = r.addr.port;
	assert_null(fc_server_start(&cfg, err, sizeof(err)));
	if (!strstr(err, "127.0.0.1"))
		fail_msg("the error does not name the address: %s", err);
	fc_slot_free(r2.slot);
	fc_frame_pool_release(r2.pool);
	rig_stop(&r);
}

/* A connection that closes without a HELLO (a port probe) is not a viewer: not listed, not
 * counted as one that left, but as another connection. */
static void test_probe_is_not_a_viewer(void **state)
{
	struct rig r;

	(void)state;
	rig_listen(&r, 4);
	close(dial(&r));
	wait_counts(&r, 0, 0, 1);
	rig_stop(&r);
}

/* A connection still in its HELLO exchange is not listed as a viewer; the viewer that connected
 * after it and said HELLO is (accepts go in order, so the first one's session exists by then). */
static void test_connection_in_hello_not_listed(void **state)
{
	struct rig r;
	struct fc_conn *v;
	struct counts c;
	char name[64];
	int silent;

	(void)state;
	rig_listen(&r, 4);
	silent = dial(&r);
	v = viewer(&r);
	local_name(fc_conn_fd(v), name, sizeof(name));
	c = wait_counts(&r, 1, 0, 0);
	assert_string_equal(c.v[0].peer, name);
	close(silent);
	wait_counts(&r, 1, 0, 1);
	fc_conn_free(v);
	rig_stop(&r);
}

/* A HELLO that fails (a sender's, where a viewer's is due) makes no viewer. */
static void test_failed_handshake_is_not_a_viewer(void **state)
{
	struct rig r;
	struct fc_conn *c;
	struct fc_hello wrong = { .role = FC_ROLE_SENDER,
				  .codec = FC_CODEC_JPEG,
				  .width = 64,
				  .height = 48,
				  .name = "not a viewer" };
	struct fc_hello theirs;
	char err[256];

	(void)state;
	rig_listen(&r, 4);
	c = fc_conn_new(dial(&r), "test-sender", FC_PROTO_MAX_MESSAGE, 5000);
	assert_non_null(c);
	assert_true(fc_hello_exchange(c, &wrong, &theirs, WAIT_MS, err, sizeof(err)) < 0);
	fc_conn_free(c);
	wait_counts(&r, 0, 0, 1);
	rig_stop(&r);
}

/* --max-viewers 1: a second viewer is told BYE "sender full" and is not a viewer; once the first
 * leaves, it is counted as a departed viewer with what it was sent and what it said, and a new
 * viewer is served in its place. */
static void test_max_viewers_and_departed(void **state)
{
	struct rig r;
	struct fc_conn *a;
	struct fc_conn *b;
	struct fc_hello theirs;
	struct fc_msg m;
	struct counts c;
	char err[256] = "";

	(void)state;
	rig_listen(&r, 1);
	a = viewer(&r);
	wait_counts(&r, 1, 0, 0);
	b = fc_conn_new(dial(&r), "test-sender", FC_PROTO_MAX_MESSAGE, 5000);
	assert_non_null(b);
	assert_true(fc_hello_exchange(b, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) < 0);
	if (!strstr(err, "at most 1 viewer"))
		fail_msg("the refusal does not say why: %s", err);
	fc_conn_free(b);
	wait_counts(&r, 1, 0, 1);

	publish(&r, 1);
	assert_int_equal(fc_conn_send(a,
				      &(struct fc_msg){ .type = FC_MSG_REQUEST,
							.u.request = { .id = 1, .t0_ns = 100 } },
				      WAIT_MS),
			 0);
	assert_int_equal(fc_conn_recv(a, &m, WAIT_MS), 1);
	assert_int_equal(m.type, FC_MSG_FRAME);
	assert_int_equal(
	    fc_conn_send(a,
			 &(struct fc_msg){ .type = FC_MSG_VERDICT,
					   .u.verdict = { .id = 1,
							  .seq = 1,
							  .bound_us = 1000,
							  .kind = FC_VERDICT_ACCEPTED } },
			 WAIT_MS),
	    0);
	fc_conn_bye(a, FC_BYE_NORMAL, "done");
	fc_conn_free(a);
	c = wait_counts(&r, 0, 1, 1);
	assert_int_equal(c.gone.sent, 1);
	assert_int_equal(c.gone.bytes, JPEG_BYTES);
	assert_int_equal(c.gone.accepted, 1);
	assert_int_equal(c.gone.late, 0);

	a = viewer(&r);
	wait_counts(&r, 1, 1, 1);
	fc_conn_free(a);
	rig_stop(&r);
}

/* ---- dialling ----------------------------------------------------------------------------- */

/* --connect: the server dials the viewer (played here, listening on loopback), is a viewer's
 * sender once the HELLOs are exchanged, and dials again after it leaves. */
static void test_dial(void **state)
{
	struct rig r;
	struct fc_server_cfg cfg;
	struct fc_conn *c;
	struct fc_hello theirs;
	char peer[64];
	char err[256];
	int lfd;
	int fd;

	(void)state;
	rig_init(&r);
	cfg = cfg_for(&r, 4);
	lfd = fc_net_listen(&cfg.addr, err, sizeof(err));
	assert_true(lfd >= 0);
	cfg.addr.port = fc_net_local_port(lfd);
	cfg.dial = true;
	r.srv = fc_server_start(&cfg, err, sizeof(err));
	if (!r.srv)
		fail_msg("server: %s", err);
	assert_int_equal(fc_server_port(r.srv), 0);
	fd = fc_net_accept(lfd, WAIT_MS, peer, sizeof(peer), err, sizeof(err));
	if (fd < 0)
		fail_msg("accept: %s", err);
	c = fc_conn_new(fd, peer, FC_PROTO_MAX_MESSAGE, 5000);
	assert_non_null(c);
	if (fc_hello_exchange(c, &viewer_hello, &theirs, WAIT_MS, err, sizeof(err)) < 0)
		fail_msg("HELLO exchange: %s", err);
	assert_string_equal(theirs.name, "test sender");
	wait_counts(&r, 1, 0, 0);
	fc_conn_bye(c, FC_BYE_NORMAL, "done");
	fc_conn_free(c);
	wait_counts(&r, 0, 1, 0);
	/* It dials again (after a second's wait). */
	fd = fc_net_accept(lfd, WAIT_MS, peer, sizeof(peer), err, sizeof(err));
	if (fd < 0)
		fail_msg("no second dial: %s", err);
	close(fd);
	rig_stop(&r);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_and_serve),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_probe_is_not_a_viewer),
		cmocka_unit_test(test_connection_in_hello_not_listed),
		cmocka_unit_test(test_failed_handshake_is_not_a_viewer),
		cmocka_unit_test(test_max_viewers_and_departed),
		cmocka_unit_test(test_dial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
