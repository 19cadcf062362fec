#include "encoder.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "coder.h"

/* Below this many pixels a picture is encoded whole: waking a thread would cost more than the
 * band saves. */
#define BAND_MIN_PIXELS (320 * 240)

/* A worker thread and its band. The job fields are written by the caller before it posts and
 * read by the worker after it sees the post; the result fields the other way round. */
struct worker {
	int index;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t posted;   /* jobs posted, under lock */
	uint64_t finished; /* jobs done, under lock */
	bool quit;	   /* under lock */

	struct fc_coder *coder;
	struct fc_coder_src src;
	int quality;
	unsigned restart;
	uint8_t *out; /* the band's own JPEG */
	size_t cap;
	size_t size;
	int rc;
};

struct fc_encoder {
	int quality;
	int threads; /* started */
	int in_use;
	struct fc_coder *coder; /* the caller's: the first band, or the whole picture */
	struct worker workers[FC_ENCODER_MAX_THREADS - 1];
	void (*follow)(void *arg, size_t n); /* fc_encoder_follow; NULL: not followed */
	void *follow_arg;
	/* The encode being followed: its output, its bands, and whether the first band's SOF0
	 * already says the whole picture's height (it must before any byte is reported). */
	uint8_t *out;
	int bands;
	int height;
	bool sof_done;
	char err[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	uint64_t seen = 0;

	snprintf(name, sizeof(name), "fc-encode-%d", w->index);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->posted == seen && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		seen = w->posted;
		pthread_mutex_unlock(&w->lock);

		w->rc = fc_coder_encode(w->coder, &w->src, w->quality, w->restart, w->out, w->cap,
					&w->size);

		pthread_mutex_lock(&w->lock);
		w->finished = seen;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

struct fc_encoder *fc_encoder_new(int quality, int threads, char *err, size_t errlen)
{
	struct fc_encoder *e;

	if (quality < 1 || quality > 100) {
		snprintf(err, errlen, "JPEG quality %d: must be from 1 to 100", quality);
		return NULL;
	}
	if (threads < 1 || threads > FC_ENCODER_MAX_THREADS) {
		snprintf(err, errlen, "%d encoding threads: must be from 1 to %d", threads,
			 FC_ENCODER_MAX_THREADS);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->coder = fc_coder_new())) {
		snprintf(err, errlen, "out of memory");
		free(e);
		return NULL;
	}
	e->quality = quality;
	e->threads = threads;
	e->in_use = threads;
	/* Every worker's lock first: fc_encoder_free tears down all threads - 1 of them. */
	for (int i = 0; i < threads - 1; i++) {
		pthread_mutex_init(&e->workers[i].lock, NULL);
		pthread_cond_init(&e->workers[i].cond, NULL);
	}
	for (int i = 0; i < threads - 1; i++) {
		struct worker *w = &e->workers[i];
		int rc;

		w->index = i + 1;
		w->coder = fc_coder_new();
		if (!w->coder) {
			snprintf(err, errlen, "out of memory");
			fc_encoder_free(e);
			return NULL;
		}
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			snprintf(err, errlen, "cannot start an encoding thread: %s", strerror(rc));
			fc_encoder_free(e);
			return NULL;
		}
		w->started = true;
	}
	return e;
}

void fc_encoder_free(struct fc_encoder *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->threads - 1; i++) {
		struct worker *w = &e->workers[i];

		if (w->started) {
			pthread_mutex_lock(&w->lock);
			w->quit = true;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
			pthread_join(w->thread, NULL);
		}
		fc_coder_free(w->coder);
		free(w->out);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
	fc_coder_free(e->coder);
	free(e);
}

void fc_encoder_set_quality(struct fc_encoder *e, int quality)
{
	e->quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
}

int fc_encoder_use_threads(struct fc_encoder *e, int n)
{
	e->in_use = n < 1 ? 1 : n > e->threads ? e->threads : n;
	return e->in_use;
}

static int tj_subsamp(enum fc_subsamp s)
{
	switch (s) {
	case FC_SUBSAMP_422:
		return TJSAMP_422;
	case FC_SUBSAMP_444:
		return TJSAMP_444;
	case FC_SUBSAMP_420:
		break;
	}
	return TJSAMP_420;
}

size_t fc_encoder_bound(int width, int height, enum fc_subsamp subsamp)
{
	/* TurboJPEG's documented worst case for a baseline JPEG of this size. */
	unsigned long n = tjBufSize(width, height, tj_subsamp(subsamp));

	return n == (unsigned long)-1 ? 0 : (size_t)n;
}

/* Where the entropy-coded data of a JPEG libjpeg wrote begins (after its SOS segment), and
 * where its SOF0 segment is; 0 if not found (never, for libjpeg's own output). */
