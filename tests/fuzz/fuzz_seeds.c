/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpora of the fuzz targets: fuzz_seeds DIR makes
 * DIR/<target>/<name> for every target (`make fuzz-seeds` runs it on
 * tests/fuzz/corpus; the files are committed).  Everything is
 * deterministic, so running it again gives the same bytes.
 *
 * The point of a generator: the UDP datagrams are sealed with the fixed
 * keys of fuzz_udp_datagram so that they get past the tag, the deflate
 * streams are real ones, and the TCP segments carry correct checksums
 * (they are cut from a super-packet by gso_split_seg) so that the
 * coalescer merges them.  Each valid seed has near-valid neighbours.
 */
#include "config.h"

#define ZLIB_CONST
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "frame.h"
#include "fuzz_common.h"
#include "gso.h"
#include "pkt.h"
#include "seal.h"
#include "wire.h"

/* A growing byte string. */
struct seed {
	uint8_t b[70000];
	size_t len;
};

static const char *seeds_root;

static void
seed_fail(const char *what)
{
	fprintf(stderr, "fuzz_seeds: %s\n", what);
	exit(1);
}

static void
seed_put(struct seed *s, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (n > sizeof(s->b) - s->len)
		seed_fail("seed too large");
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void
seed_u8(struct seed *s, uint8_t v)
{
	seed_put(s, &v, 1);
}

static void
seed_u16(struct seed *s, uint16_t v)
{
	uint8_t b[2];

	pkt_store16(b, v);
	seed_put(s, b, 2);
}

static void
seed_str(struct seed *s, const char *text)
{
	seed_put(s, text, strlen(text));
}

/* Write DIR/target/name. */
static void
seed_write(const char *target, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seeds_root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		seed_fail(path);
	snprintf(path, sizeof(path), "%s/%s/%s", seeds_root, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		seed_fail(path);
	if (fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0)
		seed_fail(path);
}

/* --- Packets ------------------------------------------------------- */

/* A pattern payload that compresses a little, like real traffic. */
static void
seed_payload(uint8_t *p, size_t n, unsigned int salt)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)("tapline fuzz seed "[i % 18] +
		    (i / 64 + salt) % 3);
}

static uint16_t
seed_csum(const uint8_t *p, size_t n)
{
	return (uint16_t)~gso_csum_fold(gso_csum_partial(p, n, 0));
}

/*
 * An IPv4 packet (ihl words of header) or an IPv6 one with an L4 header
 * of proto (TCP with doff words, or UDP) and n bytes of payload, into p;
 * returns its length.  TCP gets ACK|flags.  Checksums: the IPv4 header's
 * is right; the L4 one is right too (as the super-packet's own would be
 * before segmentation offload, a full sum).
 */
static size_t
seed_ip(uint8_t *p, bool v6, int ihl, uint8_t proto, int doff,
    uint8_t flags, size_t n, unsigned int salt)
{
	size_t l4off = v6 ? 40 : (size_t)ihl * 4;
	size_t l4len = (proto == 6 ? (size_t)doff * 4 : 8) + n;
	size_t len = l4off + l4len, i;
	uint8_t *l4 = p + l4off;
	uint64_t sum;

	memset(p, 0, len);
	if (v6) {
		p[0] = 0x60;
		pkt_store16(p + 4, (uint16_t)l4len);
		p[6] = proto;
		p[7] = 64;
		p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8;
		p[23] = 1;
		p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8;
		p[39] = 2;
	} else {
		p[0] = (uint8_t)(0x40 | ihl);
		pkt_store16(p + 2, (uint16_t)len);
		pkt_store16(p + 4, (uint16_t)(0x1234 + salt));
		pkt_store16(p + 6, 0x4000);	/* DF */
		p[8] = 64;
		p[9] = proto;
		p[12] = 192; p[13] = 0; p[14] = 2; p[15] = 1;
		p[16] = 192; p[17] = 0; p[18] = 2; p[19] = 2;
		for (i = 20; i < l4off; i++)
			p[i] = 1;	/* NOP options */
		pkt_store16(p + 10, seed_csum(p, l4off));
	}
	pkt_store16(l4, 40000);
	pkt_store16(l4 + 2, 5001);
	if (proto == 6) {
		pkt_store32(l4 + 4, 1000000 + salt);
		pkt_store32(l4 + 8, 777);
		l4[12] = (uint8_t)(doff << 4);
		l4[13] = (uint8_t)(0x10 | flags);
		pkt_store16(l4 + 14, 512);
		for (i = 20; i < (size_t)doff * 4; i++)
			l4[i] = 1;	/* NOP options */
	} else {
		pkt_store16(l4 + 4, (uint16_t)l4len);
	}
	seed_payload(l4 + l4len - n, n, salt);
	sum = gso_csum_partial(v6 ? p + 8 : p + 12, v6 ? 32 : 8, 0) + proto +
	    l4len;
	sum = gso_csum_partial(l4, l4len, sum);
	pkt_store16(l4 + (proto == 6 ? 16 : 6), (uint16_t)~gso_csum_fold(sum));
	return len;
}

