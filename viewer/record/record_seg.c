/*
 * record_seg: the recorder's segmented writer (--record DIR --segment SECONDS), for a recorder
 * that runs for days (freshcam-record@.service). The directory holds one Matroska file per
 * SECONDS of stream (record_av.c, each finished with its trailer before the next starts), named
 * after the UTC time of its first frame, 20261203T141200Z.mkv, so that names sort as time does.
 *
 * With --keep, the oldest segments are removed, oldest first, while the directory's segments
 * are over the size or older than the age: when a segment starts and every second of
 * stream after. Never the segment being written, and never a file not named like a segment (a
 * directory shared with anything else loses nothing else). A viewer restarted on the same
 * directory goes on beside the segments already there and rotates them too.
 *
 * Used by the recorder's thread only (record_sink.h); each removal is counted in the sink for the
 * recorder to report. fc_record_seg_plan is the rule alone, for tests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record_sink.h"

/* How often, in stream time, the limits are checked between two segment starts. */
#define ROTATE_EVERY_NS 1000000000ull
#define SEG_FILES_MAX	100000 /* a directory scan's cap: years of ten-minute segments */

struct seg_sink {
	struct fc_record_sink base;
	struct fc_record_sink *cur; /* the segment being written, or NULL before the first frame */
	char cur_name[64];
	uint64_t segment_ns;
	uint64_t keep_bytes; /* 0: no size limit */
	uint64_t keep_s;     /* 0: no age limit */
	uint64_t seg_rel_ns; /* the current segment's first frame, relative to the recording's */
	uint64_t seg_number; /* its number in the recording */
	uint64_t next_rotate_ns;
	char dir[4096];
};

/* Whether name is a segment's: 8 digits, T, 6 digits, Z, an optional -N, .mkv. */
static bool is_segment(const char *name)
{
	static const char shape[] = "ddddddddTddddddZ";
	size_t i;

	for (i = 0; shape[i]; i++) {
		bool digit = name[i] >= '0' && name[i] <= '9';

		if (shape[i] == 'd' ? !digit : name[i] != shape[i])
			return false;
	}
	if (name[i] == '-')
		for (i++; name[i] >= '0' && name[i] <= '9'; i++)
			;
	return strcmp(name + i, ".mkv") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct fc_record_seg_file *)a)->name,
		      ((const struct fc_record_seg_file *)b)->name);
}

size_t fc_record_seg_plan(const struct fc_record_seg_file *files, size_t n, uint64_t cur_bytes,
			  uint64_t keep_bytes, uint64_t keep_s, int64_t now_s)
{
	uint64_t total = cur_bytes;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		total += files[i].bytes;
	while (k < n && ((keep_bytes && total > keep_bytes) ||
			 (keep_s && files[k].mtime_s < now_s - (int64_t)keep_s))) {
		total -= files[k].bytes;
		k++;
	}
	return k;
}

/* The segments in the directory other than the one being written, oldest first; NULL when the
 * directory cannot be read (nothing is removed then). */
static struct fc_record_seg_file *scan(struct seg_sink *g, size_t *n, uint64_t *cur_bytes)
{
	struct fc_record_seg_file *files = NULL;
	size_t cap = 0;
	DIR *d = opendir(g->dir);
	struct dirent *e;
	struct stat sb;
	char path[4096 + 80];

