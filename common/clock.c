#include "clock.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

uint64_t fc_clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * FC_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t fc_clock_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * FC_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void fc_clock_sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / FC_NS_PER_S),
		.tv_nsec = (long)(deadline_ns % FC_NS_PER_S),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int fc_clock_ms_until(uint64_t deadline_ns)
{
	uint64_t now = fc_clock_now_ns();
	uint64_t ms;

	if (deadline_ns <= now)
		return 0;
	/* Round up so that a poll() never wakes just before the deadline and spins. */
	ms = (deadline_ns - now + FC_NS_PER_MS - 1) / FC_NS_PER_MS;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

bool fc_clock_pair(uint64_t *mono, uint64_t *real)
{
	for (int i = 0; i < FC_CLOCK_PAIR_TRIES; i++) {
		uint64_t before = fc_clock_now_ns();
		uint64_t wall = fc_clock_real_ns();
		uint64_t after = fc_clock_now_ns();

		*mono = before;
		if (after - before <= FC_CLOCK_PAIR_SLACK_NS) {
			*real = wall;
			return true;
		}
	}
	*mono = fc_clock_now_ns();
	*real = 0;
	return false;
}
