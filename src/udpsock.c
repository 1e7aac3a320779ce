/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "log.h"
#include "udpsock.h"
#include "util.h"
#include "wire.h"

/* Older headers lack the offload options; the numbers are the kernel's. */
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/*
 * Receive side.  Every message buffer holds the largest UDP payload (and
 * with GRO, the largest coalesced message, which the kernel keeps within
 * 64 KiB), so nothing that arrives is ever cut short: UDP_RX_MSGS of them
 * make 1 MiB of address space per socket, of which only the pages that
 * datagrams reach are ever touched.  Each buffer keeps WIRE_HEADROOM in
 * front so that the first datagram in it could grow in place.
 */
#define UDP_RX_MSGS 16
#define UDP_RX_BUF 65536
#define UDP_RX_STRIDE (WIRE_HEADROOM + UDP_RX_BUF)
/* recvmmsg calls one wakeup may make (UDP_BATCH datagrams without GRO). */
#define UDP_RX_CALLS (UDP_BATCH / UDP_RX_MSGS)
/* Room for a UDP_GRO cmsg and anything else the kernel might add. */
#define UDP_RX_CTRL 64
/*
 * Error queue entries (IP_RECVERR) read per wakeup, and the room for one:
 * its sock_extended_err and the offender's address, and the start of the
 * datagram it is about, which is not looked at.
 */
#define UDP_ERR_MAX 16
#define UDP_ERR_CTRL 256

/*
 * Send side: the kernel's limits for one UDP_SEGMENT message.  It takes
 * up to 128 segments (64 before 5.x kernels) and one IPv4 datagram's
 * worth of payload; the IPv6 limit (65527) is not used, for one rule.
 */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_BYTES 65507

_Static_assert(UDP_RX_BUF >= WIRE_UDP_MAX_LEN, "a buffer takes any datagram");
_Static_assert(UDP_RX_CALLS * UDP_RX_MSGS == UDP_BATCH, "batch in calls");
_Static_assert(UDP_TX_SLOT * UDP_GSO_MAX_SEGS > UDP_GSO_MAX_BYTES,
    "the byte limit is the one that can bind");

union udp_rx_ctrl {
	struct cmsghdr align;
	uint8_t buf[UDP_RX_CTRL];
};

union udp_tx_ctrl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
};

struct udp_sock {
	int fd;
	struct event *ev;
	udp_recv_fn fn;
	void *arg;
	bool gso;
	bool gro;
	bool err_pending;	/* a send failed: read the error queue */
	struct udp_sock_stats stats;

	/* Receive: UDP_RX_MSGS buffers of UDP_RX_STRIDE bytes in rx_buf. */
	uint8_t *rx_buf;
	struct mmsghdr rx_msg[UDP_RX_MSGS];
	struct iovec rx_iov[UDP_RX_MSGS];
	struct sockaddr_storage rx_from[UDP_RX_MSGS];
	union udp_rx_ctrl rx_ctrl[UDP_RX_MSGS];

	/*
	 * Transmit queue: datagram i lives in slot i of tx_buf, its iovec
	 * is tx_iov[i] (so that a run's iovecs are contiguous), and message
	 * m of a flush covers datagrams tx_first[m] .. + tx_count[m].
	 */
	uint8_t *tx_buf;
	size_t tx_n;
	struct iovec tx_iov[UDP_TX_SLOTS];
	struct sockaddr_storage tx_to[UDP_TX_SLOTS];
	socklen_t tx_tolen[UDP_TX_SLOTS];
	struct mmsghdr tx_msg[UDP_TX_SLOTS];
	union udp_tx_ctrl tx_ctrl[UDP_TX_SLOTS];
	size_t tx_first[UDP_TX_SLOTS];
	size_t tx_count[UDP_TX_SLOTS];
};

/*
 * Ready the first n receive messages for the next recvmmsg, which only
 * changes the ones it fills: done after delivery, so that a lone
 * datagram's way from the socket to the device does not wait for it.
 */
