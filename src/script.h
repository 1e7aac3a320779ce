/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * up/down commands.  The config loader splits each command line into argv
 * once (no shell: quotes and backslashes only); substitutions (%d %h %a %p
 * %A %P %%) are applied per argument when the command runs.  Commands run
 * asynchronously on the daemon's event loop, one after the other, each
 * with execve() in its own process group and with a deadline.
 */
#ifndef TAPLINE_SCRIPT_H
#define TAPLINE_SCRIPT_H

#include <stddef.h>

struct script_argv {
	int argc;
	char **argv; /* argc entries plus a NULL */
	/*
	 * What the command reads on stdin (at most SCRIPT_INPUT_MAX bytes,
	 * not substituted), or NULL for /dev/null.  The loader never sets
	 * it; tapline's own commands (resolvconf) do.
	 */
	char *input;
};

#define SCRIPT_INPUT_MAX 16384

/*
 * Split `line` into words: whitespace separates, '...' is literal, "..."
 * allows \" and \\, a backslash outside quotes escapes the next byte.
 * Checks every %-sequence (only %d %h %a %p %A %P %% are allowed).
 * Returns 0, or -1 with a sentence in err (unbalanced quote, empty command,
 * unknown substitution "%x").
 */
int script_split(const char *line, struct script_argv *out, char *err,
    size_t errlen);
void script_argv_free(struct script_argv *a);

struct event_base;

/*
 * Is there a program called name (no '/') in SCRIPT_PATH?  0 with its
 * path in path, or -1 (ENOENT, ENAMETOOLONG).
 */
int script_find(const char *name, char *path, size_t len);

/*
 * Where a program named without a '/' is looked for, and the PATH that
 * every command gets; the daemon's own PATH is never used.
 */
#define SCRIPT_PATH \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * The time limit of one command that tapline.conf(5) documents; pass it
 * as script_run_start's timeout_ms (or change both).
 */
#define SCRIPT_TIMEOUT_MS 30000

/*
 * The values behind %d %h %a %p %A %P, also passed as TAPLINE_DEVICE,
 * TAPLINE_SESSION, TAPLINE_REMOTE_ADDR, TAPLINE_REMOTE_PORT,
 * TAPLINE_LOCAL_ADDR and TAPLINE_LOCAL_PORT.  NULL means unknown and
 * becomes the empty string.  Ports are decimal strings.
 */
struct script_env {
	const char *device;
	const char *session;
	const char *raddr;
	const char *rport;
	const char *laddr;
	const char *lport;
};

/*
 * One argument with its %-sequences replaced (%% gives %).  A value never
 * leaves its argument: it is copied byte for byte, whatever it contains.
 * Returns a string to free, or NULL when out of memory.
 */
char *script_subst(const char *word, const struct script_env *env);

/*
 * Called once when a run ends: result 0 if every command exited with
 * status 0, -1 if one failed, timed out or could not be started.  It is
 * always called from the event loop, never from script_run_start, and the
 * run is already freed when it is called.
 */
typedef void (*script_done_fn)(int result, void *arg);

struct script_run;

/*
 * Run `cmds` one after the other on `base`.  Every command gets its
 * arguments substituted from `env`, stdin from /dev/null, stdout and
 * stderr into the log at info level ("up[0] cobra: ..."), an environment
 * of exactly PATH=SCRIPT_PATH and the TAPLINE_* variables, no other file
 * descriptors, default signal dispositions and a process group of its
 * own.  A command still running after `timeout_ms` (0 = no limit) has
 * its whole process group killed with SIGKILL and counts as failed.
 *
 * `what` names the list in logs ("up", "down") and sets the policy on
 * failure: "down" runs every command regardless, because cleanup should
 * be attempted in full; any other list stops at the first failure.
 *
 * `cmds` and `env` are copied, so the caller may free them (a reloaded
 * config) while the run goes on.  Returns NULL only when out of memory,
 * and then `done` is never called.  Commands are reaped by PID, so the
 * process must not reap children it does not know (waitpid(-1, ...)) nor
 * set SIGCHLD to SIG_IGN, which makes the kernel reap them.
 */
struct script_run *script_run_start(struct event_base *base,
    const char *what, const struct script_argv *cmds, size_t ncmds,
    const struct script_env *env, int timeout_ms, script_done_fn done,
    void *arg);

/*
 * Stop a run that has not finished: the running command's process group
 * is killed and reaped (waiting at most about a second), everything is
 * freed and `done` is not called.  NULL is ignored.
 */
void script_run_cancel(struct script_run *r);

/*
 * The same run, synchronously, on a private event base: for shutdown
 * paths where the main loop no longer runs.  Returns the result.
 */
int script_run_wait(const char *what, const struct script_argv *cmds,
    size_t ncmds, const struct script_env *env, int timeout_ms);

#endif
