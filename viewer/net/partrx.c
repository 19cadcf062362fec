#include "partrx.h"

#include <stdatomic.h>
#include <string.h>

#include "proto_parts.h"

/* Appends n bytes to the open frame and lets the display see them: the bytes, then avail. */
static void append(struct fc_partrx *p, const uint8_t *bytes, size_t n, struct fc_slot *slot)
{
	size_t have = atomic_load_explicit(&p->f->avail, memory_order_relaxed);

	if (n == 0)
		return;
	memcpy(p->f->data + have, bytes, n);
	atomic_store_explicit(&p->f->avail, have + n, memory_order_release);
	fc_slot_poke(slot);
}

/* A START: a frame of the largest size a frame may have (and its document), shown growing. */
static void start(struct fc_partrx *p, const struct fc_frame_msg *fm, struct fc_frame_pool *pool,
		  struct fc_slot *slot)
{
	p->start = *fm;
	p->start.jpeg = NULL;
	p->given_up = false;
	p->f = fc_frame_get(pool, (size_t)FC_PROTO_MAX_JPEG + FC_PROTO_MAX_DATA);
	if (!p->f)
		return; /* its bytes are read and dropped; the END rejects it */
	p->f->seq = fm->seq;
	p->f->width = fm->width;
	p->f->height = fm->height;
	p->f->src_width = fm->src_width;
	p->f->src_height = fm->src_height;
	p->f->quality = fm->quality;
	atomic_store_explicit(&p->f->growth, FC_FRAME_GROWING, memory_order_relaxed);
	fc_slot_begin(slot, p->f);
	append(p, fm->jpeg, fm->jpeg_size, slot);
}

int fc_partrx_take(struct fc_partrx *p, const struct fc_msg *m, uint64_t first_ns, uint64_t gap_ns,
		   struct fc_frame_pool *pool, struct fc_slot *slot, char *why, size_t len)
{
	int rc = fc_parts_rx_take(&p->rx, m, why, len);

	if (rc == FC_PARTS_RX_ERROR)
		return FC_PARTRX_ERROR;
	if (rc == FC_PARTS_RX_OTHER)
		return FC_PARTRX_OTHER;
	if (m->type == FC_MSG_FRAME_START) {
		fc_partrx_drop(p, slot); /* none is open: the rules say so */
		p->first_ns = first_ns;
		p->gap_ns = gap_ns;
		start(p, &m->u.frame, pool, slot);
		return FC_PARTRX_MORE;
	}
	if (gap_ns > p->gap_ns)
		p->gap_ns = gap_ns;
	if (m->type == FC_MSG_FRAME_PART) {
		if (p->f)
			append(p, m->u.part.bytes, m->u.part.size, slot);
		return FC_PARTRX_MORE;
	}
	/* The END: the rules checked that its total is every byte that came. */
	p->given_up = rc == FC_PARTS_RX_GIVEN_UP || !p->f;
	if (p->f && !p->given_up)
		append(p, m->u.end.bytes, m->u.end.size, slot);
	p->start.jpeg = p->f ? p->f->data : NULL;
	p->start.jpeg_size = p->f ? m->u.end.total : 0;
	return FC_PARTRX_END;
}

const struct fc_frame_msg *fc_partrx_frame(const struct fc_partrx *p)
{
	return &p->start;
}

void fc_partrx_publish(struct fc_partrx *p, struct fc_slot *slot, struct fc_record *record,
		       uint64_t v3, uint64_t bound_ns, const uint8_t *doc, size_t doc_size)
{
	struct fc_frame *f = p->f;

	p->f = NULL;
	f->size = p->start.jpeg_size;
	memcpy(f->data + f->size, doc, doc_size);
	f->doc_size = doc_size;
	f->recv_ns = v3;
	f->bound_ns = bound_ns;
	/* Whole: a follower that sees this (acquire) finds size and every byte. */
	atomic_store_explicit(&f->growth, FC_FRAME_WHOLE, memory_order_release);
	/* As client.c publishes a FRAME: the recorder takes its own reference, the slot ours. */
	if (record)
		fc_record_push(record, f);
	fc_slot_publish(slot, f);
}

void fc_partrx_drop(struct fc_partrx *p, struct fc_slot *slot)
{
	if (!p->f)
		return;
	atomic_store_explicit(&p->f->growth, FC_FRAME_FAILED, memory_order_release);
	fc_slot_end(slot, p->f);
	fc_frame_unref(p->f);
	p->f = NULL;
}
