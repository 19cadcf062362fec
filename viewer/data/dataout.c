#include "dataout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jlines.h"
#include "log.h"

#define WRITE_MS 100 /* a program that takes no line for this long is let go */

/* A document of an accepted frame, on its way to the thread (and the newest, for the figures). */
struct entry {
	uint64_t seq;
	uint64_t bound_ns;
	uint64_t recv_real_ns;
	uint32_t size;
	uint8_t doc[FC_PROTO_MAX_DATA];
};

struct result {
	uint64_t seq;
	uint32_t size;
	uint8_t doc[FC_PROTO_MAX_DATA];
};

struct program {
	int fd; /* -1: the place is free */
	struct fc_jlines in;
};

struct fc_dataout {
	struct fc_dataout_cfg cfg;
	int lfd;		 /* the --data-out socket, or -1 */
	int fifo;		 /* the --data-out FIFO, or -1 */
	char path[4200];	 /* cfg.path's copy: the caller's may not outlive the call */
	char sidecar_path[4200]; /* cfg.sidecar's copy, likewise */
	FILE *sidecar;	   /* opened at the first document: a recording of nothing leaves nothing */
	bool sidecar_said; /* it could not be opened, and that was said */
	int wake_fd;	   /* eventfd: documents queued, or stop */
	atomic_bool stop;
	bool running;
	pthread_t thread;
	/* Network thread to ours: the producer moves tail, the consumer head. */
	struct entry queue[FC_DATAOUT_QUEUE];
	_Atomic unsigned qhead, qtail;
	/* Ours to the network thread. */
	struct result results[FC_DATAOUT_RESULTS];
	_Atomic unsigned rhead, rtail;
	/* The thread's own. */
	struct program prog[FC_DATAOUT_PROGRAMS];
	struct program *reading; /* whose lines are being taken */
	uint64_t given;		 /* the newest seq written out */
	struct fc_json json;
	/* The figures. */
	_Atomic uint64_t frames, rejected, dropped, results_sent;
	pthread_mutex_t lock; /* the newest, for the figures: the copy only */
	struct entry newest;
	bool have_newest;
	bool fresh; /* newest came since the last figures */
};

static void say(struct fc_dataout *d, struct program *p, const char *why)
{
	const char *line;

	fc_json_begin(&d->json);
	fc_json_str(&d->json, "error", why);
	fc_json_uint(&d->json, "line", p->in.line);
	line = fc_json_finish(&d->json);
	if (line && fc_jlines_write(p->fd, line, strlen(line), WRITE_MS) < 0) {
		close(p->fd);
		p->fd = -1;
	}
}

/* The frame a result {"seq":N,"data":DOC} answers, with the span of DOC; 0 when the line is
 * not such a result. */
static uint64_t result_seq(const uint8_t *doc, size_t len, size_t *vo, size_t *vl)
{
	size_t so = 0, sl = 0;
	char num[24] = "";

	if (!fc_jdoc_member(doc, len, "seq", &so, &sl) || !fc_jdoc_member(doc, len, "data", vo, vl))
		return 0;
	if (sl >= sizeof(num) || strspn((const char *)doc + so, "0123456789") < sl)
		return 0;
	memcpy(num, doc + so, sl);
	return strtoull(num, NULL, 10);
}

/* A result line from a program: queued for the sender, or refused. */
static void take_result(void *arg, const uint8_t *doc, size_t len, const char *why)
{
	struct fc_dataout *d = arg;
	struct program *p = d->reading;
	unsigned tail = atomic_load(&d->rtail);
	struct result *r = &d->results[tail % FC_DATAOUT_RESULTS];
	size_t vo = 0, vl = 0;
	uint64_t seq = doc ? result_seq(doc, len, &vo, &vl) : 0;
	char text[160];

	if (p->fd < 0)
		return;
	if (!why && seq == 0)
		why = "a result is an object {\"seq\":N,\"data\":DOC}, N a frame given to this "
		      "program";
	if (!why && seq > d->given) {
		snprintf(text, sizeof(text),
			 "seq %llu was not given to this program (the newest is %llu)",
			 (unsigned long long)seq, (unsigned long long)d->given);
		why = text;
	}
	if (!why && tail - atomic_load(&d->rhead) >= FC_DATAOUT_RESULTS)
		why = "too many results waiting for the sender; this one is dropped";
	if (why) {
		say(d, p, why);
		return;
	}
	r->seq = seq;
	r->size = (uint32_t)vl;
	memcpy(r->doc, doc + vo, vl);
	atomic_store(&d->rtail, tail + 1);
}

