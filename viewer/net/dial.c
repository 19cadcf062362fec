/* dial: one connection attempt on its own thread. See dial.h. */
#include "dial.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

struct fc_dial {
	struct fc_dial_cfg cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock. */
	bool done;
	bool abandoned;
	/* Written by the thread before done; read by the main thread after. */
	struct fc_conn *conn;
	char err[256];
};

static void dial_free(struct fc_dial *d)
{
	if (d->conn)
		fc_conn_free(d->conn);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Connect or accept, then greet: the result goes into d->conn or d->err. */
static void attempt(struct fc_dial *d)
{
	char where[FC_NET_HOST_MAX + 16];
	char peer[64];
	int fd;

	if (d->cfg.lfd >= 0) {
		fd = fc_net_accept(d->cfg.lfd, d->cfg.accept_timeout_ms, peer, sizeof(peer), d->err,
				   sizeof(d->err));
		if (fd < 0) {
			/* Nobody came yet: not an error, just another wait. */
			if (errno == ETIMEDOUT || errno == EINTR)
				d->err[0] = '\0';
			return;
		}
	} else {
		fd =
		    fc_net_connect(&d->cfg.addr, d->cfg.connect_timeout_ms, d->err, sizeof(d->err));
		if (fd < 0)
			return;
		snprintf(peer, sizeof(peer), "%.63s",
			 fc_net_addr_str(&d->cfg.addr, where, sizeof(where)));
	}
	d->conn = fc_conn_new(fd, peer, d->cfg.max_message, d->cfg.stall_ms);
	if (!d->conn) {
		snprintf(d->err, sizeof(d->err), "cannot set up the connection to %s: %s", peer,
			 strerror(errno));
		return;
	}
	if (d->cfg.greet && d->cfg.greet(d->conn, d->cfg.greet_arg, d->err, sizeof(d->err)) < 0) {
		fc_conn_free(d->conn);
		d->conn = NULL;
	}
}

static void *dial_main(void *arg)
{
	struct fc_dial *d = arg;
	bool abandoned;

	pthread_setname_np(pthread_self(), "fc-dial");
	attempt(d);
	pthread_mutex_lock(&d->lock);
	d->done = true;
	abandoned = d->abandoned;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	/* Nobody will take the result: clean up after ourselves (the thread is detached). */
	if (abandoned) {
		if (d->cfg.greet_done)
			d->cfg.greet_done(d->cfg.greet_arg);
		dial_free(d);
	}
	return NULL;
}

struct fc_dial *fc_dial_start(const struct fc_dial_cfg *cfg, char *err, size_t errlen)
{
	struct fc_dial *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;
	int rc;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	pthread_mutex_init(&d->lock, NULL);
	/* Timed waits on the monotonic clock: a wall-clock step must not stretch them. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&d->thread, NULL, dial_main, d);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread to connect: %s", strerror(rc));
		dial_free(d);
		return NULL;
	}
	return d;
}

bool fc_dial_wait(struct fc_dial *d, int timeout_ms)
{
	uint64_t until =
	    fc_clock_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * FC_NS_PER_MS;
	struct timespec ts = { .tv_sec = (time_t)(until / FC_NS_PER_S),
			       .tv_nsec = (long)(until % FC_NS_PER_S) };
	bool done;

	pthread_mutex_lock(&d->lock);
	while (!d->done && timeout_ms > 0 &&
	       pthread_cond_timedwait(&d->cond, &d->lock, &ts) != ETIMEDOUT)
		;
	done = d->done;
	pthread_mutex_unlock(&d->lock);
	return done;
}

struct fc_conn *fc_dial_finish(struct fc_dial *d, char *err, size_t errlen)
{
	struct fc_conn *conn;

	pthread_join(d->thread, NULL);
	conn = d->conn;
	d->conn = NULL;
	snprintf(err, errlen, "%s", conn ? "" : d->err);
	dial_free(d);
	return conn;
}

void fc_dial_abandon(struct fc_dial *d)
{
	bool done;

	pthread_mutex_lock(&d->lock);
	done = d->done;
	if (!done) {
		d->abandoned = true;
		pthread_detach(d->thread);
	}
	pthread_mutex_unlock(&d->lock);
	if (done) {
		pthread_join(d->thread, NULL);
		if (d->cfg.greet_done)
			d->cfg.greet_done(d->cfg.greet_arg);
		dial_free(d);
	}
}
