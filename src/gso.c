/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "pkt.h"

/* IPv4 header: offsets and fields. */
#define GSO_IP4_HDR_MIN 20
#define GSO_IP4_OFF_TOS 1
#define GSO_IP4_OFF_TOTLEN 2
#define GSO_IP4_OFF_ID 4
#define GSO_IP4_OFF_FRAG 6
#define GSO_IP4_OFF_TTL 8
#define GSO_IP4_OFF_PROTO 9
#define GSO_IP4_OFF_CSUM 10
#define GSO_IP4_OFF_ADDRS 12
#define GSO_IP4_MF 0x2000
#define GSO_IP4_OFFMASK 0x1fff
#define GSO_IP4_MAX_TOTLEN 65535

/* IPv6 header: fixed size, no extension headers accepted. */
#define GSO_IP6_HDR_LEN 40
#define GSO_IP6_OFF_PLEN 4
#define GSO_IP6_OFF_NXT 6
#define GSO_IP6_OFF_HLIM 7
#define GSO_IP6_OFF_ADDRS 8
#define GSO_IP6_MAX_PLEN 65535

#define GSO_PROTO_TCP 6
#define GSO_PROTO_UDP 17
#define GSO_PROTO_ICMP6 58

/* TCP header. */
#define GSO_TCP_HDR_MIN 20
#define GSO_TCP_OFF_SEQ 4
#define GSO_TCP_OFF_ACK 8
#define GSO_TCP_OFF_DOFF 12
#define GSO_TCP_OFF_FLAGS 13
#define GSO_TCP_OFF_WIN 14
#define GSO_TCP_OFF_CSUM 16
#define GSO_TCP_FIN 0x01
#define GSO_TCP_SYN 0x02
#define GSO_TCP_RST 0x04
#define GSO_TCP_PSH 0x08
#define GSO_TCP_ACK 0x10
#define GSO_TCP_URG 0x20
#define GSO_TCP_ECE 0x40
#define GSO_TCP_CWR 0x80

/* UDP header. */
#define GSO_UDP_HDR_LEN 8
#define GSO_UDP_OFF_LEN 4
#define GSO_UDP_OFF_CSUM 6

/* Coalescing limits (the kernel's GRO). */
#define GSO_COAL_MAX_SEGS 64
#define GSO_COAL_MAX_FLOWS 16
/* Two addresses of either family and the two ports. */
#define GSO_KEY_MAX (32 + 4)

/*
 * The checksum.  Words are summed in the host's byte order, 64 bits at a
 * time with the end-around carry, which RFC 1071 (§2 B) shows equals the
 * byte-swapped network-order sum; the result is folded to 16 bits and
 * swapped back once, so that the running sum the callers see is always in
 * network order and chains with plain additions of header fields.
 */

static inline uint64_t
gso_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
gso_load32n(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t
gso_load16n(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* One's complement addition of two 64-bit words. */
static inline uint64_t
gso_add64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < b);
}

uint16_t
gso_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t
gso_csum_partial(const void *data, size_t len, uint64_t sum)
{
	const uint8_t *p = data;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	uint16_t f;

	/* Four independent carry chains keep the adders busy. */
	while (len >= 32) {
		s0 = gso_add64(s0, gso_load64(p));
		s1 = gso_add64(s1, gso_load64(p + 8));
		s2 = gso_add64(s2, gso_load64(p + 16));
		s3 = gso_add64(s3, gso_load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		s0 = gso_add64(s0, gso_load64(p));
		p += 8;
		len -= 8;
	}
	/*
	 * The tail: every piece starts at an even offset, so each 16-bit
	 * lane keeps its place; a last odd byte is the high (first) byte of
	 * its network-order word, which is the low byte in little-endian.
	 */
	if (len >= 4) {
		s1 = gso_add64(s1, gso_load32n(p));
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		s2 = gso_add64(s2, gso_load16n(p));
		p += 2;
		len -= 2;
	}
	if (len == 1) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		s3 = gso_add64(s3, (uint64_t)p[0] << 8);
#else
		s3 = gso_add64(s3, p[0]);
#endif
	}
	f = gso_csum_fold(gso_add64(gso_add64(s0, s1), gso_add64(s2, s3)));
#if __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
	f = (uint16_t)(f << 8 | f >> 8);
#endif
	return gso_add64(sum, f);
}

