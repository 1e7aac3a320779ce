/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream.c over real TLS 1.3 connections (socket pairs, one event loop):
 * the staging extent that all streams of a loop share.  DATA frames
 * staged by two streams in turn each reach their own peer, whole and in
 * order; a stream freed with frames staged leaves the extent empty and
 * free for the others.  Every wait has a deadline.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "handshake.h"
#include "stream.h"
#include "util.h"
#include "wire.h"

#define WAIT_MS 10000
#define MAX_FRAMES 8

/* One end of a connection and what arrived there. */
struct end {
	struct stream *t;
	bool connected;
	bool ended;
	size_t nframes;
	struct {
		uint8_t type;
		size_t len;
		uint8_t first, last;
	} frames[MAX_FRAMES];
};

struct fx {
	struct conf conf;
	struct conf_session cs;
	struct handshake_server *hs;
	struct handshake_client *hc;
	struct event_base *base;
	struct event *tick;
	struct stream_stage stage;
	struct end srv[2], cli[2];
};

static void
end_connected(void *arg)
{
	((struct end *)arg)->connected = true;
}

static int
end_frame(void *arg, const struct frame_hdr *h, uint8_t *body)
{
	struct end *e = arg;

	assert_true(e->nframes < MAX_FRAMES);
	e->frames[e->nframes].type = h->type;
	e->frames[e->nframes].len = h->len;
	e->frames[e->nframes].first = h->len > 0 ? body[0] : 0;
	e->frames[e->nframes].last = h->len > 0 ? body[h->len - 1] : 0;
	e->nframes++;
	return 0;
}

static void
end_drained(void *arg)
{
}

static void
end_ended(void *arg, enum stream_end end, const char *why)
{
	((struct end *)arg)->ended = true;
}

static const struct stream_cbs end_cbs = {
	.connected = end_connected,
	.frame = end_frame,
	.drained = end_drained,
	.ended = end_ended,
};

/* Keeps EVLOOP_ONCE from sleeping past a deadline. */
static void
tickcb(evutil_socket_t fd, short what, void *arg)
{
}

/* Run the loop until *flag, or fail at the deadline. */
static void
run_until(struct fx *fx, const bool *flag)
{
	uint64_t end = util_now_ms() + WAIT_MS;

	while (!*flag) {
		assert_true(util_now_ms() < end);
		event_base_loop(fx->base, EVLOOP_ONCE);
	}
}

static void
run_until_frames(struct fx *fx, const struct end *e, size_t n)
{
	uint64_t end = util_now_ms() + WAIT_MS;

	while (e->nframes < n) {
		assert_true(util_now_ms() < end);
		event_base_loop(fx->base, EVLOOP_ONCE);
	}
}

/* Connection i: a server and a client stream over a socket pair. */
static void
connect_pair(struct fx *fx, int i)
{
	struct bufferevent *bs, *bc;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[1]), 0);
	bs = bufferevent_openssl_socket_new(fx->base, sv[0],
	    handshake_server_ssl_new(fx->hs), BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	bc = bufferevent_openssl_socket_new(fx->base, sv[1],
	    handshake_client_ssl_new(fx->hc), BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bs);
	assert_non_null(bc);
	fx->srv[i].t = stream_new(bs, &fx->stage, &end_cbs, &fx->srv[i]);
	fx->cli[i].t = stream_new(bc, &fx->stage, &end_cbs, &fx->cli[i]);
	assert_non_null(fx->srv[i].t);
	assert_non_null(fx->cli[i].t);
	run_until(fx, &fx->srv[i].connected);
	run_until(fx, &fx->cli[i].connected);
}

static int
setup(void **state)
{
	static struct fx fx;
	char err[256];

	memset(&fx, 0, sizeof(fx));
	signal(SIGPIPE, SIG_IGN);
	strcpy(fx.cs.name, "cobra");
	fx.cs.auth = CONF_AUTH_KEY;
	memset(fx.cs.key, 0x5a, sizeof(fx.cs.key));
	fx.conf.sessions = &fx.cs;
	fx.conf.nsessions = 1;
	fx.hs = handshake_server_new(&fx.conf, err, sizeof(err));
	fx.hc = handshake_client_new(&fx.cs, err, sizeof(err));
	fx.base = event_base_new();
	assert_non_null(fx.hs);
	assert_non_null(fx.hc);
	assert_non_null(fx.base);
	fx.tick = event_new(fx.base, -1, EV_PERSIST, tickcb, NULL);
	event_add(fx.tick, &(struct timeval){ .tv_usec = 50000 });
	connect_pair(&fx, 0);
	connect_pair(&fx, 1);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int i;

	for (i = 0; i < 2; i++) {
		stream_free(fx->srv[i].t);
		stream_free(fx->cli[i].t);
	}
	event_free(fx->tick);
	event_base_free(fx->base);
	handshake_client_free(fx->hc);
	handshake_server_free(fx->hs);
	return 0;
}

