/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * All timer policy of a session and of a reconnecting client, as pure
 * functions of a clock the caller passes in.  The data path only reports
 * events (timers_on_rx, timers_on_tx); one periodic tick asks timers_due
 * what to do.  Keeping the rules here, away from libevent, lets the unit
 * tests drive them with any clock.
 *
 * The timers:
 *   handshake  TLS must complete within WIRE_HANDSHAKE_DEADLINE_SECONDS
 *              of the TCP connection (pre-authentication limit).
 *   hello      After TLS, the HELLO (server) or HELLO_ACK (client) must
 *              arrive within WIRE_HELLO_DEADLINE_SECONDS.
 *   setup      Device setup and `up` commands; bounded by the command
 *              timeout in script.c, not here.
 *   keepalive  While up: a KEEPALIVE goes out after `keepalive` seconds
 *              in which nothing was sent (0 = never).
 *   dead       While up: the peer is dead after `timeout` seconds in
 *              which nothing was received.
 *   keyupdate  While up: TLS 1.3 KeyUpdate every WIRE_REKEY_AFTER_SECONDS
 *              (TCP mode's rekeying; UDP mode has its own epochs).
 *   backoff    A persistent client waits 1, 2, 4 ... 60 s (plus up to
 *              25 % jitter) between attempts; a session that stayed up
 *              for a minute resets it to 1 s.
 */
#ifndef TAPLINE_TIMERS_H
#define TAPLINE_TIMERS_H

#include <stdint.h>

enum timers_phase {
	TIMERS_HANDSHAKE,
	TIMERS_HELLO,
	TIMERS_SETUP,
	TIMERS_UP,
};

enum timers_action {
	TIMERS_NONE,
	TIMERS_SEND_KEEPALIVE,
	TIMERS_HANDSHAKE_EXPIRED,
	TIMERS_HELLO_EXPIRED,
	TIMERS_PEER_DEAD,
	TIMERS_KEY_UPDATE,
};

struct timers {
	enum timers_phase phase;
	uint64_t phase_start_ms;
	uint64_t last_rx_ms;
	uint64_t last_tx_ms;
	uint64_t last_key_update_ms;
	uint32_t keepalive_ms;	/* 0 = off */
	uint32_t timeout_ms;
};

void timers_init(struct timers *t, uint64_t now_ms);
void timers_set_phase(struct timers *t, enum timers_phase phase,
    uint64_t now_ms);
/* Liveness settings take effect when the session is up. */
void timers_set_liveness(struct timers *t, int keepalive_s, int timeout_s);
void timers_on_rx(struct timers *t, uint64_t now_ms);
void timers_on_tx(struct timers *t, uint64_t now_ms);
void timers_on_key_update(struct timers *t, uint64_t now_ms);
/* What is due now; the caller acts and the next tick asks again. */
enum timers_action timers_due(const struct timers *t, uint64_t now_ms);

#define TIMERS_BACKOFF_MIN_MS 1000
#define TIMERS_BACKOFF_MAX_MS 60000
/* A session up this long counts as a success and resets the backoff. */
#define TIMERS_BACKOFF_RESET_MS 60000

/*
 * Delay before reconnect attempt number `attempt` (0 for the first retry);
 * `rnd` is a random 32-bit value for the jitter.
 */
uint32_t timers_backoff_ms(unsigned int attempt, uint32_t rnd);

#endif
