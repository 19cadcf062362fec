/*
 * record: the viewer's recorder (--record PATH). It keeps every accepted frame byte for byte as
 * it arrived, never re-encoded: into a directory of numbered JPEG files with an index.csv
 * (record_dir.c), or stream-copied into one .mkv, .mp4 or .avi file (record_av.c, libavformat).
 * docs/RECORDING.md describes what is written.
 *
 * The disk must never slow the stream: fc_record_push only takes a reference to the frame and
 * puts it in a bounded queue; the recorder's own thread ("fc-rec") writes. When the queue is full
 * the frame is counted as not written ("behind") and dropped. When a write fails (disk full, file
 * too large, I/O error), the recorder stops for good: what was written stays valid (the index
 * lists only complete files; a container is left readable up to its last frame) and every later
 * frame is counted as lost. The main thread reads the counts and the reason with
 * fc_record_status and decides what to tell the user.
 *
 * Ownership: the recorder holds a reference to each queued frame and drops it once written or
 * discarded; frames may come from any pool, and may outlive the client that made them. One
 * recorder lives for the whole run, across reconnections.
 *
 * Threads: fc_record_push from any one producer (the network thread), fc_record_status from any
 * thread, fc_record_open and fc_record_close from the main thread. A lock guards the queue and
 * the counters only for the pointer move or the copy; all I/O happens outside it.
 */
#ifndef FC_RECORD_H
#define FC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define FC_RECORD_QUEUE_DEFAULT 64  /* frames waiting for the disk: about 2 s at 30 fps */
#define FC_RECORD_ERR_MAX	512 /* a path and the reason */

/* What --record accepts, for error messages and --help. */
#define FC_RECORD_FORMATS                                                                          \
	"a directory (numbered JPEG files and index.csv), or a file ending in .mkv, .mp4 or .avi"

struct fc_record_cfg {
	unsigned
	    queue_frames;    /* frames waiting for the disk at most; 0 = FC_RECORD_QUEUE_DEFAULT */
	unsigned segment_s;  /* --segment: a directory of .mkv files, one per segment_s seconds */
	uint64_t keep_bytes; /* --keep SIZE: the segments' total at most (0: no limit) */
	uint64_t keep_s;     /* --keep AGE: no segment older (0: no limit) */
};

struct fc_record_status {
	uint64_t written;	/* frames complete on disk */
	uint64_t behind;	/* not written: the queue was full, the disk fell behind */
	uint64_t lost;		/* not written: queued or pushed after the recorder stopped */
	uint64_t queued;	/* waiting in the queue now */
	bool stopped;		/* a write failed; nothing more will be written */
	uint64_t removed;	/* old segments removed over --keep (record_seg.c) */
	uint64_t removed_bytes; /* their size */
	char removed_last[64];	/* the last one's name */
	char error[FC_RECORD_ERR_MAX]; /* why it stopped ("PATH: No space left on device") */
};

struct fc_record;

/*
 * Prepares a recording at path and starts its thread: a directory is created (or must be empty),
 * a container file must not exist yet (an existing device or FIFO is written to). Fails early,
 * with the reason in err, when the path cannot be used. cfg may be NULL (defaults).
 */
struct fc_record *fc_record_open(const char *path, const struct fc_record_cfg *cfg, char *err,
				 size_t errlen);

/* What is being written, for the log: "rec/ (JPEG files and index.csv)". */
const char *fc_record_describe(const struct fc_record *r);

/*
 * Hands an accepted frame to the recorder: takes a reference (the caller keeps its own) and
 * returns at once; a full queue or a stopped recorder counts the frame as not written. f NULL
 * counts one accepted frame that could not be kept (out of memory), so that the counts still
 * add up to the accepted frames.
 */
void fc_record_push(struct fc_record *r, struct fc_frame *f);

/* A copy of the counts and the state. */
void fc_record_status(struct fc_record *r, struct fc_record_status *out);

/*
 * Writes what is still queued, finishes the recording (the container's trailer) and frees the
 * recorder; the final counts go to *final when not NULL. Returns -1 with err set when finishing
 * failed or the recorder had stopped (the reason is also in final->error), else 0. r NULL is a
 * no-op returning 0.
 */
int fc_record_close(struct fc_record *r, struct fc_record_status *final, char *err, size_t errlen);

#endif
