/*
 * options: freshcam-view's command line. Parses argv into the options the viewer runs with, and
 * answers --help and --version itself (printing and exiting: this is the program's front end, not
 * library code). A bad option gets a message on stderr that names it and says what to try.
 *
 * Main thread only, once, at start.
 */
#ifndef FC_VIEW_OPTIONS_H
#define FC_VIEW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "bound.h"
#include "net.h"
#include "remote.h"

/* Senders a viewer shows at once: on its command line, or dialling in to --listen. */
#define FC_VIEW_MAX_SENDERS 16

struct fc_view_options {
	struct fc_addr addr; /* --listen's address, or the (first) sender's */
	bool listen;
	/* The senders to dial: addr and the others given on the command line (1 when listening). */
	struct fc_addr senders[FC_VIEW_MAX_SENDERS];
	int nsenders;
	/* --forget: a sender that dialled in and has been gone this long loses its tile (0: never) */
	double forget_s;
	double max_age_ms;
	unsigned window;
	bool headless;
	double seconds;
	const char *stats_json;
	bool check_stamps;
	bool quiet;
	const char *record;	     /* --record PATH, or NULL */
	unsigned segment_s;	     /* --segment: PATH a directory of .mkv files (0: not) */
	uint64_t keep_bytes;	     /* --keep SIZE: the oldest segments removed over it */
	uint64_t keep_s;	     /* --keep AGE: segments older removed */
	const char *passphrase_file; /* --passphrase-file; else FRESHCAM_PASSPHRASE, if set */
	bool insecure;		     /* --listen: no warning for listening unprotected */
	bool adapt;		     /* --adapt: the sender may send smaller renditions */
	bool parts;		     /* --parts: frames in parts, decoded as they arrive */
	int min_width;		     /* --min-size: the smallest rendition taken (0: any) */
	int min_height;
	int min_quality;	  /* --min-quality: the lowest JPEG quality taken (0: any) */
	enum fc_clock_mode clock; /* --clock: what ages are judged by */
	double synced_error_ms; /* --clock synced:ERROR_MS: how far apart the wall clocks may be */
	struct fc_remote_cfg remote; /* --list-controls, --control, --still */
	const char *data_out;	     /* --data-out: the documents of accepted frames (dataout.h) */
	bool data_overlay;	     /* --data-overlay: each frame's document over it (databox.h) */
	bool udp;		     /* --transport udp: frames as datagrams (udprecv.h) */
	uint16_t udp_port;	     /* --udp-port: their port (0: any free one) */
};

/* Fills o from argv. 0 to run; -1 after saying what is wrong (the caller exits 2). */
int fc_view_options_parse(int argc, char **argv, struct fc_view_options *o);

#endif
