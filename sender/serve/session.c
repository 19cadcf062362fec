#include "session.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "adapt.h"
#include "clock.h"
#include "hello.h"
#include "log.h"
#include "parts.h"
#include "tcpstat.h"
#include "udpsend.h"

#define HELLO_TIMEOUT_MS 5000
/* The kernel's unsent queue: a new frame waits behind at most this much of an old one. */
#define NOTSENT_LOWAT (16u << 10)
/* Camera commands logged a second per viewer, at most. */
#define CMD_LINES_PER_S 10

struct pending {
	uint32_t id;
	uint64_t t0_ns; /* V0, echoed */
	uint64_t s1_ns; /* when it arrived here */
};

/* A FRAME sent whose VERDICT has not come back yet. The viewer answers every FRAME, in order, right
 * after its next REQUESTs, so no more than a window's worth can be waiting, plus those answered
 * while its VERDICTs were still on the way: twice the largest window is plenty. */
struct unjudged {
	uint32_t id;
	uint64_t seq;
	bool stale; /* a stale notice: already counted as too old, its VERDICT counts nothing */
};
#define UNJUDGED_MAX (2 * FC_PROTO_MAX_WINDOW)

struct fc_session {
	struct fc_session_cfg cfg;
	struct fc_conn *conn;
	unsigned id;
	int wake_fd; /* eventfd: poked by the slot on publish and by fc_session_stop */
	pthread_t thread;
	atomic_bool stop;
	atomic_bool done;
	atomic_bool greeted; /* the HELLO exchange succeeded and it was not refused: a viewer */
	char peer[64];

	/* Owned by the session thread. */
	struct fc_hello viewer;
	uint64_t budget_ns;
	uint64_t last_seq; /* the newest frame sent (or skipped) to this viewer */
	uint64_t last_heard_ns;
	unsigned source_gen; /* the slot's source state last told to this viewer */
	struct pending queue[FC_PROTO_MAX_WINDOW];
	unsigned qhead;
	unsigned qlen;
	struct unjudged sent_q[UNJUDGED_MAX]; /* FRAMEs awaiting their VERDICT, oldest at head */
	unsigned shead;
	unsigned slen;
	struct fc_adapt adapt;	/* fits the frames to this viewer's link */
	int want;		/* the rung this session has told the ladder it wants; -1: none */
	bool tcp;		/* the connection is TCP: the kernel's figures are real */
	uint64_t wake_ns;	/* the link has room again then: look at the slot (0: no wait) */
	uint64_t cmd_second_ns; /* camera commands: the second their log lines are counted in */
	unsigned cmd_said, cmd_unsaid; /* logged in it, and not (a flood says how many) */
	uint64_t data_last; /* the number of the last document sent with a frame (datastore.h) */
	struct fc_udpsend *udp;	  /* frames go as datagrams (udpsend.h); NULL: over TCP */
	bool follows;		  /* frames in parts to this viewer (--parts on, FC_HELLO_PARTS) */
	struct fc_parts_tx parts; /* the frame in parts being sent (parts.h) */

	/* Written by the session thread, read by the main thread. */
	_Atomic uint64_t sent, bytes, accepted, late, too_old, last_bound_us, link_bps, downs, ups;
	atomic_bool link_lower;
	_Atomic uint64_t shape; /* the latest rendition: width, height, quality, packed */
	/* The datagrams' counts (udpsend.h), copied after each turn: a lock for the copy only. */
	pthread_mutex_t udp_lock;
	struct fc_udpsend_stats udp_stats;
	atomic_bool udp_on;
	_Atomic uint32_t src_shape; /* and its picture's size */
};

/* Logs why the connection ends (its error) and returns -1 for the caller to pass up. */
static int closing(struct fc_session *s)
{
	fc_warn("viewer %s: %s; closing its connection", s->peer, fc_conn_error(s->conn));
	return -1;
}

/* The rungs this viewer may get of a picture of w x h: what the ladder can make of it, at or
 * above the viewer's floor, or the full picture alone when the viewer asked for that. */
static uint32_t allowed(const struct fc_session *s, int w, int h)
{
	const struct fc_ladder *l = s->cfg.ladder;
	const struct fc_hello *v = &s->viewer;
	int min_w = v->min_width < w ? v->min_width : w;
	int min_h = v->min_height < h ? v->min_height : h;
	uint32_t mask = 1;

	if (v->flags & FC_HELLO_FULL_ONLY)
		return mask;
	for (int r = 1; r < l->count; r++) {
		int rw, rh;

		fc_ladder_size(l, r, w, h, &rw, &rh);
		if (fc_ladder_fits(l, r, w, h) && rw >= min_w && rh >= min_h &&
		    l->rung[r].quality >= v->min_quality)
			mask |= 1u << r;
	}
	return mask;
}

/* Asks the control law for the rung of the next frame and tells the ladder, so that the
 * capture makes it. */
