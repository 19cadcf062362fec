/* Tests of common/jlines.c: JSON Lines from and to a local program, over pipes and sockets in one
 * process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "jlines.h"

/* What the reader handed over: documents and refusals, in order, as text. */
struct seen {
	char text[8][160];
	int n;
};

static void take(void *arg, const uint8_t *doc, size_t len, const char *why)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	if (doc)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "doc %.*s", (int)len,
			 (const char *)doc);
	else
		snprintf(s->text[s->n++], sizeof(s->text[0]), "why %s", why);
}

static void feed(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* A line split over several reads is handed over once whole, compacted; blank lines are skipped
 * but counted; a bad line is refused with its reason and the next is taken; end of input is -1
 * with errno 0. */
static void test_lines(void **state)
{
	static struct fc_jlines l;
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	feed(p[1], "{\"a\":\t[1, ");
	assert_int_equal(fc_jlines_read(&l, p[0], take, &s), 0);
	assert_int_equal(s.n, 0);
	feed(p[1], "2]}\r\n\n  \n[1 2]\n\"ok\"\n");
	assert_int_equal(fc_jlines_read(&l, p[0], take, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[0], "doc {\"a\":[1,2]}");
	assert_non_null(strstr(s.text[1], "why not one JSON value: a missing ','"));
	assert_string_equal(s.text[2], "doc \"ok\"");
	assert_int_equal(l.line, 5);
	assert_int_equal(fc_jlines_read(&l, p[0], take, &s), 0); /* nothing there: EAGAIN */
	close(p[1]);
	assert_int_equal(fc_jlines_read(&l, p[0], take, &s), -1);
	assert_int_equal(errno, 0);
	close(p[0]);
}

/* A line longer than FC_JLINES_MAX is refused once and dropped to its end; a document over
 * FC_JDOC_MAX once compacted is refused with its size; the lines after are taken. */
static void test_too_long(void **state)
{
	static struct fc_jlines l;
	static char big[FC_JLINES_MAX + 100];
	struct seen s = { 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(big, 'x', sizeof(big));
	for (size_t off = 0; off < sizeof(big); off += 4096) {
		size_t n = sizeof(big) - off < 4096 ? sizeof(big) - off : 4096;

		assert_int_equal(write(sv[1], big + off, n), (ssize_t)n);
		for (int i = 0; i < 4; i++)
			(void)fc_jlines_read(&l, sv[0], take, &s);
	}
	feed(sv[1], "\n1\n");
	for (int i = 0; i < 4; i++)
		(void)fc_jlines_read(&l, sv[0], take, &s);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.text[0], "longer than 16384"));
	assert_string_equal(s.text[1], "doc 1");
	memset(big, ' ', 6000);
	big[0] = '"';
	memset(big + 1, 'y', 5000);
	big[5001] = '"';
	big[6000] = '\n';
	assert_int_equal(write(sv[1], big, 6001), 6001);
	for (int i = 0; i < 4; i++)
		(void)fc_jlines_read(&l, sv[0], take, &s);
	assert_int_equal(s.n, 3);
	assert_non_null(strstr(s.text[2], "5002 bytes"));
	close(sv[0]);
	close(sv[1]);
}

/* A reader that takes nothing costs the writer its deadline, not a stall: -1 after about
 * timeout_ms. */
static void test_write_deadline(void **state)
{
	static char chunk[65536];
	int p[2];
	uint64_t t0;

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	while (write(p[1], chunk, sizeof(chunk)) > 0)
		;
	t0 = fc_clock_now_ns();
	assert_int_equal(fc_jlines_write(p[1], "{}\n", 3, 50), -1);
	assert_true(fc_clock_now_ns() - t0 < 5 * FC_NS_PER_S);
	close(p[0]);
	close(p[1]);
}

/* A path becomes a listening socket (a stale socket file is replaced, a live one refused); an
 * existing FIFO is opened instead; a regular file is refused with the reason. */
static void test_open(void **state)
{
	char dir[] = "/tmp/fc-jlines-XXXXXX";
	char path[64], err[320];
	int l1, l2, f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	assert_int_equal(fc_jlines_open(path, &l1, &f, err, sizeof(err)), 0);
	assert_true(l1 >= 0 && f == -1);
	assert_int_equal(fc_jlines_open(path, &l2, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another program listens there"));
	close(l1); /* the file stays: stale now */
	assert_int_equal(fc_jlines_open(path, &l2, &f, err, sizeof(err)), 0);
	close(l2);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(fc_jlines_open(path, &l1, &f, err, sizeof(err)), 0);
	assert_true(l1 == -1 && f >= 0);
	close(f);
	unlink(path);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(fc_jlines_open(path, &l1, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "neither a socket nor a FIFO"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_write_deadline),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
