/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The send path of a session: the device is read in bounded batches; in
 * TCP mode each packet (or offload super-packet) becomes a DATA frame of
 * the TLS stream, compressed when that pays; in UDP mode each packet, or
 * each segment of a super-packet, is compressed and sealed into a batch
 * slot of the UDP socket, and the batch leaves with one sendmmsg.
 * Packets longer than the session carries are counted and dropped here.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "session-private.h"

static void send_dev_read_udp(struct session *s, int fd);

/* A packet from the device longer than the session carries: dropped. */
static void
send_drop_oversize(struct session *s, size_t len)
{
	s->tun.c.drop_oversize++;
	log_rl(&s->tun.rl_drop, LOG_WARNING, "%sdropped a %zu-byte packet from "
	    "%s: the session's MTU is %d (is the device's MTU raised?)",
	    tunnel_tag(&s->tun), len, s->tun.dev->name, s->mtu);
}

/*
 * A packet read from a tun with a vnet header (at buf, n bytes in all,
 * the packet at buf + GSO_VNET_LEN): the header into *h, and a checksum
 * the kernel left to us finished on a plain packet.  Returns 1 for a
 * super-packet, 0 for a plain packet, -1 when it is counted and dropped.
 */
static int
send_vnet_read(struct session *s, uint8_t *buf, size_t n,
    struct gso_vnet *h)
{
	if (n <= GSO_VNET_LEN) {
		s->tun.c.dev_read_errors++;
		return -1;
	}
	memcpy(h, buf, sizeof(*h));
	if (h->gso_type != GSO_NONE)
		return 1;
	if ((h->flags & GSO_F_NEEDS_CSUM) != 0 &&
	    gso_finish_csum(buf + GSO_VNET_LEN, n - GSO_VNET_LEN, h) != 0) {
		s->tun.c.dev_read_errors++;
		return -1;
	}
	return 0;
}

/* TCP mode: the vnet header in place becomes the wire's offload header. */
static void
send_gso_hdr_put(uint8_t *buf, const struct gso_vnet *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	pkt_store16(buf + 2, h->hdr_len);
	pkt_store16(buf + 4, h->gso_size);
	pkt_store16(buf + 6, h->csum_start);
	pkt_store16(buf + 8, h->csum_offset);
}

/*
 * How many packets this wake-up of the device reader takes.  A reader
 * woken again within SESSION_BURST_US of its last run is in a burst and
 * drains up to SESSION_BATCH; one woken from idle (a ping, a lone ACK)
 * takes one packet and leaves the rest, if any, to the loop, whose
 * level-triggered readiness calls it back at once (then in burst mode).
 * That saves the read that would only return EAGAIN, one system call
 * on the latency path of every lone packet.
 */
static int
send_dev_batch(struct session *s)
{
	struct timeval tv;
	uint64_t now, last = s->dev_read_us;

	if (event_base_gettimeofday_cached(s->tun.base, &tv) != 0)
		return SESSION_BATCH;
	now = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	s->dev_read_us = now;
	return now - last < SESSION_BURST_US ? SESSION_BATCH : 1;
}

/*
 * Drain up to SESSION_BATCH packets from one queue into the stream:
 * straight into the staging extent when uncompressed, through the zlib
 * stage otherwise.  A tun with offloads hands over super-packets of up
 * to 64 KiB; they go whole, behind an offload header.  Errors are
 * counted; the session never ends here.
 */
