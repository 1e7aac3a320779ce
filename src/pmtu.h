/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path MTU answers for inner packets, sans I/O.  When the path to the
 * peer carries less than a packet from the tun needs, the tunnel acts as
 * a router would: a DF IPv4 packet is answered with ICMP "fragmentation
 * needed" (type 3 code 4, RFC 1191) and an IPv6 packet with ICMPv6
 * "packet too big" (type 2, RFC 8201), each quoting the packet and giving
 * the MTU the tunnel carries, so that the inner sender's own path MTU
 * discovery converges.  And the MSS option of a TCP SYN crossing the
 * tunnel is lowered to what that MTU carries, so that most TCP flows
 * never send a segment too large in the first place.
 *
 * Every function reads only within the len bytes it is given, trusts no
 * length field of the packet, and writes only within its output.
 */
#ifndef TAPLINE_PMTU_H
#define TAPLINE_PMTU_H

#include <stddef.h>
#include <stdint.h>

/* IPv6's minimum link MTU (RFC 8200): never announced lower. */
#define PMTU_V6_MIN 1280
/* The smallest IPv4 MTU a router may announce (RFC 791). */
#define PMTU_V4_MIN 68
/* Room enough for either answer: IPv6's is at most the minimum MTU. */
#define PMTU_ANSWER_MAX PMTU_V6_MIN

/* What an inner packet is, for a packet larger than the path carries. */
enum pmtu_kind {
	PMTU_OTHER,	/* not IP, or too short to tell */
	PMTU_V4,	/* IPv4 without DF: may be fragmented on the way */
	PMTU_V4_DF,	/* IPv4 with DF: answered, never fragmented */
	PMTU_V6,	/* IPv6: answered (its routers never fragment) */
};

enum pmtu_kind pmtu_kind(const uint8_t *p, size_t len);

/*
 * The ICMP "fragmentation needed" answer to the IPv4 packet p (len bytes;
 * its total length field may not claim more) into out (cap bytes),
 * announcing mtu (raised to PMTU_V4_MIN).  The answer comes from src (4
 * bytes) or, when src is NULL, from the packet's destination, and goes
 * to the packet's source; it quotes as much of the packet as keeps it
 * within 576 bytes (RFC 1812).  Returns the answer's length, or 0 when
 * none may be sent: a malformed or truncated packet, a fragment other
 * than the first, an ICMP error, a source that is not one host (0/8,
 * 127/8, multicast, broadcast), a multicast or broadcast destination,
 * or too small an out.
 */
size_t pmtu_icmp4_too_big(const uint8_t *p, size_t len, unsigned int mtu,
    const uint8_t *src, uint8_t *out, size_t cap);

/*
 * The ICMPv6 "packet too big" answer to the IPv6 packet p, likewise:
 * mtu is raised to PMTU_V6_MIN, src is 16 bytes or NULL, the quote keeps
 * the answer within 1280 bytes (RFC 4443).  Returns 0 for a malformed or
 * truncated packet, an ICMPv6 error (types below 128), an unspecified,
 * loopback or multicast source, a multicast destination without src,
 * or too small an out.
 */
size_t pmtu_icmp6_too_big(const uint8_t *p, size_t len, unsigned int mtu,
    const uint8_t *src, uint8_t *out, size_t cap);

/*
 * In an IPv4 or IPv6 TCP SYN (or SYN-ACK) at p, lower the MSS option to
 * what an MTU of mtu carries (mtu - 40 for IPv4, mtu - 60 for IPv6) and
 * fix the TCP checksum incrementally (RFC 1624).  Only a TCP header
 * right after the IP header (no IPv6 extension headers) of a packet that
 * is not a fragment is looked at.  Returns 1 when the MSS was lowered,
 * 0 when the packet is left alone (not a SYN, no MSS option, the MSS
 * already fits), -1 when the packet is malformed or truncated (also left
 * alone).
 */
int pmtu_mss_clamp(uint8_t *p, size_t len, unsigned int mtu);

#endif
