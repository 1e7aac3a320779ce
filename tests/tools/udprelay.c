/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udprelay: a fault-injecting UDP relay for the integration tests, plus a
 * numbered-datagram sender and sink to test it (and anything else) with.
 * It only ever sends to the addresses it is given and to the clients that
 * wrote to it.  Every wait has a deadline (--max-seconds, default 600).
 *
 *   udprelay --listen ADDR:PORT --to ADDR:PORT [--seed N] [--drop PCT]
 *	[--dup PCT] [--reorder PCT] [--reorder-depth N]
 *	[--reorder-timeout-ms N] [--corrupt PCT] [--delay-ms N]
 *	[--dir both|up|down] [--src ADDR]... [--max-clients N] [--tcp]
 *	[--capture-every K] [--capture-max M] [--replay-after N]
 *	[--replay-src ADDR] [--record FILE]
 *	[--stats FILE] [--ready FILE] [--max-seconds N]
 *	Relay datagrams from clients to --to ("up") and the answers back to
 *	the client they belong to ("down").  Each client address gets its
 *	own upstream socket, as behind a NAT, so the target sees a new
 *	source whenever a client's source changes.  With --tcp, TCP
 *	connections to the same address and port are passed through to
 *	--to untouched, so that a tunnel's TLS control connection can take
 *	the same path as its datagrams.  SIGUSR1 writes the counters to
 *	--stats; SIGUSR2 moves every client to a fresh upstream socket (a
 *	new port, and the next --src address if several were given): a NAT
 *	rebinding on demand; SIGHUP resets every TCP connection (both
 *	sides get an RST).  SIGTERM/SIGINT: stats, exit 0.
 *	Capture and replay (an on-path attacker): every K-th datagram up
 *	(default 1), at most M of them (default 100), is captured as the
 *	client sent it, before any fault.  With --replay-after N each
 *	captured datagram is sent up again, byte for byte, once N further
 *	datagrams from clients have arrived (0: right after the original;
 *	counted, not applied: copies still waiting at exit are "pending");
 *	the copy leaves from the client's upstream socket, or with
 *	--replay-src from a socket of its own on ADDR (a new source address
 *	and port, as a spoofer's), whose incoming datagrams are counted as
 *	replay_answers.  With --record each captured datagram is appended
 *	to FILE at once (a 2-byte big-endian length, then the bytes), for
 *	--send --inject.  A copy may overtake an original that a fault
 *	holds back; then the original is the replay.
 *   udprelay --send ADDR:PORT --count N --size S [--stream ID]
 *	[--interval-us N] [--echo-wait-ms N] [--bind ADDR:PORT] [--stats FILE]
 *	[--max-seconds N]
 *	Send N numbered datagrams of S bytes whose every byte is a function
 *	of (stream, number, size), and count the echoes that come back.
 *   udprelay --send ADDR:PORT --inject FILE [--interval-us N]
 *	[--echo-wait-ms N] [--bind ADDR:PORT] [--stats FILE] [--max-seconds N]
 *	Send every datagram recorded in FILE (by --record) once, in order,
 *	and count whatever the target sends back ("answers"; ICMP errors
 *	as "answer_errors").
 *   udprelay --send ADDR:PORT --flood garbage|header --count N [--seed S]
 *	[--size MAX] [--rid HEX] [--epoch E] [--interval-us N]
 *	[--echo-wait-ms N] [--bind ADDR:PORT] [--stats FILE] [--max-seconds N]
 *	Send N seeded pseudo-random datagrams and count the answers.
 *	garbage: random bytes, random length 0..MAX (default 1500).
 *	header: tapline data datagrams (seal.h) for receiver id HEX
 *	in epoch E (default 0), each wrong in one way, drawn at random: half
 *	"auth" (every header field right, a counter in [2^20, 2^26), a
 *	random body and tag: only the AEAD can refuse it), and one in
 *	sixteen each "epoch" (epoch E+128), "flags" and "reserved"
 *	(nonzero), "type" (not 1), "zero" (counter 0), "limit" (counter >=
 *	2^63), "short" (16..32 bytes) and "long" (1600..2000 bytes, sent
 *	fragmented); the stats count each ("flood_auth" ...).
 *   udprelay --sink ADDR:PORT [--echo] [--tcp] [--idle-exit-ms N]
 *	[--stats FILE] [--ready FILE] [--max-seconds N]
 *	Count what arrives: intact, corrupt, duplicated, out of order,
 *	distinct sources; with --echo send every datagram back as it came;
 *	with --tcp also echo TCP connections on the same address and port.
 *
 * Percentages take up to three decimals ("0.5").  The faults of a
 * direction come from their own seeded splitmix64 stream, five draws per
 * datagram whatever the settings, so a seed gives the same decisions for
 * the same traffic, and --drop picks the same datagrams with or without
 * --dup.  In order: drop; corrupt (one random bit of one random byte);
 * duplicate (sent twice in a row); reorder (held back until N later
 * datagrams of that direction went out, or --reorder-timeout-ms); delay
 * (a constant latency, FIFO).  Held datagrams are bounded in number and
 * bytes; beyond that a delayed one is dropped (counted as overflow).
 *
 * Stats are "key value" lines, replaced atomically (tmp + rename).  The
 * relay's, for DIR up (client to --to) and down: DIR_received,
 * DIR_forwarded (copies sent), DIR_dropped, DIR_duplicated,
 * DIR_reordered (held back), DIR_corrupted, DIR_delayed, DIR_overflow,
 * DIR_stale (held for a client since evicted), DIR_send_errors; then
 * clients, clients_total, clients_evicted, client_errors, rebinds,
 * rebind_errors, held, kernel_rcvbuf_errors (UDP receive-queue overflows
 * in the relay's namespace), tcp_*, captured, recorded, replayed,
 * replay_pending, replay_overflow, replay_stale, replay_errors,
 * replay_answers, up_rid and up_epoch (receiver id in hex and epoch of
 * the last datagram up that looked like a tapline one: 16+ bytes, type
 * 1; "none" before), stats_serial (+1 per write).  The sink's and the
 * sender's ("echo_" prefix): received, intact, corrupt, foreign,
 * duplicates, unique, reordered, max_seq, ...
 *
 * Exit status: 0 when stopped by a signal, the time limit or the end of
 * the work; 1 on a socket or file error; 2 on usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Enough for any UDP payload over IPv4 or IPv6 (no jumbograms). */
#define UR_BUFSIZE 65536
#define UR_MAX_CLIENTS 64
#define UR_DEF_CLIENTS 16
/* Datagrams held back for reordering, per direction. */
#define UR_REORDER_MAX 64
#define UR_DEPTH_MAX 32
/* Datagrams and bytes held (delayed or reordered) at once, in all. */
#define UR_SLOTS 4096
#define UR_HOLD_BYTES (16 << 20)
#define UR_MAX_SRC 4
/* Datagrams read from one socket per wakeup, so no socket starves. */
#define UR_BATCH 64
#define UR_SOCKBUF (4 << 20)
/* Percentages are kept in thousandths: 100 % is 100000. */
#define UR_PCT_SCALE 100000
#define UR_DEF_SECONDS 600
#define UR_MAX_SECONDS 86400
/* Client events logged before the relay falls silent about them. */
#define UR_LOG_CLIENTS 100
/* TCP pass-through: connections at once, buffer per direction. */
#define UR_MAX_TCP 16
#define UR_TCP_BUF 65536

/* The test datagram: magic, stream, number, length, check, payload. */
#define UR_MAGIC 0x544c5259u /* "TLRY" */
#define UR_HDR_LEN 20
/* Datagram numbers the sink can tell apart (a bitmap of 128 KiB). */
#define UR_MAX_SEQ (1u << 20)
#define UR_MAX_SOURCES 16
/* Captured datagrams waiting to be replayed, and captures in all. */
#define UR_REPLAY_MAX 4096
#define UR_CAPTURE_MAX 1000000
/* The largest --inject file read, and its datagrams. */
#define UR_INJECT_BYTES (64 << 20)
/* Flood: the largest garbage datagram by default. */
#define UR_FLOOD_SIZE 1500

/* The tapline datagram header (seal.h), for capture and flood. */
#define TL_HDR_LEN 16
#define TL_TYPE_DATA 0x01

enum ur_mode { MODE_RELAY, MODE_SEND, MODE_SINK };
/* What --send sends: numbered datagrams, a recording, or a flood. */
enum ur_payload { PAY_NUMBERED, PAY_INJECT, PAY_GARBAGE, PAY_HEADER };
enum ur_dir { DIR_UP, DIR_DOWN };
static const char *const dir_name[] = { "up", "down" };

/* A parsed ADDR:PORT (or a bare ADDR for --src). */
struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
	bool set;
};

/* The command line, checked. */
struct opts {
	enum ur_mode mode;
	struct endpoint listen, to, send, sink, bind;
	struct endpoint src[UR_MAX_SRC];
	int nsrc;
	uint64_t seed;
	long drop, dup, reorder, corrupt;
	long reorder_depth, reorder_timeout_ms, delay_ms;
	bool faults[2];
	long max_clients;
	const char *stats, *ready;
	long max_seconds;
	long count, size, interval_us, echo_wait_ms, idle_exit_ms;
	uint32_t stream;
	bool echo, tcp;
	/* Capture and replay (relay); inject and flood (send). */
	long capture_every, capture_max, replay_after;
	struct endpoint replay_src;
	const char *record, *inject;
	enum ur_payload payload;
	uint32_t rid;
	long epoch;
};

/* One client of the relay and the upstream socket that stands for it. */
struct client {
	bool used;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;
	/* Never reused, so a held datagram can tell its client was evicted. */
	uint64_t id;
	uint64_t last_ms;
};

/* A datagram held back (delayed or reordered); data is malloc'd. */
struct slot {
	uint8_t *data;
	size_t len;
	uint64_t due_ms;
	uint64_t cid;
	int cidx;
	enum ur_dir dir;
	int copies;
	int countdown;
};

/* Per-direction fault stream, counters and reorder queue. */
struct dir_state {
	uint64_t prng;
	uint64_t received, forwarded, dropped, duplicated, reordered;
	uint64_t corrupted, delayed, overflow, stale, send_errors;
	int held[UR_REORDER_MAX];
	int nheld;
};

/* One direction of a passed-through TCP connection. */
struct tcp_pipe {
	uint8_t data[UR_TCP_BUF];
	size_t off, len;
	/* The source said EOF; the FIN has been passed on. */
	bool eof, shut;
};

/* A passed-through TCP connection: client side, target side. */
struct tcp_conn {
	bool used, connecting;
	int cfd, sfd;
	struct tcp_pipe up, down;
};

/* A captured datagram waiting for its replay; data is malloc'd. */
struct capture {
	uint8_t *data;
	size_t len;
	/* Sent once this many datagrams have come up from clients. */
	uint64_t due;
	uint64_t cid;
	int cidx;
};

/* The relay: sockets, clients, held datagrams, counters. */
struct relay {
	const struct opts *o;
	int lfd, sigfd, tfd;
	/* --replay-src's socket (-1: none); --record's file. */
	int rfd;
	FILE *rec;
	/* Captures in order of due (a FIFO, since due only grows). */
	struct capture caps[UR_REPLAY_MAX];
	int cap_head, cap_len;
	uint64_t up_seen, captured, recorded, replayed, replay_overflow;
	uint64_t replay_stale, replay_errors, replay_answers;
	uint32_t up_rid;
	int up_epoch;
	struct client clients[UR_MAX_CLIENTS];
	struct dir_state dirs[2];
	struct slot slots[UR_SLOTS];
	int freelist[UR_SLOTS];
	int nfree;
	/* Delayed datagrams in arrival order; the delay is constant. */
	int fifo[UR_SLOTS];
	int fifo_head, fifo_len;
	size_t held_bytes;
	int src_idx;
	uint64_t next_id, clients_total, evicted, client_errors;
	uint64_t rebinds, rebind_errors, stats_serial, client_logs;
	struct tcp_conn tcp[UR_MAX_TCP];
	uint64_t tcp_accepted, tcp_refused, tcp_connect_errors, tcp_closed;
	uint64_t tcp_cut, tcp_up_bytes, tcp_down_bytes;
	uint8_t buf[UR_BUFSIZE];
};

/* What a sender or sink saw of the numbered datagrams. */
struct tally {
	uint64_t received, intact, corrupt, foreign, dups, unique;
	uint64_t reordered, out_of_range, bytes;
	uint32_t max_seq;
	bool any;
	uint8_t *seen;
	uint8_t *scratch;
};

/* ---- small helpers ---- */

/* The splitmix64 step: tiny, well mixed, and the same everywhere. */
static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Monotonic clock in microseconds, for the sender's pacing. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds from now until deadline, clamped to [0, INT_MAX]. */
static int
ms_until(uint64_t deadline, uint64_t now)
{
	if (deadline <= now)
		return 0;
	if (deadline - now > INT_MAX)
		return INT_MAX;
	return (int)(deadline - now);
}

/* Parse a decimal integer in [min, max]; false if it is not one. */
static bool
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "12", "0.5", "3.125" (0 to 100) into thousandths of a percent. */
static bool
parse_pct(const char *s, long *out)
{
	long whole = 0, frac = 0;
	int digits = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && whole <= 100)
		whole = whole * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9' && digits < 3) {
			frac = frac * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return false;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p != '\0' || whole * 1000 + frac > UR_PCT_SCALE)
		return false;
	*out = whole * 1000 + frac;
	return true;
}

