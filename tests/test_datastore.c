/* Tests of sender/serve/datastore.c: documents handed from the local program to the sessions
 * (the newest wins, each once per session), and results from viewers to the local program (a
 * bounded queue). Sessions are played by connections over socketpairs, in one process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "datastore.h"

#define TIMEOUT_MS 5000

struct rig {
	struct fc_datastore *st;
	struct fc_conn *session; /* what a session sends on */
	struct fc_conn *viewer;	 /* what its viewer reads */
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	int sv[2];

	assert_non_null(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->st = fc_datastore_new();
	assert_non_null(r->st);
	r->session = fc_conn_new(sv[0], "viewer", FC_PROTO_MAX_MESSAGE, TIMEOUT_MS);
	r->viewer = fc_conn_new(sv[1], "sender", FC_PROTO_MAX_MESSAGE, TIMEOUT_MS);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fc_conn_free(r->session);
	fc_conn_free(r->viewer);
	fc_datastore_free(r->st);
	free(r);
	return 0;
}

static void put(struct rig *r, const char *doc)
{
	assert_int_equal(fc_datastore_put(r->st, (const uint8_t *)doc, strlen(doc)), 0);
}

/* The viewer reads a DATA for frame seq carrying doc. */
static void expect_data(struct rig *r, uint64_t seq, const char *doc)
{
	struct fc_msg m;

	assert_int_equal(fc_conn_recv(r->viewer, &m, TIMEOUT_MS), 1);
	assert_int_equal(m.type, FC_MSG_DATA);
	assert_true(m.u.data.seq == seq);
	assert_int_equal(m.u.data.size, strlen(doc));
	assert_memory_equal(m.u.data.doc, doc, strlen(doc));
}

/* Nothing before the first document; then the newest goes with the next frame, once; of several
 * put between two frames only the newest goes; each session keeps its own place. */
static void test_newest_once(void **state)
{
	struct rig *r = *state;
	uint64_t last = 0, other = 0;
	struct fc_msg m;
	struct fc_datastore_stats st;

	assert_int_equal(fc_datastore_send(r->st, r->session, &last, 1, TIMEOUT_MS), 0);
	assert_true(last == 0);
	put(r, "{\"n\":1}");
	assert_int_equal(fc_datastore_send(r->st, r->session, &last, 2, TIMEOUT_MS), 0);
	expect_data(r, 2, "{\"n\":1}");
	assert_int_equal(fc_datastore_send(r->st, r->session, &last, 3, TIMEOUT_MS), 0);
	put(r, "{\"n\":2}");
	put(r, "{\"n\":3}");
	assert_int_equal(fc_datastore_send(r->st, r->session, &last, 4, TIMEOUT_MS), 0);
	expect_data(r, 4, "{\"n\":3}");
	assert_int_equal(fc_conn_recv(r->viewer, &m, 0), 0); /* frame 3 carried none */
	/* Another session that sent nothing yet gets the newest, once. */
	assert_int_equal(fc_datastore_send(r->st, r->session, &other, 9, TIMEOUT_MS), 0);
	expect_data(r, 9, "{\"n\":3}");
	assert_true(other == last);
	fc_datastore_stats(r->st, &st);
	assert_true(st.docs_in == 3 && st.docs_sent == 3);
}

/* Results queue in order for the local program, with the viewer who sent them; the eventfd says
 * when there are some; a full queue drops (and counts) rather than wait. */
static void test_results(void **state)
{
	struct rig *r = *state;
	struct fc_data d = { .seq = 7, .doc = (const uint8_t *)"[1]", .size = 3 };
	struct pollfd pfd = { .fd = fc_datastore_result_fd(r->st), .events = POLLIN };
	struct fc_data_result *res;
	struct fc_datastore_stats st;

	assert_null(fc_datastore_take_result(r->st));
	assert_int_equal(poll(&pfd, 1, 0), 0);
	for (int i = 0; i < FC_DATASTORE_RESULTS; i++) {
		d.seq = 7 + (uint64_t)i;
		assert_int_equal(fc_datastore_result(r->st, "10.0.0.2:5000", &d), 0);
	}
	assert_int_equal(fc_datastore_result(r->st, "10.0.0.2:5000", &d), -1);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	for (int i = 0; i < FC_DATASTORE_RESULTS; i++) {
		res = fc_datastore_take_result(r->st);
		assert_non_null(res);
		assert_true(res->seq == 7 + (uint64_t)i);
		assert_string_equal(res->viewer, "10.0.0.2:5000");
		assert_int_equal(res->size, 3);
		assert_memory_equal(res->doc, "[1]", 3);
		free(res);
	}
	assert_null(fc_datastore_take_result(r->st));
	fc_datastore_stats(r->st, &st);
	assert_true(st.results_in == FC_DATASTORE_RESULTS + 1 && st.results_dropped == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_newest_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_results, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
