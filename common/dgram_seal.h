/*
 * dgram_seal: private streams over the UDP transport (docs/UDP.md, "Private streams over UDP"):
 * a datagram as dgram.c encodes it, sealed with IETF ChaCha20-Poly1305 under its direction's key
 * (fc_secure_dgram_keys), and opened again, each packet number taken at most once.
 *
 *   | the 16-byte header, type | 0x80 | packet number u64 | the rest, encrypted | tag (16) |
 *    \______ associated data: authenticated, in the clear ______/
 *
 * Datagrams may be lost, reordered or duplicated, so unlike a SEALED record over TCP the nonce is
 * sent: 4 zero bytes and the packet number, which counts from 0 each way and is never reused (a
 * side whose numbers are spent stops sealing). The receiver authenticates a datagram before it
 * looks at anything but the header and the number, and only then checks the number against a
 * window of the last FC_DSEAL_WINDOW: a number seen is a replay, one older than the window is
 * refused, one within it is taken (reordering), and only an opened datagram moves the window, so
 * a forgery can neither push genuine datagrams out of it nor spend a number.
 *
 * Pure: no sockets, no clock, no allocation; nothing is cryptography written by hand, only
 * libsodium's AEAD called in the right order. The caller owns the state (keys included: wipe it
 * with fc_dseal_wipe) and every buffer. Threads: sealing may be called from several threads at
 * once on one struct fc_dseal_tx (the packet number is claimed atomically, so no two datagrams
 * ever share a nonce); a struct fc_dseal_rx is one receiving thread's.
 */
#ifndef FC_DGRAM_SEAL_H
#define FC_DGRAM_SEAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dgram.h"

#define FC_DSEAL_KEY_SIZE 32
#define FC_DSEAL_PN_SIZE  8  /* the packet number, after the header */
#define FC_DSEAL_TAG_SIZE 16 /* Poly1305's tag, at the end */
#define FC_DSEAL_OVERHEAD (FC_DSEAL_PN_SIZE + FC_DSEAL_TAG_SIZE) /* 24 bytes more */
/* The type of a sealed datagram is its plain type with this bit: so a receiver without keys
 * refuses it as an unknown type (dgram.c's decoder), and a receiver with keys refuses a plain
 * one before any cryptography. Plain types stay below it. */
#define FC_DSEAL_TYPE_BIT 0x80
/* A sealed stream's chunk size: its datagrams, 24 bytes longer, stay within the 1232 bytes of
 * UDP payload every IPv6 path carries (1176 + 30 + 24 = 1230), as plain ones do at 1200. */
#define FC_DSEAL_CHUNK (FC_DGRAM_CHUNK - FC_DSEAL_OVERHEAD)
/* And its largest: a jumbo frame's 8952 bytes of UDP payload over IPv6 (9000 - 40 - 8) hold a
 * plain chunk of FC_DGRAM_MAX_CHUNK with its header, but not 24 bytes more. */
#define FC_DSEAL_MAX_CHUNK (FC_DGRAM_MAX_CHUNK - FC_DSEAL_OVERHEAD)
#define FC_DSEAL_MIN_SIZE  (FC_DGRAM_HEAD + FC_DSEAL_OVERHEAD)	   /* a sealed empty body */
#define FC_DSEAL_MAX_SIZE  (FC_DGRAM_MAX_SIZE + FC_DSEAL_OVERHEAD) /* the largest sealed one */
/* Packet numbers the receiver remembers, back from the highest it took (as DTLS and QUIC do).
 * At 2,500 datagrams a second (1280x720 at 30 fps) that is 400 ms of reordering, far past any
 * budget; the 1,024 are in 17 words of 64 bits, as a ring (RFC 6479), so that the window moves
 * without shifting bits. */
#define FC_DSEAL_WINDOW 1024
#define FC_DSEAL_WORDS	(FC_DSEAL_WINDOW / 64 + 1)

