#include "capture.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "growing.h"
#include "encoder.h"
#include "frame.h"
#include "log.h"
#include "mjpeg.h"
#include "pattern.h"
#include "photo.h"
#include "proto.h"
#include "rendition.h"

/* Frames kept for reuse: the slot's, one per session being sent, and the one being made. */
#define POOL_KEEP	8
#define REOPEN_EVERY_NS FC_NS_PER_S
/* A camera frame this old when dequeued is worth a word: no camera's readout takes so long. */
#define OLD_FRAME_NS FC_NS_PER_S

struct fc_capture {
	struct fc_capture_cfg cfg;
	struct fc_slot *slot;
	struct fc_encoder *encoder;
	struct fc_frame_pool *pool;
	struct fc_rendition *rend; /* the smaller rungs of each picture (ladder.h) */
	bool said_rendition;
	pthread_t thread;
	atomic_bool stop;

	/* The source: the pattern, a photo, or a camera. */
	struct fc_pattern *pattern;
	struct fc_photo *photo;
	struct fc_v4l2 *cam;
	struct fc_v4l2_info cam_info;
	bool said_clock;    /* the driver gives no monotonic timestamps */
	bool said_bad_time; /* a frame's timestamp could not be true */
	bool said_old;	    /* a frame was seconds old when dequeued */
	bool said_encode;
	/* --encoders auto: threads in use, at most threads_max, and the encode times of this second
	 * that decide (capture thread). */
	bool adapt;
	int threads;
	int threads_max;
	uint64_t adapt_start_ns;
	uint64_t adapt_sum_ns;
	uint64_t adapt_count;
	/* Broken camera frames: when the last was logged, and how many since (capture thread). */
	uint64_t broken_said_ns;
	uint64_t broken_unsaid;

	pthread_mutex_t stats_lock;
	struct fc_capture_stats stats;
};

static void count(struct fc_capture *c, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&c->stats_lock);
	*counter += n;
	pthread_mutex_unlock(&c->stats_lock);
}

/* A camera frame that cannot be passed on: counted, and its reason logged, at most once every
 * ten seconds with how many more there were, so that a camera sending nothing but broken frames
 * says why without flooding the console. */
static void broken_frame(struct fc_capture *c, const char *why)
{
	uint64_t now = fc_clock_now_ns();

	count(c, &c->stats.broken, 1);
	if (c->broken_said_ns && now - c->broken_said_ns < 10 * FC_NS_PER_S) {
		c->broken_unsaid++;
		return;
	}
	if (c->broken_unsaid)
		fc_warn("camera %s: broken frame dropped: %s (and %llu more since the last such "
			"message)",
			c->cfg.device, why, (unsigned long long)c->broken_unsaid);
	else
		fc_warn("camera %s: broken frame dropped: %s", c->cfg.device, why);
	c->broken_said_ns = now;
	c->broken_unsaid = 0;
}

/* The rungs to make of a picture of this size: the ones viewers want that fit it, without a
 * softer full-size copy of a camera's own JPEG (that would need a whole decode and encode). */
static uint32_t plan(struct fc_capture *c, int width, int height, bool jpeg)
{
	uint32_t want = fc_ladder_wanted(c->cfg.ladder);
	uint32_t mask = 1;

	for (int r = 1; r < c->cfg.ladder->count; r++)
		if (fc_ladder_fits(c->cfg.ladder, r, width, height) &&
		    !(jpeg && c->cfg.ladder->rung[r].shift == 0))
			mask |= 1u << r;
	return want & mask;
}

/* Publishes a picture's head frame (its full JPEG, or empty when only smaller rungs are
 * wanted), counts it (as encoded or passed through), then makes the other rungs planned. */
