/* Tests of common/dgram_seal.c and its keys (secure.c's fc_secure_dgram_keys): sealed datagrams
 * of private streams over UDP. Round trips of every datagram type; every bit flipped and every
 * prefix refused; replays refused; reordering within the window taken and beyond it refused,
 * across the window's words and big jumps, against a model; a datagram reflected back to its
 * sender refused; forgeries that move nothing; the packet numbers' end. Pure: no sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dgram_seal.h"
#include "dgramtest.h"
#include "secure.h"

#define TOTAL 3000 /* a frame of three chunks */

static const uint8_t shello[] = "the sender's HELLO, as it went";
static const uint8_t vhello[] = "the viewer's HELLO, as it went";
static struct fc_secure_psk *psk;
static struct fc_dseal snd, vwr; /* the sender's and the viewer's sealing */
static uint8_t frame[TOTAL];

static void keys_for(int role, const uint8_t *sh, size_t sl, struct fc_dseal *s)
{
	uint8_t tx[FC_SECURE_KEY_SIZE], rx[FC_SECURE_KEY_SIZE];

	assert_int_equal(fc_secure_dgram_keys(psk, role, sh, sl, vhello, sizeof(vhello), tx, rx),
			 0);
	fc_dseal_init(s, tx, rx);
}

static int setup(void **state)
{
	char err[256];
	struct fc_frame_msg f = { .id = 9, .t0_ns = 1000000000, .seq = 42, .quality = 80 };

	(void)state;
	psk = fc_secure_psk_new_cost("correct horse battery staple", 28, 1, 8192, err, sizeof(err));
	if (!psk || fc_test_dgram_frame(frame, TOTAL, f) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fc_secure_psk_free(psk);
	return 0;
}

/* Fresh state each test: numbers from 0, empty windows. */
static int fresh(void **state)
{
	(void)state;
	keys_for(FC_ROLE_SENDER, shello, sizeof(shello), &snd);
	keys_for(FC_ROLE_VIEWER, shello, sizeof(shello), &vwr);
	return 0;
}

/* A plain datagram into buf: chunk i of the frame, cut at the sealed chunk size. */
static size_t plain_chunk(uint8_t *buf, size_t cap, uint16_t i)
{
	struct fc_dgram d = fc_test_dgram_chunk(frame, TOTAL, 42, 0);
	uint32_t off = i * (uint32_t)FC_DSEAL_CHUNK;

	d.u.chunk.index = i;
	d.u.chunk.count = (uint16_t)fc_dgram_count(TOTAL, FC_DSEAL_CHUNK);
	d.u.chunk.offset = off;
	d.u.chunk.chunk_size = FC_DSEAL_CHUNK;
	d.u.chunk.data = frame + off;
	d.u.chunk.size = TOTAL - off < FC_DSEAL_CHUNK ? TOTAL - off : FC_DSEAL_CHUNK;
	return fc_dgram_encode(&d, buf, cap);
}

static size_t plain_giveup(uint8_t *buf, size_t cap, uint64_t seq)
{
	struct fc_dgram d = {
		.type = FC_DGRAM_T_GIVEUP, .conn = 7, .seq = seq, .u.reason = FC_GIVEUP_LATE
	};

	return fc_dgram_encode(&d, buf, cap);
}

/* The sender's datagram sealed under packet number pn (the sender's counter set to it). */
static size_t sealed_at(uint64_t pn, uint8_t *buf, size_t cap)
{
	size_t n = plain_giveup(buf, cap, 1 + pn % 1000);
	ssize_t s;

	atomic_store(&snd.tx.next, pn);
	s = fc_dseal_seal(&snd.tx, buf, n, cap);
	assert_int_equal(s, (ssize_t)(n + FC_DSEAL_OVERHEAD));
	return (size_t)s;
}

/* Both sides derive the same keys, one per direction, apart from each other, from the TCP
 * stream's keys, and from another connection's. */
static void test_keys(void **state)
{
	uint8_t stx[32], srx[32], vtx[32], vrx[32], otx[32], orx[32];
	static const uint8_t other[] = "another connection's HELLO";
	struct fc_secure_keys tcp;

	(void)state;
	assert_int_equal(fc_secure_dgram_keys(psk, FC_ROLE_SENDER, shello, sizeof(shello), vhello,
					      sizeof(vhello), stx, srx),
			 0);
	assert_int_equal(fc_secure_dgram_keys(psk, FC_ROLE_VIEWER, shello, sizeof(shello), vhello,
					      sizeof(vhello), vtx, vrx),
			 0);
	assert_memory_equal(stx, vrx, 32);
	assert_memory_equal(srx, vtx, 32);
	assert_memory_not_equal(stx, srx, 32);
	assert_int_equal(fc_secure_handshake(psk, FC_ROLE_SENDER, shello, sizeof(shello), vhello,
					     sizeof(vhello), &tcp),
			 0);
	assert_memory_not_equal(stx, tcp.tx, 32);
	assert_memory_not_equal(stx, tcp.rx, 32);
	assert_memory_not_equal(srx, tcp.tx, 32);
	assert_memory_not_equal(srx, tcp.rx, 32);
	assert_int_equal(fc_secure_dgram_keys(psk, FC_ROLE_SENDER, other, sizeof(other), vhello,
					      sizeof(vhello), otx, orx),
			 0);
	assert_memory_not_equal(stx, otx, 32);
	assert_int_equal(
	    fc_secure_dgram_keys(psk, 7, shello, sizeof(shello), vhello, sizeof(vhello), otx, orx),
	    -1);
	fc_secure_wipe(&tcp);
}

/* Every kind of datagram comes back as it went, sealed in place or into another buffer: 24 bytes
 * longer, the header the same but the type's high bit, the numbers 0, 1, 2 ...; the body is not
 * in the clear; a sealed chunk at FC_DSEAL_CHUNK is 1230 bytes; dgram.c's decoder takes what
 * opens and refuses what is sealed (a receiver without keys). */
static void test_round_trip(void **state)
{
	uint8_t plain[FC_DGRAM_MAX_SIZE], buf[FC_DSEAL_MAX_SIZE], out[FC_DSEAL_MAX_SIZE];
	struct fc_dgram nack = { .type = FC_DGRAM_T_NACK, .conn = 7, .seq = 42 };
	struct fc_dgram d;
	uint64_t pn;

	(void)state;
	nack.u.nack.n = 2;
	nack.u.nack.r[0] = (struct fc_dgram_range){ 0, 1 };
	nack.u.nack.r[1] = (struct fc_dgram_range){ 2, 1 };
	for (uint64_t k = 0; k < 10; k++) {
		size_t n = k < 3   ? plain_chunk(plain, sizeof(plain), (uint16_t)k)
			   : k < 6 ? fc_dgram_encode(&nack, plain, sizeof(plain))
				   : plain_giveup(plain, sizeof(plain), k);
		ssize_t s;
		bool to = k % 2;

		assert_true(n > 0);
		if (to) {
			s = fc_dseal_seal_to(&vwr.tx, plain, n, buf, sizeof(buf));
		} else {
			memcpy(buf, plain, n);
			s = fc_dseal_seal(&vwr.tx, buf, n, sizeof(buf));
		}
		assert_int_equal(s, (ssize_t)(n + FC_DSEAL_OVERHEAD));
		if (k == 0)
			assert_int_equal(s, 1230);
		assert_memory_equal(buf, plain, 3);
		assert_int_equal(buf[3], plain[3] | FC_DSEAL_TYPE_BIT);
		assert_memory_equal(buf + 4, plain + 4, FC_DGRAM_HEAD - 4);
		for (int i = 0; i < 8; i++)
			assert_int_equal(buf[FC_DGRAM_HEAD + i], i == 7 ? k : 0);
		assert_memory_not_equal(buf + FC_DGRAM_HEAD + 8, plain + FC_DGRAM_HEAD,
					n - FC_DGRAM_HEAD);
		assert_int_equal(fc_dgram_decode(buf, (size_t)s, &d), -FC_DGRAM_E_TYPE);
		memcpy(out, buf, (size_t)s);
		assert_int_equal(fc_dseal_open(&snd.rx, out, (size_t)s, &pn), (ssize_t)n);
		assert_int_equal(pn, k);
		assert_memory_equal(out, plain, n);
		assert_int_equal(fc_dgram_decode(out, n, &d), 0);
	}
}

/* Every single bit of a sealed datagram flipped, header, number, body and tag: refused, and
 * for the reason its place gives; none moves the window, so the true datagram opens after. */
static void test_every_bit_flip_refused(void **state)
{
	uint8_t sealed[FC_DSEAL_MAX_SIZE], buf[FC_DSEAL_MAX_SIZE];
	size_t sizes[2];

	(void)state;
	for (int which = 0; which < 2; which++) {
		uint8_t *p = sealed;
		size_t n =
		    which ? plain_giveup(p, sizeof(sealed), 5) : plain_chunk(p, sizeof(sealed), 0);
		ssize_t s = fc_dseal_seal(&snd.tx, p, n, sizeof(sealed));

		assert_true(s > 0);
		sizes[which] = (size_t)s;
		for (size_t bit = 0; bit < sizes[which] * 8; bit++) {
			int want = bit < 24    ? -FC_DSEAL_E_HEADER
				   : bit == 24 ? -FC_DSEAL_E_PLAIN /* the sealed bit */
					       : -FC_DSEAL_E_OPEN;

			memcpy(buf, p, sizes[which]);
			buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			assert_int_equal(fc_dseal_open(&vwr.rx, buf, sizes[which], NULL), want);
		}
		memcpy(buf, p, sizes[which]);
		assert_int_equal(fc_dseal_open(&vwr.rx, buf, sizes[which], NULL),
				 (ssize_t)(sizes[which] - FC_DSEAL_OVERHEAD));
	}
}

/* Every strict prefix of a sealed datagram (a truncated one) is refused. */
static void test_every_prefix_refused(void **state)
{
	uint8_t sealed[FC_DSEAL_MAX_SIZE], buf[FC_DSEAL_MAX_SIZE];
	size_t n = plain_chunk(sealed, sizeof(sealed), 2);
	ssize_t s = fc_dseal_seal(&snd.tx, sealed, n, sizeof(sealed));

	(void)state;
	assert_true(s > 0);
	for (size_t len = 0; len < (size_t)s; len++) {
		memcpy(buf, sealed, len);
		assert_int_equal(fc_dseal_open(&vwr.rx, buf, len, NULL),
				 len < FC_DSEAL_MIN_SIZE ? -FC_DSEAL_E_SHORT : -FC_DSEAL_E_OPEN);
	}
	memcpy(buf, sealed, (size_t)s);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, (size_t)s, NULL), (ssize_t)n);
}

