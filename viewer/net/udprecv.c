#include "udprecv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dgram.h"
#include "reasm.h"
#include "udp.h"

/* Frames in assembly at once: a window of requests answered back to back, with room for the
 * repair of one while the next come (each frame's buffer grown to its size and kept). */
#define ASSEMBLY 8
/* Frames whose timing is kept: those in assembly and a few just done. */
#define TIMES 32
/* How long the last chunks of a frame may lag before they count as lost: reordering on a path is
 * a millisecond or two (docs/UDP.md, "When a chunk is lost"). */
#define REORDER_NS (3 * FC_NS_PER_MS)
/* The round trip before any frame measured one: NACKs go no more often than this. */
#define RTT_FIRST_NS (20 * FC_NS_PER_MS)
/* Round trips remembered for the least. */
#define RTT_SAMPLES  16
#define KEEPALIVE_NS (15ull * FC_NS_PER_S)
/* Datagrams read in one call, at most: the TCP side must not wait behind a flood. */
#define READ_BATCH 256
#define OUT_BATCH  16

/* One frame's timing, first chunk to whole, for its VERDICT. */
struct ftime {
	uint64_t seq; /* 0: free */
	uint32_t id;  /* the request its chunk 0 answers; 0 until chunk 0 came */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t gap_ns; /* the longest silence between two of its chunks */
	bool nacked;	 /* a NACK went for it: its chunks from now on are repairs */
};

struct fc_udprecv {
	int fd;
	uint16_t port;
	uint32_t conn;
	bool started;
	struct fc_udp_peer peer; /* where NACKs go: the sender's last known address */
	struct fc_reasm *reasm;
	struct ftime times[TIMES];
	uint64_t rtt[RTT_SAMPLES];
	unsigned nrtt, rtt_next;
	uint64_t last_out_ns;
	struct fc_udprecv_stats st;
	uint8_t in[FC_DGRAM_MAX_SIZE + 1];
};

struct fc_udprecv *fc_udprecv_new(int tcp_fd, uint16_t port, char *err, size_t errlen)
{
	struct fc_udprecv *u = calloc(1, sizeof(*u));

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->fd = -1;
	u->fd = fc_udp_open(tcp_fd, port, &u->port, err, errlen);
	if (u->fd < 0)
		goto fail;
	u->reasm = fc_reasm_new(ASSEMBLY, FC_DGRAM_MAX_FRAME, err, errlen);
	if (!u->reasm)
		goto fail;
	return u;
fail:
	fc_udprecv_free(u);
	return NULL;
}

void fc_udprecv_free(struct fc_udprecv *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	fc_reasm_free(u->reasm);
	free(u);
}

uint16_t fc_udprecv_port(const struct fc_udprecv *u)
{
	return u->port;
}

int fc_udprecv_fd(const struct fc_udprecv *u)
{
	return u->fd;
}

/* Sends n datagrams, their conn set here; a loss on the way out is one more loss. */
static void send_out(struct fc_udprecv *u, struct fc_dgram *d, size_t n, uint64_t now_ns)
{
	uint8_t buf[OUT_BATCH][FC_DGRAM_HEAD + 1 + 4 * FC_DGRAM_MAX_RANGES];
	uint8_t *bufs[OUT_BATCH];
	size_t lens[OUT_BATCH];
	unsigned k = 0;

	for (size_t i = 0; i < n && k < OUT_BATCH; i++) {
		d[i].conn = u->conn;
		lens[k] = fc_dgram_encode(&d[i], buf[k], sizeof(buf[k]));
		bufs[k] = buf[k];
		k += lens[k] > 0;
	}
	if (k && fc_udp_send(u->fd, &u->peer, bufs, lens, k) >= 0)
		u->last_out_ns = now_ns;
}

int fc_udprecv_start(struct fc_udprecv *u, int tcp_fd, const struct fc_hello *sender,
		     uint64_t now_ns, char *err, size_t errlen)
{
	struct fc_dgram k = { .type = FC_DGRAM_T_KEEPALIVE };

	if (fc_udp_peer_of(tcp_fd, sender->udp_port, &u->peer, err, errlen) < 0)
		return -1;
	u->conn = sender->conn;
	u->started = true;
	send_out(u, &k, 1, now_ns);
	return 0;
}

