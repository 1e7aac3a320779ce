/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS 1.3 external-PSK handshake: key derivation, the SSL_CTX of each role
 * with its PSK callback, the checks after the handshake, and error
 * classification for logs.  See handshake.h for the key schedule.
 *
 * State: a server or client object is stored as ex_data of its own
 * SSL_CTX, whose reference count then decides when the keys are wiped and
 * freed; each SSL carries a small handshake_conn (matched session, offered
 * identity, callback count) as its own ex_data.  The ex_data indexes are
 * the only module-wide state, created once and thread-safely.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "handshake.h"
#include "kdf.h"
#include "key.h"
#include "log.h"
#include "util.h"

_Static_assert(KEY_LEN == HANDSHAKE_KEY_LEN, "a session key is the PSK base");

/* The labels of the key schedule (handshake.h). */
#define HANDSHAKE_SALT_PREFIX "tapline v1"
#define HANDSHAKE_PSK_LABEL "tapline tls13 psk v1"
#define HANDSHAKE_PSK_DIRECTION "c->s"
#define HANDSHAKE_ID_LABEL "tapline psk identity v1"
/* Key pairs (handshake.h). */
#define HANDSHAKE_PAIR_SALT "tapline static v1"
#define HANDSHAKE_PAIR_PSK "psk"
#define HANDSHAKE_PAIR_ID "id"
/* The host key and the self tag of a connection. */
#define HANDSHAKE_HOST_SALT "tapline host v1"
#define HANDSHAKE_SELF_LABEL "EXPORTER-tapline-self-v1"

/* The only suite, group and protocol version. */
#define HANDSHAKE_SUITE TLS1_3_RFC_AES_256_GCM_SHA384
#define HANDSHAKE_SUITE_ID TLS1_3_CK_AES_256_GCM_SHA384
#define HANDSHAKE_GROUPS "X25519"
/* The handshake digest of that suite, as EVP_MD_is_a names it. */
#define HANDSHAKE_SUITE_MD "SHA2-384"
/* Its two-byte code point, for SSL_CIPHER_find. */
static const unsigned char handshake_suite_bytes[2] = { 0x13, 0x02 };

/* One configured session as the server sees it. */
struct handshake_entry {
	struct handshake_keys keys;
	const struct conf_session *s;	/* points into the server's conf */
	int peer;	/* key pairs: which of s's peer keys; -1 = none */
};

struct handshake_server {
	SSL_CTX *ctx;	/* owns this object through its ex_data */
	struct handshake_entry *entries;
	size_t nentries;
	size_t reused;
	uint8_t host_key[HANDSHAKE_KEY_LEN];
	bool host_key_ok;
};

struct handshake_client {
	SSL_CTX *ctx;	/* owns this object through its ex_data */
	/* One set, or one per peer key of a key-pair session (pair). */
	struct handshake_keys keys[HANDSHAKE_CLIENT_KEYS];
	size_t nkeys;
	size_t cur;	/* the set the next ClientHello offers */
	bool pair;
	size_t npairs;	/* key pairs: the sets of peer keys (old_key's after) */
	uint8_t host_key[HANDSHAKE_KEY_LEN];
	bool host_key_ok;
};

/* Per-SSL state, freed with the SSL. */
struct handshake_conn {
	const struct conf_session *matched;	/* server: NULL = none */
	int matched_peer;	/* key pairs: the peer key used; -1 = none */
	char matched_name[CONF_NAME_MAX + 1];
	char peer_id[HANDSHAKE_PEER_ID_STRLEN];
	unsigned psk_calls;
};

static CRYPTO_ONCE handshake_once = CRYPTO_ONCE_STATIC_INIT;
static int handshake_idx_ssl = -1;
static int handshake_idx_server = -1;
static int handshake_idx_client = -1;

/* Wipe and free a server object once its SSL_CTX goes away. */
static void
handshake_server_destroy(struct handshake_server *hs)
{
	size_t i;

	if (hs == NULL)
		return;
	for (i = 0; i < hs->nentries; i++)
		handshake_keys_wipe(&hs->entries[i].keys);
	free(hs->entries);
	OPENSSL_cleanse(hs, sizeof(*hs));
	free(hs);
}

/* Wipe and free a client object once its SSL_CTX goes away. */
static void
handshake_client_destroy(struct handshake_client *hc)
{
	if (hc == NULL)
		return;
	OPENSSL_cleanse(hc, sizeof(*hc));
	free(hc);
}

/* ex_data free hook of the SSL index (called for every SSL, ptr or not). */
static void
handshake_conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

/*
 * ex_data dup hook of the SSL index: an SSL_dup copy must not share (and
 * later double-free) the per-connection state, so the copy gets none.
 */
static int
handshake_conn_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
    void **from_d, int idx, long argl, void *argp)
{
	*from_d = NULL;
	return 1;
}

/* ex_data free hook of the server SSL_CTX index. */
static void
handshake_server_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	handshake_server_destroy(ptr);
}

/* ex_data free hook of the client SSL_CTX index. */
static void
handshake_client_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	handshake_client_destroy(ptr);
}

/* Create the three ex_data indexes (run once per process). */
static void
handshake_init_once(void)
{
	handshake_idx_ssl = SSL_get_ex_new_index(0, NULL, NULL,
	    handshake_conn_dup_cb, handshake_conn_free_cb);
	handshake_idx_server = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    handshake_server_free_cb);
	handshake_idx_client = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    handshake_client_free_cb);
}

/* Make sure the ex_data indexes exist. */
static int
handshake_init(char *err, size_t errlen)
{
	if (!CRYPTO_THREAD_run_once(&handshake_once, handshake_init_once) ||
	    handshake_idx_ssl < 0 || handshake_idx_server < 0 ||
	    handshake_idx_client < 0)
		return util_err(err, errlen, "cannot allocate OpenSSL ex_data "
		    "indexes");
	return 0;
}


