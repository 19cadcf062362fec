/* Tests of sender/serve/resend.c: what a sender keeps for NACKs, and when it forgets it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dgramtest.h"
#include "resend.h"

#define MS     1000000ull
#define TOTAL  3000 /* three chunks at 1200 */
#define BUDGET (80 * MS)

static uint8_t frame[16][TOTAL];

/* Frame seq's FRAME payload (chunk 0 carries its fixed part). */
static const uint8_t *fill(uint64_t seq)
{
	assert_int_equal(
	    fc_test_dgram_frame(frame[seq], TOTAL, (struct fc_frame_msg){ .seq = seq }), 0);
	return frame[seq];
}

static struct fc_resend *new_store(size_t bytes, unsigned frames)
{
	char err[200];
	struct fc_resend *rs = fc_resend_new(bytes, frames, err, sizeof(err));

	assert_non_null(rs);
	return rs;
}

/* Whether chunk index of seq is served, with the right place and bytes. */
static void assert_chunk(struct fc_resend *rs, uint64_t seq, uint32_t index)
{
	struct fc_dgram d;
	uint8_t buf[FC_DGRAM_MAX_SIZE];

	assert_int_equal(fc_resend_chunk(rs, seq, index, &d), 0);
	assert_int_equal(d.u.chunk.offset, index * FC_DGRAM_CHUNK);
	assert_int_equal(d.u.chunk.count, 3);
	assert_memory_equal(d.u.chunk.data, frame[seq] + index * FC_DGRAM_CHUNK, d.u.chunk.size);
	assert_true(fc_dgram_encode(&d, buf, sizeof(buf)) > 0); /* a datagram that decodes */
}

/* A kept frame's chunks come back as they were sent; a chunk it does not have is a lie (-2),
 * a frame never kept is forgotten (-1). */
static void test_serves_chunks(void **state)
{
	struct fc_resend *rs = new_store(1 << 20, 16);
	struct fc_dgram d;
	struct fc_resend_stats st;

	(void)state;
	assert_int_equal(fc_resend_keep(rs, 1, fill(1), TOTAL, FC_DGRAM_CHUNK, 0, 0), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_chunk(rs, 1, i);
	assert_int_equal(fc_resend_chunk(rs, 1, 2, &d), 0);
	assert_int_equal(d.u.chunk.size, 600);
	assert_int_equal(fc_resend_chunk(rs, 1, 3, &d), -2);
	assert_int_equal(fc_resend_chunk(rs, 2, 0, &d), -1);
	assert_int_equal(fc_resend_keep(rs, 1, fill(1), TOTAL, FC_DGRAM_CHUNK, 0, 0), -1);
	fc_resend_stats(rs, &st);
	assert_int_equal(st.served, 4);
	assert_int_equal(st.missing, 1);
	fc_resend_free(rs);
}

/* Forgotten once older than the budget by the sender's clock: sent at 0 when 10 ms old, it is
 * of use until 70 ms and no longer after. */
static void test_forgets_when_too_old(void **state)
{
	struct fc_resend *rs = new_store(1 << 20, 16);
	struct fc_dgram d;

	(void)state;
	fc_resend_keep(rs, 1, fill(1), TOTAL, FC_DGRAM_CHUNK, 0, 10 * MS);
	fc_resend_keep(rs, 2, fill(2), TOTAL, FC_DGRAM_CHUNK, 30 * MS, 10 * MS);
	fc_resend_expire(rs, 70 * MS, BUDGET);
	assert_int_equal(fc_resend_frames(rs), 2);
	fc_resend_expire(rs, 70 * MS + 1, BUDGET);
	assert_int_equal(fc_resend_frames(rs), 1);
	assert_int_equal(fc_resend_chunk(rs, 1, 0, &d), -1);
	assert_chunk(rs, 2, 0);
	/* A frame already over the budget when sent is of no use at all. */
	fc_resend_keep(rs, 3, fill(3), TOTAL, FC_DGRAM_CHUNK, 80 * MS, BUDGET + 1);
	fc_resend_expire(rs, 80 * MS, BUDGET);
	assert_int_equal(fc_resend_chunk(rs, 3, 0, &d), -1);
	fc_resend_free(rs);
}

/* An accepted frame forgets itself and every older one; a given-up frame forgets itself only. */
static void test_forgets_superseded(void **state)
{
	struct fc_resend *rs = new_store(1 << 20, 16);
	struct fc_dgram d;

	(void)state;
	for (uint64_t s = 1; s <= 5; s++)
		fc_resend_keep(rs, s, fill(s), TOTAL, FC_DGRAM_CHUNK, 0, 0);
	fc_resend_accepted(rs, 3);
	assert_int_equal(fc_resend_frames(rs), 2);
	assert_int_equal(fc_resend_bytes(rs), 2 * TOTAL);
	assert_int_equal(fc_resend_chunk(rs, 2, 0, &d), -1);
	fc_resend_forget(rs, 5);
	assert_int_equal(fc_resend_chunk(rs, 5, 0, &d), -1);
	assert_chunk(rs, 4, 1);
	fc_resend_free(rs);
}

/* The byte bound and the frame bound: the oldest frames make room, the bytes kept never pass
 * the bound, and frames placed after the arena wrapped come back intact. */
static void test_bounds(void **state)
{
	struct fc_resend *rs = new_store(10000, 16), *few = new_store(1 << 20, 2);
	struct fc_resend_stats st;
	struct fc_dgram d;

	(void)state;
	for (uint64_t s = 1; s <= 10; s++) {
		assert_int_equal(fc_resend_keep(rs, s, fill(s), TOTAL, FC_DGRAM_CHUNK, 0, 0), 0);
		assert_true(fc_resend_bytes(rs) <= 10000);
		for (uint32_t i = 0; i < 3; i++)
			assert_chunk(rs, s, i);
	}
	assert_int_equal(fc_resend_frames(rs), 3);
	assert_chunk(rs, 8, 0);
	assert_int_equal(fc_resend_chunk(rs, 7, 0, &d), -1);
	fc_resend_stats(rs, &st);
	assert_int_equal(st.pushed, 7);
	for (uint64_t s = 1; s <= 3; s++)
		fc_resend_keep(few, s, fill(s), TOTAL, FC_DGRAM_CHUNK, 0, 0);
	assert_int_equal(fc_resend_frames(few), 2);
	assert_int_equal(fc_resend_chunk(few, 1, 0, &d), -1);
	/* Too large for the arena, or cut at a chunk size out of bounds: sent, not kept. */
	fc_resend_free(rs);
	rs = new_store(2000, 4);
	assert_int_equal(fc_resend_keep(rs, 1, fill(1), TOTAL, FC_DGRAM_CHUNK, 0, 0), -1);
	assert_int_equal(fc_resend_keep(rs, 2, fill(2), 1500, 100, 0, 0), -1);
	assert_int_equal(fc_resend_frames(rs), 0);
	fc_resend_free(rs);
	fc_resend_free(few);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serves_chunks),
		cmocka_unit_test(test_forgets_when_too_old),
		cmocka_unit_test(test_forgets_superseded),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
