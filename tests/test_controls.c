/* Tests of sender/capture/controls.c: a camera's controls listed and set, against a camera played
 * by the test: every ioctl goes through fc_v4l2_xioctl, wrapped here (-Wl,--wrap); the device node
 * is a temporary file, so open() is real. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/videodev2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controls.h"
#include "proto_control.h"

struct played {
	uint32_t id;
	const char *name;
	uint32_t type;
	int64_t min, max, step, def;
	uint32_t flags;
	int64_t value;
};

/* Sorted by id, as a driver enumerates them. */
static struct played ctrls[] = {
	{ V4L2_CID_USER_CLASS, "User Controls", V4L2_CTRL_TYPE_CTRL_CLASS, 0, 0, 0, 0, 0, 0 },
	{ V4L2_CID_BRIGHTNESS, "Brightness", V4L2_CTRL_TYPE_INTEGER, -10, 10, 2, 0, 0, 0 },
	{ V4L2_CID_CONTRAST, "Contrast", V4L2_CTRL_TYPE_INTEGER, 0, 9, 1, 5,
	  V4L2_CTRL_FLAG_DISABLED, 5 },
	{ V4L2_CID_SATURATION, "Sat\xc3\xa9ration (\"x\")", V4L2_CTRL_TYPE_INTEGER, 0, 9, 1, 5,
	  V4L2_CTRL_FLAG_READ_ONLY, 5 },
	{ V4L2_CID_DO_WHITE_BALANCE, "Do White Balance", V4L2_CTRL_TYPE_BUTTON, 0, 0, 0, 0,
	  V4L2_CTRL_FLAG_WRITE_ONLY, 0 },
	{ V4L2_CID_POWER_LINE_FREQUENCY, "Power Line Frequency", V4L2_CTRL_TYPE_MENU, 0, 2, 1, 1, 0,
	  1 },
	{ V4L2_CID_PIXEL_RATE, "Pixel Rate", V4L2_CTRL_TYPE_INTEGER64, 0, 1ll << 40, 1, 7, 0,
	  1ll << 35 },
};
#define NCTRLS (sizeof(ctrls) / sizeof(ctrls[0]))

static bool no_ext_query; /* a driver without QUERY_EXT_CTRL (ENOTTY) */
static int set_errno;	  /* S_CTRL fails with this, 0: works */

static struct played *by_id(uint32_t id, bool next)
{
	for (size_t i = 0; i < NCTRLS; i++)
		if (next ? ctrls[i].id > id : ctrls[i].id == id)
			return &ctrls[i];
	return NULL;
}

static int query_ext(struct v4l2_query_ext_ctrl *q)
{
	struct played *c;

	if (no_ext_query) {
		errno = ENOTTY;
		return -1;
	}
	c = by_id(q->id & ~V4L2_CTRL_FLAG_NEXT_CTRL, q->id & V4L2_CTRL_FLAG_NEXT_CTRL);
	if (!c) {
		errno = EINVAL;
		return -1;
	}
	memset(q, 0, sizeof(*q));
	q->id = c->id;
	q->type = c->type;
	snprintf(q->name, sizeof(q->name), "%s", c->name);
	q->minimum = c->min;
	q->maximum = c->max;
	q->step = (uint64_t)c->step;
	q->default_value = c->def;
	q->flags = c->flags;
	return 0;
}

/* The old QUERYCTRL: only what fits in 32 bits. */
static int query_old(struct v4l2_queryctrl *q)
{
	struct v4l2_query_ext_ctrl e = { .id = q->id };
	bool saved = no_ext_query;
	int rc;

	no_ext_query = false;
	rc = query_ext(&e);
	no_ext_query = saved;
	if (rc < 0)
		return rc;
	memset(q, 0, sizeof(*q));
	q->id = e.id;
	q->type = e.type;
	snprintf((char *)q->name, sizeof(q->name), "%s", e.name);
	q->minimum = (int32_t)e.minimum;
	q->maximum = (int32_t)(e.maximum > INT32_MAX ? INT32_MAX : e.maximum);
	q->step = (int32_t)e.step;
	q->default_value = (int32_t)e.default_value;
	q->flags = e.flags;
	return 0;
}

static int menu(struct v4l2_querymenu *m)
{
	static const char *const names[] = { "Disabled", NULL, "60 Hz" }; /* a hole at 1 */

	if (m->id != V4L2_CID_POWER_LINE_FREQUENCY || m->index > 2 || !names[m->index]) {
		errno = EINVAL;
		return -1;
	}
	snprintf((char *)m->name, sizeof(m->name), "%s", names[m->index]);
	return 0;
}

