/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.c and ctlsock.c, the status socket and what it answers:
 * request parsing, the text, JSON and log-line reports (control.c), and
 * the socket's limits (stale file, mode, directory, symlink swap,
 * clients, deadline, size) and what `tapline status` prints (ctlsock.c).
 * One file for both: the socket's tests check its answers with the
 * report fixtures and the JSON checker of the format tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "compress.h"
#include "control.h"
#include "ctlsock.h"
#include "log.h"
#include "util.h"

/* ----- A tiny JSON checker: syntax, and a few values by path --------- */

struct json {
	const char *p, *end;
};

static bool json_value(struct json *j, int depth);

static void
json_ws(struct json *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL)
		j->p++;
}

static bool
json_string(struct json *j)
{
	int i;

	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return false;
		if (*j->p++ != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		if (*j->p == 'u') {
			for (i = 1; i <= 4; i++)
				if (j->p + i >= j->end ||
				    strchr("0123456789abcdefABCDEF",
				    j->p[i]) == NULL)
					return false;
			j->p += 5;
		} else if (strchr("\"\\/bfnrt", *j->p) != NULL) {
			j->p++;
		} else {
			return false;
		}
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static bool
json_number(struct json *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool
json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool
json_container(struct json *j, char close, int depth)
{
	bool first = true;

	j->p++;
	for (;;) {
		json_ws(j);
		if (j->p < j->end && *j->p == close && first) {
			j->p++;
			return true;
		}
		if (close == '}') {
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!json_value(j, depth + 1))
			return false;
		json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
		first = false;
	}
}

static bool
json_value(struct json *j, int depth)
{
	if (depth > 16)
		return false;
	json_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return json_container(j, '}', depth);
	case '[':
		return json_container(j, ']', depth);
	case '"':
		return json_string(j);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

/* Exactly one JSON value (and optional white space) in s. */
static bool
json_valid(const char *s)
{
	struct json j = { s, s + strlen(s) };

	if (!json_value(&j, 0))
		return false;
	json_ws(&j);
	return j.p == j.end;
}

static void
test_json_checker(void **state)
{
	(void)state;
	assert_true(json_valid("{\"a\":[1,2.5,-3,{\"b\":null}],"
	    "\"c\":\"\\u00ff\"}"));
	assert_true(json_valid("[]"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\":\"x\ny\"}"));
	assert_false(json_valid("{\"a\":01}"));
	assert_false(json_valid("{\"a\":1} x"));
	assert_false(json_valid("{\"a\":\"\\x41\"}"));
}

/* ----- Fixtures -------------------------------------------------------- */

static const struct compress_stats fixture_z = {
	.compressed = 7, .raw = 3, .bytes_in = 9000, .bytes_out = 3000,
	.inflated = 4, .inflated_in = 400, .inflated_out = 1200,
};

/* cobra: UDP, up, compressed, with drops of both kinds. */
static void
fixture_up(struct control_session *e, struct seal_stats *seal)
{
	memset(seal, 0, sizeof(*seal));
	seal->opened = 1234;
	seal->drop[SEAL_DROP_AUTH] = 3;
	seal->drop[SEAL_DROP_REPLAY] = 2;
	e->name = "cobra";
	e->state = CONTROL_UP;
	/* Peer strings are never trusted to be plain. */
	e->peer = "198.51.100.2:40312\"\\\n\x01\xff";
	e->udp = true;
	e->cipher = "aes-256-gcm";
	e->device = "tl-cobra";
	e->uptime_ms = 3723000;		/* 1h 02m 03s */
	e->handshake_age_ms = 3723999;
	e->rekey_age_ms = 65000;	/* 1m 05s */
	e->control_lost_ms = 12000;	/* re-attaching for 12 s */
	e->rekeys = 31;
	e->c.rx_packets = 5;
	e->c.rx_bytes = 420;
	e->c.tx_packets = 6;
	e->c.tx_bytes = 10000;
	e->c.tx_bytes_wire = 4000;
	e->c.drop_not_ready = 1;
	e->c.drop_shaped = 2;
	e->c.drop_too_big = 4;
	e->c.keepalives_sent = 9;
	e->path_mtu = 1280;
	e->inner_mtu = 1219;
	/* Roamed: the datagrams come from elsewhere than the TCP peer. */
	snprintf(e->udp_peer, sizeof(e->udp_peer), "198.51.100.7:1234");
	/* Key pairs, the second of two listed keys. */
	snprintf(e->peer_key, sizeof(e->peer_key),
	    "katI2S1oR4T8ZyExdwUT0W0VUUi6k6iT1xkPxeGvxi0=");
	e->peer_key_n = 2;
	e->peer_key_of = 2;
	e->rx_age_ms = 2500;
	e->came_up = true;
	e->total.connections = 3;
	e->total.rekeys = 40;
	e->total.c.rx_packets = 105;
	e->total.c.rx_bytes = 10420;
	e->total.c.tx_packets = 106;
	e->total.c.tx_bytes = 20000;
	e->total.c.drop_shaped = 5;
	e->total.datagrams_in = 2000;
	e->total.seal_drop[SEAL_DROP_AUTH] = 7;
	e->compress_level = 6;
	e->z = &fixture_z;
	e->seal = seal;
}

/*
 * viper: a TCP client between attempts, with the server it tries, the
 * address it last tried and why that failed.
 */
static void
fixture_reconnecting(struct control_session *e)
{
	e->name = "viper";
	e->state = CONTROL_RECONNECTING;
	e->retry_in_ms = 3200;
	e->peer = "[2001:db8:1::1]:5000";
	e->server = "vpn.example.net";
	e->last_error = "connect to [2001:db8:1::1]:5000: Connection refused";
	e->udp = false;
}

struct fixture {
	struct control_report r;
	struct seal_stats seal;
};

static void
fixture_report(struct fixture *f, bool server)
{
	memset(f, 0, sizeof(*f));
	f->r.server = server;
	fixture_up(control_report_add(&f->r), &f->seal);
	fixture_reconnecting(control_report_add(&f->r));
}

/* Format into a fresh buffer, checking the snprintf contract on the way. */
static char *
format(const struct control_report *r, enum control_format f)
{
	size_t n = control_format(r, f, NULL, 0), m;
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	m = control_format(r, f, buf, n + 1);
	assert_int_equal(m, n);
	assert_int_equal(strlen(buf), n);
	return buf;
}

/* ----- Requests -------------------------------------------------------- */

static void
test_request_parse(void **state)
{
	static const struct {
		const char *in;
		const char *session;
		enum control_format f;
	} good[] = {
		{ "status\n", "", CONTROL_TEXT },
		{ "status", "", CONTROL_TEXT },
		{ "status json\n", "", CONTROL_JSON },
		{ "status text\n", "", CONTROL_TEXT },
		{ "status openmetrics\n", "", CONTROL_OPENMETRICS },
		{ "status prometheus\n", "", CONTROL_PROMETHEUS },
		{ "status states\n", "", CONTROL_STATES },
		{ "status cobra\n", "cobra", CONTROL_TEXT },
		{ "status cobra json\n", "cobra", CONTROL_JSON },
		{ "status cobra states\n", "cobra", CONTROL_STATES },
		{ "status cobra text\r\n", "cobra", CONTROL_TEXT },
		{ "  status \t cobra   json \n", "cobra", CONTROL_JSON },
		/* A session called json, asked for by `tapline status`. */
		{ "status json text\n", "json", CONTROL_TEXT },
		{ "status json json\n", "json", CONTROL_JSON },
		{ "status states openmetrics\n", "states",
		  CONTROL_OPENMETRICS },
		{ "status a-b_C9\n", "a-b_C9", CONTROL_TEXT },
	};
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
		{ "", "empty" },
		{ "\n", "empty" },
		{ "stats\n", "unknown request 'stats'" },
		{ "STATUS\n", "unknown request" },
		{ "status cobra xml\n", "unknown format 'xml'" },
		{ "status a b c\n", "too many words" },
		{ "status a b c d e\n", "too many words" },
		{ "status 1cobra\n", "not a session name" },
		{ "status co.bra\n", "not a session name" },
		{ "status cobra\nstatus\n", "not one line" },
		{ "status \x01\n", "not one line" },
		{ "status caf\xc3\xa9\n", "not ASCII" },
	};
	struct control_request req;
	char err[160], name[CONF_NAME_MAX + 2], line[400];
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(good); i++) {
		if (control_request_parse(good[i].in, strlen(good[i].in), &req,
		    err, sizeof(err)) != 0)
			fail_msg("good %zu: %s", i, err);
		assert_string_equal(req.session, good[i].session);
		assert_int_equal(req.format, good[i].f);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		if (control_request_parse(bad[i].in, strlen(bad[i].in), &req,
		    err, sizeof(err)) == 0)
			fail_msg("bad %zu was accepted", i);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("bad %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].why);
		assert_null(strchr(err, '\n'));
	}

	/* Names: 64 characters are fine, 65 are not. */
	memset(name, 'a', CONF_NAME_MAX);
	name[CONF_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "status %s\n", name);
	assert_int_equal(control_request_parse(line, strlen(line), &req, err,
	    sizeof(err)), 0);
	assert_string_equal(req.session, name);
	strcat(name, "a");
	snprintf(line, sizeof(line), "status %s\n", name);
	assert_int_equal(control_request_parse(line, strlen(line), &req, err,
	    sizeof(err)), -1);

	/* Length: 256 bytes with the newline pass, 257 do not. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "status", 6);
	line[CONTROL_REQUEST_MAX - 1] = '\n';
	assert_int_equal(control_request_parse(line, CONTROL_REQUEST_MAX,
	    &req, err, sizeof(err)), 0);
	line[CONTROL_REQUEST_MAX - 1] = ' ';
	line[CONTROL_REQUEST_MAX] = '\n';
	assert_int_equal(control_request_parse(line, CONTROL_REQUEST_MAX + 1,
	    &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
}

static void
test_request_format(void **state)
{
	static const struct {
		const char *session;
		enum control_format f;
		const char *out;
	} cases[] = {
		{ NULL, CONTROL_TEXT, "status\n" },
		{ NULL, CONTROL_JSON, "status json\n" },
		{ NULL, CONTROL_OPENMETRICS, "status openmetrics\n" },
		{ NULL, CONTROL_STATES, "status states\n" },
		{ "cobra", CONTROL_TEXT, "status cobra text\n" },
		{ "cobra", CONTROL_JSON, "status cobra json\n" },
		{ "cobra", CONTROL_PROMETHEUS, "status cobra prometheus\n" },
		{ "json", CONTROL_TEXT, "status json text\n" },
		{ "text", CONTROL_JSON, "status text json\n" },
		{ "states", CONTROL_STATES, "status states states\n" },
	};
	struct control_request req;
	char buf[CONTROL_REQUEST_MAX], err[160];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		n = control_request_format(cases[i].session, cases[i].f,
		    buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
		/* Round trip: the daemon reads what the client meant. */
		assert_int_equal(control_request_parse(buf, (size_t)n, &req,
		    err, sizeof(err)), 0);
		assert_string_equal(req.session, cases[i].session != NULL ?
		    cases[i].session : "");
		assert_int_equal(req.format, cases[i].f);
	}
	assert_int_equal(control_request_format("bad name", CONTROL_TEXT, buf,
	    sizeof(buf)), -1);
	assert_int_equal(control_request_format("", CONTROL_TEXT, buf,
	    sizeof(buf)), -1);
	assert_int_equal(control_request_format("cobra", CONTROL_TEXT, buf,
	    8), -1);
	/* The log's form is not asked for over the socket. */
	assert_int_equal(control_request_format(NULL, CONTROL_LINE, buf,
	    sizeof(buf)), -1);
}

/* ----- Reports --------------------------------------------------------- */

static void
test_format_text(void **state)
{
	static const char *const want[] = {
		"session cobra\n",
		"\n  state        up\n",
		/* Escaped as the log escapes untrusted bytes. */
		"\n  peer         198.51.100.2:40312\"\\\\\\x0a\\x01\\xff\n",
		"\n  transport    udp aes-256-gcm\n",
		"\n  device       tl-cobra\n",
		"\n  udp peer     198.51.100.7:1234\n",
		"\n  uptime       1h 02m 03s\n",
		"\n  last rx      2 s ago\n",
		"\n  handshake    1h 02m 03s ago\n",
		"\n  control      lost 12 s ago; the data channel goes on, "
		    "re-attaching\n",
		"\n  rekey        1m 05s ago (31 rekeys)\n",
		"\n  rx           5 packets, 420 bytes\n",
		"\n  tx           6 packets, 10000 bytes\n",
		"\n  compression  zlib:6, 10000 -> 4000 bytes (40.0 %)\n",
		"\n  peer key     katI2S1oR4T8ZyExdwUT0W0VUUi6k6iT1xkPxeGvxi0= "
		    "(2 of 2)\n",
		"\n  path mtu     1280 (1219 inside)\n",
		"\n  drops        7 (not_ready 1, shaped 2, too_big 4)\n",
		"\n  datagrams    1234 in, dropped 5 (replay 2, auth 3)\n",
		"\n  totals       3 connections, rx 105 packets 10420 bytes, "
		    "tx 106 packets 20000 bytes, 40 rekeys\n",
		"\n\nsession viper\n  state        reconnecting in 4 s\n",
		"\n  peer         [2001:db8:1::1]:5000\n"
		"  server       vpn.example.net\n"
		"  last error   connect to [2001:db8:1::1]:5000: Connection "
		"refused\n",
		"\n  transport    tcp\n  device       -\n"
		"  uptime       never\n  last rx      never\n"
		"  handshake    never\n  rekey        never (0 rekeys)\n",
		"\n  compression  off\n  drops        none\n",
	};
	struct fixture f;
	char *out;
	size_t i;

	(void)state;
	fixture_report(&f, false);
	out = format(&f.r, CONTROL_TEXT);
	for (i = 0; i < UTIL_ARRAY_LEN(want); i++)
		if (strstr(out, want[i]) == NULL)
			fail_msg("text lacks \"%s\":\n%s", want[i], out);
	/* The reconnecting client shows no UDP line and ends the text. */
	assert_null(strstr(strstr(out, "session viper"), "datagrams"));
	assert_null(strstr(strstr(out, "session viper"), "udp peer"));
	assert_null(strstr(strstr(out, "session viper"), "peer key"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	/* Without the wall clock no start is shown. */
	assert_null(strstr(out, "since"));
	free(out);

	/* With it, when the session came up, in UTC. */
	f.r.wall_ms = 1764324000000ULL + 3723000;	/* 2025-11-28 10:00 */
	out = format(&f.r, CONTROL_TEXT);
	assert_non_null(strstr(out, "\n  uptime       1h 02m 03s (since "
	    "2025-11-28 10:00:00 UTC)\n"));
	free(out);
	f.r.wall_ms = 0;

	/* A server says how many connections are still authenticating. */
	f.r.server = true;
	f.r.unauthenticated = 2;
	out = format(&f.r, CONTROL_TEXT);
	assert_non_null(strstr(out, "\n\n2 connections authenticating\n"));
	free(out);
	/* And how many of them wait for the handshake budget. */
	f.r.queued = 1;
	out = format(&f.r, CONTROL_TEXT);
	assert_non_null(strstr(out, "\n\n2 connections authenticating "
	    "(1 waiting for the handshake budget)\n"));
	free(out);
	f.r.queued = 0;
	control_report_free(&f.r);

	out = format(&f.r, CONTROL_TEXT);
	assert_string_equal(out, "no sessions\n");
	free(out);
}

static void
test_format_json(void **state)
{
	static const char *const want[] = {
		"{\"version\":1,\"mode\":\"server\",\"unauthenticated\":1,"
		    "\"queued\":0,\"sessions\":[{\"name\":\"cobra\",\"state\":\"up\","
		    "\"retry_in_s\":null,",
		"\"peer\":\"198.51.100.2:40312\\\"\\\\\\u000a\\u0001\\u00ff\""
		    ",\"udp_peer\":\"198.51.100.7:1234\",\"peer_key\":"
		    "\"katI2S1oR4T8ZyExdwUT0W0VUUi6k6iT1xkPxeGvxi0=\","
		    "\"old_key\":false,\"server\":null,"
		    "\"last_error\":null,",
		"\"transport\":\"udp\",\"cipher\":\"aes-256-gcm\","
		    "\"device\":\"tl-cobra\",\"uptime_s\":3723,"
		    "\"start_time\":1764324000,\"last_rx_age_s\":2,"
		    "\"handshake_age_s\":3723,\"handshake_time\":1764323999,"
		    "\"rekey_age_s\":65,\"control_lost_s\":12,\"rekeys\":31,",
		"\"totals\":{\"connections\":3,\"rekeys\":40,\"rx\":{"
		    "\"packets\":105,\"bytes\":10420},\"tx\":{\"packets\":106,"
		    "\"bytes\":20000,\"wire_bytes\":0},\"keepalives_sent\":0,"
		    "\"drops\":{\"not_ready\":0,",
		"\"shaped\":5,",
		"\"udp\":{\"datagrams_in\":2000,\"drops\":{\"short\":0,",
		"\"auth\":7,",
		"\"rx\":{\"packets\":5,\"bytes\":420,\"super_packets\":0},"
		    "\"tx\":{\"packets\":6,\"bytes\":10000,"
		    "\"wire_bytes\":4000,\"super_packets\":0},"
		    "\"keepalives_sent\":9,",
		"\"compression\":{\"level\":6,\"bytes_in\":10000,"
		    "\"bytes_out\":4000,\"ratio\":0.4000,"
		    "\"packets_compressed\":7,\"packets_raw\":3,"
		    "\"inflated_in\":400,\"inflated_out\":1200}",
		"\"drops\":{\"not_ready\":1,\"bad_packet\":0,\"inflate\":0,"
		    "\"device_write\":0,\"device_read\":0,\"no_address\":0,"
		    "\"udp_send\":0,\"tx_limit\":0,\"shaped\":2,\"oversize\":0,"
		    "\"too_big\":4}",
		"\"path_mtu\":1280,\"inner_mtu\":1219,\"drops\":",
		"\"udp\":{\"datagrams_in\":1234,\"drops\":{\"short\":0,",
		"\"replay\":2,\"too_old\":0,\"auth\":3,",
		"{\"name\":\"viper\",\"state\":\"reconnecting\","
		    "\"retry_in_s\":4,\"peer\":\"[2001:db8:1::1]:5000\","
		    "\"udp_peer\":null,\"peer_key\":null,\"old_key\":false,"
		    "\"server\":\"vpn.example.net\",\"last_error\":"
		    "\"connect to [2001:db8:1::1]:5000: Connection refused\","
		    "\"transport\":\"tcp\",\"cipher\":null,\"device\":null,"
		    "\"uptime_s\":null,\"start_time\":null,"
		    "\"last_rx_age_s\":null,\"handshake_age_s\":null,"
		    "\"handshake_time\":null,"
		    "\"rekey_age_s\":null,\"control_lost_s\":null,"
		    "\"rekeys\":0,",
		"\"compression\":null,\"path_mtu\":null,\"inner_mtu\":null,",
		"\"udp\":null,\"totals\":{\"connections\":0,",
		"\"inner_len\":0,\"error\":0}}}}]}\n",
	};
	struct fixture f;
	char *out;
	size_t i;

	(void)state;
	fixture_report(&f, true);
	f.r.unauthenticated = 1;
	f.r.wall_ms = 1764324000000ULL + 3723000;
	out = format(&f.r, CONTROL_JSON);
	if (!json_valid(out))
		fail_msg("not JSON:\n%s", out);
	for (i = 0; i < UTIL_ARRAY_LEN(want); i++)
		if (strstr(out, want[i]) == NULL)
			fail_msg("JSON lacks \"%s\":\n%s", want[i], out);
	/* One line, one object: easy for scripts. */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);

	/* Nothing sent yet: no ratio to speak of. */
	f.r.sessions[0].c.tx_bytes = 0;
	out = format(&f.r, CONTROL_JSON);
	assert_true(json_valid(out));
	assert_non_null(strstr(out, "\"ratio\":null"));
	free(out);
	control_report_free(&f.r);

	out = format(&f.r, CONTROL_JSON);
	assert_string_equal(out, "{\"version\":1,\"mode\":\"client\","
	    "\"sessions\":[]}\n");
	free(out);
}

static void
test_format_line(void **state)
{
	struct fixture f;
	char *out, *nl;

	(void)state;
	fixture_report(&f, false);
	out = format(&f.r, CONTROL_LINE);
	/* One line per session; the fields of the text form. */
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_int_equal(strncmp(out, "cobra: state up; peer 198.51.100.2",
	    34), 0);
	*nl = '\0';
	assert_non_null(strstr(out, "; rx 5 packets, 420 bytes; tx 6 "
	    "packets, 10000 bytes; compression zlib:6"));
	assert_non_null(strstr(out, "; path mtu 1280 (1219 inside); drops 7 "
	    "(not_ready 1, shaped 2, too_big 4); datagrams 1234 in, dropped 5 "
	    "(replay 2, auth 3)"));
	assert_string_equal(nl + 1, "viper: state reconnecting in 4 s; peer "
	    "[2001:db8:1::1]:5000; server vpn.example.net; last error "
	    "connect to [2001:db8:1::1]:5000: Connection refused; "
	    "transport tcp; device -; uptime never; last rx never; "
	    "handshake never; rekey never (0 rekeys); rx 0 packets, 0 bytes; "
	    "tx 0 packets, 0 bytes; compression off; drops none\n");
	free(out);
	control_report_free(&f.r);
}

/* Too small a buffer: a terminated prefix, and the full length. */
static void
test_format_truncated(void **state)
{
	struct fixture f;
	char *full, small[100];
	size_t n, len;
	enum control_format fm;

	(void)state;
	fixture_report(&f, true);
	for (fm = CONTROL_TEXT; fm <= CONTROL_LINE; fm++) {
		full = format(&f.r, fm);
		n = strlen(full);
		for (len = 1; len < sizeof(small); len += 7) {
			memset(small, 'Z', sizeof(small));
			assert_int_equal(control_format(&f.r, fm, small, len),
			    n);
			assert_int_equal(strlen(small), len - 1);
			assert_int_equal(memcmp(small, full, len - 1), 0);
		}
		free(full);
	}
	control_report_free(&f.r);
}

static void
test_report_filter(void **state)
{
	struct control_report r = { 0 };
	const char *names[] = { "a", "b", "a", "c", "a" };
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(names); i++) {
		struct control_session *e = control_report_add(&r);

		assert_non_null(e);
		/* Entries start with nothing known. */
		assert_int_equal(e->uptime_ms, CONTROL_NEVER);
		assert_int_equal(e->handshake_age_ms, CONTROL_NEVER);
		assert_int_equal(e->rekey_age_ms, CONTROL_NEVER);
		assert_int_equal(e->control_lost_ms, CONTROL_NEVER);
		e->name = names[i];
		e->rekeys = i;
	}
	control_report_filter(&r, "a");
	assert_int_equal(r.nsessions, 3);
	assert_int_equal(r.sessions[0].rekeys, 0);
	assert_int_equal(r.sessions[1].rekeys, 2);
	assert_int_equal(r.sessions[2].rekeys, 4);
	control_report_filter(&r, "zz");
	assert_int_equal(r.nsessions, 0);
	control_report_free(&r);
	assert_null(r.sessions);
	assert_string_equal(control_state_name(CONTROL_UP), "up");
	assert_string_equal(control_state_name(CONTROL_WAITING), "waiting");
	assert_string_equal(control_state_name((enum control_state)99),
	    "unknown");
}

/* ----- The socket ------------------------------------------------------ */

struct sock_test {
	char dir[64];
	char path[96];
	struct event_base *base;
	struct seal_stats seal;
	char logged[1024];
	int nlogged;
	char warned[1024];	/* the last "status: " warning */
};

static void
sock_collect(struct control_report *r, void *arg)
{
	struct sock_test *t = arg;
	struct control_session *e = control_report_add(r);

	if (e != NULL)
		fixture_up(e, &t->seal);
}

static void
sock_log_sink(int level, const char *line, void *arg)
{
	struct sock_test *t = arg;

	if (level == LOG_NOTICE && strncmp(line, "cobra: ", 7) == 0) {
		util_strlcpy(t->logged, line, sizeof(t->logged));
		t->nlogged++;
	}
	if (level == LOG_WARNING && strncmp(line, "status: ", 8) == 0)
		util_strlcpy(t->warned, line, sizeof(t->warned));
}

static int
sock_setup(void **state)
{
	struct sock_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_control.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	/* A directory that does not exist yet: control makes it. */
	snprintf(t->path, sizeof(t->path), "%s/run/s.sock", t->dir);
	t->base = event_base_new();
	signal(SIGPIPE, SIG_IGN);
	log_set_sink(sock_log_sink, t);
	*state = t;
	return t->base == NULL ? -1 : 0;
}

static int
sock_teardown(void **state)
{
	struct sock_test *t = *state;
	char sub[128];

	log_set_sink(NULL, NULL);
	unlink(t->path);
	snprintf(sub, sizeof(sub), "%s/run", t->dir);
	rmdir(sub);
	rmdir(t->dir);
	event_base_free(t->base);
	free(t);
	return 0;
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return fd;
}

/*
 * Run the loop until the daemon closes fd (returns what it sent) or ms
 * pass (returns NULL).
 */
static char *
sock_drive(struct event_base *base, int fd, int ms, uint64_t *took)
{
	uint64_t start = util_now_ms();
	static char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t r;

	for (;;) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) > 0) {
			r = read(fd, buf + len, sizeof(buf) - len - 1);
			if (r == 0 || (r < 0 && errno == ECONNRESET)) {
				buf[len] = '\0';
				if (took != NULL)
					*took = util_now_ms() - start;
				return buf;
			}
			if (r > 0)
				len += (size_t)r;
		}
		if (util_now_ms() - start > (uint64_t)ms)
			return NULL;
	}
}

