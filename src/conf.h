/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file (tapline.conf(5)), turned
 * into an immutable, fully validated struct conf.  Every setting of every
 * session is resolved here: the session's own value, else the `default`
 * group's, else the built-in default.  Only conf.c knows about libconfig.
 */
#ifndef TAPLINE_CONF_H
#define TAPLINE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dev.h"
#include "key.h"
#include "script.h"

/* Session names: [A-Za-z][A-Za-z0-9_-]{0,63}. */
#define CONF_NAME_MAX 64

/* Built-in defaults (tapline.conf(5) lists them too). */
#define CONF_DEFAULT_PORT 5000
#define CONF_DEFAULT_LISTEN "::"
#define CONF_DEFAULT_SYSLOG "daemon"
#define CONF_DEFAULT_CONTROL "/run/tapline/tapline.sock"
#define CONF_DEFAULT_KEEPALIVE 10
#define CONF_DEFAULT_TIMEOUT 60
/*
 * A full tunnel's mark on the client's own sockets and the routing table
 * of its default routes: tapline's default port, as wg-quick uses its
 * own port for both.
 */
#define CONF_DEFAULT_FWMARK 5000
#define CONF_DEFAULT_TABLE 5000

/* Ranges. */
#define CONF_KEEPALIVE_MAX 3600
#define CONF_TIMEOUT_MAX 86400
#define CONF_MTU_MIN 576
#define CONF_MTU_MAX 65535
#define CONF_SPEED_MAX 10000000 /* kbit/s, that is 10 Gbit/s */
#define CONF_LIST_MAX 256	/* entries of address, routes, up, down */
#define CONF_SERVER_MAX 16	/* entries of server */
/* fwmark and table: libconfig reads a plain integer as 32 bits, signed. */
#define CONF_FWMARK_MAX 0x7fffffff
#define CONF_TABLE_MAX 0x7fffffff
/* A passphrase shorter than this draws a warning. */
#define CONF_PASSWD_WARN_LEN 12

enum conf_proto { CONF_PROTO_UDP, CONF_PROTO_TCP };
enum conf_persist { CONF_PERSIST_NO, CONF_PERSIST_YES, CONF_PERSIST_KEEP };
enum conf_cipher {
	CONF_CIPHER_AUTO,
	CONF_CIPHER_AES_256_GCM,
	CONF_CIPHER_CHACHA20_POLY1305,
	/* vtund's, for legacy = "vtun" only (insecure, see tapline.conf(5)) */
	CONF_CIPHER_NONE,
	CONF_CIPHER_BLOWFISH128ECB,
	CONF_CIPHER_AES128ECB,
	CONF_CIPHER_AES256ECB,
};
/* A legacy session's device packets are at most this big (vtund reads
 * 2048 bytes): mtu, plus 18 for a tap frame, must fit. */
#define CONF_LEGACY_MTU_MAX 2000
/* A legacy session's name travels in vtund's HOST line (vtun.h). */
#define CONF_LEGACY_NAME_MAX 43
enum conf_multi { CONF_MULTI_ALLOW, CONF_MULTI_DENY, CONF_MULTI_KILLOLD };
enum conf_legacy { CONF_LEGACY_NONE, CONF_LEGACY_VTUN };
/*
 * How the session authenticates: a key file, a passphrase, or key pairs
 * alone (peer_key without key).  A key session may also have peer keys:
 * then the handshake needs both (npeer_keys > 0 says so).
 */
enum conf_auth { CONF_AUTH_KEY, CONF_AUTH_PASSWD, CONF_AUTH_PAIR };
/* peer_key: at most this many public keys per session (rollover). */
#define CONF_PEER_KEYS_MAX 4
/* A connection's credential: not one of the peer keys but old_key. */
#define CONF_PEER_OLD_KEY (-2)

/* An address or route: "192.0.2.1/30", "2001:db8::/32". */
struct conf_cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	int prefix;	  /* 0..32 or 0..128 */
};

