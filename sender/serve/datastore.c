#include "datastore.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* One document: immutable once put, freed by its last holder. */
struct doc {
	atomic_int refs;
	uint64_t number;
	uint32_t size;
	uint8_t bytes[];
};

struct fc_datastore {
	pthread_mutex_t lock;
	struct doc *newest; /* NULL before the first */
	uint64_t numbered;  /* the newest's number; 0 before the first */
	/* Results, a ring of pointers: oldest at head. */
	struct fc_data_result *results[FC_DATASTORE_RESULTS];
	unsigned head;
	unsigned count;
	int result_fd; /* eventfd */
	_Atomic uint64_t docs_in, docs_sent, results_in, results_dropped;
};

static void doc_unref(struct doc *d)
{
	if (d && atomic_fetch_sub(&d->refs, 1) == 1)
		free(d);
}

struct fc_datastore *fc_datastore_new(void)
{
	struct fc_datastore *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->result_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (st->result_fd < 0) {
		int e = errno;

		free(st);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

void fc_datastore_free(struct fc_datastore *st)
{
	if (!st)
		return;
	doc_unref(st->newest);
	for (unsigned i = 0; i < st->count; i++)
		free(st->results[(st->head + i) % FC_DATASTORE_RESULTS]);
	close(st->result_fd);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

int fc_datastore_put(struct fc_datastore *st, const uint8_t *bytes, size_t len)
{
	struct doc *d = malloc(sizeof(*d) + len);
	struct doc *old;

	if (!d)
		return -1;
	atomic_init(&d->refs, 1);
	d->size = (uint32_t)len;
	memcpy(d->bytes, bytes, len);
	pthread_mutex_lock(&st->lock);
	old = st->newest;
	d->number = ++st->numbered;
	st->newest = d;
	pthread_mutex_unlock(&st->lock);
	doc_unref(old);
	atomic_fetch_add(&st->docs_in, 1);
	return 0;
}

int fc_datastore_send(struct fc_datastore *st, struct fc_conn *conn, uint64_t *last, uint64_t seq,
		      int timeout_ms)
{
	struct fc_msg m = { .type = FC_MSG_DATA };
	struct doc *d = NULL;
	int rc;

	pthread_mutex_lock(&st->lock);
	if (st->newest && st->newest->number > *last) {
		d = st->newest;
		atomic_fetch_add(&d->refs, 1);
	}
	pthread_mutex_unlock(&st->lock);
	if (!d)
		return 0;
	*last = d->number;
	m.u.data = (struct fc_data){ .seq = seq, .doc = d->bytes, .size = d->size };
	rc = fc_conn_send(conn, &m, timeout_ms);
	doc_unref(d);
	if (rc == 0)
		atomic_fetch_add(&st->docs_sent, 1);
	return rc;
}

int fc_datastore_result(struct fc_datastore *st, const char *viewer, const struct fc_data *d)
{
	struct fc_data_result *r = malloc(sizeof(*r) + d->size);
	const uint64_t one = 1;
	bool queued = false;

	atomic_fetch_add(&st->results_in, 1);
	if (r) {
		r->seq = d->seq;
		r->size = d->size;
		memcpy(r->doc, d->doc, d->size);
		snprintf(r->viewer, sizeof(r->viewer), "%s", viewer);
		pthread_mutex_lock(&st->lock);
		if (st->count < FC_DATASTORE_RESULTS) {
			st->results[(st->head + st->count++) % FC_DATASTORE_RESULTS] = r;
			queued = true;
		}
		pthread_mutex_unlock(&st->lock);
	}
	if (!queued) {
		free(r);
		atomic_fetch_add(&st->results_dropped, 1);
		return -1;
	}
	(void)!write(st->result_fd, &one, sizeof(one));
	return 0;
}

struct fc_data_result *fc_datastore_take_result(struct fc_datastore *st)
{
	struct fc_data_result *r = NULL;

	pthread_mutex_lock(&st->lock);
	if (st->count > 0) {
		r = st->results[st->head];
		st->head = (st->head + 1) % FC_DATASTORE_RESULTS;
		st->count--;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

int fc_datastore_result_fd(const struct fc_datastore *st)
{
	return st->result_fd;
}

void fc_datastore_stats(struct fc_datastore *st, struct fc_datastore_stats *out)
{
	out->docs_in = atomic_load(&st->docs_in);
	out->docs_sent = atomic_load(&st->docs_sent);
	out->results_in = atomic_load(&st->results_in);
	out->results_dropped = atomic_load(&st->results_dropped);
}