/* A datagram opens once: the same bytes again are a replay, whatever came between. */
static void test_replay_refused(void **state)
{
	uint8_t a[64], b[64], buf[64];
	size_t na = sealed_at(0, a, sizeof(a));
	size_t nb = sealed_at(1, b, sizeof(b));

	(void)state;
	memcpy(buf, a, na);
	assert_true(fc_dseal_open(&vwr.rx, buf, na, NULL) > 0);
	memcpy(buf, a, na);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, na, NULL), -FC_DSEAL_E_REPLAY);
	memcpy(buf, b, nb);
	assert_true(fc_dseal_open(&vwr.rx, buf, nb, NULL) > 0);
	memcpy(buf, a, na);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, na, NULL), -FC_DSEAL_E_REPLAY);
	memcpy(buf, b, nb);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, nb, NULL), -FC_DSEAL_E_REPLAY);
}

/* The model of the window, as the design states it: the numbers taken, the highest. */
#define MODEL_MAX 8192
static uint64_t taken[MODEL_MAX];
static size_t ntaken;

static int model(uint64_t pn)
{
	uint64_t top = 0;
	bool seen = false;

	for (size_t i = 0; i < ntaken; i++) {
		seen = seen || taken[i] == pn;
		top = taken[i] > top ? taken[i] : top;
	}
	if (ntaken && pn < top && top - pn >= FC_DSEAL_WINDOW)
		return -FC_DSEAL_E_OLD; /* taken or not: the window has forgotten */
	return seen ? -FC_DSEAL_E_REPLAY : 0;
}

