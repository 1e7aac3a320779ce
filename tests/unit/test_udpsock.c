/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udpsock.c over real loopback sockets: the transmit batch (GSO runs, mixed
 * sizes, two destinations, a queue that flushes itself), the receive
 * side (GRO splitting, in place changes by the callback), and the direct
 * send of a large datagram that must not overtake the queue.  Each case
 * runs with offload on and off, over 127.0.0.1 and, where the host has
 * it, ::1.  Every wait has a deadline.  sendmmsg is wrapped (the link
 * uses --wrap=sendmmsg) so that the error paths can be driven: EIO and
 * EMSGSIZE for GSO messages, a full socket buffer, any other error.
 * Last, a local user must not be able to bind the port of a socket
 * again and take its datagrams (ATTACKS.md row 31).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "udpsock.h"
#include "util.h"

#define MAX_RECS 1024
#define WAIT_MS 5000

/*
 * The sendmmsg seam.  Off, it is the real call.  On, messages go one at
 * a time and fail as set: the first failing one ends the call as the
 * kernel's would (the count so far, or -1 with errno if it is the first).
 */
static struct {
	bool on;
	int gso_errno;		/* for messages with a UDP_SEGMENT cmsg */
	size_t fail_len;	/* a message whose first datagram has this */
	int fail_errno;		/* length fails with this */
	long eagain_at;		/* messages that go before EAGAIN; -1 never */
	size_t msgs;		/* messages sent while on */
	size_t gso_tries;	/* GSO messages that went or failed */
} inj;

int __real_sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int flags);

int
__wrap_sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int flags)
{
	unsigned int i;
	bool gso;
	int e;

	if (!inj.on)
		return __real_sendmmsg(fd, m, n, flags);
	for (i = 0; i < n; i++) {
		gso = m[i].msg_hdr.msg_controllen > 0;
		e = 0;
		if (gso)
			e = inj.gso_errno;
		if (inj.fail_len != 0 &&
		    m[i].msg_hdr.msg_iov[0].iov_len == inj.fail_len)
			e = inj.fail_errno;
		if (inj.eagain_at >= 0 && inj.msgs >= (size_t)inj.eagain_at)
			e = EAGAIN;
		if (e != 0 && i > 0)
			return (int)i;
		if (gso)
			inj.gso_tries++;
		if (e == 0) {
			if (__real_sendmmsg(fd, &m[i], 1, flags) == 1) {
				inj.msgs++;
				continue;
			}
			if (i > 0)
				return (int)i;
			return -1;
		}
		errno = e;
		return -1;
	}
	return (int)n;
}

static void
inj_set(void)
{
	memset(&inj, 0, sizeof(inj));
	inj.on = true;
	inj.eagain_at = -1;
}

/* Log lines, for the one notice that GSO is off. */
static struct {
	int n;
	int level;
	char line[256];
} logged;

static void
log_sink(int level, const char *line, void *arg)
{
	(void)arg;
	logged.n++;
	logged.level = level;
	snprintf(logged.line, sizeof(logged.line), "%s", line);
}

/* What one receiving socket got, in order, copied before it was changed. */
struct rx {
	size_t n;
	size_t len[MAX_RECS];
	uint8_t *data[MAX_RECS];
	struct sockaddr_storage from[MAX_RECS];
	socklen_t fromlen[MAX_RECS];
};

struct fx {
	struct event_base *base;
	struct udp_sock *tx;
	struct udp_sock *rx[2];
	struct rx got[2];
	struct sockaddr_storage to[2];
	socklen_t tolen[2];
	struct sockaddr_storage txname;
	socklen_t txnamelen;
	bool any_source;	/* check() leaves the source address alone */
};

/* Datagram `seq`'s contents: different for every seq and offset. */
static void
fill(uint8_t *p, size_t len, uint32_t seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 151u + i * 13u + (i >> 8) + 1);
}

