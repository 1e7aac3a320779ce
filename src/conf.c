/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libconfig -> validated struct conf (tapline.conf(5) describes every
 * setting).
 *
 * One pass over the file collects every error and warning as a complete
 * line "FILE:LINE: SETTING: what is wrong and what is allowed", so that an
 * operator fixes a file in one round.  Nothing here prints a key or a
 * passphrase.  libconfig 1.5 pitfalls handled here (doc/ARCHITECTURE.md):
 * integers beyond 32 bits wrap silently, a comment on the last line needs
 * a newline, names may contain '*', and file errors carry no errno.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/crypto.h>

#include "conf.h"
#include "confdir.h"
#include "keypair.h"
#include "udpchan.h"
#include "log.h"
#include "util.h"

#define CONF_MSG_MAX 1024
/* How much of a value a message quotes. */
#define CONF_QUOTE_MAX 80
/* Longest host name (RFC 1035) and user or group name we accept. */
#define CONF_HOST_MAX 253
#define CONF_USER_MAX 32

/*
 * An integer literal that does not fit in 32 bits and has no 'L' suffix.
 * libconfig 1.5 wraps it silently (4294967306 reads as 10), so the
 * loader finds such literals in the text itself and matches them to
 * settings by line and wrapped value.
 */
struct conf_bigint {
	unsigned int line;
	int32_t wrapped;
	char text[32];
};

/*
 * A parsed file: the root setting of its tree points here (libconfig's
 * hook), so that a message about a setting names its file even when a
 * session of a file of include_dir inherits it from the main file's
 * `default`.
 */
struct conf_src {
	const char *path;	/* the file, as given or found */
	const char *dir;	/* its directory: @include and key paths */
	/* The file's stat; NULL when parsing text from memory. */
	const struct stat *st;
};

/* State of the load of one file (the main one, or one of include_dir). */
struct conf_ctx {
	const char *path;	/* the file, as given or found */
	char *dir;		/* its directory: @include and key paths */
	struct conf_diag *diag;
	struct conf_bigint *bigints;
	size_t nbigints;
	/* The file's stat; NULL when parsing text from memory. */
	const struct stat *main_st;
	struct conf_src src;	/* the three above, for the tree's hook */
	/* Read include_dir (not for text from memory). */
	bool read_dir;
	/* The running configuration, whose sessions a broken file keeps. */
	const struct conf *old;
	/* The main file's options (private_key), once they are read. */
	const struct conf_options *opts;
	bool oom;
};

/* Session settings, in the order of tapline.conf(5). */
enum conf_field {
	F_KEY,
	F_PASSWD,
	F_PEER_KEY,
	F_OLD_KEY,
	F_SERVER,
	F_SERVER_RANDOM,
	F_PROTO,
	F_TYPE,
	F_KEEPALIVE,
	F_TIMEOUT,
	F_PERSIST,
	F_COMPRESS,
	F_CIPHER,
	F_DEVICE,
	F_QUEUES,
	F_MTU,
	F_MSSFIX,
	F_SPEED,
	F_MULTI,
	F_ADDRESS,
	F_ROUTES,
	F_FWMARK,
	F_TABLE,
	F_DNS,
	F_BRIDGE,
	F_UP,
	F_DOWN,
	F_LEGACY,
	F_COUNT
};

/* A session (or the `default` template) while it is being built. */
struct conf_build {
	struct conf_session s;
	const config_setting_t *group;	/* the session's own group */
	/* Where each value came from; NULL means the built-in default. */
	const config_setting_t *src[F_COUNT];
	bool key_ok;	/* the key file was read and decoded */
};

/*
 * How a setting is read.  Most settings are one value stored in one field
 * of the struct being built, so a table entry says all there is to say;
 * only a setting with more to check or to store has its own function.
 */
enum conf_kind {
	CONF_K_ENUM,	/* one of names[], stored as an int-sized enum */
	CONF_K_INT,	/* an integer in min..max, stored as an int */
	CONF_K_STRING,	/* a string that valid() accepts, stored as a copy */
	CONF_K_FUNC,	/* parse() reads and stores it */
};

/*
 * obj is the struct being built: a struct conf_build for a session
 * setting, a struct conf_options for an option.
 */
typedef int (*conf_parse_fn)(struct conf_ctx *, const config_setting_t *,
    const char *, void *);

/* One entry of a settings table; a table ends with an empty entry. */
struct conf_setting {
	const char *name;
	enum conf_kind kind;
	size_t off;		/* where the value goes, except CONF_K_FUNC */
	const char *const *names;	/* CONF_K_ENUM */
	size_t nnames;
	long long min, max;	/* CONF_K_INT */
	/* CONF_K_STRING: the check, and what a rejected value "is not". */
	bool (*valid)(const char *);
	const char *invalid;
	conf_parse_fn parse;	/* CONF_K_FUNC */
	/* Secrets: allowed in a session only, never in `default`. */
	bool session_only;
};

static const char *const conf_proto_names[] = { "udp", "tcp" };
static const char *const conf_type_names[] = { "tun", "tap" };
static const char *const conf_cipher_names[] = { "auto", "aes-256-gcm",
	"chacha20-poly1305", "none", "blowfish128ecb", "aes128ecb",
	"aes256ecb" };
static const char *const conf_multi_names[] = { "allow", "deny",
	"killold" };
static const char *const conf_legacy_names[] = { "", "vtun" };
static const char *const conf_persist_names[] = { "no", "yes", "keep" };

_Static_assert(DEV_TUN == 0 && DEV_TAP == 1, "conf_type_names order");
_Static_assert(sizeof(enum conf_proto) == sizeof(int) &&
    sizeof(enum dev_type) == sizeof(int) &&
    sizeof(enum conf_cipher) == sizeof(int) &&
    sizeof(enum conf_multi) == sizeof(int) &&
    sizeof(enum conf_legacy) == sizeof(int), "CONF_K_ENUM stores an int");

/* ---------------------------------------------------------------- */
/* Messages */

/* Append line (owned by the array from now on) to an array of strings. */
static int
conf_diag_take(char ***v, size_t *n, char *line)
{
	char **nv;

	if (line == NULL)
		return -1;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(line);
		return -1;
	}
	nv[(*n)++] = line;
	*v = nv;
	return 0;
}

/* Add one finished line to the errors or the warnings. */
static void
conf_diag_add(struct conf_ctx *ctx, bool warning, char *line)
{
	struct conf_diag *d = ctx->diag;
	int r;

	if (warning)
		r = conf_diag_take(&d->warnings, &d->nwarnings, line);
	else
		r = conf_diag_take(&d->errors, &d->nerrors, line);
	if (r == -1)
		ctx->oom = true;
}

struct conf *
conf_reload(const struct conf *running)
{
	struct conf_diag d = { 0 };
	struct conf *c;
	size_t i, j, kept;

	log_notice("SIGHUP: reloading %s", running->path);
	c = conf_load_fallback(running->path, running, &d);
	for (i = 0; i < d.nwarnings; i++)
		log_warnx("reload: %s", d.warnings[i]);
	for (i = 0; i < d.nerrors; i++)
		log_err("reload: %s", d.errors[i]);
	conf_diag_free(&d);
	if (c == NULL) {
		log_err("reload: %s has errors; the running configuration "
		    "stays", running->path);
		return NULL;
	}
	for (i = 0; i < c->nbroken; i++) {
		for (j = kept = 0; j < c->nsessions; j++)
			if (strcmp(c->sessions[j].origin, c->broken[i]) == 0)
				kept++;
		log_err("reload: %s has errors; its %zu running session%s "
		    "stay%s as %s", c->broken[i], kept, kept == 1 ? "" : "s",
		    kept == 1 ? "s" : "", kept == 1 ? "it was" : "they were");
	}
	return c;
}

void
conf_diag_free(struct conf_diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nerrors; i++)
		free(d->errors[i]);
	for (i = 0; i < d->nwarnings; i++)
		free(d->warnings[i]);
	free(d->errors);
	free(d->warnings);
	memset(d, 0, sizeof(*d));
}

/*
 * A file name for messages.  libconfig names the file it parsed NULL (we
 * parse it from memory) and an included file by its @include path, which
 * it resolved against our include directory, so say that directory too.
 */
static void
conf_src_name(const struct conf_src *src, const char *f, char *buf,
    size_t len)
{
	if (f == NULL)
		util_strlcpy(buf, src->path, len);
	else if (f[0] == '/' || strcmp(src->dir, ".") == 0)
		util_strlcpy(buf, f, len);
	else
		snprintf(buf, len, "%s/%s", src->dir, f);
}

static void
conf_file_name(const struct conf_ctx *ctx, const char *f, char *buf,
    size_t len)
{
	conf_src_name(&ctx->src, f, buf, len);
}

/* The file whose tree holds s: its root's hook, else ctx's file. */
static const struct conf_src *
conf_src_of(const struct conf_ctx *ctx, const config_setting_t *s)
{
	const struct conf_src *src;

	if (s == NULL)
		return &ctx->src;
	while (config_setting_parent(s) != NULL)
		s = config_setting_parent(s);
	src = config_setting_get_hook(s);
	return src != NULL ? src : &ctx->src;
}

/* The file a setting came from. */
static void
conf_file_of(const struct conf_ctx *ctx, const config_setting_t *s,
    char *buf, size_t len)
{
	conf_src_name(conf_src_of(ctx, s), s != NULL ?
	    config_setting_source_file(s) : NULL, buf, len);
}

/*
 * Format "FILE:LINE: LABEL: message" and add it to the diagnostics; a
 * line of 0 and a NULL label are left out.
 */
static void __attribute__((format(printf, 6, 0)))
conf_vadd_at(struct conf_ctx *ctx, bool warning, const char *file, int line,
    const char *label, const char *fmt, va_list ap)
{
	char msg[CONF_MSG_MAX], *buf = NULL;
	int r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0 && label != NULL)
		r = asprintf(&buf, "%s:%d: %s: %s", file, line, label, msg);
	else if (line > 0)
		r = asprintf(&buf, "%s:%d: %s", file, line, msg);
	else if (label != NULL)
		r = asprintf(&buf, "%s: %s: %s", file, label, msg);
	else
		r = asprintf(&buf, "%s: %s", file, msg);
	conf_diag_add(ctx, warning, r == -1 ? NULL : buf);
}

/* The same about setting s (NULL: the main file as a whole). */
static void __attribute__((format(printf, 5, 0)))
conf_vadd(struct conf_ctx *ctx, bool warning, const config_setting_t *s,
    const char *label, const char *fmt, va_list ap)
{
	char file[PATH_MAX];

	conf_file_of(ctx, s, file, sizeof(file));
	conf_vadd_at(ctx, warning, file,
	    s != NULL ? (int)config_setting_source_line(s) : 0, label, fmt, ap);
}

/* Record an error about setting s; returns -1 for `return conf_error()`. */
static int __attribute__((format(printf, 4, 5)))
conf_error(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vadd(ctx, false, s, label, fmt, ap);
	va_end(ap);
	return -1;
}

static void __attribute__((format(printf, 4, 5)))
conf_warn(struct conf_ctx *ctx, const config_setting_t *s, const char *label,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vadd(ctx, true, s, label, fmt, ap);
	va_end(ap);
}

/*
 * Error at a raw file and line: parse and I/O errors come without a
 * setting.  A line of 0 means the file as a whole.
 */
static void __attribute__((format(printf, 4, 5)))
conf_error_at(struct conf_ctx *ctx, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vadd_at(ctx, false, file, line, NULL, fmt, ap);
	va_end(ap);
}

/*
 * A value from the file in double quotes, escaped and shortened, for
 * messages: strings may hold "\n" and other bytes a log must not carry.
 */
static const char *
conf_quote(const char *v, char *buf, size_t len)
{
	char esc[CONF_QUOTE_MAX + 4];

	util_escape(v, strlen(v), esc, sizeof(esc));
	snprintf(buf, len, "\"%s\"", esc);
	return buf;
}

static const char *
conf_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "something else";
	}
}

/* ---------------------------------------------------------------- */
/* Typed readers */

static bool
conf_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * Find integer literals that libconfig 1.5 would wrap (no 'L' suffix,
 * outside 32 bits).  The scanner knows just enough of the syntax to skip
 * comments, strings and names; it only adds detail to messages, so any
 * file it misreads still gets libconfig's (wrapped) value range-checked.
 */