/* An Ethernet frame for tap: IPv4 inside. */
static size_t
seed_eth(uint8_t *p, size_t n)
{
	static const uint8_t hdr[14] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
	};

	memcpy(p, hdr, sizeof(hdr));
	return sizeof(hdr) + seed_ip(p + 14, false, 5, 17, 0, 0, n, 3);
}

/* Cut a super-packet into segments; returns how many. */
static size_t
seed_segments(uint8_t type, uint16_t mss, const uint8_t *super, size_t len,
    uint8_t segs[][2048], size_t *lens, size_t max)
{
	struct gso_split sp;
	const char *why;
	size_t i;

	if (gso_split_init(&sp, type, mss, super, len, &why) != 0)
		seed_fail(why);
	if (sp.nsegs > max || sp.hlen + sp.mss > 2048)
		seed_fail("too many segments");
	for (i = 0; i < sp.nsegs; i++)
		lens[i] = gso_split_seg(&sp, i, segs[i]);
	return sp.nsegs;
}

/* Raw deflate of n bytes at level (0 gives stored blocks). */
static size_t
seed_deflate(const uint8_t *in, size_t n, int level, uint8_t *out,
    size_t cap)
{
	z_stream z;
	size_t len;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		seed_fail("deflateInit2");
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		seed_fail("deflate");
	len = z.total_out;
	deflateEnd(&z);
	return len;
}

/* --- fuzz_udp_datagram ---------------------------------------------- */

struct seed_udp {
	struct seal_tx tx[2];	/* epochs 0 and 1, the client's side */
	struct seed s;
};

static void
seed_udp_begin(struct seed_udp *u, uint8_t cfg, size_t mtu)
{
	struct seal_keys k;
	char err[200];
	int e;

	for (e = 0; e < 2; e++) {
		if (seal_tx_init(&u->tx[e], NULL, err, sizeof(err)) != 0)
			seed_fail(err);
		fuzz_udp_keys((uint64_t)e, &k);
		if (seal_tx_install(&u->tx[e], (uint64_t)e,
		    fuzz_udp_cipher(cfg), &k, SEAL_ROLE_CLIENT, FUZZ_UDP_T0,
		    err, sizeof(err)) != 0)
			seed_fail(err);
	}
	seal_keys_wipe(&k);
	u->s.len = 0;
	seed_u8(&u->s, cfg);
	seed_u16(&u->s, (uint16_t)(mtu - WIRE_MTU_MIN));
}

/* A record holding n raw bytes, the clock moved on by dt ticks. */
static void
seed_udp_raw(struct seed_udp *u, uint8_t dt, const uint8_t *p, size_t n)
{
	seed_u8(&u->s, dt);
	seed_u16(&u->s, (uint16_t)n);
	seed_put(&u->s, p, n);
}

/*
 * A record of payload sealed as kind under epoch e, with one bit flipped
 * at byte flip afterwards (-1: none).
 */
static void
seed_udp_sealed(struct seed_udp *u, int e, uint8_t dt, uint8_t kind,
    const uint8_t *payload, size_t n, long flip)
{
	static uint8_t buf[WIRE_UDP_MAX_LEN];
	size_t len;

	memcpy(buf + WIRE_UDP_PAYLOAD_OFF, payload, n);
	if (seal_tx_seal(&u->tx[e], FUZZ_UDP_RID, kind, buf, sizeof(buf), n,
	    &len, FUZZ_UDP_T0) != 0)
		seed_fail("seal");
	if (flip >= 0)
		buf[flip] ^= 0x10;
	seed_udp_raw(u, dt, buf, len);
}

/*
 * A record that fuzz_udp_datagram seals itself: the header (type DATA, no
 * flags, our receiver id, the epoch's low byte and counter), the kind and
 * the payload, without a tag.
 */
