/* Tests of viewer/net/reasm.c: frames from chunks, the repair deadline, bounded assembly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dgramtest.h"
#include "fec.h"
#include "reasm.h"

#define MS	1000000ull
#define TOTAL	3000 /* three chunks: 1200, 1200, 600 */
#define BUDGET	(80 * MS)
#define RTT	(40 * MS)
#define REORDER (2 * MS)
#define MAXF	(1u << 20)

static uint8_t frames[8][TOTAL];
static uint8_t wire[8][3][FC_DGRAM_MAX_SIZE];

/* Frame seq (1..7): a FRAME payload whose fixed part has t0 0, held 0 and the age given, and
 * its three chunks encoded and decoded back into d[0..3), as a viewer would get them. */
static void make(uint64_t seq, uint64_t age_ns, struct fc_dgram d[3])
{
	struct fc_frame_msg f = { .id = (uint32_t)seq, .age_ns = age_ns, .seq = seq };

	assert_int_equal(fc_test_dgram_frame(frames[seq], TOTAL, f), 0);
	for (uint16_t i = 0; i < 3; i++) {
		struct fc_dgram c = fc_test_dgram_chunk(frames[seq], TOTAL, seq, i);
		size_t n = fc_dgram_encode(&c, wire[seq][i], sizeof(wire[seq][i]));

		assert_int_equal(fc_dgram_decode(wire[seq][i], n, &d[i]), 0);
	}
}

/* Parity chunks 0..m-1 (m <= 3) of frame seq, made by make() first, into p[], as a viewer
 * would get them; of the frame's bytes with byte at (if not 0) set to val, for lies. */
static uint8_t pwire[8][3][FC_DGRAM_MAX_SIZE];

static void make_parity_of(uint64_t seq, unsigned m, size_t at, uint8_t val, struct fc_dgram *p)
{
	static uint8_t parity[3 * FC_DGRAM_CHUNK], bytes[TOTAL];
	char err[100];
	struct fc_fec *f = fc_fec_new(err, sizeof(err));

	assert_non_null(f);
	memcpy(bytes, frames[seq], TOTAL);
	if (at != 0)
		bytes[at] = val;
	assert_int_equal(fc_fec_encode(f, bytes, TOTAL, FC_DGRAM_CHUNK, m, parity), 0);
	for (uint16_t i = 0; i < m; i++) {
		struct fc_dgram d = { .type = FC_DGRAM_T_PARITY, .conn = 7, .seq = seq };
		size_t n;

		d.u.parity =
		    (struct fc_dgram_parity){ .index = i,
					      .m = (uint16_t)m,
					      .k = 3,
					      .total = TOTAL,
					      .chunk_size = FC_DGRAM_CHUNK,
					      .data = parity + (size_t)i * FC_DGRAM_CHUNK };
		n = fc_dgram_encode(&d, pwire[seq][i], sizeof(pwire[seq][i]));
		assert_int_equal(fc_dgram_decode(pwire[seq][i], n, &p[i]), 0);
	}
	fc_fec_free(f);
}

static void make_parity(uint64_t seq, unsigned m, struct fc_dgram *p)
{
	make_parity_of(seq, m, 0, 0, p);
}

static struct fc_reasm *new_reasm(unsigned n)
{
	char err[200];
	struct fc_reasm *r = fc_reasm_new(n, MAXF, err, sizeof(err));

	assert_non_null(r);
	return r;
}

/* Chunks in any order, duplicated, make the frame only once all are in; what comes out is the
 * whole FRAME message, byte for byte, and a chunk of it after that is old. */
