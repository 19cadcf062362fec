#include "client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "age.h"
#include "bound.h"
#include "clock.h"
#include "frame.h"
#include "log.h"
#include "pace.h"
#include "udprecv.h"
#include "partrx.h"

#define PING_EVERY_NS FC_NS_PER_S
#define POOL_KEEP     4

struct outstanding {
	uint32_t id;
	uint64_t v0_ns;
};

struct fc_client {
	struct fc_client_cfg cfg;
	struct fc_conn *conn;
	struct fc_slot *slot;
	struct fc_report *report;
	struct fc_frame_pool *pool;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool running;
	bool clean;	  /* written before running goes false */
	char reason[320]; /* likewise */

	/* Network thread only. */
	struct outstanding out[FC_PROTO_MAX_WINDOW]; /* requests in flight, oldest at head */
	unsigned head;
	unsigned count;
	uint32_t next_id;
	uint64_t last_seq;	  /* the newest frame seen: each FRAME must be newer */
	struct fc_pace pace;	  /* how many requests to keep in flight */
	struct fc_bound bound;	  /* the age bound and the clock offset it learns */
	unsigned reported_window; /* the last window told to the report */
	bool impossible_said;
	bool restart_said;
	/* A DATA waiting for its FRAME, which comes next (docs/PROTOCOL.md, section 10). */
	bool data_pending;
	uint64_t data_seq;
	struct fc_data data_msg;	     /* its doc points at data_doc */
	uint8_t data_doc[FC_PROTO_MAX_DATA]; /* also a result's bytes on their way out */
	/* Frames over UDP (cfg.udp, owned from the start): the timing of the frame being judged,
	 * first chunk to whole and its longest silence, for its VERDICT. */
	struct fc_udprecv *udp;
	uint64_t udp_first_ns, udp_gap_ns;
	struct fc_partrx partrx;      /* frames in parts (partrx.h) */
	struct outstanding start_req; /* the request the open frame's START used up */
};

static int send_request(struct fc_client *c)
{
	struct fc_msg m = { .type = FC_MSG_REQUEST };
	struct outstanding *o = &c->out[(c->head + c->count) % FC_PROTO_MAX_WINDOW];

	o->id = ++c->next_id;
	o->v0_ns = fc_clock_now_ns();
	m.u.request.id = o->id;
	m.u.request.t0_ns = o->v0_ns;
	if (fc_conn_send(c->conn, &m, c->cfg.io_timeout_ms) < 0)
		return -1;
	c->count++;
	return 0;
}

