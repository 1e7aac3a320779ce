/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund.conf's lexer (vtunlex.c) as its parser, vtunconf.c, sees it; no
 * other file includes this.  Tokens carry their text in the result's
 * arena, and errors and warnings go where the parser's go.
 */
#ifndef TAPLINE_VTUNLEX_H
#define TAPLINE_VTUNLEX_H

#include <stdbool.h>
#include <stddef.h>

#include "vtunconf.h"

/* vtund's keywords (cfg_kwords.h). */
enum vtunlex_kw {
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

/* What a token is. */
enum vtunlex_kind {
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

struct vtunlex_tok {
	enum vtunlex_kind kind;
	int line;
	bool nested;	/* read while the lexer was inside a block */
	enum vtunlex_kw kw;
	long long n1, n2;
	const char *text;	/* as written (arena); never NULL */
};

enum vtunlex_state { S_INITIAL, S_OPTION, S_PARAM };

/* vtund's parser-state stack holds 16. */
#define VTUNLEX_STACK_MAX 16

/* The lexer: where it is in the text, its state, and where its tokens,
 * warnings and error go. */
struct vtunlex {
	const char *path;	/* the file, in messages */
	const char *s;
	size_t len, pos;
	int line;
	enum vtunlex_state state;
	enum vtunlex_state stack[VTUNLEX_STACK_MAX];
	int sp;
	struct vtunconf_arena *arena;
	struct vtunconf_diag *diag;
	char *err;
	size_t errlen;
};

/* Start lexing len bytes of text, the file `path`, at line 1. */
void vtunlex_init(struct vtunlex *lx, const char *path, const char *text,
    size_t len, struct vtunconf_arena *arena, struct vtunconf_diag *diag,
    char *err, size_t errlen);
/* The next token into t; -1 with the error set (see vtunlex_fail). */
int vtunlex_next(struct vtunlex *lx, struct vtunlex_tok *t);

/* Report a fatal error "PATH:LINE: ..." into the lexer's err; always -1. */
int vtunlex_fail(struct vtunlex *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report "PATH: out of memory"; always -1. */
int vtunlex_oom(struct vtunlex *lx);

/* [0-9], as vtund's lexer tells a number. */
bool vtunlex_is_digit(unsigned char c);
/* How a token reads in a message: "'yes'", "the string \"...\"". */
const char *vtunlex_describe(const struct vtunlex_tok *t, char *buf,
    size_t len);
/* "did you mean" for an unknown keyword: a prefix or a near miss. */
void vtunlex_hint(const char *word, char *buf, size_t len);
/* vtund's name of a cipher number ("blowfish128ecb"), or NULL. */
const char *vtunlex_cipher_name(long long cipher);

/* The arena everything of a result lives in; NULL if out of memory. */
struct vtunconf_arena *vtunlex_arena_new(void);
/* size bytes from the arena, aligned for any type; NULL if out of memory. */
void *vtunlex_alloc(struct vtunconf_arena *a, size_t size);
void vtunlex_arena_free(struct vtunconf_arena *a);

#endif
