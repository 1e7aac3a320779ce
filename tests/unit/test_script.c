/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * script-line.c: command lines split into argv without a shell.  Shell
 * syntax (';', '$(...)', backticks, '|', '>') must come out as literal
 * arguments (ATTACKS.md row 23); quotes and backslashes follow sh rules.
 *
 * Then script.c's runner, on an event base of the test's own: substitution,
 * the environment, PATH lookup, failure policy, timeouts, cancel, output
 * logging and what a command inherits (nothing but stdio).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "script.h"
#include "util.h"

#define MAXARGS 12

struct split_case {
	const char *line;
	int argc;
	const char *argv[MAXARGS];
};

static const struct split_case split_cases[] = {
	{ "logger tapline up", 3, { "logger", "tapline", "up" } },
	{ "  lead   and trail\t ", 3, { "lead", "and", "trail" } },
	{ "/sbin/ip link set %d up", 5,
	    { "/sbin/ip", "link", "set", "%d", "up" } },
	{ "echo 'single quoted $x'", 2, { "echo", "single quoted $x" } },
	{ "echo \"double \\\"q\\\" \\\\ \\n\"", 2,
	    { "echo", "double \"q\" \\ \\n" } },
	{ "echo a\\ b c\\\\d \\'", 4, { "echo", "a b", "c\\d", "'" } },
	{ "echo a'b'\"c\"d", 2, { "echo", "abcd" } },
	{ "echo '' \"\"", 3, { "echo", "", "" } },
	{ "echo 'it''s'", 2, { "echo", "its" } },
	/* Shell syntax is just text. */
	{ "echo a;b $(id) `id` | > x && y", 9,
	    { "echo", "a;b", "$(id)", "`id`", "|", ">", "x", "&&", "y" } },
	{ "rm -rf ../../%h", 3, { "rm", "-rf", "../../%h" } },
	{ "sh -c 'ip addr add $TAPLINE_LOCAL dev \"$1\"' sh %d", 5,
	    { "sh", "-c", "ip addr add $TAPLINE_LOCAL dev \"$1\"", "sh",
	    "%d" } },
	/* Every substitution, and %% for a literal percent sign. */
	{ "x %d %h %a %p %A %P 100%% '%%d'", 9,
	    { "x", "%d", "%h", "%a", "%p", "%A", "%P", "100%%", "%%d" } },
	{ "/etc/tapline/%h-up", 1, { "/etc/tapline/%h-up" } },
};

static void
test_split_table(void **state)
{
	struct script_argv a;
	char err[256];
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(split_cases); i++) {
		const struct split_case *c = &split_cases[i];

		err[0] = '\0';
		if (script_split(c->line, &a, err, sizeof(err)) != 0)
			fail_msg("case %zu <%s>: %s", i, c->line, err);
		if (a.argc != c->argc)
			fail_msg("case %zu <%s>: argc %d, want %d", i, c->line,
			    a.argc, c->argc);
		for (j = 0; j < a.argc; j++)
			if (strcmp(a.argv[j], c->argv[j]) != 0)
				fail_msg("case %zu <%s>: argv[%d] <%s>, want "
				    "<%s>", i, c->line, j, a.argv[j],
				    c->argv[j]);
		assert_null(a.argv[a.argc]);
		script_argv_free(&a);
		assert_null(a.argv);
		assert_int_equal(a.argc, 0);
	}
}

struct error_case {
	const char *line;
	const char *msg; /* a substring of the error */
};

static const struct error_case error_cases[] = {
	{ "", "empty command" },
	{ "   \t  ", "empty command" },
	{ "echo 'open", "unbalanced quote" },
	{ "echo \"open", "unbalanced quote" },
	{ "echo \"a\\\"", "unbalanced quote" },
	{ "echo trailing\\", "ends with a backslash" },
	{ "echo a\nrm -rf /", "newline" },
	{ "echo a\r", "newline" },
	{ "echo a\x01", "control character" },
	{ "echo \x7f", "control character" },
	{ "echo %x", "unknown substitution \"%x\"" },
	{ "echo '%q'", "unknown substitution \"%q\"" },
	{ "echo 100%", "at the end of an argument" },
	{ "echo %\xc3\xa9", "unknown substitution \"%\\xc3\"" },
};

