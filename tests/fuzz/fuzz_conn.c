/*
 * Fuzz target for a connection's receiving side (common/conn.c): the bytes a peer sends, in
 * chunks of any size, over a socketpair written by this program (no network, no threads, no
 * waiting). The connection must hand out exactly the messages the pure decoder finds in the
 * same bytes, in order, and end exactly where it should:
 *   - a malformed message: with the decoder's own error;
 *   - a message (or a header declaring one) larger than max_message: with the limit;
 *   - a message left half-sent when the socket runs dry, with stall_ms 0: with the stall;
 *   - the writer closing: only between messages or inside an unfinished one;
 * and "no whole message yet" only when that is true. The reason it ends with must go out in a
 * BYE, as sender/serve/session.c and viewer/net/client.c send it.
 *
 * The input is a little program that builds the byte stream, so that small inputs can make
 * messages larger than the connection's first buffer (its growth path):
 *   byte 0: bits 0-1 max_message (64, 1000, 70000, 300000 bytes), bit 2 stall_ms 0 (else an
 *           hour: never reached, nothing here waits);
 *   then ops:
 *     0x00-0x7f  the next op+1 bytes, appended;
 *     0x80-0xbf  flush: write what was appended in pieces of 1 << (op & 15) bytes (at most
 *                4096 pieces), letting the connection receive after each;
 *     0xc0-0xff  hi lo value: append ((op & 0x3f) << 8 | hi) * 64 + lo + 1 copies of value
 *                (a large payload from a few bytes).
 *   The rest is flushed in pieces of 4096, then the writer closes its end.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/conn as an
 * ordinary ctest case otherwise (replay.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAM (1u << 20)

static const size_t max_messages[] = { 64, 1000, 70000, 300000 };

struct run {
	struct fc_conn *conn;
	int wfd; /* the peer's end */
	size_t max_message;
	int stall_ms;
	uint8_t *stream; /* every byte the peer sends, in order */
	size_t len;	 /* appended so far */
	size_t written;	 /* of which written to the socket */
	size_t off;	 /* of which handed out as whole messages */
	bool over;	 /* the connection ended */
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether x and y, n bytes each on the wire, encode to the same bytes. */
static bool same_big(const struct fc_msg *x, const struct fc_msg *y, size_t n)
{
	uint8_t *wx = malloc(n), *wy = malloc(n);
	bool same = wx && wy && fc_proto_encode(x, wx, n) == n && fc_proto_encode(y, wy, n) == n &&
		    memcmp(wx, wy, n) == 0;

	free(wx);
	free(wy);
	return same;
}

/* What the connection handed out is what the decoder finds at the same place. */
static void check_message(struct run *r, const struct fc_msg *m)
{
	/* Room for the largest message re-encoded whole (a DATA with its document) and for a
	 * FRAME's head; a FRAME's JPEG and a SEALED record are compared
	 * where they are. */
	static uint8_t a[FC_PROTO_HEADER_SIZE + FC_PROTO_DATA_FIXED + FC_PROTO_MAX_DATA];
	static uint8_t b[sizeof(a)];
	struct fc_msg want;
	ssize_t n = fc_proto_decode(r->stream + r->off, r->written - r->off, &want, NULL);
	size_t na, nb, raw_len = 0;
	const uint8_t *raw = fc_conn_raw(r->conn, &raw_len);

	/* The very bytes sent, as the handshake hashes them (fc_conn_raw), ... */
	if (n <= 0 || want.type != m->type || !raw || raw_len != (size_t)n ||
	    memcmp(raw, r->stream + r->off, raw_len) != 0)
		abort();
	/* ... and the fields decoded from them, compared through the encoder. */
	if (m->type == FC_MSG_FRAME) {
		na = fc_proto_encode_frame_head(&m->u.frame, a, sizeof(a));
		nb = fc_proto_encode_frame_head(&want.u.frame, b, sizeof(b));
		if (m->u.frame.jpeg_size != want.u.frame.jpeg_size ||
		    memcmp(m->u.frame.jpeg, want.u.frame.jpeg, m->u.frame.jpeg_size) != 0)
			abort();
	} else if (m->type == FC_MSG_SEALED) {
		/* A record is bytes up to the connection's limit, far more than the buffers here: its
		 * header is re-encoded and its bytes compared where they are. */
		na = fc_proto_encode_header(FC_MSG_SEALED, m->u.sealed.size, a, sizeof(a));
		nb = fc_proto_encode_header(FC_MSG_SEALED, want.u.sealed.size, b, sizeof(b));
		if (m->u.sealed.size != want.u.sealed.size ||
		    memcmp(m->u.sealed.data, want.u.sealed.data, m->u.sealed.size) != 0)
			abort();
	} else if (fc_proto_encoded_size(m) > sizeof(a)) {
		/* Version 5's big ones (a control list, a still): encoded whole, in buffers of their
		 * size, by same_big; the comparison below then has nothing left to do. */
		if (!same_big(m, &want, (size_t)n))
			abort();
		na = nb = 1;
		a[0] = b[0] = 0;
	} else {
		na = fc_proto_encode(m, a, sizeof(a));
		nb = fc_proto_encode(&want, b, sizeof(b));
	}
	if ((size_t)n > r->max_message || na == 0 || na != nb || memcmp(a, b, na) != 0)
		abort();
	r->off += (size_t)n;
}

