/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund 3.0's configuration file (vtund.conf(5)), read the way vtund 3.0.4
 * reads it, for `tapline import-vtund`.  Sans I/O: the caller hands over
 * the file's bytes and gets back what vtund would have made of them, every
 * value with the line it came from.
 *
 * The quirks are vtund's own and kept on purpose: a `default` block applies
 * to the sessions after it only; a session without a password is dropped;
 * the first `port`, `timeout` and `type` of `options` win, the last of the
 * others; ifconfig/route/firewall/ip/ppp commands run the program that
 * `options` named when the command was read; a value must be followed by
 * ';'; keywords are not abbreviated.  Two sessions may share a name (vtund
 * uses the first); both are kept here, the translator decides.
 */
#ifndef TAPLINE_VTUNCONF_H
#define TAPLINE_VTUNCONF_H

#include <stdbool.h>
#include <stddef.h>

/* Limits of what we read: a hand-written file is far smaller. */
#define VTUNCONF_FILE_MAX (1024 * 1024)
#define VTUNCONF_TOKEN_MAX 4096 /* bytes of one word, path or number */
#define VTUNCONF_STRING_MAX 252 /* vtund's own limit for a "string" */
#define VTUNCONF_HOSTS_MAX 4096
#define VTUNCONF_CMDS_MAX 256	/* commands of one up or down block */
#define VTUNCONF_DIAG_MAX 1000	/* warnings kept; more are counted */

/* vtund's values (vtun.h), where a value table word stands for a number. */
enum vtunconf_type {
	VTUNCONF_TYPE_TTY = 0x0100,
	VTUNCONF_TYPE_PIPE = 0x0200,
	VTUNCONF_TYPE_ETHER = 0x0400,
	VTUNCONF_TYPE_TUN = 0x0800,
};
enum vtunconf_proto { VTUNCONF_PROTO_TCP = 0x10, VTUNCONF_PROTO_UDP = 0x20 };
enum vtunconf_compress {
	VTUNCONF_COMPRESS_NONE,
	VTUNCONF_COMPRESS_ZLIB,
	VTUNCONF_COMPRESS_LZO,
};
enum vtunconf_multi {
	VTUNCONF_MULTI_DENY = 0,
	VTUNCONF_MULTI_ALLOW = 1,
	VTUNCONF_MULTI_KILLOLD = 2,
};
enum vtunconf_persist {
	VTUNCONF_PERSIST_NO = 0,
	VTUNCONF_PERSIST_YES = 1,
	VTUNCONF_PERSIST_KEEP = 2,
};
/* bindaddr { } and srcaddr { }: no address, an interface or a name. */
enum vtunconf_addr { VTUNCONF_ADDR_NONE, VTUNCONF_ADDR_IFACE,
	VTUNCONF_ADDR_NAME };

/* Commands of an up or down block. */
enum vtunconf_cmd_kind {
	VTUNCONF_CMD_PROGRAM,
	VTUNCONF_CMD_PPP,
	VTUNCONF_CMD_IFCONFIG,
	VTUNCONF_CMD_ROUTE,
	VTUNCONF_CMD_FIREWALL,
	VTUNCONF_CMD_IP,
};
#define VTUNCONF_CMD_WAIT 0x01	/* vtund waits for the program */
#define VTUNCONF_CMD_DELAY 0x02	/* ppp: vtund sleeps 10 s after it */

struct vtunconf_cmd {
	enum vtunconf_cmd_kind kind;
	int line;
	const char *prog;	/* absolute path; NULL: /bin/sh -c ARGS */
	const char *args;	/* the "string" as written; NULL: none */
	int flags;		/* VTUNCONF_CMD_* */
};

/* One up { } or down { } block; shared by the sessions that inherit it. */
struct vtunconf_cmds {
	struct vtunconf_cmd *v;
	size_t n;
	int line;		/* of the up/down keyword */
};

/*
 * Where a value came from: its line (0: vtund's built-in default) and
 * its text as written ("yes", "30:4", "lzo:9"), for messages.
 */
struct vtunconf_src {
	int line;
	const char *text;
};

