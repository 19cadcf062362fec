/* Tests of common/secure.c, and of private streams through hello.c and conn.c: the handshake
 * over socketpairs (right passphrase, wrong one, one side without, every byte of it flipped by a
 * relay in the middle, replayed), then sealed messages flipped, dropped, duplicated, reordered,
 * cut short or sent in the clear. In one process, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "dgram_seal.h"
#include "hello.h"
#include "proto.h"
#include "secure.h"
#include "throttle.h"

#define TIMEOUT_MS 1000
#define STALL_MS   200

static const struct fc_hello viewer_hello = {
	.role = FC_ROLE_VIEWER, .window = 2, .budget_us = 80000, .name = "freshcam-view test"
};
static const struct fc_hello sender_hello = { .role = FC_ROLE_SENDER,
					      .codec = FC_CODEC_JPEG,
					      .width = 640,
					      .height = 480,
					      .fps_milli = 30000,
					      .name = "freshcam-send test" };

/* Keys from passphrases, made once: cheap Argon2id (the product's cost is a constant). */
static struct fc_secure_psk *psk_right, *psk_right_again, *psk_wrong;

static struct fc_secure_psk *cheap_psk(const char *pass)
{
	char err[256];
	struct fc_secure_psk *psk =
	    fc_secure_psk_new_cost(pass, strlen(pass), 1, 8192, err, sizeof(err));

	assert_non_null(psk);
	return psk;
}

static int setup(void **state)
{
	(void)state;
	psk_right = cheap_psk("correct horse battery staple");
	psk_right_again = cheap_psk("correct horse battery staple");
	psk_wrong = cheap_psk("correct horse battery stapler");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fc_secure_psk_free(psk_right);
	fc_secure_psk_free(psk_right_again);
	fc_secure_psk_free(psk_wrong);
	return 0;
}

/* ---- The handshake between two threads, as two hosts would run it. ---- */

struct side {
	struct fc_conn *c;
	const struct fc_hello *mine;
	struct fc_hello_auth auth;
	struct fc_hello theirs;
	int rc;
	char err[320];
};

static void *side_main(void *arg)
{
	struct side *s = arg;

	s->rc = fc_hello_exchange_auth(s->c, s->mine, &s->auth, &s->theirs, TIMEOUT_MS, s->err,
				       sizeof(s->err));
	return NULL;
}

static void sides(struct side *v, struct side *s, const struct fc_secure_psk *vpsk,
		  const struct fc_secure_psk *spsk)
{
	*v = (struct side){ .mine = &viewer_hello, .auth = { .psk = vpsk, .dialled = true } };
	*s = (struct side){ .mine = &sender_hello, .auth = { .psk = spsk, .dialled = false } };
}

/* Runs both ends over one socketpair. */
static void run_both(struct side *a, struct side *b)
{
	int sv[2];
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a->c = fc_conn_new(sv[0], "a", FC_PROTO_MAX_MESSAGE, STALL_MS);
	b->c = fc_conn_new(sv[1], "b", FC_PROTO_MAX_MESSAGE, STALL_MS);
	pthread_create(&t, NULL, side_main, b);
	side_main(a);
	pthread_join(t, NULL);
}

/* One PING from `from`, answered by a PONG: the sealed stream works both ways. */
static void ping_pong(struct fc_conn *from, struct fc_conn *to, uint64_t token)
{
	struct fc_msg m = { .type = FC_MSG_PING, .u.ping.token = token };

	assert_int_equal(fc_conn_send(from, &m, TIMEOUT_MS), 0);
	assert_int_equal(fc_conn_recv(to, &m, TIMEOUT_MS), 1);
	assert_int_equal(m.type, FC_MSG_PING);
	assert_true(m.u.ping.token == token);
	m.type = FC_MSG_PONG;
	assert_int_equal(fc_conn_send(to, &m, TIMEOUT_MS), 0);
	assert_int_equal(fc_conn_recv(from, &m, TIMEOUT_MS), 1);
	assert_int_equal(m.type, FC_MSG_PONG);
	assert_true(m.u.ping.token == token);
}

static void free_sides(struct side *a, struct side *b)
{
	fc_conn_free(a->c);
	fc_conn_free(b->c);
}

struct big_send {
	struct fc_conn *c;
	struct fc_msg m;
	int rc;
};

static void *big_send_main(void *arg)
{
	struct big_send *b = arg;

	b->rc = fc_conn_send(b->c, &b->m, 10000);
	return NULL;
}

/* The same passphrase on both sides (derived separately), whichever side dialled: both are
 * through, the connection is sealed, and messages go both ways, a 1 MB FRAME too. */
