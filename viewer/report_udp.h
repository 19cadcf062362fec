/*
 * report_udp: the UDP transport's figures in the viewer's report (docs/STATS_JSON.md, "udp"):
 * the "udp" object of a --stats-json line and the short part of the console line. Pure
 * formatting of a copy of the counters (udprecv.h), which report.c takes under its lock and
 * formats outside it; main thread only.
 */
#ifndef FC_REPORT_UDP_H
#define FC_REPORT_UDP_H

#include <stddef.h>

#include "json.h"
#include "udprecv.h"

/* The "udp" object: the counts of the stream's current connection. */
void fc_report_udp_json(struct fc_json *j, const struct fc_udprecv_stats *s);

/* " | udp: D datagrams, W whole, G given up, R repaired" into line at *n (bounded by len). */
void fc_report_udp_text(const struct fc_udprecv_stats *s, char *line, size_t len, int *n);

#endif
