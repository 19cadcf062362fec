/* dgram: the UDP transport's datagrams, pure encode and decode (dgram.h, docs/UDP.md). */
#include "dgram.h"

#include <string.h>

#define MAGIC0 0x46 /* 'F' */
#define MAGIC1 0x44 /* 'D': a datagram, where a stream's header says 'C' */

static uint32_t get(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
	return p + n;
}

uint32_t fc_dgram_count(uint32_t total, uint32_t chunk_size)
{
	if (total < FC_PROTO_FRAME_FIXED || total > FC_DGRAM_MAX_FRAME ||
	    chunk_size < FC_DGRAM_MIN_CHUNK || chunk_size > FC_DGRAM_MAX_CHUNK)
		return 0;
	return (total + chunk_size - 1) / chunk_size;
}

/* Chunk 0 starts with the FRAME's fixed part: judged by proto.c itself, as the fixed part of a
 * stale notice (a FRAME with no JPEG bytes), so both transports take exactly the same fields. */
static int decode_fixed(const uint8_t *data, struct fc_frame_msg *out)
{
	uint8_t msg[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED];
	struct fc_msg m;

	fc_proto_encode_header(FC_MSG_FRAME, FC_PROTO_FRAME_FIXED, msg, sizeof(msg));
	memcpy(msg + FC_PROTO_HEADER_SIZE, data, FC_PROTO_FRAME_FIXED);
	if (fc_proto_decode(msg, sizeof(msg), &m, NULL) != (ssize_t)sizeof(msg))
		return -FC_DGRAM_E_FIXED;
	*out = m.u.frame;
	out->jpeg = NULL;
	out->jpeg_size = 0;
	return 0;
}

/* Whether a chunk's place fits its frame: the count follows from the total and the chunk size,
 * every chunk but the last is chunk_size long at index x chunk_size, the last has what is left.
 * So one datagram alone proves its geometry, a truncated one never passes, and chunks of one
 * frame that agree on count, total and chunk size agree on everything (reasm.c checks that). */
static int check_place(const struct fc_dgram_chunk *c)
{
	uint32_t want;

	if (c->count == 0)
		return -FC_DGRAM_E_COUNT;
	if (c->index >= c->count)
		return -FC_DGRAM_E_INDEX;
	if (c->total < FC_PROTO_FRAME_FIXED || c->total > FC_DGRAM_MAX_FRAME)
		return -FC_DGRAM_E_TOTAL;
	if (fc_dgram_count(c->total, c->chunk_size) != c->count)
		return -FC_DGRAM_E_COUNT;
	if (c->offset != (uint32_t)c->index * c->chunk_size)
		return -FC_DGRAM_E_OFFSET;
	want = c->index + 1u < c->count ? c->chunk_size : c->total - c->offset;
	return c->size == want ? 0 : -FC_DGRAM_E_OFFSET;
}

static int decode_chunk(const uint8_t *p, size_t len, struct fc_dgram_chunk *c)
{
	int r;

	if (len < FC_DGRAM_CHUNK_HEAD + 1)
		return -FC_DGRAM_E_SHORT;
	c->index = (uint16_t)get(p, 2);
	c->count = (uint16_t)get(p + 2, 2);
	c->total = get(p + 4, 4);
	c->offset = get(p + 8, 4);
	c->chunk_size = (uint16_t)get(p + 12, 2);
	c->data = p + 14;
	c->size = (uint32_t)(len - FC_DGRAM_CHUNK_HEAD);
	memset(&c->fixed, 0, sizeof(c->fixed));
	r = check_place(c);
	if (r == 0 && c->index == 0)
		r = decode_fixed(c->data, &c->fixed);
	return r;
}

static int decode_nack(const uint8_t *p, size_t len, struct fc_dgram_nack *k)
{
	uint32_t next = 0; /* the least first the next range may have: ranges do not touch */

	if (len < FC_DGRAM_HEAD + 1)
		return -FC_DGRAM_E_SHORT;
	k->n = p[0];
	if (k->n == 0 || k->n > FC_DGRAM_MAX_RANGES)
		return -FC_DGRAM_E_RANGES;
	if (len != FC_DGRAM_HEAD + 1 + 4u * k->n)
		return -FC_DGRAM_E_LENGTH;
	for (int i = 0; i < k->n; i++) {
		k->r[i].first = (uint16_t)get(p + 1 + 4 * i, 2);
		k->r[i].len = (uint16_t)get(p + 3 + 4 * i, 2);
		if (k->r[i].len == 0 || k->r[i].first < next ||
		    (uint32_t)k->r[i].first + k->r[i].len > FC_DGRAM_MAX_CHUNKS)
			return -FC_DGRAM_E_RANGES;
		next = (uint32_t)k->r[i].first + k->r[i].len + 1;
	}
	return 0;
}

