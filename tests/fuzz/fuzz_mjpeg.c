/*
 * Fuzz target for the sender's checks on a camera's own JPEG (sender/capture/mjpeg.c), called as
 * capture.c calls them: any bytes in, never a crash or a read past the input, and the answers
 * agree with each other:
 *   - a kept size is within the input, at least FC_MJPEG_MIN_SIZE, and runs from SOI to EOI;
 *   - declared dimensions are positive 16-bit numbers;
 *   - inserting the tables into a buffer of exactly n + FC_MJPEG_DHT_SIZE bytes yields exactly
 *     that many, starting FF D8: the input with one DHT segment spliced in before the first
 *     SOFn/SOS, nothing else changed; the result has tables, the same dimensions, and passes
 *     the check whenever the input did (every frame that passes the check can be repaired);
 *   - one byte less room is refused.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/mjpeg as an
 * ordinary ctest case otherwise (replay.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mjpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input with the tables inserted: where they went, checked against the input. */
static void check_inserted(const uint8_t *data, size_t size, const uint8_t *out, size_t n)
{
	size_t at = 0;

	if (n != size + FC_MJPEG_DHT_SIZE || out[0] != 0xFF || out[1] != 0xD8)
		abort();
	/* The first difference is the second byte of the new segment (both have FF there). */
	while (at < size && out[at] == data[at])
		at++;
	if (at < 3 || at >= size)
		abort();
	at--;
	if (out[at] != 0xFF || out[at + 1] != 0xC4 || out[at + 2] != 0x01 || out[at + 3] != 0xA2)
		abort();
	if (memcmp(out + at + FC_MJPEG_DHT_SIZE, data + at, size - at) != 0)
		abort();
	if (!fc_mjpeg_has_dht(out, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	size_t kept = fc_mjpeg_check(data, size, &why);
	int w = 0, h = 0, kw = 0, kh = 0, ow = 0, oh = 0;
	bool dims = fc_mjpeg_dimensions(data, size, &w, &h);
	uint8_t *out;
	size_t n;

	if (kept) {
		if (kept > size || kept < FC_MJPEG_MIN_SIZE || data[0] != 0xFF || data[1] != 0xD8 ||
		    data[kept - 2] != 0xFF || data[kept - 1] != 0xD9)
			abort();
		/* capture.c asks the kept frame only. */
		(void)fc_mjpeg_has_dht(data, kept);
		if (fc_mjpeg_dimensions(data, kept, &kw, &kh) &&
		    (kw <= 0 || kh <= 0 || kw > 65535 || kh > 65535))
			abort();
	} else if (!why || !why[0]) {
		abort();
	}
	if (dims && (w <= 0 || h <= 0 || w > 65535 || h > 65535))
		abort();
	(void)fc_mjpeg_has_dht(data, size);

	/* The whole verdict capture.c asks for, with the limits it uses: it keeps what the framing
	 * check keeps, exactly when that frame has a size within the limits, and always says why
	 * not, as a terminated string within its buffer. */
	{
		char reason[96];
		int jw = 0, jh = 0;
		size_t judged = fc_mjpeg_judge(data, size, 16384, 7680L * 4320, 1 << 24, &jw, &jh,
					       reason, sizeof(reason));
		bool fits = kept && kept + FC_MJPEG_DHT_SIZE <= (1 << 24) &&
			    fc_mjpeg_dimensions(data, kept, &kw, &kh) && kw <= 16384 &&
			    kh <= 16384 && (long)kw * kh <= 7680L * 4320;

		if (judged != (fits ? kept : 0) || (judged && (jw != kw || jh != kh)))
			abort();
		if (!judged && (!reason[0] || !memchr(reason, '\0', sizeof(reason))))
			abort();
	}

	/* Exactly the room capture.c gives it, in its own allocation so ASan sees any overrun. */
	out = malloc(size + FC_MJPEG_DHT_SIZE);
	if (!out)
		return 0;
	if (fc_mjpeg_insert_dht(data, size, out, size + FC_MJPEG_DHT_SIZE - 1) != 0)
		abort();
	n = fc_mjpeg_insert_dht(data, size, out, size + FC_MJPEG_DHT_SIZE);
	if (n) {
		check_inserted(data, size, out, n);
		if (fc_mjpeg_dimensions(out, n, &ow, &oh) != dims || (dims && (ow != w || oh != h)))
			abort();
		if (kept && fc_mjpeg_check(out, n, &why) != kept + FC_MJPEG_DHT_SIZE)
			abort();
	} else if (kept) {
		abort();
	}
	free(out);
	return 0;
}
