/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "udp.h"
#include "util.h"
#include "wire.h"

struct udp_sock {
	int fd;
	struct event *ev;
	udp_recv_fn fn;
	void *arg;
	/* Headroom in front so that a datagram can grow in place. */
	uint8_t buf[WIRE_HEADROOM + WIRE_UDP_MAX_LEN + 1];
};

/* Drain up to UDP_BATCH datagrams; each goes to the callback. */
static void
udp_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *u = arg;
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	int i;

	for (i = 0; i < UDP_BATCH; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, u->buf + WIRE_HEADROOM, WIRE_UDP_MAX_LEN + 1,
		    0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			break;
		u->fn(u->arg, u->buf + WIRE_HEADROOM, (size_t)n,
		    (struct sockaddr *)&from, fromlen);
	}
}

/* Larger buffers than the sysctl default; FORCE works as root. */
static void
udp_size_buffers(int fd)
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

struct udp_sock *
udp_sock_new(struct event_base *base, const struct sockaddr *local,
    socklen_t locallen, int v6only, bool offload, udp_recv_fn fn, void *arg,
    char *err, size_t errlen)
{
	int pmtu = IP_PMTUDISC_DO, pmtu6 = IPV6_PMTUDISC_DO, one = 1;
	char where[INET6_ADDRSTRLEN + 16];
	struct udp_sock *u;

	util_sockaddr_str(local, where, sizeof(where));
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	(void)offload;
	u->fn = fn;
	u->arg = arg;
	u->fd = socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (u->fd == -1) {
		util_err(err, errlen, "udp socket: %s", strerror(errno));
		free(u);
		return NULL;
	}
	(void)setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (local->sa_family == AF_INET6) {
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
		    &pmtu6, sizeof(pmtu6));
	}
	/* Also for IPv4 peers of a dual-stack socket. */
	(void)setsockopt(u->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
	    sizeof(pmtu));
	udp_size_buffers(u->fd);
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
	free(u);
}

int
udp_sock_send(struct udp_sock *u, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	ssize_t n = sendto(u->fd, buf, len, 0, to, tolen);

	return n == (ssize_t)len ? 0 : -1;
}

int
udp_sock_name(const struct udp_sock *u, struct sockaddr_storage *ss,
    socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(u->fd, (struct sockaddr *)ss, len);
}
