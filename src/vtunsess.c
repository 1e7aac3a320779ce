/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "compress.h"
#include "control.h"
#include "vtunsess.h"
#include "log.h"
#include "netcfg.h"
#include "script.h"
#include "timers.h"
#include "tunnel.h"
#include "util.h"
#include "vtun.h"
#include "wire.h"

/* Packets one device or socket wakeup handles before yielding. */
#define VTUNSESS_BATCH 64
/* Device MTU when the config leaves it at 0 (vtund's default). */
#define VTUNSESS_MTU 1500
/*
 * TCP output above this pauses device reads; below the low mark resumes.
 * Above it an echo request from the peer gets no reply, and the peer is
 * not read again until the output is below the low mark.
 */
#define VTUNSESS_TX_HIGH (256 * 1024)
#define VTUNSESS_TX_LOW (64 * 1024)
/* What one connection may hold unread. */
#define VTUNSESS_RX_HIGH (256 * 1024)
/* How long a closing TCP connection may take to send what is queued. */
#define VTUNSESS_LINGER_MS 2000

_Static_assert(CONF_LEGACY_NAME_MAX == VTUN_HOST_MAX,
    "the config allows the names a HOST line carries");

struct vtunsess {
	struct tunnel tun;	/* device, up/down commands, the end */
	struct event_base *base;
	enum vtunsess_role role;
	enum vtunsess_state state;
	const struct vtunsess_cbs *cbs;
	void *arg;
	const struct conf_session *cs;
	struct vtun_lib *lib;

	/* The TCP connection: the handshake, and TCP mode's frames. */
	struct bufferevent *bev;
	struct event *linger;
	bool tcp_done;		/* the connection is closed and freed */
	bool tcp_flush_close;	/* UDP mode: close it once our port is out */
	int step;		/* handshake message expected next */
	uint8_t chal[WIRE_VTUN_CHAL_LEN];
	char host[CONF_NAME_MAX + 1];	/* server: the HOST asked for */

	/* UDP mode: our socket, the peer's address and its two possible
	 * ports (vtund builds differ in the byte order they send). */
	int ufd;
	struct event *uev;
	struct sockaddr_storage upeer;
	socklen_t upeerlen;
	uint16_t uport_be, uport_le;
	bool uport_known;

	struct vtun_flags fl;	/* agreed: the server's */
	struct vtun_zlib *z;
	struct compress_stats zst;	/* what the zlib stream did, for status */
	struct vtun_crypt *cr;
	char cipher_label[32];	/* "vtun none", for status */
	bool authenticated;
	bool was_up;
	bool peer_closed;
	uint64_t up_since_ms;
	uint64_t handshake_ms;

	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[INET6_ADDRSTRLEN + 16];

	struct event *dev_ev;
	bool reading;
	bool rx_paused;		/* TCP: the peer is not read until drained */
	int mtu;

	struct timers timers;
	struct event *tick;

	struct session_counters c;
	uint64_t bad_frames;	/* malformed or unexpected frames */
	uint64_t drop_echo;	/* echo replies refused: TCP output full */
	struct log_ratelimit rl_drop;
	struct log_ratelimit *rl_preauth;

	uint8_t pkt[WIRE_VTUN_PACKET_MAX];
	uint8_t zbuf[WIRE_VTUN_BODY_MAX];
	uint8_t frame[WIRE_VTUN_HDR_LEN + WIRE_VTUN_BODY_MAX];
	uint8_t rx[WIRE_VTUN_HDR_LEN + WIRE_VTUN_BODY_MAX + 1];
	uint8_t dec[WIRE_VTUN_BODY_MAX];
	uint8_t inf[WIRE_VTUN_PACKET_MAX + 1];
};

static void vtunsess_teardown(struct vtunsess *l);

/* The port of an AF_INET or AF_INET6 address. */
static void
vtunsess_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}
static void vtunsess_setup(struct vtunsess *l);
static void vtunsess_tcp_readcb(struct bufferevent *bev, void *arg);

static uint64_t
vtunsess_now(void)
{
	return util_now_ms();
}

static const char *
vtunsess_tag(const struct vtunsess *l)
{
	return l->cs != NULL ? l->cs->tag : "";
}

