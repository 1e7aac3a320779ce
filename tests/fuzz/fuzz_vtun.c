/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a vtund peer sends a legacy = "vtun" session (vtun.c): the 50-byte
 * handshake lines, then frames, read as vtunsess.c reads them (a TCP
 * stream or datagrams), through the ECB cipher and the zlib stream.
 *
 * Input: sel(1) | bytes.
 *   sel & 0x01: the bytes are handshake messages, 50 bytes each; every
 *     parser sees every message.  A HOST name parsed is a valid name that
 *     builds the same line back; a challenge parsed formats back to the
 *     same challenge; flags parsed format back and parse to the same.
 *   else frames: sel & 0x02 datagrams (len(2) | bytes each), else one
 *     TCP stream; sel >> 2 & 3 picks the cipher (none, blowfish128ecb,
 *     aes128ecb, aes256ecb), sel & 0x10 turns zlib on.  Lengths never
 *     exceed vtund's limits, and nothing decrypts or inflates past its
 *     buffer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_common.h"
#include "vtun.h"
#include "wire.h"

static struct vtun_lib *fuzz_lib;
static struct vtun_crypt *fuzz_crypt[4];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const int ciphers[4] = { 0, VTUN_CIPHER_BF128ECB,
		VTUN_CIPHER_AES128ECB, VTUN_CIPHER_AES256ECB };
	char err[256];
	int i;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	if ((fuzz_lib = vtun_lib_new(err, sizeof(err))) == NULL)
		abort();
	for (i = 1; i < 4; i++)
		if ((fuzz_crypt[i] = vtun_crypt_new(fuzz_lib, ciphers[i],
		    "fuzz passphrase", err, sizeof(err))) == NULL)
			abort();
	return 0;
}

/* Every parser on one message, with round trips of what it accepts. */
static void
fuzz_vtun_msg(const uint8_t *m)
{
	uint8_t out[WIRE_VTUN_MSG_LEN], chal[WIRE_VTUN_CHAL_LEN],
	    back[WIRE_VTUN_CHAL_LEN];
	char name[CONF_NAME_MAX + 1], name2[CONF_NAME_MAX + 1], err[200],
	    fl[40];
	struct vtun_flags f, g;

	(void)vtun_msg_is_greeting(m);
	if (vtun_parse_host(m, name, sizeof(name)) == 0) {
		FUZZ_CHECK(name[0] != '\0' && strpbrk(name, " :\r\n") ==
		    NULL);
		FUZZ_CHECK(vtun_msg_host(name, out) == 0);
		FUZZ_CHECK(vtun_parse_host(out, name2, sizeof(name2)) == 0);
		FUZZ_CHECK(strcmp(name, name2) == 0);
		fuzz_feature(1);
	}
	if (vtun_parse_chal(m, chal) == 0) {
		vtun_msg_chal(chal, out);
		FUZZ_CHECK(vtun_parse_chal(out, back) == 0);
		FUZZ_CHECK(memcmp(chal, back, sizeof(chal)) == 0);
		fuzz_feature(2);
	}
	if (vtun_parse_ok_chal(m, chal) == 0) {
		vtun_msg_ok_chal(chal, out);
		FUZZ_CHECK(vtun_parse_ok_chal(out, back) == 0);
		FUZZ_CHECK(memcmp(chal, back, sizeof(chal)) == 0);
		fuzz_feature(3);
	}
	err[0] = '\0';
	if (vtun_parse_ok_flags(m, &f, err, sizeof(err)) == 0) {
		FUZZ_CHECK(f.zlevel >= 0 && f.zlevel <= 9 && f.shape >= 0);
		FUZZ_CHECK(f.cipher == 0 || vtun_cipher_name(f.cipher) !=
		    NULL);
		if (vtun_flags_format(&f, fl, sizeof(fl)) == 0) {
			FUZZ_CHECK(vtun_flags_parse(fl, &g, err,
			    sizeof(err)) == 0);
			FUZZ_CHECK(memcmp(&f, &g, sizeof(f)) == 0);
		}
		fuzz_feature(4);
	} else {
		FUZZ_CHECK(err[0] != '\0');
		fuzz_feature(fuzz_hash(err, strlen(err), 5));
	}
}

/* One frame as vtunsess_rx_frame takes it. */
static void
fuzz_vtun_frame(enum vtun_frame_kind k, const uint8_t *body, size_t len,
    struct vtun_crypt *cr, struct vtun_zlib *z, bool *zbroken)
{
	static uint8_t dec[WIRE_VTUN_BODY_MAX], inf[WIRE_VTUN_PACKET_MAX + 1];
	const uint8_t *p = body;
	size_t n = len;

	fuzz_feature(100 + (uint32_t)k);
	if (k != VTUN_FRAME_DATA)
		return;
	FUZZ_CHECK(len > 0 && len <= WIRE_VTUN_BODY_MAX);
	if (cr != NULL) {
		if (vtun_crypt_open(cr, p, n, dec, sizeof(dec), &n) != 0)
			return;
		FUZZ_CHECK(n < len);
		p = dec;
		fuzz_feature(200);
	}
	if (z != NULL && !*zbroken) {
		if (vtun_zlib_inflate(z, p, n, inf, sizeof(inf), &n) != 0) {
			*zbroken = true;	/* vtunsess.c closes here */
			return;
		}
		FUZZ_CHECK(n < sizeof(inf));
		fuzz_feature(300 + fuzz_log2(n));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vtun_zlib *z = NULL;
	const uint8_t *p;
	uint8_t *copy, sel;
	bool zbroken = false;
	size_t n, len, want, off;
	enum vtun_frame_kind k;
	char err[200];

	sel = fuzz_u8(&in);
	if (sel & 0x01) {
		while ((n = fuzz_take(&in, WIRE_VTUN_MSG_LEN, &p)) ==
		    WIRE_VTUN_MSG_LEN) {
			copy = fuzz_dup(p, n);
			fuzz_vtun_msg(copy);
			free(copy);
		}
		return 0;
	}
	if ((sel & 0x10) && (z = vtun_zlib_new(1, err, sizeof(err))) == NULL)
		abort();
	if (sel & 0x02) {
		/* Datagrams: each is exactly one frame or is dropped. */
		while (in.n > 0) {
			want = fuzz_u16(&in) % (WIRE_VTUN_HDR_LEN +
			    WIRE_VTUN_LEN_MASK + 1);
			n = fuzz_take(&in, want, &p);
			if (n < WIRE_VTUN_HDR_LEN)
				continue;
			copy = fuzz_dup(p, n);
			k = vtun_hdr_get(copy, &len);
			if (n == WIRE_VTUN_HDR_LEN + len)
				fuzz_vtun_frame(k, copy + WIRE_VTUN_HDR_LEN,
				    len, fuzz_crypt[(sel >> 2) & 3], z,
				    &zbroken);
			free(copy);
		}
	} else {
		/* A stream: header, then the body it announces. */
		copy = fuzz_dup(in.p, in.n);
		for (off = 0; off + WIRE_VTUN_HDR_LEN <= in.n;) {
			k = vtun_hdr_get(copy + off, &len);
			FUZZ_CHECK(len <= WIRE_VTUN_LEN_MASK);
			if (off + WIRE_VTUN_HDR_LEN + len > in.n)
				break;
			off += WIRE_VTUN_HDR_LEN;
			if (k != VTUN_FRAME_OVERSIZE)
				fuzz_vtun_frame(k, copy + off, len,
				    fuzz_crypt[(sel >> 2) & 3], z, &zbroken);
			off += len;
		}
		free(copy);
	}
	vtun_zlib_free(z);
	return 0;
}
