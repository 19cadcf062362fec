/* Tests of common/proto_parts.c: FRAME_START, FRAME_PART and FRAME_END as bytes, through the
 * framing of common/proto.c, their zero-copy heads, and the receiver's order rules
 * (fc_parts_rx_take). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proto.h"
#include "prototest.h"

static const uint8_t jpeg_bytes[] = { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 0xFF, 0xD9 };

static struct fc_msg start(uint32_t id, uint32_t first)
{
	return (struct fc_msg){ .type = FC_MSG_FRAME_START,
				.u.frame = { .id = id,
					     .t0_ns = 111,
					     .held_ns = 222,
					     .age_ns = 333,
					     .seq = 1ull << 40,
					     .width = 640,
					     .height = 360,
					     .src_width = 1280,
					     .src_height = 720,
					     .quality = 80,
					     .send_ns = 444,
					     .send_real_ns = 555,
					     .jpeg = jpeg_bytes,
					     .jpeg_size = first } };
}

static struct fc_msg part(uint32_t id, const uint8_t *b, uint32_t n)
{
	return (struct fc_msg){ .type = FC_MSG_FRAME_PART,
				.u.part = { .id = id, .bytes = b, .size = n } };
}

static struct fc_msg end(uint32_t id, uint32_t total, uint8_t status, const uint8_t *b, uint32_t n)
{
	return (struct fc_msg){
		.type = FC_MSG_FRAME_END,
		.u.end = { .id = id, .total = total, .status = status, .bytes = b, .size = n }
	};
}

/* Each message comes back field for field; START is a FRAME's fixed part under type 15, and a
 * START with no bytes yet and a given-up END with none are messages too. */
static void test_round_trips(void **state)
{
	uint8_t buf[256];
	struct fc_msg m, out;

	(void)state;
	m = start(7, 4);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 61 + 4);
	assert_int_equal(buf[3], 15);
	assert_int_equal(out.type, FC_MSG_FRAME_START);
	assert_int_equal(out.u.frame.id, 7);
	assert_int_equal(out.u.frame.age_ns, 333);
	assert_int_equal(out.u.frame.seq, 1ull << 40);
	assert_int_equal(out.u.frame.src_width, 1280);
	assert_int_equal(out.u.frame.send_real_ns, 555);
	assert_int_equal(out.u.frame.jpeg_size, 4);
	assert_memory_equal(out.u.frame.jpeg, jpeg_bytes, 4);
	m = start(8, 0);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 61);
	assert_int_equal(out.u.frame.jpeg_size, 0);
	m = part(7, jpeg_bytes + 4, 5);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 4 + 5);
	assert_int_equal(out.type, FC_MSG_FRAME_PART);
	assert_int_equal(out.u.part.id, 7);
	assert_int_equal(out.u.part.size, 5);
	assert_memory_equal(out.u.part.bytes, jpeg_bytes + 4, 5);
	m = end(7, sizeof(jpeg_bytes), FC_PARTS_COMPLETE, jpeg_bytes + 9, 2);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 9 + 2);
	assert_int_equal(out.u.end.id, 7);
	assert_int_equal(out.u.end.total, sizeof(jpeg_bytes));
	assert_int_equal(out.u.end.status, FC_PARTS_COMPLETE);
	assert_memory_equal(out.u.end.bytes, jpeg_bytes + 9, 2);
	m = end(8, 0, FC_PARTS_SUPERSEDED, NULL, 0);
	assert_int_equal(fc_test_round_trip(&m, buf, sizeof(buf), &out), 8 + 9);
	assert_int_equal(out.u.end.status, FC_PARTS_SUPERSEDED);
	assert_string_equal(fc_proto_type_name(FC_MSG_FRAME_END), "FRAME_END");
	assert_string_equal(fc_parts_status_name(FC_PARTS_TOO_OLD), "given up: too old");
}

/* The exact bytes of a PART and an END, as docs/PROTOCOL.md, section 14, draws them. */
static void test_bytes(void **state)
{
	static const uint8_t want_part[] = {
		'F', 'C', FC_PROTO_VERSION, 16, 0, 0, 0, 6, 0, 0, 1, 2, 0xAB, 0xCD
	};
	static const uint8_t want_end[] = {
		'F', 'C', FC_PROTO_VERSION, 17, 0, 0, 0, 9, 0, 0, 1, 2, 0, 0, 1, 0, 2
	};
	static const uint8_t b[] = { 0xAB, 0xCD };
	struct fc_msg m = part(258, b, 2);
	uint8_t buf[64];

	(void)state;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), sizeof(want_part));
	assert_memory_equal(buf, want_part, sizeof(want_part));
	m = end(258, 256, FC_PARTS_TOO_OLD, NULL, 0);
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), sizeof(want_end));
	assert_memory_equal(buf, want_end, sizeof(want_end));
}