/* A line about a peer that has not authenticated: rate-limited. */
static void LOG_PRINTF(3, 4)
vtunsess_preauth_log(const struct vtunsess *l, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (l->rl_preauth != NULL && !l->authenticated)
		log_vrl(l->rl_preauth, level, fmt, ap);
	else
		log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Gone once the connection is closed and no down command is running. */
static void
vtunsess_maybe_gone(struct vtunsess *l)
{
	tunnel_maybe_gone(&l->tun, l->state == VTUNSESS_CLOSING && l->tcp_done);
}

/* The TCP connection is over: free it (and stop any linger). */
static void
vtunsess_tcp_free(struct vtunsess *l)
{
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (l->linger != NULL)
		evtimer_del(l->linger);
	l->tcp_done = true;
}

static void
vtunsess_pause_reads(struct vtunsess *l)
{
	if (l->reading && l->dev_ev != NULL)
		event_del(l->dev_ev);
	l->reading = false;
}

static void
vtunsess_resume_reads(struct vtunsess *l)
{
	if (!l->reading && l->dev_ev != NULL && l->state == VTUNSESS_UP &&
	    event_add(l->dev_ev, NULL) == 0)
		l->reading = true;
}

/* TCP mode: is what waits for the peer above the high-water mark? */
static bool
vtunsess_tx_congested(const struct vtunsess *l)
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
vtunsess_pause_peer(struct vtunsess *l)
{
	if (l->rx_paused || l->bev == NULL || l->tcp_done)
		return;
	bufferevent_disable(l->bev, EV_READ);
	l->rx_paused = true;
}

/* The output drained: read the peer again, starting with what waits. */
static void
vtunsess_resume_peer(struct vtunsess *l)
{
	if (!l->rx_paused || l->bev == NULL || l->tcp_done)
		return;
	l->rx_paused = false;
	bufferevent_enable(l->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(l->bev)) >=
	    WIRE_VTUN_HDR_LEN)
		bufferevent_trigger(l->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* --- Sending ----------------------------------------------------------- */

/* One whole frame to the peer: onto the TCP stream or as a datagram. */
static void
vtunsess_xmit(struct vtunsess *l, const uint8_t *buf, size_t len)
{
	if (l->ufd != -1) {
		if (!l->uport_known && l->uport_le != l->uport_be) {
			/* Until the peer's port is known, a flag frame goes
			 * to both readings of it (data never gets here). */
			vtunsess_set_port(&l->upeer, l->uport_le);
			(void)sendto(l->ufd, buf, len, MSG_DONTWAIT,
			    (struct sockaddr *)&l->upeer, l->upeerlen);
			vtunsess_set_port(&l->upeer, l->uport_be);
		}
		if (sendto(l->ufd, buf, len, MSG_DONTWAIT,
		    (struct sockaddr *)&l->upeer, l->upeerlen) < 0)
			l->c.drop_udp_send++;
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

static void
vtunsess_send_flag(struct vtunsess *l, uint16_t flag)
{
	uint8_t h[WIRE_VTUN_HDR_LEN];

	vtun_hdr_put(h, flag, 0);
	vtunsess_xmit(l, h, sizeof(h));
}

/*
 * A device packet through the stages (zlib, then the cipher) into one
 * frame.  Once deflated a packet must go out: the peer's inflate stream
 * depends on every frame.
 */
static int
vtunsess_send_packet(struct vtunsess *l, const uint8_t *p, size_t len)
{
	uint8_t *body = l->frame + WIRE_VTUN_HDR_LEN;
	size_t n = len;

	if (len == 0 || len > WIRE_VTUN_PACKET_MAX)
		return 0;
	/* UDP before the peer's port is known: drop it before it enters
	 * the zlib stream, which must see exactly the frames sent. */
	if (l->ufd != -1 && !l->uport_known && l->uport_le != l->uport_be) {
		l->c.drop_no_addr++;
		return 0;
	}
	if (l->z != NULL) {
		if (vtun_zlib_deflate(l->z, p, len, l->zbuf, sizeof(l->zbuf),
		    &n) != 0) {
			log_err("%szlib failed on a packet of %zu bytes",
			    vtunsess_tag(l), len);
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
			log_err("%sencryption failed", vtunsess_tag(l));
			return -1;
		}
	} else {
		if (n > WIRE_VTUN_BODY_MAX)
			return -1;
		memcpy(body, p, n);
	}
	vtun_hdr_put(l->frame, 0, (uint16_t)n);
	l->c.tx_packets++;
	l->c.tx_bytes += len;
	l->c.tx_bytes_wire += n;
	vtunsess_xmit(l, l->frame, WIRE_VTUN_HDR_LEN + n);
	return 0;
}

/* Device packets to the peer, a bounded batch per wakeup. */
static void
vtunsess_dev_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;
	ssize_t n;
	int i;

	for (i = 0; i < VTUNSESS_BATCH && l->reading; i++) {
		n = read(fd, l->pkt, sizeof(l->pkt));
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				l->c.dev_read_errors++;
			return;
		}
		if (vtunsess_send_packet(l, l->pkt, (size_t)n) != 0) {
			vtunsess_close(l, "cannot send a packet");
			return;
		}
	}
}

/* --- Receiving --------------------------------------------------------- */

/*
 * A data frame's body through the stages in reverse.  Frames before the
 * device is ready are still inflated (the zlib stream needs them), then
 * dropped.  Returns -1 after closing the session.
 */
static int
vtunsess_rx_data(struct vtunsess *l, const uint8_t *body, size_t len)
{
	const uint8_t *p = body;
	size_t n = len;

	if (l->cr != NULL) {
		if (vtun_crypt_open(l->cr, p, n, l->dec, sizeof(l->dec),
		    &n) != 0) {
			l->c.drop_bad_packet++;
			log_rl(&l->rl_drop, LOG_INFO, "%sdropped a frame from "
			    "%s that does not decrypt (wrong cipher or "
			    "password?)", vtunsess_tag(l), l->peer_str);
			return 0;
		}
		p = l->dec;
	}
	if (l->z != NULL) {
		l->zst.inflated_in += n;
		if (vtun_zlib_inflate(l->z, p, n, l->inf, sizeof(l->inf),
		    &n) != 0) {
			l->zst.corrupt++;
			l->c.drop_inflate++;
			log_warnx("%sthe zlib stream from %s is broken; "
			    "closing", vtunsess_tag(l), l->peer_str);
			vtunsess_close(l, "zlib stream broken");
			return -1;
		}
		l->zst.inflated++;
		l->zst.inflated_out += n;
		p = l->inf;
	}
	if (n == 0 || n > WIRE_VTUN_PACKET_MAX) {
		l->c.drop_bad_packet++;
		return 0;
	}
	if (l->state != VTUNSESS_UP) {
		l->c.drop_not_ready++;
		return 0;
	}
	if (write(l->tun.dev->fds[0], p, n) != (ssize_t)n) {
		l->c.drop_dev_write++;
		log_rl(&l->rl_drop, LOG_INFO, "%sthe device refused a packet "
		    "of %zu bytes: %s", vtunsess_tag(l), n, strerror(errno));
		return 0;
	}
	l->c.rx_packets++;
	l->c.rx_bytes += n;
	return 0;
}

/* One frame from the peer.  Returns -1 once the session is closing. */
static int
vtunsess_rx_frame(struct vtunsess *l, enum vtun_frame_kind k,
    const uint8_t *body, size_t len)
{
	timers_on_rx(&l->timers, vtunsess_now());
	switch (k) {
	case VTUN_FRAME_DATA:
		return vtunsess_rx_data(l, body, len);
	case VTUN_FRAME_ECHO_REQ:
		if (vtunsess_tx_congested(l)) {
			l->drop_echo++;
			log_rl(&l->rl_drop, LOG_INFO, "%s%s asks for echo "
			    "replies faster than it reads them: dropping them "
			    "and reading nothing more until it does",
			    vtunsess_tag(l), l->peer_str);
			vtunsess_pause_peer(l);
			return 0;
		}
		vtunsess_send_flag(l, WIRE_VTUN_ECHO_REP);
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
	log_rl(&l->rl_drop, LOG_INFO, "%sdropped a malformed frame from %s",
	    vtunsess_tag(l), l->peer_str);
	return 0;
}

/* TCP mode: whole frames off the stream. */
static void
vtunsess_tcp_frames(struct vtunsess *l, struct evbuffer *in)
{
	uint8_t h[WIRE_VTUN_HDR_LEN];
	enum vtun_frame_kind k;
	size_t len;
	int n;

	for (n = 0; l->state != VTUNSESS_CLOSING && !l->rx_paused &&
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
		if (vtunsess_rx_frame(l, k, l->rx, len) != 0)
			return;
	}
	/* More than a batch waits: come back through the loop. */
	if (l->bev != NULL && !l->rx_paused &&
	    evbuffer_get_length(in) >= WIRE_VTUN_HDR_LEN)
		bufferevent_trigger(l->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* The peer's address with the port it most likely has. */
static bool
vtunsess_udp_from_peer(struct vtunsess *l, const struct sockaddr *from)
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
		vtunsess_set_port(&l->upeer, port);
		log_info("%s%s sends from UDP port %u (%s byte order)",
		    vtunsess_tag(l), l->tun.peer_host, port, port == l->uport_be ?
		    "network" : "host");
	}
	return true;
}

/* UDP mode: datagrams from the peer, each exactly one frame. */
static void
vtunsess_udp_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;
	struct sockaddr_storage from;
	enum vtun_frame_kind k;
	socklen_t fromlen;
	size_t len;
	ssize_t n;
	int i;

	for (i = 0; i < VTUNSESS_BATCH && l->state != VTUNSESS_CLOSING; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, l->rx, sizeof(l->rx), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (!vtunsess_udp_from_peer(l, (struct sockaddr *)&from)) {
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
		if (vtunsess_rx_frame(l, k, l->rx + WIRE_VTUN_HDR_LEN, len) !=
		    0)
			return;
	}
}

/* --- UDP port exchange ------------------------------------------------ */

/*
 * Our UDP socket, on the TCP connection's local address, at a port whose
 * two bytes are equal: a peer reads it the same in either byte order.
 */
static int
vtunsess_udp_open(struct vtunsess *l, char *err, size_t errlen)
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
	/* No randomness (never seen in practice): the ports from 0x8080. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = 0;
	for (i = 0; i < 127; i++) {
		port = (uint16_t)((0x80 + (rnd + (uint32_t)i) % 127) * 257);
		vtunsess_set_port(&sa, port);
		if (bind(fd, (struct sockaddr *)&sa, salen) == 0) {
			l->ufd = fd;
			return port;
		}
	}
	close(fd);
	return util_err(err, errlen, "no free UDP port of the form 0xXYXY");
}

/* Start UDP mode: our port out; the peer's comes in tcp_readcb. */
static void
vtunsess_ports_start(struct vtunsess *l)
{
	uint8_t b[WIRE_VTUN_PORT_LEN];
	char err[200];
	int port;

	l->state = VTUNSESS_PORTS;
	timers_set_phase(&l->timers, TIMERS_HELLO, vtunsess_now());
	if ((port = vtunsess_udp_open(l, err, sizeof(err))) < 0) {
		log_err("%s%s", vtunsess_tag(l), err);
		vtunsess_close(l, "udp setup failed");
		return;
	}
	vtun_port_put(b, (uint16_t)port);
	bufferevent_write(l->bev, b, sizeof(b));
}

/* The peer's port: the TCP connection is done, datagrams from now on. */
static void
vtunsess_ports_done(struct vtunsess *l, const uint8_t *b)
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
	vtunsess_set_port(&l->upeer, l->uport_be);
	l->uport_known = l->uport_be == l->uport_le;
	l->uev = event_new(l->base, l->ufd, EV_READ | EV_PERSIST,
	    vtunsess_udp_readcb, l);
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
	log_info("%sUDP to %s port %u (or %u)", vtunsess_tag(l), l->tun.peer_host,
	    l->uport_be, l->uport_le);
	vtunsess_send_flag(l, WIRE_VTUN_ECHO_REQ);
	vtunsess_setup(l);
}

/* --- Handshake --------------------------------------------------------- */

static void
vtunsess_send_msg(struct vtunsess *l, const uint8_t *m)
{
	bufferevent_write(l->bev, m, WIRE_VTUN_MSG_LEN);
}

/* The agreed flags: stages, cipher label, notices where ours differ. */
static int
vtunsess_adopt(struct vtunsess *l, const struct vtun_flags *f)
{
	const struct conf_session *cs = l->cs;
	char err[256];

	l->fl = *f;
	snprintf(l->cipher_label, sizeof(l->cipher_label), "vtun %s",
	    f->cipher == 0 ? "none" : vtun_cipher_name(f->cipher));
	if (f->zlevel > 0 && (l->z = vtun_zlib_new(f->zlevel, err,
	    sizeof(err))) == NULL) {
		log_err("%s%s", vtunsess_tag(l), err);
		return -1;
	}
	if (f->cipher != 0 && (l->cr = vtun_crypt_new(l->lib, f->cipher,
	    cs->passwd, err, sizeof(err))) == NULL) {
		log_err("%s%s", vtunsess_tag(l), err);
		return -1;
	}
	return 0;
}

/* vtund's cipher number for a legacy session's `cipher`. */
static int
vtunsess_conf_cipher(const struct conf_session *cs)
{
	switch (cs->cipher) {
	case CONF_CIPHER_BLOWFISH128ECB:
		return VTUN_CIPHER_BF128ECB;
	case CONF_CIPHER_AES128ECB:
		return VTUN_CIPHER_AES128ECB;
	case CONF_CIPHER_AES256ECB:
		return VTUN_CIPHER_AES256ECB;
	default:
		return VTUN_CIPHER_NONE;
	}
}

/* A server's FLAGS from its session settings. */
static void
vtunsess_conf_flags(const struct conf_session *cs, struct vtun_flags *f)
{
	memset(f, 0, sizeof(*f));
	f->udp = cs->proto == CONF_PROTO_UDP;
	f->type = cs->type;
	f->zlevel = cs->compress;
	f->keepalive = cs->keepalive > 0;
	f->cipher = vtunsess_conf_cipher(cs);
}

/* Both roles, once the password is proven: note it and warn. */
static void
vtunsess_authenticated_common(struct vtunsess *l)
{
	socklen_t len = sizeof(struct sockaddr_storage);
	struct sockaddr_storage sa;

	l->authenticated = true;
	l->handshake_ms = vtunsess_now();
	if (getsockname(bufferevent_getfd(l->bev), (struct sockaddr *)&sa,
	    &len) == 0)
		util_sockaddr_parts((struct sockaddr *)&sa, l->tun.local_host,
		    sizeof(l->tun.local_host), l->tun.local_port,
		    sizeof(l->tun.local_port));
	log_warnx("%slegacy vtund session with %s (%s, %s, %s, zlib %s): "
	    "the vtund protocol is NOT secure (MD5 keys, ECB, no integrity, "
	    "flags in clear)", vtunsess_tag(l), l->peer_str,
	    l->fl.udp ? "udp" : "tcp", dev_type_name(l->fl.type),
	    l->cipher_label, l->fl.zlevel > 0 ? "on" : "off");
}

/* Server: "HOST: name" in, challenge out. */
static int
vtunsess_srv_host(struct vtunsess *l, const uint8_t *m)
{
	uint8_t out[WIRE_VTUN_MSG_LEN];
	char esc[4 * WIRE_VTUN_MSG_LEN];

	if (vtun_parse_host(m, l->host, sizeof(l->host)) != 0) {
		util_escape(m, strnlen((const char *)m, WIRE_VTUN_MSG_LEN),
		    esc, sizeof(esc));
		vtunsess_preauth_log(l, LOG_NOTICE, "vtund handshake from %s "
		    "refused: expected HOST, got \"%s\"", l->peer_str, esc);
		return -1;
	}
	if (getrandom(l->chal, sizeof(l->chal), 0) != sizeof(l->chal))
		return -1;
	vtun_msg_ok_chal(l->chal, out);
	vtunsess_send_msg(l, out);
	l->step = 1;
	return 0;
}

/* Server: the answer to the challenge; a wrong password, an unknown
 * session and a non-legacy session all look the same to the peer. */
static int
vtunsess_srv_chal(struct vtunsess *l, const uint8_t *m)
{
	uint8_t resp[WIRE_VTUN_CHAL_LEN], out[WIRE_VTUN_MSG_LEN];
	const struct conf_session *cs;
	char esc[4 * (CONF_NAME_MAX + 1)];
	struct vtun_flags f;
	bool ok;

	cs = l->cbs->lookup != NULL ? l->cbs->lookup(l->host, l->arg) : NULL;
	/* No such session costs the same work as a wrong password. */
	ok = vtun_parse_chal(m, resp) == 0 &&
	    vtun_chal_crypt(l->lib, cs != NULL ? cs->passwd :
	    "no such legacy session", resp, false) == 0 && cs != NULL &&
	    CRYPTO_memcmp(resp, l->chal, sizeof(resp)) == 0;
	OPENSSL_cleanse(l->chal, sizeof(l->chal));
	if (!ok) {
		util_escape(l->host, strlen(l->host), esc, sizeof(esc));
		vtunsess_preauth_log(l, LOG_NOTICE, "vtund authentication from "
		    "%s for \"%s\" failed (wrong password, or no such legacy "
		    "session)", l->peer_str, esc);
		return -1;
	}
	l->cs = cs;
	vtunsess_conf_flags(cs, &f);
	if (vtunsess_adopt(l, &f) != 0)
		return -1;
	if (l->cbs->authenticated != NULL &&
	    l->cbs->authenticated(l, cs, l->arg) != 0)
		return -1;
	if (vtun_msg_ok_flags(&f, out) != 0)
		return -1;
	vtunsess_authenticated_common(l);
	vtunsess_send_msg(l, out);
	if (f.udp)
		vtunsess_ports_start(l);
	else
		vtunsess_setup(l);
	return 0;
}

/* Client: where our settings differ from the server's, say so. */
static void
vtunsess_cli_notices(const struct vtunsess *l, const struct vtun_flags *f)
{
	const struct conf_session *cs = l->cs;
	int mine = vtunsess_conf_cipher(cs);

	if (f->udp != (cs->proto == CONF_PROTO_UDP))
		log_notice("%sthe server says proto %s", vtunsess_tag(l),
		    f->udp ? "udp" : "tcp");
	if (f->type != cs->type)
		log_notice("%sthe server says type %s", vtunsess_tag(l),
		    dev_type_name(f->type));
	if (f->zlevel != cs->compress)
		log_notice("%sthe server says compress %s%d", vtunsess_tag(l),
		    f->zlevel > 0 ? "zlib:" : "no, level ", f->zlevel);
	if (f->cipher != mine)
		log_notice("%sthe server says cipher %s", vtunsess_tag(l),
		    f->cipher == 0 ? "none" : vtun_cipher_name(f->cipher));
	if (f->shape > 0)
		log_notice("%sthe server asks for a speed of %d kbit/s; "
		    "tapline does not shape legacy sessions", vtunsess_tag(l),
		    f->shape);
}

/* Client: the next server line (greeting, challenge, flags). */
static int
vtunsess_cli_msg(struct vtunsess *l, const uint8_t *m)
{
	uint8_t out[WIRE_VTUN_MSG_LEN], chal[WIRE_VTUN_CHAL_LEN];
	struct vtun_flags f;
	char err[200];

	switch (l->step) {
	case 0:
		if (!vtun_msg_is_greeting(m)) {
			log_warnx("%s%s is not a vtund server", vtunsess_tag(l),
			    l->peer_str);
			return -1;
		}
		if (vtun_msg_host(l->cs->name, out) != 0)
			return -1;
		vtunsess_send_msg(l, out);
		break;
	case 1:
		if (vtun_parse_ok_chal(m, chal) != 0) {
			log_warnx("%s%s sent no challenge", vtunsess_tag(l),
			    l->peer_str);
			return -1;
		}
		if (vtun_chal_crypt(l->lib, l->cs->passwd, chal, true) != 0)
			return -1;
		vtun_msg_chal(chal, out);
		vtunsess_send_msg(l, out);
		break;
	case 2:
		if (vtun_parse_ok_flags(m, &f, err, sizeof(err)) != 0) {
			log_err("%s%s: %s", vtunsess_tag(l), l->peer_str, err);
			return -1;
		}
		/* The FLAGS come in clear: never follow them below the
		 * cipher this session is configured with. */
		if (vtun_cipher_check(f.cipher, vtunsess_conf_cipher(l->cs),
		    err, sizeof(err)) != 0) {
			log_err("%s%s: %s; refusing it (vtund's FLAGS travel "
			    "in clear: a man in the middle may have rewritten "
			    "them)", vtunsess_tag(l), l->peer_str, err);
			return -1;
		}
		vtunsess_cli_notices(l, &f);
		if (vtunsess_adopt(l, &f) != 0)
			return -1;
		vtunsess_authenticated_common(l);
		if (f.udp)
			vtunsess_ports_start(l);
		else
			vtunsess_setup(l);
		break;
	default:
		return -1;
	}
	l->step++;
	return 0;
}

/* The TCP stream: handshake lines, the UDP port, or frames. */
static void
vtunsess_tcp_readcb(struct bufferevent *bev, void *arg)
{
	struct vtunsess *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t m[WIRE_VTUN_MSG_LEN];
	int rc;

	while (l->state == VTUNSESS_HANDSHAKE &&
	    evbuffer_get_length(in) >= WIRE_VTUN_MSG_LEN) {
		evbuffer_remove(in, m, sizeof(m));
		if (l->role == VTUNSESS_CLIENT)
			rc = vtunsess_cli_msg(l, m);
		else
			rc = l->step == 0 ? vtunsess_srv_host(l, m) :
			    vtunsess_srv_chal(l, m);
		if (rc != 0) {
			if (l->role == VTUNSESS_SERVER) {
				vtun_msg_err(m);
				vtunsess_send_msg(l, m);
			}
			vtunsess_close(l, "handshake failed");
			return;
		}
	}
	if (l->state == VTUNSESS_PORTS &&
	    evbuffer_get_length(in) >= WIRE_VTUN_PORT_LEN) {
		uint8_t b[WIRE_VTUN_PORT_LEN];

		evbuffer_remove(in, b, sizeof(b));
		vtunsess_ports_done(l, b);
		return;
	}
	if ((l->state == VTUNSESS_SETUP || l->state == VTUNSESS_UP) &&
	    l->ufd == -1)
		vtunsess_tcp_frames(l, in);
}

/* Output drained: resume device and peer reads, or finish a close. */
static void
vtunsess_tcp_writecb(struct bufferevent *bev, void *arg)
{
	struct vtunsess *l = arg;

	if (l->state == VTUNSESS_CLOSING || l->tcp_flush_close) {
		vtunsess_tcp_free(l);
		vtunsess_maybe_gone(l);
		return;
	}
	vtunsess_resume_reads(l);
	vtunsess_resume_peer(l);
}

/* EOF or error on the TCP connection ends the session. */
static void
vtunsess_tcp_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct vtunsess *l = arg;
	int e = EVUTIL_SOCKET_ERROR();

	vtunsess_tcp_free(l);
	if (l->state == VTUNSESS_CLOSING || l->tcp_flush_close) {
		vtunsess_maybe_gone(l);
		return;
	}
	if (l->state == VTUNSESS_HANDSHAKE)
		vtunsess_preauth_log(l, LOG_NOTICE, "%s%s: %s during the vtund "
		    "handshake", vtunsess_tag(l), l->peer_str,
		    (what & BEV_EVENT_EOF) ? "connection closed" :
		    strerror(e));
	vtunsess_close(l, (what & BEV_EVENT_EOF) ? "connection closed" :
	    "connection broken");
}

/* A close that could not flush in time: drop the connection. */
static void
vtunsess_lingercb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;

	vtunsess_tcp_free(l);
	vtunsess_maybe_gone(l);
}

