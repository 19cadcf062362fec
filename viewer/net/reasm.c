/* reasm: frames from chunks, repaired only while they can be in time (reasm.h, docs/UDP.md). */
#include "reasm.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fec.h"

/* Frames given up whose late chunks are still recognised (and dropped) as such; with the
 * newest complete seq, enough to refuse the stragglers of the last few frames. */
#define GONE	64
#define NOTICES 32 /* GIVEUPs waiting for the next poll; older ones are dropped */
/* NACKs for one frame are at least this far apart, whatever the round trip estimate says (an
 * estimate of 0 on loopback must not make a NACK at every poll). */
#define MIN_RENACK_NS 1000000ull

struct slot {
	bool used;
	uint64_t seq;
	uint32_t total;
	uint16_t count;
	uint16_t chunk_size;
	uint32_t have;	  /* chunks in */
	uint32_t highest; /* the highest index in, plus one: chunks below it and not in are lost */
	uint8_t *buf;	  /* the FRAME message: header, then the payload at its offsets, and room
			   * for the last chunk's padding (fec.h); kept */
	size_t cap;
	uint8_t *map; /* a bit per chunk: in or not; kept */
	size_t mapcap;
	uint16_t m;	   /* parity chunks of the frame, from its first PARITY; 0: none came */
	uint32_t phave;	   /* parity chunks in */
	uint32_t phighest; /* the highest parity index in, plus one */
	uint8_t *parity;   /* m x chunk_size bytes; kept */
	size_t pcap;
	uint8_t pmap[(FC_FEC_MAX_PARITY + 7) / 8]; /* a bit per parity chunk */
	uint64_t first_ns;			   /* arrival of its first chunk */
	uint64_t last_ns;			   /* arrival of its latest chunk */
	bool fixed_known;			   /* chunk 0 is in: the FRAME's fields below are */
	struct fc_frame_msg fixed;
	uint64_t nack_due; /* the last NACK's answer is due; 0: none asked */
};

struct fc_reasm {
	unsigned n;
	uint32_t max_frame;
	struct slot *slots;
	struct fc_fec *fec;  /* scratch for rebuilding frames from their parity */
	uint16_t last_m;     /* the parity count of the latest frame that had parity: what a frame
			      * whose parity has not come yet may expect */
	uint64_t done;	     /* the newest complete frame's seq: older ones are dropped */
	bool offset_known;   /* the clocks' offset is proven: its upper limit below */
	int64_t offset_hi;   /* the sender's clock less ours, at most (fc_reasm_offset) */
	uint64_t gone[GONE]; /* frames given up, a ring */
	unsigned gone_at;
	struct fc_dgram notice[NOTICES]; /* GIVEUPs for the next poll, a ring */
	unsigned notice_at, notices;
	struct fc_reasm_stats st;
};

struct fc_reasm *fc_reasm_new(unsigned frames, uint32_t max_frame, char *err, size_t errlen)
{
	struct fc_reasm *r = NULL;

	if (frames < 1 || frames > FC_REASM_MAX_FRAMES || max_frame < FC_PROTO_FRAME_FIXED ||
	    max_frame > FC_DGRAM_MAX_FRAME) {
		snprintf(err, errlen,
			 "reassembly of %u frames of %u bytes: out of bounds (1..%d "
			 "frames, %d..%d bytes)",
			 frames, max_frame, FC_REASM_MAX_FRAMES, FC_PROTO_FRAME_FIXED,
			 FC_DGRAM_MAX_FRAME);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->slots = calloc(frames, sizeof(*r->slots));
	if (r && r->slots)
		r->fec = fc_fec_new(err, errlen);
	if (!r || !r->slots || !r->fec) {
		snprintf(err, errlen, "reassembly of %u frames: out of memory", frames);
		if (r)
			free(r->slots);
		free(r);
		return NULL;
	}
	r->n = frames;
	r->max_frame = max_frame;
	return r;
}

void fc_reasm_free(struct fc_reasm *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		free(r->slots[i].buf);
		free(r->slots[i].map);
		free(r->slots[i].parity);
	}
	fc_fec_free(r->fec);
	free(r->slots);
	free(r);
}

