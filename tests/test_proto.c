/* Tests of common/proto.c: the wire format as pure functions over bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const uint8_t jpeg_bytes[] = { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 0xFF, 0xD9 };
static uint8_t sealed_bytes[FC_PROTO_SEALED_MIN + 5];
static const uint8_t data_doc[] = "{\"temp\": 21.5, \"boxes\": [[1, 2, 3, 4]]}";

/* One well-formed message of every type, with every field away from zero. */
static size_t sample_messages(struct fc_msg *out)
{
	size_t n = 0;

	out[n] = (struct fc_msg){ .type = FC_MSG_HELLO };
	out[n].u.hello = (struct fc_hello){ .role = FC_ROLE_VIEWER,
					    .window = 3,
					    .budget_us = 80000,
					    .flags = FC_HELLO_FULL_ONLY,
					    .min_width = 640,
					    .min_height = 360,
					    .min_quality = 50 };
	strcpy(out[n].u.hello.station, "lab-pc");
	strcpy(out[n++].u.hello.name, "freshcam-view 0.1.0");
	out[n] = (struct fc_msg){ .type = FC_MSG_HELLO };
	out[n].u.hello = (struct fc_hello){ .role = FC_ROLE_SENDER,
					    .codec = FC_CODEC_JPEG,
					    .width = 1280,
					    .height = 720,
					    .fps_milli = 29970,
					    .flags = FC_HELLO_PASSPHRASE };
	for (int i = 0; i < FC_PROTO_NONCE_SIZE; i++)
		out[n].u.hello.nonce[i] = (uint8_t)(i * 7 + 1);
	strcpy(out[n].u.hello.station, "robot-7");
	strcpy(out[n++].u.hello.name, "freshcam-send 0.1.0");
	out[n++] =
	    (struct fc_msg){ .type = FC_MSG_REQUEST,
			     .u.request = { .id = 0xdeadbeef, .t0_ns = 0x0102030405060708 } };
	out[n++] = (struct fc_msg){ .type = FC_MSG_FRAME,
				    .u.frame = { .id = 7,
						 .t0_ns = 123456789012345ull,
						 .held_ns = 33000000,
						 .age_ns = 4500000,
						 .seq = 1ull << 40,
						 .width = 640,
						 .height = 480,
						 .src_width = 1280,
						 .src_height = 960,
						 .quality = 55,
						 .send_ns = 0x1122334455667788ull,
						 .send_real_ns = 1796300000123456789ull,
						 .jpeg = jpeg_bytes,
						 .jpeg_size = sizeof(jpeg_bytes) } };
	out[n++] = (struct fc_msg){ .type = FC_MSG_VERDICT,
				    .u.verdict = { .id = 7,
						   .seq = 99,
						   .bound_us = 12345,
						   .kind = FC_VERDICT_LATE,
						   .recv_us = 0x01020304,
						   .gap_us = 0x0a0b0c0d } };
	out[n++] = (struct fc_msg){ .type = FC_MSG_PING, .u.ping = { .token = 0xabcdef } };
	out[n++] =
	    (struct fc_msg){ .type = FC_MSG_PONG,
			     .u.ping = { .token = 0xabcdef, .clock_ns = 0x0102030405060708 } };
	out[n] = (struct fc_msg){ .type = FC_MSG_BYE, .u.bye = { .reason = FC_BYE_FULL } };
	strcpy(out[n++].u.bye.text, "this sender serves at most 8 viewers");
	out[n] = (struct fc_msg){ .type = FC_MSG_STATUS, .u.status = { .source = FC_SOURCE_LOST } };
	strcpy(out[n++].u.status.text, "/dev/video0: No such device");
	out[n] = (struct fc_msg){ .type = FC_MSG_AUTH };
	for (int i = 0; i < FC_PROTO_PROOF_SIZE; i++)
		out[n].u.auth.proof[i] = (uint8_t)(0xa0 + i);
	n++;
	for (size_t i = 0; i < sizeof(sealed_bytes); i++)
		sealed_bytes[i] = (uint8_t)(i * 13);
	out[n++] =
	    (struct fc_msg){ .type = FC_MSG_SEALED,
			     .u.sealed = { .data = sealed_bytes, .size = sizeof(sealed_bytes) } };
	out[n++] = (struct fc_msg){
		.type = FC_MSG_DATA,
		.u.data = { .seq = 1ull << 41, .doc = data_doc, .size = sizeof(data_doc) - 1 }
	};
	return n;
}

