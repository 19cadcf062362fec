#include "conn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

#define INITIAL_CAP (64u << 10)

struct fc_conn {
	int fd;
	char peer[64];
	size_t max_message;
	int stall_ms;
	uint8_t *buf; /* received bytes live in buf[start..len) */
	size_t cap;
	size_t start;
	size_t len;
	size_t last_size;	/* the message handed out last, dropped at the next recv */
	uint64_t partial_since; /* when the first byte of an unfinished message came; 0 if none */
	int proto_error;	/* the decoder's error that ended the connection, 0 if none */
	char err[256];
};

struct fc_conn *fc_conn_new(int fd, const char *peer, size_t max_message, int stall_ms)
{
	struct fc_conn *c = calloc(1, sizeof(*c));

	/* The fd is ours from here on, whatever happens: closed on failure too. */
	if (!c) {
		close(fd);
		return NULL;
	}
	c->cap = max_message < INITIAL_CAP ? max_message : INITIAL_CAP;
	c->buf = malloc(c->cap);
	if (!c->buf) {
		close(fd);
		free(c);
		return NULL;
	}
	(void)fc_net_set_nonblock(fd);
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "peer");
	c->max_message = max_message;
	c->stall_ms = stall_ms;
	return c;
}

void fc_conn_free(struct fc_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

int fc_conn_fd(const struct fc_conn *c)
{
	return c->fd;
}

const char *fc_conn_peer(const struct fc_conn *c)
{
	return c->peer;
}

const char *fc_conn_error(const struct fc_conn *c)
{
	return c->err;
}

int fc_conn_proto_error(const struct fc_conn *c)
{
	return c->proto_error;
}

/* Makes room for a message of `need` bytes starting at start: compacts, then grows (bounded). */
static int make_room(struct fc_conn *c, size_t need)
{
	size_t have = c->len - c->start;
	size_t cap;
	uint8_t *nb;

	if (need > c->max_message) {
		snprintf(c->err, sizeof(c->err), "message of %zu bytes exceeds the limit of %zu",
			 need, c->max_message);
		return -1;
	}
	if (c->start > 0 && c->start + need > c->cap) {
		memmove(c->buf, c->buf + c->start, have);
		c->start = 0;
		c->len = have;
	}
	if (need <= c->cap)
		return 0;
	cap = c->cap * 2 > need ? c->cap * 2 : need;
	if (cap > c->max_message)
		cap = c->max_message;
	nb = realloc(c->buf, cap);
	if (!nb) {
		snprintf(c->err, sizeof(c->err), "out of memory for a %zu-byte message", need);
		return -1;
	}
	c->buf = nb;
	c->cap = cap;
	return 0;
}

static int decode_error(struct fc_conn *c, const struct fc_msg *msg, ssize_t rc)
{
	c->proto_error = (int)-rc;
	if (rc == -FC_PROTO_E_VERSION)
		snprintf(c->err, sizeof(c->err),
			 "peer speaks freshcam protocol %u, this side speaks %u", msg->version,
			 FC_PROTO_VERSION);
	else
		snprintf(c->err, sizeof(c->err), "bad message: %s", fc_proto_strerror((int)rc));
	return -1;
}

int fc_conn_recv(struct fc_conn *c, struct fc_msg *msg, int timeout_ms)
{
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;

	c->start += c->last_size;
	c->last_size = 0;
	if (c->start == c->len)
		c->start = c->len = 0;
	for (;;) {
		size_t need = FC_PROTO_HEADER_SIZE;
		ssize_t rc = 0;
		long got;
		int wait_ms;

		if (c->len > c->start) {
			rc = fc_proto_decode(c->buf + c->start, c->len - c->start, msg, &need);
			if (rc > 0) {
				c->last_size = (size_t)rc;
				c->partial_since = 0;
				return 1;
			}
			if (rc < 0)
				return decode_error(c, msg, rc);
			if (!c->partial_since)
				c->partial_since = fc_clock_now_ns();
		}
		if (make_room(c, need) < 0)
			return -1;
		got = fc_net_read_some(c->fd, c->buf + c->len, c->cap - c->len, c->err,
				       sizeof(c->err));
		if (got < 0)
			return -1;
		c->len += (size_t)got;
		if (got > 0)
			continue;
		/* Nothing to read: wait, but not past our deadline nor past the stall limit. */
		wait_ms = fc_clock_ms_until(deadline);
		if (c->partial_since) {
			uint64_t stall_at = c->partial_since + (uint64_t)c->stall_ms * FC_NS_PER_MS;

			if (fc_clock_now_ns() >= stall_at) {
				snprintf(
				    c->err, sizeof(c->err),
				    "peer stalled for %d ms with %zu of %zu bytes of a message",
				    c->stall_ms, c->len - c->start, need);
				return -1;
			}
			if (fc_clock_ms_until(stall_at) < wait_ms)
				wait_ms = fc_clock_ms_until(stall_at);
		}
		if (wait_ms == 0 && fc_clock_now_ns() >= deadline)
			return 0;
		if (fc_net_wait_readable(c->fd, wait_ms, c->err, sizeof(c->err)) < 0)
			return -1;
	}
}

int fc_conn_send(struct fc_conn *c, const struct fc_msg *msg, int timeout_ms)
{
	uint8_t head[FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED + FC_PROTO_MAX_TEXT + 64];
	struct iovec iov[2];
	int n = 1;

	if (msg->type == FC_MSG_FRAME) {
		iov[0].iov_len = fc_proto_encode_frame_head(&msg->u.frame, head, sizeof(head));
		iov[1].iov_base = (void *)msg->u.frame.jpeg;
		iov[1].iov_len = msg->u.frame.jpeg_size;
		n = 2;
	} else {
		iov[0].iov_len = fc_proto_encode(msg, head, sizeof(head));
	}
	iov[0].iov_base = head;
	if (iov[0].iov_len == 0) {
		snprintf(c->err, sizeof(c->err), "refusing to send a malformed %s",
			 fc_proto_type_name(msg->type));
		return -1;
	}
	return fc_net_writev_full(c->fd, iov, n, timeout_ms, c->err, sizeof(c->err));
}

void fc_conn_bye(struct fc_conn *c, int reason, const char *text)
{
	struct fc_msg m = { .type = FC_MSG_BYE };
	char saved[sizeof(c->err)];

	m.u.bye.reason = (uint16_t)reason;
	snprintf(m.u.bye.text, sizeof(m.u.bye.text), "%s", text ? text : "");
	/* Keep the error that led here: it is the one worth reporting, not the BYE's own. */
	memcpy(saved, c->err, sizeof(saved));
	(void)fc_conn_send(c, &m, 200);
	memcpy(c->err, saved, sizeof(saved));
}
