#include "partdec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs stdio.h's FILE before it. */
#include <jpeglib.h>
#include <turbojpeg.h>

#include "picbuf.h"
#include "proto.h"

/* Rows one call of jpeg_read_raw_data gives a component at most: 4 (the largest sampling factor
 * a JPEG may have) blocks of 8. */
#define STRIP_ROWS (4 * DCTSIZE)

enum state {
	IDLE,	/* no frame under way */
	HEADER, /* reading the header */
	WHOLE,	/* an arithmetic-coded frame: libjpeg cannot suspend in it, so it is kept whole
		 * and decoded at finish */
	START,	/* starting the decompression (a progressive JPEG is read whole here) */
	ROWS,	/* decoding the rows, one strip of an MCU's height at a time */
	FINISH, /* the picture is done; reading to its end (EOI) */
	DONE,	/* the frame is whole */
	FAILED	/* the frame was refused: err says why */
};

struct errmgr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

struct fc_partdec {
	struct jpeg_decompress_struct cinfo;
	struct errmgr jerr;
	struct jpeg_source_mgr src;
	bool created; /* cinfo holds a frame's libjpeg state */
	enum state state;
	int expect_w, expect_h;
	int tjsamp;
	size_t skip;   /* bytes of a marker libjpeg skips that have not come yet */
	size_t fed;    /* bytes of this frame fed so far */
	bool borrowed; /* libjpeg reads the caller's bytes, not p->hold */

	uint8_t *hold; /* the bytes libjpeg has yet to consume, kept between feeds */
	size_t hold_cap;

	uint8_t *planes; /* the picture's planes, one allocation (picbuf.h) */
	size_t planes_cap;
	struct fc_picture pic;

	/* The strip of the picture's last iMCU row, or of every row when the planes are narrower
	 * than whole blocks: libjpeg writes whole blocks, which would not fit in the planes. */
	uint8_t *strip;
	size_t strip_cap;
	char err[256];
};

/* libjpeg's errors and its warnings (a truncated or damaged picture: refused, as decoder.c
 * refuses them with TJFLAG_STOPONWARNING) both leave through the frame's jump buffer. */
static void on_error(j_common_ptr c)
{
	longjmp(((struct errmgr *)c->err)->jb, 1);
}

static void on_message(j_common_ptr c, int level)
{
	if (level < 0)
		longjmp(((struct errmgr *)c->err)->jb, 2);
}

static void src_init(j_decompress_ptr c)
{
	(void)c;
}

/* Suspends: the bytes fed so far are all in the buffer already. */
static boolean src_fill(j_decompress_ptr c)
{
	(void)c;
	return FALSE;
}

/* A marker libjpeg does not keep (APPn, COM) may reach past the bytes fed: the rest is dropped
 * as it comes. */
static void src_skip(j_decompress_ptr c, long n)
{
	struct fc_partdec *p = c->client_data;

	if (n <= 0)
		return;
	if ((size_t)n > p->src.bytes_in_buffer) {
		p->skip += (size_t)n - p->src.bytes_in_buffer;
		n = (long)p->src.bytes_in_buffer;
	}
	p->src.next_input_byte += n;
	p->src.bytes_in_buffer -= (size_t)n;
}

static void src_term(j_decompress_ptr c)
{
	(void)c;
}

struct fc_partdec *fc_partdec_new(char *err, size_t errlen)
{
	struct fc_partdec *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->src.init_source = src_init;
	p->src.fill_input_buffer = src_fill;
	p->src.skip_input_data = src_skip;
	p->src.resync_to_restart = jpeg_resync_to_restart;
	p->src.term_source = src_term;
	return p;
}

static void drop_frame(struct fc_partdec *p)
{
	if (p->created)
		jpeg_destroy_decompress(&p->cinfo);
	p->created = false;
}

void fc_partdec_free(struct fc_partdec *p)
{
	if (!p)
		return;
	drop_frame(p);
	free(p->hold);
	free(p->planes);
	free(p->strip);
	free(p);
}

void fc_partdec_abort(struct fc_partdec *p)
{
	drop_frame(p);
	p->state = IDLE;
}

/*
 * A fresh libjpeg state per frame, as decoder.c takes a fresh TurboJPEG handle per frame: a
 * frame without its own tables must not decode with the tables of the frame before.
 */
