#include "v4l2.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_BUFFERS 8

struct buffer {
	void *start;
	size_t length;
};

struct fc_v4l2 {
	int fd;
	char path[128];
	struct buffer buf[MAX_BUFFERS];
	unsigned nbuf;
	bool streaming;
	bool have_seq;
	uint32_t last_seq;
};

const char *fc_v4l2_fourcc_str(uint32_t f, char *buf)
{
	for (int i = 0; i < 4; i++) {
		char c = (char)((f >> (8 * i)) & 0xff);

		buf[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

/* ---- what the device offers ------------------------------------------------------------- */

static int fps_of(const struct v4l2_fract *interval)
{
	if (interval->numerator == 0)
		return 0;
	return (int)((1000ull * interval->denominator + interval->numerator / 2) /
		     interval->numerator);
}

static void add_rate(struct fc_v4l2_mode *m, int fps_milli)
{
	int i;

	if (fps_milli <= 0 || m->nrates >= FC_V4L2_MAX_RATES)
		return;
	/* Kept sorted, highest first, without duplicates. */
	for (i = 0; i < m->nrates; i++) {
		if (m->fps_milli[i] == fps_milli)
			return;
		if (m->fps_milli[i] < fps_milli)
			break;
	}
	memmove(&m->fps_milli[i + 1], &m->fps_milli[i], sizeof(int) * (size_t)(m->nrates - i));
	m->fps_milli[i] = fps_milli;
	m->nrates++;
}

static void probe_rates(int fd, struct fc_v4l2_mode *m)
{
	struct v4l2_frmivalenum fi = { .pixel_format = m->fourcc,
				       .width = (uint32_t)m->width,
				       .height = (uint32_t)m->height };

	for (fi.index = 0; fc_v4l2_xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0; fi.index++) {
		if (fi.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
			add_rate(m, fps_of(&fi.discrete));
		} else {
			/* Stepwise or continuous: the fastest and the slowest are enough to snap. */
			add_rate(m, fps_of(&fi.stepwise.min));
			add_rate(m, fps_of(&fi.stepwise.max));
			break;
		}
	}
	if (m->nrates == 0)
		add_rate(m, 30000); /* a driver that lists no rates: assume the common one */
}

static void add_mode(int fd, struct fc_v4l2_caps *caps, uint32_t fourcc, int w, int h)
{
	struct fc_v4l2_mode *m;

	if (caps->n >= FC_V4L2_MAX_MODES || w <= 0 || h <= 0)
		return;
	m = &caps->mode[caps->n++];
	memset(m, 0, sizeof(*m));
	m->fourcc = fourcc;
	m->width = w;
	m->height = h;
	probe_rates(fd, m);
}

int fc_v4l2_probe(int fd, struct fc_v4l2_caps *caps, char *err, size_t errlen)
{
	/* Sizes to try on a stepwise device: the ones people ask for. */
	static const int common[][2] = { { 320, 240 },	 { 640, 480 },	 { 800, 600 },
					 { 1024, 768 },	 { 1280, 720 },	 { 1280, 960 },
					 { 1920, 1080 }, { 2560, 1440 }, { 3840, 2160 } };
	struct v4l2_fmtdesc fd_desc = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	caps->n = 0;
	caps->nranges = 0;
	for (fd_desc.index = 0; fc_v4l2_xioctl(fd, VIDIOC_ENUM_FMT, &fd_desc) == 0;
	     fd_desc.index++) {
		struct v4l2_frmsizeenum fs = { .pixel_format = fd_desc.pixelformat };

		if (fd_desc.pixelformat != V4L2_PIX_FMT_MJPEG &&
		    fd_desc.pixelformat != V4L2_PIX_FMT_YUYV)
			continue;
		for (fs.index = 0; fc_v4l2_xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0;
		     fs.index++) {
			if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
				add_mode(fd, caps, fs.pixel_format, (int)fs.discrete.width,
					 (int)fs.discrete.height);
				continue;
			}
			if (caps->nranges < 4) {
				struct fc_v4l2_range *r = &caps->range[caps->nranges++];

				*r = (struct fc_v4l2_range){
					.fourcc = fs.pixel_format,
					.min_w = (int)fs.stepwise.min_width,
					.max_w = (int)fs.stepwise.max_width,
					.step_w = fs.stepwise.step_width
						      ? (int)fs.stepwise.step_width
						      : 1,
					.min_h = (int)fs.stepwise.min_height,
					.max_h = (int)fs.stepwise.max_height,
					.step_h = fs.stepwise.step_height
						      ? (int)fs.stepwise.step_height
						      : 1,
				};
			}
			for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
				if (common[i][0] >= (int)fs.stepwise.min_width &&
				    common[i][0] <= (int)fs.stepwise.max_width &&
				    common[i][1] >= (int)fs.stepwise.min_height &&
				    common[i][1] <= (int)fs.stepwise.max_height)
					add_mode(fd, caps, fs.pixel_format, common[i][0],
						 common[i][1]);
			break;
		}
	}
	if (caps->n == 0) {
		snprintf(err, errlen, "offers neither MJPEG nor YUYV, the formats freshcam reads");
		return -1;
	}
	return 0;
}

/* A camera with a range of sizes can do the asked one exactly (rounded to its steps, kept in its
 * range): offer that too, not just the common sizes inside the range. */
static void add_asked_size(int fd, struct fc_v4l2_caps *caps, int w, int h)
{
	for (int i = 0; i < caps->nranges; i++) {
		const struct fc_v4l2_range *r = &caps->range[i];
		int aw = r->min_w + (w - r->min_w + r->step_w / 2) / r->step_w * r->step_w;
		int ah = r->min_h + (h - r->min_h + r->step_h / 2) / r->step_h * r->step_h;

		if (w < r->min_w || w > r->max_w || h < r->min_h || h > r->max_h)
			continue;
		if (aw > r->max_w)
			aw = r->max_w;
		if (ah > r->max_h)
			ah = r->max_h;
		add_mode(fd, caps, r->fourcc, aw & ~1, ah & ~1);
	}
}

/* ---- choosing a mode -------------------------------------------------------------------- */

static bool offers(const struct fc_v4l2_caps *caps, uint32_t fourcc)
{
	for (int i = 0; i < caps->n; i++)
		if (caps->mode[i].fourcc == fourcc)
			return true;
	return false;
}

/* The offered rate nearest the asked one, preferring one at least as fast. */
static int pick_rate(const struct fc_v4l2_mode *m, int fps_milli)
{
	int best = m->fps_milli[0];

	for (int i = 0; i < m->nrates; i++) {
		int r = m->fps_milli[i];
		bool r_fast = r >= fps_milli;
		bool best_fast = best >= fps_milli;

		if ((r_fast && !best_fast) ||
		    (r_fast == best_fast && abs(r - fps_milli) < abs(best - fps_milli)))
			best = r;
	}
	return best;
}

/* The mode of this format whose size is nearest (w, h); NULL when the format is not offered. */
static const struct fc_v4l2_mode *nearest(const struct fc_v4l2_caps *caps, uint32_t fourcc, int w,
					  int h)
{
	const struct fc_v4l2_mode *best = NULL;
	long best_d = 0;

	for (int i = 0; i < caps->n; i++) {
		const struct fc_v4l2_mode *m = &caps->mode[i];
		long d = labs((long)m->width - w) + labs((long)m->height - h);

		if (m->fourcc != fourcc)
			continue;
		if (!best || d < best_d) {
			best = m;
			best_d = d;
		}
	}
	return best;
}

static bool exact(const struct fc_v4l2_caps *caps, uint32_t fourcc, int w, int h, int fps_milli)
{
	const struct fc_v4l2_mode *m = nearest(caps, fourcc, w, h);

	return m && m->width == w && m->height == h && pick_rate(m, fps_milli) >= fps_milli;
}

int fc_v4l2_choose(const struct fc_v4l2_caps *caps, enum fc_v4l2_want want, int width, int height,
		   int fps_milli, struct fc_v4l2_choice *out, char *err, size_t errlen)
{
	uint32_t fourcc;
	const struct fc_v4l2_mode *m;

	switch (want) {
	case FC_V4L2_MJPEG:
		fourcc = V4L2_PIX_FMT_MJPEG;
		break;
	case FC_V4L2_YUYV:
		fourcc = V4L2_PIX_FMT_YUYV;
		break;
	case FC_V4L2_AUTO:
	default:
		/* The camera's own JPEG costs nothing to encode; take it where it fits. */
		if (exact(caps, V4L2_PIX_FMT_MJPEG, width, height, fps_milli))
			fourcc = V4L2_PIX_FMT_MJPEG;
		else if (exact(caps, V4L2_PIX_FMT_YUYV, width, height, fps_milli))
			fourcc = V4L2_PIX_FMT_YUYV;
		else
			fourcc = offers(caps, V4L2_PIX_FMT_MJPEG) ? V4L2_PIX_FMT_MJPEG
								  : V4L2_PIX_FMT_YUYV;
		break;
	}
	m = nearest(caps, fourcc, width, height);
	if (!m) {
		char f[5];
		size_t n = (size_t)snprintf(
		    err, errlen, "does not offer %s; it offers:", fc_v4l2_fourcc_str(fourcc, f));

		if (n < errlen)
			fc_v4l2_describe(caps, err + n, errlen - n);
		return -1;
	}
	out->fourcc = fourcc;
	out->width = m->width;
	out->height = m->height;
	out->fps_milli = pick_rate(m, fps_milli);
	out->bytesperline = 0;
	return 0;
}

void fc_v4l2_describe(const struct fc_v4l2_caps *caps, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t last = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; i < caps->n && off < len; i++) {
		const struct fc_v4l2_mode *m = &caps->mode[i];
		char f[5];

		if (m->fourcc != last) {
			off += (size_t)snprintf(
			    buf + off, len - off, "\n  %s%s:", fc_v4l2_fourcc_str(m->fourcc, f),
			    m->fourcc == V4L2_PIX_FMT_MJPEG ? " (camera JPEG)" : " (raw)");
			last = m->fourcc;
		}
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "\n    %dx%d at", m->width,
						m->height);
		for (int r = 0; r < m->nrates && off < len; r++)
			off += (size_t)snprintf(buf + off, len - off, "%s %.4g fps", r ? "," : "",
						m->fps_milli[r] / 1000.0);
	}
}

