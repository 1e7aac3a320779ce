/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gso.c: the checksum against a bytewise reference at every length and
 * alignment; splitting TCPv4/TCPv6/UDP_L4 super-packets with every
 * segment's headers and checksums recomputed here independently; the
 * refusals; gso_prepare_write and gso_finish_csum; and the coalescer:
 * round trips, flow separation, every reason to stop a merge, slot
 * eviction, pass-through of everything else, and the pool of flow
 * buffers that coalescers share.  All packets are built
 * and checked with the naive helpers below, never with gso.c itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMP6 58

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_CWR 0x80

/* A deterministic pseudo-random stream (xorshift32). */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The stream byte at TCP sequence number x (UDP: at offset x). */
static uint8_t
pattern(uint32_t x)
{
	return (uint8_t)((x * 2654435761u) >> 24);
}

/* RFC 1071 the slow way: big-endian 16-bit words, one at a time. */
static uint64_t
ref_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)p[i] << 8 | p[i + 1];
	if (len % 2 != 0)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
ref_fold(uint64_t sum)
{
	while (sum >> 16 != 0)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static bool
is_v6(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 6;
}

static size_t
l4off_of(const uint8_t *pkt)
{
	return is_v6(pkt) ? 40 : (size_t)(pkt[0] & 0x0f) * 4;
}

static uint8_t
proto_of(const uint8_t *pkt)
{
	return is_v6(pkt) ? pkt[6] : pkt[9];
}

static size_t
hlen_of(const uint8_t *pkt)
{
	size_t l4off = l4off_of(pkt);

	if (proto_of(pkt) == UDP)
		return l4off + 8;
	return l4off + (size_t)(pkt[l4off + 12] >> 4) * 4;
}

static uint64_t
ref_pseudo(const uint8_t *pkt, size_t l4len)
{
	uint64_t sum;

	if (is_v6(pkt))
		sum = ref_sum(pkt + 8, 32, 0);
	else
		sum = ref_sum(pkt + 12, 8, 0);
	return sum + proto_of(pkt) + l4len;
}

/* Offset of the L4 checksum field. */
static size_t
csum_field(const uint8_t *pkt)
{
	return l4off_of(pkt) + (proto_of(pkt) == UDP ? 6 : 16);
}

/* The IPv4 header checksum as it should be. */
static uint16_t
ref_ip4_csum(const uint8_t *pkt)
{
	uint8_t h[60];
	size_t ihl = l4off_of(pkt);

	memcpy(h, pkt, ihl);
	put16(h + 10, 0);
	return (uint16_t)~ref_fold(ref_sum(h, ihl, 0));
}

/* The TCP/UDP checksum as it should be (UDP never 0). */
static uint16_t
ref_l4_csum(const uint8_t *pkt, size_t len)
{
	static uint8_t copy[GSO_MAX_PACKET];
	size_t l4off = l4off_of(pkt), f = csum_field(pkt);
	uint16_t c;

	memcpy(copy, pkt, len);
	put16(copy + f, 0);
	c = (uint16_t)~ref_fold(ref_sum(copy + l4off, len - l4off,
	    ref_pseudo(copy, len - l4off)));
	/* cppcheck misses the cast: c is 0 when the fold is 0xffff. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (c == 0 && proto_of(pkt) == UDP)
		c = 0xffff;
	return c;
}

/* Make both checksums of a built packet right. */
static void
fix_csums(uint8_t *pkt, size_t len)
{
	if (!is_v6(pkt))
		put16(pkt + 10, ref_ip4_csum(pkt));
	put16(pkt + csum_field(pkt), ref_l4_csum(pkt, len));
}

/* What build() lays out. */
struct spec {
	int ver;		/* 4 or 6 */
	uint8_t proto;		/* TCP or UDP */
	size_t ipopt;		/* IPv4 option bytes, a multiple of 4 */
	size_t tcpopt;		/* TCP option bytes, a multiple of 4 */
	uint8_t flags;
	uint32_t seq;
	uint32_t ack;
	uint16_t id;
	uint16_t sport;
	uint8_t tos;		/* TOS or traffic class */
	uint8_t ttl;		/* TTL or hop limit */
	uint16_t win;
	uint32_t tsval;		/* in the timestamp option, if any */
	size_t payload;
};

static struct spec
spec_tcp(int ver, size_t payload)
{
	struct spec s = {
		.ver = ver,
		.proto = TCP,
		.tcpopt = 12,
		.flags = F_ACK,
		.seq = 0xfffff000u,	/* wraps inside a super-packet */
		.ack = 0x12345678,
		.id = 0xfff0,		/* so does the IPv4 id */
		.sport = 40000,
		.ttl = 64,
		.win = 502,
		.tsval = 1000,
		.payload = payload,
	};

	return s;
}

static struct spec
spec_udp(int ver, size_t payload)
{
	struct spec s = spec_tcp(ver, payload);

	s.proto = UDP;
	s.tcpopt = 0;
	s.seq = 0;
	return s;
}

/* A complete packet with right checksums; returns its length. */
static size_t
build(uint8_t *b, const struct spec *s)
{
	size_t l4off, hlen, len, i;
	uint8_t *l4;

	l4off = s->ver == 6 ? 40 : 20 + s->ipopt;
	hlen = l4off + (s->proto == UDP ? 8 : 20 + s->tcpopt);
	len = hlen + s->payload;
	memset(b, 0, hlen);
	if (s->ver == 4) {
		b[0] = (uint8_t)(0x40 | l4off / 4);
		b[1] = s->tos;
		put16(b + 2, (uint16_t)len);
		put16(b + 4, s->id);
		put16(b + 6, 0x4000);	/* DF */
		b[8] = s->ttl;
		b[9] = s->proto;
		put32(b + 12, 0x0a000001);
		put32(b + 16, 0x0a000002);
		for (i = 20; i < l4off; i += 4)
			put32(b + i, 0x94040000);	/* router alert */
	} else {
		b[0] = (uint8_t)(0x60 | s->tos >> 4);
		b[1] = (uint8_t)(s->tos << 4 | 0x0a);	/* flow label 0xabcde */
		put16(b + 2, 0xbcde);
		put16(b + 4, (uint16_t)(len - 40));
		b[6] = s->proto;
		b[7] = s->ttl;
		put32(b + 8, 0xfd000000);
		put32(b + 20, 1);
		put32(b + 24, 0xfd000000);
		put32(b + 36, 2);
	}
	l4 = b + l4off;
	put16(l4, s->sport);
	put16(l4 + 2, 443);
	if (s->proto == UDP) {
		put16(l4 + 4, (uint16_t)(len - l4off));
		for (i = 0; i < s->payload; i++)
			b[hlen + i] = pattern((uint32_t)i + s->sport);
	} else {
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((20 + s->tcpopt) / 4 << 4);
		l4[13] = s->flags;
		put16(l4 + 14, s->win);
		for (i = 20; i < 20 + s->tcpopt; i++)
			l4[i] = 1;	/* NOP */
		if (s->tcpopt >= 12) {
			l4[22] = 8;	/* timestamps */
			l4[23] = 10;
			put32(l4 + 24, s->tsval);
			put32(l4 + 28, 7);
		}
		for (i = 0; i < s->payload; i++)
			b[hlen + i] = pattern(s->seq + (uint32_t)i);
	}
	fix_csums(b, len);
	return len;
}

static uint8_t
gso_type_of(const uint8_t *pkt)
{
	if (proto_of(pkt) == UDP)
		return GSO_UDP_L4;
	return is_v6(pkt) ? GSO_TCPV6 : GSO_TCPV4;
}

/*
 * Split and check every segment against headers patched here by hand:
 * the only differences from the super-packet may be the length fields,
 * the IPv4 id and checksum, seq, FIN/PSH/CWR and the L4 checksum.
 */
static void
check_split(const uint8_t *orig, size_t len, uint8_t type, uint16_t mss)
{
	static uint8_t seg[GSO_MAX_PACKET], want[GSO_MAX_PACKET];
	static uint8_t joined[GSO_MAX_PACKET];
	struct gso_split sp;
	const char *why = NULL;
	size_t l4off = l4off_of(orig), hlen = hlen_of(orig);
	size_t payload = len - hlen, nsegs = (payload + mss - 1) / mss;
	size_t i, done = 0;
	bool udp = proto_of(orig) == UDP;
	uint8_t oflags = udp ? 0 : orig[l4off + 13];

	assert_int_equal(gso_split_init(&sp, type, mss, orig, len, &why), 0);
	assert_int_equal(sp.v6, is_v6(orig));
	assert_int_equal(sp.type, type & ~GSO_ECN);
	assert_int_equal(sp.l4off, l4off);
	assert_int_equal(sp.hlen, hlen);
	assert_int_equal(sp.mss, mss);
	assert_int_equal(sp.nsegs, nsegs);
	for (i = 0; i < nsegs; i++) {
		size_t left = payload - i * mss;
		/* The file's seglen[] is declared further down. */
		/* cppcheck-suppress shadowVariable */
		size_t seglen = left < mss ? left : mss, n, f;
		uint8_t *l4 = want + l4off;

		memset(seg, 0xa5, hlen + mss);
		n = gso_split_seg(&sp, i, seg);
		assert_int_equal(n, hlen + seglen);
		memcpy(want, orig, hlen);
		memcpy(want + hlen, orig + hlen + i * mss, seglen);
		if (is_v6(orig)) {
			put16(want + 4, (uint16_t)(n - 40));
		} else {
			put16(want + 2, (uint16_t)n);
			put16(want + 4, (uint16_t)(get16(orig + 4) + i));
			put16(want + 10, ref_ip4_csum(want));
			assert_int_equal(get16(seg + 10), ref_ip4_csum(seg));
			assert_int_equal(ref_fold(ref_sum(seg, l4off, 0)),
			    0xffff);
		}
		if (udp) {
			put16(l4 + 4, (uint16_t)(n - l4off));
		} else {
			uint8_t fl = oflags;

			put32(l4 + 4, get32(orig + l4off + 4) +
			    (uint32_t)(i * mss));
			if (i + 1 < nsegs)
				fl &= (uint8_t)~(F_FIN | F_PSH);
			if (i > 0)
				fl &= (uint8_t)~F_CWR;
			l4[13] = fl;
			/* Said once more, plainly. */
			assert_int_equal(
			    (seg[l4off + 13] & (F_FIN | F_PSH)) != 0,
			    i + 1 == nsegs && (oflags & (F_FIN | F_PSH)) != 0);
			assert_int_equal((seg[l4off + 13] & F_CWR) != 0,
			    i == 0 && (oflags & F_CWR) != 0);
		}
		f = csum_field(want);
		put16(want + f, ref_l4_csum(want, n));
		assert_memory_equal(seg, want, n);
		assert_int_equal(get16(seg + f), ref_l4_csum(seg, n));
		assert_int_equal(ref_fold(ref_sum(seg + l4off, n - l4off,
		    ref_pseudo(seg, n - l4off))), 0xffff);
		memcpy(joined + done, seg + hlen, seglen);
		done += seglen;
	}
	assert_int_equal(done, payload);
	assert_memory_equal(joined, orig + hlen, payload);
}

static uint8_t pkt[GSO_MAX_PACKET];

/* RFC 1071's own example, then random lengths, alignments and sums. */
static void
test_csum(void **state)
{
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
		0xf6, 0xf7 };
	static uint8_t buf[2048 + 16];
	uint32_t s = 0x2545f491;
	size_t i, len, al;
	uint64_t init;

	(void)state;
	assert_int_equal(gso_csum_fold(gso_csum_partial(ex, sizeof(ex), 0)),
	    0xddf2);
	assert_int_equal(gso_csum_fold(gso_csum_partial(ex, 0, 0)), 0);
	assert_int_equal(gso_csum_fold(0), 0);
	assert_int_equal(gso_csum_fold(0xffff), 0xffff);
	assert_int_equal(gso_csum_fold(0x10000), 1);
	assert_int_equal(gso_csum_fold(0xffffffffffffffffull), 0xffff);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd(&s);
	for (i = 0; i < 20000; i++) {
		len = rnd(&s) % 2001;
		al = rnd(&s) % 16;
		switch (rnd(&s) % 3) {
		case 0:
			init = 0;
			break;
		case 1:
			init = rnd(&s) & 0xffff;
			break;
		default:
			init = (uint64_t)rnd(&s) << 8 | rnd(&s);
			break;
		}
		assert_int_equal(
		    gso_csum_fold(gso_csum_partial(buf + al, len, init)),
		    ref_fold(ref_sum(buf + al, len, init)));
		/* Chained at an even split point, as the callers do. */
		if (len >= 2) {
			size_t cut = (rnd(&s) % len) & ~(size_t)1;
			uint64_t c = gso_csum_partial(buf + al, cut, init);

			c = gso_csum_partial(buf + al + cut, len - cut, c);
			assert_int_equal(gso_csum_fold(c),
			    ref_fold(ref_sum(buf + al, len, init)));
		}
	}
	/* Carries everywhere: all ones, and all ones but one byte. */
	memset(pkt, 0xff, sizeof(pkt));
	for (len = 0; len < 80; len++)
		assert_int_equal(gso_csum_fold(gso_csum_partial(pkt, len, 0)),
		    ref_fold(ref_sum(pkt, len, 0)));
	assert_int_equal(gso_csum_fold(gso_csum_partial(pkt, 65535, 0xffff)),
	    ref_fold(ref_sum(pkt, 65535, 0xffff)));
	pkt[777] = 0xfe;
	assert_int_equal(gso_csum_fold(gso_csum_partial(pkt + 1, 65535, 5)),
	    ref_fold(ref_sum(pkt + 1, 65535, 5)));
	/* Zeros stay zero; anything else never folds to 0. */
	memset(pkt, 0, 4096);
	assert_int_equal(gso_csum_fold(gso_csum_partial(pkt, 4096, 0)), 0);
}

/* Super-packets of every kind, each segment checked. */
static void
test_split(void **state)
{
	struct spec sp;
	size_t len;

	(void)state;
	/* TCPv4 with timestamps, FIN|PSH and CWR, odd last segment. */
	sp = spec_tcp(4, 10 * 1348 + 77);
	sp.flags = F_ACK | F_PSH | F_FIN | F_CWR;
	len = build(pkt, &sp);
	/* The kernel leaves the pseudo-header sum there: it must not count. */
	put16(pkt + csum_field(pkt), ref_fold(ref_pseudo(pkt, len - 20)));
	check_split(pkt, len, GSO_TCPV4, 1348);
	check_split(pkt, len, GSO_TCPV4 | GSO_ECN, 1348);
	/* Exact multiple; and one segment only. */
	sp = spec_tcp(4, 48 * 1348);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV4, 1348);
	sp = spec_tcp(4, 1000);
	sp.flags = F_ACK | F_PSH | F_CWR;
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV4, 1348);
	/* IPv4 options are copied; no TCP options at all. */
	sp = spec_tcp(4, 5000);
	sp.ipopt = 8;
	sp.tcpopt = 0;
	sp.tos = 0x02;
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV4, 999);
	/* TCPv6. */
	sp = spec_tcp(6, 47 * 1328 + 1);
	sp.flags = F_ACK | F_PSH | F_FIN | F_CWR;
	sp.tos = 0xb8;
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV6, 1328);
	sp = spec_tcp(6, 65535 - 32);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV6, 1328);
	/* UDP_L4 on both families. */
	sp = spec_udp(4, 20 * 1372 + 3);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_UDP_L4, 1372);
	sp = spec_udp(6, 46 * 1352);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_UDP_L4, 1352);
	sp = spec_udp(6, 1);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_UDP_L4, 1352);
	/* 128 segments of 1 byte: the limit. */
	sp = spec_tcp(4, GSO_MAX_SEGS);
	len = build(pkt, &sp);
	check_split(pkt, len, GSO_TCPV4, 1);
}

