/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TLS stream over TCP with bufferevent_openssl: frame reader, packed
 * DATA writer with backpressure, and the clean close that libevent 2.1
 * does not do by itself (doc/ARCHITECTURE.md: what the libraries do).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "stream.h"
#include "util.h"
#include "wire.h"

enum stream_state {
	STREAM_HANDSHAKING,
	STREAM_OPEN,
	STREAM_DRAINING,	/* close requested: waiting for output to empty */
	STREAM_LINGERING,	/* close_notify sent: waiting for the peer's */
	STREAM_DONE,
};

struct stream {
	struct bufferevent *bev;
	const struct stream_cbs *cbs;
	void *arg;
	enum stream_state state;
	bool congested;
	struct event *linger;
	struct ev_token_bucket_cfg *rate;
	struct stream_stats stats;
	/* The loop's extent, where DATA frames wait to go to TLS. */
	struct stream_stage *stage;
};

/* Report the end once; the owner frees the transport from there. */
static void
stream_end(struct stream *t, enum stream_end end, const char *why)
{
	if (t->state == STREAM_DONE)
		return;
	t->state = STREAM_DONE;
	bufferevent_disable(t->bev, EV_READ | EV_WRITE);
	t->cbs->ended(t->arg, end, why);
}

/*
 * Turn libevent's error report into one line.  Its OpenSSL error list
 * mixes real error codes with the SSL_get_error() value it pushed last
 * (a small number below 0x100); only the real ones are worth naming.
 */
static void
stream_describe(struct stream *t, short what, char *buf, size_t len,
    enum stream_end *end)
{
	unsigned long e, first = 0;
	int sockerr = EVUTIL_SOCKET_ERROR();

	while ((e = bufferevent_get_openssl_error(t->bev)) != 0)
		if (e >= 0x100 && first == 0)
			first = e;
	ERR_clear_error();
	if (first != 0) {
		char ebuf[160];

		ERR_error_string_n(first, ebuf, sizeof(ebuf));
		*end = ERR_GET_REASON(first) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING ? STREAM_RESET :
		    STREAM_TLS;
		snprintf(buf, len, "%s", *end == STREAM_RESET ?
		    "connection closed without TLS close_notify" : ebuf);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		*end = STREAM_EOF;
		snprintf(buf, len, "peer closed the connection");
		return;
	}
	*end = sockerr == ETIMEDOUT ? STREAM_TIMEOUT : sockerr == ECONNRESET ||
	    sockerr == EHOSTUNREACH || sockerr == ENETUNREACH ? STREAM_PATH :
	    STREAM_RESET;
	snprintf(buf, len, "%s", sockerr != 0 ? strerror(sockerr) :
	    "connection lost");
}

