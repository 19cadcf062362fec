/* http_auth: tokens, challenges and sessions. See http_auth.h. */
#include "http_auth.h"

#include <sodium.h>
#include <string.h>

/* A challenge's nonce or a session: a random value and until when it holds. */
struct entry {
	uint8_t value[FC_SECURE_KEY_SIZE];
	uint64_t until_ns; /* 0: free or spent */
};

struct fc_http_auth {
	uint8_t key[FC_SECURE_KEY_SIZE];
	struct entry nonces[FC_HTTP_AUTH_NONCES];
	struct entry sessions[FC_HTTP_AUTH_SESSIONS];
};

struct fc_http_auth *fc_http_auth_new(const uint8_t key[FC_SECURE_KEY_SIZE])
{
	struct fc_http_auth *a;

	if (sodium_init() < 0)
		return NULL;
	a = sodium_malloc(sizeof(*a));
	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	memcpy(a->key, key, sizeof(a->key));
	return a;
}

void fc_http_auth_free(struct fc_http_auth *a)
{
	if (a)
		sodium_free(a); /* zeroes it */
}

/* hex (exactly len*2 digits, nothing after) into bin; false when it is not that. */
static bool unhex(const char *hex, uint8_t *bin, size_t len)
{
	size_t n = 0;

	if (!hex || strlen(hex) != 2 * len)
		return false;
	return sodium_hex2bin(bin, len, hex, 2 * len, NULL, &n, NULL) == 0 && n == len;
}

/* A new random value in a free place of e (else the oldest's), alive for life_ns, as hex. */
static void fresh(struct entry *e, size_t n, uint64_t now_ns, uint64_t life_ns,
		  char out[FC_HTTP_AUTH_HEX + 1])
{
	struct entry *slot = &e[0];

	for (size_t i = 0; i < n; i++) {
		if (e[i].until_ns <= now_ns) {
			slot = &e[i];
			break;
		}
		if (e[i].until_ns < slot->until_ns)
			slot = &e[i];
	}
	randombytes_buf(slot->value, sizeof(slot->value));
	slot->until_ns = now_ns + life_ns;
	sodium_bin2hex(out, FC_HTTP_AUTH_HEX + 1, slot->value, sizeof(slot->value));
}

/* The index of e's live entry whose value is bin, or n. Every entry is compared, in constant
 * time, so the time taken says nothing of which one matched. */
static size_t find(const struct entry *e, size_t n, const uint8_t bin[FC_SECURE_KEY_SIZE],
		   uint64_t now_ns)
{
	size_t found = n;

	for (size_t i = 0; i < n; i++)
		if (sodium_memcmp(e[i].value, bin, FC_SECURE_KEY_SIZE) == 0 &&
		    e[i].until_ns > now_ns)
			found = i;
	return found;
}

void fc_http_auth_challenge(struct fc_http_auth *a, uint64_t now_ns,
			    char nonce[FC_HTTP_AUTH_HEX + 1])
{
	fresh(a->nonces, FC_HTTP_AUTH_NONCES, now_ns, FC_HTTP_AUTH_NONCE_NS, nonce);
}

void fc_http_auth_proof(const uint8_t key[FC_SECURE_KEY_SIZE], const char *nonce,
			char proof[FC_HTTP_AUTH_HEX + 1])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key, FC_SECURE_KEY_SIZE);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)FC_HTTP_AUTH_PROOF_LABEL,
				      strlen(FC_HTTP_AUTH_PROOF_LABEL));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)nonce, strlen(nonce));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(proof, FC_HTTP_AUTH_HEX + 1, mac, sizeof(mac));
}

bool fc_http_auth_prove(struct fc_http_auth *a, const char *nonce, const char *proof,
			uint64_t now_ns, char session[FC_HTTP_AUTH_HEX + 1])
{
	uint8_t want[FC_SECURE_KEY_SIZE], got[crypto_auth_hmacsha256_BYTES];
	uint8_t expect[crypto_auth_hmacsha256_BYTES];
	char expect_hex[FC_HTTP_AUTH_HEX + 1];
	size_t found;

	if (!unhex(nonce, want, sizeof(want)) || !unhex(proof, got, sizeof(got)))
		return false;
	found = find(a->nonces, FC_HTTP_AUTH_NONCES, want, now_ns);
	if (found == FC_HTTP_AUTH_NONCES)
		return false;
	a->nonces[found].until_ns = 0; /* spent, right or wrong */
	fc_http_auth_proof(a->key, nonce, expect_hex);
	if (!unhex(expect_hex, expect, sizeof(expect)) ||
	    sodium_memcmp(expect, got, sizeof(got)) != 0)
		return false;
	fresh(a->sessions, FC_HTTP_AUTH_SESSIONS, now_ns, FC_HTTP_AUTH_SESSION_S * 1000000000ull,
	      session);
	return true;
}

bool fc_http_auth_token_ok(const struct fc_http_auth *a, const char *token)
{
	uint8_t got[FC_SECURE_KEY_SIZE];

	return unhex(token, got, sizeof(got)) && sodium_memcmp(got, a->key, sizeof(got)) == 0;
}

bool fc_http_auth_cookie_ok(const struct fc_http_auth *a, const char *cookie_header,
			    uint64_t now_ns)
{
	static const char name[] = FC_HTTP_AUTH_COOKIE "=";
	uint8_t got[FC_SECURE_KEY_SIZE];
	char value[FC_HTTP_AUTH_HEX + 1];
	const char *p = cookie_header;

	/* "a=1; fc_session=HEX; b=2": the cookie at the start or after "; ". */
	while (p && strncmp(p, name, sizeof(name) - 1) != 0) {
		p = strchr(p, ';');
		if (p)
			p += strspn(p, "; ");
	}
	if (!p)
		return false;
	p += sizeof(name) - 1;
	if (strcspn(p, ";") != FC_HTTP_AUTH_HEX)
		return false;
	memcpy(value, p, FC_HTTP_AUTH_HEX);
	value[FC_HTTP_AUTH_HEX] = '\0';
	if (!unhex(value, got, sizeof(got)))
		return false;
	return find(a->sessions, FC_HTTP_AUTH_SESSIONS, got, now_ns) < FC_HTTP_AUTH_SESSIONS;
}
