/* Tests of sender/serve/session.c: one viewer's session, driven over a socketpair in one process. The
 * test plays the viewer (its HELLO, REQUESTs, VERDICTs, and what a viewer may not send) and the
 * capture (frames it publishes into the slot, as old as it likes), and reads what the session
 * answers and counts. A PING is the barrier: the session handles messages in order, so once its
 * PONG is in, everything sent before has been handled. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "frame.h"
#include "hello.h"
#include "ladder.h"
#include "proto.h"
#include "session.h"
#include "slot.h"
#include "testframe.h"

#define JPEG_BYTES 100
#define WAIT_MS	   5000

struct rig {
	struct fc_slot *slot;
	struct fc_frame_pool *pool;
	struct fc_ladder ladder;
	_Atomic int served; /* viewers the "server" serves, --max-viewers' count */
	struct fc_session *s;
	struct fc_conn *v; /* the viewer's end, played by the test */
	uint64_t seq;	   /* the last frame published */
	uint64_t token;	   /* the last PING's */
};

struct opts {
	uint16_t window;
	uint32_t budget_us;
	int idle_ms;
	int max_served;
	int served;		   /* already served when this viewer comes */
	int source;		   /* the slot's source state before the viewer comes; 0: not set */
	struct fc_datastore *data; /* --data-in's documents (NULL: none) */
};

/* Starts a session for a viewer with o's window and budget (defaults: 2, 10 s) and runs the
 * viewer's side of the HELLO exchange. The default budget is long so that a test about
 * something else never sees a stale notice on a slow machine (valgrind beside other builds took
 * over 80 ms between a publish and the session's offer); the tests of staleness ask 80 ms. */
static void rig_start(struct rig *r, struct opts o)
{
	struct fc_hello mine = { .role = FC_ROLE_VIEWER,
				 .window = o.window ? o.window : 2,
				 .budget_us = o.budget_us ? o.budget_us : 10000000,
				 .name = "test viewer" };
	struct fc_session_cfg cfg = {
		.ladder = &r->ladder,
		.period_ns = 33 * FC_NS_PER_MS,
		.hello = { .role = FC_ROLE_SENDER,
			   .codec = FC_CODEC_JPEG,
			   .width = 64,
			   .height = 48,
			   .name = "test sender" },
		.io_timeout_ms = 2000,
		.idle_timeout_ms = o.idle_ms ? o.idle_ms : 5000,
		.served = &r->served,
		.max_served = o.max_served ? o.max_served : 8,
		.data = o.data,
	};
	struct fc_hello theirs;
	char err[256];
	int sv[2];

	memset(r, 0, sizeof(*r));
	r->slot = fc_slot_new();
	r->pool = fc_frame_pool_new(4);
	assert_non_null(r->slot);
	assert_non_null(r->pool);
	/* The full picture alone: what each answer carries is then the test's own frame. */
	fc_ladder_init(&r->ladder, 80, false, false);
	atomic_store(&r->served, o.served);
	if (o.source)
		fc_slot_set_source(r->slot, o.source, "camera /dev/video9 lost (unplugged)");
	cfg.slot = r->slot;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->s = fc_session_start(&cfg, fc_conn_new(sv[0], "test-viewer", 1024, 5000), 7, err,
				sizeof(err));
	assert_non_null(r->s);
	r->v = fc_conn_new(sv[1], "test-sender", FC_PROTO_MAX_MESSAGE, 5000);
	assert_non_null(r->v);
	if (fc_hello_exchange(r->v, &mine, &theirs, WAIT_MS, err, sizeof(err)) < 0)
		fail_msg("HELLO exchange: %s", err);
	assert_string_equal(theirs.name, "test sender");
}

static void rig_stop(struct rig *r)
{
	fc_session_free(r->s);
	fc_conn_free(r->v);
	fc_slot_free(r->slot);
	fc_frame_pool_release(r->pool);
}

/* Publishes the next picture, captured age_ms ago. */
static void publish(struct rig *r, uint64_t age_ms)
{
	fc_test_publish(r->pool, r->slot, JPEG_BYTES, ++r->seq,
			fc_clock_now_ns() - age_ms * FC_NS_PER_MS);
}