static void
seed_udp_plain(struct seed_udp *u, uint8_t dt, uint8_t epoch,
    uint64_t counter, uint8_t kind, const uint8_t *payload, size_t n)
{
	uint8_t hdr[WIRE_UDP_PAYLOAD_OFF];

	hdr[WIRE_UDP_OFF_TYPE] = WIRE_UDP_TYPE_DATA;
	hdr[WIRE_UDP_OFF_EPOCH] = epoch;
	hdr[WIRE_UDP_OFF_FLAGS] = 0;
	hdr[WIRE_UDP_OFF_RSV] = 0;
	pkt_store32(hdr + WIRE_UDP_OFF_RECEIVER, FUZZ_UDP_RID);
	pkt_store64(hdr + WIRE_UDP_OFF_COUNTER, counter);
	hdr[WIRE_UDP_HDR_LEN] = kind;
	seed_u8(&u->s, (uint8_t)(FUZZ_UDP_SEAL | dt));
	seed_u16(&u->s, (uint16_t)(sizeof(hdr) + n));
	seed_put(&u->s, hdr, sizeof(hdr));
	seed_put(&u->s, payload, n);
}

static void
seed_udp_end(struct seed_udp *u, const char *name)
{
	seed_write("fuzz_udp_datagram", name, &u->s);
	seal_tx_free(&u->tx[0]);
	seal_tx_free(&u->tx[1]);
}

static void
seeds_udp(void)
{
	static struct seed_udp u;
	uint8_t p[2048], z[2048], segs[8][2048];
	size_t n, zn, lens[8], i, k;
	uint8_t super[9000];

	/* A tun session over AES-GCM: data, keepalive, a replay, a flip. */
	seed_udp_begin(&u, 0, 1500);
	n = seed_ip(p, false, 5, 17, 0, 0, 100, 0);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, -1);
	seed_udp_sealed(&u, 0, 1, WIRE_INNER_KEEPALIVE, p, 0, -1);
	seed_udp_raw(&u, 0, u.s.b + 3 + 3, n + SEAL_OVERHEAD);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, 40);
	n = seed_ip(p, true, 0, 6, 5, 0x08, 60, 1);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, -1);
	seed_udp_end(&u, "tun-aes");

	/* ChaCha20-Poly1305 on a tap session. */
	seed_udp_begin(&u, FUZZ_UDP_CFG_CHACHA | FUZZ_UDP_CFG_TAP, 1500);
	n = seed_eth(p, 200);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, -1);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, 10, -1);
	seed_udp_end(&u, "tap-chacha");

	/* A rekey: epoch 0, epoch 1 (promotes), epoch 0 in and after grace. */
	seed_udp_begin(&u, FUZZ_UDP_CFG_NEXT, 1400);
	n = seed_ip(p, false, 5, 17, 0, 0, 64, 2);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, -1);
	seed_udp_sealed(&u, 1, 1, WIRE_INNER_KEEPALIVE, p, 0, -1);
	seed_udp_sealed(&u, 0, 4, WIRE_INNER_RAW, p, n, -1);
	seed_udp_sealed(&u, 1, 0, WIRE_INNER_RAW, p, n, -1);
	seed_udp_sealed(&u, 0, 60, WIRE_INNER_RAW, p, n, -1);
	seed_udp_end(&u, "rekey");

	/* Compression: a deflated packet, a corrupt one, a bomb. */
	seed_udp_begin(&u, FUZZ_UDP_CFG_ZLIB, 1500);
	n = seed_ip(p, false, 5, 17, 0, 0, 1000, 0);
	zn = seed_deflate(p, n, 6, z, sizeof(z));
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_ZLIB, z, zn, -1);
	z[zn / 2] ^= 0xff;
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_ZLIB, z, zn, -1);
	memset(super, 0, sizeof(super));
	zn = seed_deflate(super, sizeof(super), 9, z, sizeof(z));
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_ZLIB, z, zn, -1);
	seed_udp_end(&u, "zlib");

	/* Offloads: TCP segments of one flow that the coalescer merges. */
	seed_udp_begin(&u, FUZZ_UDP_CFG_OFFLOAD, 1500);
	n = seed_ip(super, false, 5, 6, 5, 0x08, 4 * 1448 + 100, 0);
	k = seed_segments(GSO_TCPV4, 1448, super, n, segs, lens, 8);
	for (i = 0; i < k; i++)
		seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, segs[i], lens[i],
		    -1);
	n = seed_ip(super, true, 0, 6, 8, 0, 3 * 1000, 5);
	k = seed_segments(GSO_TCPV6, 1000, super, n, segs, lens, 8);
	for (i = 0; i < k; i++)
		seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, segs[i], lens[i],
		    -1);
	seed_udp_end(&u, "offload-segments");

	/*
	 * Records the target seals: counters far apart and reordered
	 * (ATTACKS.md rows 3-6), a rekey, every kind, a tap-sized frame.
	 */
	seed_udp_begin(&u, FUZZ_UDP_CFG_NEXT | FUZZ_UDP_CFG_ZLIB, 1500);
	n = seed_ip(p, false, 5, 17, 0, 0, 300, 0);
	seed_udp_plain(&u, 0, 0, 1, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, 5000, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, 4000, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, 4000, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, 1000000, WIRE_INNER_KEEPALIVE, p, 0);
	seed_udp_plain(&u, 0, 0, 3100, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, (UINT64_C(1) << 27) - 1, WIRE_INNER_RAW, p,
	    n);
	seed_udp_plain(&u, 0, 0, UINT64_MAX, WIRE_INNER_RAW, p, n);
	seed_udp_plain(&u, 0, 0, 0, WIRE_INNER_RAW, p, n);
	zn = seed_deflate(p, n, 1, z, sizeof(z));
	seed_udp_plain(&u, 1, 1, 1, WIRE_INNER_ZLIB, z, zn);
	seed_udp_plain(&u, 0, 1, 2, 3, p, n);
	seed_udp_plain(&u, 0, 1, 3, WIRE_INNER_KEEPALIVE, p, 1);
	seed_udp_plain(&u, 0, 1, 4, WIRE_INNER_RAW, p, 0);
	seed_udp_plain(&u, 50, 0, 7, WIRE_INNER_RAW, p, n);
	seed_udp_end(&u, "target-sealed");

	/* Near misses before any crypto (ATTACKS.md row 1). */
	seed_udp_begin(&u, 0, 1500);
	n = seed_ip(p, false, 5, 17, 0, 0, 20, 0);
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, 0);	/* type */
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, 2);	/* flags */
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, 5);	/* rid */
	seed_udp_sealed(&u, 0, 0, WIRE_INNER_RAW, p, n, 1);	/* epoch */
	seed_udp_raw(&u, 0, p, 20);				/* short */
	seed_udp_raw(&u, 0, p, 0);
	seed_udp_end(&u, "near-misses");
}

