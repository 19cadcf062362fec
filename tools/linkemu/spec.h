/*
 * spec: how one direction of linkemu's link is shaped (struct le_shape), and the text that says
 * it, in tc's units: "rate=20mbit delay=10ms jitter=2ms loss=1% queue=50ms". The same text is
 * taken on the command line (--a2b, --b2a, --link), by the control socket and by --at, so it is
 * parsed here once.
 *
 * Pure functions, no I/O: 0 on success, -1 with a message in err that names the key, the value
 * and what would be accepted. A spec that fails leaves the shape it was applied to unchanged.
 */
#ifndef LE_SPEC_H
#define LE_SPEC_H

#include <stddef.h>
#include <stdint.h>

enum le_loss_model {
	LE_LOSS_NONE,
	LE_LOSS_RANDOM, /* each packet lost with probability loss, independently */
	LE_LOSS_GE,	/* Gilbert-Elliott: a good and a bad state, each with its own loss */
};

/* One direction. Every field's zero is "not shaped that way". */
struct le_shape {
	uint64_t delay_ns;
	uint64_t jitter_ns; /* each packet waits a further uniform 0..jitter_ns */
	uint64_t rate_bps;  /* bits per second of IP packet (plus overhead); 0 = no cap */
	/* The queue before the rate cap, drop-tail. Given either in bytes or as a time at the
	 * rate (then its size follows the rate when the rate changes); one of them is 0. */
	uint64_t queue_bytes;
	uint64_t queue_ns;
	uint32_t overhead; /* bytes added to each packet's length for the rate (framing) */
	enum le_loss_model loss_model;
	double loss;	/* LE_LOSS_RANDOM: probability, 0..1 */
	double ge_p;	/* LE_LOSS_GE: per packet, probability good -> bad */
	double ge_r;	/*                          probability bad -> good */
	double ge_bad;	/*                          loss in the bad state (1 - h in netem) */
	double ge_good; /*                          loss in the good state (1 - k in netem) */
	double reorder; /* probability a packet skips the delay and overtakes those ahead */
	double dup;	/* probability a packet is sent twice */
	/* UDP datagrams only (edit.h): a payload byte changed, or the payload cut short, with the
	 * headers' lengths and checksums made right so that the application receives it. */
	double corrupt;	 /* probability a datagram has one byte of its payload changed */
	double truncate; /* probability a datagram is cut short */
};

/* The queue when none is given: 50 ms at the rate, like a modest home router. */
#define LE_SPEC_DEFAULT_QUEUE_NS (50 * 1000000ull)

/* An unshaped direction (no delay, loss or cap) with the default queue. */
void le_spec_default(struct le_shape *s);

/* Applies "key=value key=value ..." (or "key value ...") to *s, key by key: keys not named keep
 * their value. The word "clear" first resets to le_spec_default(). Keys: delay, jitter, rate,
 * queue, overhead, loss, ge, reorder, dup, corrupt, truncate. An empty text changes nothing. */
int le_spec_apply(struct le_shape *s, const char *text, char *err, size_t errlen);

/* The shape as text le_spec_apply() takes back, non-default keys only ("unshaped" if none). */
const char *le_spec_format(const struct le_shape *s, char *buf, size_t len);

/* The queue's size in bytes at the shape's rate (0 = no cap, so no queue either). */
uint64_t le_spec_queue_limit(const struct le_shape *s);

/* tc-style values, each named `what` in messages. Times: "20ms", "500us", "1.5s", "0". */
int le_spec_time(const char *what, const char *text, uint64_t max_ns, uint64_t *ns, char *err,
		 size_t errlen);
/* Rates: "20mbit", "512kbit", "1gbit", "100bit"; "kbps" and the like are bytes per second, as
 * in tc; "0", "off" and "none" are no cap. */
int le_spec_rate(const char *what, const char *text, uint64_t *bps, char *err, size_t errlen);
/* Sizes: "64kb" (KiB, as in tc), "1mb", "1500b", "1500". */
int le_spec_size(const char *what, const char *text, uint64_t max, uint64_t *bytes, char *err,
		 size_t errlen);
/* Percentages: "1%", "0.5%", "0". Stored as a probability, 0..1. */
int le_spec_percent(const char *what, const char *text, double *p, char *err, size_t errlen);

#endif
