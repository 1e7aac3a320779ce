/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running up/down commands; their lines were split into argv at load,
 * and each argument is substituted when it runs (script-line.c).  A run
 * owns copies of everything it needs (argv after substitution, the
 * environment) because a config reload may free the session's settings
 * while a down command still runs.  Each command is started with
 * posix_spawn(), which is fork+execve done safely for a big or threaded
 * process and which reports an execve() failure to us directly; its exit
 * is watched through a pidfd on the event loop, so no SIGCHLD handler is
 * needed and no other child is ever reaped by mistake.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "script.h"
#include "util.h"

/* At most this many bytes of one output line reach the log. */
#define SCRIPT_OUT_LINE_MAX 200
/* Output read per wakeup, so that a chatty command cannot hog the loop. */
#define SCRIPT_OUT_READ 4096
/* Reads after the command exited, to collect what it wrote last. */
#define SCRIPT_OUT_DRAIN_READS 16
/* Output lines logged per interval; the rest are counted. */
#define SCRIPT_LOG_BURST 40
#define SCRIPT_LOG_INTERVAL_MS 5000
/* How long script_run_cancel waits for a killed command to die. */
#define SCRIPT_REAP_WAIT_MS 1000
#define SCRIPT_WHAT_MAX 16
/* A session name, escaped for the log. */
#define SCRIPT_QNAME_MAX 128
/* A command line as shown in the log. */
#define SCRIPT_DESCRIBE_MAX 512

struct script_run {
	struct event_base *base;
	char what[SCRIPT_WHAT_MAX];
	char session[SCRIPT_QNAME_MAX];
	bool keep_going;	/* run the rest after a failure ("down") */
	int timeout_ms;
	char **envp;		/* NULL-terminated */
	char ***argvs;		/* ncmds substituted argv vectors */
	char **inputs;		/* ncmds stdin texts, NULL: /dev/null */
	size_t ncmds;
	size_t cur;		/* the command running or about to run */
	int result;
	script_done_fn done;
	void *arg;
	struct event *ev_step;	/* starts the next command from the loop */
	struct event *ev_timer;	/* the running command's deadline */
	struct log_ratelimit rl;

	/* The running command, while pid > 0. */
	pid_t pid;
	int pidfd;
	int outfd;
	struct event *ev_exit;
	struct event *ev_out;
	bool timed_out;
	char line[SCRIPT_OUT_LINE_MAX];
	size_t linelen;
	bool overlong;	/* the current line was cut; skip to its end */
};

/* "NAME=value" in a new string; NULL value is empty. */
static char *
script_env_var(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value != NULL ? value : "") == -1)
		return NULL;
	return s;
}

/* Free a NULL-terminated vector of strings. */
static void
script_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The whole environment of a command: PATH and the TAPLINE_* values. */
static char **
script_envp_new(const struct script_env *env)
{
	const struct {
		const char *name, *value;
	} vars[] = {
		{ "PATH", SCRIPT_PATH },
		{ "TAPLINE_DEVICE", env->device },
		{ "TAPLINE_SESSION", env->session },
		{ "TAPLINE_REMOTE_ADDR", env->raddr },
		{ "TAPLINE_REMOTE_PORT", env->rport },
		{ "TAPLINE_LOCAL_ADDR", env->laddr },
		{ "TAPLINE_LOCAL_PORT", env->lport },
	};
	char **envp;
	size_t i;

	envp = calloc(UTIL_ARRAY_LEN(vars) + 1, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (i = 0; i < UTIL_ARRAY_LEN(vars); i++) {
		envp[i] = script_env_var(vars[i].name, vars[i].value);
		if (envp[i] == NULL) {
			script_strv_free(envp);
			return NULL;
		}
	}
	return envp;
}

/* A command's argv with every argument substituted. */
static char **
script_argv_subst(const struct script_argv *cmd, const struct script_env *env)
{
	char **v;
	int i;

	v = calloc((size_t)cmd->argc + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < cmd->argc; i++) {
		v[i] = script_subst(cmd->argv[i], env);
		if (v[i] == NULL) {
			script_strv_free(v);
			return NULL;
		}
	}
	return v;
}

/* The argv as one escaped line for the log, cut to fit. */
static void
script_describe(char *const *argv, char *buf, size_t len)
{
	char word[SCRIPT_DESCRIBE_MAX];
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; argv[i] != NULL && o + 1 < len; i++) {
		util_escape(argv[i], strlen(argv[i]), word, sizeof(word));
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    word);
	}
}

