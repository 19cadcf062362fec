/*
 * hello: the HELLO exchange that opens every connection, whichever side dialled.
 *
 * Both ends send their HELLO at once and then read the other's, so neither waits on the other
 * and the exchange costs one round trip. The checks both sides need live here once: the protocol
 * version (each side says what the other speaks, in its BYE and in its error), the roles (one
 * sender, one viewer), and a BYE sent instead of a HELLO (a full sender says so).
 *
 * With a passphrase (secure.h), the HELLOs carry a flag and a fresh nonce each, and the exchange
 * goes on: both sides derive this connection's keys from the passphrase key and both HELLOs'
 * bytes; the side that dialled sends its AUTH proof first; the listening side checks it, says
 * BYE "authentication failed" if it is wrong, and only then sends its own proof, which the dialler
 * checks in turn. So a stranger who can reach a listening port learns nothing it could test
 * passphrases against offline. From then on the connection is sealed both ways (conn.h). A side
 * with a passphrase never talks to one without: both say that a passphrase is required.
 *
 * A listening side with a passphrase also slows down guessing (throttle.h): before its HELLO it
 * asks the throttle whether the peer's address may try now, holds the try or refuses it (a BYE
 * instead of its HELLO), and afterwards tells the throttle whether the peer's proof was wrong.
 *
 * Blocking within a timeout; used by the thread that owns the connection. Never prints.
 */
#ifndef FC_HELLO_H
#define FC_HELLO_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "proto.h"
#include "secure.h"
#include "throttle.h"

/* fc_hello_exchange_auth's result when the peer's proof was wrong: a guess, for fc_throttle. */
#define FC_HELLO_AUTH_FAILED (-2)

struct fc_hello_auth {
	const struct fc_secure_psk *psk; /* NULL: no passphrase, a plaintext stream */
	bool dialled;			 /* this side connected; it proves first */
	/* Listening with a passphrase: the table of addresses whose proofs failed (shared by the
	 * side's connections), or NULL for none. Not used when dialled or without psk. */
	struct fc_throttle *throttle;
	/* Waits ns before a try the throttle holds (at most FC_THROTTLE_HOLD_NS); a caller that
	 * may be stopped meanwhile passes a wait that ends early. NULL: sleeps. */
	void (*hold)(void *arg, uint64_t ns);
	void *hold_arg;
	/* With a passphrase and not NULL: set to the UDP transport's datagram keys, from the same
	 * HELLOs (fc_secure_dgram_keys): [0] seals what this side sends, [1] opens. The caller
	 * wipes them. */
	uint8_t (*dgram_keys)[FC_SECURE_KEY_SIZE];
};

/* Sends mine, receives theirs (mine's flags and nonce are set here). 0 on success; -1 with the
 * reason in err (the peer has been told why with a BYE where that helps it; an address the
 * throttle refuses gets "PEER refused: too many failed attempts from HOST; try again in N s");
 * FC_HELLO_AUTH_FAILED when the peer's proof was wrong. auth may be NULL (no passphrase). */
int fc_hello_exchange_auth(struct fc_conn *c, const struct fc_hello *mine,
			   const struct fc_hello_auth *auth, struct fc_hello *theirs,
			   int timeout_ms, char *err, size_t errlen);

/* The same without a passphrase. */
int fc_hello_exchange(struct fc_conn *c, const struct fc_hello *mine, struct fc_hello *theirs,
		      int timeout_ms, char *err, size_t errlen);

/* "sender" or "viewer". */
const char *fc_hello_role_name(int role);

#endif
