/*
 * rendition: the smaller or softer JPEGs of one captured picture, for viewers whose links cannot
 * carry the full one (ladder.h says which rungs exist and which are wanted).
 *
 * After the capture thread has published a picture's head frame (the full JPEG, or an empty
 * head when no viewer wants it), it calls fc_rendition_make, which makes every other rung the
 * head's `planned` asks for and hands each to the head as soon as it is ready
 * (fc_frame_set_alt), poking the slot so that a session waiting for it wakes. Each size is made
 * once per picture and each quality of it encoded from that: the half from the source, the
 * quarter from the half, the eighth from the quarter (a box filter of a box filter is the box
 * filter), so a smaller rung costs about its own pixels. A camera's MJPEG is decoded straight
 * at the first size needed, by libjpeg-turbo's DCT scaling (scale.h).
 *
 * Ownership: the handle owns its scaled-picture buffers (grown to the largest picture seen,
 * never per frame) and a frame pool per rung; frames outlive the handle (frame.h). Threads:
 * the capture thread alone; the encoder is the capture's, lent for the call.
 */
#ifndef FC_RENDITION_H
#define FC_RENDITION_H

#include <stddef.h>
#include <stdint.h>

#include "encoder.h"
#include "frame.h"
#include "image.h"
#include "ladder.h"
#include "slot.h"

/* One captured picture, as the capture has it: planes, a camera's YUYV, or a camera's JPEG. */
struct fc_rendition_src {
	const struct fc_image *img;
	const uint8_t *yuyv;
	size_t yuyv_stride;
	const uint8_t *jpeg;
	size_t jpeg_size;
	int width;
	int height;
};

struct fc_rendition;

/* NULL when out of memory. The ladder is the caller's and must outlive the handle. */
struct fc_rendition *fc_rendition_new(struct fc_ladder *ladder);
void fc_rendition_free(struct fc_rendition *r);

/*
 * Makes the rungs (1 and up) that head->planned asks for, from src, with enc (whose quality it
 * changes), handing each to head and poking slot. Adds the time spent to *busy_ns, the JPEGs
 * made to *made and those that failed to *failed. 0, or -1 with the reason of the first failure
 * in err: the other rungs are still made; a rung that failed stays NULL in head and is marked
 * broken in the ladder (fc_ladder_fail), so that sessions fall back to another.
 */
int fc_rendition_make(struct fc_rendition *r, struct fc_encoder *enc, struct fc_frame *head,
		      const struct fc_rendition_src *src, struct fc_slot *slot, uint64_t *busy_ns,
		      unsigned *made, unsigned *failed, char *err, size_t errlen);

#endif
