/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolve.c: the order of the addresses (families interleaved, RFC
 * 8305), the order of a server list (as written, or shuffled), and the
 * lookup thread and connects against loopback: a connect that wins, one
 * refused, a new attempt started from the callback, and cancellation
 * while the lookup's thread may still run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolve.h"

/* A getaddrinfo-like list built by hand: "6" and "4" entries. */
struct fake {
	struct addrinfo ai[8];
	struct sockaddr_in6 s6[8];
	struct sockaddr_in s4[8];
};

/*
 * spec: one character per entry, '4' or '6'; entry i gets the address
 * ending in ids[i], so that equal ids of one family are duplicates.
 */
static struct addrinfo *
fake_list(struct fake *f, const char *spec, const int *ids)
{
	size_t i, n = strlen(spec);

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		struct addrinfo *ai = &f->ai[i];

		if (spec[i] == '6') {
			f->s6[i].sin6_family = AF_INET6;
			inet_pton(AF_INET6, "2001:db8:1::", &f->s6[i].sin6_addr);
			f->s6[i].sin6_addr.s6_addr[15] = (uint8_t)ids[i];
			ai->ai_family = AF_INET6;
			ai->ai_addr = (struct sockaddr *)&f->s6[i];
			ai->ai_addrlen = sizeof(f->s6[i]);
		} else {
			f->s4[i].sin_family = AF_INET;
			f->s4[i].sin_addr.s_addr =
			    htonl(0xc6336400u | (uint32_t)ids[i]);
			ai->ai_family = AF_INET;
			ai->ai_addr = (struct sockaddr *)&f->s4[i];
			ai->ai_addrlen = sizeof(f->s4[i]);
		}
		ai->ai_socktype = SOCK_STREAM;
		ai->ai_next = i + 1 < n ? &f->ai[i + 1] : NULL;
	}
	return n > 0 ? &f->ai[0] : NULL;
}

/* "6:1 4:1 6:2": the family and last byte of each ordered address. */
static void
order_str(const struct addrinfo **v, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		int id;

		if (v[i]->ai_family == AF_INET6)
			id = ((const struct sockaddr_in6 *)v[i]->ai_addr)->
			    sin6_addr.s6_addr[15];
		else
			id = (int)(ntohl(((const struct sockaddr_in *)
			    v[i]->ai_addr)->sin_addr.s_addr) & 0xff);
		off += (size_t)snprintf(buf + off, len - off, "%s%c:%d",
		    i == 0 ? "" : " ", v[i]->ai_family == AF_INET6 ? '6' : '4',
		    id);
	}
}

static void
test_order_interleaves(void **state)
{
	static const struct {
		const char *spec;
		int ids[8];
		size_t max;
		const char *want;
	} cases[] = {
		/* getaddrinfo's usual answer: IPv6 first, then IPv4. */
		{ "66644", { 1, 2, 3, 1, 2 }, 16, "6:1 4:1 6:2 4:2 6:3" },
		/* IPv4 preferred (RFC 6724 policy): IPv4 goes first. */
		{ "4466", { 1, 2, 1, 2 }, 16, "4:1 6:1 4:2 6:2" },
		/* Mixed already: each family keeps its own order. */
		{ "6464", { 1, 1, 2, 2 }, 16, "6:1 4:1 6:2 4:2" },
		{ "644", { 1, 1, 2 }, 16, "6:1 4:1 4:2" },
		/* One family: the answer as it came. */
		{ "444", { 3, 1, 2 }, 16, "4:3 4:1 4:2" },
		/* Duplicates (one per socket type, say) are tried once. */
		{ "6644", { 1, 1, 7, 7 }, 16, "6:1 4:7" },
		/* The same last byte in two families is no duplicate. */
		{ "64", { 5, 5 }, 16, "6:5 4:5" },
		/* No more than max. */
		{ "66644", { 1, 2, 3, 1, 2 }, 3, "6:1 4:1 6:2" },
		{ "", { 0 }, 16, "" },
	};
	const struct addrinfo *out[16];
	struct fake f;
	char got[128];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = resolve_order(fake_list(&f, cases[i].spec, cases[i].ids),
		    out, cases[i].max);
		order_str(out, n, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].spec,
			    got, cases[i].want);
	}
	assert_int_equal(resolve_order(NULL, out, 16), 0);
	assert_int_equal(resolve_order(fake_list(&f, "64",
	    (const int[]){ 1, 1 }), out, 0), 0);
}