/* --- Device and up commands ------------------------------------------ */

/* Up commands done: forwarding starts. */
static void
vtunsess_up_done(void *arg, int result)
{
	struct vtunsess *l = arg;

	if (result != 0) {
		vtunsess_close(l, "up command failed");
		return;
	}
	l->state = VTUNSESS_UP;
	l->was_up = true;
	l->up_since_ms = vtunsess_now();
	timers_set_liveness(&l->timers, l->cs->keepalive, l->cs->timeout);
	timers_set_phase(&l->timers, TIMERS_UP, vtunsess_now());
	timers_on_rx(&l->timers, vtunsess_now());
	timers_on_key_update(&l->timers, vtunsess_now());
	vtunsess_resume_reads(l);
	log_notice("%sup with %s (vtund legacy, %s, %s %s, mtu %d, %s, "
	    "zlib %s)", vtunsess_tag(l), l->peer_str, l->fl.udp ? "udp" : "tcp",
	    dev_type_name(l->fl.type), l->tun.dev->name, l->mtu,
	    l->cipher_label, l->fl.zlevel > 0 ? "on" : "off");
	if (l->cbs->up != NULL)
		l->cbs->up(l, l->arg);
}

/*
 * Create (or take over the kept) device, configure it, then run the up
 * commands; forwarding starts when they have all succeeded.
 */
