/*
 * udprecv: the viewer's side of the UDP transport (docs/UDP.md; docs/PROTOCOL.md, section 13):
 * its socket, the datagrams read and judged (only this connection's id is taken, from any
 * address: the first one from a new address moves the sender there, a NAT that rebinds), chunks
 * put back together into whole FRAME messages (reasm.h), the NACKs and GIVEUPs the repair rule
 * calls for sent back, and a KEEPALIVE at the start and after 15 s without a datagram out, so that
 * a NAT on either side keeps its mapping.
 *
 * What is done with a whole frame (its bound, its verdict) is the caller's (client.c), as for a
 * FRAME read from TCP; so is what a frame given up means for the request it answered. This module
 * also times each frame, first chunk to whole and its longest silence, for the VERDICT (the
 * sender's measure of the link), and keeps the round-trip estimate the repair rule needs: the
 * least of the recent (V3 - V0) - held.
 *
 * Ownership: one per stream, opened before the HELLO (its port is in it), then owned by the
 * stream's network thread, which alone calls it. Never prints: counts in the stats.
 */
#ifndef FC_UDPRECV_H
#define FC_UDPRECV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "hello.h"
#include "proto.h"

struct fc_udprecv_stats {
	uint64_t datagrams;	   /* datagrams in, whatever they were */
	uint64_t bytes;		   /* their bytes */
	uint64_t refused_bad;	   /* not a valid datagram (fc_dgram_decode refused it) */
	uint64_t refused_unopened; /* a private stream: did not open (forged, changed, cut, another
				    * key's) or not sealed (dgram_seal.h) */
	uint64_t refused_replayed; /* a private stream: opened, but its number was taken already or
				    * is older than the replay window */
	uint64_t refused_conn;	   /* valid, with another connection's id */
	uint64_t refused_type;	   /* a type a viewer does not take (a NACK, a LOSS) */
	uint64_t refused_frame;	   /* chunks of a frame over the size a viewer takes, or whose
				  * FRAME did not decode once whole or answered no request */
	uint64_t duplicates;	   /* chunks that came twice */
	uint64_t old;		   /* chunks of frames already done with */
	uint64_t conflicts;	   /* chunks that disagreed with their frame's geometry */
	uint64_t whole;		   /* frames put back together */
	uint64_t given_up_late;	   /* frames given up: no repair could come within the budget */
	uint64_t given_up_evicted; /* frames given up for newer ones */
	uint64_t forgotten;	 /* GIVEUPs from the sender: a NACK for a frame it no longer kept */
	uint64_t nacks;		 /* NACKs sent */
	uint64_t asked;		 /* chunks they asked for */
	uint64_t repaired;	 /* chunks in for a frame after a NACK for it */
	uint64_t keepalives;	 /* KEEPALIVEs in */
	uint64_t moved;		 /* times the sender's address changed */
	uint64_t rtt_us;	 /* the round-trip estimate the repair rule uses now */
	uint64_t parity;	 /* parity chunks taken (fec.h) */
	uint64_t rebuilt;	 /* frames made whole from their parity */
	uint64_t rebuilt_chunks; /* lost chunks those frames had, rebuilt */
	bool sealed;		 /* a private stream: its datagrams are sealed (dgram_seal.h) */
};

struct fc_udprecv;

/* Opens the socket beside the TCP connection tcp_fd, at port (0: any free one). NULL with err. */
struct fc_udprecv *fc_udprecv_new(int tcp_fd, uint16_t port, char *err, size_t errlen);
void fc_udprecv_free(struct fc_udprecv *u);

uint16_t fc_udprecv_port(const struct fc_udprecv *u);
int fc_udprecv_fd(const struct fc_udprecv *u);

/*
 * The HELLO exchange (hello.h) of a viewer that wants frames over UDP: its socket opened first, at
 * port (0: any), beside conn, and announced in its HELLO (mine, copied). *udp is the started
 * receiver when the sender offered UDP too, NULL when it did not (frames then come over TCP, as a
 * sender without UDP sends them). Returns as fc_hello_exchange_auth; a socket that cannot be
 * opened is -1 with err.
 */
int fc_udprecv_greet(struct fc_conn *conn, const struct fc_hello *mine,
		     const struct fc_hello_auth *auth, uint16_t port, struct fc_hello *theirs,
		     struct fc_udprecv **udp, int timeout_ms, char *err, size_t errlen);

/* The sender's HELLO said UDP: datagrams are taken with its conn, NACKs go to its port at the TCP
 * peer's address, and the first KEEPALIVE goes now. -1 with err. */
int fc_udprecv_start(struct fc_udprecv *u, int tcp_fd, const struct fc_hello *sender,
		     uint64_t now_ns, char *err, size_t errlen);

/*
 * Reads datagrams until a frame is whole: 1 with the FRAME message in *m (decoded; its JPEG
 * points into this module, valid until the next call), when its first chunk came (*first_ns) and
 * its longest silence between chunks (*gap_ns); 0 when the socket has nothing more for now; -1
 * with errno on a socket error. Reads a bounded number per call. The caller reads V3 after it
 * returns: never before the last chunk came.
 */
int fc_udprecv_read(struct fc_udprecv *u, struct fc_msg *m, uint64_t *first_ns, uint64_t *gap_ns);

/*
 * Sends the NACKs and GIVEUPs the repair rule calls for now (budget_ns the viewer's budget), and
 * a KEEPALIVE when one is due. The frames given up since the last call go to gave[0..cap) (their
 * seq, and the request id their chunk 0 carried, 0 when it never came); returns how many.
 */
struct fc_udprecv_lost {
	uint64_t seq;
	uint32_t id;
};
size_t fc_udprecv_poll(struct fc_udprecv *u, uint64_t now_ns, uint64_t budget_ns,
		       struct fc_udprecv_lost *gave, size_t cap);

/* When fc_udprecv_poll next has something to do. */
uint64_t fc_udprecv_next_ns(const struct fc_udprecv *u, uint64_t budget_ns);

/* A round trip seen: (V3 - V0) - held of a whole frame. */
void fc_udprecv_rtt(struct fc_udprecv *u, uint64_t sample_ns);

/* A whole frame the caller refused: it does not answer the request its id names (counted as
 * refused.bad_frame). */
void fc_udprecv_refuse_frame(struct fc_udprecv *u);

/* What the viewer proves of the clocks now: the sender's clock less ours is at most hi_ns (known
 * false: nothing proven, or --clock request). A frame is waited for until neither of the
 * viewer's bounds can be within the budget (fc_reasm_offset). */
void fc_udprecv_offset(struct fc_udprecv *u, bool known, int64_t hi_ns);

void fc_udprecv_stats(const struct fc_udprecv *u, struct fc_udprecv_stats *out);

#endif
