/*
 * proto: the freshcam wire format, version 6, as pure encode and decode over byte buffers.
 *
 * No I/O, no allocation, no globals: every prefix of every message is a unit test and the decoder
 * is a fuzz target (docs/STYLE.md, 8). docs/PROTOCOL.md is the reference for the bytes; this header is
 * the reference for the C API.
 *
 * Every message is an 8-byte header and a payload:
 *   'F' 'C' | version u8 | type u8 | payload length u32 (network byte order)
 * The length is checked against the type's own limit as soon as the header is in, before the
 * caller buffers or allocates anything for the payload.
 *
 * Version 2 adds private streams (secure.h): a HELLO says whether its side has a passphrase and
 * carries a fresh nonce, AUTH carries a handshake proof, and SEALED carries one whole message,
 * encrypted and authenticated. Opening a SEALED is conn.c's business (secure.h does the
 * cryptography); here it is bytes with bounds.
 *
 * Version 3 fits frames to each viewer's link: a FRAME says which rendition of the picture it
 * carries (its size, the captured picture's size, its JPEG quality), a VERDICT says how long
 * the frame took to arrive, and a viewer's HELLO says what it will not go below (or that it
 * wants the full picture only).
 *
 * Version 4 relates the two clocks (a FRAME carries the sender's send time, a PONG its clock).
 * Version 5 is for robots and labs: the HELLO carries the sender's station name, DATA carries a
 * JSON document tied to a frame either way, and CONTROL, CONTROL_RESULT and STILL carry camera
 * commands, their answers and full-size stills (proto_control.h).
 */
#ifndef FC_PROTO_H
#define FC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto_control.h"
#include "proto_parts.h"

#define FC_PROTO_VERSION     6
#define FC_PROTO_HEADER_SIZE 8

/* Limits. A peer that exceeds one is cut off; none is negotiable. */
#define FC_PROTO_MAX_NAME    64		 /* HELLO software name, bytes */
#define FC_PROTO_MAX_STATION 64		 /* HELLO station name (--name), bytes (version 5) */
#define FC_PROTO_MAX_TEXT    200	 /* BYE and STATUS text, bytes */
#define FC_PROTO_MAX_JPEG    (16u << 20) /* one frame's JPEG, bytes */
#define FC_PROTO_MAX_DIM     16384	 /* frame width or height, pixels */
/* Pixels in one frame (8K UHD): what a viewer will decode, bounding what one frame can make it
 * allocate (about 100 MB at 4:4:4). */
#define FC_PROTO_MAX_PIXELS  (7680 * 4320)
#define FC_PROTO_MAX_WINDOW  16 /* requests a viewer may keep in flight */
#define FC_PROTO_FRAME_FIXED 61 /* FRAME payload before the JPEG bytes */
#define FC_PROTO_HELLO_FIXED 62 /* HELLO payload before the station and software names */
/* A HELLO's largest payload: the fixed part and both names. */
#define FC_PROTO_HELLO_MAX   (FC_PROTO_HELLO_FIXED + FC_PROTO_MAX_STATION + FC_PROTO_MAX_NAME)
#define FC_PROTO_MAX_DATA    4096 /* DATA: one JSON document, bytes (jdoc.h) */
#define FC_PROTO_DATA_FIXED  8	  /* DATA payload before the document: the frame's seq */
#define FC_PROTO_MAX_MESSAGE (FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_JPEG)
#define FC_PROTO_NONCE_SIZE  32 /* HELLO nonce, bytes */
#define FC_PROTO_PROOF_SIZE  32 /* AUTH proof, bytes */
#define FC_PROTO_TAG_SIZE    16 /* SEALED authentication tag, bytes */
/* A SEALED payload: one whole message (at least a header and 4 bytes), encrypted, and its tag. */
#define FC_PROTO_SEALED_MIN (FC_PROTO_HEADER_SIZE + 4 + FC_PROTO_TAG_SIZE)
#define FC_PROTO_SEALED_MAX (FC_PROTO_MAX_MESSAGE + FC_PROTO_TAG_SIZE)
/* What sealing adds to a message on the wire: the SEALED header and the tag. */
#define FC_PROTO_SEAL_OVERHEAD (FC_PROTO_HEADER_SIZE + FC_PROTO_TAG_SIZE)
/* The largest thing on the wire: the largest message, sealed. */
#define FC_PROTO_MAX_RECORD (FC_PROTO_MAX_MESSAGE + FC_PROTO_SEAL_OVERHEAD)

