/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "client.h"
#include "control.h"
#include "handshake.h"
#include "vtunsess.h"
#include "log.h"
#include "netcfg.h"
#include "proc.h"
#include "notify.h"
#include "resolve.h"
#include "script.h"
#include "session.h"
#include "timers.h"
#include "util.h"
#include "vtun.h"
#include "wire.h"

struct client {
	struct proc proc;	/* the loop, signals, running configuration */
	const struct conf_session *cs;
	const struct cli *cli;
	const char *server;	/* the command line's, else NULL: cs's list */
	char port[8];
	bool persist;
	bool keep;

	struct handshake_client *hc;
	/*
	 * A round tries the servers once each, in order[] (shuffled with
	 * server_random); pos is the one tried now, and a round is over
	 * when pos reaches norder.
	 */
	size_t order[CONF_SERVER_MAX];
	size_t norder;
	size_t pos;
	const char *host;	/* the server tried now, for status */
	struct resolve *conn;	/* resolving and connecting, or NULL */
	bool connected;		/* the session began with a connect of ours */
	char last_error[RESOLVE_ERR_MAX + 64];	/* for status; "" = none */
	/* The session now, native or vtund (legacy = "vtun"), or NULL. */
	struct tunnel *tun;
	struct vtun_lib *vlib;	/* the legacy provider's context, or NULL */
	struct dev kept;	/* persist = "keep": the device between sessions */
	struct script_run *down;

	unsigned int attempt;
	unsigned int dials;	/* attempts since the tunnel was last up */
	unsigned int redials;	/* dials since the control connection was lost */
	/* Key pairs: the server's keys offered since one last worked. */
	size_t key_tries;
	/* A reload changed the session: dial again without the backoff. */
	bool redial_now;
	uint64_t up_since_ms;
	bool ever_up;
	int exit_code;
	struct event *retry;
	uint64_t retry_at_ms;	/* for status: when the retry timer fires */
	/* For status: what the sessions that ended moved, added up, and
	 * why the last one ended. */
	struct control_totals closed;
	char end_why[160];
};

static void client_attempt(struct client *cl);

/* The client's exit: run the kept device's down commands first. */
static void
client_finish_downcb(int result, void *arg)
{
	struct client *cl = arg;

	cl->down = NULL;
	tunnel_dev_close_now(&cl->kept);
	event_base_loopexit(cl->proc.base, NULL);
}

static void
client_finish(struct client *cl)
{
	struct script_env env = { .device = cl->kept.name,
		.session = cl->cs->name, .raddr = "", .rport = "",
		.laddr = "", .lport = "" };
	struct script_argv *down;
	size_t ndown, nown;

	if (cl->kept.nqueues > 0) {
		down = tunnel_down_cmds(cl->cs, &ndown, &nown);
		if (ndown > 0)
			cl->down = script_run_start(cl->proc.base, "down", down,
			    ndown, &env, SCRIPT_TIMEOUT_MS,
			    client_finish_downcb, cl);
		tunnel_down_cmds_free(down, nown);
		if (cl->down != NULL)
			return;
	}
	client_finish_downcb(0, cl);
}

static void
client_schedule_retry(struct client *cl)
{
	uint32_t rnd = 0, ms;

	/*
	 * After a session: one that came up had the right server, and the
	 * list starts over; one that failed before moves on to the next.
	 */
	if (cl->connected) {
		cl->connected = false;
		if (cl->up_since_ms != 0) {
			cl->pos = cl->norder;
			snprintf(cl->last_error, sizeof(cl->last_error),
			    "the session with %s ended%s%s", cl->host,
			    cl->end_why[0] != '\0' ? ": " : "", cl->end_why);
		} else {
			cl->pos++;
			snprintf(cl->last_error, sizeof(cl->last_error),
			    "the session with %s ended before it was up: %s",
			    cl->host, cl->end_why[0] != '\0' ? cl->end_why :
			    "(the log says why)");
		}
		cl->end_why[0] = '\0';
	}
	/* A session that stayed up a while was a success: start over. */
	if (cl->up_since_ms != 0 &&
	    util_now_ms() - cl->up_since_ms >= TIMERS_BACKOFF_RESET_MS)
		cl->attempt = 0;
	cl->up_since_ms = 0;
	/* No randomness (never seen in practice): no jitter this time. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = 0;
	ms = cl->redial_now ? 0 : timers_backoff_ms(cl->attempt, rnd);
	cl->redial_now = false;
	if (cl->attempt < 16)
		cl->attempt++;
	log_notice("%s: reconnecting in %.1f s", cl->cs->name, ms / 1000.0);
	/* For `systemctl status`, also while the start waits for READY=1. */
	if (cl->dials > 0)
		notify_status("attempt %u failed%s%s; next in %.1f s",
		    cl->dials, cl->last_error[0] != '\0' ? ": " : "",
		    cl->last_error, ms / 1000.0);
	else
		notify_status("%s; reconnecting in %.1f s",
		    cl->last_error[0] != '\0' ? cl->last_error :
		    "disconnected", ms / 1000.0);
	cl->retry_at_ms = util_now_ms() + ms;
	event_add(cl->retry, &(struct timeval){ .tv_sec = ms / 1000,
	    .tv_usec = (ms % 1000) * 1000 });
}

