/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: stderr in the foreground, syslog otherwise.  Levels are the
 * syslog ones (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG).
 * When stderr is journald's stream and libsystemd is linked, each line
 * goes to the journal with fields of its own (TAPLINE_SESSION=,
 * TAPLINE_PEER=), so that `journalctl TAPLINE_SESSION=cobra` finds a
 * session's lines; the text of the line is the same everywhere.
 *
 * The destination is process-wide by nature (there is one stderr and one
 * syslog connection), so it is the one piece of module state here; rate
 * limits live in the object that logs (a session, a socket), not in here.
 */
#ifndef TAPLINE_LOG_H
#define TAPLINE_LOG_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *ident, bool foreground, int facility);
void log_set_level(int level);
int log_get_level(void);
int log_facility_from_name(const char *name);
const char *log_facility_name(int facility);

void log_msg(int level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(int level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * The session (and peer) the next line is about, for the journal's
 * fields: tunnel_tag() calls this as it formats a line's "cobra: "
 * prefix, so every line that starts with a session's tag carries its
 * fields without a change to the call.  The next log call takes the
 * context, whether or not it prints, so it never sticks to a later line.
 * Returns tag.  peer may be NULL or "" (not known yet).
 */
const char *log_tag(const char *tag, const char *session, const char *peer);
/*
 * The session of every line that names none: a client process serves
 * exactly one.  NULL or "" for none.
 */
void log_set_session(const char *session);

/* Log with ": strerror(errno)" appended, then exit(1). */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
/* Log, then exit(1): for states that must be impossible. */
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * Rate limit for per-packet or per-peer events: at most `burst` lines per
 * `interval_ms`; the number of suppressed lines is reported with the next
 * line that gets through.  Embed one per event kind in the owning object.
 */
struct log_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t window_start_ms;
	uint32_t printed;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT { .interval_ms = 5000, .burst = 10 }

void log_rl(struct log_ratelimit *rl, int level, const char *fmt, ...)
    LOG_PRINTF(3, 4);
void log_vrl(struct log_ratelimit *rl, int level, const char *fmt,
    va_list ap) LOG_PRINTF(3, 0);
/* The same with an explicit clock, so that tests can drive it. */
bool log_rl_allow(struct log_ratelimit *rl, uint64_t now_ms,
    uint64_t *suppressed);

/* Drain OpenSSL's error queue into the log, each entry prefixed by `what`. */
void log_ssl_errors(int level, const char *what);
/*
 * Format "what: <first queued OpenSSL reason>" into err (for a caller that
 * reports the error itself) and drain the rest of the queue.  Returns -1.
 */
int log_ossl_err(char *err, size_t errlen, const char *what);

/* Route libevent's own messages and fatal errors into this log. */
void log_route_libevent(void);

/*
 * Tests capture lines through a sink instead of stderr/syslog.  A NULL sink
 * restores normal output.  The line has no trailing newline.
 */
typedef void (*log_sink_fn)(int level, const char *line, void *arg);
void log_set_sink(log_sink_fn sink, void *arg);

/*
 * One journal entry, as sd_journal_sendv() takes it: "FIELD=value"
 * strings.  Built without I/O, so that tests can read it.
 */
#define LOG_LINE_MAX 1024
#define LOG_JOURNAL_FIELDS 5
#define LOG_FIELD_MAX 80	/* a session name or a peer, with its field name */
struct log_journal {
	char message[sizeof("MESSAGE=") + LOG_LINE_MAX];
	char priority[sizeof("PRIORITY=") + 1];
	char ident[LOG_FIELD_MAX];
	char session[LOG_FIELD_MAX];
	char peer[LOG_FIELD_MAX];
	struct iovec iov[LOG_JOURNAL_FIELDS];
	size_t n;
};
void log_journal_fields(struct log_journal *j, const char *ident, int level,
    const char *line, const char *session, const char *peer);
/* Whether JOURNAL_STREAM's "DEVICE:INODE" names this file (stderr's). */
bool log_journal_stream_is(const char *env, dev_t dev, ino_t ino);
/*
 * Tests: entries that would go to the journal go to this sink instead,
 * whatever stderr is.  A NULL sink restores normal output.
 */
typedef void (*log_journal_sink_fn)(const struct log_journal *j, void *arg);
void log_set_journal_sink(log_journal_sink_fn sink, void *arg);

#endif
