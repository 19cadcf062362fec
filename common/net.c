#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

int fc_net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void fc_net_tune(int fd)
{
	int one = 1;

	/* Best effort: a socket without these still works, only later or slower. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* Whether text (up to a zone, "%eth0") is an IPv6 address written without brackets. */
static bool bare_ipv6(const char *text)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t n = strcspn(text, "%");

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, text, n);
	addr[n] = '\0';
	return inet_pton(AF_INET6, addr, &a6) == 1;
}

static int copy_host(struct fc_addr *addr, const char *from, size_t len, const char *text,
		     char *err, size_t errlen)
{
	if (len >= sizeof(addr->host)) {
		snprintf(err, errlen, "host name too long in '%.40s...'", text);
		return -1;
	}
	memcpy(addr->host, from, len);
	addr->host[len] = '\0';
	return 0;
}

/*
 * Splits text into addr->host and the port's text (*port_text; NULL when there is none). An
 * unbracketed text with two colons or more is an IPv6 address without a port: a port after an
 * IPv6 address needs the brackets ("[::1]:7373"), or "fe80::1:7373" could be either.
 */
static int split(const char *text, int flags, struct fc_addr *addr, const char **port_text,
		 char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');

	*port_text = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] != ':' && close[1] != '\0')) {
			snprintf(err, errlen, "'%s': an IPv6 address is written [ADDR]:PORT", text);
			return -1;
		}
		if (close[1] == ':')
			*port_text = close + 2;
		return copy_host(addr, text + 1, (size_t)(close - text - 1), text, err, errlen);
	}
	if (colon && colon != strchr(text, ':')) {
		if (!bare_ipv6(text)) {
			snprintf(err, errlen,
				 "'%s' is neither HOST:PORT nor an IPv6 address (with a port, an "
				 "IPv6 address is written [ADDR]:PORT)",
				 text);
			return -1;
		}
		return copy_host(addr, text, strlen(text), text, err, errlen);
	}
	if (colon) {
		*port_text = colon + 1;
		return copy_host(addr, text, (size_t)(colon - text), text, err, errlen);
	}
	if (!(flags & FC_NET_HOST_OPTIONAL))
		return copy_host(addr, text, strlen(text), text, err, errlen);
	*port_text = text; /* a bare PORT */
	return 0;
}

int fc_net_parse_addr(const char *text, int flags, struct fc_addr *addr, char *err, size_t errlen)
{
	const char *port_text;
	char *end;
	long port = FC_NET_DEFAULT_PORT;

	memset(addr, 0, sizeof(*addr));
	if (split(text, flags, addr, &port_text, err, errlen) < 0)
		return -1;
	if (!port_text && !(flags & FC_NET_PORT_OPTIONAL)) {
		if (strchr(addr->host, ':'))
			snprintf(err, errlen,
				 "'%s': no port; write it [%s]:PORT (for example [%s]:%d)", text,
				 addr->host, addr->host, FC_NET_DEFAULT_PORT);
		else
			snprintf(err, errlen, "'%s': expected HOST:PORT (for example 127.0.0.1:%d)",
				 text, FC_NET_DEFAULT_PORT);
		return -1;
	}
	if (port_text) {
		errno = 0;
		port = strtol(port_text, &end, 10);
		if (errno || end == port_text || *end || port < 0 || port > 65535) {
			snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535",
				 text);
			return -1;
		}
	}
	if (!(flags & FC_NET_HOST_OPTIONAL) && (addr->host[0] == '\0' || port == 0)) {
		snprintf(err, errlen, "'%s': expected HOST:PORT with a host and a port above 0",
			 text);
		return -1;
	}
	addr->port = (uint16_t)port;
	return 0;
}

const char *fc_net_addr_str(const struct fc_addr *addr, char *buf, size_t len)
{
	const char *h = addr->host[0] ? addr->host : "*";

	if (strchr(h, ':'))
		snprintf(buf, len, "[%s]:%u", h, addr->port);
	else
		snprintf(buf, len, "%s:%u", h, addr->port);
	return buf;
}

static struct addrinfo *resolve(const struct fc_addr *addr, int passive, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char port[8];
	char where[FC_NET_HOST_MAX + 16];
	int rc;

	if (passive)
		hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", addr->port);
	rc = getaddrinfo(addr->host[0] ? addr->host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s",
			 fc_net_addr_str(addr, where, sizeof(where)), gai_strerror(rc));
		return NULL;
	}
	return res;
}

int fc_net_listen(const struct fc_addr *addr, char *err, size_t errlen)
{
	struct addrinfo *res = resolve(addr, 1, err, errlen);
	struct addrinfo *ai;
	char where[FC_NET_HOST_MAX + 16];
	int fd = -1;
	int saved = 0;

	if (!res)
		return -1;
	/* With no host, prefer the IPv6 wildcard that also takes IPv4; else the first that binds. */
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			int one = 1;
			int zero = 0;

			if (pass == 0 && !addr->host[0] && ai->ai_family != AF_INET6)
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				    ai->ai_protocol);
			if (fd < 0) {
				saved = errno;
				continue;
			}
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6 && !addr->host[0])
				(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
						 sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
				saved = errno;
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s: %s",
			 fc_net_addr_str(addr, where, sizeof(where)), strerror(saved));
	return fd;
}