static void publish(struct fc_capture *c, struct fc_frame *f, uint64_t *kind,
		    const struct fc_rendition_src *src)
{
	uint64_t now = fc_clock_now_ns();
	uint64_t age = now > f->capture_ns ? now - f->capture_ns : 0;
	size_t size = f->size;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;
	char err[256];

	f->src_width = (uint16_t)src->width;
	f->src_height = (uint16_t)src->height;
	if (size)
		fc_ladder_learn(c->cfg.ladder, 0, size, f->seq);
	fc_frame_ref(f); /* ours, for the renditions: the slot may replace it any time */
	fc_slot_publish(c->slot, f);
	pthread_mutex_lock(&c->stats_lock);
	if (kind)
		(*kind)++;
	c->stats.bytes += size;
	fc_hist_add(&c->stats.publish, age);
	pthread_mutex_unlock(&c->stats_lock);
	if (f->planned & ~1u) {
		if (fc_rendition_make(c->rend, c->encoder, f, src, c->slot, &busy, &made, &failed,
				      err, sizeof(err)) < 0 &&
		    !c->said_rendition) {
			fc_warn("%s; that size is left out, its viewers get another (counted as "
				"rendition_failed)",
				err);
			c->said_rendition = true;
		}
		fc_encoder_set_quality(c->encoder, c->cfg.quality);
		pthread_mutex_lock(&c->stats_lock);
		c->stats.renditions += made;
		c->stats.rendition_failed += failed;
		fc_hist_add(&c->stats.rendition, busy);
		pthread_mutex_unlock(&c->stats_lock);
	}
	fc_frame_unref(f);
}

/* The frame period the source keeps to, in ns. */
static uint64_t period_ns(const struct fc_capture *c)
{
	int fps_milli = c->cam ? c->cam_info.got.fps_milli : c->cfg.fps_milli;

	return fps_milli > 0 ? 1000ull * FC_NS_PER_S / (uint64_t)fps_milli : FC_NS_PER_S;
}

/*
 * --encoders auto: more threads only when one cannot keep up, since each costs a little CPU
 * (its wake-up, its band's headers) and buys nothing while frames are done well within their
 * period: one thread more when encoding takes over 3/4 of the period (frames would wait, or the
 * rate drop); one fewer when the work, spread over one fewer, would still take under half of it.
 */
int fc_capture_encoders_next(uint64_t mean_ns, uint64_t period_ns, int threads, int max)
{
	if (mean_ns * 4 > period_ns * 3 && threads < max)
		return threads + 1;
	if (threads > 1 && mean_ns * (uint64_t)threads / (uint64_t)(threads - 1) * 2 < period_ns)
		return threads - 1;
	return threads;
}

/* Once a second, from that second's mean encode time, the rule above. */
static void adapt_threads(struct fc_capture *c, uint64_t encode_ns, uint64_t now)
{
	uint64_t period = period_ns(c), mean;
	int want;

	if (!c->adapt)
		return;
	if (!c->adapt_start_ns)
		c->adapt_start_ns = now;
	c->adapt_sum_ns += encode_ns;
	c->adapt_count++;
	if (now - c->adapt_start_ns < FC_NS_PER_S)
		return;
	mean = c->adapt_sum_ns / c->adapt_count;
	want = fc_capture_encoders_next(mean, period, c->threads, c->threads_max);
	if (want != c->threads) {
		c->threads = fc_encoder_use_threads(c->encoder, want);
		fc_info("encoding on %d thread%s: a frame took %.1f ms of its %.1f ms", c->threads,
			c->threads > 1 ? "s" : "", mean / 1e6, period / 1e6);
	}
	c->adapt_start_ns = now;
	c->adapt_sum_ns = 0;
	c->adapt_count = 0;
}

/* What to encode: planes (the pattern, a photo) or a camera's packed YUYV. */
struct picture {
	const struct fc_image *img;
	const uint8_t *yuyv;
	size_t yuyv_stride;
	int width;
	int height;
};

/* The fields of a picture's head frame, set before its encode: a session may send them while
 * the frame is still being encoded (growing.h). */
static void describe(struct fc_capture *c, struct fc_frame *f, const struct picture *pic,
		     uint64_t seq, uint64_t capture_ns, uint32_t planned)
{
	f->seq = seq;
	f->capture_ns = capture_ns;
	f->width = f->src_width = (uint16_t)pic->width;
	f->height = f->src_height = (uint16_t)pic->height;
	f->quality = (uint8_t)c->cfg.quality;
	f->planned = planned;
}

