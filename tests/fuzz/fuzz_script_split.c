/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The up/down command splitter and its %-substitution (ATTACKS.md row
 * 23): script_split on any line; an accepted line's words, quoted back
 * with single quotes, must split into the same words; and script_subst
 * of every word must equal a plain reading of script.h's rule, with
 * values full of shell syntax (and a "%d" that must stay literal) copied
 * byte for byte.
 *
 * Input: the command line (up to its first NUL byte).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "script.h"

/* script-line.c's SCRIPT_LINE_MAX: a longer line is refused as it should be. */
#define FUZZ_SCRIPT_LINE_MAX 4096

static const struct script_env fuzz_env = {
	.device = "tl;x $(id)",
	.session = "cobra",
	.raddr = "192.0.2.2",
	.rport = "5000",
	.laddr = NULL,
	.lport = "%d`",
};

/* script.h's rule, written out again: %d %h %a %p %A %P %%. */
static char *
fuzz_subst_ref(const char *w)
{
	size_t cap = strlen(w) * 16 + 1, o = 0;
	char *out = malloc(cap);
	const char *v;

	if (out == NULL)
		abort();
	for (; *w != '\0'; w++) {
		v = NULL;
		if (w[0] == '%') {
			switch (w[1]) {
			case 'd': v = fuzz_env.device; break;
			case 'h': v = fuzz_env.session; break;
			case 'a': v = fuzz_env.raddr; break;
			case 'p': v = fuzz_env.rport; break;
			case 'A': v = ""; break;
			case 'P': v = fuzz_env.lport; break;
			case '%': v = "%"; break;
			default: break;
			}
		}
		if (v == NULL) {
			out[o++] = *w;
			continue;
		}
		memcpy(out + o, v, strlen(v));
		o += strlen(v);
		w++;
	}
	out[o] = '\0';
	return out;
}

/* The words quoted for the splitter: 'a'\''b' for a'b. */
static char *
fuzz_quote(const struct script_argv *a)
{
	size_t cap = 1, o = 0;
	const char *p;
	char *line;
	int i;

	for (i = 0; i < a->argc; i++)
		cap += 3 + 4 * strlen(a->argv[i]);
	if ((line = malloc(cap)) == NULL)
		abort();
	for (i = 0; i < a->argc; i++) {
		if (i > 0)
			line[o++] = ' ';
		line[o++] = '\'';
		for (p = a->argv[i]; *p != '\0'; p++) {
			if (*p == '\'') {
				memcpy(line + o, "'\\''", 4);
				o += 4;
			} else {
				line[o++] = *p;
			}
		}
		line[o++] = '\'';
	}
	line[o] = '\0';
	return line;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script_argv a, b;
	char *line, *quoted, *s, *ref, err[200];
	int i;

	if ((line = malloc(size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (script_split(line, &a, err, sizeof(err)) != 0) {
		FUZZ_CHECK(a.argc == 0 && a.argv == NULL && err[0] != '\0');
		free(line);
		return 0;
	}
	FUZZ_CHECK(a.argc >= 1 && a.argv != NULL && a.argv[a.argc] == NULL);
	for (i = 0; i < a.argc; i++) {
		FUZZ_CHECK(a.argv[i] != NULL);
		FUZZ_CHECK(strlen(a.argv[i]) <= strlen(line));
		s = script_subst(a.argv[i], &fuzz_env);
		ref = fuzz_subst_ref(a.argv[i]);
		FUZZ_CHECK(s != NULL && strcmp(s, ref) == 0);
		free(ref);
		free(s);
	}
	/* Quoting the words back gives the same words. */
	quoted = fuzz_quote(&a);
	if (strlen(quoted) <= FUZZ_SCRIPT_LINE_MAX) {
		FUZZ_CHECK(script_split(quoted, &b, err, sizeof(err)) == 0);
		FUZZ_CHECK(b.argc == a.argc);
		for (i = 0; i < a.argc; i++)
			FUZZ_CHECK(strcmp(a.argv[i], b.argv[i]) == 0);
		script_argv_free(&b);
	}
	free(quoted);
	script_argv_free(&a);
	free(line);
	return 0;
}
