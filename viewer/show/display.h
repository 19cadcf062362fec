/*
 * display: the viewer's SDL2 window. It shows decoded pictures (4:2:0, and 4:2:2 and grey by
 * stride tricks, through an IYUV streaming texture uploaded as planes: no colour conversion on
 * the CPU; bench/viewer.py measures this against decoding to RGB), scaled to the window with the
 * aspect ratio kept (letterboxed), and reports the keys a person presses: q or Esc quits, f
 * toggles fullscreen, a number shows one sender's tile alone when there are several. When the stream stalls the caller sets a banner: the last picture is then
 * drawn dimmed under it, in the built-in font (font.h), so an old frame never passes for live.
 * The window redraws itself when it is resized or uncovered.
 *
 * The window has the shape of the picture the sender captures, whatever rendition of it arrives:
 * a frame may be a smaller rendition (its sides halved, fitted to the link), which is drawn scaled
 * up to fill the area the full picture would, so the window never jumps when the rendition
 * changes. It is sized once, from the picture's size, and again only if that size changes (a
 * sender back with another camera size). It opens centred in the display's usable area (the
 * screen less panels and docks), and a picture that would not fit there whole (as large as the
 * screen, or larger) gets a window scaled down to fit, of the picture's shape.
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

/* Senders one window shows at once, a tile each (grid.h). */
#define FC_DISPLAY_MAX_TILES 16

struct fc_display;

/* Opens a window of the picture's size, width x height (the sender's HELLO; 0 when not known:
 * then a default size until the first picture); NULL with the reason in err when there is no
 * display to open one on (the caller then runs headless). */
struct fc_display *fc_display_open(const char *title, int width, int height, char *err,
				   size_t errlen);
void fc_display_close(struct fc_display *d);

/* Uploads a picture into the window's texture (4:2:0, 4:2:2 and grey), not yet on screen. pic
 * is a rendition of a src_width x src_height picture (its sides halved, or the picture itself;
 * 0 x 0: the picture itself), and is drawn over the area that picture would take. -1 with the
 * reason in err when it cannot. */
int fc_display_upload(struct fc_display *d, const struct fc_picture *pic, int src_width,
		      int src_height, char *err, size_t errlen);

/*
 * Several senders. The window shows n tiles as a grid; each keeps its own picture, banner and,
 * with labels, its label (its name and live figures across its top; without, one picture's
 * figures go to the window's title and the window keeps the picture's shape, as above). A number key or a click shows one tile
 * alone, full size; the same key, 0 or a click goes back to the grid. Tile 0 is what
 * fc_display_upload and fc_display_banner use.
 */
void fc_display_tiles(struct fc_display *d, int n, bool labels);
int fc_display_upload_tile(struct fc_display *d, int tile, const struct fc_picture *pic,
			   int src_width, int src_height, char *err, size_t errlen);
/* Removes tile i (a sender gone): the tiles after it move one place down, and the grid
 * reflows. */
void fc_display_tile_remove(struct fc_display *d, int tile);
void fc_display_tile_banner(struct fc_display *d, int tile, const char *text);
/* The tile's name and live figures (its label; with one tile, the window's title instead). */
void fc_display_tile_label(struct fc_display *d, int tile, const char *name, const char *text);
/* The JSON document that came with the frame just uploaded to the tile (doc[0..size), copied;
 * size 0: it came without one), drawn at the tile's bottom while the data overlay is on
 * (databox.h): a tile shows its own frame's document, never another's. */
void fc_display_tile_data(struct fc_display *d, int tile, const uint8_t *doc, size_t size);
/* Turns the data overlay on or off (--data-overlay, the d key), and says whether it is on. */
void fc_display_data_overlay(struct fc_display *d, bool on);
bool fc_display_data_overlay_on(const struct fc_display *d);

/* Puts the last uploaded picture on screen. Split from the upload so that the caller can check
 * the frame's age at the last moment before it is seen. */
void fc_display_present(struct fc_display *d);

/* Text (lines split by '\n') to show over the dimmed picture from the next present on, or NULL
 * for none: the stream is live. Uploading a new picture also clears it. */
void fc_display_banner(struct fc_display *d, const char *text);

/* Handles pending window events (redrawing after a resize or an expose); false when the person
 * asked to quit (q, Esc, closing). */
bool fc_display_poll(struct fc_display *d);

void fc_display_title(struct fc_display *d, const char *title);

/* The tile shown alone over the grid (a number key or a click), or -1 for the grid (or one
 * tile). */
int fc_display_zoomed(const struct fc_display *d);

/* The next key pressed that the window does not handle itself (a character, upper case with
 * Shift), read after fc_display_poll; 0 when none is left. */
int fc_display_key(struct fc_display *d);

/* Text (lines split by '\n') over the picture's top left, not dimming it, or NULL for none: the
 * help of the keys. Drawn at once and at every present. */
void fc_display_help(struct fc_display *d, const char *text);

/* The SDL renderer drawing the window ("opengl", "software", ...), for the log. Where OpenGL
 * would be drawn by the CPU (no GPU), the window uses SDL's software renderer, which draws the
 * IYUV texture cheaper there. A window takes at most three attempts (display.c, make_window);
 * when some failed before one worked, this says which and why, each once: "software, after these
 * failed: SDL's preferred renderer: ...". */
const char *fc_display_renderer(struct fc_display *d);

#endif
