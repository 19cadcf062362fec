/*
 * Fuzz target for the scaled decode of a camera's JPEG (sender/encode/scale.c, fc_scale_jpeg): any
 * bytes, as a USB camera in MJPEG mode may hand over, decoded at 1/2, 1/4 and 1/8. Beyond never
 * a crash, a read past the input or a write past the output buffer (each buffer is its own
 * allocation of exactly the size given, so ASan sees one byte over):
 *   - with fc_scale_bound bytes for the size the header claims (as TurboJPEG reads it), it never
 *     fails for lack of room (scale.h: the bound is enough for every subsampling), and a picture
 *     has that size's fc_scale_size sides, in the header's subsampling;
 *   - with fc_scale_bound bytes for the size sender/capture/mjpeg.c reads from the header (what
 *     capture.c labels the picture with, and rendition.c allocates for), a picture has that
 *     size's sides: a rendition larger than the picture it is sent as makes a FRAME the
 *     sender's own encoder refuses, which ends the viewer's connection;
 *   - a picture's planes lie within the buffer, one after another, every row inside and each
 *     stride at least its plane's width (their first and last bytes are read);
 *   - with less room than the bound it is refused or stays within what it has;
 *   - no header, or a side too short for the shift, is always refused; a failure says why, in
 *     a terminated string.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/scale as an
 * ordinary ctest case otherwise (replay.c). Seeds: tests/fuzz/seeds.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "mjpeg.h"
#include "scale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest buffer tried: an 8K UHD frame at 1/2 (the sender refuses larger camera frames). */
#define MAX_BUFFER ((size_t)3 * 3840 * 2160)

/* The size and subsampling the header claims, read by TurboJPEG with a handle of its own; false
 * without a frame header. */
static bool header_size(const uint8_t *data, size_t size, int *w, int *h, int *samp)
{
	tjhandle tj = tjInitDecompress();
	int cs, rc;

	if (!tj)
		abort();
	*w = *h = 0;
	*samp = -1;
	rc = tjDecompressHeader3(tj, data, (unsigned long)size, w, h, samp, &cs);
	tjDestroy(tj);
	return rc == 0 && *w > 0 && *h > 0;
}

static int chroma_cols(int w, enum fc_subsamp s)
{
	return s == FC_SUBSAMP_444 ? w : w / 2;
}

static int chroma_rows(int h, enum fc_subsamp s)
{
	return s == FC_SUBSAMP_420 ? h / 2 : h;
}

/* A picture handed out: its planes within buf[0..cap), one after another, every row inside. */
static void check_planes(const struct fc_image *out, const uint8_t *buf, size_t cap)
{
	const uint8_t *end = buf; /* of the plane before */
	volatile uint8_t sink = 0;

	if (out->subsamp != FC_SUBSAMP_420 && out->subsamp != FC_SUBSAMP_422 &&
	    out->subsamp != FC_SUBSAMP_444)
		abort();
	for (int i = 0; i < 3; i++) {
		int cols = i ? chroma_cols(out->width, out->subsamp) : out->width;
		int rows = i ? chroma_rows(out->height, out->subsamp) : out->height;
		size_t span;

		if (cols < 1 || rows < 1 || out->stride[i] < cols || out->plane[i] < end ||
		    out->plane[i] > buf + cap)
			abort();
		span = (size_t)out->stride[i] * (size_t)(rows - 1) + (size_t)cols;
		if (span > (size_t)(buf + cap - out->plane[i]))
			abort();
		end = out->plane[i] + span;
		sink ^= out->plane[i][0];
		sink ^= out->plane[i][span - 1];
	}
	(void)sink;
}

/* One decode into a buffer of exactly cap bytes; *room says whether a failure was for lack of
 * room. */
static int decode(const uint8_t *data, size_t size, int shift, size_t cap, struct fc_image *out,
		  bool *room)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	char err[256];
	int rc;

	if (!buf)
		abort();
	memset(err, 'x', sizeof(err));
	rc = fc_scale_jpeg(data, size, shift, buf, cap, out, err, sizeof(err));
	*room = false;
	if (rc == 0)
		check_planes(out, buf, cap);
	else if (rc != -1 || !err[0] || !memchr(err, '\0', sizeof(err)))
		abort();
	else
		*room = strstr(err, "too small") != NULL;
	free(buf);
	return rc;
}

/* The encoder's name for TurboJPEG's subsampling. */
static int subsamp_of(int tjsamp)
{
	switch (tjsamp) {
	case TJSAMP_420:
		return FC_SUBSAMP_420;
	case TJSAMP_422:
		return FC_SUBSAMP_422;
	case TJSAMP_444:
		return FC_SUBSAMP_444;
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int hw, hh, samp, mw = 0, mh = 0;
	bool has_header = header_size(data, size, &hw, &hh, &samp);
	bool has_mjpeg = fc_mjpeg_dimensions(data, size, &mw, &mh);

	for (int shift = FC_SCALE_MIN_SHIFT; shift <= FC_SCALE_MAX_SHIFT; shift++) {
		struct fc_image out;
		int w = 0, h = 0;
		bool room;
		size_t bound;

		/* No header TurboJPEG can read, or a side too short for this shift: refused. */
		if (!has_header || fc_scale_size(hw, hh, shift, &w, &h) < 0) {
			if (decode(data, size, shift, 4096, &out, &room) == 0)
				abort();
			continue;
		}
		bound = fc_scale_bound(hw, hh, shift);
		if (bound > MAX_BUFFER)
			continue;
		/* The bound of the header's own size is room enough; a picture is the header's
		 * size scaled, in the header's subsampling. */
		if (decode(data, size, shift, bound, &out, &room) == 0 &&
		    (out.width != w || out.height != h || (int)out.subsamp != subsamp_of(samp)))
			abort();
		if (room)
			abort();
		/* As rendition.c allocates for a camera's frame, from the size capture.c labels
		 * the picture with: what comes out must be that size scaled, never larger. */
		if (has_mjpeg) {
			size_t mbound = fc_scale_bound(mw, mh, shift);
			int lw = 0, lh = 0;

			if (mbound && mbound <= MAX_BUFFER &&
			    decode(data, size, shift, mbound, &out, &room) == 0 &&
			    (fc_scale_size(mw, mh, shift, &lw, &lh) < 0 || out.width != lw ||
			     out.height != lh))
				abort();
		}
		/* Less room than the bound: refused, or within it (4:2:0 needs half of it). */
		(void)decode(data, size, shift, bound / 2 - 1, &out, &room);
	}
	return 0;
}
