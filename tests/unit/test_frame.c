/* SPDX-License-Identifier: GPL-2.0-or-later */
/* frame.c: the header parser at every length boundary of every type, HELLO
 * and CLOSE bodies field by field, and the inner packet check at the IPv4,
 * IPv6 and Ethernet boundaries (ATTACKS.md rows 15 and 16). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "wire.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct hdr_case {
	uint8_t type;
	uint8_t flags;
	uint16_t rsv;
	uint32_t len;
	const char *err; /* NULL: valid; else the whole error sentence */
};

static const struct hdr_case hdr_cases[] = {
	/* HELLO and HELLO_ACK: exactly WIRE_HELLO_LEN. */
	{ WIRE_HELLO, 0, 0, WIRE_HELLO_LEN, NULL },
	{ WIRE_HELLO, 0, 0, 0,
	    "frame too small: HELLO of 0 bytes, expected exactly 14" },
	{ WIRE_HELLO, 0, 0, WIRE_HELLO_LEN - 1,
	    "frame too small: HELLO of 13 bytes, expected exactly 14" },
	{ WIRE_HELLO, 0, 0, WIRE_HELLO_LEN + 1,
	    "frame too large: HELLO of 15 bytes, expected exactly 14" },
	{ WIRE_HELLO, WIRE_FLAG_ZLIB, 0, WIRE_HELLO_LEN,
	    "flags 0x01 not allowed on a HELLO frame" },
	/* A re-attaching HELLO carries the token too; its ACK does not. */
	{ WIRE_HELLO, WIRE_FLAG_REATTACH, 0,
	    WIRE_HELLO_LEN + WIRE_REATTACH_TOKEN_LEN, NULL },
	{ WIRE_HELLO, WIRE_FLAG_REATTACH, 0, WIRE_HELLO_LEN,
	    "frame too small: HELLO of 14 bytes, expected exactly 46" },
	{ WIRE_HELLO, WIRE_FLAG_REATTACH, 0,
	    WIRE_HELLO_LEN + WIRE_REATTACH_TOKEN_LEN + 1,
	    "frame too large: HELLO of 47 bytes, expected exactly 46" },
	{ WIRE_HELLO, 0, 0, WIRE_HELLO_LEN + WIRE_REATTACH_TOKEN_LEN,
	    "frame too large: HELLO of 46 bytes, expected exactly 14" },
	{ WIRE_HELLO_ACK, WIRE_FLAG_REATTACH, 0, WIRE_HELLO_LEN, NULL },
	{ WIRE_HELLO_ACK, WIRE_FLAG_REATTACH, 0, WIRE_HELLO_LEN + 1,
	    "frame too large: HELLO_ACK of 15 bytes, expected exactly 14" },
	{ WIRE_KEEPALIVE, WIRE_FLAG_REATTACH, 0, 0,
	    "flags 0x04 not allowed on a KEEPALIVE frame" },
	{ WIRE_HELLO_ACK, 0, 0, WIRE_HELLO_LEN, NULL },
	{ WIRE_HELLO_ACK, 0, 0, 0,
	    "frame too small: HELLO_ACK of 0 bytes, expected exactly 14" },
	{ WIRE_HELLO_ACK, 0, 0, WIRE_HELLO_LEN + 1,
	    "frame too large: HELLO_ACK of 15 bytes, expected exactly 14" },
	{ WIRE_HELLO_ACK, 0x80, 0, WIRE_HELLO_LEN,
	    "flags 0x80 not allowed on a HELLO_ACK frame" },
	/* DATA: 1..WIRE_DATA_MAX_BODY, ZLIB the only flag. */
	{ WIRE_DATA, 0, 0, 0, "frame too small: DATA of 0 bytes, minimum 1" },
	{ WIRE_DATA, 0, 0, 1, NULL },
	{ WIRE_DATA, 0, 0, 1500, NULL },
	{ WIRE_DATA, 0, 0, WIRE_DATA_MAX_BODY, NULL },
	{ WIRE_DATA, 0, 0, WIRE_DATA_MAX_BODY + 1,
	    "frame too large: DATA of 65566 bytes, limit 65565" },
	{ WIRE_DATA, 0, 0, 70000,
	    "frame too large: DATA of 70000 bytes, limit 65565" },
	{ WIRE_DATA, 0, 0, 0xffffffffu,
	    "frame too large: DATA of 4294967295 bytes, limit 65565" },
	{ WIRE_DATA, WIRE_FLAG_ZLIB, 0, 1, NULL },
	{ WIRE_DATA, WIRE_FLAG_ZLIB, 0, WIRE_DATA_MAX_BODY, NULL },
	{ WIRE_DATA, WIRE_FLAG_ZLIB, 0, 0,
	    "frame too small: DATA of 0 bytes, minimum 1" },
	{ WIRE_DATA, WIRE_FLAG_GSO, 0, 100, NULL },
	{ WIRE_DATA, WIRE_FLAG_GSO | WIRE_FLAG_ZLIB, 0, 100, NULL },
	{ WIRE_DATA, 0x04, 0, 100, "flags 0x04 not allowed on a DATA frame" },
	{ WIRE_DATA, 0x07, 0, 100, "flags 0x07 not allowed on a DATA frame" },
	{ WIRE_DATA, 0xff, 0, 100, "flags 0xff not allowed on a DATA frame" },
	{ WIRE_DATA, 0, 0x0001, 100,
	    "nonzero reserved field 0x0001 in a DATA frame" },
	{ WIRE_DATA, 0, 0x8000, 100,
	    "nonzero reserved field 0x8000 in a DATA frame" },
	/* KEEPALIVE: no body. */
	{ WIRE_KEEPALIVE, 0, 0, 0, NULL },
	{ WIRE_KEEPALIVE, 0, 0, 1,
	    "frame too large: KEEPALIVE of 1 bytes, expected exactly 0" },
	{ WIRE_KEEPALIVE, 0, 0, WIRE_CTRL_MAX_BODY,
	    "frame too large: KEEPALIVE of 1024 bytes, expected exactly 0" },
	{ WIRE_KEEPALIVE, WIRE_FLAG_ZLIB, 0, 0,
	    "flags 0x01 not allowed on a KEEPALIVE frame" },
	{ WIRE_KEEPALIVE, 0, 0xffff, 0,
	    "nonzero reserved field 0xffff in a KEEPALIVE frame" },
	/* REKEY and REKEY_ACK: 1..WIRE_CTRL_MAX_BODY. */
	{ WIRE_REKEY, 0, 0, 0, "frame too small: REKEY of 0 bytes, minimum 1" },
	{ WIRE_REKEY, 0, 0, 1, NULL },
	{ WIRE_REKEY, 0, 0, WIRE_CTRL_MAX_BODY, NULL },
	{ WIRE_REKEY, 0, 0, WIRE_CTRL_MAX_BODY + 1,
	    "frame too large: REKEY of 1025 bytes, limit 1024" },
	{ WIRE_REKEY, 0, 0, WIRE_DATA_MAX_BODY,
	    "frame too large: REKEY of 65565 bytes, limit 1024" },
	{ WIRE_REKEY, WIRE_FLAG_ZLIB, 0, 1,
	    "flags 0x01 not allowed on a REKEY frame" },
	{ WIRE_REKEY_ACK, 0, 0, 0,
	    "frame too small: REKEY_ACK of 0 bytes, minimum 1" },
	{ WIRE_REKEY_ACK, 0, 0, 1, NULL },
	{ WIRE_REKEY_ACK, 0, 0, WIRE_CTRL_MAX_BODY, NULL },
	{ WIRE_REKEY_ACK, 0, 0, WIRE_CTRL_MAX_BODY + 1,
	    "frame too large: REKEY_ACK of 1025 bytes, limit 1024" },
	{ WIRE_REKEY_ACK, 0x40, 0, 1,
	    "flags 0x40 not allowed on a REKEY_ACK frame" },
	/* CLOSE: reason and up to WIRE_CLOSE_MSG_MAX bytes of text. */
	{ WIRE_CLOSE, 0, 0, 0, "frame too small: CLOSE of 0 bytes, minimum 1" },
	{ WIRE_CLOSE, 0, 0, 1, NULL },
	{ WIRE_CLOSE, 0, 0, 1 + WIRE_CLOSE_MSG_MAX, NULL },
	{ WIRE_CLOSE, 0, 0, 2 + WIRE_CLOSE_MSG_MAX,
	    "frame too large: CLOSE of 202 bytes, limit 201" },
	{ WIRE_CLOSE, WIRE_FLAG_ZLIB, 0, 1,
	    "flags 0x01 not allowed on a CLOSE frame" },
	{ WIRE_CLOSE, 0, 0x0100, 1,
	    "nonzero reserved field 0x0100 in a CLOSE frame" },
	/* Unknown types, whatever else the header says. */
	{ 0, 0, 0, 0, "unknown frame type 0" },
	{ 0, 0, 0, 1, "unknown frame type 0" },
	{ WIRE_FRAME_TYPE_MAX + 1, 0, 0, 1, "unknown frame type 8" },
	{ 9, 0, 0, 1, "unknown frame type 9" },
	{ 255, 0xff, 0xffff, 0xffffffffu, "unknown frame type 255" },
};