static void end(struct fc_client *c, bool clean, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void end(struct fc_client *c, bool clean, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	c->clean = clean;
}

/* Publishes an accepted frame for the display and the recorder: the one copy the viewer makes,
 * shared by both; with its document (doc_size bytes of data_doc, 0 for none) after the JPEG, so
 * that the window shows each frame's own (databox.h). */
static void publish(struct fc_client *c, const struct fc_frame_msg *fm, uint64_t v3, uint64_t bound,
		    size_t doc_size)
{
	struct fc_frame *f;

	if (fm == fc_partrx_frame(&c->partrx)) { /* a frame in parts: its bytes are in place */
		fc_partrx_publish(&c->partrx, c->slot, c->cfg.record, v3, bound, c->data_doc,
				  doc_size);
		return;
	}
	f = fc_frame_get(c->pool, fm->jpeg_size + doc_size);
	if (!f) {
		fc_warn("out of memory for a %u-byte frame; skipping it", fm->jpeg_size);
		if (c->cfg.record)
			fc_record_push(c->cfg.record, NULL); /* counted as not recorded */
		return;
	}
	memcpy(f->data, fm->jpeg, fm->jpeg_size);
	f->size = fm->jpeg_size;
	memcpy(f->data + f->size, c->data_doc, doc_size);
	f->doc_size = doc_size;
	f->seq = fm->seq;
	f->width = fm->width;
	f->height = fm->height;
	f->src_width = fm->src_width;
	f->src_height = fm->src_height;
	f->quality = fm->quality;
	f->recv_ns = v3;
	f->bound_ns = bound;
	/* Before the slot takes our reference: the recorder takes its own and never waits. */
	if (c->cfg.record)
		fc_record_push(c->cfg.record, f);
	fc_slot_publish(c->slot, f);
}

/* ns as whole µs, saturated at a u32. */
static uint32_t us32(uint64_t ns)
{
	return ns / 1000 >= UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
}

/* A sender's clock that runs backwards breaks every bound built on it: a protocol violation. */
static int backwards(struct fc_client *c, uint64_t s)
{
	char why[160];

	snprintf(why, sizeof(why), "its clock went backwards (%llu ns after %llu ns)",
		 (unsigned long long)s, (unsigned long long)c->bound.last_send_ns);
	fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
	end(c, false, "sender broke the protocol: %s", why);
	return -1;
}

/* Says what judging one message found out about the clocks, and counts it. */
static void clock_news(struct fc_client *c, const struct fc_bound_news *n)
{
	if (n->restarted) {
		if (!c->restart_said)
			fc_warn("the clock offset the exchanges prove changed faster than %d ppm "
				"allows (a clock stepped, or drifts fast): learning it anew",
				FC_OFFSET_DRIFT_PPM);
		c->restart_said = true;
	}
	if (n->refuted)
		fc_warn("--clock synced: the wall clocks do not agree to within %.3g ms: the "
			"exchanges prove the sender's is between %.1f and %.1f ms ahead of ours; "
			"judging by the proven bound from now on",
			(double)c->cfg.synced_error_ns / 1e6,
			(double)(n->lo_ns - n->claim_ns) / 1e6,
			(double)(n->hi_ns - n->claim_ns) / 1e6);
	if (n->restarted || n->refuted)
		fc_report_clock(c->report, n->restarted, n->refuted);
}

/* The sender answers requests oldest first, each with a frame newer than the last; anything
 * else is a broken sender. Takes the answered request off the window into *o: 0, or -1 when
 * the connection is over (reason set). */
static int take_in_order(struct fc_client *c, const struct fc_frame_msg *fm, struct outstanding *o)
{
	char why[256];

	*o = c->out[c->head]; /* a copy: send_request may reuse the entry */
	if (c->count == 0 || fm->id != o->id || fm->t0_ns != o->v0_ns || fm->seq <= c->last_seq) {
		snprintf(why, sizeof(why),
			 "FRAME answers request %u (t0 %llu, frame %llu); expected request %u "
			 "(t0 %llu) and a frame after %llu",
			 fm->id, (unsigned long long)fm->t0_ns, (unsigned long long)fm->seq,
			 c->count ? o->id : 0, (unsigned long long)(c->count ? o->v0_ns : 0),
			 (unsigned long long)c->last_seq);
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	}
	c->head = (c->head + 1) % FC_PROTO_MAX_WINDOW;
	c->count--;
	c->last_seq = fm->seq;
	return 0;
}

/* Asks for the next frames, as many as the link now takes (pace.h): none after a late frame
 * that shrank the window, two when it grew. -1 on a socket error. */
static int ask_more(struct fc_client *c, bool accepted, uint64_t v3)
{
	unsigned want = fc_pace_reply(&c->pace, accepted, v3);

	if (want != c->reported_window) {
		fc_report_window(c->report, want, c->pace.max);
		c->reported_window = want;
	}
	while (c->count < want)
		if (send_request(c) < 0)
			return -1;
	return 0;
}

/* The VERDICT on a frame, with how long its bytes took, first to last, and the longest stall
 * among them: the sender's measure of the link (sender/serve/adapt.h). */
static int send_verdict(struct fc_client *c, const struct fc_frame_msg *fm, uint64_t bound_ns,
			bool accepted, uint64_t v3)
{
	bool parts = fm == fc_partrx_frame(&c->partrx); /* from START's first byte to END's last */
	uint64_t first = parts	  ? c->partrx.first_ns
			 : c->udp ? c->udp_first_ns
				  : fc_conn_first_ns(c->conn);
	uint64_t first_ns = first < v3 ? first : v3;
	struct fc_msg v = { .type = FC_MSG_VERDICT };

	v.u.verdict.id = fm->id;
	v.u.verdict.seq = fm->seq;
	v.u.verdict.bound_us =
	    bound_ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(bound_ns / 1000);
	v.u.verdict.kind = accepted ? FC_VERDICT_ACCEPTED : FC_VERDICT_LATE;
	v.u.verdict.recv_us = us32(v3 - first_ns);
	v.u.verdict.gap_us = us32(parts	   ? c->partrx.gap_ns
				  : c->udp ? c->udp_gap_ns
					   : fc_conn_gap_ns(c->conn));
	return fc_conn_send(c->conn, &v, c->cfg.io_timeout_ms);
}

/* A DATA from the sender: kept for the FRAME of its seq, which must come next. */
static int on_data(struct fc_client *c, const struct fc_data *d)
{
	char why[160];

	if (!c->data_pending && d->seq > c->last_seq) {
		c->data_pending = true;
		c->data_msg =
		    (struct fc_data){ .seq = d->seq, .doc = c->data_doc, .size = d->size };
		memcpy(c->data_doc, d->doc, d->size);
		return 0;
	}
	snprintf(why, sizeof(why), "a DATA for frame %llu after %s %llu",
		 (unsigned long long)d->seq, c->data_pending ? "a DATA for frame" : "frame",
		 (unsigned long long)(c->data_pending ? c->data_msg.seq : c->last_seq));
	fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
	end(c, false, "sender broke the protocol: %s", why);
	return -1;
}

/* The document that came with frame fm goes out with it when it was accepted, and nowhere when
 * not (it is as stale as the picture). -1 when the frame is not the document's. */
static int data_judged(struct fc_client *c, const struct fc_frame_msg *fm, bool accepted,
		       uint64_t bound_ns, uint64_t v3_real)
{
	char why[160];

	c->data_pending = false;
	if (fm->seq != c->data_msg.seq) {
		snprintf(why, sizeof(why), "a FRAME %llu after a DATA for frame %llu",
			 (unsigned long long)fm->seq, (unsigned long long)c->data_msg.seq);
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	}
	if (c->cfg.data && accepted)
		fc_dataout_frame(c->cfg.data, fm->seq, bound_ns, v3_real, c->data_doc,
				 c->data_msg.size);
	else if (c->cfg.data)
		fc_dataout_rejected(c->cfg.data);
	return 0;
}

/* Results from the local program (dataout.h) to the sender, as DATA. -1 on a socket error. */
static int send_results(struct fc_client *c)
{
	struct fc_msg m = { .type = FC_MSG_DATA };

	while (!c->data_pending && c->cfg.data &&
	       fc_dataout_result(c->cfg.data, &m.u.data, c->data_doc))
		if (fc_conn_send(c->conn, &m, c->cfg.io_timeout_ms) < 0)
			return -1;
	return 0;
}

/* A FRAME (or stale notice) in at v3 (v3_real on the wall clock): its bound, its verdict, the
 * next requests. 0 to go on, -1 when the connection is over (reason set). */
static int on_frame(struct fc_client *c, const struct fc_frame_msg *fm, uint64_t v3,
		    uint64_t v3_real)
{
	struct outstanding o;
	struct fc_bound_news news;
	struct fc_age age;
	bool accepted = false;
	bool parts = fm == fc_partrx_frame(&c->partrx);
	size_t doc_size = c->data_pending ? c->data_msg.size : 0; /* data_judged clears it */
	uint64_t later = c->bound.last_send_ns; /* a PONG's, inside a frame in parts */

	if (parts) {
		o = c->start_req;
		c->bound.last_send_ns = fm->send_ns; /* its order was checked at START */
	} else if (take_in_order(c, fm, &o) < 0) {
		return -1;
	}
	switch (fc_bound_frame(&c->bound, fm, o.v0_ns, v3, v3_real, &age, &news)) {
	case FC_BOUND_OK:
		accepted = age.bound_ns <= c->cfg.budget_ns;
		break;
	case FC_BOUND_IMPOSSIBLE:
		/* Held longer than the whole round trip: no bound can be trusted, so reject. */
		if (!c->impossible_said)
			fc_warn("sender claims it held a request %.1f ms, longer than the %.1f ms "
				"round trip; rejecting such frames",
				(double)fm->held_ns / 1e6, (double)(v3 - o.v0_ns) / 1e6);
		c->impossible_said = true;
		break;
	case FC_BOUND_BACKWARDS:
		return backwards(c, fm->send_ns);
	}
	if (later > c->bound.last_send_ns)
		c->bound.last_send_ns = later;
	clock_news(c, &news);
	/* A stale notice carries no picture, a frame in parts given up not all of one: rejected,
	 * whatever their numbers say; the partial decode of one not accepted is dropped. */
	if (fm->jpeg_size == 0 || (parts && c->partrx.given_up))
		accepted = false;
	if (!accepted && parts)
		fc_partrx_drop(&c->partrx, c->slot);
	if (c->data_pending &&
	    data_judged(c, fm, accepted, age.bound_ns, v3_real ? v3_real : fc_clock_real_ns()) < 0)
		return -1;
	/* Ask before the copy and the VERDICT, so the sender's wait overlaps our work on this. */
	if (ask_more(c, accepted, v3) < 0)
		goto io_error;
	if (accepted)
		publish(c, fm, v3, age.bound_ns, doc_size);
	fc_report_arrival(c->report,
			  &(struct fc_report_frame){ .bytes = fm->jpeg_size,
						     .width = fm->width,
						     .height = fm->height,
						     .src_width = fm->src_width,
						     .src_height = fm->src_height,
						     .quality = fm->quality },
			  age.bound_ns == UINT64_MAX ? NULL : &age, accepted);
	if (send_verdict(c, fm, age.bound_ns, accepted, v3) < 0)
		goto io_error;
	return 0;
io_error:
	end(c, false, "connection to the sender failed: %s", fc_conn_error(c->conn));
	return -1;
}

/* A START uses up the oldest request, under a FRAME's rules, and the next goes at once, so that
 * the sender's wait for its next picture overlaps this one's remainder (PROTOCOL.md, section
 * 14); the frame is judged at its END. 0, or -1 when the connection is over (reason set). */
static int on_start(struct fc_client *c, const struct fc_frame_msg *fm)
{
	if (take_in_order(c, fm, &c->start_req) < 0)
		return -1;
	/* The sender's clock in the START is in its place in the stream here: checked now, since
	 * a PONG inside the frame may carry a later reading before the END is judged. */
	if (fm->send_ns < c->bound.last_send_ns)
		return backwards(c, fm->send_ns);
	c->bound.last_send_ns = fm->send_ns;
	while (c->count < c->reported_window)
		if (send_request(c) < 0) {
			end(c, false, "connection to the sender failed: %s",
			    fc_conn_error(c->conn));
			return -1;
		}
	return 0;
}

/* One message from the sender, in at now (now_real on the wall clock). 0 to go on, -1 when the
 * connection is over (reason set). */
static int on_message(struct fc_client *c, const struct fc_msg *m, uint64_t now, uint64_t now_real)
{
	struct fc_msg reply = { .type = FC_MSG_PONG };
	struct fc_bound_news news;
	char why[FC_PROTO_MAX_TEXT + 64];

	/* Over UDP frames come whole as datagrams (PROTOCOL.md, section 14): parts on TCP beside
	 * them would interleave two frames' answers. */
	if (c->udp && (m->type == FC_MSG_FRAME_START || m->type == FC_MSG_FRAME_PART ||
		       m->type == FC_MSG_FRAME_END)) {
		snprintf(why, sizeof(why), "a %s while frames come over UDP",
			 fc_proto_type_name(m->type));
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	}
	switch (fc_partrx_take(&c->partrx, m, fc_conn_first_ns(c->conn), fc_conn_gap_ns(c->conn),
			       c->pool, c->slot, why, sizeof(why))) {
	case FC_PARTRX_ERROR:
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	case FC_PARTRX_MORE:
		return m->type == FC_MSG_FRAME_START ? on_start(c, &m->u.frame) : 0;
	case FC_PARTRX_END:
		return on_frame(c, fc_partrx_frame(&c->partrx), now, now_real);
	}
	switch (m->type) {
	case FC_MSG_FRAME:
		return on_frame(c, &m->u.frame, now, now_real);
	case FC_MSG_DATA:
		return on_data(c, &m->u.data);
	case FC_MSG_PING:
		reply.u.ping.token = m->u.ping.token;
		reply.u.ping.clock_ns = now;
		if (fc_conn_send(c->conn, &reply, c->cfg.io_timeout_ms) < 0) {
			end(c, false, "connection to the sender failed: %s",
			    fc_conn_error(c->conn));
			return -1;
		}
		return 0;
	case FC_MSG_PONG:
		if (fc_bound_pong(&c->bound, &m->u.ping, now, &news) == FC_BOUND_BACKWARDS)
			return backwards(c, m->u.ping.clock_ns);
		clock_news(c, &news);
		return 0;
	case FC_MSG_STATUS:
		fc_report_source(c->report, m->u.status.source == FC_SOURCE_LOST);
		fc_log(m->u.status.source == FC_SOURCE_LOST ? FC_LOG_WARN : FC_LOG_INFO,
		       "sender: source %s%s%s",
		       m->u.status.source == FC_SOURCE_LOST ? "lost" : "live again",
		       m->u.status.text[0] ? ": " : "", m->u.status.text);
		return 0;
	case FC_MSG_CONTROL_RESULT:
	case FC_MSG_STILL:
		if (c->cfg.remote && fc_remote_on_message(c->cfg.remote, m, why, sizeof(why)) == 0)
			return 0;
		if (!c->cfg.remote)
			snprintf(why, sizeof(why), "a %s, but no command was sent",
				 fc_proto_type_name(m->type));
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	case FC_MSG_BYE:
		snprintf(why, sizeof(why), "%s%s%s", fc_proto_bye_reason_name(m->u.bye.reason),
			 m->u.bye.text[0] ? ": " : "", m->u.bye.text);
		end(c, m->u.bye.reason == FC_BYE_NORMAL, "the sender ended the stream (%s)", why);
		return -1;
	default:
		snprintf(why, sizeof(why), "a sender may not send %s now",
			 fc_proto_type_name(m->type));
		fc_conn_bye(c->conn, FC_BYE_PROTOCOL, why);
		end(c, false, "sender broke the protocol: %s", why);
		return -1;
	}
}

/* Over UDP, a frame may never come whole: a request whose frame was lost whole is late after
 * the budget and this much more (or, when the sender had not answered it yet, withdrawn). */
#define UDP_LOST_NS (500 * FC_NS_PER_MS)

/* A VERDICT late on the oldest request, whose frame never came whole (seq: the frame given up;
 * 0 when not known): the sender counts it late, or withdraws the request when it had not answered
 * it yet (PROTOCOL.md, section 13). */
static int udp_lost(struct fc_client *c, uint64_t seq)
{
	struct fc_msg v = { .type = FC_MSG_VERDICT };

	v.u.verdict = (struct fc_verdict){ .id = c->out[c->head].id,
					   .seq = seq,
					   .bound_us = UINT32_MAX,
					   .kind = FC_VERDICT_LATE };
	c->head = (c->head + 1) % FC_PROTO_MAX_WINDOW;
	c->count--;
	return fc_conn_send(c->conn, &v, c->cfg.io_timeout_ms);
}

/* The request in flight with this id, or NULL. */
static const struct outstanding *in_flight(const struct fc_client *c, uint32_t id)
{
	for (unsigned i = 0; i < c->count; i++) {
		const struct outstanding *o = &c->out[(c->head + i) % FC_PROTO_MAX_WINDOW];

		if (o->id == id)
			return o;
	}
	return NULL;
}

/* The requests before id were answered by frames lost whole (frames answer requests in order):
 * each is late; the window is kept full (a loss says nothing of the link's rate). */
static int udp_lost_before(struct fc_client *c, uint32_t id)
{
	while (c->count && c->out[c->head].id != id)
		if (udp_lost(c, 0) < 0)
			return -1;
	return 0;
}

static int udp_refill(struct fc_client *c)
{
	while (c->count < c->pace.window)
		if (send_request(c) < 0)
			return -1;
	return 0;
}

/* A whole frame from the datagrams, in at v3: judged as one from TCP, once the requests before
 * its own are settled. A frame whose request was settled already is of no more use. */
static int udp_frame(struct fc_client *c, const struct fc_frame_msg *fm, uint64_t v3,
		     uint64_t v3_real, uint64_t first, uint64_t gap)
{
	const struct outstanding *o;

	o = in_flight(c, fm->id);
	if (!o || fm->seq <= c->last_seq)
		return 0;
	/* Over TCP a FRAME with another t0 than its request's is the sender's fault; a datagram may
	 * have been changed on the way (unsealed), so here it costs only that frame. */
	if (fm->t0_ns != o->v0_ns) {
		fc_udprecv_refuse_frame(c->udp);
		return 0;
	}
	if (udp_lost_before(c, fm->id) < 0)
		return -1;
	o = &c->out[c->head];
	if (v3 - o->v0_ns > fm->held_ns)
		fc_udprecv_rtt(c->udp, v3 - o->v0_ns - fm->held_ns);
	c->udp_first_ns = first;
	c->udp_gap_ns = gap;
	return on_frame(c, fm, v3, v3_real) < 0 ? -2 : 0;
}

/* Frames given up, and requests unanswered for too long: each request late, in order. */
static int udp_settle(struct fc_client *c, const struct fc_udprecv_lost *gave, size_t n,
		      uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		/* Without chunk 0 the request is not known: a later frame or the time settles it. */
		if (gave[i].seq <= c->last_seq || !gave[i].id || !in_flight(c, gave[i].id))
			continue;
		if (udp_lost_before(c, gave[i].id) < 0 || udp_lost(c, gave[i].seq) < 0)
			return -1;
	}
	while (c->count && now - c->out[c->head].v0_ns > c->cfg.budget_ns + UDP_LOST_NS)
		if (udp_lost(c, 0) < 0)
			return -1;
	return udp_refill(c);
}

