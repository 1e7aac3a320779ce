/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund.conf, read as vtund 3.0.4 reads it (vtunconf.h says which quirks
 * that keeps).  Two parts, as in vtund: a lexer (vtunlex.c) whose state
 * (INITIAL, OPTION, PARAM) is moved by braces, keywords and ';' alone,
 * and this file's parser for vtund's grammar on top of its tokens.
 * vtund's lexer never hands ';' to its parser: ';' only ends a keyword's
 * values.  Keeping that split is what makes a missing ';' fail here
 * exactly where vtund fails.
 *
 * Every allocation of a result goes into one arena (vtunlex.c's) that
 * vtunconf_free releases; the parser itself keeps one token of
 * look-ahead and nothing else, so its memory is bounded by the size of
 * the file.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "util.h"
#include "vtunconf.h"
#include "vtunlex.h"

/* ---------------------------------------------------------------- */
/* Warnings */

void
vtunconf_warn(struct vtunconf_diag *d, const char *path, int line,
    const char *fmt, ...)
{
	struct vtunconf_diag_line *nv;
	char msg[1024];
	char *text;
	va_list ap;
	int r;

	if (d->n >= VTUNCONF_DIAG_MAX) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		r = asprintf(&text, "%s:%d: %s", path, line, msg);
	else
		r = asprintf(&text, "%s: %s", path, msg);
	if (r == -1) {
		d->oom = true;
		return;
	}
	nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(text);
		d->oom = true;
		return;
	}
	nv[d->n].line = line;
	nv[d->n].text = text;
	d->v = nv;
	d->n++;
}

