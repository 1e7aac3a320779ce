/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host key pairs: X25519 (RFC 7748) private keys, their public keys and
 * the shared secret of two of them.  A private key file has the form of
 * a session key file (key.h: 32 bytes, base64, mode 0600); the bytes are
 * stored clamped, as WireGuard stores them, so `wg pubkey` and
 * `tapline pubkey` agree on the same file.
 */
#ifndef TAPLINE_KEYPAIR_H
#define TAPLINE_KEYPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define KEYPAIR_LEN KEY_LEN

/* A new private key from the kernel CSPRNG, clamped.  0 or -1 + err. */
int keypair_generate(uint8_t priv[KEYPAIR_LEN], char *err, size_t errlen);

/* The public key of priv.  0 or -1 + err. */
int keypair_public(const uint8_t priv[KEYPAIR_LEN], uint8_t pub[KEYPAIR_LEN],
    char *err, size_t errlen);

/*
 * X25519(priv, peer).  -1 + err when OpenSSL fails or when the result is
 * all zeros: peer is then a point of small order, which an attacker
 * could use to force a known secret, and is refused (RFC 7748, 6.1).
 */
int keypair_shared(const uint8_t priv[KEYPAIR_LEN],
    const uint8_t peer[KEYPAIR_LEN], uint8_t out[KEYPAIR_LEN], char *err,
    size_t errlen);

#endif
