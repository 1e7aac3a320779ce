/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pmtu.c: the ICMP and ICMPv6 answers and the MSS clamp, against packets
 * whose checksums were computed independently (known answers in hex),
 * every checksum verified again, and every truncation of every packet
 * refused from a buffer of exactly that size (so that a sanitizer sees
 * a read past it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "pkt.h"
#include "pmtu.h"

/* 192.0.2.1:40000 -> 192.0.2.2:5001 SYN, MSS 1460, SACK, NOP, WS 7. */
static const char syn4_hex[] =
    "45000034123440004006a48cc0000201c00002029c40138900000001000000008002"
    "faf041530000020405b40402010303070000";
/* The same with MSS 1187 (MTU 1227), checksum recomputed from scratch. */
static const char syn4_clamped_hex[] =
    "45000034123440004006a48cc0000201c00002029c40138900000001000000008002"
    "faf042640000020404a30402010303070000";
/* NOP before the MSS: its value sits at an odd offset of the header. */
static const char syn4_odd_hex[] =
    "45000030123440004006a490c0000201c00002029c40138900000001000000007002"
    "faf0a711000001020405b4010101";
static const char syn4_odd_clamped_hex[] =
    "45000030123440004006a490c0000201c00002029c40138900000001000000007002"
    "faf0b812000001020404a3010101";
/* 2001:db8:2::1 -> ::2 SYN-ACK, MSS 1440; clamped for MTU 1280: 1220. */
static const char syn6_hex[] =
    "600000000018064020010db800020000000000000000000120010db8000200000000"
    "000000000002" "9c40138900000001000000006012faf091f60000020405a0";
static const char syn6_clamped_hex[] =
    "600000000018064020010db800020000000000000000000120010db8000200000000"
    "000000000002" "9c40138900000001000000006012faf092d20000020404c4";
/* 192.0.2.1 -> 192.0.2.2 echo request, DF, 32 bytes of data. */
static const char echo4_hex[] =
    "4500003c123440004001a489c0000201c00002020800068700770001000102030405"
    "060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/* Its answer: from 192.0.2.2, fragmentation needed, MTU 1227. */
static const char answer4_hex[] =
    "45c00058000000004001f5e1c0000202c00002010304f830000004cb"
    "4500003c123440004001a489c0000201c00002020800068700770001000102030405"
    "060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/* 2001:db8:2::1 -> ::2 echo request, 16 bytes of data. */
static const char echo6_hex[] =
    "6000000000183a4020010db800020000000000000000000120010db8000200000000"
    "000000000002" "8000eb9d00550001000102030405060708090a0b0c0d0e0f";
/* Its answer: from ::2, packet too big, MTU 1280. */
static const char answer6_hex[] =
    "6000000000483a4020010db800020000000000000000000220010db8000200000000"
    "000000000001" "020002fe00000500"
    "6000000000183a4020010db800020000000000000000000120010db8000200000000"
    "000000000002" "8000eb9d00550001000102030405060708090a0b0c0d0e0f";

/* A packet from hex in a buffer of exactly its size. */
static uint8_t *
pkt_from_hex(const char *hex, size_t *len)
{
	uint8_t *p;

	*len = strlen(hex) / 2;
	p = malloc(*len);
	assert_non_null(p);
	hex_decode(hex, p, *len);
	return p;
}

/* The plain RFC 1071 sum, folded (not complemented). */
static uint16_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2 != 0)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* An IPv4 header and its ICMP message both verify. */
static void
assert_icmp4_sums(const uint8_t *a, size_t n)
{
	assert_int_equal(sum16(a, 20, 0), 0xffff);
	assert_int_equal(sum16(a + 20, n - 20, 0), 0xffff);
}

/* An ICMPv6 message verifies with its pseudo-header. */
static void
assert_icmp6_sum(const uint8_t *a, size_t n)
{
	uint32_t ph = sum16(a + 8, 32, 0) + (uint32_t)(n - 40) + 58;

	assert_int_equal(sum16(a + 40, n - 40, ph), 0xffff);
}

