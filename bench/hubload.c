/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hubload: the load generator of the hub benchmark (bench/hub) and of
 * tests/integration/hub_churn.sh.  One process, one event loop, many
 * native tapline client sessions against one real server, so that what
 * is measured is the server's cost and not that of a thousand client
 * processes.  Each session does what a real client does, in the same
 * order (client.c, session.c, ctlmsg.c): a TCP connect from one of the
 * given source addresses, the TLS 1.3 external-PSK handshake with the
 * session's key (handshake.c's client context, PSK and identity), the
 * checks of the finished handshake, HELLO with the host's self tag as
 * receiver id, the server's HELLO_ACK, then in UDP mode the data channel
 * keyed from the TLS exporter (udpchan.c) and a sealed keepalive at once
 * and every keepalive interval after, a KEEPALIVE frame on the TLS
 * stream as often, REKEY when the epoch is due.  It makes no device: it
 * only speaks the protocol.
 *
 *   hubload --server ADDR:PORT --sessions N --keys DIR --src ADDR[-LAST]...
 *	[--prefix P] [--churn K] [--rounds R] [--gap S] [--hold S]
 *	[--drop kill|close] [--deadline S] [--attempt-timeout S]
 *	[--inflight N] [--per-src N] [--no-rate] [--keepalive S]
 *	[--seed N] [--out FILE.csv] [--status FILE] [--max-seconds S]
 *   hubload --genkeys --keys DIR --sessions N [--prefix P]
 *
 * Session i (1..N) is named P followed by i in at least 4 digits
 * ("hub0001"; P is "hub" by default) and reads its key from
 * DIR/<name>.key; --genkeys writes those files (bench/hub makes the
 * server's configuration with the same names).  Session i connects from
 * source address i mod (number of sources): --src may be repeated, and
 * "198.51.100.10-250" is a range of IPv4 addresses.
 *
 * Phases: "initial" brings all N up.  A "storm" then drops K sessions
 * at once (--drop kill: the connection closed without a TLS close, as
 * when a client dies; close: a CLOSE frame and a clean TLS close, as a
 * client that stops) and reconnects them at once.  --rounds R storms
 * come by themselves, each --gap seconds after every session was up
 * again; SIGUSR1 asks for one more at any time.  A phase ends when every
 * session it waits for is up; a session the server drops meanwhile
 * (lost) is waited for too.  A phase that is not done within --deadline
 * seconds fails: hubload then stops with status 1.
 *
 * Pacing: the server closes connections beyond its pre-authentication
 * caps (preauth.h: per source, per /24 or /48, in all) and beyond a
 * token bucket per source.  hubload keeps at most --inflight
 * connections (default 24) and --per-src per source (default 4)
 * between the connect and the server's HELLO_ACK (our end of the
 * handshake finishes before the server has read our Finished, all the
 * more when its loop is busy), and mirrors the server's bucket per
 * source with the same code (preauth_rate_take) unless --no-rate; what
 * is left is the server's own speed.
 *
 * Output: a line per phase on stdout; with --out a CSV row per phase
 * (header written to an empty file): phase, round, sessions, target
 * (sessions the phase waited for), established, lost, attempts,
 * failures, seconds (until all were up), per_second
 * (established / seconds), attempt_p50_ms, attempt_p99_ms,
 * attempt_max_ms (connect to HELLO_ACK of the attempt that succeeded),
 * complete (1/0) and the failure reasons with their counts.
 * --status FILE is rewritten at each change of phase, "key=value" lines:
 * state (initial, storm, idle, failed, done), rounds (storms finished),
 * up, sessions, lost, udp_answered (sessions that got a datagram from
 * the server).  Without --rounds, hubload holds the sessions until
 * SIGTERM or SIGINT (or --hold S seconds); with them it stops after the
 * last (or --hold S seconds later).  Every run ends within --max-seconds
 * (default 3600).  Exit status: 0, 1 when a phase failed, was cut short
 * or a setup step failed, 2 on usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "frame.h"
#include "handshake.h"
#include "key.h"
#include "log.h"
#include "pkt.h"
#include "preauth.h"
#include "seal.h"
#include "stream.h"
#include "udpchan.h"
#include "util.h"
#include "wire.h"

#define HL_MAX_SESSIONS 100000
/* The server tracks the rate of this many sources; so do we. */
#define HL_MAX_SRC PREAUTH_RATE_SLOTS
#define HL_NAME_MAX 64
#define HL_TICK_MS 50
#define HL_CONNECT_MS 5000
#define HL_BACKOFF_MIN_MS 250
#define HL_BACKOFF_MAX_MS 4000
#define HL_DGRAM_MAX 2048
#define HL_RX_BATCH 64
#define HL_REASONS 16
#define HL_REASON_LEN 120
/* Below the server's caps (preauth.h), with room for the probe client
 * and for the moment between our end of the handshake and the server's. */
#define HL_INFLIGHT_DEFAULT 24
#define HL_PER_SRC_DEFAULT 4

struct hl_opts {
	struct sockaddr_storage server;
	socklen_t serverlen;
	unsigned sessions;
	const char *keys;
	const char *prefix;
	unsigned churn;
	unsigned rounds;
	double gap_s;
	double hold_s;		/* < 0: until a signal (rounds 0) or 0 */
	bool drop_close;
	double deadline_s;
	double attempt_s;
	unsigned inflight;
	unsigned per_src;
	bool rate;
	unsigned keepalive_s;
	uint32_t seed;
	const char *out;
	const char *status;
	double max_s;
	bool genkeys;
};

struct hl_hub;
struct hl_sess;

/* One local source address and the UDP socket its sessions share. */
struct hl_src {
	struct hl_hub *hub;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct preauth_addr pa;
	int ufd;
	struct event *uev;
	unsigned inflight;
	struct hl_sess **sess;	/* the sessions that use it */
	size_t nsess;
};

/*
 * One connection attempt.  The stream's callbacks get the connection,
 * not the session, so that a connection the session has let go of (a
 * drop, a failure) can still report its end and be freed, always
 * outside the stream's own callbacks.
 */
struct hl_conn {
	struct hl_hub *hub;
	struct hl_sess *s;	/* NULL once let go */
	int fd;			/* until the stream owns it */
	struct event *cev;	/* waiting for the TCP connect */
	struct stream *t;
	bool reaping;
	TAILQ_ENTRY(hl_conn) entry;	/* on the reap list */
	TAILQ_ENTRY(hl_conn) all;	/* every connection not freed */
};

enum hl_state {
	HL_WAIT,	/* not wanted, or backing off until retry_ms */
	HL_QUEUED,	/* waiting for its turn to connect */
	HL_CONNECTING,
	HL_TLS,
	HL_HELLO,	/* HELLO sent, waiting for HELLO_ACK */
	HL_UP,
};

