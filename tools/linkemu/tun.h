/*
 * tun: one end of linkemu's link, a TUN device made inside a network namespace that already
 * exists (ip netns add NAME), given an IPv4 address and brought up.
 *
 * The calling thread enters the namespace (setns), opens /dev/net/tun there, configures the
 * device with ioctls on a socket of that namespace, and goes back to the namespace it came
 * from. The descriptor returned stays bound to the device: reads give the IP packets the
 * namespace routes into it, writes deliver IP packets to that namespace. The device is not
 * persistent: it disappears when the descriptor is closed, however the process ends, so there
 * is nothing to clean up after a crash. Errors name the namespace, the device and the errno.
 */
#ifndef LE_TUN_H
#define LE_TUN_H

#include <stddef.h>
#include <stdint.h>

struct le_tun_config {
	const char *ns;	 /* a name under /run/netns, or a path (/proc/PID/ns/net) */
	const char *dev; /* the device's name in that namespace */
	uint32_t addr;	 /* IPv4 address, host order; 0 = leave the device without one */
	int prefix;	 /* its prefix length, 0..32 */
	int mtu;
};

/* Parses "10.0.0.1/24" into addr and prefix. 0, or -1 with the reason in err. */
int le_tun_parse_addr(const char *what, const char *text, uint32_t *addr, int *prefix, char *err,
		      size_t errlen);

/* Makes and configures the device; a non-blocking descriptor, or -1 with the reason in err.
 * Needs CAP_SYS_ADMIN (setns) and CAP_NET_ADMIN (the device). */
int le_tun_open(const struct le_tun_config *c, char *err, size_t errlen);

#endif
