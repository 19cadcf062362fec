/*
 * stream: the producer thread of a streaming fake camera, and the drawing of its frames.
 *
 * The producer keeps a UVC camera's clock: frame k starts at t0 + k * interval on
 * CLOCK_MONOTONIC, whatever the reader does. At the start of a frame it takes the oldest QUEUED
 * buffer, or, when there is none, drops the frame (the sequence number still advances, as
 * uvcvideo's does). It draws the frame into the buffer without the lock, and delivers it when the
 * readout is over: FAKECAM_READOUT_MS later (by default one frame interval, as a camera at full
 * USB bandwidth takes), plus the jitter asked for. The buffer's timestamp is the start of the
 * frame, which is what uvcvideo reports (V4L2_BUF_FLAG_TSTAMP_SRC_SOE), so a frame is already that
 * old when DQBUF returns it.
 *
 * The picture is the sender's test pattern (sender/capture/pattern.h) with the frame's stamp: seq = the
 * buffer's sequence, capture_ns = its timestamp (whole microseconds, as struct timeval holds).
 * YUYV is limited range, like webcams; MJPEG is 4:2:2 at quality 80, like many UVC cameras.
 */
#include "fakecam.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <turbojpeg.h>

#include "image.h"
#include "pattern.h"
#include "stamp.h"

#define JPEG_QUALITY 80
#define M_SOS	     0xDA
#define M_DHT	     0xC4

struct fakecam_render {
	int width;
	int height;
	uint32_t fourcc;
	struct fc_pattern *pattern;
	tjhandle tj;	     /* MJPEG only */
	unsigned char *jpeg; /* worst-case size, allocated once */
	uint8_t *chroma[2];  /* 4:2:2 Cb and Cr for the encoder (the pattern draws 4:2:0) */
	uint8_t lut_y[256];  /* full range to limited range, luma ... */
	uint8_t lut_c[256];  /* ... and chroma */
	uint64_t rng;	     /* for the jitter */
};

void fakecam_render_free(struct fakecam_render *r)
{
	if (!r)
		return;
	fc_pattern_free(r->pattern);
	if (r->tj)
		tjDestroy(r->tj);
	tjFree(r->jpeg);
	free(r->chroma[0]);
	free(r->chroma[1]);
	free(r);
}

static struct fakecam_render *render_new(int width, int height, uint32_t fourcc)
{
	struct fakecam_render *r = calloc(1, sizeof(*r));
	char err[128];

	if (!r)
		return NULL;
	r->width = width;
	r->height = height;
	r->fourcc = fourcc;
	r->rng = fakecam_now_ns() | 1;
	r->pattern = fc_pattern_new(width, height, err, sizeof(err));
	if (!r->pattern) {
		fakecam_log("pattern %dx%d: %s", width, height, err);
		goto fail;
	}
	for (int v = 0; v < 256; v++) {
		r->lut_y[v] = (uint8_t)(16 + (v * 219 + 127) / 255);
		r->lut_c[v] = (uint8_t)(128 + ((v - 128) * 224 + (v >= 128 ? 127 : -127)) / 255);
	}
	if (fourcc == V4L2_PIX_FMT_MJPEG) {
		size_t csize = (size_t)(width / 2) * (size_t)height;

		r->tj = tjInitCompress();
		r->jpeg = tjAlloc((int)tjBufSize(width, height, TJSAMP_422));
		r->chroma[0] = malloc(csize);
		r->chroma[1] = malloc(csize);
		if (!r->tj || !r->jpeg || !r->chroma[0] || !r->chroma[1])
			goto fail;
	}
	return r;
fail:
	fakecam_render_free(r);
	return NULL;
}

static size_t render_yuyv(struct fakecam_render *r, const struct fc_image *img,
			  const struct fc_stamp *stamp, uint8_t *dst)
{
	size_t stride = (size_t)r->width * 2;

	for (int y = 0; y < r->height; y++) {
		const uint8_t *py = img->plane[0] + (size_t)y * (size_t)img->stride[0];
		const uint8_t *pu = img->plane[1] + (size_t)(y / 2) * (size_t)img->stride[1];
		const uint8_t *pv = img->plane[2] + (size_t)(y / 2) * (size_t)img->stride[2];
		uint8_t *o = dst + (size_t)y * stride;

		for (int x = 0; x < r->width / 2; x++) {
			o[4 * x] = r->lut_y[py[2 * x]];
			o[4 * x + 1] = r->lut_c[pu[x]];
			o[4 * x + 2] = r->lut_y[py[2 * x + 1]];
			o[4 * x + 3] = r->lut_c[pv[x]];
		}
	}
	/* The range change moved the stamp's levels; draw it again at exactly 16 and 235. */
	fc_stamp_write(dst, 2, stride, r->width, r->height, stamp);
	return stride * (size_t)r->height;
}

