#include "jdoc.h"

#include <stdio.h>
#include <string.h>

/* A cursor over the document; err says what went wrong, at byte i. */
struct cur {
	const uint8_t *p;
	size_t n;
	size_t i;
	int depth;
	const char *err;
};

static bool fail(struct cur *c, const char *err)
{
	if (!c->err)
		c->err = err;
	return false;
}

static void skip_spaces(struct cur *c)
{
	while (c->i < c->n && c->p[c->i] == ' ')
		c->i++;
}

/* One UTF-8 sequence at c->i, lead byte b >= 0x80: no overlong forms, no surrogates, nothing
 * past U+10FFFF (RFC 3629). */
static bool utf8(struct cur *c, uint8_t b)
{
	size_t more = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
	uint32_t cp = b >= 0xf0 ? b & 0x07u : b >= 0xe0 ? b & 0x0fu : b & 0x1fu;
	static const uint32_t least[4] = { 0, 0x80, 0x800, 0x10000 };

	if (b < 0xc2 || b > 0xf4)
		return fail(c, "a byte that is not UTF-8");
	if (c->i + more >= c->n)
		return fail(c, "a UTF-8 sequence cut short");
	for (size_t k = 1; k <= more; k++) {
		uint8_t x = c->p[c->i + k];

		if ((x & 0xc0) != 0x80)
			return fail(c, "a UTF-8 sequence cut short");
		cp = cp << 6 | (x & 0x3fu);
	}
	if (cp < least[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(c, "an overlong or out-of-range UTF-8 sequence");
	c->i += more + 1;
	return true;
}

static bool hex4(struct cur *c)
{
	for (int k = 0; k < 4; k++, c->i++)
		if (c->i >= c->n || !strchr("0123456789abcdefABCDEF", c->p[c->i]) || !c->p[c->i])
			return fail(c, "a \\u escape without four hex digits");
	return true;
}

/* A string, from its opening quote to just past its closing one. */
static bool string(struct cur *c)
{
	c->i++;
	while (c->i < c->n) {
		uint8_t b = c->p[c->i];

		if (b == '"') {
			c->i++;
			return true;
		}
		if (b < 0x20)
			return fail(c, "a control byte in a string (escape it)");
		if (b >= 0x80) {
			if (!utf8(c, b))
				return false;
			continue;
		}
		c->i++;
		if (b != '\\')
			continue;
		if (c->i >= c->n)
			break;
		b = c->p[c->i++];
		if (b == 'u' && !hex4(c))
			return false;
		if (b != 'u' && !strchr("\"\\/bfnrt", b))
			return fail(c, "an unknown escape in a string");
	}
	return fail(c, "a string without its closing quote");
}

static size_t digits(struct cur *c)
{
	size_t start = c->i;

	while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9')
		c->i++;
	return c->i - start;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool number(struct cur *c)
{
	size_t start;

	if (c->p[c->i] == '-')
		c->i++;
	start = c->i;
	if (digits(c) == 0 || (c->p[start] == '0' && c->i - start > 1))
		return fail(c, "a malformed number");
	if (c->i < c->n && c->p[c->i] == '.') {
		c->i++;
		if (digits(c) == 0)
			return fail(c, "a malformed number");
	}
	if (c->i < c->n && (c->p[c->i] == 'e' || c->p[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->p[c->i] == '+' || c->p[c->i] == '-'))
			c->i++;
		if (digits(c) == 0)
			return fail(c, "a malformed number");
	}
	return true;
}

static bool word(struct cur *c, const char *w)
{
	size_t len = strlen(w);

	if (c->n - c->i < len || memcmp(c->p + c->i, w, len) != 0)
		return fail(c, "not a JSON value");
	c->i += len;
	return true;
}

static bool value(struct cur *c);

/* An array or an object, from its opener to just past its closer. */
static bool container(struct cur *c, uint8_t closer)
{
	bool first = true;

	if (++c->depth > FC_JDOC_DEPTH)
		return fail(c, "nested too deep");
	c->i++;
	for (;;) {
		skip_spaces(c);
		if (c->i >= c->n)
			return fail(c, "an array or object without its end");
		if (c->p[c->i] == closer && first) {
			c->i++;
			break;
		}
		if (closer == '}') {
			if (c->p[c->i] != '"')
				return fail(c, "an object key that is not a string");
			if (!string(c))
				return false;
			skip_spaces(c);
			if (c->i >= c->n || c->p[c->i] != ':')
				return fail(c, "an object key without its ':'");
			c->i++;
		}
		if (!value(c))
			return false;
		skip_spaces(c);
		if (c->i < c->n && c->p[c->i] == closer) {
			c->i++;
			break;
		}
		if (c->i >= c->n || c->p[c->i] != ',')
			return fail(c, "a missing ',' or end in an array or object");
		c->i++;
		first = false;
	}
	c->depth--;
	return true;
}

static bool value(struct cur *c)
{
	skip_spaces(c);
	if (c->i >= c->n)
		return fail(c, "a missing value");
	switch (c->p[c->i]) {
	case '{':
		return container(c, '}');
	case '[':
		return container(c, ']');
	case '"':
		return string(c);
	case 't':
		return word(c, "true");
	case 'f':
		return word(c, "false");
	case 'n':
		return word(c, "null");
	default:
		if (c->p[c->i] == '-' || (c->p[c->i] >= '0' && c->p[c->i] <= '9'))
			return number(c);
		return fail(c, c->p[c->i] < 0x20 ? "a control byte (tab, line end) outside a string"
						 : "not a JSON value");
	}
}

int fc_jdoc_check(const uint8_t *buf, size_t len, char *why, size_t whylen)
{
	struct cur c = { .p = buf, .n = len };

	if (len == 0 || len > FC_JDOC_MAX) {
		if (why)
			snprintf(why, whylen, "%zu bytes; a document has 1 to %d", len,
				 FC_JDOC_MAX);
		return -1;
	}
	if (value(&c)) {
		skip_spaces(&c);
		if (c.i == c.n)
			return 0;
		fail(&c, "more after the value (one JSON value per document)");
	}
	if (why)
		snprintf(why, whylen, "not one JSON value: %s at byte %zu", c.err, c.i);
	return -1;
}

/* A byte of a number or a literal: two such on either side of whitespace are two tokens, and
 * must stay two ("[1 2]" is not "[12]"). */
static bool scalar(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       b == '.' || b == '+' || b == '-';
}

long fc_jdoc_compact(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	bool quoted = false, escaped = false, gap = false;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];

		if (!quoted && (b == ' ' || b == '\t' || b == '\r' || b == '\n')) {
			gap = n > 0;
			continue;
		}
		if (quoted && b < 0x20)
			return -1;
		if (n + 2 > cap)
			return -1;
		if (gap && !quoted && scalar(b) && scalar(out[n - 1]))
			out[n++] = ' ';
		gap = false;
		out[n++] = b;
		if (escaped)
			escaped = false;
		else if (quoted && b == '\\')
			escaped = true;
		else if (b == '"')
			quoted = !quoted;
	}
	return quoted ? -1 : (long)n;
}

bool fc_jdoc_member(const uint8_t *doc, size_t len, const char *key, size_t *off, size_t *vlen)
{
	struct cur c = { .p = doc, .n = len };
	size_t klen = strlen(key);

	skip_spaces(&c);
	if (c.i >= c.n || doc[c.i++] != '{')
		return false;
	for (;;) {
		size_t k0, k1;

		skip_spaces(&c);
		if (c.i >= c.n || doc[c.i] != '"')
			return false;
		k0 = c.i + 1;
		if (!string(&c))
			return false;
		k1 = c.i - 1;
		skip_spaces(&c);
		if (c.i >= c.n || doc[c.i++] != ':')
			return false;
		skip_spaces(&c);
		*off = c.i;
		if (!value(&c))
			return false;
		if (k1 - k0 == klen && memcmp(doc + k0, key, klen) == 0) {
			*vlen = c.i - *off;
			return true;
		}
		skip_spaces(&c);
		if (c.i >= c.n || doc[c.i++] != ',')
			return false;
	}
}
