/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * handshake.c: a golden PSK/identity vector, and complete TLS 1.3 handshakes between the
 * real client and server contexts, in memory (memory BIOs moved by hand,
 * or a socketpair): success, wrong key, unknown and malformed identities
 * (all failing identically), HelloRetryRequest, PSK-only key exchange,
 * TLS 1.2 and non-TLS peers, a certificate-only server, the session name
 * never on the wire, reloads and object lifetimes.
 */
#include "config.h"	/* _GNU_SOURCE for memmem */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf.h"
#include "derive.h"
#include "handshake.h"
#include "hex.h"
#include "keypair.h"
#include "util.h"
#include "worker.h"

#define NSESS 3
#define CAPTURE_MAX (256 * 1024)

/* The configured sessions: a key one, a passphrase one, another key one. */
struct fx {
	struct conf conf;
	struct conf_session sess[NSESS];
	struct handshake_server *hs;
	struct handshake_keys keys[NSESS];
};

#define ALPHA 0
#define BRAVO 1
#define CHARLIE 2
static const char bravo_passwd[] = "correct horse battery staple";
/* Long and distinctive, so that finding it in a capture means something. */
static const char charlie_name[] = "charlie-hidden-session-name";

/* Golden values, computed independently (Python hashlib + hmac). */
static const char alpha_psk_hex[] =
    "5cd7a120998219ed67896bdeff3e47cf994915c924bd46277c5f83edb7fbfb86";
static const char alpha_id[] = "9024a3ecf21e6113899dc413386e75c2";
static const char bravo_psk_hex[] =
    "53c267ef2a97cf285749b706cacea6b89c3edfc7cf344880ec2d5ade6a2ff40c";
static const char bravo_id[] = "59512faca5ff069b02fb0b874c0749e8";

/* One end of a test connection. */
struct side {
	SSL *ssl;
	BIO *rd, *wr;	/* memory BIOs; NULL over a socketpair */
	int state;	/* 0 running, 1 finished, -1 failed */
	unsigned long first_err;
	enum handshake_fail cls;
	char detail[512];
};

/* A client and a server, and everything the client sent. */
struct link {
	struct side c, s;
	int fds[2];
	bool mem;
	unsigned char c2s[CAPTURE_MAX];
	size_t c2s_len;
	size_t first_flight;	/* client bytes before the server's first */
	unsigned char s2c[CAPTURE_MAX];
	size_t s2c_len;
};

/* A session as conf.c would make it; key bytes keyfill, keyfill+1, ... */
static void
session_init(struct conf_session *s, const char *name, enum conf_auth auth,
    uint8_t keyfill, const char *passwd)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->auth = auth;
	for (i = 0; i < KEY_LEN; i++)
		s->key[i] = (uint8_t)(keyfill + i);
	if (passwd != NULL)
		assert_non_null(s->passwd = strdup(passwd));
}

/* The server for all three sessions, and their keys as a client has them. */
static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256];
	int i;

	if (fx == NULL)
		return -1;
	session_init(&fx->sess[ALPHA], "alpha", CONF_AUTH_KEY, 0x00, NULL);
	session_init(&fx->sess[BRAVO], "bravo", CONF_AUTH_PASSWD, 0,
	    bravo_passwd);
	session_init(&fx->sess[CHARLIE], charlie_name, CONF_AUTH_KEY, 0x40,
	    NULL);
	fx->conf.sessions = fx->sess;
	fx->conf.nsessions = NSESS;
	fx->hs = handshake_server_new(&fx->conf, err, sizeof(err));
	if (fx->hs == NULL) {
		fprintf(stderr, "handshake_server_new: %s\n", err);
		return -1;
	}
	for (i = 0; i < NSESS; i++) {
		if (handshake_derive(&fx->sess[i], &fx->keys[i], err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "handshake_derive: %s\n", err);
			return -1;
		}
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int i;

	handshake_server_free(fx->hs);
	for (i = 0; i < NSESS; i++) {
		handshake_keys_wipe(&fx->keys[i]);
		free(fx->sess[i].passwd);
	}
	free(fx);
	return 0;
}

/* Attach memory BIOs that say "retry" (not EOF) when empty. */
static void
side_mem(struct side *sd)
{
	assert_non_null(sd->rd = BIO_new(BIO_s_mem()));
	assert_non_null(sd->wr = BIO_new(BIO_s_mem()));
	BIO_set_mem_eof_return(sd->rd, -1);
	BIO_set_mem_eof_return(sd->wr, -1);
	SSL_set_bio(sd->ssl, sd->rd, sd->wr);
}

/* A link between cssl and sssl (taking both), over memory or a socketpair. */
static struct link *
link_new(SSL *cssl, SSL *sssl, bool mem)
{
	struct link *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->c.ssl = cssl;
	l->s.ssl = sssl;
	l->mem = mem;
	l->fds[0] = l->fds[1] = -1;
	if (mem) {
		side_mem(&l->c);
		side_mem(&l->s);
	} else {
		assert_int_equal(socketpair(AF_UNIX,
		    SOCK_STREAM | SOCK_NONBLOCK, 0, l->fds), 0);
		assert_int_equal(SSL_set_fd(cssl, l->fds[0]), 1);
		assert_int_equal(SSL_set_fd(sssl, l->fds[1]), 1);
	}
	return l;
}

static void
link_free(struct link *l)
{
	SSL_free(l->c.ssl);
	SSL_free(l->s.ssl);
	if (l->fds[0] >= 0)
		close(l->fds[0]);
	if (l->fds[1] >= 0)
		close(l->fds[1]);
	free(l);
}