static int choose_rung(struct fc_session *s, const struct fc_frame *head, uint32_t ok,
		       const struct fc_tcpstat *tcp, uint64_t now)
{
	uint32_t expect[FC_LADDER_MAX];
	int r;

	for (int k = 0; k < s->cfg.ladder->count; k++)
		expect[k] = fc_ladder_expect(s->cfg.ladder, k, head->seq);
	r = fc_adapt_rung(&s->adapt, expect, s->cfg.ladder->count, ok, tcp, now);
	if (r != s->want) {
		fc_ladder_move(s->cfg.ladder, s->want, r);
		s->want = r;
	}
	return r;
}

/* The JPEG to send of head's picture for rung *r: r's own, or, when r was not planned (the
 * capture heard of it after this picture), the nearest smaller rung that was (*r says which). NULL with *later
 * when that one is planned but not made yet; NULL alone when the picture has nothing for this
 * viewer (it is skipped: the next has its rung). */
static struct fc_frame *pick(struct fc_frame *head, int *r, uint32_t ok, int count, bool *later)
{
	*later = false;
	for (int k = *r; k < count; k++) {
		struct fc_frame *f;

		if (!(ok & head->planned & (1u << k)))
			continue;
		f = fc_frame_get_alt(head, k);
		*later = f == NULL;
		*r = k;
		return f;
	}
	return NULL;
}

/* A FRAME as datagrams, paced at the link's rate (udpsend.h), over a quarter of the budget at
 * most: the round trip and the age take the rest. */
static int udp_frame(struct fc_session *s, const struct fc_msg *m, uint64_t now)
{
	char err[160];

	if (fc_udpsend_frame(s->udp, m, s->adapt.pace_rate, s->budget_ns / 4, now, err,
			     sizeof(err)) == 0)
		return 0;
	fc_warn("viewer %s: %s; closing its connection", s->peer, err);
	return -1;
}

/* The fixed part of the answer to the oldest pending request with f (a rendition of head's
 * picture, or NULL for a stale notice), its S2 read now; and the document that goes with it.
 * -1 when the connection failed. */
static int frame_head(struct fc_session *s, const struct fc_frame *head, const struct fc_frame *f,
		      struct fc_frame_msg *m)
{
	struct pending *p = &s->queue[s->qhead];
	uint64_t now, real, age;

	/* S2 and the wall clock read as one moment, or the wall clock not sent (0): a viewer told
	 * the clocks are synced narrows its bound by the pair (PROTOCOL.md, "Synced clocks"). */
	fc_clock_pair(&now, &real);
	/* A capture time after now (a driver glitch) must not wrap into a huge age. */
	age = now > head->capture_ns ? now - head->capture_ns : 0;
	*m = (struct fc_frame_msg){
		.id = p->id,
		.t0_ns = p->t0_ns,
		.held_ns = now - p->s1_ns,
		.age_ns = age,
		.seq = head->seq,
		.width = f ? f->width : head->src_width,
		.height = f ? f->height : head->src_height,
		.src_width = head->src_width,
		.src_height = head->src_height,
		.quality = f ? f->quality : 0,
		.send_ns = now,
		.send_real_ns = real,
	}; /* the bytes are the caller's to add: a frame in parts has no size yet */
	s->last_seq = head->seq;
	/* The document goes just before its frame, inside the frame's S2 (its time is the frame's
	 * age); a stale notice carries none. */
	if (f && s->cfg.data &&
	    fc_datastore_send(s->cfg.data, s->conn, &s->data_last, head->seq,
			      s->cfg.io_timeout_ms) < 0)
		return -1;
	return 0;
}

/* The request m answered is used up, and the frame awaits its VERDICT. */
static void answered(struct fc_session *s, const struct fc_frame_msg *m, bool stale)
{
	s->qhead = (s->qhead + 1) % FC_PROTO_MAX_WINDOW;
	s->qlen--;
	s->sent_q[(s->shead + s->slen++) % UNJUDGED_MAX] =
	    (struct unjudged){ .id = m->id, .seq = m->seq, .stale = stale };
}

/* Counts a frame sent with its bytes, of rendition f. */
static void count_sent(struct fc_session *s, const struct fc_frame *f, uint32_t size)
{
	atomic_fetch_add(&s->sent, 1);
	atomic_fetch_add(&s->bytes, size);
	atomic_store(&s->shape, (uint64_t)f->width << 32 | (uint64_t)f->height << 16 | f->quality);
	atomic_store(&s->src_shape, (uint32_t)f->src_width << 16 | f->src_height);
}

/* Sends f (a rendition of head's picture, or NULL for a stale notice) for the oldest pending
 * request, and books it. -1 when the connection failed. */