/*
 * The tunnel is up, which is what READY=1 tells the service manager
 * (and so what `systemctl start tapline@SESSION` waits for).  This is
 * the first point where all of it holds, for a native session:
 *   - the TLS handshake with the session's PSK is done, so the server
 *     proved it holds the key;
 *   - the server's HELLO_ACK arrived over it (the first authenticated
 *     data from the server), and the server sends that only after its
 *     own device is configured and its up commands have succeeded;
 *   - UDP: the data channel is keyed from that handshake and carried
 *     its first sealed datagram, our keepalive sent with the HELLO_ACK
 *     (session_udp_client_start); no reply is waited for, since the
 *     server sends nothing on its own until traffic or keepalive time;
 *   - our device is configured and our up commands have succeeded
 *     (session_up_done, which calls this).
 * A vtund session gets here after the password challenge, the device
 * and the up commands.  A re-attach or a reconnect later comes here
 * again; the manager has its READY=1 already (proc_ready() sends it
 * once) and only STATUS= changes.
 */
static void
client_upcb(struct tunnel *t, void *arg)
{
	struct client *cl = arg;

	cl->up_since_ms = util_now_ms();
	cl->ever_up = true;
	cl->redials = 0;
	cl->dials = 0;
	cl->key_tries = 0;
	proc_ready(&cl->proc);
	notify_status("connected to %s%s", t->peer_str,
	    t->kind == &vtunsess_kind ? " (vtund legacy)" : "");
}

/* The session (native or vtund) has ended: stop, retry, or exit. */
static void
client_ended(struct client *cl, bool was_up)
{
	if (cl->proc.stopping) {
		client_finish(cl);
		return;
	}
	if (cl->persist) {
		client_schedule_retry(cl);
		return;
	}
	/* Without persist one session is the whole job, as with vtund. */
	cl->exit_code = was_up ? 0 : 1;
	client_finish(cl);
}

/*
 * Key pairs with several server keys listed (the server is replacing
 * its key): a handshake that failed moves on to the next key, and until
 * each was offered once the next attempt starts at once, at the same
 * server, rather than after the backoff.  True when it did.
 */
static bool
client_next_key(struct client *cl, bool was_up)
{
	size_t n, k;

	if (was_up || !cl->tun->auth_failed || cl->hc == NULL ||
	    (n = handshake_client_nkeys(cl->hc)) < 2)
		return false;
	k = handshake_client_next_key(cl->hc);
	if (++cl->key_tries >= n || cl->proc.stopping) {
		cl->key_tries = 0;
		return false;
	}
	log_notice("%s: trying the server's next public key (%zu of %zu)",
	    cl->cs->name, k + 1, n);
	cl->tun->kind->free(cl->tun);
	cl->tun = NULL;
	cl->connected = false;
	client_attempt(cl);
	return true;
}

/* The session (native or vtund) is gone: free it, then go on. */
static void
client_gone(struct client *cl)
{
	bool was_up = cl->tun->was_up;
	struct control_session e;

	/* Status keeps what it moved (the lifetime totals). */
	control_tunnel_fill(&e, cl->tun, util_now_ms());
	control_totals_add(&cl->closed, &e);
	util_strlcpy(cl->end_why, cl->tun->end_why, sizeof(cl->end_why));

	/* A new session after one that was up: key pairs first again,
	 * old_key (a server not yet moved) only after them. */
	if (was_up && cl->hc != NULL)
		handshake_client_use_key(cl->hc, 0);
	if (client_next_key(cl, was_up))
		return;
	cl->tun->kind->free(cl->tun);
	cl->tun = NULL;
	client_ended(cl, was_up);
}

static void
client_gonecb(struct tunnel *t, void *arg)
{
	client_gone(arg);
}

/*
 * UDP mode: the control connection is lost, the session goes on.  Dial
 * again at once the first time, then with the usual backoff while the
 * server cannot be reached.
 */
