/* dgram_seal: sealed datagrams of private streams over UDP (dgram_seal.h, docs/UDP.md). */
#include "dgram_seal.h"

#include <sodium.h>
#include <string.h>

/* A datagram's first bytes, as dgram.c writes them: looked at before any cryptography, so that
 * what is not ours costs no AEAD and is counted for what it is. */
#define MAGIC0 0x46 /* 'F' */
#define MAGIC1 0x44 /* 'D' */

#define NONCE_SIZE crypto_aead_chacha20poly1305_IETF_NPUBBYTES
#define AD_SIZE	   (FC_DGRAM_HEAD + FC_DSEAL_PN_SIZE) /* the header and the packet number */

_Static_assert(FC_DSEAL_KEY_SIZE == crypto_aead_chacha20poly1305_IETF_KEYBYTES, "key size");
_Static_assert(FC_DSEAL_TAG_SIZE == crypto_aead_chacha20poly1305_IETF_ABYTES, "tag size");
_Static_assert(FC_DGRAM_T_CHUNK < FC_DSEAL_TYPE_BIT && FC_DGRAM_T_GIVEUP < FC_DSEAL_TYPE_BIT,
	       "plain types stay below the sealed bit");

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The nonce of packet number pn: 4 zero bytes and the number, as for SEALED over TCP (whose
 * numbers run under other keys, so the two never meet). */
static void pn_nonce(uint64_t pn, uint8_t nonce[NONCE_SIZE])
{
	memset(nonce, 0, NONCE_SIZE - 8);
	put64(nonce + NONCE_SIZE - 8, pn);
}

void fc_dseal_init(struct fc_dseal *s, const uint8_t tx_key[FC_DSEAL_KEY_SIZE],
		   const uint8_t rx_key[FC_DSEAL_KEY_SIZE])
{
	memset(s, 0, sizeof(*s));
	memcpy(s->tx.key, tx_key, FC_DSEAL_KEY_SIZE);
	memcpy(s->rx.key, rx_key, FC_DSEAL_KEY_SIZE);
	atomic_init(&s->tx.next, 0);
}

void fc_dseal_wipe(struct fc_dseal *s)
{
	sodium_memzero(s, sizeof(*s));
}

/* Whether in[0..len) is a plain datagram this side may seal into cap bytes. */
static int check_plain(const uint8_t *in, size_t len, size_t cap)
{
	if (len < FC_DGRAM_HEAD)
		return -FC_DSEAL_E_SHORT;
	if (len > FC_DGRAM_MAX_SIZE)
		return -FC_DSEAL_E_LONG;
	if (in[0] != MAGIC0 || in[1] != MAGIC1 || in[2] != FC_DGRAM_VERSION)
		return -FC_DSEAL_E_HEADER;
	if (in[3] & FC_DSEAL_TYPE_BIT)
		return -FC_DSEAL_E_SEALED;
	return cap >= len + FC_DSEAL_OVERHEAD ? 0 : -FC_DSEAL_E_ROOM;
}

/* Claims the next packet number: atomically, so that two threads sealing at once never share a
 * nonce. false when they are spent (the last, UINT64_MAX, is never used: nothing wraps). */
static bool claim(struct fc_dseal_tx *tx, uint64_t *pn)
{
	uint64_t n = atomic_load(&tx->next);

	do {
		if (n == UINT64_MAX)
			return false;
	} while (!atomic_compare_exchange_weak(&tx->next, &n, n + 1));
	*pn = n;
	return true;
}

/* out[0..FC_DGRAM_HEAD) holds the plain header: marks it sealed, writes pn after it, and the
 * encrypted body (from body_in, which may be out + AD_SIZE itself) and the tag after that. */
static ssize_t seal_at(const struct fc_dseal_tx *tx, uint64_t pn, uint8_t *out,
		       const uint8_t *body_in, size_t body)
{
	uint8_t nonce[NONCE_SIZE];

	out[3] |= FC_DSEAL_TYPE_BIT;
	put64(out + FC_DGRAM_HEAD, pn);
	pn_nonce(pn, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out + AD_SIZE, out + AD_SIZE + body,
							   NULL, body_in, body, out, AD_SIZE, NULL,
							   nonce, tx->key);
	return (ssize_t)(AD_SIZE + body + FC_DSEAL_TAG_SIZE);
}

ssize_t fc_dseal_seal(struct fc_dseal_tx *tx, uint8_t *buf, size_t len, size_t cap)
{
	int r = check_plain(buf, len, cap);
	uint64_t pn;

	if (r < 0)
		return r;
	if (!claim(tx, &pn))
		return -FC_DSEAL_E_SPENT;
	memmove(buf + AD_SIZE, buf + FC_DGRAM_HEAD, len - FC_DGRAM_HEAD);
	return seal_at(tx, pn, buf, buf + AD_SIZE, len - FC_DGRAM_HEAD);
}

ssize_t fc_dseal_seal_to(struct fc_dseal_tx *tx, const uint8_t *in, size_t len, uint8_t *out,
			 size_t cap)
{
	int r = check_plain(in, len, cap);
	uint64_t pn;

	if (r < 0)
		return r;
	if (!claim(tx, &pn))
		return -FC_DSEAL_E_SPENT;
	memcpy(out, in, FC_DGRAM_HEAD);
	return seal_at(tx, pn, out, in + FC_DGRAM_HEAD, len - FC_DGRAM_HEAD);
}