static void test_right_passphrase(void **state)
{
	struct side v, s;
	size_t size = 1u << 20;
	uint8_t *jpeg = malloc(size);
	struct big_send b = { .m = { .type = FC_MSG_FRAME,
				     .u.frame = { .id = 1,
						  .seq = 5,
						  .width = 64,
						  .height = 48,
						  .src_width = 64,
						  .src_height = 48 } } };
	struct fc_msg got;
	pthread_t t;

	(void)state;
	for (size_t i = 0; i < size; i++)
		jpeg[i] = (uint8_t)(i * 31);
	b.m.u.frame.jpeg = jpeg;
	b.m.u.frame.jpeg_size = (uint32_t)size;
	for (int dialler = 0; dialler < 2; dialler++) {
		sides(&v, &s, psk_right, psk_right_again);
		v.auth.dialled = dialler == 0;
		s.auth.dialled = dialler == 1;
		run_both(&v, &s);
		assert_int_equal(v.rc, 0);
		assert_int_equal(s.rc, 0);
		assert_true(fc_conn_is_secure(v.c) && fc_conn_is_secure(s.c));
		assert_string_equal(v.theirs.name, "freshcam-send test");
		assert_int_equal(s.theirs.budget_us, 80000);
		assert_int_equal(s.theirs.flags, FC_HELLO_PASSPHRASE);
		ping_pong(v.c, s.c, 42);
		ping_pong(s.c, v.c, 43);
		b.c = s.c;
		pthread_create(&t, NULL, big_send_main, &b);
		assert_int_equal(fc_conn_recv(v.c, &got, 10000), 1);
		pthread_join(t, NULL);
		assert_int_equal(b.rc, 0);
		assert_int_equal(got.type, FC_MSG_FRAME);
		assert_int_equal(got.u.frame.jpeg_size, size);
		assert_memory_equal(got.u.frame.jpeg, jpeg, size);
		free_sides(&v, &s);
	}
	free(jpeg);
}

/* A wrong passphrase: both sides say "authentication failed", with the same words (no hint
 * which side was wrong); the listening side counts it as a failed guess. */
static void test_wrong_passphrase(void **state)
{
	struct side v, s;

	(void)state;
	sides(&v, &s, psk_wrong, psk_right);
	run_both(&v, &s);
	assert_int_equal(v.rc, -1); /* the dialler is told by the listener's BYE */
	assert_int_equal(s.rc, FC_HELLO_AUTH_FAILED);
	assert_non_null(strstr(v.err, "authentication failed"));
	assert_non_null(strstr(s.err, "authentication failed"));
	assert_string_equal(strchr(v.err, ' '), strchr(s.err, ' '));
	assert_false(fc_conn_is_secure(v.c) || fc_conn_is_secure(s.c));
	free_sides(&v, &s);
}

/* A passphrase on one side only: both say a passphrase is required, whichever side has it. */
static void test_passphrase_on_one_side(void **state)
{
	struct side v, s;

	(void)state;
	for (int which = 0; which < 2; which++) {
		sides(&v, &s, which ? psk_right : NULL, which ? NULL : psk_right);
		run_both(&v, &s);
		assert_int_equal(v.rc, -1);
		assert_int_equal(s.rc, -1);
		assert_non_null(strstr(v.err, "passphrase required"));
		assert_non_null(strstr(s.err, "passphrase required"));
		assert_non_null(strstr(which ? s.err : v.err, "has none"));
		free_sides(&v, &s);
	}
	/* Neither: a plaintext stream, as before. */
	sides(&v, &s, NULL, NULL);
	run_both(&v, &s);
	assert_int_equal(v.rc, 0);
	assert_int_equal(s.rc, 0);
	assert_false(fc_conn_is_secure(v.c));
	ping_pong(v.c, s.c, 7);
	free_sides(&v, &s);
}

/* The hold a throttled try waits: recorded, not slept, so the test runs at once. */
static void record_hold(void *arg, uint64_t ns)
{
	uint64_t *held = arg;

	*held = ns;
}

/* A listener with a throttle slows down an address whose proofs fail: the second and later
 * guesses are held (0.5 s, then longer), and once the next would wait more than a hold may, the
 * address is refused with a BYE that tells it why and when to try again, whatever passphrase it
 * brings now. A dialling side never consults the throttle. */
