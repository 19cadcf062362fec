/* Tests of viewer/control/remote.c: the viewer's camera commands, sent over a socketpair and
 * answered by the test playing the sender. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "remote.h"

static struct fc_conn *viewer_side, *sender_side;

static int setup(void **state)
{
	int sv[2];

	(void)state;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	viewer_side = fc_conn_new(sv[0], "sender", FC_PROTO_MAX_MESSAGE, 1000);
	sender_side = fc_conn_new(sv[1], "viewer", FC_PROTO_MAX_MESSAGE, 1000);
	return viewer_side && sender_side ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fc_conn_free(viewer_side);
	fc_conn_free(sender_side);
	return 0;
}

/* The next command the played sender receives. */
static struct fc_control next_command(void)
{
	struct fc_msg m;

	assert_int_equal(fc_conn_recv(sender_side, &m, 1000), 1);
	assert_int_equal(m.type, FC_MSG_CONTROL);
	return m.u.control;
}

static struct fc_msg answer(const struct fc_control *c, uint8_t status, const char *text)
{
	return (struct fc_msg){ .type = FC_MSG_CONTROL_RESULT,
				.u.result = { .id = c->id,
					      .op = c->op,
					      .status = status,
					      .text = text,
					      .text_len = (uint32_t)strlen(text) } };
}

/* --control NAME=VALUE: names as --list-controls shows them, whole numbers (hex too). */
static void test_parse_set(void **state)
{
	struct fc_remote_set set;
	char why[200];

	(void)state;
	assert_int_equal(fc_remote_parse_set("brightness=-40", &set, why, sizeof(why)), 0);
	assert_string_equal(set.name, "brightness");
	assert_true(set.value == -40);
	assert_int_equal(fc_remote_parse_set("x=0x10", &set, why, sizeof(why)), 0);
	assert_true(set.value == 16);
	assert_int_equal(fc_remote_parse_set("brightness", &set, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "expected NAME=VALUE"));
	assert_int_equal(fc_remote_parse_set("Brightness=1", &set, why, sizeof(why)), -1);
	assert_int_equal(fc_remote_parse_set("=1", &set, why, sizeof(why)), -1);
	assert_int_equal(fc_remote_parse_set("a=", &set, why, sizeof(why)), -1);
	assert_int_equal(fc_remote_parse_set("a=1.5", &set, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "whole number"));
	assert_int_equal(fc_remote_parse_set("a=99999999999999999999", &set, why, sizeof(why)), -1);
}

/* The command line's commands go out in order, once; done only when each has its answer. */
static void test_commands_in_order_once(void **state)
{
	struct fc_remote_cfg cfg = { .list = true, .nset = 1, .set = { { "brightness", 4 } } };
	struct fc_remote *r = fc_remote_new(&cfg, NULL);
	struct fc_control list, set;
	struct fc_msg m;
	char why[200];

	(void)state;
	assert_true(fc_remote_asked(r));
	assert_false(fc_remote_done(r));
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0);
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0); /* nothing new */
	list = next_command();
	set = next_command();
	assert_int_equal(list.op, FC_CONTROL_LIST);
	assert_int_equal(set.op, FC_CONTROL_SET);
	assert_string_equal(set.name, "brightness");
	assert_true(set.value == 4);
	assert_int_equal(fc_conn_recv(sender_side, &m, 50), 0);
	m = answer(&list, FC_CONTROL_OK, "{\"name\":\"brightness\"}");
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), 0);
	assert_false(fc_remote_done(r));
	m = answer(&set, FC_CONTROL_E_RANGE, "brightness: 99 is outside its range");
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), 0);
	assert_true(fc_remote_done(r));
	fc_remote_free(r);
}

/* An answer out of order, to nothing asked, or a STILL for a command that asked none: the
 * sender is broken, and why names the commands. */
