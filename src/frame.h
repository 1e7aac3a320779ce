/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frames inside the TLS stream (layout in wire.h):
 *   type(1) | flags(1) | reserved(2) | length(4, big-endian) | body
 * and the fixed bodies of HELLO, HELLO_ACK and CLOSE, plus the sanity check
 * of an inner packet before it is written to the device.
 *
 * Sans-I/O: functions take bytes and return results.  Parsers return 0, or
 * -1 with one complete sentence in err that names the offending value, so
 * the session can log it and close with WIRE_CLOSE_PROTOCOL
 * (tests/ATTACKS.md rows 15 and 16).
 */
#ifndef TAPLINE_FRAME_H
#define TAPLINE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct frame_hdr {
	uint8_t type;	/* enum wire_frame_type */
	uint8_t flags;	/* WIRE_FLAG_* */
	uint32_t len;	/* body length */
};

/*
 * Check the 8 header bytes alone, before any of the body has arrived, so
 * that the caller never buffers or allocates a length it would refuse:
 * reserved is 0; the type is known (1..WIRE_FRAME_TYPE_MAX); flags are 0
 * except WIRE_FLAG_ZLIB and WIRE_FLAG_GSO on DATA; the body length is 1..WIRE_DATA_MAX_BODY
 * for DATA, 0 for KEEPALIVE, WIRE_HELLO_LEN for HELLO and HELLO_ACK,
 * 1..1 + WIRE_CLOSE_MSG_MAX for CLOSE and 1..WIRE_CTRL_MAX_BODY for REKEY
 * and REKEY_ACK.  On success fills *h; on error leaves it untouched.
 *
 * Whether a ZLIB flag is acceptable on this session (compression on) and
 * whether a DATA body fits the session's MTU are the session's checks.
 */
int frame_parse_hdr(const uint8_t hdr[WIRE_FRAME_HDR_LEN], struct frame_hdr *h,
    char *err, size_t errlen);

/* Write a frame header; the values are the caller's and are not checked. */
void frame_put_hdr(uint8_t hdr[WIRE_FRAME_HDR_LEN], uint8_t type,
    uint8_t flags, uint32_t len);

/* HELLO and HELLO_ACK bodies (wire.h has the layout). */
struct frame_hello {
	uint8_t version;	  /* WIRE_VERSION */
	uint8_t transport;	  /* enum wire_transport */
	uint8_t type;		  /* enum wire_devtype */
	uint8_t compress;	  /* 0 = off, 1..WIRE_COMPRESS_MAX = level */
	uint8_t cipher;		  /* enum wire_cipher */
	uint16_t mtu;		  /* 0 = derive, else WIRE_MTU_MIN.. */
	uint32_t udp_receiver_id; /* the sender's id for UDP datagrams */
	uint16_t udp_port;	  /* the sender's UDP port, 0 = none */
};

/* Encode *h as a HELLO or HELLO_ACK body; reserved is written as 0. */
void frame_hello_encode(const struct frame_hello *h,
    uint8_t out[WIRE_HELLO_LEN]);

/*
 * Decode and check a HELLO or HELLO_ACK body: exactly WIRE_HELLO_LEN
 * bytes, version WIRE_VERSION, known transport, device type and cipher,
 * compress 0..WIRE_COMPRESS_MAX, reserved 0, mtu 0 or WIRE_MTU_MIN..
 * WIRE_MTU_MAX.  The receiver id and port are not judged here.  On error
 * leaves *h untouched.
 */
int frame_hello_decode(const uint8_t *body, size_t len, struct frame_hello *h,
    char *err, size_t errlen);

/*
 * What a decoded HELLO_ACK must also hold: it is the server's decision, so
 * it names the MTU (0, "derive", is only a client's wish; a client taking
 * it would carry packets of any size the device hands over).
 */
int frame_hello_ack_check(const struct frame_hello *h, char *err,
    size_t errlen);

/*
 * Encode a CLOSE body: reason, then msg (NULL for none) cut to
 * WIRE_CLOSE_MSG_MAX bytes.  Returns -1 if the reason is unknown or out
 * has no room.
 */
int frame_close_encode(uint8_t reason, const char *msg, uint8_t *out,
    size_t outcap, size_t *outlen);

/*
 * Decode a CLOSE body of 1..1 + WIRE_CLOSE_MSG_MAX bytes.  The peer's
 * message comes back escaped (printable ASCII, see util_escape) in msg.
 * An unknown reason is accepted: the session ends either way, and the
 * message of a newer peer is more use to the operator than a protocol
 * error; frame_close_reason_name() calls it "unknown".
 */
int frame_close_decode(const uint8_t *body, size_t len, uint8_t *reason,
    char *msg, size_t msglen, char *err, size_t errlen);

/* "HELLO", "DATA", ...; "unknown" for anything else. */
const char *frame_type_name(uint8_t type);
/* "shutdown", "replaced", ...; "unknown" for anything else. */
const char *frame_close_reason_name(uint8_t reason);

/*
 * Check a decrypted, inflated inner packet before it is written to the
 * device, so that the kernel is never handed a packet it would reject and
 * nothing reads past the buffer (tests/ATTACKS.md row 16).  tun: an IPv4
 * packet (version 4, IHL >= 5, header within the packet, total length ==
 * len) or an IPv6 packet (40 + payload length == len) of at most mtu
 * bytes.  tap: an Ethernet frame of 14..mtu + 18 bytes (one VLAN tag).
 * The packet has no virtio-net header in front.  Returns 0, or -1 with
 * *why set to a short static reason fit for a drop counter ("ipv4 length
 * mismatch").
 */
int frame_packet_check(bool is_tap, const uint8_t *p, size_t len, size_t mtu,
    const char **why);

#endif
