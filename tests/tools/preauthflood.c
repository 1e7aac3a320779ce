/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * preauthflood: hold a server's pre-authentication slots, for the
 * integration tests.  For every source address given it keeps N TCP
 * connections to the target open that never authenticate, and opens a
 * new one (after --pause-ms) whenever the server closes one, as a
 * patient attacker would.  It only ever connects to the one target.
 *
 *   preauthflood --to ADDR:PORT --per-src N [--partial] [--pause-ms MS]
 *	[--ready FILE] [--stats FILE] [--max-seconds S] SRC...
 *
 * Each connection sends nothing, or with --partial the first 15 bytes of
 * a TLS record that announces a 512-byte ClientHello, which never comes.
 * A connect that has not completed within 3 s is given up and retried.
 * --ready is written once every slot has been connected at least once;
 * --stats ("key value" lines: connects, established, closed_by_server,
 * connect_failed, open, max_open) at exit.  Runs until SIGTERM/SIGINT or
 * --max-seconds (default 300).  Exit status: 0, 1 on an error before the
 * flood starts, 2 on usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PF_MAX_SRC 256
#define PF_MAX_PER_SRC 64
#define PF_CONNECT_MS 3000

/* A slot: one source address's next connection. */
struct slot {
	int src;		/* index into the sources */
	int fd;			/* -1: waiting until again_ms */
	bool established;
	bool ever;		/* has been established once */
	uint64_t since_ms;	/* connect started */
	uint64_t again_ms;
};

struct counts {
	unsigned long connects, established, closed, failed, open, max_open;
};

static volatile sig_atomic_t pf_stop;

static void
pf_onsig(int sig)
{
	pf_stop = 1;
}