static bool is_gone(const struct fc_reasm *r, uint64_t seq)
{
	for (unsigned i = 0; i < GONE; i++)
		if (r->gone[i] == seq)
			return true;
	return false;
}

static bool has(const struct slot *s, uint32_t i)
{
	return s->map[i / 8] & (1u << (i % 8));
}

/* The data chunks of s as it leaves assembly, for the loss the viewer reports (LOSS): how many,
 * how many were not in (rebuilt from parity, or never came), in how many runs. Only chunks known
 * to be lost count: those a later chunk overtook, and all of them once parity came (the data goes
 * first). The tail of a frame given up before it came was late, not lost: counted as lost, a busy
 * host's late frames would read as loss, and --fec auto would answer with parity that makes
 * every frame longer and later still. */
static void count_loss(struct fc_reasm *r, const struct slot *s)
{
	uint32_t end = s->phave > 0 ? s->count : s->highest;

	r->st.frame_chunks += end;
	if (s->have == end)
		return;
	r->st.lost_chunks += end - s->have;
	for (uint32_t i = 0; i < end; i++)
		r->st.lost_runs += !has(s, i) && (i == 0 || has(s, i - 1));
}

/* Frees s, remembering its seq so that its stragglers are dropped; reason 0 for a frame that
 * completed (nothing to tell), else a GIVEUP for the next poll. */
static void release(struct fc_reasm *r, struct slot *s, uint8_t reason)
{
	struct fc_dgram *g;

	count_loss(r, s);
	s->used = false;
	if (reason == 0)
		return;
	r->gone[r->gone_at++ % GONE] = s->seq;
	if (reason == FC_GIVEUP_LATE)
		r->st.late++;
	else
		r->st.evicted++;
	g = &r->notice[(r->notice_at + r->notices) % NOTICES];
	if (r->notices < NOTICES)
		r->notices++;
	else
		r->notice_at = (r->notice_at + 1) % NOTICES;
	*g = (struct fc_dgram){ .type = FC_DGRAM_T_GIVEUP, .seq = s->seq, .u.reason = reason };
}

/* A slot for a new frame: a free one, else the oldest in assembly, given up, if seq is newer
 * than it (an older frame than all of them is the one not to keep). NULL: drop the chunk. */
static struct slot *claim(struct fc_reasm *r, uint64_t seq)
{
	struct slot *oldest = NULL;

	for (unsigned i = 0; i < r->n; i++) {
		if (!r->slots[i].used)
			return &r->slots[i];
		if (!oldest || r->slots[i].seq < oldest->seq)
			oldest = &r->slots[i];
	}
	if (seq < oldest->seq)
		return NULL;
	release(r, oldest, FC_GIVEUP_EVICTED);
	return oldest;
}

/* A frame's geometry, as its chunks and its parity chunks both state it. */
struct geom {
	uint32_t total;
	uint16_t count;
	uint16_t chunk_size;
};

static struct geom geom_of(const struct fc_dgram *d)
{
	if (d->type == FC_DGRAM_T_PARITY)
		return (struct geom){ d->u.parity.total, d->u.parity.k, d->u.parity.chunk_size };
	return (struct geom){ d->u.chunk.total, d->u.chunk.count, d->u.chunk.chunk_size };
}

/* Room for a frame of geometry c in s, grown and kept: its chunks at their offsets, the last
 * one with room for its padding, which rebuilding from parity needs. */
static int make_room(struct slot *s, const struct geom *c)
{
	size_t need = FC_PROTO_HEADER_SIZE + (size_t)c->count * c->chunk_size;
	size_t bits = ((size_t)c->count + 7) / 8;

	if (s->cap < need) {
		uint8_t *p = realloc(s->buf, need);

		if (!p)
			return -1;
		s->buf = p;
		s->cap = need;
	}
	if (s->mapcap < bits) {
		uint8_t *p = realloc(s->map, bits);

		if (!p)
			return -1;
		s->map = p;
		s->mapcap = bits;
	}
	memset(s->map, 0, bits);
	return 0;
}

