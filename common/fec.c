/* fec: Reed-Solomon parity over a frame's chunks, and the choice of its count (fec.h). */
#include "fec.h"

#include <isa-l/erasure_code.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgram.h"

/* The largest k_j x m_j of one group (k_j + m_j <= 255): what the tables are sized for. */
#define MAX_CELLS ((FC_FEC_MAX_BLOCK / 2) * (FC_FEC_MAX_BLOCK - FC_FEC_MAX_BLOCK / 2))

struct fc_fec {
	uint8_t *tables;				  /* ISA-L's: 32 bytes a coefficient */
	uint8_t coef[MAX_CELLS];			  /* the rows being applied */
	uint8_t sq[FC_FEC_MAX_BLOCK * FC_FEC_MAX_BLOCK];  /* the square part to invert */
	uint8_t inv[FC_FEC_MAX_BLOCK * FC_FEC_MAX_BLOCK]; /* its inverse */
	uint8_t *src[FC_FEC_MAX_BLOCK], *dst[FC_FEC_MAX_BLOCK];
	uint8_t lost[FC_FEC_MAX_BLOCK], used[FC_FEC_MAX_BLOCK]; /* places in a group */
	uint8_t pad[FC_DGRAM_MAX_CHUNK]; /* the last data chunk, padded, for the encoder */
	uint8_t inverse[256];		 /* 1/x in GF(2^8): ISA-L's gf_inv is a loop */
	uint8_t col[FC_FEC_MAX_BLOCK];	 /* one data place's coefficients in the parity used */
};

static unsigned ceil_div(unsigned a, unsigned b)
{
	return (a + b - 1) / b;
}

unsigned fc_fec_groups(unsigned k, unsigned m)
{
	unsigned g = 1;

	if (k < 1 || k > FC_DGRAM_MAX_CHUNKS || m < 1 || m > k || m > FC_FEC_MAX_PARITY)
		return 0;
	while (ceil_div(k, g) + ceil_div(m, g) > FC_FEC_MAX_BLOCK)
		g++;
	return g;
}

struct fc_fec *fc_fec_new(char *err, size_t errlen)
{
	struct fc_fec *f = calloc(1, sizeof(*f));

	if (f)
		f->tables = malloc(32 * (size_t)MAX_CELLS);
	if (!f || !f->tables) {
		snprintf(err, errlen, "forward error correction: out of memory");
		free(f);
		return NULL;
	}
	for (int x = 1; x < 256; x++)
		f->inverse[x] = gf_inv((uint8_t)x);
	return f;
}

void fc_fec_free(struct fc_fec *f)
{
	if (!f)
		return;
	free(f->tables);
	free(f);
}

/* Members of group j of g among n: j, j + g, ... */
static unsigned members(unsigned n, unsigned g, unsigned j)
{
	return j < n ? ceil_div(n - j, g) : 0;
}

/* The coefficient of data place a in parity place b of a group of kj data chunks (fec.h). */
static uint8_t coef(const struct fc_fec *f, unsigned kj, unsigned b, unsigned a)
{
	return f->inverse[(kj + b) ^ a];
}

static bool bit(const uint8_t *map, unsigned i)
{
	return map[i / 8] & (1u << (i % 8));
}

int fc_fec_encode(struct fc_fec *f, const uint8_t *frame, uint32_t total, uint32_t cs, unsigned m,
		  uint8_t *parity)
{
	unsigned k = fc_dgram_count(total, cs), g = k ? fc_fec_groups(k, m) : 0;

	if (g == 0)
		return -1;
	memset(f->pad, 0, cs);
	memcpy(f->pad, frame + (size_t)(k - 1) * cs, total - (size_t)(k - 1) * cs);
	for (unsigned j = 0; j < g && j < m; j++) {
		unsigned kj = members(k, g, j), mj = members(m, g, j);

		for (unsigned a = 0; a < kj; a++) {
			unsigned i = j + a * g;

			/* ISA-L takes its sources as non-const; it only reads them. */
			f->src[a] =
			    i == k - 1 ? f->pad : (uint8_t *)(uintptr_t)(frame + (size_t)i * cs);
		}
		for (unsigned b = 0; b < mj; b++) {
			f->dst[b] = parity + (size_t)(j + b * g) * cs;
			for (unsigned a = 0; a < kj; a++)
				f->coef[b * kj + a] = coef(f, kj, b, a);
		}
		ec_init_tables((int)kj, (int)mj, f->coef, f->tables);
		ec_encode_data((int)cs, (int)kj, (int)mj, f->tables, f->src, f->dst);
	}
	return 0;
}

/* The places of group j's lost data chunks into f->lost and the first as many parity places in
 * into f->used; how many are lost, or -1 when the parity in cannot cover them. */
static int plan_group(struct fc_fec *f, unsigned k, unsigned m, unsigned g, unsigned j,
		      const uint8_t *have_data, const uint8_t *have_parity)
{
	unsigned kj = members(k, g, j), mj = members(m, g, j), e = 0, u = 0;

	for (unsigned a = 0; a < kj; a++)
		if (!bit(have_data, j + a * g))
			f->lost[e++] = (uint8_t)a;
	for (unsigned b = 0; b < mj && u < e; b++)
		if (bit(have_parity, j + b * g))
			f->used[u++] = (uint8_t)b;
	return u == e ? (int)e : -1;
}

/*
 * Group j's e lost data chunks. With P the parity places used and L the lost ones, the parity
 * is B d_L + C d_S (B its columns L, C the rest), so d_L = B^-1 p_P + B^-1 C d_S: one e x kj
 * matrix over the surviving data and the parity, applied as an encode. Inverting only the
 * e x e part keeps the cost at e^3 + e^2 kj products, not kj^3.
 */
