/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AEAD datagrams of the UDP data channel and their key epochs; see seal.h
 * for the format, the key schedule and the epoch rules.
 *
 * Every cipher context is allocated when its owner is initialised and
 * keyed when an epoch is installed; a datagram only sets a new nonce on
 * it, so the data path allocates nothing.  OpenSSL failures on the data
 * path are counted and the thread's error queue is cleared, since there
 * is nobody to read it there; installs report the reason in err.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "kdf.h"
#include "log.h"
#include "pkt.h"
#include "replay.h"
#include "seal.h"
#include "util.h"
#include "wire.h"

/* Labels of the key schedule (seal.h); the direction is appended. */
#define SEAL_LABEL_KEY "tapline udp v1 key "
#define SEAL_LABEL_IV "tapline udp v1 iv "
#define SEAL_LABEL_MAX 32

static const char *const seal_dir_label[2] = {
	[SEAL_DIR_C2S] = "c->s",
	[SEAL_DIR_S2C] = "s->c",
};

_Static_assert(sizeof(SEAL_LABEL_KEY) - 1 + 4 <= SEAL_LABEL_MAX,
    "key label fits");
_Static_assert(SEAL_PRK_LEN == KDF_PRK_LEN, "SHA-256 sized prk");

/* The AEADs, by wire code, with the names EVP fetches them by. */
static const struct seal_cipher {
	enum wire_cipher id;
	const char *name;
} seal_ciphers[] = {
	{ WIRE_CIPHER_AES_256_GCM, "AES-256-GCM" },
	{ WIRE_CIPHER_CHACHA20_POLY1305, "ChaCha20-Poly1305" },
};

static const char *const seal_drop_names[SEAL_DROP_COUNT] = {
	[SEAL_OK] = "ok",
	[SEAL_DROP_SHORT] = "short",
	[SEAL_DROP_LONG] = "long",
	[SEAL_DROP_TYPE] = "type",
	[SEAL_DROP_FLAGS] = "flags",
	[SEAL_DROP_RESERVED] = "reserved",
	[SEAL_DROP_RECEIVER] = "receiver",
	[SEAL_DROP_EPOCH] = "epoch",
	[SEAL_DROP_EXPIRED] = "expired",
	[SEAL_DROP_ZERO] = "zero",
	[SEAL_DROP_LIMIT] = "limit",
	[SEAL_DROP_REPLAY] = "replay",
	[SEAL_DROP_TOO_OLD] = "too_old",
	[SEAL_DROP_AUTH] = "auth",
	[SEAL_DROP_KIND] = "kind",
	[SEAL_DROP_INNER_LEN] = "inner_len",
	[SEAL_DROP_ERROR] = "error",
};

/* Milliseconds from then to now; a clock that went back counts as 0. */
static uint64_t
seal_elapsed(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? now_ms - then_ms : 0;
}

/* --- Key schedule ------------------------------------------------------ */

/* HKDF-Extract for the epoch key schedule (kdf.c). */
int
seal_hkdf_extract(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, uint8_t prk[SEAL_PRK_LEN], char *err, size_t errlen)
{
	_Static_assert(SEAL_PRK_LEN == 32, "SHA-256 PRK");
	return kdf_hkdf_extract(salt, saltlen, ikm, ikmlen, prk, err,
	    errlen);
}

/* One HKDF-Expand of the schedule: label || direction, outlen bytes. */
static int
seal_expand(const uint8_t prk[SEAL_PRK_LEN], const char *label,
    enum seal_dir d, uint8_t *out, size_t outlen, char *err, size_t errlen)
{
	char info[SEAL_LABEL_MAX];
	size_t llen = strlen(label), dlen = strlen(seal_dir_label[d]);

	if (llen + dlen > sizeof(info))
		return util_err(err, errlen, "HKDF label too long");
	memcpy(info, label, llen);
	memcpy(info + llen, seal_dir_label[d], dlen);
	return kdf_hkdf_expand(prk, SEAL_PRK_LEN, info, llen + dlen,
	    out, outlen, err, errlen);
}

