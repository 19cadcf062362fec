#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room in the kernel for a frame's datagrams in a burst, and for a viewer's reads falling a few
 * milliseconds behind: a 16 MiB frame would not fit, but it is paced (docs/UDP.md). */
#define SOCKET_BUFFER (4 << 20)

static void set_port(struct sockaddr_storage *sa, uint16_t port)
{
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *sa)
{
	return ntohs(sa->ss_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
					      : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

int fc_udp_open(int tcp_fd, uint16_t port, uint16_t *bound, char *err, size_t errlen)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int size = SOCKET_BUFFER;
	int fd;

	if (getsockname(tcp_fd, (struct sockaddr *)&local, &len) < 0 ||
	    (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
		snprintf(err, errlen, "not an IP connection: no UDP beside it");
		return -1;
	}
	set_port(&local, port);
	fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		return -1;
	}
	/* Best effort: the defaults (about 200 KB) drop a large frame's burst on loopback. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&local, len) < 0) {
		struct fc_udp_peer p = { .sa = local, .len = len };
		char where[80];

		snprintf(err, errlen, "UDP port %s: %s", fc_udp_peer_str(&p, where, sizeof(where)),
			 strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*bound = get_port(&local);
	return fd;
}

int fc_udp_peer_of(int tcp_fd, uint16_t port, struct fc_udp_peer *p, char *err, size_t errlen)
{
	p->len = sizeof(p->sa);
	if (getpeername(tcp_fd, (struct sockaddr *)&p->sa, &p->len) < 0 ||
	    (p->sa.ss_family != AF_INET && p->sa.ss_family != AF_INET6)) {
		snprintf(err, errlen, "the connection's peer has no IP address");
		return -1;
	}
	set_port(&p->sa, port);
	return 0;
}

int fc_udp_send(int fd, const struct fc_udp_peer *to, uint8_t *const *bufs, const size_t *lens,
		unsigned n)
{
	struct mmsghdr msgs[FC_UDP_BATCH];
	struct iovec iov[FC_UDP_BATCH];
	unsigned done = 0;

	while (done < n) {
		unsigned k = n - done < FC_UDP_BATCH ? n - done : FC_UDP_BATCH;
		int rc;

		for (unsigned i = 0; i < k; i++) {
			iov[i] =
			    (struct iovec){ .iov_base = bufs[done + i], .iov_len = lens[done + i] };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = (void *)&to->sa,
								 .msg_namelen = to->len,
								 .msg_iov = &iov[i],
								 .msg_iovlen = 1 } };
		}
		rc = sendmmsg(fd, msgs, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && (errno == EAGAIN || errno == ECONNREFUSED || errno == ENOBUFS))
			return (int)done;
		if (rc < 0)
			return -1;
		done += (unsigned)rc;
	}
	return (int)done;
}

long fc_udp_recv(int fd, uint8_t *buf, size_t cap, struct fc_udp_peer *from)
{
	for (;;) {
		ssize_t n;

		from->len = sizeof(from->sa);
		n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from->sa,
			     &from->len);
		if (n >= 0)
			return (size_t)n > cap ? (long)cap + 1 : (long)n;
		/* A refused earlier send (ICMP port unreachable) is not a datagram. */
		if (errno == EINTR || errno == ECONNREFUSED)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? FC_UDP_NONE : -1;
	}
}

bool fc_udp_same(const struct fc_udp_peer *a, const struct fc_udp_peer *b)
{
	return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

const char *fc_udp_peer_str(const struct fc_udp_peer *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (p->sa.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&p->sa)->sin6_addr, host,
			  sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, get_port(&p->sa));
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&p->sa)->sin_addr, host,
			  sizeof(host));
		snprintf(buf, len, "%s:%u", host, get_port(&p->sa));
	}
	return buf;
}
