/*
 * jlines: JSON Lines between freshcam and a local program (--data-in on the sender, --data-out
 * on the viewer): a line reader that hands over each line as a checked document (jdoc.h) or
 * says why it is refused, and a writer that gives a slow reader a deadline, not a stall.
 *
 * Each line is compacted (the whitespace outside strings dropped) and must then be one JSON
 * value of at most FC_JDOC_MAX bytes; a blank line is skipped; a line longer than
 * FC_JLINES_MAX bytes is refused once and dropped up to its end. Library code: it returns and
 * calls back, never prints.
 *
 * Ownership: the caller owns the struct (about 32 KiB: keep it off small stacks) and the fd.
 * One thread per struct.
 */
#ifndef FC_JLINES_H
#define FC_JLINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jdoc.h"

#define FC_JLINES_MAX 16384 /* one line as it comes, bytes */

struct fc_jlines {
	uint64_t line; /* lines so far: while one is handed over, its number (from 1) */
	size_t len;    /* bytes of the line under way in buf */
	bool skipping; /* the line under way was too long: drop it up to its end */
	uint8_t buf[FC_JLINES_MAX];
	uint8_t doc[FC_JLINES_MAX]; /* the line, compacted */
};

/* One line's outcome: a document doc[0..len) (valid during the call), or why it was refused
 * (doc NULL). */
typedef void (*fc_jlines_take)(void *arg, const uint8_t *doc, size_t len, const char *why);

/* Reads what fd has now (it should be non-blocking) and hands over each whole line. 0 to go on;
 * -1 at the end of the input (errno 0) or on a read error (errno set). */
int fc_jlines_read(struct fc_jlines *l, int fd, fc_jlines_take take, void *arg);

/* Writes s[0..n) whole within timeout_ms; -1 when the reader took too long or is gone: part of
 * the line may have gone out, so the caller stops writing to fd. */
int fc_jlines_write(int fd, const char *s, size_t n, int timeout_ms);

/* Where a local program's lines come and go: an existing FIFO at path, opened to read and
 * write without blocking (*fifo_fd), or else a Unix socket made at path, listening, non-blocking
 * (*listen_fd; the caller removes the file when done). A stale socket file is replaced; a live
 * one, or any other file, is refused. 0, or -1 with err naming the path and the reason. */
int fc_jlines_open(const char *path, int *listen_fd, int *fifo_fd, char *err, size_t errlen);

/* Takes the next connection on listening socket lfd, non-blocking: its fd, or -1. Without room
 * for it (room false), it gets {"error":"too many programs connected to WHAT"} and is closed. */
int fc_jlines_accept(int lfd, bool room, const char *what);

#endif
