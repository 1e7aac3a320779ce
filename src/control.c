/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compress.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

_Static_assert(sizeof(struct session_counters) % sizeof(uint64_t) == 0,
    "session_counters holds uint64_t counters only");

/* Room for one escaped peer, device or name in the text forms. */
#define CONTROL_ESC_MAX 128

/* --- Output buffer with snprintf semantics ----------------------------- */

struct control_out {
	char *buf;
	size_t len;	/* capacity of buf */
	size_t need;	/* what the whole output needs */
};

static void LOG_PRINTF(2, 3)
control_printf(struct control_out *o, const char *fmt, ...)
{
	va_list ap;
	char *at = NULL;
	size_t room = 0;
	int n;

	if (o->need < o->len) {
		at = o->buf + o->need;
		room = o->len - o->need;
	}
	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void
control_putc(struct control_out *o, char ch)
{
	if (o->need + 1 < o->len) {
		o->buf[o->need] = ch;
		o->buf[o->need + 1] = '\0';
	}
	o->need++;
}

/*
 * A JSON string, or null.  Everything outside printable ASCII is
 * escaped as \u00XX (bytes taken as Latin-1), so the output is valid
 * JSON whatever bytes a name or address holds.
 */
static void
control_json_str(struct control_out *o, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		control_printf(o, "null");
		return;
	}
	control_putc(o, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			control_putc(o, '\\');
			control_putc(o, (char)*p);
		} else if (*p < 0x20 || *p > 0x7e) {
			control_printf(o, "\\u%04x", *p);
		} else {
			control_putc(o, (char)*p);
		}
	}
	control_putc(o, '"');
}

/* "42 s", "3m 05s", "1h 02m 03s", "2d 01h 02m 03s". */
static void
control_duration(uint64_t ms, char *buf, size_t len)
{
	unsigned long long s = ms / 1000;
	unsigned d = (unsigned)(s % 60);

	if (s < 60)
		snprintf(buf, len, "%u s", d);
	else if (s < 3600)
		snprintf(buf, len, "%llum %02us", s / 60, d);
	else if (s < 86400)
		snprintf(buf, len, "%lluh %02um %02us", s / 3600,
		    (unsigned)(s / 60 % 60), d);
	else
		snprintf(buf, len, "%llud %02uh %02um %02us", s / 86400,
		    (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), d);
}

/* Whole seconds for JSON; a duration that never started is null. */
static void
control_json_secs(struct control_out *o, uint64_t ms)
{
	if (ms == CONTROL_NEVER)
		control_printf(o, "null");
	else
		control_printf(o, "%llu", (unsigned long long)(ms / 1000));
}

/* --- The fields of an entry -------------------------------------------- */

static const char *const control_state_names[] = {
	[CONTROL_WAITING] = "waiting",
	[CONTROL_CONNECTING] = "connecting",
	[CONTROL_HANDSHAKE] = "handshake",
	[CONTROL_HELLO] = "hello",
	[CONTROL_SETUP] = "setup",
	[CONTROL_UP] = "up",
	[CONTROL_CLOSING] = "closing",
	[CONTROL_RECONNECTING] = "reconnecting",
};

const char *
control_state_name(enum control_state st)
{
	if ((size_t)st >= UTIL_ARRAY_LEN(control_state_names))
		return "unknown";
	return control_state_names[st];
}

/* Packets dropped (or lost to errors) on the session's side, by reason. */
static const struct {
	const char *name;
	size_t off;
} control_drops[] = {
	{ "not_ready", offsetof(struct session_counters, drop_not_ready) },
	{ "bad_packet", offsetof(struct session_counters, drop_bad_packet) },
	{ "inflate", offsetof(struct session_counters, drop_inflate) },
	{ "device_write", offsetof(struct session_counters, drop_dev_write) },
	{ "device_read", offsetof(struct session_counters, dev_read_errors) },
	{ "no_address", offsetof(struct session_counters, drop_no_addr) },
	{ "udp_send", offsetof(struct session_counters, drop_udp_send) },
	{ "tx_limit", offsetof(struct session_counters, drop_tx_limit) },
	{ "shaped", offsetof(struct session_counters, drop_shaped) },
	{ "oversize", offsetof(struct session_counters, drop_oversize) },
	{ "too_big", offsetof(struct session_counters, drop_too_big) },
};

