#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LE_MAX_TIME_NS	(60 * 1000000000ull) /* a minute: more is a mistake, not a link */
#define LE_MAX_RATE_BPS 100000000000ull	     /* 100 Gbit/s */
#define LE_MAX_QUEUE	(1024ull * 1024 * 1024)
#define LE_MAX_OVERHEAD 1000
#define LE_TOKEN_MAX	128
#define LE_SPEC_KEYS_MSG                                                                           \
	"delay, jitter, rate, queue, overhead, loss, ge, reorder, dup, corrupt, truncate or clear"

struct le_unit {
	const char *name;
	double scale;
};

static const struct le_unit le_time_units[] = {
	{ "s", 1e9 },	  { "sec", 1e9 },   { "secs", 1e9 }, { "ms", 1e6 },
	{ "msec", 1e6 },  { "msecs", 1e6 }, { "us", 1e3 },   { "usec", 1e3 },
	{ "usecs", 1e3 }, { "ns", 1 },	    { NULL, 0 },
};

/* As in tc: "bit" units are bits per second, "bps" units are BYTES per second. */
static const struct le_unit le_rate_units[] = {
	{ "bit", 1 },	 { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "bps", 8 },
	{ "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { NULL, 0 },
};

/* As in tc: "kb" is 1024 bytes. A bare number is bytes. */
static const struct le_unit le_size_units[] = {
	{ "", 1 },	  { "b", 1 },	     { "k", 1024 },	 { "kb", 1024 }, { "kib", 1024 },
	{ "m", 1048576 }, { "mb", 1048576 }, { "mib", 1048576 }, { NULL, 0 },
};

/* A non-negative decimal number and what follows it; -1 if text does not start with one. */
static int le_number(const char *text, double *v, const char **unit)
{
	char *end;

	errno = 0;
	*v = strtod(text, &end);
	if (errno || end == text || !isfinite(*v) || *v < 0 || isspace((unsigned char)*text))
		return -1;
	*unit = end;
	return 0;
}

static const struct le_unit *le_find_unit(const struct le_unit *units, const char *name)
{
	for (; units->name; units++)
		if (!strcasecmp(units->name, name))
			return units;
	return NULL;
}

int le_spec_time(const char *what, const char *text, uint64_t max_ns, uint64_t *ns, char *err,
		 size_t errlen)
{
	const struct le_unit *u;
	const char *unit;
	double v;

	if (le_number(text, &v, &unit) < 0)
		goto bad;
	u = le_find_unit(le_time_units, unit);
	if (!u && !(*unit == '\0' && v == 0)) /* a bare 0 needs no unit */
		goto bad;
	v *= u ? u->scale : 0;
	if (v > (double)max_ns) {
		snprintf(err, errlen, "%s '%s': too long (at most %g ms)", what, text,
			 (double)max_ns / 1e6);
		return -1;
	}
	*ns = (uint64_t)llround(v);
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': give a time with its unit, for example 20ms, 500us or 1s",
		 what, text);
	return -1;
}

int le_spec_rate(const char *what, const char *text, uint64_t *bps, char *err, size_t errlen)
{
	const struct le_unit *u;
	const char *unit;
	double v;

	if (!strcasecmp(text, "off") || !strcasecmp(text, "none") || !strcmp(text, "0")) {
		*bps = 0;
		return 0;
	}
	if (le_number(text, &v, &unit) < 0 || !(u = le_find_unit(le_rate_units, unit))) {
		snprintf(err, errlen,
			 "%s '%s': give a rate with its unit, for example 20mbit or 512kbit "
			 "(bits per second; kbps and mbps are bytes per second, as in tc), or off",
			 what, text);
		return -1;
	}
	v *= u->scale;
	if (v > (double)LE_MAX_RATE_BPS || (v > 0 && v < 1)) {
		snprintf(err, errlen, "%s '%s': out of range (1bit to 100gbit)", what, text);
		return -1;
	}
	*bps = (uint64_t)llround(v);
	return 0;
}

int le_spec_size(const char *what, const char *text, uint64_t max, uint64_t *bytes, char *err,
		 size_t errlen)
{
	const struct le_unit *u;
	const char *unit;
	double v;

	if (le_number(text, &v, &unit) < 0 || !(u = le_find_unit(le_size_units, unit))) {
		snprintf(err, errlen, "%s '%s': give a size, for example 1500b, 64kb or 1mb", what,
			 text);
		return -1;
	}
	v *= u->scale;
	if (v > (double)max) {
		snprintf(err, errlen, "%s '%s': too big (at most %llu bytes)", what, text,
			 (unsigned long long)max);
		return -1;
	}
	*bytes = (uint64_t)llround(v);
	return 0;
}

int le_spec_percent(const char *what, const char *text, double *p, char *err, size_t errlen)
{
	const char *unit;
	double v;

	if (le_number(text, &v, &unit) < 0 || (strcmp(unit, "%") && !(*unit == '\0' && v == 0))) {
		snprintf(err, errlen, "%s '%s': give a percentage, for example 1%% or 0.5%%", what,
			 text);
		return -1;
	}
	if (v > 100) {
		snprintf(err, errlen, "%s '%s': a percentage is at most 100%%", what, text);
		return -1;
	}
	*p = v / 100;
	return 0;
}