/* Lay out a header by hand, independently of frame_put_hdr(). */
static void
hdr_bytes(const struct hdr_case *tc, uint8_t b[WIRE_FRAME_HDR_LEN])
{
	b[0] = tc->type;
	b[1] = tc->flags;
	b[2] = (uint8_t)(tc->rsv >> 8);
	b[3] = (uint8_t)tc->rsv;
	b[4] = (uint8_t)(tc->len >> 24);
	b[5] = (uint8_t)(tc->len >> 16);
	b[6] = (uint8_t)(tc->len >> 8);
	b[7] = (uint8_t)tc->len;
}

static void
test_parse_hdr(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(hdr_cases); i++) {
		const struct hdr_case *tc = &hdr_cases[i];
		struct frame_hdr h = { 0xee, 0xee, 0xeeeeeeee };
		uint8_t b[WIRE_FRAME_HDR_LEN], put[WIRE_FRAME_HDR_LEN];
		char err[160] = "";
		int rc;

		hdr_bytes(tc, b);
		rc = frame_parse_hdr(b, &h, err, sizeof(err));
		if (tc->err == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err);
			assert_int_equal(h.type, tc->type);
			assert_int_equal(h.flags, tc->flags);
			assert_int_equal(h.len, tc->len);
			frame_put_hdr(put, tc->type, tc->flags, tc->len);
			assert_memory_equal(put, b, sizeof(b));
		} else {
			if (rc != -1)
				fail_msg("case %zu accepted", i);
			assert_string_equal(err, tc->err);
			/* Nothing half-parsed leaks out. */
			assert_int_equal(h.type, 0xee);
			assert_int_equal(h.flags, 0xee);
			assert_int_equal(h.len, 0xeeeeeeee);
		}
	}
	/* A NULL error buffer is allowed. */
	{
		uint8_t b[WIRE_FRAME_HDR_LEN];
		struct frame_hdr h;

		hdr_bytes(&hdr_cases[N(hdr_cases) - 1], b);
		assert_int_equal(frame_parse_hdr(b, &h, NULL, 0), -1);
	}
}

