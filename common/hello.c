#include "hello.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"

/* A HELLO's largest encoding: header, fixed part with the nonce, name. */
#define HELLO_MAX (FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_MAX)
#define AUTH_FAILED_TEXT                                                                           \
	"not the same passphrase on both sides (or the handshake was tampered with)"

const char *fc_hello_role_name(int role)
{
	return role == FC_ROLE_SENDER	? "sender"
	       : role == FC_ROLE_VIEWER ? "viewer"
					: "unknown role";
}

/* One side has a passphrase and the other not: both are told, neither goes on. */
static int passphrase_mismatch(struct fc_conn *c, const struct fc_hello *mine, bool secure,
			       const struct fc_hello *theirs, char *err, size_t errlen)
{
	char text[FC_PROTO_MAX_TEXT + 1];
	const char *me = fc_hello_role_name(mine->role);
	const char *peer = fc_hello_role_name(theirs->role);

	if (secure) {
		snprintf(text, sizeof(text),
			 "this %s requires a passphrase (--passphrase-file FILE or "
			 "FRESHCAM_PASSPHRASE); the %s has none",
			 me, peer);
		snprintf(err, errlen,
			 "%s (%s): passphrase required: this %s has one and the %s has none; "
			 "give both the same (--passphrase-file FILE or FRESHCAM_PASSPHRASE)",
			 fc_conn_peer(c), theirs->name, me, peer);
	} else {
		snprintf(text, sizeof(text),
			 "this %s has no passphrase; start it with the same one "
			 "(--passphrase-file FILE or FRESHCAM_PASSPHRASE)",
			 me);
		snprintf(err, errlen,
			 "%s (%s): passphrase required: the %s requires one and this %s has none; "
			 "give both the same (--passphrase-file FILE or FRESHCAM_PASSPHRASE)",
			 fc_conn_peer(c), theirs->name, peer, me);
	}
	fc_conn_bye(c, FC_BYE_PASSPHRASE, text);
	return -1;
}

/* Receives the peer's AUTH and checks it. */
static int receive_proof(struct fc_conn *c, const struct fc_secure_keys *k, int timeout_ms,
			 char *err, size_t errlen)
{
	struct fc_msg m;
	int rc = fc_conn_recv(c, &m, timeout_ms);

	if (rc == 0) {
		snprintf(err, errlen, "%s: no AUTH within %d ms", fc_conn_peer(c), timeout_ms);
		return -1;
	}
	if (rc < 0) {
		fc_conn_bye(c, FC_BYE_PROTOCOL, fc_conn_error(c));
		snprintf(err, errlen, "%s: %s", fc_conn_peer(c), fc_conn_error(c));
		return -1;
	}
	if (m.type == FC_MSG_BYE) {
		snprintf(err, errlen, "%s: %s%s%s", fc_conn_peer(c),
			 fc_proto_bye_reason_name(m.u.bye.reason), m.u.bye.text[0] ? ": " : "",
			 m.u.bye.text);
		return -1;
	}
	if (m.type != FC_MSG_AUTH) {
		snprintf(err, errlen, "%s: expected AUTH, got %s", fc_conn_peer(c),
			 fc_proto_type_name(m.type));
		fc_conn_bye(c, FC_BYE_PROTOCOL, "expected AUTH after HELLO");
		return -1;
	}
	if (!fc_secure_proof_ok(k, m.u.auth.proof)) {
		snprintf(err, errlen, "%s: authentication failed: %s", fc_conn_peer(c),
			 AUTH_FAILED_TEXT);
		fc_conn_bye(c, FC_BYE_AUTH, AUTH_FAILED_TEXT);
		return FC_HELLO_AUTH_FAILED;
	}
	return 0;
}

static int send_proof(struct fc_conn *c, const struct fc_secure_keys *k, int timeout_ms, char *err,
		      size_t errlen)
{
	struct fc_msg m = { .type = FC_MSG_AUTH };

	memcpy(m.u.auth.proof, k->my_proof, sizeof(m.u.auth.proof));
	if (fc_conn_send(c, &m, timeout_ms) < 0) {
		snprintf(err, errlen, "%s: sending AUTH: %s", fc_conn_peer(c), fc_conn_error(c));
		return -1;
	}
	return 0;
}

