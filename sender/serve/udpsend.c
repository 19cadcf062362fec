#include "udpsend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dgram.h"
#include "dgram_seal.h"
#include "fec.h"
#include "resend.h"
#include "udp.h"

/* What is kept for repairs: a few frames of the largest common sizes (a 1080p JPEG is about
 * 300 KB; only frames younger than the budget are of use, three at 30 fps and 80 ms). */
#define RESEND_BYTES  (8u << 20)
#define RESEND_FRAMES 64
/* Datagrams handed to the kernel at once, between two looks at the pacing clock, at most; fewer
 * on a slow link, so that a burst lasts about BURST_NS there: the viewer takes a silence of a few
 * milliseconds in a frame's chunks for a lost tail (reasm.h). */
#define BURST	 16
#define BURST_NS (1 * FC_NS_PER_MS)
/* Chunks are paced at this multiple of the link's rate as the link adaptation measures it. Not
 * below 1, as docs/UDP.md first planned (0.9): that rate is measured from how fast each frame's
 * chunks came (adapt.c, the VERDICT's recv_us), so a pace below it would make every frame come
 * slower than the last, and the estimate would shrink frame after frame. A little above it, a
 * link that is faster shows itself (the estimate grows), and one that is not spreads the chunks
 * at its own rate, with a queue of a fifth of a frame at most. */
#define PACE_GAIN 1.25
#define SLOT	  (FC_DGRAM_CHUNK_HEAD + FC_DGRAM_CHUNK) /* one datagram's room */
/* --fec auto: parity for this share of frames whole at the viewer's reported loss, adding at
 * most this share of chunks (docs/UDP.md, "Choosing m"). */
#define FEC_TARGET	 0.99
#define FEC_MAX_OVERHEAD 0.25
/* The viewer's LOSS reports the estimate spans: 2 s at its one every 250 ms. */
#define LOSS_WINDOW 8
/* Frames repaired lately, remembered for their VERDICTs: more than can be in flight. */
#define REPAIRED 64

struct fc_udpsend {
	int fd;
	uint16_t port;
	uint32_t conn;
	bool started;		 /* the viewer asked for UDP: peer is set */
	struct fc_udp_peer peer; /* where datagrams go: the viewer's last known address */
	struct fc_resend *rs;
	uint8_t *msg; /* one FRAME message encoded, grown to the largest and kept */
	size_t msg_cap;
	uint8_t dg[BURST][SLOT]; /* a burst of datagrams on their way out */
	uint8_t in[FC_DSEAL_MAX_SIZE + 1];
	uint64_t last_out_ns; /* the last datagram sent, for the keep-alive */
	int fec_mode;	      /* parity chunks a frame, FC_UDPSEND_FEC_AUTO, or 0 */
	struct fc_fec *fec;   /* scratch for computing parity */
	uint8_t *parity;      /* a frame's parity chunks, FC_FEC_MAX_PARITY of FC_DGRAM_CHUNK */
	double loss, burst;   /* the viewer's reported loss rate and mean burst (auto) */
	struct fc_dgram_loss window[LOSS_WINDOW]; /* its latest reports, a ring */
	unsigned window_at;
	uint64_t repaired[REPAIRED]; /* seqs of frames a NACK was answered for, a ring */
	unsigned repaired_at;
	struct fc_udpsend_stats st;
	bool sealed;	      /* a private stream: every datagram sealed both ways */
	struct fc_dseal seal; /* its keys, numbers and replay window */
	uint32_t chunk;	      /* the chunk size: FC_DGRAM_CHUNK, FC_DSEAL_CHUNK sealed */
};