/* The heads are the whole messages' first bytes, so head + bytes on the wire is the message. */
static void test_heads(void **state)
{
	uint8_t whole[256], head[128];
	struct fc_msg m = start(3, 6);
	size_t n;

	(void)state;
	n = fc_proto_encode(&m, whole, sizeof(whole));
	assert_int_equal(fc_proto_start_head(&m.u.frame, head, sizeof(head)), 8 + 61);
	assert_memory_equal(head, whole, 8 + 61);
	assert_int_equal(n, 8 + 61 + 6);
	m = part(3, jpeg_bytes, 9);
	fc_proto_encode(&m, whole, sizeof(whole));
	assert_int_equal(fc_proto_part_head(3, 9, head, sizeof(head)), 8 + 4);
	assert_memory_equal(head, whole, 8 + 4);
	assert_int_equal(fc_proto_part_head(3, 0, head, sizeof(head)), 0);
	assert_int_equal(fc_proto_part_head(3, FC_PROTO_MAX_JPEG + 1, head, sizeof(head)), 0);
	assert_int_equal(fc_proto_part_head(3, 9, head, 8 + 3), 0);
	m = end(3, 20, FC_PARTS_COMPLETE, jpeg_bytes, 5);
	fc_proto_encode(&m, whole, sizeof(whole));
	assert_int_equal(fc_proto_end_head(&m.u.end, head, sizeof(head)), 8 + 9);
	assert_memory_equal(head, whole, 8 + 9);
	m.u.end.total = 4; /* fewer than its own bytes */
	assert_int_equal(fc_proto_end_head(&m.u.end, head, sizeof(head)), 0);
}

/* What the wire refuses: a START with a FRAME's bad fields; an END with an unknown status, a
 * total over the JPEG limit or below its own bytes, a complete one of no bytes, a given-up one
 * with bytes; and, from the header alone, a PART of no bytes, an END or a START too short. */
static void test_bad_fields(void **state)
{
	struct fc_msg s = start(1, 2);
	struct fc_msg e = end(1, 300, FC_PARTS_COMPLETE, jpeg_bytes, 3);
	struct fc_msg e3 = end(1, 3, FC_PARTS_COMPLETE, jpeg_bytes, 3);
	struct fc_msg e1 = end(1, 1, FC_PARTS_COMPLETE, NULL, 0);
	uint8_t hdr[8] = { 'F', 'C', FC_PROTO_VERSION, FC_MSG_FRAME_PART, 0, 0, 0, 4 };
	struct fc_msg out;

	(void)state;
	fc_test_expect_bad(&s, 8 + 36, 0x41, FC_PROTO_E_FIELD); /* width over 16384 */
	fc_test_expect_bad(&s, 8 + 40, 0, FC_PROTO_E_FIELD);	/* src_width below width */
	fc_test_expect_bad(&s, 8 + 44, 101, FC_PROTO_E_FIELD);	/* quality */
	fc_test_expect_bad(&e, 8 + 8, FC_PARTS_STATUS_MAX + 1, FC_PROTO_E_FIELD);
	fc_test_expect_bad(&e, 8 + 4, 0x01, FC_PROTO_E_FIELD); /* total 16 MiB + 300 */
	fc_test_expect_bad(&e3, 8 + 7, 2, FC_PROTO_E_FIELD); /* total 2, with 3 bytes of its own */
	fc_test_expect_bad(&e1, 8 + 7, 0, FC_PROTO_E_FIELD); /* complete, total 0 */
	fc_test_expect_bad(&e, 8 + 8, FC_PARTS_SUPERSEDED,
			   FC_PROTO_E_FIELD); /* given up, with bytes */
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	hdr[3] = FC_MSG_FRAME_END;
	hdr[7] = FC_PROTO_END_FIXED - 1;
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	hdr[3] = FC_MSG_FRAME_START;
	hdr[7] = FC_PROTO_FRAME_FIXED - 1;
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	hdr[3] = FC_MSG_FRAME_PART;
	hdr[4] = 0x01; /* 16 MiB + 5: one byte over the largest part */
	hdr[7] = FC_PROTO_PART_FIXED + 1;
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
}

/* The encoder refuses what a decoder would: a PART of no bytes, an END whose total is below its
 * bytes, a given-up END with bytes, a START with a bad field. */
