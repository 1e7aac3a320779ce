/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seal.c: known-answer datagrams for both AEADs, the epoch key schedule
 * and RFC 5869 through its HKDF helpers, every single-bit flip, replays,
 * reordering, counters far ahead and at the limits, malformed datagrams,
 * epoch transitions on an injected clock, the sender's limits
 * (ATTACKS.md rows 1-7 and 22), and the nonce primed between packets.
 *
 * The expected hex values below were computed once, independently of
 * this code, with python3's `cryptography` package (AESGCM,
 * ChaCha20Poly1305, HMAC-SHA256 for the extract and HKDFExpand) from the
 * inputs written next to them, following seal.h; the
 * key schedule values were also checked with `openssl kdf ... HKDF` in
 * EXTRACT_ONLY and EXPAND_ONLY modes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kdf.h"
#include "pkt.h"
#include "replay.h"
#include "seal.h"
#include "util.h"
#include "wire.h"

#define LIMIT WIRE_REJECT_AFTER_PACKETS
/* The caller's maximum datagram length in these tests. */
#define MAXLEN 2048
#define BUFLEN (MAXLEN + 64)

/* --- Fixed inputs of the known answers --------------------------------- */

/* key = 00 01 .. 1f, iv = a0 a1 .. ab, both directions. */
#define KAT_RID UINT32_C(0xdeadbeef)
#define KAT_EPOCH 5
#define KAT_COUNTER UINT64_C(0x1234567)
static const uint8_t kat_payload[] = "tapline known answer\x00\x01\x02\xfe\xff";
#define KAT_PAYLOAD_LEN (sizeof(kat_payload) - 1)

/*
 * Per cipher: datagram 1 = RAW kat_payload at KAT_COUNTER, datagram 2 =
 * KEEPALIVE at KAT_COUNTER + 1, both epoch 5, receiver KAT_RID.
 */
static const struct cipher_case {
	enum wire_cipher c;
	const char *kat1;
	const char *kat2;
} ciphers[] = {
	{ WIRE_CIPHER_AES_256_GCM,
	    "01050000deadbeef0000000001234567"
	    "8b61cd76bc712192c2e5b8fcf5b0205377d1e6c59e9f05d4e5"
	    "2adfa5278a58e5a895eb142ee02acd3b6b",
	    "01050000deadbeef0000000001234568"
	    "d9"
	    "36451ee1989cd3588b4b8d26c6f1d67f" },
	{ WIRE_CIPHER_CHACHA20_POLY1305,
	    "01050000deadbeef0000000001234567"
	    "6d1dab529dc72aae9d9699bc30489242d81f7ea0ace115b889"
	    "e68f575549aa3e7f87d0fedd0eb9cfdbc7",
	    "01050000deadbeef0000000001234568"
	    "cb"
	    "e95698f41685e6d6b4df32f7f92bd97f" },
};

/* --- Helpers ----------------------------------------------------------- */

static void
kat_keys(struct seal_keys *k)
{
	int d, i;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < SEAL_KEY_LEN; i++)
			k->key[d][i] = (uint8_t)i;
		for (i = 0; i < SEAL_IV_LEN; i++)
			k->iv[d][i] = (uint8_t)(0xa0 + i);
	}
}

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned v;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
tohex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* A sender (client) and a receiver (server) sharing the KAT keys. */
struct pair {
	struct seal_tx tx;
	struct seal_rx rx;
};

static void
pair_init(struct pair *p, enum wire_cipher c, uint64_t epoch, uint64_t now)
{
	struct seal_keys k;
	char err[200];

	kat_keys(&k);
	assert_int_equal(seal_tx_init(&p->tx, NULL, err, sizeof(err)), 0);
	assert_int_equal(seal_rx_init(&p->rx, NULL, err, sizeof(err)), 0);
	if (seal_tx_install(&p->tx, epoch, c, &k, SEAL_ROLE_CLIENT, now, err,
	    sizeof(err)) != 0 ||
	    seal_rx_install(&p->rx, epoch, c, &k, SEAL_ROLE_SERVER, now, err,
	    sizeof(err)) != 0)
		fail_msg("install: %s", err);
	seal_keys_wipe(&k);
}

static void
pair_free(struct pair *p)
{
	seal_tx_free(&p->tx);
	seal_rx_free(&p->rx);
}

/* Seal len bytes of a fixed pattern (or a keepalive) into out. */
static size_t
make(struct seal_tx *tx, uint8_t kind, size_t len, uint8_t *out,
    uint64_t now)
{
	size_t i, dlen = 0;

	for (i = 0; i < len; i++)
		out[WIRE_UDP_PAYLOAD_OFF + i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(seal_tx_seal(tx, KAT_RID, kind, out, BUFLEN, len,
	    &dlen, now), 0);
	assert_int_equal(dlen, len + SEAL_OVERHEAD);
	return dlen;
}

/* Open a copy of a datagram (opening works in place). */
static enum seal_drop
open_copy(struct seal_rx *rx, const uint8_t *d, size_t len, uint64_t now,
    struct seal_opened *out)
{
	uint8_t buf[BUFLEN];

	assert_true(len <= sizeof(buf));
	memcpy(buf, d, len);
	return seal_rx_open(rx, KAT_RID, buf, len, MAXLEN, out, now);
}

static void
expect_open(struct seal_rx *rx, const uint8_t *d, size_t len, uint64_t now,
    enum seal_drop want)
{
	struct seal_opened o;
	enum seal_drop got = open_copy(rx, d, len, now, &o);

	if (got != want)
		fail_msg("open at %llu ms: %s, want %s",
		    (unsigned long long)now, seal_drop_name(got),
		    seal_drop_name(want));
}

/* Everything of a receive epoch but its key material. */
static void
epoch_equal(const struct seal_rx_epoch *a, const struct seal_rx_epoch *b)
{
	assert_int_equal(a->keyed, b->keyed);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->installed_ms, b->installed_ms);
	assert_int_equal(a->current_ms, b->current_ms);
	assert_memory_equal(&a->window, &b->window, sizeof(a->window));
	assert_memory_equal(a->iv, b->iv, sizeof(a->iv));
	assert_ptr_equal(a->ctx, b->ctx);
}

/* The receiver's state, counters aside, is what it was. */
static void
rx_unchanged(const struct seal_rx *now, const struct seal_rx *before)
{
	epoch_equal(&now->prev, &before->prev);
	epoch_equal(&now->cur, &before->cur);
	epoch_equal(&now->next, &before->next);
}

static uint64_t
total_drops(const struct seal_rx *rx)
{
	const struct seal_stats *s = seal_rx_stats(rx);
	uint64_t n = 0;
	int i;

	for (i = 0; i < SEAL_DROP_COUNT; i++)
		n += s->drop[i];
	return n;
}

/*
 * Build a datagram with any header, kind and length, encrypted with the
 * KAT key and iv through a fresh EVP context: a peer that holds the key
 * but breaks the rules (counter 0, the limit, unknown kinds, ...).
 */
struct forged {
	uint8_t type, epoch, flags, rsv;
	uint32_t rid;
	uint64_t counter;
	uint8_t kind;
	size_t plen;
};

