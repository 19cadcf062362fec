/* http_guard: the passphrase's checks applied to requests. See http_guard.h. */
#include "http_guard.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "http_auth.h"
#include "http_route.h"
#include "throttle.h"

#define TEXT "text/plain; charset=utf-8"

struct fc_http_guard {
	struct fc_http_auth *auth;
	struct fc_throttle *throttle;
};

struct fc_http_guard *fc_http_guard_new(const uint8_t key[FC_SECURE_KEY_SIZE])
{
	struct fc_http_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->auth = fc_http_auth_new(key);
	g->throttle = fc_throttle_new();
	if (!g->auth || !g->throttle) {
		fc_http_guard_free(g);
		return NULL;
	}
	return g;
}

void fc_http_guard_free(struct fc_http_guard *g)
{
	if (!g)
		return;
	fc_http_auth_free(g->auth);
	fc_throttle_free(g->throttle);
	free(g);
}

static int unauthorized(struct fc_http_client *c)
{
	static const char why[] =
	    "unauthorized: this sender has a passphrase. Open / in a browser and give it, or send "
	    "the token (freshcam-send --print-http-token) as 'Authorization: Bearer TOKEN' or "
	    "?token=TOKEN\n";

	return fc_http_client_reply(c, 401, TEXT, why, sizeof(why) - 1,
				    "www-authenticate:", "Bearer realm=\"freshcam\"");
}

static int too_many(struct fc_http_client *c, uint64_t retry_ns)
{
	char why[128], secs[24];
	unsigned long long s = (retry_ns + 999999999u) / 1000000000u;
	int n = snprintf(why, sizeof(why),
			 "too many wrong tries from this address: try again in %llu s\n", s);

	snprintf(secs, sizeof(secs), "%llu", s);
	return fc_http_client_reply(c, 429, TEXT, why, (size_t)n, "retry-after:", secs);
}

/* Whether the request carries a live session cookie. */
static bool session_ok(struct fc_http_guard *g, struct lws *wsi)
{
	char cookie[1024];

	return lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE) > 0 &&
	       lws_hdr_copy(wsi, cookie, sizeof(cookie), WSI_TOKEN_HTTP_COOKIE) > 0 &&
	       fc_http_auth_cookie_ok(g->auth, cookie, fc_clock_now_ns());
}

/* The query argument name (with its '='), into out; false when absent or too long. */
static bool arg(struct lws *wsi, const char *name, char *out, size_t len)
{
	char buf[FC_HTTP_AUTH_HEX + 16];
	const char *v = lws_get_urlarg_by_name(wsi, name, buf, (int)sizeof(buf));

	size_t n = v ? strlen(v) : 0;

	if (!v || n >= len)
		return false; /* a value longer than any token is never one */
	memcpy(out, v, n + 1);
	return true;
}

/* The token the request presents (the Authorization header's, else ?token=), into out (65
 * bytes); false when it presents none. A header that is not "Bearer" and 64 characters is a
 * wrong token, not none. */
