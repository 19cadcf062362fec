#include "frame.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct fc_frame_pool {
	pthread_mutex_t lock;
	unsigned keep; /* idle frames worth keeping */
	unsigned nidle;
	unsigned outstanding;	/* frames handed out and not yet back */
	bool released;		/* the creator is done with the pool */
	struct fc_frame **idle; /* idle[0..nidle) */
};

struct fc_frame_pool *fc_frame_pool_new(unsigned keep)
{
	struct fc_frame_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->idle = calloc(keep ? keep : 1, sizeof(*pool->idle));
	if (!pool->idle) {
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pool->keep = keep;
	return pool;
}

static void frame_destroy(struct fc_frame *f)
{
	free(f->data);
	free(f);
}

static void pool_destroy(struct fc_frame_pool *pool)
{
	for (unsigned i = 0; i < pool->nidle; i++)
		frame_destroy(pool->idle[i]);
	pthread_mutex_destroy(&pool->lock);
	free(pool->idle);
	free(pool);
}

void fc_frame_pool_release(struct fc_frame_pool *pool)
{
	bool last;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->released = true;
	last = pool->outstanding == 0;
	pthread_mutex_unlock(&pool->lock);
	if (last)
		pool_destroy(pool);
}

struct fc_frame *fc_frame_get(struct fc_frame_pool *pool, size_t cap)
{
	struct fc_frame *f = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->nidle > 0)
		f = pool->idle[--pool->nidle];
	pool->outstanding++;
	pthread_mutex_unlock(&pool->lock);

	/* Allocation happens outside the lock; a reused frame only grows when it must. */
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			goto fail;
	}
	if (f->cap < cap) {
		uint8_t *d = realloc(f->data, cap);

		if (!d) {
			frame_destroy(f);
			goto fail;
		}
		f->data = d;
		f->cap = cap;
	}
	f->pool = pool;
	f->size = f->doc_size = 0;
	f->seq = f->capture_ns = f->recv_ns = f->bound_ns = 0;
	f->width = f->height = f->src_width = f->src_height = 0;
	f->quality = 0;
	f->planned = 0;
	f->done_ns = 0;
	atomic_init(&f->avail, 0);
	atomic_init(&f->growth, FC_FRAME_WHOLE);
	for (int r = 0; r < FC_FRAME_RUNGS; r++)
		atomic_init(&f->alt[r], NULL);
	atomic_init(&f->refs, 1);
	return f;
fail:
	pthread_mutex_lock(&pool->lock);
	pool->outstanding--;
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct fc_frame *fc_frame_ref(struct fc_frame *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void fc_frame_unref(struct fc_frame *f)
{
	struct fc_frame_pool *pool;
	bool destroy_pool;

	if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Renditions come from pools of their own: dropped before this frame takes the lock. */
	for (int r = 1; r < FC_FRAME_RUNGS; r++)
		fc_frame_unref(atomic_exchange(&f->alt[r], NULL));
	pool = f->pool;
	pthread_mutex_lock(&pool->lock);
	pool->outstanding--;
	if (!pool->released && pool->nidle < pool->keep) {
		pool->idle[pool->nidle++] = f;
		f = NULL;
	}
	destroy_pool = pool->released && pool->outstanding == 0;
	pthread_mutex_unlock(&pool->lock);
	if (f)
		frame_destroy(f);
	if (destroy_pool)
		pool_destroy(pool);
}

void fc_frame_set_alt(struct fc_frame *head, int r, struct fc_frame *alt)
{
	if (r < 1 || r >= FC_FRAME_RUNGS) {
		fc_frame_unref(alt);
		return;
	}
	/* Release: whoever loads the pointer sees the finished JPEG behind it. */
	fc_frame_unref(atomic_exchange_explicit(&head->alt[r], alt, memory_order_acq_rel));
}

struct fc_frame *fc_frame_get_alt(struct fc_frame *head, int r)
{
	struct fc_frame *f;

	if (r == 0)
		return head->planned & 1u ? fc_frame_ref(head) : NULL;
	if (r < 0 || r >= FC_FRAME_RUNGS)
		return NULL;
	/* The head's reference keeps alt alive while the caller holds the head. */
	f = atomic_load_explicit(&head->alt[r], memory_order_acquire);
	return f ? fc_frame_ref(f) : NULL;
}

unsigned fc_frame_pool_outstanding(struct fc_frame_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->lock);
	n = pool->outstanding;
	pthread_mutex_unlock(&pool->lock);
	return n;
}