/* Why a datagram is not sealed or not opened: negated, from fc_dseal_seal and fc_dseal_open. */
enum fc_dseal_error {
	FC_DSEAL_E_SHORT = 1,  /* shorter than a (sealed) datagram's header */
	FC_DSEAL_E_LONG = 2,   /* longer than the largest (sealed) datagram */
	FC_DSEAL_E_HEADER = 3, /* not a freshcam datagram of this layout (magic, version) */
	FC_DSEAL_E_PLAIN = 4,  /* open: not sealed, on a connection whose datagrams must be */
	FC_DSEAL_E_SEALED = 5, /* seal: already sealed (its type has FC_DSEAL_TYPE_BIT) */
	FC_DSEAL_E_OPEN = 6,   /* does not authenticate: forged, changed, cut, or another key's */
	FC_DSEAL_E_REPLAY = 7, /* its packet number was taken already */
	FC_DSEAL_E_OLD = 8,    /* its packet number is older than the window */
	FC_DSEAL_E_SPENT = 9,  /* seal: this direction's packet numbers are spent */
	FC_DSEAL_E_ROOM = 10,  /* seal: the buffer has no room for the 24 bytes more */
};

/* What this side sends. */
struct fc_dseal_tx {
	uint8_t key[FC_DSEAL_KEY_SIZE];
	_Atomic uint64_t next; /* the next packet number; UINT64_MAX: spent, never used */
};

/* What it receives: the key and the window. */
struct fc_dseal_rx {
	uint8_t key[FC_DSEAL_KEY_SIZE];
	uint64_t top;		       /* the highest packet number taken, once any is */
	bool any;		       /* whether one was */
	uint64_t seen[FC_DSEAL_WORDS]; /* bit pn % 64 of word (pn / 64) % FC_DSEAL_WORDS: taken */
};

/* One connection's sealing, both ways. */
struct fc_dseal {
	struct fc_dseal_tx tx;
	struct fc_dseal_rx rx;
};

/* Sets s up with this side's keys (fc_secure_dgram_keys, which libsodium was initialised for:
 * fc_secure_init): numbers from 0, an empty window. */
void fc_dseal_init(struct fc_dseal *s, const uint8_t tx_key[FC_DSEAL_KEY_SIZE],
		   const uint8_t rx_key[FC_DSEAL_KEY_SIZE]);

/* Wipes the keys and the state. */
void fc_dseal_wipe(struct fc_dseal *s);

/*
 * Seals the plain datagram buf[0..len) (as fc_dgram_encode wrote it) in place under the next
 * packet number. cap is buf's size. Returns the sealed datagram's length, len +
 * FC_DSEAL_OVERHEAD, or a negated enum fc_dseal_error (nothing sealed, no number spent). Only the
 * header is checked: the caller seals what its own encoder made.
 */
ssize_t fc_dseal_seal(struct fc_dseal_tx *tx, uint8_t *buf, size_t len, size_t cap);

/* The same into out[0..cap), which must not overlap in[0..len): for a datagram kept plain (a
 * chunk a NACK asks for again is sealed afresh, under a new number). */
ssize_t fc_dseal_seal_to(struct fc_dseal_tx *tx, const uint8_t *in, size_t len, uint8_t *out,
			 size_t cap);

/*
 * Opens the sealed datagram buf[0..len) in place: on success buf[0..returned) is the plain
 * datagram, for fc_dgram_decode, and *pn (when pn is not NULL) its packet number. Otherwise a
 * negated enum fc_dseal_error; the window is then unchanged, and what buf holds past the header is
 * not to be read. A datagram that does not open is the caller's to count and drop: anyone can
 * send one, so it never ends a connection.
 */
ssize_t fc_dseal_open(struct fc_dseal_rx *rx, uint8_t *buf, size_t len, uint64_t *pn);

/* For the transport's two sides, which may or may not seal (a private stream or not): encodes
 * d (fc_dgram_encode) into buf[0..cap) and, with s not NULL, seals it. The bytes to send, or 0
 * when d does not encode or fit, or this direction's numbers are spent. */
size_t fc_dseal_encode(struct fc_dseal *s, const struct fc_dgram *d, uint8_t *buf, size_t cap);

/* Takes the datagram buf[0..*len) as it came: with s not NULL, opened in place (fc_dseal_open;
 * *len becomes the plain datagram's length), *newest saying whether its number is the highest
 * taken yet; without s, as it is, *newest true. Only a newest datagram may move where the peer
 * is thought to be (a NAT's rebinding): an older one may be a copy sent from elsewhere first.
 * 0, or a negated enum fc_dseal_error. */
int fc_dseal_receive(struct fc_dseal *s, uint8_t *buf, size_t *len, bool *newest);

const char *fc_dseal_strerror(int error);

#endif