static struct slot *find(struct fc_reasm *r, uint64_t seq)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->slots[i].used && r->slots[i].seq == seq)
			return &r->slots[i];
	return NULL;
}

/* The slot of d's frame, a new one if need be; sets *res and returns NULL when the chunk is not
 * to be kept. */
static struct slot *slot_for(struct fc_reasm *r, const struct fc_dgram *d, uint64_t now_ns,
			     int *res)
{
	struct geom g = geom_of(d), *c = &g;
	struct slot *s = find(r, d->seq);

	if (s) {
		if (s->count != c->count || s->total != c->total || s->chunk_size != c->chunk_size)
			*res = FC_REASM_CONFLICT;
		return *res ? NULL : s;
	}
	if (d->seq <= r->done || is_gone(r, d->seq)) {
		*res = FC_REASM_OLD;
		return NULL;
	}
	if (c->total > r->max_frame) {
		*res = FC_REASM_TOO_LARGE;
		return NULL;
	}
	s = claim(r, d->seq);
	if (!s) {
		*res = FC_REASM_OLD;
		return NULL;
	}
	if (make_room(s, c) < 0) {
		*res = -1;
		return NULL;
	}
	*s = (struct slot){ .used = true,
			    .seq = d->seq,
			    .total = c->total,
			    .count = c->count,
			    .chunk_size = c->chunk_size,
			    .buf = s->buf,
			    .cap = s->cap,
			    .map = s->map,
			    .mapcap = s->mapcap,
			    .parity = s->parity,
			    .pcap = s->pcap,
			    .first_ns = now_ns };
	return s;
}

/* The frame in s is whole: the FRAME header before it, every older frame dropped. */
static void finish(struct fc_reasm *r, struct slot *s, const uint8_t **frame, size_t *len)
{
	fc_proto_encode_header(FC_MSG_FRAME, s->total, s->buf, FC_PROTO_HEADER_SIZE);
	*frame = s->buf;
	*len = FC_PROTO_HEADER_SIZE + (size_t)s->total;
	r->done = s->seq;
	r->st.complete++;
	release(r, s, 0);
	for (unsigned i = 0; i < r->n; i++)
		if (r->slots[i].used && r->slots[i].seq < r->done)
			release(r, &r->slots[i], FC_GIVEUP_EVICTED);
}

static bool has_parity(const struct slot *s, uint32_t p)
{
	return s->pmap[p / 8] & (1u << (p % 8));
}

/* A data chunk into its place. */
static int store_chunk(struct fc_reasm *r, struct slot *s, const struct fc_dgram_chunk *c)
{
	if (has(s, c->index)) {
		r->st.duplicate++;
		return FC_REASM_DUPLICATE;
	}
	s->map[c->index / 8] |= (uint8_t)(1u << (c->index % 8));
	memcpy(s->buf + FC_PROTO_HEADER_SIZE + c->offset, c->data, c->size);
	s->have++;
	if (c->index + 1u > s->highest)
		s->highest = c->index + 1u;
	if (c->index == 0) {
		s->fixed_known = true;
		s->fixed = c->fixed;
	}
	r->st.chunks++;
	return FC_REASM_STORED;
}

/* A parity chunk into its place; the first of a frame sets its m, which every other must
 * repeat (its geometry was checked by slot_for; a new slot starts with an empty pmap). */
static int store_parity(struct fc_reasm *r, struct slot *s, const struct fc_dgram_parity *q)
{
	size_t need = (size_t)q->m * s->chunk_size;

	if (s->m != 0 && s->m != q->m) {
		r->st.conflict++;
		return FC_REASM_CONFLICT;
	}
	if (s->m == 0 && s->pcap < need) {
		uint8_t *p = realloc(s->parity, need);

		if (!p)
			return -1;
		s->parity = p;
		s->pcap = need;
	}
	s->m = q->m;
	r->last_m = q->m;
	if (has_parity(s, q->index)) {
		r->st.duplicate++;
		return FC_REASM_DUPLICATE;
	}
	s->pmap[q->index / 8] |= (uint8_t)(1u << (q->index % 8));
	memcpy(s->parity + (size_t)q->index * s->chunk_size, q->data, s->chunk_size);
	s->phave++;
	if (q->index + 1u > s->phighest)
		s->phighest = q->index + 1u;
	r->st.parity++;
	return FC_REASM_STORED;
}