static void assert_same(const struct fc_msg *a, const struct fc_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(b->version, FC_PROTO_VERSION);
	switch (a->type) {
	case FC_MSG_HELLO:
		assert_int_equal(a->u.hello.role, b->u.hello.role);
		assert_int_equal(a->u.hello.codec, b->u.hello.codec);
		assert_int_equal(a->u.hello.window, b->u.hello.window);
		assert_int_equal(a->u.hello.budget_us, b->u.hello.budget_us);
		assert_int_equal(a->u.hello.width, b->u.hello.width);
		assert_int_equal(a->u.hello.height, b->u.hello.height);
		assert_int_equal(a->u.hello.fps_milli, b->u.hello.fps_milli);
		assert_int_equal(a->u.hello.flags, b->u.hello.flags);
		assert_memory_equal(a->u.hello.nonce, b->u.hello.nonce, FC_PROTO_NONCE_SIZE);
		assert_int_equal(a->u.hello.min_width, b->u.hello.min_width);
		assert_int_equal(a->u.hello.min_height, b->u.hello.min_height);
		assert_int_equal(a->u.hello.min_quality, b->u.hello.min_quality);
		assert_string_equal(a->u.hello.name, b->u.hello.name);
		assert_string_equal(a->u.hello.station, b->u.hello.station);
		break;
	case FC_MSG_REQUEST:
		assert_int_equal(a->u.request.id, b->u.request.id);
		assert_true(a->u.request.t0_ns == b->u.request.t0_ns);
		break;
	case FC_MSG_FRAME:
		assert_int_equal(a->u.frame.id, b->u.frame.id);
		assert_true(a->u.frame.t0_ns == b->u.frame.t0_ns);
		assert_true(a->u.frame.held_ns == b->u.frame.held_ns);
		assert_true(a->u.frame.age_ns == b->u.frame.age_ns);
		assert_true(a->u.frame.seq == b->u.frame.seq);
		assert_int_equal(a->u.frame.width, b->u.frame.width);
		assert_int_equal(a->u.frame.height, b->u.frame.height);
		assert_int_equal(a->u.frame.src_width, b->u.frame.src_width);
		assert_int_equal(a->u.frame.src_height, b->u.frame.src_height);
		assert_int_equal(a->u.frame.quality, b->u.frame.quality);
		assert_true(a->u.frame.send_ns == b->u.frame.send_ns);
		assert_true(a->u.frame.send_real_ns == b->u.frame.send_real_ns);
		assert_int_equal(a->u.frame.jpeg_size, b->u.frame.jpeg_size);
		assert_memory_equal(a->u.frame.jpeg, b->u.frame.jpeg, a->u.frame.jpeg_size);
		break;
	case FC_MSG_VERDICT:
		assert_int_equal(a->u.verdict.id, b->u.verdict.id);
		assert_true(a->u.verdict.seq == b->u.verdict.seq);
		assert_int_equal(a->u.verdict.bound_us, b->u.verdict.bound_us);
		assert_int_equal(a->u.verdict.kind, b->u.verdict.kind);
		assert_int_equal(a->u.verdict.recv_us, b->u.verdict.recv_us);
		assert_int_equal(a->u.verdict.gap_us, b->u.verdict.gap_us);
		break;
	case FC_MSG_PING:
		assert_true(a->u.ping.token == b->u.ping.token);
		break;
	case FC_MSG_PONG:
		assert_true(a->u.ping.token == b->u.ping.token);
		assert_true(a->u.ping.clock_ns == b->u.ping.clock_ns);
		break;
	case FC_MSG_BYE:
		assert_int_equal(a->u.bye.reason, b->u.bye.reason);
		assert_string_equal(a->u.bye.text, b->u.bye.text);
		break;
	case FC_MSG_STATUS:
		assert_int_equal(a->u.status.source, b->u.status.source);
		assert_string_equal(a->u.status.text, b->u.status.text);
		break;
	case FC_MSG_AUTH:
		assert_memory_equal(a->u.auth.proof, b->u.auth.proof, FC_PROTO_PROOF_SIZE);
		break;
	case FC_MSG_SEALED:
		assert_int_equal(a->u.sealed.size, b->u.sealed.size);
		assert_memory_equal(a->u.sealed.data, b->u.sealed.data, a->u.sealed.size);
		break;
	case FC_MSG_DATA:
		assert_true(a->u.data.seq == b->u.data.seq);
		assert_int_equal(a->u.data.size, b->u.data.size);
		assert_memory_equal(a->u.data.doc, b->u.data.doc, a->u.data.size);
		break;
	default:
		fail_msg("unexpected type %d", a->type);
	}
}