static void send_msg(struct rig *r, const struct fc_msg *m)
{
	assert_int_equal(fc_conn_send(r->v, m, WAIT_MS), 0);
}

static void request(struct rig *r, uint32_t id, uint64_t t0)
{
	send_msg(
	    r, &(struct fc_msg){ .type = FC_MSG_REQUEST, .u.request = { .id = id, .t0_ns = t0 } });
}

static void verdict(struct rig *r, uint32_t id, uint64_t seq, int kind, uint32_t bound_us)
{
	send_msg(
	    r,
	    &(struct fc_msg){
		.type = FC_MSG_VERDICT,
		.u.verdict = { .id = id, .seq = seq, .bound_us = bound_us, .kind = (uint8_t)kind },
	    });
}

/* The session's next message, which must be of this type. */
static struct fc_msg expect(struct rig *r, int type)
{
	struct fc_msg m;
	int rc = fc_conn_recv(r->v, &m, WAIT_MS);

	if (rc <= 0)
		fail_msg("expected %s, got %s", fc_proto_type_name(type),
			 rc ? fc_conn_error(r->v) : "nothing");
	if (m.type != type)
		fail_msg("expected %s, got %s", fc_proto_type_name(type),
			 fc_proto_type_name(m.type));
	return m;
}

/* Returns once the session has handled everything sent so far, and sent nothing else. */
static void barrier(struct rig *r)
{
	struct fc_msg m;

	send_msg(r, &(struct fc_msg){ .type = FC_MSG_PING, .u.ping.token = ++r->token });
	m = expect(r, FC_MSG_PONG);
	assert_true(m.u.ping.token == r->token);
}

/* The BYE the session ends with: its reason, and a text that holds want. */
static void expect_bye(struct rig *r, int reason, const char *want)
{
	struct fc_msg m = expect(r, FC_MSG_BYE);

	assert_int_equal(m.u.bye.reason, reason);
	if (!strstr(m.u.bye.text, want))
		fail_msg("BYE says '%s', not '%s'", m.u.bye.text, want);
}

static struct fc_session_stats stats_of(struct rig *r)
{
	struct fc_session_stats st;

	fc_session_stats(r->s, &st);
	return st;
}

/* Waits (within the deadline) until the session's thread has ended. */
static void wait_done(struct rig *r)
{
	uint64_t end = fc_clock_now_ns() + (uint64_t)WAIT_MS * FC_NS_PER_MS;

	while (!fc_session_done(r->s)) {
		if (fc_clock_now_ns() > end)
			fail_msg("the session did not end");
		usleep(5000);
	}
}

/* ---- answering requests ------------------------------------------------------------------- */

/* The oldest request is answered with the newest picture (those before it are skipped, never
 * queued), echoing its id and V0; a request with no newer picture waits for the next one, and
 * its held time counts the wait. */
static void test_oldest_request_gets_newest_picture(void **state)
{
	struct rig r;
	struct fc_msg m;
	uint64_t pong_ns, published_ns;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	publish(&r, 0);
	publish(&r, 0);
	publish(&r, 0);
	request(&r, 1, 111);
	request(&r, 2, 222);
	m = expect(&r, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.id, 1);
	assert_true(m.u.frame.t0_ns == 111);
	assert_int_equal(m.u.frame.seq, 3);
	assert_int_equal(m.u.frame.jpeg_size, JPEG_BYTES);
	assert_int_equal(m.u.frame.width, 64);
	assert_int_equal(m.u.frame.quality, 80);
	/* Request 2 waits: the session has offered picture 3 already. */
	barrier(&r);
	pong_ns = fc_clock_now_ns();
	usleep(20000);
	published_ns = fc_clock_now_ns();
	publish(&r, 0);
	m = expect(&r, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.id, 2);
	assert_true(m.u.frame.t0_ns == 222);
	assert_int_equal(m.u.frame.seq, 4);
	/* It was read before the PONG went out and answered after the picture came. */
	assert_true(m.u.frame.held_ns >= published_ns - pong_ns);
	rig_stop(&r);
}