static void
vtunsess_setup(struct vtunsess *l)
{
	char err[256];

	if (l->state == VTUNSESS_CLOSING)
		return;
	l->state = VTUNSESS_SETUP;
	timers_set_phase(&l->timers, TIMERS_SETUP, vtunsess_now());
	l->mtu = l->cs->mtu != 0 ? l->cs->mtu : VTUNSESS_MTU;
	if (tunnel_dev_open(&l->tun, l->cs, l->fl.type, l->mtu, 1, false, err,
	    sizeof(err)) != 0) {
		log_err("%sdevice setup failed: %s", vtunsess_tag(l), err);
		vtunsess_close(l, "device setup failed");
		return;
	}
	l->dev_ev = event_new(l->base, l->tun.dev->fds[0], EV_READ | EV_PERSIST,
	    vtunsess_dev_readcb, l);
	if (l->dev_ev == NULL) {
		vtunsess_close(l, "out of memory");
		return;
	}
	if (tunnel_up(&l->tun, l->cs) != 0)
		vtunsess_close(l, "cannot run up commands");
}

static void
vtunsess_down_done(void *arg)
{
	vtunsess_maybe_gone(arg);
}

/* --- Timers -------------------------------------------------------------- */

static void
vtunsess_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;

	if (l->state == VTUNSESS_CLOSING)
		return;
	switch (timers_due(&l->timers, vtunsess_now())) {
	case TIMERS_NONE:
		break;
	case TIMERS_SEND_KEEPALIVE:
		vtunsess_send_flag(l, WIRE_VTUN_ECHO_REQ);
		l->c.keepalives_sent++;
		break;
	case TIMERS_HANDSHAKE_EXPIRED:
		vtunsess_preauth_log(l, LOG_INFO, "%s%s did not finish the vtund "
		    "handshake in %d s", vtunsess_tag(l), l->peer_str,
		    WIRE_HANDSHAKE_DEADLINE_SECONDS);
		vtunsess_close(l, "handshake deadline");
		break;
	case TIMERS_HELLO_EXPIRED:
		log_warnx("%s%s sent no UDP port within %d s", vtunsess_tag(l),
		    l->peer_str, WIRE_HELLO_DEADLINE_SECONDS);
		vtunsess_close(l, "no UDP port");
		break;
	case TIMERS_KEY_UPDATE:
		/* vtund has no rekeying; only the timer is reset. */
		timers_on_key_update(&l->timers, vtunsess_now());
		break;
	case TIMERS_PEER_DEAD:
		log_notice("%snothing heard from %s for %d s, closing",
		    vtunsess_tag(l), l->peer_str, l->cs->timeout);
		vtunsess_close(l, "peer silent");
		break;
	}
}

