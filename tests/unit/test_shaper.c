/* SPDX-License-Identifier: GPL-2.0-or-later */
/* shaper.c: the token bucket on an injected clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "shaper.h"

#define T0 5000000

static void
test_off(void **state)
{
	struct shaper b;
	int i;

	(void)state;
	shaper_init(&b, 0, T0);
	assert_false(shaper_on(&b));
	for (i = 0; i < 1000; i++)
		assert_true(shaper_take(&b, 65535, T0));
	assert_int_equal(shaper_wait_ms(&b, T0), 0);
}

/* Over 10 simulated seconds the bytes let through match the rate. */
static void
test_average(void **state)
{
	static const uint32_t rates[] = { 64, 4000, 100000 };
	struct shaper b;
	uint64_t now, sent, want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		shaper_init(&b, rates[i], T0);
		sent = 0;
		for (now = T0; now < T0 + 10000; now++)
			while (shaper_take(&b, 1400, now))
				sent += 1400;
		want = (uint64_t)rates[i] * 1000 / 8 * 10;
		/* Within the burst plus one packet of the ideal. */
		assert_true(sent >= want);
		assert_true(sent <= want + (uint64_t)b.burst + 1400);
	}
}

static void
test_debt_and_wait(void **state)
{
	struct shaper b;

	(void)state;
	shaper_init(&b, 8, T0);	/* 1000 bytes/s */
	/* The burst floor is two large packets. */
	assert_true(shaper_take(&b, 131072, T0));
	assert_true(shaper_take(&b, 1000, T0));	/* into debt by 1000 */
	assert_false(shaper_take(&b, 1, T0));
	assert_int_equal(shaper_wait_ms(&b, T0), 1001);
	assert_int_equal(shaper_wait_ms(&b, T0 + 500), 501);
	assert_int_equal(shaper_wait_ms(&b, T0 + 1000), 0);
	assert_true(shaper_take(&b, 1, T0 + 1000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_average),
		cmocka_unit_test(test_debt_and_wait),
	};

	return cmocka_run_group_tests_name("shaper", tests, NULL, NULL);
}
