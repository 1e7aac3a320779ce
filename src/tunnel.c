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
#include "worker.h"

/*
 * Making a device: what the worker needs, copied, and what it made.
 * The loop does not touch it while the work runs; after a cancel it is
 * the pool's, and tunnel_devjob_cleanup undoes and frees it.
 */
struct tunnel_devjob {
	struct worker_job *job;
	struct tunnel *t;		/* read on the loop only */
	const struct conf_session *cs;	/* every conf lives until exit */
	enum dev_type type;
	int mtu, queues;
	bool offload;
	/* The client's kept device: only its MTU is set, and it is never
	 * closed here (the keep slot still holds it). */
	bool borrowed;
	struct dev dev;		/* made here, or the kept one's copy */
	struct dev old;		/* a kept device of another type: removed */
	char note[512];		/* lines for the log (info) */
	char warn[512];		/* lines for the log (warnings) */
	char err[256];
};

/* Removing a device, then (if the tunnel still waits) its down commands. */
struct tunnel_closejob {
	struct tunnel *t;	/* NULL: nobody waits (freed, or disposed) */
	const struct conf_session *cs;
	struct dev dev;
	char err[512];
};

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
	t->peer_key = -1;
	t->rl_preauth = st->rl_preauth;
	t->pool = st->pool;
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
	if (t->devjob != NULL) {
		worker_cancel(t->devjob->job);
		t->devjob = NULL;
	}
	/* A device being removed still goes; nothing waits for it. */
	if (t->closejob != NULL) {
		t->closejob->t = NULL;
		t->closejob = NULL;
	}
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

/* ------------------------------------------------------------------ */
/* The device, made and removed on the worker pool */

/* Each line of text into the log at level. */
static void
tunnel_log_lines(int level, const char *text)
{
	const char *nl;

	while (text != NULL && *text != '\0') {
		nl = strchr(text, '\n');
		log_msg(level, "%.*s", nl != NULL ? (int)(nl - text) :
		    (int)strlen(text), text);
		text = nl != NULL ? nl + 1 : NULL;
	}
}

void
tunnel_dev_close_now(struct dev *d)
{
	char err[512];

	if (netcfg_dev_close(d, err, sizeof(err)) != 0)
		tunnel_log_lines(LOG_WARNING, err);
}

/* On a worker: the kept device of the wrong type goes, then ours is made
 * and configured (or the kept one gets our MTU). */
static const char *
tunnel_devjob_work(void *arg)
{
	struct tunnel_devjob *j = arg;

	if (j->old.nqueues > 0)
		(void)netcfg_dev_close(&j->old, j->warn, sizeof(j->warn));
	if (j->borrowed)
		return dev_set_mtu(&j->dev, j->mtu, j->err,
		    sizeof(j->err)) == 0 ? NULL : j->err;
	if (dev_open(&j->dev, j->type, j->cs->device, j->queues, j->offload,
	    j->err, sizeof(j->err)) != 0)
		return j->err;
	if (netcfg_dev_setup(&j->dev, j->mtu, j->cs, j->note, sizeof(j->note),
	    j->err, sizeof(j->err)) != 0) {
		/* Half-configured: never keep it for a retry. */
		dev_close(&j->dev);
		return j->err;
	}
	return NULL;
}

/*
 * On a worker, for a session that ended before its device was ready:
 * remove whatever was made.  Nobody is left to tell of a rule that
 * would not go (it is left as a daemon killed at that moment would).
 */
static void
tunnel_devjob_cleanup(void *arg, bool ran)
{
	struct tunnel_devjob *j = arg;
	char err[512];

	if (j->old.nqueues > 0)
		(void)netcfg_dev_close(&j->old, err, sizeof(err));
	if (ran && !j->borrowed && j->dev.nqueues > 0)
		(void)netcfg_dev_close(&j->dev, err, sizeof(err));
	free(j);
}

static void tunnel_closejob_done(void *arg, const char *err);

/* On a worker: the device goes (its rules first). */
static const char *
tunnel_closejob_work(void *arg)
{
	struct tunnel_closejob *j = arg;

	return netcfg_dev_close(&j->dev, j->err, sizeof(j->err)) == 0 ? NULL :
	    j->err;
}

/*
 * Hand d's device to the pool to be removed (d is left empty, its name
 * kept): t, if not NULL, waits for it (t->closejob) and then runs cs's
 * down commands.  0 when under way, -1 when it was closed here (no pool,
 * or the pool refused).
 */
