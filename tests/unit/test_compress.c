/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compress.c: round trips at both ends of the level range, packets that
 * are not worth compressing, and every way an inflate must fail: bombs,
 * truncated, corrupt and trailing bytes, raw packets (ATTACKS.md row 17).
 * The test builds its attack streams with zlib directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"
#include "wire.h"

/* Bytes behind every output buffer that no call may touch. */
#define CANARY_LEN 64
#define CANARY 0xa5
#define MTU 1500

enum fill { FILL_TEXT, FILL_RANDOM, FILL_ZERO };

/* A deterministic pseudo-random stream (xorshift32) for the test data. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
fill(uint8_t *p, size_t len, enum fill how, uint32_t seed)
{
	static const char text[] = "GET /index.html HTTP/1.1\r\nHost: tapline"
				   ".example\r\nAccept: */*\r\n\r\n";
	size_t i;

	for (i = 0; i < len; i++) {
		switch (how) {
		case FILL_TEXT:
			p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
			break;
		case FILL_RANDOM:
			p[i] = (uint8_t)rnd(&seed);
			break;
		case FILL_ZERO:
			p[i] = 0;
			break;
		}
	}
}

/* An output buffer of cap bytes followed by a canary. */
static uint8_t *
out_new(size_t cap)
{
	uint8_t *p = malloc(cap + CANARY_LEN);

	assert_non_null(p);
	memset(p, CANARY, cap + CANARY_LEN);
	return p;
}

static void
out_check_free(uint8_t *p, size_t cap)
{
	size_t i;

	for (i = 0; i < CANARY_LEN; i++)
		assert_int_equal(p[cap + i], CANARY);
	free(p);
}

static struct compress *
new_ok(int level)
{
	char err[128];
	struct compress *c = compress_new(level, err, sizeof(err));

	assert_non_null(c);
	assert_int_equal(compress_level(c), level);
	return c;
}

/*
 * Raw-deflate `total` zero bytes, fed in 64 KiB pieces, with zlib directly:
 * the way an attacker makes a bomb.  Returns the stream, *zlen its length.
 */
static uint8_t *
make_zero_bomb(size_t total, size_t *zlen)
{
	static uint8_t zeros[65536];
	size_t cap = total / 1000 + 4096, left = total;
	uint8_t *z = malloc(cap);
	z_stream s;

	assert_non_null(z);
	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, -15, 9,
				 Z_DEFAULT_STRATEGY),
	    Z_OK);
	s.next_out = z;
	s.avail_out = (uInt)cap;
	while (left > 0) {
		size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

		s.next_in = zeros;
		s.avail_in = (uInt)n;
		assert_int_equal(deflate(&s, Z_NO_FLUSH), Z_OK);
		assert_int_equal(s.avail_in, 0);
		left -= n;
	}
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	*zlen = cap - s.avail_out;
	deflateEnd(&s);
	return z;
}

static void
test_new_levels(void **state)
{
	static const int bad[] = { -1, 0, 10, 100 };
	char err[128];
	size_t i;
	int level;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(compress_new(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, "out of range 1..9"));
	}
	for (level = 1; level <= WIRE_COMPRESS_MAX; level++) {
		struct compress *c = new_ok(level);
		const struct compress_stats *st = compress_stats(c);

		/* Everything zlib needs is allocated here, and little. */
		assert_true(st->allocs > 0);
		assert_true(st->alloc_bytes < 1024 * 1024);
		assert_int_equal(st->compressed + st->raw + st->inflated, 0);
		compress_free(c);
	}
	compress_free(NULL);
}

struct rt_case {
	const char *name;
	size_t len;
	enum fill how;
	int want; /* compress_packet(): 1 deflated, 0 send raw */
};

static const struct rt_case rt_cases[] = {
	{ "empty", 0, FILL_TEXT, 0 },
	{ "one byte", 1, FILL_TEXT, 0 },
	{ "two zero bytes", 2, FILL_ZERO, 0 },
	/* 40 distinct-ish literals cost more than 40 bytes of codes. */
	{ "short text", 40, FILL_TEXT, 0 },
	{ "short zeros", 40, FILL_ZERO, 1 },
	{ "mtu text", MTU, FILL_TEXT, 1 },
	{ "mtu zeros", MTU, FILL_ZERO, 1 },
	{ "mtu random", MTU, FILL_RANDOM, 0 },
	{ "64 KiB text", 65536, FILL_TEXT, 1 },
	{ "64 KiB random", 65536, FILL_RANDOM, 0 },
	{ "largest packet", WIRE_PACKET_MAX, FILL_TEXT, 1 },
};

