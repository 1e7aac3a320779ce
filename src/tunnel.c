/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The life cycle every kind of session shares (see tunnel.h): device,
 * up and down commands, the end.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netcfg.h"
#include "tunnel.h"
#include "util.h"

/* Run the owner's gone callback from the loop, never from inside ours. */
static void
tunnel_reapcb(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;

	t->cbs->gone(t, t->arg);
}

int
tunnel_init(struct tunnel *t, struct event_base *base,
    const struct tunnel_kind *kind, void *owner,
    const struct tunnel_start *st)
{
	memset(t, 0, sizeof(*t));
	t->base = base;
	t->kind = kind;
	t->owner = owner;
	t->role = st->role;
	t->state = TUNNEL_HANDSHAKE;
	t->cbs = st->cbs;
	t->arg = st->arg;
	t->cs = st->cs;
	t->rl_preauth = st->rl_preauth;
	t->dev = st->keep != NULL ? st->keep : &t->own_dev;
	t->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	tunnel_set_peer(t, st->peer, st->peerlen);
	t->reap = event_new(base, -1, 0, tunnel_reapcb, t);
	return t->reap != NULL ? 0 : -1;
}

void
tunnel_set_peer(struct tunnel *t, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct sockaddr_storage ss;

	/* peer may point into t->peer itself. */
	if (peerlen > sizeof(ss))
		peerlen = sizeof(ss);
	memcpy(&ss, peer, peerlen);
	memcpy(&t->peer, &ss, peerlen);
	t->peerlen = peerlen;
	util_sockaddr_parts((struct sockaddr *)&ss, t->peer_host,
	    sizeof(t->peer_host), t->peer_port, sizeof(t->peer_port));
	util_sockaddr_str((struct sockaddr *)&ss, t->peer_str,
	    sizeof(t->peer_str));
}

void
tunnel_end(struct tunnel *t)
{
	if (t->state == TUNNEL_CLOSING)
		return;
	t->state = TUNNEL_CLOSING;
	t->kind->teardown(t);
}

void
tunnel_free(struct tunnel *t)
{
	/* Normally the session is closed and gone by now; when the owner
	 * frees it early (out of memory, exit) nothing more may run. */
	tunnel_end(t);
	tunnel_cancel(t);
	if (t->reap != NULL)
		event_free(t->reap);
	t->reap = NULL;
}

