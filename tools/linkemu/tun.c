#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The device's own ring of packets waiting for linkemu to read them (txqueuelen): deeper than
 * the default 500 so that a burst a TCP sender makes while linkemu is busy is not dropped
 * before the emulated queue, which is where drops are meant to happen. */
#define LE_TUN_TXQLEN 1000

int le_tun_parse_addr(const char *what, const char *text, uint32_t *addr, int *prefix, char *err,
		      size_t errlen)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(text, '/');
	struct in_addr in;
	char *end;
	long p;

	if (!slash || (size_t)(slash - text) >= INET_ADDRSTRLEN)
		goto bad;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		goto bad;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || p < 1 || p > 32)
		goto bad;
	*addr = ntohl(in.s_addr);
	*prefix = (int)p;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': give an IPv4 address and prefix, for example 10.0.0.1/24",
		 what, text);
	return -1;
}

/* Enters the namespace named (or at the path) ns. */
static int le_enter(const char *ns, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !strchr(ns, '/'))
			snprintf(err, errlen,
				 "network namespace '%s' does not exist (%s): create it first with "
				 "'ip netns add %s'",
				 ns, path, ns);
		else
			snprintf(err, errlen, "network namespace '%s': cannot open %s: %s", ns,
				 path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot enter network namespace '%s': %s%s", ns,
			 strerror(errno), errno == EPERM ? " (it needs root)" : "");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A TUN device named dev in the current namespace. */
static int le_make_tun(const char *ns, const char *dev, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s%s", strerror(errno),
			 errno == ENOENT ? " (load the tun module: modprobe tun)" : "");
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(
		    err, errlen, "cannot create TUN device %s in namespace '%s': %s%s", dev, ns,
		    strerror(errno),
		    errno == EBUSY || errno == EINVAL
			? " (is a device of that name there already? pick another with --dev-a/--dev-b)"
			: "");
		close(fd);
		return -1;
	}
	return fd;
}

/* One configuring ioctl on dev; the message says what it was for. */
static int le_ifioctl(int sock, unsigned long req, struct ifreq *ifr, const char *ns,
		      const char *what, char *err, size_t errlen)
{
	if (ioctl(sock, req, ifr) == 0)
		return 0;
	snprintf(err, errlen, "%s in namespace '%s': cannot %s: %s", ifr->ifr_name, ns, what,
		 strerror(errno));
	return -1;
}

static int le_up(int sock, const char *ns, const char *dev, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (le_ifioctl(sock, SIOCGIFFLAGS, &ifr, ns, "read its flags", err, errlen) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return le_ifioctl(sock, SIOCSIFFLAGS, &ifr, ns, "bring it up", err, errlen);
}

static int le_set_addr(int sock, const struct le_tun_config *c, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	uint32_t mask = c->prefix ? ~0u << (32 - c->prefix) : 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(c->addr);
	if (le_ifioctl(sock, SIOCSIFADDR, &ifr, c->ns, "set its address", err, errlen) < 0)
		return -1;
	sin->sin_addr.s_addr = htonl(mask);
	return le_ifioctl(sock, SIOCSIFNETMASK, &ifr, c->ns, "set its netmask", err, errlen);
}

/* No IPv6 on the device: its router solicitations and MLD reports would cross the link at
 * odd times and take draws from the loss stream, so a seeded run would not repeat. Best
 * effort (a kernel without IPv6 has no such file). */
static void le_no_ipv6(const char *dev)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0) {
		/* nothing to do: IPv6 traffic then crosses the link like any other */
	}
	close(fd);
}

/* Configures dev in the current namespace: MTU, ring, address, up; loopback up too, since a
 * fresh namespace has it down and local traffic to the device's own address needs it. */
static int le_configure(const struct le_tun_config *c, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (sock < 0) {
		snprintf(err, errlen, "namespace '%s': socket: %s", c->ns, strerror(errno));
		return -1;
	}
	le_no_ipv6(c->dev);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
	ifr.ifr_mtu = c->mtu;
	if (le_ifioctl(sock, SIOCSIFMTU, &ifr, c->ns, "set its MTU", err, errlen) < 0)
		goto out;
	ifr.ifr_qlen = LE_TUN_TXQLEN;
	if (le_ifioctl(sock, SIOCSIFTXQLEN, &ifr, c->ns, "set its txqueuelen", err, errlen) < 0)
		goto out;
	if (c->addr && le_set_addr(sock, c, err, errlen) < 0)
		goto out;
	if (le_up(sock, c->ns, c->dev, err, errlen) < 0 ||
	    le_up(sock, c->ns, "lo", err, errlen) < 0)
		goto out;
	rc = 0;
out:
	close(sock);
	return rc;
}

int le_tun_open(const struct le_tun_config *c, char *err, size_t errlen)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = -1;

	if (home < 0) {
		snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	if (le_enter(c->ns, err, errlen) < 0)
		goto out;
	fd = le_make_tun(c->ns, c->dev, err, errlen);
	if (fd >= 0 && le_configure(c, err, errlen) < 0) {
		close(fd);
		fd = -1;
	}
	if (setns(home, CLONE_NEWNET) < 0) {
		/* Only a namespace this process was in: this cannot fail short of a kernel bug,
		 * and going on in the wrong namespace would be worse than stopping. */
		snprintf(err, errlen, "cannot return to the original network namespace: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	close(home);
	return fd;
}
