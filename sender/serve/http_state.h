/*
 * http_state: the JSON that /state answers (docs/HTTP.md, field by field): the source, the
 * encoder, the HTTP clients and every protocol viewer with its figures (fc_server_stats).
 *
 * Formats into the caller's fc_json (no allocation). fc-http only: it walks the client list.
 */
#ifndef FC_HTTP_STATE_H
#define FC_HTTP_STATE_H

#include "http_client.h"
#include "json.h"

/* At most this many HTTP clients are listed one by one (all are counted). */
#define FC_HTTP_STATE_CLIENTS 100

/* The line (with its newline), or NULL when it did not fit; v[0..nv) are the protocol viewers,
 * copied by the caller (fc_server_stats) so that nothing here runs under the session list's lock. */
const char *fc_http_state(struct fc_json *j, const struct fc_http_cfg *cfg,
			  const struct fc_http_client *list, unsigned connections,
			  const struct fc_viewer_stats *v, int nv);

#endif