/* Every case at level 1 and 9, sender and receiver as separate objects. */
static void
test_round_trips(void **state)
{
	static const int levels[] = { 1, 9 };
	size_t i, j, zlen, outlen;

	(void)state;
	for (j = 0; j < 2; j++) {
		struct compress *tx = new_ok(levels[j]);
		struct compress *rx = new_ok(levels[j]);
		uint64_t allocs_tx = compress_stats(tx)->allocs;
		uint64_t allocs_rx = compress_stats(rx)->allocs;

		for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
			const struct rt_case *tc = &rt_cases[i];
			uint8_t *in = malloc(tc->len + 1);
			uint8_t *z = out_new(tc->len);
			uint8_t *back = out_new(tc->len);
			struct compress_stats before = *compress_stats(tx);
			int rc;

			print_message("level %d: %s\n", levels[j], tc->name);
			assert_non_null(in);
			fill(in, tc->len, tc->how, 0x1234567u + (uint32_t)i);
			zlen = 0xdead;
			rc = compress_packet(tx, in, tc->len, z, tc->len,
			    &zlen);
			assert_int_equal(rc, tc->want);
			if (rc == 1) {
				assert_true(zlen > 0 && zlen < tc->len);
				assert_int_equal(compress_stats(tx)->compressed,
				    before.compressed + 1);
				assert_int_equal(compress_stats(tx)->bytes_in,
				    before.bytes_in + tc->len);
				assert_int_equal(compress_stats(tx)->bytes_out,
				    before.bytes_out + zlen);
				/* The limit is exactly the packet's size. */
				outlen = 0;
				assert_int_equal(compress_inflate(rx, z, zlen,
							 back, tc->len,
							 &outlen),
				    0);
				assert_int_equal(outlen, tc->len);
				assert_memory_equal(back, in, tc->len);
				/* One byte less is a bomb. */
				assert_int_equal(compress_inflate(rx, z, zlen,
							 back, tc->len - 1,
							 &outlen),
				    -1);
			} else if (tc->len > 0) {
				assert_int_equal(zlen, 0xdead);
				assert_int_equal(compress_stats(tx)->raw,
				    before.raw + 1);
			} else {
				/* Empty input counts nothing. */
				assert_memory_equal(compress_stats(tx), &before,
				    sizeof(before));
			}
			out_check_free(z, tc->len);
			out_check_free(back, tc->len);
			free(in);
		}
		/* No packet allocated anything. */
		assert_int_equal(compress_stats(tx)->allocs, allocs_tx);
		assert_int_equal(compress_stats(rx)->allocs, allocs_rx);
		compress_free(tx);
		compress_free(rx);
	}
}

/* Deflated output that does not fit the caller's room is sent raw. */
static void
test_small_outcap(void **state)
{
	struct compress *c = new_ok(6);
	uint8_t in[MTU], z[MTU];
	size_t zlen, full, outlen;

	(void)state;
	fill(in, sizeof(in), FILL_TEXT, 0);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, sizeof(z),
				 &full),
	    1);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, full, &zlen),
	    1);
	assert_int_equal(zlen, full);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, full - 1,
				 &zlen),
	    0);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, 0, &zlen), 0);
	/* The object is still good after giving up half way. */
	assert_int_equal(compress_packet(c, in, sizeof(in), z, sizeof(z),
				 &zlen),
	    1);
	assert_int_equal(zlen, full);
	assert_int_equal(compress_inflate(c, z, zlen, in, sizeof(in), &outlen),
	    0);
	assert_int_equal(outlen, sizeof(in));
	assert_int_equal(compress_stats(c)->raw, 2);
	compress_free(c);
}

struct bomb_case {
	const char *name;
	size_t total;  /* zeros behind the stream */
	size_t maxlen; /* the receiver's limit */
};

static const struct bomb_case bomb_cases[] = {
	{ "1 MiB into an MTU", 1024 * 1024, MTU },
	{ "1 MiB into one byte", 1024 * 1024, 1 },
	{ "1 MiB into nothing", 1024 * 1024, 0 },
	{ "largest packet + 1", WIRE_PACKET_MAX + 1, WIRE_PACKET_MAX },
	/* About the largest bomb one DATA frame can carry. */
	{ "64 MiB into an MTU", 64 * 1024 * 1024, MTU },
};

