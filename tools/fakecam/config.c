/*
 * config: the fake camera's settings, from FAKECAM_* environment variables (README.md lists
 * them). Parsed once; a setting that does not parse rejects the whole configuration, so that a
 * typo in a test shows as a missing camera and a message, not as a camera that silently ignores
 * the fault it was asked for.
 */
#include "fakecam.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_DEVICE "/dev/video0"
/* Like a common USB 2 webcam: YUYV up to 720p, MJPEG up to 1080p, each at 30 and 15 fps. */
#define DEFAULT_FORMATS                                                                            \
	"yuyv:640x480@30/15,1280x720@30/15;mjpeg:640x480@30/15,1280x720@30/15,1920x1080@30/15"
/* fc_pattern_new's limits: the stamp needs 128x64, and both sides must be even. */
#define MIN_WIDTH  128
#define MIN_HEIGHT 64
#define MAX_SIDE   8192

static int fail(struct fakecam_config *cfg, const char *what, const char *value)
{
	snprintf(cfg->error, sizeof(cfg->error), "bad %s '%.80s'", what, value);
	return -1;
}

/* A whole decimal number in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int env_long(struct fakecam_config *cfg, const char *name, long lo, long hi, long *out)
{
	const char *s = getenv(name);

	if (!s || !*s)
		return 0;
	if (parse_long(s, lo, hi, out))
		return fail(cfg, name, s);
	return 0;
}

/* "640x480@30/15": a size and its rates. */
static int parse_size(char *s, struct fakecam_size *sz)
{
	char *at = strchr(s, '@');
	char *x = strchr(s, 'x');
	char *rate;
	char *save = NULL;
	long w, h;

	if (!at || !x || x > at)
		return -1;
	*x = *at = '\0';
	if (parse_long(s, MIN_WIDTH, MAX_SIDE, &w) || parse_long(x + 1, MIN_HEIGHT, MAX_SIDE, &h) ||
	    (w | h) & 1)
		return -1;
	sz->width = (int)w;
	sz->height = (int)h;
	sz->nrates = 0;
	for (rate = strtok_r(at + 1, "/", &save); rate; rate = strtok_r(NULL, "/", &save)) {
		long r;

		if (sz->nrates == FAKECAM_MAX_RATES || parse_long(rate, 1, 240, &r))
			return -1;
		sz->rates[sz->nrates++] = (int)r;
	}
	return sz->nrates ? 0 : -1;
}