int fc_v4l2_list(char *buf, size_t len)
{
	size_t off = 0;
	int captures = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; i < 64 && off < len; i++) {
		char path[32];
		struct v4l2_capability cap = { 0 };
		uint32_t dc;
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EACCES || errno == EBUSY)
				off += (size_t)snprintf(buf + off, len - off, "\n  %s: %s", path,
							strerror(errno));
			continue;
		}
		if (fc_v4l2_xioctl(fd, VIDIOC_QUERYCAP, &cap) == 0) {
			dc = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps
								     : cap.capabilities;
			off += (size_t)snprintf(
			    buf + off, len - off, "\n  %s: %s%s", path, (const char *)cap.card,
			    dc & V4L2_CAP_VIDEO_CAPTURE ? "" : " (not a capture device)");
			captures += !!(dc & V4L2_CAP_VIDEO_CAPTURE);
		}
		close(fd);
	}
	return captures;
}

int fc_v4l2_describe_device(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	struct fc_v4l2_caps *caps = malloc(sizeof(*caps));
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int rc = -1;

	if (!caps) {
		snprintf(err, errlen, "out of memory");
	} else if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (fc_v4l2_probe(fd, caps, err, errlen) == 0) {
		fc_v4l2_describe(caps, buf, len);
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	free(caps);
	return rc;
}

/* ---- streaming -------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, enum fc_v4l2_failure *why, enum fc_v4l2_failure kind,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, enum fc_v4l2_failure *why, enum fc_v4l2_failure kind,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*why = kind;
	return -1;
}

static enum fc_v4l2_failure kind_of(int e)
{
	return e == ENOENT || e == ENODEV || e == ENXIO ? FC_V4L2_FAIL_MISSING
	       : e == EACCES || e == EPERM		? FC_V4L2_FAIL_ACCESS
	       : e == EBUSY				? FC_V4L2_FAIL_BUSY
							: FC_V4L2_FAIL_OTHER;
}

static int set_format(struct fc_v4l2 *v, const struct fc_v4l2_choice *c, struct fc_v4l2_info *info,
		      enum fc_v4l2_failure *why, char *err, size_t errlen)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	char f[5];

	fmt.fmt.pix.width = (uint32_t)c->width;
	fmt.fmt.pix.height = (uint32_t)c->height;
	fmt.fmt.pix.pixelformat = c->fourcc;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	if (fc_v4l2_xioctl(v->fd, VIDIOC_S_FMT, &fmt) < 0)
		return fail(err, errlen, why, kind_of(errno), "%s: setting %s %dx%d: %s", v->path,
			    fc_v4l2_fourcc_str(c->fourcc, f), c->width, c->height, strerror(errno));
	/* The driver has the last word: report what it set, not what was asked. */
	info->got.fourcc = fmt.fmt.pix.pixelformat;
	info->got.width = (int)fmt.fmt.pix.width;
	info->got.height = (int)fmt.fmt.pix.height;
	info->got.bytesperline = (int)fmt.fmt.pix.bytesperline;
	if (info->got.fourcc != c->fourcc)
		return fail(err, errlen, why, FC_V4L2_FAIL_FORMAT,
			    "%s: asked for %s, driver set %s", v->path,
			    fc_v4l2_fourcc_str(c->fourcc, f),
			    fc_v4l2_fourcc_str(info->got.fourcc, f + 0));
	if (info->got.width % 2 || info->got.height % 2)
		return fail(err, errlen, why, FC_V4L2_FAIL_FORMAT,
			    "%s: the driver set an odd size %dx%d", v->path, info->got.width,
			    info->got.height);
	parm.parm.capture.timeperframe.numerator = 1000;
	parm.parm.capture.timeperframe.denominator = (uint32_t)c->fps_milli;
	info->got.fps_milli = c->fps_milli;
	if (fc_v4l2_xioctl(v->fd, VIDIOC_S_PARM, &parm) == 0)
		info->got.fps_milli = fps_of(&parm.parm.capture.timeperframe);
	return 0;
}