int fc_partdec_begin(struct fc_partdec *p, int expect_w, int expect_h)
{
	fc_partdec_abort(p);
	p->err[0] = '\0';
	p->cinfo.err = jpeg_std_error(&p->jerr.pub);
	p->jerr.pub.error_exit = on_error;
	p->jerr.pub.emit_message = on_message;
	if (setjmp(p->jerr.jb)) {
		snprintf(p->err, sizeof(p->err), "libjpeg cannot start a frame");
		p->state = FAILED;
		return -1;
	}
	jpeg_create_decompress(&p->cinfo);
	p->created = true;
	p->cinfo.client_data = p;
	p->src.next_input_byte = NULL;
	p->src.bytes_in_buffer = 0;
	p->cinfo.src = &p->src;
	p->expect_w = expect_w;
	p->expect_h = expect_h;
	p->skip = 0;
	p->fed = 0;
	p->state = HEADER;
	return 0;
}

static bool factors(const jpeg_component_info *ci, int h, int v)
{
	return ci->h_samp_factor == h && ci->v_samp_factor == v;
}

/* The subsampling as TurboJPEG names it from the components' sampling factors, with the
 * unusual spellings of 4:2:2, 4:4:0 and 4:4:4 it also accepts, so that both decoders take and
 * refuse the same pictures; -1 for what it does not name. */
static int subsamp(const struct jpeg_decompress_struct *c)
{
	const jpeg_component_info *y = &c->comp_info[0], *cb = &c->comp_info[1],
				  *cr = &c->comp_info[2];

	if (c->num_components == 1)
		return c->jpeg_color_space == JCS_GRAYSCALE || factors(y, 1, 1) ? TJSAMP_GRAY : -1;
	if (c->num_components != 3)
		return -1;
	if (factors(cb, 1, 1) && factors(cr, 1, 1)) {
		static const int hv[][3] = { { 1, 1, TJSAMP_444 },
					     { 2, 1, TJSAMP_422 },
					     { 2, 2, TJSAMP_420 },
					     { 1, 2, TJSAMP_440 },
					     { 4, 1, TJSAMP_411 } };

		for (size_t i = 0; i < sizeof(hv) / sizeof(hv[0]); i++) {
			if (factors(y, hv[i][0], hv[i][1]))
				return hv[i][2];
		}
	}
	if (factors(y, 2, 2) && factors(cb, 1, 2) && factors(cr, 1, 2))
		return TJSAMP_422;
	if (factors(y, 2, 2) && factors(cb, 2, 1) && factors(cr, 2, 1))
		return TJSAMP_440;
	if (y->h_samp_factor * y->v_samp_factor <= D_MAX_BLOCKS_IN_MCU / 3 &&
	    factors(cb, y->h_samp_factor, y->v_samp_factor) &&
	    factors(cr, y->h_samp_factor, y->v_samp_factor))
		return TJSAMP_444;
	return -1;
}

/* The header is in: the checks decoder.c makes, then the planes, then raw output as TurboJPEG
 * asks for its YUV decode (the default, accurate integer DCT; no colour conversion). */
static int header_read(struct fc_partdec *p)
{
	struct jpeg_decompress_struct *c = &p->cinfo;
	int w = (int)c->image_width, h = (int)c->image_height;

	p->tjsamp = subsamp(c);
	if (fc_picbuf_check(w, h, p->tjsamp, p->expect_w, p->expect_h, p->err, sizeof(p->err)) <
		0 ||
	    fc_picbuf_layout(&p->planes, &p->planes_cap, w, h, p->tjsamp, &p->pic, p->err,
			     sizeof(p->err)) < 0)
		return -1;
	c->raw_data_out = TRUE;
	return 0;
}

/* Whether the strip starting at luma row `row` lies whole inside the planes, block-wide rows and
 * all, so that libjpeg may write it there directly. */
static bool strip_fits(const struct fc_partdec *p, int row)
{
	const struct jpeg_decompress_struct *c = &p->cinfo;

	for (int i = 0; i < c->num_components; i++) {
		const jpeg_component_info *ci = &c->comp_info[i];
		int crow = row * ci->v_samp_factor / c->max_v_samp_factor;
		int ph = i ? p->pic.chroma_height : p->pic.height;

		if ((int)ci->width_in_blocks * DCTSIZE != p->pic.stride[i] ||
		    crow + ci->v_samp_factor * DCTSIZE > ph)
			return false;
	}
	return true;
}

