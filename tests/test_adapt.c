/*
 * Tests of sender/serve/adapt.c, the control law that fits frames to a viewer's link.
 *
 * The law is driven through a simulated link, deterministic and without sockets or sleeps: a
 * camera makes a picture every frame period; the sender asks the law which rung to send and
 * when, and sends the newest picture then; the link passes each frame's bytes through one
 * bottleneck (a rate, a one-way delay each way, optional jitter and packet loss) in order; the
 * viewer's verdict comes back a one-way delay after the frame's last byte, with the bound the
 * real viewer would compute. The kernel's figures (bytes unacknowledged, retransmissions, the
 * least round trip) come from the same model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "adapt.h"

#define MS	   1000000ull
#define S	   1000000000ull
#define NRUNGS	   8
#define MAX_FRAMES 4096

/* What each rung of a 1280x720 photograph weighs (bytes): full q80, full q56, half q80, half
 * q56, quarter q80, quarter q56, quarter q39, eighth q56 (the ladder of sender/encode/ladder.c). */
static const uint32_t sizes[NRUNGS] = { 136000, 85000, 44000, 27000, 13700, 8500, 6000, 2900 };

struct link {
	double rate;	  /* bytes/s at the bottleneck */
	uint64_t owd;	  /* one-way delay, each way */
	uint64_t jitter;  /* up to this much more, at random, on a frame's arrival */
	double loss;	  /* per 1448-byte packet */
	uint64_t budget;  /* the viewer's */
	uint64_t period;  /* the camera's */
	uint32_t allowed; /* rungs the viewer may get */
	uint64_t step_at; /* at this time the rate becomes step_rate (0: never) */
	double step_rate;
};

struct frame {
	uint64_t seq;
	int rung;
	uint32_t bytes;
	uint64_t s2;	/* started to leave */
	uint64_t start; /* first byte into the bottleneck */
	uint64_t first; /* first byte at the viewer */
	uint64_t v3;	/* last byte at the viewer */
	uint64_t gap;	/* the longest stall among its bytes (a lost packet's repair) */
	uint64_t bound;
	bool accepted;
	bool judged;
};

struct sim {
	struct link l;
	struct fc_adapt a;
	struct frame f[MAX_FRAMES];
	int n;
	uint64_t busy;	  /* the bottleneck is free from then */
	uint32_t retrans; /* retransmissions so far */
	uint32_t rng;
};

static double rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 17;
	s->rng ^= s->rng << 5;
	return (double)s->rng / 4294967296.0;
}

static double rate_at(const struct sim *s, uint64_t t)
{
	return s->l.step_at && t >= s->l.step_at ? s->l.step_rate : s->l.rate;
}

/* The kernel's view at t: bytes whose acknowledgement has not come back. Byte k of a frame
 * leaves the bottleneck at start + k / rate and is acknowledged a round trip later. */
static struct fc_tcpstat tcp_at(const struct sim *s, uint64_t t)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 2 * s->l.owd,
				 .srtt_ns = 2 * s->l.owd,
				 .mss = 1448,
				 .retrans = s->retrans };

	for (int i = 0; i < s->n; i++) {
		const struct frame *f = &s->f[i];
		double out = t < f->v3 + s->l.owd ? 0 : f->bytes;

		if (t >= f->start + 2 * s->l.owd && t < f->v3 + s->l.owd)
			out = (double)(t - f->start - 2 * s->l.owd) / (double)(f->v3 - f->first) *
			      f->bytes;
		if (out > f->bytes)
			out = f->bytes;
		ts.pending += f->bytes - (uint64_t)out;
		ts.acked += (uint64_t)out;
	}
	return ts;
}

