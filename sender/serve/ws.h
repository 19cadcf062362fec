/*
 * ws: a browser's WebSocket as an ordinary viewer. The live page (web/) speaks the freshcam
 * protocol itself (web/freshcam.js); its bytes travel in binary WebSocket messages, cut anywhere,
 * and this module bridges each such connection to a viewer session: on a WebSocket with the
 * subprotocol FC_WS_PROTOCOL_NAME at the path FC_WS_PATH it makes a socketpair, gives one end to
 * the server (fc_server_adopt: the session counts toward --max-viewers and shows in the viewer
 * list as "ws:ADDR:PORT") and pumps bytes between the other end and the WebSocket. The session
 * does not know it talks to a browser: the handshake, the window, the stale notices and the link
 * adaptation apply unchanged.
 *
 * Why the socketpair's end is adopted into lws as a RAW file descriptor (and not polled from the
 * WebSocket's writeable callback): the session writes whenever a frame is ready, and only lws's
 * own poll can wake its thread for that without a timer that would add age; adopted, the end is
 * one more descriptor of the same event loop, read only when the WebSocket has room.
 *
 * Back-pressure, so that frames never queue: the socketpair's end is read only while the
 * WebSocket has no write pending; a slow browser then fills the session's small socket buffer,
 * and the session's writes wait (and time out) exactly as they would on a slow TCP link. The
 * other way, what the socketpair does not take at once (the session reads its viewer's small
 * messages as they come) is kept and the WebSocket is not read until it has been written; a page
 * that sends more than FC_WS_IN_CAP unread bytes is cut off.
 *
 * Closing, in every order: the browser goes (the WebSocket closes, lws closes the adopted end,
 * its child, and the session reads the end of its stream), or the session ends (what it wrote
 * last, its BYE, is sent on, even when lws closed the end on the hang-up before it was read; the
 * page then closes the WebSocket as a viewer closes its TCP connection after a BYE, and one that
 * does not is cut off FC_WS_LINGER_S later).
 *
 * A WebSocket whose Origin is another site's is refused (a page elsewhere must not watch this
 * camera through a browser on this host); programs that send no Origin are served.
 *
 * Threads: everything here runs on the lws service thread, inside fc_ws_callback, except
 * fc_ws_stop_adopting (any thread; a lock held only around fc_server_adopt orders the two);
 * fc_ws_new and fc_ws_free are called by whoever creates and destroys the lws context (before and
 * after it). The struct fc_ws outlives every connection; each connection's buffers are its own.
 */
#ifndef FC_WS_H
#define FC_WS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "server.h"

#define FC_WS_PROTOCOL_NAME "freshcam"
#define FC_WS_PATH	    "/ws"
/* Bytes from the session passed on per WebSocket message: about one frame at a time. */
#define FC_WS_OUT_CAP (64u << 10)
/* Bytes from the page the socketpair may be behind by: a viewer's messages are small (the
 * largest, a BYE, is 212 bytes), so this is many of them. */
#define FC_WS_IN_CAP 4096u
/* The session's end of the socketpair buffers at most this much, so that a frame waits for the
 * browser in the session (where held counts it), not in the kernel: what TCP_NOTSENT_LOWAT does
 * on a viewer's TCP socket. */
#define FC_WS_SESSION_SNDBUF (32 << 10)

/* lws_protocols.rx_buffer_size for the protocol: no more than FC_WS_IN_CAP, so that one piece
 * of a page's message always fits what the socketpair has not taken yet. */
#define FC_WS_RX_BUFFER_SIZE FC_WS_IN_CAP

/* How long a page may keep its WebSocket open after the session's BYE. */
#define FC_WS_LINGER_S 2

/* What lws keeps for each connection of the protocol (lws_protocols.per_session_data_size). */
struct fc_ws_pss {
	struct fc_ws_link *link; /* the bridge, shared with the adopted end; NULL when none */
};
#define FC_WS_PER_SESSION_SIZE sizeof(struct fc_ws_pss)

struct fc_ws;

/* The bridge's state for one lws context: the server that adopts the sessions. NULL with err. */
struct fc_ws *fc_ws_new(struct fc_server *srv, char *err, size_t errlen);
void fc_ws_free(struct fc_ws *ws);

/*
 * Stops starting sessions: from its return on, no fc_server_adopt is under way or will be, and a
 * new WebSocket is refused. The sender's shutdown calls this first, then fc_server_stop while the
 * lws thread still runs (so that every session's BYE reaches its page through the bridge), and
 * destroys the lws context last. Any thread.
 */
void fc_ws_stop_adopting(struct fc_ws *ws);

/* Bridges still open (a WebSocket or its session's end not yet closed). Any thread. */
unsigned fc_ws_links(struct fc_ws *ws);

/* The protocol's callback; lws_protocols.user must be the struct fc_ws. */
int fc_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);

/* Pure helpers, exposed for tests/test_ws.c. */

/* Whether a WebSocket upgrade may be served: origin (NULL or "" when the client sent none) must
 * be http:// or https:// followed by exactly host (the Host header the browser sent). */
bool fc_ws_origin_ok(const char *origin, const char *host);

/* The viewer's name in the list: "ws:ADDR:PORT", "ws:[ADDR]:PORT" for IPv6, an IPv4-mapped
 * address shown as IPv4. */
void fc_ws_peer_name(char *buf, size_t len, const char *addr, unsigned port);

#endif
