/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * admit.c: the handshake admission budget: starts and accepts per round,
 * the queue's order, leaving it, and what the ClientHello deadline does
 * to a connection that still waits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "admit.h"

#define T0 7000000

/* Connections, each with its entry and its place in the order. */
struct conn {
	struct admit_entry e;
	size_t id;
};

static struct conn *
conn_of(struct admit_entry *e)
{
	return e == NULL ? NULL :
	    (struct conn *)(void *)((char *)e - offsetof(struct conn, e));
}

/* The first starts of a round begin at once; the rest wait, in order. */
static void
test_budget_and_order(void **state)
{
	struct conn c[6];
	struct admit a;
	size_t i;

	(void)state;
	memset(c, 0, sizeof(c));
	admit_init(&a, 3, 100);
	assert_false(admit_busy(&a));
	for (i = 0; i < 6; i++) {
		c[i].id = i;
		assert_int_equal(admit_arrive(&a, &c[i].e, T0 + i), i < 3);
		assert_int_equal(c[i].e.queued, i >= 3);
	}
	assert_int_equal(a.queued, 3);
	assert_true(admit_busy(&a));
	/* The round's budget is spent: nobody more starts in it. */
	assert_null(admit_next(&a, T0 + 6));
	/* The next round starts the waiting ones, oldest first. */
	admit_round(&a);
	for (i = 3; i < 6; i++)
		assert_ptr_equal(conn_of(admit_next(&a, T0 + 10)), &c[i]);
	assert_null(admit_next(&a, T0 + 10));
	assert_int_equal(a.queued, 0);
	assert_int_equal(a.delayed, 3);
	/* c[3] waited from T0 + 3 to T0 + 10. */
	assert_int_equal(a.wait_max_ms, 7);
	/* That round used its budget: one more round ends it. */
	assert_true(admit_busy(&a));
	admit_round(&a);
	assert_false(admit_busy(&a));
}

/* A newcomer never overtakes the queue, even with budget left. */
static void
test_no_overtaking(void **state)
{
	struct conn c[5];
	struct admit a;
	size_t i;

	(void)state;
	memset(c, 0, sizeof(c));
	admit_init(&a, 2, 100);
	for (i = 0; i < 4; i++)
		(void)admit_arrive(&a, &c[i].e, T0);
	admit_round(&a);
	/* A new round, two waiting: the newcomer queues behind them. */
	assert_false(admit_arrive(&a, &c[4].e, T0 + 1));
	assert_ptr_equal(conn_of(admit_next(&a, T0 + 2)), &c[2]);
	assert_ptr_equal(conn_of(admit_next(&a, T0 + 2)), &c[3]);
	assert_null(admit_next(&a, T0 + 2));
	admit_round(&a);
	assert_ptr_equal(conn_of(admit_next(&a, T0 + 3)), &c[4]);
	assert_null(admit_next(&a, T0 + 3));
	/* Empty again: a newcomer starts at once. */
	assert_true(admit_arrive(&a, &c[0].e, T0 + 4));
}

/* Leaving the queue (eviction, the deadline) keeps the others' order. */
static void
test_remove(void **state)
{
	struct conn c[5];
	struct admit a;
	size_t i;

	(void)state;
	memset(c, 0, sizeof(c));
	admit_init(&a, 1, 100);
	for (i = 0; i < 5; i++)
		(void)admit_arrive(&a, &c[i].e, T0);
	assert_int_equal(a.queued, 4);
	admit_remove(&a, &c[2].e);
	assert_false(c[2].e.queued);
	assert_int_equal(a.queued, 3);
	/* One that does not wait (started, or removed) is left alone. */
	admit_remove(&a, &c[0].e);
	admit_remove(&a, &c[2].e);
	assert_int_equal(a.queued, 3);
	/* The head and the tail can go too. */
	admit_remove(&a, &c[1].e);
	admit_remove(&a, &c[4].e);
	admit_round(&a);
	assert_ptr_equal(conn_of(admit_next(&a, T0)), &c[3]);
	assert_null(admit_next(&a, T0));
	assert_int_equal(a.queued, 0);
}