/* HELLO flags. */
#define FC_HELLO_PASSPHRASE  0x01 /* this side has a passphrase: AUTH follows, then SEALED only */
#define FC_HELLO_FULL_ONLY   0x02 /* a viewer: the full picture always, never a smaller rendition */
#define FC_HELLO_UDP	     0x04 /* version 6: UDP offered (sender) or wanted (viewer), section 13 */
#define FC_HELLO_PARTS	     0x08 /* a viewer (version 6): it takes frames in parts (proto_parts.h) */
#define FC_HELLO_FLAGS	     (FC_HELLO_PASSPHRASE | FC_HELLO_FULL_ONLY | FC_HELLO_UDP | FC_HELLO_PARTS)
#define FC_PROTO_MAX_QUALITY 100 /* JPEG quality, 1..100; 0 in a FRAME: not known (a camera's) */

enum fc_msg_type {
	FC_MSG_HELLO = 1,
	FC_MSG_REQUEST = 2,
	FC_MSG_FRAME = 3,
	FC_MSG_VERDICT = 4,
	FC_MSG_PING = 5,
	FC_MSG_PONG = 6,
	FC_MSG_BYE = 7,
	FC_MSG_STATUS = 8,
	FC_MSG_AUTH = 9,	    /* handshake proof (secure.h), plaintext, once each way */
	FC_MSG_SEALED = 10,	    /* an encrypted, authenticated message (secure.h) */
	FC_MSG_DATA = 11,	    /* version 5: a JSON document tied to a frame, either way */
	FC_MSG_CONTROL = 12,	    /* version 5: a viewer's command (proto_control.h) */
	FC_MSG_CONTROL_RESULT = 13, /* version 5: the sender's answer to one */
	FC_MSG_STILL = 14,	    /* version 5: the full picture a still command asked for */
	FC_MSG_FRAME_START = 15,    /* version 6: a frame in parts begins (proto_parts.h) */
	FC_MSG_FRAME_PART = 16,	    /* version 6: more of its bytes */
	FC_MSG_FRAME_END = 17,	    /* version 6: its end, complete or given up */
};

enum fc_role { FC_ROLE_SENDER = 1, FC_ROLE_VIEWER = 2 };

enum fc_codec { FC_CODEC_JPEG = 1 };

/* What became of a frame, as the viewer tells the sender. */
enum fc_verdict_kind {
	FC_VERDICT_ACCEPTED = 1, /* within the budget: handed to the display */
	FC_VERDICT_LATE = 2,	 /* its age bound exceeded the budget: rejected, never shown */
};

/* Why a connection ends. */
enum fc_bye_reason {
	FC_BYE_NORMAL = 0,     /* the peer is done (--seconds ran out, Ctrl-C) */
	FC_BYE_VERSION = 1,    /* protocol versions differ; the text says which this side speaks */
	FC_BYE_ROLE = 2,       /* both ends are senders, or both viewers */
	FC_BYE_PROTOCOL = 3,   /* a malformed or out-of-order message; the text says which */
	FC_BYE_FULL = 4,       /* the sender serves as many viewers as it may */
	FC_BYE_TIMEOUT = 5,    /* nothing heard from the peer for too long */
	FC_BYE_AUTH = 6,       /* the handshake proof did not verify (or too many tries) */
	FC_BYE_PASSPHRASE = 7, /* one side has a passphrase and the other not */
};

/* The state of the sender's source (a camera may be unplugged and come back). */
enum fc_source_state { FC_SOURCE_LIVE = 1, FC_SOURCE_LOST = 2 };