static size_t
forge(enum wire_cipher c, const struct forged *f, uint8_t *out)
{
	struct seal_keys k;
	EVP_CIPHER_CTX *ctx;
	EVP_CIPHER *ci;
	uint8_t nonce[SEAL_IV_LEN], *ct = out + WIRE_UDP_HDR_LEN;
	size_t i, n = WIRE_INNER_HDR_LEN + f->plen;
	int len;

	assert_true(WIRE_UDP_HDR_LEN + n + WIRE_UDP_TAG_LEN <= BUFLEN);
	kat_keys(&k);
	out[0] = f->type;
	out[1] = f->epoch;
	out[2] = f->flags;
	out[3] = f->rsv;
	pkt_store32(out + 4, f->rid);
	pkt_store64(out + 8, f->counter);
	ct[0] = f->kind;
	for (i = 0; i < f->plen; i++)
		ct[1 + i] = (uint8_t)i;
	memcpy(nonce, k.iv[0], sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(f->counter >> (8 * i));
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_non_null(ci = EVP_CIPHER_fetch(NULL, seal_cipher_name(c),
	    NULL));
	assert_int_equal(EVP_EncryptInit_ex2(ctx, ci, k.key[0], nonce, NULL),
	    1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &len, out,
	    WIRE_UDP_HDR_LEN), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ct, &len, ct, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + n, &len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    WIRE_UDP_TAG_LEN, ct + n), 1);
	EVP_CIPHER_free(ci);
	EVP_CIPHER_CTX_free(ctx);
	return WIRE_UDP_HDR_LEN + n + WIRE_UDP_TAG_LEN;
}

/* A well-formed forged datagram of epoch 5 with the given counter. */
static struct forged
good(uint64_t counter, uint8_t kind, size_t plen)
{
	struct forged f = { WIRE_UDP_TYPE_DATA, KAT_EPOCH, 0, 0, KAT_RID,
		counter, kind, plen };

	return f;
}

/* --- Known answers ----------------------------------------------------- */

/*
 * Seal the two KAT datagrams with one context (the second reuses it with
 * a new nonce), compare them with the committed hex, then open both.
 */
static void
test_kat(void **state)
{
	uint8_t buf[BUFLEN], want[BUFLEN];
	char hex[2 * BUFLEN + 1];
	struct seal_opened o;
	struct pair p;
	size_t i, dlen, wlen;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		assert_true(seal_tx_test_set_counter(&p.tx, KAT_COUNTER));

		memcpy(buf + WIRE_UDP_PAYLOAD_OFF, kat_payload,
		    KAT_PAYLOAD_LEN);
		assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, WIRE_INNER_RAW,
		    buf, sizeof(buf), KAT_PAYLOAD_LEN, &dlen, 0), 0);
		tohex(buf, dlen, hex);
		assert_string_equal(hex, ciphers[i].kat1);
		wlen = unhex(ciphers[i].kat1, want, sizeof(want));
		assert_int_equal(seal_rx_open(&p.rx, KAT_RID, want, wlen,
		    MAXLEN, &o, 0), SEAL_OK);
		assert_int_equal(o.kind, WIRE_INNER_RAW);
		assert_int_equal(o.counter, KAT_COUNTER);
		assert_int_equal(o.epoch, KAT_EPOCH);
		assert_true(o.newest);
		assert_false(o.promoted);
		assert_ptr_equal(o.payload, want + WIRE_UDP_PAYLOAD_OFF);
		assert_int_equal(o.payload_len, KAT_PAYLOAD_LEN);
		assert_memory_equal(o.payload, kat_payload, KAT_PAYLOAD_LEN);

		assert_int_equal(seal_tx_seal(&p.tx, KAT_RID,
		    WIRE_INNER_KEEPALIVE, buf, sizeof(buf), 0, &dlen, 0), 0);
		tohex(buf, dlen, hex);
		assert_string_equal(hex, ciphers[i].kat2);
		assert_int_equal(dlen, WIRE_UDP_MIN_LEN);
		wlen = unhex(ciphers[i].kat2, want, sizeof(want));
		assert_int_equal(seal_rx_open(&p.rx, KAT_RID, want, wlen,
		    MAXLEN, &o, 0), SEAL_OK);
		assert_int_equal(o.kind, WIRE_INNER_KEEPALIVE);
		assert_int_equal(o.payload_len, 0);
		assert_int_equal(seal_rx_stats(&p.rx)->opened, 2);
		assert_int_equal(seal_rx_stats(&p.rx)->opened_bytes,
		    KAT_PAYLOAD_LEN);
		pair_free(&p);
	}
}

/*
 * The key schedule of seal.h for exporter = 40 41 .. 5f with
 * dh = 80 81 .. 9f, and with no dh (epoch 0: 32 zero bytes).
 */
static const struct {
	bool with_dh;
	const char *key[2];
	const char *iv[2];
} schedule[] = {
	{ true,
	    { "4cf5980f507e84d5cbd99b269e579abf"
		"98bad5a4971ad492efd7c10c02f49b87",
		"af1d0902be232d610ca19f9327841c67"
		"80db9142c6b2a18dbcda4640b687c0c5" },
	    { "f3063f76ebafcad9bd5701ac", "a05ef5da7772b4426bb5a398" } },
	{ false,
	    { "6243668a5897e519943368b4314fe39e"
		"bc76dc69653bceac3bdd789bd5644223",
		"220b21babb570b6ee649f3681ea4658e"
		"81d465b3b856e03a6e680967d4d8908a" },
	    { "1b26cf8babfcdd6b5794aa8d", "7e4e906f5cc3f6ce88300aa2" } },
};

static void
test_key_schedule(void **state)
{
	uint8_t exporter[SEAL_EXPORTER_LEN], dh[SEAL_DH_LEN];
	uint8_t ctx[SEAL_EXPORTER_CONTEXT_LEN], zero[sizeof(struct seal_keys)];
	char hex[2 * SEAL_KEY_LEN + 1], err[200];
	struct seal_keys k;
	size_t i, d;

	(void)state;
	for (i = 0; i < sizeof(exporter); i++) {
		exporter[i] = (uint8_t)(0x40 + i);
		dh[i] = (uint8_t)(0x80 + i);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(schedule); i++) {
		if (seal_derive(exporter, schedule[i].with_dh ? dh : NULL, &k,
		    err, sizeof(err)) != 0)
			fail_msg("seal_derive: %s", err);
		for (d = 0; d < 2; d++) {
			tohex(k.key[d], SEAL_KEY_LEN, hex);
			assert_string_equal(hex, schedule[i].key[d]);
			tohex(k.iv[d], SEAL_IV_LEN, hex);
			assert_string_equal(hex, schedule[i].iv[d]);
		}
		seal_keys_wipe(&k);
		memset(zero, 0, sizeof(zero));
		assert_memory_equal(&k, zero, sizeof(k));
	}
	assert_int_equal(seal_derive(NULL, dh, &k, err, sizeof(err)), -1);

	seal_exporter_context(UINT64_C(0x0102030405060708), ctx);
	tohex(ctx, sizeof(ctx), hex);
	assert_string_equal(hex, "0102030405060708");
	assert_string_equal(SEAL_EXPORTER_LABEL, "EXPORTER-tapline-udp-v1");
}

/*
 * RFC 5869 A.1-A.3 through the helpers seal_derive uses: seal_hkdf_extract
 * and kdf_hkdf_expand.
 */
