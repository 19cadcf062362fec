/*
 * edit: what linkemu's corrupt= and truncate= do to a UDP datagram in an IPv4 packet, with the
 * headers made right again, so that the datagram reaches the application as a corrupting
 * middlebox (or a checksum-offload bug) would deliver it. Pure functions over a packet's bytes:
 * no I/O, no randomness of their own (the lane draws the choices from its seeded streams and
 * passes them in), so a test gives exact inputs and checks exact outputs.
 *
 * Only a UDP datagram that is a whole IPv4 packet is edited: version 4, protocol 17, not a
 * fragment, its IP and UDP lengths consistent with the bytes read. Anything else (TCP above
 * all: a corrupted segment would be dropped by its checksum, or with a recomputed one would
 * corrupt the byte stream, which is not what these keys test) is left alone.
 */
#ifndef LE_EDIT_H
#define LE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The UDP payload's length if pkt (len bytes) is an editable UDP datagram (above), else -1. */
long le_edit_udp_payload(const uint8_t *pkt, size_t len);

/* Changes the payload byte at `at` (below the payload's length) by XOR with `flip` (not 0) and
 * makes the UDP checksum right again (left 0 if it was 0: "no checksum", which IPv4 allows).
 * Returns 0, or -1 if pkt is not an editable datagram or at/flip are out of range. */
int le_edit_corrupt(uint8_t *pkt, size_t len, size_t at, uint8_t flip);

/* Cuts the payload to `keep` bytes (below its length), makes the IP total length, the IP header
 * checksum, the UDP length and the UDP checksum right; the packet's new length, or -1 if pkt is
 * not an editable datagram or keep is not below the payload's length. */
long le_edit_truncate(uint8_t *pkt, size_t len, size_t keep);

/* The UDP checksum of the datagram as it stands (RFC 768: over the pseudo-header, the UDP header
 * with the checksum field taken as 0, and the payload; 0 computed is sent as 0xffff). For the
 * tests, which check an edited packet with it. pkt must be an editable datagram. */
uint16_t le_edit_udp_checksum(const uint8_t *pkt);

/* The IPv4 header's checksum over its bytes as they stand (the field included): 0 when right. */
uint16_t le_edit_ip_check(const uint8_t *pkt);

#endif
