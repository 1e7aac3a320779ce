/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netcfg.c against the real kernel.  Before anything else the program
 * moves itself into a network namespace of its own (unshare), checks that
 * it really left the one it started in, and only then creates devices;
 * the namespace and everything in it vanish when the program exits, and
 * the host's namespace is never touched.  Without root, CAP_NET_ADMIN,
 * /dev/net/tun or the right to unshare, the program exits 77 (skipped).
 *
 * What the kernel did is read back with ip(8), which runs in the same
 * namespace: an independent netlink implementation checks ours.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "dev.h"
#include "netcfg.h"

#define SKIP 77
#define HARD_ERROR 99
/* CAP_NET_ADMIN is capability bit 12. */
#define CAP_NET_ADMIN_BIT 12

#define TUN_NAME "tlnc-tun"
#define TAP_NAME "tlnc-tap"
#define TAP2_NAME "tlnc-tap2"
#define BR_NAME "tlnc-br"

/* The devices every test uses, created once by the group setup. */
struct fixture {
	struct dev tun;
	struct dev tap;
	struct dev tap2;
};

/* Run a shell command in this namespace; its stdout into out. */
static int __attribute__((format(printf, 3, 4)))
capture(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[512];
	size_t n = 0, got;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (n + 1 < outlen && (got = fread(out + n, 1, outlen - 1 - n,
	    f)) > 0)
		n += got;
	out[n] = '\0';
	return pclose(f);
}

/* Parse "192.0.2.1/30" the way the config does (well-formed input). */
static struct conf_cidr
cidr(const char *s)
{
	struct conf_cidr c;
	char addr[64];
	const char *slash = strchr(s, '/');

	memset(&c, 0, sizeof(c));
	assert_non_null(slash);
	assert_true((size_t)(slash - s) < sizeof(addr));
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	c.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(c.family, addr, c.addr), 1);
	c.prefix = atoi(slash + 1);
	return c;
}

static int
group_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256], out[256];

	if (fx == NULL)
		return -1;
	if (dev_open(&fx->tun, DEV_TUN, TUN_NAME, 1, false, err,
	    sizeof(err)) == -1 ||
	    dev_open(&fx->tap, DEV_TAP, TAP_NAME, 1, false, err,
	    sizeof(err)) == -1 ||
	    dev_open(&fx->tap2, DEV_TAP, TAP2_NAME, 1, false, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "test_netcfg: %s\n", err);
		return -1;
	}
	/* Routes need an up device; the taps stay down for the errors. */
	if (dev_set_up(&fx->tun, true, err, sizeof(err)) == -1) {
		fprintf(stderr, "test_netcfg: %s\n", err);
		return -1;
	}
	if (capture(out, sizeof(out), "ip link add %s type bridge 2>&1",
	    BR_NAME) != 0) {
		fprintf(stderr, "test_netcfg: cannot create a bridge: %s\n",
		    out);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx != NULL) {
		dev_close(&fx->tun);
		dev_close(&fx->tap);
		dev_close(&fx->tap2);
		free(fx);
	}
	return 0;
}

/* Fail with both strings when `s` does not contain `sub`. */
static void
assert_contains(const char *s, const char *sub)
{
	if (strstr(s, sub) == NULL)
		fail_msg("<%s> does not contain <%s>", s, sub);
}

static void
test_addr_ipv4_tun(void **state)
{
	struct conf_cidr a = cidr("192.0.2.1/30");
	char err[256], out[2048];

	(void)state;
	assert_int_equal(netcfg_addr_add(TUN_NAME, &a, err, sizeof(err)), 0);
	assert_int_equal(capture(out, sizeof(out), "ip -o -4 addr show dev %s",
	    TUN_NAME), 0);
	assert_contains(out, "inet 192.0.2.1/30 ");
	/* A peer address would show as "peer"; there is none. */
	assert_null(strstr(out, "peer"));
	/* The prefix route, as "ip addr add" on a tun gives it. */
	assert_int_equal(capture(out, sizeof(out), "ip -4 route show dev %s",
	    TUN_NAME), 0);
	assert_contains(out, "192.0.2.0/30 proto kernel scope link src "
	    "192.0.2.1");

	/* The same address again is the kernel's EEXIST, by name. */
	errno = 0;
	assert_int_equal(netcfg_addr_add(TUN_NAME, &a, err, sizeof(err)), -1);
	assert_int_equal(errno, EEXIST);
	assert_contains(err, TUN_NAME ": cannot add address 192.0.2.1/30: "
	    "File exists");
}