/* "yuyv:640x480@30,1280x720@30;mjpeg:..." */
static int parse_formats(struct fakecam_config *cfg, const char *value)
{
	char buf[1024];
	char *save = NULL;

	if (strlen(value) >= sizeof(buf))
		return fail(cfg, "FAKECAM_FORMATS (too long)", value);
	memcpy(buf, value, strlen(value) + 1);
	cfg->nformats = 0;
	for (char *f = strtok_r(buf, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(f, ':');
		struct fakecam_format *fmt;
		char *save2 = NULL;

		if (!colon || cfg->nformats == FAKECAM_MAX_FORMATS)
			return fail(cfg, "FAKECAM_FORMATS", value);
		*colon = '\0';
		fmt = &cfg->formats[cfg->nformats];
		if (!strcasecmp(f, "yuyv"))
			fmt->fourcc = V4L2_PIX_FMT_YUYV;
		else if (!strcasecmp(f, "mjpeg") || !strcasecmp(f, "mjpg"))
			fmt->fourcc = V4L2_PIX_FMT_MJPEG;
		else
			return fail(cfg, "FAKECAM_FORMATS format", f);
		for (int i = 0; i < cfg->nformats; i++) {
			if (cfg->formats[i].fourcc == fmt->fourcc)
				return fail(cfg, "FAKECAM_FORMATS (format twice)", value);
		}
		fmt->nsizes = 0;
		for (char *s = strtok_r(colon + 1, ",", &save2); s;
		     s = strtok_r(NULL, ",", &save2)) {
			if (fmt->nsizes == FAKECAM_MAX_SIZES ||
			    parse_size(s, &fmt->sizes[fmt->nsizes]))
				return fail(cfg, "FAKECAM_FORMATS size", value);
			fmt->nsizes++;
		}
		if (!fmt->nsizes)
			return fail(cfg, "FAKECAM_FORMATS (no sizes)", value);
		cfg->nformats++;
	}
	return cfg->nformats ? 0 : fail(cfg, "FAKECAM_FORMATS", value);
}

static int add_path(struct fakecam_config *cfg, const char *p, size_t n)
{
	if (n == 0 || n >= FAKECAM_PATH_MAX || p[0] != '/' || cfg->nports == FAKECAM_MAX_PORTS)
		return -1;
	memcpy(cfg->paths[cfg->nports], p, n);
	cfg->paths[cfg->nports][n] = '\0';
	cfg->nports++;
	return 0;
}

/* FAKECAM_DEVICE: one path or a comma-separated list. FAKECAM_DEVICES=N: N paths counting up from
 * the (one) device's number, /dev/video0, /dev/video1, ... */
static int parse_devices(struct fakecam_config *cfg)
{
	const char *dev = getenv("FAKECAM_DEVICE");
	long count = 1;

	if (!dev || !*dev)
		dev = DEFAULT_DEVICE;
	if (env_long(cfg, "FAKECAM_DEVICES", 1, FAKECAM_MAX_PORTS, &count))
		return -1;
	for (const char *p = dev; *p;) {
		size_t n = strcspn(p, ",");

		if (add_path(cfg, p, n))
			return fail(cfg, "FAKECAM_DEVICE", dev);
		p += n + (p[n] == ',');
	}
	if (count > 1) {
		size_t len = strlen(cfg->paths[0]);
		size_t digits = 0;
		char base[FAKECAM_PATH_MAX];
		long first;

		while (digits < len && isdigit((unsigned char)cfg->paths[0][len - 1 - digits]))
			digits++;
		if (cfg->nports != 1 || digits == 0 || digits > 3)
			return fail(cfg, "FAKECAM_DEVICES with FAKECAM_DEVICE", dev);
		first = strtol(cfg->paths[0] + len - digits, NULL, 10);
		memcpy(base, cfg->paths[0], len - digits);
		base[len - digits] = '\0';
		for (long i = 1; i < count; i++) {
			char p[FAKECAM_PATH_MAX + 8];
			int n = snprintf(p, sizeof(p), "%s%ld", base, first + i);

			if (n < 0 || add_path(cfg, p, (size_t)n))
				return fail(cfg, "FAKECAM_DEVICE", dev);
		}
	}
	return 0;
}

static int parse_faults(struct fakecam_config *cfg)
{
	const char *s;
	long v;

	v = 0;
	if (env_long(cfg, "FAKECAM_UNPLUG_AFTER", 0, 1L << 40, &v))
		return -1;
	cfg->unplug_after = (uint64_t)v;
	cfg->replug_after_ns = -1;
	s = getenv("FAKECAM_REPLUG_AFTER");
	if (s && *s) {
		char *end;
		double sec;

		errno = 0;
		sec = strtod(s, &end);
		if (errno || end == s || *end || !(sec >= 0.0 && sec <= 86400.0))
			return fail(cfg, "FAKECAM_REPLUG_AFTER", s);
		cfg->replug_after_ns = (int64_t)(sec * 1e9);
	}
	v = 0;
	if (env_long(cfg, "FAKECAM_BUSY", 0, 1, &v))
		return -1;
	cfg->busy = (int)v;
	v = 0;
	if (env_long(cfg, "FAKECAM_CORRUPT_EVERY", 0, 1000000, &v))
		return -1;
	cfg->corrupt_every = (int)v;
	v = 0;
	if (env_long(cfg, "FAKECAM_NO_DHT", 0, 1, &v))
		return -1;
	cfg->no_dht = (int)v;
	v = 0;
	if (env_long(cfg, "FAKECAM_JITTER_MS", 0, 10000, &v))
		return -1;
	cfg->jitter_ms = (int)v;
	v = -1;
	if (env_long(cfg, "FAKECAM_READOUT_MS", -1, 10000, &v))
		return -1;
	cfg->readout_ms = (int)v;
	return 0;
}

void fakecam_config_load(struct fakecam_config *cfg)
{
	const char *formats = getenv("FAKECAM_FORMATS");
	long log = 0;

	memset(cfg, 0, sizeof(*cfg));
	/* Logging first, so that it is on even when something else is rejected. */
	if (env_long(cfg, "FAKECAM_LOG", 0, 1, &log) == 0)
		cfg->log = (int)log;
	if (!formats || !*formats)
		formats = DEFAULT_FORMATS;
	if (cfg->error[0] || parse_devices(cfg) || parse_formats(cfg, formats) || parse_faults(cfg))
		cfg->nports = 0;
}

const struct fakecam_format *fakecam_format(const struct fakecam_dev *d)
{
	return &fakecam_cfg.formats[d->fmt];
}

const struct fakecam_size *fakecam_size(const struct fakecam_dev *d)
{
	return &fakecam_cfg.formats[d->fmt].sizes[d->size];
}
