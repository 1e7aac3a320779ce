/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the libFuzzer targets of tests/fuzz and their seed generator
 * share: a silent log, a check that crashes loudly, a cursor over the
 * fuzzer's bytes, the fixed keys of fuzz_udp_datagram, and the receive
 * side of a session (receive_deliver and receive_deliver_gso in
 * receive.c) rebuilt from the sans-I/O stages, with checks on every
 * result.  Nothing here keeps state between two inputs that could change
 * a verdict: each target makes its objects at the start of a run and
 * frees them at the end (the one exception, the receive side's inflate
 * streams, is reset for every packet; see fuzz_common.c).
 */
#ifndef TAPLINE_FUZZ_COMMON_H
#define TAPLINE_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compress.h"
#include "gso.h"
#include "seal.h"

/*
 * fuzz_udp_datagram's receiver: a server (it opens "c->s") whose receiver
 * id is FUZZ_UDP_RID, with epochs 0 and 1 keyed by fuzz_udp_keys().  The
 * seeds are sealed with the same keys, so that they get past the tag.
 */
#define FUZZ_UDP_RID 0x7a11e001u
#define FUZZ_UDP_ROLE SEAL_ROLE_SERVER
/* The clock at which the receiver installs its epochs. */
#define FUZZ_UDP_T0 1000000u
/*
 * fuzz_udp_datagram's input (big-endian):
 *   config(1) | mtu(2) | records...
 *   record = dt(1) | len(2) | len bytes of datagram
 * config bits below; the mtu is folded into WIRE_MTU_MIN..WIRE_MTU_MAX;
 * dt's low seven bits advance the clock by that many FUZZ_UDP_TICK_MS
 * before the datagram.  With FUZZ_UDP_SEAL set in dt the bytes are a
 * datagram without its tag, which the target seals (its own AEAD code,
 * not seal.c's) with the keys of the epoch its header names, so that the
 * fuzzer reaches the window and the inner frame with any header, counter,
 * kind and payload.
 */
#define FUZZ_UDP_CFG_CHACHA 0x01	/* ChaCha20-Poly1305, else AES-GCM */
#define FUZZ_UDP_CFG_TAP 0x02		/* a tap session */
#define FUZZ_UDP_CFG_NEXT 0x04		/* epoch 1 installed as next */
#define FUZZ_UDP_CFG_ZLIB 0x08		/* compression on (level 1) */
#define FUZZ_UDP_CFG_OFFLOAD 0x10	/* a tun with offloads: coalescer */
#define FUZZ_UDP_TICK_MS 250
#define FUZZ_UDP_SEAL 0x80
#define FUZZ_UDP_MAX_RECORDS 64

/* The fixed keys of epoch n (both directions), a pattern of n. */
void fuzz_udp_keys(uint64_t epoch, struct seal_keys *k);
/* A config byte's AEAD. */
enum wire_cipher fuzz_udp_cipher(uint8_t config);

/*
 * fuzz_frame_stream's input:
 *   config(1) | split(1) | the TLS plaintext stream
 * config bits below (mtu 1500, or 9000 with FUZZ_STREAM_CFG_JUMBO); split
 * seeds the generator of chunk sizes (see fuzz_frame_stream.c).
 */
#define FUZZ_STREAM_CFG_TAP 0x01
#define FUZZ_STREAM_CFG_ZLIB 0x02
#define FUZZ_STREAM_CFG_OFFLOAD 0x04
#define FUZZ_STREAM_CFG_JUMBO 0x08
#define FUZZ_STREAM_CFG_UDP 0x10	/* UDP mode: DATA is not allowed */

/*
 * fuzz_packet_check's input:
 *   mtu(2) | gso_type(1) | gso_size(2) | packets...
 *   packet = len(2) | len bytes
 */
#define FUZZ_PKT_MAX_PACKETS 32

/* libFuzzer's entry points (no header declares them). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Send the daemon's log nowhere: no noise on stderr per input. */
void fuzz_quiet(void);

