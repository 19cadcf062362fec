/* Tests of sender/capture/v4l2.c: format negotiation as a pure function, and the device code against a
 * camera played by this test. Every ioctl goes through fc_v4l2_xioctl, which the build wraps
 * (-Wl,--wrap) so that __wrap_fc_v4l2_xioctl below answers; the device node is a temporary file,
 * so open() and mmap() are real. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "v4l2.h"

#define BUF_LEN 4096
#define NBUF	4

/* ---- the played camera ------------------------------------------------------------------ */

struct size_rates {
	uint32_t fourcc;
	int w, h;
	int fps[3]; /* whole frames per second, 0-terminated */
};

static const struct size_rates offered[] = {
	{ V4L2_PIX_FMT_MJPEG, 640, 480, { 30, 15, 0 } },
	{ V4L2_PIX_FMT_MJPEG, 1280, 720, { 30, 0 } },
	{ V4L2_PIX_FMT_MJPEG, 1920, 1080, { 30, 15, 0 } },
	{ V4L2_PIX_FMT_YUYV, 640, 480, { 30, 0 } },
	{ V4L2_PIX_FMT_YUYV, 1280, 720, { 10, 0 } },
	{ V4L2_PIX_FMT_YUYV, 800, 600, { 20, 0 } },
};

struct ready {
	uint32_t index;
	uint32_t sequence;
	uint32_t flags;
	uint64_t ts_us;
};

static struct mock {
	bool not_capture;
	int s_fmt_errno;
	int dq_errno;		    /* DQBUF fails with this once the script runs dry (0: EAGAIN) */
	struct v4l2_pix_format set; /* what S_FMT got */
	int set_fps;
	struct ready script[16];
	int nscript;
	int next;
	uint32_t qbuf[64]; /* indexes queued, in order */
	int nq;
} m;

static int fourcc_count(void)
{
	return 2;
}

static uint32_t fourcc_at(unsigned i)
{
	return i == 0 ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
}

static const struct size_rates *nth_size(uint32_t fourcc, unsigned index)
{
	unsigned k = 0;

	for (size_t i = 0; i < sizeof(offered) / sizeof(offered[0]); i++)
		if (offered[i].fourcc == fourcc && k++ == index)
			return &offered[i];
	return NULL;
}

static const struct size_rates *find_size(uint32_t fourcc, uint32_t w, uint32_t h)
{
	for (size_t i = 0; i < sizeof(offered) / sizeof(offered[0]); i++)
		if (offered[i].fourcc == fourcc && offered[i].w == (int)w && offered[i].h == (int)h)
			return &offered[i];
	return NULL;
}

