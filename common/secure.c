#include "secure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Labels: every hash and key is bound to its purpose and to this protocol version, so no value
 * of one kind can stand in for another, or for the same thing in another version. */
#define SALT_LABEL	 "freshcam 2 passphrase salt"
#define TRANSCRIPT_LABEL "freshcam 2 handshake"
#define KDF_CONTEXT	 "fc2keys_" /* crypto_kdf_CONTEXTBYTES (8) */

/* Subkeys of one connection's seed (crypto_kdf ids). */
enum { KEY_S2V = 1, KEY_V2S = 2, KEY_SENDER_PROOF = 3, KEY_VIEWER_PROOF = 4 };
/* And of the UDP transport's sealed datagrams, one key each way (docs/UDP.md). */
enum { KEY_DGRAM_S2V = 5, KEY_DGRAM_V2S = 6 };

struct fc_secure_psk {
	uint8_t key[FC_SECURE_KEY_SIZE];
};

int fc_secure_init(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	return 0;
}

struct fc_secure_psk *fc_secure_psk_new_cost(const char *pass, size_t len, unsigned long long ops,
					     size_t mem, char *err, size_t errlen)
{
	uint8_t salt[crypto_pwhash_SALTBYTES];
	struct fc_secure_psk *psk;

	if (fc_secure_init(err, errlen) < 0)
		return NULL;
	if (len == 0 || len > FC_SECURE_MAX_PASSPHRASE) {
		snprintf(err, errlen, "a passphrase must have 1 to %d bytes",
			 FC_SECURE_MAX_PASSPHRASE);
		return NULL;
	}
	psk = sodium_malloc(sizeof(*psk));
	if (!psk) {
		snprintf(err, errlen, "out of memory for the passphrase key");
		return NULL;
	}
	/* A fixed, versioned salt: both sides must derive the same key without talking, and once
	 * per process, not per connection (docs/THREAT_MODEL.md weighs this). */
	crypto_generichash(salt, sizeof(salt), (const uint8_t *)SALT_LABEL, strlen(SALT_LABEL),
			   NULL, 0);
	if (crypto_pwhash(psk->key, sizeof(psk->key), pass, len, salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		snprintf(err, errlen, "cannot derive the passphrase key: Argon2id needs %zu MiB",
			 mem >> 20);
		sodium_free(psk);
		return NULL;
	}
	sodium_mprotect_readonly(psk);
	return psk;
}

struct fc_secure_psk *fc_secure_psk_new(const char *pass, size_t len, char *err, size_t errlen)
{
	return fc_secure_psk_new_cost(pass, len, FC_SECURE_PWHASH_OPS, FC_SECURE_PWHASH_MEM, err,
				      errlen);
}

void fc_secure_psk_free(struct fc_secure_psk *psk)
{
	if (psk)
		sodium_free(psk); /* zeroes it */
}

/* Reads a passphrase file into pass (FC_SECURE_MAX_PASSPHRASE + 2 bytes). Returns its length
 * without one trailing newline, or -1 with err. */
static long read_passphrase_file(const char *file, char *pass, char *warn, size_t warnlen,
				 char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "--passphrase-file %s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_mode & S_IROTH) {
			snprintf(err, errlen,
				 "--passphrase-file %s: every user may read it (mode %04o); "
				 "'chmod 600 %s' first",
				 file, (unsigned)(st.st_mode & 07777), file);
			close(fd);
			return -1;
		}
		if (st.st_mode & (S_IRGRP | S_IWGRP | S_IWOTH))
			snprintf(warn, warnlen,
				 "--passphrase-file %s: others may read or change it (mode %04o); "
				 "'chmod 600 %s' is safer",
				 file, (unsigned)(st.st_mode & 07777), file);
	}
	for (;;) {
		ssize_t r = read(fd, pass + len, FC_SECURE_MAX_PASSPHRASE + 2 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "--passphrase-file %s: %s", file, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)r;
		if (r == 0 || len == FC_SECURE_MAX_PASSPHRASE + 2)
			break;
	}
	close(fd);
	if (len > 0 && pass[len - 1] == '\n')
		len--;
	if (len > 0 && pass[len - 1] == '\r')
		len--;
	if (len > FC_SECURE_MAX_PASSPHRASE) {
		snprintf(err, errlen, "--passphrase-file %s: longer than %d bytes", file,
			 FC_SECURE_MAX_PASSPHRASE);
		return -1;
	}
	if (len == 0) {
		snprintf(err, errlen, "--passphrase-file %s: the passphrase is empty", file);
		return -1;
	}
	return (long)len;
}

