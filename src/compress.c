/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#define ZLIB_CONST
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"
#include "util.h"
#include "wire.h"

/* Raw deflate: no zlib header or checksum, the AEAD already protects. */
#define COMPRESS_WBITS (-15)
/* zlib's default; 9 would buy almost nothing on packet-sized inputs. */
#define COMPRESS_MEMLEVEL 8

struct compress {
	z_stream def;
	z_stream inf;
	int level;
	int def_ready;
	int inf_ready;
	/*
	 * Adaptive skip: after COMPRESS_MISSES packets in a row that did not
	 * shrink (encrypted or already compressed traffic), stop trying for
	 * a while, doubling the pause each time a probe fails again, so that
	 * a flow that does not compress costs almost nothing.
	 */
	unsigned int misses;
	unsigned int skip;
	struct compress_stats st;
};

#define COMPRESS_MISSES 8
#define COMPRESS_SKIP_MAX 1024

/*
 * zlib allocates through here so that the stats show how much memory a
 * session's compressor holds and the tests can prove that packets never
 * allocate.  calloc, because deflate may read window bytes it has not
 * written yet and checkers such as valgrind would report them.
 */
static voidpf
compress_zalloc(voidpf opaque, uInt items, uInt size)
{
	struct compress *c = opaque;
	void *p;

	p = calloc(items, size);
	if (p != NULL) {
		c->st.allocs++;
		c->st.alloc_bytes += (uint64_t)items * size;
	}
	return p;
}

static void
compress_zfree(voidpf opaque, voidpf p)
{
	(void)opaque;
	free(p);
}

/*
 * inflate allocates its 32 KiB window the first time a stream does not
 * finish within one call, which is the first bomb or the first packet of
 * a peer that flushes oddly.  Run one small round trip that does not ask
 * for Z_FINISH, so the window exists before the first packet and the data
 * path never allocates; it also proves that both streams work.
 */
static int
compress_warm_up(struct compress *c)
{
	static const char sample[] = "tapline tapline tapline tapline";
	uint8_t z[64], back[sizeof(sample)];
	int zr;

	c->def.next_in = (const Bytef *)sample;
	c->def.avail_in = sizeof(sample);
	c->def.next_out = z;
	c->def.avail_out = sizeof(z);
	if (deflate(&c->def, Z_FINISH) != Z_STREAM_END)
		return -1;
	c->inf.next_in = z;
	c->inf.avail_in = (uInt)(sizeof(z) - c->def.avail_out);
	c->inf.next_out = back;
	c->inf.avail_out = sizeof(back);
	zr = inflate(&c->inf, Z_NO_FLUSH);
	if (zr != Z_STREAM_END || c->inf.avail_out != 0)
		return -1;
	if (memcmp(back, sample, sizeof(sample)) != 0)
		return -1;
	if (deflateReset(&c->def) != Z_OK || inflateReset(&c->inf) != Z_OK)
		return -1;
	return 0;
}

struct compress *
compress_new(int level, char *err, size_t errlen)
{
	struct compress *c;
	int zr;

	if (level < 1 || level > WIRE_COMPRESS_MAX) {
		util_err(err, errlen,
		    "compression level %d is out of range 1..%d", level,
		    WIRE_COMPRESS_MAX);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		util_err(err, errlen, "out of memory for a compressor");
		return NULL;
	}
	c->level = level;
	c->def.zalloc = c->inf.zalloc = compress_zalloc;
	c->def.zfree = c->inf.zfree = compress_zfree;
	c->def.opaque = c->inf.opaque = c;
	zr = deflateInit2(&c->def, level, Z_DEFLATED, COMPRESS_WBITS,
	    COMPRESS_MEMLEVEL, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK) {
		util_err(err, errlen, "zlib deflate setup failed: %s",
		    zr == Z_MEM_ERROR ? "out of memory" : zError(zr));
		goto fail;
	}
	c->def_ready = 1;
	zr = inflateInit2(&c->inf, COMPRESS_WBITS);
	if (zr != Z_OK) {
		util_err(err, errlen, "zlib inflate setup failed: %s",
		    zr == Z_MEM_ERROR ? "out of memory" : zError(zr));
		goto fail;
	}
	c->inf_ready = 1;
	if (compress_warm_up(c) != 0) {
		util_err(err, errlen,
		    "zlib self-test failed (deflate and inflate disagree)");
		goto fail;
	}
	return c;
fail:
	compress_free(c);
	return NULL;
}

void
compress_free(struct compress *c)
{
	if (c == NULL)
		return;
	if (c->def_ready)
		deflateEnd(&c->def);
	if (c->inf_ready)
		inflateEnd(&c->inf);
	free(c);
}

int
compress_level(const struct compress *c)
{
	return c->level;
}

const struct compress_stats *
compress_stats(const struct compress *c)
{
	return &c->st;
}

/*
 * Deflate one packet as a complete raw stream.  Only a result smaller than
 * the input is worth sending, so deflate gets at most len - 1 bytes of room
 * and gives up as soon as it runs out instead of finishing for nothing.
 */
