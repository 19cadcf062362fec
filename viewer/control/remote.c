#include "remote.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"

#define QUEUE 32 /* commands queued or awaiting their answer */

struct entry {
	struct fc_control cmd;
	bool cmdline;	 /* the command line's: fc_remote_done waits for it */
	char path[512];	 /* a still's file; empty: still-SEQ.jpg */
	char saved[600]; /* where its STILL went, once it came */
	bool still_came;
};

struct fc_remote {
	pthread_mutex_t lock; /* guards the indices and the entries between them */
	struct entry q[QUEUE];
	unsigned head; /* the oldest command sent and not answered */
	unsigned sent; /* the first not sent yet */
	unsigned tail; /* one past the last queued */
	uint32_t next_id;
	int cmdline_left; /* command-line commands without their answer */
	bool asked;
	char station[FC_PROTO_MAX_STATION + 16]; /* in the stills' names; "": one sender */
};

/* Queues cmd; false when the queue is full. Under the lock. */
static bool push(struct fc_remote *r, struct fc_control cmd, bool cmdline, const char *path)
{
	struct entry *e;

	if (r->tail - r->head >= QUEUE)
		return false;
	e = &r->q[r->tail++ % QUEUE];
	memset(e, 0, sizeof(*e));
	cmd.id = ++r->next_id;
	e->cmd = cmd;
	e->cmdline = cmdline;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	r->cmdline_left += cmdline;
	return true;
}

struct fc_remote *fc_remote_new(const struct fc_remote_cfg *cfg, const char *station)
{
	struct fc_remote *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->station, sizeof(r->station), "%s", station ? station : "");
	pthread_mutex_init(&r->lock, NULL);
	if (cfg->list)
		push(r, (struct fc_control){ .op = FC_CONTROL_LIST }, true, NULL);
	for (int i = 0; i < cfg->nset && i < FC_REMOTE_MAX_SETS; i++) {
		struct fc_control c = { .op = FC_CONTROL_SET, .value = cfg->set[i].value };

		snprintf(c.name, sizeof(c.name), "%s", cfg->set[i].name);
		push(r, c, true, NULL);
	}
	if (cfg->still)
		push(r, (struct fc_control){ .op = FC_CONTROL_STILL }, true, cfg->still_path);
	r->asked = r->tail > 0;
	return r;
}

