/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udpchan.c: the data channel of a real TLS 1.3 connection (over a
 * BIO pair): epoch 0 from the exporter both ways, a full rekey with the
 * switch-over rules, and the abuse of ATTACKS.md row 21 (REKEY storm, an
 * all-zero share, a bad epoch, an ACK without a REKEY) and row 32 (a
 * far-ahead counter that would pass for a busy epoch).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "handshake.h"
#include "pkt.h"
#include "udpchan.h"
#include "util.h"
#include "wire.h"

#define CRID 0x11111111u	/* the client's receiver id */
#define SRID 0x22222222u	/* the server's */
#define T0 1000000

struct fx {
	struct conf conf;
	struct conf_session cs;
	struct handshake_server *hs;
	struct handshake_client *hc;
	SSL *cssl, *sssl;
	struct seal_limits lim;
	struct udp_chan *c, *s;
	uint8_t buf[2048];
};

/* A TLS connection between fx's two ends, handshake done, over a BIO
 * pair. */
static void
tls_pair(struct fx *fx, SSL **cssl, SSL **sssl)
{
	BIO *bc, *bs;
	int i, rc = 0, rs = 0;

	*cssl = handshake_client_ssl_new(fx->hc);
	*sssl = handshake_server_ssl_new(fx->hs);
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(*cssl, bc, bc);
	SSL_set_bio(*sssl, bs, bs);
	SSL_set_connect_state(*cssl);
	SSL_set_accept_state(*sssl);
	for (i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(*cssl);
		if (rs != 1)
			rs = SSL_do_handshake(*sssl);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
}

/* Both ends of one TLS connection and a channel over it. */
static int
setup(void **state)
{
	static struct fx fx;
	char err[256];

	memset(&fx, 0, sizeof(fx));
	strcpy(fx.cs.name, "cobra");
	fx.cs.auth = CONF_AUTH_KEY;
	RAND_bytes(fx.cs.key, sizeof(fx.cs.key));
	fx.conf.sessions = &fx.cs;
	fx.conf.nsessions = 1;
	fx.hs = handshake_server_new(&fx.conf, err, sizeof(err));
	fx.hc = handshake_client_new(&fx.cs, err, sizeof(err));
	assert_non_null(fx.hs);
	assert_non_null(fx.hc);
	tls_pair(&fx, &fx.cssl, &fx.sssl);
	seal_limits_default(&fx.lim);
	fx.lim.rekey_after_packets = 100;
	fx.lim.reject_after_packets = 200;
	fx.c = udp_chan_new(fx.cssl, SEAL_ROLE_CLIENT,
	    WIRE_CIPHER_CHACHA20_POLY1305, CRID, SRID, &fx.lim, err,
	    sizeof(err));
	fx.s = udp_chan_new(fx.sssl, SEAL_ROLE_SERVER,
	    WIRE_CIPHER_CHACHA20_POLY1305, SRID, CRID, &fx.lim, err,
	    sizeof(err));
	assert_non_null(fx.c);
	assert_non_null(fx.s);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	udp_chan_free(fx->c);
	udp_chan_free(fx->s);
	SSL_free(fx->cssl);
	SSL_free(fx->sssl);
	handshake_client_free(fx->hc);
	handshake_server_free(fx->hs);
	return 0;
}

/* Seal "msg" on one channel and open it on the other; the drop verdict. */
static enum seal_drop
pass(struct fx *fx, struct udp_chan *from, struct udp_chan *to,
    const char *msg, uint64_t now, struct seal_opened *op)
{
	size_t len = strlen(msg), out;

	memcpy(fx->buf + WIRE_UDP_PAYLOAD_OFF, msg, len);
	assert_int_equal(udp_chan_seal(from, WIRE_INNER_RAW, fx->buf,
	    sizeof(fx->buf), len, &out, now), 0);
	return udp_chan_open(to, fx->buf, out, sizeof(fx->buf), op, now);
}

static void
test_epoch0_both_ways(void **state)
{
	struct fx *fx = *state;
	struct seal_opened op;

	assert_int_equal(pass(fx, fx->c, fx->s, "hello", T0, &op), SEAL_OK);
	assert_int_equal(op.payload_len, 5);
	assert_memory_equal(op.payload, "hello", 5);
	assert_int_equal(op.epoch, 0);
	assert_int_equal(pass(fx, fx->s, fx->c, "back", T0, &op), SEAL_OK);
	/* Keys differ by direction: a datagram does not open on its sender
	 * (receiver ids aside, the tag would not verify). */
	assert_int_equal(udp_chan_my_rid(fx->c), CRID);
}

/* The whole exchange; the server switches on the client's first datagram. */
static void
test_rekey(void **state)
{
	struct fx *fx = *state;
	uint8_t req[UDP_REKEY_LEN], ack[UDP_REKEY_LEN];
	struct seal_opened op;
	char err[200];

	assert_false(udp_chan_rekey_wanted(fx->c, T0));
	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_true(pkt_load64(req) == 1);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0, err, sizeof(err)), 0);
	/* The server still sends under epoch 0 until the client switches. */
	assert_int_equal(pass(fx, fx->s, fx->c, "old", T0, &op), SEAL_OK);
	assert_int_equal(op.epoch, 0);
	assert_int_equal(udp_chan_rekey_finish(fx->c, ack, sizeof(ack), T0,
	    err, sizeof(err)), 0);
	assert_int_equal(pass(fx, fx->c, fx->s, "new", T0, &op), SEAL_OK);
	assert_int_equal(op.epoch, 1);
	assert_true(op.promoted);
	assert_int_equal(pass(fx, fx->s, fx->c, "new back", T0, &op),
	    SEAL_OK);
	assert_int_equal(op.epoch, 1);
	assert_int_equal(udp_chan_rekeys(fx->c), 1);
	assert_int_equal(udp_chan_rekeys(fx->s), 1);
}