/* "0.3 s", "30 s": a timeout as people write it. */
static void
script_format_secs(int ms, char *buf, size_t len)
{
	size_t n;

	if (ms % 1000 == 0) {
		snprintf(buf, len, "%d s", ms / 1000);
		return;
	}
	snprintf(buf, len, "%d.%03d", ms / 1000, ms % 1000);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	snprintf(buf + n, len - n, " s");
}

/*
 * The program a command names: a path with a '/' as it is (relative to
 * the daemon's directory), a bare name from SCRIPT_PATH.  The search is
 * made here, not by execvp(), so that the daemon's own PATH never counts
 * and so that "not found" can be said plainly.
 */
static int
script_resolve(const char *name, char *path, size_t len)
{
	const char *dir = SCRIPT_PATH;

	if (strchr(name, '/') != NULL) {
		if (util_strlcpy(path, name, len) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	if (name[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	while (*dir != '\0') {
		size_t dlen = strcspn(dir, ":");
		struct stat st;
		int n;

		n = snprintf(path, len, "%.*s/%s", (int)dlen, dir, name);
		if (n > 0 && (size_t)n < len && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0)
			return 0;
		dir += dlen;
		if (*dir == ':')
			dir++;
	}
	errno = ENOENT;
	return -1;
}

int
script_find(const char *name, char *path, size_t len)
{
	if (strchr(name, '/') != NULL) {
		errno = ENOENT;
		return -1;
	}
	return script_resolve(name, path, len);
}

/*
 * A pipe already holding text, its write end closed: the command reads
 * the text, then end of file.  The text is smaller than a pipe's buffer
 * (SCRIPT_INPUT_MAX), so the write never blocks.  The read end, or -1.
 */
static int
script_input_pipe(const char *text)
{
	size_t len = strlen(text);
	int p[2];

	if (len > SCRIPT_INPUT_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	if (write(p[1], text, len) != (ssize_t)len) {
		int e = errno != 0 ? errno : EIO;

		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	close(p[1]);
	/* The command's end blocks as usual. */
	if (fcntl(p[0], F_SETFL, 0) == -1) {
		int e = errno;

		close(p[0]);
		errno = e;
		return -1;
	}
	return p[0];
}

/* Log one line of a command's output, escaped and rate-limited. */
static void
script_out_flush(struct script_run *r)
{
	char esc[4 * SCRIPT_OUT_LINE_MAX + 4];

	util_escape(r->line, r->linelen, esc, sizeof(esc));
	log_rl(&r->rl, LOG_INFO, "%s[%zu] %s: %s%s", r->what, r->cur,
	    r->session, esc, r->overlong ? "..." : "");
	r->linelen = 0;
	r->overlong = false;
}

/* Split output bytes into lines; a line too long is cut, not split. */
static void
script_out_bytes(struct script_run *r, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			script_out_flush(r);
			continue;
		}
		if (r->linelen == sizeof(r->line)) {
			r->overlong = true;
			continue;
		}
		r->line[r->linelen++] = buf[i];
	}
}

/*
 * Read what the command wrote, at most SCRIPT_OUT_READ bytes.  Returns
 * 1 if there may be more, 0 at end of file or on an error.
 */
static int
script_out_read(struct script_run *r)
{
	char buf[SCRIPT_OUT_READ];
	ssize_t n;

	n = read(r->outfd, buf, sizeof(buf));
	if (n > 0) {
		script_out_bytes(r, buf, (size_t)n);
		return 1;
	}
	if (n == -1 && errno == EINTR)
		return 1;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == -1)
		log_warnx("%s[%zu] %s: cannot read output: %s", r->what,
		    r->cur, r->session, strerror(errno));
	/* End of file (or a broken pipe): nothing more will come. */
	event_del(r->ev_out);
	return 0;
}

/* The command's output pipe is readable. */
static void
script_out_cb(evutil_socket_t fd, short events, void *arg)
{
	script_out_read(arg);
}

/* Release what belongs to the running command (not the process). */
static void
script_cmd_clear(struct script_run *r)
{
	if (r->ev_exit != NULL)
		event_free(r->ev_exit);
	if (r->ev_out != NULL)
		event_free(r->ev_out);
	r->ev_exit = r->ev_out = NULL;
	if (r->ev_timer != NULL)
		evtimer_del(r->ev_timer);
	if (r->pidfd != -1)
		close(r->pidfd);
	if (r->outfd != -1)
		close(r->outfd);
	r->pidfd = r->outfd = -1;
	r->pid = 0;
	r->timed_out = false;
	r->linelen = 0;
	r->overlong = false;
}

/* Free the run and everything it owns; the process must be gone. */
static void
script_run_free(struct script_run *r)
{
	size_t i;

	script_cmd_clear(r);
	if (r->ev_step != NULL)
		event_free(r->ev_step);
	if (r->ev_timer != NULL)
		event_free(r->ev_timer);
	if (r->argvs != NULL)
		for (i = 0; i < r->ncmds; i++)
			script_strv_free(r->argvs[i]);
	free(r->argvs);
	if (r->inputs != NULL)
		for (i = 0; i < r->ncmds; i++)
			free(r->inputs[i]);
	free(r->inputs);
	script_strv_free(r->envp);
	free(r);
}

/* The run is over: free it, then tell the owner. */
static void
script_run_end(struct script_run *r)
{
	script_done_fn done = r->done;
	void *arg = r->arg;
	int result = r->result;

	script_run_free(r);
	done(result, arg);
}

/*
 * Kill a command that has been started but cannot be watched, and reap
 * it.  SIGKILL cannot be caught, so the wait is short.
 */
static void
script_kill_now(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static void script_exit_cb(evutil_socket_t, short, void *);
static void script_timeout_cb(evutil_socket_t, short, void *);

/*
 * Start command r->cur.  Returns 0 when it runs (its exit will be
 * reported on the loop) or -1 after logging why it could not start.
 */
static int
script_spawn(struct script_run *r)
{
	char *const *argv = r->argvs[r->cur];
	char path[PATH_MAX], desc[SCRIPT_DESCRIBE_MAX], q[SCRIPT_DESCRIBE_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int pfd[2] = { -1, -1 }, infd = -1, e, ret = -1;
	bool fa_ok = false, attr_ok = false;
	pid_t pid = 0;

	script_describe(argv, desc, sizeof(desc));
	util_escape(argv[0], strlen(argv[0]), q, sizeof(q));
	if (script_resolve(argv[0], path, sizeof(path)) == -1) {
		if (strchr(argv[0], '/') == NULL)
			log_err("%s[%zu] %s: cannot run %s: not found in %s",
			    r->what, r->cur, r->session, q, SCRIPT_PATH);
		else
			log_err("%s[%zu] %s: cannot run %s: %s", r->what,
			    r->cur, r->session, q, strerror(errno));
		return -1;
	}
	log_info("%s[%zu] %s: running %s", r->what, r->cur, r->session, desc);
	/*
	 * Only our end of the pipe is non-blocking: the flag belongs to the
	 * open file, and a command must be able to block on a full pipe.
	 */
	if (pipe2(pfd, O_CLOEXEC) == -1 ||
	    fcntl(pfd[0], F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		log_err("%s[%zu] %s: cannot run %s: pipe: %s", r->what, r->cur,
		    r->session, q, strerror(e));
		goto out;
	}
	if (r->inputs[r->cur] != NULL &&
	    (infd = script_input_pipe(r->inputs[r->cur])) == -1) {
		e = errno;
		log_err("%s[%zu] %s: cannot run %s: its input: %s", r->what,
		    r->cur, r->session, q, strerror(e));
		goto out;
	}
	e = posix_spawn_file_actions_init(&fa);
	fa_ok = e == 0;
	/*
	 * stdout and stderr first: should the pipe have landed on fd 0, 1
	 * or 2 (a daemon with closed stdio), /dev/null must not replace it
	 * before it is copied.  Then everything above stderr is closed.
	 */
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, pfd[1],
		    STDOUT_FILENO);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, pfd[1],
		    STDERR_FILENO);
	if (e == 0 && infd != -1)
		e = posix_spawn_file_actions_adddup2(&fa, infd, STDIN_FILENO);
	else if (e == 0)
		e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa,
		    STDERR_FILENO + 1);
	if (e == 0) {
		e = posix_spawnattr_init(&attr);
		attr_ok = e == 0;
	}
	/*
	 * Signal dispositions and the mask are the daemon's business (it
	 * ignores SIGPIPE, say); a command starts with the defaults.  Its
	 * own process group lets a timeout kill whatever it started too.
	 */
	sigfillset(&all);
	sigemptyset(&none);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&attr, &all);
	if (e == 0)
		e = posix_spawnattr_setsigmask(&attr, &none);
	if (e == 0)
		e = posix_spawnattr_setpgroup(&attr, 0);
	if (e == 0)
		e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
		    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (e != 0) {
		log_err("%s[%zu] %s: cannot run %s: %s", r->what, r->cur,
		    r->session, q, strerror(e));
		goto out;
	}
	e = posix_spawn(&pid, path, &fa, &attr, argv, r->envp);
	if (e != 0) {
		pid = 0;
		log_err("%s[%zu] %s: cannot run %s: %s%s", r->what, r->cur,
		    r->session, q, strerror(e), e == ENOEXEC ?
		    " (a script needs a #! line)" : "");
		goto out;
	}
	r->pid = pid;
	r->outfd = pfd[0];
	pfd[0] = -1;
	/* pidfds are always close-on-exec. */
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (r->pidfd == -1) {
		log_err("%s[%zu] %s: cannot watch %s: pidfd_open: %s (Linux "
		    "5.3 or later is needed)", r->what, r->cur, r->session, q,
		    strerror(errno));
		goto out;
	}
	r->ev_exit = event_new(r->base, r->pidfd, EV_READ | EV_PERSIST,
	    script_exit_cb, r);
	r->ev_out = event_new(r->base, r->outfd, EV_READ | EV_PERSIST,
	    script_out_cb, r);
	if (r->ev_exit == NULL || r->ev_out == NULL ||
	    event_add(r->ev_exit, NULL) == -1 ||
	    event_add(r->ev_out, NULL) == -1) {
		log_err("%s[%zu] %s: cannot watch %s: out of memory", r->what,
		    r->cur, r->session, q);
		goto out;
	}
	if (r->timeout_ms > 0) {
		struct timeval tv = {
			.tv_sec = r->timeout_ms / 1000,
			.tv_usec = (r->timeout_ms % 1000) * 1000,
		};

		if (evtimer_add(r->ev_timer, &tv) == -1) {
			log_err("%s[%zu] %s: cannot time %s", r->what, r->cur,
			    r->session, q);
			goto out;
		}
	}
	ret = 0;
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (pfd[0] != -1)
		close(pfd[0]);
	if (pfd[1] != -1)
		close(pfd[1]);
	if (infd != -1)
		close(infd);
	if (ret == -1) {
		if (pid > 0)
			script_kill_now(pid);
		script_cmd_clear(r);
	}
	return ret;
}

/*
 * Start commands from r->cur on until one runs; a command that cannot
 * start fails the run, and ends it unless the list keeps going.
 */
static void
script_advance(struct script_run *r)
{
	while (r->cur < r->ncmds) {
		if (script_spawn(r) == 0)
			return;
		r->result = -1;
		if (!r->keep_going)
			break;
		r->cur++;
	}
	script_run_end(r);
}

/* The first command starts from the loop, so done is never synchronous. */
static void
script_step_cb(evutil_socket_t fd, short events, void *arg)
{
	script_advance(arg);
}

/*
 * The deadline passed: kill the whole process group.  The exit is then
 * reported through the pidfd as for any other end.
 */
static void
script_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct script_run *r = arg;
	char secs[32];

	script_format_secs(r->timeout_ms, secs, sizeof(secs));
	log_warnx("%s[%zu] %s: timed out after %s", r->what, r->cur,
	    r->session, secs);
	r->timed_out = true;
	/* The group exists as long as its leader is not reaped. */
	kill(-r->pid, SIGKILL);
}

/* The command has exited: collect its last output and its status. */
static void
script_exit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct script_run *r = arg;
	bool failed = true;
	pid_t got;
	int status, i;

	got = waitpid(r->pid, &status, WNOHANG);
	if (got == 0 || (got == -1 && errno == EINTR))
		return;
	/*
	 * Whatever is still in the pipe was written before the exit; a
	 * process the command left behind may keep writing, so the reads
	 * are bounded.
	 */
	for (i = 0; i < SCRIPT_OUT_DRAIN_READS; i++)
		if (script_out_read(r) == 0)
			break;
	if (r->linelen > 0 || r->overlong)
		script_out_flush(r);
	/* The limiter reports a suppressed count only with a later line. */
	if (r->rl.suppressed > 0) {
		log_info("%s[%zu] %s: %llu more lines of output not logged",
		    r->what, r->cur, r->session,
		    (unsigned long long)r->rl.suppressed);
		r->rl.suppressed = 0;
	}
	if (got == -1)
		log_err("%s[%zu] %s: cannot get the exit status: %s", r->what,
		    r->cur, r->session, strerror(errno));
	else if (r->timed_out)
		;	/* already logged */
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_debug("%s[%zu] %s: exited with status 0", r->what, r->cur,
		    r->session);
		failed = false;
	} else if (WIFEXITED(status))
		log_warnx("%s[%zu] %s: exited with status %d", r->what, r->cur,
		    r->session, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s[%zu] %s: killed by signal %d (%s)", r->what,
		    r->cur, r->session, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		log_warnx("%s[%zu] %s: ended with wait status %#x", r->what,
		    r->cur, r->session, (unsigned int)status);
	script_cmd_clear(r);
	if (failed) {
		r->result = -1;
		if (!r->keep_going) {
			script_run_end(r);
			return;
		}
	}
	r->cur++;
	script_advance(r);
}