static void test_throttled_guesses(void **state)
{
	struct fc_throttle *t = fc_throttle_new();
	struct side v, s;
	uint64_t held;
	int tries = 0;

	(void)state;
	assert_non_null(t);
	for (;;) {
		sides(&v, &s, psk_wrong, psk_right);
		held = 0;
		s.auth.throttle = t;
		s.auth.hold = record_hold;
		s.auth.hold_arg = &held;
		run_both(&v, &s);
		tries++;
		if (s.rc == -1)
			break;
		assert_int_equal(s.rc, FC_HELLO_AUTH_FAILED);
		if (tries == 1)
			assert_true(held == 0);
		else
			assert_true(held > 0 && held <= FC_THROTTLE_HOLD_NS);
		if (tries == 2)
			assert_true(held <= FC_THROTTLE_FIRST_NS);
		free_sides(&v, &s);
		assert_true(tries < 10);
	}
	assert_true(tries > 2);
	assert_true(held == 0);
	assert_non_null(strstr(s.err, "b refused: too many failed attempts from b; try again in"));
	assert_non_null(strstr(v.err, "too many failed attempts from b; try again in"));
	free_sides(&v, &s);

	/* The right passphrase now: still refused, the address waits its turn. */
	sides(&v, &s, psk_right, psk_right);
	s.auth.throttle = t;
	run_both(&v, &s);
	assert_int_equal(s.rc, -1);
	assert_int_equal(v.rc, -1);
	assert_non_null(strstr(v.err, "too many failed attempts"));
	free_sides(&v, &s);

	/* A dialling side given the table is not asked: the handshake goes through, though the
	 * table would refuse its peer's address. */
	for (int i = 0; i < 5; i++)
		fc_throttle_end(t, "a", true, fc_clock_now_ns());
	sides(&v, &s, psk_right, psk_right);
	v.auth.throttle = t;
	run_both(&v, &s);
	assert_int_equal(v.rc, 0);
	assert_int_equal(s.rc, 0);
	free_sides(&v, &s);
	fc_throttle_free(t);
}

/* ---- A relay in the middle, which can flip one byte of what passes, and records it all. ---- */

struct relay {
	int a, b;	      /* its ends of the two socketpairs: a towards the viewer */
	long flip[2];	      /* the offset to flip in each direction (a->b, b->a), -1 none */
	uint8_t seen[2][512]; /* the first bytes of each direction, as they came */
	size_t count[2];
	atomic_int stop;
};

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	bool open[2] = { true, true };

	while (!atomic_load(&r->stop) && (open[0] || open[1])) {
		struct pollfd pfd[2] = { { .fd = open[0] ? r->a : -1, .events = POLLIN },
					 { .fd = open[1] ? r->b : -1, .events = POLLIN } };

		if (poll(pfd, 2, 20) <= 0)
			continue;
		for (int d = 0; d < 2; d++) {
			uint8_t buf[4096];
			ssize_t n;
			int out = d == 0 ? r->b : r->a;

			if (!pfd[d].revents)
				continue;
			n = read(d == 0 ? r->a : r->b, buf, sizeof(buf));
			if (n <= 0) {
				open[d] = false;
				shutdown(out, SHUT_WR);
				continue;
			}
			for (ssize_t i = 0; i < n; i++) {
				size_t at = r->count[d] + (size_t)i;

				if (at < sizeof(r->seen[d]))
					r->seen[d][at] = buf[i];
				if ((long)at == r->flip[d])
					buf[i] ^= 0x01;
			}
			r->count[d] += (size_t)n;
			(void)!send(out, buf, (size_t)n, MSG_NOSIGNAL);
		}
	}
	return NULL;
}

/* Runs a viewer (dialling) and a sender with the same passphrase through a relay. */
static void run_relayed(struct side *v, struct side *s, struct relay *r)
{
	int sv1[2], sv2[2];
	pthread_t tr, ts;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv1), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	r->a = sv1[1];
	r->b = sv2[0];
	sides(v, s, psk_right, psk_right_again);
	v->c = fc_conn_new(sv1[0], "viewer-side", FC_PROTO_MAX_MESSAGE, STALL_MS);
	s->c = fc_conn_new(sv2[1], "sender-side", FC_PROTO_MAX_MESSAGE, STALL_MS);
	pthread_create(&tr, NULL, relay_main, r);
	pthread_create(&ts, NULL, side_main, s);
	side_main(v);
	pthread_join(ts, NULL);
	/* A side that got through must not hear a sealed message from one that did not. */
	if (v->rc == 0 && s->rc != 0) {
		struct fc_msg m;

		fc_conn_free(s->c);
		s->c = NULL;
		assert_int_equal(fc_conn_recv(v->c, &m, TIMEOUT_MS), -1);
	}
	if (s->rc == 0 && v->rc != 0) {
		struct fc_msg m;

		fc_conn_free(v->c);
		v->c = NULL;
		assert_int_equal(fc_conn_recv(s->c, &m, TIMEOUT_MS), -1);
	}
	fc_conn_free(v->c);
	fc_conn_free(s->c);
	atomic_store(&r->stop, 1);
	pthread_join(tr, NULL);
	close(r->a);
	close(r->b);
}

/* Handshake sizes: HELLO (header, fixed bytes, station, name) and AUTH (header, proof). */
static size_t handshake_bytes(const struct fc_hello *h)
{
	return 2 * FC_PROTO_HEADER_SIZE + FC_PROTO_HELLO_FIXED + strlen(h->station) +
	       strlen(h->name) + FC_PROTO_PROOF_SIZE;
}

