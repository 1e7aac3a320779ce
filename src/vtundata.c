/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vtund session's frames both ways: the device read into vtund frames
 * (zlib, ECB cipher) onto the TCP stream or into datagrams, frames from
 * the peer checked, opened and written to the device, echo requests
 * answered (never into a full output), and in UDP mode our socket and
 * the exchange of UDP ports over the TCP connection.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "netcfg.h"
#include "udpsock.h"
#include "vtunsess-private.h"

/* The port of an AF_INET or AF_INET6 address. */
static void
vtundata_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

/* TCP mode: is what waits for the peer above the high-water mark? */
static bool
vtundata_tx_congested(const struct vtunsess *l)
{
	return l->ufd == -1 && l->bev != NULL && !l->tcp_done &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) >
	    VTUNSESS_TX_HIGH;
}

/*
 * A peer that asks for echo replies while it does not read them: read
 * nothing more from it until it has taken most of what waits, so that it
 * can neither grow our output nor keep us busy with requests.  Only this
 * pauses the peer: pausing on congestion alone would let two tapline ends
 * that both send in bulk stop reading each other for good.
 */
static void
vtundata_pause_peer(struct vtunsess *l)
{
	if (l->rx_paused || l->bev == NULL || l->tcp_done)
		return;
	bufferevent_disable(l->bev, EV_READ);
	l->rx_paused = true;
}

/* The output drained: read the peer again, starting with what waits. */
void
vtundata_resume_peer(struct vtunsess *l)
{
	if (!l->rx_paused || l->bev == NULL || l->tcp_done)
		return;
	l->rx_paused = false;
	bufferevent_enable(l->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(l->bev)) >=
	    WIRE_VTUN_HDR_LEN)
		bufferevent_trigger(l->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* One whole frame to the peer: onto the TCP stream or as a datagram. */
static void
vtundata_xmit(struct vtunsess *l, const uint8_t *buf, size_t len)
{
	if (l->ufd != -1) {
		if (!l->uport_known && l->uport_le != l->uport_be) {
			/* Until the peer's port is known, a flag frame goes
			 * to both readings of it (data never gets here). */
			vtundata_set_port(&l->upeer, l->uport_le);
			(void)sendto(l->ufd, buf, len, MSG_DONTWAIT,
			    (struct sockaddr *)&l->upeer, l->upeerlen);
			vtundata_set_port(&l->upeer, l->uport_be);
		}
		if (sendto(l->ufd, buf, len, MSG_DONTWAIT,
		    (struct sockaddr *)&l->upeer, l->upeerlen) < 0)
			l->tun.c.drop_udp_send++;
	} else if (l->bev != NULL && !l->tcp_done) {
		if (bufferevent_write(l->bev, buf, len) != 0)
			return;
		if (evbuffer_get_length(bufferevent_get_output(l->bev)) >
		    VTUNSESS_TX_HIGH)
			vtunsess_pause_reads(l);
	} else {
		return;
	}
	timers_on_tx(&l->timers, vtunsess_now());
}

void
vtundata_send_flag(struct vtunsess *l, uint16_t flag)
{
	uint8_t h[WIRE_VTUN_HDR_LEN];

	vtun_hdr_put(h, flag, 0);
	vtundata_xmit(l, h, sizeof(h));
}

/*
 * A device packet through the stages (zlib, then the cipher) into one
 * frame.  Once deflated a packet must go out: the peer's inflate stream
 * depends on every frame.
 */
static int
vtundata_send_packet(struct vtunsess *l, const uint8_t *p, size_t len)
{
	uint8_t *body = l->frame + WIRE_VTUN_HDR_LEN;
	size_t n = len;

	if (len == 0 || len > WIRE_VTUN_PACKET_MAX)
		return 0;
	/* UDP before the peer's port is known: drop it before it enters
	 * the zlib stream, which must see exactly the frames sent. */
	if (l->ufd != -1 && !l->uport_known && l->uport_le != l->uport_be) {
		l->tun.c.drop_no_addr++;
		return 0;
	}
	if (l->z != NULL) {
		if (vtun_zlib_deflate(l->z, p, len, l->zbuf, sizeof(l->zbuf),
		    &n) != 0) {
			log_err("%szlib failed on a packet of %zu bytes",
			    tunnel_tag(&l->tun), len);
			return -1;
		}
		l->zst.compressed++;
		l->zst.bytes_in += len;
		l->zst.bytes_out += n;
		p = l->zbuf;
	}
	if (l->cr != NULL) {
		if (vtun_crypt_seal(l->cr, p, n, body, WIRE_VTUN_BODY_MAX,
		    &n) != 0) {
			log_err("%sencryption failed", tunnel_tag(&l->tun));
			return -1;
		}
	} else {
		if (n > WIRE_VTUN_BODY_MAX)
			return -1;
		memcpy(body, p, n);
	}
	vtun_hdr_put(l->frame, 0, (uint16_t)n);
	l->tun.c.tx_packets++;
	l->tun.c.tx_bytes += len;
	l->tun.c.tx_bytes_wire += n;
	vtundata_xmit(l, l->frame, WIRE_VTUN_HDR_LEN + n);
	return 0;
}

/* Device packets to the peer, a bounded batch per wakeup. */
void
vtundata_dev_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;
	ssize_t n;
	int i;

	for (i = 0; i < VTUNSESS_BATCH && l->reading; i++) {
		n = read(fd, l->pkt, sizeof(l->pkt));
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				l->tun.c.dev_read_errors++;
			return;
		}
		if (vtundata_send_packet(l, l->pkt, (size_t)n) != 0) {
			vtunsess_close(l, "cannot send a packet");
			return;
		}
	}
}

