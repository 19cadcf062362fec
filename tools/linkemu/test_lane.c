/* Tests of linkemu's model, with no device and no clock: the tc-style values and specs
 * (spec.c), and one direction's lane (lane.c) driven through simulated time, packet by packet,
 * against the timings its header promises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lane.h"
#include "spec.h"

#define MS 1000000ull
#define US 1000ull

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* A packet as it left: its number (the first 4 bytes) and when. */
struct out {
	uint32_t id;
	uint64_t t;
};

static struct le_shape shape_of(const char *text)
{
	struct le_shape s;
	char err[256] = "";

	le_spec_default(&s);
	if (le_spec_apply(&s, text, err, sizeof(err)) < 0)
		fail_msg("'%s' refused: %s", text, err);
	return s;
}

static void open_lane(struct le_lane *l, const char *text, size_t limit, uint64_t seed)
{
	struct le_shape s = shape_of(text);

	assert_int_equal(le_lane_open(l, &s, limit, 1500, seed), 0);
}

static void push_id(struct le_lane *l, uint32_t id, size_t len, uint64_t t)
{
	size_t cap;
	uint8_t *buf = le_lane_slot(l, &cap);

	assert_true(cap >= len && len >= sizeof(id));
	memset(buf, 0, len);
	memcpy(buf, &id, sizeof(id));
	le_lane_push(l, len, t);
}

/* Takes every packet due by `until`, stepping from wake-up to wake-up as linkemu's loop does,
 * so each leaves exactly at its time. Appends to o[*n], at most max. */
static void drain(struct le_lane *l, uint64_t until, struct out *o, size_t *n, size_t max)
{
	for (int guard = 0; guard < 10000000; guard++) {
		uint64_t w = le_lane_wake(l);
		const uint8_t *p;
		size_t len;
		uint64_t due;

		if (w > until)
			return;
		while ((p = le_lane_take(l, w, &len, &due))) {
			assert_true(*n < max);
			assert_true(due == w); /* stepped wake to wake: exactly on time */
			memcpy(&o[*n].id, p, sizeof(o[*n].id));
			o[*n].t = w;
			(*n)++;
		}
		assert_true(le_lane_wake(l) > w); /* every wake-up makes progress */
	}
	fail_msg("drain did not finish");
}

static void time_ok(const char *text, uint64_t want)
{
	uint64_t v = 777;
	char err[256] = "";

	if (le_spec_time("delay", text, 60000 * MS, &v, err, sizeof(err)) < 0)
		fail_msg("'%s' refused: %s", text, err);
	assert_int_equal(v, want);
}

static void rate_ok(const char *text, uint64_t want)
{
	uint64_t v = 777;
	char err[256] = "";

	if (le_spec_rate("rate", text, &v, err, sizeof(err)) < 0)
		fail_msg("'%s' refused: %s", text, err);
	assert_int_equal(v, want);
}

static void spec_bad(const char *text, const char *why)
{
	struct le_shape s = shape_of("delay=7ms");
	struct le_shape before = s;
	char err[256] = "";

	if (le_spec_apply(&s, text, err, sizeof(err)) == 0)
		fail_msg("'%s' accepted", text);
	assert_contains(err, why);
	assert_memory_equal(&s, &before, sizeof(s)); /* a spec that fails changes nothing */
}