/* A broken invariant: report it and abort, which libFuzzer records. */
void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));
#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

/*
 * Coverage that libFuzzer cannot see: zlib and libconfig come from the
 * distribution, without its instrumentation.  A target reports what it
 * observes of them (a result code, an error message, a size class) as a
 * feature, an extra counter that libFuzzer treats like an edge of its own
 * code, so that inputs reaching new states of those libraries are kept.
 */
void fuzz_feature(uint32_t v);
/* FNV-1a over n bytes, chained from h (start with 0). */
uint32_t fuzz_hash(const void *p, size_t n, uint32_t h);
/* The bit length of v (0 for 0): a size class. */
uint32_t fuzz_log2(uint64_t v);

/* The fuzzer's bytes, consumed from the front; 0s once they run out. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
/* Up to want bytes at *out; returns how many there were. */
size_t fuzz_take(struct fuzz_in *in, size_t want, const uint8_t **out);
/* A fresh heap copy of exactly len bytes (ASan sees every overrun). */
uint8_t *fuzz_dup(const uint8_t *p, size_t len);

/*
 * The receive side of one session: the device type and MTU, the zlib
 * stage when compression is on and the coalescer when the tun has
 * offloads, as session.c sets them up.
 */
struct fuzz_rx {
	bool tap;
	size_t mtu;
	struct compress *cz;	/* NULL: compression off; shared, see .c */
	struct gso_coal *coal;	/* NULL: no offloads */
	uint8_t *pkt;		/* WIRE_PACKET_MAX bytes: inflate output */
	uint64_t coal_in;	/* packets given to the coalescer */
	uint64_t coal_out;	/* packets it has written, segments counted */
	uint64_t written;	/* packets that reached the "device" */
};

/* 0, or -1 when out of memory (the run is skipped). */
int fuzz_rx_init(struct fuzz_rx *rx, bool tap, size_t mtu, int level,
    bool offload);
/* Flush the coalescer, check that it lost nothing, free everything. */
void fuzz_rx_free(struct fuzz_rx *rx);
/*
 * receive_deliver: one DATA body or opened datagram payload (blen bytes
 * at body, which may be changed in place), compressed and/or a
 * super-packet behind its offload header as the flags say.
 */
void fuzz_rx_deliver(struct fuzz_rx *rx, uint8_t *body, size_t blen,
    bool zlib, bool gso);
/* The end of a receive batch: write what the coalescer holds. */
void fuzz_rx_flush(struct fuzz_rx *rx);

/*
 * Split a super-packet as receive_deliver_gso does when the tun cannot
 * take it whole, and prepare a copy as it does when it can; check every
 * segment (lengths, IP and TCP/UDP checksums, sequence numbers) and the
 * offload header.  With feed, the segments then go through feed's
 * receive side as packets of their own, the way a peer without offloads
 * sends them (the coalescer gets segments that it can merge).  Returns
 * gso_split_init's verdict (0 or -1).
 */
int fuzz_gso_check(uint8_t type, uint16_t size, const uint8_t *p, size_t len,
    size_t mtu, struct fuzz_rx *feed);

/*
 * Independent checks of a packet's checksums (RFC 1071 over bytes, not
 * gso.c's code): the IPv4 header checksum and the TCP/UDP checksum with
 * the pseudo-header, for a plain IPv4/IPv6 packet whose L4 header starts
 * at l4off.
 */
bool fuzz_l4_csum_ok(const uint8_t *p, size_t len, bool v6, size_t l4off,
    uint8_t proto);
bool fuzz_ip4_csum_ok(const uint8_t *p, size_t ihl);
/* The folded, uncomplemented pseudo-header sum for l4len bytes. */
uint16_t fuzz_pseudo_sum(const uint8_t *p, bool v6, uint8_t proto,
    size_t l4len);
/* The folded, uncomplemented sum of len bytes at p (0xffff for zero). */
uint16_t fuzz_csum(const uint8_t *p, size_t len);

#endif