struct hl_sess {
	struct hl_hub *hub;
	unsigned idx;
	char name[HL_NAME_MAX];
	struct handshake_client *hc;
	struct hl_src *src;
	enum hl_state state;
	struct hl_conn *conn;
	struct udp_chan *chan;
	uint32_t my_rid;
	struct sockaddr_storage udp_peer;
	socklen_t udp_peerlen;
	uint64_t attempt_ms;	/* the attempt started (connect) */
	uint64_t deadline_ms;	/* the attempt fails after this */
	uint64_t retry_ms;	/* HL_WAIT: queue again at this time, or 0 */
	uint64_t next_ka_ms;
	unsigned fails;		/* attempts failed in a row */
	bool inflight;		/* counted against the pacing caps */
	bool in_phase;		/* the phase waits for this one */
	bool answered;		/* a datagram from the server opened */
	TAILQ_ENTRY(hl_sess) qentry;
};

struct hl_reason {
	char text[HL_REASON_LEN];
	unsigned n;
};

struct hl_phase {
	const char *name;	/* "initial", "storm"; NULL: none running */
	unsigned round;
	uint64_t start_ms;
	unsigned target;	/* sessions waited for */
	unsigned pending;	/* of them not up yet */
	unsigned established;
	unsigned lost;
	unsigned attempts;
	unsigned failures;
	struct hl_reason reasons[HL_REASONS];
	unsigned nreasons;
	unsigned other;		/* failures whose reason found no room */
	uint32_t *lat_ms;	/* per established session; N entries */
};

struct hl_hub {
	struct hl_opts o;
	struct event_base *base;
	struct hl_sess *sess;
	struct hl_src *src;
	size_t nsrc;
	struct preauth_rate rate;
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, hl_sess) queue;
	/* To be freed, outside the callbacks of their streams. */
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, hl_conn) reap;
	/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
	TAILQ_HEAD(, hl_conn) conns;
	struct log_ratelimit rl_udp;
	unsigned inflight;
	unsigned up;
	unsigned answered;
	unsigned lost_idle;	/* dropped by the server between phases */
	struct event *tick;
	struct event *kick;
	struct event *reaper;
	struct event *sigusr1, *sigterm, *sigint;
	struct hl_phase ph;
	unsigned rounds_done;
	unsigned storms_asked;	/* SIGUSR1 */
	uint64_t idle_since_ms;
	uint64_t start_ms;
	struct seal_limits lim;
	/* The streams' DATA extent, which they share as a daemon's do;
	 * the generator stages no DATA, only control frames. */
	struct stream_stage stage;
	uint32_t rng;
	FILE *csv;
	int exit_code;
	bool stopping;
};

static void hl_kick(struct hl_hub *);
static void hl_sess_failed(struct hl_sess *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void hl_sess_lost(struct hl_sess *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void hl_vfail(struct hl_sess *, bool, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/* --- Options ------------------------------------------------------------ */

static void
hl_usage(void)
{
	fprintf(stderr,
	    "usage: hubload --server ADDR:PORT --sessions N --keys DIR "
	    "--src ADDR[-LAST]...\n"
	    "\t[--prefix P] [--churn K] [--rounds R] [--gap S] [--hold S]\n"
	    "\t[--drop kill|close] [--deadline S] [--attempt-timeout S]\n"
	    "\t[--inflight N] [--per-src N] [--no-rate] [--keepalive S]\n"
	    "\t[--seed N] [--out FILE.csv] [--status FILE] "
	    "[--max-seconds S]\n"
	    "       hubload --genkeys --keys DIR --sessions N [--prefix P]\n");
	exit(2);
}

static void
hl_bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "hubload: %s '%s': %s\n", opt, val, why);
	exit(2);
}

static unsigned
hl_uint(const char *opt, const char *s, unsigned min, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		char why[80];

		snprintf(why, sizeof(why), "not a whole number in %u..%u",
		    min, max);
		hl_bad(opt, s, why);
	}
	return (unsigned)v;
}

static double
hl_secs(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < min || v > max) {
		char why[80];

		snprintf(why, sizeof(why), "not a number of seconds in "
		    "%g..%g", min, max);
		hl_bad(opt, s, why);
	}
	return v;
}

/* ADDR (port 0) or ADDR:PORT / [ADDR]:PORT into ss. */
static int
hl_parse_addr(const char *s, bool want_port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *p;
	unsigned long port = 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char *end;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	n = strlen(s);
	if (want_port) {
		if ((p = strrchr(s, ':')) == NULL)
			return -1;
		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
			return -1;
		n = (size_t)(p - s);
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;
			n -= 2;
		}
	}
	if (n == 0 || n >= sizeof(host))
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

/* Add one source address. */
static void
hl_add_src(struct hl_hub *hub, const char *arg,
    const struct sockaddr_storage *ss, socklen_t len)
{
	struct hl_src *src;

	if (hub->nsrc >= HL_MAX_SRC) {
		char why[64];

		snprintf(why, sizeof(why), "more than %d source addresses",
		    HL_MAX_SRC);
		hl_bad("--src", arg, why);
	}
	src = &hub->src[hub->nsrc++];
	memset(src, 0, sizeof(*src));
	src->hub = hub;
	src->sa = *ss;
	src->salen = len;
	src->ufd = -1;
	preauth_addr_from(&src->pa, (const struct sockaddr *)ss);
}

/* --src ADDR, or an IPv4 range A.B.C.D-E or A.B.C.D-A.B.C.E. */
static void
hl_parse_src(struct hl_hub *hub, const char *arg)
{
	struct sockaddr_storage ss, last;
	socklen_t len, llen;
	char first[INET6_ADDRSTRLEN], lastbuf[INET6_ADDRSTRLEN + 16];
	const char *dash = strchr(arg, '-');
	uint32_t a, b, i;
	size_t n;

	if (dash == NULL) {
		if (hl_parse_addr(arg, false, &ss, &len) != 0)
			hl_bad("--src", arg, "not an IPv4 or IPv6 address");
		hl_add_src(hub, arg, &ss, len);
		return;
	}
	n = (size_t)(dash - arg);
	if (n >= sizeof(first))
		hl_bad("--src", arg, "not an address range");
	memcpy(first, arg, n);
	first[n] = '\0';
	if (hl_parse_addr(first, false, &ss, &len) != 0 ||
	    ss.ss_family != AF_INET)
		hl_bad("--src", arg, "a range must start with an IPv4 address");
	a = ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
	if (strchr(dash + 1, '.') == NULL) {
		/* The last octet alone. */
		snprintf(lastbuf, sizeof(lastbuf), "%u.%u.%u.%s", a >> 24,
		    (a >> 16) & 0xff, (a >> 8) & 0xff, dash + 1);
	} else {
		util_strlcpy(lastbuf, dash + 1, sizeof(lastbuf));
	}
	if (hl_parse_addr(lastbuf, false, &last, &llen) != 0 ||
	    last.ss_family != AF_INET)
		hl_bad("--src", arg, "not an IPv4 address range");
	b = ntohl(((struct sockaddr_in *)&last)->sin_addr.s_addr);
	if (b < a || b - a >= HL_MAX_SRC)
		hl_bad("--src", arg, "an empty or too long range");
	for (i = a;; i++) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(i);
		hl_add_src(hub, arg, &ss, len);
		if (i == b)
			break;
	}
}