struct fc_hello {
	uint8_t role;	    /* enum fc_role */
	uint8_t codec;	    /* enum fc_codec; the sender's, 0 from a viewer */
	uint16_t window;    /* viewer: requests it keeps in flight (1..FC_PROTO_MAX_WINDOW) */
	uint32_t budget_us; /* viewer: the age budget (--max-age); the sender drops older frames */
	uint16_t width;	    /* sender: the stream's size, 0 if not known yet */
	uint16_t height;
	uint32_t fps_milli;		    /* sender: nominal frame rate x 1000, 0 if not known */
	uint8_t flags;			    /* FC_HELLO_* bits */
	uint8_t nonce[FC_PROTO_NONCE_SIZE]; /* fresh random with a passphrase, else zero */
	/* Viewer: the least it accepts when the sender fits frames to its link (0: no floor). A
	 * rendition narrower or lower than the floor (or than the full picture, when that is
	 * smaller), or of a lower JPEG quality, is never sent to it. */
	uint16_t min_width;
	uint16_t min_height;
	uint8_t min_quality;		  /* 0..100 */
	char name[FC_PROTO_MAX_NAME + 1]; /* software and version, printable ASCII */
	/* Version 5: which camera or viewer this is (the sender's --name, by default the host
	 * name), printable ASCII, "" for none. A viewer tells its senders apart by it. */
	char station[FC_PROTO_MAX_STATION + 1];
	/* Version 6, with FC_HELLO_UDP (0 without): the port this side takes datagrams on, and from
	 * a sender the connection id every datagram of this connection carries (random, not 0). */
	uint16_t udp_port;
	uint32_t conn;
};

struct fc_request {
	uint32_t id;	/* the viewer's request number, echoed in the FRAME */
	uint64_t t0_ns; /* V0: the viewer's clock when it sent the request */
};

/*
 * A FRAME answers one REQUEST. One with no JPEG bytes (jpeg_size 0) is a stale notice: the
 * freshest frame the sender had was already older than the viewer's budget, so it sends the
 * timings without the bytes; the viewer counts it as rejected and can say why.
 */
struct fc_frame_msg {
	uint32_t id;	  /* the REQUEST this answers */
	uint64_t t0_ns;	  /* V0 echoed */
	uint64_t held_ns; /* S2 - S1: how long the request waited at the sender */
	uint64_t age_ns;  /* S2 - Sc: how old the frame was when sending began */
	uint64_t seq;	  /* the sender's frame sequence number, increasing */
	uint16_t width;	  /* this rendition's size: the JPEG's */
	uint16_t height;
	uint16_t src_width; /* the captured picture's size, at least width x height */
	uint16_t src_height;
	uint8_t quality;       /* the JPEG quality it was encoded at, 1..100; 0: not known */
	uint64_t send_ns;      /* S2 itself: the sender's monotonic clock as sending began */
	uint64_t send_real_ns; /* its CLOCK_REALTIME read at S2; 0: not known */
	const uint8_t *jpeg;   /* decoded: points into the caller's buffer; encoded: copied */
	uint32_t jpeg_size;
};

struct fc_verdict {
	uint32_t id;
	uint64_t seq;
	uint32_t bound_us; /* the age bound the viewer computed (saturated) */
	uint8_t kind;	   /* enum fc_verdict_kind */
	/* From the FRAME's first byte to its last at the viewer (saturated): how long the frame
	 * took to cross the link's narrowest part, which tells the sender the link's rate. */
	uint32_t recv_us;
	/* The longest wait between two reads of those bytes (saturated): a stall inside the frame,
	 * a lost packet's repair, which the sender must not take for a slower link. */
	uint32_t gap_us;
};

struct fc_ping {
	uint64_t token;	   /* opaque to the receiver, echoed in the PONG */
	uint64_t clock_ns; /* PONG only: the answerer's monotonic clock as it read the PING */
};

struct fc_bye {
	uint16_t reason; /* enum fc_bye_reason (unknown values are kept, not rejected) */
	char text[FC_PROTO_MAX_TEXT + 1];
};

struct fc_status {
	uint8_t source; /* enum fc_source_state */
	char text[FC_PROTO_MAX_TEXT + 1];
};