static void
test_names(void **state)
{
	static const char *const types[] = { "unknown", "HELLO", "HELLO_ACK",
		"DATA", "KEEPALIVE", "REKEY", "REKEY_ACK", "CLOSE", "unknown" };
	static const char *const reasons[] = { "shutdown", "replaced", "busy",
		"protocol error", "refused", "timeout", "error", "unknown" };
	unsigned int i;

	(void)state;
	for (i = 0; i < N(types); i++)
		assert_string_equal(frame_type_name((uint8_t)i), types[i]);
	assert_string_equal(frame_type_name(255), "unknown");
	for (i = 0; i < N(reasons); i++)
		assert_string_equal(frame_close_reason_name((uint8_t)i),
		    reasons[i]);
	assert_string_equal(frame_close_reason_name(255), "unknown");
}

static const struct frame_hello hello_valid[] = {
	{ WIRE_VERSION, WIRE_TRANSPORT_UDP, WIRE_DEV_TUN, 0, WIRE_CIPHER_AUTO,
	    0, 0, 0 },
	{ WIRE_VERSION, WIRE_TRANSPORT_TCP, WIRE_DEV_TAP, WIRE_COMPRESS_MAX,
	    WIRE_CIPHER_CHACHA20_POLY1305, WIRE_MTU_MAX, 0xffffffffu,
	    0xffff },
	{ WIRE_VERSION, WIRE_TRANSPORT_UDP, WIRE_DEV_TAP, 1,
	    WIRE_CIPHER_AES_256_GCM, WIRE_MTU_MIN, 0x01020304, 5000 },
	{ WIRE_VERSION, WIRE_TRANSPORT_TCP, WIRE_DEV_TUN, 6,
	    WIRE_CIPHER_AUTO, 1500, 1, 1 },
};

