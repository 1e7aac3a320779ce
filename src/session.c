/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One tunnel: the session's life cycle (made on a TLS connection, device
 * set up once the peers agree, up commands, forwarding, teardown, down
 * commands), its timers and its accessors.  The packet paths are send.c
 * and receive.c, the frames of the TLS stream ctlmsg.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "control.h"
#include "netcfg.h"
#include "session-private.h"

static void session_free(struct tunnel *);
static void session_teardown(struct tunnel *);

uint64_t
session_now(void)
{
	return util_now_ms();
}

/* Remember both ends' addresses as the kernel sees them (for %a %A). */
void
session_note_addrs(struct session *s)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int fd = stream_fd(s->t);

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&local, &len) == 0)
		util_sockaddr_parts((struct sockaddr *)&local, s->tun.local_host,
		    sizeof(s->tun.local_host), s->tun.local_port,
		    sizeof(s->tun.local_port));
}

/* Gone once the stream has ended and no down command is running. */
void
session_maybe_gone(struct session *s)
{
	tunnel_maybe_gone(&s->tun, s->tun.state == TUNNEL_CLOSING &&
	    s->transport_done);
}

void
session_pause_reads(struct session *s)
{
	int i;

	if (!s->reading)
		return;
	for (i = 0; i < s->tun.dev->nqueues; i++)
		event_del(s->queues[i].ev);
	s->reading = false;
}

static void
session_resume_reads(struct session *s)
{
	int i;

	if (s->reading || s->tun.state != TUNNEL_UP)
		return;
	for (i = 0; i < s->tun.dev->nqueues; i++)
		event_add(s->queues[i].ev, NULL);
	s->reading = true;
}

/*
 * Client: start a rekey when the packet or time limit of either
 * direction is near.  Checked after every batch, not only once a second,
 * because at high rates an epoch can be used up within a second.
 */
void
session_udp_maybe_rekey(struct session *s)
{
	uint8_t body[UDP_REKEY_LEN];
	char err[200];

	/* Not over a connection that is gone or not re-attached yet. */
	if (s->tun.role != TUNNEL_CLIENT || s->chan == NULL ||
	    s->tun.detached || s->redialing ||
	    !udp_chan_rekey_wanted(s->chan, session_now()))
		return;
	if (udp_chan_rekey_start(s->chan, body, err, sizeof(err)) != 0)
		log_warnx("%srekey: %s", tunnel_tag(&s->tun), err);
	else
		(void)stream_send(s->t, WIRE_REKEY, 0, body, sizeof(body));
}

/* A random, non-zero receiver id for the peer to address us by. */
static uint32_t
session_new_rid(void)
{
	uint32_t rid = 0;

	while (rid == 0)
		if (getrandom(&rid, sizeof(rid), 0) != sizeof(rid))
			rid = (uint32_t)util_now_ms() | 1;
	return rid;
}

/* Is this address IPv4, or IPv4 carried in IPv6 (a dual-stack peer)? */
static bool
session_addr_is_v4(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *in6 = (const void *)sa;

	return sa->sa_family == AF_INET || (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr));
}

/*
 * MTU when the config says 0: TCP mode and a tap carry Ethernet-size
 * packets; a UDP tun keeps every datagram within a 1500-byte underlay
 * packet: 33 bytes of datagram overhead (16 header, 1 inner kind, 16
 * tag) and the IP and UDP headers (28 for IPv4, 48 for IPv6).  A path
 * that carries less is found and handled on the way (send.c).
 */
int
session_derive_mtu(const struct session *s)
{
	int mtu = SESSION_TCP_MTU;

	/* An Ethernet segment cannot tell its hosts to send less than 1500:
	 * a tap carries that, and frames too big for the path are
	 * fragmented by IP on the way (send.c). */
	if (!s->udp || s->type == DEV_TAP)
		return mtu;
	mtu -= WIRE_UDP_MIN_LEN;
	mtu -= session_addr_is_v4((const struct sockaddr *)&s->tun.peer) ? 28 : 48;
	return mtu;
}

static void
session_shape_resumecb(evutil_socket_t fd, short what, void *arg)
{
	session_resume_reads(arg);
}

/* speed = "IN:OUT" in kbit/s, each side by its own file (as vtund). */
static void
session_start_shaping(struct session *s)
{
	uint64_t now = session_now();

	if (s->tun.cs->speed_in == 0 && s->tun.cs->speed_out == 0)
		return;
	if (!s->udp) {
		if (stream_set_rate(s->t, s->tun.cs->speed_in,
		    s->tun.cs->speed_out) != 0)
			log_warnx("%scannot limit the speed",
			    tunnel_tag(&s->tun));
		return;
	}
	shaper_init(&s->shape_in, s->tun.cs->speed_in, now);
	shaper_init(&s->shape_out, s->tun.cs->speed_out, now);
}

