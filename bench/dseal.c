/*
 * fc-benchdseal: what sealing costs the UDP transport per datagram, without sockets (docs/UDP.md,
 * "Private streams over UDP"; docs/THREAT_MODEL.md, the UDP transport): a chunk of a sealed
 * stream (1176 bytes, 1230 on the wire) sealed in place, sealed into another buffer, opened; a
 * forged one of the same size refused (what each datagram of an off-path flood costs the
 * receiver); and a forged 40-byte one (the least that reaches the tag check). Prints ns per
 * datagram for each, the best of five runs (a shared machine's noise only ever adds). Not
 * installed, not tested: a measuring tool.
 *
 * Usage: fc-benchdseal [DATAGRAMS]   (default 200000 a run)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dgram_seal.h"
#include "secure.h"

#define RUNS 5

enum kind { SEAL, SEAL_TO, OPEN, FORGED, FORGED_SMALL, KINDS };

static const char *const names[KINDS] = {
	[SEAL] = "seal a 1230-byte chunk in place",
	[SEAL_TO] = "seal a 1230-byte chunk into another buffer",
	[OPEN] = "seal in place and open a 1230-byte chunk",
	[FORGED] = "refuse a forged 1230-byte datagram",
	[FORGED_SMALL] = "refuse a forged 40-byte datagram",
};

static uint8_t plain[FC_DGRAM_CHUNK_HEAD + FC_DSEAL_CHUNK];
static uint8_t buf[FC_DSEAL_MAX_SIZE];
static uint8_t forged[FC_DSEAL_MAX_SIZE];

/* One run of n datagrams of kind k: its ns per datagram. */
static double run(enum kind k, struct fc_dseal *snd, struct fc_dseal *vwr, long n)
{
	size_t len = sizeof(plain) + FC_DSEAL_OVERHEAD;
	uint64_t t0 = fc_clock_now_ns();
	long bad = 0;

	for (long i = 0; i < n; i++) {
		if (k == SEAL || k == OPEN) {
			memcpy(buf, plain, sizeof(plain));
			bad += fc_dseal_seal(&snd->tx, buf, sizeof(plain), sizeof(buf)) < 0;
			if (k == OPEN)
				bad += fc_dseal_open(&vwr->rx, buf, len, NULL) < 0;
		} else if (k == SEAL_TO) {
			bad +=
			    fc_dseal_seal_to(&snd->tx, plain, sizeof(plain), buf, sizeof(buf)) < 0;
		} else {
			size_t flen = k == FORGED ? len : FC_DSEAL_MIN_SIZE;

			memcpy(buf, forged, flen);
			bad += fc_dseal_open(&vwr->rx, buf, flen, NULL) != -FC_DSEAL_E_OPEN;
		}
	}
	if (bad) {
		fprintf(stderr, "fc-benchdseal: %ld datagrams did not do what was measured\n", bad);
		exit(1);
	}
	return (double)(fc_clock_now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	uint8_t ks[FC_DSEAL_KEY_SIZE], kv[FC_DSEAL_KEY_SIZE];
	struct fc_dseal snd, vwr;
	char err[128];

	if (n <= 0) {
		fprintf(stderr, "usage: fc-benchdseal [DATAGRAMS]\n");
		return 2;
	}
	/* libsodium picks its fastest ChaCha20 and Poly1305 for this CPU here, as the programs do
	 * when they load the passphrase. */
	if (fc_secure_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "fc-benchdseal: %s\n", err);
		return 1;
	}
	memset(ks, 1, sizeof(ks));
	memset(kv, 2, sizeof(kv));
	fc_dseal_init(&snd, ks, kv);
	fc_dseal_init(&vwr, kv, ks);
	/* A plain chunk's header (a CHUNK of conn 1, seq 1) and bytes; the opener checks only
	 * the header before the tag, so what the body says does not matter here. */
	memcpy(plain, "FD\x01\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01", FC_DGRAM_HEAD);
	for (size_t i = FC_DGRAM_HEAD; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 31);
	memcpy(forged, plain, sizeof(plain));
	forged[3] |= FC_DSEAL_TYPE_BIT;
	for (enum kind k = 0; k < KINDS; k++) {
		double best = 0;

		for (int r = 0; r < RUNS; r++) {
			double ns = run(k, &snd, &vwr, n);

			best = r == 0 || ns < best ? ns : best;
		}
		printf("%-45s %8.0f ns\n", names[k], best);
	}
	fc_dseal_wipe(&snd);
	fc_dseal_wipe(&vwr);
	return 0;
}