static void test_any_order_whole_once(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3];
	const uint8_t *out = NULL;
	size_t len = 0;
	struct fc_msg m;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 5 * MS, d);
	assert_int_equal(fc_reasm_add(r, &d[2], 1 * MS, &out, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &d[2], 1 * MS, &out, &len), FC_REASM_DUPLICATE);
	assert_int_equal(fc_reasm_add(r, &d[0], 2 * MS, &out, &len), FC_REASM_STORED);
	assert_null(out);
	assert_int_equal(fc_reasm_add(r, &d[1], 3 * MS, &out, &len), FC_REASM_COMPLETE);
	assert_int_equal(len, FC_PROTO_HEADER_SIZE + TOTAL);
	assert_int_equal(fc_proto_decode(out, len, &m, NULL), (ssize_t)len);
	assert_int_equal(m.type, FC_MSG_FRAME);
	assert_int_equal(m.u.frame.seq, 1);
	assert_memory_equal(out + FC_PROTO_HEADER_SIZE, frames[1], TOTAL);
	assert_int_equal(fc_reasm_add(r, &d[1], 4 * MS, &out, &len), FC_REASM_OLD);
	assert_int_equal(fc_reasm_pending(r), 0);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.complete, 1);
	assert_int_equal(st.duplicate, 1);
	assert_int_equal(st.old, 1);
	fc_reasm_free(r);
}

/* Never out of order: when a newer frame completes, an older one in assembly is given up (a
 * GIVEUP for the sender) and its later chunks are dropped. */
static void test_never_out_of_order(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram a[3], b[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 0, a);
	make(2, 0, b);
	assert_int_equal(fc_reasm_add(r, &a[0], 0, &f, &len), FC_REASM_STORED);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fc_reasm_add(r, &b[i], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &b[2], 0, &f, &len), FC_REASM_COMPLETE);
	assert_int_equal(fc_reasm_add(r, &a[1], 0, &f, &len), FC_REASM_OLD);
	assert_int_equal(fc_reasm_add(r, &a[2], 0, &f, &len), FC_REASM_OLD);
	assert_int_equal(fc_reasm_poll(r, 1 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].seq, 1);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_EVICTED);
	fc_reasm_free(r);
}

/* At most N frames in assembly: a newer frame pushes out the oldest, which is given up for
 * good (its later chunks dropped); a frame older than all in assembly is not taken. */
static void test_bounded_oldest_first(void **state)
{
	struct fc_reasm *r = new_reasm(2);
	struct fc_dgram a[3], b[3], c[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 0, a);
	make(2, 0, b);
	make(3, 0, c);
	assert_int_equal(fc_reasm_add(r, &b[0], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &c[0], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &a[0], 0, &f, &len), FC_REASM_OLD);
	make(4, 0, a);
	assert_int_equal(fc_reasm_add(r, &a[0], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_pending(r), 2);
	assert_int_equal(fc_reasm_add(r, &b[1], 0, &f, &len), FC_REASM_OLD);
	assert_int_equal(fc_reasm_poll(r, 0, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].seq, 2);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_EVICTED);
	fc_reasm_free(r);
}

/* The repair deadline. Frame: t0 0, held 0, age 10 ms, budget 80 ms: whole by 70 ms or never.
 * Chunk 1 lost at 20 ms: a NACK at 21 ms (its answer due at 61 ms <= 70), none again while
 * it may come, and at 62 ms, still missing, a repair asked then would come at 102 ms: given up
 * at once, and its later chunks are old. */
static void test_repair_deadline(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 10 * MS, d);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	fc_reasm_add(r, &d[2], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_NACK);
	assert_int_equal(out[0].u.nack.n, 1);
	assert_int_equal(out[0].u.nack.r[0].first, 1);
	assert_int_equal(out[0].u.nack.r[0].len, 1);
	assert_int_equal(fc_reasm_next_ns(r, BUDGET, REORDER), 61 * MS);
	assert_int_equal(fc_reasm_poll(r, 40 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 62 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_LATE);
	assert_int_equal(fc_reasm_add(r, &d[1], 63 * MS, &f, &len), FC_REASM_OLD);
	assert_int_equal(fc_reasm_next_ns(r, BUDGET, REORDER), UINT64_MAX);

	/* The same loss with the repair in time: whole at 55 ms. */
	make(2, 10 * MS, d);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	fc_reasm_add(r, &d[2], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(fc_reasm_add(r, &d[1], 55 * MS, &f, &len), FC_REASM_COMPLETE);
	fc_reasm_free(r);
}

/* A loss that no repair can fix in time is given up the moment it is seen, not at the
 * deadline: age 50 ms leaves until 30 ms, and a round trip of 40 ms cannot make it. */
static void test_hopeless_given_up_at_once(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 50 * MS, d);
	fc_reasm_add(r, &d[0], 5 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 5 * MS, BUDGET, RTT, REORDER, out, 4),
			 0); /* no loss yet */
	fc_reasm_add(r, &d[2], 6 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 6 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_LATE);
	fc_reasm_free(r);
}

