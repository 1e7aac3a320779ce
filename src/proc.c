/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctlsock.h"
#include "log.h"
#include "notify.h"
#include "preauth.h"
#include "priv.h"
#include "proc.h"
#include "scratch.h"
#include "util.h"
#include "worker.h"

void
proc_harden(void)
{
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	/*
	 * At line rate 64 KiB buffers (super-packet frames, evbuffer chains)
	 * come and go thousands of times a second: keep freed memory in the
	 * heap rather than paying brk/munmap and fresh page faults each time.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warnx("cannot disable core dumps: %s", strerror(errno));
}

size_t
proc_nofile_sessions(const struct conf *conf)
{
	size_t i, n = PROC_NOFILE_RESERVE;

	for (i = 0; i < conf->nsessions; i++)
		n += (size_t)conf->sessions[i].queues + 1;
	return n;
}

size_t
proc_nofile_need(const struct conf *conf)
{
	struct preauth_caps caps;

	preauth_caps_for(&caps, conf->nsessions, SIZE_MAX);
	return proc_nofile_sessions(conf) + caps.all;
}

unsigned long
proc_nofile_raise(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warnx("cannot read the limit of open files: %s",
		    strerror(errno));
		return 0;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { .rlim_cur = rl.rlim_max,
			.rlim_max = rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
		else
			log_warnx("cannot raise the limit of open files to "
			    "%llu: %s", (unsigned long long)rl.rlim_max,
			    strerror(errno));
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warnx("the configured sessions may need %zu open files, "
		    "but the limit is %llu: raise it (LimitNOFILE= in the "
		    "unit, or ulimit -Hn)", need,
		    (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 :
	    (unsigned long)rl.rlim_cur;
}

int
proc_init(struct proc *p, const struct conf *conf,
    const struct proc_ops *ops, void *arg)
{
	char err[128];

	*p = (struct proc){ .conf = conf, .conf_first = conf, .ops = ops,
		.arg = arg };
	if ((p->base = util_event_base_new()) == NULL ||
	    (p->scratch = scratch_new()) == NULL) {
		log_err("cannot create the event loop");
		goto fail;
	}
	if ((p->pool = worker_pool_new(p->base, WORKER_DEV_THREADS,
	    WORKER_JOBS_MAX, err, sizeof(err))) == NULL ||
	    (p->kdf_pool = worker_pool_new(p->base, WORKER_THREADS,
	    WORKER_JOBS_MAX, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		goto fail;
	}
	return 0;
fail:
	/* Whatever was made so far; the caller has nothing to free. */
	proc_free(p);
	return -1;
}

/*
 * A reload is bracketed for the service manager (Type=notify-reload
 * waits for READY=1 again), once the process has said it is ready: a
 * READY=1 after a reload early in the start would tell the manager
 * that the start is over while the client's tunnel is not up yet.  A
 * stopping process reloads nothing, and a second stop signal changes
 * nothing.
 */
static void
proc_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct proc *p = arg;

	if (p->stopping)
		return;
	if (sig == SIGHUP) {
		if (p->ready)
			notify_reloading();
		if (!p->ops->reload(p->arg) && p->ready)
			notify_ready();
		return;
	}
	p->ops->stop(p->arg, (int)sig);
}

void
proc_reloaded(struct proc *p)
{
	if (p->ready && !p->stopping)
		notify_ready();
}

static void
proc_stop_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	p->ops->expired(p->arg);
	event_base_loopexit(p->base, NULL);
}

int
proc_signals(struct proc *p)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;

	p->stop_deadline = evtimer_new(p->base, proc_stop_deadlinecb, p);
	if (p->stop_deadline == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		p->sig[i] = evsignal_new(p->base, sigs[i], proc_signalcb, p);
		if (p->sig[i] == NULL || evsignal_add(p->sig[i], NULL) != 0)
			return -1;
	}
	return 0;
}

void
proc_stop(struct proc *p)
{
	p->stopping = true;
	notify_stopping();
	event_add(p->stop_deadline,
	    &(struct timeval){ .tv_sec = PROC_STOP_GRACE_S });
}

void
proc_ready(struct proc *p)
{
	if (p->ready || p->stopping)
		return;
	p->ready = true;
	notify_ready();
}

void
proc_watchdog(struct proc *p)
{
	p->watchdog = notify_watchdog_new(p->base);
}

void
proc_control(struct proc *p, const char *path)
{
	p->ctl = ctlsock_new(p->base, path, p->conf->options.user,
	    p->ops->collect, p->arg);
	ctlsock_metrics(p->ctl, p->conf->options.metrics_listen);
}

int
proc_drop(struct proc *p)
{
	const struct conf_options *o = &p->conf->options;
	char err[256];

	switch (priv_drop(o->user, o->group, err, sizeof(err))) {
	case PRIV_NONE:
		break;
	case PRIV_DROPPED:
		log_notice("running as %s with CAP_NET_ADMIN only", o->user);
		break;
	case PRIV_ALREADY:
		log_info("already running as %s; nothing to drop", o->user);
		break;
	case PRIV_UNPRIVILEGED:
		log_notice("options.user = \"%s\" not applied: already "
		    "running unprivileged (uid %u), without the right to "
		    "change users", o->user, (unsigned)getuid());
		break;
	default:
		log_err("%s", err);
		return -1;
	}
	return 0;
}

int
proc_dispatch(struct proc *p)
{
	if (event_base_dispatch(p->base) == -1) {
		log_err("event loop failed");
		return -1;
	}
	return 0;
}

int
proc_conf_reserve(struct proc *p)
{
	struct conf **olds;

	olds = realloc(p->old_confs, (p->nold_confs + 1) * sizeof(*olds));
	if (olds == NULL)
		return -1;
	p->old_confs = olds;
	return 0;
}

/* The caller's configuration is never ours to keep (or to free). */
void
proc_conf_replace(struct proc *p, struct conf *nc)
{
	if (p->conf != p->conf_first)
		p->old_confs[p->nold_confs++] = (struct conf *)p->conf;
	p->conf = nc;
}

void
proc_free(struct proc *p)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (p->sig[i] != NULL)
			event_free(p->sig[i]);
	if (p->stop_deadline != NULL)
		event_free(p->stop_deadline);
	if (p->watchdog != NULL)
		event_free(p->watchdog);
	ctlsock_free(p->ctl);
	worker_pool_free(p->kdf_pool);
	worker_pool_free(p->pool);
	if (p->base != NULL)
		event_base_free(p->base);
	scratch_free(p->scratch);
	if (p->conf != p->conf_first)
		conf_free((struct conf *)p->conf);
	for (i = 0; i < p->nold_confs; i++)
		conf_free(p->old_confs[i]);
	free(p->old_confs);
	*p = (struct proc){ .conf = p->conf_first,
		.conf_first = p->conf_first };
}