/* An entry that is neither IPv4 nor IPv6 is skipped, not tried. */
static void
test_order_skips_other_families(void **state)
{
	const struct addrinfo *out[16];
	struct fake f;
	struct addrinfo *l;
	char got[64];
	size_t n;

	(void)state;
	l = fake_list(&f, "464", (const int[]){ 1, 1, 2 });
	/* cppcheck-suppress unreadVariable ; read through l, the list */
	f.ai[1].ai_family = AF_UNIX;
	n = resolve_order(l, out, 16);
	order_str(out, n, got, sizeof(got));
	assert_string_equal(got, "4:1 4:2");
}

static void
test_servers_order(void **state)
{
	static const uint32_t zero[4] = { 0, 0, 0, 0 };
	static const uint32_t rnd[4] = { 7, 5, 9, 2 };
	size_t order[4], seen[4];
	size_t i, k;

	(void)state;
	/* As written. */
	resolve_servers_order(4, false, rnd, order);
	for (i = 0; i < 4; i++)
		assert_int_equal(order[i], i);
	/* Shuffled: a permutation, the one Fisher-Yates gives for rnd. */
	resolve_servers_order(4, true, rnd, order);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 4; i++)
		seen[order[i]]++;
	for (i = 0; i < 4; i++)
		assert_int_equal(seen[i], 1);
	/*
	 * Slot 3 swaps with 2 % 4 = 2, slot 2 with 9 % 3 = 0, slot 1 with
	 * 5 % 2 = 1: 0 1 2 3 -> 0 1 3 2 -> 3 1 0 2.
	 */
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 2);
	/* All-zero randomness still gives a permutation. */
	resolve_servers_order(4, true, zero, order);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 4; i++)
		seen[order[i]]++;
	for (i = 0; i < 4; i++)
		assert_int_equal(seen[i], 1);
	/* Every server comes first for some randomness. */
	memset(seen, 0, sizeof(seen));
	for (k = 0; k < 64; k++) {
		uint32_t r[4] = { 0, (uint32_t)(k & 3), (uint32_t)(k >> 2 & 3),
			(uint32_t)(k >> 4) };

		resolve_servers_order(4, true, r, order);
		seen[order[0]]++;
	}
	for (i = 0; i < 4; i++)
		assert_true(seen[i] > 0);
	/* One server, or none: nothing to shuffle. */
	resolve_servers_order(1, true, rnd, order);
	assert_int_equal(order[0], 0);
	resolve_servers_order(0, true, rnd, order);
}

/* ------------------------------------------------------------------ */
/* Against loopback, with a real loop */

struct result {
	struct event_base *base;
	int calls;
	int fd;
	int port;		/* of the peer, from the callback's address */
	char err[RESOLVE_ERR_MAX];
	/* Start another attempt from within the callback. */
	const char *again_port;
	struct resolve *again;
};

static void
result_cb(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *err, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->fd = fd;
	r->err[0] = '\0';
	if (fd == -1) {
		snprintf(r->err, sizeof(r->err), "%s", err);
	} else {
		assert_non_null(sa);
		assert_int_equal(salen, sizeof(struct sockaddr_in));
		r->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	}
	if (r->again_port != NULL) {
		const char *p = r->again_port;

		r->again_port = NULL;
		/* The first struct resolve is gone: a new one is fine. */
		r->again = resolve_connect(r->base, "127.0.0.1", p, AF_UNSPEC,
		    NULL, "test: ", result_cb, r);
		assert_non_null(r->again);
		return;
	}
	event_base_loopexit(r->base, NULL);
}

/* A listening socket on 127.0.0.1; its port as text in port. */
static int
listener(char *port, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(port, len, "%d", ntohs(sin.sin_port));
	return fd;
}

/* A port on 127.0.0.1 that nobody listens on (bound, never listening). */
static int
closed_port(char *port, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(port, len, "%d", ntohs(sin.sin_port));
	return fd;
}

