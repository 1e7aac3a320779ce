/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pre-authentication admission policy (see preauth.h): pure
 * functions over addresses, counts and a clock, so that every choice can
 * be tested without sockets.  A hub's caps reach thousands of peers, so
 * nothing scans the peers once per peer: counts are one scan, and the
 * choice of a victim sorts them by source once.  The rate's table is
 * small (PREAUTH_RATE_SLOTS), so a plain scan does there.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preauth.h"

void
preauth_caps_for(struct preauth_caps *c, size_t nsessions, size_t room)
{
	size_t all = nsessions > SIZE_MAX / 2 ? SIZE_MAX : 2 * nsessions;
	size_t net;

	if (all > room)
		all = room;
	c->all = all > PREAUTH_MAX ? all : PREAUTH_MAX;
	net = nsessions < c->all / 2 ? nsessions : c->all / 2;
	c->net = net > PREAUTH_PER_NET ? net : PREAUTH_PER_NET;
	c->src = PREAUTH_PER_SRC;
}

void
preauth_addr_from(struct preauth_addr *out, const struct sockaddr *sa)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->a, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(out->a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->a, &s6->sin6_addr, 16);
		}
	}
}

/* Equal in the first bits bits (a multiple of 8 here), same family. */
static bool
preauth_prefix_eq(const struct preauth_addr *a, const struct preauth_addr *b,
    unsigned bits4, unsigned bits6)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return memcmp(a->a, b->a, bits4 / 8) == 0;
	if (a->family == AF_INET6)
		return memcmp(a->a, b->a, bits6 / 8) == 0;
	return true;
}

bool
preauth_same_src(const struct preauth_addr *a, const struct preauth_addr *b)
{
	return preauth_prefix_eq(a, b, PREAUTH_SRC_BITS4, PREAUTH_SRC_BITS6);
}

bool
preauth_same_net(const struct preauth_addr *a, const struct preauth_addr *b)
{
	return preauth_prefix_eq(a, b, PREAUTH_NET_BITS4, PREAUTH_NET_BITS6);
}

/* How many peers share a source (net false) or a network with a. */
static size_t
preauth_count(const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *a, bool net)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (net ? preauth_same_net(&peers[i].addr, a) :
		    preauth_same_src(&peers[i].addr, a))
			k++;
	return k;
}

/* The bytes of an address that name its source (none: not IP). */
static size_t
preauth_src_len(const struct preauth_addr *a)
{
	if (a->family == AF_INET)
		return PREAUTH_SRC_BITS4 / 8;
	if (a->family == AF_INET6)
		return PREAUTH_SRC_BITS6 / 8;
	return 0;
}

/* Is a older than b, or as old and earlier in the caller's array? */
static bool
preauth_older(const struct preauth_peer *a, const struct preauth_peer *b)
{
	if (a->since_ms != b->since_ms)
		return a->since_ms < b->since_ms;
	return a < b;
}

/*
 * Sources together, networks together (a source's prefix extends its
 * network's), and within a source the oldest first, then the first in
 * the caller's order.
 */
static int
preauth_cmp(const void *pa, const void *pb)
{
	const struct preauth_peer *a = *(const struct preauth_peer *const *)pa;
	const struct preauth_peer *b = *(const struct preauth_peer *const *)pb;
	int r;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if ((r = memcmp(a->addr.a, b->addr.a, preauth_src_len(&a->addr))) != 0)
		return r;
	return preauth_older(a, b) ? -1 : preauth_older(b, a);
}

/*
 * The connection to give up: the oldest of the heaviest source, among
 * all peers or (within != NULL) those of one network; with all, the
 * heaviest network is chosen first, so that a network of many light
 * sources cannot hide behind them.  Ties go to the older connection,
 * then to the earlier in peers.  Sets *netk and *srck to the chosen
 * one's network (0 with within) and source counts.  Returns n when no
 * peer qualifies.  scratch holds n pointers.
 */
