/* Tests of common/slot.c: the latest-only mailbox between the capture (or network) thread and
 * its consumers. The threaded tests also run under TSan and ASan in tools/check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "slot.h"

#define FRAME_BYTES 4096
#define WRITES	    20000
#define READERS	    2

static struct fc_frame *make(struct fc_frame_pool *pool, uint64_t seq)
{
	struct fc_frame *f = fc_frame_get(pool, FRAME_BYTES);

	assert_non_null(f);
	f->seq = seq;
	f->size = FRAME_BYTES;
	/* Content derived from seq: a frame freed and reused under a reader would not match. */
	memset(f->data, (int)(seq & 0xff), FRAME_BYTES);
	return f;
}

static void check_content(const struct fc_frame *f)
{
	for (size_t i = 0; i < f->size; i++)
		assert_int_equal(f->data[i], (uint8_t)(f->seq & 0xff));
}

/* Before anything is published there is nothing; after, only a newer frame is handed out. */
static void test_get_newer(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_slot *s = fc_slot_new();
	struct fc_frame *f;

	(void)state;
	assert_null(fc_slot_get_newer(s, 0));
	fc_slot_publish(s, make(pool, 5));
	f = fc_slot_get_newer(s, 0);
	assert_non_null(f);
	assert_int_equal(f->seq, 5);
	fc_frame_unref(f);
	assert_null(fc_slot_get_newer(s, 5));
	assert_null(fc_slot_get_newer(s, 6));
	assert_int_equal(fc_slot_seq(s), 5);
	fc_slot_free(s);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

/* Publishing replaces the frame and drops the slot's reference to the old one, but a reader's
 * reference keeps the old frame alive and intact. */
static void test_publish_replaces(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_slot *s = fc_slot_new();
	struct fc_frame *held;
	struct fc_frame *f;

	(void)state;
	fc_slot_publish(s, make(pool, 1));
	held = fc_slot_get_newer(s, 0);
	fc_slot_publish(s, make(pool, 2));
	fc_slot_publish(s, make(pool, 3));
	/* The slot holds 3; the reader holds 1; frame 2 went back to the pool. */
	assert_int_equal(fc_frame_pool_outstanding(pool), 2);
	check_content(held);
	assert_int_equal(held->seq, 1);
	f = fc_slot_get_newer(s, held->seq);
	assert_int_equal(f->seq, 3); /* the newest, never 2 */
	fc_frame_unref(f);
	fc_frame_unref(held);
	assert_int_equal(fc_frame_pool_outstanding(pool), 1);
	fc_slot_free(s);
	fc_frame_pool_release(pool);
}

/* A wait with nothing newer returns NULL at its deadline, not before. */
static void test_wait_times_out(void **state)
{
	struct fc_slot *s = fc_slot_new();
	uint64_t t0 = fc_clock_now_ns();

	(void)state;
	assert_null(fc_slot_wait_newer(s, 0, t0 + 30 * FC_NS_PER_MS));
	assert_true(fc_clock_now_ns() >= t0 + 30 * FC_NS_PER_MS);
	fc_slot_free(s);
}

struct waiter {
	struct fc_slot *slot;
	struct fc_frame *got;
	atomic_bool returned;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->got = fc_slot_wait_newer(w->slot, 0, fc_clock_now_ns() + 10 * FC_NS_PER_S);
	atomic_store(&w->returned, true);
	return NULL;
}

/* A waiting consumer is woken by a publish and gets that frame. */
static void test_wait_woken_by_publish(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct waiter w = { .slot = fc_slot_new() };
	pthread_t t;

	(void)state;
	pthread_create(&t, NULL, wait_thread, &w);
	usleep(20000);
	assert_false(atomic_load(&w.returned));
	fc_slot_publish(w.slot, make(pool, 7));
	pthread_join(t, NULL);
	assert_non_null(w.got);
	assert_int_equal(w.got->seq, 7);
	fc_frame_unref(w.got);
	fc_slot_free(w.slot);
	fc_frame_pool_release(pool);
}

/* Closing wakes a waiter with NULL, and later waits return NULL at once. */
static void test_close_wakes_waiters(void **state)
{
	struct waiter w = { .slot = fc_slot_new() };
	pthread_t t;
	uint64_t t0;

	(void)state;
	pthread_create(&t, NULL, wait_thread, &w);
	usleep(20000);
	fc_slot_close(w.slot);
	pthread_join(t, NULL);
	assert_null(w.got);
	t0 = fc_clock_now_ns();
	assert_null(fc_slot_wait_newer(w.slot, 0, t0 + 5 * FC_NS_PER_S));
	assert_true(fc_clock_now_ns() - t0 < 4 * FC_NS_PER_S);
	fc_slot_free(w.slot);
}

/* A watched eventfd becomes readable on publish; after unwatch it is never written again. */
static void test_watch_pokes_eventfd(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_slot *s = fc_slot_new();
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t n = 0;

	(void)state;
	assert_int_equal(fc_slot_watch(s, fd), 0);
	assert_true(read(fd, &n, sizeof(n)) < 0); /* nothing yet */
	fc_slot_publish(s, make(pool, 1));
	fc_slot_publish(s, make(pool, 2));
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 2);
	fc_slot_unwatch(s, fd);
	fc_slot_publish(s, make(pool, 3));
	assert_true(read(fd, &n, sizeof(n)) < 0);
	close(fd);
	fc_slot_free(s);
	fc_frame_pool_release(pool);
}

