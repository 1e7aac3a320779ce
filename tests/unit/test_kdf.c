/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kdf.c: the RFC 5869 (HKDF) and RFC 7914 (scrypt) test vectors, and the
 * errors for output that cannot be made.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "hex.h"
#include "kdf.h"
#include "util.h"

static void
test_hkdf_rfc5869(void **state)
{
	/* RFC 5869 A.1-A.3: PRK as printed there, then Expand. */
	static const struct {
		const char *prk, *info, *okm;
	} v[] = {
		{ "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2"
		  "b3e5",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4"
		  "c5bf34007208d5b887185865" },
		{ "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15f"
		  "c244",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccd"
		  "cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaeb"
		  "ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19af"
		  "a97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9"
		  "aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293c"
		  "cb04",
		  "",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c73"
		  "8d2d9d201395faa4b61a96c8" },
	};
	uint8_t prk[32], info[80], okm[82], out[82];
	char err[256];
	size_t i, infolen, okmlen;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(v); i++) {
		infolen = strlen(v[i].info) / 2;
		okmlen = strlen(v[i].okm) / 2;
		hex_decode(v[i].prk, prk, sizeof(prk));
		hex_decode(v[i].info, info, infolen);
		hex_decode(v[i].okm, okm, okmlen);
		memset(out, 0, sizeof(out));
		assert_int_equal(kdf_hkdf_expand(prk, sizeof(prk), info,
		    infolen, out, okmlen, err, sizeof(err)), 0);
		assert_memory_equal(out, okm, okmlen);
	}
	/* More than 255 blocks cannot be expanded. */
	assert_int_equal(kdf_hkdf_expand(prk, sizeof(prk), NULL, 0, out,
	    255 * 32 + 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 8160"));
}

static void
test_scrypt_rfc7914(void **state)
{
	uint8_t out[64];
	char err[256];

	(void)state;
	/* RFC 7914 section 12, first and second vectors. */
	assert_int_equal(kdf_scrypt("", 0, "", 0, 16, 1, 1, out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_hex(out, sizeof(out),
	    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
	assert_int_equal(kdf_scrypt("password", 8, "NaCl", 4, 1024, 8,
	    16, out, sizeof(out), err, sizeof(err)), 0);
	assert_hex(out, sizeof(out),
	    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
	/* N must be a power of two: an error, and the output is wiped. */
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(kdf_scrypt("password", 8, "NaCl", 4, 1000, 8,
	    1, out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scrypt"));
	assert_int_equal(ERR_peek_error(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_scrypt_rfc7914),
	};

	return cmocka_run_group_tests_name("kdf", tests, NULL, NULL);
}