int fc_udprecv_greet(struct fc_conn *conn, const struct fc_hello *mine,
		     const struct fc_hello_auth *auth, uint16_t port, struct fc_hello *theirs,
		     struct fc_udprecv **udp, int timeout_ms, char *err, size_t errlen)
{
	struct fc_hello hello = *mine;
	struct fc_udprecv *u = fc_udprecv_new(fc_conn_fd(conn), port, err, errlen);
	int rc;

	*udp = NULL;
	if (!u)
		return -1;
	hello.flags |= FC_HELLO_UDP;
	hello.udp_port = u->port;
	rc = fc_hello_exchange_auth(conn, &hello, auth, theirs, timeout_ms, err, errlen);
	if (rc < 0 || !(theirs->flags & FC_HELLO_UDP)) {
		fc_udprecv_free(u);
		return rc;
	}
	if (fc_udprecv_start(u, fc_conn_fd(conn), theirs, fc_clock_now_ns(), err, errlen) < 0) {
		fc_udprecv_free(u);
		return -1;
	}
	*udp = u;
	return 0;
}

static struct ftime *timing(struct fc_udprecv *u, uint64_t seq, bool add)
{
	struct ftime *oldest = &u->times[0];

	for (int i = 0; i < TIMES; i++) {
		if (u->times[i].seq == seq)
			return &u->times[i];
		if (u->times[i].seq < oldest->seq)
			oldest = &u->times[i];
	}
	if (!add)
		return NULL;
	*oldest = (struct ftime){ .seq = seq };
	return oldest;
}

/* Books a chunk's arrival in its frame's timing. */
static void timed(struct fc_udprecv *u, const struct fc_dgram *d, uint64_t now_ns)
{
	struct ftime *t = timing(u, d->seq, true);

	if (!t->first_ns)
		t->first_ns = t->last_ns = now_ns;
	if (now_ns - t->last_ns > t->gap_ns)
		t->gap_ns = now_ns - t->last_ns;
	t->last_ns = now_ns;
	if (d->u.chunk.index == 0)
		t->id = d->u.chunk.fixed.id;
	u->st.repaired += t->nacked;
}

/* A whole frame out of the reassembler, decoded into *m. 1, or 0 when it does not decode. */
static int whole(struct fc_udprecv *u, const uint8_t *frame, size_t len, uint64_t seq,
		 struct fc_msg *m, uint64_t *first_ns, uint64_t *gap_ns)
{
	const struct ftime *t = timing(u, seq, false);

	if (fc_proto_decode(frame, len, m, NULL) != (ssize_t)len || m->type != FC_MSG_FRAME) {
		u->st.refused_frame++;
		return 0;
	}
	*first_ns = t ? t->first_ns : 0;
	*gap_ns = t ? t->gap_ns : 0;
	return 1;
}

/* Judges one datagram; 1 with a whole frame in *m. */
static int take(struct fc_udprecv *u, size_t n, const struct fc_udp_peer *from, uint64_t now_ns,
		struct fc_msg *m, uint64_t *first_ns, uint64_t *gap_ns)
{
	struct fc_dgram d;
	const uint8_t *frame;
	size_t len;
	int rc;

	u->st.datagrams++;
	u->st.bytes += n;
	if (fc_dgram_decode(u->in, n, &d) < 0) {
		u->st.refused_bad++;
		return 0;
	}
	if (!u->started || d.conn != u->conn) {
		u->st.refused_conn++;
		return 0;
	}
	if (d.type == FC_DGRAM_T_NACK) {
		u->st.refused_type++;
		return 0;
	}
	if (!fc_udp_same(from, &u->peer)) {
		u->peer = *from;
		u->st.moved++;
	}
	u->st.keepalives += d.type == FC_DGRAM_T_KEEPALIVE;
	/* The reassembler has no word for "the sender forgot it": its deadline gives it up. */
	u->st.forgotten += d.type == FC_DGRAM_T_GIVEUP;
	if (d.type != FC_DGRAM_T_CHUNK)
		return 0;
	rc = fc_reasm_add(u->reasm, &d, now_ns, &frame, &len);
	if (rc == FC_REASM_STORED || rc == FC_REASM_COMPLETE)
		timed(u, &d, now_ns);
	if (rc == FC_REASM_TOO_LARGE)
		u->st.refused_frame++;
	if (rc != FC_REASM_COMPLETE)
		return 0;
	return whole(u, frame, len, d.seq, m, first_ns, gap_ns);
}