static void
recvcb(void *arg, uint8_t *dgram, size_t len, const struct sockaddr *from,
    socklen_t fromlen)
{
	struct rx *r = arg;

	assert_true(r->n < MAX_RECS);
	assert_true(fromlen <= sizeof(r->from[0]));
	r->data[r->n] = malloc(len > 0 ? len : 1);
	assert_non_null(r->data[r->n]);
	memcpy(r->data[r->n], dgram, len);
	r->len[r->n] = len;
	memcpy(&r->from[r->n], from, fromlen);
	r->fromlen[r->n] = fromlen;
	r->n++;
	/* Opened in place: the next datagram of a GRO run must not care. */
	memset(dgram, 0xee, len);
}

static struct udp_sock *
sock_new(struct fx *fx, int family, bool offload, struct rx *r)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char err[200];
	struct udp_sock *u;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (family == AF_INET) {
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		u = udp_sock_new(fx->base, (struct sockaddr *)&sin,
		    sizeof(sin), 0, offload, recvcb, r, err, sizeof(err));
	} else {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_loopback;
		u = udp_sock_new(fx->base, (struct sockaddr *)&sin6,
		    sizeof(sin6), 1, offload, recvcb, r, err, sizeof(err));
	}
	if (u == NULL && family == AF_INET)
		fail_msg("udp_sock_new: %s", err);
	return u;
}

/* Sender and two receivers; false if the family is not there (IPv6). */
static bool
fx_open(struct fx *fx, int family, bool offload)
{
	struct udp_sock *probe;
	int i;

	memset(fx, 0, sizeof(*fx));
	fx->base = event_base_new();
	assert_non_null(fx->base);
	probe = sock_new(fx, family, offload, &fx->got[0]);
	if (probe == NULL) {
		event_base_free(fx->base);
		return false;
	}
	fx->tx = probe;
	for (i = 0; i < 2; i++) {
		fx->rx[i] = sock_new(fx, family, offload, &fx->got[i]);
		assert_non_null(fx->rx[i]);
		assert_int_equal(udp_sock_name(fx->rx[i], &fx->to[i],
		    &fx->tolen[i]), 0);
	}
	assert_int_equal(udp_sock_name(fx->tx, &fx->txname, &fx->txnamelen),
	    0);
	return true;
}

static void
fx_close(struct fx *fx)
{
	size_t i, k;

	for (i = 0; i < 2; i++) {
		udp_sock_free(fx->rx[i]);
		for (k = 0; k < fx->got[i].n; k++)
			free(fx->got[i].data[k]);
	}
	udp_sock_free(fx->tx);
	event_base_free(fx->base);
}

/* Run the loop until both receivers have their counts, or give up. */
static void
wait_for(struct fx *fx, size_t n0, size_t n1)
{
	const struct timespec nap = { .tv_nsec = 200 * 1000 };	/* 200 us */
	uint64_t deadline = util_now_ms() + WAIT_MS;
	size_t before;

	while (fx->got[0].n < n0 || fx->got[1].n < n1) {
		if (util_now_ms() > deadline)
			fail_msg("timed out: %zu of %zu and %zu of %zu "
			    "datagrams", fx->got[0].n, n0, fx->got[1].n, n1);
		before = fx->got[0].n + fx->got[1].n;
		assert_int_not_equal(event_base_loop(fx->base,
		    EVLOOP_NONBLOCK), -1);
		if (fx->got[0].n + fx->got[1].n == before)
			nanosleep(&nap, NULL);
	}
	/* A little longer: nothing more (no duplicates) may come. */
	deadline = util_now_ms() + 20;
	while (util_now_ms() < deadline) {
		(void)event_base_loop(fx->base, EVLOOP_NONBLOCK);
		nanosleep(&nap, NULL);
	}
	assert_int_equal(fx->got[0].n, n0);
	assert_int_equal(fx->got[1].n, n1);
}

/* Build datagram seq of len bytes in the next slot and queue it. */
static void
queue(struct fx *fx, int dest, size_t len, uint32_t seq)
{
	uint8_t *p = udp_sock_tx_slot(fx->tx);
	int e = -1;

	assert_non_null(p);
	fill(p, len, seq);
	assert_int_equal(udp_sock_tx_commit(fx->tx, len,
	    (struct sockaddr *)&fx->to[dest], fx->tolen[dest], &e), 0);
	assert_int_equal(e, 0);
}