/* Points rows[i] at the strip's rows of component i: in the planes, or in p->strip. */
static int strip_rows(struct fc_partdec *p, int row, bool direct, JSAMPROW rows[3][STRIP_ROWS])
{
	const struct jpeg_decompress_struct *c = &p->cinfo;
	size_t need = 0;
	uint8_t *at;

	for (int i = 0; !direct && i < c->num_components; i++)
		need += (size_t)c->comp_info[i].width_in_blocks * DCTSIZE *
			(size_t)c->comp_info[i].v_samp_factor * DCTSIZE;
	if (need > p->strip_cap) {
		uint8_t *nb = realloc(p->strip, need);

		if (!nb) {
			snprintf(p->err, sizeof(p->err),
				 "out of memory for a strip of a %dx%d JPEG", p->pic.width,
				 p->pic.height);
			return -1;
		}
		p->strip = nb;
		p->strip_cap = need;
	}
	at = p->strip;
	for (int i = 0; i < c->num_components; i++) {
		const jpeg_component_info *ci = &c->comp_info[i];
		int crow = row * ci->v_samp_factor / c->max_v_samp_factor;
		size_t iw = (size_t)ci->width_in_blocks * DCTSIZE;

		for (int r = 0; r < ci->v_samp_factor * DCTSIZE; r++) {
			if (direct) {
				rows[i][r] =
				    p->pic.plane[i] + (size_t)(crow + r) * (size_t)p->pic.stride[i];
			} else {
				rows[i][r] = at;
				at += iw;
			}
		}
	}
	return 0;
}

/* Copies a strip decoded into p->strip to the planes: the rows and columns that are in them. */
static void strip_out(struct fc_partdec *p, int row)
{
	const struct jpeg_decompress_struct *c = &p->cinfo;
	const uint8_t *at = p->strip;

	for (int i = 0; i < c->num_components; i++) {
		const jpeg_component_info *ci = &c->comp_info[i];
		int crow = row * ci->v_samp_factor / c->max_v_samp_factor;
		int ph = i ? p->pic.chroma_height : p->pic.height;
		size_t iw = (size_t)ci->width_in_blocks * DCTSIZE;
		size_t pw = (size_t)p->pic.stride[i];

		for (int r = 0; r < ci->v_samp_factor * DCTSIZE; r++, at += iw) {
			if (crow + r < ph)
				memcpy(p->pic.plane[i] + (size_t)(crow + r) * pw, at,
				       pw < iw ? pw : iw);
		}
	}
}

/*
 * Decodes the strips the bytes allow. A strip left half done resumes where it stopped (libjpeg
 * keeps its place in the MCU row), so the same rows are passed again: they depend on the row
 * alone. 1 when the rows are all done, 0 when the bytes ran out, -1 on error.
 */
static int decode_rows(struct fc_partdec *p)
{
	struct jpeg_decompress_struct *c = &p->cinfo;
	int step = c->max_v_samp_factor * DCTSIZE;
	JSAMPROW rows[3][STRIP_ROWS];
	JSAMPARRAY planes[3] = { rows[0], rows[1], rows[2] };

	while (c->output_scanline < c->output_height) {
		int row = (int)c->output_scanline;
		bool direct = strip_fits(p, row);

		if (strip_rows(p, row, direct, rows) < 0)
			return -1;
		if (jpeg_read_raw_data(c, planes, (JDIMENSION)step) == 0)
			return 0;
		if (!direct)
			strip_out(p, row);
	}
	return 1;
}

/* Runs the frame's stages as far as the bytes allow: 0 when they ran out (or the frame is
 * done), -1 on a refusal. Called only under run()'s jump buffer. */
static int advance(struct fc_partdec *p)
{
	struct jpeg_decompress_struct *c = &p->cinfo;
	int rc;

	switch (p->state) {
	case HEADER:
		if (jpeg_read_header(c, TRUE) == JPEG_SUSPENDED)
			return 0;
		if (header_read(p) < 0)
			return -1;
		p->state = c->arith_code ? WHOLE : START;
		if (p->state == WHOLE)
			return 0;
		/* fall through */
	case START:
		if (!jpeg_start_decompress(c))
			return 0;
		p->state = ROWS;
		/* fall through */
	case ROWS:
		rc = decode_rows(p);
		if (rc <= 0)
			return rc;
		p->state = FINISH;
		/* fall through */
	case FINISH:
		if (!jpeg_finish_decompress(c))
			return 0;
		p->state = DONE;
		/* fall through */
	default:
		return 0;
	}
}

/* A frame refused: every later feed and finish say why, until abort or begin. */
static int refuse(struct fc_partdec *p)
{
	p->state = FAILED;
	drop_frame(p);
	return -1;
}

