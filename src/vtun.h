/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vtund 3.0.4 protocol (legacy = "vtun"), sans I/O: the handshake
 * lines, the challenge crypto, the flag string, the frame header, the UDP
 * port message, and the two per-frame stages (zlib stream, ECB cipher).
 * vtunsess.c does the I/O.  Nothing here is secure: the challenge is
 * Blowfish-ECB under MD5(passwd), the data ciphers are ECB without
 * integrity, and the flags are sent in clear.  It exists so that a tapline
 * can talk to an old vtund peer.
 *
 * Handshake (every message a 50-byte NUL-padded line, WIRE_VTUN_MSG_LEN):
 *	server: "VTUN server ver 3.X ...\n"
 *	client: "HOST: <session>\n"
 *	server: "OK CHAL: <32 letters a..p>\n"  (16 random bytes, a nibble each)
 *	client: "CHAL: <...>\n"                 (them, Blowfish-ECB encrypted)
 *	server: "OK FLAGS: <TuC9KE1>\n" or "ERR\n"
 * In UDP mode both sides then write their UDP port (2 bytes) on the TCP
 * connection, read the other's, and continue with datagrams only.
 *
 * Every OpenSSL object comes from a library context of our own with the
 * "legacy" provider loaded (Blowfish lives there in OpenSSL 3), so that
 * the rest of the daemon never sees that provider.
 */
#ifndef TAPLINE_VTUN_H
#define TAPLINE_VTUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"
#include "wire.h"

/* vtund's cipher numbers (its "encrypt" keyword values) we implement. */
enum vtun_cipher {
	VTUN_CIPHER_NONE = 0,
	VTUN_CIPHER_BF128ECB = 1,
	VTUN_CIPHER_AES128ECB = 9,
	VTUN_CIPHER_AES256ECB = 13,
};

/* "none", "blowfish128ecb", ...: vtund's names; NULL if not implemented. */
const char *vtun_cipher_name(int cipher);
/* The number for a name, or -1. */
int vtun_cipher_from_name(const char *name);
/*
 * A client's check of the cipher in the server's FLAGS, which travel in
 * clear: 0 if `offered` is at least as strong as the session's own
 * `required` (none < blowfish128ecb < aes128ecb < aes256ecb), else -1
 * with a sentence naming both in err.
 */
int vtun_cipher_check(int offered, int required, char *err, size_t errlen);

/* What a FLAGS line says (vtund's bf2cf/cf2bf). */
struct vtun_flags {
	bool udp;		/* 'U' (else 'T') */
	enum dev_type type;	/* 'u' tun, 'e' ether (tap) */
	int zlevel;		/* 'C<n>': zlib level, 0 = off */
	bool keepalive;		/* 'K' */
	int cipher;		/* 'E<n>': enum vtun_cipher; 0 = off */
	int shape;		/* 'S<n>': the server's speed (vtund shapes locally) */
};

/* A protocol library context: OpenSSL with the legacy provider. */
struct vtun_lib;
/* NULL with a sentence in err if the legacy provider cannot be loaded. */
struct vtun_lib *vtun_lib_new(char *err, size_t errlen);
void vtun_lib_free(struct vtun_lib *l);

/* --- Handshake lines (out: WIRE_VTUN_MSG_LEN bytes, NUL-padded) ---- */

void vtun_msg_greeting(uint8_t *out);
/* True if msg is a server greeting (starts with "VTUN"). */
bool vtun_msg_is_greeting(const uint8_t *msg);
/* The longest session name a HOST line carries ("HOST: " in 49 bytes). */
#define VTUN_HOST_MAX (WIRE_VTUN_MSG_LEN - 1 - 6)
/* -1 if name is empty, longer than VTUN_HOST_MAX or has ' ' or ':'. */
int vtun_msg_host(const char *name, uint8_t *out);
/*
 * "HOST: name": 0 and the name (NUL-terminated, at most namecap - 1
 * bytes), or -1 for anything else.
 */