/* Accepts have their own budget per round. */
static void
test_accept_budget(void **state)
{
	struct admit a;
	size_t i;

	(void)state;
	admit_init(&a, 8, 4);
	assert_false(admit_busy(&a));
	for (i = 0; i < 3; i++)
		assert_true(admit_accepted(&a));
	/* The fourth spends the budget: the listener rests till the next
	 * round. */
	assert_false(admit_accepted(&a));
	assert_true(admit_busy(&a));
	admit_round(&a);
	assert_false(admit_busy(&a));
	assert_true(admit_accepted(&a));
	/* Budgets of 0 mean 1: the server can never stall itself. */
	admit_init(&a, 0, 0);
	assert_false(admit_accepted(&a));
	assert_true(admit_arrive(&a, &(struct admit_entry){ 0 }, T0));
	assert_false(admit_arrive(&a, &(struct admit_entry){ 0 }, T0));
}

/*
 * A storm: 1000 connections arrive in one round.  Every later round
 * starts exactly the budget until the queue is empty, in arrival order;
 * the drain is reported once, with the count and the longest wait.
 */
static void
test_storm(void **state)
{
	static struct conn c[1000];
	struct admit_entry *e;
	struct admit a;
	size_t i, rounds = 0, n, next = ADMIT_STARTS, count;
	uint64_t wait;

	(void)state;
	memset(c, 0, sizeof(c));
	admit_init(&a, ADMIT_STARTS, ADMIT_ACCEPTS);
	for (i = 0; i < 1000; i++) {
		c[i].id = i;
		assert_int_equal(admit_arrive(&a, &c[i].e, T0),
		    i < ADMIT_STARTS);
	}
	assert_false(admit_drained(&a, &count, &wait));
	while (a.queued > 0) {
		admit_round(&a);
		rounds++;
		n = 0;
		while ((e = admit_next(&a, T0 + rounds)) != NULL) {
			assert_int_equal(conn_of(e)->id, next);
			next++;
			n++;
		}
		assert_true(n == ADMIT_STARTS || a.queued == 0);
	}
	assert_int_equal(next, 1000);
	assert_int_equal(rounds, (1000 - ADMIT_STARTS + ADMIT_STARTS - 1) /
	    ADMIT_STARTS);
	assert_true(admit_drained(&a, &count, &wait));
	assert_int_equal(count, 1000 - ADMIT_STARTS);
	assert_int_equal(wait, rounds);
	assert_false(admit_drained(&a, &count, &wait));
	assert_int_equal(a.delayed, 1000 - ADMIT_STARTS);
}

/* What the ClientHello deadline does to a connection that still waits. */
static void
test_late(void **state)
{
	static const struct {
		const char *what;
		uint8_t head[5];
		size_t headlen;
		bool eof;
		size_t avail;
		bool silent_ok;
		enum admit_late want;
	} cases[] = {
		{ "peer closed", { 0 }, 0, true, 0, true, ADMIT_LATE_CLOSE },
		{ "silence", { 0 }, 0, false, 0, false, ADMIT_LATE_CLOSE },
		{ "silence, vtund possible", { 0 }, 0, false, 0, true,
		    ADMIT_LATE_KEEP },
		{ "a whole ClientHello record",
		    { 0x16, 0x03, 0x01, 0x01, 0x00 }, 5, false, 261, false,
		    ADMIT_LATE_KEEP },
		{ "and more behind it", { 0x16, 0x03, 0x01, 0x00, 0x40 }, 5,
		    false, 4000, false, ADMIT_LATE_KEEP },
		{ "one byte short", { 0x16, 0x03, 0x01, 0x01, 0x00 }, 5, false,
		    260, false, ADMIT_LATE_CLOSE },
		{ "a partial header", { 0x16, 0x03, 0x01 }, 3, false, 3, true,
		    ADMIT_LATE_CLOSE },
		{ "an empty record", { 0x16, 0x03, 0x01, 0x00, 0x00 }, 5,
		    false, 5, false, ADMIT_LATE_CLOSE },
		{ "not a handshake record", { 0x17, 0x03, 0x03, 0x00, 0x10 },
		    5, false, 21, false, ADMIT_LATE_CLOSE },
		{ "an HTTP request", { 'G', 'E', 'T', ' ', '/' }, 5, false, 80,
		    true, ADMIT_LATE_CLOSE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum admit_late got = admit_late(cases[i].head,
		    cases[i].headlen, cases[i].eof, cases[i].avail,
		    cases[i].silent_ok);

		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].what,
			    (int)got, (int)cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_and_order),
		cmocka_unit_test(test_no_overtaking),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_accept_budget),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_late),
	};

	return cmocka_run_group_tests_name("admit", tests, NULL, NULL);
}
