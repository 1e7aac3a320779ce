/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Offload super-packets: the virtio-net header that a tun
 * opened with IFF_VNET_HDR puts in front of every packet, checksums,
 * splitting a TSO/USO super-packet into MTU-size segments with correct
 * IPv4/IPv6/TCP/UDP headers, and coalescing the segments of one TCP flow
 * back into a super-packet before it is written to the tun.
 *
 * Everything here works on plain IP packets (tun, IFF_NO_PI) and never
 * trusts the packet: lengths and header fields are checked before use.
 * No allocation per packet; no logging (callers count and log).
 */
#ifndef TAPLINE_GSO_H
#define TAPLINE_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * struct virtio_net_hdr (10 bytes), in the host's byte order as tun reads
 * and writes it (tun is little-endian unless TUNSETVNETBE; tapline runs on
 * little-endian hosts only with offloads, see dev.c).  Copied in and out
 * with memcpy, never laid over a buffer.
 */
struct gso_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};
#define GSO_VNET_LEN 10
_Static_assert(sizeof(struct gso_vnet) == GSO_VNET_LEN, "vnet header");

/* flags */
#define GSO_F_NEEDS_CSUM 0x01
#define GSO_F_DATA_VALID 0x02
/* gso_type (Debian 12's headers lack UDP_L4) */
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_UDP 3	/* legacy UFO: refused */
#define GSO_TCPV6 4
#define GSO_UDP_L4 5
#define GSO_ECN 0x80

/* Largest super-packet: an IPv4 total length / IPv6 header + payload. */
#define GSO_MAX_PACKET (40 + 65535)
/* Most segments one super-packet may be split into. */
#define GSO_MAX_SEGS 128

/*
 * Internet checksum (RFC 1071) of data, starting from a partial sum.
 * gso_csum_partial returns the unfolded 32-bit-or-wider running sum;
 * gso_csum_fold folds it to 16 bits (not complemented).
 */
uint64_t gso_csum_partial(const void *data, size_t len, uint64_t sum);
uint16_t gso_csum_fold(uint64_t sum);

/*
 * Finish a checksum the kernel left to us (flags & NEEDS_CSUM on a
 * packet that is not GSO): sum from csum_start to the end of the packet
 * (the field already holds the pseudo-header sum) and store the
 * complement at csum_start + csum_offset.  -1 if those offsets do not fit
 * inside the packet.
 */
int gso_finish_csum(uint8_t *pkt, size_t len, const struct gso_vnet *h);

/*
 * One super-packet being split.  gso_split_init parses and checks the
 * packet (IPv4 without fragments / IPv6 without extension headers;
 * TCP for GSO_TCPV4/6 with doff >= 5; UDP for GSO_UDP_L4; the IP
 * version must match the type; gso_size >= 1; the segment count at most
 * GSO_MAX_SEGS; every length consistent), taking ihl and doff from the
 * packet, never hdr_len.  GSO_ECN is masked out of the type.
 * Returns 0, or -1 with a short static reason in *why.
 */
struct gso_split {
	const uint8_t *pkt;
	size_t len;
	uint8_t type;		/* GSO_TCPV4, GSO_TCPV6 or GSO_UDP_L4 */
	bool v6;
	size_t l4off;		/* start of the TCP/UDP header */
	size_t hlen;		/* all headers: l4off + TCP/UDP header */
	size_t mss;		/* payload bytes per segment (gso_size) */
	size_t nsegs;
};
int gso_split_init(struct gso_split *sp, uint8_t gso_type, uint16_t gso_size,
    const uint8_t *pkt, size_t len, const char **why);

/*
 * Write segment i (0 <= i < nsegs) to out (room for hlen + mss bytes):
 * the headers copied and fixed (IPv4 total length, id + i and header
 * checksum; IPv6 payload length; TCP seq + i * mss, FIN/PSH on the last
 * segment only, CWR on the first only; UDP length) and the complete
 * TCP/UDP checksum over the pseudo-header.  Returns the segment length.
 */