/* Encodes a picture's full JPEG into a pooled frame (when a viewer wants it), shown to the
 * sessions that follow growing frames while it is encoded, publishes it, and makes the other
 * rungs wanted. */
static void publish_encoded(struct fc_capture *c, const struct picture *pic, uint64_t seq,
			    uint64_t capture_ns)
{
	enum fc_subsamp subsamp = pic->img ? pic->img->subsamp : FC_SUBSAMP_420;
	uint32_t planned = plan(c, pic->width, pic->height, false);
	size_t cap = planned & 1u ? fc_encoder_bound(pic->width, pic->height, subsamp) : 0;
	struct fc_frame *f = planned & 1u && !cap ? NULL : fc_frame_get(c->pool, cap);
	struct fc_rendition_src src = { .img = pic->img,
					.yuyv = pic->yuyv,
					.yuyv_stride = pic->yuyv_stride,
					.width = pic->width,
					.height = pic->height };
	struct fc_growing g = { 0 };
	size_t size = 0;
	uint64_t t0 = fc_clock_now_ns(), t1;
	int rc = f ? 0 : -1;

	if (f)
		describe(c, f, pic, seq, capture_ns, planned);
	if (f && (planned & 1u))
		fc_growing_begin(&g, c->slot, c->encoder, f);
	if (f && (planned & 1u) && pic->img)
		rc = fc_encoder_encode(c->encoder, pic->img, f->data, f->cap, &size);
	else if (f && (planned & 1u))
		rc = fc_encoder_encode_yuyv(c->encoder, pic->yuyv, pic->yuyv_stride, pic->width,
					    pic->height, f->data, f->cap, &size);
	t1 = fc_clock_now_ns();
	if (rc == 0) {
		f->size = size;
		f->done_ns = t1;
	}
	fc_growing_end(&g, rc == 0);
	if (rc < 0) {
		if (!c->said_encode)
			fc_error("%s; counting such failures from now on",
				 f ? fc_encoder_error(c->encoder) : "out of memory for a frame");
		c->said_encode = true;
		fc_frame_unref(f);
		count(c, &c->stats.failed, 1);
		return;
	}
	if (planned & 1u) {
		pthread_mutex_lock(&c->stats_lock);
		fc_hist_add(&c->stats.encode, t1 - t0);
		pthread_mutex_unlock(&c->stats_lock);
		adapt_threads(c, t1 - t0, t1);
	}
	publish(c, f, planned & 1u ? &c->stats.encoded : NULL, &src);
}

/* ---- the test pattern or a photo ----------------------------------------------------------- */

static void pattern_loop(struct fc_capture *c)
{
	uint64_t period = 1000ull * FC_NS_PER_S / (uint64_t)c->cfg.fps_milli;
	uint64_t next = fc_clock_now_ns();

	for (uint64_t seq = 1; !atomic_load(&c->stop); seq++) {
		struct fc_image img;
		uint64_t t, now;

		/* In slices, so that a slow rate (--fps 0.1) does not delay a stop by a period. */
		while (!atomic_load(&c->stop) && fc_clock_now_ns() < next)
			fc_clock_sleep_until(next < fc_clock_now_ns() + 50 * FC_NS_PER_MS
						 ? next
						 : fc_clock_now_ns() + 50 * FC_NS_PER_MS);
		if (atomic_load(&c->stop))
			break;
		t = fc_clock_now_ns();
		if (c->photo)
			fc_photo_draw(c->photo, seq, t, &img);
		else
			fc_pattern_draw(c->pattern, seq, t, &img);
		count(c, &c->stats.captured, 1);
		publish_encoded(
		    c, &(struct picture){ .img = &img, .width = img.width, .height = img.height },
		    seq, t);
		/* Keep to the schedule; after an overrun start afresh rather than burst to catch
		 * up: a burst only makes frames nobody will take. */
		next += period;
		now = fc_clock_now_ns();
		if (next + period < now) {
			count(c, &c->stats.behind, (now - next) / period);
			next = now;
		}
	}
}

/* ---- a camera ------------------------------------------------------------------------------ */

