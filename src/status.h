/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `tapline status` and `tapline wait`: find the daemons of this host by
 * their status sockets (the server's at options.control, each client's
 * next to it, control_client_path), ask them (ctlsock_ask), and print,
 * merge or judge their answers.
 */
#ifndef TAPLINE_STATUS_H
#define TAPLINE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* Exit codes beyond 0, 1 and 2 (tapline(8)). */
#define STATUS_EXIT_NOT_UP 3	/* status --check: a session is not up */

/* How often `wait` asks again. */
#define STATUS_WAIT_POLL_MS 200

/* One daemon found on the host. */
struct status_daemon {
	char path[108];		/* its socket; fits a sockaddr_un */
	char session[65];	/* a client's session; "" for the server */
};

/*
 * The daemons whose sockets are at base (options.control: the server)
 * and next to it (base without ".sock", "-NAME.sock": clients), in
 * that order, the clients by name.  *n of them, malloc'd (NULL and 0
 * if none, or out of memory).
 */
struct status_daemon *status_find(const char *base, size_t *n);

/*
 * The tally of `status --check`: one "NAME STATE [WHY]" answer (the
 * states format) of a daemon added.  A name is up when any of its
 * lines says "up" (several connections with multi = allow).
 */
struct status_entry {
	char role[80];		/* "server", "client", or a socket's path */
	char name[65];		/* "" for a daemon that did not answer */
	bool up;
	char why[256];		/* "waiting", "reconnecting: ...", ... */
};
struct status_tally {
	struct status_entry *e;
	size_t n;
	bool oom;
};
void status_tally_add(struct status_tally *t, const char *role,
    const char *answer);
/* A daemon that did not answer: it counts as one session not up. */
void status_tally_fail(struct status_tally *t, const char *what);
/* The one line `status --check` prints, and its exit code. */
int status_tally_line(const struct status_tally *t, char *buf, size_t len);
void status_tally_free(struct status_tally *t);

/* The commands: print, and return the exit code. */
int status_run(const struct cli *c);
int status_wait(const struct cli *c);

#endif
