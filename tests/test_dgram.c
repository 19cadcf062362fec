/* Tests of common/dgram.c: the UDP transport's datagrams as pure functions over bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dgramtest.h"

#define TOTAL 3000 /* a frame of three chunks at 1200: 1200, 1200, 600 */

static uint8_t frame[TOTAL];

/* A FRAME payload of TOTAL bytes: the fixed part proto.c writes, then "JPEG" bytes. */
static void make_frame(void)
{
	struct fc_frame_msg f = { .id = 9,
				  .t0_ns = 1000000000,
				  .held_ns = 2000000,
				  .age_ns = 5000000,
				  .seq = 42,
				  .width = 640,
				  .height = 360,
				  .src_width = 1280,
				  .src_height = 720,
				  .quality = 80,
				  .send_ns = 777 };

	assert_int_equal(fc_test_dgram_frame(frame, TOTAL, f), 0);
}

static struct fc_dgram chunk(uint16_t index)
{
	struct fc_dgram d = fc_test_dgram_chunk(frame, TOTAL, 42, index);

	d.conn = 0xC0FFEE;
	return d;
}

/* Every chunk of a frame comes back as it went, chunk 0 with the FRAME's fields, and no
 * prefix of any chunk is taken for a chunk (a truncated datagram never passes). */
static void test_chunks_round_trip_and_prefixes_refused(void **state)
{
	uint8_t buf[FC_DGRAM_MAX_SIZE];
	struct fc_dgram back;

	(void)state;
	make_frame();
	assert_int_equal(fc_dgram_count(TOTAL, FC_DGRAM_CHUNK), 3);
	for (uint16_t i = 0; i < 3; i++) {
		struct fc_dgram d = chunk(i);
		size_t n = fc_dgram_encode(&d, buf, sizeof(buf));

		assert_int_equal(n, FC_DGRAM_CHUNK_HEAD + d.u.chunk.size);
		assert_int_equal(fc_dgram_decode(buf, n, &back), 0);
		assert_int_equal(back.conn, 0xC0FFEE);
		assert_int_equal(back.seq, 42);
		assert_int_equal(back.u.chunk.index, i);
		assert_int_equal(back.u.chunk.offset, d.u.chunk.offset);
		assert_memory_equal(back.u.chunk.data, d.u.chunk.data, d.u.chunk.size);
		if (i == 0) {
			assert_int_equal(back.u.chunk.fixed.t0_ns, 1000000000);
			assert_int_equal(back.u.chunk.fixed.held_ns, 2000000);
			assert_int_equal(back.u.chunk.fixed.age_ns, 5000000);
			assert_int_equal(back.u.chunk.fixed.width, 640);
		}
		for (size_t k = 0; k < n; k++)
			assert_true(fc_dgram_decode(buf, k, &back) < 0);
	}
}

/* A header that lies is refused, each with its own reason. */
static void test_lying_chunks_refused(void **state)
{
	uint8_t buf[FC_DGRAM_MAX_SIZE];
	struct fc_dgram d, back;
	size_t n;

	(void)state;
	make_frame();
	d = chunk(1);
	n = fc_dgram_encode(&d, buf, sizeof(buf));
	assert_true(n > 0);
	buf[16] = 0, buf[17] = 3; /* index 3 of 3 */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_INDEX);
	buf[17] = 1, buf[27] = 0xB1; /* offset 1201: not index x size */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_OFFSET);
	buf[27] = 0xB0, buf[24] = 0x01; /* offset past the total */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_OFFSET);
	buf[24] = 0, buf[19] = 4; /* count 4 for 3000 bytes at 1200 */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_COUNT);
	buf[19] = 3, buf[20] = 0x02; /* total 32 MiB: over FC_PROTO_MAX_JPEG */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_TOTAL);
	buf[20] = 0, buf[12] = buf[13] = buf[14] = buf[15] = 0; /* seq 0 */
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_SEQ);
	buf[15] = 42, buf[1] = 'X';
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_MAGIC);
	buf[1] = 'D', buf[2] = 2;
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_VERSION);
	buf[2] = FC_DGRAM_VERSION, buf[3] = 9;
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_TYPE);
	buf[3] = FC_DGRAM_T_CHUNK;
	assert_int_equal(fc_dgram_decode(buf, n, &back), 0); /* all put back: good again */
	/* Chunk 0 whose FRAME says a rendition wider than its picture. */
	d = chunk(0);
	n = fc_dgram_encode(&d, buf, sizeof(buf));
	buf[FC_DGRAM_CHUNK_HEAD + 36] = 0x7F;
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_FIXED);
	assert_string_equal(fc_dgram_strerror(-FC_DGRAM_E_FIXED),
			    "first chunk's frame fields out of range");
	/* Chunks cut finer than FC_DGRAM_MIN_CHUNK, and an encoder asked to lie, are refused. */
	d = chunk(0);
	d.u.chunk.size = 100;
	d.u.chunk.count = 30;
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
	d = chunk(2);
	d.u.chunk.index = 1;
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
	assert_int_equal(fc_dgram_count(TOTAL, FC_DGRAM_MIN_CHUNK - 1), 0);
	assert_int_equal(fc_dgram_count(FC_DGRAM_MAX_FRAME + 1, FC_DGRAM_CHUNK), 0);
	assert_int_equal(fc_dgram_count(FC_DGRAM_MAX_FRAME, FC_DGRAM_MIN_CHUNK),
			 FC_DGRAM_MAX_CHUNKS);
}

