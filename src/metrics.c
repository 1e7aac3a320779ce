/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metrics: the report as OpenMetrics or Prometheus text (sans-I/O, first
 * half), and the HTTP endpoint at options.metrics_listen (second half).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

/* --- Output buffer with snprintf semantics ----------------------------- */

struct metrics_out {
	char *buf;
	size_t len;
	size_t need;
};

static void LOG_PRINTF(2, 3)
metrics_printf(struct metrics_out *o, const char *fmt, ...)
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

size_t
metrics_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;
	const char *rep;
	char one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			rep = "\\\\";
			break;
		case '"':
			rep = "\\\"";
			break;
		case '\n':
			rep = "\\n";
			break;
		default:
			one[0] = *s;
			rep = one;
			break;
		}
		for (; *rep != '\0'; rep++, n++)
			if (n + 1 < len)
				buf[n] = *rep;
	}
	if (len > 0)
		buf[n < len ? n : len - 1] = '\0';
	return n;
}

/* --- The families ------------------------------------------------------ */

/*
 * One session as the metrics see it: all the report's entries of that
 * name taken together (several with multi = allow).
 */
struct metrics_session {
	const char *name;
	bool up;
	uint64_t start_ms;	/* wall clock; 0 = not up */
	uint64_t handshake_ms;	/* wall clock; 0 = never */
	uint64_t rx_ms;		/* wall clock; 0 = never */
	const struct control_totals *t;
};

enum metrics_type { M_GAUGE, M_COUNTER };

/* A value of a session, for the families without extra labels. */
typedef bool (*metrics_value_fn)(const struct metrics_session *ms,
    char *buf, size_t len);

struct metrics_family {
	const char *name;	/* without _total */
	enum metrics_type type;
	const char *unit;	/* NULL for none */
	const char *help;
	metrics_value_fn value;	/* NULL: the drops family */
};

static bool
metrics_u64(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return true;
}

/* Seconds since 1970 with milliseconds; absent (false) when unknown. */
static bool
metrics_time(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		return false;
	snprintf(buf, len, "%llu.%03u", (unsigned long long)(ms / 1000),
	    (unsigned)(ms % 1000));
	return true;
}

static bool
metrics_v_up(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->up ? 1 : 0, buf, len);
}

static bool
metrics_v_start(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_time(ms->start_ms, buf, len);
}

static bool
metrics_v_handshake(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_time(ms->handshake_ms, buf, len);
}

static bool
metrics_v_rx(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_time(ms->rx_ms, buf, len);
}

static bool
metrics_v_rx_bytes(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->c.rx_bytes, buf, len);
}

static bool
metrics_v_tx_bytes(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->c.tx_bytes, buf, len);
}

static bool
metrics_v_rx_packets(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->c.rx_packets, buf, len);
}

static bool
metrics_v_tx_packets(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->c.tx_packets, buf, len);
}

static bool
metrics_v_rekeys(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->rekeys, buf, len);
}

static bool
metrics_v_conns(const struct metrics_session *ms, char *buf, size_t len)
{
	return metrics_u64(ms->t->connections, buf, len);
}

static const struct metrics_family metrics_families[] = {
	{ "tapline_session_up", M_GAUGE, NULL,
	  "Whether the session is up (forwarding): 1, or 0.", metrics_v_up },
	{ "tapline_session_start_time_seconds", M_GAUGE, "seconds",
	  "When the session's current connection came up, in unix time.",
	  metrics_v_start },
	{ "tapline_session_last_handshake_timestamp_seconds", M_GAUGE,
	  "seconds", "When the session's last handshake ended, in unix time.",
	  metrics_v_handshake },
	{ "tapline_session_last_receive_timestamp_seconds", M_GAUGE,
	  "seconds", "When the last authenticated frame or datagram came "
	  "from the peer, in unix time.", metrics_v_rx },
	{ "tapline_session_rx_bytes", M_COUNTER, "bytes",
	  "Bytes from the peer written to the device.", metrics_v_rx_bytes },
	{ "tapline_session_tx_bytes", M_COUNTER, "bytes",
	  "Bytes read from the device for the peer.", metrics_v_tx_bytes },
	{ "tapline_session_rx_packets", M_COUNTER, NULL,
	  "Packets from the peer written to the device.",
	  metrics_v_rx_packets },
	{ "tapline_session_tx_packets", M_COUNTER, NULL,
	  "Packets read from the device for the peer.",
	  metrics_v_tx_packets },
	{ "tapline_session_drops", M_COUNTER, NULL,
	  "Packets and datagrams dropped, by reason.", NULL },
	{ "tapline_session_rekeys", M_COUNTER, NULL,
	  "Key renewals of the session.", metrics_v_rekeys },
	{ "tapline_session_connections", M_COUNTER, NULL,
	  "Connections of the session that came up.", metrics_v_conns },
};

