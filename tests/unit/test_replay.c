/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.c: the RFC 6479 window on tables (in order, duplicates,
 * reordering, too old, jumps, counter 0, the reject limit, word
 * boundaries) and against a plain reference model over 100 000 random
 * operations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "util.h"
#include "wire.h"

#define LIMIT WIRE_REJECT_AFTER_PACKETS

/* One step: accept (check, then record) or only check a counter. */
enum op { CHECK, ACCEPT };

struct step {
	enum op op;
	uint64_t counter;
	int want;
};

struct replay_case {
	const char *name;
	const struct step *steps;
	size_t nsteps;
};

static const struct step in_order[] = {
	{ ACCEPT, 1, REPLAY_OK },
	{ ACCEPT, 2, REPLAY_OK },
	{ ACCEPT, 3, REPLAY_OK },
	{ ACCEPT, 4, REPLAY_OK },
	{ CHECK, 5, REPLAY_OK },
	{ ACCEPT, 5, REPLAY_OK },
	{ ACCEPT, 3, REPLAY_DUP },
	{ ACCEPT, 5, REPLAY_DUP },
	{ CHECK, 6, REPLAY_OK },
};

static const struct step duplicates[] = {
	{ ACCEPT, 10, REPLAY_OK },
	{ ACCEPT, 10, REPLAY_DUP },
	{ CHECK, 10, REPLAY_DUP },
	{ ACCEPT, 9, REPLAY_OK },
	{ ACCEPT, 9, REPLAY_DUP },
	{ ACCEPT, 1, REPLAY_OK },
	{ ACCEPT, 1, REPLAY_DUP },
	{ ACCEPT, 11, REPLAY_OK },
	{ ACCEPT, 10, REPLAY_DUP },
};

/* 8127 behind the highest is the oldest counter still accepted. */
static const struct step reordering[] = {
	{ ACCEPT, 10000, REPLAY_OK },
	{ ACCEPT, 10000 - 8127, REPLAY_OK },
	{ ACCEPT, 10000 - 8128, REPLAY_TOO_OLD },
	{ ACCEPT, 5000, REPLAY_OK },
	{ ACCEPT, 4000, REPLAY_OK },
	{ ACCEPT, 3100, REPLAY_OK },
	{ ACCEPT, 5000, REPLAY_DUP },
	{ ACCEPT, 4000, REPLAY_DUP },
	{ ACCEPT, 3100, REPLAY_DUP },
	{ ACCEPT, 9999, REPLAY_OK },
	/* One step forward and 1873 falls out of the window. */
	{ ACCEPT, 10001, REPLAY_OK },
	{ CHECK, 10000 - 8127, REPLAY_TOO_OLD },
	{ CHECK, 10001 - 8127, REPLAY_OK },
};

static const struct step too_old[] = {
	{ ACCEPT, 9000, REPLAY_OK },
	{ ACCEPT, 1, REPLAY_TOO_OLD },
	{ ACCEPT, 872, REPLAY_TOO_OLD },
	{ ACCEPT, 873, REPLAY_OK },
	{ ACCEPT, 873, REPLAY_DUP },
};

/* A valid jump of 1 000 000 makes everything before it too old. */
static const struct step jump_ahead[] = {
	{ ACCEPT, 1, REPLAY_OK },
	{ ACCEPT, 2, REPLAY_OK },
	{ ACCEPT, 1000002, REPLAY_OK },
	{ ACCEPT, 3, REPLAY_TOO_OLD },
	{ ACCEPT, 2, REPLAY_TOO_OLD },
	{ ACCEPT, 1000002 - 8128, REPLAY_TOO_OLD },
	{ ACCEPT, 1000002 - 8127, REPLAY_OK },
	{ ACCEPT, 1000001, REPLAY_OK },
	{ ACCEPT, 1000002, REPLAY_DUP },
	{ ACCEPT, 1000003, REPLAY_OK },
};

static const struct step zero[] = {
	{ CHECK, 0, REPLAY_ZERO },
	{ ACCEPT, 0, REPLAY_ZERO },
	{ ACCEPT, 5, REPLAY_OK },
	{ ACCEPT, 0, REPLAY_ZERO },
	{ CHECK, 1, REPLAY_OK },
};

static const struct step limit[] = {
	{ CHECK, LIMIT, REPLAY_LIMIT },
	{ CHECK, UINT64_MAX, REPLAY_LIMIT },
	{ ACCEPT, LIMIT - 1, REPLAY_OK },
	{ ACCEPT, LIMIT - 1, REPLAY_DUP },
	{ ACCEPT, LIMIT, REPLAY_LIMIT },
	{ ACCEPT, LIMIT + 1, REPLAY_LIMIT },
	{ ACCEPT, UINT64_MAX, REPLAY_LIMIT },
	{ ACCEPT, LIMIT - 2, REPLAY_OK },
	{ ACCEPT, LIMIT - 1 - 8127, REPLAY_OK },
	{ ACCEPT, LIMIT - 1 - 8128, REPLAY_TOO_OLD },
	{ ACCEPT, 1, REPLAY_TOO_OLD },
};

