/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key derivation: HKDF (RFC 5869) and scrypt (RFC 7914) through OpenSSL's
 * EVP_KDF, for the handshake's PSKs and the UDP channel's epoch keys
 * alike.  Pure functions: bytes in, bytes out.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "kdf.h"
#include "log.h"
#include "util.h"

/*
 * One HKDF step with SHA-256 through EVP_KDF: mode EXTRACT_ONLY (key =
 * IKM, salt) or EXPAND_ONLY (key = PRK, info).  Empty salt or info are
 * left out, which RFC 5869 defines as zeros and empty respectively.
 */
static int
kdf_hkdf(int mode, const uint8_t *key, size_t keylen,
    const void *salt, size_t saltlen, const void *info, size_t infolen,
    uint8_t *out, size_t outlen, const char *what, char *err, size_t errlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[6], *p = params;
	int r = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL) {
		log_ossl_err(err, errlen, "HKDF unavailable");
		goto out;
	}
	if ((kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		log_ossl_err(err, errlen, "EVP_KDF_CTX_new (HKDF)");
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)key, keylen);
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	if (infolen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) <= 0) {
		OPENSSL_cleanse(out, outlen);
		log_ossl_err(err, errlen, what);
		goto out;
	}
	r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

int
kdf_hkdf_expand(const uint8_t *prk, size_t prklen, const void *info,
    size_t infolen, uint8_t *out, size_t outlen, char *err, size_t errlen)
{
	if (prk == NULL || prklen == 0 || out == NULL || outlen == 0 ||
	    (info == NULL && infolen > 0))
		return util_err(err, errlen, "HKDF-Expand: bad arguments");
	/* RFC 5869: at most 255 blocks of output. */
	if (outlen > 255 * 32)
		return util_err(err, errlen, "HKDF-Expand: %zu bytes asked, "
		    "at most %d possible", outlen, 255 * 32);
	return kdf_hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prklen,
	    NULL, 0, info, infolen, out, outlen, "HKDF-Expand", err, errlen);
}

int
kdf_hkdf_extract(const void *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, uint8_t prk[KDF_PRK_LEN], char *err, size_t errlen)
{
	/* OpenSSL's HKDF insists on a key; an empty salt means zeros. */
	if (ikm == NULL || ikmlen == 0 || prk == NULL ||
	    (salt == NULL && saltlen > 0))
		return util_err(err, errlen, "HKDF-Extract: bad arguments");
	return kdf_hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikmlen,
	    salt, saltlen, NULL, 0, prk, KDF_PRK_LEN, "HKDF-Extract", err, errlen);
}

/* scrypt through EVP_KDF, with the memory cap raised for N=2^17. */
int
kdf_scrypt(const void *pass, size_t passlen, const void *salt,
    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
    size_t outlen, char *err, size_t errlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[7], *pp = params;
	uint64_t maxmem = KDF_SCRYPT_MAXMEM;
	/* OSSL_PARAM wants a pointer even for an empty string. */
	static const unsigned char empty[1];
	int rc = -1;

	if ((pass == NULL && passlen > 0) || (salt == NULL && saltlen > 0) ||
	    out == NULL || outlen == 0)
		return util_err(err, errlen, "scrypt: bad arguments");
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL) {
		log_ossl_err(err, errlen, "scrypt unavailable");
		goto out;
	}
	if ((kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		log_ossl_err(err, errlen, "EVP_KDF_CTX_new (scrypt)");
		goto out;
	}
	*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)(passlen > 0 ? pass : empty), passlen);
	*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(saltlen > 0 ? salt : empty), saltlen);
	*pp++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*pp++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*pp++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*pp++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
	    &maxmem);
	*pp = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) <= 0) {
		OPENSSL_cleanse(out, outlen);
		log_ossl_err(err, errlen, "scrypt");
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}
