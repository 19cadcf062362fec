#include "ladder.h"

#include <math.h>

/* A learnt size is trusted for this many pictures (two seconds at 30 fps); older, the rung is
 * predicted from one made more lately, since the scene may have changed. */
#define FRESH_PICTURES 60

/* The softer rung of each size: 70% of the asked quality, which makes JPEGs of camera-like
 * content about 0.62 times as large (docs/BENCHMARKS.md, the ladder). */
static int softer(int quality)
{
	int q = quality * 7 / 10;

	return q < 5 ? 5 : q;
}

void fc_ladder_init(struct fc_ladder *l, int quality, bool passthrough, bool adapt)
{
	int n = 0;

	l->rung[n++] = (struct fc_rung){ 0, (uint8_t)(passthrough ? 0 : quality) };
	if (adapt) {
		if (!passthrough)
			l->rung[n++] = (struct fc_rung){ 0, (uint8_t)softer(quality) };
		for (uint8_t shift = 1; shift <= 2; shift++) {
			l->rung[n++] = (struct fc_rung){ shift, (uint8_t)quality };
			l->rung[n++] = (struct fc_rung){ shift, (uint8_t)softer(quality) };
		}
		/* A quarter softer still, then an eighth: for links of a megabit or two, where a
		 * factor of three between rungs would waste half the link. */
		l->rung[n++] = (struct fc_rung){ 2, (uint8_t)softer(softer(quality)) };
		l->rung[n++] = (struct fc_rung){ 3, (uint8_t)softer(quality) };
	}
	l->count = n;
	for (int r = 0; r < FC_LADDER_MAX; r++)
		atomic_init(&l->want[r], 0);
	fc_ladder_forget(l);
}

void fc_ladder_size(const struct fc_ladder *l, int r, int src_w, int src_h, int *w, int *h)
{
	int shift = r >= 0 && r < l->count ? l->rung[r].shift : 0;

	/* The full picture as it is; a smaller one with even sides, which every subsampling takes. */
	*w = shift ? (src_w >> shift) & ~1 : src_w;
	*h = shift ? (src_h >> shift) & ~1 : src_h;
}

bool fc_ladder_fits(const struct fc_ladder *l, int r, int src_w, int src_h)
{
	int w, h;

	if (r < 0 || r >= l->count)
		return false;
	if (r == 0)
		return true;
	if (atomic_load(&l->broken) & (1u << r))
		return false;
	fc_ladder_size(l, r, src_w, src_h, &w, &h);
	return w >= FC_LADDER_MIN_SIDE && h >= FC_LADDER_MIN_SIDE;
}

void fc_ladder_move(struct fc_ladder *l, int from, int to)
{
	if (from == to)
		return;
	if (to >= 0 && to < l->count)
		atomic_fetch_add(&l->want[to], 1);
	if (from >= 0 && from < l->count)
		atomic_fetch_sub(&l->want[from], 1);
}

uint32_t fc_ladder_wanted(struct fc_ladder *l)
{
	uint32_t mask = 0;

	for (int r = 0; r < l->count; r++)
		if (atomic_load(&l->want[r]) > 0)
			mask |= 1u << r;
	return mask ? mask : 1u;
}

void fc_ladder_learn(struct fc_ladder *l, int r, size_t bytes, uint64_t seq)
{
	uint32_t old;
	uint64_t b = bytes > UINT32_MAX ? UINT32_MAX : bytes;

	if (r < 0 || r >= l->count || bytes == 0)
		return;
	/* One writer (the capture thread): a plain read-modify-write is enough. A quarter of each
	 * new size: a scene change shows within a few pictures, one odd picture barely. */
	old = atomic_load(&l->bytes[r]);
	atomic_store(&l->bytes[r], old ? (uint32_t)((3ull * old + b + 2) / 4) : (uint32_t)b);
	atomic_store(&l->bytes_seq[r], seq);
}

/*
 * How a rung's bytes compare with the full picture at quality 80, for predictions: a halving of
 * each side keeps about 0.32 of the bytes (not 0.25: a smaller picture has more detail per
 * pixel), and bytes go with libjpeg's quantiser scale to the power -0.6 (both fitted to the
 * photograph of the benchmarks at 1280x720, docs/BENCHMARKS.md).
 */
static double weight(const struct fc_rung *g)
{
	int q = g->quality ? g->quality : 80;
	/* libjpeg's scale reaches 0 at quality 100 (every quantiser clamped to 1), where the power
	 * below would be infinite and a prediction NaN. The photograph at quality 100 is 4.6 times
	 * its size at 80 (cjpeg, 1280x720), which the fit gives at a scale of 3: its floor. */
	double scale = q < 50 ? 5000.0 / q : fmax(200.0 - 2.0 * q, 3.0);

	return pow(0.32, g->shift) * pow(scale / 40.0, -0.6);
}

uint32_t fc_ladder_expect(struct fc_ladder *l, int r, uint64_t seq)
{
	int best = -1;
	uint64_t best_seq = 0;
	double v;

	if (r < 0 || r >= l->count)
		return 0;
	if (atomic_load(&l->bytes[r]) && atomic_load(&l->bytes_seq[r]) + FRESH_PICTURES >= seq)
		return atomic_load(&l->bytes[r]);
	for (int k = 0; k < l->count; k++) {
		uint64_t at = atomic_load(&l->bytes_seq[k]);

		if (atomic_load(&l->bytes[k]) && at >= best_seq) {
			best = k;
			best_seq = at;
		}
	}
	if (best < 0)
		return 0;
	v = atomic_load(&l->bytes[best]) * weight(&l->rung[r]) / weight(&l->rung[best]);
	return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)(v + 0.5);
}

void fc_ladder_fail(struct fc_ladder *l, int r)
{
	if (r > 0 && r < l->count)
		atomic_fetch_or(&l->broken, 1u << r);
}

void fc_ladder_forget(struct fc_ladder *l)
{
	atomic_store(&l->broken, 0);
	for (int r = 0; r < FC_LADDER_MAX; r++) {
		atomic_store(&l->bytes[r], 0);
		atomic_store(&l->bytes_seq[r], 0);
	}
}
