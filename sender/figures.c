#include "figures.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"

/* A line long enough for 64 viewers' parts. */
#define LINE_MAX_BYTES 16384

struct line {
	char text[LINE_MAX_BYTES];
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
}

void fc_figures_init(struct fc_figures *r, uint64_t now_ns, FILE *json, const char *json_name,
		     bool quiet)
{
	memset(r, 0, sizeof(*r));
	r->start_ns = r->last_ns = now_ns;
	r->json = json;
	r->json_name = json_name ? json_name : "-";
	r->quiet = quiet;
	fc_hist_reset(&r->publish_total);
	fc_hist_reset(&r->encode_total);
	fc_hist_reset(&r->rendition_total);
	fc_hist_reset(&r->http_age_total);
	fc_meter_init(&r->captured, now_ns);
	fc_meter_init(&r->encoded, now_ns);
	fc_meter_init(&r->renditions, now_ns);
}

/* The capture's figures for this tick: rates over the interval, or over the run (summary). */
struct capture_figures {
	struct fc_capture_stats cs;
	double fps;		   /* captured per second */
	double efps;		   /* full pictures encoded per second */
	double rfps;		   /* renditions made per second */
	const struct fc_hist *pub; /* capture to publish */
	const struct fc_hist *enc; /* encode */
	const struct fc_hist *rend;
};

