/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frames inside the TLS stream (ATTACKS.md rows 15 and 16), consumed
 * as stream.c's read callback does: bytes arrive in chunks of
 * arbitrary size into an evbuffer; each header is judged by
 * frame_parse_hdr before any of its body is awaited; a complete frame
 * goes to the session's handler (ctlmsg_framecb: HELLO, CLOSE, DATA
 * through the receive side of fuzz_common.c).  A refused header or a
 * frame the session closes on ends the stream, as it ends the session.
 *
 * Input: config(1) | split(1) | stream (fuzz_common.h).  split picks the
 * largest chunk (its top two bits: 8, 64, 1500 or 65536 bytes) and seeds
 * the generator of chunk sizes (the rest).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "frame.h"
#include "fuzz_common.h"
#include "wire.h"

/* Where the emulated session is (session.c's states, the server side). */
enum fuzz_state { FUZZ_HELLO, FUZZ_UP, FUZZ_CLOSED };

struct fuzz_stream {
	struct fuzz_rx dev;
	bool udp;
	enum fuzz_state state;
};

/*
 * ctlmsg_rx_hello: decode the HELLO part, and encode it back to the very
 * same bytes.  A re-attaching HELLO carries the token after it; the
 * connection then goes to the live session it names (reattach_adopt) or
 * is refused, and never comes up as a session of its own.
 */
static void
fuzz_stream_hello(struct fuzz_stream *fs, const struct frame_hdr *fh,
    const uint8_t *body)
{
	struct frame_hello h;
	uint8_t again[WIRE_HELLO_LEN];
	char err[160];

	FUZZ_CHECK(fh->len == WIRE_HELLO_LEN +
	    ((fh->flags & WIRE_FLAG_REATTACH) ? WIRE_REATTACH_TOKEN_LEN : 0));
	if (frame_hello_decode(body, WIRE_HELLO_LEN, &h, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		fs->state = FUZZ_CLOSED;
		return;
	}
	frame_hello_encode(&h, again);
	FUZZ_CHECK(memcmp(again, body, WIRE_HELLO_LEN) == 0);
	fs->state = (fh->flags & WIRE_FLAG_REATTACH) ? FUZZ_CLOSED : FUZZ_UP;
}

/* ctlmsg_rx_close: whatever the body, the session ends. */
static void
fuzz_stream_close(struct fuzz_stream *fs, const uint8_t *body, size_t len)
{
	char msg[WIRE_CLOSE_MSG_MAX * 4 + 1], err[160];
	uint8_t reason;
	size_t i, n;

	memset(msg, 'x', sizeof(msg));
	if (frame_close_decode(body, len, &reason, msg, sizeof(msg), err,
	    sizeof(err)) == 0) {
		n = strnlen(msg, sizeof(msg));
		FUZZ_CHECK(n < sizeof(msg));
		/* The peer's text is escaped before it can reach a log. */
		for (i = 0; i < n; i++)
			FUZZ_CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);
		(void)frame_close_reason_name(reason);
	}
	fs->state = FUZZ_CLOSED;
}

/* ctlmsg_framecb on one complete frame (body is len bytes of its own). */
static void
fuzz_stream_frame(struct fuzz_stream *fs, const struct frame_hdr *h,
    uint8_t *body)
{
	switch (h->type) {
	case WIRE_DATA:
		if (fs->udp)
			break;
		/* Before HELLO the session counts DATA as not ready. */
		if (fs->state == FUZZ_UP)
			fuzz_rx_deliver(&fs->dev, body, h->len,
			    (h->flags & WIRE_FLAG_ZLIB) != 0,
			    (h->flags & WIRE_FLAG_GSO) != 0);
		return;
	case WIRE_KEEPALIVE:
		return;
	case WIRE_CLOSE:
		fuzz_stream_close(fs, body, h->len);
		return;
	case WIRE_HELLO:
		if (fs->state != FUZZ_HELLO)
			break;
		fuzz_stream_hello(fs, h, body);
		return;
	case WIRE_REKEY:
		/*
		 * A UDP server answers it with udp_chan_rekey_answer, which
		 * needs the TLS connection's exporter: not driven here.
		 */
		if (fs->udp && fs->state == FUZZ_UP)
			return;
		break;
	default:
		break;
	}
	/* "unexpected frame": protocol error, the session closes. */
	fs->state = FUZZ_CLOSED;
}

