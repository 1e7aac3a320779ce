/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UDP mode: a session outlives its TLS control connection.  Packets
 * travel in datagrams that roam with the peer, so a NAT rebinding or a
 * client that changed networks breaks only the TCP connection; without
 * this the next rekey would find it dead and end the session, device,
 * up and down commands and all.  Instead:
 *
 *   detach    the connection ended while the session is up and its data
 *             channel works: forwarding goes on, the server waits up to
 *             `timeout` seconds for the client to come back, the client
 *             dials again at once (then with backoff);
 *   redial    client: a new TLS connection, authenticated with the same
 *             key, then a HELLO with WIRE_FLAG_REATTACH and the token
 *             both ends exported from the connection that was lost;
 *   adopt     server: the live session with that token takes the new
 *             connection over, answers HELLO_ACK with the same flag, and
 *             the session that the connection had started is dropped;
 *   attached  both ends derive later epochs from the new connection and
 *             take the next token from it; rekeying goes on there.
 * No device is made, no command runs, no datagram is lost on the way.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "session-private.h"

/* How long a client's new connection may take to be re-attached. */
#define REATTACH_REDIAL_MS (WIRE_HANDSHAKE_DEADLINE_SECONDS * 1000)

void
reattach_token_export(struct session *s)
{
	SSL *ssl = stream_ssl(s->t);

	s->token_ok = s->udp && ssl != NULL &&
	    SSL_export_keying_material(ssl, s->token, sizeof(s->token),
	    WIRE_REATTACH_LABEL, strlen(WIRE_REATTACH_LABEL), NULL, 0, 0) == 1;
}

void
reattach_conn_timeout(struct session *s)
{
	unsigned int ms = (unsigned int)s->tun.cs->timeout * 1000;
	int fd = stream_fd(s->t);

	/*
	 * Data the peer does not acknowledge for `timeout` seconds ends the
	 * connection, instead of the kernel's quarter of an hour of
	 * retransmissions: a black-holed path is noticed in time.
	 */
	if (fd >= 0 && ms > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
		    sizeof(ms));
}

/* The connection is gone; the session goes on without one for now. */
static void
reattach_drop_stream(struct session *s)
{
	stream_free(s->t);
	s->t = NULL;
	s->transport_done = true;
	s->redialing = false;
}

/*
 * Which ends leave the peer's session alive?  A path that failed: the
 * client is told so by a reset (a NAT that forgot its mapping) or a
 * timeout (its own address is gone); the server hears nothing of either
 * and keeps the old connection until the client is back, unless its own
 * data went unacknowledged.  A peer that closed its socket, cleanly or
 * not (stopped, killed, restarted), has no session left to re-attach.
 */
static bool
reattach_survivable(const struct session *s, enum stream_end end)
{
	if (s->tun.role == TUNNEL_SERVER)
		return end == STREAM_TIMEOUT;
	/* A new connection that fails is only one more try. */
	return s->redialing || end == STREAM_TIMEOUT || end == STREAM_PATH;
}

bool
reattach_detach(struct session *s, enum stream_end end, const char *why)
{
	bool again = s->tun.detached;

	if (!s->udp || s->chan == NULL || s->tun.state != TUNNEL_UP ||
	    (!s->token_ok && !again) || !reattach_survivable(s, end))
		return false;
	/* A server that answered TLS and then hung up without a word does
	 * not know re-attaching: start afresh. */
	if (s->redialing && s->redial_connected) {
		log_notice("%s%s hung up on the re-attach: %s; starting "
		    "afresh", tunnel_tag(&s->tun), s->tun.peer_str, why);
		return false;
	}
	reattach_drop_stream(s);
	if (!again) {
		s->tun.detached = true;
		s->tun.detached_ms = session_now();
		log_notice("%scontrol connection with %s lost: %s; the data "
		    "channel goes on, %s", tunnel_tag(&s->tun),
		    s->tun.peer_str, why, s->tun.role == TUNNEL_CLIENT ?
		    "dialing again" : "waiting for the client to come back");
	} else {
		log_info("%sno new control connection to %s: %s",
		    tunnel_tag(&s->tun), s->tun.peer_str, why);
	}
	if (s->tun.cbs->detached != NULL)
		s->tun.cbs->detached(&s->tun, s->tun.arg);
	return true;
}

void
session_redial(struct session *s, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen)
{
	stream_free(s->t);
	s->t = stream_new(bev, &s->scratch->stage, &session_transport_cbs, s);
	if (s->t == NULL) {
		bufferevent_free(bev);
		/* As if it failed at once: the client tries again later. */
		s->transport_done = true;
		if (s->tun.cbs->detached != NULL)
			s->tun.cbs->detached(&s->tun, s->tun.arg);
		return;
	}
	s->transport_done = false;
	s->redialing = true;
	s->redial_connected = false;
	s->redial_ms = session_now();
	tunnel_set_peer(&s->tun, peer, peerlen);
}

void
reattach_send_hello(struct session *s)
{
	uint8_t body[WIRE_HELLO_LEN + WIRE_REATTACH_TOKEN_LEN];
	struct frame_hello h;

	s->redial_connected = true;
	ctlmsg_hello_fill(s, &h);
	frame_hello_encode(&h, body);
	memcpy(body + WIRE_HELLO_LEN, s->token, WIRE_REATTACH_TOKEN_LEN);
	(void)stream_send(s->t, WIRE_HELLO, WIRE_FLAG_REATTACH, body,
	    sizeof(body));
}

