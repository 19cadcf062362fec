/*
 * secure: private streams. A passphrase both sides know becomes a key once, at start-up (Argon2id);
 * each connection proves, both ways, that the other side knows it and derives fresh keys of its
 * own; every message after that is sealed (ChaCha20-Poly1305, IETF) with a per-direction key and
 * an implicit counter nonce, so a message tampered with, replayed, reordered or dropped does not
 * open. docs/PROTOCOL.md has the bytes, docs/THREAT_MODEL.md what this protects and what not.
 *
 * Every primitive is libsodium's; nothing here is cryptography written by hand, only the order in
 * which libsodium's functions are called and what they are given.
 *
 * No sockets: the handshake works on the HELLOs' bytes and the proofs, sealing and opening on
 * caller-owned buffers, so all of it is unit-testable and a fuzz target (conn.c and hello.c do
 * the I/O). Never prints. The passphrase key lives in libsodium's guarded, locked memory
 * (sodium_malloc); a connection's keys are wiped by fc_secure_wipe. Thread-safe, but a
 * struct fc_secure_keys is one connection's and used by one thread at a time.
 */
#ifndef FC_SECURE_H
#define FC_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net.h"
#include "proto.h"

#define FC_SECURE_KEY_SIZE	   32
#define FC_SECURE_MAX_PASSPHRASE   1024			 /* bytes */
#define FC_SECURE_SHORT_PASSPHRASE 16			 /* fewer bytes get a warning */
#define FC_SECURE_ENV		   "FRESHCAM_PASSPHRASE" /* where a passphrase may come from */

/* Argon2id cost of turning the passphrase into its key, once per process (docs/THREAT_MODEL.md
 * has the measurements behind the choice): 3 passes over 128 MiB. */
#define FC_SECURE_PWHASH_OPS 3ULL
#define FC_SECURE_PWHASH_MEM (128u << 20)

/* The key derived from the passphrase. Opaque: it never leaves guarded memory. */
struct fc_secure_psk;

/* One connection's keys, from fc_secure_handshake. The proofs are for the handshake only. */
struct fc_secure_keys {
	uint8_t tx[FC_SECURE_KEY_SIZE]; /* seals what this side sends */
	uint8_t rx[FC_SECURE_KEY_SIZE]; /* opens what it receives */
	uint64_t tx_seq;		/* the next message's number, each way: the nonce */
	uint64_t rx_seq;
	uint8_t my_proof[FC_PROTO_PROOF_SIZE];	  /* what this side sends in its AUTH */
	uint8_t their_proof[FC_PROTO_PROOF_SIZE]; /* what the peer's AUTH must hold */
};

/* Initialises libsodium (idempotent, thread-safe). 0, or -1 with err. */
int fc_secure_init(char *err, size_t errlen);

/* Derives the passphrase key with the product's cost. NULL with err (out of memory, say). */
struct fc_secure_psk *fc_secure_psk_new(const char *pass, size_t len, char *err, size_t errlen);

/* The same with another Argon2id cost: for tests, which need not wait for the real one. */
struct fc_secure_psk *fc_secure_psk_new_cost(const char *pass, size_t len, unsigned long long ops,
					     size_t mem, char *err, size_t errlen);

void fc_secure_psk_free(struct fc_secure_psk *psk);

/*
 * The passphrase a program was given: from file (--passphrase-file; one trailing newline is not
 * part of it), else from the environment variable FC_SECURE_ENV. The variable's value is wiped
 * and the variable removed, so that child processes do not inherit it. The passphrase itself is
 * wiped once its key is derived. Refused: an empty passphrase, one over
 * FC_SECURE_MAX_PASSPHRASE bytes, a file every user may read. warn gets advice that is not an
 * error (a short passphrase, a file its group may read), or "".
 * Returns 1 with *out set, 0 when neither is given (*out NULL), -1 with err.
 */
int fc_secure_psk_load(const char *file, struct fc_secure_psk **out, char *warn, size_t warnlen,
		       char *err, size_t errlen);

/*
 * HTTP's key (docs/HTTP.md, "Who may watch"): PBKDF2-HMAC-SHA256 of the passphrase, because a
 * browser derives it too and WebCrypto has PBKDF2, not Argon2id. Kept apart from the viewer
 * port's Argon2id key: it opens HTTP only. The salt is fixed and published (GET /auth/challenge),
 * so that a token stays the same across restarts; the iterations make a browser take about 0.5 s.
 */
