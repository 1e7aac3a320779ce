/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pkt.c: the bounded readers and writers at every boundary: 0, 1, exact
 * size and one past. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "pkt.h"

/* Every reader width on areas of 0, width-1, width and width+1 bytes. */
static void
test_reader_bounds(void **state)
{
	static const uint8_t src[9] = { 0x01, 0x02, 0x03, 0x04, 0x05,
		0x06, 0x07, 0x08, 0x09 };
	static const size_t widths[] = { 1, 2, 4, 8 };
	size_t i, len;

	(void)state;
	for (i = 0; i < 4; i++) {
		size_t w = widths[i];

		for (len = w - 1; len <= w + 1; len++) {
			struct pkt_rd r;
			uint64_t v = 0;
			uint32_t v32 = 0;
			uint16_t v16 = 0;
			uint8_t v8 = 0;
			int rc;

			pkt_rd_init(&r, src, len);
			switch (w) {
			case 1: rc = pkt_rd_u8(&r, &v8); v = v8; break;
			case 2: rc = pkt_rd_u16(&r, &v16); v = v16; break;
			case 4: rc = pkt_rd_u32(&r, &v32); v = v32; break;
			default: rc = pkt_rd_u64(&r, &v); break;
			}
			if (len < w) {
				assert_int_equal(rc, PKT_ESHORT);
				assert_int_equal(r.off, 0);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(r.off, w);
			assert_int_equal(pkt_rd_left(&r), len - w);
			switch (w) {
			case 1: assert_int_equal(v, 0x01); break;
			case 2: assert_int_equal(v, 0x0102); break;
			case 4: assert_int_equal(v, 0x01020304); break;
			default:
				assert_true(v == UINT64_C(0x0102030405060708));
				break;
			}
		}
	}
}

static void
test_reader_bytes_ptr_skip(void **state)
{
	static const uint8_t src[4] = { 'a', 'b', 'c', 'd' };
	const uint8_t *ptr = NULL;
	struct pkt_rd r;
	uint8_t out[5] = { 0 };

	(void)state;
	pkt_rd_init(&r, src, sizeof(src));
	assert_int_equal(pkt_rd_bytes(&r, out, 5), PKT_ESHORT);
	assert_int_equal(r.off, 0);
	assert_int_equal(pkt_rd_bytes(&r, out, 0), 0);
	assert_int_equal(pkt_rd_bytes(&r, out, 4), 0);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(pkt_rd_left(&r), 0);
	assert_int_equal(pkt_rd_skip(&r, 1), PKT_ESHORT);
	assert_int_equal(pkt_rd_skip(&r, 0), 0);

	pkt_rd_init(&r, src, sizeof(src));
	assert_int_equal(pkt_rd_skip(&r, 3), 0);
	assert_int_equal(pkt_rd_ptr(&r, &ptr, 2), PKT_ESHORT);
	assert_int_equal(pkt_rd_ptr(&r, &ptr, 1), 0);
	assert_ptr_equal(ptr, src + 3);

	/* An empty reader over NULL is valid and yields nothing. */
	pkt_rd_init(&r, NULL, 10);
	assert_int_equal(pkt_rd_left(&r), 0);
	assert_int_equal(pkt_rd_ptr(&r, &ptr, 0), 0);
	assert_int_equal(pkt_rd_u8(&r, out), PKT_ESHORT);
}

/* Writers stop at exactly the capacity and leave the cursor on failure. */
static void
test_writer_bounds(void **state)
{
	uint8_t buf[15];
	struct pkt_wr w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	pkt_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(pkt_wr_u8(&w, 0x01), 0);
	assert_int_equal(pkt_wr_u16(&w, 0x0203), 0);
	assert_int_equal(pkt_wr_u32(&w, 0x04050607), 0);
	assert_int_equal(pkt_wr_left(&w), 8);
	assert_int_equal(pkt_wr_u64(&w, UINT64_C(0x08090a0b0c0d0e0f)), 0);
	assert_int_equal(pkt_wr_left(&w), 0);
	assert_int_equal(pkt_wr_u8(&w, 0xff), PKT_ENOSPACE);
	assert_int_equal(pkt_wr_bytes(&w, "x", 0), 0);
	assert_int_equal(w.off, 15);
	for (int i = 0; i < 15; i++)
		assert_int_equal(buf[i], i + 1);

	pkt_wr_init(&w, buf, 3);
	assert_int_equal(pkt_wr_u32(&w, 1), PKT_ENOSPACE);
	assert_int_equal(pkt_wr_u64(&w, 1), PKT_ENOSPACE);
	assert_int_equal(pkt_wr_bytes(&w, "abcd", 4), PKT_ENOSPACE);
	assert_int_equal(w.off, 0);
	assert_int_equal(pkt_wr_bytes(&w, "abc", 3), 0);
	assert_int_equal(pkt_wr_left(&w), 0);

	pkt_wr_init(&w, NULL, 10);
	assert_int_equal(pkt_wr_left(&w), 0);
	assert_int_equal(pkt_wr_u8(&w, 1), PKT_ENOSPACE);
}

/* The fixed-position helpers agree with the readers and writers. */
static void
test_load_store(void **state)
{
	uint8_t b[8];

	(void)state;
	pkt_store16(b, 0xbeef);
	assert_int_equal(pkt_load16(b), 0xbeef);
	assert_int_equal(b[0], 0xbe);
	pkt_store32(b, 0xdeadbeef);
	assert_int_equal(pkt_load32(b), 0xdeadbeef);
	pkt_store64(b, UINT64_C(0xfedcba9876543210));
	assert_true(pkt_load64(b) == UINT64_C(0xfedcba9876543210));
	assert_int_equal(b[0], 0xfe);
	assert_int_equal(b[7], 0x10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_bounds),
		cmocka_unit_test(test_reader_bytes_ptr_skip),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_load_store),
	};

	return cmocka_run_group_tests_name("pkt", tests, NULL, NULL);
}