/* Both have a passphrase: keys from both HELLOs, proofs (the dialler's first), then sealed. */
static int authenticate(struct fc_conn *c, const struct fc_hello_auth *auth, int role,
			const uint8_t *mine, size_t mine_len, const uint8_t *theirs,
			size_t theirs_len, int timeout_ms, char *err, size_t errlen)
{
	struct fc_secure_keys k;
	bool sender = role == FC_ROLE_SENDER;
	int rc;

	if (fc_secure_handshake(auth->psk, role, sender ? mine : theirs,
				sender ? mine_len : theirs_len, sender ? theirs : mine,
				sender ? theirs_len : mine_len, &k) < 0) {
		snprintf(err, errlen, "%s: cannot derive the connection's keys", fc_conn_peer(c));
		return -1;
	}
	if (auth->dialled) {
		rc = send_proof(c, &k, timeout_ms, err, errlen);
		if (rc == 0)
			rc = receive_proof(c, &k, timeout_ms, err, errlen);
	} else {
		rc = receive_proof(c, &k, timeout_ms, err, errlen);
		if (rc == 0)
			rc = send_proof(c, &k, timeout_ms, err, errlen);
	}
	if (rc == 0)
		fc_conn_secure(c, &k);
	fc_secure_wipe(&k);
	if (rc == 0 && auth->dgram_keys &&
	    fc_secure_dgram_keys(auth->psk, role, sender ? mine : theirs,
				 sender ? mine_len : theirs_len, sender ? theirs : mine,
				 sender ? theirs_len : mine_len, auth->dgram_keys[0],
				 auth->dgram_keys[1]) < 0) {
		snprintf(err, errlen, "%s: cannot derive the datagrams' keys", fc_conn_peer(c));
		return -1;
	}
	return rc;
}

/* The exchange itself: HELLOs, then with a passphrase the proofs. */
static int exchange(struct fc_conn *c, const struct fc_hello *mine,
		    const struct fc_hello_auth *auth, struct fc_hello *theirs, int timeout_ms,
		    char *err, size_t errlen)
{
	struct fc_msg m = { .type = FC_MSG_HELLO };
	char text[FC_PROTO_MAX_TEXT + 1];
	uint8_t my_bytes[HELLO_MAX];
	uint8_t their_bytes[HELLO_MAX];
	size_t my_len;
	size_t their_len;
	const uint8_t *raw;
	bool secure = auth && auth->psk;
	int rc;

	m.u.hello = *mine;
	/* The passphrase bit is this exchange's to set; the caller's other flags go as they are. */
	m.u.hello.flags =
	    (uint8_t)((mine->flags & ~FC_HELLO_PASSPHRASE) | (secure ? FC_HELLO_PASSPHRASE : 0));
	memset(m.u.hello.nonce, 0, sizeof(m.u.hello.nonce));
	if (secure)
		fc_secure_nonce(m.u.hello.nonce);
	/* The bytes the peer will hash: the encoder is deterministic, so these are the ones sent. */
	my_len = fc_proto_encode(&m, my_bytes, sizeof(my_bytes));
	if (my_len == 0 || fc_conn_send(c, &m, timeout_ms) < 0) {
		snprintf(err, errlen, "%s: sending HELLO: %s", fc_conn_peer(c),
			 my_len ? fc_conn_error(c) : "malformed HELLO");
		return -1;
	}
	rc = fc_conn_recv(c, &m, timeout_ms);
	if (rc == 0) {
		snprintf(err, errlen, "%s: no HELLO within %d ms (is it a freshcam %s?)",
			 fc_conn_peer(c), timeout_ms,
			 fc_hello_role_name(mine->role == FC_ROLE_SENDER ? FC_ROLE_VIEWER
									 : FC_ROLE_SENDER));
		return -1;
	}
	if (rc < 0) {
		/* Tell the peer why, if it is still there: its version, or what it sent wrong. */
		if (fc_conn_proto_error(c) == FC_PROTO_E_VERSION) {
			snprintf(text, sizeof(text), "%s speaks freshcam protocol %u", mine->name,
				 FC_PROTO_VERSION);
			fc_conn_bye(c, FC_BYE_VERSION, text);
		} else {
			fc_conn_bye(c, FC_BYE_PROTOCOL, fc_conn_error(c));
		}
		snprintf(err, errlen, "%s: %s", fc_conn_peer(c), fc_conn_error(c));
		return -1;
	}
	if (m.type == FC_MSG_BYE) {
		snprintf(err, errlen, "%s said goodbye before starting: %s%s%s", fc_conn_peer(c),
			 fc_proto_bye_reason_name(m.u.bye.reason), m.u.bye.text[0] ? ": " : "",
			 m.u.bye.text);
		return -1;
	}
	if (m.type != FC_MSG_HELLO) {
		snprintf(err, errlen, "%s: expected HELLO, got %s", fc_conn_peer(c),
			 fc_proto_type_name(m.type));
		fc_conn_bye(c, FC_BYE_PROTOCOL, "expected HELLO first");
		return -1;
	}
	if (m.u.hello.role == mine->role) {
		snprintf(text, sizeof(text), "both ends are %ss; connect a sender to a viewer",
			 fc_hello_role_name(mine->role));
		fc_conn_bye(c, FC_BYE_ROLE, text);
		snprintf(err, errlen, "%s (%s): %s", fc_conn_peer(c), m.u.hello.name, text);
		return -1;
	}
	raw = fc_conn_raw(c, &their_len);
	if (!raw || their_len > sizeof(their_bytes)) {
		snprintf(err, errlen, "%s: HELLO of %zu bytes", fc_conn_peer(c), their_len);
		return -1;
	}
	memcpy(their_bytes, raw, their_len);
	*theirs = m.u.hello;
	if (secure != ((theirs->flags & FC_HELLO_PASSPHRASE) != 0))
		return passphrase_mismatch(c, mine, secure, theirs, err, errlen);
	if (!secure)
		return 0;
	return authenticate(c, auth, mine->role, my_bytes, my_len, their_bytes, their_len,
			    timeout_ms, err, errlen);
}

