/*
 * hello: the HELLO exchange that opens every connection, whichever side dialled.
 *
 * Both ends send their HELLO at once and then read the other's, so neither waits on the other
 * and the exchange costs one round trip. The checks both sides need live here once: the protocol
 * version (each side says what the other speaks, in its BYE and in its error), the roles (one
 * sender, one viewer), and a BYE sent instead of a HELLO (a full sender says so).
 *
 * Blocking within a timeout; used by the thread that owns the connection. Never prints.
 */
#ifndef FC_HELLO_H
#define FC_HELLO_H

#include <stddef.h>

#include "conn.h"
#include "proto.h"

/* Sends mine, receives theirs. 0 on success; -1 with the reason in err (the peer has been told
 * why with a BYE where that helps it). */
int fc_hello_exchange(struct fc_conn *c, const struct fc_hello *mine, struct fc_hello *theirs,
		      int timeout_ms, char *err, size_t errlen);

/* "sender" or "viewer". */
const char *fc_hello_role_name(int role);

#endif