/* A frame of one chunk, and the last chunk of a frame cut at another size, decode. */
static void test_single_and_other_sizes(void **state)
{
	uint8_t buf[FC_DGRAM_MAX_SIZE];
	struct fc_dgram d = { .type = FC_DGRAM_T_CHUNK, .conn = 1, .seq = 7 }, back;

	(void)state;
	make_frame();
	d.u.chunk = (struct fc_dgram_chunk){
		.count = 1, .total = 61, .chunk_size = FC_DGRAM_CHUNK, .data = frame, .size = 61
	};
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), FC_DGRAM_CHUNK_HEAD + 61);
	/* 3000 bytes at 512: six chunks, the last of 440 bytes at offset 2560. */
	d.u.chunk = (struct fc_dgram_chunk){ .index = 5,
					     .count = 6,
					     .total = TOTAL,
					     .offset = 2560,
					     .chunk_size = 512,
					     .data = frame,
					     .size = 440 };
	assert_int_equal(fc_dgram_decode(buf, fc_dgram_encode(&d, buf, sizeof(buf)), &back), 0);
	d.u.chunk.size = 441; /* ends past the frame */
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
}

/* NACKs and GIVEUPs come back as they went, no prefix of one passes, and malformed ones are
 * refused. */
static void test_control_datagrams(void **state)
{
	uint8_t buf[FC_DGRAM_MAX_SIZE];
	struct fc_dgram d = { .type = FC_DGRAM_T_NACK, .conn = 5, .seq = 99 }, back;
	size_t n;

	(void)state;
	d.u.nack.n = 2;
	d.u.nack.r[0] = (struct fc_dgram_range){ 0, 2 };
	d.u.nack.r[1] = (struct fc_dgram_range){ 5, 1 };
	n = fc_dgram_encode(&d, buf, sizeof(buf));
	assert_int_equal(n, FC_DGRAM_HEAD + 1 + 8);
	assert_int_equal(fc_dgram_decode(buf, n, &back), 0);
	assert_int_equal(back.u.nack.n, 2);
	assert_int_equal(back.u.nack.r[1].first, 5);
	for (size_t k = 0; k < n; k++)
		assert_true(fc_dgram_decode(buf, k, &back) < 0);
	assert_int_equal(fc_dgram_decode(buf, n - 1, &back), -FC_DGRAM_E_LENGTH);
	d.u.nack.r[1].first = 2; /* touches the first range: not compact */
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
	d.u.nack.r[1].first = 1; /* overlaps */
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
	d.u.nack.r[1] = (struct fc_dgram_range){ 5, 0 }; /* empty */
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);
	d.u.nack.n = 0;
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), 0);

	d = (struct fc_dgram){ .type = FC_DGRAM_T_GIVEUP, .seq = 3, .u.reason = FC_GIVEUP_LATE };
	n = fc_dgram_encode(&d, buf, sizeof(buf));
	assert_int_equal(n, FC_DGRAM_HEAD + 1);
	assert_int_equal(fc_dgram_decode(buf, n, &back), 0);
	assert_int_equal(back.u.reason, FC_GIVEUP_LATE);
	for (size_t k = 0; k < n; k++)
		assert_true(fc_dgram_decode(buf, k, &back) < 0);
	buf[FC_DGRAM_HEAD] = 9;
	assert_int_equal(fc_dgram_decode(buf, n, &back), -FC_DGRAM_E_REASON);
	assert_int_equal(fc_dgram_decode(buf, n + 1, &back), -FC_DGRAM_E_LENGTH);
}

/* Whatever one flipped bit makes of a chunk, the decoder either refuses it or takes a datagram
 * that re-encodes to exactly the same bytes: nothing half-checked gets through. */
static void test_bit_flips_refused_or_consistent(void **state)
{
	uint8_t buf[FC_DGRAM_MAX_SIZE], again[FC_DGRAM_MAX_SIZE];
	int refused = 0;

	(void)state;
	make_frame();
	for (uint16_t c = 0; c < 3; c++) {
		struct fc_dgram d = chunk(c), back;
		size_t n = fc_dgram_encode(&d, buf, sizeof(buf));

		for (size_t bit = 0; bit < (FC_DGRAM_CHUNK_HEAD + 61) * 8; bit++) {
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (fc_dgram_decode(buf, n, &back) < 0) {
				refused++;
			} else {
				assert_int_equal(fc_dgram_encode(&back, again, sizeof(again)), n);
				assert_memory_equal(again, buf, n);
			}
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	assert_true(refused > 100);
}

/* A KEEPALIVE is the 16-byte header alone, any seq (0 included): it round-trips, and a byte
 * more or less is refused. */
static void test_keepalive(void **state)
{
	struct fc_dgram d = { .type = FC_DGRAM_T_KEEPALIVE, .conn = 0xfeedbeef, .seq = 0 }, back;
	uint8_t buf[FC_DGRAM_HEAD + 1];

	(void)state;
	assert_int_equal(fc_dgram_encode(&d, buf, sizeof(buf)), FC_DGRAM_HEAD);
	assert_int_equal(fc_dgram_decode(buf, FC_DGRAM_HEAD, &back), 0);
	assert_int_equal(back.type, FC_DGRAM_T_KEEPALIVE);
	assert_int_equal(back.conn, 0xfeedbeef);
	assert_int_equal(back.seq, 0);
	assert_int_equal(fc_dgram_decode(buf, FC_DGRAM_HEAD + 1, &back), -FC_DGRAM_E_LENGTH);
	assert_int_equal(fc_dgram_decode(buf, FC_DGRAM_HEAD - 1, &back), -FC_DGRAM_E_SHORT);
	assert_int_equal(fc_dgram_encode(&d, buf, FC_DGRAM_HEAD - 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks_round_trip_and_prefixes_refused),
		cmocka_unit_test(test_lying_chunks_refused),
		cmocka_unit_test(test_single_and_other_sizes),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_control_datagrams),
		cmocka_unit_test(test_bit_flips_refused_or_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
