#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "record_sink.h"

struct fc_record {
	struct fc_record_sink *sink; /* the recorder thread's; NULL once it stopped or closed */
	pthread_t thread;
	/* The wall clock at one instant of the monotonic clock: frames carry monotonic receive
	 * times, the index wants wall-clock ones, and reading the wall clock when a frame is written
	 * would add its time in the queue. */
	uint64_t mono0_ns;
	uint64_t unix0_ns;

	pthread_mutex_t lock; /* guards everything below, held only for a move or a copy */
	pthread_cond_t wake;  /* the queue got a frame, or closing was asked */
	struct fc_frame **queue;
	unsigned cap;
	unsigned head;
	unsigned count;
	bool closing;
	struct fc_record_status st;
	char close_err[FC_RECORD_ERR_MAX]; /* finishing failed (written by the thread at its end) */
	char describe[256]; /* the sink's, copied at open: the sink is the thread's from then on */
};

/* The container formats by extension; anything else that does not exist is a directory. */
static const struct {
	const char *ext;
	const char *format;
} containers[] = {
	{ ".mkv", "matroska" },
	{ ".mp4", "mp4" },
	{ ".avi", "avi" },
};

static struct fc_record_sink *open_sink(const char *path, const struct fc_record_cfg *cfg,
					char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	const char *ext;
	size_t len = strlen(path);
	struct stat sb;

	if (len == 0) {
		snprintf(err, errlen, "--record needs a path: " FC_RECORD_FORMATS);
		return NULL;
	}
	if (cfg && cfg->segment_s)
		return fc_record_seg_open(path, cfg->segment_s, cfg->keep_bytes, cfg->keep_s, err,
					  errlen);
	/* What exists decides first: a directory is a directory whatever its name. */
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return fc_record_dir_open(path, err, errlen);
	if (path[len - 1] == '/')
		return fc_record_dir_open(path, err, errlen);
	base = base ? base + 1 : path;
	ext = strrchr(base, '.');
	for (size_t i = 0; ext && i < sizeof(containers) / sizeof(containers[0]); i++)
		if (strcasecmp(ext, containers[i].ext) == 0)
			return fc_record_av_open(path, containers[i].format, err, errlen);
	if (access(path, F_OK) == 0) {
		snprintf(err, errlen,
			 "cannot record to %s: it exists and is not a directory; --record takes "
			 "%s",
			 path, FC_RECORD_FORMATS);
		return NULL;
	}
	/* A dot inside the name (not a hidden file's leading one) looks like a file type the user
	 * expects: say which ones exist rather than make a directory called "clip.mov". */
	if (ext && ext != base) {
		snprintf(err, errlen,
			 "cannot record to %s: %s is not a format the recorder writes; --record "
			 "takes %s (end the path with '/' for a directory of that name)",
			 path, ext, FC_RECORD_FORMATS);
		return NULL;
	}
	return fc_record_dir_open(path, err, errlen);
}

/* Takes the oldest queued frame; NULL when the queue is empty. Under the lock. */
static struct fc_frame *pop_locked(struct fc_record *r)
{
	struct fc_frame *f;

	if (r->count == 0)
		return NULL;
	f = r->queue[r->head];
	r->head = (r->head + 1) % r->cap;
	r->count--;
	return f;
}

/* A write failed: stop for good, keep the reason, and leave what was written valid. */
static void stop_recording(struct fc_record *r, const char *why)
{
	struct fc_frame **left = NULL;
	unsigned n = 0;
	char err[FC_RECORD_ERR_MAX];
	struct fc_frame *f;

	/* The frames still queued will never be written: move them out under the lock (pointer
	 * moves), release them outside it. The array is small and allocated only on this path. */
	left = calloc(r->cap, sizeof(*left));
	pthread_mutex_lock(&r->lock);
	r->st.stopped = true;
	snprintf(r->st.error, sizeof(r->st.error), "%s", why);
	while (left && (f = pop_locked(r)))
		left[n++] = f;
	r->st.lost += n + 1; /* and the frame whose write failed */
	r->st.queued = r->count;
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; i < n; i++)
		fc_frame_unref(left[i]);
	free(left);
	/* Finish now rather than at exit, so that a viewer killed later leaves the same files: the
	 * sink closes them (a container gets its trailer only when the disk is not the problem).
	 * Its own failure adds nothing to the reason already kept. */
	r->sink->ops->close(r->sink, err, sizeof(err));
	r->sink = NULL;
}