void le_spec_default(struct le_shape *s)
{
	*s = (struct le_shape){ .queue_ns = LE_SPEC_DEFAULT_QUEUE_NS };
}

uint64_t le_spec_queue_limit(const struct le_shape *s)
{
	if (!s->rate_bps)
		return 0;
	if (!s->queue_ns)
		return s->queue_bytes;
	/* In double: rate times time overflows 64 bits long before either is absurd. */
	return (uint64_t)((double)s->rate_bps / 8 * (double)s->queue_ns / 1e9);
}

/* ge=P,R[,BAD[,GOOD]]: percentages; BAD defaults to 100%, GOOD to 0% (Gilbert's model). */
static int le_parse_ge(struct le_shape *s, const char *text, char *err, size_t errlen)
{
	static const char *const names[] = { "ge p (good to bad)", "ge r (bad to good)",
					     "ge bad (loss in the bad state)",
					     "ge good (loss in the good state)" };
	double v[4] = { 0, 0, 1, 0 };
	char buf[LE_TOKEN_MAX];
	char *save = NULL;
	char *part;
	int n = 0;

	if (!strcasecmp(text, "off") || !strcmp(text, "0")) {
		s->loss_model = LE_LOSS_NONE;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		if (n == 4 || le_spec_percent(names[n], part, &v[n], err, errlen) < 0) {
			if (n == 4)
				snprintf(err, errlen,
					 "ge '%s': at most four percentages: p,r,bad,good", text);
			return -1;
		}
		n++;
	}
	if (n < 2) {
		snprintf(err, errlen,
			 "ge '%s': give at least p,r (percentages), for example ge=1%%,25%% for "
			 "bursts of 4 packets on average, or ge=off",
			 text);
		return -1;
	}
	s->loss_model = LE_LOSS_GE;
	s->ge_p = v[0];
	s->ge_r = v[1];
	s->ge_bad = v[2];
	s->ge_good = v[3];
	return 0;
}

/* queue=SIZE (bytes, fixed) or queue=TIME (at the rate, following it). */
static int le_parse_queue(struct le_shape *s, const char *text, char *err, size_t errlen)
{
	const char *unit;
	double v;

	if (le_number(text, &v, &unit) == 0 && le_find_unit(le_time_units, unit)) {
		if (le_spec_time("queue", text, LE_MAX_TIME_NS, &s->queue_ns, err, errlen) < 0)
			return -1;
		s->queue_bytes = 0;
		return 0;
	}
	if (le_number(text, &v, &unit) == 0 && le_find_unit(le_size_units, unit)) {
		if (le_spec_size("queue", text, LE_MAX_QUEUE, &s->queue_bytes, err, errlen) < 0)
			return -1;
		s->queue_ns = 0;
		return 0;
	}
	snprintf(err, errlen,
		 "queue '%s': give a size (64kb, 1500b) or a time at the rate (50ms, 1s)", text);
	return -1;
}

static int le_parse_loss(struct le_shape *s, const char *text, char *err, size_t errlen)
{
	if (le_spec_percent("loss", text, &s->loss, err, errlen) < 0)
		return -1;
	s->loss_model = s->loss > 0 ? LE_LOSS_RANDOM : LE_LOSS_NONE;
	return 0;
}