/* Sends picture seq (captured at cap) at rung r at time t through the link. */
static void send_frame(struct sim *s, uint64_t seq, uint64_t cap, int r, uint64_t t)
{
	struct frame *f = &s->f[s->n];
	struct fc_tcpstat ts = tcp_at(s, t);
	double rate = rate_at(s, t);
	uint64_t xfer;
	int packets = (int)(sizes[r] + 1447) / 1448;

	*f = (struct frame){ .seq = seq, .rung = r, .bytes = sizes[r], .s2 = t };
	f->start = t > s->busy ? t : s->busy;
	xfer = (uint64_t)((double)f->bytes / rate * 1e9);
	/* Jitter delays the whole frame on its way. */
	f->first =
	    f->start + s->l.owd + (s->l.jitter ? (uint64_t)(rnd(s) * (double)s->l.jitter) : 0);
	f->v3 = f->first + xfer;
	/* A lost packet is sent again a round trip later; what follows waits for it: a stall. */
	for (int p = 0; p < packets; p++) {
		if (s->l.loss > 0 && rnd(s) < s->l.loss) {
			f->gap = 2 * s->l.owd + 5 * MS;
			f->v3 += f->gap;
			s->retrans++;
			break;
		}
	}
	s->busy = f->v3 - s->l.owd;
	/* The bound as the viewer computes it: the request's trip, the age at sending, the
	 * frame's own trip. */
	f->bound = s->l.owd + (t - cap) + (f->v3 - t);
	f->accepted = f->bound <= s->l.budget;
	fc_adapt_sent(&s->a, seq, r, f->bytes, t, &ts);
	s->n++;
}

/* Delivers every verdict due by t. */
static void judge_until(struct sim *s, uint64_t t)
{
	for (int i = 0; i < s->n; i++) {
		struct frame *f = &s->f[i];
		struct fc_tcpstat ts;

		if (f->judged || f->v3 + s->l.owd > t)
			continue;
		f->judged = true;
		ts = tcp_at(s, f->v3 + s->l.owd);
		fc_adapt_judged(&s->a, f->seq, f->bound, f->v3 - f->first, f->gap, f->accepted,
				f->v3 + s->l.owd, &ts);
	}
}

/* Runs the link for `seconds`, starting the law at rung 4 (a quarter). Time advances in steps
 * of 0.25 ms; the sender sends the newest picture as soon as the law lets it, once each. */
static void run(struct sim *s, const struct link *l, double seconds)
{
	uint64_t end = (uint64_t)(seconds * 1e9);
	uint64_t last_seq = 0;

	memset(s, 0, sizeof(*s));
	s->l = *l;
	s->rng = 2463534242u;
	fc_adapt_init(&s->a, l->budget, l->period, 4);
	for (uint64_t t = 0; t < end && s->n < MAX_FRAMES; t += MS / 4) {
		uint64_t seq = t / l->period + 1;
		uint64_t cap = (seq - 1) * l->period;
		struct fc_tcpstat ts;
		int r;

		judge_until(s, t);
		/* 3 ms to encode: a picture is ready that long after its capture. */
		if (t < cap + 3 * MS)
			seq--, cap -= l->period;
		if (seq == 0 || seq <= last_seq)
			continue;
		ts = tcp_at(s, t);
		r = fc_adapt_rung(&s->a, sizes, NRUNGS, l->allowed, &ts, t);
		if (fc_adapt_wait(&s->a, &ts, t) > 0)
			continue;
		assert_true(l->allowed & (1u << r));
		send_frame(s, seq, cap, r, t);
		last_seq = seq;
	}
}

/* Frames that started in [from, to): how many, how many accepted, their bytes, the most
 * common rung, and the most over the budget. */
struct tally {
	int sent;
	int accepted;
	double bytes;
	int rung_count[NRUNGS];
	int mode;
};

static struct tally tally(const struct sim *s, double from, double to)
{
	struct tally t = { 0 };

	for (int i = 0; i < s->n; i++) {
		const struct frame *f = &s->f[i];

		if (f->s2 < (uint64_t)(from * 1e9) || f->s2 >= (uint64_t)(to * 1e9))
			continue;
		t.sent++;
		t.accepted += f->accepted;
		t.bytes += f->bytes;
		t.rung_count[f->rung]++;
	}
	for (int r = 1; r < NRUNGS; r++)
		if (t.rung_count[r] > t.rung_count[t.mode])
			t.mode = r;
	return t;
}