/* Every single byte of the handshake, either way, flipped by the relay: never both sides get
 * through; a side that does sees the other's failure at once, never a sealed message. */
static void test_each_handshake_byte_flipped(void **state)
{
	size_t n[2] = { handshake_bytes(&viewer_hello), handshake_bytes(&sender_hello) };
	struct side v, s;

	(void)state;
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < n[d]; i++) {
			struct relay r = { .flip = { -1, -1 } };

			r.flip[d] = (long)i;
			run_relayed(&v, &s, &r);
			if (v.rc == 0 && s.rc == 0)
				fail_msg("byte %zu of the %s's handshake flipped, yet both sides "
					 "got through",
					 i, d == 0 ? "viewer" : "sender");
		}
	}
	/* And untouched, the same relay passes a good handshake, of exactly those sizes. */
	{
		struct relay r = { .flip = { -1, -1 } };

		run_relayed(&v, &s, &r);
		assert_int_equal(v.rc, 0);
		assert_int_equal(s.rc, 0);
		assert_true(r.count[0] >= n[0] && r.count[1] >= n[1]);
	}
}

/* A recorded handshake played again to a fresh peer fails: each side's nonce is new. */
static void test_replayed_handshake(void **state)
{
	struct relay r = { .flip = { -1, -1 } };
	struct side v, s;
	size_t n[2] = { handshake_bytes(&viewer_hello), handshake_bytes(&sender_hello) };
	int sv[2];

	(void)state;
	run_relayed(&v, &s, &r);
	assert_int_equal(v.rc, 0);
	assert_int_equal(s.rc, 0);
	/* The viewer's HELLO and AUTH, replayed to a new sender. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], r.seen[0], n[0]), (ssize_t)n[0]);
	sides(&v, &s, psk_right, psk_right_again);
	s.c = fc_conn_new(sv[1], "replayed-viewer", FC_PROTO_MAX_MESSAGE, STALL_MS);
	side_main(&s);
	assert_int_equal(s.rc, FC_HELLO_AUTH_FAILED);
	assert_non_null(strstr(s.err, "authentication failed"));
	fc_conn_free(s.c);
	close(sv[0]);
	/* The sender's, replayed to a new viewer (which proves first, then checks). */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], r.seen[1], n[1]), (ssize_t)n[1]);
	v.c = fc_conn_new(sv[1], "replayed-sender", FC_PROTO_MAX_MESSAGE, STALL_MS);
	side_main(&v);
	assert_int_equal(v.rc, FC_HELLO_AUTH_FAILED);
	assert_non_null(strstr(v.err, "authentication failed"));
	fc_conn_free(v.c);
	close(sv[0]);
}

/* ---- Sealed messages, taken off the wire and played to a receiver, altered. ---- */

/* A sealed sender's records: six PINGs, tokens 1..6, and a BYE, as bytes. */
struct records {
	uint8_t bytes[4096];
	size_t len;
	size_t off[8]; /* where each record starts; off[7] = len */
	struct fc_secure_keys rx;
};

static void make_records(struct records *rec, const char *shello)
{
	static const uint8_t vhello[] = "viewer hello bytes";
	struct fc_secure_keys tx;
	struct fc_conn *c;
	int sv[2];
	ssize_t got;

	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_SENDER, (const uint8_t *)shello,
					     strlen(shello), vhello, sizeof(vhello), &tx),
			 0);
	assert_int_equal(fc_secure_handshake(psk_right_again, FC_ROLE_VIEWER,
					     (const uint8_t *)shello, strlen(shello), vhello,
					     sizeof(vhello), &rec->rx),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = fc_conn_new(sv[0], "tx", FC_PROTO_MAX_MESSAGE, STALL_MS);
	fc_conn_secure(c, &tx);
	for (uint64_t i = 1; i <= 6; i++) {
		struct fc_msg m = { .type = FC_MSG_PING, .u.ping.token = i };

		assert_int_equal(fc_conn_send(c, &m, TIMEOUT_MS), 0);
	}
	fc_conn_bye(c, FC_BYE_NORMAL, "done");
	fc_conn_free(c);
	rec->len = 0;
	while ((got = read(sv[1], rec->bytes + rec->len, sizeof(rec->bytes) - rec->len)) > 0)
		rec->len += (size_t)got;
	close(sv[1]);
	for (int i = 0, at = 0; i < 7; i++) {
		rec->off[i] = (size_t)at;
		assert_true(rec->bytes[at] == 'F' && rec->bytes[at + 3] == FC_MSG_SEALED);
		at += FC_PROTO_HEADER_SIZE + (rec->bytes[at + 6] << 8 | rec->bytes[at + 7]);
		rec->off[i + 1] = (size_t)at;
	}
	assert_int_equal(rec->off[7], rec->len);
	/* Nothing of the plaintext shows: no token, no "done". */
	assert_null(memmem(rec->bytes, rec->len, "done", 4));
}