/* One SSL_do_handshake; true if the side just finished or failed. */
static bool
side_step(struct side *sd)
{
	int r, e;

	if (sd->state != 0)
		return false;
	ERR_clear_error();
	r = SSL_do_handshake(sd->ssl);
	if (r == 1) {
		sd->state = 1;
		return true;
	}
	e = SSL_get_error(sd->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return false;
	sd->state = -1;
	sd->first_err = ERR_peek_error();
	sd->cls = handshake_errors_drain(sd->detail, sizeof(sd->detail));
	return true;
}

/* Move what one memory BIO holds into another, keeping a copy. */
static size_t
move(BIO *from, BIO *to, unsigned char *cap, size_t *caplen)
{
	char buf[16384];
	size_t total = 0, n;
	int got;

	while ((got = BIO_read(from, buf, sizeof(buf))) > 0) {
		assert_int_equal(BIO_write(to, buf, got), got);
		n = (size_t)got;
		if (n > CAPTURE_MAX - *caplen)
			n = CAPTURE_MAX - *caplen;
		memcpy(cap + *caplen, buf, n);
		*caplen += n;
		total += (size_t)got;
	}
	return total;
}

/* Move bytes both ways once; true if any moved. */
static bool
link_move(struct link *l)
{
	size_t n;
	bool moved = false;

	if (!l->mem)
		return false;
	n = move(l->c.wr, l->s.rd, l->c2s, &l->c2s_len);
	if (l->s2c_len == 0)
		l->first_flight += n;
	moved |= n > 0;
	moved |= move(l->s.wr, l->c.rd, l->s2c, &l->s2c_len) > 0;
	return moved;
}

/* Drive both handshakes alternately until both end or nothing moves. */
static void
link_handshake(struct link *l)
{
	bool progress;
	int i;

	for (i = 0; i < 400; i++) {
		progress = side_step(&l->c);
		progress |= link_move(l);
		progress |= side_step(&l->s);
		progress |= link_move(l);
		if (l->c.state != 0 && l->s.state != 0)
			break;
		if (l->mem && !progress)
			break;
	}
}

/* Send msg from one end and read it at the other. */
static void
link_send(struct link *l, struct side *from, struct side *to, const char *msg)
{
	char buf[256];
	int len = (int)strlen(msg), n = -1, i;

	assert_int_equal(SSL_write(from->ssl, msg, len), len);
	for (i = 0; i < 100; i++) {
		link_move(l);
		ERR_clear_error();
		n = SSL_read(to->ssl, buf, sizeof(buf));
		if (n > 0)
			break;
		assert_int_equal(SSL_get_error(to->ssl, n),
		    SSL_ERROR_WANT_READ);
	}
	assert_int_equal(n, len);
	assert_memory_equal(buf, msg, (size_t)len);
}

/* A client context for keys k. */
static struct handshake_client *
client_new(const struct handshake_keys *k)
{
	struct handshake_client *hc;
	char err[256];

	hc = handshake_client_new_keys(k, err, sizeof(err));
	if (hc == NULL)
		fail_msg("handshake_client_new_keys: %s", err);
	return hc;
}

/* A client SSL from hc. */
static SSL *
client_ssl_from(struct handshake_client *hc)
{
	SSL *ssl = handshake_client_ssl_new(hc);

	assert_non_null(ssl);
	return ssl;
}

/* A client SSL for keys k; its context goes when the SSL does. */
static SSL *
client_ssl(const struct handshake_keys *k)
{
	struct handshake_client *hc = client_new(k);
	SSL *ssl = client_ssl_from(hc);

	handshake_client_free(hc);
	return ssl;
}

/* A server SSL from hs. */
static SSL *
server_ssl(struct handshake_server *hs)
{
	SSL *ssl = handshake_server_ssl_new(hs);

	assert_non_null(ssl);
	return ssl;
}

/* Run a complete handshake of keys k against hs over memory BIOs. */
static struct link *
run(struct handshake_server *hs, const struct handshake_keys *k)
{
	struct link *l = link_new(client_ssl(k), server_ssl(hs), true);

	link_handshake(l);
	return l;
}

/* Both ends succeeded and pass handshake_verify. */
static void
assert_link_ok(struct link *l)
{
	char err[256];

	if (l->c.state != 1 || l->s.state != 1)
		fail_msg("handshake failed: client \"%s\", server \"%s\"",
		    l->c.detail, l->s.detail);
	if (handshake_verify(l->c.ssl, err, sizeof(err)) != 0)
		fail_msg("client verify: %s", err);
	if (handshake_verify(l->s.ssl, err, sizeof(err)) != 0)
		fail_msg("server verify: %s", err);
}

/* ATTACKS.md row 27d: PSK and identity of fixed sessions, committed. */
static void
test_golden(void **state)
{
	struct fx *fx = *state;
	struct handshake_keys k;
	uint8_t base[HANDSHAKE_KEY_LEN];
	char err[256];

	assert_hex(fx->keys[ALPHA].psk, HANDSHAKE_KEY_LEN, alpha_psk_hex);
	assert_string_equal(fx->keys[ALPHA].identity, alpha_id);
	/* setup ran scrypt for bravo through handshake_derive. */
	assert_hex(fx->keys[BRAVO].psk, HANDSHAKE_KEY_LEN, bravo_psk_hex);
	assert_string_equal(fx->keys[BRAVO].identity, bravo_id);
	/* The same from a base given directly. */
	hex_decode("3dfffa24d9b100f3fdf870c085353a8c99a0d032612caa34acff423d05"
	    "12dd44", base, sizeof(base));
	assert_int_equal(handshake_keys_from_base(base, "bravo", &k, err,
	    sizeof(err)), 0);
	assert_memory_equal(k.psk, fx->keys[BRAVO].psk, HANDSHAKE_KEY_LEN);
	assert_string_equal(k.identity, bravo_id);
	handshake_keys_wipe(&k);
	assert_int_equal(k.identity[0], 0);
	assert_int_equal(k.psk[0] | k.psk[31], 0);
}

static void
test_derive_errors(void **state)
{
	struct conf_session s;
	struct handshake_keys k;
	char err[256];

	(void)state;
	session_init(&s, "x", CONF_AUTH_PASSWD, 0, NULL);
	assert_int_equal(handshake_derive(&s, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no passphrase"));
	s.name[0] = '\0';
	s.auth = CONF_AUTH_KEY;
	assert_int_equal(handshake_derive(&s, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "session name"));
	memset(s.name, 'a', sizeof(s.name));
	assert_int_equal(handshake_derive(&s, &k, err, sizeof(err)), -1);
	/* A malformed identity is refused for a client. */
	memset(&k, 0, sizeof(k));
	assert_null(handshake_client_new_keys(&k, err, sizeof(err)));
}

/* Two key sessions with one key share an identity: refused. */
static void
test_duplicate_key(void **state)
{
	struct conf_session s[2];
	struct conf c = { .sessions = s, .nsessions = 2 };
	struct handshake_server *hs;
	char err[256];

	(void)state;
	session_init(&s[0], "one", CONF_AUTH_KEY, 7, NULL);
	session_init(&s[1], "two", CONF_AUTH_KEY, 7, NULL);
	assert_null(handshake_server_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "sessions one and two have the same key"));
	/* A legacy = "vtun" session has no TLS identity at all, so it
	 * cannot clash with one (nor be reached over TLS). */
	s[1].legacy = CONF_LEGACY_VTUN;
	hs = handshake_server_new(&c, err, sizeof(err));
	assert_non_null(hs);
	handshake_server_free(hs);
	/* An empty configuration is valid: every identity is unknown. */
	c.nsessions = 0;
	handshake_server_free(handshake_server_new(&c, err, sizeof(err)));
}

static int tickets_seen;

static int
count_ticket(SSL *ssl, SSL_SESSION *sess)
{
	tickets_seen++;
	return 0;
}

/* Over a socketpair: everything handshake.h promises. */
static void
test_handshake_ok(void **state)
{
	struct fx *fx = *state;
	struct handshake_client *hc;
	struct link *l;
	const SSL_CIPHER *c;
	uint8_t ec[32], es[32];
	const unsigned char epoch[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

	tickets_seen = 0;
	hc = client_new(&fx->keys[ALPHA]);
	/* Watch for tickets, which would need a client session cache. */
	SSL_CTX_set_session_cache_mode(handshake_client_ctx(hc),
	    SSL_SESS_CACHE_CLIENT);
	SSL_CTX_sess_set_new_cb(handshake_client_ctx(hc), count_ticket);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), false);
	handshake_client_free(hc);
	link_handshake(l);
	assert_link_ok(l);

	assert_int_equal(SSL_version(l->c.ssl), TLS1_3_VERSION);
	assert_int_equal(SSL_version(l->s.ssl), TLS1_3_VERSION);
	assert_non_null(c = SSL_get_current_cipher(l->c.ssl));
	assert_string_equal(SSL_CIPHER_get_name(c), "TLS_AES_256_GCM_SHA384");
	assert_non_null(c = SSL_get_current_cipher(l->s.ssl));
	assert_string_equal(SSL_CIPHER_get_name(c), "TLS_AES_256_GCM_SHA384");
	assert_int_equal(SSL_get_negotiated_group(l->c.ssl), NID_X25519);
	assert_int_equal(SSL_get_negotiated_group(l->s.ssl), NID_X25519);
	assert_int_equal(SSL_get_negotiated_group(l->s.ssl), 1034);
	assert_int_equal(SSL_session_reused(l->c.ssl), 1);
	assert_int_equal(SSL_session_reused(l->s.ssl), 1);
	assert_int_equal(handshake_psk_calls(l->c.ssl), 1);
	assert_int_equal(handshake_psk_calls(l->s.ssl), 1);
	assert_ptr_equal(handshake_matched_session(l->s.ssl),
	    &fx->sess[ALPHA]);
	assert_string_equal(handshake_matched_name(l->s.ssl), "alpha");
	assert_string_equal(handshake_peer_identity(l->s.ssl), alpha_id);
	assert_null(handshake_matched_session(l->c.ssl));

	link_send(l, &l->c, &l->s, "ping from the client");
	link_send(l, &l->s, &l->c, "pong from the server");
	link_send(l, &l->c, &l->s, "and again");
	assert_int_equal(tickets_seen, 0);

	/* Both ends export the same keys (the UDP data channel's source). */
	assert_int_equal(SSL_export_keying_material(l->c.ssl, ec, sizeof(ec),
	    "EXPORTER-test", 13, epoch, sizeof(epoch), 1), 1);
	assert_int_equal(SSL_export_keying_material(l->s.ssl, es, sizeof(es),
	    "EXPORTER-test", 13, epoch, sizeof(epoch), 1), 1);
	assert_memory_equal(ec, es, sizeof(ec));
	link_free(l);
}

/*
 * Connections back to this host: both contexts hold this host's key, and
 * both ends of one connection compute the same tag under it, so a server
 * recognises its own client; under another host's key the tag differs,
 * and a second connection of the same host gets another tag.
 */
static void
test_self_tag(void **state)
{
	struct fx *fx = *state;
	uint8_t key[HANDSHAKE_KEY_LEN], other[HANDSHAKE_KEY_LEN];
	const uint8_t *kc, *ks;
	uint32_t tc, ts, to, t2;
	struct link *l, *l2;
	char err[200];

	assert_int_equal(handshake_host_key(key, err, sizeof(err)), 0);
	assert_int_equal(handshake_host_key(other, err, sizeof(err)), 0);
	assert_memory_equal(key, other, sizeof(key));	/* stable */
	memset(other, 0x5a, sizeof(other));

	l = run(fx->hs, &fx->keys[ALPHA]);
	assert_link_ok(l);
	assert_non_null(kc = handshake_ssl_host_key(l->c.ssl));
	assert_non_null(ks = handshake_ssl_host_key(l->s.ssl));
	assert_memory_equal(kc, key, sizeof(key));
	assert_memory_equal(ks, key, sizeof(key));
	assert_int_equal(handshake_self_tag(l->c.ssl, kc, &tc), 0);
	assert_int_equal(handshake_self_tag(l->s.ssl, ks, &ts), 0);
	assert_int_equal(tc, ts);
	assert_int_not_equal(tc, 0);
	assert_int_equal(handshake_self_tag(l->s.ssl, other, &to), 0);
	assert_int_not_equal(to, tc);

	l2 = run(fx->hs, &fx->keys[ALPHA]);
	assert_link_ok(l2);
	assert_int_equal(handshake_self_tag(l2->c.ssl, kc, &t2), 0);
	assert_int_not_equal(t2, tc);
	link_free(l2);
	link_free(l);
}

/* A passphrase session through handshake_client_new (scrypt). */
static void
test_handshake_passwd(void **state)
{
	struct fx *fx = *state;
	struct handshake_client *hc;
	struct link *l;
	char err[256];

	hc = handshake_client_new(&fx->sess[BRAVO], err, sizeof(err));
	assert_non_null(hc);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), true);
	handshake_client_free(hc);
	link_handshake(l);
	assert_link_ok(l);
	assert_ptr_equal(handshake_matched_session(l->s.ssl),
	    &fx->sess[BRAVO]);
	assert_string_equal(handshake_peer_identity(l->s.ssl), bravo_id);
	link_send(l, &l->c, &l->s, "hello");
	link_free(l);

	/* Another session's key under one session: not a match. */
	l = run(fx->hs, &fx->keys[CHARLIE]);
	assert_link_ok(l);
	assert_ptr_equal(handshake_matched_session(l->s.ssl),
	    &fx->sess[CHARLIE]);
	link_free(l);
}