uint16_t fc_net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static void sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		/* Show IPv4 peers of a dual-stack socket as IPv4, as people know them. */
		if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
			snprintf(buf, len, "%s:%u", host + 7, ntohs(in6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;
	int rc;

	do {
		rc = poll(&pfd, 1, fc_clock_ms_until(deadline));
	} while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc;
}

int fc_net_accept(int lfd, int timeout_ms, char *peer, size_t peerlen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = wait_fd(lfd, POLLIN, timeout_ms);
	int fd;

	if (rc <= 0) {
		snprintf(err, errlen, "accept: %s", strerror(errno));
		return -1;
	}
	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		/* The peer may have gone between poll and accept: that is a timeout, not a failure. */
		if (errno == EAGAIN || errno == ECONNABORTED)
			errno = ETIMEDOUT;
		snprintf(err, errlen, "accept: %s", strerror(errno));
		return -1;
	}
	fc_net_tune(fd);
	if (peer)
		sockaddr_str(&ss, peer, peerlen);
	return fd;
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *saved)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0) {
		*saved = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*saved = errno;
		goto fail;
	}
	if (wait_fd(fd, POLLOUT, fc_clock_ms_until(deadline)) <= 0) {
		*saved = errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
		*saved = soerr ? soerr : errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int fc_net_connect(const struct fc_addr *addr, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;
	struct addrinfo *res = resolve(addr, 0, err, errlen);
	char where[FC_NET_HOST_MAX + 16];
	int fd = -1;
	int saved = ETIMEDOUT;

	if (!res)
		return -1;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, deadline, &saved);
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s",
			 fc_net_addr_str(addr, where, sizeof(where)), strerror(saved));
		return -1;
	}
	fc_net_tune(fd);
	return fd;
}

int fc_net_writev_full(int fd, const struct iovec *iov, int n, int timeout_ms, char *err,
		       size_t errlen)
{
	uint64_t wait = (uint64_t)timeout_ms * FC_NS_PER_MS;
	uint64_t deadline = fc_clock_now_ns() + wait;
	struct iovec local[8];
	struct msghdr mh = { .msg_iov = local };

	if (n < 1 || n > (int)(sizeof(local) / sizeof(local[0]))) {
		snprintf(err, errlen, "write: %d buffers (1 to 8 allowed)", n);
		return -1;
	}
	memcpy(local, iov, sizeof(local[0]) * (size_t)n);
	mh.msg_iovlen = (size_t)n;
	while (mh.msg_iovlen > 0) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				goto fail;
			if (wait_fd(fd, POLLOUT, fc_clock_ms_until(deadline)) <= 0)
				goto fail;
			continue;
		}
		/* A slow link is not a dead peer: the time limit counts from the last progress
		 * (a socket with TCP_NOTSENT_LOWAT takes a large frame only as fast as the link
		 * carries it). */
		deadline = fc_clock_now_ns() + wait;
		/* Step past what went out, possibly part of one buffer. */
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov->iov_len) {
			w -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
fail:
	if (errno == ETIMEDOUT)
		snprintf(err, errlen, "write made no progress for %d ms (peer not reading)",
			 timeout_ms);
	else
		snprintf(err, errlen, "write: %s", strerror(errno));
	return -1;
}

long fc_net_read_some(int fd, void *buf, size_t len, char *err, size_t errlen)
{
	for (;;) {
		ssize_t r = read(fd, buf, len);

		if (r > 0)
			return (long)r;
		if (r == 0) {
			snprintf(err, errlen, "peer closed the connection");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(err, errlen, "read: %s", strerror(errno));
		return -1;
	}
}

int fc_net_wait_readable(int fd, int timeout_ms, char *err, size_t errlen)
{
	int rc = wait_fd(fd, POLLIN, timeout_ms);

	if (rc < 0)
		snprintf(err, errlen, "poll: %s", strerror(errno));
	return rc;
}

int fc_net_read_full(int fd, void *buf, size_t len, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = fc_clock_now_ns() + (uint64_t)timeout_ms * FC_NS_PER_MS;
	size_t got = 0;

	while (got < len) {
		long r = fc_net_read_some(fd, (char *)buf + got, len - got, err, errlen);
		int w;

		if (r < 0)
			return -1;
		got += (size_t)r;
		if (got == len)
			break;
		w = fc_net_wait_readable(fd, fc_clock_ms_until(deadline), err, errlen);
		if (w < 0)
			return -1;
		if (w == 0) {
			snprintf(err, errlen, "read timed out after %d ms with %zu of %zu bytes",
				 timeout_ms, got, len);
			return -1;
		}
	}
	return 0;
}