void
tunnel_preauth_log(const struct tunnel *t, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (t->rl_preauth != NULL && !t->authenticated)
		log_vrl(t->rl_preauth, level, fmt, ap);
	else
		log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
tunnel_log_close(struct tunnel *t, const char *why)
{
	if (t->end_why[0] == '\0')
		snprintf(t->end_why, sizeof(t->end_why), "%s", why);
	if (t->was_up)
		log_notice("%sclosing the session with %s: %s", tunnel_tag(t),
		    t->peer_str, why);
	else if (t->authenticated)
		log_info("%sclosing the session with %s: %s", tunnel_tag(t),
		    t->peer_str, why);
}

/* What a command sees: %d %h %a %p %A %P and their variables. */
static void
tunnel_script_env(const struct tunnel *t, const struct conf_session *cs,
    struct script_env *env)
{
	env->device = t->dev->name;
	env->session = cs->name;
	env->raddr = t->peer_host;
	env->rport = t->peer_port;
	env->laddr = t->local_host;
	env->lport = t->local_port;
}

int
tunnel_dev_open(struct tunnel *t, const struct conf_session *cs,
    enum dev_type type, int mtu, int queues, bool offload, char *err,
    size_t errlen)
{
	/*
	 * A full tunnel routes the host's own traffic; the server's sockets
	 * (one for every session) carry no mark, and its host's default
	 * route and resolver are not one client's to take.
	 */
	if (t->role == TUNNEL_SERVER && conf_session_full_tunnel(cs,
	    AF_UNSPEC))
		return util_err(err, errlen, "routes 0.0.0.0/0 and ::/0 (a "
		    "full tunnel) are for the client's end only; remove them "
		    "from the server's session");
	if (t->role == TUNNEL_SERVER && cs->ndns > 0)
		return util_err(err, errlen, "dns is for the client's end "
		    "only; remove it from the server's session");
	if (t->dev->nqueues > 0 && t->dev->type != type)
		netcfg_dev_close(t->dev); /* the kept one has the wrong type */
	if (t->dev->nqueues == 0) {
		if (dev_open(t->dev, type, cs->device, queues, offload, err,
		    errlen) != 0 ||
		    netcfg_dev_setup(t->dev, mtu, cs, err, errlen) != 0) {
			/* Half-configured: never keep it for a retry. */
			dev_close(t->dev);
			return -1;
		}
		t->dev_fresh = true;
	} else if (dev_set_mtu(t->dev, mtu, err, errlen) != 0) {
		/* A kept device whose MTU is not ours is no use either. */
		netcfg_dev_close(t->dev);
		return -1;
	}
	t->dev_ready = true;
	return 0;
}

/* The up commands ended: the owner learns how. */
static void
tunnel_up_donecb(int result, void *arg)
{
	struct tunnel *t = arg;

	t->script = NULL;
	t->kind->up_done(t, result);
}

/* The up commands, or at once up_done; -1 if they cannot start. */
static int
tunnel_up_cmds(struct tunnel *t, const struct conf_session *cs)
{
	struct script_env env;

	if (cs->nup == 0) {
		t->kind->up_done(t, 0);
		return 0;
	}
	tunnel_script_env(t, cs, &env);
	t->script = script_run_start(t->base, "up", cs->up, cs->nup, &env,
	    SCRIPT_TIMEOUT_MS, tunnel_up_donecb, t);
	return t->script != NULL ? 0 : -1;
}

/* The DNS servers are set (or failed to be, which ends it like an up
 * command would): the up commands next. */
static void
tunnel_dns_donecb(int result, void *arg)
{
	struct tunnel *t = arg;

	t->script = NULL;
	if (result != 0 || tunnel_up_cmds(t, t->cs) != 0)
		t->kind->up_done(t, -1);
}

int
tunnel_up(struct tunnel *t, const struct conf_session *cs)
{
	struct script_argv *dns;
	struct script_env env;
	int n;

	if (!t->dev_fresh) {
		t->kind->up_done(t, 0);
		return 0;
	}
	if ((n = netcfg_dns_cmds(cs, false, &dns)) == -1)
		return -1;
	if (n == 0)
		return tunnel_up_cmds(t, cs);
	tunnel_script_env(t, cs, &env);
	t->script = script_run_start(t->base, "dns", dns, (size_t)n, &env,
	    SCRIPT_TIMEOUT_MS, tunnel_dns_donecb, t);
	netcfg_dns_cmds_free(dns, n);
	return t->script != NULL ? 0 : -1;
}

void
tunnel_cancel(struct tunnel *t)
{
	if (t->script != NULL) {
		script_run_cancel(t->script);
		t->script = NULL;
	}
}

/* The down commands ended, however they did. */
static void
tunnel_down_donecb(int result, void *arg)
{
	struct tunnel *t = arg;

	t->script = NULL;
	t->down_running = false;
	t->kind->down_done(t);
}

struct script_argv *
tunnel_down_cmds(const struct conf_session *cs, size_t *n, size_t *nown)
{
	struct script_argv *dns, *all;
	int ndns;

	*n = cs->ndown;
	*nown = 0;
	ndns = netcfg_dns_cmds(cs, true, &dns);
	if (ndns <= 0)
		return cs->down;
	all = calloc((size_t)ndns + cs->ndown, sizeof(*all));
	if (all == NULL) {
		netcfg_dns_cmds_free(dns, ndns);
		return cs->down;
	}
	/* Moved, not copied: tunnel_down_cmds_free frees them in all. */
	memcpy(all, dns, (size_t)ndns * sizeof(*all));
	free(dns);
	if (cs->ndown > 0)
		memcpy(all + ndns, cs->down, cs->ndown * sizeof(*all));
	*n = (size_t)ndns + cs->ndown;
	*nown = (size_t)ndns;
	return all;
}

void
tunnel_down_cmds_free(struct script_argv *cmds, size_t nown)
{
	size_t i;

	if (nown == 0)
		return;		/* cmds is the session's own list */
	for (i = 0; i < nown; i++)
		script_argv_free(&cmds[i]);
	free(cmds);
}

void
tunnel_release(struct tunnel *t, const struct conf_session *cs)
{
	struct script_argv *down;
	struct script_env env;
	size_t ndown, nown;

	if (!t->dev_ready)
		return;
	t->dev_ready = false;
	if (t->dev != &t->own_dev)
		return;
	tunnel_script_env(t, cs, &env);
	netcfg_dev_close(t->dev);
	if (!t->dev_fresh)
		return;
	down = tunnel_down_cmds(cs, &ndown, &nown);
	if (ndown > 0) {
		t->down_running = true;
		t->script = script_run_start(t->base, "down", down, ndown,
		    &env, SCRIPT_TIMEOUT_MS, tunnel_down_donecb, t);
		if (t->script == NULL)
			t->down_running = false;
	}
	tunnel_down_cmds_free(down, nown);
}

void
tunnel_maybe_gone(struct tunnel *t, bool over)
{
	if (over && !t->down_running && t->script == NULL)
		event_active(t->reap, 0, 0);
}
