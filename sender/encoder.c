#include "encoder.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h> /* before jpeglib.h, which names FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <turbojpeg.h>

#include "yuyv.h"

/* Luma rows in one strip: libjpeg takes raw data an iMCU row at a time, 16 rows for 4:2:0. */
#define STRIP_ROWS 16

struct fc_encoder {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	struct jpeg_destination_mgr dest;
	jmp_buf fail;
	int quality;
	/* The strip: each component's rows, each padded to whole 8-sample blocks. */
	uint8_t *strip;
	size_t strip_size;
	JSAMPROW rows[3][STRIP_ROWS];
	char err[256];
};

/* One picture being encoded, and how its strips are filled. */
struct source {
	void (*fill)(struct fc_encoder *e, const struct source *s, int y0);
	const struct fc_image *img; /* planes, or NULL */
	const uint8_t *yuyv;	    /* or a camera's YUYV */
	size_t yuyv_stride;
	int width;
	int height;
	int pw[3]; /* component widths and heights in samples */
	int ph[3];
	int padw[3];  /* the widths rounded up to whole blocks: what the DCT reads */
	int lines[3]; /* rows per strip */
};

/* libjpeg's errors end the frame: the message is kept and the encode returns -1. */
static void on_error(j_common_ptr cinfo)
{
	struct fc_encoder *e = cinfo->client_data;
	char msg[JMSG_LENGTH_MAX];

	cinfo->err->format_message(cinfo, msg);
	snprintf(e->err, sizeof(e->err), "libjpeg: %s", msg);
	longjmp(e->fail, 1);
}

/* Library code never prints; a compressor's warnings say nothing a user could act on. */
static void on_message(j_common_ptr cinfo)
{
	(void)cinfo;
}

static void dest_init(j_compress_ptr cinfo)
{
	(void)cinfo;
}

/* The buffer is at least the bound, so this means the bound was wrong: an error, not a
 * reallocation (the frame belongs to a pool and must stay put). */
static boolean dest_full(j_compress_ptr cinfo)
{
	ERREXIT(cinfo, JERR_BUFFER_SIZE);
	return FALSE;
}

static void dest_term(j_compress_ptr cinfo)
{
	(void)cinfo;
}

struct fc_encoder *fc_encoder_new(int quality, char *err, size_t errlen)
{
	struct fc_encoder *e;

