/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UDP receive path (ATTACKS.md rows 1-7, 16, 17): a sequence of
 * datagrams, each through seal_rx_open (header checks, epoch, replay
 * window, AEAD open, inner frame) with fixed keys, and what it opens
 * through the session's receive side (inflate, frame_packet_check, the
 * coalescer).  The input format is in fuzz_common.h; the seeds made by
 * fuzz_seeds.c are sealed with the same keys, and a record can ask the
 * target to seal it, so that mutated datagrams still authenticate.
 *
 * Checks beyond "no crash": a datagram dropped before or at its tag
 * changes no replay window and no epoch; an accepted one has the counter
 * of its header and can never be accepted again; one that the target
 * sealed for an installed epoch never fails its tag (seal.c and the
 * format of seal.h agree).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz_common.h"
#include "pkt.h"
#include "replay.h"
#include "seal.h"
#include "wire.h"

/* What a datagram that does not authenticate must leave as it was. */
struct fuzz_udp_state {
	bool keyed, has_next;
	uint64_t epoch;
	uint64_t highest[3];	/* windows of epochs cur - 1 .. cur + 1 */
};

static void
fuzz_udp_state(const struct seal_rx *rx, struct fuzz_udp_state *st)
{
	const struct replay *w;
	int i;

	memset(st, 0, sizeof(*st));
	st->keyed = seal_rx_epoch(rx, &st->epoch);
	st->has_next = seal_rx_has_next(rx);
	for (i = 0; i < 3 && st->keyed; i++) {
		if (st->epoch + (uint64_t)i < 1)
			continue;
		w = seal_rx_window(rx, st->epoch + (uint64_t)i - 1);
		st->highest[i] = w != NULL ? replay_highest(w) : UINT64_MAX;
	}
}

/* May a drop reason have changed state?  Only those after the tag. */
static bool
fuzz_udp_after_tag(enum seal_drop d)
{
	return d == SEAL_DROP_KIND || d == SEAL_DROP_INNER_LEN;
}

/*
 * Seal the len bytes at p (a header, then the kind and payload) as seal.h
 * describes, written out again here: nonce = iv XOR counter, AAD = the
 * header, the tag appended.  Returns a new buffer of len + 16 bytes.
 */
static uint8_t *
fuzz_udp_seal(uint8_t cfg, const uint8_t *p, size_t len)
{
	const EVP_CIPHER *cipher = fuzz_udp_cipher(cfg) ==
	    WIRE_CIPHER_CHACHA20_POLY1305 ? EVP_chacha20_poly1305() :
	    EVP_aes_256_gcm();
	uint8_t *out = malloc(len + WIRE_UDP_TAG_LEN), nonce[SEAL_IV_LEN];
	uint64_t counter = pkt_load64(p + WIRE_UDP_OFF_COUNTER);
	struct seal_keys k;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t ptlen = len - WIRE_UDP_HDR_LEN;
	int i, n;

	if (out == NULL || ctx == NULL)
		abort();
	/* The receiver opens "c->s": the keys of the peer, a client. */
	fuzz_udp_keys(p[WIRE_UDP_OFF_EPOCH], &k);
	memcpy(nonce, k.iv[SEAL_DIR_C2S], SEAL_IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[SEAL_IV_LEN - 1 - i] ^= (uint8_t)(counter >> (8 * i));
	memcpy(out, p, len);
	FUZZ_CHECK(EVP_EncryptInit_ex(ctx, cipher, NULL, k.key[SEAL_DIR_C2S],
	    nonce) == 1);
	FUZZ_CHECK(EVP_EncryptUpdate(ctx, NULL, &n, out,
	    WIRE_UDP_HDR_LEN) == 1);
	FUZZ_CHECK(EVP_EncryptUpdate(ctx, out + WIRE_UDP_HDR_LEN, &n,
	    out + WIRE_UDP_HDR_LEN, (int)ptlen) == 1 && n == (int)ptlen);
	FUZZ_CHECK(EVP_EncryptFinal_ex(ctx, out + len, &n) == 1 && n == 0);
	FUZZ_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    WIRE_UDP_TAG_LEN, out + len) == 1);
	EVP_CIPHER_CTX_free(ctx);
	seal_keys_wipe(&k);
	return out;
}

/*
 * Open one datagram of len bytes (sealed: the target made its tag), check
 * the verdict, deliver what it carries.
 */
