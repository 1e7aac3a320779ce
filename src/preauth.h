/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may hold a connection that has not authenticated yet: the server's
 * admission policy, without I/O (addresses and a clock in, verdicts out).
 *
 * Sources are grouped in two tiers, because one host owns a whole IPv6
 * /64 and one site often a /24 or a /48: a "source" is an IPv4 address
 * or an IPv6 /64, a "network" an IPv4 /24 or an IPv6 /48 (IPv4-mapped
 * IPv6 addresses count as IPv4).  Each tier has its cap, and all
 * connections together a global one.  When a cap is reached, the oldest
 * connection of the heaviest source (within the full network, or
 * anywhere) makes room for a newcomer from a lighter one; only a source
 * that already holds the most is refused.  So a flood from few sources
 * cannot lock out a new client, however fast it reconnects.
 *
 * Before any of that, a token bucket per source limits how often it may
 * connect at all: connections over the rate are closed at once, before
 * any TLS work.
 */
#ifndef TAPLINE_PREAUTH_H
#define TAPLINE_PREAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Unauthenticated connections at once: in all, per network, per source,
 * for a server of few sessions; preauth_caps_for scales the first two
 * with the configured sessions.
 */
#define PREAUTH_MAX 128
#define PREAUTH_PER_NET 32
#define PREAUTH_PER_SRC 8
/* Prefix lengths of a source and of a network. */
#define PREAUTH_SRC_BITS4 32
#define PREAUTH_SRC_BITS6 64
#define PREAUTH_NET_BITS4 24
#define PREAUTH_NET_BITS6 48
/* New connections per source: a burst, then this many a second. */
#define PREAUTH_RATE_BURST 16
#define PREAUTH_RATE_PER_S 2
/* Sources whose rate is tracked at once. */
#define PREAUTH_RATE_SLOTS 256
/* Time from accept until a complete ClientHello must have arrived. */
#define PREAUTH_HELLO_MS 2000

/* The caps in force: unauthenticated connections in all, per network,
 * per source. */
struct preauth_caps {
	size_t all;
	size_t net;
	size_t src;
};

/* An address reduced to what the policy compares. */
struct preauth_addr {
	uint8_t family;		/* AF_INET, AF_INET6 or 0 (anything else) */
	uint8_t a[16];		/* IPv4 in a[0..3] */
};

/* One connection that has not authenticated: whence, and since when. */
struct preauth_peer {
	struct preauth_addr addr;
	uint64_t since_ms;
};

enum preauth_tier {
	PREAUTH_TIER_SRC,	/* the newcomer's source is full */
	PREAUTH_TIER_NET,	/* its network is full */
	PREAUTH_TIER_ALL,	/* the global cap is reached */
};

enum preauth_verdict {
	PREAUTH_ADMIT,
	PREAUTH_EVICT,		/* admit after closing peers[victim] */
	PREAUTH_REFUSE,
};

struct preauth_decision {
	enum preauth_verdict verdict;
	enum preauth_tier tier;	/* the cap that was reached, unless ADMIT */
	size_t victim;		/* EVICT: index into peers */
	size_t all;		/* connections counted, in all */
	size_t net;		/* of them from the newcomer's network */
	size_t src;		/* of them from the newcomer's source */
};

/* A token bucket per source; zero-initialised it is empty of sources. */
struct preauth_rate {
	struct preauth_bucket {
		struct preauth_addr src;
		uint64_t t_ms;		/* when tokens was last brought up */
		uint32_t milli;		/* tokens, in thousandths */
		bool used;
	} b[PREAUTH_RATE_SLOTS];
};

/*
 * The caps for a server of nsessions configured sessions with room
 * descriptors to spare for unauthenticated connections (SIZE_MAX: no
 * limit).  In a reconnect storm (the server restarted, a site's uplink
 * came back) every session's client holds one unauthenticated connection
 * at once, so the global cap is twice the sessions: room for every site
 * and as much again for a flood at the same time, whose heaviest sources
 * make room first.  A network may hold half the global cap (as many as
 * there are sessions): a hub's sites may well share a provider's /24 or
 * /48, and the other half still belongs to everyone else.  Neither goes
 * below the fixed caps, nor the global one above room (unless room is
 * below PREAUTH_MAX: the server warns then that the limit is short).
 * The per-source cap stays: one host needs no more than 8 at once, and
 * distinct sites are distinct sources.
 */
void preauth_caps_for(struct preauth_caps *c, size_t nsessions, size_t room);

/* The policy's view of sa (IPv4-mapped IPv6 becomes IPv4). */
void preauth_addr_from(struct preauth_addr *out, const struct sockaddr *sa);

/* Do a and b share a source (an IPv4 address, an IPv6 /64)?  A network? */
bool preauth_same_src(const struct preauth_addr *a,
    const struct preauth_addr *b);
bool preauth_same_net(const struct preauth_addr *a,
    const struct preauth_addr *b);

/*
 * May a connection from newcomer join the n unauthenticated ones in
 * peers, under caps?  Fills d: ADMIT, EVICT (peers[d->victim] must go
 * first) or REFUSE, the cap reached and the counts, for the log line.
 * scratch holds n pointers, for the choice of a victim; it costs
 * O(n log n) at a cap and O(n) below.
 */
void preauth_admit(const struct preauth_caps *caps,
    const struct preauth_peer *peers, size_t n,
    const struct preauth_addr *newcomer, const struct preauth_peer **scratch,
    struct preauth_decision *d);

/* Take a token for a new connection from src at now_ms; false: over. */
bool preauth_rate_take(struct preauth_rate *r, const struct preauth_addr *src,
    uint64_t now_ms);

#endif
