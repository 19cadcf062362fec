/* Tests of sender/serve/http_route.c: which route each path and query name (the mjpg-streamer URLs
 * among them, and the names that must never reach the disk), the bytes of a /stream part's
 * header, and the page files' Content-Types. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http_route.h"

/* The routes of the issue, with and without mjpg-streamer's query. */
static void test_routes(void **state)
{
	(void)state;
	assert_int_equal(fc_http_route("/stream", NULL), FC_HTTP_ROUTE_STREAM);
	assert_int_equal(fc_http_route("/snapshot", ""), FC_HTTP_ROUTE_SNAPSHOT);
	assert_int_equal(fc_http_route("/state", NULL), FC_HTTP_ROUTE_STATE);
	assert_int_equal(fc_http_route("/auth/challenge", NULL), FC_HTTP_ROUTE_CHALLENGE);
	assert_int_equal(fc_http_route("/auth/prove", "nonce=1&proof=2"), FC_HTTP_ROUTE_PROVE);
	assert_int_equal(fc_http_route("/", "action=stream"), FC_HTTP_ROUTE_STREAM);
	assert_int_equal(fc_http_route("/", "action=snapshot"), FC_HTTP_ROUTE_SNAPSHOT);
	assert_int_equal(fc_http_route("/", NULL), FC_HTTP_ROUTE_FILE);
	assert_int_equal(fc_http_route("/", "action=other"), FC_HTTP_ROUTE_NONE);
	/* The page's own settings (page.js reads them). */
	assert_int_equal(fc_http_route("/", "max-age=40"), FC_HTTP_ROUTE_FILE);
	assert_int_equal(fc_http_route("/streams", NULL), FC_HTTP_ROUTE_FILE);
}

/* Page files: plain names only; "..", hidden files, empty names and odd bytes never. */
static void test_file_names(void **state)
{
	static const char *const good[] = { "/index.html", "/app.js", "/img/logo-1_a.svg" };
	static const char *const bad[] = {
		"/../etc/passwd", "/a/../b", "/.hidden", "/a//b", "/a/",
		"/a b",		  "/a%2e",   "stream",	 "/a\\b", "/a/.b"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(fc_http_route(good[i], NULL), FC_HTTP_ROUTE_FILE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fc_http_route(bad[i], NULL) != FC_HTTP_ROUTE_NONE)
			fail_msg("'%s' was let through", bad[i]);
	}
}

/* A part's header byte for byte: what mjpg-streamer's and uStreamer's readers expect. */
static void test_part_header(void **state)
{
	char buf[256];
	size_t n = fc_http_part_header(buf, sizeof(buf), 43965, 1796307537548638123ull, 46);
	const char *want = "--freshcamframe\r\n"
			   "Content-Type: image/jpeg\r\n"
			   "Content-Length: 43965\r\n"
			   "X-Timestamp: 1796307537.548638\r\n"
			   "X-Freshcam-Seq: 46\r\n"
			   "\r\n";

	(void)state;
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	/* Microseconds keep their leading zeros. */
	n = fc_http_part_header(buf, sizeof(buf), 1, 5000001000ull, 1);
	assert_non_null(strstr(buf, "X-Timestamp: 5.000001\r\n"));
}

/* A buffer too small gives 0, never a cut header. */
static void test_part_header_too_small(void **state)
{
	char buf[256];
	size_t full = fc_http_part_header(buf, sizeof(buf), 100, 0, 1);

	(void)state;
	assert_true(full > 0);
	assert_int_equal(fc_http_part_header(buf, full, 100, 0, 1), 0);
	assert_int_equal(fc_http_part_header(buf, full + 1, 100, 0, 1), full);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(fc_http_content_type("/index.html"), "text/html; charset=utf-8");
	assert_string_equal(fc_http_content_type("/app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(fc_http_content_type("/s.css"), "text/css; charset=utf-8");
	assert_string_equal(fc_http_content_type("/noext"), "application/octet-stream");
	assert_string_equal(fc_http_content_type("/dir.js/file"), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),	      cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_part_header),   cmocka_unit_test(test_part_header_too_small),
		cmocka_unit_test(test_content_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
