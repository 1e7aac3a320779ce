/* SPDX-License-Identifier: GPL-2.0-or-later */
/* preauth.c: grouping, caps, eviction and the rate, on made-up peers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "preauth.h"

#define T0 1000000

/* The policy's address for a literal (IPv4 or IPv6). */
static struct preauth_addr
addr(const char *s)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct preauth_addr a;

	if (inet_pton(AF_INET, s, &s4.sin_addr) == 1) {
		preauth_addr_from(&a, (struct sockaddr *)&s4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, &s6.sin6_addr), 1);
		preauth_addr_from(&a, (struct sockaddr *)&s6);
	}
	return a;
}

/* Append k peers from s, each 1 ms younger than the one before. */
static size_t
add(struct preauth_peer *p, size_t n, const char *s, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++) {
		p[n].addr = addr(s);
		p[n].since_ms = T0 + n;
		n++;
	}
	return n;
}

static void
test_grouping(void **state)
{
	struct preauth_addr a = addr("198.51.100.7"), b;
	struct sockaddr sa = { .sa_family = AF_UNIX };

	(void)state;
	/* A dual-stack socket's view of an IPv4 peer is that peer. */
	b = addr("::ffff:198.51.100.7");
	assert_int_equal(b.family, AF_INET);
	assert_true(preauth_same_src(&a, &b));
	/* IPv4: the address is the source, the /24 the network. */
	b = addr("198.51.100.8");
	assert_false(preauth_same_src(&a, &b));
	assert_true(preauth_same_net(&a, &b));
	b = addr("198.51.101.7");
	assert_false(preauth_same_net(&a, &b));
	/* IPv6: the /64 is the source, the /48 the network. */
	a = addr("2001:db8:3::1");
	b = addr("2001:db8:3::ffff:1234:5678:9abc");
	assert_true(preauth_same_src(&a, &b));
	b = addr("2001:db8:3:1::1");
	assert_false(preauth_same_src(&a, &b));
	assert_true(preauth_same_net(&a, &b));
	b = addr("2001:db8:4::1");
	assert_false(preauth_same_net(&a, &b));
	/* Families never match, whatever the bytes. */
	b = addr("::c633:6407");
	a = addr("198.51.100.7");
	assert_false(preauth_same_src(&a, &b));
	assert_false(preauth_same_net(&a, &b));
	/* Anything else is one group of its own. */
	preauth_addr_from(&a, &sa);
	assert_int_equal(a.family, 0);
	assert_true(preauth_same_src(&a, &a));
	assert_false(preauth_same_src(&a, &b));
}

static void
test_source_cap(void **state)
{
	struct preauth_peer p[PREAUTH_MAX];
	struct preauth_decision d;
	struct preauth_addr a;
	size_t n;

	(void)state;
	n = add(p, 0, "198.51.100.3", PREAUTH_PER_SRC - 1);
	a = addr("198.51.100.3");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_ADMIT);
	/* At its cap a source is refused, never served by evicting. */
	n = add(p, n, "198.51.100.3", 1);
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	assert_int_equal(d.src, PREAUTH_PER_SRC);
	assert_int_equal(d.all, PREAUTH_PER_SRC);
	/* The same holds for any address of an IPv6 /64. */
	n = add(p, 0, "2001:db8:3::1", PREAUTH_PER_SRC / 2);
	n = add(p, n, "2001:db8:3::2", PREAUTH_PER_SRC / 2);
	a = addr("2001:db8:3::ffff");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	/* Another /64 of the same /48 is another source. */
	a = addr("2001:db8:3:1::1");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_ADMIT);
	assert_int_equal(d.net, PREAUTH_PER_SRC);
	assert_int_equal(d.src, 0);
}

static void
test_net_cap(void **state)
{
	struct preauth_peer p[PREAUTH_MAX];
	struct preauth_decision d;
	struct preauth_addr a;
	char s[32];
	size_t n = 0, i;

	(void)state;
	/* A /24 full: .16 holds 8, .17 .. .40 one each. */
	n = add(p, n, "198.51.100.17", 1);
	n = add(p, n, "198.51.100.16", PREAUTH_PER_SRC);
	for (i = 18; n < PREAUTH_PER_NET; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", i);
		n = add(p, n, s, 1);
	}
	/* A fresh address of that /24 takes the heaviest's oldest slot. */
	a = addr("198.51.100.2");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	assert_int_equal(d.victim, 1);
	assert_int_equal(d.net, PREAUTH_PER_NET);
	/* So does a source with one already: .16 is heavier. */
	a = addr("198.51.100.17");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 1);
	/* With every source at one, a source that has one waits. */
	n = 0;
	for (i = 0; n < PREAUTH_PER_NET; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", 100 + i);
		n = add(p, n, s, 1);
	}
	preauth_admit(p, n, &p[5].addr, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	/* A newcomer evicts the oldest of them. */
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 0);
	/* Ties between equally heavy sources go to the oldest connection. */
	p[0].since_ms = T0 + 1000;
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.victim, 1);
	/* Another /24 is not concerned. */
	a = addr("203.0.113.1");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_ADMIT);
}