static void
udp_rx_rearm(struct udp_sock *u, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u->rx_msg[i].msg_hdr.msg_namelen = sizeof(u->rx_from[i]);
		u->rx_msg[i].msg_hdr.msg_controllen =
		    u->gro ? sizeof(u->rx_ctrl[i]) : 0;
		u->rx_msg[i].msg_hdr.msg_flags = 0;
	}
}

/*
 * One message from recvmmsg: a datagram, or with GRO a run of datagrams
 * of gso_size bytes each (the last may be shorter) from one source.
 */
static void
udp_rx_deliver(struct udp_sock *u, struct mmsghdr *m)
{
	struct msghdr *h = &m->msg_hdr;
	uint8_t *p = h->msg_iov[0].iov_base;
	size_t len = m->msg_len, seg = len, n;
	struct cmsghdr *c;
	int gso;

	u->stats.rx_reads++;
	/*
	 * Neither can happen with these buffers, but a cut datagram, or a
	 * GRO message without its segment size, is never passed on.
	 */
	if ((h->msg_flags & MSG_TRUNC) ||
	    (u->gro && (h->msg_flags & MSG_CTRUNC)))
		return;
	if (u->gro) {
		for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
			if (c->cmsg_level != SOL_UDP ||
			    c->cmsg_type != UDP_GRO ||
			    c->cmsg_len < CMSG_LEN(sizeof(gso)))
				continue;
			memcpy(&gso, CMSG_DATA(c), sizeof(gso));
			if (gso > 0 && (size_t)gso < len)
				seg = (size_t)gso;
		}
	}
	do {
		n = len < seg ? len : seg;
		u->stats.rx_dgrams++;
		u->fn(u->arg, p, n, (struct sockaddr *)h->msg_name,
		    h->msg_namelen);
		p += n;
		len -= n;
	} while (len > 0);
}

/*
 * Read the error queue (IP_RECVERR, IPV6_RECVERR): each ICMP error about
 * a datagram of ours is an entry, and an entry makes the socket readable
 * until it is read.  A "fragmentation needed" or "packet too big" (or a
 * send the kernel refused for its known path MTU) counts as a path MTU
 * event: the kernel has already lowered its path MTU to that peer, and
 * each session asks for it again (udp_sock_path_mtu).  Everything else
 * (port or host unreachable) is read and forgotten.
 */
static void
udp_read_errqueue(struct udp_sock *u)
{
	union {
		struct cmsghdr align;
		uint8_t buf[UDP_ERR_CTRL];
	} ctrl;
	const struct sock_extended_err *ee;
	struct sockaddr_storage from;
	struct cmsghdr *c;
	struct msghdr h;
	uint8_t data[64];
	struct iovec iov = { data, sizeof(data) };
	int i;

	for (i = 0; i < UDP_ERR_MAX; i++) {
		memset(&h, 0, sizeof(h));
		h.msg_name = &from;
		h.msg_namelen = sizeof(from);
		h.msg_iov = &iov;
		h.msg_iovlen = 1;
		h.msg_control = ctrl.buf;
		h.msg_controllen = sizeof(ctrl.buf);
		if (recvmsg(u->fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&h); c != NULL; c = CMSG_NXTHDR(&h, c)) {
			if (!((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_RECVERR)) ||
			    c->cmsg_len < CMSG_LEN(sizeof(*ee)))
				continue;
			ee = (const void *)CMSG_DATA(c);
			u->stats.icmp_errors++;
			if (ee->ee_errno != EMSGSIZE)
				continue;
			u->stats.pmtu_events++;
			log_debug("path MTU %u reported by ICMP",
			    (unsigned int)ee->ee_info);
		}
	}
}

/*
 * Drain a bounded batch: at most UDP_RX_CALLS recvmmsg calls, and no new
 * call once UDP_BATCH datagrams went to the callback.  Without GRO that
 * is UDP_BATCH datagrams; with it one message may hold up to 64, so a
 * wakeup hands over at most the receive memory's worth (1 MiB).
 */
