/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "pkt.h"
#include "util.h"
#include "vtun.h"

#define VTUN_MD5_LEN 16
#define VTUN_KEY_MAX 32

struct vtun_lib {
	OSSL_LIB_CTX *ctx;
	OSSL_PROVIDER *legacy;
	OSSL_PROVIDER *dflt;
	EVP_MD *md5;
	EVP_CIPHER *bf;
};

struct vtun_zlib {
	z_stream d;
	z_stream i;
	bool d_ok, i_ok;
};

struct vtun_crypt {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	size_t block;
};

/*
 * The ciphers: vtund's number, its name, OpenSSL's name, key and block,
 * and a strength to compare them by.  All are ECB without integrity, so
 * only block and key size tell them apart: Blowfish's 64-bit block
 * repeats and collides far sooner than AES's 128-bit one, and a 256-bit
 * key beats a 128-bit one.
 */
static const struct {
	int num;
	const char *name;
	const char *ossl;
	size_t keylen;
	size_t block;
	int strength;
} vtun_ciphers[] = {
	{ VTUN_CIPHER_NONE, "none", NULL, 0, 0, 0 },
	{ VTUN_CIPHER_BF128ECB, "blowfish128ecb", "BF-ECB", 16, 8, 1 },
	{ VTUN_CIPHER_AES128ECB, "aes128ecb", "AES-128-ECB", 16, 16, 2 },
	{ VTUN_CIPHER_AES256ECB, "aes256ecb", "AES-256-ECB", 32, 16, 3 },
};

static int
vtun_cipher_index(int cipher)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vtun_ciphers); i++)
		if (vtun_ciphers[i].num == cipher)
			return (int)i;
	return -1;
}

const char *
vtun_cipher_name(int cipher)
{
	int i = vtun_cipher_index(cipher);

	return i < 0 ? NULL : vtun_ciphers[i].name;
}

int
vtun_cipher_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(vtun_ciphers); i++)
		if (strcmp(vtun_ciphers[i].name, name) == 0)
			return vtun_ciphers[i].num;
	return -1;
}

int
vtun_cipher_check(int offered, int required, char *err, size_t errlen)
{
	int o = vtun_cipher_index(offered), r = vtun_cipher_index(required);

	if (o < 0 || r < 0)
		return util_err(err, errlen, "vtund cipher %d is not "
		    "implemented", o < 0 ? offered : required);
	if (vtun_ciphers[o].strength < vtun_ciphers[r].strength)
		return util_err(err, errlen, "the server offers cipher %s, "
		    "weaker than this session's %s", vtun_ciphers[o].name,
		    vtun_ciphers[r].name);
	return 0;
}

/* --- Library context ------------------------------------------------ */

/* OpenSSL's reason into err, and the rest of its queue dropped. */
static void
vtun_ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		util_strlcpy(buf, "unknown error", sizeof(buf));
	ERR_clear_error();
	util_err(err, errlen, "%s: %s", what, buf);
}

struct vtun_lib *
vtun_lib_new(char *err, size_t errlen)
{
	struct vtun_lib *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	if ((l->ctx = OSSL_LIB_CTX_new()) == NULL) {
		vtun_ossl_err(err, errlen, "cannot make an OpenSSL context");
		goto fail;
	}
	if ((l->legacy = OSSL_PROVIDER_load(l->ctx, "legacy")) == NULL) {
		vtun_ossl_err(err, errlen, "vtund's protocol needs Blowfish, "
		    "but OpenSSL's legacy provider cannot be loaded (is "
		    "ossl-modules/legacy.so installed?)");
		goto fail;
	}
	if ((l->dflt = OSSL_PROVIDER_load(l->ctx, "default")) == NULL) {
		vtun_ossl_err(err, errlen, "cannot load OpenSSL's default "
		    "provider");
		goto fail;
	}
	l->md5 = EVP_MD_fetch(l->ctx, "MD5", NULL);
	l->bf = EVP_CIPHER_fetch(l->ctx, "BF-ECB", NULL);
	if (l->md5 == NULL || l->bf == NULL) {
		vtun_ossl_err(err, errlen, "cannot fetch MD5 and Blowfish");
		goto fail;
	}
	return l;
fail:
	vtun_lib_free(l);
	return NULL;
}

void
vtun_lib_free(struct vtun_lib *l)
{
	if (l == NULL)
		return;
	EVP_MD_free(l->md5);
	EVP_CIPHER_free(l->bf);
	if (l->legacy != NULL)
		OSSL_PROVIDER_unload(l->legacy);
	if (l->dflt != NULL)
		OSSL_PROVIDER_unload(l->dflt);
	OSSL_LIB_CTX_free(l->ctx);
	free(l);
}

