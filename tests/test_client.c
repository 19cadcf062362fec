/* Tests of viewer/net/client.c: the network thread's decisions, driven over a socketpair by a fake
 * sender in the test that speaks the protocol (it answers the REQUESTs with FRAMEs it makes up
 * and reads the VERDICTs). Ages are judged by each frame's round trip (--clock request), with
 * frames far inside or far outside the budget, so that no result depends on the machine's speed.
 * In one process, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"
#include "clock.h"
#include "conn.h"
#include "dataout.h"
#include "frame.h"
#include "proto.h"
#include "report.h"
#include "slot.h"

#define TIMEOUT_MS 10000
#define BUDGET_NS  (10 * FC_NS_PER_S) /* far above any round trip on a socketpair */
#define WINDOW	   2

/* The viewer's side (the client under test) and the fake sender's. */
struct rig {
	struct fc_client *client;
	struct fc_slot *slot;
	struct fc_report *report;
	struct fc_conn *sender;
	struct fc_dataout *data; /* the documents of accepted frames: the figures only */
	/* REQUESTs the fake sender has read and not yet answered, oldest first. */
	struct fc_request pending[FC_PROTO_MAX_WINDOW * 4];
	unsigned npending;
	uint64_t send_ns; /* the fake sender's clock in its last FRAME: never backwards */
};

static const uint8_t jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9 };