/* Encode, check the exact bytes of one, decode, compare. */
static void
test_hello_round_trip(void **state)
{
	static const uint8_t want[WIRE_HELLO_LEN] = { 1, 0, 1, 1, 1, 0, 0x02,
		0x40, 0x01, 0x02, 0x03, 0x04, 0x13, 0x88 };
	uint8_t b[WIRE_HELLO_LEN];
	struct frame_hello h;
	char err[160];
	size_t i;

	(void)state;
	frame_hello_encode(&hello_valid[2], b);
	assert_memory_equal(b, want, sizeof(want));
	for (i = 0; i < N(hello_valid); i++) {
		memset(b, 0xee, sizeof(b));
		frame_hello_encode(&hello_valid[i], b);
		memset(&h, 0, sizeof(h));
		if (frame_hello_decode(b, sizeof(b), &h, err, sizeof(err)) != 0)
			fail_msg("hello %zu: %s", i, err);
		assert_int_equal(h.version, hello_valid[i].version);
		assert_int_equal(h.transport, hello_valid[i].transport);
		assert_int_equal(h.type, hello_valid[i].type);
		assert_int_equal(h.compress, hello_valid[i].compress);
		assert_int_equal(h.cipher, hello_valid[i].cipher);
		assert_int_equal(h.mtu, hello_valid[i].mtu);
		assert_int_equal(h.udp_receiver_id,
		    hello_valid[i].udp_receiver_id);
		assert_int_equal(h.udp_port, hello_valid[i].udp_port);
	}
}

struct hello_bad {
	size_t off;	 /* byte to change in a valid body */
	size_t width;	 /* 1 or 2 (big-endian) */
	unsigned int v;	 /* the value written there */
	const char *err; /* NULL: still valid */
};

