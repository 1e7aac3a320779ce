/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AEAD seal and open of UDP data datagrams, and their key epochs.
 * Sans-I/O: bytes and a clock value in, bytes and a
 * verdict out; no sockets, no logging, no allocation per packet.
 *
 * Datagram (a contract, to the byte):
 *
 *   0      1      2      3      4..7            8..15
 *   0x01 | epoch| 0x00 | 0x00 | receiver_id BE | counter BE
 *   AEAD(kind(1) | payload) | tag(16)
 *
 *   AAD   = the 16 header bytes
 *   nonce = iv XOR (00 00 00 00 || counter as 8 bytes BE)   (12 bytes)
 *   epoch = low 8 bits of the 64-bit epoch number
 *   kind  = WIRE_INNER_RAW or WIRE_INNER_ZLIB (payload not empty) or
 *           WIRE_INNER_KEEPALIVE (payload empty)
 *
 * Ciphers: AES-256-GCM and ChaCha20-Poly1305, both 32-byte keys, 12-byte
 * nonces and 16-byte tags, through EVP only.
 *
 * Key schedule (a contract: changing a label or a length breaks interop).
 * For epoch number n (0 for the keys of the first handshake):
 *
 *   exporter = SSL_export_keying_material(ssl, 32,
 *                  "EXPORTER-tapline-udp-v1",
 *                  context = n as 8 bytes BE, use_context = 1)
 *   dh       = the 32-byte X25519 shared secret of the REKEY/REKEY_ACK
 *              exchange that made epoch n; absent for epoch 0
 *   prk      = HKDF-Extract(SHA-256, salt = exporter,
 *                           IKM = dh, or 32 zero bytes when absent)
 *   for d in "c->s" (client to server), "s->c" (server to client):
 *     key[d] = HKDF-Expand(SHA-256, prk, "tapline udp v1 key " || d, 32)
 *     iv[d]  = HKDF-Expand(SHA-256, prk, "tapline udp v1 iv " || d, 12)
 *
 * (labels without a terminating NUL; || is concatenation.)  seal_derive()
 * computes it; the caller does the export and the X25519 exchange.
 * Epoch 0's keys depend on the exporter alone, which is unique to one TLS
 * connection: a new connection must start with a fresh seal_tx/seal_rx,
 * and within one the epoch number only grows, so a key never meets the
 * same counter twice.
 *
 * Counters and limits, per epoch and direction: the sender numbers
 * datagrams from 1, never reuses a counter and refuses to seal at
 * counter >= reject_after_packets; it reports "rekey due" once the next
 * counter reaches rekey_after_packets or rekey_after_ms have passed since
 * the epoch was installed.  The receiver keeps up to three epochs:
 *
 *   previous  accepted for grace_ms after current became current, and
 *             never after its own reject_after_ms
 *   current   accepted until reject_after_ms after it was installed
 *   next      installed by the rekey exchange before the peer uses it;
 *             the first datagram that authenticates under it makes it
 *             current (and the old current previous)
 *
 * each with its own replay window (replay.h) and install time.  Any other
 * epoch byte is dropped.  Every function that needs time takes now_ms, a
 * monotonic clock in milliseconds (util_now_ms(), or a test's own).
 *
 * Objects are not thread-safe; one seal_tx and one seal_rx per session and
 * thread.  Their fields are private to seal.c: use the functions.
 */
#ifndef TAPLINE_SEAL_H
#define TAPLINE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "pkt.h"
#include "replay.h"
#include "wire.h"

/* Key schedule inputs and outputs. */
#define SEAL_EXPORTER_LABEL "EXPORTER-tapline-udp-v1"
#define SEAL_EXPORTER_LEN 32
#define SEAL_EXPORTER_CONTEXT_LEN 8	/* the epoch number, BE */
#define SEAL_DH_LEN 32
#define SEAL_PRK_LEN 32
#define SEAL_KEY_LEN WIRE_UDP_KEY_LEN
#define SEAL_IV_LEN WIRE_UDP_NONCE_LEN

/* Bytes a datagram adds around its payload: header, kind, tag (33). */
#define SEAL_OVERHEAD (WIRE_UDP_PAYLOAD_OFF + WIRE_UDP_TAG_LEN)
/* Largest payload one datagram carries. */
#define SEAL_PAYLOAD_MAX (WIRE_UDP_MAX_LEN - SEAL_OVERHEAD)

_Static_assert(SEAL_OVERHEAD == WIRE_UDP_MIN_LEN, "overhead is a keepalive");
_Static_assert(WIRE_HEADROOM >= WIRE_UDP_PAYLOAD_OFF, "seal fits in front");
_Static_assert(WIRE_TAILROOM >= WIRE_UDP_TAG_LEN, "tag fits behind");

/* Directions of the key schedule; index into struct seal_keys. */
enum seal_dir {
	SEAL_DIR_C2S = 0,	/* "c->s": client seals, server opens */
	SEAL_DIR_S2C = 1,	/* "s->c" */
};

/* Which end we are: a client seals c->s and opens s->c. */
enum seal_role {
	SEAL_ROLE_CLIENT = 0,
	SEAL_ROLE_SERVER = 1,
};

/* The keys of one epoch, both directions.  Wipe with seal_keys_wipe. */
struct seal_keys {
	uint8_t key[2][SEAL_KEY_LEN];
	uint8_t iv[2][SEAL_IV_LEN];
};

/*
 * Time and packet limits.  seal_limits_default() gives the protocol's
 * values from wire.h; tests (and only tests) lower them.  The receiver's
 * replay window always refuses counters >= WIRE_REJECT_AFTER_PACKETS
 * whatever reject_after_packets says, which only stops our sender.
 */
struct seal_limits {
	uint64_t rekey_after_packets;	/* WIRE_REKEY_AFTER_PACKETS */
	uint64_t reject_after_packets;	/* WIRE_REJECT_AFTER_PACKETS */
	uint64_t rekey_after_ms;	/* WIRE_REKEY_AFTER_SECONDS * 1000 */
	uint64_t reject_after_ms;	/* WIRE_REJECT_AFTER_SECONDS * 1000 */
	uint64_t grace_ms;		/* WIRE_EPOCH_GRACE_SECONDS * 1000 */
};

/*
 * Why seal_rx_open dropped a datagram, in the order the checks run
 * (cheapest first).  seal_drop_name() gives the name for status output.
 */
enum seal_drop {
	SEAL_OK = 0,		/* "ok": accepted */
	SEAL_DROP_SHORT,	/* "short": < WIRE_UDP_MIN_LEN */
	SEAL_DROP_LONG,		/* "long": > the caller's maximum */
	SEAL_DROP_TYPE,		/* "type": not WIRE_UDP_TYPE_DATA */
	SEAL_DROP_FLAGS,	/* "flags": not 0 */
	SEAL_DROP_RESERVED,	/* "reserved": not 0 */
	SEAL_DROP_RECEIVER,	/* "receiver": not our receiver id */
	SEAL_DROP_EPOCH,	/* "epoch": not previous, current or next */
	SEAL_DROP_EXPIRED,	/* "expired": known epoch, past its time */
	SEAL_DROP_ZERO,		/* "zero": counter 0 */
	SEAL_DROP_LIMIT,	/* "limit": counter >= reject limit */
	SEAL_DROP_REPLAY,	/* "replay": counter seen in the window */
	SEAL_DROP_TOO_OLD,	/* "too_old": counter behind the window */
	SEAL_DROP_AUTH,		/* "auth": the tag does not verify */
	SEAL_DROP_KIND,		/* "kind": unknown inner kind */
	SEAL_DROP_INNER_LEN,	/* "inner_len": data empty, keepalive not */
	SEAL_DROP_ERROR,	/* "error": OpenSSL failed (not the peer) */
	SEAL_DROP_COUNT
};

/* Receive counters for the status command; they only ever grow. */
struct seal_stats {
	uint64_t opened;		/* datagrams accepted */
	uint64_t opened_bytes;		/* their payload bytes */
	uint64_t promoted;		/* next epochs that became current */
	uint64_t drop[SEAL_DROP_COUNT];	/* by reason; [SEAL_OK] is 0 */
};

/* Sender errors (seal_tx_seal); the caller counts them. */
#define SEAL_E_ARG (-1)		/* bad kind or length, or no room */
#define SEAL_E_NOKEY (-2)	/* no epoch installed */
#define SEAL_E_LIMIT (-3)	/* counter at the reject limit: rekey */
#define SEAL_E_EXPIRED (-4)	/* epoch past reject_after_ms: rekey */
#define SEAL_E_CRYPTO (-5)	/* OpenSSL failed */

/* Sending state of the current epoch (private fields). */
struct seal_tx {
	EVP_CIPHER_CTX *ctx;	/* keyed with the current epoch's key */
	uint8_t iv[SEAL_IV_LEN];
	uint64_t epoch;
	uint64_t counter;	/* next counter to use */
	uint64_t primed;	/* the counter whose nonce ctx holds, or 0 */
	uint64_t installed_ms;
	bool keyed;		/* an epoch is installed and usable */
	bool begun;		/* an epoch was installed: epoch is valid */
	struct seal_limits lim;
};

/* One receive epoch (private fields). */
struct seal_rx_epoch {
	EVP_CIPHER_CTX *ctx;	/* preallocated; keyed when `keyed` */
	uint8_t iv[SEAL_IV_LEN];
	uint64_t epoch;
	uint64_t installed_ms;
	uint64_t current_ms;	/* when it became current */
	uint64_t primed;	/* the counter whose nonce ctx holds, or 0 */
	bool keyed;
	struct replay window;
	uint64_t opened;	/* datagrams that authenticated under it */
};

/* Receiving state: up to three epochs (private fields). */
struct seal_rx {
	struct seal_rx_epoch prev, cur, next;
	struct seal_limits lim;
	struct seal_stats stats;
};

/* What seal_rx_open found in an accepted datagram. */
struct seal_opened {
	uint8_t kind;		/* enum wire_inner_kind */
	uint8_t *payload;	/* into the caller's buffer, decrypted */
	size_t payload_len;
	uint64_t epoch;		/* full epoch number */
	uint64_t counter;
	/*
	 * The counter was above the highest seen in its epoch, and that
	 * epoch is the current one: the only datagrams that may move a
	 * peer's address (roaming).
	 */
	bool newest;
	bool promoted;		/* it made the next epoch current */
};

/* --- Key schedule ------------------------------------------------------ */

/* HKDF-Extract (RFC 5869) with SHA-256: prk = HMAC(salt, ikm). */
int seal_hkdf_extract(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, uint8_t prk[SEAL_PRK_LEN], char *err, size_t errlen);

/*
 * The keys of one epoch from its exporter value and X25519 shared secret
 * (dh may be NULL: epoch 0).  0, or -1 with a message in err (out wiped).
 */
int seal_derive(const uint8_t exporter[SEAL_EXPORTER_LEN],
    const uint8_t *dh, struct seal_keys *out, char *err, size_t errlen);

/* The exporter context of epoch n: n as 8 bytes big-endian. */
void seal_exporter_context(uint64_t epoch,
    uint8_t ctx[SEAL_EXPORTER_CONTEXT_LEN]);

/* Wipe keys (OPENSSL_cleanse). */
void seal_keys_wipe(struct seal_keys *k);

/* --- Common ------------------------------------------------------------ */

/* The protocol's limits, from wire.h. */
void seal_limits_default(struct seal_limits *lim);

/* "AES-256-GCM", "ChaCha20-Poly1305", or NULL (not a concrete cipher). */
const char *seal_cipher_name(enum wire_cipher c);

/* The status name of a drop reason ("short", "auth", ...). */
const char *seal_drop_name(enum seal_drop d);

/* --- Sender ------------------------------------------------------------ */

/*
 * Make an empty sender; lim NULL means seal_limits_default().  Allocates
 * its cipher context now so that nothing is allocated later.  0, or -1
 * with a message (bad limits, out of memory).
 */
int seal_tx_init(struct seal_tx *tx, const struct seal_limits *lim,
    char *err, size_t errlen);

/* Wipe the key and free the context; tx may then be init'ed again. */
void seal_tx_free(struct seal_tx *tx);

/*
 * Start sending under epoch with k's key for our direction (role), with
 * the counter back at 1.  The epoch number must grow with every install,
 * so that a key and counter pair can never come back.  0, or -1.
 */
int seal_tx_install(struct seal_tx *tx, uint64_t epoch, enum wire_cipher c,
    const struct seal_keys *k, enum seal_role role, uint64_t now_ms,
    char *err, size_t errlen);

/*
 * Seal one datagram in place.  buf has cap bytes and already holds the
 * payload_len bytes of payload at buf + WIRE_UDP_PAYLOAD_OFF (so a device
 * read can land there directly); the header and kind are written in
 * front, the payload is encrypted where it is and the tag is appended.
 * On success *outlen = payload_len + SEAL_OVERHEAD bytes at buf are the
 * datagram and the counter has moved on.  Returns 0 or SEAL_E_*; the
 * buffer may then hold garbage.  Only SEAL_E_CRYPTO uses up a counter
 * (OpenSSL may have got as far as using the nonce).
 */
int seal_tx_seal(struct seal_tx *tx, uint32_t receiver_id, uint8_t kind,
    uint8_t *buf, size_t cap, size_t payload_len, size_t *outlen,
    uint64_t now_ms);

/*
 * Time to start a rekey: the next counter has reached
 * rekey_after_packets, or rekey_after_ms have passed since install.  Also
 * true before the first install.
 */
bool seal_tx_rekey_due(const struct seal_tx *tx, uint64_t now_ms);

/* The epoch being sent, or false before the first install. */
bool seal_tx_epoch(const struct seal_tx *tx, uint64_t *epoch);

/*
 * TEST ONLY: make counter the next one used, to reach the packet limits
 * without sealing 2^27 datagrams.  Moving it backwards would reuse
 * nonces, so it is refused (false); never call this outside tests.
 */
bool seal_tx_test_set_counter(struct seal_tx *tx, uint64_t counter);

/* --- Receiver ---------------------------------------------------------- */

/*
 * Make an empty receiver; lim NULL means seal_limits_default().  Allocates
 * its three cipher contexts now.  0, or -1 with a message.
 */
int seal_rx_init(struct seal_rx *rx, const struct seal_limits *lim,
    char *err, size_t errlen);

/* Wipe every key and free the contexts. */
void seal_rx_free(struct seal_rx *rx);

/*
 * Install the keys of epoch for the peer's direction (the opposite of
 * role).  The first install makes epoch current (usually 0); after that
 * only current + 1 may be installed, as next, and only while there is no
 * next.  0, or -1 with a message (nothing changed).
 */
int seal_rx_install(struct seal_rx *rx, uint64_t epoch, enum wire_cipher c,
    const struct seal_keys *k, enum seal_role role, uint64_t now_ms,
    char *err, size_t errlen);

/*
 * Check and open one datagram of len bytes in place, cheapest check
 * first: length (against max_len, which the caller derives from the
 * MTU), header fields, receiver id, epoch, replay pre-check, AEAD open,
 * window update, inner frame.  SEAL_OK with *out filled (out may be
 * NULL; the payload is decrypted where it was, at buf +
 * WIRE_UDP_PAYLOAD_OFF), or the reason, which is also counted in the
 * stats.
 *
 * A datagram dropped before or at the AEAD open changes no state (after a
 * failed tag the buffer's payload bytes are zeroed, never released).  One
 * that authenticates has used its counter: it moves the window, and
 * promotes a next epoch, even if its inner frame is then refused.
 */
enum seal_drop seal_rx_open(struct seal_rx *rx, uint32_t receiver_id,
    uint8_t *buf, size_t len, size_t max_len, struct seal_opened *out,
    uint64_t now_ms);

/*
 * Forget the previous epoch's key once its grace or reject time is over
 * (a timer calls this; open already refuses it without the call).
 */
void seal_rx_expire(struct seal_rx *rx, uint64_t now_ms);

/* The current epoch, or false before the first install. */
bool seal_rx_epoch(const struct seal_rx *rx, uint64_t *epoch);

/* True while a next epoch is installed and not yet used by the peer. */
bool seal_rx_has_next(const struct seal_rx *rx);
/* Forget the next epoch installed ahead (a rekey that will be redone). */
void seal_rx_drop_next(struct seal_rx *rx);

/* The replay window of an installed epoch, or NULL (tests, status). */
const struct replay *seal_rx_window(const struct seal_rx *rx,
    uint64_t epoch);

/*
 * Datagrams that authenticated under an installed epoch (0 if it is not
 * installed): what the peer really sent in it, unlike the window's
 * highest counter, which one datagram far ahead can move at will.
 */
uint64_t seal_rx_opened(const struct seal_rx *rx, uint64_t epoch);

/* The receive counters. */
const struct seal_stats *seal_rx_stats(const struct seal_rx *rx);

#endif