/* --- Life ---------------------------------------------------------------- */

static void
vtunsess_log_summary(const struct vtunsess *l)
{
	log_notice("%ssession with %s lasted %llu s: sent %llu packets (%llu "
	    "bytes, %llu on the wire), received %llu packets (%llu bytes); "
	    "dropped: not ready %llu, undecryptable %llu, device %llu, "
	    "udp send %llu, echo replies %llu; malformed frames %llu",
	    vtunsess_tag(l), l->peer_str,
	    (unsigned long long)((vtunsess_now() - l->up_since_ms) / 1000),
	    (unsigned long long)l->c.tx_packets,
	    (unsigned long long)l->c.tx_bytes,
	    (unsigned long long)l->c.tx_bytes_wire,
	    (unsigned long long)l->c.rx_packets,
	    (unsigned long long)l->c.rx_bytes,
	    (unsigned long long)l->c.drop_not_ready,
	    (unsigned long long)l->c.drop_bad_packet,
	    (unsigned long long)l->c.drop_dev_write,
	    (unsigned long long)l->c.drop_udp_send,
	    (unsigned long long)l->drop_echo,
	    (unsigned long long)l->bad_frames);
}

/* Stop forwarding, give the device back, run the down commands. */
static void
vtunsess_teardown(struct vtunsess *l)
{
	tunnel_cancel(&l->tun);
	if (l->was_up)
		vtunsess_log_summary(l);
	vtunsess_pause_reads(l);
	if (l->dev_ev != NULL) {
		event_free(l->dev_ev);
		l->dev_ev = NULL;
	}
	if (l->uev != NULL) {
		event_free(l->uev);
		l->uev = NULL;
	}
	if (l->ufd != -1) {
		close(l->ufd);
		l->ufd = -1;
	}
	tunnel_release(&l->tun, l->cs);
}

