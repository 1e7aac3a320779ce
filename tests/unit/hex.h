/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Known-answer vectors written in hex, for the unit tests that check
 * against RFC test vectors and golden values.  Include after <cmocka.h>.
 */
#ifndef TAPLINE_TEST_HEX_H
#define TAPLINE_TEST_HEX_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Hex digits (exactly 2*len) into bytes. */
static inline void
hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	unsigned v;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* buf holds exactly the bytes written in hex. */
static inline void
assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
	uint8_t want[256];

	assert_true(len <= sizeof(want));
	hex_decode(hex, want, len);
	assert_memory_equal(buf, want, len);
}

#endif