static void
test_split_errors(void **state)
{
	struct script_argv a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(error_cases); i++) {
		const struct error_case *c = &error_cases[i];

		err[0] = '\0';
		if (script_split(c->line, &a, err, sizeof(err)) != -1)
			fail_msg("case %zu: accepted", i);
		if (strstr(err, c->msg) == NULL)
			fail_msg("case %zu: error <%s>, want <%s>", i, err,
			    c->msg);
		/* Nothing is left allocated on failure. */
		assert_int_equal(a.argc, 0);
		assert_null(a.argv);
	}
}

static void
test_split_limits(void **state)
{
	char line[8192], err[256];
	struct script_argv a;
	size_t i;

	(void)state;
	/* 256 arguments are fine, 257 are not. */
	for (i = 0; i < 256; i++)
		memcpy(line + 2 * i, "a ", 2);
	line[2 * 256] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 256);
	script_argv_free(&a);
	memcpy(line + 2 * 256, "b", 2);
	assert_int_equal(script_split(line, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 256 arguments"));

	/* Over-long lines are refused before any work. */
	memset(line, 'x', 4097);
	line[4097] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	line[4096] = '\0';
	assert_int_equal(script_split(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, 1);
	assert_int_equal(strlen(a.argv[0]), 4096);
	script_argv_free(&a);

	/* Freeing twice (or a zeroed struct) is harmless. */
	script_argv_free(&a);
	script_argv_free(NULL);
}

/* ---- the runner ---- */

#define CAPTURE_MAX 512
/* Every run in these tests ends well within this. */
#define RUN_LIMIT_MS 5000

/* What the group shares: captured log lines, a scratch directory. */
struct fixture {
	char *lines[CAPTURE_MAX];
	size_t nlines;
	char dir[64];
	int nfds; /* open descriptors before the first run */
};

/* The outcome of one run, filled in by the done callback. */
struct outcome {
	struct event_base *base;
	int calls;
	int result;
};

static void
capture_sink(int level, const char *line, void *arg)
{
	struct fixture *fx = arg;

	(void)level;
	if (fx->nlines < CAPTURE_MAX)
		fx->lines[fx->nlines++] = strdup(line);
}

static void
capture_clear(struct fixture *fx)
{
	size_t i;

	for (i = 0; i < fx->nlines; i++)
		free(fx->lines[i]);
	fx->nlines = 0;
}

/* The first captured line containing `sub`, or NULL. */
static const char *
captured(const struct fixture *fx, const char *sub)
{
	size_t i;

	for (i = 0; i < fx->nlines; i++)
		if (fx->lines[i] != NULL && strstr(fx->lines[i], sub) != NULL)
			return fx->lines[i];
	return NULL;
}

/* Fail, showing the log, unless a line contains `sub`. */
static void
assert_logged(const struct fixture *fx, const char *sub)
{
	size_t i;

	if (captured(fx, sub) != NULL)
		return;
	for (i = 0; i < fx->nlines; i++)
		print_message("log: %s\n", fx->lines[i]);
	fail_msg("no log line contains <%s>", sub);
}

static int
count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	/* cppcheck-suppress readdirCalled ; readdir_r is deprecated (glibc) */
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* not the directory's own */
}

static uint64_t
now_ms(void)
{
	return util_now_ms();
}

/* Split config lines the way the loader does. */
static struct script_argv *
split_all(const char *const *lines, size_t n)
{
	struct script_argv *v = calloc(n ? n : 1, sizeof(*v));
	char err[256];
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++)
		if (script_split(lines[i], &v[i], err, sizeof(err)) != 0)
			fail_msg("<%s>: %s", lines[i], err);
	return v;
}

static void
free_all(struct script_argv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		script_argv_free(&v[i]);
	free(v);
}

static void
on_done(int result, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->result = result;
	event_base_loopexit(o->base, NULL);
}

static void
on_limit(evutil_socket_t fd, short events, void *arg)
{
	event_base_loopbreak(arg);
}

/*
 * Run the commands in `lines` on a fresh base and return the result; the
 * done callback must come exactly once, and never before the loop runs.
 */
