/*
 * session: the sender's side of one viewer's connection, on its own thread ("fc-session").
 *
 * It exchanges HELLOs, then answers each of the viewer's REQUESTs, oldest first, with the newest
 * frame in the slot that it has not sent this viewer yet, as soon as there is one; a frame
 * already older than the viewer's budget is never sent: the viewer gets a stale notice (proto.h)
 * instead, so it can count it and say why. Each frame goes at the rendition that this viewer's
 * link carries within its budget, and only when the link has room for it (adapt.h): the session
 * tells the ladder which rung it wants, and the capture makes it. It waits in poll()
 * on the socket and on an eventfd the slot pokes at each publish, so it neither spins nor adds a
 * polling delay. A slow or stalled viewer costs only its own thread: its writes time out and its
 * silence ends the session.
 *
 * Ownership: the session owns its connection. Threads: the session thread does all I/O; the
 * server's thread starts and frees sessions, and the main thread (fc_server_stop, the per-second
 * report) also stops, frees and reads them: everything they share is atomic.
 */
#ifndef FC_SESSION_H
#define FC_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "control.h"
#include "datastore.h"
#include "ladder.h"
#include "proto.h"
#include "secure.h"
#include "slot.h"
#include "throttle.h"
#include "udpsend.h"

struct fc_session_cfg {
	struct fc_slot *slot;
	struct fc_ladder *ladder; /* the renditions made of each picture (capture.h) */
	uint64_t period_ns;	  /* the source's frame period */
	struct fc_hello hello;	  /* what this sender says of itself and its stream */
	int io_timeout_ms;	  /* a write that takes longer ends the session */
	int idle_timeout_ms;	  /* a viewer silent for longer is gone */
	/* --max-viewers, held exactly: a session takes a place in *served once its HELLO is in,
	 * or says BYE "sender full" when there is none, and gives it back when it ends. */
	_Atomic int *served;
	int max_served;
	/* Private streams: the passphrase key (NULL: none), whether this sender dialled (it then
	 * proves first), and the table that slows down guessing from one address (listening). */
	const struct fc_secure_psk *psk;
	bool dialled;
	struct fc_throttle *throttle;
	const struct fc_control_cfg *control; /* camera commands (control.h); NULL: refused */
	/* --data-in: documents to send with frames and where viewers' results go (NULL: none). */
	struct fc_datastore *data;
	bool udp; /* --transport udp: frames over datagrams offered to IP viewers (udpsend.h) */
	int fec;  /* --fec: parity chunks a frame, FC_UDPSEND_FEC_AUTO, or 0 (udpsend.h) */
	bool
	    parts; /* --parts on: a frame leaves in parts while encoded, to viewers that take them */
};

struct fc_session_stats {
	/* Each frame offered to the viewer is counted once: sent (with its bytes) or too_old; each
	 * one sent, once judged, accepted or late. */
	uint64_t sent;	/* frames sent with their bytes */
	uint64_t bytes; /* JPEG bytes sent */
	uint64_t
	    accepted; /* verdicts: accepted by the viewer's age check (its display may still drop it) */
	uint64_t late;	  /* verdicts: frames sent with their bytes that the viewer rejected */
	uint64_t too_old; /* stale notices: frames already older than the budget here, whose
			       * timings were sent without their bytes (their verdicts count nothing) */
	uint64_t last_bound_us; /* the age bound of the latest verdict */
	/* The rendition of the latest frame sent: its size, the picture's, its JPEG quality (0: a
	 * camera's own); all 0 before the first. */
	uint16_t width;
	uint16_t height;
	uint16_t src_width;
	uint16_t src_height;
	uint8_t quality;
	uint64_t link_bps; /* what the control law thinks the link carries, bits/s; 0: not yet */
	bool link_lower; /* link_bps is only a lower bound: every frame came too quickly to time */
	uint64_t downs;	 /* steps to a smaller rendition */
	uint64_t ups;	 /* and back up */
	/* Frames over UDP (udpsend.h): the counts of this viewer's datagrams; all 0 over TCP. */
	bool udp;
	struct fc_udpsend_stats udp_stats;
};

struct fc_session;

/* Starts a session on conn (taken over whatever happens); id numbers it in messages. NULL (and
 * conn freed) with err when no thread could be started. */
struct fc_session *fc_session_start(const struct fc_session_cfg *cfg, struct fc_conn *conn,
				    unsigned id, char *err, size_t errlen);

/* Asks the session to say BYE and end; returns at once. */
void fc_session_stop(struct fc_session *s);

/* Whether its thread has finished (the session can then be freed without waiting). */
bool fc_session_done(struct fc_session *s);

/* Whether the connection became a viewer: its HELLO exchange succeeded and it was not refused
 * (--max-viewers). A port probe, a failed handshake or a refusal never does. */
bool fc_session_viewer(struct fc_session *s);

/* Stops (if needed), joins and frees. */
void fc_session_free(struct fc_session *s);

void fc_session_stats(struct fc_session *s, struct fc_session_stats *out);
unsigned fc_session_id(const struct fc_session *s);
/* The viewer's address; empty until known. */
const char *fc_session_peer(const struct fc_session *s);

#endif
