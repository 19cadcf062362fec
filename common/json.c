#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void add(struct fc_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct fc_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->len, sizeof(j->buf) - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(j->buf) - j->len) {
		j->overflow = true;
		return;
	}
	j->len += (size_t)n;
}

static void add_string(struct fc_json *j, const char *s)
{
	add(j, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			add(j, "\\%c", c);
		else if (c < 0x20)
			add(j, "\\u%04x", c);
		else
			add(j, "%c", c);
	}
	add(j, "\"");
}

/* The comma and key that come before every value. */
static void field(struct fc_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		add(j, ",");
	j->need_comma[j->depth] = true;
	if (key) {
		add_string(j, key);
		add(j, ":");
	}
}

static void open_container(struct fc_json *j, const char *key, char bracket)
{
	field(j, key);
	add(j, "%c", bracket);
	if (j->depth + 1 >= FC_JSON_DEPTH) {
		j->overflow = true;
		return;
	}
	j->depth++;
	j->need_comma[j->depth] = false;
	j->closer[j->depth] = bracket == '{' ? '}' : ']';
}

void fc_json_begin(struct fc_json *j)
{
	j->len = 0;
	j->depth = 0;
	j->overflow = false;
	j->need_comma[0] = false;
	add(j, "{");
}

void fc_json_object(struct fc_json *j, const char *key)
{
	open_container(j, key, '{');
}

void fc_json_array(struct fc_json *j, const char *key)
{
	open_container(j, key, '[');
}

void fc_json_end(struct fc_json *j)
{
	if (j->depth == 0) {
		j->overflow = true; /* more ends than opens: a caller bug, reported as a bad line */
		return;
	}
	add(j, "%c", j->closer[j->depth--]);
}

void fc_json_uint(struct fc_json *j, const char *key, uint64_t v)
{
	field(j, key);
	add(j, "%llu", (unsigned long long)v);
}

void fc_json_num(struct fc_json *j, const char *key, double v, int decimals)
{
	field(j, key);
	if (isfinite(v))
		add(j, "%.*f", decimals, v);
	else
		add(j, "null");
}

void fc_json_str(struct fc_json *j, const char *key, const char *s)
{
	field(j, key);
	add_string(j, s);
}

void fc_json_bool(struct fc_json *j, const char *key, bool v)
{
	field(j, key);
	add(j, v ? "true" : "false");
}

void fc_json_raw(struct fc_json *j, const char *key, const uint8_t *json, size_t len)
{
	field(j, key);
	add(j, "%.*s", (int)len, (const char *)json);
}

const char *fc_json_finish(struct fc_json *j)
{
	/* A container left open is a caller bug: refuse the line rather than emit broken JSON. */
	if (j->depth != 0)
		j->overflow = true;
	add(j, "}\n");
	return j->overflow ? NULL : j->buf;
}