static int
run(const char *what, const char *const *lines, size_t n,
    const struct script_env *env, int timeout_ms, uint64_t *took_ms)
{
	struct timeval limit = { RUN_LIMIT_MS / 1000, 0 };
	struct script_argv *cmds = split_all(lines, n);
	struct outcome o = { .calls = 0, .result = 42 };
	struct script_run *r;
	struct event *guard;
	uint64_t t0;

	o.base = event_base_new();
	assert_non_null(o.base);
	guard = evtimer_new(o.base, on_limit, o.base);
	assert_non_null(guard);
	evtimer_add(guard, &limit);
	t0 = now_ms();
	r = script_run_start(o.base, what, cmds, n, env, timeout_ms, on_done,
	    &o);
	assert_non_null(r);
	/* The run owns copies: the caller's argv may go at once. */
	free_all(cmds, n);
	assert_int_equal(o.calls, 0);
	event_base_dispatch(o.base);
	if (took_ms != NULL)
		*took_ms = now_ms() - t0;
	assert_int_equal(o.calls, 1);
	event_free(guard);
	event_base_free(o.base);
	return o.result;
}

static const struct script_env test_env = {
	.device = "tl;x $(id)",
	.session = "cobra",
	.raddr = "192.0.2.2",
	.rport = "5000",
	.laddr = "2001:db8::1",
	.lport = NULL,
};