/* Moves the window's top up to pn: the words of the 64-number blocks it enters are cleared for
 * their new numbers (RFC 6479's ring), all of them after a jump past the whole window. */
static void advance(struct fc_dseal_rx *rx, uint64_t pn)
{
	uint64_t last = rx->top / 64, block = pn / 64;

	if (!rx->any || block - last >= FC_DSEAL_WORDS)
		memset(rx->seen, 0, sizeof(rx->seen));
	else
		for (uint64_t b = last + 1; b <= block; b++)
			rx->seen[b % FC_DSEAL_WORDS] = 0;
	rx->top = pn;
	rx->any = true;
}

/* Takes packet number pn, of a datagram that opened, at most once. 0, or why not. The words
 * hold blocks top / 64 - 16 .. top / 64, which include every number less than
 * FC_DSEAL_WINDOW below the top. */
static int take(struct fc_dseal_rx *rx, uint64_t pn)
{
	uint64_t bit = 1ull << (pn % 64);
	uint64_t *word = &rx->seen[(pn / 64) % FC_DSEAL_WORDS];

	if (!rx->any || pn > rx->top)
		advance(rx, pn);
	else if (rx->top - pn >= FC_DSEAL_WINDOW)
		return -FC_DSEAL_E_OLD;
	else if (*word & bit)
		return -FC_DSEAL_E_REPLAY;
	*word |= bit;
	return 0;
}

/* Whether buf[0..len) may be a sealed datagram at all: length, magic, version, the sealed bit. */
static int check_sealed(const uint8_t *buf, size_t len)
{
	if (len < FC_DSEAL_MIN_SIZE)
		return -FC_DSEAL_E_SHORT;
	if (len > FC_DSEAL_MAX_SIZE)
		return -FC_DSEAL_E_LONG;
	if (buf[0] != MAGIC0 || buf[1] != MAGIC1 || buf[2] != FC_DGRAM_VERSION)
		return -FC_DSEAL_E_HEADER;
	return buf[3] & FC_DSEAL_TYPE_BIT ? 0 : -FC_DSEAL_E_PLAIN;
}

ssize_t fc_dseal_open(struct fc_dseal_rx *rx, uint8_t *buf, size_t len, uint64_t *pn)
{
	uint8_t nonce[NONCE_SIZE];
	int r = check_sealed(buf, len);
	uint64_t number;
	size_t body;

	if (r < 0)
		return r;
	number = get64(buf + FC_DGRAM_HEAD);
	body = len - FC_DSEAL_MIN_SIZE;
	pn_nonce(number, nonce);
	/* Authenticated first (libsodium checks the tag before it decrypts, and zeroes the body
	 * when it fails); the number is trusted, and the window moved, only after. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf + AD_SIZE, NULL, buf + AD_SIZE,
							       body, buf + AD_SIZE + body, buf,
							       AD_SIZE, nonce, rx->key) != 0)
		return -FC_DSEAL_E_OPEN;
	r = take(rx, number);
	if (r < 0)
		return r;
	memmove(buf + FC_DGRAM_HEAD, buf + AD_SIZE, body);
	buf[3] &= (uint8_t)~FC_DSEAL_TYPE_BIT;
	if (pn)
		*pn = number;
	return (ssize_t)(FC_DGRAM_HEAD + body);
}

size_t fc_dseal_encode(struct fc_dseal *s, const struct fc_dgram *d, uint8_t *buf, size_t cap)
{
	size_t n = fc_dgram_encode(d, buf, cap);
	ssize_t sealed;

	if (n == 0 || !s)
		return n;
	sealed = fc_dseal_seal(&s->tx, buf, n, cap);
	return sealed > 0 ? (size_t)sealed : 0;
}

int fc_dseal_receive(struct fc_dseal *s, uint8_t *buf, size_t *len, bool *newest)
{
	uint64_t pn;
	ssize_t n;

	*newest = true;
	if (!s)
		return 0;
	n = fc_dseal_open(&s->rx, buf, *len, &pn);
	if (n < 0)
		return (int)n;
	*len = (size_t)n;
	*newest = pn == s->rx.top;
	return 0;
}

const char *fc_dseal_strerror(int error)
{
	static const char *const why[] = {
		[FC_DSEAL_E_SHORT] = "datagram shorter than a sealed datagram's header",
		[FC_DSEAL_E_LONG] = "datagram longer than the largest sealed datagram",
		[FC_DSEAL_E_HEADER] = "not a freshcam datagram (bad magic or version)",
		[FC_DSEAL_E_PLAIN] = "unsealed datagram on a private stream",
		[FC_DSEAL_E_SEALED] = "datagram already sealed",
		[FC_DSEAL_E_OPEN] =
		    "sealed datagram does not authenticate (forged, changed, cut, or "
		    "sealed with another key)",
		[FC_DSEAL_E_REPLAY] = "sealed datagram replayed (packet number already taken)",
		[FC_DSEAL_E_OLD] = "sealed datagram older than the replay window",
		[FC_DSEAL_E_SPENT] = "packet numbers spent: the connection must end",
		[FC_DSEAL_E_ROOM] = "no room for the sealed datagram",
	};
	int e = error < 0 ? -error : error;

	return e > 0 && e <= FC_DSEAL_E_ROOM ? why[e] : "unknown sealing error";
}
