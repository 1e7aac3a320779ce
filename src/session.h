/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One tunnel between two peers: the TLS stream, the device, the pipeline
 * between them (compression, framing) and the session's timers.  The
 * server and the client make sessions; both sides then run the same code,
 * apart from who sends HELLO and who answers with HELLO_ACK.
 *
 * Life of a session (enum tunnel_state):
 *   HANDSHAKE  TCP connected, TLS 1.3 PSK handshake running
 *   HELLO      authenticated; client sent HELLO, waits for HELLO_ACK;
 *              server waits for HELLO
 *   SETUP      device created and configured, `up` commands running; no
 *              packet is forwarded yet
 *   UP         forwarding
 *   CLOSING    ended: device removed, `down` commands running, TLS closing
 * The owner is told when the session is up and when it is gone (struct
 * tunnel_cbs); it frees the session from the gone callback.
 */
#ifndef TAPLINE_SESSION_H
#define TAPLINE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>

#include "conf.h"
#include "dev.h"
#include "log.h"
#include "tunnel.h"
#include "udpsock.h"

struct session;

/*
 * Make a session over bev (an SSL bufferevent in CONNECTING or ACCEPTING
 * state, BEV_OPT_CLOSE_ON_FREE), as st says.  It is freed through its
 * kind (tunnel.h), once its cbs->gone says it is over.
 */
struct session *session_new(struct event_base *base,
    const struct tunnel_start *st, struct bufferevent *bev);

/* End the session: tell the peer why (CLOSE), then tear down. */
void session_close(struct session *s, uint8_t reason, const char *msg);

/* True once the peer has authenticated. */
bool session_authenticated(const struct session *s);
/*
 * UDP mode: the socket datagrams go out of (the server's shared one);
 * a client's session makes its own.
 */
void session_set_udp(struct session *s, struct udp_sock *u);
/* Client: send datagrams from the control connection's own source
 * address (the user chose it), not from whichever the route picks. */
void session_pin_source(struct session *s);
/* The receiver id datagrams to this session carry (0 if none). */
uint32_t session_udp_rid(const struct session *s);
/* The receiver id it drew, UDP or not; a server session's never
 * changes (a client's becomes its host tag once authenticated). */
uint32_t session_rid(const struct session *s);
/* A datagram for this session (opened in place). */
void session_udp_input(struct session *s, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

/*
 * Client, UDP mode: after cbs->detached, a new connection (bev, as for
 * session_new) to peer, to re-attach the live session over; its failure
 * comes back as cbs->detached again, its success as cbs->up.
 */
void session_redial(struct session *s, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen);
/* Server: is s the live session this re-attach token and receiver id
 * belong to? */
bool session_reattach_match(const struct session *s, const uint8_t *token,
    uint32_t peer_rid);

/* The table server.c and client.c drive a native session through. */
extern const struct tunnel_kind session_kind;
/* The session's tunnel: what server.c and client.c hold and drive. */
struct tunnel *session_tunnel(struct session *s);

#endif