static struct link link(double mbit, uint64_t owd)
{
	return (struct link){ .rate = mbit * 1e6 / 8,
			      .owd = owd,
			      .budget = 80 * MS,
			      .period = S / 30,
			      .allowed = (1u << NRUNGS) - 1 };
}

static struct sim sim;

/* A fat link carries the full picture: the law climbs from its small start to rung 0 within
 * half a second and stays there, every frame accepted, at the camera's rate. */
static void test_fat_link_gets_full_picture(void **state)
{
	struct link l = link(100, MS / 2);
	struct tally t;

	(void)state;
	run(&sim, &l, 6);
	t = tally(&sim, 0.5, 6);
	assert_int_equal(t.mode, 0);
	assert_int_equal(t.rung_count[0], t.sent);
	assert_int_equal(t.accepted, t.sent);
	assert_true(t.sent >= 29 * 5.5);
}

/* A link's rate and round trip decide the rung; at 20, 10, 5 and 2 Mbit/s with 20 ms of round
 * trip the law keeps (nearly) the camera's rate, rejects almost nothing, and uses at least
 * half the link: it does not collapse to the smallest picture. */
static void check_narrow(double mbit, int min_fps)
{
	struct link l = link(mbit, 10 * MS);
	struct tally t;
	double use;

	run(&sim, &l, 12);
	t = tally(&sim, 2, 12);
	use = t.bytes * 8 / 10 / (mbit * 1e6);
	print_message("%g Mbit/s: %d sent, %d accepted, rung %d, %.0f%% of the link\n", mbit,
		      t.sent, t.accepted, t.mode, use * 100);
	assert_true(t.accepted >= min_fps * 10);
	assert_true(t.sent - t.accepted <= t.sent / 20);
	assert_true(use >= 0.5);
}

static void test_narrow_links(void **state)
{
	(void)state;
	check_narrow(20, 29);
	check_narrow(10, 28);
	check_narrow(5, 25);
	check_narrow(2, 15);
}

/* A link that drops from 50 to 5 Mbit/s: the frames already on their way are late, then the
 * law steps down, and within a second of the step frames are accepted at 20 a second again. */
static void test_step_down(void **state)
{
	struct link l = link(50, 10 * MS);
	struct tally before;
	struct tally after;

	(void)state;
	l.step_at = 4 * S;
	l.step_rate = 5e6 / 8;
	run(&sim, &l, 8);
	before = tally(&sim, 2, 4);
	after = tally(&sim, 5, 6);
	print_message("before: rung %d; 1-2 s after: %d accepted, rung %d\n", before.mode,
		      after.accepted, after.mode);
	assert_true(before.mode <= 1);
	assert_true(after.accepted >= 20);
	assert_true(after.mode >= 3);
}

/* And back up: from 5 to 50 Mbit/s, the full picture again within 5 s. */
static void test_step_up(void **state)
{
	struct link l = link(5, 10 * MS);
	struct tally t;

	(void)state;
	l.step_at = 4 * S;
	l.step_rate = 50e6 / 8;
	run(&sim, &l, 10);
	t = tally(&sim, 9, 10);
	assert_true(t.mode <= 1);
	assert_true(t.accepted >= 28);
}

/* Jitter is part of a frame's fixed cost, not of the link's rate: on a fat link with 20 ms
 * each way and up to 20 ms of jitter, frames stay large and nearly all are accepted. */
static void test_jitter_is_not_rate(void **state)
{
	struct link l = link(100, 20 * MS);
	struct tally t;

	(void)state;
	l.jitter = 20 * MS;
	run(&sim, &l, 10);
	t = tally(&sim, 2, 10);
	print_message("jitter: %d sent, %d accepted, rung %d\n", t.sent, t.accepted, t.mode);
	assert_true(t.mode <= 2);
	assert_true(t.accepted >= t.sent * 95 / 100);
}

