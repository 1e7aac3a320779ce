/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * script.c: command lines split into argv without a shell.  Shell syntax
 * (';', '$(...)', backticks, '|', '>') must come out as literal arguments
 * (ATTACKS.md row 23); quotes and backslashes follow sh rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "script.h"
#include "util.h"

#define MAXARGS 12

struct split_case {
	const char *line;
	int argc;
	const char *argv[MAXARGS];
};

static const struct split_case split_cases[] = {
	{ "logger tapline up", 3, { "logger", "tapline", "up" } },
	{ "  lead   and trail\t ", 3, { "lead", "and", "trail" } },
	{ "/sbin/ip link set %d up", 5,
	    { "/sbin/ip", "link", "set", "%d", "up" } },
	{ "echo 'single quoted $x'", 2, { "echo", "single quoted $x" } },
	{ "echo \"double \\\"q\\\" \\\\ \\n\"", 2,
	    { "echo", "double \"q\" \\ \\n" } },
	{ "echo a\\ b c\\\\d \\'", 4, { "echo", "a b", "c\\d", "'" } },
	{ "echo a'b'\"c\"d", 2, { "echo", "abcd" } },
	{ "echo '' \"\"", 3, { "echo", "", "" } },
	{ "echo 'it''s'", 2, { "echo", "its" } },
	/* Shell syntax is just text. */
	{ "echo a;b $(id) `id` | > x && y", 9,
	    { "echo", "a;b", "$(id)", "`id`", "|", ">", "x", "&&", "y" } },
	{ "rm -rf ../../%h", 3, { "rm", "-rf", "../../%h" } },
	{ "sh -c 'ip addr add $TAPLINE_LOCAL dev \"$1\"' sh %d", 5,
	    { "sh", "-c", "ip addr add $TAPLINE_LOCAL dev \"$1\"", "sh",
	    "%d" } },
	/* Every substitution, and %% for a literal percent sign. */
	{ "x %d %h %a %p %A %P 100%% '%%d'", 9,
	    { "x", "%d", "%h", "%a", "%p", "%A", "%P", "100%%", "%%d" } },
	{ "/etc/tapline/%h-up", 1, { "/etc/tapline/%h-up" } },
};

static void
test_split_table(void **state)
{
	struct script_argv a;
	char err[256];
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(split_cases); i++) {
		const struct split_case *c = &split_cases[i];

		err[0] = '\0';
		if (script_split(c->line, &a, err, sizeof(err)) != 0)
			fail_msg("case %zu <%s>: %s", i, c->line, err);
		if (a.argc != c->argc)
			fail_msg("case %zu <%s>: argc %d, want %d", i, c->line,
			    a.argc, c->argc);
		for (j = 0; j < a.argc; j++)
			if (strcmp(a.argv[j], c->argv[j]) != 0)
				fail_msg("case %zu <%s>: argv[%d] <%s>, want "
				    "<%s>", i, c->line, j, a.argv[j],
				    c->argv[j]);
		assert_null(a.argv[a.argc]);
		script_argv_free(&a);
		assert_null(a.argv);
		assert_int_equal(a.argc, 0);
	}
}

struct error_case {
	const char *line;
	const char *msg; /* a substring of the error */
};

static const struct error_case error_cases[] = {
	{ "", "empty command" },
	{ "   \t  ", "empty command" },
	{ "echo 'open", "unbalanced quote" },
	{ "echo \"open", "unbalanced quote" },
	{ "echo \"a\\\"", "unbalanced quote" },
	{ "echo trailing\\", "ends with a backslash" },
	{ "echo a\nrm -rf /", "newline" },
	{ "echo a\r", "newline" },
	{ "echo a\x01", "control character" },
	{ "echo \x7f", "control character" },
	{ "echo %x", "unknown substitution \"%x\"" },
	{ "echo '%q'", "unknown substitution \"%q\"" },
	{ "echo 100%", "at the end of an argument" },
	{ "echo %\xc3\xa9", "unknown substitution \"%\\xc3\"" },
};

static void
test_split_errors(void **state)
{
	struct script_argv a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(error_cases); i++) {
		const struct error_case *c = &error_cases[i];

		err[0] = '\0';
		if (script_split(c->line, &a, err, sizeof(err)) != -1)
			fail_msg("case %zu: accepted", i);
		if (strstr(err, c->msg) == NULL)
			fail_msg("case %zu: error <%s>, want <%s>", i, err,
			    c->msg);
		/* Nothing is left allocated on failure. */
		assert_int_equal(a.argc, 0);
		assert_null(a.argv);
	}
}

static void
test_split_limits(void **state)
{
	char line[8192], err[256];
	struct script_argv a;
	size_t i;

	(void)state;
	/* 256 arguments are fine, 257 are not. */
	for (i = 0; i < 256; i++)
		memcpy(line + 2 * i, "a ", 2);
	line[2 * 256] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 256);
	script_argv_free(&a);
	memcpy(line + 2 * 256, "b", 2);
	assert_int_equal(script_split(line, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 256 arguments"));

	/* Over-long lines are refused before any work. */
	memset(line, 'x', 4097);
	line[4097] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	line[4096] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 1);
	assert_int_equal(strlen(a.argv[0]), 4096);
	script_argv_free(&a);

	/* Freeing twice (or a zeroed struct) is harmless. */
	script_argv_free(&a);
	script_argv_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_split_limits),
	};

	return cmocka_run_group_tests_name("script", tests, NULL, NULL);
}