static int map_buffers(struct fc_v4l2 *v, unsigned want, enum fc_v4l2_failure *why, char *err,
		       size_t errlen)
{
	struct v4l2_requestbuffers rb = { .count = want,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };

	if (fc_v4l2_xioctl(v->fd, VIDIOC_REQBUFS, &rb) < 0)
		return fail(err, errlen, why, kind_of(errno), "%s: requesting buffers: %s", v->path,
			    strerror(errno));
	if (rb.count < 2)
		return fail(err, errlen, why, FC_V4L2_FAIL_OTHER, "%s: only %u buffer(s)", v->path,
			    rb.count);
	v->nbuf = rb.count > MAX_BUFFERS ? MAX_BUFFERS : rb.count;
	for (unsigned i = 0; i < v->nbuf; i++) {
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP,
					 .index = i };

		if (fc_v4l2_xioctl(v->fd, VIDIOC_QUERYBUF, &b) < 0)
			return fail(err, errlen, why, kind_of(errno), "%s: buffer %u: %s", v->path,
				    i, strerror(errno));
		v->buf[i].start =
		    mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, b.m.offset);
		if (v->buf[i].start == MAP_FAILED) {
			v->buf[i].start = NULL;
			return fail(err, errlen, why, FC_V4L2_FAIL_OTHER, "%s: mmap: %s", v->path,
				    strerror(errno));
		}
		v->buf[i].length = b.length;
		if (fc_v4l2_xioctl(v->fd, VIDIOC_QBUF, &b) < 0)
			return fail(err, errlen, why, kind_of(errno), "%s: queueing: %s", v->path,
				    strerror(errno));
	}
	return 0;
}

