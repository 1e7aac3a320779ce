/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "log.h"
#include "util.h"

/* A session name or a peer "address:port", as the journal fields hold. */
#define LOG_CTX_MAX 64

/*
 * Where log lines go.  This is the only mutable state of the module: the
 * destination belongs to the process, not to any session.  The context
 * of the next line lives here too, copied, since it is set while the
 * line's arguments are evaluated and read as the line is logged.
 */
static struct {
	bool foreground;
	bool journal;	/* stderr is journald's stream: use <N> prefixes */
	bool journal_send;	/* ... and libsystemd sends fields */
	bool syslog_open;
	int level;
	char ident[32];
	log_sink_fn sink;
	void *sink_arg;
	log_journal_sink_fn journal_sink;
	void *journal_sink_arg;
	bool has_next;		/* log_tag() ran since the last line */
	char next_session[LOG_CTX_MAX];
	char next_peer[LOG_CTX_MAX];
	char session[LOG_CTX_MAX];	/* log_set_session() */
} log_state = { .foreground = true, .level = LOG_NOTICE, .ident = "tapline" };

/* The session and peer of one line, or empty strings. */
struct log_ctx {
	char session[LOG_CTX_MAX];
	char peer[LOG_CTX_MAX];
};

static const struct {
	const char *name;
	int facility;
} log_facilities[] = {
	{ "auth", LOG_AUTH },	  { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const char *const log_level_names[] = {
	[LOG_EMERG] = "emerg",	 [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error",	 [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info",	[LOG_DEBUG] = "debug",
};

/*
 * systemd's documented test for "stderr is the journal": JOURNAL_STREAM
 * holds the device and inode of the stream it connected, and a child
 * whose stderr was redirected inherits the variable, not the stream.
 */
bool
log_journal_stream_is(const char *env, dev_t dev, ino_t ino)
{
	uintmax_t d, i;
	char *end;

	if (env == NULL)
		return false;
	errno = 0;
	d = strtoumax(env, &end, 10);
	if (end == env || *end != ':' || errno != 0)
		return false;
	env = end + 1;
	i = strtoumax(env, &end, 10);
	if (end == env || *end != '\0' || errno != 0)
		return false;
	return d == (uintmax_t)dev && i == (uintmax_t)ino;
}

static bool
log_stderr_is_journal(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return log_journal_stream_is(getenv("JOURNAL_STREAM"), st.st_dev,
	    st.st_ino);
}

/*
 * In the foreground lines go to stderr; when stderr is the journal they
 * carry the <N> priority prefix that journald understands, or, with
 * libsystemd, go to the journal with their fields.  Otherwise syslog
 * with the configured facility.
 */
void
log_init(const char *ident, bool foreground, int facility)
{
	log_state.foreground = foreground;
	log_state.journal = foreground && log_stderr_is_journal();
#ifdef HAVE_LIBSYSTEMD
	log_state.journal_send = log_state.journal;
#endif
	snprintf(log_state.ident, sizeof(log_state.ident), "%s", ident);
	if (log_state.syslog_open) {
		closelog();
		log_state.syslog_open = false;
	}
	if (!foreground) {
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
		log_state.syslog_open = true;
	}
}

void
log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_state.level = level;
}

int
log_get_level(void)
{
	return log_state.level;
}

int
log_facility_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(log_facilities); i++)
		if (strcasecmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].facility;
	return -1;
}

const char *
log_facility_name(int facility)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(log_facilities); i++)
		if (log_facilities[i].facility == facility)
			return log_facilities[i].name;
	return "?";
}

void
log_set_sink(log_sink_fn sink, void *arg)
{
	log_state.sink = sink;
	log_state.sink_arg = arg;
}

void
log_set_journal_sink(log_journal_sink_fn sink, void *arg)
{
	log_state.journal_sink = sink;
	log_state.journal_sink_arg = arg;
}

/* Whether lines go out with journal fields, so that context is worth keeping. */
static bool
log_fields_wanted(void)
{
	return log_state.journal_sink != NULL ||
	    (log_state.journal_send && log_state.sink == NULL);
}

const char *
log_tag(const char *tag, const char *session, const char *peer)
{
	if (!log_fields_wanted())
		return tag;
	log_state.has_next = true;
	snprintf(log_state.next_session, sizeof(log_state.next_session), "%s",
	    session != NULL ? session : "");
	snprintf(log_state.next_peer, sizeof(log_state.next_peer), "%s",
	    peer != NULL ? peer : "");
	return tag;
}

void
log_set_session(const char *session)
{
	snprintf(log_state.session, sizeof(log_state.session), "%s",
	    session != NULL ? session : "");
}

/*
 * The context of the line being logged: what log_tag() left, else the
 * process's session.  Taken once per log call, printed or not.
 */
static void
log_take_ctx(struct log_ctx *ctx)
{
	if (log_state.has_next) {
		memcpy(ctx->session, log_state.next_session,
		    sizeof(ctx->session));
		memcpy(ctx->peer, log_state.next_peer, sizeof(ctx->peer));
		log_state.has_next = false;
	} else {
		memcpy(ctx->session, log_state.session, sizeof(ctx->session));
		ctx->peer[0] = '\0';
	}
}

/* "NAME=value" into buf and the next iovec, unless value is empty. */
static void
log_journal_add(struct log_journal *j, char *buf, size_t size,
    const char *name, const char *value)
{
	int n;

	if (value == NULL || *value == '\0' || j->n >= LOG_JOURNAL_FIELDS)
		return;
	n = snprintf(buf, size, "%s=%s", name, value);
	if (n < 0)
		return;
	if ((size_t)n >= size)
		n = (int)size - 1;
	j->iov[j->n].iov_base = buf;
	j->iov[j->n].iov_len = (size_t)n;
	j->n++;
}

