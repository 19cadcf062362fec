/*
 * partdec: a JPEG decoded while it arrives. The bytes of one frame are fed in pieces of any size
 * as they come off the network; each feed decodes as far as those bytes allow (libjpeg with a
 * suspending source: the decoder stops at the first MCU or marker it cannot finish and resumes
 * there at the next feed), so that when the last piece comes only its own few MCUs are left to
 * decode. The planes are exactly those viewer/show/decoder.c makes of the whole JPEG (same DCT,
 * same raw planes, same checks of the header), and a warning is an error as there.
 *
 * What it keeps between feeds: the bytes from where libjpeg must resume (the start of the MCU or
 * marker segment it could not finish) to the end of what was fed, in a buffer of its own that
 * grows to the largest such run and is kept (an arithmetic-coded frame, in which libjpeg cannot
 * suspend, is kept whole and decoded at finish: no sender of freshcam's makes one, but the
 * viewer shows what decoder.c shows); libjpeg's own state for the frame; the planes (one
 * allocation, grown and kept, as decoder.c's). A frame's libjpeg state is made at begin and
 * dropped at finish or abort, so that no table of one frame survives into the next.
 *
 * Lifecycle per frame: begin, feed..., then finish (the picture) or abort (discarded; the handle
 * is reusable either way). One thread uses a handle at a time. Never prints.
 */
#ifndef FC_PARTDEC_H
#define FC_PARTDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

struct fc_partdec;

struct fc_partdec *fc_partdec_new(char *err, size_t errlen);
void fc_partdec_free(struct fc_partdec *p);

/*
 * Starts a frame whose header must say expect_w x expect_h (when not 0), as decoder.c checks.
 * Any frame under way is aborted first. 0, or -1 with fc_partdec_error.
 */
int fc_partdec_begin(struct fc_partdec *p, int expect_w, int expect_h);

/*
 * Feeds the frame's next n bytes and decodes as far as they allow; bytes is not kept. 0 (more
 * may be needed, or the picture is complete and later bytes are ignored), or -1 when the bytes
 * are not a JPEG this viewer shows: the frame is dead (every later feed and finish fail with
 * the same reason) until abort or begin.
 */
int fc_partdec_feed(struct fc_partdec *p, const uint8_t *bytes, size_t n);

/*
 * The frame's bytes are all in: 0 with *pic (valid until the next begin) when its picture is
 * complete; -1 with the reason otherwise (the frame ended early, or was refused). Either way the
 * frame's libjpeg state is released.
 */
int fc_partdec_finish(struct fc_partdec *p, struct fc_picture *pic);

/* Discards the frame under way and its partial picture; the handle is ready for begin. */
void fc_partdec_abort(struct fc_partdec *p);

/* Luma rows decoded so far of the frame under way (what is left for the last piece). */
int fc_partdec_rows(const struct fc_partdec *p);

/* Bytes the handle holds now between feeds (see above); for tests and measurements. */
size_t fc_partdec_held(const struct fc_partdec *p);

const char *fc_partdec_error(const struct fc_partdec *p);

#endif