/* The recording's documents, from the first on: the thread's loop says once if it cannot. */
static void open_sidecar(struct fc_dataout *d)
{
	int fd = open(d->cfg.sidecar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	d->sidecar = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (d->sidecar)
		return;
	fc_warn("recording: cannot write the documents to %s: %s (the frames are still recorded)",
		d->cfg.sidecar, strerror(errno));
	if (fd >= 0)
		close(fd);
	d->sidecar_said = true;
}

/* One document out to every program, the FIFO and the sidecar. */
static void give(struct fc_dataout *d, const struct entry *e)
{
	const char *line;
	size_t n;

	fc_json_begin(&d->json);
	fc_json_uint(&d->json, "seq", e->seq);
	fc_json_num(&d->json, "bound_ms", (double)e->bound_ns / 1e6, 3);
	fc_json_uint(&d->json, "recv_unix_ns", e->recv_real_ns);
	fc_json_raw(&d->json, "data", e->doc, e->size);
	line = fc_json_finish(&d->json);
	if (!line)
		return;
	n = strlen(line);
	d->given = e->seq;
	for (int i = 0; i < FC_DATAOUT_PROGRAMS; i++) {
		struct program *p = &d->prog[i];

		if (p->fd >= 0 && fc_jlines_write(p->fd, line, n, WRITE_MS) < 0) {
			close(p->fd); /* too slow, or gone: part of a line may be out */
			p->fd = -1;
			atomic_fetch_add(&d->dropped, 1);
		}
	}
	if (d->fifo >= 0 && write(d->fifo, line, n) != (ssize_t)n)
		atomic_fetch_add(&d->dropped, 1); /* no reader, or a full FIFO */
	if (d->cfg.sidecar && !d->sidecar && !d->sidecar_said)
		open_sidecar(d);
	if (d->sidecar)
		fputs(line, d->sidecar);
}

static void drain(struct fc_dataout *d)
{
	unsigned head = atomic_load(&d->qhead);

	while (head != atomic_load(&d->qtail)) {
		give(d, &d->queue[head % FC_DATAOUT_QUEUE]);
		atomic_store(&d->qhead, ++head);
	}
	if (d->sidecar)
		fflush(d->sidecar);
}

/* A program connects: it gets a place, or a line saying why not. */
static void accept_program(struct fc_dataout *d)
{
	int i = 0;
	int fd;

	while (i < FC_DATAOUT_PROGRAMS && d->prog[i].fd >= 0)
		i++;
	fd = fc_jlines_accept(d->lfd, i < FC_DATAOUT_PROGRAMS, "--data-out");
	if (fd < 0)
		return;
	d->prog[i].fd = fd;
	d->prog[i].in.len = 0;
	d->prog[i].in.line = 0;
	d->prog[i].in.skipping = false;
}

static void *dataout_main(void *arg)
{
	struct fc_dataout *d = arg;
	struct pollfd pfd[2 + FC_DATAOUT_PROGRAMS];
	int who[2 + FC_DATAOUT_PROGRAMS];
	uint64_t counter;

	pthread_setname_np(pthread_self(), "fc-data");
	while (!atomic_load(&d->stop)) {
		nfds_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = d->lfd, .events = POLLIN }; /* -1: ignored */
		for (int i = 0; i < FC_DATAOUT_PROGRAMS; i++) {
			if (d->prog[i].fd < 0)
				continue;
			who[n] = i;
			pfd[n++] = (struct pollfd){ .fd = d->prog[i].fd, .events = POLLIN };
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			(void)!read(d->wake_fd, &counter, sizeof(counter));
		drain(d);
		for (nfds_t k = 2; k < n; k++) {
			struct program *p = &d->prog[who[k]];

			d->reading = p;
			if (pfd[k].revents && p->fd >= 0 &&
			    fc_jlines_read(&p->in, p->fd, take_result, d) < 0 && p->fd >= 0) {
				close(p->fd);
				p->fd = -1;
			}
		}
		if (pfd[1].revents & POLLIN)
			accept_program(d);
	}
	drain(d);
	return NULL;
}

/* --data-out and the sidecar, opened. */
static int open_outputs(struct fc_dataout *d, char *err, size_t errlen)
{
	char why[320];

	if (d->cfg.path && fc_jlines_open(d->cfg.path, &d->lfd, &d->fifo, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--data-out %s", why);
		return -1;
	}
	return 0;
}

static void close_outputs(struct fc_dataout *d)
{
	for (int i = 0; i < FC_DATAOUT_PROGRAMS; i++)
		if (d->prog[i].fd >= 0)
			close(d->prog[i].fd);
	if (d->lfd >= 0) {
		close(d->lfd);
		(void)unlink(d->cfg.path);
	}
	if (d->fifo >= 0)
		close(d->fifo);
	if (d->sidecar)
		fclose(d->sidecar);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
}

struct fc_dataout *fc_dataout_start(const struct fc_dataout_cfg *cfg, char *err, size_t errlen)
{
	struct fc_dataout *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	if (cfg->path) {
		snprintf(d->path, sizeof(d->path), "%s", cfg->path);
		d->cfg.path = d->path;
	}
	if (cfg->sidecar) {
		snprintf(d->sidecar_path, sizeof(d->sidecar_path), "%s", cfg->sidecar);
		d->cfg.sidecar = d->sidecar_path;
	}
	d->lfd = d->fifo = -1;
	for (int i = 0; i < FC_DATAOUT_PROGRAMS; i++)
		d->prog[i].fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (open_outputs(d, err, errlen) < 0)
		goto fail;
	if (!cfg->path && !cfg->sidecar)
		return d; /* the figures only: no thread */
	rc = pthread_create(&d->thread, NULL, dataout_main, d);
	if (rc == 0) {
		d->running = true;
		return d;
	}
	snprintf(err, errlen, "cannot start the data thread: %s", strerror(rc));
fail:
	close_outputs(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

void fc_dataout_stop(struct fc_dataout *d)
{
	const uint64_t one = 1;

	if (!d)
		return;
	atomic_store(&d->stop, true);
	if (d->running) {
		(void)!write(d->wake_fd, &one, sizeof(one));
		pthread_join(d->thread, NULL);
	}
	close_outputs(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void fc_dataout_frame(struct fc_dataout *d, uint64_t seq, uint64_t bound_ns, uint64_t recv_real_ns,
		      const uint8_t *doc, size_t size)
{
	const uint64_t one = 1;
	unsigned tail = atomic_load(&d->qtail);
	struct entry *e = &d->queue[tail % FC_DATAOUT_QUEUE];

	atomic_fetch_add(&d->frames, 1);
	pthread_mutex_lock(&d->lock);
	d->newest =
	    (struct entry){ .seq = seq, .bound_ns = bound_ns, .recv_real_ns = recv_real_ns };
	d->newest.size = (uint32_t)size;
	memcpy(d->newest.doc, doc, size);
	d->have_newest = d->fresh = true;
	pthread_mutex_unlock(&d->lock);
	if (!d->running)
		return;
	if (tail - atomic_load(&d->qhead) >= FC_DATAOUT_QUEUE) {
		atomic_fetch_add(&d->dropped, 1);
		return;
	}
	e->seq = seq;
	e->bound_ns = bound_ns;
	e->recv_real_ns = recv_real_ns;
	e->size = (uint32_t)size;
	memcpy(e->doc, doc, size);
	atomic_store(&d->qtail, tail + 1);
	(void)!write(d->wake_fd, &one, sizeof(one));
}

void fc_dataout_rejected(struct fc_dataout *d)
{
	atomic_fetch_add(&d->rejected, 1);
}

bool fc_dataout_result(struct fc_dataout *d, struct fc_data *out, uint8_t *buf)
{
	unsigned head = atomic_load(&d->rhead);
	const struct result *r = &d->results[head % FC_DATAOUT_RESULTS];

	if (head == atomic_load(&d->rtail))
		return false;
	memcpy(buf, r->doc, r->size);
	*out = (struct fc_data){ .seq = r->seq, .doc = buf, .size = r->size };
	atomic_store(&d->rhead, head + 1);
	atomic_fetch_add(&d->results_sent, 1);
	return true;
}

void fc_dataout_json(struct fc_dataout *d, struct fc_json *j, bool summary)
{
	static struct entry e; /* main thread only: too large for its stack */
	bool have;

	fc_json_uint(j, "data_frames", atomic_load(&d->frames));
	fc_json_uint(j, "data_rejected", atomic_load(&d->rejected));
	fc_json_uint(j, "data_out_dropped", atomic_load(&d->dropped));
	fc_json_uint(j, "data_results", atomic_load(&d->results_sent));
	pthread_mutex_lock(&d->lock);
	have = summary ? d->have_newest : d->fresh;
	if (have)
		e = d->newest;
	d->fresh = false;
	pthread_mutex_unlock(&d->lock);
	if (!have)
		return;
	fc_json_object(j, "data");
	fc_json_uint(j, "seq", e.seq);
	fc_json_num(j, "bound_ms", (double)e.bound_ns / 1e6, 3);
	fc_json_raw(j, "doc", e.doc, e.size);
	fc_json_end(j);
}

void fc_dataout_sidecar_path(const char *record_path, bool is_dir, char *out, size_t outlen)
{
	size_t n = strlen(record_path);

	while (is_dir && n > 1 && record_path[n - 1] == '/')
		n--;
	snprintf(out, outlen, "%.*s%s", (int)n, record_path,
		 is_dir ? "/data.jsonl" : ".data.jsonl");
}

struct fc_dataout *fc_dataout_open(const char *data_out, const char *record, char *err,
				   size_t errlen)
{
	char sidecar[4200];
	struct stat st;

	if (record)
		fc_dataout_sidecar_path(record, stat(record, &st) == 0 && S_ISDIR(st.st_mode),
					sidecar, sizeof(sidecar));
	return fc_dataout_start(
	    &(struct fc_dataout_cfg){ .path = data_out, .sidecar = record ? sidecar : NULL }, err,
	    errlen);
}
