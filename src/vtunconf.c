/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund.conf, read as vtund 3.0.4 reads it (vtunconf.h says which quirks
 * that keeps).  Two parts, as in vtund: a lexer whose state (INITIAL,
 * OPTION, PARAM) is moved by braces, keywords and ';' alone, and a parser
 * for vtund's grammar on top of its tokens.  vtund's lexer never hands ';'
 * to its parser: ';' only ends a keyword's values.  Keeping that split is
 * what makes a missing ';' fail here exactly where vtund fails.
 *
 * Every allocation of a result goes into one arena that vtunconf_free
 * releases; the parser itself keeps one token of look-ahead and nothing
 * else, so its memory is bounded by the size of the file.
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

/* ---------------------------------------------------------------- */
/* Arena */

/* One block of the arena; blocks are chained and freed together. */
struct vtunconf_block {
	struct vtunconf_block *next;
	size_t used, size;
	max_align_t data[];
};

struct vtunconf_arena {
	struct vtunconf_block *head;
};

#define VT_BLOCK_SIZE 16384

/* size bytes from the arena, aligned for any type; NULL if out of memory. */
static void *
vt_alloc(struct vtunconf_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct vtunconf_block *b = a->head;
	size_t want = (size + align - 1) / align * align;
	void *p;

	if (want == 0)
		want = align;
	if (b == NULL || b->size - b->used < want) {
		size_t bsize = want > VT_BLOCK_SIZE ? want : VT_BLOCK_SIZE;

		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			return NULL;
		b->size = bsize;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += want;
	return p;
}

/* A NUL-terminated copy of len bytes in the arena. */
static char *
vt_strndup(struct vtunconf_arena *a, const char *s, size_t len)
{
	char *p = vt_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static void
vt_arena_free(struct vtunconf_arena *a)
{
	struct vtunconf_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

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
/* vtund's tables (cfg_kwords.h) */

enum vt_kw {
	KW_OPTIONS,
	KW_DEFAULT,
	KW_UP,
	KW_DOWN,
	KW_PORT,
	KW_SRCADDR,
	KW_ADDR,
	KW_IFACE,
	KW_BINDADDR,
	KW_PERSIST,
	KW_MULTI,
	KW_TIMEOUT,
	KW_PASSWD,
	KW_PROGRAM,
	KW_SPEED,
	KW_COMPRESS,
	KW_ENCRYPT,
	KW_TYPE,
	KW_PROTO,
	KW_NAT_HACK,
	KW_DEVICE,
	KW_PPP,
	KW_IFCONFIG,
	KW_FIREWALL,
	KW_ROUTE,
	KW_IP,
	KW_KEEPALIVE,
	KW_STAT,
	KW_SYSLOG,
	KW_IPV4,
	KW_IPV6,
};

/* Keywords, compared in full: vtund 3.0 takes no abbreviation. */
static const struct {
	const char *name;
	enum vt_kw kw;
} vt_keywords[] = {
	{ "options", KW_OPTIONS },	{ "default", KW_DEFAULT },
	{ "up", KW_UP },		{ "down", KW_DOWN },
	{ "port", KW_PORT },		{ "srcaddr", KW_SRCADDR },
	{ "addr", KW_ADDR },		{ "iface", KW_IFACE },
	{ "bindaddr", KW_BINDADDR },	{ "persist", KW_PERSIST },
	{ "multi", KW_MULTI },		{ "timeout", KW_TIMEOUT },
	{ "passwd", KW_PASSWD },	{ "password", KW_PASSWD },
	{ "program", KW_PROGRAM },	{ "speed", KW_SPEED },
	{ "compress", KW_COMPRESS },	{ "encrypt", KW_ENCRYPT },
	{ "type", KW_TYPE },		{ "proto", KW_PROTO },
	{ "nat_hack", KW_NAT_HACK },	{ "delay_udp", KW_NAT_HACK },
	{ "device", KW_DEVICE },	{ "ppp", KW_PPP },
	{ "ifconfig", KW_IFCONFIG },	{ "ifcfg", KW_IFCONFIG },
	{ "firewall", KW_FIREWALL },	{ "route", KW_ROUTE },
	{ "ip", KW_IP },		{ "keepalive", KW_KEEPALIVE },
	{ "stat", KW_STAT },		{ "syslog", KW_SYSLOG },
	/* Debian's vtund 3.0.4 also knows these two, in options. */
	{ "ipv4", KW_IPV4 },		{ "ipv6", KW_IPV6 },
};

/* Words that stand for numbers wherever a value is read. */
static const struct {
	const char *name;
	long long value;
} vt_params[] = {
	{ "yes", 1 },		{ "no", 0 },
	{ "allow", 1 },		{ "deny", 0 },
	{ "enable", 1 },	{ "disable", 0 },
	{ "tty", VTUNCONF_TYPE_TTY },	{ "pipe", VTUNCONF_TYPE_PIPE },
	{ "ether", VTUNCONF_TYPE_ETHER }, { "tun", VTUNCONF_TYPE_TUN },
	{ "tcp", VTUNCONF_PROTO_TCP },	{ "udp", VTUNCONF_PROTO_UDP },
	{ "client", 0x4000 },	{ "server", 0x8000 },
	{ "lzo", 2 },		{ "zlib", 1 },
	{ "wait", 1 },		{ "killold", 2 },
	{ "inetd", 1 },		{ "stand", 0 },
	{ "keep", 2 },		{ "oldblowfish128ecb", 999 },
	{ "blowfish128ecb", 1 },	{ "blowfish128cbc", 2 },
	{ "blowfish128cfb", 3 },	{ "blowfish128ofb", 4 },
	{ "blowfish256ecb", 5 },	{ "blowfish256cbc", 6 },
	{ "blowfish256cfb", 7 },	{ "blowfish256ofb", 8 },
	{ "aes128ecb", 9 },	{ "aes128cbc", 10 },
	{ "aes128cfb", 11 },	{ "aes128ofb", 12 },
	{ "aes256ecb", 13 },	{ "aes256cbc", 14 },
	{ "aes256cfb", 15 },	{ "aes256ofb", 16 },
};

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
	size_t i;

	/* The cipher names follow "oldblowfish128ecb" in the table. */
	for (i = 0; i < UTIL_ARRAY_LEN(vt_params); i++)
		if (vt_params[i].value == cipher &&
		    (strstr(vt_params[i].name, "blowfish") != NULL ||
		    strncmp(vt_params[i].name, "aes", 3) == 0))
			return vt_params[i].name;
	return NULL;
}

static int
vt_keyword(const char *s)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vt_keywords); i++)
		if (strcmp(s, vt_keywords[i].name) == 0)
			return (int)vt_keywords[i].kw;
	return -1;
}

