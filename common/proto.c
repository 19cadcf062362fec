#include "proto.h"

#include <string.h>

#include "jdoc.h"

_Static_assert(FC_PROTO_MAX_DATA == FC_JDOC_MAX, "DATA carries one jdoc document");

/* Payload sizes of the fixed-size messages, and the fixed parts of the others. */
#define HELLO_FIXED  FC_PROTO_HELLO_FIXED /* 18, the nonce, the floor, station_len, udp_port, conn */
#define REQUEST_SIZE 12
#define VERDICT_SIZE 25
#define PING_SIZE    8
#define PONG_SIZE    16
#define BYE_FIXED    4
#define STATUS_FIXED 4

/* Big-endian readers and writers over a cursor; bounds are checked once per message, by the
 * callers, against the lengths above. */
static uint16_t get16(const uint8_t **p)
{
	uint16_t v = (uint16_t)((*p)[0] << 8 | (*p)[1]);

	*p += 2;
	return v;
}

static uint32_t get32(const uint8_t **p)
{
	uint32_t v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 |
		     (uint32_t)(*p)[3];

	*p += 4;
	return v;
}

static uint64_t get64(const uint8_t **p)
{
	uint64_t hi = get32(p);

	return hi << 32 | get32(p);
}

static void put8(uint8_t **p, uint8_t v)
{
	*(*p)++ = v;
}

