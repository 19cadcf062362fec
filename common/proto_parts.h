/*
 * proto_parts: version 6's frames in parts (issue 19), as pure encode and decode over bytes, and
 * the order rules a receiver checks them by.
 *
 * A frame in parts leaves while it is being encoded: FRAME_START (a FRAME's 61-byte fixed part,
 * same fields, same meaning, then the first JPEG bytes, possibly none), any number of
 * FRAME_PART (the frame's id and more bytes), and FRAME_END (the id, the JPEG's total length and
 * a status: complete, or given up with a reason; perhaps the last bytes). The JPEG's length is
 * known only at the end. One frame in parts at a time per connection, never interleaved.
 *
 * proto.c frames the messages (the header, the type's length bounds) and calls these for
 * PART's and END's payloads; START is decoded as a FRAME is. docs/PROTOCOL.md, section 14, is
 * the reference for the bytes. No I/O, no allocation, no globals. fc_parts_rx is the receiver's
 * state (a plain struct the caller owns, one per connection, one thread): it checks the order
 * rules and the lengths, which no single message can show.
 */
#ifndef FC_PROTO_PARTS_H
#define FC_PROTO_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_PROTO_PART_FIXED 4 /* FRAME_PART payload before the bytes: the frame's id */
#define FC_PROTO_END_FIXED  9 /* FRAME_END payload before the last bytes: id, total, status */

/* FRAME_END's status. Any but complete means the frame was given up: the viewer discards what
 * it has of it (a partial decode too) and shows nothing of it. */
enum fc_parts_status {
	FC_PARTS_COMPLETE = 0,	 /* the JPEG is whole: total bytes in all */
	FC_PARTS_SUPERSEDED = 1, /* a newer picture was captured before this one was encoded */
	FC_PARTS_TOO_OLD = 2,	 /* its age passed the viewer's budget before its end */
	FC_PARTS_FAILED = 3,	 /* the encode failed or the sender is stopping */
};
#define FC_PARTS_STATUS_MAX FC_PARTS_FAILED

/* FRAME_PART, sender to viewer: more bytes of the frame in parts. */
struct fc_frame_part {
	uint32_t id;	      /* the REQUEST the frame answers, as in its START */
	const uint8_t *bytes; /* decoded: points into the caller's buffer; encoded: copied */
	uint32_t size;	      /* 1..FC_PROTO_MAX_JPEG */
};

/* FRAME_END, sender to viewer: the frame's last message. */
struct fc_frame_end {
	uint32_t id;
	/* Every JPEG byte of the frame, START's, the PARTs' and this message's: 1..
	 * FC_PROTO_MAX_JPEG when complete; what was sent before a give-up otherwise. */
	uint32_t total;
	uint8_t status;	      /* enum fc_parts_status */
	const uint8_t *bytes; /* the last bytes (none when given up) */
	uint32_t size;
};

struct fc_msg;

/* Payload decoders: 0, or -5 (-FC_PROTO_E_FIELD) when a field is out of range; p holds n bytes,
 * n within the type's bounds (proto.c checked). */
int fc_proto_part_decode(const uint8_t *p, uint32_t n, struct fc_frame_part *part);
int fc_proto_end_decode(const uint8_t *p, uint32_t n, struct fc_frame_end *end);

/* Payload encoders into p, which has room for the fixed part and the bytes; false when a field
 * would not decode. */
bool fc_proto_part_put(const struct fc_frame_part *part, uint8_t *p);
bool fc_proto_end_put(const struct fc_frame_end *end, uint8_t *p);

/*
 * For sending without copying the JPEG: each writes a message's header and fixed fields, its
 * bytes to follow on the wire. START: FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED bytes, the
 * frame's jpeg_size being the first bytes' count; PART: FC_PROTO_HEADER_SIZE +
 * FC_PROTO_PART_FIXED for size bytes; END: FC_PROTO_HEADER_SIZE + FC_PROTO_END_FIXED, end->size
 * bytes to follow. 0 when cap is too small or a field is out of range.
 */
struct fc_frame_msg;
size_t fc_proto_start_head(const struct fc_frame_msg *start, uint8_t *buf, size_t cap);
size_t fc_proto_part_head(uint32_t id, uint32_t size, uint8_t *buf, size_t cap);
size_t fc_proto_end_head(const struct fc_frame_end *end, uint8_t *buf, size_t cap);

/* For a connection's zero-copy send: m's head (as the three above) into buf, and in *bytes,
 * *n the bytes that follow it on the wire; 0 when m is not a START, PART or END, or is
 * malformed. */
size_t fc_proto_parts_split(const struct fc_msg *m, uint8_t *buf, size_t cap, const uint8_t **bytes,
			    uint32_t *n);

/* The receiver's view of the frame in parts on one connection; zero it to start. */
struct fc_parts_rx {
	bool open;     /* a START came and its END has not */
	uint32_t id;   /* the open frame's id */
	uint32_t have; /* its JPEG bytes so far */
};

/* What fc_parts_rx_take made of a message. */
enum fc_parts_rx_result {
	FC_PARTS_RX_ERROR = -1,	 /* out of order or lengths that do not add up: BYE 3 */
	FC_PARTS_RX_OTHER = 0,	 /* not a part of a frame, and allowed here */
	FC_PARTS_RX_MORE = 1,	 /* a START or PART: its bytes belong to the open frame */
	FC_PARTS_RX_WHOLE = 2,	 /* an END, complete: the frame's have bytes are its JPEG */
	FC_PARTS_RX_GIVEN_UP = 3 /* an END, given up: discard the frame */
};

/*
 * Checks one decoded message from the sender against the order rules (PROTOCOL.md, section 14):
 * while a frame is open only its PARTs and END, PING, PONG and BYE may come; a PART or END
 * needs an open frame of its id; the bytes never add up past FC_PROTO_MAX_JPEG, and an END's
 * total is the bytes that came. On FC_PARTS_RX_ERROR, why says which rule was broken.
 */
int fc_parts_rx_take(struct fc_parts_rx *rx, const struct fc_msg *m, char *why, size_t len);

const char *fc_parts_status_name(int status);

#endif