/* --- fuzz_frame_stream ---------------------------------------------- */

static void
seed_frame(struct seed *s, uint8_t type, uint8_t flags, const void *body,
    size_t n)
{
	uint8_t hdr[WIRE_FRAME_HDR_LEN];

	frame_put_hdr(hdr, type, flags, (uint32_t)n);
	seed_put(s, hdr, sizeof(hdr));
	seed_put(s, body, n);
}

static void
seed_hello(struct seed *s, uint8_t transport, uint8_t type,
    uint8_t compress)
{
	struct frame_hello h = {
		.version = WIRE_VERSION,
		.transport = transport,
		.type = type,
		.compress = compress,
		.cipher = WIRE_CIPHER_AUTO,
		.mtu = 1500,
		.udp_receiver_id = transport == WIRE_TRANSPORT_UDP ?
		    FUZZ_UDP_RID : 0,
		.udp_port = 0,
	};
	uint8_t body[WIRE_HELLO_LEN];

	frame_hello_encode(&h, body);
	seed_frame(s, WIRE_HELLO, 0, body, sizeof(body));
}

static void
seed_close(struct seed *s, uint8_t reason, const char *msg)
{
	uint8_t body[1 + WIRE_CLOSE_MSG_MAX];
	size_t n;

	if (frame_close_encode(reason, msg, body, sizeof(body), &n) != 0)
		seed_fail("close");
	seed_frame(s, WIRE_CLOSE, 0, body, n);
}

/* A DATA frame with the offload header in front of a super-packet. */
static void
seed_gso_frame(struct seed *s, uint8_t flags, uint8_t type, uint16_t mss,
    const uint8_t *p, size_t n)
{
	static uint8_t body[WIRE_DATA_MAX_BODY];

	memset(body, 0, WIRE_GSO_HDR_LEN);
	body[0] = GSO_F_NEEDS_CSUM;
	body[1] = type;
	pkt_store16(body + 4, mss);
	memcpy(body + WIRE_GSO_HDR_LEN, p, n);
	seed_frame(s, WIRE_DATA, (uint8_t)(WIRE_FLAG_GSO | flags), body,
	    WIRE_GSO_HDR_LEN + n);
}

