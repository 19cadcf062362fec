/* Tests of common/jdoc.c: the JSON documents that travel with frames, checked byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "jdoc.h"

static int check(const char *s)
{
	return fc_jdoc_check((const uint8_t *)s, strlen(s), NULL, 0);
}

/* Every kind of JSON value is a document, with spaces between tokens and UTF-8 in strings. */
static void test_valid_documents(void **state)
{
	static const char *const ok[] = {
		"0",
		"-0.5e+3",
		"1E9",
		"true",
		"false",
		"null",
		"\"\"",
		"\"caf\\u00e9 \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xb7\"",
		"[]",
		"{}",
		" { \"a\" : [ 1 , 2 , { } ] , \"b\" : null } ",
		"{\"temp_c\":21.5,\"pose\":[0.1,-2,3e-2],\"ok\":true}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (check(ok[i]) != 0)
			fail_msg("refused: %s", ok[i]);
}

/* What is not exactly one JSON value in UTF-8 without control bytes is refused, and the reason
 * names the problem. */
static void test_invalid_documents(void **state)
{
	static const char *const bad[] = {
		"",
		" ",
		"01",
		"1.",
		"-",
		".5",
		"1e",
		"tru",
		"nulls",
		"{\"a\"}",
		"{\"a\":}",
		"{a:1}",
		"[1,]",
		"[1 2]",
		"{\"a\":1,}",
		"\"abc",
		"\"\\x\"",
		"\"\\u12g4\"",
		"[1]]",
		"1 2",
		"{}{}",
		"[\t1]",
		"{\"a\":1}\n",
		"\"a\tb\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"",
		"\"\x80\"",
		"'a'",
	};
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (check(bad[i]) == 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(fc_jdoc_check((const uint8_t *)"[1 2]", 5, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "missing ','"));
	assert_non_null(strstr(why, "byte 3"));
}

/* The size limit is the document's bytes, and nesting stops at FC_JDOC_DEPTH. */
static void test_limits(void **state)
{
	static uint8_t doc[FC_JDOC_MAX + 1];
	char deep[2 * FC_JDOC_DEPTH + 3];
	char why[160];

	(void)state;
	memset(doc, ' ', sizeof(doc));
	doc[0] = '1';
	assert_int_equal(fc_jdoc_check(doc, FC_JDOC_MAX, NULL, 0), 0);
	assert_int_equal(fc_jdoc_check(doc, FC_JDOC_MAX + 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "4097 bytes"));
	memset(deep, '[', FC_JDOC_DEPTH);
	memset(deep + FC_JDOC_DEPTH, ']', FC_JDOC_DEPTH);
	deep[2 * FC_JDOC_DEPTH] = '\0';
	assert_int_equal(check(deep), 0);
	memset(deep, '[', FC_JDOC_DEPTH + 1);
	memset(deep + FC_JDOC_DEPTH + 1, ']', FC_JDOC_DEPTH + 1);
	deep[2 * FC_JDOC_DEPTH + 2] = '\0';
	assert_int_equal(fc_jdoc_check((const uint8_t *)deep, strlen(deep), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "nested too deep"));
}

/* Compacting drops whitespace outside strings (tabs, CR LF too) and keeps it inside, escapes
 * and all; a string that is not closed, or has a raw control byte, cannot be compacted. */
static void test_compact(void **state)
{
	static const char in[] = "{\t\"a b\" : [1,\r\n 2],\"q\":\"x\\\" y\"}\r";
	uint8_t out[64];
	long n;

	(void)state;
	n = fc_jdoc_compact((const uint8_t *)in, strlen(in), out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(n, strlen("{\"a b\":[1,2],\"q\":\"x\\\" y\"}"));
	assert_memory_equal(out, "{\"a b\":[1,2],\"q\":\"x\\\" y\"}", (size_t)n);
	assert_int_equal(fc_jdoc_check(out, (size_t)n, NULL, 0), 0);
	assert_int_equal(fc_jdoc_compact((const uint8_t *)"\"abc", 4, out, sizeof(out)), -1);
	assert_int_equal(fc_jdoc_compact((const uint8_t *)"\"a\tb\"", 5, out, sizeof(out)), -1);
	assert_int_equal(fc_jdoc_compact((const uint8_t *)"[1,2,3]", 7, out, 6), -1);
	/* Two tokens stay two: the check then refuses what was never one value. */
	n = fc_jdoc_compact((const uint8_t *)"[1 \t2, true\nnull ]", 18, out, sizeof(out));
	assert_int_equal(n, 15);
	assert_memory_equal(out, "[1 2,true null]", 15);
	assert_int_equal(fc_jdoc_check(out, (size_t)n, NULL, 0), -1);
}

/* A top-level member's value is found by its key, whatever comes before it; not in a nested
 * object, nor in a document that is not an object. */
static void test_member(void **state)
{
	static const char doc[] = "{ \"data\" : {\"seq\":5}, \"seq\" : 42 ,\"x\":[1]}";
	size_t off = 0, len = 0;

	(void)state;
	assert_true(fc_jdoc_member((const uint8_t *)doc, strlen(doc), "seq", &off, &len));
	assert_int_equal(len, 2);
	assert_memory_equal(doc + off, "42", 2);
	assert_true(fc_jdoc_member((const uint8_t *)doc, strlen(doc), "data", &off, &len));
	assert_memory_equal(doc + off, "{\"seq\":5}", len);
	assert_false(fc_jdoc_member((const uint8_t *)doc, strlen(doc), "se", &off, &len));
	assert_false(fc_jdoc_member((const uint8_t *)"[1]", 3, "seq", &off, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_documents), cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_limits),		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