/* Stage one DATA frame of len bytes of c on t (its first byte is c,
 * its last c + 1, to tell a frame cut short). */
static void
stage(struct stream *t, uint8_t c, size_t len)
{
	uint8_t *p = stream_data_reserve(t, len);

	assert_non_null(p);
	memset(p, c, len);
	p[len - 1] = (uint8_t)(c + 1);
	stream_data_commit(t, len, 0);
}

static void
assert_frame(const struct end *e, size_t k, uint8_t c, size_t len)
{
	assert_int_equal(e->frames[k].type, WIRE_DATA);
	assert_int_equal(e->frames[k].len, len);
	assert_int_equal(e->frames[k].first, c);
	assert_int_equal(e->frames[k].last, (uint8_t)(c + 1));
}

/*
 * Two streams stage in turn: whoever stages next first sends the other
 * one's frames to its own TLS, so that each peer gets its own frames in
 * order, also across a full extent.
 */
static void
test_stage_shared(void **state)
{
	struct fx *fx = *state;
	struct stream *a = fx->cli[0].t, *b = fx->cli[1].t;

	stage(a, 'a', 100);
	assert_ptr_equal(fx->stage.owner, a);
	stage(b, 'b', 200);
	assert_ptr_equal(fx->stage.owner, b);
	stage(a, 'c', 300);
	stage(a, 'd', STREAM_EXTENT);	/* fills the extent */
	stage(a, 'e', 400);		/* after a flush of its own */
	stream_flush(a);
	stream_flush(b);		/* nothing staged for b: nothing */
	assert_int_equal(fx->stage.staged, 0);
	run_until_frames(fx, &fx->srv[0], 4);
	run_until_frames(fx, &fx->srv[1], 1);
	assert_frame(&fx->srv[0], 0, 'a', 100);
	assert_frame(&fx->srv[0], 1, 'c', 300);
	assert_frame(&fx->srv[0], 2, 'd', STREAM_EXTENT);
	assert_frame(&fx->srv[0], 3, 'e', 400);
	assert_frame(&fx->srv[1], 0, 'b', 200);

	/* The other way round, a control frame between: still in order. */
	stage(fx->srv[1].t, 'f', 50);
	assert_int_equal(stream_send(fx->srv[0].t, WIRE_KEEPALIVE, 0, NULL,
	    0), 0);
	stage(fx->srv[0].t, 'g', 60);
	assert_int_equal(stream_send(fx->srv[1].t, WIRE_KEEPALIVE, 0, NULL,
	    0), 0);
	stream_flush(fx->srv[0].t);
	run_until_frames(fx, &fx->cli[1], 2);
	run_until_frames(fx, &fx->cli[0], 2);
	assert_frame(&fx->cli[1], 0, 'f', 50);
	assert_int_equal(fx->cli[1].frames[1].type, WIRE_KEEPALIVE);
	assert_int_equal(fx->cli[0].frames[0].type, WIRE_KEEPALIVE);
	assert_frame(&fx->cli[0], 1, 'g', 60);
	assert_int_equal(fx->srv[0].nframes, 4);
	assert_int_equal(fx->srv[1].nframes, 1);
}

/* A stream freed with frames staged: wiped, and nobody's any more. */
static void
test_stage_free(void **state)
{
	struct fx *fx = *state;
	size_t i;

	stage(fx->cli[1].t, 'x', 500);
	assert_ptr_equal(fx->stage.owner, fx->cli[1].t);
	stream_free(fx->cli[1].t);
	fx->cli[1].t = NULL;
	assert_null(fx->stage.owner);
	assert_int_equal(fx->stage.staged, 0);
	for (i = 0; i < 500; i++)
		assert_int_equal(fx->stage.buf[WIRE_FRAME_HDR_LEN + i], 0);
	/* The peer sees the end, not the frame. */
	run_until(fx, &fx->srv[1].ended);
	assert_int_equal(fx->srv[1].nframes, 1);
	/* The extent serves the others. */
	stage(fx->cli[0].t, 'y', 70);
	stream_flush(fx->cli[0].t);
	run_until_frames(fx, &fx->srv[0], 5);
	assert_frame(&fx->srv[0], 4, 'y', 70);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_shared),
		cmocka_unit_test(test_stage_free),
	};

	return cmocka_run_group_tests_name("stream", tests, setup, teardown);
}
