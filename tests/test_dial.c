/* Tests of viewer/net/dial.c: a connection attempt on its own thread gives the connection or a reason,
 * never blocks the caller beyond what it asks, and cleans up after itself when abandoned. Real
 * sockets on loopback; valgrind and ASan runs of this test check that nothing leaks. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"

struct greet_arg {
	atomic_bool hold; /* the greeting waits while this is set (at most 10 s) */
	int fail;	  /* fail it with a reason */
	atomic_int calls; /* greetings that finished */
};

static int greet(struct fc_conn *conn, void *arg, char *err, size_t errlen)
{
	struct greet_arg *g = arg;
	int fail = g->fail;

	(void)conn;
	/* A slow peer, as slow as the test wants: held until the test lets go. The cap only ends a
	 * broken test instead of hanging it. */
	for (int i = 0; i < 10000 && atomic_load(&g->hold); i++)
		usleep(1000);
	/* The last touch of *g: once the test sees the count, it may reuse the memory. */
	atomic_fetch_add(&g->calls, 1);
	if (fail) {
		snprintf(err, errlen, "the peer said no");
		return -1;
	}
	return 0;
}

/* A listening socket on a free loopback port; its address in *addr. */
static int listener(struct fc_addr *addr)
{
	char err[256];
	int lfd;

	*addr = (struct fc_addr){ .host = "127.0.0.1", .port = 0 }; /* any free port */
	lfd = fc_net_listen(addr, err, sizeof(err));
	assert_true(lfd >= 0);
	addr->port = fc_net_local_port(lfd);
	return lfd;
}

static struct fc_dial_cfg cfg_for(const struct fc_addr *addr, int lfd, struct greet_arg *g)
{
	return (struct fc_dial_cfg){
		.addr = *addr,
		.lfd = lfd,
		.connect_timeout_ms = 2000,
		.accept_timeout_ms = 200,
		.max_message = 1 << 20,
		.stall_ms = 1000,
		.greet = greet,
		.greet_arg = g,
	};
}

/* Dialling a listening peer gives a connection after the greeting ran. */
static void dial_connects_and_greets(void **state)
{
	struct greet_arg g = { 0 };
	struct fc_addr addr;
	int lfd = listener(&addr);
	struct fc_dial_cfg cfg = cfg_for(&addr, -1, &g);
	char err[256];
	struct fc_dial *d = fc_dial_start(&cfg, err, sizeof(err));
	struct fc_conn *conn;

	(void)state;
	assert_non_null(d);
	assert_true(fc_dial_wait(d, 5000));
	conn = fc_dial_finish(d, err, sizeof(err));
	assert_non_null(conn);
	assert_string_equal(err, "");
	assert_int_equal(atomic_load(&g.calls), 1);
	fc_conn_free(conn);
	close(lfd);
}

/* A refused dial comes back with a reason that names the address. */
static void refused_dial_names_address(void **state)
{
	struct greet_arg g = { 0 };
	struct fc_addr addr;
	int lfd = listener(&addr);
	char err[256], want[64];
	struct fc_dial_cfg cfg;
	struct fc_dial *d;

	(void)state;
	close(lfd); /* nobody listens there now */
	cfg = cfg_for(&addr, -1, &g);
	d = fc_dial_start(&cfg, err, sizeof(err));
	assert_non_null(d);
	assert_null(fc_dial_finish(d, err, sizeof(err)));
	snprintf(want, sizeof(want), "127.0.0.1:%u", addr.port);
	assert_non_null(strstr(err, want));
	assert_int_equal(atomic_load(&g.calls), 0);
}

/* Listening with nobody dialling in: no connection and no error, just the wait's end. */
static void accept_timeout_is_not_an_error(void **state)
{
	struct greet_arg g = { 0 };
	struct fc_addr addr;
	int lfd = listener(&addr);
	struct fc_dial_cfg cfg = cfg_for(&addr, lfd, &g);
	char err[256] = "untouched";
	struct fc_dial *d = fc_dial_start(&cfg, err, sizeof(err));

	(void)state;
	assert_non_null(d);
	assert_null(fc_dial_finish(d, err, sizeof(err)));
	assert_string_equal(err, "");
	close(lfd);
}

/* A failed greeting gives no connection and the greeting's own reason. */
static void failed_greeting_gives_its_reason(void **state)
{
	struct greet_arg g = { .fail = 1 };
	struct fc_addr addr;
	int lfd = listener(&addr);
	struct fc_dial_cfg cfg = cfg_for(&addr, -1, &g);
	char err[256];
	struct fc_dial *d = fc_dial_start(&cfg, err, sizeof(err));

	(void)state;
	assert_non_null(d);
	assert_null(fc_dial_finish(d, err, sizeof(err)));
	assert_string_equal(err, "the peer said no");
	close(lfd);
}

/* The caller is never held by a slow greeting: waiting says "not yet", and abandoning returns
 * while the greeting still runs (held by the test, so no clock decides it); the attempt then
 * finishes, and frees itself, once the greeting ends. */
static void slow_greeting_can_be_abandoned(void **state)
{
	struct greet_arg g = { .hold = true };
	struct fc_addr addr;
	int lfd = listener(&addr);
	struct fc_dial_cfg cfg = cfg_for(&addr, -1, &g);
	char err[256];
	struct fc_dial *d = fc_dial_start(&cfg, err, sizeof(err));

	(void)state;
	assert_non_null(d);
	assert_false(fc_dial_wait(d, 50));
	fc_dial_abandon(d);
	/* Had abandoning waited for the attempt, the greeting would have ended (its 10 s cap). */
	assert_int_equal(atomic_load(&g.calls), 0);
	atomic_store(&g.hold, false);
	for (int i = 0; i < 3000 && atomic_load(&g.calls) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&g.calls), 1);
	usleep(50 * 1000); /* let the detached thread free its connection before the leak check */
	close(lfd);
}

/* Abandoning an attempt that already ended frees its connection too. */
static void abandon_after_done_frees(void **state)
{
	struct greet_arg g = { 0 };
	struct fc_addr addr;
	int lfd = listener(&addr);
	struct fc_dial_cfg cfg = cfg_for(&addr, -1, &g);
	char err[256];
	struct fc_dial *d = fc_dial_start(&cfg, err, sizeof(err));

	(void)state;
	assert_non_null(d);
	assert_true(fc_dial_wait(d, 5000));
	fc_dial_abandon(d);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dial_connects_and_greets),
		cmocka_unit_test(refused_dial_names_address),
		cmocka_unit_test(accept_timeout_is_not_an_error),
		cmocka_unit_test(failed_greeting_gives_its_reason),
		cmocka_unit_test(slow_greeting_can_be_abandoned),
		cmocka_unit_test(abandon_after_done_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