void
send_dev_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct session_queue *q = arg;
	struct session *s = q->s;
	uint8_t *pkt = s->scratch->pkt;
	size_t vh = s->tun.dev->vnet ? GSO_VNET_LEN : 0;
	int i, batch;

	if (s->udp) {
		send_dev_read_udp(s, fd);
		return;
	}
	batch = send_dev_batch(s);
	for (i = 0; i < batch && s->tun.state == TUNNEL_UP; i++) {
		uint8_t *dst = stream_data_reserve(s->t,
		    WIRE_DATA_MAX_BODY);
		uint8_t *buf = s->cz != NULL ? pkt : dst;
		size_t keep = 0, clen, plen;
		struct gso_vnet h;
		uint8_t flags = 0;
		ssize_t n;
		int r;

		if (dst == NULL)
			break;
		n = read(fd, buf, s->cz != NULL ? sizeof(s->scratch->pkt) :
		    WIRE_DATA_MAX_BODY);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				s->tun.c.dev_read_errors++;
				log_rl(&s->tun.rl_drop, LOG_WARNING,
				    "%sreading %s: %s", tunnel_tag(&s->tun),
				    s->tun.dev->name, strerror(errno));
			}
			break;
		}
		if (vh > 0) {
			if ((r = send_vnet_read(s, buf, (size_t)n, &h)) < 0)
				continue;
			if (r == 1) {
				/* The offload header stays in front. */
				send_gso_hdr_put(buf, &h);
				keep = WIRE_GSO_HDR_LEN;
				flags = WIRE_FLAG_GSO;
				s->tun.c.tx_super++;
			} else if (s->cz == NULL) {
				memmove(buf, buf + vh, (size_t)n - vh);
				n -= (ssize_t)vh;
			}
		}
		plen = (size_t)n - (keep > 0 || s->cz != NULL ? vh : 0);
		if (keep == 0 && plen > session_pkt_limit(s)) {
			send_drop_oversize(s, plen);
			continue;
		}
		s->tun.c.tx_packets++;
		s->tun.c.tx_bytes += plen;
		if (s->cz == NULL) {
			stream_data_commit(s->t, (size_t)n, flags);
			s->tun.c.tx_bytes_wire += (uint64_t)n;
			goto next;
		}
		/* From pkt: the header (if kept), then the packet. */
		if (keep > 0)
			memcpy(dst, pkt, keep);
		if (compress_packet(s->cz, pkt + vh, plen, dst + keep,
		    plen, &clen) == 1) {
			stream_data_commit(s->t, keep + clen,
			    flags | WIRE_FLAG_ZLIB);
			s->tun.c.tx_bytes_wire += keep + clen;
		} else {
			memcpy(dst + keep, pkt + vh, plen);
			stream_data_commit(s->t, keep + plen, flags);
			s->tun.c.tx_bytes_wire += keep + plen;
		}
next:
		if (stream_congested(s->t))
			break;
	}
	stream_flush(s->t);
	timers_on_tx(&s->timers, session_now());
	/* Backpressure: stop reading the device until TLS drains. */
	if (stream_congested(s->t))
		session_pause_reads(s);
}

/* The IP and UDP headers in front of every datagram to the peer. */
static int
send_outer_hdr(const struct session *s)
{
	const struct sockaddr_in6 *in6 = (const void *)&s->udp_peer;

	return s->udp_peer.ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) ? 48 : 28;
}

/*
 * UDP mode: ask the kernel for the path MTU to the peer again when an
 * ICMP error said that some path MTU changed (not more often than every
 * SESSION_PMTU_MIN_MS), or every SESSION_PMTU_RECHECK_MS, or now; and
 * derive the inner MTU it carries: the path MTU less the outer IP and
 * UDP headers, the datagram's 33 bytes and, on tap, the Ethernet header,
 * never above the session's MTU.  Once per batch, not per packet.
 */
void
send_pmtu_check(struct session *s, bool now)
{
	uint64_t t = session_now(), ev;
	int pm, inner;

	if (s->usock == NULL || !s->udp_peer_known)
		return;
	ev = udp_sock_stats(s->usock)->pmtu_events;
	if (!now && t - s->pmtu_ms < SESSION_PMTU_RECHECK_MS &&
	    (ev == s->pmtu_events || t - s->pmtu_ms < SESSION_PMTU_MIN_MS))
		return;
	s->pmtu_events = ev;
	s->pmtu_ms = t;
	pm = udp_sock_path_mtu(s->usock, (struct sockaddr *)&s->udp_peer,
	    s->udp_peerlen);
	inner = s->mtu;
	if (pm > 0) {
		inner = pm - send_outer_hdr(s) - WIRE_UDP_MIN_LEN -
		    (s->type == DEV_TAP ? 14 : 0);	/* Ethernet */
		if (inner > s->mtu)
			inner = s->mtu;
		if (inner < PMTU_V4_MIN)
			inner = PMTU_V4_MIN;
	}
	if (pm != s->path_mtu && pm > 0)
		log_info("%spath MTU to %s is %d: %d bytes inside the tunnel%s",
		    tunnel_tag(&s->tun), s->tun.peer_str, pm, inner,
		    inner < s->mtu ? (s->type == DEV_TAP ? " (larger frames "
		    "are fragmented)" : " (larger packets are answered with "
		    "ICMP, or fragmented)") : "");
	s->path_mtu = pm;
	s->inner_mtu = inner;
}