static void
udp_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *u = arg;
	unsigned int want, i;
	uint64_t start = u->stats.rx_dgrams;
	int calls, n;

	if (u->err_pending) {
		u->err_pending = false;
		udp_read_errqueue(u);
	}
	for (calls = 0; calls < UDP_RX_CALLS; calls++) {
		if (u->stats.rx_dgrams - start >= UDP_BATCH)
			break;
		want = UDP_BATCH - (unsigned int)(u->stats.rx_dgrams - start);
		if (want > UDP_RX_MSGS)
			want = UDP_RX_MSGS;
		n = recvmmsg(fd, u->rx_msg, want, MSG_DONTWAIT, NULL);
		/*
		 * An ICMP error is also reported once as the call's own
		 * (IP_RECVERR), and its entry waits in the error queue; the
		 * datagrams are still there.  A wakeup with nothing to read
		 * is for the error queue, which keeps the socket readable
		 * until it is read.  So the queue costs no system call on a
		 * wakeup that has datagrams and no error.
		 */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			udp_read_errqueue(u);
			continue;
		}
		if (n <= 0) {
			if (calls == 0)
				udp_read_errqueue(u);
			break;
		}
		for (i = 0; i < (unsigned int)n; i++)
			udp_rx_deliver(u, &u->rx_msg[i]);
		udp_rx_rearm(u, (unsigned int)n);
		/* Fewer than asked for: the queue is empty for now. */
		if ((unsigned int)n < want)
			break;
	}
}

/* Larger buffers than the sysctl default; FORCE works as root. */
void
udp_sock_size_buffers(int fd)
{
	int size = UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
}

/*
 * The kernel knows UDP_SEGMENT if it takes a gso_size of 0 (which is also
 * the default: no segmentation unless a message asks for it), and UDP_GRO
 * if it can be switched on.
 */
static void
udp_probe_offloads(struct udp_sock *u)
{
	int zero = 0, one = 1;

	u->gso = setsockopt(u->fd, SOL_UDP, UDP_SEGMENT, &zero,
	    sizeof(zero)) == 0;
	u->gro = setsockopt(u->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

/* The receive messages point at their buffers once and for all. */
static void
udp_rx_setup(struct udp_sock *u)
{
	struct msghdr *h;
	size_t i;

	for (i = 0; i < UDP_RX_MSGS; i++) {
		u->rx_iov[i].iov_base = u->rx_buf + i * UDP_RX_STRIDE +
		    WIRE_HEADROOM;
		u->rx_iov[i].iov_len = UDP_RX_BUF;
		h = &u->rx_msg[i].msg_hdr;
		h->msg_name = &u->rx_from[i];
		h->msg_iov = &u->rx_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = u->rx_ctrl[i].buf;
	}
}

struct udp_sock *
udp_sock_new(struct event_base *base, const struct sockaddr *local,
    socklen_t locallen, int v6only, bool offload, udp_recv_fn fn, void *arg,
    char *err, size_t errlen)
{
	int pmtu = IP_PMTUDISC_WANT, pmtu6 = IPV6_PMTUDISC_WANT, one = 1;
	char where[INET6_ADDRSTRLEN + 16];
	struct udp_sock *u;

	util_sockaddr_str(local, where, sizeof(where));
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	u->fd = -1;
	u->fn = fn;
	u->arg = arg;
	u->rx_buf = malloc((size_t)UDP_RX_MSGS * UDP_RX_STRIDE);
	u->tx_buf = malloc((size_t)UDP_TX_SLOTS * UDP_TX_SLOT);
	if (u->rx_buf == NULL || u->tx_buf == NULL) {
		util_err(err, errlen, "out of memory");
		goto fail;
	}
	udp_rx_setup(u);
	u->fd = socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (u->fd == -1) {
		util_err(err, errlen, "udp socket: %s", strerror(errno));
		goto fail;
	}
	/*
	 * No SO_REUSEADDR: on UDP it lets any local user who also sets it
	 * bind our port, and the kernel then gives datagrams to the newer
	 * or more specific socket (an IPv4 one over our dual-stack one).
	 * UDP has no TIME_WAIT, so a restart does not need it either.
	 */
	/*
	 * Path MTU discovery, but never a datagram refused for its size:
	 * "want" sets DF on (IPv6: does not fragment) every datagram that
	 * fits the path MTU the kernel knows for its destination, so that
	 * a narrower hop still answers with ICMP and the kernel learns it,
	 * and lets the kernel fragment one that does not fit.  Which inner
	 * packets may be sent that way (a tap's frames, IPv4 without DF)
	 * and which are answered with ICMP instead is the session's
	 * decision, made from udp_sock_path_mtu before a datagram is built;
	 * a per-datagram IP_PMTUDISC_DONT would cost two system calls per
	 * datagram and break the sendmmsg batch in two.  RECVERR queues the
	 * ICMP errors, so that a lowered path MTU is noticed at once.
	 */
	if (local->sa_family == AF_INET6) {
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
		    &pmtu6, sizeof(pmtu6));
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
		    sizeof(one));
	}
	/* Also for IPv4 peers of a dual-stack socket. */
	(void)setsockopt(u->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
	    sizeof(pmtu));
	(void)setsockopt(u->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	udp_sock_size_buffers(u->fd);
	if (offload)
		udp_probe_offloads(u);
	udp_rx_rearm(u, UDP_RX_MSGS);
	if (bind(u->fd, local, locallen) == -1) {
		util_err(err, errlen, "cannot bind udp %s: %s", where,
		    strerror(errno));
		goto fail;
	}
	u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, udp_readcb, u);
	if (u->ev == NULL || event_add(u->ev, NULL) != 0) {
		util_err(err, errlen, "out of memory");
		goto fail;
	}
	return u;
fail:
	udp_sock_free(u);
	return NULL;
}

