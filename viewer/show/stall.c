#include "stall.h"

#include <stdio.h>
#include <string.h>

uint64_t fc_stall_after_ns(uint32_t fps_milli, uint64_t budget_ns)
{
	/* A frame period is 1000 s / fps_milli; a rate not known is as slow as can be. */
	uint64_t periods =
	    fps_milli ? FC_STALL_PERIODS * 1000000000000ull / fps_milli : FC_STALL_MAX_NS;
	uint64_t budgets =
	    budget_ns < FC_STALL_MAX_NS ? FC_STALL_MIN_BUDGETS * budget_ns : FC_STALL_MAX_NS;
	uint64_t after = periods > budgets ? periods : budgets;

	if (after < FC_STALL_MIN_NS)
		after = FC_STALL_MIN_NS;
	return after < FC_STALL_MAX_NS ? after : FC_STALL_MAX_NS;
}

void fc_stall_init(struct fc_stall *s, uint64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	s->after_ns = FC_STALL_MAX_NS;
	s->shown_ns = now_ns;
	s->mark_ns = now_ns;
	s->received_ns = now_ns;
	s->fresh = true;
}

void fc_stall_shown(struct fc_stall *s, uint64_t now_ns)
{
	s->gap_ns = now_ns > s->shown_ns ? now_ns - s->shown_ns : 0;
	s->shown_ns = now_ns;
	s->fresh = true;
}

/* What went wrong lately, from how the counts grew since the older window began. */
static enum fc_stall_why judge(const struct fc_stall *s, const struct fc_report_counts *now)
{
	uint64_t rejected = now->rejected - s->older.rejected;
	uint64_t late_display = now->late_display - s->older.late_display;
	uint64_t corrupt = now->corrupt - s->older.corrupt;

	if (!rejected && !late_display && !corrupt)
		return FC_STALL_SILENT;
	if (rejected >= late_display && rejected >= corrupt)
		return FC_STALL_LATE;
	return late_display >= corrupt ? FC_STALL_DISPLAY_LATE : FC_STALL_CORRUPT;
}

bool fc_stall_update(struct fc_stall *s, uint64_t now_ns, const struct fc_stall_input *in)
{
	enum fc_stall_why why;
	enum fc_stall_why was = s->why;

	if (in->connected) {
		s->after_ns = fc_stall_after_ns(in->fps_milli, in->budget_ns);
		s->period_ns = in->fps_milli ? 1000000000000ull / in->fps_milli : 0;
	}
	if (s->fresh) {
		s->older = s->newer = in->live.c;
		s->mark_ns = now_ns;
		s->fresh = false;
	} else if (now_ns - s->mark_ns >= s->after_ns) {
		s->older = s->newer;
		s->newer = in->live.c;
		s->mark_ns = now_ns;
	}
	if (in->live.c.received != s->received) {
		s->received = in->live.c.received;
		s->received_ns = now_ns;
	}
	if (now_ns <= s->shown_ns || now_ns - s->shown_ns <= s->after_ns)
		why = FC_STALL_NONE;
	else if (!in->connected)
		why = FC_STALL_RECONNECTING;
	else if (in->live.source_lost)
		why = FC_STALL_CAMERA_LOST;
	else if (now_ns - s->received_ns > s->after_ns)
		why = FC_STALL_SILENT; /* late or broken frames before do not explain none now */
	else
		why = judge(s, &in->live.c);
	s->why = why;
	s->listening = in->listening;
	s->budget_ns = in->budget_ns;
	if (why == FC_STALL_LATE)
		s->bound_ns = in->live.last_bound_ns;
	return why != was;
}

double fc_stall_seconds(const struct fc_stall *s, uint64_t now_ns)
{
	return now_ns > s->shown_ns ? (double)(now_ns - s->shown_ns) / 1e9 : 0.0;
}

static const char *headline(enum fc_stall_why why)
{
	switch (why) {
	case FC_STALL_NONE:
		return "";
	case FC_STALL_RECONNECTING:
	case FC_STALL_SILENT:
		return "NO SIGNAL";
	case FC_STALL_CAMERA_LOST:
		return "CAMERA LOST";
	case FC_STALL_LATE:
		return "ALL FRAMES LATE";
	case FC_STALL_DISPLAY_LATE:
		return "FRAMES LATE AT THE DISPLAY";
	case FC_STALL_CORRUPT:
		return "FRAMES DO NOT DECODE";
	}
	return "";
}

static void detail(const struct fc_stall *s, char *buf, size_t len)
{
	switch (s->why) {
	case FC_STALL_NONE:
		buf[0] = '\0';
		break;
	case FC_STALL_RECONNECTING:
		snprintf(buf, len, "%s",
			 s->listening ? "sender lost, waiting for it to dial in"
				      : "sender lost, reconnecting");
		break;
	case FC_STALL_CAMERA_LOST:
		snprintf(buf, len, "the sender's camera is gone; it retries every second");
		break;
	case FC_STALL_SILENT:
		/* A sender slower than the bound on `after`: not a fault, but still no live picture. */
		if (s->period_ns > s->after_ns)
			snprintf(buf, len, "no frames from the sender (it sends one every %.1f s)",
				 (double)s->period_ns / 1e9);
		else
			snprintf(buf, len, "no frames from the sender");
		break;
	case FC_STALL_LATE:
		if (s->bound_ns == UINT64_MAX || s->bound_ns == 0)
			snprintf(buf, len, "age bound unknown > budget %.1f ms",
				 (double)s->budget_ns / 1e6);
		else
			snprintf(buf, len, "age bound %.1f ms > budget %.1f ms",
				 (double)s->bound_ns / 1e6, (double)s->budget_ns / 1e6);
		break;
	case FC_STALL_DISPLAY_LATE:
		snprintf(buf, len, "decoding and drawing age them past the %.1f ms budget",
			 (double)s->budget_ns / 1e6);
		break;
	case FC_STALL_CORRUPT:
		snprintf(buf, len, "the sender's JPEGs are broken");
		break;
	}
}

void fc_stall_banner(const struct fc_stall *s, uint64_t now_ns, char *buf, size_t len)
{
	char d[128];

	if (s->why == FC_STALL_NONE) {
		if (len)
			buf[0] = '\0';
		return;
	}
	detail(s, d, sizeof(d));
	snprintf(buf, len, "%s\n%s\n%.1f s", headline(s->why), d, fc_stall_seconds(s, now_ns));
}

void fc_stall_line(const struct fc_stall *s, uint64_t now_ns, char *buf, size_t len)
{
	char d[128];

	if (s->why == FC_STALL_NONE) {
		snprintf(buf, len, "live again after %.1f s without a frame",
			 (double)s->gap_ns / 1e9);
		return;
	}
	detail(s, d, sizeof(d));
	snprintf(buf, len, "%s - %s - %.1f s", headline(s->why), d, fc_stall_seconds(s, now_ns));
}