/* The complemented checksum as stored; UDP would read 0 as "none". */
static inline uint16_t
gso_csum_final(uint64_t sum)
{
	uint16_t c = (uint16_t)~gso_csum_fold(sum);

	/* cppcheck misses the cast: c is 0 when the fold is 0xffff. */
	/* cppcheck-suppress knownConditionTrueFalse */
	return c != 0 ? c : 0xffff;
}

int
gso_finish_csum(uint8_t *pkt, size_t len, const struct gso_vnet *h)
{
	size_t start = h->csum_start, field = start + h->csum_offset;

	if (start > len || field > len || len - field < 2)
		return -1;
	pkt_store16(pkt + field,
	    gso_csum_final(gso_csum_partial(pkt + start, len - start, 0)));
	return 0;
}

/* The pseudo-header sum of an IPv4 or IPv6 packet for l4len bytes. */
static inline uint64_t
gso_pseudo(const uint8_t *pkt, bool v6, uint8_t proto, size_t l4len)
{
	uint64_t sum;

	if (v6)
		sum = gso_csum_partial(pkt + GSO_IP6_OFF_ADDRS, 32, 0);
	else
		sum = gso_csum_partial(pkt + GSO_IP4_OFF_ADDRS, 8, 0);
	return sum + proto + l4len;
}

/* Recompute the IPv4 header checksum over ihl * 4 bytes. */
static inline void
gso_ip4_csum(uint8_t *ip, size_t ihl)
{
	pkt_store16(ip + GSO_IP4_OFF_CSUM, 0);
	pkt_store16(ip + GSO_IP4_OFF_CSUM,
	    (uint16_t)~gso_csum_fold(gso_csum_partial(ip, ihl, 0)));
}