static const struct hello_bad hello_bad[] = {
	{ 0, 1, 0, "protocol version 0 is not supported; this build speaks "
		   "version 1" },
	{ 0, 1, 2, "protocol version 2 is not supported; this build speaks "
		   "version 1" },
	{ 0, 1, 255, "protocol version 255 is not supported; this build "
		     "speaks version 1" },
	{ 1, 1, 2, "unknown transport 2 (0 = udp, 1 = tcp)" },
	{ 1, 1, 255, "unknown transport 255 (0 = udp, 1 = tcp)" },
	{ 2, 1, 2, "unknown device type 2 (0 = tun, 1 = tap)" },
	{ 2, 1, 128, "unknown device type 128 (0 = tun, 1 = tap)" },
	{ 3, 1, 9, NULL },
	{ 3, 1, 10, "compression level 10 is out of range 0..9" },
	{ 3, 1, 255, "compression level 255 is out of range 0..9" },
	{ 4, 1, 2, NULL },
	{ 4, 1, 3, "unknown cipher 3 (0 = auto, 1 = aes-256-gcm, "
		   "2 = chacha20-poly1305)" },
	{ 4, 1, 255, "unknown cipher 255 (0 = auto, 1 = aes-256-gcm, "
		     "2 = chacha20-poly1305)" },
	{ 5, 1, 1, "nonzero reserved byte 0x01" },
	{ 5, 1, 0x80, "nonzero reserved byte 0x80" },
	{ 6, 2, 0, NULL },
	{ 6, 2, 1, "mtu 1 is out of range (0 or 576..65535)" },
	{ 6, 2, WIRE_MTU_MIN - 1, "mtu 575 is out of range (0 or 576..65535)" },
	{ 6, 2, WIRE_MTU_MIN, NULL },
	{ 6, 2, WIRE_MTU_MAX, NULL },
	/* Receiver id and port are the session's to judge. */
	{ 8, 2, 0, NULL },
	{ 12, 2, 0, NULL },
};

/* One field at a time made invalid; the rest of the body stays valid. */
static void
test_hello_invalid(void **state)
{
	uint8_t b[WIRE_HELLO_LEN + 1];
	struct frame_hello h;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < N(hello_bad); i++) {
		const struct hello_bad *tc = &hello_bad[i];
		int rc;

		frame_hello_encode(&hello_valid[3], b);
		if (tc->width == 1) {
			b[tc->off] = (uint8_t)tc->v;
		} else {
			b[tc->off] = (uint8_t)(tc->v >> 8);
			b[tc->off + 1] = (uint8_t)tc->v;
		}
		memset(&h, 0xee, sizeof(h));
		err[0] = '\0';
		rc = frame_hello_decode(b, WIRE_HELLO_LEN, &h, err,
		    sizeof(err));
		if (tc->err == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu accepted", i);
		assert_string_equal(err, tc->err);
		assert_int_equal(h.version, 0xee);
		assert_int_equal(h.udp_receiver_id, 0xeeeeeeee);
	}
	/* Wrong sizes, including a valid body with one byte more. */
	frame_hello_encode(&hello_valid[0], b);
	b[WIRE_HELLO_LEN] = 0;
	assert_int_equal(frame_hello_decode(b, WIRE_HELLO_LEN + 1, &h, err,
				 sizeof(err)),
	    -1);
	assert_string_equal(err, "hello body of 15 bytes, expected 14");
	assert_int_equal(frame_hello_decode(b, WIRE_HELLO_LEN - 1, &h, err,
				 sizeof(err)),
	    -1);
	assert_string_equal(err, "hello body of 13 bytes, expected 14");
	assert_int_equal(frame_hello_decode(NULL, 0, &h, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "hello body of 0 bytes, expected 14");
}

/* A HELLO_ACK decides: every valid HELLO passes but one leaving mtu 0. */
static void
test_hello_ack_mtu(void **state)
{
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < N(hello_valid); i++) {
		err[0] = '\0';
		if (hello_valid[i].mtu == 0) {
			assert_int_equal(frame_hello_ack_check(&hello_valid[i],
					     err, sizeof(err)),
			    -1);
			assert_string_equal(err, "hello ack without an mtu");
		} else {
			assert_int_equal(frame_hello_ack_check(&hello_valid[i],
					     err, sizeof(err)),
			    0);
		}
	}
}