static char *
sock_ask(struct sock_test *t, const char *req, size_t len)
{
	int fd = sock_connect(t->path);
	char *ans;

	assert_int_equal(write(fd, req, len), (ssize_t)len);
	ans = sock_drive(t->base, fd, 3000, NULL);
	close(fd);
	assert_non_null(ans);
	return ans;
}

static void
test_socket(void **state)
{
	struct sock_test *t = *state;
	struct ctlsock *c;
	struct stat st;
	char dir[128], big[CONTROL_REQUEST_MAX + 50], *ans;

	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	/* Root only: the directory 0750, the socket 0600. */
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/run", t->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);

	ans = sock_ask(t, "status json\n", 12);
	if (!json_valid(ans))
		fail_msg("not JSON: %s", ans);
	assert_non_null(strstr(ans, "\"mode\":\"client\""));
	ans = sock_ask(t, "status cobra\n", 13);
	assert_int_equal(strncmp(ans, "session cobra\n", 14), 0);
	/* Without the newline, the end of input ends the request. */
	{
		int fd = sock_connect(t->path);

		assert_int_equal(write(fd, "status", 6), 6);
		shutdown(fd, SHUT_WR);
		ans = sock_drive(t->base, fd, 3000, NULL);
		close(fd);
		assert_non_null(ans);
		assert_int_equal(strncmp(ans, "session cobra\n", 14), 0);
	}
	ans = sock_ask(t, "status viper\n", 13);
	assert_string_equal(ans, "error: no session viper\n");
	ans = sock_ask(t, "reboot\n", 7);
	assert_int_equal(strncmp(ans, "error: unknown request 'reboot'", 31),
	    0);
	/* 300 bytes and no newline: refused once 256 are in. */
	memset(big, 'x', sizeof(big));
	ans = sock_ask(t, big, sizeof(big));
	assert_int_equal(strncmp(ans, "error: request too long", 23), 0);

	/* SIGUSR1 logs the counters, one line per session. */
	t->nlogged = 0;
	raise(SIGUSR1);
	/* raise() returns once the SIGUSR1 handler has run. */
	/* cppcheck-suppress unreachableCode */
	event_base_loop(t->base, EVLOOP_NONBLOCK);
	assert_int_equal(t->nlogged, 1);
	assert_int_equal(strncmp(t->logged, "cobra: state up; ", 17), 0);
	assert_non_null(strstr(t->logged, "rx 5 packets, 420 bytes"));

	ctlsock_free(c);
	/* The socket goes away with the daemon. */
	assert_int_equal(lstat(t->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* A client that says nothing is cut off after the request deadline. */
static void
test_socket_deadline(void **state)
{
	struct sock_test *t = *state;
	struct ctlsock *c = ctlsock_new(t->base, t->path, NULL,
	    sock_collect, t);
	uint64_t took = 0;
	char *ans;
	int fd;

	assert_non_null(c);
	fd = sock_connect(t->path);
	/* Half a request, then silence. */
	assert_int_equal(write(fd, "stat", 4), 4);
	ans = sock_drive(t->base, fd, 3000, &took);
	close(fd);
	assert_non_null(ans);
	assert_string_equal(ans, "");
	assert_true(took >= CTLSOCK_REQUEST_DEADLINE_MS - 50);
	assert_true(took < CTLSOCK_REQUEST_DEADLINE_MS + 1000);
	ctlsock_free(c);
}

/* At most CTLSOCK_CLIENTS_MAX at once; the next is closed at once. */
static void
test_socket_clients_max(void **state)
{
	struct sock_test *t = *state;
	struct ctlsock *c = ctlsock_new(t->base, t->path, NULL,
	    sock_collect, t);
	int fds[CTLSOCK_CLIENTS_MAX], fd, i;
	uint64_t took = 0;
	char *ans;

	assert_non_null(c);
	for (i = 0; i < CTLSOCK_CLIENTS_MAX; i++) {
		fds[i] = sock_connect(t->path);
		event_base_loop(t->base, EVLOOP_NONBLOCK);
	}
	fd = sock_connect(t->path);
	ans = sock_drive(t->base, fd, 3000, &took);
	close(fd);
	assert_non_null(ans);
	assert_string_equal(ans, "");
	assert_true(took < CTLSOCK_REQUEST_DEADLINE_MS / 2);
	/* The eight still get their answer. */
	assert_int_equal(write(fds[0], "status\n", 7), 7);
	ans = sock_drive(t->base, fds[0], 3000, NULL);
	assert_non_null(ans);
	assert_int_equal(strncmp(ans, "session cobra\n", 14), 0);
	for (i = 0; i < CTLSOCK_CLIENTS_MAX; i++)
		close(fds[i]);
	ctlsock_free(c);
}

/*
 * A socket file nobody answers on is replaced; one that answers is left
 * alone (and not removed by the daemon that could not have it); a file
 * that is not a socket is never touched.
 */
static void
test_socket_stale(void **state)
{
	struct sock_test *t = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctlsock *c, *c2;
	char err[256], *ans;
	struct stat st;
	FILE *f;
	int fd;

	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	ctlsock_free(c);
	/* A dead daemon's socket: bound, never listened on. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	util_strlcpy(sun.sun_path, t->path, sizeof(sun.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	ans = sock_ask(t, "status\n", 7);
	assert_int_equal(strncmp(ans, "session cobra\n", 14), 0);

	/* A second daemon on the same path leaves the first one be. */
	c2 = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c2);
	ctlsock_free(c2);
	assert_int_equal(lstat(t->path, &st), 0);
	ans = sock_ask(t, "status\n", 7);
	assert_int_equal(strncmp(ans, "session cobra\n", 14), 0);
	ctlsock_free(c);

	/* Not a socket: left alone, and status is just unavailable. */
	f = fopen(t->path, "w");
	assert_non_null(f);
	fclose(f);
	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	ctlsock_free(c);
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(t->path);

	/* And the client side says what is wrong when nothing listens. */
	f = tmpfile();
	assert_int_equal(ctlsock_query(t->path, NULL, false, f, err,
	    sizeof(err)), 1);
	assert_non_null(strstr(err, "is tapline running?"));
	assert_int_equal(ctlsock_query(t->path, "no such", false, f, err,
	    sizeof(err)), 1);
	assert_string_equal(err, "no session no such");
	fclose(f);
}

/* ctlsock_query against a daemon in another process. */
static void
test_query(void **state)
{
	struct sock_test *t = *state;
	char err[256], out[8192];
	uint64_t end;
	size_t n;
	pid_t pid;
	FILE *f;
	int rc = 1, status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct event_base *base = event_base_new();
		struct ctlsock *c;

		log_set_sink(NULL, NULL);
		c = ctlsock_new(base, t->path, NULL, sock_collect, t);
		event_base_loopexit(base, &(struct timeval){ .tv_sec = 10 });
		event_base_dispatch(base);
		ctlsock_free(c);
		_exit(0);
	}
	f = tmpfile();
	assert_non_null(f);
	/* The child may not listen yet: retry briefly. */
	for (end = util_now_ms() + 3000; util_now_ms() < end;
	    nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL))
		if ((rc = ctlsock_query(t->path, "cobra", true, f, err,
		    sizeof(err))) == 0)
			break;
	if (rc != 0)
		fail_msg("query: %s", err);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	if (!json_valid(out))
		fail_msg("not JSON: %s", out);
	assert_non_null(strstr(out, "\"name\":\"cobra\""));
	assert_int_equal(ctlsock_query(t->path, "viper", false, f, err,
	    sizeof(err)), 1);
	assert_string_equal(err, "no session viper");
	fclose(f);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* The killed daemon left its socket: the next one takes it over. */
	{
		struct ctlsock *c = ctlsock_new(t->base, t->path, NULL,
		    sock_collect, t);

		assert_non_null(c);
		ctlsock_free(c);
	}
}

