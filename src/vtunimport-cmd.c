/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund's up and down commands as tapline command lines, for
 * `tapline import-vtund`.
 *
 * vtund substitutes %-sequences into the argument string, splits it into
 * words at spaces ('...' groups, a backslash escapes) and execs the
 * program.  We do the same split here, on the string with the
 * substitutions kept as symbols, and write each word in tapline's
 * quoting, so that tapline's own split gives the same words.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "util.h"
#include "vtunimport-private.h"

/* A byte of a vtund argument string, or a %-substitution (subst). */
struct imp_unit {
	unsigned char c;
	bool subst;
};

/* The words of one command, as ranges of u. */
struct imp_words {
	struct imp_unit u[VTUNCONF_STRING_MAX + 1];
	size_t nu;
	size_t start[VTUNCONF_STRING_MAX + 1], end[VTUNCONF_STRING_MAX + 1];
	size_t nw;
};

/*
 * vtund's subst_opt: %% and %d are the device (tapline's %d), %A %P %a %p
 * %h the same as in tapline; '%' before any other byte is dropped; a
 * backslash keeps itself and the byte after it from substitution.
 */
static size_t
imp_subst(const char *s, struct imp_unit *u)
{
	size_t n = 0;

	while (*s != '\0') {
		if (*s == '%') {
			if (s[1] == '%' || s[1] == 'd') {
				u[n++] = (struct imp_unit){ 'd', true };
				s += 2;
			} else if (s[1] != '\0' && strchr("APaph", s[1]) !=
			    NULL) {
				u[n++] = (struct imp_unit){
					(unsigned char)s[1], true };
				s += 2;
			} else {
				s++;
			}
			continue;
		}
		if (*s == '\\') {
			u[n++] = (struct imp_unit){ '\\', false };
			if (*++s == '\0')
				break;
		}
		u[n++] = (struct imp_unit){ (unsigned char)*s++, false };
	}
	return n;
}

/*
 * vtund's split_args: words end at a space (only a space); '...' groups
 * and its quotes go; a backslash goes and takes the next byte as it is,
 * inside quotes too; an open quote at the end is closed silently.
 */
static void
imp_split(const struct imp_unit *in, size_t n, struct imp_words *w)
{
	int mode = 0;	/* 0 between words, 1 in a word, 2 in quotes */
	size_t i;

	w->nu = w->nw = 0;
	for (i = 0; i < n; i++) {
		struct imp_unit x = in[i];

		if (!x.subst && x.c == ' ' && mode != 2) {
			if (mode == 1) {
				w->end[w->nw++] = w->nu;
				mode = 0;
			}
			continue;
		}
		if (!x.subst && x.c == '\'') {
			if (mode == 0)
				w->start[w->nw] = w->nu;
			mode = mode == 2 ? 1 : 2;
			continue;
		}
		if (!x.subst && x.c == '\\') {
			if (i + 1 == n)
				break;
			x = in[++i];
		}
		if (mode == 0) {
			w->start[w->nw] = w->nu;
			mode = 1;
		}
		w->u[w->nu++] = x;
	}
	if (mode != 0)
		w->end[w->nw++] = w->nu;
}

/* One unit in tapline's syntax: a substitution, "%%" or the byte. */
static void
imp_put_unit(struct imp_buf *b, struct imp_unit x)
{
	if (x.subst) {
		imp_putc(b, '%');
		imp_putc(b, (char)x.c);
	} else if (x.c == '%') {
		imp_puts(b, "%%");
	} else {
		imp_putc(b, (char)x.c);
	}
}

/*
 * One word for tapline's split: bare when it has nothing special, else in
 * single quotes, a quote itself written \' outside them.  %-sequences are
 * substituted inside quotes too, so they need no care.
 */
static void
imp_put_word(struct imp_buf *b, const struct imp_unit *u, size_t n)
{
	bool quote = n == 0, open = false;
	size_t i;

	for (i = 0; i < n; i++)
		if (!u[i].subst && (u[i].c <= ' ' || u[i].c >= 0x7f ||
		    strchr("'\"\\", u[i].c) != NULL))
			quote = true;
	if (!quote) {
		for (i = 0; i < n; i++)
			imp_put_unit(b, u[i]);
		return;
	}
	if (n == 0)
		imp_puts(b, "''");
	for (i = 0; i < n; i++) {
		if (!u[i].subst && u[i].c == '\'') {
			if (open)
				imp_putc(b, '\'');
			open = false;
			imp_puts(b, "\\'");
			continue;
		}
		if (!open)
			imp_putc(b, '\'');
		open = true;
		imp_put_unit(b, u[i]);
	}
	if (open)
		imp_putc(b, '\'');
}

