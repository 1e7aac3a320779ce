/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

/* Longest STATUS= text; systemctl shows one line anyway. */
#define NOTIFY_STATUS_MAX 256
/* A ping more often than this would only spin (WATCHDOG_USEC=1). */
#define NOTIFY_WATCHDOG_MIN_USEC 10000

int
notify_builtin_send(const char *addr, const char *state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t alen, slen = strlen(state);
	socklen_t socklen;
	ssize_t n;
	int fd, rc;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	/* systemd also knows "vsock:CID:PORT"; a VM guest is not our case. */
	if (addr[0] != '/' && addr[0] != '@')
		return -EINVAL;
	alen = strlen(addr);
	if (alen < 2 || alen >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, addr, alen);
	/*
	 * '@' stands for the leading NUL of an abstract name, whose length
	 * is the address length: no terminator may be counted for it.
	 */
	if (addr[0] == '@')
		sun.sun_path[0] = '\0';
	socklen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + alen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    socklen);
	if (n == -1)
		rc = -errno;
	else
		rc = (size_t)n == slen ? 1 : -EMSGSIZE;
	close(fd);
	return rc;
}

int
notify_send(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	return sd_notify(0, state);
#else
	return notify_builtin_send(getenv("NOTIFY_SOCKET"), state);
#endif
}

/*
 * A manager that asked for messages and cannot get READY=1 will kill the
 * daemon after its start timeout: say why while there is time to read it.
 */
int
notify_ready(void)
{
	int rc = notify_send("READY=1");

	if (rc < 0)
		log_warnx("cannot tell the service manager that tapline is "
		    "ready (NOTIFY_SOCKET): %s", strerror(-rc));
	return rc;
}

/* One line of text: a newline would start another VAR=value. */
int
notify_status(const char *fmt, ...)
{
	char msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
	va_list ap;
	size_t off = sizeof("STATUS=") - 1, i;

	memcpy(msg, "STATUS=", off);
	va_start(ap, fmt);
	(void)vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	va_end(ap);
	for (i = off; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = ' ';
	return notify_send(msg);
}

/*
 * MONOTONIC_USEC lets systemd 253+ (Type=notify-reload) match this
 * message to the reload it asked for; older managers ignore it.
 */
int
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return notify_send("RELOADING=1");
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

/*
 * $WATCHDOG_PID names the process the interval is meant for: a child
 * that inherited the environment must not take it as its own.
 */
uint64_t
notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	long long p;
	char *end;

	if (usec == NULL || usec[0] < '0' || usec[0] > '9')
		return 0;
	if (pid != NULL && pid[0] != '\0') {
		errno = 0;
		p = strtoll(pid, &end, 10);
		if (errno != 0 || *end != '\0' || p != (long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return v;
}

static void
notify_watchdogcb(evutil_socket_t fd, short what, void *arg)
{
	int rc = notify_watchdog();

	if (rc < 0)
		log_debug("watchdog ping: %s", strerror(-rc));
}

/*
 * sd_watchdog_enabled(3) advises pinging at half the interval: one late
 * wakeup of the loop then costs nothing.
 */
struct event *
notify_watchdog_new(struct event_base *base)
{
	uint64_t usec = notify_watchdog_usec() / 2;
	struct event *ev;

	if (usec == 0)
		return NULL;
	if (usec < NOTIFY_WATCHDOG_MIN_USEC)
		usec = NOTIFY_WATCHDOG_MIN_USEC;
	ev = event_new(base, -1, EV_PERSIST, notify_watchdogcb, NULL);
	if (ev == NULL || event_add(ev, &(struct timeval){
	    .tv_sec = (time_t)(usec / 1000000),
	    .tv_usec = (suseconds_t)(usec % 1000000) }) != 0) {
		log_warnx("cannot start the watchdog timer; the service "
		    "manager will restart tapline");
		if (ev != NULL)
			event_free(ev);
		return NULL;
	}
	log_info("watchdog: telling the service manager every %.1f s",
	    (double)usec / 1e6);
	(void)notify_watchdog();
	return ev;
}