struct fc_udpsend *fc_udpsend_new(int tcp_fd, char *err, size_t errlen)
{
	struct fc_udpsend *u = calloc(1, sizeof(*u));

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->fd = -1;
	u->chunk = FC_DGRAM_CHUNK;
	u->fd = fc_udp_open(tcp_fd, 0, &u->port, err, errlen);
	if (u->fd < 0)
		goto fail;
	u->rs = fc_resend_new(RESEND_BYTES, RESEND_FRAMES, err, errlen);
	if (!u->rs)
		goto fail;
	u->fec_mode = FC_UDPSEND_FEC_AUTO;
	u->fec = fc_fec_new(err, errlen);
	u->parity = malloc((size_t)FC_FEC_MAX_PARITY * FC_DGRAM_CHUNK);
	if (!u->fec || !u->parity) {
		snprintf(err, errlen, "out of memory for parity chunks");
		goto fail;
	}
	/* Random, so that a stale datagram of an earlier connection to the same ports, or a
	 * guess, is not taken as this one's; 0 is not an id. */
	while (u->conn == 0)
		if (getrandom(&u->conn, sizeof(u->conn), 0) != sizeof(u->conn))
			u->conn = (uint32_t)fc_clock_now_ns() ^ (uint32_t)getpid();
	return u;
fail:
	fc_udpsend_free(u);
	return NULL;
}

void fc_udpsend_free(struct fc_udpsend *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	fc_resend_free(u->rs);
	fc_fec_free(u->fec);
	free(u->parity);
	free(u->msg);
	fc_dseal_wipe(&u->seal);
	free(u);
}

uint16_t fc_udpsend_port(const struct fc_udpsend *u)
{
	return u->port;
}

uint32_t fc_udpsend_conn(const struct fc_udpsend *u)
{
	return u->conn;
}

int fc_udpsend_fd(const struct fc_udpsend *u)
{
	return u->fd;
}

void fc_udpsend_seal(struct fc_udpsend *u, const uint8_t tx[FC_DSEAL_KEY_SIZE],
		     const uint8_t rx[FC_DSEAL_KEY_SIZE])
{
	fc_dseal_init(&u->seal, tx, rx);
	u->sealed = true;
	u->chunk = FC_DSEAL_CHUNK; /* a sealed datagram is as large as a plain one at 1200 */
}

static struct fc_dseal *seal_of(struct fc_udpsend *u)
{
	return u->sealed ? &u->seal : NULL;
}

/* Sends the first n datagrams of the burst buffer. -1 with err on a socket error. */
static int flush(struct fc_udpsend *u, const size_t *lens, unsigned n, uint64_t now_ns, char *err,
		 size_t errlen)
{
	uint8_t *bufs[BURST];
	int sent;

	for (unsigned i = 0; i < n; i++)
		bufs[i] = u->dg[i];
	sent = fc_udp_send(u->fd, &u->peer, bufs, lens, n);
	if (sent < 0) {
		char where[80];

		snprintf(err, errlen, "UDP to %s: %s",
			 fc_udp_peer_str(&u->peer, where, sizeof(where)), strerror(errno));
		return -1;
	}
	for (int i = 0; i < sent; i++)
		u->st.bytes += lens[i];
	u->st.datagrams += (uint64_t)sent;
	u->st.dropped += n - (unsigned)sent;
	u->last_out_ns = now_ns;
	return 0;
}

static int send_one(struct fc_udpsend *u, const struct fc_dgram *d, uint64_t now_ns, char *err,
		    size_t errlen)
{
	size_t len = fc_dseal_encode(seal_of(u), d, u->dg[0], SLOT);

	return len ? flush(u, &len, 1, now_ns, err, errlen) : 0;
}

int fc_udpsend_start(struct fc_udpsend *u, int tcp_fd, uint16_t port, uint64_t now_ns, char *err,
		     size_t errlen)
{
	struct fc_dgram k = { .type = FC_DGRAM_T_KEEPALIVE, .conn = u->conn };

	if (fc_udp_peer_of(tcp_fd, port, &u->peer, err, errlen) < 0)
		return -1;
	u->started = true;
	return send_one(u, &k, now_ns, err, errlen);
}