static int setup(void **state)
{
	struct fc_client_cfg cfg = { .budget_ns = BUDGET_NS,
				     .window = WINDOW,
				     .io_timeout_ms = TIMEOUT_MS,
				     .dead_after_ms = 60000,
				     .clock = FC_CLOCK_REQUEST };
	struct rig *r = calloc(1, sizeof(*r));
	char err[256];
	int sv[2];

	assert_non_null(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->report = calloc(1, sizeof(*r->report));
	assert_non_null(r->report);
	fc_report_init(r->report, BUDGET_NS, fc_clock_now_ns());
	r->slot = fc_slot_new();
	assert_non_null(r->slot);
	r->data = fc_dataout_start(&(struct fc_dataout_cfg){ 0 }, err, sizeof(err));
	assert_non_null(r->data);
	cfg.data = r->data;
	r->sender = fc_conn_new(sv[1], "viewer", FC_PROTO_MAX_MESSAGE, TIMEOUT_MS);
	r->client =
	    fc_client_start(&cfg, fc_conn_new(sv[0], "sender", FC_PROTO_MAX_MESSAGE, TIMEOUT_MS),
			    r->slot, r->report, err, sizeof(err));
	assert_non_null(r->client);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fc_client_stop(r->client);
	fc_dataout_stop(r->data);
	fc_conn_free(r->sender);
	fc_slot_free(r->slot);
	fc_report_destroy(r->report);
	free(r->report);
	free(r);
	return 0;
}

/* The next message from the viewer that is not a REQUEST or a PING: REQUESTs are kept as
 * pending, PINGs are not answered (the client needs no PONG). */
static void next_other(struct rig *r, struct fc_msg *m)
{
	for (;;) {
		assert_int_equal(fc_conn_recv(r->sender, m, TIMEOUT_MS), 1);
		if (m->type == FC_MSG_PING)
			continue;
		if (m->type != FC_MSG_REQUEST)
			return;
		assert_true(r->npending < sizeof(r->pending) / sizeof(r->pending[0]));
		r->pending[r->npending++] = m->u.request;
	}
}

/* Reads until at least n REQUESTs are pending. */
static void wait_requests(struct rig *r, unsigned n)
{
	struct fc_msg m;

	while (r->npending < n) {
		assert_int_equal(fc_conn_recv(r->sender, &m, TIMEOUT_MS), 1);
		if (m.type == FC_MSG_REQUEST)
			r->pending[r->npending++] = m.u.request;
		else
			assert_int_equal(m.type, FC_MSG_PING);
	}
}

/* Answers the pending REQUEST at index i (0: the oldest) with frame seq: age_ns old when sent,
 * its request held held_ns, with a picture unless stale. */
static void send_frame(struct rig *r, unsigned i, uint64_t seq, uint64_t age_ns, uint64_t held_ns,
		       bool stale)
{
	struct fc_msg m = { .type = FC_MSG_FRAME };
	uint64_t now = fc_clock_now_ns();

	wait_requests(r, i + 1);
	r->send_ns = now > r->send_ns ? now : r->send_ns + 1;
	m.u.frame = (struct fc_frame_msg){ .id = r->pending[i].id,
					   .t0_ns = r->pending[i].t0_ns,
					   .held_ns = held_ns,
					   .age_ns = age_ns,
					   .seq = seq,
					   .width = 16,
					   .height = 16,
					   .src_width = 16,
					   .src_height = 16,
					   .quality = 80,
					   .send_ns = r->send_ns,
					   .jpeg = stale ? NULL : jpeg,
					   .jpeg_size = stale ? 0 : sizeof(jpeg) };
	assert_int_equal(fc_conn_send(r->sender, &m, TIMEOUT_MS), 0);
	memmove(&r->pending[i], &r->pending[i + 1], (r->npending - i - 1) * sizeof(r->pending[0]));
	r->npending--;
}

/* The VERDICT for the frame just sent: its id and seq, and the kind. */
static struct fc_verdict expect_verdict(struct rig *r, uint64_t seq, int kind)
{
	struct fc_msg m;

	next_other(r, &m);
	assert_int_equal(m.type, FC_MSG_VERDICT);
	assert_true(m.u.verdict.seq == seq);
	assert_int_equal(m.u.verdict.kind, kind);
	return m.u.verdict;
}

/* The client ends: it said BYE with reason, and says why in words containing text. */
static void expect_end(struct rig *r, int reason, const char *text)
{
	uint64_t deadline = fc_clock_now_ns() + TIMEOUT_MS * FC_NS_PER_MS;
	bool clean = true;
	struct fc_msg m;

	next_other(r, &m);
	assert_int_equal(m.type, FC_MSG_BYE);
	assert_int_equal(m.u.bye.reason, reason);
	while (fc_client_running(r->client, &clean) && fc_clock_now_ns() < deadline)
		fc_clock_sleep_until(fc_clock_now_ns() + FC_NS_PER_MS);
	assert_false(fc_client_running(r->client, &clean));
	assert_false(clean);
	assert_non_null(strstr(fc_client_reason(r->client), text));
}

/* The newest frame published for the display after seq, waiting at most a moment. */
static struct fc_frame *published_after(struct rig *r, uint64_t seq, uint64_t wait_ns)
{
	return fc_slot_wait_newer(r->slot, seq, fc_clock_now_ns() + wait_ns);
}

/* The client opens with as many REQUESTs as its window, each with its own id and V0. */
static void test_opens_window(void **state)
{
	struct rig *r = *state;

	wait_requests(r, WINDOW);
	assert_true(r->pending[1].id != r->pending[0].id);
	assert_true(r->pending[1].t0_ns >= r->pending[0].t0_ns);
}

/* A frame within the budget is accepted: its VERDICT says so with the bound it computed (at
 * least the frame's age at sending), and the frame, bytes and all, goes to the display. */
static void test_accepts_within_budget(void **state)
{
	struct rig *r = *state;
	struct fc_verdict v;
	struct fc_frame *f;

	send_frame(r, 0, 1, 3 * FC_NS_PER_MS, 0, false);
	v = expect_verdict(r, 1, FC_VERDICT_ACCEPTED);
	assert_true(v.bound_us >= 3000 && v.bound_us <= BUDGET_NS / 1000);
	f = published_after(r, 0, TIMEOUT_MS * FC_NS_PER_MS);
	assert_non_null(f);
	assert_true(f->seq == 1);
	assert_int_equal(f->size, sizeof(jpeg));
	assert_memory_equal(f->data, jpeg, sizeof(jpeg));
	assert_int_equal(f->width, 16);
	assert_true(f->bound_ns >= 3 * FC_NS_PER_MS && f->bound_ns <= BUDGET_NS);
	fc_frame_unref(f);
}

/* A frame whose age bound is over the budget is rejected: a LATE verdict, and the display never
 * gets it; the next frame within the budget is accepted again. */
static void test_rejects_over_budget(void **state)
{
	struct rig *r = *state;
	struct fc_verdict v;
	struct fc_frame *f;

	send_frame(r, 0, 1, 2 * BUDGET_NS, 0, false);
	v = expect_verdict(r, 1, FC_VERDICT_LATE);
	assert_true(v.bound_us >= 2 * BUDGET_NS / 1000);
	assert_null(fc_slot_get_newer(r->slot, 0)); /* published before the VERDICT, if at all */
	send_frame(r, 0, 2, 0, 0, false);
	expect_verdict(r, 2, FC_VERDICT_ACCEPTED);
	f = published_after(r, 0, TIMEOUT_MS * FC_NS_PER_MS);
	assert_non_null(f);
	assert_true(f->seq == 2);
	fc_frame_unref(f);
}

/* A sender claiming it held a request longer than the whole round trip gives no bound that can
 * be trusted: the frame is rejected, its verdict's bound saturated. */
static void test_rejects_impossible_hold(void **state)
{
	struct rig *r = *state;
	struct fc_verdict v;

	send_frame(r, 0, 1, 0, 3600 * FC_NS_PER_S, false);
	v = expect_verdict(r, 1, FC_VERDICT_LATE);
	assert_true(v.bound_us == UINT32_MAX);
	assert_null(fc_slot_get_newer(r->slot, 0)); /* published before the VERDICT, if at all */
}

/* A stale notice (a FRAME with no picture: the source is stalled) is rejected whatever its
 * numbers say, and nothing reaches the display. */
static void test_stale_notice(void **state)
{
	struct rig *r = *state;

	send_frame(r, 0, 1, 0, 0, true);
	expect_verdict(r, 1, FC_VERDICT_LATE);
	assert_null(fc_slot_get_newer(r->slot, 0)); /* published before the VERDICT, if at all */
}

/* Frames in order, each answering the oldest request, are each judged and answered with their
 * own VERDICT, and each new request follows the last (the window kept full); the display sees
 * every accepted one in order. */
static void test_frames_in_order(void **state)
{
	struct rig *r = *state;
	uint64_t last = 0;

	for (uint64_t seq = 10; seq < 20; seq += 3) {
		struct fc_frame *f;

		send_frame(r, 0, seq, FC_NS_PER_MS, 0, false);
		expect_verdict(r, seq, FC_VERDICT_ACCEPTED);
		f = published_after(r, last, TIMEOUT_MS * FC_NS_PER_MS);
		assert_non_null(f);
		assert_true(f->seq == seq);
		last = f->seq;
		fc_frame_unref(f);
		wait_requests(r, 1);
	}
	assert_true(r->npending >= 1);
}

/* A frame that is not newer than the last (a duplicate) breaks the protocol: the client says
 * BYE with why, and ends. */
static void test_duplicate_refused(void **state)
{
	struct rig *r = *state;

	send_frame(r, 0, 5, 0, 0, false);
	expect_verdict(r, 5, FC_VERDICT_ACCEPTED);
	send_frame(r, 0, 5, 0, 0, false);
	expect_end(r, FC_BYE_PROTOCOL, "sender broke the protocol");
	assert_non_null(strstr(fc_client_reason(r->client), "a frame after 5"));
}

/* A frame answering a younger request before the oldest (out of order) breaks the protocol. */
static void test_out_of_order_refused(void **state)
{
	struct rig *r = *state;

	wait_requests(r, WINDOW);
	send_frame(r, 1, 1, 0, 0, false);
	expect_end(r, FC_BYE_PROTOCOL, "sender broke the protocol");
	assert_non_null(strstr(fc_client_reason(r->client), "expected request"));
}

/* A frame echoing the oldest request's V0 under another request's id breaks the protocol too:
 * the id and V0 must both be the oldest request's. */
static void test_wrong_id_refused(void **state)
{
	struct rig *r = *state;
	struct fc_msg m = { .type = FC_MSG_FRAME };

	wait_requests(r, WINDOW);
	m.u.frame = (struct fc_frame_msg){ .id = r->pending[1].id,
					   .t0_ns = r->pending[0].t0_ns,
					   .seq = 1,
					   .width = 16,
					   .height = 16,
					   .src_width = 16,
					   .src_height = 16,
					   .send_ns = fc_clock_now_ns(),
					   .jpeg = jpeg,
					   .jpeg_size = sizeof(jpeg) };
	assert_int_equal(fc_conn_send(r->sender, &m, TIMEOUT_MS), 0);
	expect_end(r, FC_BYE_PROTOCOL, "expected request");
}

/* A sender whose clock runs backwards between two FRAMEs breaks every bound built on it. */
static void test_clock_backwards_refused(void **state)
{
	struct rig *r = *state;

	/* Ahead of now, so that send_frame moves it on by 1 ns only: then set back 2 s. */
	r->send_ns = fc_clock_now_ns() + 1000 * FC_NS_PER_S;
	send_frame(r, 0, 1, 0, 0, false);
	expect_verdict(r, 1, FC_VERDICT_ACCEPTED);
	r->send_ns -= 2 * FC_NS_PER_S;
	send_frame(r, 0, 2, 0, 0, false);
	expect_end(r, FC_BYE_PROTOCOL, "clock went backwards");
}

/* A BYE from the sender ends the stream, cleanly when it was a normal end, with its words. */
static void test_sender_bye(void **state)
{
	struct rig *r = *state;
	struct fc_msg m = { .type = FC_MSG_BYE, .u.bye = { .reason = FC_BYE_NORMAL } };
	uint64_t deadline = fc_clock_now_ns() + TIMEOUT_MS * FC_NS_PER_MS;
	bool clean = false;

	snprintf(m.u.bye.text, sizeof(m.u.bye.text), "sender shutting down");
	assert_int_equal(fc_conn_send(r->sender, &m, TIMEOUT_MS), 0);
	while (fc_client_running(r->client, &clean) && fc_clock_now_ns() < deadline)
		fc_clock_sleep_until(fc_clock_now_ns() + FC_NS_PER_MS);
	assert_false(fc_client_running(r->client, &clean));
	assert_true(clean);
	assert_non_null(strstr(fc_client_reason(r->client), "sender shutting down"));
}

/* The sender's DATA for frame seq, carrying doc. */
static void send_data(struct rig *r, uint64_t seq, const char *doc)
{
	struct fc_msg m = {
		.type = FC_MSG_DATA,
		.u.data = { .seq = seq, .doc = (const uint8_t *)doc, .size = (uint32_t)strlen(doc) }
	};

	assert_int_equal(fc_conn_send(r->sender, &m, TIMEOUT_MS), 0);
}

/* The figures of the documents, as --stats-json has them. */
static const char *data_json(struct rig *r, struct fc_json *j)
{
	fc_json_begin(j);
	fc_dataout_json(r->data, j, false);
	return fc_json_finish(j);
}

/* A document comes out with its frame when the frame is accepted, and is only counted when the
 * frame is rejected (it is as stale as the picture). */
static void test_data_with_its_frame(void **state)
{
	struct rig *r = *state;
	struct fc_json *j = malloc(sizeof(*j));

	assert_non_null(j);
	send_data(r, 1, "{\"temp\":21.5}");
	send_frame(r, 0, 1, 0, 0, false);
	expect_verdict(r, 1, FC_VERDICT_ACCEPTED);
	assert_non_null(strstr(data_json(r, j), "\"data_frames\":1,\"data_rejected\":0"));
	assert_non_null(strstr(j->buf, "\"data\":{\"seq\":1,"));
	assert_non_null(strstr(j->buf, "\"doc\":{\"temp\":21.5}}"));
	send_data(r, 2, "[2]");
	send_frame(r, 0, 2, 2 * BUDGET_NS, 0, false);
	expect_verdict(r, 2, FC_VERDICT_LATE);
	send_frame(r, 0, 3, 0, 0, false); /* no document: none counted */
	expect_verdict(r, 3, FC_VERDICT_ACCEPTED);
	assert_non_null(strstr(data_json(r, j), "\"data_frames\":1,\"data_rejected\":1"));
	assert_null(strstr(j->buf, "\"data\":{"));
	free(j);
}

/* A DATA must be followed by the FRAME of its seq: another frame, or a second DATA, breaks the
 * protocol; so does a DATA for a frame older than the last. */
static void test_data_out_of_place(void **state)
{
	struct rig *r = *state;

	send_data(r, 5, "1");
	send_frame(r, 0, 6, 0, 0, false);
	expect_end(r, FC_BYE_PROTOCOL, "a FRAME 6 after a DATA for frame 5");
}

static void test_data_twice(void **state)
{
	struct rig *r = *state;

	send_data(r, 5, "1");
	send_data(r, 5, "2");
	expect_end(r, FC_BYE_PROTOCOL, "a DATA for frame 5 after a DATA for frame 5");
}

static void test_data_for_old_frame(void **state)
{
	struct rig *r = *state;

	send_frame(r, 0, 4, 0, 0, false);
	expect_verdict(r, 4, FC_VERDICT_ACCEPTED);
	send_data(r, 4, "1");
	expect_end(r, FC_BYE_PROTOCOL, "a DATA for frame 4 after frame 4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_opens_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepts_within_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_over_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_impossible_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_notice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frames_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_id_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_backwards_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_with_its_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_out_of_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_for_old_frame, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