void
udp_sock_free(struct udp_sock *u)
{
	if (u == NULL)
		return;
	if (u->ev != NULL)
		event_free(u->ev);
	if (u->fd != -1)
		close(u->fd);
	free(u->rx_buf);
	free(u->tx_buf);
	free(u);
}

bool
udp_sock_gso(const struct udp_sock *u)
{
	return u->gso;
}

bool
udp_sock_gro(const struct udp_sock *u)
{
	return u->gro;
}

const struct udp_sock_stats *
udp_sock_stats(const struct udp_sock *u)
{
	return &u->stats;
}

static bool
udp_tx_same_dest(const struct udp_sock *u, size_t i, size_t j)
{
	return u->tx_tolen[i] == u->tx_tolen[j] &&
	    memcmp(&u->tx_to[i], &u->tx_to[j], u->tx_tolen[i]) == 0;
}

/*
 * Lay the queue from datagram `first` on out as messages in tx_msg.  With
 * GSO, a run to one destination of one size (a shorter datagram may end
 * it) becomes one message with a UDP_SEGMENT cmsg; datagrams before
 * `plain_until`, and everything without GSO, go one per message.  Returns
 * the number of messages.
 */
static size_t
udp_tx_build(struct udp_sock *u, size_t first, size_t plain_until)
{
	size_t i = first, j, m = 0, seg, total;
	struct cmsghdr *c;
	struct msghdr *h;
	uint16_t gso;

	while (i < u->tx_n) {
		seg = total = u->tx_iov[i].iov_len;
		j = i + 1;
		if (u->gso && i >= plain_until && seg > 0) {
			while (j < u->tx_n && j - i < UDP_GSO_MAX_SEGS &&
			    u->tx_iov[j].iov_len > 0 &&
			    u->tx_iov[j].iov_len <= seg &&
			    total + u->tx_iov[j].iov_len <= UDP_GSO_MAX_BYTES &&
			    udp_tx_same_dest(u, i, j)) {
				total += u->tx_iov[j].iov_len;
				if (u->tx_iov[j++].iov_len < seg)
					break;
			}
		}
		h = &u->tx_msg[m].msg_hdr;
		memset(h, 0, sizeof(*h));
		h->msg_name = &u->tx_to[i];
		h->msg_namelen = u->tx_tolen[i];
		h->msg_iov = &u->tx_iov[i];
		h->msg_iovlen = j - i;
		if (j - i > 1) {
			h->msg_control = u->tx_ctrl[m].buf;
			h->msg_controllen = sizeof(u->tx_ctrl[m].buf);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(gso));
			gso = (uint16_t)seg;
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		u->tx_first[m] = i;
		u->tx_count[m] = j - i;
		m++;
		i = j;
	}
	return m;
}