bool
session_reattach_match(const struct session *s, const uint8_t *token,
    uint32_t peer_rid)
{
	return s->udp && s->chan != NULL && s->token_ok &&
	    s->tun.state == TUNNEL_UP && s->peer_rid == peer_rid &&
	    CRYPTO_memcmp(s->token, token, WIRE_REATTACH_TOKEN_LEN) == 0;
}

/* Both ends now on the new connection: keys, token, deadlines. */
static void
reattach_attached(struct session *s)
{
	udp_chan_reattach(s->chan, stream_ssl(s->t));
	reattach_token_export(s);
	reattach_conn_timeout(s);
	session_note_addrs(s);
	s->tun.detached = false;
	s->tun.detached_ms = 0;
	s->redialing = false;
	s->ctl_tx_ms = session_now();
}

int
reattach_adopt(struct session *fresh, const struct frame_hello *h,
    const uint8_t *token)
{
	struct tunnel *t;
	struct session *live;

	t = fresh->tun.cbs->reattach != NULL ? fresh->tun.cbs->reattach(
	    &fresh->tun, fresh->tun.cs, token, h->udp_receiver_id,
	    fresh->tun.arg) : NULL;
	if (t == NULL || t->kind != &session_kind) {
		log_notice("%s%s asks to re-attach to a session that is not "
		    "here (any more)", tunnel_tag(&fresh->tun),
		    fresh->tun.peer_str);
		session_close(fresh, WIRE_CLOSE_REFUSED, "no session to "
		    "re-attach to");
		return -1;
	}
	live = t->owner;
	/* The old connection, if we had not noticed yet that it is dead. */
	stream_free(live->t);
	live->t = fresh->t;
	stream_set_arg(live->t, live);
	live->transport_done = false;
	fresh->t = NULL;
	fresh->transport_done = true;
	tunnel_set_peer(&live->tun, (struct sockaddr *)&fresh->tun.peer,
	    fresh->tun.peerlen);
	live->tun.handshake_ms = fresh->tun.handshake_ms;
	if (ctlmsg_send_hello(live, WIRE_HELLO_ACK, WIRE_FLAG_REATTACH) != 0) {
		session_close(live, WIRE_CLOSE_ERROR, "cannot send HELLO_ACK");
	} else {
		reattach_attached(live);
		log_notice("%s%s re-attached: the session goes on over its new "
		    "control connection", tunnel_tag(&live->tun),
		    live->tun.peer_str);
	}
	/* The session the new connection started has nothing to undo. */
	tunnel_end(&fresh->tun);
	session_maybe_gone(fresh);
	return 0;
}

int
reattach_rx_hello_ack(struct session *s, const struct frame_hdr *fh,
    const struct frame_hello *h)
{
	struct frame_hello mine;

	ctlmsg_hello_fill(s, &mine);
	if (!(fh->flags & WIRE_FLAG_REATTACH) ||
	    h->transport != WIRE_TRANSPORT_UDP || h->type != mine.type ||
	    h->compress != mine.compress || h->mtu != mine.mtu ||
	    h->cipher != mine.cipher || h->udp_receiver_id != s->peer_rid) {
		log_warnx("%s%s answered the re-attach with other settings",
		    tunnel_tag(&s->tun), s->tun.peer_str);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad re-attach");
		return -1;
	}
	reattach_attached(s);
	log_notice("%sre-attached to %s: the session goes on over a new "
	    "control connection", tunnel_tag(&s->tun), s->tun.peer_str);
	if (s->tun.cbs->up != NULL)
		s->tun.cbs->up(&s->tun, s->tun.arg);
	return 0;
}

void
reattach_tick(struct session *s)
{
	uint64_t now = session_now();

	if (s->tun.state != TUNNEL_UP || !s->udp)
		return;
	if (s->tun.role == TUNNEL_SERVER && s->tun.detached &&
	    now - s->tun.detached_ms >= (uint64_t)s->tun.cs->timeout * 1000) {
		log_notice("%s%s did not come back within %d s", tunnel_tag(
		    &s->tun), s->tun.peer_str, s->tun.cs->timeout);
		session_close(s, WIRE_CLOSE_TIMEOUT, "not re-attached");
		return;
	}
	if (s->tun.role != TUNNEL_CLIENT)
		return;
	if (s->redialing && now - s->redial_ms >= REATTACH_REDIAL_MS) {
		s->redial_connected = false;
		(void)reattach_detach(s, STREAM_TIMEOUT, "no answer in time");
		return;
	}
	/*
	 * The client says something on the connection every keepalive
	 * interval, so that a connection a NAT has forgotten is found dead
	 * now, not at the next rekey.
	 */
	if (s->t != NULL && !s->tun.detached && s->tun.cs->keepalive > 0 &&
	    now - s->ctl_tx_ms >= (uint64_t)s->tun.cs->keepalive * 1000) {
		(void)stream_send(s->t, WIRE_KEEPALIVE, 0, NULL, 0);
		s->ctl_tx_ms = now;
	}
}