/* What the datagrams brought: whole frames judged, the repair's NACKs and GIVEUPs sent, lost
 * frames settled. -1 when the stream is over (reason set). */
static int udp_input(struct fc_client *c)
{
	struct fc_udprecv_lost gave[FC_PROTO_MAX_WINDOW];
	struct fc_udprecv_stats st;
	struct fc_msg m;
	uint64_t now, real, first, gap;
	int64_t lo = 0, hi = 0;
	bool known;
	int rc;

	/* The offset's bound, as the frames will be judged (bound.c): a request TCP held back does
	 * not make a frame hopeless while the offset's bound can still be within the budget. */
	known = c->bound.interval && fc_offset_at(&c->bound.offset, fc_clock_now_ns(), &lo, &hi);
	fc_udprecv_offset(c->udp, known, hi);
	while ((rc = fc_udprecv_read(c->udp, &m, &first, &gap)) > 0) {
		fc_clock_pair(&now, &real);
		rc = udp_frame(c, &m.u.frame, now, real, first, gap);
		if (rc == -2)
			return -1;
		if (rc < 0)
			goto io_error;
	}
	if (rc < 0) {
		end(c, false, "UDP socket: %s", strerror(errno));
		return -1;
	}
	now = fc_clock_now_ns();
	rc = (int)fc_udprecv_poll(c->udp, now, c->cfg.budget_ns, gave, FC_PROTO_MAX_WINDOW);
	if (udp_settle(c, gave, (size_t)rc, now) < 0)
		goto io_error;
	fc_udprecv_stats(c->udp, &st);
	fc_report_udp(c->report, &st);
	return 0;
io_error:
	end(c, false, "connection to the sender failed: %s", fc_conn_error(c->conn));
	return -1;
}