static void test_units(void **state)
{
	uint64_t v;
	double p;
	char err[256];

	(void)state;
	time_ok("20ms", 20 * MS);
	time_ok("500us", 500 * US);
	time_ok("1.5s", 1500 * MS);
	time_ok("0", 0);
	time_ok("250usec", 250 * US);
	rate_ok("20mbit", 20000000);
	rate_ok("512kbit", 512000);
	rate_ok("1Gbit", 1000000000);
	rate_ok("1kbps", 8000); /* bytes per second, as in tc */
	rate_ok("off", 0);
	assert_int_equal(le_spec_size("queue", "64kb", 1 << 30, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(le_spec_size("queue", "1500", 1 << 30, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(le_spec_percent("loss", "2.5%", &p, err, sizeof(err)), 0);
	assert_true(p == 0.025);
	assert_int_equal(le_spec_percent("loss", "1", &p, err, sizeof(err)), -1);
	assert_contains(err, "loss '1': give a percentage");
	assert_int_equal(le_spec_time("delay", "20", 60000 * MS, &v, err, sizeof(err)), -1);
	assert_contains(err, "delay '20': give a time with its unit");
	assert_int_equal(le_spec_rate("rate", "20", &v, err, sizeof(err)), -1);
	assert_contains(err, "rate '20': give a rate with its unit");
	assert_int_equal(le_spec_time("delay", "2min", 60000 * MS, &v, err, sizeof(err)), -1);
	assert_int_equal(le_spec_time("delay", "-1ms", 60000 * MS, &v, err, sizeof(err)), -1);
	assert_int_equal(le_spec_time("delay", "61s", 60000 * MS, &v, err, sizeof(err)), -1);
	assert_contains(err, "too long");
}

static void test_spec(void **state)
{
	struct le_shape s = shape_of("rate=20mbit delay=10ms loss=1%");
	char err[256] = "", text[256];

	(void)state;
	assert_int_equal(s.rate_bps, 20000000);
	assert_int_equal(s.delay_ns, 10 * MS);
	assert_int_equal(s.loss_model, LE_LOSS_RANDOM);
	/* Key by key: what is not named stays; "key value" works as "key=value". */
	assert_int_equal(le_spec_apply(&s, "rate 5mbit", err, sizeof(err)), 0);
	assert_int_equal(s.rate_bps, 5000000);
	assert_int_equal(s.delay_ns, 10 * MS);
	/* 50 ms at 5 Mbit/s is 31250 bytes; a size stays a size when the rate changes. */
	assert_int_equal(le_spec_queue_limit(&s), 31250);
	assert_int_equal(le_spec_apply(&s, "queue=64kb", err, sizeof(err)), 0);
	assert_int_equal(le_spec_queue_limit(&s), 65536);
	assert_string_equal(le_spec_format(&s, text, sizeof(text)),
			    "delay=10ms rate=5mbit queue=65536b loss=1%");
	assert_int_equal(le_spec_apply(&s, "ge=1%,25% reorder=5% dup=0.5%", err, sizeof(err)), 0);
	assert_int_equal(s.loss_model, LE_LOSS_GE);
	assert_true(s.ge_bad == 1 && s.ge_good == 0);
	assert_string_equal(le_spec_format(&s, text, sizeof(text)),
			    "delay=10ms rate=5mbit queue=65536b ge=1%,25%,100%,0% reorder=5% "
			    "dup=0.5%");
	assert_int_equal(le_spec_apply(&s, "clear jitter=500us", err, sizeof(err)), 0);
	assert_string_equal(le_spec_format(&s, text, sizeof(text)), "jitter=500us");
	s = shape_of("");
	assert_string_equal(le_spec_format(&s, text, sizeof(text)), "unshaped");
	spec_bad("loss=1% ge=1%,20%", "two loss models");
	spec_bad("rate=20mbit colour=red", "unknown key 'colour'");
	spec_bad("delay", "'delay' needs a value");
	spec_bad("ge=1%", "give at least p,r");
	spec_bad("queue=5x", "queue '5x': give a size");
	spec_bad("loss=101%", "at most 100%");
}

static struct out outs[200000];

/* Delay only: a packet leaves exactly delay after it arrived, and not a nanosecond before. */
static void test_delay(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "delay=20ms", 64, 1);
	push_id(&l, 1, 100, 1000);
	assert_int_equal(le_lane_wake(&l), 1000 + 20 * MS);
	drain(&l, 1000 + 20 * MS - 1, outs, &n, 10);
	assert_int_equal(n, 0);
	drain(&l, UINT64_MAX - 1, outs, &n, 10);
	assert_int_equal(n, 1);
	assert_int_equal(outs[0].t, 1000 + 20 * MS);
	assert_int_equal(l.counts.forwarded_bytes, 100);
	le_lane_close(&l);
}

/* The rate: 1250-byte packets at 10 Mbit/s take 1 ms each, back to back from the first. */
static void test_rate(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "rate=10mbit delay=5ms queue=1mb", 64, 1);
	for (uint32_t i = 0; i < 10; i++)
		push_id(&l, i, 1250, 0);
	drain(&l, UINT64_MAX - 1, outs, &n, 20);
	assert_int_equal(n, 10);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(outs[i].id, i);
		assert_int_equal(outs[i].t, (i + 1) * MS + 5 * MS);
	}
	/* A packet arriving at an idle link starts at once: no leftover credit, no wait. */
	push_id(&l, 99, 1250, 100 * MS);
	drain(&l, UINT64_MAX - 1, outs, &n, 20);
	assert_int_equal(outs[10].t, 100 * MS + 1 * MS + 5 * MS);
	le_lane_close(&l);
}

/* Overhead counts towards the rate: 1000 bytes + 250 of framing take 1 ms at 10 Mbit/s. */
static void test_overhead(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "rate=10mbit overhead=250", 64, 1);
	push_id(&l, 0, 1000, 0);
	drain(&l, UINT64_MAX - 1, outs, &n, 4);
	assert_int_equal(outs[0].t, 1 * MS);
	le_lane_close(&l);
}

