/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pre-authentication admission policy (see preauth.h): pure
 * functions over addresses, counts and a clock, so that every choice can
 * be tested without sockets.  Sizes are small (at most PREAUTH_MAX
 * peers, PREAUTH_RATE_SLOTS buckets), so plain scans do.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "preauth.h"

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

/*
 * The connection to give up: the oldest of the heaviest source, among
 * all peers or (within != NULL) those of one network; with all, the
 * heaviest network is chosen first, so that a network of many light
 * sources cannot hide behind them.  Sets *netk and *srck to the chosen
 * one's network and source counts.  n > 0.
 */
static size_t
preauth_victim(const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *within, size_t *netk, size_t *srck)
{
	size_t i, best = n, nk, sk, bnk = 0, bsk = 0;

	for (i = 0; i < n; i++) {
		if (within != NULL && !preauth_same_net(&peers[i].addr,
		    within))
			continue;
		nk = within != NULL ? 0 : preauth_count(peers, n,
		    &peers[i].addr, true);
		if (best != n && nk < bnk)
			continue;
		sk = preauth_count(peers, n, &peers[i].addr, false);
		if (best == n || nk > bnk || sk > bsk || (sk == bsk &&
		    peers[i].since_ms < peers[best].since_ms)) {
			best = i;
			bnk = nk;
			bsk = sk;
		}
	}
	*netk = bnk;
	*srck = bsk;
	return best;
}

void
preauth_admit(const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *newcomer, struct preauth_decision *d)
{
	size_t v, vnet, vsrc;

	memset(d, 0, sizeof(*d));
	d->all = n;
	d->net = preauth_count(peers, n, newcomer, true);
	d->src = preauth_count(peers, n, newcomer, false);
	d->verdict = PREAUTH_REFUSE;
	if (d->src >= PREAUTH_PER_SRC) {
		/* The source competes only with itself: it waits. */
		d->tier = PREAUTH_TIER_SRC;
		return;
	}
	if (d->net >= PREAUTH_PER_NET) {
		d->tier = PREAUTH_TIER_NET;
		v = preauth_victim(peers, n, newcomer, &vnet, &vsrc);
		if (v < n && vsrc > d->src) {
			d->verdict = PREAUTH_EVICT;
			d->victim = v;
		}
		return;
	}
	if (n >= PREAUTH_MAX) {
		d->tier = PREAUTH_TIER_ALL;
		v = preauth_victim(peers, n, NULL, &vnet, &vsrc);
		/*
		 * When the newcomer's network is as heavy as the heaviest,
		 * room is made within it (from a heavier source), so that
		 * it never grows at another network's expense.
		 */
		if (v < n && vnet <= d->net)
			v = preauth_victim(peers, n, newcomer, &vnet, &vsrc);
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
