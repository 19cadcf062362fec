/*
 * keys: the window's keys for the camera: a still, and a few common controls nudged down (the
 * letter) or up (with Shift), each a command to the sender (remote.h); h shows or hides their
 * help over the picture, d each frame's document (databox.h). The sender answers each (the
 * console says the value the camera took, or why not: it needs --allow-control, and a camera
 * that has the control).
 *
 * Main (display) thread only, with the window's other keys.
 */
#ifndef FC_KEYS_H
#define FC_KEYS_H

#include <stdbool.h>

#include "display.h"
#include "remote.h"

/* The help, as the window shows it. */
extern const char fc_keys_help[];

/* Handles key k (fc_display_key) for the camera of r: true when it was one of these. *help says
 * whether the help is shown, and is toggled by h. r NULL: no camera chosen (a grid of several):
 * a camera key is said to need one, and does nothing. */
bool fc_keys_press(struct fc_remote *r, struct fc_display *d, int k, bool *help);

#endif