/* A tail that stalls (nothing came for the reorder wait, no later chunk) when no repair could
 * come in time may only be late, a paced sender or a busy host on the way: it is waited for until
 * the deadline, not given up at once, and the frame completes if it comes; the wait asks for no
 * busy polling. Age 50 ms leaves until 30 ms; a round trip of 40 ms cannot make it. */
static void test_hopeless_tail_waits(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 50 * MS, d);
	fc_reasm_add(r, &d[0], 5 * MS, &f, &len);
	fc_reasm_add(r, &d[1], 6 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 20 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_next_ns(r, BUDGET, REORDER), 30 * MS);
	assert_int_equal(fc_reasm_add(r, &d[2], 25 * MS, &f, &len), FC_REASM_COMPLETE);
	/* Never whole: given up at its deadline, t0 0 + 80 ms (age 0). */
	make(2, 0, d);
	fc_reasm_add(r, &d[0], 35 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 50 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 79 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 80 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	fc_reasm_free(r);
}

/* The sender's GIVEUP (forgotten) gives a frame in assembly up at once, as late, and its
 * stragglers are old; a seq not in assembly changes nothing. */
static void test_forget(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 0, d);
	fc_reasm_add(r, &d[0], 1 * MS, &f, &len);
	fc_reasm_forget(r, 9);
	assert_int_equal(fc_reasm_pending(r), 1);
	fc_reasm_forget(r, 1);
	assert_int_equal(fc_reasm_pending(r), 0);
	assert_int_equal(fc_reasm_poll(r, 2 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].seq, 1);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_LATE);
	assert_int_equal(fc_reasm_add(r, &d[1], 3 * MS, &f, &len), FC_REASM_OLD);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.late, 1);
	fc_reasm_free(r);
}

/* The last chunks: nothing later reveals their loss, so they count as lost only after the
 * reorder wait; and without chunk 0 the deadline is the first arrival plus the budget. With a
 * 10 ms round trip: chunk 1 alone at 10 ms, chunk 0 (below it) asked at 11 ms, the tail too
 * once its answer was due, and the frame given up when a repair could no longer come by
 * 10 + 80 = 90 ms. */
static void test_tail_and_no_first_chunk(void **state)
{
	const uint64_t rtt = 10 * MS;
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;

	(void)state;
	make(1, 0, d);
	fc_reasm_add(r, &d[1], 10 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 11 * MS, BUDGET, rtt, REORDER, out, 4), 1);
	assert_int_equal(out[0].u.nack.n, 1);
	assert_int_equal(out[0].u.nack.r[0].first, 0);
	assert_int_equal(out[0].u.nack.r[0].len, 1);
	assert_int_equal(fc_reasm_poll(r, 20 * MS, BUDGET, rtt, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, rtt, REORDER, out, 4), 1);
	assert_int_equal(out[0].u.nack.n, 2); /* now the tail too: 0 and 2 */
	assert_int_equal(out[0].u.nack.r[1].first, 2);
	assert_int_equal(fc_reasm_poll(r, 80 * MS, BUDGET, rtt, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_NACK); /* 80 + 10 <= 90: still worth asking */
	assert_int_equal(fc_reasm_poll(r, 90 * MS, BUDGET, rtt, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	fc_reasm_free(r);
}

/* A round trip estimate of 0 (loopback) does not make a NACK at every poll: one a millisecond
 * at most. */
static void test_renack_spacing(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f;
	size_t len;
	int nacks = 0;

	(void)state;
	make(1, 0, d);
	fc_reasm_add(r, &d[0], 0, &f, &len);
	fc_reasm_add(r, &d[2], 0, &f, &len);
	for (uint64_t t = 0; t < 10 * MS; t += MS / 10)
		nacks += (int)fc_reasm_poll(r, t, BUDGET, 0, REORDER, out, 4);
	assert_int_equal(nacks, 10);
	fc_reasm_free(r);
}

/* Chunks that disagree with their frame, and frames over the size taken, are refused. */
static void test_conflict_and_too_large(void **state)
{
	char err[200];
	struct fc_reasm *r = new_reasm(4), *small;
	struct fc_dgram d[3], other;
	const uint8_t *f;
	size_t len;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 0, d);
	assert_int_equal(fc_reasm_add(r, &d[0], 0, &f, &len), FC_REASM_STORED);
	other = d[1];
	other.u.chunk.count = 2;
	other.u.chunk.total = 2400;
	assert_int_equal(fc_reasm_add(r, &other, 0, &f, &len), FC_REASM_CONFLICT);
	small = fc_reasm_new(4, 2000, err, sizeof(err));
	assert_non_null(small);
	assert_int_equal(fc_reasm_add(small, &d[0], 0, &f, &len), FC_REASM_TOO_LARGE);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.conflict, 1);
	assert_null(fc_reasm_new(0, MAXF, err, sizeof(err)));
	assert_null(fc_reasm_new(4, FC_DGRAM_MAX_FRAME + 1, err, sizeof(err)));
	fc_reasm_free(small);
	fc_reasm_free(r);
}