/* vtund's name of a command, for messages: ifconfig "...", program /x. */
static const char *
imp_cmd_name(const struct vtunconf_cmd *c)
{
	switch (c->kind) {
	case VTUNCONF_CMD_PPP:
		return "ppp";
	case VTUNCONF_CMD_IFCONFIG:
		return "ifconfig";
	case VTUNCONF_CMD_ROUTE:
		return "route";
	case VTUNCONF_CMD_FIREWALL:
		return "firewall";
	case VTUNCONF_CMD_IP:
		return "ip";
	default:
		return "program";
	}
}

/*
 * One vtund command as a tapline command line (a libconfig string
 * literal), or NULL when it is not carried over (said why).
 */
static char *
imp_command(struct imp_ctx *ctx, struct imp_entry *e, const char *list,
    const struct vtunconf_cmd *c)
{
	struct imp_unit u[VTUNCONF_STRING_MAX + 1];
	struct imp_words w;
	struct script_argv check;
	struct imp_buf b = { 0 };
	const char *prog = c->prog;
	char err[256], args[128], *line, *lit;
	size_t n = 0, i;

	/* The arguments as messages quote them: no control bytes. */
	util_escape(c->args != NULL ? c->args : "", c->args != NULL ?
	    strlen(c->args) : 0, args, sizeof(args));
	if (c->kind == VTUNCONF_CMD_PPP) {
		imp_lost(ctx, e, c->line, "%s: ppp \"%s\" is not carried over: "
		    "tapline does not run pppd; its tun devices carry IP "
		    "themselves", list, args);
		return NULL;
	}
	if (prog == NULL && c->args == NULL) {
		imp_lost(ctx, e, c->line, "%s: a program without a path or "
		    "arguments runs nothing; left out", list);
		return NULL;
	}
	if (c->args != NULL)
		n = imp_subst(c->args, u);
	if (prog == NULL) {
		/* vtund runs /bin/sh -c with the whole string. */
		prog = "/bin/sh";
		imp_puts(&b, "/bin/sh -c ");
		imp_put_word(&b, u, n);
	} else {
		imp_puts(&b, prog);
		imp_split(u, n, &w);
		for (i = 0; i < w.nw; i++) {
			imp_putc(&b, ' ');
			imp_put_word(&b, w.u + w.start[i], w.end[i] - w.start[i]);
		}
	}
	if ((line = imp_take(ctx, &b)) == NULL)
		return NULL;
	if (script_split(line, &check, err, sizeof(err)) == -1) {
		imp_lost(ctx, e, c->line, "%s: %s \"%s\" is left out: as a "
		    "tapline command it fails the check: %s", list,
		    imp_cmd_name(c), args, err);
		free(line);
		return NULL;
	}
	script_argv_free(&check);
	if (c->kind == VTUNCONF_CMD_PROGRAM &&
	    !(c->flags & VTUNCONF_CMD_WAIT))
		imp_lost(ctx, e, c->line, "%s: program %s without wait ran in "
		    "the background under vtund; tapline waits for every "
		    "command (at most %d s), so one that keeps running must "
		    "detach itself", list, prog, SCRIPT_TIMEOUT_MS / 1000);
	if (ctx->o->exists != NULL && !ctx->o->exists(prog,
	    ctx->o->exists_arg))
		imp_lost(ctx, e, c->line, "%s: %s is not on this host%s", list,
		    prog, strcmp(list, "up") == 0 ? "; tapline ends a session "
		    "whose up command fails" : "");
	lit = imp_quote(ctx, line);
	free(line);
	return lit;
}

/* up or down: the carried commands as a libconfig list, NULL if none. */
char *
imp_commands(struct imp_ctx *ctx, struct imp_entry *e, const char *list,
    const struct vtunconf_cmds *cmds)
{
	struct imp_buf b = { 0 };
	size_t i, kept = 0;

	if (cmds == NULL)
		return NULL;
	for (i = 0; i < cmds->n; i++) {
		char *lit = imp_command(ctx, e, list, &cmds->v[i]);

		if (lit == NULL)
			continue;
		imp_puts(&b, kept == 0 ? "[\n    " : ",\n    ");
		imp_puts(&b, lit);
		free(lit);
		kept++;
	}
	if (kept == 0)
		return NULL;
	imp_puts(&b, "\n  ]");
	return imp_take(ctx, &b);
}
