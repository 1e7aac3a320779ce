/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * preauth.c: grouping, caps and their scaling, eviction and the rate,
 * on made-up peers.
 */
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

/* The caps of a server with few sessions. */
static const struct preauth_caps caps0 = {
	.all = PREAUTH_MAX, .net = PREAUTH_PER_NET, .src = PREAUTH_PER_SRC,
};

/* preauth_admit under caps0, with scratch of its own. */
static void
admit(const struct preauth_peer *p, size_t n, const struct preauth_addr *a,
    struct preauth_decision *d)
{
	const struct preauth_peer *scratch[PREAUTH_MAX + 1];

	assert_true(n <= PREAUTH_MAX + 1);
	preauth_admit(&caps0, p, n, a, scratch, d);
}

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
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_ADMIT);
	/* At its cap a source is refused, never served by evicting. */
	n = add(p, n, "198.51.100.3", 1);
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	assert_int_equal(d.src, PREAUTH_PER_SRC);
	assert_int_equal(d.all, PREAUTH_PER_SRC);
	/* The same holds for any address of an IPv6 /64. */
	n = add(p, 0, "2001:db8:3::1", PREAUTH_PER_SRC / 2);
	n = add(p, n, "2001:db8:3::2", PREAUTH_PER_SRC / 2);
	a = addr("2001:db8:3::ffff");
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	/* Another /64 of the same /48 is another source. */
	a = addr("2001:db8:3:1::1");
	admit(p, n, &a, &d);
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
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	assert_int_equal(d.victim, 1);
	assert_int_equal(d.net, PREAUTH_PER_NET);
	/* So does a source with one already: .16 is heavier. */
	a = addr("198.51.100.17");
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 1);
	/* With every source at one, a source that has one waits. */
	n = 0;
	for (i = 0; n < PREAUTH_PER_NET; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", 100 + i);
		n = add(p, n, s, 1);
	}
	admit(p, n, &p[5].addr, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	/* A newcomer evicts the oldest of them. */
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 0);
	/* Ties between equally heavy sources go to the oldest connection. */
	p[0].since_ms = T0 + 1000;
	admit(p, n, &a, &d);
	assert_int_equal(d.victim, 1);
	/* Another /24 is not concerned. */
	a = addr("203.0.113.1");
	admit(p, n, &a, &d);
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
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_ALL);
	assert_int_equal(d.victim, 0);
	assert_int_equal(d.all, PREAUTH_MAX);
	/* One of the flooding sources is as heavy as any: refused. */
	admit(p, n, &p[20].addr, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
	/*
	 * Another /64 of a flooding /48: that network is as heavy as any,
	 * so the room comes from within it, from the heavier /64.
	 */
	a = addr("2001:db8:101:1::1");
	admit(p, n, &a, &d);
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
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.victim, 12 * PREAUTH_PER_SRC);
	/* From within the /24 the net cap decides first, the same way. */
	a = addr("198.51.100.2");
	admit(p, n, &a, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	assert_int_equal(d.victim, 12 * PREAUTH_PER_SRC);
	admit(p, n, &p[n - 1].addr, &d);
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

/*
 * The caps grow with the configured sessions (twice as many in all, as
 * many per network), never below the fixed ones, and the global one not
 * beyond the descriptors to spare.
 */
static void
test_caps_scale(void **state)
{
	struct preauth_caps c;

	(void)state;
	preauth_caps_for(&c, 1, SIZE_MAX);
	assert_int_equal(c.all, PREAUTH_MAX);
	assert_int_equal(c.net, PREAUTH_PER_NET);
	assert_int_equal(c.src, PREAUTH_PER_SRC);
	preauth_caps_for(&c, 0, SIZE_MAX);
	assert_int_equal(c.all, PREAUTH_MAX);
	preauth_caps_for(&c, 100, SIZE_MAX);
	assert_int_equal(c.all, 200);
	assert_int_equal(c.net, 100);
	preauth_caps_for(&c, 1000, SIZE_MAX);
	assert_int_equal(c.all, 2000);
	assert_int_equal(c.net, 1000);
	assert_int_equal(c.src, PREAUTH_PER_SRC);
	/* The open-files limit leaves room for 700: half per network. */
	preauth_caps_for(&c, 1000, 700);
	assert_int_equal(c.all, 700);
	assert_int_equal(c.net, 350);
	/* Too little room: the fixed global cap all the same. */
	preauth_caps_for(&c, 1000, 10);
	assert_int_equal(c.all, PREAUTH_MAX);
	assert_int_equal(c.net, PREAUTH_MAX / 2);
	/* Sessions below half the fixed cap: the fixed network cap. */
	preauth_caps_for(&c, 20, SIZE_MAX);
	assert_int_equal(c.net, PREAUTH_PER_NET);
	preauth_caps_for(&c, 40, SIZE_MAX);
	assert_int_equal(c.all, PREAUTH_MAX);
	assert_int_equal(c.net, 40);
	preauth_caps_for(&c, SIZE_MAX, SIZE_MAX);
	assert_int_equal(c.all, SIZE_MAX);
}

/*
 * A hub of 1000 sessions after a restart: every site reconnects at once
 * from an address of its own, and a flood fills whatever is left.  All
 * sites fit; the flood makes room for the last one.
 */
static void
test_storm_scaled(void **state)
{
	static struct preauth_peer p[2000];
	static const struct preauth_peer *scratch[2000];
	struct preauth_caps c;
	struct preauth_decision d;
	struct preauth_addr a;
	char s[64];
	size_t n = 0, i;

	(void)state;
	preauth_caps_for(&c, 1000, SIZE_MAX);
	/* 600 sites of one provider's /48 fit its network cap... */
	for (i = 0; i < 600; i++) {
		snprintf(s, sizeof(s), "2001:db8:5:%zx::1", i);
		a = addr(s);
		preauth_admit(&c, p, n, &a, scratch, &d);
		assert_int_equal(d.verdict, PREAUTH_ADMIT);
		n = add(p, n, s, 1);
	}
	assert_int_equal(d.net, 599);
	/* ...but not a flood of the whole /48. */
	for (; n < c.net; i++) {
		snprintf(s, sizeof(s), "2001:db8:5:%zx::1", i);
		n = add(p, n, s, 1);
	}
	a = addr("2001:db8:5:fffe::1");
	preauth_admit(&c, p, n, &a, scratch, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_NET);
	assert_int_equal(d.victim, 0);

	/* 999 sites, each of a /48 of its own: all admitted. */
	n = 0;
	for (i = 0; i < 999; i++) {
		snprintf(s, sizeof(s), "2001:db8:%zx:1::1", 0x1000 + i);
		a = addr(s);
		preauth_admit(&c, p, n, &a, scratch, &d);
		assert_int_equal(d.verdict, PREAUTH_ADMIT);
		n = add(p, n, s, 1);
	}
	/* A flood, 8 from each source, fills the rest of the cap. */
	for (i = 0; n < c.all; i++) {
		snprintf(s, sizeof(s), "2001:db8:%zx::1", 0x100 + i / 8);
		a = addr(s);
		preauth_admit(&c, p, n, &a, scratch, &d);
		assert_int_equal(d.verdict, PREAUTH_ADMIT);
		n = add(p, n, s, 1);
	}
	/* The last site: the oldest of the first flooding source goes. */
	a = addr("2001:db8:ffff:1::1");
	preauth_admit(&c, p, n, &a, scratch, &d);
	assert_int_equal(d.verdict, PREAUTH_EVICT);
	assert_int_equal(d.tier, PREAUTH_TIER_ALL);
	assert_int_equal(d.all, 2000);
	assert_int_equal(d.victim, 999);
	/* A flooding source itself, at its own cap, is refused. */
	preauth_admit(&c, p, n, &p[999].addr, scratch, &d);
	assert_int_equal(d.verdict, PREAUTH_REFUSE);
	assert_int_equal(d.tier, PREAUTH_TIER_SRC);
}

/* The victim by its definition, one scan per peer (the old way). */
static size_t
slow_count(const struct preauth_peer *p, size_t n,
    const struct preauth_addr *a, bool net)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += net ? preauth_same_net(&p[i].addr, a) :
		    preauth_same_src(&p[i].addr, a);
	return k;
}