int fc_secure_http_key(const char *pass, size_t len, const char *salt, unsigned iterations,
		       uint8_t out[FC_SECURE_KEY_SIZE])
{
	static const uint8_t block1[4] = { 0, 0, 0, 1 };
	crypto_auth_hmacsha256_state keyed, st;
	uint8_t u[crypto_auth_hmacsha256_BYTES];

	if (len == 0 || len > FC_SECURE_MAX_PASSPHRASE || iterations == 0 || sodium_init() < 0)
		return -1;
	/* The keyed state once, copied for each of the iterations: half the hashing. */
	crypto_auth_hmacsha256_init(&keyed, (const uint8_t *)pass, len);
	st = keyed;
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)salt, strlen(salt));
	crypto_auth_hmacsha256_update(&st, block1, sizeof(block1));
	crypto_auth_hmacsha256_final(&st, u);
	memcpy(out, u, FC_SECURE_KEY_SIZE);
	for (unsigned i = 1; i < iterations; i++) {
		st = keyed;
		crypto_auth_hmacsha256_update(&st, u, sizeof(u));
		crypto_auth_hmacsha256_final(&st, u);
		for (size_t b = 0; b < FC_SECURE_KEY_SIZE; b++)
			out[b] ^= u[b];
	}
	sodium_memzero(&keyed, sizeof(keyed));
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(u, sizeof(u));
	return 0;
}

int fc_secure_psk_load(const char *file, struct fc_secure_psk **out, char *warn, size_t warnlen,
		       char *err, size_t errlen)
{
	return fc_secure_psk_load_http(file, out, NULL, warn, warnlen, err, errlen);
}

int fc_secure_psk_load_http(const char *file, struct fc_secure_psk **out, uint8_t *http_key,
			    char *warn, size_t warnlen, char *err, size_t errlen)
{
	char *env = getenv(FC_SECURE_ENV);
	char *pass;
	long len = -1;

	*out = NULL;
	warn[0] = '\0';
	if (fc_secure_init(err, errlen) < 0)
		return -1;
	if (!file && !env)
		return 0;
	pass = sodium_malloc(FC_SECURE_MAX_PASSPHRASE + 2); /* locked: never swapped out */
	if (!pass) {
		snprintf(err, errlen, "out of memory for the passphrase");
		return -1;
	}
	if (file) {
		len = read_passphrase_file(file, pass, warn, warnlen, err, errlen);
	} else if (env[0] == '\0') {
		snprintf(err, errlen, "%s is set but empty", FC_SECURE_ENV);
	} else if (strlen(env) > FC_SECURE_MAX_PASSPHRASE) {
		snprintf(err, errlen, "%s is longer than %d bytes", FC_SECURE_ENV,
			 FC_SECURE_MAX_PASSPHRASE);
	} else {
		len = (long)strlen(env);
		memcpy(pass, env, (size_t)len);
	}
	if (env) {
		/* Children inherit neither the variable nor, in /proc/PID/environ, its value. */
		sodium_memzero(env, strlen(env));
		unsetenv(FC_SECURE_ENV);
	}
	if (len > 0 && len < FC_SECURE_SHORT_PASSPHRASE && !warn[0])
		snprintf(warn, warnlen,
			 "the passphrase has only %ld bytes: a captured handshake lets anyone try "
			 "guesses offline, so use %d or more random characters",
			 len, FC_SECURE_SHORT_PASSPHRASE);
	if (len > 0)
		*out = fc_secure_psk_new(pass, (size_t)len, err, errlen);
	if (*out && http_key)
		(void)fc_secure_http_key(pass, (size_t)len, FC_SECURE_HTTP_SALT,
					 FC_SECURE_HTTP_ITERATIONS, http_key);
	sodium_free(pass); /* zeroes it */
	return *out ? 1 : -1;
}

