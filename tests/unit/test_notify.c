/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify.c: the built-in sd_notify sender (path and abstract sockets, bad
 * addresses), the message texts, and the watchdog settings it reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "notify.h"

/* A receiving socket of the test's own: the service manager's end. */
struct receiver {
	int fd;
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[64];
};

/* Bind a datagram socket at a fresh path, or an abstract name. */
static void
receiver_open(struct receiver *r, int abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	r->dir[0] = '\0';
	if (abstract) {
		snprintf(r->addr, sizeof(r->addr), "@tapline-test-notify-%ld",
		    (long)getpid());
		memcpy(sun.sun_path, r->addr, strlen(r->addr));
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(r->addr));
	} else {
		snprintf(r->dir, sizeof(r->dir), "/tmp/tapline-notify.XXXXXX");
		assert_non_null(mkdtemp(r->dir));
		snprintf(r->addr, sizeof(r->addr), "%s/notify", r->dir);
		strcpy(sun.sun_path, r->addr);
		len = sizeof(sun);
	}
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sun, len), 0);
}

static void
receiver_close(struct receiver *r)
{
	close(r->fd);
	if (r->dir[0] != '\0') {
		unlink(r->addr);
		rmdir(r->dir);
	}
}

/* The next datagram as a string; the sender has already returned. */
static void
receiver_expect(struct receiver *r, const char *want)
{
	char buf[1024];
	ssize_t n;

	n = recv(r->fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
receiver_expect_none(struct receiver *r)
{
	char buf[16];

	assert_int_equal(recv(r->fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
}

static void
test_builtin_path(void **state)
{
	struct receiver r;

	(void)state;
	receiver_open(&r, 0);
	assert_int_equal(notify_builtin_send(r.addr, "READY=1"), 1);
	receiver_expect(&r, "READY=1");
	assert_int_equal(notify_builtin_send(r.addr,
	    "STOPPING=1\nSTATUS=bye"), 1);
	receiver_expect(&r, "STOPPING=1\nSTATUS=bye");
	receiver_close(&r);
}

static void
test_builtin_abstract(void **state)
{
	struct receiver r;

	(void)state;
	receiver_open(&r, 1);
	assert_int_equal(notify_builtin_send(r.addr, "WATCHDOG=1"), 1);
	receiver_expect(&r, "WATCHDOG=1");
	receiver_close(&r);
}

/* No manager, or one that went away: never fatal, never a crash. */
static void
test_builtin_bad_addresses(void **state)
{
	static const struct {
		const char *addr;
		int rc;
	} cases[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "relative/path", -EINVAL },
		{ "vsock:2:1234", -EINVAL },
		{ "@", -EINVAL },
		{ "/", -EINVAL },
		{ "/nonexistent/tapline/notify", -ENOENT },
	};
	char longaddr[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(notify_builtin_send(cases[i].addr,
		    "READY=1"), cases[i].rc);
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[0] = '/';
	longaddr[sizeof(longaddr) - 1] = '\0';
	assert_int_equal(notify_builtin_send(longaddr, "READY=1"), -EINVAL);
}

/* The messages the daemon sends, through $NOTIFY_SOCKET. */
static void
test_messages(void **state)
{
	struct receiver r;
	char buf[256];
	ssize_t n;

	(void)state;
	receiver_open(&r, 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", r.addr, 1), 0);
	assert_int_equal(notify_ready(), 1);
	receiver_expect(&r, "READY=1");
	assert_int_equal(notify_status("%d sessions up", 3), 1);
	receiver_expect(&r, "STATUS=3 sessions up");
	/* A newline would smuggle in another variable. */
	assert_int_equal(notify_status("a\nREADY=1\tb"), 1);
	receiver_expect(&r, "STATUS=a READY=1 b");
	assert_int_equal(notify_stopping(), 1);
	receiver_expect(&r, "STOPPING=1");
	assert_int_equal(notify_watchdog(), 1);
	receiver_expect(&r, "WATCHDOG=1");
	assert_int_equal(notify_reloading(), 1);
	n = recv(r.fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	assert_true(strtoull(buf + 27, NULL, 10) > 0);
	receiver_expect_none(&r);

	/* Without the variable nothing is sent and nothing fails. */
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	assert_int_equal(notify_ready(), 0);
	assert_int_equal(notify_status("x"), 0);
	receiver_expect_none(&r);
	receiver_close(&r);
}

static void
test_watchdog_usec(void **state)
{
	char pid[32], other[32];
	static const struct {
		const char *usec;
		int pid;	/* 0 unset, 1 ours, 2 another, 3 garbage */
		uint64_t want;
	} cases[] = {
		{ NULL, 0, 0 },
		{ "", 0, 0 },
		{ "2000000", 0, 2000000 },
		{ "2000000", 1, 2000000 },
		{ "2000000", 2, 0 },
		{ "2000000", 3, 0 },
		{ "0", 0, 0 },
		{ "-5", 0, 0 },
		{ "12x", 0, 0 },
		{ "99999999999999999999999", 0, 0 },
	};
	size_t i;

	(void)state;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].usec != NULL)
			setenv("WATCHDOG_USEC", cases[i].usec, 1);
		else
			unsetenv("WATCHDOG_USEC");
		switch (cases[i].pid) {
		case 0:
			unsetenv("WATCHDOG_PID");
			break;
		case 1:
			setenv("WATCHDOG_PID", pid, 1);
			break;
		case 2:
			setenv("WATCHDOG_PID", other, 1);
			break;
		default:
			setenv("WATCHDOG_PID", "me", 1);
			break;
		}
		assert_int_equal(notify_watchdog_usec(), cases[i].want);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* The timer pings at once and then at half the interval. */
static void
test_watchdog_timer(void **state)
{
	struct event_base *base;
	struct event *ev;
	struct receiver r;
	int got = 0;
	char buf[64];

	(void)state;
	base = event_base_new();
	assert_non_null(base);
	unsetenv("WATCHDOG_USEC");
	assert_null(notify_watchdog_new(base));

	receiver_open(&r, 0);
	setenv("NOTIFY_SOCKET", r.addr, 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	ev = notify_watchdog_new(base);
	assert_non_null(ev);
	receiver_expect(&r, "WATCHDOG=1");
	/* 0.25 s of loop at a 50 ms period: about four more pings. */
	event_base_loopexit(base, &(struct timeval){ .tv_usec = 250000 });
	event_base_dispatch(base);
	while (recv(r.fd, buf, sizeof(buf), 0) > 0)
		got++;
	assert_true(got >= 2);
	assert_true(got <= 6);
	event_free(ev);
	event_base_free(base);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	receiver_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_path),
		cmocka_unit_test(test_builtin_abstract),
		cmocka_unit_test(test_builtin_bad_addresses),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_watchdog_usec),
		cmocka_unit_test(test_watchdog_timer),
	};

	unsetenv("NOTIFY_SOCKET");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
