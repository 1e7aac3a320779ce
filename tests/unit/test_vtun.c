/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vtun.c: the vtund 3.0 handshake lines, flag strings, challenge crypto
 * and data ciphers against known answers (computed with the openssl
 * command line: `openssl enc -bf-ecb -K $(md5 of the passwd) -nopad`),
 * frame headers, the port message, the zlib stream, and malformed input
 * refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vtun.h"
#include "wire.h"

static int
setup(void **state)
{
	char err[256];

	*state = vtun_lib_new(err, sizeof(err));
	if (*state == NULL)
		print_error("%s\n", err);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	vtun_lib_free(*state);
	return 0;
}

/* A message as text, for comparisons (every message is NUL-padded). */
static const char *
text(const uint8_t *msg)
{
	static char buf[WIRE_VTUN_MSG_LEN + 1];

	memcpy(buf, msg, WIRE_VTUN_MSG_LEN);
	buf[WIRE_VTUN_MSG_LEN] = '\0';
	return buf;
}

/* A message from text, NUL-padded as vtund's print_p sends it. */
static void
msg(uint8_t *out, const char *t)
{
	memset(out, 0, WIRE_VTUN_MSG_LEN);
	memcpy(out, t, strlen(t) < WIRE_VTUN_MSG_LEN ? strlen(t) :
	    WIRE_VTUN_MSG_LEN);
}

static void
test_lines(void **state)
{
	uint8_t m[WIRE_VTUN_MSG_LEN], chal[16], back[16];
	char name[65];
	int i;

	vtun_msg_greeting(m);
	assert_true(vtun_msg_is_greeting(m));
	assert_int_equal(m[WIRE_VTUN_MSG_LEN - 1], 0);
	msg(m, "VTUN server ver 3.X 06/25/2016\n");
	assert_true(vtun_msg_is_greeting(m));
	msg(m, "SSH-2.0-OpenSSH\n");
	assert_false(vtun_msg_is_greeting(m));

	assert_int_equal(vtun_msg_host("cobra", m), 0);
	assert_string_equal(text(m), "HOST: cobra\n");
	assert_int_equal(vtun_parse_host(m, name, sizeof(name)), 0);
	assert_string_equal(name, "cobra");
	assert_int_equal(vtun_msg_host("a b", m), -1);
	assert_int_equal(vtun_msg_host("", m), -1);
	assert_int_equal(vtun_msg_host(
	    "01234567890123456789012345678901234567890123", m), -1);
	/* 43 bytes: the newline is cut, the name arrives whole. */
	assert_int_equal(vtun_msg_host(
	    "0123456789012345678901234567890123456789012", m), 0);
	assert_int_equal(vtun_parse_host(m, name, sizeof(name)), 0);
	assert_string_equal(name, "0123456789012345678901234567890123456789012");

	for (i = 0; i < 16; i++)
		chal[i] = (uint8_t)(i * 17 + 3);
	vtun_msg_ok_chal(chal, m);
	assert_string_equal(text(m),
	    "OK CHAL: <adbecfdgehfigjhkiljmknlompoapbac>\n");
	assert_int_equal(vtun_parse_ok_chal(m, back), 0);
	assert_memory_equal(chal, back, 16);
	vtun_msg_chal(chal, m);
	assert_string_equal(text(m),
	    "CHAL: <adbecfdgehfigjhkiljmknlompoapbac>\n");
	assert_int_equal(vtun_parse_chal(m, back), 0);
	assert_memory_equal(chal, back, 16);

	vtun_msg_err(m);
	assert_string_equal(text(m), "ERR\n");
}