/* Before a listening side's exchange: 0 when host may try now (after a hold, if the throttle
 * says so); -1 when it is refused, the peer told with a BYE instead of a HELLO. */
static int admit(struct fc_conn *c, const struct fc_hello_auth *auth, const char *host, char *err,
		 size_t errlen)
{
	char text[FC_PROTO_MAX_TEXT + 1];
	uint64_t retry = 0;
	int64_t wait = fc_throttle_begin(auth->throttle, host, fc_clock_now_ns(), &retry);

	if (wait < 0) {
		snprintf(text, sizeof(text),
			 "too many failed attempts from %s; try again in %.0f s", host,
			 (double)retry / 1e9 + 0.5);
		snprintf(err, errlen, "%s refused: %s", fc_conn_peer(c), text);
		fc_conn_refuse(c, FC_BYE_AUTH, text);
		return -1;
	}
	if (wait > 0 && auth->hold)
		auth->hold(auth->hold_arg, (uint64_t)wait);
	else if (wait > 0)
		fc_clock_sleep_until(fc_clock_now_ns() + (uint64_t)wait);
	return 0;
}

int fc_hello_exchange_auth(struct fc_conn *c, const struct fc_hello *mine,
			   const struct fc_hello_auth *auth, struct fc_hello *theirs,
			   int timeout_ms, char *err, size_t errlen)
{
	char host[64];
	int rc;

	if (!auth || !auth->psk || !auth->throttle || auth->dialled)
		return exchange(c, mine, auth, theirs, timeout_ms, err, errlen);
	fc_throttle_host(fc_conn_peer(c), host, sizeof(host));
	if (admit(c, auth, host, err, errlen) < 0)
		return -1;
	rc = exchange(c, mine, auth, theirs, timeout_ms, err, errlen);
	fc_throttle_end(auth->throttle, host, rc == FC_HELLO_AUTH_FAILED, fc_clock_now_ns());
	return rc;
}

int fc_hello_exchange(struct fc_conn *c, const struct fc_hello *mine, struct fc_hello *theirs,
		      int timeout_ms, char *err, size_t errlen)
{
	return fc_hello_exchange_auth(c, mine, NULL, theirs, timeout_ms, err, errlen);
}
