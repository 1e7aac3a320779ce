/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "compress.h"
#include "control.h"
#include "log.h"
#include "util.h"

/* Room for one escaped peer, device or name in the text forms. */
#define CONTROL_ESC_MAX 128

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct control *ctl;
	struct bufferevent *bev;
	struct event *deadline;
	bool answered;
};

struct control {
	struct event_base *base;
	char *path;
	control_collect_fn collect;
	void *arg;
	struct evconnlistener *listener;
	struct event *usr1;
	/* The socket file we made, so that exit removes ours only. */
	bool bound;
	dev_t dev;
	ino_t ino;
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, control_conn) conns;
	size_t nconns;
	struct log_ratelimit rl;
};

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
};

static uint64_t
control_drop(const struct control_session *e, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)&e->c + control_drops[i].off, sizeof(v));
	return v;
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

static void
control_text_session(struct control_out *o, const struct control_session *e,
    enum control_format f)
{
	const struct session_counters *c = &e->c;
	char esc[CONTROL_ESC_MAX];

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
	control_field(o, f, "handshake");
	control_text_age(o, e->handshake_age_ms, " ago");
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
	control_field(o, f, "drops");
	control_text_drops(o, e, false);
	if (e->seal != NULL) {
		control_field(o, f, "datagrams");
		control_printf(o, "%llu in, dropped ",
		    (unsigned long long)e->seal->opened);
		control_text_drops(o, e, true);
	}
	control_putc(o, '\n');
}

/* One entry as a JSON object; every counter is a number. */
static void
control_json_session(struct control_out *o, const struct control_session *e)
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
	control_printf(o, ",\"transport\":\"%s\",\"cipher\":",
	    e->udp ? "udp" : "tcp");
	control_json_str(o, e->cipher);
	control_printf(o, ",\"device\":");
	control_json_str(o, e->device);
	control_printf(o, ",\"uptime_s\":");
	control_json_secs(o, e->uptime_ms);
	control_printf(o, ",\"handshake_age_s\":");
	control_json_secs(o, e->handshake_age_ms);
	control_printf(o, ",\"rekey_age_s\":");
	control_json_secs(o, e->rekey_age_ms);
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
	control_printf(o, ",\"drops\":{");
	for (i = 0; i < UTIL_ARRAY_LEN(control_drops); i++)
		control_printf(o, "%s\"%s\":%llu", i > 0 ? "," : "",
		    control_drops[i].name,
		    (unsigned long long)control_drop(e, i));
	control_printf(o, "},\"udp\":");
	if (e->seal == NULL) {
		control_printf(o, "null}");
		return;
	}
	control_printf(o, "{\"datagrams_in\":%llu,\"drops\":{",
	    (unsigned long long)e->seal->opened);
	for (i = SEAL_OK + 1; i < SEAL_DROP_COUNT; i++)
		control_printf(o, "%s\"%s\":%llu", i > SEAL_OK + 1 ? "," : "",
		    seal_drop_name((enum seal_drop)i),
		    (unsigned long long)e->seal->drop[i]);
	control_printf(o, "}}}");
}

