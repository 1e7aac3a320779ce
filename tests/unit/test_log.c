/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.c: levels, the rate limiter, OpenSSL error draining, facilities,
 * and the journal entries with their session and peer fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "log.h"

struct capture {
	int n;
	int level[16];
	char line[16][256];
};

static void
capture_sink(int level, const char *line, void *arg)
{
	struct capture *cap = arg;

	if (cap->n < 16) {
		cap->level[cap->n] = level;
		snprintf(cap->line[cap->n], sizeof(cap->line[0]), "%s", line);
	}
	cap->n++;
}

static int
setup(void **state)
{
	static struct capture cap;

	memset(&cap, 0, sizeof(cap));
	log_set_sink(capture_sink, &cap);
	log_set_level(LOG_NOTICE);
	*state = &cap;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	return 0;
}

static void
test_levels(void **state)
{
	struct capture *cap = *state;

	log_info("hidden %d", 1);
	log_notice("shown %d", 2);
	log_err("error %s", "three");
	assert_int_equal(cap->n, 2);
	assert_string_equal(cap->line[0], "shown 2");
	assert_int_equal(cap->level[0], LOG_NOTICE);
	assert_int_equal(cap->level[1], LOG_ERR);
	log_set_level(LOG_DEBUG);
	log_debug("debug");
	assert_int_equal(cap->n, 3);
	/* Out-of-range levels are clamped, not trusted. */
	log_set_level(99);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	log_set_level(-5);
	assert_int_equal(log_get_level(), LOG_ERR);
}

/* burst lines per window pass; the rest are counted and reported once. */
static void
test_ratelimit_clock(void **state)
{
	struct log_ratelimit rl = { .interval_ms = 1000, .burst = 3 };
	uint64_t sup;
	int i, passed = 0;

	(void)state;
	for (i = 0; i < 10; i++)
		passed += log_rl_allow(&rl, 5000 + (uint64_t)i, &sup);
	assert_int_equal(passed, 3);
	assert_int_equal(rl.suppressed, 7);
	/* Still inside the window at +999 ms. */
	assert_false(log_rl_allow(&rl, 5999, &sup));
	/* A new window lets a line through carrying the count. */
	assert_true(log_rl_allow(&rl, 6000, &sup));
	assert_int_equal(sup, 8);
	assert_true(log_rl_allow(&rl, 6001, &sup));
	assert_int_equal(sup, 0);
}

static void
test_ratelimit_lines(void **state)
{
	struct capture *cap = *state;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT;
	int i;

	for (i = 0; i < 100; i++)
		log_rl(&rl, LOG_WARNING, "bad datagram %d", i);
	assert_int_equal(cap->n, 10);
	assert_string_equal(cap->line[9], "bad datagram 9");
	/* Hidden by level: neither printed nor counted as suppressed. */
	log_rl(&rl, LOG_DEBUG, "quiet");
	assert_int_equal(rl.suppressed, 90);
}