static void test_answers_that_answer_nothing(void **state)
{
	struct fc_remote_cfg cfg = { .list = true };
	struct fc_remote *r = fc_remote_new(&cfg, NULL);
	struct fc_control list = { .id = 1, .op = FC_CONTROL_LIST };
	struct fc_msg m = answer(&list, FC_CONTROL_OK, "");
	uint8_t jpeg[2] = { 0xff, 0xd8 };
	char why[200];

	(void)state;
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), -1); /* not sent yet */
	assert_string_equal(why, "a CONTROL_RESULT for command 1, which was not sent");
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0);
	list = next_command();
	m.u.result.id = list.id + 1;
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), -1);
	assert_string_equal(why, "a CONTROL_RESULT for command 2; expected command 1's");
	m = (struct fc_msg){ .type = FC_MSG_STILL,
			     .u.still = { .id = list.id,
					  .seq = 1,
					  .width = 1,
					  .height = 1,
					  .jpeg = jpeg,
					  .jpeg_size = 2 } };
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), -1);
	assert_string_equal(why, "a STILL for command 1, which asked none");
	fc_remote_free(r);
}

/* A still is saved where asked, with its metadata beside it; one asked from the window goes
 * to still-SEQ.jpg. */
static void test_still_saved(void **state)
{
	char dir[] = "/tmp/fc-test-remote-XXXXXX";
	char path[200], meta[220], got[400];
	struct fc_remote_cfg cfg = { .still = true, .still_path = path };
	struct fc_remote *r;
	struct fc_control c;
	uint8_t jpeg[5] = { 0xff, 0xd8, 1, 0xff, 0xd9 };
	struct fc_msg m;
	char why[200];
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.jpg", dir);
	r = fc_remote_new(&cfg, NULL);
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0);
	c = next_command();
	assert_int_equal(c.op, FC_CONTROL_STILL);
	m = (struct fc_msg){ .type = FC_MSG_STILL,
			     .u.still = { .id = c.id,
					  .seq = 77,
					  .width = 640,
					  .height = 480,
					  .quality = 80,
					  .age_ns = 2500000,
					  .real_ns = 5,
					  .jpeg = jpeg,
					  .jpeg_size = sizeof(jpeg) } };
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), 0);
	m = answer(&c, FC_CONTROL_OK, "frame 77, 640x480, 5 bytes");
	assert_int_equal(fc_remote_on_message(r, &m, why, sizeof(why)), 0);
	assert_true(fc_remote_done(r));
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, sizeof(jpeg));
	assert_memory_equal(got, jpeg, sizeof(jpeg));
	snprintf(meta, sizeof(meta), "%s.json", path);
	f = fopen(meta, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	assert_non_null(strstr(got, "{\"seq\":77,\"width\":640,\"height\":480,\"quality\":80,"
				    "\"bytes\":5,\"age_at_send_ms\":2.500,\"capture_real_ns\":5,"));
	unlink(meta);
	unlink(path);
	rmdir(dir);
	fc_remote_free(r);
}

/* A command sent and not answered when the connection ends is lost, and counts as done; one
 * queued from the window after that goes out on the next connection. */
static void test_lost_with_the_connection(void **state)
{
	struct fc_remote_cfg cfg = { .nset = 1, .set = { { "brightness", 1 } } };
	struct fc_remote *r = fc_remote_new(&cfg, NULL);
	struct fc_control c;

	(void)state;
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0);
	(void)next_command();
	fc_remote_lost(r);
	assert_true(fc_remote_done(r));
	fc_remote_ask(r, FC_CONTROL_STILL, NULL, 0);
	assert_int_equal(fc_remote_send(r, viewer_side, 1000), 0);
	c = next_command();
	assert_int_equal(c.op, FC_CONTROL_STILL);
	assert_int_equal(c.id, 2);
	fc_remote_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_set),
		cmocka_unit_test_setup_teardown(test_commands_in_order_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_that_answer_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_still_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_with_the_connection, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
