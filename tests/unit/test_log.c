/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c: levels, the rate limiter, OpenSSL error draining, facilities. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "log.h"

struct capture {
	int n;
	int level[16];
	char line[16][256];
};

static void
capture_sink(int level, const char *line, void *arg)
{
	struct capture *cap = arg;

	if (cap->n < 16) {
		cap->level[cap->n] = level;
		snprintf(cap->line[cap->n], sizeof(cap->line[0]), "%s", line);
	}
	cap->n++;
}

static int
setup(void **state)
{
	static struct capture cap;

	memset(&cap, 0, sizeof(cap));
	log_set_sink(capture_sink, &cap);
	log_set_level(LOG_NOTICE);
	*state = &cap;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	return 0;
}

static void
test_levels(void **state)
{
	struct capture *cap = *state;

	log_info("hidden %d", 1);
	log_notice("shown %d", 2);
	log_err("error %s", "three");
	assert_int_equal(cap->n, 2);
	assert_string_equal(cap->line[0], "shown 2");
	assert_int_equal(cap->level[0], LOG_NOTICE);
	assert_int_equal(cap->level[1], LOG_ERR);
	log_set_level(LOG_DEBUG);
	log_debug("debug");
	assert_int_equal(cap->n, 3);
	/* Out-of-range levels are clamped, not trusted. */
	log_set_level(99);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	log_set_level(-5);
	assert_int_equal(log_get_level(), LOG_ERR);
}

/* burst lines per window pass; the rest are counted and reported once. */
static void
test_ratelimit_clock(void **state)
{
	struct log_ratelimit rl = { .interval_ms = 1000, .burst = 3 };
	uint64_t sup;
	int i, passed = 0;

	(void)state;
	for (i = 0; i < 10; i++)
		passed += log_rl_allow(&rl, 5000 + (uint64_t)i, &sup);
	assert_int_equal(passed, 3);
	assert_int_equal(rl.suppressed, 7);
	/* Still inside the window at +999 ms. */
	assert_false(log_rl_allow(&rl, 5999, &sup));
	/* A new window lets a line through carrying the count. */
	assert_true(log_rl_allow(&rl, 6000, &sup));
	assert_int_equal(sup, 8);
	assert_true(log_rl_allow(&rl, 6001, &sup));
	assert_int_equal(sup, 0);
}

static void
test_ratelimit_lines(void **state)
{
	struct capture *cap = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT;
	int i;

	for (i = 0; i < 100; i++)
		log_rl(&rl, LOG_WARNING, "bad datagram %d", i);
	assert_int_equal(cap->n, 10);
	assert_string_equal(cap->line[9], "bad datagram 9");
	/* Hidden by level: neither printed nor counted as suppressed. */
	log_rl(&rl, LOG_DEBUG, "quiet");
	assert_int_equal(rl.suppressed, 90);
}

static void
test_ssl_errors(void **state)
{
	struct capture *cap = *state;

	ERR_clear_error();
	/* A cipher that does not exist leaves an error on the queue. */
	assert_null(EVP_CIPHER_fetch(NULL, "no-such-cipher", NULL));
	log_ssl_errors(LOG_ERR, "fetch");
	assert_true(cap->n >= 1);
	assert_non_null(strstr(cap->line[0], "fetch: error:"));
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_facilities(void **state)
{
	(void)state;
	assert_int_equal(log_facility_from_name("daemon"), LOG_DAEMON);
	assert_int_equal(log_facility_from_name("LOCAL3"), LOG_LOCAL3);
	assert_int_equal(log_facility_from_name("kern"), -1);
	assert_int_equal(log_facility_from_name(""), -1);
	assert_string_equal(log_facility_name(LOG_LOCAL7), "local7");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit_clock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ssl_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_facilities, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