int fc_dgram_decode(const uint8_t *buf, size_t len, struct fc_dgram *d)
{
	memset(d, 0, sizeof(*d));
	if (len < FC_DGRAM_HEAD)
		return -FC_DGRAM_E_SHORT;
	if (buf[0] != MAGIC0 || buf[1] != MAGIC1)
		return -FC_DGRAM_E_MAGIC;
	if (buf[2] != FC_DGRAM_VERSION)
		return -FC_DGRAM_E_VERSION;
	d->type = buf[3];
	d->conn = get(buf + 4, 4);
	d->seq = (uint64_t)get(buf + 8, 4) << 32 | get(buf + 12, 4);
	switch (d->type) {
	case FC_DGRAM_T_CHUNK:
		if (len > FC_DGRAM_MAX_SIZE)
			return -FC_DGRAM_E_LENGTH;
		if (d->seq == 0)
			return -FC_DGRAM_E_SEQ;
		return decode_chunk(buf + FC_DGRAM_HEAD, len, &d->u.chunk);
	case FC_DGRAM_T_NACK:
		if (d->seq == 0)
			return -FC_DGRAM_E_SEQ;
		return decode_nack(buf + FC_DGRAM_HEAD, len, &d->u.nack);
	case FC_DGRAM_T_GIVEUP:
		if (len != FC_DGRAM_HEAD + 1)
			return len < FC_DGRAM_HEAD + 1 ? -FC_DGRAM_E_SHORT : -FC_DGRAM_E_LENGTH;
		if (d->seq == 0)
			return -FC_DGRAM_E_SEQ;
		d->u.reason = buf[FC_DGRAM_HEAD];
		return d->u.reason >= FC_GIVEUP_LATE && d->u.reason <= FC_GIVEUP_FORGOTTEN
			   ? 0
			   : -FC_DGRAM_E_REASON;
	case FC_DGRAM_T_KEEPALIVE:
		/* The header alone; its seq is any (the newest frame its side knew of, 0: none). */
		return len == FC_DGRAM_HEAD ? 0 : -FC_DGRAM_E_LENGTH;
	default:
		return -FC_DGRAM_E_TYPE;
	}
}

/* The bytes d takes on the wire, or 0 for a type or a range count out of bounds. */
static size_t encoded_size(const struct fc_dgram *d)
{
	switch (d->type) {
	case FC_DGRAM_T_CHUNK:
		return d->u.chunk.size <= FC_DGRAM_MAX_CHUNK ? FC_DGRAM_CHUNK_HEAD + d->u.chunk.size
							     : 0;
	case FC_DGRAM_T_NACK:
		return d->u.nack.n <= FC_DGRAM_MAX_RANGES ? FC_DGRAM_HEAD + 1 + 4u * d->u.nack.n
							  : 0;
	case FC_DGRAM_T_GIVEUP:
		return FC_DGRAM_HEAD + 1;
	case FC_DGRAM_T_KEEPALIVE:
		return FC_DGRAM_HEAD;
	default:
		return 0;
	}
}

size_t fc_dgram_encode(const struct fc_dgram *d, uint8_t *buf, size_t cap)
{
	size_t n = encoded_size(d);
	struct fc_dgram back;
	uint8_t *p = buf;

	if (n == 0 || n > cap || (d->type == FC_DGRAM_T_CHUNK && !d->u.chunk.data))
		return 0;
	*p++ = MAGIC0;
	*p++ = MAGIC1;
	*p++ = FC_DGRAM_VERSION;
	*p++ = d->type;
	p = put(p, d->conn, 4);
	p = put(p, d->seq, 8);
	if (d->type == FC_DGRAM_T_CHUNK) {
		p = put(p, d->u.chunk.index, 2);
		p = put(p, d->u.chunk.count, 2);
		p = put(p, d->u.chunk.total, 4);
		p = put(p, d->u.chunk.offset, 4);
		p = put(p, d->u.chunk.chunk_size, 2);
		memmove(p, d->u.chunk.data, d->u.chunk.size);
	} else if (d->type == FC_DGRAM_T_NACK) {
		*p++ = d->u.nack.n;
		for (int i = 0; i < d->u.nack.n; i++) {
			p = put(p, d->u.nack.r[i].first, 2);
			p = put(p, d->u.nack.r[i].len, 2);
		}
	} else if (d->type == FC_DGRAM_T_GIVEUP) {
		*p = d->u.reason;
	}
	/* Never put on the wire what our own decoder refuses (docs/PROTOCOL.md, section 2). */
	return fc_dgram_decode(buf, n, &back) == 0 ? n : 0;
}

const char *fc_dgram_strerror(int error)
{
	static const char *const why[] = {
		[FC_DGRAM_E_SHORT] = "datagram shorter than its header",
		[FC_DGRAM_E_MAGIC] = "not a freshcam datagram (bad magic)",
		[FC_DGRAM_E_VERSION] = "another datagram layout version",
		[FC_DGRAM_E_TYPE] = "unknown datagram type",
		[FC_DGRAM_E_LENGTH] = "datagram length does not match what it lists",
		[FC_DGRAM_E_SEQ] = "frame seq 0",
		[FC_DGRAM_E_COUNT] = "chunk count does not follow from the frame's length",
		[FC_DGRAM_E_INDEX] = "chunk index not below the chunk count",
		[FC_DGRAM_E_TOTAL] = "frame length out of bounds",
		[FC_DGRAM_E_OFFSET] = "chunk offset or size do not fit the frame",
		[FC_DGRAM_E_FIXED] = "first chunk's frame fields out of range",
		[FC_DGRAM_E_RANGES] = "NACK ranges empty, unordered, overlapping or out of bounds",
		[FC_DGRAM_E_REASON] = "unknown give-up reason",
	};
	int e = error < 0 ? -error : error;

	return e > 0 && e <= FC_DGRAM_E_REASON ? why[e] : "unknown datagram error";
}