/* The epoch key schedule of seal.h, wiping the prk whatever happens. */
int
seal_derive(const uint8_t exporter[SEAL_EXPORTER_LEN], const uint8_t *dh,
    struct seal_keys *out, char *err, size_t errlen)
{
	static const uint8_t no_dh[SEAL_DH_LEN];
	uint8_t prk[SEAL_PRK_LEN];
	int d, r = -1;

	if (exporter == NULL || out == NULL)
		return util_err(err, errlen, "seal_derive: bad arguments");
	if (seal_hkdf_extract(exporter, SEAL_EXPORTER_LEN,
	    dh != NULL ? dh : no_dh, SEAL_DH_LEN, prk, err, errlen) != 0)
		goto out;
	for (d = SEAL_DIR_C2S; d <= SEAL_DIR_S2C; d++) {
		if (seal_expand(prk, SEAL_LABEL_KEY, d, out->key[d],
		    SEAL_KEY_LEN, err, errlen) != 0 ||
		    seal_expand(prk, SEAL_LABEL_IV, d, out->iv[d],
		    SEAL_IV_LEN, err, errlen) != 0)
			goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(prk, sizeof(prk));
	if (r != 0)
		seal_keys_wipe(out);
	return r;
}

void
seal_exporter_context(uint64_t epoch, uint8_t ctx[SEAL_EXPORTER_CONTEXT_LEN])
{
	pkt_store64(ctx, epoch);
}

void
seal_keys_wipe(struct seal_keys *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

/* --- Common ------------------------------------------------------------ */

void
seal_limits_default(struct seal_limits *lim)
{
	lim->rekey_after_packets = WIRE_REKEY_AFTER_PACKETS;
	lim->reject_after_packets = WIRE_REJECT_AFTER_PACKETS;
	lim->rekey_after_ms = (uint64_t)WIRE_REKEY_AFTER_SECONDS * 1000;
	lim->reject_after_ms = (uint64_t)WIRE_REJECT_AFTER_SECONDS * 1000;
	lim->grace_ms = (uint64_t)WIRE_EPOCH_GRACE_SECONDS * 1000;
}

/*
 * Copy lim (or the defaults) into *dst if it makes sense: rekeying must
 * come before rejecting, and no sender limit may pass the protocol's.
 */
static int
seal_limits_set(struct seal_limits *dst, const struct seal_limits *lim,
    char *err, size_t errlen)
{
	struct seal_limits l;

	if (lim == NULL)
		seal_limits_default(&l);
	else
		l = *lim;
	if (l.reject_after_packets < 2 ||
	    l.reject_after_packets > WIRE_REJECT_AFTER_PACKETS ||
	    l.rekey_after_packets < 1 ||
	    l.rekey_after_packets >= l.reject_after_packets)
		return util_err(err, errlen, "packet limits out of range");
	if (l.reject_after_ms == 0 || l.rekey_after_ms >= l.reject_after_ms)
		return util_err(err, errlen, "time limits out of range");
	*dst = l;
	return 0;
}

/* The EVP name of a wire cipher code, from the table. */
const char *
seal_cipher_name(enum wire_cipher c)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(seal_ciphers); i++)
		if (seal_ciphers[i].id == c)
			return seal_ciphers[i].name;
	return NULL;
}

/* The status name of a drop reason; "unknown" out of range. */
const char *
seal_drop_name(enum seal_drop d)
{
	if ((int)d < 0 || d >= SEAL_DROP_COUNT)
		return "unknown";
	return seal_drop_names[d];
}

/*
 * Key ctx with cipher c and key for encryption (enc = 1) or decryption
 * (enc = 0), dropping whatever key it had.  The nonce is set per datagram.
 */
