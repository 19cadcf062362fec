/*
 * datatext: the JSON document that came with a frame, laid out as the few lines of text that the
 * window draws over that frame's tile (--data-overlay, the d key; docs/PROTOCOL.md, section 10).
 *
 * The document is shown compactly, as it came: it is checked UTF-8 without control bytes
 * (jdoc.h), and the built-in font draws printable ASCII only (font.h), so each character beyond
 * ASCII, and any other byte that is not printable, becomes one '?'. Lines break after a comma
 * when one falls in a line's second half, else at the column limit; a document that needs more
 * lines than allowed is cut, its last line ending in "...". Every line is padded with spaces to
 * the widest, so that the font, which centres each line on the widest, draws them left-aligned.
 *
 * Pure function over caller-owned buffers, no SDL: display's databox.c draws the text and
 * tests/test_datatext.c checks it. Any thread.
 */
#ifndef FC_DATATEXT_H
#define FC_DATATEXT_H

#include <stddef.h>
#include <stdint.h>

#define FC_DATATEXT_MAX_COLS  100 /* characters of a line at most */
#define FC_DATATEXT_MAX_LINES 4	  /* lines at most: "a few", the rest cut */
/* Bytes of the laid-out text at most: the lines, their breaks and the terminating NUL. */
#define FC_DATATEXT_MAX (FC_DATATEXT_MAX_LINES * (FC_DATATEXT_MAX_COLS + 1) + 1)

/*
 * Lays doc[0..size) out in at most lines lines of at most cols characters (each clamped to the
 * limits above) into out, lines joined by '\n'. Returns the number of lines: 0 (out empty) for
 * an empty document, or when cols < 4 or lines < 1 leave no room for even an ellipsis.
 */
int fc_datatext_layout(const uint8_t *doc, size_t size, int cols, int lines,
		       char out[FC_DATATEXT_MAX]);

#endif