static void
test_lines_malformed(void **state)
{
	static const char *const hosts[] = { "", "HOST:", "HOST: ",
		"HOST: a b", "host: cobra", "HOSTcobra", "HOST: a:b",
		"\x16\x03\x01\x02\x00\x01" };
	static const char *const chals[] = { "CHAL: <>",
		"CHAL: <abcdefghijklmnopabcdefghijklmnop", /* no '>' */
		"CHAL: <abcdefghijklmnopabcdefghijklmnoq>", /* 'q' */
		"CHAL: <abcdefghijklmnopabcdefghijklmno>", /* 31 */
		"CHAL: <abcdefghijklmnopabcdefghijklmnopa>", /* 33 */
		"CHAL abcdefghijklmnopabcdefghijklmnop", "OK CHAL: <" };
	uint8_t m[WIRE_VTUN_MSG_LEN], chal[16];
	char name[8];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(hosts); i++) {
		msg(m, hosts[i]);
		assert_int_equal(vtun_parse_host(m, name, sizeof(name)), -1);
	}
	/* 44 bytes after "HOST:": longer than any HOST line vtund sends. */
	msg(m, "HOST:abcdefghijabcdefghijabcdefghijabcdefghijabcd");
	{
		char big[65];

		assert_int_equal(vtun_parse_host(m, big, sizeof(big)), -1);
	}
	msg(m, "HOST: muchtoolongforeight");
	assert_int_equal(vtun_parse_host(m, name, sizeof(name)), -1);
	/* A full 50-byte message without any NUL is cut at byte 49. */
	memset(m, 'A', sizeof(m));
	memcpy(m, "HOST: ", 6);
	assert_int_equal(vtun_parse_host(m, name, sizeof(name)), -1);
	for (i = 0; i < UTIL_ARRAY_LEN(chals); i++) {
		msg(m, chals[i]);
		assert_int_equal(vtun_parse_chal(m, chal), -1);
		assert_int_equal(vtun_parse_ok_chal(m, chal), -1);
	}
}

static void
test_flags(void **state)
{
	static const struct {
		struct vtun_flags f;
		const char *s;
	} rows[] = {
		{ { .udp = false, .type = DEV_TUN }, "<Tu>" },
		{ { .udp = true, .type = DEV_TAP, .keepalive = true },
		    "<UeK>" },
		{ { .type = DEV_TUN, .zlevel = 9, .keepalive = true,
		    .cipher = VTUN_CIPHER_BF128ECB }, "<TuC9KE1>" },
		{ { .udp = true, .type = DEV_TUN, .cipher =
		    VTUN_CIPHER_AES256ECB, .shape = 512 }, "<UuS512E13>" },
	};
	struct vtun_flags f;
	uint8_t m[WIRE_VTUN_MSG_LEN];
	char s[40], err[200];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		assert_int_equal(vtun_flags_format(&rows[i].f, s, sizeof(s)),
		    0);
		assert_string_equal(s, rows[i].s);
		assert_int_equal(vtun_flags_parse(s, &f, err, sizeof(err)), 0);
		assert_memory_equal(&f, &rows[i].f, sizeof(f));
		assert_int_equal(vtun_msg_ok_flags(&rows[i].f, m), 0);
		assert_int_equal(vtun_parse_ok_flags(m, &f, err, sizeof(err)),
		    0);
		assert_memory_equal(&f, &rows[i].f, sizeof(f));
	}
	/* vtund writes C0 for "compress zlib" without a level: zlib 1. */
	assert_int_equal(vtun_flags_parse("<TuC0>", &f, err, sizeof(err)), 0);
	assert_int_equal(f.zlevel, 1);
	assert_int_equal(vtun_flags_parse("<TuF>", &f, err, sizeof(err)), 0);
	f = (struct vtun_flags){ .cipher = 2 };
	assert_int_equal(vtun_flags_format(&f, s, sizeof(s)), -1);
}

