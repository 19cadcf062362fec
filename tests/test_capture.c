/* Tests of sender/capture/capture.c: the capture thread publishing into the slot, from the test pattern
 * and from a camera played by this test. As in test_v4l2.c, every ioctl goes through
 * fc_v4l2_xioctl, which the build wraps (-Wl,--wrap) so that __wrap_fc_v4l2_xioctl below answers;
 * the device node is a temporary file, so open() and mmap() are real. The played camera delivers
 * a frame whenever 10 ms have passed since its last one; the tests wait for what the capture
 * does with them (with generous deadlines) and never time it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/videodev2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "frame.h"
#include "ladder.h"
#include "proto.h"
#include "slot.h"

#define CAM_W	64
#define CAM_H	48
#define PAT_W	128 /* the smallest test pattern: its stamp needs 128 cells */
#define PAT_H	64
#define BUF_LEN 8192 /* at least CAM_W * CAM_H * 2, a YUYV picture */
#define NBUF	4
#define WAIT_NS (10 * FC_NS_PER_S)

/* ---- the played camera ------------------------------------------------------------------ */

enum stamp { STAMP_NOW, STAMP_OLD, STAMP_FUTURE };

static struct mock {
	pthread_mutex_t lock; /* the capture thread and the test both use it */
	bool unplugged;	      /* every ioctl fails with ENODEV, as after an unplug */
	enum stamp stamp;     /* the timestamps the next frames get */
	uint32_t queued[NBUF];
	int nqueued;
	uint32_t sequence;
	uint64_t last_ns;    /* when the last frame was delivered */
	uint64_t last_ts_ns; /* and its timestamp */
	unsigned delivered;
} m = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int fail_with(int e)
{
	errno = e;
	return -1;
}

/* A frame is ready once 10 ms have passed since the last; none: a short nap, then EAGAIN, so
 * that the capture loop (whose poll() on a plain file returns at once) does not spin. */
static int dequeue(struct v4l2_buffer *b)
{
	uint64_t now = fc_clock_now_ns();

	if (m.nqueued == 0 || now - m.last_ns < 10 * FC_NS_PER_MS) {
		pthread_mutex_unlock(&m.lock);
		usleep(2000);
		pthread_mutex_lock(&m.lock);
		return fail_with(EAGAIN);
	}
	m.last_ns = now;
	m.last_ts_ns = m.stamp == STAMP_OLD	 ? now - 10 * FC_NS_PER_S
		       : m.stamp == STAMP_FUTURE ? now + 60 * FC_NS_PER_S
						 : now;
	b->index = m.queued[0];
	memmove(m.queued, m.queued + 1, sizeof(m.queued[0]) * (size_t)--m.nqueued);
	b->sequence = m.sequence++;
	b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
	b->bytesused = CAM_W * CAM_H * 2;
	b->timestamp.tv_sec = (time_t)(m.last_ts_ns / FC_NS_PER_S);
	b->timestamp.tv_usec = (suseconds_t)(m.last_ts_ns % FC_NS_PER_S / 1000);
	m.delivered++;
	return 0;
}

