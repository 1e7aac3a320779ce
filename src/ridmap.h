/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server's sessions by UDP receiver id, without I/O: every datagram
 * on the server's one UDP socket names the session it is for by the
 * receiver id that session chose, and a hub of a thousand sessions
 * must not walk all of them for each packet.  A hash table of chains:
 * the entries live in their owners (intrusive), the table grows as
 * entries come (doubling once there are more entries than buckets), and
 * a table that cannot grow keeps working with longer chains.
 *
 * Ids are 32 random bits the server drew, so two sessions may share one
 * (rarely); the lookup gives every entry of an id in turn, and the
 * caller takes the first whose session claims the datagram.
 */
#ifndef TAPLINE_RIDMAP_H
#define TAPLINE_RIDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ridmap_entry {
	struct ridmap_entry *next;	/* in its bucket */
	uint32_t rid;
	bool in;			/* in a map */
};

struct ridmap {
	struct ridmap_entry **b;
	size_t nb;			/* buckets, a power of two */
	size_t n;			/* entries */
};

/* Buckets of a new map. */
#define RIDMAP_INIT_BUCKETS 64

/* An empty map; -1 when out of memory. */
int ridmap_init(struct ridmap *m);
/* Free the table (the entries are their owners'). */
void ridmap_free(struct ridmap *m);

/* Add e under rid; e must not be in a map. */
void ridmap_add(struct ridmap *m, struct ridmap_entry *e, uint32_t rid);
/* Take e out, if it is in. */
void ridmap_del(struct ridmap *m, struct ridmap_entry *e);

/* The first entry of rid, or NULL; then the next one of the same rid. */
struct ridmap_entry *ridmap_first(const struct ridmap *m, uint32_t rid);
struct ridmap_entry *ridmap_next(const struct ridmap_entry *e);

#endif
