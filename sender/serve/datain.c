#include "datain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "jlines.h"
#include "json.h"
#include "log.h"

#define WRITE_MS 100 /* a program that takes no line for this long loses it */

/* One source of lines: a connected program, a FIFO or standard input. */
struct peer {
	int fd;	    /* -1: the place is free */
	int out;    /* where its refusals and the results go; -1: nowhere (a FIFO) */
	bool owned; /* fd is ours to close (not standard input) */
	struct fc_jlines in;
};

struct fc_datain {
	struct fc_datain_cfg cfg;
	int lfd;     /* the listening socket, -1 for a FIFO or standard input */
	int stop_fd; /* eventfd */
	bool made_socket;
	pthread_t thread;
	struct peer peer[FC_DATAIN_PROGRAMS];
	struct peer *reading; /* the peer whose lines are being taken */
	struct fc_json json;
	uint64_t said_ns; /* the last refusal logged (no way back) */
	uint64_t unsaid;  /* refusals not logged since */
	_Atomic uint64_t refused, unread;
	atomic_uint programs;
};

static void drop_peer(struct fc_datain *d, struct peer *p)
{
	if (p->owned)
		close(p->fd);
	p->fd = -1;
	p->out = -1;
	if (d->lfd >= 0)
		atomic_fetch_sub(&d->programs, 1);
}

/* Tells the program why its line was refused, or, with no way back, the log. */
static void refuse(struct fc_datain *d, struct peer *p, const char *why)
{
	const char *line;
	uint64_t now = fc_clock_now_ns();

	atomic_fetch_add(&d->refused, 1);
	if (p->fd < 0)
		return; /* dropped while its lines were being taken */
	if (p->out < 0) {
		if (now - d->said_ns < FC_NS_PER_S && d->said_ns) {
			d->unsaid++;
			return;
		}
		fc_warn("--data-in %s: line %llu refused: %s (%llu more refused since the last "
			"said)",
			d->cfg.path, (unsigned long long)p->in.line, why,
			(unsigned long long)d->unsaid);
		d->said_ns = now;
		d->unsaid = 0;
		return;
	}
	fc_json_begin(&d->json);
	fc_json_str(&d->json, "error", why);
	fc_json_uint(&d->json, "line", p->in.line);
	line = fc_json_finish(&d->json);
	if (line && fc_jlines_write(p->out, line, strlen(line), WRITE_MS) < 0 && p->owned)
		drop_peer(d, p);
}

/* One line in (jlines.h): a document for the store, or a refusal for its program. */
static void take(void *arg, const uint8_t *doc, size_t len, const char *why)
{
	struct fc_datain *d = arg;

	if (doc && fc_datastore_put(d->cfg.store, doc, len) < 0)
		why = "out of memory";
	if (why)
		refuse(d, d->reading, why);
}

/* Every result waiting, to every program that can hear it. */
static void deliver_results(struct fc_datain *d)
{
	struct fc_data_result *r;
	uint64_t counter;

	(void)!read(fc_datastore_result_fd(d->cfg.store), &counter, sizeof(counter));
	while ((r = fc_datastore_take_result(d->cfg.store))) {
		const char *line;

		fc_json_begin(&d->json);
		fc_json_uint(&d->json, "seq", r->seq);
		fc_json_str(&d->json, "viewer", r->viewer);
		fc_json_raw(&d->json, "result", r->doc, r->size);
		line = fc_json_finish(&d->json);
		for (int i = 0; line && i < FC_DATAIN_PROGRAMS; i++) {
			struct peer *p = &d->peer[i];

			if (p->fd < 0 || p->out < 0)
				continue;
			if (fc_jlines_write(p->out, line, strlen(line), WRITE_MS) < 0)
				atomic_fetch_add(&d->unread, 1);
		}
		free(r);
	}
}

/* A program connects: it gets a place, or a line saying why not. */
static void accept_program(struct fc_datain *d)
{
	int i = 0;
	int fd;

	while (i < FC_DATAIN_PROGRAMS && d->peer[i].fd >= 0)
		i++;
	fd = fc_jlines_accept(d->lfd, i < FC_DATAIN_PROGRAMS, "--data-in");
	if (fd < 0)
		return;
	d->peer[i] = (struct peer){ .fd = fd, .out = fd, .owned = true };
	atomic_fetch_add(&d->programs, 1);
}

