#include "slot.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

struct fc_slot {
	pthread_mutex_t lock;
	pthread_cond_t changed;	  /* signalled on publish and close; uses CLOCK_MONOTONIC */
	struct fc_frame *frame;	  /* the newest frame, or NULL before the first */
	struct fc_frame *growing; /* a newer frame still being encoded, or NULL (fc_slot_begin) */
	int followers;		  /* consumers that follow growing frames */
	uint64_t seq;		  /* frame->seq, readable without touching the frame */
	bool closed;
	int source; /* enum fc_source_state; 0 until first set */
	char source_text[200];
	unsigned source_gen;
	int watchers[FC_SLOT_MAX_WATCHERS];
	int nwatchers;
};

struct fc_slot *fc_slot_new(void)
{
	struct fc_slot *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);
	return s;
}

void fc_slot_free(struct fc_slot *s)
{
	if (!s)
		return;
	fc_frame_unref(s->frame);
	fc_frame_unref(s->growing);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * Pokes the watchers. This is the one syscall made under the lock, on purpose: once
 * fc_slot_unwatch returns, its caller closes the fd and the number may be reused at once (for a
 * socket, say), so no write to it may still be on its way. A write to a non-blocking eventfd never
 * waits, and a full counter (EAGAIN) already means "readable", so a failed write loses nothing.
 */
static void poke_locked(struct fc_slot *s)
{
	const uint64_t one = 1;

	for (int i = 0; i < s->nwatchers; i++)
		if (write(s->watchers[i], &one, sizeof(one)) < 0)
			continue;
}

void fc_slot_publish(struct fc_slot *s, struct fc_frame *f)
{
	struct fc_frame *old;
	struct fc_frame *shown = NULL;

	pthread_mutex_lock(&s->lock);
	old = s->frame;
	s->frame = f;
	s->seq = f->seq;
	/* The frame shown growing is now whole in the slot (or older than what is). */
	if (s->growing && s->growing->seq <= f->seq) {
		shown = s->growing;
		s->growing = NULL;
	}
	pthread_cond_broadcast(&s->changed);
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);

	/* The old frames may be the last references: back to their pool, outside the lock. */
	fc_frame_unref(old);
	fc_frame_unref(shown);
}

void fc_slot_begin(struct fc_slot *s, struct fc_frame *f)
{
	struct fc_frame *old;

	fc_frame_ref(f);
	pthread_mutex_lock(&s->lock);
	old = s->growing;
	s->growing = f;
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);
	fc_frame_unref(old);
}

void fc_slot_end(struct fc_slot *s, struct fc_frame *f)
{
	struct fc_frame *shown = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->growing == f) {
		shown = f;
		s->growing = NULL;
	}
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);
	fc_frame_unref(shown);
}

struct fc_frame *fc_slot_get_growing(struct fc_slot *s, uint64_t after_seq)
{
	struct fc_frame *f = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->growing && s->growing->seq > after_seq)
		f = fc_frame_ref(s->growing);
	pthread_mutex_unlock(&s->lock);
	return f;
}

void fc_slot_follow(struct fc_slot *s, int delta)
{
	pthread_mutex_lock(&s->lock);
	s->followers += delta;
	pthread_mutex_unlock(&s->lock);
}

int fc_slot_followers(struct fc_slot *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->followers;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct fc_frame *fc_slot_get_newer(struct fc_slot *s, uint64_t after_seq)
{
	struct fc_frame *f = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->frame && s->seq > after_seq)
		f = fc_frame_ref(s->frame);
	pthread_mutex_unlock(&s->lock);
	return f;
}

struct fc_frame *fc_slot_wait_newer(struct fc_slot *s, uint64_t after_seq, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / FC_NS_PER_S),
		.tv_nsec = (long)(deadline_ns % FC_NS_PER_S),
	};
	struct fc_frame *f = NULL;

	pthread_mutex_lock(&s->lock);
	while (!s->closed && !(s->frame && s->seq > after_seq)) {
		if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
			break;
	}
	if (!s->closed && s->frame && s->seq > after_seq)
		f = fc_frame_ref(s->frame);
	pthread_mutex_unlock(&s->lock);
	return f;
}

void fc_slot_poke(struct fc_slot *s)
{
	pthread_mutex_lock(&s->lock);
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void fc_slot_close(struct fc_slot *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_cond_broadcast(&s->changed);
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);
}

int fc_slot_watch(struct fc_slot *s, int fd)
{
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (s->nwatchers < FC_SLOT_MAX_WATCHERS) {
		s->watchers[s->nwatchers++] = fd;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void fc_slot_unwatch(struct fc_slot *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nwatchers; i++) {
		if (s->watchers[i] == fd) {
			s->watchers[i] = s->watchers[--s->nwatchers];
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void fc_slot_set_source(struct fc_slot *s, int state, const char *text)
{
	pthread_mutex_lock(&s->lock);
	s->source = state;
	snprintf(s->source_text, sizeof(s->source_text), "%s", text ? text : "");
	s->source_gen++;
	pthread_cond_broadcast(&s->changed);
	poke_locked(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned fc_slot_source(struct fc_slot *s, int *state, char *text, size_t len)
{
	unsigned gen;

	pthread_mutex_lock(&s->lock);
	*state = s->source;
	if (len)
		snprintf(text, len, "%s", s->source_text);
	gen = s->source_gen;
	pthread_mutex_unlock(&s->lock);
	return gen;
}

uint64_t fc_slot_seq(struct fc_slot *s)
{
	uint64_t seq;

	pthread_mutex_lock(&s->lock);
	seq = s->seq;
	pthread_mutex_unlock(&s->lock);
	return seq;
}