/* stream_readcb: every complete frame in the buffer; keep a partial. */
static void
fuzz_stream_read(struct fuzz_stream *fs, struct evbuffer *in)
{
	uint8_t hdr[WIRE_FRAME_HDR_LEN], *body;
	struct frame_hdr h, untouched;
	char err[160];

	while (fs->state != FUZZ_CLOSED) {
		size_t avail = evbuffer_get_length(in);

		if (avail < WIRE_FRAME_HDR_LEN)
			return;
		FUZZ_CHECK(evbuffer_copyout(in, hdr, sizeof(hdr)) ==
		    (ev_ssize_t)sizeof(hdr));
		memset(&h, 0xa5, sizeof(h));
		untouched = h;
		if (frame_parse_hdr(hdr, &h, err, sizeof(err)) != 0) {
			FUZZ_CHECK(memcmp(&h, &untouched, sizeof(h)) == 0);
			FUZZ_CHECK(err[0] != '\0');
			fs->state = FUZZ_CLOSED;
			return;
		}
		/* Nothing beyond these limits is ever awaited or buffered. */
		FUZZ_CHECK(h.type >= 1 && h.type <= WIRE_FRAME_TYPE_MAX);
		FUZZ_CHECK(h.len <= (uint32_t)(h.type == WIRE_DATA ?
		    WIRE_DATA_MAX_BODY : WIRE_CTRL_MAX_BODY));
		FUZZ_CHECK(h.flags == 0 || (h.type == WIRE_DATA &&
		    (h.flags & ~(WIRE_FLAG_ZLIB | WIRE_FLAG_GSO)) == 0) ||
		    ((h.type == WIRE_HELLO || h.type == WIRE_HELLO_ACK) &&
		    h.flags == WIRE_FLAG_REATTACH));
		FUZZ_CHECK(h.type != WIRE_DATA || h.len > 0);
		if (avail < WIRE_FRAME_HDR_LEN + (size_t)h.len)
			return;
		/* The body on its own, so that ASan sees any overrun. */
		body = malloc(h.len > 0 ? h.len : 1);
		if (body == NULL)
			abort();
		FUZZ_CHECK(evbuffer_drain(in, WIRE_FRAME_HDR_LEN) == 0);
		FUZZ_CHECK(evbuffer_remove(in, body, h.len) ==
		    (ev_ssize_t)h.len);
		fuzz_stream_frame(fs, &h, body);
		free(body);
	}
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
	static const size_t chunk_max[4] = { 8, 64, 1500, 65536 };
	struct fuzz_in in = { data, size };
	struct fuzz_stream fs;
	struct evbuffer *buf;
	uint8_t cfg = fuzz_u8(&in), split = fuzz_u8(&in);
	uint32_t rng = 0x9e3779b9u ^ (uint32_t)(split & 0x3f) * 0x01000193u;
	size_t max = chunk_max[split >> 6];

	memset(&fs, 0, sizeof(fs));
	fs.udp = (cfg & FUZZ_STREAM_CFG_UDP) != 0;
	if (fuzz_rx_init(&fs.dev, (cfg & FUZZ_STREAM_CFG_TAP) != 0,
	    (cfg & FUZZ_STREAM_CFG_JUMBO) != 0 ? 9000 : 1500,
	    (cfg & FUZZ_STREAM_CFG_ZLIB) != 0 ? 6 : 0,
	    (cfg & FUZZ_STREAM_CFG_OFFLOAD) != 0) != 0)
		return 0;
	if ((buf = evbuffer_new()) == NULL)
		abort();
	while (in.n > 0 && fs.state != FUZZ_CLOSED) {
		const uint8_t *chunk;
		size_t n;

		/* xorshift32: the same input always splits the same way. */
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		n = fuzz_take(&in, 1 + rng % max, &chunk);
		FUZZ_CHECK(evbuffer_add(buf, chunk, n) == 0);
		fuzz_stream_read(&fs, buf);
		/* A partial frame never holds more than its header allows. */
		FUZZ_CHECK(fs.state == FUZZ_CLOSED ||
		    evbuffer_get_length(buf) < WIRE_FRAME_MAX);
	}
	fuzz_rx_flush(&fs.dev);
	evbuffer_free(buf);
	fuzz_rx_free(&fs.dev);
	return 0;
}