/* The client asks again only once the server has switched. */
static void
test_rekey_wanted(void **state)
{
	struct fx *fx = *state;
	struct seal_opened op;
	int i;

	/* Due when the next counter reaches the limit (100). */
	for (i = 0; i < 98; i++)
		assert_int_equal(pass(fx, fx->c, fx->s, "x", T0, &op),
		    SEAL_OK);
	assert_false(udp_chan_rekey_wanted(fx->c, T0));
	assert_int_equal(pass(fx, fx->c, fx->s, "x", T0, &op), SEAL_OK);
	assert_true(udp_chan_rekey_wanted(fx->c, T0));
}

/* The server cannot ask; its counter, seen by the client, does. */
static void
test_rekey_wanted_by_server_traffic(void **state)
{
	struct fx *fx = *state;
	struct seal_opened op;
	int i;

	for (i = 0; i < 100; i++)
		assert_int_equal(pass(fx, fx->s, fx->c, "x", T0, &op),
		    SEAL_OK);
	assert_true(udp_chan_rekey_wanted(fx->c, T0));
	/* The server itself never starts one, not even when time is up. */
	assert_false(udp_chan_rekey_wanted(fx->s, T0 +
	    WIRE_REKEY_AFTER_SECONDS * 1000));
}

/* Time alone makes the client rekey. */
static void
test_rekey_wanted_by_time(void **state)
{
	struct fx *fx = *state;
	uint64_t now = util_now_ms();

	assert_false(udp_chan_rekey_wanted(fx->c, now));
	assert_true(udp_chan_rekey_wanted(fx->c, now +
	    WIRE_REKEY_AFTER_SECONDS * 1000 + 1000));
}

static void
test_rekey_abuse(void **state)
{
	struct fx *fx = *state;
	uint8_t req[UDP_REKEY_LEN], ack[UDP_REKEY_LEN], bad[UDP_REKEY_LEN];
	struct seal_opened op;
	char err[200];

	/* An ACK nobody asked for. */
	memset(bad, 0, sizeof(bad));
	pkt_store64(bad, 1);
	assert_int_equal(udp_chan_rekey_finish(fx->c, bad, sizeof(bad), T0,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without a REKEY"));
	/* A wrong length, an epoch from the future. */
	assert_int_equal(udp_chan_rekey_answer(fx->s, bad, 39, ack, T0, err,
	    sizeof(err)), -1);
	pkt_store64(bad, 5);
	assert_int_equal(udp_chan_rekey_answer(fx->s, bad, sizeof(bad), ack,
	    T0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected 1"));
	/* An all-zero share gives an all-zero secret: refused. */
	pkt_store64(bad, 1);
	assert_int_equal(udp_chan_rekey_answer(fx->s, bad, sizeof(bad), ack,
	    T0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "X25519"));

	/* A genuine one, then another before it completed. */
	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0, err, sizeof(err)), 0);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0, err, sizeof(err)), -1);
	assert_int_equal(udp_chan_rekey_finish(fx->c, ack, sizeof(ack), T0,
	    err, sizeof(err)), 0);
	assert_int_equal(pass(fx, fx->c, fx->s, "switch", T0, &op), SEAL_OK);
	/* A storm: the next one a second later, with no traffic to show. */
	assert_int_equal(pass(fx, fx->s, fx->c, "switched", T0, &op),
	    SEAL_OK);
	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too often"));
	/* After 5 s it is fine again. */
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 5000, err, sizeof(err)), 0);
}