static const struct {
	const char *ikm, *salt, *info, *prk, *okm;
} rfc5869[] = {
	{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	    "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
	    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	    "404142434445464748494a4b4c4d4e4f",
	    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
	    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	    "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	    "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
	{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
	    "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8" },
};

static void
test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[128], salt[128], info[128], prk[SEAL_PRK_LEN], okm[128];
	char hex[2 * 128 + 1], err[200];
	size_t i, ilen, slen, nlen, olen;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(rfc5869); i++) {
		ilen = unhex(rfc5869[i].ikm, ikm, sizeof(ikm));
		slen = unhex(rfc5869[i].salt, salt, sizeof(salt));
		nlen = unhex(rfc5869[i].info, info, sizeof(info));
		olen = strlen(rfc5869[i].okm) / 2;
		if (seal_hkdf_extract(salt, slen, ikm, ilen, prk, err,
		    sizeof(err)) != 0)
			fail_msg("extract: %s", err);
		tohex(prk, sizeof(prk), hex);
		assert_string_equal(hex, rfc5869[i].prk);
		if (kdf_hkdf_expand(prk, sizeof(prk), info, nlen, okm,
		    olen, err, sizeof(err)) != 0)
			fail_msg("expand: %s", err);
		tohex(okm, olen, hex);
		assert_string_equal(hex, rfc5869[i].okm);
	}
	assert_int_equal(seal_hkdf_extract(salt, 1, NULL, 0, prk, err,
	    sizeof(err)), -1);
}

/* --- Tampering and replays --------------------------------------------- */

/*
 * Flip every bit of a valid datagram, one at a time: each copy is
 * refused for the reason its field gives, the receiver's state does not
 * move, and the genuine datagram is accepted afterwards.
 */
static void
test_bit_flips(void **state)
{
	uint8_t g1[BUFLEN], g2[BUFLEN], buf[BUFLEN], zero[BUFLEN] = { 0 };
	struct seal_rx before;
	struct pair p;
	enum seal_drop want, got;
	size_t i, bit, len, nbits;
	uint64_t c;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		/* Counter 1 is seen, counter 2 is the victim. */
		len = make(&p.tx, WIRE_INNER_RAW, 1, g1, 0);
		expect_open(&p.rx, g1, len, 0, SEAL_OK);
		len = make(&p.tx, WIRE_INNER_RAW, 40, g2, 0);
		before = p.rx;
		nbits = len * 8;
		for (bit = 0; bit < nbits; bit++) {
			size_t byte = bit / 8;

			memcpy(buf, g2, len);
			buf[byte] ^= (uint8_t)(1u << (bit % 8));
			c = pkt_load64(buf + WIRE_UDP_OFF_COUNTER);
			if (byte == WIRE_UDP_OFF_TYPE)
				want = SEAL_DROP_TYPE;
			else if (byte == WIRE_UDP_OFF_EPOCH)
				want = SEAL_DROP_EPOCH;
			else if (byte == WIRE_UDP_OFF_FLAGS)
				want = SEAL_DROP_FLAGS;
			else if (byte == WIRE_UDP_OFF_RSV)
				want = SEAL_DROP_RESERVED;
			else if (byte < WIRE_UDP_OFF_COUNTER)
				want = SEAL_DROP_RECEIVER;
			else if (byte < WIRE_UDP_HDR_LEN && c == 0)
				want = SEAL_DROP_ZERO;
			else if (byte < WIRE_UDP_HDR_LEN && c >= LIMIT)
				want = SEAL_DROP_LIMIT;
			else if (byte < WIRE_UDP_HDR_LEN && c == 1)
				want = SEAL_DROP_REPLAY;
			else
				want = SEAL_DROP_AUTH;
			got = seal_rx_open(&p.rx, KAT_RID, buf, len, MAXLEN,
			    NULL, 0);
			if (got != want)
				fail_msg("%s bit %zu: %s, want %s",
				    seal_cipher_name(ciphers[i].c), bit,
				    seal_drop_name(got), seal_drop_name(want));
			rx_unchanged(&p.rx, &before);
			/* Unauthenticated plaintext is wiped, not left. */
			if (got == SEAL_DROP_AUTH)
				assert_memory_equal(buf + WIRE_UDP_HDR_LEN,
				    zero, len - WIRE_UDP_OVERHEAD);
		}
		assert_int_equal(total_drops(&p.rx), nbits);
		/* 8 type, 8 epoch, 8 flags, 8 reserved, 32 receiver bits. */
		assert_int_equal(seal_rx_stats(&p.rx)->drop[SEAL_DROP_RECEIVER],
		    32);
		assert_true(seal_rx_stats(&p.rx)->drop[SEAL_DROP_AUTH] >=
		    (len - WIRE_UDP_HDR_LEN) * 8);
		expect_open(&p.rx, g2, len, 0, SEAL_OK);
		assert_int_equal(seal_rx_stats(&p.rx)->opened, 2);
		pair_free(&p);
	}
}

/*
 * A copy of an accepted datagram is a replay at once, and too old after
 * 10 000 newer ones have moved the window past it.
 */
static void
test_replayed(void **state)
{
	uint8_t first[BUFLEN], d[BUFLEN];
	struct seal_rx before;
	struct pair p;
	size_t i, n, flen, len = 0;
	const struct seal_stats *s;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		s = seal_rx_stats(&p.rx);
		flen = make(&p.tx, WIRE_INNER_RAW, 64, first, 0);
		expect_open(&p.rx, first, flen, 0, SEAL_OK);
		before = p.rx;
		expect_open(&p.rx, first, flen, 0, SEAL_DROP_REPLAY);
		rx_unchanged(&p.rx, &before);
		for (n = 0; n < 10000; n++) {
			len = make(&p.tx, WIRE_INNER_RAW, 64, d, 0);
			expect_open(&p.rx, d, len, 0, SEAL_OK);
		}
		before = p.rx;
		expect_open(&p.rx, first, flen, 0, SEAL_DROP_TOO_OLD);
		expect_open(&p.rx, d, len, 0, SEAL_DROP_REPLAY);
		rx_unchanged(&p.rx, &before);
		assert_int_equal(s->opened, 10001);
		assert_int_equal(s->drop[SEAL_DROP_REPLAY], 2);
		assert_int_equal(s->drop[SEAL_DROP_TOO_OLD], 1);
		pair_free(&p);
	}
}

/* Counters 5000, 4000, 3100 arriving in that order: each once. */
static void
test_reordered(void **state)
{
	static const uint64_t order[] = { 5000, 4000, 3100 };
	uint8_t keep[3][BUFLEN], d[BUFLEN];
	size_t klen[3] = { 0 }, i, j, len;
	struct seal_opened o;
	struct pair p;
	uint64_t c;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		for (c = 1; c <= 5000; c++) {
			len = make(&p.tx, WIRE_INNER_RAW, 20, d, 0);
			for (j = 0; j < 3; j++) {
				if (order[j] == c) {
					memcpy(keep[j], d, len);
					klen[j] = len;
				}
			}
		}
		for (j = 0; j < 3; j++) {
			assert_int_equal(open_copy(&p.rx, keep[j], klen[j], 0,
			    &o), SEAL_OK);
			assert_int_equal(o.counter, order[j]);
			/* Only the first moves the highest (roaming). */
			assert_int_equal(o.newest, j == 0);
		}
		for (j = 0; j < 3; j++)
			expect_open(&p.rx, keep[j], klen[j], 0,
			    SEAL_DROP_REPLAY);
		assert_int_equal(seal_rx_stats(&p.rx)->opened, 3);
		pair_free(&p);
	}
}

