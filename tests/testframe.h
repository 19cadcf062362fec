/*
 * testframe: a picture published into a slot by a test, as the capture thread would publish one
 * (64x48, quality 80, the full rendition planned), for the tests that drive sessions and the
 * server without a camera (test_session.c, test_server.c). Header-only; each test owns its pool
 * and slot.
 */
#ifndef FC_TESTFRAME_H
#define FC_TESTFRAME_H

#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "slot.h"

/* Publishes picture seq of `bytes` bytes (each 0xab), captured at capture_ns. */
static inline void fc_test_publish(struct fc_frame_pool *pool, struct fc_slot *slot, size_t bytes,
				   uint64_t seq, uint64_t capture_ns)
{
	struct fc_frame *f = fc_frame_get(pool, bytes);

	assert_non_null(f);
	memset(f->data, 0xab, bytes);
	f->size = bytes;
	f->seq = seq;
	f->capture_ns = capture_ns;
	f->width = f->src_width = 64;
	f->height = f->src_height = 48;
	f->quality = 80;
	f->planned = 1;
	fc_slot_publish(slot, f);
}

#endif
