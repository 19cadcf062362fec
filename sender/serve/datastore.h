/*
 * datastore: the hand-over of JSON documents between the camera side's local program and the
 * viewers' sessions (docs/PROTOCOL.md, section 10; README, "Data with frames").
 *
 * Documents in: the local program's thread (datain.h) puts each checked document here; it
 * replaces the one before (the newest wins) and gets the next number. Each session remembers the
 * number it attached last and, just before each FRAME with a picture, sends the newest document
 * numbered above it as a DATA for that frame (fc_datastore_send): a document rides with the next
 * frame that leaves for each viewer after it arrived, once, and one that several newer ones
 * overtook between two frames is never sent. A stale notice carries none (it has no picture).
 *
 * Results out: a session puts each DATA a viewer sends (a result answering one of its frames)
 * in a bounded queue; the local program's thread takes them, woken by an eventfd. A full queue
 * drops the result and counts it: a stalled local program never holds a session up.
 *
 * Ownership: documents are reference-counted and immutable once put; a session holds one only
 * while its bytes go out. Results are handed over whole: fc_datastore_take_result gives the
 * caller the result to free(). Threads: any number of sessions and one taker; a lock guards the
 * pointer swap and the queue only, never a copy or a send.
 */
#ifndef FC_DATASTORE_H
#define FC_DATASTORE_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "proto.h"

#define FC_DATASTORE_RESULTS 64 /* results waiting for the local program, at most */

/* A result from a viewer: the frame it answers, who sent it, the document (doc[size], not
 * NUL-terminated). */
struct fc_data_result {
	uint64_t seq;
	char viewer[64];
	uint32_t size;
	uint8_t doc[];
};

struct fc_datastore_stats {
	uint64_t docs_in;	  /* documents put */
	uint64_t docs_sent;	  /* DATA messages sent to viewers */
	uint64_t results_in;	  /* results from viewers */
	uint64_t results_dropped; /* of those, dropped: the queue was full */
};

struct fc_datastore;

/* NULL with errno when out of memory (or no eventfd). */
struct fc_datastore *fc_datastore_new(void);
/* After every session and the taker are gone. */
void fc_datastore_free(struct fc_datastore *st);

/* Puts a copy of doc[0..len) (a checked document, jdoc.h) as the newest. -1 when out of memory. */
int fc_datastore_put(struct fc_datastore *st, const uint8_t *doc, size_t len);

/* Sends the newest document numbered above *last, if any, as a DATA for frame seq, and sets
 * *last to its number. 0 when sent or none is newer, -1 when the connection failed (conn says
 * why). A session's thread. */
int fc_datastore_send(struct fc_datastore *st, struct fc_conn *conn, uint64_t *last, uint64_t seq,
		      int timeout_ms);

/* Queues a viewer's result for the local program; -1 (counted) when the queue is full or memory
 * is short. A session's thread. */
int fc_datastore_result(struct fc_datastore *st, const char *viewer, const struct fc_data *d);

/* The oldest queued result (the caller frees it), or NULL when none. */
struct fc_data_result *fc_datastore_take_result(struct fc_datastore *st);

/* Readable while results may wait: poll it, read it to clear, then take them all. */
int fc_datastore_result_fd(const struct fc_datastore *st);

void fc_datastore_stats(struct fc_datastore *st, struct fc_datastore_stats *out);

#endif