/*
 * A UDP segment whose checksum comes out as 0 must carry 0xffff (0 means
 * "no checksum"): the first payload word of segment 0 is chosen so.
 */
static void
test_split_udp_zero(void **state)
{
	static uint8_t seg[2000];
	struct gso_split s;
	const char *why;
	size_t len, n, hlen, mss = 1000;
	uint16_t sum, w;
	int v;

	(void)state;
	for (v = 4; v <= 6; v += 2) {
		struct spec sp = spec_udp(v, 3 * mss);

		len = build(pkt, &sp);
		hlen = hlen_of(pkt);
		/* Segment 0 as it will be, with its payload word at 0. */
		memcpy(seg, pkt, hlen + mss);
		put16(seg + hlen, 0);
		if (v == 4)
			put16(seg + 2, (uint16_t)(hlen + mss));
		else
			put16(seg + 4, (uint16_t)(hlen + mss - 40));
		put16(seg + hlen - 4, (uint16_t)(mss + 8));
		put16(seg + hlen - 2, 0);
		sum = ref_fold(ref_sum(seg + hlen - 8, mss + 8,
		    ref_pseudo(seg, mss + 8)));
		/* The word that brings the folded sum to 0xffff. */
		w = (uint16_t)(0xffff - sum);
		put16(pkt + hlen, w);
		assert_int_equal(gso_split_init(&s, GSO_UDP_L4, (uint16_t)mss,
		    pkt, len, &why), 0);
		n = gso_split_seg(&s, 0, seg);
		assert_int_equal(n, hlen + mss);
		assert_int_equal(get16(seg + hlen - 2), 0xffff);
		assert_int_equal(ref_l4_csum(seg, n), 0xffff);
		check_split(pkt, len, GSO_UDP_L4, (uint16_t)mss);
	}
}

