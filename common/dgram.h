/*
 * dgram: the datagrams of the UDP transport (docs/UDP.md), as pure encode and decode over byte
 * buffers: a frame's chunks, and the two control datagrams its repair needs (a NACK listing the
 * chunks of one frame still missing, and a GIVEUP saying a frame will not be completed).
 *
 * A frame travels as the payload of its FRAME message (docs/PROTOCOL.md, section 3: the 61-byte
 * fixed part, then the JPEG) cut into chunks of one size but the last, each small enough for a
 * path MTU (FC_DGRAM_CHUNK bytes by default). Chunk 0 starts with the fixed part, so it alone
 * tells the viewer everything the age bound needs; the decoder checks those fields by proto.c's
 * own rules.
 *
 * Every datagram stands alone: the decoder judges it whole, and a header that lies (an index
 * past the count, an offset past the length or off its place, a size other than the chunk
 * size (a truncated chunk), a count that does not follow from the length and the chunk size, a frame over FC_PROTO_MAX_JPEG) is refused with a reason, before anyone
 * stores anything. No I/O, no allocation, no globals; thread-safe (docs/STYLE.md, 8).
 */
#ifndef FC_DGRAM_H
#define FC_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define FC_DGRAM_VERSION    1  /* of this layout; the transport is chosen in the HELLO exchange */
#define FC_DGRAM_HEAD	    16 /* magic, version, type, connection id, frame seq */
#define FC_DGRAM_CHUNK_HEAD (FC_DGRAM_HEAD + 14) /* and index, count, total, offset, size */
/* A chunk's payload by default: with its 30-byte header a datagram of 1230 bytes, within the
 * 1232 bytes of UDP payload every IPv6 path carries (1280 - 40 - 8), the size QUIC assumes.
 * Sealed datagrams (24 bytes more, docs/UDP.md) are cut at 1176. */
#define FC_DGRAM_CHUNK 1200
/* Chunk sizes a frame may be cut to: all chunks but the last have this size. Below the least,
 * a 16 MiB frame would make a viewer keep a map of millions of chunks; above the most, no
 * Ethernet path (jumbo frames included) carries the datagram. */
#define FC_DGRAM_MIN_CHUNK 512
#define FC_DGRAM_MAX_CHUNK 8900
/* A frame: the FRAME's payload, its fixed part and at most FC_PROTO_MAX_JPEG bytes of JPEG. */
#define FC_DGRAM_MAX_FRAME (FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_JPEG)
/* Chunks in a frame at most: the largest frame at the least chunk size. */
#define FC_DGRAM_MAX_CHUNKS ((FC_DGRAM_MAX_FRAME + FC_DGRAM_MIN_CHUNK - 1) / FC_DGRAM_MIN_CHUNK)
/* Ranges in one NACK: a viewer asks for more by widening the last (chunks it has come again,
 * as duplicates, which cost bytes but never a wrong picture). */
#define FC_DGRAM_MAX_RANGES 64
#define FC_DGRAM_MAX_SIZE   (FC_DGRAM_CHUNK_HEAD + FC_DGRAM_MAX_CHUNK) /* the largest datagram */

enum fc_dgram_type {
	FC_DGRAM_T_CHUNK = 1,  /* sender -> viewer: a piece of a frame */
	FC_DGRAM_T_NACK = 2,   /* viewer -> sender: these chunks of frame seq are missing */
	FC_DGRAM_T_GIVEUP = 3, /* either way: frame seq will not be completed (reason says why) */
	/* 4 is left to parity chunks (forward error correction, docs/UDP.md). */
	/* Either way, the header alone: opens and keeps a NAT's mapping, and tells the peer the
	 * address this side's datagrams come from (docs/PROTOCOL.md, section 13). */
	FC_DGRAM_T_KEEPALIVE = 5,
};

/* Why a frame is given up. */
enum fc_dgram_giveup {
	FC_GIVEUP_LATE = 1,	 /* viewer: no repair could bring it within the budget */
	FC_GIVEUP_EVICTED = 2,	 /* viewer: newer frames took its place in assembly */
	FC_GIVEUP_FORGOTTEN = 3, /* sender: it no longer keeps the frame (too old, superseded) */
};