void
vtunsess_close(struct vtunsess *l, const char *why)
{
	if (l->state == VTUNSESS_CLOSING)
		return;
	/* vtund's close frame, where the peer can still read frames. */
	if (l->state == VTUNSESS_SETUP || l->state == VTUNSESS_UP) {
		if (!l->peer_closed)
			vtunsess_send_flag(l, WIRE_VTUN_CONN_CLOSE);
	}
	if (l->was_up)
		log_notice("%sclosing the session with %s: %s", vtunsess_tag(l),
		    l->peer_str, why);
	else if (l->authenticated)
		log_info("%sclosing the session with %s: %s", vtunsess_tag(l),
		    l->peer_str, why);
	l->state = VTUNSESS_CLOSING;
	vtunsess_teardown(l);
	if (l->bev != NULL && !l->tcp_done) {
		/* Let what is queued (ERR, a close frame) go out first. */
		bufferevent_disable(l->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
			vtunsess_tcp_free(l);
		} else {
			bufferevent_setwatermark(l->bev, EV_WRITE, 0, 0);
			struct timeval tv = {
				.tv_sec = VTUNSESS_LINGER_MS / 1000,
				.tv_usec = (VTUNSESS_LINGER_MS % 1000) * 1000,
			};

			evtimer_add(l->linger, &tv);
		}
	} else {
		l->tcp_done = true;
	}
	vtunsess_maybe_gone(l);
}

