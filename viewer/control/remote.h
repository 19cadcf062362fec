/*
 * remote: the viewer's side of the camera commands (version 5, docs/PROTOCOL.md, section 11):
 * --list-controls, --control NAME=VALUE and --still [PATH] from the command line, stills and
 * nudges from the window's keys (keys.h), sent to the sender as CONTROLs; each answer printed (the list on standard output,
 * one JSON object per control and line, for a program or jq; the rest as a log line), each still
 * saved as a JPEG with a JSON sidecar of its metadata (PATH.json).
 *
 * The command line's commands go out once, on the first connection; a command sent and not
 * answered when the connection ends is said to be lost (never silently dropped), and not sent
 * again. Answers come in the order of the commands, a still's STILL just before its result: one
 * that answers no command asked is a broken sender.
 *
 * Threads: the network thread (client.c) sends, takes the answers and writes the stills (a
 * still is one file, rare, asked by a person: its write is the only disk work there); any thread
 * may queue a still (the window's key) and ask whether the command line's commands are done.
 * The queue is behind a mutex that guards only the queue's indices and entries.
 */
#ifndef FC_REMOTE_H
#define FC_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "proto.h"

#define FC_REMOTE_MAX_SETS 16 /* --control given at most this often */

struct fc_remote_set {
	char name[FC_PROTO_MAX_CONTROL_NAME + 1];
	int64_t value;
};

/* The command line's commands. */
struct fc_remote_cfg {
	bool list; /* --list-controls */
	struct fc_remote_set set[FC_REMOTE_MAX_SETS];
	int nset;
	bool still;		/* --still */
	const char *still_path; /* --still PATH; NULL: still-SEQ.jpg here */
};

struct fc_remote;

/* station: the sender's name as a file name when the viewer has several senders (its stills are
 * then still-STATION-SEQ.jpg), else NULL (still-SEQ.jpg). NULL when out of memory. */
struct fc_remote *fc_remote_new(const struct fc_remote_cfg *cfg, const char *station);
void fc_remote_free(struct fc_remote *r);

/* Network thread: sends the commands queued and not yet sent. 0, or -1 when the connection
 * failed (fc_conn_error). */
int fc_remote_send(struct fc_remote *r, struct fc_conn *conn, int timeout_ms);

/* Network thread: a CONTROL_RESULT or a STILL from the sender. 0, or -1 with why when it answers
 * no command asked (a protocol violation). */
int fc_remote_on_message(struct fc_remote *r, const struct fc_msg *m, char *why, size_t len);

/* Network thread: the connection ended; commands sent and not answered are said to be lost. */
void fc_remote_lost(struct fc_remote *r);

/* Any thread (the window's keys): queues a command (name NULL for none); a still is saved as
 * still-SEQ.jpg. */
void fc_remote_ask(struct fc_remote *r, uint8_t op, const char *name, int64_t value);

/* Whether the command line asked for anything, and whether all of it has its answer (or was
 * lost with its connection). */
bool fc_remote_asked(const struct fc_remote *r);
bool fc_remote_done(struct fc_remote *r);

/* Parses --control NAME=VALUE into set: 0, or -1 with why. */
int fc_remote_parse_set(const char *arg, struct fc_remote_set *set, char *why, size_t len);

#endif
