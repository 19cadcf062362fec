/*
 * http_route: the pure parts of the sender's HTTP server (http.c): which route a request's path
 * and query name, the header of each MJPEG part, and the Content-Type of a page file.
 *
 * No I/O and no allocation: they format into the caller's buffers, so that tests/test_http.c
 * checks them byte by byte. Any thread.
 */
#ifndef FC_HTTP_ROUTE_H
#define FC_HTTP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* The boundary between /stream's parts (the Content-Type's boundary= parameter). */
#define FC_HTTP_BOUNDARY "freshcamframe"

enum fc_http_route {
	FC_HTTP_ROUTE_FILE,	 /* "/" or a file of the page (web/) */
	FC_HTTP_ROUTE_STREAM,	 /* /stream, /?action=stream (mjpg-streamer) */
	FC_HTTP_ROUTE_SNAPSHOT,	 /* /snapshot, /?action=snapshot */
	FC_HTTP_ROUTE_STATE,	 /* /state */
	FC_HTTP_ROUTE_CHALLENGE, /* /auth/challenge: the page's way to a session (http_guard.h) */
	FC_HTTP_ROUTE_PROVE,	 /* /auth/prove */
	FC_HTTP_ROUTE_NONE,	 /* anything else: 404 */
};

/* The route of path (without its query) and query (the part after '?', "" or NULL when none).
 * Page files are names of letters, digits, '.', '-' and '_' under "/", one level or more deep,
 * never starting with '.': "..", hidden files and odd bytes are NONE, whatever is on disk. */
enum fc_http_route fc_http_route(const char *path, const char *query);

/* The header of one part of /stream: the boundary, then Content-Type, Content-Length,
 * X-Timestamp (wall_ns as seconds with microseconds, as mjpg-streamer and uStreamer write it) and
 * X-Freshcam-Seq, then the empty line. Returns its length, or 0 when it does not fit in len. */
size_t fc_http_part_header(char *out, size_t len, size_t jpeg_size, uint64_t wall_ns, uint64_t seq);

/* The Content-Type of a page file, by its extension; application/octet-stream when unknown. */
const char *fc_http_content_type(const char *path);

#endif