static size_t
slow_victim(const struct preauth_peer *p, size_t n,
    const struct preauth_addr *within, size_t *netk, size_t *srck)
{
	size_t i, best = n, nk, sk, bnk = 0, bsk = 0;

	for (i = 0; i < n; i++) {
		if (within != NULL && !preauth_same_net(&p[i].addr, within))
			continue;
		nk = within != NULL ? 0 : slow_count(p, n, &p[i].addr, true);
		if (best != n && nk < bnk)
			continue;
		sk = slow_count(p, n, &p[i].addr, false);
		if (best == n || nk > bnk || sk > bsk || (sk == bsk &&
		    p[i].since_ms < p[best].since_ms)) {
			best = i;
			bnk = nk;
			bsk = sk;
		}
	}
	*netk = bnk;
	*srck = bsk;
	return best;
}

/* The old decision, to compare with on random peers. */
static void
slow_admit(const struct preauth_caps *c, const struct preauth_peer *p,
    size_t n, const struct preauth_addr *a, struct preauth_decision *d)
{
	size_t v, vnet, vsrc;

	memset(d, 0, sizeof(*d));
	d->all = n;
	d->net = slow_count(p, n, a, true);
	d->src = slow_count(p, n, a, false);
	d->verdict = PREAUTH_REFUSE;
	if (d->src >= c->src) {
		d->tier = PREAUTH_TIER_SRC;
		return;
	}
	if (d->net >= c->net) {
		d->tier = PREAUTH_TIER_NET;
		v = slow_victim(p, n, a, &vnet, &vsrc);
		if (v < n && vsrc > d->src) {
			d->verdict = PREAUTH_EVICT;
			d->victim = v;
		}
		return;
	}
	if (n >= c->all) {
		d->tier = PREAUTH_TIER_ALL;
		v = slow_victim(p, n, NULL, &vnet, &vsrc);
		if (v < n && vnet <= d->net)
			v = slow_victim(p, n, a, &vnet, &vsrc);
		else
			vsrc = d->src + 1;
		if (v < n && vsrc > d->src) {
			d->verdict = PREAUTH_EVICT;
			d->victim = v;
		}
		return;
	}
	d->verdict = PREAUTH_ADMIT;
}

