#include "jlines.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"

static void take_line(struct fc_jlines *l, const uint8_t *s, size_t len, fc_jlines_take take,
		      void *arg)
{
	char why[160];
	long n = fc_jdoc_compact(s, len, l->doc, sizeof(l->doc));

	l->line++;
	if (n == 0)
		return; /* a blank line */
	if (n < 0) {
		take(arg, NULL, 0,
		     "not one JSON value: a string with a control byte or without its end");
	} else if (n > FC_JDOC_MAX) {
		snprintf(why, sizeof(why),
			 "a document of %ld bytes (without its spaces); at most %d", n,
			 FC_JDOC_MAX);
		take(arg, NULL, 0, why);
	} else if (fc_jdoc_check(l->doc, (size_t)n, why, sizeof(why)) < 0) {
		take(arg, NULL, 0, why);
	} else {
		take(arg, l->doc, (size_t)n, NULL);
	}
}

int fc_jlines_read(struct fc_jlines *l, int fd, fc_jlines_take take, void *arg)
{
	ssize_t r = read(fd, l->buf + l->len, sizeof(l->buf) - l->len);
	size_t start = 0;
	char why[96];

	if (r == 0)
		errno = 0;
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r < 0)
		return 0;
	l->len += (size_t)r;
	for (size_t i = l->len - (size_t)r; i < l->len; i++) {
		if (l->buf[i] != '\n')
			continue;
		if (!l->skipping)
			take_line(l, l->buf + start, i - start, take, arg);
		l->skipping = false;
		start = i + 1;
	}
	memmove(l->buf, l->buf + start, l->len - start);
	l->len -= start;
	if (l->len == sizeof(l->buf)) {
		if (!l->skipping) {
			l->line++;
			snprintf(why, sizeof(why),
				 "a line longer than %d bytes (a document has at most %d)",
				 FC_JLINES_MAX, FC_JDOC_MAX);
			take(arg, NULL, 0, why);
		}
		l->skipping = true;
		l->len = 0;
	}
	return 0;
}

int fc_jlines_write(int fd, const char *s, size_t n, int timeout_ms)
{
	uint64_t end = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;

	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w;

		if (poll(&pfd, 1, fc_clock_ms_until(end)) <= 0)
			return -1;
		w = write(fd, s, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/* A Unix socket at path, listening; a stale one left by a run that died is replaced, a live
 * one (some program answers on it) is not. */
static int listen_at(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: a socket path has at most %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		snprintf(err, errlen, "%s: another program listens there", path);
		goto fail;
	}
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int fc_jlines_open(const char *path, int *listen_fd, int *fifo_fd, char *err, size_t errlen)
{
	struct stat st;

	*listen_fd = *fifo_fd = -1;
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
		/* Read and write: the FIFO then never reads as ended between two writers, and
		 * opening it to write does not wait for a reader. */
		*fifo_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (*fifo_fd >= 0)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(
		    err, errlen,
		    "%s: exists and is neither a socket nor a FIFO (give a new path: the socket "
		    "is made there)",
		    path);
		return -1;
	}
	*listen_fd = listen_at(path, err, errlen);
	return *listen_fd < 0 ? -1 : 0;
}

int fc_jlines_accept(int lfd, bool room, const char *what)
{
	char line[128];
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int n;

	if (fd < 0 || room)
		return fd;
	n = snprintf(line, sizeof(line), "{\"error\":\"too many programs connected to %s\"}\n",
		     what);
	(void)fc_jlines_write(fd, line, (size_t)n, 100);
	close(fd);
	return -1;
}