/* An IPv4 or IPv6 literal (brackets optional for IPv6) with a port. */
static bool
parse_host(const char *host, long port, struct endpoint *ep)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ep->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ep->len = sizeof(*sin6);
	} else
		return false;
	ep->set = true;
	return true;
}

/*
 * "198.51.100.2:5000" or "[2001:db8:1::2]:5000"; a bare IPv6 address is
 * refused because its last group would be read as the port.
 */
static bool
parse_endpoint(const char *s, bool zero_port_ok, struct endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *close;
	bool bracket = s[0] == '[';
	size_t hlen;
	long port;

	if (bracket) {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return false;
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return false;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!parse_long(colon + 1, zero_port_ok ? 0 : 1, 65535, &port))
		return false;
	if (!parse_host(host, port, ep))
		return false;
	/* "[198.51.100.1]:1" would be an odd way to say it; refuse it. */
	return !bracket || ep->ss.ss_family == AF_INET6;
}

/* A --src address: a bare literal, brackets allowed around IPv6. */
static bool
parse_src(const char *s, struct endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(host))
			return false;
		memcpy(host, s + 1, len - 2);
		host[len - 2] = '\0';
		return parse_host(host, 0, ep) &&
		    ep->ss.ss_family == AF_INET6;
	}
	return parse_host(s, 0, ep);
}

/* Write text to path through path.tmp and rename, so readers never see
 * half a file. */