static void test_encoder_refuses(void **state)
{
	uint8_t buf[256];
	struct fc_msg m = part(1, jpeg_bytes, 0);

	(void)state;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = end(1, 2, FC_PARTS_COMPLETE, jpeg_bytes, 3);
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = end(1, 3, FC_PARTS_TOO_OLD, jpeg_bytes, 3);
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m = start(1, 0);
	m.u.frame.width = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	assert_int_equal(fc_proto_start_head(&m.u.frame, buf, sizeof(buf)), 0);
}

static int take(struct fc_parts_rx *rx, struct fc_msg m)
{
	char why[160] = "";
	int r = fc_parts_rx_take(rx, &m, why, sizeof(why));

	/* A refusal names the rule; anything else leaves the reason alone. */
	assert_true(r == FC_PARTS_RX_ERROR ? why[0] != '\0' : why[0] == '\0');
	return r;
}

/* A frame in parts with a PING and a PONG inside is whole at its END, its bytes counted; a
 * given-up frame is given up; after an END, anything a sender sends may come again. */
static void test_rx_in_order(void **state)
{
	struct fc_parts_rx rx = { 0 };
	struct fc_msg ping = { .type = FC_MSG_PING };
	struct fc_msg frame = start(9, 2);

	(void)state;
	frame.type = FC_MSG_FRAME;
	assert_int_equal(take(&rx, frame), FC_PARTS_RX_OTHER);
	assert_int_equal(take(&rx, start(1, 4)), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, part(1, jpeg_bytes, 5)), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, ping), FC_PARTS_RX_OTHER);
	ping.type = FC_MSG_PONG;
	assert_int_equal(take(&rx, ping), FC_PARTS_RX_OTHER);
	assert_int_equal(take(&rx, end(1, 11, FC_PARTS_COMPLETE, jpeg_bytes, 2)),
			 FC_PARTS_RX_WHOLE);
	assert_int_equal(rx.have, 11);
	assert_false(rx.open);
	assert_int_equal(take(&rx, start(2, 0)), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, end(2, 0, FC_PARTS_SUPERSEDED, NULL, 0)), FC_PARTS_RX_GIVEN_UP);
	assert_int_equal(take(&rx, frame), FC_PARTS_RX_OTHER);
}

/* Each order rule refused: a PART or END with no frame open or of another id, a START inside a
 * frame, a FRAME, DATA or STATUS inside one, an END whose total is not the bytes that came, and
 * bytes that add up past the JPEG limit. */
static void test_rx_refusals(void **state)
{
	struct fc_parts_rx rx = { 0 };
	struct fc_msg big = start(5, 0);

	(void)state;
	assert_int_equal(take(&rx, part(1, jpeg_bytes, 1)), FC_PARTS_RX_ERROR);
	assert_int_equal(take(&rx, end(1, 1, FC_PARTS_COMPLETE, NULL, 0)), FC_PARTS_RX_ERROR);
	assert_int_equal(take(&rx, start(1, 1)), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, part(2, jpeg_bytes, 1)), FC_PARTS_RX_ERROR);
	assert_int_equal(take(&rx, end(2, 1, FC_PARTS_COMPLETE, NULL, 0)), FC_PARTS_RX_ERROR);
	assert_int_equal(take(&rx, start(3, 1)), FC_PARTS_RX_ERROR);
	for (int t = FC_MSG_FRAME; t <= FC_MSG_STILL; t++) {
		struct fc_msg m = { .type = (uint8_t)t };

		if (t != FC_MSG_PING && t != FC_MSG_PONG && t != FC_MSG_BYE)
			assert_int_equal(take(&rx, m), FC_PARTS_RX_ERROR);
	}
	assert_int_equal(take(&rx, end(1, 2, FC_PARTS_COMPLETE, NULL, 0)), FC_PARTS_RX_ERROR);
	rx = (struct fc_parts_rx){ 0 };
	big.u.frame.jpeg_size = FC_PROTO_MAX_JPEG;
	assert_int_equal(take(&rx, big), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, end(5, FC_PROTO_MAX_JPEG, FC_PARTS_COMPLETE, NULL, 0)),
			 FC_PARTS_RX_WHOLE);
	assert_int_equal(take(&rx, big), FC_PARTS_RX_MORE);
	assert_int_equal(take(&rx, part(5, jpeg_bytes, 1)), FC_PARTS_RX_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),	cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_heads),		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encoder_refuses), cmocka_unit_test(test_rx_in_order),
		cmocka_unit_test(test_rx_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