/* A picture already older than the viewer's budget is not sent: a stale notice goes instead (the
 * timings, the picture's size, no bytes), counted as too old to send and not as sent; its VERDICT
 * (late, always) is not counted again as a rejection. */
static void test_stale_notice(void **state)
{
	struct rig r;
	struct fc_msg m;
	struct fc_session_stats st;

	(void)state;
	rig_start(&r, (struct opts){ .budget_us = 80000 });
	publish(&r, 200);
	request(&r, 1, 100);
	m = expect(&r, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.seq, 1);
	assert_int_equal(m.u.frame.jpeg_size, 0);
	assert_true(m.u.frame.age_ns >= 200 * FC_NS_PER_MS);
	assert_int_equal(m.u.frame.width, 64);
	assert_int_equal(m.u.frame.src_width, 64);
	assert_int_equal(m.u.frame.quality, 0);
	verdict(&r, 1, 1, FC_VERDICT_LATE, 201000);
	barrier(&r);
	st = stats_of(&r);
	assert_int_equal(st.too_old, 1);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.accepted, 0);
	assert_int_equal(st.late, 0);
	assert_int_equal(st.last_bound_us, 201000);
	rig_stop(&r);
}

/* Each frame offered is counted once: a stale notice as too old, a frame sent as sent and then,
 * by its VERDICT, as accepted or late; sent + too_old is what was offered, accepted + late what
 * was judged of what was sent. */
static void test_each_frame_counted_once(void **state)
{
	struct rig r;
	struct fc_session_stats st;

	(void)state;
	rig_start(&r, (struct opts){ .budget_us = 80000 });
	publish(&r, 200);
	request(&r, 1, 100);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 1, 1, FC_VERDICT_LATE, 201000);
	publish(&r, 0);
	request(&r, 2, 200);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 2, 2, FC_VERDICT_LATE, 90000);
	publish(&r, 0);
	request(&r, 3, 300);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 3, 3, FC_VERDICT_ACCEPTED, 5000);
	barrier(&r);
	st = stats_of(&r);
	assert_int_equal(st.too_old, 1);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.accepted, 1);
	rig_stop(&r);
}

/* ---- verdicts ------------------------------------------------------------------------------ */

/* Each VERDICT is counted by its kind, and the latest bound is kept; the frames sent and their
 * bytes are counted as they go. */
static void test_verdicts_counted(void **state)
{
	struct rig r;
	struct fc_session_stats st;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	publish(&r, 0);
	request(&r, 1, 100);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 1, 1, FC_VERDICT_ACCEPTED, 5000);
	publish(&r, 0);
	request(&r, 2, 200);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 2, 2, FC_VERDICT_LATE, 90000);
	barrier(&r);
	st = stats_of(&r);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.bytes, 2 * JPEG_BYTES);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.too_old, 0);
	assert_int_equal(st.last_bound_us, 90000);
	assert_int_equal(st.width, 64);
	assert_int_equal(st.src_width, 64);
	assert_int_equal(st.quality, 80);
	rig_stop(&r);
}

/* A VERDICT must name the oldest frame sent and not judged yet: one on another frame ends the
 * connection with a BYE that says which was expected. */
static void test_verdict_out_of_order(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	publish(&r, 0);
	request(&r, 1, 100);
	expect(&r, FC_MSG_FRAME);
	publish(&r, 0);
	request(&r, 2, 200);
	expect(&r, FC_MSG_FRAME);
	verdict(&r, 2, 2, FC_VERDICT_ACCEPTED, 1000);
	expect_bye(&r, FC_BYE_PROTOCOL,
		   "a VERDICT on frame 2 (request 2); expected frame 1 (request 1)");
	wait_done(&r);
	assert_int_equal(stats_of(&r).accepted, 0);
	rig_stop(&r);
}

/* A VERDICT on a frame never sent is refused: the counts a viewer reports must be about frames
 * it got. */
static void test_verdict_on_nothing(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	verdict(&r, 7, 12345, FC_VERDICT_ACCEPTED, 1000);
	expect_bye(&r, FC_BYE_PROTOCOL, "a VERDICT on frame 12345 (request 7), which was not sent");
	wait_done(&r);
	rig_stop(&r);
}