static int send_frame(struct fc_session *s, const struct fc_frame *head, const struct fc_frame *f,
		      int rung, const struct fc_tcpstat *tcp)
{
	struct fc_msg m = { .type = FC_MSG_FRAME };

	if (frame_head(s, head, f, &m.u.frame) < 0)
		return -1;
	m.u.frame.jpeg = f ? f->data : NULL;
	m.u.frame.jpeg_size = f ? (uint32_t)f->size : 0;
	if (s->udp ? udp_frame(s, &m, m.u.frame.send_ns) < 0
		   : fc_conn_send(s->conn, &m, s->cfg.io_timeout_ms) < 0)
		return -1;
	answered(s, &m.u.frame, f == NULL);
	fc_adapt_sent(&s->adapt, head->seq, rung, m.u.frame.jpeg_size, m.u.frame.send_ns, tcp);
	if (!f) {
		atomic_fetch_add(&s->too_old, 1);
		return 0;
	}
	count_sent(s, f, m.u.frame.jpeg_size);
	return 0;
}

/* The kernel's figures for this connection; NULL when it has none (not TCP). */
static const struct fc_tcpstat *tcp_now(struct fc_session *s, struct fc_tcpstat *ts)
{
	return s->tcp && fc_tcpstat_read(fc_conn_fd(s->conn), ts) == 0 ? ts : NULL;
}

/* Starts the frame the capture is encoding, in parts, for the oldest pending request, when
 * this viewer takes the full picture now and the link has room: its bytes leave as they are
 * encoded (parts.h). 1 when it started one, 0 when not (the frame goes the usual way once
 * whole), -1 when the connection failed. */
static int answer_growing(struct fc_session *s)
{
	struct fc_tcpstat ts;
	const struct fc_tcpstat *tcp = tcp_now(s, &ts);
	struct fc_frame *g = fc_slot_get_growing(s->cfg.slot, s->last_seq);
	struct fc_msg m = { .type = FC_MSG_FRAME_START };
	uint64_t now = fc_clock_now_ns();
	uint64_t wait;
	int rc = 0;

	if (!g || (now > g->capture_ns && now - g->capture_ns > s->budget_ns) ||
	    choose_rung(s, g, allowed(s, g->src_width, g->src_height), tcp, now) != 0)
		goto out;
	wait = fc_adapt_wait(&s->adapt, tcp, now);
	if (wait > 0) {
		/* Woken when the link has room, not at the capture's next poke (a third of the
		 * encode later) or its publish, when the frame could only go whole. */
		s->wake_ns = now + wait;
		goto out;
	}
	rc = frame_head(s, g, g, &m.u.frame) < 0 ||
		     fc_parts_tx_start(&s->parts, s->conn, m.u.frame, g, s->budget_ns,
				       s->cfg.io_timeout_ms) < 0
		 ? -1
		 : 1;
	if (rc > 0)
		answered(s, &m.u.frame, false);
out:
	fc_frame_unref(g);
	return rc;
}

/* Sends what the frame in parts gained, and books it once it ended: as sent when whole, as
 * too old to send when given up (its VERDICT then counts nothing, as a stale notice's).
 * -1 when the connection failed. */
static int follow_parts(struct fc_session *s)
{
	struct fc_parts_tx_end end;
	struct fc_tcpstat ts;
	struct fc_frame *f = fc_frame_ref(s->parts.f); /* for the figures, past its end */
	int rc = fc_parts_tx_follow(&s->parts, s->conn, fc_slot_seq(s->cfg.slot), fc_clock_now_ns(),
				    s->cfg.io_timeout_ms, &end);

	if (rc > 0 && end.status != FC_PARTS_COMPLETE) {
		s->sent_q[(s->shead + s->slen - 1) % UNJUDGED_MAX].stale = true;
		atomic_fetch_add(&s->too_old, 1);
	} else if (rc > 0) {
		fc_adapt_sent(&s->adapt, end.seq, 0, end.total, end.s2_ns, tcp_now(s, &ts));
		count_sent(s, f, end.total);
	}
	fc_frame_unref(f);
	return rc < 0 ? -1 : 0;
}

/* Follows the frame in parts to its end before anything else is sent (a camera command's
 * answer): at most until the frame's age passes the budget, when it is given up. */
static int finish_parts(struct fc_session *s)
{
	struct pollfd pfd = { .fd = s->wake_fd, .events = POLLIN };
	uint64_t counter;

	while (fc_parts_tx_open(&s->parts)) {
		if (follow_parts(s) < 0)
			return -1;
		if (fc_parts_tx_open(&s->parts) &&
		    poll(&pfd, 1, fc_clock_ms_until(s->parts.deadline_ns) + 1) > 0)
			(void)!read(s->wake_fd, &counter, sizeof(counter));
	}
	return 0;
}

/* Answers the oldest pending request with the newest picture not yet offered, at the rung the
 * link carries, once the link has room (else wake_ns says when to look again); or with a stale
 * notice when even that picture is already older than the viewer's budget, so the viewer counts
 * it and can say why nothing is shown. Each picture is offered to a viewer once. Returns 1 when
 * it answered (there may be more to do), 0 when there is nothing to do now, -1 when the
 * connection failed. */