/*
 * A valid datagram 1 000 000 ahead is accepted and the window jumps, so
 * an older one still in flight is too old (documented in replay.h).  A
 * far-ahead counter with a bad tag moves nothing.
 */
static void
test_far_ahead(void **state)
{
	uint8_t late[BUFLEN], d[BUFLEN];
	struct seal_rx before;
	struct seal_opened o;
	struct pair p;
	size_t i, n, llen, len;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		for (n = 0; n < 3; n++) {
			len = make(&p.tx, WIRE_INNER_RAW, 10, d, 0);
			expect_open(&p.rx, d, len, 0, SEAL_OK);
		}
		llen = make(&p.tx, WIRE_INNER_RAW, 10, late, 0);

		/* Bad tag 1 000 000 ahead: dropped, window untouched. */
		assert_true(seal_tx_test_set_counter(&p.tx, 4 + 1000000));
		len = make(&p.tx, WIRE_INNER_RAW, 10, d, 0);
		d[len - 1] ^= 0x01;
		before = p.rx;
		expect_open(&p.rx, d, len, 0, SEAL_DROP_AUTH);
		rx_unchanged(&p.rx, &before);
		assert_int_equal(replay_highest(seal_rx_window(&p.rx,
		    KAT_EPOCH)), 3);

		/* The same datagram intact: accepted, the window jumps. */
		d[len - 1] ^= 0x01;
		assert_int_equal(open_copy(&p.rx, d, len, 0, &o), SEAL_OK);
		assert_true(o.newest);
		assert_int_equal(o.counter, 1000004);
		assert_int_equal(replay_highest(seal_rx_window(&p.rx,
		    KAT_EPOCH)), 1000004);
		expect_open(&p.rx, late, llen, 0, SEAL_DROP_TOO_OLD);
		expect_open(&p.rx, d, len, 0, SEAL_DROP_REPLAY);
		pair_free(&p);
	}
}

/*
 * Counters a key holder could put on the wire but no sender of ours
 * uses: 0, the reject limit and above, 2^64-1.  All dropped before the
 * AEAD and without a state change; LIMIT - 1 is still fine.
 */
static void
test_counter_limits(void **state)
{
	static const struct {
		uint64_t counter;
		enum seal_drop want;
	} cases[] = {
		{ 0, SEAL_DROP_ZERO },
		{ LIMIT, SEAL_DROP_LIMIT },
		{ LIMIT + 1, SEAL_DROP_LIMIT },
		{ UINT64_MAX, SEAL_DROP_LIMIT },
		{ UINT64_C(1) << 32, SEAL_DROP_LIMIT },
		{ LIMIT - 1, SEAL_OK },
		{ LIMIT - 1, SEAL_DROP_REPLAY },
		{ 1, SEAL_DROP_TOO_OLD },
	};
	uint8_t d[BUFLEN];
	struct seal_rx before;
	struct forged f;
	struct pair p;
	size_t i, j, len;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		for (j = 0; j < UTIL_ARRAY_LEN(cases); j++) {
			f = good(cases[j].counter, WIRE_INNER_RAW, 8);
			len = forge(ciphers[i].c, &f, d);
			before = p.rx;
			expect_open(&p.rx, d, len, 0, cases[j].want);
			if (cases[j].want != SEAL_OK)
				rx_unchanged(&p.rx, &before);
		}
		pair_free(&p);
	}
}

/* The whole forged datagram. */
#define ALL SIZE_MAX

/*
 * Malformed datagrams (ATTACKS.md row 1) and inner frames that a key
 * holder could send: each has its reason and counter.
 */
static void
test_malformed(void **state)
{
	static const struct {
		const char *what;
		struct forged f;
		size_t cut;		/* keep only this many bytes */
		bool bad_tag;
		enum seal_drop want;
	} cases[] = {
		{ "empty", { 1, 5, 0, 0, KAT_RID, 1, 0, 8 }, 0, false,
		    SEAL_DROP_SHORT },
		{ "1 byte", { 1, 5, 0, 0, KAT_RID, 2, 0, 8 }, 1, false,
		    SEAL_DROP_SHORT },
		{ "32 bytes", { 1, 5, 0, 0, KAT_RID, 3, 0, 8 }, 32, false,
		    SEAL_DROP_SHORT },
		{ "keepalive, 33 bytes", { 1, 5, 0, 0, KAT_RID, 4, 2, 0 }, ALL,
		    false, SEAL_OK },
		{ "max length", { 1, 5, 0, 0, KAT_RID, 5, 0,
		    MAXLEN - SEAL_OVERHEAD }, ALL, false, SEAL_OK },
		{ "max + 1", { 1, 5, 0, 0, KAT_RID, 6, 0,
		    MAXLEN - SEAL_OVERHEAD + 1 }, ALL, false, SEAL_DROP_LONG },
		{ "type 0", { 0, 5, 0, 0, KAT_RID, 7, 0, 8 }, ALL, false,
		    SEAL_DROP_TYPE },
		{ "type 2", { 2, 5, 0, 0, KAT_RID, 8, 0, 8 }, ALL, false,
		    SEAL_DROP_TYPE },
		{ "type ff", { 0xff, 5, 0, 0, KAT_RID, 9, 0, 8 }, ALL, false,
		    SEAL_DROP_TYPE },
		{ "flags 1", { 1, 5, 1, 0, KAT_RID, 10, 0, 8 }, ALL, false,
		    SEAL_DROP_FLAGS },
		{ "flags 80", { 1, 5, 0x80, 0, KAT_RID, 11, 0, 8 }, ALL, false,
		    SEAL_DROP_FLAGS },
		{ "reserved", { 1, 5, 0, 1, KAT_RID, 12, 0, 8 }, ALL, false,
		    SEAL_DROP_RESERVED },
		{ "receiver", { 1, 5, 0, 0, KAT_RID ^ 1, 13, 0, 8 }, ALL, false,
		    SEAL_DROP_RECEIVER },
		{ "epoch 4", { 1, 4, 0, 0, KAT_RID, 14, 0, 8 }, ALL, false,
		    SEAL_DROP_EPOCH },
		{ "epoch 6", { 1, 6, 0, 0, KAT_RID, 15, 0, 8 }, ALL, false,
		    SEAL_DROP_EPOCH },
		{ "bad tag", { 1, 5, 0, 0, KAT_RID, 16, 0, 8 }, ALL, true,
		    SEAL_DROP_AUTH },
		{ "kind 3", { 1, 5, 0, 0, KAT_RID, 17, 3, 8 }, ALL, false,
		    SEAL_DROP_KIND },
		{ "kind ff", { 1, 5, 0, 0, KAT_RID, 18, 0xff, 0 }, ALL, false,
		    SEAL_DROP_KIND },
		{ "keepalive with payload", { 1, 5, 0, 0, KAT_RID, 19, 2, 1 },
		    ALL, false, SEAL_DROP_INNER_LEN },
		{ "empty raw", { 1, 5, 0, 0, KAT_RID, 20, 0, 0 }, ALL, false,
		    SEAL_DROP_INNER_LEN },
		{ "empty zlib", { 1, 5, 0, 0, KAT_RID, 21, 1, 0 }, ALL, false,
		    SEAL_DROP_INNER_LEN },
		{ "zlib", { 1, 5, 0, 0, KAT_RID, 22, 1, 30 }, ALL, false,
		    SEAL_OK },
	};
	uint8_t d[BUFLEN];
	struct seal_rx before;
	struct pair p;
	const struct seal_stats *s;
	uint64_t drops;
	size_t i, len;
	enum seal_drop got;

	(void)state;
	pair_init(&p, WIRE_CIPHER_AES_256_GCM, KAT_EPOCH, 0);
	s = seal_rx_stats(&p.rx);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		len = forge(WIRE_CIPHER_AES_256_GCM, &cases[i].f, d);
		if (cases[i].cut != ALL)
			len = cases[i].cut;
		if (cases[i].bad_tag)
			d[len - 1] ^= 0x80;
		before = p.rx;
		drops = s->drop[cases[i].want];
		got = seal_rx_open(&p.rx, KAT_RID, d, len, MAXLEN, NULL, 0);
		if (got != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].what,
			    seal_drop_name(got), seal_drop_name(cases[i].want));
		if (got == SEAL_OK)
			continue;
		assert_int_equal(s->drop[got], drops + 1);
		if (got == SEAL_DROP_KIND || got == SEAL_DROP_INNER_LEN)
			/* It authenticated: its counter is used up. */
			assert_int_equal(replay_check(seal_rx_window(&p.rx,
			    KAT_EPOCH), cases[i].f.counter), REPLAY_DUP);
		else
			rx_unchanged(&p.rx, &before);
	}
	assert_int_equal(s->opened, 3);
	/* A NULL buffer is simply short. */
	assert_int_equal(seal_rx_open(&p.rx, KAT_RID, NULL, 100, MAXLEN, NULL,
	    0), SEAL_DROP_SHORT);
	pair_free(&p);
}

