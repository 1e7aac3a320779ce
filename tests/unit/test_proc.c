/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc.c: the signals a daemon answers, with a real event loop and
 * raise(): SIGHUP reloads between RELOADING=1 and READY=1 (sent by
 * proc_reloaded when the reload goes on off the loop), SIGTERM and
 * SIGINT stop once, a stopping process reloads nothing, the grace ends
 * the loop.  The configurations a reload replaces stay allocated
 * (sessions may still point into them) and are all freed at the end,
 * the caller's own never.  The watchdog pings, the status socket and
 * SIGUSR1 reach the role's collect(), and the drop of root takes
 * options.user (only the cases that need no root: "" and an unknown
 * user).  Config files and the sockets go to a mkdtemp directory per
 * test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "control.h"
#include "preauth.h"
#include "proc.h"
#include "worker.h"

struct fixture {
	char dir[64];
	char conf[96];	/* dir/t.conf */
	char notify[96];	/* dir/notify: the service manager's socket */
	char ctl[96];		/* dir/ctl.sock: the status socket */
	int notify_fd;
	/* What the role was told, through its proc_ops. */
	struct proc *p;
	int reloads;
	int stops;
	int last_sig;
	int expired;
	int collects;
	bool reloading_first;	/* RELOADING=1 came before reload() */
	bool reload_goes_on;	/* reload() returns this */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapline-proc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/t.conf", f->dir);
	snprintf(f->notify, sizeof(f->notify), "%s/notify", f->dir);
	snprintf(f->ctl, sizeof(f->ctl), "%s/ctl.sock", f->dir);
	f->notify_fd = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->notify_fd != -1) {
		close(f->notify_fd);
		unlink(f->notify);
		unsetenv("NOTIFY_SOCKET");
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unlink(f->ctl);
	unlink(f->conf);
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * A one-session file whose port tells the versions apart, with
 * options.user set to user.
 */
static void
write_conf_user(const struct fixture *f, int port, const char *user)
{
	char text[256];
	int fd, n;

	n = snprintf(text, sizeof(text), "options = { port = %d; user = "
	    "\"%s\"; };\n"
	    "cobra = { passwd = \"correct horse battery staple\"; };\n", port,
	    user);
	unlink(f->conf);
	fd = open(f->conf, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, (size_t)n), n);
	close(fd);
}

static void
write_conf(const struct fixture *f, int port)
{
	write_conf_user(f, port, "");
}

static struct conf *
load_conf(const struct fixture *f, int port)
{
	struct conf_diag d;
	struct conf *c;

	write_conf(f, port);
	c = conf_load(f->conf, &d);
	conf_diag_free(&d);
	assert_non_null(c);
	assert_int_equal(c->options.port, port);
	return c;
}

/* Be the service manager: $NOTIFY_SOCKET names a socket of ours. */
static void
notify_listen(struct fixture *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_true(strlen(f->notify) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, f->notify);
	f->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->notify_fd >= 0);
	assert_int_equal(bind(f->notify_fd, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->notify, 1), 0);
}

