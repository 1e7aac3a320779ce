/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frames of a session's TLS stream: after the handshake the client's
 * HELLO and the server's HELLO_ACK settle the session (the server's
 * settings win), then REKEY and REKEY_ACK renew the UDP keys, KEEPALIVE
 * and CLOSE keep and end it; DATA frames go to the receive path.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "session-private.h"

/* Our settings as HELLO / HELLO_ACK carry them. */
void
ctlmsg_hello_fill(const struct session *s, struct frame_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = WIRE_VERSION;
	h->transport = s->udp ? WIRE_TRANSPORT_UDP : WIRE_TRANSPORT_TCP;
	h->type = s->type == DEV_TAP ? WIRE_DEV_TAP : WIRE_DEV_TUN;
	h->compress = (uint8_t)s->compress_level;
	h->cipher = (uint8_t)s->cipher;
	h->mtu = (uint16_t)s->mtu;
	h->udp_receiver_id = s->my_rid;
	if (s->tun.role == TUNNEL_SERVER && s->udp)
		h->udp_port = (uint16_t)atoi(s->tun.local_port);
}

int
ctlmsg_send_hello(struct session *s, uint8_t type, uint8_t flags)
{
	uint8_t body[WIRE_HELLO_LEN];
	struct frame_hello h;

	ctlmsg_hello_fill(s, &h);
	frame_hello_encode(&h, body);
	return stream_send(s->t, type, flags, body, sizeof(body));
}

/*
 * Server: is the client this very host?  Then our own client was sent
 * back to us (the key serves both roles), and the tunnel would only loop.
 */
static bool
ctlmsg_from_self(struct session *s, uint32_t peer_rid)
{
	SSL *ssl = stream_ssl(s->t);
	const uint8_t *hk = handshake_ssl_host_key(ssl);
	uint32_t tag;

	return hk != NULL && handshake_self_tag(ssl, hk, &tag) == 0 &&
	    tag == peer_rid;
}

/*
 * Server: may this authenticated peer have its session now (multi,
 * stopping, a reload under way, ...)?  Then our settings decide what it
 * gets.  Asked at HELLO, not at the handshake, so that a client that
 * comes back to re-attach is never taken for a second connection.
 */
