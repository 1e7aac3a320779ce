/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: stderr in the foreground, syslog otherwise.  Levels are the
 * syslog ones (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG).
 *
 * The destination is process-wide by nature (there is one stderr and one
 * syslog connection), so it is the one piece of module state here; rate
 * limits live in the object that logs (a session, a socket), not in here.
 */
#ifndef TAPLINE_LOG_H
#define TAPLINE_LOG_H

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

#endif
