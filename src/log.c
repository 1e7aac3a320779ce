/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/err.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX 1024

/*
 * Where log lines go.  This is the only mutable state of the module: the
 * destination belongs to the process, not to any session.
 */
static struct {
	bool foreground;
	bool journal;	/* stderr is journald's stream: use <N> prefixes */
	bool syslog_open;
	int level;
	log_sink_fn sink;
	void *sink_arg;
} log_state = { .foreground = true, .level = LOG_NOTICE };

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
 * In the foreground lines go to stderr; under systemd (JOURNAL_STREAM set)
 * they carry the <N> priority prefix that journald understands.  Otherwise
 * syslog with the configured facility.
 */
void
log_init(const char *ident, bool foreground, int facility)
{
	log_state.foreground = foreground;
	log_state.journal = foreground && getenv("JOURNAL_STREAM") != NULL;
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

/* Emit one finished line to the current destination. */
static void
log_emit(int level, const char *line)
{
	if (log_state.sink != NULL) {
		log_state.sink(level, line, log_state.sink_arg);
		return;
	}
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

	if (level > log_state.level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_emit(level, line);
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
	char line[LOG_LINE_MAX];
	uint64_t suppressed;

	if (level > log_state.level)
		return;
	if (!log_rl_allow(rl, util_now_ms(), &suppressed))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (suppressed > 0)
		log_msg(level, "%s (%llu similar messages suppressed)", line,
		    (unsigned long long)suppressed);
	else
		log_msg(level, "%s", line);
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