static uint64_t
pf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ADDR or [ADDR]:PORT or ADDR:PORT (IPv4) into ss; port may be 0. */
static int
pf_parse(const char *s, bool want_port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *p = NULL;
	long port = 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (want_port) {
		if ((p = strrchr(s, ':')) == NULL)
			return -1;
		port = strtol(p + 1, NULL, 10);
		if (port <= 0 || port > 65535)
			return -1;
		n = (size_t)(p - s);
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;
			n -= 2;
		}
	} else {
		n = strlen(s);
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static void
pf_usage(void)
{
	fprintf(stderr, "usage: preauthflood --to ADDR:PORT --per-src N "
	    "[--partial] [--pause-ms MS] [--ready FILE] [--stats FILE] "
	    "[--max-seconds S] SRC...\n");
	exit(2);
}

/* Start a non-blocking connect from src to the target. */
static int
pf_connect(const struct sockaddr_storage *src, socklen_t srclen,
    const struct sockaddr_storage *to, socklen_t tolen)
{
	int fd;

	fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (bind(fd, (const struct sockaddr *)src, srclen) == -1 ||
	    (connect(fd, (const struct sockaddr *)to, tolen) == -1 &&
	    errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
pf_write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	if (path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fputs(text, f);
	if (fclose(f) == 0)
		(void)rename(tmp, path);
}

/* End a slot's connection; it reconnects after pause_ms. */
static void
pf_drop(struct slot *sl, struct counts *c, uint64_t now, long pause_ms)
{
	close(sl->fd);
	sl->fd = -1;
	if (sl->established)
		c->open--;
	sl->established = false;
	sl->again_ms = now + (uint64_t)pause_ms;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "per-src", required_argument, NULL, 'n' },
		{ "partial", no_argument, NULL, 'p' },
		{ "pause-ms", required_argument, NULL, 'w' },
		{ "ready", required_argument, NULL, 'r' },
		{ "stats", required_argument, NULL, 's' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	/* A TLS handshake record of 512 bytes, then a ClientHello's start. */
	static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
	    0x00, 0x01, 0xfc, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00 };
	struct sockaddr_storage to, src[PF_MAX_SRC];
	socklen_t tolen = 0, srclen[PF_MAX_SRC];
	struct pollfd *pfd;
	struct slot *slots, *sl;
	struct counts c = { 0 };
	const char *ready = NULL, *stats = NULL;
	char buf[512], out[1024];
	long per = 0, pause_ms = 200, max_s = 300;
	bool have_to = false, part = false, told = false;
	uint64_t now, end;
	int o, nsrc, nslots, i, err, np;
	socklen_t el;
	ssize_t r;

	while ((o = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (pf_parse(optarg, true, &to, &tolen) != 0)
				pf_usage();
			have_to = true;
			break;
		case 'n':
			per = strtol(optarg, NULL, 10);
			break;
		case 'p':
			part = true;
			break;
		case 'w':
			pause_ms = strtol(optarg, NULL, 10);
			break;
		case 'r':
			ready = optarg;
			break;
		case 's':
			stats = optarg;
			break;
		case 'm':
			max_s = strtol(optarg, NULL, 10);
			break;
		default:
			pf_usage();
		}
	}
	nsrc = argc - optind;
	if (!have_to || per < 1 || per > PF_MAX_PER_SRC || nsrc < 1 ||
	    nsrc > PF_MAX_SRC || pause_ms < 0 || pause_ms > 60000 ||
	    max_s < 1 || max_s > 3600)
		pf_usage();
	for (i = 0; i < nsrc; i++)
		if (pf_parse(argv[optind + i], false, &src[i], &srclen[i]) !=
		    0 || src[i].ss_family != to.ss_family)
			pf_usage();
	nslots = nsrc * (int)per;
	slots = calloc((size_t)nslots, sizeof(*slots));
	pfd = calloc((size_t)nslots, sizeof(*pfd));
	if (slots == NULL || pfd == NULL) {
		perror("preauthflood");
		return 1;
	}
	signal(SIGTERM, pf_onsig);
	signal(SIGINT, pf_onsig);
	signal(SIGPIPE, SIG_IGN);
	now = pf_now_ms();
	end = now + (uint64_t)max_s * 1000;
	for (i = 0; i < nslots; i++) {
		slots[i].src = i / (int)per;
		slots[i].fd = -1;
		slots[i].again_ms = now;
	}
	while (!pf_stop && (now = pf_now_ms()) < end) {
		np = 0;
		for (i = 0; i < nslots; i++) {
			sl = &slots[i];
			if (sl->fd == -1 && now >= sl->again_ms) {
				sl->fd = pf_connect(&src[sl->src],
				    srclen[sl->src], &to, tolen);
				sl->since_ms = now;
				c.connects++;
				if (sl->fd == -1) {
					c.failed++;
					sl->again_ms = now + 1000;
				}
			}
			if (sl->fd != -1 && !sl->established &&
			    now - sl->since_ms > PF_CONNECT_MS) {
				c.failed++;
				pf_drop(sl, &c, now, pause_ms);
			}
			pfd[i].fd = sl->fd;
			pfd[i].events = sl->fd == -1 ? 0 : sl->established ?
			    POLLIN : POLLOUT;
			pfd[i].revents = 0;
			if (sl->fd != -1)
				np++;
		}
		if (!told) {
			for (i = 0; i < nslots && slots[i].ever; i++)
				;
			if (i == nslots) {
				pf_write_file(ready, "ready\n");
				told = true;
			}
		}
		/* Wake up at least every 50 ms for reconnects and deadlines. */
		if (poll(pfd, (nfds_t)nslots, 50) == -1 && errno != EINTR)
			break;
		now = pf_now_ms();
		for (i = 0; i < nslots && np > 0; i++) {
			sl = &slots[i];
			if (sl->fd == -1 || pfd[i].revents == 0)
				continue;
			if (!sl->established) {
				el = sizeof(err);
				if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR,
				    &err, &el) == -1 || err != 0 ||
				    (pfd[i].revents & (POLLERR | POLLHUP))) {
					c.failed++;
					pf_drop(sl, &c, now, pause_ms);
					continue;
				}
				sl->established = sl->ever = true;
				c.established++;
				if (++c.open > c.max_open)
					c.max_open = c.open;
				if (part)
					(void)send(sl->fd, partial,
					    sizeof(partial), MSG_NOSIGNAL);
				continue;
			}
			/* Readable: an alert to drain, or the server's close. */
			r = recv(sl->fd, buf, sizeof(buf), 0);
			if (r <= 0 && !(r == -1 && errno == EAGAIN)) {
				c.closed++;
				pf_drop(sl, &c, now, pause_ms);
			}
		}
	}
	snprintf(out, sizeof(out), "connects %lu\nestablished %lu\n"
	    "closed_by_server %lu\nconnect_failed %lu\nopen %lu\n"
	    "max_open %lu\n", c.connects, c.established, c.closed, c.failed,
	    c.open, c.max_open);
	pf_write_file(stats, out);
	for (i = 0; i < nslots; i++)
		if (slots[i].fd != -1)
			close(slots[i].fd);
	free(slots);
	free(pfd);
	return 0;
}