/* The next message to the manager ("" if none), into buf. */
static const char *
notify_next(struct fixture *f, char *buf, size_t len)
{
	ssize_t n = recv(f->notify_fd, buf, len - 1, 0);

	if (n == -1) {
		assert_int_equal(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static bool
ops_reload(void *arg)
{
	struct fixture *f = arg;
	char buf[256];

	f->reloads++;
	f->reloading_first = strncmp(notify_next(f, buf, sizeof(buf)),
	    "RELOADING=1\n", 12) == 0;
	return f->reload_goes_on;
}

/* As a role does: say why, then proc_stop(). */
static void
ops_stop(void *arg, int sig)
{
	struct fixture *f = arg;

	f->stops++;
	f->last_sig = sig;
	proc_stop(f->p);
}

static void
ops_expired(void *arg)
{
	struct fixture *f = arg;

	f->expired++;
}

/* One entry, so that a report is never empty. */
static void
ops_collect(struct control_report *r, void *arg)
{
	struct fixture *f = arg;
	struct control_session *e;

	f->collects++;
	if ((e = control_report_add(r)) != NULL) {
		e->name = "cobra";
		e->state = CONTROL_WAITING;
	}
}

static const struct proc_ops test_ops = {
	.reload = ops_reload,
	.stop = ops_stop,
	.expired = ops_expired,
	.collect = ops_collect,
};

/*
 * Deliver sig to ourselves and run the loop until its callback has run
 * (*counter moved) or a bounded number of rounds has passed.
 */
static void
deliver(struct proc *p, int sig, const int *counter)
{
	int before = *counter, i;

	assert_int_equal(raise(sig), 0);
	for (i = 0; i < 100 && *counter == before; i++)
		assert_true(event_base_loop(p->base, EVLOOP_ONCE |
		    EVLOOP_NONBLOCK) >= 0);
}

/*
 * SIGHUP reloads, bracketed by RELOADING=1 and READY=1 once the role
 * said it is ready (before that, silently); SIGTERM stops
 * (STOPPING=1, the grace armed); then SIGHUP and SIGINT change nothing;
 * when the grace runs out the role is told and the loop ends.
 */
static void
test_signals(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000);
	struct proc p;
	char buf[256];

	notify_listen(f);
	f->p = &p;
	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	assert_int_equal(proc_signals(&p), 0);
	assert_false(p.stopping);

	/* Not ready yet: a reload tells the manager nothing. */
	deliver(&p, SIGHUP, &f->reloads);
	assert_int_equal(f->reloads, 1);
	assert_false(f->reloading_first);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "");

	/* READY=1 once, however often the role says so. */
	proc_ready(&p);
	proc_ready(&p);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "READY=1");
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "");

	deliver(&p, SIGHUP, &f->reloads);
	assert_int_equal(f->reloads, 2);
	assert_true(f->reloading_first);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "READY=1");
	assert_int_equal(f->stops, 0);

	/* A reload that goes on off the loop: READY=1 once it is over. */
	f->reload_goes_on = true;
	deliver(&p, SIGHUP, &f->reloads);
	assert_int_equal(f->reloads, 3);
	assert_true(f->reloading_first);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "");
	proc_reloaded(&p);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "READY=1");
	f->reload_goes_on = false;

	deliver(&p, SIGTERM, &f->stops);
	assert_int_equal(f->stops, 1);
	assert_int_equal(f->last_sig, SIGTERM);
	assert_true(p.stopping);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "STOPPING=1");
	assert_true(event_pending(p.stop_deadline, EV_TIMEOUT, NULL));

	deliver(&p, SIGHUP, &f->reloads);
	deliver(&p, SIGINT, &f->stops);
	deliver(&p, SIGTERM, &f->stops);
	assert_int_equal(f->reloads, 3);
	assert_int_equal(f->stops, 1);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "");

	/* The grace, without waiting for it. */
	event_active(p.stop_deadline, EV_TIMEOUT, 1);
	assert_int_equal(proc_dispatch(&p), 0);
	assert_int_equal(f->expired, 1);
	proc_free(&p);
	conf_free(first);
}

/* SIGINT stops as SIGTERM does, and the role learns which it was. */
static void
test_sigint(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000);
	struct proc p;

	f->p = &p;
	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	assert_int_equal(proc_signals(&p), 0);
	deliver(&p, SIGINT, &f->stops);
	assert_int_equal(f->stops, 1);
	assert_int_equal(f->last_sig, SIGINT);
	assert_true(p.stopping);
	assert_int_equal(f->reloads, 0);
	proc_free(&p);
	conf_free(first);
}

/*
 * With WatchdogSec (WATCHDOG_USEC, for this pid) the manager gets a
 * WATCHDOG=1 at once and a timer runs in the loop; without, nothing.
 */
