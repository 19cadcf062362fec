#include "throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char host[64];	   /* "" when free */
	unsigned failures; /* in a row, since the last success */
	uint64_t last_ns;  /* the last failure, or the last try's start */
	uint64_t next_ns;  /* no try before this (booked tries push it on) */
	unsigned inflight; /* handshakes begun and not ended */
};

struct fc_throttle {
	pthread_mutex_t lock;
	struct entry e[FC_THROTTLE_ENTRIES];
};

struct fc_throttle *fc_throttle_new(void)
{
	struct fc_throttle *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void fc_throttle_free(struct fc_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint64_t delay_after(unsigned failures)
{
	uint64_t d = FC_THROTTLE_FIRST_NS;

	for (unsigned i = 1; i < failures && d < FC_THROTTLE_MAX_NS; i++)
		d *= 2;
	return d < FC_THROTTLE_MAX_NS ? d : FC_THROTTLE_MAX_NS;
}

static bool stale(const struct entry *e, uint64_t now)
{
	return e->inflight == 0 && now - e->last_ns > FC_THROTTLE_FORGET_NS;
}

/* The entry of host; with create, a free, stale or the longest idle one taken for it. */
static struct entry *find(struct fc_throttle *t, const char *host, uint64_t now, bool create)
{
	struct entry *spare = NULL;

	for (int i = 0; i < FC_THROTTLE_ENTRIES; i++) {
		struct entry *e = &t->e[i];

		if (e->host[0] && strcmp(e->host, host) == 0) {
			if (stale(e, now))
				*e = (struct entry){ 0 };
			else
				return e;
		}
		if (!e->host[0] || stale(e, now)) {
			if (!spare || spare->host[0])
				spare = e;
		} else if (e->inflight == 0 &&
			   (!spare || (spare->host[0] && e->last_ns < spare->last_ns))) {
			spare = e;
		}
	}
	if (!create || !spare)
		return NULL;
	*spare = (struct entry){ .last_ns = now, .next_ns = now };
	snprintf(spare->host, sizeof(spare->host), "%s", host);
	return spare;
}

int64_t fc_throttle_begin(struct fc_throttle *t, const char *host, uint64_t now_ns,
			  uint64_t *retry_ns)
{
	struct entry *e;
	int64_t wait = 0;

	pthread_mutex_lock(&t->lock);
	e = find(t, host, now_ns, true);
	if (!e) /* every entry is in a handshake: as many as the sessions allowed, so let it be */
		goto out;
	if (e->failures == 0) {
		if (e->inflight >= FC_THROTTLE_INFLIGHT) {
			*retry_ns = FC_THROTTLE_FIRST_NS;
			wait = -1;
			goto out;
		}
	} else {
		if (e->inflight > 0 || e->next_ns > now_ns + FC_THROTTLE_HOLD_NS) {
			uint64_t later = e->next_ns > now_ns ? e->next_ns - now_ns : 0;

			*retry_ns =
			    later > delay_after(e->failures) ? later : delay_after(e->failures);
			wait = -1;
			goto out;
		}
		if (e->next_ns > now_ns)
			wait = (int64_t)(e->next_ns - now_ns);
	}
	e->inflight++;
	if (e->failures == 0)
		e->last_ns = now_ns;
out:
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void fc_throttle_end(struct fc_throttle *t, const char *host, bool failed, uint64_t now_ns)
{
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	e = find(t, host, now_ns, failed);
	if (e) {
		if (e->inflight > 0)
			e->inflight--;
		if (failed) {
			e->failures++;
			e->last_ns = now_ns;
			e->next_ns = now_ns + delay_after(e->failures);
		} else {
			e->failures = 0;
			if (e->inflight == 0)
				*e = (struct entry){ 0 };
		}
	}
	pthread_mutex_unlock(&t->lock);
}

const char *fc_throttle_host(const char *peer, char *host, size_t len)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

	if (peer[0] == '[' && n >= 2 && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	snprintf(host, len, "%.*s", (int)n, peer);
	return host;
}