/* --- Epochs on an injected clock ---------------------------------------- */

#define NPRE 16

/* Senders for epochs base .. base+3, each with its own derived keys. */
struct epochs {
	struct seal_keys k[4];
	struct seal_tx tx[4];
	/* Datagrams sealed at t=0, used one by one. */
	uint8_t d[4][NPRE][64];
	size_t len[4][NPRE];
	size_t next[4];
};

static void
epochs_init(struct epochs *e, uint64_t base)
{
	uint8_t exporter[SEAL_EXPORTER_LEN], buf[BUFLEN];
	char err[200];
	size_t i, j;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 4; i++) {
		memset(exporter, (int)(base + i), sizeof(exporter));
		assert_int_equal(seal_derive(exporter, i > 0 ? exporter : NULL,
		    &e->k[i], err, sizeof(err)), 0);
		assert_int_equal(seal_tx_init(&e->tx[i], NULL, err,
		    sizeof(err)), 0);
		assert_int_equal(seal_tx_install(&e->tx[i], base + i,
		    WIRE_CIPHER_AES_256_GCM, &e->k[i], SEAL_ROLE_CLIENT, 0,
		    err, sizeof(err)), 0);
		for (j = 0; j < NPRE; j++) {
			e->len[i][j] = make(&e->tx[i], WIRE_INNER_RAW, 8, buf,
			    0);
			memcpy(e->d[i][j], buf, e->len[i][j]);
		}
	}
}

static void
epochs_free(struct epochs *e)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		seal_tx_free(&e->tx[i]);
		seal_keys_wipe(&e->k[i]);
	}
}

/* Open the next unused datagram of sender i (epoch base + i). */
static enum seal_drop
epochs_open(struct epochs *e, struct seal_rx *rx, size_t i, uint64_t now,
    struct seal_opened *o)
{
	size_t j = e->next[i]++;

	assert_true(j < NPRE);
	return open_copy(rx, e->d[i][j], e->len[i][j], now, o);
}

static void
rx_install(struct seal_rx *rx, struct epochs *e, uint64_t base, size_t i,
    uint64_t now, int want)
{
	char err[200] = "";

	if (seal_rx_install(rx, base + i, WIRE_CIPHER_AES_256_GCM, &e->k[i],
	    SEAL_ROLE_SERVER, now, err, sizeof(err)) != want)
		fail_msg("install epoch %llu: want %d (%s)",
		    (unsigned long long)(base + i), want, err);
}

/*
 * Roaming follows only the current epoch: a datagram of the previous
 * epoch, newer than any seen in it but withheld until the next epoch took
 * over, is still accepted in its grace but may not move the peer.
 */
static void
test_newest_current_epoch(void **state)
{
	struct epochs *e;
	struct seal_rx rx;
	struct seal_opened o;
	char err[200];

	(void)state;
	assert_non_null(e = malloc(sizeof(*e)));
	epochs_init(e, 0);
	assert_int_equal(seal_rx_init(&rx, NULL, err, sizeof(err)), 0);
	rx_install(&rx, e, 0, 0, 0, 0);
	assert_int_equal(epochs_open(e, &rx, 0, 0, &o), SEAL_OK);
	assert_true(o.newest);
	rx_install(&rx, e, 0, 1, 1000, 0);
	assert_int_equal(epochs_open(e, &rx, 1, 2000, &o), SEAL_OK);
	assert_true(o.promoted);
	assert_true(o.newest);
	/* Epoch 0's counter 2, above its highest (1), released late. */
	assert_int_equal(epochs_open(e, &rx, 0, 2500, &o), SEAL_OK);
	assert_int_equal(o.epoch, 0);
	assert_int_equal(o.counter, 2);
	assert_false(o.newest);
	/* The current epoch still moves it. */
	assert_int_equal(epochs_open(e, &rx, 1, 2600, &o), SEAL_OK);
	assert_true(o.newest);
	seal_rx_free(&rx);
	epochs_free(e);
	free(e);
}

/*
 * ATTACKS.md row 7: previous epoch accepted in its grace and dropped
 * after, next epoch dropped before it is installed, +2 dropped, an epoch
 * dropped once WIRE_REJECT_AFTER_SECONDS have passed since its install.
 */