/* Loss over TCP: 1% of packets at 100 Mbit/s and 40 ms of round trip. Each loss costs its
 * frame a round trip; the law steps down after each and holds longer after each failed
 * probe, so that at least 15 frames a second are accepted. */
static void test_loss(void **state)
{
	struct link l = link(100, 20 * MS);
	struct tally t;

	(void)state;
	l.loss = 0.01;
	run(&sim, &l, 20);
	t = tally(&sim, 5, 20);
	print_message("1%% loss: %d sent, %d accepted, rung %d\n", t.sent, t.accepted, t.mode);
	assert_true(t.accepted >= 15 * 15);
}

/* A link too thin for any rung at the camera's rate: the smallest rung, at a lower rate,
 * never a queue: each frame starts after the one before has crossed. */
static void test_too_thin_lowers_the_rate(void **state)
{
	struct link l = link(0.5, 10 * MS);
	struct tally t;

	(void)state;
	run(&sim, &l, 10);
	t = tally(&sim, 3, 10);
	print_message("0.5 Mbit/s: %d sent, %d accepted, rung %d\n", t.sent, t.accepted, t.mode);
	assert_int_equal(t.mode, NRUNGS - 1);
	assert_true(t.sent < 30 * 7);
	for (int i = 1; i < sim.n; i++)
		if (sim.f[i].s2 >= 3 * S)
			assert_true(sim.f[i].start <= sim.f[i].s2 + 2 * MS);
}

/* A round trip longer than the budget leaves no room: the smallest rung (the frames are
 * rejected by the viewer whatever is sent, and it says why). */
static void test_no_room(void **state)
{
	struct link l = link(100, 50 * MS);
	struct tally t;

	(void)state;
	run(&sim, &l, 5);
	t = tally(&sim, 2, 5);
	assert_int_equal(t.mode, NRUNGS - 1);
}

/* A viewer's floor is never crossed: with only rungs 0..3 allowed (half size at least), the
 * law stays within them even on a link that would want smaller; with rung 0 alone (--adapt
 * off), rung 0 always. */
static void test_allowed_rungs(void **state)
{
	struct link l = link(5, 10 * MS);

	(void)state;
	l.allowed = 0x0f;
	run(&sim, &l, 5); /* run asserts every frame is allowed */
	assert_true(sim.n > 0);
	l.allowed = 0x01;
	run(&sim, &l, 3);
	for (int i = 0; i < sim.n; i++)
		assert_int_equal(sim.f[i].rung, 0);
}

/* Verdicts for frames the law never heard of, and stale notices, change nothing; a frame that
 * arrived within a millisecond counts as a millisecond (a lower bound), one that took longer
 * as what it took, and the rate is the bytes over the time. */
static void test_odd_verdicts(void **state)
{
	struct fc_adapt a;
	struct fc_tcpstat ts = { .min_rtt_ns = MS, .mss = 1448 };

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	fc_adapt_judged(&a, 99, 10 * MS, 1 * MS, 0, true, S, &ts);
	assert_true(a.rate == 0);
	fc_adapt_sent(&a, 1, 4, 0, S, &ts); /* a stale notice */
	fc_adapt_judged(&a, 1, 90 * MS, 0, 0, false, S + MS, &ts);
	assert_true(a.rate == 0);
	assert_int_equal(a.cuts, 0);
	/* 10000 bytes at once: at least 10000 bytes a millisecond, a lower bound. */
	fc_adapt_sent(&a, 2, 4, 10000, 2 * S, &ts);
	fc_adapt_judged(&a, 2, 10 * MS, 0, 0, true, 2 * S + MS, &ts);
	assert_true(fabs(a.rate - 1e7) < 1);
	/* Then 10000 in 2 ms: the two together, 20000 bytes in 3 ms. */
	fc_adapt_sent(&a, 3, 4, 10000, 3 * S, &ts);
	fc_adapt_judged(&a, 3, 10 * MS, 2 * MS, 0, true, 3 * S + MS, &ts);
	assert_true(fabs(a.rate - 20000 / 0.003) < 1);
	assert_true(fc_adapt_room(&a) < UINT64_MAX);
}