static size_t
preauth_victim(const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *within, const struct preauth_peer **scratch,
    size_t *netk, size_t *srck)
{
	const struct preauth_peer *best = NULL;
	size_t i, j, k, m = 0, net0 = 0, nk = 0, sk, bnk = 0, bsk = 0;

	for (i = 0; i < n; i++)
		if (within == NULL || preauth_same_net(&peers[i].addr, within))
			scratch[m++] = &peers[i];
	if (m > 1)
		qsort(scratch, m, sizeof(*scratch), preauth_cmp);
	/* Each run of one source, its first the oldest. */
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && preauth_same_src(&scratch[j]->addr,
		    &scratch[i]->addr); j++)
			;
		sk = j - i;
		if (within == NULL && (i == 0 || !preauth_same_net(
		    &scratch[i]->addr, &scratch[net0]->addr))) {
			net0 = i;
			for (k = j; k < m && preauth_same_net(
			    &scratch[k]->addr, &scratch[i]->addr); k++)
				;
			nk = k - i;
		}
		if (best == NULL || nk > bnk || (nk == bnk && (sk > bsk ||
		    (sk == bsk && preauth_older(scratch[i], best))))) {
			best = scratch[i];
			bnk = nk;
			bsk = sk;
		}
	}
	*netk = bnk;
	*srck = bsk;
	return best == NULL ? n : (size_t)(best - peers);
}

void
preauth_admit(const struct preauth_caps *caps,
    const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *newcomer, const struct preauth_peer **scratch,
    struct preauth_decision *d)
{
	size_t v, vnet, vsrc;

	memset(d, 0, sizeof(*d));
	d->all = n;
	d->net = preauth_count(peers, n, newcomer, true);
	d->src = preauth_count(peers, n, newcomer, false);
	d->verdict = PREAUTH_REFUSE;
	if (d->src >= caps->src) {
		/* The source competes only with itself: it waits. */
		d->tier = PREAUTH_TIER_SRC;
		return;
	}
	if (d->net >= caps->net) {
		d->tier = PREAUTH_TIER_NET;
		v = preauth_victim(peers, n, newcomer, scratch, &vnet, &vsrc);
		if (v < n && vsrc > d->src) {
			d->verdict = PREAUTH_EVICT;
			d->victim = v;
		}
		return;
	}
	if (n >= caps->all) {
		d->tier = PREAUTH_TIER_ALL;
		v = preauth_victim(peers, n, NULL, scratch, &vnet, &vsrc);
		/*
		 * When the newcomer's network is as heavy as the heaviest,
		 * room is made within it (from a heavier source), so that
		 * it never grows at another network's expense.
		 */
		if (v < n && vnet <= d->net)
			v = preauth_victim(peers, n, newcomer, scratch, &vnet,
			    &vsrc);
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

/* Bring a bucket's tokens up to now_ms. */
static void
preauth_refill(struct preauth_bucket *b, uint64_t now_ms)
{
	const uint64_t full = (uint64_t)PREAUTH_RATE_BURST * 1000;
	uint64_t dt = now_ms > b->t_ms ? now_ms - b->t_ms : 0;
	uint64_t m;

	/* Bounded before the multiplication, so it cannot overflow. */
	m = dt >= full ? full : b->milli + dt * PREAUTH_RATE_PER_S;
	b->milli = (uint32_t)(m > full ? full : m);
	if (now_ms > b->t_ms)
		b->t_ms = now_ms;
}

bool
preauth_rate_take(struct preauth_rate *r, const struct preauth_addr *src,
    uint64_t now_ms)
{
	struct preauth_bucket *b = NULL, *spare = NULL;
	size_t i;

	for (i = 0; i < PREAUTH_RATE_SLOTS; i++) {
		if (!r->b[i].used) {
			if (spare == NULL || spare->used)
				spare = &r->b[i];
			continue;
		}
		preauth_refill(&r->b[i], now_ms);
		if (preauth_same_src(&r->b[i].src, src)) {
			b = &r->b[i];
			break;
		}
		/*
		 * With no slot free, the source with the most tokens left
		 * gives its slot up: it is the one closest to never having
		 * been seen, while repeat offenders stay tracked.
		 */
		if (spare == NULL || (spare->used &&
		    r->b[i].milli > spare->milli))
			spare = &r->b[i];
	}
	if (b == NULL) {
		b = spare;
		b->used = true;
		b->src = *src;
		b->t_ms = now_ms;
		b->milli = (uint32_t)PREAUTH_RATE_BURST * 1000;
	}
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}