static bool
vt_param(const char *s, long long *v)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vt_params); i++)
		if (strcmp(s, vt_params[i].name) == 0) {
			*v = vt_params[i].value;
			return true;
		}
	return false;
}

/* ---------------------------------------------------------------- */
/* Lexer (cfg_file.l) */

enum vt_kind {
	T_EOF,
	T_LBRACE,
	T_RBRACE,
	T_KEYWORD,	/* kw */
	T_HOST,		/* a section name that is no keyword */
	T_BAD,		/* vtund's K_ERROR: a word that is no keyword */
	T_STRING,	/* text: between the quotes */
	T_NUM,		/* n1 */
	T_DNUM,		/* n1:n2 */
	T_WORD,
	T_PATH,
};

struct vt_tok {
	enum vt_kind kind;
	int line;
	bool nested;	/* read while the lexer was inside a block */
	enum vt_kw kw;
	long long n1, n2;
	const char *text;	/* as written (arena); never NULL */
};

enum vt_state { S_INITIAL, S_OPTION, S_PARAM };

/* vtund's parser-state stack holds 16. */
#define VT_STACK_MAX 16
/* atoi() of a longer number is undefined; we saturate instead. */
#define VT_NUM_CAP 1000000000000LL

struct vt_lexer {
	const char *s;
	size_t len, pos;
	int line;
	enum vt_state state;
	enum vt_state stack[VT_STACK_MAX];
	int sp;
};