/* Every message type encodes and decodes back to the same fields, consuming exactly its bytes. */
static void test_round_trip(void **state)
{
	struct fc_msg msgs[16];
	size_t n = sample_messages(msgs);
	uint8_t buf[512];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct fc_msg out;
		size_t need = 0;
		size_t len = fc_proto_encode(&msgs[i], buf, sizeof(buf));

		assert_true(len >= FC_PROTO_HEADER_SIZE);
		memset(&out, 0x5a, sizeof(out));
		assert_int_equal(fc_proto_decode(buf, len, &out, &need), (ssize_t)len);
		assert_same(&msgs[i], &out);
	}
}

/* Every strict prefix of every message is "need more", never a message and never an error, and
 * once the header is in, the decoder knows the whole size. */
static void test_every_prefix_is_incomplete(void **state)
{
	struct fc_msg msgs[16];
	size_t n = sample_messages(msgs);
	uint8_t buf[512];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		size_t len = fc_proto_encode(&msgs[i], buf, sizeof(buf));

		for (size_t k = 0; k < len; k++) {
			struct fc_msg out;
			size_t need = 0;
			/* A copy of exactly k bytes, so any read past them shows under ASan. */
			uint8_t *p = malloc(k ? k : 1);

			memcpy(p, buf, k);
			assert_int_equal(fc_proto_decode(p, k, &out, &need), 0);
			assert_int_equal(need,
					 k < FC_PROTO_HEADER_SIZE ? FC_PROTO_HEADER_SIZE : len);
			free(p);
		}
	}
}

/* Two messages back to back decode one at a time, each consuming only its own bytes. */
static void test_back_to_back(void **state)
{
	struct fc_msg msgs[16];
	size_t n = sample_messages(msgs);
	uint8_t buf[4096];
	size_t len = 0;
	size_t off = 0;

	(void)state;
	for (size_t i = 0; i < n; i++)
		len += fc_proto_encode(&msgs[i], buf + len, sizeof(buf) - len);
	for (size_t i = 0; i < n; i++) {
		struct fc_msg out;
		ssize_t r = fc_proto_decode(buf + off, len - off, &out, NULL);

		assert_true(r > 0);
		assert_same(&msgs[i], &out);
		off += (size_t)r;
	}
	assert_int_equal(off, len);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A FRAME declaring more JPEG than the limit is refused from its header alone, before the
 * payload is there (so nothing would be allocated for it). */
static void test_oversized_length_rejected_from_header(void **state)
{
	uint8_t hdr[FC_PROTO_HEADER_SIZE] = { 'F', 'C', FC_PROTO_VERSION, FC_MSG_FRAME };
	struct fc_msg out;

	(void)state;
	put32(hdr + 4, FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_JPEG + 1);
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	put32(hdr + 4, 0xffffffffu);
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	/* The largest allowed is only "need more". */
	put32(hdr + 4, FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_JPEG);
	assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), 0);
}

/* A DATA carries one JSON document of up to FC_PROTO_MAX_DATA bytes: the largest goes through,
 * and a document that is not one JSON value (or has a tab, or bad UTF-8) is refused by the
 * decoder with E_FIELD and by the encoder, which writes nothing. */
