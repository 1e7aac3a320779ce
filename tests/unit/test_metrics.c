/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.c's sans-I/O half: the report as OpenMetrics and as
 * Prometheus text (names, types, units, labels and their escaping, the
 * EOF), sessions with several connections taken together, and the
 * merge of several daemons' expositions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "metrics.h"
#include "util.h"

/* 2025-11-28 10:00:00 UTC plus an hour, 2 minutes and 3 seconds. */
#define WALL_MS (1764324000000ULL + 3723000)

static struct seal_stats fixture_seal;

/* cobra up for 1h 02m 03s with lifetime totals; viper reconnecting. */
static void
fixture(struct control_report *r, bool server)
{
	struct control_session *e;

	memset(r, 0, sizeof(*r));
	r->server = server;
	r->wall_ms = WALL_MS;
	e = control_report_add(r);
	e->name = "cobra";
	e->state = CONTROL_UP;
	e->uptime_ms = 3723000;
	e->handshake_age_ms = 1000;
	e->rx_age_ms = 500;
	e->seal = &fixture_seal;
	e->total.connections = 3;
	e->total.rekeys = 40;
	e->total.c.rx_packets = 105;
	e->total.c.rx_bytes = 10420;
	e->total.c.tx_packets = 106;
	e->total.c.tx_bytes = 20000;
	e->total.c.drop_shaped = 5;
	e->total.seal_drop[SEAL_DROP_AUTH] = 7;
	e = control_report_add(r);
	e->name = "viper";
	e->state = CONTROL_RECONNECTING;
}

static char *
format(const struct control_report *r, bool om)
{
	size_t n = metrics_format(r, om, NULL, 0), m;
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	m = metrics_format(r, om, buf, n + 1);
	assert_int_equal(m, n);
	assert_int_equal(strlen(buf), n);
	return buf;
}

/*
 * Every sample belongs to the family of the TYPE line before it: the
 * family's name for a gauge; for a counter, name_total (OpenMetrics)
 * or the family's name, which ends in _total already (Prometheus).
 */
static void
check_names(const char *text, bool om)
{
	char fam[128] = "", type[16] = "", name[128], want[140];
	const char *p, *end;
	size_t len;

	for (p = text; *p != '\0'; p = end + 1) {
		end = strchr(p, '\n');
		assert_non_null(end);
		len = (size_t)(end - p);
		if (sscanf(p, "# TYPE %127s %15s", fam, type) == 2)
			continue;
		if (p[0] == '#')
			continue;
		snprintf(name, sizeof(name), "%.*s",
		    (int)strcspn(p, "{ "), p);
		snprintf(want, sizeof(want), "%s%s", fam,
		    om && strcmp(type, "counter") == 0 ? "_total" : "");
		if (strcmp(name, want) != 0)
			fail_msg("sample %.*s in family %s", (int)len, p, fam);
		if (!om && strcmp(type, "counter") == 0)
			assert_non_null(strstr(fam, "_total"));
	}
}

static void
test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(metrics_escape("a\\b\"c\nd", buf, sizeof(buf)), 10);
	assert_string_equal(buf, "a\\\\b\\\"c\\nd");
	/* Too small: terminated, and the length it needs. */
	assert_int_equal(metrics_escape("a\"b", buf, 3), 4);
	assert_string_equal(buf, "a\\");
}

static void
test_openmetrics(void **state)
{
	static const char *const want[] = {
		"# HELP tapline_session_up ",
		"# TYPE tapline_session_up gauge\n",
		"tapline_session_up{session=\"cobra\",role=\"server\"} 1\n",
		"tapline_session_up{session=\"viper\",role=\"server\"} 0\n",
		"# TYPE tapline_session_rx_bytes counter\n"
		    "# UNIT tapline_session_rx_bytes bytes\n"
		    "tapline_session_rx_bytes_total{session=\"cobra\","
		    "role=\"server\"} 10420\n"
		    "tapline_session_rx_bytes_total{session=\"viper\","
		    "role=\"server\"} 0\n",
		"tapline_session_tx_packets_total{session=\"cobra\","
		    "role=\"server\"} 106\n",
		"# UNIT tapline_session_start_time_seconds seconds\n"
		    "tapline_session_start_time_seconds{session=\"cobra\","
		    "role=\"server\"} 1764324000.000\n# HELP",
		"tapline_session_last_handshake_timestamp_seconds{session="
		    "\"cobra\",role=\"server\"} 1764327722.000\n",
		"tapline_session_last_receive_timestamp_seconds{session="
		    "\"cobra\",role=\"server\"} 1764327722.500\n",
		"tapline_session_drops_total{session=\"cobra\",role=\"server\","
		    "reason=\"shaped\"} 5\n",
		"tapline_session_drops_total{session=\"cobra\",role=\"server\","
		    "reason=\"udp_auth\"} 7\n",
		"tapline_session_rekeys_total{session=\"cobra\","
		    "role=\"server\"} 40\n",
		"tapline_session_connections_total{session=\"cobra\","
		    "role=\"server\"} 3\n",
	};
	struct control_report r;
	char *out;
	size_t i;

	(void)state;
	fixture(&r, true);
	out = format(&r, true);
	for (i = 0; i < UTIL_ARRAY_LEN(want); i++)
		if (strstr(out, want[i]) == NULL)
			fail_msg("OpenMetrics lacks \"%s\":\n%s", want[i], out);
	/* One EOF, at the end. */
	assert_non_null(strstr(out, "\n# EOF\n"));
	assert_string_equal(strstr(out, "# EOF"), "# EOF\n");
	/* A session that never came up has no times at all. */
	assert_null(strstr(out, "start_time_seconds{session=\"viper\""));
	assert_null(strstr(out, "timestamp_seconds{session=\"viper\""));
	check_names(out, true);
	free(out);

	/* A client says so in its role. */
	r.server = false;
	out = format(&r, true);
	assert_non_null(strstr(out, "tapline_session_up{session=\"cobra\","
	    "role=\"client\"} 1\n"));
	free(out);

	/* Without the wall clock, no times; the rest as before. */
	r.wall_ms = 0;
	out = format(&r, true);
	assert_null(strstr(out, "start_time_seconds{"));
	assert_non_null(strstr(out, "rx_bytes_total{session=\"cobra\""));
	free(out);
	control_report_free(&r);

	/* No session: the metadata alone, and the EOF. */
	out = format(&r, true);
	assert_null(strstr(out, "{"));
	assert_non_null(strstr(out, "# TYPE tapline_session_up gauge\n"));
	assert_string_equal(strstr(out, "# EOF"), "# EOF\n");
	free(out);
}

