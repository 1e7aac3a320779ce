/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's sessions by UDP receiver id (ridmap.h). */
#include "config.h"

#include <stdlib.h>

#include "ridmap.h"

/*
 * The bucket of rid.  The server draws its ids at random, but a
 * multiplicative hash costs nothing and keeps ids that share their low
 * bits apart all the same.
 */
static size_t
ridmap_bucket(size_t nb, uint32_t rid)
{
	return (size_t)((rid * UINT32_C(2654435761)) >> 8) & (nb - 1);
}

int
ridmap_init(struct ridmap *m)
{
	*m = (struct ridmap){ .nb = RIDMAP_INIT_BUCKETS };
	if ((m->b = calloc(m->nb, sizeof(*m->b))) == NULL)
		return -1;
	return 0;
}

void
ridmap_free(struct ridmap *m)
{
	free(m->b);
	*m = (struct ridmap){ 0 };
}

/* Twice the buckets; out of memory, the chains only get longer. */
static void
ridmap_grow(struct ridmap *m)
{
	struct ridmap_entry **nbk, *e, *next;
	size_t nb = m->nb * 2, i, k;

	if (nb < m->nb || (nbk = calloc(nb, sizeof(*nbk))) == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			k = ridmap_bucket(nb, e->rid);
			e->next = nbk[k];
			nbk[k] = e;
		}
	free(m->b);
	m->b = nbk;
	m->nb = nb;
}

void
ridmap_add(struct ridmap *m, struct ridmap_entry *e, uint32_t rid)
{
	size_t k;

	if (m->n >= m->nb)
		ridmap_grow(m);
	k = ridmap_bucket(m->nb, rid);
	e->rid = rid;
	e->next = m->b[k];
	e->in = true;
	m->b[k] = e;
	m->n++;
}

void
ridmap_del(struct ridmap *m, struct ridmap_entry *e)
{
	struct ridmap_entry **p;

	if (!e->in)
		return;
	for (p = &m->b[ridmap_bucket(m->nb, e->rid)]; *p != NULL;
	    p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			m->n--;
			break;
		}
	e->next = NULL;
	e->in = false;
}

/* From e on, the first entry of rid. */
static struct ridmap_entry *
ridmap_from(struct ridmap_entry *e, uint32_t rid)
{
	while (e != NULL && e->rid != rid)
		e = e->next;
	return e;
}

struct ridmap_entry *
ridmap_first(const struct ridmap *m, uint32_t rid)
{
	return ridmap_from(m->b[ridmap_bucket(m->nb, rid)], rid);
}

struct ridmap_entry *
ridmap_next(const struct ridmap_entry *e)
{
	return ridmap_from(e->next, e->rid);
}
