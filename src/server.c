/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "admit.h"
#include "control.h"
#include "derive.h"
#include "handshake.h"
#include "vtunsess.h"
#include "pkt.h"
#include "log.h"
#include "notify.h"
#include "preauth.h"
#include "proc.h"
#include "ridmap.h"
#include "server.h"
#include "session.h"
#include "udpsock.h"
#include "util.h"
#include "vtun.h"
#include "wire.h"

/* After EMFILE/ENFILE, accepting pauses this long. */
#define SERVER_ACCEPT_PAUSE_MS 1000

/*
 * One connection: a native session, a vtund one, or neither: while it
 * waits for its turn (adm.queued), and, with legacy sessions configured,
 * while the server waits for a first byte to tell them apart (peek).
 * Until a session has it, the descriptor is the connection's own.
 */
struct server_conn {
	TAILQ_ENTRY(server_conn) entry;
	struct server *srv;
	/* Its session's tunnel, native or vtund; until the first byte
	 * says which, peek_tun (of server_peek_kind). */
	struct tunnel *t;
	struct tunnel peek_tun;
	struct event *peek;
	struct event *hello;	/* PREAUTH_HELLO_MS after the accept */
	struct admit_entry adm;	/* its place while it waits for its turn */
	struct ridmap_entry rid;	/* a native session's, in srv->rids */
	SSL *ssl;		/* the session's, while s exists */
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint64_t since_ms;	/* accepted */
};

struct server_totals {
	char name[CONF_NAME_MAX + 1];
	struct control_totals t;
};

struct server {
	struct proc proc;	/* the loop, signals, running configuration */
	const struct cli *cli;
	struct handshake_server *hs;
	struct vtun_lib *vlib;	/* only while a legacy session exists */
	struct evconnlistener *listener;
	struct udp_sock *usock;
	uint64_t udp_unknown;	/* datagrams for no session (or too short) */
	struct ridmap rids;	/* native sessions by receiver id */
	struct event *accept_pause;
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, server_conn) conns;
	int nup_told;		/* sessions up in the last STATUS= */
	struct log_ratelimit rl_cap;
	struct log_ratelimit rl_preauth;
	/* Each kind of closing has its own, so none drowns the others. */
	struct log_ratelimit rl_rate;
	struct log_ratelimit rl_evict;
	/* For status: what the ended connections of each session name
	 * moved (the lifetime totals), names kept across reloads. */
	struct server_totals *totals;
	size_t ntotals;
	struct preauth_rate rate;	/* connects per source */
	/* The caps in force, and the policy's arrays, room for caps.all
	 * connections and a newcomer (never shrunk). */
	struct preauth_caps caps;
	struct preauth_peer *pa_peers;
	struct server_conn **pa_conns;
	const struct preauth_peer **pa_scratch;
	size_t pa_cap;
	/* The accepts and handshake starts of each loop iteration. */
	struct admit admit;
	struct event *admit_ev;	/* ends the round, the next iteration */
	bool accept_held;	/* the listener rests till the next round */
	struct log_ratelimit rl_admit;
	uint64_t preauth_overrate;	/* closed at once: over the rate */
	uint64_t preauth_refused;	/* closed at once: a cap, no victim */
	uint64_t preauth_evicted;	/* closed for a newcomer */
	uint64_t preauth_no_hello;	/* no ClientHello in time */
	/* A reload whose passphrase keys are being derived off the loop,
	 * its new configuration, and whether another SIGHUP came since. */
	struct derive *reloading;
	struct conf *reload_conf;
	bool reload_again;
};

static void server_warn_sessions(const struct conf *conf);
static void server_conn_free(struct server_conn *c);

/* --- A connection, whatever it speaks ---------------------------------- */

/* The native session behind a connection, or NULL. */
static struct session *
server_conn_session(const struct server_conn *c)
{
	return c->t->kind == &session_kind ? c->t->owner : NULL;
}

/*
 * A connection whose first byte has not told yet whether it speaks TLS
 * or vtund (its tunnel is c->peek_tun): in the handshake state, so never
 * up nor closing, nothing to report, and closing it frees it at once.
 */
static void
server_peek_close(struct tunnel *t, uint8_t reason, const char *msg)
{
	struct server_conn *c = t->owner;

	TAILQ_REMOVE(&c->srv->conns, c, entry);
	server_conn_free(c);
}

static void
server_peek_fill(struct control_session *e, const struct tunnel *t,
    uint64_t now)
{
}

static void
server_peek_free(struct tunnel *t)
{
}

static const struct tunnel_kind server_peek_kind = {
	.close = server_peek_close,
	.fill = server_peek_fill,
	.free = server_peek_free,
};

/* The totals kept for a session name; made if add (NULL: out of memory). */
static struct control_totals *
server_totals(struct server *srv, const char *name, bool add)
{
	struct server_totals *n;
	size_t i;

	for (i = 0; i < srv->ntotals; i++)
		if (strcmp(srv->totals[i].name, name) == 0)
			return &srv->totals[i].t;
	if (!add || (n = reallocarray(srv->totals, srv->ntotals + 1,
	    sizeof(*n))) == NULL)
		return NULL;
	srv->totals = n;
	n = &n[srv->ntotals++];
	memset(n, 0, sizeof(*n));
	util_strlcpy(n->name, name, sizeof(n->name));
	return &n->t;
}