	*n = 0;
	*cur_bytes = 0;
	while (d && (e = readdir(d)) && *n < SEG_FILES_MAX) {
		if (!is_segment(e->d_name) || strlen(e->d_name) >= sizeof(files->name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", g->dir, e->d_name);
		if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (strcmp(e->d_name, g->cur_name) == 0) {
			*cur_bytes = (uint64_t)sb.st_size;
			continue;
		}
		if (*n == cap) {
			struct fc_record_seg_file *more;

			cap = cap ? cap * 2 : 64;
			more = realloc(files, cap * sizeof(*files));
			if (!more)
				break;
			files = more;
		}
		snprintf(files[*n].name, sizeof(files[*n].name), "%s", e->d_name);
		files[*n].bytes = (uint64_t)sb.st_size;
		files[*n].mtime_s = (int64_t)sb.st_mtime;
		(*n)++;
	}
	if (d)
		closedir(d);
	if (files)
		qsort(files, *n, sizeof(*files), by_name);
	return files;
}

/* Removes the oldest segments while over a limit, counting each in the sink. */
static void rotate(struct seg_sink *g)
{
	size_t n = 0;
	uint64_t cur_bytes = 0;
	struct fc_record_seg_file *files;
	size_t k;
	char path[4096 + 80];

	if (!g->keep_bytes && !g->keep_s)
		return;
	files = scan(g, &n, &cur_bytes);
	k = fc_record_seg_plan(files, n, cur_bytes, g->keep_bytes, g->keep_s, (int64_t)time(NULL));
	for (size_t i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s", g->dir, files[i].name);
		if (unlink(path) < 0)
			continue; /* gone already, or not ours to remove: tried again next time */
		g->base.removed++;
		g->base.removed_bytes += files[i].bytes;
		snprintf(g->base.removed_last, sizeof(g->base.removed_last), "%s", files[i].name);
	}
	free(files);
}

/* Finishes the segment being written and starts the next, named after this frame's time. */
static int next_segment(struct seg_sink *g, const struct fc_record_meta *m, char *err,
			size_t errlen)
{
	time_t secs = (time_t)(m->unix_ns / 1000000000ull);
	char stamp[32] = "00000000T000000Z";
	char path[4096 + 80];
	struct tm tm;
	struct stat sb;

	if (g->cur) {
		struct fc_record_sink *done = g->cur;

		g->cur = NULL;
		if (done->ops->close(done, err, errlen) < 0)
			return -1;
	}
	if (gmtime_r(&secs, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* A second segment within the same second (a restart): -1, -2, ... */
	snprintf(g->cur_name, sizeof(g->cur_name), "%s.mkv", stamp);
	for (int i = 1;; i++) {
		snprintf(path, sizeof(path), "%s/%s", g->dir, g->cur_name);
		if (lstat(path, &sb) < 0 || i == 1000)
			break; /* free (or 1000 taken: then the writer refuses it, saying so) */
		snprintf(g->cur_name, sizeof(g->cur_name), "%s-%d.mkv", stamp, i);
	}
	g->cur = fc_record_av_open(path, "matroska", err, errlen);
	if (!g->cur)
		return -1;
	g->seg_rel_ns = m->rel_ns;
	g->seg_number = m->number;
	rotate(g);
	g->next_rotate_ns = m->rel_ns + ROTATE_EVERY_NS;
	return 0;
}

static int seg_write(struct fc_record_sink *s, const struct fc_frame *f,
		     const struct fc_record_meta *m, char *err, size_t errlen)
{
	struct seg_sink *g = (struct seg_sink *)s;
	struct fc_record_meta in_seg;

	if ((!g->cur || m->rel_ns - g->seg_rel_ns >= g->segment_ns) &&
	    next_segment(g, m, err, errlen) < 0)
		return -1;
	/* Each segment is a recording of its own: its times start at its first frame. */
	in_seg = (struct fc_record_meta){ .number = m->number - g->seg_number + 1,
					  .rel_ns = m->rel_ns - g->seg_rel_ns,
					  .unix_ns = m->unix_ns };
	if (g->cur->ops->write(g->cur, f, &in_seg, err, errlen) < 0)
		return -1;
	if (m->rel_ns >= g->next_rotate_ns) {
		rotate(g);
		g->next_rotate_ns = m->rel_ns + ROTATE_EVERY_NS;
	}
	return 0;
}

static int seg_close(struct fc_record_sink *s, char *err, size_t errlen)
{
	struct seg_sink *g = (struct seg_sink *)s;
	int status = 0;

	if (g->cur)
		status = g->cur->ops->close(g->cur, err, errlen);
	free(g);
	return status;
}

static const struct fc_record_sink_ops seg_ops = {
	.write = seg_write,
	.close = seg_close,
};

struct fc_record_sink *fc_record_seg_open(const char *path, unsigned segment_s, uint64_t keep_bytes,
					  uint64_t keep_s, char *err, size_t errlen)
{
	struct seg_sink *g = calloc(1, sizeof(*g));
	struct stat sb;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->base.ops = &seg_ops;
	g->segment_ns = (uint64_t)segment_s * 1000000000ull;
	g->keep_bytes = keep_bytes;
	g->keep_s = keep_s;
	if (strlen(path) >= sizeof(g->dir)) {
		snprintf(err, errlen, "cannot record to %.100s...: the path is too long", path);
		goto fail;
	}
	snprintf(g->dir, sizeof(g->dir), "%s", path);
	/* Segments go beside those of an earlier run: the directory may hold anything. */
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the directory %s: %s", path, strerror(errno));
		goto fail;
	}
	if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot record segments to %s: it is not a directory", path);
		goto fail;
	}
	snprintf(g->base.describe, sizeof(g->base.describe), "%s (one .mkv per %u s%s)", path,
		 segment_s, keep_bytes || keep_s ? ", the oldest removed over --keep" : "");
	return &g->base;
fail:
	free(g);
	return NULL;
}