void fc_secure_nonce(uint8_t nonce[FC_PROTO_NONCE_SIZE])
{
	randombytes_buf(nonce, FC_PROTO_NONCE_SIZE);
}

static void hash_part(crypto_generichash_state *st, const uint8_t *p, size_t n)
{
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	crypto_generichash_update(st, len, sizeof(len));
	crypto_generichash_update(st, p, n);
}

/* The transcript T of a connection's two HELLOs and its seed S (docs/PROTOCOL.md, section 8). */
static void connection_seed(const struct fc_secure_psk *psk, const uint8_t *sender_hello,
			    size_t sender_len, const uint8_t *viewer_hello, size_t viewer_len,
			    uint8_t transcript[crypto_generichash_BYTES],
			    uint8_t seed[crypto_kdf_KEYBYTES])
{
	crypto_generichash_state st;

	/* The transcript: both HELLOs, each with its side's nonce, in a fixed order (by role, so
	 * that who dialled does not matter), each length-prefixed so no two pairs hash alike. */
	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	hash_part(&st, (const uint8_t *)TRANSCRIPT_LABEL, strlen(TRANSCRIPT_LABEL));
	hash_part(&st, sender_hello, sender_len);
	hash_part(&st, viewer_hello, viewer_len);
	crypto_generichash_final(&st, transcript, crypto_generichash_BYTES);
	/* This connection's seed: keyed by the passphrase key, so only its holders get it. */
	crypto_generichash(seed, crypto_kdf_KEYBYTES, transcript, crypto_generichash_BYTES,
			   psk->key, sizeof(psk->key));
	sodium_memzero(&st, sizeof(st));
}

int fc_secure_handshake(const struct fc_secure_psk *psk, int my_role, const uint8_t *sender_hello,
			size_t sender_len, const uint8_t *viewer_hello, size_t viewer_len,
			struct fc_secure_keys *out)
{
	uint8_t transcript[crypto_generichash_BYTES];
	uint8_t seed[crypto_kdf_KEYBYTES];
	uint8_t sender_proof_key[crypto_auth_KEYBYTES];
	uint8_t viewer_proof_key[crypto_auth_KEYBYTES];
	bool sender = my_role == FC_ROLE_SENDER;

	memset(out, 0, sizeof(*out));
	if (sender_len > FC_PROTO_MAX_RECORD || viewer_len > FC_PROTO_MAX_RECORD ||
	    (my_role != FC_ROLE_SENDER && my_role != FC_ROLE_VIEWER))
		return -1;
	connection_seed(psk, sender_hello, sender_len, viewer_hello, viewer_len, transcript, seed);
	crypto_kdf_derive_from_key(sender ? out->tx : out->rx, FC_SECURE_KEY_SIZE, KEY_S2V,
				   KDF_CONTEXT, seed);
	crypto_kdf_derive_from_key(sender ? out->rx : out->tx, FC_SECURE_KEY_SIZE, KEY_V2S,
				   KDF_CONTEXT, seed);
	crypto_kdf_derive_from_key(sender_proof_key, sizeof(sender_proof_key), KEY_SENDER_PROOF,
				   KDF_CONTEXT, seed);
	crypto_kdf_derive_from_key(viewer_proof_key, sizeof(viewer_proof_key), KEY_VIEWER_PROOF,
				   KDF_CONTEXT, seed);
	/* Each role proves with its own key: a proof reflected back is never the one expected. */
	crypto_auth(sender ? out->my_proof : out->their_proof, transcript, sizeof(transcript),
		    sender_proof_key);
	crypto_auth(sender ? out->their_proof : out->my_proof, transcript, sizeof(transcript),
		    viewer_proof_key);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sender_proof_key, sizeof(sender_proof_key));
	sodium_memzero(viewer_proof_key, sizeof(viewer_proof_key));
	return 0;
}

