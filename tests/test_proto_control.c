/* Tests of common/proto_control.c: CONTROL, CONTROL_RESULT and STILL as bytes, through the
 * framing of common/proto.c, and a big one through a connection (common/conn.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "proto.h"
#include "prototest.h"

static const uint8_t jpeg_bytes[] = { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 0xFF, 0xD9 };
static const char list_text[] = "{\"name\":\"brightness\",\"min\":-64,\"max\":64}\n"
				"{\"name\":\"contrast\",\"min\":0,\"max\":95}";

static struct fc_msg set_cmd(const char *name, int64_t value)
{
	struct fc_msg m = { .type = FC_MSG_CONTROL,
			    .u.control = {
				.id = 0x01020304, .op = FC_CONTROL_SET, .value = value } };

	snprintf(m.u.control.name, sizeof(m.u.control.name), "%s", name);
	return m;
}

static struct fc_msg result(uint8_t status, const char *text)
{
	return (struct fc_msg){ .type = FC_MSG_CONTROL_RESULT,
				.u.result = { .id = 77,
					      .op = FC_CONTROL_LIST,
					      .status = status,
					      .text = text,
					      .text_len = (uint32_t)strlen(text) } };
}

static struct fc_msg still(uint16_t w, uint16_t h, uint8_t q)
{
	return (struct fc_msg){ .type = FC_MSG_STILL,
				.u.still = { .id = 9,
					     .seq = 1ull << 41,
					     .width = w,
					     .height = h,
					     .quality = q,
					     .age_ns = 12345678,
					     .real_ns = 1796300000123456789ull,
					     .jpeg = jpeg_bytes,
					     .jpeg_size = sizeof(jpeg_bytes) } };
}

/* Each message comes back field for field, and no prefix of it decodes. */
static void test_round_trips(void **state)
{
	uint8_t buf[512];
	struct fc_msg m, out;

	(void)state;
	m = set_cmd("exposure_time_absolute", -5);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 14 + 22);
	assert_int_equal(out.type, FC_MSG_CONTROL);
	assert_int_equal(out.u.control.id, 0x01020304);
	assert_int_equal(out.u.control.op, FC_CONTROL_SET);
	assert_true(out.u.control.value == -5);
	assert_string_equal(out.u.control.name, "exposure_time_absolute");
	m = (struct fc_msg){ .type = FC_MSG_CONTROL, .u.control = { .id = 1, .op = 200 } };
	assert_true(fc_test_round_trip(&m, buf, sizeof(buf), &out) >
		    0); /* an unknown op is the sender's */
	assert_int_equal(out.u.control.op, 200);
	assert_string_equal(out.u.control.name, "");
	m = result(FC_CONTROL_OK, list_text);
	assert_true(fc_test_round_trip(&m, buf, sizeof(buf), &out) > 0);
	assert_int_equal(out.u.result.id, 77);
	assert_int_equal(out.u.result.status, FC_CONTROL_OK);
	assert_int_equal(out.u.result.text_len, strlen(list_text));
	assert_memory_equal(out.u.result.text, list_text, strlen(list_text));
	m = still(1280, 720, 95);
	assert_true(fc_test_round_trip(&m, buf, sizeof(buf), &out) > 0);
	assert_int_equal(out.u.still.seq, 1ull << 41);
	assert_int_equal(out.u.still.width, 1280);
	assert_int_equal(out.u.still.height, 720);
	assert_int_equal(out.u.still.quality, 95);
	assert_int_equal(out.u.still.age_ns, 12345678);
	assert_int_equal(out.u.still.real_ns, 1796300000123456789ull);
	assert_int_equal(out.u.still.jpeg_size, sizeof(jpeg_bytes));
	assert_memory_equal(out.u.still.jpeg, jpeg_bytes, sizeof(jpeg_bytes));
}