static int
ctlmsg_admit(struct session *s)
{
	const char *msg = NULL;
	uint8_t reason = WIRE_CLOSE_REFUSED;
	char err[160];

	if (s->tun.cbs->authenticated(&s->tun, s->tun.cs, &reason, &msg,
	    s->tun.arg) != 0) {
		session_close(s, reason, msg);
		return -1;
	}
	s->type = s->tun.cs->type;
	s->udp = s->tun.cs->proto == CONF_PROTO_UDP;
	s->cipher = s->tun.cs->cipher != CONF_CIPHER_AUTO ?
	    (enum wire_cipher)s->tun.cs->cipher : udp_cipher_auto();
	s->mtu = s->tun.cs->mtu != 0 ? s->tun.cs->mtu : session_derive_mtu(s);
	s->compress_level = s->tun.cs->compress;
	if (s->compress_level > 0 && (s->cz = compress_new(s->compress_level,
	    err, sizeof(err))) == NULL) {
		log_err("%s%s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "no compression");
		return -1;
	}
	return 0;
}

/* Server: the client's HELLO; our session settings decide. */
static int
ctlmsg_rx_hello(struct session *s, const struct frame_hdr *fh,
    const uint8_t *body)
{
	struct frame_hello h;
	char err[160];

	if (frame_hello_decode(body, WIRE_HELLO_LEN, &h, err,
	    sizeof(err)) != 0) {
		log_warnx("%sbad HELLO from %s: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad HELLO");
		return -1;
	}
	if (ctlmsg_from_self(s, h.udp_receiver_id)) {
		log_warnx("%srefusing %s: the connection comes from this host "
		    "itself, a client of ours sent back to us (this host "
		    "serves and dials %s with one key)", tunnel_tag(&s->tun),
		    s->tun.peer_str, s->tun.cs->name);
		session_close(s, WIRE_CLOSE_REFUSED, "a connection from this "
		    "host itself");
		return -1;
	}
	if (fh->flags & WIRE_FLAG_REATTACH) {
		/* The frame is consumed whatever happens to this session:
		 * its stream may live on in another one. */
		(void)reattach_adopt(s, &h, body + WIRE_HELLO_LEN);
		return 0;
	}
	if (ctlmsg_admit(s) != 0)
		return -1;
	if (s->udp) {
		if (s->usock == NULL || h.udp_receiver_id == 0) {
			log_err("%scannot serve %s over udp: %s",
			    tunnel_tag(&s->tun), s->tun.peer_str,
			    s->usock == NULL ?
			    "no udp socket" : "the client gave no receiver id");
			session_close(s, WIRE_CLOSE_REFUSED, "udp unavailable");
			return -1;
		}
		s->peer_rid = h.udp_receiver_id;
		/* Offers matter only where this side left the choice open. */
		if (s->tun.cs->cipher == CONF_CIPHER_AUTO &&
		    h.cipher != WIRE_CIPHER_AUTO)
			s->cipher = h.cipher;
	}
	session_setup(s);
	return s->tun.state == TUNNEL_CLOSING ? -1 : 0;
}

/*
 * Client: the server's decision.  As with vtund, the server's settings
 * win; a notice names each one our own file has otherwise.
 */
static int
ctlmsg_rx_hello_ack(struct session *s, const struct frame_hdr *fh,
    const uint8_t *body)
{
	struct frame_hello h, mine;
	char err[160];

	if (frame_hello_decode(body, fh->len, &h, err, sizeof(err)) != 0 ||
	    frame_hello_ack_check(&h, err, sizeof(err)) != 0) {
		log_warnx("%sbad HELLO_ACK from %s: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad HELLO_ACK");
		return -1;
	}
	if (s->redialing)
		return reattach_rx_hello_ack(s, fh, &h);
	if (fh->flags & WIRE_FLAG_REATTACH) {
		log_warnx("%sbad HELLO_ACK from %s: a re-attach not asked "
		    "for", tunnel_tag(&s->tun), s->tun.peer_str);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad HELLO_ACK");
		return -1;
	}
	ctlmsg_hello_fill(s, &mine);
	if (h.transport != mine.transport)
		log_notice("%susing proto %s as the server says (this file: "
		    "%s)", tunnel_tag(&s->tun),
		    h.transport == WIRE_TRANSPORT_UDP ?
		    "udp" : "tcp", mine.transport == WIRE_TRANSPORT_UDP ?
		    "udp" : "tcp");
	if (h.transport == WIRE_TRANSPORT_UDP && mine.cipher !=
	    WIRE_CIPHER_AUTO && h.cipher != mine.cipher)
		log_notice("%susing cipher %s as the server says (this file: "
		    "%s)", tunnel_tag(&s->tun), seal_cipher_name(h.cipher),
		    seal_cipher_name(mine.cipher));
	if (h.type != mine.type)
		log_notice("%susing type %s as the server says (this file: "
		    "%s)", tunnel_tag(&s->tun), h.type == WIRE_DEV_TAP ? "tap" :
		    "tun", mine.type == WIRE_DEV_TAP ? "tap" : "tun");
	if (h.compress != mine.compress)
		log_notice("%susing compress %s%.0d as the server says "
		    "(this file: %s%.0d)", tunnel_tag(&s->tun),
		    h.compress ? "zlib:" : "no", h.compress,
		    mine.compress ? "zlib:" : "no", mine.compress);
	if (h.mtu != mine.mtu)
		log_notice("%susing mtu %u as the server says (this file: "
		    "%u)", tunnel_tag(&s->tun), h.mtu, mine.mtu);
	s->type = h.type == WIRE_DEV_TAP ? DEV_TAP : DEV_TUN;
	s->mtu = h.mtu;
	s->compress_level = h.compress;
	/* The server decides, so the warning belongs here, not at start. */
	if (s->compress_level > 0)
		log_warnx("%scompression is on: packet sizes can reveal what "
		    "the tunnel carries (VORACLE); see tapline.conf(5)",
		    tunnel_tag(&s->tun));
	if (s->compress_level > 0 && (s->cz = compress_new(s->compress_level,
	    err, sizeof(err))) == NULL) {
		log_err("%s%s", tunnel_tag(&s->tun), err);
		session_close(s, WIRE_CLOSE_ERROR, "compression unavailable");
		return -1;
	}
	s->udp = h.transport == WIRE_TRANSPORT_UDP;
	if (s->udp && session_udp_client_start(s, &h) != 0)
		return -1;
	reattach_token_export(s);
	s->ctl_tx_ms = session_now();
	session_setup(s);
	return s->tun.state == TUNNEL_CLOSING ? -1 : 0;
}

static int
ctlmsg_rx_close(struct session *s, const uint8_t *body, size_t len)
{
	char msg[WIRE_CLOSE_MSG_MAX * 4 + 1], err[160];
	uint8_t reason;

	if (frame_close_decode(body, len, &reason, msg, sizeof(msg), err,
	    sizeof(err)) != 0)
		log_notice("%s%s closed the session (unreadable reason: "
		    "%s)", tunnel_tag(&s->tun), s->tun.peer_str, err);
	else
		log_notice("%s%s closed the session: %s%s%s",
		    tunnel_tag(&s->tun), s->tun.peer_str,
		    frame_close_reason_name(reason), msg[0] ? ": " : "", msg);
	tunnel_end(&s->tun);
	stream_close(s->t);
	return -1;
}

/* Server: the client asks for a new epoch (tests/ATTACKS.md row 21). */
static int
ctlmsg_rx_rekey(struct session *s, const uint8_t *body, size_t len)
{
	uint8_t ack[UDP_REKEY_LEN];
	char err[200];

	if (udp_chan_rekey_answer(s->chan, body, len, ack, session_now(), err,
	    sizeof(err)) != 0) {
		log_warnx("%sprotocol error from %s: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad REKEY");
		return -1;
	}
	(void)stream_send(s->t, WIRE_REKEY_ACK, 0, ack, sizeof(ack));
	s->rekey_ms = session_now();
	log_info("%srekey: epoch %llu keys ready", tunnel_tag(&s->tun),
	    (unsigned long long)pkt_load64(ack));
	return 0;
}

/* Client: the server's share; send under the new epoch at once. */
static int
ctlmsg_rx_rekey_ack(struct session *s, const uint8_t *body, size_t len)
{
	char err[200];

	if (udp_chan_rekey_finish(s->chan, body, len, session_now(), err,
	    sizeof(err)) != 0) {
		log_warnx("%sprotocol error from %s: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad REKEY_ACK");
		return -1;
	}
	send_udp_dgram(s, WIRE_INNER_KEEPALIVE, 0);
	s->rekey_ms = session_now();
	log_info("%srekey: sending under epoch %llu", tunnel_tag(&s->tun),
	    (unsigned long long)pkt_load64(body));
	return 0;
}

int
ctlmsg_framecb(void *arg, const struct frame_hdr *h, uint8_t *body)
{
	struct session *s = arg;

	/* In UDP mode liveness is the datagrams' business alone. */
	if (!s->udp || s->chan == NULL)
		timers_on_rx(&s->timers, session_now());
	switch (h->type) {
	case WIRE_DATA:
		if (s->udp) {
			/* Packets come in datagrams in UDP mode, never here. */
			break;
		}
		receive_deliver(s, body, h->len, h->flags & WIRE_FLAG_ZLIB,
		    h->flags & WIRE_FLAG_GSO);
		return 0;
	case WIRE_KEEPALIVE:
		return 0;
	case WIRE_CLOSE:
		return ctlmsg_rx_close(s, body, h->len);
	case WIRE_HELLO:
		if (s->tun.role == TUNNEL_SERVER &&
		    s->tun.state == TUNNEL_HELLO)
			return ctlmsg_rx_hello(s, h, body);
		break;
	case WIRE_HELLO_ACK:
		if (s->tun.role == TUNNEL_CLIENT &&
		    (s->tun.state == TUNNEL_HELLO || s->redialing))
			return ctlmsg_rx_hello_ack(s, h, body);
		break;
	case WIRE_REKEY:
		if (s->tun.role == TUNNEL_SERVER && s->chan != NULL)
			return ctlmsg_rx_rekey(s, body, h->len);
		break;
	case WIRE_REKEY_ACK:
		if (s->tun.role == TUNNEL_CLIENT && s->chan != NULL)
			return ctlmsg_rx_rekey_ack(s, body, h->len);
		break;
	default:
		break;
	}
	log_warnx("%sprotocol error from %s: unexpected %s frame",
	    tunnel_tag(&s->tun), s->tun.peer_str, frame_type_name(h->type));
	session_close(s, WIRE_CLOSE_PROTOCOL, "unexpected frame");
	return -1;
}

/* TLS is up: check what was negotiated and who the peer is. */
void
ctlmsg_connectedcb(void *arg)
{
	struct session *s = arg;
	SSL *ssl = stream_ssl(s->t);
	char err[160];

	if (handshake_verify(ssl, err, sizeof(err)) != 0) {
		log_warnx("%srefusing %s: %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "handshake check failed");
		return;
	}
	if (s->redialing) {
		/* Client: the same key let us in again; ask for our session. */
		reattach_conn_timeout(s);
		/* Unanswered, it is given up by reattach_tick's deadline. */
		(void)reattach_send_hello(s);
		return;
	}
	if (s->tun.role == TUNNEL_SERVER) {
		s->tun.cs = handshake_matched_session(ssl);
		if (s->tun.cs == NULL) {
			session_close(s, WIRE_CLOSE_REFUSED, NULL);
			return;
		}
	}
	s->tun.authenticated = true;
	s->tun.peer_key = handshake_peer_key_index(ssl);
	s->tun.handshake_ms = session_now();
	/* From here on a refusal reaches the peer as a CLOSE frame. */
	s->tun.state = TUNNEL_HELLO;
	timers_set_phase(&s->timers, TIMERS_HELLO, session_now());
	session_note_addrs(s);
	reattach_conn_timeout(s);
	log_info("%sauthenticated %s", tunnel_tag(&s->tun), s->tun.peer_str);
	if (s->tun.peer_key == CONF_PEER_OLD_KEY)
		log_notice("%s%s authenticated with old_key, the shared key: "
		    "once both ends have key pairs, remove old_key",
		    tunnel_tag(&s->tun), s->tun.peer_str);
	if (s->tun.role == TUNNEL_CLIENT) {
		/* Our receiver id says "this host" to a server that can
		 * check it (handshake.h: connections back to this host). */
		const uint8_t *hk = handshake_ssl_host_key(ssl);
		uint32_t tag;

		if (hk != NULL && handshake_self_tag(ssl, hk, &tag) == 0)
			s->my_rid = tag;
		if (ctlmsg_send_hello(s, WIRE_HELLO, 0) != 0)
			session_close(s, WIRE_CLOSE_ERROR, "cannot send HELLO");
	}
}