/*
 * The entry for one line: the message, its priority, who logged it, and
 * the session and peer it is about when known.  journald adds the
 * process's own fields (_PID, _SYSTEMD_UNIT, ...).
 */
void
log_journal_fields(struct log_journal *j, const char *ident, int level,
    const char *line, const char *session, const char *peer)
{
	char pri[2] = { (char)('0' + (level & 7)), '\0' };

	j->n = 0;
	log_journal_add(j, j->message, sizeof(j->message), "MESSAGE", line);
	log_journal_add(j, j->priority, sizeof(j->priority), "PRIORITY", pri);
	log_journal_add(j, j->ident, sizeof(j->ident), "SYSLOG_IDENTIFIER",
	    ident);
	log_journal_add(j, j->session, sizeof(j->session), "TAPLINE_SESSION",
	    session);
	log_journal_add(j, j->peer, sizeof(j->peer), "TAPLINE_PEER", peer);
}

/*
 * The line as a journal entry, to the test sink or to journald; false
 * when it did not get there (then it goes to stderr as before).
 */
static bool
log_emit_journal(int level, const char *line, const struct log_ctx *ctx)
{
	struct log_journal j;

	log_journal_fields(&j, log_state.ident, level, line, ctx->session,
	    ctx->peer);
	if (log_state.journal_sink != NULL) {
		log_state.journal_sink(&j, log_state.journal_sink_arg);
		return true;
	}
#ifdef HAVE_LIBSYSTEMD
	return sd_journal_sendv(j.iov, (int)j.n) >= 0;
#else
	return false;
#endif
}

/* Emit one finished line to the current destination. */
static void
log_emit(int level, const char *line, const struct log_ctx *ctx)
{
	if (log_state.journal_sink != NULL) {
		(void)log_emit_journal(level, line, ctx);
		return;
	}
	if (log_state.sink != NULL) {
		log_state.sink(level, line, log_state.sink_arg);
		return;
	}
	if (log_state.journal_send && log_emit_journal(level, line, ctx))
		return;
	if (!log_state.foreground) {
		syslog(level, "%s", line);
		return;
	}
	if (log_state.journal)
		fprintf(stderr, "<%d>%s\n", level, line);
	else if (level <= LOG_WARNING)
		fprintf(stderr, "tapline: %s: %s\n", log_level_names[level],
		    line);
	else
		fprintf(stderr, "tapline: %s\n", line);
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct log_ctx ctx;

	log_take_ctx(&ctx);
	if (level > log_state.level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_emit(level, line, &ctx);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(LOG_CRIT, "fatal: %s: %s", line, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(LOG_CRIT, "fatal: %s", line);
	exit(1);
}

/*
 * Fixed-window limiter: the first `burst` events of each window pass; the
 * rest are counted, and the count rides on the next line that passes.
 */
bool
log_rl_allow(struct log_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed)
{
	*suppressed = 0;
	if (rl->window_start_ms == 0 ||
	    now_ms - rl->window_start_ms >= rl->interval_ms) {
		rl->window_start_ms = now_ms == 0 ? 1 : now_ms;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->printed++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

void
log_rl(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vrl(rl, level, fmt, ap);
	va_end(ap);
}

void
log_vrl(struct log_ratelimit *rl, int level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], full[LOG_LINE_MAX + 64];
	uint64_t suppressed;
	struct log_ctx ctx;

	log_take_ctx(&ctx);
	if (level > log_state.level)
		return;
	if (!log_rl_allow(rl, util_now_ms(), &suppressed))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (suppressed > 0) {
		snprintf(full, sizeof(full), "%s (%llu similar messages "
		    "suppressed)", line, (unsigned long long)suppressed);
		/* No longer than any other line. */
		full[LOG_LINE_MAX - 1] = '\0';
		log_emit(level, full, &ctx);
	} else
		log_emit(level, line, &ctx);
}

int
log_ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (e == 0)
		util_err(err, errlen, "%s failed", what);
	else if (reason != NULL)
		util_err(err, errlen, "%s: %s", what, reason);
	else
		util_err(err, errlen, "%s: OpenSSL error %lx", what, e);
	ERR_clear_error();
	return -1;
}

void
log_ssl_errors(int level, const char *what)
{
	const char *data;
	unsigned long e;
	char buf[256];
	int flags;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		if ((flags & ERR_TXT_STRING) && data != NULL && *data != '\0')
			log_msg(level, "%s: %s (%s)", what, buf, data);
		else
			log_msg(level, "%s: %s", what, buf);
	}
}

/* libevent's severities mapped onto ours. */
static void
log_libevent_cb(int severity, const char *msg)
{
	int level;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		level = LOG_DEBUG;
		break;
	case EVENT_LOG_MSG:
		level = LOG_INFO;
		break;
	case EVENT_LOG_WARN:
		level = LOG_WARNING;
		break;
	default:
		level = LOG_ERR;
		break;
	}
	log_msg(level, "libevent: %s", msg);
}

static void
log_libevent_fatal_cb(int err)
{
	fatalx("libevent: internal error %d", err);
}

void
log_route_libevent(void)
{
	event_set_log_callback(log_libevent_cb);
	event_set_fatal_callback(log_libevent_fatal_cb);
}