static void put16(uint8_t **p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void put32(uint8_t **p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void put64(uint8_t **p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

/* Names and texts are printable ASCII: they end up on a console and must not carry escapes. */
static bool text_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* Smallest and largest payload a type may declare; false for an unknown type. */
static bool payload_bounds(uint8_t type, uint32_t *min, uint32_t *max)
{
	switch (type) {
	case FC_MSG_HELLO:
		*min = HELLO_FIXED;
		*max = HELLO_FIXED + FC_PROTO_MAX_STATION + FC_PROTO_MAX_NAME;
		return true;
	case FC_MSG_REQUEST:
		*min = *max = REQUEST_SIZE;
		return true;
	case FC_MSG_FRAME:
	case FC_MSG_FRAME_START:
		*min = FC_PROTO_FRAME_FIXED; /* no JPEG: a stale notice (proto.h) */
		*max = FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_JPEG;
		return true;
	case FC_MSG_VERDICT:
		*min = *max = VERDICT_SIZE;
		return true;
	case FC_MSG_PING:
		*min = *max = PING_SIZE;
		return true;
	case FC_MSG_PONG:
		*min = *max = PONG_SIZE;
		return true;
	case FC_MSG_BYE:
		*min = BYE_FIXED;
		*max = BYE_FIXED + FC_PROTO_MAX_TEXT;
		return true;
	case FC_MSG_STATUS:
		*min = STATUS_FIXED;
		*max = STATUS_FIXED + FC_PROTO_MAX_TEXT;
		return true;
	case FC_MSG_AUTH:
		*min = *max = FC_PROTO_PROOF_SIZE;
		return true;
	case FC_MSG_SEALED:
		*min = FC_PROTO_SEALED_MIN;
		*max = FC_PROTO_SEALED_MAX;
		return true;
	case FC_MSG_DATA:
		*min = FC_PROTO_DATA_FIXED + 1;
		*max = FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA;
		return true;
	case FC_MSG_CONTROL:
		*min = FC_PROTO_CONTROL_FIXED;
		*max = FC_PROTO_CONTROL_FIXED + FC_PROTO_MAX_CONTROL_NAME;
		return true;
	case FC_MSG_CONTROL_RESULT:
		*min = FC_PROTO_RESULT_FIXED;
		*max = FC_PROTO_RESULT_FIXED + FC_PROTO_MAX_RESULT_TEXT;
		return true;
	case FC_MSG_STILL:
		*min = FC_PROTO_STILL_FIXED + 1;
		*max = FC_PROTO_STILL_FIXED + FC_PROTO_MAX_JPEG;
		return true;
	case FC_MSG_FRAME_PART:
		*min = FC_PROTO_PART_FIXED + 1;
		*max = FC_PROTO_PART_FIXED + FC_PROTO_MAX_JPEG;
		return true;
	case FC_MSG_FRAME_END:
		*min = FC_PROTO_END_FIXED;
		*max = FC_PROTO_END_FIXED + FC_PROTO_MAX_JPEG;
		return true;
	default:
		return false;
	}
}

/* The two names after the fixed part: station_len bytes of station, then name_len of software. */
static int decode_hello_names(const uint8_t *p, uint32_t n, uint8_t name_len, uint8_t station_len,
			      struct fc_hello *h)
{
	if (station_len > FC_PROTO_MAX_STATION || name_len > FC_PROTO_MAX_NAME ||
	    (uint32_t)station_len + name_len != n - HELLO_FIXED || !text_ok(p, station_len) ||
	    !text_ok(p + station_len, name_len))
		return -FC_PROTO_E_FIELD;
	memcpy(h->station, p, station_len);
	h->station[station_len] = '\0';
	memcpy(h->name, p + station_len, name_len);
	h->name[name_len] = '\0';
	return 0;
}

/* With FC_HELLO_UDP a port, and from a sender a connection id; without it, neither. */
static bool hello_udp_ok(const struct fc_hello *h)
{
	if (!(h->flags & FC_HELLO_UDP))
		return h->udp_port == 0 && h->conn == 0;
	return h->udp_port != 0 && (h->role == FC_ROLE_SENDER ? h->conn != 0 : h->conn == 0);
}

static int decode_hello(const uint8_t *p, uint32_t n, struct fc_hello *h)
{
	uint8_t name_len;
	uint8_t station_len;

	h->role = *p++;
	h->codec = *p++;
	h->window = get16(&p);
	h->budget_us = get32(&p);
	h->width = get16(&p);
	h->height = get16(&p);
	h->fps_milli = get32(&p);
	h->flags = *p++;
	name_len = *p++;
	memcpy(h->nonce, p, FC_PROTO_NONCE_SIZE);
	p += FC_PROTO_NONCE_SIZE;
	h->min_width = get16(&p);
	h->min_height = get16(&p);
	h->min_quality = *p++;
	station_len = *p++;
	h->udp_port = get16(&p);
	h->conn = get32(&p);
	if ((h->flags & ~FC_HELLO_FLAGS) || !hello_udp_ok(h) ||
	    decode_hello_names(p, n, name_len, station_len, h) < 0)
		return -FC_PROTO_E_FIELD;
	if (h->role == FC_ROLE_SENDER) {
		/* Parts are a viewer's to take, never a sender's to ask for. */
		if (h->codec != FC_CODEC_JPEG || h->width > FC_PROTO_MAX_DIM ||
		    h->height > FC_PROTO_MAX_DIM || (h->flags & FC_HELLO_PARTS))
			return -FC_PROTO_E_FIELD;
	} else if (h->role == FC_ROLE_VIEWER) {
		if (h->window < 1 || h->window > FC_PROTO_MAX_WINDOW || h->budget_us == 0 ||
		    h->min_width > FC_PROTO_MAX_DIM || h->min_height > FC_PROTO_MAX_DIM ||
		    h->min_quality > FC_PROTO_MAX_QUALITY)
			return -FC_PROTO_E_FIELD;
	} else {
		return -FC_PROTO_E_FIELD;
	}
	return 0;
}

/* A rendition is 1..16384 a side and no larger than the picture it was made from. */
static bool frame_fields_ok(const struct fc_frame_msg *f)
{
	return f->width > 0 && f->height > 0 && f->src_width <= FC_PROTO_MAX_DIM &&
	       f->src_height <= FC_PROTO_MAX_DIM && f->width <= f->src_width &&
	       f->height <= f->src_height && f->quality <= FC_PROTO_MAX_QUALITY;
}

static int decode_frame(const uint8_t *p, uint32_t n, struct fc_frame_msg *f)
{
	f->id = get32(&p);
	f->t0_ns = get64(&p);
	f->held_ns = get64(&p);
	f->age_ns = get64(&p);
	f->seq = get64(&p);
	f->width = get16(&p);
	f->height = get16(&p);
	f->src_width = get16(&p);
	f->src_height = get16(&p);
	f->quality = *p++;
	f->send_ns = get64(&p);
	f->send_real_ns = get64(&p);
	f->jpeg = p;
	f->jpeg_size = n - FC_PROTO_FRAME_FIXED;
	return frame_fields_ok(f) ? 0 : -FC_PROTO_E_FIELD;
}

/* BYE and STATUS: a 16-bit code (or a state byte and a reserved one), a length, a text. */
static int decode_text(const uint8_t *p, uint32_t n, char *text)
{
	uint16_t len = (uint16_t)(p[0] << 8 | p[1]);

	p += 2;
	if (len != n - 2 || !text_ok(p, len))
		return -FC_PROTO_E_FIELD;
	memcpy(text, p, len);
	text[len] = '\0';
	return 0;
}

static int decode_payload(uint8_t type, const uint8_t *p, uint32_t n, struct fc_msg *msg)
{
	switch (type) {
	case FC_MSG_HELLO:
		return decode_hello(p, n, &msg->u.hello);
	case FC_MSG_REQUEST:
		msg->u.request.id = get32(&p);
		msg->u.request.t0_ns = get64(&p);
		return 0;
	case FC_MSG_FRAME:
	case FC_MSG_FRAME_START:
		return decode_frame(p, n, &msg->u.frame);
	case FC_MSG_VERDICT:
		msg->u.verdict.id = get32(&p);
		msg->u.verdict.seq = get64(&p);
		msg->u.verdict.bound_us = get32(&p);
		msg->u.verdict.kind = *p++;
		msg->u.verdict.recv_us = get32(&p);
		msg->u.verdict.gap_us = get32(&p);
		if (msg->u.verdict.kind != FC_VERDICT_ACCEPTED &&
		    msg->u.verdict.kind != FC_VERDICT_LATE)
			return -FC_PROTO_E_FIELD;
		return 0;
	case FC_MSG_PING:
		msg->u.ping.token = get64(&p);
		msg->u.ping.clock_ns = 0;
		return 0;
	case FC_MSG_PONG:
		msg->u.ping.token = get64(&p);
		msg->u.ping.clock_ns = get64(&p);
		return 0;
	case FC_MSG_BYE:
		msg->u.bye.reason = get16(&p);
		return decode_text(p, n - 2, msg->u.bye.text);
	case FC_MSG_STATUS:
		msg->u.status.source = p[0];
		if (p[0] != FC_SOURCE_LIVE && p[0] != FC_SOURCE_LOST)
			return -FC_PROTO_E_FIELD;
		return decode_text(p + 2, n - 2, msg->u.status.text);
	case FC_MSG_AUTH:
		memcpy(msg->u.auth.proof, p, FC_PROTO_PROOF_SIZE);
		return 0;
	case FC_MSG_SEALED:
		msg->u.sealed.data = p;
		msg->u.sealed.size = n;
		return 0;
	case FC_MSG_DATA:
		msg->u.data.seq = get64(&p);
		msg->u.data.doc = p;
		msg->u.data.size = n - FC_PROTO_DATA_FIXED;
		/* The ends embed the document as it is in their JSON Lines: it must be one. */
		return fc_jdoc_check(p, msg->u.data.size, NULL, 0) == 0 ? 0 : -FC_PROTO_E_FIELD;
	case FC_MSG_CONTROL:
		return fc_proto_control_decode(p, n, &msg->u.control);
	case FC_MSG_CONTROL_RESULT:
		return fc_proto_result_decode(p, n, &msg->u.result);
	case FC_MSG_STILL:
		return fc_proto_still_decode(p, n, &msg->u.still);
	case FC_MSG_FRAME_PART:
		return fc_proto_part_decode(p, n, &msg->u.part);
	case FC_MSG_FRAME_END:
		return fc_proto_end_decode(p, n, &msg->u.end);
	}
	return -FC_PROTO_E_TYPE; /* unreachable: payload_bounds vetted the type */
}

ssize_t fc_proto_decode(const uint8_t *buf, size_t len, struct fc_msg *msg, size_t *need)
{
	uint32_t plen, min = 0, max = 0;
	const uint8_t *p = buf + 4;
	int rc;

	if (need)
		*need = FC_PROTO_HEADER_SIZE;
	/* Judge each header byte as soon as it is in, so that garbage is refused at once. */
	if ((len >= 1 && buf[0] != 'F') || (len >= 2 && buf[1] != 'C'))
		return -FC_PROTO_E_MAGIC;
	if (len >= 3) {
		msg->version = buf[2];
		if (buf[2] != FC_PROTO_VERSION)
			return -FC_PROTO_E_VERSION;
	}
	if (len >= 4) {
		msg->type = buf[3];
		if (!payload_bounds(buf[3], &min, &max))
			return -FC_PROTO_E_TYPE;
	}
	if (len < FC_PROTO_HEADER_SIZE)
		return 0;
	plen = get32(&p);
	if (plen < min || plen > max)
		return -FC_PROTO_E_LENGTH;
	if (need)
		*need = FC_PROTO_HEADER_SIZE + (size_t)plen;
	if (len < FC_PROTO_HEADER_SIZE + (size_t)plen)
		return 0;
	rc = decode_payload(msg->type, buf + FC_PROTO_HEADER_SIZE, plen, msg);
	if (rc < 0)
		return rc;
	return (ssize_t)(FC_PROTO_HEADER_SIZE + plen);
}

static uint8_t *put_header(uint8_t *p, uint8_t version, uint8_t type, uint32_t plen)
{
	put8(&p, 'F');
	put8(&p, 'C');
	put8(&p, version);
	put8(&p, type);
	put32(&p, plen);
	return p;
}

static size_t payload_size(const struct fc_msg *msg)
{
	switch (msg->type) {
	case FC_MSG_HELLO:
		return HELLO_FIXED + strnlen(msg->u.hello.station, FC_PROTO_MAX_STATION + 1) +
		       strnlen(msg->u.hello.name, FC_PROTO_MAX_NAME + 1);
	case FC_MSG_REQUEST:
		return REQUEST_SIZE;
	case FC_MSG_FRAME:
	case FC_MSG_FRAME_START:
		return FC_PROTO_FRAME_FIXED + (size_t)msg->u.frame.jpeg_size;
	case FC_MSG_VERDICT:
		return VERDICT_SIZE;
	case FC_MSG_PING:
		return PING_SIZE;
	case FC_MSG_PONG:
		return PONG_SIZE;
	case FC_MSG_BYE:
		return BYE_FIXED + strnlen(msg->u.bye.text, FC_PROTO_MAX_TEXT + 1);
	case FC_MSG_STATUS:
		return STATUS_FIXED + strnlen(msg->u.status.text, FC_PROTO_MAX_TEXT + 1);
	case FC_MSG_AUTH:
		return FC_PROTO_PROOF_SIZE;
	case FC_MSG_SEALED:
		return msg->u.sealed.size;
	case FC_MSG_DATA:
		return FC_PROTO_DATA_FIXED + (size_t)msg->u.data.size;
	case FC_MSG_CONTROL:
		return fc_proto_control_size(&msg->u.control);
	case FC_MSG_CONTROL_RESULT:
		return FC_PROTO_RESULT_FIXED + (size_t)msg->u.result.text_len;
	case FC_MSG_STILL:
		return FC_PROTO_STILL_FIXED + (size_t)msg->u.still.jpeg_size;
	case FC_MSG_FRAME_PART:
		return FC_PROTO_PART_FIXED + (size_t)msg->u.part.size;
	case FC_MSG_FRAME_END:
		return FC_PROTO_END_FIXED + (size_t)msg->u.end.size;
	}
	return 0;
}

static void put_text(uint8_t **p, const char *text, size_t len)
{
	put16(p, (uint16_t)len);
	memcpy(*p, text, len);
	*p += len;
}

static uint8_t *put_frame_fixed(uint8_t *p, const struct fc_frame_msg *f)
{
	put32(&p, f->id);
	put64(&p, f->t0_ns);
	put64(&p, f->held_ns);
	put64(&p, f->age_ns);
	put64(&p, f->seq);
	put16(&p, f->width);
	put16(&p, f->height);
	put16(&p, f->src_width);
	put16(&p, f->src_height);
	put8(&p, f->quality);
	put64(&p, f->send_ns);
	put64(&p, f->send_real_ns);
	return p;
}

/* Each name within its own limit and printable: what decode_hello_names checks. */
static bool hello_names_ok(const struct fc_hello *h)
{
	size_t station = strnlen(h->station, FC_PROTO_MAX_STATION + 1);
	size_t name = strnlen(h->name, FC_PROTO_MAX_NAME + 1);

	return station <= FC_PROTO_MAX_STATION && name <= FC_PROTO_MAX_NAME &&
	       text_ok((const uint8_t *)h->station, station) &&
	       text_ok((const uint8_t *)h->name, name);
}

static void put_hello(uint8_t *p, const struct fc_hello *h)
{
	size_t station = strlen(h->station);
	size_t name = strlen(h->name);

	put8(&p, h->role);
	put8(&p, h->codec);
	put16(&p, h->window);
	put32(&p, h->budget_us);
	put16(&p, h->width);
	put16(&p, h->height);
	put32(&p, h->fps_milli);
	put8(&p, h->flags);
	put8(&p, (uint8_t)name);
	memcpy(p, h->nonce, FC_PROTO_NONCE_SIZE);
	p += FC_PROTO_NONCE_SIZE;
	put16(&p, h->min_width);
	put16(&p, h->min_height);
	put8(&p, h->min_quality);
	put8(&p, (uint8_t)station);
	put16(&p, h->udp_port);
	put32(&p, h->conn);
	memcpy(p, h->station, station);
	memcpy(p + station, h->name, name);
}

size_t fc_proto_encode_version(const struct fc_msg *msg, uint8_t version, uint8_t *buf, size_t cap)
{
	uint32_t min, max;
	size_t plen = payload_size(msg);
	uint8_t *p;
	const struct fc_hello *h = &msg->u.hello;

	/* The encoder refuses what the decoder would refuse, so a bug here shows on this side. */
	if (!payload_bounds(msg->type, &min, &max) || plen < min || plen > max)
		return 0;
	if ((msg->type == FC_MSG_HELLO && (!hello_names_ok(h) || !hello_udp_ok(h))) ||
	    (msg->type == FC_MSG_BYE &&
	     !text_ok((const uint8_t *)msg->u.bye.text, plen - BYE_FIXED)) ||
	    (msg->type == FC_MSG_STATUS &&
	     !text_ok((const uint8_t *)msg->u.status.text, plen - STATUS_FIXED)))
		return 0;
	if (cap < FC_PROTO_HEADER_SIZE + plen)
		return 0;
	p = put_header(buf, version, msg->type, (uint32_t)plen);
	switch (msg->type) {
	case FC_MSG_HELLO:
		put_hello(p, h);
		break;
	case FC_MSG_REQUEST:
		put32(&p, msg->u.request.id);
		put64(&p, msg->u.request.t0_ns);
		break;
	case FC_MSG_FRAME:
	case FC_MSG_FRAME_START:
		p = put_frame_fixed(p, &msg->u.frame);
		if (msg->u.frame.jpeg_size) /* a stale notice may have no jpeg pointer at all */
			memcpy(p, msg->u.frame.jpeg, msg->u.frame.jpeg_size);
		break;
	case FC_MSG_VERDICT:
		put32(&p, msg->u.verdict.id);
		put64(&p, msg->u.verdict.seq);
		put32(&p, msg->u.verdict.bound_us);
		put8(&p, msg->u.verdict.kind);
		put32(&p, msg->u.verdict.recv_us);
		put32(&p, msg->u.verdict.gap_us);
		break;
	case FC_MSG_PING:
		put64(&p, msg->u.ping.token);
		break;
	case FC_MSG_PONG:
		put64(&p, msg->u.ping.token);
		put64(&p, msg->u.ping.clock_ns);
		break;
	case FC_MSG_BYE:
		put16(&p, msg->u.bye.reason);
		put_text(&p, msg->u.bye.text, plen - BYE_FIXED);
		break;
	case FC_MSG_STATUS:
		put8(&p, msg->u.status.source);
		put8(&p, 0);
		put_text(&p, msg->u.status.text, plen - STATUS_FIXED);
		break;
	case FC_MSG_AUTH:
		memcpy(p, msg->u.auth.proof, FC_PROTO_PROOF_SIZE);
		break;
	case FC_MSG_SEALED:
		memcpy(p, msg->u.sealed.data, msg->u.sealed.size);
		break;
	case FC_MSG_DATA:
		put64(&p, msg->u.data.seq);
		memcpy(p, msg->u.data.doc, msg->u.data.size);
		break;
	case FC_MSG_CONTROL:
		return fc_proto_control_put(&msg->u.control, p) ? FC_PROTO_HEADER_SIZE + plen : 0;
	case FC_MSG_CONTROL_RESULT:
		return fc_proto_result_put(&msg->u.result, p) ? FC_PROTO_HEADER_SIZE + plen : 0;
	case FC_MSG_STILL:
		return fc_proto_still_put(&msg->u.still, p) ? FC_PROTO_HEADER_SIZE + plen : 0;
	case FC_MSG_FRAME_PART:
		return fc_proto_part_put(&msg->u.part, p) ? FC_PROTO_HEADER_SIZE + plen : 0;
	case FC_MSG_FRAME_END:
		return fc_proto_end_put(&msg->u.end, p) ? FC_PROTO_HEADER_SIZE + plen : 0;
	}
	return FC_PROTO_HEADER_SIZE + plen;
}

size_t fc_proto_encode(const struct fc_msg *msg, uint8_t *buf, size_t cap)
{
	size_t n = fc_proto_encode_version(msg, FC_PROTO_VERSION, buf, cap);
	struct fc_msg check;

	/* Refuse what the peer's decoder would refuse (a role, kind or size out of range), so a
	 * bug shows here, on this side, not as a dropped connection there. */
	if (n && fc_proto_decode(buf, n, &check, NULL) != (ssize_t)n)
		return 0;
	return n;
}

size_t fc_proto_encoded_size(const struct fc_msg *msg)
{
	uint32_t min, max;

	return payload_bounds(msg->type, &min, &max) ? FC_PROTO_HEADER_SIZE + payload_size(msg) : 0;
}

size_t fc_proto_encode_header(uint8_t type, uint32_t plen, uint8_t *buf, size_t cap)
{
	uint32_t min, max;

	if (cap < FC_PROTO_HEADER_SIZE || !payload_bounds(type, &min, &max) || plen < min ||
	    plen > max)
		return 0;
	put_header(buf, FC_PROTO_VERSION, type, plen);
	return FC_PROTO_HEADER_SIZE;
}

size_t fc_proto_encode_frame_head(const struct fc_frame_msg *frame, uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED ||
	    frame->jpeg_size > FC_PROTO_MAX_JPEG || !frame_fields_ok(frame))
		return 0;
	p = put_header(buf, FC_PROTO_VERSION, FC_MSG_FRAME,
		       FC_PROTO_FRAME_FIXED + frame->jpeg_size);
	put_frame_fixed(p, frame);
	return FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED;
}

const char *fc_proto_strerror(int error)
{
	switch (error < 0 ? -error : error) {
	case FC_PROTO_E_MAGIC:
		return "not a freshcam stream (bad magic)";
	case FC_PROTO_E_VERSION:
		return "unsupported protocol version";
	case FC_PROTO_E_TYPE:
		return "unknown message type";
	case FC_PROTO_E_LENGTH:
		return "message length out of bounds for its type";
	case FC_PROTO_E_FIELD:
		return "field out of range";
	}
	return "unknown protocol error";
}

const char *fc_proto_type_name(int type)
{
	static const char *const names[] = {
		"?",	       "HELLO",	     "REQUEST",	 "FRAME",	   "VERDICT",
		"PING",	       "PONG",	     "BYE",	 "STATUS",	   "AUTH",
		"SEALED",      "DATA",	     "CONTROL",	 "CONTROL_RESULT", "STILL",
		"FRAME_START", "FRAME_PART", "FRAME_END"
	};

	return type > 0 && type <= FC_MSG_FRAME_END ? names[type] : "?";
}

const char *fc_proto_bye_reason_name(int reason)
{
	static const char *const names[] = {
		"done",	       "version mismatch", "role mismatch",	    "protocol error",
		"sender full", "timeout",	   "authentication failed", "passphrase required"
	};

	return reason >= 0 && reason <= FC_BYE_PASSPHRASE ? names[reason] : "unknown reason";
}