static void
test_prometheus(void **state)
{
	struct control_report r;
	char *out;

	(void)state;
	fixture(&r, true);
	out = format(&r, false);
	/* The text format names a counter family by its samples. */
	assert_non_null(strstr(out, "# TYPE tapline_session_rx_bytes_total "
	    "counter\ntapline_session_rx_bytes_total{session=\"cobra\","
	    "role=\"server\"} 10420\n"));
	assert_non_null(strstr(out, "# HELP tapline_session_rx_bytes_total "));
	assert_non_null(strstr(out, "# TYPE tapline_session_up gauge\n"));
	assert_null(strstr(out, "# UNIT"));
	assert_null(strstr(out, "# EOF"));
	check_names(out, false);
	free(out);
	control_report_free(&r);
}

/* Several connections of one session (multi = allow) are one session. */
static void
test_multi(void **state)
{
	struct control_report r = { 0 };
	struct control_session *e;
	char *out;

	(void)state;
	r.server = true;
	r.wall_ms = WALL_MS;
	e = control_report_add(&r);
	e->name = "hub";
	e->state = CONTROL_CLOSING;
	e->handshake_age_ms = 9000;
	e->total.c.rx_bytes = 77;
	e = control_report_add(&r);
	e->name = "hub";
	e->state = CONTROL_UP;
	e->uptime_ms = 2000;
	e->handshake_age_ms = 3000;
	e->total.c.rx_bytes = 77;
	out = format(&r, true);
	assert_non_null(strstr(out, "tapline_session_up{session=\"hub\","
	    "role=\"server\"} 1\n# HELP"));
	/* The latest handshake of the two. */
	assert_non_null(strstr(out, "timestamp_seconds{session=\"hub\","
	    "role=\"server\"} 1764327720.000\n"));
	assert_non_null(strstr(out, "rx_bytes_total{session=\"hub\","
	    "role=\"server\"} 77\n# HELP"));
	free(out);
	control_report_free(&r);
}

/* Too small a buffer: a terminated prefix and the whole length. */
static void
test_truncated(void **state)
{
	struct control_report r;
	char small[40];
	size_t n;

	(void)state;
	fixture(&r, true);
	n = metrics_format(&r, true, NULL, 0);
	assert_int_equal(metrics_format(&r, true, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	control_report_free(&r);
}

static void
test_accept(void **state)
{
	(void)state;
	assert_false(metrics_wants_openmetrics(NULL));
	assert_false(metrics_wants_openmetrics("*/*"));
	assert_false(metrics_wants_openmetrics("text/plain;version=0.0.4"));
	assert_true(metrics_wants_openmetrics("application/openmetrics-text;"
	    "version=1.0.0,application/openmetrics-text;version=0.0.1;"
	    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
}

/* A server's and a client's exposition: each family once, all samples. */
static void
test_merge(void **state)
{
	struct control_report r;
	char *texts[2], *out;
	const char *p;
	size_t n;

	(void)state;
	fixture(&r, true);
	texts[0] = format(&r, true);
	r.server = false;
	texts[1] = format(&r, true);
	out = metrics_merge(texts, 2, true);
	assert_non_null(out);
	for (n = 0, p = out; (p = strstr(p, "# TYPE tapline_session_up ")) !=
	    NULL; p++)
		n++;
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "# TYPE tapline_session_up gauge\n"
	    "tapline_session_up{session=\"cobra\",role=\"server\"} 1\n"
	    "tapline_session_up{session=\"viper\",role=\"server\"} 0\n"
	    "tapline_session_up{session=\"cobra\",role=\"client\"} 1\n"
	    "tapline_session_up{session=\"viper\",role=\"client\"} 0\n"
	    "# HELP"));
	assert_string_equal(strstr(out, "# EOF"), "# EOF\n");
	check_names(out, true);
	free(out);
	free(texts[0]);
	free(texts[1]);

	/* The text format: no EOF added. */
	r.server = true;
	texts[0] = format(&r, false);
	out = metrics_merge(texts, 1, false);
	assert_non_null(out);
	assert_string_equal(out, texts[0]);
	free(out);
	free(texts[0]);
	control_report_free(&r);

	/* Nothing to merge. */
	out = metrics_merge(NULL, 0, true);
	assert_non_null(out);
	assert_string_equal(out, "# EOF\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_multi),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