static void
server_conn_free(struct server_conn *c)
{
	const struct conf_session *cs = tunnel_conf(c->t);
	struct control_totals *tot;
	struct control_session e;

	/* Status keeps what an authenticated connection moved. */
	if (cs != NULL && c->t != &c->peek_tun &&
	    (tot = server_totals(c->srv, cs->name, true)) != NULL) {
		control_tunnel_fill(&e, c->t, util_now_ms());
		control_totals_add(tot, &e);
	}
	ridmap_del(&c->srv->rids, &c->rid);
	c->t->kind->free(c->t);
	if (c->hello != NULL)
		event_free(c->hello);
	if (c->peek != NULL) {
		event_free(c->peek);
		evutil_closesocket(c->fd);
	}
	if (c->adm.queued) {
		admit_remove(&c->srv->admit, &c->adm);
		evutil_closesocket(c->fd);
	}
	free(c);
}

/*
 * The connections that have not authenticated yet, for the admission
 * policy, into srv->pa_peers, with the connection behind each entry in
 * srv->pa_conns (at most pa_cap: more exist only if a reload lowered the
 * caps and its arrays could not grow).  One that is closing still counts
 * until it is gone (a refused handshake lingers for the peer's close),
 * and one waiting for its turn counts too: each holds its descriptor.
 */
static size_t
server_preauth_peers(const struct server *srv)
{
	struct server_conn *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (c->t->authenticated)
			continue;
		if (n == srv->pa_cap)
			break;
		preauth_addr_from(&srv->pa_peers[n].addr,
		    (const struct sockaddr *)&c->sa);
		srv->pa_peers[n].since_ms = c->since_ms;
		srv->pa_conns[n++] = c;
	}
	return n;
}

/*
 * The caps for conf's sessions within the open-files limit (those the
 * sessions themselves need come first), and the policy's arrays grown to
 * match.  -1: out of memory; the caps in force stay.
 */
static int
server_preauth_caps(struct server *srv, const struct conf *conf,
    unsigned long limit)
{
	size_t used = proc_nofile_sessions(conf), room, want;
	struct preauth_caps caps;
	void *p;

	room = limit > used ? (size_t)(limit - used) : 0;
	preauth_caps_for(&caps, conf->nsessions, room);
	want = caps.all + 1;
	if (want > srv->pa_cap) {
		if ((p = reallocarray(srv->pa_peers, want,
		    sizeof(*srv->pa_peers))) == NULL)
			return -1;
		srv->pa_peers = p;
		if ((p = reallocarray(srv->pa_conns, want,
		    sizeof(*srv->pa_conns))) == NULL)
			return -1;
		srv->pa_conns = p;
		if ((p = reallocarray(srv->pa_scratch, want,
		    sizeof(*srv->pa_scratch))) == NULL)
			return -1;
		srv->pa_scratch = p;
		srv->pa_cap = want;
	}
	if (caps.all != srv->caps.all || caps.net != srv->caps.net)
		log_info("pre-authentication caps: %zu connections at once, "
		    "%zu from a network, %zu from a source", caps.all,
		    caps.net, caps.src);
	srv->caps = caps;
	return 0;
}

/*
 * multi = allow | deny | killold for a second connection to a session,
 * native or legacy alike.  *cs may be replaced by the current config's.
 */
static int
server_admit(struct server_conn *self, const struct conf_session **csp,
    uint8_t *reason, const char **msg)
{
	struct server *srv = self->srv;
	const struct conf_session *cs = *csp, *cur;
	struct server_conn *c, *next;

	if (srv->proc.stopping) {
		*reason = WIRE_CLOSE_SHUTDOWN;
		*msg = "server is stopping";
		return -1;
	}
	/* A reload during the handshake: hold the peer to the new file. */
	cur = conf_session_find(srv->proc.conf, cs->name);
	if (cur == NULL || !conf_session_keeps(cs, cur, &self->t->peer_key)) {
		*reason = WIRE_CLOSE_REFUSED;
		*msg = "configuration changed; try again";
		return -1;
	}
	if (cur != cs)
		self->t->cs = cur;
	*csp = cs = cur;
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c == self || tunnel_conf(c->t) != cs ||
		    !c->t->authenticated || tunnel_closing(c->t))
			continue;
		/* Its client lost the control connection and now comes
		 * back afresh (restarted, or it cannot re-attach): the
		 * session it left is replaced, whatever multi says. */
		if (c->t->detached && cs->multi != CONF_MULTI_ALLOW) {
			log_notice("%s: %s replaces %s, which had lost its "
			    "control connection", cs->name,
			    self->t->peer_str, c->t->peer_str);
			c->t->kind->close(c->t, WIRE_CLOSE_REPLACED,
			    "replaced by a newer connection");
			continue;
		}
		switch (cs->multi) {
		case CONF_MULTI_ALLOW:
			break;
		case CONF_MULTI_DENY:
			log_notice("%s: refusing %s: the session is already "
			    "up with %s (multi = deny)", cs->name,
			    self->t->peer_str, c->t->peer_str);
			*reason = WIRE_CLOSE_BUSY;
			*msg = "session already connected";
			return -1;
		case CONF_MULTI_KILLOLD:
			log_notice("%s: %s replaces %s (multi = killold)",
			    cs->name, self->t->peer_str,
			    c->t->peer_str);
			c->t->kind->close(c->t, WIRE_CLOSE_REPLACED,
			    "replaced by a newer connection");
			break;
		}
	}
	return 0;
}

/* Each kind of session speaks one protocol: tapline's, or vtund's. */
static int
server_authenticatedcb(struct tunnel *t, const struct conf_session *cs,
    uint8_t *reason, const char **msg, void *arg)
{
	if (t->kind == &session_kind && cs->legacy != CONF_LEGACY_NONE) {
		log_notice("%s: refusing tapline client %s: the session is "
		    "legacy = \"%s\"", cs->name, t->peer_str,
		    conf_legacy_name(cs->legacy));
		*reason = WIRE_CLOSE_REFUSED;
		*msg = "legacy session: vtund protocol only";
		return -1;
	}
	return server_admit(arg, &cs, reason, msg);
}

