#include "coder.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which names FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "yuyv.h"

/* Luma rows in one strip: libjpeg takes raw data an iMCU row at a time, 16 rows for 4:2:0. */
#define STRIP_ROWS 16

struct fc_coder {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	struct jpeg_destination_mgr dest;
	jmp_buf fail;
	/* The strip: each component's rows, each padded to whole 8-sample blocks. */
	uint8_t *strip;
	size_t strip_size;
	JSAMPROW rows[3][STRIP_ROWS];
	void (*follow)(void *arg, size_t n); /* fc_coder_follow */
	void *follow_arg;
	char err[256];
};

/* The picture being encoded, sized per component, and how its strips are filled. */
struct layout {
	void (*fill)(struct fc_coder *c, const struct layout *l, int y0);
	const struct fc_coder_src *src;
	int pw[3]; /* component widths and heights in samples */
	int ph[3];
	int padw[3];  /* the widths rounded up to whole blocks: what the DCT reads */
	int lines[3]; /* rows per strip */
};

/* libjpeg's errors end the picture: the message is kept and the encode returns -1. */
static void on_error(j_common_ptr cinfo)
{
	struct fc_coder *c = cinfo->client_data;
	char msg[JMSG_LENGTH_MAX];

	cinfo->err->format_message(cinfo, msg);
	snprintf(c->err, sizeof(c->err), "libjpeg: %s", msg);
	longjmp(c->fail, 1);
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

struct fc_coder *fc_coder_new(void)
{
	/* volatile: read again after the longjmp below. */
	struct fc_coder *volatile c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cinfo.err = jpeg_std_error(&c->jerr);
	c->jerr.error_exit = on_error;
	c->jerr.output_message = on_message;
	c->cinfo.client_data = c;
	/* jpeg_create_compress fails only when out of memory. */
	if (setjmp(c->fail)) {
		free(c);
		return NULL;
	}
	jpeg_create_compress(&c->cinfo);
	c->dest.init_destination = dest_init;
	c->dest.empty_output_buffer = dest_full;
	c->dest.term_destination = dest_term;
	c->cinfo.dest = &c->dest;
	return c;
}

void fc_coder_free(struct fc_coder *c)
{
	if (!c)
		return;
	jpeg_destroy_compress(&c->cinfo);
	free(c->strip);
	free(c);
}

/* Sizes the components of src and the strip that holds one iMCU row of them. */
static int plan(struct fc_coder *c, const struct fc_coder_src *src, struct layout *l)
{
	const struct fc_image *img = &src->img;
	int hs = img->subsamp == FC_SUBSAMP_444 ? 1 : 2; /* luma samples per chroma sample */
	int vs = img->subsamp == FC_SUBSAMP_420 ? 2 : 1;
	size_t need = 0;

	l->src = src;
	for (int k = 0; k < 3; k++) {
		l->pw[k] = k ? (img->width + hs - 1) / hs : img->width;
		l->ph[k] = k ? (img->height + vs - 1) / vs : img->height;
		l->padw[k] = (l->pw[k] + DCTSIZE - 1) / DCTSIZE * DCTSIZE;
		l->lines[k] = k ? DCTSIZE : vs * DCTSIZE;
		need += (size_t)l->padw[k] * (size_t)l->lines[k];
	}
	if (need > c->strip_size) {
		uint8_t *p = realloc(c->strip, need);

		if (!p) {
			snprintf(c->err, sizeof(c->err), "out of memory for a %d-wide strip",
				 img->width);
			return -1;
		}
		c->strip = p;
		c->strip_size = need;
	}
	return 0;
}

/* Points the rows handed to libjpeg at the strip, component after component. */
static void aim(struct fc_coder *c, const struct layout *l)
{
	uint8_t *p = c->strip;

	for (int k = 0; k < 3; k++) {
		for (int r = 0; r < l->lines[k]; r++)
			c->rows[k][r] = p + (size_t)r * (size_t)l->padw[k];
		p += (size_t)l->padw[k] * (size_t)l->lines[k];
	}
}

/* Pads strip rows [0, n) of component k to whole blocks with their last sample, and points the
 * rows below n (past the picture's bottom) at row n - 1: the edge replicated, as libjpeg does
 * for the pictures it downsamples itself, so the padding costs no bits. */
static void pad(struct fc_coder *c, const struct layout *l, int k, int n)
{
	int w = l->pw[k];

	if (l->padw[k] > w)
		for (int r = 0; r < n; r++)
			memset(c->rows[k][r] + w, c->rows[k][r][w - 1], (size_t)(l->padw[k] - w));
	for (int r = n; r < l->lines[k]; r++)
		c->rows[k][r] = c->rows[k][n - 1];
}

/* Planes whose rows are whole blocks wide are read in place; others are copied into the strip
 * to be padded (libjpeg reads whole blocks, past the end of a plane otherwise). */
static void fill_planes(struct fc_coder *c, const struct layout *l, int y0)
{
	const struct fc_image *img = &l->src->img;

	aim(c, l);
	for (int k = 0; k < 3; k++) {
		int r0 = y0 / (l->lines[0] / l->lines[k]);
		int n = l->ph[k] - r0 < l->lines[k] ? l->ph[k] - r0 : l->lines[k];

		for (int r = 0; r < n; r++) {
			const uint8_t *row =
			    img->plane[k] + (size_t)(r0 + r) * (size_t)img->stride[k];

			if (l->padw[k] == l->pw[k])
				/* libjpeg only reads its input rows; its API is not const. */
				c->rows[k][r] = (JSAMPROW)(uintptr_t)row;
			else
				memcpy(c->rows[k][r], row, (size_t)l->pw[k]);
		}
		pad(c, l, k, n);
	}
}

/* The next 16 rows of YUYV split into the strip: fc_yuyv_to_i420 on a slice of the picture. */
static void fill_yuyv(struct fc_coder *c, const struct layout *l, int y0)
{
	const struct fc_coder_src *src = l->src;
	int n = src->img.height - y0 < STRIP_ROWS ? src->img.height - y0 : STRIP_ROWS;

	/* Re-aimed each time: pad() points the bottom strip's last rows elsewhere. */
	aim(c, l);
	fc_yuyv_to_i420(src->yuyv + (size_t)y0 * src->yuyv_stride, src->yuyv_stride, src->img.width,
			n, c->rows[0][0], l->padw[0], c->rows[1][0], c->rows[2][0], l->padw[1]);
	pad(c, l, 0, n);
	pad(c, l, 1, n / 2);
	pad(c, l, 2, n / 2);
}

int fc_coder_encode(struct fc_coder *c, const struct fc_coder_src *src, int quality,
		    unsigned restart, uint8_t *out, size_t cap, size_t *size)
{
	struct jpeg_compress_struct *ci = &c->cinfo;
	JSAMPARRAY planes[3] = { c->rows[0], c->rows[1], c->rows[2] };
	enum fc_subsamp subsamp = src->img.subsamp;
	struct layout l = { .fill = src->yuyv ? fill_yuyv : fill_planes };

	if (plan(c, src, &l) < 0)
		return -1;
	if (setjmp(c->fail)) {
		jpeg_abort_compress(ci);
		return -1;
	}
	ci->image_width = (JDIMENSION)src->img.width;
	ci->image_height = (JDIMENSION)src->img.height;
	ci->input_components = 3;
	ci->in_color_space = JCS_YCbCr;
	jpeg_set_defaults(ci);
	ci->comp_info[0].h_samp_factor = subsamp == FC_SUBSAMP_444 ? 1 : 2;
	ci->comp_info[0].v_samp_factor = subsamp == FC_SUBSAMP_420 ? 2 : 1;
	for (int k = 1; k < 3; k++) {
		ci->comp_info[k].h_samp_factor = 1;
		ci->comp_info[k].v_samp_factor = 1;
	}
	jpeg_set_quality(ci, quality, TRUE);
	/* Accurate, and on SIMD machines as fast as the approximate one (tjbench -accuratedct). */
	ci->dct_method = JDCT_ISLOW;
	ci->raw_data_in = TRUE;
	ci->restart_interval = restart;
	c->dest.next_output_byte = out;
	c->dest.free_in_buffer = cap;
	jpeg_start_compress(ci, TRUE);
	while (ci->next_scanline < ci->image_height) {
		l.fill(c, &l, (int)ci->next_scanline);
		jpeg_write_raw_data(ci, planes, (JDIMENSION)l.lines[0]);
		if (c->follow)
			c->follow(c->follow_arg, cap - c->dest.free_in_buffer);
	}
	jpeg_finish_compress(ci);
	*size = cap - c->dest.free_in_buffer;
	return 0;
}

void fc_coder_follow(struct fc_coder *c, void (*fn)(void *arg, size_t n), void *arg)
{
	c->follow = fn;
	c->follow_arg = arg;
}

const char *fc_coder_error(const struct fc_coder *c)
{
	return c->err;
}

void fc_coder_band(const struct fc_coder_src *src, int y0, int rows, struct fc_coder_src *band)
{
	int vs = src->img.subsamp == FC_SUBSAMP_420 ? 2 : 1;

	*band = *src;
	band->img.height = rows;
	if (src->yuyv) {
		band->yuyv = src->yuyv + (size_t)y0 * src->yuyv_stride;
		return;
	}
	for (int k = 0; k < 3; k++)
		band->img.plane[k] =
		    src->img.plane[k] + (size_t)(k ? y0 / vs : y0) * (size_t)src->img.stride[k];
}
