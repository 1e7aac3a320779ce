/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the status socket (ctlsock.c) asks and answers, sans-I/O: the
 * request line and the report.  One request per connection, one line:
 *
 *	status [SESSION] [text|json|openmetrics|prometheus|states]\n
 *
 * answered with the whole report (text, one JSON object, the metrics of
 * metrics.h, or one "NAME STATE [WHY]" line per session for `status
 * --check` and `wait`) and EOF.  A request that cannot be answered gets
 * one line "error: ...\n" instead.  With one argument, a format's name
 * is a format, not a session name; `tapline status` always sends the
 * format after a session name, so a session called "json" can still be
 * asked for.
 *
 * A report is what the daemon knows of each session (control_session,
 * filled from a live one by control_tunnel_fill); control_format
 * writes it as text for people, JSON for programs or one line per
 * session for the log (SIGUSR1).  Parsing a request and formatting a
 * report take no socket, so that unit tests drive them directly.
 */
#ifndef TAPLINE_CONTROL_H
#define TAPLINE_CONTROL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "seal.h"
#include "tunnel.h"

struct compress_stats;

/* A request's limit (ATTACKS: a local root-only socket, still bounded). */
#define CONTROL_REQUEST_MAX 256		/* bytes, newline included */
/* Ages and durations that never started. */
#define CONTROL_NEVER UINT64_MAX

enum control_state {
	CONTROL_WAITING,	/* server: configured, nobody connected */
	CONTROL_CONNECTING,	/* client: resolving or TCP connecting */
	CONTROL_HANDSHAKE,	/* TLS handshake */
	CONTROL_HELLO,		/* authenticated, HELLO exchange */
	CONTROL_SETUP,		/* device and up commands */
	CONTROL_UP,		/* forwarding */
	CONTROL_CLOSING,	/* ending: down commands, TLS close */
	CONTROL_RECONNECTING,	/* client: waiting before the next attempt */
};

/*
 * What a session moved over the daemon's life: its connections that
 * ended, added up when each was freed (control_totals_add), plus the
 * live ones, so that a reconnect does not reset them.  Metrics use
 * these: a counter that fell to zero on every reconnect would read as
 * a restart of the daemon.
 */
struct control_totals {
	struct session_counters c;
	uint64_t rekeys;
	uint64_t datagrams_in;		/* UDP: datagrams that authenticated */
	uint64_t seal_drop[SEAL_DROP_COUNT];	/* UDP: by seal_drop */
	uint64_t connections;		/* that came up */
};

/* "198.51.100.2:40312", "[2001:db8:1::2]:40312" and its NUL. */
#define CONTROL_ADDR_MAX (INET6_ADDRSTRLEN + 16)

/* One entry of a report: a connection of a session, or a session alone. */
struct control_session {
	const char *name;
	enum control_state state;
	uint64_t retry_in_ms;	/* CONTROL_RECONNECTING: to the next try */
	const char *peer;	/* "198.51.100.2:40312"; NULL if none */
	/* UDP: where the peer's datagrams come from now (after roaming or
	 * NAT rebinding not the control connection's peer); "" if none. */
	char udp_peer[CONTROL_ADDR_MAX];
	/* Key pairs: the peer key the connection authenticated with
	 * (base64, "" if none), its number (1-based) and how many the
	 * session lists. */
	char peer_key[KEY_B64_LEN + 1];
	int peer_key_n;
	int peer_key_of;
	bool old_key;	/* it authenticated with the session's old_key */
	/* Client: the server (as configured) it uses or tries now. */
	const char *server;
	/* Client: why the last attempt failed, while not up; else NULL. */
	const char *last_error;
	bool udp;
	const char *cipher;	/* UDP mode's AEAD; NULL if none yet */
	const char *device;	/* NULL before the device is ready */
	bool came_up;		/* this connection was up at some time */
	/* Milliseconds; CONTROL_NEVER when it has not happened. */
	uint64_t uptime_ms;
	uint64_t handshake_age_ms;
	uint64_t rekey_age_ms;
	/* UDP: how long the session has been without its control
	 * connection (re-attaching); CONTROL_NEVER while it has one. */
	uint64_t control_lost_ms;
	/* Since the last authenticated frame or datagram from the peer;
	 * CONTROL_NEVER before the handshake. */
	uint64_t rx_age_ms;
	uint64_t rekeys;
	struct session_counters c;	/* this connection's */
	struct control_totals total;	/* the session's, over the daemon's life */
	int compress_level;		/* 0 = off */
	const struct compress_stats *z;	/* NULL when off */
	const struct seal_stats *seal;	/* UDP mode's receive side, or NULL */
	int path_mtu;		/* UDP: the path MTU to the peer, 0 = unknown */
	int inner_mtu;		/* what it carries inside the tunnel */
};

