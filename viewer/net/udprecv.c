#include "udprecv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dgram.h"
#include "dgram_seal.h"
#include "reasm.h"
#include "udp.h"

/* Frames in assembly at once: a window of requests answered back to back, with room for the
 * repair of one while the next come (each frame's buffer grown to its size and kept). */
#define ASSEMBLY 8
/* Frames whose timing is kept: those in assembly and a few just done. */
#define TIMES 32
/* How long the last chunks of a frame may lag before they count as lost: reordering on a path is
 * a millisecond or two (docs/UDP.md, "When a chunk is lost"), and a sender pacing a slow link
 * spaces its chunks out: three times the usual spacing of a frame's chunks, within these. */
#define REORDER_MIN_NS (3 * FC_NS_PER_MS)
#define REORDER_MAX_NS (15 * FC_NS_PER_MS)
/* The round trip before any frame measured one: NACKs go no more often than this. */
#define RTT_FIRST_NS (20 * FC_NS_PER_MS)
/* Round trips remembered for the least. */
#define RTT_SAMPLES  16
#define KEEPALIVE_NS (15ull * FC_NS_PER_S)
/* A LOSS report goes this often while frames come, for the sender's parity count (fec.h). */
#define LOSS_EVERY_NS (250 * FC_NS_PER_MS)
/* Datagrams read in one call, at most: the TCP side must not wait behind a flood. */
#define READ_BATCH 256
#define OUT_BATCH  16

