/* resend: the frames a sender keeps for NACKs, and when it forgets them (resend.h). */
#include "resend.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARENA ((size_t)1 << 30)

struct entry {
	uint64_t seq;
	size_t off; /* in the arena */
	uint32_t len;
	uint32_t chunk; /* the chunk size it was cut at */
	uint16_t count;
	uint64_t sent_ns;
	uint64_t age_ns; /* its age when sent */
	bool gone;	 /* forgotten; its bytes stay in place until it is the oldest */
};

struct fc_resend {
	uint8_t *arena;
	size_t max_bytes;
	struct entry *e; /* a ring: e[head] the oldest, n entries */
	unsigned max_frames, head, n;
	uint64_t last_seq; /* the newest seq kept: frames come in order */
	size_t bytes;	   /* in entries not gone */
	struct fc_resend_stats st;
};

struct fc_resend *fc_resend_new(size_t max_bytes, unsigned max_frames, char *err, size_t errlen)
{
	struct fc_resend *rs = NULL;

	if (max_bytes < FC_DGRAM_MIN_CHUNK || max_bytes > MAX_ARENA || max_frames < 1 ||
	    max_frames > FC_RESEND_MAX_FRAMES) {
		snprintf(err, errlen,
			 "resend store of %zu bytes in %u frames: out of bounds (%d..%zu "
			 "bytes, 1..%d frames)",
			 max_bytes, max_frames, FC_DGRAM_MIN_CHUNK, MAX_ARENA,
			 FC_RESEND_MAX_FRAMES);
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs) {
		rs->arena = malloc(max_bytes);
		rs->e = calloc(max_frames, sizeof(*rs->e));
	}
	if (!rs || !rs->arena || !rs->e) {
		snprintf(err, errlen, "resend store of %zu bytes: out of memory", max_bytes);
		fc_resend_free(rs);
		return NULL;
	}
	rs->max_bytes = max_bytes;
	rs->max_frames = max_frames;
	return rs;
}

void fc_resend_free(struct fc_resend *rs)
{
	if (!rs)
		return;
	free(rs->arena);
	free(rs->e);
	free(rs);
}

static struct entry *at(const struct fc_resend *rs, unsigned i)
{
	return &rs->e[(rs->head + i) % rs->max_frames];
}

static void mark_gone(struct fc_resend *rs, struct entry *x, uint64_t *counter)
{
	if (x->gone)
		return;
	x->gone = true;
	rs->bytes -= x->len;
	(*counter)++;
}

/* Drops forgotten entries from the oldest end, so that their bytes can be used again. */
static void trim(struct fc_resend *rs)
{
	while (rs->n > 0 && at(rs, 0)->gone) {
		rs->head = (rs->head + 1) % rs->max_frames;
		rs->n--;
	}
}

/* Where len bytes go in the arena after the newest entry, without touching the oldest: 0 and
 * *off, or -1 when the oldest is in the way. The entries lie in the order they came, wrapping
 * once from the arena's end to its start. */
static int place(const struct fc_resend *rs, uint32_t len, size_t *off)
{
	const struct entry *old, *new;
	size_t b, e;

	if (rs->n == 0) {
		*off = 0;
		return 0;
	}
	if (rs->n == rs->max_frames)
		return -1;
	old = at(rs, 0);
	new = at(rs, rs->n - 1);
	b = old->off;
	e = new->off + new->len;
	if (new->off >= b) { /* not wrapped: free space after e, and before b */
		*off = rs->max_bytes - e >= len ? e : 0;
		return rs->max_bytes - e >= len || b >= len ? 0 : -1;
	}
	*off = e;
	return b - e >= len ? 0 : -1;
}

int fc_resend_keep(struct fc_resend *rs, uint64_t seq, const uint8_t *frame, uint32_t len,
		   uint32_t chunk_size, uint64_t sent_ns, uint64_t age_ns)
{
	uint32_t count = fc_dgram_count(len, chunk_size);
	struct entry *x;
	size_t off = 0;

	if (seq <= rs->last_seq || count == 0)
		return -1;
	rs->last_seq = seq;
	if (len > rs->max_bytes) {
		rs->st.too_large++;
		return -1;
	}
	/* At most max_frames rounds: each forgets the oldest. */
	while (place(rs, len, &off) < 0) {
		mark_gone(rs, at(rs, 0), &rs->st.pushed);
		trim(rs);
	}
	x = at(rs, rs->n++);
	*x = (struct entry){ .seq = seq,
			     .off = off,
			     .len = len,
			     .chunk = chunk_size,
			     .count = (uint16_t)count,
			     .sent_ns = sent_ns,
			     .age_ns = age_ns };
	memcpy(rs->arena + off, frame, len);
	rs->bytes += len;
	rs->st.kept++;
	return 0;
}

void fc_resend_expire(struct fc_resend *rs, uint64_t now_ns, uint64_t budget_ns)
{
	for (unsigned i = 0; i < rs->n; i++) {
		struct entry *x = at(rs, i);
		uint64_t since = now_ns > x->sent_ns ? now_ns - x->sent_ns : 0;

		if (x->age_ns > budget_ns || since > budget_ns - x->age_ns)
			mark_gone(rs, x, &rs->st.expired);
	}
	trim(rs);
}

void fc_resend_accepted(struct fc_resend *rs, uint64_t seq)
{
	for (unsigned i = 0; i < rs->n && at(rs, i)->seq <= seq; i++)
		mark_gone(rs, at(rs, i), &rs->st.superseded);
	trim(rs);
}

void fc_resend_forget(struct fc_resend *rs, uint64_t seq)
{
	for (unsigned i = 0; i < rs->n; i++)
		if (at(rs, i)->seq == seq)
			mark_gone(rs, at(rs, i), &rs->st.superseded);
	trim(rs);
}

int fc_resend_chunk(struct fc_resend *rs, uint64_t seq, uint32_t index, struct fc_dgram *out)
{
	for (unsigned i = 0; i < rs->n; i++) {
		const struct entry *x = at(rs, i);
		uint32_t offset;

		if (x->seq != seq || x->gone)
			continue;
		if (index >= x->count)
			return -2;
		offset = index * x->chunk;
		*out = (struct fc_dgram){ .type = FC_DGRAM_T_CHUNK, .seq = seq };
		out->u.chunk = (struct fc_dgram_chunk){
			.index = (uint16_t)index,
			.count = x->count,
			.total = x->len,
			.offset = offset,
			.chunk_size = (uint16_t)x->chunk,
			.data = rs->arena + x->off + offset,
			.size = x->len - offset < x->chunk ? x->len - offset : x->chunk,
		};
		rs->st.served++;
		return 0;
	}
	rs->st.missing++;
	return -1;
}

unsigned fc_resend_frames(const struct fc_resend *rs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rs->n; i++)
		n += !at(rs, i)->gone;
	return n;
}

size_t fc_resend_bytes(const struct fc_resend *rs)
{
	return rs->bytes;
}

void fc_resend_stats(const struct fc_resend *rs, struct fc_resend_stats *out)
{
	*out = rs->st;
}
