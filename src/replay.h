/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Anti-replay window for the UDP data channel (RFC 6479).
 *
 * The window is a ring of WIRE_REPLAY_WINDOW_BITS bits (128 words of 64
 * bits) indexed by counter: the bit of counter c is bit (c % 64) of word
 * (c / 64) % 128.  When the highest counter moves forward, only the words
 * it moves past are cleared, so an update costs at most one pass over the
 * ring whatever the jump.
 *
 * The word holding the highest counter is partly "in the future", so the
 * ring guarantees only REPLAY_WINDOW = WIRE_REPLAY_WINDOW_BITS - 64 = 8128
 * counters of history.  The rule is therefore, with h the highest counter
 * accepted so far (0 before the first):
 *
 *   c == 0                                  REPLAY_ZERO (never sent)
 *   c >= WIRE_REJECT_AFTER_PACKETS          REPLAY_LIMIT (no sender goes
 *                                           there; 2^64-1 lands here)
 *   c > h                                   new: accepted
 *   h - 8128 < c <= h, not seen before      reordered: accepted
 *   h - 8128 < c <= h, seen before          REPLAY_DUP
 *   c <= h - 8128                           REPLAY_TOO_OLD
 *
 * so a datagram may arrive up to 8127 counters behind the newest one.  A
 * counter far ahead (say h + 1 000 000) is accepted if its datagram
 * authenticates, and then everything at or below the new h - 8128 is too
 * old: datagrams still in flight from before the jump are lost.  Only a
 * key holder can make such a jump, so this costs a buggy or hostile peer
 * its own packets and nothing else.
 *
 * Two steps, so that the window only ever changes for authenticated
 * datagrams: replay_check() before the AEAD open (cheap, changes
 * nothing), replay_accept() after the tag has verified.  No allocation;
 * one struct replay per epoch and direction.  Sans-I/O.
 */
#ifndef TAPLINE_REPLAY_H
#define TAPLINE_REPLAY_H

#include <stdint.h>

#include "wire.h"

/* Words in the ring; a power of two so that the index is a mask. */
#define REPLAY_WORDS (WIRE_REPLAY_WINDOW_BITS / 64)
/* How far behind the highest counter a counter may be and still count. */
#define REPLAY_WINDOW (WIRE_REPLAY_WINDOW_BITS - 64)

_Static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0,
    "replay ring size is a power of two");
_Static_assert(REPLAY_WORDS >= 2, "replay ring has history");

/* Results of replay_check and replay_accept: 0 or one of these. */
#define REPLAY_OK 0
#define REPLAY_DUP (-1)		/* seen before */
#define REPLAY_TOO_OLD (-2)	/* behind the window */
#define REPLAY_ZERO (-3)	/* counter 0 is never sent */
#define REPLAY_LIMIT (-4)	/* at or above WIRE_REJECT_AFTER_PACKETS */

/* Plain data; fields are private to replay.c (tests may compare whole). */
struct replay {
	uint64_t highest;	/* highest accepted counter, 0 if none */
	uint64_t ring[REPLAY_WORDS];
};

/* An empty window: every counter in [1, WIRE_REJECT_AFTER_PACKETS) is new. */
void replay_init(struct replay *r);

/*
 * May counter be new?  REPLAY_OK, or the reason it must be dropped.
 * Changes nothing: call it before spending an AEAD open on a datagram.
 */
int replay_check(const struct replay *r, uint64_t counter);

/*
 * Check again and record counter as seen (moving the window when it is
 * the new highest).  Call only once the datagram has authenticated.
 * REPLAY_OK, or the reason as replay_check gives it (nothing changed).
 */
int replay_accept(struct replay *r, uint64_t counter);

/* The highest counter accepted so far, 0 if none. */
uint64_t replay_highest(const struct replay *r);

/* "ok", "replay", "too_old", "zero", "limit" for logs and tests. */
const char *replay_strerror(int result);

#endif