static void
test_kind(void **state)
{
	uint8_t b[40] = { 0x45 };

	(void)state;
	assert_int_equal(pmtu_kind(b, 19), PMTU_OTHER);
	assert_int_equal(pmtu_kind(b, 20), PMTU_V4);
	b[6] = 0x40;
	assert_int_equal(pmtu_kind(b, 20), PMTU_V4_DF);
	b[0] = 0x60;
	assert_int_equal(pmtu_kind(b, 39), PMTU_OTHER);
	assert_int_equal(pmtu_kind(b, 40), PMTU_V6);
	b[0] = 0x00;
	assert_int_equal(pmtu_kind(b, 40), PMTU_OTHER);
	assert_int_equal(pmtu_kind(b, 0), PMTU_OTHER);
}

/* The known answer to a small echo request: all of it quoted. */
static void
test_icmp4_known(void **state)
{
	uint8_t out[PMTU_ANSWER_MAX];
	uint8_t *p;
	size_t len, n;

	(void)state;
	p = pkt_from_hex(echo4_hex, &len);
	n = pmtu_icmp4_too_big(p, len, 1227, NULL, out, sizeof(out));
	assert_hex(out, n, answer4_hex);
	assert_icmp4_sums(out, n);
	/* Too small an output, by one byte: nothing. */
	assert_int_equal(pmtu_icmp4_too_big(p, len, 1227, NULL, out, n - 1),
	    0);
	/* From a given address; announcing below 68 announces 68. */
	n = pmtu_icmp4_too_big(p, len, 10, (const uint8_t[]){ 192, 0, 2, 9 },
	    out, sizeof(out));
	assert_int_equal(n, 20 + 8 + len);
	assert_memory_equal(out + 12, ((const uint8_t[]){ 192, 0, 2, 9 }), 4);
	assert_int_equal(pkt_load16(out + 26), 68);
	assert_icmp4_sums(out, n);
	free(p);
}

/* A full-size packet: the answer stays within 576 bytes. */
static void
test_icmp4_large(void **state)
{
	uint8_t p[1400], out[PMTU_ANSWER_MAX];
	size_t n;

	(void)state;
	memset(p, 0xa5, sizeof(p));
	hex_decode("4500057800004000401100000000c0000201c0000202", p, 22);
	pkt_store16(p + 2, sizeof(p));
	memcpy(p + 12, (const uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }, 8);
	n = pmtu_icmp4_too_big(p, sizeof(p), 1227, NULL, out, sizeof(out));
	assert_int_equal(n, 576);
	assert_int_equal(pkt_load16(out + 2), 576);
	assert_memory_equal(out + 28, p, 548);
	assert_icmp4_sums(out, n);
}

/* Packets a router never answers, and malformed ones. */
static void
test_icmp4_refused(void **state)
{
	static const struct {
		size_t off;
		uint8_t v;
	} bad[] = {
		{ 7, 0x01 },	/* a later fragment */
		{ 12, 0 },	/* from 0.0.0.0/8 */
		{ 12, 127 },	/* from loopback */
		{ 12, 224 },	/* from multicast */
		{ 12, 255 },	/* from broadcast */
		{ 16, 239 },	/* to multicast */
		{ 20, 3 },	/* an ICMP error itself */
		{ 20, 11 },
		{ 0, 0x44 },	/* header shorter than 20 */
		{ 0, 0x4f },	/* header longer than the packet */
		{ 0, 0x65 },	/* not IPv4 */
		{ 3, 0x3d },	/* total length past the bytes */
		{ 3, 0x13 },	/* total length within the header */
	};
	uint8_t out[PMTU_ANSWER_MAX];
	uint8_t *p;
	size_t len, i;

	(void)state;
	p = pkt_from_hex(echo4_hex, &len);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t was = p[bad[i].off];

		p[bad[i].off] = bad[i].v;
		assert_int_equal(pmtu_icmp4_too_big(p, len, 1227, NULL, out,
		    sizeof(out)), 0);
		p[bad[i].off] = was;
	}
	/* An echo reply is a query, not an error: answered. */
	p[20] = 0;
	assert_int_not_equal(pmtu_icmp4_too_big(p, len, 1227, NULL, out,
	    sizeof(out)), 0);
	free(p);
}