static int value(unsigned long request, void *arg)
{
	struct v4l2_control *c = arg;
	struct v4l2_ext_controls *ec = arg;
	uint32_t id =
	    request == VIDIOC_G_CTRL || request == VIDIOC_S_CTRL ? c->id : ec->controls[0].id;
	struct played *p = by_id(id, false);

	if (!p || ((request == VIDIOC_S_CTRL || request == VIDIOC_S_EXT_CTRLS) && set_errno)) {
		errno = p ? set_errno : EINVAL;
		return -1;
	}
	if (request == VIDIOC_G_CTRL)
		c->value = (int32_t)p->value;
	else if (request == VIDIOC_S_CTRL) /* rounded to the step, as the kernel does */
		p->value = p->step ? p->min + (c->value - p->min + p->step / 2) / p->step * p->step
				   : c->value;
	else if (request == VIDIOC_G_EXT_CTRLS)
		ec->controls[0].value64 = p->value;
	else
		p->value = ec->controls[0].value64;
	return 0;
}

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg);

int __wrap_fc_v4l2_xioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	switch (request) {
	case VIDIOC_QUERY_EXT_CTRL:
		return query_ext(arg);
	case VIDIOC_QUERYCTRL:
		return query_old(arg);
	case VIDIOC_QUERYMENU:
		return menu(arg);
	case VIDIOC_G_CTRL:
	case VIDIOC_S_CTRL:
	case VIDIOC_G_EXT_CTRLS:
	case VIDIOC_S_EXT_CTRLS:
		return value(request, arg);
	}
	errno = ENOTTY;
	return -1;
}

static char node[] = "/tmp/fc-test-controls-XXXXXX";
static char out[FC_PROTO_MAX_RESULT_TEXT + 1];

static int setup(void **state)
{
	int fd = mkstemp(node);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	no_ext_query = false;
	set_errno = 0;
	by_id(V4L2_CID_BRIGHTNESS, false)->value = 0;
	by_id(V4L2_CID_POWER_LINE_FREQUENCY, false)->value = 1;
	by_id(V4L2_CID_PIXEL_RATE, false)->value = 1ll << 35;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(node);
	strcpy(node, "/tmp/fc-test-controls-XXXXXX");
	return 0;
}

/* Labels become v4l2-ctl's names: lower case, each run of other bytes one underscore. */
static void test_varname(void **state)
{
	char v[FC_PROTO_MAX_CONTROL_NAME + 1];

	(void)state;
	fc_controls_varname("White Balance Temperature, Auto", v, sizeof(v));
	assert_string_equal(v, "white_balance_temperature_auto");
	fc_controls_varname("Exposure (Absolute)", v, sizeof(v));
	assert_string_equal(v, "exposure_absolute");
	fc_controls_varname("  Sat\xc3\xa9ration", v, sizeof(v));
	assert_string_equal(v, "sat_ration");
	fc_controls_varname("A-very-long-label-of-32-bytes!!!", v, sizeof(v));
	assert_string_equal(v, "a_very_long_label_of_32_bytes");
	fc_controls_varname("abcdefghij", v, 5);
	assert_string_equal(v, "abcd");
}

/* Every settable control, one line each, with its range, value and menu (its holes left out);
 * the class and a disabled control are not listed; the text is printable ASCII. */
static void test_list(void **state)
{
	(void)state;
	assert_int_equal(fc_controls_list(node, out, sizeof(out)), FC_CONTROL_OK);
	assert_non_null(strstr(out,
			       "{\"name\":\"brightness\",\"label\":\"Brightness\",\"id\":9963776,"
			       "\"type\":\"int\",\"min\":-10,\"max\":10,\"step\":2,\"default\":0,"
			       "\"value\":0,\"flags\":\"\"}\n"));
	assert_non_null(strstr(out, "\"menu\":{\"0\":\"Disabled\",\"2\":\"60 Hz\"}"));
	assert_non_null(
	    strstr(out, "\"name\":\"sat_ration_x\",\"label\":\"Sat??ration (\\\"x\\\")\""));
	assert_non_null(strstr(out, "\"flags\":\"read-only\""));
	assert_non_null(strstr(out, "\"name\":\"do_white_balance\""));
	assert_non_null(strstr(out, "\"type\":\"int64\",\"min\":0,\"max\":1099511627776"));
	assert_non_null(strstr(out, "\"value\":34359738368"));
	assert_null(strstr(out, "contrast"));
	assert_null(strstr(out, "User Controls"));
	assert_int_not_equal(out[strlen(out) - 1], '\n');
	for (const char *p = out; *p; p++)
		assert_true((*p >= 0x20 && *p <= 0x7e) || *p == '\n');
	no_ext_query = true; /* an old driver: the same list by QUERYCTRL */
	assert_int_equal(fc_controls_list(node, out, sizeof(out)), FC_CONTROL_OK);
	assert_non_null(strstr(out, "\"name\":\"brightness\""));
}

