/*
 * datain: the camera side's local program hands freshcam-send its documents (--data-in), and
 * hears back the results viewers send (docs/PROTOCOL.md, section 10; README, "Data with
 * frames").
 *
 * It reads JSON Lines, one document a line, from a Unix socket it listens on (several programs
 * may connect at once), an existing FIFO, or standard input ("-"). Each line is compacted (the
 * whitespace outside strings dropped, jdoc.h), checked (one JSON value, UTF-8, at most
 * FC_JDOC_MAX bytes once compacted) and put in the store, where the newest wins (datastore.h).
 * A line refused gets one JSON line back on the same connection:
 *     {"error":"WHY","line":N}
 * (from standard input or a FIFO, which have no way back, the refusal is logged instead, at most
 * once a second with the count of the others); the stream goes on. Every result a viewer sends
 * is written to every connected program (to standard output with "-") as
 *     {"seq":N,"viewer":"ADDR","result":DOC}
 * A program that does not read its results within 100 ms loses them (counted), never the stream.
 *
 * Ownership: the thread owns the listening socket (and removes its file at stop), the
 * connections and their line buffers; the store is the caller's and outlives it. Threads: one,
 * "fc-datain", started and stopped by the main thread; it logs what it refuses (it is a thread
 * loop, not library code).
 */
#ifndef FC_DATAIN_H
#define FC_DATAIN_H

#include <stddef.h>
#include <stdint.h>

#include "datastore.h"

#define FC_DATAIN_PROGRAMS 8 /* programs connected to the socket at once */

struct fc_datain_cfg {
	const char *path; /* a socket path to listen on, an existing FIFO, or "-" */
	struct fc_datastore *store;
};

struct fc_datain_stats {
	uint64_t refused;	 /* lines refused (too long, not one JSON value, ...) */
	uint64_t results_unread; /* results a program did not read in time */
	unsigned programs;	 /* connected now */
};

struct fc_datain;

/* Opens the path and starts the thread; NULL with err naming the path and the reason. */
struct fc_datain *fc_datain_start(const struct fc_datain_cfg *cfg, char *err, size_t errlen);

/* Stops and joins the thread, closes everything, removes the socket file it made. NULL: no-op. */
void fc_datain_stop(struct fc_datain *d);

void fc_datain_stats(struct fc_datain *d, struct fc_datain_stats *out);

#endif