/*
 * A client comes back over a new connection: the live session of cs
 * with this token and receiver id (session.c judges), to take it over.
 */
static struct tunnel *
server_reattachcb(struct tunnel *t, const struct conf_session *cs,
    const uint8_t *token, uint32_t peer_rid, void *arg)
{
	struct server_conn *self = arg, *c;
	const struct conf_session *ccs;

	if (self->srv->proc.stopping)
		return NULL;
	TAILQ_FOREACH(c, &self->srv->conns, entry) {
		ccs = tunnel_conf(c->t);
		if (c == self || c->t->kind != &session_kind || ccs == NULL ||
		    strcmp(ccs->name, cs->name) != 0)
			continue;
		if (session_reattach_match(c->t->owner, token, peer_rid))
			return c->t;
	}
	return NULL;
}

/* `systemctl status` shows how many tunnels are up; say when it changes. */
static void
server_notify_sessions(struct server *srv)
{
	const struct server_conn *c;
	int n = 0;

	TAILQ_FOREACH(c, &srv->conns, entry)
		if (tunnel_is_up(c->t))
			n++;
	if (n == srv->nup_told)
		return;
	srv->nup_told = n;
	notify_status("%d session%s up", n, n == 1 ? "" : "s");
}

static void
server_upcb(struct tunnel *t, void *arg)
{
	struct server_conn *c = arg;

	server_notify_sessions(c->srv);
}

static void
server_maybe_exit(struct server *srv)
{
	if (srv->proc.stopping && TAILQ_EMPTY(&srv->conns))
		event_base_loopexit(srv->proc.base, NULL);
}

/* A connection of either kind has ended: forget it. */
static void
server_conn_gone(struct server_conn *c)
{
	struct server *srv = c->srv;

	TAILQ_REMOVE(&srv->conns, c, entry);
	server_conn_free(c);
	server_notify_sessions(srv);
	server_maybe_exit(srv);
}

static void
server_gonecb(struct tunnel *t, void *arg)
{
	server_conn_gone(arg);
}

/* --- vtund clients ----------------------------------------------------- */

/*
 * OpenSSL's legacy provider (for vtund's Blowfish) is loaded, into a
 * context of its own, only once a legacy session is configured.
 */
static int
server_legacy_lib(struct server *srv, const struct conf *conf)
{
	char err[256];
	size_t i;

	if (srv->vlib != NULL)
		return 0;
	for (i = 0; i < conf->nsessions; i++)
		if (conf->sessions[i].legacy == CONF_LEGACY_VTUN)
			break;
	if (i == conf->nsessions)
		return 0;
	if ((srv->vlib = vtun_lib_new(err, sizeof(err))) == NULL) {
		log_err("%s: %s", conf->sessions[i].name, err);
		return -1;
	}
	log_warnx("legacy vtund sessions are configured: vtund clients are "
	    "served on the same port (insecure protocol)");
	return 0;
}

/* HOST names a legacy session, or nothing (like a wrong password). */
static const struct conf_session *
server_legacy_lookupcb(const char *name, void *arg)
{
	struct server_conn *c = arg;
	const struct conf_session *cs;

	cs = conf_session_find(c->srv->proc.conf, name);
	return cs != NULL && cs->legacy == CONF_LEGACY_VTUN ? cs : NULL;
}

static const struct tunnel_cbs server_tunnel_cbs = {
	.lookup = server_legacy_lookupcb,
	.authenticated = server_authenticatedcb,
	.reattach = server_reattachcb,
	.up = server_upcb,
	.gone = server_gonecb,
};

/* How the server starts a session of either kind on connection c. */
static void
server_tunnel_start(struct server_conn *c, struct tunnel_start *st)
{
	memset(st, 0, sizeof(*st));
	st->role = TUNNEL_SERVER;
	st->peer = (struct sockaddr *)&c->sa;
	st->peerlen = c->salen;
	st->rl_preauth = &c->srv->rl_preauth;
	st->pool = c->srv->proc.pool;
	st->scratch = c->srv->proc.scratch;
	st->cbs = &server_tunnel_cbs;
	st->arg = c;
}

/* The TLS side of a connection: a native session. */
static int
server_start_tls(struct server *srv, struct server_conn *c)
{
	struct tunnel_start st;
	struct bufferevent *bev;
	struct session *s;
	SSL *ssl;

	ssl = handshake_server_ssl_new(srv->hs);
	bev = ssl == NULL ? NULL :
	    bufferevent_openssl_socket_new(srv->proc.base, c->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("out of memory for a new connection");
		SSL_free(ssl);
		evutil_closesocket(c->fd);
		return -1;
	}
	server_tunnel_start(c, &st);
	s = session_new(srv->proc.base, &st, bev);
	if (s == NULL) {
		log_warnx("out of memory for a new session");
		return -1;
	}
	c->t = session_tunnel(s);
	c->ssl = ssl;
	session_set_udp(s, srv->usock);
	ridmap_add(&srv->rids, &c->rid, session_rid(s));
	return 0;
}

static const struct timeval server_hello_tv = {
	.tv_sec = PREAUTH_HELLO_MS / 1000,
	.tv_usec = (PREAUTH_HELLO_MS % 1000) * 1000,
};

/*
 * The ClientHello deadline of a connection still waiting for its turn:
 * the server has not read it yet, so the socket says what the client
 * sent (admit_late judges).  One that did its part keeps its place and
 * gets the deadline once more, which then applies to the started
 * handshake as below; anything else is closed, as it would have been.
 */