/* Waits until the pacing clock says `bytes` may have left since start_ns, at rate but within
 * max_ns of the start. */
static void pace(uint64_t start_ns, uint64_t bytes, double rate, uint64_t max_ns)
{
	uint64_t due;
	struct timespec ts;

	if (rate <= 0)
		return;
	due = (uint64_t)((double)bytes / (rate * PACE_GAIN) * 1e9);
	if (due > max_ns)
		due = max_ns;
	due += start_ns;
	ts = (struct timespec){ .tv_sec = (time_t)(due / FC_NS_PER_S),
				.tv_nsec = (long)(due % FC_NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void fc_udpsend_fec(struct fc_udpsend *u, int n)
{
	u->fec_mode = n;
}

/* Parity chunks for a frame of count data chunks, computed into u->parity: the fixed number, or
 * (auto) what the viewer's reported loss needs (fec.h); at most one a data chunk. */
static uint32_t make_parity(struct fc_udpsend *u, const uint8_t *frame, uint32_t total,
			    uint32_t chunk_size, uint32_t count)
{
	uint32_t m = u->fec_mode == FC_UDPSEND_FEC_AUTO
			 ? fc_fec_choose(count, u->loss, u->burst, FEC_TARGET, FEC_MAX_OVERHEAD)
			 : (uint32_t)u->fec_mode;

	if (m > count)
		m = count;
	if (m > 0 && fc_fec_encode(u->fec, frame, total, chunk_size, m, u->parity) < 0)
		m = 0;
	u->st.fec_m = m;
	return m;
}

/* Datagram i of a frame of count data chunks and m parity chunks: a CHUNK, then the PARITYs. */
static struct fc_dgram frame_dgram(const struct fc_udpsend *u, uint64_t seq, const uint8_t *frame,
				   uint32_t total, uint32_t chunk_size, uint32_t count, uint32_t m,
				   uint32_t i)
{
	uint32_t off = i * chunk_size;
	struct fc_dgram d = { .type = FC_DGRAM_T_CHUNK, .conn = u->conn, .seq = seq };

	if (i >= count) {
		d.type = FC_DGRAM_T_PARITY;
		d.u.parity = (struct fc_dgram_parity){
			.index = (uint16_t)(i - count),
			.m = (uint16_t)m,
			.k = (uint16_t)count,
			.total = total,
			.chunk_size = (uint16_t)chunk_size,
			.data = u->parity + (size_t)(i - count) * chunk_size,
		};
		return d;
	}
	d.u.chunk = (struct fc_dgram_chunk){
		.index = (uint16_t)i,
		.count = (uint16_t)count,
		.total = total,
		.offset = off,
		.chunk_size = (uint16_t)chunk_size,
		.data = frame + off,
		.size = total - off < chunk_size ? total - off : chunk_size,
	};
	return d;
}

/*
 * One frame's chunks: the FRAME payload frame[0..total) of frame seq, cut at chunk_size, in index
 * order (the viewer takes a gap before a later chunk for a loss), then its parity chunks (fec.h),
 * all in bursts paced at rate, over max_ns at most: however low the rate estimate, a frame paced
 * longer would be late with the round trip added, and a late frame measures nothing, so the
 * estimate could never grow back (seen with a cap of 50 ms on a busy host: 0.14 Mbit/s, every
 * frame late for seconds). -1 with err on a socket error.
 */
static int send_chunks(struct fc_udpsend *u, uint64_t seq, const uint8_t *frame, uint32_t total,
		       uint32_t chunk_size, double rate, uint64_t max_ns, char *err, size_t errlen)
{
	uint32_t count = fc_dgram_count(total, chunk_size);
	uint32_t all = count + make_parity(u, frame, total, chunk_size, count);
	uint64_t start = fc_clock_now_ns();
	uint64_t bytes = 0;
	size_t lens[BURST];
	unsigned n = 0;
	double per_burst = rate * PACE_GAIN * ((double)BURST_NS / 1e9) / SLOT;
	unsigned burst = rate <= 0 || per_burst >= BURST ? BURST
			 : per_burst < 1		 ? 1
							 : (unsigned)per_burst;

	for (uint32_t i = 0; i < all; i++) {
		struct fc_dgram d =
		    frame_dgram(u, seq, frame, total, chunk_size, count, all - count, i);

		lens[n] = fc_dseal_encode(seal_of(u), &d, u->dg[n], SLOT);
		bytes += lens[n];
		u->st.parity += i >= count && lens[n];
		if (lens[n] && ++n < burst && i + 1 < all)
			continue;
		if (flush(u, lens, n, fc_clock_now_ns(), err, errlen) < 0)
			return -1;
		n = 0;
		if (i + 1 < all)
			pace(start, bytes, rate, max_ns);
	}
	return 0;
}

int fc_udpsend_frame(struct fc_udpsend *u, const struct fc_msg *m, double rate, uint64_t max_ns,
		     uint64_t now_ns, char *err, size_t errlen)
{
	size_t need = FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED + m->u.frame.jpeg_size;
	size_t len;

	if (need > u->msg_cap) {
		uint8_t *p = realloc(u->msg, need);

		if (!p) {
			snprintf(err, errlen, "out of memory for a %zu-byte frame", need);
			return -1;
		}
		u->msg = p;
		u->msg_cap = need;
	}
	len = fc_proto_encode(m, u->msg, u->msg_cap);
	if (len <= FC_PROTO_HEADER_SIZE) {
		snprintf(err, errlen, "frame %llu cannot be encoded",
			 (unsigned long long)m->u.frame.seq);
		return -1;
	}
	len -= FC_PROTO_HEADER_SIZE;
	u->st.frames++;
	if (send_chunks(u, m->u.frame.seq, u->msg + FC_PROTO_HEADER_SIZE, (uint32_t)len, u->chunk,
			rate, max_ns, err, errlen) < 0)
		return -1;
	/* Not kept (too large for the store): sent once, and a NACK for it gets a GIVEUP. */
	(void)fc_resend_keep(u->rs, m->u.frame.seq, u->msg + FC_PROTO_HEADER_SIZE, (uint32_t)len,
			     u->chunk, now_ns, m->u.frame.age_ns);
	return 0;
}

/* Answers a NACK: every chunk it lists that is still kept, in bursts; a GIVEUP (forgotten) for a
 * frame no longer kept; nothing for chunks the frame does not have (a NACK that lies). */
static int answer_nack(struct fc_udpsend *u, const struct fc_dgram *k, uint64_t now_ns, char *err,
		       size_t errlen)
{
	size_t lens[BURST];
	unsigned n = 0;

	u->st.nacks++;
	for (int r = 0; r < k->u.nack.n; r++) {
		for (uint32_t i = k->u.nack.r[r].first;
		     i < (uint32_t)k->u.nack.r[r].first + k->u.nack.r[r].len; i++) {
			struct fc_dgram d;
			int rc = fc_resend_chunk(u->rs, k->seq, i, &d);

			if (rc == -1) {
				struct fc_dgram g = { .type = FC_DGRAM_T_GIVEUP,
						      .conn = u->conn,
						      .seq = k->seq,
						      .u.reason = FC_GIVEUP_FORGOTTEN };

				u->st.forgotten++;
				return send_one(u, &g, now_ns, err, errlen);
			}
			if (rc < 0)
				return 0;
			d.conn = u->conn;
			lens[n] = fc_dseal_encode(seal_of(u), &d, u->dg[n], SLOT);
			if (!lens[n])
				continue;
			u->st.repaired++;
			if (u->repaired[(u->repaired_at + REPAIRED - 1) % REPAIRED] != k->seq)
				u->repaired[u->repaired_at++ % REPAIRED] = k->seq;
			if (++n == BURST) {
				if (flush(u, lens, n, now_ns, err, errlen) < 0)
					return -1;
				n = 0;
			}
		}
	}
	return n ? flush(u, lens, n, now_ns, err, errlen) : 0;
}

/* A LOSS report from the viewer: the loss and its mean burst over the latest few (fec.h). */
static void take_loss(struct fc_udpsend *u, const struct fc_dgram_loss *l)
{
	uint64_t chunks = 0, lost = 0, runs = 0;

	u->window[u->window_at++ % LOSS_WINDOW] = *l;
	for (unsigned i = 0; i < LOSS_WINDOW; i++) {
		chunks += u->window[i].chunks;
		lost += u->window[i].lost;
		runs += u->window[i].runs;
	}
	u->loss = chunks ? (double)lost / (double)chunks : 0;
	u->burst = runs ? (double)lost / (double)runs : 1;
	u->st.loss_ppm = (uint32_t)(u->loss * 1e6);
}

int fc_udpsend_input(struct fc_udpsend *u, uint64_t now_ns, char *err, size_t errlen)
{
	/* A bounded batch: a flood of datagrams must not keep the session from its TCP side. */
	for (int i = 0; i < 64; i++) {
		struct fc_udp_peer from;
		struct fc_dgram d;
		long n = fc_udp_recv(u->fd, u->in, sizeof(u->in) - 1, &from);
		size_t len = n > 0 ? (size_t)n : 0;
		bool newest;

		if (n == FC_UDP_NONE)
			return 0;
		if (n < 0) {
			snprintf(err, errlen, "UDP: %s", strerror(errno));
			return -1;
		}
		if (u->started && fc_dseal_receive(seal_of(u), u->in, &len, &newest) < 0) {
			u->st.unopened++; /* anyone can send one: counted, never fatal */
			continue;
		}
		if (!u->started || fc_dgram_decode(u->in, len, &d) < 0 || d.conn != u->conn ||
		    d.type == FC_DGRAM_T_CHUNK || d.type == FC_DGRAM_T_PARITY) {
			u->st.refused++;
			continue;
		}
		if (newest && !fc_udp_same(&from, &u->peer)) {
			u->peer = from;
			u->st.moved++;
		}
		if (d.type == FC_DGRAM_T_NACK && answer_nack(u, &d, now_ns, err, errlen) < 0)
			return -1;
		if (d.type == FC_DGRAM_T_GIVEUP) {
			u->st.giveups++;
			fc_resend_forget(u->rs, d.seq);
		}
		if (d.type == FC_DGRAM_T_LOSS)
			take_loss(u, &d.u.loss);
	}
	return 0;
}

uint64_t fc_udpsend_tick(struct fc_udpsend *u, uint64_t now_ns, uint64_t budget_ns)
{
	struct fc_dgram k = { .type = FC_DGRAM_T_KEEPALIVE, .conn = u->conn };
	char err[160];

	fc_resend_expire(u->rs, now_ns, budget_ns);
	if (u->started && now_ns - u->last_out_ns >= FC_UDPSEND_KEEPALIVE_NS)
		(void)send_one(u, &k, now_ns, err, sizeof(err)); /* a lost one is sent again */
	return u->last_out_ns + FC_UDPSEND_KEEPALIVE_NS;
}

void fc_udpsend_accepted(struct fc_udpsend *u, uint64_t seq)
{
	fc_resend_accepted(u->rs, seq);
}

bool fc_udpsend_repaired(const struct fc_udpsend *u, uint64_t seq)
{
	for (unsigned i = 0; i < REPAIRED; i++)
		if (u->repaired[i] == seq && seq != 0)
			return true;
	return false;
}

void fc_udpsend_stats(const struct fc_udpsend *u, struct fc_udpsend_stats *out)
{
	*out = u->st;
}