/* Plays bytes to a fresh receiver with the keys, then closes. Returns how many PINGs came out
 * whole and in order before the first failure (7 when the BYE came too); err gets the failure. */
static int play(const struct records *rec, const uint8_t *bytes, size_t len, char *err,
		size_t errlen)
{
	struct fc_conn *c;
	struct fc_msg m;
	int sv[2];
	int good = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], bytes, len), (ssize_t)len);
	close(sv[0]);
	c = fc_conn_new(sv[1], "rx", FC_PROTO_MAX_MESSAGE, STALL_MS);
	fc_conn_secure(c, &rec->rx);
	err[0] = '\0';
	for (;;) {
		int rc = fc_conn_recv(c, &m, TIMEOUT_MS);

		if (rc <= 0) {
			snprintf(err, errlen, "%s", rc < 0 ? fc_conn_error(c) : "timeout");
			break;
		}
		if (good < 6 && m.type == FC_MSG_PING && m.u.ping.token == (uint64_t)good + 1) {
			good++;
		} else if (good == 6 && m.type == FC_MSG_BYE) {
			good++;
			break;
		} else {
			snprintf(err, errlen, "wrong message");
			break;
		}
	}
	fc_conn_free(c);
	return good;
}

static void test_sealed_stream(void **state)
{
	struct records rec;
	uint8_t alt[sizeof(rec.bytes) * 2];
	char err[320];
	size_t n;

	(void)state;
	make_records(&rec, "sender hello, with its nonce");
	/* As sent: every message, then the authenticated goodbye. */
	assert_int_equal(play(&rec, rec.bytes, rec.len, err, sizeof(err)), 7);

	/* Each byte of record 3 flipped: the two before it come out, then it fails. */
	for (size_t i = rec.off[2]; i < rec.off[3]; i++) {
		memcpy(alt, rec.bytes, rec.len);
		alt[i] ^= 0x80;
		assert_int_equal(play(&rec, alt, rec.len, err, sizeof(err)), 2);
		assert_true(strstr(err, "does not authenticate") || strstr(err, "bad message") ||
			    strstr(err, "exceeds") || strstr(err, "stalled") ||
			    strstr(err, "connection cut") || strstr(err, "unencrypted") ||
			    strstr(err, "peer speaks"));
	}
	/* Record 3 dropped. */
	n = 0;
	memcpy(alt, rec.bytes, rec.off[2]);
	n = rec.off[2];
	memcpy(alt + n, rec.bytes + rec.off[3], rec.len - rec.off[3]);
	n += rec.len - rec.off[3];
	assert_int_equal(play(&rec, alt, n, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "message 3 does not authenticate"));
	/* Record 3 duplicated. */
	memcpy(alt, rec.bytes, rec.off[3]);
	n = rec.off[3];
	memcpy(alt + n, rec.bytes + rec.off[2], rec.len - rec.off[2]);
	n += rec.len - rec.off[2];
	assert_int_equal(play(&rec, alt, n, err, sizeof(err)), 3);
	assert_non_null(strstr(err, "message 4 does not authenticate"));
	/* Records 3 and 4 swapped. */
	memcpy(alt, rec.bytes, rec.off[2]);
	n = rec.off[2];
	memcpy(alt + n, rec.bytes + rec.off[3], rec.off[4] - rec.off[3]);
	n += rec.off[4] - rec.off[3];
	memcpy(alt + n, rec.bytes + rec.off[2], rec.off[3] - rec.off[2]);
	n += rec.off[3] - rec.off[2];
	memcpy(alt + n, rec.bytes + rec.off[4], rec.len - rec.off[4]);
	n += rec.len - rec.off[4];
	assert_int_equal(play(&rec, alt, n, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "message 3 does not authenticate"));
	/* Cut between records (the BYE dropped): a cut, not a goodbye. */
	assert_int_equal(play(&rec, rec.bytes, rec.off[6], err, sizeof(err)), 6);
	assert_non_null(strstr(err, "connection cut"));
	/* Cut inside a record. */
	assert_int_equal(play(&rec, rec.bytes, rec.off[4] + 5, err, sizeof(err)), 4);
	assert_non_null(strstr(err, "connection cut"));
	/* A record from another connection (other keys) does not open either. */
	{
		struct records other;

		make_records(&other, "sender hello, another nonce");
		memcpy(alt, rec.bytes, rec.off[2]);
		n = rec.off[2];
		memcpy(alt + n, other.bytes + other.off[2], other.off[3] - other.off[2]);
		n += other.off[3] - other.off[2];
		assert_int_equal(play(&rec, alt, n, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "does not authenticate"));
	}
	/* A message in the clear in the middle: refused, a plaintext BYE named as such. */
	{
		struct fc_msg bye = { .type = FC_MSG_BYE, .u.bye = { .reason = FC_BYE_AUTH } };
		size_t len;

		memcpy(alt, rec.bytes, rec.off[2]);
		len = fc_proto_encode(&bye, alt + rec.off[2], sizeof(alt) - rec.off[2]);
		assert_true(len > 0);
		assert_int_equal(play(&rec, alt, rec.off[2] + len, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "unencrypted BYE on an encrypted connection"));
	}
	fc_secure_wipe(&rec.rx);
}

