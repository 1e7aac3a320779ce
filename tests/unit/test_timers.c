/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timers.c: every timer's rule on an injected clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "timers.h"
#include "wire.h"

#define T0 1000000

static void
test_handshake_deadline(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, T0);
	assert_int_equal(timers_due(&t, T0), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 9999), TIMERS_NONE);
	/* The deadline is total, not per read: traffic does not extend it. */
	timers_on_rx(&t, T0 + 9000);
	assert_int_equal(timers_due(&t, T0 + 10000),
	    TIMERS_HANDSHAKE_EXPIRED);
}

static void
test_hello_deadline(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, T0);
	timers_set_phase(&t, TIMERS_HELLO, T0 + 5000);
	assert_int_equal(timers_due(&t, T0 + 14999), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 15000), TIMERS_HELLO_EXPIRED);
	/* Setup (device, up commands) is bounded elsewhere. */
	timers_set_phase(&t, TIMERS_SETUP, T0 + 15000);
	assert_int_equal(timers_due(&t, T0 + 500000), TIMERS_NONE);
}

static void
test_keepalive_and_dead(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, T0);
	timers_set_liveness(&t, 10, 60);
	/* Silence before the tunnel was up does not count. */
	timers_set_phase(&t, TIMERS_UP, T0 + 100000);
	assert_int_equal(timers_due(&t, T0 + 100000), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 109999), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 110000), TIMERS_SEND_KEEPALIVE);
	timers_on_tx(&t, T0 + 110000);
	assert_int_equal(timers_due(&t, T0 + 115000), TIMERS_NONE);
	/* Received traffic keeps the peer alive; sending does not. */
	timers_on_rx(&t, T0 + 150000);
	timers_on_tx(&t, T0 + 209000);
	assert_int_equal(timers_due(&t, T0 + 209999), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 210000), TIMERS_PEER_DEAD);
}

static void
test_keepalive_off(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, T0);
	timers_set_liveness(&t, 0, 60);
	timers_set_phase(&t, TIMERS_UP, T0);
	timers_on_rx(&t, T0 + 50000);
	assert_int_equal(timers_due(&t, T0 + 100000), TIMERS_NONE);
	assert_int_equal(timers_due(&t, T0 + 110000), TIMERS_PEER_DEAD);
}

/* TCP mode's TLS KeyUpdate comes due every rekey interval while up. */
static void
test_key_update(void **state)
{
	struct timers t;
	uint64_t up = T0 + 5000, due = up + WIRE_REKEY_AFTER_SECONDS * 1000;

	(void)state;
	timers_init(&t, T0);
	timers_set_liveness(&t, 0, 0);
	timers_set_phase(&t, TIMERS_UP, up);
	assert_int_equal(timers_due(&t, due - 1), TIMERS_NONE);
	assert_int_equal(timers_due(&t, due), TIMERS_KEY_UPDATE);
	timers_on_key_update(&t, due);
	assert_int_equal(timers_due(&t, due + 1000), TIMERS_NONE);
	/* Liveness comes first: a dead peer is not rekeyed. */
	timers_set_liveness(&t, 10, 60);
	timers_on_rx(&t, due);
	timers_on_tx(&t, 2 * due);
	assert_int_equal(timers_due(&t, 2 * due), TIMERS_PEER_DEAD);
}

static void
test_backoff(void **state)
{
	static const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000,
		32000, 60000, 60000, 60000 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(timers_backoff_ms(i, 0), want[i]);
		/* Jitter adds at most a quarter. */
		assert_int_equal(timers_backoff_ms(i, UINT32_MAX),
		    want[i] + want[i] / 4);
		assert_true(timers_backoff_ms(i, UINT32_MAX / 2) > want[i]);
	}
	assert_int_equal(timers_backoff_ms(1000, 0), TIMERS_BACKOFF_MAX_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_hello_deadline),
		cmocka_unit_test(test_keepalive_and_dead),
		cmocka_unit_test(test_keepalive_off),
		cmocka_unit_test(test_key_update),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}