static void
server_hello_queued(struct server_conn *c)
{
	struct server *srv = c->srv;
	char host[INET6_ADDRSTRLEN + 16];
	uint8_t head[5];
	ssize_t n;
	int avail = 0;

	n = recv(c->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 && ioctl(c->fd, FIONREAD, &avail) == -1)
		avail = 0;
	if (admit_late(head, n > 0 ? (size_t)n : 0, n == 0 || (n < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK), avail > 0 ?
	    (size_t)avail : 0, srv->vlib != NULL) == ADMIT_LATE_KEEP) {
		(void)event_add(c->hello, &server_hello_tv);
		return;
	}
	srv->preauth_no_hello++;
	util_sockaddr_str((const struct sockaddr *)&c->sa, host, sizeof(host));
	log_rl(&srv->rl_preauth, LOG_INFO, "%s sent no complete ClientHello "
	    "in %d s (waiting for its turn)", host, PREAUTH_HELLO_MS / 1000);
	c->t->kind->close(c->t, WIRE_CLOSE_TIMEOUT, NULL);
}

/*
 * PREAUTH_HELLO_MS after the accept a TLS client must have sent its
 * whole ClientHello (it does so at once): a connection that sends
 * nothing or dribbles would otherwise hold its slot for the whole
 * handshake deadline.  The PSK callback runs once the ClientHello is
 * complete and parsed; one without a PSK fails the handshake at once
 * anyway.  A vtund client (legacy) speaks only when greeted, so its own
 * deadlines apply instead.
 */
static void
server_hellocb(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *c = arg;
	struct server *srv = c->srv;

	if (c->adm.queued) {
		server_hello_queued(c);
		return;
	}
	if (server_conn_session(c) == NULL || c->t->authenticated ||
	    tunnel_closing(c->t) || handshake_psk_calls(c->ssl) > 0)
		return;
	srv->preauth_no_hello++;
	log_rl(&srv->rl_preauth, LOG_INFO, "%s sent no complete ClientHello "
	    "in %d s", c->t->peer_str, PREAUTH_HELLO_MS / 1000);
	c->t->kind->close(c->t, WIRE_CLOSE_TIMEOUT, NULL);
}

/*
 * The first byte decides: a TLS client sends its ClientHello at once (a
 * record starting 0x16), a vtund client says nothing until greeted.  So
 * silence for VTUNSESS_PEEK_MS means vtund; any byte means TLS, which
 * copes with (and logs) whatever is not a ClientHello.
 */
static void
server_peekcb(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *c = arg;
	struct server *srv = c->srv;
	uint8_t b;
	ssize_t n;
	int rc;

	event_free(c->peek);
	c->peek = NULL;
	if (what & EV_READ) {
		n = recv(fd, &b, 1, MSG_PEEK);
		if (n <= 0) {
			evutil_closesocket(fd);
			rc = -1;
		} else {
			rc = server_start_tls(srv, c);
		}
	} else if (srv->vlib != NULL) {
		struct tunnel_start st;
		struct vtunsess *l;

		server_tunnel_start(c, &st);
		l = vtunsess_new(srv->proc.base, &st, fd, srv->vlib);
		if (l != NULL)
			c->t = vtunsess_tunnel(l);
		rc = l != NULL ? 0 : -1;
	} else {
		rc = server_start_tls(srv, c);
	}
	if (rc != 0) {
		TAILQ_REMOVE(&srv->conns, c, entry);
		server_conn_free(c);
	}
}

/* "there", "its /64", "its /24", "its /48": the group a cap counts. */
static const char *
server_preauth_group(const struct preauth_addr *a, bool net)
{
	if (a->family == AF_INET6)
		return net ? "its /48" : "its /64";
	return net ? "its /24" : "there";
}

/*
 * Whether a new connection may take a pre-authentication slot, before
 * any TLS work: over its source's rate it is closed at once; at a cap it
 * either makes room by closing the oldest connection of the heaviest
 * source or, when its own source is the heaviest, is closed.  Every
 * refusal and eviction is logged (rate-limited) with the source.
 */
static bool
server_preauth_admit(struct server *srv, const struct sockaddr *sa,
    uint64_t now)
{
	struct server_conn *v;
	struct preauth_decision d;
	struct preauth_addr addr;
	char host[INET6_ADDRSTRLEN + 16], vhost[INET6_ADDRSTRLEN + 16];
	size_t n;
	bool net;

	preauth_addr_from(&addr, sa);
	if (!preauth_rate_take(&srv->rate, &addr, now)) {
		srv->preauth_overrate++;
		util_sockaddr_str(sa, host, sizeof(host));
		log_rl(&srv->rl_rate, LOG_WARNING, "closing a connection from "
		    "%s at once: more than %d a second from %s", host,
		    PREAUTH_RATE_PER_S, server_preauth_group(&addr, false));
		return false;
	}
	n = server_preauth_peers(srv);
	preauth_admit(&srv->caps, srv->pa_peers, n, &addr, srv->pa_scratch,
	    &d);
	if (d.verdict == PREAUTH_ADMIT)
		return true;
	util_sockaddr_str(sa, host, sizeof(host));
	net = d.tier != PREAUTH_TIER_SRC;
	if (d.verdict == PREAUTH_REFUSE) {
		srv->preauth_refused++;
		log_rl(&srv->rl_cap, LOG_WARNING, "refusing a connection from "
		    "%s: %zu unauthenticated connections (%zu from %s)", host,
		    d.all, net ? d.net : d.src, server_preauth_group(&addr,
		    net));
		return false;
	}
	/*
	 * Freed now rather than closed: a closing connection still counts
	 * until it is gone, and the newcomer needs its slot at once.
	 */
	v = srv->pa_conns[d.victim];
	srv->preauth_evicted++;
	util_sockaddr_str((const struct sockaddr *)&v->sa, vhost,
	    sizeof(vhost));
	log_rl(&srv->rl_evict, LOG_NOTICE, "evicting %s, the oldest "
	    "unauthenticated connection of the heaviest source, for %s: "
	    "%zu unauthenticated connections (%zu from %s)", vhost, host,
	    d.all, d.net, server_preauth_group(&addr, true));
	TAILQ_REMOVE(&srv->conns, v, entry);
	server_conn_free(v);
	return true;
}