/* Every pattern of lost chunks among a frame's 3 data and 2 parity chunks, all sent in order:
 * with up to 2 lost the frame comes out whole with exactly its bytes, rebuilt when data was
 * lost; with 3 lost it does not, and the NACK asks for just the one chunk parity cannot cover
 * (the lowest lost), whose repair makes the frame whole. */
static void test_parity_every_pattern(void **state)
{
	unsigned whole = 0, repaired = 0;

	(void)state;
	for (unsigned set = 0; set < 32; set++) {
		struct fc_reasm *r = new_reasm(4);
		struct fc_dgram d[3], p[2], out[4];
		const uint8_t *f = NULL;
		size_t len = 0;
		int lost = __builtin_popcount(set), res = 0,
		    data_lost = __builtin_popcount(set & 7);
		struct fc_reasm_stats st;

		if (lost > 3)
			goto next;
		make(1, 0, d);
		make_parity(1, 2, p);
		for (unsigned i = 0; i < 5; i++)
			if (!(set & (1u << i)))
				res = fc_reasm_add(r, i < 3 ? &d[i] : &p[i - 3], 1 * MS, &f, &len);
		fc_reasm_stats(r, &st);
		if (lost <= 2) {
			assert_non_null(f);
			assert_int_equal(len, FC_PROTO_HEADER_SIZE + TOTAL);
			assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[1], TOTAL);
			assert_int_equal(st.rebuilt, data_lost > 0);
			assert_int_equal(st.rebuilt_chunks, data_lost);
			whole++;
			goto next;
		}
		assert_int_not_equal(res, FC_REASM_COMPLETE);
		assert_int_equal(fc_reasm_poll(r, 4 * MS, BUDGET, 10 * MS, REORDER, out, 4), 1);
		assert_int_equal(out[0].type, FC_DGRAM_T_NACK);
		assert_int_equal(out[0].u.nack.n, 1);
		assert_int_equal(out[0].u.nack.r[0].len, 1);
		assert_int_equal(out[0].u.nack.r[0].first, __builtin_ctz(set));
		assert_int_equal(fc_reasm_add(r, &d[out[0].u.nack.r[0].first], 14 * MS, &f, &len),
				 FC_REASM_COMPLETE);
		assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[1], TOTAL);
		repaired++;
	next:
		fc_reasm_free(r);
	}
	assert_int_equal(whole, 1 + 5 + 10);
	assert_int_equal(repaired, 10);
}

/* Parity that lies: another m than the frame's first parity said, another geometry than its
 * chunks', and bytes that would rebuild chunk 0 into FRAME fields proto.c refuses (a rendition
 * wider than its picture): refused and counted, the last frame given up, never handed out. */
