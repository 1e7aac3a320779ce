/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UDP sockets of the data channel: a server's one socket on its port,
 * shared by all sessions, or a client's own.  Datagrams are drained in
 * bounded batches and handed to a callback with their source address;
 * nothing here knows what is inside them.
 */
#ifndef TAPLINE_UDPSOCK_H
#define TAPLINE_UDPSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

/* Datagrams one wakeup may read before yielding to the loop. */
#define UDP_BATCH 64
/* Socket buffers: room for bursts at high rates. */
#define UDP_SOCKBUF (4 * 1024 * 1024)
/* Transmit batch: datagrams queued before sendmmsg, and each one's room. */
#define UDP_TX_SLOTS 128
#define UDP_TX_SLOT 2048

/* The callback may modify dgram in place (it is opened in place). */
typedef void (*udp_recv_fn)(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

struct udp_sock;

/*
 * A socket bound to `local` (a server's listen address and port; a
 * client's source address or the wildcard).  Path MTU discovery is on
 * (DF on IPv4) for every datagram that fits the path MTU the kernel
 * knows; one larger than that is fragmented by IP rather than refused:
 * whoever queues it has decided that it may be (udp_sock_path_mtu).
 * ICMP errors about our datagrams are read from the error queue and
 * counted.  v6only as for the TCP listener.
 */
struct udp_sock *udp_sock_new(struct event_base *base,
    const struct sockaddr *local, socklen_t locallen, int v6only,
    bool offload, udp_recv_fn fn, void *arg, char *err, size_t errlen);
void udp_sock_free(struct udp_sock *u);

/*
 * Offloads in use: with offload = true, udp_sock_new probes UDP_SEGMENT
 * (GSO, send) and UDP_GRO (receive) and uses whichever the kernel
 * accepts; GSO is switched off for good on the first EIO from a send
 * (a device that cannot checksum) and the datagrams are sent again
 * without it.  With offload = false neither is tried.
 */
bool udp_sock_gso(const struct udp_sock *u);
bool udp_sock_gro(const struct udp_sock *u);

/* 0, or -1 with errno (EAGAIN, EMSGSIZE, ...): the caller counts it. */
int udp_sock_send(struct udp_sock *u, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen);

/*
 * Transmit batch.  udp_sock_tx_slot gives the next free slot (UDP_TX_SLOT
 * bytes, the datagram is built in it in place); udp_sock_tx_commit queues
 * it with its length and destination.  udp_sock_tx_flush sends the queue
 * with sendmmsg: runs of datagrams to one address with one size (the last
 * of a run may be shorter) go as one message with UDP_SEGMENT when GSO
 * is on (at most 64 datagrams and 65507 bytes per message), everything
 * else one datagram per message.  A full queue flushes itself in commit.
 * udp_sock_tx_flush returns how many queued datagrams could not be sent
 * (0 when all went), with the last errno in *err.  udp_sock_tx_commit
 * returns the same for the flush it may have done.  Nothing may send or
 * flush between udp_sock_tx_slot and the commit of that slot.  A
 * datagram longer than UDP_TX_SLOT is refused by commit (1, EMSGSIZE).
 * udp_sock_send flushes the queue before its own datagram, so that
 * nothing is reordered; what that flush could not send shows only in
 * the tx_failed counter (flush first to get it returned).
 */
uint8_t *udp_sock_tx_slot(struct udp_sock *u);
int udp_sock_tx_commit(struct udp_sock *u, size_t len,
    const struct sockaddr *to, socklen_t tolen, int *err);
int udp_sock_tx_flush(struct udp_sock *u, int *err);

/*
 * The kernel's path MTU to `to` (the largest IP packet, headers included,
 * that it sends there unfragmented), or 0 when it cannot be known.  A few
 * system calls: asked again only when the pmtu_events counter moved, or
 * now and then (the kernel forgets a learnt path MTU after a while).
 */
int udp_sock_path_mtu(const struct udp_sock *u, const struct sockaddr *to,
    socklen_t tolen);

/* Counters for status and tests. */
struct udp_sock_stats {
	uint64_t tx_msgs;	/* messages sent (sendmmsg, udp_sock_send) */
	uint64_t tx_dgrams;	/* datagrams in them */
	uint64_t rx_reads;	/* messages from recvmmsg */
	uint64_t rx_dgrams;	/* datagrams in them (GRO splits) */
	uint64_t gso_eio;	/* EIO fallbacks */
	uint64_t tx_failed;	/* queued datagrams that could not be sent */
	uint64_t tx_retries;	/* sends tried again after an error */
	uint64_t icmp_errors;	/* entries read from the error queue */
	uint64_t pmtu_events;	/* of them: a path MTU lowered (EMSGSIZE) */
};
const struct udp_sock_stats *udp_sock_stats(const struct udp_sock *u);

/*
 * Give a UDP socket of one's own the data channel's buffer sizes, larger
 * than the sysctl default (a vtund session's, whose zlib stream cannot
 * survive one datagram dropped for a full receive buffer).
 */
void udp_sock_size_buffers(int fd);

/*
 * Mark what the socket sends with fwmark (SO_MARK, which takes
 * CAP_NET_ADMIN): a client's full tunnel routes everything unmarked into
 * the tunnel.  0 leaves the socket as it is.  0, or -1 with err set.
 */
int udp_sock_set_mark(struct udp_sock *u, uint32_t fwmark, char *err,
    size_t errlen);

/* The local address (for %A/%P and logs). */
int udp_sock_name(const struct udp_sock *u, struct sockaddr_storage *ss,
    socklen_t *len);

#endif
