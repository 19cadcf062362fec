#include "conn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

#define INITIAL_CAP (64u << 10)
/* The output buffer of a private stream starts small (a viewer only ever sends small messages)
 * and grows to the largest message sent. */
#define INITIAL_OUT_CAP 1024

struct fc_conn {
	int fd;
	char peer[64];
	size_t max_message;
	int stall_ms;
	uint8_t *buf; /* received bytes live in buf[start..len) */
	size_t cap;
	size_t start;
	size_t len;
	size_t last_size;  /* the message handed out last, dropped at the next recv */
	uint64_t read_ns;  /* when the latest read that brought bytes returned: progress */
	uint64_t head_ns;  /* when the first byte of the message at buf[start] came; 0: none yet */
	uint64_t head_gap; /* the longest wait between two of its reads so far */
	uint64_t first_ns; /* likewise for the message handed out last */
	uint64_t gap_ns;
	int proto_error; /* the decoder's error that ended the connection, 0 if none */
	char err[256];
	const uint8_t *raw; /* the bytes of the message handed out last */
	size_t raw_len;

	/* Private streams (fc_conn_secure). */
	bool secure;
	struct fc_secure_keys keys;
	uint8_t *out; /* where messages are built and sealed: [header][message][tag] */
	size_t out_cap;
};

struct fc_conn *fc_conn_new(int fd, const char *peer, size_t max_message, int stall_ms)
{
	struct fc_conn *c = NULL;
	int saved;

	/* Every deadline here waits in poll() and then reads or writes without blocking: a
	 * blocking socket would let one read or write hang past them all. */
	if (fc_net_set_nonblock(fd) < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->cap = max_message < INITIAL_CAP ? max_message : INITIAL_CAP;
	c->buf = malloc(c->cap);
	if (!c->buf)
		goto fail;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "peer");
	c->max_message = max_message;
	c->stall_ms = stall_ms;
	return c;
fail:
	/* The fd is ours from here on, whatever happens: closed on failure too. */
	saved = errno;
	free(c);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return NULL;
}

void fc_conn_free(struct fc_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	fc_secure_wipe(&c->keys);
	free(c->buf);
	free(c->out);
	free(c);
}

uint64_t fc_conn_first_ns(const struct fc_conn *c)
{
	return c->first_ns;
}

uint64_t fc_conn_gap_ns(const struct fc_conn *c)
{
	return c->gap_ns;
}

uint64_t fc_conn_heard_ns(const struct fc_conn *c)
{
	return c->read_ns;
}

const uint8_t *fc_conn_raw(const struct fc_conn *c, size_t *len)
{
	*len = c->raw_len;
	return c->raw;
}

void fc_conn_secure(struct fc_conn *c, const struct fc_secure_keys *keys)
{
	c->keys = *keys;
	c->secure = true;
}

