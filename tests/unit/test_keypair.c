/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keypair.c: X25519 against RFC 7748's test vectors (section 6.1, also
 * what `openssl pkeyutl -derive` prints for them), generated keys stored
 * clamped, and public keys of small order refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hex.h"
#include "keypair.h"

/* RFC 7748, 6.1. */
#define ALICE_PRIV \
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB \
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV \
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB \
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED \
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void
test_rfc7748(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], got[32];
	char err[256];

	(void)state;
	hex_decode(ALICE_PRIV, a, 32);
	hex_decode(BOB_PRIV, b, 32);
	hex_decode(SHARED, want, 32);
	assert_int_equal(keypair_public(a, apub, err, sizeof(err)), 0);
	hex_decode(ALICE_PUB, got, 32);
	assert_memory_equal(apub, got, 32);
	assert_int_equal(keypair_public(b, bpub, err, sizeof(err)), 0);
	hex_decode(BOB_PUB, got, 32);
	assert_memory_equal(bpub, got, 32);
	assert_int_equal(keypair_shared(a, bpub, got, err, sizeof(err)), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(keypair_shared(b, apub, got, err, sizeof(err)), 0);
	assert_memory_equal(got, want, 32);
}

static void
test_generate(void **state)
{
	uint8_t p1[32], p2[32], pub1[32], pub2[32], s1[32], s2[32];
	char err[256];

	(void)state;
	assert_int_equal(keypair_generate(p1, err, sizeof(err)), 0);
	assert_int_equal(keypair_generate(p2, err, sizeof(err)), 0);
	assert_memory_not_equal(p1, p2, 32);
	/* Stored clamped (RFC 7748, 5), as WireGuard stores its keys. */
	assert_int_equal(p1[0] & 7, 0);
	assert_int_equal(p1[31] & 0xc0, 0x40);
	assert_int_equal(keypair_public(p1, pub1, err, sizeof(err)), 0);
	assert_int_equal(keypair_public(p2, pub2, err, sizeof(err)), 0);
	assert_int_equal(keypair_shared(p1, pub2, s1, err, sizeof(err)), 0);
	assert_int_equal(keypair_shared(p2, pub1, s2, err, sizeof(err)), 0);
	assert_memory_equal(s1, s2, 32);
}

/* u = 0 and u = 1 are of small order: every private key gives zeros. */
static void
test_small_order(void **state)
{
	uint8_t a[32], pub[32], out[32], zero[32] = { 0 };
	char err[256];

	(void)state;
	hex_decode(ALICE_PRIV, a, 32);
	memset(pub, 0, sizeof(pub));
	err[0] = '\0';
	assert_int_equal(keypair_shared(a, pub, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "small order"));
	assert_memory_equal(out, zero, 32);
	pub[0] = 1;
	assert_int_equal(keypair_shared(a, pub, out, err, sizeof(err)), -1);
	assert_memory_equal(out, zero, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_small_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