static void
flush(struct fx *fx)
{
	int e = -1;

	assert_int_equal(udp_sock_tx_flush(fx->tx, &e), 0);
	assert_int_equal(e, 0);
}

/* Record k of receiver `dest` is datagram seq of len bytes from tx. */
static void
check(struct fx *fx, int dest, size_t k, size_t len, uint32_t seq)
{
	struct rx *r = &fx->got[dest];
	uint8_t *want;

	assert_true(k < r->n);
	assert_int_equal(r->len[k], len);
	want = malloc(len > 0 ? len : 1);
	assert_non_null(want);
	fill(want, len, seq);
	assert_memory_equal(r->data[k], want, len);
	free(want);
	if (fx->any_source)
		return;
	assert_int_equal(r->fromlen[k], fx->txnamelen);
	assert_memory_equal(&r->from[k], &fx->txname, fx->txnamelen);
}

static const int families[] = { AF_INET, AF_INET6 };

/* (a) 40 datagrams of one size: one GSO message, one GRO read. */
static void
test_equal_run(void **state)
{
	const struct udp_sock_stats *ts, *rs;
	struct fx fx;
	size_t f, o, k;
	bool offload;

	(void)state;
	for (f = 0; f < 2; f++)
	for (o = 0; o < 2; o++) {
		offload = o == 0;
		if (!fx_open(&fx, families[f], offload)) {
			print_message("no ::1 here; IPv6 case skipped\n");
			continue;
		}
		print_message("%s offload %s: gso %d gro %d\n",
		    families[f] == AF_INET ? "IPv4" : "IPv6",
		    offload ? "on" : "off", udp_sock_gso(fx.tx),
		    udp_sock_gro(fx.rx[0]));
		if (!offload) {
			assert_false(udp_sock_gso(fx.tx));
			assert_false(udp_sock_gro(fx.rx[0]));
		}
		for (k = 0; k < 40; k++)
			queue(&fx, 0, 1200, (uint32_t)k);
		flush(&fx);
		wait_for(&fx, 40, 0);
		for (k = 0; k < 40; k++)
			check(&fx, 0, k, 1200, (uint32_t)k);
		ts = udp_sock_stats(fx.tx);
		rs = udp_sock_stats(fx.rx[0]);
		print_message("  tx msgs %llu dgrams %llu; rx reads %llu "
		    "dgrams %llu\n", (unsigned long long)ts->tx_msgs,
		    (unsigned long long)ts->tx_dgrams,
		    (unsigned long long)rs->rx_reads,
		    (unsigned long long)rs->rx_dgrams);
		assert_int_equal(ts->tx_dgrams, 40);
		assert_int_equal(ts->tx_failed, 0);
		assert_int_equal(rs->rx_dgrams, 40);
		if (udp_sock_gso(fx.tx))
			assert_true(ts->tx_msgs < ts->tx_dgrams);
		else
			assert_int_equal(ts->tx_msgs, ts->tx_dgrams);
		if (udp_sock_gso(fx.tx) && udp_sock_gro(fx.rx[0]))
			assert_true(rs->rx_reads < rs->rx_dgrams);
		else if (!udp_sock_gro(fx.rx[0]))
			assert_int_equal(rs->rx_reads, rs->rx_dgrams);
		fx_close(&fx);
	}
}

/*
 * (b) Sizes that start and end runs: a shorter datagram ends a run, a
 * longer one starts a new one, a run stops at 65507 bytes (45 of 1500)
 * and at 64 datagrams (70 of 20), a zero-length datagram goes alone.
 * Two flushes, since all of it is more than the slots.
 */
