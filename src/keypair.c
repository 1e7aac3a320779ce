/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * X25519 through OpenSSL's EVP interface: raw 32-byte keys in, raw
 * 32-byte keys and secrets out.  Every OpenSSL object is freed (and
 * OpenSSL wipes private key material itself) before returning.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "keypair.h"
#include "log.h"
#include "util.h"

int
keypair_generate(uint8_t priv[KEYPAIR_LEN], char *err, size_t errlen)
{
	if (key_generate(priv, err, errlen) != 0)
		return -1;
	/* RFC 7748, 5: X25519 ignores these bits; store what it uses. */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	return 0;
}

int
keypair_public(const uint8_t priv[KEYPAIR_LEN], uint8_t pub[KEYPAIR_LEN],
    char *err, size_t errlen)
{
	EVP_PKEY *k;
	size_t len = KEYPAIR_LEN;
	int r = -1;

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
	    KEYPAIR_LEN);
	if (k == NULL)
		log_ossl_err(err, errlen, "X25519 private key");
	else if (EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 ||
	    len != KEYPAIR_LEN)
		log_ossl_err(err, errlen, "X25519 public key");
	else
		r = 0;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}

int
keypair_shared(const uint8_t priv[KEYPAIR_LEN],
    const uint8_t peer[KEYPAIR_LEN], uint8_t out[KEYPAIR_LEN], char *err,
    size_t errlen)
{
	static const uint8_t zero[KEYPAIR_LEN];
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = KEYPAIR_LEN;
	int r = -1;

	if ((mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
	    KEYPAIR_LEN)) == NULL ||
	    (theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    KEYPAIR_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, theirs) != 1) {
		log_ossl_err(err, errlen, "X25519");
		goto out;
	}
	/* OpenSSL refuses an all-zero result itself; check it anyway. */
	if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != KEYPAIR_LEN ||
	    CRYPTO_memcmp(out, zero, KEYPAIR_LEN) == 0) {
		util_err(err, errlen, "the public key is a point of small "
		    "order (no usable shared secret); it cannot be a real "
		    "peer's key");
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		OPENSSL_cleanse(out, KEYPAIR_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(mine);
	ERR_clear_error();
	return r;
}