static void
session_up_done(struct tunnel *t, int result)
{
	struct session *s = t->owner;
	char err[200];

	if (result != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "up command failed");
		return;
	}
	if (s->tun.role == TUNNEL_SERVER && s->udp && s->chan == NULL &&
	    (s->chan = udp_chan_new(stream_ssl(s->t), SEAL_ROLE_SERVER,
	    s->cipher, s->my_rid, s->peer_rid, &s->lim, err,
	    sizeof(err))) == NULL) {
		log_err("%s%s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "udp setup failed");
		return;
	}
	if (s->tun.role == TUNNEL_SERVER &&
	    ctlmsg_send_hello(s, WIRE_HELLO_ACK, 0) != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "cannot send HELLO_ACK");
		return;
	}
	if (s->tun.role == TUNNEL_SERVER)
		reattach_token_export(s);
	s->tun.state = TUNNEL_UP;
	s->tun.was_up = true;
	s->tun.up_since_ms = session_now();
	session_start_shaping(s);
	timers_set_liveness(&s->timers, s->tun.cs->keepalive, s->tun.cs->timeout);
	timers_set_phase(&s->timers, TIMERS_UP, session_now());
	session_resume_reads(s);
	log_notice("%sup with %s (%s, %s %s, mtu %d, %s)", tunnel_tag(&s->tun),
	    s->tun.peer_str, s->udp ? seal_cipher_name(s->cipher) : "tcp",
	    dev_type_name(s->type), s->tun.dev->name, s->mtu,
	    s->compress_level > 0 ? "zlib on" : "compression off");
	if (s->tun.cbs->up != NULL)
		s->tun.cbs->up(&s->tun, s->tun.arg);
}

/*
 * Create (or take over the kept) device and configure it, off the loop;
 * session_dev_done goes on from there.
 */