/* The format and buffer ioctls: a YUYV camera of one size at 100 fps. */
static int setup_ioctl(unsigned long request, void *arg)
{
	switch (request) {
	case VIDIOC_QUERYCAP: {
		struct v4l2_capability *c = arg;

		memset(c, 0, sizeof(*c));
		snprintf((char *)c->card, sizeof(c->card), "Played Camera");
		c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_ENUM_FMT: {
		struct v4l2_fmtdesc *f = arg;

		if (f->index > 0)
			return fail_with(EINVAL);
		f->pixelformat = V4L2_PIX_FMT_YUYV;
		return 0;
	}
	case VIDIOC_ENUM_FRAMESIZES: {
		struct v4l2_frmsizeenum *s = arg;

		if (s->index > 0)
			return fail_with(EINVAL);
		s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
		s->discrete.width = CAM_W;
		s->discrete.height = CAM_H;
		return 0;
	}
	case VIDIOC_ENUM_FRAMEINTERVALS: {
		struct v4l2_frmivalenum *fi = arg;

		if (fi->index > 0)
			return fail_with(EINVAL);
		fi->type = V4L2_FRMIVAL_TYPE_DISCRETE;
		fi->discrete.numerator = 1;
		fi->discrete.denominator = 100;
		return 0;
	}
	case VIDIOC_S_FMT: {
		struct v4l2_format *f = arg;

		f->fmt.pix.bytesperline = f->fmt.pix.width * 2;
		return 0;
	}
	case VIDIOC_REQBUFS:
		((struct v4l2_requestbuffers *)arg)->count = NBUF;
		m.nqueued = 0;
		return 0;
	case VIDIOC_QUERYBUF: {
		struct v4l2_buffer *b = arg;

		b->length = BUF_LEN;
		b->m.offset = b->index * BUF_LEN;
		return 0;
	}
	}
	return fail_with(ENOTTY);
}

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg);

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg)
{
	int rc;

	(void)fd;
	pthread_mutex_lock(&m.lock);
	if (m.unplugged)
		rc = fail_with(ENODEV);
	else if (request == VIDIOC_DQBUF)
		rc = dequeue(arg);
	else if (request == VIDIOC_QBUF) {
		assert_true(m.nqueued < NBUF);
		m.queued[m.nqueued++] = ((struct v4l2_buffer *)arg)->index;
		rc = 0;
	} else if (request == VIDIOC_STREAMON || request == VIDIOC_S_PARM)
		rc = 0;
	else if (request == VIDIOC_STREAMOFF) {
		m.nqueued = 0;
		rc = 0;
	} else
		rc = setup_ioctl(request, arg);
	pthread_mutex_unlock(&m.lock);
	return rc;
}

static void mock_set(bool unplugged, enum stamp stamp)
{
	pthread_mutex_lock(&m.lock);
	m.unplugged = unplugged;
	m.stamp = stamp;
	pthread_mutex_unlock(&m.lock);
}

/* ---- the capture under test -------------------------------------------------------------- */

static char device[64];

struct rig {
	struct fc_slot *slot;
	struct fc_ladder ladder;
	struct fc_capture *cap;
	struct fc_capture_info info;
};

static int setup(void **state)
{
	int fd;

	(void)state;
	pthread_mutex_lock(&m.lock);
	m.unplugged = false;
	m.stamp = STAMP_NOW;
	m.nqueued = 0;
	m.delivered = 0;
	pthread_mutex_unlock(&m.lock);
	snprintf(device, sizeof(device), "/tmp/fc-test-capture-XXXXXX");
	fd = mkstemp(device);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, NBUF * BUF_LEN), 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(device);
	return 0;
}

/* Starts a capture from the camera (or, with camera false, the test pattern), one encoder
 * thread, no renditions. */
static void rig_start(struct rig *r, bool camera)
{
	struct fc_capture_cfg cfg = { .device = camera ? device : NULL,
				      .want = FC_V4L2_YUYV,
				      .width = camera ? CAM_W : PAT_W,
				      .height = camera ? CAM_H : PAT_H,
				      .fps_milli = 100000,
				      .quality = 80,
				      .encoders = 1,
				      .ladder = &r->ladder };
	enum fc_v4l2_failure why;
	char err[512];

	r->slot = fc_slot_new();
	assert_non_null(r->slot);
	r->cap = fc_capture_start(&cfg, r->slot, &r->info, &why, err, sizeof(err));
	if (!r->cap)
		fail_msg("capture failed to start: %s", err);
}

static void rig_stop(struct rig *r)
{
	fc_capture_stop(r->cap);
	fc_slot_free(r->slot);
}

/* The next frame published after seq, within the deadline; fails the test without one. */
static struct fc_frame *next_frame(struct rig *r, uint64_t after_seq)
{
	struct fc_frame *f = fc_slot_wait_newer(r->slot, after_seq, fc_clock_now_ns() + WAIT_NS);