/* The owner's gone callback, run from the loop by the tunnel. */
static void
vtunsess_gone(void *arg)
{
	struct vtunsess *l = arg;

	l->cbs->gone(l, l->arg);
}

static const struct tunnel_ops vtunsess_tunnel_ops = {
	.up_done = vtunsess_up_done,
	.down_done = vtunsess_down_done,
	.gone = vtunsess_gone,
};

struct vtunsess *
vtunsess_new(struct event_base *base, enum vtunsess_role role, int fd,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_session *cs, struct dev *keep, struct vtun_lib *lib,
    const struct vtunsess_cbs *cbs, void *arg)
{
	uint8_t m[WIRE_VTUN_MSG_LEN];
	struct vtunsess *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	if (tunnel_init(&l->tun, base, keep, &vtunsess_tunnel_ops, l) != 0) {
		evutil_closesocket(fd);
		free(l);
		return NULL;
	}
	l->base = base;
	l->role = role;
	l->state = VTUNSESS_HANDSHAKE;
	l->cbs = cbs;
	l->arg = arg;
	l->cs = cs;
	l->lib = lib;
	l->ufd = -1;
	l->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	util_strlcpy(l->cipher_label, "vtun", sizeof(l->cipher_label));
	if (peerlen > sizeof(l->peer))
		peerlen = sizeof(l->peer);
	memcpy(&l->peer, peer, peerlen);
	l->peerlen = peerlen;
	util_sockaddr_parts(peer, l->tun.peer_host, sizeof(l->tun.peer_host),
	    l->tun.peer_port, sizeof(l->tun.peer_port));
	util_sockaddr_str(peer, l->peer_str, sizeof(l->peer_str));
	timers_init(&l->timers, vtunsess_now());
	timers_set_phase(&l->timers, TIMERS_HANDSHAKE, vtunsess_now());
	l->tick = event_new(base, -1, EV_PERSIST, vtunsess_tickcb, l);
	l->linger = evtimer_new(base, vtunsess_lingercb, l);
	l->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (l->bev == NULL)
		evutil_closesocket(fd);
	if (l->tick == NULL || l->linger == NULL ||
	    l->bev == NULL) {
		vtunsess_free(l);
		return NULL;
	}
	bufferevent_setcb(l->bev, vtunsess_tcp_readcb, vtunsess_tcp_writecb,
	    vtunsess_tcp_eventcb, l);
	bufferevent_setwatermark(l->bev, EV_WRITE, VTUNSESS_TX_LOW, 0);
	/* Read no further ahead than this: a fast peer waits in TCP. */
	bufferevent_setwatermark(l->bev, EV_READ, 0, VTUNSESS_RX_HIGH);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	event_add(l->tick, &(struct timeval){ .tv_sec = 1 });
	if (role == VTUNSESS_SERVER) {
		vtun_msg_greeting(m);
		vtunsess_send_msg(l, m);
	} else {
		log_warnx("%sconnecting to %s with vtund's legacy protocol, "
		    "which is NOT secure", vtunsess_tag(l), l->peer_str);
	}
	return l;
}

