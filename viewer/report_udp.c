#include "report_udp.h"

#include <stdio.h>

void fc_report_udp_json(struct fc_json *j, const struct fc_udprecv_stats *s)
{
	fc_json_object(j, "udp");
	fc_json_uint(j, "datagrams", s->datagrams);
	fc_json_uint(j, "bytes", s->bytes);
	fc_json_object(j, "refused");
	fc_json_uint(j, "invalid", s->refused_bad);
	fc_json_uint(j, "wrong_conn", s->refused_conn);
	fc_json_uint(j, "wrong_type", s->refused_type);
	fc_json_uint(j, "bad_frame", s->refused_frame);
	fc_json_uint(j, "conflicting", s->conflicts);
	fc_json_end(j);
	fc_json_uint(j, "duplicates", s->duplicates);
	fc_json_uint(j, "old", s->old);
	fc_json_uint(j, "frames_whole", s->whole);
	fc_json_uint(j, "given_up_late", s->given_up_late);
	fc_json_uint(j, "given_up_evicted", s->given_up_evicted);
	fc_json_uint(j, "forgotten_by_sender", s->forgotten);
	fc_json_uint(j, "nacks_sent", s->nacks);
	fc_json_uint(j, "chunks_asked", s->asked);
	fc_json_uint(j, "chunks_repaired", s->repaired);
	fc_json_uint(j, "keepalives", s->keepalives);
	fc_json_uint(j, "sender_moved", s->moved);
	fc_json_num(j, "repair_rtt_ms", (double)s->rtt_us / 1e3, 3);
	fc_json_end(j);
}

void fc_report_udp_text(const struct fc_udprecv_stats *s, char *line, size_t len, int *n)
{
	uint64_t refused = s->refused_bad + s->refused_conn + s->refused_type + s->refused_frame;

	if (*n < 0 || (size_t)*n >= len)
		return;
	*n += snprintf(line + *n, len - (size_t)*n,
		       " | udp %llu whole, %llu given up, %llu repaired, %llu refused",
		       (unsigned long long)s->whole,
		       (unsigned long long)(s->given_up_late + s->given_up_evicted),
		       (unsigned long long)s->repaired, (unsigned long long)refused);
}
