/* Tests of common/frame.c: reference counts, reuse through the pool, and a pool that outlives its
 * creator's release. Run also under ASan (leaks, use after free) and TSan (the threaded tests). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "frame.h"

#define THREADS 4
#define ROUNDS	100000
#define NFRAMES 6

static int refs(struct fc_frame *f)
{
	return atomic_load(&f->refs);
}

/* A new frame has one reference, room for cap bytes and zero metadata; unref returns it. */
static void test_get_fresh(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(2);
	struct fc_frame *f;

	(void)state;
	assert_non_null(pool);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	f = fc_frame_get(pool, 1000);
	assert_non_null(f);
	assert_int_equal(refs(f), 1);
	assert_ptr_equal(f->pool, pool);
	assert_non_null(f->data);
	assert_true(f->cap >= 1000);
	assert_int_equal(f->size, 0);
	assert_int_equal(f->seq, 0);
	assert_int_equal(f->capture_ns, 0);
	assert_int_equal(f->width, 0);
	assert_int_equal(f->height, 0);
	assert_int_equal(f->recv_ns, 0);
	assert_int_equal(f->bound_ns, 0);
	memset(f->data, 0xab, 1000); /* all of it is usable (ASan checks) */
	assert_int_equal(fc_frame_pool_outstanding(pool), 1);
	fc_frame_unref(f);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

/* ref adds one and returns the frame; the frame goes back only at the last unref. */
static void test_ref_unref_counts(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(2);
	struct fc_frame *f = fc_frame_get(pool, 64);

	(void)state;
	assert_ptr_equal(fc_frame_ref(f), f);
	assert_ptr_equal(fc_frame_ref(f), f);
	assert_int_equal(refs(f), 3);
	fc_frame_unref(f);
	assert_int_equal(refs(f), 2);
	fc_frame_unref(f);
	assert_int_equal(refs(f), 1);
	assert_int_equal(fc_frame_pool_outstanding(pool), 1);
	fc_frame_unref(f);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_unref(NULL); /* allowed, does nothing */
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

/* outstanding counts every frame out of the pool, whatever its reference count. */
static void test_outstanding(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(1);
	struct fc_frame *f[5];

	(void)state;
	for (int i = 0; i < 5; i++) {
		f[i] = fc_frame_get(pool, 16);
		assert_non_null(f[i]);
		assert_int_equal(fc_frame_pool_outstanding(pool), i + 1);
	}
	fc_frame_ref(f[0]);
	for (int i = 4; i >= 0; i--) {
		fc_frame_unref(f[i]);
		assert_int_equal(fc_frame_pool_outstanding(pool), i == 0 ? 1 : (unsigned)i);
	}
	fc_frame_unref(f[0]);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

/* A returned frame comes back (same pointer) from the next get, and its buffer stays. */
static void test_reuse_same_pointer(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(2);
	struct fc_frame *a = fc_frame_get(pool, 4096);
	uint8_t *data = a->data;
	struct fc_frame *b;

	(void)state;
	fc_frame_unref(a);
	b = fc_frame_get(pool, 4096);
	assert_ptr_equal(b, a);
	assert_ptr_equal(b->data, data); /* no reallocation when it already fits */
	/* Asking for less keeps the bigger buffer. */
	fc_frame_unref(b);
	b = fc_frame_get(pool, 10);
	assert_ptr_equal(b, a);
	assert_true(b->cap >= 4096);
	fc_frame_unref(b);
	fc_frame_pool_release(pool);
}

/* A reused frame grows its buffer when asked for more, and all of it is usable. */
static void test_reuse_grows(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(1);
	struct fc_frame *a = fc_frame_get(pool, 16);
	struct fc_frame *b;

	(void)state;
	memset(a->data, 1, 16);
	fc_frame_unref(a);
	b = fc_frame_get(pool, 1u << 20);
	assert_ptr_equal(b, a);
	assert_true(b->cap >= 1u << 20);
	memset(b->data, 2, 1u << 20);
	fc_frame_unref(b);
	fc_frame_pool_release(pool);
}

/* The pool keeps at most `keep` idle frames: of three returned, only two come back. */
static void test_reuse_up_to_keep(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(2);
	struct fc_frame *f[3];
	struct fc_frame *g[3];
	uintptr_t kept[2];

	(void)state;
	for (int i = 0; i < 3; i++)
		f[i] = fc_frame_get(pool, 32);
	kept[0] = (uintptr_t)f[0];
	kept[1] = (uintptr_t)f[1];
	for (int i = 0; i < 3; i++)
		fc_frame_unref(f[i]); /* f[2] finds the pool full and is freed */
	for (int i = 0; i < 3; i++)
		g[i] = fc_frame_get(pool, 32);
	/* g[0] and g[1] are f[0] and f[1] in some order; g[2] is neither (a new frame). The freed
	 * f[2] may be at the same address as g[2], so only the kept two are compared. */
	assert_true((uintptr_t)g[0] == kept[0] || (uintptr_t)g[0] == kept[1]);
	assert_true((uintptr_t)g[1] == kept[0] || (uintptr_t)g[1] == kept[1]);
	assert_true(g[0] != g[1]);
	assert_true((uintptr_t)g[2] != kept[0] && (uintptr_t)g[2] != kept[1]);
	assert_int_equal(fc_frame_pool_outstanding(pool), 3);
	for (int i = 0; i < 3; i++)
		fc_frame_unref(g[i]);
	fc_frame_pool_release(pool);
}

/* A pool with keep 0 keeps nothing and still counts and frees correctly (ASan: no leak). */
static void test_keep_zero(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(0);
	struct fc_frame *f;

	(void)state;
	assert_non_null(pool);
	for (int i = 0; i < 3; i++) {
		f = fc_frame_get(pool, 100);
		assert_non_null(f);
		assert_int_equal(fc_frame_pool_outstanding(pool), 1);
		fc_frame_unref(f);
		assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	}
	fc_frame_pool_release(pool);
}

/* A reused frame has its metadata zeroed and one reference, whatever the last user left. */
static void test_reuse_zeroes_metadata(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(1);
	struct fc_frame *f = fc_frame_get(pool, 64);
	struct fc_frame *g;

	(void)state;
	f->size = 64;
	f->seq = 99;
	f->capture_ns = 123456789;
	f->width = 640;
	f->height = 480;
	f->recv_ns = 987654321;
	f->bound_ns = 5555;
	fc_frame_ref(f);
	fc_frame_unref(f);
	fc_frame_unref(f);
	g = fc_frame_get(pool, 64);
	assert_ptr_equal(g, f);
	assert_int_equal(refs(g), 1);
	assert_ptr_equal(g->pool, pool);
	assert_int_equal(g->size, 0);
	assert_int_equal(g->seq, 0);
	assert_int_equal(g->capture_ns, 0);
	assert_int_equal(g->width, 0);
	assert_int_equal(g->height, 0);
	assert_int_equal(g->recv_ns, 0);
	assert_int_equal(g->bound_ns, 0);
	fc_frame_unref(g);
	fc_frame_pool_release(pool);
}

/* A released pool and its frames live until the last unref, which frees all (under ASan). */
static void test_release_with_frames_out(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_frame *idle = fc_frame_get(pool, 64);
	struct fc_frame *a = fc_frame_get(pool, 64);
	struct fc_frame *b = fc_frame_get(pool, 64);

	(void)state;
	fc_frame_unref(idle); /* one frame idle in the pool at release */
	fc_frame_ref(a);
	fc_frame_pool_release(pool);
	/* Still alive: the frames are usable and the pool still counts them. */
	memset(a->data, 1, 64);
	memset(b->data, 2, 64);
	assert_int_equal(fc_frame_pool_outstanding(pool), 2);
	fc_frame_unref(b);
	assert_int_equal(fc_frame_pool_outstanding(pool), 1);
	fc_frame_unref(a);
	assert_int_equal(a->data[63], 1);
	assert_int_equal(fc_frame_pool_outstanding(pool), 1);
	fc_frame_unref(a); /* the last one: frees a, the idle frame and the pool */
}

/* Releasing an empty pool frees it at once, with its idle frames (ASan: no leak). */
static void test_release_empty(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(3);

	(void)state;
	for (int i = 0; i < 3; i++)
		fc_frame_unref(fc_frame_get(pool, 128));
	fc_frame_pool_release(pool);
	fc_frame_pool_release(NULL); /* allowed */
}

struct hammer {
	struct fc_frame **frames;
	atomic_int *go;
	unsigned seed;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	unsigned x = h->seed;

	while (!atomic_load(h->go))
		;
	for (int i = 0; i < ROUNDS; i++) {
		struct fc_frame *f;
		struct fc_frame *g;

		x = x * 1103515245u + 12345u;
		f = h->frames[(x >> 16) % NFRAMES];
		g = h->frames[(x >> 8) % NFRAMES];
		fc_frame_ref(f);
		fc_frame_ref(g);
		/* Someone always holds f, so its bytes stay put under us. */
		if (f->data[0] != f->seq)
			return (void *)1;
		fc_frame_unref(g);
		fc_frame_unref(f);
	}
	return NULL;
}

/* Threads ref and unref the same frames at once; every count ends where it began. */
static void test_threads_same_frames(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(NFRAMES);
	struct fc_frame *frames[NFRAMES];
	struct hammer h[THREADS];
	pthread_t t[THREADS];
	atomic_int go = 0;

	(void)state;
	for (int i = 0; i < NFRAMES; i++) {
		frames[i] = fc_frame_get(pool, 16);
		frames[i]->seq = (uint64_t)(i + 1);
		frames[i]->data[0] = (uint8_t)(i + 1);
	}
	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){ .frames = frames, .go = &go, .seed = (unsigned)i * 7919u };
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	atomic_store(&go, 1);
	for (int i = 0; i < THREADS; i++) {
		void *rv;

		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	for (int i = 0; i < NFRAMES; i++)
		assert_int_equal(refs(frames[i]), 1);
	assert_int_equal(fc_frame_pool_outstanding(pool), NFRAMES);
	for (int i = 0; i < NFRAMES; i++)
		fc_frame_unref(frames[i]);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

struct churn {
	struct fc_frame_pool *pool;
	struct fc_frame *shared; /* one reference is this thread's, dropped at the end */
	atomic_int *go;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(c->go))
		;
	for (int i = 0; i < ROUNDS / 4; i++) {
		struct fc_frame *f = fc_frame_get(c->pool, 64 + (size_t)(i % 3) * 64);

		if (!f || atomic_load(&f->refs) != 1 || f->seq != 0)
			return (void *)1;
		f->seq = (uint64_t)i + 1;
		fc_frame_ref(f);
		fc_frame_unref(f);
		fc_frame_unref(f);
		fc_frame_unref(fc_frame_ref(c->shared));
	}
	fc_frame_unref(c->shared);
	return NULL;
}

/* Threads get and return frames while the pool is shared; all come back, nothing leaks. */
static void test_threads_pool_churn(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(2);
	struct fc_frame *shared = fc_frame_get(pool, 64);
	struct churn c[THREADS];
	pthread_t t[THREADS];
	atomic_int go = 0;

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		c[i] = (struct churn){ .pool = pool, .shared = fc_frame_ref(shared), .go = &go };
		assert_int_equal(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
	}
	atomic_store(&go, 1);
	fc_frame_unref(shared);
	for (int i = 0; i < THREADS; i++) {
		void *rv;

		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	/* Every frame is back; releasing now frees the pool (ASan: nothing leaks). */
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

static void *unref_main(void *arg)
{
	fc_frame_unref(arg);
	return NULL;
}

/* The creator releases the pool first; threads drop the last references and free it. */
static void test_threads_release_first(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_frame *f[THREADS];
	pthread_t t[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++)
		f[i] = fc_frame_get(pool, 256);
	fc_frame_pool_release(pool);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, unref_main, f[i]), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* A head frame keeps its renditions alive while it lives and gives them back to their own pool
 * when it goes back to its pool; rung 0 is the head itself when planned; a rung set twice
 * releases the first; out-of-range rungs are refused (the frame handed in is released). */
static void test_renditions(void **state)
{
	struct fc_frame_pool *heads = fc_frame_pool_new(2);
	struct fc_frame_pool *alts = fc_frame_pool_new(2);
	struct fc_frame *h = fc_frame_get(heads, 10);
	struct fc_frame *got;

	(void)state;
	h->planned = 1u | 1u << 3;
	assert_ptr_equal(fc_frame_get_alt(h, 0), h);
	fc_frame_unref(h);
	assert_null(fc_frame_get_alt(h, 3)); /* planned, not made yet */
	fc_frame_set_alt(h, 3, fc_frame_get(alts, 10));
	fc_frame_set_alt(h, 3, fc_frame_get(alts, 10)); /* again: the first is released */
	assert_int_equal(fc_frame_pool_outstanding(alts), 1);
	fc_frame_set_alt(h, FC_FRAME_RUNGS, fc_frame_get(alts, 10));
	fc_frame_set_alt(h, 0, fc_frame_get(alts, 10));
	assert_int_equal(fc_frame_pool_outstanding(alts), 1);
	assert_null(fc_frame_get_alt(h, FC_FRAME_RUNGS));
	got = fc_frame_get_alt(h, 3);
	assert_non_null(got);
	fc_frame_unref(h); /* the head goes back; the rendition lives on with our reference */
	assert_int_equal(fc_frame_pool_outstanding(heads), 0);
	assert_int_equal(fc_frame_pool_outstanding(alts), 1);
	fc_frame_unref(got);
	assert_int_equal(fc_frame_pool_outstanding(alts), 0);
	/* A head reused from the pool starts without renditions. */
	h = fc_frame_get(heads, 10);
	assert_int_equal(h->planned, 0);
	assert_null(fc_frame_get_alt(h, 3));
	fc_frame_unref(h);
	fc_frame_pool_release(heads);
	fc_frame_pool_release(alts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_fresh),
		cmocka_unit_test(test_ref_unref_counts),
		cmocka_unit_test(test_outstanding),
		cmocka_unit_test(test_reuse_same_pointer),
		cmocka_unit_test(test_reuse_grows),
		cmocka_unit_test(test_reuse_up_to_keep),
		cmocka_unit_test(test_keep_zero),
		cmocka_unit_test(test_reuse_zeroes_metadata),
		cmocka_unit_test(test_release_with_frames_out),
		cmocka_unit_test(test_release_empty),
		cmocka_unit_test(test_threads_same_frames),
		cmocka_unit_test(test_threads_pool_churn),
		cmocka_unit_test(test_threads_release_first),
		cmocka_unit_test(test_renditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
