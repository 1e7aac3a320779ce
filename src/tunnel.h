/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every kind of session shares, native (session.c) and vtund
 * (vtunsess.c): who the peer is and what it moved, the device, made
 * afresh or the client's kept one taken over, its up and down commands,
 * and the end, once the session is over and no command runs any more.
 * Each kind keeps its own protocol, packet paths and timers, and is told
 * through its kind's table when its up commands are done, when its down
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

struct scratch;

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
	uint64_t drop_too_big;		/* UDP: larger than the path carries,
					 * answered with ICMP */
	uint64_t keepalives_sent;
	uint64_t tx_super;		/* offload super-packets read */
	uint64_t rx_super;		/* super-packets written whole */
};

struct tunnel;
struct tunnel_kind;
struct tunnel_devjob;
struct tunnel_closejob;
struct control_session;
struct worker_pool;

enum tunnel_role { TUNNEL_SERVER, TUNNEL_CLIENT };

/* The steps a session of either kind goes through, in order. */
enum tunnel_state {
	TUNNEL_HANDSHAKE,	/* TLS, or vtund's challenge and password */
	TUNNEL_HELLO,		/* agreeing: HELLO, or vtund's UDP ports */
	TUNNEL_SETUP,		/* device and up commands */
	TUNNEL_UP,		/* forwarding */
	TUNNEL_CLOSING,
};

/* What the server or the client is told of a session of either kind. */
struct tunnel_cbs {
	/*
	 * Server, vtund sessions: the legacy session named by the client's
	 * HOST, or NULL (unknown, or not a legacy session: both fail like
	 * a wrong password).  Native sessions find theirs by PSK identity.
	 */
	const struct conf_session *(*lookup)(const char *name, void *arg);
	/*
	 * Server: the peer proved it holds the key (or password) of cs.
	 * Return 0 to go on, or -1 with a CLOSE reason and the words for
	 * both ends (multi = deny, wrong kind of session, stopping, ...).
	 */
	int (*authenticated)(struct tunnel *t, const struct conf_session *cs,
	    uint8_t *reason, const char **msg, void *arg);
	/*
	 * Server, native UDP sessions: the live session of cs whose
	 * re-attach token and peer receiver id these are, to take over
	 * t's new connection; NULL if there is none (or it may not).
	 */
	struct tunnel *(*reattach)(struct tunnel *t,
	    const struct conf_session *cs, const uint8_t *token,
	    uint32_t peer_rid, void *arg);
	/* The tunnel is up: device ready, up commands done (and, for a
	 * client, again each time it re-attached). */
	void (*up)(struct tunnel *t, void *arg);
	/* Client, native UDP sessions: the control connection is lost
	 * but the session goes on; dial again (session_redial). */
	void (*detached)(struct tunnel *t, void *arg);
	/* Everything is over (down commands finished); free it now. */
	void (*gone)(struct tunnel *t, void *arg);
};

/* How a session is started, whichever kind it is. */
struct tunnel_start {
	enum tunnel_role role;
	const struct sockaddr *peer;
	socklen_t peerlen;
	/* The client's session from the start; the server learns it. */
	const struct conf_session *cs;
	/* The client's device kept across reconnects (persist = "keep"),
	 * used when open and filled otherwise, never closed here. */
	struct dev *keep;
	/* Server: lines about peers that have not authenticated
	 * (handshake failures, deadlines) share this limit, so that a
	 * flood cannot flood the log. */
	struct log_ratelimit *rl_preauth;
	/* Where the device is made and removed, off the loop; NULL (unit
	 * tests): on the caller's thread, at once. */
	struct worker_pool *pool;
	/* The loop's packet buffers (scratch.h), which its sessions share. */
	struct scratch *scratch;
	const struct tunnel_cbs *cbs;
	void *arg;
};

