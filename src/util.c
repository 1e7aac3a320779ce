/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "util.h"

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Escape one byte into tmp (at least 4 bytes); returns its length. */
static size_t
util_escape_byte(unsigned char c, char *tmp)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\\') {
		tmp[0] = tmp[1] = '\\';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		tmp[0] = (char)c;
		return 1;
	}
	tmp[0] = '\\';
	tmp[1] = 'x';
	tmp[2] = hex[c >> 4];
	tmp[3] = hex[c & 0xf];
	return 4;
}

/*
 * Peer-supplied bytes reach the log only through here, so that a newline
 * or a terminal escape can never forge or garble a log line.  Output that
 * does not fit ends in "...".
 */
void
util_escape(const void *buf, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = buf;
	size_t total = 0, o = 0, i, n;
	char tmp[4];

	if (outlen == 0)
		return;
	for (i = 0; i < len; i++)
		total += util_escape_byte(p[i], tmp);
	for (i = 0; i < len; i++) {
		n = util_escape_byte(p[i], tmp);
		/* Stop before the byte that would not fit, keeping room
		 * for "..." when the output is truncated. */
		if (total < outlen ? o + n >= outlen : o + n + 4 > outlen)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (total >= outlen && outlen >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void
util_sockaddr_parts(const struct sockaddr *sa, char *host, size_t hostlen,
    char *port, size_t portlen)
{
	const void *a = NULL;
	unsigned int p = 0;
	int family = sa->sa_family;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		a = &in->sin_addr;
		p = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		a = &in6->sin6_addr;
		p = ntohs(in6->sin6_port);
		/* A dual-stack socket's IPv4 peer reads best as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			a = &in6->sin6_addr.s6_addr[12];
			family = AF_INET;
		}
	}
	if (a == NULL || inet_ntop(family, a, host,
	    (socklen_t)hostlen) == NULL)
		util_strlcpy(host, "?", hostlen);
	snprintf(port, portlen, "%u", p);
}

void
util_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN], port[8];

	util_sockaddr_parts(sa, host, sizeof(host), port, sizeof(port));
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s",
	    host, port);
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Classic two-row dynamic programme; only used on setting names. */
size_t
util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *prev, *cur, *tmp, d;

	prev = calloc(lb + 1, sizeof(*prev));
	cur = calloc(lb + 1, sizeof(*cur));
	if (prev == NULL || cur == NULL) {
		free(prev);
		free(cur);
		return (size_t)-1;
	}
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			d = sub < del ? sub : del;
			cur[j] = d < ins ? d : ins;
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	d = prev[lb];
	free(prev);
	free(cur);
	return d;
}

int
util_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * The daemon's event loop.  With the changelist, an event armed and
 * disarmed again within one loop iteration costs no epoll_ctl (see
 * stream_kick in stream.c).  Safe here: no descriptor in the
 * loop is ever dup()ed, the changelist's one known pitfall.
 */
struct event_base *
util_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}
