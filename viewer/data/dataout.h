/*
 * dataout: where the documents that come with accepted frames go on the viewer's side, and
 * where results for the sender come from (docs/PROTOCOL.md, section 10; README, "Data with
 * frames").
 *
 * The network thread hands over the document of each accepted frame (never a rejected one's: it
 * is as stale as its picture) with fc_dataout_frame; this copies it into a bounded queue and
 * returns at once. The module's own thread ("fc-data") writes each as one JSON line
 *     {"seq":N,"bound_ms":B,"recv_unix_ns":T,"data":DOC}
 * to every program connected to the --data-out socket (or to the --data-out FIFO), and to the
 * recording's sidecar file (a JSON Lines file next to the frames, joined to them by seq). A
 * connected program may write results back, one a line,
 *     {"seq":N,"data":DOC}
 * for a frame it was given (N at most the newest seq it was given); each goes to the sender as a
 * DATA (fc_dataout_result, on the network thread); a line refused gets {"error":WHY,"line":N}
 * back. The main thread adds the figures and the newest document to --stats-json.
 *
 * Nothing here waits for a reader: a full queue, or a program that takes no line for 100 ms,
 * loses lines (counted), never frames. One lives for the whole run, across reconnections.
 *
 * Threads: fc_dataout_frame, fc_dataout_rejected and fc_dataout_result from one network thread;
 * fc_dataout_json, _start and _stop from the main thread. The queues are single-producer,
 * single-consumer rings; a lock guards the copy of the newest document for the figures only.
 */
#ifndef FC_DATAOUT_H
#define FC_DATAOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "proto.h"

#define FC_DATAOUT_QUEUE    32 /* documents waiting for the thread */
#define FC_DATAOUT_RESULTS  16 /* results waiting for the network thread */
#define FC_DATAOUT_PROGRAMS 8  /* programs connected to the socket at once */

struct fc_dataout_cfg {
	const char
	    *path; /* --data-out: a socket made there, or an existing FIFO; NULL: none (copied) */
	const char *sidecar; /* the recording's JSON Lines file, made (copied); NULL: none */
};

struct fc_dataout;

/* Opens what cfg names and starts the thread when there is anything to write; NULL with err
 * (naming the path and the reason) when a path cannot be used. */
struct fc_dataout *fc_dataout_start(const struct fc_dataout_cfg *cfg, char *err, size_t errlen);

/* Writes what is queued, stops the thread, closes and removes the socket it made. NULL: no-op. */
void fc_dataout_stop(struct fc_dataout *d);

/* The document that came with an accepted frame: seq, its age bound, when it arrived (the wall
 * clock), doc[0..size) a checked document. */
void fc_dataout_frame(struct fc_dataout *d, uint64_t seq, uint64_t bound_ns, uint64_t recv_real_ns,
		      const uint8_t *doc, size_t size);

/* A document that came with a rejected frame: dropped, counted. */
void fc_dataout_rejected(struct fc_dataout *d);

/* The next result for the sender, if any: out->doc points into buf (FC_PROTO_MAX_DATA bytes). */
bool fc_dataout_result(struct fc_dataout *d, struct fc_data *out, uint8_t *buf);

/* The figures (docs/STATS_JSON.md): the counts, and "data", the newest document that came with
 * an accepted frame since the last call (in the summary: of the whole run), when there is one. */
void fc_dataout_json(struct fc_dataout *d, struct fc_json *j, bool summary);

/* Where the recording's documents go for a recording at record_path: record_path/data.jsonl for
 * a directory, else record_path.data.jsonl. */
void fc_dataout_sidecar_path(const char *record_path, bool is_dir, char *out, size_t outlen);

/* fc_dataout_start for --data-out data_out (or NULL) and a recording at record (or NULL), made
 * already (a directory is known from a file by what is on disk). */
struct fc_dataout *fc_dataout_open(const char *data_out, const char *record, char *err,
				   size_t errlen);

#endif