/* Wall clock of an age, 0 when it never started. */
static uint64_t
metrics_when(uint64_t wall_ms, uint64_t age_ms)
{
	if (wall_ms == 0 || age_ms == CONTROL_NEVER || age_ms >= wall_ms)
		return 0;
	return wall_ms - age_ms;
}

/* The sessions of r, each name once, in the report's order. */
static size_t
metrics_sessions(const struct control_report *r, struct metrics_session *out)
{
	const struct control_session *e;
	struct metrics_session *ms;
	uint64_t t;
	size_t i, j, n = 0;

	for (i = 0; i < r->nsessions; i++) {
		e = &r->sessions[i];
		for (j = 0; j < n; j++)
			if (strcmp(out[j].name, e->name) == 0)
				break;
		ms = &out[j];
		if (j == n) {
			memset(ms, 0, sizeof(*ms));
			ms->name = e->name;
			ms->t = &e->total;
			n++;
		}
		if (e->state == CONTROL_UP) {
			ms->up = true;
			/* The longest-running connection's start. */
			t = metrics_when(r->wall_ms, e->uptime_ms);
			if (t != 0 && (ms->start_ms == 0 || t < ms->start_ms))
				ms->start_ms = t;
		}
		t = metrics_when(r->wall_ms, e->handshake_age_ms);
		if (t > ms->handshake_ms)
			ms->handshake_ms = t;
		t = metrics_when(r->wall_ms, e->rx_age_ms);
		if (t > ms->rx_ms)
			ms->rx_ms = t;
	}
	return n;
}

static void
metrics_meta(struct metrics_out *o, const struct metrics_family *f, bool om)
{
	/* Prometheus text names a counter family by its samples. */
	const char *sfx = !om && f->type == M_COUNTER ? "_total" : "";

	metrics_printf(o, "# HELP %s%s %s\n", f->name, sfx, f->help);
	metrics_printf(o, "# TYPE %s%s %s\n", f->name, sfx,
	    f->type == M_COUNTER ? "counter" : "gauge");
	if (om && f->unit != NULL)
		metrics_printf(o, "# UNIT %s %s\n", f->name, f->unit);
}

static void
metrics_sample(struct metrics_out *o, const struct metrics_family *f,
    const char *labels, const char *reason, const char *value)
{
	metrics_printf(o, "%s%s{%s%s%s%s} %s\n", f->name,
	    f->type == M_COUNTER ? "_total" : "", labels,
	    reason != NULL ? ",reason=\"" : "", reason != NULL ? reason : "",
	    reason != NULL ? "\"" : "", value);
}

static void
metrics_drops_of(struct metrics_out *o, const struct metrics_family *f,
    const struct metrics_session *ms, const char *labels)
{
	char v[24], reason[48];
	size_t i;

	for (i = 0; i < control_drop_reasons(); i++) {
		metrics_u64(control_counters_drop(&ms->t->c, i), v, sizeof(v));
		metrics_sample(o, f, labels, control_drop_reason(i), v);
	}
	/* The datagrams' reasons, told apart by their prefix. */
	for (i = SEAL_OK + 1; i < SEAL_DROP_COUNT; i++) {
		snprintf(reason, sizeof(reason), "udp_%s",
		    seal_drop_name((enum seal_drop)i));
		metrics_u64(ms->t->seal_drop[i], v, sizeof(v));
		metrics_sample(o, f, labels, reason, v);
	}
}

size_t
metrics_format(const struct control_report *r, bool om, char *buf,
    size_t len)
{
	struct metrics_out o = { .buf = buf, .len = len };
	struct metrics_session *ss;
	const struct metrics_family *f;
	/* session="NAME",role="server", the name escaped. */
	char labels[2 * CONF_NAME_MAX + 64], esc[2 * CONF_NAME_MAX + 2];
	char v[32];
	size_t i, j, n;

	if (len > 0)
		buf[0] = '\0';
	ss = calloc(r->nsessions > 0 ? r->nsessions : 1, sizeof(*ss));
	n = ss != NULL ? metrics_sessions(r, ss) : 0;
	for (i = 0; i < UTIL_ARRAY_LEN(metrics_families); i++) {
		f = &metrics_families[i];
		metrics_meta(&o, f, om);
		for (j = 0; j < n; j++) {
			metrics_escape(ss[j].name, esc, sizeof(esc));
			snprintf(labels, sizeof(labels),
			    "session=\"%s\",role=\"%s\"", esc,
			    r->server ? "server" : "client");
			if (f->value == NULL)
				metrics_drops_of(&o, f, &ss[j], labels);
			else if (f->value(&ss[j], v, sizeof(v)))
				metrics_sample(&o, f, labels, NULL, v);
		}
	}
	if (om)
		metrics_printf(&o, "# EOF\n");
	free(ss);
	return o.need;
}