/*
 * The reference failure: the right identity with a wrong PSK.  Every
 * other bad key or identity must fail exactly like it.
 */
struct failure {
	unsigned long srv_err, cli_err;
	unsigned char s2c[64];
	size_t s2c_len;
};

/* Both ends failed as authentication failures; keep what they saw. */
static void
record_failure(struct link *l, struct failure *f)
{
	assert_int_equal(l->c.state, -1);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_AUTH);
	assert_int_equal(l->c.cls, HANDSHAKE_FAIL_AUTH);
	f->srv_err = l->s.first_err;
	f->cli_err = l->c.first_err;
	assert_true(l->s2c_len <= sizeof(f->s2c));
	memcpy(f->s2c, l->s2c, l->s2c_len);
	f->s2c_len = l->s2c_len;
}

/* The same codes on both ends and the same bytes sent to the client. */
static void
assert_same_failure(struct link *l, const struct failure *ref)
{
	struct failure f;

	record_failure(l, &f);
	assert_int_equal(f.srv_err, ref->srv_err);
	assert_int_equal(f.cli_err, ref->cli_err);
	assert_int_equal(f.s2c_len, ref->s2c_len);
	assert_memory_equal(f.s2c, ref->s2c, f.s2c_len);
}

/* Run the reference failure and check it is the one OpenSSL 3.0 gives. */
static void
wrong_key_reference(struct fx *fx, struct failure *ref)
{
	struct handshake_keys k = fx->keys[ALPHA];
	struct link *l;
	char err[256];

	k.psk[0] ^= 1;
	l = run(fx->hs, &k);
	record_failure(l, ref);
	assert_non_null(strstr(l->s.detail, "binder does not verify"));
	assert_non_null(strstr(l->c.detail, "illegal parameter"));
	assert_string_equal(handshake_fail_str(l->s.cls),
	    "authentication failed");
	/* The identity matched: the log names the session. */
	assert_ptr_equal(handshake_matched_session(l->s.ssl),
	    &fx->sess[ALPHA]);
	assert_int_equal(handshake_verify(l->s.ssl, err, sizeof(err)), -1);
	assert_int_equal(handshake_verify(l->c.ssl, err, sizeof(err)), -1);
	/* The server refused before its ServerHello: a plaintext alert. */
	assert_int_equal(l->s2c_len, 7);
	handshake_keys_wipe(&k);
	link_free(l);
}

/* ATTACKS.md rows 9-10: wrong key, unknown identity look the same. */
static void
test_wrong_key(void **state)
{
	struct fx *fx = *state;
	struct conf_session s;
	struct handshake_keys k;
	struct failure ref;
	struct link *l;
	uint8_t base[HANDSHAKE_KEY_LEN];
	char err[256];

	wrong_key_reference(fx, &ref);

	/* A wrong key changes the identity too: the server knows nothing. */
	session_init(&s, "alpha", CONF_AUTH_KEY, 0x80, NULL);
	assert_int_equal(handshake_derive(&s, &k, err, sizeof(err)), 0);
	l = run(fx->hs, &k);
	assert_same_failure(l, &ref);
	assert_null(handshake_matched_session(l->s.ssl));
	assert_string_equal(handshake_matched_name(l->s.ssl), "");
	assert_string_equal(handshake_peer_identity(l->s.ssl), k.identity);
	link_free(l);

	/* A wrong passphrase for the passphrase session (any other base). */
	memset(base, 1, sizeof(base));
	assert_int_equal(handshake_keys_from_base(base, "bravo", &k, err,
	    sizeof(err)), 0);
	l = run(fx->hs, &k);
	assert_same_failure(l, &ref);
	link_free(l);
	handshake_keys_wipe(&k);
}

/* The test client that offers arbitrary identity bytes. */
struct odd_id {
	const unsigned char *id;
	size_t len;
};

/* A PSK session with a random key, built the way handshake.c does. */
static SSL_SESSION *
test_session(SSL *ssl)
{
	static const unsigned char suite[2] = { 0x13, 0x02 };
	uint8_t key[32];
	SSL_SESSION *sess;

	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	assert_non_null(sess = SSL_SESSION_new());
	assert_int_equal(SSL_SESSION_set1_master_key(sess, key, sizeof(key)),
	    1);
	assert_int_equal(SSL_SESSION_set_cipher(sess,
	    SSL_CIPHER_find(ssl, suite)), 1);
	assert_int_equal(SSL_SESSION_set_protocol_version(sess,
	    TLS1_3_VERSION), 1);
	return sess;
}

/* Offer whatever identity the SSL's app data names. */
static int
odd_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	struct odd_id *o = SSL_get_app_data(ssl);

	*id = o->id;
	*idlen = o->len;
	*sess = test_session(ssl);
	return 1;
}