static void
test_mixed_sizes(void **state)
{
	static const size_t head[] = {
		1000, 1000, 1000, 500, 1400, 1400, 1400, 1400, 1399, 1, 0,
		2048, 2048, 2048, 100, 100, 100, 50, 200, 200, 7, 7, 7, 7,
	};
	size_t sizes[200], n = 0, half, f, o, k;
	const struct udp_sock_stats *ts;
	struct fx fx;

	(void)state;
	for (k = 0; k < sizeof(head) / sizeof(head[0]); k++)
		sizes[n++] = head[k];
	for (k = 0; k < 45; k++)
		sizes[n++] = 1500;
	sizes[n++] = 1200;
	half = n;
	for (k = 0; k < 70; k++)
		sizes[n++] = 20;
	sizes[n++] = 9;
	sizes[n++] = 9;
	assert_true(half < UDP_TX_SLOTS && n - half < UDP_TX_SLOTS);
	for (f = 0; f < 2; f++)
	for (o = 0; o < 2; o++) {
		if (!fx_open(&fx, families[f], o == 0))
			continue;
		for (k = 0; k < n; k++) {
			if (k == half)
				flush(&fx);
			queue(&fx, 0, sizes[k], (uint32_t)k);
		}
		flush(&fx);
		wait_for(&fx, n, 0);
		for (k = 0; k < n; k++)
			check(&fx, 0, k, sizes[k], (uint32_t)k);
		ts = udp_sock_stats(fx.tx);
		print_message("%s offload %s: %llu datagrams in %llu "
		    "messages\n", families[f] == AF_INET ? "IPv4" : "IPv6",
		    o == 0 ? "on" : "off", (unsigned long long)ts->tx_dgrams,
		    (unsigned long long)ts->tx_msgs);
		assert_int_equal(ts->tx_dgrams, n);
		if (udp_sock_gso(fx.tx))
			assert_true(ts->tx_msgs < ts->tx_dgrams);
		else
			assert_int_equal(ts->tx_msgs, n);
		fx_close(&fx);
	}
}

/* (c) Two destinations interleaved, singly and in short runs. */
static void
test_two_dests(void **state)
{
	size_t k, n[2], f, o;
	uint32_t seq[2][100];
	struct fx fx;
	int d;

	(void)state;
	for (f = 0; f < 2; f++)
	for (o = 0; o < 2; o++) {
		if (!fx_open(&fx, families[f], o == 0))
			continue;
		n[0] = n[1] = 0;
		for (k = 0; k < 100; k++) {
			/* 0 1 0 1 ... then runs of three each way. */
			d = k < 40 ? (int)(k & 1) : (int)((k / 3) & 1);
			seq[d][n[d]++] = (uint32_t)k;
			queue(&fx, d, 800, (uint32_t)k);
		}
		flush(&fx);
		wait_for(&fx, n[0], n[1]);
		for (d = 0; d < 2; d++)
			for (k = 0; k < n[d]; k++)
				check(&fx, d, k, 800, seq[d][k]);
		assert_int_equal(udp_sock_stats(fx.tx)->tx_dgrams, 100);
		fx_close(&fx);
	}
}

/* (d) More commits than slots: the queue flushes itself, nothing lost. */
static void
test_self_flush(void **state)
{
	const size_t n = 2 * UDP_TX_SLOTS + 44;
	size_t k, o;
	struct fx fx;

	(void)state;
	for (o = 0; o < 2; o++) {
		assert_true(fx_open(&fx, AF_INET, o == 0));
		for (k = 0; k < n; k++) {
			queue(&fx, 0, 300, (uint32_t)k);
			/* Commit sent the full queue at once. */
			if (k + 1 == UDP_TX_SLOTS)
				assert_int_equal(
				    udp_sock_stats(fx.tx)->tx_dgrams,
				    UDP_TX_SLOTS);
		}
		assert_int_equal(udp_sock_stats(fx.tx)->tx_dgrams,
		    2 * UDP_TX_SLOTS);
		flush(&fx);
		wait_for(&fx, n, 0);
		for (k = 0; k < n; k++)
			check(&fx, 0, k, 300, (uint32_t)k);
		assert_int_equal(udp_sock_stats(fx.tx)->tx_dgrams, n);
		assert_int_equal(udp_sock_stats(fx.rx[0])->rx_dgrams, n);
		fx_close(&fx);
	}
}