static void
hl_parse(struct hl_hub *hub, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "keys", required_argument, NULL, 'k' },
		{ "src", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "churn", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "gap", required_argument, NULL, 'g' },
		{ "hold", required_argument, NULL, 'H' },
		{ "drop", required_argument, NULL, 'd' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "attempt-timeout", required_argument, NULL, 'A' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "per-src", required_argument, NULL, 'P' },
		{ "no-rate", no_argument, NULL, 'R' },
		{ "keepalive", required_argument, NULL, 'K' },
		{ "seed", required_argument, NULL, 'x' },
		{ "out", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 'u' },
		{ "max-seconds", required_argument, NULL, 'M' },
		{ "genkeys", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hl_opts *o = &hub->o;
	bool have_server = false;
	int ch;

	*o = (struct hl_opts){ .prefix = "hub", .gap_s = 2, .hold_s = -1,
		.deadline_s = 120, .attempt_s = 25,
		.inflight = HL_INFLIGHT_DEFAULT,
		.per_src = HL_PER_SRC_DEFAULT, .rate = true, .keepalive_s = 10,
		.seed = 1, .max_s = 3600 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (hl_parse_addr(optarg, true, &o->server,
			    &o->serverlen) != 0)
				hl_bad("--server", optarg, "not ADDR:PORT");
			have_server = true;
			break;
		case 'n':
			o->sessions = hl_uint("--sessions", optarg, 1,
			    HL_MAX_SESSIONS);
			break;
		case 'k':
			o->keys = optarg;
			break;
		case 's':
			hl_parse_src(hub, optarg);
			break;
		case 'p':
			o->prefix = optarg;
			break;
		case 'c':
			o->churn = hl_uint("--churn", optarg, 0,
			    HL_MAX_SESSIONS);
			break;
		case 'r':
			o->rounds = hl_uint("--rounds", optarg, 0, 100000);
			break;
		case 'g':
			o->gap_s = hl_secs("--gap", optarg, 0, 86400);
			break;
		case 'H':
			o->hold_s = hl_secs("--hold", optarg, 0, 86400 * 30);
			break;
		case 'd':
			if (strcmp(optarg, "kill") == 0)
				o->drop_close = false;
			else if (strcmp(optarg, "close") == 0)
				o->drop_close = true;
			else
				hl_bad("--drop", optarg, "not kill or close");
			break;
		case 'D':
			o->deadline_s = hl_secs("--deadline", optarg, 0.1,
			    86400);
			break;
		case 'A':
			o->attempt_s = hl_secs("--attempt-timeout", optarg,
			    0.1, 3600);
			break;
		case 'i':
			o->inflight = hl_uint("--inflight", optarg, 1, 65536);
			break;
		case 'P':
			o->per_src = hl_uint("--per-src", optarg, 1, 65536);
			break;
		case 'R':
			o->rate = false;
			break;
		case 'K':
			o->keepalive_s = hl_uint("--keepalive", optarg, 1,
			    3600);
			break;
		case 'x':
			o->seed = hl_uint("--seed", optarg, 0, UINT_MAX);
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'u':
			o->status = optarg;
			break;
		case 'M':
			o->max_s = hl_secs("--max-seconds", optarg, 1,
			    86400 * 30);
			break;
		case 'G':
			o->genkeys = true;
			break;
		default:
			hl_usage();
		}
	}
	if (optind != argc || o->keys == NULL || o->sessions == 0)
		hl_usage();
	if (strlen(o->prefix) == 0 || strlen(o->prefix) > 40 ||
	    strspn(o->prefix, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(o->prefix) ||
	    !((o->prefix[0] >= 'a' && o->prefix[0] <= 'z') ||
	    (o->prefix[0] >= 'A' && o->prefix[0] <= 'Z')))
		hl_bad("--prefix", o->prefix, "a letter, then up to 39 "
		    "letters, digits, '-' or '_'");
	if (o->genkeys)
		return;
	if (!have_server || hub->nsrc == 0)
		hl_usage();
	if (o->churn > o->sessions) {
		char n[16];

		snprintf(n, sizeof(n), "%u", o->churn);
		hl_bad("--churn", n, "more than --sessions");
	}
	for (size_t i = 0; i < hub->nsrc; i++)
		if (hub->src[i].sa.ss_family != o->server.ss_family)
			hl_bad("--src", "...", "every source must be of the "
			    "server address's family");
}

/* The name of session i (0-based): prefix and i + 1 in 4 digits or more. */
static void
hl_name(const struct hl_opts *o, unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "%s%04u", o->prefix, i + 1);
}

/* --genkeys: a key file per session; existing ones are kept. */
static int
hl_genkeys(const struct hl_opts *o)
{
	uint8_t key[KEY_LEN];
	char name[HL_NAME_MAX], path[PATH_MAX], err[256];
	unsigned i, made = 0;

	for (i = 0; i < o->sessions; i++) {
		hl_name(o, i, name, sizeof(name));
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", o->keys,
		    name) >= sizeof(path)) {
			fprintf(stderr, "hubload: %s: path too long\n",
			    o->keys);
			return 1;
		}
		if (access(path, F_OK) == 0)
			continue;
		if (key_generate(key, err, sizeof(err)) != 0 ||
		    key_write_file(path, key, err, sizeof(err)) != 0) {
			OPENSSL_cleanse(key, sizeof(key));
			fprintf(stderr, "hubload: %s: %s\n", path, err);
			return 1;
		}
		made++;
	}
	OPENSSL_cleanse(key, sizeof(key));
	printf("hubload: %u key files in %s (%u new)\n", o->sessions, o->keys,
	    made);
	return 0;
}

/* --- Phases and reports ------------------------------------------------- */

static uint32_t
hl_rand(struct hl_hub *hub)
{
	/* xorshift32: reproducible choices for a given --seed. */
	uint32_t x = hub->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	hub->rng = x;
	return x;
}

static void
hl_status(struct hl_hub *hub, const char *state)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (hub->o.status == NULL)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", hub->o.status) >=
	    sizeof(tmp))
		return;
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warnx("%s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "state=%s\nrounds=%u\nup=%u\nsessions=%u\nlost=%u\n"
	    "udp_answered=%u\n", state, hub->rounds_done, hub->up,
	    hub->o.sessions, hub->lost_idle, hub->answered);
	if (fclose(f) != 0 || rename(tmp, hub->o.status) != 0)
		log_warnx("%s: %s", hub->o.status, strerror(errno));
}

/* Count a failed attempt under its reason (the first HL_REASONS kinds). */
static void
hl_phase_fail(struct hl_hub *hub, const char *why)
{
	struct hl_phase *ph = &hub->ph;
	unsigned i;

	if (ph->name == NULL)
		return;
	ph->failures++;
	for (i = 0; i < ph->nreasons; i++)
		if (strcmp(ph->reasons[i].text, why) == 0)
			break;
	if (i == ph->nreasons) {
		if (i == HL_REASONS) {
			ph->other++;
			return;
		}
		util_strlcpy(ph->reasons[i].text, why,
		    sizeof(ph->reasons[i].text));
		ph->nreasons++;
	}
	ph->reasons[i].n++;
}

