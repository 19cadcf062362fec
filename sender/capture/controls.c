#include "controls.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/videodev2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "proto_control.h"
#include "v4l2.h"

/* A menu longer than this is listed without its items (no webcam has one). */
#define MENU_MAX 64

void fc_controls_varname(const char *label, char *out, size_t cap)
{
	size_t n = 0;
	bool gap = false;

	for (; *label; label++) {
		char c = *label;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
			bool sep = gap && n > 0;

			if (n + sep + 1 >= cap)
				break;
			if (sep)
				out[n++] = '_';
			gap = false;
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		} else {
			gap = true;
		}
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
}

/* The control after id (id 0: the first), by QUERY_EXT_CTRL, or by QUERYCTRL on a driver
 * without it. -1 at the end or on an error (errno). */
static int next_control(int fd, uint32_t id, struct v4l2_query_ext_ctrl *q)
{
	struct v4l2_queryctrl old = { .id = id | V4L2_CTRL_FLAG_NEXT_CTRL };

	memset(q, 0, sizeof(*q));
	q->id = id | V4L2_CTRL_FLAG_NEXT_CTRL;
	if (fc_v4l2_xioctl(fd, VIDIOC_QUERY_EXT_CTRL, q) == 0)
		return 0;
	if (errno != ENOTTY || fc_v4l2_xioctl(fd, VIDIOC_QUERYCTRL, &old) < 0)
		return -1;
	q->id = old.id;
	q->type = old.type;
	memcpy(q->name, old.name, sizeof(old.name));
	q->minimum = old.minimum;
	q->maximum = old.maximum;
	q->step = (uint64_t)old.step;
	q->default_value = old.default_value;
	q->flags = old.flags;
	return 0;
}

/* Controls a viewer can read and set with one number; classes, strings, compound ones are not. */
static bool numeric(const struct v4l2_query_ext_ctrl *q)
{
	switch (q->type) {
	case V4L2_CTRL_TYPE_INTEGER:
	case V4L2_CTRL_TYPE_BOOLEAN:
	case V4L2_CTRL_TYPE_MENU:
	case V4L2_CTRL_TYPE_BUTTON:
	case V4L2_CTRL_TYPE_INTEGER64:
	case V4L2_CTRL_TYPE_BITMASK:
	case V4L2_CTRL_TYPE_INTEGER_MENU:
		return !(q->flags & V4L2_CTRL_FLAG_HAS_PAYLOAD);
	default:
		return false;
	}
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case V4L2_CTRL_TYPE_INTEGER:
		return "int";
	case V4L2_CTRL_TYPE_BOOLEAN:
		return "bool";
	case V4L2_CTRL_TYPE_MENU:
		return "menu";
	case V4L2_CTRL_TYPE_BUTTON:
		return "button";
	case V4L2_CTRL_TYPE_INTEGER64:
		return "int64";
	case V4L2_CTRL_TYPE_BITMASK:
		return "bitmask";
	case V4L2_CTRL_TYPE_INTEGER_MENU:
		return "intmenu";
	}
	return "other";
}

/* The current value: G_CTRL, or G_EXT_CTRLS for a 64-bit one. */
static int get_value(int fd, const struct v4l2_query_ext_ctrl *q, int64_t *v)
{
	struct v4l2_control c = { .id = q->id };
	struct v4l2_ext_control ec = { .id = q->id };
	struct v4l2_ext_controls ecs = { .count = 1, .controls = &ec };

	if (q->type != V4L2_CTRL_TYPE_INTEGER64) {
		if (fc_v4l2_xioctl(fd, VIDIOC_G_CTRL, &c) < 0)
			return -1;
		*v = c.value;
		return 0;
	}
	if (fc_v4l2_xioctl(fd, VIDIOC_G_EXT_CTRLS, &ecs) < 0)
		return -1;
	*v = ec.value64;
	return 0;
}

static int set_value(int fd, const struct v4l2_query_ext_ctrl *q, int64_t v)
{
	struct v4l2_control c = { .id = q->id, .value = (int32_t)v };
	struct v4l2_ext_control ec = { .id = q->id, .value64 = v };
	struct v4l2_ext_controls ecs = { .count = 1, .controls = &ec };

	if (q->type != V4L2_CTRL_TYPE_INTEGER64)
		return fc_v4l2_xioctl(fd, VIDIOC_S_CTRL, &c);
	return fc_v4l2_xioctl(fd, VIDIOC_S_EXT_CTRLS, &ecs);
}