/* Over UDP: the next whole TCP message (1, in *m), or 0 after what the datagrams brought within
 * 100 ms (or by the repair's next decision) was handled; -1 when TCP failed (fc_conn_error), -2
 * when the stream is over (reason set). */
static int udp_wait(struct fc_client *c, struct fc_msg *m)
{
	struct pollfd pfd[2] = { { .fd = fc_conn_fd(c->conn), .events = POLLIN },
				 { .fd = fc_udprecv_fd(c->udp), .events = POLLIN } };
	uint64_t now = fc_clock_now_ns();
	uint64_t until = fc_udprecv_next_ns(c->udp, c->cfg.budget_ns);
	uint64_t left;
	struct timespec ts;
	int rc = fc_conn_recv(c->conn, m, 0);

	if (rc != 0)
		return rc;
	if (until > now + 100 * FC_NS_PER_MS)
		until = now + 100 * FC_NS_PER_MS;
	left = until > now ? until - now : 0;
	ts = (struct timespec){ .tv_sec = (time_t)(left / FC_NS_PER_S),
				.tv_nsec = (long)(left % FC_NS_PER_S) };
	(void)ppoll(pfd, 2, &ts, NULL);
	if (udp_input(c) < 0)
		return -2;
	return fc_conn_recv(c->conn, m, 0);
}