static int
hl_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values (0 for none). */
static uint32_t
hl_pct(const uint32_t *v, size_t n, unsigned p)
{
	size_t r;

	if (n == 0)
		return 0;
	r = ((size_t)p * n + 99) / 100;
	return v[r == 0 ? 0 : r - 1];
}

/* The phase is over (complete or not): report it. */
static void
hl_phase_end(struct hl_hub *hub, bool complete)
{
	struct hl_phase *ph = &hub->ph;
	uint64_t now = util_now_ms();
	double secs = (double)(now - ph->start_ms) / 1000.0;
	double rate = secs > 0 ? ph->established / secs : 0;
	uint32_t p50, p99, pmax;
	unsigned i;

	qsort(ph->lat_ms, ph->established, sizeof(ph->lat_ms[0]), hl_cmp_u32);
	p50 = hl_pct(ph->lat_ms, ph->established, 50);
	p99 = hl_pct(ph->lat_ms, ph->established, 99);
	pmax = ph->established > 0 ? ph->lat_ms[ph->established - 1] : 0;
	printf("hubload: %s", ph->name);
	if (ph->round > 0)
		printf(" %u", ph->round);
	printf(": %u of %u up in %.3f s (%.1f/s)%s; %u lost, %u attempts, "
	    "%u failed; attempt ms p50 %u p99 %u max %u\n", ph->established,
	    ph->target, secs, rate, complete ? "" : " (NOT COMPLETE)",
	    ph->lost, ph->attempts, ph->failures, p50, p99, pmax);
	for (i = 0; i < ph->nreasons; i++)
		printf("hubload:   %u x %s\n", ph->reasons[i].n,
		    ph->reasons[i].text);
	if (ph->other > 0)
		printf("hubload:   %u x other reasons\n", ph->other);
	fflush(stdout);
	if (hub->csv != NULL) {
		fprintf(hub->csv, "%s,%u,%u,%u,%u,%u,%u,%u,%.3f,%.1f,%u,%u,%u,"
		    "%d,\"", ph->name, ph->round, hub->o.sessions, ph->target,
		    ph->established, ph->lost, ph->attempts, ph->failures, secs,
		    rate, p50, p99, pmax, complete ? 1 : 0);
		for (i = 0; i < ph->nreasons; i++) {
			const char *c;

			fprintf(hub->csv, "%s%u x ", i > 0 ? "; " : "",
			    ph->reasons[i].n);
			/* CSV: a quote inside the field is doubled. */
			for (c = ph->reasons[i].text; *c != '\0'; c++) {
				if (*c == '"')
					fputc('"', hub->csv);
				fputc(*c, hub->csv);
			}
		}
		if (ph->other > 0)
			fprintf(hub->csv, "%s%u x other", ph->nreasons > 0 ?
			    "; " : "", ph->other);
		fprintf(hub->csv, "\"\n");
		fflush(hub->csv);
	}
	if (ph->round > 0 && complete)
		hub->rounds_done = ph->round;
	ph->name = NULL;
	hub->idle_since_ms = now;
	if (!complete) {
		hub->exit_code = 1;
		hl_status(hub, "failed");
		hub->stopping = true;
		event_base_loopexit(hub->base, NULL);
		return;
	}
	hl_status(hub, "idle");
}

static void
hl_phase_begin(struct hl_hub *hub, const char *name, unsigned round)
{
	struct hl_phase *ph = &hub->ph;
	uint32_t *lat = ph->lat_ms;

	*ph = (struct hl_phase){ .name = name, .round = round,
		.start_ms = util_now_ms(), .lat_ms = lat };
	hl_status(hub, name);
}

/* The phase waits for s from now on. */
static void
hl_phase_add(struct hl_hub *hub, struct hl_sess *s)
{
	if (hub->ph.name == NULL || s->in_phase)
		return;
	s->in_phase = true;
	hub->ph.target++;
	hub->ph.pending++;
}

/* --- Connections --------------------------------------------------------- */

static void
hl_reap(struct hl_conn *c)
{
	if (c->reaping)
		return;
	c->reaping = true;
	TAILQ_INSERT_TAIL(&c->hub->reap, c, entry);
	event_active(c->hub->reaper, EV_TIMEOUT, 1);
}

