/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket: a unix stream socket at options.control, mode
 * 0600, where `tapline status` asks the running daemon about its
 * sessions (the request and the report are control.h's).  The daemon's
 * end (ctlsock_new) runs in the daemon's event loop and asks its owner
 * for a fresh report on every request and on SIGUSR1 (ctlsock_log),
 * which logs the same counters; `tapline status` is the other end
 * (ctlsock_query).
 */
#ifndef TAPLINE_CTLSOCK_H
#define TAPLINE_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>

#include "control.h"

/* Limits of the socket (ATTACKS: a local root-only socket, still bounded). */
#define CTLSOCK_CLIENTS_MAX 8
#define CTLSOCK_REQUEST_DEADLINE_MS 1000
#define CTLSOCK_ANSWER_DEADLINE_MS 5000	/* to read the whole answer */
/* `tapline status`: how long it waits for the daemon's answer. */
#define CTLSOCK_QUERY_TIMEOUT_MS 5000
/* What the client reads at most (thousands of sessions fit). */
#define CTLSOCK_ANSWER_MAX (16 * 1024 * 1024)

/* The daemon fills a report (control_report_add) for every request. */
typedef void (*ctlsock_collect_fn)(struct control_report *r, void *arg);

struct ctlsock;

/*
 * Serve the status socket at path in base's loop.  Its directory must be
 * owned by root, by us or by user (options.user, "" or NULL for none:
 * the daemon drops to it) and writable by nobody else, as must the ones
 * above it unless sticky.  Problems with the socket are logged and
 * leave status unavailable, not the daemon down; NULL only when out of
 * memory.
 */
struct ctlsock *ctlsock_new(struct event_base *base, const char *path,
    const char *user, ctlsock_collect_fn collect, void *arg);
/* Close every connection and remove the socket file if it is ours. */
void ctlsock_free(struct ctlsock *c);
/* SIGUSR1: log one line per session at notice level. */
void ctlsock_log(struct ctlsock *c);

/*
 * Serve the metrics at listen (options.metrics_listen; "" or NULL: off)
 * with the same reports, until ctlsock_free.  Problems are logged.
 */
void ctlsock_metrics(struct ctlsock *c, const char *listen);

/*
 * `tapline status`: ask the daemon at path for session (NULL: all) in
 * format f.  The whole answer (NUL-terminated, *len bytes, to free), or
 * NULL with one line in err and, if connect(2) failed, its errno in
 * *errnop (ECONNREFUSED: a stale socket file); else *errnop is 0.
 */
char *ctlsock_ask(const char *path, const char *session,
    enum control_format f, size_t *len, int *errnop, char *err,
    size_t errlen);

/*
 * Print an answer on out, other control bytes and anything beyond
 * ASCII escaped (a terminal shows it).  0, or -1 (errno).
 */
int ctlsock_print(FILE *out, const char *buf, size_t len);

/*
 * `tapline status`: ask the daemon at path and print its answer on out.
 * Returns 0, or 1 with one line in err (nothing listens, no such
 * session, ...).
 */
int ctlsock_query(const char *path, const char *session, bool json,
    FILE *out, char *err, size_t errlen);

#endif
