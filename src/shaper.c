/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "shaper.h"

/* Bursts of 50 ms at the rate, but never less than two full packets. */
#define SHAPER_BURST_MS 50
#define SHAPER_BURST_MIN (2 * 65536)

void
shaper_init(struct shaper *b, uint32_t kbit, uint64_t now_ms)
{
	b->rate_bpms = (uint64_t)kbit * 1000 / 8;
	b->burst = (int64_t)(b->rate_bpms * SHAPER_BURST_MS / 1000);
	if (b->burst < SHAPER_BURST_MIN)
		b->burst = SHAPER_BURST_MIN;
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

bool
shaper_on(const struct shaper *b)
{
	return b->rate_bpms != 0;
}

/* Add what the time since the last call has earned, up to the burst. */
static void
shaper_refill(struct shaper *b, uint64_t now_ms)
{
	uint64_t dt = now_ms - b->last_ms;

	if (dt == 0)
		return;
	b->last_ms = now_ms;
	b->tokens += (int64_t)(dt * b->rate_bpms / 1000);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

bool
shaper_take(struct shaper *b, uint32_t len, uint64_t now_ms)
{
	if (!shaper_on(b))
		return true;
	shaper_refill(b, now_ms);
	if (b->tokens < 0)
		return false;
	b->tokens -= len;
	return true;
}

uint32_t
shaper_wait_ms(struct shaper *b, uint64_t now_ms)
{
	if (!shaper_on(b))
		return 0;
	shaper_refill(b, now_ms);
	if (b->tokens >= 0)
		return 0;
	return (uint32_t)((uint64_t)(-b->tokens) * 1000 / b->rate_bpms) + 1;
}