static int open_camera(struct fc_capture *c, enum fc_v4l2_failure *why, char *err, size_t errlen)
{
	struct fc_v4l2_cfg vc = {
		.path = c->cfg.device,
		.want = c->cfg.want,
		.width = c->cfg.width,
		.height = c->cfg.height,
		.fps_milli = c->cfg.fps_milli,
		.buffers = 4,
	};

	c->cam = fc_v4l2_open(&vc, &c->cam_info, why, err, errlen);
	return c->cam ? 0 : -1;
}

/*
 * Whether a camera frame's age can be known, saying once per kind what is wrong with its time.
 * A frame whose stamp cannot be true is dropped and counted (bad_time): it could pass for a new
 * one, and as a stale notice it would carry an age made up here. A stamp seconds old is the
 * frame's true age: it goes out as what it is, too old, and each viewer gets a stale notice.
 */
static bool time_known(struct fc_capture *c, const struct fc_v4l2_frame *vf)
{
	if (vf->time == FC_V4L2_TIME_BAD) {
		count(c, &c->stats.bad_time, 1);
		if (!c->said_bad_time)
			fc_warn("camera %s: a frame's timestamp is %s, under the driver's "
				"CLOCK_MONOTONIC flag: its age cannot be known, so such frames are "
				"dropped, never shown as new (counted as bad_timestamp)",
				c->cfg.device,
				vf->capture_ns ? "later than the moment it was dequeued" : "zero");
		c->said_bad_time = true;
		return false;
	}
	if (vf->time == FC_V4L2_TIME_DEQUEUE && !c->said_clock) {
		fc_warn("%s gives no monotonic timestamps: ages count from when frames are "
			"dequeued, so they leave out the camera's own readout",
			c->cfg.device);
		c->said_clock = true;
	}
	if (vf->time == FC_V4L2_TIME_DRIVER && !c->said_old &&
	    vf->dequeue_ns - vf->capture_ns >= OLD_FRAME_NS) {
		fc_warn(
		    "camera %s: a frame was already %.1f s old when dequeued, by its driver's "
		    "timestamp: such frames go out as too old, never as new (if every frame is, "
		    "the driver's clock is not CLOCK_MONOTONIC)",
		    c->cfg.device, (double)(vf->dequeue_ns - vf->capture_ns) / 1e9);
		c->said_old = true;
	}
	return true;
}

/* Makes and publishes the frame for one camera buffer. */
static void camera_frame(struct fc_capture *c, const struct fc_v4l2_frame *vf)
{
	int w = c->cam_info.got.width;
	int h = c->cam_info.got.height;
	uint64_t seq = fc_slot_seq(c->slot) + 1;

	if (!time_known(c, vf))
		return;
	if (c->cam_info.got.fourcc == V4L2_PIX_FMT_YUYV) {
		/* Rows may be padded: the driver's bytesperline, at least two bytes a pixel. */
		size_t bpl = c->cam_info.got.bytesperline >= w * 2
				 ? (size_t)c->cam_info.got.bytesperline
				 : (size_t)w * 2;
		struct picture pic = {
			.yuyv = vf->data, .yuyv_stride = bpl, .width = w, .height = h
		};

		if (vf->size < bpl * (size_t)(h - 1) + (size_t)w * 2) {
			char why[96];

			snprintf(why, sizeof(why), "YUYV frame of %zu bytes, %dx%d needs %zu",
				 vf->size, w, h, bpl * (size_t)(h - 1) + (size_t)w * 2);
			broken_frame(c, why);
			return;
		}
		publish_encoded(c, &pic, seq, vf->capture_ns);
		return;
	}

	/* MJPEG: checked, repaired if it lacks Huffman tables, passed through: one copy, out of
	 * the driver's buffer so that it can go back at once. */
	char why[160];
	struct fc_rendition_src src;
	struct fc_frame *f;
	int jw = 0;
	int jh = 0;
	/* The JPEG's own size is what the viewer will decode; the frame is labelled with it. */
	size_t n = fc_mjpeg_judge(vf->data, vf->size, FC_PROTO_MAX_DIM, FC_PROTO_MAX_PIXELS,
				  FC_PROTO_MAX_JPEG, &jw, &jh, why, sizeof(why));

	if (!n) {
		broken_frame(c, why);
		return;
	}
	/* The camera's bytes, repaired, are the full rung; the smaller ones are decoded from
	 * them (a JPEG without its tables decodes with the inserted ones). */
	f = fc_frame_get(c->pool, n + FC_MJPEG_DHT_SIZE);
	if (!f) {
		count(c, &c->stats.failed, 1);
		return;
	}
	if (fc_mjpeg_has_dht(vf->data, n)) {
		memcpy(f->data, vf->data, n);
		f->size = n;
	} else {
		f->size = fc_mjpeg_insert_dht(vf->data, n, f->data, f->cap);
	}
	if (!f->size) {
		fc_frame_unref(f);
		count(c, &c->stats.broken, 1);
		return;
	}
	f->seq = seq;
	f->capture_ns = vf->capture_ns;
	f->width = (uint16_t)jw;
	f->height = (uint16_t)jh;
	f->planned = plan(c, jw, jh, true);
	src = (struct fc_rendition_src){
		.jpeg = f->data, .jpeg_size = f->size, .width = jw, .height = jh
	};
	publish(c, f, &c->stats.passed, &src);
}

