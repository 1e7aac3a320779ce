/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "pkt.h"

void
pkt_rd_init(struct pkt_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf == NULL ? 0 : len;
	r->off = 0;
}

int
pkt_rd_ptr(struct pkt_rd *r, const uint8_t **out, size_t n)
{
	if (n > pkt_rd_left(r))
		return PKT_ESHORT;
	/* An empty reader may hold NULL; NULL + 0 is still undefined. */
	*out = r->p == NULL ? NULL : r->p + r->off;
	r->off += n;
	return 0;
}

int
pkt_rd_skip(struct pkt_rd *r, size_t n)
{
	const uint8_t *unused;

	return pkt_rd_ptr(r, &unused, n);
}

int
pkt_rd_bytes(struct pkt_rd *r, void *out, size_t n)
{
	const uint8_t *src;
	int rc;

	if ((rc = pkt_rd_ptr(r, &src, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(out, src, n);
	return 0;
}

int
pkt_rd_u8(struct pkt_rd *r, uint8_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = pkt_rd_ptr(r, &b, 1)) != 0)
		return rc;
	*v = b[0];
	return 0;
}

int
pkt_rd_u16(struct pkt_rd *r, uint16_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = pkt_rd_ptr(r, &b, 2)) != 0)
		return rc;
	*v = pkt_load16(b);
	return 0;
}

int
pkt_rd_u32(struct pkt_rd *r, uint32_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = pkt_rd_ptr(r, &b, 4)) != 0)
		return rc;
	*v = pkt_load32(b);
	return 0;
}

int
pkt_rd_u64(struct pkt_rd *r, uint64_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = pkt_rd_ptr(r, &b, 8)) != 0)
		return rc;
	*v = pkt_load64(b);
	return 0;
}

void
pkt_wr_init(struct pkt_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf == NULL ? 0 : cap;
	w->off = 0;
}

/* Reserve n bytes for writing; NULL if they do not fit. */
static uint8_t *
pkt_wr_reserve(struct pkt_wr *w, size_t n)
{
	uint8_t *b;

	if (n > pkt_wr_left(w))
		return NULL;
	b = w->p == NULL ? NULL : w->p + w->off;
	w->off += n;
	return b;
}

int
pkt_wr_bytes(struct pkt_wr *w, const void *in, size_t n)
{
	uint8_t *b;

	if (n > pkt_wr_left(w))
		return PKT_ENOSPACE;
	b = pkt_wr_reserve(w, n);
	if (n > 0)
		memcpy(b, in, n);
	return 0;
}

int
pkt_wr_u8(struct pkt_wr *w, uint8_t v)
{
	uint8_t *b = pkt_wr_reserve(w, 1);

	if (b == NULL)
		return PKT_ENOSPACE;
	b[0] = v;
	return 0;
}

int
pkt_wr_u16(struct pkt_wr *w, uint16_t v)
{
	uint8_t *b = pkt_wr_reserve(w, 2);

	if (b == NULL)
		return PKT_ENOSPACE;
	pkt_store16(b, v);
	return 0;
}

int
pkt_wr_u32(struct pkt_wr *w, uint32_t v)
{
	uint8_t *b = pkt_wr_reserve(w, 4);

	if (b == NULL)
		return PKT_ENOSPACE;
	pkt_store32(b, v);
	return 0;
}

int
pkt_wr_u64(struct pkt_wr *w, uint64_t v)
{
	uint8_t *b = pkt_wr_reserve(w, 8);

	if (b == NULL)
		return PKT_ENOSPACE;
	pkt_store64(b, v);
	return 0;
}