/* The largest DATA (a 4096-byte document) is sealed whole and opens whole. */
static void test_sealed_largest_data(void **state)
{
	static const uint8_t shello[] = "sender hello bytes", vhello[] = "viewer hello bytes";
	static uint8_t doc[FC_PROTO_MAX_DATA];
	struct fc_secure_keys tx, rx;
	struct fc_conn *a, *b;
	struct fc_msg m = { .type = FC_MSG_DATA,
			    .u.data = { .seq = 5, .doc = doc, .size = sizeof(doc) } };
	int sv[2];

	(void)state;
	memset(doc, '1', sizeof(doc));
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_SENDER, shello, sizeof(shello),
					     vhello, sizeof(vhello), &tx),
			 0);
	assert_int_equal(fc_secure_handshake(psk_right_again, FC_ROLE_VIEWER, shello,
					     sizeof(shello), vhello, sizeof(vhello), &rx),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = fc_conn_new(sv[0], "tx", FC_PROTO_MAX_MESSAGE, STALL_MS);
	b = fc_conn_new(sv[1], "rx", FC_PROTO_MAX_MESSAGE, STALL_MS);
	fc_conn_secure(a, &tx);
	fc_conn_secure(b, &rx);
	assert_int_equal(fc_conn_send(a, &m, TIMEOUT_MS), 0);
	memset(&m, 0, sizeof(m));
	assert_int_equal(fc_conn_recv(b, &m, TIMEOUT_MS), 1);
	assert_int_equal(m.type, FC_MSG_DATA);
	assert_int_equal(m.u.data.size, sizeof(doc));
	assert_memory_equal(m.u.data.doc, doc, sizeof(doc));
	fc_conn_free(a);
	fc_conn_free(b);
	fc_secure_wipe(&tx);
	fc_secure_wipe(&rx);
}

/* ---- The pure layer. ---- */

/* Keys mirror each other; proofs differ by role; either HELLO changed changes everything. */
static void test_handshake_keys(void **state)
{
	static const uint8_t sh[] = "S", vh[] = "V", vh2[] = "W";
	struct fc_secure_keys s, v, w, x;

	(void)state;
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_SENDER, sh, 1, vh, 1, &s), 0);
	assert_int_equal(fc_secure_handshake(psk_right_again, FC_ROLE_VIEWER, sh, 1, vh, 1, &v), 0);
	assert_memory_equal(s.tx, v.rx, FC_SECURE_KEY_SIZE);
	assert_memory_equal(s.rx, v.tx, FC_SECURE_KEY_SIZE);
	assert_memory_not_equal(s.tx, s.rx, FC_SECURE_KEY_SIZE);
	assert_true(fc_secure_proof_ok(&s, v.my_proof));
	assert_true(fc_secure_proof_ok(&v, s.my_proof));
	assert_false(fc_secure_proof_ok(&s, s.my_proof)); /* reflected */
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_VIEWER, sh, 1, vh2, 1, &w), 0);
	assert_false(fc_secure_proof_ok(&s, w.my_proof));
	assert_memory_not_equal(w.tx, v.tx, FC_SECURE_KEY_SIZE);
	assert_int_equal(fc_secure_handshake(psk_wrong, FC_ROLE_VIEWER, sh, 1, vh, 1, &x), 0);
	assert_false(fc_secure_proof_ok(&s, x.my_proof));
	assert_int_equal(fc_secure_handshake(psk_right, 3, sh, 1, vh, 1, &x), -1);
	fc_secure_wipe(&s);
	assert_true(s.tx[0] == 0 && s.tx_seq == 0);
}

/* The datagram keys (docs/UDP.md) come out of the same handshake when asked for: the viewer's
 * sealing key is the sender's opening key and the other way round, whoever dialled, so a
 * datagram one seals the other opens; without a passphrase they are left alone. */
