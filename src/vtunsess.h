/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One legacy = "vtun" session: the vtund 3.0.4 protocol (vtun.h) run in
 * the daemon's event loop, as client or server, over TCP or UDP.  It is
 * the insecure twin of session.c and deliberately separate from it, so
 * that nothing of vtund reaches the native data path.  The device,
 * addresses, routes and up/down commands are tunnel.c's, as for native
 * sessions: the device is configured and the up commands have finished
 * before the first packet is forwarded.
 *
 * Life of a legacy session:
 *   HANDSHAKE  the 50-byte greeting/HOST/CHAL/FLAGS lines on TCP
 *   PORTS      UDP mode: both sides send their UDP port on the TCP
 *              connection, which then closes
 *   SETUP      device and up commands; echo requests are answered,
 *              packets dropped
 *   UP         forwarding, echo keepalives, dead-peer timeout
 *   CLOSING    a close frame sent, device removed, down commands running
 */
#ifndef TAPLINE_VTUNSESS_H
#define TAPLINE_VTUNSESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "conf.h"
#include "dev.h"
#include "log.h"
#include "tunnel.h"

/* A server tells a vtund client from a TLS client by waiting this long
 * for a first byte: TLS clients speak first, vtund clients never do. */
#define VTUNSESS_PEEK_MS 1000

enum vtunsess_role { VTUNSESS_SERVER, VTUNSESS_CLIENT };
enum vtunsess_state {
	VTUNSESS_HANDSHAKE,
	VTUNSESS_PORTS,
	VTUNSESS_SETUP,
	VTUNSESS_UP,
	VTUNSESS_CLOSING,
};

struct vtunsess;
struct vtun_lib;
struct control_session;

struct vtunsess_cbs {
	/* Server: the legacy session named by HOST, or NULL (unknown, or
	 * not a legacy session: both fail like a wrong password). */
	const struct conf_session *(*lookup)(const char *name, void *arg);
	/* Server: the password was right; 0 to go on, -1 to refuse
	 * (multi = deny, stopping, ...). */
	int (*authenticated)(struct vtunsess *l, const struct conf_session *cs,
	    void *arg);
	/* The tunnel is up: device ready, up commands done. */
	void (*up)(struct vtunsess *l, void *arg);
	/* Everything is over (down commands finished); free it now. */
	void (*gone)(struct vtunsess *l, void *arg);
};

/*
 * Take over fd (a connected or connecting TCP socket, non-blocking).
 * The server greets at once; the client waits for the greeting.  keep:
 * as in session_new (persist = "keep").  lib: the OpenSSL context with
 * the legacy provider, owned by the caller.
 */
struct vtunsess *vtunsess_new(struct event_base *base, enum vtunsess_role role,
    int fd, const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_session *cs, struct dev *keep, struct vtun_lib *lib,
    const struct vtunsess_cbs *cbs, void *arg);
void vtunsess_free(struct vtunsess *l);
/* Lines about peers that have not authenticated go through rl. */
void vtunsess_set_preauth_ratelimit(struct vtunsess *l, struct log_ratelimit *rl);

/* End the session: a close frame to the peer, then tear down. */
void vtunsess_close(struct vtunsess *l, const char *why);

const char *vtunsess_peer(const struct vtunsess *l);

/* The table server.c and client.c drive a vtund session through. */
extern const struct tunnel_kind vtunsess_kind;
/* The session's tunnel: what server.c and client.c hold and drive. */
struct tunnel *vtunsess_tunnel(struct vtunsess *l);

#endif