/*
 * The storm limit's exemption for a used-up epoch counts the datagrams
 * that opened, not the highest counter: a client that jumps its counter
 * ahead with one datagram (the window takes it) gets no back-to-back
 * rekeys from that (ATTACKS.md row 32), while one that really sent that
 * many still does.  The test limits make 100 packets an epoch's worth and
 * a quarter of it, 25, enough to be busy.
 */
static void
test_rekey_far_ahead(void **state)
{
	struct fx *fx = *state;
	uint8_t req[UDP_REKEY_LEN], ack[UDP_REKEY_LEN];
	struct seal_opened op;
	char err[200];
	int i;

	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0, err, sizeof(err)), 0);
	assert_int_equal(udp_chan_rekey_finish(fx->c, ack, sizeof(ack), T0,
	    err, sizeof(err)), 0);
	assert_int_equal(pass(fx, fx->c, fx->s, "switch", T0, &op), SEAL_OK);
	assert_int_equal(pass(fx, fx->s, fx->c, "switched", T0, &op),
	    SEAL_OK);
	/* One datagram at counter 60: two opened in the epoch, highest 60. */
	assert_true(udp_chan_test_set_counter(fx->c, 60));
	assert_int_equal(pass(fx, fx->c, fx->s, "ahead", T0, &op), SEAL_OK);
	assert_int_equal(op.counter, 60);
	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	err[0] = '\0';
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too often"));
	/* 30 more: 32 opened, a busy epoch; the REKEY goes through. */
	for (i = 0; i < 30; i++)
		assert_int_equal(pass(fx, fx->c, fx->s, "x", T0, &op),
		    SEAL_OK);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(udp_chan_rekey_finish(fx->c, ack, sizeof(ack),
	    T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(pass(fx, fx->c, fx->s, "again", T0 + 1000, &op),
	    SEAL_OK);
	assert_int_equal(op.epoch, 2);
	assert_int_equal(udp_chan_rekeys(fx->s), 2);
}

/*
 * Re-attach: the control connection is replaced while a rekey was under
 * way and its REKEY_ACK was lost.  The client asks for the same epoch
 * again over the new connection, the server accepts it once more, and
 * both derive it from the new connection's exporter: datagrams pass
 * both ways under it.  Without the re-attach the same REKEY is refused.
 */
static void
test_reattach_redo(void **state)
{
	struct fx *fx = *state;
	uint8_t req[UDP_REKEY_LEN], ack[UDP_REKEY_LEN];
	struct seal_opened op;
	SSL *cssl2, *sssl2;
	char err[200];
	int i;

	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0, err, sizeof(err)), 0);
	/* The ACK is lost; asked again on the same connection: refused. */
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 10000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before the last one"));
	/* Epoch 0 still carries everything meanwhile. */
	assert_int_equal(pass(fx, fx->c, fx->s, "still 0", T0, &op), SEAL_OK);
	assert_int_equal(op.epoch, 0);

	tls_pair(fx, &cssl2, &sssl2);
	udp_chan_reattach(fx->c, cssl2);
	udp_chan_reattach(fx->s, sssl2);
	SSL_free(fx->cssl);
	SSL_free(fx->sssl);
	fx->cssl = cssl2;
	fx->sssl = sssl2;
	/* No longer waiting for the lost answer: a rekey may start. */
	for (i = 0; i < 100; i++)
		assert_int_equal(pass(fx, fx->c, fx->s, "x", T0, &op), SEAL_OK);
	assert_true(udp_chan_rekey_wanted(fx->c, T0));
	assert_int_equal(udp_chan_rekey_start(fx->c, req, err, sizeof(err)),
	    0);
	assert_int_equal(pkt_load64(req), 1);
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(udp_chan_rekey_finish(fx->c, ack, sizeof(ack),
	    T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(pass(fx, fx->c, fx->s, "switch", T0 + 1000, &op),
	    SEAL_OK);
	assert_int_equal(op.epoch, 1);
	assert_int_equal(pass(fx, fx->s, fx->c, "switched", T0 + 1000, &op),
	    SEAL_OK);
	assert_int_equal(op.epoch, 1);
	/* The redo is for that one lost epoch only. */
	assert_int_equal(udp_chan_rekey_answer(fx->s, req, sizeof(req), ack,
	    T0 + 20000, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_epoch0_both_ways, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_wanted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rekey_wanted_by_server_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_wanted_by_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_abuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rekey_far_ahead, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reattach_redo, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("udpchan", tests, NULL, NULL);
}