static void *record_main(void *arg)
{
	struct fc_record *r = arg;
	struct fc_record_meta m = { 0 };
	uint64_t first_ns = 0;
	char err[FC_RECORD_ERR_MAX];
	sigset_t all;

	/* Signals belong to the main thread (its handler only sets a flag). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "fc-rec");
	for (;;) {
		struct fc_frame *f;
		int rc = 0;

		pthread_mutex_lock(&r->lock);
		while (r->count == 0 && !r->closing)
			pthread_cond_wait(&r->wake, &r->lock);
		f = pop_locked(r);
		r->st.queued = r->count;
		pthread_mutex_unlock(&r->lock);
		if (!f)
			break; /* closing, and everything queued is written */
		if (r->sink) {
			if (m.number == 0)
				first_ns = f->recv_ns;
			m.number++;
			m.rel_ns = f->recv_ns > first_ns ? f->recv_ns - first_ns : 0;
			m.unix_ns = r->unix0_ns + (f->recv_ns - r->mono0_ns);
			rc = r->sink->ops->write(r->sink, f, &m, err, sizeof(err));
		}
		fc_frame_unref(f);
		if (rc < 0) {
			stop_recording(r, err);
			continue;
		}
		pthread_mutex_lock(&r->lock);
		if (r->sink) {
			r->st.written++;
			if (r->sink->removed != r->st.removed) {
				r->st.removed = r->sink->removed;
				r->st.removed_bytes = r->sink->removed_bytes;
				memcpy(r->st.removed_last, r->sink->removed_last,
				       sizeof(r->st.removed_last));
			}
		} else {
			r->st.lost++; /* queued before the stop, popped after: never written */
		}
		pthread_mutex_unlock(&r->lock);
	}
	if (r->sink && r->sink->ops->close(r->sink, err, sizeof(err)) < 0)
		snprintf(r->close_err, sizeof(r->close_err), "%s", err);
	r->sink = NULL;
	return NULL;
}

static void record_free(struct fc_record *r)
{
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->queue);
	free(r);
}

struct fc_record *fc_record_open(const char *path, const struct fc_record_cfg *cfg, char *err,
				 size_t errlen)
{
	struct fc_record *r = calloc(1, sizeof(*r));
	struct timespec rt;
	unsigned cap = cfg && cfg->queue_frames ? cfg->queue_frames : FC_RECORD_QUEUE_DEFAULT;
	int rc;

	if (!r || !(r->queue = calloc(cap, sizeof(*r->queue)))) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	r->cap = cap;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	clock_gettime(CLOCK_REALTIME, &rt);
	r->mono0_ns = fc_clock_now_ns();
	r->unix0_ns = (uint64_t)rt.tv_sec * FC_NS_PER_S + (uint64_t)rt.tv_nsec;
	r->sink = open_sink(path, cfg, err, errlen);
	if (!r->sink) {
		record_free(r);
		return NULL;
	}
	snprintf(r->describe, sizeof(r->describe), "%s", r->sink->describe);
	rc = pthread_create(&r->thread, NULL, record_main, r);
	if (rc) {
		char ignored[FC_RECORD_ERR_MAX];

		snprintf(err, errlen, "cannot start the recorder's thread: %s", strerror(rc));
		r->sink->ops->close(r->sink, ignored, sizeof(ignored));
		record_free(r);
		return NULL;
	}
	return r;
}

const char *fc_record_describe(const struct fc_record *r)
{
	return r->describe;
}

void fc_record_push(struct fc_record *r, struct fc_frame *f)
{
	bool queued = false;

	/* Referenced before the lock and released after: the lock covers a pointer store. */
	if (f)
		fc_frame_ref(f);
	pthread_mutex_lock(&r->lock);
	if (!f || r->st.stopped) {
		r->st.lost++;
	} else if (r->count == r->cap) {
		r->st.behind++;
	} else {
		r->queue[(r->head + r->count) % r->cap] = f;
		r->count++;
		r->st.queued = r->count;
		queued = true;
		pthread_cond_signal(&r->wake);
	}
	pthread_mutex_unlock(&r->lock);
	if (f && !queued)
		fc_frame_unref(f);
}

void fc_record_status(struct fc_record *r, struct fc_record_status *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

int fc_record_close(struct fc_record *r, struct fc_record_status *final, char *err, size_t errlen)
{
	struct fc_record_status st;
	int status = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->closing = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	st = r->st; /* the thread is gone: no lock needed */
	if (st.stopped) {
		snprintf(err, errlen, "%s", st.error);
		status = -1;
	} else if (r->close_err[0]) {
		snprintf(err, errlen, "%s", r->close_err);
		snprintf(st.error, sizeof(st.error), "%s", r->close_err);
		status = -1;
	}
	if (final)
		*final = st;
	record_free(r);
	return status;
}
