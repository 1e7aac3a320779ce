/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * legacypeer: a hostile vtund 3.0.4 peer for the integration tests, built
 * on the project's own vtun.c.  It only talks to the address it is given
 * and every wait has a deadline (--max-seconds, default 60).
 *
 *   legacypeer --client ADDR --port N --host NAME --passwd PW
 *	[--flood BYTES] [--max-seconds N] [--drain SECONDS]
 *	Authenticate as a vtund client of session NAME (TCP), then write
 *	echo requests (the frame header 20 00) and never read anything,
 *	until BYTES have been written (default 256 MiB), the server ends
 *	the connection or the deadline passes.  Prints one line:
 *	"flood: sent N bytes in M ms (done|deadline|closed: reason)".
 *	With --drain, then read what the server sends, send vtund's close
 *	frame (10 00) once the socket takes it, and go on reading until the
 *	server closes the connection (or SECONDS pass); prints
 *	"drain: N echo replies, M echo requests, K other frames (eof|deadline)".
 *	Exit 0 once authenticated, 1 if the handshake failed.
 *
 *   legacypeer --server ADDR --port N --flags "<TuK>" [--max-seconds N]
 *	Accept one connection and play a vtund server that takes any
 *	password: greeting, challenge, then "OK FLAGS: <flags>" as given
 *	(a man in the middle stripping or lowering the cipher).  Then wait
 *	for the client to close the connection.  Prints one line:
 *	"server: sent FLAGS <...>; client closed after N bytes" or
 *	"server: sent FLAGS <...>; client still connected at the deadline".
 *	Exit 0 unless the handshake could not be played.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "vtun.h"
#include "wire.h"

#define PEER_CHUNK (64 * 1024)

struct peer_opts {
	const char *client, *server, *port, *host, *passwd, *flags;
	unsigned long long flood;
	int max_seconds;
	int drain;
};

static void
peer_usage(void)
{
	fprintf(stderr, "usage: legacypeer --client ADDR --port N --host NAME "
	    "--passwd PW [--flood BYTES] [--max-seconds N] [--drain S]\n"
	    "       legacypeer --server ADDR --port N --flags FLAGS "
	    "[--max-seconds N]\n");
	exit(2);
}

/* Milliseconds left until the deadline, at least 0. */
static int
peer_left(uint64_t deadline)
{
	uint64_t now = util_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Exactly len bytes, or -1 (closed, error, deadline). */
static int
peer_read_all(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, peer_left(deadline)) <= 0)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int
peer_write_all(int fd, const uint8_t *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static struct addrinfo *
peer_addr(const char *host, const char *port, bool passive)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
		    (passive ? AI_PASSIVE : 0),
	};
	struct addrinfo *ai = NULL;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return NULL;
	return ai;
}

/*
 * After the flood: read what the server answers, our close frame out as
 * soon as it fits, then the rest until the server closes.
 */