static void
client_detachedcb(struct tunnel *t, void *arg)
{
	struct client *cl = arg;

	if (cl->proc.stopping)
		return;
	if (cl->redials++ == 0) {
		event_add(cl->retry, &(struct timeval){ 0, 0 });
		return;
	}
	client_schedule_retry(cl);
}

static const struct tunnel_cbs client_tunnel_cbs = {
	.up = client_upcb,
	.detached = client_detachedcb,
	.gone = client_gonecb,
};

/*
 * What the session's protocol needs: the TLS context (native), or
 * OpenSSL's legacy provider in a context of its own (vtund).
 */
static int
client_prepare(struct client *cl, const struct conf_session *cs, char *err,
    size_t errlen)
{
	struct handshake_client *hc;

	if (cs->legacy == CONF_LEGACY_VTUN) {
		if (cl->vlib == NULL &&
		    (cl->vlib = vtun_lib_new(err, errlen)) == NULL)
			return -1;
		return 0;
	}
	if ((hc = handshake_client_new(cs, err, errlen)) == NULL)
		return -1;
	handshake_client_free(cl->hc);
	cl->hc = hc;
	return 0;
}

/* The servers to try: the command line's one, or the session's list. */
static const char *
client_server(const struct client *cl, size_t i)
{
	return cl->server != NULL ? cl->server : cl->cs->server[i];
}

static size_t
client_nservers(const struct client *cl)
{
	return cl->server != NULL ? 1 : cl->cs->nserver;
}

/*
 * A new round over the servers: in order, or shuffled afresh (the
 * randomness is best effort: without it the order stays as written).
 */
static void
client_round(struct client *cl)
{
	uint32_t rnd[CONF_SERVER_MAX] = { 0 };
	size_t n = client_nservers(cl);

	if (n > CONF_SERVER_MAX)
		n = CONF_SERVER_MAX;
	if (cl->server == NULL && cl->cs->server_random && n > 1 &&
	    getrandom(rnd, n * sizeof(rnd[0]), GRND_NONBLOCK) !=
	    (ssize_t)(n * sizeof(rnd[0])))
		memset(rnd, 0, sizeof(rnd));
	resolve_servers_order(n, cl->server == NULL && cl->cs->server_random,
	    rnd, cl->order);
	cl->norder = n;
	cl->pos = 0;
}

/* Nothing more to try now: wait and try again, or give up. */
static void
client_attempt_failed(struct client *cl)
{
	/* A re-attach (the session lives on) or a new session. */
	if ((cl->tun != NULL || cl->persist) && !cl->proc.stopping) {
		client_schedule_retry(cl);
	} else {
		cl->exit_code = 1;
		client_finish(cl);
	}
}

/*
 * A connected socket to the server (or nothing, and why): the session
 * starts on it; a server that failed hands over to the next of the
 * round at once, the end of the round waits for the backoff.
 */
static void
client_connectedcb(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *err, void *arg)
{
	struct client *cl = arg;
	struct tunnel_start st;
	struct bufferevent *bev;
	struct session *s;
	SSL *ssl;

	cl->conn = NULL;
	if (fd == -1) {
		snprintf(cl->last_error, sizeof(cl->last_error), "%s", err);
		log_warnx("%s: %s", cl->cs->name, err);
		if (++cl->pos < cl->norder && !cl->proc.stopping) {
			log_notice("%s: trying the next server, %s",
			    cl->cs->name, client_server(cl,
			    cl->order[cl->pos]));
			client_attempt(cl);
			return;
		}
		client_attempt_failed(cl);
		return;
	}
	if (cl->tun != NULL && !cl->tun->detached) {
		close(fd);	/* the session came back meanwhile */
		return;
	}
	cl->connected = true;
	st = (struct tunnel_start){
		.role = TUNNEL_CLIENT,
		.peer = sa,
		.peerlen = salen,
		.cs = cl->cs,
		.keep = cl->keep ? &cl->kept : NULL,
		/*
		 * No worker pool: the client's device is made and removed
		 * on its own loop.  The process carries this one session,
		 * so nothing else waits behind it, and the server forwards
		 * from the moment it sent HELLO_ACK: a device made off the
		 * loop would leave a window in which those first packets
		 * find no device and are dropped.
		 */
		.pool = NULL,
		.scratch = cl->proc.scratch,
		.cbs = &client_tunnel_cbs,
		.arg = cl,
	};
	if (cl->cs->legacy == CONF_LEGACY_VTUN) {
		struct vtunsess *l = vtunsess_new(cl->proc.base, &st, fd,
		    cl->vlib);

		if (l == NULL)
			goto failed;
		cl->tun = vtunsess_tunnel(l);
		return;
	}
	ssl = handshake_client_ssl_new(cl->hc);
	bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(cl->proc.base,
	    fd, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		close(fd);
		goto failed;
	}
	if (cl->tun != NULL) {
		/* The session lives on; this connection is to re-attach it. */
		session_redial(cl->tun->owner, bev, sa, salen);
		return;
	}
	s = session_new(cl->proc.base, &st, bev);
	if (s == NULL)
		goto failed;
	if (cl->cli->local != NULL)
		session_pin_source(s);
	cl->tun = session_tunnel(s);
	return;
failed:
	cl->connected = false;
	snprintf(cl->last_error, sizeof(cl->last_error), "cannot start a "
	    "session with %s (the log says why)", cl->host);
	client_attempt_failed(cl);
}

