#include "follow.h"

#include <stdatomic.h>
#include <stdlib.h>

int fc_follow_init(struct fc_follow *fl, char *err, size_t errlen)
{
	*fl = (struct fc_follow){ 0 };
	fl->dec = fc_partdec_new(err, errlen);
	return fl->dec ? 0 : -1;
}

void fc_follow_free(struct fc_follow *fl)
{
	fc_follow_drop(fl);
	fc_partdec_free(fl->dec);
	fl->dec = NULL;
}

void fc_follow_drop(struct fc_follow *fl)
{
	if (!fl->f)
		return;
	fc_partdec_abort(fl->dec);
	fc_frame_unref(fl->f);
	fl->f = NULL;
	fl->discarded++;
}

/* Feeds the bytes that came since the last feed, up to `upto`. A refusal is remembered: the
 * frame is then decoded whole if published, so that its error is said as for a FRAME. */
static void feed(struct fc_follow *fl, size_t upto)
{
	if (upto <= fl->fed || fl->failed)
		return;
	if (fc_partdec_feed(fl->dec, fl->f->data + fl->fed, upto - fl->fed) < 0)
		fl->failed = true;
	fl->fed = upto;
}

void fc_follow_step(struct fc_follow *fl, struct fc_slot *slot, uint64_t after_seq)
{
	struct fc_frame *g = fc_slot_get_growing(slot, fl->f ? fl->f->seq : after_seq);
	int growth;

	if (g) { /* a newer frame began: the one followed ended before it, one way or another */
		fc_follow_drop(fl);
		fl->f = g;
		fl->fed = 0;
		fl->followed++;
		fl->failed = fc_partdec_begin(fl->dec, g->width, g->height) < 0;
	}
	if (!fl->f)
		return;
	growth = atomic_load_explicit(&fl->f->growth, memory_order_acquire);
	if (growth == FC_FRAME_FAILED) {
		fc_follow_drop(fl);
		return;
	}
	/* Whole: published or about to be; fc_follow_picture feeds the rest. */
	if (growth == FC_FRAME_GROWING)
		feed(fl, atomic_load_explicit(&fl->f->avail, memory_order_acquire));
}

/* Stops following f without counting it: it reached the screen's decode. */
static void let_go(struct fc_follow *fl)
{
	fc_partdec_abort(fl->dec);
	fc_frame_unref(fl->f);
	fl->f = NULL;
}

int fc_follow_picture(struct fc_follow *fl, struct fc_decoder *d, struct fc_frame *f,
		      struct fc_picture *pic, const char **why)
{
	if (fl->f != f || fl->failed) {
		/* Refused in parts: the whole decoder says why. An older frame followed ended
		 * before this one; a newer one (a FRAME is never newer) is kept. */
		if (fl->f == f)
			let_go(fl);
		else if (fl->f && fl->f->seq < f->seq)
			fc_follow_drop(fl);
		if (fc_decoder_decode(d, f->data, f->size, f->width, f->height, pic) == 0)
			return 0;
		*why = fc_decoder_error(d);
		return -1;
	}
	feed(fl, f->size);
	fc_frame_unref(fl->f); /* the caller holds f too */
	fl->f = NULL;
	if (!fl->failed && fc_partdec_finish(fl->dec, pic) == 0) {
		fl->decoded++;
		return 0;
	}
	*why = fc_partdec_error(fl->dec);
	fc_partdec_abort(fl->dec);
	return -1;
}