/*
 * A packet from the tun larger than the path carries inside, which IP
 * may not fragment (IPv4 with DF, IPv6): dropped, counted, and its
 * sender told as a router would, with ICMP written back into the tun
 * (at most SESSION_ICMP_PER_SEC a second), so that its own path MTU
 * discovery converges on what the tunnel carries.
 */
static void
send_too_big(struct session *s, const uint8_t *p, size_t len,
    enum pmtu_kind k, int inner)
{
	uint64_t sec = session_now() / 1000;
	uint8_t *icmp = s->scratch->icmp;
	size_t n;

	s->tun.c.drop_too_big++;
	log_rl(&s->tun.rl_drop, LOG_INFO, "%sdropped a %zu-byte packet from "
	    "%s: the path to %s carries %d bytes inside (path MTU %d); "
	    "telling its sender", tunnel_tag(&s->tun), len, s->tun.dev->name,
	    s->tun.peer_str, inner, s->path_mtu);
	if (sec != s->icmp_sec) {
		s->icmp_sec = sec;
		s->icmp_n = 0;
	}
	if (s->icmp_n >= SESSION_ICMP_PER_SEC)
		return;
	s->icmp_n++;
	if (k == PMTU_V6)
		n = pmtu_icmp6_too_big(p, len, (unsigned int)inner,
		    NULL, icmp, PMTU_ANSWER_MAX);
	else
		n = pmtu_icmp4_too_big(p, len, (unsigned int)inner,
		    NULL, icmp, PMTU_ANSWER_MAX);
	if (n > 0)
		(void)receive_dev_inject(s, icmp, n);
}

/*
 * UDP mode, a packet from the tun before it is sealed: a TCP SYN gets
 * its MSS clamped to the inner MTU (mssfix), and a packet larger than
 * the inner MTU is either answered (send_too_big) and dropped, or sent
 * all the same and fragmented by IP: IPv4 without DF, and IPv6 when the
 * path carries less than IPv6's minimum MTU inside (no lower MTU can be
 * announced).  A tap's frames always go, fragmented if need be: no
 * router on an Ethernet segment tells its hosts to send less.  false
 * when the packet was dropped.
 */
static bool
send_pmtu_fits(struct session *s, uint8_t *p, size_t len)
{
	int inner = session_inner_mtu(s);
	enum pmtu_kind k;

	if (s->type != DEV_TUN)
		return true;
	if (s->tun.cs->mssfix)
		(void)pmtu_mss_clamp(p, len, (unsigned int)inner);
	if (len <= (size_t)inner)
		return true;
	k = pmtu_kind(p, len);
	if (k == PMTU_V4_DF || (k == PMTU_V6 && (inner >= PMTU_V6_MIN ||
	    len > PMTU_V6_MIN))) {
		send_too_big(s, p, len, k, inner);
		return false;
	}
	return true;
}

static void
send_udp_failed(struct session *s, int n, int e)
{
	s->tun.c.drop_udp_send += (uint64_t)n;
	log_rl(&s->tun.rl_drop, LOG_WARNING, "%ssending to %s: %s",
	    tunnel_tag(&s->tun), s->tun.peer_str, strerror(e));
}

