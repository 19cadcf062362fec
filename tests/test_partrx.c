/*
 * Tests of viewer/net/partrx.c and viewer/show/follow.c: frames in parts (PROTOCOL.md, section
 * 14) from a fake sender over a socketpair to the viewer's network thread (client.c), and the
 * display's side played by the test, which follows the frame growing in the slot as the real
 * display does. What they prove: a frame in parts is decoded while it arrives (rows done before
 * its END) and, once accepted, gives exactly the whole-frame decode's planes, with a VERDICT
 * measured from START to END; a frame over the budget, one given up, and one cut off by the
 * connection's end are never published, their partial decode is dropped and counted; a broken
 * order is a protocol error. Ages by each frame's round trip (--clock request), far inside or
 * far outside the budget, so that nothing depends on the machine's speed. In one process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <turbojpeg.h>

#include "client.h"
#include "clock.h"
#include "conn.h"
#include "decoder.h"
#include "follow.h"
#include "proto_parts.h"
#include "report.h"
#include "slot.h"

#define WAIT_MS	  10000
#define BUDGET_NS (10 * FC_NS_PER_S)
#define W	  320
#define H	  240

struct rig {
	struct fc_client *client;
	struct fc_slot *slot;
	struct fc_report report;
	struct fc_conn *sender; /* the fake sender's end */
	struct fc_follow follow;
	struct fc_decoder *dec;
	uint8_t *jpeg; /* a W x H picture */
	unsigned long jpeg_size;
	struct fc_request req; /* the latest REQUEST read */
	uint32_t open_id;      /* the id of the frame in parts sent now */
	uint64_t send_ns;
};

static int setup(void **state)
{
	struct fc_client_cfg cfg = { .budget_ns = BUDGET_NS,
				     .window = 1,
				     .io_timeout_ms = WAIT_MS,
				     .dead_after_ms = 60000,
				     .clock = FC_CLOCK_REQUEST };
	struct rig *r = calloc(1, sizeof(*r));
	static uint8_t rgb[W * H * 3];
	tjhandle tj = tjInitCompress();
	char err[256];
	int sv[2];

	assert_non_null(r);
	assert_non_null(tj);
	for (size_t i = 0; i < sizeof(rgb); i++)
		rgb[i] = (uint8_t)((i * 2654435761u) >> 24);
	assert_int_equal(
	    tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &r->jpeg, &r->jpeg_size, TJSAMP_420, 80, 0), 0);
	tjDestroy(tj);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fc_report_init(&r->report, BUDGET_NS, fc_clock_now_ns());
	r->slot = fc_slot_new();
	r->dec = fc_decoder_new(err, sizeof(err));
	assert_non_null(r->slot);
	assert_non_null(r->dec);
	assert_int_equal(fc_follow_init(&r->follow, err, sizeof(err)), 0);
	r->sender = fc_conn_new(sv[1], "viewer", FC_PROTO_MAX_MESSAGE, WAIT_MS);
	r->client =
	    fc_client_start(&cfg, fc_conn_new(sv[0], "sender", FC_PROTO_MAX_MESSAGE, WAIT_MS),
			    r->slot, &r->report, err, sizeof(err));
	assert_non_null(r->client);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fc_client_stop(r->client);
	fc_follow_free(&r->follow);
	fc_decoder_free(r->dec);
	fc_conn_free(r->sender);
	fc_slot_free(r->slot);
	fc_report_destroy(&r->report);
	tjFree(r->jpeg);
	free(r);
	return 0;
}

/* The next message from the viewer that is not a PING; a REQUEST is kept in r->req. */
static struct fc_msg next(struct rig *r)
{
	struct fc_msg m;

	do
		assert_int_equal(fc_conn_recv(r->sender, &m, WAIT_MS), 1);
	while (m.type == FC_MSG_PING);
	if (m.type == FC_MSG_REQUEST)
		r->req = m.u.request;
	return m;
}

static void send_msg(struct rig *r, const struct fc_msg *m)
{
	assert_int_equal(fc_conn_send(r->sender, m, WAIT_MS), 0);
}

/* A START answering the REQUEST just read, with the JPEG's first n bytes. */
static void send_start(struct rig *r, uint64_t seq, uint64_t age_ns, size_t n)
{
	struct fc_msg m = { .type = FC_MSG_FRAME_START };
	uint64_t now = fc_clock_now_ns();

	r->send_ns = now > r->send_ns ? now : r->send_ns + 1;
	r->open_id = r->req.id;
	m.u.frame = (struct fc_frame_msg){ .id = r->req.id,
					   .t0_ns = r->req.t0_ns,
					   .age_ns = age_ns,
					   .seq = seq,
					   .width = W,
					   .height = H,
					   .src_width = W,
					   .src_height = H,
					   .quality = 80,
					   .send_ns = r->send_ns,
					   .jpeg = r->jpeg,
					   .jpeg_size = (uint32_t)n };
	send_msg(r, &m);
}