/* Decoder results: 0 a datagram, < 0 one of these, negated. */
enum fc_dgram_error {
	FC_DGRAM_E_SHORT = 1,	/* shorter than its type's header */
	FC_DGRAM_E_MAGIC = 2,	/* not a freshcam datagram */
	FC_DGRAM_E_VERSION = 3, /* another layout version */
	FC_DGRAM_E_TYPE = 4,	/* unknown type */
	FC_DGRAM_E_LENGTH = 5,	/* a control datagram of the wrong length for what it lists */
	FC_DGRAM_E_SEQ = 6,	/* frame seq 0 (seqs start at 1, as in a FRAME) */
	FC_DGRAM_E_COUNT = 7,	/* count 0, or not what the total and the chunk size make */
	FC_DGRAM_E_INDEX = 8,	/* index >= count */
	FC_DGRAM_E_TOTAL = 9,	/* total below a FRAME's fixed part or over FC_DGRAM_MAX_FRAME */
	FC_DGRAM_E_OFFSET = 10, /* offset or size do not fit the index, the count or the total */
	FC_DGRAM_E_FIXED = 11,	/* chunk 0's FRAME fields are out of range (proto.c's rules) */
	FC_DGRAM_E_RANGES = 12, /* a NACK's ranges are empty, unordered, overlapping or too far */
	FC_DGRAM_E_REASON = 13, /* a GIVEUP's reason is unknown */
};

/* Chunks first .. first + len - 1, len >= 1. */
struct fc_dgram_range {
	uint16_t first;
	uint16_t len;
};

struct fc_dgram_chunk {
	uint16_t index;		   /* 0 .. count - 1 */
	uint16_t count;		   /* chunks in the frame: ceil(total / chunk_size) */
	uint32_t total;		   /* the frame's bytes (its FRAME payload) */
	uint32_t offset;	   /* where this chunk's bytes go: index x chunk_size */
	uint16_t chunk_size;	   /* the frame's chunk size: every chunk's but the last, which has
			       * what is left (stated, so that a truncated chunk never passes) */
	const uint8_t *data;	   /* decoded: points into the caller's buffer; encoded: copied */
	uint32_t size;		   /* this chunk's bytes: chunk_size, what is left for the last */
	struct fc_frame_msg fixed; /* chunk 0 only, decoded: the FRAME's fixed fields (no JPEG) */
};

struct fc_dgram_nack {
	uint8_t n; /* 1 .. FC_DGRAM_MAX_RANGES, ascending, not touching, below 65536 */
	struct fc_dgram_range r[FC_DGRAM_MAX_RANGES];
};

struct fc_dgram {
	uint8_t type;  /* enum fc_dgram_type */
	uint32_t conn; /* the connection id both sides learnt in the handshake */
	uint64_t seq;  /* the frame's seq (the FRAME's), >= 1 */
	union {
		struct fc_dgram_chunk chunk;
		struct fc_dgram_nack nack;
		uint8_t reason; /* GIVEUP: enum fc_dgram_giveup */
	} u;
};

/* Decodes one whole datagram buf[0..len). 0 with *d filled (a chunk's data points into buf), or
 * a negated enum fc_dgram_error. */
int fc_dgram_decode(const uint8_t *buf, size_t len, struct fc_dgram *d);

/* Encodes d into buf (a chunk's bytes copied after its header). Returns the bytes written, or 0
 * when buf is too small or d is not a datagram fc_dgram_decode would take back unchanged. */
size_t fc_dgram_encode(const struct fc_dgram *d, uint8_t *buf, size_t cap);

/* How a frame of total bytes is cut at chunk_size: the count, or 0 when total or chunk_size is
 * out of bounds. Chunk i is at offset i x chunk_size, chunk_size bytes long but the last. */
uint32_t fc_dgram_count(uint32_t total, uint32_t chunk_size);

const char *fc_dgram_strerror(int error);

#endif
