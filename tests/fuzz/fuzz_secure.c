/*
 * Fuzz target for private streams: the handshake (common/hello.c with a passphrase, secure.c's
 * proofs) and the receiving side of a sealed connection (common/conn.c opening records with
 * secure.c), over socketpairs written by this program (no network, no threads).
 *
 * Byte 0 picks what is fuzzed:
 *   bit 0 set: the handshake. The rest of the input is what the peer sends (then it closes); this
 *     side, with a passphrase unless bit 2, is the listening sender, or the dialling one with
 *     bit 1. With a passphrase it must never get through: the peer cannot prove anything bound
 *     to this side's fresh nonce. Without one, it gets through only on a well-formed viewer HELLO
 *     without the passphrase flag, and hands out exactly that HELLO (protocol 3's floor and
 *     FULL_ONLY flag included: re-encoded, it is the peer's first bytes).
 *   bit 0 clear: a sealed stream. The rest is a little program that builds what a peer holding
 *     the keys (or an attacker on the path) sends:
 *       0x00-0x7f  seal the next op+1 bytes as the next message (the fuzzer supplies the
 *                  plaintext, so the inner decoder is reached with authentic records);
 *       0x80-0x9f  append the next (op & 31) + 1 bytes unsealed (garbage, or a message in the
 *                  clear);
 *       0xa0 k x   xor byte k (mod its size) of the last record with x (x 0: 1);
 *       0xa1       replay the last record;
 *       0xa2       drop: a message number used without sending (a record lost on the way);
 *       0xa3-0xff  write what was built so far and let the receiver take it in.
 *     Then everything is written and the writer closes. Bit 1 of byte 0 sets max_message to
 *     1024 (the sender's limit for a viewer) instead of the protocol's.
 *     The receiver must hand out the k-th message only if it is exactly the plaintext sealed as
 *     number k, and, on a stream nobody tampered with, every leading sealed message that is one
 *     whole message of a type that may be sealed; it must end for a reason the bytes justify.
 * Built with libFuzzer by -DFC_FUZZ=ON (clang); replayed over tests/fuzz/corpus/secure as an
 * ordinary ctest case otherwise (replay.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "hello.h"
#include "proto.h"
#include "secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAM (256u << 10)
#define MAX_SEALED 4096
#define TIMEOUT_MS 50

static struct fc_secure_psk *psk;

static const struct fc_hello sender_hello = { .role = FC_ROLE_SENDER,
					      .codec = FC_CODEC_JPEG,
					      .width = 64,
					      .height = 48,
					      .fps_milli = 30000,
					      .name = "freshcam-send fuzz" };

static void init(void)
{
	char err[256];

	if (!psk)
		psk = fc_secure_psk_new_cost("fuzz", 4, 1, 8192, err, sizeof(err));
	if (!psk)
		abort();
}

static void fuzz_handshake(uint8_t mode, const uint8_t *data, size_t size)
{
	struct fc_hello_auth auth = { .psk = mode & 4 ? NULL : psk, .dialled = mode & 2 };
	struct fc_hello theirs;
	struct fc_conn *c;
	char err[320];
	int sv[2];
	int rc;

	if (size > 64 << 10 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	if (size && send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	c = fc_conn_new(sv[0], "fuzz", FC_PROTO_MAX_MESSAGE, 0);
	if (!c)
		abort();
	rc = fc_hello_exchange_auth(c, &sender_hello, &auth, &theirs, TIMEOUT_MS, err, sizeof(err));
	if (rc == 0 && (auth.psk || fc_conn_is_secure(c) || theirs.role != FC_ROLE_VIEWER ||
			(theirs.flags & FC_HELLO_PASSPHRASE)))
		abort();
	if (rc == 0) {
		struct fc_msg m = { .type = FC_MSG_HELLO, .u.hello = theirs };
		uint8_t again[FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_MAX];
		size_t n = fc_proto_encode(&m, again, sizeof(again));

		if (n == 0 || n > size || memcmp(again, data, n) != 0)
			abort();
	}
	if (rc != 0 && err[0] == '\0')
		abort();
	fc_conn_free(c);
	close(sv[1]);
}

struct sealed {
	uint8_t text[128]; /* the plaintext, or NULL-like when dropped */
	size_t len;	   /* 0: a number dropped */
};

struct run {
	struct fc_conn *conn;
	int wfd;
	struct fc_secure_keys tx;
	uint8_t *stream;
	size_t len, written;
	size_t last_rec, last_len; /* the last sealed record in the stream */
	struct sealed *sealed;	   /* by message number */
	size_t nsealed;
	size_t handed; /* messages the receiver handed out */
	bool clean;    /* only sealed records, in order: nothing tampered with */
	bool over;
	size_t max_message;
};

/* Whether plaintext p is what the receiver may hand out: one whole message, allowed sealed. */
static bool deliverable(const struct run *r, const struct sealed *s)
{
	struct fc_msg m;

	return s->len && s->len <= r->max_message &&
	       fc_proto_decode(s->text, s->len, &m, NULL) == (ssize_t)s->len &&
	       m.type != FC_MSG_SEALED && m.type != FC_MSG_AUTH;
}