	if (quality < 1 || quality > 100) {
		snprintf(err, errlen, "JPEG quality %d: must be from 1 to 100", quality);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cinfo.err = jpeg_std_error(&e->jerr);
	e->jerr.error_exit = on_error;
	e->jerr.output_message = on_message;
	e->cinfo.client_data = e;
	if (setjmp(e->fail)) {
		snprintf(err, errlen, "%s", e->err);
		free(e);
		return NULL;
	}
	jpeg_create_compress(&e->cinfo);
	e->dest.init_destination = dest_init;
	e->dest.empty_output_buffer = dest_full;
	e->dest.term_destination = dest_term;
	e->cinfo.dest = &e->dest;
	e->quality = quality;
	return e;
}

void fc_encoder_free(struct fc_encoder *e)
{
	if (!e)
		return;
	jpeg_destroy_compress(&e->cinfo);
	free(e->strip);
	free(e);
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

/* Sizes the components of a width x height picture and the strip that holds one iMCU row. */
static int plan(struct fc_encoder *e, struct source *s, enum fc_subsamp subsamp)
{
	int hs = subsamp == FC_SUBSAMP_444 ? 1 : 2; /* luma samples per chroma sample */
	int vs = subsamp == FC_SUBSAMP_420 ? 2 : 1;
	size_t need = 0;
	uint8_t *p;

	for (int c = 0; c < 3; c++) {
		s->pw[c] = c ? (s->width + hs - 1) / hs : s->width;
		s->ph[c] = c ? (s->height + vs - 1) / vs : s->height;
		s->padw[c] = (s->pw[c] + DCTSIZE - 1) / DCTSIZE * DCTSIZE;
		s->lines[c] = c ? DCTSIZE : vs * DCTSIZE;
		need += (size_t)s->padw[c] * (size_t)s->lines[c];
	}
	if (need > e->strip_size) {
		p = realloc(e->strip, need);
		if (!p) {
			snprintf(e->err, sizeof(e->err), "out of memory for a %d-wide strip",
				 s->width);
			return -1;
		}
		e->strip = p;
		e->strip_size = need;
	}
	return 0;
}

/* Points the rows handed to libjpeg at the strip, component after component. */
static void aim(struct fc_encoder *e, const struct source *s)
{
	uint8_t *p = e->strip;

	for (int c = 0; c < 3; c++) {
		for (int r = 0; r < s->lines[c]; r++)
			e->rows[c][r] = p + (size_t)r * (size_t)s->padw[c];
		p += (size_t)s->padw[c] * (size_t)s->lines[c];
	}
}

/* Pads strip rows [0, n) of component c to whole blocks with their last sample, and points the
 * rows below n (past the picture's bottom) at row n - 1: the edge replicated, as libjpeg does
 * for the pictures it downsamples itself, so the padding costs no bits. */
static void pad(struct fc_encoder *e, const struct source *s, int c, int n)
{
	int w = s->pw[c];

	if (s->padw[c] > w)
		for (int r = 0; r < n; r++)
			memset(e->rows[c][r] + w, e->rows[c][r][w - 1], (size_t)(s->padw[c] - w));
	for (int r = n; r < s->lines[c]; r++)
		e->rows[c][r] = e->rows[c][n - 1];
}

/* Planes whose rows are whole blocks wide are read in place; others are copied into the strip
 * to be padded (libjpeg reads whole blocks, past the end of a plane otherwise). */
static void fill_planes(struct fc_encoder *e, const struct source *s, int y0)
{
	aim(e, s);
	for (int c = 0; c < 3; c++) {
		const uint8_t *plane = s->img->plane[c];
		size_t stride = (size_t)s->img->stride[c];
		int r0 = y0 / (s->lines[0] / s->lines[c]);
		int n = s->ph[c] - r0 < s->lines[c] ? s->ph[c] - r0 : s->lines[c];

		for (int r = 0; r < n; r++) {
			const uint8_t *src = plane + (size_t)(r0 + r) * stride;

			if (s->padw[c] == s->pw[c])
				/* libjpeg only reads its input rows; its API is not const. */
				e->rows[c][r] = (JSAMPROW)(uintptr_t)src;
			else
				memcpy(e->rows[c][r], src, (size_t)s->pw[c]);
		}
		pad(e, s, c, n);
	}
}

/* The next 16 rows of YUYV split into the strip: fc_yuyv_to_i420 on a slice of the picture. */
static void fill_yuyv(struct fc_encoder *e, const struct source *s, int y0)
{
	int n = s->height - y0 < STRIP_ROWS ? s->height - y0 : STRIP_ROWS;

	/* Re-aimed each time: pad() points the bottom strip's last rows elsewhere. */
	aim(e, s);
	fc_yuyv_to_i420(s->yuyv + (size_t)y0 * s->yuyv_stride, s->yuyv_stride, s->width, n,
			e->rows[0][0], s->padw[0], e->rows[1][0], e->rows[2][0], s->padw[1]);
	pad(e, s, 0, n);
	pad(e, s, 1, n / 2);
	pad(e, s, 2, n / 2);
}

static int encode(struct fc_encoder *e, struct source *s, enum fc_subsamp subsamp, uint8_t *out,
		  size_t cap, size_t *size)
{
	struct jpeg_compress_struct *ci = &e->cinfo;
	JSAMPARRAY planes[3] = { e->rows[0], e->rows[1], e->rows[2] };

	if (cap < fc_encoder_bound(s->width, s->height, subsamp)) {
		snprintf(e->err, sizeof(e->err), "output buffer of %zu bytes is below the bound",
			 cap);
		return -1;
	}
	if (s->width < 1 || s->height < 1 || s->width > JPEG_MAX_DIMENSION ||
	    s->height > JPEG_MAX_DIMENSION) {
		snprintf(e->err, sizeof(e->err),
			 "JPEG encode %dx%d: each side must be from 1 to %d", s->width, s->height,
			 (int)JPEG_MAX_DIMENSION);
		return -1;
	}
	if (plan(e, s, subsamp) < 0)
		return -1;
	if (setjmp(e->fail)) {
		jpeg_abort_compress(ci);
		return -1;
	}
	ci->image_width = (JDIMENSION)s->width;
	ci->image_height = (JDIMENSION)s->height;
	ci->input_components = 3;
	ci->in_color_space = JCS_YCbCr;
	jpeg_set_defaults(ci);
	ci->comp_info[0].h_samp_factor = subsamp == FC_SUBSAMP_444 ? 1 : 2;
	ci->comp_info[0].v_samp_factor = subsamp == FC_SUBSAMP_420 ? 2 : 1;
	for (int c = 1; c < 3; c++) {
		ci->comp_info[c].h_samp_factor = 1;
		ci->comp_info[c].v_samp_factor = 1;
	}
	jpeg_set_quality(ci, e->quality, TRUE);
	/* Accurate, and on SIMD machines as fast as the approximate one (tjbench -accuratedct). */
	ci->dct_method = JDCT_ISLOW;
	ci->raw_data_in = TRUE;
	e->dest.next_output_byte = out;
	e->dest.free_in_buffer = cap;
	jpeg_start_compress(ci, TRUE);
	while (ci->next_scanline < ci->image_height) {
		s->fill(e, s, (int)ci->next_scanline);
		jpeg_write_raw_data(ci, planes, (JDIMENSION)s->lines[0]);
	}
	jpeg_finish_compress(ci);
	*size = cap - e->dest.free_in_buffer;
	return 0;
}

int fc_encoder_encode(struct fc_encoder *e, const struct fc_image *img, uint8_t *out, size_t cap,
		      size_t *size)
{
	struct source s = {
		.fill = fill_planes, .img = img, .width = img->width, .height = img->height
	};

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
	return encode(e, &s, img->subsamp, out, cap, size);
}

int fc_encoder_encode_yuyv(struct fc_encoder *e, const uint8_t *yuyv, size_t stride, int width,
			   int height, uint8_t *out, size_t cap, size_t *size)
{
	struct source s = { .fill = fill_yuyv,
			    .yuyv = yuyv,
			    .yuyv_stride = stride,
			    .width = width,
			    .height = height };

	if (width % 2 || height % 2 || stride < (size_t)width * 2) {
		snprintf(e->err, sizeof(e->err),
			 "YUYV encode %dx%d, %zu bytes a row: needs even sides and 2 bytes a pixel",
			 width, height, stride);
		return -1;
	}
	return encode(e, &s, FC_SUBSAMP_420, out, cap, size);
}

const char *fc_encoder_error(const struct fc_encoder *e)
{
	return e->err;
}
