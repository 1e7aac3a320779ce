/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "pkt.h"
#include "udpchan.h"
#include "util.h"

struct udp_chan {
	SSL *ssl;
	enum seal_role role;
	enum wire_cipher cipher;
	uint32_t my_rid;
	uint32_t peer_rid;
	struct seal_limits lim;
	struct seal_tx tx;
	struct seal_rx rx;

	/* A rekey under way: the client's share, or the server's keys that
	 * wait for the peer's first datagram under the new epoch. */
	bool pending;
	uint64_t pending_epoch;
	EVP_PKEY *share;
	struct seal_keys pending_keys;
	uint64_t last_rekey_ms;
	uint64_t rekeys;
	/* Server: a rekey was under way when the control connection was
	 * lost; the client may ask for the same epoch again. */
	bool redo_ok;
};

enum wire_cipher
udp_cipher_auto(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (__builtin_cpu_supports("aes"))
		return WIRE_CIPHER_AES_256_GCM;
#elif defined(__aarch64__)
	if (getauxval(AT_HWCAP) & HWCAP_AES)
		return WIRE_CIPHER_AES_256_GCM;
#endif
	/* Without AES instructions ChaCha20 is faster and constant time. */
	return WIRE_CIPHER_CHACHA20_POLY1305;
}

void
udp_chan_limits(struct seal_limits *lim)
{
	const char *mode = getenv("TAPLINE_TEST_MODE");
	const char *spec = getenv("TAPLINE_TEST_REKEY");
	unsigned long long packets, ms;

	seal_limits_default(lim);
	if (spec == NULL)
		return;
	if (mode == NULL || strcmp(mode, "1") != 0) {
		log_warnx("TAPLINE_TEST_REKEY is ignored: it is for tests only "
		    "(and needs TAPLINE_TEST_MODE=1)");
		return;
	}
	if (sscanf(spec, "%llu:%llu", &packets, &ms) != 2 || packets < 16 ||
	    ms < 100) {
		log_warnx("TAPLINE_TEST_REKEY=\"%s\" is not PACKETS:MS "
		    "(PACKETS >= 16, MS >= 100); ignored", spec);
		return;
	}
	lim->rekey_after_packets = packets;
	/* Keep the real limits' room for the rekey round trip, which at
	 * high rates is worth tens of thousands of packets. */
	lim->reject_after_packets = packets + (packets > 65536 ? packets :
	    65536);
	lim->rekey_after_ms = ms;
	lim->reject_after_ms = ms * 3 / 2;
	if (lim->grace_ms > ms / 2)
		lim->grace_ms = ms / 2;
	log_warnx("TEST MODE: rekey after %llu packets or %llu ms; never run "
	    "a real tunnel like this", packets, ms);
}

/* The exporter secret of one epoch (seal.h has the key schedule). */
static int
udp_exporter(SSL *ssl, uint64_t epoch, uint8_t out[SEAL_EXPORTER_LEN],
    char *err, size_t errlen)
{
	uint8_t ctx[SEAL_EXPORTER_CONTEXT_LEN];

	seal_exporter_context(epoch, ctx);
	if (SSL_export_keying_material(ssl, out, SEAL_EXPORTER_LEN,
	    SEAL_EXPORTER_LABEL, strlen(SEAL_EXPORTER_LABEL), ctx, sizeof(ctx),
	    1) != 1)
		return util_err(err, errlen, "TLS exporter failed");
	return 0;
}

/* Keys of epoch n from the exporter and (after epoch 0) the DH secret. */
static int
udp_epoch_keys(struct udp_chan *ch, uint64_t epoch, const uint8_t *dh,
    struct seal_keys *keys, char *err, size_t errlen)
{
	uint8_t exp[SEAL_EXPORTER_LEN];
	int r;

	r = udp_exporter(ch->ssl, epoch, exp, err, errlen);
	if (r == 0)
		r = seal_derive(exp, dh, keys, err, errlen);
	OPENSSL_cleanse(exp, sizeof(exp));
	return r;
}

struct udp_chan *
udp_chan_new(SSL *ssl, enum seal_role role, enum wire_cipher cipher,
    uint32_t my_rid, uint32_t peer_rid, const struct seal_limits *lim,
    char *err, size_t errlen)
{
	struct seal_keys keys;
	struct udp_chan *ch;
	uint64_t now = util_now_ms();

	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	ch->ssl = ssl;
	ch->role = role;
	ch->cipher = cipher;
	ch->my_rid = my_rid;
	ch->peer_rid = peer_rid;
	ch->lim = *lim;
	if (seal_tx_init(&ch->tx, &ch->lim, err, errlen) != 0) {
		free(ch);
		return NULL;
	}
	if (seal_rx_init(&ch->rx, &ch->lim, err, errlen) != 0) {
		seal_tx_free(&ch->tx);
		free(ch);
		return NULL;
	}
	if (udp_epoch_keys(ch, 0, NULL, &keys, err, errlen) != 0 ||
	    seal_tx_install(&ch->tx, 0, cipher, &keys, role, now, err,
	    errlen) != 0 ||
	    seal_rx_install(&ch->rx, 0, cipher, &keys, role, now, err,
	    errlen) != 0) {
		seal_keys_wipe(&keys);
		udp_chan_free(ch);
		return NULL;
	}
	seal_keys_wipe(&keys);
	return ch;
}