static void receive(struct run *r, bool closed)
{
	struct fc_msg m;

	while (!r->over) {
		int rc = fc_conn_recv(r->conn, &m, 0);
		size_t len;
		const uint8_t *raw;

		if (rc == 0) {
			if (closed)
				abort(); /* the writer is gone: the receiver must say so */
			return;
		}
		if (rc < 0) {
			r->over = true;
			return;
		}
		/* The k-th message out is exactly the k-th sealed one. */
		raw = fc_conn_raw(r->conn, &len);
		if (r->handed >= r->nsealed || !deliverable(r, &r->sealed[r->handed]) ||
		    len != r->sealed[r->handed].len ||
		    memcmp(raw, r->sealed[r->handed].text, len) != 0)
			abort();
		r->handed++;
	}
}

static void flush(struct run *r)
{
	while (r->written < r->len && !r->over) {
		size_t n = r->len - r->written < 4096 ? r->len - r->written : 4096;
		ssize_t w = send(r->wfd, r->stream + r->written, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0)
			r->written += (size_t)w;
		/* Taking in what came frees the socket for the rest: the receiver buffers a
		 * record whole, up to its limit, and refuses a larger one from its header. */
		receive(r, false);
	}
}

static void seal(struct run *r, const uint8_t *p, size_t n)
{
	size_t got;

	if (n < 12 || r->nsealed >= MAX_SEALED || r->len + n + FC_PROTO_SEAL_OVERHEAD > MAX_STREAM)
		return;
	memcpy(r->sealed[r->nsealed].text, p, n);
	r->sealed[r->nsealed].len = n;
	r->nsealed++;
	memcpy(r->stream + r->len + FC_PROTO_HEADER_SIZE, p, n);
	got = fc_secure_seal(&r->tx, r->stream + r->len, n, MAX_STREAM - r->len);
	if (got != n + FC_PROTO_SEAL_OVERHEAD)
		abort();
	r->last_rec = r->len;
	r->last_len = got;
	r->len += got;
}

static void fuzz_stream(uint8_t mode, const uint8_t *data, size_t size)
{
	static uint8_t stream[MAX_STREAM];
	static struct sealed sealed[MAX_SEALED];
	static const uint8_t shello[] = "sender HELLO", vhello[] = "viewer HELLO";
	struct fc_secure_keys rx;
	struct run r = { .stream = stream, .sealed = sealed, .clean = true };
	int sv[2];
	size_t i = 0;

	r.max_message = mode & 2 ? 1024 : FC_PROTO_MAX_MESSAGE;
	if (fc_secure_handshake(psk, FC_ROLE_SENDER, shello, sizeof(shello), vhello, sizeof(vhello),
				&r.tx) < 0 ||
	    fc_secure_handshake(psk, FC_ROLE_VIEWER, shello, sizeof(shello), vhello, sizeof(vhello),
				&rx) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	r.wfd = sv[1];
	/* No stall limit (an hour): records arrive in pieces, and that is not a fault here. */
	r.conn = fc_conn_new(sv[0], "fuzz", r.max_message, 3600 * 1000);
	if (!r.conn)
		abort();
	fc_conn_secure(r.conn, &rx);
	fc_secure_wipe(&rx);
	while (i < size && !r.over) {
		uint8_t op = data[i++];

		if (op < 0x80) {
			size_t n = (size_t)op + 1 < size - i ? (size_t)op + 1 : size - i;

			seal(&r, data + i, n);
			i += n;
		} else if (op < 0xa0) {
			size_t n =
			    (size_t)(op & 31) + 1 < size - i ? (size_t)(op & 31) + 1 : size - i;

			if (r.len + n <= MAX_STREAM) {
				memcpy(r.stream + r.len, data + i, n);
				r.len += n;
				r.clean = r.clean && n == 0;
			}
			i += n;
		} else if (op == 0xa0) {
			if (i + 2 > size)
				break;
			if (r.last_len && r.last_rec >= r.written) {
				r.stream[r.last_rec + data[i] % r.last_len] ^=
				    data[i + 1] ? data[i + 1] : 1;
				r.clean = false;
			}
			i += 2;
		} else if (op == 0xa1) {
			if (r.last_len && r.len + r.last_len <= MAX_STREAM) {
				memmove(r.stream + r.len, r.stream + r.last_rec, r.last_len);
				r.len += r.last_len;
				r.clean = false;
			}
		} else if (op == 0xa2) {
			if (r.nsealed < MAX_SEALED) {
				r.sealed[r.nsealed++].len = 0;
				r.tx.tx_seq++;
				r.clean = false;
			}
		} else {
			flush(&r);
		}
	}
	flush(&r);
	if (!r.over) {
		shutdown(r.wfd, SHUT_WR);
		receive(&r, true);
		if (!r.over)
			abort();
	}
	/* Nobody tampered: every leading deliverable message came out, and the end names why. */
	if (r.clean) {
		size_t want = 0;
		const char *err = fc_conn_error(r.conn);

		while (want < r.nsealed && deliverable(&r, &r.sealed[want]))
			want++;
		if (r.handed != want)
			abort();
		if (want == r.nsealed ? strncmp(err, "connection cut", 14) != 0
				      : strstr(err, "does not authenticate") != NULL)
			abort();
	}
	fc_conn_free(r.conn);
	close(r.wfd);
	fc_secure_wipe(&r.tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	init();
	if (data[0] & 1)
		fuzz_handshake(data[0], data + 1, size - 1);
	else
		fuzz_stream(data[0], data + 1, size - 1);
	return 0;
}