static void
test_ssl_errors(void **state)
{
	struct capture *cap = *state;

	ERR_clear_error();
	/* A cipher that does not exist leaves an error on the queue. */
	assert_null(EVP_CIPHER_fetch(NULL, "no-such-cipher", NULL));
	log_ssl_errors(LOG_ERR, "fetch");
	assert_true(cap->n >= 1);
	assert_non_null(strstr(cap->line[0], "fetch: error:"));
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_facilities(void **state)
{
	(void)state;
	assert_int_equal(log_facility_from_name("daemon"), LOG_DAEMON);
	assert_int_equal(log_facility_from_name("LOCAL3"), LOG_LOCAL3);
	assert_int_equal(log_facility_from_name("kern"), -1);
	assert_int_equal(log_facility_from_name(""), -1);
	assert_string_equal(log_facility_name(LOG_LOCAL7), "local7");
}

/* The fields of one journal entry, each "NAME=value", in a string. */
struct jcapture {
	int n;
	char fields[8][1200];
};

static void
journal_sink(const struct log_journal *j, void *arg)
{
	struct jcapture *jc = arg;
	size_t i, off = 0;
	char *out;

	if (jc->n >= 8) {
		jc->n++;
		return;
	}
	out = jc->fields[jc->n++];
	out[0] = '\0';
	for (i = 0; i < j->n; i++) {
		off += (size_t)snprintf(out + off, sizeof(jc->fields[0]) - off,
		    "%.*s|", (int)j->iov[i].iov_len,
		    (const char *)j->iov[i].iov_base);
		assert_true(off < sizeof(jc->fields[0]));
	}
}

static void
test_journal_fields(void **state)
{
	struct log_journal j;
	char name[200];

	(void)state;
	log_journal_fields(&j, "tapline", LOG_NOTICE, "cobra: up",
	    "cobra", "198.51.100.2:40312");
	assert_int_equal(j.n, 5);
	assert_memory_equal(j.iov[0].iov_base, "MESSAGE=cobra: up",
	    j.iov[0].iov_len);
	assert_int_equal(j.iov[0].iov_len, strlen("MESSAGE=cobra: up"));
	assert_int_equal(j.iov[1].iov_len, strlen("PRIORITY=5"));
	assert_memory_equal(j.iov[1].iov_base, "PRIORITY=5", 10);
	assert_memory_equal(j.iov[2].iov_base, "SYSLOG_IDENTIFIER=tapline",
	    j.iov[2].iov_len);
	assert_memory_equal(j.iov[3].iov_base, "TAPLINE_SESSION=cobra",
	    j.iov[3].iov_len);
	assert_memory_equal(j.iov[4].iov_base,
	    "TAPLINE_PEER=198.51.100.2:40312", j.iov[4].iov_len);

	/* Unknown session and peer: no empty fields. */
	log_journal_fields(&j, "tapline", LOG_ERR, "listening", "", NULL);
	assert_int_equal(j.n, 3);
	assert_memory_equal(j.iov[1].iov_base, "PRIORITY=3", 10);

	/* An over-long value is cut, never written past its buffer. */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	log_journal_fields(&j, "tapline", LOG_DEBUG, name, name, name);
	assert_int_equal(j.n, 5);
	assert_int_equal(j.iov[0].iov_len, strlen("MESSAGE=") + 199);
	assert_int_equal(j.iov[3].iov_len, LOG_FIELD_MAX - 1);
	assert_int_equal(j.iov[4].iov_len, LOG_FIELD_MAX - 1);
}

/* JOURNAL_STREAM names a device and inode; anything else is not it. */
static void
test_journal_stream(void **state)
{
	(void)state;
	assert_true(log_journal_stream_is("8:1234", 8, 1234));
	assert_false(log_journal_stream_is("8:1234", 8, 1235));
	assert_false(log_journal_stream_is("9:1234", 8, 1234));
	assert_false(log_journal_stream_is(NULL, 8, 1234));
	assert_false(log_journal_stream_is("", 8, 1234));
	assert_false(log_journal_stream_is("8", 8, 1234));
	assert_false(log_journal_stream_is("8:", 8, 1234));
	assert_false(log_journal_stream_is(":1234", 8, 1234));
	assert_false(log_journal_stream_is("8:1234x", 8, 1234));
	assert_false(log_journal_stream_is("8:99999999999999999999999", 8,
	    1234));
}

/*
 * A line whose arguments ran log_tag() carries that session and peer;
 * the next line does not, even when the tagged line was not printed
 * (level, rate limit); a process session fills in for lines with none.
 */
static void
test_journal_context(void **state)
{
	struct jcapture jc = { 0 };
	struct log_ratelimit rl = { .interval_ms = 60000, .burst = 1 };

	(void)state;
	log_set_journal_sink(journal_sink, &jc);
	log_notice("%sup", log_tag("cobra: ", "cobra", "198.51.100.2:40312"));
	log_notice("listening");
	log_info("%shidden", log_tag("viper: ", "viper", "198.51.100.3:1"));
	log_notice("after a hidden line");
	log_rl(&rl, LOG_WARNING, "%sdrop", log_tag("mamba: ", "mamba", ""));
	log_rl(&rl, LOG_WARNING, "%sdrop", log_tag("mamba: ", "mamba", ""));
	log_notice("after a suppressed line");
	log_set_session("cobra");
	log_notice("reconnecting");
	log_notice("%sup", log_tag("cobra: ", "cobra", "198.51.100.2:40312"));
	log_set_session(NULL);
	log_set_journal_sink(NULL, NULL);

	assert_int_equal(jc.n, 7);
	assert_string_equal(jc.fields[0], "MESSAGE=cobra: up|PRIORITY=5|"
	    "SYSLOG_IDENTIFIER=tapline|TAPLINE_SESSION=cobra|"
	    "TAPLINE_PEER=198.51.100.2:40312|");
	assert_string_equal(jc.fields[1], "MESSAGE=listening|PRIORITY=5|"
	    "SYSLOG_IDENTIFIER=tapline|");
	assert_string_equal(jc.fields[2], "MESSAGE=after a hidden line|"
	    "PRIORITY=5|SYSLOG_IDENTIFIER=tapline|");
	assert_string_equal(jc.fields[3], "MESSAGE=mamba: drop|PRIORITY=4|"
	    "SYSLOG_IDENTIFIER=tapline|TAPLINE_SESSION=mamba|");
	assert_string_equal(jc.fields[4], "MESSAGE=after a suppressed line|"
	    "PRIORITY=5|SYSLOG_IDENTIFIER=tapline|");
	assert_string_equal(jc.fields[5], "MESSAGE=reconnecting|PRIORITY=5|"
	    "SYSLOG_IDENTIFIER=tapline|TAPLINE_SESSION=cobra|");
	assert_string_equal(jc.fields[6], "MESSAGE=cobra: up|PRIORITY=5|"
	    "SYSLOG_IDENTIFIER=tapline|TAPLINE_SESSION=cobra|"
	    "TAPLINE_PEER=198.51.100.2:40312|");
}

/* Without a journal, log_tag() only returns the tag. */
static void
test_tag_plain(void **state)
{
	struct capture *cap = *state;

	log_notice("%sup", log_tag("cobra: ", "cobra", "198.51.100.2:1"));
	assert_int_equal(cap->n, 1);
	assert_string_equal(cap->line[0], "cobra: up");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit_clock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ssl_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_facilities, setup,
		    teardown),
		cmocka_unit_test(test_journal_fields),
		cmocka_unit_test(test_journal_stream),
		cmocka_unit_test_setup_teardown(test_journal_context, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tag_plain, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
