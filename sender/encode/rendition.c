#include "rendition.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "scale.h"

/* Frames of one rung kept for reuse: the slot's, those being sent, the one being made. */
#define POOL_KEEP 6

struct fc_rendition {
	struct fc_ladder *ladder;
	struct fc_frame_pool *pool[FC_LADDER_MAX];
	/* The picture at each shift, made for the rungs of that size (index 0 unused). */
	uint8_t *buf[FC_SCALE_MAX_SHIFT + 1];
	size_t cap[FC_SCALE_MAX_SHIFT + 1];
	struct fc_image pic[FC_SCALE_MAX_SHIFT + 1];
};

struct fc_rendition *fc_rendition_new(struct fc_ladder *ladder)
{
	struct fc_rendition *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ladder = ladder;
	for (int k = 0; k < FC_LADDER_MAX; k++) {
		r->pool[k] = fc_frame_pool_new(POOL_KEEP);
		if (!r->pool[k]) {
			fc_rendition_free(r);
			return NULL;
		}
	}
	return r;
}

void fc_rendition_free(struct fc_rendition *r)
{
	if (!r)
		return;
	for (int k = 0; k < FC_LADDER_MAX; k++)
		fc_frame_pool_release(r->pool[k]);
	for (int s = 0; s <= FC_SCALE_MAX_SHIFT; s++)
		free(r->buf[s]);
	free(r);
}

/* Grows the buffer of one shift to need bytes: once per picture size, never per frame. */
static int room(struct fc_rendition *r, int shift, size_t need, char *err, size_t errlen)
{
	uint8_t *b;

	if (need <= r->cap[shift])
		return 0;
	b = realloc(r->buf[shift], need);
	if (!b) {
		snprintf(err, errlen, "out of memory for a %zu-byte scaled picture", need);
		return -1;
	}
	r->buf[shift] = b;
	r->cap[shift] = need;
	return 0;
}

/* The picture at shift into r->pic[shift]: from the nearest larger one already made (from),
 * or from the source. */
static int make_size(struct fc_rendition *r, const struct fc_rendition_src *src, int shift,
		     int from, char *err, size_t errlen)
{
	size_t need = fc_scale_bound(src->width, src->height, shift);

	if (!need) {
		snprintf(err, errlen, "a %dx%d picture is too small for 1/%d of it", src->width,
			 src->height, 1 << shift);
		return -1;
	}
	if (room(r, shift, need, err, errlen) < 0)
		return -1;
	if (from > 0)
		return fc_scale_planes(&r->pic[from], shift - from, r->buf[shift], r->cap[shift],
				       &r->pic[shift], err, errlen);
	if (src->img)
		return fc_scale_planes(src->img, shift, r->buf[shift], r->cap[shift],
				       &r->pic[shift], err, errlen);
	if (src->yuyv)
		return fc_scale_yuyv(src->yuyv, src->yuyv_stride, src->width, src->height, shift,
				     r->buf[shift], r->cap[shift], &r->pic[shift], err, errlen);
	return fc_scale_jpeg(src->jpeg, src->jpeg_size, shift, r->buf[shift], r->cap[shift],
			     &r->pic[shift], err, errlen);
}

/* Encodes rung k of the picture (img, or the source's YUYV at full size) and hands it over. */
static int encode_rung(struct fc_rendition *r, struct fc_encoder *enc, struct fc_frame *head, int k,
		       const struct fc_image *img, const struct fc_rendition_src *src, char *err,
		       size_t errlen)
{
	int w = img ? img->width : src->width;
	int h = img ? img->height : src->height;
	size_t cap = fc_encoder_bound(w, h, img ? img->subsamp : FC_SUBSAMP_420);
	struct fc_frame *f = NULL;
	size_t size = 0;
	int rc;

	/* The picture is labelled with the camera's header's size: a JPEG whose decoder sees
	 * another would give a rendition larger than its picture, which no FRAME may carry. */
	if (w > head->src_width || h > head->src_height) {
		snprintf(err, errlen, "a %dx%d rendition of a picture labelled %ux%u", w, h,
			 (unsigned)head->src_width, (unsigned)head->src_height);
		return -1;
	}
	f = cap ? fc_frame_get(r->pool[k], cap) : NULL;
	if (!f) {
		snprintf(err, errlen, "out of memory for a %dx%d rendition", w, h);
		return -1;
	}
	fc_encoder_set_quality(enc, r->ladder->rung[k].quality);
	rc = img ? fc_encoder_encode(enc, img, f->data, f->cap, &size)
		 : fc_encoder_encode_yuyv(enc, src->yuyv, src->yuyv_stride, w, h, f->data, f->cap,
					  &size);
	if (rc < 0) {
		snprintf(err, errlen, "rendition %dx%d q%d: %s", w, h, r->ladder->rung[k].quality,
			 fc_encoder_error(enc));
		fc_frame_unref(f);
		return -1;
	}
	f->size = size;
	f->seq = head->seq;
	f->capture_ns = head->capture_ns;
	f->width = (uint16_t)w;
	f->height = (uint16_t)h;
	f->src_width = head->src_width;
	f->src_height = head->src_height;
	f->quality = r->ladder->rung[k].quality;
	fc_ladder_learn(r->ladder, k, size, head->seq);
	fc_frame_set_alt(head, k, f);
	return 0;
}

int fc_rendition_make(struct fc_rendition *r, struct fc_encoder *enc, struct fc_frame *head,
		      const struct fc_rendition_src *src, struct fc_slot *slot, uint64_t *busy_ns,
		      unsigned *made, unsigned *failed, char *err, size_t errlen)
{
	uint64_t t0 = fc_clock_now_ns();
	int status = 0;
	int from = 0; /* the smallest picture made so far, as a shift */
	char why[256];

	/* Biggest first, so that each size can be made from the one before it. */
	for (int shift = 0; shift <= FC_SCALE_MAX_SHIFT; shift++) {
		bool sized = shift == 0;

		for (int k = 1; k < r->ladder->count; k++) {
			int rc = 0;

			if (!(head->planned & (1u << k)) || r->ladder->rung[k].shift != shift)
				continue;
			if (shift == 0 && !src->img && !src->yuyv) {
				/* A camera's JPEG at full size would need a whole decode and encode. */
				snprintf(why, sizeof(why),
					 "no softer full-size copy of a camera's JPEG");
				rc = -1;
			} else if (!sized) {
				rc = make_size(r, src, shift, from, why, sizeof(why));
				from = rc == 0 ? shift : from;
				sized = rc == 0;
			}
			if (rc == 0)
				rc = encode_rung(r, enc, head, k, shift ? &r->pic[shift] : src->img,
						 src, why, sizeof(why));
			if (rc == 0) {
				(*made)++;
			} else {
				/* Nobody may wait for it: sessions leave it out from now on. */
				fc_ladder_fail(r->ladder, k);
				(*failed)++;
				if (status == 0)
					snprintf(err, errlen, "%s", why);
				status = -1;
			}
			fc_slot_poke(slot);
		}
	}
	*busy_ns += fc_clock_now_ns() - t0;
	return status;
}
