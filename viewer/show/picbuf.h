/*
 * picbuf: where a decoded picture's planes live and what a decodable picture is, shared by the
 * whole-frame decoder (decoder.c) and the decoder fed in parts (partdec.c), so that both hand out
 * the same planes for the same JPEG and refuse the same headers with the same words.
 *
 * The planes are one allocation the caller owns (*buf, *cap), grown only when a larger picture
 * comes and kept otherwise (never per frame). Pure: no I/O, never prints; any thread.
 */
#ifndef FC_PICBUF_H
#define FC_PICBUF_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

/* The picture's kind from TurboJPEG's TJSAMP_* (FC_PIC_OTHER for what the viewer cannot show). */
enum fc_pic_subsamp fc_picbuf_subsamp(int tjsamp);

/*
 * Whether a JPEG header of w x h with subsampling tjsamp (-1: not one TurboJPEG names) may be
 * decoded: within FC_PROTO_MAX_DIM and FC_PROTO_MAX_PIXELS, the size its FRAME says (expect_w x
 * expect_h when not 0), a subsampling the viewer shows. 0, or -1 with the reason in err.
 */
int fc_picbuf_check(int w, int h, int tjsamp, int expect_w, int expect_h, char *err, size_t errlen);

/*
 * Lays out the planes of a w x h picture (TurboJPEG's unpadded layout, Y then Cb then Cr) in
 * *buf, growing it (and *cap) only when it must, and describes them in *pic. 0, or -1 with err.
 */
int fc_picbuf_layout(uint8_t **buf, size_t *cap, int w, int h, int tjsamp, struct fc_picture *pic,
		     char *err, size_t errlen);

#endif