/* Delivers the sender's datagram numbered pn to the viewer: the verdict is the model's. */
static void deliver(uint64_t pn)
{
	uint8_t buf[64];
	size_t n = sealed_at(pn, buf, sizeof(buf));
	int want = model(pn);
	ssize_t got = fc_dseal_open(&vwr.rx, buf, n, NULL);

	if (want == 0) {
		assert_true(ntaken < MODEL_MAX);
		taken[ntaken++] = pn;
		assert_int_equal(got, (ssize_t)(n - FC_DSEAL_OVERHEAD));
	} else {
		assert_int_equal(got, want);
	}
}

/* Reordering: a number within the window below the highest is taken once, the first one
 * older than the window is refused; exactly at the edges, counted from several tops. */
static void test_reorder_within_window_taken(void **state)
{
	(void)state;
	ntaken = 0;
	deliver(1023);
	deliver(0);    /* 1023 below the top: within */
	deliver(0);    /* replayed */
	deliver(1024); /* the top moves: 0 is now 1024 below it */
	deliver(0);    /* old */
	deliver(1);    /* 1023 below: within, never taken */
	deliver(1);
	deliver(5000);
	deliver(3976); /* 1024 below: old */
	deliver(3977); /* 1023 below: taken */
	deliver(4999);
	deliver(5001);
	deliver(3977); /* 1024 below the new top: old, though taken */
	deliver(3978);
	assert_int_equal(vwr.rx.top, 5001);
}