static int
conf_scan_bigints(struct conf_ctx *ctx, const char *p, size_t len)
{
	unsigned int line = 1;
	size_t i = 0;

	while (i < len) {
		char c = p[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' ||
		    (c == '/' && i + 1 < len && p[i + 1] == '/')) {
			while (i < len && p[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && p[i + 1] == '*') {
			for (i += 2; i < len; i++) {
				if (p[i] == '*' && i + 1 < len &&
				    p[i + 1] == '/') {
					i += 2;
					break;
				}
				if (p[i] == '\n')
					line++;
			}
		} else if (c == '"') {
			for (i++; i < len && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < len)
					i++;
				if (p[i] == '\n')
					line++;
			}
			i++;
		} else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    c == '*') {
			while (i < len && ((p[i] >= 'A' && p[i] <= 'Z') ||
			    (p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
			    p[i] == '_' || p[i] == '*'))
				i++;
		} else if ((c >= '0' && c <= '9') ||
		    ((c == '-' || c == '+') && i + 1 < len && p[i + 1] >= '0' &&
		    p[i + 1] <= '9')) {
			size_t start = i;
			bool hex = false, huge = false;
			char text[32];
			long long v;

			if (c == '-' || c == '+')
				i++;
			if (p[i] == '0' && i + 1 < len &&
			    (p[i + 1] == 'x' || p[i + 1] == 'X')) {
				hex = true;
				for (i += 2; i < len && conf_is_hex(p[i]);)
					i++;
			} else {
				while (i < len && p[i] >= '0' && p[i] <= '9')
					i++;
				if (i < len && (p[i] == '.' || p[i] == 'e' ||
				    p[i] == 'E')) {
					/* A float: never wrapped. */
					while (i < len && ((p[i] >= '0' &&
					    p[i] <= '9') || strchr(".eE+-",
					    p[i]) != NULL))
						i++;
					continue;
				}
			}
			if (i < len && p[i] == 'L') {
				while (i < len && p[i] == 'L')
					i++;
				continue;
			}
			if (i - start >= sizeof(text)) {
				huge = true;
				memcpy(text, p + start, sizeof(text) - 4);
				memcpy(text + sizeof(text) - 4, "...", 4);
			} else {
				memcpy(text, p + start, i - start);
				text[i - start] = '\0';
			}
			/* Mimic libconfig: strtoll/strtoull, then an int. */
			errno = 0;
			if (hex) {
				unsigned long long u = strtoull(text, NULL, 16);

				v = (long long)(u & 0xffffffffULL);
				if (errno == ERANGE || huge)
					v = -1;
				if (u <= INT32_MAX && errno == 0 && !huge)
					continue;
			} else {
				v = strtoll(text, NULL, 10);
				if (huge)
					v = text[0] == '-' ? LLONG_MIN :
					    LLONG_MAX;
				if (v >= INT32_MIN && v <= INT32_MAX &&
				    errno == 0 && !huge)
					continue;
			}
			{
				struct conf_bigint *nb = realloc(ctx->bigints,
				    (ctx->nbigints + 1) * sizeof(*nb));

				if (nb == NULL)
					return -1;
				ctx->bigints = nb;
				nb[ctx->nbigints].line = line;
				nb[ctx->nbigints].wrapped =
				    (int32_t)(uint32_t)(unsigned long long)v;
				memcpy(nb[ctx->nbigints].text, text,
				    sizeof(text));
				ctx->nbigints++;
			}
		} else
			i++;
	}
	return 0;
}

/*
 * Read an integer setting.  *big is set when the literal did not fit in
 * 32 bits (libconfig wrapped it): no setting of tapline accepts such a
 * value, and `text` then holds the literal as written.
 */
static int
conf_read_int(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, long long *v, bool *big, char *text, size_t textlen)
{
	int type = config_setting_type(s);
	size_t i;

	/* Set the outputs on every path: callers read them only on success. */
	*v = 0;
	*big = false;
	snprintf(text, textlen, "?");
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return conf_error(ctx, s, label, "must be an integer, got %s",
		    conf_type_name(type));
	*v = config_setting_get_int64(s);
	snprintf(text, textlen, "%lld", *v);
	if (type != CONFIG_TYPE_INT || config_setting_source_file(s) != NULL)
		return 0;
	for (i = 0; i < ctx->nbigints; i++) {
		const struct conf_bigint *b = &ctx->bigints[i];

		if (b->line == config_setting_source_line(s) &&
		    b->wrapped == (int32_t)*v) {
			*big = true;
			util_strlcpy(text, b->text, textlen);
			break;
		}
	}
	return 0;
}

/* Read an integer and check it against min..max. */
static int
conf_read_int_range(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, long long min, long long max, long long *v)
{
	char text[32];
	bool big;

	if (conf_read_int(ctx, s, label, v, &big, text, sizeof(text)) == -1)
		return -1;
	if (big || *v < min || *v > max)
		return conf_error(ctx, s, label,
		    "%s is out of range %lld..%lld", text, min, max);
	return 0;
}

/* A string setting; anything else is a type error. */
static int
conf_read_string(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, const char **v)
{
	int type = config_setting_type(s);

	*v = "";
	if (type != CONFIG_TYPE_STRING)
		return conf_error(ctx, s, label, "must be a string, got %s",
		    conf_type_name(type));
	*v = config_setting_get_string(s);
	return 0;
}

/* A string that must be one of names[]; the message lists them all. */
static int
conf_read_enum(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, const char *const *names, size_t n, int *v)
{
	char allowed[256], q[CONF_QUOTE_MAX + 8];
	const char *str;
	size_t i, off = 0;

	*v = 0;
	if (conf_read_string(ctx, s, label, &str) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(str, names[i]) == 0) {
			*v = (int)i;
			return 0;
		}
	}
	for (i = 0; i < n && off < sizeof(allowed); i++)
		off += (size_t)snprintf(allowed + off, sizeof(allowed) - off,
		    "%s\"%s\"", i == 0 ? "" : i + 1 == n ? " or " : ", ",
		    names[i]);
	return conf_error(ctx, s, label, "%s is not allowed; use %s",
	    conf_quote(str, q, sizeof(q)), allowed);
}

/* Host names and IP literals: letters, digits and . - _ : [ ] %. */
static bool
conf_host_valid(const char *h)
{
	size_t len = strlen(h), i;

	if (len == 0 || len > CONF_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr(".-_:[]%", c) != NULL))
			return false;
	}
	return true;
}

/* "" (keep) or a name as useradd(8) allows it, or a numeric id. */
static bool
conf_user_valid(const char *v)
{
	size_t len = strlen(v), i;

	if (len == 0)
		return true;
	if (len > CONF_USER_MAX || v[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = v[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.' || (c == '$' && i + 1 == len)))
			return false;
	}
	return true;
}

/*
 * An existing interface name (a bridge): what the kernel accepts in
 * dev_valid_name(), minus the '%' that would make it a template.
 */
static bool
conf_ifname_valid(const char *n)
{
	size_t len = strlen(n), i;

	if (len == 0 || len >= IFNAMSIZ || strcmp(n, ".") == 0 ||
	    strcmp(n, "..") == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)n[i];

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || c == '%')
			return false;
	}
	return true;
}

/* "192.0.2.1/30" or "2001:db8::/32"; with `network`, no host bits. */
static int
conf_cidr_parse(const char *text, bool network, struct conf_cidr *c,
    char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1], q[CONF_QUOTE_MAX + 8];
	const char *slash = strchr(text, '/'), *p;
	size_t alen, i;
	int prefix = 0, max, bad = 0;

	memset(c, 0, sizeof(*c));
	conf_quote(text, q, sizeof(q));
	if (slash == NULL)
		return util_err(err, errlen, "%s has no prefix length; write "
		    "it like \"%s\" or \"%s\"", q,
		    network ? "198.51.100.0/24" : "192.0.2.1/30",
		    network ? "2001:db8:1::/48" : "2001:db8::1/64");
	alen = (size_t)(slash - text);
	if (alen == 0 || alen >= sizeof(addr))
		return util_err(err, errlen, "%s is not an IPv4 or IPv6 "
		    "address with a prefix length", q);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return util_err(err, errlen, "%s is not an IPv4 or IPv6 "
		    "address with a prefix length", q);
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3)
		bad = 1;
	for (; *p != '\0' && !bad; p++) {
		if (*p < '0' || *p > '9')
			bad = 1;
		else
			prefix = prefix * 10 + (*p - '0');
	}
	if (bad || prefix > max)
		return util_err(err, errlen, "%s: prefix length must be 0..%d",
		    q, max);
	c->prefix = prefix;
	if (network) {
		struct conf_cidr net = *c;
		char fixed[CONF_CIDR_STRLEN];
		size_t nbytes = c->family == AF_INET ? 4 : 16;

		for (i = 0; i < nbytes; i++) {
			int keep = prefix - (int)i * 8;

			if (keep <= 0)
				net.addr[i] = 0;
			else if (keep < 8)
				net.addr[i] &= (uint8_t)(0xff00 >> keep);
		}
		if (memcmp(net.addr, c->addr, nbytes) != 0) {
			conf_cidr_format(&net, fixed, sizeof(fixed));
			return util_err(err, errlen, "%s has host bits set; "
			    "did you mean \"%s\"?", q, fixed);
		}
	}
	return 0;
}

bool
conf_session_full_tunnel(const struct conf_session *s, int family)
{
	size_t i;

	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].prefix == 0 && (family == AF_UNSPEC ||
		    s->routes[i].family == family))
			return true;
	return false;
}

void
conf_cidr_format(const struct conf_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		util_strlcpy(a, "?", sizeof(a));
	snprintf(buf, len, "%s/%d", a, c->prefix);
}

/*
 * Call fn for every string of a list, an array or a single string (one
 * command or address needs no brackets).  Every element is checked even
 * after a bad one, so that all mistakes are reported.
 */
static int
conf_each_string(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label,
    int (*fn)(struct conf_ctx *, const config_setting_t *, const char *,
    const char *, void *), void *arg)
{
	char elabel[CONF_NAME_MAX * 2 + 32];
	int type = config_setting_type(s), n, i, r = 0;

	if (type == CONFIG_TYPE_STRING)
		return fn(ctx, s, label, config_setting_get_string(s), arg);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
		return conf_error(ctx, s, label, "must be a list of strings "
		    "like [ \"...\", \"...\" ], got %s", conf_type_name(type));
	n = config_setting_length(s);
	if (n > CONF_LIST_MAX)
		return conf_error(ctx, s, label, "has %d entries; at most %d "
		    "are allowed", n, CONF_LIST_MAX);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned int)i);

		/* Messages name an element like "cobra.up[1]". */
		snprintf(elabel, sizeof(elabel), "%s[%d]", label, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			r = conf_error(ctx, e, elabel, "must be a string, got "
			    "%s", conf_type_name(config_setting_type(e)));
			continue;
		}
		if (fn(ctx, e, elabel, config_setting_get_string(e), arg) ==
		    -1)
			r = -1;
	}
	return r;
}

/* ---------------------------------------------------------------- */
/* Sessions: freeing and copying */

static void
conf_argvs_free(struct script_argv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		script_argv_free(&v[i]);
	free(v);
}

/* Wipe and free a passphrase. */
static void
conf_passwd_free(char *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, strlen(p));
	free(p);
}

/* Free a list of strings (server). */
static void
conf_strs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Deep copy of a list of strings (defaults are copied into each session). */
static int
conf_strs_copy(char ***dst, size_t *ndst, char *const *src, size_t n)
{
	char **v;
	size_t i;

	*dst = NULL;
	*ndst = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(src[i])) == NULL) {
			conf_strs_free(v, i);
			return -1;
		}
	}
	*dst = v;
	*ndst = n;
	return 0;
}

/* Free what a session owns, wiping its secrets; the struct is reused. */
static void
conf_session_clear(struct conf_session *s)
{
	OPENSSL_cleanse(s->key, sizeof(s->key));
	OPENSSL_cleanse(s->pair_secret, sizeof(s->pair_secret));
	OPENSSL_cleanse(s->old_key, sizeof(s->old_key));
	conf_passwd_free(s->passwd);
	free(s->key_path);
	free(s->old_key_path);
	free(s->file);
	free(s->origin);
	conf_strs_free(s->server, s->nserver);
	free(s->address);
	free(s->routes);
	free(s->dns);
	conf_argvs_free(s->up, s->nup);
	conf_argvs_free(s->down, s->ndown);
	memset(s, 0, sizeof(*s));
}

/* Deep copy of an argv list (defaults are copied into each session). */
static int
conf_argvs_copy(struct script_argv **dst, size_t *ndst,
    const struct script_argv *src, size_t n)
{
	struct script_argv *v;
	size_t i;
	int j;

	*dst = NULL;
	*ndst = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v[i].argv = calloc((size_t)src[i].argc + 1, sizeof(char *));
		if (v[i].argv == NULL)
			goto fail;
		for (j = 0; j < src[i].argc; j++) {
			v[i].argv[j] = strdup(src[i].argv[j]);
			if (v[i].argv[j] == NULL)
				goto fail;
			v[i].argc = j + 1;
		}
	}
	*dst = v;
	*ndst = n;
	return 0;
fail:
	conf_argvs_free(v, n);
	return -1;
}

/* Copy an address or route array (defaults go into each session). */
static int
conf_cidrs_copy(struct conf_cidr **dst, const struct conf_cidr *src,
    size_t n)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	*dst = malloc(n * sizeof(**dst));
	if (*dst == NULL)
		return -1;
	memcpy(*dst, src, n * sizeof(**dst));
	return 0;
}

/*
 * Copy every setting a session can inherit from `default` (all but the
 * secrets, name and location) from src into a cleared dst.
 */
static int
conf_session_inherit(struct conf_session *dst, const struct conf_session *src)
{
	dst->proto = src->proto;
	dst->type = src->type;
	dst->keepalive = src->keepalive;
	dst->timeout = src->timeout;
	dst->persist = src->persist;
	dst->compress = src->compress;
	dst->cipher = src->cipher;
	memcpy(dst->device, src->device, sizeof(dst->device));
	dst->queues = src->queues;
	dst->mtu = src->mtu;
	dst->mssfix = src->mssfix;
	dst->speed_in = src->speed_in;
	dst->speed_out = src->speed_out;
	dst->multi = src->multi;
	memcpy(dst->bridge, src->bridge, sizeof(dst->bridge));
	dst->legacy = src->legacy;
	dst->server_random = src->server_random;
	memcpy(dst->peer_keys, src->peer_keys, sizeof(dst->peer_keys));
	dst->npeer_keys = src->npeer_keys;
	if (conf_strs_copy(&dst->server, &dst->nserver, src->server,
	    src->nserver) == -1)
		return -1;
	if (conf_cidrs_copy(&dst->address, src->address, src->naddress) == -1)
		return -1;
	dst->naddress = src->naddress;
	if (conf_cidrs_copy(&dst->routes, src->routes, src->nroutes) == -1)
		return -1;
	dst->nroutes = src->nroutes;
	dst->fwmark = src->fwmark;
	dst->table = src->table;
	if (conf_cidrs_copy(&dst->dns, src->dns, src->ndns) == -1)
		return -1;
	dst->ndns = src->ndns;
	if (conf_argvs_copy(&dst->up, &dst->nup, src->up, src->nup) == -1)
		return -1;
	if (conf_argvs_copy(&dst->down, &dst->ndown, src->down, src->ndown) ==
	    -1)
		return -1;
	return 0;
}

/*
 * A deep copy of a whole session into a cleared dst: a reload keeps the
 * sessions of a broken file of include_dir from the running conf, which
 * stays alive while its tunnels use it.
 */
static int
conf_session_copy(struct conf_session *dst, const struct conf_session *src)
{
	memset(dst, 0, sizeof(*dst));
	if (conf_session_inherit(dst, src) == -1)
		goto fail;
	memcpy(dst->name, src->name, sizeof(dst->name));
	memcpy(dst->tag, src->tag, sizeof(dst->tag));
	dst->line = src->line;
	dst->auth = src->auth;
	memcpy(dst->key, src->key, sizeof(dst->key));
	memcpy(dst->pair_secret, src->pair_secret, sizeof(dst->pair_secret));
	memcpy(dst->own_public, src->own_public, sizeof(dst->own_public));
	memcpy(dst->old_key, src->old_key, sizeof(dst->old_key));
	dst->has_old_key = src->has_old_key;
	dst->offload = src->offload;
	if ((dst->file = strdup(src->file)) == NULL ||
	    (dst->origin = strdup(src->origin)) == NULL)
		goto fail;
	if (src->key_path != NULL &&
	    (dst->key_path = strdup(src->key_path)) == NULL)
		goto fail;
	if (src->passwd != NULL &&
	    (dst->passwd = strdup(src->passwd)) == NULL)
		goto fail;
	if (src->old_key_path != NULL &&
	    (dst->old_key_path = strdup(src->old_key_path)) == NULL)
		goto fail;
	return 0;
fail:
	conf_session_clear(dst);
	return -1;
}