static void
test_flags_refused(void **state)
{
	static const struct {
		const char *s, *why;
	} rows[] = {
		{ "<TtK>", "tty" }, { "<Tp>", "pipe" }, { "<TuL9>", "lzo" },
		{ "<TuE>", "cipher 0" }, { "<TuE2>", "cipher 2" },
		{ "<TuE999>", "cipher 999" }, { "<TuC>", "zlib level" },
		{ "<TuC10>", "zlib level" }, { "<Tu", "not terminated" },
		{ "<u>", "protocol" }, { "<T>", "protocol or type" },
		{ "<TuX>", "unknown" }, { "TuK", "no flags" },
		{ "<TuS9999999999>", "speed" },
	};
	struct vtun_flags f;
	uint8_t m[WIRE_VTUN_MSG_LEN];
	char err[200];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		err[0] = '\0';
		assert_int_equal(vtun_flags_parse(rows[i].s, &f, err,
		    sizeof(err)), -1);
		if (strstr(err, rows[i].why) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", rows[i].s, err,
			    rows[i].why);
	}
	msg(m, "ERR\n");
	assert_int_equal(vtun_parse_ok_flags(m, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "denied"));
}

static void
test_chal_known_answer(void **state)
{
	static const uint8_t want[16] = { 0x5b, 0xcd, 0x00, 0xee, 0xa3, 0xc9,
		0x06, 0xb1, 0xe0, 0x95, 0x5e, 0x85, 0xe9, 0x31, 0x32, 0x12 };
	uint8_t chal[16];
	int i;

	for (i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	assert_int_equal(vtun_chal_crypt(*state, "secret", chal, true), 0);
	assert_memory_equal(chal, want, 16);
	assert_int_equal(vtun_chal_crypt(*state, "secret", chal, false), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(chal[i], i);
	/* A wrong password does not give the challenge back. */
	memcpy(chal, want, 16);
	assert_int_equal(vtun_chal_crypt(*state, "secreT", chal, false), 0);
	assert_int_not_equal(chal[0] | chal[1] << 8, 0x0100);
}

static void
test_crypt_known_answers(void **state)
{
	static const struct {
		int cipher;
		const char *in;
		size_t outlen;
		uint8_t want[16];
	} rows[] = {
		{ VTUN_CIPHER_BF128ECB, "hello", 8, { 0xf9, 0x92, 0xbf, 0xe3,
		    0x16, 0x0d, 0x4d, 0xdd } },
		{ VTUN_CIPHER_AES128ECB, "hello", 16, { 0xda, 0xae, 0x45,
		    0xd7, 0x6f, 0x32, 0x91, 0x65, 0x62, 0x9d, 0x83, 0x9f,
		    0x0c, 0x7f, 0x00, 0x9f } },
		{ VTUN_CIPHER_AES256ECB, "hello", 16, { 0x33, 0x01, 0x84,
		    0xf2, 0xb6, 0x8f, 0xd6, 0x15, 0x5b, 0x0a, 0x37, 0x99,
		    0x7f, 0xe7, 0x42, 0xd8 } },
	};
	uint8_t out[64], back[64];
	struct vtun_crypt *c;
	char err[200];
	size_t i, n, m;

	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		c = vtun_crypt_new(*state, rows[i].cipher, "secret", err,
		    sizeof(err));
		assert_non_null(c);
		assert_int_equal(vtun_crypt_seal(c, (const uint8_t *)
		    rows[i].in, 5, out, sizeof(out), &n), 0);
		assert_int_equal(n, rows[i].outlen);
		assert_memory_equal(out, rows[i].want, n);
		assert_int_equal(vtun_crypt_open(c, out, n, back,
		    sizeof(back), &m), 0);
		assert_int_equal(m, 5);
		assert_memory_equal(back, "hello", 5);
		vtun_crypt_free(c);
	}
}

static void
test_crypt_round_trip(void **state)
{
	static const int ciphers[] = { VTUN_CIPHER_BF128ECB,
		VTUN_CIPHER_AES128ECB, VTUN_CIPHER_AES256ECB };
	uint8_t in[WIRE_VTUN_PACKET_MAX], out[WIRE_VTUN_BODY_MAX],
	    back[WIRE_VTUN_BODY_MAX];
	struct vtun_crypt *c, *other;
	size_t i, len, n, m;
	char err[200];

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	for (i = 0; i < UTIL_ARRAY_LEN(ciphers); i++) {
		c = vtun_crypt_new(*state, ciphers[i], "a passphrase", err,
		    sizeof(err));
		other = vtun_crypt_new(*state, ciphers[i], "another", err,
		    sizeof(err));
		assert_non_null(c);
		assert_non_null(other);
		for (len = 1; len <= sizeof(in); len += len < 40 ? 1 : 97) {
			assert_int_equal(vtun_crypt_seal(c, in, len, out,
			    sizeof(out), &n), 0);
			assert_true(n > len && n <= len +
			    vtun_crypt_overhead(c));
			assert_int_equal(vtun_crypt_open(c, out, n, back,
			    sizeof(back), &m), 0);
			assert_int_equal(m, len);
			assert_memory_equal(back, in, len);
		}
		/* Malformed: empty, not whole blocks, too long for out. */
		assert_int_equal(vtun_crypt_open(c, out, 0, back,
		    sizeof(back), &m), -1);
		assert_int_equal(vtun_crypt_open(c, out, 7, back,
		    sizeof(back), &m), -1);
		assert_int_equal(vtun_crypt_open(c, out, 32, back, 16, &m),
		    -1);
		assert_int_equal(vtun_crypt_seal(c, in, 0, out, sizeof(out),
		    &n), -1);
		assert_int_equal(vtun_crypt_seal(c, in, 16, out, 16, &n), -1);
		/* Another passphrase never gives the packet back. */
		assert_int_equal(vtun_crypt_seal(c, in, 100, out,
		    sizeof(out), &n), 0);
		if (vtun_crypt_open(other, out, n, back, sizeof(back),
		    &m) == 0)
			assert_memory_not_equal(back, in, m < 100 ? m : 100);
		vtun_crypt_free(c);
		vtun_crypt_free(other);
	}
	assert_null(vtun_crypt_new(*state, 2, "x", err, sizeof(err)));
	assert_non_null(strstr(err, "not implemented"));
	assert_null(vtun_crypt_new(*state, VTUN_CIPHER_NONE, "x", err,
	    sizeof(err)));
}

static void
test_crypt_bad_padding(void **state)
{
	uint8_t blk[16], out[16];
	struct vtun_crypt *c;
	char err[200];
	size_t n;
	int pad;

	c = vtun_crypt_new(*state, VTUN_CIPHER_AES128ECB, "secret", err,
	    sizeof(err));
	assert_non_null(c);
	/* Seal a block whose last byte claims 0, then 17: both refused. */
	for (pad = 0; pad <= 17; pad += 17) {
		memset(blk, 0x41, sizeof(blk));
		blk[15] = (uint8_t)pad;
		/* seal pads to 32; take the first block, which is ours */
		{
			uint8_t two[32];

			assert_int_equal(vtun_crypt_seal(c, blk, 16, two,
			    sizeof(two), &n), 0);
			assert_int_equal(n, 32);
			assert_int_equal(vtun_crypt_open(c, two, 16, out,
			    sizeof(out), &n), -1);
		}
	}
	vtun_crypt_free(c);
}

static void
test_hdr(void **state)
{
	static const struct {
		uint8_t b[2];
		enum vtun_frame_kind k;
		size_t len;
	} rows[] = {
		{ { 0x05, 0xdc }, VTUN_FRAME_DATA, 1500 },
		{ { 0x08, 0x64 }, VTUN_FRAME_DATA, WIRE_VTUN_BODY_MAX },
		{ { 0x08, 0x65 }, VTUN_FRAME_OVERSIZE, 2149 },
		{ { 0x0f, 0xff }, VTUN_FRAME_OVERSIZE, 4095 },
		{ { 0x00, 0x00 }, VTUN_FRAME_EMPTY, 0 },
		{ { 0x20, 0x00 }, VTUN_FRAME_ECHO_REQ, 0 },
		{ { 0x40, 0x00 }, VTUN_FRAME_ECHO_REP, 0 },
		{ { 0x10, 0x00 }, VTUN_FRAME_CLOSE, 0 },
		{ { 0x80, 0x00 }, VTUN_FRAME_BAD, 0 },
		/* flags never carry a body on the stream */
		{ { 0x20, 0x10 }, VTUN_FRAME_ECHO_REQ, 0 },
		{ { 0x30, 0x00 }, VTUN_FRAME_UNKNOWN, 0 },
		{ { 0xf0, 0x01 }, VTUN_FRAME_UNKNOWN, 0 },
	};
	uint8_t b[2];
	size_t i, len;

	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		assert_int_equal(vtun_hdr_get(rows[i].b, &len), rows[i].k);
		assert_int_equal(len, rows[i].len);
	}
	vtun_hdr_put(b, 0, 1500);
	assert_int_equal(b[0], 0x05);
	assert_int_equal(b[1], 0xdc);
	vtun_hdr_put(b, WIRE_VTUN_ECHO_REP, 0);
	assert_int_equal(b[0], 0x40);
	assert_int_equal(b[1], 0x00);
}