/* (e) A datagram far larger than a slot, sent directly, comes whole. */
static void
test_large_direct(void **state)
{
	static uint8_t big[60000];
	size_t f, o;
	struct fx fx;

	(void)state;
	for (f = 0; f < 2; f++)
	for (o = 0; o < 2; o++) {
		if (!fx_open(&fx, families[f], o == 0))
			continue;
		fill(big, sizeof(big), 7);
		assert_int_equal(udp_sock_send(fx.tx, big, sizeof(big),
		    (struct sockaddr *)&fx.to[0], fx.tolen[0]), 0);
		wait_for(&fx, 1, 0);
		check(&fx, 0, 0, sizeof(big), 7);
		fx_close(&fx);
	}
}

/* (f) udp_sock_send sends the queue first: order is kept. */
static void
test_send_after_queue(void **state)
{
	static uint8_t big[3000];
	size_t k, o;
	struct fx fx;

	(void)state;
	for (o = 0; o < 2; o++) {
		assert_true(fx_open(&fx, AF_INET, o == 0));
		for (k = 0; k < 5; k++)
			queue(&fx, 0, 1000, (uint32_t)k);
		fill(big, sizeof(big), 5);
		assert_int_equal(udp_sock_send(fx.tx, big, sizeof(big),
		    (struct sockaddr *)&fx.to[0], fx.tolen[0]), 0);
		queue(&fx, 0, 1000, 6);
		flush(&fx);
		wait_for(&fx, 7, 0);
		for (k = 0; k < 5; k++)
			check(&fx, 0, k, 1000, (uint32_t)k);
		check(&fx, 0, 5, sizeof(big), 5);
		check(&fx, 0, 6, 1000, 6);
		assert_int_equal(udp_sock_stats(fx.tx)->tx_dgrams, 7);
		fx_close(&fx);
	}
}

/*
 * A dual-stack sender ([::], v6only off) to an IPv4-mapped address: GSO
 * goes through the IPv4 path, and the receiver sees the sender's port.
 */
static void
test_dual_stack(void **state)
{
	struct sockaddr_in6 any, *to;
	struct sockaddr_in *from;
	struct sockaddr_storage rxname;
	socklen_t rxnamelen;
	char err[200];
	struct fx fx;
	size_t k;

	(void)state;
	assert_true(fx_open(&fx, AF_INET, true));
	memset(&any, 0, sizeof(any));
	any.sin6_family = AF_INET6;
	any.sin6_addr = in6addr_any;
	udp_sock_free(fx.tx);
	fx.tx = udp_sock_new(fx.base, (struct sockaddr *)&any, sizeof(any), 0,
	    true, recvcb, &fx.got[1], err, sizeof(err));
	if (fx.tx == NULL) {
		print_message("no IPv6 here; dual stack case skipped\n");
		fx.tx = sock_new(&fx, AF_INET, true, &fx.got[1]);
		fx_close(&fx);
		return;
	}
	/* [::ffff:127.0.0.1]:port of the first receiver. */
	assert_int_equal(udp_sock_name(fx.rx[0], &rxname, &rxnamelen), 0);
	to = (struct sockaddr_in6 *)&fx.to[0];
	memset(to, 0, sizeof(*to));
	to->sin6_family = AF_INET6;
	to->sin6_port = ((struct sockaddr_in *)&rxname)->sin_port;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &to->sin6_addr), 1);
	fx.tolen[0] = sizeof(*to);
	assert_int_equal(udp_sock_name(fx.tx, &fx.txname, &fx.txnamelen), 0);
	fx.any_source = true;
	for (k = 0; k < 40; k++)
		queue(&fx, 0, 1000, (uint32_t)k);
	flush(&fx);
	wait_for(&fx, 40, 0);
	for (k = 0; k < 40; k++) {
		check(&fx, 0, k, 1000, (uint32_t)k);
		from = (struct sockaddr_in *)&fx.got[0].from[k];
		assert_int_equal(from->sin_family, AF_INET);
		assert_int_equal(from->sin_port,
		    ((struct sockaddr_in6 *)&fx.txname)->sin6_port);
	}
	if (udp_sock_gso(fx.tx))
		assert_int_equal(udp_sock_stats(fx.tx)->tx_msgs, 1);
	fx_close(&fx);
}