static int
write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	f = fopen(tmp, "we");
	if (f == NULL) {
		fprintf(stderr, "udprelay: cannot create %s: %s\n", tmp,
		    strerror(errno));
		return -1;
	}
	r = fputs(text, f);
	if (fclose(f) != 0 || r < 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "udprelay: cannot write %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Append "key value\n" to a bounded text buffer (silently truncating). */
static void __attribute__((format(printf, 3, 4)))
kv(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* Write the ready file: the address actually bound (port 0 resolved). */
static int
write_ready(const char *path, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[64], line[80];

	if (path == NULL)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	util_sockaddr_str((struct sockaddr *)&ss, addr, sizeof(addr));
	snprintf(line, sizeof(line), "%s\n", addr);
	return write_atomic(path, line);
}

/*
 * Block the signals we act on and read them from a signalfd, so that
 * they arrive in the poll loop and never interrupt a half-done step.
 */
static int
sig_open(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "udprelay: signalfd: %s\n", strerror(errno));
	return fd;
}

/* The next pending signal number, or 0 when there is none. */
static int
sig_next(int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/*
 * Large socket buffers so that a burst the relay or sink cannot serve at
 * once waits in the kernel instead of being dropped where no counter
 * sees it.  FORCE works as root; otherwise take what the limit allows.
 */
static void
sock_buffers(int fd)
{
	int size = UR_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/*
 * A UDP socket of ep's family bound to ep.  IPv6 sockets are V6ONLY so
 * that an IPv6 listener never answers IPv4 it was not told about.
 * Sockets stay blocking for sends (the kernel paces us instead of
 * dropping); reads use MSG_DONTWAIT.
 */
static int
sock_bound(const struct endpoint *ep, const char *what)
{
	char addr[64];
	int fd, on = 1;

	fd = socket(ep->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "udprelay: socket: %s\n", strerror(errno));
		return -1;
	}
	if (ep->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	sock_buffers(fd);
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len) != 0) {
		util_sockaddr_str((const struct sockaddr *)&ep->ss, addr,
		    sizeof(addr));
		fprintf(stderr, "udprelay: cannot bind %s to %s: %s\n", what,
		    addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A listening TCP socket on ep, non-blocking, for --tcp. */
static int
tcp_listen(const struct endpoint *ep)
{
	char addr[64];
	int fd, on = 1;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "udprelay: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ep->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len) != 0 ||
	    listen(fd, UR_MAX_TCP) != 0) {
		util_sockaddr_str((const struct sockaddr *)&ep->ss, addr,
		    sizeof(addr));
		fprintf(stderr, "udprelay: cannot listen on TCP %s: %s\n",
		    addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Close a TCP socket; with reset, make the close an RST instead of a
 * FIN (SO_LINGER with a zero timeout). */
static void
tcp_close_fd(int fd, bool reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	if (reset)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Do two AF_INET/AF_INET6 addresses have the same address and port? */
static bool
sockaddr_equal(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return false;
}

/* ---- the numbered test datagram ---- */

/* Put a 32-bit big-endian value. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Get a 32-bit big-endian value. */
static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Build datagram (stream, seq) of len >= UR_HDR_LEN bytes.  The check
 * word and the payload both derive from all three values, so any single
 * flipped bit, in the header too, makes the datagram differ from the one
 * its (possibly altered) header describes.
 */
static void
dgram_make(uint8_t *buf, uint32_t stream, uint32_t seq, size_t len)
{
	uint64_t key = ((uint64_t)stream << 32 | seq) ^
	    ((uint64_t)len * 0xd1b54a32d192ed03ull);
	uint64_t st, r = 0;
	size_t i;

	st = key;
	key = splitmix64(&st);
	put32(buf, UR_MAGIC);
	put32(buf + 4, stream);
	put32(buf + 8, seq);
	put32(buf + 12, (uint32_t)len);
	put32(buf + 16, (uint32_t)(key >> 32));
	for (i = UR_HDR_LEN; i < len; i++) {
		if ((i - UR_HDR_LEN) % 8 == 0)
			r = splitmix64(&st);
		buf[i] = (uint8_t)r;
		r >>= 8;
	}
}

/* Set up a tally; its bitmap and scratch buffer are allocated once. */
static int
tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->seen = calloc(UR_MAX_SEQ / 8, 1);
	t->scratch = malloc(UR_BUFSIZE);
	if (t->seen == NULL || t->scratch == NULL) {
		fprintf(stderr, "udprelay: out of memory\n");
		return -1;
	}
	return 0;
}

/* Free a tally's buffers. */
static void
tally_free(struct tally *t)
{
	free(t->seen);
	free(t->scratch);
}

/*
 * Classify one datagram: corrupt unless it is byte for byte what its
 * header describes; foreign if intact but of another stream (when
 * stream is not 0); else a duplicate, reordered or new number.
 */
static void
tally_add(struct tally *t, const uint8_t *buf, size_t len, uint32_t stream)
{
	uint32_t seq;
	uint8_t bit;

	t->received++;
	t->bytes += len;
	if (len < UR_HDR_LEN || len > UR_BUFSIZE || get32(buf) != UR_MAGIC ||
	    get32(buf + 12) != len) {
		t->corrupt++;
		return;
	}
	seq = get32(buf + 8);
	dgram_make(t->scratch, get32(buf + 4), seq, len);
	if (memcmp(buf, t->scratch, len) != 0) {
		t->corrupt++;
		return;
	}
	if (stream != 0 && get32(buf + 4) != stream) {
		t->foreign++;
		return;
	}
	t->intact++;
	if (seq >= UR_MAX_SEQ) {
		t->out_of_range++;
		return;
	}
	bit = (uint8_t)(1u << (seq % 8));
	if (t->seen[seq / 8] & bit) {
		t->dups++;
		return;
	}
	t->seen[seq / 8] |= bit;
	t->unique++;
	if (t->any && seq < t->max_seq)
		t->reordered++;
	if (!t->any || seq > t->max_seq)
		t->max_seq = seq;
	t->any = true;
}

/* Append a tally's counters, each key prefixed. */
static void
tally_kv(const struct tally *t, const char *pfx, char *buf, size_t size)
{
	kv(buf, size, "%sreceived %llu\n", pfx,
	    (unsigned long long)t->received);
	kv(buf, size, "%sintact %llu\n", pfx, (unsigned long long)t->intact);
	kv(buf, size, "%scorrupt %llu\n", pfx,
	    (unsigned long long)t->corrupt);
	kv(buf, size, "%sforeign %llu\n", pfx,
	    (unsigned long long)t->foreign);
	kv(buf, size, "%sduplicates %llu\n", pfx,
	    (unsigned long long)t->dups);
	kv(buf, size, "%sunique %llu\n", pfx, (unsigned long long)t->unique);
	kv(buf, size, "%sreordered %llu\n", pfx,
	    (unsigned long long)t->reordered);
	kv(buf, size, "%sout_of_range %llu\n", pfx,
	    (unsigned long long)t->out_of_range);
	kv(buf, size, "%sbytes %llu\n", pfx, (unsigned long long)t->bytes);
	kv(buf, size, "%smax_seq %lld\n", pfx,
	    t->any ? (long long)t->max_seq : -1LL);
}

/* ---- relay ---- */

/* Open a client's upstream socket: bound to the current --src address if
 * any, connected to --to so only the target's answers come in. */
static int
relay_upstream(struct relay *r)
{
	const struct opts *o = r->o;
	char addr[64];
	int fd;

	if (o->nsrc > 0)
		fd = sock_bound(&o->src[r->src_idx], "an upstream socket");
	else {
		fd = socket(o->to.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			sock_buffers(fd);
	}
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&o->to.ss, o->to.len) != 0) {
		util_sockaddr_str((const struct sockaddr *)&o->to.ss, addr,
		    sizeof(addr));
		fprintf(stderr, "udprelay: cannot connect to %s: %s\n", addr,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Log a client event with both addresses, for the first few clients. */
static void
relay_log_client(struct relay *r, const struct client *c, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char caddr[64], uaddr[64] = "?";

	if (r->client_logs++ >= UR_LOG_CLIENTS) {
		if (r->client_logs == UR_LOG_CLIENTS + 1)
			fprintf(stderr, "udprelay: further client events "
			    "are not logged\n");
		return;
	}
	util_sockaddr_str((const struct sockaddr *)&c->addr, caddr,
	    sizeof(caddr));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		util_sockaddr_str((struct sockaddr *)&ss, uaddr, sizeof(uaddr));
	fprintf(stderr, "udprelay: %s %s via %s\n", what, caddr, uaddr);
}

/*
 * The table index for a client address, adding it if new.  A full table
 * evicts the least recently heard client, as a NAT forgets old mappings;
 * its held datagrams then find their client gone and count as stale.
 */
static int
relay_client(struct relay *r, const struct sockaddr_storage *ss,
    socklen_t len, uint64_t now)
{
	struct client *c;
	int i, pick = -1;

	for (i = 0; i < r->o->max_clients; i++) {
		c = &r->clients[i];
		if (c->used && sockaddr_equal(&c->addr, ss)) {
			c->last_ms = now;
			return i;
		}
		if (!c->used && pick < 0)
			pick = i;
	}
	if (pick < 0) {
		pick = 0;
		for (i = 1; i < r->o->max_clients; i++)
			if (r->clients[i].last_ms < r->clients[pick].last_ms)
				pick = i;
		c = &r->clients[pick];
		relay_log_client(r, c, "evicting client");
		close(c->fd);
		c->used = false;
		r->evicted++;
	}
	c = &r->clients[pick];
	c->fd = relay_upstream(r);
	if (c->fd < 0) {
		r->client_errors++;
		return -1;
	}
	c->used = true;
	memcpy(&c->addr, ss, sizeof(*ss));
	c->addrlen = len;
	c->id = ++r->next_id;
	c->last_ms = now;
	r->clients_total++;
	relay_log_client(r, c, "new client");
	return pick;
}

/* Send copies of a datagram on its way: up on the client's upstream
 * socket, down from the listening socket to the client. */
static void
relay_emit(struct relay *r, enum ur_dir dir, const struct client *c,
    const uint8_t *buf, size_t len, int copies)
{
	struct dir_state *d = &r->dirs[dir];
	ssize_t n;
	int i;

	for (i = 0; i < copies; i++) {
		if (dir == DIR_UP)
			n = send(c->fd, buf, len, 0);
		else
			n = sendto(r->lfd, buf, len, 0,
			    (const struct sockaddr *)&c->addr, c->addrlen);
		if (n == (ssize_t)len)
			d->forwarded++;
		else
			d->send_errors++;
	}
}

/* Return a slot's buffer and the slot itself to the pool. */
static void
relay_slot_free(struct relay *r, int s)
{
	r->held_bytes -= r->slots[s].len;
	free(r->slots[s].data);
	r->slots[s].data = NULL;
	r->freelist[r->nfree++] = s;
}

/* Send a held datagram if its client still exists, then free the slot. */
static void
relay_release(struct relay *r, int s)
{
	struct slot *sl = &r->slots[s];
	struct client *c = &r->clients[sl->cidx];

	if (c->used && c->id == sl->cid)
		relay_emit(r, sl->dir, c, sl->data, sl->len, sl->copies);
	else
		r->dirs[sl->dir].stale++;
	relay_slot_free(r, s);
}

/* Copy a datagram into a free slot; -1 when the pool or byte budget is
 * exhausted (the caller counts an overflow). */
static int
relay_hold(struct relay *r, enum ur_dir dir, int cidx, const uint8_t *buf,
    size_t len, int copies, uint64_t due)
{
	struct slot *sl;
	int s;

	if (r->nfree == 0 || r->held_bytes + len > UR_HOLD_BYTES)
		return -1;
	s = r->freelist[r->nfree - 1];
	sl = &r->slots[s];
	sl->data = malloc(len > 0 ? len : 1);
	if (sl->data == NULL)
		return -1;
	r->nfree--;
	memcpy(sl->data, buf, len);
	sl->len = len;
	sl->dir = dir;
	sl->cidx = cidx;
	sl->cid = r->clients[cidx].id;
	sl->copies = copies;
	sl->countdown = 0;
	sl->due_ms = due;
	r->held_bytes += len;
	return s;
}

/*
 * A fresh datagram went out in dir: every datagram held back for
 * reordering in dir is one step closer to release, and those at zero
 * follow it now (in the order they were held).
 */
static void
relay_tick(struct relay *r, enum ur_dir dir)
{
	struct dir_state *d = &r->dirs[dir];
	int i, kept = 0;

	for (i = 0; i < d->nheld; i++) {
		if (--r->slots[d->held[i]].countdown <= 0)
			relay_release(r, d->held[i]);
		else
			d->held[kept++] = d->held[i];
	}
	d->nheld = kept;
}

/* Send a fresh datagram now and let the reordered ones behind it go. */
static void
relay_forward(struct relay *r, enum ur_dir dir, int cidx, const uint8_t *buf,
    size_t len, int copies)
{
	relay_emit(r, dir, &r->clients[cidx], buf, len, copies);
	relay_tick(r, dir);
}

/* Does a fault of probability pct (thousandths) strike, given draw x? */
static bool
fault_hits(uint64_t x, long pct)
{
	return pct > 0 && (long)(x % UR_PCT_SCALE) < pct;
}

/*
 * Apply the faults to one datagram in dir and send, hold or drop it.
 * The five draws happen for every datagram so that each fault's choices
 * depend only on the seed and the datagram's place in its direction.
 */
static void
relay_datagram(struct relay *r, enum ur_dir dir, int cidx, uint8_t *buf,
    size_t len, uint64_t now)
{
	const struct opts *o = r->o;
	struct dir_state *d = &r->dirs[dir];
	uint64_t x[5];
	int i, copies = 1, s;
	bool on = o->faults[dir];

	d->received++;
	for (i = 0; i < 5; i++)
		x[i] = splitmix64(&d->prng);
	if (on && fault_hits(x[0], o->drop)) {
		d->dropped++;
		return;
	}
	if (on && len > 0 && fault_hits(x[1], o->corrupt)) {
		buf[(x[4] / 8) % len] ^= (uint8_t)(1u << (x[4] % 8));
		d->corrupted++;
	}
	if (on && fault_hits(x[2], o->dup)) {
		copies = 2;
		d->duplicated++;
	}
	if (on && fault_hits(x[3], o->reorder) && d->nheld < UR_REORDER_MAX) {
		s = relay_hold(r, dir, cidx, buf, len, copies,
		    now + (uint64_t)o->delay_ms +
		    (uint64_t)o->reorder_timeout_ms);
		if (s >= 0) {
			r->slots[s].countdown = (int)o->reorder_depth;
			d->held[d->nheld++] = s;
			d->reordered++;
			return;
		}
	}
	if (on && o->delay_ms > 0) {
		s = relay_hold(r, dir, cidx, buf, len, copies,
		    now + (uint64_t)o->delay_ms);
		if (s < 0) {
			/* A full queue drops, as on a real link. */
			d->overflow++;
			return;
		}
		r->fifo[(r->fifo_head + r->fifo_len++) % UR_SLOTS] = s;
		d->delayed++;
		return;
	}
	relay_forward(r, dir, cidx, buf, len, copies);
}

/* Release delayed datagrams that are due and reordered ones whose wait
 * timed out, so that nothing is held forever. */
static void
relay_timers(struct relay *r, uint64_t now)
{
	struct dir_state *d;
	struct slot *sl;
	int s, i, kept, dir;

	while (r->fifo_len > 0) {
		s = r->fifo[r->fifo_head];
		sl = &r->slots[s];
		if (sl->due_ms > now)
			break;
		r->fifo_head = (r->fifo_head + 1) % UR_SLOTS;
		r->fifo_len--;
		dir = sl->dir;
		relay_release(r, s);
		relay_tick(r, dir);
	}
	for (dir = 0; dir < 2; dir++) {
		d = &r->dirs[dir];
		for (i = 0, kept = 0; i < d->nheld; i++) {
			if (r->slots[d->held[i]].due_ms <= now)
				relay_release(r, d->held[i]);
			else
				d->held[kept++] = d->held[i];
		}
		d->nheld = kept;
	}
}

/* The earliest moment a held datagram is due, or UINT64_MAX. */
static uint64_t
relay_next_due(const struct relay *r)
{
	uint64_t due = UINT64_MAX;
	int dir, i;

	if (r->fifo_len > 0)
		due = r->slots[r->fifo[r->fifo_head]].due_ms;
	for (dir = 0; dir < 2; dir++)
		for (i = 0; i < r->dirs[dir].nheld; i++)
			if (r->slots[r->dirs[dir].held[i]].due_ms < due)
				due = r->slots[r->dirs[dir].held[i]].due_ms;
	return due;
}

/* Remember the header of a datagram up that looks like tapline's. */
static void
relay_note(struct relay *r, const uint8_t *buf, size_t len)
{
	if (len < TL_HDR_LEN || buf[0] != TL_TYPE_DATA)
		return;
	r->up_epoch = buf[1];
	r->up_rid = get32(buf + 4);
}

/* Append a datagram to --record: 2-byte length, then the bytes, flushed
 * at once so that an injector can use the file while the relay runs. */
static void
relay_record(struct relay *r, const uint8_t *buf, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (r->rec == NULL || len > 0xffff)
		return;
	if (fwrite(hdr, 1, 2, r->rec) != 2 ||
	    fwrite(buf, 1, len, r->rec) != len || fflush(r->rec) != 0) {
		fprintf(stderr, "udprelay: cannot write %s: %s\n",
		    r->o->record, strerror(errno));
		fclose(r->rec);
		r->rec = NULL;
		return;
	}
	r->recorded++;
}

/*
 * A datagram came up from client cidx (r->up_seen counts it): capture it
 * if it is the K-th, for --record and --replay-after.
 */
static void
relay_capture(struct relay *r, int cidx, const uint8_t *buf, size_t len)
{
	const struct opts *o = r->o;
	struct capture *c;

	if (o->capture_every <= 0 ||
	    r->up_seen % (uint64_t)o->capture_every != 0 ||
	    r->captured >= (uint64_t)o->capture_max)
		return;
	r->captured++;
	relay_record(r, buf, len);
	if (o->replay_after < 0)
		return;
	if (r->cap_len == UR_REPLAY_MAX) {
		r->replay_overflow++;
		return;
	}
	c = &r->caps[(r->cap_head + r->cap_len) % UR_REPLAY_MAX];
	c->data = malloc(len > 0 ? len : 1);
	if (c->data == NULL) {
		r->replay_overflow++;
		return;
	}
	memcpy(c->data, buf, len);
	c->len = len;
	c->due = r->up_seen + (uint64_t)o->replay_after;
	c->cidx = cidx;
	c->cid = r->clients[cidx].id;
	r->cap_len++;
}

/* Send the captured datagrams that are due, from the --replay-src
 * socket or else the client's own (if it still has it). */
static void
relay_replay(struct relay *r)
{
	struct capture *c;
	struct client *cl;
	int fd;

	while (r->cap_len > 0) {
		c = &r->caps[r->cap_head];
		if (c->due > r->up_seen)
			break;
		cl = &r->clients[c->cidx];
		fd = r->rfd;
		if (fd < 0 && cl->used && cl->id == c->cid)
			fd = cl->fd;
		if (fd < 0)
			r->replay_stale++;
		else if (send(fd, c->data, c->len, 0) == (ssize_t)c->len)
			r->replayed++;
		else
			r->replay_errors++;
		free(c->data);
		c->data = NULL;
		r->cap_head = (r->cap_head + 1) % UR_REPLAY_MAX;
		r->cap_len--;
	}
}

/* Count (and discard) what the target sends to the replay socket. */
static void
relay_read_replay(struct relay *r)
{
	int i;

	for (i = 0; i < UR_BATCH; i++) {
		if (recv(r->rfd, r->buf, sizeof(r->buf), MSG_DONTWAIT) >= 0)
			r->replay_answers++;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
	}
}

/* Read a batch of datagrams from clients and send them up. */
static void
relay_read_clients(struct relay *r, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	ssize_t n;
	int i, cidx;

	for (i = 0; i < UR_BATCH; i++) {
		len = sizeof(ss);
		n = recvfrom(r->lfd, r->buf, sizeof(r->buf), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &len);
		if (n < 0)
			break;
		cidx = relay_client(r, &ss, len, now);
		if (cidx < 0)
			continue;
		r->up_seen++;
		relay_note(r, r->buf, (size_t)n);
		/* As the client sent it: before a fault changes it. */
		relay_capture(r, cidx, r->buf, (size_t)n);
		relay_datagram(r, DIR_UP, cidx, r->buf, (size_t)n, now);
		relay_replay(r);
	}
}

/* Read a batch of the target's answers to one client and send them
 * down. */
static void
relay_read_upstream(struct relay *r, int cidx, uint64_t now)
{
	ssize_t n;
	int i;

	for (i = 0; i < UR_BATCH; i++) {
		n = recv(r->clients[cidx].fd, r->buf, sizeof(r->buf),
		    MSG_DONTWAIT);
		if (n < 0) {
			/* An ICMP error (ECONNREFUSED...) is reported once;
			 * the socket goes on working. */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			continue;
		}
		relay_datagram(r, DIR_DOWN, cidx, r->buf, (size_t)n, now);
	}
}

/*
 * SIGUSR2: give every client a fresh upstream socket (a new port, and
 * the next --src address), as a NAT does when its mapping changes.
 * Answers still in flight to the old socket are lost, as they would be.
 */
static void
relay_rebind(struct relay *r)
{
	struct client *c;
	int i, fd;

	if (r->o->nsrc > 0)
		r->src_idx = (r->src_idx + 1) % r->o->nsrc;
	for (i = 0; i < r->o->max_clients; i++) {
		c = &r->clients[i];
		if (!c->used)
			continue;
		fd = relay_upstream(r);
		if (fd < 0) {
			r->rebind_errors++;
			continue;
		}
		close(c->fd);
		c->fd = fd;
		relay_log_client(r, c, "rebound client");
	}
	r->rebinds++;
}

/*
 * UDP receive-buffer overflows of the whole network namespace (IPv4 and
 * IPv6), from /proc/net/snmp and snmp6; -1 if unreadable.  Run in a
 * namespace of its own, the relay is the only UDP receiver there, so
 * this tells a test whether datagrams were lost where no relay counter
 * sees them.
 */
static long long
kernel_rcvbuf_errors(void)
{
	char head[1024], vals[1024], *hs, *vs, *h, *v;
	long long total = -1, n;
	FILE *f;

	f = fopen("/proc/net/snmp", "re");
	if (f == NULL)
		return -1;
	while (fgets(head, sizeof(head), f) != NULL &&
	    fgets(vals, sizeof(vals), f) != NULL) {
		if (strncmp(head, "Udp: ", 5) != 0)
			continue;
		h = strtok_r(head, " \n", &hs);
		v = strtok_r(vals, " \n", &vs);
		while (h != NULL && v != NULL) {
			if (strcmp(h, "RcvbufErrors") == 0)
				total = strtoll(v, NULL, 10);
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	f = fopen("/proc/net/snmp6", "re");
	if (f == NULL || total < 0) {
		if (f != NULL)
			fclose(f);
		return total;
	}
	while (fscanf(f, "%1023s %lld", head, &n) == 2)
		if (strcmp(head, "Udp6RcvbufErrors") == 0)
			total += n;
	fclose(f);
	return total;
}

/* ---- TCP pass-through ---- */

/* An empty pipe for a new connection (the buffer need not be cleared). */
static void
tcp_pipe_reset(struct tcp_pipe *b)
{
	b->off = b->len = 0;
	b->eof = b->shut = false;
}

/* End a passed-through connection on both sides. */
static void
relay_tcp_close(struct relay *r, int i, bool reset)
{
	struct tcp_conn *t = &r->tcp[i];

	tcp_close_fd(t->cfd, reset);
	tcp_close_fd(t->sfd, reset);
	t->used = false;
	r->tcp_closed++;
}

/*
 * Move bytes one way: read only into an empty buffer (one buffer per
 * direction bounds memory and passes backpressure on), write what is
 * buffered, and pass an EOF on as a FIN once the buffer is empty.
 * -1 on a socket error.
 */
static int
tcp_move(int from, int to, struct tcp_pipe *b, short from_rev,
    uint64_t *bytes)
{
	ssize_t n;

	if (b->len == 0 && !b->eof && (from_rev & (POLLIN | POLLHUP |
	    POLLERR))) {
		n = recv(from, b->data, sizeof(b->data), MSG_DONTWAIT);
		if (n > 0) {
			b->off = 0;
			b->len = (size_t)n;
		} else if (n == 0)
			b->eof = true;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	if (b->len > 0) {
		n = send(to, b->data + b->off, b->len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			b->off += (size_t)n;
			b->len -= (size_t)n;
			*bytes += (uint64_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	if (b->eof && b->len == 0 && !b->shut) {
		shutdown(to, SHUT_WR);
		b->shut = true;
	}
	return 0;
}

/* Serve one connection's poll events; it ends when both ways are shut
 * or on an error (then with an RST, as the failure would give). */
static void
relay_tcp_step(struct relay *r, int i, short crev, short srev)
{
	struct tcp_conn *t = &r->tcp[i];
	socklen_t len = sizeof(int);
	int err = 0;

	if (t->connecting) {
		if (srev == 0)
			return;
		if (getsockopt(t->sfd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			r->tcp_connect_errors++;
			relay_tcp_close(r, i, true);
			return;
		}
		t->connecting = false;
	}
	if (tcp_move(t->cfd, t->sfd, &t->up, crev, &r->tcp_up_bytes) != 0 ||
	    tcp_move(t->sfd, t->cfd, &t->down, srev,
	    &r->tcp_down_bytes) != 0)
		relay_tcp_close(r, i, true);
	else if (t->up.shut && t->down.shut)
		relay_tcp_close(r, i, false);
}

/* Start the target side of a new connection (non-blocking connect). */
static int
relay_tcp_connect(struct relay *r)
{
	const struct endpoint *to = &r->o->to;
	int fd, on = 1;

	fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A control channel wants its small messages on their way now. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Accept new connections; beyond UR_MAX_TCP they are refused with an
 * RST, which keeps the table and its buffers bounded. */
static void
relay_tcp_accept(struct relay *r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct tcp_conn *t;
	char addr[64];
	int i, k, fd, on = 1;

	for (k = 0; k < UR_MAX_TCP; k++) {
		len = sizeof(ss);
		fd = accept4(r->tfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < UR_MAX_TCP && r->tcp[i].used; i++)
			;
		if (i == UR_MAX_TCP) {
			r->tcp_refused++;
			tcp_close_fd(fd, true);
			continue;
		}
		t = &r->tcp[i];
		tcp_pipe_reset(&t->up);
		tcp_pipe_reset(&t->down);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		t->cfd = fd;
		t->sfd = relay_tcp_connect(r);
		if (t->sfd < 0) {
			r->tcp_connect_errors++;
			tcp_close_fd(fd, true);
			continue;
		}
		t->used = t->connecting = true;
		r->tcp_accepted++;
		if (r->client_logs++ < UR_LOG_CLIENTS) {
			util_sockaddr_str((struct sockaddr *)&ss, addr,
			    sizeof(addr));
			fprintf(stderr, "udprelay: TCP connection from %s\n",
			    addr);
		}
	}
}

/* SIGHUP: reset every passed-through connection, as a middlebox that
 * loses its state would. */
static void
relay_tcp_cut(struct relay *r)
{
	int i;

	for (i = 0; i < UR_MAX_TCP; i++)
		if (r->tcp[i].used) {
			relay_tcp_close(r, i, true);
			r->tcp_cut++;
		}
	fprintf(stderr, "udprelay: TCP connections reset\n");
}

/* Write the relay's counters to --stats (if given). */
static void
relay_stats(struct relay *r)
{
	char buf[4096] = "";
	const struct dir_state *d;
	const char *n;
	int dir, i, clients = 0;

	if (r->o->stats == NULL)
		return;
	for (i = 0; i < r->o->max_clients; i++)
		clients += r->clients[i].used;
	for (dir = 0; dir < 2; dir++) {
		d = &r->dirs[dir];
		n = dir_name[dir];
#define RELAY_KV(field) kv(buf, sizeof(buf), "%s_" #field " %llu\n", n, \
	(unsigned long long)d->field)
		RELAY_KV(received);
		RELAY_KV(forwarded);
		RELAY_KV(dropped);
		RELAY_KV(duplicated);
		RELAY_KV(reordered);
		RELAY_KV(corrupted);
		RELAY_KV(delayed);
		RELAY_KV(overflow);
		RELAY_KV(stale);
		RELAY_KV(send_errors);
#undef RELAY_KV
	}
	kv(buf, sizeof(buf), "clients %d\n", clients);
	kv(buf, sizeof(buf), "clients_total %llu\n",
	    (unsigned long long)r->clients_total);
	kv(buf, sizeof(buf), "clients_evicted %llu\n",
	    (unsigned long long)r->evicted);
	kv(buf, sizeof(buf), "client_errors %llu\n",
	    (unsigned long long)r->client_errors);
	kv(buf, sizeof(buf), "rebinds %llu\n", (unsigned long long)r->rebinds);
	kv(buf, sizeof(buf), "rebind_errors %llu\n",
	    (unsigned long long)r->rebind_errors);
	kv(buf, sizeof(buf), "held %d\n", UR_SLOTS - r->nfree);
	kv(buf, sizeof(buf), "kernel_rcvbuf_errors %lld\n",
	    kernel_rcvbuf_errors());
	kv(buf, sizeof(buf), "tcp_accepted %llu\n",
	    (unsigned long long)r->tcp_accepted);
	kv(buf, sizeof(buf), "tcp_refused %llu\n",
	    (unsigned long long)r->tcp_refused);
	kv(buf, sizeof(buf), "tcp_connect_errors %llu\n",
	    (unsigned long long)r->tcp_connect_errors);
	kv(buf, sizeof(buf), "tcp_closed %llu\n",
	    (unsigned long long)r->tcp_closed);
	kv(buf, sizeof(buf), "tcp_cut %llu\n", (unsigned long long)r->tcp_cut);
	kv(buf, sizeof(buf), "tcp_up_bytes %llu\n",
	    (unsigned long long)r->tcp_up_bytes);
	kv(buf, sizeof(buf), "tcp_down_bytes %llu\n",
	    (unsigned long long)r->tcp_down_bytes);
#define RELAY_KV(field) kv(buf, sizeof(buf), #field " %llu\n", \
	(unsigned long long)r->field)
	RELAY_KV(captured);
	RELAY_KV(recorded);
	RELAY_KV(replayed);
	kv(buf, sizeof(buf), "replay_pending %d\n", r->cap_len);
	RELAY_KV(replay_overflow);
	RELAY_KV(replay_stale);
	RELAY_KV(replay_errors);
	RELAY_KV(replay_answers);
#undef RELAY_KV
	if (r->up_epoch >= 0) {
		kv(buf, sizeof(buf), "up_rid %08lx\n",
		    (unsigned long)r->up_rid);
		kv(buf, sizeof(buf), "up_epoch %d\n", r->up_epoch);
	} else
		kv(buf, sizeof(buf), "up_rid none\nup_epoch none\n");
	kv(buf, sizeof(buf), "stats_serial %llu\n",
	    (unsigned long long)++r->stats_serial);
	write_atomic(r->o->stats, buf);
}

/* Log the settings once, so a test log says what the relay did. */
static void
relay_banner(const struct relay *r)
{
	const struct opts *o = r->o;
	char la[64], ta[64];

	util_sockaddr_str((const struct sockaddr *)&o->listen.ss, la,
	    sizeof(la));
	util_sockaddr_str((const struct sockaddr *)&o->to.ss, ta, sizeof(ta));
	fprintf(stderr, "udprelay: %s -> %s, faults %s: seed %llu drop "
	    "%ld.%03ld%% dup %ld.%03ld%% reorder %ld.%03ld%% (depth %ld, "
	    "%ld ms) corrupt %ld.%03ld%% delay %ld ms\n", la, ta,
	    o->faults[DIR_UP] ? (o->faults[DIR_DOWN] ? "both" : "up") :
	    "down", (unsigned long long)o->seed, o->drop / 1000,
	    o->drop % 1000, o->dup / 1000, o->dup % 1000, o->reorder / 1000,
	    o->reorder % 1000, o->reorder_depth, o->reorder_timeout_ms,
	    o->corrupt / 1000, o->corrupt % 1000, o->delay_ms);
}

/* Set up the relay's state and listening socket. */
static int
relay_init(struct relay *r, const struct opts *o)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->lfd = r->sigfd = r->tfd = r->rfd = -1;
	r->up_epoch = -1;
	/* Distinct streams per direction, both fixed by the seed. */
	r->dirs[DIR_UP].prng = o->seed ^ 0x7570757075707570ull;
	r->dirs[DIR_DOWN].prng = o->seed ^ 0x646f776e646f776eull;
	for (i = 0; i < UR_SLOTS; i++)
		r->freelist[i] = UR_SLOTS - 1 - i;
	r->nfree = UR_SLOTS;
	r->sigfd = sig_open();
	if (r->sigfd < 0)
		return -1;
	r->lfd = sock_bound(&o->listen, "the listening socket");
	if (r->lfd < 0)
		return -1;
	if (o->tcp) {
		/* The same port as the UDP socket, even when it was 0. */
		struct endpoint ep = { .len = sizeof(ep.ss), .set = true };

		if (getsockname(r->lfd, (struct sockaddr *)&ep.ss,
		    &ep.len) != 0)
			return -1;
		r->tfd = tcp_listen(&ep);
		if (r->tfd < 0)
			return -1;
	}
	if (o->replay_src.set) {
		r->rfd = sock_bound(&o->replay_src, "the replay socket");
		if (r->rfd < 0 || connect(r->rfd,
		    (const struct sockaddr *)&o->to.ss, o->to.len) != 0) {
			fprintf(stderr, "udprelay: cannot set up the replay "
			    "socket: %s\n", strerror(errno));
			return -1;
		}
	}
	if (o->record != NULL) {
		r->rec = fopen(o->record, "we");
		if (r->rec == NULL) {
			fprintf(stderr, "udprelay: cannot create %s: %s\n",
			    o->record, strerror(errno));
			return -1;
		}
	}
	return write_ready(o->ready, r->lfd);
}

/* Close every socket and free every held datagram. */
static void
relay_done(struct relay *r)
{
	int i;

	for (i = 0; i < UR_MAX_CLIENTS; i++)
		if (r->clients[i].used)
			close(r->clients[i].fd);
	for (i = 0; i < UR_SLOTS; i++)
		free(r->slots[i].data);
	for (i = 0; i < UR_REPLAY_MAX; i++)
		free(r->caps[i].data);
	if (r->rec != NULL)
		fclose(r->rec);
	if (r->rfd >= 0)
		close(r->rfd);
	for (i = 0; i < UR_MAX_TCP; i++)
		if (r->tcp[i].used)
			relay_tcp_close(r, i, false);
	if (r->tfd >= 0)
		close(r->tfd);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->sigfd >= 0)
		close(r->sigfd);
}

/* React to pending signals; true when it is time to stop. */
static bool
relay_signals(struct relay *r)
{
	int sig;
	bool stop = false;

	while ((sig = sig_next(r->sigfd)) != 0) {
		if (sig == SIGUSR1)
			relay_stats(r);
		else if (sig == SIGUSR2)
			relay_rebind(r);
		else if (sig == SIGHUP)
			relay_tcp_cut(r);
		else
			stop = true;
	}
	return stop;
}

/* Poll events for one side of a TCP connection; -1 as the fd when
 * there are none, so that a shut-down socket cannot spin the loop. */
static struct pollfd
relay_tcp_pollfd(int fd, const struct tcp_pipe *in, const struct tcp_pipe *out)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	if (in->len == 0 && !in->eof)
		p.events |= POLLIN;
	if (out->len > 0)
		p.events |= POLLOUT;
	if (p.events == 0)
		p.fd = -1;
	return p;
}

/* Add the TCP sockets to the poll set from index n; returns the new n. */
static int
relay_tcp_poll(struct relay *r, struct pollfd *pfd, int n)
{
	struct tcp_conn *t;
	int i;

	if (r->tfd < 0)
		return n;
	pfd[n++] = (struct pollfd){ .fd = r->tfd, .events = POLLIN };
	for (i = 0; i < UR_MAX_TCP; i++) {
		t = &r->tcp[i];
		if (t->used && t->connecting) {
			/* The client waits until the target answers. */
			pfd[n].fd = -1;
			pfd[n + 1] = (struct pollfd){ .fd = t->sfd,
			    .events = POLLOUT };
		} else if (t->used) {
			pfd[n] = relay_tcp_pollfd(t->cfd, &t->up, &t->down);
			pfd[n + 1] = relay_tcp_pollfd(t->sfd, &t->down,
			    &t->up);
		} else
			pfd[n].fd = pfd[n + 1].fd = -1;
		pfd[n].revents = pfd[n + 1].revents = 0;
		n += 2;
	}
	return n;
}

/* Serve the TCP part of the poll set that starts at index first. */
static void
relay_tcp_events(struct relay *r, const struct pollfd *pfd, int first)
{
	int i;

	if (r->tfd < 0)
		return;
	for (i = 0; i < UR_MAX_TCP; i++)
		if (r->tcp[i].used && (pfd[first + 1 + 2 * i].revents ||
		    pfd[first + 2 + 2 * i].revents))
			relay_tcp_step(r, i, pfd[first + 1 + 2 * i].revents,
			    pfd[first + 2 + 2 * i].revents);
	/* After the old connections, so a new one cannot take the place
	 * of one whose events are still to be served. */
	if (pfd[first].revents)
		relay_tcp_accept(r);
}

/* The relay's poll loop, until a signal or the time limit stops it. */
static int
relay_main(const struct opts *o)
{
	struct pollfd pfd[4 + UR_MAX_CLIENTS + 2 * UR_MAX_TCP];
	int owner[3 + UR_MAX_CLIENTS];
	uint64_t ids[3 + UR_MAX_CLIENTS];
	struct relay *r;
	uint64_t now, deadline, due;
	int i, n, nudp, rc = 0;

	r = malloc(sizeof(*r));
	if (r == NULL) {
		fprintf(stderr, "udprelay: out of memory\n");
		return 1;
	}
	if (relay_init(r, o) != 0) {
		relay_done(r);
		free(r);
		return 1;
	}
	relay_banner(r);
	deadline = util_now_ms() + (uint64_t)o->max_seconds * 1000;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = r->rfd, .events = POLLIN };
		for (i = 0, n = 3; i < o->max_clients; i++) {
			if (!r->clients[i].used)
				continue;
			pfd[n] = (struct pollfd){ .fd = r->clients[i].fd,
			    .events = POLLIN };
			owner[n] = i;
			ids[n++] = r->clients[i].id;
		}
		nudp = n;
		n = relay_tcp_poll(r, pfd, n);
		now = util_now_ms();
		due = relay_next_due(r);
		if (due > deadline)
			due = deadline;
		if (poll(pfd, (nfds_t)n, ms_until(due, now)) < 0 &&
		    errno != EINTR) {
			fprintf(stderr, "udprelay: poll: %s\n",
			    strerror(errno));
			rc = 1;
			break;
		}
		now = util_now_ms();
		if (pfd[1].revents)
			relay_read_clients(r, now);
		if (pfd[2].revents)
			relay_read_replay(r);
		/* A client evicted above may have left its fd number to a
		 * new one: read only clients that are still the same. */
		for (i = 3; i < nudp; i++)
			if (pfd[i].revents && r->clients[owner[i]].used &&
			    r->clients[owner[i]].id == ids[i])
				relay_read_upstream(r, owner[i], now);
		relay_tcp_events(r, pfd, nudp);
		relay_timers(r, now);
		if (pfd[0].revents && relay_signals(r))
			break;
		if (now >= deadline) {
			fprintf(stderr, "udprelay: --max-seconds %ld reached\n",
			    o->max_seconds);
			break;
		}
	}
	relay_stats(r);
	relay_done(r);
	free(r);
	return rc;
}

/* ---- sender ---- */

/* Read the echoes that have arrived, without waiting. */
static void
send_drain(int fd, struct tally *t, uint32_t stream, uint8_t *buf,
    uint64_t *last_echo_us)
{
	ssize_t n;
	int i;

	for (i = 0; i < UR_BATCH; i++) {
		n = recv(fd, buf, UR_BUFSIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			continue;
		}
		tally_add(t, buf, (size_t)n, stream);
		*last_echo_us = now_us();
	}
}

/* Wait up to wait_us for echoes or a signal; true if told to stop. */
static bool
send_wait(int fd, int sigfd, uint64_t wait_us)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	struct timespec ts = { .tv_sec = (time_t)(wait_us / 1000000),
	    .tv_nsec = (long)(wait_us % 1000000) * 1000 };
	int sig;

	if (ppoll(pfd, 2, &ts, NULL) <= 0 || !pfd[1].revents)
		return false;
	while ((sig = sig_next(sigfd)) != 0)
		if (sig != SIGUSR1 && sig != SIGUSR2)
			return true;
	return false;
}

/* Write the sender's counters to --stats (if given). */
static void
send_stats(const struct opts *o, uint64_t sent, uint64_t errors,
    const struct tally *t, uint64_t span_ms)
{
	char buf[2048] = "";

	if (o->stats == NULL)
		return;
	kv(buf, sizeof(buf), "sent %llu\n", (unsigned long long)sent);
	kv(buf, sizeof(buf), "send_errors %llu\n", (unsigned long long)errors);
	tally_kv(t, "echo_", buf, sizeof(buf));
	kv(buf, sizeof(buf), "echo_span_ms %llu\n",
	    (unsigned long long)span_ms);
	write_atomic(o->stats, buf);
}

/*
 * Send the numbered datagrams at a steady pace, reading echoes while
 * waiting between them, then wait for the rest of the echoes until all
 * are back or none came for --echo-wait-ms.
 */
static int
send_main(const struct opts *o)
{
	struct endpoint any;
	struct tally t;
	uint8_t *buf = NULL;
	uint64_t start, next, now, end, idle, deadline;
	uint64_t last = 0, sent = 0, errors = 0;
	uint64_t wait_us = (uint64_t)o->echo_wait_ms * 1000;
	int fd = -1, sigfd, rc = 1;
	long seq;
	bool stop = false;

	memset(&t, 0, sizeof(t));
	sigfd = sig_open();
	if (sigfd < 0 || tally_init(&t) != 0)
		goto out;
	buf = malloc(UR_BUFSIZE);
	if (buf == NULL)
		goto out;
	any = o->bind;
	if (!any.set)
		parse_host(o->send.ss.ss_family == AF_INET ? "0.0.0.0" : "::",
		    0, &any);
	fd = sock_bound(&any, "the sending socket");
	if (fd < 0)
		goto out;
	/* Connected: only the target's answers count as echoes. */
	if (connect(fd, (const struct sockaddr *)&o->send.ss,
	    o->send.len) != 0) {
		fprintf(stderr, "udprelay: connect: %s\n", strerror(errno));
		goto out;
	}
	start = now_us();
	deadline = start + (uint64_t)o->max_seconds * 1000000;
	for (seq = 0; seq < o->count && !stop; seq++) {
		dgram_make(buf, o->stream, (uint32_t)seq, (size_t)o->size);
		if (send(fd, buf, (size_t)o->size, 0) == (ssize_t)o->size)
			sent++;
		else
			errors++;
		next = start + (uint64_t)(seq + 1) * (uint64_t)o->interval_us;
		do {
			send_drain(fd, &t, o->stream, buf, &last);
			now = now_us();
			if (now >= deadline)
				stop = true;
			else if (now < next)
				stop = send_wait(fd, sigfd, next - now);
		} while (!stop && now < next);
	}
	/* The idle wait counts from the last send or echo, whichever is
	 * later, so a slow start does not cut the tail short. */
	end = now_us();
	while (wait_us > 0 && !stop) {
		send_drain(fd, &t, o->stream, buf, &last);
		now = now_us();
		idle = (last > end ? last : end) + wait_us;
		if (t.unique >= sent || now >= deadline || now >= idle)
			break;
		stop = send_wait(fd, sigfd, idle - now);
	}
	send_stats(o, sent, errors, &t, last > start ? (last - start) / 1000 :
	    0);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sigfd >= 0)
		close(sigfd);
	free(buf);
	tally_free(&t);
	return rc;
}

/* ---- inject and flood ---- */

/* The kinds of a header flood, with their stats names. */
enum flood_kind {
	FK_AUTH, FK_EPOCH, FK_FLAGS, FK_RESERVED, FK_TYPE, FK_ZERO, FK_LIMIT,
	FK_SHORT, FK_LONG, FK_GARBAGE, FK_COUNT
};
static const char *const flood_name[FK_COUNT] = {
	"auth", "epoch", "flags", "reserved", "type", "zero", "limit",
	"short", "long", "garbage",
};

/* What an injector or flooder sends from, and what it has seen. */
struct blast {
	const struct opts *o;
	uint8_t *file;		/* --inject: the recording */
	size_t file_len, file_off;
	uint64_t prng;
	uint64_t sent, send_errors, answers, answer_errors;
	uint64_t kinds[FK_COUNT];
	uint8_t buf[UR_BUFSIZE];
};

/* Put a 64-bit big-endian value. */
static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Fill len bytes with the flood's pseudo-random stream. */
static void
blast_random(struct blast *b, uint8_t *p, size_t len)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			x = splitmix64(&b->prng);
		p[i] = (uint8_t)x;
		x >>= 8;
	}
}

/* Read a whole --inject file and check that its records parse. */
static int
blast_load(struct blast *b, const char *path)
{
	FILE *f;
	size_t n, off, len;

	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "udprelay: cannot open %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	b->file = malloc(UR_INJECT_BYTES + 1);
	n = b->file != NULL ? fread(b->file, 1, UR_INJECT_BYTES + 1, f) : 0;
	fclose(f);
	if (b->file == NULL || n > UR_INJECT_BYTES) {
		fprintf(stderr, "udprelay: %s: %s\n", path, b->file == NULL ?
		    "out of memory" : "too large");
		return -1;
	}
	for (off = 0; off < n; off += 2 + len) {
		len = off + 2 <= n ? (size_t)b->file[off] << 8 |
		    b->file[off + 1] : SIZE_MAX;
		if (len == SIZE_MAX || len > n - off - 2) {
			fprintf(stderr, "udprelay: %s: a truncated record at "
			    "byte %zu\n", path, off);
			return -1;
		}
	}
	b->file_len = n;
	return 0;
}

/*
 * The next datagram to send into b->buf; its length, or -1 when a
 * recording is used up.  A header flood draws the kind, then the fields.
 */
static ssize_t
blast_next(struct blast *b)
{
	const struct opts *o = b->o;
	uint8_t *p = b->buf;
	uint64_t x, y;
	size_t len;
	int k;

	if (o->payload == PAY_INJECT) {
		if (b->file_off >= b->file_len)
			return -1;
		len = (size_t)b->file[b->file_off] << 8 |
		    b->file[b->file_off + 1];
		memcpy(p, b->file + b->file_off + 2, len);
		b->file_off += 2 + len;
		return (ssize_t)len;
	}
	x = splitmix64(&b->prng);
	y = splitmix64(&b->prng);
	if (o->payload == PAY_GARBAGE) {
		len = (size_t)(x % ((uint64_t)o->size + 1));
		blast_random(b, p, len);
		b->kinds[FK_GARBAGE]++;
		return (ssize_t)len;
	}
	k = (int)(x % 16);
	k = k < 8 ? FK_AUTH : k - 7;
	len = 33 + (size_t)((x >> 8) % 968);
	if (k == FK_SHORT)
		len = 16 + (size_t)((x >> 8) % 17);
	else if (k == FK_LONG)
		len = 1600 + (size_t)((x >> 8) % 401);
	blast_random(b, p, len);
	p[0] = TL_TYPE_DATA;
	p[1] = (uint8_t)o->epoch;
	p[2] = p[3] = 0;
	put32(p + 4, o->rid);
	/* A counter well above anything a short session has used. */
	put64(p + 8, (1ull << 20) + y % ((1ull << 26) - (1ull << 20)));
	switch (k) {
	case FK_EPOCH:
		p[1] = (uint8_t)(o->epoch + 128);
		break;
	case FK_FLAGS:
		p[2] = (uint8_t)(1 + (x >> 40) % 255);
		break;
	case FK_RESERVED:
		p[3] = (uint8_t)(1 + (x >> 40) % 255);
		break;
	case FK_TYPE:
		p[0] = (uint8_t)(2 + (x >> 40) % 255);	/* 2..256: 0 too */
		break;
	case FK_ZERO:
		put64(p + 8, 0);
		break;
	case FK_LIMIT:
		put64(p + 8, y | 1ull << 63);
		break;
	}
	b->kinds[k]++;
	return (ssize_t)len;
}

/* Count what came back: datagrams, and ICMP errors reported on the
 * connected socket. */
static void
blast_drain(struct blast *b, int fd)
{
	int i;

	for (i = 0; i < UR_BATCH; i++) {
		if (recv(fd, b->buf, sizeof(b->buf), MSG_DONTWAIT) >= 0)
			b->answers++;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else
			b->answer_errors++;
	}
}

/* Write the injector's or flooder's counters to --stats (if given). */
static void
blast_stats(const struct blast *b)
{
	char buf[2048] = "";
	int k;

	if (b->o->stats == NULL)
		return;
	kv(buf, sizeof(buf), "sent %llu\n", (unsigned long long)b->sent);
	kv(buf, sizeof(buf), "send_errors %llu\n",
	    (unsigned long long)b->send_errors);
	kv(buf, sizeof(buf), "answers %llu\n", (unsigned long long)b->answers);
	kv(buf, sizeof(buf), "answer_errors %llu\n",
	    (unsigned long long)b->answer_errors);
	for (k = 0; k < FK_COUNT; k++)
		kv(buf, sizeof(buf), "flood_%s %llu\n", flood_name[k],
		    (unsigned long long)b->kinds[k]);
	write_atomic(b->o->stats, buf);
}

/*
 * --send with --inject or --flood: send the datagrams at the --interval-us
 * pace from a socket connected to the target, then listen --echo-wait-ms
 * longer for anything it sends back.
 */
static int
blast_main(const struct opts *o)
{
	struct endpoint any;
	struct blast *b;
	uint64_t start, next, now, deadline, end;
	int fd = -1, sigfd = -1, rc = 1, pmtu;
	ssize_t len;
	long i;
	bool stop = false;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return 1;
	b->o = o;
	b->prng = o->seed ^ 0x666c6f6f64666c6full;
	if (o->payload == PAY_INJECT && blast_load(b, o->inject) != 0)
		goto out;
	sigfd = sig_open();
	if (sigfd < 0)
		goto out;
	any = o->bind;
	if (!any.set)
		parse_host(o->send.ss.ss_family == AF_INET ? "0.0.0.0" : "::",
		    0, &any);
	fd = sock_bound(&any, "the sending socket");
	if (fd < 0)
		goto out;
	/* Fragment what exceeds the MTU instead of refusing to send it. */
	if (o->send.ss.ss_family == AF_INET) {
		pmtu = IP_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu));
	} else {
		pmtu = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu));
	}
	if (connect(fd, (const struct sockaddr *)&o->send.ss,
	    o->send.len) != 0) {
		fprintf(stderr, "udprelay: connect: %s\n", strerror(errno));
		goto out;
	}
	start = now_us();
	deadline = start + (uint64_t)o->max_seconds * 1000000;
	for (i = 0; !stop && (o->payload == PAY_INJECT || i < o->count);
	    i++) {
		len = blast_next(b);
		if (len < 0)
			break;
		if (send(fd, b->buf, (size_t)len, 0) == len)
			b->sent++;
		else
			b->send_errors++;
		next = start + (uint64_t)(i + 1) * (uint64_t)o->interval_us;
		do {
			blast_drain(b, fd);
			now = now_us();
			if (now >= deadline)
				stop = true;
			else if (now < next)
				stop = send_wait(fd, sigfd, next - now);
		} while (!stop && now < next);
	}
	/* Answers may come late: listen a while longer. */
	end = now_us() + (uint64_t)o->echo_wait_ms * 1000;
	while (!stop && (now = now_us()) < end && now < deadline) {
		stop = send_wait(fd, sigfd, end - now);
		blast_drain(b, fd);
	}
	blast_stats(b);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sigfd >= 0)
		close(sigfd);
	free(b->file);
	free(b);
	return rc;
}

