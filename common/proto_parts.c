#include "proto_parts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* A complete frame has a JPEG, a given-up one may have sent none yet but carries no more; the
 * total covers this message's bytes and stays within the one limit a JPEG has. */
static bool end_ok(const struct fc_frame_end *e)
{
	if (e->status > FC_PARTS_STATUS_MAX || e->total > FC_PROTO_MAX_JPEG || e->size > e->total)
		return false;
	return e->status == FC_PARTS_COMPLETE ? e->total >= 1 : e->size == 0;
}

int fc_proto_part_decode(const uint8_t *p, uint32_t n, struct fc_frame_part *part)
{
	part->id = get32(p);
	part->bytes = p + FC_PROTO_PART_FIXED;
	part->size = n - FC_PROTO_PART_FIXED;
	return 0; /* proto.c's bounds made size 1..FC_PROTO_MAX_JPEG */
}

int fc_proto_end_decode(const uint8_t *p, uint32_t n, struct fc_frame_end *end)
{
	end->id = get32(p);
	end->total = get32(p + 4);
	end->status = p[8];
	end->bytes = p + FC_PROTO_END_FIXED;
	end->size = n - FC_PROTO_END_FIXED;
	return end_ok(end) ? 0 : -FC_PROTO_E_FIELD;
}

bool fc_proto_part_put(const struct fc_frame_part *part, uint8_t *p)
{
	if (part->size < 1 || part->size > FC_PROTO_MAX_JPEG)
		return false;
	p = put32(p, part->id);
	memcpy(p, part->bytes, part->size);
	return true;
}

bool fc_proto_end_put(const struct fc_frame_end *end, uint8_t *p)
{
	if (!end_ok(end))
		return false;
	p = put32(p, end->id);
	p = put32(p, end->total);
	*p++ = end->status;
	if (end->size) /* a given-up END has no bytes and may have no pointer */
		memcpy(p, end->bytes, end->size);
	return true;
}

size_t fc_proto_start_head(const struct fc_frame_msg *start, uint8_t *buf, size_t cap)
{
	/* START is a FRAME's layout under another type: the same checks, the same bytes. */
	size_t n = fc_proto_encode_frame_head(start, buf, cap);

	if (n)
		buf[3] = FC_MSG_FRAME_START;
	return n;
}

size_t fc_proto_part_head(uint32_t id, uint32_t size, uint8_t *buf, size_t cap)
{
	if (size < 1 || size > FC_PROTO_MAX_JPEG ||
	    cap < FC_PROTO_HEADER_SIZE + FC_PROTO_PART_FIXED ||
	    !fc_proto_encode_header(FC_MSG_FRAME_PART, FC_PROTO_PART_FIXED + size, buf, cap))
		return 0;
	put32(buf + FC_PROTO_HEADER_SIZE, id);
	return FC_PROTO_HEADER_SIZE + FC_PROTO_PART_FIXED;
}

size_t fc_proto_end_head(const struct fc_frame_end *end, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf + FC_PROTO_HEADER_SIZE;

	if (!end_ok(end) || cap < FC_PROTO_HEADER_SIZE + FC_PROTO_END_FIXED ||
	    !fc_proto_encode_header(FC_MSG_FRAME_END, FC_PROTO_END_FIXED + end->size, buf, cap))
		return 0;
	p = put32(p, end->id);
	p = put32(p, end->total);
	*p = end->status;
	return FC_PROTO_HEADER_SIZE + FC_PROTO_END_FIXED;
}

size_t fc_proto_parts_split(const struct fc_msg *m, uint8_t *buf, size_t cap, const uint8_t **bytes,
			    uint32_t *n)
{
	switch (m->type) {
	case FC_MSG_FRAME_START:
		*bytes = m->u.frame.jpeg;
		*n = m->u.frame.jpeg_size;
		return fc_proto_start_head(&m->u.frame, buf, cap);
	case FC_MSG_FRAME_PART:
		*bytes = m->u.part.bytes;
		*n = m->u.part.size;
		return fc_proto_part_head(m->u.part.id, m->u.part.size, buf, cap);
	case FC_MSG_FRAME_END:
		*bytes = m->u.end.bytes;
		*n = m->u.end.size;
		return fc_proto_end_head(&m->u.end, buf, cap);
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t len, const char *what,
							...)
{
	va_list ap;

	va_start(ap, what);
	if (len)
		vsnprintf(why, len, what, ap);
	va_end(ap);
	return FC_PARTS_RX_ERROR;
}

/* A PART or an END: it must belong to the open frame and keep its bytes within the limit. */
static int take_more(struct fc_parts_rx *rx, uint32_t id, uint32_t size, char *why, size_t len)
{
	if (!rx->open)
		return refuse(why, len, "a part of frame %u with no frame open (the last was %u)",
			      id, rx->id);
	if (id != rx->id)
		return refuse(why, len, "a part of frame %u inside frame %u", id, rx->id);
	if (size > FC_PROTO_MAX_JPEG - rx->have)
		return refuse(why, len, "frame %u grows past the JPEG limit (%u bytes before)", id,
			      rx->have);
	rx->have += size;
	return FC_PARTS_RX_MORE;
}

static int take_end(struct fc_parts_rx *rx, const struct fc_frame_end *e, char *why, size_t len)
{
	if (take_more(rx, e->id, e->size, why, len) < 0)
		return FC_PARTS_RX_ERROR;
	rx->open = false;
	if (e->total != rx->have)
		return refuse(why, len, "FRAME_END says %u bytes, %u came", e->total, rx->have);
	return e->status == FC_PARTS_COMPLETE ? FC_PARTS_RX_WHOLE : FC_PARTS_RX_GIVEN_UP;
}

int fc_parts_rx_take(struct fc_parts_rx *rx, const struct fc_msg *m, char *why, size_t len)
{
	switch (m->type) {
	case FC_MSG_FRAME_START:
		if (rx->open)
			return refuse(why, len, "FRAME_START %u inside frame %u", m->u.frame.id,
				      rx->id);
		*rx = (struct fc_parts_rx){ .open = true, .id = m->u.frame.id };
		return take_more(rx, rx->id, m->u.frame.jpeg_size, why, len);
	case FC_MSG_FRAME_PART:
		return take_more(rx, m->u.part.id, m->u.part.size, why, len);
	case FC_MSG_FRAME_END:
		return take_end(rx, &m->u.end, why, len);
	case FC_MSG_PING:
	case FC_MSG_PONG:
	case FC_MSG_BYE:
		return FC_PARTS_RX_OTHER;
	}
	if (rx->open)
		return refuse(why, len, "a %s inside frame %u", fc_proto_type_name(m->type),
			      rx->id);
	return FC_PARTS_RX_OTHER;
}

const char *fc_parts_status_name(int status)
{
	static const char *const names[] = { "complete", "given up: superseded",
					     "given up: too old", "given up: failed" };

	return status >= 0 && status <= FC_PARTS_STATUS_MAX ? names[status] : "unknown status";
}