/* With 32 frames awaiting their VERDICT the session sends nothing more, however many requests
 * and pictures there are; the next VERDICT lets the waiting request be answered. */
static void test_unjudged_frames_bounded(void **state)
{
	struct rig r;
	struct fc_msg m;
	uint32_t id = 0;

	(void)state;
	rig_start(&r, (struct opts){ .window = 1 });
	for (int i = 0; i < 2 * FC_PROTO_MAX_WINDOW; i++) {
		publish(&r, 0);
		id++;
		request(&r, id, id);
		m = expect(&r, FC_MSG_FRAME);
		assert_int_equal(m.u.frame.id, id);
	}
	publish(&r, 0);
	id++;
	request(&r, id, id);
	barrier(&r); /* no FRAME came before the PONG */
	verdict(&r, 1, 1, FC_VERDICT_ACCEPTED, 1000);
	m = expect(&r, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.id, id);
	assert_int_equal(m.u.frame.seq, r.seq);
	rig_stop(&r);
}

/* ---- what a viewer may not do ------------------------------------------------------------- */

/* More requests in flight than the window the viewer announced: BYE, saying so. */
static void test_request_window(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ .window = 2 });
	request(&r, 1, 100);
	request(&r, 2, 200);
	barrier(&r); /* two pending, no picture: nothing answered */
	request(&r, 3, 300);
	expect_bye(&r, FC_BYE_PROTOCOL, "more than the 2 requests in flight it announced");
	wait_done(&r);
	rig_stop(&r);
}

/* A message only a sender may send (a STATUS), or a second HELLO: BYE, naming it. */
static void test_viewer_sends_what_it_may_not(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	send_msg(&r, &(struct fc_msg){ .type = FC_MSG_STATUS,
				       .u.status = { .source = FC_SOURCE_LIVE, .text = "hi" } });
	expect_bye(&r, FC_BYE_PROTOCOL, "a viewer may not send STATUS");
	wait_done(&r);
	rig_stop(&r);

	rig_start(&r, (struct opts){ 0 });
	send_msg(&r, &(struct fc_msg){
			 .type = FC_MSG_HELLO,
			 .u.hello = { .role = FC_ROLE_VIEWER, .window = 1, .budget_us = 1000 } });
	expect_bye(&r, FC_BYE_PROTOCOL, "a viewer may not send HELLO");
	wait_done(&r);
	rig_stop(&r);
}

/* ---- the session's life -------------------------------------------------------------------- */

/* A viewer that says nothing for longer than the idle timeout is told so and dropped. */
static void test_silent_viewer_dropped(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ .idle_ms = 200 });
	expect_bye(&r, FC_BYE_TIMEOUT, "nothing heard for too long");
	wait_done(&r);
	rig_stop(&r);
}

/* Stopping the session says BYE to the viewer, and ends its thread. */
static void test_stop_says_bye(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ 0 });
	barrier(&r);
	fc_session_stop(r.s);
	expect_bye(&r, FC_BYE_NORMAL, "sender shutting down");
	wait_done(&r);
	rig_stop(&r);
}

/* A viewer that joins while the camera is lost hears so at once. */
static void test_lost_source_told(void **state)
{
	struct rig r;
	struct fc_msg m;

	(void)state;
	rig_start(&r, (struct opts){ .source = FC_SOURCE_LOST });
	m = expect(&r, FC_MSG_STATUS);
	assert_int_equal(m.u.status.source, FC_SOURCE_LOST);
	assert_non_null(strstr(m.u.status.text, "/dev/video9"));
	rig_stop(&r);
}

/* With --max-viewers served already, a viewer past its HELLO is told the sender is full, and
 * the count of those served is left as it was. */
static void test_full_sender_refuses(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ .max_served = 1, .served = 1 });
	expect_bye(&r, FC_BYE_FULL, "this sender serves at most 1 viewer (--max-viewers)");
	wait_done(&r);
	assert_int_equal(atomic_load(&r.served), 1);
	rig_stop(&r);
}