static void test_data_documents(void **state)
{
	static uint8_t doc[FC_PROTO_MAX_DATA + 1];
	static uint8_t buf[FC_PROTO_HEADER_SIZE + FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA + 8];
	static const char *const bad[] = { "{\"a\":1", "{\"a\":\t1}", "[\"\xc0\x80\"]", "1 2", "" };
	struct fc_msg m = { .type = FC_MSG_DATA, .u.data = { .seq = 9, .doc = doc } };
	struct fc_msg out;
	size_t n;

	(void)state;
	memset(doc, ' ', sizeof(doc));
	doc[0] = '[';
	doc[FC_PROTO_MAX_DATA - 1] = ']';
	m.u.data.size = FC_PROTO_MAX_DATA;
	n = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, FC_PROTO_HEADER_SIZE + FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA);
	assert_int_equal(fc_proto_decode(buf, n, &out, NULL), (ssize_t)n);
	assert_true(out.u.data.seq == 9 && out.u.data.doc == buf + 16);
	m.u.data.size = FC_PROTO_MAX_DATA + 1;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		m.u.data.doc = (const uint8_t *)bad[i];
		m.u.data.size = (uint32_t)len;
		assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
		if (len == 0)
			continue;
		/* The same bytes, written past the encoder: the decoder refuses them. */
		m.u.data.doc = (const uint8_t *)"[0]";
		m.u.data.size = 3;
		n = fc_proto_encode(&m, buf, sizeof(buf));
		buf[7] = (uint8_t)(FC_PROTO_DATA_FIXED + len);
		memcpy(buf + 16, bad[i], len);
		assert_int_equal(fc_proto_decode(buf, 16 + len, &out, NULL), -FC_PROTO_E_FIELD);
	}
}

/* Fixed-size messages must declare exactly their size; an empty FRAME is refused. */
static void test_wrong_fixed_lengths_rejected(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t len;
	} bad[] = {
		{ FC_MSG_REQUEST, 11 },
		{ FC_MSG_REQUEST, 13 },
		{ FC_MSG_VERDICT, 24 },
		{ FC_MSG_VERDICT, 26 },
		{ FC_MSG_PING, 0 },
		{ FC_MSG_PING, 16 },
		{ FC_MSG_PONG, 8 },
		{ FC_MSG_PONG, 17 },
		{ FC_MSG_FRAME, FC_PROTO_FRAME_FIXED - 1 },
		{ FC_MSG_HELLO, FC_PROTO_HELLO_FIXED - 1 },
		{ FC_MSG_HELLO, FC_PROTO_HELLO_MAX + 1 },
		{ FC_MSG_BYE, 3 },
		{ FC_MSG_BYE, 4 + FC_PROTO_MAX_TEXT + 1 },
		{ FC_MSG_AUTH, 31 },
		{ FC_MSG_AUTH, 33 },
		{ FC_MSG_SEALED, FC_PROTO_SEALED_MIN - 1 },
		{ FC_MSG_SEALED, FC_PROTO_SEALED_MAX + 1 },
		{ FC_MSG_DATA, FC_PROTO_DATA_FIXED },
		{ FC_MSG_DATA, FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA + 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t hdr[FC_PROTO_HEADER_SIZE] = { 'F', 'C', FC_PROTO_VERSION, bad[i].type };
		struct fc_msg out;

		put32(hdr + 4, bad[i].len);
		assert_int_equal(fc_proto_decode(hdr, sizeof(hdr), &out, NULL), -FC_PROTO_E_LENGTH);
	}
}

/* Unknown types, bad magic and other versions are refused as soon as the byte that shows it is
 * in, and a version mismatch tells what the peer speaks. */
