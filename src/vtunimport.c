/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vtund.conf, as vtunconf.c read it, written out as tapline.conf.
 *
 * Each session vtund would run is resolved on its own (vtund's default
 * blocks apply to the sessions after them only, so the values may differ
 * from session to session), then turned into tapline settings: a value in
 * libconfig syntax and a comment where the meaning shifted.  A setting
 * that every imported session has with the same value goes into tapline's
 * `default` group; the others stay in their session, written only where
 * they differ from tapline's built-in default.
 *
 * up/down commands are translated in vtunimport-cmd.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dev.h"
#include "log.h"
#include "util.h"
#include "vtunimport-private.h"

static const char *const imp_keys[IK_COUNT] = {
	"key", "proto", "type", "keepalive", "timeout", "persist",
	"compress", "device", "speed", "multi", "up", "down",
};

/* Column of the comment after a setting. */
#define IMP_COMMENT_COL 40
/* Width that the output's comment paragraphs wrap at. */
#define IMP_WRAP 78

void
imp_putc(struct imp_buf *b, char c)
{
	char *np;

	if (b->oom)
		return;
	if (b->len + 2 > b->cap) {
		size_t cap = b->cap == 0 ? 128 : b->cap * 2;

		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void
imp_puts(struct imp_buf *b, const char *s)
{
	while (*s != '\0')
		imp_putc(b, *s++);
}

/* The finished string (the caller frees it), or NULL if out of memory. */
char *
imp_take(struct imp_ctx *ctx, struct imp_buf *b)
{
	if (b->oom || b->p == NULL) {
		if (b->oom)
			ctx->oom = true;
		free(b->p);
		return b->oom ? NULL : strdup("");
	}
	return b->p;
}

/* asprintf that marks the context when out of memory. */
static char *
imp_fmt(struct imp_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
imp_fmt(struct imp_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1) {
		ctx->oom = true;
		return NULL;
	}
	return s;
}

/* s as a libconfig string literal: "...", with \" \\ and \xNN escapes. */
char *
imp_quote(struct imp_ctx *ctx, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	struct imp_buf b = { 0 };

	imp_putc(&b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			imp_putc(&b, '\\');
			imp_putc(&b, (char)c);
		} else if (c == '\t') {
			imp_puts(&b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			imp_puts(&b, "\\x");
			imp_putc(&b, hex[c >> 4]);
			imp_putc(&b, hex[c & 0xf]);
		} else {
			imp_putc(&b, (char)c);
		}
	}
	imp_putc(&b, '"');
	return imp_take(ctx, &b);
}

/* A comment line at the top of the session's group, about vtund's line. */
static void
imp_note(struct imp_ctx *ctx, struct imp_entry *e, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
imp_note(struct imp_ctx *ctx, struct imp_entry *e, int line,
    const char *fmt, ...)
{
	struct imp_note *nv;
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1) {
		ctx->oom = true;
		return;
	}
	nv = realloc(e->notes, (e->nnotes + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(s);
		ctx->oom = true;
		return;
	}
	nv[e->nnotes++] = (struct imp_note){ line, s };
	e->notes = nv;
}

/*
 * Something of the session that tapline does not carry over, or carries
 * with another meaning: a warning "FILE:LINE: SESSION: msg" and a note in
 * the output.
 */
void
imp_lost(struct imp_ctx *ctx, struct imp_entry *e, int line,
    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vtunconf_warn(ctx->diag, ctx->vc->path, line, "%s: %s", e->h->name,
	    msg);
	if (line <= 0)
		line = e->h->line;
	imp_note(ctx, e, line, "vtund line %d: %s", line, msg);
}

/* The same for options, which have no session and no notes. */
static void
imp_lost_option(struct imp_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
imp_lost_option(struct imp_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vtunconf_warn(ctx->diag, ctx->vc->path, line, "options: %s", msg);
}

/* Set a session value (owned from now on) with an optional comment. */
static void
imp_set(struct imp_entry *e, enum imp_key k, char *value, char *comment)
{
	free(e->v[k].value);
	free(e->v[k].comment);
	e->v[k].value = value;
	e->v[k].comment = comment;
}

/* ---------------------------------------------------------------- */
/* Sessions */

/* tapline's session names (conf.c): a letter, then letters, digits, - _. */
static bool
imp_name_valid(const char *n)
{
	size_t len = strlen(n), i;

	if (len == 0 || len > CONF_NAME_MAX ||
	    !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z')))
		return false;
	for (i = 1; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		    (n[i] >= 'A' && n[i] <= 'Z') ||
		    (n[i] >= '0' && n[i] <= '9') || n[i] == '-' || n[i] == '_'))
			return false;
	return true;
}

/* Does an up or down block of h run ppp (then it is a tty session)? */
static bool
imp_has_ppp(const struct vtunconf_host *h)
{
	const struct vtunconf_cmds *l[2] = { h->up, h->down };
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; l[i] != NULL && j < l[i]->n; j++)
			if (l[i]->v[j].kind == VTUNCONF_CMD_PPP)
				return true;
	return false;
}

/* type: tun and ether carry over; tty and pipe do not.  0: imported. */
static int
imp_type(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;

	switch (h->type) {
	case VTUNCONF_TYPE_TUN:
		return 0;
	case VTUNCONF_TYPE_ETHER:
		imp_set(e, IK_TYPE, imp_fmt(ctx, "\"tap\""), NULL);
		return 0;
	default:
		break;
	}
	if (h->type_src.line > 0 || imp_has_ppp(h)) {
		e->why = imp_fmt(ctx, "type %s%s: tapline carries IP packets "
		    "(tun) and Ethernet frames (tap), not a %s", h->type ==
		    VTUNCONF_TYPE_PIPE ? "pipe" : "tty", h->type_src.line > 0 ?
		    "" : " (vtund's default) with ppp", h->type ==
		    VTUNCONF_TYPE_PIPE ? "pipe" : "serial line");
		return -1;
	}
	/* A client's type comes from its server, in vtund and in tapline. */
	vtunconf_warn(ctx->diag, ctx->vc->path, h->line, "%s: no type: vtund's "
	    "default is tty, which tapline does not carry; imported as tun "
	    "(right for a client, which takes the type from its server)",
	    h->name);
	imp_note(ctx, e, h->line, "vtund: no type (tty); imported as tun, "
	    "which a client's server overrides");
	return 0;
}

/* keepalive INTERVAL:COUNT -> keepalive and timeout; off stays on. */
static void
imp_keepalive(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;
	long long ka = h->ka_interval, count = h->ka_maxfail, to;

	if (!h->keepalive) {
		if (h->keepalive_src.line > 0)
			imp_lost(ctx, e, h->keepalive_src.line, "keepalive %s: "
			    "tapline keeps its keepalive on (%d s, peer dead "
			    "after %d s of silence): it needs one to notice a "
			    "dead peer", h->keepalive_src.text,
			    CONF_DEFAULT_KEEPALIVE, CONF_DEFAULT_TIMEOUT);
		return;
	}
	/*
	 * vtund checks every INTERVAL seconds and gives up once COUNT checks
	 * after the first found nothing received: about COUNT + 2 intervals.
	 */
	if (count < 0)
		count = 0;
	if (ka > CONF_KEEPALIVE_MAX) {
		imp_lost(ctx, e, h->keepalive_src.line, "keepalive %lld:%lld: "
		    "tapline's keepalive is at most %d s; imported as that",
		    ka, count, CONF_KEEPALIVE_MAX);
		ka = CONF_KEEPALIVE_MAX;
	}
	to = ka * (count + 2);
	if (to > CONF_TIMEOUT_MAX)
		to = CONF_TIMEOUT_MAX;
	imp_set(e, IK_KEEPALIVE, imp_fmt(ctx, "%lld", ka), imp_fmt(ctx,
	    "vtund: keepalive %lld:%lld", h->ka_interval, h->ka_maxfail));
	imp_set(e, IK_TIMEOUT, imp_fmt(ctx, "%lld", to), imp_fmt(ctx,
	    "vtund gave up after about %lld x %lld s", count + 2, ka));
}

/* compress: zlib as it is, lzo as zlib. */
static void
imp_compress(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;

	switch (h->compress) {
	case VTUNCONF_COMPRESS_ZLIB:
		imp_set(e, IK_COMPRESS, imp_fmt(ctx, "\"zlib:%d\"", h->zlevel),
		    strcmp(h->compress_src.text, "lzo") == 0 ? imp_fmt(ctx,
		    "vtund reads \"compress lzo\" as zlib:2") : NULL);
		break;
	case VTUNCONF_COMPRESS_LZO:
		imp_set(e, IK_COMPRESS, imp_fmt(ctx, "\"zlib:%d\"", h->zlevel),
		    imp_fmt(ctx, "vtund: lzo:%d; tapline has no LZO",
		    h->zlevel));
		/* The setting's own comment says it in the output. */
		vtunconf_warn(ctx->diag, ctx->vc->path, h->compress_src.line,
		    "%s: compress %s: tapline has no LZO; imported as zlib:%d "
		    "(more CPU per packet)", h->name, h->compress_src.text,
		    h->zlevel);
		break;
	default:
		break;
	}
}

/* speed: vtund's TO:FROM the client is this server's receive:send. */
static void
imp_speed(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;

	if (!h->shape)
		return;
	if (h->spd_in > CONF_SPEED_MAX || h->spd_out > CONF_SPEED_MAX) {
		imp_lost(ctx, e, h->speed_src.line, "speed %s: above tapline's "
		    "limit of %d kbit/s; not carried over", h->speed_src.text,
		    CONF_SPEED_MAX);
		return;
	}
	if (h->spd_in == h->spd_out) {
		imp_set(e, IK_SPEED, imp_fmt(ctx, "%lld", h->spd_in), NULL);
		return;
	}
	imp_set(e, IK_SPEED, imp_fmt(ctx, "\"%lld:%lld\"", h->spd_in,
	    h->spd_out), imp_fmt(ctx, "vtund: %s, to:from the client",
	    h->speed_src.text));
	imp_note(ctx, e, h->speed_src.line, "vtund line %d: speed %s limits "
	    "what goes to and comes from the client, and only the server "
	    "applies it; tapline's speed is IN:OUT as seen by the host whose "
	    "file it is, so this server's is \"%lld:%lld\" and a client's "
	    "own file would say \"%lld:%lld\"", h->speed_src.line,
	    h->speed_src.text, h->spd_in, h->spd_out, h->spd_out, h->spd_in);
}

/*
 * Can a legacy = "vtun" session keep speaking vtund's cipher c?  (The
 * server's setting decides it there, and "auto" means none.)
 */
static bool
imp_legacy_cipher(const char *c)
{
	static const char *const legacy[] = { "blowfish128ecb", "aes128ecb",
		"aes256ecb" };
	size_t i;

	for (i = 0; c != NULL && i < UTIL_ARRAY_LEN(legacy); i++)
		if (strcmp(c, legacy[i]) == 0)
			return true;
	return false;
}

/* The settings tapline has no place for, each said once. */
static void
imp_unsupported(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;
	const char *c;

	if (h->encrypt_src.line > 0) {
		c = vtunconf_cipher_name(h->cipher);
		if (!h->encrypt)
			imp_lost(ctx, e, h->encrypt_src.line, "encrypt %s: "
			    "tapline always encrypts and authenticates",
			    h->encrypt_src.text);
		else
			imp_note(ctx, e, h->encrypt_src.line, "vtund: encrypt "
			    "%s%s%s%s; tapline always uses AES-256-GCM or "
			    "ChaCha20-Poly1305; %s%s%s", h->encrypt_src.text,
			    c != NULL && strcmp(c, h->encrypt_src.text) != 0 ?
			    " (" : "", c != NULL && strcmp(c,
			    h->encrypt_src.text) != 0 ? c : "", c != NULL &&
			    strcmp(c, h->encrypt_src.text) != 0 ? ")" : "",
			    imp_legacy_cipher(c) ? "with legacy = \"vtun\" (a "
			    "vtund peer) write cipher = \"" : "legacy = \"vtun\" "
			    "cannot speak this cipher (only blowfish128ecb, "
			    "aes128ecb and aes256ecb)", imp_legacy_cipher(c) ? c :
			    "", imp_legacy_cipher(c) ? "\" too" : "");
	}
	if (h->stat)
		imp_lost(ctx, e, h->stat_src.line, "stat %s: tapline writes no "
		    "statistics file; tapline status and SIGUSR1 show the "
		    "counters", h->stat_src.text);
	if (h->timeout_src.line > 0)
		imp_lost(ctx, e, h->timeout_src.line, "timeout %s (vtund's "
		    "connect timeout) is not carried over: tapline's timeout "
		    "is the silence before a peer counts as dead, and its "
		    "handshake has a fixed deadline", h->timeout_src.text);
	if (h->nat_hack)
		imp_lost(ctx, e, h->nat_hack_src.line, "nat_hack %s is not "
		    "needed: a tapline server follows a client's UDP "
		    "packets to a new address once they authenticate",
		    h->nat_hack_src.text);
	if (h->src_type == VTUNCONF_ADDR_NAME)
		imp_lost(ctx, e, h->srcaddr_src.line, "srcaddr { addr %s; }: "
		    "tapline has no per-session source address; run this "
		    "client with -L %s", h->src_name, h->src_name);
	else if (h->src_type == VTUNCONF_ADDR_IFACE)
		imp_lost(ctx, e, h->srcaddr_src.line, "srcaddr { iface %s; }: "
		    "tapline has no per-session source address; run this "
		    "client with -L and the address of %s", h->src_name,
		    h->src_name);
	if (h->src_port != 0)
		imp_lost(ctx, e, h->srcaddr_src.line, "srcaddr { port %lld; }: "
		    "tapline's client takes any source port", h->src_port);
}

/* Translate one session vtund would run.  0: imported; -1: see e->why. */
static int
imp_session(struct imp_ctx *ctx, struct imp_entry *e)
{
	const struct vtunconf_host *h = e->h;
	char err[256];

	if (!imp_name_valid(h->name)) {
		e->why = imp_fmt(ctx, "tapline session names are a letter and "
		    "then up to %d letters, digits, '-' or '_'; rename it on "
		    "both hosts", CONF_NAME_MAX - 1);
		return -1;
	}
	if (imp_type(ctx, e) == -1)
		return -1;
	/*
	 * vtund's password sat in vtund.conf and crossed the wire in a
	 * handshake that lets whoever sees it test guesses offline: it is
	 * exposed, and must not guard the new session.  A new key file
	 * does, written next to the output by the caller.
	 */
	imp_set(e, IK_KEY, imp_fmt(ctx, "\"%s.key\"", h->name), imp_fmt(ctx,
	    "new: copy it to the peer"));
	imp_lost(ctx, e, h->passwd_src.line, "passwd not carried over: treat "
	    "vtund's password as exposed; %s.key, a new key file next to the "
	    "tapline.conf, replaces it: copy that file to the peer (a peer "
	    "that still runs vtund needs legacy = \"vtun\"; and passwd = "
	    "vtund's password instead of key)", h->name);
	if (ctx->res->nkeys < ctx->vc->nhosts)
		ctx->res->keys[ctx->res->nkeys++] = h->name;
	if (h->proto == VTUNCONF_PROTO_TCP)
		imp_set(e, IK_PROTO, imp_fmt(ctx, "\"tcp\""), NULL);
	imp_keepalive(ctx, e);
	if (h->persist == VTUNCONF_PERSIST_NO)
		imp_set(e, IK_PERSIST, imp_fmt(ctx, "false"), NULL);
	else if (h->persist == VTUNCONF_PERSIST_KEEP)
		imp_set(e, IK_PERSIST, imp_fmt(ctx, "\"keep\""), NULL);
	imp_compress(ctx, e);
	if (h->device != NULL) {
		if (dev_name_valid(h->device, err, sizeof(err)))
			imp_set(e, IK_DEVICE, imp_quote(ctx, h->device), NULL);
		else
			imp_lost(ctx, e, h->device_src.line, "device: %s; the "
			    "kernel picks a name instead", err);
	}
	imp_speed(ctx, e);
	if (h->multi == VTUNCONF_MULTI_ALLOW)
		imp_set(e, IK_MULTI, imp_fmt(ctx, "\"allow\""), NULL);
	else if (h->multi == VTUNCONF_MULTI_DENY)
		imp_set(e, IK_MULTI, imp_fmt(ctx, "\"deny\""), NULL);
	imp_set(e, IK_UP, imp_commands(ctx, e, "up", h->up), NULL);
	imp_set(e, IK_DOWN, imp_commands(ctx, e, "down", h->down), NULL);
	imp_unsupported(ctx, e);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Output */

/* "  key = value;" with the comment at IMP_COMMENT_COL. */
static void
imp_write_setting(FILE *out, const char *key, const struct imp_val *v)
{
	int col = fprintf(out, "  %s = %s;", key, v->value);

	if (v->comment != NULL)
		fprintf(out, "%*s# %s", col < IMP_COMMENT_COL ?
		    IMP_COMMENT_COL - col : 1, "", v->comment);
	fputc('\n', out);
}

/*
 * A comment paragraph wrapped at IMP_WRAP: the first line starts with
 * first, the others with more.
 */
static void
imp_write_comment(FILE *out, const char *first, const char *more,
    const char *text)
{
	const char *p = text, *prefix = first;
	size_t col = 0, wlen;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		wlen = strcspn(p, " ");
		if (wlen == 0)
			break;
		if (col > 0 && col + 1 + wlen > IMP_WRAP) {
			fputc('\n', out);
			col = 0;
			prefix = more;
		}
		if (col == 0) {
			fputs(prefix, out);
			col = strlen(prefix);
		} else {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, wlen, out);
		col += wlen;
		p += wlen;
	}
	if (col > 0)
		fputc('\n', out);
}

/* Two values are the same setting: the same text and the same comment. */
static bool
imp_val_equal(const struct imp_val *a, const struct imp_val *b)
{
	if ((a->value == NULL) != (b->value == NULL) ||
	    (a->comment == NULL) != (b->comment == NULL))
		return false;
	return (a->value == NULL || strcmp(a->value, b->value) == 0) &&
	    (a->comment == NULL || strcmp(a->comment, b->comment) == 0);
}

/*
 * The `default` group: each setting that every imported session has, the
 * same, when there are two sessions or more.  Those settings are taken
 * out of the sessions.
 */
static void
imp_write_default(FILE *out, struct imp_entry *es, size_t n)
{
	struct imp_entry *first = NULL;
	size_t i, k, imported = 0;

	fputs("# What every session below shares.\ndefault = {\n", out);
	for (i = 0; i < n; i++)
		if (es[i].imported && imported++ == 0)
			first = &es[i];
	if (imported < 2)
		first = NULL;
	/* key belongs to one session; tapline refuses it in default. */
	for (k = IK_KEY + 1; first != NULL && k < IK_COUNT; k++) {
		struct imp_val shared = first->v[k];
		bool same = shared.value != NULL;

		for (i = 0; same && i < n; i++)
			if (es[i].imported && !imp_val_equal(&es[i].v[k],
			    &shared))
				same = false;
		if (!same)
			continue;
		imp_write_setting(out, imp_keys[k], &shared);
		for (i = 0; i < n; i++)
			if (es[i].imported && &es[i] != first)
				imp_set(&es[i], (enum imp_key)k, NULL, NULL);
		first->v[k] = (struct imp_val){ 0 };
		free(shared.value);
		free(shared.comment);
	}
	fputs("};\n", out);
}

/* One session group, or a comment on why a session is not there. */
static void
imp_write_entry(FILE *out, const struct imp_ctx *ctx,
    const struct imp_entry *e)
{
	char head[512];
	size_t i;
	int k;

	fputc('\n', out);
	if (!e->imported) {
		snprintf(head, sizeof(head), "%s:%d: session %s is not "
		    "imported: %s", ctx->vc->path, e->h->line, e->h->name,
		    e->why != NULL ? e->why : "");
		imp_write_comment(out, "# ", "# ", head);
		return;
	}
	fprintf(out, "# %s:%d\n%s = {\n", ctx->vc->path, e->h->line,
	    e->h->name);
	for (i = 0; i < e->nnotes; i++)
		imp_write_comment(out, "  # ", "  # ", e->notes[i].text);
	for (k = 0; k < IK_COUNT; k++)
		if (e->v[k].value != NULL)
			imp_write_setting(out, imp_keys[k], &e->v[k]);
	fputs("};\n", out);
}

/* The first lines: where the file comes from and what changed for all. */
static void
imp_write_header(FILE *out, const struct imp_ctx *ctx)
{
	static const char *const notes[] = {
		"tapline always encrypts and authenticates (TLS 1.3 on the key, "
		"then AES-256-GCM or ChaCha20-Poly1305); vtund's encrypt has no "
		"equivalent.",
		"vtund's passwords are not carried over: treat them as exposed "
		"(they sat in vtund.conf, and vtund's handshake lets whoever "
		"sees it test guesses offline). Each session's key is a new "
		"key file, SESSION.key next to this file (mode 0600): copy it "
		"to the peer.",
		"Both hosts need tapline: its protocol is its own. For a peer "
		"that still runs vtund, add legacy = \"vtun\"; to its session, "
		"with vtund's passwd instead of key and the cipher its encrypt "
		"note names (insecure; see tapline.conf(5)).",
		"up/down commands run without a shell (write sh -c '...' for "
		"one), one at a time, at most 30 s each; a failing up command "
		"ends the session; down commands run once the device is gone.",
		"keepalive stays on where vtund had it off: tapline needs it to "
		"notice a dead peer.",
		"A client takes its server from the command line or from "
		"server = \"HOST\"; in its session (tapline@SESSION.service "
		"needs that).",
	};
	char line[512];
	size_t i;

	snprintf(line, sizeof(line), "tapline.conf imported from %s by "
	    "tapline import-vtund. Check it with tapline -t -f FILE; notes "
	    "that start with \"vtund\" say what changed.", ctx->o->source);
	imp_write_comment(out, "# ", "# ", line);
	fputs("#\n# For every session:\n", out);
	for (i = 0; i < UTIL_ARRAY_LEN(notes); i++)
		imp_write_comment(out, "# - ", "#   ", notes[i]);
	fputc('\n', out);
}

/* vtund's listen address: bindaddr { addr NAME; } or lo's address. */
static char *
imp_listen(struct imp_ctx *ctx, const struct vtunconf_options *o,
    char **comment)
{
	const char *n = o->bind_name;
	size_t i;

	*comment = NULL;
	if (o->bind_type == VTUNCONF_ADDR_NONE)
		return NULL;
	if (o->bind_type == VTUNCONF_ADDR_IFACE) {
		/* vtund takes the interface's IPv4 address; lo's is fixed. */
		if (strcmp(n, "lo") == 0) {
			*comment = imp_fmt(ctx, "vtund: bindaddr { iface lo; }");
			return imp_fmt(ctx, "\"127.0.0.1\"");
		}
		imp_lost_option(ctx, o->bind_src.line, "bindaddr { iface %s; }: "
		    "tapline listens on an address, not an interface; until "
		    "you set listen = \"the address of %s\"; the server listens "
		    "on every address", n, n);
		return NULL;
	}
	for (i = 0; n[i] != '\0'; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		    (n[i] >= 'A' && n[i] <= 'Z') ||
		    (n[i] >= '0' && n[i] <= '9') || strchr(".-_", n[i]) != NULL))
			break;
	if (n[i] != '\0' || i == 0 || i > 253) {
		imp_lost_option(ctx, o->bind_src.line, "bindaddr { addr %s; }: "
		    "not an address or host name tapline takes; the server "
		    "listens on every address until you set listen", n);
		return NULL;
	}
	return imp_quote(ctx, n);
}

/* The options group: port, listen, syslog; the rest said why not. */
static void
imp_write_options(FILE *out, struct imp_ctx *ctx)
{
	const struct vtunconf_options *o = &ctx->vc->opts;
	struct imp_val v = { 0 };
	const char *fac;

	fputs("options = {\n", out);
	if (o->port == -1 || (o->port >= 1 && o->port <= 65535)) {
		v.value = imp_fmt(ctx, "%lld", o->port == -1 ? 5000 : o->port);
		if (v.value != NULL)
			imp_write_setting(out, "port", &v);
		free(v.value);
	} else {
		imp_lost_option(ctx, o->port_src.line, "port %s is not a port "
		    "(1..65535); tapline uses 5000", o->port_src.text);
	}
	v.value = imp_listen(ctx, o, &v.comment);
	if (v.value != NULL)
		imp_write_setting(out, "listen", &v);
	free(v.value);
	free(v.comment);
	if (o->syslog_src.line > 0) {
		fac = log_facility_name((int)o->syslog);
		if (o->syslog < 0 || o->syslog > 1024 || strcmp(fac, "?") == 0)
			imp_lost_option(ctx, o->syslog_src.line, "syslog %s: "
			    "tapline logs to auth, authpriv, daemon, user or "
			    "local0..local7; it uses daemon",
			    o->syslog_src.text);
		else
			fprintf(out, "  syslog = \"%s\";\n", fac);
	}
	fputs("};\n\n", out);
	if (o->timeout != -1)
		imp_lost_option(ctx, o->timeout_src.line, "timeout %s (vtund's "
		    "general timeout) is not carried over: tapline's connect "
		    "and handshake deadlines are fixed", o->timeout_src.text);
	if (o->svr_type == 1)
		imp_lost_option(ctx, o->svr_type_src.line, "type inetd: "
		    "tapline runs as a daemon of its own (tapline -s, or "
		    "tapline-server.service)");
	if (o->iface != NULL)
		imp_lost_option(ctx, o->iface_src.line, "iface \"%s\" has no "
		    "effect in vtund 3.0 and none here", o->iface);
	if (o->family == 6)
		imp_lost_option(ctx, o->family_src.line, "ipv6: tapline picks "
		    "the family by the address (the server listens on both); "
		    "tapline -6 forces IPv6");
}

/* Notes in the order of the vtund lines they are about (stable). */
static void
imp_sort_notes(struct imp_entry *e)
{
	size_t i, j;

	for (i = 1; i < e->nnotes; i++) {
		struct imp_note x = e->notes[i];

		for (j = i; j > 0 && e->notes[j - 1].line > x.line; j--)
			e->notes[j] = e->notes[j - 1];
		e->notes[j] = x;
	}
}

/* Sessions vtund would run: complete, and the first of each name. */
static void
imp_entries(struct imp_ctx *ctx, struct imp_entry *es,
    struct vtunimport_result *res)
{
	const struct vtunconf *vc = ctx->vc;
	size_t i, j;

	for (i = 0; i < vc->nhosts; i++) {
		struct imp_entry *e = &es[i];

		e->h = &vc->hosts[i];
		for (j = 0; j < i; j++)
			if (strcmp(vc->hosts[j].name, e->h->name) == 0)
				break;
		if (j < i) {
			e->why = imp_fmt(ctx, "defined again; vtund uses the "
			    "first one (line %d)", vc->hosts[j].line);
			vtunconf_warn(ctx->diag, vc->path, e->h->line, "%s: "
			    "session defined again; vtund uses the first one "
			    "(line %d), so this one is not imported",
			    e->h->name, vc->hosts[j].line);
			continue;
		}
		if (imp_session(ctx, e) == -1) {
			res->skipped++;
			vtunconf_warn(ctx->diag, vc->path, e->h->line, "%s: "
			    "session not imported: %s", e->h->name,
			    e->why != NULL ? e->why : "");
			continue;
		}
		imp_sort_notes(e);
		e->imported = true;
		res->imported++;
	}
}

static void
imp_entries_free(struct imp_entry *es, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < IK_COUNT; k++)
			imp_set(&es[i], (enum imp_key)k, NULL, NULL);
		for (k = 0; k < es[i].nnotes; k++)
			free(es[i].notes[k].text);
		free(es[i].notes);
		free(es[i].why);
	}
	free(es);
}

int
vtunimport_write(const struct vtunconf *vc,
    const struct vtunimport_opts *opts, FILE *out, struct vtunconf_diag *diag,
    struct vtunimport_result *res)
{
	struct imp_ctx ctx = { .vc = vc, .o = opts, .diag = diag,
		.res = res };
	struct imp_entry *es;
	size_t i;

	memset(res, 0, sizeof(*res));
	es = calloc(vc->nhosts > 0 ? vc->nhosts : 1, sizeof(*es));
	res->keys = calloc(vc->nhosts > 0 ? vc->nhosts : 1,
	    sizeof(*res->keys));
	if (es == NULL || res->keys == NULL) {
		free(es);
		vtunimport_result_free(res);
		return -1;
	}
	imp_entries(&ctx, es, res);
	imp_write_header(out, &ctx);
	imp_write_options(out, &ctx);
	imp_write_default(out, es, vc->nhosts);
	for (i = 0; i < vc->nhosts; i++)
		imp_write_entry(out, &ctx, &es[i]);
	imp_entries_free(es, vc->nhosts);
	if (ctx.oom || diag->oom)
		return -1;
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

void
vtunimport_result_free(struct vtunimport_result *res)
{
	free(res->keys);
	memset(res, 0, sizeof(*res));
}