/* Drop-tail: the queue holds 3000 bytes (24 ms at 1 Mbit/s), the one leaving included. */
static void test_queue(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "rate=1mbit queue=24ms", 64, 1);
	for (uint32_t i = 0; i < 5; i++)
		push_id(&l, i, 1000, 0);
	assert_int_equal(l.counts.dropped_queue, 2);
	assert_int_equal(l.counts.queue_peak_bytes, 3000);
	/* 8 ms later the first has left: room for one more, not two. */
	push_id(&l, 10, 1000, 8 * MS);
	push_id(&l, 11, 1000, 8 * MS);
	assert_int_equal(l.counts.dropped_queue, 3);
	drain(&l, UINT64_MAX - 1, outs, &n, 10);
	assert_int_equal(n, 4);
	assert_int_equal(outs[3].id, 10);
	assert_int_equal(outs[3].t, 32 * MS);
	/* An empty queue takes a packet whatever its size. */
	le_lane_set(&l, &(struct le_shape){ .rate_bps = 1000000, .queue_bytes = 10 });
	push_id(&l, 20, 1500, 100 * MS);
	assert_int_equal(l.counts.dropped_queue, 3);
	le_lane_close(&l);
}

/* A rate change applies from the next packet to start; those already queued go slower. */
static void test_rate_change(void **state)
{
	struct le_lane l;
	struct le_shape slow = shape_of("rate=1mbit queue=1mb");
	size_t n = 0;

	(void)state;
	open_lane(&l, "rate=10mbit queue=1mb", 64, 1);
	for (uint32_t i = 0; i < 3; i++)
		push_id(&l, i, 1250, 0);
	drain(&l, 1 * MS, outs, &n, 10);
	assert_int_equal(n, 1);
	le_lane_set(&l, &slow); /* at 1 ms: the second is already leaving, at 10 Mbit/s */
	drain(&l, UINT64_MAX - 1, outs, &n, 10);
	assert_int_equal(n, 3);
	assert_int_equal(outs[1].t, 2 * MS);
	assert_int_equal(outs[2].t, 12 * MS);
	le_lane_close(&l);
}

/* Jitter delays but never reorders: packets leave in order, each between arrival + delay and
 * arrival + delay + jitter (one held back by the one before it is still within that). */
static void jitter_run(uint64_t gap_ns, uint64_t *lo, uint64_t *hi)
{
	struct le_lane l;
	size_t n = 0;

	open_lane(&l, "delay=10ms jitter=5ms", 4096, 7);
	for (uint32_t i = 0; i < 2000; i++) {
		push_id(&l, i, 100, i * gap_ns);
		drain(&l, i * gap_ns, outs, &n, 4000);
	}
	drain(&l, UINT64_MAX - 1, outs, &n, 4000);
	assert_int_equal(n, 2000);
	*lo = UINT64_MAX;
	*hi = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = outs[i].t - outs[i].id * gap_ns;

		assert_int_equal(outs[i].id, i);
		assert_true(d >= 10 * MS && d <= 15 * MS);
		*lo = d < *lo ? d : *lo;
		*hi = d > *hi ? d : *hi;
	}
	assert_int_equal(l.counts.reordered, 0);
	le_lane_close(&l);
}

static void test_jitter_keeps_order(void **state)
{
	uint64_t lo, hi;

	(void)state;
	/* Packets further apart than the jitter: none is held back, the draws show whole. */
	jitter_run(6 * MS, &lo, &hi);
	assert_true(lo < 10100 * US && hi > 14900 * US);
	/* 50 packets within one jitter's span: the order holds, delays skew upwards. */
	jitter_run(100 * US, &lo, &hi);
}

/* reorder=: the share picked skips the delay and overtakes those in flight; it is counted. */
static void test_reorder(void **state)
{
	struct le_lane l;
	size_t n = 0, early = 0, overtaking = 0;

	(void)state;
	open_lane(&l, "delay=10ms reorder=25%", 4096, 3);
	for (uint32_t i = 0; i < 4000; i++) {
		push_id(&l, i, 100, i * 1 * MS);
		drain(&l, i * 1 * MS, outs, &n, 8000);
	}
	drain(&l, UINT64_MAX - 1, outs, &n, 8000);
	assert_int_equal(n, 4000);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = outs[i].t - outs[i].id * MS;

		assert_true(d == 0 || d == 10 * MS);
		early += d == 0;
		overtaking += i && outs[i].id < outs[i - 1].id;
	}
	assert_in_range(early, 900, 1100);
	assert_true(overtaking > 0);
	/* With 10 packets in flight nearly every early one overtakes (not one that finds the
	 * delay line empty, at the start). */
	assert_in_range(l.counts.reordered, early - 10, early);
	le_lane_close(&l);
}