/* Drives the law frame by frame by hand: a frame of `bytes` at the law's rung, sent at t and
 * judged at t + 1 ms with the given bound, transfer and stall. Returns the rung chosen after. */
static int one(struct fc_adapt *a, uint64_t *seq, uint64_t t, uint32_t bytes, uint64_t bound,
	       uint64_t recv, uint64_t gap, const struct fc_tcpstat *ts)
{
	int r = fc_adapt_rung(a, sizes, NRUNGS, (1u << NRUNGS) - 1, ts, t);

	fc_adapt_sent(a, ++*seq, r, bytes, t, ts);
	fc_adapt_judged(a, *seq, bound, recv, gap, bound <= 80 * MS, t + MS, ts);
	return fc_adapt_rung(a, sizes, NRUNGS, (1u << NRUNGS) - 1, ts, t + MS);
}

/* As one(), for a frame during which the kernel retransmitted a packet (a repair). */
static int one_repaired(struct fc_adapt *a, uint64_t *seq, uint64_t t, uint32_t bytes,
			uint64_t bound, uint64_t recv, uint64_t gap, struct fc_tcpstat *ts)
{
	int r = fc_adapt_rung(a, sizes, NRUNGS, (1u << NRUNGS) - 1, ts, t);

	fc_adapt_sent(a, ++*seq, r, bytes, t, ts);
	ts->retrans++;
	fc_adapt_judged(a, *seq, bound, recv, gap, bound <= 80 * MS, t + MS, ts);
	return fc_adapt_rung(a, sizes, NRUNGS, (1u << NRUNGS) - 1, ts, t + MS);
}

/* Rule 3: a frame late for the rest of its bound (its request was delayed: a short transfer
 * in a long bound) cuts nothing; a single one does not move F either (the median and its
 * deviation cap it). */
static void test_late_request_is_not_the_link(void **state)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 20 * MS, .srtt_ns = 20 * MS, .mss = 1448 };
	struct fc_adapt a;
	uint64_t seq = 0;
	uint64_t room;

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	for (int i = 0; i < 20; i++)
		one(&a, &seq, (uint64_t)i * 33 * MS, 14000, 30 * MS, 5 * MS, 0, &ts);
	room = fc_adapt_room(&a);
	one(&a, &seq, 21 * 33 * MS, 14000, 120 * MS, 5 * MS, 0, &ts);
	assert_int_equal(a.cuts, 0);
	assert_true(fc_adapt_room(&a) >= room * 9 / 10);
}

/* Rule 3: a frame slowed by a stall (a lost packet's repair: 40 ms without bytes, then the
 * rest at once) is no slower link: no cut, and its transfer measures the link without the
 * stall; but a frame that crawled (no stall, the whole transfer slow) cuts C to its rate. */
static void test_stall_is_not_a_slower_link(void **state)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 20 * MS, .srtt_ns = 20 * MS, .mss = 1448 };
	struct fc_adapt a;
	uint64_t seq = 0;

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	for (int i = 0; i < 10; i++)
		one(&a, &seq, (uint64_t)i * 33 * MS, 14000, 30 * MS, 2 * MS, 0, &ts);
	assert_true(fabs(a.rate - 7e6) < 1e5);
	one(&a, &seq, 11 * 33 * MS, 14000, 95 * MS, 42 * MS, 40 * MS, &ts);
	assert_int_equal(a.cuts, 0);
	assert_true(a.rate > 6e6);
	one(&a, &seq, 12 * 33 * MS, 14000, 95 * MS, 70 * MS, 1 * MS, &ts);
	assert_int_equal(a.cuts, 1);
	assert_true(fabs(a.rate - 14000 / 0.070) < 1000);
}