void
udp_chan_free(struct udp_chan *ch)
{
	if (ch == NULL)
		return;
	seal_tx_free(&ch->tx);
	seal_rx_free(&ch->rx);
	seal_keys_wipe(&ch->pending_keys);
	EVP_PKEY_free(ch->share);
	free(ch);
}

int
udp_chan_seal(struct udp_chan *ch, uint8_t kind, uint8_t *buf, size_t cap,
    size_t len, size_t *outlen, uint64_t now_ms)
{
	return seal_tx_seal(&ch->tx, ch->peer_rid, kind, buf, cap, len, outlen,
	    now_ms);
}

enum seal_drop
udp_chan_open(struct udp_chan *ch, uint8_t *buf, size_t len, size_t max_len,
    struct seal_opened *out, uint64_t now_ms)
{
	enum seal_drop d;
	char err[160];

	d = seal_rx_open(&ch->rx, ch->my_rid, buf, len, max_len, out, now_ms);
	if (d != SEAL_OK || !out->promoted || ch->role != SEAL_ROLE_SERVER ||
	    !ch->pending || out->epoch != ch->pending_epoch)
		return d;
	/* The client sends under the new epoch: so do we from now on. */
	if (seal_tx_install(&ch->tx, ch->pending_epoch, ch->cipher,
	    &ch->pending_keys, ch->role, now_ms, err, sizeof(err)) != 0)
		log_warnx("rekey: %s", err);
	else
		ch->rekeys++;
	seal_keys_wipe(&ch->pending_keys);
	ch->pending = false;
	return d;
}

bool
udp_chan_rekey_wanted(const struct udp_chan *ch, uint64_t now_ms)
{
	const struct replay *w;
	uint64_t tx_epoch, rx_epoch;

	if (ch->role != SEAL_ROLE_CLIENT || ch->pending)
		return false;
	if (!seal_tx_epoch(&ch->tx, &tx_epoch) ||
	    !seal_rx_epoch(&ch->rx, &rx_epoch) || tx_epoch != rx_epoch)
		return false;	/* the server has not switched yet */
	if (seal_tx_rekey_due(&ch->tx, now_ms))
		return true;
	/* The server cannot ask; its counter shows in what we receive. */
	w = seal_rx_window(&ch->rx, rx_epoch);
	return w != NULL && replay_highest(w) >= ch->lim.rekey_after_packets;
}

/* A fresh X25519 key pair and its public half. */
static EVP_PKEY *
udp_share_new(uint8_t pub[32], char *err, size_t errlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t len = 32;

	if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 ||
	    len != 32) {
		EVP_PKEY_free(k);
		util_err(err, errlen, "cannot make an X25519 key");
		return NULL;
	}
	return k;
}

/*
 * The shared secret with the peer's public key.  OpenSSL refuses a
 * result of all zeros (a small-order or zero key), which ends the
 * session (tests/ATTACKS.md row 21).
 */
static int
udp_x25519(EVP_PKEY *mine, const uint8_t peer[32], uint8_t out[32],
    char *err, size_t errlen)
{
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    32);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
	size_t len = 32;
	int r = -1;

	if (p != NULL && c != NULL && EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, p) == 1 &&
	    EVP_PKEY_derive(c, out, &len) == 1 && len == 32)
		r = 0;
	else
		util_err(err, errlen, "X25519 with the peer's share failed "
		    "(an invalid key)");
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	return r;
}

int
udp_chan_rekey_start(struct udp_chan *ch, uint8_t body[UDP_REKEY_LEN],
    char *err, size_t errlen)
{
	uint64_t epoch;

	if (!seal_tx_epoch(&ch->tx, &epoch))
		return util_err(err, errlen, "no epoch to rekey from");
	EVP_PKEY_free(ch->share);
	ch->share = udp_share_new(body + 8, err, errlen);
	if (ch->share == NULL)
		return -1;
	ch->pending = true;
	ch->pending_epoch = epoch + 1;
	pkt_store64(body, ch->pending_epoch);
	return 0;
}

