/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pace at which the server takes on new connections, without I/O:
 * how many it accepts and how many TLS handshakes it starts in one
 * iteration of the event loop (a "round"), and the queue, in order of
 * arrival, of the accepted connections whose handshake waits for a later
 * round.
 *
 * A handshake's first step (X25519, HKDF, the binder check) and what
 * follows it (HELLO, the new session's setup) run on the loop that also
 * forwards every established session's packets.  Started all at once, a
 * reconnect storm of a thousand clients would hold the loop for the whole
 * storm; started a few per round, the established sessions' events are
 * served between every few handshakes, and the storm still goes as fast
 * as the loop allows when nothing else runs.
 *
 * A waiting connection holds its descriptor and its pre-authentication
 * slot (preauth.h), so the queue is never longer than the global cap,
 * and its ClientHello deadline runs from the accept: admit_late says
 * whether what it has sent by then earns it its place.
 */
#ifndef TAPLINE_ADMIT_H
#define TAPLINE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

/*
 * Handshakes started per round: a server-side TLS 1.3 handshake with
 * X25519 costs a few hundred microseconds of the loop, so 4 keep a
 * round's new work near a millisecond, while an idle loop's iterations
 * (tens of microseconds) still start them as fast as the CPU does them.
 * Measured with 1000 handshakes at once against a server with one
 * established session pinged every 10 ms (2 shared cores): the largest
 * RTT was 21-48 ms with 4, 27-56 ms with 8, 43-115 ms with 16 and
 * 333-647 ms unpaced, and the 1000 took about as long (0.35-0.6 s) with
 * 4, 8 or 16.
 */
#define ADMIT_STARTS 4
/*
 * Connections accepted per round: an accept is cheap (the policy of
 * preauth.h, a timer), but the kernel hands over its whole backlog at
 * once; the rest wait in the backlog until the next round.
 */
#define ADMIT_ACCEPTS 64

/* A connection as the queue sees it; embedded in the caller's object. */
struct admit_entry {
	TAILQ_ENTRY(admit_entry) link;
	uint64_t since_ms;	/* queued */
	bool queued;
};

TAILQ_HEAD(admit_queue, admit_entry);

struct admit {
	struct admit_queue q;
	size_t starts;		/* the budgets of a round */
	size_t accepts;
	size_t started;		/* what the current round has used */
	size_t accepted;
	size_t queued;		/* waiting now */
	/* Since the queue last formed, for the log when it empties. */
	size_t burst;		/* connections that waited */
	uint64_t burst_wait_ms;	/* the longest wait */
	/* Over the server's life. */
	uint64_t delayed;	/* connections that waited */
	uint64_t wait_max_ms;	/* the longest wait */
};

/* An empty queue with these budgets per round (each at least 1). */
void admit_init(struct admit *a, size_t starts, size_t accepts);

/* A new round: the budgets are whole again. */
void admit_round(struct admit *a);

/* Has the current round used anything, or does anyone wait?  Then the
 * caller must end the round at its next iteration (admit_round). */
bool admit_busy(const struct admit *a);

/* A connection was accepted: counted.  May another be in this round? */
bool admit_accepted(struct admit *a);

/*
 * A connection accepted at now_ms: true, start its handshake now (the
 * round has budget left and nobody waits before it; counted); false, it
 * waits in e.
 */
bool admit_arrive(struct admit *a, struct admit_entry *e, uint64_t now_ms);

/*
 * The connection whose handshake starts next (taken off the queue and
 * counted), or NULL: nobody waits, or this round's budget is spent.
 */
struct admit_entry *admit_next(struct admit *a, uint64_t now_ms);

/* A waiting connection goes (evicted, its peer gone, its deadline). */
void admit_remove(struct admit *a, struct admit_entry *e);

/*
 * Has the queue just emptied after connections waited in it?  Then
 * true once, with how many waited and the longest wait, for the log.
 */
bool admit_drained(struct admit *a, size_t *count, uint64_t *wait_ms);

enum admit_late {
	ADMIT_LATE_KEEP,	/* it did its part: it keeps its place */
	ADMIT_LATE_CLOSE,	/* nothing, or not enough: close it */
};

/*
 * The ClientHello deadline of a connection that still waits: head is
 * what a peek at its socket returned (headlen bytes, at most 5; eof:
 * the peer has closed), avail the bytes waiting there.  A whole first
 * TLS handshake record has arrived: the wait is the server's, it keeps
 * its place.  Silence is kept only when silent_ok (vtund's clients wait
 * to be greeted).  Anything else is what the deadline is for.
 */
enum admit_late admit_late(const uint8_t *head, size_t headlen, bool eof,
    size_t avail, bool silent_ok);

#endif
