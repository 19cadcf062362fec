/*
 * v4l2: the ioctls of a fake UVC camera, answered the way the kernel's uvcvideo and vb2 answer
 * them (which error for which misuse, which fields they fill), because the clients under test
 * were written against those. Every function here runs with fakecam_lock held.
 *
 * The open that first sets the format or asks for buffers owns the device until it closes
 * (uvcvideo's "privileges"): another open may query but gets EBUSY when it tries to change
 * anything, as a second program does on a real camera.
 */
#include "fakecam.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/version.h>

#define CTRL_ID_MASK (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND)

/* A few of a webcam's usual controls, with uvcvideo's names: they keep their values but change
 * nothing in the picture. Sorted by id, each class before its controls, so that NEXT_CTRL
 * enumeration walks the table in order. Focus has a step of 5 (a value between is rounded, as
 * the kernel does); Auto Exposure is a menu with holes, as UVC cameras have it (items 1 and 3
 * only: QUERYMENU and S_CTRL refuse 0 and 2). */
static const struct ctrl_def {
	uint32_t id;
	const char *name;
	enum v4l2_ctrl_type type;
	int32_t min, max, step, def;
} ctrl_defs[FAKECAM_NCTRLS] = {
	{ V4L2_CID_USER_CLASS, "User Controls", V4L2_CTRL_TYPE_CTRL_CLASS, 0, 0, 0, 0 },
	{ V4L2_CID_BRIGHTNESS, "Brightness", V4L2_CTRL_TYPE_INTEGER, -64, 64, 1, 0 },
	{ V4L2_CID_CONTRAST, "Contrast", V4L2_CTRL_TYPE_INTEGER, 0, 95, 1, 32 },
	{ V4L2_CID_SATURATION, "Saturation", V4L2_CTRL_TYPE_INTEGER, 0, 100, 1, 64 },
	{ V4L2_CID_POWER_LINE_FREQUENCY, "Power Line Frequency", V4L2_CTRL_TYPE_MENU, 0, 2, 1, 1 },
	{ V4L2_CID_WHITE_BALANCE_TEMPERATURE, "White Balance Temperature", V4L2_CTRL_TYPE_INTEGER,
	  2800, 6500, 10, 4600 },
	{ V4L2_CID_CAMERA_CLASS, "Camera Controls", V4L2_CTRL_TYPE_CTRL_CLASS, 0, 0, 0, 0 },
	{ V4L2_CID_EXPOSURE_AUTO, "Auto Exposure", V4L2_CTRL_TYPE_MENU, 0, 3, 1, 3 },
	{ V4L2_CID_EXPOSURE_ABSOLUTE, "Exposure Time, Absolute", V4L2_CTRL_TYPE_INTEGER, 3, 2047, 1,
	  250 },
	{ V4L2_CID_FOCUS_ABSOLUTE, "Focus, Absolute", V4L2_CTRL_TYPE_INTEGER, 0, 250, 5, 0 },
};
static const char *const power_line_menu[] = { "Disabled", "50 Hz", "60 Hz" };
static const char *const exposure_menu[] = { NULL, "Manual Mode", NULL, "Aperture Priority Mode" };

/* A menu item's name, NULL when the control has no such item. */
static const char *menu_name(uint32_t id, uint32_t index)
{
	if (id == V4L2_CID_POWER_LINE_FREQUENCY && index < 3)
		return power_line_menu[index];
	if (id == V4L2_CID_EXPOSURE_AUTO && index < 4)
		return exposure_menu[index];
	return NULL;
}

static void copy_str(uint8_t *dst, size_t size, const char *src)
{
	snprintf((char *)dst, size, "%s", src);
}

uint32_t fakecam_sizeimage(uint32_t fourcc, int width, int height)
{
	/* YUYV is exactly this; for MJPEG it is the bound a UVC camera announces
	 * (dwMaxVideoFrameBufferSize), which is what uvcvideo reports. */
	(void)fourcc;
	return (uint32_t)width * (uint32_t)height * 2;
}

