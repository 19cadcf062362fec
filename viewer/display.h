/*
 * display: the viewer's SDL2 window. It shows decoded pictures (4:2:0, and 4:2:2 and grey by
 * stride tricks, through an IYUV streaming texture uploaded as planes: no colour conversion on
 * the CPU), scaled to the window with the
 * aspect ratio kept, and reports the keys a person presses.
 *
 * SDL wants its video calls on the main thread: every function here is called from the main
 * (display) thread only. Errors come back as text; nothing here prints.
 */
#ifndef FC_DISPLAY_H
#define FC_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

struct fc_display;

/* Opens a window; NULL with the reason in err when there is no display to open one on (the
 * caller then runs headless). */
struct fc_display *fc_display_open(const char *title, char *err, size_t errlen);
void fc_display_close(struct fc_display *d);

/* Uploads a picture into the window's texture (4:2:0, 4:2:2 and grey), not yet on screen.
 * -1 with the reason in err when it cannot. */
int fc_display_upload(struct fc_display *d, const struct fc_picture *pic, char *err, size_t errlen);

/* Puts the last uploaded picture on screen. Split from the upload so that the caller can check
 * the frame's age at the last moment before it is seen. */
void fc_display_present(struct fc_display *d);

/* Handles pending window events; false when the person asked to quit (q, Esc, closing). */
bool fc_display_poll(struct fc_display *d);

void fc_display_title(struct fc_display *d, const char *title);

#endif