/* ---- sink ---- */

/* What the sink has seen: the tally plus sources and echoes. */
struct sink {
	struct tally t;
	struct sockaddr_storage sources[UR_MAX_SOURCES];
	int nsources;
	uint64_t echoed, echo_errors, stats_serial;
	/* --tcp: the listener and the echoed connections (-1: free). */
	int tfd;
	int conns[UR_MAX_TCP];
	uint64_t tcp_accepted, tcp_refused, tcp_bytes;
};

/* Remember a source address (the first UR_MAX_SOURCES distinct ones). */
static void
sink_source(struct sink *k, const struct sockaddr_storage *ss)
{
	int i;

	for (i = 0; i < k->nsources; i++)
		if (sockaddr_equal(&k->sources[i], ss))
			return;
	if (k->nsources < UR_MAX_SOURCES)
		memcpy(&k->sources[k->nsources++], ss, sizeof(*ss));
}

/* Write the sink's counters to --stats (if given). */
static void
sink_stats(const struct opts *o, struct sink *k)
{
	char buf[2048] = "", addr[64];
	int i;

	if (o->stats == NULL)
		return;
	tally_kv(&k->t, "", buf, sizeof(buf));
	kv(buf, sizeof(buf), "sources %d\n", k->nsources);
	for (i = 0; i < k->nsources; i++) {
		util_sockaddr_str((struct sockaddr *)&k->sources[i], addr,
		    sizeof(addr));
		kv(buf, sizeof(buf), "source_%d %s\n", i, addr);
	}
	kv(buf, sizeof(buf), "echoed %llu\n", (unsigned long long)k->echoed);
	kv(buf, sizeof(buf), "echo_errors %llu\n",
	    (unsigned long long)k->echo_errors);
	kv(buf, sizeof(buf), "tcp_accepted %llu\n",
	    (unsigned long long)k->tcp_accepted);
	kv(buf, sizeof(buf), "tcp_refused %llu\n",
	    (unsigned long long)k->tcp_refused);
	kv(buf, sizeof(buf), "tcp_bytes %llu\n",
	    (unsigned long long)k->tcp_bytes);
	kv(buf, sizeof(buf), "stats_serial %llu\n",
	    (unsigned long long)++k->stats_serial);
	write_atomic(o->stats, buf);
}