/* A plain TLS 1.3 client context, made here rather than by handshake.c. */
static SSL_CTX *
test_client_ctx(int maxver)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, maxver), 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(ctx,
	    "TLS_AES_256_GCM_SHA384"), 1);
	return ctx;
}

/*
 * ATTACKS.md row 10 on the wire: binary, NUL, newline, '%', long and
 * near-miss identities all fail byte for byte like a wrong key, and reach
 * the log escaped and bounded.
 */
static void
test_odd_identities(void **state)
{
	struct fx *fx = *state;
	static unsigned char big[20000];
	unsigned char bin[] = { 0x00, '\n', '%', 's', '\\', 0xff, '\r', 0x1b };
	unsigned char a64[64], b65[65], upper[HANDSHAKE_ID_HEX_LEN];
	unsigned char longer[HANDSHAKE_ID_HEX_LEN + 1];
	struct odd_id cases[] = {
		{ bin, sizeof(bin) },
		{ a64, sizeof(a64) },
		{ b65, sizeof(b65) },
		{ big, sizeof(big) },
		{ upper, sizeof(upper) },
		{ longer, sizeof(longer) },
		{ (const unsigned char *)alpha_id, HANDSHAKE_ID_HEX_LEN - 1 },
	};
	struct failure ref;
	struct link *l;
	SSL_CTX *ctx;
	SSL *cssl;
	char want[512];
	size_t i;

	wrong_key_reference(fx, &ref);
	memset(a64, 'A', sizeof(a64));
	memset(b65, 'B', sizeof(b65));
	memset(big, 'x', sizeof(big));
	for (i = 0; i < HANDSHAKE_ID_HEX_LEN; i++) {
		/* cppcheck-suppress unreadVariable ; read through cases[] */
		upper[i] = (unsigned char)toupper((unsigned char)alpha_id[i]);
	}
	memcpy(longer, alpha_id, HANDSHAKE_ID_HEX_LEN);
	longer[HANDSHAKE_ID_HEX_LEN] = '0';

	ctx = test_client_ctx(TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_set1_groups_list(ctx, "X25519"), 1);
	SSL_CTX_set_psk_use_session_callback(ctx, odd_use_cb);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		assert_non_null(cssl = SSL_new(ctx));
		SSL_set_app_data(cssl, &cases[i]);
		SSL_set_connect_state(cssl);
		l = link_new(cssl, server_ssl(fx->hs), true);
		link_handshake(l);
		assert_same_failure(l, &ref);
		assert_null(handshake_matched_session(l->s.ssl));
		/* The log line's identity: escaped, never a raw control. */
		assert_null(strpbrk(handshake_peer_identity(l->s.ssl),
		    "\n\r\x1b"));
		if (i == 0)
			assert_string_equal(handshake_peer_identity(l->s.ssl),
			    "\\x00\\x0a%s\\\\\\xff\\x0d\\x1b");
		if (i == 1) {
			memset(want, 'A', 64);
			want[64] = '\0';
			assert_string_equal(handshake_peer_identity(l->s.ssl),
			    want);
		}
		if (i == 2) {
			memset(want, 'B', 64);
			strcpy(want + 64, "... (65 bytes)");
			assert_string_equal(handshake_peer_identity(l->s.ssl),
			    want);
		}
		if (i == 3)
			assert_non_null(strstr(handshake_peer_identity(
			    l->s.ssl), "xxx... (20000 bytes)"));
		link_free(l);
	}
	SSL_CTX_free(ctx);
}

/*
 * Identities no ClientHello can carry (0 and 65535 bytes), straight into
 * the server's callback; and the known one, which yields its PSK.
 */
static void
test_find_callback(void **state)
{
	struct fx *fx = *state;
	static unsigned char huge[65535];
	SSL_SESSION *sess = NULL;
	uint8_t mk1[HANDSHAKE_KEY_LEN], mk2[HANDSHAKE_KEY_LEN];
	const char *p;
	SSL *ssl = server_ssl(fx->hs);
	size_t i;

	assert_int_equal(handshake_server_psk_find(ssl, NULL, 0, &sess), 1);
	assert_non_null(sess);
	assert_int_equal(SSL_SESSION_get_master_key(sess, mk1, sizeof(mk1)),
	    sizeof(mk1));
	SSL_SESSION_free(sess);
	assert_null(handshake_matched_session(ssl));
	assert_string_equal(handshake_peer_identity(ssl), "");

	memset(huge, '\n', sizeof(huge));
	assert_int_equal(handshake_server_psk_find(ssl, huge, sizeof(huge),
	    &sess), 1);
	assert_int_equal(SSL_SESSION_get_master_key(sess, mk2, sizeof(mk2)),
	    sizeof(mk2));
	SSL_SESSION_free(sess);
	/* Dummy keys are fresh each time and match no real PSK. */
	assert_memory_not_equal(mk1, mk2, sizeof(mk1));
	for (i = 0; i < NSESS; i++)
		assert_memory_not_equal(mk2, fx->keys[i].psk, sizeof(mk2));
	p = handshake_peer_identity(ssl);
	assert_int_equal(strlen(p), 64 * 4 + strlen("... (65535 bytes)"));
	assert_non_null(strstr(p, "\\x0a... (65535 bytes)"));
	assert_null(strchr(p, '\n'));

	/* The known identity gives a session with that session's PSK. */
	assert_int_equal(handshake_server_psk_find(ssl,
	    (const unsigned char *)bravo_id, HANDSHAKE_ID_HEX_LEN, &sess), 1);
	assert_int_equal(SSL_SESSION_get_master_key(sess, mk1, sizeof(mk1)),
	    sizeof(mk1));
	SSL_SESSION_free(sess);
	assert_memory_equal(mk1, fx->keys[BRAVO].psk, sizeof(mk1));
	assert_ptr_equal(handshake_matched_session(ssl), &fx->sess[BRAVO]);

	/* A later unknown identity clears the match. */
	assert_int_equal(handshake_server_psk_find(ssl, huge, 32, &sess), 1);
	SSL_SESSION_free(sess);
	assert_null(handshake_matched_session(ssl));
	assert_int_equal(handshake_psk_calls(ssl), 4);
	SSL_free(ssl);
}

/* A HelloRetryRequest still leads to the PSK (the digest is compared
 * with EVP_MD_is_a, not by pointer: doc/ARCHITECTURE.md). */
static void
test_hrr(void **state)
{
	struct fx *fx = *state;
	struct handshake_client *hc;
	struct link *l;

	/* The client's first key share is for a group the server lacks. */
	hc = client_new(&fx->keys[ALPHA]);
	assert_int_equal(SSL_CTX_set1_groups_list(handshake_client_ctx(hc),
	    "P-384:X25519"), 1);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), true);
	handshake_client_free(hc);
	link_handshake(l);
	assert_link_ok(l);
	assert_int_equal(handshake_psk_calls(l->c.ssl), 2);
	assert_int_equal(handshake_psk_calls(l->s.ssl), 2);
	assert_int_equal(SSL_get_negotiated_group(l->c.ssl), NID_X25519);
	link_free(l);
}

