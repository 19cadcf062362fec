/*
 * net: TCP sockets for both programs, returning errors that name the address and the errno.
 *
 * Every socket this module hands out is non-blocking, close-on-exec and (once connected)
 * TCP_NODELAY: freshcam sends small messages that must not wait for Nagle. Blocking is done only
 * in poll() with a deadline, so no call here can hang a thread for longer than its timeout, and
 * EINTR is retried. Writes use MSG_NOSIGNAL so a closed peer gives EPIPE, never SIGPIPE.
 *
 * Functions return 0 (or an fd) on success and -1 on failure with a message in err; they never
 * print. Thread-safe (no shared state).
 */
#ifndef FC_NET_H
#define FC_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FC_NET_HOST_MAX	    256
#define FC_NET_DEFAULT_PORT 7373

/* Where to listen or connect: a host (name or address; "" = any, for listening) and a port. */
struct fc_addr {
	char host[FC_NET_HOST_MAX];
	uint16_t port;
};

/* What fc_net_parse_addr may leave out. */
#define FC_NET_HOST_OPTIONAL 1 /* a bare "PORT" (or ":PORT") means every address: host "" */
#define FC_NET_PORT_OPTIONAL 2 /* a bare "HOST", "V6ADDR" or "[V6ADDR]": FC_NET_DEFAULT_PORT */

/*
 * Parses "HOST:PORT" or "[V6ADDR]:PORT" (an IPv6 address with a port needs the brackets), and
 * what flags let it leave out. An IPv6 address without brackets ("::1", "fe80::1%eth0") is
 * always an address without a port: refused with a message saying how to add one, unless the
 * port is optional. Without FC_NET_HOST_OPTIONAL the host must be there and the port above 0.
 */
/* A connected TCP socket as the project wants it: TCP_NODELAY (a frame's last packet leaves at
 * once, not after the peer's delayed ACK) and keepalive. Best effort; for sockets accepted
 * elsewhere (the HTTP server's), the connect and accept here do it themselves. */
void fc_net_tune(int fd);

int fc_net_parse_addr(const char *text, int flags, struct fc_addr *addr, char *err, size_t errlen);

/* "host:port" (or "*:port") for messages. */
const char *fc_net_addr_str(const struct fc_addr *addr, char *buf, size_t len);

/* A listening socket on addr (SO_REUSEADDR; IPv6 sockets also take IPv4 when host is ""). */
int fc_net_listen(const struct fc_addr *addr, char *err, size_t errlen);

/* The port a listening socket got (for port 0, "any free port"); 0 on error. */
uint16_t fc_net_local_port(int fd);

/* Waits up to timeout_ms for a connection. Returns its fd; or -1 with err, errno ETIMEDOUT on a
 * timeout. peer gets "address:port" of the other end (may be NULL). */
int fc_net_accept(int lfd, int timeout_ms, char *peer, size_t peerlen, char *err, size_t errlen);

/* Connects to addr, trying each address it resolves to, within timeout_ms in all. */
int fc_net_connect(const struct fc_addr *addr, int timeout_ms, char *err, size_t errlen);

/* Writes all of iov[0..n), giving up when the socket takes nothing for timeout_ms. -1 with err
 * on error, timeout or a closed peer. */
int fc_net_writev_full(int fd, const struct iovec *iov, int n, int timeout_ms, char *err,
		       size_t errlen);

/* Reads exactly len bytes within timeout_ms. -1 with err on error, timeout or end of stream. */
int fc_net_read_full(int fd, void *buf, size_t len, int timeout_ms, char *err, size_t errlen);

/* Reads what is there (up to len) without waiting: > 0 bytes, 0 nothing yet, -1 with err on
 * error or end of stream ("peer closed the connection"). */
long fc_net_read_some(int fd, void *buf, size_t len, char *err, size_t errlen);

/* Makes fd non-blocking (for descriptors this module did not make, such as a socketpair's). */
int fc_net_set_nonblock(int fd);

/* Waits up to timeout_ms until fd is readable (1), or not (0); -1 with err on error. */
int fc_net_wait_readable(int fd, int timeout_ms, char *err, size_t errlen);

#endif