static void *datain_main(void *arg)
{
	struct fc_datain *d = arg;
	struct pollfd pfd[3 + FC_DATAIN_PROGRAMS];
	int who[3 + FC_DATAIN_PROGRAMS];

	pthread_setname_np(pthread_self(), "fc-datain");
	for (;;) {
		nfds_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = d->stop_fd, .events = POLLIN };
		pfd[n++] =
		    (struct pollfd){ .fd = fc_datastore_result_fd(d->cfg.store), .events = POLLIN };
		if (d->lfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = d->lfd, .events = POLLIN };
		for (int i = 0; i < FC_DATAIN_PROGRAMS; i++) {
			if (d->peer[i].fd < 0)
				continue;
			who[n] = i;
			pfd[n++] = (struct pollfd){ .fd = d->peer[i].fd, .events = POLLIN };
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			deliver_results(d);
		for (nfds_t k = d->lfd >= 0 ? 3 : 2; k < n; k++) {
			struct peer *p = &d->peer[who[k]];

			d->reading = p;
			if (pfd[k].revents && p->fd >= 0 &&
			    fc_jlines_read(&p->in, p->fd, take, d) < 0) {
				if (!p->owned || d->lfd < 0) {
					/* Standard input or a FIFO at its end: nothing more comes. */
					fc_info("--data-in %s: end of input", d->cfg.path);
					p->fd = -1;
				} else {
					drop_peer(d, p);
				}
			}
		}
		if (d->lfd >= 0 && (pfd[2].revents & POLLIN))
			accept_program(d);
	}
	return NULL;
}

/* Where the lines come from: standard input, an existing FIFO, or a socket made here. */
static int open_input(struct fc_datain *d, char *err, size_t errlen)
{
	char why[320];
	int fifo = -1;

	if (strcmp(d->cfg.path, "-") == 0) {
		d->peer[0] = (struct peer){ .fd = STDIN_FILENO, .out = STDOUT_FILENO };
		return 0;
	}
	if (fc_jlines_open(d->cfg.path, &d->lfd, &fifo, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--data-in %s", why);
		return -1;
	}
	d->made_socket = d->lfd >= 0;
	if (fifo >= 0)
		d->peer[0] = (struct peer){ .fd = fifo, .out = -1, .owned = true };
	return 0;
}

struct fc_datain *fc_datain_start(const struct fc_datain_cfg *cfg, char *err, size_t errlen)
{
	struct fc_datain *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		snprintf(err, errlen, "--data-in: out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	d->lfd = -1;
	for (int i = 0; i < FC_DATAIN_PROGRAMS; i++)
		d->peer[i].fd = -1;
	d->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->stop_fd < 0) {
		snprintf(err, errlen, "--data-in: eventfd: %s", strerror(errno));
		free(d);
		return NULL;
	}
	if (open_input(d, err, errlen) < 0)
		goto fail;
	rc = pthread_create(&d->thread, NULL, datain_main, d);
	if (rc == 0)
		return d;
	snprintf(err, errlen, "--data-in: cannot start its thread: %s", strerror(rc));
fail:
	d->peer[0].fd = d->peer[0].owned ? d->peer[0].fd : -1;
	if (d->peer[0].fd >= 0)
		close(d->peer[0].fd);
	if (d->lfd >= 0)
		close(d->lfd);
	close(d->stop_fd);
	free(d);
	return NULL;
}

void fc_datain_stop(struct fc_datain *d)
{
	const uint64_t one = 1;

	if (!d)
		return;
	(void)!write(d->stop_fd, &one, sizeof(one));
	pthread_join(d->thread, NULL);
	for (int i = 0; i < FC_DATAIN_PROGRAMS; i++)
		if (d->peer[i].fd >= 0 && d->peer[i].owned)
			close(d->peer[i].fd);
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->made_socket)
		(void)unlink(d->cfg.path);
	close(d->stop_fd);
	free(d);
}

void fc_datain_stats(struct fc_datain *d, struct fc_datain_stats *out)
{
	out->refused = atomic_load(&d->refused);
	out->results_unread = atomic_load(&d->unread);
	out->programs = atomic_load(&d->programs);
}