static void
test_icmp6_known(void **state)
{
	uint8_t out[PMTU_ANSWER_MAX];
	uint8_t *p;
	size_t len, n;

	(void)state;
	p = pkt_from_hex(echo6_hex, &len);
	/* Below IPv6's minimum: 1280 is announced. */
	n = pmtu_icmp6_too_big(p, len, 1200, NULL, out, sizeof(out));
	assert_hex(out, n, answer6_hex);
	assert_icmp6_sum(out, n);
	assert_int_equal(pmtu_icmp6_too_big(p, len, 1200, NULL, out, n - 1),
	    0);
	n = pmtu_icmp6_too_big(p, len, 1400, NULL, out, sizeof(out));
	assert_int_equal(pkt_load32(out + 44), 1400);
	assert_icmp6_sum(out, n);
	free(p);
}

/* A full-size packet: the answer is exactly the minimum MTU. */
static void
test_icmp6_large(void **state)
{
	uint8_t p[1500], out[PMTU_ANSWER_MAX], src[16] = { 0x20, 0x01,
	    0x0d, 0xb8, 0, 2, [15] = 9 };
	size_t n;

	(void)state;
	memset(p, 0x5a, sizeof(p));
	hex_decode("60000000000011", p, 7);
	pkt_store16(p + 4, sizeof(p) - 40);
	memcpy(p + 8, src, 16);
	p[23] = 1;
	p[24] = 0xff;	/* to multicast: answered only from an own address */
	assert_int_equal(pmtu_icmp6_too_big(p, sizeof(p), 1280, NULL, out,
	    sizeof(out)), 0);
	n = pmtu_icmp6_too_big(p, sizeof(p), 1280, src, out, sizeof(out));
	assert_int_equal(n, 1280);
	assert_int_equal(pkt_load16(out + 4), 1240);
	assert_memory_equal(out + 8, src, 16);
	assert_memory_equal(out + 48, p, 1232);
	assert_icmp6_sum(out, n);
}

static void
test_icmp6_refused(void **state)
{
	static const struct {
		size_t off;
		uint8_t v;
	} bad[] = {
		{ 8, 0xff },	/* from multicast */
		{ 40, 1 },	/* an ICMPv6 error itself */
		{ 40, 127 },
		{ 24, 0xff },	/* to multicast, no address of ours given */
		{ 0, 0x40 },	/* not IPv6 */
		{ 5, 0x19 },	/* payload length past the bytes */
	};
	uint8_t out[PMTU_ANSWER_MAX];
	uint8_t *p;
	size_t len, i;

	(void)state;
	p = pkt_from_hex(echo6_hex, &len);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t was = p[bad[i].off];

		p[bad[i].off] = bad[i].v;
		assert_int_equal(pmtu_icmp6_too_big(p, len, 1280, NULL, out,
		    sizeof(out)), 0);
		p[bad[i].off] = was;
	}
	/* From :: and from ::1. */
	memset(p + 8, 0, 16);
	assert_int_equal(pmtu_icmp6_too_big(p, len, 1280, NULL, out,
	    sizeof(out)), 0);
	p[23] = 1;
	assert_int_equal(pmtu_icmp6_too_big(p, len, 1280, NULL, out,
	    sizeof(out)), 0);
	free(p);
}