static void
seeds_stream(void)
{
	static struct seed s;
	static uint8_t p[9000], z[9000], rekey[40];
	size_t n, zn;

	/* A TCP tun session a byte at a time, ending with CLOSE. */
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x01);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 0);
	n = seed_ip(p, false, 5, 17, 0, 0, 200, 0);
	seed_frame(&s, WIRE_DATA, 0, p, n);
	seed_frame(&s, WIRE_KEEPALIVE, 0, NULL, 0);
	n = seed_ip(p, true, 0, 6, 5, 0, 300, 1);
	seed_frame(&s, WIRE_DATA, 0, p, n);
	seed_close(&s, WIRE_CLOSE_SHUTDOWN, "bye");
	seed_write("fuzz_frame_stream", "tun-small-chunks", &s);

	/* Compression, in TLS-record-sized chunks: good, corrupt, bomb. */
	s.len = 0;
	seed_u8(&s, FUZZ_STREAM_CFG_ZLIB);
	seed_u8(&s, 0x85);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 6);
	n = seed_ip(p, false, 5, 17, 0, 0, 1200, 0);
	zn = seed_deflate(p, n, 6, z, sizeof(z));
	seed_frame(&s, WIRE_DATA, WIRE_FLAG_ZLIB, z, zn);
	z[3] ^= 0x55;
	seed_frame(&s, WIRE_DATA, WIRE_FLAG_ZLIB, z, zn);
	memset(p, 0, sizeof(p));
	zn = seed_deflate(p, sizeof(p), 9, z, sizeof(z));
	seed_frame(&s, WIRE_DATA, WIRE_FLAG_ZLIB, z, zn);
	seed_close(&s, WIRE_CLOSE_PROTOCOL, "frame too large\x01\xff");
	seed_write("fuzz_frame_stream", "zlib", &s);

	/* Offloads: super-packets of each kind behind the offload header. */
	s.len = 0;
	seed_u8(&s, FUZZ_STREAM_CFG_OFFLOAD | FUZZ_STREAM_CFG_ZLIB);
	seed_u8(&s, 0x47);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 1);
	n = seed_ip(p, false, 5, 6, 5, 0x08, 3 * 1448 + 7, 0);
	seed_gso_frame(&s, 0, GSO_TCPV4, 1448, p, n);
	n = seed_ip(p, true, 0, 6, 8, 0, 2 * 1000 + 1, 1);
	seed_gso_frame(&s, 0, GSO_TCPV6 | GSO_ECN, 1000, p, n);
	n = seed_ip(p, false, 6, 17, 0, 0, 4 * 1400, 2);
	seed_gso_frame(&s, 0, GSO_UDP_L4, 1400, p, n);
	n = seed_ip(p, false, 5, 6, 5, 0, 2 * 1448, 3);
	zn = seed_deflate(p, n, 1, z + WIRE_GSO_HDR_LEN,
	    sizeof(z) - WIRE_GSO_HDR_LEN);
	memset(z, 0, WIRE_GSO_HDR_LEN);
	z[1] = GSO_TCPV4;
	pkt_store16(z + 4, 1448);
	seed_frame(&s, WIRE_DATA, WIRE_FLAG_GSO | WIRE_FLAG_ZLIB, z,
	    WIRE_GSO_HDR_LEN + zn);
	seed_write("fuzz_frame_stream", "offload", &s);

	/* tap, jumbo MTU, one chunk. */
	s.len = 0;
	seed_u8(&s, FUZZ_STREAM_CFG_TAP | FUZZ_STREAM_CFG_JUMBO);
	seed_u8(&s, 0xc0);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TAP, 0);
	n = seed_eth(p, 8000);
	seed_frame(&s, WIRE_DATA, 0, p, n);
	seed_frame(&s, WIRE_DATA, 0, p, 13);
	seed_write("fuzz_frame_stream", "tap-jumbo", &s);

	/* UDP mode: control frames only; DATA ends it. */
	s.len = 0;
	seed_u8(&s, FUZZ_STREAM_CFG_UDP);
	seed_u8(&s, 0x42);
	seed_hello(&s, WIRE_TRANSPORT_UDP, WIRE_DEV_TUN, 0);
	pkt_store64(rekey, 1);
	seed_frame(&s, WIRE_REKEY, 0, rekey, sizeof(rekey));
	seed_frame(&s, WIRE_KEEPALIVE, 0, NULL, 0);
	seed_frame(&s, WIRE_DATA, 0, p, 40);
	seed_write("fuzz_frame_stream", "udp-control", &s);

	/* A re-attaching HELLO: the HELLO body, then the 32-byte token. */
	s.len = 0;
	seed_u8(&s, FUZZ_STREAM_CFG_UDP);
	seed_u8(&s, 0x42);
	{
		struct frame_hello h = {
			.version = WIRE_VERSION,
			.transport = WIRE_TRANSPORT_UDP,
			.type = WIRE_DEV_TUN,
			.cipher = WIRE_CIPHER_AUTO,
			.mtu = 1500,
			.udp_receiver_id = FUZZ_UDP_RID,
		};
		uint8_t body[WIRE_HELLO_LEN + WIRE_REATTACH_TOKEN_LEN];

		frame_hello_encode(&h, body);
		memset(body + WIRE_HELLO_LEN, 0x5a, WIRE_REATTACH_TOKEN_LEN);
		seed_frame(&s, WIRE_HELLO, WIRE_FLAG_REATTACH, body,
		    sizeof(body));
	}
	seed_write("fuzz_frame_stream", "udp-reattach", &s);

	/* Not our protocol at all (ATTACKS.md row 14). */
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x80);
	seed_str(&s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	seed_write("fuzz_frame_stream", "http", &s);
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x80);
	seed_str(&s, "VTUN server ver 3.X 04/12/2016\n");
	seed_write("fuzz_frame_stream", "vtun-banner", &s);

	/* Headers just past each limit (ATTACKS.md row 15). */
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x40);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 0);
	frame_put_hdr(p, WIRE_DATA, 0, WIRE_DATA_MAX_BODY + 1);
	seed_put(&s, p, WIRE_FRAME_HDR_LEN);
	seed_write("fuzz_frame_stream", "data-too-large", &s);
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x40);
	frame_put_hdr(p, WIRE_REKEY, 0, WIRE_CTRL_MAX_BODY + 1);
	seed_put(&s, p, WIRE_FRAME_HDR_LEN);
	seed_write("fuzz_frame_stream", "control-too-large", &s);
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, 0x40);
	seed_hello(&s, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 0);
	frame_put_hdr(p, WIRE_DATA, 0, 0);
	seed_put(&s, p, WIRE_FRAME_HDR_LEN);
	seed_write("fuzz_frame_stream", "data-empty", &s);
}

