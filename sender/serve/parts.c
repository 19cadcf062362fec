#include "parts.h"

#include <stdatomic.h>

static int send_part(struct fc_parts_tx *t, struct fc_conn *conn, uint32_t upto, int timeout_ms)
{
	struct fc_msg m = { .type = FC_MSG_FRAME_PART };

	m.u.part = (struct fc_frame_part){ .id = t->id,
					   .bytes = t->f->data + t->sent,
					   .size = upto - t->sent };
	if (fc_conn_send(conn, &m, timeout_ms) < 0)
		return -1;
	t->sent = upto;
	return 0;
}

/* Sends the END (with the bytes not sent yet when complete) and closes the frame. */
static int send_end(struct fc_parts_tx *t, struct fc_conn *conn, uint8_t status, int timeout_ms,
		    struct fc_parts_tx_end *end)
{
	struct fc_frame *f = t->f;
	uint32_t total = status == FC_PARTS_COMPLETE ? (uint32_t)f->size : t->sent;
	struct fc_msg m = { .type = FC_MSG_FRAME_END };
	int rc;

	m.u.end = (struct fc_frame_end){ .id = t->id,
					 .total = total,
					 .status = status,
					 .bytes = f->data + t->sent,
					 .size = total - t->sent };
	*end = (struct fc_parts_tx_end){
		.status = status, .total = total, .seq = f->seq, .s2_ns = t->s2_ns
	};
	if (status == FC_PARTS_COMPLETE) {
		t->ring[t->rhead].seq = f->seq;
		t->ring[t->rhead].enc_ns = f->done_ns > t->s2_ns ? f->done_ns - t->s2_ns : 0;
		t->rhead = (t->rhead + 1) % FC_PARTS_TX_RING;
	}
	rc = fc_conn_send(conn, &m, timeout_ms);
	fc_parts_tx_drop(t); /* after the send: m points into the frame */
	return rc;
}

int fc_parts_tx_start(struct fc_parts_tx *t, struct fc_conn *conn, struct fc_frame_msg start,
		      struct fc_frame *f, uint64_t budget_ns, int timeout_ms)
{
	struct fc_msg m = { .type = FC_MSG_FRAME_START, .u.frame = start };
	size_t avail = atomic_load_explicit(&f->avail, memory_order_acquire);

	m.u.frame.jpeg = f->data;
	m.u.frame.jpeg_size = (uint32_t)avail;
	t->f = fc_frame_ref(f);
	t->id = start.id;
	t->sent = (uint32_t)avail;
	t->s2_ns = start.send_ns;
	t->deadline_ns = f->capture_ns + budget_ns;
	return fc_conn_send(conn, &m, timeout_ms);
}

int fc_parts_tx_follow(struct fc_parts_tx *t, struct fc_conn *conn, uint64_t newest, uint64_t now,
		       int timeout_ms, struct fc_parts_tx_end *end)
{
	struct fc_frame *f = t->f;
	/* growth first: once it says whole, size and every byte are visible (frame.h). */
	int growth = atomic_load_explicit(&f->growth, memory_order_acquire);
	size_t avail = atomic_load_explicit(&f->avail, memory_order_acquire);

	if (growth == FC_FRAME_WHOLE)
		return send_end(t, conn, FC_PARTS_COMPLETE, timeout_ms, end) < 0 ? -1 : 1;
	if (growth == FC_FRAME_FAILED)
		return send_end(t, conn, FC_PARTS_FAILED, timeout_ms, end) < 0 ? -1 : 1;
	if (now >= t->deadline_ns)
		return send_end(t, conn, FC_PARTS_TOO_OLD, timeout_ms, end) < 0 ? -1 : 1;
	if (newest > f->seq)
		return send_end(t, conn, FC_PARTS_SUPERSEDED, timeout_ms, end) < 0 ? -1 : 1;
	if (avail > t->sent && send_part(t, conn, (uint32_t)avail, timeout_ms) < 0)
		return -1;
	return 0;
}

uint64_t fc_parts_tx_link_ns(const struct fc_parts_tx *t, uint64_t seq, uint64_t recv_ns)
{
	for (unsigned i = 0; i < FC_PARTS_TX_RING; i++)
		if (t->ring[i].seq == seq && seq != 0)
			return recv_ns > t->ring[i].enc_ns ? recv_ns - t->ring[i].enc_ns : 0;
	return recv_ns;
}

void fc_parts_tx_drop(struct fc_parts_tx *t)
{
	fc_frame_unref(t->f);
	t->f = NULL;
}
