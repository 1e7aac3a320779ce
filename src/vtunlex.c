/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund.conf's lexer, as vtund 3.0.4's (cfg_file.l) reads the file: its
 * state (INITIAL, OPTION, PARAM) is moved by braces, keywords and ';'
 * alone, and ';' is never handed to the parser: it only ends a keyword's
 * values (vtunconf.c says why that split is kept).  With it, vtund's
 * tables of keywords and value words (cfg_kwords.h), and the arena that
 * every token's text, and so everything the parser keeps, is copied into.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vtunconf.h"
#include "vtunlex.h"

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

#define VTUNLEX_BLOCK_SIZE 16384

struct vtunconf_arena *
vtunlex_arena_new(void)
{
	return calloc(1, sizeof(struct vtunconf_arena));
}

void *
vtunlex_alloc(struct vtunconf_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct vtunconf_block *b = a->head;
	size_t want = (size + align - 1) / align * align;
	void *p;

	if (want == 0)
		want = align;
	if (b == NULL || b->size - b->used < want) {
		size_t bsize = want > VTUNLEX_BLOCK_SIZE ? want :
		    VTUNLEX_BLOCK_SIZE;

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
vtunlex_strndup(struct vtunconf_arena *a, const char *s, size_t len)
{
	char *p = vtunlex_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

void
vtunlex_arena_free(struct vtunconf_arena *a)
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
/* vtund's tables (cfg_kwords.h) */

/* Keywords, compared in full: vtund 3.0 takes no abbreviation. */
static const struct {
	const char *name;
	enum vtunlex_kw kw;
} vtunlex_keywords[] = {
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
} vtunlex_params[] = {
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

const char *
vtunlex_cipher_name(long long cipher)
{
	size_t i;

	/* The cipher names follow "oldblowfish128ecb" in the table. */
	for (i = 0; i < UTIL_ARRAY_LEN(vtunlex_params); i++)
		if (vtunlex_params[i].value == cipher &&
		    (strstr(vtunlex_params[i].name, "blowfish") != NULL ||
		    strncmp(vtunlex_params[i].name, "aes", 3) == 0))
			return vtunlex_params[i].name;
	return NULL;
}

static int
vtunlex_keyword(const char *s)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vtunlex_keywords); i++)
		if (strcmp(s, vtunlex_keywords[i].name) == 0)
			return (int)vtunlex_keywords[i].kw;
	return -1;
}

static bool
vtunlex_param(const char *s, long long *v)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vtunlex_params); i++)
		if (strcmp(s, vtunlex_params[i].name) == 0) {
			*v = vtunlex_params[i].value;
			return true;
		}
	return false;
}

/* ---------------------------------------------------------------- */
/* Lexer (cfg_file.l) */

/* atoi() of a longer number is undefined; we saturate instead. */
#define VTUNLEX_NUM_CAP 1000000000000LL