static void test_datagram_keys_from_the_handshake(void **state)
{
	uint8_t vk[2][FC_SECURE_KEY_SIZE], sk[2][FC_SECURE_KEY_SIZE],
	    untouched[2][FC_SECURE_KEY_SIZE];
	struct side v, s;

	(void)state;
	memset(untouched, 0xAA, sizeof(untouched));
	for (int dialler = 0; dialler < 3; dialler++) {
		bool plain = dialler == 2;
		struct fc_dgram g = {
			.type = FC_DGRAM_T_GIVEUP, .conn = 7, .seq = 1, .u.reason = 1
		};
		struct fc_dseal vs, ss;
		uint8_t buf[64];
		size_t n;
		bool newest;

		sides(&v, &s, plain ? NULL : psk_right, plain ? NULL : psk_right_again);
		v.auth.dialled = dialler != 1;
		s.auth.dialled = dialler == 1;
		memcpy(vk, untouched, sizeof(vk));
		memcpy(sk, untouched, sizeof(sk));
		v.auth.dgram_keys = vk;
		s.auth.dgram_keys = sk;
		run_both(&v, &s);
		assert_int_equal(v.rc, 0);
		assert_int_equal(s.rc, 0);
		free_sides(&v, &s);
		if (plain) {
			assert_memory_equal(vk, untouched, sizeof(vk));
			assert_memory_equal(sk, untouched, sizeof(sk));
			continue;
		}
		assert_memory_equal(vk[0], sk[1], FC_SECURE_KEY_SIZE);
		assert_memory_equal(vk[1], sk[0], FC_SECURE_KEY_SIZE);
		assert_memory_not_equal(vk[0], vk[1], FC_SECURE_KEY_SIZE);
		fc_dseal_init(&vs, vk[0], vk[1]);
		fc_dseal_init(&ss, sk[0], sk[1]);
		n = fc_dseal_encode(&vs, &g, buf, sizeof(buf));
		assert_int_equal(fc_dseal_receive(&ss, buf, &n, &newest), 0);
		assert_int_equal(n, FC_DGRAM_HEAD + 1);
		fc_dseal_wipe(&vs);
		fc_dseal_wipe(&ss);
	}
}

/* Seal and open in place; each record opens once, in its place, with the right key only. */
static void test_seal_open(void **state)
{
	static const uint8_t sh[] = "S", vh[] = "V";
	struct fc_secure_keys s, v;
	struct fc_msg ping = { .type = FC_MSG_PING, .u.ping.token = 99 }, out;
	uint8_t rec[128], copy[128];
	size_t len, rlen;

	(void)state;
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_SENDER, sh, 1, vh, 1, &s), 0);
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_VIEWER, sh, 1, vh, 1, &v), 0);
	len = fc_proto_encode(&ping, rec + FC_PROTO_HEADER_SIZE, sizeof(rec) - 8);
	assert_int_equal(fc_secure_seal(&s, rec, len, len + FC_PROTO_SEAL_OVERHEAD - 1), 0);
	rlen = fc_secure_seal(&s, rec, len, sizeof(rec));
	assert_int_equal(rlen, len + FC_PROTO_SEAL_OVERHEAD);
	assert_int_equal(fc_proto_decode(rec, rlen, &out, NULL), (ssize_t)rlen);
	assert_int_equal(out.type, FC_MSG_SEALED);
	memcpy(copy, rec, rlen);
	assert_int_equal(fc_secure_open(&s, copy, rlen), -1); /* its own key does not open it */
	assert_memory_equal(copy, rec, FC_PROTO_HEADER_SIZE);
	assert_int_equal(copy[FC_PROTO_HEADER_SIZE], 0); /* libsodium wiped it: nothing leaks */
	memcpy(copy, rec, rlen);
	assert_int_equal(fc_secure_open(&v, rec, rlen), (ssize_t)len);
	assert_int_equal(fc_proto_decode(rec + 8, len, &out, NULL), (ssize_t)len);
	assert_true(out.type == FC_MSG_PING && out.u.ping.token == 99);
	assert_int_equal(fc_secure_open(&v, copy, rlen), -1);	      /* replayed */
	assert_int_equal(fc_secure_open(&v, copy, 10), -1);	      /* shorter than a record */
	assert_int_equal(fc_secure_seal(&s, rec, 3, sizeof(rec)), 0); /* under the minimum */
	fc_secure_wipe(&s);
	fc_secure_wipe(&v);
}