/*
 * Whether s is whole now: every chunk in, or enough parity in to rebuild the rest (fec.h).
 * A rebuilt frame whose FRAME fields proto.c refuses (chunk 0 rebuilt from parity that lied)
 * is given up, never handed out.
 */
static int try_finish(struct fc_reasm *r, struct slot *s, const uint8_t **frame, size_t *len)
{
	size_t n = FC_PROTO_HEADER_SIZE + (size_t)s->total;
	struct fc_msg m;
	int rebuilt;

	if (s->have < s->count) {
		if (s->m == 0 || s->have + s->phave < s->count)
			return FC_REASM_STORED;
		rebuilt = fc_fec_rebuild(r->fec, s->buf + FC_PROTO_HEADER_SIZE, s->total,
					 s->chunk_size, s->m, s->map, s->parity, s->pmap);
		if (rebuilt < 0)
			return FC_REASM_STORED; /* some group is short yet */
		fc_proto_encode_header(FC_MSG_FRAME, s->total, s->buf, FC_PROTO_HEADER_SIZE);
		if (fc_proto_decode(s->buf, n, &m, NULL) != (ssize_t)n) {
			r->st.conflict++;
			release(r, s, FC_GIVEUP_LATE);
			return FC_REASM_CONFLICT;
		}
		r->st.rebuilt++;
		r->st.rebuilt_chunks += (uint64_t)rebuilt;
	}
	finish(r, s, frame, len);
	return FC_REASM_COMPLETE;
}

