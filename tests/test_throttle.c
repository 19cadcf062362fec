/* Tests of common/throttle.c: how failed handshakes slow down their address, with the time
 * given by the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "throttle.h"

#define S  (1000ull * 1000 * 1000)
#define MS (1000ull * 1000)

/* One complete try: begun (must be allowed at once) and ended. */
static void try_now(struct fc_throttle *t, const char *host, bool failed, uint64_t now)
{
	uint64_t retry = 0;

	assert_int_equal(fc_throttle_begin(t, host, now, &retry), 0);
	fc_throttle_end(t, host, failed, now);
}

/* A clean address goes at once, several at a time; a success forgets earlier failures. */
static void test_clean_address(void **state)
{
	struct fc_throttle *t = fc_throttle_new();
	uint64_t retry = 0;

	(void)state;
	for (int i = 0; i < FC_THROTTLE_INFLIGHT; i++)
		assert_int_equal(fc_throttle_begin(t, "10.0.0.1", 100 * S, &retry), 0);
	assert_int_equal(fc_throttle_begin(t, "10.0.0.1", 100 * S, &retry), -1);
	for (int i = 0; i < FC_THROTTLE_INFLIGHT; i++)
		fc_throttle_end(t, "10.0.0.1", false, 100 * S);
	try_now(t, "10.0.0.1", false, 101 * S);
	try_now(t, "10.0.0.1", true, 102 * S);
	try_now(t, "10.0.0.1", false, 103 * S);
	try_now(t, "10.0.0.1", false, 103 * S); /* the success forgot the failure */
	fc_throttle_free(t);
}

/* Each failure doubles the wait: 0.5, 1, 2 s are held (the caller waits), 4 s and more are
 * refused with the time to wait; another address is not affected. */
static void test_failures_slow_down(void **state)
{
	struct fc_throttle *t = fc_throttle_new();
	uint64_t now = 1000 * S;
	uint64_t retry = 0;

	(void)state;
	try_now(t, "10.0.0.2", true, now);
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now, &retry), (int64_t)(500 * MS));
	fc_throttle_end(t, "10.0.0.2", true, now + 500 * MS);
	now += 500 * MS;
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now + 200 * MS, &retry),
			 (int64_t)(800 * MS));
	/* While it waits, a second try from the address is refused. */
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now + 200 * MS, &retry), -1);
	fc_throttle_end(t, "10.0.0.2", true, now + S);
	now += S;
	/* Third failure: 2 s, still held. */
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now, &retry), (int64_t)(2 * S));
	fc_throttle_end(t, "10.0.0.2", true, now + 2 * S);
	now += 2 * S;
	/* Fourth: 4 s, more than a try is held: refused, told when. */
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now, &retry), -1);
	assert_true(retry == 4 * S);
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now + 2 * S, &retry), (int64_t)(2 * S));
	fc_throttle_end(t, "10.0.0.2", true, now + 4 * S);
	now += 4 * S;
	/* Another address goes at once. */
	try_now(t, "10.0.0.3", false, now);
	/* Many more failures: the wait stops growing at the cap. */
	for (int i = 0; i < 20; i++) {
		now += FC_THROTTLE_MAX_NS;
		try_now(t, "10.0.0.2", true, now);
	}
	assert_int_equal(fc_throttle_begin(t, "10.0.0.2", now, &retry), -1);
	assert_true(retry == FC_THROTTLE_MAX_NS);
	/* After ten quiet minutes the address is forgotten. */
	try_now(t, "10.0.0.2", false, now + FC_THROTTLE_FORGET_NS + S);
	fc_throttle_free(t);
}

/* The table is bounded: more addresses than entries reuse the idlest; nothing breaks. */
static void test_bounded(void **state)
{
	struct fc_throttle *t = fc_throttle_new();
	uint64_t retry = 0;
	char host[32];

	(void)state;
	for (int i = 0; i < 3 * FC_THROTTLE_ENTRIES; i++) {
		snprintf(host, sizeof(host), "10.1.%d.%d", i / 256, i % 256);
		try_now(t, host, true, (uint64_t)(i + 1) * S);
	}
	/* The newest failures are remembered, the oldest were dropped. */
	assert_true(fc_throttle_begin(t, host, (uint64_t)(3 * FC_THROTTLE_ENTRIES) * S, &retry) >
		    0);
	assert_int_equal(
	    fc_throttle_begin(t, "10.1.0.0", (uint64_t)(3 * FC_THROTTLE_ENTRIES) * S, &retry), 0);
	fc_throttle_free(t);
}

static void test_host(void **state)
{
	char h[64];

	(void)state;
	assert_string_equal(fc_throttle_host("10.0.0.1:5000", h, sizeof(h)), "10.0.0.1");
	assert_string_equal(fc_throttle_host("[::1]:5000", h, sizeof(h)), "::1");
	assert_string_equal(fc_throttle_host("[fe80::1]:1", h, sizeof(h)), "fe80::1");
	assert_string_equal(fc_throttle_host("camera.local", h, sizeof(h)), "camera.local");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_address),
		cmocka_unit_test(test_failures_slow_down),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
