/* Tests of HTTP's passphrase check: the key's derivation (common/secure.c fc_secure_http_key,
 * PBKDF2-HMAC-SHA256, which the page computes with WebCrypto) and sender/serve/http_auth.c: the
 * token, the challenge and proof, the session cookie, and what each refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http_auth.h"
#include "secure.h"

#define NS 1000000000ull

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The published PBKDF2-HMAC-SHA256 vectors (RFC 7914 section 11 style, "password"/"salt"), so that
 * the browser's WebCrypto and the sender agree by construction, not by luck. */
static void test_key_vectors(void **state)
{
	uint8_t k[FC_SECURE_KEY_SIZE];
	char h[2 * FC_SECURE_KEY_SIZE + 1];

	(void)state;
	assert_int_equal(fc_secure_http_key("password", 8, "salt", 1, k), 0);
	hex(k, sizeof(k), h);
	assert_string_equal(h, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
	assert_int_equal(fc_secure_http_key("password", 8, "salt", 4096, k), 0);
	hex(k, sizeof(k), h);
	assert_string_equal(h, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}

/* Deterministic (a program's token survives a restart), different per passphrase, and bounded. */
static void test_key_per_passphrase(void **state)
{
	uint8_t a[FC_SECURE_KEY_SIZE], b[FC_SECURE_KEY_SIZE], c[FC_SECURE_KEY_SIZE];

	(void)state;
	assert_int_equal(fc_secure_http_key("correct horse", 13, FC_SECURE_HTTP_SALT, 100, a), 0);
	assert_int_equal(fc_secure_http_key("correct horse", 13, FC_SECURE_HTTP_SALT, 100, b), 0);
	assert_int_equal(fc_secure_http_key("correct horsf", 13, FC_SECURE_HTTP_SALT, 100, c), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(fc_secure_http_key("x", 0, FC_SECURE_HTTP_SALT, 100, a), -1);
	assert_int_equal(fc_secure_http_key("x", 1, FC_SECURE_HTTP_SALT, 0, a), -1);
}

static struct fc_http_auth *auth_for(const char *pass, uint8_t key[FC_SECURE_KEY_SIZE])
{
	struct fc_http_auth *a;

	assert_int_equal(fc_secure_http_key(pass, strlen(pass), FC_SECURE_HTTP_SALT, 10, key), 0);
	a = fc_http_auth_new(key);
	assert_non_null(a);
	return a;
}

/* The token is the key in hex: exactly that, in either case, and nothing else. */
static void test_token(void **state)
{
	uint8_t key[FC_SECURE_KEY_SIZE], other[FC_SECURE_KEY_SIZE];
	struct fc_http_auth *a = auth_for("one passphrase", key);
	char h[FC_HTTP_AUTH_HEX + 2];

	(void)state;
	hex(key, sizeof(key), h);
	assert_true(fc_http_auth_token_ok(a, h));
	h[FC_HTTP_AUTH_HEX] = '0';
	h[FC_HTTP_AUTH_HEX + 1] = '\0';
	assert_false(fc_http_auth_token_ok(a, h)); /* one digit too many */
	h[FC_HTTP_AUTH_HEX - 1] = '\0';
	assert_false(fc_http_auth_token_ok(a, h)); /* one too few */
	assert_false(fc_http_auth_token_ok(a, ""));
	assert_int_equal(fc_secure_http_key("another", 7, FC_SECURE_HTTP_SALT, 10, other), 0);
	hex(other, sizeof(other), h);
	assert_false(fc_http_auth_token_ok(a, h));
	fc_http_auth_free(a);
}

/* The page's proof opens a session once per challenge; a wrong proof spends the challenge; a
 * stale or unknown challenge proves nothing. */
static void test_proof(void **state)
{
	uint8_t key[FC_SECURE_KEY_SIZE], wrong[FC_SECURE_KEY_SIZE];
	struct fc_http_auth *a = auth_for("the passphrase", key);
	char nonce[FC_HTTP_AUTH_HEX + 1], proof[FC_HTTP_AUTH_HEX + 1];
	char session[FC_HTTP_AUTH_HEX + 1];

	(void)state;
	fc_http_auth_challenge(a, 5 * NS, nonce);
	fc_http_auth_proof(key, nonce, proof);
	assert_true(fc_http_auth_prove(a, nonce, proof, 6 * NS, session));
	assert_false(fc_http_auth_prove(a, nonce, proof, 6 * NS, session)); /* replayed */

	fc_http_auth_challenge(a, 10 * NS, nonce);
	assert_int_equal(fc_secure_http_key("not it", 6, FC_SECURE_HTTP_SALT, 10, wrong), 0);
	fc_http_auth_proof(wrong, nonce, proof);
	assert_false(fc_http_auth_prove(a, nonce, proof, 11 * NS, session));
	fc_http_auth_proof(key, nonce, proof);
	assert_false(
	    fc_http_auth_prove(a, nonce, proof, 11 * NS, session)); /* spent by the guess */

	fc_http_auth_challenge(a, 20 * NS, nonce);
	fc_http_auth_proof(key, nonce, proof);
	assert_false(fc_http_auth_prove(a, nonce, proof, 20 * NS + FC_HTTP_AUTH_NONCE_NS, session));
	assert_false(fc_http_auth_prove(
	    a, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", proof, 21 * NS,
	    session));
	assert_false(fc_http_auth_prove(a, "zz", proof, 21 * NS, session));
	fc_http_auth_free(a);
}

/* A session's cookie is accepted among others and until it expires; a forged one never. */
static void test_cookie(void **state)
{
	uint8_t key[FC_SECURE_KEY_SIZE];
	struct fc_http_auth *a = auth_for("the passphrase", key);
	char nonce[FC_HTTP_AUTH_HEX + 1], proof[FC_HTTP_AUTH_HEX + 1];
	char session[FC_HTTP_AUTH_HEX + 1], header[256];
	uint64_t end = NS + FC_HTTP_AUTH_SESSION_S * NS;

	(void)state;
	fc_http_auth_challenge(a, NS, nonce);
	fc_http_auth_proof(key, nonce, proof);
	assert_true(fc_http_auth_prove(a, nonce, proof, NS, session));
	snprintf(header, sizeof(header), "theme=dark; " FC_HTTP_AUTH_COOKIE "=%s; x=1", session);
	assert_true(fc_http_auth_cookie_ok(a, header, 2 * NS));
	assert_false(fc_http_auth_cookie_ok(a, header, end));
	snprintf(header, sizeof(header), FC_HTTP_AUTH_COOKIE "=%s", session);
	assert_true(fc_http_auth_cookie_ok(a, header, 2 * NS));
	header[sizeof(FC_HTTP_AUTH_COOKIE)] ^= 1; /* one digit changed */
	assert_false(fc_http_auth_cookie_ok(a, header, 2 * NS));
	snprintf(header, sizeof(header), "x" FC_HTTP_AUTH_COOKIE "=%s", session);
	assert_false(fc_http_auth_cookie_ok(a, header, 2 * NS));
	assert_false(fc_http_auth_cookie_ok(a, "", 2 * NS));
	fc_http_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_vectors), cmocka_unit_test(test_key_per_passphrase),
		cmocka_unit_test(test_token),	    cmocka_unit_test(test_proof),
		cmocka_unit_test(test_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