bool
metrics_wants_openmetrics(const char *accept)
{
	return accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL;
}

/* --- Merging several daemons' expositions ------------------------------ */

/* A family in a merge: its metadata lines and its samples so far. */
struct metrics_mfam {
	char name[128];
	size_t from;		/* the text whose metadata it keeps */
	struct evbuffer *meta;
	struct evbuffer *samples;
};

/* The family named by a metadata line ("# HELP name ..."), made if new. */
static struct metrics_mfam *
metrics_mfam_get(struct metrics_mfam **fams, size_t *nfams, const char *line,
    size_t len, size_t from)
{
	struct metrics_mfam *nf, *fm;
	const char *name;
	size_t i, nlen;

	if (len < 3 || (name = memchr(line + 2, ' ', len - 2)) == NULL)
		return NULL;
	name++;
	nlen = strcspn(name, " \n");
	if (nlen == 0 || nlen >= sizeof((*fams)->name))
		return NULL;
	for (i = 0; i < *nfams; i++)
		if (strlen((*fams)[i].name) == nlen &&
		    memcmp((*fams)[i].name, name, nlen) == 0)
			return &(*fams)[i];
	if ((nf = reallocarray(*fams, *nfams + 1, sizeof(*nf))) == NULL)
		return NULL;
	*fams = nf;
	fm = &nf[(*nfams)++];
	memset(fm, 0, sizeof(*fm));
	memcpy(fm->name, name, nlen);
	fm->from = from;
	fm->meta = evbuffer_new();
	fm->samples = evbuffer_new();
	return fm;
}

char *
metrics_merge(char *const *texts, size_t n, bool om)
{
	struct metrics_mfam *fams = NULL, *cur;
	size_t nfams = 0, i, len, nl;
	struct evbuffer *out;
	const char *p, *end;
	char *res = NULL;
	bool ok = true;

	for (i = 0; i < n && ok; i++) {
		cur = NULL;
		for (p = texts[i]; *p != '\0' && ok; p = end + nl) {
			end = p + strcspn(p, "\n");
			nl = *end == '\n' ? 1 : 0;
			len = (size_t)(end - p);
			if (len == 0 || (len == 5 && memcmp(p, "# EOF", 5) == 0))
				continue;
			if (p[0] == '#') {
				/* Metadata: it names the family that the
				 * samples after it belong to. */
				cur = metrics_mfam_get(&fams, &nfams, p, len, i);
				if (cur == NULL || cur->meta == NULL ||
				    cur->samples == NULL)
					ok = false;
				else if (cur->from == i)
					ok = evbuffer_add(cur->meta, p,
					    len + nl) == 0;
				continue;
			}
			if (cur != NULL)
				ok = evbuffer_add(cur->samples, p,
				    len + nl) == 0;
		}
	}
	if (ok && (out = evbuffer_new()) != NULL) {
		for (i = 0; i < nfams; i++) {
			evbuffer_add_buffer(out, fams[i].meta);
			evbuffer_add_buffer(out, fams[i].samples);
		}
		if (om)
			evbuffer_add_printf(out, "# EOF\n");
		len = evbuffer_get_length(out);
		if ((res = malloc(len + 1)) != NULL) {
			evbuffer_remove(out, res, len);
			res[len] = '\0';
		}
		evbuffer_free(out);
	}
	for (i = 0; i < nfams; i++) {
		if (fams[i].meta != NULL)
			evbuffer_free(fams[i].meta);
		if (fams[i].samples != NULL)
			evbuffer_free(fams[i].samples);
	}
	free(fams);
	return res;
}

/* --- The HTTP endpoint ------------------------------------------------- */

struct metrics_http {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;	/* evhttp's, NULL once freed */
	ctlsock_collect_fn collect;
	void *arg;
	/* Connections accepted in the current window, and its end. */
	unsigned int window_n;
	struct event *window;
	struct log_ratelimit rl;
};