/* Random shapes: sizes, options, mss, flags, payload lengths. */
static void
test_split_random(void **state)
{
	uint32_t s = 0x9e3779b9;
	int i;

	(void)state;
	for (i = 0; i < 300; i++) {
		int ver = rnd(&s) % 2 != 0 ? 6 : 4;
		bool udp = rnd(&s) % 4 == 0;
		struct spec sp = udp ? spec_udp(ver, 1) : spec_tcp(ver, 1);
		uint16_t mss = (uint16_t)(1 + rnd(&s) % 9000);
		size_t max, len;

		if (!udp) {
			sp.tcpopt = 4 * (rnd(&s) % 11);
			sp.flags = (uint8_t)(F_ACK | (rnd(&s) & (F_PSH | F_FIN |
			    F_CWR | 0x40)));
			sp.seq = rnd(&s);
		}
		if (ver == 4)
			sp.ipopt = 4 * (rnd(&s) % 11);
		sp.id = (uint16_t)rnd(&s);
		max = ver == 4 ? 65535 - 20 - sp.ipopt : 65535;
		max -= udp ? 8 : 20 + sp.tcpopt;
		if (max > (size_t)mss * GSO_MAX_SEGS)
			max = (size_t)mss * GSO_MAX_SEGS;
		sp.payload = 1 + rnd(&s) % max;
		len = build(pkt, &sp);
		check_split(pkt, len, gso_type_of(pkt), mss);
	}
}

/* Each refusal, through both gso_split_init and gso_prepare_write. */
static void
refuse(const uint8_t *p, size_t len, uint8_t type, uint16_t mss,
    const char *want)
{
	static uint8_t copy[GSO_MAX_PACKET];
	struct gso_split sp;
	struct gso_vnet h;
	const char *why = NULL;

	assert_int_equal(gso_split_init(&sp, type, mss, p, len, &why), -1);
	assert_non_null(why);
	if (want != NULL)
		assert_string_equal(why, want);
	memcpy(copy, p, len);
	why = NULL;
	assert_int_equal(gso_prepare_write(type, mss, copy, len, &h, &why), -1);
	assert_non_null(why);
	assert_memory_equal(copy, p, len);
}

static void
test_split_refused(void **state)
{
	struct spec sp;
	size_t len, cut;
	uint8_t save;

	(void)state;
	sp = spec_tcp(4, 3000);
	len = build(pkt, &sp);
	/* Every truncation of a good packet. */
	for (cut = 0; cut < len; cut++)
		refuse(pkt, cut, GSO_TCPV4, 1000, NULL);
	refuse(pkt, len, GSO_TCPV4, 0, "gso size 0");
	refuse(pkt, len, GSO_TCPV6, 1000, "IPv4 packet with a TCPv6 gso type");
	refuse(pkt, len, GSO_UDP, 1000, "legacy UFO is not supported");
	refuse(pkt, len, GSO_NONE, 1000, "unknown gso type");
	refuse(pkt, len, 2, 1000, "unknown gso type");
	refuse(pkt, len, GSO_UDP_L4, 1000,
	    "IP protocol does not match the gso type");
	/* tot_len bigger and smaller than the packet. */
	put16(pkt + 2, (uint16_t)(len + 1));
	refuse(pkt, len, GSO_TCPV4, 1000, "IPv4 total length does not match");
	put16(pkt + 2, (uint16_t)(len - 1));
	refuse(pkt, len, GSO_TCPV4, 1000, "IPv4 total length does not match");
	put16(pkt + 2, (uint16_t)len);
	/* Fragments: MF, an offset. */
	put16(pkt + 6, 0x2000);
	refuse(pkt, len, GSO_TCPV4, 1000, "IPv4 fragment");
	put16(pkt + 6, 0x0001);
	refuse(pkt, len, GSO_TCPV4, 1000, "IPv4 fragment");
	put16(pkt + 6, 0x4000);
	/* ihl below 5 and beyond the packet. */
	pkt[0] = 0x44;
	refuse(pkt, len, GSO_TCPV4, 1000, "bad IPv4 header length");
	pkt[0] = 0x4f;
	put16(pkt + 2, 40);
	refuse(pkt, 40, GSO_TCPV4, 1000, "bad IPv4 header length");
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)len);
	/* doff < 5 and beyond the packet. */
	save = pkt[20 + 12];
	pkt[20 + 12] = 0x40;
	refuse(pkt, len, GSO_TCPV4, 1000, "TCP data offset below 5");
	pkt[20 + 12] = save;
	sp.payload = 0;
	sp.tcpopt = 40;
	len = build(pkt, &sp);
	put16(pkt + 2, (uint16_t)(len - 4));
	refuse(pkt, len - 4, GSO_TCPV4, 1000,
	    "TCP data offset beyond the packet");
	put16(pkt + 2, (uint16_t)len);
	/* No payload. */
	refuse(pkt, len, GSO_TCPV4, 1000, "no payload");
	/* Not IP at all. */
	sp = spec_tcp(4, 3000);
	len = build(pkt, &sp);
	pkt[0] = 0x55;
	refuse(pkt, len, GSO_TCPV4, 1000, "not an IPv4 or IPv6 packet");
	/* 129 segments. */
	sp = spec_tcp(4, GSO_MAX_SEGS + 1);
	len = build(pkt, &sp);
	refuse(pkt, len, GSO_TCPV4, 1, "too many segments");
	sp = spec_tcp(6, 65535 - 32);
	len = build(pkt, &sp);
	refuse(pkt, len, GSO_TCPV6, 500, "too many segments");

	/* IPv6. */
	sp = spec_tcp(6, 3000);
	len = build(pkt, &sp);
	for (cut = 0; cut < len; cut++)
		refuse(pkt, cut, GSO_TCPV6, 1000, NULL);
	refuse(pkt, len, GSO_TCPV4, 1000, "IPv6 packet with a TCPv4 gso type");
	put16(pkt + 4, (uint16_t)(len - 39));
	refuse(pkt, len, GSO_TCPV6, 1000, "IPv6 payload length does not match");
	put16(pkt + 4, (uint16_t)(len - 40));
	pkt[6] = 0;	/* hop-by-hop options */
	refuse(pkt, len, GSO_TCPV6, 1000,
	    "IPv6 extension header or other protocol");
	pkt[6] = 44;	/* fragment header */
	refuse(pkt, len, GSO_TCPV6, 1000,
	    "IPv6 extension header or other protocol");
	pkt[6] = TCP;

	/* UDP: truncated header; no payload. */
	sp = spec_udp(6, 0);
	len = build(pkt, &sp);
	refuse(pkt, len, GSO_UDP_L4, 1000, "no payload");
	put16(pkt + 4, 4);
	refuse(pkt, 44, GSO_UDP_L4, 1000, "truncated UDP header");
	sp = spec_udp(4, 100);
	len = build(pkt, &sp);
	refuse(pkt, len, GSO_TCPV4, 10,
	    "IP protocol does not match the gso type");
}

