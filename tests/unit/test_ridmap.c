/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ridmap.c: sessions found by receiver id, through growth, removal and
 * ids two sessions share; an id never added is not found.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "ridmap.h"

struct sess {
	struct ridmap_entry e;
	size_t id;
};

static struct sess *
sess_of(struct ridmap_entry *e)
{
	return e == NULL ? NULL :
	    (struct sess *)(void *)((char *)e - offsetof(struct sess, e));
}

/* The ids of the test: spread, but deterministic. */
static uint32_t
rid_of(size_t i)
{
	return (uint32_t)(i * 2654435761u) ^ 0x5a5a5a5au;
}

/* A thousand sessions: each found by its id, none by an id not added. */
static void
test_many(void **state)
{
	enum { N = 1000 };
	struct sess *s;
	struct ridmap m;
	size_t i;

	(void)state;
	assert_non_null(s = calloc(N, sizeof(*s)));
	assert_int_equal(ridmap_init(&m), 0);
	for (i = 0; i < N; i++) {
		s[i].id = i;
		ridmap_add(&m, &s[i].e, rid_of(i));
	}
	assert_int_equal(m.n, N);
	/* It grew: at most one entry per bucket on average. */
	assert_true(m.nb >= N);
	for (i = 0; i < N; i++) {
		assert_ptr_equal(sess_of(ridmap_first(&m, rid_of(i))), &s[i]);
		assert_null(ridmap_next(&s[i].e));
	}
	for (i = N; i < 2 * N; i++)
		assert_null(ridmap_first(&m, rid_of(i)));
	/* Half of them go: the others stay, the gone are not found. */
	for (i = 0; i < N; i += 2)
		ridmap_del(&m, &s[i].e);
	assert_int_equal(m.n, N / 2);
	for (i = 0; i < N; i++)
		assert_ptr_equal(sess_of(ridmap_first(&m, rid_of(i))),
		    i % 2 == 0 ? NULL : &s[i]);
	/* Taken out twice is once; put back, found again. */
	ridmap_del(&m, &s[0].e);
	assert_int_equal(m.n, N / 2);
	ridmap_add(&m, &s[0].e, rid_of(0));
	assert_ptr_equal(sess_of(ridmap_first(&m, rid_of(0))), &s[0]);
	ridmap_free(&m);
	free(s);
}

/* Two sessions of one id: both given, in turn; either can go first. */
static void
test_shared_id(void **state)
{
	struct sess a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct ridmap_entry *e;
	struct ridmap m;
	int seen = 0;

	(void)state;
	assert_int_equal(ridmap_init(&m), 0);
	ridmap_add(&m, &a.e, 7);
	ridmap_add(&m, &b.e, 7);
	/* Another id: never given for 7. */
	ridmap_add(&m, &c.e, 7 + (uint32_t)RIDMAP_INIT_BUCKETS * 256);
	for (e = ridmap_first(&m, 7); e != NULL; e = ridmap_next(e))
		seen |= 1 << sess_of(e)->id;
	assert_int_equal(seen, (1 << 1) | (1 << 2));
	ridmap_del(&m, &b.e);
	assert_ptr_equal(sess_of(ridmap_first(&m, 7)), &a);
	assert_null(ridmap_next(&a.e));
	ridmap_del(&m, &a.e);
	assert_null(ridmap_first(&m, 7));
	assert_ptr_equal(sess_of(ridmap_first(&m, c.e.rid)), &c);
	ridmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_shared_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