static void send_part(struct rig *r, size_t from, size_t to)
{
	struct fc_msg m = { .type = FC_MSG_FRAME_PART };

	m.u.part = (struct fc_frame_part){ .id = r->open_id,
					   .bytes = r->jpeg + from,
					   .size = (uint32_t)(to - from) };
	send_msg(r, &m);
}

static void send_end(struct rig *r, size_t from, uint8_t status)
{
	struct fc_msg m = { .type = FC_MSG_FRAME_END };
	bool whole = status == FC_PARTS_COMPLETE;

	m.u.end = (struct fc_frame_end){ .id = r->open_id,
					 .total = whole ? (uint32_t)r->jpeg_size : (uint32_t)from,
					 .status = status,
					 .bytes = whole ? r->jpeg + from : NULL,
					 .size = whole ? (uint32_t)(r->jpeg_size - from) : 0 };
	send_msg(r, &m);
}

/* Plays the display until it follows frame seq and has fed it `bytes` bytes (or waits in vain). */
static void follow_until(struct rig *r, uint64_t seq, size_t bytes)
{
	uint64_t deadline = fc_clock_now_ns() + WAIT_MS * FC_NS_PER_MS;

	while (!(r->follow.f && r->follow.f->seq == seq && r->follow.fed >= bytes) &&
	       fc_clock_now_ns() < deadline) {
		fc_follow_step(&r->follow, r->slot, 0);
		fc_clock_sleep_until(fc_clock_now_ns() + FC_NS_PER_MS / 4);
	}
	assert_true(r->follow.f && r->follow.f->seq == seq && r->follow.fed >= bytes);
}

static struct fc_verdict expect_verdict(struct rig *r, uint64_t seq, int kind)
{
	struct fc_msg m;

	do
		m = next(r);
	while (m.type == FC_MSG_REQUEST);
	if (m.type == FC_MSG_BYE)
		fail_msg("BYE: %s", m.u.bye.text);
	assert_int_equal(m.type, FC_MSG_VERDICT);
	assert_true(m.u.verdict.seq == seq);
	assert_int_equal(m.u.verdict.kind, kind);
	return m.u.verdict;
}

/* A frame in parts, accepted: decoded while it arrived (rows done before the END), its picture
 * exactly the whole decode's, its bytes published whole for the recorder, its VERDICT's recv
 * spanning START to END. */
static void test_accepted_decoded_while_arriving(void **state)
{
	struct rig *r = *state;
	size_t half = r->jpeg_size / 2, most = r->jpeg_size - 100;
	struct fc_picture pic, whole;
	struct fc_verdict v;
	struct fc_frame *f;
	const char *why = NULL;
	uint64_t t0;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	t0 = fc_clock_now_ns();
	send_start(r, 1, FC_NS_PER_MS, 100);
	send_part(r, 100, half);
	follow_until(r, 1, half);
	assert_true(fc_partdec_rows(r->follow.dec) > 0);
	assert_null(fc_slot_get_newer(r->slot, 0)); /* nothing shown before its END */
	send_part(r, half, most);
	follow_until(r, 1, most);
	assert_true(fc_partdec_rows(r->follow.dec) >= H / 2);
	fc_clock_sleep_until(fc_clock_now_ns() + 20 * FC_NS_PER_MS);
	send_end(r, most, FC_PARTS_COMPLETE);
	v = expect_verdict(r, 1, FC_VERDICT_ACCEPTED);
	assert_true(v.recv_us >= 20000 && v.recv_us <= (fc_clock_now_ns() - t0) / 1000);
	f = fc_slot_wait_newer(r->slot, 0, fc_clock_now_ns() + WAIT_MS * FC_NS_PER_MS);
	assert_non_null(f);
	assert_true(f->seq == 1);
	assert_int_equal(f->size, r->jpeg_size);
	assert_memory_equal(f->data, r->jpeg, r->jpeg_size);
	assert_int_equal(atomic_load(&f->growth), FC_FRAME_WHOLE);
	assert_int_equal(fc_follow_picture(&r->follow, r->dec, f, &pic, &why), 0);
	assert_null(r->follow.f);
	assert_int_equal(r->follow.discarded, 0);
	assert_int_equal(r->follow.followed, 1);
	assert_int_equal(r->follow.decoded, 1);
	/* The whole decode of the same bytes, by the other decoder (its own planes). */
	assert_int_equal(fc_decoder_decode(r->dec, r->jpeg, r->jpeg_size, W, H, &whole), 0);
	for (int i = 0; i < 3; i++) {
		size_t len = (size_t)pic.stride[i] * (size_t)(i ? pic.chroma_height : pic.height);

		assert_int_equal(pic.stride[i], whole.stride[i]);
		assert_memory_equal(pic.plane[i], whole.plane[i], len);
	}
	fc_frame_unref(f);
}

/* Frames that end other than accepted: never published, their partial decode dropped and
 * counted. Over the budget (a LATE verdict), given up by the sender (a LATE verdict too, as
 * section 14 says), and then an accepted one, to show the stream goes on. */