/* AUTH: this side's proof that it knows the passphrase, bound to this connection's HELLOs. */
struct fc_auth {
	uint8_t proof[FC_PROTO_PROOF_SIZE];
};

/* SEALED: a whole message, encrypted, then its tag; decoded: points into the caller's buffer. */
struct fc_sealed {
	const uint8_t *data;
	uint32_t size; /* ciphertext and tag */
};

/* DATA: a JSON document (jdoc.h: one value, UTF-8, no byte below 0x20, checked by the decoder
 * and the encoder). Sender to viewer: it rides with the FRAME of seq, which follows it at once;
 * viewer to sender: a result that answers frame seq. Decoded: doc points into the caller's
 * buffer. */
struct fc_data {
	uint64_t seq;
	const uint8_t *doc;
	uint32_t size; /* 1..FC_PROTO_MAX_DATA */
};

struct fc_msg {
	uint8_t version; /* from the header; on FC_PROTO_E_VERSION, what the peer speaks */
	uint8_t type;	 /* enum fc_msg_type */
	union {
		struct fc_hello hello;
		struct fc_request request;
		struct fc_frame_msg frame; /* FRAME and FRAME_START (its first bytes) */
		struct fc_frame_part part;
		struct fc_frame_end end;
		struct fc_verdict verdict;
		struct fc_ping ping; /* PING and PONG */
		struct fc_bye bye;
		struct fc_status status;
		struct fc_auth auth;
		struct fc_sealed sealed;
		struct fc_data data;
		struct fc_control control;
		struct fc_control_result result;
		struct fc_still still;
	} u;
};

/* Decoder results: > 0 bytes consumed, 0 need more, < 0 one of these, negated. */
enum fc_proto_error {
	FC_PROTO_E_MAGIC = 1,	/* not a freshcam stream */
	FC_PROTO_E_VERSION = 2, /* another protocol version: msg->version says which */
	FC_PROTO_E_TYPE = 3,	/* unknown message type */
	FC_PROTO_E_LENGTH = 4,	/* payload length out of the type's bounds */
	FC_PROTO_E_FIELD = 5,	/* a field out of range (role, size, text, ...) */
};

/*
 * Decodes the message at the start of buf[0..len).
 * Returns its size (> 0) and fills *msg; or 0 when buf holds only a valid prefix, setting *need to
 * the total size of the message when the header is in (else FC_PROTO_HEADER_SIZE); or a negated
 * enum fc_proto_error as soon as the bytes in hand prove the message bad. A FRAME's jpeg points
 * into buf. need may be NULL.
 */
ssize_t fc_proto_decode(const uint8_t *buf, size_t len, struct fc_msg *msg, size_t *need);

/* Encodes msg (its version is ignored: this side always speaks FC_PROTO_VERSION) into buf.
 * Returns the bytes written, or 0 when buf is too small or a field is out of range. */
size_t fc_proto_encode(const struct fc_msg *msg, uint8_t *buf, size_t cap);

/* The bytes fc_proto_encode would write for msg, header included (0 for an unknown type): what a
 * buffer for it needs. */
size_t fc_proto_encoded_size(const struct fc_msg *msg);

/* For sending a FRAME without copying its JPEG: encodes the header and fixed fields only
 * (FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED bytes); the JPEG bytes follow on the wire. */
size_t fc_proto_encode_frame_head(const struct fc_frame_msg *frame, uint8_t *buf, size_t cap);

/* Writes a bare header (this version) for a payload of plen bytes: for SEALED records, whose
 * payload the caller builds in place. Returns FC_PROTO_HEADER_SIZE, or 0 when cap is too small
 * or plen is out of the type's bounds. */
size_t fc_proto_encode_header(uint8_t type, uint32_t plen, uint8_t *buf, size_t cap);

/* Encodes a HELLO header with an arbitrary version: for tests and for tools that must speak to a
 * peer of another version. */
size_t fc_proto_encode_version(const struct fc_msg *msg, uint8_t version, uint8_t *buf, size_t cap);

const char *fc_proto_strerror(int error);
const char *fc_proto_type_name(int type);
const char *fc_proto_bye_reason_name(int reason);

#endif
