/*
 * fc-benchpartdec: what decoding a frame while it arrives saves (viewer/show/partdec.c, issue
 * 19). The test pattern freshcam-send draws, encoded as it encodes it (on THREADS threads,
 * default 2: bands with restart markers; 1, as freshcam-send --encoders auto encodes 1280x720
 * and 1920x1080 at 30 fps: one band, no restart markers, libjpeg's fast Huffman path), is
 * decoded three ways, each timed on CLOCK_MONOTONIC:
 *   whole      the whole JPEG at once, as viewer/show/decoder.c decodes a FRAME;
 *   parts      fed in pieces of PIECE bytes (default 16 KB, a few network reads) as they would
 *              come, all of them timed (the CPU the partial path costs in all);
 *   left       of those, only the last piece and the finish: what is left to decode once the
 *              frame's last byte is in, which the frame's age now carries.
 * Prints, per size, the median and the best of RUNS runs of each, in microseconds, and the
 * ratio left / whole. Not installed, not tested: a measuring tool.
 *
 * Usage: fc-benchpartdec [RUNS [PIECE [THREADS]]]   (default 200 runs, 16384-byte pieces, 2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "decoder.h"
#include "encoder.h"
#include "partdec.h"
#include "pattern.h"

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fc-benchpartdec: %s: %s\n", what, why);
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The pattern's frame 1 at w x h, as freshcam-send encodes it at quality 80 on threads. */
static uint8_t *make_frame(int w, int h, int threads, size_t *size)
{
	char err[256];
	struct fc_pattern *pat = fc_pattern_new(w, h, err, sizeof(err));
	struct fc_encoder *enc = fc_encoder_new(80, threads, err, sizeof(err));
	struct fc_image img;
	size_t cap = fc_encoder_bound(w, h, FC_SUBSAMP_420);
	uint8_t *out = malloc(cap);

	if (!pat || !enc || !out)
		die("setup", err);
	fc_pattern_draw(pat, 1, fc_clock_now_ns(), &img);
	if (fc_encoder_encode(enc, &img, out, cap, size) != 0)
		die("encode", fc_encoder_error(enc));
	fc_encoder_free(enc);
	fc_pattern_free(pat);
	return out;
}

/* One run of the partial decoder: the time of all feeds and finish, and of the last part. */
static void run_parts(struct fc_partdec *p, const uint8_t *jpeg, size_t size, size_t piece, int w,
		      int h, uint64_t *all, uint64_t *left)
{
	struct fc_picture pic;
	size_t last = size > piece ? size - (size - 1) % piece - 1 : 0; /* the last piece's start */
	uint64_t t0 = fc_clock_now_ns(), t1;

	if (fc_partdec_begin(p, w, h) != 0)
		die("begin", fc_partdec_error(p));
	for (size_t at = 0; at < last; at += piece) {
		if (fc_partdec_feed(p, jpeg + at, piece) != 0)
			die("feed", fc_partdec_error(p));
	}
	t1 = fc_clock_now_ns();
	if (fc_partdec_feed(p, jpeg + last, size - last) != 0 || fc_partdec_finish(p, &pic) != 0)
		die("finish", fc_partdec_error(p));
	*left = fc_clock_now_ns() - t1;
	*all = fc_clock_now_ns() - t0;
}

static void bench(int w, int h, int runs, size_t piece, int threads)
{
	char err[256];
	size_t size;
	uint8_t *jpeg = make_frame(w, h, threads, &size);
	struct fc_decoder *d = fc_decoder_new(err, sizeof(err));
	struct fc_partdec *p = fc_partdec_new(err, sizeof(err));
	uint64_t *t[3];
	static const char *names[3] = { "whole", "parts", "left" };

	if (!d || !p)
		die("setup", err);
	for (int k = 0; k < 3; k++) {
		t[k] = calloc((size_t)runs, sizeof(uint64_t));
		if (!t[k])
			die("setup", "out of memory");
	}
	for (int i = 0; i < runs; i++) {
		struct fc_picture pic;
		uint64_t t0 = fc_clock_now_ns();

		if (fc_decoder_decode(d, jpeg, size, w, h, &pic) != 0)
			die("decode", fc_decoder_error(d));
		t[0][i] = fc_clock_now_ns() - t0;
		run_parts(p, jpeg, size, piece, w, h, &t[1][i], &t[2][i]);
	}
	printf("%dx%d, %zu bytes in pieces of %zu, encoded on %d thread%s:", w, h, size, piece,
	       threads, threads > 1 ? "s" : "");
	for (int k = 0; k < 3; k++) {
		qsort(t[k], (size_t)runs, sizeof(uint64_t), cmp_u64);
		printf(" %s %.0f us (best %.0f)", names[k], (double)t[k][runs / 2] / 1e3,
		       (double)t[k][0] / 1e3);
	}
	printf(", left/whole %.3f, parts/whole %.3f\n",
	       (double)t[2][runs / 2] / (double)t[0][runs / 2],
	       (double)t[1][runs / 2] / (double)t[0][runs / 2]);
	for (int k = 0; k < 3; k++)
		free(t[k]);
	fc_partdec_free(p);
	fc_decoder_free(d);
	free(jpeg);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
	size_t piece = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 16384;
	int threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2;

	if (runs < 1 || piece < 1 || threads < 1 || threads > FC_ENCODER_MAX_THREADS)
		die("usage", "fc-benchpartdec [RUNS [PIECE [THREADS]]]");
	bench(1280, 720, runs, piece, threads);
	bench(1920, 1080, runs, piece, threads);
	return 0;
}