/* --- fuzz_inflate --------------------------------------------------- */

static void
seed_inflate(const char *name, uint8_t sel, const uint8_t *p, size_t n)
{
	static struct seed s;

	s.len = 0;
	seed_u8(&s, sel);
	seed_put(&s, p, n);
	seed_write("fuzz_inflate", name, &s);
}

static void
seeds_inflate(void)
{
	static uint8_t p[9000], z[9000];
	static const uint8_t empty_fixed[] = { 0x03, 0x00 };
	static const uint8_t empty_stored[] = { 0x01, 0x00, 0x00, 0xff, 0xff };
	static const uint8_t bad_block[] = { 0x07, 0x00 };
	size_t n, zn;

	/* sel: limit index in the low 3 bits, level (minus 1) above. */
	n = seed_ip(p, false, 5, 17, 0, 0, 1400, 0);
	zn = seed_deflate(p, n, 6, z, sizeof(z));
	seed_inflate("packet-1500", 4 | 5 << 3, z, zn);
	seed_inflate("packet-576", 3, z, zn);		/* a bomb at 576 */
	seed_inflate("truncated", 4, z, zn / 2);
	z[zn] = 0;
	seed_inflate("trailing", 4, z, zn + 1);
	zn = seed_deflate(p, n, 0, z, sizeof(z));
	seed_inflate("stored", 5 | 8 << 3, z, zn);
	memset(p, 0, sizeof(p));
	zn = seed_deflate(p, sizeof(p), 9, z, sizeof(z));
	seed_inflate("zeros-bomb", 4, z, zn);
	seed_inflate("zeros-fits", 7, z, zn);
	seed_inflate("empty-fixed", 0, empty_fixed, sizeof(empty_fixed));
	seed_inflate("empty-stored", 1, empty_stored, sizeof(empty_stored));
	seed_inflate("bad-block-type", 4, bad_block, sizeof(bad_block));
	seed_payload(p, 3000, 1);
	seed_inflate("plain-text", 6 | 2 << 3, p, 3000);
}

/* --- fuzz_packet_check ---------------------------------------------- */