static int
group_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tapline-test-script.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	fx->nfds = count_fds();
	log_set_sink(capture_sink, fx);
	log_set_level(LOG_DEBUG);
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	log_set_sink(NULL, NULL);
	if (fx == NULL)
		return 0;
	capture_clear(fx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static int
test_setup(void **state)
{
	capture_clear(*state);
	return 0;
}

struct subst_case {
	const char *word, *want;
};

static void
test_subst_table(void **state)
{
	static const struct subst_case cases[] = {
		{ "plain", "plain" },
		{ "%d", "tl;x $(id)" },
		{ "%h-up", "cobra-up" },
		{ "%a:%p", "192.0.2.2:5000" },
		{ "[%A]:%P", "[2001:db8::1]:" },
		{ "100%%", "100%" },
		{ "%%d", "%d" },
		{ "%%%d%%", "%tl;x $(id)%" },
		{ "", "" },
		/* What the loader refuses stays as it is. */
		{ "%x", "%x" },
		{ "end%", "end%" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *got = script_subst(cases[i].word, &test_env);

		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("<%s> gave <%s>, want <%s>", cases[i].word,
			    got, cases[i].want);
		free(got);
	}
}

/* Read a whole small file into buf. */
static void
slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * ATTACKS.md row 23: shell syntax in the config and in substituted values
 * reaches the program as literal bytes, and the environment is exactly
 * PATH and the TAPLINE_* values.
 */
static void
test_run_literal(void **state)
{
	struct fixture *fx = *state;
	static const char *const want_env[] = {
		("up[1] cobra: PATH=" SCRIPT_PATH),
		"up[1] cobra: TAPLINE_DEVICE=tl;x $(id)",
		"up[1] cobra: TAPLINE_SESSION=cobra",
		"up[1] cobra: TAPLINE_REMOTE_ADDR=192.0.2.2",
		"up[1] cobra: TAPLINE_REMOTE_PORT=5000",
		"up[1] cobra: TAPLINE_LOCAL_ADDR=2001:db8::1",
		"up[1] cobra: TAPLINE_LOCAL_PORT=",
	};
	char line[512], file[128], got[1024];
	const char *lines[2];
	size_t i, nenv = 0;

	snprintf(file, sizeof(file), "%s/argv", fx->dir);
	snprintf(line, sizeof(line), "/bin/sh -c 'printf \"%%%%s\\n\" \"$@\" "
	    "> %s' sh %%d %%h %%a %%p %%A %%P ';' '$(id)' '`id`' 'a b' %%%% "
	    "-%%%%d-", file);
	lines[0] = line;
	lines[1] = "env";
	assert_int_equal(run("up", lines, 2, &test_env, 2000, NULL), 0);
	slurp(file, got, sizeof(got));
	assert_string_equal(got, "tl;x $(id)\ncobra\n192.0.2.2\n5000\n"
	    "2001:db8::1\n\n;\n$(id)\n`id`\na b\n%\n-%d-\n");
	for (i = 0; i < UTIL_ARRAY_LEN(want_env); i++)
		assert_logged(fx, want_env[i]);
	/* Nothing else: every output line of env is one of those. */
	for (i = 0; i < fx->nlines; i++)
		if (strncmp(fx->lines[i], "up[1] cobra: ", 13) == 0 &&
		    strchr(fx->lines[i], '=') != NULL)
			nenv++;
	assert_int_equal(nenv, UTIL_ARRAY_LEN(want_env));
	assert_logged(fx, "up[1] cobra: running env");
}

static void
test_run_policy(void **state)
{
	struct fixture *fx = *state;
	char touch_up[128], touch_down[128], path[128];
	const char *lines[3];

	/* Bare names come from the fixed PATH. */
	lines[0] = "true";
	lines[1] = "true";
	assert_int_equal(run("up", lines, 2, &test_env, 2000, NULL), 0);
	assert_int_equal(run("up", lines, 0, &test_env, 2000, NULL), 0);

	/* up stops at the first failure. */
	snprintf(touch_up, sizeof(touch_up), "touch %s/up-ran", fx->dir);
	lines[0] = "true";
	lines[1] = "false";
	lines[2] = touch_up;
	capture_clear(fx);
	assert_int_equal(run("up", lines, 3, &test_env, 2000, NULL), -1);
	assert_logged(fx, "up[1] cobra: exited with status 1");
	snprintf(path, sizeof(path), "%s/up-ran", fx->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_null(captured(fx, "up[2]"));

	/* down runs everything, and still reports the failure. */
	snprintf(touch_down, sizeof(touch_down), "touch %s/down-ran",
	    fx->dir);
	lines[0] = "false";
	lines[1] = "tapline-no-such-program";
	lines[2] = touch_down;
	capture_clear(fx);
	assert_int_equal(run("down", lines, 3, &test_env, 2000, NULL), -1);
	assert_logged(fx, "down[0] cobra: exited with status 1");
	assert_logged(fx, "down[1] cobra: cannot run");
	snprintf(path, sizeof(path), "%s/down-ran", fx->dir);
	assert_int_equal(access(path, F_OK), 0);

	/* A signal is a failure too, and is named. */
	lines[0] = "/bin/sh -c 'kill -TERM $$'";
	capture_clear(fx);
	assert_int_equal(run("up", lines, 1, &test_env, 2000, NULL), -1);
	assert_logged(fx, "up[0] cobra: killed by signal 15 (Terminated)");
}

static void
test_run_cannot_start(void **state)
{
	struct fixture *fx = *state;
	char noexec[128], noshebang[128];
	const char *lines[1];
	FILE *f;

	lines[0] = "tapline-no-such-program %d";
	assert_int_equal(run("up", lines, 1, &test_env, 2000, NULL), -1);
	assert_logged(fx, "up[0] cobra: cannot run tapline-no-such-program: "
	    "not found in " SCRIPT_PATH);

	lines[0] = "/nonexistent/prog";
	capture_clear(fx);
	assert_int_equal(run("up", lines, 1, &test_env, 2000, NULL), -1);
	assert_logged(fx, "up[0] cobra: cannot run /nonexistent/prog: No such "
	    "file or directory");

	snprintf(noexec, sizeof(noexec), "%s/noexec", fx->dir);
	f = fopen(noexec, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	lines[0] = noexec;
	capture_clear(fx);
	assert_int_equal(run("up", lines, 1, &test_env, 2000, NULL), -1);
	assert_logged(fx, "noexec: Permission denied");

	snprintf(noshebang, sizeof(noshebang), "%s/noshebang", fx->dir);
	f = fopen(noshebang, "w");
	assert_non_null(f);
	fputs("exit 0\n", f);
	fclose(f);
	assert_int_equal(chmod(noshebang, 0755), 0);
	lines[0] = noshebang;
	capture_clear(fx);
	assert_int_equal(run("up", lines, 1, &test_env, 2000, NULL), -1);
	assert_logged(fx, "noshebang: Exec format error (a script needs a #! "
	    "line)");
}

/* Is `pid` gone (or a zombie waiting for someone else to reap it)? */
static bool
process_gone(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool gone;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	gone = fgets(buf, sizeof(buf), f) == NULL ||
	    ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z');
	fclose(f);
	return gone;
}

static long
read_pid(const char *path)
{
	char buf[64];

	slurp(path, buf, sizeof(buf));
	return strtol(buf, NULL, 10);
}

static void
test_run_timeout(void **state)
{
	struct fixture *fx = *state;
	char line[256], pidfile[128];
	const char *lines[2];
	uint64_t took, t0;
	long bg;

	lines[0] = "sleep 30";
	lines[1] = "true";
	assert_int_equal(run("up", lines, 2, &test_env, 300, &took), -1);
	assert_true(took >= 300);
	assert_true(took < 2000);
	assert_logged(fx, "up[0] cobra: timed out after 0.3 s");
	assert_null(captured(fx, "up[1]"));

	/* The whole process group goes, not only the command itself. */
	snprintf(pidfile, sizeof(pidfile), "%s/bgpid", fx->dir);
	snprintf(line, sizeof(line), "/bin/sh -c 'sleep 30 & echo $! > %s; "
	    "wait'", pidfile);
	lines[0] = line;
	capture_clear(fx);
	assert_int_equal(run("down", lines, 1, &test_env, 300, &took), -1);
	assert_true(took < 2000);
	bg = read_pid(pidfile);
	assert_true(bg > 1);
	t0 = now_ms();
	while (!process_gone(bg) && now_ms() - t0 < 2000)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	assert_true(process_gone(bg));
}

static void
on_tick(evutil_socket_t fd, short events, void *arg)
{
	event_base_loopexit(arg, NULL);
}

static void
test_run_cancel(void **state)
{
	struct fixture *fx = *state;
	struct outcome o = { .calls = 0 };
	struct timeval tick = { 0, 20000 };
	char line[512], pidfile[128];
	struct script_argv *cmds;
	const char *lines[1];
	struct script_run *r;
	struct event *ev;
	uint64_t t0;
	long pid;

	snprintf(pidfile, sizeof(pidfile), "%s/pid", fx->dir);
	snprintf(line, sizeof(line), "/bin/sh -c 'echo $$ > %s.tmp && mv "
	    "%s.tmp %s && exec sleep 30'", pidfile, pidfile, pidfile);
	lines[0] = line;
	cmds = split_all(lines, 1);
	o.base = event_base_new();
	assert_non_null(o.base);
	ev = evtimer_new(o.base, on_tick, o.base);
	assert_non_null(ev);

	/* Cancelled before the loop ever ran: nothing starts. */
	r = script_run_start(o.base, "up", cmds, 1, &test_env, 5000, on_done,
	    &o);
	assert_non_null(r);
	script_run_cancel(r);
	evtimer_add(ev, &tick);
	event_base_dispatch(o.base);
	assert_int_equal(o.calls, 0);
	assert_int_equal(access(pidfile, F_OK), -1);

	/* Cancelled while the command runs: killed and reaped. */
	r = script_run_start(o.base, "up", cmds, 1, &test_env, 5000, on_done,
	    &o);
	assert_non_null(r);
	t0 = now_ms();
	while (access(pidfile, F_OK) != 0 && now_ms() - t0 < 2000) {
		evtimer_add(ev, &tick);
		event_base_dispatch(o.base);
	}
	pid = read_pid(pidfile);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	t0 = now_ms();
	script_run_cancel(r);
	assert_true(now_ms() - t0 < 1000);
	/* Reaped by us, so the PID no longer exists at all. */
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	evtimer_add(ev, &tick);
	event_base_dispatch(o.base);
	assert_int_equal(o.calls, 0);

	script_run_cancel(NULL);
	event_free(ev);
	event_base_free(o.base);
	free_all(cmds, 1);
}

static void
test_run_output(void **state)
{
	struct fixture *fx = *state;
	char want[300];
	const char *lines[2];

	lines[0] = "/bin/sh -c 'printf \"one\\ntwo\\033x\\n\"; echo err >&2; "
	    "printf \"%%0300d\\n\" 0; printf tail'";
	lines[1] = "seq 1 100";
	assert_int_equal(run("up", lines, 2, &test_env, 2000, NULL), 0);
	assert_logged(fx, "up[0] cobra: one");
	/* Escaped, so that output cannot forge or garble log lines. */
	assert_logged(fx, "up[0] cobra: two\\x1bx");
	assert_logged(fx, "up[0] cobra: err");
	assert_logged(fx, "up[0] cobra: tail");
	/* A long line is cut at 200 bytes. */
	memset(want, '0', 200);
	strcpy(want + 200, "...");
	assert_logged(fx, want);
	/*
	 * A chatty command is rate-limited: 40 output lines per run pass
	 * (5 came from the first command), the rest are counted.
	 */
	assert_logged(fx, "up[1] cobra: 1");
	assert_logged(fx, "up[1] cobra: 35");
	assert_null(captured(fx, "up[1] cobra: 36"));
	assert_logged(fx, "up[1] cobra: 65 more lines of output not logged");
}

/*
 * What a command inherits: stdin from /dev/null, stdio and nothing else,
 * its own process group, default signal handling and an empty mask.
 */
static void
test_run_child_context(void **state)
{
	struct fixture *fx = *state;
	const char *lines[4], *l;
	sigset_t block, old;
	long pid, pgrp;
	char leak[32];
	int fd;

	/* A descriptor someone forgot to mark close-on-exec. */
	fd = fcntl(STDERR_FILENO, F_DUPFD, 100);
	assert_true(fd >= 100);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);

	lines[0] = "readlink /proc/self/fd/0";
	lines[1] = "ls /proc/self/fd";
	lines[2] = "/bin/sh -c 'read -r pid comm state ppid pgrp rest "
	    "< /proc/self/stat; echo \"pgrp $pid $pgrp\"'";
	lines[3] = "grep -E '^Sig(Ign|Blk)' /proc/self/status";
	assert_int_equal(run("up", lines, 4, &test_env, 2000, NULL), 0);

	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(fd);

	assert_logged(fx, "up[0] cobra: /dev/null");
	assert_logged(fx, "up[1] cobra: 0");
	assert_logged(fx, "up[1] cobra: 2");
	snprintf(leak, sizeof(leak), "up[1] cobra: %d", fd);
	assert_null(captured(fx, leak));
	/* ls's own directory is 3; nothing above it. */
	assert_null(captured(fx, "up[1] cobra: 4"));
	l = captured(fx, "up[2] cobra: pgrp ");
	assert_non_null(l);
	assert_int_equal(sscanf(l, "up[2] cobra: pgrp %ld %ld", &pid, &pgrp),
	    2);
	assert_int_equal(pid, pgrp);
	assert_true(pgrp != (long)getpgrp());
	assert_logged(fx, "up[3] cobra: SigBlk:\\x090000000000000000");
	/*
	 * Signals 1..31 are at their defaults.  glibc's posix_spawn leaves
	 * its own internal signals 32 and 33 ignored; they are reserved
	 * for the C library, which resets them itself.
	 */
	l = captured(fx, "up[3] cobra: SigIgn:\\x09");
	assert_non_null(l);
	assert_int_equal(strtoull(l + strlen("up[3] cobra: SigIgn:\\x09"),
	    NULL, 16) & 0x7fffffffULL, 0);
}

static void
test_run_wait(void **state)
{
	struct fixture *fx = *state;
	struct script_argv *cmds;
	const char *lines[2] = { "false", "echo still" };

	cmds = split_all(lines, 2);
	assert_int_equal(script_run_wait("down", cmds, 2, &test_env, 1000),
	    -1);
	assert_logged(fx, "down[1] cobra: still");
	assert_int_equal(script_run_wait("down", cmds + 1, 1, NULL, 1000), 0);
	assert_int_equal(script_run_wait("up", cmds, 0, NULL, 1000), 0);
	free_all(cmds, 2);
}

/* Last: every run above closed what it opened. */
static void
test_run_no_fd_leak(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(count_fds(), fx->nfds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_split_limits),
		cmocka_unit_test(test_subst_table),
		cmocka_unit_test_setup(test_run_literal, test_setup),
		cmocka_unit_test_setup(test_run_policy, test_setup),
		cmocka_unit_test_setup(test_run_cannot_start, test_setup),
		cmocka_unit_test_setup(test_run_timeout, test_setup),
		cmocka_unit_test_setup(test_run_cancel, test_setup),
		cmocka_unit_test_setup(test_run_output, test_setup),
		cmocka_unit_test_setup(test_run_child_context, test_setup),
		cmocka_unit_test_setup(test_run_wait, test_setup),
		cmocka_unit_test(test_run_no_fd_leak),
	};

	return cmocka_run_group_tests_name("script", tests, group_setup,
	    group_teardown);
}