/* ATTACKS.md row 12: PSK-only key exchange is never established. */
static void
test_no_dhe(void **state)
{
	struct fx *fx = *state;
	struct link *l;
	char err[256];
	SSL *cssl;

	/* A client allowing psk_ke still gets DHE from our server. */
	cssl = client_ssl(&fx->keys[ALPHA]);
	SSL_set_options(cssl, SSL_OP_ALLOW_NO_DHE_KEX);
	l = link_new(cssl, server_ssl(fx->hs), true);
	link_handshake(l);
	assert_link_ok(l);
	assert_int_equal(SSL_get_negotiated_group(l->s.ssl), NID_X25519);
	link_free(l);

	/* ... and without a common group (psk_ke the only way) it fails. */
	cssl = client_ssl(&fx->keys[ALPHA]);
	SSL_set_options(cssl, SSL_OP_ALLOW_NO_DHE_KEX);
	assert_int_equal(SSL_set1_groups_list(cssl, "P-384"), 1);
	l = link_new(cssl, server_ssl(fx->hs), true);
	link_handshake(l);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->c.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_MISMATCH);
	assert_int_equal(l->c.cls, HANDSHAKE_FAIL_MISMATCH);
	link_free(l);

	/*
	 * Both ends allowing it (a server we would never run) do establish
	 * psk_ke: handshake_verify refuses it on either end.
	 */
	cssl = client_ssl(&fx->keys[ALPHA]);
	SSL_set_options(cssl, SSL_OP_ALLOW_NO_DHE_KEX);
	assert_int_equal(SSL_set1_groups_list(cssl, "P-384"), 1);
	l = link_new(cssl, server_ssl(fx->hs), true);
	SSL_set_options(l->s.ssl, SSL_OP_ALLOW_NO_DHE_KEX);
	link_handshake(l);
	assert_int_equal(l->c.state, 1);
	assert_int_equal(l->s.state, 1);
	assert_int_equal(SSL_get_negotiated_group(l->c.ssl), 0);
	assert_int_equal(SSL_get_negotiated_group(l->s.ssl), 0);
	assert_int_equal(SSL_session_reused(l->s.ssl), 1);
	assert_int_equal(handshake_verify(l->c.ssl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "forward secrecy"));
	assert_int_equal(handshake_verify(l->s.ssl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "forward secrecy"));
	link_free(l);
}

/* ATTACKS.md row 25: the ClientHello carries the identity, not the name. */
static void
test_clienthello_privacy(void **state)
{
	struct fx *fx = *state;
	struct link *l;
	size_t i;

	l = run(fx->hs, &fx->keys[CHARLIE]);
	assert_link_ok(l);
	assert_true(l->first_flight > 0);
	assert_true(l->first_flight < l->c2s_len);
	assert_null(memmem(l->c2s, l->first_flight, charlie_name,
	    strlen(charlie_name)));
	assert_non_null(memmem(l->c2s, l->first_flight,
	    fx->keys[CHARLIE].identity, HANDSHAKE_ID_HEX_LEN));
	/* No session name or key anywhere in what the client sent. */
	for (i = 0; i < NSESS; i++) {
		assert_null(memmem(l->c2s, l->c2s_len, fx->sess[i].name,
		    strlen(fx->sess[i].name)));
		assert_null(memmem(l->c2s, l->c2s_len, fx->keys[i].psk,
		    HANDSHAKE_KEY_LEN));
	}
	link_free(l);
}

/* A TLS 1.2-only client, plain HTTP, garbage, and a vanishing client. */
static void
test_not_tls13(void **state)
{
	struct fx *fx = *state;
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const unsigned char garbage[16] = { 0x16, 0x09, 0x09, 0, 5 };
	struct link *l;
	SSL_CTX *ctx;
	SSL *cssl;
	char buf[4096];
	int n;

	ctx = test_client_ctx(TLS1_2_VERSION);
	assert_non_null(cssl = SSL_new(ctx));
	SSL_set_connect_state(cssl);
	l = link_new(cssl, server_ssl(fx->hs), true);
	link_handshake(l);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_VERSION);
	assert_int_equal(l->c.state, -1);
	assert_int_equal(l->c.cls, HANDSHAKE_FAIL_VERSION);
	link_free(l);
	SSL_CTX_free(ctx);

	l = link_new(client_ssl(&fx->keys[ALPHA]), server_ssl(fx->hs),
	    true);
	assert_int_equal(BIO_write(l->s.rd, http, sizeof(http) - 1),
	    (int)sizeof(http) - 1);
	side_step(&l->s);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_NOT_TLS);
	assert_non_null(strstr(l->s.detail, "http request"));
	link_free(l);

	l = link_new(client_ssl(&fx->keys[ALPHA]), server_ssl(fx->hs),
	    true);
	assert_int_equal(BIO_write(l->s.rd, garbage, sizeof(garbage)),
	    (int)sizeof(garbage));
	side_step(&l->s);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_NOT_TLS);
	link_free(l);

	/* Half a ClientHello, then the connection closes. */
	l = link_new(client_ssl(&fx->keys[ALPHA]), server_ssl(fx->hs),
	    true);
	side_step(&l->c);
	n = BIO_read(l->c.wr, buf, sizeof(buf));
	assert_true(n > 20);
	assert_int_equal(BIO_write(l->s.rd, buf, n / 2), n / 2);
	BIO_set_mem_eof_return(l->s.rd, 0);
	side_step(&l->s);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_EOF);
	link_free(l);
}

/* A self-signed certificate and key for a rogue server. */
static SSL_CTX *
cert_server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *pkey;
	X509 *x;

	assert_non_null(ctx);
	assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)"rogue", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)),
	    1);
	assert_int_equal(X509_set_pubkey(x, pkey), 1);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pkey), 1);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ctx;
}

/*
 * A server that ignores the PSK and shows a certificate instead cannot
 * complete a handshake with our client; and a client offering no PSK gets
 * nowhere with our server (it has no certificate).
 */
static void
test_certificates_refused(void **state)
{
	struct fx *fx = *state;
	struct link *l;
	char err[256];
	SSL_CTX *ctx;
	SSL *ssl;

	ctx = cert_server_ctx();
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_accept_state(ssl);
	l = link_new(client_ssl(&fx->keys[ALPHA]), ssl, true);
	link_handshake(l);
	assert_int_equal(l->c.state, -1);
	assert_int_equal(l->c.cls, HANDSHAKE_FAIL_AUTH);
	assert_non_null(strstr(l->c.detail, "certificate verify failed"));
	link_free(l);

	/* Even a client told to accept any certificate refuses afterwards. */
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_accept_state(ssl);
	l = link_new(client_ssl(&fx->keys[ALPHA]), ssl, true);
	SSL_set_verify(l->c.ssl, SSL_VERIFY_NONE, NULL);
	link_handshake(l);
	assert_int_equal(l->c.state, 1);
	assert_int_equal(handshake_verify(l->c.ssl, err, sizeof(err)), -1);
	assert_string_equal(err, "the pre-shared key was not used");
	link_free(l);
	SSL_CTX_free(ctx);

	ctx = test_client_ctx(TLS1_3_VERSION);
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_connect_state(ssl);
	l = link_new(ssl, server_ssl(fx->hs), true);
	link_handshake(l);
	assert_int_equal(l->s.state, -1);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_NO_PSK);
	assert_int_equal(l->c.state, -1);
	assert_string_equal(handshake_peer_identity(l->s.ssl), "");
	link_free(l);
	SSL_CTX_free(ctx);
}

/*
 * A reload reuses the keys of unchanged sessions (no second scrypt) and
 * derives changed ones; SSLs outlive the objects that made them.
 */
static void
test_reload_and_lifetime(void **state)
{
	struct fx *fx = *state;
	struct conf_session s[NSESS];
	struct conf c = { .sessions = s, .nsessions = NSESS };
	struct handshake_server *hs2;
	struct handshake_keys k;
	struct link *l;
	char err[256];
	SSL *cssl, *sssl;

	session_init(&s[ALPHA], "alpha", CONF_AUTH_KEY, 0x00, NULL);
	session_init(&s[BRAVO], "bravo", CONF_AUTH_PASSWD, 0, bravo_passwd);
	session_init(&s[CHARLIE], charlie_name, CONF_AUTH_KEY, 0x41, NULL);
	hs2 = handshake_server_reload(&c, fx->hs, err, sizeof(err));
	assert_non_null(hs2);
	assert_int_equal(handshake_server_reused(hs2), 2);
	assert_int_equal(handshake_server_reused(fx->hs), 0);

	l = run(hs2, &fx->keys[BRAVO]);
	assert_link_ok(l);
	assert_ptr_equal(handshake_matched_session(l->s.ssl), &s[BRAVO]);
	link_free(l);
	/* charlie's old key is gone, its new one works. */
	l = run(hs2, &fx->keys[CHARLIE]);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_AUTH);
	link_free(l);
	assert_int_equal(handshake_derive(&s[CHARLIE], &k, err, sizeof(err)),
	    0);
	l = run(hs2, &k);
	assert_link_ok(l);
	link_free(l);

	/* Free the server and client objects before their SSLs. */
	cssl = client_ssl(&k);
	sssl = server_ssl(hs2);
	handshake_server_free(hs2);
	l = link_new(cssl, sssl, true);
	link_handshake(l);
	assert_link_ok(l);
	assert_ptr_equal(handshake_matched_session(l->s.ssl), &s[CHARLIE]);
	link_free(l);
	handshake_keys_wipe(&k);
	free(s[BRAVO].passwd);
}