/* Copies a JPEG, without its DHT segments when no_dht (as many UVC cameras send it: the decoder
 * is expected to know the standard tables, which TurboJPEG used for this very image). */
static size_t copy_jpeg(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, int no_dht)
{
	size_t i = 2, o = 2;

	if (n > cap)
		n = cap;
	memcpy(dst, src, 2); /* SOI */
	while (no_dht && i + 4 <= n && src[i] == 0xFF && src[i + 1] != M_SOS) {
		size_t seg = 2 + ((size_t)src[i + 2] << 8 | src[i + 3]);

		if (i + seg > n)
			break;
		if (src[i + 1] != M_DHT) {
			memcpy(dst + o, src + i, seg);
			o += seg;
		}
		i += seg;
	}
	memcpy(dst + o, src + i, n - i);
	return o + n - i;
}

static size_t render_mjpeg(struct fakecam_render *r, const struct fc_image *img, uint32_t seq,
			   uint8_t *dst, size_t cap)
{
	const unsigned char *planes[3];
	int strides[3];
	unsigned long size = 0;
	int cw = r->width / 2;
	size_t n;

	for (int c = 0; c < 2; c++) {
		for (int y = 0; y < r->height; y++)
			memcpy(r->chroma[c] + (size_t)y * (size_t)cw,
			       img->plane[c + 1] + (size_t)(y / 2) * (size_t)img->stride[c + 1],
			       (size_t)cw);
	}
	planes[0] = img->plane[0];
	planes[1] = r->chroma[0];
	planes[2] = r->chroma[1];
	strides[0] = img->stride[0];
	strides[1] = strides[2] = cw;
	if (tjCompressFromYUVPlanes(r->tj, planes, r->width, strides, r->height, TJSAMP_422,
				    &r->jpeg, &size, JPEG_QUALITY, TJFLAG_NOREALLOC)) {
		fakecam_log("tjCompressFromYUVPlanes: %s", tjGetErrorStr2(r->tj));
		return 0;
	}
	n = copy_jpeg(r->jpeg, size, dst, cap, fakecam_cfg.no_dht);
	if (fakecam_cfg.corrupt_every &&
	    seq % (uint32_t)fakecam_cfg.corrupt_every == (uint32_t)fakecam_cfg.corrupt_every - 1) {
		/* A frame cut short on the bus: two thirds of it, no EOI. */
		n = n * 2 / 3;
		while (n >= 2 && dst[n - 2] == 0xFF && dst[n - 1] == 0xD9)
			n -= 2;
	}
	return n;
}

static size_t render_frame(struct fakecam_render *r, uint32_t seq, uint64_t ts_ns, uint8_t *dst,
			   size_t cap)
{
	struct fc_stamp stamp = { .seq = seq, .capture_ns = ts_ns };
	struct fc_image img;

	fc_pattern_draw(r->pattern, seq, ts_ns, &img);
	if (r->fourcc == V4L2_PIX_FMT_YUYV)
		return render_yuyv(r, &img, &stamp, dst);
	return render_mjpeg(r, &img, seq, dst, cap);
}

/* Waits, lock held, until the monotonic clock reaches deadline. Returns 1 if told to stop. */
static int wait_until(struct fakecam_dev *d, uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / 1000000000ull),
		.tv_nsec = (long)(deadline % 1000000000ull),
	};

	while (!d->stop && !d->gone && fakecam_now_ns() < deadline) {
		if (pthread_cond_timedwait(&d->cond, &fakecam_lock, &ts) == ETIMEDOUT)
			break;
	}
	return d->stop || d->gone;
}

/* Whether the port has captured its FAKECAM_UNPLUG_AFTER frames: then the device vanishes a frame
 * interval after delivering the last, so that a reader that keeps up gets exactly that many. */
static int unplug_due(const struct fakecam_dev *d)
{
	const struct fakecam_port *p = d->port;

	return fakecam_cfg.unplug_after && !p->unplug_done && p->frames >= fakecam_cfg.unplug_after;
}

/* Takes the oldest QUEUED buffer, or returns -1. */
static int take_queued(struct fakecam_dev *d)
{
	int idx;

	if (!d->nqueued)
		return -1;
	idx = d->queued[0];
	memmove(d->queued, d->queued + 1, (size_t)--d->nqueued * sizeof(d->queued[0]));
	d->bufs[idx].state = BUF_ACTIVE;
	return idx;
}

static uint64_t jitter_ns(struct fakecam_render *r)
{
	uint64_t span = (uint64_t)fakecam_cfg.jitter_ms * 1000000ull;

	if (!span)
		return 0;
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng % (span + 1);
}