#define CASE(a) { #a, a, UTIL_ARRAY_LEN(a) }
static const struct replay_case cases[] = {
	CASE(in_order),
	CASE(duplicates),
	CASE(reordering),
	CASE(too_old),
	CASE(jump_ahead),
	CASE(zero),
	CASE(limit),
};

/* Run one table; a refused counter must leave the window as it was. */
static void
run_case(const struct replay_case *c)
{
	struct replay r, before;
	size_t i;
	int got;

	replay_init(&r);
	for (i = 0; i < c->nsteps; i++) {
		const struct step *s = &c->steps[i];

		before = r;
		got = replay_check(&r, s->counter);
		if (got != s->want)
			fail_msg("%s step %zu: check %llu gave %s, want %s",
			    c->name, i, (unsigned long long)s->counter,
			    replay_strerror(got), replay_strerror(s->want));
		assert_memory_equal(&r, &before, sizeof(r));
		if (s->op == CHECK)
			continue;
		got = replay_accept(&r, s->counter);
		if (got != s->want)
			fail_msg("%s step %zu: accept %llu gave %s, want %s",
			    c->name, i, (unsigned long long)s->counter,
			    replay_strerror(got), replay_strerror(s->want));
		if (got != REPLAY_OK)
			assert_memory_equal(&r, &before, sizeof(r));
		else
			assert_int_equal(replay_check(&r, s->counter),
			    REPLAY_DUP);
	}
}

static void
test_tables(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++)
		run_case(&cases[i]);
}

/*
 * Two counters `dist` apart, the first at several bit positions of a ring
 * word: the older one is a duplicate while dist < 8128 and too old from
 * then on, and the window's edge sits exactly 8127 behind the newer one
 * whichever words the jump crossed.
 */
static void
test_word_boundaries(void **state)
{
	static const uint64_t dists[] = { 63, 64, 65, 8127, 8128, 8191,
		8192, 8193, 64 * 128 * 3 + 5 };
	static const uint64_t bases[] = { 1, 63, 64, 65, 127, 128, 8191, 8192,
		8193, 100000 };
	struct replay r;
	size_t i, j;
	uint64_t b, d, h, c;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(bases); i++) {
		for (j = 0; j < UTIL_ARRAY_LEN(dists); j++) {
			b = bases[i];
			d = dists[j];
			h = b + d;
			replay_init(&r);
			assert_int_equal(replay_accept(&r, b), REPLAY_OK);
			assert_int_equal(replay_accept(&r, h), REPLAY_OK);
			assert_int_equal(replay_highest(&r), h);
			assert_int_equal(replay_check(&r, b),
			    d < REPLAY_WINDOW ? REPLAY_DUP : REPLAY_TOO_OLD);
			assert_int_equal(replay_check(&r, h), REPLAY_DUP);
			/* Every other counter of the window is new. */
			for (c = h > REPLAY_WINDOW ? h - REPLAY_WINDOW + 1 : 1;
			    c < h; c++)
				if (c != b)
					assert_int_equal(replay_check(&r, c),
					    REPLAY_OK);
			if (h > REPLAY_WINDOW)
				assert_int_equal(replay_check(&r,
				    h - REPLAY_WINDOW), REPLAY_TOO_OLD);
			assert_int_equal(replay_check(&r, h + 1), REPLAY_OK);
			assert_int_equal(replay_check(&r, h + 64), REPLAY_OK);
		}
	}
}

/*
 * Counters accepted in order wrap the ring many times; every one stays a
 * duplicate for exactly 8127 steps after it.
 */
static void
test_ring_wraps(void **state)
{
	struct replay r;
	uint64_t c;

	(void)state;
	replay_init(&r);
	for (c = 1; c <= 5 * WIRE_REPLAY_WINDOW_BITS; c++) {
		assert_int_equal(replay_accept(&r, c), REPLAY_OK);
		assert_int_equal(replay_check(&r, c), REPLAY_DUP);
		if (c > REPLAY_WINDOW - 1)
			assert_int_equal(replay_check(&r,
			    c - (REPLAY_WINDOW - 1)), REPLAY_DUP);
		if (c > REPLAY_WINDOW)
			assert_int_equal(replay_check(&r, c - REPLAY_WINDOW),
			    REPLAY_TOO_OLD);
	}
}

/*
 * Fill the whole ring, then go on with even counters only: each ring word
 * the window moves into must start empty, so every odd counter still in
 * the window is new, though its bit was set one lap earlier.
 */
static void
test_ring_words_cleared(void **state)
{
	struct replay r;
	uint64_t c, h, lo;

	(void)state;
	replay_init(&r);
	for (c = 1; c <= 2 * WIRE_REPLAY_WINDOW_BITS; c++)
		assert_int_equal(replay_accept(&r, c), REPLAY_OK);
	for (c += c % 2; c <= 5 * WIRE_REPLAY_WINDOW_BITS; c += 2) {
		assert_int_equal(replay_accept(&r, c), REPLAY_OK);
		assert_int_equal(replay_check(&r, c - 1),
		    c - 1 > 2 * WIRE_REPLAY_WINDOW_BITS ? REPLAY_OK :
		    REPLAY_DUP);
	}
	h = replay_highest(&r);
	lo = h - REPLAY_WINDOW + 1;
	for (c = lo; c <= h; c++)
		assert_int_equal(replay_check(&r, c),
		    c % 2 ? REPLAY_OK : REPLAY_DUP);
}