/* Menu item v's name into name (an integer menu's number as text); false when v is no item. */
static bool menu_item(int fd, const struct v4l2_query_ext_ctrl *q, int64_t v, char *name,
		      size_t len)
{
	struct v4l2_querymenu m = { .id = q->id, .index = (uint32_t)v };

	if (v < q->minimum || v > q->maximum || fc_v4l2_xioctl(fd, VIDIOC_QUERYMENU, &m) < 0)
		return false;
	if (q->type == V4L2_CTRL_TYPE_INTEGER_MENU)
		snprintf(name, len, "%lld", (long long)m.value);
	else
		snprintf(name, len, "%.*s", (int)sizeof(m.name), (const char *)m.name);
	/* Results are printable ASCII: a driver's other bytes become '?'. */
	for (char *p = name; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return true;
}

static void flags_text(uint32_t flags, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s", flags & V4L2_CTRL_FLAG_READ_ONLY ? "read-only," : "",
		 flags & V4L2_CTRL_FLAG_INACTIVE ? "inactive," : "",
		 flags & V4L2_CTRL_FLAG_GRABBED ? "grabbed," : "",
		 flags & V4L2_CTRL_FLAG_WRITE_ONLY ? "write-only," : "");
	if (out[0])
		out[strlen(out) - 1] = '\0';
}

/* One control as a JSON object, appended to j. */
static void describe(int fd, const struct v4l2_query_ext_ctrl *q, struct fc_json *j)
{
	char var[FC_PROTO_MAX_CONTROL_NAME + 1], label[sizeof(q->name) + 1], text[64];
	int64_t v;

	fc_controls_varname(q->name, var, sizeof(var));
	snprintf(label, sizeof(label), "%s", q->name);
	for (char *p = label; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	fc_json_begin(j);
	fc_json_str(j, "name", var);
	fc_json_str(j, "label", label);
	fc_json_uint(j, "id", q->id);
	fc_json_str(j, "type", type_name(q->type));
	fc_json_num(j, "min", (double)q->minimum, 0);
	fc_json_num(j, "max", (double)q->maximum, 0);
	fc_json_uint(j, "step", q->step);
	fc_json_num(j, "default", (double)q->default_value, 0);
	if (!(q->flags & V4L2_CTRL_FLAG_WRITE_ONLY) && get_value(fd, q, &v) == 0)
		fc_json_num(j, "value", (double)v, 0);
	flags_text(q->flags, text, sizeof(text));
	fc_json_str(j, "flags", text);
	if ((q->type == V4L2_CTRL_TYPE_MENU || q->type == V4L2_CTRL_TYPE_INTEGER_MENU) &&
	    q->maximum - q->minimum < MENU_MAX) {
		fc_json_object(j, "menu");
		for (int64_t i = q->minimum; i <= q->maximum; i++) {
			char key[24];

			snprintf(key, sizeof(key), "%lld", (long long)i);
			if (menu_item(fd, q, i, text, sizeof(text)))
				fc_json_str(j, key, text);
		}
		fc_json_end(j);
	}
}

/* Opens path for control ioctls only; -1 with the reason in out. */
static int open_device(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		snprintf(out, cap, "cannot open camera %s: %s", path, strerror(errno));
	return fd;
}

int fc_controls_list(const char *path, char *out, size_t cap)
{
	struct fc_json *j = malloc(sizeof(*j)); /* 32 KiB: not on a session thread's stack */
	struct v4l2_query_ext_ctrl q;
	size_t n = 0;
	int fd = open_device(path, out, cap);
	int status = FC_CONTROL_OK;
	uint32_t id = 0;

	if (fd < 0 || !j) {
		if (!j)
			snprintf(out, cap, "out of memory");
		status = FC_CONTROL_E_DEVICE;
		goto out;
	}
	out[0] = '\0';
	for (int k = 0; k < FC_CONTROLS_MAX && next_control(fd, id, &q) == 0; k++) {
		const char *line;

		id = q.id;
		if (!numeric(&q) || (q.flags & V4L2_CTRL_FLAG_DISABLED))
			continue;
		describe(fd, &q, j);
		line = fc_json_finish(j);
		if (!line || n + strlen(line) >= cap) {
			snprintf(out, cap,
				 "the controls of %s do not fit in one answer (%zu bytes)", path,
				 cap);
			status = FC_CONTROL_E_DEVICE;
			goto out;
		}
		memcpy(out + n, line, strlen(line) + 1);
		n += strlen(line);
	}
	if (n > 0)
		out[--n] = '\0'; /* lines between controls, none after the last */
out:
	if (fd >= 0)
		close(fd);
	free(j);
	return status;
}

/* The control called name; FC_CONTROL_E_UNKNOWN with the names there are in out. */
static int find(int fd, const char *path, const char *name, struct v4l2_query_ext_ctrl *q,
		char *out, size_t cap)
{
	char var[FC_PROTO_MAX_CONTROL_NAME + 1];
	size_t n = (size_t)snprintf(out, cap, "no control %s on %s; it has:", name, path);
	uint32_t id = 0;

	for (int k = 0; k < FC_CONTROLS_MAX && next_control(fd, id, q) == 0; k++) {
		id = q->id;
		if (!numeric(q) || (q->flags & V4L2_CTRL_FLAG_DISABLED))
			continue;
		fc_controls_varname(q->name, var, sizeof(var));
		if (strcmp(var, name) == 0)
			return FC_CONTROL_OK;
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, " %s", var);
	}
	return FC_CONTROL_E_UNKNOWN;
}