int
compress_packet(struct compress *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t spare;
	size_t room, produced;
	int zr;

	if (len == 0)
		return 0;
	if (c->skip > 0) {
		c->skip--;
		c->st.raw++;
		c->st.skipped++;
		return 0;
	}
	if (len > UINT_MAX || deflateReset(&c->def) != Z_OK) {
		c->st.errors++;
		return -1;
	}
	room = len - 1 < outcap ? len - 1 : outcap;
	c->def.next_in = in;
	c->def.avail_in = (uInt)len;
	c->def.next_out = out;
	c->def.avail_out = (uInt)room;
	zr = deflate(&c->def, Z_FINISH);
	produced = room - c->def.avail_out;
	/*
	 * deflate reports a last block that exactly fills the room as not
	 * finished yet.  A second call (zlib wants room for it) into a
	 * scratch byte says whether anything is left: if that byte gets
	 * written, the stream does not fit.
	 */
	if (zr == Z_OK && c->def.avail_out == 0) {
		c->def.next_out = &spare;
		c->def.avail_out = 1;
		zr = deflate(&c->def, Z_FINISH);
		if (zr == Z_STREAM_END && c->def.avail_out == 0)
			zr = Z_OK;
	}
	if (zr == Z_STREAM_END) {
		*outlen = produced;
		c->misses = 0;
		c->st.compressed++;
		c->st.bytes_in += len;
		c->st.bytes_out += produced;
		return 1;
	}
	/* Out of room (Z_OK, or Z_BUF_ERROR when there was none at all). */
	if (zr == Z_OK || zr == Z_BUF_ERROR) {
		c->st.raw++;
		if (++c->misses >= COMPRESS_MISSES) {
			unsigned int shift = c->misses - COMPRESS_MISSES;

			c->skip = shift >= 10 ? COMPRESS_SKIP_MAX :
			    COMPRESS_MISSES << shift;
			if (c->skip > COMPRESS_SKIP_MAX)
				c->skip = COMPRESS_SKIP_MAX;
		}
		return 0;
	}
	c->st.errors++;
	return -1;
}

/* How one inflate ended; each failure has its own counter. */
enum compress_inflate_result {
	COMPRESS_INF_OK,
	COMPRESS_INF_BOMB,
	COMPRESS_INF_TRUNCATED,
	COMPRESS_INF_CORRUPT,
	COMPRESS_INF_TRAILING,
	COMPRESS_INF_ERROR,
};

/* Map a zlib status, once no more output is possible, to a result. */
static enum compress_inflate_result
compress_inflate_status(const struct compress *c, int zr)
{
	switch (zr) {
	case Z_STREAM_END:
		/*
		 * A valid stream followed by more bytes is not what our
		 * peer sends; accepting it would let the tail carry
		 * anything past this check.
		 */
		return c->inf.avail_in == 0 ? COMPRESS_INF_OK :
					      COMPRESS_INF_TRAILING;
	case Z_DATA_ERROR:
		return COMPRESS_INF_CORRUPT;
	case Z_OK:
	case Z_BUF_ERROR:
		/* Output room was left, so the input ran out first. */
		return COMPRESS_INF_TRUNCATED;
	default:
		return COMPRESS_INF_ERROR;
	}
}

/*
 * Run inflate over the whole input with at most lim bytes of output.
 * When the output fills up before the end of the stream, one more byte
 * into a scratch byte decides whether the stream ends right there or has
 * more: nothing is written past the limit and a bomb costs at most lim + 1
 * bytes of inflating, however large it would grow.
 */
static enum compress_inflate_result
compress_inflate_run(struct compress *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t lim)
{
	uint8_t spare;
	int zr;

	c->inf.next_in = in;
	c->inf.avail_in = (uInt)len;
	/* zlib refuses a NULL output pointer even for zero bytes. */
	/* cppcheck-suppress uninitvar ; inflate only writes spare */
	c->inf.next_out = lim > 0 ? out : &spare;
	c->inf.avail_out = (uInt)lim;
	/*
	 * Z_FINISH: the whole packet is here, and a stream that completes
	 * in this one call does not need inflate's window updated.
	 */
	zr = inflate(&c->inf, Z_FINISH);
	if ((zr != Z_OK && zr != Z_BUF_ERROR) || c->inf.avail_out != 0)
		return compress_inflate_status(c, zr);
	c->inf.next_out = &spare;
	c->inf.avail_out = 1;
	zr = inflate(&c->inf, Z_FINISH);
	if (c->inf.avail_out == 0)
		return COMPRESS_INF_BOMB;
	return compress_inflate_status(c, zr);
}

int
compress_inflate(struct compress *c, const uint8_t *in, size_t len,
    uint8_t *out, size_t maxlen, size_t *outlen)
{
	size_t lim = maxlen > UINT_MAX ? UINT_MAX : maxlen;

	/* An empty body ends before the stream's first block. */
	if (len == 0) {
		c->st.truncated++;
		return -1;
	}
	if (len > UINT_MAX || inflateReset(&c->inf) != Z_OK) {
		c->st.errors++;
		return -1;
	}
	switch (compress_inflate_run(c, in, len, out, lim)) {
	case COMPRESS_INF_OK:
		break;
	case COMPRESS_INF_BOMB:
		c->st.bomb++;
		return -1;
	case COMPRESS_INF_TRUNCATED:
		c->st.truncated++;
		return -1;
	case COMPRESS_INF_CORRUPT:
		c->st.corrupt++;
		return -1;
	case COMPRESS_INF_TRAILING:
		c->st.trailing++;
		return -1;
	default:
		c->st.errors++;
		return -1;
	}
	*outlen = c->inf.total_out;
	c->st.inflated++;
	c->st.inflated_in += len;
	c->st.inflated_out += *outlen;
	return 0;
}
