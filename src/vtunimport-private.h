/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inside of `tapline import-vtund`, shared by its two files:
 * vtunimport.c (each session's settings, the options and default groups,
 * the output) and vtunimport-cmd.c (vtund's up and down commands as
 * tapline command lines).  Nothing else includes it; the rest of the
 * program sees the importer only through vtunimport.h.
 */
#ifndef TAPLINE_VTUNIMPORT_PRIVATE_H
#define TAPLINE_VTUNIMPORT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "vtunconf.h"
#include "vtunimport.h"

/* The settings a session may get, in tapline.conf(5)'s order. */
enum imp_key {
	IK_KEY,
	IK_PROTO,
	IK_TYPE,
	IK_KEEPALIVE,
	IK_TIMEOUT,
	IK_PERSIST,
	IK_COMPRESS,
	IK_DEVICE,
	IK_SPEED,
	IK_MULTI,
	IK_UP,
	IK_DOWN,
	IK_COUNT
};

/* A value in libconfig syntax (NULL: tapline's built-in) and a comment. */
struct imp_val {
	char *value;
	char *comment;
};

/* A comment line of a session, from the vtund line it is about. */
struct imp_note {
	int line;
	char *text;
};

/* One session of the vtund file: imported, or why not. */
struct imp_entry {
	const struct vtunconf_host *h;
	bool imported;
	char *why;
	struct imp_val v[IK_COUNT];
	struct imp_note *notes;
	size_t nnotes;
};

/* One import: its input, options, warnings and result. */
struct imp_ctx {
	const struct vtunconf *vc;
	const struct vtunimport_opts *o;
	struct vtunconf_diag *diag;
	struct vtunimport_result *res;
	bool oom;
};

/* A growing string. */
struct imp_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* vtunimport.c: strings, comments and warnings */
void imp_putc(struct imp_buf *b, char c);
void imp_puts(struct imp_buf *b, const char *s);
char *imp_take(struct imp_ctx *ctx, struct imp_buf *b);
char *imp_quote(struct imp_ctx *ctx, const char *s);
void imp_lost(struct imp_ctx *ctx, struct imp_entry *e, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* vtunimport-cmd.c: up and down commands */
char *imp_commands(struct imp_ctx *ctx, struct imp_entry *e,
    const char *list, const struct vtunconf_cmds *cmds);

#endif