/* Length of a session name, or 0 if it is empty or too long. */
static size_t
handshake_name_len(const char *name)
{
	size_t len;

	if (name == NULL)
		return 0;
	len = strnlen(name, CONF_NAME_MAX + 1);
	return len > CONF_NAME_MAX ? 0 : len;
}

/* scrypt over the passphrase, salted with the session's name. */
static int
handshake_base_passwd(const char *name, const char *passwd,
    uint8_t base[HANDSHAKE_KEY_LEN], char *err, size_t errlen)
{
	uint8_t salt[sizeof(HANDSHAKE_SALT_PREFIX) - 1 + CONF_NAME_MAX];
	size_t prefix = sizeof(HANDSHAKE_SALT_PREFIX) - 1;
	size_t namelen = handshake_name_len(name);

	if (namelen == 0)
		return util_err(err, errlen, "session name is empty or longer "
		    "than %d characters", CONF_NAME_MAX);
	if (passwd == NULL)
		return util_err(err, errlen, "session %s: no passphrase",
		    name);
	memcpy(salt, HANDSHAKE_SALT_PREFIX, prefix);
	memcpy(salt + prefix, name, namelen);
	return kdf_scrypt(passwd, strlen(passwd), salt, prefix + namelen,
	    HANDSHAKE_SCRYPT_N, HANDSHAKE_SCRYPT_R, HANDSHAKE_SCRYPT_P, base,
	    HANDSHAKE_KEY_LEN, err, errlen);
}

/* The PSK base: the key as is, or scrypt over the passphrase. */
int
handshake_base(const struct conf_session *s, uint8_t base[HANDSHAKE_KEY_LEN],
    char *err, size_t errlen)
{
	if (handshake_name_len(s->name) == 0)
		return util_err(err, errlen, "session name is empty or longer "
		    "than %d characters", CONF_NAME_MAX);
	switch (s->auth) {
	case CONF_AUTH_KEY:
		memcpy(base, s->key, HANDSHAKE_KEY_LEN);
		return 0;
	case CONF_AUTH_PASSWD:
		return handshake_base_passwd(s->name, s->passwd, base, err,
		    errlen);
	case CONF_AUTH_PAIR:
		break;
	}
	return util_err(err, errlen, "session %s: unknown authentication "
	    "kind %d", s->name, (int)s->auth);
}