/* The exact bytes of a SET, as docs/PROTOCOL.md, section 11, draws them. */
static void test_control_bytes(void **state)
{
	static const uint8_t want[] = { 'F',  'C',  FC_PROTO_VERSION,
					12,   0,    0,
					0,    17, /* header */
					1,    2,    3,
					4, /* id */
					2, /* op: set */
					0xff, 0xff, 0xff,
					0xff, 0xff, 0xff,
					0xff, 0xfb, /* -5 */
					3,    'a',  'b',
					'c' };
	struct fc_msg m = set_cmd("abc", -5);
	uint8_t buf[64];

	(void)state;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* What the wire refuses: a name length that disagrees with the payload, a NUL in a name, a
 * control byte in a result's text, a still of no size or a quality over 100, a still with no
 * JPEG or a CONTROL longer than the longest name (the header alone says so). */
static void test_bad_fields(void **state)
{
	struct fc_msg m = set_cmd("abc", 1);
	struct fc_msg r = result(FC_CONTROL_E_RANGE, "brightness: 99 is outside -64..64");
	struct fc_msg s = still(256, 480, 80);
	uint8_t hdr[8] = { 'F', 'C', FC_PROTO_VERSION, FC_MSG_CONTROL, 0, 0, 0, 14 + 33 };
	struct fc_msg out;

	(void)state;
	fc_test_expect_bad(&m, 8 + 13, 2, FC_PROTO_E_FIELD);
	fc_test_expect_bad(&m, 8 + 14, 0, FC_PROTO_E_FIELD);
	fc_test_expect_bad(&r, 8 + 6, 0x1b, FC_PROTO_E_FIELD);
	fc_test_expect_bad(&r, 8 + 7, 0x80, FC_PROTO_E_FIELD);
	fc_test_expect_bad(&s, 8 + 12, 0, FC_PROTO_E_FIELD);	/* width's high byte: 256 -> 0 */
	fc_test_expect_bad(&s, 8 + 12, 0x41, FC_PROTO_E_FIELD); /* over 16384 */
	fc_test_expect_bad(&s, 8 + 16, 101, FC_PROTO_E_FIELD);
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	hdr[3] = FC_MSG_STILL;
	hdr[7] = FC_PROTO_STILL_FIXED;
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	hdr[3] = FC_MSG_CONTROL_RESULT;
	hdr[6] = 0x40;
	hdr[7] = 0x07; /* 16391: one over the longest text */
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
}

/* The encoder refuses what a decoder would: a name of 33 bytes, a text with an escape, a still
 * with no bytes. A newline in a result is fine: a list has one per control. */
static void test_encoder_refuses(void **state)
{
	struct fc_msg m = set_cmd("", 1);
	uint8_t buf[512];

	(void)state;
	memset(m.u.control.name, 'a', FC_PROTO_MAX_CONTROL_NAME + 1);
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = result(FC_CONTROL_OK, "a\x1b[2J");
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = result(FC_CONTROL_OK, "a\nb");
	assert_true(fc_proto_encode(&m, buf, sizeof(buf)) > 0);
	m = still(640, 480, 80);
	m.u.still.jpeg_size = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = still(0, 480, 80);
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
}

/* Names as v4l2-ctl writes them pass; anything else is the sender's to refuse. */
static void test_names(void **state)
{
	(void)state;
	assert_true(fc_proto_control_name_ok("white_balance_temperature", 25));
	assert_true(fc_proto_control_name_ok("a", 1));
	assert_false(fc_proto_control_name_ok("", 0));
	assert_false(fc_proto_control_name_ok("Brightness", 10));
	assert_false(fc_proto_control_name_ok("a b", 3));
	assert_false(fc_proto_control_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 33));
	assert_string_equal(fc_proto_control_status_name(FC_CONTROL_E_RANGE), "out of range");
	assert_string_equal(fc_proto_control_status_name(250), "unknown status");
	assert_string_equal(fc_proto_control_op_name(FC_CONTROL_STILL), "still");
	assert_string_equal(fc_proto_type_name(FC_MSG_STILL), "STILL");
}

struct send_job {
	struct fc_conn *conn;
	struct fc_msg msg;
	int rc;
};

static void *send_one(void *arg)
{
	struct send_job *j = arg;

	j->rc = fc_conn_send(j->conn, &j->msg, 5000);
	return NULL;
}

/* Messages bigger than the connection's stack buffer (the longest result, a still of 1 MB) go out
 * whole and come back whole, plain and sealed alike. */
static void test_big_messages_over_a_connection(void **state)
{
	static char text[FC_PROTO_MAX_RESULT_TEXT + 1];
	uint8_t *jpeg = malloc(1u << 20);
	struct fc_secure_keys keys = { 0 };
	int sv[2];

	(void)state;
	assert_non_null(jpeg);
	memset(text, 'x', FC_PROTO_MAX_RESULT_TEXT);
	for (size_t i = 0; i < (1u << 20); i++)
		jpeg[i] = (uint8_t)(i * 31);
	for (int sealed = 0; sealed < 2; sealed++) {
		struct fc_conn *a, *b;
		struct fc_msg m = result(FC_CONTROL_OK, text), got;
		struct send_job job;
		pthread_t t;

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		a = fc_conn_new(sv[0], "a", FC_PROTO_MAX_MESSAGE, 1000);
		b = fc_conn_new(sv[1], "b", FC_PROTO_MAX_MESSAGE, 1000);
		assert_non_null(a);
		assert_non_null(b);
		if (sealed) {
			fc_conn_secure(a, &keys);
			fc_conn_secure(b, &keys);
		}
		assert_int_equal(fc_conn_send(a, &m, 1000), 0);
		assert_int_equal(fc_conn_recv(b, &got, 1000), 1);
		assert_int_equal(got.type, FC_MSG_CONTROL_RESULT);
		assert_int_equal(got.u.result.text_len, FC_PROTO_MAX_RESULT_TEXT);
		m = still(4000, 3000, 0);
		m.u.still.jpeg = jpeg;
		m.u.still.jpeg_size = 1u << 20;
		/* The socket holds less than a megabyte: the reader reads while it is sent. */
		job = (struct send_job){ .conn = a, .msg = m };
		assert_int_equal(pthread_create(&t, NULL, send_one, &job), 0);
		assert_int_equal(fc_conn_recv(b, &got, 5000), 1);
		assert_int_equal(got.type, FC_MSG_STILL);
		assert_int_equal(got.u.still.jpeg_size, 1u << 20);
		assert_memory_equal(got.u.still.jpeg, jpeg, 1u << 20);
		pthread_join(t, NULL);
		assert_int_equal(job.rc, 0);
		fc_conn_free(a);
		fc_conn_free(b);
	}
	free(jpeg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encoder_refuses),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_big_messages_over_a_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