/* One frame's timing, first chunk to whole, for its VERDICT. */
struct ftime {
	uint64_t seq; /* 0: free */
	uint32_t id;  /* the request its chunk 0 answers; 0 until chunk 0 came */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t gap_ns;	    /* the longest silence between two of its chunks */
	struct fc_dgram_nack asked; /* the chunks its last NACK asked for (n 0: none) */
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
	uint64_t loss_ns;	       /* the last LOSS report */
	struct fc_dgram_loss reported; /* the reassembler's loss counts it covered */
	uint64_t spacing_ns; /* the usual time between two chunks of a frame (a moving average) */
	struct fc_udprecv_stats st;
	bool sealed;	      /* a private stream: every datagram sealed both ways */
	struct fc_dseal seal; /* its keys, numbers and replay window */
	uint8_t in[FC_DSEAL_MAX_SIZE + 1];
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
	fc_dseal_wipe(&u->seal);
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

static struct fc_dseal *seal_of(struct fc_udprecv *u)
{
	return u->sealed ? &u->seal : NULL;
}

/* Sends n datagrams, their conn set here; a loss on the way out is one more loss. */
static void send_out(struct fc_udprecv *u, struct fc_dgram *d, size_t n, uint64_t now_ns)
{
	uint8_t buf[OUT_BATCH][FC_DGRAM_HEAD + 1 + 4 * FC_DGRAM_MAX_RANGES + FC_DSEAL_OVERHEAD];
	uint8_t *bufs[OUT_BATCH];
	size_t lens[OUT_BATCH];
	unsigned k = 0;

	for (size_t i = 0; i < n && k < OUT_BATCH; i++) {
		d[i].conn = u->conn;
		lens[k] = fc_dseal_encode(seal_of(u), &d[i], buf[k], sizeof(buf[k]));
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
	struct fc_hello_auth sealing = *auth;
	uint8_t keys[2][FC_SECURE_KEY_SIZE];
	int rc;

	*udp = NULL;
	if (!u)
		return -1;
	hello.flags |= FC_HELLO_UDP;
	hello.udp_port = u->port;
	/* A private stream's datagrams are sealed, with keys from the same HELLOs (docs/UDP.md). */
	sealing.dgram_keys = auth->psk ? keys : NULL;
	rc = fc_hello_exchange_auth(conn, &hello, &sealing, theirs, timeout_ms, err, errlen);
	if (rc == 0 && auth->psk) {
		fc_dseal_init(&u->seal, keys[0], keys[1]);
		u->sealed = true;
	}
	explicit_bzero(keys, sizeof(keys));
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
	else
		u->spacing_ns = (7 * u->spacing_ns + (now_ns - t->last_ns)) / 8;
	if (now_ns - t->last_ns > t->gap_ns)
		t->gap_ns = now_ns - t->last_ns;
	t->last_ns = now_ns;
	if (d->type != FC_DGRAM_T_CHUNK)
		return;
	if (d->u.chunk.index == 0)
		t->id = d->u.chunk.fixed.id;
	for (int i = 0; i < t->asked.n; i++)
		if (d->u.chunk.index >= t->asked.r[i].first &&
		    d->u.chunk.index - t->asked.r[i].first < t->asked.r[i].len)
			u->st.repaired++;
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
	bool newest = true;
	int rc;

	u->st.datagrams++;
	u->st.bytes += n;
	rc = u->started ? fc_dseal_receive(seal_of(u), u->in, &n, &newest) : 0;
	if (rc < 0) {
		/* Anyone can send a datagram: one that does not open is counted, never fatal. */
		u->st.refused_unopened += rc != -FC_DSEAL_E_REPLAY && rc != -FC_DSEAL_E_OLD;
		u->st.refused_replayed += rc == -FC_DSEAL_E_REPLAY || rc == -FC_DSEAL_E_OLD;
		return 0;
	}
	if (fc_dgram_decode(u->in, n, &d) < 0) {
		u->st.refused_bad++;
		return 0;
	}
	if (!u->started || d.conn != u->conn) {
		u->st.refused_conn++;
		return 0;
	}
	if (d.type == FC_DGRAM_T_NACK || d.type == FC_DGRAM_T_LOSS) {
		u->st.refused_type++;
		return 0;
	}
	if (newest && !fc_udp_same(from, &u->peer)) {
		u->peer = *from;
		u->st.moved++;
	}
	u->st.keepalives += d.type == FC_DGRAM_T_KEEPALIVE;
	if (d.type == FC_DGRAM_T_GIVEUP) {
		u->st.forgotten++;
		fc_reasm_forget(u->reasm, d.seq);
	}
	if (d.type != FC_DGRAM_T_CHUNK && d.type != FC_DGRAM_T_PARITY)
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

		if (n == FC_UDP_NONE)
			return 0;
		if (n < 0)
			return -1;
		/* Read after the datagram: never earlier than its arrival. */
		if (take(u, (size_t)n, &from, fc_clock_now_ns(), m, first_ns, gap_ns))
			return 1;
	}
	return 0;
}

static uint64_t reorder(const struct fc_udprecv *u)
{
	uint64_t r = 3 * u->spacing_ns;

	return r < REORDER_MIN_NS ? REORDER_MIN_NS : r > REORDER_MAX_NS ? REORDER_MAX_NS : r;
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

/* Every LOSS_EVERY_NS (the first loss at once) while frames leave assembly: their data chunks
 * since the last report, the ones lost and their runs (reasm.h), so that the sender's --fec auto
 * sizes the parity. */
static void report_loss(struct fc_udprecv *u, uint64_t now_ns)
{
	struct fc_dgram d = { .type = FC_DGRAM_T_LOSS };
	struct fc_reasm_stats r;
	bool first;

	fc_reasm_stats(u->reasm, &r);
	/* The first loss is told at once: until the sender hears of one, --fec auto sends no parity,
	 * and at a long round trip each frame that loses a chunk before then is given up. */
	first = u->reported.chunks == 0 && r.lost_chunks > 0;
	if (!u->started || (!first && now_ns - u->loss_ns < LOSS_EVERY_NS))
		return;
	d.u.loss = (struct fc_dgram_loss){ (uint32_t)r.frame_chunks - u->reported.chunks,
					   (uint32_t)r.lost_chunks - u->reported.lost,
					   (uint32_t)r.lost_runs - u->reported.runs };
	u->loss_ns = now_ns;
	if (d.u.loss.chunks == 0)
		return;
	u->reported = (struct fc_dgram_loss){ (uint32_t)r.frame_chunks, (uint32_t)r.lost_chunks,
					      (uint32_t)r.lost_runs };
	send_out(u, &d, 1, now_ns);
}

size_t fc_udprecv_poll(struct fc_udprecv *u, uint64_t now_ns, uint64_t budget_ns,
		       struct fc_udprecv_lost *gave, size_t cap)
{
	struct fc_dgram out[OUT_BATCH];
	size_t n, lost = 0;

	do {
		n = fc_reasm_poll(u->reasm, now_ns, budget_ns, rtt_now(u), reorder(u), out,
				  OUT_BATCH);
		for (size_t i = 0; i < n; i++) {
			struct ftime *t = timing(u, out[i].seq, false);

			if (out[i].type == FC_DGRAM_T_NACK && t)
				t->asked = out[i].u.nack;
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
	report_loss(u, now_ns);
	return lost;
}

uint64_t fc_udprecv_next_ns(const struct fc_udprecv *u, uint64_t budget_ns)
{
	uint64_t next = fc_reasm_next_ns(u->reasm, budget_ns, reorder(u));
	uint64_t keep = u->last_out_ns + KEEPALIVE_NS, loss = u->loss_ns + LOSS_EVERY_NS;

	if (fc_reasm_pending(u->reasm) > 0 && loss < keep)
		keep = loss;
	return next < keep ? next : keep;
}

void fc_udprecv_rtt(struct fc_udprecv *u, uint64_t sample_ns)
{
	u->rtt[u->rtt_next] = sample_ns;
	u->rtt_next = (u->rtt_next + 1) % RTT_SAMPLES;
	if (u->nrtt < RTT_SAMPLES)
		u->nrtt++;
}

void fc_udprecv_refuse_frame(struct fc_udprecv *u)
{
	u->st.refused_frame++;
}

void fc_udprecv_offset(struct fc_udprecv *u, bool known, int64_t hi_ns)
{
	fc_reasm_offset(u->reasm, known, hi_ns);
}

void fc_udprecv_stats(const struct fc_udprecv *u, struct fc_udprecv_stats *out)
{
	struct fc_reasm_stats r;

	fc_reasm_stats(u->reasm, &r);
	*out = u->st;
	out->sealed = u->sealed;
	out->duplicates = r.duplicate;
	out->old = r.old;
	out->conflicts = r.conflict;
	out->whole = r.complete;
	out->given_up_late = r.late;
	out->given_up_evicted = r.evicted;
	out->nacks = r.nacks;
	out->asked = r.asked;
	out->parity = r.parity;
	out->rebuilt = r.rebuilt;
	out->rebuilt_chunks = r.rebuilt_chunks;
	out->rtt_us = rtt_now(u) / 1000;
}