static void
test_port(void **state)
{
	uint8_t b[2];
	uint16_t be, le;

	vtun_port_put(b, 40000);
	vtun_port_get(b, &be, &le);
	assert_int_equal(be, 40000);
	assert_int_equal(le, 0x409c);
	b[0] = 0x40;
	b[1] = 0x9c;
	vtun_port_get(b, &be, &le);
	assert_int_equal(le, 40000);
}

static void
test_zlib(void **state)
{
	uint8_t in[1500], z[WIRE_VTUN_BODY_MAX], out[WIRE_VTUN_PACKET_MAX + 1];
	struct vtun_zlib *a, *b;
	char err[200];
	size_t i, n, m;
	int round;

	assert_null(vtun_zlib_new(0, err, sizeof(err)));
	assert_null(vtun_zlib_new(10, err, sizeof(err)));
	a = vtun_zlib_new(9, err, sizeof(err));
	b = vtun_zlib_new(1, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)"tapline vtund legacy "[i % 21];
	/* One stream across frames: later frames refer to earlier ones. */
	for (round = 0; round < 5; round++) {
		assert_int_equal(vtun_zlib_deflate(a, in, sizeof(in), z,
		    sizeof(z), &n), 0);
		assert_true(n < sizeof(in));
		assert_int_equal(vtun_zlib_inflate(b, z, n, out, sizeof(out),
		    &m), 0);
		assert_int_equal(m, sizeof(in));
		assert_memory_equal(out, in, m);
	}
	/* Too small an output (a bomb for the caller's limit). */
	assert_int_equal(vtun_zlib_deflate(a, in, sizeof(in), z, sizeof(z),
	    &n), 0);
	assert_int_equal(vtun_zlib_inflate(b, z, n, out, 100, &m), -1);
	vtun_zlib_free(b);
	/* Garbage into a fresh stream. */
	b = vtun_zlib_new(1, err, sizeof(err));
	memset(z, 0xff, 64);
	assert_int_equal(vtun_zlib_inflate(b, z, 64, out, sizeof(out), &m),
	    -1);
	assert_int_equal(vtun_zlib_inflate(b, z, 0, out, sizeof(out), &m),
	    -1);
	vtun_zlib_free(a);
	vtun_zlib_free(b);
}