struct tunnel {
	struct event_base *base;
	const struct tunnel_kind *kind;	/* its protocol's table */
	void *owner;			/* the session of that kind */
	enum tunnel_role role;
	enum tunnel_state state;
	const struct tunnel_cbs *cbs;
	void *arg;
	const struct conf_session *cs;	/* once the peer said which (server) */
	bool authenticated;
	bool was_up;
	bool detached;		/* UDP: up without a control connection */
	uint64_t detached_ms;	/* ... since then (util_now_ms clock) */
	uint64_t up_since_ms;
	uint64_t handshake_ms;	/* for status: when the handshake ended */
	/* Key pairs: which of cs's peer keys authenticated; -1 = none. */
	int peer_key;
	/* It ended in a TLS handshake that failed (wrong key?). */
	bool auth_failed;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[INET6_ADDRSTRLEN + 16];	/* "198.51.100.2:40312" */
	struct session_counters c;
	/* For status: why it ended, as the log said it ("" = not known). */
	char end_why[160];
	struct log_ratelimit rl_drop;	/* per-packet drop lines */
	struct log_ratelimit *rl_preauth;	/* the server's, shared */
	struct dev own_dev;	/* the device, unless the client keeps it */
	struct dev *dev;	/* &own_dev or the client's kept device */
	bool dev_ready;		/* open and configured (by us, or kept) */
	bool dev_fresh;		/* configured by this session: run up/down */
	struct worker_pool *pool;
	/* The device being made on the pool, until kind->dev_done. */
	struct tunnel_devjob *devjob;
	/* The device being removed on the pool: the down commands wait. */
	struct tunnel_closejob *closejob;
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
 * Start the part of a session every kind shares, for owner, a session of
 * this kind, as st says.  0, or -1 when out of memory.
 */
int tunnel_init(struct tunnel *t, struct event_base *base,
    const struct tunnel_kind *kind, void *owner,
    const struct tunnel_start *st);
/*
 * A line about a peer that has not authenticated yet: through the
 * server's shared limit, if it has one (lines after that go as usual).
 */
void tunnel_preauth_log(const struct tunnel *t, int level, const char *fmt,
    ...) LOG_PRINTF(3, 4);

/*
 * "closing the session with PEER: why", a notice for a session that was
 * up, a line of detail for one that had only authenticated, nothing
 * before that (the handshake logs its own failures).
 */
void tunnel_log_close(struct tunnel *t, const char *why);

/* Who the peer is now (its control connection's address). */
void tunnel_set_peer(struct tunnel *t, const struct sockaddr *peer,
    socklen_t peerlen);

/*
 * For the owner's free: ends it at once if it was not closing yet
 * (out of memory, exit), stops a command still running, frees the reap
 * event.
 */
void tunnel_free(struct tunnel *t);

/* Mark it closing and tear it down, unless it already was. */
void tunnel_end(struct tunnel *t);

/*
 * The device of cs with this type, queues and offloads, configured with
 * mtu (addresses, routes, bridge, link up): a kept device of the same
 * type is taken over and only gets the MTU.  The work runs on the
 * worker pool; kind->dev_done follows from the loop, with NULL once the
 * device is t->dev and ready, or the reason it is not (a device that
 * could not be set up is closed, never kept).  0 when under way, or -1
 * with the reason in err when refused at once (dev_done does not
 * follow).  A session that ends meanwhile (tunnel_release, tunnel_free)
 * cancels it, and the pool removes what it made.  Without a pool the
 * work and dev_done run before this returns.
 */
int tunnel_dev_open(struct tunnel *t, const struct conf_session *cs,
    enum dev_type type, int mtu, int queues, bool offload, char *err,
    size_t errlen);

/*
 * Remove a device on the caller's thread (netcfg_dev_close), logging
 * what could not be undone: for the loop's last moments, when nothing
 * waits for it any more (the client's kept device at exit).
 */
void tunnel_dev_close_now(struct dev *d);

/*
 * Run cs's up commands on a fresh device, or report them done at once
 * (kind->up_done).  -1 if they cannot be started.
 */
int tunnel_up(struct tunnel *t, const struct conf_session *cs);

/* Stop an up or down command that is still running. */
void tunnel_cancel(struct tunnel *t);

/*
 * Give the device back: close it (unless the client keeps it), then run
 * cs's down commands if the device was ours; kind->down_done follows
 * them.  The device is removed on the worker pool, and the down commands
 * start once it is gone; kind->down_done follows that too when there is
 * no command to run, so that the owner may go.  A device still being
 * made is cancelled instead (the pool removes it).
 */
void tunnel_release(struct tunnel *t, const struct conf_session *cs);

/*
 * The down commands of a device configured for cs: the commands that
 * take its DNS servers back (netcfg_dns_cmds), then cs->down.  *n of
 * them; free with tunnel_down_cmds_free(cmds, *nown).  Out of memory,
 * only cs->down.
 */
struct script_argv *tunnel_down_cmds(const struct conf_session *cs,
    size_t *n, size_t *nown);
void tunnel_down_cmds_free(struct script_argv *cmds, size_t nown);

/* Once over, no command runs and the device is gone: cbs->gone from
 * the loop. */
void tunnel_maybe_gone(struct tunnel *t, bool over);

/*
 * A kind of session: native (session.c) or vtund (vtunsess.c).  Each
 * exports one const table.  The server and the client hold the
 * session's struct tunnel and call through its kind without knowing
 * which it is, and the tunnel tells its owner through the same table
 * when the commands it runs are done.
 */
struct tunnel_kind {
	/* End it; reason is tapline's CLOSE reason, msg the words for both. */
	void (*close)(struct tunnel *t, uint8_t reason, const char *msg);
	/* What only this kind knows for its line in `tapline status`
	 * (control_tunnel_fill fills what every kind has). */
	void (*fill)(struct control_session *e, const struct tunnel *t,
	    uint64_t now_ms);
	/* Free it at once, whatever it was doing. */
	void (*free)(struct tunnel *t);
	/* Stop forwarding and give the device back: once, when it starts
	 * closing (tunnel_end), or when it is freed before that. */
	void (*teardown)(struct tunnel *t);
	/* tunnel_dev_open's end: err NULL, the device is ready; else why
	 * not.  Never once the tunnel has begun closing. */
	void (*dev_done)(struct tunnel *t, const char *err);
	/* The up commands are done (result 0) or failed: forward, or end. */
	void (*up_done)(struct tunnel *t, int result);
	/* The down commands are done: the owner may now be gone. */
	void (*down_done)(struct tunnel *t);
};

static inline bool
tunnel_closing(const struct tunnel *t)
{
	return t->state == TUNNEL_CLOSING;
}

static inline bool
tunnel_is_up(const struct tunnel *t)
{
	return t->state == TUNNEL_UP;
}

/*
 * "cobra: " to start a log line about it; "" until the session is known.
 * The line then carries the session and peer as journal fields.
 */
static inline const char *
tunnel_tag(const struct tunnel *t)
{
	return t->cs != NULL ? log_tag(t->cs->tag, t->cs->name, t->peer_str) :
	    "";
}

/* The configured session, once the peer has proven it (else NULL). */
static inline const struct conf_session *
tunnel_conf(const struct tunnel *t)
{
	return t->authenticated ? t->cs : NULL;
}

#endif