/* --- Randomized comparison with a reference model ---------------------- */

/*
 * The reference: every counter ever accepted in a plain bitmap (the whole
 * counter space below the limit, 16 MiB) and the same window rule, with
 * no ring to get wrong.
 */
struct ref {
	uint64_t highest;
	uint8_t *seen;
};

static int
ref_check(const struct ref *m, uint64_t c)
{
	if (c == 0)
		return REPLAY_ZERO;
	if (c >= LIMIT)
		return REPLAY_LIMIT;
	if (c > m->highest)
		return REPLAY_OK;
	if (m->highest - c >= REPLAY_WINDOW)
		return REPLAY_TOO_OLD;
	return (m->seen[c / 8] & (1u << (c % 8))) ? REPLAY_DUP : REPLAY_OK;
}

static void
ref_accept(struct ref *m, uint64_t c)
{
	m->seen[c / 8] |= (uint8_t)(1u << (c % 8));
	if (c > m->highest)
		m->highest = c;
}

/* xorshift64*, seeded: the same sequence on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* A counter near the action: mostly forward, often behind, some odd. */
static uint64_t
pick(uint64_t *s, const struct ref *m, const uint64_t *recent)
{
	uint64_t h = m->highest, x = rnd(s) % 1000, d;

	if (x < 450)
		return h + 1 + rnd(s) % 8;
	if (x < 750) {
		d = rnd(s) % 9000;
		return d < h ? h - d : 1 + rnd(s) % 64;
	}
	if (x < 900)
		return recent[rnd(s) % 16];
	/* Jumps, rare enough that the walk stays below the limit. */
	if (x < 920)
		return h + rnd(s) % 20000;
	if (x < 921)
		return h + rnd(s) % 1000000;
	/* Edges; counters just below the limit are left to the tables. */
	switch (x % 5) {
	case 0:
		return 0;
	case 1:
		return LIMIT + rnd(s) % 4;
	case 2:
		return UINT64_MAX;
	case 3:
		return h > REPLAY_WINDOW ? h - REPLAY_WINDOW + 1 : 1;
	}
	return h > REPLAY_WINDOW ? h - REPLAY_WINDOW : 0;
}

static void
test_random_vs_reference(void **state)
{
	struct ref m = { 0, NULL };
	struct replay r, before;
	uint64_t seed = UINT64_C(0x7461706c696e6521), recent[16] = { 0 };
	uint64_t c, lo, i;
	unsigned nrecent = 0;
	int want, got;

	(void)state;
	m.seen = calloc(LIMIT / 8, 1);
	assert_non_null(m.seen);
	replay_init(&r);
	for (i = 0; i < 100000; i++) {
		c = pick(&seed, &m, recent);
		want = ref_check(&m, c);
		got = replay_check(&r, c);
		if (got != want)
			fail_msg("op %llu: check %llu (highest %llu) gave %s, "
			    "want %s", (unsigned long long)i,
			    (unsigned long long)c,
			    (unsigned long long)m.highest,
			    replay_strerror(got), replay_strerror(want));
		/* Nine in ten datagrams authenticate and are recorded. */
		if (rnd(&seed) % 10 == 0)
			continue;
		before = r;
		got = replay_accept(&r, c);
		assert_int_equal(got, want);
		if (got != REPLAY_OK) {
			assert_memory_equal(&r, &before, sizeof(r));
			continue;
		}
		ref_accept(&m, c);
		recent[nrecent++ % 16] = c;
		/* Now and then compare the whole window and its edges. */
		if (i % 1000 == 0) {
			lo = m.highest > REPLAY_WINDOW + 100 ?
			    m.highest - REPLAY_WINDOW - 100 : 0;
			for (c = lo; c <= m.highest + 100; c++)
				assert_int_equal(replay_check(&r, c),
				    ref_check(&m, c));
		}
	}
	assert_int_equal(replay_highest(&r), m.highest);
	/*
	 * The walk must have wrapped the ring many times without running
	 * into the limit, where everything would be refused alike.
	 */
	assert_true(m.highest > 100 * WIRE_REPLAY_WINDOW_BITS);
	assert_true(m.highest < LIMIT / 2);
	free(m.seen);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(replay_strerror(REPLAY_OK), "ok");
	assert_string_equal(replay_strerror(REPLAY_DUP), "replay");
	assert_string_equal(replay_strerror(REPLAY_TOO_OLD), "too_old");
	assert_string_equal(replay_strerror(REPLAY_ZERO), "zero");
	assert_string_equal(replay_strerror(REPLAY_LIMIT), "limit");
	assert_string_equal(replay_strerror(42), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_word_boundaries),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_ring_words_cleared),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