/* Read a batch of datagrams, count them and echo them if asked; returns
 * how many were read. */
static int
sink_read(const struct opts *o, struct sink *k, int fd, uint8_t *buf,
    uint64_t *last_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	ssize_t n;
	int i;

	for (i = 0; i < UR_BATCH; i++) {
		len = sizeof(ss);
		n = recvfrom(fd, buf, UR_BUFSIZE, MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &len);
		if (n < 0)
			break;
		*last_ms = util_now_ms();
		sink_source(k, &ss);
		if (o->echo) {
			if (sendto(fd, buf, (size_t)n, 0,
			    (struct sockaddr *)&ss, len) == n)
				k->echoed++;
			else
				k->echo_errors++;
		}
		tally_add(&k->t, buf, (size_t)n, 0);
	}
	return i;
}

/* Accept TCP connections to echo, up to UR_MAX_TCP at once. */
static void
sink_tcp_accept(struct sink *k)
{
	int i, fd;

	/* cppcheck-suppress nullPointer ; accept4(2) takes NULL, NULL */
	while ((fd = accept4(k->tfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < UR_MAX_TCP && k->conns[i] >= 0; i++)
			;
		if (i == UR_MAX_TCP) {
			k->tcp_refused++;
			tcp_close_fd(fd, true);
			continue;
		}
		k->conns[i] = fd;
		k->tcp_accepted++;
	}
}

/*
 * Echo what one connection sent.  A peer that stops reading gets one
 * second to take the echo, then the connection is closed: the sink
 * never blocks for long on one peer.
 */
static void
sink_tcp_echo(struct sink *k, int i, uint8_t *buf)
{
	struct pollfd p = { .fd = k->conns[i], .events = POLLOUT };
	ssize_t n, w;
	size_t off = 0;

	n = recv(k->conns[i], buf, UR_BUFSIZE, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	while (n > 0 && off < (size_t)n) {
		w = send(k->conns[i], buf + off, (size_t)n - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			k->tcp_bytes += (uint64_t)w;
		} else if (w < 0 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK) && poll(&p, 1, 1000) == 1)
			continue;
		else
			break;
	}
	if (n <= 0 || off < (size_t)n) {
		tcp_close_fd(k->conns[i], false);
		k->conns[i] = -1;
	}
}

/* Close the TCP listener and every echoed connection. */
static void
sink_tcp_done(struct sink *k)
{
	int i;

	for (i = 0; i < UR_MAX_TCP; i++)
		if (k->conns[i] >= 0)
			close(k->conns[i]);
	if (k->tfd >= 0)
		close(k->tfd);
}

/* The sink's loop, until a signal, --idle-exit-ms or the time limit. */
static int
sink_main(const struct opts *o)
{
	struct pollfd pfd[3 + UR_MAX_TCP];
	struct sink *k;
	struct endpoint ep = { .len = sizeof(ep.ss), .set = true };
	uint8_t *buf;
	uint64_t now, deadline, until, last = 0;
	int fd = -1, sigfd = -1, sig, rc = 1, i;
	bool stop = false;

	k = calloc(1, sizeof(*k));
	buf = malloc(UR_BUFSIZE);
	if (k == NULL || buf == NULL)
		goto out;
	k->tfd = -1;
	for (i = 0; i < UR_MAX_TCP; i++)
		k->conns[i] = -1;
	if (tally_init(&k->t) != 0)
		goto out;
	sigfd = sig_open();
	if (sigfd < 0)
		goto out;
	fd = sock_bound(&o->sink, "the sink");
	if (fd < 0)
		goto out;
	/* TCP on the port the UDP socket got, even when it was 0. */
	if (o->tcp && (getsockname(fd, (struct sockaddr *)&ep.ss,
	    &ep.len) != 0 || (k->tfd = tcp_listen(&ep)) < 0))
		goto out;
	if (write_ready(o->ready, fd) != 0)
		goto out;
	deadline = util_now_ms() + (uint64_t)o->max_seconds * 1000;
	while (!stop) {
		now = util_now_ms();
		until = deadline;
		if (o->idle_exit_ms > 0 && last > 0 &&
		    last + (uint64_t)o->idle_exit_ms < until)
			until = last + (uint64_t)o->idle_exit_ms;
		if (now >= until)
			break;
		pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = k->tfd, .events = POLLIN };
		for (i = 0; i < UR_MAX_TCP; i++)
			pfd[3 + i] = (struct pollfd){ .fd = k->conns[i],
			    .events = POLLIN };
		if (poll(pfd, 3 + UR_MAX_TCP, ms_until(until, now)) < 0 &&
		    errno != EINTR)
			break;
		if (pfd[0].revents)
			sink_read(o, k, fd, buf, &last);
		for (i = 0; i < UR_MAX_TCP; i++)
			if (pfd[3 + i].revents && k->conns[i] >= 0)
				sink_tcp_echo(k, i, buf);
		if (pfd[2].revents)
			sink_tcp_accept(k);
		if (pfd[1].revents)
			while ((sig = sig_next(sigfd)) != 0) {
				if (sig == SIGUSR1)
					sink_stats(o, k);
				else if (sig != SIGUSR2)
					stop = true;
			}
	}
	/*
	 * A test stops the relay, then the sink: what is still queued in
	 * the socket arrived before the stop and must be counted.  The
	 * bound keeps a flood from holding the exit back.
	 */
	for (i = 0; i < UR_SLOTS && sink_read(o, k, fd, buf, &last) ==
	    UR_BATCH; i++)
		;
	sink_stats(o, k);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sigfd >= 0)
		close(sigfd);
	if (k != NULL) {
		sink_tcp_done(k);
		tally_free(&k->t);
	}
	free(k);
	free(buf);
	return rc;
}