static void
hl_conn_free(struct hl_conn *c)
{
	TAILQ_REMOVE(&c->hub->conns, c, all);
	if (c->cev != NULL)
		event_free(c->cev);
	if (c->t != NULL)
		stream_free(c->t);
	else if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Freed here, outside every callback of the stream. */
static void
hl_reapcb(evutil_socket_t fd, short what, void *arg)
{
	struct hl_hub *hub = arg;
	struct hl_conn *c;

	while ((c = TAILQ_FIRST(&hub->reap)) != NULL) {
		TAILQ_REMOVE(&hub->reap, c, entry);
		hl_conn_free(c);
	}
}

/*
 * The session lets its connection go: closed at once (as by a client
 * that dies), or with a CLOSE frame and a clean TLS close, after which
 * the stream's end frees it.
 */
static void
hl_conn_letgo(struct hl_conn *c, bool clean)
{
	uint8_t body[1 + WIRE_CLOSE_MSG_MAX];
	size_t len;

	if (c == NULL)
		return;
	c->s = NULL;
	if (clean && c->t != NULL && frame_close_encode(WIRE_CLOSE_SHUTDOWN,
	    "client stopping", body, sizeof(body), &len) == 0 &&
	    stream_send(c->t, WIRE_CLOSE, 0, body, len) == 0) {
		stream_close(c->t);
		return;
	}
	hl_reap(c);
}

/* --- Sessions ------------------------------------------------------------ */

static void
hl_release_inflight(struct hl_sess *s)
{
	if (!s->inflight)
		return;
	s->inflight = false;
	s->src->inflight--;
	s->hub->inflight--;
	event_active(s->hub->kick, EV_TIMEOUT, 1);
}

static void
hl_enqueue(struct hl_sess *s)
{
	s->state = HL_QUEUED;
	s->retry_ms = 0;
	TAILQ_INSERT_TAIL(&s->hub->queue, s, qentry);
	event_active(s->hub->kick, EV_TIMEOUT, 1);
}

/* Whatever the session holds of its connection and data channel. */
static void
hl_sess_reset(struct hl_sess *s, bool clean)
{
	hl_release_inflight(s);
	udp_chan_free(s->chan);
	s->chan = NULL;
	hl_conn_letgo(s->conn, clean);
	s->conn = NULL;
	if (s->state == HL_UP)
		s->hub->up--;
	if (s->state == HL_QUEUED)
		TAILQ_REMOVE(&s->hub->queue, s, qentry);
	s->state = HL_WAIT;
}

static void
hl_vfail(struct hl_sess *s, bool lost, const char *fmt, va_list ap)
{
	struct hl_hub *hub = s->hub;
	char why[HL_REASON_LEN];
	uint64_t back;

	vsnprintf(why, sizeof(why), fmt, ap);
	if (lost) {
		log_notice("%s: lost: %s", s->name, why);
		if (hub->ph.name != NULL) {
			hub->ph.lost++;
			hl_phase_add(hub, s);
		} else {
			hub->lost_idle++;
		}
		s->fails = 0;
	} else {
		log_info("%s: attempt failed: %s", s->name, why);
		hl_phase_fail(hub, why);
	}
	hl_sess_reset(s, false);
	/* As a client would: again soon, later after more failures. */
	back = lost ? 0 : (uint64_t)HL_BACKOFF_MIN_MS << (s->fails < 4 ?
	    s->fails : 4);
	if (back > HL_BACKOFF_MAX_MS)
		back = HL_BACKOFF_MAX_MS;
	if (!lost && s->fails < UINT_MAX)
		s->fails++;
	if (hub->stopping)
		return;
	if (back == 0) {
		hl_enqueue(s);
		return;
	}
	s->retry_ms = util_now_ms() + back + hl_rand(hub) % HL_BACKOFF_MIN_MS;
}

static void
hl_sess_failed(struct hl_sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hl_vfail(s, false, fmt, ap);
	va_end(ap);
}

static void
hl_sess_lost(struct hl_sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hl_vfail(s, true, fmt, ap);
	va_end(ap);
}

/* A sealed keepalive to the server, as session_udp_client_start sends. */
static void
hl_send_keepalive(struct hl_sess *s, uint64_t now)
{
	uint8_t buf[WIRE_UDP_PAYLOAD_OFF + WIRE_UDP_TAG_LEN + 16];
	size_t outlen;

	if (s->chan == NULL || udp_chan_seal(s->chan, WIRE_INNER_KEEPALIVE,
	    buf, sizeof(buf), 0, &outlen, now) != 0)
		return;
	if (sendto(s->src->ufd, buf, outlen, 0,
	    (struct sockaddr *)&s->udp_peer, s->udp_peerlen) < 0)
		log_rl(&s->hub->rl_udp, LOG_WARNING, "%s: udp send: %s",
		    s->name,
		    strerror(errno));
}

static void
hl_sess_up(struct hl_sess *s)
{
	struct hl_hub *hub = s->hub;
	uint64_t now = util_now_ms();

	/* Only now has the server surely counted the handshake as done:
	 * our end of TLS finishes before it has read our Finished. */
	hl_release_inflight(s);
	s->state = HL_UP;
	s->fails = 0;
	hub->up++;
	s->next_ka_ms = now + (uint64_t)hub->o.keepalive_s * 1000;
	if (hub->ph.name != NULL && s->in_phase) {
		s->in_phase = false;
		hub->ph.lat_ms[hub->ph.established++] =
		    (uint32_t)(now - s->attempt_ms);
		if (--hub->ph.pending == 0)
			hl_phase_end(hub, true);
	}
}

/* The server's decision; then the data channel as a client starts it. */
static int
hl_rx_hello_ack(struct hl_sess *s, const struct frame_hdr *fh,
    const uint8_t *body)
{
	struct hl_hub *hub = s->hub;
	struct frame_hello h;
	char err[200];
	SSL *ssl = stream_ssl(s->conn->t);

	if (frame_hello_decode(body, fh->len, &h, err, sizeof(err)) != 0 ||
	    frame_hello_ack_check(&h, err, sizeof(err)) != 0) {
		hl_sess_failed(s, "bad HELLO_ACK: %s", err);
		return -1;
	}
	if (fh->flags != 0) {
		hl_sess_failed(s, "bad HELLO_ACK: flags 0x%02x", fh->flags);
		return -1;
	}
	if (h.transport == WIRE_TRANSPORT_UDP) {
		if (h.udp_receiver_id == 0 || h.cipher == WIRE_CIPHER_AUTO) {
			hl_sess_failed(s, "bad HELLO_ACK: udp parameters");
			return -1;
		}
		memcpy(&s->udp_peer, &hub->o.server, hub->o.serverlen);
		s->udp_peerlen = hub->o.serverlen;
		if (h.udp_port != 0)
			((struct sockaddr_in *)&s->udp_peer)->sin_port =
			    htons(h.udp_port);
		s->chan = udp_chan_new(ssl, SEAL_ROLE_CLIENT, h.cipher,
		    s->my_rid, h.udp_receiver_id, &hub->lim, err, sizeof(err));
		if (s->chan == NULL) {
			hl_sess_failed(s, "udp setup: %s", err);
			return -1;
		}
	}
	hl_sess_up(s);
	hl_send_keepalive(s, util_now_ms());
	return 0;
}

/* A CLOSE from the server: its reason, escaped. */
static void
hl_rx_close(struct hl_sess *s, const uint8_t *body, size_t len)
{
	char msg[WIRE_CLOSE_MSG_MAX * 4 + 1], err[160];
	uint8_t reason;
	bool up = s->state == HL_UP;

	if (frame_close_decode(body, len, &reason, msg, sizeof(msg), err,
	    sizeof(err)) != 0) {
		if (up)
			hl_sess_lost(s, "server sent a bad CLOSE");
		else
			hl_sess_failed(s, "server sent a bad CLOSE");
		return;
	}
	if (up)
		hl_sess_lost(s, "server CLOSE: %s%s%s",
		    frame_close_reason_name(reason), msg[0] ? ": " : "", msg);
	else
		hl_sess_failed(s, "server CLOSE: %s%s%s",
		    frame_close_reason_name(reason), msg[0] ? ": " : "", msg);
}

static int
hl_framecb(void *arg, const struct frame_hdr *h, uint8_t *body)
{
	struct hl_conn *c = arg;
	struct hl_sess *s = c->s;
	char err[200];

	if (s == NULL)
		return 0;	/* let go: only its end matters */
	switch (h->type) {
	case WIRE_HELLO_ACK:
		if (s->state == HL_HELLO)
			return hl_rx_hello_ack(s, h, body);
		break;
	case WIRE_KEEPALIVE:
		return 0;
	case WIRE_CLOSE:
		hl_rx_close(s, body, h->len);
		return -1;
	case WIRE_REKEY_ACK:
		if (s->state != HL_UP || s->chan == NULL)
			break;
		if (udp_chan_rekey_finish(s->chan, body, h->len,
		    util_now_ms(), err, sizeof(err)) != 0) {
			hl_sess_lost(s, "bad REKEY_ACK: %s", err);
			return -1;
		}
		/* The server learns of the new epoch from this one. */
		hl_send_keepalive(s, util_now_ms());
		return 0;
	default:
		break;
	}
	if (s->state == HL_UP)
		hl_sess_lost(s, "unexpected %s frame", frame_type_name(h->type));
	else
		hl_sess_failed(s, "unexpected %s frame",
		    frame_type_name(h->type));
	return -1;
}

/* TLS is up: check it, then HELLO with our receiver id. */
static void
hl_connectedcb(void *arg)
{
	struct hl_conn *c = arg;
	struct hl_sess *s = c->s;
	struct frame_hello h;
	uint8_t body[WIRE_HELLO_LEN];
	const uint8_t *hk;
	char err[160];
	SSL *ssl;
	uint32_t tag = 0;

	if (s == NULL)
		return;
	ssl = stream_ssl(c->t);
	if (handshake_verify(ssl, err, sizeof(err)) != 0) {
		hl_sess_failed(s, "handshake check: %s", err);
		return;
	}
	/* What a real client sends: this host's tag for the connection
	 * (handshake.h), random when there is no host key. */
	hk = handshake_ssl_host_key(ssl);
	if (hk == NULL || handshake_self_tag(ssl, hk, &tag) != 0)
		while (tag == 0)
			if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
				tag = (uint32_t)util_now_ms() | 1;
	s->my_rid = tag;
	h = (struct frame_hello){ .version = WIRE_VERSION,
		.transport = WIRE_TRANSPORT_UDP, .type = WIRE_DEV_TUN,
		.cipher = WIRE_CIPHER_AUTO, .udp_receiver_id = s->my_rid };
	frame_hello_encode(&h, body);
	if (stream_send(c->t, WIRE_HELLO, 0, body, sizeof(body)) != 0) {
		hl_sess_failed(s, "cannot send HELLO");
		return;
	}
	s->state = HL_HELLO;
}

static void
hl_endedcb(void *arg, enum stream_end end, const char *why)
{
	struct hl_conn *c = arg;
	struct hl_sess *s = c->s;

	if (s == NULL) {
		hl_reap(c);
		return;
	}
	switch (s->state) {
	case HL_UP:
		hl_sess_lost(s, "connection ended: %s", why);
		break;
	case HL_HELLO:
		hl_sess_failed(s, "ended before HELLO_ACK: %s", why);
		break;
	default:
		hl_sess_failed(s, "%s: %s", end == STREAM_TLS ?
		    "handshake failed" : "ended in the handshake", why);
		break;
	}
}

static void
hl_drainedcb(void *arg)
{
}

static const struct stream_cbs hl_stream_cbs = {
	.connected = hl_connectedcb,
	.frame = hl_framecb,
	.drained = hl_drainedcb,
	.ended = hl_endedcb,
};

/* The TCP connect finished (or failed): TLS on top, as client.c does. */
static void
hl_tcpcb(evutil_socket_t fd, short what, void *arg)
{
	struct hl_conn *c = arg;
	struct hl_sess *s = c->s;
	struct bufferevent *bev;
	socklen_t len = sizeof(int);
	int err = 0;
	SSL *ssl;

	event_free(c->cev);
	c->cev = NULL;
	if (s == NULL) {
		hl_reap(c);
		return;
	}
	if (what & EV_TIMEOUT) {
		hl_sess_failed(s, "connect: no answer in %d s",
		    HL_CONNECT_MS / 1000);
		return;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		hl_sess_failed(s, "connect: %s", strerror(err));
		return;
	}
	ssl = handshake_client_ssl_new(s->hc);
	bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(s->hub->base,
	    c->fd, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		hl_sess_failed(s, "out of memory for TLS");
		return;
	}
	c->fd = -1;	/* the bufferevent's now */
	if ((c->t = stream_new(bev, &s->hub->stage, &hl_stream_cbs, c)) == NULL) {
		bufferevent_free(bev);
		hl_sess_failed(s, "out of memory for the stream");
		return;
	}
	s->state = HL_TLS;
}

/* One attempt: a non-blocking connect from the session's source. */
static void
hl_sess_start(struct hl_sess *s, uint64_t now)
{
	struct hl_hub *hub = s->hub;
	struct hl_conn *c;
	int fd, one = 1;

	s->attempt_ms = now;
	s->deadline_ms = now + (uint64_t)(hub->o.attempt_s * 1000);
	s->inflight = true;
	s->src->inflight++;
	hub->inflight++;
	if (hub->ph.name != NULL)
		hub->ph.attempts++;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		hl_sess_failed(s, "out of memory");
		return;
	}
	c->hub = hub;
	c->s = s;
	c->fd = -1;
	TAILQ_INSERT_TAIL(&hub->conns, c, all);
	s->conn = c;
	s->state = HL_CONNECTING;
	fd = socket(hub->o.server.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		hl_sess_failed(s, "socket: %s", strerror(errno));
		return;
	}
	c->fd = fd;
	/* The port is chosen at connect, per destination: many sessions
	 * share one source address. */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	if (bind(fd, (struct sockaddr *)&s->src->sa, s->src->salen) != 0) {
		hl_sess_failed(s, "bind: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&hub->o.server,
	    hub->o.serverlen) != 0 && errno != EINPROGRESS) {
		hl_sess_failed(s, "connect: %s", strerror(errno));
		return;
	}
	c->cev = event_new(hub->base, fd, EV_WRITE, hl_tcpcb, c);
	if (c->cev == NULL || event_add(c->cev, &(struct timeval){
	    .tv_sec = HL_CONNECT_MS / 1000,
	    .tv_usec = (HL_CONNECT_MS % 1000) * 1000 }) != 0)
		hl_sess_failed(s, "out of memory");
}

