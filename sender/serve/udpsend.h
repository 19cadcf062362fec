/*
 * udpsend: a session's side of the UDP transport (docs/UDP.md; docs/PROTOCOL.md, section 13):
 * each FRAME sent as datagrams, paced at the link's rate, kept to answer the viewer's NACKs
 * (resend.h) and forgotten as soon as the viewer could no longer use it; the viewer's NACKs,
 * GIVEUPs and KEEPALIVEs read and answered; a KEEPALIVE at the start and after 15 s without a
 * datagram, so that a NAT on either side keeps its mapping.
 *
 * The handshake, the REQUESTs and the VERDICTs stay on the TCP connection (session.c): this module
 * carries frames only. Datagrams are taken only with this connection's id (conn), from any
 * address: the first one from a new address moves the peer there (a NAT that rebinds).
 *
 * Ownership: one per UDP viewer, made and used by that viewer's session thread only; it owns its
 * socket, its resend store and its buffers (allocated once, the message buffer grown to the
 * largest frame and kept). Never prints: errors come back in err, counts in the stats.
 */
#ifndef FC_UDPSEND_H
#define FC_UDPSEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A KEEPALIVE goes when nothing went for this long (NAT mappings of UDP live 30 s and more). */
#define FC_UDPSEND_KEEPALIVE_NS (15ull * 1000000000ull)
/* fc_udpsend_fec: as many parity chunks as the viewer's measured loss needs (fec.h). */
#define FC_UDPSEND_FEC_AUTO (-1)

struct fc_udpsend_stats {
	uint64_t frames;    /* frames sent as datagrams */
	uint64_t datagrams; /* datagrams sent, repairs and keep-alives included */
	uint64_t bytes;	    /* their bytes */
	uint64_t dropped;   /* datagrams the kernel would not take (a full buffer): lost here */
	uint64_t nacks;	    /* NACKs in */
	uint64_t repaired;  /* chunks sent again for them */
	uint64_t forgotten; /* GIVEUPs (forgotten) sent: NACKs for frames no longer kept */
	uint64_t giveups;   /* GIVEUPs in: frames the viewer gave up */
	uint64_t refused;   /* datagrams in that were not this connection's, or not valid */
	uint64_t moved;	    /* times the viewer's address changed (a NAT rebinding) */
	uint64_t unopened;  /* a private stream: datagrams in that did not open (forged, changed,
			     * replayed, unsealed) */
	uint64_t parity;    /* parity chunks sent (fec.h) */
	uint32_t fec_m;	    /* parity chunks of the latest frame */
	uint32_t loss_ppm;  /* the chunk loss the viewer reports lately, per million */
};

struct fc_udpsend;

/* Opens the UDP socket beside the TCP connection tcp_fd, with a random connection id. NULL with
 * err when tcp_fd is not an IP connection (then there is nothing to offer) or on a failure. */
struct fc_udpsend *fc_udpsend_new(int tcp_fd, char *err, size_t errlen);
void fc_udpsend_free(struct fc_udpsend *u);

/* What the sender's HELLO announces: the socket's port and the connection id. */
uint16_t fc_udpsend_port(const struct fc_udpsend *u);
uint32_t fc_udpsend_conn(const struct fc_udpsend *u);
int fc_udpsend_fd(const struct fc_udpsend *u);

/* A private stream: from now on every datagram is sealed with tx and every one in opened with rx
 * (fc_secure_dgram_keys, copied), and frames are cut at FC_DSEAL_CHUNK. Before the first frame. */
void fc_udpsend_seal(struct fc_udpsend *u, const uint8_t tx[32], const uint8_t rx[32]);
/* Parity chunks after each frame's chunks (forward error correction, fec.h): n (1..255, at
 * most one a data chunk), FC_UDPSEND_FEC_AUTO (what the viewer's reported loss needs), or 0:
 * none. Auto until set. */
void fc_udpsend_fec(struct fc_udpsend *u, int n);

/* The viewer asked for UDP and listens on port (at the TCP peer's address): the first KEEPALIVE
 * goes now. -1 with err when the address cannot be had. */
int fc_udpsend_start(struct fc_udpsend *u, int tcp_fd, uint16_t port, uint64_t now_ns, char *err,
		     size_t errlen);

/*
 * Sends the FRAME m (with its JPEG) as chunks, paced at rate bytes/s (0: not known, not paced)
 * but over no longer than max_ns, and keeps it for repairs. -1 with err on a socket error (a
 * full buffer is a loss, not an error).
 */
int fc_udpsend_frame(struct fc_udpsend *u, const struct fc_msg *m, double rate, uint64_t max_ns,
		     uint64_t now_ns, char *err, size_t errlen);

/* Reads and answers what the socket has: NACKs with chunks again (or a GIVEUP forgotten), GIVEUPs
 * by forgetting. -1 with err on a socket error. */
int fc_udpsend_input(struct fc_udpsend *u, uint64_t now_ns, char *err, size_t errlen);

/* Forgets frames too old for budget_ns, sends a KEEPALIVE when one is due; returns when the next
 * is due (the caller's poll deadline). */
uint64_t fc_udpsend_tick(struct fc_udpsend *u, uint64_t now_ns, uint64_t budget_ns);

/* The viewer accepted frame seq: it and every older frame are forgotten. */
void fc_udpsend_accepted(struct fc_udpsend *u, uint64_t seq);

/* Whether a NACK for frame seq was answered with chunks sent again: over UDP the only sign that
 * a silence among the frame's chunks at the viewer was a repair (TCP's is the kernel's count of
 * retransmissions); any other was the viewer's wait for a CPU. Remembers the last few frames. */
bool fc_udpsend_repaired(const struct fc_udpsend *u, uint64_t seq);

void fc_udpsend_stats(const struct fc_udpsend *u, struct fc_udpsend_stats *out);

#endif