/* ---- command line ---- */

enum {
	OPT_LISTEN = 256, OPT_TO, OPT_SEED, OPT_DROP, OPT_DUP, OPT_REORDER,
	OPT_DEPTH, OPT_RTIMEOUT, OPT_CORRUPT, OPT_DELAY, OPT_DIR, OPT_SRC,
	OPT_CLIENTS, OPT_STATS, OPT_READY, OPT_SECONDS, OPT_SEND, OPT_COUNT,
	OPT_SIZE, OPT_STREAM, OPT_INTERVAL, OPT_ECHO_WAIT, OPT_BIND, OPT_SINK,
	OPT_ECHO, OPT_IDLE, OPT_TCP, OPT_CAP_EVERY, OPT_CAP_MAX,
	OPT_REPLAY_AFTER, OPT_REPLAY_SRC, OPT_RECORD, OPT_INJECT, OPT_FLOOD,
	OPT_RID, OPT_EPOCH, OPT_HELP, OPT_END
};

#define M_RELAY (1u << MODE_RELAY)
#define M_SEND (1u << MODE_SEND)
#define M_SINK (1u << MODE_SINK)

/* The modes each option belongs to, so a misplaced one is refused
 * instead of silently doing nothing in a test. */
static const unsigned opt_modes[OPT_END - OPT_LISTEN] = {
	[OPT_LISTEN - OPT_LISTEN] = M_RELAY,
	[OPT_TO - OPT_LISTEN] = M_RELAY,
	[OPT_SEED - OPT_LISTEN] = M_RELAY | M_SEND,
	[OPT_DROP - OPT_LISTEN] = M_RELAY,
	[OPT_DUP - OPT_LISTEN] = M_RELAY,
	[OPT_REORDER - OPT_LISTEN] = M_RELAY,
	[OPT_DEPTH - OPT_LISTEN] = M_RELAY,
	[OPT_RTIMEOUT - OPT_LISTEN] = M_RELAY,
	[OPT_CORRUPT - OPT_LISTEN] = M_RELAY,
	[OPT_DELAY - OPT_LISTEN] = M_RELAY,
	[OPT_DIR - OPT_LISTEN] = M_RELAY,
	[OPT_SRC - OPT_LISTEN] = M_RELAY,
	[OPT_CLIENTS - OPT_LISTEN] = M_RELAY,
	[OPT_STATS - OPT_LISTEN] = M_RELAY | M_SEND | M_SINK,
	[OPT_READY - OPT_LISTEN] = M_RELAY | M_SINK,
	[OPT_SECONDS - OPT_LISTEN] = M_RELAY | M_SEND | M_SINK,
	[OPT_SEND - OPT_LISTEN] = M_SEND,
	[OPT_COUNT - OPT_LISTEN] = M_SEND,
	[OPT_SIZE - OPT_LISTEN] = M_SEND,
	[OPT_STREAM - OPT_LISTEN] = M_SEND,
	[OPT_INTERVAL - OPT_LISTEN] = M_SEND,
	[OPT_ECHO_WAIT - OPT_LISTEN] = M_SEND,
	[OPT_BIND - OPT_LISTEN] = M_SEND,
	[OPT_SINK - OPT_LISTEN] = M_SINK,
	[OPT_ECHO - OPT_LISTEN] = M_SINK,
	[OPT_IDLE - OPT_LISTEN] = M_SINK,
	[OPT_TCP - OPT_LISTEN] = M_RELAY | M_SINK,
	[OPT_CAP_EVERY - OPT_LISTEN] = M_RELAY,
	[OPT_CAP_MAX - OPT_LISTEN] = M_RELAY,
	[OPT_REPLAY_AFTER - OPT_LISTEN] = M_RELAY,
	[OPT_REPLAY_SRC - OPT_LISTEN] = M_RELAY,
	[OPT_RECORD - OPT_LISTEN] = M_RELAY,
	[OPT_INJECT - OPT_LISTEN] = M_SEND,
	[OPT_FLOOD - OPT_LISTEN] = M_SEND,
	[OPT_RID - OPT_LISTEN] = M_SEND,
	[OPT_EPOCH - OPT_LISTEN] = M_SEND,
	[OPT_HELP - OPT_LISTEN] = M_RELAY | M_SEND | M_SINK,
};

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "to", required_argument, NULL, OPT_TO },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "drop", required_argument, NULL, OPT_DROP },
	{ "dup", required_argument, NULL, OPT_DUP },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "reorder-depth", required_argument, NULL, OPT_DEPTH },
	{ "reorder-timeout-ms", required_argument, NULL, OPT_RTIMEOUT },
	{ "corrupt", required_argument, NULL, OPT_CORRUPT },
	{ "delay-ms", required_argument, NULL, OPT_DELAY },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "max-clients", required_argument, NULL, OPT_CLIENTS },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "ready", required_argument, NULL, OPT_READY },
	{ "max-seconds", required_argument, NULL, OPT_SECONDS },
	{ "send", required_argument, NULL, OPT_SEND },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "interval-us", required_argument, NULL, OPT_INTERVAL },
	{ "echo-wait-ms", required_argument, NULL, OPT_ECHO_WAIT },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "sink", required_argument, NULL, OPT_SINK },
	{ "echo", no_argument, NULL, OPT_ECHO },
	{ "idle-exit-ms", required_argument, NULL, OPT_IDLE },
	{ "tcp", no_argument, NULL, OPT_TCP },
	{ "capture-every", required_argument, NULL, OPT_CAP_EVERY },
	{ "capture-max", required_argument, NULL, OPT_CAP_MAX },
	{ "replay-after", required_argument, NULL, OPT_REPLAY_AFTER },
	{ "replay-src", required_argument, NULL, OPT_REPLAY_SRC },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "inject", required_argument, NULL, OPT_INJECT },
	{ "flood", required_argument, NULL, OPT_FLOOD },
	{ "rid", required_argument, NULL, OPT_RID },
	{ "epoch", required_argument, NULL, OPT_EPOCH },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Print the synopsis. */
