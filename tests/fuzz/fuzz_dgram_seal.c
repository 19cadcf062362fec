/*
 * Fuzz target for sealed datagrams (common/dgram_seal.c, with secure.c's fc_secure_dgram_keys):
 * a sender seals datagrams, a viewer opens what it is given, which the input decides. The input
 * is a little program:
 *   0x00-0x7f  seal the next op+1 bytes as a datagram: the first is its type, the rest its body,
 *              after a header of conn 7, seq 1 (a type with the sealed bit must be refused, and
 *              spend no number); kept, not delivered
 *   0x80 k     deliver kept datagram k (mod how many) as it is (and first, every time, its
 *              prefix one byte short, which must be refused)
 *   0x81 k i x deliver it with byte i (mod its length) xored with x (0: 1)
 *   0x82 k i   deliver its first i bytes (mod its length)
 *   0x83 a b   the sender skips a * 256 + b + 1 numbers (datagrams lost on the way)
 *   0x84 k     deliver its plaintext sealed by the viewer itself (reflected): refused
 *   0x85 n     deliver the next n bytes as they are (a stranger's datagram)
 *   0x86 i     seal chunk i (mod 3) of a frame, cut at FC_DSEAL_CHUNK, as dgram.c encodes it
 *   0x87       the sender's next number is 2^64 - 2 (if it is below): one more seal, then none
 *   others     nothing
 * What must hold, beyond never a crash or a read past a buffer: a datagram opens only as the
 * very plaintext sealed under its number, each number at most once, and an untouched datagram
 * opens exactly when a model of the window (the numbers taken, the highest) says it may; a
 * refused one changes nothing; what opens from a chunk decodes (dgram.c) as it did plain.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/dgram_seal as an
 * ordinary ctest case otherwise (replay.c). Seeds: tests/fuzz/seeds.c (dseal_seeds).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dgramtest.h"
#include "dgram_seal.h"
#include "secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEPT	  256
#define MAX_PLAIN (FC_DGRAM_HEAD + FC_DSEAL_CHUNK + 14)
#define TOTAL	  3000

struct kept {
	uint8_t plain[MAX_PLAIN];
	uint8_t sealed[MAX_PLAIN + FC_DSEAL_OVERHEAD];
	size_t plain_len;
	uint64_t pn;
	bool taken;
};

static struct fc_secure_psk *psk;
static struct kept kept[KEPT];
static size_t nkept;
static struct fc_dseal snd, vwr;

static void init(void)
{
	static const uint8_t sh[] = "sender HELLO", vh[] = "viewer HELLO";
	uint8_t tx[FC_SECURE_KEY_SIZE], rx[FC_SECURE_KEY_SIZE];
	char err[256];

	if (!psk)
		psk = fc_secure_psk_new_cost("fuzz", 4, 1, 8192, err, sizeof(err));
	if (!psk ||
	    fc_secure_dgram_keys(psk, FC_ROLE_SENDER, sh, sizeof(sh), vh, sizeof(vh), tx, rx) < 0)
		abort();
	fc_dseal_init(&snd, tx, rx);
	if (fc_secure_dgram_keys(psk, FC_ROLE_VIEWER, sh, sizeof(sh), vh, sizeof(vh), tx, rx) < 0)
		abort();
	fc_dseal_init(&vwr, tx, rx);
	nkept = 0;
}

/* Seals plain[0..n) as the sender and keeps it. */
static void seal(const uint8_t *plain, size_t n)
{
	struct kept *k = &kept[nkept];
	uint64_t before = atomic_load(&snd.tx.next);
	ssize_t s;

	if (nkept == KEPT || n > MAX_PLAIN)
		return;
	memcpy(k->plain, plain, n);
	k->plain_len = n;
	memcpy(k->sealed, plain, n);
	s = nkept % 2 ? fc_dseal_seal(&snd.tx, k->sealed, n, sizeof(k->sealed))
		      : fc_dseal_seal_to(&snd.tx, plain, n, k->sealed, sizeof(k->sealed));
	if (plain[3] & FC_DSEAL_TYPE_BIT || before == UINT64_MAX) {
		if (s >= 0 || atomic_load(&snd.tx.next) != before)
			abort();
		return;
	}
	if (s != (ssize_t)(n + FC_DSEAL_OVERHEAD) || atomic_load(&snd.tx.next) != before + 1)
		abort();
	k->pn = before;
	k->taken = false;
	nkept++;
}

static void seal_body(const uint8_t *p, size_t n)
{
	uint8_t plain[MAX_PLAIN] = { 'F', 'D', FC_DGRAM_VERSION, p[0], 0, 0, 0, 7 };

	plain[FC_DGRAM_HEAD - 1] = 1;
	memcpy(plain + FC_DGRAM_HEAD, p + 1, n - 1);
	seal(plain, FC_DGRAM_HEAD + n - 1);
}

static void seal_chunk(uint16_t i)
{
	static uint8_t frame[TOTAL];
	struct fc_frame_msg f = { .id = 1, .t0_ns = 1000000000, .seq = 5 };
	uint8_t plain[MAX_PLAIN];
	struct fc_dgram d;
	uint32_t off = i * (uint32_t)FC_DSEAL_CHUNK;

	if (fc_test_dgram_frame(frame, TOTAL, f) < 0)
		abort();
	d = fc_test_dgram_chunk(frame, TOTAL, 5, 0);
	d.u.chunk =
	    (struct fc_dgram_chunk){ .index = i,
				     .count = (uint16_t)fc_dgram_count(TOTAL, FC_DSEAL_CHUNK),
				     .total = TOTAL,
				     .offset = off,
				     .chunk_size = FC_DSEAL_CHUNK,
				     .data = frame + off,
				     .size = TOTAL - off < FC_DSEAL_CHUNK ? TOTAL - off
									  : FC_DSEAL_CHUNK };
	if (fc_dgram_encode(&d, plain, sizeof(plain)) == 0)
		abort();
	seal(plain, FC_DGRAM_CHUNK_HEAD + d.u.chunk.size);
}