/*
 * Start queued sessions while the pacing allows: in flight in all and
 * per source, and a token of the source's bucket, as the server counts.
 */
static void
hl_kick(struct hl_hub *hub)
{
	struct hl_sess *s, *next;
	uint64_t now = util_now_ms();

	if (hub->stopping)
		return;
	for (s = TAILQ_FIRST(&hub->queue); s != NULL &&
	    hub->inflight < hub->o.inflight; s = next) {
		next = TAILQ_NEXT(s, qentry);
		if (s->src->inflight >= hub->o.per_src)
			continue;
		if (hub->o.rate && !preauth_rate_take(&hub->rate, &s->src->pa,
		    now))
			continue;
		TAILQ_REMOVE(&hub->queue, s, qentry);
		hl_sess_start(s, now);
	}
}

static void
hl_kickcb(evutil_socket_t fd, short what, void *arg)
{
	hl_kick(arg);
}

/* Datagrams from the server: the receiver id says whose. */
static void
hl_udpcb(evutil_socket_t fd, short what, void *arg)
{
	struct hl_src *src = arg;
	uint8_t buf[HL_DGRAM_MAX];
	struct seal_opened op;
	ssize_t n;
	uint32_t rid;
	size_t i;
	int k;

	for (k = 0; k < HL_RX_BATCH; k++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if ((size_t)n < WIRE_UDP_HDR_LEN)
			continue;
		rid = pkt_load32(buf + WIRE_UDP_OFF_RECEIVER);
		for (i = 0; i < src->nsess; i++) {
			struct hl_sess *s = src->sess[i];

			if (s->state != HL_UP || s->chan == NULL ||
			    s->my_rid != rid)
				continue;
			if (udp_chan_open(s->chan, buf, (size_t)n, sizeof(buf),
			    &op, util_now_ms()) == SEAL_OK && !s->answered) {
				s->answered = true;
				src->hub->answered++;
			}
			break;
		}
	}
}

/* --- The storm ----------------------------------------------------------- */