static void test_bad_header_bytes(void **state)
{
	struct fc_msg out;
	uint8_t b[FC_PROTO_HEADER_SIZE] = { 'F', 'C', FC_PROTO_VERSION, 0 };

	(void)state;
	assert_int_equal(fc_proto_decode(b, 4, &out, NULL), -FC_PROTO_E_TYPE);
	b[3] = FC_MSG_FRAME_END + 1;
	assert_int_equal(fc_proto_decode(b, 4, &out, NULL), -FC_PROTO_E_TYPE);
	b[3] = 0xff;
	assert_int_equal(fc_proto_decode(b, 8, &out, NULL), -FC_PROTO_E_TYPE);
	assert_int_equal(fc_proto_decode((const uint8_t *)"G", 1, &out, NULL), -FC_PROTO_E_MAGIC);
	assert_int_equal(fc_proto_decode((const uint8_t *)"FD", 2, &out, NULL), -FC_PROTO_E_MAGIC);
	assert_int_equal(fc_proto_decode((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &out, NULL),
			 -FC_PROTO_E_MAGIC);
	b[2] = FC_PROTO_VERSION - 1; /* the version before: other FRAMEs and PONGs */
	b[3] = FC_MSG_HELLO;
	out.version = 0;
	assert_int_equal(fc_proto_decode(b, 3, &out, NULL), -FC_PROTO_E_VERSION);
	assert_int_equal(out.version, FC_PROTO_VERSION - 1);
	b[2] = FC_PROTO_VERSION + 1;
	assert_int_equal(fc_proto_decode(b, 3, &out, NULL), -FC_PROTO_E_VERSION);
	assert_int_equal(out.version, FC_PROTO_VERSION + 1);
	b[2] = 0;
	assert_int_equal(fc_proto_decode(b, 8, &out, NULL), -FC_PROTO_E_VERSION);
	assert_int_equal(out.version, 0);
}

/* A message from another version encodes with that version and is refused as such. */
static void test_encode_version(void **state)
{
	struct fc_msg msgs[16];
	uint8_t buf[256];
	struct fc_msg out;
	size_t len;

	(void)state;
	sample_messages(msgs);
	len = fc_proto_encode_version(&msgs[0], 9, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(buf[2], 9);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_VERSION);
	assert_int_equal(out.version, 9);
}

/* Fields out of range are refused: roles, codec, window, budget, sizes, verdict kinds, states,
 * and texts with control characters or lengths that disagree with the message. */
static void test_bad_fields(void **state)
{
	struct fc_msg msgs[16];
	uint8_t buf[512];
	struct fc_msg out;
	size_t len;

	(void)state;
	sample_messages(msgs);
	/* HELLO (viewer): role at payload byte 0, window at 2..3, budget at 4..7, name_len at 17. */
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8] = 3;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[8] = FC_ROLE_VIEWER;
	buf[10] = 0;
	buf[11] = FC_PROTO_MAX_WINDOW + 1;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[11] = 0;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[11] = 2;
	memset(buf + 12, 0, 4);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 17] = (uint8_t)(buf[8 + 17] - 1); /* name length disagrees with the payload */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 62] = '\x1b'; /* an escape character in the station (after the UDP fields) */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[len - 1] = '\x7f'; /* a control character in the software name, the last byte */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* flags: bits 0..3 are defined (passphrase, full only, UDP, parts). */
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 16] = FC_HELLO_PASSPHRASE | FC_HELLO_FULL_ONLY;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.hello.flags, FC_HELLO_PASSPHRASE | FC_HELLO_FULL_ONLY);
	buf[8 + 16] = 0x10; /* bits 0-2 are defined (bit 3: issue 19), 4 is not */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[8 + 16] = FC_HELLO_PARTS; /* version 6: bit 3, a viewer that takes frames in parts */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.hello.flags, FC_HELLO_PARTS);
	buf[8 + 16] = 0x10;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* Bit 3 is a viewer's: a sender's HELLO with it is refused. */
	len = fc_proto_encode(&msgs[1], buf, sizeof(buf));
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.hello.role, FC_ROLE_SENDER);
	buf[8 + 16] = FC_HELLO_PARTS;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* The viewer's floor: min_width at 50..51, min_height 52..53, min_quality 54. */
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 50] = 0x40; /* 16384 is the largest side */
	buf[8 + 51] = 0x00;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	buf[8 + 51] = 0x01;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 52] = 0x40;
	buf[8 + 53] = 0x01;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[0], buf, sizeof(buf));
	buf[8 + 54] = FC_PROTO_MAX_QUALITY + 1;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);

	/* HELLO (sender): codec at byte 1, width at 8..9. */
	len = fc_proto_encode(&msgs[1], buf, sizeof(buf));
	buf[9] = 2;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[9] = FC_CODEC_JPEG;
	buf[16] = 0xff;
	buf[17] = 0xff;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);

	/* FRAME claiming 64k x 64k, or zero width. */
	len = fc_proto_encode(&msgs[3], buf, sizeof(buf));
	buf[8 + 36] = 0xff;
	buf[8 + 37] = 0xff;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	buf[8 + 36] = 0;
	buf[8 + 37] = 0;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* A rendition wider or taller than its picture, a picture over the limit, a quality over
	 * 100: src_width at 40..41, src_height 42..43, quality 44. */
	len = fc_proto_encode(&msgs[3], buf, sizeof(buf));
	buf[8 + 40] = 0x02; /* 640: as wide as the rendition is fine */
	buf[8 + 41] = 0x80;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	buf[8 + 41] = 0x7f;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[3], buf, sizeof(buf));
	buf[8 + 42] = 0x40;
	buf[8 + 43] = 0x01;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[3], buf, sizeof(buf));
	buf[8 + 44] = 0;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	buf[8 + 44] = FC_PROTO_MAX_QUALITY + 1;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);

	/* VERDICT kind, STATUS state, BYE text length. */
	len = fc_proto_encode(&msgs[4], buf, sizeof(buf));
	buf[8 + 16] = 9;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[8], buf, sizeof(buf));
	buf[8] = 0;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	len = fc_proto_encode(&msgs[7], buf, sizeof(buf));
	buf[11] = (uint8_t)(buf[11] + 1);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
}

