/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "timers.h"
#include "wire.h"

void
timers_init(struct timers *t, uint64_t now_ms)
{
	t->phase = TIMERS_HANDSHAKE;
	t->phase_start_ms = now_ms;
	t->last_rx_ms = now_ms;
	t->last_tx_ms = now_ms;
	t->last_key_update_ms = now_ms;
	t->keepalive_ms = 0;
	t->timeout_ms = 0;
}

void
timers_set_phase(struct timers *t, enum timers_phase phase, uint64_t now_ms)
{
	t->phase = phase;
	t->phase_start_ms = now_ms;
	/* Silence before the tunnel was up does not count against it. */
	if (phase == TIMERS_UP)
		t->last_rx_ms = t->last_tx_ms = t->last_key_update_ms = now_ms;
}

void
timers_set_liveness(struct timers *t, int keepalive_s, int timeout_s)
{
	t->keepalive_ms = keepalive_s > 0 ? (uint32_t)keepalive_s * 1000 : 0;
	t->timeout_ms = timeout_s > 0 ? (uint32_t)timeout_s * 1000 : 0;
}

void
timers_on_rx(struct timers *t, uint64_t now_ms)
{
	t->last_rx_ms = now_ms;
}

void
timers_on_tx(struct timers *t, uint64_t now_ms)
{
	t->last_tx_ms = now_ms;
}

void
timers_on_key_update(struct timers *t, uint64_t now_ms)
{
	t->last_key_update_ms = now_ms;
}

enum timers_action
timers_due(const struct timers *t, uint64_t now_ms)
{
	uint64_t in_phase = now_ms - t->phase_start_ms;

	switch (t->phase) {
	case TIMERS_HANDSHAKE:
		if (in_phase >= WIRE_HANDSHAKE_DEADLINE_SECONDS * 1000)
			return TIMERS_HANDSHAKE_EXPIRED;
		return TIMERS_NONE;
	case TIMERS_HELLO:
		if (in_phase >= WIRE_HELLO_DEADLINE_SECONDS * 1000)
			return TIMERS_HELLO_EXPIRED;
		return TIMERS_NONE;
	case TIMERS_SETUP:
		return TIMERS_NONE;
	case TIMERS_UP:
		break;
	}
	if (t->timeout_ms != 0 && now_ms - t->last_rx_ms >= t->timeout_ms)
		return TIMERS_PEER_DEAD;
	if (t->keepalive_ms != 0 && now_ms - t->last_tx_ms >= t->keepalive_ms)
		return TIMERS_SEND_KEEPALIVE;
	if (now_ms - t->last_key_update_ms >= WIRE_REKEY_AFTER_SECONDS * 1000)
		return TIMERS_KEY_UPDATE;
	return TIMERS_NONE;
}

uint32_t
timers_backoff_ms(unsigned int attempt, uint32_t rnd)
{
	uint32_t base = TIMERS_BACKOFF_MIN_MS;

	while (attempt-- > 0 && base < TIMERS_BACKOFF_MAX_MS)
		base *= 2;
	if (base > TIMERS_BACKOFF_MAX_MS)
		base = TIMERS_BACKOFF_MAX_MS;
	/* Up to 25 % more, so that many clients do not retry in step. */
	return base + (uint32_t)((uint64_t)rnd * (base / 4) / UINT32_MAX);
}
