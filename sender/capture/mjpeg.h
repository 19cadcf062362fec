/*
 * mjpeg: the cheap checks and the one repair a camera's own JPEG frames get before they are passed
 * through unchanged.
 *
 * A UVC camera in MJPEG mode hands over whatever its encoder produced, including frames cut short
 * when USB bandwidth ran out; those are caught here by their markers, without decoding. Many
 * cameras also omit the Huffman tables (the "MJPEG" convention of AVI1: decoders are expected to
 * know the standard ones), which some decoders and containers refuse; the standard tables of JPEG
 * Annex K are inserted for them.
 *
 * Pure functions over caller-owned buffers; thread-safe.
 */
#ifndef FC_MJPEG_H
#define FC_MJPEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest frame worth a look: anything shorter is a broken transfer. */
#define FC_MJPEG_MIN_SIZE 128

/* Size of the DHT segment fc_mjpeg_insert_dht adds. */
#define FC_MJPEG_DHT_SIZE 420

/*
 * Checks the frame's framing: SOI at the start, EOI at the end (cameras may pad after EOI with
 * zeros; the returned size leaves the padding out), at least FC_MJPEG_MIN_SIZE bytes, and a
 * start-of-scan marker among well-formed segments. Returns the size to keep (> 0), or 0 with a
 * reason in *why (a static string).
 */
size_t fc_mjpeg_check(const uint8_t *p, size_t n, const char **why);

/* The picture size the frame's own header (SOFn) declares: a camera's JPEG may differ from the
 * negotiated size (1920x1088 for 1920x1080, say). false when there is no frame header. */
bool fc_mjpeg_dimensions(const uint8_t *p, size_t n, int *width, int *height);

/*
 * The whole verdict on one camera frame, as the sender passes it on: its framing
 * (fc_mjpeg_check), a frame header declaring 1..max_side pixels a side and at most max_pixels
 * in all (what a viewer will decode), and room within max_bytes
 * for the Huffman tables it may need. Returns the size to keep, with the header's picture size in
 * *width and *height; or 0 with the reason, numbers included, in why (for the log: a camera that
 * sends only broken frames must be able to say why).
 */
size_t fc_mjpeg_judge(const uint8_t *p, size_t n, int max_side, long max_pixels, size_t max_bytes,
		      int *width, int *height, char *why, size_t whylen);

/* Whether the frame (already checked) defines Huffman tables before its scan. */
bool fc_mjpeg_has_dht(const uint8_t *p, size_t n);

/* Copies the frame to out with the standard Huffman tables inserted before its first SOF/SOS
 * marker. Returns the new size, or 0 when out (cap bytes) is too small or the frame is malformed.
 * cap = n + FC_MJPEG_DHT_SIZE always suffices. */
size_t fc_mjpeg_insert_dht(const uint8_t *p, size_t n, uint8_t *out, size_t cap);

#endif