static int rebuild_group(struct fc_fec *f, uint8_t *buf, uint32_t cs, unsigned k, unsigned g,
			 unsigned j, unsigned e, const uint8_t *have_data, const uint8_t *parity)
{
	unsigned kj = members(k, g, j), s = 0;

	for (unsigned r = 0; r < e; r++)
		for (unsigned c = 0; c < e; c++)
			f->sq[r * e + c] = coef(f, kj, f->used[r], f->lost[c]);
	if (gf_invert_matrix(f->sq, f->inv, (int)e) != 0)
		return -1; /* never for a Cauchy matrix: every square part is invertible */
	for (unsigned a = 0; a < kj; a++) {
		if (!bit(have_data, j + a * g))
			continue;
		f->src[s] = buf + (size_t)(j + a * g) * cs;
		for (unsigned c = 0; c < e; c++)
			f->col[c] = coef(f, kj, f->used[c], a);
		for (unsigned r = 0; r < e; r++) {
			uint8_t v = 0;

			for (unsigned c = 0; c < e; c++)
				v ^= gf_mul(f->inv[r * e + c], f->col[c]);
			f->coef[r * kj + s] = v;
		}
		s++;
	}
	for (unsigned c = 0; c < e; c++, s++) {
		/* ISA-L takes its sources as non-const; it only reads them. */
		f->src[s] = (uint8_t *)(uintptr_t)(parity + (size_t)(j + f->used[c] * g) * cs);
		for (unsigned r = 0; r < e; r++)
			f->coef[r * kj + s] = f->inv[r * e + c];
	}
	for (unsigned r = 0; r < e; r++)
		f->dst[r] = buf + (size_t)(j + f->lost[r] * g) * cs;
	ec_init_tables((int)kj, (int)e, f->coef, f->tables);
	ec_encode_data((int)cs, (int)kj, (int)e, f->tables, f->src, f->dst);
	return 0;
}

int fc_fec_rebuild(struct fc_fec *f, uint8_t *buf, uint32_t total, uint32_t cs, unsigned m,
		   const uint8_t *have_data, const uint8_t *parity, const uint8_t *have_parity)
{
	unsigned k = fc_dgram_count(total, cs), g = k ? fc_fec_groups(k, m) : 0;
	int rebuilt = 0;

	if (g == 0)
		return -1;
	for (unsigned j = 0; j < g; j++) /* all or nothing: every group first */
		if (plan_group(f, k, m, g, j, have_data, have_parity) < 0)
			return -1;
	memset(buf + total, 0, (size_t)k * cs - total);
	for (unsigned j = 0; j < g; j++) {
		int e = plan_group(f, k, m, g, j, have_data, have_parity);

		if (e > 0 && rebuild_group(f, buf, cs, k, g, j, (unsigned)e, have_data, parity) < 0)
			return -1;
		rebuilt += e;
	}
	return rebuilt;
}

/* The share of n chunks, on a chain where a chunk is lost with probability a after a lost one
 * and q after one that came (the first at the rate p), with at most c lost. */
static double at_most(unsigned n, unsigned c, double p, double a, double q)
{
	double lost[FC_FEC_MAX_BLOCK + 1] = { 0 }, came[FC_FEC_MAX_BLOCK + 1] = { 0 }, sum = 0;

	/* lost[i], came[i]: i chunks lost so far, the last lost or not; more than c: dropped. */
	if (c > 0)
		lost[1] = p;
	came[0] = 1 - p;
	for (unsigned t = 1; t < n; t++) {
		for (unsigned i = c + 1; i-- > 0;) {
			double l = i > 0 ? lost[i - 1] * a + came[i - 1] * q : 0;

			came[i] = lost[i] * (1 - a) + came[i] * (1 - q);
			lost[i] = l;
		}
	}
	for (unsigned i = 0; i <= c; i++)
		sum += lost[i] + came[i];
	return sum;
}

double fc_fec_whole(unsigned k, unsigned m, double loss, double burst)
{
	unsigned g = m == 0 ? 1 : fc_fec_groups(k, m);
	double a, q, lambda, whole = 1;

	if (k == 0 || g == 0 || loss >= 1)
		return 0;
	if (loss <= 0)
		return 1;
	/* A burst of 1 / (1 - loss) is independent loss: a lost chunk is followed by another at
	 * the rate itself. Shorter bursts than that are taken as independent too. */
	if (burst < 1 / (1 - loss))
		burst = 1 / (1 - loss);
	a = 1 - 1 / burst;
	q = loss * (1 - a) / (1 - loss);
	/* A group sees every g-th chunk: the chain g steps at a time, whose memory is lambda^g. */
	lambda = pow(a - q, g);
	a = loss + (1 - loss) * lambda;
	q = loss - loss * lambda;
	for (unsigned j = 0; j < g; j++) {
		unsigned mj = members(m, g, j);

		whole *= at_most(members(k, g, j) + mj, mj, loss, a, q);
	}
	return whole;
}

unsigned fc_fec_choose(unsigned k, double loss, double burst, double target, double max_overhead)
{
	unsigned most = (unsigned)(k * max_overhead);

	if (k < 1 || k > FC_DGRAM_MAX_CHUNKS || !(loss > 0))
		return 0;
	if (most < 1)
		most = 1;
	if (most > k)
		most = k;
	if (most > FC_FEC_MAX_PARITY)
		most = FC_FEC_MAX_PARITY;
	for (unsigned m = 1; m < most; m++)
		if (fc_fec_whole(k, m, loss, burst) >= target)
			return m;
	return most;
}