/* Rule 3: the loss ceiling. With a tenth of 10-packet frames repaired (about 1% of packets
 * lost), the room is no more than a frame of which a tenth would lose one: about 15 KB. */
static void test_loss_ceiling(void **state)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 20 * MS, .srtt_ns = 20 * MS, .mss = 1448 };
	struct fc_adapt a;
	uint64_t seq = 0;
	uint64_t room;

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	for (int i = 0; i < 64; i++) {
		if (i % 10 == 0)
			one_repaired(&a, &seq, (uint64_t)i * 33 * MS, 14000, 90 * MS, 45 * MS,
				     40 * MS, &ts);
		else
			one(&a, &seq, (uint64_t)i * 33 * MS, 14000, 30 * MS, 2 * MS, 0, &ts);
	}
	room = fc_adapt_room(&a);
	print_message("room with 1%% of packets lost: %llu\n", (unsigned long long)room);
	assert_true(room > 12000 && room < 20000);
	assert_int_equal(a.cuts, 0);
}

/* The same stalls with no retransmission at all: the viewer waited for the CPU (a busy
 * machine), nothing was lost, so they set no loss ceiling (seen in tests/e2e/test_tbf.py when
 * other builds ran beside it: a 200 Mbit/s link held at a quarter of the picture). */
static void test_stall_without_retransmission_is_no_loss(void **state)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 20 * MS, .srtt_ns = 20 * MS, .mss = 1448 };
	struct fc_adapt a;
	uint64_t seq = 0;

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	for (int i = 0; i < 64; i++) {
		bool hit = i % 10 == 0;

		one(&a, &seq, (uint64_t)i * 33 * MS, 14000, 30 * MS, hit ? 45 * MS : 2 * MS,
		    hit ? 40 * MS : 0, &ts);
	}
	for (unsigned i = 0; i < a.nlossy; i++)
		assert_false(a.hit[i]);
	assert_true(fc_adapt_room(&a) > 20000);
}

/* Rule 4: a link that has clearly grown is climbed without waiting for the hold a failed probe
 * set, as far as the next rung fits in half the room (here 6 MB/s and 27 ms: half the picture,
 * 44 KB; the softer full picture, 85 KB, waits for the hold). */
static void test_grown_link_climbed_at_once(void **state)
{
	struct fc_tcpstat ts = { .min_rtt_ns = 20 * MS, .srtt_ns = 20 * MS, .mss = 1448 };
	struct fc_adapt a;
	uint64_t seq = 0;
	uint64_t t = 0;
	int r = 4;

	(void)state;
	fc_adapt_init(&a, 80 * MS, S / 30, 4);
	a.started = true;
	a.hold_ns = 60 * S;
	/* 14 KB frames crossing in 2.3 ms: 6 MB/s, room about 160 KB. */
	for (int i = 0; i < 60 && r > 2; i++, t += 33 * MS)
		r = one(&a, &seq, t, sizes[a.rung], 30 * MS, (uint64_t)sizes[a.rung] * S / 6000000,
			0, &ts);
	assert_true(t < 2 * S);
	assert_int_equal(r, 2);
	for (int i = 0; i < 30; i++, t += 33 * MS)
		r = one(&a, &seq, t, sizes[a.rung], 30 * MS, (uint64_t)sizes[a.rung] * S / 6000000,
			0, &ts);
	assert_int_equal(r, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fat_link_gets_full_picture),
		cmocka_unit_test(test_narrow_links),
		cmocka_unit_test(test_step_down),
		cmocka_unit_test(test_step_up),
		cmocka_unit_test(test_jitter_is_not_rate),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_too_thin_lowers_the_rate),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_allowed_rungs),
		cmocka_unit_test(test_odd_verdicts),
		cmocka_unit_test(test_late_request_is_not_the_link),
		cmocka_unit_test(test_stall_is_not_a_slower_link),
		cmocka_unit_test(test_loss_ceiling),
		cmocka_unit_test(test_stall_without_retransmission_is_no_loss),
		cmocka_unit_test(test_grown_link_climbed_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