/* The camera went away: tell the viewers, then try again every second until it is back. */
static void camera_lost(struct fc_capture *c, const char *reason)
{
	char text[FC_PROTO_MAX_TEXT + 1];
	char err[512];
	char last_err[512] = "";
	enum fc_v4l2_failure why;

	fc_v4l2_close(c->cam);
	c->cam = NULL;
	count(c, &c->stats.lost_events, 1);
	snprintf(text, sizeof(text), "camera %.60s lost (%.100s); retrying every second",
		 c->cfg.device, reason);
	/* The text goes on the wire, which takes printable ASCII only (a path could hold more). */
	for (char *t = text; *t; t++)
		if (*t < 0x20 || *t > 0x7e)
			*t = '?';
	fc_warn("%s", text);
	fc_slot_set_source(c->slot, FC_SOURCE_LOST, text);
	while (!atomic_load(&c->stop)) {
		uint64_t next = fc_clock_now_ns() + REOPEN_EVERY_NS;

		while (!atomic_load(&c->stop) && fc_clock_now_ns() < next)
			fc_clock_sleep_until(fc_clock_now_ns() + 50 * FC_NS_PER_MS);
		if (atomic_load(&c->stop))
			return;
		if (open_camera(c, &why, err, sizeof(err)) < 0) {
			/* Say why it cannot come back (busy, another camera there...), once per
			 * change, not once a second. */
			if (strcmp(err, last_err) != 0 && why != FC_V4L2_FAIL_MISSING)
				fc_warn("%s", err);
			snprintf(last_err, sizeof(last_err), "%s", err);
			continue;
		}
		snprintf(text, sizeof(text), "camera back: %dx%d at %.3g fps",
			 c->cam_info.got.width, c->cam_info.got.height,
			 c->cam_info.got.fps_milli / 1000.0);
		fc_info("%s", text);
		/* Perhaps another size, or the same scene no more: sizes are learnt afresh. */
		fc_ladder_forget(c->cfg.ladder);
		fc_slot_set_source(c->slot, FC_SOURCE_LIVE, text);
		return;
	}
}

static void camera_loop(struct fc_capture *c)
{
	char err[512];

	while (!atomic_load(&c->stop)) {
		struct pollfd pfd = { .fd = fc_v4l2_fd(c->cam), .events = POLLIN };
		struct fc_v4l2_frame vf;
		int rc =
		    poll(&pfd, 1, 200); /* bounded: the stop flag is looked at 5 times a second */

		if (rc < 0 && errno != EINTR) {
			camera_lost(c, strerror(errno));
			continue;
		}
		if (rc <= 0)
			continue;
		rc = fc_v4l2_grab(c->cam, &vf, err, sizeof(err));
		if (rc < 0 || (rc == 0 && (pfd.revents & (POLLERR | POLLHUP)))) {
			camera_lost(c, rc < 0 ? err : "the device stopped answering");
			continue;
		}
		if (rc == 0)
			continue;
		pthread_mutex_lock(&c->stats_lock);
		c->stats.captured++;
		c->stats.dropped += vf.skipped + vf.lost;
		pthread_mutex_unlock(&c->stats_lock);
		camera_frame(c, &vf);
		if (fc_v4l2_release(c->cam, &vf, err, sizeof(err)) < 0)
			camera_lost(c, err);
	}
}