/* Parse every complete frame in the input; keep a partial one. */
static void
stream_readcb(struct bufferevent *bev, void *arg)
{
	struct stream *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[WIRE_FRAME_HDR_LEN];
	struct frame_hdr h;
	char err[160];

	while (t->state == STREAM_OPEN) {
		size_t avail = evbuffer_get_length(in);
		uint8_t *body;

		if (avail < WIRE_FRAME_HDR_LEN)
			break;
		evbuffer_copyout(in, hdr, sizeof(hdr));
		/* The length is judged before any of the body is awaited. */
		if (frame_parse_hdr(hdr, &h, err, sizeof(err)) != 0) {
			char why[200];

			snprintf(why, sizeof(why), "protocol error: %s", err);
			stream_end(t, STREAM_TLS, why);
			return;
		}
		if (avail < WIRE_FRAME_HDR_LEN + (size_t)h.len) {
			/* Wake up only when the whole frame is here. */
			bufferevent_setwatermark(bev, EV_READ,
			    WIRE_FRAME_HDR_LEN + (size_t)h.len,
			    STREAM_RX_HIGH);
			return;
		}
		body = evbuffer_pullup(in, WIRE_FRAME_HDR_LEN + (ssize_t)h.len);
		if (body == NULL) {
			stream_end(t, STREAM_RESET, "out of memory");
			return;
		}
		t->stats.rx_frames++;
		t->stats.rx_bytes += h.len;
		if (t->cbs->frame(t->arg, &h, body + WIRE_FRAME_HDR_LEN) != 0)
			return;
		evbuffer_drain(in, WIRE_FRAME_HDR_LEN + (size_t)h.len);
	}
	if (t->state == STREAM_OPEN)
		bufferevent_setwatermark(bev, EV_READ, 0, STREAM_RX_HIGH);
	else if (t->state == STREAM_LINGERING)
		/* Nothing more is wanted from the peer but its close. */
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* Send close_notify once everything before it has gone out. */
static void
stream_shutdown(struct stream *t)
{
	SSL *ssl = bufferevent_openssl_get_ssl(t->bev);

	t->state = STREAM_LINGERING;
	ERR_clear_error();
	(void)SSL_shutdown(ssl);
	ERR_clear_error();
	(void)shutdown(bufferevent_getfd(t->bev), SHUT_WR);
	event_add(t->linger, &(struct timeval){
	    .tv_sec = STREAM_LINGER_MS / 1000,
	    .tv_usec = (STREAM_LINGER_MS % 1000) * 1000 });
}

static void
stream_writecb(struct bufferevent *bev, void *arg)
{
	struct stream *t = arg;
	size_t out = evbuffer_get_length(bufferevent_get_output(bev));

	if (t->state == STREAM_DRAINING && out == 0) {
		stream_shutdown(t);
		return;
	}
	if (t->congested && out <= STREAM_TX_LOW) {
		t->congested = false;
		if (t->state == STREAM_OPEN)
			t->cbs->drained(t->arg);
	}
}

static void
stream_lingercb(evutil_socket_t fd, short what, void *arg)
{
	stream_end(arg, STREAM_CLOSED, "closed");
}

static void
stream_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct stream *t = arg;
	enum stream_end end;
	char why[200];
	int fd, one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		if (t->state != STREAM_HANDSHAKING)
			return;
		t->state = STREAM_OPEN;
		/* Small records must not wait for Nagle. */
		fd = bufferevent_getfd(bev);
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		t->cbs->connected(t->arg);
		/* The client's first frames may already be buffered (P11). */
		if (t->state == STREAM_OPEN &&
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			stream_readcb(bev, t);
		return;
	}
	if (t->state == STREAM_LINGERING) {
		stream_end(t, STREAM_CLOSED, "closed");
		return;
	}
	stream_describe(t, what, why, sizeof(why), &end);
	/* Frames that arrived with the EOF still count: libevent may report
	 * the end before it has handed over the last data. */
	if (t->state == STREAM_OPEN)
		stream_readcb(bev, t);
	stream_end(t, end, why);
}

