/*
 * record_sink: the recorder's internal interface to its writers, one per kind of output. A sink
 * is opened on the main thread (so that a bad path fails before anything starts) and from then
 * on used only by the recorder's thread. It never prints; errors come back as text that names
 * the path and the reason.
 *
 * - record_dir.c: a directory of numbered JPEG files and index.csv.
 * - record_av.c: one container file (.mkv, .mp4, .avi) written with libavformat.
 * - record_seg.c: a directory of .mkv segments (record_av.c's), the oldest removed over a limit.
 */
#ifndef FC_RECORD_SINK_H
#define FC_RECORD_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* What the recorder knows about a frame beyond the frame itself. */
struct fc_record_meta {
	uint64_t number;  /* 1 for the first frame recorded, counting up */
	uint64_t rel_ns;  /* receive time relative to the first frame recorded (viewer's clock) */
	uint64_t unix_ns; /* receive time on the wall clock (ns since 1970) */
};

struct fc_record_sink;

struct fc_record_sink_ops {
	/* Writes one frame completely, or fails (-1, err set) leaving what was written before it
	 * valid. After a failure only close is called. */
	int (*write)(struct fc_record_sink *s, const struct fc_frame *f,
		     const struct fc_record_meta *m, char *err, size_t errlen);
	/* Finishes what was written (a trailer) and frees the sink, whatever happens. -1 with err
	 * set when finishing failed. */
	int (*close)(struct fc_record_sink *s, char *err, size_t errlen);
};

struct fc_record_sink {
	const struct fc_record_sink_ops *ops;
	char describe[256]; /* for the log: what is written where */
	/* Files the sink removed to stay within its limits (record_seg.c's rotation; 0 for the
	 * others), read by the recorder's thread after each write. */
	uint64_t removed;
	uint64_t removed_bytes;
	char removed_last[64]; /* the name of the last one */
};

/* Creates the directory (its parent must exist) or takes an empty existing one. */
struct fc_record_sink *fc_record_dir_open(const char *path, char *err, size_t errlen);

/* Creates the file, which must not exist yet (an existing device or FIFO is written to), for
 * format "matroska", "mp4" or "avi". Nothing is written before the first frame: its size is the
 * one the header gives; every later frame keeps its own, whatever it is. */
struct fc_record_sink *fc_record_av_open(const char *path, const char *format, char *err,
					 size_t errlen);

/* Creates the directory (its parent must exist) or takes an existing one, segments already in it
 * included, for one .mkv file per segment_s seconds of stream. keep_bytes and keep_s (0: none)
 * are the limits over which the oldest segments are removed. */
struct fc_record_sink *fc_record_seg_open(const char *path, unsigned segment_s, uint64_t keep_bytes,
					  uint64_t keep_s, char *err, size_t errlen);

/* A segment found in the directory. */
struct fc_record_seg_file {
	char name[64];
	uint64_t bytes;
	int64_t mtime_s; /* its last write, wall clock */
};

/*
 * The rotation's rule: how many of files (the segments other than the one being written, oldest
 * first) to remove, from the oldest, so that all of them with the one being written (cur_bytes)
 * are within keep_bytes and none was last written more than keep_s before now_s. 0 for no limit.
 * The segment being written is never among them, whatever the limits.
 */
size_t fc_record_seg_plan(const struct fc_record_seg_file *files, size_t n, uint64_t cur_bytes,
			  uint64_t keep_bytes, uint64_t keep_s, int64_t now_s);

#endif
