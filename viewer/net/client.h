/*
 * client: the viewer's network thread ("fc-net"), the half of the handshake that measures.
 *
 * It keeps up to `window` REQUESTs in flight, each carrying V0 (fewer while late frames say the
 * link is the bottleneck: viewer/net/pace.h); for every FRAME it computes the age
 * bound (viewer/net/bound.h: from its own round trip, and from the clock offset every exchange on the
 * connection proves), accepts the frame only when the bound is within the budget, publishes an
 * accepted frame into the display's latest-only slot (one copy, into a pooled frame), and tells
 * the sender the VERDICT. It never waits for the display: a frame the display has not taken yet
 * is simply replaced. It PINGs once a second (each PONG is one more exchange for the offset, and
 * keeps the connection alive when frames stop), and it gives up on a sender that has been silent
 * for several seconds.
 *
 * With a recorder in the configuration, every accepted frame is also handed to it
 * (fc_record_push: a reference into its queue, never a wait), after the one copy.
 *
 * Ownership: the client owns its connection and the frame pool; the slot, the report and the
 * recorder are the caller's and must outlive it (a recorded frame may outlive the client: frames
 * keep their pool alive). Threads: fc_client_start spawns the thread; the main thread asks
 * fc_client_running and, at the end, fc_client_stop.
 */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bound.h"
#include "conn.h"
#include "dataout.h"
#include "record.h"
#include "remote.h"
#include "report.h"
#include "slot.h"
#include "udprecv.h"

struct fc_client_cfg {
	uint64_t budget_ns;
	unsigned window;
	int io_timeout_ms;	  /* a write taking longer ends the connection */
	int dead_after_ms;	  /* a sender silent for longer is gone */
	struct fc_record *record; /* --record: gets every accepted frame; NULL for none */
	enum fc_clock_mode clock; /* --clock: what ages are judged by (viewer/net/bound.h) */
	uint64_t synced_error_ns; /* --clock synced: how far apart the wall clocks may be */
	struct fc_remote *remote; /* camera commands (remote.h), sent and answered here; or NULL */
	/* Where the documents of accepted frames go, and results for the sender come from
	 * (dataout.h); NULL: documents are dropped. */
	struct fc_dataout *data;
	/* Frames over UDP (udprecv.h, started): taken over by fc_client_start in any case; NULL:
	 * frames over the TCP connection. */
	struct fc_udprecv *udp;
};

struct fc_client;

/* Starts the network thread on conn (after the HELLO exchange; taken over in any case). */
struct fc_client *fc_client_start(const struct fc_client_cfg *cfg, struct fc_conn *conn,
				  struct fc_slot *slot, struct fc_report *report, char *err,
				  size_t errlen);

/* False once the connection has ended; *clean then says whether the sender ended it normally,
 * and fc_client_reason why it ended. */
bool fc_client_running(struct fc_client *c, bool *clean);
const char *fc_client_reason(struct fc_client *c);

/* Says BYE (if still connected), stops and joins the thread, closes the slot, frees. */
void fc_client_stop(struct fc_client *c);

#endif