int vtun_parse_host(const uint8_t *msg, char *name, size_t namecap);
void vtun_msg_ok_chal(const uint8_t *chal, uint8_t *out);
int vtun_parse_ok_chal(const uint8_t *msg, uint8_t *chal);
void vtun_msg_chal(const uint8_t *resp, uint8_t *out);
int vtun_parse_chal(const uint8_t *msg, uint8_t *resp);
/* -1 if the flags cannot be written (unknown cipher, ...). */
int vtun_msg_ok_flags(const struct vtun_flags *f, uint8_t *out);
/* 0, or -1 with a reason in err (peer text is never copied into it). */
int vtun_parse_ok_flags(const uint8_t *msg, struct vtun_flags *f, char *err,
    size_t errlen);
void vtun_msg_err(uint8_t *out);

/* The "<...>" string alone (out: at least 24 bytes). */
int vtun_flags_format(const struct vtun_flags *f, char *out, size_t outlen);
int vtun_flags_parse(const char *s, struct vtun_flags *f, char *err,
    size_t errlen);

/*
 * The challenge crypto: Blowfish-ECB, key MD5(passwd), over the 16
 * bytes in place.  encrypt: the client's answer; else the server's check.
 */
int vtun_chal_crypt(struct vtun_lib *l, const char *passwd,
    uint8_t *chal, bool encrypt);

/* --- Frames ----------------------------------------------------------- */

enum vtun_frame_kind {
	VTUN_FRAME_DATA,	/* len bytes of body follow */
	VTUN_FRAME_ECHO_REQ,
	VTUN_FRAME_ECHO_REP,
	VTUN_FRAME_CLOSE,
	VTUN_FRAME_BAD,		/* the peer said "bad frame" */
	VTUN_FRAME_UNKNOWN,	/* a flag combination vtund never sends */
	VTUN_FRAME_OVERSIZE,	/* data longer than WIRE_VTUN_BODY_MAX */
	VTUN_FRAME_EMPTY,	/* data of length 0 (vtund ends the link) */
};

void vtun_hdr_put(uint8_t *out, uint16_t flags, uint16_t len);
/*
 * Classify a header; *len is the body that follows on a TCP stream (0
 * for flag frames, which never have a body, as vtund reads them).
 */
enum vtun_frame_kind vtun_hdr_get(const uint8_t *in, size_t *len);

/*
 * The UDP port message: 2 bytes.  vtund upstream writes network order,
 * Debian's 3.0.4 host order, so a reader gets both readings.
 */
void vtun_port_put(uint8_t *out, uint16_t port);
void vtun_port_get(const uint8_t *in, uint16_t *be, uint16_t *le);

/* --- Stages ----------------------------------------------------------- */

/*
 * vtund's zlib: one deflate and one inflate stream (zlib format) for the
 * whole link, each frame flushed with Z_SYNC_FLUSH.  A lost or corrupt
 * frame breaks the stream for good: the caller then ends the session.
 */
struct vtun_zlib;
struct vtun_zlib *vtun_zlib_new(int level, char *err, size_t errlen);
void vtun_zlib_free(struct vtun_zlib *z);
/* 0 with *outlen, or -1 (out too small, zlib error). */
int vtun_zlib_deflate(struct vtun_zlib *z, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen);
/* 0 with *outlen, or -1: corrupt, or more than cap bytes. */
int vtun_zlib_inflate(struct vtun_zlib *z, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * vtund's ECB stage: each frame padded to whole blocks with 1..block
 * bytes, the last of which says how many (a whole block of padding is
 * random but for that byte), then encrypted block by block.  Keys:
 * MD5(passwd) for 128-bit ciphers; MD5(first half) || MD5(second half)
 * for aes256ecb.
 */
struct vtun_crypt;
struct vtun_crypt *vtun_crypt_new(struct vtun_lib *l, int cipher,
    const char *passwd, char *err, size_t errlen);
void vtun_crypt_free(struct vtun_crypt *c);
/* Bytes a frame of len grows by at most. */
size_t vtun_crypt_overhead(const struct vtun_crypt *c);
int vtun_crypt_seal(struct vtun_crypt *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen);
/* -1: not whole blocks, empty, or bad padding. */
int vtun_crypt_open(struct vtun_crypt *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen);

#endif