static void
test_watchdog(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000);
	struct proc p;
	char buf[256], pid[32];

	notify_listen(f);
	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	proc_watchdog(&p);
	assert_null(p.watchdog);
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "20000000", 1), 0);
	proc_watchdog(&p);
	assert_non_null(p.watchdog);
	assert_true(event_pending(p.watchdog, EV_TIMEOUT, NULL));
	assert_string_equal(notify_next(f, buf, sizeof(buf)), "WATCHDOG=1");
	proc_free(&p);
	conf_free(first);
}

/*
 * The status socket appears at the path given, SIGUSR1 asks collect()
 * for a report, and proc_free() removes the socket.
 */
static void
test_control(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000);
	struct proc p;
	struct stat st;

	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	proc_control(&p, f->ctl);
	assert_non_null(p.ctl);
	assert_int_equal(lstat(f->ctl, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	deliver(&p, SIGUSR1, &f->collects);
	assert_int_equal(f->collects, 1);
	proc_free(&p);
	assert_int_equal(lstat(f->ctl, &st), -1);
	assert_int_equal(errno, ENOENT);
	conf_free(first);
}

/*
 * options.user "" stays as we are, and so does the user we already
 * are; a user that does not exist is an error (logged) rather than
 * running as root unannounced.
 */
static void
test_drop(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000), *unknown, *same;
	struct conf_diag d;
	struct passwd *pw;
	struct proc p;
	uid_t uid = getuid();

	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	assert_int_equal(proc_drop(&p), 0);
	assert_int_equal(getuid(), uid);
	proc_free(&p);
	conf_free(first);

	/*
	 * Already that user (systemd's User= and options.user alike):
	 * nothing to drop, and success even without the right to.
	 */
	/* cppcheck-suppress getpwuidCalled */
	pw = getpwuid(uid);
	assert_non_null(pw);
	write_conf_user(f, 5000, pw->pw_name);
	same = conf_load(f->conf, &d);
	conf_diag_free(&d);
	assert_non_null(same);
	assert_int_equal(proc_init(&p, same, &test_ops, f), 0);
	assert_int_equal(proc_drop(&p), 0);
	assert_int_equal(getuid(), uid);
	assert_int_equal(geteuid(), uid);
	proc_free(&p);
	conf_free(same);

	write_conf_user(f, 5000, "tapline-test-no-such-user");
	unknown = conf_load(f->conf, &d);
	conf_diag_free(&d);
	assert_non_null(unknown);
	assert_int_equal(proc_init(&p, unknown, &test_ops, f), 0);
	assert_int_equal(proc_drop(&p), -1);
	assert_int_equal(getuid(), uid);
	proc_free(&p);
	conf_free(unknown);
}

/*
 * The open-files limit: a session needs its queues and one stream, the
 * pre-authentication cap and a reserve come on top; the soft limit is
 * raised to the hard one, and a lower hard limit only warns.
 */
static void
test_nofile(void **state)
{
	struct fixture *f = *state;
	struct conf *c = load_conf(f, 5000);
	struct rlimit before, rl;
	size_t need;

	need = proc_nofile_need(c);
	assert_int_equal(need, (size_t)PREAUTH_MAX + PROC_NOFILE_RESERVE +
	    (size_t)c->sessions[0].queues + 1);
	assert_int_equal(proc_nofile_sessions(c), need - PREAUTH_MAX);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &before), 0);
	rl = before;
	if (rl.rlim_max > 512 || rl.rlim_max == RLIM_INFINITY)
		rl.rlim_max = 512;
	rl.rlim_cur = rl.rlim_max > 256 ? 256 : rl.rlim_max;
	/* Lowering works unprivileged; raising back needs root. */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(proc_nofile_raise(need), (unsigned long)rl.rlim_max);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(rl.rlim_cur, rl.rlim_max);
	/* More than the hard limit: a warning, the limit as it is. */
	assert_int_equal(proc_nofile_raise((size_t)rl.rlim_max + 1),
	    (unsigned long)rl.rlim_max);
	if (geteuid() == 0)
		(void)setrlimit(RLIMIT_NOFILE, &before);
	conf_free(c);
}

