#include "proto_control.h"

#include <string.h>

#include "proto.h"

/* n bytes big-endian at p; the callers checked the lengths. */
static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + n;
}

bool fc_proto_control_name_ok(const char *name, size_t len)
{
	if (len < 1 || len > FC_PROTO_MAX_CONTROL_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

/* A result's text reaches a console and a program's JSON reader: printable ASCII, and newlines
 * between the lines of a list. */
static bool result_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\n')
			return false;
	return true;
}

int fc_proto_control_decode(const uint8_t *p, uint32_t n, struct fc_control *c)
{
	uint8_t name_len = p[13];

	c->id = (uint32_t)get_be(p, 4);
	c->op = p[4];
	c->value = (int64_t)get_be(p + 5, 8);
	if (name_len != n - FC_PROTO_CONTROL_FIXED)
		return -FC_PROTO_E_FIELD;
	/* The name is any bytes up to its length (the sender judges it and answers); a NUL in it
	 * would hide the rest, so that is the one thing refused here. */
	if (memchr(p + FC_PROTO_CONTROL_FIXED, '\0', name_len))
		return -FC_PROTO_E_FIELD;
	memcpy(c->name, p + FC_PROTO_CONTROL_FIXED, name_len);
	c->name[name_len] = '\0';
	return 0;
}

int fc_proto_result_decode(const uint8_t *p, uint32_t n, struct fc_control_result *r)
{
	r->id = (uint32_t)get_be(p, 4);
	r->op = p[4];
	r->status = p[5];
	r->text = (const char *)p + FC_PROTO_RESULT_FIXED;
	r->text_len = n - FC_PROTO_RESULT_FIXED;
	return result_text_ok(r->text, r->text_len) ? 0 : -FC_PROTO_E_FIELD;
}

/* The still is the captured picture itself: 1..16384 a side, a quality of 0..100. */
static bool still_ok(const struct fc_still *s)
{
	return s->width > 0 && s->height > 0 && s->width <= FC_PROTO_MAX_DIM &&
	       s->height <= FC_PROTO_MAX_DIM && s->quality <= FC_PROTO_MAX_QUALITY;
}

int fc_proto_still_decode(const uint8_t *p, uint32_t n, struct fc_still *s)
{
	s->id = (uint32_t)get_be(p, 4);
	s->seq = get_be(p + 4, 8);
	s->width = (uint16_t)get_be(p + 12, 2);
	s->height = (uint16_t)get_be(p + 14, 2);
	s->quality = p[16];
	s->age_ns = get_be(p + 17, 8);
	s->real_ns = get_be(p + 25, 8);
	s->jpeg = p + FC_PROTO_STILL_FIXED;
	s->jpeg_size = n - FC_PROTO_STILL_FIXED;
	return still_ok(s) ? 0 : -FC_PROTO_E_FIELD;
}

size_t fc_proto_control_size(const struct fc_control *c)
{
	return FC_PROTO_CONTROL_FIXED + strnlen(c->name, FC_PROTO_MAX_CONTROL_NAME + 1);
}

bool fc_proto_control_put(const struct fc_control *c, uint8_t *p)
{
	size_t len = strnlen(c->name, FC_PROTO_MAX_CONTROL_NAME + 1);

	if (len > FC_PROTO_MAX_CONTROL_NAME)
		return false;
	p = put_be(p, c->id, 4);
	*p++ = c->op;
	p = put_be(p, (uint64_t)c->value, 8);
	*p++ = (uint8_t)len;
	memcpy(p, c->name, len);
	return true;
}

bool fc_proto_result_put(const struct fc_control_result *r, uint8_t *p)
{
	if (r->text_len > FC_PROTO_MAX_RESULT_TEXT || !result_text_ok(r->text, r->text_len))
		return false;
	p = put_be(p, r->id, 4);
	*p++ = r->op;
	*p++ = r->status;
	if (r->text_len) /* an empty text may have no pointer at all */
		memcpy(p, r->text, r->text_len);
	return true;
}

bool fc_proto_still_put(const struct fc_still *s, uint8_t *p)
{
	if (!still_ok(s) || s->jpeg_size < 1 || s->jpeg_size > FC_PROTO_MAX_JPEG)
		return false;
	p = put_be(p, s->id, 4);
	p = put_be(p, s->seq, 8);
	p = put_be(p, s->width, 2);
	p = put_be(p, s->height, 2);
	*p++ = s->quality;
	p = put_be(p, s->age_ns, 8);
	p = put_be(p, s->real_ns, 8);
	memcpy(p, s->jpeg, s->jpeg_size);
	return true;
}

const char *fc_proto_control_op_name(int op)
{
	switch (op) {
	case FC_CONTROL_LIST:
		return "list";
	case FC_CONTROL_SET:
		return "set";
	case FC_CONTROL_STILL:
		return "still";
	case FC_CONTROL_NUDGE:
		return "nudge";
	}
	return "unknown op";
}

const char *fc_proto_control_status_name(int status)
{
	static const char *const names[] = {
		"ok",		"refused",	     "bad command", "unknown control",
		"out of range", "the camera failed", "no camera",   "busy",
		"read-only",
	};

	return status >= 0 && status <= FC_CONTROL_E_READ_ONLY ? names[status] : "unknown status";
}