static void *capture_main(void *arg)
{
	struct fc_capture *c = arg;

	pthread_setname_np(pthread_self(), "fc-capture");
	if (c->cam)
		camera_loop(c);
	else
		pattern_loop(c);
	return NULL;
}

static void capture_free(struct fc_capture *c)
{
	fc_v4l2_close(c->cam);
	fc_encoder_free(c->encoder);
	fc_pattern_free(c->pattern);
	fc_photo_free(c->photo);
	fc_rendition_free(c->rend);
	fc_frame_pool_release(c->pool);
	pthread_mutex_destroy(&c->stats_lock);
	free(c);
}

/* --encoders auto: at most a band per core, up to 4 (beyond, a 1280x720 band is too thin to be
 * worth a thread's wake-up). */
static int auto_encoders(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

struct fc_capture *fc_capture_start(const struct fc_capture_cfg *cfg, struct fc_slot *slot,
				    struct fc_capture_info *info, enum fc_v4l2_failure *why,
				    char *err, size_t errlen)
{
	struct fc_capture *c = calloc(1, sizeof(*c));
	char f[5];
	int rc;

	*why = FC_V4L2_FAIL_OTHER;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->stats_lock, NULL);
	fc_hist_reset(&c->stats.publish);
	fc_hist_reset(&c->stats.encode);
	fc_hist_reset(&c->stats.rendition);
	c->cfg = *cfg;
	c->slot = slot;
	c->pool = fc_frame_pool_new(POOL_KEEP);
	if (!c->pool) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->device) {
		if (open_camera(c, why, err, errlen) < 0)
			goto fail;
		info->width = c->cam_info.got.width;
		info->height = c->cam_info.got.height;
		info->fps_milli = c->cam_info.got.fps_milli;
		snprintf(info->source, sizeof(info->source), "%s (%s): %s %s", cfg->device,
			 c->cam_info.card, fc_v4l2_fourcc_str(c->cam_info.got.fourcc, f),
			 c->cam_info.got.fourcc == V4L2_PIX_FMT_MJPEG
			     ? "passed through"
			     : "encoded at the quality asked");
		fc_slot_set_source(slot, FC_SOURCE_LIVE, "camera streaming");
	} else {
		if (cfg->photo)
			c->photo = fc_photo_new(cfg->photo, cfg->width, cfg->height, err, errlen);
		else
			c->pattern = fc_pattern_new(cfg->width, cfg->height, err, errlen);
		if (!c->pattern && !c->photo)
			goto fail;
		info->width = cfg->width;
		info->height = cfg->height;
		info->fps_milli = cfg->fps_milli;
		snprintf(info->source, sizeof(info->source), "%s%.140s",
			 cfg->photo ? "photo " : "test pattern", cfg->photo ? cfg->photo : "");
	}
	/* A camera's own MJPEG is passed through: the encoder is there for a camera that comes
	 * back in YUYV. */
	c->threads_max = cfg->encoders > 0 ? cfg->encoders : auto_encoders();
	c->encoder = fc_encoder_new(cfg->quality, c->threads_max, err, errlen);
	if (!c->encoder)
		goto fail;
	c->adapt = cfg->encoders == 0 && c->threads_max > 1;
	c->threads = fc_encoder_use_threads(c->encoder, c->adapt ? 1 : c->threads_max);
	info->encoders = c->cam && c->cam_info.got.fourcc == V4L2_PIX_FMT_MJPEG ? 0 : c->threads;
	fc_ladder_init(cfg->ladder, cfg->quality,
		       c->cam && c->cam_info.got.fourcc == V4L2_PIX_FMT_MJPEG, cfg->renditions);
	c->rend = fc_rendition_new(cfg->ladder);
	if (!c->rend) {
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
	fc_hist_reset(&c->stats.publish);
	fc_hist_reset(&c->stats.encode);
	fc_hist_reset(&c->stats.rendition);
	pthread_mutex_unlock(&c->stats_lock);
}