static void
test_prepare_write(void **state)
{
	static const struct {
		int ver;
		uint8_t proto;
		uint16_t mss;
		size_t payload;
	} cases[] = {
		{ 4, TCP, 1348, 48 * 1348 },
		{ 4, TCP, 1348, 100 },	/* one segment is still fine */
		{ 6, TCP, 1328, 30000 + 1 },
		{ 4, UDP, 1372, 40000 },
		{ 6, UDP, 1352, 1353 },
	};
	static uint8_t orig[GSO_MAX_PACKET];
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		struct spec sp = cases[i].proto == TCP ?
		    spec_tcp(cases[i].ver, cases[i].payload) :
		    spec_udp(cases[i].ver, cases[i].payload);
		struct gso_vnet h;
		const char *why = NULL;
		size_t len, l4off, f;
		uint8_t type;

		sp.ipopt = cases[i].ver == 4 && i == 0 ? 4 : 0;
		len = build(pkt, &sp);
		memcpy(orig, pkt, len);
		l4off = l4off_of(pkt);
		f = csum_field(pkt);
		type = gso_type_of(pkt);
		/* Spoil both checksums: prepare must set them. */
		put16(pkt + f, 0x1234);
		if (cases[i].ver == 4)
			put16(pkt + 10, 0x4321);
		memset(&h, 0xee, sizeof(h));
		assert_int_equal(gso_prepare_write(type | GSO_ECN, cases[i].mss,
		    pkt, len, &h, &why), 0);
		assert_int_equal(h.flags, GSO_F_NEEDS_CSUM);
		assert_int_equal(h.gso_type, type);
		assert_int_equal(h.hdr_len, hlen_of(pkt));
		assert_int_equal(h.gso_size, cases[i].mss);
		assert_int_equal(h.csum_start, l4off);
		assert_int_equal(h.csum_offset, cases[i].proto == TCP ? 16 : 6);
		assert_int_equal(get16(pkt + f),
		    ref_fold(ref_pseudo(pkt, len - l4off)));
		if (cases[i].ver == 4)
			assert_int_equal(get16(pkt + 10), ref_ip4_csum(pkt));
		/* Only the checksum fields changed. */
		put16(pkt + f, get16(orig + f));
		assert_memory_equal(pkt, orig, len);
		/* What the kernel will do with it gives the right sum. */
		put16(pkt + f, ref_fold(ref_pseudo(pkt, len - l4off)));
		assert_int_equal(gso_finish_csum(pkt, len, &h), 0);
		assert_int_equal(get16(pkt + f), ref_l4_csum(pkt, len));
		assert_int_equal(get16(pkt + f), get16(orig + f));
	}
}

static void
test_finish_csum(void **state)
{
	uint32_t s = 77;
	struct gso_vnet h;
	struct spec sp;
	size_t len, f;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		int ver = i % 2 != 0 ? 6 : 4;

		sp = i % 3 == 0 ? spec_udp(ver, rnd(&s) % 3000) :
		    spec_tcp(ver, rnd(&s) % 3000);
		sp.seq = rnd(&s);
		len = build(pkt, &sp);
		f = csum_field(pkt);
		put16(pkt + f, ref_fold(ref_pseudo(pkt, len - l4off_of(pkt))));
		memset(&h, 0, sizeof(h));
		h.flags = GSO_F_NEEDS_CSUM;
		h.csum_start = (uint16_t)l4off_of(pkt);
		h.csum_offset = (uint16_t)(f - l4off_of(pkt));
		assert_int_equal(gso_finish_csum(pkt, len, &h), 0);
		assert_int_equal(get16(pkt + f), ref_l4_csum(pkt, len));
		assert_int_equal(ref_fold(ref_sum(pkt + h.csum_start,
		    len - h.csum_start, ref_pseudo(pkt, len - h.csum_start))),
		    0xffff);
	}
	/* Offsets: the field must fit inside the packet. */
	memset(pkt, 0, 100);
	memset(&h, 0, sizeof(h));
	h.csum_start = 90;
	h.csum_offset = 8;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), 0);
	h.csum_offset = 9;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), -1);
	h.csum_start = 100;
	h.csum_offset = 0;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), -1);
	h.csum_start = 101;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), -1);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), -1);
	h.csum_start = 0;
	h.csum_offset = 98;
	assert_int_equal(gso_finish_csum(pkt, 100, &h), 0);
	assert_int_equal(gso_finish_csum(pkt, 1, &h), -1);
	assert_int_equal(gso_finish_csum(pkt, 0, &h), -1);
}

/* The coalescer's writes, captured. */
#define CAP_MAX 1024
struct cap {
	size_t n;
	struct gso_vnet h[CAP_MAX];
	size_t len[CAP_MAX];
	uint8_t *pkt[CAP_MAX];
};

static struct cap cap;

