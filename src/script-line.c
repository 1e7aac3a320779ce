/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * up/down command lines.  A line is split into argv here, once, when the
 * config is loaded; no shell ever sees it, so ';', '|', '$(...)' and
 * backticks are ordinary characters inside an argument (tests/ATTACKS.md
 * row 23).
 * Whoever wants a shell writes "sh -c '...'" and owns the consequences.
 * Its %-sequences are checked here when the config is loaded, and
 * substituted here into each argument when script.c runs the command.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "util.h"

/* Limits that no sensible command reaches; they bound what we allocate. */
#define SCRIPT_LINE_MAX 4096
#define SCRIPT_ARGS_MAX 256

/* The letters that may follow '%' (see script.h). */
static const char script_subst_letters[] = "dhapAP%";

/* Append one finished word to a growing argv. */
static int
script_push(struct script_argv *a, size_t *cap, const char *word, size_t len)
{
	char *copy;

	if ((size_t)a->argc + 2 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **nv = realloc(a->argv, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		a->argv = nv;
		*cap = ncap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, word, len);
	copy[len] = '\0';
	a->argv[a->argc++] = copy;
	a->argv[a->argc] = NULL;
	return 0;
}

/*
 * Check the %-sequences of one finished argument.  They are validated on
 * the unquoted text because that is what the runner substitutes in: quotes
 * do not protect a '%'.
 */
static int
script_check_subst(const char *word, char *err, size_t errlen)
{
	const char *p;

	for (p = word; *p != '\0'; p++) {
		unsigned char c;

		if (*p != '%')
			continue;
		c = (unsigned char)p[1];
		if (c == '\0')
			return util_err(err, errlen,
			    "\"%%\" at the end of an argument; write \"%%%%\" "
			    "for a literal percent sign");
		if (strchr(script_subst_letters, c) == NULL) {
			if (c >= 0x21 && c < 0x7f)
				return util_err(err, errlen,
				    "unknown substitution \"%%%c\"; use %%d "
				    "%%h %%a %%p %%A %%P or %%%%", c);
			return util_err(err, errlen,
			    "unknown substitution \"%%\\x%02x\"; use %%d %%h "
			    "%%a %%p %%A %%P or %%%%", c);
		}
		p++;
	}
	return 0;
}

/* Validate the word collected so far and append it to argv. */
static int
script_finish(struct script_argv *a, size_t *cap, char *word, size_t wlen,
    char *err, size_t errlen)
{
	word[wlen] = '\0';
	if (script_check_subst(word, err, errlen) == -1)
		return -1;
	if (a->argc >= SCRIPT_ARGS_MAX)
		return util_err(err, errlen,
		    "command has more than %d arguments", SCRIPT_ARGS_MAX);
	if (script_push(a, cap, word, wlen) == -1)
		return util_err(err, errlen, "out of memory");
	return 0;
}

void
script_argv_free(struct script_argv *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->input);
	a->argv = NULL;
	a->input = NULL;
	a->argc = 0;
}

/*
 * Split a command line like a POSIX shell would split a simple command
 * with no expansions at all: whitespace separates words, single quotes are
 * literal, double quotes honour \" and \\ only, a backslash outside quotes
 * takes the next byte literally.  Adjacent pieces join into one word.
 */
int
script_split(const char *line, struct script_argv *out, char *err,
    size_t errlen)
{
	size_t len, cap = 0, wlen = 0, i;
	char *word = NULL;
	bool inword = false;
	int r = -1;

	out->argc = 0;
	out->argv = NULL;
	out->input = NULL;
	len = strlen(line);
	if (len > SCRIPT_LINE_MAX) {
		util_err(err, errlen, "command is longer than %d bytes",
		    SCRIPT_LINE_MAX);
		goto out;
	}
	/* A word is never longer than the line it came from. */
	word = malloc(len + 1);
	if (word == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		/*
		 * A newline would end the command early in any log or shell
		 * that later shows it; other control bytes are never meant.
		 */
		if (c == '\n' || c == '\r') {
			util_err(err, errlen, "command contains a newline");
			goto out;
		}
		if (c < 0x20 && c != '\t') {
			util_err(err, errlen,
			    "command contains control character \\x%02x", c);
			goto out;
		}
		if (c == 0x7f) {
			util_err(err, errlen,
			    "command contains control character \\x7f");
			goto out;
		}
	}
	for (i = 0; i < len;) {
		char c = line[i];

		if (c == ' ' || c == '\t') {
			if (inword) {
				if (script_finish(out, &cap, word, wlen, err,
				    errlen) == -1)
					goto out;
				wlen = 0;
				inword = false;
			}
			i++;
			continue;
		}
		inword = true;
		if (c == '\'') {
			const char *end = strchr(line + i + 1, '\'');

			if (end == NULL) {
				util_err(err, errlen,
				    "unbalanced quote in command");
				goto out;
			}
			memcpy(word + wlen, line + i + 1,
			    (size_t)(end - (line + i + 1)));
			wlen += (size_t)(end - (line + i + 1));
			i = (size_t)(end - line) + 1;
		} else if (c == '"') {
			i++;
			while (i < len && line[i] != '"') {
				/* Only \" and \\ are escapes, as in sh. */
				if (line[i] == '\\' && i + 1 < len &&
				    (line[i + 1] == '"' || line[i + 1] == '\\'))
					i++;
				word[wlen++] = line[i++];
			}
			if (i >= len) {
				util_err(err, errlen,
				    "unbalanced quote in command");
				goto out;
			}
			i++;
		} else if (c == '\\') {
			if (i + 1 >= len) {
				util_err(err, errlen,
				    "command ends with a backslash");
				goto out;
			}
			word[wlen++] = line[i + 1];
			i += 2;
		} else
			word[wlen++] = line[i++];
	}
	if (inword &&
	    script_finish(out, &cap, word, wlen, err, errlen) == -1)
		goto out;
	if (out->argc == 0) {
		util_err(err, errlen, "empty command");
		goto out;
	}
	r = 0;
out:
	free(word);
	if (r == -1)
		script_argv_free(out);
	return r;
}

/* The value a substitution letter stands for, or NULL if none. */
static const char *
script_value(const struct script_env *env, char letter)
{
	const char *v;

	switch (letter) {
	case 'd':
		v = env->device;
		break;
	case 'h':
		v = env->session;
		break;
	case 'a':
		v = env->raddr;
		break;
	case 'p':
		v = env->rport;
		break;
	case 'A':
		v = env->laddr;
		break;
	case 'P':
		v = env->lport;
		break;
	case '%':
		return "%";
	default:
		return NULL;
	}
	return v != NULL ? v : "";
}

/*
 * Two passes over the word: measure, then copy.  Sequences that the
 * loader would have refused (an unknown letter, a final '%') are kept as
 * they are rather than guessed at.
 */
char *
script_subst(const char *word, const struct script_env *env)
{
	size_t len = 0, pass;
	char *out = NULL;

	for (pass = 0; pass < 2; pass++) {
		const char *p;
		size_t o = 0;

		for (p = word; *p != '\0'; p++) {
			const char *v = NULL;
			size_t vlen;

			if (p[0] == '%' && p[1] != '\0')
				v = script_value(env, p[1]);
			if (v == NULL) {
				if (out != NULL)
					out[o] = *p;
				o++;
				continue;
			}
			vlen = strlen(v);
			if (out != NULL)
				memcpy(out + o, v, vlen);
			o += vlen;
			p++;
		}
		if (out != NULL) {
			out[o] = '\0';
			break;
		}
		len = o;
		out = malloc(len + 1);
		if (out == NULL)
			return NULL;
	}
	return out;
}
