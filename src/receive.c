/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive path of a session: a DATA frame from the TLS stream or an
 * opened UDP datagram is inflated when the peer compressed it, checked,
 * coalesced with its TCP flow when the device takes offloads, and written
 * to the device.  Every drop is counted by its reason.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "session-private.h"

/*
 * Every write to the device: iov[0] is the vnet header (sent only when
 * the tun has one), the packet follows in iov[1..].  Counts the packet,
 * or its drop (EIO while the link is down, EINVAL, a full queue).  Also
 * the coalescer's write callback (gso.h).
 */
int
receive_dev_writev(void *arg, const struct iovec *iov, int iovcnt)
{
	struct session *s = arg;
	const struct gso_vnet *h = iov[0].iov_base;
	size_t len = 0;
	int i;

	for (i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (!s->tun.dev->vnet) {
		iov++;
		iovcnt--;
	}
	if (writev(s->tun.dev->fds[0], iov, iovcnt) < 0) {
		s->tun.c.drop_dev_write++;
		log_rl(&s->tun.rl_drop, LOG_WARNING, "%swriting %s: %s",
		    tunnel_tag(&s->tun), s->tun.dev->name, strerror(errno));
		return -1;
	}
	if (h->gso_type != GSO_NONE)
		s->tun.c.rx_super++;
	s->tun.c.rx_packets++;
	s->tun.c.rx_bytes += len;
	return 0;
}

/*
 * A packet of our own for the tun (an ICMP answer to its sender, send.c):
 * written like any other but not counted as received from the peer.
 */
int
receive_dev_inject(struct session *s, const uint8_t *p, size_t len)
{
	static const struct gso_vnet none;
	struct iovec iov[2] = { { (void *)&none, sizeof(none) },
	    { (void *)p, len } };
	int skip = s->tun.dev->vnet ? 0 : 1;

	if (writev(s->tun.dev->fds[0], iov + skip, 2 - skip) < 0) {
		s->tun.c.drop_dev_write++;
		return -1;
	}
	return 0;
}

/* A plain packet (no offload) to the device. */
static void
receive_dev_write(struct session *s, const uint8_t *p, size_t len)
{
	static const struct gso_vnet none;

	(void)receive_dev_writev(s, (struct iovec[]){
	    { (void *)&none, sizeof(none) }, { (void *)p, len } }, 2);
}

/* After the batch that filled it: write what the coalescer holds. */
void
receive_coal_flushcb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	s->coal_armed = false;
	if (s->coal != NULL)
		gso_coal_flush(s->coal);
}

/*
 * TCP mode: a super-packet from the peer (behind its offload header).
 * Into a tun with offloads it goes whole; otherwise it is split into
 * segments here.  Either way no segment may exceed our MTU.
 */
static void
receive_deliver_gso(struct session *s, const uint8_t *hdr, uint8_t *p,
    size_t len)
{
	uint8_t type = hdr[1] & (uint8_t)~GSO_ECN;
	uint16_t size = pkt_load16(hdr + 4);
	struct gso_split sp;
	struct gso_vnet vh;
	const char *why = "segments larger than the MTU";
	size_t i;

	if (gso_split_init(&sp, type, size, p, len, &why) != 0 ||
	    sp.hlen + sp.mss > (size_t)s->mtu) {
		s->tun.c.drop_bad_packet++;
		log_rl(&s->tun.rl_drop, LOG_WARNING, "%sdropped a super-packet "
		    "from %s: %s", tunnel_tag(&s->tun), s->tun.peer_str, why);
		return;
	}
	if (s->coal != NULL)
		gso_coal_flush(s->coal);	/* keep each flow in order */
	/* Whole into a tun that takes this kind, else split here. */
	if (s->tun.dev->vnet && (type != GSO_UDP_L4 ||
	    (s->tun.dev->offload & DEV_OFF_USO4) != 0)) {
		if (gso_prepare_write(type, size, p, len, &vh, &why) != 0) {
			s->tun.c.drop_bad_packet++;
			return;
		}
		(void)receive_dev_writev(s, (struct iovec[]){
		    { &vh, sizeof(vh) }, { p, len } }, 2);
		return;
	}
	for (i = 0; i < sp.nsegs; i++)
		receive_dev_write(s, s->scratch->seg, gso_split_seg(&sp, i,
		    s->scratch->seg));
}

/*
 * One packet from the peer (a DATA body or an opened datagram) into the
 * device, or counted and dropped.  With offloads on our tun, packets go
 * through the coalescer, which merges the segments of a TCP flow.
 */