/* Drop K of the sessions that are up, at once, and queue them again. */
static void
hl_storm(struct hl_hub *hub)
{
	unsigned *up, nup = 0, k, i, j, t;
	struct hl_sess *s;

	if ((up = calloc(hub->o.sessions, sizeof(*up))) == NULL) {
		log_err("out of memory for a storm");
		return;
	}
	for (i = 0; i < hub->o.sessions; i++)
		if (hub->sess[i].state == HL_UP)
			up[nup++] = i;
	k = hub->o.churn < nup ? hub->o.churn : nup;
	if (nup < hub->o.churn)
		log_warnx("storm: only %u sessions are up, dropping those", nup);
	hl_phase_begin(hub, "storm", hub->rounds_done + 1);
	/* A partial Fisher-Yates shuffle picks k distinct sessions. */
	for (i = 0; i < k; i++) {
		j = i + hl_rand(hub) % (nup - i);
		t = up[i];
		up[i] = up[j];
		up[j] = t;
	}
	for (i = 0; i < k; i++) {
		s = &hub->sess[up[i]];
		hl_sess_reset(s, hub->o.drop_close);
		hl_phase_add(hub, s);
		s->fails = 0;
		hl_enqueue(s);
	}
	free(up);
	if (hub->ph.pending == 0)
		hl_phase_end(hub, true);
}

/* --- The tick ------------------------------------------------------------ */

static void
hl_stop(struct hl_hub *hub, const char *why)
{
	if (hub->stopping)
		return;
	log_notice("stopping: %s", why);
	if (hub->ph.name != NULL)
		hl_phase_end(hub, false);
	hub->stopping = true;
	hl_status(hub, hub->exit_code == 0 ? "done" : "failed");
	event_base_loopexit(hub->base, NULL);
}

/* Keepalives and rekeys of an established session, as a client's tick. */
static void
hl_sess_tick_up(struct hl_sess *s, uint64_t now)
{
	uint8_t body[UDP_REKEY_LEN];
	char err[200];

	if (s->chan != NULL && udp_chan_rekey_wanted(s->chan, now)) {
		if (udp_chan_rekey_start(s->chan, body, err, sizeof(err)) != 0)
			log_warnx("%s: rekey: %s", s->name, err);
		else
			(void)stream_send(s->conn->t, WIRE_REKEY, 0, body,
			    sizeof(body));
	}
	if (now < s->next_ka_ms)
		return;
	s->next_ka_ms = now + (uint64_t)s->hub->o.keepalive_s * 1000;
	hl_send_keepalive(s, now);
	if (s->chan != NULL)
		udp_chan_expire(s->chan, now);
	(void)stream_send(s->conn->t, WIRE_KEEPALIVE, 0, NULL, 0);
}

static void
hl_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct hl_hub *hub = arg;
	struct hl_sess *s;
	uint64_t now = util_now_ms();
	unsigned i;

	for (i = 0; i < hub->o.sessions && !hub->stopping; i++) {
		s = &hub->sess[i];
		switch (s->state) {
		case HL_WAIT:
			if (s->retry_ms != 0 && now >= s->retry_ms)
				hl_enqueue(s);
			break;
		case HL_CONNECTING:
		case HL_TLS:
		case HL_HELLO:
			if (now >= s->deadline_ms)
				hl_sess_failed(s, "%s not done in %g s",
				    s->state == HL_HELLO ? "HELLO_ACK" :
				    "handshake", hub->o.attempt_s);
			break;
		case HL_UP:
			hl_sess_tick_up(s, now);
			break;
		case HL_QUEUED:
			break;
		}
	}
	if (hub->stopping)
		return;
	if (hub->ph.name != NULL) {
		if (hub->ph.pending == 0)
			hl_phase_end(hub, true);
		else if (now - hub->ph.start_ms >
		    (uint64_t)(hub->o.deadline_s * 1000)) {
			log_err("%s: %u sessions not up after %g s",
			    hub->ph.name, hub->ph.pending, hub->o.deadline_s);
			hl_phase_end(hub, false);
		}
	}
	if (hub->stopping)
		return;
	if (now - hub->start_ms > (uint64_t)(hub->o.max_s * 1000)) {
		hub->exit_code = hub->ph.name != NULL ? 1 : hub->exit_code;
		hl_stop(hub, "--max-seconds reached");
		return;
	}
	if (hub->ph.name == NULL) {
		bool auto_due = hub->rounds_done < hub->o.rounds &&
		    now - hub->idle_since_ms >= (uint64_t)(hub->o.gap_s * 1000);

		if (hub->storms_asked > 0 || auto_due) {
			if (hub->storms_asked > 0)
				hub->storms_asked--;
			hl_storm(hub);
		} else if (hub->rounds_done >= hub->o.rounds &&
		    hub->o.hold_s >= 0 && now - hub->idle_since_ms >=
		    (uint64_t)(hub->o.hold_s * 1000)) {
			hl_stop(hub, hub->o.rounds > 0 ? "all rounds done" :
			    "held long enough");
			return;
		}
	}
	hl_kick(hub);
}

static void
hl_sigcb(evutil_socket_t sig, short what, void *arg)
{
	struct hl_hub *hub = arg;

	if (sig == SIGUSR1) {
		hub->storms_asked++;
		return;
	}
	if (hub->ph.name != NULL)
		log_warnx("%s interrupted", hub->ph.name);
	hl_stop(hub, strsignal((int)sig));
}

/* --- Setup --------------------------------------------------------------- */

/* Keys, client contexts and source addresses of every session. */
static int
hl_load(struct hl_hub *hub)
{
	const struct hl_opts *o = &hub->o;
	struct handshake_keys hk;
	uint8_t key[KEY_LEN];
	char path[PATH_MAX], err[256];
	unsigned i;

	for (i = 0; i < o->sessions; i++) {
		struct hl_sess *s = &hub->sess[i];

		s->hub = hub;
		s->idx = i;
		hl_name(o, i, s->name, sizeof(s->name));
		s->src = &hub->src[i % hub->nsrc];
		s->src->nsess++;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", o->keys,
		    s->name) >= sizeof(path)) {
			fprintf(stderr, "hubload: %s: path too long\n", o->keys);
			return -1;
		}
		if (key_read_file(path, key, err, sizeof(err)) != 0 ||
		    handshake_keys_from_base(key, s->name, &hk, err,
		    sizeof(err)) != 0) {
			OPENSSL_cleanse(key, sizeof(key));
			fprintf(stderr, "hubload: %s: %s\n", path, err);
			return -1;
		}
		OPENSSL_cleanse(key, sizeof(key));
		s->hc = handshake_client_new_keys(&hk, err, sizeof(err));
		handshake_keys_wipe(&hk);
		if (s->hc == NULL) {
			fprintf(stderr, "hubload: %s: %s\n", s->name, err);
			return -1;
		}
	}
	return 0;
}