/*
 * Send the whole queue and empty it.  sendmmsg stops at the first message
 * that fails and reports how many went before it; the failed one is then
 * the first of the next call, which reports its errno.
 */
static int
udp_tx_send(struct udp_sock *u, int *err)
{
	size_t first = 0, plain_until = 0, nmsg, k, cnt, d, again = SIZE_MAX;
	int failed = 0, r, e;

	while (first < u->tx_n) {
		nmsg = udp_tx_build(u, first, plain_until);
		first = u->tx_n;
		for (k = 0; k < nmsg; ) {
			r = sendmmsg(u->fd, &u->tx_msg[k],
			    (unsigned int)(nmsg - k), 0);
			if (r > 0) {
				for (; r > 0; r--, k++) {
					u->stats.tx_msgs++;
					u->stats.tx_dgrams += u->tx_count[k];
				}
				continue;
			}
			e = r == 0 ? EAGAIN : errno;
			if (e == EINTR)
				continue;
			cnt = u->tx_count[k];
			if (cnt > 1 && (e == EIO || e == EMSGSIZE ||
			    e == EINVAL)) {
				/*
				 * EIO: the device cannot checksum a GSO
				 * message, and never will.  EMSGSIZE or
				 * EINVAL: a segment is larger than the path
				 * MTU, which GSO cannot fragment; sent alone
				 * it is fragmented by IP.  Either way this
				 * message goes again as plain datagrams.
				 */
				if (e == EIO) {
					u->gso = false;
					u->stats.gso_eio++;
					log_notice("UDP GSO fails with EIO on "
					    "this path; sending without it");
				}
				first = u->tx_first[k];
				plain_until = first + cnt;
				again = SIZE_MAX;
				break;
			}
			if (e != EAGAIN && e != EWOULDBLOCK && again != k) {
				/*
				 * An ICMP error that arrived for any peer
				 * (IP_RECVERR) fails the socket's next send
				 * once with its errno (a GSO message went
				 * plain above): the message goes once
				 * more before it counts as failed.
				 */
				again = k;
				u->stats.tx_retries++;
				u->err_pending = true;
				continue;
			}
			if (e == EAGAIN || e == EWOULDBLOCK) {
				/* The socket buffer is full: drop the rest. */
				for (d = 0; k < nmsg; k++)
					d += u->tx_count[k];
				failed += (int)d;
			} else {
				failed += (int)cnt;
				k++;
			}
			if (err != NULL)
				*err = e;
		}
	}
	u->tx_n = 0;
	u->stats.tx_failed += (uint64_t)failed;
	return failed;
}

uint8_t *
udp_sock_tx_slot(struct udp_sock *u)
{
	return u->tx_buf + u->tx_n * UDP_TX_SLOT;
}

int
udp_sock_tx_commit(struct udp_sock *u, size_t len,
    const struct sockaddr *to, socklen_t tolen, int *err)
{
	size_t i = u->tx_n;

	if (err != NULL)
		*err = 0;
	if (len > UDP_TX_SLOT || tolen > sizeof(u->tx_to[i])) {
		u->stats.tx_failed++;
		if (err != NULL)
			*err = len > UDP_TX_SLOT ? EMSGSIZE : EINVAL;
		return 1;
	}
	u->tx_iov[i].iov_base = u->tx_buf + i * UDP_TX_SLOT;
	u->tx_iov[i].iov_len = len;
	memcpy(&u->tx_to[i], to, tolen);
	u->tx_tolen[i] = tolen;
	u->tx_n++;
	if (u->tx_n < UDP_TX_SLOTS)
		return 0;
	return udp_tx_send(u, err);
}