static int fail_with(int e)
{
	errno = e;
	return -1;
}

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg);

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	switch (request) {
	case VIDIOC_QUERYCAP: {
		struct v4l2_capability *c = arg;

		memset(c, 0, sizeof(*c));
		strcpy((char *)c->card, "Played Camera");
		c->device_caps = (m.not_capture ? 0 : V4L2_CAP_VIDEO_CAPTURE) | V4L2_CAP_STREAMING;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_ENUM_FMT: {
		struct v4l2_fmtdesc *f = arg;

		if ((int)f->index >= fourcc_count())
			return fail_with(EINVAL);
		f->pixelformat = fourcc_at(f->index);
		return 0;
	}
	case VIDIOC_ENUM_FRAMESIZES: {
		struct v4l2_frmsizeenum *s = arg;
		const struct size_rates *sr = nth_size(s->pixel_format, s->index);

		if (!sr)
			return fail_with(EINVAL);
		s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
		s->discrete.width = (uint32_t)sr->w;
		s->discrete.height = (uint32_t)sr->h;
		return 0;
	}
	case VIDIOC_ENUM_FRAMEINTERVALS: {
		struct v4l2_frmivalenum *fi = arg;
		const struct size_rates *sr = find_size(fi->pixel_format, fi->width, fi->height);

		if (!sr || fi->index >= 3 || sr->fps[fi->index] == 0)
			return fail_with(EINVAL);
		fi->type = V4L2_FRMIVAL_TYPE_DISCRETE;
		fi->discrete.numerator = 1;
		fi->discrete.denominator = (uint32_t)sr->fps[fi->index];
		return 0;
	}
	case VIDIOC_S_FMT: {
		struct v4l2_format *f = arg;

		if (m.s_fmt_errno)
			return fail_with(m.s_fmt_errno);
		m.set = f->fmt.pix;
		return 0;
	}
	case VIDIOC_S_PARM: {
		struct v4l2_streamparm *p = arg;

		m.set_fps = (int)(p->parm.capture.timeperframe.denominator /
				  p->parm.capture.timeperframe.numerator);
		/* Like a driver: answer with what it set, as a whole-frame interval. */
		p->parm.capture.timeperframe.numerator = 1;
		p->parm.capture.timeperframe.denominator = (uint32_t)m.set_fps;
		return 0;
	}
	case VIDIOC_REQBUFS: {
		struct v4l2_requestbuffers *r = arg;

		r->count = NBUF;
		return 0;
	}
	case VIDIOC_QUERYBUF: {
		struct v4l2_buffer *b = arg;

		b->length = BUF_LEN;
		b->m.offset = b->index * BUF_LEN;
		return 0;
	}
	case VIDIOC_QBUF: {
		struct v4l2_buffer *b = arg;

		assert_true(m.nq < 64);
		m.qbuf[m.nq++] = b->index;
		return 0;
	}
	case VIDIOC_DQBUF: {
		struct v4l2_buffer *b = arg;
		const struct ready *r;

		if (m.next >= m.nscript)
			return fail_with(m.dq_errno ? m.dq_errno : EAGAIN);
		r = &m.script[m.next++];
		b->index = r->index;
		b->sequence = r->sequence;
		b->flags = r->flags;
		b->bytesused = 1000;
		b->timestamp.tv_sec = (time_t)(r->ts_us / 1000000);
		b->timestamp.tv_usec = (suseconds_t)(r->ts_us % 1000000);
		return 0;
	}
	case VIDIOC_STREAMON:
	case VIDIOC_STREAMOFF:
		return 0;
	}
	return fail_with(ENOTTY);
}

