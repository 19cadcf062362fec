#include "control.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "controls.h"
#include "frame.h"

/* How long a still waits for a full-size picture when no viewer gets one: a few frame periods
 * at the slowest rates a camera runs at. */
#define STILL_WAIT_NS (1500 * FC_NS_PER_MS)

/* The newest picture at full size, asking the ladder for one when none is made (or waiting for
 * the first); NULL when none came in time (the source lost). */
static struct fc_frame *full_picture(const struct fc_control_ctx *ctx)
{
	uint64_t deadline = fc_clock_now_ns() + STILL_WAIT_NS;
	struct fc_frame *f = fc_slot_get_newer(ctx->slot, 0);
	uint64_t seq = f ? f->seq : 0;

	/* A viewer that just connected may ask before the first picture: wait for it too. */
	if (f && f->size > 0)
		return f;
	fc_frame_unref(f);
	f = NULL;
	fc_ladder_move(ctx->ladder, -1, 0);
	while (fc_clock_now_ns() < deadline) {
		f = fc_slot_wait_newer(ctx->slot, seq, deadline);
		if (!f || f->size > 0)
			break;
		seq = f->seq;
		fc_frame_unref(f);
		f = NULL;
	}
	fc_ladder_move(ctx->ladder, 0, -1);
	return f;
}

/* Sends the STILL; the result's status (and its text) say how it went. */
static int still(const struct fc_control_ctx *ctx, const struct fc_control *cmd, char *text,
		 size_t len, int *status)
{
	struct fc_msg m = { .type = FC_MSG_STILL };
	struct fc_frame *f = full_picture(ctx);
	uint64_t now = fc_clock_now_ns();
	int rc = 0;

	if (!f) {
		snprintf(text, len, "no full-size picture came within %.1f s (is the source live?)",
			 (double)STILL_WAIT_NS / 1e9);
		*status = FC_CONTROL_E_BUSY;
		return 0;
	}
	m.u.still = (struct fc_still){
		.id = cmd->id,
		.seq = f->seq,
		.width = f->width,
		.height = f->height,
		.quality = f->quality,
		.age_ns = now > f->capture_ns ? now - f->capture_ns : 0,
		.real_ns = fc_clock_real_ns() - (now > f->capture_ns ? now - f->capture_ns : 0),
		.jpeg = f->data,
		.jpeg_size = (uint32_t)f->size,
	};
	snprintf(text, len, "frame %llu, %ux%u, %zu bytes", (unsigned long long)f->seq, f->width,
		 f->height, f->size);
	*status = FC_CONTROL_OK;
	rc = fc_conn_send(ctx->conn, &m, ctx->io_timeout_ms);
	fc_frame_unref(f);
	return rc;
}

/* Whether an op names a control. */
static bool named(uint8_t op)
{
	return op == FC_CONTROL_SET || op == FC_CONTROL_NUDGE;
}

/* Does what cmd asks (but a still's picture), into status and text. */
static int run(const struct fc_control_ctx *ctx, const struct fc_control *cmd, char *text,
	       size_t len)
{
	const struct fc_control_cfg *cfg = ctx->cfg;

	if (!cfg->allow) {
		snprintf(text, len,
			 "this sender takes no commands (start it with --allow-control)");
		return FC_CONTROL_E_REFUSED;
	}
	if (cmd->op < FC_CONTROL_LIST || cmd->op > FC_CONTROL_NUDGE) {
		snprintf(text, len,
			 "unknown command op %u (this sender knows list, set, still, nudge)",
			 cmd->op);
		return FC_CONTROL_E_BAD;
	}
	if (!named(cmd->op) && (cmd->name[0] || cmd->value)) {
		snprintf(text, len, "a %s command carries no name and no value",
			 fc_proto_control_op_name(cmd->op));
		return FC_CONTROL_E_BAD;
	}
	if (cmd->op == FC_CONTROL_STILL)
		return FC_CONTROL_OK;
	if (named(cmd->op) && !fc_proto_control_name_ok(cmd->name, strlen(cmd->name))) {
		snprintf(text, len,
			 "a control's name is 1 to %d of a-z, 0-9 and _, as --list-controls shows",
			 FC_PROTO_MAX_CONTROL_NAME);
		return FC_CONTROL_E_BAD;
	}
	if (!cfg->device) {
		snprintf(text, len, "the source is not a camera: it has no controls");
		return FC_CONTROL_E_NO_CAMERA;
	}
	if (cmd->op == FC_CONTROL_LIST)
		return fc_controls_list(cfg->device, text, len);
	return fc_controls_set(cfg->device, cmd->name, cmd->value, cmd->op == FC_CONTROL_NUDGE,
			       text, len);
}

int fc_control_answer(const struct fc_control_ctx *ctx, const struct fc_control *cmd, char *note,
		      size_t len)
{
	static _Thread_local char text[FC_PROTO_MAX_RESULT_TEXT + 1];
	struct fc_msg m = { .type = FC_MSG_CONTROL_RESULT };
	int status = run(ctx, cmd, text, sizeof(text));

	if (status == FC_CONTROL_OK && cmd->op == FC_CONTROL_STILL &&
	    still(ctx, cmd, text, sizeof(text), &status) < 0)
		return -1;
	m.u.result = (struct fc_control_result){ .id = cmd->id,
						 .op = cmd->op,
						 .status = (uint8_t)status,
						 .text = text,
						 .text_len = (uint32_t)strlen(text) };
	if (cmd->op == FC_CONTROL_LIST && status == FC_CONTROL_OK)
		snprintf(note, len, "list: %zu bytes", strlen(text));
	else
		snprintf(note, len, "%s%s%s: %s: %.*s", fc_proto_control_op_name(cmd->op),
			 named(cmd->op) ? " " : "",
			 named(cmd->op) && fc_proto_control_name_ok(cmd->name, strlen(cmd->name))
			     ? cmd->name
			     : "",
			 fc_proto_control_status_name(status), 160, text);
	return fc_conn_send(ctx->conn, &m, ctx->io_timeout_ms);
}