int fc_reasm_add(struct fc_reasm *r, const struct fc_dgram *d, uint64_t now_ns,
		 const uint8_t **frame, size_t *len)
{
	int res = 0;
	struct slot *s;

	if (d->type != FC_DGRAM_T_CHUNK && d->type != FC_DGRAM_T_PARITY)
		return FC_REASM_CONFLICT;
	s = slot_for(r, d, now_ns, &res);
	if (!s) {
		/* The parity of a frame done with (whole before its parity came: most of them) still
		 * says how much parity frames carry now: without it, a frame that lost a chunk would
		 * expect none and be given up at once, though its parity was on the way. */
		if (d->type == FC_DGRAM_T_PARITY && res == FC_REASM_OLD)
			r->last_m = d->u.parity.m;
		r->st.old += res == FC_REASM_OLD;
		r->st.conflict += res == FC_REASM_CONFLICT;
		r->st.too_large += res == FC_REASM_TOO_LARGE;
		return res;
	}
	res = d->type == FC_DGRAM_T_CHUNK ? store_chunk(r, s, &d->u.chunk)
					  : store_parity(r, s, &d->u.parity);
	if (res != FC_REASM_STORED)
		return res;
	s->last_ns = now_ns;
	return try_finish(r, s, frame, len);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* When the clock offset's bound reaches the budget (reasm.h): the capture time on our clock at
 * the latest, plus the budget; 0 when not known. */
static uint64_t offset_deadline(const struct fc_reasm *r, const struct slot *s, uint64_t budget_ns)
{
	int64_t sc, d;

	if (!r->offset_known || s->fixed.age_ns > s->fixed.send_ns ||
	    s->fixed.send_ns - s->fixed.age_ns > INT64_MAX / 2 || budget_ns > INT64_MAX / 4 ||
	    r->offset_hi > INT64_MAX / 4 || r->offset_hi < -(INT64_MAX / 4))
		return 0;
	sc = (int64_t)(s->fixed.send_ns - s->fixed.age_ns);
	d = sc - r->offset_hi + (int64_t)budget_ns;
	return d > 0 ? (uint64_t)d : 0;
}

/* The time by which s must be whole to be within the budget (reasm.h). The fields of chunk 0
 * are the sender's word and only ever make the wait shorter than the first rule's; the
 * verdict on the whole frame is the viewer's own (its request's V0 and the clocks' offset,
 * viewer/net/bound.c), by whichever bound is the tighter, so the wait lasts until both are
 * past the budget: a request that TCP held behind a lost segment makes the request's bound
 * hopeless, not the offset's. */
static uint64_t deadline(const struct fc_reasm *r, const struct slot *s, uint64_t budget_ns)
{
	uint64_t d = sat_add(s->first_ns, budget_ns), f, g;

	if (s->fixed_known) {
		f = sat_add(sat_add(s->fixed.t0_ns, budget_ns), s->fixed.held_ns);
		f = f > s->fixed.age_ns ? f - s->fixed.age_ns : 0;
		g = offset_deadline(r, s, budget_ns);
		if (g > f)
			f = g;
		if (f < d)
			d = f;
	}
	return d;
}

/* The parity s may still count on: its own m once a PARITY came, else the latest frame's (at
 * most one per data chunk, as the sender's own bound); 0 when the sender sends none. */
static unsigned expected_m(const struct fc_reasm *r, const struct slot *s)
{
	if (s->m != 0)
		return s->m;
	return r->last_m < s->count ? r->last_m : s->count;
}

/* For each group (fec.h) of s, how many of its lost data chunks below end the parity cannot
 * cover: those lost less the group's parity chunks in or still to come (a parity chunk is lost
 * once a later one came, and every one not in once the tail's wait is over). Without parity
 * expected, one group whose every lost chunk is to be asked. Returns the number of groups. */
static unsigned uncovered(const struct fc_reasm *r, const struct slot *s, uint32_t end, bool tail,
			  uint32_t *need)
{
	unsigned m = expected_m(r, s), g = m ? fc_fec_groups(s->count, m) : 0;

	if (g == 0) {
		need[0] = UINT32_MAX;
		return 1;
	}
	memset(need, 0, g * sizeof(*need));
	for (uint32_t i = 0; i < end; i++)
		need[i % g] += !has(s, i);
	for (uint32_t p = 0; p < m; p++) {
		bool in = s->m != 0 && has_parity(s, p);
		bool gone = tail ? !in : p < s->phighest && !in;

		if (!gone && need[p % g] > 0)
			need[p % g]--;
	}
	return g;
}

/* The lost chunks of s that parity cannot cover, as NACK ranges, the lowest of each group
 * first: the holes below the highest chunk in (all of them once a parity chunk came: the data
 * goes first), and the tail when nothing came for reorder_ns. More ranges than a NACK holds
 * widen the last to the end. */
static void lost(const struct fc_reasm *r, const struct slot *s, uint64_t now_ns,
		 uint64_t reorder_ns, struct fc_dgram_nack *k, uint32_t *asked)
{
	bool tail = now_ns - s->last_ns >= reorder_ns;
	uint32_t end = tail || s->phave > 0 ? s->count : s->highest, need[FC_FEC_MAX_GROUPS];
	unsigned g = uncovered(r, s, end, tail, need);

	k->n = 0;
	*asked = 0;
	for (uint32_t i = 0; i < end; i++) {
		struct fc_dgram_range *last = &k->r[k->n > 0 ? k->n - 1 : 0];

		if (has(s, i) || need[i % g] == 0)
			continue;
		need[i % g]--;
		if (k->n > 0 && last->first + last->len == i) {
			last->len++;
		} else if (k->n == FC_DGRAM_MAX_RANGES) {
			*asked += end - (last->first + last->len);
			last->len = (uint16_t)(end - last->first);
			return;
		} else {
			k->r[k->n++] = (struct fc_dgram_range){ (uint16_t)i, 1 };
		}
		(*asked)++;
	}
}

/* What s needs now: nothing (0), a NACK in *out (1), or to be given up (-1). */
static int judge(const struct fc_reasm *r, struct slot *s, uint64_t now_ns, uint64_t budget_ns,
		 uint64_t rtt_ns, uint64_t reorder_ns, struct fc_dgram *out, uint32_t *asked)
{
	uint64_t dl = deadline(r, s, budget_ns);

	if (now_ns >= dl)
		return -1;
	lost(r, s, now_ns, reorder_ns, &out->u.nack, asked);
	if (out->u.nack.n == 0 || now_ns < s->nack_due)
		return 0; /* nothing lost (or parity covers it), or the last NACK's answer may come */
	/* A repair asked now would come too late: the frame is hopeless once the chunks surely lost
	 * are more than its parity still to come can cover: the holes below a chunk that came, and
	 * once parity came every data chunk missing (the data goes first) and the parity chunks
	 * below one that came. A tail that has not come yet may only be late (a paced sender, a
	 * busy host on the way, a pause of a few milliseconds mid-frame): it waits for the
	 * deadline. */
	if (sat_add(now_ns, rtt_ns) > dl) {
		struct fc_dgram_nack known;
		uint32_t n;

		lost(r, s, now_ns, UINT64_MAX, &known, &n); /* as if no tail's wait were over */
		if (known.n > 0)
			return -1;
		s->nack_due = dl;
		return 0;
	}
	out->type = FC_DGRAM_T_NACK;
	out->seq = s->seq;
	s->nack_due = sat_add(now_ns, rtt_ns > MIN_RENACK_NS ? rtt_ns : MIN_RENACK_NS);
	return 1;
}

size_t fc_reasm_poll(struct fc_reasm *r, uint64_t now_ns, uint64_t budget_ns, uint64_t rtt_ns,
		     uint64_t reorder_ns, struct fc_dgram *out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < r->n; i++) {
		struct slot *s = &r->slots[i];
		struct fc_dgram nack = { 0 };
		uint32_t asked = 0;
		int v;

		if (!s->used)
			continue;
		v = judge(r, s, now_ns, budget_ns, rtt_ns, reorder_ns, &nack, &asked);
		if (v < 0) {
			release(r, s, FC_GIVEUP_LATE);
		} else if (v > 0 && n < cap) {
			out[n++] = nack;
			r->st.nacks++;
			r->st.asked += asked;
		} else if (v > 0) {
			s->nack_due = 0; /* no room: asked at the next call */
		}
	}
	while (r->notices > 0 && n < cap) {
		out[n++] = r->notice[r->notice_at];
		r->notice_at = (r->notice_at + 1) % NOTICES;
		r->notices--;
	}
	return n;
}

