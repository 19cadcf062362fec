/*
 * throttle: slows down passphrase guessing. A listening side asks before each handshake whether a
 * peer's address may try now; addresses whose handshakes failed wait longer after each failure
 * (0.5 s, doubling to 30 s), and may have only one handshake at a time; others up to
 * FC_THROTTLE_INFLIGHT at once. A success forgets the address; so do 10 quiet minutes.
 *
 * Bounded memory: FC_THROTTLE_ENTRIES addresses; when all are taken, the entry idle longest is
 * reused (one with a handshake in flight never). Pure but for its lock: the caller passes the
 * time, so every rule is a unit test. Thread-safe (session threads share one table). Never prints.
 */
#ifndef FC_THROTTLE_H
#define FC_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_THROTTLE_ENTRIES   256
#define FC_THROTTLE_INFLIGHT  4			     /* handshakes at once from a clean address */
#define FC_THROTTLE_FIRST_NS  (500ull * 1000 * 1000) /* wait after the first failure */
#define FC_THROTTLE_MAX_NS    (30ull * 1000 * 1000 * 1000) /* longest wait between tries */
#define FC_THROTTLE_HOLD_NS   (2ull * 1000 * 1000 * 1000)  /* longest a try is held, not refused */
#define FC_THROTTLE_FORGET_NS (600ull * 1000 * 1000 * 1000)

struct fc_throttle;

struct fc_throttle *fc_throttle_new(void);
void fc_throttle_free(struct fc_throttle *t);

/*
 * Before a handshake from host at now_ns. Returns 0: go ahead now; > 0: go ahead after waiting
 * that many ns (the try is booked: hold the connection, do not refuse it); -1: refuse it, try
 * again in *retry_ns (too many tries in flight, or the next is more than FC_THROTTLE_HOLD_NS
 * away). Unless -1, call fc_throttle_end after the handshake.
 */
int64_t fc_throttle_begin(struct fc_throttle *t, const char *host, uint64_t now_ns,
			  uint64_t *retry_ns);

/* After the handshake: failed says whether the peer's proof was wrong. */
void fc_throttle_end(struct fc_throttle *t, const char *host, bool failed, uint64_t now_ns);

/* The host of a peer as fc_net_accept names it ("1.2.3.4:5678", "[::1]:5678"), without port. */
const char *fc_throttle_host(const char *peer, char *host, size_t len);

#endif