static int
seal_ctx_key(EVP_CIPHER_CTX *ctx, enum wire_cipher c, const uint8_t *key,
    int enc, char *err, size_t errlen)
{
	const char *name = seal_cipher_name(c);
	EVP_CIPHER *cipher = NULL;
	int r = -1;

	if (name == NULL)
		return util_err(err, errlen, "cipher %d is not an AEAD we know",
		    (int)c);
	/* Frees the provider's key schedule (which cleanses it). */
	if (!EVP_CIPHER_CTX_reset(ctx))
		return log_ossl_err(err, errlen, "EVP_CIPHER_CTX_reset");
	if ((cipher = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL) {
		log_ossl_err(err, errlen, name);
		goto out;
	}
	if (EVP_CIPHER_get_key_length(cipher) != SEAL_KEY_LEN) {
		util_err(err, errlen, "%s: unexpected key length", name);
		goto out;
	}
	if (!EVP_CipherInit_ex2(ctx, cipher, key, NULL, enc, NULL)) {
		log_ossl_err(err, errlen, name);
		goto out;
	}
	/*
	 * Both AEADs default to 12-byte nonces; make sure of it.  (The tag
	 * length is not asked: ChaCha20-Poly1305 reports 0 until a tag is
	 * set, and every tag call below names its 16 bytes.)
	 */
	if (EVP_CIPHER_CTX_get_iv_length(ctx) != SEAL_IV_LEN) {
		util_err(err, errlen, "%s: unexpected nonce length", name);
		goto out;
	}
	r = 0;
out:
	EVP_CIPHER_free(cipher);
	/* Leave no half-keyed context behind. */
	if (r != 0 && !EVP_CIPHER_CTX_reset(ctx))
		ERR_clear_error();
	return r;
}

/* nonce = iv XOR (4 zero bytes || counter, big-endian). */
static void
seal_nonce(const uint8_t iv[SEAL_IV_LEN], uint64_t counter,
    uint8_t nonce[SEAL_IV_LEN])
{
	int i;

	memcpy(nonce, iv, SEAL_IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[SEAL_IV_LEN - 1 - i] ^= (uint8_t)(counter >> (8 * i));
}

/*
 * Set the nonce of counter in ctx, unless it is there already: *primed
 * names the counter whose nonce seal_prime set, 0 for none (counters
 * start at 1).  Either way it is used up.  0, or -1 if OpenSSL failed.
 */
static int
seal_use_nonce(EVP_CIPHER_CTX *ctx, const uint8_t iv[SEAL_IV_LEN], int enc,
    uint64_t counter, uint64_t *primed)
{
	uint8_t nonce[SEAL_IV_LEN];
	bool ready = *primed == counter;

	*primed = 0;
	if (ready)
		return 0;
	seal_nonce(iv, counter, nonce);
	return EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, enc, NULL) ? 0 : -1;
}

/*
 * Set the nonce of the counter expected next, right after a seal or an
 * open while the cipher's code and state are still in the caches.  A
 * packet that comes after the device or socket was idle then skips this
 * step on its cold way (about 2 us here, of the 10 a cold AEAD takes);
 * a burst pays the same one nonce per packet as before.
 */
static void
seal_prime(EVP_CIPHER_CTX *ctx, const uint8_t iv[SEAL_IV_LEN], int enc,
    uint64_t counter, uint64_t *primed)
{
	*primed = 0;
	if (seal_use_nonce(ctx, iv, enc, counter, primed) != 0) {
		ERR_clear_error();
		return;
	}
	*primed = counter;
}

/*
 * Encrypt len bytes at data in place under the nonce set in ctx with the
 * header as AAD and write the tag at tag.  0, or -1 if OpenSSL failed.
 */
static int
seal_encrypt(EVP_CIPHER_CTX *ctx, const uint8_t *hdr, uint8_t *data,
    size_t len, uint8_t *tag)
{
	uint8_t fin[16];
	int n;

	if (!EVP_EncryptUpdate(ctx, NULL, &n, hdr, WIRE_UDP_HDR_LEN) ||
	    n != WIRE_UDP_HDR_LEN)
		return -1;
	if (!EVP_EncryptUpdate(ctx, data, &n, data, (int)len) ||
	    n != (int)len)
		return -1;
	if (!EVP_EncryptFinal_ex(ctx, fin, &n) || n != 0)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, WIRE_UDP_TAG_LEN,
	    tag) <= 0)
		return -1;
	return 0;
}