static void test_not_accepted_dropped(void **state)
{
	struct rig *r = *state;
	size_t half = r->jpeg_size / 2;
	struct fc_frame *f;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	send_start(r, 1, 2 * BUDGET_NS, half);
	follow_until(r, 1, half);
	send_end(r, half, FC_PARTS_COMPLETE);
	expect_verdict(r, 1, FC_VERDICT_LATE);
	send_start(r, 2, 0, half);
	follow_until(r, 2, half); /* a newer frame: the one before is dropped */
	assert_int_equal(r->follow.discarded, 1);
	send_end(r, half, FC_PARTS_SUPERSEDED);
	expect_verdict(r, 2, FC_VERDICT_LATE);
	assert_null(fc_slot_get_newer(r->slot, 0));
	fc_follow_step(&r->follow, r->slot, 0); /* sees it failed */
	assert_null(r->follow.f);
	assert_int_equal(r->follow.discarded, 2);
	send_start(r, 3, 0, 10);
	send_end(r, 10, FC_PARTS_COMPLETE);
	expect_verdict(r, 3, FC_VERDICT_ACCEPTED);
	f = fc_slot_wait_newer(r->slot, 0, fc_clock_now_ns() + WAIT_MS * FC_NS_PER_MS);
	assert_non_null(f);
	assert_true(f->seq == 3);
	fc_frame_unref(f);
}

/* A connection that ends inside a frame ends the frame: nothing published, the partial decode
 * dropped. */
static void test_cut_off_dropped(void **state)
{
	struct rig *r = *state;
	uint64_t deadline;
	bool clean = true;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	send_start(r, 1, 0, r->jpeg_size / 2);
	follow_until(r, 1, r->jpeg_size / 2);
	fc_conn_free(r->sender);
	r->sender = NULL;
	deadline = fc_clock_now_ns() + WAIT_MS * FC_NS_PER_MS;
	while (fc_client_running(r->client, &clean) && fc_clock_now_ns() < deadline)
		fc_clock_sleep_until(fc_clock_now_ns() + FC_NS_PER_MS);
	assert_false(fc_client_running(r->client, &clean));
	fc_follow_step(&r->follow, r->slot, 0);
	assert_null(r->follow.f);
	assert_int_equal(r->follow.discarded, 1);
	assert_null(fc_slot_get_newer(r->slot, 0));
}

/* The network thread never waits for the display: with nobody decoding (the test does not step
 * the follower), frames in parts are judged, answered and asked for again, each START with a
 * new REQUEST at once, and the newest is published whole. */
static void test_network_never_waits_for_display(void **state)
{
	struct rig *r = *state;
	struct fc_frame *f;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		send_start(r, seq, 0, 1000);
		assert_int_equal(next(r).type, FC_MSG_REQUEST); /* asked again at START */
		send_part(r, 1000, 2000);
		send_end(r, 2000, FC_PARTS_COMPLETE);
		expect_verdict(r, seq, FC_VERDICT_ACCEPTED);
	}
	f = fc_slot_get_newer(r->slot, 0);
	assert_non_null(f);
	assert_true(f->seq == 5);
	assert_int_equal(f->size, r->jpeg_size);
	fc_frame_unref(f);
}

/* A PONG inside a frame in parts carries a later reading of the sender's clock than the START:
 * in order on the wire, so the frame is judged as usual, not taken for a clock going backwards
 * (the viewer PINGs once a second: the test answers the first PING mid-frame). */
static void test_pong_inside_frame(void **state)
{
	struct rig *r = *state;
	struct fc_msg m = { .type = FC_MSG_PONG };
	struct fc_msg ping;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	send_start(r, 1, 0, 1000);
	do {
		assert_int_equal(fc_conn_recv(r->sender, &ping, WAIT_MS), 1);
		if (ping.type == FC_MSG_REQUEST) /* the one START made room for */
			r->req = ping.u.request;
	} while (ping.type != FC_MSG_PING);
	m.u.ping.token = ping.u.ping.token;
	m.u.ping.clock_ns = r->send_ns + FC_NS_PER_S;
	send_msg(r, &m);
	send_end(r, 1000, FC_PARTS_COMPLETE);
	expect_verdict(r, 1, FC_VERDICT_ACCEPTED);
	r->send_ns = m.u.ping.clock_ns; /* the next START comes after the PONG's reading */
	send_start(r, 2, 0, 1000);
	send_end(r, 1000, FC_PARTS_COMPLETE);
	expect_verdict(r, 2, FC_VERDICT_ACCEPTED);
}

/* The order rules: a PART with no frame open is a protocol error (BYE 3). */
static void test_part_without_start_refused(void **state)
{
	struct rig *r = *state;
	struct fc_msg m;

	assert_int_equal(next(r).type, FC_MSG_REQUEST);
	send_part(r, 0, 10);
	m = next(r);
	assert_int_equal(m.type, FC_MSG_BYE);
	assert_int_equal(m.u.bye.reason, FC_BYE_PROTOCOL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accepted_decoded_while_arriving, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_accepted_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_off_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pong_inside_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_never_waits_for_display, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_part_without_start_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