void
vtunsess_free(struct vtunsess *l)
{
	if (l == NULL)
		return;
	if (l->state != VTUNSESS_CLOSING) {
		l->state = VTUNSESS_CLOSING;
		vtunsess_teardown(l);
	}
	tunnel_cancel(&l->tun);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	if (l->tick != NULL)
		event_free(l->tick);
	tunnel_free(&l->tun);
	if (l->linger != NULL)
		event_free(l->linger);
	vtun_zlib_free(l->z);
	vtun_crypt_free(l->cr);
	OPENSSL_cleanse(l->chal, sizeof(l->chal));
	free(l);
}

void
vtunsess_set_preauth_ratelimit(struct vtunsess *l, struct log_ratelimit *rl)
{
	l->rl_preauth = rl;
}

/* Its settings, once it is known which session it is. */
static const struct conf_session *
vtunsess_conf(const struct vtunsess *l)
{
	return l->authenticated || l->role == VTUNSESS_CLIENT ? l->cs : NULL;
}

const char *
vtunsess_peer(const struct vtunsess *l)
{
	return l->peer_str;
}

static uint64_t
vtunsess_age(uint64_t now, uint64_t then)
{
	return then == 0 ? CONTROL_NEVER : now - then;
}

/* The status entry (control.h) for this session. */
static void
vtunsess_fill(struct control_session *e, const struct vtunsess *l,
    uint64_t now_ms)
{
	const struct conf_session *cs = vtunsess_conf(l);

	memset(e, 0, sizeof(*e));
	e->name = cs != NULL ? cs->name : "";
	switch (l->state) {
	case VTUNSESS_HANDSHAKE:
		e->state = CONTROL_HANDSHAKE;
		break;
	case VTUNSESS_PORTS:
		e->state = CONTROL_HELLO;
		break;
	case VTUNSESS_SETUP:
		e->state = CONTROL_SETUP;
		break;
	case VTUNSESS_UP:
		e->state = CONTROL_UP;
		break;
	case VTUNSESS_CLOSING:
		e->state = CONTROL_CLOSING;
		break;
	}
	e->peer = l->peer_str;
	e->udp = l->fl.udp;
	e->cipher = l->authenticated ? l->cipher_label : NULL;
	e->device = l->tun.dev_ready ? l->tun.dev->name : NULL;
	e->uptime_ms = vtunsess_age(now_ms, l->state == VTUNSESS_UP ?
	    l->up_since_ms : 0);
	e->handshake_age_ms = vtunsess_age(now_ms, l->handshake_ms);
	e->rekey_age_ms = CONTROL_NEVER;
	e->c = l->c;
	e->compress_level = l->fl.zlevel;
	e->z = l->z != NULL ? &l->zst : NULL;
}

/* --- The table server.c and client.c drive a session through ----------- */

static bool
vtunsess_kind_authenticated(const void *o)
{
	return ((const struct vtunsess *)o)->authenticated;
}

static bool
vtunsess_kind_closing(const void *o)
{
	return ((const struct vtunsess *)o)->state == VTUNSESS_CLOSING;
}

static bool
vtunsess_kind_up(const void *o)
{
	return ((const struct vtunsess *)o)->state == VTUNSESS_UP;
}

static bool
vtunsess_kind_was_up(const void *o)
{
	return ((const struct vtunsess *)o)->was_up;
}

static const struct conf_session *
vtunsess_kind_conf(const void *o)
{
	return vtunsess_conf(o);
}

static const char *
vtunsess_kind_peer(const void *o)
{
	return vtunsess_peer(o);
}

/* A reload kept the session: its settings now live in the new file. */
static void
vtunsess_kind_set_conf(void *o, const struct conf_session *cs)
{
	((struct vtunsess *)o)->cs = cs;
}

/* vtund's close has no reason code: the words are what it logs. */
static void
vtunsess_kind_close(void *o, uint8_t reason, const char *msg)
{
	vtunsess_close(o, msg);
}

static void
vtunsess_kind_fill(struct control_session *e, const void *o, uint64_t now)
{
	vtunsess_fill(e, o, now);
}

static void
vtunsess_kind_free(void *o)
{
	vtunsess_free(o);
}

const struct tunnel_kind vtunsess_kind = {
	.authenticated = vtunsess_kind_authenticated,
	.closing = vtunsess_kind_closing,
	.up = vtunsess_kind_up,
	.was_up = vtunsess_kind_was_up,
	.conf = vtunsess_kind_conf,
	.peer = vtunsess_kind_peer,
	.set_conf = vtunsess_kind_set_conf,
	.close = vtunsess_kind_close,
	.fill = vtunsess_kind_fill,
	.free = vtunsess_kind_free,
};
