/*
 * udp: the UDP socket of one connection's datagram transport (docs/PROTOCOL.md, section 13),
 * beside the TCP connection that carried its handshake: opened on the TCP connection's own local
 * address (so datagrams take the path the handshake took), and aimed at the TCP peer's address
 * with the port the peer announced, until a datagram with the right connection id says where the
 * peer really is (a NAT in between rewrites ports, and may rebind them).
 *
 * Sockets are non-blocking and close-on-exec; sends never block (a full buffer drops the datagram,
 * which the transport repairs or gives up, as it does any loss). Functions return -1 with the
 * reason in err, naming the address and the errno; nothing prints. Thread-safe (no shared state);
 * each socket belongs to the thread of its connection.
 */
#ifndef FC_UDP_H
#define FC_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Where datagrams go to, or came from. */
struct fc_udp_peer {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Datagrams handed to the kernel in one sendmmsg, or read in one recvmmsg, at most. */
#define FC_UDP_BATCH 32

/* Opens a UDP socket of tcp_fd's family on its local address, at port (0: any free port);
 * *bound says which. -1 with err when tcp_fd is not an IP connection (a socketpair inside the
 * process: no datagrams to offer) or the port cannot be had. */
int fc_udp_open(int tcp_fd, uint16_t port, uint16_t *bound, char *err, size_t errlen);

/* The TCP peer's address with its port replaced by port: where to send first. */
int fc_udp_peer_of(int tcp_fd, uint16_t port, struct fc_udp_peer *p, char *err, size_t errlen);

/* Sends n datagrams (bufs[i], lens[i]) to `to`, as many per call as the kernel takes. Returns
 * how many left; a full buffer (EAGAIN) or a peer that refuses (ECONNREFUSED from an earlier
 * datagram) stops early without error: datagrams may be lost. -1 on any other error (errno). */
int fc_udp_send(int fd, const struct fc_udp_peer *to, uint8_t *const *bufs, const size_t *lens,
		unsigned n);

/* fc_udp_recv: no datagram is waiting. Apart from 0, which is an empty datagram: anyone may
 * send one, and it must be counted with the other bad ones, not taken for quiet. */
#define FC_UDP_NONE (-2)

/* Reads one datagram into buf[0..cap): its length (0 for an empty one; a longer one is cut, and
 * reported as cap + 1 so the caller refuses it), FC_UDP_NONE when none is waiting, -1 on an
 * error (errno). */
long fc_udp_recv(int fd, uint8_t *buf, size_t cap, struct fc_udp_peer *from);

bool fc_udp_same(const struct fc_udp_peer *a, const struct fc_udp_peer *b);

/* "ADDR:PORT" (IPv6 in brackets) of p, into buf. */
const char *fc_udp_peer_str(const struct fc_udp_peer *p, char *buf, size_t len);

#endif
