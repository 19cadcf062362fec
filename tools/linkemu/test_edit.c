/* Tests of linkemu's packet edits (edit.c: corrupt= and truncate= on a UDP datagram, headers
 * made right) and of the lane applying them (lane.c): which packets are edited, how many for a
 * seed, and that the checksums of every edited datagram verify as the receiving kernel checks
 * them (RFC 1071: the ones' complement sum over the covered bytes, the checksum included, is
 * all ones), which is an independent check of the checksum the code writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "edit.h"
#include "lane.h"
#include "spec.h"

#define PAYLOAD 100
#define IP_UDP	28

/* The sum of 16-bit big-endian words, folded, not complemented. */
static uint16_t folded_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Whether the IPv4 header and the UDP checksum verify as a receiver checks them. */
static void assert_checksums_verify(const uint8_t *pkt, size_t len)
{
	size_t udp_len = (size_t)(pkt[24] << 8 | pkt[25]);
	uint32_t pseudo = 17 + (uint32_t)udp_len;

	assert_int_equal(folded_sum(0, pkt, 20), 0xffff);
	assert_int_equal((size_t)(pkt[2] << 8 | pkt[3]), len);
	assert_int_equal(udp_len, len - 20);
	pseudo += folded_sum(0, pkt + 12, 8);
	assert_int_equal(folded_sum(pseudo, pkt + 20, udp_len), 0xffff);
}

/* A valid IPv4/UDP packet, 10.213.0.1:5000 -> 10.213.0.2:6000, payload bytes i*7, the checksums
 * set by a packet whose vector was computed apart (below) and checked here. */
static size_t make_udp(uint8_t *pkt, size_t payload)
{
	static const uint8_t head[IP_UDP] = { 0x45, 0,	  0,	0,    0x12, 0x34, 0x40, 0,   64, 17,
					      0,    0,	  10,	213,  0,    1,	  10,	213, 0,	 2,
					      0x13, 0x88, 0x17, 0x70, 0,    0,	  0,	0 };
	size_t len = IP_UDP + payload;

	memcpy(pkt, head, IP_UDP);
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[24] = (uint8_t)((len - 20) >> 8);
	pkt[25] = (uint8_t)(len - 20);
	for (size_t i = 0; i < payload; i++)
		pkt[IP_UDP + i] = (uint8_t)(i * 7);
	pkt[10] = pkt[11] = 0;
	{
		uint16_t c = (uint16_t)~folded_sum(0, pkt, 20);

		pkt[10] = (uint8_t)(c >> 8);
		pkt[11] = (uint8_t)c;
	}
	{
		uint16_t c = le_edit_udp_checksum(pkt);

		pkt[26] = (uint8_t)(c >> 8);
		pkt[27] = (uint8_t)c;
	}
	return len;
}

static void test_checksum_vector(void **state)
{
	uint8_t pkt[IP_UDP + PAYLOAD];
	size_t len = make_udp(pkt, PAYLOAD);

	(void)state;
	/* Computed apart (Python, RFC 768 by hand) for this exact packet. */
	assert_int_equal(pkt[10] << 8 | pkt[11], 0x128d);
	assert_int_equal(pkt[26] << 8 | pkt[27], 0xa8fe);
	assert_checksums_verify(pkt, len);
	assert_int_equal(le_edit_ip_check(pkt), 0);
	assert_int_equal(le_edit_udp_payload(pkt, len), PAYLOAD);
}