void
vtunconf_diag_sort(struct vtunconf_diag *d)
{
	size_t i, j;

	/* Insertion sort: stable, and the lists are short. */
	for (i = 1; i < d->n; i++) {
		struct vtunconf_diag_line x = d->v[i];

		for (j = i; j > 0 && d->v[j - 1].line > x.line; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = x;
	}
}

void
vtunconf_diag_free(struct vtunconf_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- */
/* vtund's tables (the lexer's are in vtunlex.c) */

/* syslog facilities by vtund's names (cfg_file.y). */
static const struct {
	const char *name;
	int facility;
} vt_facilities[] = {
	{ "auth", LOG_AUTH },	  { "cron", LOG_CRON },
	{ "daemon", LOG_DAEMON }, { "kern", LOG_KERN },
	{ "lpr", LOG_LPR },	  { "mail", LOG_MAIL },
	{ "news", LOG_NEWS },	  { "syslog", LOG_SYSLOG },
	{ "user", LOG_USER },	  { "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

const char *
vtunconf_cipher_name(long long cipher)
{
	return vtunlex_cipher_name(cipher);
}

/* ---------------------------------------------------------------- */
/* Parser (cfg_file.y) */

/* The parser: the lexer, one token of look-ahead and the result. */
struct vt_parser {
	const char *path;
	struct vtunlex lx;
	struct vtunlex_tok ahead;
	bool have_ahead;
	struct vtunconf *vc;
	size_t hosts_cap;
	struct vtunconf_host def;	/* vtund's default_host */
	struct vtunconf_diag *diag;
};

/* Errors go where the lexer's go: "PATH:LINE: ..." into err. */
#define vt_fail(p, line, ...) vtunlex_fail(&(p)->lx, (line), __VA_ARGS__)

static int
vt_oom(struct vt_parser *p)
{
	return vtunlex_oom(&p->lx);
}

static int
vt_peek(struct vt_parser *p, const struct vtunlex_tok **t)
{
	if (!p->have_ahead) {
		if (vtunlex_next(&p->lx, &p->ahead) == -1)
			return -1;
		p->have_ahead = true;
	}
	*t = &p->ahead;
	return 0;
}

static int
vt_next(struct vt_parser *p, struct vtunlex_tok *t)
{
	const struct vtunlex_tok *a;

	if (vt_peek(p, &a) == -1)
		return -1;
	*t = *a;
	p->have_ahead = false;
	return 0;
}

/* How a token reads in a message: "'yes'", "the string \"...\"". */
/* Which token kinds a value may be, for expect and its message. */
#define V_NUM (1u << T_NUM)
#define V_DNUM (1u << T_DNUM)
#define V_WORD (1u << T_WORD)
#define V_STRING (1u << T_STRING)
#define V_PATH (1u << T_PATH)

/* The value of keyword kw: one token of the kinds in mask, or an error. */
static int
vt_value(struct vt_parser *p, const struct vtunlex_tok *kw, unsigned mask,
    const char *what, struct vtunlex_tok *t)
{
	char d[96];

	if (vt_next(p, t) == -1)
		return -1;
	if ((1u << t->kind) & mask)
		return 0;
	/* "device tun": a word of vtund's value table is no word to vtund. */
	return vt_fail(p, t->line, "%s: expected %s, got %s%s", kw->text, what,
	    vtunlex_describe(t, d, sizeof(d)), t->kind == T_NUM &&
	    !vtunlex_is_digit((unsigned char)t->text[0]) &&
	    (mask & V_WORD) ?
	    " (one of vtund's value words, which it does not take here)" : "");
}

static int
vt_expect(struct vt_parser *p, enum vtunlex_kind kind, const char *after)
{
	struct vtunlex_tok t;
	char d[96];

	if (vt_next(p, &t) == -1)
		return -1;
	if (t.kind == kind)
		return 0;
	return vt_fail(p, t.line, "expected '%c' after %s, got %s",
	    kind == T_LBRACE ? '{' : '}', after,
	    vtunlex_describe(&t, d, sizeof(d)));
}

/* Where the value of a setting came from. */
static struct vtunconf_src
vt_src(const struct vtunlex_tok *t)
{
	return (struct vtunconf_src){ .line = t->line, .text = t->text };
}

/*
 * A token where a keyword should start the next setting.  A value there
 * most often means a ';' was forgotten: vtund's lexer then reads the next
 * keyword as one more value.
 */
static int
vt_not_keyword(struct vt_parser *p, const struct vtunlex_tok *t, const char *in)
{
	char d[96], h[128];

	if (t->kind == T_BAD) {
		vtunlex_hint(t->text, h, sizeof(h));
		return vt_fail(p, t->line, "unknown keyword '%s' in %s%s",
		    t->text, in, h);
	}
	if (t->kind == T_EOF)
		return vt_fail(p, t->line, "the file ends inside %s (a '}' is "
		    "missing)", in);
	return vt_fail(p, t->line, "%s where a keyword should start the next "
	    "setting of %s (a ';' missing before it, or a value in two "
	    "words?)", vtunlex_describe(t, d, sizeof(d)), in);
}

/* options: the first port, type, timeout and iface count, as in vtund. */
static void
vt_first(struct vt_parser *p, long long *field, struct vtunconf_src *src,
    const struct vtunlex_tok *kw, const struct vtunlex_tok *v)
{
	if (*field == -1) {
		*field = v->n1;
		*src = vt_src(v);
		return;
	}
	if (*field != v->n1)
		vtunconf_warn(p->diag, p->path, v->line, "options: %s %s is "
		    "ignored: vtund keeps the first %s (%s, line %d)",
		    kw->text, v->text, kw->text, src->text, src->line);
}

/* bindaddr { addr NAME; } or { iface NAME; }: exactly one of them. */
static int
vt_bindaddr(struct vt_parser *p)
{
	struct vtunconf_options *o = &p->vc->opts;
	struct vtunlex_tok t, v;
	char d[96];

	if (vt_expect(p, T_LBRACE, "bindaddr") == -1 || vt_next(p, &t) == -1)
		return -1;
	if (t.kind != T_KEYWORD || (t.kw != KW_ADDR && t.kw != KW_IFACE))
		return vt_fail(p, t.line, "bindaddr { } takes one 'addr NAME;' "
		    "or 'iface NAME;', got %s",
		    vtunlex_describe(&t, d, sizeof(d)));
	if (vt_value(p, &t, t.kw == KW_ADDR ? V_WORD : V_WORD | V_STRING,
	    t.kw == KW_ADDR ? "an address or host name" : "an interface name",
	    &v) == -1)
		return -1;
	o->bind_type = t.kw == KW_ADDR ? VTUNCONF_ADDR_NAME :
	    VTUNCONF_ADDR_IFACE;
	o->bind_name = v.text;
	o->bind_src = vt_src(&v);
	return vt_expect(p, T_RBRACE, "the one setting of bindaddr { }");
}

/* syslog NUMBER or syslog NAME; vtund refuses an unknown name. */
static int
vt_syslog(struct vt_parser *p, const struct vtunlex_tok *kw)
{
	struct vtunconf_options *o = &p->vc->opts;
	struct vtunlex_tok v;
	size_t i;

	if (vt_value(p, kw, V_NUM | V_WORD, "a facility name or number", &v) ==
	    -1)
		return -1;
	o->syslog_src = vt_src(&v);
	if (v.kind == T_NUM) {
		o->syslog = v.n1;
		return 0;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(vt_facilities); i++)
		if (strcmp(v.text, vt_facilities[i].name) == 0) {
			o->syslog = vt_facilities[i].facility;
			return 0;
		}
	return vt_fail(p, v.line, "syslog: unknown facility '%s' (vtund knows "
	    "auth, cron, daemon, kern, lpr, mail, news, syslog, user, uucp "
	    "and local0 .. local7)", v.text);
}

/* One setting of options { }. */
static int
vt_option(struct vt_parser *p)
{
	struct vtunconf_options *o = &p->vc->opts;
	struct vtunlex_tok kw, v;
	const char **path = NULL;

	if (vt_next(p, &kw) == -1)
		return -1;
	if (kw.kind != T_KEYWORD)
		return vt_not_keyword(p, &kw, "options { }");
	switch (kw.kw) {
	case KW_PORT:
		if (vt_value(p, &kw, V_NUM, "a port number", &v) == -1)
			return -1;
		vt_first(p, &o->port, &o->port_src, &kw, &v);
		return 0;
	case KW_BINDADDR:
		return vt_bindaddr(p);
	case KW_IFACE:
		if (vt_value(p, &kw, V_STRING, "a \"string\"", &v) == -1)
			return -1;
		if (o->iface == NULL) {
			o->iface = v.text;
			o->iface_src = vt_src(&v);
		}
		return 0;
	case KW_TYPE:
		if (vt_value(p, &kw, V_NUM, "stand or inetd", &v) == -1)
			return -1;
		vt_first(p, &o->svr_type, &o->svr_type_src, &kw, &v);
		return 0;
	case KW_TIMEOUT:
		if (vt_value(p, &kw, V_NUM, "a number of seconds", &v) == -1)
			return -1;
		vt_first(p, &o->timeout, &o->timeout_src, &kw, &v);
		return 0;
	case KW_SYSLOG:
		return vt_syslog(p, &kw);
	case KW_IPV4:
	case KW_IPV6:
		o->family = kw.kw == KW_IPV4 ? 4 : 6;
		o->family_src = vt_src(&kw);
		return 0;
	case KW_PPP:
		path = &o->ppp;
		break;
	case KW_IFCONFIG:
		path = &o->ifconfig;
		break;
	case KW_ROUTE:
		path = &o->route;
		break;
	case KW_FIREWALL:
		path = &o->firewall;
		break;
	case KW_IP:
		path = &o->ip;
		break;
	default:
		return vt_fail(p, kw.line, "'%s' cannot be used in options { }"
		    "%s", kw.text, kw.kw == KW_OPTIONS || kw.kw == KW_DEFAULT ||
		    kw.kw == KW_ADDR ? "" : "; it belongs in a session or in "
		    "default { }");
	}
	if (vt_value(p, &kw, V_PATH, "the program's absolute /path", &v) ==
	    -1)
		return -1;
	*path = v.text;
	return 0;
}

/* options { at least one setting }. */
static int
vt_options_block(struct vt_parser *p)
{
	const struct vtunlex_tok *t;
	struct vtunlex_tok close;
	int n;

	if (vt_expect(p, T_LBRACE, "options") == -1)
		return -1;
	for (n = 0;; n++) {
		if (vt_peek(p, &t) == -1)
			return -1;
		if (t->kind == T_RBRACE)
			break;
		if (vt_option(p) == -1)
			return -1;
	}
	if (vt_next(p, &close) == -1)
		return -1;
	if (n == 0)
		return vt_fail(p, close.line, "options { } is empty (vtund 3.0 "
		    "refuses an empty block)");
	return 0;
}

/* One command of an up { } or down { } block into cmd. */
static int
vt_command(struct vt_parser *p, struct vtunconf_cmd *cmd)
{
	const struct vtunconf_options *o = &p->vc->opts;
	const struct vtunlex_tok *a;
	struct vtunlex_tok kw, v;
	int n = 0;

	if (vt_next(p, &kw) == -1)
		return -1;
	if (kw.kind != T_KEYWORD)
		return vt_not_keyword(p, &kw, "up { } / down { }");
	memset(cmd, 0, sizeof(*cmd));
	cmd->line = kw.line;
	cmd->flags = VTUNCONF_CMD_WAIT;
	switch (kw.kw) {
	case KW_PROGRAM:
		/* program [/path] ["arguments"] [wait], in any order. */
		cmd->kind = VTUNCONF_CMD_PROGRAM;
		cmd->flags = 0;
		for (;; n++) {
			if (vt_peek(p, &a) == -1)
				return -1;
			if (a->kind == T_PATH)
				cmd->prog = a->text;
			else if (a->kind == T_STRING)
				cmd->args = a->text;
			else if (a->kind == T_NUM)
				cmd->flags = (int)(a->n1 & 0xff);
			else
				break;
			p->have_ahead = false;
		}
		if (n == 0)
			return vt_value(p, &kw, 0, "a /path, \"arguments\" or "
			    "wait", &v);
		return 0;
	case KW_PPP:
		cmd->kind = VTUNCONF_CMD_PPP;
		cmd->prog = o->ppp;
		cmd->flags = VTUNCONF_CMD_DELAY;
		break;
	case KW_IFCONFIG:
		cmd->kind = VTUNCONF_CMD_IFCONFIG;
		cmd->prog = o->ifconfig;
		break;
	case KW_ROUTE:
		cmd->kind = VTUNCONF_CMD_ROUTE;
		cmd->prog = o->route;
		break;
	case KW_FIREWALL:
		cmd->kind = VTUNCONF_CMD_FIREWALL;
		cmd->prog = o->firewall;
		break;
	case KW_IP:
		cmd->kind = VTUNCONF_CMD_IP;
		cmd->prog = o->ip;
		break;
	default:
		return vt_fail(p, kw.line, "'%s' is not a command; up { } and "
		    "down { } take program, ppp, ifconfig, route, firewall "
		    "and ip", kw.text);
	}
	if (vt_value(p, &kw, V_STRING, "its arguments as a \"string\"", &v) ==
	    -1)
		return -1;
	cmd->args = v.text;
	return 0;
}

/* up { commands } or down { commands }: a new list, replacing the old. */
static int
vt_commands(struct vt_parser *p, const struct vtunlex_tok *kw,
    const struct vtunconf_cmds **out)
{
	struct vtunconf_cmd tmp[VTUNCONF_CMDS_MAX];
	struct vtunconf_cmds *l;
	const struct vtunlex_tok *t;
	size_t n = 0;

	if (vt_expect(p, T_LBRACE, kw->text) == -1)
		return -1;
	for (;;) {
		if (vt_peek(p, &t) == -1)
			return -1;
		if (t->kind == T_RBRACE)
			break;
		if (n == VTUNCONF_CMDS_MAX)
			return vt_fail(p, t->line, "%s { } has more than %d "
			    "commands", kw->text, VTUNCONF_CMDS_MAX);
		if (vt_command(p, &tmp[n]) == -1)
			return -1;
		n++;
	}
	p->have_ahead = false;
	l = vtunlex_alloc(p->vc->arena, sizeof(*l));
	if (l == NULL || (n > 0 && (l->v = vtunlex_alloc(p->vc->arena,
	    n * sizeof(*l->v))) == NULL))
		return vt_oom(p);
	if (n > 0)
		memcpy(l->v, tmp, n * sizeof(*l->v));
	else
		l->v = NULL;
	l->n = n;
	l->line = kw->line;
	*out = l;
	return 0;
}

/* srcaddr { addr NAME; iface NAME; port N; }, each optional. */
static int
vt_srcaddr(struct vt_parser *p, struct vtunconf_host *h,
    const struct vtunlex_tok *kw)
{
	const struct vtunlex_tok *a;
	struct vtunlex_tok t, v;
	char d[96];

	if (vt_expect(p, T_LBRACE, "srcaddr") == -1)
		return -1;
	h->srcaddr_src = vt_src(kw);
	for (;;) {
		if (vt_peek(p, &a) == -1)
			return -1;
		if (a->kind == T_RBRACE)
			break;
		if (vt_next(p, &t) == -1)
			return -1;
		if (t.kind != T_KEYWORD)
			return vt_not_keyword(p, &t, "srcaddr { }");
		if (t.kw == KW_PORT) {
			if (vt_value(p, &t, V_NUM, "a port number", &v) == -1)
				return -1;
			h->src_port = v.n1;
			continue;
		}
		if (t.kw != KW_ADDR && t.kw != KW_IFACE)
			return vt_fail(p, t.line, "srcaddr { } takes addr, "
			    "iface and port, got %s",
			    vtunlex_describe(&t, d, sizeof(d)));
		if (vt_value(p, &t, t.kw == KW_ADDR ? V_WORD :
		    V_WORD | V_STRING, t.kw == KW_ADDR ?
		    "an address or host name" : "an interface name", &v) == -1)
			return -1;
		h->src_type = t.kw == KW_ADDR ? VTUNCONF_ADDR_NAME :
		    VTUNCONF_ADDR_IFACE;
		h->src_name = v.text;
	}
	p->have_ahead = false;
	return 0;
}

/*
 * A value that vtund accepts but that means nothing there (type yes,
 * multi 7): vtund would set garbage flags; we keep the value before.
 */
static void
vt_meaningless(struct vt_parser *p, const struct vtunlex_tok *kw,
    const struct vtunlex_tok *v, const char *allowed)
{
	vtunconf_warn(p->diag, p->path, v->line, "%s %s means nothing to "
	    "vtund (use %s); ignored", kw->text, v->text, allowed);
}

/* compress N, compress METHOD:LEVEL. */
static void
vt_compress(struct vt_parser *p, struct vtunconf_host *h,
    const struct vtunlex_tok *kw, const struct vtunlex_tok *v)
{
	long long method = v->kind == T_DNUM ? v->n1 : 1;
	long long level = v->kind == T_DNUM ? v->n2 : v->n1;

	h->compress_src = vt_src(v);
	h->compress = VTUNCONF_COMPRESS_NONE;
	h->zlevel = 0;
	/* "compress no" and "compress no:5" leave compression off. */
	if (method == 0 || (v->kind == T_NUM && level == 0))
		return;
	if (method == 1 && level >= 1 && level <= 9) {
		h->compress = VTUNCONF_COMPRESS_ZLIB;
		h->zlevel = (int)level;
		return;
	}
	if (method == 2 && v->kind == T_DNUM) {
		/* vtund's lzo: level 9 is lzo1x_999, any other lzo1x_1. */
		h->compress = VTUNCONF_COMPRESS_LZO;
		h->zlevel = level == 9 ? 9 : 1;
		return;
	}
	if (method == 1 && (v->kind == T_DNUM ||
	    vtunlex_is_digit((unsigned char)v->text[0])))
		vtunconf_warn(p->diag, p->path, v->line, "%s %s: zlib levels "
		    "are 1..9 (vtund would fail to start the session); "
		    "compression stays off", kw->text, v->text);
	else
		vt_meaningless(p, kw, v, "no, yes, zlib:1..9 or lzo:1..9");
}

/* A setting that takes one of a few numbers (multi, persist, type ...). */
static bool
vt_one_of(struct vt_parser *p, const struct vtunlex_tok *kw,
    const struct vtunlex_tok *v, const long long *ok, size_t nok,
    const char *allowed)
{
	size_t i;

	for (i = 0; i < nok; i++)
		if (v->n1 == ok[i])
			return true;
	vt_meaningless(p, kw, v, allowed);
	return false;
}

/*
 * speed N (both ways) or speed TO:FROM the client; 0 turns shaping off.
 * A word in place of a number ("speed fast:64") means nothing to vtund.
 */
static void
vt_speed(struct vt_parser *p, struct vtunconf_host *h,
    const struct vtunlex_tok *kw, const struct vtunlex_tok *v)
{
	if (v->n1 < 0 || (v->kind == T_DNUM && v->n2 < 0)) {
		vt_meaningless(p, kw, v, "N or TO:FROM in kbit/s");
		return;
	}
	h->speed_src = vt_src(v);
	if (v->kind == T_NUM) {
		h->shape = v->n1 != 0;
		if (h->shape)
			h->spd_in = h->spd_out = v->n1;
		return;
	}
	h->shape = v->n1 != 0 || v->n2 != 0;
	if (h->shape) {
		h->spd_out = v->n1;
		h->spd_in = v->n2;
	}
}

/* keepalive yes|no|N, keepalive INTERVAL:COUNT. */
static void
vt_keepalive(struct vt_parser *p, struct vtunconf_host *h,
    const struct vtunlex_tok *kw, const struct vtunlex_tok *v)
{
	if (v->n1 < 0 || (v->kind == T_DNUM && v->n2 < 0)) {
		vt_meaningless(p, kw, v, "yes, no, N or INTERVAL:COUNT");
		return;
	}
	h->keepalive_src = vt_src(v);
	if (v->kind == T_NUM) {
		h->keepalive = v->n1 != 0;
		return;
	}
	h->keepalive = v->n1 != 0;
	if (h->keepalive) {
		h->ka_interval = v->n1;
		h->ka_maxfail = v->n2;
	}
}

/* The settings that take a number (or a word of vtund's value table). */
static int
vt_host_num(struct vt_parser *p, struct vtunconf_host *h,
    const struct vtunlex_tok *kw)
{
	static const long long multi[] = { 0, 1, 2 }, persist[] = { 0, 1, 2 };
	static const long long type[] = { VTUNCONF_TYPE_TTY,
		VTUNCONF_TYPE_PIPE, VTUNCONF_TYPE_ETHER, VTUNCONF_TYPE_TUN };
	static const long long proto[] = { VTUNCONF_PROTO_TCP,
		VTUNCONF_PROTO_UDP };
	unsigned mask = V_NUM;
	struct vtunlex_tok v;

	if (kw->kw == KW_SPEED || kw->kw == KW_COMPRESS ||
	    kw->kw == KW_KEEPALIVE)
		mask |= V_DNUM;
	if (vt_value(p, kw, mask, mask & V_DNUM ? "a value like yes, no, 5 "
	    "or 30:4" : "a number or a word like yes, no, tun or tcp",
	    &v) == -1)
		return -1;
	switch (kw->kw) {
	case KW_MULTI:
		if (vt_one_of(p, kw, &v, multi, UTIL_ARRAY_LEN(multi),
		    "yes, allow, no, deny or killold")) {
			h->multi = (enum vtunconf_multi)v.n1;
			h->multi_src = vt_src(&v);
		}
		break;
	case KW_TIMEOUT:
		h->timeout = v.n1;
		h->timeout_src = vt_src(&v);
		break;
	case KW_SPEED:
		vt_speed(p, h, kw, &v);
		break;
	case KW_COMPRESS:
		vt_compress(p, h, kw, &v);
		break;
	case KW_ENCRYPT:
		h->encrypt = v.n1 != 0;
		h->cipher = v.n1;
		h->encrypt_src = vt_src(&v);
		break;
	case KW_KEEPALIVE:
		vt_keepalive(p, h, kw, &v);
		break;
	case KW_STAT:
		h->stat = v.n1 != 0;
		h->stat_src = vt_src(&v);
		break;
	case KW_PERSIST:
		if (vt_one_of(p, kw, &v, persist, UTIL_ARRAY_LEN(persist),
		    "yes, no or keep")) {
			h->persist = (enum vtunconf_persist)v.n1;
			h->persist_src = vt_src(&v);
		}
		break;
	case KW_TYPE:
		if (vt_one_of(p, kw, &v, type, UTIL_ARRAY_LEN(type),
		    "tun, ether, tty or pipe")) {
			h->type = (enum vtunconf_type)v.n1;
			h->type_src = vt_src(&v);
		}
		break;
	case KW_PROTO:
		if (vt_one_of(p, kw, &v, proto, UTIL_ARRAY_LEN(proto),
		    "tcp or udp")) {
			h->proto = (enum vtunconf_proto)v.n1;
			h->proto_src = vt_src(&v);
		}
		break;
	default:	/* KW_NAT_HACK */
		h->nat_hack = v.n1 != 0;
		h->nat_hack_src = vt_src(&v);
		break;
	}
	return 0;
}

/* One setting of a session or of default { }. */
static int
vt_host_option(struct vt_parser *p, struct vtunconf_host *h, bool is_default,
    const char *in)
{
	struct vtunlex_tok kw, v;

	if (vt_next(p, &kw) == -1)
		return -1;
	if (kw.kind != T_KEYWORD)
		return vt_not_keyword(p, &kw, in);
	switch (kw.kw) {
	case KW_PASSWD:
		if (vt_value(p, &kw, V_WORD, "the password as one word "
		    "without quotes", &v) == -1)
			return -1;
		h->passwd = v.text;
		h->passwd_src = vt_src(&v);
		if (is_default)
			vtunconf_warn(p->diag, p->path, v.line, "default: "
			    "passwd is ignored there (vtund wants one in each "
			    "session)");
		return 0;
	case KW_DEVICE:
		if (vt_value(p, &kw, V_WORD, "a device name", &v) == -1)
			return -1;
		h->device = v.text;
		h->device_src = vt_src(&v);
		return 0;
	case KW_MULTI:
	case KW_TIMEOUT:
	case KW_SPEED:
	case KW_COMPRESS:
	case KW_ENCRYPT:
	case KW_KEEPALIVE:
	case KW_STAT:
	case KW_PERSIST:
	case KW_TYPE:
	case KW_PROTO:
	case KW_NAT_HACK:
		return vt_host_num(p, h, &kw);
	case KW_SRCADDR:
		return vt_srcaddr(p, h, &kw);
	case KW_UP:
		return vt_commands(p, &kw, &h->up);
	case KW_DOWN:
		return vt_commands(p, &kw, &h->down);
	case KW_PPP:
	case KW_IFCONFIG:
	case KW_ROUTE:
	case KW_FIREWALL:
	case KW_IP:
		return vt_fail(p, kw.line, "%s: '%s' cannot be set here: its "
		    "/path belongs in options { }, and as a command with a "
		    "\"string\" it belongs in up { } or down { }", in,
		    kw.text);
	default:
		return vt_fail(p, kw.line, "%s: '%s' cannot be used here%s", in,
		    kw.text, kw.kw == KW_PORT || kw.kw == KW_BINDADDR ||
		    kw.kw == KW_SYSLOG || kw.kw == KW_IPV4 ||
		    kw.kw == KW_IPV6 ? "; it belongs in options { }" : "");
	}
}

/* The settings of a session or of default { }: at least one, then '}'. */
static int
vt_host_options(struct vt_parser *p, struct vtunconf_host *h, bool is_default,
    const char *in)
{
	const struct vtunlex_tok *t;
	struct vtunlex_tok close;
	int n;

	if (vt_expect(p, T_LBRACE, in) == -1)
		return -1;
	for (n = 0;; n++) {
		if (vt_peek(p, &t) == -1)
			return -1;
		if (t->kind == T_RBRACE)
			break;
		if (vt_host_option(p, h, is_default, in) == -1)
			return -1;
	}
	if (vt_next(p, &close) == -1)
		return -1;
	if (n == 0)
		return vt_fail(p, close.line, "%s { } is empty (vtund 3.0 "
		    "refuses an empty block)", in);
	return 0;
}

/* NAME { settings }: a copy of default_host, kept if it has a password. */
static int
vt_host_block(struct vt_parser *p, const struct vtunlex_tok *name)
{
	struct vtunconf *vc = p->vc;
	struct vtunconf_host h = p->def, *nv;

	h.name = name->text;
	h.line = name->line;
	h.passwd = NULL;
	h.passwd_src = (struct vtunconf_src){ 0 };
	if (vt_host_options(p, &h, false, name->text) == -1)
		return -1;
	if (h.passwd == NULL) {
		vtunconf_warn(p->diag, p->path, name->line, "session %s has no "
		    "passwd; vtund ignores it (\"Ignored incomplete session "
		    "definition\")", name->text);
		return 0;
	}
	if (vc->nhosts == VTUNCONF_HOSTS_MAX)
		return vt_fail(p, name->line, "more than %d sessions",
		    VTUNCONF_HOSTS_MAX);
	if (vc->nhosts == p->hosts_cap) {
		size_t cap = p->hosts_cap == 0 ? 16 : p->hosts_cap * 2;

		nv = realloc(vc->hosts, cap * sizeof(*nv));
		if (nv == NULL)
			return vt_oom(p);
		vc->hosts = nv;
		p->hosts_cap = cap;
	}
	vc->hosts[vc->nhosts++] = h;
	return 0;
}

/* One section: options { }, default { } or NAME { }. */
static int
vt_statement(struct vt_parser *p)
{
	struct vtunlex_tok t;
	char d[96];

	if (vt_next(p, &t) == -1)
		return -1;
	/*
	 * vtund's lexer is still in a block: a ';' after a value or after
	 * the '}' of a nested block was missing, and the block above ended
	 * one level too early.
	 */
	if (t.nested && t.kind != T_EOF)
		return vt_fail(p, t.line, "%s cannot start a section here: vtund "
		    "still reads the block above, because a ';' is missing in "
		    "it (after a value, or after the '}' of up { }, down { }, "
		    "srcaddr { } or bindaddr { })", vtunlex_describe(&t, d,
		    sizeof(d)));
	switch (t.kind) {
	case T_KEYWORD:
		if (t.kw == KW_OPTIONS)
			return vt_options_block(p);
		if (t.kw == KW_DEFAULT)
			return vt_host_options(p, &p->def, true, "default");
		return vt_fail(p, t.line, "'%s' cannot start a section: a "
		    "section is options { }, default { } or a session NAME "
		    "{ }, and a session cannot be named after a keyword",
		    t.text);
	case T_HOST:
		return vt_host_block(p, &t);
	case T_BAD:
		return vt_fail(p, t.line, "'%s' is not a section name: a "
		    "session name has letters, digits, '-' and '_' only",
		    t.text);
	default:
		return vt_fail(p, t.line, "%s where a section (options, "
		    "default or a session NAME) should start",
		    vtunlex_describe(&t, d, sizeof(d)));
	}
}

/* vtund's built-in settings (main.c) before any file is read. */
static void
vt_defaults(struct vtunconf *vc, struct vtunconf_host *def)
{
	struct vtunconf_options *o = &vc->opts;

	memset(o, 0, sizeof(*o));
	o->port = -1;
	o->svr_type = -1;
	o->timeout = -1;
	o->syslog = LOG_DAEMON;
	o->ppp = "/usr/sbin/pppd";
	o->ifconfig = "/sbin/ifconfig";
	o->route = "/sbin/route";
	o->firewall = "/sbin/ipchains";
	o->ip = "/sbin/ip";

	memset(def, 0, sizeof(*def));
	def->name = "default";
	def->type = VTUNCONF_TYPE_TTY;
	def->proto = VTUNCONF_PROTO_TCP;
	def->multi = VTUNCONF_MULTI_ALLOW;
	def->timeout = 30;
	def->ka_interval = 30;
	def->ka_maxfail = 4;
	def->persist = VTUNCONF_PERSIST_NO;
}

struct vtunconf *
vtunconf_parse(const char *path, const char *text, size_t len,
    struct vtunconf_diag *diag, char *err, size_t errlen)
{
	struct vt_parser p = {
		.path = path,
		.diag = diag,
	};
	const struct vtunlex_tok *t;
	struct vtunconf *vc;

	if (len > VTUNCONF_FILE_MAX) {
		util_err(err, errlen, "%s: larger than %d bytes; not a "
		    "vtund.conf", path, VTUNCONF_FILE_MAX);
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		util_err(err, errlen, "%s: contains a NUL byte; not a text "
		    "file", path);
		return NULL;
	}
	vc = calloc(1, sizeof(*vc));
	if (vc == NULL || (vc->arena = vtunlex_arena_new()) == NULL ||
	    (vc->path = strdup(path)) == NULL) {
		vtunconf_free(vc);
		util_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	p.vc = vc;
	vtunlex_init(&p.lx, path, text, len, vc->arena, diag, err, errlen);
	vt_defaults(vc, &p.def);
	for (;;) {
		if (vt_peek(&p, &t) == -1)
			goto fail;
		if (t->kind == T_EOF)
			break;
		if (vt_statement(&p) == -1)
			goto fail;
	}
	if (diag->oom) {
		vt_oom(&p);
		goto fail;
	}
	return vc;
fail:
	vtunconf_free(vc);
	return NULL;
}

void
vtunconf_free(struct vtunconf *vc)
{
	if (vc == NULL)
		return;
	free(vc->hosts);
	free(vc->path);
	vtunlex_arena_free(vc->arena);
	free(vc);
}
