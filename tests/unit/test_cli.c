/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.c: every flag, long forms, subcommands, and the usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"

#define MAXARGS 24

/* Parse a NULL-terminated list of words after "tapline". */
static int
parse(struct cli *c, char *err, size_t errlen, const char *const *words)
{
	char *argv[MAXARGS + 2];
	int argc = 0;

	argv[argc++] = (char *)"tapline";
	while (*words != NULL && argc <= MAXARGS)
		argv[argc++] = (char *)*words++;
	assert_null(*words);
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, c, err, errlen);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_client_defaults(void **state)
{
	struct cli c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("cobra")), 0);
	assert_int_equal(c.mode, CLI_CLIENT);
	assert_string_equal(c.session, "cobra");
	assert_null(c.server);
	assert_string_equal(c.config, CLI_DEFAULT_CONFIG);
	assert_false(c.config_given);
	assert_int_equal(c.port, 0);
	assert_null(c.local);
	assert_int_equal(c.family, AF_UNSPEC);
	assert_false(c.foreground);
	assert_false(c.persist);
	assert_int_equal(c.verbosity, 0);
}

static void
test_client_all_short_flags(void **state)
{
	struct cli c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("-f", "/tmp/t.conf", "-P", "5001", "-L", "198.51.100.2",
	    "-n", "-p", "-q", "-6", "-m", "cobra", "vpn.example.net")), 0);
	assert_int_equal(c.mode, CLI_CLIENT);
	assert_string_equal(c.config, "/tmp/t.conf");
	assert_true(c.config_given);
	assert_int_equal(c.port, 5001);
	assert_string_equal(c.local, "198.51.100.2");
	assert_true(c.foreground);
	assert_true(c.persist);
	assert_true(c.mlock);
	assert_int_equal(c.verbosity, -1);
	assert_int_equal(c.family, AF_INET6);
	assert_string_equal(c.session, "cobra");
	assert_string_equal(c.server, "vpn.example.net");
}

static void
test_long_forms(void **state)
{
	struct cli c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--server", "--config=/x.conf", "--port", "6000",
	    "--listen", "::", "--foreground", "--verbose", "--verbose",
	    "--ipv4", "--mlock")), 0);
	assert_int_equal(c.mode, CLI_SERVER);
	assert_string_equal(c.config, "/x.conf");
	assert_int_equal(c.port, 6000);
	assert_string_equal(c.local, "::");
	assert_true(c.foreground);
	assert_int_equal(c.verbosity, 2);
	assert_int_equal(c.family, AF_INET);
	assert_true(c.mlock);

	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--local", "198.51.100.1", "--persist", "--quiet",
	    "--ipv6", "cobra")), 0);
	assert_string_equal(c.local, "198.51.100.1");
	assert_true(c.persist);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--check", "--config", "a.conf")), 0);
	assert_int_equal(c.mode, CLI_CHECK);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("--test")), 0);
	assert_int_equal(c.mode, CLI_CHECK);
}

static void
test_modes(void **state)
{
	struct cli c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-s")), 0);
	assert_int_equal(c.mode, CLI_SERVER);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-t", "-f", "a")),
	    0);
	assert_int_equal(c.mode, CLI_CHECK);
	assert_string_equal(c.config, "a");
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-s", "-t")), 0);
	assert_int_equal(c.mode, CLI_CHECK);
	assert_null(c.session);
	/* -t SESSION: the file that `tapline SESSION` would read. */
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-t", "cobra")), 0);
	assert_int_equal(c.mode, CLI_CHECK);
	assert_string_equal(c.session, "cobra");
	assert_false(c.config_given);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("genkey")), 0);
	assert_int_equal(c.mode, CLI_GENKEY);
	assert_null(c.keyfile);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("genkey", "/etc/tapline/cobra.key")), 0);
	assert_string_equal(c.keyfile, "/etc/tapline/cobra.key");
	assert_false(c.private_key);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("genkey", "--private", "/etc/tapline/host.key")), 0);
	assert_int_equal(c.mode, CLI_GENKEY);
	assert_true(c.private_key);
	assert_string_equal(c.keyfile, "/etc/tapline/host.key");
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("pubkey")), 0);
	assert_int_equal(c.mode, CLI_PUBKEY);
	assert_null(c.keyfile);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("pubkey", "/etc/tapline/host.key")), 0);
	assert_string_equal(c.keyfile, "/etc/tapline/host.key");
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("status")), 0);
	assert_int_equal(c.mode, CLI_STATUS);
	assert_null(c.session);
	assert_false(c.json);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "cobra", "--json")), 0);
	assert_string_equal(c.session, "cobra");
	assert_true(c.json);
	assert_string_equal(c.format, "json");
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--format", "openmetrics")), 0);
	assert_string_equal(c.format, "openmetrics");
	assert_false(c.status_check);
	/* After status, --check checks the sessions, not the config. */
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--check")), 0);
	assert_int_equal(c.mode, CLI_STATUS);
	assert_true(c.status_check);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--check", "status", "cobra")), 0);
	assert_true(c.status_check);
	assert_string_equal(c.session, "cobra");
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "-t")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--check", "--json")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--format", "xml")), -1);
	assert_non_null(strstr(err, "unknown format 'xml'"));
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--json", "--format", "text")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--format", "json", "-s")), -1);
	/* wait SESSION [--timeout S] */
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("wait", "cobra")),
	    0);
	assert_int_equal(c.mode, CLI_WAIT);
	assert_string_equal(c.session, "cobra");
	assert_int_equal(c.timeout_s, CLI_WAIT_TIMEOUT_S);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "cobra", "--timeout", "5")), 0);
	assert_int_equal(c.timeout_s, 5);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "--timeout", "0", "cobra")), 0);
	assert_int_equal(c.timeout_s, 0);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("wait")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "a", "b")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "cobra", "--timeout", "-1")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "cobra", "--timeout", "1.5")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("status", "--timeout", "3")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("wait", "cobra", "--json")), -1);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("import-vtund", "/etc/vtund.conf")), 0);
	assert_int_equal(c.mode, CLI_IMPORT_VTUND);
	assert_string_equal(c.vtund_conf, "/etc/vtund.conf");
	assert_null(c.output);
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("import-vtund", "v.conf", "-o", "t.conf")), 0);
	assert_string_equal(c.vtund_conf, "v.conf");
	assert_string_equal(c.output, "t.conf");
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--output=t.conf", "import-vtund", "v.conf")), 0);
	assert_int_equal(c.mode, CLI_IMPORT_VTUND);
	assert_string_equal(c.output, "t.conf");
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("version")), 0);
	assert_int_equal(c.mode, CLI_VERSION);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("--version")), 0);
	assert_int_equal(c.mode, CLI_VERSION);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-V")), 0);
	assert_int_equal(c.mode, CLI_VERSION);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("--help")), 0);
	assert_int_equal(c.mode, CLI_HELP);
	assert_int_equal(parse(&c, err, sizeof(err), ARGS("-h", "x")), 0);
	assert_int_equal(c.mode, CLI_HELP);
	/* After "--" a word is a session name, even "status". */
	assert_int_equal(parse(&c, err, sizeof(err),
	    ARGS("--", "status", "srv")), 0);
	assert_int_equal(c.mode, CLI_CLIENT);
	assert_string_equal(c.session, "status");
	assert_string_equal(c.server, "srv");
}