static void test_not_editable(void **state)
{
	uint8_t pkt[IP_UDP + PAYLOAD], copy[sizeof(pkt)];
	size_t len = make_udp(pkt, PAYLOAD);

	(void)state;
	memcpy(copy, pkt, len);
	copy[9] = 6; /* TCP */
	assert_int_equal(le_edit_udp_payload(copy, len), -1);
	assert_int_equal(le_edit_corrupt(copy, len, 0, 1), -1);
	assert_int_equal(le_edit_truncate(copy, len, 0), -1);
	memcpy(copy, pkt, len);
	copy[6] |= 0x20; /* more fragments */
	assert_int_equal(le_edit_udp_payload(copy, len), -1);
	memcpy(copy, pkt, len);
	copy[7] = 1; /* a fragment's offset */
	assert_int_equal(le_edit_udp_payload(copy, len), -1);
	memcpy(copy, pkt, len);
	copy[0] = 0x60; /* IPv6 */
	assert_int_equal(le_edit_udp_payload(copy, len), -1);
	memcpy(copy, pkt, len);
	copy[25]++; /* UDP length disagrees with the packet's */
	assert_int_equal(le_edit_udp_payload(copy, len), -1);
	assert_int_equal(le_edit_udp_payload(pkt, len - 1), -1); /* IP length disagrees */
	assert_int_equal(le_edit_udp_payload(pkt, 19), -1);
	/* The DF bit alone is no fragment. */
	assert_int_equal(le_edit_udp_payload(pkt, len), PAYLOAD);
	/* Out of range: nothing changed. */
	memcpy(copy, pkt, len);
	assert_int_equal(le_edit_corrupt(copy, len, PAYLOAD, 1), -1);
	assert_int_equal(le_edit_corrupt(copy, len, 0, 0), -1);
	assert_int_equal(le_edit_truncate(copy, len, PAYLOAD), -1);
	assert_memory_equal(copy, pkt, len);
}

static void test_corrupt(void **state)
{
	uint8_t pkt[IP_UDP + PAYLOAD], orig[sizeof(pkt)];
	size_t len = make_udp(pkt, PAYLOAD);

	(void)state;
	memcpy(orig, pkt, len);
	for (size_t at = 0; at < PAYLOAD; at += 11) {
		memcpy(pkt, orig, len);
		assert_int_equal(le_edit_corrupt(pkt, len, at, 0x5a), 0);
		for (size_t i = 0; i < len; i++) {
			if (i == IP_UDP + at)
				assert_int_equal(pkt[i], orig[i] ^ 0x5a);
			else if (i != 26 && i != 27) /* the UDP checksum */
				assert_int_equal(pkt[i], orig[i]);
		}
		assert_checksums_verify(pkt, len);
	}
	/* No checksum sent (0): none is made up. */
	memcpy(pkt, orig, len);
	pkt[26] = pkt[27] = 0;
	assert_int_equal(le_edit_corrupt(pkt, len, 3, 0xff), 0);
	assert_int_equal(pkt[26] | pkt[27], 0);
	assert_int_equal(pkt[IP_UDP + 3], orig[IP_UDP + 3] ^ 0xff);
}

static void test_truncate(void **state)
{
	uint8_t pkt[IP_UDP + PAYLOAD], orig[sizeof(pkt)];
	size_t len = make_udp(pkt, PAYLOAD);

	(void)state;
	memcpy(orig, pkt, len);
	for (size_t keep = 0; keep < PAYLOAD; keep += 9) {
		long n;

		memcpy(pkt, orig, len);
		n = le_edit_truncate(pkt, len, keep);
		assert_int_equal(n, IP_UDP + keep);
		assert_checksums_verify(pkt, (size_t)n);
		assert_memory_equal(pkt + IP_UDP, orig + IP_UDP, keep); /* a prefix, unchanged */
		assert_memory_equal(pkt + 12, orig + 12, 12);		/* addresses and ports */
		assert_int_equal(le_edit_udp_payload(pkt, (size_t)n), keep);
	}
}

/* Pushes count packets through a lane shaped by spec (no delay: each leaves as it is pushed),
 * UDP when udp, TCP-like (protocol 6) otherwise; counts the packets that came out changed and
 * checks every UDP one still verifies. */
static void through_lane(const char *spec, uint64_t seed, bool udp, size_t count,
			 struct le_counts *counts, size_t *changed, size_t *shorter)
{
	struct le_shape s;
	struct le_lane l;
	char err[256];
	uint8_t orig[IP_UDP + PAYLOAD];
	size_t len = make_udp(orig, PAYLOAD);

