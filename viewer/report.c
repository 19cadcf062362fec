#include "report.h"

#include <stdio.h>
#include <string.h>

static void hists_reset(struct fc_report_hists *h)
{
	fc_hist_reset(&h->bound);
	fc_hist_reset(&h->rtt);
	fc_hist_reset(&h->est);
	fc_hist_reset(&h->decode);
	fc_hist_reset(&h->stamp_age);
}

static void hists_merge(struct fc_report_hists *dst, const struct fc_report_hists *src)
{
	fc_hist_merge(&dst->bound, &src->bound);
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
}

void fc_report_destroy(struct fc_report *r)
{
	pthread_mutex_destroy(&r->lock);
}

void fc_report_arrival(struct fc_report *r, size_t bytes, int width, int height,
		       const struct fc_age *age, bool accepted)
{
	pthread_mutex_lock(&r->lock);
	r->c.received++;
	r->c.bytes += bytes;
	if (bytes == 0)
		r->c.stale++;
	if (accepted)
		r->c.accepted++;
	else
		r->c.rejected++;
	r->width = width;
	r->height = height;
	r->last_bound_ns = age ? age->bound_ns : UINT64_MAX;
	if (age) {
		fc_hist_add(&r->interval.bound, age->bound_ns);
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

void fc_report_window(struct fc_report *r, unsigned window, unsigned max)
{
	pthread_mutex_lock(&r->lock);
	r->c.window = window;
	r->c.window_max = max;
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

const char *fc_report_tick(struct fc_report *r, uint64_t now_ns, bool summary, bool check_stamps,
			   char *line, size_t linelen, struct fc_json *j)
{
	struct fc_report_counts c;
	const struct fc_report_hists *h;
	double dt;
	double shown_fps;
	double rejected_fps;
	double bytes_s;
	uint64_t base_shown, base_rejected, base_bytes;
	int w, h_px;
	int n;

	pthread_mutex_lock(&r->lock);
	c = r->c;
	r->scratch = r->interval;
	hists_reset(&r->interval);
	w = r->width;
	h_px = r->height;
	pthread_mutex_unlock(&r->lock);

	hists_merge(&r->total, &r->scratch);
	h = summary ? &r->total : &r->scratch;
	dt = (double)(now_ns - (summary ? r->start_ns : r->tick_ns)) / 1e9;
	base_shown = summary ? 0 : r->at_tick.shown;
	base_rejected = summary ? 0 : r->at_tick.rejected;
	base_bytes = summary ? 0 : r->at_tick.bytes;
	shown_fps = dt > 0 ? (double)(c.shown - base_shown) / dt : 0;
	rejected_fps = dt > 0 ? (double)(c.rejected - base_rejected) / dt : 0;
	bytes_s = dt > 0 ? (double)(c.bytes - base_bytes) / dt : 0;
	const char *advice = NULL;
	bool starved = !summary && c.shown == base_shown && c.rejected > base_rejected;
	/* A second with no arrivals at all (a slow rate, a lost camera) says nothing either way. */
	bool arrivals = c.received > r->at_tick.received;

	if (!summary && arrivals && starved != r->starved) {
		if (starved)
			snprintf(
			    r->advice, sizeof(r->advice),
			    "nothing shown: every frame was over the %.1f ms budget (age bound "
			    "p50 %.1f ms%s); raise --max-age, or make the link or the sender faster",
			    ms(r->budget_ns), ms(fc_hist_quantile(&h->bound, 0.5)),
			    c.stale > r->at_tick.stale ? ", already too old at the sender" : "");
		else
			snprintf(r->advice, sizeof(r->advice), "frames within the budget again");
		advice = r->advice;
		r->starved = starved;
	}
	r->at_tick = c;
	r->tick_ns = now_ns;

	n = snprintf(
	    line, linelen,
	    "%sshown %5.1f fps, rejected %5.1f fps | age bound p50 %.1f p95 %.1f max %.1f ms"
	    " | est. age %.1f ms | rtt %.1f ms | decode %.1f ms | %.2f MB/s | %dx%d"
	    " | %llu shown, %llu rejected",
	    summary ? "summary: " : "", shown_fps, rejected_fps,
	    ms(fc_hist_quantile(&h->bound, 0.5)), ms(fc_hist_quantile(&h->bound, 0.95)),
	    ms(h->bound.max), ms(fc_hist_quantile(&h->est, 0.5)),
	    ms(fc_hist_quantile(&h->rtt, 0.5)), ms(fc_hist_quantile(&h->decode, 0.5)),
	    bytes_s / 1e6, w, h_px, (unsigned long long)c.shown, (unsigned long long)c.rejected);
	if (!summary)
		snprintf(r->title, sizeof(r->title),
			 "%.1f fps, age bound p95 %.1f ms, est. age %.1f ms, %.0f rejected/s",
			 shown_fps, ms(fc_hist_quantile(&h->bound, 0.95)),
			 ms(fc_hist_quantile(&h->est, 0.5)), rejected_fps);
	if (n > 0 && (size_t)n < linelen && c.stale)
		n += snprintf(line + n, linelen - (size_t)n, " (%llu too old at the sender)",
			      (unsigned long long)c.stale);
	/* Said only when the link has made the viewer ask for fewer frames at once than asked. */
	if (n > 0 && (size_t)n < linelen && c.window && c.window < c.window_max)
		n += snprintf(line + n, linelen - (size_t)n, " | window %u of %u", c.window,
			      c.window_max);
	if (n > 0 && (size_t)n < linelen && (c.late_display || c.corrupt))
		n += snprintf(line + n, linelen - (size_t)n,
			      ", %llu too late at display, %llu corrupt",
			      (unsigned long long)c.late_display, (unsigned long long)c.corrupt);
	if (n > 0 && (size_t)n < linelen && check_stamps)
		snprintf(line + n, linelen - (size_t)n,
			 " | true age p50 %.1f max %.1f ms, %llu over budget, %llu unstamped",
			 ms(fc_hist_quantile(&h->stamp_age, 0.5)), ms(h->stamp_age.max),
			 (unsigned long long)c.stamp_over, (unsigned long long)c.unstamped);

	fc_json_begin(j);
	fc_json_num(j, "t", (double)(now_ns - r->start_ns) / 1e9, 3);
	fc_json_bool(j, "summary", summary);
	fc_json_uint(j, "received", c.received);
	fc_json_uint(j, "accepted", c.accepted);
	fc_json_uint(j, "rejected", c.rejected);
	fc_json_uint(j, "stale_at_sender", c.stale);
	fc_json_uint(j, "shown", c.shown);
	fc_json_uint(j, "late_at_display", c.late_display);
	fc_json_uint(j, "corrupt", c.corrupt);
	fc_json_num(j, "shown_fps", shown_fps, 2);
	fc_json_num(j, "rejected_fps", rejected_fps, 2);
	fc_json_uint(j, "frames_in_interval", h->bound.count);
	fc_json_num(j, "age_bound_ms_p50", ms(fc_hist_quantile(&h->bound, 0.5)), 3);
	fc_json_num(j, "age_bound_ms_p95", ms(fc_hist_quantile(&h->bound, 0.95)), 3);
	fc_json_num(j, "age_bound_ms_max", ms(h->bound.max), 3);
	fc_json_num(j, "est_age_ms_p50", ms(fc_hist_quantile(&h->est, 0.5)), 3);
	fc_json_num(j, "rtt_ms_p50", ms(fc_hist_quantile(&h->rtt, 0.5)), 3);
	fc_json_num(j, "rtt_ms_p95", ms(fc_hist_quantile(&h->rtt, 0.95)), 3);
	fc_json_num(j, "decode_ms_p50", ms(fc_hist_quantile(&h->decode, 0.5)), 3);
	fc_json_num(j, "decode_ms_max", ms(h->decode.max), 3);
	fc_json_num(j, "bytes_per_s", bytes_s, 0);
	fc_json_uint(j, "bytes", c.bytes);
	fc_json_uint(j, "width", (uint64_t)w);
	fc_json_uint(j, "height", (uint64_t)h_px);
	fc_json_num(j, "budget_ms", ms(r->budget_ns), 3);
	fc_json_uint(j, "window", c.window);
	fc_json_uint(j, "window_max", c.window_max);
	if (check_stamps) {
		fc_json_uint(j, "stamped", c.stamped);
		fc_json_uint(j, "unstamped", c.unstamped);
		fc_json_uint(j, "stamp_over_budget", c.stamp_over);
		fc_json_num(j, "true_age_ms_p50", ms(fc_hist_quantile(&h->stamp_age, 0.5)), 3);
		fc_json_num(j, "true_age_ms_p95", ms(fc_hist_quantile(&h->stamp_age, 0.95)), 3);
		fc_json_num(j, "true_age_ms_p99", ms(fc_hist_quantile(&h->stamp_age, 0.99)), 3);
		fc_json_num(j, "true_age_ms_max", ms(h->stamp_age.max), 3);
	}
	return advice;
}