static void test_parity_lies_refused(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[3], other, out[4];
	const uint8_t *f = NULL;
	size_t len = 0;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 0, d);
	make_parity(1, 2, p);
	assert_int_equal(fc_reasm_add(r, &p[1], 0, &f, &len), FC_REASM_STORED);
	make_parity(1, 3, p);
	assert_int_equal(fc_reasm_add(r, &p[0], 0, &f, &len), FC_REASM_CONFLICT); /* m 3, not 2 */
	other = p[0];
	other.u.parity.m = 2;
	other.u.parity.k = 2;
	other.u.parity.total = 2400;
	assert_int_equal(fc_reasm_add(r, &other, 0, &f, &len), FC_REASM_CONFLICT);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.conflict, 2);
	fc_reasm_free(r);

	r = new_reasm(4);
	make(2, 0, d);
	make_parity_of(2, 1, 36, 0x7F, p); /* parity of the frame with its width a lie */
	assert_int_equal(fc_reasm_add(r, &d[1], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &d[2], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &p[0], 0, &f, &len), FC_REASM_CONFLICT);
	assert_null(f);
	assert_int_equal(fc_reasm_add(r, &d[0], 0, &f, &len), FC_REASM_OLD); /* given up */
	assert_int_equal(fc_reasm_poll(r, 1 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].seq, 2);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.conflict, 1);
	assert_int_equal(st.complete, 0);
	fc_reasm_free(r);
}

/* Parity before the data, twice, in any order: duplicates are counted and dropped, and the
 * frame is whole (rebuilt) as soon as 3 of its 5 chunks are in. */
static void test_parity_duplicated_reordered(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[2];
	const uint8_t *f = NULL;
	size_t len = 0;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 0, d);
	make_parity(1, 2, p);
	assert_int_equal(fc_reasm_add(r, &p[1], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &p[1], 0, &f, &len), FC_REASM_DUPLICATE);
	assert_int_equal(fc_reasm_add(r, &d[2], 0, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &d[2], 0, &f, &len), FC_REASM_DUPLICATE);
	assert_int_equal(fc_reasm_add(r, &p[0], 0, &f, &len), FC_REASM_COMPLETE);
	assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[1], TOTAL);
	assert_int_equal(fc_reasm_add(r, &d[0], 0, &f, &len), FC_REASM_OLD);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.duplicate, 2);
	assert_int_equal(st.parity, 2);
	assert_int_equal(st.rebuilt_chunks, 2);
	assert_int_equal(st.frame_chunks, 3); /* the loss a viewer reports: 2 of 3, one run */
	assert_int_equal(st.lost_chunks, 2);
	assert_int_equal(st.lost_runs, 1);
	fc_reasm_free(r);
}

/* The repair rule with parity. Once frames carry parity (m = 2), a hole is not asked for while
 * the parity to come could cover it, and the parity then rebuilds the frame; two data chunks
 * and the first parity lost, with the second parity in, leave one uncovered: just that one is
 * asked for at once; and a frame whose data tail and parity never come is asked for in full
 * once the reorder wait is over. */
static void test_nack_waits_for_parity(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[2], out[4];
	const uint8_t *f = NULL;
	size_t len = 0;

	(void)state;
	make(1, 0, d);
	make_parity(1, 2, p);
	fc_reasm_add(r, &d[0], 0, &f, &len);
	fc_reasm_add(r, &d[1], 0, &f, &len);
	assert_int_equal(fc_reasm_add(r, &p[0], 0, &f, &len), FC_REASM_COMPLETE); /* m known */

	make(2, 0, d);
	make_parity(2, 2, p);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	fc_reasm_add(r, &d[2], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_next_ns(r, BUDGET, REORDER), 22 * MS); /* the tail's wait */
	assert_int_equal(fc_reasm_add(r, &p[1], 21 * MS, &f, &len), FC_REASM_COMPLETE);
	assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[2], TOTAL);

	make(3, 0, d);
	make_parity(3, 2, p);
	fc_reasm_add(r, &d[2], 20 * MS, &f, &len);
	fc_reasm_add(r, &p[1], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 20 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_NACK);
	assert_int_equal(out[0].u.nack.n, 1);
	assert_int_equal(out[0].u.nack.r[0].first, 0);
	assert_int_equal(out[0].u.nack.r[0].len, 1);
	assert_int_equal(fc_reasm_add(r, &d[0], 60 * MS, &f, &len), FC_REASM_COMPLETE);
	assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[3], TOTAL);

	make(4, 0, d);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 22 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].u.nack.n, 1);
	assert_int_equal(out[0].u.nack.r[0].first, 1);
	assert_int_equal(out[0].u.nack.r[0].len, 2);
	fc_reasm_free(r);
}