/* Each usage error gives one line that names the problem. */
static void
test_usage_errors(void **state)
{
	static const struct {
		const char *args[6];
		const char *needle;
	} cases[] = {
		{ { NULL }, "missing SESSION" },
		{ { "-x", NULL }, "unknown option -x" },
		{ { "--bogus", NULL }, "unknown option --bogus" },
		{ { "-f", NULL }, "needs a value" },
		{ { "cobra", "--config", NULL }, "needs a value" },
		{ { "-f", "", "cobra", NULL }, "-f needs a file name" },
		{ { "-P", "0", "cobra", NULL }, "bad port '0'" },
		{ { "-P", "65536", "cobra", NULL }, "bad port '65536'" },
		{ { "-P", "50x", "cobra", NULL }, "bad port '50x'" },
		{ { "-P", "-1", "cobra", NULL }, "bad port '-1'" },
		{ { "-P", "+5", "cobra", NULL }, "bad port '+5'" },
		{ { "-4", "-6", "cobra", NULL }, "-4 and -6" },
		{ { "-s", "cobra", NULL }, "unexpected argument 'cobra'" },
		{ { "-t", "cobra", "x", NULL }, "unexpected argument 'x' with "
		    "-t" },
		{ { "-s", "-t", "cobra", NULL }, "unexpected argument 'cobra' "
		    "with -s" },
		{ { "a", "b", "c", NULL }, "unexpected argument 'c'" },
		{ { "-s", "-p", NULL }, "client mode only" },
		{ { "--json", "cobra", NULL }, "--json applies" },
		{ { "-t", "-P", "1", NULL }, "-P applies" },
		{ { "genkey", "a", "b", NULL }, "at most one FILE" },
		{ { "pubkey", "a", "b", NULL }, "at most one FILE" },
		{ { "pubkey", "--private", NULL }, "--private applies to "
		    "'tapline genkey' only" },
		{ { "--private", "cobra", NULL }, "--private applies" },
		{ { "status", "a", "b", NULL }, "at most one SESSION" },
		{ { "version", "x", NULL }, "no arguments" },
		{ { "-s", "genkey", NULL }, "cannot be combined with -s" },
		{ { "-L", "", "cobra", NULL }, "-L needs an address" },
		{ { "genkey", "-m", NULL }, "-m applies" },
		{ { "import-vtund", NULL }, "needs the vtund.conf to read" },
		{ { "import-vtund", "a", "b", NULL }, "takes one FILE" },
		{ { "import-vtund", "", NULL }, "needs a file name" },
		{ { "import-vtund", "a", "-o", "", NULL }, "-o needs a file" },
		{ { "import-vtund", "a", "-f", "x", NULL }, "-f does not apply" },
		{ { "-t", "import-vtund", "a", NULL }, "cannot be combined" },
		{ { "genkey", "-o", "x", NULL }, "-o applies to 'tapline "
		    "import-vtund' only" },
		{ { "-o", "x", "cobra", NULL }, "-o applies" },
	};
	struct cli c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(&c, err, sizeof(err), cases[i].args);

		if (rc != -1 || strstr(err, cases[i].needle) == NULL ||
		    strchr(err, '\n') != NULL)
			fail_msg("case %zu: rc %d, err \"%s\", wanted \"%s\"",
			    i, rc, err, cases[i].needle);
	}
}

static void
test_usage_text(void **state)
{
	static const char *const flags[] = { "-s,", "-f,", "-P,", "-L,",
		"-n,", "-p,", "-q,", "-t,", "-4,", "-6,", "-m,", "--json",
		"-o,", "genkey", "--private", "pubkey", "status",
		"import-vtund", "version",
		"--help" };
	char buf[4096];
	FILE *f;
	size_t n, i;

	(void)state;
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	assert_non_null(f);
	cli_usage(f);
	n = (size_t)ftell(f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strstr(buf, flags[i]) == NULL)
			fail_msg("--help does not mention %s", flags[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_defaults),
		cmocka_unit_test(test_client_all_short_flags),
		cmocka_unit_test(test_long_forms),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_usage_text),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
