/*
 * dial: gets the viewer a connection in the background — dial the sender (or accept one that
 * dials in), then run the opening exchange — so that the main thread never blocks on a slow or
 * silent peer. A connect can take seconds and a HELLO up to its timeout; meanwhile the main
 * thread keeps the window painted and answers Ctrl-C at once.
 *
 * Ownership and threads: fc_dial_start spawns one thread ("fc-dial") that owns everything it
 * makes until the main thread takes the result with fc_dial_finish. A main thread that stops
 * waiting (a signal, the window closed) calls fc_dial_abandon instead: the attempt then finishes
 * on its own, within its timeouts, and frees what it made. Nothing here prints.
 */
#ifndef FC_DIAL_H
#define FC_DIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "net.h"

/* The opening exchange on a fresh connection (the HELLO, and whatever the caller adds): 0 when
 * the stream may start, -1 with the reason in err. Runs on the dial thread. */
typedef int (*fc_dial_greet_fn)(struct fc_conn *conn, void *arg, char *err, size_t errlen);

struct fc_dial_cfg {
	struct fc_addr addr;	/* whom to dial, when lfd < 0 */
	int lfd;		/* >= 0: accept on this listening socket instead (not owned) */
	int connect_timeout_ms; /* dialling: the whole connect */
	int accept_timeout_ms;	/* listening: how long to wait for a sender this time */
	size_t max_message;	/* for fc_conn_new */
	int stall_ms;		/* for fc_conn_new */
	fc_dial_greet_fn greet; /* may be NULL: the connection as it is */
	/* Must outlive the attempt, even an abandoned one: with greet_done, an abandoned attempt
	 * hands it to greet_done when it ends (on its own thread), and fc_dial_finish leaves it to
	 * the caller; without, the caller keeps it for as long as any attempt may run. */
	void *greet_arg;
	void (*greet_done)(void *greet_arg);
};

struct fc_dial;

/* Starts one attempt. NULL with the reason in err when no thread could be started. */
struct fc_dial *fc_dial_start(const struct fc_dial_cfg *cfg, char *err, size_t errlen);

/* Waits up to timeout_ms (0: just look) for the attempt to end; true when it has. */
bool fc_dial_wait(struct fc_dial *d, int timeout_ms);

/* Ends an attempt (waiting for it if need be) and frees it: the connection, or NULL with the
 * reason in err — empty when listening and nobody came in time. */
struct fc_conn *fc_dial_finish(struct fc_dial *d, char *err, size_t errlen);

/* Stops waiting for an attempt: it finishes by itself and frees everything. d is gone. */
void fc_dial_abandon(struct fc_dial *d);

#endif