/* One loss more than the parity, when the repair of the one uncovered chunk cannot come in
 * time (age 10 ms: whole by 70 ms; at 31 ms a round trip of 40 is too long), is given up at
 * once, as a loss without parity is. */
static void test_parity_short_given_up(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[2], out[4];
	const uint8_t *f = NULL;
	size_t len = 0;

	(void)state;
	make(1, 10 * MS, d);
	make_parity(1, 2, p);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	fc_reasm_add(r, &p[1], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 31 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	assert_int_equal(out[0].u.reason, FC_GIVEUP_LATE);
	assert_int_equal(fc_reasm_add(r, &d[1], 32 * MS, &f, &len), FC_REASM_OLD);
	fc_reasm_free(r);
}

/* The loss a viewer reports (LOSS, for --fec auto) counts chunks known lost, not a tail late:
 * a frame given up with only its first chunk in lost nothing that is known (a busy host's late
 * frame is not loss: counting it made parity that made frames later still), one with a hole
 * below a chunk that came lost that one, and a frame whose parity came lost its missing data. */
static void test_loss_counts_known_lost_only(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[2], out[4];
	const uint8_t *f = NULL;
	size_t len = 0;
	struct fc_reasm_stats st;

	(void)state;
	make(1, 0, d);
	fc_reasm_add(r, &d[0], 0, &f, &len);
	fc_reasm_poll(r, 90 * MS, BUDGET, RTT, REORDER, out, 4); /* past its deadline */
	fc_reasm_stats(r, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.frame_chunks, 1);
	assert_int_equal(st.lost_chunks, 0);

	make(2, 0, d);
	fc_reasm_add(r, &d[0], 100 * MS, &f, &len);
	fc_reasm_add(r, &d[2], 100 * MS, &f, &len);
	fc_reasm_poll(r, 100 * MS, BUDGET, RTT, REORDER, out, 4);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.late, 2);
	assert_int_equal(st.frame_chunks, 4);
	assert_int_equal(st.lost_chunks, 1);
	assert_int_equal(st.lost_runs, 1);

	make(3, 0, d);
	make_parity(3, 1, p);
	fc_reasm_add(r, &d[0], 100 * MS, &f, &len);
	fc_reasm_add(r, &p[0], 100 * MS, &f, &len);
	fc_reasm_poll(r, 100 * MS, BUDGET, RTT, REORDER, out, 4);
	fc_reasm_stats(r, &st);
	assert_int_equal(st.late, 3);
	assert_int_equal(st.frame_chunks, 7);
	assert_int_equal(st.lost_chunks, 3);
	assert_int_equal(st.lost_runs, 2);
	fc_reasm_free(r);
}

/* A frame is waited for until both of the viewer's bounds are past the budget: its request's
 * (t0 + B + held - age: 80 ms here) and, once the clocks' offset is proven, the offset's
 * ((send - age) - hi + B: 130 ms with the sender's clock at most 50 ms behind ours). A request
 * that TCP held back behind a lost segment makes the first hopeless, not the second; and the
 * first chunk's arrival + B still caps the wait. */