static size_t find_segment(const uint8_t *j, size_t n, uint8_t marker, bool past)
{
	size_t pos = 2; /* after SOI */

	while (pos + 4 <= n && j[pos] == 0xFF) {
		size_t len = (size_t)j[pos + 2] << 8 | j[pos + 3];

		if (j[pos + 1] == marker)
			return past ? pos + 2 + len : pos;
		pos += 2 + len;
	}
	return 0;
}

/* Sets the whole picture's height in the SOF0 of the first band's JPEG, out[0..n). */
static int patch_sof(struct fc_encoder *e, uint8_t *out, size_t n, int height)
{
	size_t sof = find_segment(out, n, 0xC0, false);

	if (!sof || sof + 7 > n) {
		snprintf(e->err, sizeof(e->err), "libjpeg wrote no SOF0 segment");
		return -1;
	}
	out[sof + 5] = (uint8_t)(height >> 8);
	out[sof + 6] = (uint8_t)height;
	return 0;
}

/*
 * Appends band i + 1 to the JPEG in out[0..*n) (the bands before it, without an EOI): its
 * entropy-coded data after the restart marker RST0..RST7 in turn. Each band starts, as a
 * restart interval must, byte-aligned with its DC predictions at zero: exactly how libjpeg
 * wrote it alone. The first band's headers serve the whole picture: the restart interval
 * libjpeg wrote in its DRI is one band's MCUs, and patch_sof gives its SOF0 the whole height.
 */
static int append_band(struct fc_encoder *e, int i, uint8_t *out, size_t cap, size_t *n)
{
	const struct worker *w = &e->workers[i];
	size_t data = find_segment(w->out, w->size, 0xDA, true);
	size_t len = w->size - 2 - data;

	if (!data) {
		snprintf(e->err, sizeof(e->err), "libjpeg wrote no SOS segment");
		return -1;
	}
	if (*n + 2 + len + 2 > cap) {
		snprintf(e->err, sizeof(e->err), "the bands need more than %zu bytes", cap);
		return -1;
	}
	out[(*n)++] = 0xFF;
	out[(*n)++] = (uint8_t)(0xD0 + i % 8);
	memcpy(out + *n, w->out + data, len);
	*n += len;
	if (e->follow)
		e->follow(e->follow_arg, *n);
	return 0;
}

/* The first band's coder wrote more: reported once its SOF0 holds the whole height. */
static void first_band_grew(void *arg, size_t n)
{
	struct fc_encoder *e = arg;

	if (e->bands > 1 && !e->sof_done) {
		if (patch_sof(e, e->out, n, e->height) < 0)
			return; /* not in yet (never, after a strip): reported with the next */
		e->sof_done = true;
	}
	e->follow(e->follow_arg, n);
}

/* How many bands src is cut into, and the rows of each (a whole number of MCU rows; the last
 * band takes what is left). 1 means whole. */
static int plan_bands(const struct fc_encoder *e, const struct fc_image *img, int *rows,
		      unsigned *restart)
{
	int mcu_h = img->subsamp == FC_SUBSAMP_420 ? 16 : 8;
	int mcu_w = img->subsamp == FC_SUBSAMP_444 ? 8 : 16;
	int mcu_rows = (img->height + mcu_h - 1) / mcu_h;
	int per_band, bands;
	unsigned long interval;

	if (e->in_use == 1 || (long)img->width * img->height < BAND_MIN_PIXELS)
		return 1;
	per_band = (mcu_rows + e->in_use - 1) / e->in_use;
	bands = (mcu_rows + per_band - 1) / per_band;
	interval = (unsigned long)per_band * (unsigned long)((img->width + mcu_w - 1) / mcu_w);
	if (bands < 2 || interval > 65535) /* DRI holds 16 bits */
		return 1;
	*rows = per_band * mcu_h;
	*restart = (unsigned)interval;
	return bands;
}

/* Encodes the first band on this thread, followed if asked, then joins the other bands to it
 * in order as each worker finishes (every worker is waited for, whatever fails). */