/*
 * Decrypt len bytes at data in place under the nonce set in ctx and
 * verify the tag.  0 if it verifies, 1 if it does not, -1 if OpenSSL
 * failed before the check.
 */
static int
seal_decrypt(EVP_CIPHER_CTX *ctx, const uint8_t *hdr, uint8_t *data,
    size_t len, const uint8_t *tag)
{
	uint8_t fin[16];
	int n;

	if (!EVP_DecryptUpdate(ctx, NULL, &n, hdr, WIRE_UDP_HDR_LEN) ||
	    n != WIRE_UDP_HDR_LEN)
		return -1;
	if (!EVP_DecryptUpdate(ctx, data, &n, data, (int)len) ||
	    n != (int)len)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, WIRE_UDP_TAG_LEN,
	    (void *)tag) <= 0)
		return -1;
	/* A wrong tag is the only way Final fails once the rest worked. */
	if (EVP_DecryptFinal_ex(ctx, fin, &n) <= 0)
		return 1;
	return 0;
}

/* May a datagram carry this kind with this many payload bytes? */
static enum seal_drop
seal_inner_check(uint8_t kind, size_t payload_len)
{
	switch (kind) {
	case WIRE_INNER_RAW:
	case WIRE_INNER_ZLIB:
		return payload_len > 0 ? SEAL_OK : SEAL_DROP_INNER_LEN;
	case WIRE_INNER_KEEPALIVE:
		return payload_len == 0 ? SEAL_OK : SEAL_DROP_INNER_LEN;
	}
	return SEAL_DROP_KIND;
}

/* --- Sender ------------------------------------------------------------ */

