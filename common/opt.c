#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fc_opt_int(const char *option, const char *text, long min, long max, long *out, char *err,
	       size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end) {
		snprintf(err, errlen, "%s '%s': not a whole number", option, text);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s %ld: out of range (%ld to %ld)", option, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int fc_opt_double(const char *option, const char *text, double min, double max, double *out,
		  char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v)) {
		snprintf(err, errlen, "%s '%s': not a number", option, text);
		return -1;
	}
	if (v < min || v > max) {
		/* %.10g: a value just past a limit must not print as the limit itself. */
		snprintf(err, errlen, "%s %.10g: out of range (%g to %g)", option, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int fc_opt_size(const char *option, const char *text, int min, int max, int *w, int *h, char *err,
		size_t errlen)
{
	const char *second;
	char *end;
	long a;
	long b;

	errno = 0;
	a = strtol(text, &end, 10);
	if (errno || end == text || (*end != 'x' && *end != 'X'))
		goto bad;
	second = end + 1;
	b = strtol(second, &end, 10);
	if (errno || end == second || *end)
		goto bad;
	if (a < min || a > max || b < min || b > max) {
		snprintf(err, errlen, "%s %ldx%ld: each side must be from %d to %d", option, a, b,
			 min, max);
		return -1;
	}
	if (a % 2 || b % 2) {
		snprintf(err, errlen, "%s %ldx%ld: width and height must be even", option, a, b);
		return -1;
	}
	*w = (int)a;
	*h = (int)b;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': expected WIDTHxHEIGHT, for example 1280x720", option, text);
	return -1;
}

int fc_opt_bool(const char *option, const char *text, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(err, errlen, "%s '%s': expected on or off", option, text);
	return -1;
}
