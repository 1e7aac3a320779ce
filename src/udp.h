/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UDP sockets of the data channel: a server's one socket on its port,
 * shared by all sessions, or a client's own.  Datagrams are drained in
 * bounded batches and handed to a callback with their source address;
 * nothing here knows what is inside them.
 */
#ifndef TAPLINE_UDP_H
#define TAPLINE_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

/* Datagrams one wakeup may read before yielding to the loop. */
#define UDP_BATCH 64
/* Socket buffers: room for bursts at high rates. */
#define UDP_SOCKBUF (4 * 1024 * 1024)

/* The callback may modify dgram in place (it is opened in place). */
typedef void (*udp_recv_fn)(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

struct udp_sock;

/*
 * A socket bound to `local` (a server's listen address and port; a
 * client's source address or the wildcard), never fragmenting what it
 * sends (DF set: a datagram too big for the path is an error, counted,
 * not a fragment).  v6only as for the TCP listener.
 */
struct udp_sock *udp_sock_new(struct event_base *base,
    const struct sockaddr *local, socklen_t locallen, int v6only,
    udp_recv_fn fn, void *arg, char *err, size_t errlen);
void udp_sock_free(struct udp_sock *u);

/* 0, or -1 with errno (EAGAIN, EMSGSIZE, ...): the caller counts it. */
int udp_sock_send(struct udp_sock *u, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen);

/* The local address (for %A/%P and logs). */
int udp_sock_name(const struct udp_sock *u, struct sockaddr_storage *ss,
    socklen_t *len);

#endif