/* The encoder refuses what the decoder would refuse and never writes past its buffer. */
static void test_encoder_limits(void **state)
{
	struct fc_msg msgs[16];
	size_t n = sample_messages(msgs);
	uint8_t buf[512];
	struct fc_msg m = { .type = FC_MSG_FRAME };

	(void)state;
	for (size_t i = 0; i < n; i++) {
		size_t len = fc_proto_encode(&msgs[i], buf, sizeof(buf));

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(fc_proto_encode(&msgs[i], buf, len - 1), 0);
	}
	m.u.frame.jpeg = jpeg_bytes;
	m.u.frame.width = m.u.frame.height = 8;
	m.u.frame.src_width = m.u.frame.src_height = 8;
	m.u.frame.jpeg_size = FC_PROTO_MAX_JPEG + 1;
	assert_int_equal(fc_proto_encode_frame_head(&m.u.frame, buf, sizeof(buf)), 0);
	/* A rendition larger than its picture is refused by the head encoder too. */
	m.u.frame.jpeg_size = 10;
	assert_int_equal(fc_proto_encode_frame_head(&m.u.frame, buf, sizeof(buf)),
			 FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED);
	m.u.frame.src_width = 7;
	assert_int_equal(fc_proto_encode_frame_head(&m.u.frame, buf, sizeof(buf)), 0);
	m.type = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	msgs[7].u.bye.text[3] = '\n';
	assert_int_equal(fc_proto_encode(&msgs[7], buf, sizeof(buf)), 0);
}

/* A stale notice (a FRAME without JPEG bytes) round-trips with its timings. */
static void test_stale_notice(void **state)
{
	struct fc_msg m = { .type = FC_MSG_FRAME,
			    .u.frame = { .id = 3,
					 .t0_ns = 10,
					 .held_ns = 20,
					 .age_ns = 90000000,
					 .seq = 44,
					 .width = 640,
					 .height = 480,
					 .src_width = 640,
					 .src_height = 480,
					 .quality = 80 } };
	uint8_t buf[128];
	struct fc_msg out;
	size_t len = fc_proto_encode(&m, buf, sizeof(buf));

	(void)state;
	assert_int_equal(len, FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.frame.jpeg_size, 0);
	assert_true(out.u.frame.age_ns == 90000000);
	assert_int_equal(out.u.frame.seq, 44);
}

/* The frame head plus the JPEG bytes sent after it is the same message as the whole encode. */
static void test_frame_head_matches_full_encode(void **state)
{
	struct fc_msg msgs[16];
	uint8_t whole[256];
	uint8_t head[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];
	size_t len;

	(void)state;
	sample_messages(msgs);
	len = fc_proto_encode(&msgs[3], whole, sizeof(whole));
	assert_int_equal(fc_proto_encode_frame_head(&msgs[3].u.frame, head, sizeof(head)),
			 sizeof(head));
	assert_int_equal(len, sizeof(head) + sizeof(jpeg_bytes));
	assert_memory_equal(whole, head, sizeof(head));
	assert_memory_equal(whole + sizeof(head), jpeg_bytes, sizeof(jpeg_bytes));
}

