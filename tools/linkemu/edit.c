#include "edit.h"

#include <string.h>

#define LE_IP_MIN     20
#define LE_UDP_HEADER 8
#define LE_PROTO_UDP  17

static uint16_t le_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void le_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The ones' complement sum of len bytes, big-endian 16-bit words, an odd last byte padded. */
static uint32_t le_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += le_get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t le_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t le_ihl(const uint8_t *pkt)
{
	return (size_t)(pkt[0] & 0x0f) * 4;
}

long le_edit_udp_payload(const uint8_t *pkt, size_t len)
{
	size_t ihl;

	if (len < LE_IP_MIN || pkt[0] >> 4 != 4)
		return -1;
	ihl = le_ihl(pkt);
	/* A fragment (more to come, or an offset) carries part of a datagram: left alone. */
	if (ihl < LE_IP_MIN || pkt[9] != LE_PROTO_UDP || (le_get16(pkt + 6) & 0x3fff))
		return -1;
	if (le_get16(pkt + 2) != len || len < ihl + LE_UDP_HEADER)
		return -1;
	if (le_get16(pkt + ihl + 4) != len - ihl)
		return -1;
	return (long)(len - ihl - LE_UDP_HEADER);
}

uint16_t le_edit_udp_checksum(const uint8_t *pkt)
{
	size_t ihl = le_ihl(pkt);
	uint16_t udp_len = le_get16(pkt + ihl + 4);
	uint8_t head[LE_UDP_HEADER];
	uint32_t sum;
	uint16_t c;

	/* Pseudo-header: source, destination, zero and protocol, UDP length. */
	sum = le_sum(0, pkt + 12, 8);
	sum += LE_PROTO_UDP;
	sum += udp_len;
	memcpy(head, pkt + ihl, sizeof(head));
	head[6] = head[7] = 0;
	sum = le_sum(sum, head, sizeof(head));
	sum = le_sum(sum, pkt + ihl + LE_UDP_HEADER, (size_t)udp_len - LE_UDP_HEADER);
	c = le_fold(sum);
	return c ? c : 0xffff; /* 0 on the wire means "no checksum" */
}

uint16_t le_edit_ip_check(const uint8_t *pkt)
{
	return le_fold(le_sum(0, pkt, le_ihl(pkt)));
}

/* The UDP checksum made right for the bytes as they stand, unless the sender sent none. */
static void le_fix_udp(uint8_t *pkt)
{
	uint8_t *field = pkt + le_ihl(pkt) + 6;

	if (le_get16(field))
		le_put16(field, le_edit_udp_checksum(pkt));
}

int le_edit_corrupt(uint8_t *pkt, size_t len, size_t at, uint8_t flip)
{
	long payload = le_edit_udp_payload(pkt, len);

	if (payload < 0 || at >= (size_t)payload || !flip)
		return -1;
	pkt[le_ihl(pkt) + LE_UDP_HEADER + at] ^= flip;
	le_fix_udp(pkt);
	return 0;
}

long le_edit_truncate(uint8_t *pkt, size_t len, size_t keep)
{
	long payload = le_edit_udp_payload(pkt, len);
	size_t ihl, n;

	if (payload < 0 || keep >= (size_t)payload)
		return -1;
	ihl = le_ihl(pkt);
	n = ihl + LE_UDP_HEADER + keep;
	le_put16(pkt + 2, (uint16_t)n);
	le_put16(pkt + 10, 0);
	le_put16(pkt + 10, le_edit_ip_check(pkt));
	le_put16(pkt + ihl + 4, (uint16_t)(LE_UDP_HEADER + keep));
	le_fix_udp(pkt);
	return (long)n;
}