/* Run the loop until *flag is set (at most about 60 s of scrypt). */
static void
loop_until_set(struct event_base *base, const bool *flag)
{
	int i;

	for (i = 0; i < 6000 && !*flag; i++) {
		event_base_loopexit(base, &(struct timeval){ 0, 10000 });
		event_base_dispatch(base);
	}
	assert_true(*flag);
}

/* What derive_start's callback was given. */
struct derived {
	bool called;
	struct handshake_plan *pl;
	char err[320];
};

static void
derivedcb(struct handshake_plan *pl, const char *err, void *arg)
{
	struct derived *d = arg;

	d->called = true;
	d->pl = pl;
	snprintf(d->err, sizeof(d->err), "%s", err != NULL ? err : "");
}

/*
 * A reload in steps, as the server runs it: unchanged secrets reused,
 * a changed key derived at once, a changed passphrase left pending and
 * derived on the worker pool (the same keys as handshake_derive's); a
 * derivation given up frees everything; a bad passphrase fails it.
 */
static void
test_reload_plan(void **state)
{
	struct fx *fx = *state;
	struct conf_session s[NSESS];
	struct conf c = { .sessions = s, .nsessions = NSESS };
	struct event_base *base;
	struct worker_pool *pool;
	struct handshake_server *hs2;
	struct handshake_plan *pl;
	struct handshake_keys k;
	struct derived d = { 0 };
	struct derive *dv;
	struct link *l;
	char err[256];

	assert_non_null(base = event_base_new());
	assert_non_null(pool = worker_pool_new(base, 2, 16, err,
	    sizeof(err)));
	session_init(&s[ALPHA], "alpha", CONF_AUTH_KEY, 0x00, NULL);
	session_init(&s[BRAVO], "bravo", CONF_AUTH_PASSWD, 0,
	    "a new passphrase for bravo");
	session_init(&s[CHARLIE], charlie_name, CONF_AUTH_KEY, 0x42, NULL);

	/* Given up while it runs: nothing is called, nothing leaks. */
	assert_non_null(pl = handshake_plan_new(&c, fx->hs, err,
	    sizeof(err)));
	assert_int_equal(handshake_plan_pending(pl), 1);
	assert_ptr_equal(handshake_plan_session(pl, 0), &s[BRAVO]);
	assert_non_null(dv = derive_start(pool, pl, derivedcb, &d, err,
	    sizeof(err)));
	derive_cancel(dv);
	assert_false(d.called);

	/* Derived off the loop, then finished on it. */
	assert_non_null(pl = handshake_plan_new(&c, fx->hs, err,
	    sizeof(err)));
	assert_non_null(derive_start(pool, pl, derivedcb, &d, err,
	    sizeof(err)));
	assert_false(d.called);		/* never from inside the call */
	loop_until_set(base, &d.called);
	assert_non_null(d.pl);
	assert_string_equal(d.err, "");
	assert_non_null(hs2 = handshake_plan_finish(d.pl, err, sizeof(err)));
	assert_int_equal(handshake_server_reused(hs2), 1);
	assert_int_equal(handshake_derive(&s[BRAVO], &k, err, sizeof(err)),
	    0);
	l = run(hs2, &k);
	assert_link_ok(l);
	assert_ptr_equal(handshake_matched_session(l->s.ssl), &s[BRAVO]);
	link_free(l);
	handshake_keys_wipe(&k);
	/* The old passphrase no longer works, alpha's unchanged key does. */
	l = run(hs2, &fx->keys[BRAVO]);
	assert_int_equal(l->s.cls, HANDSHAKE_FAIL_AUTH);
	link_free(l);
	l = run(hs2, &fx->keys[ALPHA]);
	assert_link_ok(l);
	link_free(l);
	handshake_server_free(hs2);

	/* A passphrase session without its passphrase fails the lot. */
	free(s[BRAVO].passwd);
	s[BRAVO].passwd = NULL;
	memset(&d, 0, sizeof(d));
	assert_non_null(pl = handshake_plan_new(&c, NULL, err, sizeof(err)));
	assert_int_equal(handshake_plan_pending(pl), 1);
	assert_non_null(derive_start(pool, pl, derivedcb, &d, err,
	    sizeof(err)));
	loop_until_set(base, &d.called);
	assert_null(d.pl);
	assert_non_null(strstr(d.err, "bravo"));
	assert_non_null(strstr(d.err, "no passphrase"));

	/* Nothing pending: nothing to start (the caller finishes at once). */
	s[BRAVO].auth = CONF_AUTH_KEY;
	s[BRAVO].key[0] = 0xb0;		/* not alpha's */
	assert_non_null(pl = handshake_plan_new(&c, fx->hs, err,
	    sizeof(err)));
	assert_int_equal(handshake_plan_pending(pl), 0);
	assert_null(derive_start(pool, pl, derivedcb, &d, err, sizeof(err)));
	assert_non_null(hs2 = handshake_plan_finish(pl, err, sizeof(err)));
	handshake_server_free(hs2);

	worker_pool_free(pool);
	event_base_free(base);
}

/* handshake_verify on an SSL that has not done a handshake. */
static void
test_verify_unfinished(void **state)
{
	struct fx *fx = *state;
	char err[256];
	SSL *ssl = server_ssl(fx->hs);

	assert_int_equal(handshake_verify(ssl, err, sizeof(err)), -1);
	assert_string_equal(err, "handshake not finished");
	SSL_free(ssl);
}

static void
test_error_class(void **state)
{
	static const struct {
		unsigned long e;
		enum handshake_fail f;
	} v[] = {
		{ 0, HANDSHAKE_FAIL_NONE },
		{ SSL_ERROR_SSL, HANDSHAKE_FAIL_NONE },
		{ SSL_ERROR_SYSCALL, HANDSHAKE_FAIL_NONE },
		{ 0xA0000FD, HANDSHAKE_FAIL_AUTH },
		{ 0xA000417, HANDSHAKE_FAIL_AUTH },
		{ 0xA000126, HANDSHAKE_FAIL_EOF },
		{ ERR_PACK(ERR_LIB_SSL, 0, SSL_R_HTTP_REQUEST),
		  HANDSHAKE_FAIL_NOT_TLS },
		{ ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER),
		  HANDSHAKE_FAIL_NOT_TLS },
		{ ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNSUPPORTED_PROTOCOL),
		  HANDSHAKE_FAIL_VERSION },
		{ ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_SUITABLE_KEY_SHARE),
		  HANDSHAKE_FAIL_MISMATCH },
		{ ERR_PACK(ERR_LIB_SSL, 0,
		      SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM),
		  HANDSHAKE_FAIL_NO_PSK },
		{ ERR_PACK(ERR_LIB_SSL, 0, SSL_R_BAD_LENGTH),
		  HANDSHAKE_FAIL_OTHER },
		/* The same reason number in another library is not ours. */
		{ ERR_PACK(ERR_LIB_EVP, 0, SSL_R_BINDER_DOES_NOT_VERIFY),
		  HANDSHAKE_FAIL_OTHER },
	};
	char detail[256];
	size_t i;
	int f;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(v); i++)
		assert_int_equal(handshake_error_class(v[i].e), v[i].f);
	for (f = HANDSHAKE_FAIL_NONE; f <= HANDSHAKE_FAIL_AUTH; f++)
		assert_true(strlen(handshake_fail_str(f)) > 5);

	ERR_clear_error();
	ERR_raise(ERR_LIB_SSL, SSL_R_HTTP_REQUEST);
	ERR_raise(ERR_LIB_SSL, SSL_R_BINDER_DOES_NOT_VERIFY);
	assert_int_equal(handshake_errors_drain(detail, sizeof(detail)),
	    HANDSHAKE_FAIL_AUTH);
	assert_string_equal(detail, "http request; binder does not verify");
	assert_int_equal(ERR_peek_error(), 0);
	/* A small buffer truncates; NULL just drains. */
	ERR_raise(ERR_LIB_SSL, SSL_R_HTTP_REQUEST);
	ERR_raise(ERR_LIB_SSL, SSL_R_HTTP_REQUEST);
	assert_int_equal(handshake_errors_drain(detail, 8),
	    HANDSHAKE_FAIL_NOT_TLS);
	assert_string_equal(detail, "http re");
	ERR_raise(ERR_LIB_SSL, SSL_R_UNEXPECTED_EOF_WHILE_READING);
	assert_int_equal(handshake_errors_drain(NULL, 0),
	    HANDSHAKE_FAIL_EOF);
	assert_int_equal(handshake_errors_drain(detail, sizeof(detail)),
	    HANDSHAKE_FAIL_NONE);
	assert_string_equal(detail, "");
}

