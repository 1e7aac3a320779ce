/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every kind of session shares, native (session.c) and vtund
 * (vtunsess.c): who the peer is and what it moved, the device, made
 * afresh or the client's kept one taken over, its up and down commands,
 * and the end, once the session is over and no command runs any more.
 * Each kind keeps its own protocol, packet paths and timers, and is told
 * through a small ops table when its up commands are done, when its down
 * commands are, and when it may go.
 */
#ifndef TAPLINE_TUNNEL_H
#define TAPLINE_TUNNEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "conf.h"
#include "dev.h"
#include "log.h"
#include "script.h"

/* A session's counters, of either kind (the status command shows them). */
struct session_counters {
	uint64_t rx_packets, rx_bytes;	/* written to the device */
	uint64_t tx_packets, tx_bytes;	/* read from the device */
	uint64_t tx_bytes_wire;		/* DATA bodies sent (compressed or not) */
	uint64_t drop_not_ready;	/* DATA before the device was ready */
	uint64_t drop_bad_packet;	/* failed the inner packet check */
	uint64_t drop_inflate;		/* bomb, corrupt, or zlib flag unasked */
	uint64_t drop_dev_write;	/* the device refused the write */
	uint64_t dev_read_errors;
	uint64_t drop_no_addr;		/* UDP: peer's address not known yet */
	uint64_t drop_udp_send;		/* UDP: sendto failed (EMSGSIZE, ...) */
	uint64_t drop_tx_limit;		/* UDP: epoch used up, rekey pending */
	uint64_t drop_shaped;		/* UDP: over the incoming speed limit */
	uint64_t drop_oversize;		/* read longer than the session's MTU */
	uint64_t keepalives_sent;
	uint64_t tx_super;		/* offload super-packets read */
	uint64_t rx_super;		/* super-packets written whole */
};

struct tunnel_kind;

/* What a kind of session is told by its tunnel. */
struct tunnel_ops {
	/* The up commands are done (result 0) or failed: forward, or end. */
	void (*up_done)(void *owner, int result);
	/* The down commands are done: the owner may now be gone. */
	void (*down_done)(void *owner);
	/* Everything is over: free the owner (called from the loop). */
	void (*gone)(void *owner);
};

struct tunnel {
	struct event_base *base;
	const struct tunnel_kind *kind;	/* how server and client drive it */
	const struct tunnel_ops *ops;
	void *owner;
	const struct conf_session *cs;	/* once the peer said which (server) */
	bool authenticated;
	bool was_up;
	uint64_t up_since_ms;
	uint64_t handshake_ms;	/* for status: when the handshake ended */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[INET6_ADDRSTRLEN + 16];	/* "198.51.100.2:40312" */
	struct session_counters c;
	struct log_ratelimit rl_drop;	/* per-packet drop lines */
	struct log_ratelimit *rl_preauth;	/* the server's, shared */
	struct dev own_dev;	/* the device, unless the client keeps it */
	struct dev *dev;	/* &own_dev or the client's kept device */
	bool dev_ready;		/* open and configured (by us, or kept) */
	bool dev_fresh;		/* configured by this session: run up/down */
	struct script_run *script;	/* the up or down commands running */
	bool down_running;
	struct event *reap;
	/* Both ends as the kernel sees them, for %a %p %A %P. */
	char peer_host[INET6_ADDRSTRLEN];
	char peer_port[8];
	char local_host[INET6_ADDRSTRLEN];
	char local_port[8];
};

/*
 * keep: the client's device kept across reconnects (persist = "keep"),
 * used when it is open and filled otherwise, never closed here.  0, or -1
 * when out of memory.
 */
int tunnel_init(struct tunnel *t, struct event_base *base, struct dev *keep,
    const struct tunnel_kind *kind, const struct tunnel_ops *ops,
    void *owner);
/* Stops a command still running, frees the reap event. */
void tunnel_free(struct tunnel *t);

/*
 * The device of cs with this type, queues and offloads, configured with
 * mtu (addresses, routes, bridge, link up): a kept device of the same
 * type is taken over and only gets the MTU.  0, or -1 with the reason in
 * err; a device that could not be set up is closed, never kept.
 */
int tunnel_dev_open(struct tunnel *t, const struct conf_session *cs,
    enum dev_type type, int mtu, int queues, bool offload, char *err,
    size_t errlen);

/*
 * Run cs's up commands on a fresh device, or report them done at once
 * (ops->up_done).  -1 if they cannot be started.
 */
int tunnel_up(struct tunnel *t, const struct conf_session *cs);

/* Stop an up or down command that is still running. */
void tunnel_cancel(struct tunnel *t);

/*
 * Give the device back: close it (unless the client keeps it), then run
 * cs's down commands if the device was ours; ops->down_done follows.
 */
void tunnel_release(struct tunnel *t, const struct conf_session *cs);

/* Once over and no command runs: ops->gone from the loop. */
void tunnel_maybe_gone(struct tunnel *t, bool over);

/*
 * A kind of session (native in session.c, vtund in vtunsess.c) as the
 * server and the client drive it: each exports one const table, and they
 * hold the session's struct tunnel and call through its kind without
 * knowing which it is.  What both kinds keep alike (authenticated,
 * was_up, cs, peer_str, the counters) they read from the tunnel itself.
 */
struct control_session;
struct tunnel_kind {
	bool (*closing)(const struct tunnel *t);
	bool (*up)(const struct tunnel *t);	/* forwarding now */
	/* End it; reason is tapline's CLOSE reason, msg the words for both. */
	void (*close)(struct tunnel *t, uint8_t reason, const char *msg);
	/* Its line in `tapline status`. */
	void (*fill)(struct control_session *e, const struct tunnel *t,
	    uint64_t now_ms);
	void (*free)(struct tunnel *t);
};

/* The configured session, once the peer has proven it (else NULL). */
static inline const struct conf_session *
tunnel_conf(const struct tunnel *t)
{
	return t->authenticated ? t->cs : NULL;
}

#endif
