/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path MTU answers for inner packets: ICMP "fragmentation needed",
 * ICMPv6 "packet too big" and the MSS clamp of TCP SYNs (pmtu.h).
 */
#include "config.h"

#include <string.h>

#include "pkt.h"
#include "pmtu.h"

#define PMTU_IP4_HDR 20
#define PMTU_IP6_HDR 40
#define PMTU_ICMP_HDR 8
#define PMTU_TCP_HDR 20
/* RFC 1812 4.3.2.3: an ICMPv4 error stays within 576 bytes. */
#define PMTU_V4_ANSWER_MAX 576
#define PMTU_PROTO_ICMP 1
#define PMTU_PROTO_TCP 6
#define PMTU_PROTO_ICMP6 58
#define PMTU_TCP_SYN 0x02
#define PMTU_OPT_END 0
#define PMTU_OPT_NOP 1
#define PMTU_OPT_MSS 2

_Static_assert(PMTU_V4_ANSWER_MAX <= PMTU_ANSWER_MAX, "room for both");

/* The one's complement sum (RFC 1071) of len bytes, not yet folded. */
static uint64_t
pmtu_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	while (len > 1) {
		sum += pkt_load16(p);
		p += 2;
		len -= 2;
	}
	if (len > 0)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

/* The folded, complemented checksum of a running sum. */
static uint16_t
pmtu_csum(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The IPv4 packet's own length: its header checked and its total length
 * within the bytes given.  0 when it is malformed or truncated.
 */
static size_t
pmtu_ip4_len(const uint8_t *p, size_t len, size_t *ihl)
{
	size_t tot;

	if (len < PMTU_IP4_HDR || (p[0] >> 4) != 4)
		return 0;
	*ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = pkt_load16(p + 2);
	if (*ihl < PMTU_IP4_HDR || tot < *ihl || tot > len)
		return 0;
	return tot;
}

/* Likewise for IPv6: the fixed header and the payload length. */
static size_t
pmtu_ip6_len(const uint8_t *p, size_t len)
{
	size_t tot;

	if (len < PMTU_IP6_HDR || (p[0] >> 4) != 6)
		return 0;
	tot = PMTU_IP6_HDR + (size_t)pkt_load16(p + 4);
	return tot <= len ? tot : 0;
}

enum pmtu_kind
pmtu_kind(const uint8_t *p, size_t len)
{
	if (len >= PMTU_IP4_HDR && (p[0] >> 4) == 4)
		return (p[6] & 0x40) != 0 ? PMTU_V4_DF : PMTU_V4;
	if (len >= PMTU_IP6_HDR && (p[0] >> 4) == 6)
		return PMTU_V6;
	return PMTU_OTHER;
}

/* An IPv4 address that names no single host: 0/8, 127/8, 224/3 (with
 * multicast and broadcast). */
static int
pmtu_ip4_not_host(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

/* ICMP types that are errors, never answered with another (RFC 1122). */
static int
pmtu_icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 ||
	    type == 12;
}

size_t
pmtu_icmp4_too_big(const uint8_t *p, size_t len, unsigned int mtu,
    const uint8_t *src, uint8_t *out, size_t cap)
{
	size_t ihl, tot, quote, n;
	uint8_t *icmp;

	if ((tot = pmtu_ip4_len(p, len, &ihl)) == 0)
		return 0;
	/* Only the first fragment is answered, as a router does. */
	if ((pkt_load16(p + 6) & 0x1fff) != 0)
		return 0;
	if (pmtu_ip4_not_host(p + 12) || p[16] >= 224)
		return 0;
	if (p[9] == PMTU_PROTO_ICMP && (tot <= ihl ||
	    pmtu_icmp4_is_error(p[ihl])))
		return 0;
	quote = tot;
	if (quote > PMTU_V4_ANSWER_MAX - PMTU_IP4_HDR - PMTU_ICMP_HDR)
		quote = PMTU_V4_ANSWER_MAX - PMTU_IP4_HDR - PMTU_ICMP_HDR;
	n = PMTU_IP4_HDR + PMTU_ICMP_HDR + quote;
	if (cap < n)
		return 0;
	if (mtu < PMTU_V4_MIN)
		mtu = PMTU_V4_MIN;
	if (mtu > 0xffff)
		mtu = 0xffff;
	memset(out, 0, PMTU_IP4_HDR + PMTU_ICMP_HDR);
	out[0] = 0x45;
	out[1] = 0xc0;		/* internetwork control, as routers send */
	pkt_store16(out + 2, (uint16_t)n);
	out[8] = 64;
	out[9] = PMTU_PROTO_ICMP;
	memcpy(out + 12, src != NULL ? src : p + 16, 4);
	memcpy(out + 16, p + 12, 4);
	pkt_store16(out + 10, pmtu_csum(pmtu_sum(out, PMTU_IP4_HDR, 0)));
	icmp = out + PMTU_IP4_HDR;
	icmp[0] = 3;
	icmp[1] = 4;
	pkt_store16(icmp + 6, (uint16_t)mtu);
	memcpy(icmp + PMTU_ICMP_HDR, p, quote);
	pkt_store16(icmp + 2, pmtu_csum(pmtu_sum(icmp, PMTU_ICMP_HDR + quote,
	    0)));
	return n;
}

/* An IPv6 address that is unspecified (::), loopback (::1) or multicast. */
static int
pmtu_ip6_not_host(const uint8_t *a)
{
	static const uint8_t zero[15];

	return a[0] == 0xff || (memcmp(a, zero, 15) == 0 && a[15] <= 1);
}

size_t
pmtu_icmp6_too_big(const uint8_t *p, size_t len, unsigned int mtu,
    const uint8_t *src, uint8_t *out, size_t cap)
{
	size_t tot, quote, n;
	uint64_t sum;
	uint8_t *icmp;

	if ((tot = pmtu_ip6_len(p, len)) == 0)
		return 0;
	if (pmtu_ip6_not_host(p + 8))
		return 0;
	/* RFC 4443 2.4 (e): packet too big may answer multicast, but then
	 * from an address of ours, not the group's. */
	if (src == NULL && p[24] == 0xff)
		return 0;
	if (p[6] == PMTU_PROTO_ICMP6 && (tot <= PMTU_IP6_HDR ||
	    p[PMTU_IP6_HDR] < 128))
		return 0;
	quote = tot;
	if (quote > PMTU_V6_MIN - PMTU_IP6_HDR - PMTU_ICMP_HDR)
		quote = PMTU_V6_MIN - PMTU_IP6_HDR - PMTU_ICMP_HDR;
	n = PMTU_IP6_HDR + PMTU_ICMP_HDR + quote;
	if (cap < n)
		return 0;
	if (mtu < PMTU_V6_MIN)
		mtu = PMTU_V6_MIN;
	memset(out, 0, PMTU_IP6_HDR + PMTU_ICMP_HDR);
	out[0] = 0x60;
	pkt_store16(out + 4, (uint16_t)(PMTU_ICMP_HDR + quote));
	out[6] = PMTU_PROTO_ICMP6;
	out[7] = 64;
	memcpy(out + 8, src != NULL ? src : p + 24, 16);
	memcpy(out + 24, p + 8, 16);
	icmp = out + PMTU_IP6_HDR;
	icmp[0] = 2;
	icmp[1] = 0;
	pkt_store32(icmp + 4, (uint32_t)mtu);
	memcpy(icmp + PMTU_ICMP_HDR, p, quote);
	/* The pseudo-header: both addresses, the length, the next header. */
	sum = pmtu_sum(out + 8, 32, 0);
	sum += PMTU_ICMP_HDR + quote;
	sum += PMTU_PROTO_ICMP6;
	sum = pmtu_sum(icmp, PMTU_ICMP_HDR + quote, sum);
	pkt_store16(icmp + 2, pmtu_csum(sum));
	return n;
}

/*
 * Replace the 16-bit value old with new at offset off from the start of
 * the checksummed area, in the checksum at csum (RFC 1624, eqn. 3).  At
 * an odd offset the value straddles two words: its bytes count swapped.
 */
static void
pmtu_csum_replace(uint8_t *csum, size_t off, uint16_t old, uint16_t new)
{
	uint32_t sum;

	if (off % 2 != 0) {
		old = (uint16_t)(old << 8 | old >> 8);
		new = (uint16_t)(new << 8 | new >> 8);
	}
	sum = (uint32_t)(uint16_t)~pkt_load16(csum) + (uint16_t)~old + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	pkt_store16(csum, (uint16_t)~sum);
}

int
pmtu_mss_clamp(uint8_t *p, size_t len, unsigned int mtu)
{
	size_t l4, tot, ihl, hl, i, olen;
	unsigned int max;
	uint16_t mss;

	if (mtu < PMTU_V4_MIN)
		mtu = PMTU_V4_MIN;
	if (len >= 1 && (p[0] >> 4) == 4) {
		if ((tot = pmtu_ip4_len(p, len, &ihl)) == 0)
			return -1;
		/* Not TCP, or a fragment: nothing to look at. */
		if (p[9] != PMTU_PROTO_TCP ||
		    (pkt_load16(p + 6) & 0x3fff) != 0)
			return 0;
		l4 = ihl;
		max = mtu - 40;
	} else if (len >= 1 && (p[0] >> 4) == 6) {
		if ((tot = pmtu_ip6_len(p, len)) == 0)
			return -1;
		if (p[6] != PMTU_PROTO_TCP)
			return 0;
		l4 = PMTU_IP6_HDR;
		max = (mtu < PMTU_V6_MIN ? PMTU_V6_MIN : mtu) - 60;
	} else {
		return len == 0 ? -1 : 0;
	}
	if (tot < l4 + PMTU_TCP_HDR)
		return -1;
	if ((p[l4 + 13] & PMTU_TCP_SYN) == 0)
		return 0;
	hl = (size_t)(p[l4 + 12] >> 4) * 4;
	if (hl < PMTU_TCP_HDR || l4 + hl > tot)
		return -1;
	for (i = l4 + PMTU_TCP_HDR; i < l4 + hl; i += olen) {
		if (p[i] == PMTU_OPT_END)
			break;
		if (p[i] == PMTU_OPT_NOP) {
			olen = 1;
			continue;
		}
		if (i + 1 >= l4 + hl)
			return -1;
		olen = p[i + 1];
		if (olen < 2 || i + olen > l4 + hl)
			return -1;
		if (p[i] != PMTU_OPT_MSS || olen != 4)
			continue;
		mss = pkt_load16(p + i + 2);
		if (mss <= max)
			return 0;
		pkt_store16(p + i + 2, (uint16_t)max);
		pmtu_csum_replace(p + l4 + 16, i + 2 - l4, mss, (uint16_t)max);
		return 1;
	}
	return 0;
}
