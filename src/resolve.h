/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a server's name to a connected TCP socket, as the system resolves
 * names and without ever blocking the loop.
 *
 * The name goes to getaddrinfo(3), so NSS decides (hosts file, DNS,
 * systemd-resolved, mDNS), afresh at every attempt: a changed hosts file
 * or resolv.conf counts at the next one.  getaddrinfo blocks, so it runs
 * on a thread of its own per lookup; the thread touches no libevent
 * object and hands its answer back through an eventfd the loop watches.
 *
 * Every address of the answer is tried, the families interleaved (RFC
 * 8305, "happy eyeballs"): the next connect starts RESOLVE_STAGGER_MS
 * after the previous one unless that one has connected, at once when it
 * failed; the first to connect wins and the others are closed.
 *
 * The pure parts (the order of the addresses, the order of a server
 * list) take no socket, so that unit tests drive them directly.
 */
#ifndef TAPLINE_RESOLVE_H
#define TAPLINE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addrinfo;
struct event_base;

/* RFC 8305's "Connection Attempt Delay": 250 ms recommended. */
#define RESOLVE_STAGGER_MS 250
/*
 * How long the attempts of one name may go unanswered after the last
 * one started: three SYNs (at 0, 1 and 3 s) on a live path, and the next
 * server of a list is still tried well within ten seconds.
 */
#define RESOLVE_CONNECT_TIMEOUT_MS 5000
/* At most this many addresses of one name are tried. */
#define RESOLVE_ADDR_MAX 16
/* "connect to [2001:db8:1::1]:5000: Connection refused" and the like. */
#define RESOLVE_ERR_MAX 160

/*
 * Order an answer of getaddrinfo (already sorted by RFC 6724's rules)
 * for connecting: the families alternate, starting with the first
 * answer's, each keeping its own order; duplicates are left out.  At
 * most max pointers into res go to out; returns how many.
 */
size_t resolve_order(const struct addrinfo *res, const struct addrinfo **out,
    size_t max);

/*
 * The order in which n servers of a list are tried: as written, or
 * shuffled (Fisher-Yates) with the n random values in rnd.
 */
void resolve_servers_order(size_t n, bool shuffle, const uint32_t *rnd,
    size_t *order);

/*
 * Called once with a connected socket (fd, the caller's to close) and
 * its address, or with fd -1 and why nothing connected in err.  The
 * struct resolve is already gone: do not cancel it.
 */
typedef void (*resolve_cb)(int fd, const struct sockaddr *sa,
    socklen_t salen, const char *err, void *arg);

struct resolve;

/*
 * Resolve host and port (family AF_UNSPEC, AF_INET or AF_INET6) and
 * connect to one of its addresses, from local (a numeric address to
 * bind to) if not NULL; tag ("cobra: ") starts its log lines, and must
 * outlive r.  NULL if nothing could be started (logged);
 * otherwise cb follows, from the loop, never from within this call.
 */
struct resolve *resolve_connect(struct event_base *base, const char *host,
    const char *port, int family, const char *local, const char *tag,
    resolve_cb cb, void *arg);
/* Give its sockets this SO_MARK (a full tunnel's fwmark), before
 * they connect; right after resolve_connect. */
void resolve_set_mark(struct resolve *r, uint32_t mark);

/*
 * Stop: the sockets are closed and cb never comes.  A lookup still
 * running on its thread finishes there and frees itself.
 */
void resolve_cancel(struct resolve *r);

/*
 * What is being tried now, for status: "198.51.100.1:5000" or, while
 * the name is looked up, "" .
 */
const char *resolve_trying(const struct resolve *r);

#endif