size_t
control_drop_reasons(void)
{
	return UTIL_ARRAY_LEN(control_drops);
}

const char *
control_drop_reason(size_t i)
{
	return control_drops[i].name;
}

uint64_t
control_counters_drop(const struct session_counters *c, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)c + control_drops[i].off, sizeof(v));
	return v;
}

static uint64_t
control_drop(const struct control_session *e, size_t i)
{
	return control_counters_drop(&e->c, i);
}

/* "5 (auth 3, replay 2)" or "none": the nonzero ones, for the text forms. */
static void
control_text_drops(struct control_out *o, const struct control_session *e,
    bool seal)
{
	uint64_t total = 0, v;
	size_t i, n = seal ? SEAL_DROP_COUNT : UTIL_ARRAY_LEN(control_drops);
	const char *sep = " (";

	for (i = 0; i < n; i++)
		total += seal ? e->seal->drop[i] : control_drop(e, i);
	if (total == 0) {
		control_printf(o, "none");
		return;
	}
	control_printf(o, "%llu", (unsigned long long)total);
	for (i = 0; i < n; i++) {
		v = seal ? e->seal->drop[i] : control_drop(e, i);
		if (v == 0)
			continue;
		control_printf(o, "%s%s %llu", sep, seal ?
		    seal_drop_name((enum seal_drop)i) : control_drops[i].name,
		    (unsigned long long)v);
		sep = ", ";
	}
	control_putc(o, ')');
}

/*
 * The text forms share their fields: a block puts each on its own
 * indented line, the log line joins them with semicolons (values have
 * commas).
 */
static void
control_field(struct control_out *o, enum control_format f, const char *key)
{
	if (f == CONTROL_TEXT)
		control_printf(o, "\n  %-12s ", key);
	else
		control_printf(o, "; %s ", key);
}

/* "up 1h 02m 03s ago"-style age, or "never". */
static void
control_text_age(struct control_out *o, uint64_t ms, const char *suffix)
{
	char d[48];

	if (ms == CONTROL_NEVER) {
		control_printf(o, "never");
		return;
	}
	control_duration(ms, d, sizeof(d));
	control_printf(o, "%s%s", d, suffix);
}