static void
fuzz_udp_one(struct seal_rx *rx, struct fuzz_rx *dev, const uint8_t *data,
    size_t len, bool sealed, uint64_t now)
{
	size_t max = WIRE_UDP_MIN_LEN + dev->mtu + (dev->tap ? 18 : 0);
	struct fuzz_udp_state before, after;
	struct seal_opened op;
	enum seal_drop d;
	uint8_t *buf = fuzz_dup(data, len), *again;

	fuzz_udp_state(rx, &before);
	d = seal_rx_open(rx, FUZZ_UDP_RID, buf, len, max, &op, now);
	fuzz_udp_state(rx, &after);
	FUZZ_CHECK(d >= SEAL_OK && d < SEAL_DROP_COUNT);
	FUZZ_CHECK(!sealed || d != SEAL_DROP_AUTH);
	if (d != SEAL_OK) {
		if (!fuzz_udp_after_tag(d))
			FUZZ_CHECK(memcmp(&before, &after,
			    sizeof(before)) == 0);
		free(buf);
		return;
	}
	FUZZ_CHECK(len >= WIRE_UDP_MIN_LEN && len <= max);
	FUZZ_CHECK(op.payload == buf + WIRE_UDP_PAYLOAD_OFF);
	FUZZ_CHECK(op.payload_len == len - SEAL_OVERHEAD);
	FUZZ_CHECK(op.counter == pkt_load64(data + WIRE_UDP_OFF_COUNTER));
	FUZZ_CHECK((uint8_t)op.epoch == data[WIRE_UDP_OFF_EPOCH]);
	FUZZ_CHECK(op.kind == WIRE_INNER_KEEPALIVE ? op.payload_len == 0 :
	    op.payload_len > 0);

	/* The same datagram again, at once: a replay (ATTACKS.md row 3). */
	again = fuzz_dup(data, len);
	d = seal_rx_open(rx, FUZZ_UDP_RID, again, len, max, NULL, now);
	FUZZ_CHECK(d == SEAL_DROP_REPLAY || d == SEAL_DROP_TOO_OLD);
	free(again);

	if (op.kind != WIRE_INNER_KEEPALIVE)
		fuzz_rx_deliver(dev, op.payload, op.payload_len,
		    op.kind == WIRE_INNER_ZLIB, false);
	free(buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct seal_keys keys;
	struct seal_rx rx;
	struct fuzz_rx dev;
	uint64_t now = FUZZ_UDP_T0;
	uint8_t cfg = fuzz_u8(&in);
	size_t mtu = WIRE_MTU_MIN + fuzz_u16(&in) % (WIRE_MTU_MAX -
	    WIRE_MTU_MIN + 1);
	enum wire_cipher c = fuzz_udp_cipher(cfg);
	char err[200];
	int i;

	if (fuzz_rx_init(&dev, (cfg & FUZZ_UDP_CFG_TAP) != 0, mtu,
	    (cfg & FUZZ_UDP_CFG_ZLIB) != 0 ? 1 : 0,
	    (cfg & FUZZ_UDP_CFG_OFFLOAD) != 0) != 0)
		return 0;
	FUZZ_CHECK(seal_rx_init(&rx, NULL, err, sizeof(err)) == 0);
	fuzz_udp_keys(0, &keys);
	FUZZ_CHECK(seal_rx_install(&rx, 0, c, &keys, FUZZ_UDP_ROLE, now, err,
	    sizeof(err)) == 0);
	if ((cfg & FUZZ_UDP_CFG_NEXT) != 0) {
		fuzz_udp_keys(1, &keys);
		FUZZ_CHECK(seal_rx_install(&rx, 1, c, &keys, FUZZ_UDP_ROLE,
		    now, err, sizeof(err)) == 0);
	}
	seal_keys_wipe(&keys);

	for (i = 0; i < FUZZ_UDP_MAX_RECORDS && in.n > 0; i++) {
		const uint8_t *dgram;
		uint8_t dt = fuzz_u8(&in), *sealed = NULL;
		size_t len = fuzz_u16(&in);

		len = fuzz_take(&in, len, &dgram);
		now += (uint64_t)(dt & ~FUZZ_UDP_SEAL) * FUZZ_UDP_TICK_MS;
		/* The daemon's once-a-second timer. */
		seal_rx_expire(&rx, now);
		if ((dt & FUZZ_UDP_SEAL) != 0 && len >= WIRE_UDP_HDR_LEN &&
		    len + WIRE_UDP_TAG_LEN <= WIRE_UDP_MAX_LEN) {
			sealed = fuzz_udp_seal(cfg, dgram, len);
			dgram = sealed;
			len += WIRE_UDP_TAG_LEN;
		}
		fuzz_udp_one(&rx, &dev, dgram, len, sealed != NULL, now);
		free(sealed);
	}
	/* The end of the receive batch. */
	fuzz_rx_flush(&dev);
	seal_rx_free(&rx);
	fuzz_rx_free(&dev);
	return 0;
}
