/*
 * figures: freshcam-send's numbers, once a second and at the end: the console line and the
 * --stats-json line (docs/STATS_JSON.md, field by field). The capture's part says what was
 * captured, encoded and made smaller; each viewer's part what it was sent (at which rendition,
 * and what the control law thinks its link carries) and what it said of it; the HTTP server's
 * part its clients and the age of its /stream parts.
 *
 * Counts are read from the capture and the server (their own locks and atomics); the report
 * keeps the previous totals to turn them into per-second rates. Main thread only.
 */
#ifndef FC_FIGURES_H
#define FC_FIGURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "datain.h"
#include "http.h"
#include "json.h"
#include "server.h"
#include "stats.h"

#define FC_FIGURES_VIEWERS 64

/* A viewer's totals at the last tick, to make rates of them. */
struct fc_figures_prev {
	unsigned id;
	uint64_t sent;
	uint64_t bytes;
	uint64_t late;
	uint64_t too_old;
};

struct fc_figures {
	uint64_t start_ns;
	uint64_t last_ns;
	struct fc_hist publish_total;
	struct fc_hist encode_total;
	struct fc_hist rendition_total;
	struct fc_meter captured;
	struct fc_meter encoded;
	struct fc_meter renditions;
	struct fc_figures_prev prev[FC_FIGURES_VIEWERS];
	int nprev;
	uint64_t http_parts;	       /* --http: /stream parts sent at the last tick */
	struct fc_hist http_age_total; /* and their ages over the run */
	FILE *json;		       /* --stats-json, or NULL (also once a write to it failed) */
	const char *json_name;	       /* its name, for the message when a write fails */
	bool quiet;		       /* no per-second line (the summary still shows) */
	/* --data-in: the documents' counts (docs/STATS_JSON.md); both NULL without. */
	struct fc_datastore *data;
	struct fc_datain *datain;
};

/* json (named json_name in messages) gets the JSON lines, or NULL. A write to it that fails (a
 * full disk) is said once, with the file and the errno, and the JSON stops there: a partial line
 * must not be followed by more; the console line and the stream go on. */
void fc_figures_init(struct fc_figures *r, uint64_t now_ns, FILE *json, const char *json_name,
		     bool quiet);

/* Writes one second's line (or, with summary, the whole run's) to the log and the JSON; http is
 * NULL without --http. */
void fc_figures_tick(struct fc_figures *r, struct fc_capture *cap, struct fc_server *srv,
		     struct fc_http *http, bool summary);

/* A viewer's cumulative figures as JSON fields (docs/STATS_JSON.md), for --stats-json and
 * /state alike. Any thread. */
void fc_figures_session_json(struct fc_json *j, const struct fc_session_stats *s);

#endif