#define FC_SECURE_HTTP_SALT	  "freshcam 4 http token"
#define FC_SECURE_HTTP_ITERATIONS 600000u

/* PBKDF2-HMAC-SHA256 (RFC 8018) of pass with salt, one 32-byte block, from libsodium's HMAC. 0,
 * or -1 when len or iterations are out of bounds (0, or over FC_SECURE_MAX_PASSPHRASE). */
int fc_secure_http_key(const char *pass, size_t len, const char *salt, unsigned iterations,
		       uint8_t out[FC_SECURE_KEY_SIZE]);

/* fc_secure_psk_load, and when it returns 1 and http_key is not NULL, HTTP's key (with
 * FC_SECURE_HTTP_SALT and FC_SECURE_HTTP_ITERATIONS) in http_key, from the same passphrase. */
int fc_secure_psk_load_http(const char *file, struct fc_secure_psk **out, uint8_t *http_key,
			    char *warn, size_t warnlen, char *err, size_t errlen);

/* Fills a HELLO nonce with fresh random bytes. */
void fc_secure_nonce(uint8_t nonce[FC_PROTO_NONCE_SIZE]);

/*
 * Derives one connection's keys and both proofs from the passphrase key and the two HELLOs
 * exactly as they went over the wire (each carries its side's nonce, so both sides' fresh
 * randomness goes into every key). my_role (enum fc_role) picks which key is tx and which proof
 * is mine. 0, or -1 when a length is out of bounds.
 */
int fc_secure_handshake(const struct fc_secure_psk *psk, int my_role, const uint8_t *sender_hello,
			size_t sender_len, const uint8_t *viewer_hello, size_t viewer_len,
			struct fc_secure_keys *out);

/*
 * The keys of the UDP transport's sealed datagrams (common/dgram_seal.c, docs/UDP.md), one each
 * way, from the same seed as fc_secure_handshake's, given the same HELLOs: tx seals what this
 * side sends, rx opens what it receives. The caller wipes them. 0, or -1 as fc_secure_handshake.
 */
int fc_secure_dgram_keys(const struct fc_secure_psk *psk, int my_role, const uint8_t *sender_hello,
			 size_t sender_len, const uint8_t *viewer_hello, size_t viewer_len,
			 uint8_t tx[FC_SECURE_KEY_SIZE], uint8_t rx[FC_SECURE_KEY_SIZE]);

/* Whether the peer's AUTH proof is the one expected (compared in constant time). */
bool fc_secure_proof_ok(const struct fc_secure_keys *k, const uint8_t proof[FC_PROTO_PROOF_SIZE]);

/*
 * Seals the message at rec + FC_PROTO_HEADER_SIZE (msg_len bytes, one whole encoded message) in
 * place: writes the SEALED header at rec, encrypts the message where it is, and appends the tag.
 * cap is rec's size. Returns the record's size (msg_len + FC_PROTO_SEAL_OVERHEAD), or 0 when it
 * does not fit, msg_len is out of bounds, or the counter is spent.
 */
size_t fc_secure_seal(struct fc_secure_keys *k, uint8_t *rec, size_t msg_len, size_t cap);

/*
 * Opens a whole SEALED record (header included, as the decoder delimited it) in place. Returns the
 * length of the message now at rec + FC_PROTO_HEADER_SIZE, or -1 when the record does not
 * authenticate as the next message from the peer (libsodium then zeroes the ciphertext, so that
 * nothing unauthenticated is ever read as plaintext).
 */
ssize_t fc_secure_open(struct fc_secure_keys *k, uint8_t *rec, size_t rec_len);

/* Wipes keys and proofs. */
void fc_secure_wipe(struct fc_secure_keys *k);

/* Whether listening on host (as fc_net_parse_addr gives it; "" = every address) lets other
 * machines reach the stream: anything but a loopback address or "localhost". */
bool fc_secure_exposed(const char *host);

/* The warning for a side listening on addr without a passphrase, in buf: what anyone who can
 * reach the port may then do (risk: "anyone who can reach this port can watch the stream"), and
 * what to do about it. false, and buf empty, when addr is not exposed (fc_secure_exposed). */
bool fc_secure_exposed_warning(const struct fc_addr *addr, const char *risk, char *buf, size_t len);

#endif