static void
test_epochs(void **state)
{
	const uint64_t grace = WIRE_EPOCH_GRACE_SECONDS * 1000;
	const uint64_t reject = WIRE_REJECT_AFTER_SECONDS * 1000;
	struct epochs *e;
	struct seal_rx rx, before;
	struct seal_opened o;
	uint64_t ep;
	char err[200];

	(void)state;
	assert_non_null(e = malloc(sizeof(*e)));
	epochs_init(e, 0);
	assert_int_equal(seal_rx_init(&rx, NULL, err, sizeof(err)), 0);
	assert_false(seal_rx_epoch(&rx, &ep));
	/* Nothing installed: every epoch is unknown. */
	assert_int_equal(epochs_open(e, &rx, 0, 0, &o), SEAL_DROP_EPOCH);

	rx_install(&rx, e, 0, 0, 0, 0);
	assert_true(seal_rx_epoch(&rx, &ep));
	assert_int_equal(ep, 0);
	assert_int_equal(epochs_open(e, &rx, 0, 0, &o), SEAL_OK);
	assert_int_equal(o.epoch, 0);

	/* Next epoch before install, and +2: unknown. */
	before = rx;
	assert_int_equal(epochs_open(e, &rx, 1, 100, &o), SEAL_DROP_EPOCH);
	assert_int_equal(epochs_open(e, &rx, 2, 100, &o), SEAL_DROP_EPOCH);
	rx_unchanged(&rx, &before);

	/* Install 1 as next; 2 and 3 cannot be installed now. */
	rx_install(&rx, e, 0, 1, 1000, 0);
	assert_true(seal_rx_has_next(&rx));
	rx_install(&rx, e, 0, 2, 1000, -1);
	rx_install(&rx, e, 0, 3, 1000, -1);
	assert_int_equal(epochs_open(e, &rx, 2, 1000, &o), SEAL_DROP_EPOCH);
	/* Current still works while next waits. */
	assert_int_equal(epochs_open(e, &rx, 0, 1500, &o), SEAL_OK);
	assert_false(o.promoted);
	/* A forgery under next does not promote it. */
	{
		uint8_t bad[64];
		size_t len = e->len[1][NPRE - 1];

		memcpy(bad, e->d[1][NPRE - 1], len);
		bad[len - 1] ^= 1;
		before = rx;
		expect_open(&rx, bad, len, 1600, SEAL_DROP_AUTH);
		rx_unchanged(&rx, &before);
		assert_true(seal_rx_has_next(&rx));
	}

	/* The first genuine datagram under next makes it current. */
	assert_int_equal(epochs_open(e, &rx, 1, 2000, &o), SEAL_OK);
	assert_true(o.promoted);
	assert_int_equal(o.epoch, 1);
	assert_true(seal_rx_epoch(&rx, &ep));
	assert_int_equal(ep, 1);
	assert_false(seal_rx_has_next(&rx));
	assert_int_equal(seal_rx_stats(&rx)->promoted, 1);
	assert_int_equal(epochs_open(e, &rx, 1, 2000, &o), SEAL_OK);
	assert_false(o.promoted);

	/* Previous: accepted through its grace, dropped at its end. */
	assert_int_equal(epochs_open(e, &rx, 0, 2000 + grace - 1, &o),
	    SEAL_OK);
	assert_int_equal(o.epoch, 0);
	assert_int_equal(epochs_open(e, &rx, 0, 2000 + grace, &o),
	    SEAL_DROP_EXPIRED);
	/* expire forgets it: then it is simply unknown. */
	seal_rx_expire(&rx, 2000 + grace - 1);
	assert_non_null(seal_rx_window(&rx, 0));
	seal_rx_expire(&rx, 2000 + grace);
	assert_null(seal_rx_window(&rx, 0));
	assert_int_equal(epochs_open(e, &rx, 0, 2000 + grace, &o),
	    SEAL_DROP_EPOCH);

	/* Current is 1: 3 (+2) is unknown, 2 is not installed yet. */
	assert_int_equal(epochs_open(e, &rx, 3, 13000, &o), SEAL_DROP_EPOCH);
	assert_int_equal(epochs_open(e, &rx, 2, 13000, &o), SEAL_DROP_EPOCH);
	rx_install(&rx, e, 0, 2, 13000, 0);
	assert_int_equal(epochs_open(e, &rx, 2, 14000, &o), SEAL_OK);
	assert_true(o.promoted);

	/*
	 * Epoch 3 promoted at 190 s: 2 becomes previous with grace to 200 s,
	 * but its own reject time, 180 s after its install at 13 s, comes
	 * first.
	 */
	rx_install(&rx, e, 0, 3, 189000, 0);
	assert_int_equal(epochs_open(e, &rx, 3, 190000, &o), SEAL_OK);
	assert_true(o.promoted);
	assert_int_equal(epochs_open(e, &rx, 2, 13000 + reject - 1, &o),
	    SEAL_OK);
	assert_int_equal(epochs_open(e, &rx, 2, 13000 + reject, &o),
	    SEAL_DROP_EXPIRED);
	assert_int_equal(epochs_open(e, &rx, 1, 190000, &o), SEAL_DROP_EPOCH);
	assert_int_equal(seal_rx_stats(&rx)->promoted, 3);

	/* Current (3, installed at 189 s) is rejected at 369 s. */
	assert_int_equal(epochs_open(e, &rx, 3, 189000 + reject - 1, &o),
	    SEAL_OK);
	before = rx;
	assert_int_equal(epochs_open(e, &rx, 3, 189000 + reject, &o),
	    SEAL_DROP_EXPIRED);
	rx_unchanged(&rx, &before);

	seal_rx_free(&rx);
	epochs_free(e);
	free(e);
}

/* The wire carries the low 8 bits: epoch 255 is followed by 256 (byte 0). */
static void
test_epoch_wrap(void **state)
{
	struct epochs *e;
	struct seal_rx rx;
	struct seal_opened o;
	uint64_t ep;
	char err[200];

	(void)state;
	assert_non_null(e = malloc(sizeof(*e)));
	epochs_init(e, 255);
	assert_int_equal(e->d[1][0][WIRE_UDP_OFF_EPOCH], 0);
	assert_int_equal(seal_rx_init(&rx, NULL, err, sizeof(err)), 0);
	rx_install(&rx, e, 255, 0, 0, 0);
	rx_install(&rx, e, 255, 1, 0, 0);
	assert_int_equal(epochs_open(e, &rx, 1, 10, &o), SEAL_OK);
	assert_true(o.promoted);
	assert_int_equal(o.epoch, 256);
	assert_true(seal_rx_epoch(&rx, &ep));
	assert_int_equal(ep, 256);
	assert_int_equal(epochs_open(e, &rx, 0, 20, &o), SEAL_OK);
	assert_int_equal(o.epoch, 255);
	seal_rx_free(&rx);
	epochs_free(e);
	free(e);
}

/* Receiver install rules and lowered limits for the grace period. */
static void
test_rx_install_and_limits(void **state)
{
	struct seal_limits lim;
	struct seal_keys k;
	struct seal_rx rx;
	uint64_t ep;
	char err[200];

	(void)state;
	kat_keys(&k);
	seal_limits_default(&lim);
	lim.grace_ms = 0;
	lim.rekey_after_ms = lim.reject_after_ms;
	assert_int_equal(seal_rx_init(&rx, &lim, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "time limits"));

	seal_limits_default(&lim);
	lim.grace_ms = 50;
	assert_int_equal(seal_rx_init(&rx, &lim, err, sizeof(err)), 0);
	assert_int_equal(seal_rx_install(&rx, 7, WIRE_CIPHER_AUTO, &k,
	    SEAL_ROLE_SERVER, 0, err, sizeof(err)), -1);
	assert_false(seal_rx_epoch(&rx, &ep));
	assert_int_equal(seal_rx_install(&rx, 7, WIRE_CIPHER_AES_256_GCM, &k,
	    SEAL_ROLE_SERVER, 0, err, sizeof(err)), 0);
	/* Only current + 1, never the same or an older one. */
	assert_int_equal(seal_rx_install(&rx, 7, WIRE_CIPHER_AES_256_GCM, &k,
	    SEAL_ROLE_SERVER, 0, err, sizeof(err)), -1);
	assert_int_equal(seal_rx_install(&rx, 6, WIRE_CIPHER_AES_256_GCM, &k,
	    SEAL_ROLE_SERVER, 0, err, sizeof(err)), -1);
	assert_int_equal(seal_rx_install(&rx, 9, WIRE_CIPHER_AES_256_GCM, &k,
	    SEAL_ROLE_SERVER, 0, err, sizeof(err)), -1);
	/* Epochs may use a different AEAD each. */
	assert_int_equal(seal_rx_install(&rx, 8,
	    WIRE_CIPHER_CHACHA20_POLY1305, &k, SEAL_ROLE_SERVER, 0, err,
	    sizeof(err)), 0);
	assert_null(seal_rx_window(&rx, 6));
	assert_non_null(seal_rx_window(&rx, 8));
	assert_int_equal(rx.lim.grace_ms, 50);
	seal_rx_free(&rx);
	seal_keys_wipe(&k);
}

