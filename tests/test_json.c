/* Tests of common/json.c: the --stats-json line writer. Exact strings for small cases, and a small
 * JSON checker (below) for the structure of larger ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/*
 * A strict JSON checker (RFC 8259 grammar, no semantics): each parse_* takes *p past one value
 * and returns false at the first thing that is not JSON.
 */
static bool parse_value(const char **p, int depth);

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool parse_string(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*s++;

		if (c == '"')
			break;
		if (c < 0x20)
			return false; /* includes the terminating NUL */
		if (c != '\\')
			continue;
		c = (unsigned char)*s++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, s++) {
				if (!strchr("0123456789abcdefABCDEF", *s) || !*s)
					return false;
			}
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	*p = s;
	return true;
}

static bool parse_digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

static bool parse_number(const char **p)
{
	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (!parse_digits(p))
		return false;
	if (**p == '.') {
		(*p)++;
		if (!parse_digits(p))
			return false;
	}
	if (**p == 'e' || **p == 'E') {
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		if (!parse_digits(p))
			return false;
	}
	return true;
}

static bool parse_container(const char **p, int depth, char close, bool keyed)
{
	(*p)++;
	skip_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (keyed) {
			if (!parse_string(p))
				return false;
			skip_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!parse_value(p, depth + 1))
			return false;
		skip_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool parse_literal(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool parse_value(const char **p, int depth)
{
	if (depth > 64)
		return false;
	skip_ws(p);
	switch (**p) {
	case '{':
		return parse_container(p, depth, '}', true);
	case '[':
		return parse_container(p, depth, ']', false);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true");
	case 'f':
		return parse_literal(p, "false");
	case 'n':
		return parse_literal(p, "null");
	default:
		return parse_number(p);
	}
}

/* One JSON object followed by exactly one newline and nothing else. */
static bool is_json_line(const char *line)
{
	const char *p = line;

	skip_ws(&p);
	if (*p != '{' || !parse_value(&p, 0))
		return false;
	return strcmp(p, "\n") == 0;
}

#define assert_json_line(line)                                                                     \
	do {                                                                                       \
		const char *l_ = (line);                                                           \
		assert_non_null(l_);                                                               \
		if (!is_json_line(l_))                                                             \
			fail_msg("not one JSON object and a newline: %s", l_);                     \
	} while (0)

/* The checker itself: it takes JSON and refuses near-misses (so the tests below can fail). */
static void test_checker(void **state)
{
	(void)state;
	assert_true(is_json_line("{}\n"));
	assert_true(is_json_line("{\"a\":[1,-2.5e3,{\"b\":null}],\"c\":\"\\u001f\\\"\"}\n"));
	assert_false(is_json_line("{}"));
	assert_false(is_json_line("{}\n\n"));
	assert_false(is_json_line("{\"a\":1,}\n"));
	assert_false(is_json_line("{\"a\":1\"b\":2}\n"));
	assert_false(is_json_line("{\"a\":[1,2}\n"));
	assert_false(is_json_line("{\"a\":[1,,2]}\n"));
	assert_false(is_json_line("{\"a\":nan}\n"));
	assert_false(is_json_line("{\"a\":inf}\n"));
	assert_false(is_json_line("{\"a\":\"x\ny\"}\n"));
	assert_false(is_json_line("{\"a\":\"\\x\"}\n"));
	assert_false(is_json_line("{\"a\":01}\n"));
	assert_false(is_json_line("{\"a\":1}}\n"));
}

/* An empty line is "{}" and a newline. */
static void test_empty(void **state)
{
	struct fc_json j;

	(void)state;
	fc_json_begin(&j);
	assert_string_equal(fc_json_finish(&j), "{}\n");
}

/* Every kind of value, with commas only between siblings, nested objects and arrays. */
static void test_nested_exact(void **state)
{
	struct fc_json *j = malloc(sizeof(*j));
	const char *line;

	(void)state;
	assert_non_null(j);
	fc_json_begin(j);
	fc_json_uint(j, "seq", 42);
	fc_json_object(j, "age");
	fc_json_num(j, "p50", 12.345, 1);
	fc_json_num(j, "max", 80, 0);
	fc_json_end(j);
	fc_json_array(j, "drops");
	fc_json_uint(j, NULL, 1);
	fc_json_uint(j, NULL, 2);
	fc_json_object(j, NULL);
	fc_json_bool(j, "late", true);
	fc_json_end(j);
	fc_json_array(j, NULL);
	fc_json_end(j);
	fc_json_end(j);
	fc_json_object(j, "empty");
	fc_json_end(j);
	fc_json_str(j, "name", "cam0");
	fc_json_bool(j, "ok", false);
	line = fc_json_finish(j);
	assert_string_equal(line, "{\"seq\":42,\"age\":{\"p50\":12.3,\"max\":80},"
				  "\"drops\":[1,2,{\"late\":true},[]],\"empty\":{},"
				  "\"name\":\"cam0\",\"ok\":false}\n");
	assert_json_line(line);
	free(j);
}

/* A value that is JSON already goes in as it is, with the commas around it like any other. */
static void test_raw(void **state)
{
	static const char doc[] = "{\"t\":[1,\"a\"]}";
	struct fc_json *j = malloc(sizeof(*j));
	const char *line;

	(void)state;
	assert_non_null(j);
	fc_json_begin(j);
	fc_json_uint(j, "seq", 7);
	fc_json_raw(j, "data", (const uint8_t *)doc, strlen(doc));
	fc_json_array(j, "more");
	fc_json_raw(j, NULL, (const uint8_t *)"null", 4);
	fc_json_end(j);
	line = fc_json_finish(j);
	assert_string_equal(line, "{\"seq\":7,\"data\":{\"t\":[1,\"a\"]},\"more\":[null]}\n");
	assert_json_line(line);
	free(j);
}

/* The full range of uint64 and negative, rounded decimals are written exactly. */
static void test_numbers(void **state)
{
	struct fc_json j;

	(void)state;
	fc_json_begin(&j);
	fc_json_uint(&j, "zero", 0);
	fc_json_uint(&j, "max", UINT64_MAX);
	fc_json_num(&j, "neg", -0.5, 2);
	fc_json_num(&j, "round", 2.675, 0);
	fc_json_num(&j, "big", 1e15, 1);
	assert_string_equal(fc_json_finish(&j), "{\"zero\":0,\"max\":18446744073709551615,"
						"\"neg\":-0.50,\"round\":3,"
						"\"big\":1000000000000000.0}\n");
}

/* NaN and infinities, which JSON has no words for, become null. */
static void test_non_finite(void **state)
{
	struct fc_json j;
	const char *line;

	(void)state;
	fc_json_begin(&j);
	fc_json_num(&j, "nan", NAN, 2);
	fc_json_num(&j, "inf", INFINITY, 2);
	fc_json_array(&j, "list");
	fc_json_num(&j, NULL, -INFINITY, 1);
	fc_json_num(&j, NULL, 1.5, 1);
	fc_json_end(&j);
	line = fc_json_finish(&j);
	assert_string_equal(line, "{\"nan\":null,\"inf\":null,\"list\":[null,1.5]}\n");
	assert_json_line(line);
}

/* Quotes, backslashes and control bytes are escaped in values and keys; UTF-8 and DEL pass. */
static void test_escapes(void **state)
{
	struct fc_json j;
	const char *line;

	(void)state;
	fc_json_begin(&j);
	fc_json_str(&j, "q", "say \"hi\"");
	fc_json_str(&j, "b", "C:\\cam\\");
	fc_json_str(&j, "c", "a\nb\tc\r\x01\x1f");
	fc_json_str(&j, "u", "caf\xc3\xa9\x7f");
	fc_json_str(&j, "k\"\\\n", "");
	line = fc_json_finish(&j);
	assert_string_equal(line, "{\"q\":\"say \\\"hi\\\"\","
				  "\"b\":\"C:\\\\cam\\\\\","
				  "\"c\":\"a\\u000ab\\u0009c\\u000d\\u0001\\u001f\","
				  "\"u\":\"caf\xc3\xa9\x7f\","
				  "\"k\\\"\\\\\\u000a\":\"\"}\n");
	assert_json_line(line);
}

/* Every control character and every printable ASCII character in one string still gives JSON. */
static void test_escapes_all_bytes(void **state)
{
	struct fc_json j;
	char s[128];

	(void)state;
	for (int i = 1; i < 128; i++)
		s[i - 1] = (char)i;
	s[127] = '\0';
	fc_json_begin(&j);
	fc_json_str(&j, s, s);
	assert_json_line(fc_json_finish(&j));
}

/* Containers nest to FC_JSON_DEPTH levels counting the top object; one more is an error. */
static void test_depth(void **state)
{
	struct fc_json j;
	const char *line;

	(void)state;
	fc_json_begin(&j);
	for (int i = 1; i < FC_JSON_DEPTH; i++)
		fc_json_array(&j, i == 1 ? "a" : NULL);
	fc_json_uint(&j, NULL, 7);
	for (int i = 1; i < FC_JSON_DEPTH; i++)
		fc_json_end(&j);
	line = fc_json_finish(&j);
	assert_json_line(line);
	assert_int_equal(strspn(strchr(line, '['), "["), FC_JSON_DEPTH - 1);

	fc_json_begin(&j);
	for (int i = 0; i < FC_JSON_DEPTH; i++)
		fc_json_array(&j, i == 0 ? "a" : NULL);
	for (int i = 0; i < FC_JSON_DEPTH; i++)
		fc_json_end(&j);
	assert_null(fc_json_finish(&j));
}

/* The longest line that fits FC_JSON_MAX comes back whole; one byte more gives NULL. */
static void test_overflow_boundary(void **state)
{
	/* {"s":"xxx...x"}\n is 9 bytes plus the x's. */
	size_t fit = FC_JSON_MAX - 1 - 9;
	char *s = malloc(fit + 2);
	struct fc_json j;
	const char *line;

	(void)state;
	assert_non_null(s);
	memset(s, 'x', fit);
	s[fit] = '\0';
	fc_json_begin(&j);
	fc_json_str(&j, "s", s);
	line = fc_json_finish(&j);
	assert_non_null(line);
	assert_int_equal(strlen(line), FC_JSON_MAX - 1);
	assert_json_line(line);

	s[fit] = 'x';
	s[fit + 1] = '\0';
	fc_json_begin(&j);
	fc_json_str(&j, "s", s);
	assert_null(fc_json_finish(&j));
	free(s);
}

/* Many fields past FC_JSON_MAX make the line NULL; the struct is usable again after begin. */
static void test_overflow_many_fields(void **state)
{
	struct fc_json j;

	(void)state;
	fc_json_begin(&j);
	fc_json_array(&j, "n");
	for (int i = 0; i < FC_JSON_MAX; i++)
		fc_json_uint(&j, NULL, 123456789);
	fc_json_end(&j);
	assert_null(fc_json_finish(&j));

	fc_json_begin(&j);
	fc_json_uint(&j, "again", 1);
	assert_string_equal(fc_json_finish(&j), "{\"again\":1}\n");
}

/* Escaping that grows a string past the buffer (each control byte becomes 6) also overflows. */
static void test_overflow_by_escapes(void **state)
{
	char s[FC_JSON_MAX / 4];
	struct fc_json j;

	(void)state;
	memset(s, '\n', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	fc_json_begin(&j);
	fc_json_str(&j, "s", s);
	assert_null(fc_json_finish(&j));
}

/* More ends than opens is a caller bug, reported as NULL rather than an unbalanced line. */
static void test_extra_end(void **state)
{
	struct fc_json j;

	(void)state;
	fc_json_begin(&j);
	fc_json_uint(&j, "a", 1);
	fc_json_end(&j);
	assert_null(fc_json_finish(&j));

	fc_json_begin(&j);
	fc_json_array(&j, "a");
	fc_json_end(&j);
	fc_json_end(&j);
	assert_null(fc_json_finish(&j));
}

/* A container left open at finish is also unbalanced: NULL, never a line that is not JSON. */
static void test_missing_end(void **state)
{
	struct fc_json j;
	const char *line;

	(void)state;
	fc_json_begin(&j);
	fc_json_array(&j, "a");
	fc_json_uint(&j, NULL, 1);
	line = fc_json_finish(&j);
	if (line)
		fail_msg("finish with an open array returned %s", line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_nested_exact),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_non_finite),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_escapes_all_bytes),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_overflow_boundary),
		cmocka_unit_test(test_overflow_many_fields),
		cmocka_unit_test(test_overflow_by_escapes),
		cmocka_unit_test(test_extra_end),
		cmocka_unit_test(test_missing_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