int
gso_split_init(struct gso_split *sp, uint8_t gso_type, uint16_t gso_size,
    const uint8_t *pkt, size_t len, const char **why)
{
	uint8_t type = gso_type & (uint8_t)~GSO_ECN, proto;
	size_t l4off, hlen, payload, doff;
	bool v6;

	memset(sp, 0, sizeof(*sp));
	switch (type) {
	case GSO_TCPV4:
	case GSO_TCPV6:
		proto = GSO_PROTO_TCP;
		break;
	case GSO_UDP_L4:
		proto = GSO_PROTO_UDP;
		break;
	case GSO_UDP:
		*why = "legacy UFO is not supported";
		return -1;
	default:
		*why = "unknown gso type";
		return -1;
	}
	if (gso_size == 0) {
		*why = "gso size 0";
		return -1;
	}
	if (len < 1) {
		*why = "truncated IP header";
		return -1;
	}
	switch (pkt[0] >> 4) {
	case 4:
		v6 = false;
		if (type == GSO_TCPV6) {
			*why = "IPv4 packet with a TCPv6 gso type";
			return -1;
		}
		if (len < GSO_IP4_HDR_MIN) {
			*why = "truncated IP header";
			return -1;
		}
		l4off = (size_t)(pkt[0] & 0x0f) * 4;
		if (l4off < GSO_IP4_HDR_MIN || l4off > len) {
			*why = "bad IPv4 header length";
			return -1;
		}
		if (pkt_load16(pkt + GSO_IP4_OFF_TOTLEN) != len) {
			*why = "IPv4 total length does not match";
			return -1;
		}
		if ((pkt_load16(pkt + GSO_IP4_OFF_FRAG) &
			(GSO_IP4_MF | GSO_IP4_OFFMASK)) != 0) {
			*why = "IPv4 fragment";
			return -1;
		}
		if (pkt[GSO_IP4_OFF_PROTO] != proto) {
			*why = "IP protocol does not match the gso type";
			return -1;
		}
		break;
	case 6:
		v6 = true;
		if (type == GSO_TCPV4) {
			*why = "IPv6 packet with a TCPv4 gso type";
			return -1;
		}
		if (len < GSO_IP6_HDR_LEN) {
			*why = "truncated IP header";
			return -1;
		}
		l4off = GSO_IP6_HDR_LEN;
		if ((size_t)pkt_load16(pkt + GSO_IP6_OFF_PLEN) +
			GSO_IP6_HDR_LEN != len) {
			*why = "IPv6 payload length does not match";
			return -1;
		}
		if (pkt[GSO_IP6_OFF_NXT] != proto) {
			*why = pkt[GSO_IP6_OFF_NXT] == GSO_PROTO_TCP ||
				pkt[GSO_IP6_OFF_NXT] == GSO_PROTO_UDP ?
			    "IP protocol does not match the gso type" :
			    "IPv6 extension header or other protocol";
			return -1;
		}
		break;
	default:
		*why = "not an IPv4 or IPv6 packet";
		return -1;
	}
	if (proto == GSO_PROTO_TCP) {
		if (len - l4off < GSO_TCP_HDR_MIN) {
			*why = "truncated TCP header";
			return -1;
		}
		doff = (size_t)(pkt[l4off + GSO_TCP_OFF_DOFF] >> 4) * 4;
		if (doff < GSO_TCP_HDR_MIN) {
			*why = "TCP data offset below 5";
			return -1;
		}
		if (doff > len - l4off) {
			*why = "TCP data offset beyond the packet";
			return -1;
		}
		hlen = l4off + doff;
	} else {
		/*
		 * The UDP length field is not checked: it is rewritten for
		 * every segment, and the kernel ignores it here too.
		 */
		if (len - l4off < GSO_UDP_HDR_LEN) {
			*why = "truncated UDP header";
			return -1;
		}
		hlen = l4off + GSO_UDP_HDR_LEN;
	}
	payload = len - hlen;
	if (payload == 0) {
		*why = "no payload";
		return -1;
	}
	if ((payload + gso_size - 1) / gso_size > GSO_MAX_SEGS) {
		*why = "too many segments";
		return -1;
	}
	sp->pkt = pkt;
	sp->len = len;
	sp->type = type;
	sp->v6 = v6;
	sp->l4off = l4off;
	sp->hlen = hlen;
	sp->mss = gso_size;
	sp->nsegs = (payload + gso_size - 1) / gso_size;
	return 0;
}

size_t
gso_split_seg(const struct gso_split *sp, size_t i, uint8_t *out)
{
	size_t off = i * sp->mss, payload = sp->len - sp->hlen;
	size_t seg = payload - off < sp->mss ? payload - off : sp->mss;
	size_t len = sp->hlen + seg, l4len = len - sp->l4off;
	uint8_t *l4 = out + sp->l4off;
	uint64_t sum;

	memcpy(out, sp->pkt, sp->hlen);
	memcpy(out + sp->hlen, sp->pkt + sp->hlen + off, seg);
	if (sp->v6) {
		pkt_store16(out + GSO_IP6_OFF_PLEN,
		    (uint16_t)(len - GSO_IP6_HDR_LEN));
	} else {
		pkt_store16(out + GSO_IP4_OFF_TOTLEN, (uint16_t)len);
		pkt_store16(out + GSO_IP4_OFF_ID,
		    (uint16_t)(pkt_load16(out + GSO_IP4_OFF_ID) + i));
		gso_ip4_csum(out, sp->l4off);
	}
	if (sp->type == GSO_UDP_L4) {
		pkt_store16(l4 + GSO_UDP_OFF_LEN, (uint16_t)l4len);
		pkt_store16(l4 + GSO_UDP_OFF_CSUM, 0);
		sum = gso_pseudo(out, sp->v6, GSO_PROTO_UDP, l4len);
		sum = gso_csum_partial(l4, l4len, sum);
		pkt_store16(l4 + GSO_UDP_OFF_CSUM, gso_csum_final(sum));
		return len;
	}
	pkt_store32(l4 + GSO_TCP_OFF_SEQ,
	    pkt_load32(l4 + GSO_TCP_OFF_SEQ) + (uint32_t)off);
	if (i + 1 < sp->nsegs)
		l4[GSO_TCP_OFF_FLAGS] &= (uint8_t)~(GSO_TCP_FIN | GSO_TCP_PSH);
	if (i > 0)
		l4[GSO_TCP_OFF_FLAGS] &= (uint8_t)~GSO_TCP_CWR;
	pkt_store16(l4 + GSO_TCP_OFF_CSUM, 0);
	sum = gso_pseudo(out, sp->v6, GSO_PROTO_TCP, l4len);
	sum = gso_csum_partial(l4, l4len, sum);
	pkt_store16(l4 + GSO_TCP_OFF_CSUM, (uint16_t)~gso_csum_fold(sum));
	return len;
}