/* A bomb is refused without writing past the limit or allocating. */
static void
test_bombs(void **state)
{
	struct compress *c = new_ok(1);
	uint64_t allocs = compress_stats(c)->allocs;
	size_t i, zlen, outlen;

	(void)state;
	for (i = 0; i < sizeof(bomb_cases) / sizeof(bomb_cases[0]); i++) {
		const struct bomb_case *bc = &bomb_cases[i];
		uint8_t *z = make_zero_bomb(bc->total, &zlen);
		uint8_t *out = out_new(bc->maxlen);
		uint64_t bombs = compress_stats(c)->bomb;

		print_message("%s: %zu bytes of stream\n", bc->name, zlen);
		assert_true(zlen <= WIRE_DATA_MAX_BODY);
		outlen = 0xdead;
		assert_int_equal(compress_inflate(c, z, zlen, out, bc->maxlen,
					 &outlen),
		    -1);
		assert_int_equal(outlen, 0xdead);
		assert_int_equal(compress_stats(c)->bomb, bombs + 1);
		out_check_free(out, bc->maxlen);
		/* The same stream with room for all of it is fine. */
		if (bc->total <= WIRE_PACKET_MAX + 1) {
			out = out_new(bc->total);
			assert_int_equal(compress_inflate(c, z, zlen, out,
						 bc->total, &outlen),
			    0);
			assert_int_equal(outlen, bc->total);
			out_check_free(out, bc->total);
		}
		free(z);
	}
	assert_int_equal(compress_stats(c)->allocs, allocs);
	compress_free(c);
}

/* Every prefix of a valid stream is truncated, never accepted. */
static void
test_truncated(void **state)
{
	struct compress *c = new_ok(9);
	uint8_t in[MTU], z[MTU], out[MTU + CANARY_LEN];
	size_t zlen, cut, outlen;

	(void)state;
	fill(in, sizeof(in), FILL_TEXT, 0);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, sizeof(z),
				 &zlen),
	    1);
	for (cut = 0; cut < zlen; cut++) {
		uint64_t t = compress_stats(c)->truncated;

		assert_int_equal(compress_inflate(c, z, cut, out, MTU,
					 &outlen),
		    -1);
		assert_int_equal(compress_stats(c)->truncated, t + 1);
	}
	assert_int_equal(compress_inflate(c, z, zlen, out, MTU, &outlen), 0);
	assert_int_equal(compress_stats(c)->corrupt, 0);
	compress_free(c);
}

/* Bytes after the end of a valid stream are refused. */
static void
test_trailing(void **state)
{
	struct compress *c = new_ok(5);
	uint8_t in[MTU], z[2 * MTU], out[2 * MTU];
	size_t zlen, zlen2, outlen;

	(void)state;
	fill(in, sizeof(in), FILL_TEXT, 0);
	assert_int_equal(compress_packet(c, in, sizeof(in), z, MTU, &zlen),
	    1);
	/*
	 * One zero byte behind the stream, with room to spare and with a
	 * limit the stream fills exactly (the end is found another way).
	 */
	z[zlen] = 0;
	assert_int_equal(compress_inflate(c, z, zlen + 1, out, sizeof(out),
				 &outlen),
	    -1);
	assert_int_equal(compress_stats(c)->trailing, 1);
	assert_int_equal(compress_inflate(c, z, zlen + 1, out, MTU, &outlen),
	    -1);
	assert_int_equal(compress_stats(c)->trailing, 2);
	/* A whole second stream behind the first. */
	assert_int_equal(compress_packet(c, in, 100, z + zlen, MTU, &zlen2), 1);
	assert_int_equal(compress_inflate(c, z, zlen + zlen2, out, sizeof(out),
				 &outlen),
	    -1);
	assert_int_equal(compress_stats(c)->trailing, 3);
	assert_int_equal(compress_inflate(c, z, zlen, out, MTU, &outlen), 0);
	assert_int_equal(outlen, MTU);
	assert_int_equal(compress_stats(c)->corrupt, 0);
	compress_free(c);
}

struct garbage_case {
	const char *name;
	const uint8_t *p;
	size_t len;
};

/* A real ICMP echo request in IPv4, as a peer sends without the flag. */
static const uint8_t ipv4_ping[] = {
	0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0xa0,
	0x5e, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00,
	0xf7, 0xfc, 0x00, 0x01, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65,
	0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70,
};
/* The start of an IPv6 packet: version 6, flow label, payload 20, TCP. */
static const uint8_t ipv6_hdr[] = {
	0x60, 0x0c, 0x12, 0x34, 0x00, 0x14, 0x06, 0x40, 0xfd, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};
/* Block type 3 does not exist. */
static const uint8_t bad_btype[] = { 0xff, 0xff, 0xff, 0xff };
/* A stored block whose NLEN is not the complement of LEN. */
static const uint8_t bad_stored[] = { 0x01, 0x05, 0x00, 0xfa, 0xfe, 'h', 'e',
	'l', 'l', 'o' };
/* A fixed-Huffman block whose first code is a distance back into nothing. */
static const uint8_t bad_distance[] = { 0x03, 0x02, 0x00 };
/* A zlib (not raw) stream of "hello": header 0x78 0x9c. */
static const uint8_t zlib_wrapped[] = { 0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9,
	0xc9, 0x07, 0x00, 0x06, 0x2c, 0x02, 0x15 };

