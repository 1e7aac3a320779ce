/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded access to untrusted bytes.
 *
 * struct pkt_rd and struct pkt_wr walk a byte range with helpers that
 * check every access: they return 0, or a negative PKT_E* value and leave
 * the cursor where it was.  Multi-byte values are big-endian (network
 * order) unless the name says otherwise.
 */
#ifndef TAPLINE_PKT_H
#define TAPLINE_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_ESHORT (-1)	  /* fewer bytes left than asked for */
#define PKT_ENOSPACE (-2) /* no room left to write */

struct pkt_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

struct pkt_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
};

void pkt_rd_init(struct pkt_rd *r, const void *buf, size_t len);
static inline size_t
pkt_rd_left(const struct pkt_rd *r)
{
	return r->len - r->off;
}
int pkt_rd_u8(struct pkt_rd *r, uint8_t *v);
int pkt_rd_u16(struct pkt_rd *r, uint16_t *v);
int pkt_rd_u32(struct pkt_rd *r, uint32_t *v);
int pkt_rd_u64(struct pkt_rd *r, uint64_t *v);
int pkt_rd_bytes(struct pkt_rd *r, void *out, size_t n);
/* Point *out at the next n bytes (no copy) and step over them. */
int pkt_rd_ptr(struct pkt_rd *r, const uint8_t **out, size_t n);
int pkt_rd_skip(struct pkt_rd *r, size_t n);

void pkt_wr_init(struct pkt_wr *w, void *buf, size_t cap);
static inline size_t
pkt_wr_left(const struct pkt_wr *w)
{
	return w->cap - w->off;
}
int pkt_wr_u8(struct pkt_wr *w, uint8_t v);
int pkt_wr_u16(struct pkt_wr *w, uint16_t v);
int pkt_wr_u32(struct pkt_wr *w, uint32_t v);
int pkt_wr_u64(struct pkt_wr *w, uint64_t v);
int pkt_wr_bytes(struct pkt_wr *w, const void *in, size_t n);

/* Fixed-position big-endian loads and stores for already-checked ranges. */
static inline uint16_t
pkt_load16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t
pkt_load32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t
pkt_load64(const uint8_t *b)
{
	return (uint64_t)pkt_load32(b) << 32 | pkt_load32(b + 4);
}

static inline void
pkt_store16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void
pkt_store32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static inline void
pkt_store64(uint8_t *b, uint64_t v)
{
	pkt_store32(b, (uint32_t)(v >> 32));
	pkt_store32(b + 4, (uint32_t)v);
}

#endif