/* A datagram too long for a slot is refused and counted, not queued. */
static void
test_commit_too_long(void **state)
{
	struct fx fx;
	int e = 0;

	(void)state;
	assert_true(fx_open(&fx, AF_INET, true));
	(void)udp_sock_tx_slot(fx.tx);
	assert_int_equal(udp_sock_tx_commit(fx.tx, UDP_TX_SLOT + 1,
	    (struct sockaddr *)&fx.to[0], fx.tolen[0], &e), 1);
	assert_int_equal(e, EMSGSIZE);
	assert_int_equal(udp_sock_stats(fx.tx)->tx_failed, 1);
	assert_int_equal(udp_sock_tx_flush(fx.tx, &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(udp_sock_stats(fx.tx)->tx_msgs, 0);
	fx_close(&fx);
}

/*
 * EIO for a GSO message: GSO goes off for good, with one notice, and the
 * datagrams go again without it, all of them, in order.
 */
static void
test_gso_eio(void **state)
{
	const struct udp_sock_stats *ts;
	struct fx fx;
	size_t k;
	int e = -1;

	(void)state;
	assert_true(fx_open(&fx, AF_INET, true));
	if (!udp_sock_gso(fx.tx)) {
		print_message("no GSO here; EIO case skipped\n");
		fx_close(&fx);
		return;
	}
	inj_set();
	inj.gso_errno = EIO;
	memset(&logged, 0, sizeof(logged));
	log_set_sink(log_sink, NULL);
	for (k = 0; k < 40; k++)
		queue(&fx, 0, 1200, (uint32_t)k);
	for (k = 40; k < 50; k++)
		queue(&fx, 0, 700, (uint32_t)k);
	assert_int_equal(udp_sock_tx_flush(fx.tx, &e), 0);
	assert_int_equal(e, 0);
	assert_false(udp_sock_gso(fx.tx));
	/* A second batch does not try again. */
	for (k = 50; k < 70; k++)
		queue(&fx, 0, 1200, (uint32_t)k);
	flush(&fx);
	log_set_sink(NULL, NULL);
	inj.on = false;
	assert_int_equal(inj.gso_tries, 1);
	assert_int_equal(logged.n, 1);
	assert_int_equal(logged.level, LOG_NOTICE);
	assert_string_equal(logged.line,
	    "UDP GSO fails with EIO on this path; sending without it");
	wait_for(&fx, 70, 0);
	for (k = 0; k < 70; k++)
		check(&fx, 0, k, k < 40 || k >= 50 ? 1200 : 700,
		    (uint32_t)k);
	ts = udp_sock_stats(fx.tx);
	assert_int_equal(ts->gso_eio, 1);
	assert_int_equal(ts->tx_msgs, 70);
	assert_int_equal(ts->tx_dgrams, 70);
	assert_int_equal(ts->tx_failed, 0);
	fx_close(&fx);
}

/* EMSGSIZE for a GSO message: that message goes plain, GSO stays on. */
static void
test_gso_emsgsize(void **state)
{
	const struct udp_sock_stats *ts;
	struct fx fx;
	size_t k;

	(void)state;
	assert_true(fx_open(&fx, AF_INET, true));
	if (!udp_sock_gso(fx.tx)) {
		print_message("no GSO here; EMSGSIZE case skipped\n");
		fx_close(&fx);
		return;
	}
	inj_set();
	inj.gso_errno = EMSGSIZE;
	for (k = 0; k < 40; k++)
		queue(&fx, 0, 1200, (uint32_t)k);
	queue(&fx, 1, 300, 40);
	for (k = 41; k < 50; k++)
		queue(&fx, 0, 700, (uint32_t)k);
	flush(&fx);
	inj.on = false;
	assert_true(udp_sock_gso(fx.tx));
	assert_int_equal(inj.gso_tries, 2);
	wait_for(&fx, 49, 1);
	for (k = 0; k < 40; k++)
		check(&fx, 0, k, 1200, (uint32_t)k);
	check(&fx, 1, 0, 300, 40);
	for (k = 41; k < 50; k++)
		check(&fx, 0, k - 1, 700, (uint32_t)k);
	ts = udp_sock_stats(fx.tx);
	assert_int_equal(ts->gso_eio, 0);
	assert_int_equal(ts->tx_msgs, 50);
	assert_int_equal(ts->tx_failed, 0);
	fx_close(&fx);
}

/*
 * EAGAIN: the socket buffer is full; the rest of the queue is dropped.
 * Five messages go (five sizes, each longer than the one before, so one
 * message each even with GSO), then fifteen datagrams of one size fail:
 * one GSO message, or fifteen plain ones.
 */
static void
test_eagain(void **state)
{
	size_t k, o;
	struct fx fx;
	int e = 0;

	(void)state;
	for (o = 0; o < 2; o++) {
		assert_true(fx_open(&fx, AF_INET, o == 0));
		inj_set();
		inj.eagain_at = 5;
		for (k = 0; k < 20; k++)
			queue(&fx, 0, k < 5 ? 500 + k : 600, (uint32_t)k);
		assert_int_equal(udp_sock_tx_flush(fx.tx, &e), 15);
		assert_int_equal(e, EAGAIN);
		assert_int_equal(inj.gso_tries, udp_sock_gso(fx.tx) ? 1 : 0);
		inj.on = false;
		for (k = 20; k < 23; k++)
			queue(&fx, 0, 600, (uint32_t)k);
		flush(&fx);
		wait_for(&fx, 8, 0);
		for (k = 0; k < 5; k++)
			check(&fx, 0, k, 500 + k, (uint32_t)k);
		for (k = 5; k < 8; k++)
			check(&fx, 0, k, 600, (uint32_t)(15 + k));
		assert_int_equal(udp_sock_stats(fx.tx)->tx_failed, 15);
		assert_int_equal(udp_sock_stats(fx.tx)->tx_dgrams, 8);
		fx_close(&fx);
	}
}

/* Another error fails its message's datagrams; the rest still go. */
static void
test_other_error(void **state)
{
	static const size_t sizes[] = { 500, 500, 500, 777, 500, 500, 500 };
	size_t k, o, m, lost;
	struct fx fx;
	int e = 0;

	(void)state;
	for (o = 0; o < 2; o++) {
		assert_true(fx_open(&fx, AF_INET, o == 0));
		inj_set();
		inj.fail_len = 777;
		inj.fail_errno = EPERM;
		for (k = 0; k < 7; k++)
			queue(&fx, 0, sizes[k], (uint32_t)k);
		/* With GSO the 777 leads a run that the next 500 ends. */
		lost = udp_sock_gso(fx.tx) ? 2 : 1;
		assert_int_equal(udp_sock_tx_flush(fx.tx, &e), lost);
		assert_int_equal(e, EPERM);
		inj.on = false;
		wait_for(&fx, 7 - lost, 0);
		for (k = 0, m = 0; k < 7; k++) {
			if (k == 3 || (k == 4 && lost == 2))
				continue;
			check(&fx, 0, m++, sizes[k], (uint32_t)k);
		}
		fx_close(&fx);
	}
}

#define THEFT_MAX 4

/* One socket of ours and the binds a local user tries on its port. */
struct theft_case {
	const char *ours;	/* its address (port 0: the kernel's pick) */
	int v6only;
	const char *theirs[THEFT_MAX];
};

/* "1.2.3.4" or "::1" with a port, as a socket address; false if bad. */
static bool
theft_addr(const char *a, in_port_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		*len = sizeof(*sin);
		return true;
	}
	if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

/*
 * The local user, in a child: as `pw` (nobody) when we are root, else as
 * ourselves (the kernel lets any two sockets that both set SO_REUSEADDR
 * share a UDP port, whoever owns them).  Each bind's errno, 0 if it
 * worked, goes to fd; exit status 2 if the user could not be taken on.
 */
static void
theft_child(int fd, const struct passwd *pw, const struct sockaddr_storage *ss,
    const socklen_t *len, size_t n)
{
	int res[THEFT_MAX], one = 1, s;
	size_t i;

	if (pw != NULL && (setgroups(0, NULL) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0))
		_exit(2);
	for (i = 0; i < n; i++) {
		res[i] = 0;
		s = socket(ss[i].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s == -1 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) != 0 ||
		    bind(s, (const struct sockaddr *)&ss[i], len[i]) != 0)
			res[i] = errno;
		/* Left open: each bind also competes with the ones before. */
	}
	n *= sizeof(res[0]);
	if (write(fd, res, n) != (ssize_t)n)
		_exit(3);
	_exit(0);
}

/*
 * A server's socket (its listen address, dual stack for "::" as the
 * default listen address has it) and a client's (port 0): a local user,
 * unprivileged, binds the same port with SO_REUSEADDR.  Had ours set it
 * too, the bind would work and the kernel would give the newer, or the
 * more specific (an IPv4 one against a dual-stack one), socket the
 * datagrams: EADDRINUSE every time.
 */
static void
test_port_theft(void **state)
{
	static const struct theft_case cases[] = {
		{ "127.0.0.1", 0, { "127.0.0.1", "0.0.0.0" } },
		{ "0.0.0.0", 0, { "0.0.0.0", "127.0.0.1" } },
		{ "::", 0, { "0.0.0.0", "127.0.0.1", "::", "::1" } },
		{ "::", 1, { "::", "::1" } },
	};
	struct sockaddr_storage ss, name, their[THEFT_MAX];
	socklen_t len, namelen, theirlen[THEFT_MAX];
	int res[THEFT_MAX], fds[2], status;
	struct event_base *base;
	struct passwd *pw = NULL;
	struct udp_sock *u;
	char err[200];
	size_t c, i, n, stolen = 0;
	pid_t pid;

	(void)state;
	/* One thread: getpwnam's static storage is fine here. */
	/* cppcheck-suppress getpwnamCalled */
	if (geteuid() == 0 && (pw = getpwnam("nobody")) == NULL)
		print_message("no user nobody; binding as root instead\n");
	base = event_base_new();
	assert_non_null(base);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		assert_true(theft_addr(cases[c].ours, 0, &ss, &len));
		u = udp_sock_new(base, (struct sockaddr *)&ss, len,
		    cases[c].v6only, true, recvcb, NULL, err, sizeof(err));
		if (u == NULL && ss.ss_family == AF_INET6) {
			print_message("no IPv6 here; [::] case skipped\n");
			continue;
		}
		assert_non_null(u);
		assert_int_equal(udp_sock_name(u, &name, &namelen), 0);
		for (n = 0; n < THEFT_MAX && cases[c].theirs[n] != NULL; n++)
			assert_true(theft_addr(cases[c].theirs[n],
			    ((struct sockaddr_in *)&name)->sin_port,
			    &their[n], &theirlen[n]));
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid != -1);
		if (pid == 0) {
			close(fds[0]);
			theft_child(fds[1], pw, their, theirlen, n);
		}
		close(fds[1]);
		assert_int_equal(read(fds[0], res, n * sizeof(res[0])),
		    (ssize_t)(n * sizeof(res[0])));
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		for (i = 0; i < n; i++) {
			print_message("ours %s%s port %u, uid %u binds %s with "
			    "SO_REUSEADDR: %s\n", cases[c].ours,
			    cases[c].v6only ? " (v6only)" : "",
			    ntohs(((struct sockaddr_in *)&name)->sin_port),
			    pw != NULL ? (unsigned)pw->pw_uid :
			    (unsigned)geteuid(), cases[c].theirs[i],
			    res[i] == 0 ? "bound" : strerror(res[i]));
		}
		for (i = 0; i < n; i++)
			stolen += res[i] != EADDRINUSE;
		udp_sock_free(u);
	}
	event_base_free(base);
	assert_int_equal(stolen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_run),
		cmocka_unit_test(test_mixed_sizes),
		cmocka_unit_test(test_two_dests),
		cmocka_unit_test(test_self_flush),
		cmocka_unit_test(test_large_direct),
		cmocka_unit_test(test_send_after_queue),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_commit_too_long),
		cmocka_unit_test(test_gso_eio),
		cmocka_unit_test(test_gso_emsgsize),
		cmocka_unit_test(test_eagain),
		cmocka_unit_test(test_other_error),
		cmocka_unit_test(test_port_theft),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