static int encode_first_and_join(struct fc_encoder *e, const struct fc_coder_src *first,
				 unsigned restart, uint8_t *out, size_t cap, size_t *size)
{
	int rc;
	size_t n;

	fc_coder_follow(e->coder, e->follow ? first_band_grew : NULL, e);
	rc = fc_coder_encode(e->coder, first, e->quality, restart, out, cap, size);
	if (rc < 0)
		snprintf(e->err, sizeof(e->err), "%s", fc_coder_error(e->coder));
	if (rc == 0 && e->bands > 1)
		rc = patch_sof(e, out, *size, e->height);
	n = rc == 0 ? *size - 2 : 0; /* the first band without its EOI */
	for (int i = 0; i < e->bands - 1; i++) {
		struct worker *w = &e->workers[i];

		pthread_mutex_lock(&w->lock);
		while (w->finished != w->posted)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		if (w->rc < 0 && rc == 0) {
			snprintf(e->err, sizeof(e->err), "%s", fc_coder_error(w->coder));
			rc = -1;
		}
		if (rc == 0)
			rc = append_band(e, i, out, cap, &n);
	}
	if (rc == 0 && e->bands > 1) {
		out[n++] = 0xFF;
		out[n++] = 0xD9;
		*size = n;
	}
	if (rc == 0 && e->follow)
		e->follow(e->follow_arg, *size);
	return rc;
}

static int encode(struct fc_encoder *e, const struct fc_coder_src *src, uint8_t *out, size_t cap,
		  size_t *size)
{
	const struct fc_image *img = &src->img;
	int rows = img->height;
	unsigned restart = 0;
	int bands;
	struct fc_coder_src first;

	/* 65500: libjpeg's JPEG_MAX_DIMENSION. */
	if (img->width < 1 || img->height < 1 || img->width > 65500 || img->height > 65500) {
		snprintf(e->err, sizeof(e->err),
			 "JPEG encode %dx%d: each side must be from 1 to 65500", img->width,
			 img->height);
		return -1;
	}
	if (cap < fc_encoder_bound(img->width, img->height, img->subsamp)) {
		snprintf(e->err, sizeof(e->err), "output buffer of %zu bytes is below the bound",
			 cap);
		return -1;
	}
	bands = plan_bands(e, img, &rows, &restart);
	/* Every band's buffer first, so that a failure leaves no job posted. */
	for (int i = 0; i < bands - 1; i++) {
		struct worker *w = &e->workers[i];
		size_t need = fc_encoder_bound(img->width, rows, img->subsamp);

		if (need > w->cap) {
			uint8_t *p = realloc(w->out, need);

			if (!p) {
				snprintf(e->err, sizeof(e->err), "out of memory for a band");
				return -1;
			}
			w->out = p;
			w->cap = need;
		}
	}
	for (int i = 0; i < bands - 1; i++) {
		struct worker *w = &e->workers[i];
		int y0 = (i + 1) * rows;

		fc_coder_band(src, y0, img->height - y0 < rows ? img->height - y0 : rows, &w->src);
		w->quality = e->quality;
		w->restart = restart;
		pthread_mutex_lock(&w->lock);
		w->posted++;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	fc_coder_band(src, 0, rows, &first);
	e->out = out;
	e->bands = bands;
	e->height = img->height;
	e->sof_done = false;
	return encode_first_and_join(e, &first, restart, out, cap, size);
}

int fc_encoder_encode(struct fc_encoder *e, const struct fc_image *img, uint8_t *out, size_t cap,
		      size_t *size)
{
	struct fc_coder_src src = { .img = *img };

	/* Chroma planes of an odd side are ambiguous (rounded up or down?); refused rather than
	 * guessed at. */
	if ((img->subsamp != FC_SUBSAMP_444 && img->width % 2) ||
	    (img->subsamp == FC_SUBSAMP_420 && img->height % 2)) {
		snprintf(e->err, sizeof(e->err), "JPEG encode %dx%d: %s chroma needs an even %s",
			 img->width, img->height,
			 img->subsamp == FC_SUBSAMP_420 ? "4:2:0" : "4:2:2",
			 img->subsamp == FC_SUBSAMP_420 ? "width and height" : "width");
		return -1;
	}
	return encode(e, &src, out, cap, size);
}

int fc_encoder_encode_yuyv(struct fc_encoder *e, const uint8_t *yuyv, size_t stride, int width,
			   int height, uint8_t *out, size_t cap, size_t *size)
{
	struct fc_coder_src src = {
		.img = { .width = width, .height = height, .subsamp = FC_SUBSAMP_420 },
		.yuyv = yuyv,
		.yuyv_stride = stride,
	};

	if (width % 2 || height % 2 || stride < (size_t)width * 2) {
		snprintf(e->err, sizeof(e->err),
			 "YUYV encode %dx%d, %zu bytes a row: needs even sides and 2 bytes a pixel",
			 width, height, stride);
		return -1;
	}
	return encode(e, &src, out, cap, size);
}

void fc_encoder_follow(struct fc_encoder *e, void (*fn)(void *arg, size_t n), void *arg)
{
	e->follow = fn;
	e->follow_arg = arg;
}

const char *fc_encoder_error(const struct fc_encoder *e)
{
	return e->err;
}
