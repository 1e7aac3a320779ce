/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 6479 anti-replay window; see replay.h for the exact rule. */
#include "config.h"

#include <string.h>

#include "replay.h"

/* The ring word and the bit within it that stand for counter c. */
#define REPLAY_INDEX(c) ((size_t)(((c) >> 6) & (REPLAY_WORDS - 1)))
#define REPLAY_BIT(c) (UINT64_C(1) << ((c) & 63))

void
replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Cheapest tests first; the ring is only read for the reordered case. */
int
replay_check(const struct replay *r, uint64_t counter)
{
	if (counter == 0)
		return REPLAY_ZERO;
	if (counter >= WIRE_REJECT_AFTER_PACKETS)
		return REPLAY_LIMIT;
	if (counter > r->highest)
		return REPLAY_OK;
	if (r->highest - counter >= REPLAY_WINDOW)
		return REPLAY_TOO_OLD;
	if (r->ring[REPLAY_INDEX(counter)] & REPLAY_BIT(counter))
		return REPLAY_DUP;
	return REPLAY_OK;
}

/*
 * Record counter.  Moving forward clears the words between the old and the
 * new highest word (all of them after a long jump), since they now stand
 * for counters that have not been seen; the word of the old highest keeps
 * its bits because it still holds counters inside the window.
 */
int
replay_accept(struct replay *r, uint64_t counter)
{
	uint64_t from, steps, i;
	int res;

	if ((res = replay_check(r, counter)) != REPLAY_OK)
		return res;
	if (counter > r->highest) {
		from = r->highest >> 6;
		steps = (counter >> 6) - from;
		if (steps > REPLAY_WORDS)
			steps = REPLAY_WORDS;
		for (i = 1; i <= steps; i++)
			r->ring[(size_t)((from + i) & (REPLAY_WORDS - 1))] = 0;
		r->highest = counter;
	}
	r->ring[REPLAY_INDEX(counter)] |= REPLAY_BIT(counter);
	return REPLAY_OK;
}

uint64_t
replay_highest(const struct replay *r)
{
	return r->highest;
}

/* Names match the seal_drop names used in status output. */
const char *
replay_strerror(int result)
{
	switch (result) {
	case REPLAY_OK:
		return "ok";
	case REPLAY_DUP:
		return "replay";
	case REPLAY_TOO_OLD:
		return "too_old";
	case REPLAY_ZERO:
		return "zero";
	case REPLAY_LIMIT:
		return "limit";
	}
	return "unknown";
}