/* Which of `count` packets a lane loses, as a bitmap, pushing one per millisecond. */
static void losses(const char *text, uint64_t seed, uint8_t *lost, size_t count)
{
	struct le_lane l;
	size_t n = 0;

	open_lane(&l, text, 64, seed);
	memset(lost, 1, count);
	for (uint32_t i = 0; i < count; i++) {
		push_id(&l, i, 100, i * MS);
		n = 0;
		drain(&l, i * MS, outs, &n, 10);
		for (size_t k = 0; k < n; k++)
			lost[outs[k].id] = 0;
	}
	assert_int_equal(l.counts.dropped_loss + l.counts.forwarded_packets, count);
	le_lane_close(&l);
}

static void runs(const uint8_t *lost, size_t count, size_t *total, double *mean_run)
{
	size_t nruns = 0;

	*total = 0;
	for (size_t i = 0; i < count; i++) {
		*total += lost[i];
		nruns += lost[i] && (i == 0 || !lost[i - 1]);
	}
	*mean_run = nruns ? (double)*total / (double)nruns : 0;
}

static uint8_t lost_a[100000], lost_b[100000];

/* Random loss: the share asked, the same packets for the same seed, others for another. */
static void test_random_loss(void **state)
{
	size_t total;
	double mean_run;

	(void)state;
	losses("loss=5%", 42, lost_a, 20000);
	losses("loss=5%", 42, lost_b, 20000);
	assert_memory_equal(lost_a, lost_b, 20000);
	runs(lost_a, 20000, &total, &mean_run);
	assert_in_range(total, 1000 - 130, 1000 + 130); /* 4 sigma of the binomial */
	assert_true(mean_run < 1.1);			/* independent: runs of 1/(1 - 5%) */
	losses("loss=5%", 43, lost_b, 20000);
	assert_memory_not_equal(lost_a, lost_b, 20000);
}

/* Gilbert-Elliott: p = 1%, r = 20% loses p / (p + r) = 4.8% in runs of 1 / r = 5 on average. */
static void test_gilbert_elliott(void **state)
{
	size_t total;
	double mean_run;

	(void)state;
	losses("ge=1%,20%", 5, lost_a, 100000);
	runs(lost_a, 100000, &total, &mean_run);
	assert_in_range(total, 4762 - 700, 4762 + 700);
	assert_true(mean_run > 4.3 && mean_run < 5.7);
	/* Loss in the good state too, and not all in the bad one: shorter runs, more of them. */
	losses("ge=1%,20%,50%,1%", 5, lost_b, 100000);
	runs(lost_b, 100000, &total, &mean_run);
	assert_in_range(total, 3300 - 600, 3300 + 600); /* (1 * 50 + 20 * 1) / 21 = 3.3% */
	assert_true(mean_run < 2.5);
}

/* --limit: with every slot taken the packet is dropped, counted apart from the queue's. */
static void test_limit(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "delay=1s", 16, 1);
	for (uint32_t i = 0; i < 20; i++)
		push_id(&l, i, 100, i * US);
	assert_int_equal(l.counts.dropped_limit, 4);
	assert_int_equal(le_lane_held(&l), 16);
	drain(&l, UINT64_MAX - 1, outs, &n, 40);
	assert_int_equal(n, 16);
	assert_int_equal(outs[15].id, 15);
	/* The slots come back: the lane carries on. */
	push_id(&l, 100, 100, 2000 * MS);
	drain(&l, UINT64_MAX - 1, outs, &n, 40);
	assert_int_equal(outs[16].id, 100);
	le_lane_close(&l);
}

/* dup=100%: every packet twice, the copy right behind, both through the rate. */
static void test_dup(void **state)
{
	struct le_lane l;
	size_t n = 0;

	(void)state;
	open_lane(&l, "dup=100% rate=10mbit queue=1mb", 64, 1);
	for (uint32_t i = 0; i < 5; i++)
		push_id(&l, i, 1250, 0);
	drain(&l, UINT64_MAX - 1, outs, &n, 20);
	assert_int_equal(n, 10);
	assert_int_equal(l.counts.duplicated, 5);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(outs[i].id, i / 2);
		assert_int_equal(outs[i].t, (i + 1) * MS);
	}
	le_lane_close(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_overhead),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_rate_change),
		cmocka_unit_test(test_jitter_keeps_order),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_random_loss),
		cmocka_unit_test(test_gilbert_elliott),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