/*
 * A connection's turn: its handshake starts, or, with legacy sessions
 * configured, the wait for its first byte.  0, or -1: it is gone.
 */
static int
server_conn_start(struct server *srv, struct server_conn *c)
{
	if (srv->vlib == NULL) {
		if (server_start_tls(srv, c) == 0)
			return 0;
	} else {
		c->peek = event_new(srv->proc.base, c->fd, EV_READ,
		    server_peekcb, c);
		if (c->peek != NULL && event_add(c->peek, &(struct timeval){
		    .tv_sec = VTUNSESS_PEEK_MS / 1000,
		    .tv_usec = (VTUNSESS_PEEK_MS % 1000) * 1000 }) == 0)
			return 0;
		log_warnx("out of memory for a new connection");
		if (c->peek != NULL)
			event_free(c->peek);
		c->peek = NULL;
		evutil_closesocket(c->fd);
	}
	TAILQ_REMOVE(&srv->conns, c, entry);
	server_conn_free(c);
	return -1;
}

/*
 * The round ends at the next iteration of the loop whenever it used
 * anything or connections wait: a timer due at once fires after that
 * iteration's I/O, so established sessions' events come in between.
 */
static void
server_admit_arm(struct server *srv)
{
	if (admit_busy(&srv->admit) && !evtimer_pending(srv->admit_ev, NULL))
		(void)event_add(srv->admit_ev, &(struct timeval){ 0, 0 });
}

/* A new round: the listener may accept again, and waiting ones start. */
static void
server_admitcb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct admit_entry *e;
	struct server_conn *c;
	uint64_t now = util_now_ms(), wait;
	size_t count;

	admit_round(&srv->admit);
	if (srv->accept_held) {
		srv->accept_held = false;
		if (!srv->proc.stopping &&
		    !evtimer_pending(srv->accept_pause, NULL))
			evconnlistener_enable(srv->listener);
	}
	while ((e = admit_next(&srv->admit, now)) != NULL) {
		c = (struct server_conn *)(void *)((char *)e -
		    offsetof(struct server_conn, adm));
		/* Its deadline runs from now: the wait was the server's. */
		(void)event_add(c->hello, &server_hello_tv);
		(void)server_conn_start(srv, c);
	}
	if (admit_drained(&srv->admit, &count, &wait))
		log_rl(&srv->rl_admit, LOG_NOTICE, "%zu new connection%s "
		    "waited for the handshake budget (%d a loop iteration), "
		    "the longest %llu ms", count, count == 1 ? "" : "s",
		    ADMIT_STARTS, (unsigned long long)wait);
	server_admit_arm(srv);
}

/* An accepted connection: admitted by the policy, started or queued. */
static void
server_accept(struct server *srv, evutil_socket_t fd, struct sockaddr *sa,
    int salen)
{
	struct server_conn *c;
	uint64_t now = util_now_ms();

	if (srv->proc.stopping || !server_preauth_admit(srv, sa, now)) {
		evutil_closesocket(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory for a new connection");
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->peek_tun.kind = &server_peek_kind;
	c->peek_tun.owner = c;
	util_strlcpy(c->peek_tun.peer_str, "?", sizeof(c->peek_tun.peer_str));
	c->t = &c->peek_tun;
	c->fd = fd;
	c->since_ms = now;
	if ((size_t)salen > sizeof(c->sa))
		salen = sizeof(c->sa);
	memcpy(&c->sa, sa, (size_t)salen);
	c->salen = (socklen_t)salen;
	c->hello = evtimer_new(srv->proc.base, server_hellocb, c);
	if (c->hello == NULL || event_add(c->hello, &server_hello_tv) != 0) {
		log_warnx("out of memory for a new connection");
		if (c->hello != NULL)
			event_free(c->hello);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	if (admit_arrive(&srv->admit, &c->adm, now))
		(void)server_conn_start(srv, c);
}

/*
 * A new connection: the pre-authentication policy first, then its
 * handshake starts at once or waits for a later round (admit.h); the
 * listener rests for the rest of the round once the round has accepted
 * its share.
 */
static void
server_acceptcb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;

	if (!admit_accepted(&srv->admit)) {
		evconnlistener_disable(l);
		srv->accept_held = true;
	}
	server_accept(srv, fd, sa, salen);
	server_admit_arm(srv);
}

static void
server_accept_resumecb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (!srv->proc.stopping)
		evconnlistener_enable(srv->listener);
}

/* Out of descriptors: pause accepting instead of spinning on EMFILE. */
static void
server_accept_errorcb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();

	log_rl(&srv->rl_cap, LOG_WARNING, "accept: %s; pausing for %d ms",
	    strerror(err), SERVER_ACCEPT_PAUSE_MS);
	evconnlistener_disable(l);
	event_add(srv->accept_pause, &(struct timeval){
	    .tv_sec = SERVER_ACCEPT_PAUSE_MS / 1000,
	    .tv_usec = (SERVER_ACCEPT_PAUSE_MS % 1000) * 1000 });
}

/* The connection whose map entry e is. */
static struct server_conn *
server_conn_of_rid(struct ridmap_entry *e)
{
	return (struct server_conn *)(void *)((char *)e -
	    offsetof(struct server_conn, rid));
}

