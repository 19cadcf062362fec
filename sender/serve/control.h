/*
 * control: the sender's answer to a viewer's CONTROL (version 5, docs/PROTOCOL.md, section 11):
 * list the camera's controls, set one, or take a still. Every command gets one CONTROL_RESULT,
 * whatever it asked and however malformed it is (an unknown op, a bad name): a bad command costs
 * its answer, never the connection.
 *
 * Commands are refused unless the sender was started with --allow-control. With a passphrase
 * every viewer has proved it before any command can arrive (the handshake comes first, and every
 * message after it is sealed), so "only from viewers that passed the passphrase" holds by
 * construction. A still is the full picture (rung 0 of the ladder) of the newest frame: when no
 * viewer wants the full size, the ladder is asked for it and the next picture brings it.
 *
 * Called on the session thread that owns the connection; the configuration is the sender's,
 * read-only while sessions run. Nothing here prints: the caller logs the one line the result
 * gives (fc_control_answer's note).
 */
#ifndef FC_CONTROL_H
#define FC_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "ladder.h"
#include "proto.h"
#include "slot.h"

struct fc_control_cfg {
	bool allow;	    /* --allow-control: commands are taken (else each is refused) */
	const char *device; /* the camera's path; NULL for the test pattern or a photo */
};

/* What a command needs of its session. */
struct fc_control_ctx {
	const struct fc_control_cfg *cfg;
	struct fc_conn *conn;
	struct fc_slot *slot;
	struct fc_ladder *ladder;
	int io_timeout_ms;
};

/* Answers cmd on ctx->conn. 0 with a line for the log in note (what was asked and the result),
 * or -1 when the connection failed (fc_conn_error). */
int fc_control_answer(const struct fc_control_ctx *ctx, const struct fc_control *cmd, char *note,
		      size_t len);

#endif