struct conf_options {
	int port;	/* 1..65535 */
	char *listen;	/* server bind address */
	char *syslog;	/* facility name, as written */
	int syslog_facility; /* LOG_DAEMON, ... */
	char *control;	/* status socket path (absolute) */
	char *metrics_listen;	/* "ADDR:PORT" of the metrics endpoint; "" = off */
	char *user;	/* "" = do not change user */
	char *group;	/* "" = do not change group */
	bool offload;	/* TUN offloads, UDP GSO/GRO (default true) */
	/*
	 * "" = none; else the directory whose *.conf files hold more
	 * sessions (resolved against the main file's directory).
	 */
	char *include_dir;
	/*
	 * "" = none; else this host's X25519 private key file (resolved),
	 * read at load: the key (wiped by conf_free) and its public key.
	 */
	char *private_key;
	uint8_t private_bytes[KEY_LEN];
	uint8_t public_key[KEY_LEN];
	bool private_key_ok;
};

struct conf_session {
	char name[CONF_NAME_MAX + 1];
	char tag[CONF_NAME_MAX + 3];	/* "name: ", to start log lines */
	char *file;	/* where the session group starts, for messages */
	int line;
	/*
	 * The file that holds the session: the main file or one of
	 * include_dir's (file differs when that one @includes it).  A
	 * reload keeps the sessions of a file that no longer loads.
	 */
	char *origin;

	enum conf_auth auth;
	char *key_path;	/* CONF_AUTH_KEY: resolved path of the key file */
	uint8_t key[KEY_LEN];	/* CONF_AUTH_KEY: the key itself */
	char *passwd;	/* CONF_AUTH_PASSWD: the passphrase, NUL-terminated */
	/*
	 * peer_key: the peer's X25519 public keys, any of which a server
	 * accepts and a client tries in turn (npeer_keys 0 = no key pairs);
	 * this host's public key (options.private_key) and the X25519
	 * secret with each peer key, computed at load.
	 */
	uint8_t peer_keys[CONF_PEER_KEYS_MAX][KEY_LEN];
	uint8_t pair_secret[CONF_PEER_KEYS_MAX][KEY_LEN];
	uint8_t own_public[KEY_LEN];
	size_t npeer_keys;
	/*
	 * old_key: a shared key still accepted alone while the session
	 * moves to key pairs (with peer_key only).
	 */
	char *old_key_path;
	uint8_t old_key[KEY_LEN];
	bool has_old_key;

	enum conf_proto proto;
	enum dev_type type;
	int keepalive;	/* seconds, 0 = off */
	int timeout;	/* seconds */
	enum conf_persist persist;
	int compress;	/* 0 = off, else zlib level 1..9 */
	enum conf_cipher cipher;
	/*
	 * Client: the hosts or addresses to connect to, tried in order (or
	 * shuffled with server_random) as OpenVPN tries its remote lines;
	 * none (nserver 0) when the command line gives the server.
	 */
	char **server;
	size_t nserver;
	bool server_random;
	char device[IFNAMSIZ];	/* "" = kernel default tun%d/tap%d */
	int queues;	/* 1..DEV_MAX_QUEUES */
	int mtu;	/* 0 = derive, else CONF_MTU_MIN..CONF_MTU_MAX */
	bool mssfix;	/* UDP tun: clamp TCP SYNs' MSS to the path */
	uint32_t speed_in;	/* kbit/s received from the peer, 0 = off */
	uint32_t speed_out;	/* kbit/s sent to the peer, 0 = off */
	enum conf_multi multi;
	struct conf_cidr *address;
	size_t naddress;
	struct conf_cidr *routes;
	size_t nroutes;
	/*
	 * A full tunnel (a route of prefix length 0): the client's sockets
	 * carry fwmark, and the default routes go to this table.
	 */
	uint32_t fwmark;
	uint32_t table;
	/* DNS servers of the device: addresses, prefix 32 or 128. */
	struct conf_cidr *dns;
	size_t ndns;
	char bridge[IFNAMSIZ];	/* "" = none; only with DEV_TAP */
	struct script_argv *up;	/* split commands, %-sequences unexpanded */
	size_t nup;
	struct script_argv *down;
	size_t ndown;
	enum conf_legacy legacy;
	bool offload;	/* options.offload, copied for the session's use */
};