static void
seed_pc_begin(struct seed *s, uint16_t mtu, uint8_t type, uint16_t size)
{
	s->len = 0;
	seed_u16(s, mtu);
	seed_u8(s, type);
	seed_u16(s, size);
}

static void
seed_pc_packet(struct seed *s, const uint8_t *p, size_t n)
{
	seed_u16(s, (uint16_t)n);
	seed_put(s, p, n);
}

static void
seeds_packet(void)
{
	static struct seed s;
	static uint8_t p[9000], q[2048], segs[8][2048];
	size_t n, lens[8], k, i;

	/* A TCPv4 super-packet, then its segments (they coalesce back). */
	seed_pc_begin(&s, 1500, GSO_TCPV4, 1448);
	n = seed_ip(p, false, 5, 6, 5, 0x08, 3 * 1448 + 500, 0);
	seed_pc_packet(&s, p, n);
	k = seed_segments(GSO_TCPV4, 1448, p, n, segs, lens, 8);
	for (i = 0; i < k; i++)
		seed_pc_packet(&s, segs[i], lens[i]);
	seed_write("fuzz_packet_check", "tcp4-super", &s);

	/* TCPv6 with options, ECN. */
	seed_pc_begin(&s, 1500, GSO_TCPV6 | GSO_ECN, 1200);
	n = seed_ip(p, true, 0, 6, 8, 0x80, 2 * 1200 + 1, 1);
	seed_pc_packet(&s, p, n);
	seed_write("fuzz_packet_check", "tcp6-options", &s);

	/* USO over IPv4 with IP options. */
	seed_pc_begin(&s, 1500, GSO_UDP_L4, 1400);
	n = seed_ip(p, false, 7, 17, 0, 0, 3 * 1400, 2);
	seed_pc_packet(&s, p, n);
	seed_write("fuzz_packet_check", "udp4-ipopts", &s);

	/* Plain packets of every kind at a small MTU, a tap-sized frame. */
	seed_pc_begin(&s, 576, 0, 0);
	n = seed_ip(p, false, 5, 17, 0, 0, 100, 0);
	seed_pc_packet(&s, p, n);
	n = seed_ip(p, true, 0, 17, 0, 0, 100, 0);
	seed_pc_packet(&s, p, n);
	n = seed_eth(p, 100);
	seed_pc_packet(&s, p, n);
	n = seed_ip(p, false, 5, 6, 5, 0x02, 0, 0);	/* SYN */
	seed_pc_packet(&s, p, n);
	seed_write("fuzz_packet_check", "plain-576", &s);

	/* Near misses: a fragment, an extension header, lengths off by one. */
	seed_pc_begin(&s, 9000, GSO_TCPV4, 536);
	n = seed_ip(p, false, 5, 6, 5, 0, 2000, 0);
	pkt_store16(p + 6, 0x2000);			/* MF */
	seed_pc_packet(&s, p, n);
	n = seed_ip(p, true, 0, 6, 5, 0, 1000, 0);
	p[6] = 0;					/* hop-by-hop */
	seed_pc_packet(&s, p, n);
	n = seed_ip(p, false, 5, 6, 5, 0, 1000, 0);
	seed_pc_packet(&s, p, n - 1);
	n = seed_ip(p, true, 0, 17, 0, 0, 1000, 0);
	seed_pc_packet(&s, p, n + 1);
	seed_write("fuzz_packet_check", "near-misses", &s);

	/* Two interleaved flows, each cut into segments, for the coalescer. */
	seed_pc_begin(&s, 1500, 0, 0);
	n = seed_ip(p, false, 5, 6, 5, 0x08, 3 * 1000, 0);
	k = seed_segments(GSO_TCPV4, 1000, p, n, segs, lens, 8);
	for (i = 0; i < 2; i++)
		seed_pc_packet(&s, segs[i], lens[i]);
	n = seed_ip(q, true, 0, 6, 5, 0, 2 * 600, 4);
	seed_pc_packet(&s, q, n);
	seed_pc_packet(&s, segs[2], lens[2]);
	(void)k;
	seed_write("fuzz_packet_check", "coalesce", &s);
}

/* --- fuzz_conf and fuzz_script_split: text ---------------------------- */

static void
seed_text(const char *target, const char *name, const char *text)
{
	static struct seed s;

	s.len = 0;
	seed_str(&s, text);
	seed_write(target, name, &s);
}