static bool copy_token(struct lws *wsi, char *out, size_t len)
{
	char h[FC_HTTP_AUTH_HEX + 16];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

	out[0] = '\0';
	if (n > 0) {
		size_t t;

		if (n < (int)sizeof(h) &&
		    lws_hdr_copy(wsi, h, sizeof(h), WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
		    strncasecmp(h, "Bearer ", 7) == 0 && (t = strlen(h + 7)) < len)
			memcpy(out, h + 7, t + 1);
		else
			memcpy(out, "-", 2);
		return true;
	}
	if (arg(wsi, "token=", out, len))
		return true;
	return lws_get_urlarg_by_name(wsi, "token=", h, (int)sizeof(h)) != NULL; /* too long */
}

/* The held try's verdict, now that its turn has come. */
static int judge(struct fc_http_guard *g, struct fc_http_client *c)
{
	char session[FC_HTTP_AUTH_HEX + 1], cookie[FC_HTTP_AUTH_HEX + 96];
	uint64_t now = fc_clock_now_ns();
	int route = c->held_route;
	bool ok;

	c->held_route = 0;
	if (route == FC_HTTP_ROUTE_PROVE)
		ok = fc_http_auth_prove(g->auth, c->held_nonce, c->held_token, now, session);
	else
		ok = fc_http_auth_token_ok(g->auth, c->held_token);
	sodium_memzero(c->held_token, sizeof(c->held_token));
	fc_throttle_end(g->throttle, c->peer, !ok, now);
	if (!ok)
		return unauthorized(c) ? -1 : 0;
	if (route != FC_HTTP_ROUTE_PROVE)
		return route;
	/* HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it. */
	snprintf(cookie, sizeof(cookie),
		 FC_HTTP_AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%u", session,
		 FC_HTTP_AUTH_SESSION_S);
	return fc_http_client_reply(c, 200, TEXT, "ok\n", 3, "set-cookie:", cookie) ? -1 : 0;
}

/* Asks the throttle whether c's try may be judged now, later (held on its timer) or not. */
static int try_now(struct fc_http_guard *g, struct fc_http_client *c)
{
	uint64_t retry = 0;
	int64_t wait = fc_throttle_begin(g->throttle, c->peer, fc_clock_now_ns(), &retry);

	if (wait < 0) {
		c->held_route = 0;
		return too_many(c, retry) ? -1 : 0;
	}
	if (wait > 0) {
		lws_set_timer_usecs(c->wsi, (lws_usec_t)(wait / 1000));
		return 0;
	}
	return judge(g, c);
}

int fc_http_guard_admit(struct fc_http_guard *g, struct fc_http_client *c, int route)
{
	if (session_ok(g, c->wsi))
		return route;
	if (!copy_token(c->wsi, c->held_token, sizeof(c->held_token)))
		return unauthorized(c) ? -1 : 0;
	c->held_route = route;
	return try_now(g, c);
}

int fc_http_guard_challenge(struct fc_http_guard *g, struct fc_http_client *c)
{
	char nonce[FC_HTTP_AUTH_HEX + 1], json[256];
	int n;

	fc_http_auth_challenge(g->auth, fc_clock_now_ns(), nonce);
	n = snprintf(json, sizeof(json),
		     "{\"passphrase\":true,\"salt\":\"%s\",\"iterations\":%u,\"nonce\":\"%s\"}\n",
		     FC_SECURE_HTTP_SALT, FC_SECURE_HTTP_ITERATIONS, nonce);
	return fc_http_client_reply(c, 200, "application/json", json, (size_t)n, NULL, NULL);
}

int fc_http_guard_prove(struct fc_http_guard *g, struct fc_http_client *c)
{
	if (!arg(c->wsi, "nonce=", c->held_nonce, sizeof(c->held_nonce)) ||
	    !arg(c->wsi, "proof=", c->held_token, sizeof(c->held_token)))
		return unauthorized(c);
	c->held_route = FC_HTTP_ROUTE_PROVE;
	return try_now(g, c);
}

int fc_http_guard_resume(struct fc_http_guard *g, struct fc_http_client *c)
{
	return judge(g, c);
}

int fc_http_guard_upgrade(struct fc_http_guard *g, struct lws *wsi)
{
	char token[FC_HTTP_AUTH_HEX + 1], peer[64];
	uint64_t retry = 0, now = fc_clock_now_ns();
	int64_t wait;
	bool ok;

	if (session_ok(g, wsi))
		return 0;
	if (!copy_token(wsi, token, sizeof(token))) {
		lws_return_http_status(wsi, 401, "a passphrase or token is needed");
		return 1;
	}
	/* The loop cannot hold an upgrade: a try before its turn counts as a wrong one. */
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	wait = fc_throttle_begin(g->throttle, peer, now, &retry);
	if (wait < 0)
		return -1;
	ok = wait == 0 && fc_http_auth_token_ok(g->auth, token);
	fc_throttle_end(g->throttle, peer, !ok, now);
	sodium_memzero(token, sizeof(token));
	return ok ? 0 : -1;
}

void fc_http_guard_drop(struct fc_http_guard *g, struct fc_http_client *c)
{
	if (!g || !c->held_route)
		return;
	c->held_route = 0;
	sodium_memzero(c->held_token, sizeof(c->held_token));
	fc_throttle_end(g->throttle, c->peer, true, fc_clock_now_ns());
}