int fc_secure_dgram_keys(const struct fc_secure_psk *psk, int my_role, const uint8_t *sender_hello,
			 size_t sender_len, const uint8_t *viewer_hello, size_t viewer_len,
			 uint8_t tx[FC_SECURE_KEY_SIZE], uint8_t rx[FC_SECURE_KEY_SIZE])
{
	uint8_t transcript[crypto_generichash_BYTES];
	uint8_t seed[crypto_kdf_KEYBYTES];
	bool sender = my_role == FC_ROLE_SENDER;

	if (sender_len > FC_PROTO_MAX_RECORD || viewer_len > FC_PROTO_MAX_RECORD ||
	    (my_role != FC_ROLE_SENDER && my_role != FC_ROLE_VIEWER))
		return -1;
	connection_seed(psk, sender_hello, sender_len, viewer_hello, viewer_len, transcript, seed);
	/* Keys of their own, apart from the stream's: datagram numbers and the stream's message
	 * counter then never form one nonce under one key. */
	crypto_kdf_derive_from_key(sender ? tx : rx, FC_SECURE_KEY_SIZE, KEY_DGRAM_S2V, KDF_CONTEXT,
				   seed);
	crypto_kdf_derive_from_key(sender ? rx : tx, FC_SECURE_KEY_SIZE, KEY_DGRAM_V2S, KDF_CONTEXT,
				   seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

bool fc_secure_proof_ok(const struct fc_secure_keys *k, const uint8_t proof[FC_PROTO_PROOF_SIZE])
{
	return crypto_verify_32(k->their_proof, proof) == 0;
}

/* The nonce of message number seq: never sent, so a message out of its place does not open. */
static void seq_nonce(uint64_t seq, uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES])
{
	memset(nonce, 0, crypto_aead_chacha20poly1305_IETF_NPUBBYTES);
	for (int i = 0; i < 8; i++)
		nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES - 1 - i] =
		    (uint8_t)(seq >> (8 * i));
}

size_t fc_secure_seal(struct fc_secure_keys *k, uint8_t *rec, size_t msg_len, size_t cap)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t *msg = rec + FC_PROTO_HEADER_SIZE;
	size_t plen = msg_len + FC_PROTO_TAG_SIZE;

	if (msg_len > FC_PROTO_MAX_MESSAGE || cap < msg_len + FC_PROTO_SEAL_OVERHEAD ||
	    k->tx_seq == UINT64_MAX ||
	    fc_proto_encode_header(FC_MSG_SEALED, (uint32_t)plen, rec, cap) == 0)
		return 0;
	seq_nonce(k->tx_seq++, nonce);
	/* The header is the associated data: its length and type are authenticated too. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	    msg, msg + msg_len, NULL, msg, msg_len, rec, FC_PROTO_HEADER_SIZE, NULL, nonce, k->tx);
	return msg_len + FC_PROTO_SEAL_OVERHEAD;
}

ssize_t fc_secure_open(struct fc_secure_keys *k, uint8_t *rec, size_t rec_len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t *msg = rec + FC_PROTO_HEADER_SIZE;
	size_t msg_len;

	if (rec_len < FC_PROTO_SEAL_OVERHEAD || k->rx_seq == UINT64_MAX)
		return -1;
	msg_len = rec_len - FC_PROTO_SEAL_OVERHEAD;
	seq_nonce(k->rx_seq, nonce);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		msg, NULL, msg, msg_len, msg + msg_len, rec, FC_PROTO_HEADER_SIZE, nonce, k->rx) !=
	    0)
		return -1;
	k->rx_seq++;
	return (ssize_t)msg_len;
}

void fc_secure_wipe(struct fc_secure_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

bool fc_secure_exposed(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return false;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) != 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return !IN6_IS_ADDR_LOOPBACK(&a6);
	return true; /* "" (every address), or a name: it may reach other machines */
}

bool fc_secure_exposed_warning(const struct fc_addr *addr, const char *risk, char *buf, size_t len)
{
	char where[FC_NET_HOST_MAX + 16];

	buf[0] = '\0';
	if (!fc_secure_exposed(addr->host))
		return false;
	snprintf(buf, len,
		 "listening on %s without a passphrase: %s, and anyone on the path can read it; "
		 "give one (--passphrase-file FILE or FRESHCAM_PASSPHRASE), or --insecure if you "
		 "mean it",
		 fc_net_addr_str(addr, where, sizeof(where)), risk);
	return true;
}