struct script_run *
script_run_start(struct event_base *base, const char *what,
    const struct script_argv *cmds, size_t ncmds,
    const struct script_env *env, int timeout_ms, script_done_fn done,
    void *arg)
{
	static const struct script_env none;
	struct script_run *r;
	size_t i;

	if (env == NULL)
		env = &none;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto fail;
	r->base = base;
	r->pidfd = r->outfd = -1;
	util_strlcpy(r->what, what, sizeof(r->what));
	util_escape(env->session != NULL ? env->session : "",
	    env->session != NULL ? strlen(env->session) : 0, r->session,
	    sizeof(r->session));
	r->keep_going = strcmp(what, "down") == 0;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	r->done = done;
	r->arg = arg;
	r->rl.interval_ms = SCRIPT_LOG_INTERVAL_MS;
	r->rl.burst = SCRIPT_LOG_BURST;
	r->ncmds = ncmds;
	r->envp = script_envp_new(env);
	r->argvs = calloc(ncmds > 0 ? ncmds : 1, sizeof(*r->argvs));
	r->inputs = calloc(ncmds > 0 ? ncmds : 1, sizeof(*r->inputs));
	if (r->envp == NULL || r->argvs == NULL || r->inputs == NULL)
		goto fail;
	for (i = 0; i < ncmds; i++) {
		/* The loader never makes an empty command; refuse one. */
		if (cmds[i].argc < 1)
			fatalx("script_run_start: %s[%zu] is empty", what, i);
		if ((r->argvs[i] = script_argv_subst(&cmds[i], env)) == NULL)
			goto fail;
		if (cmds[i].input != NULL &&
		    (r->inputs[i] = strdup(cmds[i].input)) == NULL)
			goto fail;
	}
	r->ev_step = event_new(base, -1, 0, script_step_cb, r);
	r->ev_timer = evtimer_new(base, script_timeout_cb, r);
	if (r->ev_step == NULL || r->ev_timer == NULL)
		goto fail;
	event_active(r->ev_step, EV_TIMEOUT, 0);
	return r;
fail:
	log_err("%s %s: cannot run commands: out of memory", what,
	    r != NULL ? r->session : "");
	if (r != NULL)
		script_run_free(r);
	return NULL;
}