static int
tunnel_dev_close_start(struct worker_pool *pool, struct tunnel *t,
    const struct conf_session *cs, struct dev *d)
{
	struct tunnel_closejob *j;

	if (pool == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		tunnel_dev_close_now(d);
		return -1;
	}
	j->t = t;
	j->cs = cs;
	j->dev = *d;
	if (worker_submit(pool, d->name, tunnel_closejob_work,
	    tunnel_closejob_done, NULL, j) == NULL) {
		free(j);
		tunnel_dev_close_now(d);
		return -1;
	}
	/* The fds are the job's now; the name stays for %d. */
	d->nqueues = 0;
	d->rules = 0;
	if (t != NULL)
		t->closejob = j;
	return 0;
}

/* Back on the loop: the device is ready, or why not. */
static void
tunnel_devjob_done(void *arg, const char *err)
{
	struct tunnel_devjob *j = arg;
	struct tunnel *t = j->t;
	char why[sizeof(j->err)];

	t->devjob = NULL;
	tunnel_log_lines(LOG_WARNING, j->warn);
	tunnel_log_lines(LOG_INFO, j->note);
	if (err == NULL) {
		if (!j->borrowed) {
			*t->dev = j->dev;
			t->dev_fresh = true;
		}
		t->dev_ready = true;
	} else if (j->borrowed) {
		/* A kept device whose MTU is not ours is no use either. */
		(void)tunnel_dev_close_start(t->pool, NULL, NULL, t->dev);
	}
	util_strlcpy(why, err != NULL ? err : "", sizeof(why));
	free(j);
	t->kind->dev_done(t, why[0] != '\0' ? why : NULL);
}

int
tunnel_dev_open(struct tunnel *t, const struct conf_session *cs,
    enum dev_type type, int mtu, int queues, bool offload, char *err,
    size_t errlen)
{
	struct tunnel_devjob *j;

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
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return util_err(err, errlen, "out of memory");
	j->t = t;
	j->cs = cs;
	j->type = type;
	j->mtu = mtu;
	j->queues = queues;
	j->offload = offload;
	/*
	 * The kept device: of our type, it is lent (the keep slot keeps
	 * it); of another, it is the job's to remove before ours is made.
	 */
	if (t->dev->nqueues > 0 && t->dev->type == type) {
		j->borrowed = true;
		j->dev = *t->dev;
	} else if (t->dev->nqueues > 0) {
		j->old = *t->dev;
		t->dev->nqueues = 0;
		t->dev->rules = 0;
	}
	t->devjob = j;
	if (t->pool == NULL) {
		/* No pool (tests): the same steps, here and now. */
		tunnel_devjob_done(j, tunnel_devjob_work(j));
		return 0;
	}
	/* A fixed name waits for a device of that name being removed. */
	if ((j->job = worker_submit(t->pool, j->borrowed ? j->dev.name :
	    strchr(cs->device, '%') == NULL ? cs->device : NULL,
	    tunnel_devjob_work, tunnel_devjob_done, tunnel_devjob_cleanup,
	    j)) == NULL) {
		t->devjob = NULL;
		if (j->old.nqueues > 0)
			*t->dev = j->old;	/* still kept, as it was */
		free(j);
		return util_err(err, errlen, "the worker pool takes no more "
		    "jobs (%zu devices being set up or removed)",
		    worker_pool_jobs(t->pool));
	}
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

/* The device is gone: the down commands, if it was ours and fresh. */
static void
tunnel_down_start(struct tunnel *t, const struct conf_session *cs)
{
	struct script_argv *down;
	struct script_env env;
	size_t ndown, nown;

	if (!t->dev_fresh)
		return;
	tunnel_script_env(t, cs, &env);
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

/* Back on the loop: the device is gone; its down commands may run. */
static void
tunnel_closejob_done(void *arg, const char *err)
{
	struct tunnel_closejob *j = arg;
	struct tunnel *t = j->t;

	tunnel_log_lines(LOG_WARNING, err);
	if (t != NULL) {
		t->closejob = NULL;
		tunnel_down_start(t, j->cs);
		/* Nothing to run: the owner may be gone now. */
		if (!t->down_running)
			t->kind->down_done(t);
	}
	free(j);
}

void
tunnel_release(struct tunnel *t, const struct conf_session *cs)
{
	if (t->devjob != NULL) {
		/* Not ready yet: the pool removes what it makes. */
		worker_cancel(t->devjob->job);
		t->devjob = NULL;
		return;
	}
	if (!t->dev_ready)
		return;
	t->dev_ready = false;
	if (t->dev != &t->own_dev)
		return;
	if (tunnel_dev_close_start(t->pool, t, cs, t->dev) != 0)
		tunnel_down_start(t, cs);
}

void
tunnel_maybe_gone(struct tunnel *t, bool over)
{
	if (over && !t->down_running && t->script == NULL &&
	    t->closejob == NULL)
		event_active(t->reap, 0, 0);
}