static void
test_cipher_names(void **state)
{
	assert_string_equal(vtun_cipher_name(VTUN_CIPHER_NONE), "none");
	assert_string_equal(vtun_cipher_name(13), "aes256ecb");
	assert_null(vtun_cipher_name(2));
	assert_int_equal(vtun_cipher_from_name("blowfish128ecb"), 1);
	assert_int_equal(vtun_cipher_from_name("aes128ecb"), 9);
	assert_int_equal(vtun_cipher_from_name("aes128cbc"), -1);
}

/*
 * A legacy client's check of the server's FLAGS against its own cipher:
 * vtund sends them in clear, so a man in the middle can strip or lower
 * the cipher.  Strength: none < blowfish128ecb < aes128ecb < aes256ecb.
 */
static void
test_cipher_check(void **state)
{
	static const struct {
		const char *line;	/* the server's */
		int required;		/* the session's */
		int rc;
		const char *names;	/* both in the reason, when refused */
	} rows[] = {
		{ "OK FLAGS: <TuK>\n", VTUN_CIPHER_AES128ECB, -1,
		    "none aes128ecb" },
		{ "OK FLAGS: <TuKE1>\n", VTUN_CIPHER_AES128ECB, -1,
		    "blowfish128ecb aes128ecb" },
		{ "OK FLAGS: <TuKE9>\n", VTUN_CIPHER_AES128ECB, 0, NULL },
		{ "OK FLAGS: <UeC9KE13>\n", VTUN_CIPHER_AES128ECB, 0, NULL },
		{ "OK FLAGS: <TuK>\n", VTUN_CIPHER_AES256ECB, -1,
		    "none aes256ecb" },
		{ "OK FLAGS: <TuE1>\n", VTUN_CIPHER_AES256ECB, -1,
		    "blowfish128ecb aes256ecb" },
		{ "OK FLAGS: <TuE9>\n", VTUN_CIPHER_AES256ECB, -1,
		    "aes128ecb aes256ecb" },
		{ "OK FLAGS: <TuE13>\n", VTUN_CIPHER_AES256ECB, 0, NULL },
		{ "OK FLAGS: <UuS512>\n", VTUN_CIPHER_BF128ECB, -1,
		    "none blowfish128ecb" },
		{ "OK FLAGS: <TuE1>\n", VTUN_CIPHER_BF128ECB, 0, NULL },
		{ "OK FLAGS: <TuE9>\n", VTUN_CIPHER_BF128ECB, 0, NULL },
		{ "OK FLAGS: <TuK>\n", VTUN_CIPHER_NONE, 0, NULL },
		{ "OK FLAGS: <TeE13>\n", VTUN_CIPHER_NONE, 0, NULL },
	};
	uint8_t m[WIRE_VTUN_MSG_LEN];
	char err[200], names[64], *a, *save = NULL;
	struct vtun_flags f;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		msg(m, rows[i].line);
		assert_int_equal(vtun_parse_ok_flags(m, &f, err, sizeof(err)),
		    0);
		err[0] = '\0';
		if (vtun_cipher_check(f.cipher, rows[i].required, err,
		    sizeof(err)) != rows[i].rc)
			fail_msg("%s against %s: not %d", rows[i].line,
			    vtun_cipher_name(rows[i].required), rows[i].rc);
		if (rows[i].names == NULL)
			continue;
		util_strlcpy(names, rows[i].names, sizeof(names));
		for (a = strtok_r(names, " ", &save); a != NULL;
		    a = strtok_r(NULL, " ", &save))
			if (strstr(err, a) == NULL)
				fail_msg("\"%s\" does not name %s", err, a);
	}
	/* A cipher the legacy code does not implement is never enough. */
	assert_int_equal(vtun_cipher_check(2, VTUN_CIPHER_NONE, err,
	    sizeof(err)), -1);
	assert_int_equal(vtun_cipher_check(VTUN_CIPHER_AES256ECB, 2, err,
	    sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_lines_malformed),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_flags_refused),
		cmocka_unit_test(test_chal_known_answer),
		cmocka_unit_test(test_crypt_known_answers),
		cmocka_unit_test(test_crypt_round_trip),
		cmocka_unit_test(test_crypt_bad_padding),
		cmocka_unit_test(test_hdr),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_zlib),
		cmocka_unit_test(test_cipher_names),
		cmocka_unit_test(test_cipher_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