static int send_ping(struct fc_client *c, uint64_t *last_ping)
{
	struct fc_msg ping = { .type = FC_MSG_PING };

	*last_ping = fc_clock_now_ns();
	ping.u.ping.token = fc_bound_ping(&c->bound, *last_ping);
	if (fc_conn_send(c->conn, &ping, c->cfg.io_timeout_ms) == 0)
		return 0;
	end(c, false, "connection to the sender failed: %s", fc_conn_error(c->conn));
	return -1;
}

static void *client_main(void *arg)
{
	struct fc_client *c = arg;
	uint64_t last_rx = fc_clock_now_ns();
	uint64_t last_ping = last_rx;
	uint64_t dead = (uint64_t)c->cfg.dead_after_ms * FC_NS_PER_MS;
	struct fc_msg m;

	pthread_setname_np(pthread_self(), "fc-net");
	for (unsigned i = 0; i < c->pace.window; i++) {
		if (send_request(c) < 0) {
			end(c, false, "connection to the sender failed: %s",
			    fc_conn_error(c->conn));
			goto out;
		}
	}
	while (!atomic_load(&c->stop)) {
		int rc = c->udp ? udp_wait(c, &m) : fc_conn_recv(c->conn, &m, 100);
		uint64_t now, now_real;

		/* V3 and our wall clock as one moment; 0 when they could not be read so (bound.h). */
		fc_clock_pair(&now, &now_real);
		if (rc == -2)
			break;
		if (rc < 0) {
			end(c, false, "connection to the sender lost: %s", fc_conn_error(c->conn));
			/* Tell a live sender what was wrong; to a closed one this is a no-op. */
			fc_conn_bye(c->conn, FC_BYE_PROTOCOL, fc_conn_error(c->conn));
			break;
		}
		if (rc > 0) {
			last_rx = now;
			if (on_message(c, &m, now, now_real) < 0)
				break;
		} else if (now - last_rx > dead && now - fc_conn_heard_ns(c->conn) > dead) {
			/* Silent: no whole message, and no byte of one either (a large frame on
			 * a slow link may take longer than `dead` to arrive, and is not silence). */
			snprintf(c->reason, sizeof(c->reason),
				 "the sender has been silent for %d ms; giving up",
				 c->cfg.dead_after_ms);
			fc_conn_bye(c->conn, FC_BYE_TIMEOUT, "nothing heard for too long");
			break;
		}
		if ((c->cfg.remote &&
		     fc_remote_send(c->cfg.remote, c->conn, c->cfg.io_timeout_ms) < 0) ||
		    send_results(c) < 0) {
			end(c, false, "connection to the sender failed: %s",
			    fc_conn_error(c->conn));
			break;
		}
		/* Once a second: one more exchange for the clock offset, and proof of life when
		 * no frames come. */
		if (now - last_ping > PING_EVERY_NS && send_ping(c, &last_ping) < 0)
			break;
	}
	if (atomic_load(&c->stop)) {
		c->clean = true;
		snprintf(c->reason, sizeof(c->reason), "stopped");
		fc_conn_bye(c->conn, FC_BYE_NORMAL, "viewer done");
	}
out:
	if (c->cfg.remote)
		fc_remote_lost(c->cfg.remote);
	fc_partrx_drop(&c->partrx, c->slot); /* a frame cut off: nothing of it is shown */
	atomic_store(&c->running, false);
	/* Wake the display so it sees the end at once. */
	fc_slot_close(c->slot);
	return NULL;
}