bool
vtunlex_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
vtunlex_is_alnum(unsigned char c)
{
	return vtunlex_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* {word}: [A-Za-z0-9\-\_+=\!\$\#\%\&\*\^\@\\\~\.]+ */
static bool
vtunlex_is_word(unsigned char c)
{
	return vtunlex_is_alnum(c) ||
	    (c != '\0' && strchr("-_+=!$#%&*^@\\~.", c) != NULL);
}

/* {kword}: [A-Za-z0-9\_\-]+ */
static bool
vtunlex_is_kword(unsigned char c)
{
	return vtunlex_is_alnum(c) || c == '_' || c == '-';
}

/* {fname}: [A-Za-z0-9\_\.\-]+ */
static bool
vtunlex_is_fname(unsigned char c)
{
	return vtunlex_is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Length of the run of bytes at p (at most n) that ok() accepts. */
static size_t
vtunlex_run(const char *p, size_t n, bool (*ok)(unsigned char))
{
	size_t i = 0;

	while (i < n && ok((unsigned char)p[i]))
		i++;
	return i;
}

/* Decimal digits as atoi() would read them, but saturating. */
static long long
vtunlex_atoll(const char *p, size_t n)
{
	long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		v = v * 10 + (p[i] - '0');
		if (v > VTUNLEX_NUM_CAP)
			return VTUNLEX_NUM_CAP;
	}
	return v;
}

int
vtunlex_fail(struct vtunlex *lx, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return util_err(lx->err, lx->errlen, "%s:%d: %s", lx->path, line, msg);
}

int
vtunlex_oom(struct vtunlex *lx)
{
	return util_err(lx->err, lx->errlen, "%s: out of memory", lx->path);
}

/* A token whose text is s[0..n) of the file. */
static int
vtunlex_make(struct vtunlex *lx, struct vtunlex_tok *t, enum vtunlex_kind kind,
    const char *s, size_t n)
{
	t->kind = kind;
	t->line = lx->line;
	t->text = vtunlex_strndup(lx->arena, s, n);
	return t->text != NULL ? 0 : vtunlex_oom(lx);
}

static int
vtunlex_push(struct vtunlex *lx, enum vtunlex_state next)
{

	if (lx->sp == VTUNLEX_STACK_MAX)
		return vtunlex_fail(lx, lx->line, "blocks nested too deeply "
		    "(vtund stops at %d levels)", VTUNLEX_STACK_MAX);
	lx->stack[lx->sp++] = lx->state;
	lx->state = next;
	return 0;
}

static int
vtunlex_pop(struct vtunlex *lx, char c)
{

	if (lx->sp == 0)
		return vtunlex_fail(lx, lx->line, "'%c' without a block or "
		    "value to end", c);
	lx->state = lx->stack[--lx->sp];
	return 0;
}

/* A byte that starts no token: vtund logs it and reads on, and so do we. */
static void
vtunlex_garbage(struct vtunlex *lx, unsigned char c)
{
	char q[8];

	util_escape(&c, 1, q, sizeof(q));
	vtunconf_warn(lx->diag, lx->path, lx->line, "invalid character '%s' "
	    "ignored (vtund ignores it too)", q);
}

/* A STRING: from '"' to the last '"' on the same line, as flex's \".*\". */
static int
vtunlex_string(struct vtunlex *lx, struct vtunlex_tok *t, bool *found)
{
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
		return vtunlex_fail(lx, lx->line, "string longer than %d bytes "
		    "(vtund 3.0 cannot read it)", VTUNCONF_STRING_MAX);
	if (vtunlex_make(lx, t, T_STRING, s + 1, content) == -1)
		return -1;
	if (memchr(s + 1, '"', content) != NULL)
		vtunconf_warn(lx->diag, lx->path, lx->line, "this string runs "
		    "to the last '\"' of its line, as vtund reads it: two "
		    "strings on one line are one (put each command on a line "
		    "of its own)");
	lx->pos += content + 2;
	return 0;
}

/*
 * A value in PARAM state: the longest of {dnum} {num} {word} {wordnm}
 * {path}, the earlier rule on a tie, as flex picks.  Returns the length
 * taken (0: none matched).
 */
static int
vtunlex_value(struct vtunlex *lx, struct vtunlex_tok *t, size_t *taken)
{
	const char *s = lx->s + lx->pos;
	size_t n = lx->len - lx->pos;
	size_t d1, d2 = 0, lw, lwd = 0, ldnum = 0, lwnm = 0, lpath = 0, best;
	long long v;
	char *w;

	d1 = vtunlex_run(s, n, vtunlex_is_digit);
	if (d1 > 0 && d1 < n && s[d1] == ':') {
		d2 = vtunlex_run(s + d1 + 1, n - d1 - 1, vtunlex_is_digit);
		if (d2 > 0)
			ldnum = d1 + 1 + d2;
	}
	lw = vtunlex_run(s, n, vtunlex_is_word);
	if (lw > 0 && lw < n && s[lw] == ':') {
		lwd = vtunlex_run(s + lw + 1, n - lw - 1, vtunlex_is_digit);
		if (lwd > 0)
			lwnm = lw + 1 + lwd;
	}
	while (lpath + 1 < n && s[lpath] == '/' &&
	    vtunlex_is_fname((unsigned char)s[lpath + 1]))
		lpath += 1 + vtunlex_run(s + lpath + 1, n - lpath - 1,
		    vtunlex_is_fname);

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
		return vtunlex_fail(lx, lx->line, "a value longer than %d "
		    "bytes", VTUNCONF_TOKEN_MAX);
	if (vtunlex_make(lx, t, T_WORD, s, best) == -1)
		return -1;
	if (best == ldnum) {
		t->kind = T_DNUM;
		t->n1 = vtunlex_atoll(s, d1);
		t->n2 = vtunlex_atoll(s + d1 + 1, d2);
	} else if (best == d1) {
		t->kind = T_NUM;
		t->n1 = vtunlex_atoll(s, d1);
	} else if (best == lw) {
		if (vtunlex_param(t->text, &v)) {
			t->kind = T_NUM;
			t->n1 = v;
		}
	} else if (best == lwnm) {
		/* "lzo:9": the word from the value table, -1 if not in it. */
		t->kind = T_DNUM;
		w = vtunlex_strndup(lx->arena, s, lw);
		if (w == NULL)
			return vtunlex_oom(lx);
		t->n1 = vtunlex_param(w, &v) ? v : -1;
		t->n2 = vtunlex_atoll(s + lw + 1, lwd);
	} else {
		t->kind = T_PATH;
	}
	return 0;
}

/* A word in INITIAL or OPTION state: a keyword, a section name or K_ERROR. */
static int
vtunlex_name(struct vtunlex *lx, struct vtunlex_tok *t, size_t *taken)
{
	const char *s = lx->s + lx->pos;
	size_t n = lx->len - lx->pos;
	size_t lw = vtunlex_run(s, n, vtunlex_is_word);
	size_t lk = lx->state == S_INITIAL ?
	    vtunlex_run(s, n, vtunlex_is_kword) : 0;
	int kw;

	*taken = lw;
	if (lw == 0)
		return 0;
	if (lw > VTUNCONF_TOKEN_MAX)
		return vtunlex_fail(lx, lx->line, "a name longer than %d bytes",
		    VTUNCONF_TOKEN_MAX);
	if (vtunlex_make(lx, t, T_BAD, s, lw) == -1)
		return -1;
	kw = vtunlex_keyword(t->text);
	if (lx->state == S_INITIAL) {
		/* {kword} wins a tie with {word}; a longer {word} is K_ERROR. */
		if (lk == lw)
			t->kind = kw >= 0 ? T_KEYWORD : T_HOST;
	} else if (kw >= 0) {
		/* A keyword in a block: its values follow, up to ';'. */
		t->kind = T_KEYWORD;
		if (vtunlex_push(lx, S_PARAM) == -1)
			return -1;
	}
	if (t->kind == T_KEYWORD)
		t->kw = (enum vtunlex_kw)kw;
	return 0;
}

void
vtunlex_init(struct vtunlex *lx, const char *path, const char *text,
    size_t len, struct vtunconf_arena *arena, struct vtunconf_diag *diag,
    char *err, size_t errlen)
{
	*lx = (struct vtunlex){ .path = path, .s = text, .len = len,
		.line = 1, .state = S_INITIAL, .arena = arena, .diag = diag,
		.err = err, .errlen = errlen };
}

/* The next token, moving the lexer state as vtund's lexer does. */
int
vtunlex_next(struct vtunlex *lx, struct vtunlex_tok *t)
{

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
			if ((c == '{' ? vtunlex_push(lx, S_OPTION) :
			    vtunlex_pop(lx, '}')) == -1 || vtunlex_make(lx, t,
			    c == '{' ? T_LBRACE : T_RBRACE, lx->s + lx->pos,
			    1) == -1)
				return -1;
			lx->pos++;
			return 0;
		}
		if (lx->state == S_PARAM) {
			if (c == ';') {
				lx->pos++;
				if (vtunlex_pop(lx, ';') == -1)
					return -1;
				continue;
			}
			if (c == '"') {
				if (vtunlex_string(lx, t, &found) == -1)
					return -1;
				if (found)
					return 0;
			} else {
				if (vtunlex_value(lx, t, &taken) == -1)
					return -1;
				if (taken > 0) {
					lx->pos += taken;
					return 0;
				}
			}
		} else {
			if (vtunlex_name(lx, t, &taken) == -1)
				return -1;
			if (taken > 0) {
				lx->pos += taken;
				return 0;
			}
		}
		vtunlex_garbage(lx, c);
		lx->pos++;
	}
	t->kind = T_EOF;
	t->line = lx->line;
	t->text = "";
	return 0;
}

const char *
vtunlex_describe(const struct vtunlex_tok *t, char *buf, size_t len)
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

/* "did you mean" for an unknown keyword: a prefix or a near miss. */
void
vtunlex_hint(const char *word, char *buf, size_t len)
{
	size_t i, n = strlen(word);

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_LEN(vtunlex_keywords); i++) {
		const char *k = vtunlex_keywords[i].name;

		if (n >= 3 && n < strlen(k) && strncmp(word, k, n) == 0) {
			snprintf(buf, len, "; did you mean '%s'? (vtund 3.0 "
			    "reads keywords in full, not abbreviated)", k);
			return;
		}
	}
	for (i = 0; i < UTIL_ARRAY_LEN(vtunlex_keywords); i++) {
		const char *k = vtunlex_keywords[i].name;

		if (n >= 3 && util_edit_distance(word, k) <= 2) {
			snprintf(buf, len, "; did you mean '%s'?", k);
			return;
		}
	}
}