/* One clamp against its known answer, then again: already fits. */
static void
check_clamp(const char *in_hex, const char *want_hex, unsigned int mtu)
{
	uint8_t *p;
	size_t len;

	p = pkt_from_hex(in_hex, &len);
	assert_int_equal(pmtu_mss_clamp(p, len, mtu), 1);
	assert_hex(p, len, want_hex);
	assert_int_equal(pmtu_mss_clamp(p, len, mtu), 0);
	assert_hex(p, len, want_hex);
	free(p);
}

static void
test_mss_known(void **state)
{
	(void)state;
	check_clamp(syn4_hex, syn4_clamped_hex, 1227);
	check_clamp(syn4_odd_hex, syn4_odd_clamped_hex, 1227);
	check_clamp(syn6_hex, syn6_clamped_hex, 1280);
	/* IPv6 is never clamped below what 1280 carries. */
	check_clamp(syn6_hex, syn6_clamped_hex, 1000);
}

/* What is left alone, and what is malformed. */
static void
test_mss_left_alone(void **state)
{
	uint8_t *p, *orig;
	size_t len;

	(void)state;
	p = pkt_from_hex(syn4_hex, &len);
	orig = pkt_from_hex(syn4_hex, &len);
	/* An MTU that carries the MSS. */
	assert_int_equal(pmtu_mss_clamp(p, len, 1500), 0);
	/* Not a SYN (an ACK). */
	p[33] = 0x10;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), 0);
	p[33] = 0x02;
	/* UDP, and a fragment. */
	p[9] = 17;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), 0);
	p[9] = 6;
	p[6] = 0x20;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), 0);
	p[6] = 0x40;
	/* Data offset past the packet, and below 20. */
	p[32] = 0xf0;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), -1);
	p[32] = 0x40;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), -1);
	p[32] = 0x80;
	/* An option of length 0, and one running past the header. */
	p[41] = 0;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), -1);
	p[41] = 30;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), -1);
	p[41] = 4;
	/* An MSS option of the wrong length is not an MSS. */
	p[40] = 5;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), 0);
	p[40] = 2;
	assert_memory_equal(p, orig, len);
	/* Neither IPv4 nor IPv6, and nothing at all. */
	p[0] = 0x25;
	assert_int_equal(pmtu_mss_clamp(p, len, 1227), 0);
	assert_int_equal(pmtu_mss_clamp(p, 0, 1227), -1);
	free(p);
	free(orig);
}

/*
 * Every packet cut short at every length, from a buffer of exactly that
 * many bytes: refused, nothing written, nothing read past the end.
 */
static void
test_truncated(void **state)
{
	static const char *const pkts[] = { syn4_hex, syn4_odd_hex, syn6_hex,
	    echo4_hex, echo6_hex };
	uint8_t out[PMTU_ANSWER_MAX];
	uint8_t *full, *p;
	size_t i, len, cut;

	(void)state;
	for (i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++) {
		full = pkt_from_hex(pkts[i], &len);
		for (cut = 0; cut < len; cut++) {
			p = malloc(cut > 0 ? cut : 1);
			assert_non_null(p);
			memcpy(p, full, cut);
			assert_int_equal(pmtu_icmp4_too_big(p, cut, 1227, NULL,
			    out, sizeof(out)), 0);
			assert_int_equal(pmtu_icmp6_too_big(p, cut, 1280, NULL,
			    out, sizeof(out)), 0);
			assert_true(pmtu_mss_clamp(p, cut, 1227) <= 0);
			assert_memory_equal(p, full, cut);
			free(p);
		}
		free(full);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_icmp4_known),
		cmocka_unit_test(test_icmp4_large),
		cmocka_unit_test(test_icmp4_refused),
		cmocka_unit_test(test_icmp6_known),
		cmocka_unit_test(test_icmp6_large),
		cmocka_unit_test(test_icmp6_refused),
		cmocka_unit_test(test_mss_known),
		cmocka_unit_test(test_mss_left_alone),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