/* The built-in defaults, as tapline.conf(5) gives them. */
static void
conf_session_defaults(struct conf_session *s)
{
	memset(s, 0, sizeof(*s));
	s->proto = CONF_PROTO_UDP;
	s->type = DEV_TUN;
	s->keepalive = CONF_DEFAULT_KEEPALIVE;
	s->timeout = CONF_DEFAULT_TIMEOUT;
	s->persist = CONF_PERSIST_YES;
	s->compress = 0;
	s->cipher = CONF_CIPHER_AUTO;
	s->queues = 1;
	s->mtu = 0;
	s->mssfix = true;
	s->multi = CONF_MULTI_KILLOLD;
	s->fwmark = CONF_DEFAULT_FWMARK;
	s->table = CONF_DEFAULT_TABLE;
	s->legacy = CONF_LEGACY_NONE;
}

/* ---------------------------------------------------------------- */
/* Settings with their own logic */

/* Replace an owned string, keeping the old one on failure. */
static int
conf_set_string(struct conf_ctx *ctx, char **dst, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL) {
		ctx->oom = true;
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* Relative key paths are relative to the config file, not to the CWD. */
static char *
conf_resolve_path(const struct conf_ctx *ctx, const char *p)
{
	char *out;

	if (p[0] == '/' || strcmp(ctx->dir, ".") == 0)
		return strdup(p);
	if (asprintf(&out, "%s/%s", ctx->dir, p) == -1)
		return NULL;
	return out;
}

/*
 * A key file setting: resolve the path into *path, then read and check
 * the key file now.  empty says what to set instead of "".
 */
static int
conf_key_file(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, const char *empty, char **path, uint8_t key[KEY_LEN])
{
	char err[256];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (v[0] == '\0')
		return conf_error(ctx, s, label, "is empty; %s", empty);
	free(*path);
	if ((*path = conf_resolve_path(ctx, v)) == NULL) {
		ctx->oom = true;
		return -1;
	}
	if (key_read_file(*path, key, err, sizeof(err)) == -1)
		return conf_error(ctx, s, label, "%s: %s", *path, err);
	return 0;
}

/* key: the session's key file. */
static int
conf_f_key(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	b->s.auth = CONF_AUTH_KEY;
	if (conf_key_file(ctx, s, label, "set the path of a key file "
	    "(tapline genkey FILE writes one)", &b->s.key_path,
	    b->s.key) == -1)
		return -1;
	b->key_ok = true;
	return 0;
}

/*
 * old_key: a key file, read now like key's; conf_check_session says
 * where it may be used.
 */
static int
conf_f_old_key(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	if (conf_key_file(ctx, s, label, "set the path of the session's old "
	    "key file, or leave it out", &b->s.old_key_path,
	    b->s.old_key) == -1)
		return -1;
	b->s.has_old_key = true;
	return 0;
}

/* Characters, not bytes: a UTF-8 passphrase is judged by what was typed. */
static size_t
conf_utf8_len(const char *p)
{
	size_t n = 0;

	for (; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A passphrase is as secret as a key file, and refused, like one, in a
 * file that group or others can read.  The file is the one the setting
 * came from: the main file, or the one it @includes.  Only regular files
 * (-f /dev/stdin is a pipe) and only files (not text from memory).
 */
static int
conf_check_secret_file(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label)
{
	char file[PATH_MAX];
	struct stat st;
	const struct stat *sp = &st;

	conf_file_of(ctx, s, file, sizeof(file));
	if (config_setting_source_file(s) == NULL) {
		if ((sp = conf_src_of(ctx, s)->st) == NULL)
			return 0;
	} else if (stat(file, &st) != 0) {
		return conf_error(ctx, s, label, "cannot stat %s: %s", file,
		    strerror(errno));
	}
	if (!S_ISREG(sp->st_mode) || (sp->st_mode & 044) == 0)
		return 0;
	return conf_error(ctx, s, label, "%s is readable by group or others "
	    "(mode %04o) and holds this passphrase; chmod 600 it, or better "
	    "use a key file (tapline genkey)", file,
	    (unsigned)(sp->st_mode & 07777));
}

/* passwd: kept for scrypt; short ones draw a warning. */
static int
conf_f_passwd(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (conf_check_secret_file(ctx, s, label) == -1)
		return -1;
	if (v[0] == '\0')
		return conf_error(ctx, s, label, "is empty; set a passphrase "
		    "or, better, a key file (tapline genkey)");
	if (conf_utf8_len(v) < CONF_PASSWD_WARN_LEN)
		conf_warn(ctx, s, label, "passphrase is shorter than %d "
		    "characters; prefer a key file (tapline genkey)",
		    CONF_PASSWD_WARN_LEN);
	conf_passwd_free(b->s.passwd);
	b->s.passwd = strdup(v);
	if (b->s.passwd == NULL) {
		ctx->oom = true;
		return -1;
	}
	return 0;
}

/* A peer_key being read: the keys so far. */
struct conf_peer_keys {
	uint8_t k[CONF_PEER_KEYS_MAX][KEY_LEN];
	size_t n;
};

static int
conf_peer_key_elem(struct conf_ctx *ctx, const config_setting_t *e,
    const char *label, const char *text, void *arg)
{
	struct conf_peer_keys *l = arg;
	char err[128];
	size_t i;

	if (key_decode(text, strlen(text), l->k[l->n], err, sizeof(err)) != 0)
		return conf_error(ctx, e, label, "is not a public key: %s "
		    "(tapline pubkey on the peer prints its key)", err);
	for (i = 0; i < l->n; i++)
		if (memcmp(l->k[i], l->k[l->n], KEY_LEN) == 0)
			return conf_error(ctx, e, label, "is listed twice "
			    "(also entry %zu)", i);
	l->n++;
	return 0;
}

/*
 * peer_key: the other host's public key, or a list of up to
 * CONF_PEER_KEYS_MAX of them while one is replaced by another.
 */
static int
conf_f_peer_key(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	struct conf_peer_keys l = { .n = 0 };

	if (config_setting_is_aggregate(s)) {
		int n = config_setting_length(s);

		if (n == 0)
			return conf_error(ctx, s, label, "is an empty list; "
			    "give the peer's public key (tapline pubkey)");
		if (n > CONF_PEER_KEYS_MAX)
			return conf_error(ctx, s, label, "has %d keys; at most "
			    "%d are allowed (list the old and the new key "
			    "while replacing one)", n, CONF_PEER_KEYS_MAX);
	}
	if (conf_each_string(ctx, s, label, conf_peer_key_elem, &l) == -1)
		return -1;
	memcpy(b->s.peer_keys, l.k, sizeof(l.k));
	b->s.npeer_keys = l.n;
	return 0;
}

/* true, false, or "keep" (keep the device across reconnects). */
static int
conf_f_persist(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char q[CONF_QUOTE_MAX + 8];
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_BOOL) {
		b->s.persist = config_setting_get_bool(s) ? CONF_PERSIST_YES :
		    CONF_PERSIST_NO;
		return 0;
	}
	if (type != CONFIG_TYPE_STRING)
		return conf_error(ctx, s, label, "must be true, false or "
		    "\"keep\", got %s", conf_type_name(type));
	if (strcmp(config_setting_get_string(s), "keep") != 0)
		return conf_error(ctx, s, label, "%s is not allowed; use true, "
		    "false or \"keep\"",
		    conf_quote(config_setting_get_string(s), q, sizeof(q)));
	b->s.persist = CONF_PERSIST_KEEP;
	return 0;
}

/* A boolean setting into *out. */
static int
conf_bool(struct conf_ctx *ctx, const config_setting_t *s, const char *label,
    bool *out)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_BOOL)
		return conf_error(ctx, s, label, "must be true or false, got "
		    "%s", conf_type_name(type));
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* true or false: clamp the MSS of TCP SYNs to the path (UDP, tun). */
static int
conf_f_mssfix(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	return conf_bool(ctx, s, label, &((struct conf_build *)obj)->s.mssfix);
}

/* "no" or "zlib:1".."zlib:9". */
static int
conf_f_compress(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char q[CONF_QUOTE_MAX + 8];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (strcmp(v, "no") == 0) {
		b->s.compress = 0;
		return 0;
	}
	if (strncmp(v, "zlib:", 5) == 0 && v[5] >= '1' && v[5] <= '9' &&
	    v[6] == '\0') {
		b->s.compress = v[5] - '0';
		return 0;
	}
	return conf_error(ctx, s, label, "%s is not allowed; use \"no\" or "
	    "\"zlib:1\" .. \"zlib:9\"", conf_quote(v, q, sizeof(q)));
}

/* device: a fixed name or a "%d" template, as dev.c accepts it. */
static int
conf_f_device(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char err[256];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	/* "" leaves the choice to the kernel (tun%d, tap%d). */
	if (v[0] != '\0' && !dev_name_valid(v, err, sizeof(err)))
		return conf_error(ctx, s, label, "%s", err);
	util_strlcpy(b->s.device, v, sizeof(b->s.device));
	return 0;
}

/* mtu: 0 (derive) or CONF_MTU_MIN..CONF_MTU_MAX. */
static int
conf_f_mtu(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char text[32];
	long long v;
	bool big;

	if (conf_read_int(ctx, s, label, &v, &big, text, sizeof(text)) == -1)
		return -1;
	if (big || (v != 0 && (v < CONF_MTU_MIN || v > CONF_MTU_MAX)))
		return conf_error(ctx, s, label, "%s is out of range; use 0 "
		    "(derive from the underlay) or %d..%d", text, CONF_MTU_MIN,
		    CONF_MTU_MAX);
	b->s.mtu = (int)v;
	return 0;
}

/* One decimal number 0..CONF_SPEED_MAX of an "IN:OUT" string. */
static bool
conf_speed_part(const char *p, size_t len, uint32_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 9)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	if (n > CONF_SPEED_MAX)
		return false;
	*v = (uint32_t)n;
	return true;
}

/* kbit/s both ways as an integer, or "IN:OUT" (vtund's `speed`). */
static int
conf_f_speed(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char q[CONF_QUOTE_MAX + 8];
	int type = config_setting_type(s);
	const char *v, *colon;
	long long n;

	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		if (conf_read_int_range(ctx, s, label, 0, CONF_SPEED_MAX, &n) ==
		    -1)
			return -1;
		b->s.speed_in = b->s.speed_out = (uint32_t)n;
		return 0;
	}
	if (type != CONFIG_TYPE_STRING)
		return conf_error(ctx, s, label, "must be an integer (kbit/s) "
		    "or a string \"IN:OUT\", got %s", conf_type_name(type));
	v = config_setting_get_string(s);
	colon = strchr(v, ':');
	if (colon == NULL ||
	    !conf_speed_part(v, (size_t)(colon - v), &b->s.speed_in) ||
	    !conf_speed_part(colon + 1, strlen(colon + 1), &b->s.speed_out))
		return conf_error(ctx, s, label, "%s is not allowed; use "
		    "kbit/s as a number, or \"IN:OUT\" with each 0..%d",
		    conf_quote(v, q, sizeof(q)), CONF_SPEED_MAX);
	return 0;
}

/*
 * Room for every element of a list setting, or for the one string that
 * may stand for a list; conf_each_string rejects more than CONF_LIST_MAX.
 */
static void *
conf_list_alloc(struct conf_ctx *ctx, const config_setting_t *s, size_t size)
{
	int n = config_setting_is_aggregate(s) ? config_setting_length(s) : 1;
	void *v;

	v = calloc(n > 0 && n <= CONF_LIST_MAX ? (size_t)n : 1, size);
	if (v == NULL)
		ctx->oom = true;
	return v;
}

/* Collects the CIDRs of an address or routes list. */
struct conf_cidr_list {
	struct conf_cidr *v;
	size_t n;
	bool network;
};

/* One address or route of a list. */
static int
conf_cidr_elem(struct conf_ctx *ctx, const config_setting_t *e,
    const char *label, const char *text, void *arg)
{
	struct conf_cidr_list *l = arg;
	char err[256];

	if (conf_cidr_parse(text, l->network, &l->v[l->n], err,
	    sizeof(err)) == -1)
		return conf_error(ctx, e, label, "%s", err);
	l->n++;
	return 0;
}

/* address (network = false) or routes (network = true). */
static int
conf_cidr_setting(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, bool network, struct conf_cidr **out, size_t *nout)
{
	struct conf_cidr_list l = { .network = network };

	if ((l.v = conf_list_alloc(ctx, s, sizeof(*l.v))) == NULL)
		return -1;
	if (conf_each_string(ctx, s, label, conf_cidr_elem, &l) == -1) {
		free(l.v);
		return -1;
	}
	free(*out);
	*out = l.v;
	*nout = l.n;
	return 0;
}

static int
conf_f_address(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	return conf_cidr_setting(ctx, s, label, false, &b->s.address,
	    &b->s.naddress);
}

static int
conf_f_routes(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	return conf_cidr_setting(ctx, s, label, true, &b->s.routes,
	    &b->s.nroutes);
}

/* fwmark: the full tunnel's mark, 1..CONF_FWMARK_MAX (0 is no mark). */
static int
conf_f_fwmark(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	long long v;

	if (conf_read_int_range(ctx, s, label, 1, CONF_FWMARK_MAX, &v) == -1)
		return -1;
	b->s.fwmark = (uint32_t)v;
	return 0;
}

/*
 * table: the full tunnel's routing table.  The kernel's own tables
 * (default 253, main 254, local 255) would put the tunnel's default
 * route beside the one it must leave alone.
 */
static int
conf_f_table(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	long long v;

	if (conf_read_int_range(ctx, s, label, 1, CONF_TABLE_MAX, &v) == -1)
		return -1;
	if (v >= 253 && v <= 255)
		return conf_error(ctx, s, label, "%lld is the kernel's %s "
		    "table; a full tunnel needs a table of its own", v,
		    v == 253 ? "default" : v == 254 ? "main" : "local");
	b->s.table = (uint32_t)v;
	return 0;
}

/* One DNS server: an IPv4 or IPv6 address without a prefix length. */
static int
conf_dns_elem(struct conf_ctx *ctx, const config_setting_t *e,
    const char *label, const char *text, void *arg)
{
	struct conf_cidr_list *l = arg;
	struct conf_cidr *c = &l->v[l->n];
	char q[CONF_QUOTE_MAX + 8];

	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, text, c->addr) == 1) {
		c->family = AF_INET;
		c->prefix = 32;
	} else if (inet_pton(AF_INET6, text, c->addr) == 1) {
		c->family = AF_INET6;
		c->prefix = 128;
	} else
		return conf_error(ctx, e, label, "%s is not an IPv4 or IPv6 "
		    "address (a DNS server, like \"192.0.2.53\" or "
		    "\"2001:db8::53\", without a prefix length)",
		    conf_quote(text, q, sizeof(q)));
	l->n++;
	return 0;
}

