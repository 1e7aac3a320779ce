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
 * Life of a legacy session (enum tunnel_state):
 *   HANDSHAKE  the 50-byte greeting/HOST/CHAL/FLAGS lines on TCP
 *   HELLO      UDP mode: both sides send their UDP port on the TCP
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

struct vtunsess;
struct vtun_lib;

/*
 * Take over fd (a connected or connecting TCP socket, non-blocking), as
 * st says (its cbs->lookup finds the server's session by HOST).  The
 * server greets at once; the client waits for the greeting.  lib: the
 * OpenSSL context with the legacy provider, owned by the caller.  It is
 * freed through its kind (tunnel.h), once its cbs->gone says it is over.
 */
struct vtunsess *vtunsess_new(struct event_base *base,
    const struct tunnel_start *st, int fd, struct vtun_lib *lib);

/* End the session: a close frame to the peer, then tear down. */
void vtunsess_close(struct vtunsess *l, const char *why);


/* The table server.c and client.c drive a vtund session through. */
extern const struct tunnel_kind vtunsess_kind;
/* The session's tunnel: what server.c and client.c hold and drive. */
struct tunnel *vtunsess_tunnel(struct vtunsess *l);

#endif