/* advance() with libjpeg's errors and warnings caught; a refusal kills the frame. */
static int run(struct fc_partdec *p)
{
	char msg[JMSG_LENGTH_MAX];

	if (setjmp(p->jerr.jb)) {
		p->jerr.pub.format_message((j_common_ptr)&p->cinfo, msg);
		snprintf(p->err, sizeof(p->err),
			 "JPEG does not decode at byte %zu of its frame: %s", p->fed, msg);
		return refuse(p);
	}
	return advance(p) < 0 ? refuse(p) : 0;
}

static int grow_hold(struct fc_partdec *p, size_t need)
{
	uint8_t *nb;

	if (need <= p->hold_cap)
		return 0;
	nb = realloc(p->hold, need);
	if (!nb) {
		snprintf(p->err, sizeof(p->err), "out of memory for %zu bytes of a frame", need);
		return -1;
	}
	p->hold = nb;
	p->hold_cap = need;
	return 0;
}

/*
 * The bytes libjpeg did not consume are kept, followed by the new ones, in p->hold: libjpeg
 * resumes at the start of what it could not finish, so that run must be contiguous with what
 * comes next. When nothing is kept the new bytes are decoded where they are, without a copy
 * (p->borrowed), and only what is left of them is kept after.
 */
static int take(struct fc_partdec *p, const uint8_t *bytes, size_t n)
{
	size_t kept = p->src.bytes_in_buffer;

	p->borrowed = kept == 0;
	if (p->borrowed) {
		p->src.next_input_byte = bytes;
		p->src.bytes_in_buffer = n;
		return 0;
	}
	/* Kept bytes are in p->hold (keep_rest): moved to its start before it may move. */
	memmove(p->hold, p->src.next_input_byte, kept);
	p->src.next_input_byte = p->hold;
	if (grow_hold(p, kept + n) < 0)
		return -1;
	memcpy(p->hold + kept, bytes, n);
	p->src.next_input_byte = p->hold;
	p->src.bytes_in_buffer = kept + n;
	return 0;
}

/* After a run over the caller's bytes, what libjpeg left of them is copied into p->hold. */
static int keep_rest(struct fc_partdec *p)
{
	size_t rest = p->src.bytes_in_buffer;

	if (!p->borrowed || rest == 0)
		return 0;
	if (grow_hold(p, rest) < 0)
		return -1;
	memcpy(p->hold, p->src.next_input_byte, rest);
	p->src.next_input_byte = p->hold;
	p->borrowed = false;
	return 0;
}

int fc_partdec_feed(struct fc_partdec *p, const uint8_t *bytes, size_t n)
{
	size_t drop = p->skip < n ? p->skip : n;

	if (p->state == FAILED)
		return -1;
	if (p->state == IDLE) {
		snprintf(p->err, sizeof(p->err), "bytes fed with no frame begun");
		return -1;
	}
	if (p->state == DONE)
		return 0;
	if (n > FC_PROTO_MAX_JPEG - p->fed) {
		snprintf(p->err, sizeof(p->err), "frame longer than %u bytes", FC_PROTO_MAX_JPEG);
		return refuse(p);
	}
	p->fed += n;
	/* What is left of a marker libjpeg skips is dropped unseen. */
	p->skip -= drop;
	bytes += drop;
	n -= drop;
	if (n == 0)
		return 0;
	if (take(p, bytes, n) < 0 || (p->state != WHOLE && run(p) < 0) || keep_rest(p) < 0)
		return p->state == FAILED ? -1 : refuse(p);
	return 0;
}

int fc_partdec_finish(struct fc_partdec *p, struct fc_picture *pic)
{
	if (p->state == WHOLE) {
		p->state = START;
		run(p);
	}
	if (p->state == DONE) {
		*pic = p->pic;
		fc_partdec_abort(p);
		return 0;
	}
	if (p->state == IDLE)
		snprintf(p->err, sizeof(p->err), "no frame begun");
	else if (p->state != FAILED)
		snprintf(p->err, sizeof(p->err),
			 "JPEG ended after %zu bytes, before its picture was whole (%d of %d rows)",
			 p->fed, fc_partdec_rows(p), p->pic.height);
	fc_partdec_abort(p);
	return -1;
}

int fc_partdec_rows(const struct fc_partdec *p)
{
	if (p->state == DONE)
		return p->pic.height;
	if (p->state != ROWS && p->state != FINISH)
		return 0;
	return (int)p->cinfo.output_scanline < p->pic.height ? (int)p->cinfo.output_scanline
							     : p->pic.height;
}

size_t fc_partdec_held(const struct fc_partdec *p)
{
	return p->state == IDLE || p->state == FAILED ? 0 : p->src.bytes_in_buffer;
}

const char *fc_partdec_error(const struct fc_partdec *p)
{
	return p->err;
}
