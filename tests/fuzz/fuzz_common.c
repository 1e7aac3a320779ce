/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the fuzz targets; see fuzz_common.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "frame.h"
#include "fuzz_common.h"
#include "gso.h"
#include "log.h"
#include "pkt.h"
#include "seal.h"
#include "wire.h"

/* The session's values (session.c): flows in its coalescer, tap's extra. */
#define FUZZ_COAL_FLOWS 8
#define FUZZ_TAP_EXTRA 18

#define FUZZ_PROTO_TCP 6
#define FUZZ_PROTO_UDP 17
#define FUZZ_TCP_FIN 0x01
#define FUZZ_TCP_PSH 0x08
#define FUZZ_TCP_CWR 0x80

void
fuzz_udp_keys(uint64_t epoch, struct seal_keys *k)
{
	size_t d, i;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < SEAL_KEY_LEN; i++)
			k->key[d][i] = (uint8_t)(0x40 + 0x20 * d + i +
			    7 * epoch);
		for (i = 0; i < SEAL_IV_LEN; i++)
			k->iv[d][i] = (uint8_t)(0xa0 + 0x10 * d + i + epoch);
	}
}

enum wire_cipher
fuzz_udp_cipher(uint8_t config)
{
	return (config & FUZZ_UDP_CFG_CHACHA) != 0 ?
	    WIRE_CIPHER_CHACHA20_POLY1305 : WIRE_CIPHER_AES_256_GCM;
}

static void
fuzz_log_sink(int level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

void
fuzz_quiet(void)
{
	log_set_sink(fuzz_log_sink, NULL);
}

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "fuzz: check failed at %s:%d: %s\n", file, line,
	    what);
	abort();
}

/*
 * libFuzzer finds this section by name (__start_/__stop_ symbols) and
 * clears it before every run, as it does its own counters.
 */
#define FUZZ_EXTRA_COUNTERS 4096
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t fuzz_extra[FUZZ_EXTRA_COUNTERS];

void
fuzz_feature(uint32_t v)
{
	uint8_t *c = &fuzz_extra[v % FUZZ_EXTRA_COUNTERS];

	if (*c < UINT8_MAX)
		(*c)++;
}

