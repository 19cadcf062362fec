/*
 * control: linkemu's control socket, a Unix stream socket at a path (--control PATH) that
 * takes one command per line and answers each with one line, so that a test or a benchmark
 * can change the link while it runs and know when the change has been made:
 *
 *   $ printf 'a2b rate=5mbit\n' | socat - UNIX-CONNECT:/tmp/le.sock
 *   ok a2b delay=10ms rate=5mbit queue=50ms
 *
 * What a command means is the caller's (a callback per line); this module only accepts, splits
 * lines and writes replies. Up to LE_CTL_CLIENTS connections at once; a line longer than
 * LE_CTL_LINE, or a client that does not read its replies, is disconnected. Its descriptors are
 * registered in the caller's epoll set, tagged so that the caller can route their events here.
 * Single-threaded: the thread running the epoll loop owns it.
 */
#ifndef LE_CONTROL_H
#define LE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define LE_CTL_CLIENTS 8
#define LE_CTL_LINE    512
#define LE_CTL_REPLY   4096

/* Handles one command line (no newline); writes one reply line (no newline) into reply. */
typedef void (*le_ctl_fn)(void *arg, const char *line, char *reply, size_t len);

struct le_ctl_client {
	int fd; /* -1: a free place */
	size_t len;
	char buf[LE_CTL_LINE]; /* bytes of a line not yet ended */
};

struct le_ctl {
	int lfd;
	int epfd;
	uint64_t tag; /* epoll data of the listener; client i has tag + 1 + i */
	char path[108];
	struct le_ctl_client client[LE_CTL_CLIENTS];
};

/* Listens at path (a stale socket left by a dead process is replaced; a live one is not) and
 * registers with epfd. 0, or -1 with the reason in err. */
int le_ctl_open(struct le_ctl *c, const char *path, int epfd, uint64_t tag, char *err,
		size_t errlen);

/* Whether an epoll tag is one of this control socket's. */
int le_ctl_owns(const struct le_ctl *c, uint64_t tag);

/* Handles an epoll event with one of this socket's tags: accepts, or reads lines and calls fn
 * once per complete line. */
void le_ctl_event(struct le_ctl *c, uint64_t tag, le_ctl_fn fn, void *arg);

/* Closes every connection and the listener, and removes the socket's path. */
void le_ctl_close(struct le_ctl *c);

#endif