/* A UDP socket per source address, bound to it as the TCP side is. */
static int
hl_sources(struct hl_hub *hub)
{
	char where[64];
	size_t i, j;

	for (i = 0; i < hub->nsrc; i++) {
		struct hl_src *src = &hub->src[i];

		src->sess = calloc(src->nsess > 0 ? src->nsess : 1,
		    sizeof(*src->sess));
		if (src->sess == NULL)
			return -1;
		src->nsess = 0;
		util_sockaddr_str((struct sockaddr *)&src->sa, where,
		    sizeof(where));
		src->ufd = socket(src->sa.ss_family, SOCK_DGRAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (src->ufd < 0 || bind(src->ufd, (struct sockaddr *)&src->sa,
		    src->salen) != 0) {
			fprintf(stderr, "hubload: udp socket on %s: %s\n", where,
			    strerror(errno));
			return -1;
		}
		src->uev = event_new(hub->base, src->ufd, EV_READ | EV_PERSIST,
		    hl_udpcb, src);
		if (src->uev == NULL || event_add(src->uev, NULL) != 0)
			return -1;
	}
	for (j = 0; j < hub->o.sessions; j++) {
		struct hl_src *src = hub->sess[j].src;

		src->sess[src->nsess++] = &hub->sess[j];
	}
	return 0;
}

/* Room for a socket per session and then some (the hard limit). */
static void
hl_nofile(unsigned sessions)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)sessions + HL_MAX_SRC + 64)
		log_warnx("the open files limit (%llu) is short of %u "
		    "sessions", (unsigned long long)rl.rlim_cur, sessions);
}

static int
hl_open_csv(struct hl_hub *hub)
{
	struct stat st;

	if (hub->o.out == NULL)
		return 0;
	if ((hub->csv = fopen(hub->o.out, "a")) == NULL) {
		fprintf(stderr, "hubload: %s: %s\n", hub->o.out,
		    strerror(errno));
		return -1;
	}
	if (fstat(fileno(hub->csv), &st) == 0 && st.st_size == 0)
		fprintf(hub->csv, "phase,round,sessions,target,established,"
		    "lost,attempts,failures,seconds,per_second,"
		    "attempt_p50_ms,attempt_p99_ms,attempt_max_ms,complete,"
		    "failure_reasons\n");
	return 0;
}

static int
hl_events(struct hl_hub *hub)
{
	struct timeval tick = { 0, HL_TICK_MS * 1000 };

	hub->tick = event_new(hub->base, -1, EV_PERSIST, hl_tickcb, hub);
	hub->kick = event_new(hub->base, -1, 0, hl_kickcb, hub);
	hub->reaper = event_new(hub->base, -1, 0, hl_reapcb, hub);
	hub->sigusr1 = evsignal_new(hub->base, SIGUSR1, hl_sigcb, hub);
	hub->sigterm = evsignal_new(hub->base, SIGTERM, hl_sigcb, hub);
	hub->sigint = evsignal_new(hub->base, SIGINT, hl_sigcb, hub);
	if (hub->tick == NULL || hub->kick == NULL || hub->reaper == NULL ||
	    hub->sigusr1 == NULL || hub->sigterm == NULL ||
	    hub->sigint == NULL || event_add(hub->tick, &tick) != 0 ||
	    event_add(hub->sigusr1, NULL) != 0 ||
	    event_add(hub->sigterm, NULL) != 0 ||
	    event_add(hub->sigint, NULL) != 0)
		return -1;
	return 0;
}

static void
hl_free(struct hl_hub *hub)
{
	struct hl_conn *c;
	unsigned i;

	if (hub->sess != NULL) {
		for (i = 0; i < hub->o.sessions; i++) {
			udp_chan_free(hub->sess[i].chan);
			handshake_client_free(hub->sess[i].hc);
		}
	}
	/* The sessions' own, those let go and still closing, the reaped. */
	while ((c = TAILQ_FIRST(&hub->conns)) != NULL)
		hl_conn_free(c);
	for (i = 0; i < hub->nsrc; i++) {
		if (hub->src[i].uev != NULL)
			event_free(hub->src[i].uev);
		if (hub->src[i].ufd >= 0)
			close(hub->src[i].ufd);
		free(hub->src[i].sess);
	}
	if (hub->tick != NULL)
		event_free(hub->tick);
	if (hub->kick != NULL)
		event_free(hub->kick);
	if (hub->reaper != NULL)
		event_free(hub->reaper);
	if (hub->sigusr1 != NULL)
		event_free(hub->sigusr1);
	if (hub->sigterm != NULL)
		event_free(hub->sigterm);
	if (hub->sigint != NULL)
		event_free(hub->sigint);
	if (hub->csv != NULL)
		fclose(hub->csv);
	free(hub->ph.lat_ms);
	free(hub->sess);
	free(hub->src);
	if (hub->base != NULL)
		event_base_free(hub->base);
}

/* The library's lines (stream.c's too) under our own name. */
static void
hl_logsink(int level, const char *line, void *arg)
{
	fprintf(stderr, "hubload: %s\n", line);
}

int
main(int argc, char **argv)
{
	struct hl_hub *hub;
	int rc = 1;

	log_init("hubload", true, LOG_DAEMON);
	log_set_level(LOG_NOTICE);
	log_set_sink(hl_logsink, NULL);
	/* A server that resets a connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((hub = calloc(1, sizeof(*hub))) == NULL ||
	    (hub->src = calloc(HL_MAX_SRC, sizeof(*hub->src))) == NULL) {
		fprintf(stderr, "hubload: out of memory\n");
		return 1;
	}
	TAILQ_INIT(&hub->queue);
	TAILQ_INIT(&hub->reap);
	TAILQ_INIT(&hub->conns);
	hub->rl_udp = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	hl_parse(hub, argc, argv);
	if (hub->o.genkeys) {
		rc = hl_genkeys(&hub->o);
		free(hub->src);
		free(hub);
		return rc;
	}
	if (hub->o.hold_s < 0 && hub->o.rounds > 0)
		hub->o.hold_s = 0;
	hub->rng = hub->o.seed != 0 ? hub->o.seed : 1;
	udp_chan_limits(&hub->lim);
	hl_nofile(hub->o.sessions);
	hub->sess = calloc(hub->o.sessions, sizeof(*hub->sess));
	hub->ph.lat_ms = calloc(hub->o.sessions, sizeof(*hub->ph.lat_ms));
	hub->base = util_event_base_new();
	if (hub->sess == NULL || hub->ph.lat_ms == NULL || hub->base == NULL) {
		fprintf(stderr, "hubload: out of memory\n");
		goto out;
	}
	if (hl_load(hub) != 0 || hl_sources(hub) != 0 ||
	    hl_open_csv(hub) != 0)
		goto out;
	if (hl_events(hub) != 0) {
		fprintf(stderr, "hubload: cannot set up the event loop\n");
		goto out;
	}
	hub->start_ms = util_now_ms();
	hl_phase_begin(hub, "initial", 0);
	for (unsigned i = 0; i < hub->o.sessions; i++) {
		hl_phase_add(hub, &hub->sess[i]);
		hl_enqueue(&hub->sess[i]);
	}
	(void)event_base_dispatch(hub->base);
	printf("hubload: end: %u of %u sessions up, %u storms done, %u lost "
	    "between phases, %u answered over udp\n", hub->up,
	    hub->o.sessions, hub->rounds_done, hub->lost_idle, hub->answered);
	rc = hub->exit_code;
out:
	hl_free(hub);
	free(hub);
	return rc;
}
