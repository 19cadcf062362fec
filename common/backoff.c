/* backoff: the wait before the next try to connect. See backoff.h. */
#include "backoff.h"

void fc_backoff_init(struct fc_backoff *b, uint64_t first_ns, uint64_t max_ns, uint64_t steady_ns)
{
	*b = (struct fc_backoff){
		.first_ns = first_ns,
		.max_ns = max_ns > first_ns ? max_ns : first_ns,
		.steady_ns = steady_ns,
		.wait_ns = first_ns,
	};
}

uint64_t fc_backoff_failed(struct fc_backoff *b)
{
	uint64_t wait = b->wait_ns;

	b->up = false;
	b->wait_ns = wait > b->max_ns / 2 ? b->max_ns : wait * 2;
	return wait;
}

void fc_backoff_up(struct fc_backoff *b, uint64_t now_ns)
{
	b->up = true;
	b->up_ns = now_ns;
}

uint64_t fc_backoff_down(struct fc_backoff *b, uint64_t now_ns)
{
	if (b->up && now_ns >= b->up_ns && now_ns - b->up_ns >= b->steady_ns)
		b->wait_ns = b->first_ns;
	return fc_backoff_failed(b);
}
