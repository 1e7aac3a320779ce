/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config loader: conf_load_buffer on any text, as if it were a file
 * in a directory that does not exist (so relative key files and includes
 * are not found), then the queries and the printout that `tapline -t`
 * makes of an accepted file.  Leaks are failures (ASan's leak check runs
 * at the end of every libFuzzer run that found new coverage, and at exit).
 *
 * An @include directive is skipped: libconfig would open whatever path it
 * names, /dev/zero or a FIFO included, which tests the file system rather
 * than the loader; the admin's own file is trusted to that extent.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_common.h"

#define FUZZ_CONF_PATH "/nonexistent-tapline-fuzz/tapline.conf"

/* `tapline -t` writes here. */
static FILE *fuzz_conf_null;

/*
 * libconfig 1.5 (Debian 12) leaks a string token that a syntax error
 * makes its parser discard ("a "x" = 1;"): bison has no %destructor for
 * TOK_STRING, whose text the scanner made (strbuf_append, or a calloc'ed
 * "" for an empty string, inside libconfig_yylex).  Fixed upstream in 1.7
 * (hyperrealm/libconfig#142, pull request #155); tapline cannot free it.
 * It costs a few bytes per refused SIGHUP reload.  Only the scanner's
 * allocations are suppressed (libconfig has no frame pointers, so its
 * stacks end there): the settings of a tree that tapline failed to free
 * are allocated by the parser and would still be reported.  Since these
 * leaks are frequent, libFuzzer stops its leak check after every input
 * once it has run it a thousand times (it says so in its log); a leak of
 * tapline's is then still reported by LeakSanitizer when the run ends,
 * only without the input that caused it.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* Does text contain "@include", in any case? */
static bool
fuzz_conf_has_include(const uint8_t *p, size_t len)
{
	static const char word[] = "@include";
	size_t i, j;

	for (i = 0; i + sizeof(word) - 1 <= len; i++) {
		for (j = 0; j < sizeof(word) - 1; j++)
			if (tolower(p[i + j]) != word[j])
				break;
		if (j == sizeof(word) - 1)
			return true;
	}
	return false;
}

/* ATTACKS.md row 23: [A-Za-z][A-Za-z0-9_-]{0,63}. */
static bool
fuzz_conf_name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len < 1 || len > CONF_NAME_MAX || !isalpha((unsigned char)n[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '_' &&
		    n[i] != '-')
			return false;
	return true;
}

/* What an accepted file must look like. */
static void
fuzz_conf_check(const struct conf *c)
{
	size_t i, j;
	int k;

	FUZZ_CHECK(c->options.port >= 1 && c->options.port <= 65535);
	for (i = 0; i < c->nsessions; i++) {
		const struct conf_session *s = &c->sessions[i];

		FUZZ_CHECK(fuzz_conf_name_ok(s->name));
		FUZZ_CHECK(conf_session_find(c, s->name) == s);
		FUZZ_CHECK(conf_session_equal(s, s));
		FUZZ_CHECK(s->auth == CONF_AUTH_KEY ? s->key_path != NULL :
		    s->passwd != NULL && s->passwd[0] != '\0');
		FUZZ_CHECK(s->mtu == 0 || (s->mtu >= CONF_MTU_MIN &&
		    s->mtu <= CONF_MTU_MAX));
		FUZZ_CHECK(s->compress >= 0 && s->compress <= 9);
		FUZZ_CHECK(s->naddress <= CONF_LIST_MAX &&
		    s->nroutes <= CONF_LIST_MAX &&
		    s->nup <= CONF_LIST_MAX && s->ndown <= CONF_LIST_MAX);
		for (j = 0; j < s->nup; j++) {
			FUZZ_CHECK(s->up[j].argc >= 1);
			FUZZ_CHECK(s->up[j].argv[s->up[j].argc] == NULL);
			for (k = 0; k < s->up[j].argc; k++)
				FUZZ_CHECK(s->up[j].argv[k] != NULL);
		}
		for (j = 0; j < s->ndown; j++)
			FUZZ_CHECK(s->down[j].argc >= 1 &&
			    s->down[j].argv[s->down[j].argc] == NULL);
	}
	conf_print(c, fuzz_conf_null);
}

/*
 * Each distinct message, its line numbers left out, as a feature: most
 * of libconfig's parser is out of libFuzzer's sight, its messages are not.
 */
static void
fuzz_conf_features(char *const *lines, size_t n, uint32_t salt)
{
	uint32_t h;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		h = salt;
		for (p = lines[i]; *p != '\0'; p++)
			if (!isdigit((unsigned char)*p))
				h = fuzz_hash(p, 1, h);
		fuzz_feature(h);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_conf_null = fopen("/dev/null", "w");
	if (fuzz_conf_null == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diag diag;
	struct conf *c;
	size_t i;

	if (fuzz_conf_has_include(data, size))
		return 0;
	c = conf_load_buffer(FUZZ_CONF_PATH, (const char *)data, size, &diag);
	FUZZ_CHECK(c != NULL ? diag.nerrors == 0 : diag.nerrors > 0);
	for (i = 0; i < diag.nerrors; i++)
		FUZZ_CHECK(diag.errors[i] != NULL);
	for (i = 0; i < diag.nwarnings; i++)
		FUZZ_CHECK(diag.warnings[i] != NULL);
	fuzz_conf_features(diag.errors, diag.nerrors, 1);
	fuzz_conf_features(diag.warnings, diag.nwarnings, 2);
	if (c != NULL)
		fuzz_conf_check(c);
	conf_free(c);
	conf_diag_free(&diag);
	return 0;
}