/* --- Key pairs ---------------------------------------------------------- */

/*
 * Known answers for the key-pair schedule, from the RFC 7748 (6.1) keys:
 * Alice the client, Bob the server, session "cobra".  Computed with the
 * openssl command line (pkeyutl -derive, kdf HKDF) and again with
 * Python's cryptography:
 *   openssl kdf -keylen 32 -kdfopt digest:SHA256 \
 *     -kdfopt hexsalt:$(printf 'tapline static v1' | xxd -p) \
 *     -kdfopt hexkey:$SECRET[$KEY] \
 *     -kdfopt hexinfo:$(printf psk | xxd -p)$ALICE$BOB$(printf cobra | xxd -p) HKDF
 */
#define PAIR_ALICE_PRIV \
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define PAIR_ALICE_PUB \
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define PAIR_BOB_PRIV \
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define PAIR_BOB_PUB \
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PAIR_SECRET \
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
static const char pair_psk[] =
    "a53d71b091e637fade77e47dfe5c9b7365f5ccd1eb8d89eaae47f88aa2578c1c";
static const char pair_id[] = "0ce863b6b498b999ecf48541fdc0904a";
/* Bob as the client, Alice the server: the public keys swap places. */
static const char pair_psk_swapped[] =
    "5c5dbd9ce7dfef3daf71104e592777e28b4330acbe08750c3cdca3595d9ddfe5";
/* With a key file too: bytes 00 01 ... 1f after the secret. */
static const char pair_psk_key[] =
    "f6c66f0a8cbb5ff59688a29cb9b140cf41af5acbccadb10e9e4b7a0b9f0573a7";
static const char pair_id_key[] = "5b6ab8dc9e3b095b87b33a5c50802dc0";

static void
test_pair_golden(void **state)
{
	uint8_t secret[32], a[32], b[32], key[32];
	struct handshake_keys k;
	char err[256];
	size_t i;

	(void)state;
	hex_decode(PAIR_SECRET, secret, 32);
	hex_decode(PAIR_ALICE_PUB, a, 32);
	hex_decode(PAIR_BOB_PUB, b, 32);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(handshake_pair_keys(secret, NULL, a, b, "cobra", &k,
	    err, sizeof(err)), 0);
	assert_hex(k.psk, 32, pair_psk);
	assert_string_equal(k.identity, pair_id);
	assert_int_equal(handshake_pair_keys(secret, NULL, b, a, "cobra", &k,
	    err, sizeof(err)), 0);
	assert_hex(k.psk, 32, pair_psk_swapped);
	assert_string_not_equal(k.identity, pair_id);
	assert_int_equal(handshake_pair_keys(secret, key, a, b, "cobra", &k,
	    err, sizeof(err)), 0);
	assert_hex(k.psk, 32, pair_psk_key);
	assert_string_equal(k.identity, pair_id_key);
	/* Another session between the same hosts: other keys. */
	assert_int_equal(handshake_pair_keys(secret, NULL, a, b, "viper", &k,
	    err, sizeof(err)), 0);
	assert_string_not_equal(k.identity, pair_id);
	assert_int_equal(handshake_pair_keys(secret, NULL, a, b, "", &k, err,
	    sizeof(err)), -1);
	handshake_keys_wipe(&k);
}

/* A key-pair session as conf.c makes it: own private key, peer keys. */
static void
pair_session(struct conf_session *s, const char *name,
    const uint8_t priv[32], const uint8_t (*peers)[32], size_t npeers)
{
	char err[256];
	size_t i;

	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->auth = CONF_AUTH_PAIR;
	assert_int_equal(keypair_public(priv, s->own_public, err,
	    sizeof(err)), 0);
	for (i = 0; i < npeers; i++) {
		memcpy(s->peer_keys[i], peers[i], 32);
		assert_int_equal(keypair_shared(priv, peers[i],
		    s->pair_secret[i], err, sizeof(err)), 0);
	}
	s->npeer_keys = npeers;
}