bool fc_conn_is_secure(const struct fc_conn *c)
{
	return c->secure;
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
	size_t limit = c->max_message + (c->secure ? FC_PROTO_SEAL_OVERHEAD : 0);
	uint8_t *nb;

	if (need > limit) {
		if (c->secure)
			snprintf(c->err, sizeof(c->err),
				 "sealed message of %zu bytes exceeds the limit of %zu",
				 need - FC_PROTO_SEAL_OVERHEAD, c->max_message);
		else
			snprintf(c->err, sizeof(c->err),
				 "message of %zu bytes exceeds the limit of %zu", need,
				 c->max_message);
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
	if (cap > limit)
		cap = limit;
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

/* On a private stream: the record of rc bytes at start must be SEALED and open as the peer's
 * next message, which must be one whole message of a type that may be sealed. */
static int open_record(struct fc_conn *c, struct fc_msg *msg, ssize_t rc)
{
	uint8_t *rec = c->buf + c->start;
	ssize_t n;
	ssize_t got;

	if (msg->type != FC_MSG_SEALED) {
		if (msg->type == FC_MSG_BYE)
			snprintf(c->err, sizeof(c->err),
				 "unencrypted BYE on an encrypted connection: %s%s%s",
				 fc_proto_bye_reason_name(msg->u.bye.reason),
				 msg->u.bye.text[0] ? ": " : "", msg->u.bye.text);
		else
			snprintf(c->err, sizeof(c->err),
				 "unencrypted %s on an encrypted connection",
				 fc_proto_type_name(msg->type));
		return -1;
	}
	n = fc_secure_open(&c->keys, rec, (size_t)rc);
	if (n < 0) {
		snprintf(c->err, sizeof(c->err),
			 "message %llu does not authenticate (tampered with, replayed, reordered, "
			 "or one before it dropped)",
			 (unsigned long long)c->keys.rx_seq + 1);
		return -1;
	}
	got = fc_proto_decode(rec + FC_PROTO_HEADER_SIZE, (size_t)n, msg, NULL);
	if (got < 0)
		return decode_error(c, msg, got);
	if (got != n) {
		snprintf(c->err, sizeof(c->err), "sealed message %llu is not one whole message",
			 (unsigned long long)c->keys.rx_seq);
		return -1;
	}
	if (msg->type == FC_MSG_SEALED || msg->type == FC_MSG_AUTH) {
		snprintf(c->err, sizeof(c->err), "a sealed %s", fc_proto_type_name(msg->type));
		return -1;
	}
	c->raw = rec + FC_PROTO_HEADER_SIZE;
	c->raw_len = (size_t)n;
	return 1;
}

int fc_conn_recv(struct fc_conn *c, struct fc_msg *msg, int timeout_ms)
{
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;

	c->start += c->last_size;
	c->last_size = 0;
	c->raw = NULL;
	c->raw_len = 0;
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
				/* What follows this message in the buffer came in the read that
				 * completed it, the latest. */
				c->first_ns = c->head_ns;
				c->gap_ns = c->head_gap;
				c->head_ns = c->start + (size_t)rc < c->len ? c->read_ns : 0;
				c->head_gap = 0;
				c->raw = c->buf + c->start;
				c->raw_len = (size_t)rc;
				return c->secure ? open_record(c, msg, rc) : 1;
			}
			if (rc < 0)
				return decode_error(c, msg, rc);
		}
		if (make_room(c, need) < 0)
			return -1;
		got = fc_net_read_some(c->fd, c->buf + c->len, c->cap - c->len, c->err,
				       sizeof(c->err));
		if (got < 0) {
			/* A private stream ends with a sealed BYE; a bare close may be an attacker's. */
			if (c->secure && strcmp(c->err, "peer closed the connection") == 0)
				snprintf(c->err, sizeof(c->err),
					 "connection cut: closed without an authenticated goodbye");
			return -1;
		}
		c->len += (size_t)got;
		if (got > 0) {
			uint64_t now = fc_clock_now_ns();

			if (!c->head_ns)
				c->head_ns = now;
			else if (now - c->read_ns > c->head_gap)
				c->head_gap = now - c->read_ns;
			c->read_ns = now;
			continue;
		}
		/* Nothing to read: wait, but not past our deadline nor past the stall limit. A
		 * message under way is stalled when no byte of it came for stall_ms, however long it
		 * has been coming: a large frame on a slow link may take longer than that in all. */
		wait_ms = fc_clock_ms_until(deadline);
		if (c->len > c->start) {
			uint64_t stall_at = c->read_ns + (uint64_t)c->stall_ms * FC_NS_PER_MS;

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

/* Makes the output buffer hold a message of len bytes, sealed. */
static int out_room(struct fc_conn *c, size_t len)
{
	size_t need = len + FC_PROTO_SEAL_OVERHEAD;
	size_t cap = c->out_cap ? c->out_cap : INITIAL_OUT_CAP;
	uint8_t *nb;

	if (need <= c->out_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	nb = realloc(c->out, cap);
	if (!nb) {
		snprintf(c->err, sizeof(c->err), "out of memory for a %zu-byte message", need);
		return -1;
	}
	c->out = nb;
	c->out_cap = cap;
	return 0;
}

/* The largest message encoded on the stack (a FRAME's JPEG goes out from where it is; a control
 * list or a still is built in the output buffer): a DATA with the largest document. */
#define WHOLE_MAX (FC_PROTO_HEADER_SIZE + FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA)
_Static_assert(WHOLE_MAX >= FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_MAX &&
		   WHOLE_MAX >= FC_PROTO_HEADER_SIZE + 4 + FC_PROTO_MAX_TEXT,
	       "a HELLO, BYE or STATUS fits too");

/* Builds the message in the output buffer, seals it there, and sends it. */
static int send_sealed(struct fc_conn *c, const struct fc_msg *msg, int timeout_ms)
{
	size_t len;
	size_t want = msg->type == FC_MSG_FRAME
			  ? FC_PROTO_HEADER_SIZE + FC_PROTO_FRAME_FIXED + msg->u.frame.jpeg_size
			  : fc_proto_encoded_size(msg);
	struct iovec iov;

	if (want > FC_PROTO_MAX_MESSAGE || out_room(c, want) < 0) {
		if (want > FC_PROTO_MAX_MESSAGE)
			snprintf(c->err, sizeof(c->err), "refusing to send a malformed %s",
				 fc_proto_type_name(msg->type));
		return -1;
	}
	if (msg->type == FC_MSG_FRAME) {
		len = fc_proto_encode_frame_head(&msg->u.frame, c->out + FC_PROTO_HEADER_SIZE,
						 c->out_cap - FC_PROTO_HEADER_SIZE);
		if (len && msg->u.frame.jpeg_size) {
			memcpy(c->out + FC_PROTO_HEADER_SIZE + len, msg->u.frame.jpeg,
			       msg->u.frame.jpeg_size);
			len += msg->u.frame.jpeg_size;
		}
	} else {
		len = fc_proto_encode(msg, c->out + FC_PROTO_HEADER_SIZE,
				      c->out_cap - FC_PROTO_HEADER_SIZE);
	}
	if (len == 0) {
		snprintf(c->err, sizeof(c->err), "refusing to send a malformed %s",
			 fc_proto_type_name(msg->type));
		return -1;
	}
	iov.iov_base = c->out;
	iov.iov_len = fc_secure_seal(&c->keys, c->out, len, c->out_cap);
	if (iov.iov_len == 0) {
		snprintf(c->err, sizeof(c->err), "cannot seal a %zu-byte %s", len,
			 fc_proto_type_name(msg->type));
		return -1;
	}
	return fc_net_writev_full(c->fd, &iov, 1, timeout_ms, c->err, sizeof(c->err));
}

int fc_conn_send(struct fc_conn *c, const struct fc_msg *msg, int timeout_ms)
{
	uint8_t head[WHOLE_MAX];
	struct iovec iov[2];
	const uint8_t *bulk;
	uint32_t bulk_len;
	int n = 1;

	if (c->secure)
		return send_sealed(c, msg, timeout_ms);
	if (msg->type == FC_MSG_FRAME) {
		iov[0].iov_len = fc_proto_encode_frame_head(&msg->u.frame, head, sizeof(head));
		iov[1].iov_base = (void *)msg->u.frame.jpeg;
		iov[1].iov_len = msg->u.frame.jpeg_size;
		n = 2;
		iov[0].iov_base = head;
	} else if ((iov[0].iov_len =
			fc_proto_parts_split(msg, head, sizeof(head), &bulk, &bulk_len)) > 0) {
		/* A frame in parts: its bytes go out from where the encoder wrote them. */
		iov[0].iov_base = head;
		iov[1].iov_base = (void *)bulk;
		iov[1].iov_len = bulk_len;
		n = 2;
	} else if (fc_proto_encoded_size(msg) > sizeof(head)) {
		/* A big message (a control list, a still) is built in the output buffer: rare, so
		 * the copy is no cost worth avoiding. */
		if (fc_proto_encoded_size(msg) > FC_PROTO_MAX_MESSAGE) {
			snprintf(c->err, sizeof(c->err), "refusing to send an oversized %s",
				 fc_proto_type_name(msg->type));
			return -1;
		}
		if (out_room(c, fc_proto_encoded_size(msg)) < 0)
			return -1;
		iov[0].iov_len = fc_proto_encode(msg, c->out, c->out_cap);
		iov[0].iov_base = c->out;
	} else {
		iov[0].iov_len = fc_proto_encode(msg, head, sizeof(head));
		iov[0].iov_base = head;
	}
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

void fc_conn_refuse(struct fc_conn *c, int reason, const char *text)
{
	uint64_t deadline = fc_clock_now_ns() + FC_CONN_LINGER_MS * FC_NS_PER_MS;
	uint8_t sink[1024];
	char err[64];

	fc_conn_bye(c, reason, text);
	(void)shutdown(c->fd, SHUT_WR);
	/* Until the peer closes (or fails), the time is up, or it stays silent past it. */
	for (;;) {
		long got = fc_net_read_some(c->fd, sink, sizeof(sink), err, sizeof(err));

		if (got < 0 || fc_clock_now_ns() >= deadline)
			break;
		if (got == 0 &&
		    fc_net_wait_readable(c->fd, fc_clock_ms_until(deadline), err, sizeof(err)) <= 0)
			break;
	}
}