/*
 * The socket's directory must be one only root (or the daemon's user)
 * can write to: in any other, whoever can write could put a symlink or
 * a socket of their own at the name (tests/ATTACKS.md, control-socket
 * path).  Group or world writable, with or without the sticky bit, or
 * owned by someone else: no socket, a warning naming the directory.
 */
static void
test_socket_dir_unsafe(void **state)
{
	static const mode_t modes[] = { 0777, 0770, 0757, 01777 };
	struct sock_test *t = *state;
	struct ctlsock *c;
	struct stat st;
	char dir[128];
	size_t i;

	snprintf(dir, sizeof(dir), "%s/run", t->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < UTIL_ARRAY_LEN(modes); i++) {
		assert_int_equal(chmod(dir, modes[i]), 0);
		t->warned[0] = '\0';
		c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
		assert_non_null(c);
		if (lstat(t->path, &st) == 0)
			fail_msg("socket made in a %04o directory",
			    (unsigned)modes[i]);
		assert_int_equal(errno, ENOENT);
		if (strstr(t->warned, dir) == NULL ||
		    strstr(t->warned, "writable by group or others") == NULL)
			fail_msg("mode %04o: unclear warning '%s'",
			    (unsigned)modes[i], t->warned);
		ctlsock_free(c);
	}

	/* Owned by another user: refused too (root can chown). */
	if (geteuid() != 0)
		return;
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(chown(dir, 12345, (gid_t)-1), 0);
	t->warned[0] = '\0';
	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	if (lstat(t->path, &st) == 0)
		fail_msg("socket made in a directory owned by uid 12345");
	if (strstr(t->warned, dir) == NULL ||
	    strstr(t->warned, "owned by uid 12345") == NULL)
		fail_msg("unclear warning '%s'", t->warned);
	ctlsock_free(c);
	/* Unless that is the user the daemon drops to. */
	c = ctlsock_new(t->base, t->path, "12345", sock_collect, t);
	assert_non_null(c);
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	ctlsock_free(c);
	/* The directory is checked, not merely its last component. */
	assert_int_equal(chown(dir, 0, (gid_t)-1), 0);
	assert_int_equal(chown(t->dir, 12345, (gid_t)-1), 0);
	t->warned[0] = '\0';
	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	if (lstat(t->path, &st) == 0)
		fail_msg("socket made under a directory owned by uid 12345");
	if (strstr(t->warned, t->dir) == NULL)
		fail_msg("unclear warning '%s'", t->warned);
	ctlsock_free(c);
	assert_int_equal(chown(t->dir, 0, (gid_t)-1), 0);
}

