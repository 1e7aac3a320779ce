/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One tunnel between two peers: the TLS stream, the device, the pipeline
 * between them (compression, framing) and the session's timers.  The
 * server and the client make sessions; both sides then run the same code,
 * apart from who sends HELLO and who answers with HELLO_ACK.
 *
 * Life of a session:
 *   TLS      TCP connected, TLS 1.3 PSK handshake running
 *   HELLO    authenticated; client sent HELLO, waits for HELLO_ACK;
 *            server waits for HELLO
 *   SETUP    device created and configured, `up` commands running; no
 *            packet is forwarded yet
 *   UP       forwarding
 *   CLOSING  ended: device removed, `down` commands running, TLS closing
 * The owner is told when the session is up and when it is gone; it frees
 * the session from the gone callback.
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

enum session_role { SESSION_SERVER, SESSION_CLIENT };

enum session_state {
	SESSION_TLS,
	SESSION_HELLO,
	SESSION_SETUP,
	SESSION_UP,
	SESSION_CLOSING,
};

struct session;

struct session_cbs {
	/*
	 * Server: the peer proved it holds the key of session cs.  Return 0
	 * to go on, or -1 with a CLOSE reason (multi = deny, ...).
	 */
	int (*authenticated)(struct session *s, const struct conf_session *cs,
	    uint8_t *reason, const char **msg, void *arg);
	/* The tunnel is up: device ready, up commands done. */
	void (*up)(struct session *s, void *arg);
	/* Everything is over (down commands finished); free it now. */
	void (*gone)(struct session *s, void *arg);
};

/*
 * Make a session over bev (an SSL bufferevent in CONNECTING or ACCEPTING
 * state, BEV_OPT_CLOSE_ON_FREE).  Client sessions know their settings
 * from the start (cs); server sessions learn them from the handshake.
 * keep: a client's device kept across reconnects (persist = "keep"), or
 * NULL; the session uses it if it is open, fills it otherwise, and never
 * closes it.
 */
struct session *session_new(struct event_base *base, enum session_role role,
    struct bufferevent *bev, const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_session *cs, struct dev *keep,
    const struct session_cbs *cbs, void *arg);
void session_free(struct session *s);

/*
 * Lines about connections that have not authenticated (handshake
 * failures, deadlines) go through rl, which the server shares between
 * all of them, so that a flood cannot flood the log.
 */
void session_set_preauth_ratelimit(struct session *s,
    struct log_ratelimit *rl);

/* End the session: tell the peer why (CLOSE), then tear down. */
void session_close(struct session *s, uint8_t reason, const char *msg);

enum session_state session_state(const struct session *s);
/* The configured session, once known (server: after the handshake). */
const struct conf_session *session_conf(const struct session *s);
/* "198.51.100.2:40312" or "[2001:db8:1::2]:40312". */
const char *session_peer(const struct session *s);
/* True once the peer has authenticated. */
bool session_authenticated(const struct session *s);
const struct session_counters *session_counters(const struct session *s);

struct compress_stats;
struct seal_stats;

/* What the status command shows beyond the counters (control.c). */
struct session_info {
	bool connected;		/* the TCP connection is established */
	bool udp;		/* packets in datagrams (as agreed so far) */
	const char *cipher;	/* UDP mode's AEAD once agreed, else NULL */
	const char *device;	/* NULL until the device is ready */
	uint64_t up_since_ms;	/* util_now_ms() clock; 0 = not up */
	uint64_t handshake_ms;	/* TLS handshake done; 0 = not yet */
	uint64_t rekey_ms;	/* last UDP epoch or TLS KeyUpdate; 0 = none */
	uint64_t rekeys;
	int compress_level;	/* 0 = off */
	const struct compress_stats *z;	/* NULL when off */
	const struct seal_stats *seal;	/* NULL without a UDP channel */
};
/* Fill info; its pointers are valid until the loop runs again. */
void session_info(const struct session *s, struct session_info *info);

/*
 * UDP mode: the socket datagrams go out of (the server's shared one);
 * a client's session makes its own.
 */
void session_set_udp(struct session *s, struct udp_sock *u);
/* The receiver id datagrams to this session carry (0 if none). */
uint32_t session_udp_rid(const struct session *s);
/* A datagram for this session (opened in place). */
void session_udp_input(struct session *s, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

/* The table server.c and client.c drive a native session through. */
extern const struct tunnel_kind session_kind;
/* The session's tunnel: what server.c and client.c hold and drive. */
struct tunnel *session_tunnel(struct session *s);

#endif
