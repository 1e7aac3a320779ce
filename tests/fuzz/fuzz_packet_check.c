/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inner packets and super-packets (ATTACKS.md row 16): frame_packet_check
 * for tun and tap at any MTU, with its verdict checked against the rule
 * of frame.h; gso.c's checksum against a plain one, and gso_finish_csum;
 * gso_split_init, every gso_split_seg and gso_prepare_write
 * (a TCP-mode receiver gets super-packets from its peer), each segment
 * checked; and the coalescer of a tun with offloads fed with the packets
 * and with the segments, checked to write each packet exactly once and
 * only super-packets that split again within the MTU; and pmtu.c's
 * answers and MSS clamp on the same packets (a tun's packets reach it
 * from the device and from the peer): an answer within its bound with
 * its checksums right, a clamp that changes nothing but the MSS and
 * the checksum.
 *
 * Input: mtu(2) | gso_type(1) | gso_size(2) | packets, each len(2) | bytes
 * (fuzz_common.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_common.h"
#include "gso.h"
#include "pkt.h"
#include "pmtu.h"
#include "wire.h"

/* frame_packet_check's verdict, checked against frame.h's rule. */
static void
fuzz_packet_verdicts(const uint8_t *p, size_t len, size_t mtu)
{
	const char *why = NULL;
	size_t ihl;
	int r;

	r = frame_packet_check(true, p, len, mtu, &why);
	FUZZ_CHECK(r == 0 ? len >= 14 && len <= mtu + WIRE_ETH_HDR_MAX :
	    why != NULL);
	why = NULL;
	r = frame_packet_check(false, p, len, mtu, &why);
	if (r != 0) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(len > 0 && len <= mtu);
	switch (p[0] >> 4) {
	case 4:
		ihl = (size_t)(p[0] & 0x0f) * 4;
		FUZZ_CHECK(len >= 20 && ihl >= 20 && ihl <= len);
		FUZZ_CHECK(pkt_load16(p + 2) == len);
		break;
	case 6:
		FUZZ_CHECK(len >= 40 && 40 + (size_t)pkt_load16(p + 4) == len);
		break;
	default:
		FUZZ_CHECK(!"tun accepted a packet that is not IP");
	}
}

/*
 * gso.c's checksum (64-bit words, four carry chains, a byte-order trick)
 * against the plain RFC 1071 sum, over the packet at every alignment and
 * length the input offers; and gso_finish_csum, as a tun read with
 * NEEDS_CSUM asks for it, with offsets from the input.
 */
static void
fuzz_packet_csum(const uint8_t *p, size_t len, uint16_t start,
    uint16_t offset)
{
	struct gso_vnet h;
	uint16_t got;
	uint32_t sum;
	uint8_t *copy;
	size_t skip, field;

	for (skip = 0; skip < 8 && skip <= len; skip++) {
		got = gso_csum_fold(gso_csum_partial(p + skip, len - skip, 0));
		FUZZ_CHECK((got == 0 ? 0xffff : got) ==
		    fuzz_csum(p + skip, len - skip));
	}
	memset(&h, 0, sizeof(h));
	h.flags = GSO_F_NEEDS_CSUM;
	h.csum_start = start;
	h.csum_offset = offset;
	field = (size_t)start + offset;
	copy = fuzz_dup(p, len);
	if (gso_finish_csum(copy, len, &h) != 0) {
		FUZZ_CHECK(start > len || field + 2 > len);
	} else {
		FUZZ_CHECK(field + 2 <= len);
		FUZZ_CHECK(memcmp(copy, p, field) == 0 &&
		    memcmp(copy + field + 2, p + field + 2,
		    len - field - 2) == 0);
		/*
		 * With the pseudo-header sum that the field held (the
		 * kernel's part), the sum now verifies.  An odd field would
		 * straddle two words; the kernel never asks for one.
		 */
		sum = (uint32_t)fuzz_csum(copy + start, len - start) +
		    pkt_load16(p + field);
		sum = (sum & 0xffff) + (sum >> 16);
		if (offset % 2 == 0)
			FUZZ_CHECK(sum == 0xffff);
	}
	free(copy);
}

/*
 * pmtu.c on any bytes: an ICMP answer is IPv4 within 576 bytes (IPv6:
 * 1280) whose header and message checksums verify, quoting the packet
 * from its start; a clamp (1) leaves every byte but four alone, and any
 * other verdict leaves the packet as it was.
 */
static void
fuzz_packet_pmtu(const uint8_t *p, size_t len, unsigned int mtu)
{
	uint8_t out[PMTU_ANSWER_MAX], *copy;
	size_t n, i, diff = 0;
	uint32_t sum;
	int r;

	n = pmtu_icmp4_too_big(p, len, mtu, NULL, out, sizeof(out));
	if (n != 0) {
		FUZZ_CHECK(n >= 48 && n <= 576 && n - 28 <= len);
		FUZZ_CHECK(pkt_load16(out + 2) == n);
		FUZZ_CHECK(fuzz_csum(out, 20) == 0xffff);
		FUZZ_CHECK(fuzz_csum(out + 20, n - 20) == 0xffff);
		FUZZ_CHECK(memcmp(out + 28, p, n - 28) == 0);
	}
	n = pmtu_icmp6_too_big(p, len, mtu, NULL, out, sizeof(out));
	if (n != 0) {
		FUZZ_CHECK(n >= 88 && n <= 1280 && n - 48 <= len);
		FUZZ_CHECK((size_t)pkt_load16(out + 4) + 40 == n);
		sum = (uint32_t)fuzz_csum(out + 8, 32) + (uint32_t)(n - 40) +
		    58 + fuzz_csum(out + 40, n - 40);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		FUZZ_CHECK(sum == 0xffff);
		FUZZ_CHECK(memcmp(out + 48, p, n - 48) == 0);
	}
	copy = fuzz_dup(p, len);
	r = pmtu_mss_clamp(copy, len, mtu);
	for (i = 0; i < len; i++)
		diff += copy[i] != p[i];
	FUZZ_CHECK(r == 1 ? diff <= 4 : diff == 0);
	free(copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t mtu = fuzz_u16(&in);
	uint8_t type = fuzz_u8(&in);
	uint16_t gso_size = fuzz_u16(&in);
	struct fuzz_rx rx;
	int i;

	if (fuzz_rx_init(&rx, false, mtu, 0, true) != 0)
		return 0;
	for (i = 0; i < FUZZ_PKT_MAX_PACKETS && in.n > 0; i++) {
		const uint8_t *p;
		size_t len = fuzz_u16(&in);
		uint8_t *copy;

		len = fuzz_take(&in, len, &p);
		copy = fuzz_dup(p, len);
		fuzz_packet_verdicts(copy, len, mtu);
		fuzz_packet_csum(copy, len, gso_size, type);
		fuzz_packet_pmtu(copy, len, (unsigned int)mtu);
		(void)fuzz_gso_check(type, gso_size, copy, len, mtu, &rx);
		/* Unchanged by all of the above, and then a packet itself. */
		FUZZ_CHECK(len == 0 || memcmp(copy, p, len) == 0);
		fuzz_rx_deliver(&rx, copy, len, false, false);
		free(copy);
	}
	fuzz_rx_free(&rx);
	return 0;
}