/* Run the loop, at most 10 s whatever happens. */
static void
run(struct event_base *base)
{
	struct timeval tv = { 10, 0 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_connect_wins(void **state)
{
	struct result r = { .fd = -1 };
	char port[8];
	int lfd;

	(void)state;
	r.base = event_base_new();
	assert_non_null(r.base);
	lfd = listener(port, sizeof(port));
	assert_non_null(resolve_connect(r.base, "127.0.0.1", port, AF_UNSPEC,
	    NULL, "test: ", result_cb, &r));
	/* Never from within resolve_connect. */
	assert_int_equal(r.calls, 0);
	run(r.base);
	assert_int_equal(r.calls, 1);
	assert_true(r.fd >= 0);
	assert_int_equal(r.port, atoi(port));
	close(r.fd);
	close(lfd);
	event_base_free(r.base);
}

/* Refused, then a new attempt from the callback itself, which wins. */
static void
test_connect_refused_then_again(void **state)
{
	struct result r = { .fd = -1 };
	char port[8], dead[8];
	int lfd, dfd;

	(void)state;
	r.base = event_base_new();
	lfd = listener(port, sizeof(port));
	dfd = closed_port(dead, sizeof(dead));
	r.again_port = port;
	assert_non_null(resolve_connect(r.base, "127.0.0.1", dead, AF_UNSPEC,
	    NULL, "test: ", result_cb, &r));
	run(r.base);
	assert_int_equal(r.calls, 2);
	assert_non_null(r.again);
	assert_true(r.fd >= 0);
	assert_int_equal(r.port, atoi(port));
	close(r.fd);
	close(lfd);
	close(dfd);
	event_base_free(r.base);
}

/* Every failure is reported with its reason, never from the call. */
static void
test_connect_errors(void **state)
{
	struct result r = { .fd = -1 };
	char dead[8];
	int dfd;

	(void)state;
	r.base = event_base_new();
	dfd = closed_port(dead, sizeof(dead));
	assert_non_null(resolve_connect(r.base, "127.0.0.1", dead, AF_UNSPEC,
	    NULL, "test: ", result_cb, &r));
	run(r.base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, -1);
	assert_non_null(strstr(r.err, "connect to 127.0.0.1:"));
	assert_non_null(strstr(r.err, "Connection refused"));

	/* A numeric IPv4 name asked for IPv6 only: no address. */
	r.calls = 0;
	assert_non_null(resolve_connect(r.base, "127.0.0.1", dead, AF_INET6,
	    NULL, "test: ", result_cb, &r));
	run(r.base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, -1);
	assert_non_null(strstr(r.err, "cannot resolve 127.0.0.1: "));

	/* A source address of the other family cannot be bound. */
	r.calls = 0;
	assert_non_null(resolve_connect(r.base, "127.0.0.1", dead, AF_UNSPEC,
	    "::1", "test: ", result_cb, &r));
	run(r.base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, -1);
	assert_non_null(strstr(r.err, "source address ::1: "));
	close(dfd);
	event_base_free(r.base);
}

static void
never_cb(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *err, void *arg)
{
	fail_msg("the callback of a cancelled attempt ran");
}

/*
 * Cancelled at once (the lookup's thread is still starting or running)
 * and cancelled with its connect under way: no callback, nothing left
 * behind (ASan's leak check runs at exit, after the threads ended).
 */
static void
test_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tv = { 0, 300 * 1000 };
	struct resolve *r;
	char port[8], want[32];
	int lfd, i;

	(void)state;
	assert_non_null(base);
	lfd = listener(port, sizeof(port));
	for (i = 0; i < 20; i++) {
		r = resolve_connect(base, "localhost", port, AF_UNSPEC, NULL,
		    "test: ", never_cb, NULL);
		assert_non_null(r);
		resolve_cancel(r);
	}
	/* Let the answers come in: the threads free them alone. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	/* Cancelled after the lookup, with a connect under way or done. */
	r = resolve_connect(base, "127.0.0.1", port, AF_UNSPEC, NULL, "test: ",
	    never_cb, NULL);
	assert_non_null(r);
	assert_string_equal(resolve_trying(r), "");
	tv.tv_sec = 2;
	tv.tv_usec = 0;
	event_base_loopexit(base, &tv);
	/* Until the answer is in and the connect started (2 s at most). */
	for (i = 0; i < 1000 && resolve_trying(r)[0] == '\0'; i++)
		event_base_loop(base, EVLOOP_ONCE);
	snprintf(want, sizeof(want), "127.0.0.1:%s", port);
	assert_string_equal(resolve_trying(r), want);
	resolve_cancel(r);
	resolve_cancel(NULL);
	tv.tv_usec = 100 * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	close(lfd);
	event_base_free(base);
	/* Threads may still be freeing their jobs: give them a moment. */
	nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_interleaves),
		cmocka_unit_test(test_order_skips_other_families),
		cmocka_unit_test(test_servers_order),
		cmocka_unit_test(test_connect_wins),
		cmocka_unit_test(test_connect_refused_then_again),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
