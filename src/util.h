/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by several modules. */
#ifndef TAPLINE_UTIL_H
#define TAPLINE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Copy at most size-1 bytes and always terminate; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/*
 * Write `len` untrusted bytes into `out` as printable ASCII (\xNN for the
 * rest, backslash doubled), truncated with "..." to fit `outlen`.
 */
void util_escape(const void *buf, size_t len, char *out, size_t outlen);

struct sockaddr;

/* Host and port of an AF_INET/AF_INET6 address as text ("?" otherwise). */
void util_sockaddr_parts(const struct sockaddr *sa, char *host, size_t hostlen,
    char *port, size_t portlen);
/* "198.51.100.2:5000" or "[2001:db8:1::2]:5000"; len >= 56 fits all. */
void util_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Monotonic clock in milliseconds. */
uint64_t util_now_ms(void);

/* Levenshtein distance between two short strings (for "did you mean"). */
size_t util_edit_distance(const char *a, const char *b);

/* snprintf into err (if non-NULL); always returns -1 for `return err_set(...)` use. */
int util_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct event_base;
/* A new event loop for the daemon (epoll with its changelist). */
struct event_base *util_event_base_new(void);

#endif