int
gso_prepare_write(uint8_t gso_type, uint16_t gso_size, uint8_t *pkt,
    size_t len, struct gso_vnet *h, const char **why)
{
	struct gso_split sp;
	size_t l4len;
	uint16_t field;
	bool udp;

	if (gso_split_init(&sp, gso_type, gso_size, pkt, len, why) != 0)
		return -1;
	udp = sp.type == GSO_UDP_L4;
	field = udp ? GSO_UDP_OFF_CSUM : GSO_TCP_OFF_CSUM;
	l4len = len - sp.l4off;
	if (!sp.v6)
		gso_ip4_csum(pkt, sp.l4off);
	pkt_store16(pkt + sp.l4off + field, gso_csum_fold(gso_pseudo(pkt,
	    sp.v6, udp ? GSO_PROTO_UDP : GSO_PROTO_TCP, l4len)));
	memset(h, 0, sizeof(*h));
	h->flags = GSO_F_NEEDS_CSUM;
	h->gso_type = sp.type;
	h->hdr_len = (uint16_t)sp.hlen;
	h->gso_size = gso_size;
	h->csum_start = (uint16_t)sp.l4off;
	h->csum_offset = field;
	return 0;
}

/*
 * The pool of flow buffers: a stack of free ones, at most GSO_POOL_KEEP;
 * one returned to a full stack is freed.
 */
struct gso_pool {
	uint8_t *free[GSO_POOL_KEEP];
	size_t nfree;
	struct gso_pool_stats st;
};

struct gso_pool *
gso_pool_new(void)
{
	return calloc(1, sizeof(struct gso_pool));
}

/* After every coalescer that borrows from it. */
void
gso_pool_free(struct gso_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nfree; i++)
		free(p->free[i]);
	free(p);
}

const struct gso_pool_stats *
gso_pool_stats(const struct gso_pool *p)
{
	return &p->st;
}

/* A buffer of GSO_MAX_PACKET bytes, or NULL when out of memory. */
static uint8_t *
gso_pool_get(struct gso_pool *p)
{
	uint8_t *b;

	if (p->nfree > 0) {
		b = p->free[--p->nfree];
	} else {
		if ((b = malloc(GSO_MAX_PACKET)) == NULL)
			return NULL;
		p->st.allocs++;
	}
	p->st.lent++;
	return b;
}

static void
gso_pool_put(struct gso_pool *p, uint8_t *b)
{
	if (b == NULL)
		return;
	p->st.lent--;
	if (p->nfree < GSO_POOL_KEEP) {
		p->free[p->nfree++] = b;
		return;
	}
	free(b);
	p->st.frees++;
}

/*
 * The coalescer.  A flow slot holds the first segment whole and the
 * payloads of the following ones behind it; the headers are fixed only
 * when the super-packet is written.
 */
