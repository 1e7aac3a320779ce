/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "pkt.h"
#include "util.h"
#include "wire.h"

/* What each frame type may carry; a type without a name is unknown. */
struct frame_rule {
	const char *name;
	uint8_t flags;	  /* flags allowed on this type */
	uint32_t min_len; /* body length bounds, inclusive */
	uint32_t max_len;
	uint32_t reattach_len; /* added to both with WIRE_FLAG_REATTACH */
};

static const struct frame_rule frame_rules[WIRE_FRAME_TYPE_MAX + 1] = {
	[WIRE_HELLO] = { "HELLO", WIRE_FLAG_REATTACH, WIRE_HELLO_LEN,
	    WIRE_HELLO_LEN, WIRE_REATTACH_TOKEN_LEN },
	[WIRE_HELLO_ACK] = { "HELLO_ACK", WIRE_FLAG_REATTACH, WIRE_HELLO_LEN,
	    WIRE_HELLO_LEN, 0 },
	[WIRE_DATA] = { "DATA", WIRE_FLAG_ZLIB | WIRE_FLAG_GSO, 1,
	    WIRE_DATA_MAX_BODY, 0 },
	[WIRE_KEEPALIVE] = { "KEEPALIVE", 0, 0, 0, 0 },
	[WIRE_REKEY] = { "REKEY", 0, 1, WIRE_CTRL_MAX_BODY, 0 },
	[WIRE_REKEY_ACK] = { "REKEY_ACK", 0, 1, WIRE_CTRL_MAX_BODY,
	    0 },
	[WIRE_CLOSE] = { "CLOSE", 0, 1, 1 + WIRE_CLOSE_MSG_MAX, 0 },
};

static const char *const frame_close_reasons[WIRE_CLOSE_REASON_MAX + 1] = {
	[WIRE_CLOSE_SHUTDOWN] = "shutdown",
	[WIRE_CLOSE_REPLACED] = "replaced",
	[WIRE_CLOSE_BUSY] = "busy",
	[WIRE_CLOSE_PROTOCOL] = "protocol error",
	[WIRE_CLOSE_REFUSED] = "refused",
	[WIRE_CLOSE_TIMEOUT] = "timeout",
	[WIRE_CLOSE_ERROR] = "error",
};

/* IPv4 and IPv6 header sizes and the offsets of their length fields. */
#define FRAME_IP4_HDR_MIN 20
#define FRAME_IP4_OFF_TOTLEN 2
#define FRAME_IP6_HDR_LEN 40
#define FRAME_IP6_OFF_PLEN 4
/* An Ethernet header without a VLAN tag. */
#define FRAME_ETH_HDR_MIN 14

_Static_assert(WIRE_ETH_HDR_MAX == FRAME_ETH_HDR_MIN + 4, "one VLAN tag");

/* Its rule if type is known, else NULL. */
static const struct frame_rule *
frame_rule(uint8_t type)
{
	if (type > WIRE_FRAME_TYPE_MAX || frame_rules[type].name == NULL)
		return NULL;
	return &frame_rules[type];
}

const char *
frame_type_name(uint8_t type)
{
	const struct frame_rule *r = frame_rule(type);

	return r != NULL ? r->name : "unknown";
}

const char *
frame_close_reason_name(uint8_t reason)
{
	if (reason > WIRE_CLOSE_REASON_MAX)
		return "unknown";
	return frame_close_reasons[reason];
}

/*
 * A wider parameter type than the fields it checks, so that a bound equal
 * to a field's own limit (mtu <= 65535) does not draw -Wtype-limits.
 */
static bool
frame_in_range(unsigned long v, unsigned long lo, unsigned long hi)
{
	return v >= lo && v <= hi;
}

int
frame_parse_hdr(const uint8_t hdr[WIRE_FRAME_HDR_LEN], struct frame_hdr *h,
    char *err, size_t errlen)
{
	const struct frame_rule *r;
	uint8_t type = hdr[WIRE_FRAME_OFF_TYPE];
	uint8_t flags = hdr[WIRE_FRAME_OFF_FLAGS];
	uint16_t rsv = pkt_load16(hdr + WIRE_FRAME_OFF_RSV);
	uint32_t len = pkt_load32(hdr + WIRE_FRAME_OFF_LEN);
	uint32_t min, max;

	if ((r = frame_rule(type)) == NULL)
		return util_err(err, errlen, "unknown frame type %u", type);
	if (rsv != 0)
		return util_err(err, errlen,
		    "nonzero reserved field 0x%04x in a %s frame", rsv,
		    r->name);
	if ((flags & ~r->flags) != 0)
		return util_err(err, errlen,
		    "flags 0x%02x not allowed on a %s frame", flags, r->name);
	min = r->min_len;
	max = r->max_len;
	if (flags & WIRE_FLAG_REATTACH & r->flags) {
		min += r->reattach_len;
		max += r->reattach_len;
	}
	if (len > max && min == max)
		return util_err(err, errlen,
		    "frame too large: %s of %u bytes, expected exactly %u",
		    r->name, len, max);
	if (len > max)
		return util_err(err, errlen,
		    "frame too large: %s of %u bytes, limit %u", r->name, len,
		    max);
	if (len < min && min == max)
		return util_err(err, errlen,
		    "frame too small: %s of %u bytes, expected exactly %u",
		    r->name, len, min);
	if (len < min)
		return util_err(err, errlen,
		    "frame too small: %s of %u bytes, minimum %u", r->name,
		    len, min);
	h->type = type;
	h->flags = flags;
	h->len = len;
	return 0;
}