static char device[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	memset(&m, 0, sizeof(m));
	snprintf(device, sizeof(device), "/tmp/fc-test-v4l2-XXXXXX");
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

static struct fc_v4l2 *open_cam(enum fc_v4l2_want want, int w, int h, int fps,
				struct fc_v4l2_info *info)
{
	struct fc_v4l2_cfg cfg = { .path = device,
				   .want = want,
				   .width = w,
				   .height = h,
				   .fps_milli = fps * 1000,
				   .buffers = NBUF };
	enum fc_v4l2_failure why;
	char err[512];
	struct fc_v4l2 *v = fc_v4l2_open(&cfg, info, &why, err, sizeof(err));

	if (!v)
		fail_msg("open failed: %s", err);
	return v;
}

/* ---- negotiation, pure ------------------------------------------------------------------ */

static struct fc_v4l2_caps *probe_offered(void)
{
	static struct fc_v4l2_caps caps;
	char err[128];

	assert_int_equal(fc_v4l2_probe(-1, &caps, err, sizeof(err)), 0);
	return &caps;
}

/* Probing reads every offered format, size and rate, rates highest first. */
static void test_probe(void **state)
{
	struct fc_v4l2_caps *caps = probe_offered();

	(void)state;
	assert_int_equal(caps->n, 6);
	assert_int_equal(caps->mode[0].nrates, 2);
	assert_int_equal(caps->mode[0].fps_milli[0], 30000);
	assert_int_equal(caps->mode[0].fps_milli[1], 15000);
}

/* auto takes the camera's MJPEG when it has the asked size and rate. */
static void test_auto_prefers_mjpeg(void **state)
{
	struct fc_v4l2_choice c;
	char err[512];

	(void)state;
	assert_int_equal(
	    fc_v4l2_choose(probe_offered(), FC_V4L2_AUTO, 1280, 720, 30000, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.fourcc, V4L2_PIX_FMT_MJPEG);
	assert_int_equal(c.width, 1280);
	assert_int_equal(c.fps_milli, 30000);
}

/* auto falls back to YUYV when only YUYV has the exact size and rate. */
static void test_auto_falls_back_to_yuyv(void **state)
{
	struct fc_v4l2_choice c;
	char err[512];

	(void)state;
	assert_int_equal(
	    fc_v4l2_choose(probe_offered(), FC_V4L2_AUTO, 800, 600, 20000, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.fourcc, V4L2_PIX_FMT_YUYV);
	assert_int_equal(c.width, 800);
}

/* Sizes and rates snap to the nearest offered; a rate at least as fast is preferred. */
static void test_snapping(void **state)
{
	struct fc_v4l2_choice c;
	char err[512];

	(void)state;
	assert_int_equal(
	    fc_v4l2_choose(probe_offered(), FC_V4L2_MJPEG, 1200, 700, 25000, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.width, 1280);
	assert_int_equal(c.height, 720);
	assert_int_equal(c.fps_milli, 30000);
	assert_int_equal(
	    fc_v4l2_choose(probe_offered(), FC_V4L2_MJPEG, 1920, 1080, 60000, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.fps_milli, 30000); /* the fastest it has */
	assert_int_equal(
	    fc_v4l2_choose(probe_offered(), FC_V4L2_MJPEG, 640, 480, 14000, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.fps_milli, 15000);
}

/* Asking for a format the camera lacks fails with a list of what it offers. */
static void test_missing_format_lists_offer(void **state)
{
	struct fc_v4l2_caps caps = *probe_offered();
	struct fc_v4l2_choice c;
	char err[2048];

	(void)state;
	caps.n = 3; /* MJPEG only */
	assert_int_equal(fc_v4l2_choose(&caps, FC_V4L2_YUYV, 640, 480, 30000, &c, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "does not offer YUYV"));
	assert_non_null(strstr(err, "1920x1080 at 30 fps, 15 fps"));
}

/* ---- the device ------------------------------------------------------------------------- */

/* Opening negotiates, sets the format and rate, maps and queues every buffer, and reports. */
static void test_open_negotiates(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_AUTO, 1280, 720, 30, &info);

	(void)state;
	assert_int_equal(m.set.pixelformat, V4L2_PIX_FMT_MJPEG);
	assert_int_equal(m.set.width, 1280);
	assert_int_equal(m.set_fps, 30);
	assert_int_equal(info.got.fourcc, V4L2_PIX_FMT_MJPEG);
	assert_int_equal(info.got.fps_milli, 30000);
	assert_string_equal(info.card, "Played Camera");
	assert_int_equal(info.buffers, NBUF);
	assert_int_equal(m.nq, NBUF);
	fc_v4l2_close(v);
}

/* Each failure says what kind it is and names the device and the errno. */
static void test_open_failures(void **state)
{
	struct fc_v4l2_cfg cfg = {
		.path = "/nonexistent/video9", .width = 640, .height = 480, .fps_milli = 30000
	};
	struct fc_v4l2_info info;
	enum fc_v4l2_failure why;
	char err[512];

	(void)state;
	assert_null(fc_v4l2_open(&cfg, &info, &why, err, sizeof(err)));
	assert_int_equal(why, FC_V4L2_FAIL_MISSING);
	assert_non_null(strstr(err, "/nonexistent/video9: No such file or directory"));

	cfg.path = device;
	m.s_fmt_errno = EBUSY;
	assert_null(fc_v4l2_open(&cfg, &info, &why, err, sizeof(err)));
	assert_int_equal(why, FC_V4L2_FAIL_BUSY);
	assert_non_null(strstr(err, "Device or resource busy"));

	m.s_fmt_errno = 0;
	m.not_capture = true;
	assert_null(fc_v4l2_open(&cfg, &info, &why, err, sizeof(err)));
	assert_int_equal(why, FC_V4L2_FAIL_NOT_CAPTURE);
	assert_non_null(strstr(err, "not a video capture device"));
}

/* A grab takes the newest of the ready frames and requeues the older ones at once. */
static void test_grab_drains_to_newest(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_MJPEG, 640, 480, 30, &info);
	struct fc_v4l2_frame f;
	char err[256];
	int queued = m.nq;

	(void)state;
	m.script[0] = (struct ready){ .index = 0, .sequence = 10 };
	m.script[1] = (struct ready){ .index = 1, .sequence = 11 };
	m.script[2] = (struct ready){ .index = 2, .sequence = 12 };
	m.nscript = 3;
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 1);
	assert_int_equal(f.index, 2);
	assert_int_equal(f.sequence, 12);
	assert_int_equal(f.skipped, 2);
	assert_int_equal(m.nq, queued + 2);
	assert_int_equal(m.qbuf[queued], 0);
	assert_int_equal(m.qbuf[queued + 1], 1);
	assert_int_equal(fc_v4l2_release(v, &f, err, sizeof(err)), 0);
	assert_int_equal(m.qbuf[queued + 2], 2);
	/* nothing more is ready */
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 0);
	fc_v4l2_close(v);
}

/* A buffer the driver flags as broken is requeued unseen; the good one before it is kept. */
static void test_grab_skips_error_buffers(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_MJPEG, 640, 480, 30, &info);
	struct fc_v4l2_frame f;
	char err[256];

	(void)state;
	m.script[0] = (struct ready){ .index = 0, .sequence = 20 };
	m.script[1] = (struct ready){ .index = 1, .sequence = 21, .flags = V4L2_BUF_FLAG_ERROR };
	m.nscript = 2;
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 1);
	assert_int_equal(f.index, 0);
	assert_int_equal(f.sequence, 20);
	assert_int_equal(m.qbuf[m.nq - 1], 1);
	fc_v4l2_close(v);
}