static void capture_figures(struct fc_figures *r, struct fc_capture *cap, uint64_t now,
			    bool summary, struct capture_figures *c)
{
	double t = (double)(now - r->start_ns) / 1e9;

	fc_capture_stats(cap, &c->cs);
	fc_hist_merge(&r->publish_total, &c->cs.publish);
	fc_hist_merge(&r->encode_total, &c->cs.encode);
	fc_hist_merge(&r->rendition_total, &c->cs.rendition);
	r->captured.total = c->cs.captured;
	r->encoded.total = c->cs.encoded;
	r->renditions.total = c->cs.renditions;
	if (summary) {
		c->fps = t > 0 ? (double)c->cs.captured / t : 0;
		c->efps = t > 0 ? (double)c->cs.encoded / t : 0;
		c->rfps = t > 0 ? (double)c->cs.renditions / t : 0;
	} else {
		c->fps = fc_meter_rate(&r->captured, now);
		c->efps = fc_meter_rate(&r->encoded, now);
		c->rfps = fc_meter_rate(&r->renditions, now);
	}
	c->pub = summary ? &r->publish_total : &c->cs.publish;
	c->enc = summary ? &r->encode_total : &c->cs.encode;
	c->rend = summary ? &r->rendition_total : &c->cs.rendition;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void capture_line(struct line *l, const struct capture_figures *c, int nv, bool summary)
{
	uint64_t published = c->cs.encoded + c->cs.passed;

	add(l,
	    "%scapture %5.1f fps, encoded %5.1f fps in %.1f ms p50 %.1f max, "
	    "capture-to-publish %.1f ms p50 %.1f max, %.1f KB/frame",
	    summary ? "summary: " : "", c->fps, c->efps, ms(fc_hist_quantile(c->enc, 0.5)),
	    ms(c->enc->max), ms(fc_hist_quantile(c->pub, 0.5)), ms(c->pub->max),
	    published ? (double)c->cs.bytes / (double)published / 1000 : 0.0);
	if (c->cs.renditions)
		add(l, ", smaller %.1f/s in %.1f ms p50 a picture", c->rfps,
		    ms(fc_hist_quantile(c->rend, 0.5)));
	add(l, ", %d viewer%s", nv, nv == 1 ? "" : "s");
	if (c->cs.broken || c->cs.dropped || c->cs.lost_events)
		add(l, ", camera: %llu broken, %llu dropped, lost %llu time%s",
		    (unsigned long long)c->cs.broken, (unsigned long long)c->cs.dropped,
		    (unsigned long long)c->cs.lost_events, c->cs.lost_events == 1 ? "" : "s");
	if (c->cs.bad_time)
		add(l, ", %llu camera frame%s dropped for a timestamp that cannot be true",
		    (unsigned long long)c->cs.bad_time, c->cs.bad_time == 1 ? "" : "s");
}

static void capture_json(struct fc_json *j, const struct capture_figures *c)
{
	fc_json_uint(j, "captured", c->cs.captured);
	fc_json_uint(j, "encoded", c->cs.encoded);
	fc_json_uint(j, "passed_through", c->cs.passed);
	fc_json_uint(j, "broken", c->cs.broken);
	fc_json_uint(j, "dropped", c->cs.dropped);
	fc_json_uint(j, "camera_lost", c->cs.lost_events);
	fc_json_uint(j, "bad_timestamp", c->cs.bad_time);
	fc_json_uint(j, "encode_failed", c->cs.failed);
	fc_json_uint(j, "behind", c->cs.behind);
	fc_json_num(j, "capture_fps", c->fps, 2);
	fc_json_num(j, "encoded_fps", c->efps, 2);
	fc_json_num(j, "encode_ms_p50", ms(fc_hist_quantile(c->enc, 0.5)), 3);
	fc_json_num(j, "encode_ms_max", ms(c->enc->max), 3);
	fc_json_num(j, "publish_ms_p50", ms(fc_hist_quantile(c->pub, 0.5)), 3);
	fc_json_num(j, "publish_ms_max", ms(c->pub->max), 3);
	fc_json_uint(j, "bytes", c->cs.bytes);
	fc_json_uint(j, "renditions", c->cs.renditions);
	fc_json_uint(j, "rendition_failed", c->cs.rendition_failed);
	fc_json_num(j, "renditions_fps", c->rfps, 2);
	fc_json_num(j, "rendition_ms_p50", ms(fc_hist_quantile(c->rend, 0.5)), 3);
	fc_json_num(j, "rendition_ms_max", ms(c->rend->max), 3);
}

/* The viewers that left: their counts, on the summary only. */
static void departed(struct line *l, struct fc_json *j, struct fc_server *srv)
{
	struct fc_session_stats gone = { 0 };
	unsigned others = 0;
	unsigned n = fc_server_departed(srv, &gone, &others);

	add(l,
	    " at the end; %u left earlier, sent %llu frames, accepted %llu, late %llu, too old "
	    "to send %llu",
	    n, (unsigned long long)gone.sent, (unsigned long long)gone.accepted,
	    (unsigned long long)gone.late, (unsigned long long)gone.too_old);
	fc_json_uint(j, "departed_viewers", n);
	fc_json_uint(j, "departed_sent", gone.sent);
	fc_json_uint(j, "departed_accepted", gone.accepted);
	fc_json_uint(j, "departed_late", gone.late);
	fc_json_uint(j, "departed_too_old", gone.too_old);
	fc_json_uint(j, "other_connections", others);
	if (others)
		add(l, "; %u other connection%s (never a viewer)", others, others == 1 ? "" : "s");
}

/* A UDP viewer's datagrams (docs/STATS_JSON.md, "udp" of a viewer). */
static void udp_json(struct fc_json *j, const struct fc_udpsend_stats *u)
{
	fc_json_object(j, "udp");
	fc_json_uint(j, "frames", u->frames);
	fc_json_uint(j, "datagrams", u->datagrams);
	fc_json_uint(j, "bytes", u->bytes);
	fc_json_uint(j, "dropped", u->dropped);
	fc_json_uint(j, "nacks", u->nacks);
	fc_json_uint(j, "repaired", u->repaired);
	fc_json_uint(j, "forgotten", u->forgotten);
	fc_json_uint(j, "giveups", u->giveups);
	fc_json_uint(j, "refused", u->refused);
	fc_json_uint(j, "moved", u->moved);
	fc_json_uint(j, "not_opened", u->unopened);
	fc_json_uint(j, "parity", u->parity);
	fc_json_uint(j, "parity_per_frame", u->fec_m);
	fc_json_num(j, "loss_reported", (double)u->loss_ppm / 1e6, 6);
	fc_json_end(j);
}

void fc_figures_session_json(struct fc_json *j, const struct fc_session_stats *s)
{
	fc_json_uint(j, "sent", s->sent);
	fc_json_uint(j, "bytes", s->bytes);
	fc_json_uint(j, "accepted", s->accepted);
	fc_json_uint(j, "late", s->late);
	fc_json_uint(j, "too_old", s->too_old);
	fc_json_num(j, "last_bound_ms", (double)s->last_bound_us / 1000.0, 3);
	fc_json_uint(j, "width", s->width);
	fc_json_uint(j, "height", s->height);
	fc_json_uint(j, "src_width", s->src_width);
	fc_json_uint(j, "src_height", s->src_height);
	fc_json_uint(j, "quality", s->quality);
	fc_json_num(j, "link_mbps", (double)s->link_bps / 1e6, 2);
	fc_json_bool(j, "link_lower_bound", s->link_lower);
	fc_json_uint(j, "steps_down", s->downs);
	fc_json_uint(j, "steps_up", s->ups);
	if (s->udp)
		udp_json(j, &s->udp_stats);
}

/* A viewer's totals at the last tick (all 0 for a new one). */
static struct fc_figures_prev prev_of(const struct fc_figures *r, unsigned id)
{
	for (int i = 0; i < r->nprev; i++)
		if (r->prev[i].id == id)
			return r->prev[i];
	return (struct fc_figures_prev){ .id = id };
}

/* "640x360 of 1280x720 q80" (a smaller rendition), "1280x720 q80", or "1280x720 camera JPEG". */
static void shape(char *out, size_t len, const struct fc_session_stats *s)
{
	char q[16] = " camera JPEG";

	if (s->quality)
		snprintf(q, sizeof(q), " q%u", (unsigned)s->quality);
	if (s->width == s->src_width && s->height == s->src_height)
		snprintf(out, len, "%ux%u%s", (unsigned)s->width, (unsigned)s->height, q);
	else
		snprintf(out, len, "%ux%u of %ux%u%s", (unsigned)s->width, (unsigned)s->height,
			 (unsigned)s->src_width, (unsigned)s->src_height, q);
}

/* One viewer's part: what it was sent, at which rendition, and what it said of it (its
 * VERDICTs: accepted by its age check, or late), and the frames not sent because they were
 * already too old (stale notices, counted there alone). */
static void viewer(struct line *l, struct fc_json *j, const struct fc_viewer_stats *v,
		   const struct fc_figures_prev *p, double dt)
{
	const struct fc_session_stats *s = &v->s;
	double per = dt > 0 ? 1.0 / dt : 0;
	uint64_t frames = s->sent - p->sent;
	double kb = frames ? (double)(s->bytes - p->bytes) / (double)frames / 1000 : 0;
	char what[64] = "nothing yet";
	char link[48] = "";

	if (s->width)
		shape(what, sizeof(what), s);
	if (s->link_bps)
		snprintf(link, sizeof(link), ", link %s%.1f Mbit/s", s->link_lower ? ">" : "~",
			 (double)s->link_bps / 1e6);
	add(l,
	    " | #%u %s %s %.1f KB%s, sent %.1f fps, accepted %llu, late %llu (%.1f/s), too old "
	    "to send %llu (%.1f/s)",
	    v->id, v->peer, what, kb, link, (double)frames * per, (unsigned long long)s->accepted,
	    (unsigned long long)s->late, (double)(s->late - p->late) * per,
	    (unsigned long long)s->too_old, (double)(s->too_old - p->too_old) * per);
	fc_json_object(j, NULL);
	fc_json_uint(j, "id", v->id);
	fc_json_str(j, "peer", v->peer);
	fc_figures_session_json(j, s);
	fc_json_num(j, "sent_fps", (double)frames * per, 2);
	fc_json_num(j, "late_fps", (double)(s->late - p->late) * per, 2);
	fc_json_num(j, "too_old_fps", (double)(s->too_old - p->too_old) * per, 2);
	fc_json_num(j, "kb_per_frame", kb, 1);
	fc_json_end(j);
}

/* --http: its clients now, and the /stream parts sent (how many, how old at their last byte). */
static void http_part(struct fc_figures *r, struct line *l, struct fc_json *j, struct fc_http *http,
		      double dt, bool summary)
{
	struct fc_http_stats h;
	double t = summary ? (double)(r->last_ns - r->start_ns) / 1e9 : dt;
	uint64_t parts;
	const struct fc_hist *age;

	fc_http_stats(http, &h);
	fc_hist_merge(&r->http_age_total, &h.age);
	parts = summary ? h.parts : h.parts - r->http_parts;
	r->http_parts = h.parts;
	age = summary ? &r->http_age_total : &h.age;
	add(l, " | HTTP %u client%s, %u on /stream, %.1f parts/s, capture to last byte %.1f ms p50",
	    h.clients, h.clients == 1 ? "" : "s", h.streams, t > 0 ? (double)parts / t : 0.0,
	    ms(fc_hist_quantile(age, 0.5)));
	fc_json_object(j, "http");
	fc_json_uint(j, "clients", h.clients);
	fc_json_uint(j, "streams", h.streams);
	fc_json_uint(j, "requests", h.requests);
	fc_json_uint(j, "parts", h.parts);
	fc_json_num(j, "parts_fps", t > 0 ? (double)parts / t : 0.0, 2);
	fc_json_uint(j, "skipped", h.skipped);
	fc_json_uint(j, "snapshots", h.snapshots);
	fc_json_uint(j, "no_frame", h.no_frame);
	fc_json_uint(j, "refused", h.refused);
	fc_json_uint(j, "bytes", h.bytes);
	fc_json_num(j, "age_ms_p50", ms(fc_hist_quantile(age, 0.5)), 3);
	fc_json_num(j, "age_ms_p99", ms(fc_hist_quantile(age, 0.99)), 3);
	fc_json_num(j, "age_ms_max", ms(age->max), 3);
	fc_json_end(j);
}

static void emit(struct fc_figures *r, const struct line *l, struct fc_json *j, bool summary)
{
	const char *s;

	if (!r->quiet || summary)
		fc_info("%s", l->text);
	if (!r->json || !(s = fc_json_finish(j)))
		return;
	if (fputs(s, r->json) == EOF || fflush(r->json) == EOF) {
		fc_warn(
		    "cannot write --stats-json %s: %s; no more JSON lines are written there (the "
		    "stream goes on; free some space, or give another file next time)",
		    r->json_name, strerror(errno));
		r->json = NULL;
	}
}

/* --data-in: the documents in and out, and the results back. */
static void data_part(const struct fc_figures *r, struct fc_json *j)
{
	struct fc_datastore_stats st;
	struct fc_datain_stats in;

	fc_datastore_stats(r->data, &st);
	fc_datain_stats(r->datain, &in);
	fc_json_object(j, "data_in");
	fc_json_uint(j, "docs", st.docs_in);
	fc_json_uint(j, "refused", in.refused);
	fc_json_uint(j, "sent", st.docs_sent);
	fc_json_uint(j, "results", st.results_in);
	fc_json_uint(j, "results_dropped", st.results_dropped + in.results_unread);
	fc_json_uint(j, "programs", in.programs);
	fc_json_end(j);
}

void fc_figures_tick(struct fc_figures *r, struct fc_capture *cap, struct fc_server *srv,
		     struct fc_http *http, bool summary)
{
	struct line l;
	struct fc_viewer_stats v[FC_FIGURES_VIEWERS];
	struct capture_figures c;
	struct fc_json j;
	uint64_t now = fc_clock_now_ns();
	double dt = (double)(now - r->last_ns) / 1e9;
	int nv = fc_server_stats(srv, v, FC_FIGURES_VIEWERS);

	l.len = 0;
	l.text[0] = '\0';
	capture_figures(r, cap, now, summary, &c);
	capture_line(&l, &c, nv, summary);
	fc_json_begin(&j);
	fc_json_num(&j, "t", (double)(now - r->start_ns) / 1e9, 3);
	fc_json_bool(&j, "summary", summary);
	if (summary)
		departed(&l, &j, srv);
	capture_json(&j, &c);
	fc_json_array(&j, "viewers");
	for (int i = 0; i < nv; i++) {
		struct fc_figures_prev p = prev_of(r, v[i].id);

		viewer(&l, &j, &v[i], &p, dt);
	}
	fc_json_end(&j);
	if (http)
		http_part(r, &l, &j, http, dt, summary);
	if (r->data && r->datain)
		data_part(r, &j);
	r->nprev = nv;
	for (int i = 0; i < nv; i++)
		r->prev[i] = (struct fc_figures_prev){ .id = v[i].id,
						       .sent = v[i].s.sent,
						       .bytes = v[i].s.bytes,
						       .late = v[i].s.late,
						       .too_old = v[i].s.too_old };
	r->last_ns = now;
	emit(r, &l, &j, summary);
}
