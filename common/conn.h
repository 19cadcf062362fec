/*
 * conn: freshcam messages over one connected socket, with the limits and deadlines that keep a
 * bad peer from costing more than its own connection.
 *
 * Receiving reads whatever the socket has into a buffer owned by the handle and decodes from it
 * with the pure decoder (proto.h). The buffer grows only to the size the message's validated header
 * declares, capped by max_message, and is kept for the next one: one allocation per connection,
 * not per frame. A peer that leaves a message half-sent for longer than stall_ms is cut off.
 *
 * A received message (and a FRAME's jpeg, which points into the buffer) stays valid until the
 * next fc_conn_recv. One thread at a time uses a handle (the session or network thread that owns
 * it); the handle owns the fd and closes it in fc_conn_free.
 *
 * Errors return -1 with a reason in the handle (fc_conn_error), ready for the log; nothing here
 * prints.
 */
#ifndef FC_CONN_H
#define FC_CONN_H

#include <stddef.h>

#include "proto.h"

struct fc_conn;

/* Takes ownership of fd (made non-blocking; closed here if this fails). peer names the other end
 * in messages. NULL when out of memory. */
struct fc_conn *fc_conn_new(int fd, const char *peer, size_t max_message, int stall_ms);
void fc_conn_free(struct fc_conn *c);

int fc_conn_fd(const struct fc_conn *c);
const char *fc_conn_peer(const struct fc_conn *c);
const char *fc_conn_error(const struct fc_conn *c);
/* The enum fc_proto_error that ended the connection (a malformed message), or 0 when it ended
 * otherwise (closed, I/O error, stall, or not ended). */
int fc_conn_proto_error(const struct fc_conn *c);

/*
 * Receives one message, waiting up to timeout_ms (0: only what has already arrived).
 * Returns 1 with *msg filled; 0 when no whole message came in time; -1 when the connection is
 * over: closed, an I/O error, a malformed message or a stalled one (fc_conn_error says which).
 * On a version mismatch, msg->version tells what the peer speaks.
 */
int fc_conn_recv(struct fc_conn *c, struct fc_msg *msg, int timeout_ms);

/* Sends one message within timeout_ms. A FRAME's jpeg goes out from where it is, uncopied. */
int fc_conn_send(struct fc_conn *c, const struct fc_msg *msg, int timeout_ms);

/* Sends a BYE with a reason and text, best effort (a short timeout, errors ignored). */
void fc_conn_bye(struct fc_conn *c, int reason, const char *text);

#endif