void
frame_put_hdr(uint8_t hdr[WIRE_FRAME_HDR_LEN], uint8_t type, uint8_t flags,
    uint32_t len)
{
	hdr[WIRE_FRAME_OFF_TYPE] = type;
	hdr[WIRE_FRAME_OFF_FLAGS] = flags;
	pkt_store16(hdr + WIRE_FRAME_OFF_RSV, 0);
	pkt_store32(hdr + WIRE_FRAME_OFF_LEN, len);
}

void
frame_hello_encode(const struct frame_hello *h, uint8_t out[WIRE_HELLO_LEN])
{
	struct pkt_wr w;

	/* The buffer is exactly the layout's size, so no write can fail. */
	pkt_wr_init(&w, out, WIRE_HELLO_LEN);
	(void)pkt_wr_u8(&w, h->version);
	(void)pkt_wr_u8(&w, h->transport);
	(void)pkt_wr_u8(&w, h->type);
	(void)pkt_wr_u8(&w, h->compress);
	(void)pkt_wr_u8(&w, h->cipher);
	(void)pkt_wr_u8(&w, 0);
	(void)pkt_wr_u16(&w, h->mtu);
	(void)pkt_wr_u32(&w, h->udp_receiver_id);
	(void)pkt_wr_u16(&w, h->udp_port);
}

/* Check each field of a decoded HELLO body; the sentence names the value. */
static int
frame_hello_check(const struct frame_hello *h, uint8_t rsv, char *err,
    size_t errlen)
{
	if (h->version != WIRE_VERSION)
		return util_err(err, errlen,
		    "protocol version %u is not supported; this build speaks "
		    "version %d",
		    h->version, WIRE_VERSION);
	if (h->transport != WIRE_TRANSPORT_UDP &&
	    h->transport != WIRE_TRANSPORT_TCP)
		return util_err(err, errlen,
		    "unknown transport %u (0 = udp, 1 = tcp)", h->transport);
	if (h->type != WIRE_DEV_TUN && h->type != WIRE_DEV_TAP)
		return util_err(err, errlen,
		    "unknown device type %u (0 = tun, 1 = tap)", h->type);
	if (h->compress > WIRE_COMPRESS_MAX)
		return util_err(err, errlen,
		    "compression level %u is out of range 0..%d", h->compress,
		    WIRE_COMPRESS_MAX);
	if (h->cipher != WIRE_CIPHER_AUTO &&
	    h->cipher != WIRE_CIPHER_AES_256_GCM &&
	    h->cipher != WIRE_CIPHER_CHACHA20_POLY1305)
		return util_err(err, errlen,
		    "unknown cipher %u (0 = auto, 1 = aes-256-gcm, "
		    "2 = chacha20-poly1305)",
		    h->cipher);
	if (rsv != 0)
		return util_err(err, errlen, "nonzero reserved byte 0x%02x",
		    rsv);
	if (h->mtu != 0 && !frame_in_range(h->mtu, WIRE_MTU_MIN, WIRE_MTU_MAX))
		return util_err(err, errlen,
		    "mtu %u is out of range (0 or %d..%d)", h->mtu,
		    WIRE_MTU_MIN, WIRE_MTU_MAX);
	return 0;
}

int
frame_hello_decode(const uint8_t *body, size_t len, struct frame_hello *h,
    char *err, size_t errlen)
{
	struct frame_hello v;
	struct pkt_rd r;
	uint8_t rsv;

	/* Exact size: a longer body would be a layout we do not know. */
	if (len != WIRE_HELLO_LEN)
		return util_err(err, errlen,
		    "hello body of %zu bytes, expected %d", len,
		    WIRE_HELLO_LEN);
	pkt_rd_init(&r, body, len);
	if (pkt_rd_u8(&r, &v.version) != 0 ||
	    pkt_rd_u8(&r, &v.transport) != 0 || pkt_rd_u8(&r, &v.type) != 0 ||
	    pkt_rd_u8(&r, &v.compress) != 0 || pkt_rd_u8(&r, &v.cipher) != 0 ||
	    pkt_rd_u8(&r, &rsv) != 0 || pkt_rd_u16(&r, &v.mtu) != 0 ||
	    pkt_rd_u32(&r, &v.udp_receiver_id) != 0 ||
	    pkt_rd_u16(&r, &v.udp_port) != 0)
		return util_err(err, errlen, "hello body is truncated");
	if (frame_hello_check(&v, rsv, err, errlen) != 0)
		return -1;
	*h = v;
	return 0;
}

