/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zlib stage (ATTACKS.md row 17): compress_inflate on any bytes with
 * a bounded output, compared with a plain zlib inflate of the same bytes
 * (accepted exactly when the stream is complete, alone and within the
 * limit, with the same output), and the compress_packet ->
 * compress_inflate round trip of the same bytes taken as a packet.
 *
 * Input: sel(1) | bytes.  sel's low three bits pick the output limit from
 * fuzz_inflate_limits (the MTUs that matter and the super-packet limit),
 * the next four the deflate level of the round trip.
 */
#include "config.h"

#define ZLIB_CONST
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"
#include "fuzz_common.h"
#include "wire.h"

static const size_t fuzz_inflate_limits[8] = {
	0, 1, 64, 576, 1500, 1500 + 18, 9000, WIRE_PACKET_MAX,
};

/*
 * The reference: zlib alone, raw deflate, one more byte of room than the
 * limit.  True with the output in out when the stream ends within the
 * limit and nothing follows it.
 */
static bool
fuzz_inflate_ref(const uint8_t *in, size_t len, uint8_t *out, size_t lim,
    size_t *outlen)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	FUZZ_CHECK(inflateInit2(&z, -15) == Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)lim + 1;
	zr = inflate(&z, Z_FINISH);
	*outlen = z.total_out;
	inflateEnd(&z);
	return zr == Z_STREAM_END && z.avail_in == 0 && *outlen <= lim;
}

/*
 * What zlib did with the bytes, block by block (Z_BLOCK stops at each
 * block boundary): its result, the error message it chose, the state of
 * the block it is in and a size class of its progress, as features.
 */
static void
fuzz_inflate_features(const uint8_t *in, size_t len)
{
	static uint8_t out[WIRE_PACKET_MAX];
	z_stream z;
	uint32_t f;
	int zr, step;

	memset(&z, 0, sizeof(z));
	FUZZ_CHECK(inflateInit2(&z, -15) == Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = sizeof(out);
	for (step = 0; step < 32; step++) {
		zr = inflate(&z, Z_BLOCK);
		f = fuzz_hash(&zr, sizeof(zr), 0);
		if (z.msg != NULL)
			f = fuzz_hash(z.msg, strlen(z.msg), f);
		fuzz_feature(f);
		f = fuzz_hash(&step, sizeof(step), f);
		fuzz_feature(fuzz_hash(&z.data_type, sizeof(z.data_type), f));
		fuzz_feature(f + fuzz_log2(z.total_out) * 64 +
		    fuzz_log2(z.total_in));
		if (zr != Z_OK)
			break;
	}
	inflateEnd(&z);
}

/* Inflate any bytes within lim and compare with the reference. */
static void
fuzz_inflate_any(struct compress *cz, const uint8_t *data, size_t len,
    size_t lim)
{
	uint8_t *in = fuzz_dup(data, len);
	uint8_t *out = malloc(lim > 0 ? lim : 1);
	uint8_t *ref = malloc(lim + 1);
	size_t outlen = 0, reflen = 0;
	bool ok, want;

	if (out == NULL || ref == NULL)
		abort();
	ok = compress_inflate(cz, in, len, out, lim, &outlen) == 0;
	want = fuzz_inflate_ref(in, len, ref, lim, &reflen);
	FUZZ_CHECK(ok == want);
	if (ok) {
		FUZZ_CHECK(outlen == reflen && outlen <= lim);
		FUZZ_CHECK(outlen == 0 || memcmp(out, ref, outlen) == 0);
	}
	free(ref);
	free(out);
	free(in);
}

/* A packet sent deflated comes back whole, and not within one byte less. */
static void
fuzz_inflate_round_trip(struct compress *cz, const uint8_t *data,
    size_t len)
{
	uint8_t *z, *back;
	size_t zlen = 0, blen = 0;
	uint64_t bombs;
	int r;

	if (len == 0)
		return;
	z = malloc(len);
	back = malloc(len);
	if (z == NULL || back == NULL)
		abort();
	r = compress_packet(cz, data, len, z, len, &zlen);
	FUZZ_CHECK(r == 0 || r == 1);
	if (r == 1) {
		FUZZ_CHECK(zlen > 0 && zlen < len);
		FUZZ_CHECK(compress_inflate(cz, z, zlen, back, len, &blen) ==
		    0);
		FUZZ_CHECK(blen == len && memcmp(back, data, len) == 0);
		bombs = compress_stats(cz)->bomb;
		FUZZ_CHECK(compress_inflate(cz, z, zlen, back, len - 1,
		    &blen) != 0);
		FUZZ_CHECK(compress_stats(cz)->bomb == bombs + 1);
	}
	free(back);
	free(z);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_u8(&in);
	struct compress *cz;
	char err[160];

	cz = compress_new(1 + (sel >> 3 & 0x0f) % WIRE_COMPRESS_MAX, err,
	    sizeof(err));
	FUZZ_CHECK(cz != NULL);
	fuzz_inflate_features(in.p, in.n);
	fuzz_inflate_any(cz, in.p, in.n, fuzz_inflate_limits[sel & 7]);
	fuzz_inflate_round_trip(cz, in.p, in.n);
	compress_free(cz);
	return 0;
}