/* The connection ended: for a reason the bytes sent so far justify. It then says why in a BYE
 * (as the programs do), which must arrive as a well-formed message. */
static void check_end(struct run *r, bool closed)
{
	const char *err = fc_conn_error(r->conn);
	int perr = fc_conn_proto_error(r->conn);
	struct fc_msg m;
	size_t need = 0;
	ssize_t n = fc_proto_decode(r->stream + r->off, r->written - r->off, &m, &need);
	uint8_t bye[FC_PROTO_HEADER_SIZE + 4 + FC_PROTO_MAX_TEXT + 1];
	ssize_t got;

	if (perr) {
		if (n != -perr ||
		    !starts_with(err, perr == FC_PROTO_E_VERSION ? "peer speaks" : "bad message: "))
			abort();
	} else if (starts_with(err, "message of ")) {
		/* The connection holds only a part: the message may be malformed further on. */
		if (need <= r->max_message)
			abort();
	} else if (starts_with(err, "peer stalled")) {
		if (r->stall_ms != 0 || n != 0 || r->off == r->written)
			abort();
	} else if (starts_with(err, "peer closed")) {
		if (!closed || n != 0 || need > r->max_message)
			abort();
	} else {
		abort();
	}
	r->over = true;
	fc_conn_bye(r->conn, FC_BYE_PROTOCOL, err);
	got = recv(r->wfd, bye, sizeof(bye), MSG_DONTWAIT);
	if (got <= 0 || fc_proto_decode(bye, (size_t)got, &m, NULL) != got ||
	    m.type != FC_MSG_BYE || m.u.bye.reason != FC_BYE_PROTOCOL)
		abort();
}

/* Lets the connection take in everything that has arrived. */
static void receive(struct run *r, bool closed)
{
	struct fc_msg m;
	int rc;

	while (!r->over) {
		rc = fc_conn_recv(r->conn, &m, 0);
		if (rc > 0) {
			check_message(r, &m);
			continue;
		}
		if (rc < 0) {
			check_end(r, closed);
			return;
		}
		/* Nothing whole: what is left must be the valid start of one message. */
		if (closed ||
		    (r->off < r->written &&
		     fc_proto_decode(r->stream + r->off, r->written - r->off, &m, NULL) != 0))
			abort();
		return;
	}
}

static void flush(struct run *r, size_t piece)
{
	/* At most a few thousand pieces, so that no input takes long. */
	if (piece < (r->len - r->written) / 4096)
		piece = (r->len - r->written) / 4096;
	while (r->written < r->len && !r->over) {
		size_t n = r->len - r->written < piece ? r->len - r->written : piece;
		ssize_t w = send(r->wfd, r->stream + r->written, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			abort();
		if (w > 0)
			r->written += (size_t)w;
		receive(r, false);
	}
}

static void append(struct run *r, const uint8_t *p, size_t n, int fill)
{
	if (n > MAX_STREAM - r->len)
		n = MAX_STREAM - r->len;
	if (p)
		memcpy(r->stream + r->len, p, n);
	else
		memset(r->stream + r->len, fill, n);
	r->len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t stream[MAX_STREAM];
	struct run r = { .stream = stream };
	int sv[2];
	size_t i = 1;

	if (size < 1)
		return 0;
	r.max_message = max_messages[data[0] & 3];
	r.stall_ms = data[0] & 4 ? 0 : 3600 * 1000;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	r.wfd = sv[1];
	r.conn = fc_conn_new(sv[0], "fuzz", r.max_message, r.stall_ms);
	if (!r.conn)
		abort();
	while (i < size && !r.over) {
		uint8_t op = data[i++];

		if (op < 0x80) {
			size_t n = (size_t)op + 1 < size - i ? (size_t)op + 1 : size - i;

			append(&r, data + i, n, 0);
			i += n;
		} else if (op < 0xc0) {
			flush(&r, (size_t)1 << (op & 15));
		} else if (i + 3 <= size) {
			size_t n = (((size_t)(op & 0x3f) << 8 | data[i]) * 64) + data[i + 1] + 1;

			append(&r, NULL, n, data[i + 2]);
			i += 3;
		} else {
			break;
		}
	}
	flush(&r, 4096);
	if (!r.over) {
		shutdown(r.wfd, SHUT_WR);
		receive(&r, true);
		if (!r.over)
			abort();
	}
	fc_conn_free(r.conn);
	close(r.wfd);
	return 0;
}
