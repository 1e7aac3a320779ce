/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control channel's TLS 1.3 handshake: external
 * PSK with X25519 (psk_dhe_ke), TLS_AES_256_GCM_SHA384, no certificates,
 * no tickets, no 0-RTT.  This module derives the PSKs and identities, sets
 * up the SSL_CTX of each role with its PSK callback, and checks a finished
 * handshake.  It does no I/O: the caller wraps the SSL objects it hands out
 * in bufferevent_openssl (or drives them any other way).
 *
 * Key schedule (a contract: changing a label or parameter breaks interop):
 *   base     = the session's 32-byte key, or
 *              scrypt(passwd, "tapline v1" || name, N=2^17, r=8, p=1, 32)
 *   psk      = HKDF-Expand-SHA256(base, "tapline tls13 psk v1" || name ||
 *              "c->s", 32)
 *   identity = lowercase hex(HKDF-Expand-SHA256(base,
 *              "tapline psk identity v1", 16)), 32 characters
 * The identity does not depend on the session name, so the name is never
 * sent in clear; two key sessions with the same key therefore collide, and
 * handshake_server_new refuses them.
 *
 * Key pairs (peer_key and options.private_key), per peer key:
 *   secret   = X25519(own private key, peer public key), at config load
 *   prk      = HKDF-Extract-SHA256(salt "tapline static v1",
 *              secret [|| the session's key, when it has one too])
 *   psk      = HKDF-Expand-SHA256(prk, "psk" || client_public ||
 *              server_public || name, 32)
 *   identity = lowercase hex(HKDF-Expand-SHA256(prk, "id" ||
 *              client_public || server_public || name, 16))
 * The public keys in role order bind the roles: a client's hello sent
 * back to the same host's server names no session there.  The name lets
 * two sessions between the same two hosts share their host keys.  The
 * server keeps one identity per peer key, so any listed key gets in.
 * A session moving to key pairs may keep its shared key as old_key: the
 * server also accepts it alone (keys as for a key session), and the
 * client offers it after its peer keys.
 *
 * Lifetimes: a server or client object owns its SSL_CTX and its keys.  Each
 * SSL made from it holds a reference, so handshake_*_free may be called
 * while SSLs are still alive; the keys are wiped and freed when the last
 * one is gone.  Functions returning int give 0, or -1 with a message in err
 * (which may be NULL).  Nothing here logs, and no message holds a secret.
 */
#ifndef TAPLINE_HANDSHAKE_H
#define TAPLINE_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "conf.h"

/* The PSK base and the TLS PSK are 32 bytes. */
#define HANDSHAKE_KEY_LEN 32
/* A client offers at most this many sets of keys: its peer keys, old_key. */
#define HANDSHAKE_CLIENT_KEYS (CONF_PEER_KEYS_MAX + 1)
/* The identity: 16 bytes, sent as 32 lowercase hex digits. */
#define HANDSHAKE_ID_RAW_LEN 16
#define HANDSHAKE_ID_HEX_LEN (2 * HANDSHAKE_ID_RAW_LEN)

/* scrypt parameters for passphrase sessions (about 0.5 s, 128 MiB). */
#define HANDSHAKE_SCRYPT_N ((uint64_t)1 << 17)
#define HANDSHAKE_SCRYPT_R 8
#define HANDSHAKE_SCRYPT_P 1

/* At most this many bytes of a peer's offered identity are kept for logs. */
#define HANDSHAKE_PEER_ID_MAX 64
/* Room for those bytes escaped (\xNN each) plus a "... (N bytes)" tail. */
#define HANDSHAKE_PEER_ID_STRLEN (4 * HANDSHAKE_PEER_ID_MAX + 32)

/* What one session needs for the handshake; wipe with handshake_keys_wipe. */
struct handshake_keys {
	uint8_t psk[HANDSHAKE_KEY_LEN];
	char identity[HANDSHAKE_ID_HEX_LEN + 1];	/* NUL-terminated */
};

/* --- Key derivation ---------------------------------------------------- */

/* The PSK base of a session: its key, or scrypt of its passphrase. */
int handshake_base(const struct conf_session *s,
    uint8_t base[HANDSHAKE_KEY_LEN], char *err, size_t errlen);

/* PSK and identity from a base and a session name. */
int handshake_keys_from_base(const uint8_t base[HANDSHAKE_KEY_LEN],
    const char *name, struct handshake_keys *out, char *err, size_t errlen);

/*
 * handshake_base then handshake_keys_from_base, wiping the base.  Slow for
 * passphrase sessions (scrypt): do it once per session and keep the result.
 */
int handshake_derive(const struct conf_session *s, struct handshake_keys *out,
    char *err, size_t errlen);

/*
 * The same for a passphrase session from its name and passphrase alone
 * (copies of them): the scrypt of a reload, run on the worker pool.
 */
int handshake_derive_passwd(const char *name, const char *passwd,
    struct handshake_keys *out, char *err, size_t errlen);

/*
 * The key-pair schedule above from its inputs: secret, the session's
 * key or NULL, both public keys and the name (tests check it against
 * known answers).
 */
int handshake_pair_keys(const uint8_t secret[HANDSHAKE_KEY_LEN],
    const uint8_t *key, const uint8_t client_pub[HANDSHAKE_KEY_LEN],
    const uint8_t server_pub[HANDSHAKE_KEY_LEN], const char *name,
    struct handshake_keys *out, char *err, size_t errlen);

/*
 * The keys of a key-pair session s with its peer key i, as the server
 * (this host's public key second) or the client (first).
 */
int handshake_derive_pair(const struct conf_session *s, size_t i,
    bool server, struct handshake_keys *out, char *err, size_t errlen);

/* Wipe a handshake_keys (OPENSSL_cleanse). */
void handshake_keys_wipe(struct handshake_keys *k);

/* --- Server ------------------------------------------------------------ */

struct handshake_server;

/*
 * One server context for every session of c: derives the keys of each
 * session (scrypt for passphrase sessions, about 0.5 s each) and
 * precomputes identity -> session.  The server keeps its own copies of
 * the keys, but handshake_matched_session returns pointers into c: keep c
 * alive while those are used.
 */
struct handshake_server *handshake_server_new(const struct conf *c,
    char *err, size_t errlen);

/*
 * The same for a reload: sessions whose name and key or passphrase are
 * unchanged take their keys from prev instead of running scrypt again.
 * prev and the conf it was built from must still be alive during the call;
 * prev stays valid and is freed separately.
 */
struct handshake_server *handshake_server_reload(const struct conf *c,
    const struct handshake_server *prev, char *err, size_t errlen);

/* Drop the caller's reference; live SSLs keep the keys until freed. */
void handshake_server_free(struct handshake_server *hs);

/*
 * handshake_server_reload in steps, so that the slow part (scrypt, about
 * 0.5 s per passphrase session) can run off the loop:
 *
 *	handshake_plan_new	every session of c; keys of unchanged ones
 *				copied from prev (which may go afterwards),
 *				key sessions derived at once
 *	handshake_plan_pending	how many passphrase sessions wait for
 *				their keys; handshake_plan_session(pl, i)
 *				is the i-th (0 <= i < pending)
 *	handshake_plan_set	the keys of the i-th, derived elsewhere
 *				(handshake_derive_passwd), copied
 *	handshake_plan_finish	the checks (distinct identities) and the
 *				context; consumes pl (freed in any case)
 *
 * NULL with err on failure; handshake_plan_free drops a plan unfinished.
 */
struct handshake_plan;

struct handshake_plan *handshake_plan_new(const struct conf *c,
    const struct handshake_server *prev, char *err, size_t errlen);
size_t handshake_plan_pending(const struct handshake_plan *pl);
const struct conf_session *handshake_plan_session(
    const struct handshake_plan *pl, size_t i);
void handshake_plan_set(struct handshake_plan *pl, size_t i,
    const struct handshake_keys *k);
struct handshake_server *handshake_plan_finish(struct handshake_plan *pl,
    char *err, size_t errlen);
void handshake_plan_free(struct handshake_plan *pl);

/*
 * A new server-side SSL in accept state, or NULL with the reason in
 * OpenSSL's error queue (log_ssl_errors).
 */
SSL *handshake_server_ssl_new(struct handshake_server *hs);

/* The server's SSL_CTX (tests change its groups). */
SSL_CTX *handshake_server_ctx(struct handshake_server *hs);

/* How many sessions took their keys from prev in handshake_server_reload. */
size_t handshake_server_reused(const struct handshake_server *hs);

/*
 * The psk_find_session callback installed on the server context, public so
 * that tests can feed it identities no ClientHello can carry (0 or 65535
 * bytes).  Returns 1 with a fresh session in *sess for any identity; for
 * an unknown one the session has a random key, so that it fails exactly
 * like a wrong key.  0 (the handshake aborts) only if ssl does not come
 * from handshake_server_ssl_new's context or memory or randomness fails.
 */
int handshake_server_psk_find(SSL *ssl, const unsigned char *id, size_t idlen,
    SSL_SESSION **sess);

/*
 * Server side: the session whose identity the client offered last, or NULL
 * (unknown identity, client side, or no PSK seen).  A match is not proof:
 * only handshake_verify says the client knew the key.  Points into the
 * struct conf the server was built from.
 */
const struct conf_session *handshake_matched_session(const SSL *ssl);

/* The same session's name, owned by the SSL: "" when none matched. */
const char *handshake_matched_name(const SSL *ssl);

/*
 * Server side: the identity the client offered last, for logs: at most
 * HANDSHAKE_PEER_ID_MAX bytes escaped with util_escape, followed by
 * "... (N bytes)" when longer.  "" if none was offered.  Never NULL.
 */
const char *handshake_peer_identity(const SSL *ssl);

/*
 * How many times the PSK callback ran for this SSL: 1 per ClientHello,
 * so 2 after a HelloRetryRequest.
 */
unsigned handshake_psk_calls(const SSL *ssl);

/* --- Client ------------------------------------------------------------ */

struct handshake_client;

/*
 * A client context for session s, deriving its keys (scrypt if passwd;
 * one set per peer key for key pairs, offered one at a time).
 */
struct handshake_client *handshake_client_new(const struct conf_session *s,
    char *err, size_t errlen);

/* The same from keys derived earlier (copied). */
struct handshake_client *handshake_client_new_keys(
    const struct handshake_keys *k, char *err, size_t errlen);

/* Drop the caller's reference; live SSLs keep the keys until freed. */
void handshake_client_free(struct handshake_client *hc);

/*
 * How many sets of keys the client can offer (a key-pair session: one
 * per peer key), and a move to the next one (returned, 0-based) for the
 * next connection: a server that replaced its key takes another.
 */
size_t handshake_client_nkeys(const struct handshake_client *hc);
size_t handshake_client_next_key(struct handshake_client *hc);
/*
 * Offer the set of a peer key's index, or of old_key (CONF_PEER_OLD_KEY),
 * next: a reload that kept the connection keeps what it used.
 */
void handshake_client_use_key(struct handshake_client *hc, int idx);

/*
 * Key pairs: which of the session's peer keys the connection used: on
 * the server the one the client's identity matched, on the client the
 * one it offered; CONF_PEER_OLD_KEY for the session's old_key.  -1 when
 * the session has no key pairs or no PSK was seen.
 */
int handshake_peer_key_index(const SSL *ssl);

/*
 * A new client-side SSL in connect state, or NULL with the reason in
 * OpenSSL's error queue (log_ssl_errors).
 */
SSL *handshake_client_ssl_new(struct handshake_client *hc);

/* The client's SSL_CTX (tests change its groups and options). */
SSL_CTX *handshake_client_ctx(struct handshake_client *hc);

/* --- After the handshake ----------------------------------------------- */

/*
 * Check a finished handshake on either side: TLS 1.3, the one cipher suite,
 * an (EC)DHE group (never PSK-only key exchange), the PSK was used, and on
 * the server a configured session matched.  0, or -1 with the reason.
 * The connection must be closed on -1.
 */
int handshake_verify(SSL *ssl, char *err, size_t errlen);

/* --- Connections back to this host ----------------------------------- */

/*
 * One shared key serves both roles, so a host that serves a session and
 * also dials it can be made to talk to itself: whoever sits in the path
 * sends its client's connection back to its own server, and both ends
 * authenticate.  Role labels cannot tell the two apart (the peer's client
 * uses the same ones), so each host proves "this is me" instead: a client
 * puts handshake_self_tag() in its HELLO as its receiver id, and a server
 * that computes the same value for the same connection is talking to its
 * own host.  The host key comes from the machine id and the network
 * namespace (two namespaces are two hosts) and never leaves the process;
 * the tag is a MAC of the connection's exporter, so the peer learns
 * nothing from it and it is never the same twice.
 */
int handshake_host_key(uint8_t out[HANDSHAKE_KEY_LEN], char *err,
    size_t errlen);

/*
 * This host's key as the server or client context that made ssl holds it
 * (made when the context was), or NULL if it could not be made.
 */
const uint8_t *handshake_ssl_host_key(const SSL *ssl);

/*
 * The tag of a finished connection under host_key: never 0.  0 on success,
 * -1 if the exporter failed.
 */
int handshake_self_tag(SSL *ssl, const uint8_t host_key[HANDSHAKE_KEY_LEN],
    uint32_t *tag);

/*
 * Why a handshake failed, from OpenSSL error codes, for "authentication
 * failed for <session> from <ip>"-style logs.  Ordered: when several codes
 * are seen, the largest class is the most telling one.
 */
enum handshake_fail {
	HANDSHAKE_FAIL_NONE,	/* not an error code */
	HANDSHAKE_FAIL_OTHER,	/* any other TLS or library error */
	HANDSHAKE_FAIL_EOF,	/* peer closed in the middle */
	HANDSHAKE_FAIL_NOT_TLS,	/* HTTP, garbage, wrong record version */
	HANDSHAKE_FAIL_VERSION,	/* TLS < 1.3 offered or required */
	HANDSHAKE_FAIL_MISMATCH,	/* no common suite, group, kex mode */
	HANDSHAKE_FAIL_NO_PSK,	/* the client offered no usable PSK */
	HANDSHAKE_FAIL_AUTH,	/* wrong key or passphrase, unknown id */
};

/*
 * Class of one code from ERR_get_error or bufferevent_get_openssl_error.
 * Values below 0x100 (the SSL_get_error codes libevent mixes in) are NONE.
 */
enum handshake_fail handshake_error_class(unsigned long e);

/* "authentication failed", "unexpected eof", ... for log lines. */
const char *handshake_fail_str(enum handshake_fail f);

/*
 * Drain this thread's OpenSSL error queue: the reasons, joined by "; ", go
 * into detail (may be NULL); returns the largest class seen.
 */
enum handshake_fail handshake_errors_drain(char *detail, size_t len);

#endif