/*
 * One attempt: the round's current server, its name resolved afresh
 * (the system's resolver, off the loop) and every address tried.
 */
static void
client_attempt(struct client *cl)
{
	/* Nothing to dial for while a session has its connection. */
	if (cl->proc.stopping || (cl->tun != NULL && !cl->tun->detached))
		return;
	if (cl->pos >= cl->norder)
		client_round(cl);
	cl->host = client_server(cl, cl->order[cl->pos]);
	if (cl->dials < UINT_MAX)
		cl->dials++;
	notify_status("connecting to %s (attempt %u)", cl->host, cl->dials);
	cl->conn = resolve_connect(cl->proc.base, cl->host, cl->port,
	    cl->cli->family, cl->cli->local, cl->cs->tag, client_connectedcb,
	    cl);
	if (cl->conn != NULL && conf_session_full_tunnel(cl->cs, AF_UNSPEC))
		resolve_set_mark(cl->conn, cl->cs->fwmark);
	if (cl->conn == NULL) {
		snprintf(cl->last_error, sizeof(cl->last_error), "cannot "
		    "start connecting to %s (the log says why)", cl->host);
		client_attempt_failed(cl);
	}
}

static void
client_retrycb(evutil_socket_t fd, short what, void *arg)
{
	client_attempt(arg);
}

static void
client_expired(void *arg)
{
	struct client *cl = arg;

	log_warnx("%s: the session did not close within %d s; exiting "
	    "anyway", cl->cs->name, PROC_STOP_GRACE_S);
}

/*
 * SIGHUP: re-read the file.  Unchanged settings: nothing happens.
 * Changed: the session closes and reconnects at once with the new ones.
 * A bad file, or one without our session, changes nothing.  Done at
 * once, on the loop: a changed passphrase costs one scrypt here, and
 * the one session it would hold up is closed by the change anyway.
 */
static bool
client_reload(void *arg)
{
	struct client *cl = arg;
	const struct conf_session *ncs;
	struct conf *nc;
	char err[256];
	bool room;
	int idx;

	if ((nc = conf_reload(cl->proc.conf)) == NULL)
		return false;
	ncs = conf_session_find(nc, cl->cs->name);
	room = proc_conf_reserve(&cl->proc) == 0;
	if (ncs == NULL || !room) {
		log_err("reload: %s; the running configuration stays",
		    ncs == NULL ? "the session is no longer in the file" :
		    "out of memory");
		conf_free(nc);
		return false;
	}
	idx = cl->tun != NULL ? cl->tun->peer_key : -1;
	if (conf_session_equal(cl->cs, ncs)) {
		if (cl->tun != NULL)
			cl->tun->cs = ncs;
		log_notice("reloaded: %s unchanged", ncs->name);
	} else if (cl->tun != NULL && cl->tun->peer_key != -1 &&
	    conf_session_keeps(cl->cs, ncs, &idx)) {
		/* The server's key list changed, but not the key in use. */
		if (client_prepare(cl, ncs, err, sizeof(err)) != 0) {
			log_err("reload: %s; the running configuration stays",
			    err);
			conf_free(nc);
			return false;
		}
		handshake_client_use_key(cl->hc, idx);
		cl->tun->peer_key = idx;
		cl->tun->cs = ncs;
		log_notice("reloaded: %s's keys changed; the one in use stays, "
		    "the session goes on", ncs->name);
	} else {
		if (client_prepare(cl, ncs, err, sizeof(err)) != 0) {
			log_err("reload: %s; the running configuration stays",
			    err);
			conf_free(nc);
			return false;
		}
		log_notice("reloaded: %s changed; reconnecting", ncs->name);
		cl->attempt = 0;
		/* The server list may have changed: a new round. */
		cl->pos = cl->norder;
		cl->connected = false;
		cl->redial_now = cl->tun != NULL;
		if (cl->tun != NULL)
			cl->tun->kind->close(cl->tun, WIRE_CLOSE_SHUTDOWN,
			    "configuration changed");
	}
	cl->cs = ncs;
	cl->persist = cl->cli->persist || ncs->persist != CONF_PERSIST_NO;
	proc_conf_replace(&cl->proc, nc);
	return false;
}