/* --- Handshake lines ------------------------------------------------- */

static void
vtun_msg_put(uint8_t *out, const char *text)
{
	memset(out, 0, WIRE_VTUN_MSG_LEN);
	memcpy(out, text, strnlen(text, WIRE_VTUN_MSG_LEN - 1));
}

/*
 * A received message as a C string: vtund ignores the last byte and
 * everything from the first CR or LF.
 */
static void
vtun_msg_text(const uint8_t *msg, char *text)
{
	memcpy(text, msg, WIRE_VTUN_MSG_LEN - 1);
	text[WIRE_VTUN_MSG_LEN - 1] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
}

void
vtun_msg_greeting(uint8_t *out)
{
	vtun_msg_put(out, "VTUN server ver 3.X tapline-legacy\n");
}

bool
vtun_msg_is_greeting(const uint8_t *msg)
{
	return memcmp(msg, "VTUN", 4) == 0;
}

/*
 * vtund sends at most 49 bytes of a line: a name of VTUN_HOST_MAX bytes
 * still arrives whole, only its newline is cut off.
 */
int
vtun_msg_host(const char *name, uint8_t *out)
{
	char text[WIRE_VTUN_MSG_LEN + 16];

	if (name[0] == '\0' || strlen(name) > VTUN_HOST_MAX ||
	    strpbrk(name, " :\r\n") != NULL)
		return -1;
	snprintf(text, sizeof(text), "HOST: %s\n", name);
	vtun_msg_put(out, text);
	return 0;
}

int
vtun_parse_host(const uint8_t *msg, char *name, size_t namecap)
{
	char text[WIRE_VTUN_MSG_LEN];
	const char *p;
	size_t n;

	vtun_msg_text(msg, text);
	if (strncmp(text, "HOST:", 5) != 0)
		return -1;
	p = text + 5;
	p += strspn(p, " ");
	n = strcspn(p, " :");
	if (n == 0 || n >= namecap || n > VTUN_HOST_MAX ||
	    p[n + strspn(p + n, " ")] != '\0')
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	return 0;
}

/* "<" + a letter a..p per nibble + ">", as vtund's cl2cs writes it. */
static void
vtun_chal_format(const uint8_t *chal, char *out)
{
	int i;

	*out++ = '<';
	for (i = 0; i < WIRE_VTUN_CHAL_LEN; i++) {
		*out++ = (char)('a' + (chal[i] >> 4));
		*out++ = (char)('a' + (chal[i] & 0x0f));
	}
	*out++ = '>';
	*out = '\0';
}

/* The "<...>" after `prefix`; exactly 32 letters a..p. */
static int
vtun_chal_parse(const char *text, const char *prefix, uint8_t *chal)
{
	const char *p;
	int i;

	if (strncmp(text, prefix, strlen(prefix)) != 0)
		return -1;
	p = text + strlen(prefix);
	p += strspn(p, " ");
	if (*p++ != '<')
		return -1;
	for (i = 0; i < 2 * WIRE_VTUN_CHAL_LEN; i++)
		if (p[i] < 'a' || p[i] > 'p')
			return -1;
	if (p[2 * WIRE_VTUN_CHAL_LEN] != '>')
		return -1;
	for (i = 0; i < WIRE_VTUN_CHAL_LEN; i++)
		chal[i] = (uint8_t)(((p[2 * i] - 'a') << 4) |
		    (p[2 * i + 1] - 'a'));
	return 0;
}

void
vtun_msg_ok_chal(const uint8_t *chal, uint8_t *out)
{
	char c[2 * WIRE_VTUN_CHAL_LEN + 3], text[WIRE_VTUN_MSG_LEN];

	vtun_chal_format(chal, c);
	snprintf(text, sizeof(text), "OK CHAL: %s\n", c);
	vtun_msg_put(out, text);
}

int
vtun_parse_ok_chal(const uint8_t *msg, uint8_t *chal)
{
	char text[WIRE_VTUN_MSG_LEN];

	vtun_msg_text(msg, text);
	return vtun_chal_parse(text, "OK CHAL:", chal);
}

void
vtun_msg_chal(const uint8_t *resp, uint8_t *out)
{
	char c[2 * WIRE_VTUN_CHAL_LEN + 3], text[WIRE_VTUN_MSG_LEN];

	vtun_chal_format(resp, c);
	snprintf(text, sizeof(text), "CHAL: %s\n", c);
	vtun_msg_put(out, text);
}