static int answer_one(struct fc_session *s)
{
	struct fc_tcpstat ts;
	const struct fc_tcpstat *tcp;
	struct fc_frame *head = fc_slot_get_newer(s->cfg.slot, s->last_seq);
	struct fc_frame *f = NULL;
	uint64_t now = fc_clock_now_ns();
	uint64_t wait;
	uint32_t ok;
	bool later;
	int r;
	int rc = 1;

	if (s->follows && (rc = answer_growing(s)) != 0)
		goto out; /* the freshest picture, still being encoded, leaves now */
	if (!head)
		return 0;
	if (now > head->capture_ns && now - head->capture_ns > s->budget_ns) {
		rc = send_frame(s, head, NULL, s->want, NULL) < 0 ? -1 : 1;
		goto out;
	}
	ok = allowed(s, head->src_width, head->src_height);
	tcp = tcp_now(s, &ts);
	r = choose_rung(s, head, ok, tcp, now);
	wait = fc_adapt_wait(&s->adapt, tcp, now);
	if (wait > 0) {
		s->wake_ns = now + wait;
		rc = 0;
		goto out;
	}
	f = pick(head, &r, ok, s->cfg.ladder->count, &later);
	if (!f) {
		if (!later)
			s->last_seq = head->seq; /* nothing in it for this viewer */
		rc = later ? 0 : 1;
		goto out;
	}
	rc = send_frame(s, head, f, r, tcp) < 0 ? -1 : 1;
out:
	fc_frame_unref(f);
	fc_frame_unref(head);
	return rc;
}

/* Answers pending requests while there are pictures for them. -1 when the connection failed. */
static int answer(struct fc_session *s)
{
	int rc = 1;

	/* A viewer that stops judging frames gets no more: its VERDICTs are how the sender counts
	 * what it saw (handle() ends such a connection when one finally comes out of order). */
	s->wake_ns = 0;
	while (rc > 0 && s->qlen > 0 && s->slen < UNJUDGED_MAX && !fc_parts_tx_open(&s->parts))
		rc = answer_one(s);
	return rc < 0 ? -1 : 0;
}

/* Tells the viewer when the source's state changed (a camera lost or back) since it last heard. */
static int tell_source(struct fc_session *s)
{
	struct fc_msg m = { .type = FC_MSG_STATUS };
	int state;
	unsigned gen =
	    fc_slot_source(s->cfg.slot, &state, m.u.status.text, sizeof(m.u.status.text));

	if (gen == s->source_gen)
		return 0;
	/* A viewer that joins while the source is live needs no news; one that joins while it is
	 * lost must hear so, or it would wait in silence. */
	if (s->source_gen == 0 && state == FC_SOURCE_LIVE) {
		s->source_gen = gen;
		return 0;
	}
	s->source_gen = gen;
	if (state != FC_SOURCE_LIVE && state != FC_SOURCE_LOST)
		return 0;
	m.u.status.source = (uint8_t)state;
	if (fc_conn_send(s->conn, &m, s->cfg.io_timeout_ms) == 0)
		return 0;
	return closing(s);
}

/* Tells the control law what became of a frame. */
static void judged(struct fc_session *s, const struct fc_verdict *v)
{
	struct fc_tcpstat ts;
	const struct fc_tcpstat *tcp = tcp_now(s, &ts);
	uint64_t bound = v->bound_us == UINT32_MAX ? UINT64_MAX : (uint64_t)v->bound_us * 1000;
	uint64_t recv = fc_parts_tx_link_ns(&s->parts, v->seq, (uint64_t)v->recv_us * 1000);
	uint64_t gap = (uint64_t)v->gap_us * 1000;

	/* Over UDP a silence among a frame's chunks is a repair's wait only when a NACK for it was
	 * answered (TCP's retransmission count tells adapt the same); any other was the viewer
	 * waiting for a CPU: not the link's pace, nor a loss (taken for loss, it shrank the frames
	 * on a busy host to 160x90 with no packet lost). */
	if (s->udp && gap <= recv && !fc_udpsend_repaired(s->udp, v->seq)) {
		recv -= gap;
		gap = 0;
	}
	fc_adapt_judged(&s->adapt, v->seq, bound, recv, gap, v->kind == FC_VERDICT_ACCEPTED,
			fc_clock_now_ns(), tcp);
	atomic_store(&s->link_bps, (uint64_t)(s->adapt.rate * 8));
	atomic_store(&s->link_lower, s->adapt.pace_rate <= 0 && s->adapt.rate > 0);
	atomic_store(&s->downs, s->adapt.downs);
	atomic_store(&s->ups, s->adapt.ups);
}

/* Over UDP a viewer may say late on a request whose frame it never saw whole: by the request
 * alone (its seq 0, or another frame's it gave up: it cannot know which frame was lost outright),
 * and for a request not answered yet, which withdraws it (PROTOCOL.md, section 13). True when v
 * was such a withdrawal. */
static bool udp_verdict(struct fc_session *s, const struct fc_verdict *v)
{
	if (v->kind != FC_VERDICT_LATE || s->slen > 0 || s->qlen == 0 ||
	    s->queue[s->qhead].id != v->id)
		return false;
	s->qhead = (s->qhead + 1) % FC_PROTO_MAX_WINDOW;
	s->qlen--;
	return true;
}