struct gso_flow {
	uint8_t *buf;		/* from the pool while len > 0, else NULL */
	size_t len;		/* bytes held; 0: the slot is free */
	uint64_t age;		/* when the pending packet was started */
	bool v6;
	size_t l4off;
	size_t hlen;		/* IP + TCP headers with options */
	size_t mss;		/* the first segment's payload length */
	size_t last;		/* the latest segment's payload length */
	unsigned int nsegs;
	uint32_t next_seq;	/* seq that the next segment must carry */
	bool psh;		/* the latest segment had PSH */
	size_t keylen;
	uint8_t key[GSO_KEY_MAX];
};

struct gso_coal {
	gso_write_fn fn;
	void *arg;
	struct gso_pool *pool;
	bool own_pool;		/* made by gso_coal_new, freed with it */
	int nflows;
	uint64_t clock;
	struct gso_coal_stats st;
	struct gso_flow flow[];	/* nflows of them */
};

/* What gso_coal_add learns about a packet. */
struct gso_info {
	bool v6;
	bool addrs;		/* the addresses are known */
	bool ports;		/* TCP with known ports: key is the flow */
	bool related;		/* TCP, maybe of a flow, ports not visible */
	bool eligible;		/* may merge */
	size_t l4off;
	size_t hlen;
	size_t payload;
	uint32_t seq;
	uint8_t flags;
	size_t keylen;
	uint8_t key[GSO_KEY_MAX];
};

/* Is the TCP checksum of this segment right, pseudo-header included? */
static bool
gso_tcp_csum_ok(const uint8_t *pkt, size_t len, bool v6, size_t l4off)
{
	uint64_t sum;

	sum = gso_pseudo(pkt, v6, GSO_PROTO_TCP, len - l4off);
	sum = gso_csum_partial(pkt + l4off, len - l4off, sum);
	return gso_csum_fold(sum) == 0xffff;
}

/*
 * Classify a packet: which flow it belongs to (if TCP and the ports are
 * visible), whether it may be coalesced.  Nothing is trusted: every field
 * read lies inside len.
 */
static void
gso_coal_parse(const uint8_t *pkt, size_t len, struct gso_info *d)
{
	size_t alen, doff;
	bool clean;
	uint8_t proto;

	memset(d, 0, sizeof(*d));
	if (len < 1)
		return;
	if (pkt[0] >> 4 == 4) {
		uint16_t frag;

		if (len < GSO_IP4_HDR_MIN)
			return;
		d->l4off = (size_t)(pkt[0] & 0x0f) * 4;
		if (d->l4off < GSO_IP4_HDR_MIN)
			return;
		alen = 8;
		memcpy(d->key, pkt + GSO_IP4_OFF_ADDRS, alen);
		d->addrs = true;
		proto = pkt[GSO_IP4_OFF_PROTO];
		if (proto != GSO_PROTO_TCP)
			return;
		frag = pkt_load16(pkt + GSO_IP4_OFF_FRAG);
		if ((frag & GSO_IP4_OFFMASK) != 0) {
			/* A later fragment: no ports to tell its flow. */
			d->related = true;
			return;
		}
		clean = d->l4off == GSO_IP4_HDR_MIN &&
		    (frag & GSO_IP4_MF) == 0 &&
		    pkt_load16(pkt + GSO_IP4_OFF_TOTLEN) == len &&
		    gso_csum_fold(gso_csum_partial(pkt, GSO_IP4_HDR_MIN, 0)) ==
			0xffff;
	} else if (pkt[0] >> 4 == 6) {
		if (len < GSO_IP6_HDR_LEN)
			return;
		d->v6 = true;
		d->l4off = GSO_IP6_HDR_LEN;
		alen = 32;
		memcpy(d->key, pkt + GSO_IP6_OFF_ADDRS, alen);
		d->addrs = true;
		proto = pkt[GSO_IP6_OFF_NXT];
		if (proto == GSO_PROTO_UDP || proto == GSO_PROTO_ICMP6)
			return;
		if (proto != GSO_PROTO_TCP) {
			/* Extension headers may hide a TCP header. */
			d->related = true;
			return;
		}
		clean = (size_t)pkt_load16(pkt + GSO_IP6_OFF_PLEN) +
		    GSO_IP6_HDR_LEN == len;
	} else {
		return;
	}
	if (len < d->l4off + 4) {
		d->related = true;
		return;
	}
	memcpy(d->key + alen, pkt + d->l4off, 4);
	d->keylen = alen + 4;
	d->ports = true;
	if (!clean || len - d->l4off < GSO_TCP_HDR_MIN)
		return;
	doff = (size_t)(pkt[d->l4off + GSO_TCP_OFF_DOFF] >> 4) * 4;
	if (doff < GSO_TCP_HDR_MIN || doff > len - d->l4off)
		return;
	d->hlen = d->l4off + doff;
	d->payload = len - d->hlen;
	d->seq = pkt_load32(pkt + d->l4off + GSO_TCP_OFF_SEQ);
	d->flags = pkt[d->l4off + GSO_TCP_OFF_FLAGS];
	if (d->payload == 0 || (d->flags & ~GSO_TCP_PSH) != GSO_TCP_ACK)
		return;
	d->eligible = gso_tcp_csum_ok(pkt, len, d->v6, d->l4off);
}