/* The two ends agree; every other role, key or host disagrees. */
static void
test_pair_roles(void **state)
{
	uint8_t a[32], b[32], c[32], apub[1][32], bpub[1][32], cpub[1][32];
	struct conf_session cli, srv, other;
	struct handshake_keys kc, ks, kx;
	char err[256];

	(void)state;
	hex_decode(PAIR_ALICE_PRIV, a, 32);
	hex_decode(PAIR_BOB_PRIV, b, 32);
	assert_int_equal(keypair_generate(c, err, sizeof(err)), 0);
	assert_int_equal(keypair_public(a, apub[0], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(b, bpub[0], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(c, cpub[0], err, sizeof(err)), 0);
	pair_session(&cli, "cobra", a, bpub, 1);
	pair_session(&srv, "cobra", b, apub, 1);
	assert_int_equal(handshake_derive_pair(&cli, 0, false, &kc, err,
	    sizeof(err)), 0);
	assert_int_equal(handshake_derive_pair(&srv, 0, true, &ks, err,
	    sizeof(err)), 0);
	assert_memory_equal(kc.psk, ks.psk, 32);
	assert_string_equal(kc.identity, ks.identity);
	assert_hex(kc.psk, 32, pair_psk);
	/* Roles swapped: Bob dials Alice with the same two keys. */
	assert_int_equal(handshake_derive_pair(&srv, 0, false, &kx, err,
	    sizeof(err)), 0);
	assert_memory_not_equal(kx.psk, ks.psk, 32);
	assert_string_not_equal(kx.identity, ks.identity);
	/* The client as its own server (a reflection): no match either. */
	assert_int_equal(handshake_derive_pair(&cli, 0, true, &kx, err,
	    sizeof(err)), 0);
	assert_string_not_equal(kx.identity, kc.identity);
	/* Another peer key on the server, or another host key there. */
	pair_session(&other, "cobra", b, cpub, 1);
	assert_int_equal(handshake_derive_pair(&other, 0, true, &kx, err,
	    sizeof(err)), 0);
	assert_memory_not_equal(kx.psk, kc.psk, 32);
	pair_session(&other, "cobra", c, apub, 1);
	assert_int_equal(handshake_derive_pair(&other, 0, true, &kx, err,
	    sizeof(err)), 0);
	assert_memory_not_equal(kx.psk, kc.psk, 32);
	assert_string_not_equal(kx.identity, kc.identity);
	assert_int_equal(handshake_derive_pair(&cli, 1, false, &kx, err,
	    sizeof(err)), -1);
	handshake_keys_wipe(&kc);
	handshake_keys_wipe(&ks);
	handshake_keys_wipe(&kx);
}

/*
 * Rollover: a server session listing two client keys lets either in and
 * says which; an unlisted key, or the server's own session offered back
 * to it, fails exactly as a wrong shared key does.  A client listing the
 * server's old and new key gets in once it moves to the new one.
 */
static void
test_pair_rollover(void **state)
{
	struct fx *fx = *state;
	uint8_t h[32], c1[32], c2[32], c3[32], hpub[2][32], cpub[3][32];
	struct conf_session ss[2], cs;
	struct conf conf = { .sessions = ss, .nsessions = 2 };
	struct handshake_server *hs;
	struct handshake_client *hc;
	struct handshake_keys k;
	struct failure ref;
	struct link *l;
	char err[256];
	int i;

	wrong_key_reference(fx, &ref);
	assert_int_equal(keypair_generate(h, err, sizeof(err)), 0);
	assert_int_equal(keypair_generate(c1, err, sizeof(err)), 0);
	assert_int_equal(keypair_generate(c2, err, sizeof(err)), 0);
	assert_int_equal(keypair_generate(c3, err, sizeof(err)), 0);
	assert_int_equal(keypair_public(h, hpub[1], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(c1, cpub[0], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(c2, cpub[1], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(c3, cpub[2], err, sizeof(err)), 0);
	/* The server: cobra lists c1 and c2, viper c3 (same host key). */
	pair_session(&ss[0], "cobra", h, cpub, 2);
	pair_session(&ss[1], "viper", h, cpub + 2, 1);
	assert_non_null(hs = handshake_server_new(&conf, err, sizeof(err)));

	for (i = 0; i < 2; i++) {
		pair_session(&cs, "cobra", i == 0 ? c1 : c2, hpub + 1, 1);
		assert_int_equal(handshake_derive_pair(&cs, 0, false, &k, err,
		    sizeof(err)), 0);
		l = run(hs, &k);
		assert_link_ok(l);
		assert_ptr_equal(handshake_matched_session(l->s.ssl), &ss[0]);
		assert_int_equal(handshake_peer_key_index(l->s.ssl), i);
		link_free(l);
	}
	/* viper's key used for cobra: refused like any wrong key. */
	pair_session(&cs, "cobra", c3, hpub + 1, 1);
	assert_int_equal(handshake_derive_pair(&cs, 0, false, &k, err,
	    sizeof(err)), 0);
	l = run(hs, &k);
	assert_same_failure(l, &ref);
	assert_null(handshake_matched_session(l->s.ssl));
	link_free(l);
	/* The server's own cobra turned into a client: a reflection. */
	assert_int_equal(handshake_derive_pair(&ss[0], 0, false, &k, err,
	    sizeof(err)), 0);
	l = run(hs, &k);
	assert_same_failure(l, &ref);
	link_free(l);

	/* The client lists the server's old key first, then the new one. */
	memset(hpub[0], 0x55, 32);
	hpub[0][31] = 0x11;
	pair_session(&cs, "cobra", c1, hpub, 2);
	assert_non_null(hc = handshake_client_new(&cs, err, sizeof(err)));
	assert_int_equal(handshake_client_nkeys(hc), 2);
	l = link_new(client_ssl_from(hc), server_ssl(hs), true);
	link_handshake(l);
	assert_same_failure(l, &ref);
	assert_int_equal(handshake_peer_key_index(l->c.ssl), 0);
	link_free(l);
	assert_int_equal(handshake_client_next_key(hc), 1);
	l = link_new(client_ssl_from(hc), server_ssl(hs), true);
	link_handshake(l);
	assert_link_ok(l);
	assert_int_equal(handshake_peer_key_index(l->c.ssl), 1);
	assert_int_equal(handshake_peer_key_index(l->s.ssl), 0);
	link_free(l);
	assert_int_equal(handshake_client_next_key(hc), 0);
	handshake_client_free(hc);
	handshake_server_free(hs);
	handshake_keys_wipe(&k);
}

/*
 * Moving a shared-key session to key pairs: a server with old_key lets a
 * client that has only the key in, and one with key pairs; a client with
 * old_key gets into a server that has only the key, after its key pair.
 */
static void
test_pair_old_key(void **state)
{
	struct fx *fx = *state;
	uint8_t h[32], c[32], hpub[1][32], cpub[1][32];
	struct conf_session srv, cli;
	struct conf conf = { .sessions = &srv, .nsessions = 1 };
	struct handshake_server *hs;
	struct handshake_client *hc;
	struct handshake_keys k;
	struct link *l;
	char err[256];

	(void)fx;
	assert_int_equal(keypair_generate(h, err, sizeof(err)), 0);
	assert_int_equal(keypair_generate(c, err, sizeof(err)), 0);
	assert_int_equal(keypair_public(h, hpub[0], err, sizeof(err)), 0);
	assert_int_equal(keypair_public(c, cpub[0], err, sizeof(err)), 0);
	pair_session(&srv, "alpha", h, cpub, 1);
	/* alpha's key in the fixture: bytes 00 01 ... 1f. */
	memcpy(srv.old_key, fx->sess[ALPHA].key, 32);
	srv.has_old_key = true;
	assert_non_null(hs = handshake_server_new(&conf, err, sizeof(err)));
	/* The client not moved yet: the shared key alone. */
	l = run(hs, &fx->keys[ALPHA]);
	assert_link_ok(l);
	assert_int_equal(handshake_peer_key_index(l->s.ssl),
	    CONF_PEER_OLD_KEY);
	link_free(l);
	/* The client moved. */
	pair_session(&cli, "alpha", c, hpub, 1);
	assert_int_equal(handshake_derive_pair(&cli, 0, false, &k, err,
	    sizeof(err)), 0);
	l = run(hs, &k);
	assert_link_ok(l);
	assert_int_equal(handshake_peer_key_index(l->s.ssl), 0);
	link_free(l);
	handshake_server_free(hs);

	/* The client moved first: the fixture's server has only the key. */
	memcpy(cli.old_key, fx->sess[ALPHA].key, 32);
	cli.has_old_key = true;
	assert_non_null(hc = handshake_client_new(&cli, err, sizeof(err)));
	assert_int_equal(handshake_client_nkeys(hc), 2);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), true);
	link_handshake(l);
	assert_int_equal(l->c.cls, HANDSHAKE_FAIL_AUTH);
	link_free(l);
	assert_int_equal(handshake_client_next_key(hc), 1);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), true);
	link_handshake(l);
	assert_link_ok(l);
	assert_int_equal(handshake_peer_key_index(l->c.ssl),
	    CONF_PEER_OLD_KEY);
	assert_ptr_equal(handshake_matched_session(l->s.ssl),
	    &fx->sess[ALPHA]);
	link_free(l);
	/* A reload that kept that connection offers old_key first. */
	handshake_client_use_key(hc, 0);
	handshake_client_use_key(hc, CONF_PEER_OLD_KEY);
	l = link_new(client_ssl_from(hc), server_ssl(fx->hs), true);
	link_handshake(l);
	assert_link_ok(l);
	link_free(l);
	handshake_client_free(hc);
	handshake_keys_wipe(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_derive_errors),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_handshake_ok),
		cmocka_unit_test(test_self_tag),
		cmocka_unit_test(test_handshake_passwd),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_odd_identities),
		cmocka_unit_test(test_find_callback),
		cmocka_unit_test(test_hrr),
		cmocka_unit_test(test_no_dhe),
		cmocka_unit_test(test_clienthello_privacy),
		cmocka_unit_test(test_not_tls13),
		cmocka_unit_test(test_certificates_refused),
		cmocka_unit_test(test_reload_and_lifetime),
		cmocka_unit_test(test_reload_plan),
		cmocka_unit_test(test_verify_unfinished),
		cmocka_unit_test(test_error_class),
		cmocka_unit_test(test_pair_golden),
		cmocka_unit_test(test_pair_roles),
		cmocka_unit_test(test_pair_rollover),
		cmocka_unit_test(test_pair_old_key),
	};

	return cmocka_run_group_tests_name("handshake", tests, setup,
	    teardown);
}