/* Books a VERDICT. Only one on the oldest frame sent and not yet judged counts: anything else
 * would make this viewer's numbers up (-1, with why). */
static int verdict(struct fc_session *s, const struct fc_verdict *v, char *why, size_t len)
{
	const struct unjudged *u = &s->sent_q[s->shead];

	if (s->udp && udp_verdict(s, v))
		return 0;
	if (s->slen == 0) {
		snprintf(why, len, "a VERDICT on frame %llu (request %u), which was not sent",
			 (unsigned long long)v->seq, v->id);
		return -1;
	}
	if (u->id != v->id || (u->seq != v->seq && !s->udp)) {
		snprintf(why, len,
			 "a VERDICT on frame %llu (request %u); expected frame %llu (request %u)",
			 (unsigned long long)v->seq, v->id, (unsigned long long)u->seq, u->id);
		return -1;
	}
	/* A stale notice is always late at the viewer, and already counted here as too old to
	 * send: counted once, late is what the viewer rejected of the frames sent. */
	if (!u->stale)
		atomic_fetch_add(v->kind == FC_VERDICT_ACCEPTED ? &s->accepted : &s->late, 1);
	s->shead = (s->shead + 1) % UNJUDGED_MAX;
	s->slen--;
	atomic_store(&s->last_bound_us, v->bound_us);
	judged(s, &(struct fc_verdict){ .seq = u->seq,
					.bound_us = v->bound_us,
					.kind = v->kind,
					.recv_us = v->recv_us,
					.gap_us = v->gap_us });
	if (s->udp && v->kind == FC_VERDICT_ACCEPTED)
		fc_udpsend_accepted(s->udp, v->seq);
	return 0;
}

/* A camera command (control.h): answered whatever it asks; -1 only when the answer could not be
 * sent. */
static int command(struct fc_session *s, const struct fc_control *cmd)
{
	static const struct fc_control_cfg none = { .allow = false };
	struct fc_control_ctx ctx = { .cfg = s->cfg.control ? s->cfg.control : &none,
				      .conn = s->conn,
				      .slot = s->cfg.slot,
				      .ladder = s->cfg.ladder,
				      .io_timeout_ms = s->cfg.io_timeout_ms };
	char note[256];

	uint64_t now = fc_clock_now_ns();

	if (fc_control_answer(&ctx, cmd, note, sizeof(note)) < 0)
		return closing(s);
	/* A line per command a person gives; a program's flood of them gets a count a second. */
	if (now - s->cmd_second_ns >= FC_NS_PER_S) {
		if (s->cmd_unsaid)
			fc_info("viewer %s: %u more commands answered, not logged", s->peer,
				s->cmd_unsaid);
		s->cmd_second_ns = now;
		s->cmd_said = s->cmd_unsaid = 0;
	}
	if (s->cmd_said++ < CMD_LINES_PER_S)
		fc_info("viewer %s: %s", s->peer, note);
	else
		s->cmd_unsaid++;
	return 0;
}

/* Handles one message from the viewer. Returns 0 to go on, 1 when the viewer said BYE, -1 on a
 * protocol violation (after telling the viewer why) or a failed reply. */
static int handle(struct fc_session *s, const struct fc_msg *m)
{
	struct fc_msg reply = { .type = FC_MSG_PONG };
	char why[160];

	switch (m->type) {
	case FC_MSG_REQUEST:
		if (s->qlen >= s->viewer.window) {
			snprintf(why, sizeof(why),
				 "more than the %u requests in flight it announced",
				 s->viewer.window);
			goto violation;
		}
		s->queue[(s->qhead + s->qlen) % FC_PROTO_MAX_WINDOW] = (struct pending){
			.id = m->u.request.id,
			.t0_ns = m->u.request.t0_ns,
			.s1_ns = fc_clock_now_ns(),
		};
		s->qlen++;
		return 0;
	case FC_MSG_VERDICT:
		if (verdict(s, &m->u.verdict, why, sizeof(why)) < 0)
			goto violation;
		return 0;
	case FC_MSG_PING:
		/* Our clock as we read it: the viewer learns the offset between the clocks from it
		 * (docs/PROTOCOL.md, "The offset interval"). */
		reply.u.ping.token = m->u.ping.token;
		reply.u.ping.clock_ns = fc_clock_now_ns();
		if (fc_conn_send(s->conn, &reply, s->cfg.io_timeout_ms) == 0)
			return 0;
		return closing(s);
	case FC_MSG_PONG:
		return 0;
	case FC_MSG_DATA:
		/* A result answers a frame this viewer was sent (or skipped); none without --data-in
		 * is delivered anywhere. */
		if (m->u.data.seq == 0 || m->u.data.seq > s->last_seq) {
			snprintf(why, sizeof(why), "a DATA answering frame %llu, not sent to it",
				 (unsigned long long)m->u.data.seq);
			goto violation;
		}
		if (s->cfg.data)
			(void)fc_datastore_result(s->cfg.data, s->peer, &m->u.data);
		return 0;
	case FC_MSG_CONTROL:
		/* Its answer may not come inside a frame in parts (PROTOCOL.md, section 14). */
		if (finish_parts(s) < 0)
			return closing(s);
		return command(s, &m->u.control);
	case FC_MSG_BYE:
		fc_info("viewer %s left: %s%s%s", s->peer,
			fc_proto_bye_reason_name(m->u.bye.reason), m->u.bye.text[0] ? ": " : "",
			m->u.bye.text);
		return 1;
	default:
		snprintf(why, sizeof(why), "a viewer may not send %s", fc_proto_type_name(m->type));
		goto violation;
	}
violation:
	fc_warn("viewer %s: protocol error: %s; closing its connection", s->peer, why);
	fc_conn_bye(s->conn, FC_BYE_PROTOCOL, why);
	return -1;
}