/* A reproducible pseudo-random number (xorshift32). */
static unsigned
rnd(unsigned *seed)
{
	uint32_t x = (uint32_t)*seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return x;
}

/* A random address from a small space, so that groups collide. */
static struct preauth_addr
rnd_addr(unsigned *seed)
{
	struct preauth_addr a;
	char s[64];
	unsigned r = rnd(seed);

	/* Weighted towards two networks of many sources. */
	switch ((const int []){ 0, 1, 1, 2, 3, 3, 3, 4 }[r % 8]) {
	case 0:
		snprintf(s, sizeof(s), "198.51.%u.%u", 100 + (r >> 3) % 2,
		    (r >> 4) % 4);
		break;
	case 1:
		snprintf(s, sizeof(s), "203.0.113.%u", (r >> 3) % 10);
		break;
	case 2:
		snprintf(s, sizeof(s), "2001:db8:%x:%x::%x", (r >> 3) % 3,
		    (r >> 5) % 2, (r >> 7) % 3);
		break;
	case 3:
		snprintf(s, sizeof(s), "2001:db8:9:%x::1", (r >> 3) % 16);
		break;
	default:
		snprintf(s, sizeof(s), "2001:db8:%x::1", 0x100 + (r >> 3) % 20);
		break;
	}
	a = addr(s);
	return a;
}

/*
 * The sorted choice of a victim is the definition's, on random peers
 * (sources, networks and ages colliding) under several caps.
 */
static void
test_victim_matches_definition(void **state)
{
	static struct preauth_peer p[300];
	static const struct preauth_peer *scratch[300];
	const struct preauth_caps cs[] = {
		{ .all = 40, .net = 8, .src = 4 },
		{ .all = 128, .net = 32, .src = 8 },
		{ .all = 300, .net = 60, .src = 8 },
	};
	struct preauth_decision d, e;
	struct preauth_addr a;
	unsigned seed = 7;
	size_t round, n, i, ci, evictions = 0, tiers[3] = { 0 };

	(void)state;
	for (round = 0; round < 300; round++) {
		ci = round % 3;
		/* Mostly at the global cap or just below it. */
		n = round % 4 == 0 ? (size_t)rnd(&seed) % cs[ci].all :
		    cs[ci].all - (size_t)rnd(&seed) % 2;
		for (i = 0; i < n; i++) {
			p[i].addr = rnd_addr(&seed);
			/* Few distinct ages: ties are exercised too. */
			p[i].since_ms = T0 + (uint64_t)(rnd(&seed) % 20);
		}
		/* Half the time from a source that is there already. */
		a = n > 0 && round % 2 ? p[(size_t)rnd(&seed) % n].addr :
		    rnd_addr(&seed);
		preauth_admit(&cs[ci], p, n, &a, scratch, &d);
		slow_admit(&cs[ci], p, n, &a, &e);
		assert_int_equal(d.verdict, e.verdict);
		assert_int_equal(d.tier, e.tier);
		assert_int_equal(d.all, e.all);
		assert_int_equal(d.net, e.net);
		assert_int_equal(d.src, e.src);
		if (d.verdict != PREAUTH_ADMIT)
			tiers[d.tier]++;
		if (d.verdict == PREAUTH_EVICT) {
			assert_int_equal(d.victim, e.victim);
			evictions++;
		}
	}
	/* The random peers did reach the caps, each of them. */
	assert_true(evictions > 100);
	assert_true(tiers[PREAUTH_TIER_SRC] > 10);
	assert_true(tiers[PREAUTH_TIER_NET] > 10);
	assert_true(tiers[PREAUTH_TIER_ALL] > 10);
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
		cmocka_unit_test(test_caps_scale),
		cmocka_unit_test(test_storm_scaled),
		cmocka_unit_test(test_victim_matches_definition),
	};

	return cmocka_run_group_tests_name("preauth", tests, NULL, NULL);
}