/* A new window: accept again. */
static void
metrics_windowcb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_http *m = arg;

	m->window_n = 0;
	if (m->listener != NULL)
		evconnlistener_enable(m->listener);
}

/*
 * evhttp asks for each new connection's bufferevent here, which makes
 * it the place to count them.  libevent 2.1 tells nothing when evhttp
 * frees a connection, but none lives long: each ends after one answer
 * (Connection: close) or METRICS_TIMEOUT_S idle.  So at most
 * METRICS_CONNS_MAX are accepted per METRICS_TIMEOUT_S window; beyond
 * that the listener pauses until the window ends, and connections wait
 * in the kernel's backlog.
 */
static struct bufferevent *
metrics_bevcb(struct event_base *base, void *arg)
{
	struct metrics_http *m = arg;

	if (m->window_n++ == 0)
		event_add(m->window, &(struct timeval){
		    .tv_sec = METRICS_TIMEOUT_S });
	if (m->window_n >= METRICS_CONNS_MAX && m->listener != NULL) {
		log_rl(&m->rl, LOG_WARNING, "metrics: %d connections within "
		    "%d s; pausing accepts", METRICS_CONNS_MAX,
		    METRICS_TIMEOUT_S);
		evconnlistener_disable(m->listener);
	}
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void
metrics_reply(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	if (code == HTTP_BADMETHOD)
		evhttp_add_header(h, "Allow", "GET, HEAD");
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", body);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* GET /metrics (or HEAD): the report as metrics; nothing else is here. */
static void
metrics_reqcb(struct evhttp_request *req, void *arg)
{
	struct metrics_http *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct control_report r = { 0 };
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *b;
	size_t n;
	char *buf;
	bool om;

	/* Every answer ends its connection: they stay short. */
	evhttp_add_header(h, "Connection", "close");
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		metrics_reply(req, HTTP_NOTFOUND, "Not Found",
		    "not found: the metrics are at /metrics");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		metrics_reply(req, HTTP_BADMETHOD, "Method Not Allowed",
		    "method not allowed: GET or HEAD");
		return;
	}
	om = metrics_wants_openmetrics(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept"));
	m->collect(&r, m->arg);
	r.wall_ms = control_wall_ms();
	n = metrics_format(&r, om, NULL, 0);
	if ((buf = malloc(n + 1)) == NULL || (b = evbuffer_new()) == NULL) {
		free(buf);
		control_report_free(&r);
		metrics_reply(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory");
		return;
	}
	metrics_format(&r, om, buf, n + 1);
	control_report_free(&r);
	evbuffer_add(b, buf, n);
	free(buf);
	evhttp_add_header(h, "Content-Type", om ? METRICS_OPENMETRICS_TYPE :
	    METRICS_PROMETHEUS_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

struct metrics_http *
metrics_http_new(struct event_base *base, const char *listen,
    ctlsock_collect_fn collect, void *arg)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof(ss);
	struct metrics_http *m;
	struct evconnlistener *l;

	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		log_warnx("metrics: '%s' is not an address and port; no "
		    "metrics endpoint", listen);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->http = evhttp_new(base)) == NULL ||
	    (m->window = evtimer_new(base, metrics_windowcb, m)) == NULL) {
		log_warnx("metrics: out of memory; no metrics endpoint");
		if (m != NULL && m->http != NULL)
			evhttp_free(m->http);
		free(m);
		return NULL;
	}
	m->base = base;
	m->collect = collect;
	m->arg = arg;
	m->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	/* Nothing is posted here, but a small body still gets its 405. */
	evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	/* Every method reaches metrics_reqcb, which answers 405 itself
	 * (evhttp would say 501 to the ones it does not allow). */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, metrics_reqcb, m);
	evhttp_set_bevcb(m->http, metrics_bevcb, m);
	l = evconnlistener_new_bind(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, METRICS_CONNS_MAX,
	    (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		log_warnx("metrics: cannot listen on %s: %s; no metrics "
		    "endpoint", listen, strerror(errno));
		metrics_http_free(m);
		return NULL;
	}
	if (evhttp_bind_listener(m->http, l) == NULL) {
		evconnlistener_free(l);
		log_warnx("metrics: out of memory; no metrics endpoint");
		metrics_http_free(m);
		return NULL;
	}
	m->listener = l;
	log_info("metrics: serving http://%s/metrics", listen);
	return m;
}

void
metrics_http_free(struct metrics_http *m)
{
	if (m == NULL)
		return;
	m->listener = NULL;
	evhttp_free(m->http);
	event_free(m->window);
	free(m);
}