/* Reads every whole message that has arrived. Same returns as handle(). */
static int drain(struct fc_session *s)
{
	struct fc_msg m;
	int rc;

	while ((rc = fc_conn_recv(s->conn, &m, 0)) > 0) {
		s->last_heard_ns = fc_clock_now_ns();
		rc = handle(s, &m);
		if (rc)
			return rc;
	}
	if (rc < 0) {
		/* Tell a live peer what it did wrong; to a closed one this is a no-op. */
		fc_conn_bye(s->conn, FC_BYE_PROTOCOL, fc_conn_error(s->conn));
		return closing(s);
	}
	return 0;
}

/* The datagrams' side of one turn of the loop: what came in answered, old frames forgotten, a
 * keep-alive when due (*until_ns moved up to it). -1 when the socket failed. */
static int udp_turn(struct fc_session *s, short revents, uint64_t *until_ns)
{
	uint64_t now = fc_clock_now_ns();
	uint64_t next;
	char err[160];

	if (revents && fc_udpsend_input(s->udp, now, err, sizeof(err)) < 0) {
		fc_warn("viewer %s: %s; closing its connection", s->peer, err);
		return -1;
	}
	next = fc_udpsend_tick(s->udp, now, s->budget_ns);
	if (next < *until_ns)
		*until_ns = next;
	pthread_mutex_lock(&s->udp_lock);
	fc_udpsend_stats(s->udp, &s->udp_stats);
	pthread_mutex_unlock(&s->udp_lock);
	return 0;
}

/* poll() until the monotonic clock reaches until_ns, to the microsecond: a frame paced to the
 * link may be due in a fraction of a millisecond, and poll()'s whole milliseconds would make
 * every such wait a millisecond (at several hundred frames a second, half of them lost). */
static int wait_until(struct pollfd *pfd, uint64_t until_ns)
{
	uint64_t now = fc_clock_now_ns();
	uint64_t left = until_ns > now ? until_ns - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(left / FC_NS_PER_S),
			       .tv_nsec = (long)(left % FC_NS_PER_S) };

	return ppoll(pfd, 3, &ts, NULL);
}

static void serve(struct fc_session *s)
{
	struct pollfd pfd[3] = {
		{ .fd = fc_conn_fd(s->conn), .events = POLLIN },
		{ .fd = s->wake_fd, .events = POLLIN },
		{ .fd = s->udp ? fc_udpsend_fd(s->udp) : -1, .events = POLLIN },
	};
	uint64_t idle = (uint64_t)s->cfg.idle_timeout_ms * FC_NS_PER_MS;
	uint64_t counter;

	s->last_heard_ns = fc_clock_now_ns();
	/* Requests that came in the same read as the HELLO wait in the buffer, not the socket. */
	if (drain(s) != 0)
		return;
	while (!atomic_load(&s->stop)) {
		int rc;

		uint64_t until = s->last_heard_ns + idle;

		if (fc_parts_tx_open(&s->parts) && follow_parts(s) < 0) {
			closing(s);
			return;
		}
		/* Nothing else goes inside a frame in parts but PONGs (PROTOCOL.md, section 14). */
		if (!fc_parts_tx_open(&s->parts) && tell_source(s) < 0)
			return;
		if (!fc_parts_tx_open(&s->parts) && answer(s) < 0) {
			closing(s);
			return;
		}
		if (s->wake_ns && s->wake_ns < until)
			until = s->wake_ns;
		if (s->udp && udp_turn(s, pfd[2].revents, &until) < 0)
			return;
		if (fc_parts_tx_open(&s->parts) && s->parts.deadline_ns < until)
			until = s->parts.deadline_ns;
		rc = wait_until(pfd, until);
		if (rc < 0 && errno != EINTR) {
			fc_error("viewer %s: poll: %s", s->peer, strerror(errno));
			return;
		}
		if (pfd[1].revents & POLLIN)
			(void)!read(s->wake_fd, &counter, sizeof(counter));
		if (pfd[0].revents && drain(s) != 0)
			return;
		if (fc_clock_now_ns() >= s->last_heard_ns + idle) {
			fc_warn("viewer %s: silent for %d ms; dropping it", s->peer,
				s->cfg.idle_timeout_ms);
			fc_conn_bye(s->conn, FC_BYE_TIMEOUT, "nothing heard for too long");
			return;
		}
	}
	fc_conn_bye(s->conn, FC_BYE_NORMAL, "sender shutting down");
}