void
script_run_cancel(struct script_run *r)
{
	struct pollfd pfd;

	if (r == NULL)
		return;
	if (r->pid > 0) {
		kill(-r->pid, SIGKILL);
		/* Wait for the death on the pidfd, but not forever. */
		pfd.fd = r->pidfd;
		pfd.events = POLLIN;
		while (poll(&pfd, 1, SCRIPT_REAP_WAIT_MS) == -1 &&
		    errno == EINTR)
			;
		if (waitpid(r->pid, NULL, WNOHANG) == 0)
			log_warnx("%s[%zu] %s: process %ld did not die within "
			    "%d ms of SIGKILL; leaving it", r->what, r->cur,
			    r->session, (long)r->pid, SCRIPT_REAP_WAIT_MS);
	}
	script_run_free(r);
}

/* Where script_run_wait's private run reports. */
struct script_wait {
	bool finished;
	int result;
};

static void
script_wait_done(int result, void *arg)
{
	struct script_wait *w = arg;

	w->finished = true;
	w->result = result;
}

/*
 * A private base runs only this run's events, so dispatch returns once
 * the run has finished and freed them.
 */
int
script_run_wait(const char *what, const struct script_argv *cmds,
    size_t ncmds, const struct script_env *env, int timeout_ms)
{
	struct script_wait w = { .finished = false, .result = -1 };
	struct event_base *base;
	struct script_run *r;

	base = event_base_new();
	if (base == NULL) {
		log_err("%s: cannot run commands: no event base", what);
		return -1;
	}
	r = script_run_start(base, what, cmds, ncmds, env, timeout_ms,
	    script_wait_done, &w);
	if (r != NULL) {
		event_base_dispatch(base);
		if (!w.finished)
			script_run_cancel(r);
	}
	event_base_free(base);
	return w.finished ? w.result : -1;
}