/* Every reason with and without text, through encode and decode. */
static void
test_close_round_trip(void **state)
{
	static const char *const msgs[] = { NULL, "", "bye",
		"session \"office\" replaced by 192.0.2.7:40000" };
	uint8_t b[1 + WIRE_CLOSE_MSG_MAX];
	char msg[4 * WIRE_CLOSE_MSG_MAX + 1], err[160];
	unsigned int r;
	size_t i, len;
	uint8_t reason;

	(void)state;
	for (r = 0; r <= WIRE_CLOSE_REASON_MAX; r++) {
		for (i = 0; i < N(msgs); i++) {
			const char *m = msgs[i] != NULL ? msgs[i] : "";

			assert_int_equal(frame_close_encode((uint8_t)r,
						 msgs[i], b, sizeof(b), &len),
			    0);
			assert_int_equal(len, 1 + strlen(m));
			assert_int_equal(b[0], r);
			reason = 0xee;
			assert_int_equal(frame_close_decode(b, len, &reason,
						 msg, sizeof(msg), err,
						 sizeof(err)),
			    0);
			assert_int_equal(reason, r);
			assert_string_equal(msg, m);
		}
	}
	/* Unknown reasons are refused on the way out... */
	assert_int_equal(frame_close_encode(WIRE_CLOSE_REASON_MAX + 1, "x", b,
				 sizeof(b), &len),
	    -1);
	/* ...and accepted on the way in. */
	b[0] = 200;
	b[1] = 'x';
	assert_int_equal(frame_close_decode(b, 2, &reason, msg, sizeof(msg),
				 err, sizeof(err)),
	    0);
	assert_int_equal(reason, 200);
	assert_string_equal(msg, "x");
	/* No room: even the reason needs a byte. */
	assert_int_equal(frame_close_encode(0, "abc", b, 3, &len), -1);
	assert_int_equal(frame_close_encode(0, "abc", b, 0, &len), -1);
	assert_int_equal(frame_close_encode(0, "abc", b, 4, &len), 0);
	assert_int_equal(len, 4);
}

