/* http_route: routes, part headers and content types. See http_route.h. */
#include "http_route.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether path is a page file's name (http_route.h says which names are). */
static bool file_path(const char *path)
{
	bool segment_start = true;

	if (path[0] != '/')
		return false;
	for (const char *p = path + 1; *p; p++) {
		char c = *p;

		if (c == '/') {
			if (segment_start)
				return false; /* "//" or a trailing empty name */
			segment_start = true;
			continue;
		}
		if (segment_start && c == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
		segment_start = false;
	}
	return !segment_start || strcmp(path, "/") == 0;
}

enum fc_http_route fc_http_route(const char *path, const char *query)
{
	if (!query)
		query = "";
	if (strcmp(path, "/") == 0) {
		/* mjpg-streamer's URLs, which Home Assistant and OctoPrint are often given. */
		if (strcmp(query, "action=stream") == 0)
			return FC_HTTP_ROUTE_STREAM;
		if (strcmp(query, "action=snapshot") == 0)
			return FC_HTTP_ROUTE_SNAPSHOT;
		/* Another action of mjpg-streamer's is not served; any other query is the page's
		 * own (e.g. ?max-age=40, read by page.js). */
		return strncmp(query, "action=", 7) == 0 ? FC_HTTP_ROUTE_NONE : FC_HTTP_ROUTE_FILE;
	}
	if (strcmp(path, "/stream") == 0)
		return FC_HTTP_ROUTE_STREAM;
	if (strcmp(path, "/snapshot") == 0)
		return FC_HTTP_ROUTE_SNAPSHOT;
	if (strcmp(path, "/state") == 0)
		return FC_HTTP_ROUTE_STATE;
	if (strcmp(path, "/auth/challenge") == 0)
		return FC_HTTP_ROUTE_CHALLENGE;
	if (strcmp(path, "/auth/prove") == 0)
		return FC_HTTP_ROUTE_PROVE;
	return file_path(path) ? FC_HTTP_ROUTE_FILE : FC_HTTP_ROUTE_NONE;
}

size_t fc_http_part_header(char *out, size_t len, size_t jpeg_size, uint64_t wall_ns, uint64_t seq)
{
	int n =
	    snprintf(out, len,
		     "--" FC_HTTP_BOUNDARY "\r\n"
		     "Content-Type: image/jpeg\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Timestamp: %llu.%06llu\r\n"
		     "X-Freshcam-Seq: %llu\r\n"
		     "\r\n",
		     jpeg_size, (unsigned long long)(wall_ns / 1000000000u),
		     (unsigned long long)(wall_ns % 1000000000u / 1000u), (unsigned long long)seq);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

const char *fc_http_content_type(const char *path)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}