/* SIGTERM/SIGINT: send CLOSE, let down commands run, exit 0. */
static void
client_stop(void *arg, int sig)
{
	struct client *cl = arg;

	log_notice("%s: %s, closing", cl->cs->name, strsignal(sig));
	cl->exit_code = 0;
	proc_stop(&cl->proc);
	evtimer_del(cl->retry);
	resolve_cancel(cl->conn);
	cl->conn = NULL;
	if (cl->tun != NULL)
		cl->tun->kind->close(cl->tun, WIRE_CLOSE_SHUTDOWN,
		    "client stopping");
	else
		client_finish(cl);
}

/* The status report: the one session, also between two attempts. */
static void
client_collect(struct control_report *r, void *arg)
{
	struct client *cl = arg;
	struct control_session *e;
	uint64_t now = util_now_ms();

	if ((e = control_report_add(r)) == NULL)
		return;
	if (cl->tun != NULL) {
		control_tunnel_fill(e, cl->tun, now);
		e->server = cl->host;
		if (!tunnel_is_up(cl->tun) && cl->last_error[0] != '\0')
			e->last_error = cl->last_error;
		e->total = cl->closed;
		control_totals_add(&e->total, e);
		return;
	}
	e->total = cl->closed;
	e->name = cl->cs->name;
	e->server = cl->host;
	if (cl->last_error[0] != '\0')
		e->last_error = cl->last_error;
	/* The address being tried, if the name has one yet. */
	if (cl->conn != NULL && resolve_trying(cl->conn)[0] != '\0')
		e->peer = resolve_trying(cl->conn);
	e->udp = cl->cs->proto == CONF_PROTO_UDP;
	if (cl->proc.stopping || cl->down != NULL) {
		e->state = CONTROL_CLOSING;
	} else if (evtimer_pending(cl->retry, NULL)) {
		e->state = CONTROL_RECONNECTING;
		e->retry_in_ms = cl->retry_at_ms > now ?
		    cl->retry_at_ms - now : 0;
	} else {
		e->state = CONTROL_CONNECTING;
	}
}

static const struct proc_ops client_proc_ops = {
	.reload = client_reload,
	.stop = client_stop,
	.expired = client_expired,
	.collect = client_collect,
};

int
client_run(const struct conf *conf, const struct conf_session *cs,
    const char *server, const struct cli *cli)
{
	struct client cl = { .cs = cs, .cli = cli, .server = server,
		.exit_code = 1 };
	char err[256], ctlpath[PATH_MAX];

	/* Every line of this process is about the one session. */
	log_set_session(cs->name);
	cl.persist = cli->persist || cs->persist != CONF_PERSIST_NO;
	cl.keep = cs->persist == CONF_PERSIST_KEEP;
	snprintf(cl.port, sizeof(cl.port), "%d",
	    cli->port != 0 ? cli->port : conf->options.port);
	if (proc_init(&cl.proc, conf, &client_proc_ops, &cl) != 0)
		return 1;
	if (client_prepare(&cl, cs, err, sizeof(err)) != 0) {
		log_err("%s: %s", cs->name, err);
		goto out;
	}
	cl.retry = evtimer_new(cl.proc.base, client_retrycb, &cl);
	if (cl.retry == NULL || proc_signals(&cl.proc) != 0)
		goto out;
	control_client_path(conf->options.control, cs->name, ctlpath,
	    sizeof(ctlpath));
	proc_control(&cl.proc, ctlpath);
	if (proc_drop(&cl.proc) != 0)
		goto out;
	/*
	 * No READY=1 yet: client_upcb sends it once the tunnel is up.
	 * Without persist a first attempt that fails ends the process
	 * before that, so that `systemctl start` fails too.
	 */
	proc_watchdog(&cl.proc);
	client_attempt(&cl);
	(void)proc_dispatch(&cl.proc);
out:
	resolve_cancel(cl.conn);
	if (cl.tun != NULL)
		cl.tun->kind->free(cl.tun);
	if (cl.down != NULL)
		script_run_cancel(cl.down);
	tunnel_dev_close_now(&cl.kept);
	if (cl.retry != NULL)
		event_free(cl.retry);
	handshake_client_free(cl.hc);
	vtun_lib_free(cl.vlib);
	proc_free(&cl.proc);
	return cl.exit_code;
}
