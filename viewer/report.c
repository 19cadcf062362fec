#include "report.h"

#include "pace.h"
#include "report_udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hists_reset(struct fc_report_hists *h)
{
	fc_hist_reset(&h->bound);
	fc_hist_reset(&h->request);
	fc_hist_reset(&h->width);
	fc_hist_reset(&h->rtt);
	fc_hist_reset(&h->est);
	fc_hist_reset(&h->decode);
	fc_hist_reset(&h->stamp_age);
}

static void hists_merge(struct fc_report_hists *dst, const struct fc_report_hists *src)
{
	fc_hist_merge(&dst->bound, &src->bound);
	fc_hist_merge(&dst->request, &src->request);
	fc_hist_merge(&dst->width, &src->width);
	fc_hist_merge(&dst->rtt, &src->rtt);
	fc_hist_merge(&dst->est, &src->est);
	fc_hist_merge(&dst->decode, &src->decode);
	fc_hist_merge(&dst->stamp_age, &src->stamp_age);
}

void fc_report_init(struct fc_report *r, uint64_t budget_ns, uint64_t now_ns)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	hists_reset(&r->interval);
	hists_reset(&r->total);
	r->start_ns = r->tick_ns = now_ns;
	r->budget_ns = budget_ns;
	r->clock = "proven";
}

void fc_report_destroy(struct fc_report *r)
{
	pthread_mutex_destroy(&r->lock);
}

/* Counts frames of one rendition into a mix: its own entry, or "other" once the table is full. */
static void mix_add(struct fc_rendition_mix *m, const struct fc_rendition *add)
{
	for (unsigned i = 0; i < m->count; i++) {
		struct fc_rendition *e = &m->r[i];

		if (e->width == add->width && e->height == add->height &&
		    e->quality == add->quality) {
			e->frames += add->frames;
			e->bytes += add->bytes;
			return;
		}
	}
	if (m->count < FC_REPORT_MIX) {
		m->r[m->count++] = *add;
		return;
	}
	m->other.frames += add->frames;
	m->other.bytes += add->bytes;
}

static void mix_merge(struct fc_rendition_mix *dst, const struct fc_rendition_mix *src)
{
	for (unsigned i = 0; i < src->count; i++)
		mix_add(dst, &src->r[i]);
	dst->other.frames += src->other.frames;
	dst->other.bytes += src->other.bytes;
}

