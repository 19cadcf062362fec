/* reasm: frames from chunks, repaired only while they can be in time (reasm.h, docs/UDP.md). */
#include "reasm.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	uint8_t *buf;	  /* the FRAME message: header, then the payload at its offsets; kept */
	size_t cap;
	uint8_t *map; /* a bit per chunk: in or not; kept */
	size_t mapcap;
	uint64_t first_ns; /* arrival of its first chunk */
	uint64_t last_ns;  /* arrival of its latest chunk */
	bool fixed_known;  /* chunk 0 is in: the FRAME's fields below are */
	struct fc_frame_msg fixed;
	uint64_t nack_due; /* the last NACK's answer is due; 0: none asked */
};

struct fc_reasm {
	unsigned n;
	uint32_t max_frame;
	struct slot *slots;
	uint64_t done;	     /* the newest complete frame's seq: older ones are dropped */
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
	if (!r || !r->slots) {
		snprintf(err, errlen, "reassembly of %u frames: out of memory", frames);
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
	}
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

/* Frees s, remembering its seq so that its stragglers are dropped; reason 0 for a frame that
 * completed (nothing to tell), else a GIVEUP for the next poll. */
static void release(struct fc_reasm *r, struct slot *s, uint8_t reason)
{
	struct fc_dgram *g;

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

/* Room for a frame of c's geometry in s, grown and kept. */
static int make_room(struct slot *s, const struct fc_dgram_chunk *c)
{
	size_t need = FC_PROTO_HEADER_SIZE + (size_t)c->total, bits = ((size_t)c->count + 7) / 8;

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
	const struct fc_dgram_chunk *c = &d->u.chunk;
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

int fc_reasm_add(struct fc_reasm *r, const struct fc_dgram *d, uint64_t now_ns,
		 const uint8_t **frame, size_t *len)
{
	const struct fc_dgram_chunk *c = &d->u.chunk;
	int res = 0;
	struct slot *s;

	if (d->type != FC_DGRAM_T_CHUNK)
		return FC_REASM_CONFLICT;
	s = slot_for(r, d, now_ns, &res);
	if (!s) {
		r->st.old += res == FC_REASM_OLD;
		r->st.conflict += res == FC_REASM_CONFLICT;
		r->st.too_large += res == FC_REASM_TOO_LARGE;
		return res;
	}
	if (s->map[c->index / 8] & (1u << (c->index % 8))) {
		r->st.duplicate++;
		return FC_REASM_DUPLICATE;
	}
	s->map[c->index / 8] |= (uint8_t)(1u << (c->index % 8));
	memcpy(s->buf + FC_PROTO_HEADER_SIZE + c->offset, c->data, c->size);
	s->have++;
	s->last_ns = now_ns;
	if (c->index + 1u > s->highest)
		s->highest = c->index + 1u;
	if (c->index == 0) {
		s->fixed_known = true;
		s->fixed = c->fixed;
	}
	r->st.chunks++;
	if (s->have < s->count)
		return FC_REASM_STORED;
	finish(r, s, frame, len);
	return FC_REASM_COMPLETE;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The time by which s must be whole to be within the budget (reasm.h). The fields of chunk 0
 * are the sender's word and only ever make the wait shorter than the first rule's; the
 * verdict on the whole frame is the viewer's own (its request's V0, common/age.c). */
static uint64_t deadline(const struct slot *s, uint64_t budget_ns)
{
	uint64_t d = sat_add(s->first_ns, budget_ns), f;

	if (s->fixed_known) {
		f = sat_add(sat_add(s->fixed.t0_ns, budget_ns), s->fixed.held_ns);
		f = f > s->fixed.age_ns ? f - s->fixed.age_ns : 0;
		if (f < d)
			d = f;
	}
	return d;
}

static bool has(const struct slot *s, uint32_t i)
{
	return s->map[i / 8] & (1u << (i % 8));
}

/* The lost chunks of s as NACK ranges: the holes below the highest chunk in, and the tail when
 * nothing came for reorder_ns. More ranges than a NACK holds widen the last to the end. */
static void lost(const struct slot *s, uint64_t now_ns, uint64_t reorder_ns,
		 struct fc_dgram_nack *k, uint32_t *asked)
{
	uint32_t end = now_ns - s->last_ns >= reorder_ns ? s->count : s->highest;

	k->n = 0;
	*asked = 0;
	for (uint32_t i = 0; i < end; i++) {
		uint32_t j = i;

		if (has(s, i))
			continue;
		if (k->n == FC_DGRAM_MAX_RANGES) {
			struct fc_dgram_range *last = &k->r[k->n - 1];

			*asked += end - (last->first + last->len);
			last->len = (uint16_t)(end - last->first);
			return;
		}
		while (j < end && !has(s, j))
			j++;
		k->r[k->n++] = (struct fc_dgram_range){ (uint16_t)i, (uint16_t)(j - i) };
		*asked += j - i;
		i = j;
	}
}

/* What s needs now: nothing (0), a NACK in *out (1), or to be given up (-1). */
static int judge(struct slot *s, uint64_t now_ns, uint64_t budget_ns, uint64_t rtt_ns,
		 uint64_t reorder_ns, struct fc_dgram *out, uint32_t *asked)
{
	uint64_t dl = deadline(s, budget_ns);

	if (now_ns >= dl)
		return -1;
	lost(s, now_ns, reorder_ns, &out->u.nack, asked);
	if (out->u.nack.n == 0 || now_ns < s->nack_due)
		return 0; /* nothing lost yet, or the last NACK's answer may still come */
	/* A repair asked now would come too late: the frame is hopeless once a chunk is surely lost,
	 * a hole below one that came. A tail that has not come yet may only be late (a paced
	 * sender, a busy host on the way): it waits for the deadline. */
	if (sat_add(now_ns, rtt_ns) > dl && out->u.nack.n == 1 &&
	    out->u.nack.r[0].first == s->highest) {
		s->nack_due = dl;
		return 0;
	}
	if (sat_add(now_ns, rtt_ns) > dl)
		return -1;
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
		v = judge(s, now_ns, budget_ns, rtt_ns, reorder_ns, &nack, &asked);
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
		t = deadline(s, budget_ns);
		if (s->have < s->highest || s->nack_due != 0)
			t = s->nack_due < t ? s->nack_due : t;
		if (s->highest < s->count && s->nack_due == 0 &&
		    sat_add(s->last_ns, reorder_ns) < t)
			t = sat_add(s->last_ns, reorder_ns);
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
