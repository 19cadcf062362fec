/*
 * Tests of sender/encode/rendition.c: the smaller rungs of one picture, made from planes, a camera's
 * YUYV or a camera's JPEG, handed to the head frame, each once, and the slot poked for each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "encoder.h"
#include "frame.h"
#include "ladder.h"
#include "pattern.h"
#include "rendition.h"
#include "slot.h"
#include "stamp.h"

#define W 640
#define H 480

struct fixture {
	struct fc_ladder ladder;
	struct fc_rendition *r;
	struct fc_encoder *enc;
	struct fc_slot *slot;
	struct fc_frame_pool *pool;
	int poke; /* an eventfd the slot pokes */
};

static void setup(struct fixture *x, bool passthrough)
{
	char err[256];

	fc_ladder_init(&x->ladder, 80, passthrough, true);
	x->r = fc_rendition_new(&x->ladder);
	x->enc = fc_encoder_new(80, 1, err, sizeof(err));
	x->slot = fc_slot_new();
	x->pool = fc_frame_pool_new(2);
	x->poke = eventfd(0, EFD_NONBLOCK);
	assert_non_null(x->r);
	assert_non_null(x->enc);
	assert_int_equal(fc_slot_watch(x->slot, x->poke), 0);
}

static void teardown(struct fixture *x)
{
	fc_slot_unwatch(x->slot, x->poke);
	close(x->poke);
	fc_slot_free(x->slot);
	fc_encoder_free(x->enc);
	fc_rendition_free(x->r);
	fc_frame_pool_release(x->pool);
}

/* An empty head for picture 7, planning the rungs in planned. */
static struct fc_frame *head_of(struct fixture *x, uint32_t planned)
{
	struct fc_frame *h = fc_frame_get(x->pool, 0);

	h->seq = 7;
	h->capture_ns = 123456789;
	h->src_width = W;
	h->src_height = H;
	h->planned = planned;
	return h;
}

/* Rung k's JPEG decodes at the ladder's size for it, and carries the picture's numbers. */
static void check_rung(struct fixture *x, struct fc_frame *head, int k)
{
	struct fc_frame *f = fc_frame_get_alt(head, k);
	tjhandle tj = tjInitDecompress();
	int w, h, ws, hs, sub, cs;

	assert_non_null(f);
	fc_ladder_size(&x->ladder, k, W, H, &w, &h);
	assert_int_equal(
	    tjDecompressHeader3(tj, f->data, (unsigned long)f->size, &ws, &hs, &sub, &cs), 0);
	assert_int_equal(ws, w);
	assert_int_equal(hs, h);
	assert_int_equal(f->width, w);
	assert_int_equal(f->height, h);
	assert_int_equal(f->src_width, W);
	assert_int_equal(f->quality, x->ladder.rung[k].quality);
	assert_true(f->seq == 7 && f->capture_ns == 123456789);
	/* The capture learnt its size. */
	assert_int_equal(fc_ladder_expect(&x->ladder, k, 7), f->size);
	tjDestroy(tj);
	fc_frame_unref(f);
}

static uint64_t pokes(struct fixture *x)
{
	uint64_t n = 0;

	return read(x->poke, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/* From planes (the test pattern): every planned rung is made, at its size and quality, the
 * slot poked once for each; rungs not planned stay empty. */
static void test_from_planes(void **state)
{
	struct fixture x;
	char err[256];
	struct fc_pattern *p = fc_pattern_new(W, H, err, sizeof(err));
	struct fc_image img;
	struct fc_rendition_src src = { .width = W, .height = H };
	uint32_t planned = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 7);
	struct fc_frame *head;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;

	(void)state;
	setup(&x, false);
	fc_pattern_draw(p, 7, 123456789, &img);
	src.img = &img;
	head = head_of(&x, planned);
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 0);
	assert_int_equal(made, 4);
	assert_true(busy > 0);
	assert_int_equal(pokes(&x), 4);
	for (int k = 1; k < x.ladder.count; k++) {
		if (planned & (1u << k))
			check_rung(&x, head, k);
		else
			assert_null(fc_frame_get_alt(head, k));
	}
	/* Rung 0 is the head's own bytes, planned or not: here not. */
	assert_null(fc_frame_get_alt(head, 0));
	fc_frame_unref(head);
	fc_pattern_free(p);
	teardown(&x);
}

/* From a camera's YUYV: the same rungs, the stamp still readable at half size (so a viewer's
 * --check-stamps works on renditions). */
static void test_from_yuyv(void **state)
{
	struct fixture x;
	char err[256];
	uint8_t *yuyv = malloc((size_t)W * H * 2);
	struct fc_rendition_src src = {
		.yuyv = yuyv, .yuyv_stride = W * 2, .width = W, .height = H
	};
	struct fc_stamp st = { .seq = 7, .capture_ns = 123456789 };
	struct fc_stamp got;
	struct fc_frame *head;
	struct fc_frame *half;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;
	tjhandle tj = tjInitDecompress();
	uint8_t *luma = malloc((size_t)W * H);

	(void)state;
	setup(&x, false);
	for (size_t i = 0; i < (size_t)W * H * 2; i++)
		yuyv[i] = i % 2 ? 128 : (uint8_t)(16 + i % 200);
	assert_int_equal(fc_stamp_write(yuyv, 2, W * 2, W, H, &st), 0);
	head = head_of(&x, (1u << 1) | (1u << 2));
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 0);
	assert_int_equal(made, 2);
	check_rung(&x, head, 1);
	check_rung(&x, head, 2);
	half = fc_frame_get_alt(head, 2);
	assert_int_equal(tjDecompress2(tj, half->data, (unsigned long)half->size, luma, W / 2, 0,
				       H / 2, TJPF_GRAY, 0),
			 0);
	assert_int_equal(fc_stamp_read_scaled(luma, 1, W / 2, W / 2, H / 2, W, H, &got), 0);
	assert_int_equal(got.seq, 7);
	fc_frame_unref(half);
	fc_frame_unref(head);
	tjDestroy(tj);
	free(luma);
	free(yuyv);
	teardown(&x);
}

