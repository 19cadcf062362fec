/*
 * libfailthread.so: an LD_PRELOAD library for the end-to-end tests that makes a viewer's streams
 * fail to start. freshcam-view (headless, without --record) creates its threads in a fixed order:
 * a dial thread per attempt, then, once the attempt has a connection, the network thread. Against
 * a sender that always answers, that is dial, network, dial, network...: this library lets the
 * first two through (the first stream starts) and fails every later network thread (the even
 * calls) with EAGAIN, as a machine out of threads would. Not built with sanitizers (their runtime
 * cannot be preloaded into another program).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static atomic_int calls;

__attribute__((visibility("default"))) int pthread_create(pthread_t *t, const pthread_attr_t *a,
							  void *(*start)(void *), void *arg)
{
	create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
	int n = atomic_fetch_add(&calls, 1) + 1;

	if (!real)
		return ENOSYS;
	if (n > 2 && n % 2 == 0)
		return EAGAIN;
	return real(t, a, start, arg);
}