/* Whether the model lets kept datagram k's number be taken now. */
static int model(const struct kept *k)
{
	uint64_t top = 0;
	bool any = false;

	for (size_t i = 0; i < nkept; i++)
		if (kept[i].taken) {
			top = any && top > kept[i].pn ? top : kept[i].pn;
			any = true;
		}
	if (any && k->pn < top && top - k->pn >= FC_DSEAL_WINDOW)
		return -FC_DSEAL_E_OLD;
	return k->taken ? -FC_DSEAL_E_REPLAY : 0;
}

/* Gives the viewer buf[0..n); untouched: it is kept datagram k as sealed. */
static void deliver(uint8_t *buf, size_t n, const struct kept *untouched)
{
	struct fc_dgram plain, back;
	uint64_t pn = 0;
	ssize_t got = fc_dseal_open(&vwr.rx, buf, n, &pn);
	struct kept *k = NULL;

	for (size_t i = 0; i < nkept && got >= 0; i++)
		if (kept[i].pn == pn)
			k = &kept[i];
	if (untouched && (got >= 0) != (model(untouched) == 0))
		abort();
	if (untouched && got < 0 && got != model(untouched))
		abort();
	if (got < 0)
		return;
	/* Only what was sealed under that number, once, and when the window allows. */
	if (!k || model(k) != 0 || (size_t)got != k->plain_len ||
	    memcmp(buf, k->plain, k->plain_len))
		abort();
	k->taken = true;
	if (fc_dgram_decode(k->plain, k->plain_len, &plain) !=
	    fc_dgram_decode(buf, (size_t)got, &back))
		abort();
}

static void deliver_kept(const struct kept *k, int how, size_t at, uint8_t x)
{
	static uint8_t buf[MAX_PLAIN + FC_DSEAL_OVERHEAD];
	size_t n = k->plain_len + FC_DSEAL_OVERHEAD;

	memcpy(buf, k->sealed, n);
	if (how == 0) {
		deliver(buf, n - 1,
			NULL); /* a truncated datagram never opens: checked in deliver */
		memcpy(buf, k->sealed, n);
		deliver(buf, n, k);
	} else if (how == 1) {
		buf[at % n] ^= x ? x : 1;
		deliver(buf, n, NULL);
	} else {
		deliver(buf, at % n, NULL);
	}
}

/* The viewer's own sealing of k's plaintext, given back to it: another direction's key. */
static void reflect(const struct kept *k)
{
	uint8_t buf[MAX_PLAIN + FC_DSEAL_OVERHEAD];
	ssize_t s = fc_dseal_seal_to(&vwr.tx, k->plain, k->plain_len, buf, sizeof(buf));

	if (s > 0 && fc_dseal_open(&vwr.rx, buf, (size_t)s, NULL) != -FC_DSEAL_E_OPEN)
		abort();
}

/* Runs one op at data[*i]; false when the input is spent. */
static bool step(const uint8_t *data, size_t size, size_t *i)
{
	uint8_t op = data[(*i)++];
	size_t left = size - *i;
	const struct kept *k = nkept && left ? &kept[data[*i] % nkept] : NULL;

	if (op < 0x80) {
		size_t n = (size_t)op + 1 < left ? (size_t)op + 1 : left;

		if (n)
			seal_body(data + *i, n);
		*i += n;
	} else if (op == 0x80 || op == 0x84) {
		if (k && op == 0x80)
			deliver_kept(k, 0, 0, 0);
		else if (k)
			reflect(k);
		*i += left ? 1 : 0;
	} else if (op == 0x81 || op == 0x82) {
		if (left < (op == 0x81 ? 3u : 2u))
			return false;
		if (k)
			deliver_kept(k, op - 0x80, data[*i + 1], op == 0x81 ? data[*i + 2] : 0);
		*i += op == 0x81 ? 3 : 2;
	} else if (op == 0x83) {
		if (left < 2)
			return false;
		uint64_t next = atomic_load(&snd.tx.next);

		/* Never past the end: a sealer never wraps, this program must not make it. */
		if (next < UINT64_MAX - 65537)
			atomic_store(&snd.tx.next, next + data[*i] * 256u + data[*i + 1] + 1);
		*i += 2;
	} else if (op == 0x85) {
		static uint8_t buf[FC_DSEAL_MAX_SIZE];
		size_t n;

		if (!left)
			return false;
		n = data[*i] < left - 1 ? data[*i] : left - 1;
		memcpy(buf, data + *i + 1, n);
		deliver(buf, n, NULL);
		*i += 1 + n;
	} else if (op == 0x86) {
		seal_chunk(left ? data[*i] % 3 : 0);
		*i += left ? 1 : 0;
	} else if (op == 0x87) {
		/* Forward only: a number never comes twice. */
		if (atomic_load(&snd.tx.next) < UINT64_MAX - 1)
			atomic_store(&snd.tx.next, UINT64_MAX - 1);
	}
	return *i < size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;

	init();
	while (i < size && step(data, size, &i))
		;
	fc_dseal_wipe(&snd);
	fc_dseal_wipe(&vwr);
	return 0;
}