uint32_t
fuzz_hash(const void *p, size_t n, uint32_t h)
{
	const uint8_t *b = p;
	size_t i;

	if (h == 0)
		h = 2166136261u;
	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

uint32_t
fuzz_log2(uint64_t v)
{
	uint32_t n = 0;

	while (v != 0) {
		n++;
		v >>= 1;
	}
	return n;
}

uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;

	if (in->n == 0)
		return 0;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

size_t
fuzz_take(struct fuzz_in *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

uint8_t *
fuzz_dup(const uint8_t *p, size_t len)
{
	/* malloc(0) may return NULL; one byte more is never read. */
	uint8_t *c = malloc(len > 0 ? len : 1);

	if (c == NULL)
		abort();
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

/* --- Checksums, written here from RFC 1071 rather than taken from gso.c */

static uint64_t
fuzz_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)p[i] << 8 | p[i + 1];
	if (len % 2 != 0)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fuzz_fold(uint64_t sum)
{
	while (sum >> 16 != 0)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint64_t
fuzz_pseudo(const uint8_t *p, bool v6, uint8_t proto, size_t l4len)
{
	uint64_t sum = v6 ? fuzz_sum(p + 8, 32, 0) : fuzz_sum(p + 12, 8, 0);

	return sum + proto + (l4len & 0xffff) + (l4len >> 16);
}

uint16_t
fuzz_pseudo_sum(const uint8_t *p, bool v6, uint8_t proto, size_t l4len)
{
	return fuzz_fold(fuzz_pseudo(p, v6, proto, l4len));
}

uint16_t
fuzz_csum(const uint8_t *p, size_t len)
{
	uint16_t f = fuzz_fold(fuzz_sum(p, len, 0));

	/* One's complement has two zeros; report the one gso.c folds to. */
	return f == 0 ? 0xffff : f;
}

bool
fuzz_l4_csum_ok(const uint8_t *p, size_t len, bool v6, size_t l4off,
    uint8_t proto)
{
	uint64_t sum = fuzz_pseudo(p, v6, proto, len - l4off);

	return fuzz_fold(fuzz_sum(p + l4off, len - l4off, sum)) == 0xffff;
}

bool
fuzz_ip4_csum_ok(const uint8_t *p, size_t ihl)
{
	return fuzz_fold(fuzz_sum(p, ihl, 0)) == 0xffff;
}

/* --- Super-packets -------------------------------------------------- */

/* One segment of sp as gso_split_seg wrote it, checked. */
static void
fuzz_gso_seg_check(const struct gso_split *sp, size_t i, const uint8_t *seg,
    size_t n)
{
	size_t payload = sp->len - sp->hlen, off = i * sp->mss;
	size_t want = sp->hlen + (payload - off < sp->mss ? payload - off :
	    sp->mss);
	const uint8_t *l4 = seg + sp->l4off, *ol4 = sp->pkt + sp->l4off;
	uint8_t proto = sp->type == GSO_UDP_L4 ? FUZZ_PROTO_UDP :
	    FUZZ_PROTO_TCP;
	const char *why;
	uint8_t flags, oflags;

	FUZZ_CHECK(n == want);
	FUZZ_CHECK(n > sp->hlen && n <= sp->hlen + sp->mss);
	/* A segment is a packet the device takes as it is. */
	FUZZ_CHECK(frame_packet_check(false, seg, n, sp->hlen + sp->mss,
	    &why) == 0);
	FUZZ_CHECK(memcmp(seg + sp->hlen, sp->pkt + sp->hlen + off,
	    n - sp->hlen) == 0);
	if (!sp->v6)
		FUZZ_CHECK(fuzz_ip4_csum_ok(seg, sp->l4off));
	FUZZ_CHECK(fuzz_l4_csum_ok(seg, n, sp->v6, sp->l4off, proto));
	if (sp->type == GSO_UDP_L4) {
		FUZZ_CHECK(pkt_load16(l4 + 4) == n - sp->l4off);
		return;
	}
	FUZZ_CHECK(pkt_load32(l4 + 4) == (uint32_t)(pkt_load32(ol4 + 4) +
	    (uint32_t)off));
	flags = l4[13];
	oflags = ol4[13];
	if (i + 1 < sp->nsegs)
		FUZZ_CHECK((flags & (FUZZ_TCP_FIN | FUZZ_TCP_PSH)) == 0);
	else
		FUZZ_CHECK((flags & (FUZZ_TCP_FIN | FUZZ_TCP_PSH)) ==
		    (oflags & (FUZZ_TCP_FIN | FUZZ_TCP_PSH)));
	if (i > 0)
		FUZZ_CHECK((flags & FUZZ_TCP_CWR) == 0);
}

int
fuzz_gso_check(uint8_t type, uint16_t size, const uint8_t *p, size_t len,
    size_t mtu, struct fuzz_rx *feed)
{
	struct gso_split sp;
	struct gso_vnet vh;
	const char *why = NULL;
	uint8_t *copy, *seg;
	size_t i, n, total = 0;
	int r;

	r = gso_split_init(&sp, type, size, p, len, &why);
	copy = fuzz_dup(p, len);
	/* Whole into a tun with offloads: the same checks, in place. */
	FUZZ_CHECK(gso_prepare_write(type, size, copy, len, &vh, &why) == r);
	if (r != 0) {
		FUZZ_CHECK(why != NULL);
		free(copy);
		return -1;
	}
	FUZZ_CHECK(sp.nsegs >= 1 && sp.nsegs <= GSO_MAX_SEGS);
	FUZZ_CHECK(sp.hlen > sp.l4off && sp.hlen < len);
	FUZZ_CHECK(vh.flags == GSO_F_NEEDS_CSUM && vh.gso_type == sp.type &&
	    vh.hdr_len == sp.hlen && vh.gso_size == size &&
	    vh.csum_start == sp.l4off &&
	    vh.csum_offset == (sp.type == GSO_UDP_L4 ? 6 : 16));
	FUZZ_CHECK(pkt_load16(copy + vh.csum_start + vh.csum_offset) ==
	    fuzz_pseudo_sum(copy, sp.v6, sp.type == GSO_UDP_L4 ?
	    FUZZ_PROTO_UDP : FUZZ_PROTO_TCP, len - sp.l4off));
	if (!sp.v6)
		FUZZ_CHECK(fuzz_ip4_csum_ok(copy, sp.l4off));
	free(copy);
	/* The session refuses segments larger than its MTU; split the rest. */
	if (sp.hlen + sp.mss > mtu)
		return 0;
	seg = malloc(sp.hlen + sp.mss);
	if (seg == NULL)
		abort();
	for (i = 0; i < sp.nsegs; i++) {
		n = gso_split_seg(&sp, i, seg);
		fuzz_gso_seg_check(&sp, i, seg, n);
		total += n - sp.hlen;
		if (feed != NULL)
			fuzz_rx_deliver(feed, seg, n, false, false);
	}
	FUZZ_CHECK(total == len - sp.hlen);
	free(seg);
	return 0;
}

/* --- The coalescer's "device" --------------------------------------- */

/*
 * Every write: the vnet header, then one packet.  A super-packet must
 * split again into segments no larger than the MTU they came in at.
 */
static int
fuzz_coal_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct fuzz_rx *rx = arg;
	struct gso_vnet h;
	struct gso_split sp;
	const char *why;
	size_t len;

	FUZZ_CHECK(iovcnt == 2);
	FUZZ_CHECK(iov[0].iov_len == GSO_VNET_LEN);
	memcpy(&h, iov[0].iov_base, sizeof(h));
	len = iov[1].iov_len;
	FUZZ_CHECK(len > 0 && len <= GSO_MAX_PACKET);
	rx->written++;
	if (h.gso_type == GSO_NONE) {
		FUZZ_CHECK(h.flags == 0 && h.gso_size == 0);
		rx->coal_out++;
		return 0;
	}
	FUZZ_CHECK(h.gso_type == GSO_TCPV4 || h.gso_type == GSO_TCPV6);
	FUZZ_CHECK(h.flags == GSO_F_NEEDS_CSUM);
	FUZZ_CHECK(gso_split_init(&sp, h.gso_type, h.gso_size,
	    iov[1].iov_base, len, &why) == 0);
	FUZZ_CHECK(sp.hlen == h.hdr_len && sp.l4off == h.csum_start &&
	    h.csum_offset == 16);
	FUZZ_CHECK(sp.hlen + sp.mss <= rx->mtu);
	FUZZ_CHECK(sp.nsegs >= 2);
	if (!sp.v6)
		FUZZ_CHECK(fuzz_ip4_csum_ok(iov[1].iov_base, sp.l4off));
	rx->coal_out += sp.nsegs;
	return 0;
}

/*
 * The receive side only inflates, and compress_inflate resets its stream
 * for every packet, so one compressor per level serves every run: making
 * one (zlib's deflate state, a quarter of a megabyte) would cost more than
 * most inputs.  Only its counters carry over, and nothing reads them.
 */
static struct compress *
fuzz_rx_compressor(int level)
{
	static struct compress *cz[WIRE_COMPRESS_MAX + 1];
	char err[160];

	if (level < 1 || level > WIRE_COMPRESS_MAX)
		return NULL;
	if (cz[level] == NULL)
		cz[level] = compress_new(level, err, sizeof(err));
	return cz[level];
}

int
fuzz_rx_init(struct fuzz_rx *rx, bool tap, size_t mtu, int level,
    bool offload)
{
	memset(rx, 0, sizeof(*rx));
	rx->tap = tap;
	rx->mtu = mtu;
	if ((rx->pkt = malloc(WIRE_PACKET_MAX)) == NULL)
		return -1;
	if (level > 0 && (rx->cz = fuzz_rx_compressor(level)) == NULL) {
		fuzz_rx_free(rx);
		return -1;
	}
	/* As dev.c: offloads (a vnet header) on tun devices only. */
	if (offload && !tap && (rx->coal = gso_coal_new(FUZZ_COAL_FLOWS,
	    NULL, fuzz_coal_write, rx)) == NULL) {
		fuzz_rx_free(rx);
		return -1;
	}
	return 0;
}

void
fuzz_rx_flush(struct fuzz_rx *rx)
{
	if (rx->coal == NULL)
		return;
	gso_coal_flush(rx->coal);
	FUZZ_CHECK(!gso_coal_pending(rx->coal));
	/* Each packet given to it was written once, alone or merged. */
	FUZZ_CHECK(rx->coal_out == rx->coal_in);
}

void
fuzz_rx_free(struct fuzz_rx *rx)
{
	if (rx->coal != NULL)
		fuzz_rx_flush(rx);
	gso_coal_free(rx->coal);
	free(rx->pkt);
	memset(rx, 0, sizeof(*rx));
}

/* receive_deliver_gso: a super-packet, split or whole. */
static void
fuzz_rx_deliver_gso(struct fuzz_rx *rx, const uint8_t *hdr, uint8_t *p,
    size_t len)
{
	uint8_t type = hdr[1] & (uint8_t)~GSO_ECN;
	uint16_t size = pkt_load16(hdr + 4);

	if (fuzz_gso_check(type, size, p, len, rx->mtu, NULL) != 0)
		return;
	/* The session keeps each flow in order around a super-packet. */
	if (rx->coal != NULL)
		fuzz_rx_flush(rx);
}

void
fuzz_rx_deliver(struct fuzz_rx *rx, uint8_t *body, size_t blen, bool zlib,
    bool gso)
{
	size_t limit = rx->mtu + (rx->tap ? FUZZ_TAP_EXTRA : 0);
	const uint8_t *p = body;
	size_t len = blen;
	const char *why;

	if (gso) {
		if (blen <= WIRE_GSO_HDR_LEN || rx->tap)
			return;
		p += WIRE_GSO_HDR_LEN;
		len -= WIRE_GSO_HDR_LEN;
		limit = WIRE_PACKET_MAX;
	}
	if (zlib) {
		if (rx->cz == NULL || compress_inflate(rx->cz, p, len, rx->pkt,
		    limit, &len) != 0)
			return;
		FUZZ_CHECK(len <= limit);
		p = rx->pkt;
	}
	if (gso) {
		fuzz_rx_deliver_gso(rx, body, zlib ? rx->pkt : body +
		    WIRE_GSO_HDR_LEN, len);
		return;
	}
	if (frame_packet_check(rx->tap, p, len, rx->mtu, &why) != 0) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(len <= limit);
	if (rx->coal != NULL) {
		rx->coal_in++;
		gso_coal_add(rx->coal, p, len);
		return;
	}
	rx->written++;
}