/* The window's ring of 64-bit words: numbers on each side of a word's edge, and jumps of every
 * size that matters (within a word, to the next, just under, at and over the window, past the
 * whole ring, far). After each jump every number from 1100 below the new top up to it is
 * delivered, twice: the ring's stale bits must neither refuse a fresh number nor let a taken one
 * pass. Checked against the model. */
static void test_window_words_and_jumps(void **state)
{
	static const uint64_t jumps[] = { 1,	2,    63,   64,	  65,	127,  128,
					  1023, 1024, 1025, 1088, 1089, 2048, 100000 };
	uint64_t top = 0;

	(void)state;
	ntaken = 0;
	/* Every number of the first 1100 taken: every word of the ring has bits set. */
	for (uint64_t pn = 0; pn < 1100; pn++)
		deliver(pn);
	top = 1099;
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		top += jumps[j];
		deliver(top);
		for (int back = 1100; back > 0; back -= 3)
			deliver(top - (uint64_t)back);
		for (int back = 1100; back > 0; back -= 2)
			deliver(top - (uint64_t)back);
		/* The model's list grows: keep the recent ones only, which is all it needs. */
		if (ntaken > MODEL_MAX - 2000) {
			size_t keep = 0;

			for (size_t i = 0; i < ntaken; i++)
				if (top - taken[i] < FC_DSEAL_WINDOW)
					taken[keep++] = taken[i];
			ntaken = keep;
		}
	}
}

/* Near the end of the numbers: a jump from 0 to 2^64 - 2 (the last a sealer uses) and the
 * window below it. */
static void test_window_far(void **state)
{
	(void)state;
	ntaken = 0;
	deliver(0);
	deliver(UINT64_MAX - 1);
	deliver(UINT64_MAX - 1024);
	deliver(UINT64_MAX - 1025);
	deliver(0);
	deliver(UINT64_MAX - 2);
	deliver(UINT64_MAX - 1);
}

/* A datagram reflected back to its sender does not open there (each direction has its key),
 * nor one of another connection; the right receiver opens it. */