/* A long message is cut to WIRE_CLOSE_MSG_MAX bytes, not refused. */
static void
test_close_truncation(void **state)
{
	char longmsg[WIRE_CLOSE_MSG_MAX + 100], msg[512], err[160];
	uint8_t b[1 + WIRE_CLOSE_MSG_MAX + 100];
	uint8_t reason;
	size_t len;

	(void)state;
	memset(longmsg, 'a', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	assert_int_equal(frame_close_encode(WIRE_CLOSE_ERROR, longmsg, b,
				 sizeof(b), &len),
	    0);
	assert_int_equal(len, 1 + WIRE_CLOSE_MSG_MAX);
	assert_int_equal(frame_close_decode(b, len, &reason, msg, sizeof(msg),
				 err, sizeof(err)),
	    0);
	assert_int_equal(strlen(msg), WIRE_CLOSE_MSG_MAX);
	/* Exactly the limit fits an exactly sized buffer. */
	longmsg[WIRE_CLOSE_MSG_MAX] = '\0';
	assert_int_equal(frame_close_encode(WIRE_CLOSE_ERROR, longmsg, b,
				 1 + WIRE_CLOSE_MSG_MAX, &len),
	    0);
	assert_int_equal(len, 1 + WIRE_CLOSE_MSG_MAX);
	/* A body longer than the limit is refused on the way in. */
	memset(b + 1, 'a', WIRE_CLOSE_MSG_MAX + 1);
	assert_int_equal(frame_close_decode(b, 2 + WIRE_CLOSE_MSG_MAX, &reason,
				 msg, sizeof(msg), err, sizeof(err)),
	    -1);
	assert_string_equal(err, "close message of 201 bytes, limit 200");
	assert_int_equal(frame_close_decode(b, 0, &reason, msg, sizeof(msg),
				 err, sizeof(err)),
	    -1);
	assert_string_equal(err, "close body is empty");
	/* A small message buffer gets a cut, terminated, marked string. */
	assert_int_equal(frame_close_decode(b, 1 + WIRE_CLOSE_MSG_MAX, &reason,
				 msg, 8, err, sizeof(err)),
	    0);
	assert_string_equal(msg, "aaaa...");
}

/* Binary and control bytes from the peer come back printable. */
static void
test_close_binary(void **state)
{
	static const uint8_t body[] = { WIRE_CLOSE_PROTOCOL, 'o', 'k', '\n',
		0x00, 0x1b, '[', '2', 'J', 0xff, '\\', 0x7f };
	char msg[128], err[160];
	uint8_t reason;
	size_t i;

	(void)state;
	assert_int_equal(frame_close_decode(body, sizeof(body), &reason, msg,
				 sizeof(msg), err, sizeof(err)),
	    0);
	assert_int_equal(reason, WIRE_CLOSE_PROTOCOL);
	assert_string_equal(msg, "ok\\x0a\\x00\\x1b[2J\\xff\\\\\\x7f");
	for (i = 0; msg[i] != '\0'; i++)
		assert_true(msg[i] >= 0x20 && msg[i] < 0x7f);
	/* No message buffer at all is fine too. */
	assert_int_equal(frame_close_decode(body, sizeof(body), &reason, NULL,
				 0, err, sizeof(err)),
	    0);
}

enum pkt_kind { K_IP4, K_IP6, K_RAW };

struct pkt_case {
	bool tap;
	enum pkt_kind kind;
	size_t len;	  /* bytes handed to the check */
	size_t mtu;
	unsigned int a;	  /* IPv4 IHL / RAW first byte */
	long hdrlen;	  /* length field relative to its correct value */
	const char *why;  /* NULL: valid */
};

static const struct pkt_case pkt_cases[] = {
	/* IPv4 */
	{ false, K_IP4, 20, 1500, 5, 0, NULL },
	{ false, K_IP4, 1500, 1500, 5, 0, NULL },
	{ false, K_IP4, 1501, 1500, 5, 0, "too large" },
	{ false, K_IP4, 576, 576, 5, 0, NULL },
	{ false, K_IP4, 65535, 65535, 5, 0, NULL },
	{ false, K_IP4, 19, 1500, 5, 0, "ipv4 too short" },
	{ false, K_IP4, 1, 1500, 5, 0, "ipv4 too short" },
	{ false, K_IP4, 100, 1500, 4, 0, "ipv4 bad header length" },
	{ false, K_IP4, 100, 1500, 0, 0, "ipv4 bad header length" },
	{ false, K_IP4, 60, 1500, 15, 0, NULL },
	{ false, K_IP4, 59, 1500, 15, 0, "ipv4 header past end" },
	{ false, K_IP4, 24, 1500, 6, 0, NULL },
	{ false, K_IP4, 23, 1500, 6, 0, "ipv4 header past end" },
	{ false, K_IP4, 100, 1500, 5, 1, "ipv4 length mismatch" },
	{ false, K_IP4, 100, 1500, 5, -1, "ipv4 length mismatch" },
	{ false, K_IP4, 100, 1500, 5, -100, "ipv4 length mismatch" },
	{ false, K_IP4, 1500, 1500, 5, 1, "ipv4 length mismatch" },
	/* IPv6 */
	{ false, K_IP6, 40, 1500, 0, 0, NULL },
	{ false, K_IP6, 1500, 1500, 0, 0, NULL },
	{ false, K_IP6, 1501, 1500, 0, 0, "too large" },
	{ false, K_IP6, 1280, 1280, 0, 0, NULL },
	{ false, K_IP6, 39, 1500, 0, 0, "ipv6 too short" },
	{ false, K_IP6, 1, 1500, 0, 0, "ipv6 too short" },
	{ false, K_IP6, 100, 1500, 0, 1, "ipv6 length mismatch" },
	{ false, K_IP6, 100, 1500, 0, -1, "ipv6 length mismatch" },
	{ false, K_IP6, 100, 1500, 0, -60, "ipv6 length mismatch" },
	{ false, K_IP6, 40, 1500, 0, 1, "ipv6 length mismatch" },
	/* Neither */
	{ false, K_RAW, 0, 1500, 0x45, 0, "empty" },
	{ false, K_RAW, 100, 1500, 0x00, 0, "not ip" },
	{ false, K_RAW, 100, 1500, 0x50, 0, "not ip" },
	{ false, K_RAW, 100, 1500, 0xff, 0, "not ip" },
	{ false, K_RAW, 1, 1500, 0x60, 0, "ipv6 too short" },
	/* tap: 14..mtu + 18 bytes of anything */
	{ true, K_RAW, 0, 1500, 0, 0, "empty" },
	{ true, K_RAW, 1, 1500, 0, 0, "too short" },
	{ true, K_RAW, 13, 1500, 0, 0, "too short" },
	{ true, K_RAW, 14, 1500, 0, 0, NULL },
	{ true, K_RAW, 1514, 1500, 0, 0, NULL },
	{ true, K_RAW, 1518, 1500, 0xff, 0, NULL },
	{ true, K_RAW, 1519, 1500, 0, 0, "too large" },
	{ true, K_RAW, 65535 + 18, 65535, 0, 0, NULL },
	{ true, K_RAW, 65535 + 19, 65535, 0, 0, "too large" },
	/* tap frames are not IP-checked; tun packets are */
	{ true, K_IP4, 100, 1500, 5, 1, NULL },
	{ true, K_IP6, 100, 1500, 0, 1, NULL },
};

/*
 * Build each case in a heap buffer of exactly len bytes, so that a read
 * past the end is caught by ASan in the sanitizer build.
 */
static void
test_packet_check(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(pkt_cases); i++) {
		const struct pkt_case *tc = &pkt_cases[i];
		uint8_t *p = tc->len > 0 ? malloc(tc->len) : NULL;
		uint8_t hdr[40];
		const char *why = NULL;
		long field;
		int rc;

		memset(hdr, 0, sizeof(hdr));
		switch (tc->kind) {
		case K_IP4:
			field = (long)tc->len + tc->hdrlen;
			hdr[0] = (uint8_t)(0x40 | tc->a);
			hdr[2] = (uint8_t)(field >> 8);
			hdr[3] = (uint8_t)field;
			hdr[9] = 17;
			break;
		case K_IP6:
			field = (long)tc->len - 40 + tc->hdrlen;
			hdr[0] = 0x60;
			hdr[4] = (uint8_t)(field >> 8);
			hdr[5] = (uint8_t)field;
			hdr[6] = 17;
			break;
		case K_RAW:
			hdr[0] = (uint8_t)tc->a;
			break;
		}
		if (p != NULL) {
			memset(p, 0x5a, tc->len);
			memcpy(p, hdr, tc->len < sizeof(hdr) ? tc->len :
							       sizeof(hdr));
		}
		rc = frame_packet_check(tc->tap, p, tc->len, tc->mtu, &why);
		if (tc->why == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, why);
		} else {
			if (rc != -1)
				fail_msg("case %zu accepted", i);
			assert_non_null(why);
			assert_string_equal(why, tc->why);
		}
		free(p);
	}
}

/* Every length 0..80 with every first byte: no read past the end. */
static void
test_packet_check_sweep(void **state)
{
	size_t len;
	unsigned int first;

	(void)state;
	for (len = 0; len <= 80; len++) {
		for (first = 0; first < 256; first++) {
			uint8_t *p = len > 0 ? malloc(len) : NULL;
			const char *why = NULL;

			if (p != NULL) {
				memset(p, 0, len);
				p[0] = (uint8_t)first;
			}
			if (frame_packet_check(false, p, len, 1500, &why) != 0)
				assert_non_null(why);
			(void)frame_packet_check(true, p, len, 1500, NULL);
			free(p);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hdr),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_hello_invalid),
		cmocka_unit_test(test_hello_ack_mtu),
		cmocka_unit_test(test_close_round_trip),
		cmocka_unit_test(test_close_truncation),
		cmocka_unit_test(test_close_binary),
		cmocka_unit_test(test_packet_check),
		cmocka_unit_test(test_packet_check_sweep),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