int
vtun_parse_chal(const uint8_t *msg, uint8_t *resp)
{
	char text[WIRE_VTUN_MSG_LEN];

	vtun_msg_text(msg, text);
	return vtun_chal_parse(text, "CHAL:", resp);
}

void
vtun_msg_err(uint8_t *out)
{
	vtun_msg_put(out, "ERR\n");
}

int
vtun_flags_format(const struct vtun_flags *f, char *out, size_t outlen)
{
	char z[8] = "", s[16] = "", e[8] = "";
	int n;

	if (f->zlevel < 0 || f->zlevel > 9 || f->shape < 0 ||
	    (f->cipher != 0 && vtun_cipher_index(f->cipher) < 0))
		return -1;
	if (f->zlevel > 0)
		snprintf(z, sizeof(z), "C%d", f->zlevel);
	if (f->shape > 0)
		snprintf(s, sizeof(s), "S%d", f->shape);
	if (f->cipher != 0)
		snprintf(e, sizeof(e), "E%d", f->cipher);
	n = snprintf(out, outlen, "<%c%c%s%s%s%s>", f->udp ? 'U' : 'T',
	    f->type == DEV_TAP ? 'e' : 'u', s, z, f->keepalive ? "K" : "", e);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A decimal number of at most 9 digits; -1 if there is none. */
static int
vtun_number(const char **p)
{
	int v = 0, n = 0;

	while (**p >= '0' && **p <= '9' && n < 9) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n == 0 || (**p >= '0' && **p <= '9') ? -1 : v;
}

int
vtun_flags_parse(const char *s, struct vtun_flags *f, char *err,
    size_t errlen)
{
	const char *p = strchr(s, '<');
	bool proto = false, type = false;
	int v;

	memset(f, 0, sizeof(*f));
	if (p == NULL)
		return util_err(err, errlen, "no flags");
	for (p++; *p != '\0';) {
		switch (*p++) {
		case 'T':
		case 'U':
			f->udp = p[-1] == 'U';
			proto = true;
			break;
		case 'u':
		case 'e':
			f->type = p[-1] == 'e' ? DEV_TAP : DEV_TUN;
			type = true;
			break;
		case 't':
		case 'p':
			return util_err(err, errlen, "the peer uses type %s, "
			    "which tapline does not implement (only tun and "
			    "ether)", p[-1] == 't' ? "tty" : "pipe");
		case 'K':
			f->keepalive = true;
			break;
		case 'C':
			if ((v = vtun_number(&p)) < 0 || v > 9)
				return util_err(err, errlen, "bad zlib level");
			f->zlevel = v == 0 ? 1 : v;
			break;
		case 'L':
			return util_err(err, errlen, "the peer uses lzo "
			    "compression, which tapline does not implement "
			    "(use zlib)");
		case 'S':
			if ((v = vtun_number(&p)) < 0)
				return util_err(err, errlen, "bad speed");
			f->shape = v;
			break;
		case 'E':
			v = *p >= '0' && *p <= '9' ? vtun_number(&p) : 0;
			if (v <= 0 || vtun_cipher_index(v) < 0)
				return util_err(err, errlen, "the peer uses "
				    "vtund cipher %d, which tapline does not "
				    "implement (none, blowfish128ecb, "
				    "aes128ecb, aes256ecb)", v);
			f->cipher = v;
			break;
		case 'F':
			break;
		case '>':
			if (!proto || !type)
				return util_err(err, errlen, "flags without "
				    "protocol or type");
			return 0;
		default:
			return util_err(err, errlen, "unknown flag");
		}
	}
	return util_err(err, errlen, "flags not terminated");
}

int
vtun_msg_ok_flags(const struct vtun_flags *f, uint8_t *out)
{
	char fl[32], text[WIRE_VTUN_MSG_LEN + 16];

	if (vtun_flags_format(f, fl, sizeof(fl)) != 0)
		return -1;
	snprintf(text, sizeof(text), "OK FLAGS: %s\n", fl);
	if (strlen(text) >= WIRE_VTUN_MSG_LEN)
		return -1;
	vtun_msg_put(out, text);
	return 0;
}

int
vtun_parse_ok_flags(const uint8_t *msg, struct vtun_flags *f, char *err,
    size_t errlen)
{
	char text[WIRE_VTUN_MSG_LEN];

	vtun_msg_text(msg, text);
	if (strncmp(text, "OK", 2) != 0)
		return util_err(err, errlen, strncmp(text, "ERR", 3) == 0 ?
		    "the server refused us: access denied (wrong password, "
		    "or no such session there)" :
		    "an unexpected answer instead of FLAGS");
	return vtun_flags_parse(text, f, err, errlen);
}

/* --- Challenge crypto ------------------------------------------------ */

static int
vtun_md5(struct vtun_lib *l, const void *in, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_Digest(in, len, out, &n, l->md5, NULL) != 1 ||
	    n != VTUN_MD5_LEN) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* A cipher context of `ossl` with key, no padding, either direction. */
static EVP_CIPHER_CTX *
vtun_ctx_new(const EVP_CIPHER *ci, const uint8_t *key, size_t keylen,
    bool encrypt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL ||
	    EVP_CipherInit_ex2(c, ci, NULL, NULL, encrypt ? 1 : 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_key_length(c, (int)keylen) != 1 ||
	    EVP_CipherInit_ex2(c, NULL, key, NULL, -1, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
		EVP_CIPHER_CTX_free(c);
		ERR_clear_error();
		return NULL;
	}
	return c;
}

int
vtun_chal_crypt(struct vtun_lib *l, const char *passwd, uint8_t *chal,
    bool encrypt)
{
	uint8_t key[VTUN_MD5_LEN];
	EVP_CIPHER_CTX *c;
	int n = 0, rc = -1;

	if (vtun_md5(l, passwd, strlen(passwd), key) != 0)
		return -1;
	c = vtun_ctx_new(l->bf, key, sizeof(key), encrypt);
	OPENSSL_cleanse(key, sizeof(key));
	if (c == NULL)
		return -1;
	if (EVP_CipherUpdate(c, chal, &n, chal, WIRE_VTUN_CHAL_LEN) == 1 &&
	    n == WIRE_VTUN_CHAL_LEN)
		rc = 0;
	ERR_clear_error();
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* --- Frames ------------------------------------------------------------ */

void
vtun_hdr_put(uint8_t *out, uint16_t flags, uint16_t len)
{
	pkt_store16(out, (uint16_t)((flags & WIRE_VTUN_FLAG_MASK) |
	    (len & WIRE_VTUN_LEN_MASK)));
}

enum vtun_frame_kind
vtun_hdr_get(const uint8_t *in, size_t *len)
{
	uint16_t v = pkt_load16(in);
	uint16_t flags = v & WIRE_VTUN_FLAG_MASK;

	*len = 0;
	switch (flags) {
	case 0:
		*len = v & WIRE_VTUN_LEN_MASK;
		if (*len == 0)
			return VTUN_FRAME_EMPTY;
		return *len > WIRE_VTUN_BODY_MAX ? VTUN_FRAME_OVERSIZE :
		    VTUN_FRAME_DATA;
	case WIRE_VTUN_ECHO_REQ:
		return VTUN_FRAME_ECHO_REQ;
	case WIRE_VTUN_ECHO_REP:
		return VTUN_FRAME_ECHO_REP;
	case WIRE_VTUN_CONN_CLOSE:
		return VTUN_FRAME_CLOSE;
	case WIRE_VTUN_BAD_FRAME:
		return VTUN_FRAME_BAD;
	default:
		return VTUN_FRAME_UNKNOWN;
	}
}

void
vtun_port_put(uint8_t *out, uint16_t port)
{
	pkt_store16(out, port);
}

void
vtun_port_get(const uint8_t *in, uint16_t *be, uint16_t *le)
{
	*be = pkt_load16(in);
	*le = (uint16_t)(in[0] | (in[1] << 8));
}

/* --- zlib stage ------------------------------------------------------ */

struct vtun_zlib *
vtun_zlib_new(int level, char *err, size_t errlen)
{
	struct vtun_zlib *z;

	if (level < 1 || level > 9) {
		util_err(err, errlen, "zlib level %d is not 1..9", level);
		return NULL;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	z->d_ok = deflateInit(&z->d, level) == Z_OK;
	z->i_ok = inflateInit(&z->i) == Z_OK;
	if (!z->d_ok || !z->i_ok) {
		util_err(err, errlen, "zlib cannot start");
		vtun_zlib_free(z);
		return NULL;
	}
	return z;
}

void
vtun_zlib_free(struct vtun_zlib *z)
{
	if (z == NULL)
		return;
	if (z->d_ok)
		deflateEnd(&z->d);
	if (z->i_ok)
		inflateEnd(&z->i);
	free(z);
}

/*
 * Both directions take the whole input in one call and must leave room
 * in out: a full output buffer could hide more pending output.
 */
int
vtun_zlib_deflate(struct vtun_zlib *z, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	z->d.next_in = (Bytef *)(uintptr_t)in;
	z->d.avail_in = (uInt)len;
	z->d.next_out = out;
	z->d.avail_out = (uInt)cap;
	if (deflate(&z->d, Z_SYNC_FLUSH) != Z_OK || z->d.avail_in != 0 ||
	    z->d.avail_out == 0)
		return -1;
	*outlen = cap - z->d.avail_out;
	return 0;
}

int
vtun_zlib_inflate(struct vtun_zlib *z, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	if (len == 0)
		return -1;
	z->i.next_in = (Bytef *)(uintptr_t)in;
	z->i.avail_in = (uInt)len;
	z->i.next_out = out;
	z->i.avail_out = (uInt)cap;
	if (inflate(&z->i, Z_SYNC_FLUSH) != Z_OK || z->i.avail_in != 0 ||
	    z->i.avail_out == 0)
		return -1;
	*outlen = cap - z->i.avail_out;
	return 0;
}

/* --- ECB stage ------------------------------------------------------- */

/* vtund's key from the passphrase (prep_key in its lfd_encrypt.c). */
static int
vtun_crypt_key(struct vtun_lib *l, const char *passwd, size_t keylen,
    uint8_t *key)
{
	size_t len = strlen(passwd), half = len / 2;

	if (keylen == VTUN_MD5_LEN)
		return vtun_md5(l, passwd, len, key);
	if (vtun_md5(l, passwd, half, key) != 0 ||
	    vtun_md5(l, passwd + half, len - half, key + VTUN_MD5_LEN) != 0)
		return -1;
	return 0;
}

struct vtun_crypt *
vtun_crypt_new(struct vtun_lib *l, int cipher, const char *passwd, char *err,
    size_t errlen)
{
	int i = vtun_cipher_index(cipher);
	uint8_t key[VTUN_KEY_MAX];
	EVP_CIPHER *ci = NULL;
	struct vtun_crypt *c;

	if (i < 0 || vtun_ciphers[i].ossl == NULL) {
		util_err(err, errlen, "vtund cipher %d is not implemented",
		    cipher);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	c->block = vtun_ciphers[i].block;
	ci = EVP_CIPHER_fetch(l->ctx, vtun_ciphers[i].ossl, NULL);
	if (ci == NULL || vtun_crypt_key(l, passwd, vtun_ciphers[i].keylen,
	    key) != 0) {
		vtun_ossl_err(err, errlen, vtun_ciphers[i].name);
		goto fail;
	}
	c->enc = vtun_ctx_new(ci, key, vtun_ciphers[i].keylen, true);
	c->dec = vtun_ctx_new(ci, key, vtun_ciphers[i].keylen, false);
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_free(ci);
	ci = NULL;
	if (c->enc == NULL || c->dec == NULL) {
		util_err(err, errlen, "%s: cannot set up the cipher",
		    vtun_ciphers[i].name);
		goto fail;
	}
	return c;
fail:
	EVP_CIPHER_free(ci);
	vtun_crypt_free(c);
	return NULL;
}

void
vtun_crypt_free(struct vtun_crypt *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	free(c);
}

size_t
vtun_crypt_overhead(const struct vtun_crypt *c)
{
	return c->block;
}

int
vtun_crypt_seal(struct vtun_crypt *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t pad = c->block - len % c->block;
	int n = 0;

	if (len == 0 || len + pad > cap || len + pad > INT32_MAX)
		return -1;
	memmove(out, in, len);
	memset(out + len, (int)pad, pad);
	/* A whole block of padding: random, but for its count byte. */
	if (pad == c->block && RAND_bytes(out + len, (int)pad - 1) != 1) {
		ERR_clear_error();
		return -1;
	}
	if (EVP_EncryptUpdate(c->enc, out, &n, out, (int)(len + pad)) != 1 ||
	    (size_t)n != len + pad) {
		ERR_clear_error();
		return -1;
	}
	*outlen = len + pad;
	return 0;
}

int
vtun_crypt_open(struct vtun_crypt *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t pad;
	int n = 0;

	if (len == 0 || len % c->block != 0 || len > cap || len > INT32_MAX)
		return -1;
	if (EVP_DecryptUpdate(c->dec, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len) {
		ERR_clear_error();
		return -1;
	}
	pad = out[len - 1];
	if (pad < 1 || pad > c->block || pad >= len)
		return -1;
	*outlen = len - pad;
	return 0;
}