/*
 * A data frame's body through the stages in reverse.  Frames before the
 * device is ready are still inflated (the zlib stream needs them), then
 * dropped.  Returns -1 after closing the session.
 */
static int
vtundata_rx_data(struct vtunsess *l, const uint8_t *body, size_t len)
{
	const uint8_t *p = body;
	size_t n = len;

	if (l->cr != NULL) {
		if (vtun_crypt_open(l->cr, p, n, l->dec, sizeof(l->dec),
		    &n) != 0) {
			l->tun.c.drop_bad_packet++;
			log_rl(&l->tun.rl_drop, LOG_INFO, "%sdropped a frame from "
			    "%s that does not decrypt (wrong cipher or "
			    "password?)", tunnel_tag(&l->tun), l->tun.peer_str);
			return 0;
		}
		p = l->dec;
	}
	if (l->z != NULL) {
		l->zst.inflated_in += n;
		if (vtun_zlib_inflate(l->z, p, n, l->inf, sizeof(l->inf),
		    &n) != 0) {
			l->zst.corrupt++;
			l->tun.c.drop_inflate++;
			log_warnx("%sthe zlib stream from %s is broken; "
			    "closing", tunnel_tag(&l->tun), l->tun.peer_str);
			vtunsess_close(l, "zlib stream broken");
			return -1;
		}
		l->zst.inflated++;
		l->zst.inflated_out += n;
		p = l->inf;
	}
	if (n == 0 || n > WIRE_VTUN_PACKET_MAX) {
		l->tun.c.drop_bad_packet++;
		return 0;
	}
	if (l->tun.state != TUNNEL_UP) {
		l->tun.c.drop_not_ready++;
		return 0;
	}
	if (write(l->tun.dev->fds[0], p, n) != (ssize_t)n) {
		l->tun.c.drop_dev_write++;
		log_rl(&l->tun.rl_drop, LOG_INFO, "%sthe device refused a packet "
		    "of %zu bytes: %s", tunnel_tag(&l->tun), n,
		    strerror(errno));
		return 0;
	}
	l->tun.c.rx_packets++;
	l->tun.c.rx_bytes += n;
	return 0;
}