void
receive_deliver(struct session *s, uint8_t *body, size_t blen, bool zlib,
    bool gso)
{
	size_t limit = session_pkt_limit(s);
	uint8_t *pkt = s->scratch->pkt;
	uint8_t *p = body;
	size_t len = blen;
	const char *why;

	if (s->tun.state != TUNNEL_UP) {
		s->tun.c.drop_not_ready++;
		return;
	}
	if (gso) {
		/* A super-packet: its own, larger limit. */
		if (blen <= WIRE_GSO_HDR_LEN || s->type != DEV_TUN) {
			s->tun.c.drop_bad_packet++;
			return;
		}
		p += WIRE_GSO_HDR_LEN;
		len -= WIRE_GSO_HDR_LEN;
		limit = sizeof(s->scratch->pkt);	/* inflated into it */
	}
	if (zlib) {
		if (s->cz == NULL || compress_inflate(s->cz, p, len,
		    pkt, limit, &len) != 0) {
			s->tun.c.drop_inflate++;
			log_rl(&s->tun.rl_drop, LOG_WARNING, "%sdropped a "
			    "packet that does not inflate within %zu bytes",
			    tunnel_tag(&s->tun), limit);
			return;
		}
		p = pkt;
	}
	if (gso) {
		/* Fixed up in place: the body is ours (stream.h). */
		receive_deliver_gso(s, body, zlib ? pkt : body +
		    WIRE_GSO_HDR_LEN, len);
		return;
	}
	if (frame_packet_check(s->type == DEV_TAP, p, len, (size_t)s->mtu,
	    &why) != 0) {
		s->tun.c.drop_bad_packet++;
		log_rl(&s->tun.rl_drop, LOG_WARNING, "%sdropped a packet from "
		    "%s: %s", tunnel_tag(&s->tun), s->tun.peer_str, why);
		return;
	}
	/* The other half of mssfix (send.c): a SYN from the far side
	 * learns what our path carries. */
	if (s->udp && s->type == DEV_TUN && s->tun.cs->mssfix)
		(void)pmtu_mss_clamp(p, len,
		    (unsigned int)session_inner_mtu(s));
	if (s->coal != NULL) {
		gso_coal_add(s->coal, p, len);
		if (!s->coal_armed && gso_coal_pending(s->coal)) {
			s->coal_armed = true;
			event_active(s->coal_ev, EV_TIMEOUT, 0);
		}
		return;
	}
	receive_dev_write(s, p, len);
}

void
receive_udp_cb(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	session_udp_input(arg, dgram, len, from, fromlen);
}

void
session_udp_input(struct session *s, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	size_t max = WIRE_UDP_MIN_LEN + (size_t)s->mtu +
	    (s->type == DEV_TAP ? SESSION_TAP_EXTRA : 0);
	char was[INET6_ADDRSTRLEN + 16], now[INET6_ADDRSTRLEN + 16];
	struct seal_opened op;
	enum seal_drop d;

	if (s->chan == NULL || s->tun.state == TUNNEL_CLOSING)
		return;
	d = udp_chan_open(s->chan, dgram, len, max, &op, session_now());
	if (d != SEAL_OK) {
		/* Name the datagram's own source: it may not be the peer. */
		util_sockaddr_str(from, now, sizeof(now));
		log_rl(&s->tun.rl_drop, LOG_INFO, "%sdropped a datagram from %s: "
		    "%s", tunnel_tag(&s->tun), now, seal_drop_name(d));
		return;
	}
	s->udp_rx++;
	timers_on_rx(&s->timers, session_now());
	/* The server's counter shows here; it cannot ask for a rekey. */
	if ((op.counter & 63) == 0)
		session_udp_maybe_rekey(s);
	/*
	 * The server follows the client to a new address (roaming, NAT
	 * rebinding), but only for an authenticated datagram newer than any
	 * before it: a replayed one from elsewhere moves nothing.
	 */
	if (s->tun.role == TUNNEL_SERVER && (!s->udp_peer_known ||
	    (op.newest && (fromlen != s->udp_peerlen ||
	    memcmp(from, &s->udp_peer, fromlen) != 0)))) {
		if (s->udp_peer_known) {
			util_sockaddr_str((struct sockaddr *)&s->udp_peer, was,
			    sizeof(was));
			util_sockaddr_str(from, now, sizeof(now));
			log_notice("%speer moved from %s to %s",
			    tunnel_tag(&s->tun),
			    was, now);
		}
		memcpy(&s->udp_peer, from, fromlen);
		s->udp_peerlen = fromlen;
		s->udp_peer_known = true;
	}
	/*
	 * The client sends under the new epoch, so we do too from now on;
	 * say so at once.  Until the client hears from us under it, it may
	 * not start the next rekey, and an idle or one-way session would
	 * otherwise run into the reject limit (nothing else of ours might
	 * come for `keepalive` seconds, or ever with keepalive = 0).
	 */
	if (op.promoted && s->tun.role == TUNNEL_SERVER) {
		send_udp_dgram(s, WIRE_INNER_KEEPALIVE, 0);
		s->tun.c.keepalives_sent++;
	}
	if (op.kind == WIRE_INNER_KEEPALIVE)
		return;
	/* speed, incoming: a datagram over the rate is dropped (the inner
	 * flows slow down as they would on a slower link). */
	if (!shaper_take(&s->shape_in, (uint32_t)len, session_now())) {
		s->tun.c.drop_shaped++;
		return;
	}
	receive_deliver(s, op.payload, op.payload_len,
	    op.kind == WIRE_INNER_ZLIB, false);
}