void fc_reasm_forget(struct fc_reasm *r, uint64_t seq)
{
	struct slot *s = find(r, seq);

	if (s)
		release(r, s, FC_GIVEUP_LATE);
}

void fc_reasm_offset(struct fc_reasm *r, bool known, int64_t hi_ns)
{
	r->offset_known = known;
	r->offset_hi = hi_ns;
}

uint64_t fc_reasm_next_ns(const struct fc_reasm *r, uint64_t budget_ns, uint64_t reorder_ns)
{
	uint64_t next = UINT64_MAX;

	if (r->notices > 0)
		return 0;
	for (unsigned i = 0; i < r->n; i++) {
		const struct slot *s = &r->slots[i];
		uint64_t t;

		if (!s->used)
			continue;
		t = deadline(r, s, budget_ns);
		if (s->nack_due != 0)
			t = s->nack_due < t ? s->nack_due : t; /* the NACK's answer due */
		else if (s->have < s->highest && expected_m(r, s) == 0)
			t = 0; /* chunks lost, no parity to wait for: a NACK now */
		else if (sat_add(s->last_ns, reorder_ns) < t)
			t = sat_add(s->last_ns, reorder_ns); /* the tail's wait, parity's too */
		if (t < next)
			next = t;
	}
	return next;
}

unsigned fc_reasm_pending(const struct fc_reasm *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->n; i++)
		n += r->slots[i].used;
	return n;
}

void fc_reasm_stats(const struct fc_reasm *r, struct fc_reasm_stats *out)
{
	*out = r->st;
}