int
udp_chan_rekey_answer(struct udp_chan *ch, const uint8_t *body, size_t len,
    uint8_t ack[UDP_REKEY_LEN], uint64_t now_ms, char *err, size_t errlen)
{
	uint64_t epoch, cur, min_gap, busy;
	struct seal_keys keys;
	uint8_t dh[32];
	EVP_PKEY *mine;
	int r;

	if (len != UDP_REKEY_LEN)
		return util_err(err, errlen, "REKEY of %zu bytes, expected %d",
		    len, UDP_REKEY_LEN);
	epoch = pkt_load64(body);
	if (ch->redo_ok && ch->pending && epoch == ch->pending_epoch) {
		/* Its REKEY_ACK was lost with the old connection, so the
		 * client never used these keys: start over. */
		seal_rx_drop_next(&ch->rx);
		seal_keys_wipe(&ch->pending_keys);
		ch->pending = false;
		ch->last_rekey_ms = 0;
	}
	ch->redo_ok = false;
	if (!seal_rx_epoch(&ch->rx, &cur) || epoch != cur + 1)
		return util_err(err, errlen, "REKEY for epoch %llu, expected "
		    "%llu", (unsigned long long)epoch,
		    (unsigned long long)cur + 1);
	if (ch->pending || seal_rx_has_next(&ch->rx))
		return util_err(err, errlen, "REKEY before the last one was "
		    "completed");
	/*
	 * At most one per 5 s (less when tests lower the limits), unless
	 * the packet counts show that the epoch really is used up: a storm
	 * of REKEYs is refused, a busy tunnel is not.  The client's count
	 * is the datagrams of its that opened, not the highest counter it
	 * used: the window takes a counter far ahead, and one such
	 * datagram per epoch would otherwise buy a rekey (an X25519, the
	 * exporter and HKDF) at will.
	 */
	min_gap = ch->lim.rekey_after_ms / 2 < 5000 ?
	    ch->lim.rekey_after_ms / 2 : 5000;
	/* A REKEY over TCP may overtake the datagrams queued in the UDP
	 * socket, and some are lost, so our count lags the client's. */
	busy = ch->lim.rekey_after_packets / 4;
	/* False positive: cppcheck 2.10 takes min_gap for always 0. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (ch->rekeys > 0 && now_ms - ch->last_rekey_ms < min_gap &&
	    ch->tx.counter < busy && seal_rx_opened(&ch->rx, cur) < busy)
		return util_err(err, errlen, "REKEY too often");
	if ((mine = udp_share_new(ack + 8, err, errlen)) == NULL)
		return -1;
	r = udp_x25519(mine, body + 8, dh, err, errlen);
	EVP_PKEY_free(mine);
	if (r == 0)
		r = udp_epoch_keys(ch, epoch, dh, &keys, err, errlen);
	OPENSSL_cleanse(dh, sizeof(dh));
	if (r != 0)
		return -1;
	if (seal_rx_install(&ch->rx, epoch, ch->cipher, &keys, ch->role,
	    now_ms, err, errlen) != 0) {
		seal_keys_wipe(&keys);
		return -1;
	}
	ch->pending_keys = keys;
	seal_keys_wipe(&keys);
	ch->pending = true;
	ch->pending_epoch = epoch;
	ch->last_rekey_ms = now_ms;
	pkt_store64(ack, epoch);
	return 0;
}

int
udp_chan_rekey_finish(struct udp_chan *ch, const uint8_t *body, size_t len,
    uint64_t now_ms, char *err, size_t errlen)
{
	struct seal_keys keys;
	uint8_t dh[32];
	int r;

	if (len != UDP_REKEY_LEN)
		return util_err(err, errlen, "REKEY_ACK of %zu bytes, "
		    "expected %d", len, UDP_REKEY_LEN);
	if (!ch->pending || pkt_load64(body) != ch->pending_epoch)
		return util_err(err, errlen, "REKEY_ACK without a REKEY");
	r = udp_x25519(ch->share, body + 8, dh, err, errlen);
	if (r == 0)
		r = udp_epoch_keys(ch, ch->pending_epoch, dh, &keys, err,
		    errlen);
	OPENSSL_cleanse(dh, sizeof(dh));
	EVP_PKEY_free(ch->share);
	ch->share = NULL;
	ch->pending = false;
	if (r != 0)
		return -1;
	r = seal_rx_install(&ch->rx, ch->pending_epoch, ch->cipher, &keys,
	    ch->role, now_ms, err, errlen);
	if (r == 0)
		r = seal_tx_install(&ch->tx, ch->pending_epoch, ch->cipher,
		    &keys, ch->role, now_ms, err, errlen);
	seal_keys_wipe(&keys);
	if (r == 0)
		ch->rekeys++;
	return r;
}

void
udp_chan_reattach(struct udp_chan *ch, SSL *ssl)
{
	ch->ssl = ssl;
	if (ch->role == SEAL_ROLE_CLIENT) {
		/* A REKEY lost with the old connection is asked again. */
		EVP_PKEY_free(ch->share);
		ch->share = NULL;
		ch->pending = false;
	} else {
		ch->redo_ok = ch->pending;
	}
}

void
udp_chan_expire(struct udp_chan *ch, uint64_t now_ms)
{
	seal_rx_expire(&ch->rx, now_ms);
}

uint32_t
udp_chan_my_rid(const struct udp_chan *ch)
{
	return ch->my_rid;
}

const struct seal_stats *
udp_chan_stats(const struct udp_chan *ch)
{
	return seal_rx_stats(&ch->rx);
}

uint64_t
udp_chan_rekeys(const struct udp_chan *ch)
{
	return ch->rekeys;
}

/* A test's far-ahead datagram; the seal refuses to go backwards. */
bool
udp_chan_test_set_counter(struct udp_chan *ch, uint64_t counter)
{
	return seal_tx_test_set_counter(&ch->tx, counter);
}
