/*
 * http_auth: who may watch over HTTP when the sender has a passphrase (docs/HTTP.md, "Who may
 * watch"). Programs present the token (the hex of HTTP's key, fc_secure_http_key); the page
 * proves it knows the key without sending it: it asks for a challenge (a single-use nonce), answers
 * HMAC-SHA256(key, "fc-http-proof " nonce) and gets a session, a random value sent back as a
 * cookie. Every comparison is in constant time (libsodium).
 *
 * Bounded memory: FC_HTTP_AUTH_NONCES outstanding challenges and FC_HTTP_AUTH_SESSIONS sessions;
 * when full, the oldest is replaced. The key and the sessions live in libsodium's guarded memory.
 * Pure but for randomness: the caller passes the time, so every rule is a unit test. One thread
 * (fc-http); never prints.
 */
#ifndef FC_HTTP_AUTH_H
#define FC_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure.h"

#define FC_HTTP_AUTH_HEX	 (2 * FC_SECURE_KEY_SIZE) /* a token, a proof, a session */
#define FC_HTTP_AUTH_NONCES	 64
#define FC_HTTP_AUTH_SESSIONS	 64
#define FC_HTTP_AUTH_NONCE_NS	 (60ull * 1000 * 1000 * 1000) /* a challenge is answered within */
#define FC_HTTP_AUTH_SESSION_S	 (12u * 3600)		      /* a session lasts */
#define FC_HTTP_AUTH_COOKIE	 "fc_session"
#define FC_HTTP_AUTH_PROOF_LABEL "fc-http-proof "

struct fc_http_auth;

/* From HTTP's key (copied). NULL when out of memory. */
struct fc_http_auth *fc_http_auth_new(const uint8_t key[FC_SECURE_KEY_SIZE]);
void fc_http_auth_free(struct fc_http_auth *a);

/* A fresh challenge, valid once for FC_HTTP_AUTH_NONCE_NS, as hex in nonce. */
void fc_http_auth_challenge(struct fc_http_auth *a, uint64_t now_ns,
			    char nonce[FC_HTTP_AUTH_HEX + 1]);

/* The page's answer: when proof is HMAC-SHA256(key, label nonce) for an outstanding nonce, that
 * nonce is spent and a new session's value is written to session; true. Else false (a nonce that
 * was given is spent either way: one guess per challenge). */
bool fc_http_auth_prove(struct fc_http_auth *a, const char *nonce, const char *proof,
			uint64_t now_ns, char session[FC_HTTP_AUTH_HEX + 1]);

/* Whether token (hex, as programs send it) is the key. */
bool fc_http_auth_token_ok(const struct fc_http_auth *a, const char *token);

/* Whether a Cookie header's FC_HTTP_AUTH_COOKIE names a session alive at now_ns. */
bool fc_http_auth_cookie_ok(const struct fc_http_auth *a, const char *cookie_header,
			    uint64_t now_ns);

/* The proof for nonce (what the page computes): for tests and for fc_http_auth_prove. */
void fc_http_auth_proof(const uint8_t key[FC_SECURE_KEY_SIZE], const char *nonce,
			char proof[FC_HTTP_AUTH_HEX + 1]);

#endif
