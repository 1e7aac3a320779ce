/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every on-the-wire type, size and protocol limit of tapline, in one place
 * (doc/ARCHITECTURE.md has the protocol in one page).  Nothing here is
 * laid over raw bytes as a struct: parsers read fields with the bounded
 * helpers of pkt.h in network byte order; these constants give them their
 * sizes and limits.
 */
#ifndef TAPLINE_WIRE_H
#define TAPLINE_WIRE_H

#include <stdint.h>

/* Protocol version carried in HELLO. */
#define WIRE_VERSION 1

/* Default TCP and UDP port (vtund's). */
#define WIRE_DEFAULT_PORT 5000

/*
 * Frames inside the TLS stream:
 *   type(1) | flags(1) | reserved(2) | length(4, big-endian) | body
 */
#define WIRE_FRAME_HDR_LEN 8
#define WIRE_FRAME_OFF_TYPE 0
#define WIRE_FRAME_OFF_FLAGS 1
#define WIRE_FRAME_OFF_RSV 2
#define WIRE_FRAME_OFF_LEN 4

enum wire_frame_type {
	WIRE_HELLO = 1,
	WIRE_HELLO_ACK = 2,
	WIRE_DATA = 3,
	WIRE_KEEPALIVE = 4,
	WIRE_REKEY = 5,
	WIRE_REKEY_ACK = 6,
	WIRE_CLOSE = 7,
};
#define WIRE_FRAME_TYPE_MAX WIRE_CLOSE

/* Frame flags. */
#define WIRE_FLAG_ZLIB 0x01 /* DATA: the body is a raw-deflate stream */
/*
 * DATA, TCP mode: the body starts with an offload header, the
 * virtio_net_hdr fields in network byte order,
 *   flags(1) | gso_type(1) | hdr_len(2) | gso_size(2) | csum_start(2) |
 *   csum_offset(2)
 * and the (possibly zlib-compressed) packet behind it is a TSO/USO
 * super-packet of gso_type cut into gso_size segments.  The receiver
 * trusts only gso_type and gso_size and works out the rest itself.
 */
#define WIRE_FLAG_GSO 0x02
#define WIRE_GSO_HDR_LEN 10

/*
 * HELLO (client to server) and HELLO_ACK (server to client) bodies, fixed
 * layout, all big-endian:
 *   version(1) | transport(1) | type(1) | compress(1) | cipher(1) |
 *   reserved(1) = 0 | mtu(2) | udp_receiver_id(4) | udp_port(2)
 * HELLO says what the client's file asks for; HELLO_ACK says what the
 * session will use (the server decides, as vtund's server did).
 */
#define WIRE_HELLO_LEN 14
/*
 * Re-attach (UDP mode): a client whose TLS control connection was lost
 * while its data channel still works dials again and sends a HELLO with
 * WIRE_FLAG_REATTACH, its body followed by the token both ends exported
 * from the connection that was lost (WIRE_REATTACH_LABEL, no context).
 * The server moves the live session to the new connection and answers
 * with a HELLO_ACK carrying the same flag (and the session's settings),
 * or refuses with CLOSE.  Both ends then take the next token from the new
 * connection.  A peer that does not know the flag refuses the frame, and
 * the client starts afresh.
 */
#define WIRE_FLAG_REATTACH 0x04
#define WIRE_REATTACH_TOKEN_LEN 32
#define WIRE_REATTACH_LABEL "EXPORTER-tapline-reattach-v1"
enum wire_transport { WIRE_TRANSPORT_UDP = 0, WIRE_TRANSPORT_TCP = 1 };
enum wire_devtype { WIRE_DEV_TUN = 0, WIRE_DEV_TAP = 1 };
/* compress: 0 = off, 1..9 = zlib level. */
#define WIRE_COMPRESS_MAX 9
enum wire_cipher {
	WIRE_CIPHER_AUTO = 0,
	WIRE_CIPHER_AES_256_GCM = 1,
	WIRE_CIPHER_CHACHA20_POLY1305 = 2,
};

/*
 * CLOSE body: reason(1) | message (0..WIRE_CLOSE_MSG_MAX bytes of text,
 * escaped before it is logged).
 */
