/*
 * record_sink: the recorder's internal interface to its writers, one per kind of output. A sink
 * is opened on the main thread (so that a bad path fails before anything starts) and from then
 * on used only by the recorder's thread. It never prints; errors come back as text that names
 * the path and the reason.
 *
 * - record_dir.c: a directory of numbered JPEG files and index.csv.
 * - record_av.c: one container file (.mkv, .mp4, .avi) written with libavformat.
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
};

/* Creates the directory (its parent must exist) or takes an empty existing one. */
struct fc_record_sink *fc_record_dir_open(const char *path, char *err, size_t errlen);

/* Creates the file, which must not exist yet (an existing device or FIFO is written to), for
 * format "matroska", "mp4" or "avi". Nothing is written before the first frame: its size is the
 * one the header gives; every later frame keeps its own, whatever it is. */
struct fc_record_sink *fc_record_av_open(const char *path, const char *format, char *err,
					 size_t errlen);

#endif
