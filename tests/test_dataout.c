/* Tests of viewer/data/dataout.c: the documents of accepted frames to a local program and the
 * recording's sidecar, results back, and the figures. The network thread is played by the test;
 * the program by a Unix socket connection. In one process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "dataout.h"

struct rig {
	char dir[32];
	char sock[64];
	char sidecar[64];
	struct fc_dataout *d;
	int prog; /* the local program's connection */
};

/* The next line the program reads (within 5 s), without its newline. */
static void read_line(struct rig *r, char *out, size_t cap)
{
	size_t n = 0;
	uint64_t end = fc_clock_now_ns() + 5 * FC_NS_PER_S;

	while (n + 1 < cap && fc_clock_now_ns() < end) {
		struct pollfd pfd = { .fd = r->prog, .events = POLLIN };

		if (poll(&pfd, 1, 100) == 1 && read(r->prog, out + n, 1) == 1) {
			if (out[n] == '\n')
				break;
			n++;
		}
	}
	out[n] = '\0';
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512];

	assert_non_null(r);
	snprintf(r->dir, sizeof(r->dir), "/tmp/fc-dataout-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->sock, sizeof(r->sock), "%s/out.sock", r->dir);
	snprintf(r->sidecar, sizeof(r->sidecar), "%s/data.jsonl", r->dir);
	r->d = fc_dataout_start(&(struct fc_dataout_cfg){ .path = r->sock, .sidecar = r->sidecar },
				err, sizeof(err));
	assert_non_null(r->d);
	r->prog = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, r->sock, strlen(r->sock));
	assert_int_equal(connect(r->prog, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Once a line is answered, the thread has taken the program in: it gets what follows. */
	assert_int_equal(write(r->prog, "0\n", 2), 2);
	read_line(r, err, sizeof(err));
	assert_non_null(strstr(err, "a result is an object"));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	close(r->prog);
	fc_dataout_stop(r->d);
	assert_int_equal(access(r->sock, F_OK), -1); /* the socket file is removed */
	unlink(r->sidecar);
	rmdir(r->dir);
	free(r);
	return 0;
}

static void frame(struct rig *r, uint64_t seq, const char *doc)
{
	fc_dataout_frame(r->d, seq, 12345678, 1796300000000000000ull + seq, (const uint8_t *)doc,
			 strlen(doc));
}

/* An accepted frame's document reaches the program as one line with its seq and bound, and the
 * sidecar the same; the figures count it and show it once; a rejected one's is only counted. */
static void test_documents_out(void **state)
{
	struct rig *r = *state;
	char line[512];
	struct fc_json j;
	FILE *f;

	frame(r, 41, "{\"t\":[1,\"a\"]}");
	read_line(r, line, sizeof(line));
	assert_string_equal(line, "{\"seq\":41,\"bound_ms\":12.346,\"recv_unix_ns\":"
				  "1796300000000000041,\"data\":{\"t\":[1,\"a\"]}}");
	fc_dataout_rejected(r->d);
	fc_json_begin(&j);
	fc_dataout_json(r->d, &j, false);
	assert_string_equal(fc_json_finish(&j),
			    "{\"data_frames\":1,\"data_rejected\":1,\"data_out_dropped\":0,"
			    "\"data_results\":0,\"data\":{\"seq\":41,\"bound_ms\":12.346,"
			    "\"doc\":{\"t\":[1,\"a\"]}}}\n");
	fc_json_begin(&j);
	fc_dataout_json(r->d, &j, false); /* no new document this second: no "data" */
	assert_null(strstr(fc_json_finish(&j), "\"data\":"));
	fc_json_begin(&j);
	fc_dataout_json(r->d, &j, true); /* the summary: the newest of the run */
	assert_non_null(strstr(fc_json_finish(&j), "\"data\":{\"seq\":41"));
	frame(r, 42, "null");
	read_line(r, line, sizeof(line));
	/* Stopping writes what is queued and closes the file: then it is all there. */
	fc_dataout_stop(r->d);
	r->d = NULL;
	f = fopen(r->sidecar, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"seq\":41"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"seq\":42,"));
	assert_non_null(strstr(line, "\"data\":null}"));
	fclose(f);
}

/* The next result for the sender, waiting up to 5 s. */
static bool result(struct rig *r, struct fc_data *d, uint8_t *buf)
{
	uint64_t end = fc_clock_now_ns() + 5 * FC_NS_PER_S;

	while (!fc_dataout_result(r->d, d, buf))
		if (fc_clock_now_ns() > end)
			return false;
		else
			fc_clock_sleep_until(fc_clock_now_ns() + FC_NS_PER_MS);
	return true;
}

/* A result for a frame given goes to the sender, its document alone; one for a frame never
 * given, one without seq or data, and bad JSON each get an error line naming the line. */
static void test_results_back(void **state)
{
	struct rig *r = *state;
	static const char lines[] =
	    "{\"seq\":99,\"data\":1}\n{\"data\":1}\n{\"seq\":4,\"data\":[}\n"
	    "{ \"data\" : {\"box\": [1, 2]}, \"seq\" : 7 }\n";
	static uint8_t buf[FC_PROTO_MAX_DATA];
	struct fc_data d;
	char line[512];

	frame(r, 7, "{}");
	read_line(r, line, sizeof(line));
	assert_int_equal(write(r->prog, lines, strlen(lines)), (ssize_t)strlen(lines));
	read_line(r, line, sizeof(line));
	assert_non_null(strstr(line, "seq 99 was not given to this program (the newest is 7)"));
	assert_non_null(strstr(line, "\"line\":2}"));
	read_line(r, line, sizeof(line));
	assert_non_null(strstr(line, "a result is an object"));
	read_line(r, line, sizeof(line));
	assert_non_null(strstr(line, "not one JSON value"));
	assert_non_null(strstr(line, "\"line\":4}"));
	assert_true(result(r, &d, buf));
	assert_true(d.seq == 7);
	assert_int_equal(d.size, strlen("{\"box\":[1,2]}"));
	assert_memory_equal(d.doc, "{\"box\":[1,2]}", d.size);
	assert_false(fc_dataout_result(r->d, &d, buf));
}

/* For a recording made already, the sidecar goes inside its directory, at the first document
 * (a recording without any gets none), whatever becomes of the caller's copy of the path. */
static void test_open_for_recording(void **state)
{
	char dir[] = "/tmp/fc-dataout-rec-XXXXXX";
	char rec[64], side[96], err[512];
	struct fc_dataout *d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(rec, sizeof(rec), "%s/", dir);
	snprintf(side, sizeof(side), "%s/data.jsonl", dir);
	d = fc_dataout_open(NULL, rec, err, sizeof(err));
	assert_non_null(d);
	memset(rec, 'x', sizeof(rec) - 1);
	assert_int_equal(access(side, F_OK), -1);
	fc_dataout_frame(d, 3, 1000000, 0, (const uint8_t *)"[3]", 3);
	fc_dataout_stop(d);
	assert_int_equal(access(side, F_OK), 0);
	unlink(side);
	rmdir(dir);
}

/* The sidecar's path: inside a directory recording, beside a file one. */
static void test_sidecar_path(void **state)
{
	char out[64];

	(void)state;
	fc_dataout_sidecar_path("rec/", true, out, sizeof(out));
	assert_string_equal(out, "rec/data.jsonl");
	fc_dataout_sidecar_path("clip.mkv", false, out, sizeof(out));
	assert_string_equal(out, "clip.mkv.data.jsonl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_documents_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_results_back, setup, teardown),
		cmocka_unit_test(test_open_for_recording),
		cmocka_unit_test(test_sidecar_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
