/*
 * json: a small writer for the one-object-per-line JSON that --stats-json emits.
 *
 * It appends to a fixed buffer owned by the struct (no allocation) and tracks commas and nesting,
 * so callers write fields, not punctuation. Strings are escaped. A line that would overflow is
 * marked and reported by fc_json_finish, never truncated silently. One thread per struct.
 */
#ifndef FC_JSON_H
#define FC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_JSON_MAX   32768 /* a sender line with 64 viewers is about 9 KB */
#define FC_JSON_DEPTH 8

struct fc_json {
	char buf[FC_JSON_MAX];
	size_t len;
	int depth;
	bool need_comma[FC_JSON_DEPTH]; /* per open container: a value was written already */
	char closer[FC_JSON_DEPTH];	/* per open container: '}' or ']' */
	bool overflow;
};

/* Starts a line holding one object. */
void fc_json_begin(struct fc_json *j);
/* Nested containers; key is NULL inside an array. */
void fc_json_object(struct fc_json *j, const char *key);
void fc_json_array(struct fc_json *j, const char *key);
void fc_json_end(struct fc_json *j);
void fc_json_uint(struct fc_json *j, const char *key, uint64_t v);
/* A number with `decimals` digits after the point (non-finite values are written as null). */
void fc_json_num(struct fc_json *j, const char *key, double v, int decimals);
void fc_json_str(struct fc_json *j, const char *key, const char *s);
void fc_json_bool(struct fc_json *j, const char *key, bool v);
/* A value that is JSON already, written as it is: only a checked document (jdoc.h), which
 * holds no NUL and no line end. */
void fc_json_raw(struct fc_json *j, const char *key, const uint8_t *json, size_t len);
/* Closes the top object and adds a newline. Returns the line, or NULL when it overflowed or a
 * nested container was left open. */
const char *fc_json_finish(struct fc_json *j);

#endif
