/*
 * clockshim: an LD_PRELOAD library that makes one process's clocks wrong on purpose, so that
 * freshcam's clock handling can be tested and measured on one host (README.md):
 *
 *   FC_CLOCKSHIM_PPM=N        CLOCK_MONOTONIC runs N ppm fast (negative: slow) from ...
 *   FC_CLOCKSHIM_ORIGIN_NS=T  ... the true monotonic time T (default: when the library loads),
 *                             so that a test knows the mapping: skewed = T + (true - T)(1 + N/1e6)
 *   FC_CLOCKSHIM_REAL_MS=M    CLOCK_REALTIME reads M ms ahead (negative: behind)
 *   FC_CLOCKSHIM_STALL_MS=M   every other CLOCK_REALTIME read waits M ms first, as a thread
 *                             preempted between reading its two clocks on a loaded machine
 *
 * clock_gettime is wrapped, and clock_nanosleep with an absolute CLOCK_MONOTONIC deadline maps
 * the deadline back to the true clock, so that a program's sleeps last as long as its own clock
 * says they should. Calls libc makes internally (timed waits on condition variables) are not
 * seen; freshcam-send sleeps through clock_nanosleep and polls with relative timeouts.
 * A setting that does not parse aborts the process with a message: a test must not run on a
 * clock it did not ask for.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define API __attribute__((visibility("default")))

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

static gettime_fn real_gettime;
static nanosleep_fn real_nanosleep;
static double ppm;
static int64_t origin_ns;
static int64_t real_offset_ns;
static int64_t stall_ns;
static unsigned long real_reads;

static int64_t to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static struct timespec from_ns(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

static double env_number(const char *name, double fallback)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return fallback;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end) {
		fprintf(stderr, "clockshim: %s='%s' is not a number\n", name, s);
		abort();
	}
	return v;
}

__attribute__((constructor)) static void clockshim_init(void)
{
	struct timespec now;

	real_gettime = (gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
	real_nanosleep = (nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
	if (!real_gettime || !real_nanosleep) {
		fprintf(stderr, "clockshim: cannot find libc's clock functions\n");
		abort();
	}
	real_gettime(CLOCK_MONOTONIC, &now);
	ppm = env_number("FC_CLOCKSHIM_PPM", 0);
	origin_ns = (int64_t)env_number("FC_CLOCKSHIM_ORIGIN_NS", (double)to_ns(&now));
	real_offset_ns = (int64_t)(env_number("FC_CLOCKSHIM_REAL_MS", 0) * 1e6);
	stall_ns = (int64_t)(env_number("FC_CLOCKSHIM_STALL_MS", 0) * 1e6);
}

API int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc;

	if (id == CLOCK_REALTIME && stall_ns > 0 &&
	    __atomic_fetch_add(&real_reads, 1, __ATOMIC_RELAXED) % 2) {
		struct timespec stall = from_ns(stall_ns);

		real_nanosleep(CLOCK_MONOTONIC, 0, &stall, NULL);
	}
	rc = real_gettime(id, ts);

	if (rc != 0)
		return rc;
	if (id == CLOCK_MONOTONIC && ppm != 0) {
		int64_t t = to_ns(ts);

		*ts = from_ns(origin_ns + (int64_t)((double)(t - origin_ns) * (1 + ppm * 1e-6)));
	} else if (id == CLOCK_REALTIME && real_offset_ns != 0) {
		*ts = from_ns(to_ns(ts) + real_offset_ns);
	}
	return 0;
}

API int clock_nanosleep(clockid_t id, int flags, const struct timespec *req, struct timespec *rem)
{
	struct timespec mapped;

	if (id == CLOCK_MONOTONIC && (flags & TIMER_ABSTIME) && ppm != 0) {
		int64_t t = to_ns(req);

		mapped = from_ns(origin_ns + (int64_t)((double)(t - origin_ns) / (1 + ppm * 1e-6)));
		req = &mapped;
	}
	return real_nanosleep(id, flags, req, rem);
}