/* One frame from the peer.  Returns -1 once the session is closing. */
static int
vtundata_rx_frame(struct vtunsess *l, enum vtun_frame_kind k,
    const uint8_t *body, size_t len)
{
	timers_on_rx(&l->timers, vtunsess_now());
	switch (k) {
	case VTUN_FRAME_DATA:
		return vtundata_rx_data(l, body, len);
	case VTUN_FRAME_ECHO_REQ:
		if (vtundata_tx_congested(l)) {
			l->drop_echo++;
			log_rl(&l->tun.rl_drop, LOG_INFO, "%s%s asks for echo "
			    "replies faster than it reads them: dropping them "
			    "and reading nothing more until it does",
			    tunnel_tag(&l->tun), l->tun.peer_str);
			vtundata_pause_peer(l);
			return 0;
		}
		vtundata_send_flag(l, WIRE_VTUN_ECHO_REP);
		return 0;
	case VTUN_FRAME_ECHO_REP:
		return 0;
	case VTUN_FRAME_CLOSE:
		l->peer_closed = true;
		vtunsess_close(l, "closed by the peer");
		return -1;
	case VTUN_FRAME_BAD:
	case VTUN_FRAME_UNKNOWN:
	case VTUN_FRAME_OVERSIZE:
	case VTUN_FRAME_EMPTY:
		break;
	}
	l->bad_frames++;
	log_rl(&l->tun.rl_drop, LOG_INFO, "%sdropped a malformed frame from %s",
	    tunnel_tag(&l->tun), l->tun.peer_str);
	return 0;
}

/* TCP mode: whole frames off the stream. */
void
vtundata_tcp_frames(struct vtunsess *l, struct evbuffer *in)
{
	uint8_t h[WIRE_VTUN_HDR_LEN];
	enum vtun_frame_kind k;
	size_t len;
	int n;

	for (n = 0; l->tun.state != TUNNEL_CLOSING && !l->rx_paused &&
	    n < 4 * VTUNSESS_BATCH; n++) {
		if (evbuffer_copyout(in, h, sizeof(h)) != (ssize_t)sizeof(h))
			return;
		k = vtun_hdr_get(h, &len);
		if (evbuffer_get_length(in) < sizeof(h) + len)
			return;
		evbuffer_drain(in, sizeof(h));
		if (k == VTUN_FRAME_OVERSIZE) {
			/* vtund skips such a body too; the stream stays in
			 * step. */
			evbuffer_drain(in, len);
			len = 0;
		} else if (len > 0 &&
		    evbuffer_remove(in, l->rx, len) != (int)len) {
			return;
		}
		if (vtundata_rx_frame(l, k, l->rx, len) != 0)
			return;
	}
	/* More than a batch waits: come back through the loop. */
	if (l->bev != NULL && !l->rx_paused &&
	    evbuffer_get_length(in) >= WIRE_VTUN_HDR_LEN)
		bufferevent_trigger(l->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* The peer's address with the port it most likely has. */
static bool
vtundata_udp_from_peer(struct vtunsess *l, const struct sockaddr *from)
{
	const struct sockaddr *p = (const struct sockaddr *)&l->upeer;
	uint16_t port;

	if (from->sa_family != p->sa_family)
		return false;
	if (p->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from,
		    *b = (const void *)p;

		if (a->sin_addr.s_addr != b->sin_addr.s_addr)
			return false;
		port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)from,
		    *b = (const void *)p;

		if (memcmp(&a->sin6_addr, &b->sin6_addr,
		    sizeof(a->sin6_addr)) != 0)
			return false;
		port = ntohs(a->sin6_port);
	}
	if (port != l->uport_be && port != l->uport_le)
		return false;
	if (!l->uport_known) {
		l->uport_known = true;
		vtundata_set_port(&l->upeer, port);
		log_info("%s%s sends from UDP port %u (%s byte order)",
		    tunnel_tag(&l->tun), l->tun.peer_host, port,
		    port == l->uport_be ?
		    "network" : "host");
	}
	return true;
}

/* UDP mode: datagrams from the peer, each exactly one frame. */
static void
vtundata_udp_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;
	struct sockaddr_storage from;
	enum vtun_frame_kind k;
	socklen_t fromlen;
	size_t len;
	ssize_t n;
	int i;

	for (i = 0; i < VTUNSESS_BATCH && l->tun.state != TUNNEL_CLOSING; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, l->rx, sizeof(l->rx), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (!vtundata_udp_from_peer(l, (struct sockaddr *)&from)) {
			l->bad_frames++;
			continue;
		}
		if (n < WIRE_VTUN_HDR_LEN) {
			l->bad_frames++;
			continue;
		}
		k = vtun_hdr_get(l->rx, &len);
		/* A datagram is one frame, header included, nothing more. */
		if ((size_t)n != WIRE_VTUN_HDR_LEN + len) {
			l->bad_frames++;
			continue;
		}
		if (vtundata_rx_frame(l, k, l->rx + WIRE_VTUN_HDR_LEN, len) !=
		    0)
			return;
	}
}