static const struct garbage_case garbage_cases[] = {
	{ "raw ipv4 packet", ipv4_ping, sizeof(ipv4_ping) },
	{ "raw ipv6 packet", ipv6_hdr, sizeof(ipv6_hdr) },
	{ "block type 3", bad_btype, sizeof(bad_btype) },
	{ "stored block length", bad_stored, sizeof(bad_stored) },
	{ "distance too far", bad_distance, sizeof(bad_distance) },
	{ "zlib header", zlib_wrapped, sizeof(zlib_wrapped) },
};

/* Things that are not raw deflate streams are refused as corrupt. */
static void
test_garbage(void **state)
{
	struct compress *c = new_ok(1);
	uint8_t *out;
	size_t i, outlen;

	(void)state;
	for (i = 0; i < sizeof(garbage_cases) / sizeof(garbage_cases[0]);
	    i++) {
		const struct garbage_case *gc = &garbage_cases[i];
		uint64_t corrupt = compress_stats(c)->corrupt;

		print_message("%s\n", gc->name);
		out = out_new(MTU);
		assert_int_equal(compress_inflate(c, gc->p, gc->len, out, MTU,
					 &outlen),
		    -1);
		assert_int_equal(compress_stats(c)->corrupt, corrupt + 1);
		out_check_free(out, MTU);
	}
	compress_free(c);
}

/* Random bytes never crash, never write past the limit, rarely pass. */
static void
test_random_input(void **state)
{
	struct compress *c = new_ok(1);
	uint8_t in[512], *out = out_new(MTU);
	uint32_t seed = 42;
	size_t outlen;
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 5000; i++) {
		size_t len = 1 + rnd(&seed) % sizeof(in);

		fill(in, len, FILL_RANDOM, rnd(&seed));
		if (compress_inflate(c, in, len, out, MTU, &outlen) == 0) {
			assert_true(outlen <= MTU);
			ok++;
		}
	}
	/* Every failure was counted under one reason. */
	assert_int_equal(compress_stats(c)->bomb +
		compress_stats(c)->truncated + compress_stats(c)->corrupt +
		compress_stats(c)->trailing,
	    (uint64_t)(5000 - ok));
	assert_int_equal(compress_stats(c)->errors, 0);
	out_check_free(out, MTU);
	compress_free(c);
}

/* The empty stream and the empty body are different things. */
static void
test_empty(void **state)
{
	/* Raw deflate of no bytes: one final fixed block with its EOB. */
	static const uint8_t empty_stream[] = { 0x03, 0x00 };
	struct compress *c = new_ok(3);
	uint8_t out[1];
	size_t outlen = 0xdead;

	(void)state;
	assert_int_equal(compress_inflate(c, empty_stream, 2, out, 0, &outlen),
	    0);
	assert_int_equal(outlen, 0);
	assert_int_equal(compress_inflate(c, empty_stream, 2, out, 1, &outlen),
	    0);
	assert_int_equal(outlen, 0);
	assert_int_equal(compress_inflate(c, empty_stream, 0, out, 1, &outlen),
	    -1);
	assert_int_equal(compress_stats(c)->truncated, 1);
	compress_free(c);
}

/*
 * Traffic that does not shrink is soon sent raw without trying; a probe
 * now and then notices when it compresses again.
 */
static void
test_adaptive_skip(void **state)
{
	uint8_t noise[1400], text[1400], out[1400];
	const struct compress_stats *st;
	struct compress *c;
	char err[128];
	uint64_t x = 88172645463325252ull;
	size_t n, i;
	int tried;

	(void)state;
	/* xorshift64: bytes that deflate cannot shrink. */
	for (i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		noise[i] = (uint8_t)x;
		text[i] = (uint8_t)("tapline "[i % 8]);
	}
	c = compress_new(1, err, sizeof(err));
	assert_non_null(c);
	st = compress_stats(c);
	for (i = 0; i < 200; i++)
		assert_int_equal(compress_packet(c, noise, sizeof(noise), out,
		    sizeof(out), &n), 0);
	/* Eight failed tries, then pauses of 8, 16, 32, 64 packets. */
	assert_true(st->skipped > 100);
	assert_int_equal(st->raw, 200);
	tried = (int)(st->raw - st->skipped);
	assert_true(tried < 20);
	/* Compressible traffic returns: within the pause it goes raw, the
	 * next probe compresses and ends the pause. */
	for (i = 0; i < 200 && st->compressed == 0; i++)
		(void)compress_packet(c, text, sizeof(text), out, sizeof(out),
		    &n);
	assert_int_equal(st->compressed, 1);
	assert_int_equal(compress_packet(c, text, sizeof(text), out,
	    sizeof(out), &n), 1);
	compress_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_levels),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_small_outcap),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_adaptive_skip),
	};

	return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