/*
 * A datagram on the server's port: the receiver id says which session it
 * is for (found in the map, not by walking every session: a hub's
 * thousand sessions would cost each packet microseconds); that session
 * checks everything else.  Nothing is ever sent in answer to a datagram
 * that no session claims.
 */
static void
server_udp_recvcb(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	struct server *srv = arg;
	struct ridmap_entry *e;
	struct session *s;
	uint32_t rid;

	if (len >= WIRE_UDP_HDR_LEN &&
	    (rid = pkt_load32(dgram + WIRE_UDP_OFF_RECEIVER)) != 0) {
		for (e = ridmap_first(&srv->rids, rid); e != NULL;
		    e = ridmap_next(e)) {
			s = server_conn_session(server_conn_of_rid(e));
			if (s != NULL && session_udp_rid(s) == rid &&
			    session_authenticated(s)) {
				session_udp_input(s, dgram, len, from,
				    fromlen);
				return;
			}
		}
	}
	srv->udp_unknown++;
}

/*
 * The listen backlog: as many completed connections as may be
 * unauthenticated at once (a reconnect storm's SYNs would otherwise be
 * dropped and retried only a second later), while the listener takes
 * ADMIT_ACCEPTS of them a round.  The kernel caps it at somaxconn.
 */
static int
server_backlog(const struct server *srv)
{
	return srv->caps.all > INT_MAX ? INT_MAX : (int)srv->caps.all;
}

/*
 * One socket for the listen address: "::" takes IPv4 too (dual stack)
 * unless -6 asks for IPv6 only; with -4, "::" means 0.0.0.0.
 */