int
udp_sock_tx_flush(struct udp_sock *u, int *err)
{
	if (err != NULL)
		*err = 0;
	if (u->tx_n == 0)
		return 0;
	return udp_tx_send(u, err);
}

int
udp_sock_send(struct udp_sock *u, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	ssize_t n;

	/* What is queued was sent first by the caller's own account. */
	if (u->tx_n > 0)
		(void)udp_tx_send(u, NULL);
	n = sendto(u->fd, buf, len, 0, to, tolen);
	/* Once more after an ICMP error's errno (udp_tx_send). */
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		u->stats.tx_retries++;
		u->err_pending = true;
		n = sendto(u->fd, buf, len, 0, to, tolen);
	}
	if (n == (ssize_t)len) {
		u->stats.tx_msgs++;
		u->stats.tx_dgrams++;
		return 0;
	}
	if (n >= 0)
		errno = EMSGSIZE;
	return -1;
}

/*
 * The kernel's path MTU to `to`, as a socket connected to it sees it:
 * the route's MTU, or what ICMP has lowered it to since (the kernel keeps
 * that per destination for every socket, ours included).  IP_MTU needs a
 * connected socket, and ours is not (a server's serves all its peers),
 * so a throwaway one asks, from our address and with our mark, so that
 * it takes the route ours takes.  A peer in IPv4-mapped form is asked
 * for over IPv4.  0 when it cannot be known.
 */
int
udp_sock_path_mtu(const struct udp_sock *u, const struct sockaddr *to,
    socklen_t tolen)
{
	const struct sockaddr_in6 *in6 = (const void *)to;
	struct sockaddr_storage dst, local;
	struct sockaddr_in *v4 = (void *)&dst;
	socklen_t len = sizeof(local), mlen;
	int fd, mtu = 0, mark = 0;

	if (tolen > sizeof(dst))
		return 0;
	memcpy(&dst, to, tolen);
	if (to->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memset(&dst, 0, sizeof(dst));
		v4->sin_family = AF_INET;
		v4->sin_port = in6->sin6_port;
		memcpy(&v4->sin_addr, in6->sin6_addr.s6_addr + 12, 4);
		tolen = sizeof(*v4);
	}
	if (dst.ss_family != AF_INET && dst.ss_family != AF_INET6)
		return 0;
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	mlen = sizeof(mark);
	if (getsockopt(u->fd, SOL_SOCKET, SO_MARK, &mark, &mlen) == 0 &&
	    mark != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	/* A bound source address can choose the route (policy routing). */
	if (getsockname(u->fd, (struct sockaddr *)&local, &len) == 0 &&
	    local.ss_family == dst.ss_family) {
		((struct sockaddr_in *)&local)->sin_port = 0;	/* v6 too */
		(void)bind(fd, (struct sockaddr *)&local, len);
	}
	if (connect(fd, (struct sockaddr *)&dst, tolen) == 0) {
		mlen = sizeof(mtu);
		if (dst.ss_family == AF_INET ?
		    getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &mlen) != 0 :
		    getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &mlen) != 0)
			mtu = 0;
	}
	close(fd);
	return mtu > 0 ? mtu : 0;
}

int
udp_sock_name(const struct udp_sock *u, struct sockaddr_storage *ss,
    socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(u->fd, (struct sockaddr *)ss, len);
}

int
udp_sock_set_mark(struct udp_sock *u, uint32_t fwmark, char *err,
    size_t errlen)
{
	if (fwmark == 0)
		return 0;
	if (setsockopt(u->fd, SOL_SOCKET, SO_MARK, &fwmark,
	    sizeof(fwmark)) == -1)
		return util_err(err, errlen, "cannot give the udp socket the "
		    "fwmark 0x%x (SO_MARK): %s", (unsigned int)fwmark,
		    strerror(errno));
	return 0;
}