void
session_setup(struct session *s)
{
	char err[256];

	s->tun.state = TUNNEL_SETUP;
	timers_set_phase(&s->timers, TIMERS_SETUP, session_now());
	if (tunnel_dev_open(&s->tun, s->tun.cs, s->type, s->mtu,
	    s->tun.cs->queues, s->tun.cs->offload, err, sizeof(err)) != 0) {
		log_err("%sdevice setup failed: %s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "device setup failed");
	}
}

/*
 * The device is ready (or not): its reading events, then the up
 * commands; forwarding starts when they have all succeeded.
 */
static void
session_dev_done(struct tunnel *t, const char *err)
{
	struct session *s = t->owner;
	int i;

	if (err != NULL) {
		log_err("%sdevice setup failed: %s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "device setup failed");
		return;
	}
	/* Strictly smaller: a direct read asks for one byte more. */
	s->udp_slots = s->udp && WIRE_UDP_PAYLOAD_OFF + session_pkt_limit(s) +
	    WIRE_UDP_TAG_LEN < UDP_TX_SLOT;
	if (s->tun.dev->vnet && s->coal == NULL) {
		s->coal = gso_coal_new(SESSION_COAL_FLOWS, s->scratch->coal,
		    receive_dev_writev, s);
		s->coal_ev = event_new(s->tun.base, -1, 0, receive_coal_flushcb,
		    s);
		if (s->coal == NULL || s->coal_ev == NULL) {
			session_close(s, WIRE_CLOSE_ERROR, "out of memory");
			return;
		}
	}
	s->queues = calloc((size_t)s->tun.dev->nqueues, sizeof(*s->queues));
	if (s->queues == NULL) {
		session_close(s, WIRE_CLOSE_ERROR, "out of memory");
		return;
	}
	for (i = 0; i < s->tun.dev->nqueues; i++) {
		s->queues[i].s = s;
		s->queues[i].fd = s->tun.dev->fds[i];
		s->queues[i].ev = event_new(s->tun.base, s->tun.dev->fds[i],
		    EV_READ | EV_PERSIST, send_dev_readcb, &s->queues[i]);
		if (s->queues[i].ev == NULL) {
			session_close(s, WIRE_CLOSE_ERROR, "out of memory");
			return;
		}
	}
	if (tunnel_up(&s->tun, s->tun.cs) != 0)
		session_close(s, WIRE_CLOSE_ERROR, "cannot run up commands");
}

/*
 * Client, UDP mode: a socket of our own from the TCP connection's source
 * address, the data channel's first keys, and a keepalive at once so
 * that the server learns where we are.
 */
int
session_udp_client_start(struct session *s, const struct frame_hello *h)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char err[200];

	if (h->udp_receiver_id == 0 || h->cipher == WIRE_CIPHER_AUTO) {
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad udp parameters");
		return -1;
	}
	s->peer_rid = h->udp_receiver_id;
	s->cipher = h->cipher;
	if (getsockname(stream_fd(s->t), (struct sockaddr *)&local,
	    &len) != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "no local address");
		return -1;
	}
	((struct sockaddr_in *)&local)->sin_port = 0;	/* same offset in v6 */
	/*
	 * Any address of the family, unless the user pinned the source:
	 * the kernel then picks the source for each datagram, so that the
	 * data channel follows a laptop whose own address changes (the
	 * control connection re-attaches from the new one).
	 */
	if (!s->udp_pinned && local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_addr.s_addr =
		    htonl(INADDR_ANY);
	else if (!s->udp_pinned && local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_addr = in6addr_any;
	s->usock_own = udp_sock_new(s->tun.base, (struct sockaddr *)&local, len,
	    0, s->tun.cs->offload, receive_udp_cb, s, err, sizeof(err));
	s->usock = s->usock_own;
	/* A full tunnel's datagrams to the server keep the main table. */
	if (s->usock != NULL && udp_sock_set_mark(s->usock,
	    conf_session_full_tunnel(s->tun.cs, AF_UNSPEC) ? s->tun.cs->fwmark :
	    0, err, sizeof(err)) != 0) {
		log_err("%s%s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "udp setup failed");
		return -1;
	}
	memcpy(&s->udp_peer, &s->tun.peer, s->tun.peerlen);
	s->udp_peerlen = s->tun.peerlen;
	if (h->udp_port != 0)
		((struct sockaddr_in *)&s->udp_peer)->sin_port =
		    htons(h->udp_port);
	s->udp_peer_known = true;
	if (s->usock != NULL)
		s->chan = udp_chan_new(stream_ssl(s->t), SEAL_ROLE_CLIENT,
		    s->cipher, s->my_rid, s->peer_rid, &s->lim, err,
		    sizeof(err));
	if (s->usock == NULL || s->chan == NULL) {
		log_err("%s%s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "udp setup failed");
		return -1;
	}
	send_udp_dgram(s, WIRE_INNER_KEEPALIVE, 0);
	return 0;
}

static void
session_drainedcb(void *arg)
{
	session_resume_reads(arg);
}

/* Words for a failed handshake that an operator can act on. */
static void
session_log_end(struct session *s, enum stream_end end, const char *why)
{
	SSL *ssl;

	if (s->tun.state == TUNNEL_CLOSING || end == STREAM_CLOSED)
		return;
	if (s->tun.state != TUNNEL_HANDSHAKE) {
		log_notice("%sconnection with %s lost: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, why);
		snprintf(s->tun.end_why, sizeof(s->tun.end_why),
		    "connection lost: %s", why);
		return;
	}
	snprintf(s->tun.end_why, sizeof(s->tun.end_why), "%s: %s",
	    end == STREAM_TLS ? "handshake failed (wrong key or passphrase?)" :
	    "went away during the handshake", why);
	s->tun.auth_failed = end == STREAM_TLS;
	if (end != STREAM_TLS) {
		tunnel_preauth_log(&s->tun, LOG_INFO,
		    "%s%s went away during the handshake: %s",
		    tunnel_tag(&s->tun), s->tun.peer_str, why);
		return;
	}
	ssl = stream_ssl(s->t);
	if (s->tun.role == TUNNEL_SERVER)
		tunnel_preauth_log(&s->tun, LOG_WARNING,
		    "authentication failed for %s from %s: %s "
		    "(identity %s)", handshake_matched_name(ssl)[0] != '\0' ?
		    handshake_matched_name(ssl) : "unknown session",
		    s->tun.peer_str, why, handshake_peer_identity(ssl));
	else
		log_warnx("%sauthentication with %s failed: %s (wrong key "
		    "or passphrase?)", tunnel_tag(&s->tun), s->tun.peer_str,
		    why);
}

static void
session_endedcb(void *arg, enum stream_end end, const char *why)
{
	struct session *s = arg;

	if (s->tun.state != TUNNEL_CLOSING && reattach_detach(s, end, why))
		return;
	session_log_end(s, end, why);
	s->transport_done = true;
	tunnel_end(&s->tun);
	session_maybe_gone(s);
}

const struct stream_cbs session_transport_cbs = {
	.connected = ctlmsg_connectedcb,
	.frame = ctlmsg_framecb,
	.drained = session_drainedcb,
	.ended = session_endedcb,
};

/* UDP mode, once a second: rekey when due, expire old keys. */
static void
session_udp_tick(struct session *s)
{
	session_udp_maybe_rekey(s);
	udp_chan_expire(s->chan, session_now());
}

static void
session_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->tun.state == TUNNEL_CLOSING)
		return;
	if (s->chan != NULL && s->tun.state == TUNNEL_UP)
		session_udp_tick(s);
	reattach_tick(s);
	if (s->tun.state == TUNNEL_CLOSING)
		return;
	switch (timers_due(&s->timers, session_now())) {
	case TIMERS_NONE:
		break;
	case TIMERS_SEND_KEEPALIVE:
		if (s->chan != NULL) {
			send_udp_dgram(s, WIRE_INNER_KEEPALIVE, 0);
			s->tun.c.keepalives_sent++;
		} else if (stream_send(s->t, WIRE_KEEPALIVE, 0, NULL,
		    0) == 0) {
			s->tun.c.keepalives_sent++;
			timers_on_tx(&s->timers, session_now());
		}
		break;
	case TIMERS_HANDSHAKE_EXPIRED:
		tunnel_preauth_log(&s->tun, LOG_INFO,
		    "%s%s did not finish the handshake in %d s",
		    tunnel_tag(&s->tun), s->tun.peer_str,
		    WIRE_HANDSHAKE_DEADLINE_SECONDS);
		session_close(s, WIRE_CLOSE_TIMEOUT, NULL);
		break;
	case TIMERS_HELLO_EXPIRED:
		log_warnx("%s%s sent no %s within %d s", tunnel_tag(&s->tun),
		    s->tun.peer_str, s->tun.role == TUNNEL_SERVER ? "HELLO" :
		    "HELLO_ACK", WIRE_HELLO_DEADLINE_SECONDS);
		session_close(s, WIRE_CLOSE_TIMEOUT, "no HELLO");
		break;
	case TIMERS_KEY_UPDATE:
		/* TCP mode renews its keys with TLS 1.3 KeyUpdate; asking the
		 * peer to update too renews both directions. */
		if (SSL_key_update(stream_ssl(s->t),
		    SSL_KEY_UPDATE_REQUESTED) != 1)
			log_ssl_errors(LOG_WARNING, s->tun.cs->name);
		timers_on_key_update(&s->timers, session_now());
		s->rekey_ms = session_now();
		s->key_updates++;
		log_debug("%sTLS key update", tunnel_tag(&s->tun));
		break;
	case TIMERS_PEER_DEAD:
		log_notice("%snothing heard from %s for %d s, closing",
		    tunnel_tag(&s->tun), s->tun.peer_str, s->tun.cs->timeout);
		session_close(s, WIRE_CLOSE_TIMEOUT, "peer silent");
		break;
	}
}

static void
session_down_done(struct tunnel *t)
{
	session_maybe_gone(t->owner);
}

/* "; udp: 5 rekeys, 1234 datagrams in, dropped: auth 3 replay 2". */
static void
session_udp_summary(const struct session *s, char *buf, size_t len)
{
	const struct seal_stats *st = udp_chan_stats(s->chan);
	size_t off;
	int d, n;

	n = snprintf(buf, len, "; udp: %llu rekeys, %llu datagrams in, "
	    "dropped:", (unsigned long long)udp_chan_rekeys(s->chan),
	    (unsigned long long)st->opened);
	off = n > 0 ? (size_t)n : 0;
	for (d = SEAL_OK + 1; d < SEAL_DROP_COUNT && off < len; d++) {
		if (st->drop[d] == 0)
			continue;
		n = snprintf(buf + off, len - off, " %s %llu",
		    seal_drop_name((enum seal_drop)d),
		    (unsigned long long)st->drop[d]);
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < len)
		snprintf(buf + off, len - off, " no-address %llu send %llu "
		    "tx-limit %llu", (unsigned long long)s->tun.c.drop_no_addr,
		    (unsigned long long)s->tun.c.drop_udp_send,
		    (unsigned long long)s->tun.c.drop_tx_limit);
}

/* One line with what the session moved, for the operator's log. */
static void
session_log_summary(const struct session *s)
{
	const struct compress_stats *z = s->cz != NULL ?
	    compress_stats(s->cz) : NULL;
	char zline[160] = "compression off", uline[400] = "";

	if (z != NULL)
		snprintf(zline, sizeof(zline), "zlib: %llu of %llu packets "
		    "compressed, %llu -> %llu bytes",
		    (unsigned long long)z->compressed,
		    (unsigned long long)(z->compressed + z->raw),
		    (unsigned long long)z->bytes_in,
		    (unsigned long long)z->bytes_out);
	if (s->chan != NULL)
		session_udp_summary(s, uline, sizeof(uline));
	log_notice("%ssession with %s lasted %llu s: sent %llu packets "
	    "(%llu bytes, %llu on the wire), received %llu packets (%llu "
	    "bytes); %s; dropped %llu (not ready %llu, bad %llu, inflate "
	    "%llu, device %llu, oversize %llu)%s", tunnel_tag(&s->tun),
	    s->tun.peer_str,
	    (unsigned long long)((session_now() - s->tun.up_since_ms) / 1000),
	    (unsigned long long)s->tun.c.tx_packets,
	    (unsigned long long)s->tun.c.tx_bytes,
	    (unsigned long long)s->tun.c.tx_bytes_wire,
	    (unsigned long long)s->tun.c.rx_packets,
	    (unsigned long long)s->tun.c.rx_bytes, zline,
	    (unsigned long long)(s->tun.c.drop_not_ready + s->tun.c.drop_bad_packet +
	    s->tun.c.drop_inflate + s->tun.c.drop_dev_write + s->tun.c.drop_oversize),
	    (unsigned long long)s->tun.c.drop_not_ready,
	    (unsigned long long)s->tun.c.drop_bad_packet,
	    (unsigned long long)s->tun.c.drop_inflate,
	    (unsigned long long)s->tun.c.drop_dev_write,
	    (unsigned long long)s->tun.c.drop_oversize, uline);
}

/*
 * Stop forwarding and give the device back: the device disappears with
 * its fds (unless the client keeps it), then the down commands run.
 */
static void
session_teardown(struct tunnel *t)
{
	struct session *s = t->owner;
	int i;

	tunnel_cancel(&s->tun);
	if (s->tun.was_up)
		session_log_summary(s);
	/* Whichever side ends it, a session that never got one datagram
	 * through most likely ran over a path that drops UDP. */
	if (s->tun.was_up && s->chan != NULL && s->udp_rx == 0)
		log_warnx("%sno UDP datagram from %s arrived in %llu s: UDP "
		    "blocked? try proto = \"tcp\"", tunnel_tag(&s->tun),
		    s->tun.peer_str, (unsigned long long)((session_now() -
		    s->tun.up_since_ms) / 1000));
	session_pause_reads(s);
	if (s->shape_ev != NULL)
		evtimer_del(s->shape_ev);
	/* What the coalescer holds goes out before the device may go. */
	if (s->coal != NULL && s->tun.dev_ready)
		gso_coal_flush(s->coal);
	if (s->coal_ev != NULL)
		event_del(s->coal_ev);
	/* No datagram is sent or opened after the session ends. */
	udp_chan_free(s->chan);
	s->chan = NULL;
	udp_sock_free(s->usock_own);
	s->usock_own = s->usock = NULL;
	if (s->queues != NULL) {
		for (i = 0; i < s->tun.dev->nqueues; i++)
			if (s->queues[i].ev != NULL)
				event_free(s->queues[i].ev);
		free(s->queues);
		s->queues = NULL;
	}
	tunnel_release(&s->tun, s->tun.cs);
}

void
session_close(struct session *s, uint8_t reason, const char *msg)
{
	uint8_t body[1 + WIRE_CLOSE_MSG_MAX];
	size_t len;

	if (s->tun.state == TUNNEL_CLOSING)
		return;
	if (s->tun.state != TUNNEL_HANDSHAKE && frame_close_encode(reason,
	    msg != NULL ? msg : "", body, sizeof(body), &len) == 0)
		(void)stream_send(s->t, WIRE_CLOSE, 0, body, len);
	tunnel_log_close(&s->tun, msg != NULL ? msg :
	    frame_close_reason_name(reason));
	tunnel_end(&s->tun);
	stream_close(s->t);
}

struct session *
session_new(struct event_base *base, const struct tunnel_start *st,
    struct bufferevent *bev)
{
	const struct conf_session *cs = st->cs;
	struct session *s;

	if (st->scratch == NULL)
		fatalx("session_new: no packet buffers from the loop");
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	s->scratch = st->scratch;
	if (tunnel_init(&s->tun, base, &session_kind, s, st) != 0) {
		bufferevent_free(bev);
		free(s);
		return NULL;
	}
	s->rl_tx = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	s->my_rid = session_new_rid();
	udp_chan_limits(&s->lim);
	if (cs != NULL) {
		s->type = cs->type;
		s->udp = cs->proto == CONF_PROTO_UDP;
		s->cipher = (enum wire_cipher)cs->cipher;
		s->compress_level = cs->compress;
		s->mtu = cs->mtu != 0 ? cs->mtu : session_derive_mtu(s);
	}
	timers_init(&s->timers, session_now());
	s->tick = event_new(base, -1, EV_PERSIST, session_tickcb, s);
	s->shape_ev = evtimer_new(base, session_shape_resumecb, s);
	s->t = stream_new(bev, &s->scratch->stage, &session_transport_cbs, s);
	if (s->tick == NULL || s->shape_ev == NULL ||
	    s->t == NULL) {
		if (s->t == NULL)
			bufferevent_free(bev);
		session_free(&s->tun);
		return NULL;
	}
	event_add(s->tick, &(struct timeval){ .tv_sec = 1 });
	return s;
}

static void
session_free(struct tunnel *t)
{
	struct session *s = t->owner;

	tunnel_free(&s->tun);
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->shape_ev != NULL)
		event_free(s->shape_ev);
	stream_free(s->t);
	compress_free(s->cz);
	gso_coal_free(s->coal);
	if (s->coal_ev != NULL)
		event_free(s->coal_ev);
	if (s->tun.dev == &s->tun.own_dev)
		tunnel_dev_close_now(&s->tun.own_dev);
	free(s);
}

struct tunnel *
session_tunnel(struct session *s)
{
	return &s->tun;
}

bool
session_authenticated(const struct session *s)
{
	return s->tun.authenticated;
}

void
session_pin_source(struct session *s)
{
	s->udp_pinned = true;
}

void
session_set_udp(struct session *s, struct udp_sock *u)
{
	s->usock = u;
}

uint32_t
session_udp_rid(const struct session *s)
{
	return s->chan != NULL || s->udp ? s->my_rid : 0;
}

uint32_t
session_rid(const struct session *s)
{
	return s->my_rid;
}

/* --- The table server.c and client.c drive a session through ----------- */

static void
session_kind_close(struct tunnel *t, uint8_t reason, const char *msg)
{
	session_close(t->owner, reason, msg);
}

/* What status shows of a native session beyond what every kind has. */
static void
session_kind_fill(struct control_session *e, const struct tunnel *t,
    uint64_t now_ms)
{
	const struct session *s = t->owner;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = stream_fd(s->t);

	/* A client's connect(2) may still be under way in the TLS state. */
	if (t->state == TUNNEL_HANDSHAKE && t->role == TUNNEL_CLIENT &&
	    (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0))
		e->state = CONTROL_CONNECTING;
	e->udp = s->udp;
	if (s->udp && (s->chan != NULL || t->was_up))
		e->cipher = seal_cipher_name(s->cipher);
	e->rekey_age_ms = control_age(now_ms, s->rekey_ms);
	e->rekeys = s->chan != NULL ? udp_chan_rekeys(s->chan) :
	    s->key_updates;
	e->compress_level = s->cz != NULL ? s->compress_level : 0;
	e->z = s->cz != NULL ? compress_stats(s->cz) : NULL;
	e->seal = s->chan != NULL ? udp_chan_stats(s->chan) : NULL;
	e->path_mtu = s->udp ? s->path_mtu : 0;
	e->inner_mtu = s->udp && s->path_mtu > 0 ? s->inner_mtu : 0;
	if (s->udp && s->udp_peer_known)
		util_sockaddr_str((const struct sockaddr *)&s->udp_peer,
		    e->udp_peer, sizeof(e->udp_peer));
	/* Frames (TCP) or datagrams (UDP) that authenticated. */
	if (t->handshake_ms != 0)
		e->rx_age_ms = control_age(now_ms, s->timers.last_rx_ms);
}

const struct tunnel_kind session_kind = {
	.close = session_kind_close,
	.fill = session_kind_fill,
	.free = session_free,
	.teardown = session_teardown,
	.dev_done = session_dev_done,
	.up_done = session_up_done,
	.down_done = session_down_done,
};