static void
gso_coal_emit(struct gso_coal *c, const struct gso_vnet *h, const void *pkt,
    size_t len)
{
	struct iovec iov[2];

	iov[0].iov_base = (void *)(uintptr_t)h;
	iov[0].iov_len = GSO_VNET_LEN;
	iov[1].iov_base = (void *)(uintptr_t)pkt;
	iov[1].iov_len = len;
	c->st.writes++;
	(void)c->fn(c->arg, iov, 2);
}

/* Write a packet as it is, with a zero vnet header. */
static void
gso_coal_pass(struct gso_coal *c, const uint8_t *pkt, size_t len)
{
	static const struct gso_vnet zero;

	gso_coal_emit(c, &zero, pkt, len);
}

/* A slot written or dropped: free, its buffer back in the pool. */
static void
gso_coal_release(struct gso_coal *c, struct gso_flow *f)
{
	gso_pool_put(c->pool, f->buf);
	f->buf = NULL;
	f->len = 0;
}

/* Write a flow's pending packet and free its slot. */
static void
gso_coal_write(struct gso_coal *c, struct gso_flow *f)
{
	struct gso_vnet h;
	uint8_t *b = f->buf, *tcp = f->buf + f->l4off;
	size_t l4len = f->len - f->l4off;

	if (f->nsegs < 2) {
		/* Unchanged, checksums and all. */
		gso_coal_pass(c, b, f->len);
		gso_coal_release(c, f);
		return;
	}
	if (f->v6) {
		pkt_store16(b + GSO_IP6_OFF_PLEN,
		    (uint16_t)(f->len - GSO_IP6_HDR_LEN));
	} else {
		pkt_store16(b + GSO_IP4_OFF_TOTLEN, (uint16_t)f->len);
		gso_ip4_csum(b, GSO_IP4_HDR_MIN);
	}
	tcp[GSO_TCP_OFF_FLAGS] = (uint8_t)((tcp[GSO_TCP_OFF_FLAGS] &
	    ~GSO_TCP_PSH) | (f->psh ? GSO_TCP_PSH : 0));
	pkt_store16(tcp + GSO_TCP_OFF_CSUM,
	    gso_csum_fold(gso_pseudo(b, f->v6, GSO_PROTO_TCP, l4len)));
	memset(&h, 0, sizeof(h));
	h.flags = GSO_F_NEEDS_CSUM;
	h.gso_type = f->v6 ? GSO_TCPV6 : GSO_TCPV4;
	h.hdr_len = (uint16_t)f->hlen;
	h.gso_size = (uint16_t)f->mss;
	h.csum_start = (uint16_t)f->l4off;
	h.csum_offset = GSO_TCP_OFF_CSUM;
	c->st.supers++;
	gso_coal_emit(c, &h, b, f->len);
	gso_coal_release(c, f);
}

