/*
 * opt: parsing the option values both programs take (numbers with ranges, WxH sizes, durations),
 * with messages that name the option, the value and what is allowed.
 *
 * Pure functions: 0 on success, -1 with the reason in err. The mains print it and exit.
 */
#ifndef FC_OPT_H
#define FC_OPT_H

#include <stdbool.h>
#include <stddef.h>

/* An integer in [min, max]. */
int fc_opt_int(const char *option, const char *text, long min, long max, long *out, char *err,
	       size_t errlen);

/* A decimal number in [min, max] (for example --max-age 80 or 12.5). */
int fc_opt_double(const char *option, const char *text, double min, double max, double *out,
		  char *err, size_t errlen);

/* "WIDTHxHEIGHT", each in [min, max] and even (JPEG 4:2:0 wants even sizes). */
int fc_opt_size(const char *option, const char *text, int min, int max, int *w, int *h, char *err,
		size_t errlen);

/* "on" or "off" (also yes/no, true/false, 1/0). */
int fc_opt_bool(const char *option, const char *text, bool *out, char *err, size_t errlen);

#endif