/* --- Sender ------------------------------------------------------------ */

/*
 * Counters run 1, 2, 3, ...; rekey is due at the packet and time limits;
 * at the reject limit (or past the reject time) the sender refuses, for
 * good, until a new epoch is installed (ATTACKS.md rows 6 and 22).
 */
static void
test_sender_limits(void **state)
{
	const uint64_t rekey_ms = WIRE_REKEY_AFTER_SECONDS * 1000;
	const uint64_t reject_ms = WIRE_REJECT_AFTER_SECONDS * 1000;
	uint8_t d[BUFLEN];
	struct seal_opened o;
	struct seal_keys k;
	struct pair p;
	uint64_t c, ep;
	size_t len, n;
	char err[200];

	(void)state;
	pair_init(&p, WIRE_CIPHER_AES_256_GCM, 0, 0);
	for (c = 1; c <= 1000; c++) {
		(void)make(&p.tx, WIRE_INNER_RAW, 4, d, 0);
		assert_int_equal(pkt_load64(d + WIRE_UDP_OFF_COUNTER), c);
	}
	assert_false(seal_tx_rekey_due(&p.tx, 0));

	/* Packet limit: due once the next counter is 2^26. */
	assert_true(seal_tx_test_set_counter(&p.tx,
	    WIRE_REKEY_AFTER_PACKETS - 1));
	len = make(&p.tx, WIRE_INNER_RAW, 4, d, 0);
	assert_true(seal_tx_rekey_due(&p.tx, 0));
	/* Still sendable and still accepted: rekeying loses nothing. */
	assert_int_equal(open_copy(&p.rx, d, len, 0, &o), SEAL_OK);
	assert_int_equal(o.counter, WIRE_REKEY_AFTER_PACKETS - 1);
	len = make(&p.tx, WIRE_INNER_RAW, 4, d, 0);
	expect_open(&p.rx, d, len, 0, SEAL_OK);

	/* Hard limit: the last counter is 2^27 - 1, then nothing. */
	assert_true(seal_tx_test_set_counter(&p.tx, LIMIT - 1));
	assert_false(seal_tx_test_set_counter(&p.tx, LIMIT - 2));
	len = make(&p.tx, WIRE_INNER_RAW, 4, d, 0);
	assert_int_equal(pkt_load64(d + WIRE_UDP_OFF_COUNTER), LIMIT - 1);
	expect_open(&p.rx, d, len, 0, SEAL_OK);
	for (n = 0; n < 3; n++)
		assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, WIRE_INNER_RAW,
		    d, sizeof(d), 4, &len, 0), SEAL_E_LIMIT);
	/* Even a counter pushed to 2^64-1 never wraps to a used one. */
	assert_true(seal_tx_test_set_counter(&p.tx, UINT64_MAX));
	assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, WIRE_INNER_KEEPALIVE,
	    d, sizeof(d), 0, &len, 0), SEAL_E_LIMIT);
	assert_int_equal(p.tx.counter, UINT64_MAX);

	/* A new epoch starts again at 1; old or equal epochs are refused. */
	kat_keys(&k);
	assert_int_equal(seal_tx_install(&p.tx, 0, WIRE_CIPHER_AES_256_GCM,
	    &k, SEAL_ROLE_CLIENT, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "epochs only grow"));
	assert_int_equal(seal_tx_install(&p.tx, 1, WIRE_CIPHER_AES_256_GCM,
	    &k, SEAL_ROLE_CLIENT, 5000, err, sizeof(err)), 0);
	assert_true(seal_tx_epoch(&p.tx, &ep));
	assert_int_equal(ep, 1);
	(void)make(&p.tx, WIRE_INNER_RAW, 4, d, 5000);
	assert_int_equal(pkt_load64(d + WIRE_UDP_OFF_COUNTER), 1);
	assert_int_equal(d[WIRE_UDP_OFF_EPOCH], 1);

	/* Time limits, from the install at 5 s. */
	assert_false(seal_tx_rekey_due(&p.tx, 5000 + rekey_ms - 1));
	assert_true(seal_tx_rekey_due(&p.tx, 5000 + rekey_ms));
	/* A clock that went backwards counts as no time passed. */
	assert_false(seal_tx_rekey_due(&p.tx, 0));
	len = make(&p.tx, WIRE_INNER_RAW, 4, d, 5000 + reject_ms - 1);
	assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, WIRE_INNER_RAW, d,
	    sizeof(d), 4, &len, 5000 + reject_ms), SEAL_E_EXPIRED);
	seal_keys_wipe(&k);
	pair_free(&p);
}

/* Lowered limits (as an integration test would use) and bad ones. */
static void
test_sender_lowered_limits(void **state)
{
	struct seal_limits lim;
	struct seal_tx tx;
	struct seal_keys k;
	uint8_t d[BUFLEN];
	char err[200];
	size_t len;
	uint64_t c;

	(void)state;
	kat_keys(&k);
	seal_limits_default(&lim);
	lim.rekey_after_packets = 10;
	lim.reject_after_packets = 20;
	lim.rekey_after_ms = 1000;
	lim.reject_after_ms = 2000;
	assert_int_equal(seal_tx_init(&tx, &lim, err, sizeof(err)), 0);
	assert_true(seal_tx_rekey_due(&tx, 0));
	assert_int_equal(seal_tx_seal(&tx, KAT_RID, WIRE_INNER_RAW, d,
	    sizeof(d), 4, &len, 0), SEAL_E_NOKEY);
	assert_false(seal_tx_epoch(&tx, &c));
	assert_int_equal(seal_tx_install(&tx, 3, WIRE_CIPHER_CHACHA20_POLY1305,
	    &k, SEAL_ROLE_SERVER, 0, err, sizeof(err)), 0);
	for (c = 1; c < 20; c++) {
		assert_int_equal(seal_tx_rekey_due(&tx, 0), c >= 10);
		len = make(&tx, WIRE_INNER_RAW, 4, d, 0);
		assert_int_equal(pkt_load64(d + WIRE_UDP_OFF_COUNTER), c);
	}
	assert_int_equal(seal_tx_seal(&tx, KAT_RID, WIRE_INNER_RAW, d,
	    sizeof(d), 4, &len, 0), SEAL_E_LIMIT);
	seal_tx_free(&tx);

	/* Limits that make no sense are refused. */
	seal_limits_default(&lim);
	lim.rekey_after_packets = lim.reject_after_packets;
	assert_int_equal(seal_tx_init(&tx, &lim, err, sizeof(err)), -1);
	seal_limits_default(&lim);
	lim.reject_after_packets = LIMIT + 1;
	assert_int_equal(seal_tx_init(&tx, &lim, err, sizeof(err)), -1);
	seal_limits_default(&lim);
	lim.reject_after_ms = 0;
	lim.rekey_after_ms = 0;
	assert_int_equal(seal_tx_init(&tx, &lim, err, sizeof(err)), -1);
	seal_keys_wipe(&k);
}