/* No more than FC_SLOT_MAX_WATCHERS fds can be registered. */
static void test_watch_limit(void **state)
{
	struct fc_slot *s = fc_slot_new();

	(void)state;
	for (int i = 0; i < FC_SLOT_MAX_WATCHERS; i++)
		assert_int_equal(fc_slot_watch(s, 1000 + i), 0);
	assert_int_equal(fc_slot_watch(s, 5000), -1);
	fc_slot_free(s);
}

struct race {
	struct fc_slot *slot;
	struct fc_frame_pool *pool;
	_Atomic uint64_t published; /* the newest seq the writer has finished publishing */
	atomic_bool done;
	uint64_t reads[READERS];
	uint64_t skipped[READERS];
};

static void *writer(void *arg)
{
	struct race *r = arg;

	for (uint64_t seq = 1; seq <= WRITES; seq++) {
		fc_slot_publish(r->slot, make(r->pool, seq));
		atomic_store(&r->published, seq);
	}
	atomic_store(&r->done, true);
	return NULL;
}

struct reader_arg {
	struct race *r;
	int index;
};

static void *reader(void *arg)
{
	struct reader_arg *a = arg;
	struct race *r = a->r;
	uint64_t last = 0;

	while (!atomic_load(&r->done) || last < WRITES) {
		uint64_t floor = atomic_load(&r->published);
		struct fc_frame *f =
		    fc_slot_wait_newer(r->slot, last, fc_clock_now_ns() + 50 * FC_NS_PER_MS);

		if (!f)
			continue;
		/* Never an old frame: at least the one published before we asked, and newer than
		 * the last we had. */
		assert_true(f->seq >= floor);
		assert_true(f->seq > last);
		r->skipped[a->index] += f->seq - last - 1;
		last = f->seq;
		/* Never a freed or reused frame: its bytes still match its seq. */
		check_content(f);
		fc_frame_unref(f);
		r->reads[a->index]++;
	}
	return NULL;
}

/* One writer and two readers at full speed: readers only ever get the newest frame, each frame
 * intact while held, every reader ends on the last frame, and every frame goes back to the pool. */
static void test_writer_and_readers_race(void **state)
{
	struct race r = { .slot = fc_slot_new(), .pool = fc_frame_pool_new(8) };
	struct reader_arg args[READERS];
	pthread_t w;
	pthread_t rd[READERS];

	(void)state;
	for (int i = 0; i < READERS; i++) {
		args[i] = (struct reader_arg){ .r = &r, .index = i };
		pthread_create(&rd[i], NULL, reader, &args[i]);
	}
	pthread_create(&w, NULL, writer, &r);
	pthread_join(w, NULL);
	for (int i = 0; i < READERS; i++) {
		pthread_join(rd[i], NULL);
		assert_true(r.reads[i] > 0);
		assert_int_equal(r.reads[i] + r.skipped[i], WRITES);
	}
	fc_slot_free(r.slot);
	assert_int_equal(fc_frame_pool_outstanding(r.pool), 0);
	fc_frame_pool_release(r.pool);
}

/* A growing frame is shown apart from the slot's frame: fc_slot_get_newer never hands it out,
 * fc_slot_get_growing does while it is newer than asked; its publish, whole, moves it into the
 * slot and shows it no more; an ended one (its encode failed) goes without a publish. Each
 * change pokes the watchers, and every reference comes back to the pool. */
static void test_growing_frame(void **state)
{
	struct fc_frame_pool *pool = fc_frame_pool_new(4);
	struct fc_slot *s = fc_slot_new();
	struct fc_frame *f = make(pool, 1), *g = make(pool, 2), *h = make(pool, 3), *got;
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t n;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fc_slot_watch(s, fd), 0);
	fc_slot_follow(s, 1);
	assert_int_equal(fc_slot_followers(s), 1);
	fc_slot_publish(s, f);
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	fc_slot_begin(s, g);
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	got = fc_slot_get_newer(s, 1);
	assert_null(got);
	got = fc_slot_get_growing(s, 1);
	assert_ptr_equal(got, g);
	fc_frame_unref(got);
	assert_null(fc_slot_get_growing(s, 2));
	fc_slot_publish(s, g); /* whole now: the caller's reference goes to the slot */
	assert_null(fc_slot_get_growing(s, 1));
	got = fc_slot_get_newer(s, 1);
	assert_ptr_equal(got, g);
	fc_frame_unref(got);
	fc_slot_begin(s, h);
	fc_slot_end(s, h);
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	assert_null(fc_slot_get_growing(s, 0));
	fc_frame_unref(h);
	fc_slot_follow(s, -1);
	assert_int_equal(fc_slot_followers(s), 0);
	fc_slot_unwatch(s, fd);
	close(fd);
	assert_int_equal(fc_frame_pool_outstanding(pool), 1); /* g, in the slot */
	fc_slot_free(s);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
	fc_frame_pool_release(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growing_frame),
		cmocka_unit_test(test_get_newer),
		cmocka_unit_test(test_publish_replaces),
		cmocka_unit_test(test_wait_times_out),
		cmocka_unit_test(test_wait_woken_by_publish),
		cmocka_unit_test(test_close_wakes_waiters),
		cmocka_unit_test(test_watch_pokes_eventfd),
		cmocka_unit_test(test_watch_limit),
		cmocka_unit_test(test_writer_and_readers_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