/* Whether the camera's range (and menu) allow value; else the status, with why in out. */
static int check(int fd, const struct v4l2_query_ext_ctrl *q, const char *name, int64_t value,
		 char *out, size_t cap)
{
	char item[64];

	if (q->flags & V4L2_CTRL_FLAG_READ_ONLY) {
		snprintf(out, cap, "%s is read-only", name);
		return FC_CONTROL_E_READ_ONLY;
	}
	if (q->type == V4L2_CTRL_TYPE_BUTTON)
		return FC_CONTROL_OK; /* a press: the value means nothing */
	if (value < q->minimum || value > q->maximum) {
		snprintf(out, cap, "%s: %lld is outside its range %lld..%lld", name,
			 (long long)value, (long long)q->minimum, (long long)q->maximum);
		return FC_CONTROL_E_RANGE;
	}
	if ((q->type == V4L2_CTRL_TYPE_MENU || q->type == V4L2_CTRL_TYPE_INTEGER_MENU) &&
	    !menu_item(fd, q, value, item, sizeof(item))) {
		snprintf(out, cap, "%s: %lld is not one of its menu items (--list-controls)", name,
			 (long long)value);
		return FC_CONTROL_E_RANGE;
	}
	return FC_CONTROL_OK;
}

/* The value `nudges` nudges from the current one: for a number a twentieth of its range each (at
 * least a step), kept within the range; for a menu the next items that exist; for a switch on
 * (up) or off (down). */
static int64_t nudged(int fd, const struct v4l2_query_ext_ctrl *q, int64_t nudges)
{
	int64_t cur = q->default_value, dir = nudges < 0 ? -1 : 1;
	__int128 step = q->step > 0 ? (__int128)q->step : 1;
	__int128 unit = ((__int128)q->maximum - q->minimum) / 20 / step * step, v;
	char item[64];

	(void)get_value(fd, q, &cur);
	if (q->type == V4L2_CTRL_TYPE_BOOLEAN)
		return nudges > 0;
	if (nudges < -FC_CONTROLS_MAX_NUDGES || nudges > FC_CONTROLS_MAX_NUDGES)
		nudges = dir * FC_CONTROLS_MAX_NUDGES;
	if (q->type == V4L2_CTRL_TYPE_MENU || q->type == V4L2_CTRL_TYPE_INTEGER_MENU) {
		v = cur;
		for (int64_t k = 0; k < nudges * dir; k++) {
			int64_t next = (int64_t)v + dir;

			while (next >= q->minimum && next <= q->maximum &&
			       !menu_item(fd, q, next, item, sizeof(item)))
				next += dir;
			if (next < q->minimum || next > q->maximum)
				break;
			v = next;
		}
		return (int64_t)v;
	}
	v = (__int128)cur + (__int128)nudges * (unit < step ? step : unit);
	return (int64_t)(v < q->minimum ? q->minimum : v > q->maximum ? q->maximum : v);
}

int fc_controls_set(const char *path, const char *name, int64_t value, bool nudge, char *out,
		    size_t cap)
{
	struct v4l2_query_ext_ctrl q;
	int64_t now;
	int fd = open_device(path, out, cap);
	int status;

	if (fd < 0)
		return FC_CONTROL_E_DEVICE;
	status = find(fd, path, name, &q, out, cap);
	if (status == FC_CONTROL_OK && nudge)
		value = nudged(fd, &q, value);
	now = value;
	if (status == FC_CONTROL_OK)
		status = check(fd, &q, name, value, out, cap);
	if (status != FC_CONTROL_OK)
		goto out;
	if (set_value(fd, &q, value) < 0) {
		snprintf(out, cap, "%s: the camera %s refused %lld: %s", name, path,
			 (long long)value, strerror(errno));
		status = FC_CONTROL_E_DEVICE;
		goto out;
	}
	/* What the camera took: a driver rounds to its step. */
	if (q.type == V4L2_CTRL_TYPE_BUTTON || (q.flags & V4L2_CTRL_FLAG_WRITE_ONLY) ||
	    get_value(fd, &q, &now) < 0)
		now = value;
	if (now == value)
		snprintf(out, cap, "%s=%lld", name, (long long)now);
	else
		snprintf(out, cap, "%s=%lld (asked %lld; the camera's step is %llu)", name,
			 (long long)now, (long long)value, (unsigned long long)q.step);
out:
	close(fd);
	return status;
}