/* Bad arguments are refused without spending a counter. */
static void
test_sender_args(void **state)
{
	static const struct {
		uint8_t kind;
		size_t plen, cap;
		int want;
	} cases[] = {
		{ WIRE_INNER_KEEPALIVE, 1, BUFLEN, SEAL_E_ARG },
		{ WIRE_INNER_RAW, 0, BUFLEN, SEAL_E_ARG },
		{ WIRE_INNER_ZLIB, 0, BUFLEN, SEAL_E_ARG },
		{ 3, 4, BUFLEN, SEAL_E_ARG },
		{ WIRE_INNER_RAW, 4, 4 + SEAL_OVERHEAD - 1, SEAL_E_ARG },
		{ WIRE_INNER_RAW, SEAL_PAYLOAD_MAX + 1, SIZE_MAX, SEAL_E_ARG },
		{ WIRE_INNER_RAW, 4, 4 + SEAL_OVERHEAD, 0 },
		{ WIRE_INNER_KEEPALIVE, 0, SEAL_OVERHEAD, 0 },
	};
	uint8_t d[BUFLEN];
	struct pair p;
	uint64_t next = 1;
	size_t i, len;

	(void)state;
	pair_init(&p, WIRE_CIPHER_AES_256_GCM, 0, 0);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		memset(d, 0, sizeof(d));
		assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, cases[i].kind, d,
		    cases[i].cap, cases[i].plen, &len, 0), cases[i].want);
		if (cases[i].want != 0)
			continue;
		assert_int_equal(pkt_load64(d + WIRE_UDP_OFF_COUNTER), next);
		next++;
		expect_open(&p.rx, d, len, 0, SEAL_OK);
	}
	assert_int_equal(seal_tx_seal(&p.tx, KAT_RID, WIRE_INNER_RAW, NULL,
	    100, 4, &len, 0), SEAL_E_ARG);
	pair_free(&p);
}

/*
 * The nonce primed after each seal and open (seal.c) is only used for
 * the counter it was made for.  Sender: in order, after a jump, after a
 * reinstall; every datagram also opens in a fresh receiver, which never
 * used a primed nonce on it.  Receiver: a forged datagram at the primed
 * counter uses the nonce up, and the genuine one still opens; a datagram
 * ahead of the primed counter and a late one both open.
 */
static void
test_primed_nonce(void **state)
{
	uint8_t d[6][BUFLEN], bad[BUFLEN];
	size_t i, j, len[6];
	struct seal_opened o;
	struct seal_keys k;
	struct pair p, fresh;
	char err[200];

	(void)state;
	kat_keys(&k);
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		pair_init(&p, ciphers[i].c, KAT_EPOCH, 0);
		len[0] = make(&p.tx, WIRE_INNER_RAW, 30, d[0], 0);	/* 1 */
		len[1] = make(&p.tx, WIRE_INNER_RAW, 31, d[1], 0);	/* 2 */
		len[2] = make(&p.tx, WIRE_INNER_RAW, 32, d[2], 0);	/* 3 */
		len[3] = make(&p.tx, WIRE_INNER_RAW, 33, d[3], 0);	/* 4 */
		assert_true(seal_tx_test_set_counter(&p.tx, 100));
		len[4] = make(&p.tx, WIRE_INNER_RAW, 34, d[4], 0);	/* 100 */
		len[5] = make(&p.tx, WIRE_INNER_RAW, 35, d[5], 0);	/* 101 */
		for (j = 0; j < 6; j++) {
			pair_init(&fresh, ciphers[i].c, KAT_EPOCH, 0);
			assert_int_equal(open_copy(&fresh.rx, d[j], len[j], 0,
			    &o), SEAL_OK);
			assert_int_equal(o.payload_len, 30 + j);
			pair_free(&fresh);
		}

		expect_open(&p.rx, d[0], len[0], 0, SEAL_OK);
		/* Counter 2 is primed now: a forgery at 2 spends it. */
		memcpy(bad, d[1], len[1]);
		bad[len[1] - 1] ^= 0x01;
		expect_open(&p.rx, bad, len[1], 0, SEAL_DROP_AUTH);
		expect_open(&p.rx, d[1], len[1], 0, SEAL_OK);
		/* 3 is primed; 4 comes first, then 3 late, then 100, 101. */
		expect_open(&p.rx, d[3], len[3], 0, SEAL_OK);
		expect_open(&p.rx, d[2], len[2], 0, SEAL_OK);
		expect_open(&p.rx, d[4], len[4], 0, SEAL_OK);
		expect_open(&p.rx, d[5], len[5], 0, SEAL_OK);
		assert_int_equal(seal_rx_stats(&p.rx)->opened, 6);

		/* A new epoch: its counter 1 gets a nonce of its own. */
		assert_int_equal(seal_tx_install(&p.tx, KAT_EPOCH + 1,
		    ciphers[i].c, &k, SEAL_ROLE_CLIENT, 0, err, sizeof(err)),
		    0);
		assert_int_equal(seal_rx_install(&p.rx, KAT_EPOCH + 1,
		    ciphers[i].c, &k, SEAL_ROLE_SERVER, 0, err, sizeof(err)),
		    0);
		len[0] = make(&p.tx, WIRE_INNER_RAW, 40, d[0], 0);
		len[1] = make(&p.tx, WIRE_INNER_RAW, 41, d[1], 0);
		assert_int_equal(open_copy(&p.rx, d[0], len[0], 0, &o),
		    SEAL_OK);
		assert_true(o.promoted);
		assert_int_equal(o.counter, 1);
		assert_int_equal(open_copy(&p.rx, d[1], len[1], 0, &o),
		    SEAL_OK);
		assert_int_equal(o.counter, 2);
		assert_int_equal(o.payload_len, 41);
		pair_free(&p);
	}
	seal_keys_wipe(&k);
}

/* Status names: the ones the brief fixes, all distinct. */
static void
test_names(void **state)
{
	static const char *const want[SEAL_DROP_COUNT] = {
		"ok", "short", "long", "type", "flags", "reserved",
		"receiver", "epoch", "expired", "zero", "limit", "replay",
		"too_old", "auth", "kind", "inner_len", "error",
	};
	int i, j;

	(void)state;
	for (i = 0; i < SEAL_DROP_COUNT; i++) {
		assert_string_equal(seal_drop_name(i), want[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(seal_drop_name(i),
			    seal_drop_name(j));
	}
	assert_string_equal(seal_drop_name(SEAL_DROP_COUNT), "unknown");
	assert_string_equal(seal_cipher_name(WIRE_CIPHER_AES_256_GCM),
	    "AES-256-GCM");
	assert_string_equal(seal_cipher_name(WIRE_CIPHER_CHACHA20_POLY1305),
	    "ChaCha20-Poly1305");
	assert_null(seal_cipher_name(WIRE_CIPHER_AUTO));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat),
		cmocka_unit_test(test_key_schedule),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_replayed),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_far_ahead),
		cmocka_unit_test(test_counter_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_newest_current_epoch),
		cmocka_unit_test(test_epoch_wrap),
		cmocka_unit_test(test_rx_install_and_limits),
		cmocka_unit_test(test_sender_limits),
		cmocka_unit_test(test_sender_lowered_limits),
		cmocka_unit_test(test_sender_args),
		cmocka_unit_test(test_primed_nonce),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
