#include "control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LE_CTL_BACKLOG 8

/* A socket file at the path: does a live process listen on it? Then it is not ours to take. */
static bool le_ctl_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

/* Clears the way for bind(): nothing there, or a stale socket removed. */
static int le_ctl_clear(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
			 "control socket %s: something that is not a socket is there; "
			 "give another path",
			 sun->sun_path);
		return -1;
	}
	if (le_ctl_in_use(sun)) {
		snprintf(err, errlen, "control socket %s: another process is listening on it",
			 sun->sun_path);
		return -1;
	}
	(void)unlink(sun->sun_path);
	return 0;
}

static int le_ctl_watch(struct le_ctl *c, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int le_ctl_open(struct le_ctl *c, const char *path, int epfd, uint64_t tag, char *err,
		size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	*c = (struct le_ctl){ .lfd = -1, .epfd = epfd, .tag = tag };
	for (int i = 0; i < LE_CTL_CLIENTS; i++)
		c->client[i].fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket %s: the path is too long (at most %zu bytes)",
			 path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (le_ctl_clear(&sun, err, errlen) < 0)
		return -1;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(c->lfd, LE_CTL_BACKLOG) < 0 || le_ctl_watch(c, c->lfd, tag) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (c->lfd >= 0)
			close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	return 0;
}

int le_ctl_owns(const struct le_ctl *c, uint64_t tag)
{
	return c->lfd >= 0 && tag >= c->tag && tag <= c->tag + LE_CTL_CLIENTS;
}

static void le_ctl_drop(struct le_ctl *c, struct le_ctl_client *cl)
{
	(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

/* Sends one reply line; false if the client cannot take it (gone, or not reading). */
static bool le_ctl_say(int fd, const char *text)
{
	char line[LE_CTL_REPLY + 1];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	if (n < 0 || (size_t)n >= sizeof(line))
		return false;
	return send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n;
}

static void le_ctl_accept(struct le_ctl *c)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int i;

		if (fd < 0)
			return; /* EAGAIN, or out of descriptors: the client retries */
		for (i = 0; i < LE_CTL_CLIENTS && c->client[i].fd >= 0; i++)
			;
		if (i == LE_CTL_CLIENTS || le_ctl_watch(c, fd, c->tag + 1 + (uint64_t)i) < 0) {
			(void)le_ctl_say(fd, "error: too many control connections");
			close(fd);
			continue;
		}
		c->client[i] = (struct le_ctl_client){ .fd = fd };
	}
}

/* Calls fn for each complete line in the client's buffer and answers it; keeps the rest.
 * False when the client is to be dropped. */
static bool le_ctl_lines(struct le_ctl_client *cl, le_ctl_fn fn, void *arg)
{
	char reply[LE_CTL_REPLY];
	char *start = cl->buf;
	char *nl;

	while ((nl = memchr(start, '\n', cl->len - (size_t)(start - cl->buf)))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		reply[0] = '\0';
		fn(arg, start, reply, sizeof(reply));
		if (!le_ctl_say(cl->fd, reply))
			return false;
		start = nl + 1;
	}
	cl->len -= (size_t)(start - cl->buf);
	memmove(cl->buf, start, cl->len);
	if (cl->len == sizeof(cl->buf)) {
		(void)le_ctl_say(cl->fd, "error: line too long");
		return false;
	}
	return true;
}

void le_ctl_event(struct le_ctl *c, uint64_t tag, le_ctl_fn fn, void *arg)
{
	struct le_ctl_client *cl;
	ssize_t n;

	if (tag == c->tag) {
		le_ctl_accept(c);
		return;
	}
	cl = &c->client[tag - c->tag - 1];
	if (cl->fd < 0)
		return;
	n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		le_ctl_drop(c, cl);
		return;
	}
	cl->len += (size_t)n;
	if (!le_ctl_lines(cl, fn, arg))
		le_ctl_drop(c, cl);
}

void le_ctl_close(struct le_ctl *c)
{
	for (int i = 0; i < LE_CTL_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			le_ctl_drop(c, &c->client[i]);
	if (c->lfd >= 0) {
		(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->lfd, NULL);
		close(c->lfd);
		(void)unlink(c->path);
	}
	c->lfd = -1;
}