/* Set, rounded by the camera to its step (and said so), a 64-bit one, a button press. */
static void test_set(void **state)
{
	(void)state;
	assert_int_equal(fc_controls_set(node, "brightness", -4, false, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "brightness=-4");
	assert_int_equal(by_id(V4L2_CID_BRIGHTNESS, false)->value, -4);
	assert_int_equal(fc_controls_set(node, "brightness", 3, false, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "brightness=4 (asked 3; the camera's step is 2)");
	assert_int_equal(fc_controls_set(node, "power_line_frequency", 2, false, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_int_equal(fc_controls_set(node, "pixel_rate", 1ll << 39, false, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "pixel_rate=549755813888");
	assert_int_equal(fc_controls_set(node, "do_white_balance", 0, false, out, sizeof(out)),
			 FC_CONTROL_OK);
}

/* A nudge moves a twentieth of the range (at least a step), stops at the range's ends, skips a
 * menu's holes; a switch goes on and off. */
static void test_nudge(void **state)
{
	(void)state;
	assert_int_equal(fc_controls_set(node, "brightness", 1, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "brightness=2"); /* 20 / 20 = 1, less than the step of 2 */
	assert_int_equal(fc_controls_set(node, "brightness", -1000, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "brightness=-10");
	assert_int_equal(fc_controls_set(node, "power_line_frequency", -1, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "power_line_frequency=0"); /* from 1, the default */
	assert_int_equal(fc_controls_set(node, "power_line_frequency", 1, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "power_line_frequency=2"); /* 0 -> 2, over the hole */
	assert_int_equal(fc_controls_set(node, "power_line_frequency", 1, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "power_line_frequency=2"); /* at the end: stays */
	assert_int_equal(fc_controls_set(node, "pixel_rate", 1, true, out, sizeof(out)),
			 FC_CONTROL_OK);
	assert_string_equal(out, "pixel_rate=89335319756"); /* 2^35 + 2^40 / 20 */
}

/* Each refusal names the control, the value and the reason; nothing reaches the camera. */
static void test_refusals(void **state)
{
	(void)state;
	assert_int_equal(fc_controls_set(node, "brightness", 11, false, out, sizeof(out)),
			 FC_CONTROL_E_RANGE);
	assert_string_equal(out, "brightness: 11 is outside its range -10..10");
	assert_int_equal(fc_controls_set(node, "brightness", INT64_MIN, false, out, sizeof(out)),
			 FC_CONTROL_E_RANGE);
	assert_int_equal(fc_controls_set(node, "power_line_frequency", 1, false, out, sizeof(out)),
			 FC_CONTROL_E_RANGE);
	assert_non_null(strstr(out, "1 is not one of its menu items"));
	assert_int_equal(by_id(V4L2_CID_POWER_LINE_FREQUENCY, false)->value, 1);
	assert_int_equal(fc_controls_set(node, "sat_ration_x", 1, false, out, sizeof(out)),
			 FC_CONTROL_E_READ_ONLY);
	assert_int_equal(fc_controls_set(node, "contrast", 1, false, out, sizeof(out)),
			 FC_CONTROL_E_UNKNOWN); /* disabled */
	assert_int_equal(fc_controls_set(node, "focus", 1, false, out, sizeof(out)),
			 FC_CONTROL_E_UNKNOWN);
	assert_non_null(strstr(out, "no control focus on /tmp/fc-test-controls-"));
	assert_non_null(strstr(out, "; it has: brightness sat_ration_x do_white_balance "
				    "power_line_frequency pixel_rate"));
	set_errno = EBUSY;
	assert_int_equal(fc_controls_set(node, "brightness", 2, false, out, sizeof(out)),
			 FC_CONTROL_E_DEVICE);
	assert_non_null(strstr(out, "brightness: the camera /tmp/fc-test-controls-"));
	assert_non_null(strstr(out, "refused 2: Device or resource busy"));
	assert_int_equal(fc_controls_list("/nonexistent/video9", out, sizeof(out)),
			 FC_CONTROL_E_DEVICE);
	assert_string_equal(out,
			    "cannot open camera /nonexistent/video9: No such file or directory");
}

/* A list that does not fit the answer says so instead of cutting a line. */
static void test_list_too_long(void **state)
{
	char small[100];

	(void)state;
	assert_int_equal(fc_controls_list(node, small, sizeof(small)), FC_CONTROL_E_DEVICE);
	assert_non_null(strstr(small, "do not fit in one answer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varname),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nudge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_too_long, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
