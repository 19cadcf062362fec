/*
 * tcpstat: what the kernel knows of one TCP connection's link, read without touching the stream.
 *
 * The sender fits each viewer's frames to its link (sender/serve/adapt.h), and the kernel already
 * measures much of that link for its own congestion control: the least round trip it has seen,
 * how many bytes went out and came back acknowledged, how many segments it had to send again.
 * A sample is one getsockopt(TCP_INFO) and one ioctl(SIOCOUTQ): a couple of microseconds, cheap
 * enough for every frame.
 *
 * fc_tcpstat_lowat keeps the socket's unsent queue short (TCP_NOTSENT_LOWAT): the socket stops
 * taking bytes, and stops polling writable, once that many are waiting to be sent, so a new
 * frame never queues behind an old one in the kernel.
 *
 * Pure wrappers over one fd; thread-safe; errors returned, never printed.
 */
#ifndef FC_TCPSTAT_H
#define FC_TCPSTAT_H

#include <stdint.h>

struct fc_tcpstat {
	uint64_t min_rtt_ns;	/* the least round trip the kernel measured lately; 0: none yet */
	uint64_t srtt_ns;	/* its smoothed round trip */
	uint64_t pending;	/* bytes written and not yet acknowledged (sent or not) */
	uint64_t acked;		/* bytes acknowledged since the connection began */
	uint64_t delivery_rate; /* bytes/s of the latest delivery the kernel measured */
	uint32_t retrans;	/* segments sent again since the connection began */
	uint32_t mss;		/* bytes in a full segment */
	uint8_t app_limited;	/* delivery_rate was measured while the sender had little to send */
};

/* Fills out from fd's TCP connection. -1 with errno when fd is not a TCP socket (a Unix
 * socketpair in a test, say): the caller then goes on without the kernel's figures. */
int fc_tcpstat_read(int fd, struct fc_tcpstat *out);

/* Sets TCP_NOTSENT_LOWAT to bytes. -1 with errno on failure. */
int fc_tcpstat_lowat(int fd, unsigned bytes);

#endif
