#include "growing.h"

#include <stdatomic.h>

static void grew(void *arg, size_t n)
{
	struct fc_growing *g = arg;

	atomic_store_explicit(&g->f->avail, n, memory_order_release);
	if (n - g->poked >= FC_GROWING_STEP) {
		g->poked = n;
		fc_slot_poke(g->slot);
	}
}

void fc_growing_begin(struct fc_growing *g, struct fc_slot *slot, struct fc_encoder *enc,
		      struct fc_frame *f)
{
	*g = (struct fc_growing){ 0 };
	if (fc_slot_followers(slot) <= 0)
		return;
	*g = (struct fc_growing){ .slot = slot, .f = f, .enc = enc };
	atomic_store_explicit(&f->growth, FC_FRAME_GROWING, memory_order_release);
	fc_encoder_follow(enc, grew, g);
	fc_slot_begin(slot, f);
}

void fc_growing_end(struct fc_growing *g, bool ok)
{
	if (!g->f)
		return;
	fc_encoder_follow(g->enc, NULL, NULL);
	if (ok) {
		/* size and done_ns were written before: the release makes them visible with it. */
		atomic_store_explicit(&g->f->avail, g->f->size, memory_order_release);
		atomic_store_explicit(&g->f->growth, FC_FRAME_WHOLE, memory_order_release);
	} else {
		atomic_store_explicit(&g->f->growth, FC_FRAME_FAILED, memory_order_release);
		fc_slot_end(g->slot, g->f);
	}
	g->f = NULL;
}