void fc_remote_free(struct fc_remote *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int fc_remote_send(struct fc_remote *r, struct fc_conn *conn, int timeout_ms)
{
	for (;;) {
		struct fc_msg m = { .type = FC_MSG_CONTROL };

		pthread_mutex_lock(&r->lock);
		if (r->sent == r->tail) {
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		m.u.control = r->q[r->sent % QUEUE].cmd;
		r->sent++; /* before the send: its answer may be the next message */
		pthread_mutex_unlock(&r->lock);
		if (fc_conn_send(conn, &m, timeout_ms) < 0)
			return -1;
	}
}

/* Writes the still's JPEG and its metadata (PATH.json) for e; the saved file's name in e, or
 * a warning. Network thread, no lock held (e is the head, which only this thread removes). */
static void save_still(struct entry *e, const struct fc_still *s, const char *station)
{
	struct fc_json *j = malloc(sizeof(*j));
	char meta[sizeof(e->saved) + 8];
	const char *line = NULL;
	FILE *f;

	if (e->path[0])
		snprintf(e->saved, sizeof(e->saved), "%s", e->path);
	else if (station[0])
		snprintf(e->saved, sizeof(e->saved), "still-%s-%" PRIu64 ".jpg", station, s->seq);
	else
		snprintf(e->saved, sizeof(e->saved), "still-%" PRIu64 ".jpg", s->seq);
	f = fopen(e->saved, "wb");
	if (!f || fwrite(s->jpeg, 1, s->jpeg_size, f) != s->jpeg_size || fclose(f) != 0) {
		fc_warn("cannot write the still to %s: %s", e->saved, strerror(errno));
		e->saved[0] = '\0';
		free(j);
		return;
	}
	if (j) {
		fc_json_begin(j);
		fc_json_uint(j, "seq", s->seq);
		fc_json_uint(j, "width", s->width);
		fc_json_uint(j, "height", s->height);
		fc_json_uint(j, "quality", s->quality);
		fc_json_uint(j, "bytes", s->jpeg_size);
		fc_json_num(j, "age_at_send_ms", (double)s->age_ns / 1e6, 3);
		fc_json_uint(j, "capture_real_ns", s->real_ns);
		fc_json_uint(j, "received_real_ns", fc_clock_real_ns());
		line = fc_json_finish(j);
	}
	snprintf(meta, sizeof(meta), "%s.json", e->saved);
	f = line ? fopen(meta, "w") : NULL;
	if (!f || fputs(line, f) == EOF || fclose(f) != 0)
		fc_warn("cannot write the still's metadata to %s: %s", meta, strerror(errno));
	free(j);
}

/* Says what the answer to e was. */
static void print_result(const struct entry *e, const struct fc_control_result *res)
{
	const char *op = fc_proto_control_op_name(e->cmd.op);

	if (res->status != FC_CONTROL_OK) {
		fc_warn("camera %s%s%s: %s: %.*s", op, e->cmd.name[0] ? " " : "", e->cmd.name,
			fc_proto_control_status_name(res->status), (int)res->text_len, res->text);
	} else if (e->cmd.op == FC_CONTROL_LIST) {
		/* The list itself, for the person or the program reading standard output. */
		fwrite(res->text, 1, res->text_len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	} else if (e->cmd.op == FC_CONTROL_STILL) {
		if (e->saved[0])
			fc_info("still saved to %s (%.*s)", e->saved, (int)res->text_len,
				res->text);
	} else {
		fc_info("camera: %.*s", (int)res->text_len, res->text);
	}
}

/* The command awaiting an answer with this id, or NULL with why. Under the lock. */
static struct entry *awaited(struct fc_remote *r, uint32_t id, const char *what, char *why,
			     size_t len)
{
	struct entry *e = r->head != r->sent ? &r->q[r->head % QUEUE] : NULL;

	if (e && e->cmd.id == id)
		return e;
	if (e)
		snprintf(why, len, "a %s for command %u; expected command %u's", what, id,
			 e->cmd.id);
	else
		snprintf(why, len, "a %s for command %u, which was not sent", what, id);
	return NULL;
}

int fc_remote_on_message(struct fc_remote *r, const struct fc_msg *m, char *why, size_t len)
{
	struct entry *e;
	uint32_t id = m->type == FC_MSG_STILL ? m->u.still.id : m->u.result.id;

	pthread_mutex_lock(&r->lock);
	e = awaited(r, id, fc_proto_type_name(m->type), why, len);
	pthread_mutex_unlock(&r->lock);
	if (!e)
		return -1;
	if (m->type == FC_MSG_STILL) {
		if (e->cmd.op != FC_CONTROL_STILL || e->still_came) {
			snprintf(why, len, "a STILL for command %u, which asked none", id);
			return -1;
		}
		e->still_came = true;
		save_still(e, &m->u.still, r->station);
		return 0;
	}
	print_result(e, &m->u.result);
	pthread_mutex_lock(&r->lock);
	r->cmdline_left -= e->cmdline;
	r->head++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void fc_remote_lost(struct fc_remote *r)
{
	pthread_mutex_lock(&r->lock);
	for (; r->head != r->sent; r->head++) {
		struct entry *e = &r->q[r->head % QUEUE];

		fc_warn("camera %s%s%s: no answer: the connection ended",
			fc_proto_control_op_name(e->cmd.op), e->cmd.name[0] ? " " : "",
			e->cmd.name);
		r->cmdline_left -= e->cmdline;
	}
	pthread_mutex_unlock(&r->lock);
}

void fc_remote_ask(struct fc_remote *r, uint8_t op, const char *name, int64_t value)
{
	struct fc_control c = { .op = op, .value = value };
	bool ok;

	snprintf(c.name, sizeof(c.name), "%s", name ? name : "");
	pthread_mutex_lock(&r->lock);
	ok = push(r, c, false, NULL);
	pthread_mutex_unlock(&r->lock);
	if (!ok)
		fc_warn("camera %s: %d commands are waiting for the sender already; not asked",
			fc_proto_control_op_name(op), QUEUE);
}

bool fc_remote_asked(const struct fc_remote *r)
{
	return r->asked; /* set once, before any thread starts */
}

bool fc_remote_done(struct fc_remote *r)
{
	bool done;

	pthread_mutex_lock(&r->lock);
	done = r->cmdline_left == 0;
	pthread_mutex_unlock(&r->lock);
	return done;
}

int fc_remote_parse_set(const char *arg, struct fc_remote_set *set, char *why, size_t len)
{
	const char *eq = strchr(arg, '=');
	char *end = NULL;
	long long v;

	if (!eq || !fc_proto_control_name_ok(arg, (size_t)(eq - arg))) {
		snprintf(why, len,
			 "--control %s: expected NAME=VALUE, NAME as --list-controls shows it "
			 "(e.g. brightness=40)",
			 arg);
		return -1;
	}
	errno = 0;
	v = strtoll(eq + 1, &end, 0);
	if (errno || end == eq + 1 || *end) {
		snprintf(why, len, "--control %s: the value must be a whole number", arg);
		return -1;
	}
	snprintf(set->name, sizeof(set->name), "%.*s", (int)(eq - arg), arg);
	set->value = v;
	return 0;
}