int
frame_hello_ack_check(const struct frame_hello *h, char *err, size_t errlen)
{
	if (h->mtu == 0)
		return util_err(err, errlen, "hello ack without an mtu");
	return 0;
}

int
frame_close_encode(uint8_t reason, const char *msg, uint8_t *out,
    size_t outcap, size_t *outlen)
{
	struct pkt_wr w;
	size_t n;

	if (reason > WIRE_CLOSE_REASON_MAX)
		return -1;
	if (msg == NULL)
		msg = "";
	/* Cut, not refuse: the message is a courtesy to the peer's log. */
	n = strnlen(msg, WIRE_CLOSE_MSG_MAX);
	pkt_wr_init(&w, out, outcap);
	if (pkt_wr_u8(&w, reason) != 0 || pkt_wr_bytes(&w, msg, n) != 0)
		return -1;
	*outlen = w.off;
	return 0;
}

int
frame_close_decode(const uint8_t *body, size_t len, uint8_t *reason,
    char *msg, size_t msglen, char *err, size_t errlen)
{
	struct pkt_rd r;
	const uint8_t *text;
	size_t n;
	uint8_t v;

	if (len > 1 + WIRE_CLOSE_MSG_MAX)
		return util_err(err, errlen,
		    "close message of %zu bytes, limit %d", len - 1,
		    WIRE_CLOSE_MSG_MAX);
	pkt_rd_init(&r, body, len);
	if (pkt_rd_u8(&r, &v) != 0)
		return util_err(err, errlen, "close body is empty");
	n = pkt_rd_left(&r);
	if (pkt_rd_ptr(&r, &text, n) != 0)
		return util_err(err, errlen, "close body is truncated");
	*reason = v;
	/* The peer's text reaches our logs, so it is escaped here once. */
	if (msg != NULL && msglen > 0)
		util_escape(text, n, msg, msglen);
	return 0;
}

/* The IPv4 checks of frame_packet_check(); len is already within mtu. */
static int
frame_check_ipv4(const uint8_t *p, size_t len, const char **why)
{
	size_t ihl;

	if (len < FRAME_IP4_HDR_MIN) {
		*why = "ipv4 too short";
		return -1;
	}
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < FRAME_IP4_HDR_MIN) {
		*why = "ipv4 bad header length";
		return -1;
	}
	if (ihl > len) {
		*why = "ipv4 header past end";
		return -1;
	}
	if (pkt_load16(p + FRAME_IP4_OFF_TOTLEN) != len) {
		*why = "ipv4 length mismatch";
		return -1;
	}
	return 0;
}

/* The IPv6 checks of frame_packet_check(); len is already within mtu. */
static int
frame_check_ipv6(const uint8_t *p, size_t len, const char **why)
{
	if (len < FRAME_IP6_HDR_LEN) {
		*why = "ipv6 too short";
		return -1;
	}
	/*
	 * Jumbograms (payload length 0 plus a hop-by-hop option) cannot
	 * occur: no MTU we accept exceeds 65535.
	 */
	if (FRAME_IP6_HDR_LEN + (size_t)pkt_load16(p + FRAME_IP6_OFF_PLEN) !=
	    len) {
		*why = "ipv6 length mismatch";
		return -1;
	}
	return 0;
}

int
frame_packet_check(bool is_tap, const uint8_t *p, size_t len, size_t mtu,
    const char **why)
{
	const char *unused;

	if (why == NULL)
		why = &unused;
	if (len == 0) {
		*why = "empty";
		return -1;
	}
	if (is_tap) {
		if (len < FRAME_ETH_HDR_MIN) {
			*why = "too short";
			return -1;
		}
		if (len > mtu + WIRE_ETH_HDR_MAX) {
			*why = "too large";
			return -1;
		}
		return 0;
	}
	if (len > mtu) {
		*why = "too large";
		return -1;
	}
	switch (p[0] >> 4) {
	case 4:
		return frame_check_ipv4(p, len, why);
	case 6:
		return frame_check_ipv6(p, len, why);
	default:
		*why = "not ip";
		return -1;
	}
}