/* Gaps in the driver's sequence count as frames lost before this one. */
static void test_sequence_gaps_counted(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_MJPEG, 640, 480, 30, &info);
	struct fc_v4l2_frame f;
	char err[256];

	(void)state;
	m.script[0] = (struct ready){ .index = 0, .sequence = 10 };
	m.script[1] = (struct ready){ .index = 1, .sequence = 15 };
	m.nscript = 1;
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 1);
	assert_int_equal(f.lost, 0);
	fc_v4l2_release(v, &f, err, sizeof(err));
	m.nscript = 2;
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 1);
	assert_int_equal(f.lost, 4);
	fc_v4l2_close(v);
}

/* A monotonic driver stamp is the capture time, however old: a frame held ten seconds is ten
 * seconds old, never passed off as new. Without the monotonic flag the dequeue time stands in; a
 * monotonic stamp that cannot be true (from the future, or zero) is said to be one, so that the
 * caller never gives that frame an age. */
static void test_timestamps(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_MJPEG, 640, 480, 30, &info);
	struct fc_v4l2_frame f;
	char err[256];
	uint64_t now_us = fc_clock_now_ns() / 1000;
	const uint32_t mono = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
	const struct {
		uint64_t ts_us;
		uint32_t flags;
		enum fc_v4l2_time time;
	} cases[] = {
		{ now_us - 10000, mono, FC_V4L2_TIME_DRIVER },
		{ now_us, V4L2_BUF_FLAG_TIMESTAMP_UNKNOWN, FC_V4L2_TIME_DEQUEUE },
		{ now_us + 60000000, mono, FC_V4L2_TIME_BAD },
		{ now_us - 10000000, mono, FC_V4L2_TIME_DRIVER },
		{ 0, mono, FC_V4L2_TIME_BAD },
	};
	const int n = (int)(sizeof(cases) / sizeof(cases[0]));

	(void)state;
	for (int i = 0; i < n; i++)
		m.script[i] = (struct ready){ .index = (uint32_t)i % NBUF,
					      .sequence = (uint32_t)i + 1,
					      .ts_us = cases[i].ts_us,
					      .flags = cases[i].flags };
	for (int i = 0; i < n; i++) {
		m.nscript = i + 1;
		assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), 1);
		assert_int_equal(f.sequence, i + 1);
		assert_int_equal(f.time, cases[i].time);
		assert_true(f.dequeue_ns >= now_us * 1000);
		if (cases[i].time == FC_V4L2_TIME_DEQUEUE)
			assert_true(f.capture_ns == f.dequeue_ns);
		else
			assert_true(f.capture_ns == cases[i].ts_us * 1000);
		fc_v4l2_release(v, &f, err, sizeof(err));
	}
	fc_v4l2_close(v);
}

/* An unplugged camera (ENODEV) makes the grab fail with the device and the reason named. */
static void test_unplugged(void **state)
{
	struct fc_v4l2_info info;
	struct fc_v4l2 *v = open_cam(FC_V4L2_MJPEG, 640, 480, 30, &info);
	struct fc_v4l2_frame f;
	char err[256];

	(void)state;
	m.dq_errno = ENODEV;
	assert_int_equal(fc_v4l2_grab(v, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such device"));
	assert_non_null(strstr(err, device));
	fc_v4l2_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_prefers_mjpeg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_falls_back_to_yuyv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_format_lists_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_negotiates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grab_drains_to_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grab_skips_error_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_gaps_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplugged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
