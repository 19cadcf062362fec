/*
 * server: how viewers reach the sender, and the set of their sessions.
 *
 * Listening (the default), it accepts viewers on its own thread ("fc-accept") and starts a
 * session for each, up to max_viewers (one more is told BYE "sender full" and closed). Dialling
 * (--connect), its thread ("fc-dial") connects to one viewer, serves it, and dials again when the
 * session ends, waiting 1, 2, 4 ... up to 10 s between failed attempts and saying so each time.
 *
 * Threads: the server thread starts and reaps sessions; the main thread calls fc_server_stats each
 * second and fc_server_stop at the end. The session list is guarded by a lock held only to walk
 * or change the list.
 */
#ifndef FC_SERVER_H
#define FC_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "net.h"
#include "session.h"

struct fc_server_cfg {
	struct fc_addr addr;
	bool dial; /* connect to addr instead of listening on it */
	int max_viewers;
	struct fc_session_cfg session;
};

struct fc_viewer_stats {
	unsigned id;
	char peer[64];
	struct fc_session_stats s;
};

struct fc_server;

/* Listens (so that a port in use is reported here, at once) or prepares to dial, then starts the
 * server thread. NULL with the reason in err. */
struct fc_server *fc_server_start(const struct fc_server_cfg *cfg, char *err, size_t errlen);

/* The port listened on (useful with port 0); 0 when dialling. */
unsigned fc_server_port(const struct fc_server *srv);

/* Starts an ordinary viewer session on fd, a connection that came another way than the listening
 * port (one end of a socketpair that the HTTP thread pumps to and from a browser's WebSocket,
 * ws.h): it counts toward --max-viewers and shows in fc_server_stats like any viewer, under the
 * name peer; a viewer over --max-viewers is told BYE "sender full" by its session. With a
 * passphrase, its session asks for no proof: the HTTP guard (http_guard.h) let through only
 * those who proved it, and fd never leaves this process. Takes fd over
 * whatever happens; -1 with the reason in err when no session could start. Never blocks. Any
 * thread, but never once fc_server_stop has begun: the bridge stops calling it first
 * (fc_ws_stop_adopting, ws.h), and its thread goes on carrying the sessions' BYEs. */
int fc_server_adopt(struct fc_server *srv, int fd, const char *peer, char *err, size_t errlen);

/* Stops accepting or dialling, says BYE to every viewer, joins everything and frees. */
void fc_server_stop(struct fc_server *srv);

/* The most viewers a sender serves at once (--max-viewers' ceiling). */
#define FC_SERVER_MAX_VIEWERS 64

/* Fills out[0..max) with the viewers' counters; returns how many. A viewer is a connection whose
 * HELLO exchange succeeded and that was not refused: connections still in their HELLO, and
 * finished sessions (the server thread frees them), are left out. */
int fc_server_stats(struct fc_server *srv, struct fc_viewer_stats *out, int max);

/* The summed counters of the viewers that have left, and how many they were; *others (when not
 * NULL) gets how many connections closed without becoming viewers (port probes, failed or
 * refused HELLO exchanges, refusals under --max-viewers). Frees the sessions that have finished
 * since the accept loop last looked. Any thread. */
unsigned fc_server_departed(struct fc_server *srv, struct fc_session_stats *out, unsigned *others);

#endif
