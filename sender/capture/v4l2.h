/*
 * v4l2: a V4L2 capture device (a UVC webcam), opened, negotiated and streamed with mmap buffers.
 *
 * fc_v4l2_open does everything up to STREAMON and says what it got; fc_v4l2_grab dequeues every
 * buffer that is ready and requeues all but the newest at once, so however late the caller comes,
 * the frame it gets is the newest the camera has and the camera always has buffers to fill. The
 * caller hands the frame back with fc_v4l2_release before the next grab.
 *
 * Format negotiation is a pure function (fc_v4l2_choose) over what the device offers
 * (fc_v4l2_probe), so it is tested without a camera; every ioctl goes through fc_v4l2_xioctl, the
 * one choke point tests wrap.
 *
 * One thread uses a handle (the capture thread). Errors come back as text naming the device and
 * the errno; nothing here prints.
 */
#ifndef FC_V4L2_H
#define FC_V4L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fc_v4l2_want { FC_V4L2_AUTO, FC_V4L2_MJPEG, FC_V4L2_YUYV };

#define FC_V4L2_MAX_MODES 128
#define FC_V4L2_MAX_RATES 16

/* One size of one pixel format and the frame rates offered at it. */
struct fc_v4l2_mode {
	uint32_t fourcc;
	int width;
	int height;
	int nrates;
	int fps_milli[FC_V4L2_MAX_RATES]; /* frames per 1000 s, highest first */
};

/* A format whose sizes are a range (stepwise or continuous) rather than a list. */
struct fc_v4l2_range {
	uint32_t fourcc;
	int min_w, max_w, step_w;
	int min_h, max_h, step_h;
};

struct fc_v4l2_caps {
	int n;
	struct fc_v4l2_mode mode[FC_V4L2_MAX_MODES];
	int nranges;
	struct fc_v4l2_range range[4];
};

struct fc_v4l2_choice {
	uint32_t fourcc; /* V4L2_PIX_FMT_MJPEG or V4L2_PIX_FMT_YUYV */
	int width;
	int height;
	int fps_milli;
	int bytesperline; /* set by the driver (fc_v4l2_open): a row of the raw picture, padding
			   * included; 0 from fc_v4l2_choose */
};

/*
 * Picks a mode: with AUTO, MJPEG when the camera offers it at the asked size and rate, else YUYV,
 * else whichever of the two it has; then the offered size nearest the asked one and the rate
 * nearest the asked one (preferring one at least as fast). 0 on success; -1 with err when the
 * device offers neither format, or not the one asked for (err lists what it offers).
 */
int fc_v4l2_choose(const struct fc_v4l2_caps *caps, enum fc_v4l2_want want, int width, int height,
		   int fps_milli, struct fc_v4l2_choice *out, char *err, size_t errlen);

/* Writes the offered formats, sizes and rates as text, like v4l2-ctl --list-formats-ext. */
void fc_v4l2_describe(const struct fc_v4l2_caps *caps, char *buf, size_t len);

/* "MJPG", "YUYV": a fourcc as text (buf at least 5 bytes). */
const char *fc_v4l2_fourcc_str(uint32_t fourcc, char *buf);

/* The ioctl choke point: retries on EINTR. Out of line so that tests can --wrap it. */
int fc_v4l2_xioctl(int fd, unsigned long request, void *arg);

/* Lists the V4L2 devices /dev/video0../dev/video63 that open, one line each: path, name, and
 * whether it captures video. Returns how many capture devices there are. */
int fc_v4l2_list(char *buf, size_t len);

/* Opens path just to describe what it offers (--list-formats). 0, or -1 with err. */
int fc_v4l2_describe_device(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* Reads what an open device offers (MJPEG and YUYV only: what freshcam can use). */
int fc_v4l2_probe(int fd, struct fc_v4l2_caps *caps, char *err, size_t errlen);

struct fc_v4l2_cfg {
	const char *path;
	enum fc_v4l2_want want;
	int width;
	int height;
	int fps_milli;
	unsigned buffers; /* mmap buffers to ask for (the driver may give more) */
};

/* What the device gave. */
struct fc_v4l2_info {
	struct fc_v4l2_choice got;
	char card[64]; /* the device's name, from QUERYCAP */
	unsigned buffers;
};

/* Why fc_v4l2_open failed, for the caller's advice (list devices, formats, who to close). */
enum fc_v4l2_failure {
	FC_V4L2_FAIL_OTHER,
	FC_V4L2_FAIL_MISSING, /* no such device */
	FC_V4L2_FAIL_ACCESS,  /* permission denied */
	FC_V4L2_FAIL_BUSY,    /* another program streams from it */
	FC_V4L2_FAIL_NOT_CAPTURE,
	FC_V4L2_FAIL_FORMAT, /* it offers nothing freshcam can use, or not what was asked */
};

struct fc_v4l2;

struct fc_v4l2 *fc_v4l2_open(const struct fc_v4l2_cfg *cfg, struct fc_v4l2_info *info,
			     enum fc_v4l2_failure *why, char *err, size_t errlen);
void fc_v4l2_close(struct fc_v4l2 *v);

/* The device fd, to poll() for POLLIN (a frame is ready) and POLLERR/POLLHUP (gone). */
int fc_v4l2_fd(const struct fc_v4l2 *v);

/* Where a frame's capture_ns comes from, and whether its age can be known. */
enum fc_v4l2_time {
	/* The driver's CLOCK_MONOTONIC stamp (the start of the frame): its true time, however
	 * long ago that was (a frame the driver held for seconds is seconds old). */
	FC_V4L2_TIME_DRIVER,
	/* The driver stamps with another clock, or none: the dequeue time, which leaves out the
	 * camera's own readout (PROTOCOL.md, section 1). */
	FC_V4L2_TIME_DEQUEUE,
	/* A stamp under the monotonic flag that cannot be true: zero, or later than the dequeue
	 * (another clock under the flag). The frame's age is unknown; capture_ns is the stamp. */
	FC_V4L2_TIME_BAD,
};

struct fc_v4l2_frame {
	const uint8_t *data; /* the mmap buffer: valid until fc_v4l2_release */
	size_t size;
	uint64_t capture_ns;	/* when the frame was captured, as time says */
	uint64_t dequeue_ns;	/* when this grab dequeued it (monotonic) */
	enum fc_v4l2_time time; /* where capture_ns comes from */
	uint32_t sequence;	/* the driver's frame counter */
	unsigned skipped;	/* older ready frames requeued unseen by this grab */
	unsigned lost;		/* frames the driver dropped before this one (sequence gaps) */
	int index;
};

/*
 * Takes the newest ready frame, requeueing every older one at once. 1 with *f; 0 when no frame is
 * ready; -1 with err when the device failed (errno ENODEV or EIO: unplugged). A frame is returned
 * whatever its timestamp says; f->time tells whether its age can be known (the caller decides).
 */
int fc_v4l2_grab(struct fc_v4l2 *v, struct fc_v4l2_frame *f, char *err, size_t errlen);

/* Gives the frame's buffer back to the driver. */
int fc_v4l2_release(struct fc_v4l2 *v, const struct fc_v4l2_frame *f, char *err, size_t errlen);

#endif
