/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zlib stage: every packet is its own raw-deflate
 * stream (no zlib header, no shared dictionary across packets), so a lost
 * or reordered UDP datagram never breaks the next one.
 *
 * One struct compress per session holds a deflate and an inflate stream,
 * allocated when the object is made and reset for each packet, so the data
 * path allocates nothing.  Inflation is bounded by the caller's limit (the
 * MTU): a stream that would produce more is a bomb and is dropped without
 * a byte written past the limit (tests/ATTACKS.md row 17).
 *
 * Sans-I/O and not thread-safe: one object per session and thread.
 */
#ifndef TAPLINE_COMPRESS_H
#define TAPLINE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Counters for the status command; they only ever grow. */
struct compress_stats {
	/* compress_packet() */
	uint64_t compressed;	/* packets sent deflated */
	uint64_t raw;		/* packets sent raw: deflate was not smaller */
	uint64_t skipped;	/* of those, sent raw without trying (skip) */
	uint64_t bytes_in;	/* bytes of the packets sent deflated */
	uint64_t bytes_out;	/* bytes of their deflated forms */
	/* compress_inflate() */
	uint64_t inflated;	/* packets inflated */
	uint64_t inflated_in;	/* deflated bytes received */
	uint64_t inflated_out;	/* bytes they inflated to */
	uint64_t bomb;		/* would inflate past the limit */
	uint64_t truncated;	/* stream ends before its last block */
	uint64_t corrupt;	/* not a valid deflate stream */
	uint64_t trailing;	/* bytes after the end of the stream */
	/* Both directions */
	uint64_t errors;	/* zlib failed for a reason of our own */
	uint64_t allocs;	/* allocations made by zlib, all time */
	uint64_t alloc_bytes;	/* bytes those allocations asked for */
};

struct compress;

/*
 * A session's compressor at zlib level 1..9.  Returns NULL with a complete
 * sentence in err on a bad level or when zlib cannot get its memory.
 */
struct compress *compress_new(int level, char *err, size_t errlen);
void compress_free(struct compress *c);

/*
 * Deflate the len bytes at in into out (outcap bytes, not overlapping in).
 * Returns 1 with *outlen set when the deflated form is smaller than len:
 * the caller sends out and sets WIRE_FLAG_ZLIB (or WIRE_INNER_ZLIB).
 * Returns 0 when it is not smaller or does not fit in outcap: the caller
 * sends in as it is.  An empty input returns 0 and counts nothing, since
 * empty packets are never sent.  Returns -1 on an internal zlib error, in
 * which case sending raw is still correct.
 */
int compress_packet(struct compress *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen);

/*
 * Inflate the deflate stream of len bytes at in into out, writing at most
 * maxlen bytes.  Returns 0 with *outlen set, or -1 when the stream would
 * inflate to more than maxlen (a bomb), ends early, is corrupt or is
 * followed by more bytes; the reason is counted in the stats.  out must
 * not overlap in.
 */
int compress_inflate(struct compress *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t maxlen, size_t *outlen);

/* The level the object was made with. */
int compress_level(const struct compress *c);

/* The object's counters, valid until compress_free(). */
const struct compress_stats *compress_stats(const struct compress *c);

#endif