static int
cap_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct cap *c = arg;
	size_t len = 0;
	int i;

	assert_true(iovcnt >= 2);
	assert_int_equal(iov[0].iov_len, GSO_VNET_LEN);
	assert_true(c->n < CAP_MAX);
	memcpy(&c->h[c->n], iov[0].iov_base, GSO_VNET_LEN);
	for (i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	c->pkt[c->n] = malloc(len > 0 ? len : 1);
	assert_non_null(c->pkt[c->n]);
	len = 0;
	for (i = 1; i < iovcnt; i++) {
		memcpy(c->pkt[c->n] + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	c->len[c->n] = len;
	c->n++;
	return 0;
}

static void
cap_reset(void)
{
	size_t i;

	for (i = 0; i < cap.n; i++)
		free(cap.pkt[i]);
	memset(&cap, 0, sizeof(cap));
}

static bool
vnet_zero(const struct gso_vnet *h)
{
	static const struct gso_vnet zero;

	return memcmp(h, &zero, sizeof(zero)) == 0;
}

/* Write k was this packet, unchanged, with a zero vnet header. */
static void
assert_plain(size_t k, const uint8_t *p, size_t len)
{
	assert_true(k < cap.n);
	assert_true(vnet_zero(&cap.h[k]));
	assert_int_equal(cap.len[k], len);
	assert_memory_equal(cap.pkt[k], p, len);
}

/*
 * Write k is a super-packet of nsegs segments of mss starting at seq,
 * built from a first segment like `first` (headers) and a stream
 * following pattern(): check the vnet header, the fixed headers and the
 * pseudo-header sum, then finish the checksum and verify it.  Returns the
 * payload length.
 */
static size_t
assert_super(size_t k, const uint8_t *first, size_t mss, uint32_t seq,
    size_t nsegs, bool psh)
{
	static uint8_t p[GSO_MAX_PACKET];
	const struct gso_vnet *h = &cap.h[k];
	size_t l4off = l4off_of(first), hlen = hlen_of(first);
	size_t len, payload, j;

	assert_true(k < cap.n);
	assert_true(nsegs >= 2);
	len = cap.len[k];
	memcpy(p, cap.pkt[k], len);
	assert_int_equal(h->flags, GSO_F_NEEDS_CSUM);
	assert_int_equal(h->gso_type, is_v6(first) ? GSO_TCPV6 : GSO_TCPV4);
	assert_int_equal(h->hdr_len, hlen);
	assert_int_equal(h->gso_size, mss);
	assert_int_equal(h->csum_start, l4off);
	assert_int_equal(h->csum_offset, 16);
	assert_true(len > hlen);
	payload = len - hlen;
	assert_true(payload > (nsegs - 1) * mss && payload <= nsegs * mss);
	if (is_v6(first)) {
		assert_int_equal(get16(p + 4), len - 40);
	} else {
		assert_int_equal(get16(p + 2), len);
		assert_int_equal(get16(p + 10), ref_ip4_csum(p));
	}
	assert_int_equal(get32(p + l4off + 4), seq);
	assert_int_equal(p[l4off + 13], F_ACK | (psh ? F_PSH : 0));
	assert_int_equal(get16(p + l4off + 16),
	    ref_fold(ref_pseudo(p, len - l4off)));
	/* The headers are the first segment's apart from those fields. */
	assert_memory_equal(p + (is_v6(first) ? 6 : 4),
	    first + (is_v6(first) ? 6 : 4), (is_v6(first) ? 34 : 6));
	assert_memory_equal(p + 12, first + 12, l4off - 12);
	assert_memory_equal(p + l4off, first + l4off, 13);
	assert_memory_equal(p + l4off + 14, first + l4off + 14, 2);
	assert_memory_equal(p + l4off + 18, first + l4off + 18,
	    hlen - l4off - 18);
	for (j = 0; j < payload; j++)
		assert_int_equal(p[hlen + j], pattern(seq + (uint32_t)j));
	assert_int_equal(gso_finish_csum(p, len, h), 0);
	assert_int_equal(get16(p + l4off + 16), ref_l4_csum(p, len));
	return payload;
}

/* Segments of a flow, built one by one. */
static uint8_t segs[160][1600];
static size_t seglen[160];

/* n segments of mss from seq0; the last one's flags are `last`. */
static void
make_segs(const struct spec *base, size_t n, size_t mss, uint8_t last)
{
	size_t i;

	assert_true(n <= N(segs) && mss + 100 <= sizeof(segs[0]));
	for (i = 0; i < n; i++) {
		struct spec sp = *base;

		sp.seq = base->seq + (uint32_t)(i * mss);
		sp.id = (uint16_t)(base->id + i);
		sp.payload = mss;
		sp.flags = i + 1 == n ? last : F_ACK;
		seglen[i] = build(segs[i], &sp);
	}
}

static void
add_segs(struct gso_coal *c, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		gso_coal_add(c, segs[i], seglen[i]);
}

/* Split super-packets and coalesce the segments back into the same. */
static void
test_coal_round_trip(void **state)
{
	static uint8_t orig[GSO_MAX_PACKET], seg[GSO_MAX_PACKET];
	static const struct {
		int ver;
		uint8_t flags;
		uint16_t mss;
		size_t payload;
	} cases[] = {
		{ 4, F_ACK, 1348, 48 * 1348 },
		{ 4, F_ACK | F_PSH, 1348, 20 * 1348 + 1 },
		{ 6, F_ACK | F_PSH, 1328, 49 * 1328 },
		{ 6, F_ACK, 1000, 10 * 1000 + 999 },
	};
	struct gso_coal *c;
	size_t i, k;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		struct spec sp = spec_tcp(cases[i].ver, cases[i].payload);
		struct gso_split s;
		const char *why;
		size_t len, n, l4off, f;

		cap_reset();
		assert_non_null(c = gso_coal_new(4, NULL, cap_write, &cap));
		sp.flags = cases[i].flags;
		len = build(orig, &sp);
		l4off = l4off_of(orig);
		f = csum_field(orig);
		assert_int_equal(gso_split_init(&s, gso_type_of(orig),
		    cases[i].mss, orig, len, &why), 0);
		for (k = 0; k < s.nsegs; k++) {
			n = gso_split_seg(&s, k, seg);
			gso_coal_add(c, seg, n);
		}
		/* A PSH or short end is written without waiting for flush. */
		if ((cases[i].flags & F_PSH) != 0 ||
		    cases[i].payload % cases[i].mss != 0) {
			assert_int_equal(cap.n, 1);
			assert_false(gso_coal_pending(c));
		} else {
			assert_int_equal(cap.n, 0);
			assert_true(gso_coal_pending(c));
		}
		gso_coal_flush(c);
		assert_false(gso_coal_pending(c));
		assert_int_equal(cap.n, 1);
		assert_super(0, orig, cases[i].mss, sp.seq, s.nsegs,
		    (cases[i].flags & F_PSH) != 0);
		/* Byte for byte the original but for the checksum field. */
		assert_int_equal(cap.len[0], len);
		memcpy(seg, cap.pkt[0], len);
		put16(seg + f, get16(orig + f));
		assert_memory_equal(seg, orig, len);
		assert_int_equal(get16(cap.pkt[0] + l4off + 16),
		    ref_fold(ref_pseudo(orig, len - l4off)));
		assert_int_equal(gso_coal_stats(c)->in, s.nsegs);
		assert_int_equal(gso_coal_stats(c)->merged, s.nsegs - 1);
		assert_int_equal(gso_coal_stats(c)->supers, 1);
		assert_int_equal(gso_coal_stats(c)->writes, 1);
		gso_coal_free(c);
	}
	cap_reset();
}

/* FIN, RST, SYN and CWR end or skip a merge and pass unchanged. */
static void
test_coal_flags(void **state)
{
	static const uint8_t odd[] = { F_ACK | F_FIN, F_ACK | F_RST, F_RST,
		F_ACK | F_SYN, F_ACK | F_URG, F_ACK | F_CWR, 0, F_PSH };
	struct gso_coal *c;
	struct spec base;
	size_t i;

	(void)state;
	base = spec_tcp(4, 0);
	for (i = 0; i < N(odd); i++) {
		cap_reset();
		assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
		make_segs(&base, 10, 1348, odd[i]);
		add_segs(c, 0, 10);
		assert_int_equal(cap.n, 2);
		assert_super(0, segs[0], 1348, base.seq, 9, false);
		assert_plain(1, segs[9], seglen[9]);
		assert_false(gso_coal_pending(c));
		gso_coal_free(c);
	}
	/* CWR on the first segment: written alone, the rest merge. */
	cap_reset();
	assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
	make_segs(&base, 10, 1348, F_ACK);
	segs[0][20 + 13] |= F_CWR;
	fix_csums(segs[0], seglen[0]);
	add_segs(c, 0, 10);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_plain(0, segs[0], seglen[0]);
	assert_super(1, segs[1], 1348, base.seq + 1348, 9, false);
	gso_coal_free(c);
	/* A pure ACK of the flow (no payload) flushes it. */
	cap_reset();
	assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
	add_segs(c, 1, 5);
	base.seq += 5 * 1348;
	base.payload = 0;
	seglen[100] = build(segs[100], &base);
	gso_coal_add(c, segs[100], seglen[100]);
	assert_int_equal(cap.n, 2);
	assert_super(0, segs[1], 1348, get32(segs[1] + 24), 4, false);
	assert_plain(1, segs[100], seglen[100]);
	gso_coal_free(c);
	cap_reset();
}

/* Two flows interleaved: two super-packets, each in order. */
static void
test_coal_two_flows(void **state)
{
	static uint8_t a[10][1600], b[10][1600];
	size_t alen[10], blen[10], i;
	struct gso_coal *c;
	struct spec sa = spec_tcp(4, 1348), sb = spec_tcp(4, 1348);
	const struct gso_coal_stats *st;

	(void)state;
	cap_reset();
	sb.sport = 40001;
	sb.seq = 5;
	assert_non_null(c = gso_coal_new(4, NULL, cap_write, &cap));
	for (i = 0; i < 10; i++) {
		struct spec x = sa, y = sb;

		x.seq += (uint32_t)(i * 1348);
		y.seq += (uint32_t)(i * 1348);
		alen[i] = build(a[i], &x);
		blen[i] = build(b[i], &y);
		gso_coal_add(c, a[i], alen[i]);
		gso_coal_add(c, b[i], blen[i]);
	}
	assert_int_equal(cap.n, 0);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_super(0, a[0], 1348, sa.seq, 10, false);
	assert_super(1, b[0], 1348, sb.seq, 10, false);
	st = gso_coal_stats(c);
	assert_int_equal(st->in, 20);
	assert_int_equal(st->merged, 18);
	assert_int_equal(st->supers, 2);
	assert_int_equal(st->writes, 2);
	/* Flush with nothing pending writes nothing. */
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	gso_coal_free(c);

	/* Same ports, other family: another flow. */
	cap_reset();
	assert_non_null(c = gso_coal_new(4, NULL, cap_write, &cap));
	sb = spec_tcp(6, 1348);
	for (i = 0; i < 4; i++) {
		struct spec x = sa, y = sb;

		x.seq += (uint32_t)(i * 1348);
		y.seq += (uint32_t)(i * 1348);
		alen[i] = build(a[i], &x);
		blen[i] = build(b[i], &y);
		gso_coal_add(c, a[i], alen[i]);
		gso_coal_add(c, b[i], blen[i]);
	}
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_super(0, a[0], 1348, sa.seq, 4, false);
	assert_super(1, b[0], 1348, sb.seq, 4, false);
	gso_coal_free(c);
	cap_reset();
}

/* Every reason to end a merge in the middle of a flow. */
enum brk { GAP, ACK, WIN, OPTS, TTL, TOS, DF, FLOWLABEL, PSH, SHORT, LONG,
	BADSUM, BADIPSUM, IPOPT, NBREAK };

/* What each case must write: runs of segments, super or plain. */
struct run {
	int first;
	int nsegs;		/* 0: segment `first` passed unchanged */
	bool psh;
};

static const struct {
	enum brk why;
	bool from5;		/* the change holds for segments 5..9 */
	size_t mss5;		/* payload of segment 5 */
	struct run runs[4];
} breaks[] = {
	{ GAP, false, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ ACK, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ WIN, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ OPTS, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ TTL, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ TOS, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ DF, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	{ FLOWLABEL, true, 1348, { { 0, 5, false }, { 5, 5, false } } },
	/* PSH and a short segment join, then end the merge. */
	{ PSH, false, 1348, { { 0, 6, true }, { 6, 4, false } } },
	{ SHORT, false, 1000, { { 0, 6, false }, { 6, 4, false } } },
	/*
	 * A longer segment starts anew with its own size; the next full
	 * segment is short for it and ends that merge at once.
	 */
	{ LONG, false, 1349,
	    { { 0, 5, false }, { 5, 2, false }, { 7, 3, false } } },
	{ BADSUM, false, 1348,
	    { { 0, 5, false }, { 5, 0, false }, { 6, 4, false } } },
	{ BADIPSUM, false, 1348,
	    { { 0, 5, false }, { 5, 0, false }, { 6, 4, false } } },
	{ IPOPT, false, 1348,
	    { { 0, 5, false }, { 5, 0, false }, { 6, 4, false } } },
};

static void
test_coal_breaks(void **state)
{
	struct gso_coal *c;
	size_t b, i, k;
	int v;

	(void)state;
	for (v = 4; v <= 6; v += 2) {
		for (b = 0; b < N(breaks); b++) {
			enum brk why = breaks[b].why;
			struct spec sp = spec_tcp(v, 1348);
			uint32_t seq = sp.seq;

			if (v == 6 && (why == DF || why == BADIPSUM ||
			    why == IPOPT))
				continue;
			if (v == 4 && why == FLOWLABEL)
				continue;
			cap_reset();
			assert_non_null(c = gso_coal_new(3, NULL, cap_write, &cap));
			for (i = 0; i < 10; i++) {
				struct spec x = sp;
				bool hit = i == 5 || (i > 5 && breaks[b].from5);

				x.seq = seq;
				x.id = (uint16_t)(sp.id + i);
				if (i == 5)
					x.payload = breaks[b].mss5;
				if (hit) {
					switch (why) {
					case GAP:
						x.seq++;
						break;
					case ACK:
						x.ack++;
						break;
					case WIN:
						x.win++;
						break;
					case OPTS:
						x.tsval++;
						break;
					case TTL:
						x.ttl--;
						break;
					case TOS:
						x.tos = 0x01;
						break;
					case PSH:
						x.flags |= F_PSH;
						break;
					case IPOPT:
						x.ipopt = 4;
						break;
					default:
						break;
					}
				}
				seglen[i] = build(segs[i], &x);
				seq = x.seq + (uint32_t)x.payload;
				if (!hit)
					continue;
				switch (why) {
				case DF:
					put16(segs[i] + 6, 0);
					fix_csums(segs[i], seglen[i]);
					break;
				case FLOWLABEL:
					segs[i][3] ^= 0x01;
					fix_csums(segs[i], seglen[i]);
					break;
				case BADSUM:
					segs[i][seglen[i] - 1] ^= 0x40;
					break;
				case BADIPSUM:
					segs[i][10] ^= 0x01;
					break;
				default:
					break;
				}
			}
			add_segs(c, 0, 10);
			gso_coal_flush(c);
			for (k = 0; k < N(breaks[b].runs) &&
			    breaks[b].runs[k].first + breaks[b].runs[k].nsegs >
			    0; k++) {
				const struct run *r = &breaks[b].runs[k];
				const uint8_t *f = segs[r->first];

				if (r->nsegs == 0) {
					assert_plain(k, f, seglen[r->first]);
					continue;
				}
				assert_super(k, f, seglen[r->first] -
				    hlen_of(f), get32(f + l4off_of(f) + 4),
				    (size_t)r->nsegs, r->psh);
			}
			assert_int_equal(cap.n, k);
			gso_coal_free(c);
		}
	}
	cap_reset();
}

/* A lone segment keeps its checksum and gets a zero vnet header. */
static void
test_coal_lone(void **state)
{
	struct gso_coal *c;
	struct spec sp = spec_tcp(6, 700);
	size_t len;

	(void)state;
	cap_reset();
	assert_non_null(c = gso_coal_new(1, NULL, cap_write, &cap));
	len = build(pkt, &sp);
	gso_coal_add(c, pkt, len);
	assert_true(gso_coal_pending(c));
	assert_int_equal(cap.n, 0);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 1);
	assert_plain(0, pkt, len);
	assert_int_equal(gso_coal_stats(c)->supers, 0);
	assert_int_equal(gso_coal_stats(c)->writes, 1);
	/* A lone PSH segment goes out at once. */
	sp.flags = F_ACK | F_PSH;
	len = build(pkt, &sp);
	gso_coal_add(c, pkt, len);
	assert_int_equal(cap.n, 2);
	assert_plain(1, pkt, len);
	assert_false(gso_coal_pending(c));
	gso_coal_free(c);
	cap_reset();
}

/* 64 segments at most; and no more than 65535 bytes of IPv4. */
static void
test_coal_limits(void **state)
{
	struct gso_coal *c;
	struct spec base = spec_tcp(4, 0);

	(void)state;
	cap_reset();
	assert_non_null(c = gso_coal_new(1, NULL, cap_write, &cap));
	make_segs(&base, 70, 500, F_ACK);
	add_segs(c, 0, 64);
	/* The 64th is written at once: nothing can join it. */
	assert_int_equal(cap.n, 1);
	assert_int_equal(assert_super(0, segs[0], 500, base.seq, 64, false),
	    64 * 500);
	add_segs(c, 64, 70);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_super(1, segs[64], 500, base.seq + 64 * 500, 6, false);
	gso_coal_free(c);

	/* 52 + 46 * 1400 fits in 65535, one more does not. */
	cap_reset();
	assert_non_null(c = gso_coal_new(1, NULL, cap_write, &cap));
	make_segs(&base, 50, 1400, F_ACK);
	add_segs(c, 0, 50);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.len[0], 52 + 46 * 1400);
	assert_super(0, segs[0], 1400, base.seq, 46, false);
	assert_super(1, segs[46], 1400, base.seq + 46 * 1400, 4, false);
	gso_coal_free(c);

	/* IPv6 may carry 65535 bytes behind its fixed header. */
	cap_reset();
	base = spec_tcp(6, 0);
	assert_non_null(c = gso_coal_new(1, NULL, cap_write, &cap));
	make_segs(&base, 50, 1400, F_ACK);
	add_segs(c, 0, 50);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.len[0], 72 + 46 * 1400);
	gso_coal_free(c);
	cap_reset();
}