/* " (since 2026-11-28 10:00:00 UTC)": when an age began, by the wall clock. */
static void
control_text_since(struct control_out *o, uint64_t wall_ms, uint64_t age_ms)
{
	time_t at;
	struct tm tm;
	char when[32];

	if (wall_ms == 0 || age_ms == CONTROL_NEVER || age_ms > wall_ms)
		return;
	at = (time_t)((wall_ms - age_ms) / 1000);
	if (gmtime_r(&at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return;
	control_printf(o, " (since %s UTC)", when);
}

static void
control_text_session(struct control_out *o, const struct control_session *e,
    enum control_format f, uint64_t wall_ms)
{
	const struct session_counters *c = &e->c;
	char esc[CONTROL_ESC_MAX];
	/* A host name (253 bytes) and an error text, each escaped. */
	char lesc[4 * 256 + 4];

	util_escape(e->name, strlen(e->name), esc, sizeof(esc));
	if (f == CONTROL_TEXT)
		control_printf(o, "session %s\n  %-12s %s", esc, "state",
		    control_state_name(e->state));
	else
		control_printf(o, "%s: state %s", esc,
		    control_state_name(e->state));
	if (e->state == CONTROL_RECONNECTING)
		control_printf(o, " in %llu s",
		    (unsigned long long)((e->retry_in_ms + 999) / 1000));
	control_field(o, f, "peer");
	if (e->peer != NULL) {
		util_escape(e->peer, strlen(e->peer), esc, sizeof(esc));
		control_printf(o, "%s", esc);
	} else {
		control_printf(o, "-");
	}
	if (e->udp_peer[0] != '\0' && (e->peer == NULL ||
	    strcmp(e->udp_peer, e->peer) != 0)) {
		control_field(o, f, "udp peer");
		util_escape(e->udp_peer, strlen(e->udp_peer), esc, sizeof(esc));
		control_printf(o, "%s", esc);
	}
	if (e->old_key) {
		control_field(o, f, "peer key");
		control_printf(o, "none: old_key, the shared key, let it in");
	}
	if (e->peer_key[0] != '\0') {
		control_field(o, f, "peer key");
		control_printf(o, "%s", e->peer_key);
		if (e->peer_key_of > 1)
			control_printf(o, " (%d of %d)", e->peer_key_n,
			    e->peer_key_of);
	}
	if (e->server != NULL) {
		control_field(o, f, "server");
		util_escape(e->server, strlen(e->server), lesc, sizeof(lesc));
		control_printf(o, "%s", lesc);
	}
	if (e->last_error != NULL) {
		control_field(o, f, "last error");
		util_escape(e->last_error, strlen(e->last_error), lesc,
		    sizeof(lesc));
		control_printf(o, "%s", lesc);
	}
	control_field(o, f, "transport");
	control_printf(o, "%s", e->udp ? "udp" : "tcp");
	if (e->cipher != NULL)
		control_printf(o, " %s", e->cipher);
	control_field(o, f, "device");
	if (e->device != NULL) {
		util_escape(e->device, strlen(e->device), esc, sizeof(esc));
		control_printf(o, "%s", esc);
	} else {
		control_printf(o, "-");
	}
	control_field(o, f, "uptime");
	control_text_age(o, e->uptime_ms, "");
	control_text_since(o, wall_ms, e->uptime_ms);
	control_field(o, f, "last rx");
	control_text_age(o, e->rx_age_ms, " ago");
	control_field(o, f, "handshake");
	control_text_age(o, e->handshake_age_ms, " ago");
	if (e->control_lost_ms != CONTROL_NEVER) {
		control_field(o, f, "control");
		control_printf(o, "lost ");
		control_text_age(o, e->control_lost_ms, " ago; the data "
		    "channel goes on, re-attaching");
	}
	control_field(o, f, "rekey");
	control_text_age(o, e->rekey_age_ms, " ago");
	control_printf(o, " (%llu rekey%s)", (unsigned long long)e->rekeys,
	    e->rekeys == 1 ? "" : "s");
	control_field(o, f, "rx");
	control_printf(o, "%llu packets, %llu bytes",
	    (unsigned long long)c->rx_packets,
	    (unsigned long long)c->rx_bytes);
	if (c->rx_super > 0)
		control_printf(o, " (%llu offload super-packets)",
		    (unsigned long long)c->rx_super);
	control_field(o, f, "tx");
	control_printf(o, "%llu packets, %llu bytes",
	    (unsigned long long)c->tx_packets,
	    (unsigned long long)c->tx_bytes);
	if (c->tx_super > 0)
		control_printf(o, " (%llu offload super-packets)",
		    (unsigned long long)c->tx_super);
	control_field(o, f, "compression");
	if (e->z == NULL)
		control_printf(o, "off");
	else if (c->tx_bytes == 0)
		control_printf(o, "zlib:%d, nothing sent yet",
		    e->compress_level);
	else
		control_printf(o, "zlib:%d, %llu -> %llu bytes (%.1f %%)",
		    e->compress_level, (unsigned long long)c->tx_bytes,
		    (unsigned long long)c->tx_bytes_wire,
		    100.0 * (double)c->tx_bytes_wire / (double)c->tx_bytes);
	if (e->udp) {
		control_field(o, f, "path mtu");
		if (e->path_mtu > 0)
			control_printf(o, "%d (%d inside)", e->path_mtu,
			    e->inner_mtu);
		else
			control_printf(o, "-");
	}
	control_field(o, f, "drops");
	control_text_drops(o, e, false);
	if (e->seal != NULL) {
		control_field(o, f, "datagrams");
		control_printf(o, "%llu in, dropped ",
		    (unsigned long long)e->seal->opened);
		control_text_drops(o, e, true);
	}
	/* The log line stays short: the totals are for people asking. */
	if (f != CONTROL_TEXT) {
		control_putc(o, '\n');
		return;
	}
	control_field(o, f, "totals");
	control_printf(o, "%llu connection%s, rx %llu packets %llu bytes, "
	    "tx %llu packets %llu bytes, %llu rekey%s",
	    (unsigned long long)e->total.connections,
	    e->total.connections == 1 ? "" : "s",
	    (unsigned long long)e->total.c.rx_packets,
	    (unsigned long long)e->total.c.rx_bytes,
	    (unsigned long long)e->total.c.tx_packets,
	    (unsigned long long)e->total.c.tx_bytes,
	    (unsigned long long)e->total.rekeys,
	    e->total.rekeys == 1 ? "" : "s");
	control_putc(o, '\n');
}

/* When an age began, in unix seconds; null if never or unknown. */
static void
control_json_time(struct control_out *o, uint64_t wall_ms, uint64_t age_ms)
{
	if (wall_ms == 0 || age_ms == CONTROL_NEVER || age_ms > wall_ms)
		control_printf(o, "null");
	else
		control_printf(o, "%llu",
		    (unsigned long long)((wall_ms - age_ms) / 1000));
}

/* The session's totals over the daemon's life (control_totals). */
static void
control_json_totals(struct control_out *o, const struct control_totals *t)
{
	size_t i;

	control_printf(o, ",\"totals\":{\"connections\":%llu,\"rekeys\":%llu,"
	    "\"rx\":{\"packets\":%llu,\"bytes\":%llu},\"tx\":{\"packets\":%llu,"
	    "\"bytes\":%llu,\"wire_bytes\":%llu},\"keepalives_sent\":%llu,"
	    "\"drops\":{",
	    (unsigned long long)t->connections, (unsigned long long)t->rekeys,
	    (unsigned long long)t->c.rx_packets,
	    (unsigned long long)t->c.rx_bytes,
	    (unsigned long long)t->c.tx_packets,
	    (unsigned long long)t->c.tx_bytes,
	    (unsigned long long)t->c.tx_bytes_wire,
	    (unsigned long long)t->c.keepalives_sent);
	for (i = 0; i < UTIL_ARRAY_LEN(control_drops); i++)
		control_printf(o, "%s\"%s\":%llu", i > 0 ? "," : "",
		    control_drops[i].name,
		    (unsigned long long)control_counters_drop(&t->c, i));
	control_printf(o, "},\"udp\":{\"datagrams_in\":%llu,\"drops\":{",
	    (unsigned long long)t->datagrams_in);
	for (i = SEAL_OK + 1; i < SEAL_DROP_COUNT; i++)
		control_printf(o, "%s\"%s\":%llu", i > SEAL_OK + 1 ? "," : "",
		    seal_drop_name((enum seal_drop)i),
		    (unsigned long long)t->seal_drop[i]);
	control_printf(o, "}}}");
}

/* One entry as a JSON object; every counter is a number. */
static void
control_json_session(struct control_out *o, const struct control_session *e,
    uint64_t wall_ms)
{
	const struct session_counters *c = &e->c;
	size_t i;

	control_printf(o, "{\"name\":");
	control_json_str(o, e->name);
	control_printf(o, ",\"state\":\"%s\",\"retry_in_s\":",
	    control_state_name(e->state));
	if (e->state == CONTROL_RECONNECTING)
		control_printf(o, "%llu",
		    (unsigned long long)((e->retry_in_ms + 999) / 1000));
	else
		control_printf(o, "null");
	control_printf(o, ",\"peer\":");
	control_json_str(o, e->peer);
	control_printf(o, ",\"udp_peer\":");
	control_json_str(o, e->udp_peer[0] != '\0' ? e->udp_peer : NULL);
	control_printf(o, ",\"peer_key\":");
	control_json_str(o, e->peer_key[0] != '\0' ? e->peer_key : NULL);
	control_printf(o, ",\"old_key\":%s", e->old_key ? "true" : "false");
	control_printf(o, ",\"server\":");
	control_json_str(o, e->server);
	control_printf(o, ",\"last_error\":");
	control_json_str(o, e->last_error);
	control_printf(o, ",\"transport\":\"%s\",\"cipher\":",
	    e->udp ? "udp" : "tcp");
	control_json_str(o, e->cipher);
	control_printf(o, ",\"device\":");
	control_json_str(o, e->device);
	control_printf(o, ",\"uptime_s\":");
	control_json_secs(o, e->uptime_ms);
	control_printf(o, ",\"start_time\":");
	control_json_time(o, wall_ms, e->uptime_ms);
	control_printf(o, ",\"last_rx_age_s\":");
	control_json_secs(o, e->rx_age_ms);
	control_printf(o, ",\"handshake_age_s\":");
	control_json_secs(o, e->handshake_age_ms);
	control_printf(o, ",\"handshake_time\":");
	control_json_time(o, wall_ms, e->handshake_age_ms);
	control_printf(o, ",\"rekey_age_s\":");
	control_json_secs(o, e->rekey_age_ms);
	control_printf(o, ",\"control_lost_s\":");
	control_json_secs(o, e->control_lost_ms);
	control_printf(o, ",\"rekeys\":%llu,\"rx\":{\"packets\":%llu,"
	    "\"bytes\":%llu,\"super_packets\":%llu},\"tx\":{\"packets\":%llu,"
	    "\"bytes\":%llu,\"wire_bytes\":%llu,\"super_packets\":%llu},"
	    "\"keepalives_sent\":%llu,\"compression\":",
	    (unsigned long long)e->rekeys, (unsigned long long)c->rx_packets,
	    (unsigned long long)c->rx_bytes, (unsigned long long)c->rx_super,
	    (unsigned long long)c->tx_packets,
	    (unsigned long long)c->tx_bytes,
	    (unsigned long long)c->tx_bytes_wire,
	    (unsigned long long)c->tx_super,
	    (unsigned long long)c->keepalives_sent);
	if (e->z == NULL) {
		control_printf(o, "null");
	} else {
		control_printf(o, "{\"level\":%d,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu,\"ratio\":", e->compress_level,
		    (unsigned long long)c->tx_bytes,
		    (unsigned long long)c->tx_bytes_wire);
		if (c->tx_bytes == 0)
			control_printf(o, "null");
		else
			control_printf(o, "%.4f", (double)c->tx_bytes_wire /
			    (double)c->tx_bytes);
		control_printf(o, ",\"packets_compressed\":%llu,"
		    "\"packets_raw\":%llu,\"inflated_in\":%llu,"
		    "\"inflated_out\":%llu}",
		    (unsigned long long)e->z->compressed,
		    (unsigned long long)e->z->raw,
		    (unsigned long long)e->z->inflated_in,
		    (unsigned long long)e->z->inflated_out);
	}
	control_printf(o, ",\"path_mtu\":");
	if (e->path_mtu > 0)
		control_printf(o, "%d,\"inner_mtu\":%d", e->path_mtu,
		    e->inner_mtu);
	else
		control_printf(o, "null,\"inner_mtu\":null");
	control_printf(o, ",\"drops\":{");
	for (i = 0; i < UTIL_ARRAY_LEN(control_drops); i++)
		control_printf(o, "%s\"%s\":%llu", i > 0 ? "," : "",
		    control_drops[i].name,
		    (unsigned long long)control_drop(e, i));
	control_printf(o, "},\"udp\":");
	if (e->seal == NULL) {
		control_printf(o, "null");
	} else {
		control_printf(o, "{\"datagrams_in\":%llu,\"drops\":{",
		    (unsigned long long)e->seal->opened);
		for (i = SEAL_OK + 1; i < SEAL_DROP_COUNT; i++)
			control_printf(o, "%s\"%s\":%llu",
			    i > SEAL_OK + 1 ? "," : "",
			    seal_drop_name((enum seal_drop)i),
			    (unsigned long long)e->seal->drop[i]);
		control_printf(o, "}}");
	}
	control_json_totals(o, &e->total);
	control_putc(o, '}');
}

/*
 * "NAME STATE [WHY]": what `status --check` and `wait` need, one line
 * per entry, easy to read back.  WHY is the client's last error, escaped
 * so that it stays on its line.
 */
static void
control_states_lines(struct control_out *o, const struct control_report *r)
{
	const struct control_session *e;
	char esc[4 * 256 + 4];
	size_t i;

	for (i = 0; i < r->nsessions; i++) {
		e = &r->sessions[i];
		control_printf(o, "%s %s", e->name,
		    control_state_name(e->state));
		if (e->state != CONTROL_UP && e->last_error != NULL) {
			util_escape(e->last_error, strlen(e->last_error), esc,
			    sizeof(esc));
			control_printf(o, " %s", esc);
		}
		control_putc(o, '\n');
	}
}

size_t
control_format(const struct control_report *r, enum control_format f,
    char *buf, size_t len)
{
	struct control_out o = { .buf = buf, .len = len };
	size_t i;

	if (f == CONTROL_OPENMETRICS || f == CONTROL_PROMETHEUS)
		return metrics_format(r, f == CONTROL_OPENMETRICS, buf, len);
	if (len > 0)
		buf[0] = '\0';
	if (f == CONTROL_STATES) {
		control_states_lines(&o, r);
		return o.need;
	}
	if (f == CONTROL_JSON) {
		control_printf(&o, "{\"version\":1,\"mode\":\"%s\"",
		    r->server ? "server" : "client");
		if (r->server)
			control_printf(&o, ",\"unauthenticated\":%zu,"
			    "\"queued\":%zu", r->unauthenticated, r->queued);
		control_printf(&o, ",\"sessions\":[");
		for (i = 0; i < r->nsessions; i++) {
			if (i > 0)
				control_putc(&o, ',');
			control_json_session(&o, &r->sessions[i],
			    r->wall_ms);
		}
		control_printf(&o, "]}\n");
		return o.need;
	}
	for (i = 0; i < r->nsessions; i++) {
		if (i > 0 && f == CONTROL_TEXT)
			control_putc(&o, '\n');
		control_text_session(&o, &r->sessions[i], f, r->wall_ms);
	}
	if (r->nsessions == 0 && f == CONTROL_TEXT)
		control_printf(&o, "no sessions\n");
	if (r->server && r->unauthenticated > 0)
		control_printf(&o, "%s%zu connection%s authenticating",
		    f == CONTROL_TEXT && r->nsessions > 0 ? "\n" : "",
		    r->unauthenticated, r->unauthenticated == 1 ? "" : "s");
	if (r->server && r->unauthenticated > 0 && r->queued > 0)
		control_printf(&o, " (%zu waiting for the handshake budget)",
		    r->queued);
	if (r->server && r->unauthenticated > 0)
		control_putc(&o, '\n');
	return o.need;
}

/* --- Reports ----------------------------------------------------------- */

struct control_session *
control_report_add(struct control_report *r)
{
	struct control_session *e, *n;
	size_t cap;

	if (r->nsessions == r->cap) {
		cap = r->cap == 0 ? 8 : r->cap * 2;
		n = reallocarray(r->sessions, cap, sizeof(*n));
		if (n == NULL)
			return NULL;
		r->sessions = n;
		r->cap = cap;
	}
	e = &r->sessions[r->nsessions++];
	memset(e, 0, sizeof(*e));
	e->name = "";
	e->uptime_ms = e->handshake_age_ms = e->rekey_age_ms = CONTROL_NEVER;
	e->control_lost_ms = e->rx_age_ms = CONTROL_NEVER;
	return e;
}

void
control_totals_add(struct control_totals *t, const struct control_session *e)
{
	uint64_t a, b;
	size_t i, off;

	/* struct session_counters is uint64_t fields only: add them all. */
	for (i = 0; i < sizeof(e->c) / sizeof(a); i++) {
		off = i * sizeof(a);
		memcpy(&a, (const char *)&t->c + off, sizeof(a));
		memcpy(&b, (const char *)&e->c + off, sizeof(b));
		a += b;
		memcpy((char *)&t->c + off, &a, sizeof(a));
	}
	t->rekeys += e->rekeys;
	if (e->seal != NULL) {
		t->datagrams_in += e->seal->opened;
		for (i = 0; i < SEAL_DROP_COUNT; i++)
			t->seal_drop[i] += e->seal->drop[i];
	}
	if (e->came_up)
		t->connections++;
}

void
control_report_filter(struct control_report *r, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->nsessions; i++)
		if (strcmp(r->sessions[i].name, name) == 0)
			r->sessions[n++] = r->sessions[i];
	r->nsessions = n;
}

void
control_report_free(struct control_report *r)
{
	free(r->sessions);
	memset(r, 0, sizeof(*r));
}

uint64_t
control_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
control_age(uint64_t now_ms, uint64_t at)
{
	if (at == 0)
		return CONTROL_NEVER;
	return now_ms > at ? now_ms - at : 0;
}

/* Status names the steps of both kinds of session alike. */
static const enum control_state control_states[] = {
	[TUNNEL_HANDSHAKE] = CONTROL_HANDSHAKE,
	[TUNNEL_HELLO] = CONTROL_HELLO,
	[TUNNEL_SETUP] = CONTROL_SETUP,
	[TUNNEL_UP] = CONTROL_UP,
	[TUNNEL_CLOSING] = CONTROL_CLOSING,
};

void
control_tunnel_fill(struct control_session *e, const struct tunnel *t,
    uint64_t now_ms)
{
	const struct conf_session *cs;

	cs = t->authenticated || t->role == TUNNEL_CLIENT ? t->cs : NULL;
	memset(e, 0, sizeof(*e));
	e->name = cs != NULL ? cs->name : "";
	e->state = control_states[t->state];
	e->peer = t->peer_str;
	e->device = t->dev_ready ? t->dev->name : NULL;
	e->uptime_ms = control_age(now_ms, t->state == TUNNEL_UP ?
	    t->up_since_ms : 0);
	e->handshake_age_ms = control_age(now_ms, t->handshake_ms);
	e->rekey_age_ms = CONTROL_NEVER;
	e->control_lost_ms = control_age(now_ms, t->detached ?
	    t->detached_ms : 0);
	e->rx_age_ms = CONTROL_NEVER;
	e->came_up = t->was_up || t->state == TUNNEL_UP;
	e->c = t->c;
	if (cs != NULL && t->peer_key >= 0 &&
	    (size_t)t->peer_key < cs->npeer_keys) {
		key_encode(cs->peer_keys[t->peer_key], e->peer_key);
		e->peer_key_n = t->peer_key + 1;
		e->peer_key_of = (int)cs->npeer_keys;
	}
	e->old_key = cs != NULL && t->peer_key == CONF_PEER_OLD_KEY;
	t->kind->fill(e, t, now_ms);
}

/* --- Requests ---------------------------------------------------------- */

/* [A-Za-z][A-Za-z0-9_-]{0,63}, as the config allows. */
static bool
control_name_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (i >= CONF_NAME_MAX || !((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static const char *const control_format_names[] = {
	[CONTROL_TEXT] = "text",
	[CONTROL_JSON] = "json",
	[CONTROL_OPENMETRICS] = "openmetrics",
	[CONTROL_PROMETHEUS] = "prometheus",
	[CONTROL_STATES] = "states",
};

const char *
control_format_name(enum control_format f)
{
	if ((size_t)f >= UTIL_ARRAY_LEN(control_format_names))
		return NULL;
	return control_format_names[f];
}

int
control_format_parse(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(control_format_names); i++)
		if (control_format_names[i] != NULL &&
		    strcmp(control_format_names[i], name) == 0)
			return (int)i;
	return -1;
}

#define CONTROL_USAGE "status [SESSION] " \
	"[text|json|openmetrics|prometheus|states]"

int
control_request_parse(const char *buf, size_t len,
    struct control_request *req, char *err, size_t errlen)
{
	char line[CONTROL_REQUEST_MAX + 1], esc[48], *tok[4], *save = NULL;
	size_t i, ntok = 0;
	char *t;
	int f;

	memset(req, 0, sizeof(*req));
	req->format = CONTROL_TEXT;
	if (len > CONTROL_REQUEST_MAX)
		return util_err(err, errlen, "request too long (more than %d "
		    "bytes)", CONTROL_REQUEST_MAX);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t')
			return util_err(err, errlen, "request is not one "
			    "line of text");
		else if ((unsigned char)buf[i] > 0x7e)
			return util_err(err, errlen, "request is not ASCII");
	memcpy(line, buf, len);
	line[len] = '\0';
	for (t = strtok_r(line, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (ntok == UTIL_ARRAY_LEN(tok))
			return util_err(err, errlen, "too many words; "
			    "expected: " CONTROL_USAGE);
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return util_err(err, errlen, "empty request");
	if (strcmp(tok[0], "status") != 0) {
		util_escape(tok[0], strlen(tok[0]), esc, sizeof(esc));
		return util_err(err, errlen, "unknown request '%s'; "
		    "expected: " CONTROL_USAGE, esc);
	}
	if (ntok > 3)
		return util_err(err, errlen, "too many words; expected: "
		    CONTROL_USAGE);
	/* The last word is a format when it names one (see control.h). */
	if (ntok >= 2 && (f = control_format_parse(tok[ntok - 1])) >= 0) {
		req->format = (enum control_format)f;
		ntok--;
	} else if (ntok == 3) {
		util_escape(tok[2], strlen(tok[2]), esc, sizeof(esc));
		return util_err(err, errlen, "unknown format '%s' (text, "
		    "json, openmetrics, prometheus or states)", esc);
	}
	if (ntok == 2) {
		if (!control_name_ok(tok[1])) {
			util_escape(tok[1], strlen(tok[1]), esc, sizeof(esc));
			return util_err(err, errlen, "'%s' is not a session "
			    "name", esc);
		}
		util_strlcpy(req->session, tok[1], sizeof(req->session));
	}
	return 0;
}

int
control_request_format(const char *session, enum control_format f,
    char *buf, size_t len)
{
	const char *word = control_format_name(f);
	int n;

	if ((session != NULL && !control_name_ok(session)) || word == NULL)
		return -1;
	/* After a name the format is always sent: "status json" alone
	 * would mean every session in JSON. */
	if (session != NULL)
		n = snprintf(buf, len, "status %s %s\n", session, word);
	else if (f == CONTROL_TEXT)
		n = snprintf(buf, len, "status\n");
	else
		n = snprintf(buf, len, "status %s\n", word);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* --- Socket paths ------------------------------------------------------ */

void
control_client_path(const char *base, const char *session, char *out,
    size_t len)
{
	size_t n = strlen(base);

	if (n > 5 && strcmp(base + n - 5, ".sock") == 0)
		snprintf(out, len, "%.*s-%s.sock", (int)(n - 5), base, session);
	else
		snprintf(out, len, "%s-%s", base, session);
}