/* An unkeyed sender with its limits and its one cipher context. */
int
seal_tx_init(struct seal_tx *tx, const struct seal_limits *lim, char *err,
    size_t errlen)
{
	memset(tx, 0, sizeof(*tx));
	if (seal_limits_set(&tx->lim, lim, err, errlen) != 0)
		return -1;
	if ((tx->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return log_ossl_err(err, errlen, "EVP_CIPHER_CTX_new");
	return 0;
}

/* Free the context and wipe everything, key and iv included. */
void
seal_tx_free(struct seal_tx *tx)
{
	EVP_CIPHER_CTX_free(tx->ctx);
	OPENSSL_cleanse(tx, sizeof(*tx));
}

/* Key the sender for a new, higher epoch; on failure it sends nothing. */
int
seal_tx_install(struct seal_tx *tx, uint64_t epoch, enum wire_cipher c,
    const struct seal_keys *k, enum seal_role role, uint64_t now_ms,
    char *err, size_t errlen)
{
	enum seal_dir d = role == SEAL_ROLE_CLIENT ? SEAL_DIR_C2S :
	    SEAL_DIR_S2C;

	if (tx->ctx == NULL || k == NULL || seal_cipher_name(c) == NULL)
		return util_err(err, errlen, "seal_tx_install: bad arguments");
	if (tx->begun && epoch <= tx->epoch)
		return util_err(err, errlen, "send epoch %llu after %llu: "
		    "epochs only grow", (unsigned long long)epoch,
		    (unsigned long long)tx->epoch);
	/* The old key goes whatever happens: a failed install sends nothing. */
	tx->keyed = false;
	tx->primed = 0;
	OPENSSL_cleanse(tx->iv, sizeof(tx->iv));
	tx->begun = true;
	tx->epoch = epoch;
	if (seal_ctx_key(tx->ctx, c, k->key[d], 1, err, errlen) != 0)
		return -1;
	memcpy(tx->iv, k->iv[d], SEAL_IV_LEN);
	tx->counter = 1;
	tx->installed_ms = now_ms;
	tx->keyed = true;
	return 0;
}

/* Header, kind, in-place encryption and tag; see seal.h. */
int
seal_tx_seal(struct seal_tx *tx, uint32_t receiver_id, uint8_t kind,
    uint8_t *buf, size_t cap, size_t payload_len, size_t *outlen,
    uint64_t now_ms)
{
	uint64_t counter;

	if (!tx->keyed)
		return SEAL_E_NOKEY;
	if (buf == NULL || outlen == NULL ||
	    seal_inner_check(kind, payload_len) != SEAL_OK ||
	    payload_len > SEAL_PAYLOAD_MAX ||
	    cap < payload_len + SEAL_OVERHEAD)
		return SEAL_E_ARG;
	counter = tx->counter;
	if (counter >= tx->lim.reject_after_packets)
		return SEAL_E_LIMIT;
	if (seal_elapsed(now_ms, tx->installed_ms) >= tx->lim.reject_after_ms)
		return SEAL_E_EXPIRED;

	buf[WIRE_UDP_OFF_TYPE] = WIRE_UDP_TYPE_DATA;
	buf[WIRE_UDP_OFF_EPOCH] = (uint8_t)tx->epoch;
	buf[WIRE_UDP_OFF_FLAGS] = 0;
	buf[WIRE_UDP_OFF_RSV] = 0;
	pkt_store32(buf + WIRE_UDP_OFF_RECEIVER, receiver_id);
	pkt_store64(buf + WIRE_UDP_OFF_COUNTER, counter);
	buf[WIRE_UDP_HDR_LEN] = kind;

	/* Spend the counter first: a nonce OpenSSL may have used is gone. */
	tx->counter++;
	if (seal_use_nonce(tx->ctx, tx->iv, 1, counter, &tx->primed) != 0 ||
	    seal_encrypt(tx->ctx, buf, buf + WIRE_UDP_HDR_LEN,
	    WIRE_INNER_HDR_LEN + payload_len,
	    buf + WIRE_UDP_PAYLOAD_OFF + payload_len) != 0) {
		ERR_clear_error();
		return SEAL_E_CRYPTO;
	}
	if (tx->counter < tx->lim.reject_after_packets)
		seal_prime(tx->ctx, tx->iv, 1, tx->counter, &tx->primed);
	*outlen = payload_len + SEAL_OVERHEAD;
	return 0;
}

/* Packet or time limit reached (or nothing installed yet). */
bool
seal_tx_rekey_due(const struct seal_tx *tx, uint64_t now_ms)
{
	if (!tx->keyed)
		return true;
	return tx->counter >= tx->lim.rekey_after_packets ||
	    seal_elapsed(now_ms, tx->installed_ms) >= tx->lim.rekey_after_ms;
}

bool
seal_tx_epoch(const struct seal_tx *tx, uint64_t *epoch)
{
	if (!tx->keyed)
		return false;
	*epoch = tx->epoch;
	return true;
}

/* Test hook: jump the counter forward (never back). */
bool
seal_tx_test_set_counter(struct seal_tx *tx, uint64_t counter)
{
	if (!tx->keyed || counter < tx->counter)
		return false;
	tx->counter = counter;
	return true;
}

/* --- Receiver ---------------------------------------------------------- */

/* Forget an epoch's key, keeping its (allocated) context for reuse. */
static void
seal_rx_epoch_wipe(struct seal_rx_epoch *e)
{
	EVP_CIPHER_CTX *ctx = e->ctx;

	/*
	 * For provider ciphers reset frees the key schedule and cannot fail;
	 * the check only keeps a stray error out of the queue.
	 */
	if (ctx != NULL && !EVP_CIPHER_CTX_reset(ctx))
		ERR_clear_error();
	OPENSSL_cleanse(e, sizeof(*e));
	e->ctx = ctx;
	replay_init(&e->window);
}

/* An empty receiver with its three cipher contexts. */
int
seal_rx_init(struct seal_rx *rx, const struct seal_limits *lim, char *err,
    size_t errlen)
{
	memset(rx, 0, sizeof(*rx));
	if (seal_limits_set(&rx->lim, lim, err, errlen) != 0)
		return -1;
	if ((rx->prev.ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (rx->cur.ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (rx->next.ctx = EVP_CIPHER_CTX_new()) == NULL) {
		log_ossl_err(err, errlen, "EVP_CIPHER_CTX_new");
		seal_rx_free(rx);
		return -1;
	}
	replay_init(&rx->prev.window);
	replay_init(&rx->cur.window);
	replay_init(&rx->next.window);
	return 0;
}

/* Free the contexts and wipe every epoch. */
void
seal_rx_free(struct seal_rx *rx)
{
	EVP_CIPHER_CTX_free(rx->prev.ctx);
	EVP_CIPHER_CTX_free(rx->cur.ctx);
	EVP_CIPHER_CTX_free(rx->next.ctx);
	OPENSSL_cleanse(rx, sizeof(*rx));
}

/* Install the first epoch as current, or current + 1 as next. */
int
seal_rx_install(struct seal_rx *rx, uint64_t epoch, enum wire_cipher c,
    const struct seal_keys *k, enum seal_role role, uint64_t now_ms,
    char *err, size_t errlen)
{
	/* We open what the peer sealed: the other direction. */
	enum seal_dir d = role == SEAL_ROLE_CLIENT ? SEAL_DIR_S2C :
	    SEAL_DIR_C2S;
	struct seal_rx_epoch *e;

	if (rx->cur.ctx == NULL || k == NULL || seal_cipher_name(c) == NULL)
		return util_err(err, errlen, "seal_rx_install: bad arguments");
	if (!rx->cur.keyed)
		e = &rx->cur;
	else if (rx->next.keyed)
		return util_err(err, errlen, "receive epoch %llu: epoch %llu "
		    "is still waiting to be used", (unsigned long long)epoch,
		    (unsigned long long)rx->next.epoch);
	else if (rx->cur.epoch == UINT64_MAX || epoch != rx->cur.epoch + 1)
		return util_err(err, errlen, "receive epoch %llu after %llu: "
		    "only the next one can be installed",
		    (unsigned long long)epoch,
		    (unsigned long long)rx->cur.epoch);
	else
		e = &rx->next;
	seal_rx_epoch_wipe(e);
	if (seal_ctx_key(e->ctx, c, k->key[d], 0, err, errlen) != 0)
		return -1;
	memcpy(e->iv, k->iv[d], SEAL_IV_LEN);
	e->epoch = epoch;
	e->installed_ms = now_ms;
	e->current_ms = now_ms;
	e->keyed = true;
	return 0;
}

/* The installed epoch whose low byte is b; current first, it is usual. */
static struct seal_rx_epoch *
seal_rx_find(struct seal_rx *rx, uint8_t b)
{
	if (rx->cur.keyed && (uint8_t)rx->cur.epoch == b)
		return &rx->cur;
	if (rx->next.keyed && (uint8_t)rx->next.epoch == b)
		return &rx->next;
	if (rx->prev.keyed && (uint8_t)rx->prev.epoch == b)
		return &rx->prev;
	return NULL;
}

/* Is e still within its reject time and, if previous, its grace? */
static bool
seal_rx_alive(const struct seal_rx *rx, const struct seal_rx_epoch *e,
    uint64_t now_ms)
{
	if (seal_elapsed(now_ms, e->installed_ms) >= rx->lim.reject_after_ms)
		return false;
	if (e == &rx->prev &&
	    seal_elapsed(now_ms, rx->cur.current_ms) >= rx->lim.grace_ms)
		return false;
	return true;
}

/*
 * The peer has started using next: next becomes current, current becomes
 * previous (its grace starts now), and the old previous is wiped into the
 * free slot.
 */
static void
seal_rx_promote(struct seal_rx *rx, uint64_t now_ms)
{
	struct seal_rx_epoch old = rx->prev;

	rx->prev = rx->cur;
	rx->cur = rx->next;
	rx->next = old;
	OPENSSL_cleanse(&old, sizeof(old));
	seal_rx_epoch_wipe(&rx->next);
	rx->cur.current_ms = now_ms;
	rx->stats.promoted++;
}

/* Map a replay verdict to its drop reason. */
static enum seal_drop
seal_replay_drop(int r)
{
	switch (r) {
	case REPLAY_OK:
		return SEAL_OK;
	case REPLAY_DUP:
		return SEAL_DROP_REPLAY;
	case REPLAY_TOO_OLD:
		return SEAL_DROP_TOO_OLD;
	case REPLAY_ZERO:
		return SEAL_DROP_ZERO;
	case REPLAY_LIMIT:
		return SEAL_DROP_LIMIT;
	}
	return SEAL_DROP_ERROR;
}

/* Every check up to the window update, cheapest first (seal.h). */
static enum seal_drop
seal_rx_open_checked(struct seal_rx *rx, uint32_t receiver_id, uint8_t *buf,
    size_t len, size_t max_len, struct seal_opened *out, uint64_t now_ms)
{
	struct seal_rx_epoch *e;
	enum seal_drop d;
	uint64_t counter;
	size_t ctlen, plen;
	bool newest;
	int r;

	if (len < WIRE_UDP_MIN_LEN)
		return SEAL_DROP_SHORT;
	if (len > max_len || len > WIRE_UDP_MAX_LEN)
		return SEAL_DROP_LONG;
	if (buf[WIRE_UDP_OFF_TYPE] != WIRE_UDP_TYPE_DATA)
		return SEAL_DROP_TYPE;
	if (buf[WIRE_UDP_OFF_FLAGS] != 0)
		return SEAL_DROP_FLAGS;
	if (buf[WIRE_UDP_OFF_RSV] != 0)
		return SEAL_DROP_RESERVED;
	if (pkt_load32(buf + WIRE_UDP_OFF_RECEIVER) != receiver_id)
		return SEAL_DROP_RECEIVER;
	if ((e = seal_rx_find(rx, buf[WIRE_UDP_OFF_EPOCH])) == NULL)
		return SEAL_DROP_EPOCH;
	if (!seal_rx_alive(rx, e, now_ms))
		return SEAL_DROP_EXPIRED;
	counter = pkt_load64(buf + WIRE_UDP_OFF_COUNTER);
	if ((d = seal_replay_drop(replay_check(&e->window, counter))) !=
	    SEAL_OK)
		return d;

	ctlen = len - WIRE_UDP_HDR_LEN - WIRE_UDP_TAG_LEN;
	r = seal_use_nonce(e->ctx, e->iv, 0, counter, &e->primed) != 0 ? -1 :
	    seal_decrypt(e->ctx, buf, buf + WIRE_UDP_HDR_LEN, ctlen,
	    buf + len - WIRE_UDP_TAG_LEN);
	if (r != 0) {
		/* Unauthenticated plaintext is never left for anyone. */
		OPENSSL_cleanse(buf + WIRE_UDP_HDR_LEN, ctlen);
		ERR_clear_error();
		return r > 0 ? SEAL_DROP_AUTH : SEAL_DROP_ERROR;
	}

	/* Authenticated: the counter is used up, whatever the inside is. */
	newest = counter > replay_highest(&e->window);
	if ((d = seal_replay_drop(replay_accept(&e->window, counter))) !=
	    SEAL_OK)
		return d;
	e->opened++;
	out->promoted = false;
	if (e == &rx->next) {
		seal_rx_promote(rx, now_ms);
		e = &rx->cur;
		out->promoted = true;
	}
	/* In order, the next one to come is the one after the highest. */
	if (replay_highest(&e->window) + 1 < rx->lim.reject_after_packets)
		seal_prime(e->ctx, e->iv, 0, replay_highest(&e->window) + 1,
		    &e->primed);

	plen = ctlen - WIRE_INNER_HDR_LEN;
	if ((d = seal_inner_check(buf[WIRE_UDP_HDR_LEN], plen)) != SEAL_OK)
		return d;
	out->kind = buf[WIRE_UDP_HDR_LEN];
	out->payload = buf + WIRE_UDP_PAYLOAD_OFF;
	out->payload_len = plen;
	out->epoch = e->epoch;
	out->counter = counter;
	/* Only the current epoch may move the peer: a withheld datagram of
	 * the previous one, released later, is authentic but stale. */
	out->newest = newest && e == &rx->cur;
	return SEAL_OK;
}

/* Open one datagram and count the verdict. */
enum seal_drop
seal_rx_open(struct seal_rx *rx, uint32_t receiver_id, uint8_t *buf,
    size_t len, size_t max_len, struct seal_opened *out, uint64_t now_ms)
{
	struct seal_opened o;
	enum seal_drop d;

	if (buf == NULL)
		len = 0;
	memset(&o, 0, sizeof(o));
	d = seal_rx_open_checked(rx, receiver_id, buf, len, max_len, &o,
	    now_ms);
	if (d != SEAL_OK) {
		rx->stats.drop[d]++;
		return d;
	}
	rx->stats.opened++;
	rx->stats.opened_bytes += o.payload_len;
	if (out != NULL)
		*out = o;
	return SEAL_OK;
}

/* Wipe the previous epoch once open would refuse it anyway. */
void
seal_rx_expire(struct seal_rx *rx, uint64_t now_ms)
{
	if (rx->prev.keyed && !seal_rx_alive(rx, &rx->prev, now_ms))
		seal_rx_epoch_wipe(&rx->prev);
}

bool
seal_rx_epoch(const struct seal_rx *rx, uint64_t *epoch)
{
	if (!rx->cur.keyed)
		return false;
	*epoch = rx->cur.epoch;
	return true;
}

bool
seal_rx_has_next(const struct seal_rx *rx)
{
	return rx->next.keyed;
}

void
seal_rx_drop_next(struct seal_rx *rx)
{
	if (rx->next.keyed)
		seal_rx_epoch_wipe(&rx->next);
}

/* The window of an installed epoch by its full number. */
const struct replay *
seal_rx_window(const struct seal_rx *rx, uint64_t epoch)
{
	if (rx->cur.keyed && rx->cur.epoch == epoch)
		return &rx->cur.window;
	if (rx->next.keyed && rx->next.epoch == epoch)
		return &rx->next.window;
	if (rx->prev.keyed && rx->prev.epoch == epoch)
		return &rx->prev.window;
	return NULL;
}

/* The count of an installed epoch by its full number. */
uint64_t
seal_rx_opened(const struct seal_rx *rx, uint64_t epoch)
{
	const struct seal_rx_epoch *e = NULL;

	if (rx->cur.keyed && rx->cur.epoch == epoch)
		e = &rx->cur;
	else if (rx->next.keyed && rx->next.epoch == epoch)
		e = &rx->next;
	else if (rx->prev.keyed && rx->prev.epoch == epoch)
		e = &rx->prev;
	return e != NULL ? e->opened : 0;
}

const struct seal_stats *
seal_rx_stats(const struct seal_rx *rx)
{
	return &rx->stats;
}