/* The parser: the lexer, one token of look-ahead and the result. */
struct vt_parser {
	const char *path;
	struct vt_lexer lx;
	struct vt_tok ahead;
	bool have_ahead;
	struct vtunconf *vc;
	size_t hosts_cap;
	struct vtunconf_host def;	/* vtund's default_host */
	struct vtunconf_diag *diag;
	char *err;
	size_t errlen;
};

static bool
vt_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
vt_is_alnum(unsigned char c)
{
	return vt_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* {word}: [A-Za-z0-9\-\_+=\!\$\#\%\&\*\^\@\\\~\.]+ */
static bool
vt_is_word(unsigned char c)
{
	return vt_is_alnum(c) || (c != '\0' && strchr("-_+=!$#%&*^@\\~.", c)
	    != NULL);
}

/* {kword}: [A-Za-z0-9\_\-]+ */
static bool
vt_is_kword(unsigned char c)
{
	return vt_is_alnum(c) || c == '_' || c == '-';
}

/* {fname}: [A-Za-z0-9\_\.\-]+ */
static bool
vt_is_fname(unsigned char c)
{
	return vt_is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Length of the run of bytes at p (at most n) that ok() accepts. */
static size_t
vt_run(const char *p, size_t n, bool (*ok)(unsigned char))
{
	size_t i = 0;

	while (i < n && ok((unsigned char)p[i]))
		i++;
	return i;
}

/* Decimal digits as atoi() would read them, but saturating. */
static long long
vt_atoll(const char *p, size_t n)
{
	long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		v = v * 10 + (p[i] - '0');
		if (v > VT_NUM_CAP)
			return VT_NUM_CAP;
	}
	return v;
}

/* Report a fatal error at line; always -1. */
static int
vt_fail(struct vt_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
vt_fail(struct vt_parser *p, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return util_err(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
}

static int
vt_oom(struct vt_parser *p)
{
	return util_err(p->err, p->errlen, "%s: out of memory", p->path);
}

/* A token whose text is s[0..n) of the file. */
static int
vt_make(struct vt_parser *p, struct vt_tok *t, enum vt_kind kind,
    const char *s, size_t n)
{
	t->kind = kind;
	t->line = p->lx.line;
	t->text = vt_strndup(p->vc->arena, s, n);
	return t->text != NULL ? 0 : vt_oom(p);
}

static int
vt_push(struct vt_parser *p, enum vt_state next)
{
	struct vt_lexer *lx = &p->lx;

	if (lx->sp == VT_STACK_MAX)
		return vt_fail(p, lx->line, "blocks nested too deeply (vtund "
		    "stops at %d levels)", VT_STACK_MAX);
	lx->stack[lx->sp++] = lx->state;
	lx->state = next;
	return 0;
}

static int
vt_pop(struct vt_parser *p, char c)
{
	struct vt_lexer *lx = &p->lx;

	if (lx->sp == 0)
		return vt_fail(p, lx->line, "'%c' without a block or value to "
		    "end", c);
	lx->state = lx->stack[--lx->sp];
	return 0;
}

/* A byte that starts no token: vtund logs it and reads on, and so do we. */
static void
vt_garbage(struct vt_parser *p, unsigned char c)
{
	char q[8];

	util_escape(&c, 1, q, sizeof(q));
	vtunconf_warn(p->diag, p->path, p->lx.line, "invalid character '%s' "
	    "ignored (vtund ignores it too)", q);
}

/* A STRING: from '"' to the last '"' on the same line, as flex's \".*\". */
static int
vt_lex_string(struct vt_parser *p, struct vt_tok *t, bool *found)
{
	struct vt_lexer *lx = &p->lx;
	const char *s = lx->s + lx->pos, *q = NULL;
	size_t n = lx->len - lx->pos, i, content;

	*found = false;
	for (i = 1; i < n && s[i] != '\n'; i++)
		if (s[i] == '"')
			q = s + i;
	if (q == NULL)
		return 0;
	*found = true;
	content = (size_t)(q - s) - 1;
	if (content > VTUNCONF_STRING_MAX)
		return vt_fail(p, lx->line, "string longer than %d bytes "
		    "(vtund 3.0 cannot read it)", VTUNCONF_STRING_MAX);
	if (vt_make(p, t, T_STRING, s + 1, content) == -1)
		return -1;
	if (memchr(s + 1, '"', content) != NULL)
		vtunconf_warn(p->diag, p->path, lx->line, "this string runs to "
		    "the last '\"' of its line, as vtund reads it: two strings "
		    "on one line are one (put each command on a line of its "
		    "own)");
	lx->pos += content + 2;
	return 0;
}

/*
 * A value in PARAM state: the longest of {dnum} {num} {word} {wordnm}
 * {path}, the earlier rule on a tie, as flex picks.  Returns the length
 * taken (0: none matched).
 */
static int
vt_lex_value(struct vt_parser *p, struct vt_tok *t, size_t *taken)
{
	struct vt_lexer *lx = &p->lx;
	const char *s = lx->s + lx->pos;
	size_t n = lx->len - lx->pos;
	size_t d1, d2 = 0, lw, lwd = 0, ldnum = 0, lwnm = 0, lpath = 0, best;
	long long v;
	char *w;

	d1 = vt_run(s, n, vt_is_digit);
	if (d1 > 0 && d1 < n && s[d1] == ':') {
		d2 = vt_run(s + d1 + 1, n - d1 - 1, vt_is_digit);
		if (d2 > 0)
			ldnum = d1 + 1 + d2;
	}
	lw = vt_run(s, n, vt_is_word);
	if (lw > 0 && lw < n && s[lw] == ':') {
		lwd = vt_run(s + lw + 1, n - lw - 1, vt_is_digit);
		if (lwd > 0)
			lwnm = lw + 1 + lwd;
	}
	while (lpath + 1 < n && s[lpath] == '/' &&
	    vt_is_fname((unsigned char)s[lpath + 1]))
		lpath += 1 + vt_run(s + lpath + 1, n - lpath - 1, vt_is_fname);

	best = ldnum;
	if (d1 > best)
		best = d1;
	if (lw > best)
		best = lw;
	if (lwnm > best)
		best = lwnm;
	if (lpath > best)
		best = lpath;
	*taken = best;
	if (best == 0)
		return 0;
	if (best > VTUNCONF_TOKEN_MAX)
		return vt_fail(p, lx->line, "a value longer than %d bytes",
		    VTUNCONF_TOKEN_MAX);
	if (vt_make(p, t, T_WORD, s, best) == -1)
		return -1;
	if (best == ldnum) {
		t->kind = T_DNUM;
		t->n1 = vt_atoll(s, d1);
		t->n2 = vt_atoll(s + d1 + 1, d2);
	} else if (best == d1) {
		t->kind = T_NUM;
		t->n1 = vt_atoll(s, d1);
	} else if (best == lw) {
		if (vt_param(t->text, &v)) {
			t->kind = T_NUM;
			t->n1 = v;
		}
	} else if (best == lwnm) {
		/* "lzo:9": the word from the value table, -1 if not in it. */
		t->kind = T_DNUM;
		w = vt_strndup(p->vc->arena, s, lw);
		if (w == NULL)
			return vt_oom(p);
		t->n1 = vt_param(w, &v) ? v : -1;
		t->n2 = vt_atoll(s + lw + 1, lwd);
	} else {
		t->kind = T_PATH;
	}
	return 0;
}

/* A word in INITIAL or OPTION state: a keyword, a section name or K_ERROR. */
static int
vt_lex_name(struct vt_parser *p, struct vt_tok *t, size_t *taken)
{
	struct vt_lexer *lx = &p->lx;
	const char *s = lx->s + lx->pos;
	size_t n = lx->len - lx->pos;
	size_t lw = vt_run(s, n, vt_is_word);
	size_t lk = lx->state == S_INITIAL ? vt_run(s, n, vt_is_kword) : 0;
	int kw;

	*taken = lw;
	if (lw == 0)
		return 0;
	if (lw > VTUNCONF_TOKEN_MAX)
		return vt_fail(p, lx->line, "a name longer than %d bytes",
		    VTUNCONF_TOKEN_MAX);
	if (vt_make(p, t, T_BAD, s, lw) == -1)
		return -1;
	kw = vt_keyword(t->text);
	if (lx->state == S_INITIAL) {
		/* {kword} wins a tie with {word}; a longer {word} is K_ERROR. */
		if (lk == lw)
			t->kind = kw >= 0 ? T_KEYWORD : T_HOST;
	} else if (kw >= 0) {
		/* A keyword in a block: its values follow, up to ';'. */
		t->kind = T_KEYWORD;
		if (vt_push(p, S_PARAM) == -1)
			return -1;
	}
	if (t->kind == T_KEYWORD)
		t->kw = (enum vt_kw)kw;
	return 0;
}

/* The next token, moving the lexer state as vtund's lexer does. */
static int
vt_lex(struct vt_parser *p, struct vt_tok *t)
{
	struct vt_lexer *lx = &p->lx;

	memset(t, 0, sizeof(*t));
	t->nested = lx->state != S_INITIAL;
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];
		size_t taken = 0;
		bool found;

		if (c == ' ' || c == '\t') {
			lx->pos++;
			continue;
		}
		if (c == '\n') {
			lx->line++;
			lx->pos++;
			continue;
		}
		if (c == '#' && lx->state != S_PARAM) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		if (c == '{' || c == '}') {
			if ((c == '{' ? vt_push(p, S_OPTION) : vt_pop(p, '}')) ==
			    -1 || vt_make(p, t, c == '{' ? T_LBRACE : T_RBRACE,
			    lx->s + lx->pos, 1) == -1)
				return -1;
			lx->pos++;
			return 0;
		}
		if (lx->state == S_PARAM) {
			if (c == ';') {
				lx->pos++;
				if (vt_pop(p, ';') == -1)
					return -1;
				continue;
			}
			if (c == '"') {
				if (vt_lex_string(p, t, &found) == -1)
					return -1;
				if (found)
					return 0;
			} else {
				if (vt_lex_value(p, t, &taken) == -1)
					return -1;
				if (taken > 0) {
					lx->pos += taken;
					return 0;
				}
			}
		} else {
			if (vt_lex_name(p, t, &taken) == -1)
				return -1;
			if (taken > 0) {
				lx->pos += taken;
				return 0;
			}
		}
		vt_garbage(p, c);
		lx->pos++;
	}
	t->kind = T_EOF;
	t->line = lx->line;
	t->text = "";
	return 0;
}

/* ---------------------------------------------------------------- */
/* Parser (cfg_file.y) */

static int
vt_peek(struct vt_parser *p, const struct vt_tok **t)
{
	if (!p->have_ahead) {
		if (vt_lex(p, &p->ahead) == -1)
			return -1;
		p->have_ahead = true;
	}
	*t = &p->ahead;
	return 0;
}

static int
vt_next(struct vt_parser *p, struct vt_tok *t)
{
	const struct vt_tok *a;

	if (vt_peek(p, &a) == -1)
		return -1;
	*t = *a;
	p->have_ahead = false;
	return 0;
}

/* How a token reads in a message: "'yes'", "the string \"...\"". */
static const char *
vt_describe(const struct vt_tok *t, char *buf, size_t len)
{
	char q[64];

	util_escape(t->text, strlen(t->text), q, sizeof(q));
	switch (t->kind) {
	case T_EOF:
		return "the end of the file";
	case T_STRING:
		snprintf(buf, len, "the string \"%s\"", q);
		break;
	case T_KEYWORD:
		snprintf(buf, len, "the keyword '%s'", q);
		break;
	case T_PATH:
		snprintf(buf, len, "the path %s", q);
		break;
	default:
		snprintf(buf, len, "'%s'", q);
		break;
	}
	return buf;
}

/* Which token kinds a value may be, for expect and its message. */
#define V_NUM (1u << T_NUM)
#define V_DNUM (1u << T_DNUM)
#define V_WORD (1u << T_WORD)
#define V_STRING (1u << T_STRING)
#define V_PATH (1u << T_PATH)

/* The value of keyword kw: one token of the kinds in mask, or an error. */
static int
vt_value(struct vt_parser *p, const struct vt_tok *kw, unsigned mask,
    const char *what, struct vt_tok *t)
{
	char d[96];

	if (vt_next(p, t) == -1)
		return -1;
	if ((1u << t->kind) & mask)
		return 0;
	/* "device tun": a word of vtund's value table is no word to vtund. */
	return vt_fail(p, t->line, "%s: expected %s, got %s%s", kw->text, what,
	    vt_describe(t, d, sizeof(d)), t->kind == T_NUM &&
	    !vt_is_digit((unsigned char)t->text[0]) && (mask & V_WORD) ?
	    " (one of vtund's value words, which it does not take here)" : "");
}

static int
vt_expect(struct vt_parser *p, enum vt_kind kind, const char *after)
{
	struct vt_tok t;
	char d[96];

	if (vt_next(p, &t) == -1)
		return -1;
	if (t.kind == kind)
		return 0;
	return vt_fail(p, t.line, "expected '%c' after %s, got %s",
	    kind == T_LBRACE ? '{' : '}', after, vt_describe(&t, d, sizeof(d)));
}

/* Where the value of a setting came from. */
static struct vtunconf_src
vt_src(const struct vt_tok *t)
{
	return (struct vtunconf_src){ .line = t->line, .text = t->text };
}

/* "did you mean" for an unknown keyword: a prefix or a near miss. */
static void
vt_hint(const char *word, char *buf, size_t len)
{
	size_t i, n = strlen(word);

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_LEN(vt_keywords); i++) {
		const char *k = vt_keywords[i].name;

		if (n >= 3 && n < strlen(k) && strncmp(word, k, n) == 0) {
			snprintf(buf, len, "; did you mean '%s'? (vtund 3.0 "
			    "reads keywords in full, not abbreviated)", k);
			return;
		}
	}
	for (i = 0; i < UTIL_ARRAY_LEN(vt_keywords); i++) {
		const char *k = vt_keywords[i].name;

		if (n >= 3 && util_edit_distance(word, k) <= 2) {
			snprintf(buf, len, "; did you mean '%s'?", k);
			return;
		}
	}
}

/*
 * A token where a keyword should start the next setting.  A value there
 * most often means a ';' was forgotten: vtund's lexer then reads the next
 * keyword as one more value.
 */
static int
vt_not_keyword(struct vt_parser *p, const struct vt_tok *t, const char *in)
{
	char d[96], h[128];

	if (t->kind == T_BAD) {
		vt_hint(t->text, h, sizeof(h));
		return vt_fail(p, t->line, "unknown keyword '%s' in %s%s",
		    t->text, in, h);
	}
	if (t->kind == T_EOF)
		return vt_fail(p, t->line, "the file ends inside %s (a '}' is "
		    "missing)", in);
	return vt_fail(p, t->line, "%s where a keyword should start the next "
	    "setting of %s (a ';' missing before it, or a value in two "
	    "words?)", vt_describe(t, d, sizeof(d)), in);
}

/* options: the first port, type, timeout and iface count, as in vtund. */
static void
vt_first(struct vt_parser *p, long long *field, struct vtunconf_src *src,
    const struct vt_tok *kw, const struct vt_tok *v)
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
	struct vt_tok t, v;
	char d[96];

	if (vt_expect(p, T_LBRACE, "bindaddr") == -1 || vt_next(p, &t) == -1)
		return -1;
	if (t.kind != T_KEYWORD || (t.kw != KW_ADDR && t.kw != KW_IFACE))
		return vt_fail(p, t.line, "bindaddr { } takes one 'addr NAME;' "
		    "or 'iface NAME;', got %s", vt_describe(&t, d, sizeof(d)));
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
vt_syslog(struct vt_parser *p, const struct vt_tok *kw)
{
	struct vtunconf_options *o = &p->vc->opts;
	struct vt_tok v;
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
	struct vt_tok kw, v;
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
	const struct vt_tok *t;
	struct vt_tok close;
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
	const struct vt_tok *a;
	struct vt_tok kw, v;
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
vt_commands(struct vt_parser *p, const struct vt_tok *kw,
    const struct vtunconf_cmds **out)
{
	struct vtunconf_cmd tmp[VTUNCONF_CMDS_MAX];
	struct vtunconf_cmds *l;
	const struct vt_tok *t;
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
	l = vt_alloc(p->vc->arena, sizeof(*l));
	if (l == NULL || (n > 0 && (l->v = vt_alloc(p->vc->arena,
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
    const struct vt_tok *kw)
{
	const struct vt_tok *a;
	struct vt_tok t, v;
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
			    vt_describe(&t, d, sizeof(d)));
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
vt_meaningless(struct vt_parser *p, const struct vt_tok *kw,
    const struct vt_tok *v, const char *allowed)
{
	vtunconf_warn(p->diag, p->path, v->line, "%s %s means nothing to "
	    "vtund (use %s); ignored", kw->text, v->text, allowed);
}

/* compress N, compress METHOD:LEVEL. */
static void
vt_compress(struct vt_parser *p, struct vtunconf_host *h,
    const struct vt_tok *kw, const struct vt_tok *v)
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
	    vt_is_digit((unsigned char)v->text[0])))
		vtunconf_warn(p->diag, p->path, v->line, "%s %s: zlib levels "
		    "are 1..9 (vtund would fail to start the session); "
		    "compression stays off", kw->text, v->text);
	else
		vt_meaningless(p, kw, v, "no, yes, zlib:1..9 or lzo:1..9");
}

/* A setting that takes one of a few numbers (multi, persist, type ...). */
static bool
vt_one_of(struct vt_parser *p, const struct vt_tok *kw,
    const struct vt_tok *v, const long long *ok, size_t nok,
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
    const struct vt_tok *kw, const struct vt_tok *v)
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
    const struct vt_tok *kw, const struct vt_tok *v)
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
    const struct vt_tok *kw)
{
	static const long long multi[] = { 0, 1, 2 }, persist[] = { 0, 1, 2 };
	static const long long type[] = { VTUNCONF_TYPE_TTY,
		VTUNCONF_TYPE_PIPE, VTUNCONF_TYPE_ETHER, VTUNCONF_TYPE_TUN };
	static const long long proto[] = { VTUNCONF_PROTO_TCP,
		VTUNCONF_PROTO_UDP };
	unsigned mask = V_NUM;
	struct vt_tok v;

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
	struct vt_tok kw, v;

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
	const struct vt_tok *t;
	struct vt_tok close;
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
vt_host_block(struct vt_parser *p, const struct vt_tok *name)
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
	struct vt_tok t;
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
		    "srcaddr { } or bindaddr { })", vt_describe(&t, d,
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
		    vt_describe(&t, d, sizeof(d)));
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
		.err = err,
		.errlen = errlen,
	};
	const struct vt_tok *t;
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
	if (vc == NULL || (vc->arena = calloc(1, sizeof(*vc->arena))) == NULL ||
	    (vc->path = strdup(path)) == NULL) {
		vtunconf_free(vc);
		util_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	p.vc = vc;
	p.lx = (struct vt_lexer){ .s = text, .len = len, .line = 1,
		.state = S_INITIAL };
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
	vt_arena_free(vc->arena);
	free(vc);
}
