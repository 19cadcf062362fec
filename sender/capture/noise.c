#include "noise.h"

#include <stdlib.h>
#include <string.h>

#define SPAN  65536 /* distinct row offsets into the table */
#define CHUNK 64    /* fixed-size inner loop: lets gcc -O2 vectorise (see fc_noise_add) */
#define SEED  0x5eedf7e5c0ffee01ull

struct fc_noise {
	int max_len;
	/* SPAN + max_len entries each, the noise split into its positive and negative parts (one
	 * of the two is 0 at each entry): adding it is unsigned 8-bit arithmetic. */
	uint8_t *up;
	uint8_t *down;
};

/* splitmix64 */
static uint64_t mix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct fc_noise *fc_noise_new(int max_len)
{
	struct fc_noise *n = calloc(1, sizeof(*n));
	size_t len = SPAN + (size_t)(max_len > 0 ? max_len : 0);
	uint64_t st = SEED ^ 0xa5a5a5a5ull;

	if (!n)
		return NULL;
	n->max_len = max_len;
	n->up = malloc(len);
	n->down = malloc(len);
	if (!n->up || !n->down) {
		fc_noise_free(n);
		return NULL;
	}
	/* Triangular, like a sensor's at moderate gain. */
	for (size_t i = 0; i < len; i++) {
		uint64_t z = mix64(&st);
		int a = (int)((z & 0xffff) % (FC_NOISE_AMP + 1));
		int b = (int)(((z >> 16) & 0xffff) % (FC_NOISE_AMP + 1));
		int v = a + b - FC_NOISE_AMP;

		n->up[i] = (uint8_t)(v > 0 ? v : 0);
		n->down[i] = (uint8_t)(v < 0 ? -v : 0);
	}
	return n;
}

void fc_noise_free(struct fc_noise *n)
{
	if (!n)
		return;
	free(n->up);
	free(n->down);
	free(n);
}

/* up + at most (255 - v), then down - at most v: a saturating add of signed noise in unsigned
 * 8-bit operations only (min, add, sub), which compilers turn into 16 or 32 pixels a step. */
static void noise_chunk(uint8_t *restrict dst, const uint8_t *restrict src,
			const uint8_t *restrict up, const uint8_t *restrict down, int len)
{
	for (int k = 0; k < len; k++) {
		uint8_t v = src[k];
		uint8_t room = (uint8_t)(255 - v);
		uint8_t u = up[k] < room ? up[k] : room;

		v = (uint8_t)(v + u);
		v = (uint8_t)(v - (down[k] < v ? down[k] : v));
		dst[k] = v;
	}
}

/* The chunks go through a local buffer for two reasons: dst may equal src (restrict forbids
 * that), and gcc 12 at -O2 vectorises only loops whose trip count is a known multiple of the
 * vector length. */
void fc_noise_add(const struct fc_noise *n, uint8_t *dst, const uint8_t *src, int len,
		  uint64_t *rng)
{
	size_t off = (size_t)(mix64(rng) % SPAN);
	const uint8_t *up = n->up + off;
	const uint8_t *down = n->down + off;
	uint8_t tmp[CHUNK];
	int x = 0;

	if (len > n->max_len)
		len = n->max_len;
	for (; x + CHUNK <= len; x += CHUNK) {
		noise_chunk(tmp, src + x, up + x, down + x, CHUNK);
		memcpy(dst + x, tmp, CHUNK);
	}
	noise_chunk(tmp, src + x, up + x, down + x, len - x);
	memcpy(dst + x, tmp, (size_t)(len - x));
}