static void deliver(struct fakecam_dev *d, int idx, size_t bytes, uint32_t seq, uint64_t ts)
{
	struct fakecam_buf *b = &d->bufs[idx];

	b->state = BUF_DONE;
	b->bytesused = (uint32_t)bytes;
	b->sequence = seq;
	b->timestamp_ns = ts;
	d->done[d->ndone++] = idx;
	/* One byte per DONE buffer makes the client's fd poll readable; DQBUF reads it back. */
	if (d->owner && d->owner->wfd >= 0 && write(d->owner->wfd, "", 1) != 1)
		fakecam_log("frame %u: the pipe did not take its byte", seq);
	pthread_cond_broadcast(&d->cond);
}

static void *producer(void *arg)
{
	struct fakecam_dev *d = arg;
	struct fakecam_render *r;
	uint64_t period, readout, t;
	int w, h, idx;
	uint32_t fourcc;

	pthread_setname_np(pthread_self(), "fakecam");
	pthread_mutex_lock(&fakecam_lock);
	w = d->stream_width;
	h = d->stream_height;
	fourcc = d->stream_fourcc;
	period = 1000000000ull / (uint64_t)d->stream_rate;
	r = d->render;
	d->render = NULL;
	pthread_mutex_unlock(&fakecam_lock);

	/* The scene takes a tenth of a second to compute: kept while the size stays the same. */
	if (r && (r->width != w || r->height != h || r->fourcc != fourcc)) {
		fakecam_render_free(r);
		r = NULL;
	}
	if (!r)
		r = render_new(w, h, fourcc);
	readout =
	    fakecam_cfg.readout_ms < 0 ? period : (uint64_t)fakecam_cfg.readout_ms * 1000000ull;

	pthread_mutex_lock(&fakecam_lock);
	t = fakecam_now_ns();
	while (r && !wait_until(d, t)) {
		uint64_t now = fakecam_now_ns();
		uint64_t ts;
		uint32_t seq;
		size_t bytes;

		if (now >= t + period) {
			/* Drawing fell behind by whole frames: skip their slots, and count them. */
			uint64_t missed = (now - t) / period;

			t += missed * period;
			d->sequence += (uint32_t)missed;
			d->overruns += missed;
			d->port->frames += missed;
		}
		if (unplug_due(d)) {
			fakecam_unplug_locked(d);
			break;
		}
		seq = d->sequence++;
		d->port->frames++;
		idx = take_queued(d);
		if (idx < 0) {
			d->dropped++;
			t += period;
			continue;
		}
		pthread_mutex_unlock(&fakecam_lock);

		ts = t / 1000 * 1000;
		bytes = render_frame(r, seq, ts, d->mem + d->buf_stride * (size_t)idx, d->buf_len);

		pthread_mutex_lock(&fakecam_lock);
		if (wait_until(d, t + readout + jitter_ns(r)))
			break; /* STREAMOFF returns the buffer to the client */
		deliver(d, idx, bytes, seq, ts);
		t += period;
		/* The last frame before an unplug gets a frame interval to be dequeued. */
		if (unplug_due(d) && !wait_until(d, fakecam_now_ns() + period)) {
			fakecam_unplug_locked(d);
			break;
		}
	}
	fakecam_log("%s: stream ends: %u frames, %llu dropped (no buffer queued), %llu overruns",
		    d->port->path, d->sequence, (unsigned long long)d->dropped,
		    (unsigned long long)d->overruns);
	d->render = r;
	pthread_mutex_unlock(&fakecam_lock);
	return NULL;
}

int fakecam_stream_start(struct fakecam_dev *d)
{
	const struct fakecam_size *sz = fakecam_size(d);
	sigset_t all, old;
	int err;

	d->stream_width = sz->width;
	d->stream_height = sz->height;
	d->stream_fourcc = fakecam_format(d)->fourcc;
	d->stream_rate = d->rate;
	d->sequence = 0;
	d->dropped = 0;
	d->overruns = 0;
	d->stop = 0;
	d->streaming = 1;
	/* The thread blocks every signal, so the client's handlers run on the client's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&d->thread, NULL, producer, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		d->streaming = 0;
		return -err;
	}
	d->thread_live = 1;
	fakecam_log("%s: streaming %dx%d %s at %d fps", d->port->path, d->stream_width,
		    d->stream_height, d->stream_fourcc == V4L2_PIX_FMT_MJPEG ? "MJPEG" : "YUYV",
		    d->stream_rate);
	return 0;
}

void fakecam_stream_stop_locked(struct fakecam_dev *d)
{
	pthread_t t;

	d->streaming = 0;
	if (!d->thread_live)
		return;
	d->stop = 1;
	pthread_cond_broadcast(&d->cond);
	if (d->joining) {
		while (d->thread_live)
			pthread_cond_wait(&d->cond, &fakecam_lock);
		return;
	}
	d->joining = 1;
	t = d->thread;
	pthread_mutex_unlock(&fakecam_lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&fakecam_lock);
	d->thread_live = 0;
	d->joining = 0;
	d->stop = 0;
	pthread_cond_broadcast(&d->cond);
}