static void test_wrong_direction_refused(void **state)
{
	static const uint8_t other[] = "another connection's HELLO";
	uint8_t plain[64], buf[64];
	struct fc_dseal stranger;
	size_t n = plain_giveup(plain, sizeof(plain), 3);
	ssize_t s = fc_dseal_seal_to(&vwr.tx, plain, n, buf, sizeof(buf));
	uint8_t copy[64];

	(void)state;
	keys_for(FC_ROLE_SENDER, other, sizeof(other), &stranger);
	assert_true(s > 0);
	memcpy(copy, buf, (size_t)s);
	assert_int_equal(fc_dseal_open(&vwr.rx, copy, (size_t)s, NULL), -FC_DSEAL_E_OPEN);
	memcpy(copy, buf, (size_t)s);
	assert_int_equal(fc_dseal_open(&stranger.rx, copy, (size_t)s, NULL), -FC_DSEAL_E_OPEN);
	memcpy(copy, buf, (size_t)s);
	assert_int_equal(fc_dseal_open(&snd.rx, copy, (size_t)s, NULL), (ssize_t)n);
	assert_memory_equal(copy, plain, n);
	fc_dseal_wipe(&stranger);
}

/* A forgery with the right header and conn, any number and wrong bytes is refused, and moves
 * nothing: the genuine datagrams below its number still open. */
static void test_forgery_moves_nothing(void **state)
{
	uint8_t buf[64], forged[64];
	size_t n = sealed_at(0, buf, sizeof(buf));

	(void)state;
	memcpy(forged, buf, n);
	forged[FC_DGRAM_HEAD] = 0x7f; /* a number far ahead */
	for (size_t i = FC_DGRAM_HEAD + FC_DSEAL_PN_SIZE; i < n; i++)
		forged[i] = (uint8_t)(i * 7);
	assert_int_equal(fc_dseal_open(&vwr.rx, forged, n, NULL), -FC_DSEAL_E_OPEN);
	assert_false(vwr.rx.any);
	assert_true(fc_dseal_open(&vwr.rx, buf, n, NULL) > 0);
	assert_int_equal(vwr.rx.top, 0);
}

/* The numbers' end: the last one a sealer uses is 2^64 - 2; then it refuses, in place or into
 * a buffer, leaving the datagram as it was. */
static void test_numbers_spent_refuse_to_seal(void **state)
{
	uint8_t plain[64], buf[64], out[64];
	size_t n = plain_giveup(plain, sizeof(plain), 3);
	uint64_t pn;

	(void)state;
	atomic_store(&snd.tx.next, UINT64_MAX - 1);
	memcpy(buf, plain, n);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, n, sizeof(buf)),
			 (ssize_t)(n + FC_DSEAL_OVERHEAD));
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, n + FC_DSEAL_OVERHEAD, &pn), (ssize_t)n);
	assert_int_equal(pn, UINT64_MAX - 1);
	memcpy(buf, plain, n);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, n, sizeof(buf)), -FC_DSEAL_E_SPENT);
	assert_memory_equal(buf, plain, n);
	assert_int_equal(fc_dseal_seal_to(&snd.tx, plain, n, out, sizeof(out)), -FC_DSEAL_E_SPENT);
	assert_int_equal(atomic_load(&snd.tx.next), UINT64_MAX);
}

/* What is not a datagram to seal or open is refused with its reason, and spends no number: a
 * plain datagram on a private stream, one sealed twice, no room, too short, too long, not ours. */
