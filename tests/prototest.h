/*
 * prototest: the two checks every test of a message's bytes makes (test_proto_control.c,
 * test_proto_parts.c), through the framing of common/proto.c: a round trip whose every strict
 * prefix is "need more", and one byte spoiled into the decoder's error. Header-only, for
 * cmocka programs (include cmocka.h first); the caller owns every buffer.
 */
#ifndef FC_PROTOTEST_H
#define FC_PROTOTEST_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Encodes m, decodes it back: every byte consumed, and every prefix only "need more". */
static inline ssize_t fc_test_round_trip(const struct fc_msg *m, uint8_t *buf, size_t cap,
					 struct fc_msg *out)
{
	size_t n = fc_proto_encode(m, buf, cap);
	size_t need;

	assert_true(n > 0);
	assert_int_equal(n, fc_proto_encoded_size(m));
	for (size_t k = 0; k < n; k++)
		assert_int_equal(fc_proto_decode(buf, k, out, &need), 0);
	assert_int_equal(need, n);
	return fc_proto_decode(buf, n, out, NULL);
}

/* Patches byte off of m encoded (at most 512 bytes) and expects the decoder's error. */
static inline void fc_test_expect_bad(const struct fc_msg *m, size_t off, uint8_t v, int error)
{
	uint8_t buf[512];
	struct fc_msg out;
	size_t n = fc_proto_encode(m, buf, sizeof(buf));

	assert_true(n > off);
	buf[off] = v;
	assert_int_equal(fc_proto_decode(buf, n, &out, NULL), -error);
}

#endif