/* Each side clamped to what the wire can carry: the report never trusts a caller's int. */
static uint16_t side(int v)
{
	return v <= 0 ? 0 : v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

void fc_report_arrival(struct fc_report *r, const struct fc_report_frame *f,
		       const struct fc_age *age, bool accepted)
{
	struct fc_rendition one = {
		.width = side(f->width),
		.height = side(f->height),
		.quality = f->quality <= 0    ? 0
			   : f->quality > 100 ? 100
					      : (uint8_t)f->quality,
		.frames = 1,
		.bytes = f->bytes,
	};

	pthread_mutex_lock(&r->lock);
	r->c.received++;
	r->c.bytes += f->bytes;
	if (f->bytes == 0)
		r->c.stale++;
	if (accepted)
		r->c.accepted++;
	else
		r->c.rejected++;
	/* A stale notice carries no picture: the rendition is what the last picture came as. */
	if (f->bytes > 0) {
		r->last = *f;
		mix_add(&r->mix, &one);
	}
	r->last_bound_ns = age ? age->bound_ns : UINT64_MAX;
	if (age) {
		fc_hist_add(&r->interval.bound, age->bound_ns);
		fc_hist_add(&r->interval.request, age->request_ns);
		if (age->width_ns != UINT64_MAX)
			fc_hist_add(&r->interval.width, age->width_ns);
		if (age->synced)
			r->c.synced++;
		fc_hist_add(&r->interval.rtt, age->rtt_ns);
		fc_hist_add(&r->interval.est, age->est_ns);
	}
	pthread_mutex_unlock(&r->lock);
}

void fc_report_shown(struct fc_report *r, uint64_t decode_ns, int64_t stamp_age_ns)
{
	pthread_mutex_lock(&r->lock);
	r->c.shown++;
	fc_hist_add(&r->interval.decode, decode_ns);
	if (stamp_age_ns >= 0) {
		r->c.stamped++;
		fc_hist_add(&r->interval.stamp_age, (uint64_t)stamp_age_ns);
		if ((uint64_t)stamp_age_ns > r->budget_ns)
			r->c.stamp_over++;
	} else if (stamp_age_ns == -2) {
		r->c.unstamped++;
	}
	pthread_mutex_unlock(&r->lock);
}

void fc_report_dropped(struct fc_report *r, enum fc_drop why)
{
	pthread_mutex_lock(&r->lock);
	if (why == FC_DROP_CORRUPT)
		r->c.corrupt++;
	else
		r->c.late_display++;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_source(struct fc_report *r, bool lost)
{
	pthread_mutex_lock(&r->lock);
	r->source_lost = lost;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_clock(struct fc_report *r, bool restarted, bool refuted)
{
	pthread_mutex_lock(&r->lock);
	r->c.offset_restarts += restarted;
	r->c.synced_refuted |= refuted;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_clock_mode(struct fc_report *r, enum fc_clock_mode mode)
{
	r->clock = mode == FC_CLOCK_REQUEST  ? "request"
		   : mode == FC_CLOCK_SYNCED ? "synced"
					     : "proven";
}

bool fc_report_synced_refuted(struct fc_report *r)
{
	bool refuted;

	pthread_mutex_lock(&r->lock);
	refuted = r->c.synced_refuted;
	pthread_mutex_unlock(&r->lock);
	return refuted;
}

void fc_report_window(struct fc_report *r, unsigned window, unsigned max)
{
	pthread_mutex_lock(&r->lock);
	r->c.window = window;
	r->c.window_max = max;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_udp(struct fc_report *r, const struct fc_udprecv_stats *s)
{
	pthread_mutex_lock(&r->lock);
	r->udp_on = s != NULL;
	if (s)
		r->udp = *s;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_counts(struct fc_report *r, struct fc_report_counts *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->c;
	pthread_mutex_unlock(&r->lock);
}

void fc_report_live(struct fc_report *r, struct fc_report_live *out)
{
	pthread_mutex_lock(&r->lock);
	out->c = r->c;
	out->last_bound_ns = r->last_bound_ns;
	out->source_lost = r->source_lost;
	pthread_mutex_unlock(&r->lock);
}

const char *fc_report_title(const struct fc_report *r)
{
	return r->title;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Most frames first; ties broken by bytes, then size and quality, so that the order is the same
 * every time for the same mix. */
static int by_frames(const void *pa, const void *pb)
{
	const struct fc_rendition *a = pa;
	const struct fc_rendition *b = pb;

	if (a->frames != b->frames)
		return a->frames > b->frames ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->width != b->width)
		return a->width > b->width ? -1 : 1;
	if (a->height != b->height)
		return a->height > b->height ? -1 : 1;
	return (int)b->quality - (int)a->quality;
}

/*
 * The mix as JSON ("renditions"): at most FC_REPORT_MIX_SHOWN entries, most frames first. When
 * there are more kinds, the last entry sums the rest and says so ("other": true, its size and
 * quality 0), so that the entries always add up to every frame received with its bytes.
 */
static void mix_json(struct fc_json *j, const struct fc_rendition_mix *m)
{
	struct fc_rendition sorted[FC_REPORT_MIX];
	struct fc_rendition other = m->other;
	unsigned n = m->count;

	memcpy(sorted, m->r, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), by_frames);
	if (n + (other.frames > 0) > FC_REPORT_MIX_SHOWN) {
		for (unsigned i = FC_REPORT_MIX_SHOWN - 1; i < n; i++) {
			other.frames += sorted[i].frames;
			other.bytes += sorted[i].bytes;
		}
		n = FC_REPORT_MIX_SHOWN - 1;
	}
	fc_json_array(j, "renditions");
	for (unsigned i = 0; i <= n; i++) {
		const struct fc_rendition *e = i < n ? &sorted[i] : &other;

		if (i == n && other.frames == 0)
			break;
		fc_json_object(j, NULL);
		fc_json_uint(j, "width", e->width);
		fc_json_uint(j, "height", e->height);
		fc_json_uint(j, "quality", e->quality);
		fc_json_uint(j, "frames", e->frames);
		fc_json_uint(j, "bytes", e->bytes);
		if (i == n)
			fc_json_bool(j, "other", true);
		fc_json_end(j);
	}
	fc_json_end(j);
}

/* "640x360 of 1280x720 q80" for a reduced rendition, "1280x720 q80" for the full picture,
 * "camera JPEG" in place of the quality when the sender does not know it (a camera's own JPEG,
 * passed through); "no picture yet" before the first frame. */
static void rendition_text(const struct fc_report_frame *f, char *buf, size_t len)
{
	char q[16] = "camera JPEG";
	bool full = (f->width == f->src_width && f->height == f->src_height) || f->src_width == 0;

	if (f->bytes == 0) {
		snprintf(buf, len, "no picture yet");
		return;
	}
	if (f->quality > 0)
		snprintf(q, sizeof(q), "q%d", f->quality);
	if (full)
		snprintf(buf, len, "%dx%d %s", f->width, f->height, q);
	else
		snprintf(buf, len, "%dx%d of %dx%d %s", f->width, f->height, f->src_width,
			 f->src_height, q);
}

/* What a tick reports on: the counts now and the figures of the interval it closes (or of the
 * whole run, for the summary). */
struct tick {
	struct fc_report_counts c;
	const struct fc_report_hists *h;
	const struct fc_rendition_mix *mix;
	struct fc_report_frame last;
	bool summary;
	bool udp_on;
	struct fc_udprecv_stats udp;
	double shown_fps;
	double rejected_fps;
	double bytes_s;
	double
	    kb_per_frame; /* mean JPEG size of the frames received with their bytes, 1 KB = 1000 B */
};

/* Closes the interval under the lock (a copy), then merges it into the run's totals and works
 * out the rates, outside it. */
static void take(struct fc_report *r, uint64_t now_ns, bool summary, struct tick *t)
{
	static const struct fc_report_counts zero;
	const struct fc_report_counts *base = &r->at_tick;
	uint64_t pictures;
	double dt;

	pthread_mutex_lock(&r->lock);
	t->c = r->c;
	r->scratch = r->interval;
	hists_reset(&r->interval);
	r->mix_scratch = r->mix;
	memset(&r->mix, 0, sizeof(r->mix));
	t->last = r->last;
	t->udp_on = r->udp_on;
	t->udp = r->udp;
	pthread_mutex_unlock(&r->lock);

	hists_merge(&r->total, &r->scratch);
	mix_merge(&r->mix_total, &r->mix_scratch);
	t->summary = summary;
	t->h = summary ? &r->total : &r->scratch;
	t->mix = summary ? &r->mix_total : &r->mix_scratch;
	dt = (double)(now_ns - (summary ? r->start_ns : r->tick_ns)) / 1e9;
	if (summary)
		base = &zero;
	t->shown_fps = dt > 0 ? (double)(t->c.shown - base->shown) / dt : 0;
	t->rejected_fps = dt > 0 ? (double)(t->c.rejected - base->rejected) / dt : 0;
	t->bytes_s = dt > 0 ? (double)(t->c.bytes - base->bytes) / dt : 0;
	pictures = (t->c.received - t->c.stale) - (base->received - base->stale);
	t->kb_per_frame =
	    pictures ? (double)(t->c.bytes - base->bytes) / (double)pictures / 1e3 : 0;
}

/* The sentence for the log when the stream starts or stops being rejected whole, else NULL. */
static const char *advise(struct fc_report *r, const struct tick *t)
{
	const struct fc_report_counts *c = &t->c;
	bool starved = c->shown == r->at_tick.shown && c->rejected > r->at_tick.rejected;
	/* A second with no arrivals at all (a slow rate, a lost camera) says nothing either way. */
	bool arrivals = c->received > r->at_tick.received;

	if (t->summary || !arrivals || starved == r->starved)
		return NULL;
	r->starved = starved;
	if (!starved) {
		snprintf(r->advice, sizeof(r->advice), "frames within the budget again");
		return r->advice;
	}
	snprintf(
	    r->advice, sizeof(r->advice),
	    "nothing shown: every frame was over the %.1f ms budget (age bound p50 %.1f ms%s); "
	    "raise --max-age, or make the link or the sender faster",
	    ms(r->budget_ns), ms(fc_hist_quantile(&t->h->bound, 0.5)),
	    c->stale > r->at_tick.stale ? ", already too old at the sender" : "");
	return r->advice;
}

/* The console line's account of the pictures received: the latest one's rendition (what), the
 * mean size of those of the interval, and how many renditions they came in when more than one. */
static void received_text(const struct tick *t, const char *what, char *buf, size_t len)
{
	unsigned kinds = t->mix->count + (t->mix->other.frames > 0);

	if (t->last.bytes == 0)
		snprintf(buf, len, "%s", what);
	else if (kinds > 1)
		snprintf(buf, len, "%s %.1f KB, %u renditions", what, t->kb_per_frame, kinds);
	else
		snprintf(buf, len, "%s %.1f KB", what, t->kb_per_frame);
}

/* How well the clocks are known: " | offset width W ms" (the interval's median width), with
 * "synced" when the wall clocks tightened bounds, or "synced refuted" once they were caught out;
 * empty before the interval is known. */
static void clock_text(const struct tick *t, char *buf, size_t len)
{
	const char *how = t->c.synced_refuted ? ", synced refuted" : t->c.synced ? ", synced" : "";

	if (t->h->width.count == 0)
		snprintf(buf, len, "%s", t->c.synced_refuted ? " | synced refuted" : "");
	else
		snprintf(buf, len, " | offset width %.2f ms%s",
			 ms(fc_hist_quantile(&t->h->width, 0.5)), how);
}

/* The console line (and the figures for the window's title). */
static void format_line(struct fc_report *r, const struct tick *t, bool check_stamps, char *line,
			size_t linelen)
{
	const struct fc_report_counts *c = &t->c;
	const struct fc_report_hists *h = t->h;
	char what[64];
	char got[128];
	char clock[64];
	int n;

	rendition_text(&t->last, what, sizeof(what));
	received_text(t, what, got, sizeof(got));
	clock_text(t, clock, sizeof(clock));
	n = snprintf(
	    line, linelen,
	    "%sshown %5.1f fps, rejected %5.1f fps | age bound p50 %.1f p95 %.1f max %.1f ms"
	    " (per request p50 %.1f)%s | est. age %.1f ms | rtt %.1f ms | decode %.1f ms"
	    " | %.2f MB/s | %s | %llu shown, %llu rejected",
	    t->summary ? "summary: " : "", t->shown_fps, t->rejected_fps,
	    ms(fc_hist_quantile(&h->bound, 0.5)), ms(fc_hist_quantile(&h->bound, 0.95)),
	    ms(h->bound.max), ms(fc_hist_quantile(&h->request, 0.5)), clock,
	    ms(fc_hist_quantile(&h->est, 0.5)), ms(fc_hist_quantile(&h->rtt, 0.5)),
	    ms(fc_hist_quantile(&h->decode, 0.5)), t->bytes_s / 1e6, got,
	    (unsigned long long)c->shown, (unsigned long long)c->rejected);
	if (!t->summary && t->rejected_fps > 0)
		snprintf(r->title, sizeof(r->title),
			 "%.0f fps, age bound %.1f ms, %.0f rejected/s, %s", t->shown_fps,
			 ms(fc_hist_quantile(&h->bound, 0.95)), t->rejected_fps, what);
	else if (!t->summary)
		snprintf(r->title, sizeof(r->title), "%.0f fps, age bound %.1f ms, %s",
			 t->shown_fps, ms(fc_hist_quantile(&h->bound, 0.95)), what);
	if (n > 0 && (size_t)n < linelen && c->stale)
		n += snprintf(line + n, linelen - (size_t)n, " (%llu too old at the sender)",
			      (unsigned long long)c->stale);
	/* Said only when the link has moved the window from where it starts (pace.h). */
	if (n > 0 && (size_t)n < linelen && c->window &&
	    c->window != (c->window_max < FC_PACE_START ? c->window_max : FC_PACE_START))
		n += snprintf(line + n, linelen - (size_t)n, " | window %u of %u", c->window,
			      c->window_max);
	if (n > 0 && (size_t)n < linelen && (c->late_display || c->corrupt))
		n += snprintf(line + n, linelen - (size_t)n,
			      ", %llu too late at display, %llu corrupt",
			      (unsigned long long)c->late_display, (unsigned long long)c->corrupt);
	if (t->udp_on)
		fc_report_udp_text(&t->udp, line, linelen, &n);
	if (n > 0 && (size_t)n < linelen && check_stamps)
		snprintf(line + n, linelen - (size_t)n,
			 " | true age p50 %.1f max %.1f ms, %llu over budget, %llu unstamped",
			 ms(fc_hist_quantile(&h->stamp_age, 0.5)), ms(h->stamp_age.max),
			 (unsigned long long)c->stamp_over, (unsigned long long)c->unstamped);
}

static void write_json(const struct fc_report *r, const struct tick *t, uint64_t now_ns,
		       bool check_stamps, struct fc_json *j)
{
	const struct fc_report_counts *c = &t->c;
	const struct fc_report_hists *h = t->h;

	fc_json_begin(j);
	fc_json_num(j, "t", (double)(now_ns - r->start_ns) / 1e9, 3);
	fc_json_bool(j, "summary", t->summary);
	fc_json_uint(j, "received", c->received);
	fc_json_uint(j, "accepted", c->accepted);
	fc_json_uint(j, "rejected", c->rejected);
	fc_json_uint(j, "stale_at_sender", c->stale);
	fc_json_uint(j, "shown", c->shown);
	fc_json_uint(j, "late_at_display", c->late_display);
	fc_json_uint(j, "corrupt", c->corrupt);
	fc_json_num(j, "shown_fps", t->shown_fps, 2);
	fc_json_num(j, "rejected_fps", t->rejected_fps, 2);
	fc_json_uint(j, "frames_in_interval", h->bound.count);
	fc_json_num(j, "age_bound_ms_p50", ms(fc_hist_quantile(&h->bound, 0.5)), 3);
	fc_json_num(j, "age_bound_ms_p95", ms(fc_hist_quantile(&h->bound, 0.95)), 3);
	fc_json_num(j, "age_bound_ms_p99", ms(fc_hist_quantile(&h->bound, 0.99)), 3);
	fc_json_num(j, "age_bound_ms_max", ms(h->bound.max), 3);
	fc_json_num(j, "request_bound_ms_p50", ms(fc_hist_quantile(&h->request, 0.5)), 3);
	fc_json_num(j, "request_bound_ms_p95", ms(fc_hist_quantile(&h->request, 0.95)), 3);
	fc_json_num(j, "offset_width_ms_p50", ms(fc_hist_quantile(&h->width, 0.5)), 3);
	fc_json_num(j, "offset_width_ms_max", ms(h->width.max), 3);
	fc_json_uint(j, "offset_restarts", c->offset_restarts);
	fc_json_str(j, "clock", c->synced_refuted ? "refuted" : r->clock);
	fc_json_uint(j, "synced_frames", c->synced);
	fc_json_num(j, "est_age_ms_p50", ms(fc_hist_quantile(&h->est, 0.5)), 3);
	fc_json_num(j, "rtt_ms_p50", ms(fc_hist_quantile(&h->rtt, 0.5)), 3);
	fc_json_num(j, "rtt_ms_p95", ms(fc_hist_quantile(&h->rtt, 0.95)), 3);
	fc_json_num(j, "decode_ms_p50", ms(fc_hist_quantile(&h->decode, 0.5)), 3);
	fc_json_num(j, "decode_ms_max", ms(h->decode.max), 3);
	fc_json_num(j, "bytes_per_s", t->bytes_s, 0);
	fc_json_uint(j, "bytes", c->bytes);
	fc_json_num(j, "kb_per_frame", t->kb_per_frame, 2);
	fc_json_uint(j, "width", (uint64_t)t->last.width);
	fc_json_uint(j, "height", (uint64_t)t->last.height);
	fc_json_uint(j, "src_width", (uint64_t)t->last.src_width);
	fc_json_uint(j, "src_height", (uint64_t)t->last.src_height);
	fc_json_uint(j, "quality", (uint64_t)t->last.quality);
	fc_json_num(j, "budget_ms", ms(r->budget_ns), 3);
	fc_json_uint(j, "window", c->window);
	fc_json_uint(j, "window_max", c->window_max);
	mix_json(j, t->mix);
	if (t->udp_on)
		fc_report_udp_json(j, &t->udp);
	if (check_stamps) {
		fc_json_uint(j, "stamped", c->stamped);
		fc_json_uint(j, "unstamped", c->unstamped);
		fc_json_uint(j, "stamp_over_budget", c->stamp_over);
		fc_json_num(j, "true_age_ms_p50", ms(fc_hist_quantile(&h->stamp_age, 0.5)), 3);
		fc_json_num(j, "true_age_ms_p95", ms(fc_hist_quantile(&h->stamp_age, 0.95)), 3);
		fc_json_num(j, "true_age_ms_p99", ms(fc_hist_quantile(&h->stamp_age, 0.99)), 3);
		fc_json_num(j, "true_age_ms_max", ms(h->stamp_age.max), 3);
	}
}

const char *fc_report_tick(struct fc_report *r, uint64_t now_ns, bool summary, bool check_stamps,
			   char *line, size_t linelen, struct fc_json *j)
{
	struct tick t;
	const char *advice;

	take(r, now_ns, summary, &t);
	advice = advise(r, &t);
	format_line(r, &t, check_stamps, line, linelen);
	write_json(r, &t, now_ns, check_stamps, j);
	r->at_tick = t.c;
	r->tick_ns = now_ns;
	return advice;
}
