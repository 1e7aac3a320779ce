/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dev.c without privileges: name rules, argument errors and the closed
 * state.  Nothing here may create a device, because unit tests run in the
 * host's network namespace; tests/integration/dev_*.sh do that part.  The
 * group setup drops CAP_NET_ADMIN, so that even a regression that let a
 * bad argument through to the kernel fails here instead of creating one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dev.h"

struct name_case {
	const char *name;
	bool valid;
	const char *reason; /* a part of the message when invalid */
};

static const struct name_case name_cases[] = {
	{ "tl0", true, NULL },
	{ "a", true, NULL },
	{ "tap-cobra", true, NULL },
	{ "tl_1.2", true, NULL },
	{ "...", true, NULL },
	{ "x.", true, NULL },
	{ "tl%d", true, NULL },
	{ "%d", true, NULL },
	{ "a%db", true, NULL },
	{ "abcdefghijklmno", true, NULL },     /* exactly 15 bytes */
	{ "abcdefghijklm%d", true, NULL },     /* a 15-byte template */
	{ "", false, "empty" },
	{ "abcdefghijklmnop", false, "16 bytes" },
	{ "abcdefghijklmn%d", false, "16 bytes" },
	{ "/", false, "'/'" },
	{ "a/b", false, "'/'" },
	{ ":", false, "':'" },
	{ "eth0:1", false, "':'" },
	{ " ", false, "white space" },
	{ "a b", false, "white space" },
	{ "a\tb", false, "white space" },
	{ "a\nb", false, "white space" },
	{ "x\xa0", false, "white space" },
	{ "a\x01", false, "control character" },
	{ "a\x7f", false, "control character" },
	{ ".", false, "reserved" },
	{ "..", false, "reserved" },
	{ "a%d%d", false, "more than once" },
	{ "%d%d", false, "more than once" },
	{ "%s", false, "not followed by 'd'" },
	{ "a%", false, "not followed by 'd'" },
	{ "a%%d", false, "not followed by 'd'" },
	{ "a%D", false, "not followed by 'd'" },
};

static void
test_name_table(void **state)
{
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		bool ok;

		strcpy(err, "untouched");
		ok = dev_name_valid(c->name, err, sizeof(err));
		if (ok != c->valid)
			fail_msg("case %zu (\"%s\"): got %s, wanted %s (%s)",
			    i, c->name, ok ? "valid" : "invalid",
			    c->valid ? "valid" : "invalid", err);
		if (c->valid) {
			assert_string_equal(err, "untouched");
			continue;
		}
		if (strstr(err, c->reason) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i,
			    err, c->reason);
	}
}

/* Messages quote the name with control bytes escaped and long ones cut. */
static void
test_name_messages(void **state)
{
	char err[256], longname[300];

	(void)state;
	assert_false(dev_name_valid(NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));

	assert_false(dev_name_valid("a\x01\x1b[2J", err, sizeof(err)));
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "\\x01"));

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(dev_name_valid(longname, err, sizeof(err)));
	assert_non_null(strstr(err, "299 bytes"));
	assert_non_null(strstr(err, "at most 15"));
	assert_true(strlen(err) < 200);

	/* A short buffer truncates; no buffer at all is allowed. */
	assert_false(dev_name_valid("a/b", err, 8));
	assert_int_equal(strlen(err), 7);
	assert_false(dev_name_valid("a/b", NULL, 0));
	assert_true(dev_name_valid("tl0", NULL, 0));
}

static void
test_type_name(void **state)
{
	(void)state;
	assert_string_equal(dev_type_name(DEV_TUN), "tun");
	assert_string_equal(dev_type_name(DEV_TAP), "tap");
	assert_string_equal(dev_type_name((enum dev_type)7), "unknown");
}

/* The lowest free descriptor, to show that a failed call leaked none. */
static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	close(fd);
	/* cppcheck-suppress deallocret ; the number, not the descriptor */
	return fd;
}

/* A struct dev after a failed dev_open: empty, every fd -1. */
static void
assert_dev_empty(const struct dev *d)
{
	int i;

	assert_int_equal(d->nqueues, 0);
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		if (d->fds[i] != -1)
			fail_msg("fds[%d] is %d after a failed open", i,
			    d->fds[i]);
}

struct open_case {
	enum dev_type type;
	const char *name;
	int queues;
	const char *reason;
};

/*
 * Every case fails before /dev/net/tun is opened, so none of them can
 * create a device even when the tests run as root.
 */