static int
server_listen(struct server *srv)
{
	const char *addr = srv->cli->local != NULL ? srv->cli->local :
	    srv->proc.conf->options.listen;
	int port = srv->cli->port != 0 ? srv->cli->port :
	    srv->proc.conf->options.port;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST |
	    AI_NUMERICSERV, .ai_socktype = SOCK_STREAM,
	    .ai_family = srv->cli->family };
	struct addrinfo *ai = NULL;
	char portstr[8], where[INET6_ADDRSTRLEN + 16], err[256];
	int fd = -1, one = 1, v6only, rc;

	if (srv->cli->family == AF_INET && strcmp(addr, "::") == 0)
		addr = "0.0.0.0";
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(addr, portstr, &hints, &ai)) != 0) {
		log_err("cannot listen on %s port %d: %s", addr, port,
		    gai_strerror(rc));
		return -1;
	}
	util_sockaddr_str(ai->ai_addr, where, sizeof(where));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6) {
		v6only = srv->cli->family == AF_INET6;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, server_backlog(srv)) == -1)
		goto fail;
	/* Already listening (0): -1 would listen again with 128. */
	srv->listener = evconnlistener_new(srv->proc.base, server_acceptcb, srv,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (srv->listener == NULL)
		goto fail;
	evconnlistener_set_error_cb(srv->listener, server_accept_errorcb);
	/* UDP datagrams come to the same address and port number. */
	srv->usock = udp_sock_new(srv->proc.base, ai->ai_addr, ai->ai_addrlen,
	    srv->cli->family == AF_INET6, srv->proc.conf->options.offload,
	    server_udp_recvcb, srv, err,
	    sizeof(err));
	if (srv->usock == NULL) {
		log_err("%s", err);
		freeaddrinfo(ai);
		return -1;
	}
	log_notice("listening on %s (tcp and udp)", where);
	freeaddrinfo(ai);
	return 0;
fail:
	log_err("cannot listen on %s: %s", where, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static void
server_expired(void *arg)
{
	log_warnx("sessions did not close within %d s; exiting anyway",
	    PROC_STOP_GRACE_S);
}

/*
 * The reload once every key is in: if it is all good, sessions whose
 * settings did not change go on untouched (not a packet lost), changed
 * ones are closed (their clients reconnect and get the new settings),
 * removed ones are closed, added ones can connect.  A bad file changes
 * nothing.  Listen address and port need a restart.
 */
static void
server_reload_apply(struct server *srv, struct conf *nc,
    struct handshake_plan *pl)
{
	struct server_conn *c, *next;
	struct handshake_server *hs;
	const struct conf_session *cs, *ncs;
	size_t kept = 0, closed = 0;
	unsigned long limit;
	char err[256];
	bool room;

	hs = handshake_plan_finish(pl, err, sizeof(err));
	room = proc_conf_reserve(&srv->proc) == 0;
	if (hs != NULL && server_legacy_lib(srv, nc) != 0) {
		handshake_server_free(hs);
		hs = NULL;
		util_strlcpy(err, "cannot load what legacy sessions need",
		    sizeof(err));
	}
	if (hs == NULL || !room) {
		log_err("reload: %s; the running configuration stays",
		    hs == NULL ? err : "out of memory");
		handshake_server_free(hs);
		conf_free(nc);
		return;
	}
	if (nc->options.port != srv->proc.conf->options.port ||
	    strcmp(nc->options.listen, srv->proc.conf->options.listen) != 0)
		log_warnx("reload: options.port and options.listen take "
		    "effect at the next restart");
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		cs = tunnel_conf(c->t);
		if (cs == NULL || tunnel_closing(c->t))
			continue;
		ncs = conf_session_find(nc, cs->name);
		/* A key list that still holds the peer's key keeps it. */
		if (ncs != NULL && conf_session_keeps(cs, ncs,
		    &c->t->peer_key)) {
			c->t->cs = ncs;
			kept++;
			continue;
		}
		log_notice("%s: %s by the reload; closing it", cs->name,
		    ncs == NULL ? "removed" : "changed");
		c->t->kind->close(c->t, WIRE_CLOSE_SHUTDOWN, ncs == NULL ?
		    "session removed from the server's configuration" :
		    "configuration changed");
		closed++;
	}
	handshake_server_free(srv->hs);
	srv->hs = hs;
	proc_conf_replace(&srv->proc, nc);
	server_warn_sessions(nc);
	/* Sessions added by the reload may not fit the limit either. */
	limit = proc_nofile_raise(proc_nofile_need(nc));
	if (server_preauth_caps(srv, nc, limit) != 0)
		log_warnx("reload: out of memory for more unauthenticated "
		    "connections; at most %zu stay allowed", srv->caps.all);
	(void)listen(evconnlistener_get_fd(srv->listener),
	    server_backlog(srv));
	log_notice("reloaded: %zu session%s defined, %zu running unchanged, "
	    "%zu closed", nc->nsessions, nc->nsessions == 1 ? "" : "s",
	    kept, closed);
}

static bool server_reload(void *arg);

/* The reload's passphrase keys are in (or one failed): apply it. */
static void
server_reload_derivedcb(struct handshake_plan *pl, const char *err, void *arg)
{
	struct server *srv = arg;
	struct conf *nc = srv->reload_conf;

	srv->reloading = NULL;
	srv->reload_conf = NULL;
	if (pl == NULL) {
		log_err("reload: %s; the running configuration stays", err);
		conf_free(nc);
	} else {
		server_reload_apply(srv, nc, pl);
	}
	/* A SIGHUP during the derivation reads the file again now. */
	if (srv->reload_again) {
		srv->reload_again = false;
		if (server_reload(srv))
			return;
	}
	proc_reloaded(&srv->proc);
}

/* A reload still deriving keys is given up (the server stops). */
static void
server_reload_cancel(struct server *srv)
{
	derive_cancel(srv->reloading);
	srv->reloading = NULL;
	if (srv->reload_conf != NULL)
		conf_free(srv->reload_conf);
	srv->reload_conf = NULL;
	srv->reload_again = false;
}

/*
 * SIGHUP: read the file off to the side, take the keys of unchanged
 * sessions from the running context, and apply it (server_reload_apply).
 * New or changed passphrase sessions need scrypt first (about 0.5 s
 * each): that runs on the worker pool while the running sessions go on,
 * and the reload is applied when the last key is in (true: it goes on).
 */
static bool
server_reload(void *arg)
{
	struct server *srv = arg;
	struct handshake_plan *pl;
	struct conf *nc;
	char err[256];
	size_t n;

	if (srv->reloading != NULL) {
		log_notice("reload: the last one is still deriving keys; the "
		    "file is read again once it is done");
		srv->reload_again = true;
		return true;
	}
	if ((nc = conf_reload(srv->proc.conf)) == NULL)
		return false;
	pl = nc->nsessions > 0 ? handshake_plan_new(nc, srv->hs, err,
	    sizeof(err)) : NULL;
	if (pl == NULL) {
		log_err("reload: %s; the running configuration stays",
		    nc->nsessions == 0 ? "no session left" : err);
		conf_free(nc);
		return false;
	}
	if ((n = handshake_plan_pending(pl)) == 0) {
		server_reload_apply(srv, nc, pl);
		return false;
	}
	log_info("reload: deriving keys for %zu passphrase session%s", n,
	    n == 1 ? "" : "s");
	srv->reloading = derive_start(srv->proc.kdf_pool, pl,
	    server_reload_derivedcb, srv, err, sizeof(err));
	if (srv->reloading == NULL) {
		log_err("reload: %s; the running configuration stays", err);
		handshake_plan_free(pl);
		conf_free(nc);
		return false;
	}
	srv->reload_conf = nc;
	return true;
}

/* SIGTERM/SIGINT: CLOSE every session, run down commands, exit 0. */
static void
server_stop(void *arg, int sig)
{
	struct server *srv = arg;
	struct server_conn *c, *next;

	log_notice("%s: closing %s and exiting", strsignal(sig),
	    TAILQ_EMPTY(&srv->conns) ? "nothing" : "all sessions");
	proc_stop(&srv->proc);
	server_reload_cancel(srv);
	evconnlistener_disable(srv->listener);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->t->kind->close(c->t, WIRE_CLOSE_SHUTDOWN, "server stopping");
	}
	server_maybe_exit(srv);
}

/* Say at start what this build will refuse, and what leaks (VORACLE). */
static void
server_warn_sessions(const struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nsessions; i++) {
		const struct conf_session *cs = &conf->sessions[i];

		if (cs->compress > 0)
			log_warnx("%s: compression is on: packet sizes can "
			    "reveal what the tunnel carries (VORACLE); see "
			    "tapline.conf(5)", cs->name);
	}
}

/*
 * The status report: every configured session with each of its
 * connections (several with multi = allow), or alone as waiting; then
 * connections of sessions a reload removed, still closing.
 */
/*
 * The session's lifetime totals, on each of its entries (first to the
 * end of the report): its ended connections, and all of the live ones.
 */
static void
server_collect_totals(struct server *srv, struct control_report *r,
    size_t first)
{
	const struct control_totals *closed;
	struct control_totals t = { 0 };
	size_t i;

	if (first >= r->nsessions)
		return;
	if ((closed = server_totals(srv, r->sessions[first].name,
	    false)) != NULL)
		t = *closed;
	for (i = first; i < r->nsessions; i++)
		if (r->sessions[i].state != CONTROL_WAITING)
			control_totals_add(&t, &r->sessions[i]);
	for (i = first; i < r->nsessions; i++)
		r->sessions[i].total = t;
}

