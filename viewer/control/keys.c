#include "keys.h"

#include <stddef.h>

#include "log.h"
#include "proto.h"

/* The controls most webcams have, with v4l2-ctl's names (uvcvideo's labels). */
static const struct {
	int key; /* lower case: down; upper case: up */
	const char *control;
} nudges[] = {
	{ 'b', "brightness" },
	{ 'c', "contrast" },
	{ 'e', "exposure_time_absolute" },
	{ 'o', "focus_absolute" },
	{ 'w', "white_balance_temperature" },
};

const char fc_keys_help[] = "s      still (full size, saved here)\n"
			    "b / B  brightness down / up\n"
			    "c / C  contrast\n"
			    "e / E  exposure time\n"
			    "o / O  focus\n"
			    "w / W  white balance\n"
			    "d      each frame's data (JSON) over it\n"
			    "1-9    one camera alone (then the keys act on it)\n"
			    "f      fullscreen\n"
			    "h      this help\n"
			    "q      quit";

/* A camera key with no camera chosen (a grid of several, or a sender not connected yet). */
static bool unchosen(const struct fc_remote *r)
{
	if (!r)
		fc_info("camera keys act on one camera: show it alone first (its number key or a "
			"click), or wait for its connection");
	return !r;
}

bool fc_keys_press(struct fc_remote *r, struct fc_display *d, int k, bool *help)
{
	int lower = k >= 'A' && k <= 'Z' ? k - 'A' + 'a' : k;

	if (k == 'h') {
		*help = !*help;
		fc_display_help(d, *help ? fc_keys_help : NULL);
		return true;
	}
	if (k == 'd') {
		fc_display_data_overlay(d, !fc_display_data_overlay_on(d));
		fc_info("data overlay %s", fc_display_data_overlay_on(d) ? "on" : "off");
		return true;
	}
	if (k == 's') {
		if (!unchosen(r))
			fc_remote_ask(r, FC_CONTROL_STILL, NULL, 0);
		return true;
	}
	for (size_t i = 0; i < sizeof(nudges) / sizeof(nudges[0]); i++) {
		if (nudges[i].key == lower) {
			if (!unchosen(r))
				fc_remote_ask(r, FC_CONTROL_NUDGE, nudges[i].control,
					      k == lower ? -1 : 1);
			return true;
		}
	}
	return false;
}
