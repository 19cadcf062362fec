/* pace: the viewer's request window, chosen by probing for more frames accepted per second. See
 * pace.h for why. */
#include "pace.h"

/* A probe wins only when clearly better: 10% and half a frame a second more than home, so that
 * noise between two equal windows does not make the window wander. */
#define WIN_RATIO 1.10
#define WIN_FPS	  0.5
/* Epochs to wait after a probe won before the next. */
#define WAIT_AFTER_WIN 4u

void fc_pace_init(struct fc_pace *p, unsigned max)
{
	*p = (struct fc_pace){
		.max = max ? max : 1,
		.window = !max			? 1
			  : max < FC_PACE_START ? max
						: FC_PACE_START,
		.wait = 1,
	};
}

/* An epoch has ended with `rate` frames accepted per second at the current window. */
static void epoch_end(struct fc_pace *p, double rate, bool many_late)
{
	if (p->probing) {
		p->probing = false;
		p->since = 0;
		if (rate > p->home_rate * WIN_RATIO + WIN_FPS) {
			/* The link changed, or this is the first look at it: look around again
			 * soon, but not at once (going straight back would just lose again),
			 * except upwards on a long path, where the next step up may win too. */
			p->changes++;
			p->wait = p->window > p->home && p->window < p->max ? 1 : WAIT_AFTER_WIN;
			return;
		}
		/* Fewer lost with many late: the other cure is to be tried next, without
		 * waiting longer. */
		p->up_next = p->window < p->home && p->home < p->max;
		p->window = p->home;
		if (!p->up_next)
			p->wait = p->wait * 2 > FC_PACE_WAIT_MAX ? FC_PACE_WAIT_MAX : p->wait * 2;
		return;
	}
	p->home_rate = rate;
	if (++p->since < p->wait)
		return;
	/* Fewer in flight when many frames came late (queueing behind our own is one cause), unless
	 * fewer just lost; more when few did (the round trip may be what limits the rate). At the
	 * asked window with few late, there is nothing to win: fewer requests cannot bring more
	 * frames. */
	if (many_late && p->window > 1 && !p->up_next) {
		p->home = p->window--;
		p->probing = true;
	} else if ((!many_late || p->up_next) && p->window < p->max) {
		p->home = p->window++;
		p->probing = true;
	}
	p->up_next = false;
}

unsigned fc_pace_reply(struct fc_pace *p, bool accepted, uint64_t now_ns)
{
	if (p->max == 1)
		return 1;
	if (!p->epoch_start_ns)
		p->epoch_start_ns = now_ns;
	p->replies++;
	p->accepted += accepted;
	if (now_ns - p->epoch_start_ns >= FC_PACE_EPOCH_NS) {
		double secs = (double)(now_ns - p->epoch_start_ns) / 1e9;

		epoch_end(p, p->accepted / secs, 4 * (p->replies - p->accepted) > p->replies);
		p->epoch_start_ns = now_ns;
		p->replies = p->accepted = 0;
	}
	return p->window;
}