/* Waits up to ns before a held HELLO, waking early when the session is stopped. */
static void hold(void *arg, uint64_t ns)
{
	struct fc_session *s = arg;
	struct pollfd pfd = { .fd = s->wake_fd, .events = POLLIN };
	uint64_t end = fc_clock_now_ns() + ns;

	while (!atomic_load(&s->stop) && fc_clock_now_ns() < end)
		(void)poll(&pfd, 1, fc_clock_ms_until(end));
}

/* The HELLO exchange, and with a passphrase the proofs; a listening sender's throttle of
 * failed proofs first (hello.h). */
static int greet(struct fc_session *s)
{
	uint8_t keys[2][FC_SECURE_KEY_SIZE]; /* a private stream's datagram keys (docs/UDP.md) */
	struct fc_hello_auth auth = { .psk = s->cfg.psk,
				      .dialled = s->cfg.dialled,
				      .throttle = s->cfg.throttle,
				      .hold = hold,
				      .hold_arg = s,
				      .dgram_keys = s->udp ? keys : NULL };
	char err[320];
	int rc = fc_hello_exchange_auth(s->conn, &s->cfg.hello, &auth, &s->viewer, HELLO_TIMEOUT_MS,
					err, sizeof(err));

	if (rc < 0)
		fc_warn("viewer %s", err); /* err names the peer */
	if (rc == 0 && s->udp && s->cfg.psk)
		fc_udpsend_seal(s->udp, keys[0], keys[1]);
	explicit_bzero(keys, sizeof(keys));
	return rc;
}

/* The control law starts small (a quarter of each side, or the full picture for a viewer that
 * wants only that) and climbs to what the link carries; the kernel keeps little unsent. */
static void start_link(struct fc_session *s)
{
	struct fc_tcpstat ts;
	int first = 0;

	for (int r = 0; r < s->cfg.ladder->count && !first; r++)
		if (s->cfg.ladder->rung[r].shift >= 2)
			first = r;
	if (s->viewer.flags & FC_HELLO_FULL_ONLY)
		first = 0;
	fc_adapt_init(&s->adapt, s->budget_ns, s->cfg.period_ns, first);
	s->want = -1;
	/* Over UDP the TCP connection carries no frames: its figures say nothing of their link. */
	s->tcp = !s->udp && fc_tcpstat_read(fc_conn_fd(s->conn), &ts) == 0;
	if (s->tcp && fc_tcpstat_lowat(fc_conn_fd(s->conn), NOTSENT_LOWAT) < 0)
		fc_warn("viewer %s: TCP_NOTSENT_LOWAT: %s (frames may wait in the kernel)", s->peer,
			strerror(errno));
}

/* With --transport udp, the HELLO offers datagrams (both HELLOs cross, so the offer goes before
 * the viewer's wish is known): a socket of this session's own, its port and a connection id. A
 * connection that is not IP (a page's, through the HTTP server) gets no offer. */
static void udp_offer(struct fc_session *s)
{
	char err[160];

	if (!s->cfg.udp)
		return;
	s->udp = fc_udpsend_new(fc_conn_fd(s->conn), err, sizeof(err));
	if (!s->udp)
		return;
	fc_udpsend_fec(s->udp, s->cfg.fec);
	s->cfg.hello.flags |= FC_HELLO_UDP;
	s->cfg.hello.udp_port = fc_udpsend_port(s->udp);
	s->cfg.hello.conn = fc_udpsend_conn(s->udp);
}

/* Frames go over UDP when both HELLOs said so; else over TCP, as a viewer without UDP expects
 * (a viewer that asked for it says so on its side). -1 when both said so and UDP cannot start:
 * the viewer waits for datagrams, so the connection ends with the reason. */
static int udp_settle(struct fc_session *s)
{
	char err[160], text[FC_PROTO_MAX_TEXT];

	if (s->udp && (s->viewer.flags & FC_HELLO_UDP)) {
		if (fc_udpsend_start(s->udp, fc_conn_fd(s->conn), s->viewer.udp_port,
				     fc_clock_now_ns(), err, sizeof(err)) < 0) {
			fc_warn("viewer %s: %s; closing its connection", s->peer, err);
			snprintf(text, sizeof(text), "the sender cannot send datagrams: %s", err);
			fc_conn_refuse(s->conn, FC_BYE_PROTOCOL, text);
			return -1;
		}
		fc_info("viewer %s: frames over UDP (port %u to its %u)", s->peer,
			fc_udpsend_port(s->udp), s->viewer.udp_port);
		atomic_store(&s->udp_on, true);
		return 0;
	}
	if (!s->udp && (s->viewer.flags & FC_HELLO_UDP))
		fc_info("viewer %s asked for UDP, which this sender does not offer (--transport "
			"udp): frames over TCP",
			s->peer);
	fc_udpsend_free(s->udp);
	s->udp = NULL;
	return 0;
}