static void
peer_drain(int fd, int seconds, bool half)
{
	uint64_t deadline = util_now_ms() + (uint64_t)seconds * 1000;
	unsigned long long rep = 0, req = 0, other = 0;
	/* The second byte of a request cut in half, then the close frame. */
	uint8_t buf[64 * 1024], tail[1 + WIRE_VTUN_HDR_LEN] = { 0 };
	struct pollfd p = { .fd = fd };
	bool have_odd = false, eof = false;
	size_t i, end, off = half ? 0 : 1;
	ssize_t n;

	vtun_hdr_put(tail + 1, WIRE_VTUN_CONN_CLOSE, 0);
	while (!eof) {
		p.events = POLLIN | (off < sizeof(tail) ? POLLOUT : 0);
		if (poll(&p, 1, peer_left(deadline)) <= 0)
			break;
		if (off < sizeof(tail) && (p.revents & POLLOUT) &&
		    (n = send(fd, tail + off, sizeof(tail) - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
			off += (size_t)n;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(fd, buf + 1, sizeof(buf) - 1);
		if (n <= 0) {
			eof = true;
			break;
		}
		/* Only flag frames are expected: two bytes each; an odd
		 * byte waits in front of the next read. */
		end = 1 + (size_t)n;
		for (i = have_odd ? 0 : 1; i + WIRE_VTUN_HDR_LEN <= end;
		    i += WIRE_VTUN_HDR_LEN) {
			size_t blen;

			switch (vtun_hdr_get(buf + i, &blen)) {
			case VTUN_FRAME_ECHO_REP:
				rep++;
				break;
			case VTUN_FRAME_ECHO_REQ:
				req++;
				break;
			default:
				other++;
				break;
			}
		}
		have_odd = i < end;
		if (have_odd)
			buf[0] = buf[i];
	}
	printf("drain: %llu echo replies, %llu echo requests, %llu other "
	    "frames (%s)\n", rep, req, other, eof ? "eof" : "deadline");
}

/* The client: authenticate, then echo requests and never a read. */
static int
peer_client(const struct peer_opts *o)
{
	uint64_t start, deadline = util_now_ms() +
	    (uint64_t)o->max_seconds * 1000;
	uint8_t m[WIRE_VTUN_MSG_LEN], chal[WIRE_VTUN_CHAL_LEN];
	static uint8_t chunk[PEER_CHUNK];
	struct pollfd p = { .events = POLLOUT };
	unsigned long long sent = 0;
	struct vtun_flags f;
	struct vtun_lib *lib;
	struct addrinfo *ai;
	const char *end = "done";
	char err[256];
	size_t i;
	ssize_t n;
	int fd;

	if ((lib = vtun_lib_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "legacypeer: %s\n", err);
		return 1;
	}
	if ((ai = peer_addr(o->client, o->port, false)) == NULL)
		peer_usage();
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		fprintf(stderr, "legacypeer: connect: %s\n", strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	if (peer_read_all(fd, m, sizeof(m), deadline) != 0 ||
	    !vtun_msg_is_greeting(m) || vtun_msg_host(o->host, m) != 0 ||
	    peer_write_all(fd, m, sizeof(m)) != 0 ||
	    peer_read_all(fd, m, sizeof(m), deadline) != 0 ||
	    vtun_parse_ok_chal(m, chal) != 0 ||
	    vtun_chal_crypt(lib, o->passwd, chal, true) != 0) {
		fprintf(stderr, "legacypeer: no challenge from the server\n");
		return 1;
	}
	vtun_msg_chal(chal, m);
	if (peer_write_all(fd, m, sizeof(m)) != 0 ||
	    peer_read_all(fd, m, sizeof(m), deadline) != 0 ||
	    vtun_parse_ok_flags(m, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "legacypeer: not authenticated\n");
		return 1;
	}
	if (f.udp) {
		fprintf(stderr, "legacypeer: the session is UDP\n");
		return 1;
	}
	printf("authenticated\n");
	fflush(stdout);
	for (i = 0; i + WIRE_VTUN_HDR_LEN <= sizeof(chunk);
	    i += WIRE_VTUN_HDR_LEN)
		vtun_hdr_put(chunk + i, WIRE_VTUN_ECHO_REQ, 0);
	p.fd = fd;
	start = util_now_ms();
	while (sent < o->flood) {
		size_t len = sizeof(chunk);

		if (o->flood - sent < len)
			len = (size_t)(o->flood - sent);
		if (poll(&p, 1, peer_left(deadline)) <= 0) {
			end = "deadline";
			break;
		}
		if ((n = send(fd, chunk, len, MSG_DONTWAIT | MSG_NOSIGNAL)) <
		    0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			end = strerror(errno);
			break;
		}
		sent += (unsigned long long)n;
	}
	printf("flood: sent %llu bytes in %llu ms (%s%s)\n", sent,
	    (unsigned long long)(util_now_ms() - start),
	    strcmp(end, "done") == 0 || strcmp(end, "deadline") == 0 ? "" :
	    "closed: ", end);
	fflush(stdout);
	if (o->drain > 0 && (strcmp(end, "done") == 0 ||
	    strcmp(end, "deadline") == 0))
		peer_drain(fd, o->drain, sent % 2 == 1);
	close(fd);
	vtun_lib_free(lib);
	return 0;
}

/* The server: any password passes, then the given FLAGS line. */
static int
peer_server(const struct peer_opts *o)
{
	uint64_t deadline = util_now_ms() + (uint64_t)o->max_seconds * 1000;
	uint8_t m[WIRE_VTUN_MSG_LEN], chal[WIRE_VTUN_CHAL_LEN] = { 0 };
	struct pollfd p = { .events = POLLIN };
	unsigned long long after = 0;
	struct addrinfo *ai;
	char text[WIRE_VTUN_MSG_LEN + 16], buf[4096];
	int ls, fd, one = 1;
	bool closed = false;
	ssize_t n;

	if ((ai = peer_addr(o->server, o->port, true)) == NULL)
		peer_usage();
	ls = socket(ai->ai_family, SOCK_STREAM, 0);
	if (ls == -1 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(ls, ai->ai_addr, ai->ai_addrlen) != 0 || listen(ls, 1) != 0) {
		fprintf(stderr, "legacypeer: listen: %s\n", strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	printf("listening\n");
	fflush(stdout);
	p.fd = ls;
	if (poll(&p, 1, peer_left(deadline)) <= 0 ||
	    (fd = accept(ls, NULL, NULL)) == -1) {
		fprintf(stderr, "legacypeer: no client\n");
		return 1;
	}
	vtun_msg_greeting(m);
	if (peer_write_all(fd, m, sizeof(m)) != 0 ||
	    peer_read_all(fd, m, sizeof(m), deadline) != 0 ||
	    memcmp(m, "HOST:", 5) != 0) {
		fprintf(stderr, "legacypeer: no HOST line\n");
		return 1;
	}
	vtun_msg_ok_chal(chal, m);
	if (peer_write_all(fd, m, sizeof(m)) != 0 ||
	    peer_read_all(fd, m, sizeof(m), deadline) != 0) {
		fprintf(stderr, "legacypeer: no answer to the challenge\n");
		return 1;
	}
	snprintf(text, sizeof(text), "OK FLAGS: %s\n", o->flags);
	memset(m, 0, sizeof(m));
	memcpy(m, text, strnlen(text, sizeof(m) - 1));
	if (peer_write_all(fd, m, sizeof(m)) != 0) {
		fprintf(stderr, "legacypeer: cannot send FLAGS\n");
		return 1;
	}
	p.fd = fd;
	while (poll(&p, 1, peer_left(deadline)) > 0) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			closed = true;
			break;
		}
		after += (unsigned long long)n;
	}
	if (closed)
		printf("server: sent FLAGS %s; client closed after %llu "
		    "bytes\n", o->flags, after);
	else
		printf("server: sent FLAGS %s; client still connected at the "
		    "deadline (%llu bytes)\n", o->flags, after);
	close(fd);
	close(ls);
	return 0;
}

int
main(int argc, char **argv)
{
	struct peer_opts o = { .flood = 256ULL << 20, .max_seconds = 60 };
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			peer_usage();
		if (strcmp(a, "--client") == 0)
			o.client = v;
		else if (strcmp(a, "--server") == 0)
			o.server = v;
		else if (strcmp(a, "--port") == 0)
			o.port = v;
		else if (strcmp(a, "--host") == 0)
			o.host = v;
		else if (strcmp(a, "--passwd") == 0)
			o.passwd = v;
		else if (strcmp(a, "--flags") == 0)
			o.flags = v;
		else if (strcmp(a, "--flood") == 0)
			o.flood = strtoull(v, NULL, 10);
		else if (strcmp(a, "--max-seconds") == 0)
			o.max_seconds = atoi(v);
		else if (strcmp(a, "--drain") == 0)
			o.drain = atoi(v);
		else
			peer_usage();
		i++;
	}
	if (o.port == NULL || o.max_seconds <= 0 ||
	    (o.client == NULL) == (o.server == NULL))
		peer_usage();
	if (o.client != NULL) {
		if (o.host == NULL || o.passwd == NULL)
			peer_usage();
		return peer_client(&o);
	}
	if (o.flags == NULL)
		peer_usage();
	return peer_server(&o);
}