/* From a camera's JPEG (passed through as rung 0): the smaller rungs by scaled decoding; a
 * softer full-size rung cannot be made of it and is refused with a reason, while the others are
 * still made. */
static void test_from_jpeg(void **state)
{
	struct fixture x;
	char err[256];
	struct fc_pattern *p = fc_pattern_new(W, H, err, sizeof(err));
	struct fc_image img;
	size_t cap = fc_encoder_bound(W, H, FC_SUBSAMP_420);
	uint8_t *jpeg = malloc(cap);
	size_t size = 0;
	struct fc_rendition_src src = { .width = W, .height = H };
	struct fc_frame *head;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;

	(void)state;
	setup(&x, true);
	fc_pattern_draw(p, 7, 123456789, &img);
	assert_int_equal(fc_encoder_encode(x.enc, &img, jpeg, cap, &size), 0);
	src.jpeg = jpeg;
	src.jpeg_size = size;
	/* Passthrough ladder: rung 1 is the half at q80, 3 the quarter at q80. */
	head = head_of(&x, (1u << 1) | (1u << 3) | (1u << 5));
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 0);
	assert_int_equal(made, 3);
	check_rung(&x, head, 1);
	check_rung(&x, head, 3);
	check_rung(&x, head, 5);
	fc_frame_unref(head);
	/* A YUYV-born ladder has a softer full-size rung: from a JPEG it is refused. */
	fc_rendition_free(x.r);
	fc_ladder_init(&x.ladder, 80, false, true);
	x.r = fc_rendition_new(&x.ladder);
	head = head_of(&x, (1u << 1) | (1u << 2));
	made = 0;
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "full-size"));
	assert_int_equal(made, 1);
	assert_int_equal(failed, 1);
	assert_null(fc_frame_get_alt(head, 1));
	/* Left out from now on, so that no session waits for it. */
	assert_false(fc_ladder_fits(&x.ladder, 1, W, H));
	assert_true(fc_ladder_fits(&x.ladder, 2, W, H));
	check_rung(&x, head, 2);
	fc_frame_unref(head);
	free(jpeg);
	fc_pattern_free(p);
	teardown(&x);
}

/* A broken camera JPEG: nothing made, a reason given, no crash, nothing leaked. */
static void test_broken_jpeg(void **state)
{
	struct fixture x;
	char err[256] = "";
	static const uint8_t junk[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0 };
	struct fc_rendition_src src = {
		.jpeg = junk, .jpeg_size = sizeof(junk), .width = W, .height = H
	};
	struct fc_frame *head;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;

	(void)state;
	setup(&x, true);
	head = head_of(&x, (1u << 1) | (1u << 3));
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 -1);
	assert_int_equal(made, 0);
	assert_int_equal(failed, 2);
	assert_true(err[0] != '\0');
	assert_null(fc_frame_get_alt(head, 1));
	assert_false(fc_ladder_fits(&x.ladder, 1, W, H));
	assert_false(fc_ladder_fits(&x.ladder, 3, W, H));
	/* A new source (a camera back) may make them again. */
	fc_ladder_forget(&x.ladder);
	assert_true(fc_ladder_fits(&x.ladder, 3, W, H));
	fc_frame_unref(head);
	teardown(&x);
}

/* A greyscale camera JPEG, which a viewer shows but the scaled decode refuses: no rendition,
 * every rung left out, so every viewer gets the picture itself instead of waiting forever. */
static void test_grey_camera(void **state)
{
	struct fixture x;
	char err[256] = "";
	static uint8_t grey[W * H];
	unsigned char *jpeg = NULL;
	unsigned long size = 0;
	tjhandle tj = tjInitCompress();
	struct fc_rendition_src src = { .width = W, .height = H };
	struct fc_frame *head;
	uint64_t busy = 0;
	unsigned made = 0;
	unsigned failed = 0;

	(void)state;
	setup(&x, true);
	for (size_t i = 0; i < sizeof(grey); i++)
		grey[i] = (uint8_t)(i * 7);
	assert_int_equal(
	    tjCompress2(tj, grey, W, 0, H, TJPF_GRAY, &jpeg, &size, TJSAMP_GRAY, 80, 0), 0);
	src.jpeg = jpeg;
	src.jpeg_size = size;
	head = head_of(&x, (1u << 1) | (1u << 3) | (1u << 5));
	assert_int_equal(fc_rendition_make(x.r, x.enc, head, &src, x.slot, &busy, &made, &failed,
					   err, sizeof(err)),
			 -1);
	assert_int_equal(made, 0);
	assert_int_equal(failed, 3);
	for (int k = 1; k < x.ladder.count; k++)
		if (k % 2)
			assert_false(fc_ladder_fits(&x.ladder, k, W, H));
	assert_true(fc_ladder_fits(&x.ladder, 0, W, H));
	fc_frame_unref(head);
	tjFree(jpeg);
	tjDestroy(tj);
	teardown(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_planes), cmocka_unit_test(test_from_yuyv),
		cmocka_unit_test(test_from_jpeg),   cmocka_unit_test(test_broken_jpeg),
		cmocka_unit_test(test_grey_camera),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