/* dns: the device's DNS servers. */
static int
conf_f_dns(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	struct conf_cidr_list l = { .network = false };

	if ((l.v = conf_list_alloc(ctx, s, sizeof(*l.v))) == NULL)
		return -1;
	if (conf_each_string(ctx, s, label, conf_dns_elem, &l) == -1) {
		free(l.v);
		return -1;
	}
	free(b->s.dns);
	b->s.dns = l.v;
	b->s.ndns = l.n;
	return 0;
}

static int
conf_f_bridge(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	char q[CONF_QUOTE_MAX + 8];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	/* "" means no bridge; tap-only is checked once type is known. */
	if (v[0] != '\0' && !conf_ifname_valid(v))
		return conf_error(ctx, s, label, "%s is not an interface name "
		    "(1..%d bytes, no whitespace, '/', ':' or '%%')",
		    conf_quote(v, q, sizeof(q)), IFNAMSIZ - 1);
	util_strlcpy(b->s.bridge, v, sizeof(b->s.bridge));
	return 0;
}

/* Collects the split commands of an up or down list. */
struct conf_cmd_list {
	struct script_argv *v;
	size_t n;
};

/* One command of an up or down list, split into argv now. */
static int
conf_cmd_elem(struct conf_ctx *ctx, const config_setting_t *e,
    const char *label, const char *text, void *arg)
{
	struct conf_cmd_list *l = arg;
	char err[256];

	if (script_split(text, &l->v[l->n], err, sizeof(err)) == -1)
		return conf_error(ctx, e, label, "%s", err);
	l->n++;
	return 0;
}

/* up or down: every command must split, or the setting is refused. */
static int
conf_cmd_setting(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, struct script_argv **out, size_t *nout)
{
	struct conf_cmd_list l = { 0 };

	if ((l.v = conf_list_alloc(ctx, s, sizeof(*l.v))) == NULL)
		return -1;
	if (conf_each_string(ctx, s, label, conf_cmd_elem, &l) == -1) {
		conf_argvs_free(l.v, l.n);
		return -1;
	}
	conf_argvs_free(*out, *nout);
	*out = l.v;
	*nout = l.n;
	return 0;
}

static int
conf_f_up(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	return conf_cmd_setting(ctx, s, label, &b->s.up, &b->s.nup);
}

static int
conf_f_down(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;

	return conf_cmd_setting(ctx, s, label, &b->s.down, &b->s.ndown);
}

/* Collects the hosts of a server list. */
struct conf_str_list {
	char **v;
	size_t n;
};

/* One host of a server list. */
static int
conf_server_elem(struct conf_ctx *ctx, const config_setting_t *e,
    const char *label, const char *text, void *arg)
{
	struct conf_str_list *l = arg;
	char q[CONF_QUOTE_MAX + 8];

	if (!conf_host_valid(text))
		return conf_error(ctx, e, label, "%s is not a host name or IP "
		    "address", conf_quote(text, q, sizeof(q)));
	if ((l->v[l->n] = strdup(text)) == NULL) {
		ctx->oom = true;
		return -1;
	}
	l->n++;
	return 0;
}

/*
 * server: one host, or a list of them tried in turn (OpenVPN's remote
 * lines); an empty list would leave a client nothing to connect to.
 */
static int
conf_f_server(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_build *b = obj;
	struct conf_str_list l = { 0 };

	if (config_setting_is_aggregate(s)) {
		int n = config_setting_length(s);

		if (n == 0)
			return conf_error(ctx, s, label, "is an empty list; "
			    "give one or more hosts, or leave it out");
		if (n > CONF_SERVER_MAX)
			return conf_error(ctx, s, label, "has %d entries; at "
			    "most %d are allowed", n, CONF_SERVER_MAX);
	}
	if ((l.v = conf_list_alloc(ctx, s, sizeof(*l.v))) == NULL)
		return -1;
	if (conf_each_string(ctx, s, label, conf_server_elem, &l) == -1) {
		conf_strs_free(l.v, l.n);
		return -1;
	}
	conf_strs_free(b->s.server, b->s.nserver);
	b->s.server = l.v;
	b->s.nserver = l.n;
	return 0;
}

/* server_random: true or false. */
static int
conf_f_server_random(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	return conf_bool(ctx, s, label,
	    &((struct conf_build *)obj)->s.server_random);
}

/* syslog: a facility name that log.c knows. */
static int
conf_o_syslog(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_options *o = obj;
	char q[CONF_QUOTE_MAX + 8];
	const char *v;
	int f;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	f = log_facility_from_name(v);
	if (f == -1)
		return conf_error(ctx, s, label, "%s is not allowed; use "
		    "\"daemon\", \"user\", \"auth\", \"authpriv\" or "
		    "\"local0\" .. \"local7\"", conf_quote(v, q, sizeof(q)));
	o->syslog_facility = f;
	return conf_set_string(ctx, &o->syslog, v);
}

/* control: an absolute path that fits in a sockaddr_un. */
static int
conf_o_control(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_options *o = obj;
	struct sockaddr_un sun;
	char q[CONF_QUOTE_MAX + 8];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (v[0] != '/')
		return conf_error(ctx, s, label, "%s is not an absolute path",
		    conf_quote(v, q, sizeof(q)));
	if (strlen(v) >= sizeof(sun.sun_path))
		return conf_error(ctx, s, label, "is longer than %zu bytes, "
		    "the limit of a unix socket path",
		    sizeof(sun.sun_path) - 1);
	return conf_set_string(ctx, &o->control, v);
}

/* include_dir: "" for none, else a directory; relative to the file's. */
static int
conf_o_include_dir(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_options *o = obj;
	const char *v;
	char *p;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (v[0] == '\0')
		return conf_set_string(ctx, &o->include_dir, v);
	if ((p = conf_resolve_path(ctx, v)) == NULL) {
		ctx->oom = true;
		return -1;
	}
	free(o->include_dir);
	o->include_dir = p;
	return 0;
}

/*
 * private_key: this host's X25519 private key file (tapline genkey
 * --private), read and checked now like a key file; "" = none.
 */
static int
conf_o_private_key(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_options *o = obj;
	char err[256];
	const char *v;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	o->private_key_ok = false;
	if (v[0] == '\0')
		return conf_set_string(ctx, &o->private_key, v);
	if (conf_key_file(ctx, s, label, "", &o->private_key,
	    o->private_bytes) == -1)
		return -1;
	if (keypair_public(o->private_bytes, o->public_key, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, s, label, "%s: %s", o->private_key,
		    err);
	o->private_key_ok = true;
	return 0;
}

/*
 * metrics_listen: "" (off), or an IP literal and a port: "127.0.0.1:9479",
 * "[::1]:9479".  A literal, not a name: the endpoint is unauthenticated,
 * and where it listens should be plain to see.
 */
static int
conf_o_metrics_listen(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	struct conf_options *o = obj;
	char q[CONF_QUOTE_MAX + 8], host[INET6_ADDRSTRLEN + 2];
	unsigned char a[sizeof(struct in6_addr)];
	const char *v, *colon, *port;
	size_t hl;
	char *end;
	long p;

	if (conf_read_string(ctx, s, label, &v) == -1)
		return -1;
	if (v[0] == '\0')
		return conf_set_string(ctx, &o->metrics_listen, v);
	colon = strrchr(v, ':');
	hl = colon != NULL ? (size_t)(colon - v) : 0;
	if (colon == NULL || hl == 0 || hl >= sizeof(host))
		goto bad;
	port = colon + 1;
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			goto bad;
		memcpy(host, v + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			goto bad;
	} else {
		memcpy(host, v, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, a) != 1)
			goto bad;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 ||
	    p < 1 || p > 65535)
		goto bad;
	return conf_set_string(ctx, &o->metrics_listen, v);
bad:
	return conf_error(ctx, s, label, "%s is not \"\" (off) or an IP "
	    "address and port (\"127.0.0.1:9479\", \"[::1]:9479\")",
	    conf_quote(v, q, sizeof(q)));
}

/* true or false: TUN offloads and UDP GSO/GRO where the kernel has them. */
static int
conf_o_offload(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, void *obj)
{
	return conf_bool(ctx, s, label, &((struct conf_options *)obj)->offload);
}

/* ---------------------------------------------------------------- */
/* Settings tables */

/* Shorthands for the tables below: how a setting is read, where it goes. */
#define K_ENUM(t) .kind = CONF_K_ENUM, .names = (t), \
	.nnames = UTIL_ARRAY_LEN(t)
#define K_INT(lo, hi) .kind = CONF_K_INT, .min = (lo), .max = (hi)
#define K_STRING(fn, what) .kind = CONF_K_STRING, .valid = (fn), \
	.invalid = (what)
#define K_FUNC(fn) .kind = CONF_K_FUNC, .parse = (fn)
/* Field m of the session (in a struct conf_build) or of the options. */
#define IN_SESSION(m) .off = offsetof(struct conf_build, s.m)
#define IN_OPTIONS(m) .off = offsetof(struct conf_options, m)

/* Indexed by enum conf_field, which also indexes conf_build.src. */
static const struct conf_setting conf_session_settings[F_COUNT + 1] = {
	[F_KEY] = { "key", K_FUNC(conf_f_key), .session_only = true },
	[F_PASSWD] = { "passwd", K_FUNC(conf_f_passwd),
	    .session_only = true },
	[F_PEER_KEY] = { "peer_key", K_FUNC(conf_f_peer_key) },
	[F_OLD_KEY] = { "old_key", K_FUNC(conf_f_old_key),
	    .session_only = true },
	[F_SERVER] = { "server", K_FUNC(conf_f_server) },
	[F_SERVER_RANDOM] = { "server_random", K_FUNC(conf_f_server_random) },
	[F_PROTO] = { "proto", K_ENUM(conf_proto_names), IN_SESSION(proto) },
	[F_TYPE] = { "type", K_ENUM(conf_type_names), IN_SESSION(type) },
	[F_KEEPALIVE] = { "keepalive", K_INT(0, CONF_KEEPALIVE_MAX),
	    IN_SESSION(keepalive) },
	[F_TIMEOUT] = { "timeout", K_INT(1, CONF_TIMEOUT_MAX),
	    IN_SESSION(timeout) },
	[F_PERSIST] = { "persist", K_FUNC(conf_f_persist) },
	[F_COMPRESS] = { "compress", K_FUNC(conf_f_compress) },
	[F_CIPHER] = { "cipher", K_ENUM(conf_cipher_names),
	    IN_SESSION(cipher) },
	[F_DEVICE] = { "device", K_FUNC(conf_f_device) },
	[F_QUEUES] = { "queues", K_INT(1, DEV_MAX_QUEUES),
	    IN_SESSION(queues) },
	[F_MTU] = { "mtu", K_FUNC(conf_f_mtu) },
	[F_MSSFIX] = { "mssfix", K_FUNC(conf_f_mssfix) },
	[F_SPEED] = { "speed", K_FUNC(conf_f_speed) },
	[F_MULTI] = { "multi", K_ENUM(conf_multi_names), IN_SESSION(multi) },
	[F_ADDRESS] = { "address", K_FUNC(conf_f_address) },
	[F_ROUTES] = { "routes", K_FUNC(conf_f_routes) },
	[F_FWMARK] = { "fwmark", K_FUNC(conf_f_fwmark) },
	[F_TABLE] = { "table", K_FUNC(conf_f_table) },
	[F_DNS] = { "dns", K_FUNC(conf_f_dns) },
	[F_BRIDGE] = { "bridge", K_FUNC(conf_f_bridge) },
	[F_UP] = { "up", K_FUNC(conf_f_up) },
	[F_DOWN] = { "down", K_FUNC(conf_f_down) },
	[F_LEGACY] = { "legacy", K_ENUM(conf_legacy_names),
	    IN_SESSION(legacy) },
};

static const struct conf_setting conf_option_settings[] = {
	{ "port", K_INT(1, 65535), IN_OPTIONS(port) },
	{ "listen", K_STRING(conf_host_valid, "is not an IP address or host "
	    "name (\"::\" listens on every address)"), IN_OPTIONS(listen) },
	{ "syslog", K_FUNC(conf_o_syslog) },
	{ "control", K_FUNC(conf_o_control) },
	{ "user", K_STRING(conf_user_valid, "is not a user name"),
	    IN_OPTIONS(user) },
	{ "group", K_STRING(conf_user_valid, "is not a group name"),
	    IN_OPTIONS(group) },
	{ "offload", K_FUNC(conf_o_offload) },
	{ "include_dir", K_FUNC(conf_o_include_dir) },
	{ "metrics_listen", K_FUNC(conf_o_metrics_listen) },
	{ "private_key", K_FUNC(conf_o_private_key) },
	{ .name = NULL },
};

#undef K_ENUM
#undef K_INT
#undef K_STRING
#undef K_FUNC
#undef IN_SESSION
#undef IN_OPTIONS

/* The index of the setting called name in table t, or -1. */
static int
conf_find(const struct conf_setting *t, const char *name)
{
	int i;

	for (i = 0; t[i].name != NULL; i++)
		if (strcmp(t[i].name, name) == 0)
			return i;
	return -1;
}