void fakecam_dev_init(struct fakecam_dev *d, struct fakecam_port *port)
{
	pthread_condattr_t attr;

	d->port = port;
	d->refs = 1; /* the port's, while plugged */
	d->fmt = 0;
	d->size = 0;
	d->rate = fakecam_cfg.formats[0].sizes[0].rates[0];
	for (int i = 0; i < FAKECAM_NCTRLS; i++)
		d->ctrls[i] = ctrl_defs[i].def;
	d->memfd = -1;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void free_buffers(struct fakecam_dev *d)
{
	if (d->mem)
		munmap(d->mem, d->buf_stride * (size_t)d->nbufs);
	if (d->memfd >= 0)
		fakecam_real_close(d->memfd);
	d->mem = NULL;
	d->memfd = -1;
	d->nbufs = 0;
	d->nqueued = 0;
	d->ndone = 0;
}

void fakecam_dev_release_queue(struct fakecam_dev *d)
{
	fakecam_stream_stop_locked(d);
	free_buffers(d);
}

void fakecam_dev_free(struct fakecam_dev *d)
{
	fakecam_stream_stop_locked(d);
	free_buffers(d);
	fakecam_render_free(d->render);
	pthread_cond_destroy(&d->cond);
	free(d);
}

/* ---- formats ---- */

static int find_format(uint32_t fourcc)
{
	for (int i = 0; i < fakecam_cfg.nformats; i++) {
		if (fakecam_cfg.formats[i].fourcc == fourcc)
			return i;
	}
	return -1;
}

/* uvcvideo's choice: the size whose rectangle differs least in area from the one asked for. */
static int nearest_size(const struct fakecam_format *fmt, uint32_t w, uint32_t h)
{
	uint64_t best = UINT64_MAX;
	int idx = 0;

	for (int i = 0; i < fmt->nsizes; i++) {
		uint64_t fw = (uint64_t)fmt->sizes[i].width, fh = (uint64_t)fmt->sizes[i].height;
		uint64_t common = (w < fw ? w : fw) * (h < fh ? h : fh);
		uint64_t diff = (uint64_t)w * h + fw * fh - 2 * common;

		if (diff < best) {
			best = diff;
			idx = i;
		}
	}
	return idx;
}

/* The offered rate whose frame interval is nearest to num/den seconds. */
static int nearest_rate(const struct fakecam_size *sz, uint32_t num, uint32_t den)
{
	double want = den ? (double)num / den : 0.0;
	double best = 1e30;
	int rate = sz->rates[0];

	if (!num || !den)
		return rate; /* a zero interval asks for the default, the fastest */
	for (int i = 0; i < sz->nrates; i++) {
		double d = 1.0 / sz->rates[i] - want;

		if (d < 0)
			d = -d;
		if (d < best) {
			best = d;
			rate = sz->rates[i];
		}
	}
	return rate;
}

static int size_has_rate(const struct fakecam_size *sz, int rate)
{
	for (int i = 0; i < sz->nrates; i++) {
		if (sz->rates[i] == rate)
			return 1;
	}
	return 0;
}

static void fill_pix(struct v4l2_pix_format *pix, const struct fakecam_format *fmt,
		     const struct fakecam_size *sz)
{
	memset(pix, 0, sizeof(*pix));
	pix->width = (uint32_t)sz->width;
	pix->height = (uint32_t)sz->height;
	pix->pixelformat = fmt->fourcc;
	pix->field = V4L2_FIELD_NONE;
	pix->bytesperline = fmt->fourcc == V4L2_PIX_FMT_YUYV ? (uint32_t)sz->width * 2 : 0;
	pix->sizeimage = fakecam_sizeimage(fmt->fourcc, sz->width, sz->height);
	/* What uvcvideo reports for a camera without a colour matching descriptor. The quantization
	 * stays "default", which for YUYV means limited range, as the bytes are. */
	pix->colorspace = V4L2_COLORSPACE_SRGB;
	pix->xfer_func = V4L2_XFER_FUNC_SRGB;
	pix->ycbcr_enc = V4L2_YCBCR_ENC_601;
	pix->priv = V4L2_PIX_FMT_PRIV_MAGIC;
}

/* May this open change the device's configuration? Takes ownership if nobody has it. */
static int acquire(struct fakecam_file *f)
{
	struct fakecam_dev *d = f->dev;

	if (fakecam_cfg.busy || (d->owner && d->owner != f))
		return -EBUSY;
	d->owner = f;
	return 0;
}

static int do_fmt(struct fakecam_file *f, struct v4l2_format *vf, int set)
{
	struct fakecam_dev *d = f->dev;
	const struct fakecam_format *fmt;
	const struct fakecam_size *sz;
	int fi, si, ret;

	if (vf->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	if (set) {
		ret = acquire(f);
		if (ret)
			return ret;
	}
	fi = find_format(vf->fmt.pix.pixelformat);
	if (fi < 0)
		fi = 0; /* an unknown format gets the default one, as uvcvideo does */
	fmt = &fakecam_cfg.formats[fi];
	si = nearest_size(fmt, vf->fmt.pix.width, vf->fmt.pix.height);
	sz = &fmt->sizes[si];
	fill_pix(&vf->fmt.pix, fmt, sz);
	if (!set)
		return 0;
	if (d->nbufs || d->streaming)
		return -EBUSY;
	d->fmt = fi;
	d->size = si;
	if (!size_has_rate(sz, d->rate))
		d->rate = nearest_rate(sz, 1, (uint32_t)d->rate);
	return 0;
}

static int do_parm(struct fakecam_file *f, struct v4l2_streamparm *p, int set)
{
	struct fakecam_dev *d = f->dev;
	struct v4l2_fract tpf = p->parm.capture.timeperframe;
	int ret;

	if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	if (set) {
		ret = acquire(f);
		if (ret)
			return ret;
		if (d->streaming)
			return -EBUSY;
		d->rate = nearest_rate(fakecam_size(d), tpf.numerator, tpf.denominator);
	}
	memset(&p->parm, 0, sizeof(p->parm));
	p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	p->parm.capture.timeperframe.numerator = 1;
	p->parm.capture.timeperframe.denominator = (uint32_t)d->rate;
	return 0;
}

static int enum_framesizes(struct v4l2_frmsizeenum *fs)
{
	int fi = find_format(fs->pixel_format);
	const struct fakecam_size *sz;

	if (fi < 0 || fs->index >= (uint32_t)fakecam_cfg.formats[fi].nsizes)
		return -EINVAL;
	sz = &fakecam_cfg.formats[fi].sizes[fs->index];
	memset(fs->reserved, 0, sizeof(fs->reserved));
	fs->type = V4L2_FRMSIZE_TYPE_DISCRETE;
	fs->discrete.width = (uint32_t)sz->width;
	fs->discrete.height = (uint32_t)sz->height;
	return 0;
}

static int enum_frameintervals(struct v4l2_frmivalenum *fi)
{
	int f = find_format(fi->pixel_format);

	if (f < 0)
		return -EINVAL;
	for (int i = 0; i < fakecam_cfg.formats[f].nsizes; i++) {
		const struct fakecam_size *sz = &fakecam_cfg.formats[f].sizes[i];

		if ((uint32_t)sz->width != fi->width || (uint32_t)sz->height != fi->height)
			continue;
		if (fi->index >= (uint32_t)sz->nrates)
			return -EINVAL;
		memset(fi->reserved, 0, sizeof(fi->reserved));
		fi->type = V4L2_FRMIVAL_TYPE_DISCRETE;
		fi->discrete.numerator = 1;
		fi->discrete.denominator = (uint32_t)sz->rates[fi->index];
		return 0;
	}
	return -EINVAL;
}

/* ---- buffers ---- */

static int reqbufs(struct fakecam_file *f, struct v4l2_requestbuffers *rb)
{
	struct fakecam_dev *d = f->dev;
	const struct fakecam_size *sz = fakecam_size(d);
	uint32_t count = rb->count;
	long page = sysconf(_SC_PAGESIZE);
	size_t total;
	int ret;

	if (rb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || rb->memory != V4L2_MEMORY_MMAP)
		return -EINVAL;
	ret = acquire(f);
	if (ret)
		return ret;
	if (d->streaming)
		return -EBUSY;
	free_buffers(d); /* mappings the client still holds stay valid: "orphaned" buffers */
	rb->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
	rb->flags = 0;
	memset(rb->reserved, 0, sizeof(rb->reserved));
	if (count == 0)
		return 0;
	if (count < FAKECAM_MIN_BUFS)
		count = FAKECAM_MIN_BUFS;
	if (count > FAKECAM_MAX_BUFS)
		count = FAKECAM_MAX_BUFS;
	d->buf_len = fakecam_sizeimage(fakecam_format(d)->fourcc, sz->width, sz->height);
	d->buf_stride = ((size_t)d->buf_len + (size_t)page - 1) / (size_t)page * (size_t)page;
	total = d->buf_stride * count;
	d->memfd = memfd_create("fakecam-buffers", MFD_CLOEXEC);
	if (d->memfd < 0)
		return -ENOMEM;
	if (ftruncate(d->memfd, (off_t)total) < 0) {
		free_buffers(d);
		return -ENOMEM;
	}
	d->mem = fakecam_real_mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		free_buffers(d);
		return -ENOMEM;
	}
	d->nbufs = (int)count;
	memset(d->bufs, 0, sizeof(d->bufs));
	rb->count = count;
	return 0;
}

static void fill_buf(const struct fakecam_dev *d, int idx, struct v4l2_buffer *b)
{
	const struct fakecam_buf *buf = &d->bufs[idx];

	memset(b, 0, sizeof(*b));
	b->index = (uint32_t)idx;
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = V4L2_MEMORY_MMAP;
	b->field = V4L2_FIELD_NONE;
	b->m.offset = (uint32_t)(d->buf_stride * (size_t)idx);
	b->length = d->buf_len;
	b->bytesused = buf->bytesused;
	b->sequence = buf->sequence;
	b->timestamp.tv_sec = (time_t)(buf->timestamp_ns / 1000000000ull);
	b->timestamp.tv_usec = (suseconds_t)(buf->timestamp_ns % 1000000000ull / 1000);
	b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
	if (buf->mapped)
		b->flags |= V4L2_BUF_FLAG_MAPPED;
	if (buf->state == BUF_QUEUED || buf->state == BUF_ACTIVE)
		b->flags |= V4L2_BUF_FLAG_QUEUED;
	else if (buf->state == BUF_DONE)
		b->flags |= V4L2_BUF_FLAG_DONE;
}

/* The checks vb2 makes before QUERYBUF, QBUF and DQBUF. */
static int check_buf(const struct fakecam_file *f, const struct v4l2_buffer *b, int io)
{
	const struct fakecam_dev *d = f->dev;

	if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	if (io && d->owner != f)
		return -EBUSY;
	if (io && b->memory != V4L2_MEMORY_MMAP)
		return -EINVAL;
	return 0;
}

static int qbuf(struct fakecam_file *f, struct v4l2_buffer *b)
{
	struct fakecam_dev *d = f->dev;
	int ret = check_buf(f, b, 1);

	if (ret)
		return ret;
	if (b->index >= (uint32_t)d->nbufs || d->bufs[b->index].state != BUF_DEQUEUED)
		return -EINVAL;
	d->bufs[b->index].state = BUF_QUEUED;
	d->queued[d->nqueued++] = (int)b->index;
	fill_buf(d, (int)b->index, b);
	return 0;
}

/* Reads back the pipe bytes of buffers no longer DONE; lock held, fd never blocks here. */
static void drain_pipe(int fd, int n)
{
	char buf[FAKECAM_MAX_BUFS * 2];

	while (n > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
			return;
		r = read(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
		if (r <= 0)
			return;
		n -= (int)r;
	}
}

static int dqbuf(struct fakecam_file *f, int fd, struct v4l2_buffer *b)
{
	struct fakecam_dev *d = f->dev;
	int nonblock = fakecam_real_fcntl(fd, F_GETFL, 0) & O_NONBLOCK;
	int ret = check_buf(f, b, 1);
	int idx;

	if (ret)
		return ret;
	for (;;) {
		if (d->gone)
			return -ENODEV;
		if (!d->streaming)
			return -EINVAL;
		if (d->ndone)
			break;
		if (nonblock)
			return -EAGAIN;
		pthread_cond_wait(&d->cond, &fakecam_lock);
	}
	idx = d->done[0];
	memmove(d->done, d->done + 1, (size_t)--d->ndone * sizeof(d->done[0]));
	d->bufs[idx].state = BUF_DEQUEUED;
	drain_pipe(fd, 1);
	fill_buf(d, idx, b);
	return 0;
}

static int streamon(struct fakecam_file *f, const int *type)
{
	struct fakecam_dev *d = f->dev;

	if (*type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	if (fakecam_cfg.busy || (d->owner && d->owner != f))
		return -EBUSY;
	if (!d->nbufs)
		return -EINVAL;
	if (d->streaming)
		return 0;
	return fakecam_stream_start(d);
}

static int streamoff(struct fakecam_file *f, int fd, const int *type)
{
	struct fakecam_dev *d = f->dev;

	if (*type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;
	if (d->owner && d->owner != f)
		return -EBUSY;
	fakecam_stream_stop_locked(d);
	if (d->gone)
		return -ENODEV;
	drain_pipe(fd, d->ndone);
	for (int i = 0; i < d->nbufs; i++)
		d->bufs[i].state = BUF_DEQUEUED;
	d->nqueued = 0;
	d->ndone = 0;
	return 0;
}

/* ---- controls ---- */

static const struct ctrl_def *find_ctrl(uint32_t id, int next, int *slot)
{
	for (int i = 0; i < FAKECAM_NCTRLS; i++) {
		if (next ? ctrl_defs[i].id > id : ctrl_defs[i].id == id) {
			*slot = i; /* index into dev->ctrls (unused for a class) */
			return &ctrl_defs[i];
		}
	}
	return NULL;
}

static uint32_t ctrl_flags(const struct ctrl_def *c)
{
	return c->type == V4L2_CTRL_TYPE_CTRL_CLASS
		   ? V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY
		   : 0;
}

static int queryctrl(struct v4l2_queryctrl *q)
{
	int slot;
	const struct ctrl_def *c =
	    find_ctrl(q->id & ~CTRL_ID_MASK, !!(q->id & V4L2_CTRL_FLAG_NEXT_CTRL), &slot);

	if (!c)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->id = c->id;
	q->type = c->type;
	copy_str(q->name, sizeof(q->name), c->name);
	q->minimum = c->min;
	q->maximum = c->max;
	q->step = c->step;
	q->default_value = c->def;
	q->flags = ctrl_flags(c);
	return 0;
}

static int query_ext_ctrl(struct v4l2_query_ext_ctrl *q)
{
	int slot;
	const struct ctrl_def *c =
	    find_ctrl(q->id & ~CTRL_ID_MASK, !!(q->id & V4L2_CTRL_FLAG_NEXT_CTRL), &slot);

	if (!c)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->id = c->id;
	q->type = c->type;
	copy_str((uint8_t *)q->name, sizeof(q->name), c->name);
	q->minimum = c->min;
	q->maximum = c->max;
	q->step = (uint64_t)c->step;
	q->default_value = c->def;
	q->flags = ctrl_flags(c);
	if (c->type != V4L2_CTRL_TYPE_CTRL_CLASS) {
		q->elem_size = 4;
		q->elems = 1;
	}
	return 0;
}

static int querymenu(struct v4l2_querymenu *m)
{
	const char *name = menu_name(m->id, m->index);

	if (!name)
		return -EINVAL;
	memset(m->name, 0, sizeof(m->name));
	copy_str(m->name, sizeof(m->name), name);
	m->reserved = 0;
	return 0;
}

/* Gets (set 0), checks (set 1) or sets (set 2) one control's value. */
static int ctrl_value(struct fakecam_dev *d, uint32_t id, int32_t *value, int set)
{
	int slot;
	const struct ctrl_def *c = find_ctrl(id, 0, &slot);

	if (!c || c->type == V4L2_CTRL_TYPE_CTRL_CLASS)
		return -EINVAL;
	if (!set) {
		*value = d->ctrls[slot];
		return 0;
	}
	if (*value < c->min || *value > c->max)
		return c->type == V4L2_CTRL_TYPE_MENU ? -EINVAL : -ERANGE;
	if (c->type == V4L2_CTRL_TYPE_MENU && !menu_name(id, (uint32_t)*value))
		return -EINVAL;
	/* The kernel rounds an integer to the nearest step. */
	*value = c->min + (*value - c->min + c->step / 2) / c->step * c->step;
	if (set == 2)
		d->ctrls[slot] = *value;
	return 0;
}

static int ext_ctrls(struct fakecam_dev *d, struct v4l2_ext_controls *ec, int set)
{
	/* Check all before setting any, as the kernel does. */
	for (int pass = set ? 1 : 0; pass <= set; pass++) {
		for (uint32_t i = 0; i < ec->count; i++) {
			int32_t value = ec->controls[i].value; /* the struct is packed */
			int ret = ctrl_value(d, ec->controls[i].id, &value, pass);

			if (!ret)
				ec->controls[i].value = value;
			if (ret) {
				ec->error_idx = set ? ec->count : i;
				return ret;
			}
		}
	}
	return 0;
}

/* ---- the dispatcher ---- */

int fakecam_ioctl_locked(struct fakecam_file *f, int fd, unsigned long req, void *arg)
{
	struct fakecam_dev *d = f->dev;
	const struct fakecam_size *sz = fakecam_size(d);

	if (d->gone)
		return -ENODEV;
	if (!arg && (_IOC_DIR(req) & (_IOC_READ | _IOC_WRITE)))
		return -EFAULT;
	switch (req) {
	case VIDIOC_QUERYCAP: {
		struct v4l2_capability *c = arg;
		char bus[32];

		memset(c, 0, sizeof(*c));
		copy_str(c->driver, sizeof(c->driver), "uvcvideo");
		copy_str(c->card, sizeof(c->card), "freshcam fake camera");
		if (d->port->index == 0)
			snprintf(bus, sizeof(bus), "usb-fakecam");
		else
			snprintf(bus, sizeof(bus), "usb-fakecam-%d", d->port->index);
		copy_str(c->bus_info, sizeof(c->bus_info), bus);
		c->version = LINUX_VERSION_CODE;
		c->device_caps =
		    V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_ENUM_FMT: {
		struct v4l2_fmtdesc *fd_ = arg;
		uint32_t index = fd_->index;
		const struct fakecam_format *fmt;

		if (fd_->type != V4L2_BUF_TYPE_VIDEO_CAPTURE ||
		    index >= (uint32_t)fakecam_cfg.nformats)
			return -EINVAL;
		fmt = &fakecam_cfg.formats[index];
		memset(fd_, 0, sizeof(*fd_));
		fd_->index = index;
		fd_->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		fd_->pixelformat = fmt->fourcc;
		if (fmt->fourcc == V4L2_PIX_FMT_MJPEG) {
			fd_->flags = V4L2_FMT_FLAG_COMPRESSED;
			copy_str(fd_->description, sizeof(fd_->description), "Motion-JPEG");
		} else {
			copy_str(fd_->description, sizeof(fd_->description), "YUYV 4:2:2");
		}
		return 0;
	}
	case VIDIOC_G_FMT: {
		struct v4l2_format *vf = arg;

		if (vf->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
			return -EINVAL;
		fill_pix(&vf->fmt.pix, fakecam_format(d), sz);
		return 0;
	}
	case VIDIOC_S_FMT:
		return do_fmt(f, arg, 1);
	case VIDIOC_TRY_FMT:
		return do_fmt(f, arg, 0);
	case VIDIOC_ENUM_FRAMESIZES:
		return enum_framesizes(arg);
	case VIDIOC_ENUM_FRAMEINTERVALS:
		return enum_frameintervals(arg);
	case VIDIOC_G_PARM:
		return do_parm(f, arg, 0);
	case VIDIOC_S_PARM:
		return do_parm(f, arg, 1);
	case VIDIOC_REQBUFS:
		return reqbufs(f, arg);
	case VIDIOC_QUERYBUF: {
		struct v4l2_buffer *b = arg;
		int ret = check_buf(f, b, 0);

		if (ret)
			return ret;
		if (b->index >= (uint32_t)d->nbufs)
			return -EINVAL;
		fill_buf(d, (int)b->index, b);
		return 0;
	}
	case VIDIOC_QBUF:
		return qbuf(f, arg);
	case VIDIOC_DQBUF:
		return dqbuf(f, fd, arg);
	case VIDIOC_STREAMON:
		return streamon(f, arg);
	case VIDIOC_STREAMOFF:
		return streamoff(f, fd, arg);
	case VIDIOC_EXPBUF:
		return -EINVAL;
	case VIDIOC_ENUMINPUT: {
		struct v4l2_input *in = arg;

		if (in->index != 0)
			return -EINVAL;
		memset(in, 0, sizeof(*in));
		copy_str(in->name, sizeof(in->name), "Camera 1");
		in->type = V4L2_INPUT_TYPE_CAMERA;
		return 0;
	}
	case VIDIOC_G_INPUT:
		*(int *)arg = 0;
		return 0;
	case VIDIOC_S_INPUT:
		return *(int *)arg == 0 ? 0 : -EINVAL;
	case VIDIOC_G_PRIORITY:
		*(uint32_t *)arg = V4L2_PRIORITY_DEFAULT;
		return 0;
	case VIDIOC_S_PRIORITY:
		return *(uint32_t *)arg <= V4L2_PRIORITY_RECORD ? 0 : -EINVAL;
	case VIDIOC_QUERYCTRL:
		return queryctrl(arg);
	case VIDIOC_QUERY_EXT_CTRL:
		return query_ext_ctrl(arg);
	case VIDIOC_QUERYMENU:
		return querymenu(arg);
	case VIDIOC_G_CTRL: {
		struct v4l2_control *c = arg;

		return ctrl_value(d, c->id, &c->value, 0);
	}
	case VIDIOC_S_CTRL: {
		struct v4l2_control *c = arg;

		return ctrl_value(d, c->id, &c->value, 2);
	}
	case VIDIOC_G_EXT_CTRLS:
		return ext_ctrls(d, arg, 0);
	case VIDIOC_TRY_EXT_CTRLS:
		return ext_ctrls(d, arg, 1);
	case VIDIOC_S_EXT_CTRLS:
		return ext_ctrls(d, arg, 2);
	case VIDIOC_CROPCAP: {
		struct v4l2_cropcap *cc = arg;

		if (cc->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
			return -EINVAL;
		cc->bounds = (struct v4l2_rect){ 0, 0, (uint32_t)sz->width, (uint32_t)sz->height };
		cc->defrect = cc->bounds;
		cc->pixelaspect = (struct v4l2_fract){ 1, 1 };
		return 0;
	}
	case VIDIOC_G_SELECTION: {
		struct v4l2_selection *s = arg;

		/* uvcvideo knows only the bounds and defaults: the camera neither crops nor
		 * scales on request. */
		if (s->type != V4L2_BUF_TYPE_VIDEO_CAPTURE ||
		    (s->target != V4L2_SEL_TGT_CROP_DEFAULT &&
		     s->target != V4L2_SEL_TGT_CROP_BOUNDS &&
		     s->target != V4L2_SEL_TGT_COMPOSE_DEFAULT &&
		     s->target != V4L2_SEL_TGT_COMPOSE_BOUNDS))
			return -EINVAL;
		s->r = (struct v4l2_rect){ 0, 0, (uint32_t)sz->width, (uint32_t)sz->height };
		return 0;
	}
	case VIDIOC_G_CROP:
		return -EINVAL;
	case VIDIOC_SUBSCRIBE_EVENT: {
		const struct v4l2_event_subscription *s = arg;

		/* Control events are accepted (none ever comes); uvcvideo has no others. */
		return s->type == V4L2_EVENT_CTRL ? 0 : -EINVAL;
	}
	case VIDIOC_UNSUBSCRIBE_EVENT:
		return 0;
	case VIDIOC_DQEVENT:
		return -ENOENT;
	default:
		return -ENOTTY;
	}
}

const char *fakecam_ioctl_name(unsigned long req)
{
	static __thread char unknown[48];

	switch (req) {
#define NAME(x)                                                                                    \
	case x:                                                                                    \
		return #x
		NAME(VIDIOC_QUERYCAP);
		NAME(VIDIOC_ENUM_FMT);
		NAME(VIDIOC_G_FMT);
		NAME(VIDIOC_S_FMT);
		NAME(VIDIOC_TRY_FMT);
		NAME(VIDIOC_ENUM_FRAMESIZES);
		NAME(VIDIOC_ENUM_FRAMEINTERVALS);
		NAME(VIDIOC_G_PARM);
		NAME(VIDIOC_S_PARM);
		NAME(VIDIOC_REQBUFS);
		NAME(VIDIOC_QUERYBUF);
		NAME(VIDIOC_QBUF);
		NAME(VIDIOC_DQBUF);
		NAME(VIDIOC_STREAMON);
		NAME(VIDIOC_STREAMOFF);
		NAME(VIDIOC_EXPBUF);
		NAME(VIDIOC_CREATE_BUFS);
		NAME(VIDIOC_ENUMINPUT);
		NAME(VIDIOC_G_INPUT);
		NAME(VIDIOC_S_INPUT);
		NAME(VIDIOC_G_PRIORITY);
		NAME(VIDIOC_S_PRIORITY);
		NAME(VIDIOC_QUERYCTRL);
		NAME(VIDIOC_QUERY_EXT_CTRL);
		NAME(VIDIOC_QUERYMENU);
		NAME(VIDIOC_G_CTRL);
		NAME(VIDIOC_S_CTRL);
		NAME(VIDIOC_G_EXT_CTRLS);
		NAME(VIDIOC_S_EXT_CTRLS);
		NAME(VIDIOC_TRY_EXT_CTRLS);
		NAME(VIDIOC_CROPCAP);
		NAME(VIDIOC_G_CROP);
		NAME(VIDIOC_S_CROP);
		NAME(VIDIOC_G_SELECTION);
		NAME(VIDIOC_S_SELECTION);
		NAME(VIDIOC_ENUMSTD);
		NAME(VIDIOC_G_STD);
		NAME(VIDIOC_S_STD);
		NAME(VIDIOC_QUERYSTD);
		NAME(VIDIOC_ENUMAUDIO);
		NAME(VIDIOC_G_AUDIO);
		NAME(VIDIOC_G_TUNER);
		NAME(VIDIOC_G_JPEGCOMP);
		NAME(VIDIOC_SUBSCRIBE_EVENT);
		NAME(VIDIOC_UNSUBSCRIBE_EVENT);
		NAME(VIDIOC_DQEVENT);
		NAME(VIDIOC_ENUM_DV_TIMINGS);
		NAME(VIDIOC_G_DV_TIMINGS);
		NAME(VIDIOC_QUERY_DV_TIMINGS);
		NAME(VIDIOC_DV_TIMINGS_CAP);
		NAME(VIDIOC_G_EDID);
		NAME(VIDIOC_LOG_STATUS);
		NAME(VIDIOC_PREPARE_BUF);
		NAME(VIDIOC_G_FBUF);
		NAME(VIDIOC_ENUMOUTPUT);
		NAME(VIDIOC_G_OUTPUT);
		NAME(VIDIOC_ENUMAUDOUT);
		NAME(VIDIOC_G_AUDOUT);
		NAME(VIDIOC_G_MODULATOR);
		NAME(VIDIOC_G_FREQUENCY);
		NAME(VIDIOC_G_SLICED_VBI_CAP);
		NAME(VIDIOC_ENUM_FREQ_BANDS);
#undef NAME
	default:
		snprintf(unknown, sizeof(unknown), "ioctl 0x%lx ('%c' %lu)", req,
			 (int)_IOC_TYPE(req) >= 32 && (int)_IOC_TYPE(req) < 127
			     ? (int)_IOC_TYPE(req)
			     : '?',
			 (unsigned long)_IOC_NR(req));
		return unknown;
	}
}