/* The bytes on the wire are exactly what docs/PROTOCOL.md says for a REQUEST. */
static void test_request_bytes(void **state)
{
	struct fc_msg m = { .type = FC_MSG_REQUEST,
			    .u.request = { .id = 0x01020304, .t0_ns = 0x1122334455667788ull } };
	static const uint8_t want[] = {
		'F',  'C',  6,	  2,	0,    0,    0,	  12,	0x01, 0x02,
		0x03, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88
	};
	uint8_t buf[64];

	(void)state;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Version 6's UDP fields sit at payload offsets 56 (udp_port) and 58 (conn), big-endian, and
 * travel only with FC_HELLO_UDP: a port with the flag, a conn from a sender (never from a
 * viewer), neither without it. The encoder refuses what the decoder refuses. */
static void test_hello_udp_fields(void **state)
{
	struct fc_msg m = { .type = FC_MSG_HELLO };
	struct fc_msg out;
	uint8_t buf[FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_MAX];
	size_t len;

	(void)state;
	m.u.hello = (struct fc_hello){ .role = FC_ROLE_SENDER,
				       .codec = FC_CODEC_JPEG,
				       .flags = FC_HELLO_UDP,
				       .udp_port = 0x1f90,
				       .conn = 0xa1b2c3d4 };
	len = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, FC_PROTO_HEADER_SIZE + 62);
	assert_int_equal(buf[8 + 56], 0x1f);
	assert_int_equal(buf[8 + 57], 0x90);
	assert_int_equal(buf[8 + 58], 0xa1);
	assert_int_equal(buf[8 + 61], 0xd4);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.hello.udp_port, 0x1f90);
	assert_int_equal(out.u.hello.conn, 0xa1b2c3d4);
	/* A sender's conn of 0, or a port of 0: refused both ways. */
	buf[8 + 58] = buf[8 + 59] = buf[8 + 60] = buf[8 + 61] = 0;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	m.u.hello.conn = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m.u.hello.conn = 7;
	m.u.hello.udp_port = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	/* A viewer announces a port and no conn. */
	m.u.hello = (struct fc_hello){ .role = FC_ROLE_VIEWER,
				       .window = 2,
				       .budget_us = 80000,
				       .flags = FC_HELLO_UDP,
				       .udp_port = 5000 };
	len = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_int_equal(out.u.hello.udp_port, 5000);
	buf[8 + 61] = 1;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* Without the flag, the fields are 0. */
	m.u.hello.flags = 0;
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m.u.hello.udp_port = 0;
	len = fc_proto_encode(&m, buf, sizeof(buf));
	buf[8 + 57] = 1;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
}

/* A HELLO puts the station's length at payload offset 55 and (version 6) its bytes at 62, then the
 * software name (whose length stays at 17), as docs/PROTOCOL.md says; each name has its own
 * limit, which the encoder keeps too, and an empty station is fine. */
static void test_hello_station_bytes(void **state)
{
	struct fc_msg m = { .type = FC_MSG_HELLO };
	struct fc_msg out;
	uint8_t buf[FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_MAX];
	size_t len;

	(void)state;
	m.u.hello = (struct fc_hello){ .role = FC_ROLE_SENDER, .codec = FC_CODEC_JPEG };
	strcpy(m.u.hello.station, "cam1");
	strcpy(m.u.hello.name, "fs 5");
	len = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, FC_PROTO_HEADER_SIZE + 62 + 4 + 4);
	assert_int_equal(buf[8 + 17], 4);
	assert_int_equal(buf[8 + 55], 4);
	assert_memory_equal(buf + 8 + 62, "cam1fs 5", 8);
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_string_equal(out.u.hello.station, "cam1");
	assert_string_equal(out.u.hello.name, "fs 5");
	/* The station length disagreeing with the payload: refused. */
	buf[8 + 55] = 5;
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* A station over its limit, even with a short software name: refused both ways. */
	memset(m.u.hello.station, 'a', sizeof(m.u.hello.station)); /* no terminator: 65 bytes */
	m.u.hello.name[0] = '\0';
	assert_int_equal(fc_proto_encode(&m, buf, sizeof(buf)), 0);
	m.u.hello.station[FC_PROTO_MAX_STATION] = '\0';
	len = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, FC_PROTO_HEADER_SIZE + 62 + FC_PROTO_MAX_STATION);
	buf[8 + 55] = FC_PROTO_MAX_STATION + 1;
	buf[8 + 17] = 0xff; /* 65 + 255 bytes do not fit the payload anyway; the limit says first */
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), -FC_PROTO_E_FIELD);
	/* No station at all. */
	m.u.hello.station[0] = '\0';
	strcpy(m.u.hello.name, "x");
	len = fc_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(fc_proto_decode(buf, len, &out, NULL), (ssize_t)len);
	assert_string_equal(out.u.hello.station, "");
}