/* Read setting s into obj, the struct being built, as table entry d says. */
static void
conf_apply(struct conf_ctx *ctx, const struct conf_setting *d,
    const config_setting_t *s, const char *label, void *obj)
{
	void *field = (char *)obj + d->off;
	char q[CONF_QUOTE_MAX + 8];
	const char *v;
	long long n;
	int e, r;

	switch (d->kind) {
	case CONF_K_ENUM:
		r = conf_read_enum(ctx, s, label, d->names, d->nnames, &e);
		if (r == 0)
			*(int *)field = e;
		break;
	case CONF_K_INT:
		r = conf_read_int_range(ctx, s, label, d->min, d->max, &n);
		if (r == 0)
			*(int *)field = (int)n;
		break;
	case CONF_K_STRING:
		if (conf_read_string(ctx, s, label, &v) == -1)
			break;
		if (d->valid(v))
			conf_set_string(ctx, (char **)field, v);
		else
			conf_error(ctx, s, label, "%s %s",
			    conf_quote(v, q, sizeof(q)), d->invalid);
		break;
	case CONF_K_FUNC:
		d->parse(ctx, s, label, obj);
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Unknown settings */

/* Keep the closest candidate: edit distance <= 2, or a prefix of it. */
static void
conf_suggest_one(const char *name, const char *cand, const char **best,
    size_t *bestd)
{
	size_t d = util_edit_distance(name, cand);
	size_t ln = strlen(name), lc = strlen(cand);
	bool prefix = (ln >= 3 && ln < lc && strncmp(name, cand, ln) == 0) ||
	    (lc >= 3 && lc < ln && strncmp(name, cand, lc) == 0);

	/*
	 * Rank: one edit, then a prefix ("keep" for "keepalive"), then two
	 * edits.  A short name is within two edits of any short name, so
	 * the distance must also be smaller than the candidate.
	 */
	if (d <= 2 && d < lc)
		d = d == 1 ? 1 : prefix ? 2 : 3;
	else if (prefix)
		d = 2;
	else
		return;
	if (*best == NULL || d < *bestd) {
		*best = cand;
		*bestd = d;
	}
}

/* Report an unknown setting inside options, default or a session. */
static void
conf_unknown(struct conf_ctx *ctx, const config_setting_t *s,
    const char *label, bool in_options)
{
	const struct conf_setting *t = in_options ? conf_option_settings :
	    conf_session_settings;
	const char *name = config_setting_name(s), *best = NULL;
	size_t bestd = 0;
	int f;

	if (in_options && (f = conf_find(conf_session_settings, name)) >= 0) {
		conf_error(ctx, s, label, "unknown setting; \"%s\" belongs in "
		    "a session%s", name, conf_session_settings[f].session_only ?
		    "" : " or in default = { ... }");
		return;
	}
	if (!in_options && conf_find(conf_option_settings, name) >= 0) {
		conf_error(ctx, s, label, "unknown setting; \"%s\" belongs in "
		    "options = { ... }", name);
		return;
	}
	for (; t->name != NULL; t++)
		conf_suggest_one(name, t->name, &best, &bestd);
	if (best != NULL)
		conf_error(ctx, s, label, "unknown setting; did you mean "
		    "\"%s\"?", best);
	else
		conf_error(ctx, s, label, "unknown setting (tapline.conf(5) "
		    "lists them all)");
}

/* ---------------------------------------------------------------- */
/* Groups */

/* Parse the options group into o (defaults already set). */
static void
conf_parse_options(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_options *o)
{
	char label[CONF_NAME_MAX * 2 + 8];
	int n = config_setting_length(g), i, f;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g,
		    (unsigned int)i);
		const char *name = config_setting_name(s);

		snprintf(label, sizeof(label), "options.%s", name);
		f = conf_find(conf_option_settings, name);
		if (f < 0)
			conf_unknown(ctx, s, label, true);
		else
			conf_apply(ctx, &conf_option_settings[f], s, label, o);
	}
}

/*
 * Apply the members of a session group (or of `default`, when
 * is_default) on top of what b already holds.
 */
static void
conf_parse_group(struct conf_ctx *ctx, const config_setting_t *g,
    const char *gname, bool is_default, struct conf_build *b)
{
	char label[CONF_NAME_MAX * 2 + 8];
	int n = config_setting_length(g), i, f;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g,
		    (unsigned int)i);
		const char *name = config_setting_name(s);

		snprintf(label, sizeof(label), "%s.%s", gname, name);
		f = conf_find(conf_session_settings, name);
		if (f < 0) {
			conf_unknown(ctx, s, label, false);
			continue;
		}
		if (is_default && conf_session_settings[f].session_only) {
			conf_error(ctx, s, label, "not allowed in default; "
			    "secrets belong to one session, set %s there",
			    name);
			continue;
		}
		b->src[f] = s;
		conf_apply(ctx, &conf_session_settings[f], s, label, b);
	}
}

/* Was field f of session b set in `default` rather than in the session? */
static bool
conf_inherited(const struct conf_build *b, enum conf_field f)
{
	return b->src[f] != NULL && config_setting_parent(b->src[f]) !=
	    b->group;
}

/* Was field f set in the session's own group? */
static bool
conf_own(const struct conf_build *b, enum conf_field f)
{
	return b->src[f] != NULL && !conf_inherited(b, f);
}

/* Where to report a problem with field f: its setting, else the session. */
static const config_setting_t *
conf_where(const struct conf_build *b, enum conf_field f)
{
	return b->src[f] != NULL ? b->src[f] : b->group;
}

/*
 * What a legacy = "vtun" session cannot do: the native protocol's
 * ciphers, multiqueue, shaping, and packets bigger than vtund reads.
 * `auto` (the default) means vtund's `encrypt no` here.
 */
static void
conf_check_legacy(struct conf_ctx *ctx, struct conf_build *b,
    const char *name)
{
	char label[CONF_NAME_MAX + 16];

	if (b->s.cipher == CONF_CIPHER_AES_256_GCM ||
	    b->s.cipher == CONF_CIPHER_CHACHA20_POLY1305) {
		snprintf(label, sizeof(label), "%s.cipher", name);
		conf_error(ctx, conf_where(b, F_CIPHER), label, "%s is not a "
		    "vtund cipher; a legacy session takes none, "
		    "blowfish128ecb, aes128ecb or aes256ecb",
		    conf_cipher_name(b->s.cipher));
	}
	if (b->s.cipher == CONF_CIPHER_AUTO)
		b->s.cipher = CONF_CIPHER_NONE;
	/* vtund's HOST line ("HOST: name" in 49 bytes) holds 43 bytes. */
	if (strlen(name) > CONF_LEGACY_NAME_MAX) {
		snprintf(label, sizeof(label), "%s.legacy", name);
		conf_error(ctx, conf_where(b, F_LEGACY), label, "vtund "
		    "session names have at most %d characters",
		    CONF_LEGACY_NAME_MAX);
	}
	if (b->s.queues > 1) {
		snprintf(label, sizeof(label), "%s.queues", name);
		conf_error(ctx, conf_where(b, F_QUEUES), label, "a legacy "
		    "session has one queue; set queues = 1");
	}
	if (b->s.speed_in != 0 || b->s.speed_out != 0) {
		snprintf(label, sizeof(label), "%s.speed", name);
		conf_error(ctx, conf_where(b, F_SPEED), label, "tapline does "
		    "not shape legacy sessions; set speed = 0");
	}
	if (b->s.mtu > CONF_LEGACY_MTU_MAX) {
		snprintf(label, sizeof(label), "%s.mtu", name);
		conf_error(ctx, conf_where(b, F_MTU), label, "vtund carries "
		    "packets of at most 2048 bytes; a legacy session's mtu "
		    "is at most %d", CONF_LEGACY_MTU_MAX);
	}
}

/*
 * Warn when the peer may be declared dead between two keepalives; gname
 * is "default" or the session's name.  The built-in values are fine, so
 * one of the two was set: name timeout if it was, else keepalive.
 */
static void
conf_check_keepalive(struct conf_ctx *ctx, const struct conf_build *b,
    const char *gname)
{
	enum conf_field f = b->src[F_TIMEOUT] != NULL ? F_TIMEOUT :
	    F_KEEPALIVE;
	char label[CONF_NAME_MAX + 16];

	if (b->s.keepalive == 0 || b->s.timeout > b->s.keepalive)
		return;
	snprintf(label, sizeof(label), "%s.%s", gname,
	    conf_session_settings[f].name);
	conf_warn(ctx, conf_where(b, f), label, "timeout (%d s) is not longer "
	    "than keepalive (%d s); the peer may be declared dead between "
	    "two keepalives", b->s.timeout, b->s.keepalive);
}

/* The checks of conf_check_session on `default` alone, reported once. */
static void
conf_check_default(struct conf_ctx *ctx, const struct conf_build *d)
{
	if (d->s.bridge[0] != '\0' && d->s.type != DEV_TAP)
		conf_error(ctx, d->src[F_BRIDGE], "default.bridge", "only a "
		    "tap session can join a bridge; set type = \"tap\" in "
		    "default too, or set bridge in the tap sessions only");
	conf_check_keepalive(ctx, d, "default");
}

/*
 * Key pairs: this host's private key must be set, and each peer key
 * must be another host's usable key.  The X25519 secret of each is
 * computed here, once per load, so that the handshake's key schedule
 * needs only hashes.
 */
static void
conf_check_peer_keys(struct conf_ctx *ctx, struct conf_build *b)
{
	const config_setting_t *where = conf_where(b, F_PEER_KEY);
	const struct conf_options *o = ctx->opts;
	char label[CONF_NAME_MAX + 16], err[256];
	size_t i;

	snprintf(label, sizeof(label), "%s.peer_key", b->s.name);
	if (b->src[F_PASSWD] != NULL) {
		conf_error(ctx, b->src[F_PASSWD], label, "a passphrase cannot "
		    "be combined with peer_key; give a key file (key = "
		    "\"...\") with it, or peer_key alone");
		return;
	}
	if (b->s.legacy == CONF_LEGACY_VTUN) {
		conf_error(ctx, where, label, "vtund has no key pairs; a "
		    "legacy = \"vtun\" session needs passwd = \"...\"");
		return;
	}
	if (b->src[F_KEY] == NULL)
		b->s.auth = CONF_AUTH_PAIR;
	if (o == NULL || !o->private_key_ok) {
		/* A private_key that failed to load has said so already. */
		if (o == NULL || o->private_key == NULL ||
		    o->private_key[0] == '\0')
			conf_error(ctx, where, label, "needs this host's "
			    "private key: set options.private_key = "
			    "\"/etc/tapline/host.key\" (tapline genkey "
			    "--private FILE makes one)");
		return;
	}
	memcpy(b->s.own_public, o->public_key, KEY_LEN);
	for (i = 0; i < b->s.npeer_keys; i++) {
		if (CRYPTO_memcmp(b->s.peer_keys[i], o->public_key,
		    KEY_LEN) == 0) {
			conf_error(ctx, where, label, "key %zu is this host's "
			    "own public key (options.private_key); peer_key "
			    "is the other host's (tapline pubkey there)", i);
			return;
		}
		if (keypair_shared(o->private_bytes, b->s.peer_keys[i],
		    b->s.pair_secret[i], err, sizeof(err)) != 0) {
			conf_error(ctx, where, label, "key %zu: %s", i, err);
			return;
		}
	}
}

/* Checks that need the whole, resolved session. */
static void
conf_check_session(struct conf_ctx *ctx, struct conf_build *b)
{
	const char *name = b->s.name;
	char label[CONF_NAME_MAX + 16];

	/* A misspelt `default` or `options` group lands here as a session. */
	if (b->src[F_KEY] == NULL && b->src[F_PASSWD] == NULL &&
	    b->src[F_PEER_KEY] == NULL)
		conf_error(ctx, b->group, name, "missing key; set peer_key = "
		    "\"...\" (with options.private_key), key = \"/path\" "
		    "(tapline genkey) or passwd = \"...\"%s",
		    util_edit_distance(name, "default") <= 2 ?
		    " (or did you mean \"default\"?)" :
		    util_edit_distance(name, "options") <= 2 ?
		    " (or did you mean \"options\"?)" : "");
	if (b->src[F_KEY] != NULL && b->src[F_PASSWD] != NULL) {
		snprintf(label, sizeof(label), "%s.passwd", name);
		conf_error(ctx, b->src[F_PASSWD], label, "set either key or "
		    "passwd, not both");
	}
	if (b->src[F_PASSWD] != NULL && b->src[F_KEY] == NULL)
		b->s.auth = CONF_AUTH_PASSWD;
	if (b->s.npeer_keys > 0)
		conf_check_peer_keys(ctx, b);
	if (b->src[F_OLD_KEY] != NULL) {
		snprintf(label, sizeof(label), "%s.old_key", name);
		if (b->src[F_PEER_KEY] == NULL)
			conf_error(ctx, b->src[F_OLD_KEY], label, "is for a "
			    "session moving to key pairs: set peer_key too, "
			    "or use key = \"...\" for a shared key");
		else if (b->s.has_old_key && b->src[F_KEY] != NULL &&
		    CRYPTO_memcmp(b->s.old_key, b->s.key, KEY_LEN) == 0)
			conf_error(ctx, b->src[F_OLD_KEY], label, "is the "
			    "session's key; old_key lets the key in alone, "
			    "key with peer_key needs both");
	}

	/*
	 * A conflict between values that all come from `default` was
	 * reported once for `default`; repeat it only when the session
	 * itself set one of the values.
	 */
	if (b->s.bridge[0] != '\0' && b->s.type != DEV_TAP &&
	    (conf_own(b, F_BRIDGE) || conf_own(b, F_TYPE))) {
		snprintf(label, sizeof(label), "%s.bridge", name);
		conf_error(ctx, conf_where(b, F_BRIDGE), label, "only a tap "
		    "session can join a bridge; set type = \"tap\" or "
		    "bridge = \"\"%s", conf_inherited(b, F_BRIDGE) ?
		    " (bridge is inherited from default)" : "");
	}
	if (conf_own(b, F_KEEPALIVE) || conf_own(b, F_TIMEOUT))
		conf_check_keepalive(ctx, b, name);
	if (b->s.legacy != CONF_LEGACY_VTUN &&
	    b->s.cipher >= CONF_CIPHER_NONE) {
		snprintf(label, sizeof(label), "%s.cipher", name);
		conf_error(ctx, conf_where(b, F_CIPHER), label, "\"%s\" is a "
		    "vtund cipher, only for legacy = \"vtun\" sessions; use "
		    "auto, aes-256-gcm or chacha20-poly1305",
		    conf_cipher_name(b->s.cipher));
	}
	if (b->s.legacy == CONF_LEGACY_VTUN) {
		snprintf(label, sizeof(label), "%s.legacy", name);
		if (b->src[F_KEY] != NULL)
			conf_error(ctx, conf_where(b, F_LEGACY), label,
			    "vtund authenticates with a password; use "
			    "passwd = \"...\" instead of key");
		conf_check_legacy(ctx, b, name);
		conf_warn(ctx, conf_where(b, F_LEGACY), label, "the vtund 3.0 "
		    "protocol is not secure (weak encryption, no integrity); "
		    "use it only to reach an old peer");
	}
}