/* A viewer served takes a place while it is connected and gives it back when it leaves. */
static void test_served_place_given_back(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, (struct opts){ .max_served = 2 });
	barrier(&r);
	assert_int_equal(atomic_load(&r.served), 1);
	send_msg(&r, &(struct fc_msg){ .type = FC_MSG_BYE, .u.bye = { .text = "done" } });
	wait_done(&r);
	assert_int_equal(atomic_load(&r.served), 0);
	rig_stop(&r);
}

/* ---- data with frames --------------------------------------------------------------------- */

static void put_doc(struct fc_datastore *st, const char *doc)
{
	assert_int_equal(fc_datastore_put(st, (const uint8_t *)doc, strlen(doc)), 0);
}

/* The DATA of frame seq, carrying doc, then that FRAME. */
static void expect_data_and_frame(struct rig *r, uint64_t seq, const char *doc)
{
	struct fc_msg m = expect(r, FC_MSG_DATA);

	assert_true(m.u.data.seq == seq);
	assert_int_equal(m.u.data.size, strlen(doc));
	assert_memory_equal(m.u.data.doc, doc, m.u.data.size);
	m = expect(r, FC_MSG_FRAME);
	assert_true(m.u.frame.seq == seq && m.u.frame.jpeg_size == JPEG_BYTES);
}

/* A document goes just before the next frame with a picture, never before a stale notice; of two
 * put between frames only the newest goes; a result from the viewer reaches the store with its
 * seq and the viewer's name, and one for a frame never sent ends the connection. */
static void test_data_with_frames(void **state)
{
	struct fc_datastore *st = fc_datastore_new();
	struct fc_data_result *res;
	struct rig r;
	struct fc_msg m;

	(void)state;
	assert_non_null(st);
	rig_start(&r, (struct opts){ .budget_us = 80000, .data = st }); /* a stale notice below */
	publish(&r, 0);
	request(&r, 1, 1);
	m = expect(&r, FC_MSG_FRAME); /* nothing put yet: no DATA */
	assert_true(m.u.frame.seq == 1);
	put_doc(st, "{\"n\":1}");
	publish(&r, 200);
	request(&r, 2, 2);
	m = expect(&r, FC_MSG_FRAME); /* a stale notice carries none */
	assert_true(m.u.frame.seq == 2 && m.u.frame.jpeg_size == 0);
	publish(&r, 0);
	request(&r, 3, 3);
	expect_data_and_frame(&r, 3, "{\"n\":1}");
	put_doc(st, "{\"n\":2}");
	put_doc(st, "{\"n\":3}");
	publish(&r, 0);
	request(&r, 4, 4);
	expect_data_and_frame(&r, 4, "{\"n\":3}");
	send_msg(&r, &(struct fc_msg){
			 .type = FC_MSG_DATA,
			 .u.data = { .seq = 3, .doc = (const uint8_t *)"[7]", .size = 3 } });
	barrier(&r);
	res = fc_datastore_take_result(st);
	assert_non_null(res);
	assert_true(res->seq == 3 && res->size == 3 && memcmp(res->doc, "[7]", 3) == 0);
	assert_string_equal(res->viewer, "test-viewer");
	free(res);
	send_msg(
	    &r, &(struct fc_msg){ .type = FC_MSG_DATA,
				  .u.data = { .seq = 5, .doc = (const uint8_t *)"1", .size = 1 } });
	expect_bye(&r, FC_BYE_PROTOCOL, "a DATA answering frame 5, not sent to it");
	rig_stop(&r);
	fc_datastore_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oldest_request_gets_newest_picture),
		cmocka_unit_test(test_stale_notice),
		cmocka_unit_test(test_each_frame_counted_once),
		cmocka_unit_test(test_verdicts_counted),
		cmocka_unit_test(test_verdict_out_of_order),
		cmocka_unit_test(test_verdict_on_nothing),
		cmocka_unit_test(test_unjudged_frames_bounded),
		cmocka_unit_test(test_request_window),
		cmocka_unit_test(test_viewer_sends_what_it_may_not),
		cmocka_unit_test(test_silent_viewer_dropped),
		cmocka_unit_test(test_stop_says_bye),
		cmocka_unit_test(test_lost_source_told),
		cmocka_unit_test(test_full_sender_refuses),
		cmocka_unit_test(test_served_place_given_back),
		cmocka_unit_test(test_data_with_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