/*
 * Three reloads: the running configuration is always the newest, every
 * one it replaced is still readable, the caller's is never kept (it is
 * the caller's to free).  Under ASan, nothing leaks.
 */
static void
test_conf_keeping(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000), *nc;
	struct proc p;
	int i;

	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	assert_ptr_equal(p.conf, first);
	assert_int_equal(p.nold_confs, 0);
	for (i = 1; i <= 3; i++) {
		nc = load_conf(f, 5000 + i);
		assert_int_equal(proc_conf_reserve(&p), 0);
		proc_conf_replace(&p, nc);
		assert_ptr_equal(p.conf, nc);
		assert_int_equal(p.nold_confs, (size_t)(i - 1));
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(p.old_confs[i]->options.port, 5001 + i);
	assert_int_equal(first->options.port, 5000);
	proc_free(&p);
	assert_ptr_equal(p.conf, first);
	assert_int_equal(p.nold_confs, 0);
	conf_free(first);
}

/*
 * A reload that fails after its reserve (a bad session, say) replaces
 * nothing; the next one still keeps exactly one configuration.
 */
static void
test_conf_reserve_unused(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000), *nc;
	struct proc p;

	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	nc = load_conf(f, 5001);
	assert_int_equal(proc_conf_reserve(&p), 0);
	proc_conf_replace(&p, nc);
	assert_int_equal(proc_conf_reserve(&p), 0);
	assert_int_equal(proc_conf_reserve(&p), 0);
	assert_ptr_equal(p.conf, nc);
	assert_int_equal(p.nold_confs, 0);
	nc = load_conf(f, 5002);
	proc_conf_replace(&p, nc);
	assert_int_equal(p.nold_confs, 1);
	assert_int_equal(p.old_confs[0]->options.port, 5001);
	proc_free(&p);
	conf_free(first);
}

/*
 * worker_pool_new, wrapped at link time: the call numbered pool_fail
 * (from 1; 0 never) fails as it would without threads or memory.
 */
static int pool_calls, pool_fail;

struct worker_pool *__real_worker_pool_new(struct event_base *base,
    int nthreads, size_t max_jobs, char *err, size_t errlen);
struct worker_pool *__wrap_worker_pool_new(struct event_base *base,
    int nthreads, size_t max_jobs, char *err, size_t errlen);

struct worker_pool *
__wrap_worker_pool_new(struct event_base *base, int nthreads,
    size_t max_jobs, char *err, size_t errlen)
{
	if (++pool_calls == pool_fail) {
		snprintf(err, errlen, "cannot start a worker thread");
		return NULL;
	}
	return __real_worker_pool_new(base, nthreads, max_jobs, err, errlen);
}

/*
 * A proc_init that fails part way leaves nothing made: the loop, the
 * scratch buffers and the first pool are freed (the sanitizer build's
 * leak check sees the memory itself), and the caller's configuration
 * is untouched.
 */
static void
test_init_fails(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000);
	struct proc p;

	for (pool_fail = 1; pool_fail <= 2; pool_fail++) {
		pool_calls = 0;
		assert_int_equal(proc_init(&p, first, &test_ops, f), -1);
		assert_int_equal(pool_calls, pool_fail);
		assert_null(p.base);
		assert_null(p.scratch);
		assert_null(p.pool);
		assert_null(p.kdf_pool);
		assert_ptr_equal(p.conf, first);
	}
	pool_fail = 0;
	assert_int_equal(proc_init(&p, first, &test_ops, f), 0);
	assert_non_null(p.kdf_pool);
	proc_free(&p);
	conf_free(first);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nofile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_keeping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conf_reserve_unused,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
