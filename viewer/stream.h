/*
 * stream: one sender's stream in freshcam-view, from its connection to its pixels and figures.
 * A viewer runs one per sender: the one it dials (or each of several on its command line), or
 * each sender that dials in to --listen, told apart by the name in its HELLO (station.h).
 *
 * A stream owns everything that is one sender's: its connection attempts (dial.c) and their
 * backoff, the network thread (client.c) and its slot, the age check's figures (report.c), the
 * stall watch (stall.c), its decoder, its recording (record.c) and its tile in the window. What
 * the streams share (the options, this viewer's HELLO, the passphrase, the listening socket,
 * the window, --stats-json) is the caller's, in struct fc_stream_env, read-only while streams
 * run except the window, which the main thread may close.
 *
 * Threads: every function here is called from the main thread, which also owns the window.
 * Each stream starts its own fc-dial and fc-net threads (and fc-rec with --record); nothing
 * here blocks longer than the caller asks. Errors are said on the console here: this is the
 * program's front end, not library code, and each is said once per change of state.
 */
#ifndef FC_VIEW_STREAM_H
#define FC_VIEW_STREAM_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "dial.h"
#include "display.h"
#include "net.h"
#include "options.h"
#include "proto.h"
#include "secure.h"
#include "throttle.h"
#include "udprecv.h"

struct fc_stream;
struct fc_remote;

/* What the streams of one viewer share; the caller's, outliving every stream. */
struct fc_stream_env {
	const struct fc_view_options *o;
	const struct fc_hello *mine; /* this viewer's HELLO */
	uint64_t budget_ns;
	int lfd; /* --listen: the listening socket (streams that were dialled in), else -1 */
	struct fc_secure_psk *psk;
	struct fc_throttle *throttle;
	struct fc_display *display; /* NULL: headless (the main thread may drop it any time) */
	FILE *json;		    /* --stats-json, or NULL */
	/* Several senders (--listen, or more than one on the command line): each line and each
	 * recording says or carries the sender's name. */
	bool several;
	int wake_fd; /* an eventfd written on every frame of every stream (fc_slot_watch) */
	/* Makes a sender's station name unique among the viewer's streams (self excluded): the
	 * name as it is, or with "-2", "-3"... appended. */
	void (*unique_name)(void *arg, const struct fc_stream *self, const char *station, char *out,
			    size_t outlen);
	void *unique_arg;
};

/* fc_dial_start with SIGINT and SIGTERM blocked in the attempt's thread (only the main thread
 * takes them): for the streams' attempts and for the listening socket's. */
struct fc_dial *fc_stream_dial_start(const struct fc_dial_cfg *cfg, char *err, size_t errlen);

/* A stream of the sender at addr (dialled, redialled when lost), or with addr NULL one of a
 * sender that dialled in (fc_stream_adopt gives it its connections). Its figures start now;
 * tile is its place in the window. NULL when out of memory. */
struct fc_stream *fc_stream_new(const struct fc_stream_env *env, const struct fc_addr *addr,
				int tile);

/* The sender's camera commands (remote.h), or NULL before its first connection. */
struct fc_remote *fc_stream_remote(struct fc_stream *s);

/* Stops the stream (its threads, its recording, with the summary line), frees it. */
void fc_stream_free(struct fc_stream *s);

/* Dialling: the first connection, waited for up to its timeout but never past *stop. false with
 * the reason said when it failed (a person's typo is said at once, not retried). */
bool fc_stream_connect_first(struct fc_stream *s, const volatile sig_atomic_t *stop);

/* Takes a sender's connection, whose HELLO exchange is done (hello), and its UDP receiver (NULL:
 * frames over TCP): starts the stream on it. false (conn freed) when it could not start. */
bool fc_stream_adopt(struct fc_stream *s, struct fc_conn *conn, const struct fc_hello *hello,
		     struct fc_udprecv *udp);

/* The part of the display loop that never waits: notices a lost stream, redials when it is time,
 * watches for stalls (console, tile banner), and shows the newest accepted frame if there is a
 * new one. */
void fc_stream_step(struct fc_stream *s, uint64_t now);

/* Once a second (and with summary at the end): the console line, the JSON line, the
 * recorder's news. */
void fc_stream_tick(struct fc_stream *s, bool summary);

/* The sender's name (its HELLO's station, made unique among the viewer's streams; before the
 * first HELLO, the address it is dialled at). */
const char *fc_stream_name(const struct fc_stream *s);

/* Whether a stream runs now, and whether an attempt to connect is under way; with one stream
 * and none running, fc_stream_wait_dial waits for the attempt (up to timeout_ms). */
bool fc_stream_connected(const struct fc_stream *s);
bool fc_stream_dialling(const struct fc_stream *s);
void fc_stream_wait_dial(struct fc_stream *s, int timeout_ms);

/* A sender that dialled in: how long since its stream ended, while it is not back (0 when it
 * streams, or for a stream this viewer dials). */
uint64_t fc_stream_gone_ns(const struct fc_stream *s, uint64_t now);

/* Moves the stream to another tile (the grid reflowed). */
void fc_stream_set_tile(struct fc_stream *s, int tile);

/* The sender's HELLO (its picture size for the window). */
const struct fc_hello *fc_stream_sender(const struct fc_stream *s);

/* With one sender: opens --record and --data-out (with the recording's documents, dataout.h)
 * before any connection, so that a path that cannot be used is said at once. false with the
 * reason said. (With several, each stream opens its own once it knows its sender's name.) */
bool fc_stream_record(struct fc_stream *s);

#endif