static void
seeds_text(void)
{
	seed_text("fuzz_conf", "minimal",
	    "cobra = { passwd = \"a long enough passphrase\"; };\n");
	seed_text("fuzz_conf", "full",
	    "options = {\n"
	    "  port = 5000; listen = \"::\"; syslog = \"daemon\";\n"
	    "  control = \"/run/tapline/tapline.sock\";\n"
	    "  user = \"\"; group = \"\"; offload = true;\n"
	    "};\n"
	    "default = {\n"
	    "  proto = \"udp\"; type = \"tun\"; keepalive = 10;\n"
	    "  timeout = 60; persist = true; compress = \"no\";\n"
	    "  cipher = \"auto\"; multi = \"killold\";\n"
	    "};\n"
	    "cobra = {\n"
	    "  passwd = \"change me: cobra example passphrase\";\n"
	    "  server = \"vpn.example.net\"; device = \"tl-cobra\";\n"
	    "  queues = 1; mtu = 0; speed = 0;\n"
	    "  address = [ \"192.0.2.1/30\", \"2001:db8:2::1/64\" ];\n"
	    "  routes = [ \"203.0.113.0/24\" ]; bridge = \"\";\n"
	    "  up = [ \"/usr/bin/logger -t tapline %h up on %d\" ];\n"
	    "  down = [ \"/usr/bin/logger -t tapline %h down\" ];\n"
	    "};\n"
	    "viper = {\n"
	    "  key = \"viper.key\"; proto = \"tcp\"; type = \"tap\";\n"
	    "  device = \"tl-viper\"; bridge = \"br0\"; keepalive = 25;\n"
	    "  timeout = 120; persist = \"keep\"; compress = \"zlib:6\";\n"
	    "  cipher = \"chacha20-poly1305\"; speed = \"20000:5000\";\n"
	    "  multi = \"deny\";\n"
	    "  up = [ \"/etc/tapline/viper-up %d %a\",\n"
	    "         \"/bin/sh -c 'echo %h > /run/tapline-viper.state'\" ];\n"
	    "  down = ( \"/bin/rm -f /run/tapline-viper.state\" );\n"
	    "};\n");
	seed_text("fuzz_conf", "legacy-tcp",
	    "old = { passwd = \"short\"; legacy = \"vtun\"; proto = \"tcp\";"
	    " mtu = 1400; speed = 100; };\n"
	    "other_one = { passwd = \"another passphrase here\";"
	    " type = \"tap\"; queues = 4; persist = false; };\n");
	seed_text("fuzz_conf", "errors",
	    "options = { port = 70000; offload = \"maybe\"; };\n"
	    "9bad = { passwd = \"\"; mtu = 100; cipher = \"des\"; };\n"
	    "cobra = { passwd = \"x\"; key = \"k\"; proto = \"tcpp\";"
	    " timeout = 0x7fffffffffL; address = [ \"300.1.1.1/33\" ]; };\n");
	seed_text("fuzz_conf", "syntax-error",
	    "cobra = { passwd = \"unterminated; };\n# comment without end");
	seed_text("fuzz_conf", "list-forms",
	    "a = { passwd = \"passphrase number one\";"
	    " up = ( \"/bin/true\", \"/bin/echo '%%' \\\"%p\\\"\" );"
	    " routes = [ \"2001:db8::/32\", \"203.0.113.0/24\" ]; };\n"
	    "a-b_c = { passwd = \"passphrase number two\"; up = [ 1, 2 ]; "
	    "down = \"/bin/false\"; };\n");

	seed_text("fuzz_script_split", "logger",
	    "/usr/bin/logger -t tapline %h up on %d");
	seed_text("fuzz_script_split", "sh-c",
	    "/bin/sh -c 'echo %h > /run/tapline-viper.state'");
	seed_text("fuzz_script_split", "quotes",
	    "\"a b\" c\\ d 'e\"f' \"g\\\"h\\\\i\" ''");
	seed_text("fuzz_script_split", "all-subst",
	    "ip addr add %a/%p dev %d peer %A:%P %%");
	seed_text("fuzz_script_split", "unbalanced", "echo 'oops");
	seed_text("fuzz_script_split", "bad-subst", "echo %x %");
	seed_text("fuzz_script_split", "backslash-end", "echo a\\");
	seed_text("fuzz_script_split", "tabs", "\t/bin/true\t\tx\t");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	seeds_root = argv[1];
	if (mkdir(seeds_root, 0755) != 0 && errno != EEXIST)
		seed_fail(seeds_root);
	seeds_udp();
	seeds_stream();
	seeds_inflate();
	seeds_packet();
	seeds_text();
	return 0;
}