/*
 * Our UDP socket, on the TCP connection's local address, at a port whose
 * two bytes are equal: a peer reads it the same in either byte order.
 */
static int
vtundata_udp_open(struct vtunsess *l, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	uint32_t rnd = 0;
	int fd, i, zero = 0;
	uint16_t port;

	if (getsockname(bufferevent_getfd(l->bev), (struct sockaddr *)&sa,
	    &salen) != 0)
		return util_err(err, errlen, "getsockname: %s",
		    strerror(errno));
	fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return util_err(err, errlen, "udp socket: %s", strerror(errno));
	if (sa.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	/* A full tunnel's datagrams to the server keep the main table. */
	if (l->tun.role == TUNNEL_CLIENT &&
	    netcfg_sock_mark(fd, l->tun.cs, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	/* With zlib, one datagram lost to a full buffer breaks the stream
	 * for good (vtund's design): give bursts the room native UDP has. */
	udp_sock_size_buffers(fd);
	/* No randomness (never seen in practice): the ports from 0x8080. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = 0;
	for (i = 0; i < 127; i++) {
		port = (uint16_t)((0x80 + (rnd + (uint32_t)i) % 127) * 257);
		vtundata_set_port(&sa, port);
		if (bind(fd, (struct sockaddr *)&sa, salen) == 0) {
			l->ufd = fd;
			return port;
		}
	}
	close(fd);
	return util_err(err, errlen, "no free UDP port of the form 0xXYXY");
}

/* Start UDP mode: our port out; the peer's comes in tcp_readcb. */
void
vtundata_ports_start(struct vtunsess *l)
{
	uint8_t b[WIRE_VTUN_PORT_LEN];
	char err[200];
	int port;

	l->tun.state = TUNNEL_HELLO;
	timers_set_phase(&l->timers, TIMERS_HELLO, vtunsess_now());
	if ((port = vtundata_udp_open(l, err, sizeof(err))) < 0) {
		log_err("%s%s", tunnel_tag(&l->tun), err);
		vtunsess_close(l, "udp setup failed");
		return;
	}
	vtun_port_put(b, (uint16_t)port);
	bufferevent_write(l->bev, b, sizeof(b));
}

/* The peer's port: the TCP connection is done, datagrams from now on. */
void
vtundata_ports_done(struct vtunsess *l, const uint8_t *b)
{
	socklen_t len = sizeof(l->upeer);

	vtun_port_get(b, &l->uport_be, &l->uport_le);
	if (getpeername(bufferevent_getfd(l->bev),
	    (struct sockaddr *)&l->upeer, &len) != 0 ||
	    l->uport_be == 0) {
		vtunsess_close(l, "bad UDP port from the peer");
		return;
	}
	l->upeerlen = len;
	vtundata_set_port(&l->upeer, l->uport_be);
	l->uport_known = l->uport_be == l->uport_le;
	l->uev = event_new(l->tun.base, l->ufd, EV_READ | EV_PERSIST,
	    vtundata_udp_readcb, l);
	if (l->uev == NULL || event_add(l->uev, NULL) != 0) {
		vtunsess_close(l, "out of memory");
		return;
	}
	/* vtund closes its TCP connection here; so do we, once what we
	 * queued (our port, the FLAGS line) has gone out. */
	if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
		vtunsess_tcp_free(l);
	} else {
		l->tcp_flush_close = true;
		bufferevent_disable(l->bev, EV_READ);
		bufferevent_setwatermark(l->bev, EV_WRITE, 0, 0);
	}
	log_info("%sUDP to %s port %u (or %u)", tunnel_tag(&l->tun),
	    l->tun.peer_host,
	    l->uport_be, l->uport_le);
	vtundata_send_flag(l, WIRE_VTUN_ECHO_REQ);
	vtunsess_setup(l);
}