	if (!f)
		fail_msg("no frame published after %llu", (unsigned long long)after_seq);
	return f;
}

static struct fc_capture_stats stats_of(struct rig *r)
{
	struct fc_capture_stats st;

	fc_capture_stats(r->cap, &st);
	return st;
}

/* Waits until the played camera has delivered n more frames than it had. */
static void wait_delivered(unsigned n)
{
	uint64_t end = fc_clock_now_ns() + WAIT_NS;
	unsigned from;

	pthread_mutex_lock(&m.lock);
	from = m.delivered;
	pthread_mutex_unlock(&m.lock);
	for (;;) {
		unsigned now_delivered;

		pthread_mutex_lock(&m.lock);
		now_delivered = m.delivered;
		pthread_mutex_unlock(&m.lock);
		if (now_delivered - from >= n)
			return;
		if (fc_clock_now_ns() > end)
			fail_msg("the camera delivered %u frames of %u", now_delivered - from, n);
		usleep(5000);
	}
}

/* The slot's source state, waited for until it is want. */
static void wait_source(struct rig *r, int want, char *text, size_t len)
{
	uint64_t end = fc_clock_now_ns() + WAIT_NS;
	int state;

	for (;;) {
		fc_slot_source(r->slot, &state, text, len);
		if (state == want)
			return;
		if (fc_clock_now_ns() > end)
			fail_msg("the source state stayed %d, not %d", state, want);
		usleep(10000);
	}
}

/* ---- the test pattern -------------------------------------------------------------------- */

/* The pattern's pictures are published one after another, each a JPEG of the asked size with a
 * larger seq and a later capture time than the one before, and counted. */
static void test_pattern_publishes_in_order(void **state)
{
	struct rig r = { 0 };
	uint64_t seq = 0;
	uint64_t t = 0;
	struct fc_capture_stats st;

	(void)state;
	rig_start(&r, false);
	assert_string_equal(r.info.source, "test pattern");
	assert_int_equal(r.info.width, PAT_W);
	for (int i = 0; i < 5; i++) {
		struct fc_frame *f = next_frame(&r, seq);

		assert_true(f->seq > seq);
		assert_true(f->capture_ns > t);
		assert_int_equal(f->width, PAT_W);
		assert_int_equal(f->height, PAT_H);
		assert_true(f->size > 2 && f->data[0] == 0xff && f->data[1] == 0xd8);
		seq = f->seq;
		t = f->capture_ns;
		fc_frame_unref(f);
	}
	/* The thread counts a picture once it is published; once the next is, that one is. */
	fc_frame_unref(next_frame(&r, seq));
	st = stats_of(&r);
	assert_true(st.captured > seq && st.encoded >= seq);
	assert_int_equal(st.failed, 0);
	rig_stop(&r);
}

/* ---- a camera ---------------------------------------------------------------------------- */

/* A camera's frames are encoded and published with the driver's timestamp as their capture
 * time, and the source says it streams. */
static void test_camera_frames_published(void **state)
{
	struct rig r = { 0 };
	struct fc_frame *f;
	uint64_t before = fc_clock_now_ns();
	char text[256];

	(void)state;
	rig_start(&r, true);
	assert_non_null(strstr(r.info.source, "(Played Camera): YUYV"));
	f = next_frame(&r, 0);
	assert_int_equal(f->width, CAM_W);
	assert_true(f->capture_ns >= before && f->capture_ns <= fc_clock_now_ns());
	wait_source(&r, FC_SOURCE_LIVE, text, sizeof(text));
	/* A picture is counted just after it is published: once the next one is, it has been. */
	fc_frame_unref(next_frame(&r, f->seq));
	fc_frame_unref(f);
	assert_true(stats_of(&r).encoded >= 1);
	rig_stop(&r);
}

/* A frame whose driver timestamp says it is ten seconds old is published as ten seconds old:
 * every viewer then gets a stale notice for it, never the frame as a new one. */