static int le_parse_key(struct le_shape *s, const char *key, const char *val, char *err,
			size_t errlen)
{
	uint64_t overhead;

	if (!strcmp(key, "delay"))
		return le_spec_time("delay", val, LE_MAX_TIME_NS, &s->delay_ns, err, errlen);
	if (!strcmp(key, "jitter"))
		return le_spec_time("jitter", val, LE_MAX_TIME_NS, &s->jitter_ns, err, errlen);
	if (!strcmp(key, "rate"))
		return le_spec_rate("rate", val, &s->rate_bps, err, errlen);
	if (!strcmp(key, "queue"))
		return le_parse_queue(s, val, err, errlen);
	if (!strcmp(key, "loss"))
		return le_parse_loss(s, val, err, errlen);
	if (!strcmp(key, "ge"))
		return le_parse_ge(s, val, err, errlen);
	if (!strcmp(key, "reorder"))
		return le_spec_percent("reorder", val, &s->reorder, err, errlen);
	if (!strcmp(key, "dup"))
		return le_spec_percent("dup", val, &s->dup, err, errlen);
	if (!strcmp(key, "corrupt"))
		return le_spec_percent("corrupt", val, &s->corrupt, err, errlen);
	if (!strcmp(key, "truncate"))
		return le_spec_percent("truncate", val, &s->truncate, err, errlen);
	if (!strcmp(key, "overhead")) {
		if (le_spec_size("overhead", val, LE_MAX_OVERHEAD, &overhead, err, errlen) < 0)
			return -1;
		s->overhead = (uint32_t)overhead;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s': the keys are " LE_SPEC_KEYS_MSG, key);
	return -1;
}

/* The next whitespace-separated word of *text into buf; false at the end (or if too long). */
static bool le_word(const char **text, char *buf, size_t len, bool *too_long)
{
	const char *p = *text;
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	while (p[n] && !isspace((unsigned char)p[n]))
		n++;
	*text = p + n;
	*too_long = n >= len;
	if (!n || *too_long)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

int le_spec_apply(struct le_shape *s, const char *text, char *err, size_t errlen)
{
	struct le_shape t = *s;
	char word[LE_TOKEN_MAX], val[LE_TOKEN_MAX];
	bool too_long = false, random = false, ge = false;

	while (le_word(&text, word, sizeof(word), &too_long)) {
		char *eq = strchr(word, '=');
		const char *key = word, *v = val;

		if (!strcmp(word, "clear")) {
			le_spec_default(&t);
			continue;
		}
		if (eq) {
			*eq = '\0';
			v = eq + 1;
		} else if (!le_word(&text, val, sizeof(val), &too_long)) {
			if (!too_long) {
				snprintf(err, errlen,
					 "'%s' needs a value, for example %s=20ms or "
					 "rate=20mbit; the keys are " LE_SPEC_KEYS_MSG,
					 word, word);
				return -1;
			}
			break;
		}
		if (le_parse_key(&t, key, v, err, errlen) < 0)
			return -1;
		random |= !strcmp(key, "loss");
		ge |= !strcmp(key, "ge");
	}
	if (too_long) {
		snprintf(err, errlen, "a word of more than %d characters: not a key=value pair",
			 LE_TOKEN_MAX - 1);
		return -1;
	}
	if (random && ge) {
		snprintf(err, errlen, "loss and ge are two loss models: give one of them");
		return -1;
	}
	*s = t;
	return 0;
}

static void le_append(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends to buf at *at, a space before every item but the first; stops quietly when full. */
static void le_append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at + 1 >= len)
		return;
	if (*at)
		buf[(*at)++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

static const char *le_time_str(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000 == 0 || ns >= 1000000)
		snprintf(buf, len, "%.10gms", (double)ns / 1e6);
	else if (ns % 1000 == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

static const char *le_rate_str(uint64_t bps, char *buf, size_t len)
{
	static const struct le_unit units[] = {
		{ "gbit", 1e9 }, { "mbit", 1e6 }, { "kbit", 1e3 }, { "bit", 1 }, { NULL, 0 }
	};
	const struct le_unit *u = units;

	/* The largest unit that still shows the rate exactly. */
	while (u->scale > 1 && bps % (uint64_t)u->scale)
		u++;
	snprintf(buf, len, "%llu%s", (unsigned long long)(bps / (uint64_t)u->scale), u->name);
	return buf;
}

const char *le_spec_format(const struct le_shape *s, char *buf, size_t len)
{
	char a[32];
	size_t at = 0;

	buf[0] = '\0';
	if (s->delay_ns)
		le_append(buf, len, &at, "delay=%s", le_time_str(s->delay_ns, a, sizeof(a)));
	if (s->jitter_ns)
		le_append(buf, len, &at, "jitter=%s", le_time_str(s->jitter_ns, a, sizeof(a)));
	if (s->rate_bps)
		le_append(buf, len, &at, "rate=%s", le_rate_str(s->rate_bps, a, sizeof(a)));
	/* The queue matters only under a rate cap, where it is always said. */
	if (s->queue_ns && (s->rate_bps || s->queue_ns != LE_SPEC_DEFAULT_QUEUE_NS))
		le_append(buf, len, &at, "queue=%s", le_time_str(s->queue_ns, a, sizeof(a)));
	else if (!s->queue_ns)
		le_append(buf, len, &at, "queue=%llub", (unsigned long long)s->queue_bytes);
	if (s->overhead)
		le_append(buf, len, &at, "overhead=%ub", s->overhead);
	if (s->loss_model == LE_LOSS_RANDOM)
		le_append(buf, len, &at, "loss=%.10g%%", s->loss * 100);
	if (s->loss_model == LE_LOSS_GE)
		le_append(buf, len, &at, "ge=%.10g%%,%.10g%%,%.10g%%,%.10g%%", s->ge_p * 100,
			  s->ge_r * 100, s->ge_bad * 100, s->ge_good * 100);
	if (s->reorder > 0)
		le_append(buf, len, &at, "reorder=%.10g%%", s->reorder * 100);
	if (s->dup > 0)
		le_append(buf, len, &at, "dup=%.10g%%", s->dup * 100);
	if (s->corrupt > 0)
		le_append(buf, len, &at, "corrupt=%.10g%%", s->corrupt * 100);
	if (s->truncate > 0)
		le_append(buf, len, &at, "truncate=%.10g%%", s->truncate * 100);
	if (!at)
		snprintf(buf, len, "unshaped");
	return buf;
}