/*
 * Check that the writes deliver every flow (told apart by sport) in
 * order and complete: each write continues its flow's stream where the
 * previous one ended.  next[] holds each flow's first seq on entry.
 */
static void
assert_streams(uint32_t *next, const uint32_t *end, size_t nflows,
    uint16_t sport0)
{
	size_t k, i;

	for (k = 0; k < cap.n; k++) {
		const uint8_t *p = cap.pkt[k];
		size_t l4off, hlen, j, payload;
		uint32_t seq;

		if (proto_of(p) != TCP)
			continue;
		l4off = l4off_of(p);
		hlen = hlen_of(p);
		i = (size_t)(get16(p + l4off) - sport0);
		assert_true(i < nflows);
		seq = get32(p + l4off + 4);
		assert_int_equal(seq, next[i]);
		payload = cap.len[k] - hlen;
		if (vnet_zero(&cap.h[k])) {
			assert_int_equal(get16(p + l4off + 16),
			    ref_l4_csum(p, cap.len[k]));
		} else {
			uint8_t *q = malloc(cap.len[k]);

			assert_non_null(q);
			memcpy(q, p, cap.len[k]);
			assert_int_equal(get16(q + l4off + 16),
			    ref_fold(ref_pseudo(q, cap.len[k] - l4off)));
			assert_int_equal(gso_finish_csum(q, cap.len[k],
			    &cap.h[k]), 0);
			assert_int_equal(get16(q + l4off + 16),
			    ref_l4_csum(q, cap.len[k]));
			if (!is_v6(q))
				assert_int_equal(get16(q + 10),
				    ref_ip4_csum(q));
			free(q);
		}
		for (j = 0; j < payload; j++)
			assert_int_equal(p[hlen + j],
			    pattern(seq + (uint32_t)j));
		next[i] += (uint32_t)payload;
	}
	for (i = 0; i < nflows; i++)
		assert_int_equal(next[i], end[i]);
}