/* A session (vtund: a host), or the `default` block being built. */
struct vtunconf_host {
	const char *name;
	int line;
	const char *passwd;	/* NULL: none (vtund drops such a session) */
	struct vtunconf_src passwd_src;
	const char *device;	/* NULL: vtund picks one */
	struct vtunconf_src device_src;
	enum vtunconf_type type;
	struct vtunconf_src type_src;
	enum vtunconf_proto proto;
	struct vtunconf_src proto_src;
	enum vtunconf_compress compress;
	int zlevel;
	struct vtunconf_src compress_src;
	bool encrypt;
	long long cipher;	/* vtund's cipher number; 1 is "yes" */
	struct vtunconf_src encrypt_src;
	bool keepalive;
	long long ka_interval, ka_maxfail;
	struct vtunconf_src keepalive_src;
	bool stat;
	struct vtunconf_src stat_src;
	enum vtunconf_persist persist;
	struct vtunconf_src persist_src;
	enum vtunconf_multi multi;
	struct vtunconf_src multi_src;
	long long timeout;	/* vtund: the connect timeout, seconds */
	struct vtunconf_src timeout_src;
	bool shape;
	long long spd_in, spd_out;	/* vtund: from / to the client, kbit/s */
	struct vtunconf_src speed_src;
	bool nat_hack;
	struct vtunconf_src nat_hack_src;
	enum vtunconf_addr src_type;
	const char *src_name;
	long long src_port;
	struct vtunconf_src srcaddr_src;
	const struct vtunconf_cmds *up, *down;	/* NULL: none */
};

/* The `options` block, as vtund ends up with it. */
struct vtunconf_options {
	long long port;			/* -1: not given (vtund: 5000) */
	struct vtunconf_src port_src;
	enum vtunconf_addr bind_type;
	const char *bind_name;
	struct vtunconf_src bind_src;
	const char *iface;		/* `iface "x"`: no effect in vtund 3.0 */
	struct vtunconf_src iface_src;
	long long svr_type;		/* -1, 0 stand, 1 inetd */
	struct vtunconf_src svr_type_src;
	long long timeout;		/* -1: not given */
	struct vtunconf_src timeout_src;
	long long syslog;		/* facility number (LOG_DAEMON ...) */
	struct vtunconf_src syslog_src;
	int family;			/* 0, 4 or 6 (Debian's ipv4/ipv6) */
	struct vtunconf_src family_src;
	/* Programs of the command keywords, as at the end of the file. */
	const char *ppp, *ifconfig, *route, *firewall, *ip;
};

/* Warnings, each "FILE:LINE: text", kept in the order of their lines. */
struct vtunconf_diag_line {
	int line;
	char *text;
};
struct vtunconf_diag {
	struct vtunconf_diag_line *v;
	size_t n;
	size_t dropped;		/* beyond VTUNCONF_DIAG_MAX */
	bool oom;
};

struct vtunconf_arena;

struct vtunconf {
	char *path;
	struct vtunconf_options opts;
	struct vtunconf_host *hosts;	/* complete sessions, in file order */
	size_t nhosts;
	/* Everything the pointers above point into. */
	struct vtunconf_arena *arena;
};

/*
 * Parse `len` bytes of `text` (need not be NUL-terminated) as vtund 3.0.4
 * would.  `path` names the file in messages.  Returns the result, or NULL
 * with one line "PATH:LINE: what is wrong" in err where vtund would stop
 * reading (a syntax error, an unknown keyword) or when out of memory.
 * Warnings for what vtund accepts but ignores or cannot mean go to diag
 * either way.
 */
struct vtunconf *vtunconf_parse(const char *path, const char *text,
    size_t len, struct vtunconf_diag *diag, char *err, size_t errlen);
void vtunconf_free(struct vtunconf *vc);

/* Add a warning "PATH:LINE: ..." (just "PATH: ..." for line 0). */
void vtunconf_warn(struct vtunconf_diag *d, const char *path, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Order the warnings by line, keeping the order within a line. */
void vtunconf_diag_sort(struct vtunconf_diag *d);
void vtunconf_diag_free(struct vtunconf_diag *d);

/* vtund's name of a cipher number ("blowfish128ecb"), or NULL. */
const char *vtunconf_cipher_name(long long cipher);

#endif