#define WIRE_CLOSE_MSG_MAX 200
enum wire_close_reason {
	WIRE_CLOSE_SHUTDOWN = 0, /* the peer is stopping */
	WIRE_CLOSE_REPLACED = 1, /* a newer connection took the session */
	WIRE_CLOSE_BUSY = 2,	 /* multi = deny and the session is up */
	WIRE_CLOSE_PROTOCOL = 3, /* the peer sent something invalid */
	WIRE_CLOSE_REFUSED = 4,	 /* HELLO asks for what the server won't do */
	WIRE_CLOSE_TIMEOUT = 5,	 /* nothing heard for `timeout` seconds */
	WIRE_CLOSE_ERROR = 6,	 /* a local failure (device, command, ...) */
};
#define WIRE_CLOSE_REASON_MAX WIRE_CLOSE_ERROR

/* Largest IP packet (IPv4 total length / IPv6 payload length field). */
#define WIRE_IP_MAX 65535
/* Ethernet header with one VLAN tag, for tap frames. */
#define WIRE_ETH_HDR_MAX 18
/* struct virtio_net_hdr_mrg_rxbuf is the largest vnet header we use. */
#define WIRE_VNET_HDR_MAX 12
/* Largest packet a device read can return (offload super-packet, tap). */
#define WIRE_PACKET_MAX (WIRE_VNET_HDR_MAX + WIRE_ETH_HDR_MAX + WIRE_IP_MAX)

/*
 * Body limits.  A DATA body carries one packet, offload super-packets
 * included, so its limit leaves room for the largest device read; control
 * frames (HELLO, REKEY, CLOSE, ...) are small and capped much lower so
 * that a peer cannot make us buffer much before we can judge it.
 */
#define WIRE_DATA_MAX_BODY WIRE_PACKET_MAX
#define WIRE_CTRL_MAX_BODY 1024
#define WIRE_FRAME_MAX (WIRE_FRAME_HDR_LEN + WIRE_DATA_MAX_BODY)

/*
 * UDP data datagram:
 *   type=0x01 | epoch | flags=0 | reserved=0 | receiver_id(4) | counter(8)
 *   ciphertext of (kind(1) | payload) | tag(16)
 * AAD is the 16 header bytes.
 */
#define WIRE_UDP_TYPE_DATA 0x01
#define WIRE_UDP_HDR_LEN 16
#define WIRE_UDP_OFF_TYPE 0
#define WIRE_UDP_OFF_EPOCH 1
#define WIRE_UDP_OFF_FLAGS 2
#define WIRE_UDP_OFF_RSV 3
#define WIRE_UDP_OFF_RECEIVER 4
#define WIRE_UDP_OFF_COUNTER 8
#define WIRE_UDP_TAG_LEN 16
#define WIRE_UDP_OVERHEAD (WIRE_UDP_HDR_LEN + WIRE_UDP_TAG_LEN)

/* Inner frame kinds, inside the ciphertext. */
enum wire_inner_kind {
	WIRE_INNER_RAW = 0,
	WIRE_INNER_ZLIB = 1,
	WIRE_INNER_KEEPALIVE = 2,
};
#define WIRE_INNER_HDR_LEN 1

/*
 * The kind byte is encrypted with the payload, so the plaintext payload of
 * a datagram starts WIRE_UDP_PAYLOAD_OFF bytes in and the smallest valid
 * datagram (a keepalive) is WIRE_UDP_MIN_LEN bytes.  WIRE_UDP_MAX_LEN caps
 * what is ever built or opened (the largest UDP payload, rounded up).
 */
#define WIRE_UDP_PAYLOAD_OFF (WIRE_UDP_HDR_LEN + WIRE_INNER_HDR_LEN)
#define WIRE_UDP_MIN_LEN (WIRE_UDP_OVERHEAD + WIRE_INNER_HDR_LEN)
#define WIRE_UDP_MAX_LEN 65535
/* AEAD key and nonce; nonce = iv XOR (4 zero bytes || counter, BE). */
#define WIRE_UDP_KEY_LEN 32
#define WIRE_UDP_NONCE_LEN 12

/* Data channel key schedule and replay limits. */
#define WIRE_REKEY_AFTER_PACKETS (UINT64_C(1) << 26)
#define WIRE_REJECT_AFTER_PACKETS (UINT64_C(1) << 27)
#define WIRE_REKEY_AFTER_SECONDS 120
#define WIRE_REJECT_AFTER_SECONDS 180
#define WIRE_EPOCH_GRACE_SECONDS 10
#define WIRE_REPLAY_WINDOW_BITS 8192