/*
 * bind() wrapped: when armed, right after the socket file is made it is
 * renamed away and a symlink to a victim file takes its name, as a
 * local user able to write the directory would do.
 */
static struct {
	const char *path;	/* the socket's path */
	const char *victim;
	bool armed;
} swap;

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len);

int
__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	char moved[160];
	int r = __real_bind(fd, sa, len);

	if (r == 0 && swap.armed) {
		swap.armed = false;
		snprintf(moved, sizeof(moved), "%s.moved", swap.path);
		if (rename(swap.path, moved) != 0 ||
		    symlink(swap.victim, swap.path) != 0)
			fail_msg("swap: %s", strerror(errno));
	}
	return r;
}

/*
 * The socket's mode comes from the umask at bind(), never from a chmod
 * by path that a swapped symlink would redirect to another file.
 */
static void
test_socket_symlink_swap(void **state)
{
	struct sock_test *t = *state;
	struct ctlsock *c;
	char victim[128], moved[160];
	struct stat st;
	FILE *f;

	snprintf(victim, sizeof(victim), "%s/victim", t->dir);
	snprintf(moved, sizeof(moved), "%s.moved", t->path);
	assert_non_null(f = fopen(victim, "w"));
	fclose(f);
	assert_int_equal(chmod(victim, 0644), 0);
	swap.path = t->path;
	swap.victim = victim;
	swap.armed = true;
	c = ctlsock_new(t->base, t->path, NULL, sock_collect, t);
	assert_non_null(c);
	assert_false(swap.armed);
	assert_int_equal(stat(victim, &st), 0);
	if ((st.st_mode & 07777) != 0644)
		fail_msg("the victim's mode became %04o",
		    (unsigned)(st.st_mode & 07777));
	/* The socket the daemon made was 0600 from the start. */
	assert_int_equal(lstat(moved, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	ctlsock_free(c);
	/* Not ours: the symlink is left alone. */
	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(t->path);
	unlink(moved);
	unlink(victim);
}

/*
 * `tapline status` prints what answers at the socket: control bytes
 * (terminal escapes in a device name or a peer) are shown escaped, the
 * lines stay lines.
 */
static void
test_query_escapes(void **state)
{
	static const char answer[] = "session co\x1b]0;owned\x07" "bra\n"
	    "  peer         198.51.100.2\x1b[2J:1\r\n"
	    "  device       tl-\x9b" "31m\x7f\n";
	struct sock_test *t = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char err[256], out[8192], req[64];
	size_t n, i;
	pid_t pid;
	FILE *f;
	int lfd, status;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/fake.sock", t->dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0 || read(fd, req, sizeof(req)) <= 0 ||
		    write(fd, answer, sizeof(answer) - 1) !=
		    (ssize_t)sizeof(answer) - 1)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(lfd);
	f = tmpfile();
	assert_non_null(f);
	if (ctlsock_query(sun.sun_path, NULL, false, f, err,
	    sizeof(err)) != 0)
		fail_msg("query: %s", err);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(sun.sun_path);
	for (i = 0; i < n; i++)
		if (out[i] != '\n' && ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] >= 0x7f))
			fail_msg("byte 0x%02x printed raw at %zu: %s",
			    (unsigned char)out[i], i, out);
	assert_string_equal(out, "session co\\x1b]0;owned\\x07bra\n"
	    "  peer         198.51.100.2\\x1b[2J:1\\x0d\n"
	    "  device       tl-\\x9b31m\\x7f\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_request_format),
		cmocka_unit_test(test_format_text),
		cmocka_unit_test(test_format_json),
		cmocka_unit_test(test_format_line),
		cmocka_unit_test(test_format_truncated),
		cmocka_unit_test(test_report_filter),
		cmocka_unit_test_setup_teardown(test_socket, sock_setup,
		    sock_teardown),
		cmocka_unit_test_setup_teardown(test_socket_deadline,
		    sock_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_socket_clients_max,
		    sock_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_socket_stale, sock_setup,
		    sock_teardown),
		cmocka_unit_test_setup_teardown(test_query, sock_setup,
		    sock_teardown),
		cmocka_unit_test_setup_teardown(test_socket_dir_unsafe,
		    sock_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_socket_symlink_swap,
		    sock_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_query_escapes,
		    sock_setup, sock_teardown),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