static void test_camera_old_frames_keep_their_age(void **state)
{
	struct rig r = { 0 };
	struct fc_frame *f;

	(void)state;
	mock_set(false, STAMP_OLD);
	rig_start(&r, true);
	f = next_frame(&r, 0);
	assert_true(fc_clock_now_ns() - f->capture_ns >= 9 * FC_NS_PER_S);
	fc_frame_unref(f);
	rig_stop(&r);
}

/* Frames whose timestamps cannot be true (from the future, under the monotonic flag) have no
 * age that can be known: none is published, each is counted, and the camera's next good frame
 * is published as usual. */
static void test_camera_bad_timestamps_dropped(void **state)
{
	struct rig r = { 0 };
	struct fc_capture_stats st;
	struct fc_frame *f;

	(void)state;
	mock_set(false, STAMP_FUTURE);
	rig_start(&r, true);
	wait_delivered(5);
	st = stats_of(&r);
	assert_int_equal(fc_slot_seq(r.slot), 0);
	assert_true(st.bad_time >= 4);
	assert_int_equal(st.encoded, 0);
	mock_set(false, STAMP_NOW);
	f = next_frame(&r, 0);
	assert_true(f->capture_ns <= fc_clock_now_ns());
	fc_frame_unref(f);
	rig_stop(&r);
}

/* An unplugged camera makes the source lost (with the device and the reason, for the viewers),
 * is counted once, and is reopened when it is back: the source is live again and frames are
 * published again. */
static void test_camera_unplug_retry(void **state)
{
	struct rig r = { 0 };
	struct fc_frame *f;
	uint64_t seq;
	char text[256];

	(void)state;
	rig_start(&r, true);
	f = next_frame(&r, 0);
	seq = f->seq;
	fc_frame_unref(f);
	mock_set(true, STAMP_NOW);
	wait_source(&r, FC_SOURCE_LOST, text, sizeof(text));
	assert_non_null(strstr(text, device));
	assert_non_null(strstr(text, "No such device"));
	assert_non_null(strstr(text, "retrying every second"));
	mock_set(false, STAMP_NOW);
	wait_source(&r, FC_SOURCE_LIVE, text, sizeof(text));
	assert_non_null(strstr(text, "camera back: 64x48"));
	f = next_frame(&r, seq);
	fc_frame_unref(f);
	assert_int_equal(stats_of(&r).lost_events, 1);
	rig_stop(&r);
}

/* ---- --encoders auto ------------------------------------------------------------------------ */

/* The rule the capture applies once a second: a thread more when a picture takes over 3/4 of
 * the period (up to the most allowed), one fewer when one fewer would still take under half of
 * it, else as it is. */
static void test_encoders_auto_rule(void **state)
{
	const uint64_t period = 33 * FC_NS_PER_MS;

	(void)state;
	assert_int_equal(fc_capture_encoders_next(30 * FC_NS_PER_MS, period, 1, 4), 2);
	assert_int_equal(fc_capture_encoders_next(30 * FC_NS_PER_MS, period, 3, 4), 4);
	assert_int_equal(fc_capture_encoders_next(30 * FC_NS_PER_MS, period, 4, 4), 4);
	assert_int_equal(fc_capture_encoders_next(20 * FC_NS_PER_MS, period, 1, 4), 1);
	/* on two threads a picture in 5 ms is 10 ms of work: one thread does it in under half */
	assert_int_equal(fc_capture_encoders_next(5 * FC_NS_PER_MS, period, 2, 4), 1);
	/* 10 ms on two is 20 on one: over half the period, so two stay */
	assert_int_equal(fc_capture_encoders_next(10 * FC_NS_PER_MS, period, 2, 4), 2);
	assert_int_equal(fc_capture_encoders_next(1 * FC_NS_PER_MS, period, 1, 4), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pattern_publishes_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_camera_frames_published, setup, teardown),
		cmocka_unit_test_setup_teardown(test_camera_old_frames_keep_their_age, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_camera_bad_timestamps_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_camera_unplug_retry, setup, teardown),
		cmocka_unit_test(test_encoders_auto_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
