/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UDP data channel of one session: keys per epoch from
 * the TLS exporter, rekeying over the TLS control channel with a fresh
 * X25519 share, and the sealing and opening of datagrams (seal.c).
 *
 * Rekeying, started by the client only (so the two sides never race):
 *   client  REKEY(n+1, client share)          over TLS
 *   server  installs n+1 for receiving, keeps sending under n,
 *           REKEY_ACK(n+1, server share)      over TLS
 *   client  installs n+1 both ways, sends under n+1 at once (a keepalive
 *           first, so that the server learns of it without waiting)
 *   server  the first datagram under n+1 makes it current; from then on
 *           it sends under n+1 too
 * No datagram is lost across the switch: each side receives under the
 * new epoch before the other sends under it, and the old epoch stays
 * open for the grace period.  The client starts the next rekey only once
 * it has received under the current epoch (the server has switched).
 */
#ifndef TAPLINE_UDPCHAN_H
#define TAPLINE_UDPCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "seal.h"

/* REKEY and REKEY_ACK bodies: epoch(8, BE) | X25519 public key(32). */
#define UDP_REKEY_LEN (8 + 32)

struct udp_chan;

/*
 * Limits for tests: TAPLINE_TEST_REKEY="PACKETS:MILLISECONDS" lowers the
 * rekey limits (and the reject limits with them, keeping their ratio);
 * only honoured when TAPLINE_TEST_MODE=1 is also set, and logged loudly.
 */
void udp_chan_limits(struct seal_limits *lim);

/*
 * A channel for one TLS connection: derives epoch 0 from its exporter and
 * installs it both ways.  my_rid is the receiver id the peer puts in
 * datagrams to us; peer_rid the one we put in datagrams to it.
 */
struct udp_chan *udp_chan_new(SSL *ssl, enum seal_role role,
    enum wire_cipher cipher, uint32_t my_rid, uint32_t peer_rid,
    const struct seal_limits *lim, char *err, size_t errlen);
void udp_chan_free(struct udp_chan *ch);

/* Seal in place; see seal_tx_seal.  0 or SEAL_E_*. */
int udp_chan_seal(struct udp_chan *ch, uint8_t kind, uint8_t *buf, size_t cap,
    size_t len, size_t *outlen, uint64_t now_ms);

/*
 * Open in place; on a server, a datagram that makes a new epoch current
 * also switches our sending to it.
 */
enum seal_drop udp_chan_open(struct udp_chan *ch, uint8_t *buf, size_t len,
    size_t max_len, struct seal_opened *out, uint64_t now_ms);

/* Client: is a rekey due and may it start now? */
bool udp_chan_rekey_wanted(const struct udp_chan *ch, uint64_t now_ms);
/* Client: make a share and the REKEY body.  0 or -1 + err. */
int udp_chan_rekey_start(struct udp_chan *ch, uint8_t body[UDP_REKEY_LEN],
    char *err, size_t errlen);
/* Server: answer a REKEY (checks epoch and share).  0 or -1 + err. */
int udp_chan_rekey_answer(struct udp_chan *ch, const uint8_t *body,
    size_t len, uint8_t ack[UDP_REKEY_LEN], uint64_t now_ms, char *err,
    size_t errlen);
/* Client: finish with the server's REKEY_ACK.  0 or -1 + err. */
int udp_chan_rekey_finish(struct udp_chan *ch, const uint8_t *body,
    size_t len, uint64_t now_ms, char *err, size_t errlen);

/*
 * The session moved to a new TLS control connection (re-attach): later
 * epochs are derived from ssl's exporter, on both ends alike.  A rekey
 * that was under way is dropped; the client asks for that epoch again,
 * and the server accepts it once more (its REKEY_ACK may have been lost
 * with the old connection, the client never used those keys).
 */
void udp_chan_reattach(struct udp_chan *ch, SSL *ssl);

/* Wipe the keys of an epoch whose grace is over. */
void udp_chan_expire(struct udp_chan *ch, uint64_t now_ms);
uint32_t udp_chan_my_rid(const struct udp_chan *ch);
const struct seal_stats *udp_chan_stats(const struct udp_chan *ch);
/* Epochs completed (for logs and tests). */
uint64_t udp_chan_rekeys(const struct udp_chan *ch);

/*
 * TEST ONLY: make counter the next one our sender uses (see
 * seal_tx_test_set_counter), so that a test can send a datagram far ahead
 * of the ones before it.  False if it would move backwards.
 */
bool udp_chan_test_set_counter(struct udp_chan *ch, uint64_t counter);

/* "aes-256-gcm" when this CPU has AES instructions, else ChaCha20. */
enum wire_cipher udp_cipher_auto(void);

#endif