static void
test_addr_ipv6(void **state)
{
	struct conf_cidr a = cidr("2001:db8:2::1/64");
	char err[256], out[2048];

	(void)state;
	assert_int_equal(netcfg_addr_add(TUN_NAME, &a, err, sizeof(err)), 0);
	assert_int_equal(capture(out, sizeof(out), "ip -o -6 addr show dev %s",
	    TUN_NAME), 0);
	assert_contains(out, "inet6 2001:db8:2::1/64 ");
	/* No duplicate address detection: usable at once. */
	assert_null(strstr(out, "tentative"));
	assert_int_equal(capture(out, sizeof(out), "ip -6 route show dev %s",
	    TUN_NAME), 0);
	assert_contains(out, "2001:db8:2::/64 proto kernel");

	assert_int_equal(netcfg_addr_add(TUN_NAME, &a, err, sizeof(err)), -1);
	assert_contains(err, TUN_NAME ": cannot add address 2001:db8:2::1/64: "
	    "File exists");

	/* Addresses may come before the link is up (tap2 stays down). */
	a = cidr("203.0.113.1/24");
	assert_int_equal(netcfg_addr_add(TAP2_NAME, &a, err, sizeof(err)), 0);
	a = cidr("2001:db8:3::1/64");
	assert_int_equal(netcfg_addr_add(TAP2_NAME, &a, err, sizeof(err)), 0);
	assert_int_equal(capture(out, sizeof(out), "ip -o addr show dev %s",
	    TAP2_NAME), 0);
	assert_contains(out, "inet 203.0.113.1/24 ");
	assert_contains(out, "inet6 2001:db8:3::1/64 ");
}

static void
test_route(void **state)
{
	static const struct {
		const char *cidr, *want;
		int family;
	} cases[] = {
		{ "198.51.100.0/24", "198.51.100.0/24 proto static scope link",
		    4 },
		{ "0.0.0.0/0", "default proto static scope link", 4 },
		{ "203.0.113.7/32", "203.0.113.7 proto static scope link", 4 },
		{ "2001:db8:1::/48", "2001:db8:1::/48 proto static", 6 },
		{ "::/0", "default proto static", 6 },
	};
	char err[256], out[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_cidr r = cidr(cases[i].cidr);

		if (netcfg_route_add(TUN_NAME, &r, err, sizeof(err)) != 0)
			fail_msg("%s: %s", cases[i].cidr, err);
		/* Again: refused, never replaced (an existing route may be
		 * the one that reaches the peer). */
		errno = 0;
		if (netcfg_route_add(TUN_NAME, &r, err, sizeof(err)) == 0 ||
		    errno != EEXIST || strstr(err, "File exists") == NULL)
			fail_msg("%s again: not refused: %s", cases[i].cidr,
			    err);
		assert_int_equal(capture(out, sizeof(out),
		    "ip -%d route show dev %s", cases[i].family, TUN_NAME), 0);
		assert_contains(out, cases[i].want);
	}
	/* Exactly one route to the network, not two. */
	assert_int_equal(capture(out, sizeof(out),
	    "ip -4 route show 198.51.100.0/24 | wc -l"), 0);
	assert_string_equal(out, "1\n");
}