static void
usage(FILE *f)
{
	fputs("usage: udprelay --listen ADDR:PORT --to ADDR:PORT [--seed N]\n"
	    "\t[--drop PCT] [--dup PCT] [--reorder PCT] [--reorder-depth N]\n"
	    "\t[--reorder-timeout-ms N] [--corrupt PCT] [--delay-ms N]\n"
	    "\t[--dir both|up|down] [--src ADDR]... [--max-clients N] "
	    "[--tcp]\n"
	    "\t[--capture-every K] [--capture-max M] [--replay-after N]\n"
	    "\t[--replay-src ADDR] [--record FILE]\n"
	    "\t[--stats FILE] [--ready FILE] [--max-seconds N]\n"
	    "       udprelay --send ADDR:PORT --count N --size S "
	    "[--stream ID]\n"
	    "\t[--interval-us N] [--echo-wait-ms N] [--bind ADDR:PORT]\n"
	    "\t[--stats FILE] [--max-seconds N]\n"
	    "       udprelay --send ADDR:PORT --inject FILE [--interval-us N]"
	    "\n\t[--echo-wait-ms N] [--bind ADDR:PORT] [--stats FILE] "
	    "[--max-seconds N]\n"
	    "       udprelay --send ADDR:PORT --flood garbage|header "
	    "--count N [--seed S]\n"
	    "\t[--size MAX] [--rid HEX] [--epoch E] [--interval-us N]\n"
	    "\t[--echo-wait-ms N] [--bind ADDR:PORT] [--stats FILE] "
	    "[--max-seconds N]\n"
	    "       udprelay --sink ADDR:PORT [--echo] [--tcp] "
	    "[--idle-exit-ms N]\n"
	    "\t[--stats FILE] [--ready FILE] [--max-seconds N]\n"
	    "ADDR: 198.51.100.1 or [2001:db8:1::1]; PCT: 0 to 100, up to "
	    "three decimals\n", f);
}

