/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon process that server and client alike are: its event loop,
 * the signals it answers, the stop's grace period, the service
 * manager's watchdog, the status socket, the drop of root, and what a
 * reload leaves behind (the configurations it replaced).  The role
 * (server.c or client.c) owns one struct proc, takes the steps below in
 * its own order, and reads the fields; only proc_* functions change
 * them.
 *
 * What comes back to the role, through its proc_ops:
 *	SIGHUP		reload(), between RELOADING=1 and READY=1 to the
 *			service manager once proc_ready() was called
 *			(READY=1 at proc_reloaded() when the reload goes
 *			on off the loop); ignored while stopping
 *	SIGTERM, SIGINT	stop(), the first one only
 *	the grace after proc_stop() ran out	expired(), then the loop ends
 *	a status request, SIGUSR1	collect()
 */
#ifndef TAPLINE_PROC_H
#define TAPLINE_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct ctlsock;
struct scratch;
struct control_report;
struct worker_pool;
struct event;
struct event_base;

/* How long a stop waits for sessions to close and down commands to end. */
#define PROC_STOP_GRACE_S 35

struct proc_ops {
	/*
	 * Re-read the configuration (p->conf->path).  true when it goes on
	 * in the background (keys derived on the worker pool): the role
	 * calls proc_reloaded() once it is over.
	 */
	bool (*reload)(void *arg);
	/*
	 * Log why (sig), call proc_stop(), and close what the role runs;
	 * once all is closed, the role ends the loop.
	 */
	void (*stop)(void *arg, int sig);
	/* Say what did not close in time; the loop ends right after. */
	void (*expired)(void *arg);
	/* Fill the status report (control_report_add()). */
	void (*collect)(struct control_report *r, void *arg);
};

struct proc {
	struct event_base *base;
	struct scratch *scratch;	/* the loop's packet buffers (scratch.h) */
	const struct conf *conf;	/* the running configuration */
	const struct conf *conf_first;	/* the caller's; the others are ours */
	/*
	 * Configurations replaced by a reload stay allocated until exit:
	 * sessions that were closing or handshaking may still point into
	 * them.  One small struct per reload is cheap next to chasing
	 * those pointers.
	 */
	struct conf **old_confs;
	size_t nold_confs;
	bool stopping;		/* proc_stop() was called */
	bool ready;		/* proc_ready() told the service manager */

	const struct proc_ops *ops;
	void *arg;		/* the role's, for ops */
	struct event *sig[3];
	struct event *stop_deadline;
	struct event *watchdog;	/* systemd's WatchdogSec, or NULL */
	struct ctlsock *ctl;	/* the status socket and SIGUSR1, or NULL */
	/* What must not run on the loop runs here (worker.h): devices
	 * made and removed, and, two at a time, a reload's scrypt. */
	struct worker_pool *pool;
	struct worker_pool *kdf_pool;
};

/*
 * Process hygiene for the daemon modes, first thing: a peer closing a
 * socket must not kill us (SIGPIPE), files we create are ours alone,
 * and a core dump must not carry keys.
 */
void proc_harden(void);

/* Descriptors beyond the sessions': listeners, sockets, logs, commands. */
#define PROC_NOFILE_RESERVE 64

/*
 * The descriptors a server running conf may hold at once: per session
 * its device queues and its TLS connection (UDP sessions share the one
 * socket), every connection that has not authenticated yet (the global
 * cap preauth_caps_for gives conf's sessions), and a reserve.
 */
size_t proc_nofile_need(const struct conf *conf);

/* The same without the unauthenticated connections. */
size_t proc_nofile_sessions(const struct conf *conf);

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit (the 1024 soft default
 * would stop a hub at a few hundred sessions), and warn when need does
 * not fit even so.  Returns the soft limit now in force.
 */
unsigned long proc_nofile_raise(size_t need);

/*
 * A process running conf (which stays the caller's to free) with a new
 * event loop and its worker pool (whose threads start with its first
 * job, after the drop of root); the role gets ops called with arg.  0,
 * or -1 (logged).
 */
int proc_init(struct proc *p, const struct conf *conf,
    const struct proc_ops *ops, void *arg);

/* Answer SIGHUP, SIGTERM and SIGINT from now on.  0, or -1. */
int proc_signals(struct proc *p);

/*
 * The stop has begun: tell the service manager, and end the loop after
 * PROC_STOP_GRACE_S whatever is still open.
 */
void proc_stop(struct proc *p);

/*
 * The role does its job (the server listens, the client's tunnel is
 * up), after any drop of root: READY=1 to the service manager, which
 * ends `systemctl start`.  Only the first call sends; none once the
 * stop has begun.
 */
void proc_ready(struct proc *p);

/*
 * Ping the service manager's watchdog from the loop from now on, if it
 * asked for one: a stuck loop then stops the pings.
 */
void proc_watchdog(struct proc *p);

/*
 * Serve the status socket at path, and SIGUSR1, with collect()'s
 * reports.  Problems are logged and leave status unavailable, not the
 * daemon down.
 */
void proc_control(struct proc *p, const char *path);

/*
 * Once the sockets are open: become options.user (if set), keeping only
 * CAP_NET_ADMIN.  0, or -1 (logged).
 */
int proc_drop(struct proc *p);

/* Run the loop until the role ends it.  0, or -1 (logged). */
int proc_dispatch(struct proc *p);

/* A reload that went on in the background is over (applied or not). */
void proc_reloaded(struct proc *p);

/*
 * Room to keep the running configuration when a reload replaces it,
 * made before the reload commits to anything; 0, or -1 when out of
 * memory (the running configuration then stays).
 */
int proc_conf_reserve(struct proc *p);

/*
 * nc (from conf_reload) is the running configuration from now on; the
 * one it replaces stays allocated until proc_free().  Needs a
 * successful proc_conf_reserve() since the last replace.
 */
void proc_conf_replace(struct proc *p, struct conf *nc);

/*
 * Free what the process holds, the loop and the configurations reloads
 * made too; after everything of the role's that uses the loop.  The
 * worker pool goes first: what it still has queued (devices being
 * removed) runs to its end.
 */
void proc_free(struct proc *p);

#endif
