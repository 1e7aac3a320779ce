/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The admission budget and queue (see admit.h): counters and a list, so
 * that the order, the budgets and the deadline's verdict are tested
 * without a loop or a socket.
 */
#include "config.h"

#include "admit.h"
#include "pkt.h"

/* A TLS record: content type, version (2 bytes), length (2 bytes). */
#define ADMIT_TLS_HDR 5
#define ADMIT_TLS_HANDSHAKE 0x16

void
admit_init(struct admit *a, size_t starts, size_t accepts)
{
	*a = (struct admit){ .starts = starts > 0 ? starts : 1,
		.accepts = accepts > 0 ? accepts : 1 };
	TAILQ_INIT(&a->q);
}

void
admit_round(struct admit *a)
{
	a->started = 0;
	a->accepted = 0;
}

bool
admit_busy(const struct admit *a)
{
	return a->started > 0 || a->accepted > 0 || a->queued > 0;
}

bool
admit_accepted(struct admit *a)
{
	a->accepted++;
	return a->accepted < a->accepts;
}

bool
admit_arrive(struct admit *a, struct admit_entry *e, uint64_t now_ms)
{
	/* First come, first started: nobody overtakes the queue. */
	if (a->queued == 0 && a->started < a->starts) {
		a->started++;
		e->queued = false;
		return true;
	}
	e->queued = true;
	e->since_ms = now_ms;
	TAILQ_INSERT_TAIL(&a->q, e, link);
	a->queued++;
	a->burst++;
	a->delayed++;
	return false;
}

/* What e's wait adds to the figures. */
static void
admit_waited(struct admit *a, const struct admit_entry *e, uint64_t now_ms)
{
	uint64_t w = now_ms > e->since_ms ? now_ms - e->since_ms : 0;

	if (w > a->burst_wait_ms)
		a->burst_wait_ms = w;
	if (w > a->wait_max_ms)
		a->wait_max_ms = w;
}

struct admit_entry *
admit_next(struct admit *a, uint64_t now_ms)
{
	struct admit_entry *e;

	if (a->started >= a->starts || (e = TAILQ_FIRST(&a->q)) == NULL)
		return NULL;
	TAILQ_REMOVE(&a->q, e, link);
	e->queued = false;
	a->queued--;
	a->started++;
	admit_waited(a, e, now_ms);
	return e;
}

void
admit_remove(struct admit *a, struct admit_entry *e)
{
	if (!e->queued)
		return;
	TAILQ_REMOVE(&a->q, e, link);
	e->queued = false;
	a->queued--;
}

bool
admit_drained(struct admit *a, size_t *count, uint64_t *wait_ms)
{
	if (a->queued > 0 || a->burst == 0)
		return false;
	*count = a->burst;
	*wait_ms = a->burst_wait_ms;
	a->burst = 0;
	a->burst_wait_ms = 0;
	return true;
}

enum admit_late
admit_late(const uint8_t *head, size_t headlen, bool eof, size_t avail,
    bool silent_ok)
{
	struct pkt_rd r;
	uint16_t version, len;
	uint8_t type;

	if (eof)
		return ADMIT_LATE_CLOSE;
	if (headlen == 0 && avail == 0)
		return silent_ok ? ADMIT_LATE_KEEP : ADMIT_LATE_CLOSE;
	pkt_rd_init(&r, head, headlen);
	if (pkt_rd_u8(&r, &type) != 0 || pkt_rd_u16(&r, &version) != 0 ||
	    pkt_rd_u16(&r, &len) != 0 || type != ADMIT_TLS_HANDSHAKE)
		return ADMIT_LATE_CLOSE;
	return len > 0 && avail >= ADMIT_TLS_HDR + (size_t)len ?
	    ADMIT_LATE_KEEP : ADMIT_LATE_CLOSE;
}