/* A whole answer: the daemon's mode and its entries. */
struct control_report {
	bool server;
	/* The wall clock when it was collected (ms since 1970), for the
	 * timestamps of JSON and metrics; 0 = unknown (none shown). */
	uint64_t wall_ms;
	size_t unauthenticated;	/* server: connections still in TLS */
	size_t queued;		/* of them, waiting for their turn */
	struct control_session *sessions;
	size_t nsessions;
	size_t cap;
};

enum control_format {
	CONTROL_TEXT,	/* a block per session, for people */
	CONTROL_JSON,	/* one object, for programs */
	CONTROL_LINE,	/* one line per session, for the log */
	CONTROL_OPENMETRICS,	/* metrics.h, OpenMetrics 1.0 */
	CONTROL_PROMETHEUS,	/* metrics.h, Prometheus text 0.0.4 */
	CONTROL_STATES,	/* "NAME STATE [WHY]" lines, for --check and wait */
};

struct control_request {
	char session[CONF_NAME_MAX + 1];	/* "" = all sessions */
	enum control_format format;	/* never CONTROL_LINE */
};

/*
 * Parse one request of len bytes (the line, with or without its
 * newline).  Returns 0, or -1 with a one-line reason in err.
 */
int control_request_parse(const char *buf, size_t len,
    struct control_request *req, char *err, size_t errlen);

/*
 * Write a request line (with its newline) for session (NULL = all) into
 * buf.  Returns its length, or -1 if the name cannot be a session name
 * or buf is too small.
 */
int control_request_format(const char *session, enum control_format f,
    char *buf, size_t len);

/* The request word of a format ("json"), NULL for CONTROL_LINE. */
const char *control_format_name(enum control_format f);
/* A format by its request word; -1 if none. */
int control_format_parse(const char *name);

/* "up", "reconnecting", ...: the state's name in both formats. */
const char *control_state_name(enum control_state st);
/*
 * The drop reasons of struct session_counters, in the order every form
 * lists them (text, JSON, metrics): how many, the name of the i-th, and
 * its count in c.
 */
size_t control_drop_reasons(void);
const char *control_drop_reason(size_t i);
uint64_t control_counters_drop(const struct session_counters *c, size_t i);

/* A new zeroed entry at the end of the report; NULL if out of memory. */
struct control_session *control_report_add(struct control_report *r);
/* Add what entry e of a report counts to t (a connection that ends). */
void control_totals_add(struct control_totals *t,
    const struct control_session *e);
/* Keep only the entries of session `name`. */
void control_report_filter(struct control_report *r, const char *name);
void control_report_free(struct control_report *r);

/*
 * Format the report into buf as snprintf does: writes at most len bytes
 * (terminated when len > 0) and returns the length the whole report
 * needs, without the terminating NUL.
 */
size_t control_format(const struct control_report *r, enum control_format f,
    char *buf, size_t len);

/*
 * An entry for a live session of either kind, ages measured from now_ms:
 * what every tunnel has, then what its kind adds (tunnel_kind.fill).
 */
void control_tunnel_fill(struct control_session *e, const struct tunnel *t,
    uint64_t now_ms);
/* The wall clock now, ms since 1970 (control_report.wall_ms). */
uint64_t control_wall_ms(void);
/* Milliseconds since `at` (util_now_ms() clock), or CONTROL_NEVER if 0. */
uint64_t control_age(uint64_t now_ms, uint64_t at);

/*
 * A client daemon's socket: options.control with "-SESSION" before its
 * ".sock" (/run/tapline/tapline-cobra.sock), so that a server and any
 * number of clients (tapline@cobra, tapline@viper) share a host.
 */
void control_client_path(const char *base, const char *session, char *out,
    size_t len);

#endif
