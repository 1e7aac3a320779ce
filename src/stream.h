/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TLS stream between two tapline peers (in TCP mode with the data):
 * frames in, frames out, over one bufferevent_openssl.
 *
 * In TCP mode DATA frames share the stream with control frames; several
 * of them are packed into one staging extent so that a TLS record (and a
 * write(2)) carries many packets.  When the output backs up above a
 * high-water mark the owner is told to stop reading its device, and told
 * again when it has drained.  In UDP mode (later) the same stream carries
 * only control frames.
 */
#ifndef TAPLINE_STREAM_H
#define TAPLINE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>

#include "frame.h"
#include "wire.h"

/* Output above this pauses device reads; below the low mark resumes. */
#define STREAM_TX_HIGH (512 * 1024)
#define STREAM_TX_LOW (128 * 1024)
/* Let one wakeup read this much (libevent reads 4 KiB otherwise). */
#define STREAM_RX_HIGH (1024 * 1024)
/* DATA frames are packed into extents of this size: libevent makes each
 * chain its own SSL_write and TLS record. */
#define STREAM_EXTENT (16 * 1024)
/* How long a clean close waits for the peer's close_notify. */
#define STREAM_LINGER_MS 2000

enum stream_end {
	STREAM_EOF,	  /* the peer closed the stream cleanly */
	STREAM_RESET,  /* the connection broke (EOF without TLS close, ...) */
	/* The path failed under a live peer: a reset from the network (a
	 * NAT that forgot the mapping, the peer's kernel that never knew
	 * the new one), or nothing acknowledged in time (ETIMEDOUT). */
	STREAM_PATH,
	STREAM_TIMEOUT,
	STREAM_TLS,	  /* TLS failed (handshake or record) */
	STREAM_CLOSED, /* our own close finished */
};

struct stream_cbs {
	/* The TLS handshake finished. */
	void (*connected)(void *arg);
	/*
	 * One complete, header-checked frame; `body` is valid only during
	 * the call, and the callback may modify it in place (it is the
	 * transport's own buffer, dropped afterwards).  Return -1 after
	 * closing the transport (stop parsing).
	 */
	int (*frame)(void *arg, const struct frame_hdr *h, uint8_t *body);
	/* The output drained below the low mark after being congested. */
	void (*drained)(void *arg);
	/* The stream is over; `why` explains it for the log. */
	void (*ended)(void *arg, enum stream_end end, const char *why);
};

struct stream;

/*
 * The staging extent DATA frames are packed into, one per event loop
 * (scratch.h), not one per stream: frames are staged only while a
 * device batch runs and handed to TLS at its end (stream_flush), so
 * the streams of a loop take turns.  A stream that stages while another
 * one's frames are still there flushes those first; a stream freed
 * with frames staged has them wiped.
 */
struct stream_stage {
	struct stream *owner;	/* whose frames are staged, or NULL */
	size_t staged;		/* bytes of complete frames */
	size_t reserved_at;	/* offset of the header of the open frame */
	uint8_t buf[STREAM_EXTENT + WIRE_FRAME_MAX];
};

/*
 * Take over bev (with BEV_OPT_CLOSE_ON_FREE); callbacks start at once.
 * stage is the loop's (it must outlive the stream).
 */
struct stream *stream_new(struct bufferevent *bev,
    struct stream_stage *stage, const struct stream_cbs *cbs, void *arg);
/* Free at once, without a TLS close: for a stream that failed. */
void stream_free(struct stream *t);

/* A control frame, written at once (after any staged data); -1 when
 * the stream is not open, or there is none (NULL). */
int stream_send(struct stream *t, uint8_t type, uint8_t flags,
    const void *body, size_t len);

/*
 * Room for one DATA body of up to maxlen bytes in the staging extent
 * (flushing it first if needed); write the body there, then commit its
 * real length.  NULL if the transport is closing.
 */
uint8_t *stream_data_reserve(struct stream *t, size_t maxlen);
void stream_data_commit(struct stream *t, size_t len, uint8_t flags);
/* Hand the staged DATA frames to TLS (end of a batch). */
void stream_flush(struct stream *t);
/* True while output is above the high mark and reads should pause. */
bool stream_congested(const struct stream *t);

/*
 * Close cleanly: flush what is queued, send TLS close_notify, wait a
 * bounded time for the peer's, then report STREAM_CLOSED via ended()
 * (which must free the transport).
 */
void stream_close(struct stream *t);	/* NULL: nothing to do */

/*
 * Shape the stream with libevent's rate limiting (the `speed` setting):
 * in_kbit limits what we read (the peer then backs off through TCP),
 * out_kbit what we write (our device reads pause through backpressure).
 * 0 = unlimited.  0, or -1 if libevent refused.
 */
int stream_set_rate(struct stream *t, uint32_t in_kbit,
    uint32_t out_kbit);

/* Bytes and frames both ways, for counters. */
struct stream_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
};
const struct stream_stats *stream_stats(const struct stream *t);

/*
 * Hand the stream's callbacks to another owner of the same kind (a
 * session re-attached to this connection); from the next call on.
 */
void stream_set_arg(struct stream *t, void *arg);

/* The underlying SSL (for checks after the handshake) and socket; NULL
 * and -1 without a stream (a session whose connection was lost). */
struct ssl_st *stream_ssl(const struct stream *t);
int stream_fd(const struct stream *t);

#endif