static void test_offset_deadline(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], out[4];
	const uint8_t *f = NULL;
	size_t len = 0;

	(void)state;
	make(1, 0, d);
	fc_reasm_add(r, &d[0], 60 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 100 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP); /* the request's bound alone */

	make(2, 0, d);
	fc_reasm_offset(r, true, -50 * (int64_t)MS);
	fc_reasm_add(r, &d[0], 60 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 100 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_next_ns(r, BUDGET, REORDER), 130 * MS);
	assert_int_equal(fc_reasm_add(r, &d[1], 110 * MS, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &d[2], 120 * MS, &f, &len), FC_REASM_COMPLETE);

	make(3, 0, d);
	fc_reasm_offset(r, true, -500 * (int64_t)MS); /* 580 ms by the offset: first + B first */
	fc_reasm_add(r, &d[0], 200 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 279 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_poll(r, 280 * MS, BUDGET, RTT, REORDER, out, 4), 1);
	assert_int_equal(out[0].type, FC_DGRAM_T_GIVEUP);
	fc_reasm_free(r);
}

/* Parity that comes after its frame was whole (most frames: the data goes first) still tells
 * what the next frames carry, so a frame with a hole the parity can cover is not given up at
 * once as if none were coming; and a frame past hope of a repair waits for the deadline while
 * its holes are within its parity and the rest is a tail that may only be late (a pause of a
 * few milliseconds mid-frame): both came whole here. */
static void test_parity_expected_and_late_tail(void **state)
{
	struct fc_reasm *r = new_reasm(4);
	struct fc_dgram d[3], p[2], out[4];
	const uint8_t *f = NULL;
	size_t len = 0;

	(void)state;
	make(1, 0, d);
	make_parity(1, 2, p);
	for (int i = 0; i < 3; i++)
		fc_reasm_add(r, &d[i], 0, &f, &len);
	assert_int_equal(fc_reasm_add(r, &p[0], 0, &f, &len), FC_REASM_OLD);

	make(2, 50 * MS, d); /* whole by 30 ms: no repair can come in time */
	make_parity(2, 2, p);
	fc_reasm_add(r, &d[0], 20 * MS, &f, &len);
	fc_reasm_add(r, &d[2], 20 * MS, &f, &len);
	assert_int_equal(fc_reasm_poll(r, 21 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_add(r, &p[0], 22 * MS, &f, &len), FC_REASM_COMPLETE);
	assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[2], TOTAL);

	make(3, 50 * MS, d);
	make_parity(3, 2, p);
	fc_reasm_add(r, &d[1], 20 * MS, &f, &len); /* chunk 0 lost, chunk 2 late: whole by 100 */
	out[0].type = 0;
	fc_reasm_poll(r, 25 * MS, BUDGET, RTT, REORDER, out, 4); /* a NACK can still help */
	assert_int_equal(out[0].type, FC_DGRAM_T_NACK);
	assert_int_equal(fc_reasm_poll(r, 65 * MS, BUDGET, RTT, REORDER, out, 4), 0);
	assert_int_equal(fc_reasm_add(r, &d[2], 66 * MS, &f, &len), FC_REASM_STORED);
	assert_int_equal(fc_reasm_add(r, &p[1], 67 * MS, &f, &len), FC_REASM_COMPLETE);
	assert_memory_equal(f + FC_PROTO_HEADER_SIZE, frames[3], TOTAL);
	fc_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_order_whole_once),
		cmocka_unit_test(test_never_out_of_order),
		cmocka_unit_test(test_bounded_oldest_first),
		cmocka_unit_test(test_repair_deadline),
		cmocka_unit_test(test_hopeless_given_up_at_once),
		cmocka_unit_test(test_hopeless_tail_waits),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_tail_and_no_first_chunk),
		cmocka_unit_test(test_renack_spacing),
		cmocka_unit_test(test_conflict_and_too_large),
		cmocka_unit_test(test_parity_every_pattern),
		cmocka_unit_test(test_parity_lies_refused),
		cmocka_unit_test(test_parity_duplicated_reordered),
		cmocka_unit_test(test_nack_waits_for_parity),
		cmocka_unit_test(test_parity_short_given_up),
		cmocka_unit_test(test_loss_counts_known_lost_only),
		cmocka_unit_test(test_offset_deadline),
		cmocka_unit_test(test_parity_expected_and_late_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
