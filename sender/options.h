/*
 * options: freshcam-send's command line. Parses argv into the options the sender runs with, and
 * answers --help and --version itself (printing and exiting: this is the program's front end, not
 * library code). A bad option gets a message on stderr that names it and says what to try.
 *
 * Main thread only, once, at start.
 */
#ifndef FC_SEND_OPTIONS_H
#define FC_SEND_OPTIONS_H

#include <stdbool.h>

#include "capture.h"
#include "net.h"

struct fc_send_options {
	struct fc_addr addr;
	bool dial;
	struct fc_capture_cfg capture;
	int max_viewers;
	double seconds; /* 0: until a signal */
	const char *stats_json;
	double stats_every; /* seconds between figures (--stats-every): 1, or a service's minute */
	bool quiet;
	bool list_devices;
	const char *list_formats;
	const char *passphrase_file; /* --passphrase-file; else FRESHCAM_PASSPHRASE, if set */
	bool insecure;		     /* no warning for a stream others can reach unprotected */
	bool http;		     /* --http given: serve browsers and programs on http_addr */
	struct fc_addr http_addr;    /* a bare port: 127.0.0.1 (docs/HTTP.md) */
	const char *http_root;	     /* --http-root: the page's files from here, not built in */
	bool print_http_token;	     /* print the token HTTP programs send, and exit */

	/* --name: this camera's name in its HELLO (NULL: the host's) */
	const char *name;
	bool allow_control;  /* viewers may set the camera's controls, take stills */
	const char *data_in; /* --data-in: documents for the frames (datain.h), or NULL */
	bool parts; /* --parts: frames leave in parts while encoded, to viewers that take them */
};

/* Fills o from argv. 0 to run; -1 after saying what is wrong (the caller exits 2). */
int fc_send_options_parse(int argc, char **argv, struct fc_send_options *o);

#endif
