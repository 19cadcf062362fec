/*
 * controls: a V4L2 camera's controls (brightness, exposure, focus, white balance...), listed with
 * their ranges, menus and values, and set one at a time after checking the value against the
 * camera's own range and menu: what a viewer's CONTROL asks (sender/serve/control.h).
 *
 * Each call opens the device path for itself and closes it before returning: V4L2 lets a second
 * open query and set controls while the capture thread streams on its own (only formats and
 * buffers belong to the streaming open), and a camera unplugged and back needs no bookkeeping
 * here. Names are v4l2-ctl's: the driver's label in lower case, every run of other characters
 * one underscore ("Exposure Time, Absolute" is exposure_time_absolute). Every ioctl goes through
 * fc_v4l2_xioctl (v4l2.h), the choke point tests wrap.
 *
 * Thread-safe (no state); called on a session thread, a few ioctls each. Errors come back as a
 * status (enum fc_control_status, proto_control.h) and text naming the device, the control and
 * the errno; nothing here prints.
 */
#ifndef FC_CONTROLS_H
#define FC_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Controls listed at most: a UVC camera has about 20. */
#define FC_CONTROLS_MAX 256
/* Nudges one command may ask for (20 cross any range). */
#define FC_CONTROLS_MAX_NUDGES 20

/* The controls of the camera at path, one JSON object per line (docs/PROTOCOL.md, section 11)
 * into out, printable ASCII. FC_CONTROL_OK, or a status with the reason in out. */
int fc_controls_list(const char *path, char *out, size_t cap);

/* Sets the control called name to value when the camera's range and menu allow it; on
 * FC_CONTROL_OK, out says the value the camera took ("brightness=40"), else why not. With nudge,
 * value counts nudges from the current value instead (negative: down): a twentieth of the range
 * each for a number (at least a step, kept within the range), the next items for a menu, on or
 * off for a switch; at most FC_CONTROLS_MAX_NUDGES either way. */
int fc_controls_set(const char *path, const char *name, int64_t value, bool nudge, char *out,
		    size_t cap);

/* v4l2-ctl's name for a driver's label, into out (at least 33 bytes for a V4L2 label). */
void fc_controls_varname(const char *label, char *out, size_t cap);

#endif