struct fc_client *fc_client_start(const struct fc_client_cfg *cfg, struct fc_conn *conn,
				  struct fc_slot *slot, struct fc_report *report, char *err,
				  size_t errlen)
{
	struct fc_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c || !(c->pool = fc_frame_pool_new(POOL_KEEP))) {
		snprintf(err, errlen, "out of memory");
		fc_udprecv_free(cfg->udp);
		goto fail;
	}
	c->cfg = *cfg;
	c->udp = cfg->udp;
	fc_pace_init(&c->pace, cfg->window);
	/* Wall clocks once refuted stay refuted for the process: one warning, then proven bounds. */
	fc_bound_init(&c->bound,
		      cfg->clock == FC_CLOCK_SYNCED && fc_report_synced_refuted(report)
			  ? FC_CLOCK_PROVEN
			  : cfg->clock,
		      cfg->synced_error_ns);
	c->bound.split = cfg->udp != NULL;
	c->conn = conn;
	c->slot = slot;
	c->report = report;
	c->reported_window = c->pace.window;
	fc_report_window(report, c->pace.window, c->pace.max);
	fc_report_udp(report, NULL); /* until the first datagrams, if any, say otherwise */
	atomic_init(&c->running, true);
	rc = pthread_create(&c->thread, NULL, client_main, c);
	if (rc) {
		snprintf(err, errlen, "cannot start the network thread: %s", strerror(rc));
		goto fail;
	}
	return c;
fail:
	fc_conn_free(conn);
	if (c) {
		fc_udprecv_free(c->udp);
		fc_frame_pool_release(c->pool);
	}
	free(c);
	return NULL;
}

bool fc_client_running(struct fc_client *c, bool *clean)
{
	bool running = atomic_load(&c->running);

	if (!running && clean)
		*clean = c->clean;
	return running;
}

const char *fc_client_reason(struct fc_client *c)
{
	return c->reason;
}

void fc_client_stop(struct fc_client *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	fc_udprecv_free(c->udp);
	fc_conn_free(c->conn);
	fc_frame_pool_release(c->pool);
	free(c);
}
