/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A status report (control.h) as metrics for Prometheus and other
 * OpenMetrics scrapers: `tapline status --format openmetrics`, and the
 * same at options.metrics_listen, a small HTTP endpoint in the daemon's
 * loop (GET /metrics).
 *
 * Two expositions of the same families: OpenMetrics 1.0 (a counter
 * family "x" has samples "x_total", UNIT lines, "# EOF" at the end) and
 * Prometheus text 0.0.4 (the family is "x_total"; no UNIT, no EOF), for
 * scrapers and tools that only read the older one (promtool check
 * metrics among them).  The endpoint picks by the request's Accept, as
 * Prometheus's own client libraries do.
 *
 * Counters are the session's totals over the daemon's life
 * (control_totals), never one connection's, so that a reconnect is not
 * read as a counter reset.  Labels: session (its name) and role
 * ("server" or "client": a host may run both ends of a session).  No
 * key, passphrase or address is ever among them.
 */
#ifndef TAPLINE_METRICS_H
#define TAPLINE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "control.h"
#include "ctlsock.h"

/*
 * The endpoint's limits (ATTACKS: unauthenticated, loopback by default):
 * a connection ends after one answer or METRICS_TIMEOUT_S idle, and at
 * most METRICS_CONNS_MAX are accepted per METRICS_TIMEOUT_S.
 */
#define METRICS_CONNS_MAX 16
#define METRICS_TIMEOUT_S 5
#define METRICS_HEADERS_MAX 8192
#define METRICS_BODY_MAX 1024

#define METRICS_OPENMETRICS_TYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define METRICS_PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Write the report's metrics into buf as snprintf does (at most len
 * bytes, terminated when len > 0); returns the length the whole text
 * needs.  openmetrics: OpenMetrics 1.0, else Prometheus text 0.0.4.
 */
size_t metrics_format(const struct control_report *r, bool openmetrics,
    char *buf, size_t len);

/* Label value escaping of both expositions: \\, \" and \n. */
size_t metrics_escape(const char *s, char *buf, size_t len);

/*
 * Does an Accept header value ask for OpenMetrics?  NULL (no header)
 * does not.
 */
bool metrics_wants_openmetrics(const char *accept);

/*
 * Merge expositions of the same kind (several daemons' answers) into
 * one: each family once, its metadata from the first text that has it,
 * the samples of all in order; one "# EOF" at the end for OpenMetrics.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *metrics_merge(char *const *texts, size_t n, bool openmetrics);

struct metrics_http;

/*
 * Serve the daemon's metrics at listen ("127.0.0.1:9479",
 * "[::1]:9479") in base's loop, from collect()'s report.  Problems are
 * logged and leave the endpoint off, not the daemon down; NULL then.
 */
struct metrics_http *metrics_http_new(struct event_base *base,
    const char *listen, ctlsock_collect_fn collect, void *arg);
void metrics_http_free(struct metrics_http *m);

#endif