/* The FRAME's clocks sit where docs/PROTOCOL.md says (payload offsets 45 and 53, the JPEG at 61),
 * and a PONG carries its clock after the token. */
static void test_clock_bytes(void **state)
{
	struct fc_frame_msg f = { .width = 2,
				  .height = 2,
				  .src_width = 2,
				  .src_height = 2,
				  .send_ns = 0x0102030405060708ull,
				  .send_real_ns = 0x1112131415161718ull };
	struct fc_msg pong = { .type = FC_MSG_PONG,
			       .u.ping = { .token = 0x2122232425262728ull,
					   .clock_ns = 0x3132333435363738ull } };
	static const uint8_t clocks[] = { 1,	2,    3,    4,	  5,	6,    7,    8,
					  0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
	static const uint8_t pong_want[] = { 'F',  'C',	 6,    6,    0,	   0,	 0,    16,
					     0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
					     0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38 };
	uint8_t buf[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];

	(void)state;
	assert_int_equal(FC_PROTO_FRAME_FIXED, 61);
	assert_int_equal(fc_proto_encode_frame_head(&f, buf, sizeof(buf)), sizeof(buf));
	assert_memory_equal(buf + FC_PROTO_HEADER_SIZE + 45, clocks, sizeof(clocks));
	assert_int_equal(fc_proto_encode(&pong, buf, sizeof(buf)), sizeof(pong_want));
	assert_memory_equal(buf, pong_want, sizeof(pong_want));
}

/* Garbage never decodes into a message larger than the buffer, and never crashes: a cheap
 * in-test fuzz (the libFuzzer target goes much further). */
static void test_random_bytes(void **state)
{
	uint8_t buf[256];
	uint32_t x = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % (int)sizeof(buf));
		struct fc_msg out;
		ssize_t r;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		/* Give half of them a valid magic and version to reach the payload decoders. */
		if (round % 2 && len >= 3) {
			buf[0] = 'F';
			buf[1] = 'C';
			buf[2] = FC_PROTO_VERSION;
		}
		r = fc_proto_decode(buf, len, &out, NULL);
		assert_true(r <= (ssize_t)len);
	}
}

/* Error and name strings exist for every code, including unknown ones. */
static void test_strings(void **state)
{
	(void)state;
	for (int e = 1; e <= FC_PROTO_E_FIELD; e++)
		assert_string_not_equal(fc_proto_strerror(-e), "unknown protocol error");
	assert_string_equal(fc_proto_strerror(-99), "unknown protocol error");
	assert_string_equal(fc_proto_type_name(FC_MSG_FRAME), "FRAME");
	assert_string_equal(fc_proto_type_name(200), "?");
	assert_string_equal(fc_proto_bye_reason_name(FC_BYE_FULL), "sender full");
	assert_string_equal(fc_proto_bye_reason_name(FC_BYE_AUTH), "authentication failed");
	assert_string_equal(fc_proto_bye_reason_name(FC_BYE_PASSPHRASE), "passphrase required");
	assert_string_equal(fc_proto_type_name(FC_MSG_AUTH), "AUTH");
	assert_string_equal(fc_proto_type_name(FC_MSG_SEALED), "SEALED");
	assert_string_equal(fc_proto_bye_reason_name(77), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_prefix_is_incomplete),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_oversized_length_rejected_from_header),
		cmocka_unit_test(test_wrong_fixed_lengths_rejected),
		cmocka_unit_test(test_data_documents),
		cmocka_unit_test(test_bad_header_bytes),
		cmocka_unit_test(test_encode_version),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_stale_notice),
		cmocka_unit_test(test_frame_head_matches_full_encode),
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_hello_station_bytes),
		cmocka_unit_test(test_hello_udp_fields),
		cmocka_unit_test(test_clock_bytes),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