/*
 * Seal the datagram whose payload (len bytes) is at buf + 17, then queue
 * it in the socket's batch when buf is its slot, or send it at once
 * (the loop's dgram: keepalives, and packets too big for a slot).
 */
static void
send_udp_emit(struct session *s, uint8_t *buf, size_t cap, uint8_t kind,
    size_t len)
{
	size_t outlen;
	int r, e = 0;

	if (!s->udp_peer_known) {
		s->tun.c.drop_no_addr++;
		return;
	}
	r = udp_chan_seal(s->chan, kind, buf, cap, len, &outlen,
	    session_now());
	if (r == SEAL_E_ARG) {
		/* Callers hold packets to the room; a bug if it happens. */
		send_drop_oversize(s, len);
		return;
	}
	if (r != 0) {
		s->tun.c.drop_tx_limit++;
		log_rl(&s->rl_tx, LOG_WARNING, "%scannot send: the key "
		    "epoch is used up and no new one is ready yet",
		    tunnel_tag(&s->tun));
		return;
	}
	if (buf != s->scratch->dgram) {
		if ((r = udp_sock_tx_commit(s->usock, outlen,
		    (struct sockaddr *)&s->udp_peer, s->udp_peerlen, &e)) > 0)
			send_udp_failed(s, r, e);
	} else if (udp_sock_send(s->usock, buf, outlen,
	    (struct sockaddr *)&s->udp_peer, s->udp_peerlen) != 0) {
		send_udp_failed(s, 1, errno);
		return;
	}
	s->tun.c.tx_bytes_wire += len;
}

/* Seal and send one datagram whose payload is at the loop's dgram + 17. */
void
send_udp_dgram(struct session *s, uint8_t kind, size_t len)
{
	send_udp_emit(s, s->scratch->dgram, sizeof(s->scratch->dgram), kind,
	    len);
	timers_on_tx(&s->timers, session_now());
}

/* Where the next datagram is built: a batch slot when it fits. */
static uint8_t *
send_udp_buf(struct session *s, size_t *cap)
{
	if (s->udp_slots) {
		*cap = UDP_TX_SLOT;
		return udp_sock_tx_slot(s->usock);
	}
	*cap = sizeof(s->scratch->dgram);
	return s->scratch->dgram;
}

/* One packet (checksums complete) into a datagram, compressed if it pays. */
static void
send_udp_packet(struct session *s, uint8_t *p, size_t len)
{
	size_t cap, clen, room;
	uint8_t *buf = send_udp_buf(s, &cap);
	uint8_t *payload = buf + WIRE_UDP_PAYLOAD_OFF;

	/* Checked before a byte is written: the slot holds one datagram. */
	room = cap - WIRE_UDP_PAYLOAD_OFF - WIRE_UDP_TAG_LEN;
	if (len > session_pkt_limit(s) || len > room) {
		send_drop_oversize(s, len);
		return;
	}
	if (!send_pmtu_fits(s, p, len))
		return;
	if (s->cz != NULL && compress_packet(s->cz, p, len, payload, room,
	    &clen) == 1) {
		send_udp_emit(s, buf, cap, WIRE_INNER_ZLIB, clen);
		return;
	}
	memcpy(payload, p, len);
	send_udp_emit(s, buf, cap, WIRE_INNER_RAW, len);
}

/*
 * UDP mode: a super-packet from the tun becomes MTU-size segments with
 * their own headers and checksums, one datagram each, all queued in the
 * batch (they leave in one or two UDP GSO messages).
 */