	if (!udp)
		orig[9] = 6;
	le_spec_default(&s);
	assert_int_equal(le_spec_apply(&s, spec, err, sizeof(err)), 0);
	assert_int_equal(le_lane_open(&l, &s, 64, 1500, seed), 0);
	*changed = *shorter = 0;
	for (size_t k = 0; k < count; k++) {
		size_t cap, n;
		uint64_t due;
		const uint8_t *p;

		memcpy(le_lane_slot(&l, &cap), orig, len);
		le_lane_push(&l, len, k * 1000);
		while ((p = le_lane_take(&l, k * 1000, &n, &due))) {
			if (udp)
				assert_checksums_verify(p, n);
			*shorter += n < len;
			*changed += n != len || memcmp(p, orig, len);
		}
	}
	*counts = l.counts;
	le_lane_close(&l);
}

static void test_lane_edits(void **state)
{
	struct le_counts c, again;
	size_t changed, shorter, changed2, shorter2;

	(void)state;
	/* TCP is never touched, whatever the share. */
	through_lane("corrupt=100% truncate=100%", 1, false, 500, &c, &changed, &shorter);
	assert_int_equal(changed, 0);
	assert_int_equal(c.corrupted + c.truncated, 0);
	assert_int_equal(c.forwarded_packets, 500);
	/* Every UDP datagram, at 100%. */
	through_lane("corrupt=100%", 1, true, 500, &c, &changed, &shorter);
	assert_int_equal(c.corrupted, 500);
	assert_int_equal(changed, 500);
	assert_int_equal(shorter, 0);
	through_lane("truncate=100%", 1, true, 500, &c, &changed, &shorter);
	assert_int_equal(c.truncated, 500);
	assert_int_equal(shorter, 500);
	/* A share: 10% of 5000 within 4.5 standard deviations (sd 21), the same for the seed. */
	through_lane("corrupt=10% truncate=5%", 7, true, 5000, &c, &changed, &shorter);
	assert_in_range(c.corrupted, 405, 595);
	assert_in_range(c.truncated, 190, 310);
	assert_int_equal(shorter, c.truncated);
	through_lane("corrupt=10% truncate=5%", 7, true, 5000, &again, &changed2, &shorter2);
	assert_int_equal(again.corrupted, c.corrupted);
	assert_int_equal(again.truncated, c.truncated);
	assert_int_equal(changed2, changed);
	/* With dup, both copies go through the edits on their own. */
	through_lane("dup=100% corrupt=100%", 3, true, 200, &c, &changed, &shorter);
	assert_int_equal(c.duplicated, 200);
	assert_int_equal(c.corrupted, 400);
	assert_int_equal(changed, 400);
}

/* The new streams leave the old ones alone: a seed loses the same packets with corrupt= on. */
static void test_loss_unchanged(void **state)
{
	struct le_counts a, b;
	size_t changed, shorter;

	(void)state;
	through_lane("loss=20%", 11, true, 2000, &a, &changed, &shorter);
	through_lane("loss=20% corrupt=50% truncate=50%", 11, true, 2000, &b, &changed, &shorter);
	assert_int_equal(a.dropped_loss, b.dropped_loss);
	assert_true(b.corrupted > 0 && b.truncated > 0);
}

static void test_spec_keys(void **state)
{
	struct le_shape s;
	char err[256] = "", text[256];

	(void)state;
	le_spec_default(&s);
	assert_int_equal(le_spec_apply(&s, "corrupt=1.5% truncate=2%", err, sizeof(err)), 0);
	assert_true(s.corrupt > 0.0149 && s.corrupt < 0.0151);
	assert_true(s.truncate > 0.0199 && s.truncate < 0.0201);
	assert_string_equal(le_spec_format(&s, text, sizeof(text)), "corrupt=1.5% truncate=2%");
	assert_int_equal(le_spec_apply(&s, "corrupt=2", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt"));
	assert_int_equal(le_spec_apply(&s, "truncate=101%", err, sizeof(err)), -1);
	assert_int_equal(le_spec_apply(&s, "corrupt=0 truncate=0", err, sizeof(err)), 0);
	assert_string_equal(le_spec_format(&s, text, sizeof(text)), "unshaped");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vector), cmocka_unit_test(test_not_editable),
		cmocka_unit_test(test_corrupt),		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_lane_edits),	cmocka_unit_test(test_loss_unchanged),
		cmocka_unit_test(test_spec_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