size_t gso_split_seg(const struct gso_split *sp, size_t i, uint8_t *out);

/*
 * Prepare a super-packet to be written whole into a tun with offloads
 * (TCP mode's receiver): check it as gso_split_init does, set its
 * TCP/UDP checksum field to the folded, uncomplemented pseudo-header sum
 * over the whole L4 length, and fill *h (NEEDS_CSUM, the type, hdr_len,
 * gso_size, csum_start = l4off, csum_offset 16 for TCP or 6 for UDP).
 * A super-packet that fits in one segment is still valid.
 * Returns 0, or -1 with *why.
 */
int gso_prepare_write(uint8_t gso_type, uint16_t gso_size, uint8_t *pkt,
    size_t len, struct gso_vnet *h, const char **why);

/*
 * Coalescing of received TCP segments (the kernel's GRO rules): two
 * segments merge when they are IPv4 (no options, DF the same, no
 * fragments) or IPv6 (no extension headers) TCP of one flow (addresses,
 * ports), with the same ack, window, TOS/traffic class, TTL/hop limit and
 * byte-identical TCP options, contiguous seq, flags ACK or ACK|PSH only
 * (PSH ends the merge), every earlier segment exactly as long as the first
 * one's payload, a verified TCP checksum, at most 64 segments and
 * GSO_MAX_PACKET bytes.  Anything else (SYN, FIN, RST, URG, other
 * protocols, IPv4 with options or fragments, bad checksums, short
 * packets) is written unchanged, after the pending super-packet of its
 * own flow (if any) so that each flow stays in order.
 *
 * A super-packet is written with a vnet header saying GSO (NEEDS_CSUM,
 * the pseudo-header sum in the check field, the IPv4 header checksum
 * correct); a lone segment or any other packet with a zero vnet header.
 * The write callback gets iov[0] = the 10-byte vnet header and the packet
 * in iov[1..iovcnt-1]; it returns 0 or -1 (the caller counts failures).
 */
typedef int (*gso_write_fn)(void *arg, const struct iovec *iov, int iovcnt);

struct gso_coal_stats {
	uint64_t in;		/* packets given to gso_coal_add */
	uint64_t merged;	/* of them, appended to an earlier one */
	uint64_t supers;	/* super-packets written (>= 2 segments) */
	uint64_t writes;	/* writes of any kind */
};

struct gso_coal;

/*
 * The buffers of pending flows (GSO_MAX_PACKET bytes each) are lent by a
 * pool that many coalescers share, one pool per event loop: a flow holds
 * one only from its first segment until it is written, which is the end
 * of the receive batch at the latest, so an idle coalescer holds none.
 * The pool keeps up to GSO_POOL_KEEP returned buffers for the next
 * flows and frees any beyond that.
 */
#define GSO_POOL_KEEP 32

struct gso_pool_stats {
	uint64_t lent;		/* buffers out in flows now */
	uint64_t allocs;	/* buffers allocated, all told */
	uint64_t frees;		/* returned ones freed: the pool was full */
};

struct gso_pool;

struct gso_pool *gso_pool_new(void);
/* Only after every coalescer that borrows from it is freed. */
void gso_pool_free(struct gso_pool *p);
const struct gso_pool_stats *gso_pool_stats(const struct gso_pool *p);

/*
 * A coalescer keeping up to `flows` (1..16) flows pending at once, their
 * buffers from pool (NULL: a pool of its own).  NULL when out of memory.
 */
struct gso_coal *gso_coal_new(int flows, struct gso_pool *pool,
    gso_write_fn fn, void *arg);
void gso_coal_free(struct gso_coal *c);

/* One complete IP packet with the checksums it came with. */
void gso_coal_add(struct gso_coal *c, const uint8_t *pkt, size_t len);
/* Write every pending super-packet (end of a receive batch). */
void gso_coal_flush(struct gso_coal *c);
bool gso_coal_pending(const struct gso_coal *c);
const struct gso_coal_stats *gso_coal_stats(const struct gso_coal *c);

#endif