static void
send_udp_super(struct session *s, const uint8_t *p, size_t len,
    const struct gso_vnet *h)
{
	const char *why = "segments larger than the MTU";
	uint8_t *seg = s->scratch->seg;
	struct gso_split sp;
	size_t i, cap, n;
	uint8_t *buf;

	if (gso_split_init(&sp, h->gso_type, h->gso_size, p, len, &why) != 0 ||
	    sp.hlen + sp.mss > (size_t)s->mtu) {
		s->tun.c.dev_read_errors++;
		log_rl(&s->tun.rl_drop, LOG_WARNING, "%sdropped a super-packet "
		    "from %s: %s", tunnel_tag(&s->tun), s->tun.dev->name, why);
		return;
	}
	/* Segments too large for the path: answered from the first. */
	if (s->type == DEV_TUN && sp.hlen + sp.mss >
	    (size_t)session_inner_mtu(s) && sp.nsegs > 0) {
		n = gso_split_seg(&sp, 0, seg);
		if (!send_pmtu_fits(s, seg, n))
			return;
	}
	s->tun.c.tx_super++;
	for (i = 0; i < sp.nsegs; i++) {
		if (s->cz != NULL) {
			n = gso_split_seg(&sp, i, seg);
			send_udp_packet(s, seg, n);
			continue;
		}
		buf = send_udp_buf(s, &cap);
		n = gso_split_seg(&sp, i, buf + WIRE_UDP_PAYLOAD_OFF);
		send_udp_emit(s, buf, cap, WIRE_INNER_RAW, n);
	}
}

/*
 * UDP mode's device reader: each packet becomes one datagram, read (or
 * compressed) straight into a batch slot behind the datagram header; a
 * tun with offloads gives super-packets, split into many.  The batch
 * leaves with sendmmsg at the end.
 */
static void
send_dev_read_udp(struct session *s, int fd)
{
	bool direct = s->cz == NULL && !s->tun.dev->vnet && s->udp_slots;
	size_t vh = s->tun.dev->vnet ? GSO_VNET_LEN : 0;
	uint8_t *pkt = s->scratch->pkt;
	struct gso_vnet h;
	uint8_t *buf;
	ssize_t n;
	int i, e = 0, r, batch = send_dev_batch(s);

	send_pmtu_check(s, false);
	for (i = 0; i < batch && s->tun.state == TUNNEL_UP; i++) {
		if (direct) {
			/* One byte more than the session carries: a longer
			 * packet is cut there by the read, and refused. */
			buf = udp_sock_tx_slot(s->usock);
			n = read(fd, buf + WIRE_UDP_PAYLOAD_OFF,
			    session_pkt_limit(s) + 1);
		} else {
			n = read(fd, pkt, sizeof(s->scratch->pkt));
		}
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				s->tun.c.dev_read_errors++;
			break;
		}
		if (direct && (size_t)n > session_pkt_limit(s)) {
			send_drop_oversize(s, (size_t)n);
			continue;
		}
		s->tun.c.tx_packets++;
		s->tun.c.tx_bytes += (uint64_t)n - vh;
		if (direct) {
			if (!send_pmtu_fits(s, buf + WIRE_UDP_PAYLOAD_OFF,
			    (size_t)n))
				continue;
			send_udp_emit(s, buf, UDP_TX_SLOT, WIRE_INNER_RAW,
			    (size_t)n);
		} else if (vh == 0) {
			send_udp_packet(s, pkt, (size_t)n);
		} else if ((r = send_vnet_read(s, pkt, (size_t)n,
		    &h)) == 0) {
			send_udp_packet(s, pkt + vh, (size_t)n - vh);
		} else if (r == 1) {
			send_udp_super(s, pkt + vh, (size_t)n - vh, &h);
		}
		/* speed: when the bucket is in debt, stop reading the device
		 * until it is paid; the tun queue holds what comes. */
		if (shaper_on(&s->shape_out)) {
			uint64_t now = session_now();
			uint32_t wait;

			(void)shaper_take(&s->shape_out,
			    (uint32_t)n + WIRE_UDP_MIN_LEN, now);
			if ((wait = shaper_wait_ms(&s->shape_out, now)) > 0) {
				session_pause_reads(s);
				event_add(s->shape_ev, &(struct timeval){
				    .tv_sec = wait / 1000,
				    .tv_usec = (wait % 1000) * 1000 });
				break;
			}
		}
	}
	if ((r = udp_sock_tx_flush(s->usock, &e)) > 0)
		send_udp_failed(s, r, e);
	if (i > 0)
		timers_on_tx(&s->timers, session_now());
	session_udp_maybe_rekey(s);
}