/* More flows than slots: the oldest is evicted, no flow reordered. */
static void
test_coal_slots(void **state)
{
	enum { FLOWS = 7, SEGS = 12 };
	uint32_t next[FLOWS], end[FLOWS], sent[FLOWS], rs = 12345;
	struct gso_coal *c;
	int slots, round;

	(void)state;
	for (slots = 1; slots <= 16; slots *= 2) {
		for (round = 0; round < 20; round++) {
			size_t i, left = FLOWS * SEGS;

			cap_reset();
			assert_non_null(c = gso_coal_new(slots, NULL, cap_write,
			    &cap));
			for (i = 0; i < FLOWS; i++) {
				next[i] = 1000u * (uint32_t)i;
				end[i] = next[i] + SEGS * 1200;
				sent[i] = 0;
			}
			/* Round robin first, random interleaving after. */
			while (left > 0) {
				struct spec sp;

				i = round == 0 ? left % FLOWS :
				    rnd(&rs) % FLOWS;
				if (sent[i] == SEGS)
					continue;
				sp = spec_tcp(i % 2 != 0 ? 6 : 4, 1200);
				sp.sport = (uint16_t)(40000 + i);
				sp.seq = 1000u * (uint32_t)i + sent[i] * 1200;
				sp.flags = F_ACK;
				if (rnd(&rs) % 17 == 0)
					sp.flags |= F_PSH;
				seglen[0] = build(segs[0], &sp);
				gso_coal_add(c, segs[0], seglen[0]);
				/* A UDP packet now and then, untouched. */
				if (rnd(&rs) % 5 == 0) {
					struct spec u = spec_udp(4, 100);

					seglen[1] = build(segs[1], &u);
					gso_coal_add(c, segs[1], seglen[1]);
					assert_plain(cap.n - 1, segs[1],
					    seglen[1]);
				}
				sent[i]++;
				left--;
			}
			gso_coal_flush(c);
			assert_false(gso_coal_pending(c));
			assert_streams(next, end, FLOWS, 40000);
			gso_coal_free(c);
		}
	}
	cap_reset();
}

