/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A token bucket for the `speed` setting (vtund's shaper), sans I/O: the
 * caller passes the clock.  Sending may run into debt by one packet; the
 * caller then waits shaper_wait_ms before sending again, which keeps the
 * average at the rate without splitting packets.
 */
#ifndef TAPLINE_SHAPER_H
#define TAPLINE_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

struct shaper {
	uint64_t rate_bpms;	/* bytes per 1000 ms, i.e. bytes/s */
	int64_t tokens;		/* bytes; negative = debt */
	int64_t burst;		/* bytes the bucket holds at most */
	uint64_t last_ms;
};

/* kbit/s; 0 = unlimited (every call below then passes). */
void shaper_init(struct shaper *b, uint32_t kbit, uint64_t now_ms);
bool shaper_on(const struct shaper *b);
/* Spend len bytes (may go into debt); false if already in debt. */
bool shaper_take(struct shaper *b, uint32_t len, uint64_t now_ms);
/* Milliseconds until the debt is paid (0 if none). */
uint32_t shaper_wait_ms(struct shaper *b, uint64_t now_ms);

#endif
