#include "capture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "encoder.h"
#include "frame.h"
#include "pattern.h"

/* Frames kept for reuse: the slot's, one per session being sent, and the one being encoded. */
#define POOL_KEEP 8

struct fc_capture {
	struct fc_capture_cfg cfg;
	struct fc_slot *slot;
	struct fc_pattern *pattern;
	struct fc_encoder *encoder;
	struct fc_frame_pool *pool;
	size_t frame_cap;
	pthread_t thread;
	atomic_bool stop;

	pthread_mutex_t stats_lock;
	struct fc_capture_stats stats;
};

/* Takes, encodes and publishes one picture. Returns false when the frame could not be made. */
static bool capture_one(struct fc_capture *c, uint64_t seq)
{
	uint64_t t_capture = fc_clock_now_ns();
	struct fc_image img;
	struct fc_frame *f;
	uint64_t t_encoded;
	size_t size = 0;
	int rc;

	fc_pattern_draw(c->pattern, seq, t_capture, &img);
	f = fc_frame_get(c->pool, c->frame_cap);
	if (!f)
		return false;
	rc = fc_encoder_encode(c->encoder, &img, f->data, f->cap, &size);
	t_encoded = fc_clock_now_ns();
	if (rc < 0) {
		fc_frame_unref(f);
		return false;
	}
	f->size = size;
	f->seq = seq;
	f->capture_ns = t_capture;
	f->width = (uint16_t)img.width;
	f->height = (uint16_t)img.height;
	fc_slot_publish(c->slot, f);

	pthread_mutex_lock(&c->stats_lock);
	c->stats.captured++;
	c->stats.encoded++;
	c->stats.bytes += size;
	fc_hist_add(&c->stats.encode, t_encoded - t_capture);
	pthread_mutex_unlock(&c->stats_lock);
	return true;
}

static void *capture_main(void *arg)
{
	struct fc_capture *c = arg;
	uint64_t period = 1000ull * FC_NS_PER_S / (uint64_t)c->cfg.fps_milli;
	uint64_t next = fc_clock_now_ns();

	pthread_setname_np(pthread_self(), "fc-capture");
	for (uint64_t seq = 1; !atomic_load(&c->stop); seq++) {
		uint64_t now;

		fc_clock_sleep_until(next);
		if (!capture_one(c, seq)) {
			pthread_mutex_lock(&c->stats_lock);
			c->stats.failed++;
			pthread_mutex_unlock(&c->stats_lock);
		}
		/* Keep to the schedule; if a frame overran its period, start afresh rather than
		 * burst to catch up: a burst only makes frames nobody will take. */
		next += period;
		now = fc_clock_now_ns();
		if (next + period < now) {
			pthread_mutex_lock(&c->stats_lock);
			c->stats.behind += (now - next) / period;
			pthread_mutex_unlock(&c->stats_lock);
			next = now;
		}
	}
	return NULL;
}

static void capture_free(struct fc_capture *c)
{
	fc_encoder_free(c->encoder);
	fc_pattern_free(c->pattern);
	fc_frame_pool_release(c->pool);
	pthread_mutex_destroy(&c->stats_lock);
	free(c);
}

struct fc_capture *fc_capture_start(const struct fc_capture_cfg *cfg, struct fc_slot *slot,
				    char *err, size_t errlen)
{
	struct fc_capture *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->stats_lock, NULL);
	fc_hist_reset(&c->stats.encode);
	c->cfg = *cfg;
	c->slot = slot;
	c->pattern = fc_pattern_new(cfg->width, cfg->height, err, errlen);
	if (!c->pattern)
		goto fail;
	c->encoder = fc_encoder_new(cfg->quality, err, errlen);
	if (!c->encoder)
		goto fail;
	c->pool = fc_frame_pool_new(POOL_KEEP);
	c->frame_cap = fc_encoder_bound(cfg->width, cfg->height, FC_SUBSAMP_420);
	if (!c->pool || c->frame_cap == 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = pthread_create(&c->thread, NULL, capture_main, c);
	if (rc) {
		snprintf(err, errlen, "cannot start the capture thread: %s", strerror(rc));
		goto fail;
	}
	return c;
fail:
	capture_free(c);
	return NULL;
}

void fc_capture_stop(struct fc_capture *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	fc_slot_close(c->slot);
	capture_free(c);
}

void fc_capture_stats(struct fc_capture *c, struct fc_capture_stats *out)
{
	pthread_mutex_lock(&c->stats_lock);
	*out = c->stats;
	fc_hist_reset(&c->stats.encode);
	pthread_mutex_unlock(&c->stats_lock);
}
