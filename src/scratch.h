/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-packet buffers of one event loop, shared by all its sessions.
 *
 * A packet read from a device, a packet inflated, a segment cut from a
 * super-packet, a datagram too large for a batch slot, an ICMP answer
 * and TCP mode's DATA extent each live only while the callback that
 * made it runs: before it returns the bytes have been written to the
 * device, sealed into the UDP socket's batch, copied into a coalescer's
 * flow or handed to libevent.  The sessions of one loop never run at the
 * same time, so one set serves them all, and an idle session holds
 * none (the set is as large as three 64 KiB packets and the extent:
 * about 280 KiB, once per loop instead of once per session).  The set
 * belongs to the loop's owner (struct proc) and reaches each session
 * through its struct tunnel_start; a second loop on another thread
 * would make its own.
 */
#ifndef TAPLINE_SCRATCH_H
#define TAPLINE_SCRATCH_H

#include <stdint.h>

#include "gso.h"
#include "pmtu.h"
#include "stream.h"
#include "wire.h"

struct scratch {
	uint8_t pkt[WIRE_PACKET_MAX];	/* read from a device, or inflated */
	uint8_t seg[WIRE_PACKET_MAX];	/* one segment of a super-packet */
	/* A datagram built outside the socket's batch (keepalives, and
	 * packets too large for a slot). */
	uint8_t dgram[WIRE_UDP_MAX_LEN + WIRE_TAILROOM];
	uint8_t icmp[PMTU_ANSWER_MAX];	/* a too-big answer for a tun */
	struct stream_stage stage;	/* TCP mode's DATA extent */
	struct gso_pool *coal;		/* receive coalescers' flow buffers */
};

/* NULL when out of memory. */
struct scratch *scratch_new(void);
/* After every session of the loop has been freed; NULL: nothing. */
void scratch_free(struct scratch *b);

#endif