struct conf {
	char *path;	/* the file as given to conf_load */
	struct conf_options options;
	struct conf_session *sessions;	/* main file, then include_dir's */
	size_t nsessions;
	/* include_dir's files that were read, in order, broken ones too. */
	char **files;
	size_t nfiles;
	/*
	 * Those that did not load: at a start their sessions are left out,
	 * at a reload the running ones are kept (conf_load_fallback).
	 */
	char **broken;
	size_t nbroken;
};

/* All errors and warnings found, each a complete line "FILE:LINE: ...". */
struct conf_diag {
	char **errors;
	size_t nerrors;
	char **warnings;
	size_t nwarnings;
};

void conf_diag_free(struct conf_diag *d);

/*
 * SIGHUP's load: read running->path off to the side with running as the
 * fallback (conf_load_fallback), log every warning and error as
 * "reload: x.conf:3: cobra.proto: ...", and say that the running
 * configuration stays when the main file is refused (then NULL), or
 * which file's sessions stay when one of include_dir's is.
 */
struct conf *conf_reload(const struct conf *running);

/*
 * Read, parse and validate the file at `path`, then the *.conf files of
 * its options.include_dir.  Returns NULL if the main file has an error
 * (or memory ran out).  A file of include_dir with an error is left
 * out and listed in broken; the sessions of the others load.  Every
 * error found (not only the first) and every warning is in diag, which
 * conf_load initialises and the caller frees with conf_diag_free in both
 * cases; so nerrors > 0 with a conf returned means broken files.
 */
struct conf *conf_load(const char *path, struct conf_diag *diag);

/*
 * The same, for a reload: the sessions that `old` took from a file of
 * include_dir that now has an error are copied into the new conf as
 * they were, so that a comparison finds them unchanged.  If they clash
 * with a session of another file (same name or key), the whole load
 * fails.  old may be NULL.
 */
struct conf *conf_load_fallback(const char *path, const struct conf *old,
    struct conf_diag *diag);

/*
 * The same for a file already in memory (fuzzers, tests).  `path` names
 * it in messages and its directory anchors relative key file paths and
 * @include; `text` need not be NUL-terminated.  Only the mode of the
 * files it @includes is checked (a passphrase in a file that group or
 * others can read is an error), not that of `path`.  include_dir is
 * checked but not read: text from memory has no place on the disk.
 */
struct conf *conf_load_buffer(const char *path, const char *text, size_t len,
    struct conf_diag *diag);

/* Free everything, wiping keys and passphrases first. */
void conf_free(struct conf *c);

/*
 * The summary of `tapline -t`: effective options and the effective
 * settings of every session.  Never prints a key or passphrase.
 */
void conf_print(const struct conf *c, FILE *out);

/* [A-Za-z][A-Za-z0-9_-]{0,63}: a session name (and a file name part). */
bool conf_name_valid(const char *n);

/* The session named `name`, or NULL. */
const struct conf_session *conf_session_find(const struct conf *c,
    const char *name);

/*
 * True if two sessions have identical settings (keys and passphrases
 * included), so that a reload can leave a running session untouched.
 */
bool conf_session_equal(const struct conf_session *a,
    const struct conf_session *b);

/*
 * Key pairs: a connection authenticated under a with the credential
 * *idx (a peer key's index, or CONF_PEER_OLD_KEY) may go on under b:
 * the two are equal, or differ only in peer_key and old_key and b still
 * accepts that credential.  True, with *idx moved to its place in b.
 */
bool conf_session_keeps(const struct conf_session *a,
    const struct conf_session *b, int *idx);

/* Names for messages and status output: "udp", "keep", "killold", ... */
const char *conf_proto_name(enum conf_proto p);
const char *conf_persist_name(enum conf_persist p);
const char *conf_cipher_name(enum conf_cipher c);
const char *conf_multi_name(enum conf_multi m);
const char *conf_legacy_name(enum conf_legacy l);

/*
 * True if routes has a route of prefix length 0 of family (AF_INET,
 * AF_INET6, or AF_UNSPEC for either): a full tunnel.
 */
bool conf_session_full_tunnel(const struct conf_session *s, int family);

/* "192.0.2.1/30" into buf (at least CONF_CIDR_STRLEN bytes). */
#define CONF_CIDR_STRLEN 50
void conf_cidr_format(const struct conf_cidr *c, char *buf, size_t len);

#endif