/* Pre-authentication limits. */
#define WIRE_HANDSHAKE_DEADLINE_SECONDS 10
#define WIRE_HELLO_DEADLINE_SECONDS 10

/* MTU bounds accepted in the config (0 means "derive"). */
#define WIRE_MTU_MIN 576
#define WIRE_MTU_MAX 65535

/*
 * Room a packet buffer keeps in front of the packet for the largest header
 * any transport prepends, and behind it for the AEAD tag, so that every
 * stage works in place.
 */
#define WIRE_HEADROOM 64
#define WIRE_TAILROOM 64

_Static_assert(WIRE_FRAME_HDR_LEN == 1 + 1 + 2 + 4, "frame header layout");
_Static_assert(WIRE_UDP_HDR_LEN == 1 + 1 + 1 + 1 + 4 + 8, "udp header layout");
_Static_assert(WIRE_UDP_OFF_COUNTER + 8 == WIRE_UDP_HDR_LEN, "counter last");
_Static_assert(WIRE_HEADROOM >= WIRE_FRAME_HDR_LEN + WIRE_VNET_HDR_MAX,
    "headroom fits a frame header");
_Static_assert(WIRE_HEADROOM >= WIRE_UDP_HDR_LEN + WIRE_INNER_HDR_LEN,
    "headroom fits a datagram header");
_Static_assert(WIRE_TAILROOM >= WIRE_UDP_TAG_LEN, "tailroom fits a tag");
_Static_assert(WIRE_CTRL_MAX_BODY < WIRE_DATA_MAX_BODY, "control is small");
_Static_assert(WIRE_HELLO_LEN == 1 + 1 + 1 + 1 + 1 + 1 + 2 + 4 + 2,
    "hello layout");
_Static_assert(1 + WIRE_CLOSE_MSG_MAX <= WIRE_CTRL_MAX_BODY, "close fits");
_Static_assert(WIRE_FRAME_MAX <= 0xffffffffu, "length fits 32 bits");
_Static_assert(WIRE_REKEY_AFTER_PACKETS < WIRE_REJECT_AFTER_PACKETS,
    "rekey before reject");
_Static_assert(WIRE_REKEY_AFTER_SECONDS < WIRE_REJECT_AFTER_SECONDS,
    "rekey before reject");
_Static_assert(WIRE_REPLAY_WINDOW_BITS % 64 == 0, "window in whole words");

/*
 * vtund 3.0 (legacy = "vtun", insecure; vtun.h).  Handshake messages are
 * fixed 50-byte, NUL-padded lines; frames are a 2-byte big-endian header
 * whose low 12 bits are the body length and whose top 4 bits are flags
 * (a flag frame has no body); a UDP datagram carries exactly one frame.
 */
#define WIRE_VTUN_MSG_LEN 50
#define WIRE_VTUN_CHAL_LEN 16
#define WIRE_VTUN_HDR_LEN 2
#define WIRE_VTUN_LEN_MASK 0x0fff
#define WIRE_VTUN_FLAG_MASK 0xf000
#define WIRE_VTUN_CONN_CLOSE 0x1000
#define WIRE_VTUN_ECHO_REQ 0x2000
#define WIRE_VTUN_ECHO_REP 0x4000
#define WIRE_VTUN_BAD_FRAME 0x8000
/* vtund reads a body of at most 2048 + 100 bytes and drops longer ones. */
#define WIRE_VTUN_BODY_MAX 2148
/* The largest device packet a legacy session sends or accepts: room for
 * zlib's worst-case growth and a cipher block of padding within the
 * body limit. */
#define WIRE_VTUN_PACKET_MAX 2048
/* The UDP port exchange: 2 bytes each way on the TCP connection. */
#define WIRE_VTUN_PORT_LEN 2
/* vtund waits this long for each handshake message (VTUN_TIMEOUT). */
#define WIRE_VTUN_MSG_DEADLINE_SECONDS 30

_Static_assert(WIRE_VTUN_BODY_MAX <= WIRE_VTUN_LEN_MASK, "body fits 12 bits");
_Static_assert(WIRE_VTUN_PACKET_MAX + 64 <= WIRE_VTUN_BODY_MAX,
    "zlib growth and padding fit the body");

#endif
