/*
 * proto_control: the payloads of version 5's camera-control messages, CONTROL (a viewer's command:
 * list the controls, set one, take a still), CONTROL_RESULT (the sender's answer to each) and
 * STILL (the full picture a still command asked for), as pure encode and decode over bytes.
 *
 * proto.c frames them (the header, the type's length bounds) and calls these for the payload;
 * docs/PROTOCOL.md, section 11, is the reference for the bytes. No I/O, no allocation, no
 * globals. The wire checks only what every receiver needs (lengths, that a result's text is
 * printable); what a command means (a known op, a known control, a value in its range) is the
 * sender's to judge, and it answers a bad one with an error result instead of ending the
 * connection.
 */
#ifndef FC_PROTO_CONTROL_H
#define FC_PROTO_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_PROTO_CONTROL_FIXED	  14	      /* CONTROL payload before the name */
#define FC_PROTO_MAX_CONTROL_NAME 32	      /* a control's name, bytes (V4L2's own limit) */
#define FC_PROTO_RESULT_FIXED	  6	      /* CONTROL_RESULT payload before the text */
#define FC_PROTO_MAX_RESULT_TEXT  (16u << 10) /* a result's text (the control list), bytes */
#define FC_PROTO_STILL_FIXED	  33	      /* STILL payload before the JPEG bytes */

/* What a CONTROL asks. Unknown values decode (the sender answers FC_CONTROL_E_BAD). */
enum fc_control_op {
	FC_CONTROL_LIST = 1,  /* the camera's controls, with ranges, menus and current values */
	FC_CONTROL_SET = 2,   /* set the named control to value */
	FC_CONTROL_STILL = 3, /* the full picture now, as a STILL */
	FC_CONTROL_NUDGE = 4, /* move the named control value nudges (signed) from where it is */
};

/* A CONTROL_RESULT's status. Unknown values decode (a newer sender's), shown as a number. */
enum fc_control_status {
	FC_CONTROL_OK = 0, /* done: the text is the list, the value set, or the still's seq */
	FC_CONTROL_E_REFUSED = 1,   /* the sender does not take commands (no --allow-control) */
	FC_CONTROL_E_BAD = 2,	    /* a malformed command: unknown op, a name not [a-z0-9_] */
	FC_CONTROL_E_UNKNOWN = 3,   /* no control of that name on this camera */
	FC_CONTROL_E_RANGE = 4,	    /* the value is outside the control's range or menu */
	FC_CONTROL_E_DEVICE = 5,    /* the camera refused or failed (the text has its errno) */
	FC_CONTROL_E_NO_CAMERA = 6, /* the source has no controls (a test pattern, a photo) */
	FC_CONTROL_E_BUSY = 7,	    /* no picture to take a still of yet, or commands too fast */
	FC_CONTROL_E_READ_ONLY = 8, /* the control cannot be set (read-only, disabled, a class) */
};

/* CONTROL, viewer to sender. */
struct fc_control {
	uint32_t id;   /* the viewer's command number, echoed in the result (and the STILL) */
	uint8_t op;    /* enum fc_control_op */
	int64_t value; /* SET: the value; NUDGE: how many nudges, negative down; 0 otherwise */
	/* SET, NUDGE: the control's name as v4l2-ctl -L shows it ("exposure_time_absolute");
	 * empty otherwise. Not checked on the wire beyond its length: the sender judges it. */
	char name[FC_PROTO_MAX_CONTROL_NAME + 1];
};

/* CONTROL_RESULT, sender to viewer: one per CONTROL, in the order they came. */
struct fc_control_result {
	uint32_t id;
	uint8_t op;	/* the command's op, echoed */
	uint8_t status; /* enum fc_control_status */
	/* Printable ASCII and newlines (LIST: one JSON object per control and line); decoded: points
	 * into the caller's buffer, not NUL-terminated; encoded: copied. */
	const char *text;
	uint32_t text_len;
};

/* STILL, sender to viewer: the full-size picture a still command asked for, whatever rendition
 * the stream gets; sent before its CONTROL_RESULT. */
struct fc_still {
	uint32_t id;	/* the still command it answers */
	uint64_t seq;	/* the frame's sequence number (the stream's) */
	uint16_t width; /* the JPEG's size: the captured picture's */
	uint16_t height;
	uint8_t quality;     /* the JPEG quality it was encoded at; 0: not known (a camera's own) */
	uint64_t age_ns;     /* how old the picture was when the STILL left */
	uint64_t real_ns;    /* its capture time on the sender's wall clock (CLOCK_REALTIME); 0: not
			     * known */
	const uint8_t *jpeg; /* decoded: points into the caller's buffer; encoded: copied */
	uint32_t jpeg_size;  /* 1..FC_PROTO_MAX_JPEG */
};

/* Payload decoders: 0, or -5 (-FC_PROTO_E_FIELD) when a field is out of range; p holds n bytes,
 * n within the type's bounds (proto.c checked). */
int fc_proto_control_decode(const uint8_t *p, uint32_t n, struct fc_control *c);
int fc_proto_result_decode(const uint8_t *p, uint32_t n, struct fc_control_result *r);
int fc_proto_still_decode(const uint8_t *p, uint32_t n, struct fc_still *s);

/* Payload sizes, as they will be encoded (proto.c checks them against the bounds). */
size_t fc_proto_control_size(const struct fc_control *c);

/* Payload encoders into p, which has room for the size; false when a field would not decode. */
bool fc_proto_control_put(const struct fc_control *c, uint8_t *p);
bool fc_proto_result_put(const struct fc_control_result *r, uint8_t *p);
bool fc_proto_still_put(const struct fc_still *s, uint8_t *p);

/* Whether name is a control name as v4l2-ctl writes one: 1..32 of [a-z0-9_]. */
bool fc_proto_control_name_ok(const char *name, size_t len);

const char *fc_proto_control_op_name(int op);
const char *fc_proto_control_status_name(int status);

#endif