static void
test_global_cap(void **state)
{
	struct preauth_peer p[PREAUTH_MAX];
	struct preauth_decision d;
	struct preauth_addr a;
	char s[48];
	size_t n = 0, i;

	(void)state;
	/*
	 * The brief's flood: 16 /48s holding 8 each fill the global cap
	 * (one /64 each).  A client from anywhere else gets the slot of
	 * the oldest connection of a heaviest network.
	 */
	for (i = 0; n < PREAUTH_MAX; i++) {
		snprintf(s, sizeof(s), "2001:db8:%zx::1", 0x100 + i);
		n = add(p, n, s, PREAUTH_PER_SRC);
	}
	a = addr("198.51.100.2");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_ALL);
	assert_int_equal(d.victim, 0);
	assert_int_equal(d.all, PREAUTH_MAX);
	/* One of the flooding sources is as heavy as any: refused. */
	preauth_admit(p, n, &p[20].addr, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	/*
	 * Another /64 of a flooding /48: that network is as heavy as any,
	 * so the room comes from within it, from the heavier /64.
	 */
	a = addr("2001:db8:101:1::1");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, PREAUTH_PER_SRC);
	assert_true(preauth_same_net(&p[d.victim].addr, &a));

	/*
	 * A /24 of 32 sources with one each is heavier than 12 IPv6
	 * sources with 8 each: the network goes first, then its oldest.
	 */
	n = 0;
	for (i = 0; i < 12; i++) {
		snprintf(s, sizeof(s), "2001:db8:%zx::1", 0x200 + i);
		n = add(p, n, s, PREAUTH_PER_SRC);
	}
	for (i = 0; n < PREAUTH_MAX; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", 100 + i);
		n = add(p, n, s, 1);
	}
	assert_int_equal(i, PREAUTH_PER_NET);
	a = addr("2001:db8:1::2");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 12 * PREAUTH_PER_SRC);
	/* From within the /24 the net cap decides first, the same way. */
	a = addr("198.51.100.2");
	preauth_admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	assert_int_equal(d.victim, 12 * PREAUTH_PER_SRC);
	preauth_admit(p, n, &p[n - 1].addr, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
}

static void
test_rate(void **state)
{
	static struct preauth_rate r;
	struct preauth_addr a = addr("198.51.100.3"), b;
	int i;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < PREAUTH_RATE_BURST; i++)
		assert_true(preauth_rate_take(&r, &a, T0));
	assert_false(preauth_rate_take(&r, &a, T0));
	assert_false(preauth_rate_take(&r, &a, T0 + 1000 / PREAUTH_RATE_PER_S
	    - 1));
	assert_true(preauth_rate_take(&r, &a, T0 + 1000 / PREAUTH_RATE_PER_S));
	assert_false(preauth_rate_take(&r, &a, T0 + 1000 / PREAUTH_RATE_PER_S));
	/* Another source has its own bucket; a /64 shares one. */
	b = addr("198.51.100.4");
	assert_true(preauth_rate_take(&r, &b, T0));
	a = addr("2001:db8:3::1");
	b = addr("2001:db8:3::2");
	for (i = 0; i < PREAUTH_RATE_BURST; i++)
		assert_true(preauth_rate_take(&r, &a, T0));
	assert_false(preauth_rate_take(&r, &b, T0));
	/* A clock that steps back adds nothing and breaks nothing. */
	assert_false(preauth_rate_take(&r, &b, T0 - 5000));
	assert_false(preauth_rate_take(&r, &b, T0));
	/* A long silence refills to the burst, not beyond. */
	for (i = 0; i < PREAUTH_RATE_BURST; i++)
		assert_true(preauth_rate_take(&r, &b, UINT64_MAX - 1));
	assert_false(preauth_rate_take(&r, &b, UINT64_MAX - 1));
}

static void
test_rate_table_full(void **state)
{
	static struct preauth_rate r;
	struct preauth_addr off = addr("198.51.100.3"), a;
	char s[48];
	int i;

	(void)state;
	memset(&r, 0, sizeof(r));
	/* An offender empties its bucket... */
	while (preauth_rate_take(&r, &off, T0))
		;
	/* ...then more sources than the table holds connect once each. */
	for (i = 0; i < 4 * PREAUTH_RATE_SLOTS; i++) {
		snprintf(s, sizeof(s), "2001:db8:%x:%x::1", 0x100 + i / 256,
		    i % 256);
		a = addr(s);
		assert_true(preauth_rate_take(&r, &a, T0));
	}
	/* The offender is still known, and still over its rate. */
	assert_false(preauth_rate_take(&r, &off, T0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_source_cap),
		cmocka_unit_test(test_net_cap),
		cmocka_unit_test(test_global_cap),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_table_full),
	};

	return cmocka_run_group_tests_name("preauth", tests, NULL, NULL);
}