static const struct open_case open_cases[] = {
	{ DEV_TUN, "tl%d", 0, "1 to 256" },
	{ DEV_TAP, "tl%d", 0, "with 0 queues" },
	{ DEV_TUN, "tl%d", -1, "with -1 queues" },
	{ DEV_TAP, "tl%d", 257, "with 257 queues" },
	{ DEV_TUN, NULL, 257, "\"tun%d\" with 257 queues" },
	{ DEV_TAP, "", 257, "\"tap%d\" with 257 queues" },
	{ DEV_TUN, "tl%d", INT_MAX, "1 to 256" },
	{ DEV_TUN, "a/b", 1, "'/'" },
	{ DEV_TAP, "abcdefghijklmnop", 1, "16 bytes" },
	{ DEV_TAP, "a%d%d", 1, "cannot open tap device" },
	{ DEV_TUN, "..", 1, "cannot open tun device" },
	{ (enum dev_type)7, "tl0", 1, "unknown type 7" },
};

static void
test_open_arguments(void **state)
{
	struct dev d;
	char err[256];
	size_t i;
	int before;

	(void)state;
	before = lowest_free_fd();
	for (i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
		const struct open_case *c = &open_cases[i];

		memset(&d, 0x5a, sizeof(d));
		err[0] = '\0';
		if (dev_open(&d, c->type, c->name, c->queues, i % 2 == 0,
		    err, sizeof(err)) != -1)
			fail_msg("case %zu: dev_open did not fail", i);
		assert_dev_empty(&d);
		if (strstr(err, c->reason) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i,
			    err, c->reason);
	}
	assert_int_equal(lowest_free_fd(), before);
}

/* dev_close trusts only nqueues entries and may be called twice. */
static void
test_close(void **state)
{
	struct dev d;
	int fd, i;

	(void)state;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);

	memset(&d, 0, sizeof(d));
	d.fds[0] = fd;
	dev_close(&d);
	assert_int_not_equal(fcntl(fd, F_GETFD), -1);
	assert_dev_empty(&d);

	d.nqueues = 1;
	d.fds[0] = fd;
	dev_close(&d);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_dev_empty(&d);
	dev_close(&d);
	assert_dev_empty(&d);
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		assert_int_equal(d.fds[i], -1);
}

/* The control calls refuse a device that is not open, naming it. */
static void
test_closed_device(void **state)
{
	struct dev d;
	char err[256];
	int i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.type = DEV_TAP;
	strcpy(d.name, "tl7");
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		d.fds[i] = -1;

	assert_int_equal(dev_set_mtu(&d, 1400, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "cannot set MTU 1400 on tap device \"tl7\": it is not open");
	assert_int_equal(dev_set_up(&d, true, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "cannot bring up tap device \"tl7\": it is not open");
	assert_int_equal(dev_set_up(&d, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bring down"));
	assert_int_equal(dev_queue_attach(&d, 0, false, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "cannot detach queue 0 of tap device "
	    "\"tl7\": it has 0 open queues");
}

/* Queue numbers are checked, and single-queue devices are refused. */
static void
test_queue_arguments(void **state)
{
	struct dev d;
	char err[256];
	int i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.type = DEV_TUN;
	strcpy(d.name, "tl3");
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		d.fds[i] = -1;
	/* /dev/null stands in for a queue; no ioctl reaches it here. */
	d.fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(d.fds[0] >= 0);
	d.nqueues = 1;

	assert_int_equal(dev_queue_attach(&d, 1, true, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot attach queue 1 of tun device "
	    "\"tl3\": it has 1 open queue");
	assert_int_equal(dev_queue_attach(&d, -1, true, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "queue -1"));
	assert_int_equal(dev_queue_attach(&d, 0, false, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "only multi-queue devices"));
	dev_close(&d);
	assert_dev_empty(&d);
}

/* Clear CAP_NET_ADMIN from the effective set; dropping needs no privilege. */
static int
drop_net_admin(void **state)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	const unsigned int word = CAP_NET_ADMIN / 32;
	const uint32_t bit = 1u << (CAP_NET_ADMIN % 32);

	(void)state;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	if (!(data[word].effective & bit))
		return 0;
	data[word].effective &= ~bit;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -1;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	return (data[word].effective & bit) != 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_table),
		cmocka_unit_test(test_name_messages),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_open_arguments),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_closed_device),
		cmocka_unit_test(test_queue_arguments),
	};

	return cmocka_run_group_tests_name("dev", tests, drop_net_admin, NULL);
}