struct fc_v4l2 *fc_v4l2_open(const struct fc_v4l2_cfg *cfg, struct fc_v4l2_info *info,
			     enum fc_v4l2_failure *why, char *err, size_t errlen)
{
	struct fc_v4l2 *v = calloc(1, sizeof(*v));
	struct v4l2_capability cap = { 0 };
	struct fc_v4l2_caps *caps = NULL;
	struct fc_v4l2_choice choice;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	uint32_t dc;

	*why = FC_V4L2_FAIL_OTHER;
	memset(info, 0, sizeof(*info));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(v->path, sizeof(v->path), "%s", cfg->path);
	v->fd = open(cfg->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (v->fd < 0) {
		fail(err, errlen, why, kind_of(errno), "%s: %s", cfg->path, strerror(errno));
		goto fail;
	}
	if (fc_v4l2_xioctl(v->fd, VIDIOC_QUERYCAP, &cap) < 0) {
		fail(err, errlen, why, errno == ENOTTY ? FC_V4L2_FAIL_NOT_CAPTURE : kind_of(errno),
		     "%s: not a V4L2 device (%s)", cfg->path, strerror(errno));
		goto fail;
	}
	dc = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	snprintf(info->card, sizeof(info->card), "%s", (const char *)cap.card);
	if (!(dc & V4L2_CAP_VIDEO_CAPTURE)) {
		fail(err, errlen, why, FC_V4L2_FAIL_NOT_CAPTURE,
		     "%s (%s) is not a video capture device (a codec or a metadata node?)",
		     cfg->path, info->card);
		goto fail;
	}
	if (!(dc & V4L2_CAP_STREAMING)) {
		fail(err, errlen, why, FC_V4L2_FAIL_NOT_CAPTURE, "%s (%s) cannot stream (no mmap)",
		     cfg->path, info->card);
		goto fail;
	}
	caps = malloc(sizeof(*caps));
	if (!caps) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (fc_v4l2_probe(v->fd, caps, err, errlen) == 0)
		add_asked_size(v->fd, caps, cfg->width, cfg->height);
	if (caps->n == 0 || fc_v4l2_choose(caps, cfg->want, cfg->width, cfg->height, cfg->fps_milli,
					   &choice, err, errlen) < 0) {
		char inner[1024];

		snprintf(inner, sizeof(inner), "%s", err);
		fail(err, errlen, why, FC_V4L2_FAIL_FORMAT, "%s (%s) %s", cfg->path, info->card,
		     inner);
		goto fail;
	}
	if (set_format(v, &choice, info, why, err, errlen) < 0 ||
	    map_buffers(v, cfg->buffers ? cfg->buffers : 4, why, err, errlen) < 0)
		goto fail;
	if (fc_v4l2_xioctl(v->fd, VIDIOC_STREAMON, &type) < 0) {
		fail(err, errlen, why, kind_of(errno), "%s: starting the stream: %s", cfg->path,
		     strerror(errno));
		goto fail;
	}
	v->streaming = true;
	info->buffers = v->nbuf;
	free(caps);
	return v;
fail:
	free(caps);
	fc_v4l2_close(v);
	return NULL;
}

void fc_v4l2_close(struct fc_v4l2 *v)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	if (!v)
		return;
	if (v->streaming)
		(void)fc_v4l2_xioctl(v->fd, VIDIOC_STREAMOFF, &type);
	for (unsigned i = 0; i < v->nbuf; i++)
		if (v->buf[i].start)
			munmap(v->buf[i].start, v->buf[i].length);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

int fc_v4l2_fd(const struct fc_v4l2 *v)
{
	return v->fd;
}

static int requeue(struct fc_v4l2 *v, struct v4l2_buffer *b, char *err, size_t errlen)
{
	if (fc_v4l2_xioctl(v->fd, VIDIOC_QBUF, b) == 0)
		return 0;
	snprintf(err, errlen, "%s: requeueing: %s", v->path, strerror(errno));
	return -1;
}

/* Dequeues every ready buffer and requeues all but the newest good one, which *newest gets.
 * 1 with it; 0 when none was ready; -1 with err when the device failed. */
static int drain(struct fc_v4l2 *v, struct v4l2_buffer *newest, unsigned *skipped, char *err,
		 size_t errlen)
{
	bool have = false;

	*skipped = 0;
	for (;;) {
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };

		if (fc_v4l2_xioctl(v->fd, VIDIOC_DQBUF, &b) < 0) {
			if (errno == EAGAIN)
				return have ? 1 : 0;
			/* The device is failing (unplugged, most likely): the caller closes it,
			 * which returns every buffer, so none needs requeueing here. */
			snprintf(err, errlen, "%s: %s", v->path, strerror(errno));
			return -1;
		}
		if (b.index >= v->nbuf) {
			snprintf(err, errlen, "%s: driver returned buffer %u of %u", v->path,
				 b.index, v->nbuf);
			return -1;
		}
		/* A buffer the driver marks broken, or one it filled with nothing (it would hold an
		 * older frame's pixels), is never shown: back it goes, and the newest good one so
		 * far stays the newest. */
		if ((b.flags & V4L2_BUF_FLAG_ERROR) || b.bytesused == 0) {
			if (requeue(v, &b, err, errlen) < 0)
				return -1;
			(*skipped)++;
			continue;
		}
		if (have) {
			if (requeue(v, newest, err, errlen) < 0)
				return -1;
			(*skipped)++;
		}
		*newest = b;
		have = true;
	}
}