size_t
control_format(const struct control_report *r, enum control_format f,
    char *buf, size_t len)
{
	struct control_out o = { .buf = buf, .len = len };
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	if (f == CONTROL_JSON) {
		control_printf(&o, "{\"version\":1,\"mode\":\"%s\"",
		    r->server ? "server" : "client");
		if (r->server)
			control_printf(&o, ",\"unauthenticated\":%zu",
			    r->unauthenticated);
		control_printf(&o, ",\"sessions\":[");
		for (i = 0; i < r->nsessions; i++) {
			if (i > 0)
				control_putc(&o, ',');
			control_json_session(&o, &r->sessions[i]);
		}
		control_printf(&o, "]}\n");
		return o.need;
	}
	for (i = 0; i < r->nsessions; i++) {
		if (i > 0 && f == CONTROL_TEXT)
			control_putc(&o, '\n');
		control_text_session(&o, &r->sessions[i], f);
	}
	if (r->nsessions == 0 && f == CONTROL_TEXT)
		control_printf(&o, "no sessions\n");
	if (r->server && r->unauthenticated > 0)
		control_printf(&o, "%s%zu connection%s authenticating\n",
		    f == CONTROL_TEXT && r->nsessions > 0 ? "\n" : "",
		    r->unauthenticated, r->unauthenticated == 1 ? "" : "s");
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
	return e;
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

/* Time since `at` on the util_now_ms() clock, or never. */
static uint64_t
control_age(uint64_t now_ms, uint64_t at)
{
	if (at == 0)
		return CONTROL_NEVER;
	return now_ms > at ? now_ms - at : 0;
}

void
control_session_fill(struct control_session *e, const struct session *s,
    uint64_t now_ms)
{
	const struct conf_session *cs = session_conf(s);
	struct session_info in;

	session_info(s, &in);
	memset(e, 0, sizeof(*e));
	e->name = cs != NULL ? cs->name : "";
	switch (session_state(s)) {
	case SESSION_TLS:
		e->state = in.connected ? CONTROL_HANDSHAKE :
		    CONTROL_CONNECTING;
		break;
	case SESSION_HELLO:
		e->state = CONTROL_HELLO;
		break;
	case SESSION_SETUP:
		e->state = CONTROL_SETUP;
		break;
	case SESSION_UP:
		e->state = CONTROL_UP;
		break;
	case SESSION_CLOSING:
		e->state = CONTROL_CLOSING;
		break;
	}
	e->peer = session_peer(s);
	e->udp = in.udp;
	e->cipher = in.cipher;
	e->device = in.device;
	e->uptime_ms = control_age(now_ms, in.up_since_ms);
	e->handshake_age_ms = control_age(now_ms, in.handshake_ms);
	e->rekey_age_ms = control_age(now_ms, in.rekey_ms);
	e->rekeys = in.rekeys;
	e->c = *session_counters(s);
	e->compress_level = in.compress_level;
	e->z = in.z;
	e->seal = in.seal;
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

int
control_request_parse(const char *buf, size_t len,
    struct control_request *req, char *err, size_t errlen)
{
	char line[CONTROL_REQUEST_MAX + 1], esc[48], *tok[4], *save = NULL;
	size_t i, ntok = 0;
	char *t;

	memset(req, 0, sizeof(*req));
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
			    "expected: status [SESSION] [json|text]");
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return util_err(err, errlen, "empty request");
	if (strcmp(tok[0], "status") != 0) {
		util_escape(tok[0], strlen(tok[0]), esc, sizeof(esc));
		return util_err(err, errlen, "unknown request '%s'; "
		    "expected: status [SESSION] [json|text]", esc);
	}
	if (ntok > 3)
		return util_err(err, errlen, "too many words; expected: "
		    "status [SESSION] [json|text]");
	/* The last word is a format when it names one (see control.h). */
	if (ntok >= 2 && (strcmp(tok[ntok - 1], "json") == 0 ||
	    strcmp(tok[ntok - 1], "text") == 0)) {
		req->json = strcmp(tok[ntok - 1], "json") == 0;
		ntok--;
	} else if (ntok == 3) {
		util_escape(tok[2], strlen(tok[2]), esc, sizeof(esc));
		return util_err(err, errlen, "unknown format '%s' (json or "
		    "text)", esc);
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
control_request_format(const char *session, bool json, char *buf,
    size_t len)
{
	int n;

	if (session != NULL && !control_name_ok(session))
		return -1;
	/* After a name the format is always sent: "status json" alone
	 * would mean every session in JSON. */
	if (session != NULL)
		n = snprintf(buf, len, "status %s %s\n", session,
		    json ? "json" : "text");
	else
		n = snprintf(buf, len, "status%s\n", json ? " json" : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* --- The socket -------------------------------------------------------- */

static void
control_conn_free(struct control_conn *cc)
{
	struct control *c = cc->ctl;

	TAILQ_REMOVE(&c->conns, cc, entry);
	c->nconns--;
	bufferevent_free(cc->bev);
	event_free(cc->deadline);
	free(cc);
}

/* Queue the answer to one request and close once it is written. */
static void
control_answer(struct control_conn *cc, const char *line, size_t len)
{
	struct control *c = cc->ctl;
	struct evbuffer *out = bufferevent_get_output(cc->bev);
	struct control_report r = { 0 };
	struct control_request req;
	char err[160];
	size_t n;
	char *buf;

	cc->answered = true;
	bufferevent_disable(cc->bev, EV_READ);
	event_add(cc->deadline, &(struct timeval){
	    .tv_sec = CONTROL_ANSWER_DEADLINE_MS / 1000,
	    .tv_usec = CONTROL_ANSWER_DEADLINE_MS % 1000 * 1000 });
	if (control_request_parse(line, len, &req, err, sizeof(err)) != 0) {
		evbuffer_add_printf(out, "error: %s\n", err);
		return;
	}
	c->collect(&r, c->arg);
	if (req.session[0] != '\0') {
		control_report_filter(&r, req.session);
		if (r.nsessions == 0) {
			evbuffer_add_printf(out, "error: no session %s\n",
			    req.session);
			control_report_free(&r);
			return;
		}
		r.unauthenticated = 0;
	}
	n = control_format(&r, req.json ? CONTROL_JSON : CONTROL_TEXT,
	    NULL, 0);
	if ((buf = malloc(n + 1)) == NULL) {
		evbuffer_add_printf(out, "error: out of memory\n");
	} else {
		control_format(&r, req.json ? CONTROL_JSON : CONTROL_TEXT,
		    buf, n + 1);
		evbuffer_add(out, buf, n);
		free(buf);
	}
	control_report_free(&r);
}

/* Wait for one whole line, never more than CONTROL_REQUEST_MAX bytes. */
static void
control_readcb(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_REQUEST_MAX + 1];
	struct evbuffer_ptr nl;
	ev_ssize_t len;

	if (cc->answered)
		return;
	nl = evbuffer_search(in, "\n", 1, NULL);
	if (nl.pos < 0 &&
	    evbuffer_get_length(in) < CONTROL_REQUEST_MAX)
		return;
	/* No newline within the limit: too long, whatever follows. */
	if (nl.pos < 0 || nl.pos >= CONTROL_REQUEST_MAX) {
		control_answer(cc, line, CONTROL_REQUEST_MAX + 1);
		return;
	}
	len = evbuffer_copyout(in, line, (size_t)nl.pos + 1);
	control_answer(cc, line, len > 0 ? (size_t)len : 0);
}

/* The answer is out: closing the socket is the end-of-answer mark. */
static void
control_writecb(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;

	if (cc->answered &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_conn_free(cc);
}

static void
control_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_REQUEST_MAX + 1];
	size_t len;

	/* A request without its newline still counts at end of input. */
	if ((what & BEV_EVENT_EOF) && !cc->answered &&
	    (len = evbuffer_get_length(in)) > 0) {
		len = (size_t)evbuffer_copyout(in, line,
		    len < sizeof(line) ? len : sizeof(line));
		control_answer(cc, line, len);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		control_conn_free(cc);
}

static void
control_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn *cc = arg;

	if (!cc->answered)
		log_rl(&cc->ctl->rl, LOG_INFO, "status: no request within "
		    "%d ms; closing", CONTROL_REQUEST_DEADLINE_MS);
	control_conn_free(cc);
}

static void
control_acceptcb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control *c = arg;
	struct control_conn *cc;

	if (c->nconns >= CONTROL_CLIENTS_MAX) {
		log_rl(&c->rl, LOG_WARNING, "status: %d clients already; "
		    "refusing one more", CONTROL_CLIENTS_MAX);
		evutil_closesocket(fd);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->deadline = evtimer_new(c->base, control_deadlinecb,
	    cc)) == NULL || (cc->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_rl(&c->rl, LOG_WARNING, "status: out of memory");
		if (cc != NULL && cc->deadline != NULL)
			event_free(cc->deadline);
		free(cc);
		evutil_closesocket(fd);
		return;
	}
	cc->ctl = c;
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	c->nconns++;
	bufferevent_setcb(cc->bev, control_readcb, control_writecb,
	    control_eventcb, cc);
	/* Never buffer more than a request may be. */
	bufferevent_setwatermark(cc->bev, EV_READ, 0, CONTROL_REQUEST_MAX);
	bufferevent_enable(cc->bev, EV_READ);
	event_add(cc->deadline, &(struct timeval){
	    .tv_sec = CONTROL_REQUEST_DEADLINE_MS / 1000,
	    .tv_usec = CONTROL_REQUEST_DEADLINE_MS % 1000 * 1000 });
}

/* The uid given by name (or number) as options.user; -1 if none. */
static uid_t
control_user_uid(const char *user)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (user == NULL || user[0] == '\0')
		return (uid_t)-1;
	/* cppcheck-suppress getpwnamCalled ; one thread, used at once */
	if ((pw = getpwnam(user)) != NULL)
		return pw->pw_uid;
	errno = 0;
	n = strtoul(user, &end, 10);
	if (errno != 0 || *end != '\0' || n >= (unsigned long)(uid_t)-1)
		return (uid_t)-1;
	return (uid_t)n;
}

/*
 * Whoever can write to the socket's directory, or rename a directory
 * above it, can put a socket of their own or a symlink at its name and
 * answer `tapline status` in the daemon's place or redirect what it does
 * to the name.  So the directory must belong to root, to the daemon
 * itself or to the user it drops to, and be writable by nobody else;
 * the directories above it as well, except sticky ones such as /tmp,
 * where nobody can rename another's entry.
 */
static int
control_dir_check(const char *dir, uid_t user)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	bool top = true;

	if (realpath(dir, real) == NULL) {
		log_warnx("status: %s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		if (stat(real, &st) != 0) {
			log_warnx("status: %s: %s", real, strerror(errno));
			return -1;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid() &&
		    st.st_uid != user) {
			log_warnx("status: %s is owned by uid %u, not root or "
			    "the daemon's user; no status socket under it",
			    real, (unsigned)st.st_uid);
			return -1;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (top || (st.st_mode & S_ISVTX) == 0)) {
			log_warnx("status: %s is writable by group or others "
			    "(mode %04o); no status socket under it", real,
			    (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		slash[slash == real ? 1 : 0] = '\0';
		top = false;
	}
}

/*
 * The socket's directory: /run/tapline is made 0750 when missing, so
 * that only root (and the group) can even reach the socket; one that
 * exists must be safe (control_dir_check).
 */
static int
control_mkdir_parent(const char *path, uid_t user)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	mode_t old;
	int r;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir ? 1 : 0] = '\0';
	/* The mode from the umask at once: no chmod by path afterwards. */
	old = umask(027);
	r = mkdir(dir, 0750);
	umask(old);
	if (r != 0 && errno != EEXIST) {
		log_warnx("status: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return control_dir_check(dir, user);
}

/*
 * A socket file left by a daemon that died is removed; one that answers
 * belongs to a running tapline and is left alone, as is anything that
 * is not a socket.
 */
static int
control_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("status: %s exists and is not a socket; leaving it "
		    "alone", sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	/* EAGAIN: a listener whose backlog is full still counts. */
	if (r == 0 || errno == EAGAIN) {
		log_warnx("status: another process answers at %s; this "
		    "daemon has no status socket", sun->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warnx("status: %s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (unlink(sun->sun_path) != 0 && errno != ENOENT) {
		log_warnx("status: cannot remove the stale %s: %s",
		    sun->sun_path, strerror(errno));
		return -1;
	}
	log_info("status: removed the stale socket %s", sun->sun_path);
	return 0;
}

static int
control_listen(struct control *c, uid_t user)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (util_strlcpy(sun.sun_path, c->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("status: %s is too long for a socket path", c->path);
		return -1;
	}
	if (control_mkdir_parent(c->path, user) != 0 ||
	    control_clear_stale(&sun) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warnx("status: socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * Root only from the first moment: the mode comes from the umask.
	 * No chmod by path afterwards, which would follow whatever has
	 * taken the name by then.
	 */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0 || lstat(c->path, &st) != 0) {
		log_warnx("status: cannot make %s: %s", c->path,
		    strerror(errno));
		if (r == 0)
			(void)unlink(c->path);
		close(fd);
		return -1;
	}
	/* Someone else's file now: leave it, and have no socket. */
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("status: %s was replaced as it was made; no status "
		    "socket", c->path);
		close(fd);
		return -1;
	}
	c->bound = true;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->listener = evconnlistener_new(c->base, control_acceptcb, c,
	    LEV_OPT_CLOSE_ON_FREE, CONTROL_CLIENTS_MAX, fd);
	if (c->listener == NULL) {
		close(fd);
		return -1;
	}
	log_info("status: listening on %s", c->path);
	return 0;
}

static void
control_usr1cb(evutil_socket_t sig, short what, void *arg)
{
	control_log(arg);
}

struct control *
control_new(struct event_base *base, const char *path, const char *user,
    control_collect_fn collect, void *arg)
{
	struct control *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		log_warnx("status: out of memory; no status socket");
		free(c);
		return NULL;
	}
	c->base = base;
	c->collect = collect;
	c->arg = arg;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	TAILQ_INIT(&c->conns);
	/* SIGUSR1 is status by signal: it belongs with the socket. */
	c->usr1 = evsignal_new(base, SIGUSR1, control_usr1cb, c);
	if (c->usr1 == NULL || evsignal_add(c->usr1, NULL) != 0) {
		log_warnx("status: cannot handle SIGUSR1; no status socket");
		control_free(c);
		return NULL;
	}
	(void)control_listen(c, control_user_uid(user));
	return c;
}

void
control_free(struct control *c)
{
	struct control_conn *cc;
	struct stat st;

	if (c == NULL)
		return;
	while ((cc = TAILQ_FIRST(&c->conns)) != NULL)
		control_conn_free(cc);
	if (c->listener != NULL)
		evconnlistener_free(c->listener);
	/* Remove the file only if it is still the one we made. */
	if (c->bound && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino && unlink(c->path) != 0)
		log_warnx("status: cannot remove %s: %s", c->path,
		    strerror(errno));
	if (c->usr1 != NULL)
		event_free(c->usr1);
	free(c->path);
	free(c);
}

void
control_log(struct control *c)
{
	struct control_report r = { 0 }, one;
	char line[1024];
	size_t i;

	c->collect(&r, c->arg);
	one = r;
	one.unauthenticated = 0;
	one.nsessions = 1;
	for (i = 0; i < r.nsessions; i++) {
		one.sessions = &r.sessions[i];
		(void)control_format(&one, CONTROL_LINE, line, sizeof(line));
		line[strcspn(line, "\n")] = '\0';
		log_notice("%s", line);
	}
	if (r.nsessions == 0)
		log_notice("status: no sessions");
	if (r.server && r.unauthenticated > 0)
		log_notice("status: %zu connection%s authenticating",
		    r.unauthenticated, r.unauthenticated == 1 ? "" : "s");
	control_report_free(&r);
}

/* --- tapline status ---------------------------------------------------- */

/*
 * Whatever answers at the socket reaches a terminal: its lines are
 * printed as they are, any other control byte (an escape sequence in a
 * device name or a peer) and anything beyond ASCII escaped as the log
 * escapes it.  A tapline daemon's own answer is printable already.
 */
static int
control_print(FILE *out, const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	char esc[8];
	size_t i, run;

	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len && (p[i + run] == '\n' ||
		    (p[i + run] >= 0x20 && p[i + run] < 0x7f)); run++)
			;
		if (run > 0) {
			if (fwrite(p + i, 1, run, out) != run)
				return -1;
			continue;
		}
		util_escape(p + i, 1, esc, sizeof(esc));
		if (fputs(esc, out) == EOF)
			return -1;
		run = 1;
	}
	return fflush(out) != 0 ? -1 : 0;
}

/* Read until EOF, at most CONTROL_ANSWER_MAX bytes, within the timeout. */
static char *
control_read_all(int fd, size_t *outlen, char *err, size_t errlen)
{
	uint64_t end = util_now_ms() + CONTROL_QUERY_TIMEOUT_MS, now;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0, cap = 0;
	char *buf = NULL, *n;
	ssize_t r;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 16384 : cap * 2;
			if ((n = realloc(buf, cap)) == NULL) {
				util_err(err, errlen, "out of memory");
				goto fail;
			}
			buf = n;
		}
		now = util_now_ms();
		if (now >= end) {
			util_err(err, errlen, "no answer within %d ms",
			    CONTROL_QUERY_TIMEOUT_MS);
			goto fail;
		}
		if (poll(&pfd, 1, (int)(end - now)) < 0) {
			if (errno == EINTR)
				continue;
			util_err(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			util_err(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		len += (size_t)r;
		if (len > CONTROL_ANSWER_MAX) {
			util_err(err, errlen, "answer longer than %d bytes",
			    CONTROL_ANSWER_MAX);
			goto fail;
		}
	}
	buf[len] = '\0';
	*outlen = len;
	return buf;
fail:
	free(buf);
	return NULL;
}

int
control_query(const char *path, const char *session, bool json, FILE *out,
    char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char req[CONTROL_REQUEST_MAX], esc[CONTROL_ESC_MAX], *ans;
	size_t len;
	int fd, n, rc = 1;

	if ((n = control_request_format(session, json, req,
	    sizeof(req))) < 0) {
		/* Not a name the config allows: no daemon can have it. */
		util_escape(session, strlen(session), esc, sizeof(esc));
		util_err(err, errlen, "no session %s", esc);
		return 1;
	}
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		util_err(err, errlen, "%s is too long for a socket path",
		    path);
		return 1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		util_err(err, errlen, "socket: %s", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		util_err(err, errlen, "cannot connect to %s: %s (is tapline "
		    "running?)", path, strerror(errno));
		close(fd);
		return 1;
	}
	/* MSG_NOSIGNAL: a daemon that closes on us must not kill us. */
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		util_err(err, errlen, "cannot send to %s: %s", path,
		    strerror(errno));
		close(fd);
		return 1;
	}
	ans = control_read_all(fd, &len, err, errlen);
	close(fd);
	if (ans == NULL)
		return 1;
	if (len == 0) {
		util_err(err, errlen, "%s closed without an answer", path);
	} else if (strncmp(ans, "error: ", 7) == 0) {
		ans[strcspn(ans, "\n")] = '\0';
		util_escape(ans + 7, strlen(ans + 7), err, errlen);
	} else if (control_print(out, ans, len) != 0) {
		util_err(err, errlen, "cannot write the answer: %s",
		    strerror(errno));
	} else {
		rc = 0;
	}
	free(ans);
	return rc;
}

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