static void *session_main(void *arg)
{
	struct fc_session *s = arg;

	pthread_setname_np(pthread_self(), "fc-session");
	udp_offer(s);
	if (greet(s) < 0)
		goto out;
	if (udp_settle(s) < 0)
		goto out;
	s->budget_ns = (uint64_t)s->viewer.budget_us * 1000;
	if (s->cfg.served && atomic_fetch_add(s->cfg.served, 1) >= s->cfg.max_served) {
		char text[96];

		atomic_fetch_sub(s->cfg.served, 1);
		snprintf(text, sizeof(text),
			 "this sender serves at most %d viewer%s (--max-viewers)",
			 s->cfg.max_served, s->cfg.max_served == 1 ? "" : "s");
		fc_warn("viewer %s refused: already serving %d (--max-viewers)", s->peer,
			s->cfg.max_served);
		fc_conn_refuse(s->conn, FC_BYE_FULL, text);
		goto out;
	}
	atomic_store(&s->greeted, true);
	fc_info("viewer %s connected (%s%s%s, budget %.1f ms, window %u)", s->peer,
		s->viewer.station, s->viewer.station[0] ? ", " : "", s->viewer.name,
		s->viewer.budget_us / 1000.0, s->viewer.window);
	if (fc_slot_watch(s->cfg.slot, s->wake_fd) < 0) {
		fc_error("viewer %s: too many sessions watch the slot", s->peer);
		goto out;
	}
	start_link(s);
	/* Over UDP a frame is cut into datagrams once whole (udpsend.h): no parts there. */
	s->follows = s->cfg.parts && (s->viewer.flags & FC_HELLO_PARTS) && !s->udp;
	if (s->follows)
		fc_slot_follow(s->cfg.slot, 1);
	serve(s);
	if (s->follows)
		fc_slot_follow(s->cfg.slot, -1);
	fc_parts_tx_drop(&s->parts);
	fc_ladder_move(s->cfg.ladder, s->want, -1);
	fc_slot_unwatch(s->cfg.slot, s->wake_fd);
out:
	if (atomic_load(&s->greeted) && s->cfg.served)
		atomic_fetch_sub(s->cfg.served, 1);
	atomic_store(&s->done, true);
	return NULL;
}

struct fc_session *fc_session_start(const struct fc_session_cfg *cfg, struct fc_conn *conn,
				    unsigned id, char *err, size_t errlen)
{
	struct fc_session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		fc_conn_free(conn);
		return NULL;
	}
	s->cfg = *cfg;
	s->conn = conn;
	s->id = id;
	snprintf(s->peer, sizeof(s->peer), "%s", fc_conn_peer(conn));
	pthread_mutex_init(&s->udp_lock, NULL);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = pthread_create(&s->thread, NULL, session_main, s);
	if (rc) {
		snprintf(err, errlen, "cannot start a session thread: %s", strerror(rc));
		goto fail;
	}
	return s;
fail:
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	fc_conn_free(conn);
	free(s);
	return NULL;
}

void fc_session_stop(struct fc_session *s)
{
	const uint64_t one = 1;

	atomic_store(&s->stop, true);
	(void)!write(s->wake_fd, &one, sizeof(one));
}

bool fc_session_done(struct fc_session *s)
{
	return atomic_load(&s->done);
}

bool fc_session_viewer(struct fc_session *s)
{
	return atomic_load(&s->greeted);
}

void fc_session_free(struct fc_session *s)
{
	if (!s)
		return;
	fc_session_stop(s);
	pthread_join(s->thread, NULL);
	close(s->wake_fd);
	fc_udpsend_free(s->udp);
	pthread_mutex_destroy(&s->udp_lock);
	fc_conn_free(s->conn);
	free(s);
}

void fc_session_stats(struct fc_session *s, struct fc_session_stats *out)
{
	uint64_t shape = atomic_load(&s->shape);
	uint32_t src = atomic_load(&s->src_shape);

	out->sent = atomic_load(&s->sent);
	out->bytes = atomic_load(&s->bytes);
	out->accepted = atomic_load(&s->accepted);
	out->late = atomic_load(&s->late);
	out->too_old = atomic_load(&s->too_old);
	out->last_bound_us = atomic_load(&s->last_bound_us);
	out->width = (uint16_t)(shape >> 32);
	out->height = (uint16_t)(shape >> 16);
	out->quality = (uint8_t)shape;
	out->src_width = (uint16_t)(src >> 16);
	out->src_height = (uint16_t)src;
	out->link_bps = atomic_load(&s->link_bps);
	out->link_lower = atomic_load(&s->link_lower);
	out->downs = atomic_load(&s->downs);
	out->ups = atomic_load(&s->ups);
	out->udp = atomic_load(&s->udp_on);
	pthread_mutex_lock(&s->udp_lock);
	out->udp_stats = s->udp_stats;
	pthread_mutex_unlock(&s->udp_lock);
}

unsigned fc_session_id(const struct fc_session *s)
{
	return s->id;
}

const char *fc_session_peer(const struct fc_session *s)
{
	return s->peer;
}