/* Parse one option's argument into o; false (with a message) if bad. */
static bool
opt_one(struct opts *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case OPT_LISTEN:
		return parse_endpoint(arg, true, &o->listen);
	case OPT_TO:
		return parse_endpoint(arg, false, &o->to);
	case OPT_SEND:
		return parse_endpoint(arg, false, &o->send);
	case OPT_SINK:
		return parse_endpoint(arg, true, &o->sink);
	case OPT_BIND:
		return parse_endpoint(arg, true, &o->bind);
	case OPT_SRC:
		if (o->nsrc == UR_MAX_SRC)
			return false;
		return parse_src(arg, &o->src[o->nsrc++]);
	case OPT_SEED:
		if (!parse_long(arg, 0, LONG_MAX, &v))
			return false;
		o->seed = (uint64_t)v;
		return true;
	case OPT_DROP:
		return parse_pct(arg, &o->drop);
	case OPT_DUP:
		return parse_pct(arg, &o->dup);
	case OPT_REORDER:
		return parse_pct(arg, &o->reorder);
	case OPT_CORRUPT:
		return parse_pct(arg, &o->corrupt);
	case OPT_DEPTH:
		return parse_long(arg, 1, UR_DEPTH_MAX, &o->reorder_depth);
	case OPT_RTIMEOUT:
		return parse_long(arg, 1, 60000, &o->reorder_timeout_ms);
	case OPT_DELAY:
		return parse_long(arg, 0, 10000, &o->delay_ms);
	case OPT_DIR:
		o->faults[DIR_UP] = strcmp(arg, "down") != 0;
		o->faults[DIR_DOWN] = strcmp(arg, "up") != 0;
		return strcmp(arg, "both") == 0 || strcmp(arg, "up") == 0 ||
		    strcmp(arg, "down") == 0;
	case OPT_CLIENTS:
		return parse_long(arg, 1, UR_MAX_CLIENTS, &o->max_clients);
	case OPT_STATS:
		o->stats = arg;
		return true;
	case OPT_READY:
		o->ready = arg;
		return true;
	case OPT_SECONDS:
		return parse_long(arg, 1, UR_MAX_SECONDS, &o->max_seconds);
	case OPT_COUNT:
		return parse_long(arg, 1, UR_MAX_SEQ, &o->count);
	case OPT_SIZE:
		return parse_long(arg, UR_HDR_LEN, 65507, &o->size);
	case OPT_STREAM:
		if (!parse_long(arg, 1, UINT32_MAX, &v))
			return false;
		o->stream = (uint32_t)v;
		return true;
	case OPT_INTERVAL:
		return parse_long(arg, 0, 10000000, &o->interval_us);
	case OPT_ECHO_WAIT:
		return parse_long(arg, 0, 600000, &o->echo_wait_ms);
	case OPT_IDLE:
		return parse_long(arg, 1, 600000, &o->idle_exit_ms);
	case OPT_ECHO:
		o->echo = true;
		return true;
	case OPT_TCP:
		o->tcp = true;
		return true;
	case OPT_CAP_EVERY:
		return parse_long(arg, 1, UR_CAPTURE_MAX, &o->capture_every);
	case OPT_CAP_MAX:
		return parse_long(arg, 1, UR_CAPTURE_MAX, &o->capture_max);
	case OPT_REPLAY_AFTER:
		return parse_long(arg, 0, UR_CAPTURE_MAX, &o->replay_after);
	case OPT_REPLAY_SRC:
		return parse_src(arg, &o->replay_src);
	case OPT_RECORD:
		o->record = arg;
		return true;
	case OPT_INJECT:
		o->inject = arg;
		o->payload = PAY_INJECT;
		return true;
	case OPT_FLOOD:
		o->payload = strcmp(arg, "garbage") == 0 ? PAY_GARBAGE :
		    PAY_HEADER;
		return strcmp(arg, "garbage") == 0 ||
		    strcmp(arg, "header") == 0;
	case OPT_RID: {
		char *end;
		unsigned long long hex;

		errno = 0;
		hex = strtoull(arg, &end, 16);
		if (errno != 0 || end == arg || *end != '\0' || hex == 0 ||
		    hex > UINT32_MAX || arg[0] == '-' || arg[0] == '+')
			return false;
		o->rid = (uint32_t)hex;
		return true;
	}
	case OPT_EPOCH:
		return parse_long(arg, 0, 255, &o->epoch);
	}
	return false;
}

/* The whole command line; 0, or 2 after a message (usage error). */
static int
opts_parse(struct opts *o, int argc, char **argv)
{
	unsigned seen[OPT_END - OPT_LISTEN] = { 0 };
	const char *name;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->faults[DIR_UP] = o->faults[DIR_DOWN] = true;
	o->reorder_depth = 3;
	o->reorder_timeout_ms = 50;
	o->max_clients = UR_DEF_CLIENTS;
	o->max_seconds = UR_DEF_SECONDS;
	o->interval_us = 100;
	o->stream = 1;
	o->capture_max = 100;
	o->replay_after = -1;
	while ((c = getopt_long(argc, argv, "", long_opts, &i)) != -1) {
		if (c < OPT_LISTEN || c >= OPT_END) {
			usage(stderr);
			return 2;
		}
		if (c == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		seen[c - OPT_LISTEN] = 1;
		if (!opt_one(o, c, optarg)) {
			fprintf(stderr, "udprelay: bad --%s '%s'\n",
			    long_opts[i].name, optarg);
			return 2;
		}
	}
	/* OPT_LISTEN - OPT_LISTEN on purpose, like every seen[] index. */
	/* cppcheck-suppress duplicateExpression */
	if (optind != argc || seen[OPT_LISTEN - OPT_LISTEN] +
	    seen[OPT_SEND - OPT_LISTEN] + seen[OPT_SINK - OPT_LISTEN] != 1) {
		usage(stderr);
		return 2;
	}
	o->mode = seen[OPT_SEND - OPT_LISTEN] ? MODE_SEND :
	    seen[OPT_SINK - OPT_LISTEN] ? MODE_SINK : MODE_RELAY;
	for (c = 0; c < OPT_END - OPT_LISTEN; c++) {
		if (!seen[c] || (opt_modes[c] & (1u << o->mode)))
			continue;
		for (i = 0; long_opts[i].name != NULL; i++)
			if (long_opts[i].val == c + OPT_LISTEN)
				break;
		name = long_opts[i].name;
		fprintf(stderr, "udprelay: --%s does not apply here\n", name);
		return 2;
	}
	if (o->mode == MODE_RELAY && !o->to.set) {
		fprintf(stderr, "udprelay: --to is required\n");
		return 2;
	}
#define SEEN(opt) seen[(opt) - OPT_LISTEN]
	if (o->mode == MODE_SEND && o->payload == PAY_NUMBERED &&
	    (!SEEN(OPT_COUNT) || !SEEN(OPT_SIZE))) {
		fprintf(stderr, "udprelay: --send needs --count and --size\n");
		return 2;
	}
	/* What each kind of --send takes, so that nothing is ignored. */
	if (o->mode == MODE_SEND && (SEEN(OPT_INJECT) + SEEN(OPT_FLOOD) > 1 ||
	    (o->payload == PAY_INJECT && (SEEN(OPT_COUNT) || SEEN(OPT_SIZE) ||
	    SEEN(OPT_SEED))) ||
	    (o->payload >= PAY_GARBAGE && !SEEN(OPT_COUNT)) ||
	    (o->payload != PAY_NUMBERED && SEEN(OPT_STREAM)) ||
	    (o->payload == PAY_NUMBERED && SEEN(OPT_SEED)) ||
	    (o->payload == PAY_HEADER && SEEN(OPT_SIZE)) ||
	    (o->payload == PAY_HEADER) != SEEN(OPT_RID) ||
	    (o->payload != PAY_HEADER && SEEN(OPT_EPOCH)))) {
		fprintf(stderr, "udprelay: --inject takes no --count, --size "
		    "or --seed; --flood needs --count; --stream is for "
		    "numbered datagrams, --seed for a flood, --size for "
		    "garbage; --rid and --epoch go with --flood header\n");
		return 2;
	}
	if (o->payload == PAY_GARBAGE && !SEEN(OPT_SIZE))
		o->size = UR_FLOOD_SIZE;
	if ((SEEN(OPT_CAP_EVERY) || SEEN(OPT_CAP_MAX) ||
	    SEEN(OPT_REPLAY_SRC)) && !SEEN(OPT_REPLAY_AFTER) &&
	    !SEEN(OPT_RECORD)) {
		fprintf(stderr, "udprelay: capturing needs --replay-after or "
		    "--record\n");
		return 2;
	}
	if (SEEN(OPT_REPLAY_SRC) && !SEEN(OPT_REPLAY_AFTER)) {
		fprintf(stderr, "udprelay: --replay-src needs --replay-after\n");
		return 2;
	}
	if (SEEN(OPT_REPLAY_AFTER) || SEEN(OPT_RECORD))
		o->capture_every = SEEN(OPT_CAP_EVERY) ? o->capture_every : 1;
	else
		o->capture_every = 0;
	if (o->replay_src.set && o->replay_src.ss.ss_family !=
	    o->to.ss.ss_family) {
		fprintf(stderr, "udprelay: --replay-src and --to differ in "
		    "address family\n");
		return 2;
	}
#undef SEEN
	if (o->mode == MODE_SEND && o->bind.set &&
	    o->bind.ss.ss_family != o->send.ss.ss_family) {
		fprintf(stderr, "udprelay: --bind and --send differ in "
		    "address family\n");
		return 2;
	}
	for (i = 0; i < o->nsrc; i++)
		if (o->src[i].ss.ss_family != o->to.ss.ss_family) {
			fprintf(stderr, "udprelay: --src and --to differ in "
			    "address family\n");
			return 2;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int r;

	setvbuf(stderr, NULL, _IOLBF, 0);
	r = opts_parse(&o, argc, argv);
	if (r != 0)
		return r;
	switch (o.mode) {
	case MODE_SEND:
		if (o.payload != PAY_NUMBERED)
			return blast_main(&o);
		return send_main(&o);
	case MODE_SINK:
		return sink_main(&o);
	default:
		return relay_main(&o);
	}
}
