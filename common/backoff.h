/*
 * backoff: how long a side that dials waits before it tries again, said once for both programs
 * (the viewer redialling its sender, a sender dialling its viewer).
 *
 * Each failed try doubles the wait, from first up to max. A connection counts as a success only
 * once it has stayed up for steady: one that ends sooner (the peer took the call and then
 * refused the stream, or the stream could not start) counts as one more failed try, so a peer
 * that drops every connection at once is not redialled in a tight loop. After a success the next
 * wait is first again.
 *
 * Pure: the caller passes the time, so every rule is a unit test. One owner, not thread-safe.
 * Never prints.
 */
#ifndef FC_BACKOFF_H
#define FC_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct fc_backoff {
	uint64_t first_ns;  /* the wait after a first failure */
	uint64_t max_ns;    /* the longest wait */
	uint64_t steady_ns; /* a connection up this long was a success */
	uint64_t wait_ns;   /* the wait after the next failure */
	uint64_t up_ns;	    /* when the connection now up came up */
	bool up;
};

void fc_backoff_init(struct fc_backoff *b, uint64_t first_ns, uint64_t max_ns, uint64_t steady_ns);

/* A try failed (no connection, or one that could not start): the wait before the next try;
 * the one after will be twice as long, up to max. */
uint64_t fc_backoff_failed(struct fc_backoff *b);

/* A connection came up at now_ns. */
void fc_backoff_up(struct fc_backoff *b, uint64_t now_ns);

/* The connection that came up ended at now_ns: the wait before the next try. first when it had
 * stayed up for steady; else as after a failed try. */
uint64_t fc_backoff_down(struct fc_backoff *b, uint64_t now_ns);

#endif