/* Session names are identities and reach logs, scripts and file names. */
bool
conf_name_valid(const char *n)
{
	size_t len = strlen(n), i;

	if (len == 0 || len > CONF_NAME_MAX)
		return false;
	if (!((n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z')))
		return false;
	for (i = 1; i < len; i++) {
		char c = n[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * vtund's handshake (a challenge encrypted with Blowfish under the MD5
 * of the passphrase) lets whoever sees or answers it test guesses
 * offline at MD5 speed, which undoes the scrypt a native session puts in
 * front of the same passphrase.  So a passphrase of a legacy session
 * must not also be a native session's.
 */
static void
conf_check_passwd_reuse(struct conf_ctx *ctx, const struct conf_build *a,
    const struct conf_build *b)
{
	const struct conf_build *old, *nat;
	char label[CONF_NAME_MAX + 16], where[PATH_MAX];

	if (a->src[F_PASSWD] == NULL || b->src[F_PASSWD] == NULL ||
	    a->s.passwd == NULL || b->s.passwd == NULL ||
	    (a->s.legacy == CONF_LEGACY_VTUN) ==
	    (b->s.legacy == CONF_LEGACY_VTUN) ||
	    strlen(a->s.passwd) != strlen(b->s.passwd) ||
	    CRYPTO_memcmp(a->s.passwd, b->s.passwd, strlen(a->s.passwd)) != 0)
		return;
	old = a->s.legacy == CONF_LEGACY_VTUN ? a : b;
	nat = old == a ? b : a;
	conf_file_of(ctx, old->src[F_PASSWD], where, sizeof(where));
	snprintf(label, sizeof(label), "%s.passwd", nat->s.name);
	conf_error(ctx, nat->src[F_PASSWD], label, "same passphrase as the "
	    "legacy session \"%s\" (%s:%u); vtund's handshake lets anyone "
	    "who sees it test guesses offline (MD5, Blowfish), so give this "
	    "session a key file (tapline genkey) or its own passphrase",
	    old->s.name, where,
	    config_setting_source_line(old->src[F_PASSWD]));
}

/*
 * old_key lets a connection in alone, as a shared key does, so the
 * server would meet one identity twice if b's old_key were a's key or
 * old_key, or b's key a's old_key.  A key counts only if its flag says
 * it identifies the session.  Returns b's setting that clashes (F_KEY
 * or F_OLD_KEY) and puts a's in *af; F_COUNT when none does.
 */
static enum conf_field
conf_old_key_clash(const struct conf_session *b, bool bkey,
    const struct conf_session *a, bool akey, enum conf_field *af)
{
	if (b->has_old_key && akey &&
	    CRYPTO_memcmp(b->old_key, a->key, KEY_LEN) == 0) {
		*af = F_KEY;
		return F_OLD_KEY;
	}
	*af = F_OLD_KEY;
	if (b->has_old_key && a->has_old_key &&
	    CRYPTO_memcmp(b->old_key, a->old_key, KEY_LEN) == 0)
		return F_OLD_KEY;
	if (bkey && a->has_old_key &&
	    CRYPTO_memcmp(b->key, a->old_key, KEY_LEN) == 0)
		return F_KEY;
	return F_COUNT;
}

/*
 * Checks across sessions: keys must differ, devices should, and a
 * legacy session's passphrase guards no native session.
 */
static void
conf_check_sessions(struct conf_ctx *ctx, struct conf_build *bs, size_t n)
{
	char label[CONF_NAME_MAX + 16], where[PATH_MAX];
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			conf_check_passwd_reuse(ctx, &bs[j], &bs[i]);
		for (j = 0; j < i; j++) {
			if (!bs[i].key_ok || !bs[j].key_ok ||
			    CRYPTO_memcmp(bs[i].s.key, bs[j].s.key, KEY_LEN) !=
			    0)
				continue;
			conf_file_of(ctx, bs[j].src[F_KEY], where,
			    sizeof(where));
			snprintf(label, sizeof(label), "%s.key", bs[i].s.name);
			conf_error(ctx, bs[i].src[F_KEY], label, "same key as "
			    "session \"%s\" (%s:%u); the server tells "
			    "sessions apart by their key, so give each its "
			    "own (tapline genkey)", bs[j].s.name, where,
			    config_setting_source_line(bs[j].src[F_KEY]));
			break;
		}
		for (j = 0; j < i; j++) {
			enum conf_field mine, theirs;

			mine = conf_old_key_clash(&bs[i].s, bs[i].key_ok,
			    &bs[j].s, bs[j].key_ok, &theirs);
			if (mine == F_COUNT)
				continue;
			snprintf(label, sizeof(label), "%s.%s", bs[i].s.name,
			    conf_session_settings[mine].name);
			conf_error(ctx, bs[i].src[mine], label, "same key as "
			    "the %s of session \"%s\"; old_key lets a "
			    "connection in alone, as a shared key does, so "
			    "each session needs keys of its own",
			    conf_session_settings[theirs].name, bs[j].s.name);
			break;
		}
		for (j = 0; j < i; j++) {
			if (bs[i].s.device[0] == '\0' ||
			    strchr(bs[i].s.device, '%') != NULL ||
			    strcmp(bs[i].s.device, bs[j].s.device) != 0)
				continue;
			snprintf(label, sizeof(label), "%s.device",
			    bs[i].s.name);
			conf_warn(ctx, conf_where(&bs[i], F_DEVICE), label,
			    "\"%s\" is also the device of session \"%s\"; the "
			    "two cannot run at the same time on one host "
			    "(a template like \"tl%%d\" can)", bs[i].s.device,
			    bs[j].s.name);
			break;
		}
	}
}

/* ---------------------------------------------------------------- */
/* Loading */

/*
 * libconfig frees its strings without wiping them; wipe passphrases in
 * its tree before config_destroy so that they do not linger in the heap.
 */
static void
conf_wipe_tree(config_setting_t *s)
{
	int n, i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    config_setting_name(s) != NULL &&
	    strcmp(config_setting_name(s), "passwd") == 0) {
		/* The tree is ours to destroy; writing into it is fine. */
		char *v = (char *)config_setting_get_string(s);

		OPENSSL_cleanse(v, strlen(v));
		return;
	}
	if (!config_setting_is_group(s))
		return;
	n = config_setting_length(s);
	for (i = 0; i < n; i++)
		conf_wipe_tree(config_setting_get_elem(s, (unsigned int)i));
}

static void
conf_options_free(struct conf_options *o)
{
	free(o->listen);
	free(o->syslog);
	free(o->control);
	free(o->metrics_listen);
	free(o->user);
	free(o->group);
	free(o->include_dir);
	free(o->private_key);
	OPENSSL_cleanse(o->private_bytes, sizeof(o->private_bytes));
	memset(o, 0, sizeof(*o));
}

/* The built-in options, as tapline.conf(5) gives them. */
static int
conf_options_defaults(struct conf_options *o)
{
	memset(o, 0, sizeof(*o));
	o->port = CONF_DEFAULT_PORT;
	o->syslog_facility = LOG_DAEMON;
	o->listen = strdup(CONF_DEFAULT_LISTEN);
	o->syslog = strdup(CONF_DEFAULT_SYSLOG);
	o->control = strdup(CONF_DEFAULT_CONTROL);
	o->metrics_listen = strdup("");
	o->user = strdup("");
	o->group = strdup("");
	o->offload = true;
	o->include_dir = strdup("");
	o->private_key = strdup("");
	if (o->listen == NULL || o->syslog == NULL || o->control == NULL ||
	    o->metrics_listen == NULL || o->user == NULL || o->group == NULL ||
	    o->include_dir == NULL || o->private_key == NULL)
		return -1;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsessions; i++)
		conf_session_clear(&c->sessions[i]);
	free(c->sessions);
	conf_options_free(&c->options);
	conf_strs_free(c->files, c->nfiles);
	conf_strs_free(c->broken, c->nbroken);
	free(c->path);
	free(c);
}

/* "dir/x.conf" -> "dir"; "x.conf" -> "."; "/x.conf" -> "/". */
static char *
conf_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Build one session from its group into b; b->s is cleared first. */
static void
conf_build_session(struct conf_ctx *ctx, const config_setting_t *g,
    const struct conf_build *def, struct conf_build *b)
{
	char file[PATH_MAX];

	/* def holds the built-in defaults where `default` did not set one. */
	memset(b, 0, sizeof(*b));
	if (conf_session_inherit(&b->s, &def->s) == -1)
		ctx->oom = true;
	memcpy(b->src, def->src, sizeof(b->src));
	b->group = g;
	util_strlcpy(b->s.name, config_setting_name(g), sizeof(b->s.name));
	snprintf(b->s.tag, sizeof(b->s.tag), "%s: ", b->s.name);
	conf_file_of(ctx, g, file, sizeof(file));
	b->s.file = strdup(file);
	b->s.origin = strdup(ctx->path);
	if (b->s.file == NULL || b->s.origin == NULL)
		ctx->oom = true;
	b->s.line = (int)config_setting_source_line(g);
	conf_parse_group(ctx, g, b->s.name, false, b);
	conf_check_session(ctx, b);
}

/* Top-level entries that are not options, default or a session group. */
static void
conf_check_toplevel(struct conf_ctx *ctx, const config_setting_t *s,
    const char *name, bool *is_session)
{
	char esc[CONF_NAME_MAX * 4 + 8];

	*is_session = false;
	if (!conf_name_valid(name)) {
		util_escape(name, strlen(name), esc, sizeof(esc));
		conf_error(ctx, s, esc, "bad session name; use a letter "
		    "followed by up to %d letters, digits, '-' or '_'",
		    CONF_NAME_MAX - 1);
		return;
	}
	if (config_setting_is_group(s)) {
		*is_session = true;
		return;
	}
	if (conf_find(conf_option_settings, name) >= 0)
		conf_error(ctx, s, name, "not a session; \"%s\" belongs in "
		    "options = { ... }", name);
	else if (conf_find(conf_session_settings, name) >= 0)
		conf_error(ctx, s, name, "not a session; \"%s\" belongs in a "
		    "session or in default = { ... }", name);
	else
		conf_error(ctx, s, name, "a session must be a group like "
		    "%s = { key = \"...\"; }, got %s", name,
		    conf_type_name(config_setting_type(s)));
}

/* Line number of byte offset off, for errors found before parsing. */
static int
conf_line_of(const char *text, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* The group `options` or `default`; NULL if absent or, reported, no group. */
static const config_setting_t *
conf_toplevel_group(struct conf_ctx *ctx, const config_setting_t *root,
    const char *name)
{
	const config_setting_t *g = config_setting_get_member(root, name);

	if (g != NULL && !config_setting_is_group(g)) {
		conf_error(ctx, g, name, "must be a group: %s = { ... }, got "
		    "%s", name, conf_type_name(config_setting_type(g)));
		return NULL;
	}
	return g;
}

/*
 * Build every session of a file's tree (all but options and default) on
 * top of def, then the checks among them.  Returns the builds, *nbs of
 * them, for conf_builds_free; NULL when out of memory.
 */
static struct conf_build *
conf_build_all(struct conf_ctx *ctx, const config_setting_t *root,
    const struct conf_build *def, size_t *nbs)
{
	const config_setting_t *g;
	struct conf_build *bs;
	int n = config_setting_length(root), k;

	*nbs = 0;
	bs = calloc(n > 0 ? (size_t)n : 1, sizeof(*bs));
	if (bs == NULL) {
		ctx->oom = true;
		return NULL;
	}
	for (k = 0; k < n; k++) {
		const char *name;
		bool is_session;

		g = config_setting_get_elem(root, (unsigned int)k);
		name = config_setting_name(g);
		if (strcmp(name, "options") == 0 ||
		    strcmp(name, "default") == 0)
			continue;
		conf_check_toplevel(ctx, g, name, &is_session);
		if (is_session)
			conf_build_session(ctx, g, def, &bs[(*nbs)++]);
	}
	conf_check_sessions(ctx, bs, *nbs);
	return bs;
}

static void
conf_builds_free(struct conf_build *bs, size_t n)
{
	size_t i;

	for (i = 0; i < n && bs != NULL; i++)
		conf_session_clear(&bs[i].s);
	free(bs);
}

/* Move session s to the end of c's; c owns its memory from now on. */
static int
conf_add_session(struct conf *c, struct conf_session *s)
{
	struct conf_session *v;

	v = realloc(c->sessions, (c->nsessions + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	c->sessions = v;
	v[c->nsessions++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

/* The sessions built from a file that had no error join c. */
static void
conf_add_builds(struct conf_ctx *ctx, struct conf *c, struct conf_build *bs,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		bs[i].s.offload = c->options.offload;
		if (conf_add_session(c, &bs[i].s) == -1) {
			ctx->oom = true;
			return;
		}
	}
}

/* What two sessions of different files must not share. */
enum conf_clash {
	CONF_CLASH_NONE,
	CONF_CLASH_NAME,	/* a name is one session */
	CONF_CLASH_KEY,		/* the server tells sessions apart by key */
	CONF_CLASH_OLD_KEY,	/* ... and by old_key, which acts as one */
	CONF_CLASH_PASSWD,	/* a legacy passphrase also guards a native one */
};

/* a's key counts only if akey (a build whose key file was read). */
static enum conf_clash
conf_clash(const struct conf_session *a, bool akey,
    const struct conf_session *b)
{
	enum conf_field bf;

	if (strcmp(a->name, b->name) == 0)
		return CONF_CLASH_NAME;
	if (akey && a->auth == CONF_AUTH_KEY && b->auth == CONF_AUTH_KEY &&
	    CRYPTO_memcmp(a->key, b->key, KEY_LEN) == 0)
		return CONF_CLASH_KEY;
	switch (conf_old_key_clash(a, akey && a->auth == CONF_AUTH_KEY, b,
	    b->auth == CONF_AUTH_KEY, &bf)) {
	case F_KEY:
		return CONF_CLASH_KEY;
	case F_OLD_KEY:
		return CONF_CLASH_OLD_KEY;
	default:
		break;
	}
	/* conf_check_passwd_reuse says why, within one file. */
	if (a->passwd != NULL && b->passwd != NULL &&
	    (a->legacy == CONF_LEGACY_VTUN) !=
	    (b->legacy == CONF_LEGACY_VTUN) &&
	    strlen(a->passwd) == strlen(b->passwd) &&
	    CRYPTO_memcmp(a->passwd, b->passwd, strlen(a->passwd)) == 0)
		return CONF_CLASH_PASSWD;
	return CONF_CLASH_NONE;
}

/*
 * A session of a file of include_dir against one of a file read before
 * (whose tree is gone: it is named by where its group starts).
 */
static void
conf_check_pair(struct conf_ctx *ctx, const struct conf_build *b,
    const struct conf_session *o)
{
	char label[CONF_NAME_MAX + 16];

	switch (conf_clash(&b->s, b->key_ok, o)) {
	case CONF_CLASH_NAME:
		conf_error(ctx, b->group, b->s.name, "session \"%s\" is also "
		    "defined in %s:%d; a session name must be unique across "
		    "the main file and include_dir", b->s.name, o->file,
		    o->line);
		return;
	case CONF_CLASH_KEY:
		snprintf(label, sizeof(label), "%s.key", b->s.name);
		conf_error(ctx, b->src[F_KEY], label, "same key as session "
		    "\"%s\" (%s:%d); the server tells sessions apart by their "
		    "key, so give each its own (tapline genkey)", o->name,
		    o->file, o->line);
		return;
	case CONF_CLASH_OLD_KEY:
		snprintf(label, sizeof(label), "%s.old_key", b->s.name);
		conf_error(ctx, b->src[F_OLD_KEY], label, "same key as "
		    "session \"%s\" (%s:%d); old_key lets a connection in "
		    "alone, as a shared key does, so it must be this session's "
		    "own", o->name, o->file, o->line);
		return;
	case CONF_CLASH_PASSWD:
		snprintf(label, sizeof(label), "%s.passwd", b->s.name);
		conf_error(ctx, b->src[F_PASSWD], label, "same passphrase as "
		    "the %s session \"%s\" (%s:%d); vtund's handshake lets "
		    "anyone who sees it test guesses offline (MD5, Blowfish), "
		    "so give the native session a key file (tapline genkey) "
		    "or its own passphrase", o->legacy == CONF_LEGACY_VTUN ?
		    "legacy" : "native", o->name, o->file, o->line);
		return;
	case CONF_CLASH_NONE:
		break;
	}
	if (b->s.device[0] != '\0' && strchr(b->s.device, '%') == NULL &&
	    strcmp(b->s.device, o->device) == 0) {
		snprintf(label, sizeof(label), "%s.device", b->s.name);
		conf_warn(ctx, conf_where(b, F_DEVICE), label, "\"%s\" is also "
		    "the device of session \"%s\" (%s:%d); the two cannot run "
		    "at the same time on one host (a template like \"tl%%d\" "
		    "can)", b->s.device, o->name, o->file, o->line);
	}
}

/*
 * The sessions and `default` of one file of include_dir, on top of the
 * main file's `default` (def, whose tree is still alive).  They join c
 * if this file adds no error.
 */
static void
conf_part_from_tree(struct conf_ctx *ctx, const config_setting_t *root,
    const struct conf_build *def, struct conf *c)
{
	struct conf_build fdef, *bs;
	const config_setting_t *g;
	size_t nerr = ctx->diag->nerrors, nbs = 0, i, j;

	if ((g = config_setting_get_member(root, "options")) != NULL)
		conf_error(ctx, g, "options", "not allowed in a file of "
		    "include_dir; options belong in the main file, %s",
		    c->path);
	memset(&fdef, 0, sizeof(fdef));
	if (conf_session_inherit(&fdef.s, &def->s) == -1) {
		ctx->oom = true;
		goto out;
	}
	memcpy(fdef.src, def->src, sizeof(fdef.src));
	if ((g = conf_toplevel_group(ctx, root, "default")) != NULL) {
		fdef.group = g;
		conf_parse_group(ctx, g, "default", true, &fdef);
		conf_check_default(ctx, &fdef);
	}
	if ((bs = conf_build_all(ctx, root, &fdef, &nbs)) == NULL)
		goto out;
	for (i = 0; i < nbs; i++)
		for (j = 0; j < c->nsessions; j++)
			conf_check_pair(ctx, &bs[i], &c->sessions[j]);
	if (ctx->diag->nerrors == nerr && !ctx->oom)
		conf_add_builds(ctx, c, bs, nbs);
	conf_builds_free(bs, nbs);
out:
	conf_session_clear(&fdef.s);
}

/*
 * path, a file of include_dir, did not load.  At a start its sessions
 * stay out.  At a reload those that the running configuration took from
 * it stay as they run: one typo must not stop a tunnel.  Returns -1 if
 * one of them now clashes with a session of another file; the whole
 * load then fails, since no consistent set is left to run.
 */
static int
conf_broken(struct conf_ctx *ctx, struct conf *c, const char *path)
{
	const struct conf *old = ctx->old;
	struct conf_session copy;
	enum conf_clash k;
	size_t i, j;
	char **nb;

	if ((nb = realloc(c->broken, (c->nbroken + 1) * sizeof(*nb))) ==
	    NULL || (nb[c->nbroken] = strdup(path)) == NULL) {
		if (nb != NULL)
			c->broken = nb;
		ctx->oom = true;
		return 0;
	}
	c->broken = nb;
	c->nbroken++;
	for (i = 0; old != NULL && i < old->nsessions; i++) {
		const struct conf_session *o = &old->sessions[i];

		if (o->origin == NULL || strcmp(o->origin, path) != 0)
			continue;
		for (j = 0; j < c->nsessions; j++) {
			k = conf_clash(o, true, &c->sessions[j]);
			if (k == CONF_CLASH_NONE)
				continue;
			conf_error_at(ctx, path, 0, "cannot keep its running "
			    "session \"%s\": it has the same %s as session "
			    "\"%s\" (%s:%d) now", o->name,
			    k == CONF_CLASH_NAME ? "name" : k ==
			    CONF_CLASH_PASSWD ? "passphrase" : "key",
			    c->sessions[j].name, c->sessions[j].file,
			    c->sessions[j].line);
			return -1;
		}
		if (conf_session_copy(&copy, o) == -1 ||
		    conf_add_session(c, &copy) == -1) {
			conf_session_clear(&copy);
			ctx->oom = true;
			return 0;
		}
	}
	return 0;
}

/* Set up the load of the file at path; st is filled in before parsing. */
static int
conf_ctx_init(struct conf_ctx *ctx, const char *path, struct conf_diag *diag,
    const struct stat *st)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->path = path;
	ctx->diag = diag;
	ctx->main_st = st;
	ctx->dir = conf_dirname(path);
	ctx->src.path = path;
	ctx->src.dir = ctx->dir != NULL ? ctx->dir : ".";
	ctx->src.st = st;
	if (ctx->dir == NULL) {
		ctx->oom = true;
		return -1;
	}
	return 0;
}

static void
conf_ctx_done(struct conf_ctx *ctx)
{
	free(ctx->bigints);
	free(ctx->dir);
}

/* Wipe the passphrases in a parsed tree and free it. */
static void
conf_tree_free(config_t *cfg)
{
	if (config_root_setting(cfg) != NULL)
		conf_wipe_tree(config_root_setting(cfg));
	config_destroy(cfg);
}

/*
 * Parse text (a whole file) into cfg, which is initialised here in every
 * case for conf_tree_free; errors go to ctx.  Returns 0 or -1.
 */
static int
conf_parse(struct conf_ctx *ctx, const char *text, size_t len, config_t *cfg)
{
	char *buf = NULL, file[PATH_MAX];
	const char *nul, *err;
	int nlines, line, rc = -1;

	config_init(cfg);
	/* libconfig reads a C string: a NUL would end the file early. */
	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		conf_error_at(ctx, ctx->path, conf_line_of(text, (size_t)(nul -
		    text)), "contains a NUL byte; not a text file");
		return -1;
	}
	/*
	 * libconfig 1.5 rejects a comment on a last line that has no
	 * newline ("syntax error"); editors and generators produce such
	 * files, and the fix is obvious, so supply the newline.
	 */
	buf = malloc(len + 2);
	if (buf == NULL) {
		ctx->oom = true;
		return -1;
	}
	memcpy(buf, text, len);
	nlines = conf_line_of(text, len);
	if (len == 0 || text[len - 1] != '\n')
		buf[len++] = '\n';
	else
		nlines--;
	buf[len] = '\0';
	if (conf_scan_bigints(ctx, buf, len) == -1) {
		ctx->oom = true;
		goto out;
	}
	/* @include resolves against the CWD unless told otherwise. */
	config_set_include_dir(cfg, ctx->dir);
	if (config_read_string(cfg, buf) != CONFIG_TRUE) {
		conf_file_name(ctx, config_error_file(cfg), file,
		    sizeof(file));
		line = config_error_line(cfg);
		err = config_error_text(cfg) != NULL ?
		    config_error_text(cfg) : "cannot parse";
		/*
		 * libconfig places an error at the end of the file on the
		 * line after the last one; name the last line instead.
		 */
		if (config_error_file(cfg) == NULL && line > nlines)
			conf_error_at(ctx, file, nlines, "%s at the end of "
			    "the file; is a '}', ']', ')' or '\"' missing?",
			    err);
		else
			conf_error_at(ctx, file, line, "%s", err);
		goto out;
	}
	config_setting_set_hook(config_root_setting(cfg), &ctx->src);
	rc = 0;
out:
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

/* Read ctx's file for conf_parse; an error is the file's (line 0). */
static int
conf_read(struct conf_ctx *ctx, char **buf, size_t *len, struct stat *st)
{
	char err[256];

	if (confdir_read(ctx->path, buf, len, st, err, sizeof(err)) == 0)
		return 0;
	conf_error_at(ctx, ctx->path, 0, "%s", err);
	return -1;
}

/*
 * One file of include_dir, read with its own context into the same
 * diagnostics.  Returns -1 only when the whole load must fail.
 */
static int
conf_load_part(struct conf_ctx *mctx, struct conf *c,
    const struct conf_build *def, const char *path)
{
	size_t nerr = mctx->diag->nerrors, len = 0;
	struct conf_ctx ctx;
	struct stat st;
	char *buf = NULL;
	config_t cfg;
	bool parsed = false;
	int rc = 0;

	if (conf_ctx_init(&ctx, path, mctx->diag, &st) == -1)
		goto out;
	ctx.opts = mctx->opts;
	if (conf_read(&ctx, &buf, &len, &st) == 0) {
		/* include_dir = "." next to a main file named x.conf. */
		if (mctx->main_st != NULL &&
		    st.st_dev == mctx->main_st->st_dev &&
		    st.st_ino == mctx->main_st->st_ino)
			goto out;
		parsed = true;
		if (conf_parse(&ctx, buf != NULL ? buf : "", len, &cfg) == 0)
			conf_part_from_tree(&ctx, config_root_setting(&cfg),
			    def, c);
	}
	if (!ctx.oom && mctx->diag->nerrors > nerr)
		rc = conf_broken(mctx, c, path);
out:
	if (ctx.oom)
		mctx->oom = true;
	if (parsed)
		conf_tree_free(&cfg);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	conf_ctx_done(&ctx);
	return rc;
}

/*
 * The files of include_dir, in name order, each on its own (setting is
 * include_dir's, for an unreadable directory: the main file's error).
 * Returns -1 when the whole load must fail.
 */
static int
conf_load_dir(struct conf_ctx *ctx, struct conf *c,
    const struct conf_build *def, const config_setting_t *setting)
{
	char err[PATH_MAX + 64];
	size_t i;

	if (confdir_scan(c->options.include_dir, &c->files, &c->nfiles, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, setting, "options.include_dir", "%s",
		    err);
	for (i = 0; i < c->nfiles && !ctx->oom; i++)
		if (conf_load_part(ctx, c, def, c->files[i]) == -1)
			return -1;
	return 0;
}

/*
 * Walk the main file's tree: options, default, then sessions in file
 * order; then the files of include_dir.
 */
static struct conf *
conf_from_tree(struct conf_ctx *ctx, const config_setting_t *root)
{
	struct conf_build def, *bs = NULL;
	const config_setting_t *g, *opts = NULL;
	struct conf *c = NULL;
	size_t nbs = 0;
	bool failed = true;

	memset(&def, 0, sizeof(def));
	conf_session_defaults(&def.s);
	c = calloc(1, sizeof(*c));
	if (c == NULL || conf_options_defaults(&c->options) == -1) {
		ctx->oom = true;
		goto out;
	}
	c->path = strdup(ctx->path);
	if (c->path == NULL)
		ctx->oom = true;

	if ((opts = conf_toplevel_group(ctx, root, "options")) != NULL)
		conf_parse_options(ctx, opts, &c->options);
	ctx->opts = &c->options;
	if ((g = conf_toplevel_group(ctx, root, "default")) != NULL) {
		def.group = g;
		conf_parse_group(ctx, g, "default", true, &def);
		conf_check_default(ctx, &def);
	}
	if ((bs = conf_build_all(ctx, root, &def, &nbs)) == NULL)
		goto out;
	if (nbs == 0 && c->options.include_dir[0] == '\0')
		conf_warn(ctx, NULL, NULL, "no sessions defined");
	/* An error in the main file refuses all of it. */
	if (ctx->diag->nerrors > 0 || ctx->oom)
		goto out;
	conf_add_builds(ctx, c, bs, nbs);
	if (ctx->oom)
		goto out;
	if (ctx->read_dir && c->options.include_dir[0] != '\0') {
		if (conf_load_dir(ctx, c, &def, config_setting_get_member(opts,
		    "include_dir")) == -1 || ctx->oom)
			goto out;
		if (c->nsessions == 0 && c->nbroken == 0)
			conf_warn(ctx, NULL, NULL, "no sessions defined, "
			    "neither here nor in %s", c->options.include_dir);
	}
	failed = false;
out:
	conf_builds_free(bs, nbs);
	conf_session_clear(&def.s);
	if (failed) {
		conf_free(c);
		c = NULL;
	}
	return c;
}

/*
 * The main file's text; st is the stat of the file it came from, NULL
 * for text from memory.  include_dir is read when read_dir.
 */
static struct conf *
conf_load_text(const char *path, const char *text, size_t len,
    struct conf_diag *diag, const struct stat *st, const struct conf *old,
    bool read_dir)
{
	struct conf_ctx ctx;
	struct conf *c = NULL;
	config_t cfg;

	memset(diag, 0, sizeof(*diag));
	if (conf_ctx_init(&ctx, path, diag, st) == 0) {
		ctx.read_dir = read_dir;
		ctx.old = old;
		if (conf_parse(&ctx, text, len, &cfg) == 0)
			c = conf_from_tree(&ctx, config_root_setting(&cfg));
		conf_tree_free(&cfg);
	}
	if (ctx.oom) {
		conf_free(c);
		c = NULL;
		conf_error_at(&ctx, path, 0, "out of memory");
	}
	conf_ctx_done(&ctx);
	return c;
}

struct conf *
conf_load_buffer(const char *path, const char *text, size_t len,
    struct conf_diag *diag)
{
	return conf_load_text(path, text, len, diag, NULL, NULL, false);
}

struct conf *
conf_load_fallback(const char *path, const struct conf *old,
    struct conf_diag *diag)
{
	struct conf_ctx ctx;
	struct conf *c = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	memset(diag, 0, sizeof(*diag));
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.diag = diag;
	if (conf_read(&ctx, &buf, &len, &st) == 0)
		c = conf_load_text(path, buf != NULL ? buf : "", len, diag,
		    &st, old, true);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return c;
}

struct conf *
conf_load(const char *path, struct conf_diag *diag)
{
	return conf_load_fallback(path, NULL, diag);
}

/* ---------------------------------------------------------------- */
/* Queries and output */

const struct conf_session *
conf_session_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsessions; i++)
		if (strcmp(c->sessions[i].name, name) == 0)
			return &c->sessions[i];
	return NULL;
}

/* Same server lists, in the same order. */
static bool
conf_strs_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Same commands, word by word. */
static bool
conf_argvs_equal(const struct script_argv *a, size_t na,
    const struct script_argv *b, size_t nb)
{
	size_t i;
	int j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (a[i].argc != b[i].argc)
			return false;
		for (j = 0; j < a[i].argc; j++)
			if (strcmp(a[i].argv[j], b[i].argv[j]) != 0)
				return false;
	}
	return true;
}

/* Same addresses or routes, in the same order. */
static bool
conf_cidrs_equal(const struct conf_cidr *a, size_t na,
    const struct conf_cidr *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].prefix != b[i].prefix ||
		    memcmp(a[i].addr, b[i].addr, sizeof(a[i].addr)) != 0)
			return false;
	return true;
}

/* Field by field; file and line do not matter, secrets do. */
bool
conf_session_equal(const struct conf_session *a, const struct conf_session *b)
{
	if (strcmp(a->name, b->name) != 0 || a->auth != b->auth)
		return false;
	if (a->auth == CONF_AUTH_KEY &&
	    CRYPTO_memcmp(a->key, b->key, KEY_LEN) != 0)
		return false;
	if (a->auth == CONF_AUTH_PASSWD &&
	    (strlen(a->passwd) != strlen(b->passwd) ||
	    CRYPTO_memcmp(a->passwd, b->passwd, strlen(a->passwd)) != 0))
		return false;
	if (a->has_old_key != b->has_old_key || (a->has_old_key &&
	    CRYPTO_memcmp(a->old_key, b->old_key, KEY_LEN) != 0))
		return false;
	/* The secrets follow from these and this host's private key. */
	if (a->npeer_keys != b->npeer_keys ||
	    memcmp(a->peer_keys, b->peer_keys, sizeof(a->peer_keys)) != 0 ||
	    (a->npeer_keys > 0 && (memcmp(a->own_public, b->own_public,
	    KEY_LEN) != 0 || CRYPTO_memcmp(a->pair_secret, b->pair_secret,
	    sizeof(a->pair_secret)) != 0)))
		return false;
	return a->proto == b->proto && a->type == b->type &&
	    a->keepalive == b->keepalive && a->timeout == b->timeout &&
	    a->persist == b->persist && a->compress == b->compress &&
	    a->cipher == b->cipher && a->server_random == b->server_random &&
	    conf_strs_equal(a->server, a->nserver, b->server, b->nserver) &&
	    strcmp(a->device, b->device) == 0 && a->queues == b->queues &&
	    a->mtu == b->mtu && a->mssfix == b->mssfix &&
	    a->speed_in == b->speed_in &&
	    a->speed_out == b->speed_out && a->multi == b->multi &&
	    conf_cidrs_equal(a->address, a->naddress, b->address,
	    b->naddress) &&
	    conf_cidrs_equal(a->routes, a->nroutes, b->routes, b->nroutes) &&
	    a->fwmark == b->fwmark && a->table == b->table &&
	    conf_cidrs_equal(a->dns, a->ndns, b->dns, b->ndns) &&
	    strcmp(a->bridge, b->bridge) == 0 &&
	    conf_argvs_equal(a->up, a->nup, b->up, b->nup) &&
	    conf_argvs_equal(a->down, a->ndown, b->down, b->ndown) &&
	    a->legacy == b->legacy && a->offload == b->offload;
}

bool
conf_session_keeps(const struct conf_session *a, const struct conf_session *b,
    int *idx)
{
	struct conf_session t;
	bool same;
	size_t j;

	if (conf_session_equal(a, b))
		return true;
	if (a->npeer_keys == 0 || b->npeer_keys == 0)
		return false;
	/* b with a's key lists: equal means nothing else changed. */
	t = *b;
	memcpy(t.peer_keys, a->peer_keys, sizeof(t.peer_keys));
	memcpy(t.pair_secret, a->pair_secret, sizeof(t.pair_secret));
	t.npeer_keys = a->npeer_keys;
	memcpy(t.old_key, a->old_key, sizeof(t.old_key));
	t.has_old_key = a->has_old_key;
	same = conf_session_equal(a, &t);
	OPENSSL_cleanse(&t, sizeof(t));
	if (!same)
		return false;
	if (*idx == CONF_PEER_OLD_KEY)
		return a->has_old_key && b->has_old_key &&
		    CRYPTO_memcmp(a->old_key, b->old_key, KEY_LEN) == 0;
	if (*idx < 0 || (size_t)*idx >= a->npeer_keys)
		return false;
	for (j = 0; j < b->npeer_keys; j++)
		if (memcmp(b->peer_keys[j], a->peer_keys[*idx], KEY_LEN) == 0) {
			*idx = (int)j;
			return true;
		}
	return false;
}

/* names[v], or "?" for a value that the table does not have. */
#define CONF_NAME_OF(names, v) \
	((size_t)(v) < UTIL_ARRAY_LEN(names) ? (names)[v] : "?")

const char *
conf_proto_name(enum conf_proto p)
{
	return CONF_NAME_OF(conf_proto_names, p);
}

const char *
conf_persist_name(enum conf_persist p)
{
	return CONF_NAME_OF(conf_persist_names, p);
}

const char *
conf_cipher_name(enum conf_cipher c)
{
	return CONF_NAME_OF(conf_cipher_names, c);
}

const char *
conf_multi_name(enum conf_multi m)
{
	return CONF_NAME_OF(conf_multi_names, m);
}

const char *
conf_legacy_name(enum conf_legacy l)
{
	/* Its name in the file is "", which says nothing in a summary. */
	if (l == CONF_LEGACY_NONE)
		return "none";
	return CONF_NAME_OF(conf_legacy_names, l);
}

/* Print a string in double quotes, escaped as in messages. */
static void
conf_print_quoted(FILE *out, const char *v)
{
	char esc[4 * 256 + 4];

	util_escape(v, strlen(v), esc, sizeof(esc));
	fprintf(out, "\"%s\"", esc);
}

/* up/down lines: every word quoted, so spaces inside words show. */
static void
conf_print_cmds(FILE *out, const char *what, const struct script_argv *v,
    size_t n)
{
	size_t i;
	int j;

	if (n == 0) {
		fprintf(out, "  %s: (none)\n", what);
		return;
	}
	for (i = 0; i < n; i++) {
		fprintf(out, "  %s[%zu]:", what, i);
		for (j = 0; j < v[i].argc; j++) {
			fputc(' ', out);
			conf_print_quoted(out, v[i].argv[j]);
		}
		fputc('\n', out);
	}
}

/* address/routes on one line. */
static void
conf_print_cidrs(FILE *out, const char *what, const struct conf_cidr *v,
    size_t n)
{
	char buf[CONF_CIDR_STRLEN];
	size_t i;

	fprintf(out, "  %s:", what);
	if (n == 0)
		fputs(" (none)", out);
	for (i = 0; i < n; i++) {
		conf_cidr_format(&v[i], buf, sizeof(buf));
		fprintf(out, " %s", buf);
	}
	fputc('\n', out);
}

/* server on one line, then how a list is tried. */
static void
conf_print_servers(const struct conf_session *s, FILE *out)
{
	size_t i;

	fprintf(out, "  server:");
	if (s->nserver == 0)
		fprintf(out, " (none; give it on the command line)");
	for (i = 0; i < s->nserver; i++)
		fprintf(out, "%s%s", i == 0 ? " " : ", ", s->server[i]);
	fputc('\n', out);
	fprintf(out, "  server_random: %s\n", !s->server_random ? "no" :
	    s->nserver > 1 ? "yes (the list is shuffled at every round)" :
	    "yes (no effect with fewer than two servers)");
}

/* dns: addresses only, since a DNS server has no prefix length. */
static void
conf_print_dns(FILE *out, const struct conf_cidr *v, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	fputs("  dns:", out);
	if (n == 0)
		fputs(" (none)", out);
	for (i = 0; i < n; i++)
		if (inet_ntop(v[i].family, v[i].addr, buf, sizeof(buf)) != NULL)
			fprintf(out, " %s", buf);
	fputc('\n', out);
}

/* The effective settings of one session, secrets replaced by facts. */
static void
conf_print_session(const struct conf_session *s, FILE *out)
{
	char b64[KEY_B64_LEN + 1];
	size_t i;

	fprintf(out, "session %s (%s:%d)\n", s->name, s->file, s->line);
	for (i = 0; i < s->npeer_keys; i++) {
		key_encode(s->peer_keys[i], b64);
		fprintf(out, "  peer_key[%zu]: %s\n", i, b64);
	}
	if (s->auth == CONF_AUTH_KEY)
		fprintf(out, "  key: %s (%d bytes)%s\n", s->key_path, KEY_LEN,
		    s->npeer_keys > 0 ? ", needed with the key pair" : "");
	else if (s->auth == CONF_AUTH_PASSWD)
		fprintf(out, "  passwd: set (%zu chars)\n",
		    conf_utf8_len(s->passwd));
	else
		fprintf(out, "  key: none (key pair only)\n");
	if (s->has_old_key)
		fprintf(out, "  old_key: %s (%d bytes), still accepted alone\n",
		    s->old_key_path, KEY_LEN);
	conf_print_servers(s, out);
	fprintf(out, "  proto: %s\n", conf_proto_name(s->proto));
	fprintf(out, "  type: %s\n", dev_type_name(s->type));
	fprintf(out, "  keepalive: %d s%s\n", s->keepalive,
	    s->keepalive == 0 ? " (off)" : "");
	fprintf(out, "  timeout: %d s\n", s->timeout);
	fprintf(out, "  persist: %s\n", conf_persist_name(s->persist));
	if (s->compress == 0)
		fprintf(out, "  compress: no\n");
	else
		fprintf(out, "  compress: zlib:%d\n", s->compress);
	if (s->cipher == CONF_CIPHER_AUTO && s->legacy == CONF_LEGACY_NONE)
		fprintf(out, "  cipher: auto (here: %s%s)\n",
		    udp_cipher_auto() == WIRE_CIPHER_AES_256_GCM ?
		    "aes-256-gcm" : "chacha20-poly1305",
		    udp_cipher_auto() == WIRE_CIPHER_AES_256_GCM ?
		    ", the CPU has AES instructions" :
		    ", no AES instructions");
	else
		fprintf(out, "  cipher: %s\n", conf_cipher_name(s->cipher));
	fprintf(out, "  device: %s\n", s->device[0] != '\0' ? s->device :
	    s->type == DEV_TAP ? "(kernel chooses tap%d)" :
	    "(kernel chooses tun%d)");
	fprintf(out, "  queues: %d\n", s->queues);
	if (s->mtu == 0 && s->legacy == CONF_LEGACY_VTUN)
		fprintf(out, "  mtu: 0 (1500, as vtund)\n");
	else if (s->mtu == 0)
		fprintf(out, "  mtu: 0 (derived from the underlay)\n");
	else
		fprintf(out, "  mtu: %d\n", s->mtu);
	fprintf(out, "  mssfix: %s\n", s->mssfix ? "true" : "false");
	if (s->speed_in == 0 && s->speed_out == 0)
		fprintf(out, "  speed: 0 (unlimited)\n");
	else
		fprintf(out, "  speed: in %u kbit/s, out %u kbit/s\n",
		    s->speed_in, s->speed_out);
	fprintf(out, "  multi: %s\n", conf_multi_name(s->multi));
	conf_print_cidrs(out, "address", s->address, s->naddress);
	conf_print_cidrs(out, "routes", s->routes, s->nroutes);
	fprintf(out, "  fwmark: 0x%" PRIx32 "%s\n", s->fwmark,
	    conf_session_full_tunnel(s, AF_UNSPEC) ? "" :
	    " (unused: no full tunnel)");
	fprintf(out, "  table: %" PRIu32 "%s\n", s->table,
	    conf_session_full_tunnel(s, AF_UNSPEC) ? "" :
	    " (unused: no full tunnel)");
	conf_print_dns(out, s->dns, s->ndns);
	fprintf(out, "  bridge: %s\n", s->bridge[0] != '\0' ? s->bridge :
	    "(none)");
	conf_print_cmds(out, "up", s->up, s->nup);
	conf_print_cmds(out, "down", s->down, s->ndown);
	fprintf(out, "  legacy: %s\n", conf_legacy_name(s->legacy));
}

/* Is path one of the files that did not load? */
static bool
conf_broken_has(const struct conf *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nbroken; i++)
		if (strcmp(c->broken[i], path) == 0)
			return true;
	return false;
}