/* May this eligible segment be appended to the flow's pending packet? */
static bool
gso_coal_fits(const struct gso_flow *f, const uint8_t *pkt,
    const struct gso_info *d)
{
	const uint8_t *b = f->buf;
	size_t limit = f->v6 ? GSO_IP6_HDR_LEN + GSO_IP6_MAX_PLEN :
	    GSO_IP4_MAX_TOTLEN;

	if (d->hlen != f->hlen || d->seq != f->next_seq || f->psh ||
	    f->last != f->mss || d->payload > f->mss ||
	    f->nsegs >= GSO_COAL_MAX_SEGS || d->payload > limit - f->len)
		return false;
	if (f->v6) {
		/* Version, traffic class and flow label; hop limit. */
		if (memcmp(b, pkt, 4) != 0 ||
		    b[GSO_IP6_OFF_HLIM] != pkt[GSO_IP6_OFF_HLIM])
			return false;
	} else {
		if (b[GSO_IP4_OFF_TOS] != pkt[GSO_IP4_OFF_TOS] ||
		    b[GSO_IP4_OFF_TTL] != pkt[GSO_IP4_OFF_TTL] ||
		    memcmp(b + GSO_IP4_OFF_FRAG, pkt + GSO_IP4_OFF_FRAG,
			2) != 0)
			return false;
	}
	b += f->l4off;
	pkt += d->l4off;
	/* Ack, then window, then the options byte for byte. */
	return memcmp(b + GSO_TCP_OFF_ACK, pkt + GSO_TCP_OFF_ACK, 4) == 0 &&
	    memcmp(b + GSO_TCP_OFF_WIN, pkt + GSO_TCP_OFF_WIN, 2) == 0 &&
	    memcmp(b + GSO_TCP_HDR_MIN, pkt + GSO_TCP_HDR_MIN,
		d->hlen - d->l4off - GSO_TCP_HDR_MIN) == 0;
}

/* The pending flow this packet belongs to, or NULL. */
static struct gso_flow *
gso_coal_find(struct gso_coal *c, const struct gso_info *d)
{
	int i;

	for (i = 0; i < c->nflows; i++) {
		struct gso_flow *f = &c->flow[i];

		if (f->len != 0 && f->v6 == d->v6 && f->keylen == d->keylen &&
		    memcmp(f->key, d->key, d->keylen) == 0)
			return f;
	}
	return NULL;
}

/*
 * A packet whose TCP ports are hidden (a later fragment, extension
 * headers, too short) might belong to any pending flow between the same
 * two addresses: write those first.
 */
static void
gso_coal_flush_addrs(struct gso_coal *c, const struct gso_info *d)
{
	size_t alen = d->v6 ? 32 : 8;
	int i;

	for (i = 0; i < c->nflows; i++) {
		struct gso_flow *f = &c->flow[i];

		if (f->len != 0 && f->v6 == d->v6 &&
		    memcmp(f->key, d->key, alen) == 0)
			gso_coal_write(c, f);
	}
}

/*
 * A slot for a new pending packet: a free one, else the oldest flushed.
 * There is always at least one slot (gso_coal_new refuses 0 flows).
 */
static struct gso_flow *
gso_coal_slot(struct gso_coal *c)
{
	struct gso_flow *old = &c->flow[0];
	int i;

	for (i = 0; i < c->nflows; i++) {
		struct gso_flow *f = &c->flow[i];

		if (f->len == 0)
			return f;
		if (f->age < old->age)
			old = f;
	}
	gso_coal_write(c, old);
	return old;
}