int fc_udprecv_read(struct fc_udprecv *u, struct fc_msg *m, uint64_t *first_ns, uint64_t *gap_ns)
{
	for (int i = 0; i < READ_BATCH; i++) {
		struct fc_udp_peer from;
		long n = fc_udp_recv(u->fd, u->in, sizeof(u->in) - 1, &from);

		if (n <= 0)
			return n < 0 ? -1 : 0;
		/* Read after the datagram: never earlier than its arrival. */
		if (take(u, (size_t)n, &from, fc_clock_now_ns(), m, first_ns, gap_ns))
			return 1;
	}
	return 0;
}

/* The least of the recent round trips: a repair can take no less. */
static uint64_t rtt_now(const struct fc_udprecv *u)
{
	uint64_t least = UINT64_MAX;

	for (unsigned i = 0; i < u->nrtt; i++)
		if (u->rtt[i] < least)
			least = u->rtt[i];
	return u->nrtt ? least : RTT_FIRST_NS;
}

size_t fc_udprecv_poll(struct fc_udprecv *u, uint64_t now_ns, uint64_t budget_ns,
		       struct fc_udprecv_lost *gave, size_t cap)
{
	struct fc_dgram out[OUT_BATCH];
	size_t n, lost = 0;

	do {
		n = fc_reasm_poll(u->reasm, now_ns, budget_ns, rtt_now(u), REORDER_NS, out,
				  OUT_BATCH);
		for (size_t i = 0; i < n; i++) {
			struct ftime *t = timing(u, out[i].seq, false);

			if (out[i].type == FC_DGRAM_T_NACK && t)
				t->nacked = true;
			if (out[i].type == FC_DGRAM_T_GIVEUP && lost < cap)
				gave[lost++] = (struct fc_udprecv_lost){ .seq = out[i].seq,
									 .id = t ? t->id : 0 };
		}
		send_out(u, out, n, now_ns);
	} while (n == OUT_BATCH);
	if (u->started && now_ns - u->last_out_ns >= KEEPALIVE_NS) {
		struct fc_dgram k = { .type = FC_DGRAM_T_KEEPALIVE };

		send_out(u, &k, 1, now_ns);
	}
	return lost;
}

uint64_t fc_udprecv_next_ns(const struct fc_udprecv *u, uint64_t budget_ns)
{
	uint64_t next = fc_reasm_next_ns(u->reasm, budget_ns, REORDER_NS);
	uint64_t keep = u->last_out_ns + KEEPALIVE_NS;

	return next < keep ? next : keep;
}

void fc_udprecv_rtt(struct fc_udprecv *u, uint64_t sample_ns)
{
	u->rtt[u->rtt_next] = sample_ns;
	u->rtt_next = (u->rtt_next + 1) % RTT_SAMPLES;
	if (u->nrtt < RTT_SAMPLES)
		u->nrtt++;
}

void fc_udprecv_stats(const struct fc_udprecv *u, struct fc_udprecv_stats *out)
{
	struct fc_reasm_stats r;

	fc_reasm_stats(u->reasm, &r);
	*out = u->st;
	out->duplicates = r.duplicate;
	out->old = r.old;
	out->conflicts = r.conflict;
	out->whole = r.complete;
	out->given_up_late = r.late;
	out->given_up_evicted = r.evicted;
	out->nacks = r.nacks;
	out->asked = r.asked;
	out->rtt_us = rtt_now(u) / 1000;
}