void
conf_print(const struct conf *c, FILE *out)
{
	const struct conf_options *o = &c->options;
	char b64[KEY_B64_LEN + 1];
	size_t i;

	fprintf(out, "config %s: %zu session%s\n", c->path, c->nsessions,
	    c->nsessions == 1 ? "" : "s");
	fprintf(out, "options\n");
	fprintf(out, "  port: %d\n", o->port);
	fprintf(out, "  listen: %s\n", o->listen);
	fprintf(out, "  syslog: %s\n", o->syslog);
	fprintf(out, "  control: %s\n", o->control);
	fprintf(out, "  metrics_listen: %s\n", o->metrics_listen[0] != '\0' ?
	    o->metrics_listen : "(off)");
	fprintf(out, "  user: %s\n", o->user[0] != '\0' ? o->user :
	    "(unchanged)");
	fprintf(out, "  group: %s\n", o->group[0] != '\0' ? o->group :
	    "(unchanged)");
	fprintf(out, "  offload: %s\n", o->offload ? "true" : "false");
	fprintf(out, "  include_dir: %s\n", o->include_dir[0] != '\0' ?
	    o->include_dir : "(none)");
	if (o->private_key_ok) {
		key_encode(o->public_key, b64);
		fprintf(out, "  private_key: %s (public key %s)\n",
		    o->private_key, b64);
	} else {
		fprintf(out, "  private_key: (none)\n");
	}
	for (i = 0; i < c->nfiles; i++)
		fprintf(out, "file %s%s\n", c->files[i],
		    conf_broken_has(c, c->files[i]) ? ": not loaded, see its "
		    "errors" : "");
	for (i = 0; i < c->nsessions; i++)
		conf_print_session(&c->sessions[i], out);
}
