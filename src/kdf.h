/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key derivation functions, SHA-256 based: HKDF-Extract and HKDF-Expand
 * (RFC 5869) and scrypt (RFC 7914).  Each returns 0, or -1 with the reason
 * in err; an output that could not be made is wiped.
 */
#ifndef TAPLINE_KDF_H
#define TAPLINE_KDF_H

#include <stddef.h>
#include <stdint.h>

/* HKDF-Extract's output, a SHA-256 digest. */
#define KDF_PRK_LEN 32
/* OpenSSL's memory cap for scrypt; N=2^17, r=8 needs 128 MiB and a bit. */
#define KDF_SCRYPT_MAXMEM ((uint64_t)256 << 20)

/* HKDF-Expand (RFC 5869) with SHA-256; prk is used as is (no Extract). */
int kdf_hkdf_expand(const uint8_t *prk, size_t prklen, const void *info,
    size_t infolen, uint8_t *out, size_t outlen, char *err, size_t errlen);
/* HKDF-Extract (RFC 5869) with SHA-256: 32 bytes of PRK.  0 or -1. */
int kdf_hkdf_extract(const void *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[KDF_PRK_LEN], char *err,
    size_t errlen);

/*
 * scrypt (RFC 7914) with explicit parameters, so that tests can use small
 * ones; memory is capped at KDF_SCRYPT_MAXMEM.
 */
int kdf_scrypt(const void *pass, size_t passlen, const void *salt,
    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
    size_t outlen, char *err, size_t errlen);

#endif