static void test_refusals_named(void **state)
{
	uint8_t plain[64], buf[FC_DSEAL_MAX_SIZE + 1];
	size_t n = plain_giveup(plain, sizeof(plain), 3);

	(void)state;
	memcpy(buf, plain, n);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, n, NULL), -FC_DSEAL_E_SHORT);
	memset(buf + n, 0, sizeof(buf) - n);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, 60, NULL), -FC_DSEAL_E_PLAIN);
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, sizeof(buf), NULL), -FC_DSEAL_E_LONG);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, n, n + FC_DSEAL_OVERHEAD - 1),
			 -FC_DSEAL_E_ROOM);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, FC_DGRAM_HEAD - 1, sizeof(buf)),
			 -FC_DSEAL_E_SHORT);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, FC_DGRAM_MAX_SIZE + 1, sizeof(buf)),
			 -FC_DSEAL_E_LONG);
	assert_int_equal(atomic_load(&snd.tx.next), 0);
	assert_true(fc_dseal_seal(&snd.tx, buf, n, sizeof(buf)) > 0);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, n + FC_DSEAL_OVERHEAD, sizeof(buf)),
			 -FC_DSEAL_E_SEALED);
	buf[1] = 'C';
	assert_int_equal(fc_dseal_open(&vwr.rx, buf, n + FC_DSEAL_OVERHEAD, NULL),
			 -FC_DSEAL_E_HEADER);
	assert_int_equal(fc_dseal_seal(&snd.tx, buf, n, sizeof(buf)), -FC_DSEAL_E_HEADER);
	assert_int_equal(atomic_load(&snd.tx.next), 1);
	for (int e = FC_DSEAL_E_SHORT; e <= FC_DSEAL_E_ROOM; e++)
		assert_string_not_equal(fc_dseal_strerror(-e), fc_dseal_strerror(0));
	assert_string_equal(fc_dseal_strerror(0), "unknown sealing error");
}

/* The transport's helpers: without a state a datagram goes and comes plain, always "newest";
 * with one it is sealed, opened, and only the highest number yet is newest (so only it may move
 * the peer's address); a refusal comes back with its reason. */
static void test_encode_and_receive(void **state)
{
	struct fc_dgram g = { .type = FC_DGRAM_T_GIVEUP, .conn = 7, .seq = 9, .u.reason = 1 };
	uint8_t a[64], b[64];
	size_t na, nb, n;
	bool newest = false;

	(void)state;
	na = fc_dseal_encode(NULL, &g, a, sizeof(a));
	assert_int_equal(na, FC_DGRAM_HEAD + 1);
	assert_int_equal(fc_dseal_receive(NULL, a, &na, &newest), 0);
	assert_true(newest);
	assert_int_equal(na, FC_DGRAM_HEAD + 1);
	assert_int_equal(fc_dseal_encode(&snd, &g, a, FC_DGRAM_HEAD + 1), 0); /* no room */
	na = fc_dseal_encode(&snd, &g, a, sizeof(a));
	nb = fc_dseal_encode(&snd, &g, b, sizeof(b));
	assert_int_equal(na, FC_DGRAM_HEAD + 1 + FC_DSEAL_OVERHEAD);
	n = nb;
	assert_int_equal(fc_dseal_receive(&vwr, b, &n, &newest), 0);
	assert_true(newest);
	assert_int_equal(n, FC_DGRAM_HEAD + 1);
	n = na;
	assert_int_equal(fc_dseal_receive(&vwr, a, &n, &newest), 0);
	assert_false(newest); /* number 0 after 1: taken, but not the newest */
	nb = fc_dseal_encode(&snd, &g, b, sizeof(b));
	memcpy(a, b, nb);
	n = nb;
	assert_int_equal(fc_dseal_receive(&vwr, a, &n, &newest), 0);
	n = nb;
	assert_int_equal(fc_dseal_receive(&vwr, b, &n, &newest), -FC_DSEAL_E_REPLAY);
	n = FC_DGRAM_HEAD + 1;
	assert_int_equal(fc_dseal_receive(&vwr, a, &n, &newest), -FC_DSEAL_E_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_keys, fresh),
		cmocka_unit_test_setup(test_round_trip, fresh),
		cmocka_unit_test_setup(test_every_bit_flip_refused, fresh),
		cmocka_unit_test_setup(test_every_prefix_refused, fresh),
		cmocka_unit_test_setup(test_replay_refused, fresh),
		cmocka_unit_test_setup(test_reorder_within_window_taken, fresh),
		cmocka_unit_test_setup(test_window_words_and_jumps, fresh),
		cmocka_unit_test_setup(test_window_far, fresh),
		cmocka_unit_test_setup(test_wrong_direction_refused, fresh),
		cmocka_unit_test_setup(test_forgery_moves_nothing, fresh),
		cmocka_unit_test_setup(test_numbers_spent_refuse_to_seal, fresh),
		cmocka_unit_test_setup(test_refusals_named, fresh),
		cmocka_unit_test_setup(test_encode_and_receive, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