/* The passphrase key: same passphrase, same key (seen through the proofs); the real cost runs. */
static void test_psk_derivation(void **state)
{
	static const uint8_t sh[] = "S", vh[] = "V";
	struct fc_secure_keys a, b;
	struct fc_secure_psk *real;
	char err[256];

	(void)state;
	assert_null(fc_secure_psk_new_cost("", 0, 1, 8192, err, sizeof(err)));
	assert_non_null(strstr(err, "1 to 1024 bytes"));
	real = fc_secure_psk_new("correct horse battery staple", 28, err, sizeof(err));
	assert_non_null(real);
	assert_int_equal(fc_secure_handshake(real, FC_ROLE_SENDER, sh, 1, vh, 1, &a), 0);
	assert_int_equal(fc_secure_handshake(psk_right, FC_ROLE_SENDER, sh, 1, vh, 1, &b), 0);
	assert_memory_not_equal(a.tx, b.tx, FC_SECURE_KEY_SIZE); /* the cost is part of the key */
	fc_secure_psk_free(real);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* --passphrase-file and FRESHCAM_PASSPHRASE: what is refused, what is warned about, and that
 * the variable does not outlive its reading. */
static void test_psk_load(void **state)
{
	char path[] = "/tmp/fc-test-secure-XXXXXX";
	struct fc_secure_psk *psk;
	char warn[256], err[256];
	char *value;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unsetenv(FC_SECURE_ENV);
	assert_int_equal(fc_secure_psk_load(NULL, &psk, warn, sizeof(warn), err, sizeof(err)), 0);
	assert_null(psk);

	write_file(path, "a good long passphrase\n", 0600);
	assert_int_equal(fc_secure_psk_load(path, &psk, warn, sizeof(warn), err, sizeof(err)), 1);
	assert_string_equal(warn, "");
	fc_secure_psk_free(psk);

	write_file(path, "\n", 0600);
	assert_int_equal(fc_secure_psk_load(path, &psk, warn, sizeof(warn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));

	write_file(path, "a good long passphrase", 0644);
	assert_int_equal(fc_secure_psk_load(path, &psk, warn, sizeof(warn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));

	write_file(path, "short", 0640);
	assert_int_equal(fc_secure_psk_load(path, &psk, warn, sizeof(warn), err, sizeof(err)), 1);
	assert_non_null(strstr(warn, "chmod 600"));
	fc_secure_psk_free(psk);

	assert_int_equal(
	    fc_secure_psk_load("/nonexistent/fc", &psk, warn, sizeof(warn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/fc"));

	{
		char big[FC_SECURE_MAX_PASSPHRASE + 10];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		write_file(path, big, 0600);
		assert_int_equal(
		    fc_secure_psk_load(path, &psk, warn, sizeof(warn), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "longer than"));
	}

	/* The environment: used, warned about when short, then wiped and removed. */
	setenv(FC_SECURE_ENV, "tiny", 1);
	value = getenv(FC_SECURE_ENV);
	assert_int_equal(fc_secure_psk_load(NULL, &psk, warn, sizeof(warn), err, sizeof(err)), 1);
	assert_non_null(strstr(warn, "only 4 bytes"));
	assert_null(getenv(FC_SECURE_ENV));
	assert_int_equal(value[0], '\0');
	fc_secure_psk_free(psk);
	setenv(FC_SECURE_ENV, "", 1);
	assert_int_equal(fc_secure_psk_load(NULL, &psk, warn, sizeof(warn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	unlink(path);
}

static void test_exposed(void **state)
{
	(void)state;
	assert_true(fc_secure_exposed(""));
	assert_true(fc_secure_exposed("0.0.0.0"));
	assert_true(fc_secure_exposed("192.168.1.2"));
	assert_true(fc_secure_exposed("::"));
	assert_true(fc_secure_exposed("camera.example"));
	assert_false(fc_secure_exposed("127.0.0.1"));
	assert_false(fc_secure_exposed("127.1.2.3"));
	assert_false(fc_secure_exposed("::1"));
	assert_false(fc_secure_exposed("localhost"));
}

/* The warning both programs give when listening without a passphrase names the address, the
 * risk the caller states, and what to do; on loopback there is none. */
static void test_exposed_warning(void **state)
{
	struct fc_addr lan = { .host = "192.168.1.2", .port = 5000 };
	struct fc_addr loop = { .host = "127.0.0.1", .port = 5000 };
	char buf[512];

	(void)state;
	assert_true(fc_secure_exposed_warning(&lan, "anyone can watch", buf, sizeof(buf)));
	assert_string_equal(buf, "listening on 192.168.1.2:5000 without a passphrase: anyone can "
				 "watch, and anyone on the path can read it; give one "
				 "(--passphrase-file FILE or FRESHCAM_PASSPHRASE), or --insecure "
				 "if you mean it");
	assert_false(fc_secure_exposed_warning(&loop, "anyone can watch", buf, sizeof(buf)));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_passphrase),
		cmocka_unit_test(test_wrong_passphrase),
		cmocka_unit_test(test_passphrase_on_one_side),
		cmocka_unit_test(test_throttled_guesses),
		cmocka_unit_test(test_each_handshake_byte_flipped),
		cmocka_unit_test(test_replayed_handshake),
		cmocka_unit_test(test_sealed_stream),
		cmocka_unit_test(test_sealed_largest_data),
		cmocka_unit_test(test_handshake_keys),
		cmocka_unit_test(test_datagram_keys_from_the_handshake),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_psk_derivation),
		cmocka_unit_test(test_psk_load),
		cmocka_unit_test(test_exposed),
		cmocka_unit_test(test_exposed_warning),
	};

	signal(SIGPIPE, SIG_IGN); /* a peer that gave up closes: writes fail, never kill */
	return cmocka_run_group_tests(tests, setup, teardown);
}