static void
server_collect(struct control_report *r, void *arg)
{
	struct server *srv = arg;
	const struct conf_session *cs, *scs;
	struct control_session *e;
	struct server_conn *c;
	uint64_t now = util_now_ms();
	size_t i, first;

	r->server = true;
	r->queued = srv->admit.queued;
	for (i = 0; i < srv->proc.conf->nsessions; i++) {
		cs = &srv->proc.conf->sessions[i];
		first = r->nsessions;
		TAILQ_FOREACH(c, &srv->conns, entry) {
			scs = tunnel_conf(c->t);
			if (scs == NULL || strcmp(scs->name, cs->name) != 0)
				continue;
			if ((e = control_report_add(r)) == NULL)
				return;
			control_tunnel_fill(e, c->t, now);
		}
		if (r->nsessions == first &&
		    (e = control_report_add(r)) != NULL) {
			e->name = cs->name;
			e->state = CONTROL_WAITING;
			e->udp = cs->proto == CONF_PROTO_UDP;
		}
		server_collect_totals(srv, r, first);
	}
	TAILQ_FOREACH(c, &srv->conns, entry) {
		scs = tunnel_conf(c->t);
		if (scs == NULL && !tunnel_closing(c->t))
			r->unauthenticated++;
		else if (scs != NULL && conf_session_find(srv->proc.conf,
		    scs->name) == NULL && (e = control_report_add(r)) != NULL) {
			control_tunnel_fill(e, c->t, now);
			server_collect_totals(srv, r, r->nsessions - 1);
		}
	}
}

static const struct proc_ops server_proc_ops = {
	.reload = server_reload,
	.stop = server_stop,
	.expired = server_expired,
	.collect = server_collect,
};

int
server_run(const struct conf *conf, const struct cli *cli)
{
	struct server srv = { .cli = cli };
	struct server_conn *c;
	char err[256];
	int rc = 1;

	TAILQ_INIT(&srv.conns);
	admit_init(&srv.admit, ADMIT_STARTS, ADMIT_ACCEPTS);
	srv.rl_admit = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	srv.rl_cap = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	srv.rl_preauth = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	srv.rl_rate = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	srv.rl_evict = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	if (conf->nsessions == 0) {
		log_err("%s defines no session; nothing to serve", conf->path);
		return 2;
	}
	if (proc_init(&srv.proc, conf, &server_proc_ops, &srv) != 0)
		return 1;
	if (ridmap_init(&srv.rids) != 0) {
		log_err("out of memory");
		goto out;
	}
	if (server_preauth_caps(&srv, conf,
	    proc_nofile_raise(proc_nofile_need(conf))) != 0) {
		log_err("out of memory");
		goto out;
	}
	server_warn_sessions(conf);
	/* On the loop's thread: nothing runs yet that could wait for it
	 * (a reload derives on the worker pool instead). */
	log_info("deriving keys for %zu session%s", conf->nsessions,
	    conf->nsessions == 1 ? "" : "s");
	if ((srv.hs = handshake_server_new(conf, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		goto out;
	}
	if (server_legacy_lib(&srv, conf) != 0)
		goto out;
	srv.accept_pause = evtimer_new(srv.proc.base, server_accept_resumecb,
	    &srv);
	srv.admit_ev = evtimer_new(srv.proc.base, server_admitcb, &srv);
	if (proc_signals(&srv.proc) != 0 || srv.accept_pause == NULL ||
	    srv.admit_ev == NULL || server_listen(&srv) != 0)
		goto out;
	proc_watchdog(&srv.proc);
	proc_control(&srv.proc, conf->options.control);
	/* Sockets are open: from here on root is not needed. */
	if (proc_drop(&srv.proc) != 0)
		goto out;
	/* Ready means listening as the user it will serve as. */
	proc_ready(&srv.proc);
	notify_status("0 sessions up");
	if (proc_dispatch(&srv.proc) == 0)
		rc = 0;
	if (srv.preauth_overrate + srv.preauth_refused + srv.preauth_evicted +
	    srv.preauth_no_hello > 0)
		log_notice("unauthenticated connections: %llu over the rate "
		    "and %llu at a cap closed at once, %llu evicted for a "
		    "newcomer, %llu without a ClientHello in time",
		    (unsigned long long)srv.preauth_overrate,
		    (unsigned long long)srv.preauth_refused,
		    (unsigned long long)srv.preauth_evicted,
		    (unsigned long long)srv.preauth_no_hello);
	if (srv.admit.delayed > 0)
		log_notice("new connections: %llu waited for the handshake "
		    "budget, the longest %llu ms",
		    (unsigned long long)srv.admit.delayed,
		    (unsigned long long)srv.admit.wait_max_ms);
	if (srv.udp_unknown > 0)
		log_notice("%llu datagrams for no session (too short, or an "
		    "unknown receiver id) were dropped",
		    (unsigned long long)srv.udp_unknown);
out:
	server_reload_cancel(&srv);
	while ((c = TAILQ_FIRST(&srv.conns)) != NULL) {
		TAILQ_REMOVE(&srv.conns, c, entry);
		server_conn_free(c);
	}
	vtun_lib_free(srv.vlib);
	if (srv.listener != NULL)
		evconnlistener_free(srv.listener);
	udp_sock_free(srv.usock);
	if (srv.accept_pause != NULL)
		event_free(srv.accept_pause);
	if (srv.admit_ev != NULL)
		event_free(srv.admit_ev);
	free(srv.pa_peers);
	free(srv.pa_conns);
	free(srv.pa_scratch);
	handshake_server_free(srv.hs);
	proc_free(&srv.proc);
	free(srv.totals);
	ridmap_free(&srv.rids);
	return rc;
}