/* When the frame in b was captured, and whether that can be known. A monotonic stamp is the
 * frame's own time, however old: a frame the driver (or a stalled reader) held for seconds is
 * that old, and must be seen so. One that cannot be true (zero, or after the dequeue: another
 * clock under the flag) leaves the age unknown, and says so; without the flag there is only the
 * dequeue time. */
static void stamp(const struct v4l2_buffer *b, struct fc_v4l2_frame *f)
{
	uint64_t ns = (uint64_t)b->timestamp.tv_sec * 1000000000ull +
		      (uint64_t)b->timestamp.tv_usec * 1000ull;

	f->dequeue_ns = fc_clock_now_ns();
	if ((b->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
		f->capture_ns = f->dequeue_ns;
		f->time = FC_V4L2_TIME_DEQUEUE;
		return;
	}
	f->capture_ns = ns;
	f->time = ns && ns <= f->dequeue_ns ? FC_V4L2_TIME_DRIVER : FC_V4L2_TIME_BAD;
}

int fc_v4l2_grab(struct fc_v4l2 *v, struct fc_v4l2_frame *f, char *err, size_t errlen)
{
	struct v4l2_buffer newest = { 0 };
	unsigned skipped;
	int rc = drain(v, &newest, &skipped, err, errlen);

	if (rc <= 0)
		return rc;
	f->data = v->buf[newest.index].start;
	f->size = newest.bytesused;
	if (f->size > v->buf[newest.index].length)
		f->size = v->buf[newest.index].length;
	stamp(&newest, f);
	f->sequence = newest.sequence;
	f->skipped = skipped;
	f->lost = v->have_seq && newest.sequence > v->last_seq + 1 + skipped
		      ? newest.sequence - v->last_seq - 1 - skipped
		      : 0;
	v->have_seq = true;
	v->last_seq = newest.sequence;
	f->index = (int)newest.index;
	return 1;
}

int fc_v4l2_release(struct fc_v4l2 *v, const struct fc_v4l2_frame *f, char *err, size_t errlen)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP,
				 .index = (uint32_t)f->index };

	return requeue(v, &b, err, errlen);
}