/* Start a pending packet with this segment in slot f. */
static void
gso_coal_start(struct gso_coal *c, struct gso_flow *f, const uint8_t *pkt,
    size_t len, const struct gso_info *d)
{
	memcpy(f->buf, pkt, len);
	f->len = len;
	f->age = c->clock++;
	f->v6 = d->v6;
	f->l4off = d->l4off;
	f->hlen = d->hlen;
	f->mss = d->payload;
	f->last = d->payload;
	f->nsegs = 1;
	f->next_seq = d->seq + (uint32_t)d->payload;
	f->psh = (d->flags & GSO_TCP_PSH) != 0;
	f->keylen = d->keylen;
	memcpy(f->key, d->key, d->keylen);
}

void
gso_coal_add(struct gso_coal *c, const uint8_t *pkt, size_t len)
{
	struct gso_flow *f;
	struct gso_info d;

	c->st.in++;
	gso_coal_parse(pkt, len, &d);
	if (!d.ports) {
		if (d.related)
			gso_coal_flush_addrs(c, &d);
		gso_coal_pass(c, pkt, len);
		return;
	}
	f = gso_coal_find(c, &d);
	if (f != NULL && d.eligible && gso_coal_fits(f, pkt, &d)) {
		memcpy(f->buf + f->len, pkt + d.hlen, d.payload);
		f->len += d.payload;
		f->last = d.payload;
		f->nsegs++;
		f->next_seq += (uint32_t)d.payload;
		f->psh = (d.flags & GSO_TCP_PSH) != 0;
		c->st.merged++;
		/* Nothing can follow a PSH, a short segment or the 64th. */
		if (f->psh || f->last < f->mss ||
		    f->nsegs >= GSO_COAL_MAX_SEGS)
			gso_coal_write(c, f);
		return;
	}
	if (f != NULL)
		gso_coal_write(c, f);
	/* A PSH segment alone cannot grow: write it at once. */
	if (!d.eligible || (d.flags & GSO_TCP_PSH) != 0) {
		gso_coal_pass(c, pkt, len);
		return;
	}
	if (f == NULL)
		f = gso_coal_slot(c);
	if ((f->buf = gso_pool_get(c->pool)) == NULL) {
		gso_coal_pass(c, pkt, len);
		return;
	}
	gso_coal_start(c, f, pkt, len, &d);
}

void
gso_coal_flush(struct gso_coal *c)
{
	struct gso_flow *old;
	int i;

	/* Oldest first, so that the order of writes is the order of starts. */
	for (;;) {
		old = NULL;
		for (i = 0; i < c->nflows; i++) {
			struct gso_flow *f = &c->flow[i];

			if (f->len != 0 && (old == NULL || f->age < old->age))
				old = f;
		}
		if (old == NULL)
			return;
		gso_coal_write(c, old);
	}
}

bool
gso_coal_pending(const struct gso_coal *c)
{
	int i;

	for (i = 0; i < c->nflows; i++)
		if (c->flow[i].len != 0)
			return true;
	return false;
}

const struct gso_coal_stats *
gso_coal_stats(const struct gso_coal *c)
{
	return &c->st;
}

/* NULL with EINVAL for a flow count outside 1..16 too. */
struct gso_coal *
gso_coal_new(int flows, struct gso_pool *pool, gso_write_fn fn, void *arg)
{
	struct gso_coal *c;

	if (flows < 1 || flows > GSO_COAL_MAX_FLOWS || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c) + (size_t)flows *
	    sizeof(c->flow[0]))) == NULL)
		return NULL;
	if (pool == NULL) {
		if ((pool = gso_pool_new()) == NULL) {
			free(c);
			return NULL;
		}
		c->own_pool = true;
	}
	c->pool = pool;
	c->fn = fn;
	c->arg = arg;
	c->nflows = flows;
	return c;
}

/* Pending packets are dropped: flush first to keep them. */
void
gso_coal_free(struct gso_coal *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nflows; i++)
		gso_coal_release(c, &c->flow[i]);
	if (c->own_pool)
		gso_pool_free(c->pool);
	free(c);
}