/* The identity as sent: 16 bytes in lowercase hex, NUL-terminated. */
static void
handshake_id_hex(const uint8_t raw[HANDSHAKE_ID_RAW_LEN],
    char out[HANDSHAKE_ID_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < HANDSHAKE_ID_RAW_LEN; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[HANDSHAKE_ID_HEX_LEN] = '\0';
}

/* The TLS PSK and the hex identity, both expanded from the base. */
int
handshake_keys_from_base(const uint8_t base[HANDSHAKE_KEY_LEN],
    const char *name, struct handshake_keys *out, char *err, size_t errlen)
{
	uint8_t info[sizeof(HANDSHAKE_PSK_LABEL) - 1 + CONF_NAME_MAX +
	    sizeof(HANDSHAKE_PSK_DIRECTION) - 1];
	uint8_t raw[HANDSHAKE_ID_RAW_LEN];
	size_t namelen = handshake_name_len(name), o = 0;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (namelen == 0)
		return util_err(err, errlen, "session name is empty or longer "
		    "than %d characters", CONF_NAME_MAX);
	memcpy(info, HANDSHAKE_PSK_LABEL, sizeof(HANDSHAKE_PSK_LABEL) - 1);
	o += sizeof(HANDSHAKE_PSK_LABEL) - 1;
	memcpy(info + o, name, namelen);
	o += namelen;
	memcpy(info + o, HANDSHAKE_PSK_DIRECTION,
	    sizeof(HANDSHAKE_PSK_DIRECTION) - 1);
	o += sizeof(HANDSHAKE_PSK_DIRECTION) - 1;
	if (kdf_hkdf_expand(base, HANDSHAKE_KEY_LEN, info, o, out->psk,
	    sizeof(out->psk), err, errlen) < 0)
		goto out;
	if (kdf_hkdf_expand(base, HANDSHAKE_KEY_LEN, HANDSHAKE_ID_LABEL,
	    sizeof(HANDSHAKE_ID_LABEL) - 1, raw, sizeof(raw), err,
	    errlen) < 0)
		goto out;
	handshake_id_hex(raw, out->identity);
	r = 0;
out:
	if (r < 0)
		handshake_keys_wipe(out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

/* Base, then PSK and identity; the base never leaves this function. */
int
handshake_derive(const struct conf_session *s, struct handshake_keys *out,
    char *err, size_t errlen)
{
	uint8_t base[HANDSHAKE_KEY_LEN];
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (handshake_base(s, base, err, errlen) < 0)
		goto out;
	if (handshake_keys_from_base(base, s->name, out, err, errlen) < 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(base, sizeof(base));
	return r;
}

int
handshake_derive_passwd(const char *name, const char *passwd,
    struct handshake_keys *out, char *err, size_t errlen)
{
	uint8_t base[HANDSHAKE_KEY_LEN];
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (handshake_base_passwd(name, passwd, base, err, errlen) == 0 &&
	    handshake_keys_from_base(base, name, out, err, errlen) == 0)
		r = 0;
	OPENSSL_cleanse(base, sizeof(base));
	return r;
}

/* info = label || client_public || server_public || name */
static size_t
handshake_pair_info(uint8_t *info, const char *label,
    const uint8_t client_pub[HANDSHAKE_KEY_LEN],
    const uint8_t server_pub[HANDSHAKE_KEY_LEN], const char *name,
    size_t namelen)
{
	size_t o = strlen(label);

	memcpy(info, label, o);
	memcpy(info + o, client_pub, HANDSHAKE_KEY_LEN);
	o += HANDSHAKE_KEY_LEN;
	memcpy(info + o, server_pub, HANDSHAKE_KEY_LEN);
	o += HANDSHAKE_KEY_LEN;
	memcpy(info + o, name, namelen);
	return o + namelen;
}

int
handshake_pair_keys(const uint8_t secret[HANDSHAKE_KEY_LEN],
    const uint8_t *key, const uint8_t client_pub[HANDSHAKE_KEY_LEN],
    const uint8_t server_pub[HANDSHAKE_KEY_LEN], const char *name,
    struct handshake_keys *out, char *err, size_t errlen)
{
	uint8_t ikm[2 * HANDSHAKE_KEY_LEN], prk[KDF_PRK_LEN];
	uint8_t info[8 + 2 * HANDSHAKE_KEY_LEN + CONF_NAME_MAX];
	uint8_t raw[HANDSHAKE_ID_RAW_LEN];
	size_t namelen = handshake_name_len(name), ikmlen, n;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (namelen == 0)
		return util_err(err, errlen, "session name is empty or longer "
		    "than %d characters", CONF_NAME_MAX);
	memcpy(ikm, secret, HANDSHAKE_KEY_LEN);
	ikmlen = HANDSHAKE_KEY_LEN;
	if (key != NULL) {
		memcpy(ikm + ikmlen, key, HANDSHAKE_KEY_LEN);
		ikmlen += HANDSHAKE_KEY_LEN;
	}
	if (kdf_hkdf_extract(HANDSHAKE_PAIR_SALT, strlen(HANDSHAKE_PAIR_SALT),
	    ikm, ikmlen, prk, err, errlen) < 0)
		goto out;
	n = handshake_pair_info(info, HANDSHAKE_PAIR_PSK, client_pub,
	    server_pub, name, namelen);
	if (kdf_hkdf_expand(prk, sizeof(prk), info, n, out->psk,
	    sizeof(out->psk), err, errlen) < 0)
		goto out;
	n = handshake_pair_info(info, HANDSHAKE_PAIR_ID, client_pub,
	    server_pub, name, namelen);
	if (kdf_hkdf_expand(prk, sizeof(prk), info, n, raw, sizeof(raw), err,
	    errlen) < 0)
		goto out;
	handshake_id_hex(raw, out->identity);
	r = 0;
out:
	if (r < 0)
		handshake_keys_wipe(out);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

int
handshake_derive_pair(const struct conf_session *s, size_t i, bool server,
    struct handshake_keys *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (i >= s->npeer_keys)
		return util_err(err, errlen, "session %s: no peer key %zu",
		    s->name, i);
	return handshake_pair_keys(s->pair_secret[i],
	    s->auth == CONF_AUTH_KEY ? s->key : NULL,
	    server ? s->peer_keys[i] : s->own_public,
	    server ? s->own_public : s->peer_keys[i], s->name, out, err,
	    errlen);
}

void
handshake_keys_wipe(struct handshake_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/*
 * A new SSL_SESSION carrying one PSK for TLS_AES_256_GCM_SHA384.  Built
 * afresh for every callback call: OpenSSL takes ownership and frees it
 * (cleansing the key).
 */
static SSL_SESSION *
handshake_session_new(SSL *ssl, const uint8_t key[HANDSHAKE_KEY_LEN])
{
	const SSL_CIPHER *c;
	SSL_SESSION *sess;

	if ((c = SSL_CIPHER_find(ssl, handshake_suite_bytes)) == NULL)
		return NULL;
	if ((sess = SSL_SESSION_new()) == NULL)
		return NULL;
	if (!SSL_SESSION_set1_master_key(sess, key, HANDSHAKE_KEY_LEN) ||
	    !SSL_SESSION_set_cipher(sess, c) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

/* The per-SSL state, or NULL if the SSL was not made here. */
static struct handshake_conn *
handshake_conn_get(const SSL *ssl)
{
	if (ssl == NULL || handshake_idx_ssl < 0)
		return NULL;
	return SSL_get_ex_data(ssl, handshake_idx_ssl);
}

/* Keep the offered identity, escaped and bounded, for log lines. */
static void
handshake_conn_set_peer_id(struct handshake_conn *conn,
    const unsigned char *id, size_t idlen)
{
	size_t shown = idlen < HANDSHAKE_PEER_ID_MAX ? idlen :
	    HANDSHAKE_PEER_ID_MAX;
	size_t o;

	conn->peer_id[0] = '\0';
	if (id == NULL || idlen == 0)
		return;
	/* 4 output bytes per input byte at most, so this never truncates. */
	util_escape(id, shown, conn->peer_id, 4 * HANDSHAKE_PEER_ID_MAX + 1);
	/* False positive: cppcheck 2.10 takes shown for always 0. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (idlen > shown) {
		o = strlen(conn->peer_id);
		snprintf(conn->peer_id + o, sizeof(conn->peer_id) - o,
		    "... (%zu bytes)", idlen);
	}
}

/*
 * The entry whose identity equals id, or NULL.  Every entry is compared,
 * with CRYPTO_memcmp, so the time taken does not depend on which one (if
 * any) matches.
 */
static const struct handshake_entry *
handshake_server_lookup(const struct handshake_server *hs,
    const unsigned char *id, size_t idlen)
{
	const struct handshake_entry *found = NULL;
	size_t i;

	if (id == NULL || idlen != HANDSHAKE_ID_HEX_LEN)
		return NULL;
	for (i = 0; i < hs->nentries; i++)
		if (CRYPTO_memcmp(id, hs->entries[i].keys.identity,
		    HANDSHAKE_ID_HEX_LEN) == 0)
			found = &hs->entries[i];
	return found;
}

/*
 * Server PSK callback, once per ClientHello: a session for the known
 * identity, else one with a random key: an unknown identity must fail
 * exactly like a wrong key, with "binder does not verify", so that a
 * prober cannot tell them apart (*sess = NULL would fail differently).
 */
int
handshake_server_psk_find(SSL *ssl, const unsigned char *id, size_t idlen,
    SSL_SESSION **sess)
{
	struct handshake_server *hs;
	struct handshake_conn *conn = handshake_conn_get(ssl);
	const struct handshake_entry *e;
	uint8_t dummy[HANDSHAKE_KEY_LEN];
	int r = 0;

	*sess = NULL;
	hs = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), handshake_idx_server);
	if (hs == NULL)
		return 0;
	e = handshake_server_lookup(hs, id, idlen);
	if (conn != NULL) {
		conn->psk_calls++;
		conn->matched = NULL;
		conn->matched_peer = -1;
		conn->matched_name[0] = '\0';
		handshake_conn_set_peer_id(conn, id, idlen);
	}
	if (e != NULL) {
		*sess = handshake_session_new(ssl, e->keys.psk);
	} else {
		if (RAND_priv_bytes(dummy, sizeof(dummy)) != 1)
			goto out;
		*sess = handshake_session_new(ssl, dummy);
	}
	if (*sess == NULL)
		goto out;
	if (conn != NULL && e != NULL) {
		conn->matched = e->s;
		conn->matched_peer = e->peer;
		util_strlcpy(conn->matched_name, e->s->name,
		    sizeof(conn->matched_name));
	}
	r = 1;
out:
	OPENSSL_cleanse(dummy, sizeof(dummy));
	return r;
}

/*
 * Client PSK callback, once per ClientHello.  After a HelloRetryRequest md
 * is the digest of the chosen suite, a fetched object: compare by name
 * (EVP_MD_is_a), never by pointer.
 */
static int
handshake_client_psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	struct handshake_client *hc;
	struct handshake_conn *conn = handshake_conn_get(ssl);

	*sess = NULL;
	if (conn != NULL)
		conn->psk_calls++;
	hc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), handshake_idx_client);
	if (hc == NULL)
		return 0;
	if (md != NULL && !EVP_MD_is_a(md, HANDSHAKE_SUITE_MD))
		return 0;
	if ((*sess = handshake_session_new(ssl, hc->keys[hc->cur].psk)) ==
	    NULL)
		return 0;
	if (conn != NULL)
		conn->matched_peer = !hc->pair ? -1 : hc->cur < hc->npairs ?
		    (int)hc->cur : CONF_PEER_OLD_KEY;
	/* The identity lives in hc, which outlives every SSL of its ctx. */
	*id = (const unsigned char *)hc->keys[hc->cur].identity;
	*idlen = HANDSHAKE_ID_HEX_LEN;
	return 1;
}

/*
 * Client certificate check: a server that answers with a certificate did
 * not take our PSK, and no certificate is trusted.
 */
static int
handshake_client_verify_cert(int preverify_ok, X509_STORE_CTX *x)
{
	return 0;
}

/* A context with the settings both roles share (doc/ARCHITECTURE.md). */
static SSL_CTX *
handshake_ctx_new(bool server, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		log_ossl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		log_ossl_err(err, errlen, "setting TLS 1.3 only");
		goto fail;
	}
	if (SSL_CTX_set_ciphersuites(ctx, HANDSHAKE_SUITE) != 1) {
		log_ossl_err(err, errlen, "SSL_CTX_set_ciphersuites");
		goto fail;
	}
	if (SSL_CTX_set1_groups_list(ctx, HANDSHAKE_GROUPS) != 1) {
		log_ossl_err(err, errlen, "SSL_CTX_set1_groups_list");
		goto fail;
	}
	/*
	 * No tickets: without SSL_OP_NO_TICKET and 0 tickets the server sends
	 * one after an external-PSK handshake.  PSK-only key exchange
	 * (SSL_OP_ALLOW_NO_DHE_KEX) would lose forward secrecy.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
		log_ossl_err(err, errlen, "SSL_CTX_set_num_tickets");
		goto fail;
	}
	/* No 0-RTT. */
	if (SSL_CTX_set_max_early_data(ctx, 0) != 1) {
		log_ossl_err(err, errlen, "SSL_CTX_set_max_early_data");
		goto fail;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/*
	 * A connection holds its record buffers (about 34 KiB) only while
	 * they hold something: OpenSSL frees them once empty and allocates
	 * them again for the next record.  A server of many sessions is
	 * mostly idle connections (in UDP mode the stream carries only
	 * control frames).  bufferevent_openssl asks nothing of the
	 * buffers but SSL_pending(), and a buffer that holds anything,
	 * decrypted or not, is never released.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (server) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_psk_find_session_callback(ctx,
		    handshake_server_psk_find);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER,
		    handshake_client_verify_cert);
		SSL_CTX_set_psk_use_session_callback(ctx,
		    handshake_client_psk_use);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Same authentication input, so the derived keys are the same. */
static bool
handshake_same_secret(const struct conf_session *a,
    const struct conf_session *b)
{
	if (strcmp(a->name, b->name) != 0 || a->auth != b->auth ||
	    a->npeer_keys > 0 || b->npeer_keys > 0)
		return false;
	switch (a->auth) {
	case CONF_AUTH_KEY:
		return CRYPTO_memcmp(a->key, b->key, KEY_LEN) == 0;
	case CONF_AUTH_PASSWD:
		return a->passwd != NULL && b->passwd != NULL &&
		    strcmp(a->passwd, b->passwd) == 0;
	case CONF_AUTH_PAIR:
		break;
	}
	return false;
}

/*
 * A server context being built: every session's entry, its keys copied
 * from the previous context when its secret is unchanged, else waiting
 * to be derived (pending[] lists those, by entry index).
 */
struct handshake_plan {
	struct handshake_entry *entries;
	size_t nentries;
	size_t *pending;
	size_t npending;
	size_t reused;
};

void
handshake_plan_free(struct handshake_plan *pl)
{
	size_t i;

	if (pl == NULL)
		return;
	for (i = 0; i < pl->nentries; i++)
		handshake_keys_wipe(&pl->entries[i].keys);
	free(pl->entries);
	free(pl->pending);
	free(pl);
}

/* A key-pair session's entries, one per peer key; the plan on failure. */
static int
handshake_plan_pairs(struct handshake_plan *pl, const struct conf_session *s,
    char *err, size_t errlen)
{
	struct handshake_entry *e;
	char e2[256];
	size_t k;

	for (k = 0; k < s->npeer_keys; k++) {
		e = &pl->entries[pl->nentries];
		e->s = s;
		e->peer = (int)k;
		if (handshake_derive_pair(s, k, true, &e->keys, e2,
		    sizeof(e2)) < 0) {
			util_err(err, errlen, "session %s: %s", s->name, e2);
			handshake_plan_free(pl);
			return -1;
		}
		pl->nentries++;
	}
	if (s->has_old_key) {
		e = &pl->entries[pl->nentries];
		e->s = s;
		e->peer = CONF_PEER_OLD_KEY;
		if (handshake_keys_from_base(s->old_key, s->name, &e->keys, e2,
		    sizeof(e2)) < 0) {
			util_err(err, errlen, "session %s: %s", s->name, e2);
			handshake_plan_free(pl);
			return -1;
		}
		pl->nentries++;
	}
	return 0;
}

struct handshake_plan *
handshake_plan_new(const struct conf *c, const struct handshake_server *prev,
    char *err, size_t errlen)
{
	struct handshake_plan *pl;
	struct handshake_entry *e;
	char e2[256];
	size_t i, j, n = 0;

	/* One entry per session, or per peer key of a key-pair session
	 * (and one for its old_key). */
	for (i = 0; i < c->nsessions; i++)
		n += c->sessions[i].npeer_keys > 0 ?
		    c->sessions[i].npeer_keys + c->sessions[i].has_old_key : 1;
	if ((pl = calloc(1, sizeof(*pl))) == NULL ||
	    (n > 0 && ((pl->entries = calloc(n,
	    sizeof(*pl->entries))) == NULL || (pl->pending =
	    calloc(n, sizeof(*pl->pending))) == NULL))) {
		handshake_plan_free(pl);
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < c->nsessions; i++) {
		/* A legacy = "vtun" session never speaks TLS (vtunsess.c):
		 * no key to derive, and no identity a TLS client could use. */
		if (c->sessions[i].legacy != CONF_LEGACY_NONE)
			continue;
		e = &pl->entries[pl->nentries];
		e->s = &c->sessions[i];
		e->peer = -1;
		if (e->s->npeer_keys > 0) {
			/* Hashes only: the X25519 was done at load. */
			if (handshake_plan_pairs(pl, e->s, err, errlen) < 0)
				return NULL;
			continue;
		}
		for (j = 0; prev != NULL && j < prev->nentries; j++)
			if (handshake_same_secret(prev->entries[j].s, e->s))
				break;
		if (prev != NULL && j < prev->nentries) {
			e->keys = prev->entries[j].keys;
			pl->reused++;
		} else if (e->s->auth == CONF_AUTH_KEY) {
			/* No scrypt: derived here and now. */
			if (handshake_derive(e->s, &e->keys, e2,
			    sizeof(e2)) < 0) {
				util_err(err, errlen, "session %s: %s",
				    e->s->name, e2);
				handshake_plan_free(pl);
				return NULL;
			}
		} else {
			pl->pending[pl->npending++] = pl->nentries;
		}
		pl->nentries++;
	}
	return pl;
}

size_t
handshake_plan_pending(const struct handshake_plan *pl)
{
	return pl->npending;
}

const struct conf_session *
handshake_plan_session(const struct handshake_plan *pl, size_t i)
{
	return pl->entries[pl->pending[i]].s;
}

void
handshake_plan_set(struct handshake_plan *pl, size_t i,
    const struct handshake_keys *k)
{
	pl->entries[pl->pending[i]].keys = *k;
}

/* The server context with every session's keys and identities. */
struct handshake_server *
handshake_plan_finish(struct handshake_plan *pl, char *err, size_t errlen)
{
	struct handshake_server *hs = NULL;
	SSL_CTX *ctx = NULL;
	char e2[256];
	size_t i, j;

	/* The identity must tell sessions apart. */
	for (i = 0; i < pl->nentries; i++) {
		for (j = 0; j < i; j++) {
			if (CRYPTO_memcmp(pl->entries[j].keys.identity,
			    pl->entries[i].keys.identity,
			    HANDSHAKE_ID_HEX_LEN) != 0)
				continue;
			util_err(err, errlen, "sessions %s and %s have the "
			    "same key, so the server cannot tell them apart; "
			    "give each session its own key",
			    pl->entries[j].s->name, pl->entries[i].s->name);
			goto fail;
		}
	}
	if (handshake_init(err, errlen) < 0)
		goto fail;
	if ((ctx = handshake_ctx_new(true, err, errlen)) == NULL)
		goto fail;
	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		util_err(err, errlen, "out of memory");
		goto fail;
	}
	if (!SSL_CTX_set_ex_data(ctx, handshake_idx_server, hs)) {
		handshake_server_destroy(hs);
		log_ossl_err(err, errlen, "SSL_CTX_set_ex_data");
		goto fail;
	}
	/* From here on the context owns hs and frees it with itself. */
	hs->ctx = ctx;
	hs->host_key_ok = handshake_host_key(hs->host_key, e2,
	    sizeof(e2)) == 0;
	hs->entries = pl->entries;
	hs->nentries = pl->nentries;
	hs->reused = pl->reused;
	pl->entries = NULL;
	pl->nentries = 0;
	handshake_plan_free(pl);
	return hs;
fail:
	SSL_CTX_free(ctx);
	handshake_plan_free(pl);
	return NULL;
}

/* All in one: the plan, its scrypt runs here, the context. */
struct handshake_server *
handshake_server_reload(const struct conf *c,
    const struct handshake_server *prev, char *err, size_t errlen)
{
	struct handshake_plan *pl;
	struct handshake_keys k;
	char e2[256];
	size_t i;

	if ((pl = handshake_plan_new(c, prev, err, errlen)) == NULL)
		return NULL;
	for (i = 0; i < handshake_plan_pending(pl); i++) {
		const struct conf_session *s = handshake_plan_session(pl, i);

		if (handshake_derive(s, &k, e2, sizeof(e2)) < 0) {
			util_err(err, errlen, "session %s: %s", s->name, e2);
			handshake_plan_free(pl);
			return NULL;
		}
		handshake_plan_set(pl, i, &k);
		handshake_keys_wipe(&k);
	}
	return handshake_plan_finish(pl, err, errlen);
}

struct handshake_server *
handshake_server_new(const struct conf *c, char *err, size_t errlen)
{
	return handshake_server_reload(c, NULL, err, errlen);
}

void
handshake_server_free(struct handshake_server *hs)
{
	if (hs != NULL)
		SSL_CTX_free(hs->ctx);
}

/*
 * A new SSL with its per-connection state attached; on failure the reason
 * is left in OpenSSL's error queue for the caller to log.
 */
static SSL *
handshake_ssl_new(SSL_CTX *ctx, bool server)
{
	struct handshake_conn *conn;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		ERR_raise(ERR_LIB_SSL, ERR_R_MALLOC_FAILURE);
		SSL_free(ssl);
		return NULL;
	}
	if (!SSL_set_ex_data(ssl, handshake_idx_ssl, conn)) {
		free(conn);
		SSL_free(ssl);
		return NULL;
	}
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

SSL *
handshake_server_ssl_new(struct handshake_server *hs)
{
	return handshake_ssl_new(hs->ctx, true);
}

SSL_CTX *
handshake_server_ctx(struct handshake_server *hs)
{
	return hs->ctx;
}

size_t
handshake_server_reused(const struct handshake_server *hs)
{
	return hs->reused;
}

const struct conf_session *
handshake_matched_session(const SSL *ssl)
{
	struct handshake_conn *conn = handshake_conn_get(ssl);

	return conn != NULL ? conn->matched : NULL;
}

const char *
handshake_matched_name(const SSL *ssl)
{
	struct handshake_conn *conn = handshake_conn_get(ssl);

	return conn != NULL ? conn->matched_name : "";
}

const char *
handshake_peer_identity(const SSL *ssl)
{
	struct handshake_conn *conn = handshake_conn_get(ssl);

	return conn != NULL ? conn->peer_id : "";
}

unsigned
handshake_psk_calls(const SSL *ssl)
{
	struct handshake_conn *conn = handshake_conn_get(ssl);

	return conn != NULL ? conn->psk_calls : 0;
}

/* A client context owning a copy of the n sets of keys in k. */
static struct handshake_client *
handshake_client_make(const struct handshake_keys *k, size_t n,
    size_t npairs, char *err, size_t errlen)
{
	struct handshake_client *hc;
	SSL_CTX *ctx;
	size_t i;

	for (i = 0; i < n; i++)
		if (strnlen(k[i].identity, sizeof(k[i].identity)) !=
		    HANDSHAKE_ID_HEX_LEN) {
			util_err(err, errlen, "malformed PSK identity");
			return NULL;
		}
	if (n == 0 || n > HANDSHAKE_CLIENT_KEYS) {
		util_err(err, errlen, "%zu sets of keys", n);
		return NULL;
	}
	if (handshake_init(err, errlen) < 0)
		return NULL;
	if ((ctx = handshake_ctx_new(false, err, errlen)) == NULL)
		return NULL;
	if ((hc = calloc(1, sizeof(*hc))) == NULL) {
		util_err(err, errlen, "out of memory");
		SSL_CTX_free(ctx);
		return NULL;
	}
	hc->ctx = ctx;
	memcpy(hc->keys, k, n * sizeof(*k));
	hc->nkeys = n;
	hc->pair = npairs > 0;
	hc->npairs = npairs;
	hc->host_key_ok = handshake_host_key(hc->host_key, NULL, 0) == 0;
	if (!SSL_CTX_set_ex_data(ctx, handshake_idx_client, hc)) {
		handshake_client_destroy(hc);
		log_ossl_err(err, errlen, "SSL_CTX_set_ex_data");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return hc;
}

struct handshake_client *
handshake_client_new_keys(const struct handshake_keys *k, char *err,
    size_t errlen)
{
	return handshake_client_make(k, 1, 0, err, errlen);
}

/*
 * Derive the session's keys (scrypt for passphrases; one set per peer
 * key for key pairs), then the context.
 */
struct handshake_client *
handshake_client_new(const struct conf_session *s, char *err, size_t errlen)
{
	struct handshake_client *hc = NULL;
	struct handshake_keys k[HANDSHAKE_CLIENT_KEYS];
	size_t i, n = s->npeer_keys > 0 ? s->npeer_keys : 1;
	int r = 0;

	memset(k, 0, sizeof(k));
	for (i = 0; i < n && r == 0; i++)
		r = s->npeer_keys > 0 ? handshake_derive_pair(s, i, false,
		    &k[i], err, errlen) : handshake_derive(s, &k[i], err,
		    errlen);
	/* old_key comes last: a server not yet moved to key pairs. */
	if (r == 0 && s->npeer_keys > 0 && s->has_old_key)
		r = handshake_keys_from_base(s->old_key, s->name, &k[n++], err,
		    errlen);
	if (r == 0)
		hc = handshake_client_make(k, n, s->npeer_keys, err, errlen);
	OPENSSL_cleanse(k, sizeof(k));
	return hc;
}

size_t
handshake_client_nkeys(const struct handshake_client *hc)
{
	return hc->nkeys;
}

size_t
handshake_client_next_key(struct handshake_client *hc)
{
	hc->cur = (hc->cur + 1) % hc->nkeys;
	return hc->cur;
}

void
handshake_client_use_key(struct handshake_client *hc, int idx)
{
	if (idx == CONF_PEER_OLD_KEY && hc->nkeys > hc->npairs)
		hc->cur = hc->npairs;
	else if (idx >= 0 && (size_t)idx < hc->npairs)
		hc->cur = (size_t)idx;
}

int
handshake_peer_key_index(const SSL *ssl)
{
	struct handshake_conn *conn = handshake_conn_get(ssl);

	return conn != NULL && conn->psk_calls > 0 ? conn->matched_peer : -1;
}

void
handshake_client_free(struct handshake_client *hc)
{
	if (hc != NULL)
		SSL_CTX_free(hc->ctx);
}

SSL *
handshake_client_ssl_new(struct handshake_client *hc)
{
	return handshake_ssl_new(hc->ctx, false);
}

SSL_CTX *
handshake_client_ctx(struct handshake_client *hc)
{
	return hc->ctx;
}

/* Append what names this host to buf: a file's first line, a link. */
static size_t
handshake_host_part(char *buf, size_t off, size_t cap, const char *path,
    bool link)
{
	ssize_t n = -1;
	FILE *f;

	if (off >= cap)
		return off;
	if (link) {
		n = readlink(path, buf + off, cap - off - 1);
	} else if ((f = fopen(path, "re")) != NULL) {
		if (fgets(buf + off, (int)(cap - off), f) != NULL)
			n = (ssize_t)strcspn(buf + off, "\n");
		fclose(f);
	}
	if (n <= 0)
		return off;
	off += (size_t)n;
	buf[off++] = '\n';
	return off;
}

int
handshake_host_key(uint8_t out[HANDSHAKE_KEY_LEN], char *err, size_t errlen)
{
	char buf[512];
	size_t off = 0;
	int r;

	/* The machine, and which network namespace of it. */
	off = handshake_host_part(buf, off, sizeof(buf), "/etc/machine-id",
	    false);
	if (off == 0)
		off = handshake_host_part(buf, off, sizeof(buf),
		    "/var/lib/dbus/machine-id", false);
	if (off == 0 && gethostname(buf, sizeof(buf) - 1) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		off = strlen(buf);
	}
	if (off == 0)
		return util_err(err, errlen, "no machine id and no host name");
	off = handshake_host_part(buf, off, sizeof(buf), "/proc/self/ns/net",
	    true);
	r = kdf_hkdf_extract(HANDSHAKE_HOST_SALT,
	    strlen(HANDSHAKE_HOST_SALT), (const uint8_t *)buf, off, out, err,
	    errlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

const uint8_t *
handshake_ssl_host_key(const SSL *ssl)
{
	const SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	const struct handshake_server *hs;
	const struct handshake_client *hc;

	if ((hs = SSL_CTX_get_ex_data(ctx, handshake_idx_server)) != NULL)
		return hs->host_key_ok ? hs->host_key : NULL;
	if ((hc = SSL_CTX_get_ex_data(ctx, handshake_idx_client)) != NULL)
		return hc->host_key_ok ? hc->host_key : NULL;
	return NULL;
}

int
handshake_self_tag(SSL *ssl, const uint8_t host_key[HANDSHAKE_KEY_LEN],
    uint32_t *tag)
{
	uint8_t ex[32], mac[32];
	int r = -1;

	if (SSL_export_keying_material(ssl, ex, sizeof(ex),
	    HANDSHAKE_SELF_LABEL, strlen(HANDSHAKE_SELF_LABEL), NULL, 0,
	    0) == 1 && kdf_hkdf_extract(host_key, HANDSHAKE_KEY_LEN, ex,
	    sizeof(ex), mac, NULL, 0) == 0) {
		*tag = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
		    (uint32_t)mac[2] << 8 | mac[3];
		if (*tag == 0)
			*tag = 1;
		r = 0;
	}
	ERR_clear_error();
	OPENSSL_cleanse(ex, sizeof(ex));
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

/* The checks on a finished handshake that handshake.h promises. */
int
handshake_verify(SSL *ssl, char *err, size_t errlen)
{
	const SSL_CIPHER *c;
	int group;

	if (!SSL_is_init_finished(ssl))
		return util_err(err, errlen, "handshake not finished");
	if (SSL_version(ssl) != TLS1_3_VERSION)
		return util_err(err, errlen, "negotiated %s, only TLSv1.3 "
		    "is allowed", SSL_get_version(ssl));
	c = SSL_get_current_cipher(ssl);
	if (c == NULL || SSL_CIPHER_get_id(c) != HANDSHAKE_SUITE_ID)
		return util_err(err, errlen, "negotiated cipher suite %s, "
		    "only %s is allowed", c != NULL ? SSL_CIPHER_get_name(c) :
		    "(none)", HANDSHAKE_SUITE);
	group = SSL_get_negotiated_group(ssl);
	if (group == 0)
		return util_err(err, errlen, "no (EC)DHE group negotiated: "
		    "PSK-only key exchange has no forward secrecy and is "
		    "refused");
	if (SSL_session_reused(ssl) != 1)
		return util_err(err, errlen, "the pre-shared key was not "
		    "used");
	if (SSL_is_server(ssl) && handshake_matched_session(ssl) == NULL)
		return util_err(err, errlen, "no configured session matched "
		    "the client's PSK identity");
	if (handshake_psk_calls(ssl) == 0)
		return util_err(err, errlen, "the PSK callback never ran");
	return 0;
}

/* Reason codes of the SSL library and the class each one means. */
static const struct {
	int reason;
	enum handshake_fail f;
} handshake_reasons[] = {
	/* Server: the binder made with the offered PSK does not verify. */
	{ SSL_R_BINDER_DOES_NOT_VERIFY, HANDSHAKE_FAIL_AUTH },
	/* Client: the server's alert for exactly that. */
	{ SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER, HANDSHAKE_FAIL_AUTH },
	{ SSL_R_TLSV1_ALERT_DECRYPT_ERROR, HANDSHAKE_FAIL_AUTH },
	{ SSL_R_BAD_PSK, HANDSHAKE_FAIL_AUTH },
	{ SSL_R_BAD_PSK_IDENTITY, HANDSHAKE_FAIL_AUTH },
	/* Client: a server answered with a certificate instead. */
	{ SSL_R_CERTIFICATE_VERIFY_FAILED, HANDSHAKE_FAIL_AUTH },
	/* Server: no PSK at all, so it would need a certificate. */
	{ SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM, HANDSHAKE_FAIL_NO_PSK },
	{ SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS, HANDSHAKE_FAIL_NO_PSK },
	{ SSL_R_NO_SHARED_CIPHER, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_NO_CIPHERS_AVAILABLE, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_NO_SUITABLE_KEY_SHARE, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_NO_SHARED_GROUPS, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_BAD_KEY_SHARE, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_MISSING_PSK_KEX_MODES_EXTENSION, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_TLSV13_ALERT_MISSING_EXTENSION, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY, HANDSHAKE_FAIL_MISMATCH },
	{ SSL_R_UNSUPPORTED_PROTOCOL, HANDSHAKE_FAIL_VERSION },
	{ SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, HANDSHAKE_FAIL_VERSION },
	{ SSL_R_NO_PROTOCOLS_AVAILABLE, HANDSHAKE_FAIL_VERSION },
	{ SSL_R_VERSION_TOO_LOW, HANDSHAKE_FAIL_VERSION },
	{ SSL_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK, HANDSHAKE_FAIL_VERSION },
	{ SSL_R_HTTP_REQUEST, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_HTTPS_PROXY_REQUEST, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_WRONG_VERSION_NUMBER, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_WRONG_SSL_VERSION, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_UNKNOWN_PROTOCOL, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_PACKET_LENGTH_TOO_LONG, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_RECORD_LENGTH_MISMATCH, HANDSHAKE_FAIL_NOT_TLS },
	{ SSL_R_UNEXPECTED_EOF_WHILE_READING, HANDSHAKE_FAIL_EOF },
};

/* Look the reason up in the table above; other libraries are OTHER. */
enum handshake_fail
handshake_error_class(unsigned long e)
{
	size_t i;

	if (e < 0x100)
		return HANDSHAKE_FAIL_NONE;
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return HANDSHAKE_FAIL_OTHER;
	for (i = 0; i < UTIL_ARRAY_LEN(handshake_reasons); i++)
		if (ERR_GET_REASON(e) == handshake_reasons[i].reason)
			return handshake_reasons[i].f;
	return HANDSHAKE_FAIL_OTHER;
}

/* Words for log lines: "authentication failed for alpha from ...". */
const char *
handshake_fail_str(enum handshake_fail f)
{
	switch (f) {
	case HANDSHAKE_FAIL_NONE:
		return "no error";
	case HANDSHAKE_FAIL_OTHER:
		return "TLS error";
	case HANDSHAKE_FAIL_EOF:
		return "unexpected eof (peer closed during the handshake)";
	case HANDSHAKE_FAIL_NOT_TLS:
		return "not TLS (http request, wrong version number or "
		    "garbage)";
	case HANDSHAKE_FAIL_VERSION:
		return "TLS version refused (TLS 1.3 only)";
	case HANDSHAKE_FAIL_MISMATCH:
		return "no common TLS parameters (cipher suite, group or key "
		    "exchange mode)";
	case HANDSHAKE_FAIL_NO_PSK:
		return "no pre-shared key offered (not a tapline client?)";
	case HANDSHAKE_FAIL_AUTH:
		return "authentication failed";
	}
	return "unknown failure";
}

/* Empty the error queue into one line, earliest error first. */
enum handshake_fail
handshake_errors_drain(char *detail, size_t len)
{
	enum handshake_fail worst = HANDSHAKE_FAIL_NONE, f;
	const char *reason;
	unsigned long e;
	size_t o = 0;
	int n;

	if (detail != NULL && len > 0)
		detail[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		f = handshake_error_class(e);
		if (f > worst)
			worst = f;
		if (detail == NULL || o >= len)
			continue;
		reason = ERR_reason_error_string(e);
		if (reason != NULL)
			n = snprintf(detail + o, len - o, "%s%s",
			    o > 0 ? "; " : "", reason);
		else
			n = snprintf(detail + o, len - o, "%serror %lx",
			    o > 0 ? "; " : "", e);
		o = n < 0 ? len : o + (size_t)n;
	}
	return worst;
}