struct stream *
stream_new(struct bufferevent *bev, struct stream_stage *stage,
    const struct stream_cbs *cbs, void *arg)
{
	struct stream *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->linger = evtimer_new(bufferevent_get_base(bev), stream_lingercb,
	    t);
	if (t->linger == NULL) {
		free(t);
		return NULL;
	}
	t->bev = bev;
	t->stage = stage;
	t->cbs = cbs;
	t->arg = arg;
	t->state = STREAM_HANDSHAKING;
	bufferevent_setcb(bev, stream_readcb, stream_writecb,
	    stream_eventcb, t);
	bufferevent_setwatermark(bev, EV_READ, 0, STREAM_RX_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, STREAM_TX_LOW, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return t;
}

void
stream_free(struct stream *t)
{
	if (t == NULL)
		return;
	event_free(t->linger);
	bufferevent_free(t->bev);
	if (t->rate != NULL)
		ev_token_bucket_cfg_free(t->rate);
	if (t->stage->owner == t) {
		/* Packets of this stream's tunnel: not left lying about. */
		OPENSSL_cleanse(t->stage->buf, t->stage->staged);
		t->stage->staged = 0;
		t->stage->owner = NULL;
	}
	free(t);
}

/*
 * Write what was just queued now, in this loop iteration.  For a socket,
 * bufferevent_openssl 2.1 only arms its write event when output arrives
 * and writes once epoll has said "writable": an epoll_ctl, an epoll_wait
 * and another epoll_ctl in front of every burst, on the latency path.
 * Activating the write event runs the same write callback at once; with
 * the loop's changelist (util_event_base_new) arming and disarming then
 * cancel out.  If the socket is full the event stays armed as before.
 * (ev_write is the one field of bufferevent_struct.h used here.)
 */
static void
stream_kick(struct stream *t)
{
	if (t->state == STREAM_OPEN || t->state == STREAM_DRAINING)
		event_active(&t->bev->ev_write, EV_WRITE, 1);
}

/* Move staged DATA frames into the TLS output as one extent. */
void
stream_flush(struct stream *t)
{
	struct stream_stage *sg = t->stage;
	struct evbuffer *out;

	if (sg->owner != t || sg->staged == 0)
		return;
	out = bufferevent_get_output(t->bev);
	if (evbuffer_add(out, sg->buf, sg->staged) != 0)
		log_warnx("stream: out of memory, %zu bytes dropped",
		    sg->staged);
	sg->staged = 0;
	if (evbuffer_get_length(out) > STREAM_TX_HIGH)
		t->congested = true;
	stream_kick(t);
}

int
stream_send(struct stream *t, uint8_t type, uint8_t flags,
    const void *body, size_t len)
{
	struct evbuffer *out;
	uint8_t hdr[WIRE_FRAME_HDR_LEN];

	if (t == NULL || t->state != STREAM_OPEN)
		return -1;
	stream_flush(t);
	out = bufferevent_get_output(t->bev);
	frame_put_hdr(hdr, type, flags, (uint32_t)len);
	if (evbuffer_add(out, hdr, sizeof(hdr)) != 0 ||
	    (len > 0 && evbuffer_add(out, body, len) != 0))
		return -1;
	t->stats.tx_frames++;
	t->stats.tx_bytes += len;
	stream_kick(t);
	return 0;
}

uint8_t *
stream_data_reserve(struct stream *t, size_t maxlen)
{
	struct stream_stage *sg = t->stage;

	if (t->state != STREAM_OPEN || maxlen > WIRE_DATA_MAX_BODY)
		return NULL;
	/* Another stream's frames go to its own TLS first. */
	if (sg->owner != t) {
		if (sg->owner != NULL)
			stream_flush(sg->owner);
		sg->owner = t;
		sg->staged = 0;
	}
	/* The extent may overrun STREAM_EXTENT by one frame at most. */
	if (sg->staged >= STREAM_EXTENT)
		stream_flush(t);
	sg->reserved_at = sg->staged;
	return sg->buf + sg->staged + WIRE_FRAME_HDR_LEN;
}

void
stream_data_commit(struct stream *t, size_t len, uint8_t flags)
{
	struct stream_stage *sg = t->stage;

	frame_put_hdr(sg->buf + sg->reserved_at, WIRE_DATA, flags,
	    (uint32_t)len);
	sg->staged = sg->reserved_at + WIRE_FRAME_HDR_LEN + len;
	t->stats.tx_frames++;
	t->stats.tx_bytes += len;
}

bool
stream_congested(const struct stream *t)
{
	return t->congested;
}

void
stream_close(struct stream *t)
{
	if (t == NULL)
		return;
	if (t->state == STREAM_HANDSHAKING) {
		stream_end(t, STREAM_CLOSED, "closed before TLS");
		return;
	}
	if (t->state != STREAM_OPEN)
		return;
	stream_flush(t);
	t->state = STREAM_DRAINING;
	/* The write callback must fire at an empty buffer now. */
	bufferevent_setwatermark(t->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(t->bev)) == 0)
		stream_shutdown(t);
	else
		event_add(t->linger, &(struct timeval){
		    .tv_sec = STREAM_LINGER_MS / 1000,
		    .tv_usec = (STREAM_LINGER_MS % 1000) * 1000 });
}

/* Refill every 50 ms, so that shaping is smooth rather than per second. */
#define STREAM_RATE_TICK_MS 50

int
stream_set_rate(struct stream *t, uint32_t in_kbit, uint32_t out_kbit)
{
	const struct timeval tick = { 0, STREAM_RATE_TICK_MS * 1000 };
	size_t rin = EV_RATE_LIMIT_MAX, rout = EV_RATE_LIMIT_MAX;

	if (in_kbit == 0 && out_kbit == 0)
		return 0;
	/* kbit/s into bytes per tick. */
	if (in_kbit != 0)
		rin = (size_t)in_kbit * 1000 / 8 * STREAM_RATE_TICK_MS /
		    1000 + 1;
	if (out_kbit != 0)
		rout = (size_t)out_kbit * 1000 / 8 * STREAM_RATE_TICK_MS /
		    1000 + 1;
	/* A burst of one TLS record more than a tick's worth. */
	t->rate = ev_token_bucket_cfg_new(rin, in_kbit != 0 ? rin + 16384 :
	    rin, rout, out_kbit != 0 ? rout + 16384 : rout, &tick);
	if (t->rate == NULL || bufferevent_set_rate_limit(t->bev,
	    t->rate) != 0)
		return -1;
	return 0;
}

const struct stream_stats *
stream_stats(const struct stream *t)
{
	return &t->stats;
}

struct ssl_st *
stream_ssl(const struct stream *t)
{
	return t != NULL ? bufferevent_openssl_get_ssl(t->bev) : NULL;
}

int
stream_fd(const struct stream *t)
{
	return t != NULL ? bufferevent_getfd(t->bev) : -1;
}

void
stream_set_arg(struct stream *t, void *arg)
{
	t->arg = arg;
}