/* Other protocols and unparsable TCP pass straight through. */
static void
test_coal_passthrough(void **state)
{
	struct gso_coal *c;
	struct spec base = spec_tcp(4, 0), u;
	size_t len, cut;
	uint8_t icmp[28];

	(void)state;
	cap_reset();
	assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
	make_segs(&base, 4, 1348, F_ACK);
	add_segs(c, 0, 2);
	/* UDP, ICMP, ICMPv6 and UDPv6 do not disturb the pending flow. */
	u = spec_udp(4, 300);
	len = build(pkt, &u);
	gso_coal_add(c, pkt, len);
	assert_int_equal(cap.n, 1);
	assert_plain(0, pkt, len);
	memset(icmp, 0, sizeof(icmp));
	memcpy(icmp, segs[0], 20);
	icmp[9] = ICMP;
	put16(icmp + 2, sizeof(icmp));
	icmp[20] = 8;
	gso_coal_add(c, icmp, sizeof(icmp));
	assert_plain(1, icmp, sizeof(icmp));
	u = spec_udp(6, 10);
	len = build(pkt, &u);
	gso_coal_add(c, pkt, len);
	assert_plain(2, pkt, len);
	pkt[6] = ICMP6;
	gso_coal_add(c, pkt, len);
	assert_plain(3, pkt, len);
	/* Nor does a SYN or a short packet of another flow. */
	u = spec_tcp(4, 0);
	u.sport = 1;
	u.flags = F_SYN;
	len = build(pkt, &u);
	gso_coal_add(c, pkt, len);
	assert_plain(4, pkt, len);
	gso_coal_add(c, pkt, 1);
	assert_plain(5, pkt, 1);
	gso_coal_add(c, pkt, 0);
	assert_int_equal(cap.n, 7);
	assert_int_equal(cap.len[6], 0);
	assert_true(gso_coal_pending(c));
	add_segs(c, 2, 4);
	gso_coal_flush(c);
	assert_int_equal(cap.n, 8);
	assert_super(7, segs[0], 1348, base.seq, 4, false);
	gso_coal_free(c);

	/*
	 * A TCP packet whose ports cannot be seen (a later fragment, an
	 * IPv6 extension header, cut short) flushes the flows between its
	 * two addresses first; one of another address pair does not.
	 */
	cap_reset();
	assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
	add_segs(c, 0, 2);
	memcpy(pkt, segs[3], seglen[3]);
	put16(pkt + 6, 0x00b9);
	put16(pkt + 10, ref_ip4_csum(pkt));
	put32(pkt + 16, 0x0a000009);	/* other destination */
	gso_coal_add(c, pkt, seglen[3]);
	assert_int_equal(cap.n, 1);
	assert_plain(0, pkt, seglen[3]);
	put32(pkt + 16, 0x0a000002);
	gso_coal_add(c, pkt, seglen[3]);
	assert_int_equal(cap.n, 3);
	assert_super(1, segs[0], 1348, base.seq, 2, false);
	assert_plain(2, pkt, seglen[3]);
	/* The same with a first fragment (MF, ports visible). */
	add_segs(c, 0, 2);
	memcpy(pkt, segs[2], seglen[2]);
	put16(pkt + 6, 0x2000);
	gso_coal_add(c, pkt, seglen[2]);
	assert_int_equal(cap.n, 5);
	assert_super(3, segs[0], 1348, base.seq, 2, false);
	assert_plain(4, pkt, seglen[2]);
	/* And with IPv4 options: the flow found past them. */
	add_segs(c, 0, 2);
	base.ipopt = 4;
	base.seq += 2 * 1348;
	base.payload = 1348;
	len = build(pkt, &base);
	gso_coal_add(c, pkt, len);
	assert_int_equal(cap.n, 7);
	assert_super(5, segs[0], 1348, get32(segs[0] + 24), 2, false);
	assert_plain(6, pkt, len);
	gso_coal_free(c);

	cap_reset();
	base = spec_tcp(6, 0);
	assert_non_null(c = gso_coal_new(2, NULL, cap_write, &cap));
	make_segs(&base, 4, 1348, F_ACK);
	add_segs(c, 0, 2);
	memcpy(pkt, segs[2], seglen[2]);
	pkt[6] = 0;	/* hop-by-hop */
	gso_coal_add(c, pkt, seglen[2]);
	assert_int_equal(cap.n, 2);
	assert_super(0, segs[0], 1348, base.seq, 2, false);
	assert_plain(1, pkt, seglen[2]);
	/* A truncated TCP/IPv6 packet of the flow. */
	add_segs(c, 0, 2);
	gso_coal_add(c, segs[2], 42);
	assert_int_equal(cap.n, 4);
	assert_plain(3, segs[2], 42);
	/* Every truncation of a segment is written alone and unchanged. */
	for (cut = 0; cut < seglen[2]; cut++) {
		size_t before = cap.n;

		gso_coal_add(c, segs[2], cut);
		assert_int_equal(cap.n, before + 1);
		assert_plain(before, segs[2], cut);
		assert_false(gso_coal_pending(c));
		if (cap.n > CAP_MAX - 10)
			cap_reset();
	}
	gso_coal_free(c);
	cap_reset();
}

/* Random bytes and mangled segments: nothing read out of bounds. */
static void
test_coal_garbage(void **state)
{
	static uint8_t g[2000];
	uint32_t s = 4242;
	struct gso_coal *c;
	struct spec base = spec_tcp(4, 0);
	size_t i, j, len;

	(void)state;
	cap_reset();
	assert_non_null(c = gso_coal_new(3, NULL, cap_write, &cap));
	make_segs(&base, 8, 1348, F_ACK);
	for (i = 0; i < 5000; i++) {
		if (rnd(&s) % 2 == 0) {
			len = rnd(&s) % 200;
			for (j = 0; j < len; j++)
				g[j] = (uint8_t)rnd(&s);
			if (len > 0)
				g[0] = (uint8_t)((rnd(&s) % 2 != 0 ? 0x40 :
				    0x60) | (g[0] & 0x0f));
		} else {
			j = rnd(&s) % 8;
			len = seglen[j];
			memcpy(g, segs[j], len);
			g[rnd(&s) % 60] = (uint8_t)rnd(&s);
			if (rnd(&s) % 2 == 0)
				len = rnd(&s) % (len + 1);
		}
		gso_coal_add(c, g, len);
		if (cap.n > CAP_MAX - 10) {
			gso_coal_flush(c);
			cap_reset();
		}
	}
	gso_coal_flush(c);
	assert_false(gso_coal_pending(c));
	gso_coal_free(c);
	cap_reset();
	assert_null(gso_coal_new(0, NULL, cap_write, &cap));
	assert_null(gso_coal_new(17, NULL, cap_write, &cap));
	gso_coal_free(NULL);
}

/*
 * Coalescers of many sessions borrow their flow buffers from one pool: a
 * flow holds one from its first segment until it is written, an idle
 * coalescer holds none, a freed buffer is lent again, and the pool keeps
 * at most GSO_POOL_KEEP of those returned.
 */
static void
test_coal_pool(void **state)
{
	enum { MANY = GSO_POOL_KEEP + 3 };
	struct gso_coal *c[MANY];
	const struct gso_pool_stats *st;
	struct gso_pool *pool;
	struct spec base;
	size_t i;

	(void)state;
	assert_non_null(pool = gso_pool_new());
	st = gso_pool_stats(pool);
	for (i = 0; i < MANY; i++)
		assert_non_null(c[i] = gso_coal_new(8, pool, cap_write, &cap));
	assert_int_equal(st->allocs, 0);
	base = spec_tcp(4, 0);
	make_segs(&base, 4, 1348, F_ACK);

	/* Two coalescers, a pending flow each: a buffer each. */
	cap_reset();
	add_segs(c[0], 0, 4);
	add_segs(c[1], 0, 4);
	assert_int_equal(st->lent, 2);
	assert_int_equal(st->allocs, 2);
	gso_coal_flush(c[0]);
	assert_int_equal(st->lent, 1);
	gso_coal_flush(c[1]);
	assert_int_equal(st->lent, 0);
	assert_int_equal(cap.n, 2);
	assert_super(0, segs[0], 1348, base.seq, 4, false);
	assert_super(1, segs[0], 1348, base.seq, 4, false);

	/* The next flows take the returned buffers; nothing is allocated. */
	add_segs(c[2], 0, 4);
	add_segs(c[0], 0, 2);
	assert_int_equal(st->lent, 2);
	assert_int_equal(st->allocs, 2);
	/* Freed with a flow pending: the buffer goes back, the flow is
	 * dropped. */
	gso_coal_free(c[2]);
	c[2] = NULL;
	assert_int_equal(st->lent, 1);
	gso_coal_flush(c[0]);
	assert_int_equal(st->lent, 0);

	/* More flows at once than the pool keeps: the rest are freed. */
	cap_reset();
	for (i = 0; i < MANY; i++)
		if (c[i] != NULL)
			add_segs(c[i], 0, 4);
	assert_int_equal(st->lent, MANY - 1);
	for (i = 0; i < MANY; i++)
		if (c[i] != NULL)
			gso_coal_flush(c[i]);
	assert_int_equal(st->lent, 0);
	assert_int_equal(cap.n, MANY - 1);
	assert_int_equal(st->allocs - st->frees, GSO_POOL_KEEP);
	for (i = 0; i < MANY; i++)
		gso_coal_free(c[i]);
	gso_pool_free(pool);
	gso_pool_free(NULL);
	cap_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_udp_zero),
		cmocka_unit_test(test_split_random),
		cmocka_unit_test(test_split_refused),
		cmocka_unit_test(test_prepare_write),
		cmocka_unit_test(test_finish_csum),
		cmocka_unit_test(test_coal_round_trip),
		cmocka_unit_test(test_coal_flags),
		cmocka_unit_test(test_coal_two_flows),
		cmocka_unit_test(test_coal_breaks),
		cmocka_unit_test(test_coal_lone),
		cmocka_unit_test(test_coal_limits),
		cmocka_unit_test(test_coal_slots),
		cmocka_unit_test(test_coal_passthrough),
		cmocka_unit_test(test_coal_garbage),
		cmocka_unit_test(test_coal_pool),
	};

	return cmocka_run_group_tests_name("gso", tests, NULL, NULL);
}
