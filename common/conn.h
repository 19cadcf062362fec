/*
 * conn: freshcam messages over one connected socket, with the limits and deadlines that keep a
 * bad peer from costing more than its own connection.
 *
 * Receiving reads whatever the socket has into a buffer owned by the handle and decodes from it
 * with the pure decoder (proto.h). The buffer grows only to the size the message's validated header
 * declares, capped by max_message, and is kept for the next one: one allocation per connection,
 * not per frame. A peer that sends no byte of a message under way for stall_ms is cut off; a
 * message that keeps coming, however slowly (a large frame on a slow link), is not.
 *
 * A received message (and a FRAME's jpeg, which points into the buffer) stays valid until the
 * next fc_conn_recv. One thread at a time uses a handle (the session or network thread that owns
 * it); the handle owns the fd and closes it in fc_conn_free.
 *
 * Errors return -1 with a reason in the handle (fc_conn_error), ready for the log; nothing here
 * prints.
 *
 * Private streams: after fc_conn_secure every message is sealed on the way out and must be a
 * SEALED record that opens as the next one from the peer on the way in (secure.h); anything else
 * ends the connection. Sealing needs the message in one piece, so a FRAME's JPEG is copied once
 * into an output buffer the handle owns (grown to the largest message sent, kept), encrypted
 * there in place and written from there. Received records are opened in place in the receive
 * buffer. max_message still bounds the message; the record adds FC_PROTO_SEAL_OVERHEAD bytes.
 */
#ifndef FC_CONN_H
#define FC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "secure.h"

struct fc_conn;

/* How long fc_conn_refuse waits for the refused peer to close. */
#define FC_CONN_LINGER_MS 200

/* Takes ownership of fd (made non-blocking; closed here if this fails). peer names the other end
 * in messages. NULL with errno when it fails: ENOMEM, or why fd cannot be made non-blocking
 * (EBADF: not an open descriptor). */
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

/* When the first byte of the message fc_conn_recv handed out last was read (the clock of
 * clock.h): with the moment it returned, how long the message took to arrive. */
uint64_t fc_conn_first_ns(const struct fc_conn *c);

/* The longest wait between two reads that brought bytes of that message: a stall inside it (a
 * lost packet's repair) rather than the link's pace. 0 when it came in one read. */
uint64_t fc_conn_gap_ns(const struct fc_conn *c);

/* When the latest byte from the peer came (the clock of clock.h; 0 before any): progress, also
 * inside a message that is not whole yet. A slow frame keeps it recent; a silent peer does not. */
uint64_t fc_conn_heard_ns(const struct fc_conn *c);

/* Sends one message, giving up when the socket takes nothing for timeout_ms. A FRAME's jpeg goes out from where it is, uncopied. */
int fc_conn_send(struct fc_conn *c, const struct fc_msg *msg, int timeout_ms);

/* Sends a BYE with a reason and text, best effort (a short timeout, errors ignored). */
void fc_conn_bye(struct fc_conn *c, int reason, const char *text);

/* Refuses the peer: sends a BYE (as fc_conn_bye) and nothing more, then reads and drops what the
 * peer still sends until it closes, for up to FC_CONN_LINGER_MS. Closing on unread bytes would
 * reset the connection, and a reset can reach the peer before it reads the BYE (its next write
 * fails first), so that it never learns why. Free the connection next. */
void fc_conn_refuse(struct fc_conn *c, int reason, const char *text);

/* The exact bytes of the message fc_conn_recv handed out last (opened, when sealed), valid as
 * long as the message: the handshake hashes the peer's HELLO as it came. */
const uint8_t *fc_conn_raw(const struct fc_conn *c, size_t *len);

/* From the next message on, each way: seal what is sent, open what is received, with keys (copied
 * into the handle, wiped at fc_conn_free; the caller should wipe its copy). */
void fc_conn_secure(struct fc_conn *c, const struct fc_secure_keys *keys);

/* Whether fc_conn_secure has been called. */
bool fc_conn_is_secure(const struct fc_conn *c);

#endif