static void
test_route_errors(void **state)
{
	struct conf_cidr r = cidr("198.51.100.0/24");
	struct conf_cidr bad = r;
	char err[256];

	(void)state;
	/* The tap is down: the kernel refuses, and says so. */
	errno = 0;
	assert_int_equal(netcfg_route_add(TAP_NAME, &r, err, sizeof(err)), -1);
	assert_int_equal(errno, ENETDOWN);
	assert_contains(err, TAP_NAME ": cannot add route 198.51.100.0/24: "
	    "Network is down");

	errno = 0;
	assert_int_equal(netcfg_route_add("tlnc-none", &r, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, "tlnc-none: cannot add route "
	    "198.51.100.0/24: No such device");

	bad.prefix = 33;
	assert_int_equal(netcfg_route_add(TUN_NAME, &bad, err, sizeof(err)),
	    -1);
	assert_contains(err, "prefix length out of range");
	bad.family = AF_UNIX;
	assert_int_equal(netcfg_route_add(TUN_NAME, &bad, err, sizeof(err)),
	    -1);
	assert_contains(err, "unknown address family");
}

static void
test_addr_errors(void **state)
{
	struct conf_cidr a = cidr("192.0.2.5/30");
	char err[256];

	(void)state;
	errno = 0;
	assert_int_equal(netcfg_addr_add("tlnc-none", &a, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, "tlnc-none: cannot add address 192.0.2.5/30: "
	    "No such device");
	/* A hostile name is escaped in the message. */
	assert_int_equal(netcfg_addr_add("a\nb", &a, err, sizeof(err)), -1);
	assert_contains(err, "a\\x0ab: cannot add address");
}

static void
test_bridge(void **state)
{
	char err[256], out[2048];

	(void)state;
	assert_int_equal(netcfg_bridge_attach(TAP_NAME, BR_NAME, err,
	    sizeof(err)), 0);
	assert_int_equal(capture(out, sizeof(out), "ip -o link show dev %s",
	    TAP_NAME), 0);
	assert_contains(out, "master " BR_NAME " ");
	/* Attaching again is harmless. */
	assert_int_equal(netcfg_bridge_attach(TAP_NAME, BR_NAME, err,
	    sizeof(err)), 0);
}

static void
test_bridge_errors(void **state)
{
	char err[256], out[2048];

	(void)state;
	errno = 0;
	assert_int_equal(netcfg_bridge_attach(TAP2_NAME, "tlnc-nobr", err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, TAP2_NAME ": cannot attach to bridge "
	    "tlnc-nobr: tlnc-nobr does not exist");

	/* Another tap is a device, but no bridge. */
	errno = 0;
	assert_int_equal(netcfg_bridge_attach(TAP2_NAME, TUN_NAME, err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_string_equal(err, TAP2_NAME ": cannot attach to bridge "
	    TUN_NAME ": " TUN_NAME " is not a bridge but a tun device");
	/* lo has no kind at all. */
	assert_int_equal(netcfg_bridge_attach(TAP2_NAME, "lo", err,
	    sizeof(err)), -1);
	assert_string_equal(err, TAP2_NAME ": cannot attach to bridge lo: lo "
	    "is not a bridge");

	/* A tun carries no Ethernet frames; the kernel says no. */
	assert_int_equal(netcfg_bridge_attach(TUN_NAME, BR_NAME, err,
	    sizeof(err)), -1);
	assert_contains(err, TUN_NAME ": cannot attach to bridge " BR_NAME
	    ": ");

	errno = 0;
	assert_int_equal(netcfg_bridge_attach("tlnc-none", BR_NAME, err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, "tlnc-none: cannot attach to bridge "
	    BR_NAME ": No such device");

	assert_int_equal(netcfg_bridge_attach(TAP2_NAME,
	    "a-name-much-too-long-for-linux", err, sizeof(err)), -1);
	assert_contains(err, "does not exist");

	/* None of that moved the second tap anywhere. */
	assert_int_equal(capture(out, sizeof(out), "ip -o link show dev %s",
	    TAP2_NAME), 0);
	assert_null(strstr(out, "master"));
}

/* 0 if this process may create devices, else why not (for the skip). */
static const char *
privileged(void)
{
	char line[256];
	bool found = false;
	FILE *f;

	if (geteuid() != 0)
		return "needs root";
	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return "cannot read /proc/self/status";
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long cap;

		if (sscanf(line, "CapEff: %llx", &cap) == 1) {
			found = (cap >> CAP_NET_ADMIN_BIT) & 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return "needs CAP_NET_ADMIN";
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		return "needs /dev/net/tun";
	return NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ipv4_tun),
		cmocka_unit_test(test_addr_ipv6),
		cmocka_unit_test(test_addr_errors),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_errors),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_bridge_errors),
	};
	struct stat before, after;
	const char *why;
	char out[256];

	if ((why = privileged()) != NULL) {
		fprintf(stderr, "SKIP: test_netcfg: %s\n", why);
		return SKIP;
	}
	if (stat("/proc/self/ns/net", &before) != 0) {
		fprintf(stderr, "SKIP: test_netcfg: no /proc/self/ns/net\n");
		return SKIP;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "SKIP: test_netcfg: unshare(CLONE_NEWNET): "
		    "%s\n", strerror(errno));
		return SKIP;
	}
	/* Never create a device in the namespace we came from. */
	if (stat("/proc/self/ns/net", &after) != 0 ||
	    (after.st_dev == before.st_dev && after.st_ino == before.st_ino)) {
		fprintf(stderr, "ERROR: test_netcfg: still in the original "
		    "network namespace after unshare\n");
		return HARD_ERROR;
	}
	if (capture(out, sizeof(out), "ip -V 2>&1") != 0) {
		fprintf(stderr, "SKIP: test_netcfg: needs ip(8)\n");
		return SKIP;
	}
	return cmocka_run_group_tests_name("netcfg", tests, group_setup,
	    group_teardown);
}
