/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.c: escaping of untrusted bytes, edit distance, strlcpy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

static void
test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		size_t outlen;
		const char *out;
	} cases[] = {
		{ "", 0, 16, "" },
		{ "plain", 5, 16, "plain" },
		{ "a\nb", 3, 16, "a\\x0ab" },
		{ "\\", 1, 16, "\\\\" },
		{ "\x00\xff", 2, 16, "\\x00\\xff" },
		{ "%s%n", 4, 16, "%s%n" },
		/* Truncated output ends in "..."; an exact fit does not. */
		{ "abcdefghij", 10, 8, "abcd..." },
		{ "abc", 3, 4, "abc" },
		{ "abcd", 4, 4, "..." },
		{ "\x01\x02\x03", 3, 10, "\\x01..." },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		util_escape(cases[i].in, cases[i].len, out, cases[i].outlen);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out,
			    cases[i].out);
		assert_true(strlen(out) < cases[i].outlen);
	}
}

static void
test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(util_edit_distance("", ""), 0);
	assert_int_equal(util_edit_distance("keepalive", "keepalive"), 0);
	assert_int_equal(util_edit_distance("kepalive", "keepalive"), 1);
	assert_int_equal(util_edit_distance("prto", "proto"), 1);
	assert_int_equal(util_edit_distance("cipher", "chiper"), 2);
	assert_int_equal(util_edit_distance("", "abc"), 3);
	assert_int_equal(util_edit_distance("mtu", "timeout"), 5);
}

static void
test_strlcpy(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
test_err(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(util_err(err, sizeof(err), "x=%d", 42), -1);
	assert_string_equal(err, "x=42");
	assert_int_equal(util_err(NULL, 0, "ignored"), -1);
	assert_int_equal(util_err(err, sizeof(err), "%s", "truncated!"), -1);
	assert_string_equal(err, "truncat");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_err),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
