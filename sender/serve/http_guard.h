/*
 * http_guard: who may watch over HTTP when the sender has a passphrase (docs/HTTP.md, "Who may
 * watch"). It applies http_auth's checks to requests: /stream, /snapshot, /state and the
 * WebSocket upgrade need a session cookie or the token (Authorization: Bearer, or ?token=);
 * /auth/challenge and /auth/prove?nonce=&proof= are the page's way to a session. Strangers get a
 * 401 saying what is needed; a wrong token or proof is slowed down by the viewer port's throttle
 * (throttle.h): the next try from that address is held until its turn (a timer, never a sleep
 * in the loop), or refused with 429 and Retry-After when its turn is too far.
 *
 * Ownership: the guard owns its http_auth and throttle. Threads: fc-http only.
 */
#ifndef FC_HTTP_GUARD_H
#define FC_HTTP_GUARD_H

#include <stdint.h>

#include "http_client.h"
#include "secure.h"

struct fc_http_guard;
struct lws;

/* From HTTP's key (fc_secure_http_key; copied). NULL when out of memory. */
struct fc_http_guard *fc_http_guard_new(const uint8_t key[FC_SECURE_KEY_SIZE]);
void fc_http_guard_free(struct fc_http_guard *g);

/* Before a guarded route (an enum fc_http_route, > 0) is served to c: route, serve it; 0 answered (401,
 * 429) or held, in which case the client's timer calls fc_http_guard_resume; -1 close. */
int fc_http_guard_admit(struct fc_http_guard *g, struct fc_http_client *c, int route);

/* GET /auth/challenge: {"passphrase":true}, the salt, iterations and a fresh nonce, as JSON. 0,
 * or -1 close. (Without a passphrase http.c answers {"passphrase":false}.) */
int fc_http_guard_challenge(struct fc_http_guard *g, struct fc_http_client *c);

/* GET /auth/prove?nonce=N&proof=P: a session cookie, or 401; may be held like admit. 0 or -1. */
int fc_http_guard_prove(struct fc_http_guard *g, struct fc_http_client *c);

/* The client's timer after a hold: the route to serve now (> 0); 0 answered; -1 close. */
int fc_http_guard_resume(struct fc_http_guard *g, struct fc_http_client *c);

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 let the WebSocket through (a session or the token); 1 a
 * 401 was sent; -1 hang up (a wrong token from an address the throttle holds back). */
int fc_http_guard_upgrade(struct fc_http_guard *g, struct lws *wsi);

/* c closes: a try it had held is ended as failed (hanging up does not wipe the slate). */
void fc_http_guard_drop(struct fc_http_guard *g, struct fc_http_client *c);

#endif
